//! Transfer lists and transfer plans: the negotiated rounds in which children go home, and how
//! each group of them travels.
//!
//! A list is drafted by the mediator between one origin party and one custody party, proposed,
//! and approved by each party *by its content hash*: the SHA-256 of the entries still on the list
//! and their directions, in a canonical order. Any change to that content before the list is
//! fixed voids the approvals, so nobody can be held to a list they did not see. Once fixed, a
//! withdrawal is recorded without voiding anything: the other children still travel.
//!
//! ```text
//! draft → proposed → approved (by both) → fixed → in_progress → completed
//! ```

use crate::case::ListEntry;
use crate::error::{FieldError, ValidationErrors};
use crate::ids::{CaseId, LegId, PartyId, RecordId, TransferListId, TransferPlanId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::fmt;

const ROUND_MAX: usize = 200;
const TEXT_MAX: usize = 2_000;

/// Which way a child travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Home: from the custody side to the origin side.
    ToOrigin,
    /// To the custody side (a child held on the origin side, or a family living there).
    ToCustody,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ToOrigin => "to_origin",
            Self::ToCustody => "to_custody",
        }
    }
}

/// The two parties a list is negotiated between.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Origin,
    Custody,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Origin => "origin",
            Self::Custody => "custody",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ListState {
    Draft,
    Proposed,
    /// Both parties approved the current content hash.
    Approved,
    /// Agreed and closed to changes other than withdrawals.
    Fixed,
    InProgress,
    Completed,
}

impl ListState {
    pub const ALL: [ListState; 6] = [
        Self::Draft,
        Self::Proposed,
        Self::Approved,
        Self::Fixed,
        Self::InProgress,
        Self::Completed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Proposed => "proposed",
            Self::Approved => "approved",
            Self::Fixed => "fixed",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
        }
    }

    /// Whether the content may still change (and approvals therefore still be voided).
    pub fn is_negotiable(self) -> bool {
        matches!(self, Self::Draft | Self::Proposed | Self::Approved)
    }
}

impl fmt::Display for ListState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a child was taken off a list. The entry stays, so the record shows who was on the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EntryWithdrawal {
    pub at: DateTime<Utc>,
    pub by: UserId,
    pub reason: String,
}

/// One child on a list: the case, both sides' record ids (so each party can be shown its own),
/// and the direction of travel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransferListEntry {
    pub case_id: CaseId,
    pub tracing_request: RecordId,
    pub custody_record: RecordId,
    pub direction: Direction,
    pub added_at: DateTime<Utc>,
    pub added_by: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawal: Option<EntryWithdrawal>,
}

impl TransferListEntry {
    pub fn is_active(&self) -> bool {
        self.withdrawal.is_none()
    }

    /// The record this side filed about the child: the only id of it that side may see.
    pub fn record_of(&self, side: Side) -> RecordId {
        match side {
            Side::Origin => self.tracing_request,
            Side::Custody => self.custody_record,
        }
    }
}

/// A party's approval of one exact content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListApproval {
    pub side: Side,
    pub hash: String,
    pub by: UserId,
    pub at: DateTime<Utc>,
}

/// An approval that a later change voided, kept so the negotiation can be reconstructed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VoidedApproval {
    pub approval: ListApproval,
    pub voided_at: DateTime<Utc>,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransferList {
    pub id: TransferListId,
    /// The round's name as negotiated, e.g. "Round 7 (March)".
    pub round: String,
    pub origin_party: PartyId,
    pub custody_party: PartyId,
    pub state: ListState,
    #[serde(default)]
    pub entries: Vec<TransferListEntry>,
    /// The approvals in force (of the current hash).
    #[serde(default)]
    pub approvals: Vec<ListApproval>,
    #[serde(default)]
    pub voided_approvals: Vec<VoidedApproval>,
    pub created_at: DateTime<Utc>,
    pub created_by: UserId,
}

/// Why a change to a list or plan was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransferRefused {
    #[error("invalid input: {0}")]
    Invalid(ValidationErrors),
    #[error("the list's content changed since it was read: it now hashes to {current}")]
    StaleHash { current: String },
    #[error("the list is {state}: it cannot be {action}")]
    ListState {
        state: ListState,
        action: &'static str,
    },
    #[error("the case is already on the list in that direction")]
    AlreadyOnList,
    #[error("the case is on another transfer list that is not completed")]
    OnAnotherList,
    #[error("the case is not on the list (or was withdrawn from it)")]
    NotOnList,
    #[error("this side already approved the list's current content")]
    AlreadyApproved,
    #[error("the list has no entry to propose")]
    EmptyList,
    #[error("the plan cannot be approved: {}", crate::plan_gap::plan_gap_sentences(.0))]
    PlanNotReady(Vec<crate::plan_gap::PlanGap>),
    #[error("the plan is already approved")]
    PlanAlreadyApproved,
}

impl TransferRefused {
    /// Stable, machine-readable.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::StaleHash { .. } => "stale_list_hash",
            Self::ListState { .. } => "transfer_list_state",
            Self::AlreadyOnList => "already_on_list",
            Self::OnAnotherList => "on_another_list",
            Self::NotOnList => "not_on_list",
            Self::AlreadyApproved => "already_approved",
            Self::EmptyList => "transfer_list_empty",
            Self::PlanNotReady(_) => "plan_not_ready",
            Self::PlanAlreadyApproved => "plan_already_approved",
        }
    }
}

impl From<ValidationErrors> for TransferRefused {
    fn from(e: ValidationErrors) -> Self {
        Self::Invalid(e)
    }
}

impl From<FieldError> for TransferRefused {
    fn from(e: FieldError) -> Self {
        Self::Invalid(ValidationErrors(vec![e]))
    }
}

fn required_text(field: &str, v: &str, max: usize) -> Result<String, FieldError> {
    let t = v.trim();
    if t.is_empty() {
        Err(FieldError::new(field, "required", "must not be empty"))
    } else if t.chars().count() > max {
        Err(FieldError::new(
            field,
            "too_long",
            format!("at most {max} characters"),
        ))
    } else {
        Ok(t.to_owned())
    }
}

/// The content hash of a list: SHA-256 over one line per entry still on it, `case-id direction`,
/// sorted by case id. Withdrawn entries are left out (they do not travel), and the order the
/// mediator added them in does not matter, so the same children in the same directions always
/// hash the same.
pub fn content_hash(entries: &[TransferListEntry]) -> String {
    let mut lines: Vec<(CaseId, Direction)> = entries
        .iter()
        .filter(|e| e.is_active())
        .map(|e| (e.case_id, e.direction))
        .collect();
    lines.sort();
    let mut h = Sha256::new();
    h.update(b"homeward transfer list v1\n");
    for (case, direction) in lines {
        h.update(format!("{case} {}\n", direction.as_str()).as_bytes());
    }
    hex::encode(h.finalize())
}

impl TransferList {
    pub fn new(
        id: TransferListId,
        round: &str,
        origin_party: PartyId,
        custody_party: PartyId,
        by: UserId,
        at: DateTime<Utc>,
    ) -> Result<Self, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let round = errs.take(required_text("round", round, ROUND_MAX));
        if origin_party == custody_party {
            errs.push(FieldError::new(
                "custody_party",
                "same_party",
                "a list is negotiated between two different parties",
            ));
        }
        errs.into_result(|| Self {
            id,
            round: round.unwrap_or_default(),
            origin_party,
            custody_party,
            state: ListState::Draft,
            entries: Vec::new(),
            approvals: Vec::new(),
            voided_approvals: Vec::new(),
            created_at: at,
            created_by: by,
        })
    }

    pub fn hash(&self) -> String {
        content_hash(&self.entries)
    }

    pub fn active_entries(&self) -> impl Iterator<Item = &TransferListEntry> {
        self.entries.iter().filter(|e| e.is_active())
    }

    pub fn entry(&self, case: CaseId) -> Option<&TransferListEntry> {
        self.entries.iter().find(|e| e.case_id == case)
    }

    /// Which side a party is on this list, if it is on it at all.
    pub fn side_of(&self, party: PartyId) -> Option<Side> {
        if party == self.origin_party {
            Some(Side::Origin)
        } else if party == self.custody_party {
            Some(Side::Custody)
        } else {
            None
        }
    }

    /// The side's approval in force, if any.
    pub fn approval(&self, side: Side) -> Option<&ListApproval> {
        let hash = self.hash();
        self.approvals
            .iter()
            .find(|a| a.side == side && a.hash == hash)
    }

    pub fn approved_by_both(&self) -> bool {
        self.approval(Side::Origin).is_some() && self.approval(Side::Custody).is_some()
    }

    /// What the case's own reference to this list should say now: `None` when the child is not
    /// (or no longer) on it.
    pub fn case_listing(&self, case: CaseId) -> Option<ListEntry> {
        self.entry(case)
            .filter(|e| e.is_active())
            .map(|_| ListEntry {
                list_ref: self.id.to_string(),
                origin_approved_at: self.approval(Side::Origin).map(|a| a.at),
                custody_approved_at: self.approval(Side::Custody).map(|a| a.at),
            })
    }

    fn negotiable(&self, action: &'static str) -> Result<(), TransferRefused> {
        if self.state.is_negotiable() {
            Ok(())
        } else {
            Err(TransferRefused::ListState {
                state: self.state,
                action,
            })
        }
    }

    /// Moves every approval in force to the voided ones; an approved list is proposed again.
    fn void_approvals(&mut self, at: DateTime<Utc>, reason: &str) {
        for approval in self.approvals.drain(..) {
            self.voided_approvals.push(VoidedApproval {
                approval,
                voided_at: at,
                reason: reason.to_owned(),
            });
        }
        if self.state == ListState::Approved {
            self.state = ListState::Proposed;
        }
    }

    /// Puts a case on the list, changes its direction if it is on it already, or puts back one
    /// that was withdrawn. Only while the list is negotiated; voids approvals.
    pub fn add_entry(
        &mut self,
        entry: TransferListEntry,
        at: DateTime<Utc>,
    ) -> Result<(), TransferRefused> {
        self.negotiable("changed")?;
        match self.entries.iter_mut().find(|e| e.case_id == entry.case_id) {
            Some(e) if e.is_active() && e.direction == entry.direction => {
                return Err(TransferRefused::AlreadyOnList);
            }
            Some(e) if e.is_active() => e.direction = entry.direction,
            Some(e) => *e = entry,
            None => self.entries.push(entry),
        }
        self.void_approvals(at, "the entries changed");
        Ok(())
    }

    /// Takes an entry off a draft entirely (added by mistake). Once proposed, the parties have
    /// seen it: withdraw it instead, so the record shows why it went.
    pub fn remove_entry(&mut self, case: CaseId) -> Result<(), TransferRefused> {
        if self.state != ListState::Draft {
            return Err(TransferRefused::ListState {
                state: self.state,
                action: "edited by removing entries (withdraw the entry instead)",
            });
        }
        let before = self.entries.len();
        self.entries.retain(|e| e.case_id != case);
        if self.entries.len() == before {
            return Err(TransferRefused::NotOnList);
        }
        Ok(())
    }

    /// Withdraws a child, at any point before the list is completed. Before the list is fixed,
    /// this changes what the parties agree to, so it voids their approvals; after, the list is
    /// agreed and the others still travel, so it is recorded without voiding anything.
    /// Returns whether approvals were voided.
    pub fn withdraw_entry(
        &mut self,
        case: CaseId,
        reason: &str,
        by: UserId,
        at: DateTime<Utc>,
    ) -> Result<bool, TransferRefused> {
        if self.state == ListState::Completed {
            return Err(TransferRefused::ListState {
                state: self.state,
                action: "changed",
            });
        }
        let reason = required_text("reason", reason, TEXT_MAX)?;
        let e = self
            .entries
            .iter_mut()
            .find(|e| e.case_id == case && e.is_active())
            .ok_or(TransferRefused::NotOnList)?;
        e.withdrawal = Some(EntryWithdrawal { at, by, reason });
        let voids = self.state.is_negotiable() && !self.approvals.is_empty();
        if self.state.is_negotiable() {
            self.void_approvals(at, "an entry was withdrawn");
        }
        Ok(voids)
    }

    pub fn propose(&mut self) -> Result<(), TransferRefused> {
        if self.state != ListState::Draft {
            return Err(TransferRefused::ListState {
                state: self.state,
                action: "proposed",
            });
        }
        if self.active_entries().next().is_none() {
            return Err(TransferRefused::EmptyList);
        }
        self.state = ListState::Proposed;
        Ok(())
    }

    /// One side approves the content it was shown, named by its hash.
    pub fn approve(
        &mut self,
        side: Side,
        hash: &str,
        by: UserId,
        at: DateTime<Utc>,
    ) -> Result<(), TransferRefused> {
        if !matches!(self.state, ListState::Proposed | ListState::Approved) {
            return Err(TransferRefused::ListState {
                state: self.state,
                action: "approved",
            });
        }
        let current = self.hash();
        if hash.trim() != current {
            return Err(TransferRefused::StaleHash { current });
        }
        if self.approval(side).is_some() {
            return Err(TransferRefused::AlreadyApproved);
        }
        self.approvals.push(ListApproval {
            side,
            hash: current,
            by,
            at,
        });
        if self.approved_by_both() {
            self.state = ListState::Approved;
        }
        Ok(())
    }

    fn step(
        &mut self,
        from: ListState,
        to: ListState,
        action: &'static str,
    ) -> Result<(), TransferRefused> {
        if self.state != from {
            return Err(TransferRefused::ListState {
                state: self.state,
                action,
            });
        }
        self.state = to;
        Ok(())
    }

    /// Closes the list to changes: only once both sides approved its current content.
    pub fn fix(&mut self) -> Result<(), TransferRefused> {
        if self.state == ListState::Approved && !self.approved_by_both() {
            // Cannot happen through the methods above; refuse rather than fix an unagreed list.
            return Err(TransferRefused::ListState {
                state: ListState::Proposed,
                action: "fixed",
            });
        }
        self.step(ListState::Approved, ListState::Fixed, "fixed")
    }

    pub fn start(&mut self) -> Result<(), TransferRefused> {
        self.step(ListState::Fixed, ListState::InProgress, "started")
    }

    pub fn complete(&mut self) -> Result<(), TransferRefused> {
        self.step(ListState::InProgress, ListState::Completed, "completed")
    }

    /// The list as one side sees it: its own record ids and the directions, nothing else.
    pub fn view_for(&self, side: Side, version: i64) -> PartyListView {
        let mut entries: Vec<PartyEntry> = self
            .active_entries()
            .map(|e| PartyEntry {
                record_id: e.record_of(side),
                direction: e.direction,
            })
            .collect();
        entries.sort_by_key(|e| e.record_id);
        PartyListView {
            id: self.id,
            round: self.round.clone(),
            state: self.state,
            hash: self.hash(),
            version,
            entries,
            approved: self.approval(side).cloned(),
        }
    }
}

/// One child as a party sees it on a list: the party's own record and the direction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartyEntry {
    pub record_id: RecordId,
    pub direction: Direction,
}

/// What an origin or custody party sees of a list it is on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartyListView {
    pub id: TransferListId,
    pub round: String,
    pub state: ListState,
    /// Approve this hash to approve exactly these entries.
    pub hash: String,
    pub version: i64,
    pub entries: Vec<PartyEntry>,
    /// This side's own approval in force, if it has approved the content as it is now. The other
    /// side's approval is not shown: each side answers the mediator, not the other side.
    pub approved: Option<ListApproval>,
}

/// A child whose direction changed between two versions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DirectionChange {
    pub case_id: CaseId,
    pub tracing_request: RecordId,
    pub custody_record: RecordId,
    pub from: Direction,
    pub to: Direction,
}

/// What changed between two versions of a list's content.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListDiff {
    /// On the newer version and not on the older one (or withdrawn there).
    pub added: Vec<TransferListEntry>,
    /// On the older version and gone from the newer one (removed from a draft).
    pub removed: Vec<TransferListEntry>,
    pub direction_changed: Vec<DirectionChange>,
    /// On the older version and withdrawn in the newer one, with the reason.
    pub withdrawn: Vec<TransferListEntry>,
}

impl ListDiff {
    pub fn between(old: &TransferList, new: &TransferList) -> Self {
        let mut d = Self::default();
        for e in &new.entries {
            let before = old.entry(e.case_id);
            let was_active = before.is_some_and(TransferListEntry::is_active);
            match (was_active, e.is_active()) {
                (false, true) => d.added.push(e.clone()),
                (true, false) => d.withdrawn.push(e.clone()),
                (true, true) => {
                    if let Some(b) = before.filter(|b| b.direction != e.direction) {
                        d.direction_changed.push(DirectionChange {
                            case_id: e.case_id,
                            tracing_request: e.tracing_request,
                            custody_record: e.custody_record,
                            from: b.direction,
                            to: e.direction,
                        });
                    }
                }
                (false, false) => {}
            }
        }
        d.removed = old
            .active_entries()
            .filter(|e| new.entry(e.case_id).is_none())
            .cloned()
            .collect();
        d
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.direction_changed.is_empty()
            && self.withdrawn.is_empty()
    }

    /// The same diff in one side's terms: its own record ids, directions, nothing else.
    pub fn for_side(&self, side: Side) -> PartyListDiff {
        let own = |es: &[TransferListEntry]| {
            es.iter()
                .map(|e| PartyEntry {
                    record_id: e.record_of(side),
                    direction: e.direction,
                })
                .collect()
        };
        PartyListDiff {
            added: own(&self.added),
            removed: own(&self.removed),
            direction_changed: self
                .direction_changed
                .iter()
                .map(|c| PartyDirectionChange {
                    record_id: match side {
                        Side::Origin => c.tracing_request,
                        Side::Custody => c.custody_record,
                    },
                    from: c.from,
                    to: c.to,
                })
                .collect(),
            withdrawn: own(&self.withdrawn),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartyDirectionChange {
    pub record_id: RecordId,
    pub from: Direction,
    pub to: Direction,
}

/// A diff as one side sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartyListDiff {
    pub added: Vec<PartyEntry>,
    pub removed: Vec<PartyEntry>,
    pub direction_changed: Vec<PartyDirectionChange>,
    pub withdrawn: Vec<PartyEntry>,
}

// ---- transfer plans ------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TravelMode {
    Road,
    Rail,
    Air,
    Foot,
    Other,
}

impl TravelMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Road => "road",
            Self::Rail => "rail",
            Self::Air => "air",
            Self::Foot => "foot",
            Self::Other => "other",
        }
    }
}

/// One change to a leg: which field, from what, to what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldChange {
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// A leg's change as recorded: what changed, why, who, when, and whether it voided the plan's
/// approval.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LegChange {
    pub at: DateTime<Utc>,
    pub by: UserId,
    pub reason: String,
    pub changes: Vec<FieldChange>,
    pub voided_approval: bool,
}

/// One leg of the route. It shows its latest values; every change is in `history`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Leg {
    pub id: LegId,
    pub from: String,
    pub to: String,
    pub mode: TravelMode,
    pub planned_departure: DateTime<Utc>,
    pub planned_arrival: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_departure: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_arrival: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    #[serde(default)]
    pub history: Vec<LegChange>,
}

/// A change to a leg; absent fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LegUpdate {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub mode: Option<TravelMode>,
    #[serde(default)]
    pub planned_departure: Option<DateTime<Utc>>,
    #[serde(default)]
    pub planned_arrival: Option<DateTime<Utc>>,
    #[serde(default)]
    pub actual_departure: Option<DateTime<Utc>>,
    #[serde(default)]
    pub actual_arrival: Option<DateTime<Utc>>,
    #[serde(default)]
    pub carrier: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EscortKind {
    Relative,
    Diplomat,
    NgoWorker,
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Escort {
    pub kind: EscortKind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<PartyId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Passport,
    BirthCertificate,
    TravelDocument,
    Other,
}

impl DocumentKind {
    /// Stable, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passport => "passport",
            Self::BirthCertificate => "birth_certificate",
            Self::TravelDocument => "travel_document",
            Self::Other => "other",
        }
    }
}

/// A document one child needs for the journey.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TravelDocument {
    pub case_id: CaseId,
    pub kind: DocumentKind,
    pub ready: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Cost {
    /// In the currency's minor unit (cents, kopecks), so no rounding creeps into the totals.
    pub amount_minor: i64,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    pub funded_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanApproval {
    pub by: UserId,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VoidedPlanApproval {
    pub approval: PlanApproval,
    pub voided_at: DateTime<Utc>,
    pub reason: String,
}

/// How a group of children on a fixed list travel together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TravelPlan {
    pub id: TransferPlanId,
    pub list_id: TransferListId,
    /// The children travelling together (entries of the list).
    pub cases: Vec<CaseId>,
    #[serde(default)]
    pub legs: Vec<Leg>,
    #[serde(default)]
    pub escorts: Vec<Escort>,
    #[serde(default)]
    pub documents: Vec<TravelDocument>,
    #[serde(default)]
    pub costs: Vec<Cost>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<PlanApproval>,
    #[serde(default)]
    pub voided_approvals: Vec<VoidedPlanApproval>,
    pub created_at: DateTime<Utc>,
    pub created_by: UserId,
}

/// Place names as clerks type them: the same place whatever the spacing or case.
fn same_place(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    norm(a) == norm(b)
}

fn valid_currency(c: &str) -> bool {
    c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())
}

impl TravelPlan {
    pub fn new(
        id: TransferPlanId,
        list_id: TransferListId,
        cases: Vec<CaseId>,
        by: UserId,
        at: DateTime<Utc>,
    ) -> Result<Self, ValidationErrors> {
        let plan = Self {
            id,
            list_id,
            cases,
            legs: Vec::new(),
            escorts: Vec::new(),
            documents: Vec::new(),
            costs: Vec::new(),
            approval: None,
            voided_approvals: Vec::new(),
            created_at: at,
            created_by: by,
        };
        plan.validate()?;
        Ok(plan)
    }

    /// Every problem with the plan's content, each naming its field.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        if self.cases.is_empty() {
            errs.push(FieldError::new(
                "cases",
                "required",
                "a plan covers at least one child",
            ));
        }
        let distinct: BTreeSet<CaseId> = self.cases.iter().copied().collect();
        if distinct.len() != self.cases.len() {
            errs.push(FieldError::new(
                "cases",
                "duplicate",
                "a child is listed twice",
            ));
        }
        for (i, l) in self.legs.iter().enumerate() {
            let f = |name: &str| format!("legs[{i}].{name}");
            for (name, v) in [("from", &l.from), ("to", &l.to)] {
                errs.take(required_text(&f(name), v, ROUND_MAX));
            }
            if same_place(&l.from, &l.to) {
                errs.push(FieldError::new(
                    f("to"),
                    "same_place",
                    "a leg goes somewhere else",
                ));
            }
            if l.planned_arrival <= l.planned_departure {
                errs.push(FieldError::new(
                    f("planned_arrival"),
                    "before_departure",
                    "the planned arrival must be after the planned departure",
                ));
            }
            if let (Some(d), Some(a)) = (l.actual_departure, l.actual_arrival)
                && a < d
            {
                errs.push(FieldError::new(
                    f("actual_arrival"),
                    "before_departure",
                    "the actual arrival cannot be before the actual departure",
                ));
            }
            if let Some(c) = &l.carrier {
                errs.take(required_text(&f("carrier"), c, ROUND_MAX));
            }
            if let Some(prev) = i.checked_sub(1).and_then(|p| self.legs.get(p)) {
                if !same_place(&prev.to, &l.from) {
                    errs.push(FieldError::new(
                        f("from"),
                        "legs_not_chained",
                        format!(
                            "leg {} starts from {:?} but leg {} ends at {:?}",
                            i + 1,
                            l.from,
                            i,
                            prev.to
                        ),
                    ));
                }
                if l.planned_departure < prev.planned_arrival {
                    errs.push(FieldError::new(
                        f("planned_departure"),
                        "before_previous_arrival",
                        format!("leg {} departs before leg {} arrives", i + 1, i),
                    ));
                }
            }
        }
        for (i, e) in self.escorts.iter().enumerate() {
            errs.take(required_text(
                &format!("escorts[{i}].name"),
                &e.name,
                ROUND_MAX,
            ));
        }
        for (i, d) in self.documents.iter().enumerate() {
            if !self.cases.contains(&d.case_id) {
                errs.push(FieldError::new(
                    format!("documents[{i}].case_id"),
                    "not_in_plan",
                    "the child is not in this plan",
                ));
            }
            if let Some(n) = &d.note {
                errs.take(required_text(&format!("documents[{i}].note"), n, TEXT_MAX));
            }
        }
        for (i, c) in self.costs.iter().enumerate() {
            if c.amount_minor <= 0 {
                errs.push(FieldError::new(
                    format!("costs[{i}].amount_minor"),
                    "out_of_range",
                    "a cost is a positive amount in minor units",
                ));
            }
            if !valid_currency(&c.currency) {
                errs.push(FieldError::new(
                    format!("costs[{i}].currency"),
                    "invalid_currency",
                    "an ISO 4217 code: three capital letters, e.g. EUR",
                ));
            }
            errs.take(required_text(
                &format!("costs[{i}].funded_by"),
                &c.funded_by,
                ROUND_MAX,
            ));
        }
        errs.into_result(|| ())
    }

    fn void_approval(&mut self, at: DateTime<Utc>, reason: &str) -> bool {
        match self.approval.take() {
            Some(approval) => {
                self.voided_approvals.push(VoidedPlanApproval {
                    approval,
                    voided_at: at,
                    reason: reason.to_owned(),
                });
                true
            }
            None => false,
        }
    }

    /// Appends a leg; the route changed, so an approval is voided. Returns whether it was.
    pub fn add_leg(&mut self, leg: Leg, at: DateTime<Utc>) -> Result<bool, TransferRefused> {
        let mut next = self.clone();
        next.legs.push(leg);
        next.validate()?;
        let voided = next.void_approval(at, "a leg was added");
        *self = next;
        Ok(voided)
    }

    /// Changes a leg, keeping what it was in the leg's history. Recording actual times (the leg
    /// left or arrived, late or not) keeps the approval: the journey is as planned, only later.
    /// Any change to the route itself (places, mode, planned times, carrier) voids it.
    /// Returns whether the approval was voided.
    pub fn update_leg(
        &mut self,
        leg: LegId,
        u: &LegUpdate,
        reason: &str,
        by: UserId,
        at: DateTime<Utc>,
    ) -> Result<bool, TransferRefused> {
        let reason = required_text("reason", reason, TEXT_MAX)?;
        let mut next = self.clone();
        let l = next
            .legs
            .iter_mut()
            .find(|l| l.id == leg)
            .ok_or_else(|| FieldError::new("leg", "unknown_leg", "the plan has no such leg"))?;
        let mut changes = Vec::new();
        let mut route = false;
        fn set<T: PartialEq + Clone + ToString>(
            changes: &mut Vec<FieldChange>,
            name: &str,
            slot: &mut T,
            new: Option<&T>,
        ) -> bool {
            match new {
                Some(v) if v != slot => {
                    changes.push(FieldChange {
                        field: name.to_owned(),
                        before: Some(slot.to_string()),
                        after: Some(v.to_string()),
                    });
                    *slot = v.clone();
                    true
                }
                _ => false,
            }
        }
        fn set_opt<T: PartialEq + Clone + ToString>(
            changes: &mut Vec<FieldChange>,
            name: &str,
            slot: &mut Option<T>,
            new: Option<&T>,
        ) -> bool {
            match new {
                Some(v) if slot.as_ref() != Some(v) => {
                    changes.push(FieldChange {
                        field: name.to_owned(),
                        before: slot.as_ref().map(ToString::to_string),
                        after: Some(v.to_string()),
                    });
                    *slot = Some(v.clone());
                    true
                }
                _ => false,
            }
        }
        let trimmed = |s: &Option<String>| s.as_deref().map(|v| v.trim().to_owned());
        route |= set(&mut changes, "from", &mut l.from, trimmed(&u.from).as_ref());
        route |= set(&mut changes, "to", &mut l.to, trimmed(&u.to).as_ref());
        let mut mode = l.mode.as_str().to_owned();
        if set(
            &mut changes,
            "mode",
            &mut mode,
            u.mode.map(|m| m.as_str().to_owned()).as_ref(),
        ) {
            route = true;
            if let Some(m) = u.mode {
                l.mode = m;
            }
        }
        route |= set(
            &mut changes,
            "planned_departure",
            &mut l.planned_departure,
            u.planned_departure.as_ref(),
        );
        route |= set(
            &mut changes,
            "planned_arrival",
            &mut l.planned_arrival,
            u.planned_arrival.as_ref(),
        );
        route |= set_opt(
            &mut changes,
            "carrier",
            &mut l.carrier,
            trimmed(&u.carrier).as_ref(),
        );
        set_opt(
            &mut changes,
            "actual_departure",
            &mut l.actual_departure,
            u.actual_departure.as_ref(),
        );
        set_opt(
            &mut changes,
            "actual_arrival",
            &mut l.actual_arrival,
            u.actual_arrival.as_ref(),
        );
        if changes.is_empty() {
            return Err(FieldError::new("leg", "no_change", "the update changes nothing").into());
        }
        let voided = route && next.approval.is_some();
        if let Some(l) = next.legs.iter_mut().find(|l| l.id == leg) {
            l.history.push(LegChange {
                at,
                by,
                reason,
                changes,
                voided_approval: voided,
            });
        }
        next.validate()?;
        if route {
            next.void_approval(at, "the route changed");
        }
        *self = next;
        Ok(voided)
    }

    /// Replaces the escorts; who travels with the children is part of what was approved.
    pub fn set_escorts(
        &mut self,
        escorts: Vec<Escort>,
        at: DateTime<Utc>,
    ) -> Result<bool, TransferRefused> {
        let escorts: Vec<Escort> = escorts
            .into_iter()
            .map(|e| Escort {
                name: e.name.trim().to_owned(),
                ..e
            })
            .collect();
        if escorts == self.escorts {
            return Ok(false);
        }
        let mut next = self.clone();
        next.escorts = escorts;
        next.validate()?;
        let voided = next.void_approval(at, "the escorts changed");
        *self = next;
        Ok(voided)
    }

    /// Replaces the documents; a document no longer ready voids the approval like any change.
    pub fn set_documents(
        &mut self,
        documents: Vec<TravelDocument>,
        at: DateTime<Utc>,
    ) -> Result<bool, TransferRefused> {
        if documents == self.documents {
            return Ok(false);
        }
        let mut next = self.clone();
        next.documents = documents;
        next.validate()?;
        let voided = next.void_approval(at, "the documents changed");
        *self = next;
        Ok(voided)
    }

    /// Replaces the costs. Who pays does not change how the children travel, so an approval
    /// stands.
    pub fn set_costs(&mut self, costs: Vec<Cost>) -> Result<(), TransferRefused> {
        let mut next = self.clone();
        next.costs = costs
            .into_iter()
            .map(|c| Cost {
                currency: c.currency.trim().to_owned(),
                funded_by: c.funded_by.trim().to_owned(),
                ..c
            })
            .collect();
        next.validate()?;
        *self = next;
        Ok(())
    }

    /// Approves the plan for travel; refused with what it still lacks
    /// ([`TravelPlan::missing_for_approval`]).
    pub fn approve(&mut self, by: UserId, at: DateTime<Utc>) -> Result<(), TransferRefused> {
        if self.approval.is_some() {
            return Err(TransferRefused::PlanAlreadyApproved);
        }
        let missing = self.missing_for_approval();
        if !missing.is_empty() {
            return Err(TransferRefused::PlanNotReady(missing));
        }
        self.approval = Some(PlanApproval { by, at });
        Ok(())
    }

    /// What a covered case's own reference to this plan should say now.
    pub fn case_plan(&self) -> crate::case::TransferPlan {
        crate::case::TransferPlan {
            plan_ref: self.id.to_string(),
            approved_at: self.approval.as_ref().map(|a| a.at),
            approved_by: self.approval.as_ref().map(|a| a.by),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, 0).unwrap()
    }

    fn entry(direction: Direction) -> TransferListEntry {
        TransferListEntry {
            case_id: CaseId::new(),
            tracing_request: RecordId::new(),
            custody_record: RecordId::new(),
            direction,
            added_at: t0(),
            added_by: UserId::new(),
            withdrawal: None,
        }
    }

    fn list() -> TransferList {
        TransferList::new(
            TransferListId::new(),
            "Round 7",
            PartyId::new(),
            PartyId::new(),
            UserId::new(),
            t0(),
        )
        .unwrap()
    }

    #[test]
    fn the_hash_ignores_order_and_withdrawn_entries_but_not_content() {
        let a = entry(Direction::ToOrigin);
        let b = entry(Direction::ToCustody);
        let h = content_hash(&[a.clone(), b.clone()]);
        assert_eq!(h.len(), 64);
        assert_eq!(h, content_hash(&[b.clone(), a.clone()]));
        let mut gone = b.clone();
        gone.withdrawal = Some(EntryWithdrawal {
            at: t0(),
            by: UserId::new(),
            reason: "ill".into(),
        });
        assert_eq!(
            content_hash(&[a.clone(), gone.clone()]),
            content_hash(std::slice::from_ref(&a))
        );
        assert_ne!(h, content_hash(&[a.clone(), gone]));
        let mut turned = b.clone();
        turned.direction = Direction::ToOrigin;
        assert_ne!(h, content_hash(&[a.clone(), turned]));
        // Who added an entry and when is not content: it does not change what is agreed.
        let mut later = a.clone();
        later.added_at = t0() + Duration::days(1);
        assert_eq!(h, content_hash(&[later, b]));
        assert_ne!(content_hash(&[]), h);
    }

    #[test]
    fn approvals_name_a_hash_and_any_change_voids_them() {
        let mut l = list();
        let a = entry(Direction::ToOrigin);
        l.add_entry(a.clone(), t0()).unwrap();
        assert!(matches!(
            l.approve(Side::Origin, &l.hash(), UserId::new(), t0()),
            Err(TransferRefused::ListState { .. })
        ));
        l.propose().unwrap();
        let err = l
            .approve(Side::Origin, "deadbeef", UserId::new(), t0())
            .unwrap_err();
        assert_eq!(err.code(), "stale_list_hash");
        l.approve(Side::Origin, &l.hash(), UserId::new(), t0())
            .unwrap();
        assert_eq!(
            l.approve(Side::Origin, &l.hash(), UserId::new(), t0()),
            Err(TransferRefused::AlreadyApproved)
        );
        assert_eq!(l.state, ListState::Proposed);
        l.approve(Side::Custody, &l.hash(), UserId::new(), t0())
            .unwrap();
        assert_eq!(l.state, ListState::Approved);
        let listing = l.case_listing(a.case_id).unwrap();
        assert!(listing.origin_approved_at.is_some() && listing.custody_approved_at.is_some());

        let old_hash = l.hash();
        l.add_entry(entry(Direction::ToCustody), t0()).unwrap();
        assert_eq!(l.state, ListState::Proposed);
        assert!(l.approvals.is_empty());
        assert_eq!(l.voided_approvals.len(), 2);
        assert_eq!(l.case_listing(a.case_id).unwrap().origin_approved_at, None);
        assert_eq!(
            l.approve(Side::Custody, &old_hash, UserId::new(), t0()),
            Err(TransferRefused::StaleHash { current: l.hash() })
        );
        assert_eq!(l.fix().unwrap_err().code(), "transfer_list_state");
    }

    #[test]
    fn withdrawal_voids_before_fixing_and_is_only_recorded_after() {
        let mut l = list();
        let a = entry(Direction::ToOrigin);
        let b = entry(Direction::ToCustody);
        l.add_entry(a.clone(), t0()).unwrap();
        l.add_entry(b.clone(), t0()).unwrap();
        l.propose().unwrap();
        for side in [Side::Origin, Side::Custody] {
            l.approve(side, &l.hash(), UserId::new(), t0()).unwrap();
        }
        assert!(
            l.withdraw_entry(a.case_id, "fever", UserId::new(), t0())
                .unwrap()
        );
        assert_eq!(l.state, ListState::Proposed);
        assert_eq!(l.case_listing(a.case_id), None);
        for side in [Side::Origin, Side::Custody] {
            l.approve(side, &l.hash(), UserId::new(), t0()).unwrap();
        }
        l.fix().unwrap();
        // Removing is for drafts only; a fixed list's entries are withdrawn.
        assert!(l.remove_entry(b.case_id).is_err());
        assert!(l.add_entry(entry(Direction::ToOrigin), t0()).is_err());
        let hash = l.hash();
        assert!(
            !l.withdraw_entry(b.case_id, "family moved", UserId::new(), t0())
                .unwrap()
        );
        assert_eq!(l.state, ListState::Fixed);
        assert_ne!(l.hash(), hash);
        assert_eq!(
            l.withdraw_entry(b.case_id, "again", UserId::new(), t0()),
            Err(TransferRefused::NotOnList)
        );
        assert_eq!(
            l.withdraw_entry(a.case_id, " ", UserId::new(), t0())
                .unwrap_err()
                .code(),
            "validation_failed"
        );
        l.start().unwrap();
        l.complete().unwrap();
        assert!(l.start().is_err());
    }

    #[test]
    fn diffs_and_party_views_show_each_side_only_its_own_records() {
        let mut l = list();
        let a = entry(Direction::ToOrigin);
        let b = entry(Direction::ToOrigin);
        let c = entry(Direction::ToCustody);
        l.add_entry(a.clone(), t0()).unwrap();
        l.add_entry(b.clone(), t0()).unwrap();
        l.add_entry(c.clone(), t0()).unwrap();
        let v1 = l.clone();
        l.remove_entry(c.case_id).unwrap();
        l.propose().unwrap();
        let mut turned = b.clone();
        turned.direction = Direction::ToCustody;
        l.add_entry(turned, t0()).unwrap();
        l.withdraw_entry(a.case_id, "ill", UserId::new(), t0())
            .unwrap();
        let d = l.clone();
        let d = ListDiff::between(&v1, &d);
        assert_eq!(d.removed.len(), 1);
        assert_eq!(d.removed[0].case_id, c.case_id);
        assert_eq!(d.withdrawn[0].case_id, a.case_id);
        assert_eq!(d.direction_changed[0].case_id, b.case_id);
        assert_eq!(d.direction_changed[0].to, Direction::ToCustody);
        assert!(d.added.is_empty());
        assert!(ListDiff::between(&l, &l).is_empty());
        let back = ListDiff::between(&l, &v1);
        assert_eq!(back.added.len(), 2);

        let o = d.for_side(Side::Origin);
        assert_eq!(o.withdrawn[0].record_id, a.tracing_request);
        assert_eq!(o.direction_changed[0].record_id, b.tracing_request);
        let view = l.view_for(Side::Custody, 4);
        assert_eq!(
            view.entries,
            [PartyEntry {
                record_id: b.custody_record,
                direction: Direction::ToCustody
            }]
        );
        assert_eq!(view.hash, l.hash());
        let text = serde_json::to_string(&view).unwrap();
        assert!(!text.contains(&b.tracing_request.to_string()));
        assert!(!text.contains(&b.case_id.to_string()));
    }

    fn leg(from: &str, to: &str, dep_h: i64, arr_h: i64) -> Leg {
        Leg {
            id: LegId::new(),
            from: from.into(),
            to: to.into(),
            mode: TravelMode::Road,
            planned_departure: t0() + Duration::hours(dep_h),
            planned_arrival: t0() + Duration::hours(arr_h),
            actual_departure: None,
            actual_arrival: None,
            carrier: None,
            history: vec![],
        }
    }

    fn plan() -> TravelPlan {
        TravelPlan::new(
            TransferPlanId::new(),
            TransferListId::new(),
            vec![CaseId::new()],
            UserId::new(),
            t0(),
        )
        .unwrap()
    }

    fn fields(r: Result<bool, TransferRefused>) -> Vec<(String, &'static str)> {
        match r {
            Err(TransferRefused::Invalid(v)) => {
                v.0.into_iter().map(|e| (e.field, e.code)).collect()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn legs_chain_and_run_forward() {
        let mut p = plan();
        p.add_leg(leg("Rostov", "Embassy", 0, 5), t0()).unwrap();
        assert_eq!(
            fields(p.add_leg(leg("Minsk", "Warsaw", 6, 10), t0())),
            [("legs[1].from".to_owned(), "legs_not_chained")]
        );
        assert_eq!(
            fields(p.add_leg(leg(" embassy ", "Border", 4, 3), t0())),
            [
                ("legs[1].planned_arrival".to_owned(), "before_departure"),
                (
                    "legs[1].planned_departure".to_owned(),
                    "before_previous_arrival"
                ),
            ]
        );
        assert_eq!(p.legs.len(), 1, "a refused leg is not added");
        p.add_leg(leg("embassy", "Border", 6, 9), t0()).unwrap();
        let bad_cost = p.set_costs(vec![Cost {
            amount_minor: 0,
            currency: "eur".into(),
            funded_by: "Mediator".into(),
            purpose: None,
        }]);
        let Err(TransferRefused::Invalid(v)) = bad_cost else {
            panic!("{bad_cost:?}")
        };
        let codes: Vec<&str> = v.0.iter().map(|e| e.code).collect();
        assert_eq!(codes, ["out_of_range", "invalid_currency"]);
    }

    #[test]
    fn approval_needs_escort_and_ready_documents_and_route_changes_void_it() {
        let mut p = plan();
        let case = p.cases[0];
        assert_eq!(
            p.approve(UserId::new(), t0()).unwrap_err().code(),
            "plan_not_ready"
        );
        p.add_leg(leg("Rostov", "Embassy", 0, 5), t0()).unwrap();
        p.set_escorts(
            vec![Escort {
                kind: EscortKind::Diplomat,
                name: " Consul ".into(),
                party: None,
            }],
            t0(),
        )
        .unwrap();
        assert_eq!(p.escorts[0].name, "Consul");
        p.set_documents(
            vec![TravelDocument {
                case_id: case,
                kind: DocumentKind::Passport,
                ready: false,
                note: None,
            }],
            t0(),
        )
        .unwrap();
        let Err(TransferRefused::PlanNotReady(why)) = p.approve(UserId::new(), t0()) else {
            panic!()
        };
        assert_eq!(why.len(), 1);
        assert!(why[0].to_string().contains("passport"), "{why:?}");
        assert_eq!(why[0].code(), "document_not_ready");
        let mut docs = p.documents.clone();
        docs[0].ready = true;
        p.set_documents(docs, t0()).unwrap();
        p.approve(UserId::new(), t0()).unwrap();
        assert!(p.case_plan().approved_at.is_some());

        // A late departure is recorded and keeps the approval; the old value stays in history.
        let id = p.legs[0].id;
        let late = LegUpdate {
            actual_departure: Some(t0() + Duration::hours(2)),
            ..Default::default()
        };
        assert!(
            !p.update_leg(id, &late, "checkpoint queue", UserId::new(), t0())
                .unwrap()
        );
        assert!(p.approval.is_some());
        assert_eq!(p.legs[0].history[0].changes[0].field, "actual_departure");
        assert_eq!(p.legs[0].history[0].changes[0].before, None);
        assert!(
            p.update_leg(id, &late, "same again", UserId::new(), t0())
                .is_err()
        );
        // A new destination is a different route: the approval is voided.
        let diverted = LegUpdate {
            to: Some("Consulate".into()),
            ..Default::default()
        };
        assert!(
            p.update_leg(id, &diverted, "embassy closed", UserId::new(), t0())
                .unwrap()
        );
        assert_eq!(p.approval, None);
        assert_eq!(p.voided_approvals.len(), 1);
        assert_eq!(p.legs[0].to, "Consulate");
        assert_eq!(p.legs[0].history.len(), 2);
        assert_eq!(
            p.legs[0].history[1].changes[0].before.as_deref(),
            Some("Embassy")
        );
        assert_eq!(p.case_plan().approved_at, None);
    }
}
