//! Duplicates within one party: the same child filed twice by the same side (two shelters, two
//! imports, a Cyrillic and a Latin spelling). They are found the way matches are, as records are
//! filed, changed or imported: each changed record is scored with the same linkage model against
//! the records of its own party and kind that share a blocking key. A person decides: dismiss
//! (not the same child; the pair never comes back) or merge (one record absorbs the other; both
//! records and both histories stay, and the merge is audited and traceable both ways).
//!
//! Who sees them: the owning party's caseworkers and reviewers (they know their own records) and
//! the mediator's, through the caller's scope, so no party ever sees another party's pairs.

use crate::jobs::{JobActor, match_key_of_record};
use crate::matching::{distinct_keys, engine_pairs, table_of};
use crate::records::{filed_kind, search_key};
use crate::{App, AppError, AppResult, Caller};
use chrono::{DateTime, Utc};
use homeward_domain::{
    AuditAction, CaseId, ChildRecord, ChildRecordInput, DuplicateId, MatchId, PartyId, Permission,
    RecordId, RecordKind, UserId,
};
use homeward_linkage::{LinkConfig, Model};
use homeward_store::{
    DuplicateCandidate, DuplicateFilter, DuplicateMerge, DuplicateStatus, NewDuplicate, StoreError,
};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

pub const DEFAULT_DUPLICATE_PAGE: u32 = 50;
/// At most this many candidate duplicates are kept per record each time it is scored: the best
/// by probability. A family of many similar children (siblings, cousins, one surname and one
/// birth place) would otherwise pair every child with every other, which grows with the square
/// of the family (597 such records made 86,865 pairs) and buries the real duplicates.
pub const MAX_DUPLICATES_PER_RECORD: usize = 5;
pub const MAX_DUPLICATE_PAGE: u32 = 500;

/// A candidate duplicate as its reviewers see it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DuplicateView {
    pub id: DuplicateId,
    /// The party both records belong to.
    pub party_id: PartyId,
    pub kind: RecordKind,
    /// The pair, smaller id first; the explanation has the first record on its left.
    pub first_record_id: RecordId,
    pub second_record_id: RecordId,
    pub probability: f64,
    pub match_weight: f64,
    /// The engine's field-by-field explanation: each field's level, both values and its weight,
    /// and the prior.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub explanation: serde_json::Value,
    pub model_version: String,
    /// `pending`, `dismissed`, `merged`, or `closed` (one record was merged away in another pair).
    pub status: String,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    /// After a merge: the record that survived.
    pub survivor_id: Option<RecordId>,
    pub created_at: DateTime<Utc>,
}

impl From<DuplicateCandidate> for DuplicateView {
    fn from(d: DuplicateCandidate) -> Self {
        Self {
            id: d.id,
            party_id: d.party_id,
            kind: d.kind,
            first_record_id: d.first_record_id,
            second_record_id: d.second_record_id,
            probability: d.probability,
            match_weight: d.match_weight,
            // Written by us from the engine's Explanation; kept as text only if it ever is not JSON.
            explanation: serde_json::from_str(&d.explanation)
                .unwrap_or(serde_json::Value::String(d.explanation)),
            model_version: d.model_version,
            status: d.status.as_str().to_owned(),
            decided_by: d.decided_by,
            decided_at: d.decided_at,
            reason: d.reason,
            survivor_id: d.survivor_id,
            created_at: d.created_at,
        }
    }
}

/// A candidate duplicate with both records side by side.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DuplicateDetail {
    pub duplicate: DuplicateView,
    pub first_record: ChildRecord,
    pub second_record: ChildRecord,
}

/// One page of candidate duplicates.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DuplicatePage {
    pub items: Vec<DuplicateView>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next: Option<String>,
}

/// Which candidate duplicates to list.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct DuplicateQuery {
    /// Default: the review threshold.
    pub min_probability: Option<f64>,
    pub after: Option<String>,
    pub limit: Option<u32>,
}

/// A merge as the caller asks for it.
#[derive(Clone, Debug)]
pub struct MergeInput {
    /// Which record of the pair goes on; the other is absorbed into it.
    pub survivor: RecordId,
    /// The versions of the two records the caller compared.
    pub survivor_version: i64,
    pub absorbed_version: i64,
    pub reason: String,
    /// The survivor's new content, merged from both by the caller; without it the survivor's
    /// content stays as it is. Needs the right to change records.
    pub content: Option<ChildRecordInput>,
}

/// What a merge did.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MergeView {
    pub duplicate: DuplicateView,
    pub survivor: ChildRecord,
    /// Deleted, with `merged_into` naming the survivor; its history stays readable.
    pub absorbed: ChildRecord,
    /// The absorbed record's other pending duplicates, closed.
    pub closed_duplicates: Vec<DuplicateId>,
    /// The absorbed record's pending candidate matches, now proposing the survivor.
    pub repointed_matches: Vec<MatchId>,
    /// The absorbed record's pending candidate matches closed because the survivor already had
    /// a candidate with the same record of the other side.
    pub closed_matches: Vec<MatchId>,
    /// The case that held the absorbed record and now holds the survivor.
    pub repointed_case: Option<CaseId>,
}

/// `"<probability>:<id>"`, as the match queue pages.
fn cursor(d: &DuplicateView) -> String {
    format!("{}:{}", d.probability, d.id)
}

fn parse_cursor(s: &str) -> AppResult<(f64, DuplicateId)> {
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

/// A decision's reason: trimmed, required, at most 2000 characters.
fn check_reason<'a>(reason: &'a str, why: &str) -> AppResult<&'a str> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(AppError::invalid("reason", "required", why.to_owned()));
    }
    if r.chars().count() > 2_000 {
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
        StoreError::Conflict(homeward_store::Conflict::DuplicateDecided) => {
            AppError::DuplicateDecided
        }
        StoreError::Conflict(homeward_store::Conflict::CasesDiffer) => AppError::CasesDiffer,
        StoreError::Conflict(homeward_store::Conflict::SurvivorNotInPair) => not_in_pair(),
        other => other.into(),
    }
}

fn not_in_pair() -> AppError {
    AppError::invalid(
        "survivor",
        "not_in_pair",
        "the survivor must be one of the two records of the pair",
    )
}

impl App {
    /// Scores each changed record against the records of its own party and kind sharing any of
    /// its blocking keys (`keyed`, already stored), and stores the pairs at or above the review
    /// threshold as candidate duplicates, at most [`MAX_DUPLICATES_PER_RECORD`] per record (the
    /// most probable). The records of one batch find each other too: an import holding the same
    /// child twice is the commonest way a duplicate arrives. One audit entry for the run names
    /// every pair stored.
    pub(crate) async fn find_duplicates(
        &self,
        actor: &JobActor,
        records: &[ChildRecord],
        keyed: &[(RecordId, RecordKind, Vec<String>)],
        model: &Model,
        model_version: &str,
        threshold: f64,
    ) -> AppResult<usize> {
        let mut groups: HashMap<(PartyId, RecordKind), Vec<Keyed<'_>>> = HashMap::new();
        for (r, (_, _, keys)) in records.iter().zip(keyed) {
            groups
                .entry((r.party_id, r.content.kind))
                .or_default()
                .push((r, keys));
        }
        let mut found = Vec::new();
        for ((party, kind), group) in groups {
            let keys = distinct_keys(group.iter().map(|(_, k)| *k));
            let mine: HashSet<RecordId> = group.iter().map(|(r, _)| r.id).collect();
            // The group's own records come back too (their keys are stored): they are in hand.
            let older: Vec<RecordId> = self
                .store
                .records_sharing_keys(kind, Some(party), &keys)
                .await?
                .into_iter()
                .filter(|id| !mine.contains(id))
                .collect();
            let older = self.store.records_for_linkage(&older).await?;
            let group: Vec<&ChildRecord> = group.iter().map(|(r, _)| *r).collect();
            found.extend(
                duplicates_in_bulk(
                    model,
                    model_version,
                    &group,
                    &older,
                    threshold,
                    Stamp {
                        party,
                        kind,
                        now: self.now(),
                    },
                )
                .await?,
            );
        }
        if found.is_empty() {
            return Ok(0);
        }
        let audit = |inserted: &[NewDuplicate]| {
            actor.audit(
                AuditAction::DuplicateCandidateCreate,
                serde_json::json!({
                    "count": inserted.len(),
                    "duplicate_ids": inserted.iter().map(|d| d.id).collect::<Vec<_>>(),
                    "records": records.len(),
                    "model_version": model_version,
                }),
            )
        };
        Ok(self.store.insert_duplicates(&found, &audit).await?.len())
    }

    /// Pending candidate duplicates within the caller's scope, most probable first.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn duplicate_queue(
        &self,
        caller: &Caller,
        q: &DuplicateQuery,
    ) -> AppResult<DuplicatePage> {
        caller.require(Permission::DuplicateReview, &self.config)?;
        let limit = q.limit.unwrap_or(DEFAULT_DUPLICATE_PAGE);
        if limit == 0 || limit > MAX_DUPLICATE_PAGE {
            return Err(AppError::invalid(
                "limit",
                "out_of_range",
                format!("between 1 and {MAX_DUPLICATE_PAGE}"),
            ));
        }
        let min = q
            .min_probability
            .unwrap_or(LinkConfig::default().review_threshold);
        if !(0.0..=1.0).contains(&min) {
            return Err(AppError::invalid(
                "min_probability",
                "out_of_range",
                "between 0 and 1",
            ));
        }
        let after = q.after.as_deref().map(parse_cursor).transpose()?;
        let filter = DuplicateFilter {
            min_probability: min,
            after,
            limit,
        };
        let audit = caller
            .audit(AuditAction::DuplicateQueueRead)
            .details(serde_json::json!({ "min_probability": min }));
        let items: Vec<DuplicateView> = self
            .store
            .duplicate_queue(caller.scope(), &filter, audit)
            .await?
            .into_iter()
            .map(DuplicateView::from)
            .collect();
        let next = (items.len() == limit as usize)
            .then(|| items.last().map(cursor))
            .flatten();
        Ok(DuplicatePage { items, next })
    }

    /// One candidate duplicate (in any status) with both records side by side; each record read
    /// is audited. Another party's pair answers exactly like a missing one.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn get_duplicate(
        &self,
        caller: &Caller,
        id: DuplicateId,
    ) -> AppResult<DuplicateDetail> {
        let d = self.read_duplicate(caller, id).await?;
        let read = |rid: RecordId| {
            let audit = caller
                .audit(AuditAction::RecordRead)
                .target("record", rid)
                .details(serde_json::json!({ "duplicate": id }));
            self.store.get_record(caller.scope(), rid, audit)
        };
        let missing = || AppError::Internal(format!("a record of duplicate {id} is missing"));
        let first_record = read(d.first_record_id).await?.ok_or_else(missing)?;
        let second_record = read(d.second_record_id).await?.ok_or_else(missing)?;
        Ok(DuplicateDetail {
            duplicate: d.into(),
            first_record,
            second_record,
        })
    }

    async fn read_duplicate(
        &self,
        caller: &Caller,
        id: DuplicateId,
    ) -> AppResult<DuplicateCandidate> {
        caller.require(Permission::DuplicateReview, &self.config)?;
        let audit = caller
            .audit(AuditAction::DuplicateRead)
            .target("duplicate", id);
        self.store
            .get_duplicate(caller.scope(), id, audit)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// Dismisses a candidate duplicate: the two records are different children. The pair is
    /// never proposed again, however often either record changes.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn dismiss_duplicate(
        &self,
        caller: &Caller,
        id: DuplicateId,
        reason: &str,
    ) -> AppResult<DuplicateView> {
        caller.require(Permission::DuplicateReview, &self.config)?;
        let reason = check_reason(reason, "say why these are different children")?;
        let audit = caller
            .audit(AuditAction::DuplicateDismiss)
            .target("duplicate", id)
            .details(serde_json::json!({ "reason": reason }));
        Ok(self
            .store
            .dismiss_duplicate(
                caller.scope(),
                id,
                caller.user().id,
                self.now(),
                reason,
                audit,
            )
            .await
            .map_err(decision_error)?
            .into())
    }

    /// Merges the two records of a candidate duplicate: `survivor` goes on (with merged content
    /// if given), the other is deleted with `merged_into` pointing at the survivor. Both keep
    /// their histories; the absorbed record's pending matches and its case follow the survivor
    /// (see [`homeward_store::Store::merge_duplicate`]). The survivor is then scored again, as any
    /// changed record is.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn merge_duplicate(
        &self,
        caller: &Caller,
        id: DuplicateId,
        input: &MergeInput,
    ) -> AppResult<MergeView> {
        caller.require(Permission::DuplicateReview, &self.config)?;
        let reason = check_reason(&input.reason, "say why these records are the same child")?;
        let now = self.now();
        // Changing what a record says is the owning side's right, merge or not.
        let content = match &input.content {
            Some(c) => {
                caller.require(Permission::RecordUpdate, &self.config)?;
                let kind = filed_kind(caller)?;
                let draft = c.parse(kind, now.date_naive())?;
                let key = search_key(&draft);
                Some((draft, key))
            }
            None => None,
        };
        let d = self.read_duplicate(caller, id).await?;
        if d.status != DuplicateStatus::Pending {
            return Err(AppError::DuplicateDecided);
        }
        let absorbed = if input.survivor == d.first_record_id {
            d.second_record_id
        } else if input.survivor == d.second_record_id {
            d.first_record_id
        } else {
            return Err(not_in_pair());
        };
        if content.as_ref().is_some_and(|(c, _)| c.kind != d.kind) {
            return Err(AppError::invalid(
                "content",
                "wrong_kind",
                "the merged content must be of the records' kind",
            ));
        }
        let details = serde_json::json!({
            "duplicate": id,
            "survivor": input.survivor,
            "absorbed": absorbed,
            "survivor_version": input.survivor_version,
            "absorbed_version": input.absorbed_version,
            "content_changed": content.is_some(),
            "reason": reason,
        });
        // One entry on each record, so that either record's audit trail shows the merge.
        let audit = vec![
            caller
                .audit(AuditAction::RecordMerge)
                .target("record", absorbed)
                .details(details.clone()),
            caller
                .audit(AuditAction::RecordMerge)
                .target("record", input.survivor)
                .details(details),
        ];
        let case_audit = caller
            .audit(AuditAction::CaseRecordMerged)
            .details(serde_json::json!({
                "duplicate": id,
                "from_record": absorbed,
                "to_record": input.survivor,
            }));
        let merge = DuplicateMerge {
            id,
            survivor: input.survivor,
            survivor_version: input.survivor_version,
            absorbed_version: input.absorbed_version,
            content: content.as_ref().map(|(c, k)| (c, k.as_str())),
            reason,
            by: caller.user().id,
            at: now,
        };
        let out = self
            .store
            .merge_duplicate(caller.scope(), merge, audit, Some(case_audit))
            .await
            .map_err(decision_error)?;
        self.after_commit(&match_key_of_record(out.survivor.id, out.survivor.version))
            .await;
        Ok(MergeView {
            duplicate: out.duplicate.into(),
            survivor: out.survivor,
            absorbed: out.absorbed,
            closed_duplicates: out.closed_duplicates,
            repointed_matches: out.repointed_matches,
            closed_matches: out.closed_matches,
            repointed_case: out.repointed_case,
        })
    }
}

/// A changed record with its blocking keys.
type Keyed<'a> = (&'a ChildRecord, &'a Vec<String>);

/// Candidate duplicates of `group` (records of one party and kind) among themselves and against
/// `older` (the party's other records sharing a blocking key with them), scored in one call of
/// the engine: the same blocking, weights and sibling guard as matching. Each pair once, its
/// smaller id on the left of the explanation; at most [`MAX_DUPLICATES_PER_RECORD`] per record
/// of the group (the most probable). A pair that only the renamed-child pattern brings up is
/// not proposed: within one party a different surname and patronymic is another child.
/// What every duplicate found in one group carries: the party and kind of its records, and when
/// it was found.
struct Stamp {
    party: PartyId,
    kind: RecordKind,
    now: DateTime<Utc>,
}

async fn duplicates_in_bulk(
    model: &Model,
    model_version: &str,
    group: &[&ChildRecord],
    older: &[ChildRecord],
    threshold: f64,
    stamp: Stamp,
) -> AppResult<Vec<NewDuplicate>> {
    let Stamp { party, kind, now } = stamp;
    let right: Vec<&ChildRecord> = group.iter().copied().chain(older).collect();
    if right.len() < 2 {
        return Ok(Vec::new());
    }
    let pairs = engine_pairs(
        table_of(group.iter().copied())?,
        table_of(right.iter().copied())?,
        model.clone(),
        threshold,
    )
    .await?;
    let mut per_record: HashMap<usize, Vec<homeward_linkage::LinkedPair>> = HashMap::new();
    for p in pairs {
        // Within the group each pair is met from both ends: keep it from its first row.
        let within = p.right < group.len();
        // A pair there only by the renamed-child pattern is proposed only if its ordinary score
        // passes too (the engine returns it for review whatever its score).
        let renamed_only = p.possibly_renamed && p.explanation.probability < threshold;
        if (within && p.right <= p.left) || renamed_only {
            continue;
        }
        per_record.entry(p.left).or_default().push(p);
    }
    let mut seen: HashSet<(RecordId, RecordId)> = HashSet::new();
    let mut out = Vec::new();
    for (_, mut found) in per_record {
        found.sort_by(|a, b| {
            b.explanation
                .probability
                .total_cmp(&a.explanation.probability)
        });
        for p in found.into_iter().take(MAX_DUPLICATES_PER_RECORD) {
            let (a, b) = (group[p.left].id, right[p.right].id);
            let (first, second) = ordered(a, b);
            if !seen.insert((first, second)) {
                continue;
            }
            let mut e = p.explanation;
            if a > b {
                for f in &mut e.fields {
                    std::mem::swap(&mut f.left, &mut f.right);
                }
            }
            out.push(NewDuplicate {
                id: DuplicateId::new(),
                party_id: party,
                kind,
                first_record_id: first,
                second_record_id: second,
                probability: e.probability,
                match_weight: e.match_weight,
                explanation: serde_json::to_string(&e)
                    .map_err(|e| AppError::Internal(e.to_string()))?,
                model_version: model_version.to_owned(),
                created_at: now,
            });
        }
    }
    Ok(out)
}

fn ordered(a: RecordId, b: RecordId) -> (RecordId, RecordId) {
    if a <= b { (a, b) } else { (b, a) }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::matching::{block_keys, explain_pairs};
    use homeward_domain::name::NameInput;

    fn custody(given: &str, family: &str, place: &str) -> ChildRecord {
        let content = ChildRecordInput {
            names: vec![NameInput {
                given: Some(given.into()),
                patronymic: Some("Андреевич".into()),
                family: Some(family.into()),
                ..Default::default()
            }],
            sex: Some("m".into()),
            birth_date: Some("07.03.2015".into()),
            birth_place: Some(place.into()),
            current_location: Some("Детский дом № 4".into()),
            ..Default::default()
        }
        .parse(
            RecordKind::CustodyRecord,
            chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        )
        .unwrap();
        let now = Utc::now();
        ChildRecord {
            id: RecordId::new(),
            party_id: PartyId::new(),
            version: 1,
            content,
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
    fn a_twin_is_scored_and_kept_out_while_the_same_boy_in_latin_is_kept() {
        let boy = custody("Дмитрий", "Олейник", "Мариуполь");
        let latin = custody("Dmitrii", "Oleinik", "Mariupol");
        let twin = custody("Артём", "Олейник", "Мариуполь");
        let keys = block_keys([&boy, &latin, &twin]).unwrap();
        // The twin shares blocking keys with the boy: he is compared, not merely missed.
        assert!(keys[2].iter().any(|k| keys[0].contains(k)));
        assert!(keys[1].iter().any(|k| keys[0].contains(k)));
        let model = Model::with_defaults(&crate::matching::linkage_columns());
        let threshold = LinkConfig::default().review_threshold;
        let kept = explain_pairs(&model, &boy, &[&latin, &twin], threshold, true).unwrap();
        assert_eq!(kept.iter().map(|(j, _)| *j).collect::<Vec<_>>(), [0]);
        // Found from the Latin record (on the right), the pair is laid out and scored the same.
        let back = explain_pairs(&model, &latin, &[&boy], 0.0, false).unwrap();
        assert!((back[0].1.probability - kept[0].1.probability).abs() < 1e-9);
    }
}
