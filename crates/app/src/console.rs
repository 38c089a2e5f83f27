//! The server's own command line: making the first administrator, checking the audit chain,
//! recomputing derived keys, acting as a named user for imports and the demo. These step around
//! authentication (whoever runs the binary already holds the database), so they live here, behind
//! the `console` feature that only the `homeward` binary (and tests) turn on: the web crate does
//! not, and cannot reach them.

use crate::audit::ChainReport;
use crate::caller::ConsoleProof;
use crate::reindex::Refresh;
use crate::{Actor, App, AppResult, Caller};
use homeward_domain::User;

/// The command line's access to an app.
#[derive(Clone, Copy, Debug)]
pub struct Console<'a> {
    app: &'a App,
}

impl<'a> Console<'a> {
    pub fn new(app: &'a App) -> Self {
        Self { app }
    }

    /// The command line as the actor of an administrative change.
    pub fn actor() -> Actor<'static> {
        Actor::CommandLine(ConsoleProof(()))
    }

    /// Acts as `username` without a password (imports, the demo, benchmarks).
    pub async fn caller(&self, username: &str) -> AppResult<Caller> {
        self.app.command_line_caller(username).await
    }

    /// A user by id or username, whatever party.
    pub async fn find_user(&self, id_or_name: &str) -> AppResult<User> {
        self.app.find_user(id_or_name).await
    }

    /// Walks the whole chain and checks every stored row against the entry that wrote it.
    pub async fn verify_audit(
        &self,
        progress: &(dyn Fn(i64) + Send + Sync),
    ) -> AppResult<ChainReport> {
        self.app.verify_audit(progress).await
    }

    /// Recomputes the stored derived keys when the code computes them differently now.
    pub async fn refresh_derived_keys(
        &self,
        progress: &(dyn Fn(usize) + Send + Sync),
    ) -> AppResult<Refresh> {
        self.app.refresh_derived_keys(progress).await
    }
}
