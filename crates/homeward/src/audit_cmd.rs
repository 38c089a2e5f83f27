//! `homeward audit`: prove the log is intact, and anchor it with signed checkpoints.

use crate::BadInput;
use homeward_app::checkpoint::{
    self, Checkpoint, CheckpointError, parse_public_key, parse_signing_key, public_key_hex,
};
use homeward_app::console::Console;
use homeward_app::{App, AppError, audit::ChainReport};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain and every stored record, record version, case and case version
    /// against the entry that wrote it: exit 0 when intact, 1 naming the first bad entry or row.
    Verify(VerifyArgs),
    /// Verify the log, then write a checkpoint of its head signed with the key (JSON).
    Checkpoint(CheckpointArgs),
    /// Make an Ed25519 key pair for checkpoints; prints the public key.
    Keygen(KeygenArgs),
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Also prove the log still extends this checkpoint (written by `audit checkpoint`).
    #[arg(long, requires = "public_key")]
    checkpoint: Option<PathBuf>,
    /// The public key the checkpoint must be signed with (file of 64 hex digits).
    #[arg(long, requires = "checkpoint")]
    public_key: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CheckpointArgs {
    /// The private key file (from `audit keygen`).
    #[arg(long)]
    key_file: PathBuf,
    /// Where to write the checkpoint.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// Where to write the private key (created with mode 0600; an existing file is kept).
    #[arg(long)]
    out: PathBuf,
    /// Also write the public key to this file.
    #[arg(long)]
    public_out: Option<PathBuf>,
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::no_length();
    if std::io::stderr().is_terminal() {
        bar.set_style(
            ProgressStyle::with_template("{spinner} verified {pos} entries")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar
}

fn read(path: &Path, what: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| BadInput(format!("cannot read the {what} {}: {e}", path.display())).into())
}

fn bad(e: CheckpointError, path: &Path) -> anyhow::Error {
    BadInput(format!("{}: {e}", path.display())).into()
}

/// Exit 0 with the report, or 1 naming what is broken.
fn outcome(result: Result<ChainReport, AppError>) -> anyhow::Result<ExitCode> {
    match result {
        Ok(report) => {
            println!(
                "audit log intact: {} entries, {} rows, head hash {}",
                report.entries, report.rows, report.head_hash
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(AppError::ChainBroken(b)) => {
            match &b.row {
                Some(row) => println!("audit log BROKEN at row {row}: {}", b.reason),
                None => println!("audit log BROKEN at entry {}: {}", b.seq, b.reason),
            }
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

/// `audit keygen` needs no database.
pub fn keygen(args: &KeygenArgs) -> anyhow::Result<ExitCode> {
    let key = checkpoint::generate_key();
    let mut file = create_private(&args.out).map_err(|e| {
        BadInput(format!(
            "cannot create the key file {}: {e}",
            args.out.display()
        ))
    })?;
    file.write_all(checkpoint::signing_key_text(&key).as_bytes())?;
    file.sync_all()?;
    let public = public_key_hex(&key.verifying_key());
    if let Some(p) = &args.public_out {
        std::fs::write(p, format!("{public}\n"))?;
    }
    println!("{public}");
    Ok(ExitCode::SUCCESS)
}

fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

pub async fn run(app: &App, cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCommand::Verify(args) => {
            let anchor = match (&args.checkpoint, &args.public_key) {
                (Some(c), Some(p)) => {
                    let cp = Checkpoint::parse(&read(c, "checkpoint")?).map_err(|e| bad(e, c))?;
                    let key = parse_public_key(&read(p, "public key")?).map_err(|e| bad(e, p))?;
                    Some((cp, key))
                }
                _ => None,
            };
            let bar = progress_bar();
            let tick = |n: i64| bar.set_position(u64::try_from(n).unwrap_or(0));
            let result = match &anchor {
                None => Console::new(app).verify_audit(&tick).await,
                Some((cp, key)) => match app.verify_audit_against(cp, key, &tick).await {
                    Ok(Err(e)) => {
                        bar.finish_and_clear();
                        println!("checkpoint REFUSED: {e}");
                        return Ok(ExitCode::from(1));
                    }
                    Ok(Ok(report)) => Ok(report),
                    Err(e) => Err(e),
                },
            };
            bar.finish_and_clear();
            let code = outcome(result)?;
            if code == ExitCode::SUCCESS
                && let Some((cp, _)) = &anchor
            {
                println!(
                    "the log extends the checkpoint of {} (entry {})",
                    cp.at, cp.seq
                );
            }
            Ok(code)
        }
        AuditCommand::Checkpoint(args) => {
            let key = parse_signing_key(&read(&args.key_file, "key file")?)
                .map_err(|e| bad(e, &args.key_file))?;
            let bar = progress_bar();
            let result = app
                .audit_checkpoint(&key, &|n| bar.set_position(u64::try_from(n).unwrap_or(0)))
                .await;
            bar.finish_and_clear();
            let cp = match result {
                Ok(cp) => cp,
                Err(e) => return outcome(Err(e)),
            };
            std::fs::write(&args.out, cp.to_json())
                .map_err(|e| BadInput(format!("cannot write {}: {e}", args.out.display())))?;
            println!(
                "checkpoint written to {}: entry {}, head hash {}",
                args.out.display(),
                cp.seq,
                cp.head_hash
            );
            Ok(ExitCode::SUCCESS)
        }
        // Handled before the database is opened.
        AuditCommand::Keygen(args) => keygen(&args),
    }
}
