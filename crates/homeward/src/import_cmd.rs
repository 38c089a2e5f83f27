//! `homeward import tracing-requests|custody-records FILE.csv`: imports a spreadsheet as a named
//! user, all or nothing unless `--skip-invalid`.

use anyhow::Context;
use homeward_app::console::Console;
use homeward_app::import::{ImportOptions, ImportPhase, ImportProgress, parse_column_mapping};
use homeward_app::{App, AppError, ErrorKind, RowError};
use homeward_domain::RecordKind;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

/// Bad rows printed before the rest are only counted (the full list goes to a file).
const PRINTED_ROWS: usize = 50;

const EXIT_BAD_INPUT: u8 = 2;
const EXIT_FAILURE: u8 = 1;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The CSV file (UTF-8 with or without BOM; comma, semicolon or tab separated; first line
    /// the header).
    pub file: PathBuf,
    /// Import as this user (the records are filed by the user's party and audited as theirs).
    #[arg(long, value_name = "USERNAME")]
    pub user: String,
    /// Say which field a column holds when its header is not recognised, or leave it out with
    /// `HEADER=ignore`. Repeat for several columns.
    #[arg(long = "column", value_name = "HEADER=FIELD", value_parser = parse_column_mapping)]
    pub columns: Vec<(String, String)>,
    /// Import the valid rows and write the invalid ones to the rejects file, instead of importing
    /// nothing when any row is invalid.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Import rows whose sex, birth date or separation date cannot be read, with that value left
    /// out of its field (matching treats it as missing) and kept as typed in the record's notes.
    #[arg(long)]
    pub keep_unreadable: bool,
    /// Where to write rejected rows [default: FILE's name with `.rejects.csv`, beside it].
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// Check the file and report, without importing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Import even though this party imported the same file (same SHA-256) before.
    #[arg(long)]
    pub force: bool,
    /// Leave the matching of the imported records to the server's workers (or `homeward jobs
    /// run`) instead of running it before exiting.
    #[arg(long)]
    pub defer_matching: bool,
}

fn noun(kind: RecordKind, n: usize) -> &'static str {
    match (kind, n == 1) {
        (RecordKind::TracingRequest, true) => "tracing request",
        (RecordKind::TracingRequest, false) => "tracing requests",
        (RecordKind::CustodyRecord, true) => "custody record",
        (RecordKind::CustodyRecord, false) => "custody records",
    }
}

fn invalid_rows(n: usize) -> String {
    if n == 1 {
        "1 invalid row".to_owned()
    } else {
        format!("{n} invalid rows")
    }
}

/// `<dir>/<stem><suffix>` beside the input file.
fn beside(file: &Path, suffix: &str) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "import".to_owned());
    file.with_file_name(format!("{stem}{suffix}"))
}

/// Writes the whole file or nothing: a half-written rejects file would look like a complete one.
fn write_whole(path: &Path, content: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(content)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn print_rows(rows: &[RowError], full_list: Option<&Path>) {
    for r in rows.iter().take(PRINTED_ROWS) {
        for e in &r.errors {
            eprintln!("line {}: {}: {}", r.line, e.field, e.message);
        }
    }
    if rows.len() > PRINTED_ROWS {
        let more = rows.len() - PRINTED_ROWS;
        let more = if more == 1 {
            "1 more invalid row".to_owned()
        } else {
            format!("{more} more invalid rows")
        };
        match full_list {
            Some(p) => eprintln!("... and {more}; the full list is in {}", p.display()),
            None => eprintln!("... and {more}"),
        }
    }
}

/// The full list of bad rows as text, `line N: field: message` per problem.
fn rows_report(rows: &[RowError]) -> String {
    let mut out = String::new();
    for r in rows {
        for e in &r.errors {
            out.push_str(&format!("line {}: {}: {}\n", r.line, e.field, e.message));
        }
    }
    out
}

/// A progress bar on a terminal; nothing when stderr is a file or a pipe (logs stay clean).
fn progress_bar(file_bytes: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(file_bytes);
    bar.set_style(style(
        "{msg:8} [{bar:40}] {binary_bytes}/{binary_total_bytes} ({eta})",
    ));
    bar.set_message("reading");
    bar
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn bad_input(msg: String) -> anyhow::Result<ExitCode> {
    eprintln!("error: {msg}");
    Ok(ExitCode::from(EXIT_BAD_INPUT))
}

pub async fn run(app: &App, kind: RecordKind, args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let caller = match Console::new(app).caller(&args.user).await {
        Ok(c) => c,
        Err(AppError::NotFound) => return bad_input(format!("there is no user {:?}", args.user)),
        Err(e) if e.kind() != ErrorKind::Internal => {
            return bad_input(format!("user {:?}: {e}", args.user));
        }
        Err(e) => return Err(e.into()),
    };
    let files = caller.party().kind.files();
    if files != Some(kind) {
        let what = files.map_or("no child records".to_owned(), |k| noun(k, 2).to_owned());
        return bad_input(format!(
            "{} belongs to {} ({}), which files {what}, not {}",
            args.user,
            caller.party().name.as_str(),
            caller.party().kind.as_str(),
            noun(kind, 2)
        ));
    }
    let bytes = match std::fs::read(&args.file) {
        Ok(b) => b,
        Err(e) => return bad_input(format!("cannot read {}: {e}", args.file.display())),
    };
    let options = ImportOptions {
        kind: Some(kind),
        columns: args.columns.clone(),
        skip_invalid: args.skip_invalid,
        keep_unreadable: args.keep_unreadable,
        force: args.force,
    };

    let bar = progress_bar(bytes.len() as u64);
    let phase = Mutex::new(ImportPhase::Parsing);
    let progress = |p: ImportProgress| {
        if let Ok(mut current) = phase.lock()
            && *current != p.phase
        {
            *current = p.phase;
            bar.set_style(style("{msg:8} [{bar:40}] {human_pos}/{human_len} ({eta})"));
            bar.set_message("storing");
            bar.reset_eta();
        }
        bar.set_length(p.total);
        bar.set_position(p.done);
    };

    let outcome = if args.dry_run {
        app.check_import(&caller, &bytes, &options, &progress)
            .await
            .map(|c| {
                (
                    c.valid,
                    c.rejected,
                    c.reject_csv,
                    None,
                    None,
                    c.kept_unreadable,
                    c.read_loosely,
                )
            })
    } else {
        // --defer-matching: the records' matching stays queued for the servers' workers.
        let app = if args.defer_matching {
            app.without_inline_jobs()
        } else {
            app.clone()
        };
        app.import_records(&caller, &bytes, &options, &progress)
            .await
            .map(|r| {
                (
                    r.imported,
                    r.rejected,
                    r.reject_csv,
                    Some(r.import_id),
                    r.matching,
                    r.kept_unreadable,
                    r.read_loosely,
                )
            })
    };
    bar.finish_and_clear();

    match outcome {
        Ok((count, rejected, reject_csv, import_id, matching, kept, loose)) => {
            let rejects_path = args
                .rejects
                .clone()
                .unwrap_or_else(|| beside(&args.file, ".rejects.csv"));
            let mut code = ExitCode::SUCCESS;
            if let (Some(csv), Some(_)) = (&reject_csv, import_id)
                && let Err(e) = write_whole(&rejects_path, csv.as_bytes())
            {
                // The import is committed by now; what must not be lost is the list of rows
                // left out, so print all of it.
                eprintln!("{}", rows_report(&rejected).trim_end());
                eprintln!("error: the rows above were not imported and could not be saved: {e:#}");
                code = ExitCode::from(EXIT_FAILURE);
            } else if !rejected.is_empty() {
                let full = import_id.is_some().then_some(rejects_path.as_path());
                print_rows(&rejected, full);
            }
            if !kept.is_empty() {
                println!("{}", kept_report(&kept, import_id.is_some()));
            }
            if !loose.is_empty() {
                println!("{}", loose_report(&loose));
            }
            match import_id {
                Some(id) => {
                    println!(
                        "imported {count} {} from {} (import {id})",
                        noun(kind, count),
                        args.file.display()
                    );
                    match matching {
                        Some(m) if m.state == "done" => println!("matching: done"),
                        Some(m) => println!(
                            "matching: {} (job {}); a server or `homeward jobs run` finishes it",
                            m.state, m.id
                        ),
                        None => {}
                    }
                    if !rejected.is_empty() && code == ExitCode::SUCCESS {
                        println!(
                            "skipped {}; they are in {}",
                            invalid_rows(rejected.len()),
                            rejects_path.display()
                        );
                    }
                }
                None => {
                    println!(
                        "dry run: {count} {} would be imported, {}; nothing was written",
                        noun(kind, count),
                        invalid_rows(rejected.len())
                    );
                }
            }
            Ok(code)
        }
        Err(AppError::ImportInvalid(rows)) => {
            let full = if rows.len() > PRINTED_ROWS {
                let path = beside(&args.file, ".errors.txt");
                write_whole(&path, rows_report(&rows).as_bytes())?;
                Some(path)
            } else {
                None
            };
            print_rows(&rows, full.as_deref());
            eprintln!(
                "error: {} in {}; nothing was imported (fix them, or use --skip-invalid to import the rest)",
                invalid_rows(rows.len()),
                args.file.display()
            );
            Ok(ExitCode::from(EXIT_BAD_INPUT))
        }
        Err(AppError::AlreadyImported { import, at }) => bad_input(format!(
            "{} was imported before (import {import}, {}); nothing was imported (use --force to import it again)",
            args.file.display(),
            at.format("%Y-%m-%d %H:%M:%S UTC")
        )),
        Err(e) if e.kind() == ErrorKind::Internal => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(EXIT_FAILURE))
        }
        // The file, the mapping or the user is wrong: the person running the command can fix it.
        Err(e) => bad_input(e.to_string()),
    }
}

/// How many values were not read, by field: they are in the records' notes.
/// The rows whose birth date was read loosely (written by hand), by line, for a person to check.
fn loose_report(rows: &[RowError]) -> String {
    let lines: Vec<String> = rows.iter().map(|r| r.line.to_string()).collect();
    format!(
        "{} birth date(s) written by hand were read loosely (the date as typed is in each record's notes); check them, lines {}",
        rows.len(),
        lines.join(", ")
    )
}

fn kept_report(kept: &[RowError], imported: bool) -> String {
    let mut by_field = std::collections::BTreeMap::<&str, usize>::new();
    for e in kept.iter().flat_map(|r| &r.errors) {
        *by_field.entry(e.field.as_str()).or_default() += 1;
    }
    let fields: Vec<String> = by_field.iter().map(|(f, n)| format!("{f} {n}")).collect();
    format!(
        "{} {} values that could not be read ({}); each is kept as typed in its record's notes",
        if imported {
            "kept aside"
        } else {
            "would keep aside"
        },
        by_field.values().sum::<usize>(),
        fields.join(", ")
    )
}
