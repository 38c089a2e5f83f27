//! One audit entry per page view. A page shows what several use-cases read (a case, its history,
//! its records, tasks, attachments); audited one by one that was six or more entries for one look
//! at one child. Inside a view the reads are noted instead of appended, and the view appends one
//! `page.view` entry naming each of them (its action, its target and the ids it handed out)
//! before the page is returned.

use crate::{App, AppResult, Caller};
use homeward_domain::{AuditAction, AuditDraft, CaseId, MatchId};
use std::sync::{Arc, Mutex, PoisonError};

/// The reads of one page view so far.
#[derive(Debug, Default)]
pub(crate) struct ViewLog(Mutex<Vec<AuditDraft>>);

impl ViewLog {
    pub(crate) fn note(&self, drafts: impl IntoIterator<Item = AuditDraft>) {
        // A poisoned lock means another read of this page panicked; the notes are still whole.
        let mut reads = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        reads.extend(drafts);
    }

    fn take(&self) -> Vec<AuditDraft> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// What a page shows: the target of its one audit entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewed {
    Case(CaseId),
    Dashboard,
    /// A match's review page.
    Match(MatchId),
}

impl Viewed {
    fn page(self) -> &'static str {
        match self {
            Self::Case(_) => "case",
            Self::Dashboard => "dashboard",
            Self::Match(_) => "match_review",
        }
    }

    fn target(self) -> Option<(&'static str, String)> {
        match self {
            Self::Case(id) => Some(("case", id.to_string())),
            Self::Match(id) => Some(("match", id.to_string())),
            Self::Dashboard => None,
        }
    }
}

impl App {
    /// Draws a page: `read` runs with a caller whose audited reads are noted rather than appended
    /// one by one, then one `page.view` entry names them all. The entry is appended before the
    /// page is returned, also when a later read failed (what was read is on record either way);
    /// when it cannot be appended, the page is not returned.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn view<T>(
        &self,
        caller: &Caller,
        what: Viewed,
        read: impl AsyncFnOnce(&Caller) -> T,
    ) -> AppResult<T> {
        let log = Arc::new(ViewLog::default());
        let out = read(&caller.viewing(Arc::clone(&log))).await;
        let reads = log.take();
        if !reads.is_empty() {
            self.store
                .append_audit(page_entry(caller, what, reads))
                .await?;
        }
        Ok(out)
    }
}

/// The one entry of a page view: the page, its subject, and each read it showed.
fn page_entry(caller: &Caller, what: Viewed, reads: Vec<AuditDraft>) -> AuditDraft {
    let reads: Vec<serde_json::Value> = reads
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "action": r.action.code(),
                "target_kind": r.target_kind,
                "target_id": r.target_id,
                "details": r.details,
            })
        })
        .collect();
    let mut entry = caller
        .audit(AuditAction::PageView)
        .details(serde_json::json!({ "page": what.page(), "reads": reads }));
    if let Some((kind, id)) = what.target() {
        entry = entry.target(kind, id);
    }
    entry
}
