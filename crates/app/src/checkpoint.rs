//! Signed checkpoints of the audit chain: what anchors it outside the database.
//!
//! The store keeps the chain's head beside the log, so whoever can delete the newest entries can
//! rewind the head too, and the shortened log still verifies. A checkpoint is the head's sequence
//! number and hash at a moment, signed with Ed25519, kept by each party; verifying against it
//! proves the log still extends it (the entry at that number still has that hash and the chain
//! from it to the head is intact).
//!
//! Console operations only: the binary's `audit keygen`, `audit checkpoint` and `audit verify
//! --checkpoint` call these; no HTTP route does (a signing key has no business in a web server).
//!
//! # Formats (version 1)
//!
//! - Private key file: the 32-byte Ed25519 seed as 64 lower-case hex digits and a newline.
//! - Public key: the 32-byte Ed25519 public key as 64 lower-case hex digits (and a newline in a
//!   file).
//! - Checkpoint file, JSON:
//!   `{"format":"homeward-audit-checkpoint","version":1,"seq":N,"head_hash":"…","at":"…",
//!   "public_key":"…","signature":"…"}` where `at` is RFC 3339 UTC with microseconds and
//!   `signature` (128 hex digits) signs the UTF-8 bytes of
//!   `homeward-audit-checkpoint/v1\n{seq}\n{head_hash}\n{at}`. `public_key` says which key
//!   signed; verification uses the public key the verifier brings, never this one.

use crate::{App, AppResult, audit::ChainReport};
use chrono::{DateTime, SubsecRound, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use homeward_domain::audit::{Anchor, ChainVerifier};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

pub const CHECKPOINT_FORMAT: &str = "homeward-audit-checkpoint";
pub const CHECKPOINT_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CheckpointError {
    #[error("the key is not 64 hexadecimal digits (a 32-byte Ed25519 key)")]
    BadKey,
    #[error("not a checkpoint file: {0}")]
    BadFile(String),
    #[error("checkpoint format version {0} is not supported (this program reads version 1)")]
    UnsupportedVersion(u32),
    #[error("the checkpoint's signature does not verify with the given public key")]
    BadSignature,
}

/// A signed statement that the chain's entry `seq` had hash `head_hash` at time `at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub format: String,
    pub version: u32,
    pub seq: i64,
    pub head_hash: String,
    pub at: String,
    pub public_key: String,
    pub signature: String,
}

impl Checkpoint {
    fn message(seq: i64, head_hash: &str, at: &str) -> Vec<u8> {
        format!("homeward-audit-checkpoint/v1\n{seq}\n{head_hash}\n{at}").into_bytes()
    }

    /// Signs the chain's state `seq`/`head_hash` as of `at`.
    pub fn sign(key: &SigningKey, seq: i64, head_hash: &str, at: DateTime<Utc>) -> Self {
        let at = at
            .trunc_subsecs(6)
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string();
        let signature = key.sign(&Self::message(seq, head_hash, &at));
        Self {
            format: CHECKPOINT_FORMAT.to_owned(),
            version: CHECKPOINT_VERSION,
            seq,
            head_hash: head_hash.to_owned(),
            at,
            public_key: public_key_hex(&key.verifying_key()),
            signature: hex::encode(signature.to_bytes()),
        }
    }

    /// Reads a checkpoint file's text (any version this program knows).
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let c: Self =
            serde_json::from_str(text).map_err(|e| CheckpointError::BadFile(e.to_string()))?;
        if c.format != CHECKPOINT_FORMAT {
            return Err(CheckpointError::BadFile(format!(
                "its format is {:?}, not {CHECKPOINT_FORMAT:?}",
                c.format
            )));
        }
        if c.version != CHECKPOINT_VERSION {
            return Err(CheckpointError::UnsupportedVersion(c.version));
        }
        Ok(c)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Checks the signature against `key`, the public key the verifier trusts.
    pub fn check_signature(&self, key: &VerifyingKey) -> Result<(), CheckpointError> {
        let bytes: [u8; 64] = hex::decode(&self.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(CheckpointError::BadSignature)?;
        key.verify(
            &Self::message(self.seq, &self.head_hash, &self.at),
            &Signature::from_bytes(&bytes),
        )
        .map_err(|_| CheckpointError::BadSignature)
    }
}

/// A new signing key from the operating system's random source.
pub fn generate_key() -> SigningKey {
    use rand::RngCore;
    let mut seed = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(seed.as_mut());
    SigningKey::from_bytes(&seed)
}

/// The private key file's text.
pub fn signing_key_text(key: &SigningKey) -> Zeroizing<String> {
    Zeroizing::new(hex::encode(key.to_bytes()) + "\n")
}

pub fn public_key_hex(key: &VerifyingKey) -> String {
    hex::encode(key.to_bytes())
}

fn key_bytes(text: &str) -> Result<Zeroizing<[u8; 32]>, CheckpointError> {
    let decoded = Zeroizing::new(hex::decode(text.trim()).map_err(|_| CheckpointError::BadKey)?);
    let mut out = Zeroizing::new([0u8; 32]);
    if decoded.len() != 32 {
        return Err(CheckpointError::BadKey);
    }
    out.copy_from_slice(&decoded);
    Ok(out)
}

pub fn parse_signing_key(text: &str) -> Result<SigningKey, CheckpointError> {
    Ok(SigningKey::from_bytes(&*key_bytes(text)?))
}

pub fn parse_public_key(text: &str) -> Result<VerifyingKey, CheckpointError> {
    VerifyingKey::from_bytes(&*key_bytes(text)?).map_err(|_| CheckpointError::BadKey)
}

impl App {
    /// Verifies the whole log (a checkpoint of a broken log would vouch for the breakage), then
    /// signs its head. Console only.
    #[tracing::instrument(skip_all)]
    pub async fn audit_checkpoint(
        &self,
        key: &SigningKey,
        progress: &(dyn Fn(i64) + Send + Sync),
    ) -> AppResult<Checkpoint> {
        let report = self.verify_audit(progress).await?;
        Ok(Checkpoint::sign(
            key,
            report.entries,
            &report.head_hash,
            self.now(),
        ))
    }

    /// [`App::verify_audit`], also proving that the log still extends `checkpoint`, whose
    /// signature must verify with `key`. Console only.
    #[tracing::instrument(skip_all)]
    pub async fn verify_audit_against(
        &self,
        checkpoint: &Checkpoint,
        key: &VerifyingKey,
        progress: &(dyn Fn(i64) + Send + Sync),
    ) -> AppResult<Result<ChainReport, CheckpointError>> {
        if let Err(e) = checkpoint.check_signature(key) {
            return Ok(Err(e));
        }
        let verifier = ChainVerifier::anchored(Anchor {
            seq: checkpoint.seq,
            hash: checkpoint.head_hash.clone(),
        });
        Ok(Ok(self.verify_audit_from(verifier, progress).await?))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_checkpoint_verifies_with_its_key_only_and_not_once_altered() {
        let key = generate_key();
        let c = Checkpoint::sign(&key, 7, &"ab".repeat(32), Utc::now());
        let back = Checkpoint::parse(&c.to_json()).unwrap();
        assert_eq!(back, c);
        back.check_signature(&key.verifying_key()).unwrap();

        let other = generate_key();
        assert_eq!(
            back.check_signature(&other.verifying_key()),
            Err(CheckpointError::BadSignature)
        );
        for tamper in [
            |c: &mut Checkpoint| c.seq = 5,
            |c: &mut Checkpoint| c.head_hash = "cd".repeat(32),
            |c: &mut Checkpoint| c.at = "2020-01-01T00:00:00.000000Z".into(),
        ] {
            let mut t = back.clone();
            tamper(&mut t);
            assert_eq!(
                t.check_signature(&key.verifying_key()),
                Err(CheckpointError::BadSignature)
            );
        }
    }

    #[test]
    fn keys_round_trip_through_their_files() {
        let key = generate_key();
        let again = parse_signing_key(&signing_key_text(&key)).unwrap();
        assert_eq!(again.to_bytes(), key.to_bytes());
        let public = parse_public_key(&format!("{}\n", public_key_hex(&key.verifying_key())));
        assert_eq!(public.unwrap(), key.verifying_key());
        assert_eq!(
            parse_public_key("xyz").unwrap_err(),
            CheckpointError::BadKey
        );
        assert_eq!(
            parse_signing_key("abcd").unwrap_err(),
            CheckpointError::BadKey
        );
    }

    #[test]
    fn other_formats_and_versions_are_refused() {
        let key = generate_key();
        let mut c = Checkpoint::sign(&key, 1, &"00".repeat(32), Utc::now());
        c.version = 2;
        assert_eq!(
            Checkpoint::parse(&c.to_json()).unwrap_err(),
            CheckpointError::UnsupportedVersion(2)
        );
        assert!(matches!(
            Checkpoint::parse("{}"),
            Err(CheckpointError::BadFile(_))
        ));
    }
}
