//! Synthetic children for tests, demos and benchmarks. Every record is invented: the names are
//! drawn independently from lists of common first names and surnames, so no generated record
//! describes a real child. Place names are real towns (general knowledge, needed for realism);
//! institutions are generic ("Children's home No. 4") and contacts use the reserved example.org
//! domain, never phone numbers, which could belong to someone.
//!
//! The generator is seeded, so a seed always gives the same records (tests and benchmarks can be
//! repeated), and it writes the text the way each side's paperwork does: the origin side in
//! Ukrainian, the custody side often in Russian forms of the same names, sometimes with a Latin
//! passport spelling beside them. That difference is what record linkage has to overcome.

use chrono::{Datelike, Duration, NaiveDate};
use homeward_domain::name::NameInput;
use homeward_domain::{ChildRecordInput, RecordKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::io::{self, Write};

/// Boys' given names: Ukrainian form, Russian form.
const BOYS: &[(&str, &str)] = &[
    ("Олександр", "Александр"),
    ("Дмитро", "Дмитрий"),
    ("Максим", "Максим"),
    ("Артем", "Артём"),
    ("Андрій", "Андрей"),
    ("Іван", "Иван"),
    ("Богдан", "Богдан"),
    ("Данило", "Даниил"),
    ("Михайло", "Михаил"),
    ("Назар", "Назар"),
    ("Владислав", "Владислав"),
    ("Матвій", "Матвей"),
    ("Тимофій", "Тимофей"),
    ("Денис", "Денис"),
    ("Євген", "Евгений"),
    ("Юрій", "Юрий"),
    ("Сергій", "Сергей"),
    ("Ярослав", "Ярослав"),
    ("Кирило", "Кирилл"),
    ("Роман", "Роман"),
    ("Віктор", "Виктор"),
    ("Тарас", "Тарас"),
    ("Василь", "Василий"),
    ("Павло", "Павел"),
    ("Микола", "Николай"),
    ("Степан", "Степан"),
    ("Олексій", "Алексей"),
    ("Ілля", "Илья"),
];

/// Girls' given names: Ukrainian form, Russian form.
const GIRLS: &[(&str, &str)] = &[
    ("Олена", "Елена"),
    ("Анна", "Анна"),
    ("Марія", "Мария"),
    ("Софія", "София"),
    ("Анастасія", "Анастасия"),
    ("Вікторія", "Виктория"),
    ("Дарина", "Дарина"),
    ("Катерина", "Екатерина"),
    ("Юлія", "Юлия"),
    ("Ольга", "Ольга"),
    ("Поліна", "Полина"),
    ("Соломія", "Соломия"),
    ("Злата", "Злата"),
    ("Ірина", "Ирина"),
    ("Тетяна", "Татьяна"),
    ("Наталія", "Наталья"),
    ("Христина", "Кристина"),
    ("Аліна", "Алина"),
    ("Вероніка", "Вероника"),
    ("Єлизавета", "Елизавета"),
    ("Валерія", "Валерия"),
    ("Діана", "Диана"),
    ("Мілана", "Милана"),
    ("Оксана", "Оксана"),
];

/// Women's names of the parents' and grandparents' generations, for enquirers and carers.
const WOMEN: &[&str] = &[
    "Галина",
    "Людмила",
    "Валентина",
    "Надія",
    "Ніна",
    "Тамара",
    "Лідія",
    "Любов",
    "Світлана",
    "Оксана",
    "Наталія",
    "Ірина",
    "Тетяна",
    "Олена",
];

/// Fathers' names (Ukrainian), and the Russian patronymics made from them (son's, daughter's).
/// Ukrainian patronymics are derived by rule in [`patronymic_uk`]; Russian ones have too many
/// irregular forms (Юрьевич, Михайлович, Павлович) to be worth a rule here.
const FATHERS: &[(&str, &str, &str)] = &[
    ("Олександр", "Александрович", "Александровна"),
    ("Дмитро", "Дмитриевич", "Дмитриевна"),
    ("Андрій", "Андреевич", "Андреевна"),
    ("Сергій", "Сергеевич", "Сергеевна"),
    ("Іван", "Иванович", "Ивановна"),
    ("Микола", "Николаевич", "Николаевна"),
    ("Василь", "Васильевич", "Васильевна"),
    ("Юрій", "Юрьевич", "Юрьевна"),
    ("Олег", "Олегович", "Олеговна"),
    ("Петро", "Петрович", "Петровна"),
    ("Віктор", "Викторович", "Викторовна"),
    ("Володимир", "Владимирович", "Владимировна"),
    ("Михайло", "Михайлович", "Михайловна"),
    ("Ігор", "Игоревич", "Игоревна"),
    ("Роман", "Романович", "Романовна"),
    ("Євген", "Евгеньевич", "Евгеньевна"),
    ("Богдан", "Богданович", "Богдановна"),
    ("Тарас", "Тарасович", "Тарасовна"),
    ("Степан", "Степанович", "Степановна"),
    ("Павло", "Павлович", "Павловна"),
    ("Анатолій", "Анатольевич", "Анатольевна"),
    ("Олексій", "Алексеевич", "Алексеевна"),
    ("Яків", "Яковлевич", "Яковлевна"),
    ("Григорій", "Григорьевич", "Григорьевна"),
    ("Данило", "Данилович", "Даниловна"),
    ("Микита", "Никитич", "Никитична"),
];

/// Surnames: Ukrainian (masculine) form, Russian spelling (masculine). Those ending in -ий/-ій
/// change with sex; the rest (-енко, -ук, -чук, -ник, ...) do not.
const SURNAMES: &[(&str, &str)] = &[
    ("Шевченко", "Шевченко"),
    ("Бондаренко", "Бондаренко"),
    ("Коваленко", "Коваленко"),
    ("Ткаченко", "Ткаченко"),
    ("Кравченко", "Кравченко"),
    ("Олійник", "Олейник"),
    ("Мельник", "Мельник"),
    ("Шевчук", "Шевчук"),
    ("Поліщук", "Полищук"),
    ("Бондарчук", "Бондарчук"),
    ("Ковальчук", "Ковальчук"),
    ("Савчук", "Савчук"),
    ("Лисенко", "Лысенко"),
    ("Марченко", "Марченко"),
    ("Руденко", "Руденко"),
    ("Мороз", "Мороз"),
    ("Коваль", "Коваль"),
    ("Бойко", "Бойко"),
    ("Ткачук", "Ткачук"),
    ("Кравчук", "Кравчук"),
    ("Гончаренко", "Гончаренко"),
    ("Павленко", "Павленко"),
    ("Левченко", "Левченко"),
    ("Савченко", "Савченко"),
    ("Клименко", "Клименко"),
    ("Романюк", "Романюк"),
    ("Кушнір", "Кушнир"),
    ("Гнатюк", "Гнатюк"),
    ("Яковенко", "Яковенко"),
    ("Литвиненко", "Литвиненко"),
    ("Ковальський", "Ковальский"),
    ("Левицький", "Левицкий"),
    ("Вишневський", "Вишневский"),
    ("Білий", "Белый"),
    ("Чорний", "Черный"),
    ("Гладкий", "Гладкий"),
    ("Сірий", "Серый"),
];

/// Oblasts: Ukrainian, Russian.
const REGIONS: &[(&str, &str)] = &[
    ("Донецька", "Донецкая"),
    ("Луганська", "Луганская"),
    ("Запорізька", "Запорожская"),
    ("Херсонська", "Херсонская"),
    ("Харківська", "Харьковская"),
    ("Миколаївська", "Николаевская"),
];

/// Towns: Ukrainian, Russian, index into `REGIONS`.
const TOWNS: &[(&str, &str, usize)] = &[
    ("Маріуполь", "Мариуполь", 0),
    ("Волноваха", "Волноваха", 0),
    ("Бахмут", "Бахмут", 0),
    ("Краматорськ", "Краматорск", 0),
    ("Покровськ", "Покровск", 0),
    ("Сєвєродонецьк", "Северодонецк", 1),
    ("Лисичанськ", "Лисичанск", 1),
    ("Рубіжне", "Рубежное", 1),
    ("Старобільськ", "Старобельск", 1),
    ("Мелітополь", "Мелитополь", 2),
    ("Бердянськ", "Бердянск", 2),
    ("Енергодар", "Энергодар", 2),
    ("Токмак", "Токмак", 2),
    ("Василівка", "Васильевка", 2),
    ("Херсон", "Херсон", 3),
    ("Нова Каховка", "Новая Каховка", 3),
    ("Олешки", "Алешки", 3),
    ("Скадовськ", "Скадовск", 3),
    ("Генічеськ", "Геническ", 3),
    ("Ізюм", "Изюм", 4),
    ("Куп'янськ", "Купянск", 4),
    ("Балаклія", "Балаклея", 4),
    ("Снігурівка", "Снигирёвка", 5),
];

/// Where custody records say children are held: regions on the custody side (Russian).
const CUSTODY_REGIONS: &[(&str, &str)] = &[
    ("Ростовская область", "Rostov Oblast"),
    ("Краснодарский край", "Krasnodar Krai"),
    ("Московская область", "Moscow Oblast"),
    ("Курская область", "Kursk Oblast"),
    ("Белгородская область", "Belgorod Oblast"),
    ("Воронежская область", "Voronezh Oblast"),
    ("Республика Крым", "Crimea"),
];

/// How a family describes the separation (Ukrainian), `{town}` replaced by the town.
const CIRCUMSTANCES_UK: &[&str] = &[
    "Вивезений разом з вихованцями дитячого закладу м. {town} під час окупації",
    "Дитину відправили до «оздоровчого табору», після чого зв'язок з нею втрачено",
    "Розлучений з матір'ю під час проходження фільтрації",
    "Залишився з бабусею на окупованій території, зв'язок втрачено",
    "Евакуйований разом зі школою-інтернатом, місце перебування невідоме",
    "Вивезений після загибелі батьків під час обстрілу м. {town}",
    "Перебував у лікарні м. {town}, звідки дітей вивезли у невідомому напрямку",
    "Зник під час евакуації з м. {town}",
];

/// How the custody side records the same events (Russian).
const CIRCUMSTANCES_RU: &[&str] = &[
    "Эвакуирован из зоны боевых действий вместе с воспитанниками учреждения г. {town}",
    "Доставлен из социального учреждения г. {town}",
    "Остался без попечения родителей, поступил из г. {town}",
    "Направлен на оздоровление, родители на связь не выходили",
    "Поступил из медицинского учреждения г. {town}",
];

/// Features a family mentions (Ukrainian) — invented, never about a real child.
const FAMILY_NOTES: &[&str] = &[
    "Родимка на лівому плечі",
    "Носить окуляри",
    "Шрам над правою бровою",
    "Алергія на пеніцилін",
    "Має молодшого брата, місце перебування якого також невідоме",
    "Добре малює, любить футбол",
];

const CUSTODY_NOTES: &[&str] = &[
    "Документы: копия свидетельства о рождении",
    "Документов нет, данные со слов ребёнка",
    "Требуется консультация психолога",
    "Состоит на учёте у педиатра",
];

/// An invented child, before either side writes it down.
#[derive(Clone, Debug)]
struct Child {
    female: bool,
    /// Index into `BOYS` or `GIRLS`.
    given: usize,
    father: usize,
    surname: usize,
    birth: NaiveDate,
    town: usize,
    separation: NaiveDate,
}

/// A seeded generator of synthetic child records. The same seed always yields the same records.
#[derive(Debug)]
pub struct Synthetic {
    rng: StdRng,
    tracing_seq: u64,
    custody_seq: u64,
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

impl Synthetic {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            tracing_seq: 0,
            custody_seq: 0,
        }
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.rng.gen_range(0..xs.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p)
    }

    fn day_between(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        let span = (to - from).num_days().max(0);
        from + Duration::days(self.rng.gen_range(0..=span))
    }

    fn child(&mut self) -> Child {
        let female = self.chance(0.5);
        let given = self
            .rng
            .gen_range(0..if female { GIRLS.len() } else { BOYS.len() });
        let birth = self.day_between(date(2006, 1, 1), date(2022, 12, 31));
        // Separated from the full-scale invasion on, and never before birth.
        let earliest = birth.succ_opt().unwrap_or(birth).max(date(2022, 2, 24));
        let separation = self.day_between(earliest, date(2024, 12, 31));
        Child {
            female,
            given,
            father: self.rng.gen_range(0..FATHERS.len()),
            surname: self.rng.gen_range(0..SURNAMES.len()),
            birth,
            town: self.rng.gen_range(0..TOWNS.len()),
            separation,
        }
    }

    fn next_ref(&mut self, kind: RecordKind) -> String {
        match kind {
            RecordKind::TracingRequest => {
                self.tracing_seq += 1;
                format!("SYN-TR-{:06}", self.tracing_seq)
            }
            RecordKind::CustodyRecord => {
                self.custody_seq += 1;
                format!("SYN-CR-{:06}", self.custody_seq)
            }
        }
    }

    /// A birth date as a family gives it: usually exact, sometimes only the year or month.
    fn family_birth_date(&mut self, d: NaiveDate) -> String {
        match self.rng.gen_range(0..100) {
            0..=49 => d.format("%Y-%m-%d").to_string(),
            50..=74 => d.format("%d.%m.%Y").to_string(),
            75..=84 => d.format("%Y-%m").to_string(),
            85..=94 => d.year().to_string(),
            _ => format!("близько {}", d.year()),
        }
    }

    /// A birth date as an institution records it: often estimated, sometimes with day and month
    /// swapped by whoever typed it.
    fn custody_birth_date(&mut self, d: NaiveDate) -> String {
        match self.rng.gen_range(0..100) {
            0..=54 => d.format("%d.%m.%Y").to_string(),
            55..=59 if d.day() <= 12 && d.day() != d.month() => {
                format!("{:02}.{:02}.{}", d.month(), d.day(), d.year())
            }
            55..=69 => d.format("%m.%Y").to_string(),
            70..=84 => d.year().to_string(),
            // An estimated age: the year or the one before, never later (it must not pass the
            // separation date).
            _ => format!("около {}", d.year() - i32::from(self.chance(0.3))),
        }
    }

    fn separation_date(&mut self, d: NaiveDate) -> String {
        match self.rng.gen_range(0..10) {
            0..=6 => d.format("%d.%m.%Y").to_string(),
            7 | 8 => d.format("%Y-%m").to_string(),
            _ => d.year().to_string(),
        }
    }

    fn ukrainian_name(&mut self, c: &Child) -> NameInput {
        let given = if c.female {
            GIRLS[c.given].0
        } else {
            BOYS[c.given].0
        };
        let family = surname_uk(SURNAMES[c.surname].0, c.female);
        let patronymic = self
            .chance(0.85)
            .then(|| patronymic_uk(FATHERS[c.father].0, c.female));
        let as_written = self.chance(0.3).then(|| {
            // Official Ukrainian lists: SURNAME Given Patronymic.
            let mut s = format!("{} {given}", family.to_uppercase());
            if let Some(p) = &patronymic {
                s.push(' ');
                s.push_str(p);
            }
            s
        });
        NameInput {
            given: Some(given.to_owned()),
            patronymic,
            family: Some(family),
            script: Some("uk-Cyrl".to_owned()),
            as_written,
        }
    }

    fn russian_name(&mut self, c: &Child) -> NameInput {
        let given = if c.female {
            GIRLS[c.given].1
        } else {
            BOYS[c.given].1
        };
        let family = surname_ru(SURNAMES[c.surname].1, c.female);
        let (_, son, daughter) = FATHERS[c.father];
        let patronymic = self
            .chance(0.9)
            .then(|| if c.female { daughter } else { son }.to_owned());
        let as_written = self.chance(0.4).then(|| {
            [Some(family.as_str()), Some(given), patronymic.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ")
        });
        NameInput {
            given: Some(given.to_owned()),
            patronymic,
            family: Some(family),
            script: Some("ru-Cyrl".to_owned()),
            as_written,
        }
    }

    /// The Latin spelling a Ukrainian passport gives (no patronymic in passports).
    fn passport_name(c: &Child) -> NameInput {
        let given = if c.female {
            GIRLS[c.given].0
        } else {
            BOYS[c.given].0
        };
        let family = surname_uk(SURNAMES[c.surname].0, c.female);
        NameInput {
            given: Some(transliterate_uk(given)),
            patronymic: None,
            family: Some(transliterate_uk(&family)),
            script: Some("Latn".to_owned()),
            as_written: Some(format!(
                "{} {}",
                transliterate_uk(&family).to_uppercase(),
                transliterate_uk(given)
            )),
        }
    }

    fn sex_word(&mut self, c: &Child, custody: bool) -> String {
        let words: &[&str] = match (c.female, custody) {
            (true, false) => &["ж", "жін.", "female", "F"],
            (false, false) => &["ч", "чол.", "male", "M"],
            (true, true) => &["ж", "жен", "female"],
            (false, true) => &["м", "муж", "male"],
        };
        self.pick(words).to_owned()
    }

    fn render_tracing(&mut self, c: &Child) -> ChildRecordInput {
        let (town, _, region) = TOWNS[c.town];
        let mut names = vec![self.ukrainian_name(c)];
        if self.chance(0.1) {
            names.push(Self::passport_name(c));
        }
        let (enquirer_name, relationship) = self.enquirer(c);
        let contact = match self.rng.gen_range(0..10) {
            0..=5 => Some(format!(
                "enquirer.{:06}@example.org",
                self.rng.gen_range(0..1_000_000)
            )),
            6..=7 => Some(format!(
                "через службу у справах дітей, {} обл.",
                REGIONS[region].0
            )),
            _ => None,
        };
        ChildRecordInput {
            external_ref: Some(self.next_ref(RecordKind::TracingRequest)),
            names,
            sex: Some(self.sex_word(c, false)),
            birth_date: Some(self.family_birth_date(c.birth)),
            birth_place: Some(if self.chance(0.7) {
                format!("м. {town}, {} обл.", REGIONS[region].0)
            } else {
                town.to_owned()
            }),
            separation_date: self.chance(0.9).then(|| self.separation_date(c.separation)),
            separation_circumstances: Some(self.pick(CIRCUMSTANCES_UK).replace("{town}", town)),
            last_known_location: Some(format!("м. {town}")),
            current_location: None,
            current_carer: None,
            enquirer_name: Some(enquirer_name),
            enquirer_relationship: Some(relationship),
            enquirer_contact: contact,
            notes: self
                .chance(0.25)
                .then(|| self.pick(FAMILY_NOTES).to_owned()),
        }
    }

    /// Who is looking for the child, and how they are related, in Ukrainian or English.
    fn enquirer(&mut self, c: &Child) -> (String, String) {
        let family_f = surname_uk(SURNAMES[c.surname].0, true);
        let family_m = surname_uk(SURNAMES[c.surname].0, false);
        let mother_patronymic = patronymic_uk(self.pick(FATHERS).0, true);
        let (name, uk, en) = match self.rng.gen_range(0..100) {
            0..=39 => {
                let given = self.pick(GIRLS).0;
                (
                    format!("{family_f} {given} {mother_patronymic}"),
                    "мати",
                    "mother",
                )
            }
            40..=54 => {
                let grandfather = self.pick(FATHERS).0;
                let father = FATHERS[c.father].0;
                (
                    format!("{family_m} {father} {}", patronymic_uk(grandfather, false)),
                    "батько",
                    "father",
                )
            }
            55..=79 => {
                let given = self.pick(WOMEN);
                (
                    format!("{family_f} {given} {mother_patronymic}"),
                    "бабуся",
                    "grandmother",
                )
            }
            80..=89 => {
                let other = surname_uk(self.pick(SURNAMES).0, true);
                let given = self.pick(WOMEN);
                (
                    format!("{other} {given} {mother_patronymic}"),
                    "тітка",
                    "aunt",
                )
            }
            _ => {
                let other = surname_uk(self.pick(SURNAMES).0, self.chance(0.7));
                let given = self.pick(WOMEN);
                (
                    format!("{other} {given} {mother_patronymic}"),
                    "законний представник",
                    "legal guardian",
                )
            }
        };
        (name, if self.chance(0.5) { uk } else { en }.to_owned())
    }

    fn render_custody(&mut self, c: &Child) -> ChildRecordInput {
        let (_, town_ru, region) = TOWNS[c.town];
        let mut names = vec![if self.chance(0.5) {
            self.russian_name(c)
        } else {
            self.ukrainian_name(c)
        }];
        if self.chance(0.3) {
            names.push(Self::passport_name(c));
        }
        let (region_ru, region_en) = self.pick(CUSTODY_REGIONS);
        let n = self.rng.gen_range(1..=30);
        let (location, carer) = match self.rng.gen_range(0..100) {
            0..=39 => (
                format!("Детский дом № {n}, {region_ru}"),
                "Директор учреждения".to_owned(),
            ),
            40..=54 => (
                format!(
                    "Социально-реабилитационный центр для несовершеннолетних № {n}, {region_ru}"
                ),
                "Директор учреждения".to_owned(),
            ),
            55..=64 => (
                format!("Children's home No. {n}, {region_en}"),
                "Institution director".to_owned(),
            ),
            65..=74 => (
                format!("Кадетская школа-интернат № {n}, {region_ru}"),
                "Директор учреждения".to_owned(),
            ),
            _ => {
                let (carer_given, _) = self.pick(GIRLS);
                let carer = surname_ru(self.pick(SURNAMES).1, true);
                (
                    format!("Приёмная семья, {region_ru}"),
                    format!("Приёмная мать: {carer} {carer_given}"),
                )
            }
        };
        ChildRecordInput {
            external_ref: Some(self.next_ref(RecordKind::CustodyRecord)),
            names,
            sex: Some(self.sex_word(c, true)),
            birth_date: self.chance(0.95).then(|| self.custody_birth_date(c.birth)),
            birth_place: self.chance(0.7).then(|| {
                if self.chance(0.5) {
                    format!("г. {town_ru}")
                } else {
                    format!("{town_ru}, {} обл.", REGIONS[region].1)
                }
            }),
            separation_date: self.chance(0.6).then(|| self.separation_date(c.separation)),
            separation_circumstances: self
                .chance(0.8)
                .then(|| self.pick(CIRCUMSTANCES_RU).replace("{town}", town_ru)),
            last_known_location: self.chance(0.5).then(|| format!("г. {town_ru}")),
            current_location: Some(location),
            current_carer: Some(carer),
            enquirer_name: None,
            enquirer_relationship: None,
            enquirer_contact: None,
            notes: self
                .chance(0.2)
                .then(|| self.pick(CUSTODY_NOTES).to_owned()),
        }
    }

    /// A child sought by its family, as the origin side files it.
    pub fn tracing_request(&mut self) -> ChildRecordInput {
        let c = self.child();
        self.render_tracing(&c)
    }

    /// A child in custody, as the custody side files it.
    pub fn custody_record(&mut self) -> ChildRecordInput {
        let c = self.child();
        self.render_custody(&c)
    }

    /// The same child as each side writes it down: (tracing request, custody record).
    pub fn matched_pair(&mut self) -> (ChildRecordInput, ChildRecordInput) {
        let c = self.child();
        (self.render_tracing(&c), self.render_custody(&c))
    }

    /// The columns written for a kind of record: every field of the kind, named so that the
    /// import recognises them without any `--column`.
    pub fn csv_columns(kind: RecordKind) -> Vec<&'static str> {
        const SHARED: [&str; 17] = [
            "external_ref",
            "family_name",
            "given_name",
            "patronymic",
            "full_name",
            "name_script",
            "alt_family_name",
            "alt_given_name",
            "alt_patronymic",
            "alt_full_name",
            "alt_script",
            "sex",
            "birth_date",
            "birth_place",
            "separation_date",
            "separation_circumstances",
            "last_known_location",
        ];
        let own: &[&str] = match kind {
            RecordKind::TracingRequest => {
                &["enquirer_name", "enquirer_relationship", "enquirer_contact"]
            }
            RecordKind::CustodyRecord => &["current_location", "current_carer"],
        };
        SHARED
            .iter()
            .chain(own)
            .chain(&["notes"])
            .copied()
            .collect()
    }

    /// Writes records as CSV (comma-separated, UTF-8, no byte-order mark). Two name entries fit
    /// the columns; further ones are left out (the generator never makes more than two).
    pub fn write_csv(rows: &[ChildRecordInput], kind: RecordKind, w: impl Write) -> io::Result<()> {
        let mut out = csv::Writer::from_writer(w);
        let columns = Self::csv_columns(kind);
        out.write_record(&columns).map_err(io::Error::other)?;
        let mut cells: Vec<std::borrow::Cow<'_, str>> = Vec::with_capacity(columns.len());
        for r in rows {
            cells.clear();
            let name = |i: usize| r.names.get(i);
            for c in &columns {
                let v: Option<&String> = match *c {
                    "external_ref" => r.external_ref.as_ref(),
                    "family_name" => name(0).and_then(|n| n.family.as_ref()),
                    "given_name" => name(0).and_then(|n| n.given.as_ref()),
                    "patronymic" => name(0).and_then(|n| n.patronymic.as_ref()),
                    "full_name" => name(0).and_then(|n| n.as_written.as_ref()),
                    "name_script" => name(0).and_then(|n| n.script.as_ref()),
                    "alt_family_name" => name(1).and_then(|n| n.family.as_ref()),
                    "alt_given_name" => name(1).and_then(|n| n.given.as_ref()),
                    "alt_patronymic" => name(1).and_then(|n| n.patronymic.as_ref()),
                    "alt_full_name" => name(1).and_then(|n| n.as_written.as_ref()),
                    "alt_script" => name(1).and_then(|n| n.script.as_ref()),
                    "sex" => r.sex.as_ref(),
                    "birth_date" => r.birth_date.as_ref(),
                    "birth_place" => r.birth_place.as_ref(),
                    "separation_date" => r.separation_date.as_ref(),
                    "separation_circumstances" => r.separation_circumstances.as_ref(),
                    "last_known_location" => r.last_known_location.as_ref(),
                    "current_location" => r.current_location.as_ref(),
                    "current_carer" => r.current_carer.as_ref(),
                    "enquirer_name" => r.enquirer_name.as_ref(),
                    "enquirer_relationship" => r.enquirer_relationship.as_ref(),
                    "enquirer_contact" => r.enquirer_contact.as_ref(),
                    "notes" => r.notes.as_ref(),
                    _ => None,
                };
                cells.push(homeward_domain::csv_cell::neutralise(
                    v.map_or("", String::as_str),
                ));
            }
            out.write_record(cells.iter().map(|c| c.as_bytes()))
                .map_err(io::Error::other)?;
        }
        out.flush()
    }
}

/// The feminine form of a Ukrainian surname: adjectival ones (-ий, -ій) change, the rest do not.
fn surname_uk(masculine: &str, female: bool) -> String {
    match masculine
        .strip_suffix("ий")
        .or_else(|| masculine.strip_suffix("ій"))
    {
        Some(stem) if female => format!("{stem}а"),
        _ => masculine.to_owned(),
    }
}

/// The feminine form of a Russian surname spelling (-ий, -ый → -ая).
fn surname_ru(masculine: &str, female: bool) -> String {
    match masculine
        .strip_suffix("ий")
        .or_else(|| masculine.strip_suffix("ый"))
    {
        Some(stem) if female => format!("{stem}ая"),
        _ => masculine.to_owned(),
    }
}

/// A Ukrainian patronymic from the father's name: -ович for a son; -івна, or -ївна after a
/// vowel, for a daughter (Андрій → Андрійович, Андріївна; Дмитро → Дмитрович, Дмитрівна;
/// Василь → Васильович, Василівна).
pub fn patronymic_uk(father: &str, female: bool) -> String {
    let irregular: &[(&str, &str, &str)] = &[
        ("Микола", "Миколайович", "Миколаївна"),
        ("Яків", "Якович", "Яківна"),
        ("Григорій", "Григорович", "Григорівна"),
        ("Ілля", "Ілліч", "Іллівна"),
        ("Лука", "Лукич", "Луківна"),
        ("Лев", "Львович", "Львівна"),
        ("Микита", "Микитович", "Микитівна"),
    ];
    if let Some((_, son, daughter)) = irregular.iter().find(|(f, _, _)| *f == father) {
        return if female { daughter } else { son }.to_string();
    }
    if let Some(stem) = father.strip_suffix('й') {
        // Андрій, Сергій, Олексій: the й stays before -ович and merges into -ївна.
        return if female {
            format!("{stem}ївна")
        } else {
            format!("{father}ович")
        };
    }
    if let Some(stem) = father.strip_suffix('ь') {
        return if female {
            format!("{stem}івна")
        } else {
            format!("{stem}ьович")
        };
    }
    let stem = father.strip_suffix(['о', 'а']).unwrap_or(father);
    if female {
        format!("{stem}івна")
    } else {
        format!("{stem}ович")
    }
}

/// Ukrainian to Latin by the official passport transliteration (Cabinet of Ministers resolution
/// No. 55 of 2010), as the linkage engine's tables write it.
pub fn transliterate_uk(s: &str) -> String {
    homeward_linkage::transliterate(s, homeward_linkage::Standard::Kmu2010)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{ImportOptions, parse_csv};
    use chrono::Utc;

    #[test]
    fn the_same_seed_gives_the_same_records() {
        let run = |seed| {
            let mut g = Synthetic::new(seed);
            (0..50)
                .map(|_| (g.tracing_request(), g.custody_record(), g.matched_pair()))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn every_record_is_valid_for_its_kind() {
        let today = Utc::now().date_naive();
        let mut g = Synthetic::new(42);
        for _ in 0..2_000 {
            let t = g.tracing_request();
            t.parse(RecordKind::TracingRequest, today)
                .unwrap_or_else(|e| panic!("{e}: {t:?}"));
            let c = g.custody_record();
            c.parse(RecordKind::CustodyRecord, today)
                .unwrap_or_else(|e| panic!("{e}: {c:?}"));
            let (t, c) = g.matched_pair();
            let t = t.parse(RecordKind::TracingRequest, today).unwrap();
            let c = c.parse(RecordKind::CustodyRecord, today).unwrap();
            assert_eq!(t.sex, c.sex);
        }
    }

    #[test]
    fn custody_records_use_russian_forms_and_passport_spellings_part_of_the_time() {
        let mut g = Synthetic::new(3);
        let records: Vec<_> = (0..500).map(|_| g.custody_record()).collect();
        let scripts = |code: &str| {
            records
                .iter()
                .filter(|r| r.names.iter().any(|n| n.script.as_deref() == Some(code)))
                .count()
        };
        let (ru, uk, latn) = (scripts("ru-Cyrl"), scripts("uk-Cyrl"), scripts("Latn"));
        assert!(
            ru > 150 && uk > 150 && latn > 80,
            "ru {ru}, uk {uk}, Latn {latn}"
        );
    }

    #[test]
    fn csv_round_trips_through_the_import_parser() {
        let today = Utc::now().date_naive();
        for kind in [RecordKind::TracingRequest, RecordKind::CustodyRecord] {
            let mut g = Synthetic::new(11);
            let rows: Vec<_> = (0..1_000)
                .map(|_| match kind {
                    RecordKind::TracingRequest => g.tracing_request(),
                    RecordKind::CustodyRecord => g.custody_record(),
                })
                .collect();
            let mut bytes = Vec::new();
            Synthetic::write_csv(&rows, kind, &mut bytes).unwrap();
            let parsed = parse_csv(&bytes, kind, today, &ImportOptions::default()).unwrap();
            assert!(
                parsed.bad.is_empty(),
                "{:?}",
                &parsed.bad[..parsed.bad.len().min(3)]
            );
            assert_eq!(parsed.good.len(), rows.len());
            for ((line, draft), input) in parsed.good.iter().zip(&rows) {
                assert_eq!(draft, &input.parse(kind, today).unwrap(), "line {line}");
            }
        }
    }

    #[test]
    fn patronymics_take_the_ukrainian_endings() {
        for (father, son, daughter) in [
            ("Андрій", "Андрійович", "Андріївна"),
            ("Сергій", "Сергійович", "Сергіївна"),
            ("Дмитро", "Дмитрович", "Дмитрівна"),
            ("Михайло", "Михайлович", "Михайлівна"),
            ("Василь", "Васильович", "Василівна"),
            ("Олександр", "Олександрович", "Олександрівна"),
            ("Ігор", "Ігорович", "Ігорівна"),
            ("Микола", "Миколайович", "Миколаївна"),
            ("Яків", "Якович", "Яківна"),
        ] {
            assert_eq!(patronymic_uk(father, false), son);
            assert_eq!(patronymic_uk(father, true), daughter);
        }
    }

    #[test]
    fn surnames_agree_with_sex() {
        assert_eq!(surname_uk("Ковальський", true), "Ковальська");
        assert_eq!(surname_uk("Білий", true), "Біла");
        assert_eq!(surname_uk("Шевченко", true), "Шевченко");
        assert_eq!(surname_uk("Олійник", true), "Олійник");
        assert_eq!(surname_ru("Белый", true), "Белая");
        assert_eq!(surname_ru("Левицкий", true), "Левицкая");
    }

    #[test]
    fn passport_transliteration() {
        for (uk, lat) in [
            ("Олександр", "Oleksandr"),
            ("Олійник", "Oliinyk"),
            ("Євген", "Yevhen"),
            ("Юлія", "Yuliia"),
            ("Ярослав", "Yaroslav"),
            ("Згурський", "Zghurskyi"),
            ("Куп'янськ", "Kupiansk"),
            ("Соломія", "Solomiia"),
            ("ЩУКА", "SHCHUKA"),
        ] {
            assert_eq!(transliterate_uk(uk), lat, "{uk}");
        }
    }
}
