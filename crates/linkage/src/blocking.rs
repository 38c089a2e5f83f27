//! Blocking: which pairs are compared at all. Several rules, each a combination of keys; a pair is a
//! candidate when both records share every key of at least one rule.

use crate::features::{RecordFeat, hash_of};
use crate::table::{FieldKind, LinkError, SEX_UNKNOWN};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
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
}

impl BlockKey {
    pub const ALL: [BlockKey; 10] = [
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
        }
    }

    /// The compared field this key constrains: EM does not learn that field's m from this rule's
    /// pairs, where it agrees by construction.
    pub fn field(self) -> FieldKind {
        match self {
            BlockKey::GivenClass => FieldKind::GivenName,
            BlockKey::PatronymicClass => FieldKind::Patronymic,
            BlockKey::FamilySkeleton | BlockKey::FamilyPrefix | BlockKey::FamilyInitial => {
                FieldKind::FamilyName
            }
            BlockKey::BirthYear | BlockKey::BirthDate | BlockKey::BirthDateAnyOrder => {
                FieldKind::BirthDate
            }
            BlockKey::BirthPlace => FieldKind::BirthPlace,
            BlockKey::Sex => FieldKind::Sex,
        }
    }

    /// The values of this key for a record (several for a name in several classes); empty when the
    /// record lacks the field.
    fn values(self, r: &RecordFeat, out: &mut Vec<u64>) {
        out.clear();
        match self {
            BlockKey::GivenClass | BlockKey::PatronymicClass => {
                let n = if self == BlockKey::GivenClass {
                    &r.given
                } else {
                    &r.patronymic
                };
                if let Some(n) = n {
                    if n.classes.is_empty() {
                        out.push(n.phon_hash);
                    } else {
                        out.extend(n.classes.as_slice().iter().map(|&c| hash_of(&("class", c))));
                    }
                }
            }
            BlockKey::FamilySkeleton => out.extend(r.family.as_ref().map(|f| f.skel_hash)),
            BlockKey::FamilyPrefix => out.extend(r.family.as_ref().map(|f| f.skel_prefix)),
            BlockKey::FamilyInitial => {
                out.extend(r.family.as_ref().map(|f| u64::from(f.skel_initial)))
            }
            BlockKey::BirthYear => out.extend(r.date.map(|d| d.year as u64)),
            BlockKey::BirthDate => out.extend(
                r.date
                    .filter(|d| d.is_full())
                    .map(|d| hash_of(&(d.year, d.month, d.day))),
            ),
            BlockKey::BirthDateAnyOrder => out.extend(
                r.date
                    .filter(|d| d.is_full())
                    .map(|d| hash_of(&(d.year, d.month.min(d.day), d.month.max(d.day)))),
            ),
            BlockKey::BirthPlace => out.extend(r.place.as_ref().map(|p| p.key)),
            BlockKey::Sex => out.extend(Some(r.sex).filter(|&s| s != SEX_UNKNOWN).map(u64::from)),
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
pub fn default_rules() -> Vec<BlockingRule> {
    use BlockKey::*;
    [
        vec![GivenClass, FamilyInitial, BirthYear],
        vec![GivenClass, FamilySkeleton],
        vec![GivenClass, BirthDateAnyOrder],
        vec![FamilySkeleton, BirthYear],
        vec![FamilyInitial, BirthDate],
        vec![GivenClass, BirthPlace, BirthYear],
    ]
    .into_iter()
    .map(|keys| BlockingRule { keys })
    .collect()
}

/// Most key combinations one record contributes to one rule (products of multi-class names).
const MAX_KEYS: usize = 8;

/// For one rule, each record's combined keys, stored flat.
pub(crate) struct RuleKeys {
    offsets: Vec<u32>,
    keys: Vec<u64>,
}

impl RuleKeys {
    pub fn build(rule: &BlockingRule, records: &[RecordFeat]) -> RuleKeys {
        let per: Vec<Vec<u64>> = records
            .par_iter()
            .map_init(
                || (Vec::with_capacity(8), Vec::with_capacity(8)),
                |(vals, acc), r| {
                    acc.clear();
                    acc.push(0x9e37_79b9_7f4a_7c15u64);
                    for k in &rule.keys {
                        k.values(r, vals);
                        if vals.is_empty() {
                            return Vec::new();
                        }
                        let mut next = Vec::with_capacity(acc.len() * vals.len());
                        for &a in acc.iter() {
                            for &v in vals.iter() {
                                if next.len() < MAX_KEYS {
                                    next.push(hash_of(&(a, *k as u8, v)));
                                }
                            }
                        }
                        *acc = next;
                    }
                    acc.clone()
                },
            )
            .collect();
        let mut offsets = Vec::with_capacity(records.len() + 1);
        let mut keys = Vec::new();
        offsets.push(0);
        for v in per {
            keys.extend(v);
            offsets.push(u32::try_from(keys.len()).unwrap_or(u32::MAX));
        }
        RuleKeys { offsets, keys }
    }

    pub fn of(&self, i: usize) -> &[u64] {
        let (a, b) = (self.offsets[i] as usize, self.offsets[i + 1] as usize);
        &self.keys[a..b]
    }

    pub fn share(&self, i: usize, other: &RuleKeys, j: usize) -> bool {
        let b = other.of(j);
        self.of(i).iter().any(|k| b.contains(k))
    }
}

/// Candidate pairs `(left << 32) | right` of one rule.
pub(crate) fn rule_pairs(
    left: &RuleKeys,
    n_left: usize,
    right: &RuleKeys,
    n_right: usize,
) -> Vec<u64> {
    let mut index: HashMap<u64, Vec<u32>> = HashMap::new();
    for j in 0..n_right {
        for &k in right.of(j) {
            let v = index.entry(k).or_default();
            // A record with two keys in one block (Саша in two classes) is listed once.
            if v.last() != Some(&(j as u32)) {
                v.push(j as u32);
            }
        }
    }
    (0..n_left)
        .into_par_iter()
        .fold(Vec::new, |mut acc: Vec<u64>, i| {
            let start = acc.len();
            for k in left.of(i) {
                if let Some(rs) = index.get(k) {
                    acc.extend(rs.iter().map(|&j| ((i as u64) << 32) | u64::from(j)));
                }
            }
            if left.of(i).len() > 1 {
                acc[start..].sort_unstable();
                let mut w = start;
                for r in start..acc.len() {
                    if r == start || acc[r] != acc[w - 1] {
                        acc[w] = acc[r];
                        w += 1;
                    }
                }
                acc.truncate(w);
            }
            acc
        })
        .reduce(Vec::new, |mut a, mut b| {
            if a.len() < b.len() {
                std::mem::swap(&mut a, &mut b);
            }
            a.extend(b);
            a
        })
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
}
