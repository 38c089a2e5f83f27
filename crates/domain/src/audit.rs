//! The audit log as a hash chain. Each entry's hash covers the previous entry's hash and the
//! entry's canonical bytes, so altering, removing or reordering any entry breaks every hash after it.

use crate::ids::{PartyId, UserId};
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// The hash the first entry chains from.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened. Stored as its code; the codes are stable because auditors search by them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AuditAction {
    #[serde(rename = "party.create")]
    PartyCreate,
    #[serde(rename = "user.create")]
    UserCreate,
    #[serde(rename = "user.update")]
    UserUpdate,
    #[serde(rename = "user.password_reset")]
    UserPasswordReset,
    #[serde(rename = "user.totp_enable")]
    UserTotpEnable,
    #[serde(rename = "auth.login")]
    Login,
    #[serde(rename = "auth.login_failed")]
    LoginFailed,
    #[serde(rename = "auth.logout")]
    Logout,
    #[serde(rename = "token.create")]
    TokenCreate,
    #[serde(rename = "token.revoke")]
    TokenRevoke,
    #[serde(rename = "record.create")]
    RecordCreate,
    #[serde(rename = "record.read")]
    RecordRead,
    #[serde(rename = "record.list")]
    RecordList,
    #[serde(rename = "record.history")]
    RecordHistory,
    #[serde(rename = "record.update")]
    RecordUpdate,
    #[serde(rename = "record.delete")]
    RecordDelete,
    #[serde(rename = "import.commit")]
    ImportCommit,
    #[serde(rename = "audit.read")]
    AuditRead,
    #[serde(rename = "match.candidate_create")]
    MatchCandidateCreate,
    #[serde(rename = "match.candidate_rescore")]
    MatchCandidateRescore,
    #[serde(rename = "match.queue_read")]
    MatchQueueRead,
    #[serde(rename = "match.read")]
    MatchRead,
    #[serde(rename = "match.first_confirm")]
    MatchFirstConfirm,
    #[serde(rename = "match.confirm")]
    MatchConfirm,
    #[serde(rename = "match.reject")]
    MatchReject,
    #[serde(rename = "case.create")]
    CaseCreate,
    #[serde(rename = "case.join")]
    CaseJoin,
    #[serde(rename = "case.read")]
    CaseRead,
    #[serde(rename = "linkage.train")]
    LinkageTrain,
    #[serde(rename = "case.list")]
    CaseList,
    #[serde(rename = "case.history")]
    CaseHistory,
    #[serde(rename = "case.transition")]
    CaseTransition,
    #[serde(rename = "case.revalidate")]
    CaseRevalidate,
    #[serde(rename = "case.verification_record")]
    VerificationRecord,
    #[serde(rename = "case.verification_resolve")]
    VerificationResolve,
    #[serde(rename = "case.consent_record")]
    ConsentRecord,
    #[serde(rename = "case.consent_withdraw")]
    ConsentWithdraw,
    #[serde(rename = "case.child_views_record")]
    ChildViewsRecord,
    #[serde(rename = "case.assessment_record")]
    AssessmentRecord,
    #[serde(rename = "case.determination_record")]
    DeterminationRecord,
    #[serde(rename = "disclosure.create")]
    DisclosureCreate,
    #[serde(rename = "disclosure.list")]
    DisclosureList,
    #[serde(rename = "task.create")]
    TaskCreate,
    #[serde(rename = "task.list")]
    TaskList,
    #[serde(rename = "task.read")]
    TaskRead,
    #[serde(rename = "task.report")]
    TaskReport,
    #[serde(rename = "task.cancel")]
    TaskCancel,
    #[serde(rename = "duplicate.candidate_create")]
    DuplicateCandidateCreate,
    #[serde(rename = "duplicate.queue_read")]
    DuplicateQueueRead,
    #[serde(rename = "duplicate.read")]
    DuplicateRead,
    #[serde(rename = "duplicate.dismiss")]
    DuplicateDismiss,
    #[serde(rename = "record.merge")]
    RecordMerge,
    #[serde(rename = "case.record_merged")]
    CaseRecordMerged,
    #[serde(rename = "attachment.upload")]
    AttachmentUpload,
    /// The content was read (downloaded).
    #[serde(rename = "attachment.read")]
    AttachmentRead,
    /// Only the metadata was read.
    #[serde(rename = "attachment.metadata_read")]
    AttachmentMetadataRead,
    #[serde(rename = "attachment.list")]
    AttachmentList,
    #[serde(rename = "case.handover_record")]
    HandoverRecord,
    #[serde(rename = "case.custody_chain_read")]
    CustodyChainRead,
    #[serde(rename = "case.reunification_record")]
    ReunificationRecord,
    #[serde(rename = "case.service_record")]
    ServiceRecord,
    #[serde(rename = "case.follow_up_schedule")]
    FollowUpSchedule,
    #[serde(rename = "case.follow_up_report")]
    FollowUpReport,
    #[serde(rename = "case.follow_up_waive")]
    FollowUpWaive,
    #[serde(rename = "follow_up.list")]
    FollowUpList,
    #[serde(rename = "accountability.record")]
    AccountabilityRecord,
    #[serde(rename = "accountability.read")]
    AccountabilityRead,
    #[serde(rename = "accountability.list")]
    AccountabilityList,
    #[serde(rename = "transfer_list.create")]
    TransferListCreate,
    #[serde(rename = "transfer_list.change")]
    TransferListChange,
    #[serde(rename = "transfer_list.approve")]
    TransferListApprove,
    #[serde(rename = "transfer_list.read")]
    TransferListRead,
    #[serde(rename = "transfer_list.list")]
    TransferListList,
    #[serde(rename = "case.listing")]
    CaseListing,
    #[serde(rename = "transfer_plan.create")]
    TransferPlanCreate,
    #[serde(rename = "transfer_plan.change")]
    TransferPlanChange,
    #[serde(rename = "transfer_plan.approve")]
    TransferPlanApprove,
    #[serde(rename = "transfer_plan.read")]
    TransferPlanRead,
    #[serde(rename = "case.transfer_plan")]
    CaseTransferPlan,
    /// Rows written before the chain carried row hashes, listed once after the upgrade.
    #[serde(rename = "audit.rows_adopted")]
    RowsAdopted,
    // ---- privacy-preserving linkage (pprl-server) ----
    /// A side uploaded its encoded list (PPRL).
    #[serde(rename = "pprl.list_upload")]
    PprlListUpload,
    #[serde(rename = "pprl.list_list")]
    PprlListList,
    #[serde(rename = "pprl.run_create")]
    PprlRunCreate,
    #[serde(rename = "pprl.run_finish")]
    PprlRunFinish,
    /// The mediator read the mapping of references a run found.
    #[serde(rename = "pprl.pairs_read")]
    PprlPairsRead,
    /// A side read which of its own references are in pairs.
    #[serde(rename = "pprl.references_read")]
    PprlReferencesRead,
    #[serde(rename = "pprl.request")]
    PprlRequest,
    #[serde(rename = "pprl.answer")]
    PprlAnswer,
    #[serde(rename = "pprl.decline")]
    PprlDecline,
    /// The mediator dismissed a pair before asking either side for its record.
    #[serde(rename = "pprl.dismiss")]
    PprlDismiss,
    // ---- indicators and public statistics (issue 16) ----
    /// The mission dashboard's figures were read (aggregates only, no child).
    #[serde(rename = "indicators.read")]
    IndicatorsRead,
    /// A public statistics snapshot was published.
    #[serde(rename = "statistics.publish")]
    StatisticsPublish,
    /// Synthetic cases were loaded in bulk (benchmarks and demos only).
    #[serde(rename = "case.synthetic_load")]
    CaseSyntheticLoad,
    /// An observer exported a case's evidence bundle.
    #[serde(rename = "evidence.export")]
    EvidenceExport,
    // Exports (issue 16).
    #[serde(rename = "export.request")]
    ExportRequest,
    /// The export's job read the records and wrote the file (or failed).
    #[serde(rename = "export.make")]
    ExportMake,
    #[serde(rename = "export.download")]
    ExportDownload,
    /// The file was deleted when the export expired.
    #[serde(rename = "export.expire")]
    ExportExpire,
    // Operations (issue 19).
    /// `homeward backup` wrote an archive (who ran it, the file's SHA-256).
    #[serde(rename = "backup.create")]
    BackupCreate,
    /// `homeward restore` made this database from an archive (entered in the restored copy).
    #[serde(rename = "backup.restore")]
    BackupRestore,
    /// A page was drawn: one entry naming every read it showed (each read's action, target and
    /// the ids it handed out), instead of one entry per read.
    #[serde(rename = "page.view")]
    PageView,
}

impl AuditAction {
    pub fn code(self) -> &'static str {
        match self {
            Self::PartyCreate => "party.create",
            Self::UserCreate => "user.create",
            Self::UserUpdate => "user.update",
            Self::UserPasswordReset => "user.password_reset",
            Self::UserTotpEnable => "user.totp_enable",
            Self::Login => "auth.login",
            Self::LoginFailed => "auth.login_failed",
            Self::Logout => "auth.logout",
            Self::TokenCreate => "token.create",
            Self::TokenRevoke => "token.revoke",
            Self::RecordCreate => "record.create",
            Self::RecordRead => "record.read",
            Self::RecordList => "record.list",
            Self::RecordHistory => "record.history",
            Self::RecordUpdate => "record.update",
            Self::RecordDelete => "record.delete",
            Self::ImportCommit => "import.commit",
            Self::AuditRead => "audit.read",
            Self::MatchCandidateCreate => "match.candidate_create",
            Self::MatchCandidateRescore => "match.candidate_rescore",
            Self::MatchQueueRead => "match.queue_read",
            Self::MatchRead => "match.read",
            Self::MatchFirstConfirm => "match.first_confirm",
            Self::MatchConfirm => "match.confirm",
            Self::MatchReject => "match.reject",
            Self::CaseCreate => "case.create",
            Self::CaseJoin => "case.join",
            Self::CaseRead => "case.read",
            Self::LinkageTrain => "linkage.train",
            Self::CaseList => "case.list",
            Self::CaseHistory => "case.history",
            Self::CaseTransition => "case.transition",
            Self::CaseRevalidate => "case.revalidate",
            Self::VerificationRecord => "case.verification_record",
            Self::VerificationResolve => "case.verification_resolve",
            Self::ConsentRecord => "case.consent_record",
            Self::ConsentWithdraw => "case.consent_withdraw",
            Self::ChildViewsRecord => "case.child_views_record",
            Self::AssessmentRecord => "case.assessment_record",
            Self::DeterminationRecord => "case.determination_record",
            Self::DisclosureCreate => "disclosure.create",
            Self::DisclosureList => "disclosure.list",
            Self::TaskCreate => "task.create",
            Self::TaskList => "task.list",
            Self::TaskRead => "task.read",
            Self::TaskReport => "task.report",
            Self::TaskCancel => "task.cancel",
            Self::DuplicateCandidateCreate => "duplicate.candidate_create",
            Self::DuplicateQueueRead => "duplicate.queue_read",
            Self::DuplicateRead => "duplicate.read",
            Self::DuplicateDismiss => "duplicate.dismiss",
            Self::RecordMerge => "record.merge",
            Self::CaseRecordMerged => "case.record_merged",
            Self::AttachmentUpload => "attachment.upload",
            Self::AttachmentRead => "attachment.read",
            Self::AttachmentMetadataRead => "attachment.metadata_read",
            Self::AttachmentList => "attachment.list",
            Self::HandoverRecord => "case.handover_record",
            Self::CustodyChainRead => "case.custody_chain_read",
            Self::ReunificationRecord => "case.reunification_record",
            Self::ServiceRecord => "case.service_record",
            Self::FollowUpSchedule => "case.follow_up_schedule",
            Self::FollowUpReport => "case.follow_up_report",
            Self::FollowUpWaive => "case.follow_up_waive",
            Self::FollowUpList => "follow_up.list",
            Self::AccountabilityRecord => "accountability.record",
            Self::AccountabilityRead => "accountability.read",
            Self::AccountabilityList => "accountability.list",
            Self::TransferListCreate => "transfer_list.create",
            Self::TransferListChange => "transfer_list.change",
            Self::TransferListApprove => "transfer_list.approve",
            Self::TransferListRead => "transfer_list.read",
            Self::TransferListList => "transfer_list.list",
            Self::CaseListing => "case.listing",
            Self::TransferPlanCreate => "transfer_plan.create",
            Self::TransferPlanChange => "transfer_plan.change",
            Self::TransferPlanApprove => "transfer_plan.approve",
            Self::TransferPlanRead => "transfer_plan.read",
            Self::CaseTransferPlan => "case.transfer_plan",
            Self::RowsAdopted => "audit.rows_adopted",
            Self::PprlListUpload => "pprl.list_upload",
            Self::PprlListList => "pprl.list_list",
            Self::PprlRunCreate => "pprl.run_create",
            Self::PprlRunFinish => "pprl.run_finish",
            Self::PprlPairsRead => "pprl.pairs_read",
            Self::PprlReferencesRead => "pprl.references_read",
            Self::PprlRequest => "pprl.request",
            Self::PprlAnswer => "pprl.answer",
            Self::PprlDecline => "pprl.decline",
            Self::PprlDismiss => "pprl.dismiss",
            Self::IndicatorsRead => "indicators.read",
            Self::StatisticsPublish => "statistics.publish",
            Self::CaseSyntheticLoad => "case.synthetic_load",
            Self::EvidenceExport => "evidence.export",
            Self::ExportRequest => "export.request",
            Self::ExportMake => "export.make",
            Self::ExportDownload => "export.download",
            Self::ExportExpire => "export.expire",
            Self::BackupCreate => "backup.create",
            Self::BackupRestore => "backup.restore",
            Self::PageView => "page.view",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The member of an entry's details under which the store lists the rows the entry wrote, as
/// `[[row, hash], …]`: `row` names the row (`record/ID`, `record_version/ID/VERSION`, `case/ID`,
/// `case_version/ID/VERSION`) and `hash` is its [`crate::rowhash::row_hash`]. Inside the details,
/// so inside what the entry's own hash covers.
pub const WRITES_KEY: &str = "writes";

/// `details` with `key` set to the ids a read handed out, so that the entry names what was
/// read; details that are not an object are kept under `details` rather than dropped.
pub fn details_with_ids(
    details: serde_json::Value,
    key: &str,
    ids: Vec<String>,
) -> serde_json::Value {
    let mut obj = match details {
        serde_json::Value::Object(m) => m,
        serde_json::Value::Null => serde_json::Map::new(),
        other => serde_json::Map::from_iter([("details".to_owned(), other)]),
    };
    obj.insert(key.to_owned(), ids.into());
    serde_json::Value::Object(obj)
}

/// An audit entry before the store gives it its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditDraft {
    pub actor_user: Option<UserId>,
    pub actor_party: Option<PartyId>,
    pub action: AuditAction,
    /// e.g. `record`, `user`, `party`, `token`.
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    /// Where the request came from (client address), or `cli`.
    pub source: Option<String>,
    /// Extra facts (never names of children): counts, changed field names, reasons.
    pub details: serde_json::Value,
}

impl AuditDraft {
    pub fn new(action: AuditAction) -> Self {
        Self {
            actor_user: None,
            actor_party: None,
            action,
            target_kind: None,
            target_id: None,
            source: None,
            details: serde_json::Value::Null,
        }
    }
    pub fn target(mut self, kind: &str, id: impl ToString) -> Self {
        self.target_kind = Some(kind.to_owned());
        self.target_id = Some(id.to_string());
        self
    }
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }

    /// Seals the draft as entry `seq`, chained after `prev_hash`. Called by the store inside the
    /// transaction that holds the chain head.
    pub fn seal(self, seq: i64, at: DateTime<Utc>, prev_hash: &str) -> AuditEntry {
        let mut e = AuditEntry {
            seq,
            // Databases keep microseconds; hash exactly what will be read back.
            at: at.trunc_subsecs(6),
            actor_user: self.actor_user,
            actor_party: self.actor_party,
            action: self.action.code().to_owned(),
            target_kind: self.target_kind,
            target_id: self.target_id,
            source: self.source,
            details: self.details.to_string(),
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        e
    }
}

/// A sealed entry as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_user: Option<UserId>,
    pub actor_party: Option<PartyId>,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub source: Option<String>,
    /// JSON text, kept as text so the bytes hashed are the bytes stored.
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// The bytes the hash covers: every field but the hash, in a fixed order and encoding.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let canonical = serde_json::json!([
            self.seq,
            self.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            self.actor_user.map(|u| u.to_string()),
            self.actor_party.map(|p| p.to_string()),
            self.action,
            self.target_kind,
            self.target_id,
            self.source,
            self.details,
            self.prev_hash,
        ]);
        canonical.to_string().into_bytes()
    }

    /// The rows this entry wrote, as `(row, hash)` pairs, from the `writes` member its details
    /// carry (see [`WRITES_KEY`]); empty when it wrote none.
    pub fn writes(&self) -> Vec<(String, String)> {
        if !self.details.contains(WRITES_KEY) {
            return Vec::new();
        }
        let Ok(serde_json::Value::Object(d)) = serde_json::from_str(&self.details) else {
            return Vec::new();
        };
        let Some(serde_json::Value::Array(items)) = d.get(WRITES_KEY) else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|w| match w.as_array().map(Vec::as_slice) {
                Some([serde_json::Value::String(r), serde_json::Value::String(h)]) => {
                    Some((r.clone(), h.clone()))
                }
                _ => None,
            })
            .collect()
    }

    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.prev_hash.as_bytes());
        h.update(b"\n");
        h.update(self.canonical_bytes());
        hex::encode(h.finalize())
    }
}

/// Where and why a chain stops being trustworthy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("audit chain broken at entry {seq}: {reason}")]
pub struct ChainBreak {
    /// The first bad entry; for a stored row that differs, the entry that last wrote it (`0`
    /// when none did).
    pub seq: i64,
    pub reason: String,
    /// The stored row that differs from what the chain says was written (`record/ID`, …), when
    /// the break is in a row rather than in the log itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<String>,
}

/// Checks a chain incrementally, entry by entry, so that millions of entries can be verified
/// while streaming them from the store.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    anchor: Option<Anchor>,
}

/// A point of the chain written down outside the database (a signed checkpoint): entry `seq` had
/// hash `hash`. The head the store keeps can be rewound together with the entries it covers; an
/// anchor cannot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
            anchor: None,
        }
    }
}

impl ChainVerifier {
    /// A verifier that also proves the chain still extends `anchor`.
    pub fn anchored(anchor: Anchor) -> Self {
        Self {
            anchor: Some(anchor),
            ..Self::default()
        }
    }

    pub fn push(&mut self, e: &AuditEntry) -> Result<(), ChainBreak> {
        if e.seq != self.expected_seq {
            let reason = if e.seq > self.expected_seq {
                format!("entries {}..{} are missing", self.expected_seq, e.seq - 1)
            } else {
                format!("entry is out of order (expected {})", self.expected_seq)
            };
            return Err(ChainBreak {
                seq: self.expected_seq.min(e.seq),
                reason,
                row: None,
            });
        }
        if e.prev_hash != self.prev_hash {
            return Err(ChainBreak {
                seq: e.seq,
                reason: "its previous-hash does not match the entry before it (an entry was removed, reordered or altered)".into(),
                row: None,
            });
        }
        if e.compute_hash() != e.hash {
            return Err(ChainBreak {
                seq: e.seq,
                reason: "its content does not match its hash (the entry was altered)".into(),
                row: None,
            });
        }
        if let Some(a) = &self.anchor
            && a.seq == e.seq
            && a.hash != e.hash
        {
            return Err(ChainBreak {
                seq: e.seq,
                reason: format!(
                    "its hash is not the checkpoint's ({}): the history up to the checkpoint was rewritten",
                    a.hash
                ),
                row: None,
            });
        }
        self.expected_seq += 1;
        self.prev_hash = e.hash.clone();
        Ok(())
    }

    /// Compares the end of the chain with the head the store keeps, which catches entries removed
    /// from the end.
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<i64, ChainBreak> {
        let last = self.expected_seq - 1;
        if let Some(a) = &self.anchor
            && a.seq > last
        {
            return Err(ChainBreak {
                seq: last + 1,
                reason: format!(
                    "entries {}..{} are missing: the log ends at entry {last}, before the checkpoint's entry {} (the head was rewound)",
                    last + 1,
                    a.seq,
                    a.seq
                ),
                row: None,
            });
        }
        if last != head_seq || (head_seq > 0 && head_hash != self.prev_hash) {
            return Err(ChainBreak {
                seq: last + 1,
                reason: format!(
                    "the chain ends at entry {last} but the head records entry {head_seq}: entries were removed from the end"
                ),
                row: None,
            });
        }
        Ok(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let e = AuditDraft::new(AuditAction::RecordRead)
                    .target("record", seq)
                    .details(serde_json::json!({"n": seq}))
                    .seal(seq, Utc::now(), &prev);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn verify(entries: &[AuditEntry]) -> Result<i64, ChainBreak> {
        let mut v = ChainVerifier::default();
        for e in entries {
            v.push(e)?;
        }
        let (s, h) = entries
            .last()
            .map(|e| (e.seq, e.hash.clone()))
            .unwrap_or((0, GENESIS_HASH.into()));
        v.finish(s, &h)
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify(&chain(5)).unwrap(), 5);
        assert_eq!(verify(&[]).unwrap(), 0);
    }

    #[test]
    fn altering_removing_or_reordering_is_caught_at_the_first_bad_entry() {
        let mut c = chain(5);
        c[2].details = r#"{"n":99}"#.into();
        assert_eq!(verify(&c).unwrap_err().seq, 3);

        let mut c = chain(5);
        c.remove(1);
        assert_eq!(verify(&c).unwrap_err().seq, 2);

        let mut c = chain(5);
        c.swap(1, 2);
        assert_eq!(verify(&c).unwrap_err().seq, 2);

        // Renumbering after a removal still breaks the previous-hash link.
        let mut c = chain(5);
        c.remove(1);
        for (i, e) in c.iter_mut().enumerate() {
            e.seq = i as i64 + 1;
        }
        assert_eq!(verify(&c).unwrap_err().seq, 2);
    }

    #[test]
    fn truncating_the_tail_is_caught_by_the_head() {
        let c = chain(5);
        let mut v = ChainVerifier::default();
        for e in &c[..3] {
            v.push(e).unwrap();
        }
        assert_eq!(v.finish(5, &c[4].hash).unwrap_err().seq, 4);
    }

    #[test]
    fn an_anchor_catches_a_rewound_head_and_a_rewritten_history() {
        let c = chain(5);
        let anchor = Anchor {
            seq: 5,
            hash: c[4].hash.clone(),
        };
        // Intact: the chain still extends the anchor.
        let mut v = ChainVerifier::anchored(anchor.clone());
        for e in &c {
            v.push(e).unwrap();
        }
        assert_eq!(v.finish(5, &c[4].hash).unwrap(), 5);

        // The last two entries removed and the head rewound to entry 3: consistent without the
        // anchor, caught with it, naming the missing range.
        let mut v = ChainVerifier::anchored(anchor.clone());
        for e in &c[..3] {
            v.push(e).unwrap();
        }
        let b = v.finish(3, &c[2].hash).unwrap_err();
        assert_eq!(b.seq, 4);
        assert!(
            b.reason.contains("entries 4..5 are missing"),
            "{}",
            b.reason
        );

        // The whole chain rewritten from entry 2 on (re-sealed, so every link holds).
        let mut forged = c[..1].to_vec();
        let mut prev = c[0].hash.clone();
        for seq in 2..=5 {
            let e = AuditDraft::new(AuditAction::RecordRead)
                .details(serde_json::json!({"forged": seq}))
                .seal(seq, Utc::now(), &prev);
            prev = e.hash.clone();
            forged.push(e);
        }
        assert_eq!(verify(&forged).unwrap(), 5);
        let mut v = ChainVerifier::anchored(anchor);
        let b = forged.iter().try_for_each(|e| v.push(e)).unwrap_err();
        assert_eq!(b.seq, 5);
    }

    #[test]
    fn writes_are_read_from_the_details() {
        let e = AuditDraft::new(AuditAction::RecordCreate)
            .details(serde_json::json!({"kind": "custody", "writes": [["record/x", "ab"], ["record_version/x/1", "cd"]]}))
            .seal(1, Utc::now(), GENESIS_HASH);
        assert_eq!(
            e.writes(),
            vec![
                ("record/x".to_owned(), "ab".to_owned()),
                ("record_version/x/1".to_owned(), "cd".to_owned())
            ]
        );
        let e = AuditDraft::new(AuditAction::Login).seal(1, Utc::now(), GENESIS_HASH);
        assert!(e.writes().is_empty());
    }

    #[test]
    fn attachment_codes_match_their_serde_names() {
        for a in [
            AuditAction::AttachmentUpload,
            AuditAction::AttachmentRead,
            AuditAction::AttachmentMetadataRead,
            AuditAction::AttachmentList,
        ] {
            assert_eq!(serde_json::to_value(a).unwrap(), a.code());
        }
        assert_eq!(AuditAction::AttachmentRead.code(), "attachment.read");
    }

    #[test]
    fn timestamps_are_hashed_at_microsecond_precision() {
        let e = AuditDraft::new(AuditAction::Login).seal(1, Utc::now(), GENESIS_HASH);
        assert_eq!(e.at.timestamp_subsec_nanos() % 1000, 0);
        assert_eq!(e.compute_hash(), e.hash);
    }
}
