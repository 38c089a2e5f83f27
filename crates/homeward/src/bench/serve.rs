//! `homeward bench serve` (issue 19): requests per second and latency of a running server under
//! N concurrent connections. It starts real `homeward serve` processes (one on SQLite; one and
//! three on PostgreSQL when a URL is given), signs a caseworker in, makes an API token, files
//! synthetic records, and drives each route with a load generator in this process: authorised,
//! audited reads by id; list pages of 50; audited writes with varied names; and writes of one
//! family (children who resemble each other, so matching and duplicate checks do the most work).
//! With `--wrk`, Debian's `wrk` measures the read routes too, as a check on the generator.

use anyhow::{Context, bail};
use homeward_app::admin::NewUserInput;
use homeward_app::console::Console;
use homeward_app::synthetic::Synthetic;
use homeward_app::{App, AppConfig};
use homeward_domain::{ChildRecordInput, RecordKind};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Synthetic, and new for every run: the stores are thrown away (SQLite) or must be empty.
const PASSWORD: &str = "bench-password-not-secret";
/// Records filed before the reads start, so reads by id spread over many rows.
const SEED_RECORDS: usize = 500;

#[derive(Debug, clap::Args)]
pub struct BenchServeArgs {
    /// Concurrent connections, one measurement each.
    #[arg(long, value_delimiter = ',', default_values_t = [16, 64, 256])]
    pub connections: Vec<usize>,
    /// Seconds each measurement lasts.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Also on PostgreSQL, with one and with three servers: an EMPTY database (its tables are
    /// created; the data it is left with is synthetic).
    #[arg(long)]
    pub postgres: Option<String>,
    /// Also measure reads with `wrk` (if installed), as a check on this generator.
    #[arg(long)]
    pub wrk: bool,
    /// Seed of the synthetic names.
    #[arg(long, default_value_t = 11)]
    pub seed: u64,
    /// Which loads to measure (read, list, write, family).
    #[arg(long, value_delimiter = ',', default_values_t = ["read".to_owned(), "list".to_owned(), "write".to_owned(), "family".to_owned()])]
    pub loads: Vec<String>,
    /// Also import this many synthetic tracing requests through the first server (one API
    /// request, as the import page does) while list pages of 50 are read at
    /// `--import-connections` connections, and report those reads' latency.
    #[arg(long, default_value_t = 0)]
    pub import_records: usize,
    /// Connections reading list pages during the import.
    #[arg(long, default_value_t = 16)]
    pub import_connections: usize,
}

/// What one measurement found.
#[derive(Debug, Clone)]
struct Figures {
    failed: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Load {
    Read,
    List,
    Write,
    Family,
}

impl Load {
    const ALL: [Load; 4] = [Load::Read, Load::List, Load::Write, Load::Family];

    fn parse(name: &str) -> anyhow::Result<Self> {
        Ok(match name {
            "read" => Load::Read,
            "list" => Load::List,
            "write" => Load::Write,
            "family" => Load::Family,
            other => bail!("unknown load `{other}` (read, list, write or family)"),
        })
    }

    fn label(self) -> &'static str {
        match self {
            Load::Read => "read by id (audited)",
            Load::List => "list page of 50",
            Load::Write => "write, varied names (audited)",
            Load::Family => "write, one family (audited)",
        }
    }
}

/// A deployment under test: its servers' base URLs and a token of a caseworker.
struct Target {
    label: String,
    bases: Vec<String>,
    token: String,
    ids: Vec<String>,
    _servers: Vec<ServerProcess>,
}

/// A `homeward serve` child, stopped (SIGKILL) when dropped.
struct ServerProcess(Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn run(args: &BenchServeArgs) -> anyhow::Result<()> {
    if args.connections.is_empty() || args.connections.contains(&0) || args.seconds == 0 {
        bail!("--connections must list numbers above 0 and --seconds be at least 1");
    }
    println!("{}", machine());
    let dir = tempfile::Builder::new()
        .prefix("homeward-bench-serve-")
        .tempdir()?;
    let mut synth = Synthetic::new(args.seed);
    let sqlite = homeward_store::sqlite_url_for_dir(dir.path());
    let mut rows = Vec::new();
    {
        let target = start(&sqlite, dir.path(), 1, "SQLite, 1 server", &mut synth).await?;
        rows.extend(measure(&target, args, &mut synth).await?);
    }
    if let Some(url) = &args.postgres {
        for servers in [1, 3] {
            let label = format!(
                "PostgreSQL, {servers} server{}",
                if servers == 1 { "" } else { "s" }
            );
            let target = start(url, dir.path(), servers, &label, &mut synth).await?;
            rows.extend(measure(&target, args, &mut synth).await?);
        }
    }
    println!();
    println!("| deployment | load | connections | requests/s | p50 ms | p99 ms | failed |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for (label, load, conns, f) in &rows {
        println!(
            "| {label} | {load} | {conns} | {:.0} | {:.1} | {:.1} | {} |",
            f.per_second,
            ms(f.p50),
            ms(f.p99),
            f.failed
        );
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The machine, for the table's heading.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!(
        "machine: {cores} cores, {cpu}; homeward {}",
        env!("CARGO_PKG_VERSION")
    )
}

/// Parties and a caseworker in the store at `url`, `servers` servers on it, a token, and the
/// seed records.
async fn start(
    url: &str,
    data: &Path,
    servers: usize,
    label: &str,
    synth: &mut Synthetic,
) -> anyhow::Result<Target> {
    let app = App::new(homeward_store::connect(url).await?, AppConfig::default());
    let username = format!("bench{servers}");
    let party = app
        .create_party(
            Console::actor(),
            &format!("Bench Ombudsman {servers}"),
            "origin",
        )
        .await
        .context("the database must be empty of earlier bench runs' parties")?;
    let input = NewUserInput {
        party_id: party.id,
        username: username.clone(),
        display_name: None,
        roles: vec!["caseworker".to_owned()],
        password: PASSWORD.to_owned(),
        language: None,
    };
    app.create_user(Console::actor(), input).await?;
    app.close().await;
    let mut processes = Vec::new();
    let mut bases = Vec::new();
    for _ in 0..servers {
        let (process, base) = spawn_server(url, data).await?;
        processes.push(process);
        bases.push(base);
    }
    let token = api_token(&bases[0], &username).await?;
    let client = reqwest::Client::new();
    let mut ids = Vec::with_capacity(SEED_RECORDS);
    for i in 0..SEED_RECORDS {
        let base = &bases[i % bases.len()];
        ids.push(create(&client, base, &token, &synth.tracing_request()).await?);
    }
    Ok(Target {
        label: label.to_owned(),
        bases,
        token,
        ids,
        _servers: processes,
    })
}

async fn spawn_server(url: &str, data: &Path) -> anyhow::Result<(ServerProcess, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new(std::env::current_exe()?)
        .arg("--data")
        .arg(data)
        .args(["--database-url", url, "serve", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .env("HOMEWARD_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start `homeward serve`")?;
    let process = ServerProcess(child);
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..400 {
        if let Ok(r) = reqwest::get(format!("{base}/readyz")).await
            && r.status().is_success()
        {
            return Ok((process, base));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the server on port {port} did not become ready")
}

async fn api_token(base: &str, username: &str) -> anyhow::Result<String> {
    let client = reqwest::Client::builder().cookie_store(true).build()?;
    let res = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({ "username": username, "password": PASSWORD }))
        .send()
        .await?;
    if !res.status().is_success() {
        bail!("signing in failed: {}", res.status());
    }
    let body: serde_json::Value = res.json().await?;
    let csrf = body["csrf_token"].as_str().context("no CSRF token")?;
    let res = client
        .post(format!("{base}/api/v1/me/tokens"))
        .header("x-csrf-token", csrf)
        .json(&serde_json::json!({ "name": "bench" }))
        .send()
        .await?;
    if !res.status().is_success() {
        bail!("making a token failed: {}", res.status());
    }
    let body: serde_json::Value = res.json().await?;
    Ok(body["token"].as_str().context("no token")?.to_owned())
}

async fn create(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    record: &ChildRecordInput,
) -> anyhow::Result<String> {
    let res = client
        .post(format!("{base}/api/v1/records"))
        .bearer_auth(token)
        .json(record)
        .send()
        .await?;
    if res.status() != reqwest::StatusCode::CREATED {
        bail!("filing a record failed: {}", res.status());
    }
    let body: serde_json::Value = res.json().await?;
    Ok(body["id"].as_str().context("no id")?.to_owned())
}

async fn measure(
    target: &Target,
    args: &BenchServeArgs,
    synth: &mut Synthetic,
) -> anyhow::Result<Vec<(String, &'static str, usize, Figures)>> {
    let mut rows = Vec::new();
    let loads: Vec<Load> = args
        .loads
        .iter()
        .map(|l| Load::parse(l))
        .collect::<anyhow::Result<_>>()?;
    for load in Load::ALL.into_iter().filter(|l| loads.contains(l)) {
        for &conns in &args.connections {
            // Bodies made before the clock starts: the generator measures the server, not itself.
            let bodies = Arc::new(bodies(load, synth, conns));
            let f = drive(target, load, conns, stop_after(args.seconds), bodies).await?;
            eprintln!(
                "{} · {} · {conns} connections: {:.0}/s, p50 {:.1} ms, p99 {:.1} ms, {} failed",
                target.label,
                load.label(),
                f.per_second,
                ms(f.p50),
                ms(f.p99),
                f.failed
            );
            rows.push((target.label.clone(), load.label(), conns, f));
        }
        if args.wrk && matches!(load, Load::Read | Load::List) {
            for &conns in &args.connections {
                if let Some(f) = wrk(target, load, conns, args.seconds)? {
                    rows.push((format!("{} (wrk)", target.label), load.label(), conns, f));
                }
            }
        }
    }
    if args.import_records > 0 {
        let (f, took) = import_while_serving(target, args, synth).await?;
        eprintln!(
            "{} · {} records imported in {:.1} s; list pages meanwhile: {:.0}/s, p50 {:.1} ms, p99 {:.1} ms, {} failed",
            target.label,
            args.import_records,
            took.as_secs_f64(),
            f.per_second,
            ms(f.p50),
            ms(f.p99),
            f.failed
        );
        rows.push((
            format!(
                "{}, importing {} records ({:.0} s)",
                target.label,
                args.import_records,
                took.as_secs_f64()
            ),
            Load::List.label(),
            args.import_connections,
            f,
        ));
    }
    Ok(rows)
}

/// A flag that turns true after `seconds`.
fn stop_after(seconds: u64) -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        flag.store(true, Ordering::Relaxed);
    });
    stop
}

/// List pages of 50 read while one request imports `--import-records` synthetic tracing
/// requests through the first server: those reads' figures, and how long the import took.
async fn import_while_serving(
    target: &Target,
    args: &BenchServeArgs,
    synth: &mut Synthetic,
) -> anyhow::Result<(Figures, Duration)> {
    let rows: Vec<ChildRecordInput> = (0..args.import_records)
        .map(|_| synth.tracing_request())
        .collect();
    let mut csv = Vec::new();
    Synthetic::write_csv(&rows, RecordKind::TracingRequest, &mut csv)?;
    drop(rows);
    let url = format!("{}/api/v1/imports/tracing-requests", target.bases[0]);
    let token = target.token.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::clone(&stop);
    let import = tokio::spawn(async move {
        let started = Instant::now();
        let res = reqwest::Client::new()
            .post(url)
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await;
        let took = started.elapsed();
        done.store(true, Ordering::Relaxed);
        let res = res?;
        if res.status() != reqwest::StatusCode::CREATED {
            bail!("the import failed: {} {}", res.status(), res.text().await?);
        }
        Ok(took)
    });
    let f = drive(
        target,
        Load::List,
        args.import_connections,
        stop,
        Arc::new(Vec::new()),
    )
    .await?;
    let took = import.await??;
    Ok((f, took))
}

/// Request bodies for the writes: varied children, or the children of one family (one family
/// name, siblings' given names, one birthplace).
fn bodies(load: Load, synth: &mut Synthetic, conns: usize) -> Vec<Vec<u8>> {
    let n = match load {
        Load::Read | Load::List => return Vec::new(),
        Load::Write | Load::Family => (conns * 64).max(4096),
    };
    (0..n)
        .map(|i| {
            let mut r = synth.tracing_request();
            if load == Load::Family {
                for name in &mut r.names {
                    name.family = Some("Коваленко".to_owned());
                    name.as_written = None;
                }
                r.birth_place = Some("Мелітополь".to_owned());
                r.external_ref = Some(format!("FAM-{i}"));
            }
            serde_json::to_vec(&r).unwrap_or_default()
        })
        .collect()
}

/// `conns` tasks, each with its own connection, send requests back to back until `stop`.
async fn drive(
    target: &Target,
    load: Load,
    conns: usize,
    stop: Arc<AtomicBool>,
    bodies: Arc<Vec<Vec<u8>>>,
) -> anyhow::Result<Figures> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(conns)
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(conns);
    for c in 0..conns {
        let client = client.clone();
        let base = target.bases[c % target.bases.len()].clone();
        let token = target.token.clone();
        let ids = target.ids.clone();
        let bodies = Arc::clone(&bodies);
        let next = Arc::clone(&next);
        let stop = Arc::clone(&stop);
        tasks.push(tokio::spawn(async move {
            let mut took = Vec::new();
            let mut failed = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let req = match load {
                    Load::Read => {
                        client.get(format!("{base}/api/v1/records/{}", ids[i % ids.len()]))
                    }
                    Load::List => client.get(format!("{base}/api/v1/records?limit=50")),
                    Load::Write | Load::Family => client
                        .post(format!("{base}/api/v1/records"))
                        .header("content-type", "application/json")
                        .body(bodies[i % bodies.len()].clone()),
                };
                let t = Instant::now();
                let res = req.bearer_auth(&token).send().await;
                let good = match res {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if good {
                    took.push(t.elapsed());
                } else {
                    failed += 1;
                }
            }
            (took, failed)
        }));
    }
    let mut all = Vec::new();
    let mut failed = 0;
    for t in tasks {
        let (took, f) = t.await?;
        all.extend(took);
        failed += f;
    }
    let elapsed = started.elapsed();
    all.sort();
    let at = |q: f64| {
        if all.is_empty() {
            Duration::ZERO
        } else {
            all[((all.len() - 1) as f64 * q).round() as usize]
        }
    };
    Ok(Figures {
        failed,
        per_second: all.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.5),
        p99: at(0.99),
    })
}

/// The same reads by `wrk` (two threads), if it is installed: its requests/s and percentiles.
fn wrk(target: &Target, load: Load, conns: usize, seconds: u64) -> anyhow::Result<Option<Figures>> {
    let base = &target.bases[0];
    let url = match load {
        Load::Read => format!("{base}/api/v1/records/{}", target.ids[0]),
        Load::List => format!("{base}/api/v1/records?limit=50"),
        Load::Write | Load::Family => return Ok(None),
    };
    let out = match Command::new("wrk")
        .args(["-t2", "--latency", "-c"])
        .arg(conns.to_string())
        .arg("-d")
        .arg(format!("{seconds}s"))
        .arg("-H")
        .arg(format!("Authorization: Bearer {}", target.token))
        .arg(&url)
        .output()
    {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("wrk is not installed (Debian: apt-get install wrk); skipped");
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    Ok(parse_wrk(&String::from_utf8_lossy(&out.stdout)))
}

/// Requests/s, the 50% and 99% latencies and non-2xx answers from `wrk --latency`'s report.
fn parse_wrk(report: &str) -> Option<Figures> {
    let field = |prefix: &str| {
        report
            .lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::trim)
    };
    let per_second: f64 = field("Requests/sec:")?.parse().ok()?;
    let p50 = wrk_duration(field("50%")?)?;
    let p99 = wrk_duration(field("99%")?)?;
    let failed = field("Non-2xx or 3xx responses:")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Some(Figures {
        failed,
        per_second,
        p50,
        p99,
    })
}

/// `wrk`'s `812.00us`, `3.21ms`, `1.02s`.
fn wrk_duration(text: &str) -> Option<Duration> {
    let (number, unit) = text.split_at(text.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = number.parse().ok()?;
    let secs = match unit {
        "us" => n / 1e6,
        "ms" => n / 1e3,
        "s" => n,
        "m" => n * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_reports_are_read() {
        let report = "Running 5s test @ http://127.0.0.1:1/x\n  2 threads and 64 connections\n  Latency Distribution\n     50%    3.21ms\n     75%    4.00ms\n     90%    5.00ms\n     99%   12.50ms\n  10000 requests in 5.00s, 1.00MB read\n  Non-2xx or 3xx responses: 3\nRequests/sec:   2000.50\nTransfer/sec:    200.00KB\n";
        let f = parse_wrk(report).unwrap();
        assert!((f.per_second - 2000.5).abs() < 1e-9);
        assert_eq!(f.p50, Duration::from_micros(3210));
        assert_eq!(f.p99, Duration::from_micros(12500));
        assert_eq!(f.failed, 3);
        assert_eq!(wrk_duration("812.00us"), Some(Duration::from_micros(812)));
        assert_eq!(wrk_duration("1.50s"), Some(Duration::from_millis(1500)));
        assert!(parse_wrk("nothing").is_none());
    }
}
