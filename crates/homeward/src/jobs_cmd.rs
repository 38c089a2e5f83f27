//! `homeward jobs`: the job queue, for operators.

use homeward_app::App;
use homeward_app::jobs::JobState;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum JobsCommand {
    /// Run every job that is due, once, then exit (a server's workers do this continuously).
    Run,
    /// The queue: counts by state, then the latest jobs with their last error.
    List {
        /// Only jobs in this state: queued, running, done or failed.
        #[arg(long, value_parser = parse_state)]
        state: Option<JobState>,
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
    },
    /// Records whose matching never ran and no job will run: exit 0 when there are none, 1
    /// naming how many otherwise (`homeward migrate` or a server start queues them again).
    Check,
}

fn parse_state(s: &str) -> Result<JobState, String> {
    JobState::parse(s).ok_or_else(|| "one of queued, running, done, failed".to_owned())
}

pub async fn run(app: &App, cmd: JobsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        JobsCommand::Run => {
            let r = app.drain_jobs(&App::worker_name("cli")).await?;
            println!(
                "jobs run: {} done, {} to be retried, {} failed",
                r.done, r.retried, r.failed
            );
            Ok(if r.failed > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        JobsCommand::List { state, limit } => {
            let o = app.jobs_overview(state, limit).await?;
            println!(
                "queued {}  running {}  done {}  failed {}",
                o.queued, o.running, o.done, o.failed
            );
            for j in o.jobs {
                let error = match (&j.last_error_code, &j.last_error) {
                    (Some(c), Some(m)) => format!("  {c}: {m}"),
                    _ => String::new(),
                };
                println!(
                    "{}  {:<7}  {}  attempts {}/{}  {}/{}  {}{error}",
                    j.id,
                    j.state,
                    j.kind,
                    j.attempts,
                    j.max_attempts,
                    j.progress_done,
                    j.progress_total,
                    j.created_at.format("%Y-%m-%d %H:%M:%S"),
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        JobsCommand::Check => {
            let owed = app.owed_matching().await?;
            if owed.lost.is_empty() {
                println!(
                    "matching: nothing lost ({} records wait in queued jobs)",
                    owed.queued
                );
                Ok(ExitCode::SUCCESS)
            } else {
                println!(
                    "matching LOST for {} records (no job will match them); `homeward migrate` queues them",
                    owed.lost.len()
                );
                Ok(ExitCode::from(1))
            }
        }
    }
}
