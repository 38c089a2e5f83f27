//! Throwaway databases for tests: a temporary SQLite file, or a fresh database on the PostgreSQL
//! server named by `HOMEWARD_TEST_POSTGRES_URL`. Enabled by the `testing` feature.

use crate::scratch::ScratchDatabase;
use crate::{Result, Store, StoreError, connect};
use std::sync::Arc;

/// The environment variable naming a PostgreSQL server tests may create databases on.
pub const POSTGRES_ENV: &str = "HOMEWARD_TEST_POSTGRES_URL";

/// Set (to anything) where every test must really run (`.ci/run` sets it): a test that would
/// otherwise print "skipped" for want of PostgreSQL or Chromium fails instead, so a run that
/// left them out cannot pass as a run that covered them.
pub const REQUIRE_ENV: &str = "HOMEWARD_TEST_REQUIRE_ALL";

/// Says that `what` is missing and the tests that need it are skipped; panics instead where
/// [`REQUIRE_ENV`] is set.
#[allow(clippy::panic)]
pub fn skip_without(what: &str) {
    if std::env::var_os(REQUIRE_ENV).is_some() {
        panic!("{what} is missing, and {REQUIRE_ENV} says every test must run");
    }
    eprintln!("skipped: {what} is missing, so the tests that need it did not run");
}

#[derive(Debug)]
pub struct TestDatabase {
    /// The URL to open the store with.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<ScratchDatabase>,
}

impl TestDatabase {
    pub async fn sqlite() -> Result<Self> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::BadUrl(format!("temp dir: {e}")))?;
        let url = crate::sqlite_url_for_dir(dir.path());
        Ok(Self {
            url,
            _dir: Some(dir),
            postgres: None,
        })
    }

    /// A fresh, empty database on the test server, or `None` when no server is configured.
    pub async fn postgres() -> Result<Option<Self>> {
        let Ok(admin_url) = std::env::var(POSTGRES_ENV) else {
            skip_without(&format!("PostgreSQL ({POSTGRES_ENV})"));
            return Ok(None);
        };
        let db = ScratchDatabase::create(&admin_url, "homeward_test").await?;
        Ok(Some(Self {
            url: db.url.clone(),
            _dir: None,
            postgres: Some(db),
        }))
    }

    pub async fn open(&self) -> Result<Arc<dyn Store>> {
        connect(&self.url).await
    }

    /// Drops a PostgreSQL database (SQLite files go with the temporary directory).
    pub async fn cleanup(self) -> Result<()> {
        if let Some(db) = &self.postgres {
            db.remove().await?;
        }
        Ok(())
    }
}
