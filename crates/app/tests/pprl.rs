//! Privacy-preserving linkage through the use-cases: the minimum list size is the configured one,
//! and a run waits in the job queue until a worker links it (requests wait for it too).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use homeward_app::AppConfig;
use homeward_app::pprl::PprlRequestInput;
use homeward_linkage::pprl::{Hardening, PprlKey, encode};
use homeward_linkage::{FieldKind, Table};

const GIVEN: [&str; 6] = ["Олександр", "Дмитро", "Андрій", "Олена", "Ірина", "Оксана"];
const FAMILY: [&str; 5] = ["Петренко", "Коваленко", "Шевчук", "Мельник", "Гнатюк"];

/// The side's synthetic children `range`, under references `PREFIX-i`, encoded with one key.
fn encoded(prefix: &str, range: std::ops::Range<usize>) -> Vec<u8> {
    let columns = [
        ("id", FieldKind::Id),
        ("given_name", FieldKind::GivenName),
        ("family_name", FieldKind::FamilyName),
        ("birth_date", FieldKind::BirthDate),
    ]
    .map(|(n, k)| (n.to_owned(), k))
    .to_vec();
    let mut t = Table::new(columns).unwrap();
    for i in range {
        let id = format!("{prefix}-{i}");
        let dob = format!(
            "{}-{:02}-{:02}",
            2008 + i % 9,
            1 + (i * 5) % 12,
            1 + (i * 11) % 28
        );
        let row = [
            id.clone(),
            GIVEN[i % GIVEN.len()].to_owned(),
            FAMILY[(i * 3 + i / 5) % FAMILY.len()].to_owned(),
            dob,
        ];
        t.push(id, row.iter().map(|v| Some(v.as_str()))).unwrap();
    }
    encode(&t, &PprlKey::from_bytes([3; 32]), Hardening::SaltDate)
        .to_json()
        .unwrap()
}

#[tokio::test]
async fn the_minimum_list_size_is_the_configured_one() {
    let config = AppConfig {
        pprl_min_list_size: 20,
        ..AppConfig::default()
    };
    for w in worlds(config).await {
        let origin = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let e = w
            .app
            .upload_pprl_list(&origin, "r", &encoded("TR", 0..19))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "pprl_list_too_small", "{e}");
        let list = w
            .app
            .upload_pprl_list(&origin, "r", &encoded("TR", 0..20))
            .await
            .unwrap();
        assert_eq!(list.records, 20);
        w.finish().await;
    }
}

#[tokio::test]
async fn a_run_waits_in_the_queue_until_a_worker_links_it() {
    let config = AppConfig {
        inline_jobs: false,
        pprl_min_list_size: 10,
        ..AppConfig::default()
    };
    for w in worlds(config).await {
        let origin = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let custody = w.user(w.custody.id, "c.cw", &["caseworker"]).await;
        let reviewer = w.user(w.mediator.id, "m.rev", &["reviewer"]).await;
        let o = w
            .app
            .upload_pprl_list(&origin, "r", &encoded("TR", 0..20))
            .await
            .unwrap();
        let c = w
            .app
            .upload_pprl_list(&custody, "r", &encoded("CR", 10..30))
            .await
            .unwrap();
        // A side cannot run a linkage.
        let e = w
            .app
            .create_pprl_run(&origin, o.id, c.id)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "forbidden");
        let run = w.app.create_pprl_run(&reviewer, c.id, o.id).await.unwrap();
        assert_eq!((run.state.as_str(), run.origin_list), ("queued", o.id));
        let before = w.app.pprl_mapping(&reviewer, run.id).await.unwrap();
        assert!(before.pairs.is_empty());
        let ask = PprlRequestInput {
            pairs: vec![uuid::Uuid::now_v7()],
        };
        let e = w
            .app
            .request_pprl_records(&reviewer, run.id, &ask)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "pprl_run_not_finished");

        let drained = w.app.drain_jobs("test-worker").await.unwrap();
        assert_eq!(drained.done, 1);
        let after = w.app.pprl_mapping(&reviewer, run.id).await.unwrap();
        assert_eq!(after.run.state, "done");
        assert_eq!(after.run.pairs, Some(after.pairs.len() as i64));
        assert!(after.pairs.len() >= 8, "{} of 10 found", after.pairs.len());
        for p in &after.pairs {
            let i = p.origin_reference.trim_start_matches("TR-");
            assert_eq!(p.custody_reference, format!("CR-{i}"));
        }
        // The side sees its own references only.
        let mine = w.app.pprl_own_references(&custody, c.id).await.unwrap();
        assert_eq!(mine.references.len(), after.pairs.len());
        assert!(
            mine.references
                .iter()
                .all(|r| r.reference.starts_with("CR-"))
        );
        let e = w.app.pprl_own_references(&custody, o.id).await.unwrap_err();
        assert_eq!(e.code(), "not_found");
        w.finish().await;
    }
}
