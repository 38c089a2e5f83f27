//! Per-record features computed once per table, so that comparing a pair allocates nothing.

use crate::dates::BirthDate;
use crate::names::{Classes, split_full_name, tables};
use crate::normalise::fold;
use crate::places::normalise_place;
use crate::table::{FieldKind, Table};
use crate::translit::{phonetic, skeleton};
use rayon::prelude::*;
use std::hash::{Hash, Hasher};

/// A stable 64-bit hash (FNV-1a): keys must not depend on a per-process random seed.
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

pub(crate) fn hash_of<T: Hash>(t: &T) -> u64 {
    struct Fnv(u64);
    impl Hasher for Fnv {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            for &b in bytes {
                self.0 ^= u64::from(b);
                self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
            }
        }
    }
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    t.hash(&mut h);
    h.finish()
}

/// One name (given, patronymic or family), reduced.
#[derive(Debug)]
pub(crate) struct NameFeat {
    /// Phonetic form (for family names with the ending made canonical).
    pub phon: Box<str>,
    pub folded_hash: u64,
    pub phon_hash: u64,
    pub skel_hash: u64,
    /// Hash of the first three skeleton letters (blocking).
    pub skel_prefix: u64,
    pub skel_initial: u8,
    /// Given names: their classes; patronymics: the father's classes; family names: none.
    pub classes: Classes,
    /// Per word of a multi-word name (double surname), its phonetic hash; 0 when unused.
    pub parts: [u64; 2],
}

impl NameFeat {
    pub fn is_known(&self) -> bool {
        !self.classes.is_empty()
    }

    fn build(raw: &str, kind: FieldKind) -> Option<NameFeat> {
        let t = tables();
        let folded = fold(raw);
        let mut phon = phonetic(raw);
        if phon.is_empty() {
            return None;
        }
        let classes = match kind {
            FieldKind::GivenName => t.given_classes(&phon),
            FieldKind::Patronymic => t.patronymic(&phon).map(|(c, _)| c).unwrap_or_default(),
            _ => Classes::default(),
        };
        if kind == FieldKind::FamilyName {
            phon = t.surname_canonical(&phon);
        }
        let skel = skeleton(&phon);
        let mut parts = [0u64; 2];
        if phon.contains(' ') {
            for (slot, w) in parts.iter_mut().zip(phon.split(' ')) {
                *slot = hash_bytes(w.as_bytes());
            }
        }
        let skel_bytes = skel.as_bytes();
        Some(NameFeat {
            folded_hash: hash_bytes(folded.as_bytes()),
            phon_hash: hash_bytes(phon.as_bytes()),
            skel_hash: hash_bytes(skel_bytes),
            skel_prefix: hash_bytes(&skel_bytes[..skel_bytes.len().min(3)]),
            skel_initial: skel_bytes.first().copied().unwrap_or(0),
            classes,
            parts,
            phon: phon.into_boxed_str(),
        })
    }

    /// The key term frequencies are counted on: the first class of a known given name or father
    /// (so Саша and Олександр count together), else the phonetic form.
    pub fn tf_key(&self) -> u64 {
        match self.classes.as_slice().first() {
            Some(&c) => hash_of(&("class", c)),
            None => self.phon_hash,
        }
    }
}

#[derive(Debug)]
pub(crate) struct PlaceFeat {
    pub phon: Box<str>,
    pub key: u64,
}

/// One record's features.
#[derive(Debug)]
pub(crate) struct RecordFeat {
    pub given: Option<NameFeat>,
    pub patronymic: Option<NameFeat>,
    pub family: Option<NameFeat>,
    pub sex: u8,
    pub date: Option<BirthDate>,
    pub place: Option<PlaceFeat>,
    /// Identifier, text and exact columns, in column order: (folded hash, folded text).
    pub extra: Vec<Option<(u64, Box<str>)>>,
}

/// All records' features, and which columns feed them.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub records: Vec<RecordFeat>,
    /// Column index of each identifier/text/exact column, in order (indexes `RecordFeat::extra`).
    pub extra_columns: Vec<usize>,
    pub has_given: bool,
    pub has_patronymic: bool,
    pub has_family: bool,
}

/// The name values of one row: from their own columns, or split from the full name.
pub(crate) fn row_names(table: &Table, row: usize) -> [Option<String>; 3] {
    let given = table
        .first_of(row, FieldKind::GivenName)
        .map(str::to_string);
    let patronymic = table
        .first_of(row, FieldKind::Patronymic)
        .map(str::to_string);
    let family = table
        .first_of(row, FieldKind::FamilyName)
        .map(str::to_string);
    if given.is_some() && family.is_some() {
        return [given, patronymic, family];
    }
    match table.first_of(row, FieldKind::FullName) {
        Some(full) => {
            let s = split_full_name(full);
            [
                given.or(s.given),
                patronymic.or(s.patronymic),
                family.or(s.family),
            ]
        }
        None => [given, patronymic, family],
    }
}

impl Prepared {
    pub fn build(table: &Table) -> Prepared {
        let extra_columns: Vec<usize> = table
            .columns()
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                matches!(
                    c.kind,
                    FieldKind::Identifier | FieldKind::Text | FieldKind::Exact
                )
            })
            .map(|(i, _)| i)
            .collect();
        let records: Vec<RecordFeat> = (0..table.len())
            .into_par_iter()
            .map(|row| {
                let [g, p, f] = row_names(table, row);
                let extra = extra_columns
                    .iter()
                    .map(|&c| {
                        let v = table.value(row, c)?;
                        let folded = if table.columns()[c].kind == FieldKind::Identifier {
                            fold(v).replace(' ', "")
                        } else {
                            fold(v)
                        };
                        if folded.is_empty() {
                            return None;
                        }
                        Some((hash_bytes(folded.as_bytes()), folded.into_boxed_str()))
                    })
                    .collect();
                RecordFeat {
                    given: g.and_then(|s| NameFeat::build(&s, FieldKind::GivenName)),
                    patronymic: p.and_then(|s| NameFeat::build(&s, FieldKind::Patronymic)),
                    family: f.and_then(|s| NameFeat::build(&s, FieldKind::FamilyName)),
                    sex: table.sexes[row],
                    date: table.dates[row],
                    place: table
                        .first_of(row, FieldKind::BirthPlace)
                        .and_then(normalise_place)
                        .map(|p| PlaceFeat {
                            key: p
                                .known
                                .map(|k| hash_of(&("place", k)))
                                .unwrap_or_else(|| hash_bytes(p.phonetic.as_bytes())),
                            phon: p.phonetic.into_boxed_str(),
                        }),
                    extra,
                }
            })
            .collect();
        let full = table.has_kind(FieldKind::FullName);
        Prepared {
            records,
            extra_columns,
            has_given: full || table.has_kind(FieldKind::GivenName),
            has_patronymic: full || table.has_kind(FieldKind::Patronymic),
            has_family: full || table.has_kind(FieldKind::FamilyName),
        }
    }
}
