//! Matching on stored records: candidate matches between tracing requests and custody records
//! appear as records are filed, changed or imported; the mediator's reviewers confirm or reject
//! them; a confirmation opens (or joins) a case.
//!
//! Incremental: a changed record gets its blocking keys (the combined keys of the engine's
//! default blocking rules, computed here from the engine's public normalisers), the store finds
//! the records of the other side sharing any key through an index, and only those pairs are
//! scored with the stored model. The work for one record is one indexed lookup per key plus one
//! comparison per blocked record, whatever the size of the lists; the whole linkage runs only
//! when a reviewer trains the model ([`App::train_linkage_model`]).
//!
//! Nothing here is shown to anyone but the mediator's reviewers: candidates say which child of
//! one side may be which child of the other, which is exactly what the parties must not learn
//! from each other.

use crate::jobs::{JobActor, Lease};
use crate::sight::{CasePart, CaseParts, CaseSight};
use crate::{App, AppError, AppResult, Caller};
use chrono::{DateTime, Utc};
use homeward_domain::{
    AuditAction, Case, CaseId, CaseState, ChildRecord, MatchConfirmation, MatchId, MatchLink,
    Permission, RecordDraft, RecordId, RecordKind, UserId,
};
use homeward_linkage::{Explanation, FieldKind, LinkConfig, Model, Table, split_full_name};
use homeward_store::{
    CandidateDecision, CandidateStatus, Decision, MatchCandidate, NewCandidate, NewJob,
    QueueFilter, RESCORE_CANDIDATES, RescoreJob, StoreError, StoredCase, StoredModel,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// Records matched together when many arrive at once (an import): their keys are looked up in
/// one pass and the engine scores them in one call, so an import of up to this many records
/// reads each blocked record of the other side once. Bounds the memory a job holds.
const ROUND: usize = 200_000;
/// Candidates per chunk (and transaction) of re-scoring after a model change.
const RESCORE_CHUNK: u32 = 1_000;
pub const DEFAULT_QUEUE_PAGE: u32 = 50;
pub const MAX_QUEUE_PAGE: u32 = 500;

/// The fields the engine compares, in the order [`row_values`] fills them.
pub fn linkage_columns() -> Vec<(String, FieldKind)> {
    [
        ("given_name", FieldKind::GivenName),
        ("patronymic", FieldKind::Patronymic),
        ("family_name", FieldKind::FamilyName),
        ("sex", FieldKind::Sex),
        ("birth_date", FieldKind::BirthDate),
        ("birth_place", FieldKind::BirthPlace),
    ]
    .into_iter()
    .map(|(n, k)| (n.to_owned(), k))
    .collect()
}

/// Name parts of every name a record carries; parts not filled in are read from the name as
/// written, the way the engine splits a full name.
fn name_parts(draft: &RecordDraft) -> Vec<[Option<String>; 3]> {
    draft
        .names
        .iter()
        .map(|n| {
            if n.given.is_some() && n.family.is_some() {
                return [n.given.clone(), n.patronymic.clone(), n.family.clone()];
            }
            let s = split_full_name(&n.as_written);
            [
                n.given.clone().or(s.given),
                n.patronymic.clone().or(s.patronymic),
                n.family.clone().or(s.family),
            ]
        })
        .collect()
}

/// One table row per record: its first name (the one on the source document).
fn row_values(draft: &RecordDraft) -> [Option<String>; 6] {
    let [given, patronymic, family] = name_parts(draft).into_iter().next().unwrap_or_default();
    [
        given,
        patronymic,
        family,
        Some(draft.sex.as_str().to_owned()),
        draft.birth_date.map(|d| d.to_string()),
        draft.birth_place.clone(),
    ]
}

fn link_error(e: homeward_linkage::LinkError) -> AppError {
    AppError::Internal(format!("linkage: {e}"))
}

/// Stored records as an engine table (ids are the record ids), as every door into the engine reads
/// them.
pub fn table_of<'a>(records: impl IntoIterator<Item = &'a ChildRecord>) -> AppResult<Table> {
    let mut t = Table::new(linkage_columns()).map_err(link_error)?;
    for r in records {
        t.push(r.id.to_string(), row_values(&r.content))
            .map_err(link_error)?;
    }
    Ok(t)
}

/// Each record's blocking keys, exactly as the linkage engine's default rules make them (hex text,
/// the store's key column): the engine's own `row_keys`, so stored keys cannot drift from the
/// blocking a full `link` run would do.
pub fn block_keys<'a>(
    records: impl IntoIterator<Item = &'a ChildRecord>,
) -> AppResult<Vec<Vec<String>>> {
    let table = table_of(records)?;
    Ok(
        homeward_linkage::row_keys(&table, &homeward_linkage::default_rules())
            .into_iter()
            .map(|keys| keys.into_iter().map(|k| format!("{k:016x}")).collect())
            .collect(),
    )
}

/// Every key of `keys`, each once, sorted.
pub(crate) fn distinct_keys<'a>(keys: impl Iterator<Item = &'a Vec<String>>) -> Vec<String> {
    keys.flatten()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn other_kind(kind: RecordKind) -> RecordKind {
    match kind {
        RecordKind::TracingRequest => RecordKind::CustodyRecord,
        RecordKind::CustodyRecord => RecordKind::TracingRequest,
    }
}

/// A candidate as the mediator's reviewers see it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CandidateView {
    pub id: MatchId,
    pub tracing_record_id: RecordId,
    pub custody_record_id: RecordId,
    pub probability: f64,
    pub match_weight: f64,
    /// The engine's field-by-field explanation: each field's level, both values and its weight,
    /// and the prior.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub explanation: serde_json::Value,
    /// Proposed by the renamed-child pattern (issue 13 §2): given name, birth date, sex and
    /// birthplace agree while surname and patronymic do not, as when a child was adopted. Ranked
    /// by how rare what agrees is; never a match without a person.
    pub possibly_renamed: bool,
    pub model_version: String,
    /// `pending`, `confirmed` or `rejected`.
    pub status: String,
    /// Who confirmed or rejected it (with four eyes: who confirmed first).
    pub decided_by: Option<UserId>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    /// With four eyes: the second reviewer.
    pub second_reviewer: Option<UserId>,
    pub case_id: Option<CaseId>,
    pub created_at: DateTime<Utc>,
}

impl From<MatchCandidate> for CandidateView {
    fn from(c: MatchCandidate) -> Self {
        // Written by us from the engine's Explanation; kept as text only if it ever is not JSON.
        let explanation = serde_json::from_str(&c.explanation)
            .unwrap_or(serde_json::Value::String(c.explanation));
        Self {
            id: c.id,
            tracing_record_id: c.tracing_record_id,
            custody_record_id: c.custody_record_id,
            probability: c.probability,
            match_weight: c.match_weight,
            possibly_renamed: explanation[POSSIBLY_RENAMED].as_bool() == Some(true),
            explanation,
            model_version: c.model_version,
            status: c.status.as_str().to_owned(),
            decided_by: c.decided_by,
            decided_at: c.decided_at,
            reason: c.reason,
            second_reviewer: c.second_reviewer,
            case_id: c.case_id,
            created_at: c.created_at,
        }
    }
}

/// A candidate with both records side by side.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CandidateDetail {
    pub candidate: CandidateView,
    pub tracing_request: ChildRecord,
    pub custody_record: ChildRecord,
}

/// One page of the review queue.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueuePage {
    pub items: Vec<CandidateView>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next: Option<String>,
}

/// How far the dashboard counts the review queue: counting is reading, and a reviewer needs to
/// know "thousands", not the exact figure.
pub const QUEUE_COUNT_CAP: u64 = 10_000;

/// Which part of the queue to read.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct QueueQuery {
    /// Default: the review threshold.
    pub min_probability: Option<f64>,
    /// Default: 1.
    pub max_probability: Option<f64>,
    pub after: Option<String>,
    pub limit: Option<u32>,
}

/// What a reviewer's decision did.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionView {
    pub candidate: CandidateView,
    /// The case the confirmation created or joined (none after a rejection or a first of two
    /// confirmations).
    pub case: Option<CaseView>,
    pub case_created: bool,
    /// Four eyes: the confirmation was recorded and another reviewer must confirm too.
    pub awaiting_second_review: bool,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseView {
    /// The case, without the parts named in `withheld`.
    pub case: Case,
    /// The number people know the case by (`HW-2026-00042`), given when it was opened.
    pub number: homeward_domain::CaseNumber,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The parts of the case this read leaves out (empty when nothing is): the caller may not
    /// read them, or did not ask. Their fields in `case` are then empty, not absent facts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<CasePart>,
}

impl CaseView {
    /// The case as this read shows it: only the parts `sight` carries.
    pub(crate) fn seen(c: StoredCase, sight: CaseSight) -> Self {
        let mut case = c.case;
        let withheld = sight.filter(&mut case);
        Self {
            case,
            number: c.number,
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
            withheld,
        }
    }
}

/// The outcome of training.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrainReport {
    pub tracing_requests: usize,
    pub custody_records: usize,
    pub candidate_pairs: u64,
    /// Pairs at or above the review threshold not stored before.
    pub new_candidates: usize,
    pub model_version: String,
    /// The reviewers' decisions learnt from, and what they moved.
    pub labels: crate::learning::LabelsUsed,
}

/// `"<probability>:<id>"`: `{}` prints an f64 so that parsing gives back the same value, which
/// keyset paging on equality needs.
fn cursor(c: &CandidateView) -> String {
    format!("{}:{}", c.probability, c.id)
}

fn parse_cursor(s: &str) -> AppResult<(f64, MatchId)> {
    let bad = || {
        AppError::invalid(
            "after",
            "invalid",
            "use the `next` value of the previous page",
        )
    };
    let (p, id) = s.rsplit_once(':').ok_or_else(bad)?;
    Ok((
        p.parse().map_err(|_| bad())?,
        id.parse().map_err(|_| bad())?,
    ))
}

impl App {
    /// The stored model, or the engine's defaults until one is trained; and its version label.
    pub(crate) async fn scoring_model(&self) -> AppResult<(Model, String)> {
        if let Some(stored) = self.store.linkage_model().await? {
            match Model::from_json(&stored.model) {
                Ok(m) => {
                    let v = format!("v{}-trained-{}", m.version, stored.trained_at.timestamp());
                    return Ok((m, v));
                }
                // An engine upgrade can change the model format; scoring must go on until a
                // reviewer trains again.
                Err(e) => {
                    tracing::warn!(error = %e, "stored linkage model unreadable; using defaults")
                }
            }
        }
        let m = Model::with_defaults(&linkage_columns());
        let v = format!("v{}-default", m.version);
        Ok((m, v))
    }

    /// Finds and stores the candidates of records just filed, changed or imported, against the
    /// other side, and their candidate duplicates within their own party
    /// ([`App::find_duplicates`]); notes each record as matched at the version scored. The
    /// records are read afresh (deleted ones are left out), so a job run twice, or after the
    /// record changed again, scores what the record says now. Runs as the `records.match` job
    /// the record's own transaction enqueued (see [`crate::jobs`]), telling `lease` how far it got. Idempotent: a pair stored before is never stored again.
    pub(crate) async fn match_records(
        &self,
        actor: &JobActor,
        ids: &[RecordId],
        lease: &Lease<'_>,
    ) -> AppResult<usize> {
        if ids.is_empty() {
            return Ok(0);
        }
        let (model, model_version) = self.scoring_model().await?;
        let threshold = LinkConfig::default().review_threshold;
        let mut scored = Vec::new();
        let mut versions: Vec<(RecordId, i64)> = Vec::new();
        let mut done = 0;
        for round in ids.chunks(ROUND) {
            let records = self.store.records_for_linkage(round).await?;
            scored.extend(
                self.match_round(actor, &records, &model, &model_version, threshold)
                    .await?,
            );
            versions.extend(records.iter().map(|r| (r.id, r.version)));
            done += round.len();
            lease.progress(done).await?;
        }
        // The rank cut over the whole job, not per round: a record whose partners fall in two
        // rounds would otherwise keep each round's best.
        let ranked: Vec<(RecordId, RecordId, f64, bool)> = scored
            .iter()
            .map(|(c, renamed)| {
                (
                    c.tracing_record_id,
                    c.custody_record_id,
                    c.match_weight,
                    *renamed,
                )
            })
            .collect();
        let candidates: Vec<NewCandidate> = scored
            .into_iter()
            .zip(rank_cut(&ranked, RANK_MARGIN, false))
            .filter_map(|((c, _), keep)| keep.then_some(c))
            .collect();
        // One audit entry for the job, naming every candidate it stored.
        let audit = |inserted: &[NewCandidate]| {
            actor.audit(
                AuditAction::MatchCandidateCreate,
                serde_json::json!({
                    "count": inserted.len(),
                    "match_ids": inserted.iter().map(|c| c.id).collect::<Vec<_>>(),
                    "records": ids.len(),
                    "model_version": model_version,
                }),
            )
        };
        let stored = self
            .store
            .insert_candidates(&candidates, &audit)
            .await?
            .len();
        // Marked only once the candidates are stored: a job stopped before is run again.
        self.store.mark_matched(&versions).await?;
        Ok(stored)
    }

    /// One round of [`App::match_records`]: the records' blocking keys are stored first (so that
    /// a job running at the same time finds these records, as they find its), then the records
    /// sharing a key with any of them are looked up once for the whole round and the engine
    /// scores the round against them in one call per side.
    async fn match_round(
        &self,
        actor: &JobActor,
        round: &[ChildRecord],
        model: &Model,
        model_version: &str,
        threshold: f64,
    ) -> AppResult<Vec<(NewCandidate, bool)>> {
        if round.is_empty() {
            return Ok(Vec::new());
        }
        let keyed: Vec<(RecordId, RecordKind, Vec<String>)> = round
            .iter()
            .zip(block_keys(round)?)
            .map(|(r, keys)| (r.id, r.content.kind, keys))
            .collect();
        self.store.put_block_keys(&keyed).await?;
        self.find_duplicates(actor, round, &keyed, model, model_version, threshold)
            .await?;
        // Grouped by the other side's kind (an import is one kind, but be exact).
        let mut by_kind: HashMap<RecordKind, Vec<(&ChildRecord, &Vec<String>)>> = HashMap::new();
        for (r, (_, _, keys)) in round.iter().zip(&keyed) {
            by_kind.entry(r.content.kind).or_default().push((r, keys));
        }
        let mut candidates = Vec::new();
        for (kind, group) in by_kind {
            let keys = distinct_keys(group.iter().map(|(_, k)| *k));
            let wanted = self
                .store
                .records_sharing_keys(other_kind(kind), None, &keys)
                .await?;
            let others = self.store.records_for_linkage(&wanted).await?;
            let mine: Vec<&ChildRecord> = group.iter().map(|(r, _)| *r).collect();
            candidates.extend(
                score_in_bulk(
                    model,
                    model_version,
                    &mine,
                    &others.iter().collect::<Vec<_>>(),
                    threshold,
                    self.now(),
                )
                .await?,
            );
        }
        if actor.rescores() {
            self.rescore_pending(actor, round, model, model_version)
                .await?;
        }
        Ok(candidates)
    }

    /// Scores again the pending candidates of records whose content changed, so that a reviewer
    /// never decides on a score computed for what the record said before. A pair that now scores
    /// below the review threshold keeps its place in the table (it is never proposed twice) but
    /// drops out of the queue's band.
    async fn rescore_pending(
        &self,
        actor: &JobActor,
        changed: &[ChildRecord],
        model: &Model,
        model_version: &str,
    ) -> AppResult<()> {
        let ids: Vec<RecordId> = changed.iter().map(|r| r.id).collect();
        let pairs = self.store.pending_pairs(&ids).await?;
        if pairs.is_empty() {
            return Ok(());
        }
        let partner_ids: Vec<RecordId> = pairs
            .iter()
            .flat_map(|(t, c)| [*t, *c])
            .filter(|id| !ids.contains(id))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let partners: HashMap<RecordId, ChildRecord> = self
            .store
            .records_for_linkage(&partner_ids)
            .await?
            .into_iter()
            .chain(changed.iter().cloned())
            .map(|r| (r.id, r))
            .collect();
        let mut rescored = Vec::new();
        for r in changed {
            let others: Vec<&ChildRecord> = pairs
                .iter()
                .filter_map(|(t, c)| {
                    if *t == r.id {
                        partners.get(c)
                    } else if *c == r.id {
                        partners.get(t)
                    } else {
                        None
                    }
                })
                .collect();
            // Threshold 0: every pending pair gets its new score, however low.
            rescored.extend(score(model, model_version, r, &others, 0.0, self.now())?);
        }
        let audit = |changed: &[NewCandidate]| {
            actor.audit(
                AuditAction::MatchCandidateRescore,
                serde_json::json!({
                    "count": changed.len(),
                    "match_ids": changed.iter().map(|c| c.id).collect::<Vec<_>>(),
                    "model_version": model_version,
                }),
            )
        };
        self.store.rescore_candidates(&rescored, &audit).await?;
        Ok(())
    }

    /// Scores again, with the model stored now, every pending candidate another model version
    /// scored (the `candidates.rescore` job a training enqueued), a chunk at a time, each chunk
    /// one transaction with its audit entry, telling `lease` how far it got. Idempotent: a
    /// worker taking the job over skips the candidates already scored by this version. A pair
    /// whose record was deleted is left as it is. Returns how many candidates changed.
    pub(crate) async fn rescore_stale_candidates(
        &self,
        actor: &JobActor,
        model: &Model,
        model_version: &str,
        lease: &Lease<'_>,
    ) -> AppResult<usize> {
        let mut after = None;
        let mut done = 0;
        let mut changed = 0;
        loop {
            let page = self
                .store
                .stale_candidates(model_version, after, RESCORE_CHUNK)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            let ids: Vec<RecordId> = page
                .iter()
                .flat_map(|c| [c.tracing_record_id, c.custody_record_id])
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let records: HashMap<RecordId, ChildRecord> = self
                .store
                .records_for_linkage(&ids)
                .await?
                .into_iter()
                .map(|r| (r.id, r))
                .collect();
            // One table per tracing request against its custody partners.
            let mut by_tracing: HashMap<RecordId, Vec<&ChildRecord>> = HashMap::new();
            for c in &page {
                if let (Some(_), Some(custody)) = (
                    records.get(&c.tracing_record_id),
                    records.get(&c.custody_record_id),
                ) {
                    by_tracing
                        .entry(c.tracing_record_id)
                        .or_default()
                        .push(custody);
                }
            }
            let mut rescored = Vec::new();
            for (tracing_id, partners) in &by_tracing {
                if let Some(tracing) = records.get(tracing_id) {
                    // Threshold 0: every pending pair gets its new score, however low.
                    rescored.extend(score(
                        model,
                        model_version,
                        tracing,
                        partners,
                        0.0,
                        self.now(),
                    )?);
                }
            }
            let audit = |changed: &[NewCandidate]| {
                actor.audit(
                    AuditAction::MatchCandidateRescore,
                    serde_json::json!({
                        "count": changed.len(),
                        "match_ids": changed.iter().map(|c| c.id).collect::<Vec<_>>(),
                        "model_version": model_version,
                    }),
                )
            };
            changed += self
                .store
                .rescore_candidates(&rescored, &audit)
                .await?
                .len();
            done += page.len();
            lease.progress(done).await?;
            if page.len() < RESCORE_CHUNK as usize {
                break;
            }
        }
        Ok(changed)
    }

    /// Pending candidates in a probability band, best first. Mediator reviewers only.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn review_queue(&self, caller: &Caller, q: &QueueQuery) -> AppResult<QueuePage> {
        caller.require(Permission::MatchReview, &self.config)?;
        let limit = q.limit.unwrap_or(DEFAULT_QUEUE_PAGE);
        if limit == 0 || limit > MAX_QUEUE_PAGE {
            return Err(AppError::invalid(
                "limit",
                "out_of_range",
                format!("between 1 and {MAX_QUEUE_PAGE}"),
            ));
        }
        let min = q
            .min_probability
            .unwrap_or(LinkConfig::default().review_threshold);
        let max = q.max_probability.unwrap_or(1.0);
        for (field, v) in [("min_probability", min), ("max_probability", max)] {
            if !(0.0..=1.0).contains(&v) {
                return Err(AppError::invalid(field, "out_of_range", "between 0 and 1"));
            }
        }
        if min > max {
            return Err(AppError::invalid(
                "min_probability",
                "out_of_range",
                "min_probability is above max_probability",
            ));
        }
        let after = q.after.as_deref().map(parse_cursor).transpose()?;
        let filter = QueueFilter {
            min_probability: min,
            max_probability: max,
            after,
            before: false,
            limit,
        };
        let audit = vec![
            caller
                .audit(AuditAction::MatchQueueRead)
                .details(serde_json::json!({ "min_probability": min, "max_probability": max })),
        ];
        let items = self
            .store
            .review_queue_audited(&filter, caller.for_store(audit.clone()))
            .await?;
        caller.viewed_ids(audit, "match_ids", || {
            items.iter().map(|c| c.id.to_string()).collect()
        });
        let items: Vec<CandidateView> = items.into_iter().map(CandidateView::from).collect();
        let next = (items.len() == limit as usize)
            .then(|| items.last().map(cursor))
            .flatten();
        Ok(QueuePage { items, next })
    }

    /// How many pairs wait in the review queue (the default band), for the dashboard, counted up
    /// to [`QUEUE_COUNT_CAP`] (beyond it the dashboard says "more than").
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn review_queue_count(&self, caller: &Caller) -> AppResult<u64> {
        caller.require(Permission::MatchReview, &self.config)?;
        Ok(self
            .store
            .review_queue_count(
                LinkConfig::default().review_threshold,
                1.0,
                QUEUE_COUNT_CAP + 1,
            )
            .await?)
    }

    /// The pairs before and after `c` in the review queue (the default band), for going through
    /// it one pair after another without reading whole pages.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn queue_neighbours(
        &self,
        caller: &Caller,
        c: &CandidateView,
    ) -> AppResult<(Option<MatchId>, Option<MatchId>)> {
        caller.require(Permission::MatchReview, &self.config)?;
        let mut around = [None, None];
        for (slot, before) in around.iter_mut().zip([true, false]) {
            let filter = QueueFilter {
                min_probability: LinkConfig::default().review_threshold,
                max_probability: 1.0,
                after: Some((c.probability, c.id)),
                before,
                limit: 1,
            };
            let audit = vec![caller.audit(AuditAction::MatchQueueRead)];
            let found = self
                .store
                .review_queue_audited(&filter, caller.for_store(audit.clone()))
                .await?;
            caller.viewed_ids(audit, "match_ids", || {
                found.iter().map(|c| c.id.to_string()).collect()
            });
            *slot = found.first().map(|n| n.id);
        }
        Ok((around[0], around[1]))
    }

    /// A candidate with both records side by side (each record read is audited).
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn get_candidate(&self, caller: &Caller, id: MatchId) -> AppResult<CandidateDetail> {
        caller.require(Permission::MatchReview, &self.config)?;
        let audit = vec![caller.audit(AuditAction::MatchRead).target("match", id)];
        let c = self
            .store
            .get_candidate_audited(id, caller.for_store(audit.clone()))
            .await?
            .ok_or(AppError::NotFound)?;
        caller.viewed(audit);
        let read = async |rid: RecordId| -> AppResult<ChildRecord> {
            let audit = vec![
                caller
                    .audit(AuditAction::RecordRead)
                    .target("record", rid)
                    .details(serde_json::json!({ "match": id })),
            ];
            let record = self
                .store
                .get_record_audited(caller.scope(), rid, caller.for_store(audit.clone()))
                .await?
                .ok_or_else(|| {
                    AppError::Internal(format!("a record of candidate {id} is missing"))
                })?;
            caller.viewed(audit);
            Ok(record)
        };
        let tracing_request = read(c.tracing_record_id).await?;
        let custody_record = read(c.custody_record_id).await?;
        Ok(CandidateDetail {
            candidate: c.into(),
            tracing_request,
            custody_record,
        })
    }

    /// Confirms a candidate. Without four eyes this completes the match; with four eyes the
    /// first confirmation is recorded and a different reviewer's confirmation completes it.
    /// Completing opens a case in `located` (or joins the case either record is already in).
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn confirm_candidate(
        &self,
        caller: &Caller,
        id: MatchId,
        reason: Option<&str>,
    ) -> AppResult<DecisionView> {
        caller.require(Permission::MatchReview, &self.config)?;
        let reason = check_reason(reason, false)?;
        // Four eyes when the deployment asks for it, by the flag or by the case policy.
        let four_eyes = self.case_policy().matching.confirmations >= 2;
        let audit = caller.audit(AuditAction::MatchRead).target("match", id);
        let c = self
            .store
            .get_candidate(id, audit)
            .await?
            .ok_or(AppError::NotFound)?;
        if c.status != CandidateStatus::Pending {
            return Err(AppError::CandidateDecided);
        }
        let now = self.now();
        let me = caller.user().id;
        let first = c.decided_by.zip(c.decided_at);
        if four_eyes && first.is_some_and(|(by, _)| by == me) {
            return Err(AppError::SameReviewer);
        }
        if four_eyes && first.is_none() {
            let decision = CandidateDecision {
                id,
                by: me,
                at: now,
                decision: Decision::FirstConfirmation { reason },
            };
            let audit = caller
                .audit(AuditAction::MatchFirstConfirm)
                .target("match", id)
                .details(serde_json::json!({ "reason": reason }));
            let out = self
                .store
                .decide_candidate(decision, vec![audit], None)
                .await
                .map_err(decision_error)?;
            return Ok(DecisionView {
                candidate: out.candidate.into(),
                case: None,
                case_created: false,
                awaiting_second_review: true,
            });
        }

        let mut confirmations: Vec<MatchConfirmation> = first
            .map(|(by, at)| MatchConfirmation { by, at })
            .into_iter()
            .collect();
        confirmations.push(MatchConfirmation { by: me, at: now });
        let birth = self
            .store
            .records_for_linkage(&[c.tracing_record_id, c.custody_record_id])
            .await?
            .iter()
            .find_map(|r| r.content.birth_date);
        let mut case = Case::new(CaseId::new(), me, now);
        case.tracing_request = Some(c.tracing_record_id);
        case.custody_record = Some(c.custody_record_id);
        case.child_birth_date = birth;
        case.confirmed_match = Some(MatchLink {
            match_id: id,
            tracing_request: c.tracing_record_id,
            custody_record: c.custody_record_id,
            confirmations,
        });
        let policy = self.case_policy();
        let t = case
            .transition(CaseState::Located, None, me, &policy, now)
            .map_err(|e| AppError::Internal(format!("a confirmed match cannot locate: {e}")))?;
        case.apply(&t)
            .map_err(|e| AppError::Internal(e.to_string()))?;

        let decision = CandidateDecision {
            id,
            by: me,
            at: now,
            decision: Decision::Confirm {
                reason,
                second_of_two: four_eyes,
                new_case: &case,
            },
        };
        let audit = caller
            .audit(AuditAction::MatchConfirm)
            .target("match", id)
            .details(serde_json::json!({
                "reason": reason,
                "tracing_record_id": c.tracing_record_id,
                "custody_record_id": c.custody_record_id,
                "second_review": four_eyes,
            }));
        let case_audit = caller
            .audit(AuditAction::CaseCreate)
            .details(serde_json::json!({
                "match": id,
                "state": CaseState::Located.as_str(),
            }));
        let out = self
            .store
            .decide_candidate(decision, vec![audit], Some(case_audit))
            .await
            .map_err(decision_error)?;
        Ok(DecisionView {
            candidate: out.candidate.into(),
            // A joined case may hold facts this read would have to audit: the decision answers
            // with the workflow only, the case itself is a read away.
            case: out
                .case
                .map(|c| CaseView::seen(c, CaseSight::of(caller, CaseParts::WORKFLOW))),
            case_created: out.case_created,
            awaiting_second_review: false,
        })
    }

    /// Rejects a candidate, with a reason. The pair is never proposed again.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn reject_candidate(
        &self,
        caller: &Caller,
        id: MatchId,
        reason: &str,
    ) -> AppResult<DecisionView> {
        caller.require(Permission::MatchReview, &self.config)?;
        let reason = check_reason(Some(reason), true)?.unwrap_or_default();
        let decision = CandidateDecision {
            id,
            by: caller.user().id,
            at: self.now(),
            decision: Decision::Reject { reason },
        };
        let audit = caller
            .audit(AuditAction::MatchReject)
            .target("match", id)
            .details(serde_json::json!({ "reason": reason }));
        let out = self
            .store
            .decide_candidate(decision, vec![audit], None)
            .await
            .map_err(decision_error)?;
        Ok(DecisionView {
            candidate: out.candidate.into(),
            case: None,
            case_created: false,
            awaiting_second_review: false,
        })
    }

    /// Trains the linkage model on every record of both sides, stores it for the incremental
    /// matching, refreshes every record's blocking keys, and stores the candidates the full run
    /// finds (pairs already stored, in any status, are left alone). Mediator reviewers only.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn train_linkage_model(&self, caller: &Caller) -> AppResult<TrainReport> {
        caller.require(Permission::MatchReview, &self.config)?;
        let tracing = self.all_records(RecordKind::TracingRequest).await?;
        let custody = self.all_records(RecordKind::CustodyRecord).await?;
        if tracing.is_empty() || custody.is_empty() {
            return Err(AppError::invalid(
                "records",
                "nothing_to_train_on",
                "training needs tracing requests and custody records",
            ));
        }
        let decided = self.store.decided_pairs().await?;
        let (tracing, custody, out, model, labels) = tokio::task::spawn_blocking(move || {
            let left = table_of(&tracing)?;
            let right = table_of(&custody)?;
            let out = homeward_linkage::link(&left, &right, &LinkConfig::default(), None, &|_| {})
                .map_err(link_error)?;
            let (labels, left_out) = crate::learning::labels_of(&decided, &left, &right);
            let (model, used) =
                crate::learning::learn(out.model.clone(), &left, &right, &labels, left_out)?;
            Ok::<_, AppError>((tracing, custody, out, model, used))
        })
        .await
        .map_err(|e| AppError::Internal(format!("training stopped: {e}")))??;

        let now = self.now();
        let model_json = model.to_json().map_err(link_error)?;
        let model_version = format!("v{}-trained-{}", model.version, now.timestamp());
        let audit = caller
            .audit(AuditAction::LinkageTrain)
            .target("linkage_model", 1)
            .details(serde_json::json!({
                "tracing_requests": tracing.len(),
                "custody_records": custody.len(),
                "candidate_pairs": out.stats.candidate_pairs,
                "labels": &labels,
            }));
        // The pending candidates scored by the model before are scored again by a job enqueued
        // with the model itself: a reviewer never decides on a score from a model replaced.
        let rescore_key = format!("{RESCORE_CANDIDATES}:{model_version}");
        let job = NewJob::new(
            RESCORE_CANDIDATES,
            serde_json::to_value(RescoreJob {
                model_version: model_version.clone(),
                actor_user: Some(caller.user().id),
                actor_party: Some(caller.party().id),
            })
            .map_err(|e| AppError::Internal(e.to_string()))?,
            Some(rescore_key.clone()),
        );
        self.store
            .put_linkage_model_rescoring(
                &StoredModel {
                    model: model_json,
                    trained_at: now,
                },
                audit,
                &job,
            )
            .await?;

        let keyed: Vec<(RecordId, RecordKind, Vec<String>)> = tracing
            .iter()
            .chain(&custody)
            .zip(block_keys(tracing.iter().chain(&custody))?)
            .map(|(r, keys)| (r.id, r.content.kind, keys))
            .collect();
        self.store.put_block_keys(&keyed).await?;

        let id_of = |s: &str| {
            s.parse::<RecordId>()
                .map_err(|e| AppError::Internal(e.to_string()))
        };
        let mut candidates = Vec::with_capacity(out.pairs.len());
        for p in &out.pairs {
            candidates.push(NewCandidate {
                id: MatchId::new(),
                tracing_record_id: id_of(&p.left_id)?,
                custody_record_id: id_of(&p.right_id)?,
                probability: p.probability,
                match_weight: p.match_weight,
                explanation: serde_json::to_string(&p.explanation)
                    .map_err(|e| AppError::Internal(e.to_string()))?,
                model_version: model_version.clone(),
                created_at: now,
            });
        }
        let audit = |inserted: &[NewCandidate]| {
            caller
                .audit(AuditAction::MatchCandidateCreate)
                .details(serde_json::json!({
                    "count": inserted.len(),
                    "match_ids": inserted.iter().map(|c| c.id).collect::<Vec<_>>(),
                    "model_version": model_version,
                    "trigger": AuditAction::LinkageTrain.code(),
                }))
        };
        let new_candidates = self
            .store
            .insert_candidates(&candidates, &audit)
            .await?
            .len();
        self.after_commit(&rescore_key).await;
        Ok(TrainReport {
            tracing_requests: tracing.len(),
            custody_records: custody.len(),
            candidate_pairs: out.stats.candidate_pairs,
            new_candidates,
            model_version,
            labels,
        })
    }

    async fn all_records(&self, kind: RecordKind) -> AppResult<Vec<ChildRecord>> {
        const PAGE: u32 = 5_000;
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = self.store.records_of_kind(kind, after, PAGE).await?;
            let done = page.len() < PAGE as usize;
            after = page.last().map(|r| r.id);
            out.extend(page);
            if done {
                return Ok(out);
            }
        }
    }
}

/// Explains one record against each of `others` with the model, `record` on the left side when
/// `record_left` (on the right otherwise); keeps the pairs at or above `threshold`, as the index
/// into `others` and the explanation (PPRL's pairs are explained with it; the case system's own
/// candidates are scored in bulk or, re-scored, through `Model::score_pair`).
pub(crate) fn explain_pairs(
    model: &Model,
    record: &ChildRecord,
    others: &[&ChildRecord],
    threshold: f64,
    record_left: bool,
) -> AppResult<Vec<(usize, Explanation)>> {
    if others.is_empty() {
        return Ok(Vec::new());
    }
    let mine = table_of([record])?;
    let theirs = table_of(others.iter().copied())?;
    let (left, right) = if record_left {
        (&mine, &theirs)
    } else {
        (&theirs, &mine)
    };
    let mut out = Vec::new();
    for j in 0..others.len() {
        let (li, ri) = if record_left { (0, j) } else { (j, 0) };
        let e = model.explain(left, li, right, ri).map_err(link_error)?;
        if e.probability >= threshold {
            out.push((j, e));
        }
    }
    Ok(out)
}

/// Scores records of one side against the stored records of the other side that share a blocking
/// key with them (each candidate with its possibly-renamed mark, for the rank cut), in one call of the engine ([`homeward_linkage::score_pairs`]): the same blocking,
/// weights, sibling guard and renamed-child band as `homeward link`, and every pair at or above
/// `threshold` rather than one partner per record, for a person to choose.
async fn score_in_bulk(
    model: &Model,
    model_version: &str,
    mine: &[&ChildRecord],
    others: &[&ChildRecord],
    threshold: f64,
    now: DateTime<Utc>,
) -> AppResult<Vec<(NewCandidate, bool)>> {
    let Some(first) = mine.first() else {
        return Ok(Vec::new());
    };
    if others.is_empty() {
        return Ok(Vec::new());
    }
    let tracing_left = first.content.kind == RecordKind::TracingRequest;
    let (tracing, custody) = if tracing_left {
        (mine, others)
    } else {
        (others, mine)
    };
    let left = table_of(tracing.iter().copied())?;
    let right = table_of(custody.iter().copied())?;
    // Reviewers' decisions may have lowered the renamed-child band below the review threshold;
    // every other pair keeps the review threshold.
    let floor = model
        .training
        .renamed_threshold
        .map_or(threshold, |r| r.min(threshold));
    let pairs: Vec<_> = engine_pairs(left, right, model.clone(), floor)
        .await?
        .into_iter()
        .filter(|p| p.possibly_renamed || p.probability >= threshold)
        .collect();
    pairs
        .into_iter()
        .map(|p| {
            let candidate = NewCandidate {
                id: MatchId::new(),
                tracing_record_id: tracing[p.left].id,
                custody_record_id: custody[p.right].id,
                probability: p.probability,
                match_weight: p.match_weight,
                explanation: stored_explanation(&p)?,
                model_version: model_version.to_owned(),
                created_at: now,
            };
            Ok((candidate, p.possibly_renamed))
        })
        .collect()
}

/// How far below the best partner of each of its two records (in log2-odds of the match weight)
/// a pair may score and still be queued (issue 13, the queue's precision): `link` keeps one
/// partner per record, the queue keeps every plausible one, and a sibling or a namesake far
/// behind a record's best partner is rarely the child. Chosen on generator 1 only (`homeward
/// bench queue` prints the queue at several margins; at 20k × 100k, 2 kept recall 0.9824 of
/// 0.9842 at 1.30 queued pairs per true pair instead of 2.60, at 20k × 400k 0.9814 of 0.9840 at
/// 1.85 instead of 5.12). Applied over a whole matching job.
pub const RANK_MARGIN: f64 = 2.0;

/// Which of `pairs` (tracing key, custody key, match weight, possibly renamed) the rank cut
/// keeps: a pair within `margin` of the best weight of its tracing record or of its custody
/// record (`either`), or of both (`!either`). A possibly-renamed pair is always kept: it is ranked
/// by other fields than the pairs it would be measured against, and it is the one the issue
/// wants in front of a person.
pub fn rank_cut<K: Eq + std::hash::Hash + Clone>(
    pairs: &[(K, K, f64, bool)],
    margin: f64,
    either: bool,
) -> Vec<bool> {
    let mut best_t: HashMap<&K, f64> = HashMap::new();
    let mut best_c: HashMap<&K, f64> = HashMap::new();
    for (t, c, w, renamed) in pairs {
        if *renamed {
            continue;
        }
        let bt = best_t.entry(t).or_insert(f64::NEG_INFINITY);
        *bt = bt.max(*w);
        let bc = best_c.entry(c).or_insert(f64::NEG_INFINITY);
        *bc = bc.max(*w);
    }
    pairs
        .iter()
        .map(|(t, c, w, renamed)| {
            let near = |best: Option<&f64>| best.is_none_or(|b| *w >= b - margin);
            let (nt, nc) = (near(best_t.get(t)), near(best_c.get(c)));
            *renamed || if either { nt || nc } else { nt && nc }
        })
        .collect()
}

/// The explanation as stored with a candidate: the engine's, and `"possibly_renamed": true` when
/// the pair is there by the renamed-child pattern (issue 13 §2), which the review page explains.
/// In the explanation rather than a column of its own: it says why the pair was proposed, and is
/// read and replaced with it.
fn stored_explanation(p: &homeward_linkage::LinkedPair) -> AppResult<String> {
    let mut v =
        serde_json::to_value(&p.explanation).map_err(|e| AppError::Internal(e.to_string()))?;
    if p.possibly_renamed
        && let Some(o) = v.as_object_mut()
    {
        o.insert(POSSIBLY_RENAMED.to_owned(), serde_json::Value::Bool(true));
    }
    Ok(v.to_string())
}

/// The key of [`stored_explanation`]'s mark.
const POSSIBLY_RENAMED: &str = "possibly_renamed";

/// [`homeward_linkage::score_pairs`] on a blocking thread: at an import's size the engine works
/// for seconds, which must not hold up the runtime (the job's lease is renewed on it).
pub(crate) async fn engine_pairs(
    left: Table,
    right: Table,
    model: Model,
    threshold: f64,
) -> AppResult<Vec<homeward_linkage::LinkedPair>> {
    tokio::task::spawn_blocking(move || {
        let config = LinkConfig {
            review_threshold: threshold,
            ..LinkConfig::default()
        };
        homeward_linkage::score_pairs(&left, &right, &config, &model).map_err(link_error)
    })
    .await
    .map_err(|e| AppError::Internal(format!("scoring stopped: {e}")))?
}

/// Scores one record against its blocked records of the other side as the bulk scoring does
/// (renamed-child pattern included, marked in the explanation: a re-score after retraining must
/// not drop the mark, nor sink the pair by the surname a renaming changed); keeps pairs at or
/// above `threshold`.
fn score(
    model: &Model,
    model_version: &str,
    record: &ChildRecord,
    blocked: &[&ChildRecord],
    threshold: f64,
    now: DateTime<Utc>,
) -> AppResult<Vec<NewCandidate>> {
    if blocked.is_empty() {
        return Ok(Vec::new());
    }
    let tracing_left = record.content.kind == RecordKind::TracingRequest;
    let mine = table_of([record])?;
    let theirs = table_of(blocked.iter().copied())?;
    let mut out = Vec::new();
    for (j, other) in blocked.iter().enumerate() {
        let (p, t, c) = if tracing_left {
            (model.score_pair(&mine, 0, &theirs, j), record.id, other.id)
        } else {
            (model.score_pair(&theirs, j, &mine, 0), other.id, record.id)
        };
        let p = p.map_err(link_error)?;
        if p.probability < threshold {
            continue;
        }
        out.push(NewCandidate {
            id: MatchId::new(),
            tracing_record_id: t,
            custody_record_id: c,
            probability: p.probability,
            match_weight: p.match_weight,
            explanation: stored_explanation(&p)?,
            model_version: model_version.to_owned(),
            created_at: now,
        });
    }
    Ok(out)
}

/// A reason is trimmed; required for a rejection; at most 2000 characters.
fn check_reason(reason: Option<&str>, required: bool) -> AppResult<Option<&str>> {
    let r = reason.map(str::trim).filter(|r| !r.is_empty());
    if required && r.is_none() {
        return Err(AppError::invalid(
            "reason",
            "required",
            "say why the candidate is rejected",
        ));
    }
    if r.is_some_and(|r| r.chars().count() > 2_000) {
        return Err(AppError::invalid(
            "reason",
            "too_long",
            "at most 2000 characters",
        ));
    }
    Ok(r)
}

fn decision_error(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(homeward_store::Conflict::SameReviewer) => AppError::SameReviewer,
        StoreError::Conflict(homeward_store::Conflict::CandidateDecided) => {
            AppError::CandidateDecided
        }
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use homeward_domain::ChildRecordInput;
    use homeward_domain::name::NameInput;

    fn draft(
        kind: RecordKind,
        given: &str,
        patronymic: &str,
        family: &str,
        dob: &str,
    ) -> RecordDraft {
        ChildRecordInput {
            names: vec![NameInput {
                given: Some(given.into()),
                patronymic: Some(patronymic.into()),
                family: Some(family.into()),
                ..Default::default()
            }],
            birth_date: Some(dob.into()),
            birth_place: Some("Маріуполь".into()),
            current_location: (kind == RecordKind::CustodyRecord).then(|| "Home 4".into()),
            enquirer_name: (kind == RecordKind::TracingRequest).then(|| "Оксана".into()),
            enquirer_relationship: (kind == RecordKind::TracingRequest).then(|| "mother".into()),
            ..Default::default()
        }
        .parse(kind, chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap())
        .unwrap()
    }

    #[test]
    fn one_child_in_two_spellings_shares_blocking_keys() {
        let uk = keys_of(draft(
            RecordKind::TracingRequest,
            "Дмитро",
            "Андрійович",
            "Олійник",
            "2015-03-07",
        ));
        let ru = keys_of(draft(
            RecordKind::CustodyRecord,
            "Дмитрий",
            "Андреевич",
            "Олейник",
            "07.03.2015",
        ));
        let shared: Vec<&String> = uk.iter().filter(|k| ru.contains(k)).collect();
        assert!(shared.len() >= 3, "{uk:?}\n{ru:?}");
    }

    fn keys_of(d: RecordDraft) -> Vec<String> {
        block_keys([&record(d)]).unwrap().remove(0)
    }

    fn record(d: RecordDraft) -> ChildRecord {
        let now = Utc::now();
        ChildRecord {
            id: RecordId::new(),
            party_id: homeward_domain::PartyId::new(),
            version: 1,
            content: d,
            created_at: now,
            created_by: UserId::new(),
            updated_at: now,
            updated_by: UserId::new(),
            deleted_at: None,
            deletion_reason: None,
            merged_into: None,
        }
    }

    #[test]
    fn the_child_outscores_his_brother_by_far() {
        let sought = record(draft(
            RecordKind::TracingRequest,
            "Дмитро",
            "Андрійович",
            "Олійник",
            "2015-03-07",
        ));
        let held = record(draft(
            RecordKind::CustodyRecord,
            "Дмитрий",
            "Андреевич",
            "Олейник",
            "07.03.2015",
        ));
        let brother = record(draft(
            RecordKind::CustodyRecord,
            "Артём",
            "Андреевич",
            "Олейник",
            "07.03.2015",
        ));
        // The brother shares blocking keys (surname, date), so he is scored, not just missed.
        let sk = keys_of(sought.content.clone());
        assert!(
            keys_of(brother.content.clone())
                .iter()
                .any(|k| sk.contains(k))
        );
        let model = Model::with_defaults(&linkage_columns());
        let all = score(&model, "t", &sought, &[&held, &brother], 0.0, Utc::now()).unwrap();
        let p = |id| {
            all.iter()
                .find(|c| c.custody_record_id == id)
                .unwrap()
                .probability
        };
        assert!(p(held.id) >= 0.5, "{}", p(held.id));
        assert!(
            p(brother.id) < 0.5 && p(brother.id) < p(held.id) / 2.0,
            "{}",
            p(brother.id)
        );
        // Scored from the custody side, the pair comes out the same way round.
        let back = score(&model, "t", &held, &[&sought], 0.0, Utc::now()).unwrap();
        assert_eq!(back[0].tracing_record_id, sought.id);
        assert!((back[0].probability - p(held.id)).abs() < 1e-9);
    }

    /// A record's partners far behind its best one are cut, unless the pair is near the best of
    /// its other record (either) or is possibly renamed; `both` asks both records.
    #[test]
    fn the_rank_cut_keeps_partners_near_a_records_best() {
        let pairs = [
            ("t1", "c1", 20.0, false),
            ("t1", "c2", 5.0, false), // far behind t1's best, and c2's only pair
            ("t2", "c2", 3.0, false), // t2's best, behind c2's best (5)
            ("t1", "c3", 2.0, true),  // renamed: kept
            ("t3", "c1", 14.0, false), // t3's best, 6 behind c1's best
        ];
        assert_eq!(rank_cut(&pairs, 8.0, true), [true, true, true, true, true]);
        assert_eq!(
            rank_cut(&pairs, 8.0, false),
            [true, false, true, true, true]
        );
        assert_eq!(
            rank_cut(&pairs, 4.0, false),
            [true, false, true, true, false]
        );
        assert_eq!(
            rank_cut(&pairs, f64::INFINITY, false),
            [true; 5],
            "no margin, no cut"
        );
    }

    #[test]
    fn cursors_round_trip() {
        let p = 0.123_456_789_012_345_67_f64;
        let id = MatchId::new();
        let (q, i) = parse_cursor(&format!("{p}:{id}")).unwrap();
        assert_eq!((q, i), (p, id));
        assert!(parse_cursor("nonsense").is_err());
    }
}
