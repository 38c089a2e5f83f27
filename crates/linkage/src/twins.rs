//! How common twins are in the lists being linked: the evidence the sibling guard weighs a
//! different given name against.
//!
//! A pair of records that agrees on everything but the given name (and a document number) is
//! either one child whose given name was replaced in one record, or two children born the same
//! day into the same family. Which is likelier depends on the lists: among displaced children,
//! where brothers and sisters are often taken and listed together, twins are common and such a
//! pair must never be merged; in a list without a single twin-like pair in millions, it is
//! almost surely a record whose given name was written wrong. The lists themselves tell which:
//! records *within* one list are never the same child twice (a party lists a child once), so
//! every twin-like pair inside a list is two children, and their share among that list's pairs
//! estimates how often a pair across the lists is two such children.

use crate::compare::{FieldSpec, Source, field_level};
use crate::features::{FAMILY, FxHashMap, GIVEN, Prepared};
use crate::table::FieldKind;

/// The "different" level of names; see [`crate::compare::NAME_LEVELS`].
const NAME_DIFFERENT: u8 = 7;

/// Twin-like pairs found within one list, and the pairs they were found among.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct TwinCount {
    /// Pairs that look like twins: see [`count_within`].
    pub twin_like: u64,
    /// Pairs with the same family name and full birth date and different given names, whatever
    /// else they differ in: the cell [`rate_if_renamed_outnumber_twins`] compares with the pairs
    /// across the lists.
    pub same_family_and_date: u64,
    pub pairs: f64,
}

impl TwinCount {
    /// The share of pairs that are twin-like, over both lists, with half a twin-like pair of
    /// prior weight: a list too short to show any twin keeps the guard near its full strength
    /// (a list of ten records gives about 1 in 90), and only many pairs without a single twin
    /// can weaken it.
    pub fn rate(a: TwinCount, b: TwinCount) -> f64 {
        (a.twin_like as f64 + b.twin_like as f64 + 0.5) / (a.pairs + b.pairs + 1.0)
    }

    fn cell_rate(a: TwinCount, b: TwinCount) -> f64 {
        (a.same_family_and_date as f64 + b.same_family_and_date as f64 + 0.5)
            / (a.pairs + b.pairs + 1.0)
    }
}

/// The twin rate the model weighs a different given name with, or `None` to keep the guard at
/// full strength. The rate alone treats a given name as replaced independently of the other
/// fields, and in lists of children it is not: a child renamed is usually adopted, with a new
/// surname too, so that a pair differing only in its given name is twins far more often than
/// independence says. So the lists must first show that such pairs are not mostly twins: across
/// the lists, the pairs with the same family name and birth date and different given names
/// (`cross`, counted among the candidates) must outnumber those that pairs within the lists lead
/// one to expect among two different children (the same cell within the lists, at their rate,
/// times the pairs across).
pub(crate) fn rate_if_renamed_outnumber_twins(
    left: TwinCount,
    right: TwinCount,
    cross: u64,
    cross_pairs: f64,
) -> (Option<f64>, String) {
    let expected = TwinCount::cell_rate(left, right) * cross_pairs;
    let rate = TwinCount::rate(left, right);
    let within = left.twin_like + right.twin_like;
    let cell = left.same_family_and_date + right.same_family_and_date;
    if (cross as f64) > 2.0 * expected {
        (
            Some(rate),
            format!(
                "twins: {within} twin-like pairs within the lists (rate {rate:.3e}); {cross} pairs \
                 across differ only in the given name among those with the same family name and \
                 birth date, against {expected:.1} expected of different children: a different \
                 given name is weighed against the twin rate"
            ),
        )
    } else {
        (
            None,
            format!(
                "twins: {cross} pairs across with the same family name and birth date and \
                 different given names, against {expected:.1} expected of different children \
                 ({cell} such pairs within the lists): a different given name outweighs all else"
            ),
        )
    }
}

/// Counts the pairs of records within one list (`side` 0: the specs' left sources, 1: right)
/// that look like twins: the same family name (its phonetic form with the ending made canonical,
/// so a brother and sister count) and the same full birth date, given names that are different,
/// and every other compared field either missing or at its top level. Sex and document numbers
/// are not required to agree: twins differ in both. Pairs are counted among the records that
/// have a given name, a family name and a full birth date.
pub(crate) fn count_within(specs: &[FieldSpec], p: &Prepared, side: usize) -> Option<TwinCount> {
    let own: Vec<FieldSpec> = specs
        .iter()
        .map(|s| {
            let src = if side == 0 { s.left } else { s.right };
            FieldSpec {
                name: s.name.clone(),
                kind: s.kind,
                left: src,
                right: src,
            }
        })
        .collect();
    let find = |k: FieldKind| {
        own.iter()
            .position(|s| s.kind == k && s.left != Source::Missing)
    };
    let given = find(FieldKind::GivenName)?;
    find(FieldKind::FamilyName)?;
    find(FieldKind::BirthDate)?;
    let mut groups: FxHashMap<(u64, i16, u8, u8), Vec<u32>> = FxHashMap::default();
    let mut eligible = 0u64;
    for (i, r) in p.records.iter().enumerate() {
        let (Some(d), Some(f), Some(_)) = (r.date.as_ref(), p.name(FAMILY, i), p.name(GIVEN, i))
        else {
            continue;
        };
        if !d.date.is_full() {
            continue;
        }
        eligible += 1;
        groups
            .entry((f.phon_hash, d.date.year, d.date.month, d.date.day))
            .or_default()
            .push(i as u32);
    }
    let (mut twin_like, mut same_family_and_date) = (0u64, 0u64);
    for members in groups.values().filter(|m| m.len() > 1) {
        for (k, &a) in members.iter().enumerate() {
            for &b in &members[..k] {
                let (a, b) = (a as usize, b as usize);
                if field_level(&own[given], p, a, p, b) != NAME_DIFFERENT {
                    continue;
                }
                same_family_and_date += 1;
                let looks_like_twins = own.iter().enumerate().all(|(f, spec)| {
                    f == given
                        || matches!(spec.kind, FieldKind::Sex | FieldKind::Identifier)
                        || field_level(spec, p, a, p, b) <= 1
                });
                twin_like += u64::from(looks_like_twins);
            }
        }
    }
    let n = eligible as f64;
    Some(TwinCount {
        twin_like,
        same_family_and_date,
        pairs: n * (n - 1.0) / 2.0,
    })
}

/// Among compared pairs across the lists (`levels`, `specs.len()` per pair), those with the same
/// family name (exact or equivalent), the same full birth date and different given names.
pub(crate) fn count_across(specs: &[FieldSpec], levels: &[u8]) -> u64 {
    let find = |k: FieldKind| specs.iter().position(|s| s.kind == k);
    let (Some(given), Some(family), Some(date)) = (
        find(FieldKind::GivenName),
        find(FieldKind::FamilyName),
        find(FieldKind::BirthDate),
    ) else {
        return 0;
    };
    levels
        .chunks(specs.len().max(1))
        .filter(|lv| lv[given] == NAME_DIFFERENT && matches!(lv[family], 1 | 2) && lv[date] == 1)
        .count() as u64
}
