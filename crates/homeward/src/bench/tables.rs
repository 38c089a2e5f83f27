//! The generator's own name, place and transliteration tables, written for the benchmark from
//! general knowledge of Ukrainian and Russian. They are deliberately independent of the linkage
//! crate's tables: a benchmark that generated its variants from the engine's own tables would only
//! measure that the engine agrees with itself.

/// A given name: Ukrainian form, Russian form, the usual English form, and whether it is male.
pub struct Given {
    pub uk: &'static str,
    pub ru: &'static str,
    pub en: &'static str,
    pub male: bool,
}

const fn g(uk: &'static str, ru: &'static str, en: &'static str, male: bool) -> Given {
    Given { uk, ru, en, male }
}

/// Roughly in order of popularity among children born 2006–2022 (the generator draws them with a
/// Zipf-like weight, so the first are common and term-frequency adjustment matters).
pub const GIVEN: &[Given] = &[
    g("Олександр", "Александр", "Alexander", true),
    g("Максим", "Максим", "Maxim", true),
    g("Артем", "Артём", "Artem", true),
    g("Дмитро", "Дмитрий", "Dmitry", true),
    g("Андрій", "Андрей", "Andrew", true),
    g("Іван", "Иван", "Ivan", true),
    g("Назар", "Назар", "Nazar", true),
    g("Богдан", "Богдан", "Bogdan", true),
    g("Данило", "Даниил", "Daniel", true),
    g("Матвій", "Матвей", "Matthew", true),
    g("Михайло", "Михаил", "Michael", true),
    g("Владислав", "Владислав", "Vladislav", true),
    g("Денис", "Денис", "Denis", true),
    g("Кирило", "Кирилл", "Kirill", true),
    g("Ярослав", "Ярослав", "Yaroslav", true),
    g("Тимофій", "Тимофей", "Timothy", true),
    g("Олексій", "Алексей", "Alexey", true),
    g("Роман", "Роман", "Roman", true),
    g("Сергій", "Сергей", "Sergey", true),
    g("Євген", "Евгений", "Eugene", true),
    g("Микола", "Николай", "Nicholas", true),
    g("Володимир", "Владимир", "Vladimir", true),
    g("Ілля", "Илья", "Ilya", true),
    g("Марк", "Марк", "Mark", true),
    g("Захар", "Захар", "Zakhar", true),
    g("Віктор", "Виктор", "Victor", true),
    g("Павло", "Павел", "Paul", true),
    g("Юрій", "Юрий", "Yuri", true),
    g("Тарас", "Тарас", "Taras", true),
    g("Святослав", "Святослав", "Svyatoslav", true),
    g("Вадим", "Вадим", "Vadim", true),
    g("Костянтин", "Константин", "Konstantin", true),
    g("Ігор", "Игорь", "Igor", true),
    g("Петро", "Пётр", "Peter", true),
    g("Василь", "Василий", "Vasily", true),
    g("Григорій", "Григорий", "Gregory", true),
    g("Степан", "Степан", "Stepan", true),
    g("Федір", "Фёдор", "Fedor", true),
    g("Станіслав", "Станислав", "Stanislav", true),
    g("Олег", "Олег", "Oleg", true),
    g("Софія", "София", "Sofia", false),
    g("Анна", "Анна", "Anna", false),
    g("Марія", "Мария", "Maria", false),
    g("Вікторія", "Виктория", "Victoria", false),
    g("Анастасія", "Анастасия", "Anastasia", false),
    g("Дарина", "Дарья", "Daria", false),
    g("Поліна", "Полина", "Polina", false),
    g("Катерина", "Екатерина", "Catherine", false),
    g("Соломія", "Соломия", "Solomiya", false),
    g("Олександра", "Александра", "Alexandra", false),
    g("Злата", "Злата", "Zlata", false),
    g("Вероніка", "Вероника", "Veronica", false),
    g("Аліна", "Алина", "Alina", false),
    g("Єлизавета", "Елизавета", "Elizabeth", false),
    g("Мілана", "Милана", "Milana", false),
    g("Юлія", "Юлия", "Julia", false),
    g("Діана", "Диана", "Diana", false),
    g("Христина", "Кристина", "Christina", false),
    g("Ксенія", "Ксения", "Ksenia", false),
    g("Олена", "Елена", "Helen", false),
    g("Валерія", "Валерия", "Valeria", false),
    g("Яна", "Яна", "Yana", false),
    g("Уляна", "Ульяна", "Uliana", false),
    g("Ангеліна", "Ангелина", "Angelina", false),
    g("Каріна", "Карина", "Karina", false),
    g("Ірина", "Ирина", "Irina", false),
    g("Тетяна", "Татьяна", "Tatiana", false),
    g("Наталія", "Наталья", "Natalia", false),
    g("Ольга", "Ольга", "Olga", false),
    g("Оксана", "Оксана", "Oksana", false),
    g("Євгенія", "Евгения", "Eugenia", false),
    g("Надія", "Надежда", "Nadia", false),
];

/// A father's name and the patronymics made from it: Ukrainian male, Ukrainian female, Russian
/// male, Russian female.
pub struct Father {
    pub uk_m: &'static str,
    pub uk_f: &'static str,
    pub ru_m: &'static str,
    pub ru_f: &'static str,
}

const fn f(
    uk_m: &'static str,
    uk_f: &'static str,
    ru_m: &'static str,
    ru_f: &'static str,
) -> Father {
    Father {
        uk_m,
        uk_f,
        ru_m,
        ru_f,
    }
}

pub const FATHERS: &[Father] = &[
    f(
        "Олександрович",
        "Олександрівна",
        "Александрович",
        "Александровна",
    ),
    f("Сергійович", "Сергіївна", "Сергеевич", "Сергеевна"),
    f("Андрійович", "Андріївна", "Андреевич", "Андреевна"),
    f(
        "Володимирович",
        "Володимирівна",
        "Владимирович",
        "Владимировна",
    ),
    f("Дмитрович", "Дмитрівна", "Дмитриевич", "Дмитриевна"),
    f("Іванович", "Іванівна", "Иванович", "Ивановна"),
    f("Миколайович", "Миколаївна", "Николаевич", "Николаевна"),
    f("Олексійович", "Олексіївна", "Алексеевич", "Алексеевна"),
    f("Юрійович", "Юріївна", "Юрьевич", "Юрьевна"),
    f("Вікторович", "Вікторівна", "Викторович", "Викторовна"),
    f("Михайлович", "Михайлівна", "Михайлович", "Михайловна"),
    f("Васильович", "Василівна", "Васильевич", "Васильевна"),
    f("Ігорович", "Ігорівна", "Игоревич", "Игоревна"),
    f("Олегович", "Олегівна", "Олегович", "Олеговна"),
    f("Петрович", "Петрівна", "Петрович", "Петровна"),
    f("Романович", "Романівна", "Романович", "Романовна"),
    f("Павлович", "Павлівна", "Павлович", "Павловна"),
    f("Євгенович", "Євгенівна", "Евгеньевич", "Евгеньевна"),
    f("Анатолійович", "Анатоліївна", "Анатольевич", "Анатольевна"),
    f("Віталійович", "Віталіївна", "Витальевич", "Витальевна"),
    f("Валерійович", "Валеріївна", "Валерьевич", "Валерьевна"),
    f("Григорович", "Григорівна", "Григорьевич", "Григорьевна"),
    f("Богданович", "Богданівна", "Богданович", "Богдановна"),
    f("Тарасович", "Тарасівна", "Тарасович", "Тарасовна"),
    f("Степанович", "Степанівна", "Степанович", "Степановна"),
    f("Ярославович", "Ярославівна", "Ярославович", "Ярославовна"),
    f("Максимович", "Максимівна", "Максимович", "Максимовна"),
    f("Денисович", "Денисівна", "Денисович", "Денисовна"),
    f("Русланович", "Русланівна", "Русланович", "Руслановна"),
    f("Артемович", "Артемівна", "Артемович", "Артемовна"),
    f("Леонідович", "Леонідівна", "Леонидович", "Леонидовна"),
    f("Геннадійович", "Геннадіївна", "Геннадьевич", "Геннадьевна"),
];

/// Stems from which surnames are made with the suffixes below (crafts, nature, first names,
/// nicknames, places: where Ukrainian surnames come from). Combined, they give about 9,500
/// surnames with a long tail: in a real population most surnames are rare, and two unrelated
/// children share one far less often than the few thousand composed surnames of a smaller table
/// would make them (see docs/benchmarks.md, "The change: the generator's surnames had no tail").
pub const SURNAME_STEMS: &[&str] = &[
    "Коваль",
    "Шевч",
    "Бондар",
    "Ткач",
    "Кравч",
    "Мельнич",
    "Олійн",
    "Гончар",
    "Савч",
    "Руд",
    "Марч",
    "Лев",
    "Петр",
    "Павл",
    "Клим",
    "Кузьм",
    "Сидор",
    "Харч",
    "Гриц",
    "Дорош",
    "Мороз",
    "Кушнір",
    "Бойч",
    "Ковальч",
    "Мартин",
    "Остап",
    "Зінч",
    "Гаврил",
    "Данил",
    "Тимош",
    "Пилип",
    "Федор",
    "Яковл",
    "Карп",
    "Юрч",
    "Семен",
    "Литвин",
    "Мирон",
    "Вовк",
    "Лис",
    "Ведмед",
    "Сокол",
    "Горобц",
    "Шпак",
    "Журавл",
    "Орл",
    "Голуб",
    "Зайч",
    "Козл",
    "Биков",
    "Бородай",
    "Кривоніс",
    "Білокін",
    "Чорновол",
    "Сиз",
    "Руса",
    "Сав",
    "Тарас",
    "Назар",
    "Степан",
    "Мазур",
    "Поліщ",
    "Волош",
    "Москал",
    "Лях",
    "Турч",
    "Гуцал",
    "Бойк",
    "Лемк",
    "Січ",
    "Запорож",
    "Кобзар",
    "Чумач",
    "Пасічн",
    "Гребін",
    "Ковтун",
    "Кучер",
    "Лупан",
    "Оліфір",
    "Приход",
    "Рибак",
    "Стельмах",
    "Шинкар",
    "Шаповал",
    "Швец",
    "Кравц",
    "Кожум'як",
    "Дьогт",
    "Вербиц",
    "Березовс",
    "Дубовиц",
    "Липовец",
    "Яблон",
    "Калин",
    "Тополь",
    "Ясен",
    "Грушев",
    "Вишнев",
    "Горбат",
    "Гладк",
    "Довгал",
    "Коротк",
    "Товст",
    "Білоус",
    "Чорноус",
    "Сивер",
    "Лозин",
    "Гайов",
    "Нечипор",
    "Охрім",
    "Панас",
    "Прокоп",
    "Фесь",
    "Хом",
    "Юхим",
    "Явтух",
    "Гнат",
    "Демч",
    "Сірч",
    "Ярош",
    "Гордій",
    "Матві",
    "Кирил",
    "Левк",
    "Мусі",
    "Онищ",
    "Вакул",
    "Гуменю",
    "Дячен",
    "Лукаш",
    "Мацю",
    "Нестер",
    "Рома",
    "Супрун",
    "Тищ",
    "Фед",
    "Шапар",
    "Щерб",
    // The tail: rarer stems, drawn less often by their place in the list (see
    // `synth::family_surname`).
    "Пекар",
    "Столяр",
    "Тесл",
    "Колісн",
    "Сотнич",
    "Писар",
    "Паламарч",
    "Пастух",
    "Чабан",
    "Вівчар",
    "Свинар",
    "Ліснич",
    "Садовнич",
    "Городнич",
    "Рибальч",
    "Крамар",
    "Купч",
    "Мірошнич",
    "Гарбар",
    "Лимар",
    "Бортнич",
    "Смоляр",
    "Дігтяр",
    "Пушкар",
    "Гармаш",
    "Сагайдач",
    "Осавул",
    "Хорунж",
    "Отаман",
    "Козач",
    "Гетьман",
    "Старост",
    "Поп",
    "Возн",
    "Токар",
    "Слюсар",
    "Муляр",
    "Маляр",
    "Шкляр",
    "Каменяр",
    "Бурлак",
    "Чоботар",
    "Кожухар",
    "Сороч",
    "Ворон",
    "Грак",
    "Дятл",
    "Снігур",
    "Синиц",
    "Чиж",
    "Дрозд",
    "Солов",
    "Лебед",
    "Гус",
    "Качур",
    "Півн",
    "Когут",
    "Індик",
    "Баран",
    "Цап",
    "Кабан",
    "Їжак",
    "Бобр",
    "Борсук",
    "Куниц",
    "Тхор",
    "Окун",
    "Щук",
    "Карась",
    "Сом",
    "Жук",
    "Комар",
    "Шершн",
    "Крот",
    "Лисиц",
    "Вовч",
    "Кон",
    "Кобил",
    "Лошак",
    "Бичк",
    "Горлиц",
    "Зозул",
    "Пугач",
    "Сич",
    "Мух",
    "Ящур",
    "Дуб",
    "Берез",
    "Верб",
    "Клен",
    "Сосн",
    "Ялин",
    "Граб",
    "Явор",
    "Ліщин",
    "Малин",
    "Терн",
    "Цибул",
    "Гарбуз",
    "Капуст",
    "Буряч",
    "Квітк",
    "Маков",
    "Кропив",
    "Полин",
    "Очерет",
    "Комиш",
    "Осик",
    "Вільх",
    "Черемх",
    "Бузин",
    "Ожин",
    "Горох",
    "Просян",
    "Гречан",
    "Житн",
    "Біл",
    "Чорн",
    "Сив",
    "Мал",
    "Велич",
    "Довж",
    "Крив",
    "Глух",
    "Горд",
    "Тих",
    "Весел",
    "Хитр",
    "Мудр",
    "Добр",
    "Лих",
    "Носач",
    "Зуб",
    "Вус",
    "Чуб",
    "Головч",
    "Нос",
    "Зелен",
    "Червон",
    "Молод",
    "Нов",
    "Щир",
    "Кругл",
    "Плоск",
    "Гостр",
    "Рябч",
    "Куц",
    "Кульб",
    "Шульг",
    "Лисак",
    "Косолап",
    "Галуш",
    "Борщ",
    "Сал",
    "Хліб",
    "Корж",
    "Пирож",
    "Млин",
    "Колод",
    "Стрільч",
    "Лопат",
    "Плуж",
    "Бубн",
    "Дзвон",
    "Жорн",
    "Ступ",
    "Свит",
    "Шабл",
    "Сокир",
    "Кресал",
    "Клепач",
    "Іван",
    "Григор",
    "Василь",
    "Михайл",
    "Микол",
    "Стефан",
    "Антон",
    "Дмитр",
    "Олекс",
    "Кост",
    "Марк",
    "Лук'ян",
    "Роман",
    "Борис",
    "Денис",
    "Максим",
    "Захарч",
    "Захар",
    "Макар",
    "Герасим",
    "Ігнат",
    "Кондрат",
    "Логвин",
    "Трохим",
    "Влас",
    "Яким",
    "Самійл",
    "Давид",
    "Адам",
    "Осип",
    "Микит",
    "Омельч",
    "Лес",
    "Харитон",
    "Тимч",
    "Луц",
    "Радч",
    "Ващ",
    "Ярем",
    "Ілл",
    "Устим",
    "Андрус",
    "Іщ",
    "Сенч",
    "Стець",
    "Лазар",
    "Гудз",
    "Ганущ",
    "Катеринч",
    "Марус",
    "Оксен",
    "Гапон",
    "Тодос",
    "Федь",
    "Гриш",
    "Юрк",
    "Климч",
    "Остапч",
    "Нестерч",
    "Прокопч",
    "Семенч",
    "Сидорч",
    "Подоль",
    "Волин",
    "Галиц",
    "Киян",
    "Полтав",
    "Прилуц",
    "Лубен",
    "Ромен",
    "Татар",
    "Угрин",
    "Мадяр",
    "Греч",
    "Серб",
    "Німч",
    "Швед",
    "Руснак",
    "Подолян",
    "Степов",
    "Лугов",
    "Польов",
    "Гірн",
    "Долин",
    "Загород",
    "Заріч",
    "Криниц",
    "Ставиц",
    "Бережн",
    "Озерн",
    "Остров",
    "Городец",
    "Слободян",
    "Хутор",
    "Заболот",
    "Підгор",
    "Задніпр",
    "Поділ",
    "Кременч",
    "Черкас",
    "Ніжин",
    "Глухов",
    "Сніж",
    "Дощ",
    "Вітр",
    "Хмар",
    "Зор",
    "Камен",
    "Глин",
    "Лісов",
    "Бур'ян",
    "Пан",
    "Кмет",
    "Сирот",
    "Вдов",
    "Сват",
    "Кум",
    "Брат",
    "Дід",
    "Баб",
    "Мовч",
    "Кривош",
    "Бондарч",
];

/// Surname endings: each a masculine and a feminine form (most Ukrainian endings do not change).
pub const SURNAME_SUFFIXES: &[(&str, &str)] = &[
    ("енко", "енко"),
    ("ук", "ук"),
    ("юк", "юк"),
    ("ун", "ун"),
    ("ак", "ак"),
    ("ик", "ик"),
    ("ко", "ко"),
    ("ишин", "ишина"),
    ("ський", "ська"),
    ("ич", "ич"),
    ("ів", "ова"),
    ("ій", "ія"),
    ("ець", "ець"),
    ("ан", "ан"),
    ("ин", "ина"),
    ("ейко", "ейко"),
    ("ович", "ович"),
    ("овський", "овська"),
    ("ищак", "ищак"),
    ("инець", "инець"),
    ("ило", "ило"),
    ("ута", "ута"),
];

/// Common whole surnames, drawn more often than composed ones.
pub const COMMON_SURNAMES: &[(&str, &str)] = &[
    ("Шевченко", "Шевченко"),
    ("Коваленко", "Коваленко"),
    ("Бондаренко", "Бондаренко"),
    ("Ткаченко", "Ткаченко"),
    ("Кравченко", "Кравченко"),
    ("Олійник", "Олійник"),
    ("Шевчук", "Шевчук"),
    ("Коваль", "Коваль"),
    ("Поліщук", "Поліщук"),
    ("Бойко", "Бойко"),
    ("Мельник", "Мельник"),
    ("Ткачук", "Ткачук"),
    ("Марченко", "Марченко"),
    ("Лисенко", "Лисенко"),
    ("Руденко", "Руденко"),
    ("Савченко", "Савченко"),
    ("Петренко", "Петренко"),
    ("Мороз", "Мороз"),
    ("Кравчук", "Кравчук"),
    ("Клименко", "Клименко"),
    ("Павленко", "Павленко"),
    ("Коломієць", "Коломієць"),
    ("Левченко", "Левченко"),
    ("Харченко", "Харченко"),
    ("Гончаренко", "Гончаренко"),
    ("Литвиненко", "Литвиненко"),
    ("Остапенко", "Остапенко"),
    ("Яковенко", "Яковенко"),
    ("Білик", "Білик"),
    ("Карпенко", "Карпенко"),
    ("Гриценко", "Гриценко"),
    ("Мазур", "Мазур"),
    ("Юрченко", "Юрченко"),
    ("Тимошенко", "Тимошенко"),
    ("Сидоренко", "Сидоренко"),
    ("Ковальчук", "Ковальчук"),
    ("Волошин", "Волошина"),
    ("Кузьменко", "Кузьменко"),
    ("Ярошенко", "Ярошенко"),
    ("Васильєв", "Васильєва"),
    ("Петрів", "Петрова"),
    ("Ковалів", "Ковальова"),
    ("Яворський", "Яворська"),
    ("Вишневський", "Вишневська"),
    ("Дубовицький", "Дубовицька"),
    ("Кириленко", "Кириленко"),
];

/// Russian surnames that adoptive families give (an adoption renames the child).
pub const RU_ADOPTIVE_SURNAMES: &[(&str, &str)] = &[
    ("Иванов", "Иванова"),
    ("Смирнов", "Смирнова"),
    ("Кузнецов", "Кузнецова"),
    ("Попов", "Попова"),
    ("Васильев", "Васильева"),
    ("Соколов", "Соколова"),
    ("Михайлов", "Михайлова"),
    ("Новиков", "Новикова"),
    ("Фёдоров", "Фёдорова"),
    ("Морозов", "Морозова"),
    ("Волков", "Волкова"),
    ("Алексеев", "Алексеева"),
    ("Лебедев", "Лебедева"),
    ("Семёнов", "Семёнова"),
    ("Егоров", "Егорова"),
    ("Павлов", "Павлова"),
    ("Козлов", "Козлова"),
    ("Степанов", "Степанова"),
    ("Николаев", "Николаева"),
    ("Орлов", "Орлова"),
];

/// A place of birth: today's Ukrainian name, the Russian name, former names (Ukrainian, Russian)
/// if the town was renamed (decommunisation 2016, derussification 2022–2024), and a weight: towns
/// in the occupied and front-line regions, from which most children were taken, weigh more.
pub struct Place {
    pub uk: &'static str,
    pub ru: &'static str,
    pub old_uk: &'static str,
    pub old_ru: &'static str,
    pub weight: u32,
}

const fn p(
    uk: &'static str,
    ru: &'static str,
    old_uk: &'static str,
    old_ru: &'static str,
    weight: u32,
) -> Place {
    Place {
        uk,
        ru,
        old_uk,
        old_ru,
        weight,
    }
}

pub const PLACES: &[Place] = &[
    p("Маріуполь", "Мариуполь", "", "", 30),
    p("Херсон", "Херсон", "", "", 25),
    p("Мелітополь", "Мелитополь", "", "", 20),
    p("Донецьк", "Донецк", "", "", 25),
    p("Луганськ", "Луганск", "", "", 20),
    p("Бердянськ", "Бердянск", "", "", 12),
    p("Нова Каховка", "Новая Каховка", "", "", 8),
    p("Каховка", "Каховка", "", "", 6),
    p("Генічеськ", "Геническ", "", "", 5),
    p("Скадовськ", "Скадовск", "", "", 4),
    p("Олешки", "Алешки", "Цюрупинськ", "Цюрупинск", 5),
    p("Енергодар", "Энергодар", "", "", 6),
    p("Токмак", "Токмак", "", "", 4),
    p("Горлівка", "Горловка", "", "", 10),
    p("Макіївка", "Макеевка", "", "", 10),
    p("Сєвєродонецьк", "Северодонецк", "", "", 10),
    p("Лисичанськ", "Лисичанск", "", "", 9),
    p("Рубіжне", "Рубежное", "", "", 5),
    p("Старобільськ", "Старобельск", "", "", 4),
    p("Алчевськ", "Алчевск", "", "", 6),
    p(
        "Хрустальний",
        "Хрустальный",
        "Красний Луч",
        "Красный Луч",
        4,
    ),
    p("Довжанськ", "Должанск", "Свердловськ", "Свердловск", 4),
    p("Сорокине", "Сорокино", "Краснодон", "Краснодон", 4),
    p("Бахмут", "Бахмут", "Артемівськ", "Артемовск", 8),
    p(
        "Покровськ",
        "Покровск",
        "Красноармійськ",
        "Красноармейск",
        6,
    ),
    p("Торецьк", "Торецк", "Дзержинськ", "Дзержинск", 4),
    p("Мирноград", "Мирноград", "Димитров", "Димитров", 3),
    p("Краматорськ", "Краматорск", "", "", 8),
    p("Слов'янськ", "Славянск", "", "", 8),
    p("Волноваха", "Волноваха", "", "", 4),
    p("Вугледар", "Угледар", "", "", 2),
    p("Ізюм", "Изюм", "", "", 5),
    p("Куп'янськ", "Купянск", "", "", 4),
    p("Харків", "Харьков", "", "", 15),
    p("Запоріжжя", "Запорожье", "", "", 12),
    p("Дніпро", "Днепр", "Дніпропетровськ", "Днепропетровск", 10),
    p(
        "Кам'янське",
        "Каменское",
        "Дніпродзержинськ",
        "Днепродзержинск",
        4,
    ),
    p(
        "Горішні Плавні",
        "Горишние Плавни",
        "Комсомольськ",
        "Комсомольск",
        2,
    ),
    p(
        "Кропивницький",
        "Кропивницкий",
        "Кіровоград",
        "Кировоград",
        4,
    ),
    p("Миколаїв", "Николаев", "", "", 8),
    p("Одеса", "Одесса", "", "", 8),
    p("Ізмаїл", "Измаил", "", "", 2),
    p("Київ", "Киев", "", "", 10),
    p("Чернігів", "Чернигов", "", "", 4),
    p("Суми", "Сумы", "", "", 4),
    p("Полтава", "Полтава", "", "", 3),
    p(
        "Звягель",
        "Звягель",
        "Новоград-Волинський",
        "Новоград-Волынский",
        2,
    ),
    p("Вінниця", "Винница", "", "", 2),
    p("Черкаси", "Черкассы", "", "", 2),
    p("Житомир", "Житомир", "", "", 2),
    p("Львів", "Львов", "", "", 2),
];

/// Russian towns an adoption record sometimes gives as the birthplace instead of the real one.
pub const RU_TOWNS: &[&str] = &[
    "Москва",
    "Ростов-на-Дону",
    "Таганрог",
    "Краснодар",
    "Воронеж",
    "Курск",
    "Белгород",
    "Омск",
    "Тюмень",
    "Подольск",
];

/// Ukrainian Cyrillic to Latin by the KMU 2010 passport standard (Cabinet resolution 55): `ye`,
/// `yi`, `y`, `yu`, `ya` at the start of a word, `ie`, `i`, `i`, `iu`, `ia` elsewhere; `зг` → `zgh`;
/// soft sign and apostrophe dropped.
pub fn kmu2010(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let lower = c.to_lowercase().next().unwrap_or(c);
        let upper = c != lower;
        let initial =
            i == 0 || !chars[i - 1].is_alphabetic() && chars[i - 1] != '\'' && chars[i - 1] != 'ʼ';
        let s: &str = match lower {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => {
                if i > 0 && chars[i - 1].to_lowercase().next() == Some('з') {
                    "gh"
                } else {
                    "h"
                }
            }
            'ґ' => "g",
            'д' => "d",
            'е' => "e",
            'є' => {
                if initial {
                    "ye"
                } else {
                    "ie"
                }
            }
            'ж' => "zh",
            'з' => "z",
            'и' => "y",
            'і' => "i",
            'ї' => {
                if initial {
                    "yi"
                } else {
                    "i"
                }
            }
            'й' => {
                if initial {
                    "y"
                } else {
                    "i"
                }
            }
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ь' | '\'' | 'ʼ' => "",
            'ю' => {
                if initial {
                    "yu"
                } else {
                    "iu"
                }
            }
            'я' => {
                if initial {
                    "ya"
                } else {
                    "ia"
                }
            }
            _ => {
                out.push(c);
                continue;
            }
        };
        push_cased(&mut out, s, upper);
    }
    out
}

/// The Latin standards the custody side's clerks use for Russian Cyrillic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuLatin {
    /// ICAO Doc 9303, in Russian passports since 2013: й → i, ю → iu, я → ia, ъ → ie.
    Icao,
    /// The older passport / BGN-PCGN-like habit: й → y, ю → yu, я → ya, е → ye at the start.
    Bgn,
    /// GOST 7.79-2000 system B: й → j, х → x, ц → c, щ → shh, ы → y'.
    GostB,
}

/// Russian Cyrillic to Latin in one of the standards.
pub fn ru_latin(text: &str, std: RuLatin) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let lower = c.to_lowercase().next().unwrap_or(c);
        let upper = c != lower;
        let initial = i == 0 || !chars[i - 1].is_alphabetic();
        let after_vowel = i > 0
            && "аеёиоуыэюяьъaeiou".contains(chars[i - 1].to_lowercase().next().unwrap_or(' '));
        let s: &str = match (lower, std) {
            ('а', _) => "a",
            ('б', _) => "b",
            ('в', _) => "v",
            ('г', _) => "g",
            ('д', _) => "d",
            ('е', RuLatin::Bgn) if initial || after_vowel => "ye",
            ('е', _) => "e",
            ('ё', RuLatin::Bgn) => {
                if initial || after_vowel {
                    "yo"
                } else {
                    "e"
                }
            }
            ('ё', RuLatin::GostB) => "yo",
            ('ё', RuLatin::Icao) => "e",
            ('ж', _) => "zh",
            ('з', _) => "z",
            ('и', _) => "i",
            ('й', RuLatin::Icao) => "i",
            ('й', RuLatin::Bgn) => "y",
            ('й', RuLatin::GostB) => "j",
            ('к', _) => "k",
            ('л', _) => "l",
            ('м', _) => "m",
            ('н', _) => "n",
            ('о', _) => "o",
            ('п', _) => "p",
            ('р', _) => "r",
            ('с', _) => "s",
            ('т', _) => "t",
            ('у', _) => "u",
            ('ф', _) => "f",
            ('х', RuLatin::GostB) => "x",
            ('х', _) => "kh",
            ('ц', RuLatin::GostB) => "c",
            ('ц', _) => "ts",
            ('ч', _) => "ch",
            ('ш', _) => "sh",
            ('щ', RuLatin::GostB) => "shh",
            ('щ', _) => "shch",
            ('ъ', RuLatin::Icao) => "ie",
            ('ъ', _) => "",
            ('ы', RuLatin::GostB) => "y'",
            ('ы', _) => "y",
            ('ь', _) => "",
            ('э', RuLatin::GostB) => "e'",
            ('э', _) => "e",
            ('ю', RuLatin::Icao) => "iu",
            ('ю', _) => "yu",
            ('я', RuLatin::Icao) => "ia",
            ('я', _) => "ya",
            _ => {
                out.push(c);
                continue;
            }
        };
        push_cased(&mut out, s, upper);
    }
    out
}

fn push_cased(out: &mut String, s: &str, upper: bool) {
    let mut it = s.chars();
    if let Some(first) = it.next() {
        if upper {
            out.extend(first.to_uppercase());
        } else {
            out.push(first);
        }
        out.extend(it);
    }
}

/// A Ukrainian surname as a Russian clerk writes it: the letters Russian lacks replaced by the
/// nearest Russian ones (і → и, є → е, ї → йи; и → ы too when written by ear, `by_ear`), `-ій-` before a consonant → `-ей-`
/// (Олійник → Олейник), `-ський` → `-ский`, a final `-ів` → `-ов` (Петрів → Петров), the
/// apostrophe dropped.
pub fn russify_surname(uk: &str, by_ear: bool) -> String {
    let mut s = uk.to_string();
    for (from, to) in [
        ("ський", "ский"),
        ("цький", "цкий"),
        ("ська", "ская"),
        ("цька", "цкая"),
    ] {
        if let Some(stem) = s.strip_suffix(from) {
            s = format!("{stem}{to}");
        }
    }
    if let Some(stem) = s.strip_suffix("ів") {
        s = format!("{stem}ов");
    }
    let s = s.replace("ій", "ей").replace("Ій", "Ей");
    let s = if by_ear {
        s
    } else {
        s.replace('и', "\u{0}").replace('И', "\u{1}")
    };
    russify_letters(&s)
        .replace('\u{0}', "и")
        .replace('\u{1}', "И")
}

/// Ukrainian letters replaced by the Russian ones a Russian keyboard offers.
pub fn russify_letters(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            'и' => out.push('ы'),
            'И' => out.push('Ы'),
            'і' => out.push('и'),
            'І' => out.push('И'),
            'ї' => out.push_str("йи"),
            'Ї' => out.push_str("Йи"),
            'є' => out.push('е'),
            'Є' => out.push('Е'),
            'ґ' => out.push('г'),
            'Ґ' => out.push('Г'),
            '\'' | 'ʼ' => {}
            _ => out.push(c),
        }
    }
    out
}

/// What a one-character-at-a-time ASCII folding (unidecode) makes of Cyrillic: the preparation a
/// Splink user would apply, since Splink compares strings and knows no transliteration standard.
pub fn ascii_fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let lower = c.to_lowercase().next().unwrap_or(c);
        let upper = c != lower;
        let s: &str = match lower {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'ґ' => "g",
            'д' => "d",
            'е' => "e",
            'ё' => "io",
            'є' => "ie",
            'ж' => "zh",
            'з' => "z",
            'и' => "i",
            'і' => "i",
            'ї' => "i",
            'й' => "i",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ъ' => "",
            'ы' => "y",
            'ь' => "",
            'э' => "e",
            'ю' => "iu",
            'я' => "ia",
            'ʼ' | '’' => "'",
            _ if c.is_ascii() => {
                out.push(c);
                continue;
            }
            _ => "",
        };
        push_cased(&mut out, s, upper);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_schemes_spell_as_documented() {
        let spell = |s: &str| {
            OtherLatin::ALL
                .iter()
                .map(|&k| other_latin(s, k))
                .collect::<Vec<String>>()
        };
        // RuFrench (и and й both i, so ий is ii: the generator does not shorten it as some
        // passports did), RuIso9, RuWikipedia, UkScholarly, UkIso9, UkInformal.
        assert_eq!(
            spell("Юрий"),
            ["Iourii", "Ûrij", "Yury", "Juryj", "Ûrij", "Yuryy"]
        );
        assert_eq!(other_latin("Шевчук", OtherLatin::RuFrench), "Chevtchouk");
        assert_eq!(other_latin("Жадан", OtherLatin::RuFrench), "Jadan");
        assert_eq!(other_latin("Щербакова", OtherLatin::RuIso9), "Ŝerbakova");
        assert_eq!(other_latin("Мариуполь", OtherLatin::RuIso9), "Mariupolʹ");
        assert_eq!(other_latin("Евгений", OtherLatin::RuWikipedia), "Yevgeny");
        assert_eq!(
            other_latin("Хмельницький", OtherLatin::UkScholarly),
            "Xmelʹnycʹkyj"
        );
        assert_eq!(other_latin("Євген", OtherLatin::UkScholarly), "Jevhen");
        assert_eq!(other_latin("Ткаченко", OtherLatin::UkIso9), "Tkačenko");
        assert_eq!(other_latin("Олександр", OtherLatin::UkInformal), "Olexandr");
        assert_eq!(other_latin("Євген", OtherLatin::UkInformal), "Yevhen");
        assert_eq!(other_latin("Андрій", OtherLatin::UkInformal), "Andriy");
        assert_eq!(
            other_latin("Ковальчук", OtherLatin::UkInformal),
            "Kovalchuk"
        );
        for k in OtherLatin::ALL {
            assert_eq!(k.spells_ukrainian(), k.tag().starts_with("latin_uk"));
        }
    }

    #[test]
    fn standards_spell_as_documented() {
        assert_eq!(kmu2010("Олександр"), "Oleksandr");
        assert_eq!(kmu2010("Євгенія"), "Yevheniia");
        assert_eq!(kmu2010("Згурський"), "Zghurskyi");
        assert_eq!(kmu2010("Юрій"), "Yurii");
        assert_eq!(ru_latin("Юрьевич", RuLatin::Icao), "Iurevich");
        assert_eq!(ru_latin("Юрьевич", RuLatin::Bgn), "Yuryevich");
        assert_eq!(ru_latin("Щербак", RuLatin::GostB), "Shherbak");
        assert_eq!(russify_surname("Олійник", false), "Олейник");
        assert_eq!(russify_surname("Лисенко", true), "Лысенко");
        assert_eq!(russify_surname("Петрів", false), "Петров");
        assert_eq!(russify_surname("Яворська", false), "Яворская");
        assert_eq!(ascii_fold("Київ"), "Kiiv");
    }
}

/// Latin spellings a custody list also holds besides [`RuLatin`]'s three (added for issue 13):
/// schemes of other eras and habits, of the Russian forms, and of the Ukrainian forms copied from
/// a Ukrainian document or a relief organisation's list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtherLatin {
    /// The Soviet and early Russian foreign-passport (MVD) scheme, French-based: у → ou,
    /// ч → tch, ш → ch, щ → chtch, ж → j, ю → iou.
    RuFrench,
    /// ISO 9 / GOST 7.79 system A, one letter per letter with diacritics: ж → ž, ч → č, щ → ŝ,
    /// ю → û, я → â, ь → ʹ.
    RuIso9,
    /// English Wikipedia's simplified BGN/PCGN: ye at the start, -ий/-ый → -y, ё → yo.
    RuWikipedia,
    /// Ukrainian forms in the scholarly system: и → y, і → i, ї → ï, є → je, х → x, ц → c,
    /// ч → č, ш → š, щ → šč, ь → ʹ.
    UkScholarly,
    /// Ukrainian forms in ISO 9: г → g, ґ → g̀, и → i, і → ì, ї → ï, є → ê, х → h.
    UkIso9,
    /// Ukrainian forms as English speakers write them: кс → x, -ій → -iy, є → ye, ю → yu.
    UkInformal,
}

impl OtherLatin {
    #[cfg(test)]
    pub const ALL: [OtherLatin; 6] = [
        OtherLatin::RuFrench,
        OtherLatin::RuIso9,
        OtherLatin::RuWikipedia,
        OtherLatin::UkScholarly,
        OtherLatin::UkIso9,
        OtherLatin::UkInformal,
    ];
    /// Whether the scheme spells the Ukrainian forms (else the Russian ones).
    pub fn spells_ukrainian(self) -> bool {
        matches!(
            self,
            OtherLatin::UkScholarly | OtherLatin::UkIso9 | OtherLatin::UkInformal
        )
    }
    pub fn tag(self) -> &'static str {
        match self {
            OtherLatin::RuFrench => "latin_french",
            OtherLatin::RuIso9 => "latin_iso9",
            OtherLatin::RuWikipedia => "latin_wikipedia",
            OtherLatin::UkScholarly => "latin_uk_scholarly",
            OtherLatin::UkIso9 => "latin_uk_iso9",
            OtherLatin::UkInformal => "latin_uk_informal",
        }
    }
}

/// Cyrillic (Russian or Ukrainian, as the scheme expects) to Latin in one of [`OtherLatin`].
pub fn other_latin(text: &str, scheme: OtherLatin) -> String {
    let chars: Vec<char> = text.chars().collect();
    let lower_at = |i: usize| chars.get(i).map(|c| c.to_lowercase().next().unwrap_or(*c));
    let mut out = String::with_capacity(text.len() + 4);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let lower = lower_at(i).unwrap_or(c);
        let upper = c != lower;
        let initial = i == 0 || !chars[i - 1].is_alphabetic();
        let next = lower_at(i + 1);
        let after_vowel = i > 0 && lower_at(i - 1).is_some_and(|p| "аеёиіоуыэюяєїьъ".contains(p));
        // Two-letter spellings first: -ий/-ый at a word's end, кс → x.
        if scheme == OtherLatin::RuWikipedia
            && "иы".contains(lower)
            && next == Some('й')
            && lower_at(i + 2).is_none_or(|n| !n.is_alphabetic())
            && !initial
        {
            push_cased(&mut out, "y", upper);
            i += 2;
            continue;
        }
        if scheme == OtherLatin::UkInformal && lower == 'к' && next == Some('с') {
            push_cased(&mut out, "x", upper);
            i += 2;
            continue;
        }
        let s = other_letter(scheme, lower, initial, after_vowel);
        match s {
            Some(s) => push_cased(&mut out, s, upper),
            None => out.push(c),
        }
        i += 1;
    }
    out
}

fn other_letter(
    scheme: OtherLatin,
    c: char,
    initial: bool,
    after_vowel: bool,
) -> Option<&'static str> {
    use OtherLatin::*;
    let common = match c {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'д' => "d",
        'з' => "z",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'ф' => "f",
        _ => "",
    };
    if !common.is_empty() {
        return Some(common);
    }
    Some(match (scheme, c) {
        (RuFrench, 'г') | (RuIso9, 'г') | (RuWikipedia, 'г') | (UkIso9, 'г') => "g",
        (_, 'г') => "h",
        (UkIso9, 'ґ') => "g\u{300}",
        (_, 'ґ') => "g",
        (RuWikipedia, 'е') if initial || after_vowel => "ye",
        (_, 'е') => "e",
        (RuIso9, 'ё') => "ë",
        (RuWikipedia, 'ё') => "yo",
        (_, 'ё') => "e",
        (UkScholarly, 'є') => "je",
        (UkIso9, 'є') => "ê",
        (_, 'є') => {
            if initial {
                "ye"
            } else {
                "ie"
            }
        }
        (RuFrench, 'ж') => "j",
        (RuIso9, 'ж') | (UkScholarly, 'ж') | (UkIso9, 'ж') => "ž",
        (_, 'ж') => "zh",
        (UkScholarly, 'и') | (UkInformal, 'и') => "y",
        (_, 'и') => "i",
        (UkIso9, 'і') => "ì",
        (_, 'і') => "i",
        (UkScholarly, 'ї') | (UkIso9, 'ї') => "ï",
        (_, 'ї') => "yi",
        (RuFrench, 'й') => "i",
        (RuIso9, 'й') | (UkScholarly, 'й') | (UkIso9, 'й') => "j",
        (_, 'й') => "y",
        (RuFrench, 'у') => "ou",
        (_, 'у') => "u",
        (RuIso9, 'х') | (UkIso9, 'х') => "h",
        (UkScholarly, 'х') => "x",
        (_, 'х') => "kh",
        (RuIso9, 'ц') | (UkScholarly, 'ц') | (UkIso9, 'ц') => "c",
        (_, 'ц') => "ts",
        (RuFrench, 'ч') => "tch",
        (RuIso9, 'ч') | (UkScholarly, 'ч') | (UkIso9, 'ч') => "č",
        (_, 'ч') => "ch",
        (RuFrench, 'ш') => "ch",
        (RuIso9, 'ш') | (UkScholarly, 'ш') | (UkIso9, 'ш') => "š",
        (_, 'ш') => "sh",
        (RuFrench, 'щ') => "chtch",
        (RuIso9, 'щ') | (UkIso9, 'щ') => "ŝ",
        (UkScholarly, 'щ') => "šč",
        (_, 'щ') => "shch",
        (RuIso9, 'ъ') => "ʺ",
        (_, 'ъ') => "",
        (_, 'ы') => "y",
        (RuIso9, 'ь') | (UkScholarly, 'ь') | (UkIso9, 'ь') => "ʹ",
        (_, 'ь') => "",
        (RuIso9, 'э') => "è",
        (_, 'э') => "e",
        (RuFrench, 'ю') => "iou",
        (RuIso9, 'ю') | (UkIso9, 'ю') => "û",
        (UkScholarly, 'ю') => "ju",
        (_, 'ю') => "yu",
        (RuFrench, 'я') => "ia",
        (RuIso9, 'я') | (UkIso9, 'я') => "â",
        (UkScholarly, 'я') => "ja",
        (_, 'я') => "ya",
        (_, '\'') | (_, 'ʼ') => "",
        _ => return None,
    })
}
