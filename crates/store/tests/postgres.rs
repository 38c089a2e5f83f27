//! The conformance suite on PostgreSQL: each test gets a fresh database on the server named by
//! `HOMEWARD_TEST_POSTGRES_URL`, dropped afterwards. Without that variable the tests say they were
//! skipped and pass.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod conformance;

use homeward_store::testing::{POSTGRES_ENV, TestDatabase};
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
        eprintln!(
            "skipped: {POSTGRES_ENV} is not set, so the PostgreSQL conformance tests did not run"
        );
        return;
    };
    conformance::run(db, case).await;
}

conformance_tests!(run);
