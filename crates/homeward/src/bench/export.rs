//! `homeward bench export`: exporting N synthetic records (100,000 by default) from a SQLite store
//! to XLSX, against the goal of under 30 s and 500 MiB, beside CSV and JSON of the same records in
//! the same run. The store is filled once (by the import, its matching left queued); each format
//! is then exported by a child process of its own (`--child`), so that the peak memory printed
//! (VmHWM) is that export's and not the filling's.

use anyhow::{Context, bail};
use homeward_app::admin::NewUserInput;
use homeward_app::attachments::AttachmentKey;
use homeward_app::console::Console;
use homeward_app::exports::{ExportFilters, ExportFormat, ExportRequest};
use homeward_app::import::ImportOptions;
use homeward_app::synthetic::Synthetic;
use homeward_app::{App, AppConfig};
use homeward_domain::RecordKind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const GOAL_TIME: Duration = Duration::from_secs(30);
const GOAL_RSS_MIB: f64 = 500.0;
const USER: &str = "bench.exporter";
const PASSWORD: &str = "bench export password, synthetic";

#[derive(Debug, clap::Args)]
pub struct BenchExportArgs {
    /// How many synthetic custody records to export.
    #[arg(long, default_value_t = 100_000)]
    pub rows: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Internal: export the store in DIR to FORMAT and print the figures as JSON.
    #[arg(long, value_name = "DIR", hide = true)]
    pub child: Option<PathBuf>,
    #[arg(long, default_value = "xlsx", hide = true)]
    pub format: String,
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn app_in(dir: &Path, inline_jobs: bool) -> AppConfig {
    AppConfig {
        attachment_dir: Some(dir.join("attachments")),
        attachment_key: Some(AttachmentKey::generate()),
        inline_jobs,
        ..AppConfig::default()
    }
}

async fn fill(dir: &Path, rows: usize, seed: u64) -> anyhow::Result<()> {
    let mut synthetic = Synthetic::new(seed);
    let records: Vec<_> = (0..rows).map(|_| synthetic.custody_record()).collect();
    let mut csv = Vec::new();
    Synthetic::write_csv(&records, RecordKind::CustodyRecord, &mut csv)?;
    drop(records);
    let store = homeward_store::connect(&homeward_store::sqlite_url_for_dir(dir)).await?;
    // The matching the import asks for stays queued: it is not what is measured.
    let app = App::new(store, app_in(dir, false));
    let party = app
        .create_party(Console::actor(), "Synthetic custody authority", "custody")
        .await?;
    let user = NewUserInput {
        party_id: party.id,
        username: USER.to_owned(),
        display_name: None,
        roles: vec!["caseworker".to_owned()],
        password: PASSWORD.to_owned(),
        language: None,
    };
    app.create_user(Console::actor(), user).await?;
    let caller = Console::new(&app).caller(USER).await?;
    app.import_records(&caller, &csv, &ImportOptions::default(), &|_| {})
        .await?;
    app.close().await;
    Ok(())
}

/// The child: one export, timed from the request to the file made (the job runs inline).
async fn child(dir: &Path, format: &str) -> anyhow::Result<()> {
    let format = match format {
        "csv" => ExportFormat::Csv,
        "json" => ExportFormat::Json,
        "xlsx" => ExportFormat::Xlsx,
        other => bail!("unknown format {other}"),
    };
    let store = homeward_store::connect(&homeward_store::sqlite_url_for_dir(dir)).await?;
    let app = App::new(store, app_in(dir, true));
    let caller = Console::new(&app).caller(USER).await?;
    let request = ExportRequest {
        subject: "records".to_owned(),
        format,
        columns: Vec::new(),
        filters: ExportFilters::default(),
        protected: false,
    };
    let start = Instant::now();
    let view = app.request_export(&caller, &request).await?;
    let secs = start.elapsed().as_secs_f64();
    app.close().await;
    if view.state != "done" {
        bail!("the export ended {}: {:?}", view.state, view.error_code);
    }
    let out = serde_json::json!({
        "rows": view.progress_total,
        "secs": secs,
        "bytes": view.file_size,
        "peak_rss_mib": peak_rss_mib(),
    });
    println!("{out}");
    Ok(())
}

fn spawn(dir: &Path, format: &str) -> anyhow::Result<serde_json::Value> {
    let exe = std::env::current_exe().context("cannot find the homeward executable")?;
    let out = Command::new(exe)
        .args(["bench", "export", "--format", format, "--child"])
        .arg(dir)
        .output()
        .context("cannot run the benchmark child")?;
    if !out.status.success() {
        bail!(
            "the {format} export failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    serde_json::from_slice(&out.stdout).context("the benchmark child printed no JSON")
}

pub async fn run_export_bench(args: &BenchExportArgs) -> anyhow::Result<()> {
    if let Some(dir) = &args.child {
        return child(dir, &args.format).await;
    }
    let dir = tempfile::Builder::new()
        .prefix("homeward-bench-export-")
        .tempdir()?;
    let started = Instant::now();
    fill(dir.path(), args.rows, args.seed).await?;
    println!(
        "export benchmark: {} synthetic custody records (seed {}), SQLite, all 19 columns; store filled in {:.1} s",
        args.rows,
        args.seed,
        started.elapsed().as_secs_f64()
    );
    let mut csv_secs = None;
    for format in ["csv", "json", "xlsx"] {
        let v = spawn(dir.path(), format)?;
        let secs = v["secs"].as_f64().unwrap_or(f64::NAN);
        let rss = v["peak_rss_mib"].as_f64().unwrap_or(f64::NAN);
        let mib = v["bytes"].as_f64().unwrap_or(f64::NAN) / 1_048_576.0;
        let base = *csv_secs.get_or_insert(secs);
        println!(
            "  {format:<5} {:>7} rows {:>8.2} s ({:>5.2}x csv) {:>8.1} MiB file {:>8.1} MiB peak RSS",
            v["rows"],
            secs,
            secs / base,
            mib,
            rss
        );
        if format == "xlsx" {
            println!(
                "  xlsx vs goal: {:.2} of {} s, {:.2} of {} MiB",
                secs / GOAL_TIME.as_secs_f64(),
                GOAL_TIME.as_secs(),
                rss / GOAL_RSS_MIB,
                GOAL_RSS_MIB
            );
        }
    }
    Ok(())
}
