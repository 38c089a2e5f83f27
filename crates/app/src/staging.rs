//! The import page's staged uploads: a file kept between the steps of one import (mapping,
//! checking, confirming) under a random one-time token bound to the session that uploaded it.
//!
//! Kept in the database (see `homeward_store::staging`), not in a server's memory, so that each
//! step may reach any app server behind a load balancer. The session is stored only as a hash;
//! the file only until it is imported or expires; neither the file nor its name is logged.

use crate::import::Field;
use crate::{App, AppError, AppResult, Caller};
use chrono::Duration;
use homeward_domain::{Permission, RecordKind};
use homeward_store::{NewStagedUpload, StagedState, StagedUpload, StagingLimits};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// How long an upload waits for its confirmation (and a result page stays readable).
pub const STAGE_TTL: Duration = Duration::minutes(30);
/// How long a confirmation holds an upload it is importing; an import that died without ending
/// (a killed server) frees it after this.
const COMMIT_HOLD: Duration = Duration::hours(2);
/// All staged files together, so that many uploads cannot exhaust the database.
const MAX_STAGED_BYTES: i64 = 128 << 20;
/// A person works on one file at a time; a few are kept for going back and forth in tabs.
const MAX_PER_SESSION: usize = 3;

/// What an import staged by the page did, for its result page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StagedOutcome {
    pub kind: RecordKind,
    pub imported: usize,
    pub left_out: usize,
    /// The confirm form was sent again after the import was done.
    pub repeated: bool,
    /// The import, whose matching the result page follows.
    pub import_id: Option<Uuid>,
}

/// Where a staged upload is, as its session sees it.
#[derive(Clone, Debug)]
pub enum Staged {
    Ready {
        bytes: Vec<u8>,
        filename: String,
        /// The mapping of the upload this one corrects, by header: the starting choices.
        preset: Vec<(String, Field)>,
    },
    /// A confirmation is importing it; another one must not.
    Committing,
    Done(StagedOutcome),
    /// Never staged, expired, or another session's.
    Gone,
}

fn session_hash(session: &str) -> String {
    hex::encode(Sha256::digest(session.as_bytes()))
}

fn new_token() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("staged upload {what}: {e}"))
}

fn staged_of(found: Option<StagedUpload>) -> AppResult<Staged> {
    let Some(s) = found else {
        return Ok(Staged::Gone);
    };
    Ok(match s.state {
        StagedState::Ready => {
            let preset: Vec<(String, String)> =
                serde_json::from_str(&s.preset).map_err(|e| corrupt("mapping", e))?;
            Staged::Ready {
                bytes: s.content.unwrap_or_default(),
                filename: s.filename,
                // A field this build no longer knows is dropped: it is only a starting choice.
                preset: preset
                    .into_iter()
                    .filter_map(|(h, f)| f.parse().ok().map(|f| (h, f)))
                    .collect(),
            }
        }
        StagedState::Committing => Staged::Committing,
        StagedState::Done => {
            let o = s.outcome.ok_or_else(|| corrupt("outcome", "missing"))?;
            Staged::Done(serde_json::from_str(&o).map_err(|e| corrupt("outcome", e))?)
        }
    })
}

impl App {
    /// Keeps an upload for the caller's `session` and returns its token; `None` when the
    /// deployment holds too many staged bytes already. `replaces` is the upload a corrected
    /// file takes the place of.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn stage_import(
        &self,
        caller: &Caller,
        session: &str,
        filename: String,
        preset: &[(String, Field)],
        bytes: &[u8],
        replaces: Option<&str>,
    ) -> AppResult<Option<String>> {
        caller.require(Permission::RecordImport, &self.config)?;
        let preset: Vec<(&str, &str)> = preset
            .iter()
            .map(|(h, f)| (h.as_str(), f.as_str()))
            .collect();
        let now = self.now();
        let upload = NewStagedUpload {
            token: new_token(),
            session_hash: session_hash(session),
            filename,
            preset: serde_json::to_string(&preset).map_err(|e| corrupt("mapping", e))?,
            content: bytes.to_vec(),
            created_at: now,
            expires_at: now + STAGE_TTL,
        };
        let limits = StagingLimits {
            per_session: MAX_PER_SESSION,
            total_bytes: MAX_STAGED_BYTES,
        };
        let staged = self.store.stage_upload(&upload, replaces, limits).await?;
        Ok(staged.then_some(upload.token))
    }

    /// The session's staged upload under `token`, as it is now.
    #[tracing::instrument(skip_all)]
    pub async fn staged_import(&self, session: &str, token: &str) -> AppResult<Staged> {
        let found = self
            .store
            .staged_upload(&session_hash(session), token, self.now())
            .await?;
        staged_of(found)
    }

    /// Takes the file for committing: only one caller, on any server, ever gets it `Ready`.
    /// A confirmation repeated after the import is noted on the outcome.
    #[tracing::instrument(skip_all)]
    pub async fn take_staged_import(&self, session: &str, token: &str) -> AppResult<Staged> {
        let now = self.now();
        let found = self
            .store
            .claim_staged_upload(&session_hash(session), token, now, now + COMMIT_HOLD)
            .await?;
        match staged_of(found)? {
            Staged::Done(mut o) => {
                o.repeated = true;
                let text = serde_json::to_string(&o).map_err(|e| corrupt("outcome", e))?;
                self.store.set_staged_outcome(token, &text).await?;
                Ok(Staged::Done(o))
            }
            other => Ok(other),
        }
    }

    /// Ends a commit the caller took: with the outcome the upload is done (its file dropped);
    /// without, nothing was imported and the file is ready to be mapped and tried again.
    #[tracing::instrument(skip_all)]
    pub async fn finish_staged_import(
        &self,
        token: &str,
        outcome: Option<&StagedOutcome>,
    ) -> AppResult<()> {
        let text = outcome
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| corrupt("outcome", e))?;
        let expires = self.now() + STAGE_TTL;
        self.store
            .finish_staged_upload(token, text.as_deref(), expires)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_session_is_kept_only_as_a_hash() {
        let h = super::session_hash("a-session-token");
        assert_eq!(h.len(), 64);
        assert!(!h.contains("a-session-token"));
        assert_ne!(h, super::session_hash("another"));
    }
}
