//! Dates of birth: parsing what clerks write, and comparing two dates at their precision.

use homeward_domain::date::PartialDate;
use serde::{Deserialize, Serialize};

/// A date of birth reduced for comparison: year, and month and day when known (0 = unknown).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BirthDate {
    pub year: i16,
    pub month: u8,
    pub day: u8,
    pub approximate: bool,
}

impl BirthDate {
    /// Parses the forms [`PartialDate::parse`] knows (YYYY-MM-DD, YYYY-MM, YYYY, DD.MM.YYYY,
    /// DD/MM/YYYY, YYYYMMDD, approximate). A date whose month is over 12 while its day is not
    /// (`03/25/2014`, written month-first) is read with the two swapped, since that is what was meant.
    ///
    /// Then the forms clerks write by hand that [`PartialDate`] does not take ([`clerks_form`]):
    /// a year marked as a year of birth (`2013 р.н.`, `2013 г.р.`), a month by name
    /// (`12 березня 2013`, `12 марта 2013 г.`, `March 2013`), a two-digit year (`12.03.13`), and
    /// day, month and year joined by hyphens or spaces (`12-03-2013`).
    pub fn parse(text: &str) -> Result<BirthDate, String> {
        match PartialDate::parse(text) {
            Ok(d) => Ok(BirthDate::from(d)),
            Err(e) => read_loosely(text).map(BirthDate::from).ok_or(e),
        }
    }

    pub fn is_full(&self) -> bool {
        self.month != 0 && self.day != 0
    }

    /// Days since 1970-01-01 of a full date (the usual civil-from-days algorithm, inverted).
    fn days(&self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The eight digits YYYYMMDD of a full date, without formatting (this is the inner loop).
    fn digits(&self) -> [u8; 8] {
        let mut v = u32::try_from(i32::from(self.year).clamp(0, 9999)).unwrap_or(0) * 10_000
            + u32::from(self.month) * 100
            + u32::from(self.day);
        let mut out = [0u8; 8];
        for o in out.iter_mut().rev() {
            *o = (v % 10) as u8;
            v /= 10;
        }
        out
    }
}

impl From<PartialDate> for BirthDate {
    fn from(d: PartialDate) -> Self {
        BirthDate {
            year: i16::try_from(d.year()).unwrap_or(i16::MAX),
            month: d.month().unwrap_or(0),
            day: d.day().unwrap_or(0),
            approximate: d.is_approximate(),
        }
    }
}

/// Words after a year that only say it is one (of birth): Ukrainian р.н. / р. / року / рік,
/// Russian г.р. / г. / года / год, English y. / year. Compared without dots and spaces.
const YEAR_WORDS: &[&str] = &[
    "рн", "р", "року", "рік", "роки", "гр", "г", "года", "год", "y", "yr", "year", "yob",
];

/// Month names by their first letters, folded (Ukrainian, Russian, English; nominative and
/// genitive share them): the shortest prefix that tells the month in all three languages.
const MONTHS: &[(&str, u8)] = &[
    ("січ", 1),
    ("лют", 2),
    ("бер", 3),
    ("квіт", 4),
    ("трав", 5),
    ("черв", 6),
    ("лип", 7),
    ("серп", 8),
    ("вер", 9),
    ("жовт", 10),
    ("лист", 11),
    ("груд", 12),
    ("янв", 1),
    ("фев", 2),
    ("мар", 3),
    ("апр", 4),
    ("мая", 5),
    ("май", 5),
    ("июн", 6),
    ("июл", 7),
    ("авг", 8),
    ("сен", 9),
    ("окт", 10),
    ("ноя", 11),
    ("дек", 12),
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("apr", 4),
    ("may", 5),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
];

fn month_by_name(word: &str) -> Option<u8> {
    MONTHS
        .iter()
        .find(|(prefix, _)| word.starts_with(prefix))
        .map(|&(_, m)| m)
}

/// A two-digit year of a child's birth: 00–39 are this century, the rest the last.
fn full_year(t: &str) -> Option<u32> {
    let v: u32 = t.parse().ok()?;
    match t.len() {
        4 => Some(v),
        2 if v < 40 => Some(2000 + v),
        2 => Some(1900 + v),
        _ => None,
    }
}

/// What [`BirthDate::parse`] reads beyond [`PartialDate::parse`]: the hand-written forms of
/// [`clerks_form`], and a date written month-first (`03/25/2014`, a month over 12 while the day
/// is not) read with the two swapped. The import reads dates with this too, so that the case
/// system reads what `homeward link` reads; it flags each such date for a person to check, since
/// a two-digit year or a swap is a reading, not what was typed.
pub fn read_loosely(text: &str) -> Option<PartialDate> {
    if let Some(d) = clerks_form(text) {
        return Some(d);
    }
    let parts: Vec<&str> = text.trim().split(['.', '/']).collect();
    if let [a, b, y] = parts.as_slice()
        && let (Ok(m), Ok(d)) = (a.parse::<u8>(), b.parse::<u8>())
        && m <= 12
        && d > 12
    {
        return PartialDate::parse(&format!("{d:02}.{m:02}.{y}")).ok();
    }
    None
}

/// The hand-written forms of [`BirthDate::parse`], as a [`PartialDate`] (so that impossible
/// dates are refused the same way): words split on spaces, dots, hyphens and slashes; year
/// words dropped; a month name read as its number.
pub fn clerks_form(text: &str) -> Option<PartialDate> {
    let lower = text.trim().to_lowercase();
    let mut approximate = "";
    let mut rest = lower.as_str();
    for prefix in ["~", "около", "близько", "прибл", "approx", "ca", "circa"] {
        if let Some(r) = rest.strip_prefix(prefix) {
            approximate = "~";
            rest = r;
            break;
        }
    }
    let words: Vec<&str> = rest
        .split(|c: char| c.is_whitespace() || matches!(c, '.' | '-' | '/' | ','))
        .filter(|w| !w.is_empty())
        .collect();
    // Year words are glued to the year or written with dots between letters (р.н.): the letters
    // that are not a month, all together, must be one year word.
    let mut parts: Vec<String> = Vec::new();
    let mut letters = String::new();
    for w in words {
        if w.bytes().all(|b| b.is_ascii_digit()) {
            parts.push(w.to_string());
        } else if let Some(m) = month_by_name(w) {
            parts.push(format!("m{m}"));
        } else {
            let digits: String = w.chars().take_while(char::is_ascii_digit).collect();
            let tail = &w[digits.len()..];
            if !digits.is_empty() {
                parts.push(digits);
            }
            letters.push_str(tail);
        }
    }
    if !letters.is_empty() && !YEAR_WORDS.contains(&letters.as_str()) {
        return None;
    }
    let iso = match parts.as_slice() {
        // A year alone needs its four digits: "14" could be a day or an age.
        [y] if y.len() == 4 => format!("{:04}", full_year(y)?),
        [m, y] if m.starts_with('m') => {
            format!("{:04}-{:02}", full_year(y)?, m[1..].parse::<u8>().ok()?)
        }
        [d, m, y] => {
            let month: u8 = match m.strip_prefix('m') {
                Some(n) => n.parse().ok()?,
                None => m.parse().ok()?,
            };
            let day: u8 = d.parse().ok()?;
            format!("{:04}-{month:02}-{day:02}", full_year(y)?)
        }
        _ => return None,
    };
    PartialDate::parse(&format!("{approximate}{iso}")).ok()
}

/// How two dates of birth agree, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateLevel {
    Exact,
    /// Day and month swapped (07.03 for 03.07). Possible only when both days are 12 or less.
    Swapped,
    /// One to three days apart (a birth registered the next day, a date counted from another
    /// calendar, a day misremembered).
    FewDays,
    /// The same day and month, the year one apart (a year misremembered or mistyped, a child's
    /// age counted on the wrong side of the birthday).
    YearOffByOne,
    /// One digit of YYYYMMDD differs (a typo).
    OneDigit,
    /// Same year and month, different days.
    SameYearMonth,
    /// The same month, but one side knows the day and the other does not. Kept apart from
    /// `SameYearMonth` so that a record's identical copy always scores above it.
    SameMonthCoarser,
    /// Within 31 days; or months adjacent when a day is unknown.
    WithinMonth,
    /// Within 366 days; a year either side when one is known only to the year (two when approximate).
    WithinYear,
    /// The same year, but one side knows only the year and the other more.
    SameYearCoarser,
    /// Both known only to the month, or both only to the year, and equal: all either says agrees.
    /// Kept apart from `WithinYear` (mostly full dates months apart, evidence against) and from
    /// the one-side-coarser levels, so that a partial date's identical copy scores above both.
    SamePartial,
    Different,
}

/// The most days apart two full dates can be and still be `FewDays`.
const FEW_DAYS: i64 = 3;

/// Compares two dates at the precision both have.
pub fn compare_dates(a: &BirthDate, b: &BirthDate) -> DateLevel {
    if a.is_full() && b.is_full() {
        if a.year == b.year && a.month == b.month && a.day == b.day {
            return DateLevel::Exact;
        }
        if a.year == b.year && a.day == b.month && a.month == b.day {
            return DateLevel::Swapped;
        }
        let diff = (a.days() - b.days()).abs();
        if diff <= FEW_DAYS {
            return DateLevel::FewDays;
        }
        if a.month == b.month && a.day == b.day && (a.year - b.year).abs() == 1 {
            return DateLevel::YearOffByOne;
        }
        let (da, db) = (a.digits(), b.digits());
        if da.iter().zip(db.iter()).filter(|(x, y)| x != y).count() == 1 {
            return DateLevel::OneDigit;
        }
        if a.year == b.year && a.month == b.month {
            return DateLevel::SameYearMonth;
        }
        return if diff <= 31 {
            DateLevel::WithinMonth
        } else if diff <= 366 {
            DateLevel::WithinYear
        } else {
            DateLevel::Different
        };
    }
    let approx = a.approximate || b.approximate;
    if a.month != 0 && b.month != 0 {
        let ma = i32::from(a.year) * 12 + i32::from(a.month);
        let mb = i32::from(b.year) * 12 + i32::from(b.month);
        let diff = (ma - mb).abs();
        return if diff == 0 && a.day == b.day {
            DateLevel::SamePartial
        } else if diff == 0 {
            DateLevel::SameMonthCoarser
        } else if diff == 12 && a.month == b.month {
            // The year off by one at the precision both sides have (the month): the same error
            // as a full date's, so the same level.
            DateLevel::YearOffByOne
        } else if diff <= 1 {
            DateLevel::WithinMonth
        } else if diff <= 12 || (approx && diff <= 24) {
            DateLevel::WithinYear
        } else {
            DateLevel::Different
        };
    }
    let dy = (i32::from(a.year) - i32::from(b.year)).abs();
    if dy == 0 && a.month != b.month {
        DateLevel::SameYearCoarser
    } else if dy == 0 {
        DateLevel::SamePartial
    } else if dy <= 1 {
        // Only the year known on one side, one off: as close as that side can say, like a full
        // date within a year (a year misremembered is common; two years off is another child).
        DateLevel::WithinYear
    } else {
        DateLevel::Different
    }
}

/// A date of birth with what comparing two full dates needs worked out once per record instead of
/// once per pair: the digits packed one per byte, and the day number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DateFeat {
    pub date: BirthDate,
    /// YYYYMMDD, one digit per byte, most significant first (full dates only).
    digits: u64,
    /// Days since 1970-01-01 (full dates only; within ±12 million for any i16 year).
    days: i32,
}

impl DateFeat {
    pub fn new(date: BirthDate) -> DateFeat {
        if !date.is_full() {
            return DateFeat {
                date,
                digits: 0,
                days: 0,
            };
        }
        DateFeat {
            date,
            digits: u64::from_be_bytes(date.digits()),
            days: i32::try_from(date.days()).unwrap_or(i32::MAX),
        }
    }

    /// The same level as [`compare_dates`], faster for two full dates.
    pub fn level(&self, other: &DateFeat) -> DateLevel {
        let (a, b) = (&self.date, &other.date);
        if !(a.is_full() && b.is_full()) {
            return compare_dates(a, b);
        }
        if a.year == b.year && a.month == b.month && a.day == b.day {
            return DateLevel::Exact;
        }
        if a.year == b.year && a.day == b.month && a.month == b.day {
            return DateLevel::Swapped;
        }
        let diff = (i64::from(self.days) - i64::from(other.days)).abs();
        if diff <= FEW_DAYS {
            return DateLevel::FewDays;
        }
        if a.month == b.month && a.day == b.day && (a.year - b.year).abs() == 1 {
            return DateLevel::YearOffByOne;
        }
        // Each byte of the xor is at most 15, so adding 0x7f sets a byte's top bit exactly when
        // the byte is not zero, without carrying into the next byte.
        let x = self.digits ^ other.digits;
        let differing = ((x + 0x7f7f_7f7f_7f7f_7f7f) & 0x8080_8080_8080_8080).count_ones();
        if differing == 1 {
            return DateLevel::OneDigit;
        }
        if a.year == b.year && a.month == b.month {
            return DateLevel::SameYearMonth;
        }
        if diff <= 31 {
            DateLevel::WithinMonth
        } else if diff <= 366 {
            DateLevel::WithinYear
        } else {
            DateLevel::Different
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> BirthDate {
        BirthDate::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn level(a: &str, b: &str) -> DateLevel {
        let l = compare_dates(&d(a), &d(b));
        assert_eq!(l, compare_dates(&d(b), &d(a)), "symmetric");
        l
    }

    #[test]
    fn parses_clerks_forms() {
        assert_eq!(d("2014-03-07"), d("07.03.2014"));
        assert_eq!(d("07/03/2014"), d("20140307"));
        assert_eq!(
            d("03/25/2014"),
            d("25.03.2014"),
            "month-first read when unambiguous"
        );
        assert_eq!(d("2014-03").day, 0);
        assert_eq!(d("2014").month, 0);
        assert!(d("~2014").approximate);
        assert!(BirthDate::parse("32.13.2014").is_err());
        assert!(BirthDate::parse("soon").is_err());
    }

    /// What clerks write by hand reads as the date it says; what is not a date stays refused.
    #[test]
    fn parses_hand_written_forms() {
        for (text, want) in [
            ("2013 р.н.", "2013"),
            ("2013 р. н.", "2013"),
            ("2013р.н.", "2013"),
            ("2013 г.р.", "2013"),
            ("2013 г.", "2013"),
            ("2013 року", "2013"),
            ("12 березня 2013", "2013-03-12"),
            ("12 березня 2013 р.", "2013-03-12"),
            ("12 марта 2013 г.", "2013-03-12"),
            ("1 Мая 2010", "2010-05-01"),
            ("03 March 2014", "2014-03-03"),
            ("March 2014", "2014-03"),
            ("вересень 2015", "2015-09"),
            ("12.03.13", "2013-03-12"),
            ("12-03-2013", "2013-03-12"),
            ("12 03 2013", "2013-03-12"),
            ("около 2012 г.р.", "~2012"),
        ] {
            let got = BirthDate::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(got, d(want), "{text}");
        }
        for bad in [
            "31 лютого 2013",
            "2013 born somewhere",
            "soon",
            "12.03",
            "2013 р.н. 2014",
            "14",
            "14 р.",
            "12 березня",
            "13.13.2013",
        ] {
            assert!(BirthDate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn levels() {
        use DateLevel::*;
        assert_eq!(level("2014-03-07", "07.03.2014"), Exact);
        assert_eq!(level("2014-03-07", "2014-07-03"), Swapped);
        assert_eq!(level("2014-03-07", "2014-03-08"), FewDays);
        assert_eq!(level("2014-03-07", "2014-03-10"), FewDays);
        assert_eq!(level("2014-02-27", "2014-03-02"), FewDays, "across a month");
        assert_eq!(level("2014-12-31", "2015-01-02"), FewDays, "across a year");
        assert_eq!(
            level("2014-03-07", "2014-03-11"),
            SameYearMonth,
            "four days"
        );
        assert_eq!(level("2014-03-07", "2015-03-07"), YearOffByOne);
        assert_eq!(
            level("2019-03-07", "2020-03-07"),
            YearOffByOne,
            "two digits"
        );
        assert_eq!(level("2019-03-07", "2021-03-07"), Different, "two years");
        assert_eq!(level("2014-03-07", "2014-03-27"), OneDigit);
        assert_eq!(level("2014-03-07", "2014-03-19"), SameYearMonth);
        assert_eq!(level("2014-03-28", "2014-04-12"), WithinMonth);
        assert_eq!(level("2014-12-28", "2015-01-12"), WithinMonth);
        assert_eq!(level("2014-03-07", "2014-11-19"), WithinYear);
        assert_eq!(level("2014-03-07", "2016-11-19"), Different);
        // Partial dates at their precision.
        assert_eq!(level("2014-03", "2014-03"), SamePartial);
        assert_eq!(level("2014-03", "2014-03-19"), SameMonthCoarser);
        assert_eq!(level("2014", "2014"), SamePartial);
        assert_eq!(level("~2014", "2014"), SamePartial);
        assert_eq!(level("2014-03", "2014-04"), WithinMonth);
        assert_eq!(level("2014", "2014-03-19"), SameYearCoarser);
        assert_eq!(level("2014", "2014-03"), SameYearCoarser);
        assert_eq!(level("2014", "2015"), WithinYear);
        assert_eq!(level("2014", "2015-06-01"), WithinYear);
        assert_eq!(level("2014", "2016-06-01"), Different);
        assert_eq!(level("2014-03", "2015-03"), YearOffByOne);
        assert_eq!(level("2014-03", "2013-03-19"), YearOffByOne);
        assert_eq!(level("2014-03", "2015-02"), WithinYear);
        assert_eq!(level("2014-03", "2015-05"), Different);
        assert_eq!(level("~2014", "2015-06-01"), WithinYear);
        // 2014-03-07 vs 2014-03-01: both a digit edit and the same month; the typo is the better level.
        assert_eq!(level("2014-03-07", "2014-03-01"), OneDigit);
    }

    proptest::proptest! {
        #[test]
        fn precomputed_levels_agree(
            a in (1990i16..2030, 0u8..=12, 0u8..=31, proptest::bool::ANY),
            b in (1990i16..2030, 0u8..=12, 0u8..=31, proptest::bool::ANY),
        ) {
            let mk = |(year, month, day, approximate): (i16, u8, u8, bool)| BirthDate {
                year,
                month,
                day: if month == 0 { 0 } else { day.min(28) },
                approximate,
            };
            let (a, b) = (mk(a), mk(b));
            proptest::prop_assert_eq!(DateFeat::new(a).level(&DateFeat::new(b)), compare_dates(&a, &b));
        }
    }

    /// A full date from a day number (inverse of `days`), for generating valid dates.
    fn from_days(n: i64) -> BirthDate {
        let z = n + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i16;
        BirthDate {
            year,
            month,
            day,
            approximate: false,
        }
    }

    fn any_date() -> impl proptest::strategy::Strategy<Value = BirthDate> {
        use proptest::strategy::Strategy;
        (7300i64..19_000, 0u8..3).prop_map(|(n, precision)| {
            let d = from_days(n);
            match precision {
                0 => BirthDate {
                    month: 0,
                    day: 0,
                    ..d
                },
                1 => BirthDate { day: 0, ..d },
                _ => d,
            }
        })
    }

    proptest::proptest! {
        #[test]
        fn every_level_is_symmetric(a in any_date(), b in any_date()) {
            proptest::prop_assert_eq!(compare_dates(&a, &b), compare_dates(&b, &a));
        }

        #[test]
        fn a_few_days_apart_is_few_days_unless_swapped(n in 7300i64..19_000, k in 1i64..=3) {
            let (a, b) = (from_days(n), from_days(n + k));
            proptest::prop_assert_eq!(a.days() + k, b.days());
            let l = compare_dates(&a, &b);
            proptest::prop_assert!(l == DateLevel::FewDays || l == DateLevel::Swapped, "{l:?}");
        }

        #[test]
        fn four_or_more_days_apart_is_never_few_days(n in 7300i64..19_000, k in 4i64..2000) {
            proptest::prop_assert_ne!(compare_dates(&from_days(n), &from_days(n + k)), DateLevel::FewDays);
        }

        #[test]
        fn a_year_off_keeps_day_and_month(n in 7300i64..19_000, up in proptest::bool::ANY) {
            let a = from_days(n);
            proptest::prop_assume!(!(a.month == 2 && a.day == 29));
            let b = BirthDate { year: if up { a.year + 1 } else { a.year - 1 }, ..a };
            let l = compare_dates(&a, &b);
            // 31.12 and 01.01 of the next year are a day apart: that is the closer level.
            proptest::prop_assert!(l == DateLevel::YearOffByOne || l == DateLevel::FewDays, "{l:?}");
        }

        #[test]
        fn swapped_only_when_both_days_are_at_most_twelve(a in any_date(), b in any_date()) {
            if compare_dates(&a, &b) == DateLevel::Swapped {
                proptest::prop_assert!(a.is_full() && b.is_full());
                proptest::prop_assert!(a.day <= 12 && b.day <= 12);
                proptest::prop_assert!(a.day != a.month);
            }
        }

        #[test]
        fn swapping_day_and_month_is_detected(n in 7300i64..19_000) {
            let a = from_days(n);
            proptest::prop_assume!(a.day <= 12 && a.day != a.month);
            let b = BirthDate { month: a.day, day: a.month, ..a };
            proptest::prop_assert_eq!(compare_dates(&a, &b), DateLevel::Swapped);
        }

        #[test]
        fn a_partial_date_agrees_with_the_full_date_it_contains(n in 7300i64..19_000) {
            let full = from_days(n);
            let ym = BirthDate { day: 0, ..full };
            let y = BirthDate { month: 0, day: 0, ..full };
            proptest::prop_assert_eq!(compare_dates(&ym, &full), DateLevel::SameMonthCoarser);
            proptest::prop_assert_eq!(compare_dates(&y, &full), DateLevel::SameYearCoarser);
            proptest::prop_assert_eq!(compare_dates(&y, &ym), DateLevel::SameYearCoarser);
            proptest::prop_assert_eq!(compare_dates(&ym, &ym), DateLevel::SamePartial);
            proptest::prop_assert_eq!(compare_dates(&y, &y), DateLevel::SamePartial);
            let other_year = BirthDate { year: full.year + 2, ..y };
            proptest::prop_assert_eq!(compare_dates(&other_year, &full), DateLevel::Different);
        }

        /// A year off by one keeps its level when one side knows only the month, and is within
        /// a year when one side knows only the year.
        #[test]
        fn a_year_off_at_the_precision_both_have(n in 7300i64..19_000, up in proptest::bool::ANY) {
            let full = from_days(n);
            let year = if up { full.year + 1 } else { full.year - 1 };
            let ym = BirthDate { year, day: 0, ..full };
            let y = BirthDate { year, month: 0, day: 0, ..full };
            proptest::prop_assert_eq!(compare_dates(&ym, &full), DateLevel::YearOffByOne);
            proptest::prop_assert_eq!(compare_dates(&ym, &BirthDate { day: 0, ..full }), DateLevel::YearOffByOne);
            proptest::prop_assert_eq!(compare_dates(&y, &full), DateLevel::WithinYear);
            let two = BirthDate { year: full.year + if up { 2 } else { -2 }, ..y };
            proptest::prop_assert_eq!(compare_dates(&two, &full), DateLevel::Different);
        }

        #[test]
        fn precomputed_levels_agree_on_valid_dates(a in any_date(), b in any_date()) {
            proptest::prop_assert_eq!(DateFeat::new(a).level(&DateFeat::new(b)), compare_dates(&a, &b));
        }
    }

    #[test]
    fn precomputed_levels_agree_on_digit_edits() {
        for (x, y) in [
            ("2014-03-07", "2014-03-08"),
            ("2014-03-07", "2015-03-07"),
            ("2014-03-07", "2014-03-01"),
            ("2019-12-31", "2009-12-31"),
            ("2014-03-07", "2014-07-03"),
            ("2014-12-28", "2015-01-12"),
        ] {
            let (a, b) = (d(x), d(y));
            assert_eq!(
                DateFeat::new(a).level(&DateFeat::new(b)),
                compare_dates(&a, &b),
                "{x} {y}"
            );
        }
    }
}
