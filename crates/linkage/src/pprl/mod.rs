//! Privacy-preserving record linkage: each side encodes its list on its own machine with a key the
//! mediator never holds ([`encode`]); the mediator links the encodings ([`link_encoded`]) and
//! learns a mapping of record references, not names.
//!
//! The encoding (specification [`SPEC`], written down in `docs/pprl.md`): per field, a Bloom filter
//! of fixed size into which the field's tokens are hashed with HMAC-SHA256 under a per-field key
//! derived from the secret key. The tokens are the engine's own cross-script canonical forms
//! (phonetic bigrams, given-name classes, canonical surname and place, date parts), so that
//! Олександр, Александр and Oleksandr encode alike. Hardening ([`Hardening`]): the given name and
//! patronymic are salted with the date of birth (or its year), so that equal names of different
//! children give unrelated filters and a frequency alignment finds nothing to align.
//!
//! Linking: blocking on equal field filters, Dice similarity per field (u64 popcounts over
//! fixed-size bitsets), Fellegi–Sunter weights learnt by EM without labels, one-to-one assignment.

mod attack;
mod bits;
mod encode;
mod link;

pub use attack::{AttackReport, frequency_attack};
pub use encode::{Hardening, PprlKey, encode};
pub use link::{LinkStats, PprlOptions, dice_all_pairs, link_encoded, link_encoded_with_stats};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// The encoding specification this code writes and reads. Both sides must run the same one.
pub const SPEC: &str = "homeward-pprl/2";

/// An error of encoding or linking, with a stable machine-readable [`PprlError::code`].
#[derive(Debug, thiserror::Error)]
pub enum PprlError {
    #[error("the encoded list is not valid JSON of an encoded list: {0}")]
    Json(String),
    #[error("encoding specification {found:?} is not the one this program runs ({expected:?})")]
    SpecMismatch { expected: String, found: String },
    #[error(
        "the two lists were encoded with different keys ({left:?} and {right:?}): both sides must use the same key file"
    )]
    KeyMismatch { left: String, right: String },
    #[error(
        "the two lists were encoded with different hardening ({left:?} and {right:?}): both sides must encode alike"
    )]
    HardeningMismatch { left: String, right: String },
    #[error("the list's fields {found:?} are not those of the specification ({expected:?})")]
    FieldsMismatch {
        expected: Vec<String>,
        found: Vec<String>,
    },
    #[error("record {record} (reference {reference:?}), field {field:?}: {message}")]
    MalformedRecord {
        record: usize,
        reference: String,
        field: String,
        message: String,
    },
    #[error("record {record}: the reference is empty")]
    EmptyReference { record: usize },
    #[error("record {record}: reference {reference:?} is already used by record {first}")]
    DuplicateReference {
        record: usize,
        reference: String,
        first: usize,
    },
    #[error("the key is not valid: {0}")]
    Key(String),
    #[error("invalid option: {0}")]
    Options(String),
}

impl PprlError {
    /// A stable code for machines (the message is for people).
    pub fn code(&self) -> &'static str {
        match self {
            PprlError::Json(_) => "pprl_json",
            PprlError::SpecMismatch { .. } => "pprl_spec_mismatch",
            PprlError::KeyMismatch { .. } => "pprl_key_mismatch",
            PprlError::HardeningMismatch { .. } => "pprl_hardening_mismatch",
            PprlError::FieldsMismatch { .. } => "pprl_fields_mismatch",
            PprlError::MalformedRecord { .. } => "pprl_malformed_record",
            PprlError::EmptyReference { .. } => "pprl_empty_reference",
            PprlError::DuplicateReference { .. } => "pprl_duplicate_reference",
            PprlError::Key(_) => "pprl_key",
            PprlError::Options(_) => "pprl_options",
        }
    }
}

/// One field of the encoding: its name and the size of its filter in bits (a multiple of 64).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldSpec {
    pub name: String,
    pub bits: usize,
}

/// The fields of [`SPEC`], in order, with their filter sizes.
pub fn spec_fields() -> Vec<FieldSpec> {
    encode::FIELDS
        .iter()
        .map(|f| FieldSpec {
            name: f.name.to_string(),
            bits: f.words * 64,
        })
        .collect()
}

/// A side's encoded list: what leaves its machine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EncodedList {
    /// The encoding specification ([`SPEC`]).
    pub spec: String,
    /// A fingerprint of the key (HMAC of a fixed label), so that lists encoded with different keys
    /// are refused rather than linked to nothing. Not the key, and no help in finding it.
    pub key_id: String,
    /// The hardening applied ([`Hardening::as_str`]); both lists must have the same.
    pub hardening: String,
    /// The fields each record carries, in order.
    pub fields: Vec<FieldSpec>,
    pub records: Vec<EncodedRecord>,
}

/// One encoded record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EncodedRecord {
    /// The side's own reference for the record (its id column), returned in the mapping.
    pub reference: String,
    /// Per field of [`EncodedList::fields`], the filter in standard base64, or null when the
    /// record lacks the field.
    pub fields: Vec<Option<String>>,
}

impl EncodedList {
    /// Reads and validates an encoded list.
    pub fn from_json(bytes: &[u8]) -> Result<Self, PprlError> {
        let list: EncodedList =
            serde_json::from_slice(bytes).map_err(|e| PprlError::Json(e.to_string()))?;
        list.validate()?;
        Ok(list)
    }

    pub fn to_json(&self) -> Result<Vec<u8>, PprlError> {
        serde_json::to_vec(self).map_err(|e| PprlError::Json(e.to_string()))
    }

    /// Checks the specification, the fields, and every record: a non-empty unique reference, one
    /// value per field, each base64 of exactly the field's size.
    pub fn validate(&self) -> Result<(), PprlError> {
        if self.spec != SPEC {
            return Err(PprlError::SpecMismatch {
                expected: SPEC.to_string(),
                found: self.spec.clone(),
            });
        }
        Hardening::parse(&self.hardening)?;
        let expected = spec_fields();
        if self.fields != expected {
            return Err(PprlError::FieldsMismatch {
                expected: expected
                    .iter()
                    .map(|f| format!("{}:{}", f.name, f.bits))
                    .collect(),
                found: self
                    .fields
                    .iter()
                    .map(|f| format!("{}:{}", f.name, f.bits))
                    .collect(),
            });
        }
        let mut seen: std::collections::HashMap<&str, usize> =
            std::collections::HashMap::with_capacity(self.records.len());
        for (i, r) in self.records.iter().enumerate() {
            if r.reference.trim().is_empty() {
                return Err(PprlError::EmptyReference { record: i });
            }
            if let Some(&first) = seen.get(r.reference.as_str()) {
                return Err(PprlError::DuplicateReference {
                    record: i,
                    reference: r.reference.clone(),
                    first,
                });
            }
            seen.insert(&r.reference, i);
            check_record(i, r, &self.fields)?;
        }
        Ok(())
    }
}

fn check_record(i: usize, r: &EncodedRecord, fields: &[FieldSpec]) -> Result<(), PprlError> {
    let malformed = |field: &str, message: String| PprlError::MalformedRecord {
        record: i,
        reference: r.reference.clone(),
        field: field.to_string(),
        message,
    };
    if r.fields.len() != fields.len() {
        return Err(malformed(
            "*",
            format!(
                "{} field values expected, got {}",
                fields.len(),
                r.fields.len()
            ),
        ));
    }
    for (value, spec) in r.fields.iter().zip(fields) {
        let Some(text) = value else { continue };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| malformed(&spec.name, format!("not base64: {e}")))?;
        if bytes.len() * 8 != spec.bits {
            return Err(malformed(
                &spec.name,
                format!("{} bits expected, got {}", spec.bits, bytes.len() * 8),
            ));
        }
    }
    Ok(())
}

/// One pair of the mapping: a reference from each list, and the match probability.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PprlPair {
    pub left: String,
    pub right: String,
    pub score: f64,
}

#[cfg(test)]
mod tests;
