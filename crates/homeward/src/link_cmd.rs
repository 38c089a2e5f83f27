//! `homeward link LEFT.csv RIGHT.csv --out PAIRS.csv`: finds the same child in two lists.
//!
//! The lists are whatever the parties sent: comma, semicolon or tab separated, with or without a
//! byte-order mark, with headers in English of several habits. Columns are recognised by their
//! header (in English, Ukrainian or Russian, as `import` recognises them); the rest are named with
//! `--column HEADER=KIND` or ignored (and said so). A structural problem (no header, a row of the
//! wrong width, a duplicate id) is reported with its file and line and exits with code 2. A cell
//! that cannot be read (an impossible date, an unknown sex) is not: real lists have them, and one
//! bad cell must not stop a run over thousands of children, so it is treated as missing, counted
//! per column in a summary and, with `--report FILE`, listed; `--strict` refuses them instead. The
//! output file appears whole or not at all, because a half-written list of matches would be
//! mistaken for a complete one.

use crate::BadInput;
use anyhow::Context;
use homeward_linkage::{
    BirthDate, Decision, FieldKind, LinkConfig, LinkError, LinkOutput, LinkedPair, Model, Phase,
    Progress, Table, link,
};
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// `left_id,right_id,score,...` with one column per field's level and weight.
    Csv,
    /// One JSON object per pair, with the whole explanation (values compared, term-frequency parts).
    Jsonl,
}

#[derive(Debug, clap::Args)]
pub struct LinkArgs {
    /// The first list (for example the origin side's children sought), CSV with a header line.
    pub left: PathBuf,
    /// The second list (for example the custody side's children held), CSV with a header line.
    pub right: PathBuf,
    /// Where to write the pairs (replaced whole, or left untouched on failure).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Assigns a column the header does not name: HEADER=KIND, KIND one of id, given_name,
    /// patronymic, family_name, full_name, sex, birth_date, birth_place, identifier, text, exact,
    /// ignore. Applies to both files; repeat for several columns.
    #[arg(long = "column", value_name = "HEADER=KIND")]
    pub columns: Vec<String>,
    /// Match probability from which a pair is a match.
    #[arg(long, default_value_t = 0.9)]
    pub threshold: f64,
    /// Also output the pairs a person should review (probability between --review-threshold and
    /// --threshold), with a `decision` column: match or review.
    #[arg(long)]
    pub include_review: bool,
    /// Lowest probability of a pair output for review (with --include-review).
    #[arg(long, default_value_t = 0.5)]
    pub review_threshold: f64,
    #[arg(long, value_enum, default_value_t = OutputFormat::Csv)]
    pub format: OutputFormat,
    /// Score with this saved model instead of training one on the two lists.
    #[arg(long, value_name = "MODEL.json")]
    pub model: Option<PathBuf>,
    /// Save the model used (trained or loaded) here, to reuse on later lists.
    #[arg(long, value_name = "MODEL.json")]
    pub model_out: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Refuse a list with an unreadable cell (exit 2 naming file, line and column) instead of
    /// treating the cell as missing.
    #[arg(long)]
    pub strict: bool,
    /// Write the unreadable cells treated as missing here (CSV: file, line, column, value, reason).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// A cell that could not be read and was treated as missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CellIssue {
    pub file: PathBuf,
    pub line: usize,
    pub column: String,
    pub value: String,
    pub reason: String,
}

/// Bad input: exit code 2 with this message.
fn bad(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(BadInput(message.into()))
}

pub fn run(args: &LinkArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    if !(args.threshold > 0.0 && args.threshold < 1.0) {
        return Err(bad(format!(
            "--threshold {} must be between 0 and 1 (exclusive)",
            args.threshold
        )));
    }
    if args.include_review && !(args.review_threshold > 0.0 && args.review_threshold < 1.0) {
        return Err(bad(format!(
            "--review-threshold {} must be between 0 and 1 (exclusive)",
            args.review_threshold
        )));
    }
    let overrides = parse_overrides(&args.columns)?;
    let model = match &args.model {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| bad(format!("cannot read the model {}: {e}", path.display())))?;
            Some(Model::from_json(&text).map_err(|e| bad(format!("{}: {e}", path.display())))?)
        }
        None => None,
    };

    let left_csv = read_csv(&args.left)?;
    let right_csv = read_csv(&args.right)?;
    let left_kinds = assign_kinds(&left_csv, &overrides)?;
    let right_kinds = assign_kinds(&right_csv, &overrides)?;
    if let Some(unused) = overrides.keys().find(|h| {
        !left_csv
            .header
            .iter()
            .chain(&right_csv.header)
            .any(|x| x.trim() == h.as_str())
    }) {
        return Err(bad(format!(
            "--column {unused}=...: neither {} nor {} has a column {unused:?}",
            args.left.display(),
            args.right.display()
        )));
    }
    for (csv, kinds) in [(&left_csv, &left_kinds), (&right_csv, &right_kinds)] {
        let ignored: Vec<&str> = csv
            .header
            .iter()
            .zip(kinds)
            .filter(|(h, k)| **k == FieldKind::Ignore && !overrides.contains_key(h.trim()))
            .map(|(h, _)| h.as_str())
            .collect();
        if !ignored.is_empty() && !args.quiet {
            eprintln!(
                "note: {}: ignoring columns {} (name them with --column HEADER=KIND to use them)",
                csv.path.display(),
                ignored
                    .iter()
                    .map(|h| format!("{h:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if !kinds.contains(&FieldKind::Id) && !args.quiet {
            eprintln!(
                "note: {}: no id column; rows are identified by their line number",
                csv.path.display()
            );
        }
    }
    let (left, mut issues) = build_table(&left_csv, &left_kinds, args.strict)?;
    let (right, right_issues) = build_table(&right_csv, &right_kinds, args.strict)?;
    issues.extend(right_issues);
    drop((left_csv, right_csv));

    let config = LinkConfig {
        threshold: args.threshold,
        review_threshold: if args.include_review {
            args.review_threshold.min(args.threshold)
        } else {
            args.threshold
        },
        ..LinkConfig::default()
    };
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(new_bar);
    let on_progress = |p: Progress| {
        if let Some(bar) = &bar {
            bar.set_message(phase_name(p.phase));
            bar.set_length(p.total.max(1));
            bar.set_position(p.done);
        }
    };
    let output =
        link(&left, &right, &config, model.as_ref(), &on_progress).map_err(|e| match e {
            LinkError::Config(_) | LinkError::Model(_) | LinkError::NoUsableColumn(_) => {
                bad(e.to_string())
            }
            other => anyhow::Error::new(other).context("linkage failed"),
        })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }

    let mut body = Vec::new();
    match args.format {
        OutputFormat::Csv => write_csv(&output, args.include_review, &mut body),
        OutputFormat::Jsonl => write_jsonl(&output, &mut body)?,
    }
    write_whole(&args.out, &body)?;
    if let Some(path) = &args.report {
        write_whole(path, &issues_csv(&issues))?;
    }
    if let Some(path) = &args.model_out {
        let json = output
            .model
            .to_json()
            .context("cannot serialise the model")?;
        write_whole(path, json.as_bytes())?;
    }
    if !args.quiet {
        let s = &output.stats;
        eprintln!(
            "linked {} × {} records ({} candidate pairs): {} matches{} → {} in {:.1} s",
            s.left_records,
            s.right_records,
            s.candidate_pairs,
            s.matches,
            if args.include_review {
                format!(", {} for review", s.reviews)
            } else {
                String::new()
            },
            args.out.display(),
            started.elapsed().as_secs_f64()
        );
        for line in issue_summary(&issues, args.report.as_deref()) {
            eprintln!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per file: how many cells of each column were unreadable and treated as missing.
pub(crate) fn issue_summary(issues: &[CellIssue], report: Option<&Path>) -> Vec<String> {
    let mut per_file: Vec<(&Path, Vec<(&str, usize)>)> = Vec::new();
    for i in issues {
        let at = match per_file.iter().position(|(f, _)| *f == i.file.as_path()) {
            Some(at) => at,
            None => {
                per_file.push((i.file.as_path(), Vec::new()));
                per_file.len() - 1
            }
        };
        let cols = &mut per_file[at].1;
        match cols.iter_mut().find(|(c, _)| *c == i.column) {
            Some((_, n)) => *n += 1,
            None => cols.push((i.column.as_str(), 1)),
        }
    }
    let listed = match report {
        Some(p) => format!("listed in {}", p.display()),
        None => "--report FILE lists them, --strict refuses them".to_string(),
    };
    per_file
        .into_iter()
        .map(|(file, cols)| {
            let total: usize = cols.iter().map(|(_, n)| n).sum();
            let by_col: Vec<String> = cols.iter().map(|(c, n)| format!("{c:?} {n}")).collect();
            format!(
                "note: {}: {total} unreadable value{} treated as missing ({}; {listed})",
                file.display(),
                if total == 1 { "" } else { "s" },
                by_col.join(", ")
            )
        })
        .collect()
}

pub(crate) fn issues_csv(issues: &[CellIssue]) -> Vec<u8> {
    let mut out = b"file,line,column,value,reason\n".to_vec();
    for i in issues {
        let file = i.file.display().to_string();
        let row = [
            csv_cell(&file).into_owned(),
            i.line.to_string(),
            csv_cell(&i.column).into_owned(),
            csv_cell(&i.value).into_owned(),
            csv_cell(&i.reason).into_owned(),
        ];
        out.extend_from_slice(row.join(",").as_bytes());
        out.push(b'\n');
    }
    out
}

fn new_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(1);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg:>9} [{bar:40}] {pos}/{len} {elapsed}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn phase_name(p: Phase) -> &'static str {
    match p {
        Phase::Prepare => "prepare",
        Phase::Block => "block",
        Phase::Compare => "compare",
        Phase::Train => "train",
        Phase::Score => "score",
        Phase::Assign => "assign",
    }
}

/// `HEADER=KIND` arguments, by header as written (trimmed).
pub(crate) fn parse_overrides(items: &[String]) -> anyhow::Result<HashMap<String, FieldKind>> {
    let mut out = HashMap::new();
    for item in items {
        let (header, kind) = item
            .rsplit_once('=')
            .ok_or_else(|| bad(format!("--column {item:?}: expected HEADER=KIND")))?;
        let kind: FieldKind = kind
            .parse()
            .map_err(|e: LinkError| bad(format!("--column {item:?}: {e}")))?;
        if out.insert(header.trim().to_string(), kind).is_some() {
            return Err(bad(format!("--column names {:?} twice", header.trim())));
        }
    }
    Ok(out)
}

/// The kind a header names on its own: case, spaces and punctuation do not matter, so
/// `Date of birth`, `DATE_OF_BIRTH` and `date-of-birth` are one. The vocabulary is `import`'s
/// (English, Ukrainian and Russian: `Прізвище`, `Дата рождения`, `ПІБ`), so that a list the case
/// system imports is read the same way here; a few English habits only `link` has always
/// accepted come after it.
pub fn recognise_header(header: &str) -> Option<FieldKind> {
    use homeward_app::import::Field;
    match homeward_app::import::recognise_header(header) {
        Some(Field::ExternalRef) => return Some(FieldKind::Id),
        Some(Field::GivenName) => return Some(FieldKind::GivenName),
        Some(Field::Patronymic) => return Some(FieldKind::Patronymic),
        Some(Field::FamilyName) => return Some(FieldKind::FamilyName),
        Some(Field::FullName) => return Some(FieldKind::FullName),
        Some(Field::Sex) => return Some(FieldKind::Sex),
        Some(Field::BirthDate) => return Some(FieldKind::BirthDate),
        Some(Field::BirthPlace) => return Some(FieldKind::BirthPlace),
        // Anything else `import` knows (the second name entry, circumstances, carer, notes) is
        // not compared; a header it does not know may still be one of link's own habits.
        Some(_) => return None,
        None => {}
    }
    let key: String = header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    Some(match key.as_str() {
        "id" | "recordid" => FieldKind::Id,
        "givenname" | "firstname" | "forename" => FieldKind::GivenName,
        "patronymic" | "middlename" | "fathersname" => FieldKind::Patronymic,
        "familyname" | "surname" | "lastname" => FieldKind::FamilyName,
        "fullname" | "name" => FieldKind::FullName,
        "sex" | "gender" => FieldKind::Sex,
        "birthdate" | "dateofbirth" | "dob" => FieldKind::BirthDate,
        "birthplace" | "placeofbirth" => FieldKind::BirthPlace,
        _ => return None,
    })
}

/// A CSV file as read: its header and its records with the line each starts on.
#[derive(Debug)]
struct CsvFile {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
}

fn read_csv(path: &Path) -> anyhow::Result<CsvFile> {
    let bytes =
        std::fs::read(path).map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = upto.iter().filter(|&&b| b == b'\n').count() + 1;
        bad(format!(
            "{}:{line}: not UTF-8 text (save the file as UTF-8)",
            path.display()
        ))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let delimiter = sniff_delimiter(text);
    let mut records = parse_records(text, delimiter)
        .map_err(|(line, msg)| bad(format!("{}:{line}: {msg}", path.display())))?;
    if records.is_empty() {
        return Err(bad(format!(
            "{}: the file is empty; a header line naming the columns is expected",
            path.display()
        )));
    }
    let (_, header) = records.remove(0);
    let mut seen = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        if h.trim().is_empty() {
            return Err(bad(format!(
                "{}:1: column {} has no header",
                path.display(),
                i + 1
            )));
        }
        if let Some(first) = seen.insert(h.trim(), i) {
            return Err(bad(format!(
                "{}:1: columns {} and {} are both called {:?}",
                path.display(),
                first + 1,
                i + 1,
                h.trim()
            )));
        }
    }
    for (line, row) in &records {
        if row.len() != header.len() {
            return Err(bad(format!(
                "{}:{line}: {} values, but the header has {} columns",
                path.display(),
                row.len(),
                header.len()
            )));
        }
    }
    Ok(CsvFile {
        path: path.to_path_buf(),
        header,
        rows: records,
    })
}

/// The separator the first line uses most (outside quotes): comma, semicolon or tab. Comma
/// wins ties, being the standard's.
fn sniff_delimiter(text: &str) -> char {
    let mut counts = [(',', 0usize), (';', 0), ('\t', 0)];
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' if !quoted => break,
            _ if !quoted => {
                if let Some(slot) = counts.iter_mut().find(|(d, _)| *d == c) {
                    slot.1 += 1;
                }
            }
            _ => {}
        }
    }
    counts
        .iter()
        .fold(
            (',', 0),
            |best, &(d, n)| if n > best.1 { (d, n) } else { best },
        )
        .0
}

/// RFC 4180 records (quotes, doubled quotes, separators and line breaks inside quotes; CRLF or
/// LF), each with the 1-based line it starts on. Blank lines are skipped.
/// Records with the line each starts on.
type Records = Vec<(usize, Vec<String>)>;

fn parse_records(text: &str, delimiter: char) -> Result<Records, (usize, String)> {
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut line = 1usize;
    let mut start_line = 1usize;
    let mut quoted = false;
    let mut was_quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() && !was_quoted => {
                field.clear();
                quoted = true;
                was_quoted = true;
            }
            '"' => {
                return Err((
                    line,
                    "a quote inside an unquoted value (quote the whole value and double the quote)"
                        .into(),
                ));
            }
            c if c == delimiter => {
                fields.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                was_quoted = false;
                if !(fields.len() == 1 && fields[0].trim().is_empty()) {
                    records.push((start_line, std::mem::take(&mut fields)));
                }
                fields.clear();
                line += 1;
                start_line = line;
            }
            _ if was_quoted => {
                if !c.is_whitespace() {
                    return Err((line, "text after a closing quote".into()));
                }
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err((start_line, "a quoted value is never closed".into()));
    }
    if !fields.is_empty() || !field.trim().is_empty() || was_quoted {
        fields.push(field);
        records.push((start_line, fields));
    }
    Ok(records)
}

fn assign_kinds(
    csv: &CsvFile,
    overrides: &HashMap<String, FieldKind>,
) -> anyhow::Result<Vec<FieldKind>> {
    let kinds: Vec<FieldKind> = csv
        .header
        .iter()
        .map(|h| {
            overrides
                .get(h.trim())
                .copied()
                .or_else(|| recognise_header(h))
                .unwrap_or(FieldKind::Ignore)
        })
        .collect();
    let ids: Vec<&str> = csv
        .header
        .iter()
        .zip(&kinds)
        .filter(|(_, k)| **k == FieldKind::Id)
        .map(|(h, _)| h.as_str())
        .collect();
    if ids.len() > 1 {
        return Err(bad(format!(
            "{}: several id columns ({}); mark all but one with --column HEADER=ignore",
            csv.path.display(),
            ids.join(", ")
        )));
    }
    if !kinds.iter().any(|k| k.is_usable()) {
        let looks_like_data = csv
            .header
            .iter()
            .any(|h| BirthDate::parse(h).is_ok() || h.trim().parse::<f64>().is_ok());
        let what = if looks_like_data {
            "the first line looks like data, not a header; add a header line naming the columns"
                .to_string()
        } else {
            format!("no usable column among {:?}", csv.header)
        };
        return Err(bad(format!(
            "{}:1: {what} (recognised: id, given_name, patronymic, family_name, full_name, sex, birth_date, birth_place; \
             others with --column HEADER=KIND)",
            csv.path.display()
        )));
    }
    Ok(kinds)
}

/// Reads a CSV file into a table the way `homeward link` does (for the benchmark's FEBRL4 run),
/// with the cells it read as missing.
pub(crate) fn load_table(
    path: &Path,
    overrides: &HashMap<String, FieldKind>,
) -> anyhow::Result<(Table, Vec<CellIssue>)> {
    let csv = read_csv(path)?;
    let kinds = assign_kinds(&csv, overrides)?;
    build_table(&csv, &kinds, false)
}

/// Reads one list as `homeward link` reads each of its two (for `homeward pprl encode`).
pub(crate) fn load_list(
    path: &Path,
    overrides: &HashMap<String, FieldKind>,
    strict: bool,
) -> anyhow::Result<(Table, Vec<CellIssue>)> {
    let csv = read_csv(path)?;
    let kinds = assign_kinds(&csv, overrides)?;
    build_table(&csv, &kinds, strict)
}

/// Why a cell of a column the table parses cannot be read, if it cannot.
fn unreadable(kind: FieldKind, value: &str) -> Option<String> {
    match kind {
        // The parser's own reason already lists the forms it reads where the form was wrong.
        FieldKind::BirthDate => BirthDate::parse(value).err().map(|e| e.to_string()),
        FieldKind::Sex => homeward_linkage::parse_sex(value).err(),
        _ => None,
    }
}

/// The table of a CSV file, and the cells that could not be read (treated as missing; with
/// `strict`, the first of them is an error instead).
fn build_table(
    csv: &CsvFile,
    kinds: &[FieldKind],
    strict: bool,
) -> anyhow::Result<(Table, Vec<CellIssue>)> {
    let mut issues = Vec::new();
    let columns: Vec<(String, FieldKind)> = csv
        .header
        .iter()
        .map(|h| h.trim().to_string())
        .zip(kinds.iter().copied())
        .collect();
    let id_col = kinds.iter().position(|k| *k == FieldKind::Id);
    let mut table = Table::new(columns).map_err(|e| bad(format!("{}: {e}", csv.path.display())))?;
    let lines: Vec<usize> = csv.rows.iter().map(|(l, _)| *l).collect();
    let line_of = |row: usize| lines.get(row).copied().unwrap_or(0);
    for (line, values) in &csv.rows {
        let id = match id_col {
            Some(c) => values
                .get(c)
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
            None => line.to_string(),
        };
        // Every date and sex cell is read here (the table reads only the first column of each),
        // so that a bad value anywhere is reported rather than silently compared as text.
        let mut cells: Vec<Option<&str>> = Vec::with_capacity(values.len());
        for (c, v) in values.iter().enumerate() {
            let value = v.trim();
            let why = match kinds.get(c) {
                Some(&k) if !value.is_empty() => unreadable(k, value),
                _ => None,
            };
            match why {
                None => cells.push(Some(v.as_str())),
                Some(reason) if strict => {
                    return Err(bad(format!(
                        "{}:{line}: column {:?}: {reason}",
                        csv.path.display(),
                        csv.header[c].trim()
                    )));
                }
                Some(reason) => {
                    issues.push(CellIssue {
                        file: csv.path.clone(),
                        line: *line,
                        column: csv.header[c].trim().to_string(),
                        value: value.to_string(),
                        reason,
                    });
                    cells.push(None);
                }
            }
        }
        table.push(id, cells).map_err(|e| {
            let file = csv.path.display();
            match e {
                LinkError::DuplicateId { row, id, first } => bad(format!(
                    "{file}:{}: id {id:?} is already used on line {}",
                    line_of(row),
                    line_of(first)
                )),
                LinkError::EmptyId { row } => {
                    bad(format!("{file}:{}: the id is empty", line_of(row)))
                }
                LinkError::InvalidValue {
                    row,
                    column,
                    message,
                    ..
                } => bad(format!(
                    "{file}:{}: column {column:?}: {message}",
                    line_of(row)
                )),
                other => bad(format!("{file}:{line}: {other}")),
            }
        })?;
    }
    Ok((table, issues))
}

/// The fields of the explanation columns, in the model's order.
fn field_names(output: &LinkOutput) -> Vec<String> {
    output.model.fields.iter().map(|f| f.name.clone()).collect()
}

/// A cell of the pairs file: the ids echo the input files, so a formula in one is guarded.
fn csv_cell(s: &str) -> std::borrow::Cow<'_, str> {
    let s = homeward_domain::csv_cell::neutralise(s);
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s
    }
}

fn write_csv(output: &LinkOutput, with_decision: bool, out: &mut Vec<u8>) {
    let fields = field_names(output);
    let mut header = vec!["left_id".to_string(), "right_id".into(), "score".into()];
    if with_decision {
        header.push("decision".into());
        header.push("possibly_renamed".into());
    }
    for f in &fields {
        header.push(format!("{f}_level"));
        header.push(format!("{f}_weight"));
    }
    header.push("match_weight".into());
    let line: Vec<String> = header.iter().map(|h| csv_cell(h).into_owned()).collect();
    out.extend_from_slice(line.join(",").as_bytes());
    out.push(b'\n');
    for p in &output.pairs {
        let mut row = vec![
            csv_cell(&p.left_id).into_owned(),
            csv_cell(&p.right_id).into_owned(),
            format!("{:.6}", p.probability),
        ];
        if with_decision {
            row.push(decision_name(p.decision).into());
            row.push(
                if p.possibly_renamed {
                    "possibly_renamed"
                } else {
                    ""
                }
                .into(),
            );
        }
        for f in &fields {
            match p.explanation.fields.iter().find(|c| &c.field == f) {
                Some(c) => {
                    row.push(csv_cell(&c.level).into_owned());
                    row.push(format!("{:.3}", c.weight));
                }
                None => {
                    row.push(String::new());
                    row.push(String::new());
                }
            }
        }
        row.push(format!("{:.3}", p.match_weight));
        out.extend_from_slice(row.join(",").as_bytes());
        out.push(b'\n');
    }
}

fn decision_name(d: Decision) -> &'static str {
    match d {
        Decision::Match => "match",
        Decision::Review => "review",
    }
}

fn write_jsonl(output: &LinkOutput, out: &mut Vec<u8>) -> anyhow::Result<()> {
    for p in &output.pairs {
        serde_json::to_writer(&mut *out, &pair_json(p))?;
        out.push(b'\n');
    }
    Ok(())
}

fn pair_json(p: &LinkedPair) -> serde_json::Value {
    serde_json::json!({
        "left_id": p.left_id,
        "right_id": p.right_id,
        "score": p.probability,
        "decision": decision_name(p.decision),
        "possibly_renamed": p.possibly_renamed,
        "match_weight": p.match_weight,
        "prior": p.explanation.prior,
        "fields": p.explanation.fields,
    })
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so that
/// readers see the old file or the new one, never a part.
pub(crate) fn write_whole(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".homeward-link-")
        .tempfile_in(dir)
        .map_err(|e| bad(format!("cannot write in {}: {e}", dir.display())))?;
    tmp.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {}", path.display(), e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn headers_are_recognised_whatever_their_habit() {
        assert_eq!(
            recognise_header("Date of Birth"),
            Some(FieldKind::BirthDate)
        );
        assert_eq!(recognise_header("FIRST_NAME"), Some(FieldKind::GivenName));
        assert_eq!(recognise_header("record-id"), Some(FieldKind::Id));
        assert_eq!(recognise_header("Last name"), Some(FieldKind::FamilyName));
        assert_eq!(recognise_header("colour"), None);
    }

    #[test]
    fn delimiters_are_sniffed_from_the_header() {
        assert_eq!(sniff_delimiter("id;name;dob\n1;a,b;2014"), ';');
        assert_eq!(sniff_delimiter("id\tname\n"), '\t');
        assert_eq!(sniff_delimiter("\"a;b\",c\n"), ',');
        assert_eq!(sniff_delimiter("id\n1\n"), ',');
    }

    #[test]
    fn records_keep_quotes_and_line_numbers() {
        let r = parse_records("a,b\r\n\"x,\"\"y\"\"\",2\n\n\"multi\nline\",3\n", ',').unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[1], (2, vec!["x,\"y\"".to_string(), "2".into()]));
        assert_eq!(r[2], (4, vec!["multi\nline".to_string(), "3".into()]));
        assert!(parse_records("a,b\n\"open,1\n", ',').is_err());
        assert_eq!(parse_records("a,b\nx,y", ',').unwrap().len(), 2);
    }

    #[test]
    fn ids_echoed_into_the_pairs_file_cannot_start_a_formula() {
        assert_eq!(csv_cell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(csv_cell("@x,y"), "\"'@x,y\"");
        assert_eq!(csv_cell("TR-1"), "TR-1");
    }
}
