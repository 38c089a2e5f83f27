//! `homeward bench pages`: how fast the web pages answer with many records stored. It fills a
//! fresh store with synthetic children through the real import (so blocking keys, search tokens,
//! match candidates and audit entries are all there), opens a few cases through the real review
//! use-case, starts the real server on a loopback port, and times every kind of page as the people
//! who use it see it, against the goal of 100 ms with 100,000 records stored.

use crate::serve::serve_on;
use anyhow::{Context, bail};
use homeward_app::admin::NewUserInput;
use homeward_app::console::Console;
use homeward_app::import::ImportOptions;
use homeward_app::matching::QueueQuery;
use homeward_app::synthetic::Synthetic;
use homeward_app::{App, AppConfig};
use homeward_domain::{ChildRecordInput, PartyKind, RecordKind};
use homeward_web::WebOptions;
use std::time::{Duration, Instant};

/// The goal the web interface was specified with.
const GOAL: Duration = Duration::from_millis(100);

/// Synthetic, and new for every run: the store is thrown away at the end.
const PASSWORD: &str = "bench-password-not-secret";

#[derive(Debug, clap::Args)]
pub struct BenchPagesArgs {
    /// How many child records to store (half tracing requests, half custody records; a third of
    /// the children are on both lists).
    #[arg(long, default_value_t = 100_000)]
    pub records: usize,
    /// Timed requests per page (after three untimed ones).
    #[arg(long, default_value_t = 30)]
    pub requests: usize,
    /// Seed of the synthetic data.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Use this database instead of a fresh SQLite file (it must be empty; e.g. a PostgreSQL URL).
    #[arg(long)]
    pub database: Option<String>,
}

/// A page to time: its label, who looks at it, its path, and the form it is posted with (a
/// search), if it is a form.
type Page = (
    &'static str,
    &'static str,
    String,
    Option<Vec<(&'static str, &'static str)>>,
);

/// Median, 95th percentile and the slowest, of one page.
struct Timing {
    median: Duration,
    p95: Duration,
    max: Duration,
}

fn timing(mut samples: Vec<Duration>) -> Timing {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Timing {
        median: at(0.5),
        p95: at(0.95),
        max: at(1.0),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

pub async fn run_pages_bench(args: &BenchPagesArgs) -> anyhow::Result<()> {
    if args.records < 30 || args.requests == 0 {
        bail!("--records must be at least 30 and --requests at least 1");
    }
    let dir = tempfile::Builder::new()
        .prefix("homeward-bench-pages-")
        .tempdir()?;
    let url = match &args.database {
        Some(u) => u.clone(),
        None => homeward_store::sqlite_url_for_dir(dir.path()),
    };
    let store = homeward_store::connect(&url).await?;
    let app = App::new(store, AppConfig::default());

    let started = Instant::now();
    let mediator = app
        .create_party(Console::actor(), "Mediation Task Force", "mediator")
        .await?;
    let origin = app
        .create_party(Console::actor(), "Origin Ombudsman Office", "origin")
        .await?;
    let custody = app
        .create_party(Console::actor(), "Custody Authority", "custody")
        .await?;
    for (party, username, roles) in [
        (&mediator, "reviewer", &["caseworker", "reviewer"][..]),
        (&origin, "origin", &["caseworker"][..]),
        (&custody, "custody", &["caseworker"][..]),
    ] {
        let input = NewUserInput {
            party_id: party.id,
            username: username.to_owned(),
            display_name: None,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            password: PASSWORD.to_owned(),
            language: None,
        };
        app.create_user(Console::actor(), input).await?;
    }
    debug_assert_eq!(mediator.kind, PartyKind::Mediator);

    let mut synth = Synthetic::new(args.seed);
    let (mut sought, mut held): (Vec<ChildRecordInput>, Vec<ChildRecordInput>) =
        (Vec::new(), Vec::new());
    for _ in 0..args.records / 3 {
        let (t, c) = synth.matched_pair();
        sought.push(t);
        held.push(c);
    }
    while sought.len() + held.len() < args.records {
        if sought.len() <= held.len() {
            sought.push(synth.tracing_request());
        } else {
            held.push(synth.custody_record());
        }
    }
    for (user, kind, rows) in [
        ("origin", RecordKind::TracingRequest, &sought),
        ("custody", RecordKind::CustodyRecord, &held),
    ] {
        let mut csv = Vec::new();
        Synthetic::write_csv(rows, kind, &mut csv)?;
        let caller = Console::new(&app).caller(user).await?;
        app.import_records(&caller, &csv, &ImportOptions::default(), &|_| {})
            .await?;
    }
    // A few confirmed matches, so there are cases to open.
    let reviewer = Console::new(&app).caller("reviewer").await?;
    let queue = app
        .review_queue(
            &reviewer,
            &QueueQuery {
                limit: Some(20),
                ..QueueQuery::default()
            },
        )
        .await?;
    let Some(first) = queue.items.first() else {
        bail!("the synthetic data gave no match candidate");
    };
    let pending = queue.items.get(5).map_or(first.id, |c| c.id);
    let mut case = None;
    for c in queue.items.iter().take(3) {
        let d = app.confirm_candidate(&reviewer, c.id, None).await?;
        case = case.or(d.case.map(|c| c.case.id));
    }
    let case = case.context("a confirmed match opened no case")?;
    let record = first.custody_record_id;
    let seeded = started.elapsed();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let opts = WebOptions {
        secure_cookies: false,
        ..WebOptions::default()
    };
    let server = tokio::spawn(serve_on(app.clone(), listener, opts));

    println!(
        "{} records stored in {:.1} s ({}); {} timed requests per page after 3 untimed",
        args.records,
        seeded.as_secs_f64(),
        if args.database.is_some() {
            "the given database"
        } else {
            "fresh SQLite"
        },
        args.requests
    );
    println!();
    println!("| page | as | status | median ms | p95 ms | max ms | under 100 ms |");
    println!("|---|---|---|---|---|---|---|");
    let pages: Vec<Page> = vec![
        ("dashboard", "reviewer", "/dashboard".into(), None),
        ("records list", "reviewer", "/records".into(), None),
        ("records list", "origin", "/records".into(), None),
        (
            "records search (Latin for Cyrillic)",
            "reviewer",
            "/records".into(),
            Some(vec![("name", "Oleksandr")]),
        ),
        (
            "records search (Cyrillic)",
            "custody",
            "/records".into(),
            Some(vec![("name", "Олександр")]),
        ),
        (
            "record page",
            "reviewer",
            format!("/records/{record}"),
            None,
        ),
        ("review queue", "reviewer", "/matches".into(), None),
        (
            "match review",
            "reviewer",
            format!("/matches/{pending}"),
            None,
        ),
        ("case page", "reviewer", format!("/cases/{case}"), None),
    ];
    let mut worst = Duration::ZERO;
    let mut failed = false;
    for (label, user, path, form) in &pages {
        let client = signed_in(&base, user).await?;
        let csrf = match form {
            Some(_) => Some(csrf_of(&client, &base).await?),
            None => None,
        };
        let mut samples = Vec::with_capacity(args.requests);
        let mut status = 0;
        for i in 0..args.requests + 3 {
            let req = match (form, &csrf) {
                (Some(fields), Some(token)) => {
                    let mut body = fields.clone();
                    body.push(("csrf", token));
                    client.post(format!("{base}{path}")).form(&body)
                }
                _ => client.get(format!("{base}{path}")),
            };
            let t0 = Instant::now();
            let res = req.send().await?;
            status = res.status().as_u16();
            let _ = res.bytes().await?;
            if i >= 3 {
                samples.push(t0.elapsed());
            }
        }
        let t = timing(samples);
        worst = worst.max(t.median);
        failed |= status != 200;
        println!(
            "| {label} | {user} | {status} | {} | {} | {} | {} |",
            ms(t.median),
            ms(t.p95),
            ms(t.max),
            if t.median < GOAL { "yes" } else { "NO" }
        );
    }
    println!();
    println!(
        "slowest median {} ms against the goal of {} ms",
        ms(worst),
        GOAL.as_millis()
    );
    server.abort();
    app.close().await;
    if failed {
        bail!("a page did not answer 200");
    }
    Ok(())
}

async fn signed_in(base: &str, user: &str) -> anyhow::Result<reqwest::Client> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let res = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({ "username": user, "password": PASSWORD }))
        .send()
        .await?;
    if !res.status().is_success() {
        bail!("signing in as {user} failed: {}", res.status());
    }
    Ok(client)
}

/// The session's CSRF token, as the records page's search form carries it.
async fn csrf_of(client: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let page = client
        .get(format!("{base}/records"))
        .send()
        .await?
        .text()
        .await?;
    let marker = "name=\"csrf\" value=\"";
    let at = page
        .find(marker)
        .context("no CSRF field on the records page")?
        + marker.len();
    let end = page[at..].find('"').context("unclosed CSRF field")?;
    Ok(page[at..at + end].to_owned())
}
