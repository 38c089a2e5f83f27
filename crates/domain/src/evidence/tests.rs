#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use crate::audit::{AuditAction, AuditDraft, GENESIS_HASH};
use chrono::Utc;
use ed25519_dalek::{Signer, SigningKey};

const CONTENT: &[u8] = b"%PDF-1.4 synthetic statement";
const ATTACHMENT: &str = "0190a0b0-0000-7000-8000-000000000001";

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

/// A chain of six entries: 2 records the upload, 4 reads the case, the others are about
/// something else (only their links go into the bundle).
fn chain(case: CaseId) -> Vec<AuditEntry> {
    let mut prev = GENESIS_HASH.to_owned();
    (1..=6)
        .map(|seq| {
            let d = match seq {
                2 => AuditDraft::new(AuditAction::AttachmentUpload)
                    .target("attachment", ATTACHMENT)
                    .details(serde_json::json!({"sha256": sha256_hex(CONTENT)})),
                4 => AuditDraft::new(AuditAction::EvidenceExport).target("case", case),
                _ => AuditDraft::new(AuditAction::RecordRead).target("record", seq),
            };
            let e = d.seal(seq, Utc::now(), &prev);
            prev = e.hash.clone();
            e
        })
        .collect()
}

fn manifest() -> Manifest {
    let case = CaseId::new();
    let entries = chain(case);
    let head = entries.last().cloned().unwrap();
    let at = "2026-12-07T13:00:00.000000Z".to_owned();
    let signature = hex::encode(
        key()
            .sign(&checkpoint_message(head.seq, &head.hash, &at))
            .to_bytes(),
    );
    Manifest {
        format: BUNDLE_FORMAT.into(),
        version: BUNDLE_VERSION,
        case: BundledCase {
            id: case,
            state: "open".into(),
            child_names: vec![BundledName {
                written: "Олійник Григорій".into(),
                latin: "Oliinyk Hryhorii".into(),
            }],
        },
        exported_by: Exporter {
            user_id: "u".into(),
            display_name: "Prosecutor".into(),
            party_name: "Office".into(),
            at: at.clone(),
        },
        accountability: Vec::new(),
        attachments: vec![BundledAttachment {
            id: ATTACHMENT.into(),
            path: attachment_path(ATTACHMENT, "statement (1).pdf"),
            filename: "statement (1).pdf".into(),
            content_type: "application/pdf".into(),
            size: CONTENT.len() as u64,
            sha256: sha256_hex(CONTENT),
        }],
        audit_entries: vec![entries[1].clone(), entries[3].clone()],
        chain: entries[1..]
            .iter()
            .map(|e| ChainLink {
                seq: e.seq,
                prev_hash: e.prev_hash.clone(),
                hash: e.hash.clone(),
            })
            .collect(),
        head: SignedHead {
            seq: head.seq,
            hash: head.hash,
            at,
            signature,
        },
        public_key: hex::encode(key().verifying_key().to_bytes()),
    }
}

fn bundle_of(m: &Manifest, content: &[u8]) -> Vec<u8> {
    let k = key();
    write_bundle(
        m,
        |msg| hex::encode(k.sign(msg).to_bytes()),
        &[(m.attachments[0].path.clone(), content.to_vec())],
        0,
    )
    .unwrap()
}

/// The codes of the problems found, with the trusted key.
fn codes(bundle: &[u8]) -> Vec<&'static str> {
    verify(bundle, Some(&key().verifying_key()))
        .problems
        .iter()
        .map(|p| p.code)
        .collect()
}

/// A manifest changed by `f` and signed again (what a forger with the key could do), so that
/// only the part `f` broke is named.
fn resigned(f: impl Fn(&mut Manifest)) -> Vec<&'static str> {
    let mut m = manifest();
    f(&mut m);
    codes(&bundle_of(&m, CONTENT))
}

#[test]
fn an_intact_bundle_verifies() {
    let m = manifest();
    let v = verify(&bundle_of(&m, CONTENT), Some(&key().verifying_key()));
    assert!(v.holds(), "{:?}", v.problems);
    assert_eq!(v.manifest.unwrap(), m);
    assert_eq!(
        m.attachments[0].path,
        format!("attachments/{ATTACHMENT}-statement1.pdf")
    );
}

#[test]
fn another_key_fails_both_signatures() {
    let other = SigningKey::from_bytes(&[9u8; 32]).verifying_key();
    let v = verify(&bundle_of(&manifest(), CONTENT), Some(&other));
    let codes: Vec<_> = v.problems.iter().map(|p| p.code).collect();
    assert_eq!(codes, ["signature_invalid", "head_signature_invalid"]);
    // Without a key of its own the verifier uses the bundle's and says so.
    let v = verify(&bundle_of(&manifest(), CONTENT), None);
    assert!(v.holds() && !v.key_from_verifier);
}

#[test]
fn an_altered_manifest_fails_its_signature() {
    let bytes = bundle_of(&manifest(), CONTENT);
    let mut files = ustar::read(&bytes).unwrap();
    let text = String::from_utf8(files[0].1.clone()).unwrap();
    files[0].1 = text.replace("Prosecutor", "Someone").into_bytes();
    let mut w = ustar::TarWriter::default();
    for (n, b) in &files {
        w.file(n, b, 0).unwrap();
    }
    assert_eq!(codes(&w.finish()), ["signature_invalid"]);
}

#[test]
fn an_altered_attachment_is_named() {
    let v = verify(
        &bundle_of(&manifest(), b"%PDF-1.4 other text"),
        Some(&key().verifying_key()),
    );
    assert_eq!(v.problems.len(), 1);
    assert_eq!(v.problems[0].code, "attachment_hash_mismatch");
    assert_eq!(v.problems[0].subject, ATTACHMENT);
    assert!(
        v.problems[0]
            .to_string()
            .starts_with("attachment_hash_mismatch [0190a0b0")
    );
}

#[test]
fn a_missing_or_extra_file_is_named() {
    let m = manifest();
    let k = key();
    let sign = |msg: &[u8]| hex::encode(k.sign(msg).to_bytes());
    let none = write_bundle(&m, sign, &[], 0).unwrap();
    assert_eq!(codes(&none), ["attachment_missing"]);
    let extra = write_bundle(
        &m,
        sign,
        &[
            (m.attachments[0].path.clone(), CONTENT.to_vec()),
            ("x".into(), vec![1]),
        ],
        0,
    )
    .unwrap();
    assert_eq!(codes(&extra), ["file_unlisted"]);
}

#[test]
fn an_altered_entry_is_named_by_its_seq() {
    let c = resigned(|m| m.audit_entries[1].source = Some("forged".into()));
    assert_eq!(c, ["entry_hash_mismatch"]);
    // Re-hashed to fit: then it no longer sits in the chain.
    let c = resigned(|m| {
        m.audit_entries[1].source = Some("forged".into());
        m.audit_entries[1].hash = m.audit_entries[1].compute_hash();
    });
    assert_eq!(c, ["entry_not_in_chain"]);
}

#[test]
fn a_broken_link_and_a_wrong_head_are_named() {
    // chain[1] is entry 3, which is about something else: only its link is in the bundle.
    let c = resigned(|m| m.chain[1].prev_hash = "ab".repeat(32));
    assert_eq!(c, ["chain_link_broken"]);
    let c = resigned(|m| {
        m.chain.remove(1);
    });
    assert_eq!(c, ["chain_link_broken"]);
    // Entry 4 is in the bundle: taking its link out also leaves it outside the chain.
    let c = resigned(|m| {
        m.chain.remove(2);
    });
    assert_eq!(c, ["entry_not_in_chain", "chain_link_broken"]);
    let c = resigned(|m| {
        m.chain.pop();
    });
    assert_eq!(c, ["head_mismatch"]);
}

#[test]
fn a_head_resigned_without_the_key_fails() {
    let c = resigned(|m| m.head.seq = 7);
    assert_eq!(c, ["head_signature_invalid", "head_mismatch"]);
}

#[test]
fn an_upload_the_audit_does_not_show_is_named() {
    let c = resigned(|m| {
        m.audit_entries.remove(0);
    });
    assert_eq!(c, ["attachment_not_in_audit"]);
}

#[test]
fn other_formats_and_damage_are_named() {
    assert_eq!(codes(b"not a tar"), ["bundle_unreadable"]);
    let mut w = ustar::TarWriter::default();
    w.file("other.json", b"{}", 0).unwrap();
    assert_eq!(codes(&w.finish()), ["manifest_missing"]);
    let c = resigned(|m| m.version = 2);
    assert_eq!(c, ["unsupported_version"]);
}
