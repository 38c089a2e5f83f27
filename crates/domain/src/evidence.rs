//! Evidence bundles: one case's accountability record, its attachments and the audit entries about
//! them, signed with the deployment's Ed25519 key, with the part of the audit hash chain that ties
//! those entries to the chain's head. A verifier needs only the bundle and the deployment's public
//! key (no database); [`verify`] names every part that does not hold.
//!
//! # Format (version 1)
//!
//! A POSIX ustar archive holding
//! - `manifest.json`: a [`Manifest`] (JSON, UTF-8);
//! - `manifest.sig`: 128 hex digits, the Ed25519 signature of
//!   `"homeward-evidence-bundle/v1\n" ‖ bytes of manifest.json`;
//! - `attachments/…`: each attachment's content as uploaded (decrypted), at the `path` the
//!   manifest gives, with its SHA-256 in the manifest.
//!
//! The manifest's `chain` lists, for every audit entry from the first entry about the case to the
//! head, its `seq`, `prev_hash` and `hash`; `audit_entries` gives the full entries about the case
//! and its attachments (the entries of other cases are not disclosed, only their hashes). A
//! verifier recomputes each full entry's hash, checks it sits in the chain at its `seq`, checks
//! every link (`prev_hash` is the hash before it) and that the chain ends at the `head`, whose
//! `signature` is an audit checkpoint (the same message `homeward audit checkpoint` signs), so the
//! head can also be compared with checkpoints kept elsewhere.

use crate::accountability::AccountabilityFact;
use crate::audit::AuditEntry;
use crate::ids::CaseId;
use crate::ustar;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

pub const BUNDLE_FORMAT: &str = "homeward-evidence-bundle";
pub const BUNDLE_VERSION: u32 = 1;
pub const MANIFEST_FILE: &str = "manifest.json";
pub const SIGNATURE_FILE: &str = "manifest.sig";

/// The message an audit checkpoint signs (`homeward audit checkpoint`, version 1).
pub fn checkpoint_message(seq: i64, head_hash: &str, at: &str) -> Vec<u8> {
    format!("homeward-audit-checkpoint/v1\n{seq}\n{head_hash}\n{at}").into_bytes()
}

/// The message the manifest's signature signs.
pub fn manifest_message(manifest: &[u8]) -> Vec<u8> {
    let mut m = b"homeward-evidence-bundle/v1\n".to_vec();
    m.extend_from_slice(manifest);
    m
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The child, as a person would recognise it: each name as written, with its Latin
/// transliteration (empty when already Latin).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundledName {
    pub written: String,
    pub latin: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundledCase {
    pub id: CaseId,
    pub state: String,
    pub child_names: Vec<BundledName>,
}

/// Who exported the bundle, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exporter {
    pub user_id: String,
    pub display_name: String,
    pub party_name: String,
    pub at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundledAttachment {
    pub id: String,
    /// Where its content is in the archive.
    pub path: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
}

/// One entry of the audit chain, without its content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainLink {
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
}

/// The chain's last entry when the bundle was made, signed as an audit checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedHead {
    pub seq: i64,
    pub hash: String,
    pub at: String,
    pub signature: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub case: BundledCase,
    pub exported_by: Exporter,
    pub accountability: Vec<AccountabilityFact>,
    pub attachments: Vec<BundledAttachment>,
    pub audit_entries: Vec<AuditEntry>,
    pub chain: Vec<ChainLink>,
    pub head: SignedHead,
    /// The key that signed, as 64 hex digits; a verifier should bring the deployment's own.
    pub public_key: String,
}

/// One part of a bundle that does not hold. `code` is stable; `subject` names the part (an
/// attachment id, an entry's seq), empty when the bundle as a whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub code: &'static str,
    pub subject: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.subject.is_empty() {
            write!(f, "{}: {}", self.code, self.message)
        } else {
            write!(f, "{} [{}]: {}", self.code, self.subject, self.message)
        }
    }
}

fn problem(code: &'static str, subject: impl ToString, message: impl Into<String>) -> Problem {
    Problem {
        code,
        subject: subject.to_string(),
        message: message.into(),
    }
}

/// What a verification found: the manifest when it could be read, and every problem.
#[derive(Debug)]
pub struct Verification {
    pub manifest: Option<Manifest>,
    /// Whether the signatures were checked with a key the verifier brought (not the bundle's own).
    pub key_from_verifier: bool,
    pub problems: Vec<Problem>,
}

impl Verification {
    pub fn holds(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Builds the archive: manifest, its signature (made by `sign` over [`manifest_message`]) and the
/// attachments' contents keyed by their `path`.
pub fn write_bundle(
    manifest: &Manifest,
    sign: impl Fn(&[u8]) -> String,
    contents: &[(String, Vec<u8>)],
    mtime: i64,
) -> Result<Vec<u8>, ustar::TarError> {
    let json = serde_json::to_vec_pretty(manifest).unwrap_or_default();
    let mut w = ustar::TarWriter::default();
    w.file(MANIFEST_FILE, &json, mtime)?;
    w.file(
        SIGNATURE_FILE,
        sign(&manifest_message(&json)).as_bytes(),
        mtime,
    )?;
    for (path, bytes) in contents {
        w.file(path, bytes, mtime)?;
    }
    Ok(w.finish())
}

/// A name safe inside the archive: the attachment's id and its filename's ASCII letters, digits,
/// dots, dashes and underscores.
pub fn attachment_path(id: &str, filename: &str) -> String {
    let clean: String = filename
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .take(40)
        .collect();
    format!("attachments/{id}-{clean}")
        .trim_end_matches('-')
        .to_owned()
}

fn parse_key(hex_text: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = hex::decode(hex_text.trim()).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

fn signature_holds(key: &VerifyingKey, message: &[u8], sig_hex: &str) -> bool {
    let Some(bytes) = hex::decode(sig_hex.trim())
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
    else {
        return false;
    };
    key.verify(message, &Signature::from_bytes(&bytes)).is_ok()
}

/// Verifies a bundle's bytes. `public_key` is the deployment's key as the verifier knows it; when
/// `None`, the key the manifest names is used, which proves only that the bundle is intact, not
/// who made it.
pub fn verify(bundle: &[u8], public_key: Option<&VerifyingKey>) -> Verification {
    let mut v = Verification {
        manifest: None,
        key_from_verifier: public_key.is_some(),
        problems: Vec::new(),
    };
    let files = match ustar::read(bundle) {
        Ok(f) => f,
        Err(e) => {
            v.problems
                .push(problem("bundle_unreadable", "", e.to_string()));
            return v;
        }
    };
    let mut files: BTreeMap<String, Vec<u8>> = files.into_iter().collect();
    let Some(json) = files.remove(MANIFEST_FILE) else {
        v.problems.push(problem(
            "manifest_missing",
            "",
            "the bundle has no manifest.json",
        ));
        return v;
    };
    let manifest = match read_manifest(&json) {
        Ok(m) => m,
        Err(p) => {
            v.problems.push(p);
            return v;
        }
    };
    let own_key = parse_key(&manifest.public_key);
    match public_key.copied().or(own_key) {
        None => v.problems.push(problem(
            "public_key_invalid",
            "",
            "the manifest's public key is not 64 hex digits of an Ed25519 key",
        )),
        Some(key) => check_signatures(&mut v.problems, &key, &json, &files, &manifest),
    }
    files.remove(SIGNATURE_FILE);
    check_attachments(&mut v.problems, &manifest, &mut files);
    check_entries(&mut v.problems, &manifest);
    check_chain(&mut v.problems, &manifest);
    v.manifest = Some(manifest);
    v
}

fn read_manifest(json: &[u8]) -> Result<Manifest, Problem> {
    let value: serde_json::Value = serde_json::from_slice(json).map_err(|e| {
        problem(
            "manifest_invalid",
            "",
            format!("manifest.json is not JSON: {e}"),
        )
    })?;
    if value.get("format").and_then(|f| f.as_str()) != Some(BUNDLE_FORMAT) {
        return Err(problem(
            "manifest_invalid",
            "",
            format!("manifest.json's format is not {BUNDLE_FORMAT:?}"),
        ));
    }
    let version = value.get("version").and_then(|x| x.as_u64()).unwrap_or(0);
    if version != u64::from(BUNDLE_VERSION) {
        return Err(problem(
            "unsupported_version",
            "",
            format!(
                "bundle format version {version} is not supported (this program reads version {BUNDLE_VERSION})"
            ),
        ));
    }
    serde_json::from_value(value).map_err(|e| {
        problem(
            "manifest_invalid",
            "",
            format!("manifest.json does not have the version 1 fields: {e}"),
        )
    })
}

fn check_signatures(
    out: &mut Vec<Problem>,
    key: &VerifyingKey,
    json: &[u8],
    files: &BTreeMap<String, Vec<u8>>,
    m: &Manifest,
) {
    let sig = files
        .get(SIGNATURE_FILE)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .unwrap_or_default();
    if !signature_holds(key, &manifest_message(json), &sig) {
        out.push(problem(
            "signature_invalid",
            SIGNATURE_FILE,
            "the manifest's signature does not verify with the public key (the manifest was altered, or another key signed it)",
        ));
    }
    let message = checkpoint_message(m.head.seq, &m.head.hash, &m.head.at);
    if !signature_holds(key, &message, &m.head.signature) {
        out.push(problem(
            "head_signature_invalid",
            m.head.seq,
            "the head's checkpoint signature does not verify with the public key",
        ));
    }
}

fn check_attachments(out: &mut Vec<Problem>, m: &Manifest, files: &mut BTreeMap<String, Vec<u8>>) {
    for a in &m.attachments {
        let Some(bytes) = files.remove(&a.path) else {
            out.push(problem(
                "attachment_missing",
                &a.id,
                format!("{} is not in the bundle", a.path),
            ));
            continue;
        };
        if sha256_hex(&bytes) != a.sha256 || bytes.len() as u64 != a.size {
            out.push(problem(
                "attachment_hash_mismatch",
                &a.id,
                format!(
                    "{}: its SHA-256 is not the one the manifest gives (the file was altered)",
                    a.path
                ),
            ));
        }
        let uploaded = m.audit_entries.iter().any(|e| {
            e.action == "attachment.upload"
                && e.target_id.as_deref() == Some(a.id.as_str())
                && serde_json::from_str::<serde_json::Value>(&e.details)
                    .ok()
                    .and_then(|d| d.get("sha256").and_then(|s| s.as_str()).map(str::to_owned))
                    .as_deref()
                    == Some(a.sha256.as_str())
        });
        if !uploaded {
            out.push(problem(
                "attachment_not_in_audit",
                &a.id,
                "no audit entry in the bundle records the upload of this content",
            ));
        }
    }
    for path in files.keys() {
        out.push(problem(
            "file_unlisted",
            path,
            "the bundle holds a file the manifest does not list",
        ));
    }
}

fn check_entries(out: &mut Vec<Problem>, m: &Manifest) {
    let links: HashMap<i64, &ChainLink> = m.chain.iter().map(|l| (l.seq, l)).collect();
    for e in &m.audit_entries {
        if e.compute_hash() != e.hash {
            out.push(problem(
                "entry_hash_mismatch",
                e.seq,
                "the entry's content does not match its hash (the entry was altered)",
            ));
        }
        match links.get(&e.seq) {
            Some(l) if l.hash == e.hash && l.prev_hash == e.prev_hash => {}
            _ => out.push(problem(
                "entry_not_in_chain",
                e.seq,
                "the chain has no link with this entry's number and hash",
            )),
        }
    }
}

fn check_chain(out: &mut Vec<Problem>, m: &Manifest) {
    for pair in m.chain.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if b.seq != a.seq + 1 || b.prev_hash != a.hash {
            out.push(problem(
                "chain_link_broken",
                b.seq,
                format!(
                    "the link does not follow entry {} (its number or previous-hash is not that entry's)",
                    a.seq
                ),
            ));
        }
    }
    match m.chain.last() {
        Some(last) if last.seq == m.head.seq && last.hash == m.head.hash => {}
        _ => out.push(problem(
            "head_mismatch",
            m.head.seq,
            "the chain does not end at the signed head",
        )),
    }
}

#[cfg(test)]
mod tests;
