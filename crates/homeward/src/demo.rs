//! `homeward demo`: a server on a throwaway data directory, seeded with a synthetic scenario
//! (three parties, their users, a few hundred children), so that anyone can try Homeward at once.

use crate::serve::serve_on;
use anyhow::Context;
use homeward_app::admin::NewUserInput;
use homeward_app::attachments::AttachmentKey;
use homeward_app::console::Console;
use homeward_app::import::ImportOptions;
use homeward_app::synthetic::Synthetic;
use homeward_app::{App, AppConfig};
use homeward_domain::{ChildRecordInput, PartyKind, RecordKind};
use homeward_web::{DemoLogin, WebOptions};
use rand::Rng;
use rand::distributions::Alphanumeric;
use std::net::SocketAddr;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// How many children the scenario holds (a third of them are sought by one side and held by the other).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(3..=100_000))]
    pub children: u32,
    /// Seed of the synthetic data (the same seed gives the same children).
    #[arg(long, default_value_t = 2022)]
    pub seed: u64,
    /// Seed the data, print the logins and exit without serving (for scripts and tests).
    #[arg(long)]
    pub no_serve: bool,
}

/// The account a newcomer should start with: it reviews the matches the demo's data yields.
const SUGGESTED: &str = "mediator.caseworker";

/// A demo login, printed for the person trying Homeward.
struct Login {
    username: &'static str,
    party: &'static str,
    roles: &'static [&'static str],
    password: String,
}

fn random_password() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(16)
        .map(char::from)
        .collect()
}

pub async fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("homeward-demo-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let store = homeward_store::connect(&homeward_store::sqlite_url_for_dir(dir.path())).await?;
    // A throwaway key for a throwaway directory: the demo's uploads die with it.
    // A throwaway evidence key too; its public half is written beside the data, for
    // `homeward evidence verify --public-key`.
    let evidence_key = homeward_app::checkpoint::generate_key();
    let evidence_pub = dir.path().join("evidence.pub");
    std::fs::write(
        &evidence_pub,
        homeward_app::checkpoint::public_key_hex(&evidence_key.verifying_key()) + "\n",
    )
    .context("cannot write the evidence public key")?;
    let config = AppConfig {
        attachment_key: Some(AttachmentKey::generate()),
        attachment_dir: Some(dir.path().join("attachments")),
        evidence_key: Some(homeward_app::evidence::EvidenceKey::new(evidence_key)),
        ..AppConfig::default()
    };
    let app = App::new(store, config);
    let logins = seed(&app, args).await?;

    println!();
    println!("Homeward demo: synthetic data only (no real child is in it).");
    println!(
        "  data directory (deleted on exit): {}",
        dir.path().display()
    );
    println!(
        "  address:  http://{}   (open it in a browser: the sign-in page lists these accounts)",
        args.listen
    );
    println!(
        "  API:      http://{}/api/v1   (OpenAPI: http://{}/api/openapi.json)",
        args.listen, args.listen
    );
    println!(
        "  evidence bundles are signed with a throwaway key; its public key: {}",
        evidence_pub.display()
    );
    println!("  logins (passwords are new on every run):");
    for l in &logins {
        println!(
            "    {:<22} {:<26} {:<22} {}",
            l.username,
            l.party,
            l.roles.join(","),
            l.password
        );
    }
    println!();
    if let Some(l) = logins.iter().find(|l| l.username == "mediator.caseworker") {
        println!("  try:  curl -s -c jar -H 'content-type: application/json' \\");
        println!(
            "          -d '{{\"username\":\"{}\",\"password\":\"{}\"}}' http://{}/api/v1/auth/login",
            l.username, l.password, args.listen
        );
        println!(
            "        curl -s -b jar 'http://{}/api/v1/records?limit=5'",
            args.listen
        );
    }
    println!();
    if args.no_serve {
        app.close().await;
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (try --listen 127.0.0.1:0)",
                args.listen
            )
        })?;
    // Plain HTTP on a loopback address: a Secure cookie would not be sent back by every browser.
    // The accounts go on the sign-in page too, the one that reviews matches first: someone
    // trying Homeward should need nothing but the browser.
    let mut demo_logins: Vec<DemoLogin> = logins
        .iter()
        .map(|l| DemoLogin {
            username: l.username.to_owned(),
            party: l.party.to_owned(),
            password: l.password.clone(),
            suggested: l.username == SUGGESTED,
        })
        .collect();
    demo_logins.sort_by_key(|d| !d.suggested);
    let opts = WebOptions {
        secure_cookies: !args.listen.ip().is_loopback(),
        demo_logins,
        ..WebOptions::default()
    };
    let result = serve_on(app.clone(), listener, opts).await;
    app.close().await;
    result
}

async fn seed(app: &App, args: &DemoArgs) -> anyhow::Result<Vec<Login>> {
    let parties = [
        ("Mediation Task Force", PartyKind::Mediator),
        ("Origin Ombudsman Office", PartyKind::Origin),
        ("Custody Authority", PartyKind::Custody),
        ("Prosecutor General's Office", PartyKind::Observer),
    ];
    let mut ids = Vec::new();
    for (name, kind) in parties {
        ids.push(
            app.create_party(Console::actor(), name, kind.as_str())
                .await?
                .id,
        );
    }
    let mut logins = vec![
        Login {
            username: "mediator.admin",
            party: "Mediation Task Force",
            roles: &["admin"],
            password: String::new(),
        },
        Login {
            username: "mediator.caseworker",
            party: "Mediation Task Force",
            roles: &["caseworker", "reviewer"],
            password: String::new(),
        },
        Login {
            username: "mediator.auditor",
            party: "Mediation Task Force",
            roles: &["auditor"],
            password: String::new(),
        },
        Login {
            username: "origin.caseworker",
            party: "Origin Ombudsman Office",
            roles: &["caseworker"],
            password: String::new(),
        },
        Login {
            username: "origin.admin",
            party: "Origin Ombudsman Office",
            roles: &["admin"],
            password: String::new(),
        },
        Login {
            username: "custody.caseworker",
            party: "Custody Authority",
            roles: &["caseworker"],
            password: String::new(),
        },
        Login {
            username: "custody.admin",
            party: "Custody Authority",
            roles: &["admin"],
            password: String::new(),
        },
        // An observer: examines the accountability records and exports evidence bundles.
        Login {
            username: "observer.prosecutor",
            party: "Prosecutor General's Office",
            roles: &["viewer"],
            password: String::new(),
        },
    ];
    // Every account is made the way a deployment makes each party's first administrator, on
    // the server's command line: no administrator may make users of another party.
    for l in &mut logins {
        l.password = random_password();
        let party_id = ids[parties.iter().position(|(n, _)| *n == l.party).unwrap_or(0)];
        let input = NewUserInput {
            party_id,
            username: l.username.to_owned(),
            display_name: None,
            roles: l.roles.iter().map(|r| (*r).to_owned()).collect(),
            password: l.password.clone(),
            language: None,
        };
        app.create_user(Console::actor(), input).await?;
    }

    // A third of the children are sought by the origin side and held by the custody side, the
    // rest are on one list only, as in the real rounds.
    let mut synth = Synthetic::new(args.seed);
    let n = args.children as usize;
    let (mut sought, mut held): (Vec<ChildRecordInput>, Vec<ChildRecordInput>) =
        (Vec::new(), Vec::new());
    for _ in 0..n / 3 {
        let (t, c) = synth.matched_pair();
        sought.push(t);
        held.push(c);
    }
    while sought.len() + held.len() < n {
        if sought.len() <= held.len() {
            sought.push(synth.tracing_request());
        } else {
            held.push(synth.custody_record());
        }
    }
    for (user, kind, rows) in [
        ("origin.caseworker", RecordKind::TracingRequest, &sought),
        ("custody.caseworker", RecordKind::CustodyRecord, &held),
    ] {
        let mut csv = Vec::new();
        Synthetic::write_csv(rows, kind, &mut csv)?;
        let caller = Console::new(app).caller(user).await?;
        let report = app
            .import_records(&caller, &csv, &ImportOptions::default(), &|_| {})
            .await?;
        tracing::info!(
            kind = kind.as_str(),
            imported = report.imported,
            "demo records imported"
        );
    }
    // One case with an accountability record, for the observer to examine.
    let mediator = Console::new(app).caller("mediator.caseworker").await?;
    app.seed_accountability_example(&mediator, &mediator)
        .await?;
    Ok(logins)
}
