//! Dates from real paperwork: often only a year, or a year and month, sometimes "about 2014".

use crate::error::FieldError;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A date known to year, month or day precision, possibly approximate.
///
/// Written canonically as `2014`, `2014-03` or `2014-03-07`, with a leading `~` when approximate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PartialDate {
    year: i32,
    month: Option<u8>,
    day: Option<u8>,
    approximate: bool,
}

// Written by hand: utoipa's derive cannot describe a struct by the string it serialises to.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for PartialDate {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "`YYYY`, `YYYY-MM` or `YYYY-MM-DD`, with a leading `~` when approximate",
            ))
            .examples(["2014-03"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for PartialDate {}

const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 2200;

impl PartialDate {
    pub fn new(
        year: i32,
        month: Option<u8>,
        day: Option<u8>,
        approximate: bool,
    ) -> Result<Self, String> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(format!("year {year} is outside {MIN_YEAR}..{MAX_YEAR}"));
        }
        match (month, day) {
            (None, Some(_)) => return Err("a day needs a month".into()),
            (Some(m), None) if !(1..=12).contains(&m) => {
                return Err(format!("month {m} does not exist"));
            }
            (Some(m), Some(d))
                if NaiveDate::from_ymd_opt(year, u32::from(m), u32::from(d)).is_none() =>
            {
                return Err(format!("{year:04}-{m:02}-{d:02} is not a calendar date"));
            }
            _ => {}
        }
        Ok(Self {
            year,
            month,
            day,
            approximate,
        })
    }

    pub fn year(&self) -> i32 {
        self.year
    }
    pub fn month(&self) -> Option<u8> {
        self.month
    }
    pub fn day(&self) -> Option<u8> {
        self.day
    }
    pub fn is_approximate(&self) -> bool {
        self.approximate
    }

    /// The earliest calendar day this date can mean.
    pub fn earliest(&self) -> NaiveDate {
        let m = u32::from(self.month.unwrap_or(1));
        let d = u32::from(self.day.unwrap_or(1));
        NaiveDate::from_ymd_opt(self.year, m, d).unwrap_or(NaiveDate::MIN)
    }

    /// Parses the forms found on paperwork and in spreadsheets: `YYYY-MM-DD`, `YYYY-MM`, `YYYY`,
    /// `DD.MM.YYYY`, `DD/MM/YYYY`, `MM.YYYY`, `YYYYMMDD`; a leading `~`, `ca.`, `c.` or `approx`
    /// marks an approximate date.
    pub fn parse(input: &str) -> Result<Self, String> {
        let mut s = input.trim();
        let mut approximate = false;
        for prefix in [
            "~",
            "approx.",
            "approx",
            "ca.",
            "c.",
            "circa",
            "около",
            "близько",
            "прибл.",
        ] {
            if let Some(rest) = strip_prefix_ci(s, prefix) {
                s = rest.trim_start();
                approximate = true;
                break;
            }
        }
        if s.is_empty() {
            return Err("empty date".into());
        }
        let bad = || {
            format!(
                "{input:?} is not a date (use YYYY-MM-DD, YYYY-MM, YYYY, DD.MM.YYYY or DD/MM/YYYY)"
            )
        };
        let num = |t: &str| -> Result<u32, String> {
            if t.is_empty() || t.len() > 4 || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            t.parse::<u32>().map_err(|_| bad())
        };
        let to_y = |v: u32, t: &str| -> Result<i32, String> {
            if t.len() == 4 {
                i32::try_from(v).map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        let to_md = |v: u32| u8::try_from(v).map_err(|_| bad());
        let (year, month, day) = if s.contains('-') {
            let p: Vec<&str> = s.split('-').collect();
            match p.as_slice() {
                [y, m] => (to_y(num(y)?, y)?, Some(to_md(num(m)?)?), None),
                [y, m, d] => (
                    to_y(num(y)?, y)?,
                    Some(to_md(num(m)?)?),
                    Some(to_md(num(d)?)?),
                ),
                _ => return Err(bad()),
            }
        } else if s.contains('.') || s.contains('/') {
            let p: Vec<&str> = s.split(['.', '/']).collect();
            match p.as_slice() {
                [m, y] => (to_y(num(y)?, y)?, Some(to_md(num(m)?)?), None),
                [d, m, y] => (
                    to_y(num(y)?, y)?,
                    Some(to_md(num(m)?)?),
                    Some(to_md(num(d)?)?),
                ),
                _ => return Err(bad()),
            }
        } else if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
            let (y, rest) = s.split_at(4);
            let (m, d) = rest.split_at(2);
            (
                to_y(num(y)?, y)?,
                Some(to_md(num(m)?)?),
                Some(to_md(num(d)?)?),
            )
        } else {
            (to_y(num(s)?, s)?, None, None)
        };
        Self::new(year, month, day, approximate)
    }

    /// Parses a field value, naming the field in the error.
    pub fn parse_field(field: &str, input: &str) -> Result<Self, FieldError> {
        Self::parse(input).map_err(|m| FieldError::new(field, "invalid_date", m))
    }

    /// Whether the date can only lie after `today` (used to refuse birth dates in the future).
    pub fn is_after(&self, today: NaiveDate) -> bool {
        self.earliest() > today
            && !(self.month.is_none() && self.year == today.year())
            && !(self.day.is_none()
                && self.year == today.year()
                && self.month == Some(today.month() as u8))
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.to_lowercase()
        .eq(&prefix.to_lowercase())
        .then(|| &s[prefix.len()..])
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.approximate {
            f.write_str("~")?;
        }
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
        }
        if let Some(d) = self.day {
            write!(f, "-{d:02}")?;
        }
        Ok(())
    }
}

impl TryFrom<String> for PartialDate {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<PartialDate> for String {
    fn from(d: PartialDate) -> Self {
        d.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_every_documented_form() {
        let cases = [
            ("2014-03-07", "2014-03-07"),
            ("2014-03", "2014-03"),
            ("2014", "2014"),
            ("07.03.2014", "2014-03-07"),
            ("07/03/2014", "2014-03-07"),
            ("03.2014", "2014-03"),
            ("20140307", "2014-03-07"),
            ("~2014", "~2014"),
            ("ca. 2014-05", "~2014-05"),
            ("около 2012", "~2012"),
        ];
        for (input, want) in cases {
            assert_eq!(
                PartialDate::parse(input).unwrap().to_string(),
                want,
                "{input}"
            );
        }
    }

    #[test]
    fn refuses_impossible_dates_with_a_reason() {
        for bad in [
            "2014-02-30",
            "2014-13",
            "31.04.2014",
            "14",
            "20140",
            "yesterday",
            "",
            "1850",
            "2014-3-7-1",
        ] {
            assert!(PartialDate::parse(bad).is_err(), "{bad}");
        }
        assert!(
            PartialDate::parse("2014-02-30")
                .unwrap_err()
                .contains("not a calendar date")
        );
    }

    #[test]
    fn future_check_respects_precision() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        assert!(!PartialDate::parse("2026").unwrap().is_after(today));
        assert!(!PartialDate::parse("2026-11").unwrap().is_after(today));
        assert!(PartialDate::parse("2026-12").unwrap().is_after(today));
        assert!(PartialDate::parse("2026-11-22").unwrap().is_after(today));
        assert!(PartialDate::parse("2027").unwrap().is_after(today));
    }

    proptest! {
        #[test]
        fn display_round_trips(y in 1900i32..2200, m in 1u8..=12, d in 1u8..=28, prec in 0u8..3, approx: bool) {
            let date = match prec {
                0 => PartialDate::new(y, None, None, approx),
                1 => PartialDate::new(y, Some(m), None, approx),
                _ => PartialDate::new(y, Some(m), Some(d), approx),
            }.unwrap();
            prop_assert_eq!(PartialDate::parse(&date.to_string()).unwrap(), date);
        }
    }
}
