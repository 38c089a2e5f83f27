//! `homeward bench backends`: the same imports, with their matching, on SQLite and on PostgreSQL
//! in one run, printed side by side with the ratio (the goal: PostgreSQL within 2× of SQLite).
//!
//! The scenario is the one issue 19 measured: an origin party imports its tracing requests into
//! an empty store, then a custody party imports its list against them; a share of the children
//! are on both lists, so matching finds and stores candidates. Each import runs its matching
//! before it returns, as `homeward import` does.

use anyhow::{Context, bail};
use homeward_app::admin::NewUserInput;
use homeward_app::console::Console;
use homeward_app::import::ImportOptions;
use homeward_app::synthetic::Synthetic;
use homeward_app::{App, AppConfig};
use homeward_domain::{ChildRecordInput, RecordKind};
use homeward_store::scratch::ScratchDatabase;
use rand::Rng;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct BenchBackendsArgs {
    /// Tracing requests the origin side imports first.
    #[arg(long, default_value_t = 5_000)]
    pub sought: usize,
    /// Custody records the custody side imports against them (a third of the sought children
    /// are among them).
    #[arg(long, default_value_t = 28_000)]
    pub held: usize,
    /// Seed of the synthetic data.
    #[arg(long, default_value_t = 19)]
    pub seed: u64,
    /// A PostgreSQL server (any database on it) where a fresh database is created for the run
    /// and dropped after it. Without it only SQLite is measured.
    #[arg(long, env = "HOMEWARD_BENCH_POSTGRES_URL")]
    pub postgres: Option<String>,
}

/// How long each import took, matching included.
struct Figures {
    sought: Duration,
    held: Duration,
}

/// The two CSV files of the scenario.
fn files(args: &BenchBackendsArgs) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let mut synthetic = Synthetic::new(args.seed);
    let both = args.sought.min(args.held) / 3;
    let mut sought: Vec<ChildRecordInput> = Vec::with_capacity(args.sought);
    let mut held: Vec<ChildRecordInput> = Vec::with_capacity(args.held);
    for _ in 0..both {
        let (t, c) = synthetic.matched_pair();
        sought.push(t);
        held.push(c);
    }
    sought.extend((both..args.sought).map(|_| synthetic.tracing_request()));
    held.extend((both..args.held).map(|_| synthetic.custody_record()));
    let mut a = Vec::new();
    Synthetic::write_csv(&sought, RecordKind::TracingRequest, &mut a)?;
    let mut b = Vec::new();
    Synthetic::write_csv(&held, RecordKind::CustodyRecord, &mut b)?;
    Ok((a, b))
}

/// A user with `role` in a new party of `kind`, as the command line would act for them.
pub(crate) async fn caller_of(
    app: &App,
    kind: &str,
    role: &str,
) -> anyhow::Result<homeward_app::Caller> {
    let party = app
        .create_party(Console::actor(), &format!("Bench {kind} party"), kind)
        .await?;
    let password: String = rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    let username = format!("bench.{kind}");
    app.create_user(
        Console::actor(),
        NewUserInput {
            party_id: party.id,
            username: username.clone(),
            display_name: None,
            roles: vec![role.to_owned()],
            password,
            language: None,
        },
    )
    .await?;
    Ok(Console::new(app).caller(&username).await?)
}

/// Runs the scenario on the (empty) store at `url`.
async fn measure(url: &str, sought: &[u8], held: &[u8]) -> anyhow::Result<Figures> {
    let store = homeward_store::connect(url).await?;
    let app = App::new(store, AppConfig::default());
    let origin = caller_of(&app, "origin", "caseworker").await?;
    let custody = caller_of(&app, "custody", "caseworker").await?;
    let options = ImportOptions::default();
    let start = Instant::now();
    app.import_records(&origin, sought, &options, &|_| {})
        .await?;
    let sought_took = start.elapsed();
    let start = Instant::now();
    app.import_records(&custody, held, &options, &|_| {})
        .await?;
    let held_took = start.elapsed();
    app.close().await;
    Ok(Figures {
        sought: sought_took,
        held: held_took,
    })
}

/// Creates a fresh database on the server at `admin_url`, runs the scenario in it, drops it.
async fn measure_postgres(admin_url: &str, sought: &[u8], held: &[u8]) -> anyhow::Result<Figures> {
    let db = ScratchDatabase::create(admin_url, "homeward_bench")
        .await
        .context("creating a database on the PostgreSQL server")?;
    let figures = measure(&db.url, sought, held).await;
    db.remove().await?;
    figures
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

pub async fn run_backends_bench(args: &BenchBackendsArgs) -> anyhow::Result<()> {
    if args.sought == 0 || args.held == 0 {
        bail!("--sought and --held must be at least 1");
    }
    let (sought, held) = files(args)?;
    let dir = tempfile::Builder::new()
        .prefix("homeward-bench-backends-")
        .tempdir()?;
    let sqlite = measure(
        &homeward_store::sqlite_url_for_dir(dir.path()),
        &sought,
        &held,
    )
    .await?;
    let postgres = match &args.postgres {
        Some(url) => Some(measure_postgres(url, &sought, &held).await?),
        None => None,
    };
    println!(
        "backends benchmark: {} tracing requests, then {} custody records against them (seed {}), matching included",
        args.sought, args.held, args.seed
    );
    println!(
        "  {:<34} {:>10} {:>12} {:>8}",
        "import", "SQLite", "PostgreSQL", "ratio"
    );
    let rows = [
        (
            "tracing requests into an empty store",
            sqlite.sought,
            postgres.as_ref().map(|p| p.sought),
        ),
        (
            "custody list against them",
            sqlite.held,
            postgres.as_ref().map(|p| p.held),
        ),
    ];
    for (label, s, p) in rows {
        match p {
            Some(p) => println!(
                "  {label:<34} {:>10} {:>12} {:>7.2}×",
                secs(s),
                secs(p),
                p.as_secs_f64() / s.as_secs_f64().max(1e-9)
            ),
            None => println!("  {label:<34} {:>10} {:>12} {:>8}", secs(s), "-", "-"),
        }
    }
    Ok(())
}
