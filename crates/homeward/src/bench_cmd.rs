//! `homeward bench import`: how long importing N synthetic custody records takes on a fresh
//! SQLite store, split into reading/validating and storing, against the one-minute budget for
//! 100,000 rows that the import was specified with.

use homeward_app::admin::NewUserInput;
use homeward_app::console::Console;
use homeward_app::import::{ImportOptions, ImportPhase};
use homeward_app::synthetic::Synthetic;
use homeward_app::{App, AppConfig};
use homeward_domain::RecordKind;
use rand::Rng;
use rand::distributions::Alphanumeric;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What the specification allows for 100,000 rows; the figures are printed against it.
const BUDGET_PER_100K: Duration = Duration::from_secs(60);

#[derive(Debug, clap::Args)]
pub struct BenchImportArgs {
    /// How many synthetic custody records to import.
    #[arg(long, default_value_t = 100_000)]
    pub rows: usize,
    /// Seed of the synthetic data (the same seed gives the same file).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Keep the temporary directory with the CSV file and the database (its path is printed).
    #[arg(long)]
    pub keep: bool,
}

/// The most memory the process has held, from Linux's accounting (`None` elsewhere).
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn rate(rows: usize, d: Duration) -> f64 {
    rows as f64 / d.as_secs_f64().max(1e-9)
}

pub async fn run_import_bench(args: &BenchImportArgs) -> anyhow::Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("homeward-bench-")
        .tempdir()?;

    let started = Instant::now();
    let mut synthetic = Synthetic::new(args.seed);
    let records: Vec<_> = (0..args.rows).map(|_| synthetic.custody_record()).collect();
    let mut csv = Vec::new();
    Synthetic::write_csv(&records, RecordKind::CustodyRecord, &mut csv)?;
    drop(records);
    let csv_path = dir.path().join("custody-records.csv");
    std::fs::write(&csv_path, &csv)?;
    drop(csv);
    let generated = started.elapsed();

    let store = homeward_store::connect(&homeward_store::sqlite_url_for_dir(dir.path())).await?;
    let app = App::new(store, AppConfig::default());
    let party = app
        .create_party(Console::actor(), "Synthetic custody authority", "custody")
        .await?;
    let password: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    let username = "bench.caseworker";
    app.create_user(
        Console::actor(),
        NewUserInput {
            party_id: party.id,
            username: username.to_owned(),
            display_name: None,
            roles: vec!["caseworker".to_owned()],
            password,
            language: None,
        },
    )
    .await?;
    let caller = Console::new(&app).caller(username).await?;

    // Read the file as the import command does; the timing starts after it is in memory.
    let bytes = std::fs::read(&csv_path)?;
    let storing_from: Mutex<Option<Instant>> = Mutex::new(None);
    let start = Instant::now();
    let report = app
        .import_records(&caller, &bytes, &ImportOptions::default(), &|p| {
            if p.phase == ImportPhase::Storing
                && let Ok(mut s) = storing_from.lock()
            {
                s.get_or_insert_with(Instant::now);
            }
        })
        .await?;
    let end = Instant::now();
    let storing_from = storing_from.lock().ok().and_then(|s| *s).unwrap_or(end);
    let (parse, store, total) = (storing_from - start, end - storing_from, end - start);
    app.close().await;

    let db_bytes: u64 = std::fs::read_dir(dir.path())?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("homeward.db"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    let budget = BUDGET_PER_100K.mul_f64(args.rows as f64 / 100_000.0);
    let n = report.imported;
    println!(
        "import benchmark: {n} synthetic custody records (seed {}), SQLite",
        args.seed
    );
    println!(
        "  csv file        {:>9.1} MiB, generated in {:.2} s",
        mib(bytes.len() as u64),
        generated.as_secs_f64()
    );
    println!(
        "  parse+validate  {:>9.2} s   {:>9.0} rows/s",
        parse.as_secs_f64(),
        rate(n, parse)
    );
    println!(
        "  store           {:>9.2} s   {:>9.0} rows/s",
        store.as_secs_f64(),
        rate(n, store)
    );
    println!(
        "  total           {:>9.2} s   {:>9.0} rows/s",
        total.as_secs_f64(),
        rate(n, total)
    );
    if !budget.is_zero() {
        println!(
            "  vs budget       {:>9.3} of {:.0} s (the specified limit for this many rows)",
            total.as_secs_f64() / budget.as_secs_f64(),
            budget.as_secs_f64()
        );
    }
    println!("  database        {:>9.1} MiB", mib(db_bytes));
    match peak_rss_bytes() {
        Some(b) => println!("  peak RSS        {:>9.1} MiB", mib(b)),
        None => println!("  peak RSS        unknown (no /proc/self/status)"),
    }
    if args.keep {
        let kept = dir.keep();
        println!("kept {}", kept.display());
    }
    Ok(())
}
