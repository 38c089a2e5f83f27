//! A seeded generator of two lists of children to link, with the truth kept for scoring.
//!
//! A "true" population of families is drawn first (children 2006–2022, siblings sharing surname,
//! father and usually birthplace; some twins sharing the birth date too). The left list is the
//! origin side's tracing requests, written from Ukrainian paperwork; the right list is the custody
//! side's records of the same and of other children, written by Russian clerks, with the variations
//! of [`Rates`]. The same seed gives the same lists on every machine (own PRNG, no platform floats in
//! the draws that matter).

use super::tables::{
    self, COMMON_SURNAMES, FATHERS, GIVEN, OtherLatin, PLACES, RU_ADOPTIVE_SURNAMES, RU_TOWNS,
    RuLatin, SURNAME_STEMS, SURNAME_SUFFIXES,
};

/// SplitMix64: tiny, fast, and the same sequence forever, which a benchmark's seed promises.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x6a09_e667_f3bc_c908)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
    /// True with probability `permille`/1000 (integers keep the draws exact).
    pub fn permille(&mut self, permille: u32) -> bool {
        self.below(1000) < permille as usize
    }
    /// An index drawn with weight 1/(i+1)^0.8 over `n` items: a few common values, a long tail.
    pub fn zipf(&mut self, cdf: &[f64]) -> usize {
        let x = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
            * cdf.last().copied().unwrap_or(1.0);
        cdf.partition_point(|&c| c < x)
            .min(cdf.len().saturating_sub(1))
    }
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

fn zipf_cdf(n: usize, s: f64) -> Vec<f64> {
    let mut acc = 0.0;
    (0..n)
        .map(|i| {
            acc += 1.0 / ((i + 1) as f64).powf(s);
            acc
        })
        .collect()
}

/// Rates of each variation, in permille of records. Chosen from what is known of the paperwork on
/// each side (see docs/benchmarks.md for the reasoning); one place to change them.
#[derive(Debug, Clone)]
pub struct Rates {
    /// Share of left children that are also on the right (the rest were not found).
    pub overlap: u32,
    pub left_latin: u32,
    pub left_typo: u32,
    pub left_missing_patronymic: u32,
    pub left_missing_place: u32,
    pub left_missing_sex: u32,
    pub left_year_month: u32,
    pub left_year_only: u32,
    pub left_old_place: u32,
    /// Of right records: Latin script (the rest Russian Cyrillic, or Ukrainian Cyrillic copied).
    pub right_latin: u32,
    pub right_ukrainian: u32,
    /// In Russian Cyrillic: the Russian given-name form rather than the Ukrainian one respelled.
    pub right_ru_given: u32,
    pub right_ru_patronymic: u32,
    /// Ukrainian и written as Russian ы (as heard: Лисенко → Лысенко) rather than as и.
    pub right_surname_by_ear: u32,
    /// In Latin: the English form of the given name.
    pub right_english_given: u32,
    pub right_typo: u32,
    pub right_missing_patronymic: u32,
    pub right_missing_place: u32,
    pub right_missing_sex: u32,
    pub right_missing_date: u32,
    pub right_year_only: u32,
    pub right_year_month: u32,
    pub right_day_month_swap: u32,
    pub right_digit_error: u32,
    /// Birth date 1–3 days off (registered the next day, misremembered), either way.
    pub right_few_days: u32,
    /// Birth year one off, day and month kept (age counted on the wrong side of a birthday).
    pub right_year_off: u32,
    /// For a renamed town: the former (Soviet) name.
    pub right_old_place: u32,
    pub adoption: u32,
    /// Of adoptions: a new given name too; a Russian town as birthplace.
    pub adoption_new_given: u32,
    pub adoption_new_place: u32,
    /// Families with more than one child that have twins.
    pub twins: u32,
    /// Added for issue 13 (each drawn only when above 0, so that with them at 0 the lists are
    /// the ones the generator gave before): of left Latin records, informal English spelling
    /// instead of KMU 2010.
    pub left_informal_latin: u32,
    /// Left record without a birth date (a relative's request without documents).
    pub left_missing_date: u32,
    /// Of right Latin records: one of [`OtherLatin`]'s schemes instead of ICAO / BGN / GOST B.
    pub right_other_latin: u32,
    /// In Cyrillic right records: the surname in capitals (the Russian form habit).
    pub right_upper_surname: u32,
    /// On either side, a date written by hand rather than typed in a date column: a month by
    /// name (12 березня 2013 р., 12 марта 2013 г., 12 March 2013), a two-digit year, hyphens; a
    /// year alone marked as a year of birth (2013 р.н., 2013 г.р.).
    pub hand_written_date: u32,
}

impl Default for Rates {
    fn default() -> Self {
        Rates {
            overlap: 700,
            left_latin: 150,
            left_typo: 20,
            left_missing_patronymic: 60,
            left_missing_place: 100,
            left_missing_sex: 30,
            left_year_month: 20,
            left_year_only: 10,
            left_old_place: 100,
            right_latin: 200,
            right_ukrainian: 100,
            right_ru_given: 800,
            right_ru_patronymic: 850,
            right_surname_by_ear: 300,
            right_english_given: 300,
            right_typo: 80,
            right_missing_patronymic: 150,
            right_missing_place: 200,
            right_missing_sex: 100,
            right_missing_date: 20,
            right_year_only: 40,
            right_year_month: 40,
            right_day_month_swap: 40,
            right_digit_error: 40,
            right_few_days: 30,
            right_year_off: 20,
            right_old_place: 500,
            adoption: 30,
            adoption_new_given: 300,
            adoption_new_place: 300,
            twins: 60,
            left_informal_latin: 300,
            left_missing_date: 10,
            right_other_latin: 350,
            right_upper_surname: 100,
            hand_written_date: 50,
        }
    }
}

/// One child of the true population.
#[derive(Debug, Clone)]
struct Child {
    given: u16,
    father: u16,
    /// Ukrainian surname in the child's gender.
    surname: String,
    male: bool,
    year: i16,
    month: u8,
    day: u8,
    place: u16,
}

/// A record as one side wrote it. Empty strings are missing values.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub id: String,
    pub given_name: String,
    pub patronymic: String,
    pub family_name: String,
    pub sex: String,
    pub birth_date: String,
    pub birth_place: String,
    /// Which variations were applied (for the diagnostics of missed and false pairs).
    pub notes: Vec<&'static str>,
}

/// The two lists and which pairs are the same child (indices into `left`, `right`).
#[derive(Debug)]
pub struct Lists {
    pub left: Vec<Record>,
    pub right: Vec<Record>,
    pub truth: Vec<(u32, u32)>,
}

pub const COLUMNS: [&str; 7] = [
    "id",
    "given_name",
    "patronymic",
    "family_name",
    "sex",
    "birth_date",
    "birth_place",
];

impl Record {
    pub fn values(&self) -> [&str; 7] {
        [
            &self.id,
            &self.given_name,
            &self.patronymic,
            &self.family_name,
            &self.sex,
            &self.birth_date,
            &self.birth_place,
        ]
    }
}

struct Population {
    children: Vec<Child>,
}

fn days_in(year: i16, month: u8) -> u8 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn family_surname(rng: &mut Rng, common_cdf: &[f64], stem_cdf: &[f64]) -> (String, String) {
    if rng.permille(60) {
        let (m, f) = COMMON_SURNAMES[rng.zipf(common_cdf)];
        return (m.to_string(), f.to_string());
    }
    let stem = SURNAME_STEMS[rng.zipf(stem_cdf)];
    let (sm, sf) = SURNAME_SUFFIXES[rng.below(SURNAME_SUFFIXES.len())];
    // A soft sign does not stand before a vowel ending (Коваль + енко = Коваленко).
    let join = |suffix: &str| {
        let starts_vowel = suffix.starts_with(['а', 'е', 'и', 'і', 'о', 'у', 'ю']);
        match stem.strip_suffix('ь') {
            Some(s) if starts_vowel => format!("{s}{suffix}"),
            _ => format!("{stem}{suffix}"),
        }
    };
    (join(sm), join(sf))
}

impl Population {
    fn generate(rng: &mut Rng, n: usize, rates: &Rates) -> Population {
        let given_male: Vec<u16> = (0..GIVEN.len() as u16)
            .filter(|&i| GIVEN[i as usize].male)
            .collect();
        let given_female: Vec<u16> = (0..GIVEN.len() as u16)
            .filter(|&i| !GIVEN[i as usize].male)
            .collect();
        let male_cdf = zipf_cdf(given_male.len(), 0.8);
        let female_cdf = zipf_cdf(given_female.len(), 0.8);
        let father_cdf = zipf_cdf(FATHERS.len(), 0.7);
        let common_cdf = zipf_cdf(COMMON_SURNAMES.len(), 0.5);
        let stem_cdf = zipf_cdf(SURNAME_STEMS.len(), 0.5);
        let mut place_cdf = Vec::with_capacity(PLACES.len());
        let mut acc = 0.0;
        for p in PLACES {
            acc += f64::from(p.weight);
            place_cdf.push(acc);
        }
        let mut children = Vec::with_capacity(n + 4);
        while children.len() < n {
            let size = match rng.below(100) {
                0..55 => 1,
                55..85 => 2,
                85..96 => 3,
                _ => 4,
            };
            let (surname_m, surname_f) = family_surname(rng, &common_cdf, &stem_cdf);
            let father = rng.zipf(&father_cdf) as u16;
            let home = rng.zipf(&place_cdf) as u16;
            let twins_at = (size > 1 && rng.permille(rates.twins)).then(|| 1 + rng.below(size - 1));
            let mut year = 2006 + rng.below(17) as i16;
            let mut taken: Vec<u16> = Vec::new();
            let mut last: Option<(i16, u8, u8)> = None;
            for k in 0..size {
                let male = rng.permille(510);
                let (pool, cdf) = if male {
                    (&given_male, &male_cdf)
                } else {
                    (&given_female, &female_cdf)
                };
                // Parents do not give two children the same name.
                let mut given = pool[rng.zipf(cdf)];
                for _ in 0..20 {
                    if !taken.contains(&given) {
                        break;
                    }
                    given = pool[rng.zipf(cdf)];
                }
                taken.push(given);
                let (y, m, d) = match (twins_at, last) {
                    (Some(t), Some(prev)) if t == k => prev,
                    _ => {
                        if k > 0 {
                            year = (year + 1 + rng.below(5) as i16).min(2022);
                        }
                        let m = 1 + rng.below(12) as u8;
                        (year, m, 1 + rng.below(usize::from(days_in(year, m))) as u8)
                    }
                };
                last = Some((y, m, d));
                let place = if k == 0 || rng.permille(850) {
                    home
                } else {
                    rng.zipf(&place_cdf) as u16
                };
                children.push(Child {
                    given,
                    father,
                    surname: if male {
                        surname_m.clone()
                    } else {
                        surname_f.clone()
                    },
                    male,
                    year: y,
                    month: m,
                    day: d,
                    place,
                });
            }
        }
        children.truncate(n);
        Population { children }
    }
}

/// Letters a typo can bring in, by script.
const UK_LETTERS: &[char] = &[
    'а', 'о', 'е', 'и', 'і', 'н', 'к', 'р', 'в', 'л', 'с', 'т', 'м', 'д', 'п',
];
const RU_LETTERS: &[char] = &[
    'а', 'о', 'е', 'и', 'ы', 'н', 'к', 'р', 'в', 'л', 'с', 'т', 'м', 'д', 'п',
];
const LATIN_LETTERS: &[char] = &[
    'a', 'o', 'e', 'i', 'y', 'n', 'k', 'r', 'v', 'l', 's', 't', 'm', 'd', 'h',
];

/// One edit (substitution, deletion, insertion or transposition), never on the first letter:
/// the first letter of a name is the one clerks and readers of handwriting get right most.
fn typo(rng: &mut Rng, s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    if c.len() < 3 {
        return s.to_string();
    }
    let pool = if c.iter().any(|x| x.is_ascii_alphabetic()) {
        LATIN_LETTERS
    } else if c.iter().any(|x| "іїєґ".contains(*x)) {
        UK_LETTERS
    } else {
        RU_LETTERS
    };
    let i = 1 + rng.below(c.len() - 1);
    let upper = c.iter().skip(1).all(|x| !x.is_lowercase());
    let mut letter = pool[rng.below(pool.len())];
    if upper {
        letter = letter.to_uppercase().next().unwrap_or(letter);
    }
    match rng.below(4) {
        0 => {
            if c[i] == letter {
                letter = if upper { 'A' } else { 'а' };
                if pool == LATIN_LETTERS && !upper {
                    letter = 'a';
                }
            }
            c[i] = letter;
        }
        1 => {
            c.remove(i);
        }
        2 => c.insert(i, letter),
        _ => {
            if i + 1 < c.len() {
                c.swap(i, i + 1);
            } else {
                c.swap(i - 1, i);
            }
        }
    }
    c.into_iter().collect()
}

/// A Ukrainian given name or patronymic as a Russian clerk copies it letter by letter.
fn respell_given(uk: &str) -> String {
    uk.chars()
        .map(|c| match c {
            'і' => 'и',
            'ї' => 'и',
            'є' => 'е',
            'ґ' => 'г',
            'І' => 'И',
            'Є' => 'Е',
            _ => c,
        })
        .collect()
}

fn upper(s: String) -> String {
    s.to_uppercase()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Script {
    Ukrainian,
    Russian,
    RuLatin(RuLatin),
    Other(OtherLatin),
}

fn render_left(rng: &mut Rng, c: &Child, rates: &Rates) -> Record {
    let mut r = Record::default();
    let latin = rng.permille(rates.left_latin);
    let g = &GIVEN[c.given as usize];
    let f = &FATHERS[c.father as usize];
    let place = &PLACES[c.place as usize];
    let mut given = g.uk.to_string();
    let mut patronymic = (if c.male { f.uk_m } else { f.uk_f }).to_string();
    let mut family = c.surname.clone();
    let mut place_name = if !place.old_uk.is_empty() && rng.permille(rates.left_old_place) {
        r.notes.push("left_old_place");
        place.old_uk
    } else {
        place.uk
    }
    .to_string();
    if latin {
        let informal = rates.left_informal_latin > 0 && rng.permille(rates.left_informal_latin);
        let spell = |s: &str| {
            if informal {
                tables::other_latin(s, OtherLatin::UkInformal)
            } else {
                tables::kmu2010(s)
            }
        };
        r.notes.push(if informal {
            "left_informal_latin"
        } else {
            "left_kmu_latin"
        });
        given = spell(&given);
        patronymic = spell(&patronymic);
        family = spell(&family);
        place_name = spell(&place_name);
        if rng.permille(500) {
            given = upper(given);
            patronymic = upper(patronymic);
            family = upper(family);
        }
    }
    if rng.permille(rates.left_typo) {
        r.notes.push("left_typo");
        match rng.below(3) {
            0 => given = typo(rng, &given),
            1 => family = typo(rng, &family),
            _ => patronymic = typo(rng, &patronymic),
        }
    }
    if rng.permille(rates.left_missing_patronymic) {
        patronymic.clear();
    }
    if rng.permille(rates.left_missing_place) {
        place_name.clear();
    }
    r.sex = if rng.permille(rates.left_missing_sex) {
        String::new()
    } else if latin {
        (if c.male { "M" } else { "F" }).into()
    } else {
        (if c.male { "ч" } else { "ж" }).into()
    };
    r.birth_date = if rates.left_missing_date > 0 && rng.permille(rates.left_missing_date) {
        r.notes.push("left_missing_date");
        String::new()
    } else if rng.permille(rates.left_year_only) {
        r.notes.push("left_year_only");
        format!("{}", c.year)
    } else if rng.permille(rates.left_year_month) {
        r.notes.push("left_year_month");
        format!("{}-{:02}", c.year, c.month)
    } else {
        format!("{:02}.{:02}.{}", c.day, c.month, c.year)
    };
    if rates.hand_written_date > 0 && rng.permille(rates.hand_written_date) {
        let lang = if latin { Lang::En } else { Lang::Uk };
        if let Some(w) = hand_written(rng, lang, &r.birth_date, c.year, c.month, c.day) {
            r.notes.push("left_hand_written_date");
            r.birth_date = w;
        }
    }
    r.given_name = given;
    r.patronymic = patronymic;
    r.family_name = family;
    r.birth_place = place_name;
    r
}

/// The date `k` days after (or before, `k` < 0) the given one.
fn shift_days(y: i16, m: u8, d: u8, k: i32) -> (i16, u8, u8) {
    let (mut y, mut m, mut d) = (y, m, i32::from(d) + k);
    while d < 1 {
        (y, m) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
        d += i32::from(days_in(y, m));
    }
    while d > i32::from(days_in(y, m)) {
        d -= i32::from(days_in(y, m));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    (y, m, u8::try_from(d).unwrap_or(1))
}

fn one_digit_error(rng: &mut Rng, y: i16, m: u8, d: u8) -> (i16, u8, u8) {
    for _ in 0..20 {
        let (mut yy, mut mm, mut dd) = (y, m, d);
        let digit = rng.below(10) as u8;
        match rng.below(4) {
            0 => dd = dd / 10 * 10 + digit,
            1 => dd = digit * 10 + dd % 10,
            2 => mm = mm / 10 * 10 + digit,
            _ => yy = yy / 10 * 10 + i16::from(digit),
        }
        if (yy, mm, dd) != (y, m, d)
            && (1..=12).contains(&mm)
            && dd >= 1
            && dd <= days_in(yy, mm)
            && (2000..=2024).contains(&yy)
        {
            return (yy, mm, dd);
        }
    }
    (y, m, d)
}

fn render_right(rng: &mut Rng, c: &Child, rates: &Rates) -> Record {
    let mut r = Record::default();
    let script = {
        let x = rng.below(1000) as u32;
        if x < rates.right_latin {
            let y = rng.below(100);
            let standard = Script::RuLatin(if y < 50 {
                RuLatin::Icao
            } else if y < 85 {
                RuLatin::Bgn
            } else {
                RuLatin::GostB
            });
            if rates.right_other_latin > 0 && rng.permille(rates.right_other_latin) {
                Script::Other(other_latin_scheme(rng))
            } else {
                standard
            }
        } else if x < rates.right_latin + rates.right_ukrainian {
            Script::Ukrainian
        } else {
            Script::Russian
        }
    };
    let mut gi = c.given as usize;
    let mut fi = c.father as usize;
    let mut surname_uk = Some(c.surname.clone());
    let mut surname_ru: Option<&str> = None;
    let mut place_ru: Option<&str> = None;
    if rng.permille(rates.adoption) {
        r.notes.push("adopted");
        let (m, f) = RU_ADOPTIVE_SURNAMES[rng.below(RU_ADOPTIVE_SURNAMES.len())];
        surname_ru = Some(if c.male { m } else { f });
        surname_uk = None;
        fi = (fi + 1 + rng.below(FATHERS.len() - 1)) % FATHERS.len();
        if rng.permille(rates.adoption_new_given) {
            r.notes.push("adopted_new_given");
            let same_sex: Vec<usize> = (0..GIVEN.len())
                .filter(|&i| GIVEN[i].male == c.male && i != gi)
                .collect();
            gi = same_sex[rng.below(same_sex.len())];
        }
        if rng.permille(rates.adoption_new_place) {
            r.notes.push("adopted_new_place");
            place_ru = Some(RU_TOWNS[rng.below(RU_TOWNS.len())]);
        }
    }
    let g = &GIVEN[gi];
    let f = &FATHERS[fi];
    let place = &PLACES[c.place as usize];
    let old = !place.old_ru.is_empty() && rng.permille(rates.right_old_place);
    if old {
        r.notes.push("old_place");
    }
    let ru_given = if rng.permille(rates.right_ru_given) {
        g.ru.to_string()
    } else {
        respell_given(g.uk)
    };
    let ru_patronymic = if rng.permille(rates.right_ru_patronymic) {
        (if c.male { f.ru_m } else { f.ru_f }).to_string()
    } else {
        respell_given(if c.male { f.uk_m } else { f.uk_f })
    };
    let ru_family = match (&surname_uk, surname_ru) {
        (_, Some(s)) => s.to_string(),
        (Some(uk), None) => tables::russify_surname(uk, rng.permille(rates.right_surname_by_ear)),
        (None, None) => String::new(),
    };
    let ru_place = place_ru
        .map(str::to_string)
        .unwrap_or_else(|| (if old { place.old_ru } else { place.ru }).to_string());
    let (mut given, mut patronymic, mut family, mut place_name) = match script {
        Script::Russian => {
            r.notes.push("russian");
            (ru_given, ru_patronymic, ru_family, ru_place)
        }
        Script::Ukrainian => {
            r.notes.push("ukrainian");
            (
                g.uk.to_string(),
                (if c.male { f.uk_m } else { f.uk_f }).to_string(),
                surname_uk.clone().unwrap_or(ru_family),
                place_ru
                    .map(str::to_string)
                    .unwrap_or_else(|| (if old { place.old_uk } else { place.uk }).to_string()),
            )
        }
        Script::RuLatin(std) => {
            r.notes.push(match std {
                RuLatin::Icao => "latin_icao",
                RuLatin::Bgn => "latin_bgn",
                RuLatin::GostB => "latin_gost",
            });
            let given = if rng.permille(rates.right_english_given) {
                r.notes.push("english_given");
                g.en.to_string()
            } else {
                tables::ru_latin(&ru_given, std)
            };
            let mut v = (
                given,
                tables::ru_latin(&ru_patronymic, std),
                tables::ru_latin(&ru_family, std),
                tables::ru_latin(&ru_place, std),
            );
            if rng.permille(500) {
                v = (upper(v.0), upper(v.1), upper(v.2), v.3);
            }
            v
        }
        Script::Other(scheme) => {
            r.notes.push(scheme.tag());
            other_latin_record(
                rng,
                &mut r,
                rates,
                scheme,
                g,
                (&ru_given, &ru_patronymic, &ru_family, &ru_place),
                (
                    if c.male { f.uk_m } else { f.uk_f },
                    surname_uk.as_deref(),
                    place_ru.map_or(if old { place.old_uk } else { place.uk }, |p| p),
                ),
            )
        }
    };
    if !matches!(script, Script::RuLatin(_) | Script::Other(_))
        && rates.right_upper_surname > 0
        && rng.permille(rates.right_upper_surname)
    {
        r.notes.push("upper_surname");
        family = family.to_uppercase();
    }
    if rng.permille(rates.right_typo) {
        r.notes.push("typo");
        match rng.below(3) {
            0 => given = typo(rng, &given),
            1 => family = typo(rng, &family),
            _ => patronymic = typo(rng, &patronymic),
        }
    }
    if rng.permille(rates.right_missing_patronymic) {
        patronymic.clear();
    }
    if rng.permille(rates.right_missing_place) {
        place_name.clear();
    }
    let latin = matches!(script, Script::RuLatin(_) | Script::Other(_));
    r.sex = if rng.permille(rates.right_missing_sex) {
        String::new()
    } else if latin {
        (if c.male { "M" } else { "F" }).into()
    } else if rng.permille(500) {
        (if c.male { "муж" } else { "жен" }).into()
    } else {
        (if c.male { "м" } else { "ж" }).into()
    };
    let (mut y, mut m, mut d) = (c.year, c.month, c.day);
    if rng.permille(rates.right_day_month_swap) && d <= 12 && d != m {
        r.notes.push("day_month_swap");
        (m, d) = (d, m);
    }
    if rng.permille(rates.right_digit_error) {
        r.notes.push("digit_error");
        (y, m, d) = one_digit_error(rng, y, m, d);
    }
    // Drawn only when asked for, so that lists generated with these rates at 0 are the lists the
    // generator gave before they existed.
    if rates.right_few_days > 0 && rng.permille(rates.right_few_days) {
        r.notes.push("few_days");
        let k = 1 + rng.below(3) as i32;
        (y, m, d) = shift_days(y, m, d, if rng.permille(500) { k } else { -k });
    }
    if rates.right_year_off > 0 && rng.permille(rates.right_year_off) {
        r.notes.push("year_off");
        y += if rng.permille(500) { 1 } else { -1 };
        d = d.min(days_in(y, m));
    }
    r.birth_date = if rng.permille(rates.right_missing_date) {
        r.notes.push("missing_date");
        String::new()
    } else if rng.permille(rates.right_year_only) {
        r.notes.push("year_only");
        format!("{y}")
    } else if rng.permille(rates.right_year_month) {
        r.notes.push("year_month");
        format!("{y}-{m:02}")
    } else if rng.permille(700) {
        format!("{y}-{m:02}-{d:02}")
    } else {
        format!("{d:02}.{m:02}.{y}")
    };
    if rates.hand_written_date > 0 && rng.permille(rates.hand_written_date) {
        let lang = match script {
            Script::RuLatin(_) | Script::Other(_) => Lang::En,
            Script::Ukrainian => Lang::Uk,
            Script::Russian => Lang::Ru,
        };
        if let Some(w) = hand_written(rng, lang, &r.birth_date, y, m, d) {
            r.notes.push("hand_written_date");
            r.birth_date = w;
        }
    }
    r.given_name = given;
    r.patronymic = patronymic;
    r.family_name = family;
    r.birth_place = place_name;
    r
}

#[derive(Clone, Copy)]
enum Lang {
    Uk,
    Ru,
    En,
}

const MONTHS_UK: [&str; 12] = [
    "січня",
    "лютого",
    "березня",
    "квітня",
    "травня",
    "червня",
    "липня",
    "серпня",
    "вересня",
    "жовтня",
    "листопада",
    "грудня",
];
const MONTHS_RU: [&str; 12] = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A date as written by hand: a whole date with its month by name, a two-digit year or
/// hyphens (a third each); a year alone marked as a year of birth. `None` for a missing date or
/// a year and month (typed as such).
fn hand_written(rng: &mut Rng, lang: Lang, typed: &str, y: i16, m: u8, d: u8) -> Option<String> {
    let (months, year_word, birth_word) = match lang {
        Lang::Uk => (&MONTHS_UK, " р.", " р.н."),
        Lang::Ru => (&MONTHS_RU, " г.", " г.р."),
        Lang::En => (&MONTHS_EN, "", ""),
    };
    if typed.len() == 4 {
        return Some(format!("{y}{birth_word}"));
    }
    if typed.is_empty() || typed.len() == 7 {
        return None;
    }
    let month = months.get(usize::from(m).checked_sub(1)?)?;
    Some(match rng.below(3) {
        0 => format!("{d} {month} {y}{year_word}"),
        1 => format!("{d:02}.{m:02}.{:02}", y.rem_euclid(100)),
        _ => format!("{d:02}-{m:02}-{y}"),
    })
}

/// Which of the other Latin schemes a right record uses, in permille of those records: Russian
/// forms in ICAO-era alternatives (French-style MVD 150, ISO 9 with diacritics 150, Wikipedia
/// 200) and Ukrainian forms copied from Ukrainian papers (informal English 300, scholarly 100,
/// ISO 9 100). See docs/benchmarks.md for why.
fn other_latin_scheme(rng: &mut Rng) -> OtherLatin {
    match rng.below(1000) {
        0..150 => OtherLatin::RuFrench,
        150..300 => OtherLatin::RuIso9,
        300..500 => OtherLatin::RuWikipedia,
        500..800 => OtherLatin::UkInformal,
        800..900 => OtherLatin::UkScholarly,
        _ => OtherLatin::UkIso9,
    }
}

/// A right record's names and place in one of the other Latin schemes: the Russian forms, or
/// the Ukrainian ones; an English given name at the usual rate, capitals at half.
fn other_latin_record(
    rng: &mut Rng,
    r: &mut Record,
    rates: &Rates,
    scheme: OtherLatin,
    g: &tables::Given,
    ru: (&str, &str, &str, &str),
    uk: (&str, Option<&str>, &str),
) -> (String, String, String, String) {
    let spell = |s: &str| tables::other_latin(s, scheme);
    let (given, patronymic, family, place) = if scheme.spells_ukrainian() {
        (g.uk, uk.0, uk.1.unwrap_or(ru.2), uk.2)
    } else {
        ru
    };
    let given = if rng.permille(rates.right_english_given) {
        r.notes.push("english_given");
        g.en.to_string()
    } else {
        spell(given)
    };
    let v = (given, spell(patronymic), spell(family), spell(place));
    if rng.permille(500) {
        (upper(v.0), upper(v.1), upper(v.2), v.3)
    } else {
        v
    }
}

/// Generates a left list of `n_left` and a right list of `n_right` records. `overlap` of the left
/// children are also on the right (as many as fit); the rest of the right list are other children
/// of the same population — among them brothers, sisters and twins of left children.
pub fn generate(seed: u64, n_left: usize, n_right: usize, rates: &Rates) -> Lists {
    let mut rng = Rng::new(seed);
    let both = (n_left * rates.overlap as usize / 1000).min(n_right);
    let population = n_left + n_right - both;
    let mut pop = Population::generate(&mut rng, population, rates).children;
    // Families were drawn together; shuffling spreads siblings over left-only, both and
    // right-only, which is what makes them distractors.
    rng.shuffle(&mut pop);
    let mut left = Vec::with_capacity(n_left);
    let mut right = Vec::with_capacity(n_right);
    let mut truth = Vec::with_capacity(both);
    for (i, c) in pop.iter().enumerate() {
        if i < n_left {
            left.push(render_left(&mut rng, c, rates));
            if i < both {
                truth.push((i as u32, right.len() as u32));
                right.push(render_right(&mut rng, c, rates));
            }
        } else {
            right.push(render_right(&mut rng, c, rates));
        }
    }
    // Ids carry no hint of the truth: the left list is in population order (already shuffled),
    // the right list is shuffled again.
    let mut order: Vec<u32> = (0..right.len() as u32).collect();
    rng.shuffle(&mut order);
    let mut position = vec![0u32; right.len()];
    for (new, &old) in order.iter().enumerate() {
        position[old as usize] = new as u32;
    }
    let mut slots: Vec<Option<Record>> = right.into_iter().map(Some).collect();
    let mut right: Vec<Record> = order
        .iter()
        .filter_map(|&old| slots[old as usize].take())
        .collect();
    for t in &mut truth {
        t.1 = position[t.1 as usize];
    }
    for (i, r) in left.iter_mut().enumerate() {
        r.id = format!("L{:07}", i + 1);
    }
    for (i, r) in right.iter_mut().enumerate() {
        r.id = format!("R{:07}", i + 1);
    }
    Lists { left, right, truth }
}

/// The record with every name and place folded to ASCII one character at a time, and partial
/// dates dropped (Splink's date comparisons need whole ISO dates): what a Splink user would feed it.
pub fn ascii_record(r: &Record) -> [String; 7] {
    let iso = match homeward_linkage::BirthDate::parse(&r.birth_date) {
        Ok(d) if d.is_full() => format!("{:04}-{:02}-{:02}", d.year, d.month, d.day),
        _ => String::new(),
    };
    let sex = match r.sex.as_str() {
        "" => String::new(),
        "M" | "м" | "муж" | "ч" => "m".into(),
        _ => "f".into(),
    };
    [
        r.id.clone(),
        tables::ascii_fold(&r.given_name).to_lowercase(),
        tables::ascii_fold(&r.patronymic).to_lowercase(),
        tables::ascii_fold(&r.family_name).to_lowercase(),
        sex,
        iso,
        tables::ascii_fold(&r.birth_place).to_lowercase(),
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_lists() {
        let a = generate(7, 300, 1000, &Rates::default());
        let b = generate(7, 300, 1000, &Rates::default());
        assert_eq!(a.left.len(), 300);
        assert_eq!(a.right.len(), 1000);
        assert_eq!(a.truth.len(), 210);
        assert_eq!(a.truth, b.truth);
        for (x, y) in a.right.iter().zip(&b.right) {
            assert_eq!(x.values(), y.values());
        }
        let c = generate(8, 300, 1000, &Rates::default());
        assert_ne!(a.truth, c.truth);
    }

    #[test]
    fn shifted_dates_cross_months_and_years() {
        assert_eq!(shift_days(2014, 3, 1, -1), (2014, 2, 28));
        assert_eq!(shift_days(2016, 3, 1, -1), (2016, 2, 29));
        assert_eq!(shift_days(2014, 12, 30, 3), (2015, 1, 2));
        assert_eq!(shift_days(2015, 1, 2, -3), (2014, 12, 30));
        assert_eq!(shift_days(2014, 6, 10, 2), (2014, 6, 12));
    }

    /// The two date variations are drawn at their rates, and with both at 0 the lists are the
    /// ones the generator gave before they were added.
    #[test]
    fn date_variations_at_their_rates() {
        let l = generate(5, 5000, 20000, &Rates::default());
        let count = |tag: &str| l.right.iter().filter(|r| r.notes.contains(&tag)).count();
        let (few, year) = (count("few_days"), count("year_off"));
        assert!((400..800).contains(&few), "{few}");
        assert!((250..550).contains(&year), "{year}");
        let off = Rates {
            right_few_days: 0,
            right_year_off: 0,
            ..Rates::default()
        };
        let a = generate(5, 500, 2000, &off);
        assert!(a.right.iter().all(|r| !r.notes.contains(&"few_days")));
    }

    /// The variations added for issue 13 are drawn at their rates, and none with their rates
    /// at 0.
    #[test]
    fn issue_13_variations_at_their_rates() {
        let l = generate(5, 5000, 20000, &Rates::default());
        let right = |tag: &str| l.right.iter().filter(|r| r.notes.contains(&tag)).count();
        let left = |tag: &str| l.left.iter().filter(|r| r.notes.contains(&tag)).count();
        let other: usize = OtherLatin::ALL.iter().map(|k| right(k.tag())).sum();
        // 20 % Latin × 35 % other schemes of 20,000 records: about 1,400.
        assert!((1100..1700).contains(&other), "{other}");
        assert!(OtherLatin::ALL.iter().all(|k| right(k.tag()) > 50));
        // 15 % Latin × 30 % informal of 5,000: about 225; 1 % without a date: about 50.
        assert!((150..300).contains(&left("left_informal_latin")));
        assert!((20..90).contains(&left("left_missing_date")));
        assert!(
            l.left.iter().filter(|r| r.birth_date.is_empty()).count() == left("left_missing_date")
        );
        // 80 % Cyrillic × 10 % of 20,000: about 1,600.
        assert!((1300..1900).contains(&right("upper_surname")));
        // 5 % of about 19,000 right dates that are whole or a year alone.
        assert!((700..1200).contains(&right("hand_written_date")));
        assert!(l.right.iter().any(|r| r.birth_date.ends_with(" г.р.")));
        assert!(l.left.iter().any(|r| r.birth_date.contains(" р.")));
        assert!(l.right.iter().any(|r| r.birth_date.contains("-")
            && r.birth_date.len() == 10
            && r.birth_date.as_bytes()[2] == b'-'));
        let off = Rates {
            left_informal_latin: 0,
            left_missing_date: 0,
            right_other_latin: 0,
            right_upper_surname: 0,
            hand_written_date: 0,
            ..Rates::default()
        };
        let a = generate(5, 500, 2000, &off);
        assert!(
            a.right
                .iter()
                .chain(&a.left)
                .all(|r| !r.notes.iter().any(|t| {
                    t.starts_with("latin_uk")
                        || *t == "upper_surname"
                        || t.starts_with("left_informal")
                        || t.ends_with("hand_written_date")
                }))
        );
    }

    #[test]
    fn every_date_written_parses() {
        let l = generate(3, 2000, 5000, &Rates::default());
        for r in l.left.iter().chain(&l.right) {
            if !r.birth_date.is_empty() {
                assert!(
                    homeward_linkage::BirthDate::parse(&r.birth_date).is_ok(),
                    "{}",
                    r.birth_date
                );
            }
            assert!(homeward_linkage::parse_sex(&r.sex).is_ok(), "{}", r.sex);
        }
    }

    /// The surname frequencies docs/benchmarks.md defends: no surname above 1 % of children, the
    /// 50 most common under 10 %, and two unrelated children sharing a surname (masculine form,
    /// so that a brother and sister count as one surname) less often than 1 in 2,000.
    #[test]
    fn surnames_have_a_long_tail() {
        let mut rng = Rng::new(11);
        let (common, stems) = (
            zipf_cdf(COMMON_SURNAMES.len(), 0.5),
            zipf_cdf(SURNAME_STEMS.len(), 0.5),
        );
        // Families' surnames, as `Population::generate` draws them; a family's size does not
        // depend on its surname, so children's surnames follow the same distribution.
        let mut families = std::collections::HashMap::new();
        for _ in 0..100_000 {
            let (m, _) = family_surname(&mut rng, &common, &stems);
            *families.entry(m).or_insert(0u32) += 1;
        }
        let n = f64::from(families.values().sum::<u32>());
        let mut counts: Vec<f64> = families.values().map(|&c| f64::from(c) / n).collect();
        counts.sort_by(|a, b| b.total_cmp(a));
        assert!(counts[0] < 0.01, "most common {:.4}", counts[0]);
        let top50: f64 = counts.iter().take(50).sum();
        assert!(top50 < 0.10, "top 50 {top50:.3}");
        let collision: f64 = counts.iter().map(|p| p * p).sum();
        assert!(
            collision < 1.0 / 2000.0,
            "collision 1/{:.0}",
            1.0 / collision
        );
        assert!(counts.len() > 5000, "{} surnames", counts.len());
    }
}
