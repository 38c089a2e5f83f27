//! The `homeward` command: serve, migrate, admin, import, audit, demo, bench.
//!
//! Exit codes: 0 ok, 1 failure, 2 bad usage or input.

mod admin_cmd;
mod audit_cmd;
mod backup_cmd;
mod bench;
mod bench_backends;
mod bench_cmd;
mod bench_pages;
mod demo;
mod evidence_cmd;
mod import_cmd;
mod jobs_cmd;
mod link_cmd;
mod pprl_cmd;
mod serve;

use anyhow::Context;
use clap::{Parser, Subcommand};
use homeward_app::console::Console;
use homeward_app::{App, AppConfig, AppError, ErrorKind};
use homeward_domain::RecordKind;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "homeward",
    version,
    about = "Case system for the mediated return of children across a conflict line"
)]
struct Cli {
    /// Data directory (holds the SQLite database unless --database-url is given).
    #[arg(
        long,
        global = true,
        env = "HOMEWARD_DATA",
        default_value = "homeward-data"
    )]
    data: PathBuf,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB. Default: SQLite in the data directory.
    #[arg(long, global = true, env = "HOMEWARD_DATABASE_URL")]
    database_url: Option<String>,
    /// Log as JSON lines (for log collectors) instead of text.
    #[arg(long, global = true, env = "HOMEWARD_LOG_JSON")]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server (JSON API under /api/v1, OpenAPI at /api/openapi.json).
    Serve(serve::ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Administer parties, users and tokens from the server's command line.
    Admin {
        #[command(subcommand)]
        what: admin_cmd::AdminCommand,
    },
    /// Import child records from a CSV file.
    Import {
        #[command(subcommand)]
        what: ImportKind,
    },
    /// Check the audit log.
    Audit {
        #[command(subcommand)]
        what: audit_cmd::AuditCommand,
    },
    /// Evidence bundles: verify one without the database.
    Evidence {
        #[command(subcommand)]
        what: evidence_cmd::EvidenceCommand,
    },
    /// The job queue: run the due jobs, list them, check for lost matching.
    Jobs {
        #[command(subcommand)]
        what: jobs_cmd::JobsCommand,
    },
    /// Find the same child in two CSV lists (any script or spelling) and write one-to-one pairs.
    Link(link_cmd::LinkArgs),
    /// Privacy-preserving linkage: make a key, encode a list on a side's machine, link two encodings.
    Pprl {
        #[command(subcommand)]
        what: pprl_cmd::PprlCommand,
    },
    /// Start a server on a temporary data directory with a synthetic scenario, and print the logins.
    Demo(demo::DemoArgs),
    /// Write one archive of the database and the attachments while the server runs.
    Backup(backup_cmd::BackupArgs),
    /// Restore a backup into a new, empty data directory, then verify its audit log.
    Restore(backup_cmd::RestoreArgs),
    /// Measure Homeward's speed on synthetic data.
    Bench {
        #[command(subcommand)]
        what: BenchKind,
    },
}

#[derive(Debug, Subcommand)]
enum ImportKind {
    /// Tracing requests (children sought), filed by an origin party's user.
    TracingRequests(import_cmd::ImportArgs),
    /// Custody records (children held), filed by a custody party's user.
    CustodyRecords(import_cmd::ImportArgs),
}

#[derive(Debug, Subcommand)]
enum BenchKind {
    /// Import N synthetic rows into a fresh SQLite store and report the time.
    Import(bench_cmd::BenchImportArgs),
    /// Link synthetic multilingual lists and report precision, recall, F1, time and memory
    /// (with --peers, beside Splink on the same data).
    Link(bench::LinkBenchArgs),
    /// Store N synthetic records, start the server and time every kind of page (goal: 100 ms).
    Pages(bench_pages::BenchPagesArgs),
    /// Privacy-preserving linkage beside clear-text Homeward and clkhash + anonlink, with a
    /// frequency attack on the encodings.
    Pprl(bench::pprl::PprlBenchArgs),
    /// The review queue of stored records against `homeward link` on the same lists: recall,
    /// queued pairs per true pair, import times with matching (issue 13 §4).
    Queue(bench::queue::BenchQueueArgs),
    /// Start servers and measure reads and audited writes per second, p50 and p99, at 16, 64
    /// and 256 connections (SQLite; with --postgres also one and three servers on PostgreSQL).
    Serve(bench::serve::BenchServeArgs),
    /// The same imports on SQLite and PostgreSQL in one run, side by side.
    Backends(bench_backends::BenchBackendsArgs),
    /// Store N synthetic records with cases and time the mission dashboard's figures (goal: 100 ms).
    Indicators(bench::indicators::IndicatorsBenchArgs),
    /// Export N synthetic records to XLSX (beside CSV and JSON) and report time and peak memory.
    Export(bench::export::BenchExportArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            exit_code_for(&e)
        }
    }
}

/// Bad input (exit 2) versus failure (exit 1), judged from the error chain.
fn exit_code_for(e: &anyhow::Error) -> ExitCode {
    let bad_input = e.chain().any(|c| {
        c.downcast_ref::<AppError>().is_some_and(|a| {
            matches!(
                a.kind(),
                ErrorKind::Invalid
                    | ErrorKind::NotFound
                    | ErrorKind::Conflict
                    | ErrorKind::Forbidden
            )
        }) || c.downcast_ref::<BadInput>().is_some()
    });
    ExitCode::from(if bad_input { 2 } else { 1 })
}

/// Marks an error as the user's input being wrong (exit code 2).
#[derive(Debug)]
pub struct BadInput(pub String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Demo(args) => return demo::run(args).await.map(|()| ExitCode::SUCCESS),
        Command::Bench {
            what: BenchKind::Import(args),
        } => {
            return bench_cmd::run_import_bench(args)
                .await
                .map(|()| ExitCode::SUCCESS);
        }
        Command::Bench {
            what: BenchKind::Backends(args),
        } => {
            return bench_backends::run_backends_bench(args)
                .await
                .map(|()| ExitCode::SUCCESS);
        }
        Command::Bench {
            what: BenchKind::Pages(args),
        } => {
            return bench_pages::run_pages_bench(args)
                .await
                .map(|()| ExitCode::SUCCESS);
        }
        Command::Bench {
            what: BenchKind::Serve(args),
        } => return bench::serve::run(args).await.map(|()| ExitCode::SUCCESS),
        Command::Bench {
            what: BenchKind::Indicators(args),
        } => {
            return bench::indicators::run_indicators_bench(args)
                .await
                .map(|()| ExitCode::SUCCESS);
        }
        Command::Bench {
            what: BenchKind::Export(args),
        } => {
            return bench::export::run_export_bench(args)
                .await
                .map(|()| ExitCode::SUCCESS);
        }
        Command::Link(args) => return link_cmd::run(args),
        Command::Pprl { what } => return pprl_cmd::run(what),
        Command::Bench {
            what: BenchKind::Queue(args),
        } => return bench::queue::run(args).await.map(|()| ExitCode::SUCCESS),
        Command::Bench {
            what: BenchKind::Pprl(args),
        } => return bench::pprl::run(args),
        Command::Restore(args) => return backup_cmd::restore(args).await,
        Command::Evidence { what } => return evidence_cmd::run(what),
        Command::Audit {
            what: audit_cmd::AuditCommand::Keygen(args),
        } => return audit_cmd::keygen(args),
        Command::Bench {
            what: BenchKind::Link(args),
        } => return bench::run_link_bench(args),
        _ => {}
    }
    let url = database_url(&cli.data, cli.database_url.as_deref())?;
    let store = homeward_store::connect(&url)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(&url)))?;
    let config = match &cli.command {
        Command::Serve(args) => args.app_config(&cli.data)?,
        Command::Backup(args) => backup_cmd::backup_config(&cli.data, args)?,
        _ => AppConfig::default(),
    };
    let app = App::new(store, config);
    let result = match cli.command {
        Command::Serve(args) => serve::run(app.clone(), &args)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Migrate => {
            // The schema is migrated on connecting; what is left is the derived keys, which a
            // new version may compute differently from the one that stored them.
            let refreshed = Console::new(&app)
                .refresh_derived_keys(&|n| tracing::info!(records = n, "recomputing derived keys"))
                .await?;
            match refreshed {
                homeward_app::reindex::Refresh::UpToDate => {
                    println!("database is up to date ({})", app.backend());
                }
                homeward_app::reindex::Refresh::Recomputed(n) => println!(
                    "database is up to date ({}); search and blocking keys recomputed for {n} records",
                    app.backend()
                ),
            }
            // The startup check: records whose matching never ran get a job.
            let queued = app.enqueue_owed_matching().await?;
            if queued > 0 {
                println!(
                    "{queued} records whose matching never ran were queued; a server or `homeward jobs run` matches them"
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin { what } => admin_cmd::run(&app, what).await.map(|()| ExitCode::SUCCESS),
        Command::Import { what } => match what {
            ImportKind::TracingRequests(a) => {
                import_cmd::run(&app, RecordKind::TracingRequest, &a).await
            }
            ImportKind::CustodyRecords(a) => {
                import_cmd::run(&app, RecordKind::CustodyRecord, &a).await
            }
        },
        Command::Audit { what } => audit_cmd::run(&app, what).await,
        Command::Jobs { what } => jobs_cmd::run(&app, what).await,
        Command::Backup(args) => backup_cmd::backup(&app, &cli.data, &url, &args).await,
        Command::Demo(_)
        | Command::Link(_)
        | Command::Pprl { .. }
        | Command::Bench { .. }
        | Command::Restore(_)
        | Command::Evidence { .. } => Ok(ExitCode::SUCCESS),
    };
    app.close().await;
    result
}

/// The database URL: the one given, or SQLite in the data directory (created when missing).
fn database_url(data: &Path, given: Option<&str>) -> anyhow::Result<String> {
    if let Some(url) = given {
        return Ok(url.to_owned());
    }
    std::fs::create_dir_all(data)
        .with_context(|| format!("cannot create the data directory {}", data.display()))?;
    Ok(homeward_store::sqlite_url_for_dir(data))
}

/// A URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HOMEWARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }
}
