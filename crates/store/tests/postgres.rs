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
