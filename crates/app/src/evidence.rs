//! Observers' view of the accountability record, and evidence bundles: a case's accountability
//! record, its attachments and the audit entries about them, signed with the deployment's Ed25519
//! key together with the part of the audit chain that ties those entries to its head (the format
//! is `homeward_domain::evidence`). Every read and every export is audited.
//!
//! Which cases an observer may examine: those with an accountability record (the cases the
//! mediator recorded evidence for); any other case answers like a missing one. The mediator's
//! readers of the record see any case, but only observers export bundles.

use crate::{App, AppError, AppResult, Caller};
use chrono::SubsecRound;
use ed25519_dalek::{Signer, SigningKey};
use homeward_domain::evidence::{
    self, BundledAttachment, BundledCase, BundledName, ChainLink, Exporter, Manifest, SignedHead,
};
use homeward_domain::{
    AccountabilityFact, AttachmentId, AuditAction, AuditEntry, CaseId, CaseState, NameEntry,
    PartyKind, Permission, Scope, UserId,
};
use homeward_store::{Attachment, AttachmentOwner, AttachmentScope, AuditFilter, StoredCase};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

const AUDIT_PAGE: u32 = 5_000;

/// The key bundles are signed with. Its `Debug` never shows it.
#[derive(Clone)]
pub struct EvidenceKey(Arc<SigningKey>);

impl std::fmt::Debug for EvidenceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EvidenceKey(redacted)")
    }
}

impl EvidenceKey {
    pub fn new(key: SigningKey) -> Self {
        Self(Arc::new(key))
    }

    /// The public key verifiers bring, as 64 hex digits.
    pub fn public_key_hex(&self) -> String {
        crate::checkpoint::public_key_hex(&self.0.verifying_key())
    }
}

/// A name as written with its Latin transliteration by the passport standard of its script.
pub fn shown_name(n: &NameEntry) -> BundledName {
    let latin = homeward_linkage::passport_latin(&n.as_written, n.script).unwrap_or_default();
    BundledName {
        written: n.as_written.clone(),
        latin,
    }
}

/// A case an observer may examine, as the list shows it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ObservedCase {
    pub case_id: CaseId,
    /// The number people know the case by.
    pub number: homeward_domain::CaseNumber,
    pub state: CaseState,
    /// The child's names as written on the case's records (tracing request first).
    pub names: Vec<NameEntry>,
    pub facts: usize,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ObservedCasePage {
    pub items: Vec<ObservedCase>,
    /// Pass as `after` for the next page; absent on the last.
    pub next: Option<CaseId>,
}

/// One case's accountability record with the child's names and who recorded each fact.
#[derive(Clone, Debug, Serialize)]
pub struct ObservedCaseView {
    pub case: ObservedCase,
    pub accountability: Vec<AccountabilityFact>,
    /// Display names of the users who recorded the facts.
    pub recorders: HashMap<UserId, String>,
    /// Whether the caller may download the evidence bundle.
    pub may_export: bool,
}

/// A signed bundle, ready to be handed over.
#[derive(Clone, Debug)]
pub struct EvidenceBundle {
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// Whether `caller` may examine `case`: observers only those with an accountability record.
fn examinable(caller: &Caller, case: &StoredCase) -> bool {
    caller.party().kind != PartyKind::Observer || !case.case.accountability.is_empty()
}

/// Everything: the bundle reads attachments of the case and of its records.
const ALL: AttachmentScope = AttachmentScope {
    records: Scope::AllSubmitted,
    cases: true,
};

impl App {
    /// The child's names, from the case's records (read for their names only, not audited on
    /// their own: the read of the case that asks for them is).
    async fn child_names(&self, case: &StoredCase) -> AppResult<Vec<NameEntry>> {
        let ids: Vec<_> = [case.case.tracing_request, case.case.custody_record]
            .into_iter()
            .flatten()
            .collect();
        let records = self.store.records_for_linkage(&ids).await?;
        let mut names = Vec::new();
        for id in ids {
            if let Some(r) = records.iter().find(|r| r.id == id) {
                names.extend(r.content.names.iter().cloned());
            }
        }
        names.dedup_by(|a, b| a.as_written == b.as_written);
        Ok(names)
    }

    async fn observed(&self, case: &StoredCase) -> AppResult<ObservedCase> {
        Ok(ObservedCase {
            case_id: case.case.id,
            number: case.number,
            state: case.case.state,
            names: self.child_names(case).await?,
            facts: case.case.accountability.len(),
        })
    }

    /// The cases with an accountability record, with the child's names; audited as the
    /// accountability listing (with the case ids). A page scans a fixed number of cases.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn observed_cases(
        &self,
        caller: &Caller,
        after: Option<CaseId>,
    ) -> AppResult<ObservedCasePage> {
        let (page, next) = self.accountability_scan(caller, after).await?;
        let mut items = Vec::new();
        for c in &page {
            items.push(self.observed(c).await?);
        }
        Ok(ObservedCasePage { items, next })
    }

    /// One case's accountability record for an observer (or the mediator's readers); audited.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn observed_case(&self, caller: &Caller, id: CaseId) -> AppResult<ObservedCaseView> {
        caller.require(Permission::AccountabilityRead, &self.config)?;
        let audit = caller
            .audit(AuditAction::AccountabilityRead)
            .target("case", id);
        let stored = self
            .store
            .get_case(id, audit)
            .await?
            .filter(|c| examinable(caller, c))
            .ok_or(AppError::NotFound)?;
        let mut recorders = HashMap::new();
        for f in &stored.case.accountability {
            if let std::collections::hash_map::Entry::Vacant(e) = recorders.entry(f.recorded_by)
                && let Some(u) = self.store.get_user(f.recorded_by).await?
            {
                e.insert(u.display_name);
            }
        }
        Ok(ObservedCaseView {
            case: self.observed(&stored).await?,
            accountability: stored.case.accountability,
            recorders,
            may_export: caller.may(Permission::EvidenceExport),
        })
    }

    /// Builds and signs the evidence bundle of a case for an observer. The export is audited
    /// (`evidence.export`, before anything is read for it), and so is the read of each
    /// attachment; the bundle's chain ends at the head after those entries, so it carries its
    /// own export.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn export_evidence(&self, caller: &Caller, id: CaseId) -> AppResult<EvidenceBundle> {
        caller.require(Permission::EvidenceExport, &self.config)?;
        let key = self
            .config
            .evidence_key
            .clone()
            .ok_or(AppError::EvidenceNotConfigured)?;
        let audit = caller
            .audit(AuditAction::EvidenceExport)
            .target("case", id)
            .details(serde_json::json!({ "format": evidence::BUNDLE_FORMAT, "version": evidence::BUNDLE_VERSION }));
        let stored = self
            .store
            .get_case(id, audit)
            .await?
            .filter(|c| examinable(caller, c))
            .ok_or(AppError::NotFound)?;
        let attachments = self.evidence_attachments(caller, &stored).await?;
        let mut contents = Vec::with_capacity(attachments.len());
        let mut listed = Vec::with_capacity(attachments.len());
        for a in &attachments {
            let bytes = self
                .blobs
                .as_ref()
                .ok_or(AppError::AttachmentsNotConfigured)?
                .get(&a.sha256)
                .await?;
            let b = bundled(a);
            contents.push((b.path.clone(), bytes));
            listed.push(b);
        }
        let (entries, chain) = self.evidence_chain(id, &attachments).await?;
        let names = self.child_names(&stored).await?;
        let manifest = self.manifest(caller, &key, &stored, names, listed, entries, chain);
        let json_key = key.clone();
        let bytes = evidence::write_bundle(
            &manifest,
            |m| hex::encode(json_key.0.sign(m).to_bytes()),
            &contents,
            self.now().timestamp(),
        )
        .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(EvidenceBundle {
            filename: format!("evidence-{id}-{}.tar", self.now().format("%Y%m%dT%H%M%SZ")),
            bytes,
        })
    }

    /// The case's own attachments and those its accountability facts name as sources, each
    /// read audited.
    async fn evidence_attachments(
        &self,
        caller: &Caller,
        stored: &StoredCase,
    ) -> AppResult<Vec<Attachment>> {
        let id = stored.case.id;
        let audit = caller
            .audit(AuditAction::AttachmentList)
            .target("case", id)
            .details(serde_json::json!({ "purpose": "evidence_bundle" }));
        let mut out = self
            .store
            .list_attachments(ALL, AttachmentOwner::Case(id), audit)
            .await?
            .unwrap_or_default();
        let named = stored
            .case
            .accountability
            .iter()
            .flat_map(|f| &f.sources)
            .filter_map(|s| s.attachment.as_deref()?.parse::<AttachmentId>().ok());
        for aid in named.collect::<Vec<_>>() {
            if out.iter().any(|a| a.id == aid) {
                continue;
            }
            let audit = caller
                .audit(AuditAction::AttachmentRead)
                .target("attachment", aid)
                .details(serde_json::json!({ "purpose": "evidence_bundle", "case": id }));
            if let Some(a) = self.store.get_attachment(ALL, aid, audit).await? {
                out.push(a);
            }
        }
        Ok(out)
    }

    /// The entries about the case and its attachments, and the links of every entry from the
    /// first of them to the head.
    async fn evidence_chain(
        &self,
        id: CaseId,
        attachments: &[Attachment],
    ) -> AppResult<(Vec<AuditEntry>, Vec<ChainLink>)> {
        let (head, _) = self.store.audit_head().await?;
        let mut about = BTreeMap::new();
        let mut targets = vec![("case".to_owned(), id.to_string())];
        targets.extend(
            attachments
                .iter()
                .map(|a| ("attachment".to_owned(), a.id.to_string())),
        );
        for (kind, target) in targets {
            for e in self.entries_until(head, Some((kind, target))).await? {
                about.insert(e.seq, e);
            }
        }
        let first = about.keys().next().copied().unwrap_or(head);
        let chain = self
            .entries_from(first, head)
            .await?
            .into_iter()
            .map(|e| ChainLink {
                seq: e.seq,
                prev_hash: e.prev_hash,
                hash: e.hash,
            })
            .collect();
        Ok((about.into_values().collect(), chain))
    }

    /// The entries about one target up to `head`.
    async fn entries_until(
        &self,
        head: i64,
        target: Option<(String, String)>,
    ) -> AppResult<Vec<AuditEntry>> {
        let mut out = Vec::new();
        let mut after = 0;
        let (kind, id) = target.unzip();
        loop {
            let f = AuditFilter {
                after_seq: after,
                limit: AUDIT_PAGE,
                target_kind: kind.clone(),
                target_id: id.clone(),
                ..Default::default()
            };
            let page = self.store.audit_entries(&f).await?;
            let Some(last) = page.last().map(|e| e.seq) else {
                break;
            };
            out.extend(page.into_iter().filter(|e| e.seq <= head));
            if last >= head {
                break;
            }
            after = last;
        }
        Ok(out)
    }

    /// Every entry from `first` to `head`.
    async fn entries_from(&self, first: i64, head: i64) -> AppResult<Vec<AuditEntry>> {
        let mut out = Vec::new();
        let mut after = first - 1;
        while after < head {
            let f = AuditFilter {
                after_seq: after,
                limit: AUDIT_PAGE,
                ..Default::default()
            };
            let page = self.store.audit_entries(&f).await?;
            let Some(last) = page.last().map(|e| e.seq) else {
                break;
            };
            out.extend(page.into_iter().filter(|e| e.seq <= head));
            after = last;
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn manifest(
        &self,
        caller: &Caller,
        key: &EvidenceKey,
        stored: &StoredCase,
        names: Vec<NameEntry>,
        attachments: Vec<BundledAttachment>,
        audit_entries: Vec<AuditEntry>,
        chain: Vec<ChainLink>,
    ) -> Manifest {
        let at = self
            .now()
            .trunc_subsecs(6)
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string();
        let (seq, hash) = chain
            .last()
            .map(|l| (l.seq, l.hash.clone()))
            .unwrap_or((0, homeward_domain::GENESIS_HASH.to_owned()));
        let signature = hex::encode(
            key.0
                .sign(&evidence::checkpoint_message(seq, &hash, &at))
                .to_bytes(),
        );
        Manifest {
            format: evidence::BUNDLE_FORMAT.to_owned(),
            version: evidence::BUNDLE_VERSION,
            case: BundledCase {
                id: stored.case.id,
                state: stored.case.state.as_str().to_owned(),
                child_names: names.iter().map(shown_name).collect(),
            },
            exported_by: Exporter {
                user_id: caller.user().id.to_string(),
                display_name: caller.user().display_name.clone(),
                party_name: caller.party().name.as_str().to_owned(),
                at: at.clone(),
            },
            accountability: stored.case.accountability.clone(),
            attachments,
            audit_entries,
            chain,
            head: SignedHead {
                seq,
                hash,
                at,
                signature,
            },
            public_key: key.public_key_hex(),
        }
    }
}

fn bundled(a: &Attachment) -> BundledAttachment {
    let id = a.id.to_string();
    BundledAttachment {
        path: evidence::attachment_path(&id, &a.filename),
        id,
        filename: a.filename.clone(),
        content_type: a.content_type.clone(),
        size: u64::try_from(a.size).unwrap_or(0),
        sha256: a.sha256.clone(),
    }
}

/// A synthetic one-page PDF standing in for a scanned witness statement (demo and tests only).
pub const SYNTHETIC_STATEMENT: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n% Synthetic witness statement made by Homeward's demo: no real child or person.\ntrailer << /Root 1 0 R >>\n%%EOF\n";

impl App {
    /// Gives the demo (and tests) a case an observer can examine: `reviewer` confirms the first
    /// candidate of the review queue, `caseworker` attaches a synthetic statement to the case and
    /// records how the child was taken and where it was held. Every step is an ordinary,
    /// audited use-case. `None` when the queue is empty.
    #[tracing::instrument(skip_all)]
    pub async fn seed_accountability_example(
        &self,
        reviewer: &Caller,
        caseworker: &Caller,
    ) -> AppResult<Option<CaseId>> {
        use crate::aftercare::AccountabilityInput;
        use homeward_domain::{Actor, FactKind, Source};
        let queue = self
            .review_queue(reviewer, &crate::matching::QueueQuery::default())
            .await?;
        let Some(first) = queue.items.first() else {
            return Ok(None);
        };
        let decided = self
            .confirm_candidate(
                reviewer,
                first.id,
                Some("same child: names, birth date and place agree"),
            )
            .await?;
        let Some(case) = decided.case.map(|c| c.case.id) else {
            return Ok(None);
        };
        let statement = self
            .upload_case_attachment(
                caseworker,
                case,
                crate::attachments::Upload {
                    filename: "witness-statement.pdf",
                    declared_type: Some("application/pdf"),
                    description: Some("synthetic witness statement"),
                    bytes: SYNTHETIC_STATEMENT,
                },
            )
            .await?;
        let facts = [
            (
                FactKind::Removal,
                "2022-09",
                "moved from the children's hospital with eleven other children by bus",
                "statement of a nurse",
                Some(statement.id.to_string()),
            ),
            (
                FactKind::PlaceHeld,
                "2022-10",
                "held at a regional children's home across the line",
                "list published by the home",
                None,
            ),
        ];
        for (kind, when, details, source, attachment) in facts {
            let input = AccountabilityInput {
                kind,
                when: Some(when.to_owned()),
                place: None,
                actors: vec![Actor {
                    kind: homeward_domain::ActorKind::Institution,
                    name: "Regional health department".to_owned(),
                    role: Some("ordered the transfer".to_owned()),
                }],
                details: details.to_owned(),
                sources: vec![Source {
                    description: source.to_owned(),
                    attachment,
                }],
                corrects: None,
            };
            self.record_accountability(caseworker, case, &input).await?;
        }
        Ok(Some(case))
    }
}
