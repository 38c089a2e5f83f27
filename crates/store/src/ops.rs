//! What operating a deployment needs from the store (issue 19): the pool's state for metrics,
//! whether every migration is applied (readiness), the attachments' names (to check a backup's key)
//! and, on SQLite, a consistent copy of the database while it serves.

use crate::Result;
use async_trait::async_trait;
use std::path::Path;

/// The connection pool at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open (idle or in use).
    pub size: u32,
    /// Connections open and idle.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

#[async_trait]
pub trait OpsStore: Send + Sync {
    fn pool_stats(&self) -> PoolStats;

    /// Migrations this build knows that the database has not applied (or applied and failed).
    async fn pending_migrations(&self) -> Result<usize>;

    /// The distinct blob names (SHA-256 hex) the attachments point at, in order.
    async fn attachment_blobs(&self) -> Result<Vec<String>>;

    /// Writes a consistent copy of the whole database to `out`, a file that must not exist, while
    /// other connections go on reading and writing. `Ok(false)` where the backend has no such
    /// copy of its own (PostgreSQL: `pg_dump` makes it).
    async fn backup_into(&self, out: &Path) -> Result<bool>;
}

/// Implements [`OpsStore`] for `$store`, whose `pool` and `MIGRATOR` are in the invoking module;
/// `$backup` is `VACUUM INTO`'s statement, or `None`.
macro_rules! impl_ops {
    ($store:ident, $backup:expr) => {
        mod ops_impl {
            use super::{MIGRATOR, $store};
            use crate::Result;
            use crate::ops::{OpsStore, PoolStats};
            use async_trait::async_trait;
            use std::collections::HashSet;
            use std::path::Path;

            #[async_trait]
            impl OpsStore for $store {
                fn pool_stats(&self) -> PoolStats {
                    let size = self.pool.size();
                    let idle = u32::try_from(self.pool.num_idle()).unwrap_or(size);
                    PoolStats {
                        size,
                        idle,
                        max: self.pool.options().get_max_connections(),
                    }
                }

                async fn pending_migrations(&self) -> Result<usize> {
                    let applied: Vec<i64> = sqlx::query_scalar(
                        "SELECT version FROM _sqlx_migrations WHERE success = TRUE",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                    let applied: HashSet<i64> = applied.into_iter().collect();
                    Ok(MIGRATOR
                        .iter()
                        .filter(|m| m.migration_type.is_up_migration())
                        .filter(|m| !applied.contains(&m.version))
                        .count())
                }

                async fn attachment_blobs(&self) -> Result<Vec<String>> {
                    Ok(sqlx::query_scalar(
                        "SELECT DISTINCT sha256 FROM attachments ORDER BY sha256",
                    )
                    .fetch_all(&self.pool)
                    .await?)
                }

                async fn backup_into(&self, out: &Path) -> Result<bool> {
                    let statement: Option<&str> = $backup;
                    let Some(statement) = statement else {
                        return Ok(false);
                    };
                    let out = out.to_str().ok_or_else(|| {
                        crate::StoreError::BadUrl(format!("{} is not UTF-8", out.display()))
                    })?;
                    sqlx::query(statement).bind(out).execute(&self.pool).await?;
                    Ok(true)
                }
            }
        }
    };
}
pub(crate) use impl_ops;
