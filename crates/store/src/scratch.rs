//! Throwaway PostgreSQL databases: made on a server for one run (tests, `homeward bench
//! backends`) and dropped after it.

use crate::Result;
use rand::Rng;
use sqlx::Connection;

/// A fresh, empty database on a PostgreSQL server, made by [`ScratchDatabase::create`] and
/// dropped by [`ScratchDatabase::remove`].
#[derive(Debug)]
pub struct ScratchDatabase {
    /// The URL to open the store with.
    pub url: String,
    admin_url: String,
    name: String,
}

impl ScratchDatabase {
    /// Creates `<prefix>_<random hex>` on the server `admin_url` names (any database on it).
    /// `prefix` is a fixed identifier of lower-case letters and underscores.
    pub async fn create(admin_url: &str, prefix: &str) -> Result<Self> {
        let name = format!("{prefix}_{:016x}", rand::thread_rng().r#gen::<u64>());
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(crate::StoreError::BadUrl(format!(
                "{name:?} is not a database name this helper makes"
            )));
        }
        let mut conn = sqlx::PgConnection::connect(admin_url).await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        Ok(Self {
            url: replace_database(admin_url, &name),
            admin_url: admin_url.to_owned(),
            name,
        })
    }

    /// Drops the database, closing whatever connections remain.
    pub async fn remove(&self) -> Result<()> {
        let mut conn = sqlx::PgConnection::connect(&self.admin_url).await?;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn)
        .await?;
        conn.close().await?;
        Ok(())
    }
}

/// Swaps the database name in a PostgreSQL URL, keeping any query string.
pub fn replace_database(url: &str, name: &str) -> String {
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
