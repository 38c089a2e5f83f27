//! Encoding a table: per field, a keyed Bloom filter of the field's canonical tokens.

use super::{EncodedList, EncodedRecord, PprlError, SPEC, spec_fields};
use crate::dates::BirthDate;
use crate::features::{FAMILY, GIVEN, NameFeat, PATRONYMIC, Prepared};
use crate::table::{FieldKind, SEX_FEMALE, SEX_MALE, Table};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rayon::prelude::*;
use sha2::Sha256;
use std::collections::HashMap;

type HmacSha256 = Hmac<Sha256>;

/// One field of the specification: its name and its filter's size in 64-bit words.
#[derive(Debug)]
pub(crate) struct FieldDef {
    pub name: &'static str,
    pub words: usize,
}

/// The fields of [`SPEC`], in order. Changing any of this (or a token, or a number of hash
/// functions) is a new specification.
pub(crate) const FIELDS: [FieldDef; 8] = [
    FieldDef {
        name: "given_name",
        words: 2,
    },
    FieldDef {
        name: "patronymic",
        words: 2,
    },
    FieldDef {
        name: "family_name",
        words: 2,
    },
    FieldDef {
        name: "birth_date",
        words: 1,
    },
    FieldDef {
        name: "sex",
        words: 1,
    },
    FieldDef {
        name: "birth_place",
        words: 1,
    },
    FieldDef {
        name: "identifier",
        words: 2,
    },
    FieldDef {
        name: "other",
        words: 2,
    },
];
pub(crate) const F_GIVEN: usize = 0;
pub(crate) const F_PATRONYMIC: usize = 1;
pub(crate) const F_FAMILY: usize = 2;
pub(crate) const F_DATE: usize = 3;
pub(crate) const F_SEX: usize = 4;
pub(crate) const F_PLACE: usize = 5;
pub(crate) const F_IDENTIFIER: usize = 6;
/// Every text and exact column (addresses, postcodes...) together, as bigrams.
pub(crate) const F_OTHER: usize = 7;
pub(crate) const NFIELDS: usize = FIELDS.len();
/// Words of all fields together.
pub(crate) const WORDS: usize = {
    let mut w = 0;
    let mut i = 0;
    while i < NFIELDS {
        w += FIELDS[i].words;
        i += 1;
    }
    w
};

/// Hash functions per token: a name's equivalence class counts for more than any one bigram.
const K_BIGRAM: u32 = 2;
const K_CLASS: u32 = 6;
const K_SKELETON: u32 = 4;
const K_WHOLE: u32 = 4;
const K_DATE: u32 = 3;
const K_SEX: u32 = 4;

/// How the encoding is hardened against frequency attacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hardening {
    /// None: equal names give equal filters (for the attack evaluation only).
    None,
    /// Given name and patronymic salted with the year of birth. The default: a child whose day
    /// or month differs between the lists keeps its given name's evidence.
    SaltYear,
    /// Given name and patronymic salted with the whole date of birth (the year when only the
    /// year is known): stronger against the attack, but measured to cost F1 (see docs/pprl.md).
    SaltDate,
}

impl Hardening {
    pub fn as_str(self) -> &'static str {
        match self {
            Hardening::None => "none",
            Hardening::SaltYear => "salt-year",
            Hardening::SaltDate => "salt-date",
        }
    }

    pub fn parse(s: &str) -> Result<Hardening, PprlError> {
        match s {
            "none" => Ok(Hardening::None),
            "salt-year" => Ok(Hardening::SaltYear),
            "salt-date" => Ok(Hardening::SaltDate),
            other => Err(PprlError::Options(format!(
                "unknown hardening {other:?} (one of: none, salt-year, salt-date)"
            ))),
        }
    }

    /// The date part of the given name's and patronymic's salt.
    fn date_salt(self, date: Option<&BirthDate>) -> String {
        match (self, date) {
            (Hardening::None, _) | (_, None) => String::new(),
            (Hardening::SaltYear, Some(d)) => d.year.to_string(),
            (Hardening::SaltDate, Some(d)) if d.is_full() => {
                format!("{}-{:02}-{:02}", d.year, d.month, d.day)
            }
            (Hardening::SaltDate, Some(d)) => d.year.to_string(),
        }
    }

    /// The salts of the given name and patronymic (`homeward-pprl/2`): the date part and the
    /// first letter of the family name's consonant skeleton (either may be missing). With
    /// `salt-year` the name is hashed under three salts, the years before, of and after the
    /// birth, so that a year written one off still shares two thirds of the name's bits.
    fn given_salts(self, date: Option<&BirthDate>, family_initial: Option<char>) -> Vec<String> {
        let with_initial = |date: String| match family_initial {
            None => date,
            Some(c) => format!("{date}|{c}"),
        };
        match (self, date) {
            (Hardening::None, _) => vec![String::new()],
            (Hardening::SaltYear, Some(d)) => (-1..=1)
                .map(|k| with_initial((i32::from(d.year) + k).to_string()))
                .collect(),
            _ => vec![with_initial(self.date_salt(date))],
        }
    }

    /// The salt of the family name: the birth year's four-year period (`homeward-pprl/2`), so
    /// that a year written one off mostly keeps the family name's evidence.
    fn family_salt(self, date: Option<&BirthDate>) -> String {
        match (self, date) {
            (Hardening::None, _) | (_, None) => String::new(),
            (_, Some(d)) => format!(
                "period:{}",
                i32::from(d.year).div_euclid(FAMILY_PERIOD_YEARS)
            ),
        }
    }
}

/// Years per period of the family name's salt.
const FAMILY_PERIOD_YEARS: i32 = 4;

/// The secret key both sides share (and the mediator never sees): 32 bytes.
pub struct PprlKey {
    bytes: [u8; 32],
}

impl std::fmt::Debug for PprlKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PprlKey({})", self.id())
    }
}

impl PprlKey {
    pub fn from_bytes(bytes: [u8; 32]) -> PprlKey {
        PprlKey { bytes }
    }

    /// Reads a key file's text: 64 hexadecimal digits (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<PprlKey, PprlError> {
        let t = text.trim();
        if t.len() != 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(PprlError::Key(
                "a key file holds 64 hexadecimal digits (made by `homeward pprl keygen`)".into(),
            ));
        }
        let mut bytes = [0u8; 32];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(&t[2 * i..2 * i + 2], 16)
                .map_err(|e| PprlError::Key(e.to_string()))?;
        }
        Ok(PprlKey { bytes })
    }

    pub fn to_hex(&self) -> String {
        self.bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The key's fingerprint: the first 8 bytes of HMAC(key, a fixed label), in hex.
    pub fn id(&self) -> String {
        let d = hmac(&self.bytes, b"homeward-pprl key id");
        d[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The key of one field: HMAC(key, spec and field name). Per-field keys are the per-field
    /// salts: one token in two fields sets unrelated bits.
    fn field_key(&self, field: &str) -> [u8; 32] {
        hmac(&self.bytes, format!("{SPEC}|field|{field}").as_bytes())
    }
}

impl Drop for PprlKey {
    fn drop(&mut self) {
        self.bytes = [0; 32];
    }
}

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    // HMAC accepts a key of any length, so this cannot fail; a zero MAC would only make every
    // filter empty, which validation and linking would then show.
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        return [0; 32];
    };
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

fn halves(d: &[u8; 32]) -> (u64, u64) {
    let mut a = [0u8; 8];
    let mut b = [0u8; 8];
    a.copy_from_slice(&d[..8]);
    b.copy_from_slice(&d[8..16]);
    (u64::from_le_bytes(a), u64::from_le_bytes(b))
}

/// The splitmix64 finaliser: mixes a token's secret hash with a record's secret salt.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A token's keyed hash pair and its number of hash functions.
type Hashed = (u64, u64, u32);

/// Tokens hashed under one field's key, each once (names, bigrams and date parts repeat).
struct FieldHasher {
    key: [u8; 32],
    cache: HashMap<String, (u64, u64)>,
}

impl FieldHasher {
    fn new(key: &PprlKey, field: &str) -> FieldHasher {
        FieldHasher {
            key: key.field_key(field),
            cache: HashMap::new(),
        }
    }

    fn token(&mut self, token: &str, k: u32, out: &mut Vec<Hashed>) {
        let (h1, h2) = match self.cache.get(token) {
            Some(&h) => h,
            None => {
                let h = halves(&hmac(&self.key, token.as_bytes()));
                self.cache.insert(token.to_string(), h);
                h
            }
        };
        out.push((h1, h2, k));
    }

    fn salt(&self, salt: &str) -> (u64, u64) {
        if salt.is_empty() {
            return (0, 0);
        }
        halves(&hmac(&self.key, format!("salt|{salt}").as_bytes()))
    }
}

/// Sets the bits of the tokens in a filter of `words` words (double hashing, as Bloom filters
/// for PPRL do), each token's hashes first mixed with the salt when there is one.
fn set_bits(filter: &mut [u64], tokens: &[Hashed], salt: (u64, u64)) {
    let bits = (filter.len() * 64) as u64;
    for &(h1, h2, k) in tokens {
        let (a, b) = if salt == (0, 0) {
            (h1, h2)
        } else {
            (mix(h1 ^ salt.0), mix(h2 ^ salt.1))
        };
        let b = b | 1;
        for i in 0..u64::from(k) {
            let p = a.wrapping_add(i.wrapping_mul(b)) % bits;
            filter[(p / 64) as usize] |= 1u64 << (p % 64);
        }
    }
}

fn bigrams(text: &str, k: u32, h: &mut FieldHasher, out: &mut Vec<Hashed>) {
    let chars: Vec<char> = std::iter::once('_')
        .chain(text.chars().map(|c| if c == ' ' { '_' } else { c }))
        .chain(std::iter::once('_'))
        .collect();
    for w in chars.windows(2) {
        let t: String = w.iter().collect();
        h.token(&t, k, out);
    }
}

fn name_tokens(feat: &NameFeat, slot: usize, h: &mut FieldHasher) -> Vec<Hashed> {
    let mut out = Vec::new();
    // A known given name (or father's name) is its classes alone, so that its spellings in any
    // script and language encode identically; an unknown one one typo away from known names is
    // their classes alone (so that Софяі and Софія share most bits, as their clear forms do);
    // any other is its bigrams.
    if feat.classes.is_empty() && feat.near.is_empty() {
        bigrams(&feat.phon, K_BIGRAM, h, &mut out);
    }
    for c in feat.classes.as_slice().iter().chain(feat.near.as_slice()) {
        h.token(&format!("class:{c}"), K_CLASS, &mut out);
    }
    if slot == FAMILY {
        let skel = crate::translit::skeleton(&feat.phon);
        h.token(&format!("skel:{skel}"), K_SKELETON, &mut out);
    }
    out
}

fn date_tokens(d: &BirthDate, h: &mut FieldHasher) -> Vec<Hashed> {
    let mut out = Vec::new();
    h.token(&format!("y:{}", d.year), K_DATE, &mut out);
    if d.month != 0 {
        h.token(&format!("m:{}", d.month), 2, &mut out);
        h.token(&format!("ym:{}-{}", d.year, d.month), 2, &mut out);
    }
    if d.day != 0 {
        h.token(&format!("d:{}", d.day), 2, &mut out);
    }
    if d.is_full() {
        h.token(&format!("md:{}-{}", d.month, d.day), K_DATE, &mut out);
        // Day and month written the other way round share this one.
        let (lo, hi) = (d.month.min(d.day), d.month.max(d.day));
        h.token(&format!("dm:{lo}-{hi}"), 2, &mut out);
    }
    out
}

/// Per distinct value of a name slot, its hashed tokens.
fn slot_tokens(prep: &Prepared, slot: usize, h: &mut FieldHasher) -> Vec<Vec<Hashed>> {
    prep.names[slot]
        .iter()
        .map(|f| name_tokens(f, slot, h))
        .collect()
}

/// Encodes every record of the table (the same table [`crate::link`] takes).
pub fn encode(table: &Table, key: &PprlKey, hardening: Hardening) -> EncodedList {
    let prep = table.prepared();
    let mut hashers: Vec<FieldHasher> = FIELDS
        .iter()
        .map(|f| FieldHasher::new(key, f.name))
        .collect();
    let names: Vec<Vec<Vec<Hashed>>> = [GIVEN, PATRONYMIC, FAMILY]
        .iter()
        .map(|&slot| slot_tokens(&prep, slot, &mut hashers[slot]))
        .collect();
    let places: Vec<Vec<Hashed>> = prep
        .places
        .iter()
        .map(|p| {
            let mut out = Vec::new();
            bigrams(&p.phon, K_BIGRAM, &mut hashers[F_PLACE], &mut out);
            hashers[F_PLACE].token(&format!("place:{}", p.phon), K_WHOLE, &mut out);
            out
        })
        .collect();
    let mut sexes = Vec::new();
    for s in ["m", "f"] {
        let mut out = Vec::new();
        hashers[F_SEX].token(s, K_SEX, &mut out);
        sexes.push(out);
    }
    let dates: Vec<Option<Vec<Hashed>>> = table
        .dates
        .iter()
        .map(|d| d.as_ref().map(|d| date_tokens(d, &mut hashers[F_DATE])))
        .collect();
    let ids: Vec<Option<Vec<Hashed>>> = (0..table.len())
        .map(|i| {
            prep.identifier_text(i).map(|t| {
                let mut out = Vec::new();
                bigrams(t, K_BIGRAM, &mut hashers[F_IDENTIFIER], &mut out);
                out
            })
        })
        .collect();
    let other: Vec<Option<Vec<Hashed>>> = (0..table.len())
        .map(|i| other_tokens(&prep, table, i, &mut hashers[F_OTHER]))
        .collect();
    // The first letter of each family name's consonant skeleton (its most stable part across
    // scripts and typos), part of the given names' salt.
    let family_initials: Vec<Option<char>> = prep.names[FAMILY]
        .iter()
        .map(|f| crate::translit::skeleton(&f.phon).chars().next())
        .collect();
    let hashers = &hashers;
    let records: Vec<EncodedRecord> = (0..table.len())
        .into_par_iter()
        .map(|i| {
            let date = table.dates[i].as_ref();
            let initial = family_initials
                .get(prep.records[i].names[FAMILY] as usize)
                .copied()
                .flatten();
            let given_salts: Vec<(u64, u64)> = hardening
                .given_salts(date, initial)
                .iter()
                .map(|salt| hashers[F_GIVEN].salt(salt))
                .collect();
            let patronymic_salts: Vec<(u64, u64)> = hardening
                .given_salts(date, initial)
                .iter()
                .map(|salt| hashers[F_PATRONYMIC].salt(salt))
                .collect();
            let family_salt = [hashers[F_FAMILY].salt(&hardening.family_salt(date))];
            let mut fields: Vec<Option<String>> = Vec::with_capacity(NFIELDS);
            for (f, slot) in [GIVEN, PATRONYMIC, FAMILY].into_iter().enumerate() {
                let tokens = prep.records[i].names[slot];
                let tokens = names[f].get(tokens as usize);
                let salts: &[(u64, u64)] = match f {
                    F_FAMILY => &family_salt,
                    F_GIVEN => &given_salts,
                    _ => &patronymic_salts,
                };
                fields.push(tokens.map(|t| filter_b64_salted(FIELDS[f].words, t, salts)));
            }
            fields.push(dates[i].as_ref().map(|t| filter_b64(1, t, (0, 0))));
            let sex = match table.sexes[i] {
                SEX_MALE => sexes.first(),
                SEX_FEMALE => sexes.get(1),
                _ => None,
            };
            fields.push(sex.map(|t| filter_b64(1, t, (0, 0))));
            let place = places.get(prep.records[i].place as usize);
            fields.push(place.map(|t| filter_b64(1, t, (0, 0))));
            fields.push(ids[i].as_ref().map(|t| filter_b64(2, t, (0, 0))));
            fields.push(other[i].as_ref().map(|t| filter_b64(2, t, (0, 0))));
            EncodedRecord {
                reference: table.id(i).unwrap_or_default().to_string(),
                fields,
            }
        })
        .collect();
    EncodedList {
        spec: SPEC.to_string(),
        key_id: key.id(),
        hardening: hardening.as_str().to_string(),
        fields: spec_fields(),
        records,
    }
}

/// The bigrams of every text and exact column of row i (identifiers have their own field).
fn other_tokens(
    prep: &Prepared,
    table: &Table,
    i: usize,
    h: &mut FieldHasher,
) -> Option<Vec<Hashed>> {
    let mut out = Vec::new();
    for (e, &c) in prep.extra_columns.iter().enumerate() {
        if table.columns()[c].kind == FieldKind::Identifier {
            continue;
        }
        if let Some(Some((_, text))) = prep.extra[e].get(i) {
            bigrams(text, 1, h, &mut out);
        }
    }
    (!out.is_empty()).then_some(out)
}

fn filter_b64(words: usize, tokens: &[Hashed], salt: (u64, u64)) -> String {
    filter_b64_salted(words, tokens, &[salt])
}

/// A filter holding the tokens under each of the salts.
fn filter_b64_salted(words: usize, tokens: &[Hashed], salts: &[(u64, u64)]) -> String {
    let mut filter = vec![0u64; words];
    for &salt in salts {
        set_bits(&mut filter, tokens, salt);
    }
    let bytes: Vec<u8> = filter.iter().flat_map(|w| w.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
