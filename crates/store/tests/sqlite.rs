//! The conformance suite on SQLite (a temporary file per test).
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
    let db = TestDatabase::sqlite()
        .await
        .expect("a temporary SQLite file");
    conformance::run(db, case).await;
}

conformance_tests!(run);
