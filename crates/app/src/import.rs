//! Importing child records from a spreadsheet (CSV).
//!
//! The whole file is read and validated before anything is written, and the good rows are then
//! stored in one transaction with their audit entries: an import happens completely or not at all.
//! Every bad row is reported by the physical line it starts on, with every problem it has, so that
//! whoever prepared the file can fix it in one pass.

use crate::jobs::{JobView, match_key_of_import};
use crate::records::{filed_kind, new_record};
use crate::{App, AppError, AppResult, Caller, RowError};
use chrono::NaiveDate;
use homeward_domain::csv_cell;
use homeward_domain::name::NameInput;
use homeward_domain::{
    AuditAction, ChildRecordInput, FieldError, PartialDate, Permission, RecordDraft, RecordKind,
};
use homeward_store::{NewImport, StoreError};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;
use uuid::Uuid;

/// More rows than this is not an import but a migration; it should be split or done otherwise.
pub const MAX_ROWS: u64 = 1_000_000;

/// Parsing is CPU work inside an async task: hand the thread back this often so that a large
/// import does not stall the requests sharing the runtime.
const YIELD_EVERY: u64 = 1_000;

/// What a column of the file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    ExternalRef,
    GivenName,
    Patronymic,
    FamilyName,
    /// The first name entry exactly as written.
    FullName,
    NameScript,
    AltGivenName,
    AltPatronymic,
    AltFamilyName,
    AltFullName,
    AltScript,
    Sex,
    BirthDate,
    BirthPlace,
    SeparationDate,
    SeparationCircumstances,
    LastKnownLocation,
    CurrentLocation,
    CurrentCarer,
    EnquirerName,
    EnquirerRelationship,
    EnquirerContact,
    Notes,
    /// A column deliberately left out of the import.
    Ignore,
}

const FIELD_COUNT: usize = 24;

impl Field {
    pub const ALL: [Field; FIELD_COUNT] = [
        Self::ExternalRef,
        Self::GivenName,
        Self::Patronymic,
        Self::FamilyName,
        Self::FullName,
        Self::NameScript,
        Self::AltGivenName,
        Self::AltPatronymic,
        Self::AltFamilyName,
        Self::AltFullName,
        Self::AltScript,
        Self::Sex,
        Self::BirthDate,
        Self::BirthPlace,
        Self::SeparationDate,
        Self::SeparationCircumstances,
        Self::LastKnownLocation,
        Self::CurrentLocation,
        Self::CurrentCarer,
        Self::EnquirerName,
        Self::EnquirerRelationship,
        Self::EnquirerContact,
        Self::Notes,
        Self::Ignore,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ExternalRef => "external_ref",
            Self::GivenName => "given_name",
            Self::Patronymic => "patronymic",
            Self::FamilyName => "family_name",
            Self::FullName => "full_name",
            Self::NameScript => "name_script",
            Self::AltGivenName => "alt_given_name",
            Self::AltPatronymic => "alt_patronymic",
            Self::AltFamilyName => "alt_family_name",
            Self::AltFullName => "alt_full_name",
            Self::AltScript => "alt_script",
            Self::Sex => "sex",
            Self::BirthDate => "birth_date",
            Self::BirthPlace => "birth_place",
            Self::SeparationDate => "separation_date",
            Self::SeparationCircumstances => "separation_circumstances",
            Self::LastKnownLocation => "last_known_location",
            Self::CurrentLocation => "current_location",
            Self::CurrentCarer => "current_carer",
            Self::EnquirerName => "enquirer_name",
            Self::EnquirerRelationship => "enquirer_relationship",
            Self::EnquirerContact => "enquirer_contact",
            Self::Notes => "notes",
            Self::Ignore => "ignore",
        }
    }

    /// The same part of the second name entry.
    fn alt(self) -> Option<Self> {
        match self {
            Self::GivenName => Some(Self::AltGivenName),
            Self::Patronymic => Some(Self::AltPatronymic),
            Self::FamilyName => Some(Self::AltFamilyName),
            Self::FullName => Some(Self::AltFullName),
            Self::NameScript => Some(Self::AltScript),
            _ => None,
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    fn names() -> String {
        Self::ALL
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Field {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == wanted)
            .ok_or_else(|| format!("unknown field {s:?}; the fields are {}", Self::names()))
    }
}

/// Header names recognised without a `--column`, in English, Ukrainian and Russian. They are
/// compared after [`normalise_header`], so case, spaces, punctuation and apostrophes do not matter.
const ALIASES: &[(Field, &[&str])] = &[
    (
        Field::ExternalRef,
        &[
            "id",
            "record id",
            "ref",
            "reference",
            "ref no",
            "reference number",
            "file no",
            "file number",
            "file",
            "case no",
            "case number",
            "case id",
            "case ref",
            "номер",
            "номер справи",
            "№ справи",
            "справа",
            "реєстраційний номер",
            "номер заяви",
            "№ заяви",
            "ідентифікатор",
            "номер дела",
            "№ дела",
            "дело",
            "регистрационный номер",
            "номер заявления",
            "идентификатор",
        ],
    ),
    (
        Field::GivenName,
        &[
            "given",
            "first name",
            "forename",
            "forenames",
            "christian name",
            "ім'я",
            "имя",
        ],
    ),
    (
        Field::Patronymic,
        &[
            "patronym",
            "middle name",
            "middle names",
            "по батькові",
            "ім'я по батькові",
            "отчество",
        ],
    ),
    (
        Field::FamilyName,
        &["surname", "last name", "family", "прізвище", "фамилия"],
    ),
    (
        Field::FullName,
        &[
            "name",
            "full name",
            "name as written",
            "as written",
            "піб",
            "прізвище ім'я по батькові",
            "повне ім'я",
            "фио",
            "фамилия имя отчество",
            "полное имя",
            "имя полностью",
        ],
    ),
    (
        Field::NameScript,
        &[
            "script",
            "name language",
            "alphabet",
            "writing system",
            "мова запису",
            "алфавіт",
            "алфавит",
        ],
    ),
    (
        Field::Sex,
        &["gender", "sex/gender", "стать", "пол", "м/ж", "ч/ж"],
    ),
    (
        Field::BirthDate,
        &[
            "dob",
            "date of birth",
            "birthdate",
            "born",
            "birthday",
            "year of birth",
            "birth year",
            "yob",
            "дата народження",
            "дата нар.",
            "рік народження",
            "д.н.",
            "дата рождения",
            "год рождения",
            "д.р.",
        ],
    ),
    (
        Field::BirthPlace,
        &[
            "place of birth",
            "birthplace",
            "pob",
            "born in",
            "місце народження",
            "место рождения",
        ],
    ),
    (
        Field::SeparationDate,
        &[
            "date of separation",
            "date separated",
            "separated on",
            "date missing",
            "missing since",
            "date of disappearance",
            "disappearance date",
            "дата розлучення",
            "дата розлучення з сім'єю",
            "дата зникнення",
            "дата втрати зв'язку",
            "дата вивезення",
            "дата депортації",
            "дата разлучения",
            "дата исчезновения",
            "дата пропажи",
            "дата вывоза",
        ],
    ),
    (
        Field::SeparationCircumstances,
        &[
            "circumstances",
            "circumstances of separation",
            "how separated",
            "обставини",
            "обставини розлучення",
            "обставини зникнення",
            "обстоятельства",
            "обстоятельства разлучения",
            "обстоятельства исчезновения",
        ],
    ),
    (
        Field::LastKnownLocation,
        &[
            "last seen",
            "last seen at",
            "last known address",
            "last location",
            "last address",
            "останнє відоме місцеперебування",
            "останнє місце перебування",
            "остання адреса",
            "последнее известное местонахождение",
            "последнее местонахождение",
            "последний адрес",
        ],
    ),
    (
        Field::CurrentLocation,
        &[
            "location",
            "whereabouts",
            "current address",
            "address",
            "institution",
            "facility",
            "placement",
            "place of stay",
            "місцеперебування",
            "поточне місцеперебування",
            "місце перебування",
            "заклад",
            "адреса",
            "местонахождение",
            "текущее местонахождение",
            "место пребывания",
            "учреждение",
            "адрес",
        ],
    ),
    (
        Field::CurrentCarer,
        &[
            "carer",
            "caregiver",
            "care giver",
            "guardian",
            "custodian",
            "foster parent",
            "опікун",
            "піклувальник",
            "опекун",
            "попечитель",
        ],
    ),
    (
        Field::EnquirerName,
        &[
            "enquirer",
            "inquirer",
            "requester",
            "requester name",
            "applicant",
            "applicant name",
            "reported by",
            "заявник",
            "піб заявника",
            "хто шукає",
            "заявитель",
            "фио заявителя",
            "кто ищет",
        ],
    ),
    (
        Field::EnquirerRelationship,
        &[
            "relationship",
            "relationship to child",
            "relation",
            "kinship",
            "ступінь спорідненості",
            "родинний зв'язок",
            "ким доводиться",
            "степень родства",
            "родство",
            "кем приходится",
        ],
    ),
    (
        Field::EnquirerContact,
        &[
            "contact",
            "contacts",
            "contact details",
            "phone",
            "telephone",
            "email",
            "e-mail",
            "контакт",
            "контакти",
            "контактні дані",
            "телефон",
            "контакты",
            "контактные данные",
        ],
    ),
    (
        Field::Notes,
        &[
            "note",
            "comments",
            "comment",
            "remarks",
            "remark",
            "примітки",
            "примітка",
            "коментар",
            "коментарі",
            "примечания",
            "примечание",
            "комментарий",
            "комментарии",
        ],
    ),
    // Row counters of office spreadsheets, and the columns this module adds to a rejects file (so
    // that a corrected rejects file imports as it is).
    (
        Field::Ignore,
        &["№ з/п", "№ п/п", "з/п", "п/п", "line", "error"],
    ),
];

/// Ways of saying "the second name entry": `alt_surname`, `Surname 2`, `Прізвище (латиницею)`.
const ALT_PREFIXES: &[&str] = &["alternative", "alt", "other", "second", "passport", "latin"];
const ALT_SUFFIXES: &[&str] = &[
    "2",
    "alt",
    "latin",
    "lat",
    "en",
    "eng",
    "passport",
    "латиницею",
    "латиницей",
    "латинкою",
];
/// Ways of saying "the child's": `Child's surname`, `Дата народження дитини`.
const CHILD_PREFIXES: &[&str] = &["childs", "child"];
const CHILD_SUFFIXES: &[&str] = &["ofthechild", "ofchild", "дитини", "ребенка"];

/// Case, spacing, punctuation and apostrophes (', ’, ʼ) differ from one spreadsheet to the next
/// and carry no meaning in a header.
fn normalise_header(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            'ё' | 'Ё' => out.push('е'),
            // The Ukrainian apostrophe is often typed as U+02BC, which Unicode counts as a letter.
            'ʼ' => {}
            '№' | '#' => out.push_str("no"),
            c if c.is_alphanumeric() => out.extend(c.to_lowercase()),
            _ => {}
        }
    }
    out
}

static HEADER_INDEX: LazyLock<HashMap<String, Field>> = LazyLock::new(|| {
    let mut index = HashMap::new();
    for f in Field::ALL {
        index.insert(normalise_header(f.as_str()), f);
    }
    for (f, aliases) in ALIASES {
        for a in *aliases {
            index.entry(normalise_header(a)).or_insert(*f);
        }
    }
    index
});

/// The field a header names, if it is one Homeward knows.
pub fn recognise_header(header: &str) -> Option<Field> {
    let n = normalise_header(header);
    if n.is_empty() {
        return None;
    }
    let direct = |s: &str| HEADER_INDEX.get(s).copied();
    let about_child = |s: &str| {
        direct(s)
            .or_else(|| {
                CHILD_PREFIXES
                    .iter()
                    .find_map(|p| s.strip_prefix(p).and_then(direct))
            })
            .or_else(|| {
                CHILD_SUFFIXES
                    .iter()
                    .find_map(|p| s.strip_suffix(p).and_then(direct))
            })
    };
    about_child(&n)
        .or_else(|| {
            ALT_PREFIXES
                .iter()
                .find_map(|p| n.strip_prefix(p).and_then(about_child).and_then(Field::alt))
        })
        .or_else(|| {
            ALT_SUFFIXES
                .iter()
                .find_map(|p| n.strip_suffix(p).and_then(about_child).and_then(Field::alt))
        })
}

/// How to read a file beyond what its headers say.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The kind of record the file holds, when the client says (a URL or a subcommand does).
    /// The caller's party decides the kind; a different one here is refused rather than
    /// silently filing, say, custody records as tracing requests.
    pub kind: Option<RecordKind>,
    /// `(header, field)` pairs that override header recognition; the field may be `ignore`.
    pub columns: Vec<(String, String)>,
    /// Import the good rows and report the bad ones, instead of refusing the whole file.
    pub skip_invalid: bool,
    /// Import a row whose only faults are a sex, birth date or separation date that cannot be
    /// read: the value is left out of the field (so matching treats it as missing, as
    /// `homeward link` does) and kept word for word in the record's notes, so nothing typed is
    /// lost. Without it such a row is invalid.
    pub keep_unreadable: bool,
    /// Import even though the party imported the same file (same SHA-256) before; without it
    /// a second import of one file is refused with `already_imported`.
    pub force: bool,
}

/// The kind the caller files, checked against the kind the client said the file holds.
fn import_kind(caller: &Caller, options: &ImportOptions) -> AppResult<RecordKind> {
    let kind = filed_kind(caller)?;
    match options.kind {
        Some(wanted) if wanted != kind => Err(AppError::ForbiddenBecause(match wanted {
            RecordKind::TracingRequest => "only origin parties file tracing requests",
            RecordKind::CustodyRecord => "only custody parties file custody records",
        })),
        _ => Ok(kind),
    }
}

/// Parses `HEADER=FIELD` (as given to `--column`); the field must be one Homeward knows.
pub fn parse_column_mapping(s: &str) -> Result<(String, String), String> {
    let Some((header, field)) = s.rsplit_once('=') else {
        return Err(format!("{s:?} is not HEADER=FIELD"));
    };
    let header = header.trim();
    if header.is_empty() {
        return Err(format!("{s:?} has no header before '='"));
    }
    let field = field.parse::<Field>()?;
    Ok((header.to_owned(), field.as_str().to_owned()))
}

/// Where a long import has got to, for progress bars.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImportPhase {
    /// Reading and validating the file; `done`/`total` count bytes of the file.
    Parsing,
    /// Writing the records; `done`/`total` count records.
    Storing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportProgress {
    pub phase: ImportPhase,
    pub done: u64,
    pub total: u64,
    /// Data rows read so far.
    pub rows: u64,
}

/// The outcome of an import that was carried out.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    /// Names this import in the audit log (`import.commit` and each record's `record.create`).
    pub import_id: Uuid,
    pub imported: usize,
    /// Rows left out because they were invalid (only with `skip_invalid`).
    pub rejected: Vec<RowError>,
    /// The rejected rows as CSV: their line and errors, then the original cells under the
    /// original header. Present when rows were rejected.
    pub reject_csv: Option<String>,
    /// Rows imported with values that could not be read, each value kept in the record's notes
    /// (only with `keep_unreadable`): why each was not read.
    pub kept_unreadable: Vec<RowError>,
    /// Rows whose birth date was written by hand in a form only read loosely (a month by name,
    /// a two-digit year, a year marked as a year of birth, month first): stored as read, with
    /// its precision, the date as typed kept in the notes; each for a person to check
    /// (`date_read_loosely`).
    pub read_loosely: Vec<RowError>,
    /// The matching of the imported records, a job: `queued`, `running`, `done` or `failed`
    /// (`GET /api/v1/imports/{import_id}/matching` follows it).
    pub matching: Option<JobView>,
}

/// The outcome of checking a file without importing it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportCheck {
    /// Rows that would be imported.
    pub valid: usize,
    pub rejected: Vec<RowError>,
    pub reject_csv: Option<String>,
    /// Rows that would be imported with values not read (kept in their notes).
    pub kept_unreadable: Vec<RowError>,
    /// Rows whose birth date would be read loosely, for a person to check (see
    /// [`ImportReport::read_loosely`]).
    pub read_loosely: Vec<RowError>,
}

// ---- reading CSV ------------------------------------------------------------------------------

/// A CSV reader that knows which physical line each row starts on (rows may span lines inside
/// quotes, and blank lines are skipped, so the count of rows is not the line number). The `csv`
/// crate was tried first: its record positions name the wrong line for a row after a blank line,
/// and an import report that points at the wrong line is worse than none.
#[derive(Debug)]
struct CsvReader<'a> {
    text: &'a str,
    pos: usize,
    line: u64,
    delimiter: u8,
}

impl<'a> CsvReader<'a> {
    fn new(text: &'a str, delimiter: u8) -> Self {
        Self {
            text,
            pos: 0,
            line: 1,
            delimiter,
        }
    }

    fn bytes_read(&self) -> usize {
        self.pos
    }

    /// Consumes one line break (`\n`, `\r\n` or a lone `\r`) at the current position.
    fn eat_line_break(&mut self) {
        let b = self.text.as_bytes();
        if b.get(self.pos) == Some(&b'\r') {
            self.pos += 1;
        }
        if b.get(self.pos) == Some(&b'\n') {
            self.pos += 1;
        }
        self.line += 1;
    }

    /// The next row that is not a blank line, with the line it starts on.
    fn next_row(&mut self) -> AppResult<Option<(u64, Vec<Cow<'a, str>>)>> {
        let b = self.text.as_bytes();
        while matches!(b.get(self.pos), Some(b'\r' | b'\n')) {
            self.eat_line_break();
        }
        if self.pos >= b.len() {
            return Ok(None);
        }
        let start_line = self.line;
        let mut cells = Vec::new();
        loop {
            let cell = if b.get(self.pos) == Some(&b'"') {
                self.quoted(start_line)?
            } else {
                self.unquoted()
            };
            // A cell a rejects file guarded against spreadsheet formulas reads as it was typed.
            cells.push(match cell {
                Cow::Borrowed(c) => Cow::Borrowed(csv_cell::restore(c)),
                Cow::Owned(c) => Cow::Owned(csv_cell::restore(&c).to_owned()),
            });
            match b.get(self.pos) {
                Some(&c) if c == self.delimiter => self.pos += 1,
                Some(b'\r' | b'\n') => {
                    self.eat_line_break();
                    break;
                }
                _ => break,
            }
        }
        Ok(Some((start_line, cells)))
    }

    fn unquoted(&mut self) -> Cow<'a, str> {
        let b = self.text.as_bytes();
        let start = self.pos;
        while let Some(&c) = b.get(self.pos) {
            if c == self.delimiter || c == b'\r' || c == b'\n' {
                break;
            }
            self.pos += 1;
        }
        // Delimiters and line breaks are ASCII, so this cuts on a character boundary.
        Cow::Borrowed(&self.text[start..self.pos])
    }

    fn quoted(&mut self, start_line: u64) -> AppResult<Cow<'a, str>> {
        let b = self.text.as_bytes();
        self.pos += 1;
        let mut cell = String::new();
        loop {
            let Some(close) = b[self.pos..]
                .iter()
                .position(|&c| c == b'"')
                .map(|i| self.pos + i)
            else {
                return Err(AppError::ImportFile(format!(
                    "line {start_line}: a quoted cell is never closed (a \" is missing)"
                )));
            };
            let segment = &self.text[self.pos..close];
            self.line += line_breaks(segment.as_bytes());
            cell.push_str(segment);
            self.pos = close + 1;
            if b.get(self.pos) == Some(&b'"') {
                cell.push('"');
                self.pos += 1;
            } else {
                break;
            }
        }
        // Spreadsheets never write text after a closing quote, but hand-edited files do (`"a" b`):
        // keep it rather than lose it.
        let rest = self.unquoted();
        cell.push_str(&rest);
        Ok(Cow::Owned(cell))
    }
}

fn line_breaks(b: &[u8]) -> u64 {
    let mut n = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n')) {
            n += 1;
        }
    }
    n
}

/// The delimiter under which the header line makes the most sense: the most recognised headers,
/// then the most columns, then comma before semicolon before tab. Counting recognised headers
/// rather than delimiters copes with headers such as `Прізвище, ім'я, по батькові;Стать`.
fn sniff_delimiter(text: &str, explicit: &[(String, String)]) -> u8 {
    let mut best = (b',', 0usize, 0usize);
    for d in [b',', b';', b'\t'] {
        let Ok(Some((_, cells))) = CsvReader::new(text, d).next_row() else {
            continue;
        };
        let known = cells
            .iter()
            .filter(|c| {
                recognise_header(c).is_some() || explicit.iter().any(|(h, _)| header_matches(h, c))
            })
            .count();
        if (known, cells.len()) > (best.1, best.2) {
            best = (d, known, cells.len());
        }
    }
    best.0
}

fn header_matches(wanted: &str, header: &str) -> bool {
    let (w, h) = (wanted.trim(), header.trim());
    w == h || {
        let n = normalise_header(w);
        !n.is_empty() && n == normalise_header(h)
    }
}

/// The file as text: UTF-8, a leading byte-order mark dropped.
fn decode(bytes: &[u8]) -> AppResult<(&str, bool)> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(AppError::ImportFile(
            "the file is UTF-16; save it as UTF-8 (\"CSV UTF-8\" in spreadsheet programs)"
                .to_owned(),
        ));
    }
    let (body, bom) = match bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        Some(rest) => (rest, true),
        None => (bytes, false),
    };
    match std::str::from_utf8(body) {
        Ok(text) => Ok((text, bom)),
        Err(e) => {
            let line = body[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            Err(AppError::ImportFile(format!(
                "line {line} is not valid UTF-8; save the file as UTF-8 (\"CSV UTF-8\" in spreadsheet programs)"
            )))
        }
    }
}

// ---- mapping columns --------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Field(Field),
    Ignore,
    /// A column without a header: fine while empty (spreadsheets export trailing empty columns),
    /// an error when it holds something, since that would be dropped silently.
    Unnamed,
}

fn map_columns(header: &[Cow<'_, str>], explicit: &[(String, String)]) -> AppResult<Vec<Column>> {
    let mut problems = Vec::new();
    let mut columns = vec![Column::Unnamed; header.len()];
    let mut assigned = vec![false; header.len()];
    for (wanted, field) in explicit {
        let field = match field.parse::<Field>() {
            Ok(f) => f,
            Err(e) => {
                problems.push(format!("--column {wanted}={field}: {e}"));
                continue;
            }
        };
        let mut found = false;
        for (i, h) in header.iter().enumerate() {
            if header_matches(wanted, h) {
                found = true;
                assigned[i] = true;
                columns[i] = if field == Field::Ignore {
                    Column::Ignore
                } else {
                    Column::Field(field)
                };
            }
        }
        if !found {
            problems.push(format!(
                "--column {wanted}={field}: the file has no column headed {wanted:?}"
            ));
        }
    }
    for (i, h) in header.iter().enumerate() {
        if assigned[i] || h.trim().is_empty() {
            continue;
        }
        columns[i] = match recognise_header(h) {
            Some(Field::Ignore) => Column::Ignore,
            Some(f) => Column::Field(f),
            None => {
                let h = h.trim();
                problems.push(format!(
                    "column {} {h:?} is not a field Homeward knows; map it with --column \"{h}=FIELD\" \
                     (FIELD one of {}) or leave it out with --column \"{h}=ignore\"",
                    i + 1,
                    Field::names()
                ));
                Column::Ignore
            }
        };
    }
    let mut first: HashMap<Field, &str> = HashMap::new();
    for (i, c) in columns.iter().enumerate() {
        if let Column::Field(f) = c {
            let h = header[i].trim();
            match first.get(f) {
                Some(prev) => problems.push(format!(
                    "columns {prev:?} and {h:?} both hold {f}; leave one out with --column \"{h}=ignore\""
                )),
                None => {
                    first.insert(*f, h);
                }
            }
        }
    }
    let has_name = [
        Field::GivenName,
        Field::Patronymic,
        Field::FamilyName,
        Field::FullName,
    ]
    .iter()
    .any(|f| first.contains_key(f));
    if !has_name {
        problems.push(
            "no column holds the child's name: expected a column such as given_name, family_name or full_name \
             (or map one with --column \"HEADER=given_name\")"
                .to_owned(),
        );
    }
    if problems.is_empty() {
        Ok(columns)
    } else {
        Err(AppError::ImportFile(problems.join("; ")))
    }
}

// ---- rows -------------------------------------------------------------------------------------

/// A row that failed, with its cells as they were (for the rejects file).
#[derive(Clone, Debug)]
pub(crate) struct BadRow {
    pub error: RowError,
    pub cells: Vec<String>,
}

/// A whole file read and validated, nothing stored yet.
#[derive(Clone, Debug)]
pub(crate) struct ParsedImport {
    pub header: Vec<String>,
    pub delimiter: u8,
    pub bom: bool,
    /// Valid rows with the line each starts on.
    pub good: Vec<(u64, RecordDraft)>,
    pub bad: Vec<BadRow>,
    /// Good rows with values not read and kept in their notes (`keep_unreadable`).
    pub kept: Vec<RowError>,
    /// Good rows with a birth date read loosely, to be checked.
    pub loose: Vec<RowError>,
    pub rows: u64,
}

impl ParsedImport {
    fn rejected(&self) -> Vec<RowError> {
        self.bad.iter().map(|b| b.error.clone()).collect()
    }

    /// The bad rows as CSV in the file's own delimiter, `line` and `error` first.
    pub(crate) fn reject_csv(&self) -> String {
        let mut out = String::new();
        if self.bom {
            out.push('\u{feff}');
        }
        let head = ["line", "error"]
            .into_iter()
            .chain(self.header.iter().map(String::as_str));
        write_csv_row(&mut out, head, self.delimiter);
        for bad in &self.bad {
            let line = bad.error.line.to_string();
            let errors = describe_errors(&bad.error.errors);
            let cells = [line.as_str(), errors.as_str()]
                .into_iter()
                .chain(bad.cells.iter().map(String::as_str));
            write_csv_row(&mut out, cells, self.delimiter);
        }
        out
    }
}

/// `field: message; field: message`.
pub fn describe_errors(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

fn write_csv_row<'s>(out: &mut String, cells: impl IntoIterator<Item = &'s str>, delimiter: u8) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(char::from(delimiter));
        }
        let cell = csv_cell::neutralise(cell);
        if cell
            .bytes()
            .any(|b| b == delimiter || matches!(b, b'"' | b'\n' | b'\r'))
        {
            out.push('"');
            out.push_str(&cell.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&cell);
        }
    }
    out.push('\n');
}

/// Reads rows one at a time, so the async caller can report progress and yield between them.
struct Session<'a> {
    reader: CsvReader<'a>,
    columns: Vec<Column>,
    kind: RecordKind,
    today: NaiveDate,
    seen_refs: HashMap<String, u64>,
    max_rows: u64,
    keep_unreadable: bool,
    out: ParsedImport,
}

/// Which name entry (`names[i]`) came from which group of columns, to name errors by column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NameSlot {
    Primary,
    Alt,
}

impl<'a> Session<'a> {
    fn new(
        bytes: &'a [u8],
        kind: RecordKind,
        today: NaiveDate,
        options: &ImportOptions,
    ) -> AppResult<Self> {
        let (text, bom) = decode(bytes)?;
        let delimiter = sniff_delimiter(text, &options.columns);
        let mut reader = CsvReader::new(text, delimiter);
        let header = match reader.next_row()? {
            Some((_, cells)) if cells.iter().any(|c| !c.trim().is_empty()) => cells,
            _ => {
                return Err(AppError::ImportFile(
                    "the file is empty: there is no header line".to_owned(),
                ));
            }
        };
        let columns = map_columns(&header, &options.columns)?;
        let header = header.iter().map(|h| h.trim().to_owned()).collect();
        Ok(Self {
            reader,
            columns,
            kind,
            today,
            seen_refs: HashMap::new(),
            max_rows: MAX_ROWS,
            keep_unreadable: options.keep_unreadable,
            out: ParsedImport {
                header,
                delimiter,
                bom,
                good: Vec::new(),
                bad: Vec::new(),
                kept: Vec::new(),
                loose: Vec::new(),
                rows: 0,
            },
        })
    }

    /// Reads and checks one row; `false` at the end of the file.
    fn step(&mut self) -> AppResult<bool> {
        let Some((line, cells)) = self.reader.next_row()? else {
            return Ok(false);
        };
        if cells.iter().all(|c| c.trim().is_empty()) {
            return Ok(true);
        }
        self.out.rows += 1;
        if self.out.rows > self.max_rows {
            return Err(AppError::ImportFile(format!(
                "the file has more than {} rows (line {line}); split it into several imports",
                self.max_rows
            )));
        }
        match self.check_row(line, &cells) {
            Ok((draft, kept, loose)) => {
                if !kept.is_empty() {
                    self.out.kept.push(RowError { line, errors: kept });
                }
                if let Some(e) = loose {
                    self.out.loose.push(RowError {
                        line,
                        errors: vec![e],
                    });
                }
                self.out.good.push((line, draft))
            }
            Err(errors) => self.out.bad.push(BadRow {
                error: RowError { line, errors },
                cells: cells.into_iter().map(Cow::into_owned).collect(),
            }),
        }
        Ok(true)
    }

    /// The row's record, with the values not read when `keep_unreadable` let it in, and the
    /// flag of a birth date read loosely.
    fn check_row(
        &mut self,
        line: u64,
        cells: &[Cow<'_, str>],
    ) -> Result<CheckedRow, Vec<FieldError>> {
        if cells.len() != self.columns.len() {
            // The cells no longer line up with the header, so any per-field message would mislead.
            return Err(vec![FieldError::new(
                "row",
                "wrong_cell_count",
                format!(
                    "has {} cells but the header has {} columns",
                    cells.len(),
                    self.columns.len()
                ),
            )]);
        }
        let mut errors = Vec::new();
        let mut values: [Option<&str>; FIELD_COUNT] = [None; FIELD_COUNT];
        for (i, (column, cell)) in self.columns.iter().zip(cells).enumerate() {
            let present = !cell.trim().is_empty();
            match column {
                Column::Field(f) if present => values[f.index()] = Some(cell.as_ref()),
                Column::Unnamed if present => errors.push(FieldError::new(
                    format!("column {}", i + 1),
                    "unnamed_column",
                    "has a value but the column has no header; name the column or empty it",
                )),
                _ => {}
            }
        }
        let get = |f: Field| values[f.index()].map(str::to_owned);
        let mut names = Vec::new();
        let mut slots = Vec::new();
        for (slot, [given, patronymic, family, full, script]) in [
            (
                NameSlot::Primary,
                [
                    Field::GivenName,
                    Field::Patronymic,
                    Field::FamilyName,
                    Field::FullName,
                    Field::NameScript,
                ],
            ),
            (
                NameSlot::Alt,
                [
                    Field::AltGivenName,
                    Field::AltPatronymic,
                    Field::AltFamilyName,
                    Field::AltFullName,
                    Field::AltScript,
                ],
            ),
        ] {
            let entry = NameInput {
                given: get(given),
                patronymic: get(patronymic),
                family: get(family),
                script: get(script),
                as_written: get(full),
            };
            if entry != NameInput::default() {
                names.push(entry);
                slots.push(slot);
            }
        }
        let (input, loose) = read_birth_date_loosely(ChildRecordInput {
            external_ref: get(Field::ExternalRef),
            names,
            sex: get(Field::Sex),
            birth_date: get(Field::BirthDate),
            birth_place: get(Field::BirthPlace),
            separation_date: get(Field::SeparationDate),
            separation_circumstances: get(Field::SeparationCircumstances),
            last_known_location: get(Field::LastKnownLocation),
            current_location: get(Field::CurrentLocation),
            current_carer: get(Field::CurrentCarer),
            enquirer_name: get(Field::EnquirerName),
            enquirer_relationship: get(Field::EnquirerRelationship),
            enquirer_contact: get(Field::EnquirerContact),
            notes: get(Field::Notes),
        });
        if let Some(r) = input.external_ref.as_deref().map(str::trim) {
            if let Some(first) = self.seen_refs.get(r) {
                errors.push(FieldError::new(
                    "external_ref",
                    "duplicate_in_file",
                    format!("{r:?} is already used on line {first}"),
                ));
            } else {
                self.seen_refs.insert(r.to_owned(), line);
            }
        }
        match input.parse(self.kind, self.today) {
            Ok(draft) if errors.is_empty() => Ok((draft, Vec::new(), loose)),
            Ok(_) => Err(errors),
            Err(domain)
                if self.keep_unreadable
                    && errors.is_empty()
                    && domain.0.iter().all(is_unreadable) =>
            {
                let input = keep_in_notes(input, &domain.0);
                match input.parse(self.kind, self.today) {
                    Ok(draft) => Ok((draft, domain.0, loose)),
                    Err(still) => Err(still
                        .0
                        .into_iter()
                        .map(|e| name_by_column(e, &slots))
                        .collect()),
                }
            }
            Err(domain) => {
                let mut all: Vec<FieldError> = domain
                    .0
                    .into_iter()
                    .map(|e| name_by_column(e, &slots))
                    .collect();
                all.append(&mut errors);
                Err(all)
            }
        }
    }

    fn progress(&self, total: u64) -> ImportProgress {
        ImportProgress {
            phase: ImportPhase::Parsing,
            done: self.reader.bytes_read() as u64,
            total,
            rows: self.out.rows,
        }
    }
}

/// A row's record, the values kept aside (`keep_unreadable`), and the flag of a birth date
/// read loosely.
type CheckedRow = (RecordDraft, Vec<FieldError>, Option<FieldError>);

/// The row with a birth date the domain's parser refuses but `homeward link` reads
/// ([`homeward_linkage::read_loosely`]: written by hand, month first) stored as read, at the
/// precision it has, with the date as typed added to the notes; and the flag for a person to
/// check it. A reading, not what was typed, so never silent; and never a refused row, since
/// matching would read it anyway.
fn read_birth_date_loosely(mut input: ChildRecordInput) -> (ChildRecordInput, Option<FieldError>) {
    let Some(typed) = input.birth_date.as_deref().map(str::trim) else {
        return (input, None);
    };
    if PartialDate::parse(typed).is_ok() {
        return (input, None);
    }
    let Some(read) = homeward_linkage::read_loosely(typed) else {
        return (input, None);
    };
    let typed = typed.to_owned();
    let note = format!("birth_date: {typed} (read on import as {read}; to check)");
    input.notes = Some(match input.notes.take() {
        Some(n) if !n.trim().is_empty() => format!("{n}\n{note}"),
        _ => note,
    });
    input.birth_date = Some(read.to_string());
    let flag = FieldError::new(
        "birth_date",
        "date_read_loosely",
        format!("{typed:?} was read as {read}; check it against the document"),
    );
    (input, Some(flag))
}

/// A value the import may leave out and keep in the notes (`keep_unreadable`): a sex or a date
/// that could not be read, never a name, a reference or a text too long.
fn is_unreadable(e: &FieldError) -> bool {
    matches!(
        (e.field.as_str(), e.code),
        ("sex", "invalid_sex")
            | (
                "birth_date" | "separation_date",
                "invalid_date" | "date_in_future"
            )
            | ("separation_date", "before_birth")
    )
}

/// The row with each unreadable value taken out of its field and added to the notes as typed,
/// e.g. `birth_date: 2013 р.н. (not read on import: invalid_date)`.
fn keep_in_notes(mut input: ChildRecordInput, unread: &[FieldError]) -> ChildRecordInput {
    let mut kept = Vec::new();
    for e in unread {
        let slot = match e.field.as_str() {
            "sex" => &mut input.sex,
            "birth_date" => &mut input.birth_date,
            "separation_date" => &mut input.separation_date,
            _ => continue,
        };
        if let Some(value) = slot.take() {
            kept.push(format!(
                "{}: {} (not read on import: {})",
                e.field,
                value.trim(),
                e.code
            ));
        }
    }
    let notes = input.notes.take().into_iter().chain(kept);
    input.notes = Some(notes.collect::<Vec<_>>().join("\n"));
    input
}

/// Renames the domain's `names[0].given` to the column vocabulary of the file (`given_name`,
/// `alt_given_name`): whoever fixes the spreadsheet knows columns, not name entries.
fn name_by_column(mut e: FieldError, slots: &[NameSlot]) -> FieldError {
    if e.field == "names" {
        e.field = "name".to_owned();
        return e;
    }
    let Some(rest) = e.field.strip_prefix("names[") else {
        return e;
    };
    let Some((index, part)) = rest.split_once(']') else {
        return e;
    };
    let Some(slot) = index.parse::<usize>().ok().and_then(|i| slots.get(i)) else {
        return e;
    };
    let field = match part {
        ".given" => Some(Field::GivenName),
        ".patronymic" => Some(Field::Patronymic),
        ".family" => Some(Field::FamilyName),
        ".as_written" => Some(Field::FullName),
        ".script" => Some(Field::NameScript),
        _ => None,
    };
    e.field = match (field, slot) {
        (Some(f), NameSlot::Primary) => f.as_str().to_owned(),
        (Some(f), NameSlot::Alt) => f.alt().unwrap_or(f).as_str().to_owned(),
        (None, NameSlot::Primary) => "name".to_owned(),
        (None, NameSlot::Alt) => "alt_name".to_owned(),
    };
    e
}

/// Reads and validates a whole file without storing anything (the async path reports progress).
#[cfg(test)]
pub(crate) fn parse_csv(
    bytes: &[u8],
    kind: RecordKind,
    today: NaiveDate,
    options: &ImportOptions,
) -> AppResult<ParsedImport> {
    let mut session = Session::new(bytes, kind, today, options)?;
    while session.step()? {}
    Ok(session.out)
}

async fn parse_csv_async(
    bytes: &[u8],
    kind: RecordKind,
    today: NaiveDate,
    options: &ImportOptions,
    progress: &(dyn Fn(ImportProgress) + Send + Sync),
) -> AppResult<ParsedImport> {
    let total = bytes.len() as u64;
    let mut session = Session::new(bytes, kind, today, options)?;
    let mut since_yield = 0;
    while session.step()? {
        since_yield += 1;
        if since_yield == YIELD_EVERY {
            since_yield = 0;
            progress(session.progress(total));
            tokio::task::yield_now().await;
        }
    }
    progress(ImportProgress {
        done: total,
        ..session.progress(total)
    });
    Ok(session.out)
}

/// One column of a file, for a person to map: its header, what Homeward reads it as unless told
/// otherwise, and the first values under it.
#[derive(Clone, Debug)]
pub struct ColumnSample {
    pub header: String,
    /// `None` when the header is not one Homeward knows (the import then needs a mapping).
    pub recognised: Option<Field>,
    pub samples: Vec<String>,
}

/// How a file is laid out, read before any mapping is chosen.
#[derive(Clone, Debug)]
pub struct ImportLayout {
    /// The kind of record the file would be filed as (the caller's party decides).
    pub kind: RecordKind,
    pub columns: Vec<ColumnSample>,
}

impl App {
    /// Imports a CSV file of the records the caller's party files. Nothing is stored unless the
    /// whole file is valid, or `skip_invalid` is set, in which case the valid rows are stored and
    /// the others reported. Either way the stored rows go in together, in one transaction with
    /// their audit entries.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn import_records(
        &self,
        caller: &Caller,
        bytes: &[u8],
        options: &ImportOptions,
        progress: &(dyn Fn(ImportProgress) + Send + Sync),
    ) -> AppResult<ImportReport> {
        caller.require(Permission::RecordImport, &self.config)?;
        let kind = import_kind(caller, options)?;
        let now = self.now();
        let parsed = parse_csv_async(bytes, kind, now.date_naive(), options, progress).await?;
        if !parsed.bad.is_empty() && !options.skip_invalid {
            return Err(AppError::ImportInvalid(parsed.rejected()));
        }
        let import_id = Uuid::now_v7();
        let rejected = parsed.rejected();
        let reject_csv = (!rejected.is_empty()).then(|| parsed.reject_csv());
        let rows = parsed.rows;
        let total = parsed.good.len();
        let kept_unreadable = parsed.kept;
        let read_loosely = parsed.loose;

        let mut records = Vec::with_capacity(total);
        let mut audit = Vec::with_capacity(total + 1);
        for (i, (_, content)) in parsed.good.into_iter().enumerate() {
            let details = serde_json::json!({ "kind": kind.as_str(), "import": import_id });
            let (record, entry) = new_record(caller, content, now, "import", details);
            audit.push(entry);
            records.push(record);
            if (i as u64 + 1).is_multiple_of(YIELD_EVERY) {
                tokio::task::yield_now().await;
            }
        }
        let sha256 = hex::encode(Sha256::digest(bytes));
        // Counts and a fingerprint of the file, never its content: the log must not hold names.
        audit.push(
            caller
                .audit(AuditAction::ImportCommit)
                .target("import", import_id)
                .details(serde_json::json!({
                    "kind": kind.as_str(),
                    "rows": rows,
                    "imported": total,
                    "rejected": rejected.len(),
                    "kept_unreadable": kept_unreadable.len(),
                    "read_loosely": read_loosely.len(),
                    "bytes": bytes.len(),
                    "sha256": sha256,
                    "forced": options.force,
                })),
        );

        let total_u64 = total as u64;
        let storing = |done: usize| {
            progress(ImportProgress {
                phase: ImportPhase::Storing,
                done: done as u64,
                total: total_u64,
                rows,
            })
        };
        storing(0);
        let fingerprint = NewImport {
            id: import_id,
            party_id: caller.party().id,
            kind,
            sha256,
            imported: i64::try_from(total).unwrap_or(i64::MAX),
            forced: options.force,
            created_by: caller.user().id,
            created_at: now,
        };
        self.store
            .commit_import(&fingerprint, &records, audit, &storing)
            .await
            .map_err(|e| match e {
                StoreError::AlreadyImported { import, at } => {
                    AppError::AlreadyImported { import, at }
                }
                other => other.into(),
            })?;
        storing(total);
        drop(records);
        // The statistics of the tables the import filled are refreshed by its matching job,
        // before the matching's lookups are planned on them (see `App::handle_job`).
        let key = match_key_of_import(import_id);
        self.after_commit(&key).await;
        let matching = self.store.job_by_key(&key).await?.map(JobView::from);
        tracing::info!(%import_id, kind = kind.as_str(), imported = total, rejected = rejected.len(), "import committed");
        Ok(ImportReport {
            import_id,
            imported: total,
            rejected,
            reject_csv,
            kept_unreadable,
            read_loosely,
            matching,
        })
    }

    /// The kind of record the caller would import, or the refusal an import would meet.
    pub fn import_target(&self, caller: &Caller) -> AppResult<RecordKind> {
        caller.require(Permission::RecordImport, &self.config)?;
        import_kind(caller, &ImportOptions::default())
    }

    /// Reads a file's header and its first `samples` rows, for choosing how to map its columns.
    /// The delimiter is sniffed as the import sniffs it; nothing is validated or stored.
    pub fn describe_import(
        &self,
        caller: &Caller,
        bytes: &[u8],
        samples: usize,
    ) -> AppResult<ImportLayout> {
        let kind = self.import_target(caller)?;
        let (text, _) = decode(bytes)?;
        let mut reader = CsvReader::new(text, sniff_delimiter(text, &[]));
        let header = match reader.next_row()? {
            Some((_, cells)) if cells.iter().any(|c| !c.trim().is_empty()) => cells,
            _ => {
                return Err(AppError::ImportFile(
                    "the file is empty: there is no header line".to_owned(),
                ));
            }
        };
        let mut columns: Vec<ColumnSample> = header
            .iter()
            .map(|h| ColumnSample {
                header: h.trim().to_owned(),
                recognised: recognise_header(h),
                samples: Vec::new(),
            })
            .collect();
        let mut read = 0;
        while read < samples {
            let Some((_, cells)) = reader.next_row()? else {
                break;
            };
            if cells.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            read += 1;
            for (column, cell) in columns.iter_mut().zip(cells) {
                let cell = cell.trim();
                if !cell.is_empty() {
                    column.samples.push(cell.to_owned());
                }
            }
        }
        Ok(ImportLayout { kind, columns })
    }

    /// Checks a file as [`App::import_records`] would, and stores nothing (a dry run).
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn check_import(
        &self,
        caller: &Caller,
        bytes: &[u8],
        options: &ImportOptions,
        progress: &(dyn Fn(ImportProgress) + Send + Sync),
    ) -> AppResult<ImportCheck> {
        caller.require(Permission::RecordImport, &self.config)?;
        let kind = import_kind(caller, options)?;
        let parsed =
            parse_csv_async(bytes, kind, self.now().date_naive(), options, progress).await?;
        if !parsed.bad.is_empty() && !options.skip_invalid {
            return Err(AppError::ImportInvalid(parsed.rejected()));
        }
        let rejected = parsed.rejected();
        let reject_csv = (!rejected.is_empty()).then(|| parsed.reject_csv());
        Ok(ImportCheck {
            valid: parsed.good.len(),
            rejected,
            reject_csv,
            kept_unreadable: parsed.kept,
            read_loosely: parsed.loose,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    fn parse(text: &str, kind: RecordKind) -> AppResult<ParsedImport> {
        parse_csv(text.as_bytes(), kind, today(), &ImportOptions::default())
    }

    fn file_error(r: AppResult<ParsedImport>) -> String {
        match r {
            Err(AppError::ImportFile(m)) => m,
            other => panic!("expected a file error, got {other:?}"),
        }
    }

    #[test]
    fn recognises_english_headers() {
        for (h, f) in [
            ("Record ID", Field::ExternalRef),
            ("file_no", Field::ExternalRef),
            ("First Name", Field::GivenName),
            ("forename", Field::GivenName),
            ("Middle name", Field::Patronymic),
            ("SURNAME", Field::FamilyName),
            ("Last-Name", Field::FamilyName),
            ("DOB", Field::BirthDate),
            ("Date of Birth", Field::BirthDate),
            ("Gender", Field::Sex),
            ("Place of birth", Field::BirthPlace),
            ("Child's first name", Field::GivenName),
            ("Surname (Latin)", Field::AltFamilyName),
            ("given_name_2", Field::AltGivenName),
            ("alt_script", Field::AltScript),
            ("Missing since", Field::SeparationDate),
            ("Relationship to child", Field::EnquirerRelationship),
        ] {
            assert_eq!(recognise_header(h), Some(f), "{h}");
        }
        assert_eq!(recognise_header("Eye colour"), None);
        assert_eq!(recognise_header(""), None);
    }

    #[test]
    fn recognises_ukrainian_headers() {
        for (h, f) in [
            ("Ім'я", Field::GivenName),
            ("ІМʼЯ", Field::GivenName),
            ("Ім’я дитини", Field::GivenName),
            ("По батькові", Field::Patronymic),
            ("Прізвище", Field::FamilyName),
            ("Прізвище (латиницею)", Field::AltFamilyName),
            ("ПІБ", Field::FullName),
            ("Дата народження", Field::BirthDate),
            ("Стать", Field::Sex),
            ("Місце народження", Field::BirthPlace),
            ("Дата зникнення", Field::SeparationDate),
            ("Заявник", Field::EnquirerName),
            ("Ким доводиться", Field::EnquirerRelationship),
            ("№ з/п", Field::Ignore),
            ("Примітки", Field::Notes),
        ] {
            assert_eq!(recognise_header(h), Some(f), "{h}");
        }
    }

    #[test]
    fn recognises_russian_headers() {
        for (h, f) in [
            ("Имя", Field::GivenName),
            ("Отчество", Field::Patronymic),
            ("Фамилия", Field::FamilyName),
            ("Ф.И.О.", Field::FullName),
            ("Дата рождения", Field::BirthDate),
            ("Пол", Field::Sex),
            ("Место рождения", Field::BirthPlace),
            ("Местонахождение", Field::CurrentLocation),
            ("Учреждение", Field::CurrentLocation),
            ("Опекун", Field::CurrentCarer),
            ("№ дела", Field::ExternalRef),
            ("Примечание", Field::Notes),
        ] {
            assert_eq!(recognise_header(h), Some(f), "{h}");
        }
    }

    #[test]
    fn aliases_do_not_collide() {
        let mut seen: HashMap<String, Field> = HashMap::new();
        for f in Field::ALL {
            seen.insert(normalise_header(f.as_str()), f);
        }
        for (f, aliases) in ALIASES {
            for a in *aliases {
                let n = normalise_header(a);
                if let Some(prev) = seen.insert(n.clone(), *f) {
                    assert_eq!(prev, *f, "{a:?} ({n}) means both {prev} and {f}");
                }
            }
        }
    }

    #[test]
    fn column_mappings_parse_and_override() {
        assert_eq!(
            parse_column_mapping("Колір очей=ignore").unwrap(),
            ("Колір очей".to_owned(), "ignore".to_owned())
        );
        assert_eq!(
            parse_column_mapping("a=b=given-name").unwrap(),
            ("a=b".to_owned(), "given_name".to_owned())
        );
        assert!(parse_column_mapping("no-equals").is_err());
        assert!(parse_column_mapping("=given_name").is_err());
        assert!(
            parse_column_mapping("x=eye_colour")
                .unwrap_err()
                .contains("given_name")
        );

        let text = "Прізвище,Колір очей,Name\nОлійник,карі,Дмитро\n";
        let m = file_error(parse(text, RecordKind::CustodyRecord));
        assert!(
            m.contains("\"Колір очей\"") && m.contains("--column \"Колір очей=FIELD\""),
            "{m}"
        );
        assert!(m.contains("--column \"Колір очей=ignore\""), "{m}");

        let options = ImportOptions {
            columns: vec![
                ("колір очей".to_owned(), "ignore".to_owned()),
                ("Name".to_owned(), "given_name".to_owned()),
                ("Location".to_owned(), "notes".to_owned()),
            ],
            ..Default::default()
        };
        let e = file_error(parse_csv(
            text.as_bytes(),
            RecordKind::CustodyRecord,
            today(),
            &options,
        ));
        assert!(e.contains("no column headed \"Location\""), "{e}");
        let text = "Прізвище,Колір очей,Name,Location\nОлійник,карі,Дмитро,Дитячий будинок №1\n";
        let options = ImportOptions {
            columns: options.columns[..2].to_vec(),
            ..Default::default()
        };
        let p = parse_csv(
            text.as_bytes(),
            RecordKind::CustodyRecord,
            today(),
            &options,
        )
        .unwrap();
        assert!(p.bad.is_empty(), "{:?}", p.bad);
        let n = &p.good[0].1.names[0];
        assert_eq!(
            (n.given.as_deref(), n.family.as_deref()),
            (Some("Дмитро"), Some("Олійник"))
        );
    }

    #[test]
    fn mapping_errors_are_reported_together() {
        let m = file_error(parse(
            "Surname,Last name,Sex\nA,B,m\n",
            RecordKind::CustodyRecord,
        ));
        assert!(m.contains("both hold family_name"), "{m}");
        let m = file_error(parse("Sex,DOB\nm,2014\n", RecordKind::CustodyRecord));
        assert!(m.contains("no column holds the child's name"), "{m}");
        let m = file_error(parse("\n\n", RecordKind::CustodyRecord));
        assert!(m.contains("empty"), "{m}");
    }

    #[test]
    fn sniffs_the_delimiter_from_the_header() {
        let body = "given_name{d}family_name{d}current_location\nДмитро{d}Олійник{d}\"Дитячий будинок №1, м. Н{d} корпус 2\"\n";
        for d in [",", ";", "\t"] {
            let text = body.replace("{d}", d);
            let p = parse(&text, RecordKind::CustodyRecord).unwrap();
            assert_eq!(char::from(p.delimiter).to_string(), d);
            assert_eq!(p.good.len(), 1, "{d:?}: {:?}", p.bad);
            assert_eq!(
                p.good[0].1.current_location.as_deref(),
                Some(format!("Дитячий будинок №1, м. Н{d} корпус 2").as_str())
            );
        }
        // Commas inside a semicolon-separated header, unquoted, as office exports write them.
        let p = parse(
            "Прізвище, ім'я, по батькові;Стать;Місцеперебування\nОлійник Дмитро;ч;Київ\n",
            RecordKind::CustodyRecord,
        )
        .unwrap();
        assert_eq!(p.delimiter, b';');
        assert_eq!(p.good[0].1.names[0].as_written, "Олійник Дмитро");
        // Delimiters inside quotes do not count.
        assert_eq!(sniff_delimiter("\"a;b;c\",d\n1;2;3", &[]), b',');
        assert_eq!(sniff_delimiter("a;b;c\n", &[]), b';');
        assert_eq!(sniff_delimiter("a\tb,c\tc\n", &[]), b'\t');
        assert_eq!(sniff_delimiter("name\n", &[]), b',');
    }

    #[test]
    fn a_byte_order_mark_is_dropped_and_kept_for_rejects() {
        let text = "\u{feff}Ім'я,Прізвище,Місцеперебування\nАнна,Лисенко,Київ\nБогдан,,\n";
        let p = parse(text, RecordKind::CustodyRecord).unwrap();
        assert!(p.bom);
        assert_eq!(p.header[0], "Ім'я");
        assert_eq!(p.good.len(), 1);
        assert!(p.reject_csv().starts_with("\u{feff}line,error,Ім'я"));
        let p = parse(&text[3..], RecordKind::CustodyRecord).unwrap();
        assert!(!p.bom);
    }

    #[test]
    fn invalid_utf8_and_utf16_are_refused_naming_the_line() {
        let mut bytes = b"given_name,current_location\nAnna,Kyiv\nBogdan,".to_vec();
        bytes.extend_from_slice(&[0xC3, 0x28]);
        bytes.extend_from_slice(b"\n");
        let m = file_error(parse_csv(
            &bytes,
            RecordKind::CustodyRecord,
            today(),
            &ImportOptions::default(),
        ));
        assert!(m.starts_with("line 3 "), "{m}");
        let m = file_error(parse_csv(
            &[0xFF, 0xFE, b'a', 0],
            RecordKind::CustodyRecord,
            today(),
            &ImportOptions::default(),
        ));
        assert!(m.contains("UTF-16"), "{m}");
    }

    #[test]
    fn rows_keep_their_physical_line_numbers() {
        let text = "given_name,current_location,notes\r\n\
                    \r\n\
                    Анна,Київ,\"line one\r\nline two\nline three\"\r\n\
                    \n\
                    Богдан,,\"\"\"quoted\"\"\"\n\
                    ,,\n\
                    Олена,\"Харків\n\",bad\u{1}\n\
                    Іван,Львів\n\
                    Марія,Одеса,x,extra";
        let p = parse(text, RecordKind::CustodyRecord).unwrap();
        assert_eq!(p.good.iter().map(|(l, _)| *l).collect::<Vec<_>>(), vec![3]);
        assert_eq!(
            p.good[0].1.notes.as_deref(),
            Some("line one\r\nline two\nline three")
        );
        let bad: Vec<(u64, Vec<&str>)> = p
            .bad
            .iter()
            .map(|b| {
                (
                    b.error.line,
                    b.error.errors.iter().map(|e| e.field.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            bad,
            vec![
                (7, vec!["current_location"]),
                (9, vec!["notes"]),
                (11, vec!["row"]),
                (12, vec!["row"]),
            ]
        );
        assert_eq!(p.bad[0].cells[2], "\"quoted\"");
        assert_eq!(p.rows, 5);
    }

    #[test]
    fn an_unclosed_quote_is_a_file_error_at_its_line() {
        let m = file_error(parse(
            "given_name,current_location\nАнна,Київ\nБогдан,\"Київ\n\n",
            RecordKind::CustodyRecord,
        ));
        assert!(m.starts_with("line 3:"), "{m}");
    }

    #[test]
    fn unreadable_sex_and_dates_are_kept_in_the_notes_when_asked() {
        let text = "id,given_name,family_name,sex,birth_date,separation_date,current_location,notes\n\
                    R1,Анна,Коваль,дів-ка,весна 2013,2022-03-01,Ростов,сестра Марія\n\
                    R2,Богдан,Шевчук,m,2014-05-05,the day after,Ростов,\n\
                    R3,\u{202e}Олег,Бондар,x,2030,2022,Ростов,\n";
        let strict = parse(text, RecordKind::CustodyRecord).unwrap();
        assert_eq!((strict.good.len(), strict.bad.len()), (0, 3));
        let options = ImportOptions {
            keep_unreadable: true,
            ..ImportOptions::default()
        };
        let p = parse_csv(
            text.as_bytes(),
            RecordKind::CustodyRecord,
            today(),
            &options,
        )
        .unwrap();
        assert_eq!(p.good.len(), 2, "{:?}", p.bad);
        let (line, anna) = &p.good[0];
        assert_eq!(*line, 2);
        assert_eq!(anna.sex, homeward_domain::Sex::Unknown);
        assert_eq!(anna.birth_date, None);
        assert_eq!(
            anna.notes.as_deref(),
            Some(
                "сестра Марія\nsex: дів-ка (not read on import: invalid_sex)\n\
                 birth_date: весна 2013 (not read on import: invalid_date)"
            )
        );
        assert!(anna.separation_date.is_some(), "what was read stays");
        let kept: Vec<(u64, Vec<&str>)> = p
            .kept
            .iter()
            .map(|r| (r.line, r.errors.iter().map(|e| e.field.as_str()).collect()))
            .collect();
        assert_eq!(
            kept,
            vec![(2, vec!["sex", "birth_date"]), (3, vec!["separation_date"])]
        );
        // A direction control in a name is not a value to keep aside: the row stays out.
        assert_eq!(p.bad.len(), 1);
        assert_eq!(p.bad[0].error.line, 4);
        assert!(
            p.bad[0]
                .error
                .errors
                .iter()
                .any(|e| e.code == "bidi_control")
        );
    }

    /// Issue 13: the hand-written dates `homeward link` reads are read by the import too, at
    /// their precision, kept as typed in the notes and flagged; a date nobody can read still
    /// refuses its row (or is kept aside when asked).
    #[test]
    fn hand_written_birth_dates_are_read_as_link_reads_them_and_flagged() {
        let text = "id,given_name,family_name,birth_date,current_location,notes\n\
                    R1,Анна,Коваль,12 березня 2013 р.,Ростов,сестра Марія\n\
                    R2,Богдан,Шевчук,2014 г.р.,Ростов,\n\
                    R3,Олег,Бондар,03/25/2014,Ростов,\n\
                    R4,Ірина,Ткач,2015-06-01,Ростов,\n\
                    R5,Петро,Мельник,весна 2013,Ростов,\n";
        let p = parse(text, RecordKind::CustodyRecord).unwrap();
        let dates: Vec<String> = p
            .good
            .iter()
            .map(|(_, d)| d.birth_date.map(|b| b.to_string()).unwrap_or_default())
            .collect();
        assert_eq!(dates, ["2013-03-12", "2014", "2014-03-25", "2015-06-01"]);
        assert_eq!(
            p.good[0].1.notes.as_deref(),
            Some(
                "сестра Марія\nbirth_date: 12 березня 2013 р. (read on import as 2013-03-12; to check)"
            )
        );
        assert_eq!(p.good[3].1.notes, None, "a typed date is not flagged");
        let flagged: Vec<(u64, &str)> =
            p.loose.iter().map(|r| (r.line, r.errors[0].code)).collect();
        assert_eq!(
            flagged,
            [
                (2, "date_read_loosely"),
                (3, "date_read_loosely"),
                (4, "date_read_loosely")
            ]
        );
        assert_eq!(p.bad.len(), 1, "{:?}", p.bad);
        assert_eq!(p.bad[0].error.line, 6);
        assert_eq!(p.bad[0].error.errors[0].code, "invalid_date");
    }

    #[test]
    fn every_error_of_a_row_is_reported_by_column() {
        let text = "id,given_name,alt_given_name,alt_script,sex,birth_date,enquirer_name\n\
                    R1,Анна,Anna,klingon,x,2030,Оксана\n";
        let p = parse(text, RecordKind::TracingRequest).unwrap();
        let fields: Vec<_> = p.bad[0]
            .error
            .errors
            .iter()
            .map(|e| e.field.as_str())
            .collect();
        assert_eq!(
            fields,
            vec!["alt_script", "sex", "birth_date", "enquirer_relationship"]
        );
    }

    #[test]
    fn a_row_with_a_direction_control_is_rejected_with_its_line_and_field() {
        let text = "given_name,current_location\nАнна,Київ\nБогдан,\u{202e}фдп.exe\n";
        let p = parse(text, RecordKind::CustodyRecord).unwrap();
        assert_eq!(p.good.len(), 1);
        let e = &p.bad[0].error;
        assert_eq!(
            (e.line, e.errors[0].field.as_str(), e.errors[0].code),
            (3, "current_location", "bidi_control")
        );
    }

    #[test]
    fn a_repeated_reference_names_the_first_line() {
        let text = "file_no,given_name,current_location\nA-1,Анна,Київ\nA-2,Богдан,Київ\n A-1 ,Олена,Київ\n";
        let p = parse(text, RecordKind::CustodyRecord).unwrap();
        assert_eq!(p.good.len(), 2);
        assert_eq!(p.bad.len(), 1);
        let e = &p.bad[0].error;
        assert_eq!(
            (e.line, e.errors[0].field.as_str(), e.errors[0].code),
            (4, "external_ref", "duplicate_in_file")
        );
        assert!(
            e.errors[0].message.contains("line 2"),
            "{}",
            e.errors[0].message
        );
    }

    #[test]
    fn unnamed_columns_must_be_empty() {
        let text = "given_name,current_location,,\nАнна,Київ,,\nБогдан,Київ,,stray\n";
        let p = parse(text, RecordKind::CustodyRecord).unwrap();
        assert_eq!(p.good.len(), 1);
        assert_eq!(p.bad[0].error.errors[0].field, "column 4");
    }

    #[test]
    fn rejects_csv_has_line_error_and_the_original_cells() {
        let text = "Ім'я;Стать;Місцеперебування\nАнна;ж;Київ\nБогдан;?x;\"Харків; корп. 2\"\n";
        let p = parse(text, RecordKind::CustodyRecord).unwrap();
        let csv = p.reject_csv();
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("line;error;Ім'я;Стать;Місцеперебування"));
        let row = lines.next().unwrap();
        assert!(row.starts_with("3;\"sex: \"\"?x\"\" is not a sex"), "{row}");
        assert!(row.ends_with(";Богдан;?x;\"Харків; корп. 2\""), "{row}");
        assert_eq!(lines.next(), None);
        // The rejects file, once corrected, imports as it is.
        let fixed = csv.replace("?x", "ч");
        let again = parse(&fixed, RecordKind::CustodyRecord).unwrap();
        assert!(again.bad.is_empty(), "{:?}", again.bad);
        assert_eq!(
            again.good[0].1.current_location.as_deref(),
            Some("Харків; корп. 2")
        );
    }

    #[test]
    fn rejects_csv_neutralises_formula_cells_and_a_corrected_file_imports_what_was_typed() {
        let text = "given_name,sex,current_location,enquirer_contact\n\
            =HYPERLINK(1),?,@Київ,+380441234567\n\
            \"\t=1+1\",?,-,'=2\n";
        let p = parse(text, RecordKind::CustodyRecord).unwrap();
        assert_eq!(p.bad.len(), 2);
        // Read back as typed: the guard of '=2 is taken off.
        assert_eq!(p.bad[1].cells, ["\t=1+1", "?", "-", "=2"]);
        let csv = p.reject_csv();
        let rows: Vec<&str> = csv.lines().skip(1).collect();
        assert!(
            rows[0].ends_with(",'=HYPERLINK(1),?,'@Київ,'+380441234567"),
            "{}",
            rows[0]
        );
        assert!(rows[1].ends_with(",'\t=1+1,?,'-,'=2"), "{}", rows[1]);
        let again = parse(&csv, RecordKind::CustodyRecord).unwrap();
        assert_eq!(again.bad[0].cells[2..], p.bad[0].cells);
        assert_eq!(again.bad[1].cells[2..], p.bad[1].cells);
    }

    #[test]
    fn too_many_rows_is_a_file_error() {
        let text = "given_name,current_location\n\nАнна,Київ\n,\nБогдан,Київ\nОлена,Київ\n";
        let mut s = Session::new(
            text.as_bytes(),
            RecordKind::CustodyRecord,
            today(),
            &ImportOptions::default(),
        )
        .unwrap();
        s.max_rows = 2;
        let e = loop {
            match s.step() {
                Ok(true) => {}
                Ok(false) => panic!("the limit was not enforced"),
                Err(AppError::ImportFile(m)) => break m,
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!(
            e,
            "the file has more than 2 rows (line 6); split it into several imports"
        );
    }
}
