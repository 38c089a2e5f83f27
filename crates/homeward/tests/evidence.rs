#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `homeward evidence verify` end to end: a bundle exported by the app from a real database
//! (SQLite, and PostgreSQL when configured) verifies with the README's commands as written, and
//! each part a forger alters is named, with exit code 1.

use homeward_app::admin::NewUserInput;
use homeward_app::attachments::AttachmentKey;
use homeward_app::console::Console;
use homeward_app::evidence::{EvidenceKey, SYNTHETIC_STATEMENT};
use homeward_app::import::ImportOptions;
use homeward_app::synthetic::Synthetic;
use homeward_app::{App, AppConfig};
use homeward_domain::RecordKind;
use homeward_store::testing::TestDatabase;
use std::path::Path;
mod common;

use common::{homeward_in, text};

/// The README's `homeward audit keygen` and `homeward evidence …` lines, as argument lists.
fn readme_commands(prefix: &str) -> Vec<Vec<String>> {
    include_str!("../../../README.md")
        .lines()
        .filter(|l| l.starts_with(prefix))
        .map(|l| {
            l.trim_start_matches("homeward ")
                .split('#')
                .next()
                .unwrap()
                .split_whitespace()
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// Parties, users, a matched pair, a case with an accountability record and an attachment, and
/// the observer's export of it, written to `dir/evidence.tar` with the key in `dir/audit.key`.
async fn export(url: &str, dir: &Path) {
    let key = homeward_app::checkpoint::parse_signing_key(
        &std::fs::read_to_string(dir.join("audit.key")).unwrap(),
    )
    .unwrap();
    let store = homeward_store::connect(url).await.unwrap();
    let app = App::new(
        store,
        AppConfig {
            evidence_key: Some(EvidenceKey::new(key)),
            attachment_key: Some(AttachmentKey::generate()),
            attachment_dir: Some(dir.join("attachments")),
            ..AppConfig::default()
        },
    );
    for (party, kind, user, roles) in [
        (
            "Task force",
            "mediator",
            "petra",
            &["caseworker", "reviewer"][..],
        ),
        ("Ombudsman", "origin", "olena", &["caseworker"]),
        ("Custody authority", "custody", "ivan", &["caseworker"]),
        ("Prosecutor's office", "observer", "prosecutor", &["viewer"]),
    ] {
        let p = app
            .create_party(Console::actor(), party, kind)
            .await
            .unwrap();
        let input = NewUserInput {
            party_id: p.id,
            username: user.to_owned(),
            display_name: None,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            password: "a long enough password".to_owned(),
            language: None,
        };
        app.create_user(Console::actor(), input).await.unwrap();
    }
    let (sought, held) = Synthetic::new(11).matched_pair();
    for (user, kind, row) in [
        ("olena", RecordKind::TracingRequest, sought),
        ("ivan", RecordKind::CustodyRecord, held),
    ] {
        let mut csv = Vec::new();
        Synthetic::write_csv(&[row], kind, &mut csv).unwrap();
        let caller = Console::new(&app).caller(user).await.unwrap();
        app.import_records(&caller, &csv, &ImportOptions::default(), &|_| {})
            .await
            .unwrap();
    }
    let petra = Console::new(&app).caller("petra").await.unwrap();
    let case = app
        .seed_accountability_example(&petra, &petra)
        .await
        .unwrap()
        .expect("the pair is in the queue");
    let observer = Console::new(&app).caller("prosecutor").await.unwrap();
    let bundle = app.export_evidence(&observer, case).await.unwrap();
    std::fs::write(dir.join("evidence.tar"), bundle.bytes).unwrap();
    app.close().await;
}

/// `evidence.tar` with the first occurrence of `from` replaced by `to` (same length).
fn altered(dir: &Path, from: &[u8], to: &[u8]) {
    let mut bytes = std::fs::read(dir.join("evidence.tar")).unwrap();
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .unwrap_or_else(|| panic!("{} not in the bundle", String::from_utf8_lossy(from)));
    bytes[at..at + to.len()].copy_from_slice(to);
    std::fs::write(dir.join("evidence.tar"), bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_evidence_commands_verify_an_exported_bundle_and_name_what_was_altered() {
    let keygen = readme_commands("homeward audit keygen");
    let verify = readme_commands("homeward evidence verify");
    assert_eq!(
        (keygen.len(), verify.len()),
        (1, 1),
        "the README shows both"
    );
    let verify: Vec<&str> = verify[0].iter().map(String::as_str).collect();
    let mut dbs = vec![TestDatabase::sqlite().await.unwrap()];
    dbs.extend(TestDatabase::postgres().await.unwrap());
    for db in dbs {
        let dir = tempfile::tempdir().unwrap();
        let args: Vec<&str> = keygen[0].iter().map(String::as_str).collect();
        let o = homeward_in(dir.path(), &args);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        export(&db.url, dir.path()).await;

        let o = homeward_in(dir.path(), &verify);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(text(&o).contains("evidence bundle intact"), "{}", text(&o));
        assert!(
            text(&o).contains("2 accountability facts, 1 attachments"),
            "{}",
            text(&o)
        );

        // Another deployment's key.
        let other = homeward_app::checkpoint::generate_key().verifying_key();
        std::fs::write(
            dir.path().join("other.pub"),
            homeward_app::checkpoint::public_key_hex(&other),
        )
        .unwrap();
        let o = homeward_in(
            dir.path(),
            &[
                "evidence",
                "verify",
                "evidence.tar",
                "--public-key",
                "other.pub",
            ],
        );
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            text(&o).contains("FAILED signature_invalid"),
            "{}",
            text(&o)
        );
        assert!(
            text(&o).contains("FAILED head_signature_invalid"),
            "{}",
            text(&o)
        );

        // The attachment's content: named by its SHA-256.
        let pristine = std::fs::read(dir.path().join("evidence.tar")).unwrap();
        altered(dir.path(), b"Synthetic witness", b"Forged  witness  ");
        let o = homeward_in(dir.path(), &verify);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            text(&o).contains("FAILED attachment_hash_mismatch"),
            "{}",
            text(&o)
        );
        assert!(!text(&o).contains("signature_invalid"), "{}", text(&o));

        // The manifest: named by its signature.
        std::fs::write(dir.path().join("evidence.tar"), &pristine).unwrap();
        altered(dir.path(), b"eleven other", b"twelve other");
        let o = homeward_in(dir.path(), &verify);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            text(&o).contains("FAILED signature_invalid [manifest.sig]"),
            "{}",
            text(&o)
        );
        assert!(
            text(&o).contains("evidence bundle BROKEN: 1 problem(s)"),
            "{}",
            text(&o)
        );

        // Not a bundle at all.
        std::fs::write(dir.path().join("evidence.tar"), b"hello").unwrap();
        let o = homeward_in(dir.path(), &verify);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            text(&o).contains("FAILED bundle_unreadable"),
            "{}",
            text(&o)
        );
        // A missing file is bad input.
        std::fs::remove_file(dir.path().join("evidence.tar")).unwrap();
        assert_eq!(homeward_in(dir.path(), &verify).status.code(), Some(2));
        assert!(SYNTHETIC_STATEMENT.starts_with(b"%PDF"));
        db.cleanup().await.unwrap();
    }
}
