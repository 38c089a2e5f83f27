//! The conformance suite on PostgreSQL: each test gets a fresh database on the server named by
//! `HOMEWARD_TEST_POSTGRES_URL`, dropped afterwards. Without that variable the tests say they were
//! skipped and pass, unless `HOMEWARD_TEST_REQUIRE_ALL` is set (as `.ci/run` does): then they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod conformance;

use homeward_store::testing::TestDatabase;
use std::future::Future;

async fn run<F, Fut>(case: F)
where
    F: FnOnce(conformance::Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(db) = TestDatabase::postgres()
        .await
        .expect("a fresh PostgreSQL database")
    else {
        return;
    };
    conformance::run(db, case).await;
}

conformance_tests!(run);

/// After `refresh_statistics` the planner knows the size of every table an import fills: on a
/// fresh database PostgreSQL takes a table that was never analysed for unknown (`reltuples` −1),
/// and keeps it so however many rows are written until autovacuum comes by.
#[tokio::test]
async fn refreshing_statistics_analyses_the_tables_an_import_fills() {
    use sqlx::Connection;
    let Some(db) = TestDatabase::postgres()
        .await
        .expect("a fresh PostgreSQL database")
    else {
        return;
    };
    let store = db.open().await.unwrap();
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let tables = [
        "records",
        "record_versions",
        "record_block_keys",
        "match_candidates",
    ];
    let estimates = async |conn: &mut sqlx::PgConnection| {
        let mut out = Vec::new();
        for t in tables {
            let n: f32 = sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE relname = $1")
                .bind(t)
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            out.push(n);
        }
        out
    };
    assert_eq!(estimates(&mut conn).await, vec![-1.0; tables.len()]);
    store.refresh_statistics().await.unwrap();
    assert_eq!(estimates(&mut conn).await, vec![0.0; tables.len()]);
    conn.close().await.unwrap();
    store.close().await;
    db.cleanup().await.unwrap();
}

/// Block keys stored into a table the planner last saw empty are analysed at once: the
/// lookups of the same matching run follow, and without column statistics PostgreSQL planned
/// them at a second each (issue 19). A small addition to a table it knows leaves it alone.
#[tokio::test]
async fn block_keys_stored_into_a_table_analysed_empty_are_analysed() {
    run(async |cx: conformance::Ctx| {
        use homeward_domain::RecordKind;
        use sqlx::Connection;
        let s = &*cx.store;
        let (_, t, cs) = conformance::matching_world(s, 3).await;
        let mut conn = sqlx::PgConnection::connect(&cx.url).await.unwrap();
        let estimate = async |conn: &mut sqlx::PgConnection| -> f32 {
            sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE relname = 'record_block_keys'")
                .fetch_one(&mut *conn)
                .await
                .unwrap()
        };
        s.refresh_statistics().await.unwrap();
        assert_eq!(estimate(&mut conn).await, 0.0);
        let keys = |n: usize| (0..n).map(|i| format!("k{i}")).collect::<Vec<_>>();
        let (tr, cr) = (RecordKind::TracingRequest, RecordKind::CustodyRecord);
        s.put_block_keys(&[
            (t, tr, keys(3)),
            (cs[0], cr, keys(3)),
            (cs[1], cr, keys(3)),
            (cs[2], cr, keys(3)),
        ])
        .await
        .unwrap();
        assert_eq!(estimate(&mut conn).await, 12.0);
        s.put_block_keys(&[(cs[2], cr, keys(2))]).await.unwrap();
        assert_eq!(
            estimate(&mut conn).await,
            12.0,
            "2 rows of 12 are not worth it"
        );
        conn.close().await.unwrap();
    })
    .await;
}

/// `refresh_statistics` analyses a table again once it has grown by more than a quarter, and
/// leaves it alone after a few rows more (an import of one row into a full store), or while it
/// is still empty.
#[tokio::test]
async fn refreshing_statistics_skips_tables_that_barely_grew() {
    run(async |cx: conformance::Ctx| {
        use conformance::{content, insert, new_record, world};
        use homeward_domain::RecordKind;
        use sqlx::Connection;
        let s = &*cx.store;
        let w = world(s).await;
        let mut conn = sqlx::PgConnection::connect(&cx.url).await.unwrap();
        let estimate = async |conn: &mut sqlx::PgConnection| -> f32 {
            sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE relname = 'records'")
                .fetch_one(&mut *conn)
                .await
                .unwrap()
        };
        let file = async |n: usize| {
            let records: Vec<_> = (0..n)
                .map(|i| {
                    let c = content(
                        RecordKind::TracingRequest,
                        &format!("Олена Ткач {i}"),
                        "f",
                        None,
                        None,
                    );
                    new_record(&w.origin, &w.origin_user, c)
                })
                .collect();
            insert(s, &records).await;
        };
        let analyses = async |conn: &mut sqlx::PgConnection| -> i64 {
            sqlx::query_scalar(
                "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'match_candidates'",
            )
            .fetch_one(&mut *conn)
            .await
            .unwrap()
        };
        file(300).await;
        s.refresh_statistics().await.unwrap();
        assert_eq!(estimate(&mut conn).await, 300.0);
        assert_eq!(analyses(&mut conn).await, 1, "never analysed: analysed");
        file(1).await;
        s.refresh_statistics().await.unwrap();
        assert_eq!(
            estimate(&mut conn).await,
            300.0,
            "one row more is not worth it"
        );
        file(300).await;
        s.refresh_statistics().await.unwrap();
        assert_eq!(estimate(&mut conn).await, 601.0);
        conn.close().await.unwrap();
    })
    .await;
}
