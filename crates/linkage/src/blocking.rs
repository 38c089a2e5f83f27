//! Blocking: which pairs are compared at all. Several rules, each a combination of keys; a pair is a
//! candidate when both records share every key of at least one rule.

use crate::compare::MIN_TYPO_LEN;
use crate::features::{FAMILY, GIVEN, PATRONYMIC, Prepared, hash_bytes};
use crate::table::{FieldKind, LinkError, SEX_UNKNOWN, Table};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One key a blocking rule can require two records to share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKey {
    /// Any given-name class in common (all forms and diminutives of a name), or the same phonetic
    /// form for a name not in the table.
    GivenClass,
    /// The same father's-name class of the patronymic.
    PatronymicClass,
    /// The same surname consonant skeleton (ending made canonical).
    FamilySkeleton,
    /// The same first three letters of the surname skeleton.
    FamilyPrefix,
    /// The same first letter of the surname skeleton.
    FamilyInitial,
    BirthYear,
    /// The same full date of birth.
    BirthDate,
    /// The same year and the same {day, month} in either order (catches swapped day and month).
    BirthDateAnyOrder,
    /// The same canonical place of birth.
    BirthPlace,
    Sex,
    /// The same value of the first identifier column (a document or social-security number),
    /// spaces and case aside.
    Identifier,
    /// The given name's and the surname's consonant skeletons as an unordered pair: the same
    /// two names in either column (a form filled in the wrong order).
    NameSkeletons,
    /// The first identifier column's value or any one-character deletion of it (its deletion
    /// neighbourhood, as in FastSS): two identifiers share a key when they are equal, one
    /// character differs, two neighbours are swapped, or one character was dropped or added. A
    /// key is at most [`MAX_KEYS`] characters' worth of deletions, and identifiers shorter than
    /// `MIN_TYPO_LEN` get only their exact key (their deletions would be short, common codes).
    IdentifierNeighbourhood,
    /// The same first letter of the given name's phonetic form (Дмитро, Дмитрий and Dmytro
    /// agree): what a misspelt given name usually keeps.
    GivenInitial,
    /// The same values in every exact-match column (as `homeward link` reads them: a postcode,
    /// a house number); none when the lists have no such column or a record lacks one.
    ExactColumns,
}

impl BlockKey {
    pub const ALL: [BlockKey; 15] = [
        BlockKey::GivenClass,
        BlockKey::PatronymicClass,
        BlockKey::FamilySkeleton,
        BlockKey::FamilyPrefix,
        BlockKey::FamilyInitial,
        BlockKey::BirthYear,
        BlockKey::BirthDate,
        BlockKey::BirthDateAnyOrder,
        BlockKey::BirthPlace,
        BlockKey::Sex,
        BlockKey::Identifier,
        BlockKey::NameSkeletons,
        BlockKey::IdentifierNeighbourhood,
        BlockKey::GivenInitial,
        BlockKey::ExactColumns,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BlockKey::GivenClass => "given_class",
            BlockKey::PatronymicClass => "patronymic_class",
            BlockKey::FamilySkeleton => "family_skeleton",
            BlockKey::FamilyPrefix => "family_prefix",
            BlockKey::FamilyInitial => "family_initial",
            BlockKey::BirthYear => "birth_year",
            BlockKey::BirthDate => "birth_date",
            BlockKey::BirthDateAnyOrder => "birth_date_any_order",
            BlockKey::BirthPlace => "birth_place",
            BlockKey::Sex => "sex",
            BlockKey::Identifier => "identifier",
            BlockKey::NameSkeletons => "name_skeletons",
            BlockKey::IdentifierNeighbourhood => "identifier_neighbourhood",
            BlockKey::GivenInitial => "given_initial",
            BlockKey::ExactColumns => "exact_columns",
        }
    }

    /// The compared field this key constrains: EM does not learn that field's m from this rule's
    /// pairs, where it agrees by construction. (`NameSkeletons` constrains the family name too.)
    pub fn field(self) -> FieldKind {
        match self {
            BlockKey::GivenClass | BlockKey::NameSkeletons | BlockKey::GivenInitial => {
                FieldKind::GivenName
            }
            BlockKey::PatronymicClass => FieldKind::Patronymic,
            BlockKey::FamilySkeleton | BlockKey::FamilyPrefix | BlockKey::FamilyInitial => {
                FieldKind::FamilyName
            }
            BlockKey::BirthYear | BlockKey::BirthDate | BlockKey::BirthDateAnyOrder => {
                FieldKind::BirthDate
            }
            BlockKey::BirthPlace => FieldKind::BirthPlace,
            BlockKey::Sex => FieldKind::Sex,
            BlockKey::Identifier | BlockKey::IdentifierNeighbourhood => FieldKind::Identifier,
            BlockKey::ExactColumns => FieldKind::Exact,
        }
    }

    /// The values of this key for a record (several for a name in several classes); empty when the
    /// record lacks the field.
    fn values(self, p: &Prepared, i: usize, out: &mut KeySet) {
        out.n = 0;
        let r = &p.records[i];
        match self {
            BlockKey::GivenClass | BlockKey::PatronymicClass => {
                let n = if self == BlockKey::GivenClass {
                    p.name(GIVEN, i)
                } else {
                    p.name(PATRONYMIC, i)
                };
                if let Some(n) = n {
                    if n.classes.is_empty() {
                        out.push(n.phon_hash);
                    } else {
                        for &c in n.classes.as_slice() {
                            out.push(mix(CLASS_TAG, u64::from(c)));
                        }
                    }
                }
            }
            BlockKey::FamilySkeleton => out.extend(p.name(FAMILY, i).map(|f| f.skel_hash)),
            BlockKey::FamilyPrefix => out.extend(p.name(FAMILY, i).map(|f| f.skel_prefix)),
            BlockKey::FamilyInitial => {
                out.extend(p.name(FAMILY, i).map(|f| u64::from(f.skel_initial)))
            }
            BlockKey::BirthYear => out.extend(r.date.map(|d| d.date.year as u64)),
            BlockKey::BirthDate => out.extend(
                r.date
                    .map(|d| d.date)
                    .filter(|d| d.is_full())
                    .map(|d| date_value(d.year, d.month, d.day)),
            ),
            BlockKey::BirthDateAnyOrder => out.extend(
                r.date
                    .map(|d| d.date)
                    .filter(|d| d.is_full())
                    .map(|d| date_value(d.year, d.month.min(d.day), d.month.max(d.day))),
            ),
            BlockKey::BirthPlace => out.extend(p.place(i).map(|p| p.key)),
            BlockKey::Sex => out.extend(Some(r.sex).filter(|&s| s != SEX_UNKNOWN).map(u64::from)),
            BlockKey::Identifier => out.extend(p.identifier(i)),
            BlockKey::IdentifierNeighbourhood => {
                if let Some(id) = p.identifier_text(i) {
                    deletion_neighbourhood(id, out);
                }
            }
            BlockKey::GivenInitial => {
                out.extend(p.name(GIVEN, i).map(|g| u64::from(g.skel_initial)))
            }
            BlockKey::ExactColumns => out.extend(p.exact_key.get(i).copied().flatten()),
            BlockKey::NameSkeletons => {
                if let (Some(g), Some(f)) = (p.name(GIVEN, i), p.name(FAMILY, i)) {
                    let (a, b) = (g.skel_hash.min(f.skel_hash), g.skel_hash.max(f.skel_hash));
                    out.push(mix(a, b));
                }
            }
        }
    }
}

/// The hash of `s` and of `s` with each one character deleted (up to [`MAX_KEYS`] keys in all),
/// into `out`. The same hash as [`Prepared::identifier`] for `s` itself, so a deletion of a longer
/// identifier meets a shorter one whole (a dropped character).
fn deletion_neighbourhood(s: &str, out: &mut KeySet) {
    out.push(hash_bytes(s.as_bytes()));
    if s.chars().count() < MIN_TYPO_LEN {
        return;
    }
    for (at, c) in s.char_indices().take(MAX_KEYS - 1) {
        let (head, tail) = (&s.as_bytes()[..at], &s.as_bytes()[at + c.len_utf8()..]);
        out.push(hash_parts(head, tail));
    }
}

/// [`hash_bytes`] of `a` followed by `b`, without joining them.
fn hash_parts(a: &[u8], b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in a.iter().chain(b) {
        h ^= u64::from(x);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Marks a given-name class value apart from the phonetic hashes of names not in the table.
const CLASS_TAG: u64 = 0x636c_6173_7300_0000;

fn date_value(year: i16, a: u8, b: u8) -> u64 {
    (u64::from(year as u16) << 16) | (u64::from(a) << 8) | u64::from(b)
}

/// Mixes two words into a well-spread one (SplitMix64's finaliser). Block keys live only for one
/// run, so they need to be distinct, not stable or portable: this is several times cheaper than
/// hashing the bytes, which matters at a few million keys.
fn mix(a: u64, b: u64) -> u64 {
    let mut z = a.rotate_left(29) ^ b.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Most key combinations one record contributes to one rule (products of multi-class names, an
/// identifier's deletion neighbourhood).
const MAX_KEYS: usize = 16;

/// At most [`MAX_KEYS`] values, without allocating (further values are dropped).
#[derive(Clone, Copy, Default)]
struct KeySet {
    v: [u64; MAX_KEYS],
    n: u8,
}

impl KeySet {
    fn push(&mut self, x: u64) {
        if let Some(slot) = self.v.get_mut(usize::from(self.n)) {
            *slot = x;
            self.n += 1;
        }
    }
    fn extend(&mut self, x: Option<u64>) {
        if let Some(x) = x {
            self.push(x);
        }
    }
    fn as_slice(&self) -> &[u64] {
        &self.v[..usize::from(self.n)]
    }
}

/// A record's combined keys for a rule, into `out`: one per combination of its keys' values; none
/// when it lacks a field the rule needs. Written in place: this runs a few million times.
fn rule_keys(rule: &BlockingRule, p: &Prepared, i: usize, out: &mut KeySet) {
    out.n = 0;
    out.push(0x9e37_79b9_7f4a_7c15);
    let mut vals = KeySet::default();
    for k in &rule.keys {
        k.values(p, i, &mut vals);
        match (out.n, vals.n) {
            (_, 0) => {
                out.n = 0;
                return;
            }
            // The usual case: one value for each key.
            (1, 1) => out.v[0] = mix(mix(out.v[0], *k as u64), vals.v[0]),
            _ => {
                let acc = *out;
                out.n = 0;
                for &a in acc.as_slice() {
                    for &v in vals.as_slice() {
                        out.push(mix(mix(a, *k as u64), v));
                    }
                }
            }
        }
    }
}

impl FromStr for BlockKey {
    type Err = LinkError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace('-', "_");
        BlockKey::ALL
            .into_iter()
            .find(|k| k.as_str() == norm)
            .ok_or_else(|| LinkError::Config(format!("unknown blocking key {s:?}")))
    }
}

/// A blocking rule: records sharing all these keys are compared. Written `given_class+birth_year`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BlockingRule {
    pub keys: Vec<BlockKey>,
}

impl fmt::Display for BlockingRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s: Vec<&str> = self.keys.iter().map(|k| k.as_str()).collect();
        f.write_str(&s.join("+"))
    }
}

impl FromStr for BlockingRule {
    type Err = LinkError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let keys = s
            .split('+')
            .map(str::parse)
            .collect::<Result<Vec<BlockKey>, _>>()?;
        if keys.is_empty() {
            return Err(LinkError::Config("empty blocking rule".into()));
        }
        Ok(BlockingRule { keys })
    }
}

/// The default rules, chosen so that each kind of difference between two records of one child
/// still leaves one rule that holds, while no rule makes blocks of common values (given class
/// and birth year alone would compare every Олександр of a year with every other):
///
/// | rule | still finds |
/// | --- | --- |
/// | given class + family initial + birth year | misspelled surname, date typo within the year |
/// | given class + family skeleton | date missing or badly wrong |
/// | given class + birth date (day/month in any order) | adopted child with a new surname |
/// | family skeleton + birth year | given name changed or not in the table |
/// | family initial + birth date | given name misspelled and surname respelled |
/// | given class + birth place + birth year | adopted (new surname) with a date typo |
/// | identifier, or one typo or dropped character apart | anything else, when both lists carry a document number (none when they do not) |
/// | given and family skeletons, either order | given name and surname swapped |
/// | given initial + birth date | given name misspelled and surname missing or changed |
/// | family skeleton + every exact-match column | given name and date missing or wrong, when the lists carry such columns (an address's postcode; none when they do not) |
pub fn default_rules() -> Vec<BlockingRule> {
    use BlockKey::*;
    [
        vec![GivenClass, FamilyInitial, BirthYear],
        vec![GivenClass, FamilySkeleton],
        vec![GivenClass, BirthDateAnyOrder],
        vec![FamilySkeleton, BirthYear],
        vec![FamilyInitial, BirthDate],
        vec![GivenClass, BirthPlace, BirthYear],
        vec![IdentifierNeighbourhood],
        vec![NameSkeletons],
        vec![GivenInitial, BirthDate],
        vec![FamilySkeleton, ExactColumns],
    ]
    .into_iter()
    .map(|keys| BlockingRule { keys })
    .collect()
}

/// Each row's blocking keys under `rules`: two rows of any two tables share a key when one of the
/// rules puts them in the same block. An incremental matcher stores these per record and, for a new
/// record, looks up the other side's records with a common key, instead of re-running `link`.
///
/// Keys are content hashes (no per-run seed), tagged with the rule's written form rather than its
/// position, so they stay valid across runs and rule reorderings; changing the rules or the name
/// tables changes them, and stored keys must then be recomputed.
pub fn row_keys(table: &Table, rules: &[BlockingRule]) -> Vec<Vec<u64>> {
    let p = Prepared::build(table);
    let per_rule: Vec<(u64, RuleKeys)> = rules
        .iter()
        .map(|r| (hash_bytes(r.to_string().as_bytes()), RuleKeys::build(r, &p)))
        .collect();
    (0..p.records.len())
        .map(|i| {
            let mut keys: Vec<u64> = per_rule
                .iter()
                .flat_map(|(tag, rk)| rk.of(i).iter().map(move |&k| mix(k, *tag)))
                .collect();
            keys.sort_unstable();
            keys.dedup();
            keys
        })
        .collect()
}

/// For one rule, each record's combined keys, stored flat.
pub(crate) struct RuleKeys {
    offsets: Vec<u32>,
    keys: Vec<u64>,
}

impl RuleKeys {
    pub fn build(rule: &BlockingRule, p: &Prepared) -> RuleKeys {
        let chunks: Vec<(Vec<u64>, Vec<u8>)> = (0..p.records.len().div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let rows = c * CHUNK..((c + 1) * CHUNK).min(p.records.len());
                let mut keys = Vec::with_capacity(rows.len());
                let mut counts = Vec::with_capacity(rows.len());
                let mut k = KeySet::default();
                for i in rows {
                    rule_keys(rule, p, i, &mut k);
                    keys.extend_from_slice(k.as_slice());
                    counts.push(k.n);
                }
                (keys, counts)
            })
            .collect();
        let mut offsets = Vec::with_capacity(p.records.len() + 1);
        let mut keys = Vec::with_capacity(chunks.iter().map(|c| c.0.len()).sum());
        offsets.push(0u32);
        for (k, counts) in chunks {
            let mut at = keys.len();
            for n in counts {
                at += usize::from(n);
                offsets.push(u32::try_from(at).unwrap_or(u32::MAX));
            }
            keys.extend(k);
        }
        RuleKeys { offsets, keys }
    }

    pub fn of(&self, i: usize) -> &[u64] {
        let (a, b) = (self.offsets[i] as usize, self.offsets[i + 1] as usize);
        &self.keys[a..b]
    }

    /// Index: each key's records, ascending, each record once per key.
    fn index(&self) -> KeyIndex {
        let mut entries: Vec<(u64, u32)> = Vec::with_capacity(self.keys.len());
        for i in 0..self.offsets.len().saturating_sub(1) {
            entries.extend(self.of(i).iter().map(|&k| (k, i as u32)));
        }
        entries.sort_unstable();
        // A record with two keys in one block (Саша in two classes) is listed once.
        entries.dedup();
        let mut runs: Vec<(u64, u32, u32)> = Vec::new();
        let mut k = 0;
        while k < entries.len() {
            let key = entries[k].0;
            let start = k;
            while k < entries.len() && entries[k].0 == key {
                k += 1;
            }
            runs.push((key, start as u32, (k - start) as u32));
        }
        KeyIndex::new(&runs, entries.into_iter().map(|e| e.1).collect())
    }
}

/// A rule's blocks on one side: key → a run of `records`.
///
/// An open-addressing table with each slot holding its key and run together, so that a lookup
/// (a few million of them, mostly misses) costs one cache line. Keys are [`mix`]ed already, so
/// their low bits index the table directly.
struct KeyIndex {
    /// `(key, start, len)`; `len == 0` marks an empty slot.
    slots: Vec<(u64, u32, u32)>,
    mask: usize,
    records: Vec<u32>,
}

impl KeyIndex {
    fn new(runs: &[(u64, u32, u32)], records: Vec<u32>) -> KeyIndex {
        // At most half full: probe sequences stay short.
        let size = (runs.len() * 2).next_power_of_two().max(16);
        let mask = size - 1;
        let mut slots = vec![(0u64, 0u32, 0u32); size];
        for &(key, start, len) in runs {
            let mut at = key as usize & mask;
            while slots[at].2 != 0 {
                at = (at + 1) & mask;
            }
            slots[at] = (key, start, len);
        }
        KeyIndex {
            slots,
            mask,
            records,
        }
    }

    fn block(&self, key: u64) -> &[u32] {
        let mut at = key as usize & self.mask;
        loop {
            let (k, start, len) = self.slots[at];
            if len == 0 {
                return &[];
            }
            if k == key {
                return &self.records[start as usize..(start + len) as usize];
            }
            at = (at + 1) & self.mask;
        }
    }
}

/// Bit r set: rule r produced the pair.
pub(crate) type RuleMask = u16;

/// Most rules a run may have: one bit each in a [`RuleMask`].
pub const MAX_RULES: usize = RuleMask::BITS as usize;

/// The candidate pairs of all rules, unioned.
pub(crate) struct Candidates {
    /// `(left << 32) | right`, distinct, grouped by the record of the larger table (see
    /// [`candidates`]).
    pub pairs: Vec<u64>,
    /// Per pair, bit r set when rule r produced it (EM learns each rule's m from its own pairs).
    pub masks: Vec<RuleMask>,
    /// Per rule, the pairs it produced (before removing those other rules also produced).
    pub per_rule: Vec<u64>,
}

/// Records per parallel task: enough to amortise the per-task buffers.
const CHUNK: usize = 4096;

/// Every pair of records that share all keys of at least one rule, with the rules that produced
/// it.
///
/// The smaller table is indexed (its blocks stay in cache) and the larger one streamed: each of
/// its records looks up its keys, rule by rule, and the rules' partners are merged. So the pairs
/// come out grouped by the larger table's record, in its order, with no global sort; comparing
/// them in that order reads the large table once, front to back, while the small one stays in
/// cache.
pub(crate) fn candidates(rules: &[BlockingRule], lp: &Prepared, rp: &Prepared) -> Candidates {
    let n_rules = rules.len().min(MAX_RULES);
    let rules = &rules[..n_rules];
    let stream_left = lp.records.len() > rp.records.len();
    let (small, large) = if stream_left { (rp, lp) } else { (lp, rp) };
    let index: Vec<KeyIndex> = rules
        .par_iter()
        .map(|r| RuleKeys::build(r, small).index())
        .collect();
    let (n_small, n_large) = (small.records.len(), large.records.len());
    let chunks: Vec<(Vec<u64>, Vec<RuleMask>, Vec<u64>)> = (0..n_large.div_ceil(CHUNK))
        .into_par_iter()
        // Per partner, the last record it was met for and the rules that met it: dedup and rule
        // masks without sorting. The small table is small, so these stay in cache. Stamps are
        // record numbers, so one thread's arrays serve all its chunks without clearing.
        .map_init(
            || (vec![u32::MAX; n_small], vec![0 as RuleMask; n_small]),
            |(seen, rule_mask), c| {
                let mut pairs = Vec::new();
                let mut masks = Vec::new();
                let mut counts = vec![0u64; n_rules];
                let mut met: Vec<u32> = Vec::new();
                let mut keys = KeySet::default();
                for x in c * CHUNK..((c + 1) * CHUNK).min(n_large) {
                    met.clear();
                    for (r, (rule, idx)) in rules.iter().zip(&index).enumerate() {
                        let bit: RuleMask = 1 << r;
                        rule_keys(rule, large, x, &mut keys);
                        for &k in keys.as_slice() {
                            for &y in idx.block(k) {
                                let y = y as usize;
                                if seen[y] != x as u32 {
                                    seen[y] = x as u32;
                                    rule_mask[y] = 0;
                                    met.push(y as u32);
                                }
                                if rule_mask[y] & bit == 0 {
                                    rule_mask[y] |= bit;
                                    counts[r] += 1;
                                }
                            }
                        }
                    }
                    for &y in &met {
                        let (i, j) = if stream_left {
                            (x as u64, u64::from(y))
                        } else {
                            (u64::from(y), x as u64)
                        };
                        pairs.push((i << 32) | j);
                        masks.push(rule_mask[y as usize]);
                    }
                }
                (pairs, masks, counts)
            },
        )
        .collect();
    let total = chunks.iter().map(|c| c.0.len()).sum();
    let mut out = Candidates {
        pairs: Vec::with_capacity(total),
        masks: Vec::with_capacity(total),
        per_rule: vec![0; n_rules],
    };
    for (p, m, c) in chunks {
        out.pairs.extend(p);
        out.masks.extend(m);
        for (a, b) in out.per_rule.iter_mut().zip(c) {
            *a += b;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_round_trip_as_text() {
        for r in default_rules() {
            let s = r.to_string();
            assert_eq!(s.parse::<BlockingRule>().ok(), Some(r));
        }
        assert!("given_class+colour".parse::<BlockingRule>().is_err());
        assert_eq!(
            "Given-Class+birth_year".parse::<BlockingRule>().ok(),
            Some(BlockingRule {
                keys: vec![BlockKey::GivenClass, BlockKey::BirthYear]
            })
        );
    }

    /// What blocking means, pair by pair: the rules whose combined keys the two records share.
    fn brute_force(rules: &[BlockingRule], lp: &Prepared, rp: &Prepared) -> Vec<(u64, RuleMask)> {
        let mut out = Vec::new();
        for i in 0..lp.records.len() {
            for j in 0..rp.records.len() {
                let mut mask: RuleMask = 0;
                for (r, rule) in rules.iter().enumerate() {
                    let (mut a, mut b) = (KeySet::default(), KeySet::default());
                    rule_keys(rule, lp, i, &mut a);
                    rule_keys(rule, rp, j, &mut b);
                    if a.as_slice().iter().any(|k| b.as_slice().contains(k)) {
                        mask |= 1 << r;
                    }
                }
                if mask != 0 {
                    out.push((((i as u64) << 32) | j as u64, mask));
                }
            }
        }
        out
    }

    #[test]
    fn candidates_are_every_pair_sharing_a_rule_with_its_rules() {
        use crate::features::fixtures;
        let (lt, rt) = (fixtures::left(), fixtures::right());
        let (lp, rp) = (Prepared::build(&lt), Prepared::build(&rt));
        // The default rules and further keys, up to the most rules a run may have (every bit of
        // the rule mask in use).
        let mut rules = default_rules();
        assert!(rules.len() <= MAX_RULES);
        let mut more = rules.clone();
        for extra in [
            "patronymic_class+sex",
            "family_prefix",
            "identifier",
            "given_initial+family_initial",
        ]
        .into_iter()
        .cycle()
        {
            if more.len() == MAX_RULES {
                break;
            }
            more.push(extra.parse().unwrap());
        }
        assert!(brute_force(&more, &lp, &rp).len() > 5);
        assert!(brute_force(&more, &lp, &rp).len() > 5);
        for r in [&more, &rules] {
            check_candidates(r, &lp, &rp);
        }
        rules.truncate(6);
        let want = brute_force(&rules, &lp, &rp);
        // Russian forms, a swapped date and an adoption-like respelling are still candidates.
        let has = |i: u64, j: u64| want.iter().any(|w| w.0 == (i << 32) | j);
        for (i, j) in [
            (0, 0),
            (1, 0),
            (0, 9),
            (3, 3),
            (2, 2),
            (4, 4),
            (7, 5),
            (6, 7),
        ] {
            assert!(has(i, j), "({i}, {j})");
        }
    }

    #[test]
    fn stored_row_keys_find_exactly_the_candidates_of_a_full_run() {
        use crate::features::fixtures;
        let (lt, rt) = (fixtures::left(), fixtures::right());
        let rules = default_rules();
        let (lk, rk) = (row_keys(&lt, &rules), row_keys(&rt, &rules));
        let mut shared: Vec<u64> = Vec::new();
        for (i, a) in lk.iter().enumerate() {
            for (j, b) in rk.iter().enumerate() {
                if a.iter().any(|k| b.contains(k)) {
                    shared.push(((i as u64) << 32) | j as u64);
                }
            }
        }
        let (lp, rp) = (Prepared::build(&lt), Prepared::build(&rt));
        let mut want: Vec<u64> = candidates(&rules, &lp, &rp).pairs;
        want.sort_unstable();
        assert!(want.len() > 5);
        assert_eq!(shared, want);
        // Content hashes: the same table gives the same keys in another run.
        assert_eq!(row_keys(&lt, &rules), lk);
    }

    fn id_table(ids: &[&str]) -> Prepared {
        let cols = vec![
            ("id".to_string(), FieldKind::Id),
            ("doc".to_string(), FieldKind::Identifier),
        ];
        let mut t = Table::new(cols).unwrap();
        for (n, v) in ids.iter().enumerate() {
            let id = format!("r{n}");
            t.push(id.clone(), [Some(id.as_str()), Some(*v)]).unwrap();
        }
        Prepared::build(&t)
    }

    /// The identifier's deletion neighbourhood meets every number one typo or one dropped
    /// character away, and not two typos away.
    #[test]
    fn identifier_neighbourhood_finds_one_typo_and_nothing_further() {
        let rules = vec![BlockingRule {
            keys: vec![BlockKey::IdentifierNeighbourhood],
        }];
        let left = id_table(&["5304218"]);
        let right = id_table(&[
            "5304218",  // the same
            "5304298",  // one digit
            "5302418",  // neighbours swapped
            "530218",   // one dropped
            "53042818", // one added
            "5304219",  // the last digit (a consecutive number: compared, scored different)
            "5904298",  // two digits
            "3504281",  // two swaps
            "4066625",  // another
        ]);
        let got: Vec<u64> = candidates(&rules, &left, &right)
            .pairs
            .iter()
            .map(|p| p & 0xFFFF_FFFF)
            .collect();
        assert_eq!(got.iter().copied().max(), Some(5), "{got:?}");
        let mut got = got;
        got.sort_unstable();
        assert_eq!(got, vec![0, 1, 2, 3, 4, 5]);
        // Short codes block on their exact value only: their deletions are common short codes.
        let (a, b) = (id_table(&["A123"]), id_table(&["A123", "A124", "A13"]));
        let c = candidates(&rules, &a, &b);
        assert_eq!(c.pairs, vec![0]);
        // The `identifier` key is the exact value alone.
        let exact = vec!["identifier".parse::<BlockingRule>().unwrap()];
        assert_eq!(candidates(&exact, &left, &right).pairs.len(), 1);
    }

    #[test]
    fn exact_columns_block_when_all_agree_whatever_their_order() {
        let table = |cols: [&str; 2], rows: &[[&str; 3]]| {
            let mut columns = vec![("id".to_string(), FieldKind::Id)];
            columns.extend(cols.map(|c| (c.to_string(), FieldKind::Exact)));
            columns.push(("family".to_string(), FieldKind::FamilyName));
            let mut t = Table::new(columns).unwrap();
            for (n, r) in rows.iter().enumerate() {
                let id = format!("r{n}");
                let v = |s: &str| {
                    if s.is_empty() {
                        None
                    } else {
                        Some(s.to_string())
                    }
                };
                t.push(
                    id.clone(),
                    [Some(id), v(r[0]), v(r[1]), Some(r[2].to_string())],
                )
                .unwrap();
            }
            Prepared::build(&t)
        };
        let left = table(["postcode", "street_number"], &[["4223", "8", "Neumann"]]);
        // The right list has its columns the other way round.
        let right = table(
            ["Street_Number", "postcode"],
            &[
                ["8", "4223", "Neumann"],
                ["8", "4223", "Painter"],
                ["9", "4223", "Neumann"],
                ["", "4223", "Neumann"],
            ],
        );
        let rule = vec![
            "family_skeleton+exact_columns"
                .parse::<BlockingRule>()
                .unwrap(),
        ];
        assert_eq!(candidates(&rule, &left, &right).pairs, vec![0]);
        // Lists without exact columns give no keys at all (not one block of everyone).
        let (lt, rt) = (
            crate::features::fixtures::left(),
            crate::features::fixtures::right(),
        );
        let only = vec!["exact_columns".parse::<BlockingRule>().unwrap()];
        let (lp, rp) = (Prepared::build(&lt), Prepared::build(&rt));
        assert!(candidates(&only, &lp, &rp).pairs.is_empty());
    }

    #[test]
    fn given_initial_is_the_same_in_any_script() {
        let (lt, rt) = (
            crate::features::fixtures::left(),
            crate::features::fixtures::right(),
        );
        let (lp, rp) = (Prepared::build(&lt), Prepared::build(&rt));
        let rule = BlockingRule {
            keys: vec![BlockKey::GivenInitial],
        };
        let (mut a, mut b) = (KeySet::default(), KeySet::default());
        // Дмитро, Дмитрий (in a full name) and Dmytro (Latin, surname first).
        rule_keys(&rule, &lp, 0, &mut a);
        assert_eq!(a.n, 1);
        for j in [0, 1] {
            rule_keys(&rule, &rp, j, &mut b);
            assert_eq!(a.as_slice(), b.as_slice(), "right row {j}");
        }
        // Дмитро and Марія differ.
        rule_keys(&rule, &lp, 0, &mut a);
        rule_keys(&rule, &lp, 6, &mut b);
        assert_ne!(a.as_slice(), b.as_slice());
    }

    fn check_candidates(rules: &[BlockingRule], lp: &Prepared, rp: &Prepared) {
        let want = brute_force(rules, lp, rp);
        assert!(want.len() > 5, "the fixture exercises blocking: {want:?}");
        // Both orientations: the smaller table is indexed and the larger streamed, either way.
        for (a, b, swapped) in [(lp, rp, false), (rp, lp, true)] {
            let c = candidates(rules, a, b);
            let mut got: Vec<(u64, RuleMask)> = c
                .pairs
                .iter()
                .zip(&c.masks)
                .map(|(&p, &m)| {
                    if swapped {
                        (p.rotate_left(32), m)
                    } else {
                        (p, m)
                    }
                })
                .collect();
            got.sort_unstable();
            let n = got.len();
            got.dedup_by_key(|g| g.0);
            assert_eq!(got.len(), n, "each pair once");
            assert_eq!(got, want);
            for (r, &count) in c.per_rule.iter().enumerate() {
                let expected = want.iter().filter(|w| w.1 & (1 << r) != 0).count() as u64;
                assert_eq!(count, expected, "rule {r}");
            }
        }
    }
}
