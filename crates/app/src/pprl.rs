//! Privacy-preserving linkage in the server (issue 17): the sides upload lists they encoded on
//! their own machines (`homeward pprl encode`), the mediator links two lists of one round in a
//! job, and the pairs found (references only) follow the path of [`PairState`]: the mediator asks
//! each side for the clear record of its own child in the pair, each side answers with a record it
//! filed (or declines), and once both clear records exist the pair is a candidate in the ordinary
//! review queue.
//!
//! Who sees what:
//! - a side sees its own lists and, for each, which of its own references are in pairs and what
//!   is asked of it; never the other side's references, never a score;
//! - the mediator's reviewers see the lists' metadata (no content) and each run's mapping of
//!   references; the linkage's scores are dropped by the job, never stored;
//! - the content of a list (encodings) is read only by the linkage job.

use crate::error::Conflict;
use crate::jobs::{JobActor, Lease};
use crate::{App, AppError, AppResult, Caller};
use chrono::{DateTime, SubsecRound, Utc};
use homeward_domain::pprl::{
    PairEvent, PairSide, PairState, PprlRefused, SideView, check_list_size, parse_round,
};
use homeward_domain::{
    AuditAction, ChildRecord, MatchId, PartyId, PartyKind, Permission, RecordId, RecordKind,
};
use homeward_linkage::pprl::{EncodedList, PprlError, PprlOptions, link_encoded};
use homeward_store::pprl::{
    PPRL_LINK, PairCandidate, PairChange, PprlLinkJob, PprlList, PprlPair, PprlRun, pprl_link_key,
};
use homeward_store::{JobState, NewCandidate, NewJob};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The smallest list taken by default: below it, a side could upload a handful of encodings to
/// probe whether one child is on the other side's list.
pub const DEFAULT_MIN_LIST_SIZE: usize = 50;
/// The largest list taken by default.
pub const DEFAULT_MAX_LIST_SIZE: usize = 1_000_000;
/// Pairs one request may name.
pub const MAX_REQUEST_PAIRS: usize = 10_000;

impl From<PprlRefused> for AppError {
    fn from(e: PprlRefused) -> Self {
        Self::PprlRefused(e)
    }
}

/// An encoded list as the mediator and its own side see it: what it is, never what it holds.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PprlListView {
    pub id: Uuid,
    pub party_id: PartyId,
    pub round: String,
    pub spec: String,
    pub key_id: String,
    pub records: i64,
    /// SHA-256 of the uploaded file, hex: the side can check the server holds what it sent.
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

impl From<PprlList> for PprlListView {
    fn from(l: PprlList) -> Self {
        Self {
            id: l.id,
            party_id: l.party_id,
            round: l.round,
            spec: l.spec,
            key_id: l.key_id,
            records: l.records,
            sha256: l.sha256,
            created_at: l.created_at,
        }
    }
}

/// A linkage run, for the mediator.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PprlRunView {
    pub id: Uuid,
    pub round: String,
    pub origin_list: Uuid,
    pub custody_list: Uuid,
    /// The linkage job's state: `queued`, `running`, `done` or `failed`.
    pub state: String,
    pub progress_done: i64,
    pub progress_total: i64,
    /// Why the job failed, when it did (a stable code).
    pub error_code: Option<String>,
    /// Pairs kept, once done.
    pub pairs: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// One pair of a run, for the mediator: references only, no score.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PprlPairView {
    pub id: Uuid,
    pub origin_reference: String,
    pub custody_reference: String,
    pub state: PairState,
    /// The clear records the sides submitted.
    pub tracing_record_id: Option<RecordId>,
    pub custody_record_id: Option<RecordId>,
    /// The candidate in the review queue, once both clear records exist.
    pub match_id: Option<MatchId>,
}

impl From<PprlPair> for PprlPairView {
    fn from(p: PprlPair) -> Self {
        Self {
            id: p.id,
            origin_reference: p.origin_ref,
            custody_reference: p.custody_ref,
            state: p.state,
            tracing_record_id: p.origin_record,
            custody_record_id: p.custody_record,
            match_id: p.match_id,
        }
    }
}

/// A run and the mapping it found.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PprlMapping {
    pub run: PprlRunView,
    pub pairs: Vec<PprlPairView>,
}

/// One of a side's own references in a pair: the other side's reference is never shown.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OwnReference {
    /// Names the pair when answering; says nothing of the other side.
    pub pair_id: Uuid,
    pub reference: String,
    pub status: SideView,
}

/// A side's list and which of its references are in pairs.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OwnReferences {
    pub list: PprlListView,
    pub references: Vec<OwnReference>,
}

/// The mediator's request for clear records: the pairs whose two sides are asked.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PprlRequestInput {
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 10000))]
    pub pairs: Vec<Uuid>,
}

/// What a request asked.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PprlRequestOutcome {
    /// Pairs now asked of both sides.
    pub requested: usize,
}

/// A side's answer: the record it filed (or imported) for its reference.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PprlAnswerInput {
    pub record_id: RecordId,
}

/// A side's refusal to share the record (no consent).
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PprlDeclineInput {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 2000, pattern = r"\S")
    )]
    pub reason: String,
}

/// The mediator's reason for dismissing a pair (a false pair, a duplicate...).
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PprlDismissInput {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 2000, pattern = r"\S")
    )]
    pub reason: String,
}

fn side_of(kind: PartyKind) -> Option<PairSide> {
    match kind {
        PartyKind::Origin => Some(PairSide::Origin),
        PartyKind::Custody => Some(PairSide::Custody),
        _ => None,
    }
}

fn record_kind_of(side: PairSide) -> RecordKind {
    match side {
        PairSide::Origin => RecordKind::TracingRequest,
        PairSide::Custody => RecordKind::CustodyRecord,
    }
}

fn pair_reference(p: &PprlPair, side: PairSide) -> &str {
    match side {
        PairSide::Origin => &p.origin_ref,
        PairSide::Custody => &p.custody_ref,
    }
}

/// Reads an uploaded file as an encoded list: a specification this server does not link is
/// named as such; anything else wrong is an invalid list, with the engine's own reason.
fn read_list(bytes: &[u8]) -> Result<EncodedList, PprlRefused> {
    EncodedList::from_json(bytes).map_err(|e| match e {
        PprlError::SpecMismatch { expected, found } => PprlRefused::SpecUnsupported {
            got: found,
            supported: expected,
        },
        other => PprlRefused::ListInvalid(other.to_string()),
    })
}

fn check_reason(reason: &str) -> AppResult<&str> {
    let r = reason.trim();
    if r.is_empty() || r.chars().count() > 2_000 {
        return Err(AppError::invalid(
            "reason",
            "required",
            "say why the record is not shared (1 to 2000 characters)",
        ));
    }
    Ok(r)
}

impl App {
    /// A side uploads its encoded list for `round`. Refused: a list that is not an encoded list
    /// of the specification this server links, one smaller than the minimum (so nobody can probe
    /// for one child) or larger than the maximum, and one whose key or specification differs
    /// from the round's first list.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn upload_pprl_list(
        &self,
        caller: &Caller,
        round: &str,
        bytes: &[u8],
    ) -> AppResult<PprlListView> {
        caller.require(Permission::RecordImport, &self.config)?;
        let round = parse_round(round)?;
        let list = read_list(bytes)?;
        check_list_size(
            list.records.len(),
            self.config.pprl_min_list_size,
            self.config.pprl_max_list_size,
        )?;
        let content =
            std::str::from_utf8(bytes).map_err(|e| PprlRefused::ListInvalid(e.to_string()))?;
        let stored = PprlList {
            id: Uuid::now_v7(),
            party_id: caller.party().id,
            round,
            spec: list.spec.clone(),
            key_id: list.key_id.clone(),
            records: i64::try_from(list.records.len()).unwrap_or(i64::MAX),
            sha256: hex::encode(Sha256::digest(bytes)),
            created_by: caller.user().id,
            created_at: self.now().trunc_subsecs(6),
        };
        let audit = caller
            .audit(AuditAction::PprlListUpload)
            .target("pprl_list", stored.id)
            .details(serde_json::json!({
                "round": stored.round,
                "records": stored.records,
                "spec": stored.spec,
                "key_id": stored.key_id,
                "sha256": stored.sha256,
            }));
        if let Some((spec, key_id)) = self.store.insert_pprl_list(&stored, content, audit).await? {
            return Err(PprlRefused::KeyMismatch {
                round: stored.round,
                expected: format!("{key_id:?} ({spec})"),
                got: format!("{:?} ({})", stored.key_id, stored.spec),
            }
            .into());
        }
        Ok(stored.into())
    }

    /// The encoded lists: all of them for the mediator's reviewers, a side's own for a side.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn pprl_lists(&self, caller: &Caller) -> AppResult<Vec<PprlListView>> {
        let party = if caller.may(Permission::MatchReview) {
            None
        } else {
            caller.require(Permission::RecordImport, &self.config)?;
            Some(caller.party().id)
        };
        let lists = self.store.list_pprl_lists(party).await?;
        Ok(lists.into_iter().map(PprlListView::from).collect())
    }

    /// The mediator links two lists of one round, one of each side, in a job.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn create_pprl_run(
        &self,
        caller: &Caller,
        left: Uuid,
        right: Uuid,
    ) -> AppResult<PprlRunView> {
        caller.require(Permission::MatchReview, &self.config)?;
        let (origin, custody) = self.opposite_lists(left, right).await?;
        if origin.round != custody.round {
            return Err(PprlRefused::RoundMismatch {
                left: origin.round,
                right: custody.round,
            }
            .into());
        }
        let run = PprlRun {
            id: Uuid::now_v7(),
            round: origin.round.clone(),
            origin_list: origin.id,
            custody_list: custody.id,
            created_by: caller.user().id,
            created_at: self.now().trunc_subsecs(6),
            finished_at: None,
            pairs: None,
        };
        let payload = PprlLinkJob {
            run: run.id,
            actor_user: Some(caller.user().id),
            actor_party: Some(caller.party().id),
        };
        let payload =
            serde_json::to_value(&payload).map_err(|e| AppError::Internal(e.to_string()))?;
        let key = pprl_link_key(run.id);
        let job = NewJob::new(PPRL_LINK, payload, Some(key.clone()));
        let audit = caller
            .audit(AuditAction::PprlRunCreate)
            .target("pprl_run", run.id)
            .details(serde_json::json!({
                "round": run.round,
                "origin_list": origin.id,
                "custody_list": custody.id,
                "job": job.id,
            }));
        self.store.insert_pprl_run(&run, &job, audit).await?;
        self.after_commit(&key).await;
        self.run_view(run).await
    }

    /// The two lists, as (origin's, custody's), whichever order they were given in.
    async fn opposite_lists(&self, a: Uuid, b: Uuid) -> AppResult<(PprlList, PprlList)> {
        let mut sided = Vec::with_capacity(2);
        for id in [a, b] {
            let list = self
                .store
                .get_pprl_list(id)
                .await?
                .ok_or(AppError::NotFound)?;
            let party = self
                .store
                .get_party(list.party_id)
                .await?
                .ok_or(AppError::NotFound)?;
            sided.push((side_of(party.kind), list));
        }
        let mut it = sided.into_iter();
        match (it.next(), it.next()) {
            (Some((Some(PairSide::Origin), o)), Some((Some(PairSide::Custody), c)))
            | (Some((Some(PairSide::Custody), c)), Some((Some(PairSide::Origin), o))) => Ok((o, c)),
            _ => Err(PprlRefused::SidesNotOpposite.into()),
        }
    }

    async fn run_view(&self, run: PprlRun) -> AppResult<PprlRunView> {
        let job = self.store.job_by_key(&pprl_link_key(run.id)).await?;
        let (state, done, total, error_code) = match job {
            Some(j) => (
                j.state,
                j.progress_done,
                j.progress_total,
                j.last_error_code,
            ),
            None => (JobState::Done, 0, 0, None),
        };
        Ok(PprlRunView {
            id: run.id,
            round: run.round,
            origin_list: run.origin_list,
            custody_list: run.custody_list,
            state: state.as_str().to_owned(),
            progress_done: done,
            progress_total: total,
            error_code,
            pairs: run.pairs,
            created_at: run.created_at,
            finished_at: run.finished_at,
        })
    }

    /// The mediator's runs, newest first.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn pprl_runs(&self, caller: &Caller) -> AppResult<Vec<PprlRunView>> {
        caller.require(Permission::MatchReview, &self.config)?;
        let mut out = Vec::new();
        for run in self.store.list_pprl_runs().await? {
            out.push(self.run_view(run).await?);
        }
        Ok(out)
    }

    /// A run and its mapping of references (the mediator's reviewers only; the read is audited).
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn pprl_mapping(&self, caller: &Caller, id: Uuid) -> AppResult<PprlMapping> {
        caller.require(Permission::MatchReview, &self.config)?;
        let run = self
            .store
            .get_pprl_run(id)
            .await?
            .ok_or(AppError::NotFound)?;
        let audit = caller
            .audit(AuditAction::PprlPairsRead)
            .target("pprl_run", id)
            .details(serde_json::json!({ "pairs": run.pairs }));
        let pairs = self.store.pprl_pairs_of_run(id, audit).await?;
        Ok(PprlMapping {
            run: self.run_view(run).await?,
            pairs: pairs.into_iter().map(PprlPairView::from).collect(),
        })
    }

    /// Which of a side's own references (of its list `list`) are in pairs, and what is asked of
    /// it; a list of another party answers like a missing one.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn pprl_own_references(
        &self,
        caller: &Caller,
        list: Uuid,
    ) -> AppResult<OwnReferences> {
        caller.require(Permission::RecordImport, &self.config)?;
        let side = side_of(caller.party().kind).ok_or(AppError::NotFound)?;
        let stored = self
            .store
            .get_pprl_list(list)
            .await?
            .filter(|l| l.party_id == caller.party().id)
            .ok_or(AppError::NotFound)?;
        let audit = caller
            .audit(AuditAction::PprlReferencesRead)
            .target("pprl_list", list);
        let pairs = self.store.pprl_pairs_of_list(list, audit).await?;
        let references = pairs
            .iter()
            .map(|p| OwnReference {
                pair_id: p.id,
                reference: pair_reference(p, side).to_owned(),
                status: p.state.seen_by(side),
            })
            .collect();
        Ok(OwnReferences {
            list: stored.into(),
            references,
        })
    }

    /// The mediator asks both sides of each pair for their clear records: one audit entry per
    /// side, naming that side's references.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn request_pprl_records(
        &self,
        caller: &Caller,
        run: Uuid,
        input: &PprlRequestInput,
    ) -> AppResult<PprlRequestOutcome> {
        caller.require(Permission::MatchReview, &self.config)?;
        if input.pairs.is_empty() || input.pairs.len() > MAX_REQUEST_PAIRS {
            return Err(AppError::invalid(
                "pairs",
                "out_of_range",
                format!("name 1 to {MAX_REQUEST_PAIRS} pairs"),
            ));
        }
        let stored = self
            .store
            .get_pprl_run(run)
            .await?
            .ok_or(AppError::NotFound)?;
        if stored.finished_at.is_none() {
            return Err(PprlRefused::RunNotFinished.into());
        }
        let now = self.now();
        let mut changes = Vec::with_capacity(input.pairs.len());
        let mut refs = (Vec::new(), Vec::new());
        for id in &input.pairs {
            let pair = self
                .store
                .get_pprl_pair(*id)
                .await?
                .filter(|p| p.run_id == run)
                .ok_or(AppError::NotFound)?;
            let state = pair.state.apply(PairEvent::Request)?;
            refs.0.push(pair.origin_ref.clone());
            refs.1.push(pair.custody_ref.clone());
            changes.push(PairChange::to(&pair, state, now));
        }
        let (origin, custody) = self
            .opposite_lists(stored.origin_list, stored.custody_list)
            .await?;
        let audit = [(origin.party_id, refs.0), (custody.party_id, refs.1)]
            .into_iter()
            .map(|(party, references)| {
                caller
                    .audit(AuditAction::PprlRequest)
                    .target("party", party)
                    .details(serde_json::json!({
                        "run": run,
                        "pairs": input.pairs,
                        "references": references,
                    }))
            })
            .collect();
        self.store.change_pprl_pairs(&changes, None, audit).await?;
        Ok(PprlRequestOutcome {
            requested: changes.len(),
        })
    }

    /// The pair, the caller's side in it, and the caller's list: a pair none of whose lists is
    /// the caller's answers like a missing one.
    async fn own_pair(&self, caller: &Caller, id: Uuid) -> AppResult<(PprlPair, PairSide)> {
        caller.require(Permission::RecordImport, &self.config)?;
        let pair = self
            .store
            .get_pprl_pair(id)
            .await?
            .ok_or(AppError::NotFound)?;
        let run = self
            .store
            .get_pprl_run(pair.run_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let side = side_of(caller.party().kind).ok_or(AppError::NotFound)?;
        let list = match side {
            PairSide::Origin => run.origin_list,
            PairSide::Custody => run.custody_list,
        };
        let ours = self
            .store
            .get_pprl_list(list)
            .await?
            .is_some_and(|l| l.party_id == caller.party().id);
        if !ours {
            return Err(AppError::NotFound);
        }
        Ok((pair, side))
    }

    /// A side answers a request with the clear record of its child, a record it filed (or
    /// imported) itself; when the other side answered already the pair enters the review queue,
    /// in the same transaction. The side learns only that its answer was taken.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn answer_pprl_pair(
        &self,
        caller: &Caller,
        id: Uuid,
        input: &PprlAnswerInput,
    ) -> AppResult<OwnReference> {
        let (pair, side) = self.own_pair(caller, id).await?;
        let state = pair.state.apply(PairEvent::Answer(side))?;
        let record = self
            .store
            .records_for_linkage(&[input.record_id])
            .await?
            .into_iter()
            .next()
            .filter(|r| r.party_id == caller.party().id && r.content.kind == record_kind_of(side))
            .ok_or(PprlRefused::WrongRecord {
                expected: record_kind_of(side).as_str(),
            })?;
        let (origin_record, custody_record) = match side {
            PairSide::Origin => (Some(record.id), None),
            PairSide::Custody => (None, Some(record.id)),
        };
        let change = PairChange {
            id,
            expected: pair.state,
            state,
            origin_record,
            custody_record,
            at: self.now().trunc_subsecs(6),
        };
        let candidate = if state == PairState::InReview {
            Some(self.pair_candidate(caller, &pair, &record).await?)
        } else {
            None
        };
        let audit = caller
            .audit(AuditAction::PprlAnswer)
            .target("pprl_pair", id)
            .details(serde_json::json!({
                "run": pair.run_id,
                "side": side,
                "reference": pair_reference(&pair, side),
                "record_id": record.id,
            }));
        self.store
            .change_pprl_pairs(&[change], candidate, vec![audit])
            .await?;
        Ok(OwnReference {
            pair_id: id,
            reference: pair_reference(&pair, side).to_owned(),
            status: state.seen_by(side),
        })
    }

    /// The candidate a pair becomes: scored by the clear-text model on the two clear records,
    /// as any candidate is, so the reviewer sees the same explanation as for the others.
    async fn pair_candidate(
        &self,
        caller: &Caller,
        pair: &PprlPair,
        answer: &ChildRecord,
    ) -> AppResult<PairCandidate> {
        let other = match answer.content.kind {
            RecordKind::TracingRequest => pair.custody_record,
            RecordKind::CustodyRecord => pair.origin_record,
        }
        .ok_or_else(|| AppError::Internal("answered pair without its record".to_owned()))?;
        let other = self
            .store
            .records_for_linkage(&[other])
            .await?
            .into_iter()
            .next()
            // The other side deleted its record since it answered: the pair cannot be reviewed.
            .ok_or(AppError::Conflict(Conflict::PprlRecordDeleted))?;
        let (tracing, custody) = match answer.content.kind {
            RecordKind::TracingRequest => (answer, &other),
            RecordKind::CustodyRecord => (&other, answer),
        };
        let (model, model_version) = self.scoring_model().await?;
        let explained = crate::matching::explain_pairs(&model, tracing, &[custody], 0.0, true)?;
        let (_, e) = explained
            .into_iter()
            .next()
            .ok_or_else(|| AppError::Internal("pair not scored".to_owned()))?;
        let candidate = NewCandidate {
            id: MatchId::new(),
            tracing_record_id: tracing.id,
            custody_record_id: custody.id,
            probability: e.probability,
            match_weight: e.match_weight,
            explanation: serde_json::to_string(&e)
                .map_err(|e| AppError::Internal(e.to_string()))?,
            model_version: format!("pprl+{model_version}"),
            created_at: self.now().trunc_subsecs(6),
        };
        let audit = caller
            .audit(AuditAction::MatchCandidateCreate)
            .details(serde_json::json!({
                "count": 1,
                "match_ids": [candidate.id],
                "model_version": candidate.model_version,
                "trigger": AuditAction::PprlAnswer.code(),
                "pprl_pair": pair.id,
            }));
        Ok(PairCandidate {
            pair: pair.id,
            candidate,
            audit,
        })
    }

    /// A side declines to share the record of its reference (no consent): the pair is closed.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn decline_pprl_pair(
        &self,
        caller: &Caller,
        id: Uuid,
        input: &PprlDeclineInput,
    ) -> AppResult<OwnReference> {
        let reason = check_reason(&input.reason)?;
        let (pair, side) = self.own_pair(caller, id).await?;
        let state = pair.state.apply(PairEvent::Decline(side))?;
        let change = PairChange::to(&pair, state, self.now().trunc_subsecs(6));
        let audit = caller
            .audit(AuditAction::PprlDecline)
            .target("pprl_pair", id)
            .details(serde_json::json!({
                "run": pair.run_id,
                "side": side,
                "reference": pair_reference(&pair, side),
                "reason": reason,
            }));
        self.store
            .change_pprl_pairs(&[change], None, vec![audit])
            .await?;
        Ok(OwnReference {
            pair_id: id,
            reference: pair_reference(&pair, side).to_owned(),
            status: state.seen_by(side),
        })
    }

    /// The mediator dismisses a pair it has not asked about yet: neither side is asked for
    /// anything and the pair goes no further (audited with the reason).
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn dismiss_pprl_pair(
        &self,
        caller: &Caller,
        id: Uuid,
        input: &PprlDismissInput,
    ) -> AppResult<PprlPairView> {
        caller.require(Permission::MatchReview, &self.config)?;
        let reason = check_reason(&input.reason)?;
        let pair = self
            .store
            .get_pprl_pair(id)
            .await?
            .ok_or(AppError::NotFound)?;
        let state = pair.state.apply(PairEvent::Dismiss)?;
        let change = PairChange::to(&pair, state, self.now().trunc_subsecs(6));
        let audit = caller
            .audit(AuditAction::PprlDismiss)
            .target("pprl_pair", id)
            .details(serde_json::json!({
                "run": pair.run_id,
                "origin_reference": pair.origin_ref,
                "custody_reference": pair.custody_ref,
                "reason": reason,
            }));
        self.store
            .change_pprl_pairs(&[change], None, vec![audit])
            .await?;
        Ok(PprlPairView {
            state,
            ..pair.into()
        })
    }

    /// The [`PPRL_LINK`] job: links the run's two lists and stores the mapping of references
    /// (the scores are dropped here). Idempotent: a run finished already is left alone.
    pub(crate) async fn link_pprl_run(
        &self,
        actor: &JobActor,
        job: &PprlLinkJob,
        lease: &Lease<'_>,
    ) -> AppResult<usize> {
        let run = self
            .store
            .get_pprl_run(job.run)
            .await?
            .ok_or(AppError::NotFound)?;
        if run.finished_at.is_some() {
            return Ok(0);
        }
        let content = |id| async move {
            self.store
                .pprl_list_content(id)
                .await?
                .ok_or(AppError::NotFound)
        };
        let origin = content(run.origin_list).await?;
        let custody = content(run.custody_list).await?;
        lease.progress(1).await?;
        let pairs = tokio::task::spawn_blocking(move || {
            let o = read_list(origin.as_bytes())?;
            let c = read_list(custody.as_bytes())?;
            let pairs = link_encoded(&o, &c, &PprlOptions::default())
                .map_err(|e| PprlRefused::ListInvalid(e.to_string()))?;
            Ok::<_, PprlRefused>((o.records.len(), c.records.len(), pairs))
        })
        .await
        .map_err(|e| AppError::Internal(format!("linkage stopped: {e}")))??;
        let (origin_records, custody_records, pairs) = pairs;
        lease.progress(2).await?;
        let mapping: Vec<(String, String)> = pairs.into_iter().map(|p| (p.left, p.right)).collect();
        let audit = actor
            .audit(
                AuditAction::PprlRunFinish,
                serde_json::json!({
                    "origin_records": origin_records,
                    "custody_records": custody_records,
                    "pairs": mapping.len(),
                }),
            )
            .target("pprl_run", run.id);
        let now = self.now();
        self.store
            .finish_pprl_run(run.id, &mapping, now, audit)
            .await?;
        lease.progress(3).await?;
        Ok(mapping.len())
    }
}
