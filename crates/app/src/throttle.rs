//! Throttling of guesses at a password or a one-time code, wherever one is checked: signing in,
//! changing one's own password, confirming a TOTP enrolment.
//!
//! Every such check counts its failures under the same keys, the account (`user:NAME`) and the
//! address the request came from (`ip:ADDR`), in the database's `login_failures` table, so that
//! any server behind a load balancer sees them and a guess through one door counts against the
//! allowance of all the others: thirty guesses at `/me/password` are thirty sign-in failures.

use crate::{App, AppError, AppResult};
use chrono::{DateTime, Utc};
use homeward_domain::{AuditAction, AuditDraft, UserId};

/// The keys one attempt is counted under.
pub(crate) struct Guess {
    user_key: String,
    source_key: Option<String>,
    source: Option<String>,
}

impl Guess {
    pub(crate) fn new(username: &str, source: Option<&str>) -> Self {
        Self {
            user_key: format!("user:{username}"),
            source_key: source.map(|s| format!("ip:{s}")),
            source: source.map(str::to_owned),
        }
    }
}

impl App {
    /// Refuses with `too_many_attempts` (and how long to wait) when the account or the address
    /// has failed too often within the window.
    pub(crate) async fn check_throttle(&self, g: &Guess, now: DateTime<Utc>) -> AppResult<()> {
        let since = now - self.config.login_window;
        let retry_after_secs = self.config.login_window.num_seconds();
        if self.store.count_login_failures(&g.user_key, since).await?
            >= self.config.login_max_failures
        {
            return Err(AppError::TooManyAttempts { retry_after_secs });
        }
        if let Some(k) = &g.source_key
            && self.store.count_login_failures(k, since).await?
                >= self.config.login_max_failures_per_source
        {
            return Err(AppError::TooManyAttempts { retry_after_secs });
        }
        Ok(())
    }

    /// Counts a failed guess and audits it (`auth.login_failed`, with the reason and where it
    /// was made). `user` is who was guessed at, when that is known.
    pub(crate) async fn record_failed_guess(
        &self,
        g: &Guess,
        now: DateTime<Utc>,
        user: Option<(UserId, homeward_domain::PartyId)>,
        reason: &'static str,
        during: &'static str,
    ) -> AppResult<()> {
        let mut keys = vec![g.user_key.clone()];
        keys.extend(g.source_key.clone());
        let audit = AuditDraft {
            actor_user: user.map(|u| u.0),
            actor_party: user.map(|u| u.1),
            source: g.source.clone(),
            ..AuditDraft::new(AuditAction::LoginFailed)
        }
        .details(serde_json::json!({ "reason": reason, "during": during }));
        self.store.record_login_failure(&keys, now, audit).await?;
        Ok(())
    }

    /// Forgets the account's failures after the right password was given.
    pub(crate) async fn clear_throttle(&self, g: &Guess, now: DateTime<Utc>) -> AppResult<()> {
        let since = now - self.config.login_window;
        self.store.clear_login_failures(&g.user_key, since).await?;
        Ok(())
    }
}
