//! Input tables: named columns of a known kind, rows of optional strings, one id per row.

use crate::dates::BirthDate;
use crate::features::Prepared;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

/// What a column holds, which decides how it is normalised and compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// The record's id (passed to [`Table::push`] separately; never compared).
    Id,
    GivenName,
    Patronymic,
    FamilyName,
    /// A whole name in any order; split into given name, patronymic and family name where those
    /// columns are missing or empty.
    FullName,
    /// m/f in English, Ukrainian or Russian (male, чол., муж., ч, м, boy...).
    Sex,
    BirthDate,
    BirthPlace,
    /// A document number or other identifier: compared exactly after removing spaces and dashes.
    Identifier,
    /// Free text: compared by Jaro–Winkler similarity.
    Text,
    /// Any other value compared exactly (after folding case and marks).
    Exact,
    Ignore,
}

impl FieldKind {
    pub const ALL: [FieldKind; 12] = [
        FieldKind::Id,
        FieldKind::GivenName,
        FieldKind::Patronymic,
        FieldKind::FamilyName,
        FieldKind::FullName,
        FieldKind::Sex,
        FieldKind::BirthDate,
        FieldKind::BirthPlace,
        FieldKind::Identifier,
        FieldKind::Text,
        FieldKind::Exact,
        FieldKind::Ignore,
    ];

    /// The snake_case name (`given_name`), as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Id => "id",
            FieldKind::GivenName => "given_name",
            FieldKind::Patronymic => "patronymic",
            FieldKind::FamilyName => "family_name",
            FieldKind::FullName => "full_name",
            FieldKind::Sex => "sex",
            FieldKind::BirthDate => "birth_date",
            FieldKind::BirthPlace => "birth_place",
            FieldKind::Identifier => "identifier",
            FieldKind::Text => "text",
            FieldKind::Exact => "exact",
            FieldKind::Ignore => "ignore",
        }
    }

    /// Whether a column of this kind is compared (directly or through the names it holds).
    pub fn is_usable(self) -> bool {
        !matches!(self, FieldKind::Id | FieldKind::Ignore)
    }
}

impl fmt::Display for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FieldKind {
    type Err = LinkError;
    /// Accepts the snake_case names, case-insensitively, with `-` for `_`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace('-', "_");
        FieldKind::ALL
            .into_iter()
            .find(|k| k.as_str() == norm)
            .ok_or_else(|| {
                LinkError::Config(format!(
                    "unknown field kind {s:?} (one of: {})",
                    kind_list()
                ))
            })
    }
}

fn kind_list() -> String {
    FieldKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Errors of table building, configuration and model loading. Row numbers count pushed rows from 0.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("row {row}: id {id:?} is already used by row {first}")]
    DuplicateId {
        row: usize,
        id: String,
        first: usize,
    },
    #[error("row {row}: the id is empty")]
    EmptyId { row: usize },
    #[error("row {row} (id {id:?}): {expected} values expected, one per column, got {got}")]
    WrongWidth {
        row: usize,
        id: String,
        expected: usize,
        got: usize,
    },
    #[error("row {row} (id {id:?}), column {column:?}: {message}")]
    InvalidValue {
        row: usize,
        id: String,
        column: String,
        message: String,
    },
    #[error("no usable column: {0}")]
    NoUsableColumn(String),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("invalid model: {0}")]
    Model(String),
}

/// A column: its header and kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub kind: FieldKind,
}

pub(crate) const SEX_UNKNOWN: u8 = 0;
pub(crate) const SEX_MALE: u8 = 1;
pub(crate) const SEX_FEMALE: u8 = 2;

/// Reads sex as written on paperwork in English, Ukrainian or Russian.
pub fn parse_sex(text: &str) -> Result<u8, String> {
    let f = crate::normalise::fold(text);
    Ok(match f.as_str() {
        "m" | "male" | "man" | "boy" | "м" | "муж" | "мужской" | "мужчина" | "мальчик" | "ч"
        | "чол" | "чоловіча" | "чоловічий" | "хлопчик" | "1" => SEX_MALE,
        "f" | "female" | "w" | "woman" | "girl" | "ж" | "жен" | "женский" | "женщина"
        | "девочка" | "жін" | "жіноча" | "жіночий" | "дівчинка" | "2" => {
            SEX_FEMALE
        }
        "" | "u" | "unknown" | "x" | "невідомо" | "неизвестно" | "0" | "9" => {
            SEX_UNKNOWN
        }
        _ => {
            return Err(format!(
                "{text:?} is not a sex (m, f, male, female, ч, ж, м, or unknown)"
            ));
        }
    })
}

/// Records to link: columns of known kinds, rows of optional strings, and an id per row.
///
/// Values are kept as written (for explanations); dates and sex are parsed when a row is pushed,
/// so errors name the row and column at once. Names are normalised lazily, in parallel, the first
/// time the table is linked.
#[derive(Debug)]
pub struct Table {
    columns: Vec<Column>,
    ids: Vec<String>,
    id_index: HashMap<String, usize>,
    text: String,
    /// `(start, len)` into `text` per cell, row-major; `start == u32::MAX` for a missing value.
    cells: Vec<(u32, u32)>,
    /// The first birth-date column's value per row.
    pub(crate) dates: Vec<Option<BirthDate>>,
    /// The first sex column's value per row.
    pub(crate) sexes: Vec<u8>,
    prepared: OnceLock<Arc<Prepared>>,
}

impl Table {
    /// A table with these columns. Fails when no column can be compared (all `id`/`ignore`) or
    /// when two columns are of kind `id`.
    pub fn new(columns: Vec<(String, FieldKind)>) -> Result<Table, LinkError> {
        if !columns.iter().any(|(_, k)| k.is_usable()) {
            let names: Vec<String> = columns.iter().map(|(n, k)| format!("{n}={k}")).collect();
            return Err(LinkError::NoUsableColumn(format!(
                "columns [{}]; name at least one as given_name, family_name, full_name, birth_date, ...",
                names.join(", ")
            )));
        }
        if columns.iter().filter(|(_, k)| *k == FieldKind::Id).count() > 1 {
            return Err(LinkError::Config("more than one id column".into()));
        }
        Ok(Table {
            columns: columns
                .into_iter()
                .map(|(name, kind)| Column { name, kind })
                .collect(),
            ids: Vec::new(),
            id_index: HashMap::new(),
            text: String::new(),
            cells: Vec::new(),
            dates: Vec::new(),
            sexes: Vec::new(),
            prepared: OnceLock::new(),
        })
    }

    /// Adds a row. `values` has one entry per column, in column order; empty strings count as
    /// missing; the entry of an `id` or `ignore` column is kept but not read (the row's id is
    /// `id`). Fails, naming the row and column, on a duplicate or empty id, a wrong number of
    /// values, an unparseable date or sex.
    pub fn push<S: AsRef<str>>(
        &mut self,
        id: impl Into<String>,
        values: impl IntoIterator<Item = Option<S>>,
    ) -> Result<(), LinkError> {
        let id: String = id.into();
        let row = self.ids.len();
        if id.trim().is_empty() {
            return Err(LinkError::EmptyId { row });
        }
        if let Some(&first) = self.id_index.get(&id) {
            return Err(LinkError::DuplicateId { row, id, first });
        }
        let text_mark = self.text.len();
        let cells_mark = self.cells.len();
        let mut date = None;
        let mut sex = SEX_UNKNOWN;
        let mut seen_date = false;
        let mut seen_sex = false;
        let mut n = 0usize;
        let mut failure = None;
        for (i, v) in values.into_iter().enumerate() {
            n += 1;
            let Some(col) = self.columns.get(i) else {
                continue;
            };
            let value = v
                .as_ref()
                .map(|s| s.as_ref().trim())
                .filter(|s| !s.is_empty());
            match value {
                None => self.cells.push((u32::MAX, 0)),
                Some(s) => {
                    let start = u32::try_from(self.text.len()).unwrap_or(u32::MAX - 1);
                    self.text.push_str(s);
                    self.cells
                        .push((start, u32::try_from(s.len()).unwrap_or(0)));
                }
            }
            if failure.is_some() {
                continue;
            }
            let err = |message: String| LinkError::InvalidValue {
                row,
                id: id.clone(),
                column: col.name.clone(),
                message,
            };
            match col.kind {
                FieldKind::BirthDate if !seen_date => {
                    seen_date = true;
                    if let Some(s) = value {
                        match BirthDate::parse(s) {
                            Ok(d) => date = Some(d),
                            Err(e) => failure = Some(err(e)),
                        }
                    }
                }
                FieldKind::Sex if !seen_sex => {
                    seen_sex = true;
                    if let Some(s) = value {
                        match parse_sex(s) {
                            Ok(x) => sex = x,
                            Err(e) => failure = Some(err(e)),
                        }
                    }
                }
                _ => {}
            }
        }
        if n != self.columns.len() {
            failure = Some(LinkError::WrongWidth {
                row,
                id: id.clone(),
                expected: self.columns.len(),
                got: n,
            });
        }
        if let Some(e) = failure {
            self.text.truncate(text_mark);
            self.cells.truncate(cells_mark);
            return Err(e);
        }
        self.id_index.insert(id.clone(), row);
        self.ids.push(id);
        self.dates.push(date);
        self.sexes.push(sex);
        self.prepared = OnceLock::new();
        Ok(())
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn id(&self, row: usize) -> Option<&str> {
        self.ids.get(row).map(String::as_str)
    }

    /// The row with this id.
    pub fn row_of(&self, id: &str) -> Option<usize> {
        self.id_index.get(id).copied()
    }

    /// A cell as written (trimmed), or `None` when missing.
    pub fn value(&self, row: usize, column: usize) -> Option<&str> {
        let width = self.columns.len();
        if column >= width {
            return None;
        }
        let &(start, len) = self.cells.get(row * width + column)?;
        if start == u32::MAX {
            return None;
        }
        self.text.get(start as usize..start as usize + len as usize)
    }

    /// The first non-empty value in a column of this kind.
    pub(crate) fn first_of(&self, row: usize, kind: FieldKind) -> Option<&str> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind == kind)
            .find_map(|(i, _)| self.value(row, i))
    }

    pub(crate) fn has_kind(&self, kind: FieldKind) -> bool {
        self.columns.iter().any(|c| c.kind == kind)
    }

    pub(crate) fn prepared(&self) -> Arc<Prepared> {
        self.prepared
            .get_or_init(|| Arc::new(Prepared::build(self)))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> Vec<(String, FieldKind)> {
        vec![
            ("id".into(), FieldKind::Id),
            ("name".into(), FieldKind::FullName),
            ("dob".into(), FieldKind::BirthDate),
            ("sex".into(), FieldKind::Sex),
        ]
    }

    #[test]
    fn kinds_parse() {
        assert_eq!(
            "given_name".parse::<FieldKind>().ok(),
            Some(FieldKind::GivenName)
        );
        assert_eq!(
            "Birth-Date".parse::<FieldKind>().ok(),
            Some(FieldKind::BirthDate)
        );
        assert!("colour".parse::<FieldKind>().is_err());
        assert_eq!(
            serde_json::to_string(&FieldKind::FullName).ok().as_deref(),
            Some("\"full_name\"")
        );
    }

    #[test]
    fn errors_name_row_and_column() {
        assert!(matches!(
            Table::new(vec![
                ("id".into(), FieldKind::Id),
                ("x".into(), FieldKind::Ignore)
            ]),
            Err(LinkError::NoUsableColumn(_))
        ));
        let mut t = Table::new(cols()).unwrap();
        t.push(
            "a",
            [
                Some("a"),
                Some("Олійник Дмитро"),
                Some("2014-03-07"),
                Some("ч"),
            ],
        )
        .unwrap();
        let e = t.push("a", [Some("a"), Some("x"), None, None]).unwrap_err();
        assert!(
            matches!(
                e,
                LinkError::DuplicateId {
                    row: 1,
                    first: 0,
                    ..
                }
            ),
            "{e}"
        );
        let e = t
            .push("b", [Some("b"), Some("x"), Some("31.02.2014"), None])
            .unwrap_err();
        assert!(
            matches!(&e, LinkError::InvalidValue { row: 1, column, .. } if column == "dob"),
            "{e}"
        );
        let e = t
            .push("b", [Some("b"), Some("x"), None, Some("maybe")])
            .unwrap_err();
        assert!(
            matches!(&e, LinkError::InvalidValue { column, .. } if column == "sex"),
            "{e}"
        );
        let e = t.push("b", [Some("b"), Some("x")]).unwrap_err();
        assert!(
            matches!(
                e,
                LinkError::WrongWidth {
                    expected: 4,
                    got: 2,
                    ..
                }
            ),
            "{e}"
        );
        t.push("b", [Some("b"), Some(" Петров Иван "), Some(""), None])
            .unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t.value(1, 1), Some("Петров Иван"));
        assert_eq!(t.value(1, 2), None);
        assert_eq!(t.row_of("b"), Some(1));
        assert_eq!(t.sexes, vec![SEX_MALE, SEX_UNKNOWN]);
    }
}
