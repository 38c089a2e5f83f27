//! Throwaway databases for tests: a temporary SQLite file, or a fresh database on the PostgreSQL
//! server named by `HOMEWARD_TEST_POSTGRES_URL`. Enabled by the `testing` feature.

use crate::{Result, Store, StoreError, connect};
use rand::Rng;
use sqlx::Connection;
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
    postgres: Option<(String, String)>,
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
        let name = format!("homeward_test_{:016x}", rand::thread_rng().r#gen::<u64>());
        let mut conn = sqlx::PgConnection::connect(&admin_url).await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let url = replace_database(&admin_url, &name);
        Ok(Some(Self {
            url,
            _dir: None,
            postgres: Some((admin_url, name)),
        }))
    }

    pub async fn open(&self) -> Result<Arc<dyn Store>> {
        connect(&self.url).await
    }

    /// Drops a PostgreSQL database (SQLite files go with the temporary directory).
    pub async fn cleanup(self) -> Result<()> {
        if let Some((admin_url, name)) = &self.postgres {
            let mut conn = sqlx::PgConnection::connect(admin_url).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await?;
            conn.close().await?;
        }
        Ok(())
    }
}

/// Swaps the database name in a PostgreSQL URL, keeping any query string.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[authority_end..].find('/') {
        Some(i) => &base[..authority_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            super::replace_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            super::replace_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(
            super::replace_database("postgres://u@h", "x"),
            "postgres://u@h/x"
        );
    }
}
