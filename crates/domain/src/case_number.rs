//! The short number people use for a case: `HW-2026-00042`.
//!
//! A case's UUID is for machines; people say, write and search a case by this number. It is given
//! by the store in the transaction that opens the case, from a counter per year that never goes
//! back, so a number is unique and never reused (a case is never deleted). The year is the year
//! (UTC) the case was opened; the sequence has at least five digits and grows beyond 99999.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A case number, `HW-YYYY-NNNNN`. Only [`CaseNumber::new`] and parsing make one, so a value of
/// this type is always well formed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaseNumber {
    year: u16,
    seq: u32,
}

/// Why a text is not a case number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CaseNumberError {
    #[error("a case number looks like HW-2026-00042")]
    Format,
    #[error("the year of a case number is 2000 to 9999")]
    Year,
    #[error("the sequence of a case number starts at 1")]
    Sequence,
}

impl CaseNumber {
    pub const PREFIX: &'static str = "HW";

    /// The exact form as a regular expression, for the OpenAPI document: exactly what
    /// `from_str` accepts (year 2000 to 9999, sequence from 1, five digits or more without a
    /// leading zero, at most nine digits so it fits the counter).
    pub const PATTERN: &'static str = r"^HW-[2-9][0-9]{3}-(?:0000[1-9]|000[1-9][0-9]|00[1-9][0-9]{2}|0[1-9][0-9]{3}|[1-9][0-9]{4,8})$";

    /// The `seq`-th case opened in `year`.
    pub fn new(year: i32, seq: i64) -> Result<Self, CaseNumberError> {
        let year = u16::try_from(year)
            .ok()
            .filter(|y| (2000..=9999).contains(y))
            .ok_or(CaseNumberError::Year)?;
        let seq = u32::try_from(seq)
            .ok()
            .filter(|s| *s >= 1)
            .ok_or(CaseNumberError::Sequence)?;
        Ok(Self { year, seq })
    }

    pub fn year(&self) -> i32 {
        i32::from(self.year)
    }

    pub fn seq(&self) -> i64 {
        i64::from(self.seq)
    }

    /// Reads what a person typed: any case, spaces around, `-` or a space or nothing between
    /// the parts (`hw 2026 42`, `HW-2026-00042`). `None` when it is not a case number.
    pub fn lenient(s: &str) -> Option<Self> {
        let s = s.trim();
        let rest = s
            .get(..2)
            .filter(|p| p.eq_ignore_ascii_case(Self::PREFIX))
            .map(|_| &s[2..])?;
        let rest = rest.trim_start_matches(['-', ' ']);
        let year = rest.get(..4)?;
        let seq = rest[4..].trim_start_matches(['-', ' ']);
        if !year.bytes().all(|b| b.is_ascii_digit())
            || seq.is_empty()
            || !seq.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        Self::new(year.parse().ok()?, seq.parse().ok()?).ok()
    }
}

impl fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:04}-{:05}", Self::PREFIX, self.year, self.seq)
    }
}

impl FromStr for CaseNumber {
    type Err = CaseNumberError;

    /// The exact form: `HW-`, four digits, `-`, at least five digits.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rest = s.strip_prefix("HW-").ok_or(CaseNumberError::Format)?;
        let (year, seq) = rest.split_once('-').ok_or(CaseNumberError::Format)?;
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || !digits(year) || seq.len() < 5 || !digits(seq) {
            return Err(CaseNumberError::Format);
        }
        if seq.len() > 5 && seq.starts_with('0') {
            return Err(CaseNumberError::Format);
        }
        let year: i32 = year.parse().map_err(|_| CaseNumberError::Format)?;
        let seq: i64 = seq.parse().map_err(|_| CaseNumberError::Sequence)?;
        Self::new(year, seq)
    }
}

impl Serialize for CaseNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CaseNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for CaseNumber {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(Self::PATTERN))
            .examples(["HW-2026-00042"])
            .description(Some(
                "The case's number for people: HW-, the year it was opened, its sequence in that year",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for CaseNumber {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_and_parses_back() {
        let n = CaseNumber::new(2026, 42).unwrap();
        assert_eq!(n.to_string(), "HW-2026-00042");
        assert_eq!("HW-2026-00042".parse::<CaseNumber>().unwrap(), n);
        let big = CaseNumber::new(2026, 123_456).unwrap();
        assert_eq!(big.to_string(), "HW-2026-123456");
        assert_eq!(big.to_string().parse::<CaseNumber>().unwrap(), big);
    }

    #[test]
    fn refuses_what_is_not_one() {
        for bad in [
            "",
            "HW-2026-0042",
            "HW-26-00042",
            "hw-2026-00042",
            "HW-2026-00000",
            "HW-1999-00001",
            "HW-2026-000042",
            "HW-2026-0004x",
            "XX-2026-00042",
            "HW-2026-00042 ",
        ] {
            assert!(bad.parse::<CaseNumber>().is_err(), "{bad:?}");
        }
        assert!(CaseNumber::new(2026, 0).is_err());
    }

    proptest::proptest! {
        /// The OpenAPI pattern promises clients that these texts are accepted.
        #[test]
        fn what_the_pattern_allows_parses(s in proptest::string::string_regex(
            // The generator knows no anchors; it makes whole strings anyway.
            CaseNumber::PATTERN.trim_start_matches('^').trim_end_matches('$')
        ).unwrap()) {
            proptest::prop_assert!(s.parse::<CaseNumber>().is_ok(), "{s:?}");
        }

    }

    #[test]
    fn reads_what_people_type() {
        let n = CaseNumber::new(2026, 42).unwrap();
        for typed in ["HW-2026-00042", "hw-2026-42", " hw 2026 42 ", "HW202600042"] {
            assert_eq!(CaseNumber::lenient(typed), Some(n), "{typed:?}");
        }
        for not in ["Oleksandr", "HW-20x6-1", "HW-2026-", "2026-00042"] {
            assert_eq!(CaseNumber::lenient(not), None, "{not:?}");
        }
    }

    #[test]
    fn serde_is_the_text() {
        let n = CaseNumber::new(2027, 7).unwrap();
        let j = serde_json::to_string(&n).unwrap();
        assert_eq!(j, "\"HW-2027-00007\"");
        assert_eq!(serde_json::from_str::<CaseNumber>(&j).unwrap(), n);
        assert!(serde_json::from_str::<CaseNumber>("\"HW-2027-7\"").is_err());
    }
}
