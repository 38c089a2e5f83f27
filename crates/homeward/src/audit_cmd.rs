//! `homeward audit`: prove the log is intact.

use homeward_app::{App, AppError};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain: exit 0 when intact, 1 naming the first bad entry.
    Verify,
}

pub async fn run(app: &App, cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCommand::Verify => {
            let bar = ProgressBar::no_length();
            if std::io::stderr().is_terminal() {
                bar.set_style(
                    ProgressStyle::with_template("{spinner} verified {pos} entries")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
            } else {
                bar.set_draw_target(ProgressDrawTarget::hidden());
            }
            let result = app
                .verify_audit(&|n| bar.set_position(u64::try_from(n).unwrap_or(0)))
                .await;
            bar.finish_and_clear();
            match result {
                Ok(report) => {
                    println!(
                        "audit log intact: {} entries, head hash {}",
                        report.entries, report.head_hash
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(AppError::ChainBroken(b)) => {
                    println!("audit log BROKEN at entry {}: {}", b.seq, b.reason);
                    Ok(ExitCode::from(1))
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}
