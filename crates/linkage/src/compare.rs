//! Comparison levels: how two records agree on one field, from exact to different.
//!
//! Level 0 is always "null" (a value missing on either side; weight 0). The other levels are
//! ordered best first. Every comparison is symmetric.

use crate::dates::DateLevel;
use crate::features::{ExtraValue, FAMILY, GIVEN, NameFeat, PATRONYMIC, PlaceFeat, Prepared};
use crate::jw::jaro_winkler;
use crate::table::{FieldKind, SEX_UNKNOWN, Table};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

pub const NULL: u8 = 0;

/// Level names for names (given, patronymic, family).
pub const NAME_LEVELS: [&str; 7] = [
    "exact",
    "equivalent",
    "skeleton",
    "jw_0.92",
    "jw_0.88",
    "jw_0.70",
    "different",
];
pub const DATE_LEVELS: [&str; 12] = [
    "exact",
    "day_month_swapped",
    "few_days",
    "year_off_by_one",
    "one_digit",
    "same_year_month",
    "same_month_one_side_coarser",
    "within_month",
    "within_year",
    "same_year_one_side_coarser",
    "same_partial",
    "different",
];
/// The most levels any field has, counting the null level: sizes per-level count tables.
pub(crate) const MAX_LEVELS: usize = DATE_LEVELS.len() + 1;
pub const SEX_LEVELS: [&str; 2] = ["agree", "disagree"];
pub const PLACE_LEVELS: [&str; 3] = ["same", "similar", "different"];
pub const EXACT_LEVELS: [&str; 2] = ["exact", "different"];
/// Document numbers: a typo (one character wrong, or two neighbours swapped) is the commonest way
/// one child's number comes to be written differently, and it is as good as agreement for telling
/// the child from a sibling; see [`identifier_level`].
pub const IDENTIFIER_LEVELS: [&str; 3] = ["exact", "one_typo", "different"];
pub const TEXT_LEVELS: [&str; 4] = ["exact", "jw_0.88", "jw_0.70", "different"];

/// Level names of a field kind, best first, without the null level.
pub fn level_names(kind: FieldKind) -> &'static [&'static str] {
    match kind {
        FieldKind::GivenName | FieldKind::Patronymic | FieldKind::FamilyName => &NAME_LEVELS,
        FieldKind::BirthDate => &DATE_LEVELS,
        FieldKind::Sex => &SEX_LEVELS,
        FieldKind::BirthPlace => &PLACE_LEVELS,
        FieldKind::Text => &TEXT_LEVELS,
        FieldKind::Identifier => &IDENTIFIER_LEVELS,
        _ => &EXACT_LEVELS,
    }
}

/// Starting m probabilities (and the prior EM shrinks towards): general expectations of how a
/// true match's field agrees in hand-kept lists, not fitted to any data.
pub fn default_m(kind: FieldKind) -> &'static [f64] {
    match kind {
        FieldKind::GivenName | FieldKind::Patronymic | FieldKind::FamilyName => {
            &[0.70, 0.15, 0.04, 0.03, 0.02, 0.03, 0.03]
        }
        FieldKind::BirthDate => &[
            0.745, 0.03, 0.02, 0.02, 0.04, 0.03, 0.02, 0.02, 0.03, 0.02, 0.005, 0.02,
        ],
        FieldKind::Sex => &[0.97, 0.03],
        FieldKind::BirthPlace => &[0.80, 0.08, 0.12],
        FieldKind::Text => &[0.70, 0.10, 0.10, 0.10],
        FieldKind::Identifier => &[0.88, 0.05, 0.07],
        _ => &[0.90, 0.10],
    }
}

/// Starting u probabilities (the prior random-pair sampling is smoothed towards).
pub fn default_u(kind: FieldKind) -> &'static [f64] {
    match kind {
        FieldKind::GivenName | FieldKind::Patronymic => {
            &[0.01, 0.01, 0.005, 0.005, 0.01, 0.07, 0.89]
        }
        FieldKind::FamilyName => &[0.002, 0.002, 0.003, 0.005, 0.01, 0.08, 0.898],
        FieldKind::BirthDate => &[
            0.0003, 0.0001, 0.001, 0.0003, 0.0015, 0.004, 0.002, 0.005, 0.06, 0.02, 0.0002, 0.9055,
        ],
        FieldKind::Sex => &[0.5, 0.5],
        FieldKind::BirthPlace => &[0.05, 0.01, 0.94],
        FieldKind::Text => &[0.01, 0.02, 0.1, 0.87],
        FieldKind::Identifier => &[0.0001, 0.0005, 0.9994],
        _ => &[0.0001, 0.9999],
    }
}

/// What a field compares on each side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Given,
    Patronymic,
    Family,
    Sex,
    Date,
    Place,
    /// Index into `Prepared::extra`.
    Extra(usize),
    /// Not available in this table.
    Missing,
}

/// One compared field: its name and kind, and where each side's value comes from.
#[derive(Clone, Debug)]
pub(crate) struct FieldSpec {
    pub name: String,
    pub kind: FieldKind,
    pub left: Source,
    pub right: Source,
}

fn source_for(
    kind: FieldKind,
    table: &Table,
    prepared: &Prepared,
    name: &str,
    nth: usize,
) -> Source {
    match kind {
        FieldKind::GivenName if prepared.has_given => Source::Given,
        FieldKind::Patronymic if prepared.has_patronymic => Source::Patronymic,
        FieldKind::FamilyName if prepared.has_family => Source::Family,
        FieldKind::Sex if table.has_kind(FieldKind::Sex) => Source::Sex,
        FieldKind::BirthDate if table.has_kind(FieldKind::BirthDate) => Source::Date,
        FieldKind::BirthPlace if table.has_kind(FieldKind::BirthPlace) => Source::Place,
        FieldKind::Identifier | FieldKind::Text | FieldKind::Exact => {
            let cols = table.columns();
            let of_kind: Vec<usize> = prepared
                .extra_columns
                .iter()
                .enumerate()
                .filter(|(_, c)| cols[**c].kind == kind)
                .map(|(i, _)| i)
                .collect();
            // Same header first (case-insensitive), else the nth column of the kind.
            of_kind
                .iter()
                .find(|&&i| {
                    cols[prepared.extra_columns[i]]
                        .name
                        .eq_ignore_ascii_case(name)
                })
                .or_else(|| of_kind.get(nth))
                .map(|&i| Source::Extra(i))
                .unwrap_or(Source::Missing)
        }
        _ => Source::Missing,
    }
}

/// The fields two tables can be compared on, in a fixed order: names, sex, date, place, then the
/// identifier, text and exact columns of the left table.
pub(crate) fn field_specs(
    left: &Table,
    lp: &Prepared,
    right: &Table,
    rp: &Prepared,
) -> Vec<FieldSpec> {
    let mut out = Vec::new();
    for kind in [
        FieldKind::GivenName,
        FieldKind::Patronymic,
        FieldKind::FamilyName,
        FieldKind::Sex,
        FieldKind::BirthDate,
        FieldKind::BirthPlace,
    ] {
        let l = source_for(kind, left, lp, "", 0);
        let r = source_for(kind, right, rp, "", 0);
        if l != Source::Missing && r != Source::Missing {
            out.push(FieldSpec {
                name: kind.as_str().to_string(),
                kind,
                left: l,
                right: r,
            });
        }
    }
    let mut nth: std::collections::HashMap<FieldKind, usize> = std::collections::HashMap::new();
    for &c in &lp.extra_columns {
        let col = &left.columns()[c];
        let k = nth.entry(col.kind).or_insert(0);
        let l = source_for(col.kind, left, lp, &col.name, *k);
        let r = source_for(col.kind, right, rp, &col.name, *k);
        *k += 1;
        if l != Source::Missing && r != Source::Missing {
            out.push(FieldSpec {
                name: col.name.clone(),
                kind: col.kind,
                left: l,
                right: r,
            });
        }
    }
    out
}

/// Builds specs for a saved model's fields: a field missing from a table compares as null.
pub(crate) fn specs_for_model(
    fields: &[(String, FieldKind)],
    left: &Table,
    lp: &Prepared,
    right: &Table,
    rp: &Prepared,
) -> Vec<FieldSpec> {
    let mut nth: std::collections::HashMap<FieldKind, usize> = std::collections::HashMap::new();
    fields
        .iter()
        .map(|(name, kind)| {
            let k = nth.entry(*kind).or_insert(0);
            let spec = FieldSpec {
                name: name.clone(),
                kind: *kind,
                left: source_for(*kind, left, lp, name, *k),
                right: source_for(*kind, right, rp, name, *k),
            };
            *k += 1;
            spec
        })
        .collect()
}

fn name_of(p: &Prepared, i: usize, s: Source) -> Option<(u32, &NameFeat)> {
    let slot = match s {
        Source::Given => GIVEN,
        Source::Patronymic => PATRONYMIC,
        Source::Family => FAMILY,
        _ => return None,
    };
    let id = p.records[i].names[slot];
    p.names[slot].get(id as usize).map(|n| (id, n))
}

/// Names: exact (same folded spelling) → equivalent (same phonetic form in any script or standard,
/// or a shared given-name / father's-name class, diminutives included) → skeleton (same consonants:
/// Ukrainian vs Russian vowel spelling; or one word of a double surname) → Jaro–Winkler bands →
/// different. Two names that are both in the given-name table but share no class (Іван / Іванна,
/// Дмитро / Максим) are different whatever their similarity: siblings are told apart by exactly that.
pub(crate) fn name_level(a: &NameFeat, b: &NameFeat) -> u8 {
    if a.folded_hash == b.folded_hash {
        return 1;
    }
    if a.phon_hash == b.phon_hash || a.classes.intersects(&b.classes) {
        return 2;
    }
    // One side Latin in the French-based scheme without its marks (Chvetsak / Швецак).
    if (a.french_hash != 0 && a.french_hash == b.phon_hash)
        || (b.french_hash != 0 && b.french_hash == a.phon_hash)
    {
        return 2;
    }
    if a.is_known() && b.is_known() {
        return 7;
    }
    // A typo in a given name, of a name equivalent to the other (HELRN / Олена): as close as a
    // Jaro–Winkler of 0.92, rather than another child's name.
    if a.near.intersects(&b.classes) || b.near.intersects(&a.classes) {
        return 4;
    }
    if a.skel_hash == b.skel_hash && a.phon.len() > 2 && b.phon.len() > 2 {
        return 3;
    }
    let part_match = |x: &NameFeat, y: &NameFeat| {
        x.parts[0] != 0
            && (x.parts.contains(&y.phon_hash)
                || (y.parts[0] != 0 && x.parts.iter().any(|p| y.parts.contains(p))))
    };
    if part_match(a, b) || part_match(b, a) {
        return 3;
    }
    let jw = jaro_winkler(a.phon.as_bytes(), b.phon.as_bytes());
    if jw >= 0.92 {
        4
    } else if jw >= 0.88 {
        5
    } else if jw >= 0.70 {
        6
    } else {
        7
    }
}

fn place_level(x: &PlaceFeat, y: &PlaceFeat) -> u8 {
    if x.key == y.key || x.phon == y.phon {
        1
    } else if jaro_winkler(x.phon.as_bytes(), y.phon.as_bytes()) >= 0.88 {
        2
    } else {
        3
    }
}

/// Most cells of one field's dense cache of levels by (left value, right value): a byte each, so
/// at most 16 MiB a field.
const CACHE_CELLS: usize = 1 << 24;
/// Slots of the lossy cache used beyond that (8 MiB a field).
const LOSSY_SLOTS: usize = 1 << 20;
/// Value ids the lossy cache can hold: 28 bits each, beside an 8-bit level in one word.
const LOSSY_ID_LIMIT: u32 = 1 << 28;

/// Levels of one field by pair of distinct values, filled as pairs are compared. Names repeat,
/// so most candidate pairs find their level here instead of in Jaro–Winkler. Threads race only
/// to store the same value for a pair, so relaxed atomics suffice.
enum LevelCache {
    /// Every pair of values has a cell; 0 means "not yet computed" (a level of two present values
    /// is never null).
    Dense {
        right_len: usize,
        cells: Vec<AtomicU8>,
    },
    /// For tables with too many distinct values for a cell per pair: a direct-mapped table of
    /// `(left id, right id, level)` words, where a pair may evict another. Frequent pairs stay;
    /// a miss just computes the level.
    Lossy { slots: Vec<AtomicU64> },
}

impl LevelCache {
    fn new(left_len: usize, right_len: usize) -> Option<LevelCache> {
        if left_len == 0 || right_len == 0 {
            return None;
        }
        match left_len.checked_mul(right_len) {
            Some(n) if n <= CACHE_CELLS => Some(LevelCache::Dense {
                right_len,
                cells: std::iter::repeat_with(|| AtomicU8::new(0))
                    .take(n)
                    .collect(),
            }),
            _ => Some(LevelCache::Lossy {
                slots: std::iter::repeat_with(|| AtomicU64::new(0))
                    .take(LOSSY_SLOTS)
                    .collect(),
            }),
        }
    }

    fn get_or(&self, a: u32, b: u32, compute: impl FnOnce() -> u8) -> u8 {
        match self {
            LevelCache::Dense { right_len, cells } => {
                let Some(cell) = cells.get(a as usize * right_len + b as usize) else {
                    return compute();
                };
                let v = cell.load(Ordering::Relaxed);
                if v != 0 {
                    return v;
                }
                let v = compute();
                cell.store(v, Ordering::Relaxed);
                v
            }
            LevelCache::Lossy { slots } => {
                if a >= LOSSY_ID_LIMIT || b >= LOSSY_ID_LIMIT {
                    return compute();
                }
                let key = (u64::from(a) << 28) | u64::from(b);
                let at = (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40) as usize % slots.len();
                let word = slots[at].load(Ordering::Relaxed);
                if word != 0 && word >> 8 == key {
                    return (word & 0xFF) as u8;
                }
                let v = compute();
                slots[at].store((key << 8) | u64::from(v), Ordering::Relaxed);
                v
            }
        }
    }
}

/// Compares records of two prepared tables field by field, caching name and place levels by pair
/// of distinct values.
pub(crate) struct Comparer {
    specs: Vec<FieldSpec>,
    lp: Arc<Prepared>,
    rp: Arc<Prepared>,
    caches: Vec<Option<LevelCache>>,
}

impl Comparer {
    pub fn new(specs: Vec<FieldSpec>, lp: Arc<Prepared>, rp: Arc<Prepared>) -> Comparer {
        let slot = |s: Source| match s {
            Source::Given => Some(GIVEN),
            Source::Patronymic => Some(PATRONYMIC),
            Source::Family => Some(FAMILY),
            _ => None,
        };
        let caches = specs
            .iter()
            .map(|spec| match spec.kind {
                FieldKind::GivenName | FieldKind::Patronymic | FieldKind::FamilyName => {
                    let (a, b) = (slot(spec.left)?, slot(spec.right)?);
                    LevelCache::new(lp.names[a].len(), rp.names[b].len())
                }
                FieldKind::BirthPlace
                    if spec.left != Source::Missing && spec.right != Source::Missing =>
                {
                    LevelCache::new(lp.places.len(), rp.places.len())
                }
                _ => None,
            })
            .collect();
        Comparer {
            specs,
            lp,
            rp,
            caches,
        }
    }

    /// Levels of every field for left record `i` and right record `j`, into `out` (one byte per
    /// field).
    pub fn compare_into(&self, i: usize, j: usize, out: &mut [u8]) {
        let (lp, rp) = (&*self.lp, &*self.rp);
        for ((slot, spec), cache) in out.iter_mut().zip(&self.specs).zip(&self.caches) {
            *slot = match (spec.kind, cache) {
                (FieldKind::GivenName | FieldKind::Patronymic | FieldKind::FamilyName, Some(c)) => {
                    match (name_of(lp, i, spec.left), name_of(rp, j, spec.right)) {
                        (Some((a, x)), Some((b, y))) => c.get_or(a, b, || name_level(x, y)),
                        _ => NULL,
                    }
                }
                (FieldKind::BirthPlace, Some(c)) => {
                    let (a, b) = (lp.records[i].place, rp.records[j].place);
                    match (lp.places.get(a as usize), rp.places.get(b as usize)) {
                        (Some(x), Some(y)) => c.get_or(a, b, || place_level(x, y)),
                        _ => NULL,
                    }
                }
                _ => field_level(spec, lp, i, rp, j),
            };
        }
        swap_names(&self.specs, lp, i, rp, j, out);
    }
}

/// A given name and a surname written in each other's columns (a form filled in the wrong order,
/// a list kept surname first): when neither agrees where it stands, but one agrees fully across
/// (exact or equivalent) and the other at least closely, the levels across replace them. Only
/// when both disagree as written, so that a child named like another's surname (Богдан /
/// Богданов) is not helped otherwise.
pub(crate) fn swap_names(
    specs: &[FieldSpec],
    lp: &Prepared,
    i: usize,
    rp: &Prepared,
    j: usize,
    out: &mut [u8],
) {
    let find = |k: FieldKind| specs.iter().position(|s| s.kind == k);
    let (Some(g), Some(f)) = (find(FieldKind::GivenName), find(FieldKind::FamilyName)) else {
        return;
    };
    // jw_0.70 or worse, as written.
    if out[g] < 6 || out[f] < 6 {
        return;
    }
    let (Some((_, gl)), Some((_, fr))) = (
        name_of(lp, i, specs[g].left),
        name_of(rp, j, specs[f].right),
    ) else {
        return;
    };
    let (Some((_, fl)), Some((_, gr))) = (
        name_of(lp, i, specs[f].left),
        name_of(rp, j, specs[g].right),
    ) else {
        return;
    };
    let cheap =
        |x: &NameFeat, y: &NameFeat| x.folded_hash == y.folded_hash || x.phon_hash == y.phon_hash;
    if !(cheap(gl, fr) || cheap(fl, gr)) {
        return;
    }
    let (a, b) = (name_level(gl, fr), name_level(fl, gr));
    if a.min(b) <= 2 && a.max(b) <= 5 {
        out[g] = a;
        out[f] = b;
    }
}

/// Shortest identifier that can be `one_typo` from another: in a short code one character decides
/// little, and two different short codes are often one character apart by chance.
pub(crate) const MIN_TYPO_LEN: usize = 5;

/// Whether two different identifiers (folded, spaces removed) are one typo apart: the same length,
/// and either one character differs or two neighbouring characters are swapped.
///
/// A difference in the last character alone does not count: documents issued together (twins'
/// birth certificates registered the same day) carry consecutive numbers, which differ exactly
/// there, so such a pair is no evidence of a typo and stays `different`.
pub(crate) fn identifier_one_typo(a: &str, b: &str) -> bool {
    let n = a.chars().count();
    if n != b.chars().count() || n < MIN_TYPO_LEN {
        return false;
    }
    let mut diffs = a
        .chars()
        .zip(b.chars())
        .enumerate()
        .filter(|(_, (x, y))| x != y);
    let Some((i, (x1, y1))) = diffs.next() else {
        return false;
    };
    match diffs.next() {
        None => i + 1 < n,
        Some((j, (x2, y2))) => j == i + 1 && x1 == y2 && x2 == y1 && diffs.next().is_none(),
    }
}

fn extra_value(p: &Prepared, column: usize, row: usize) -> Option<&ExtraValue> {
    p.extra
        .get(column)
        .and_then(|c| c.get(row))
        .and_then(Option::as_ref)
}

/// The level of one field for left record `i` and right record `j`, uncached.
pub(crate) fn field_level(
    spec: &FieldSpec,
    lp: &Prepared,
    i: usize,
    rp: &Prepared,
    j: usize,
) -> u8 {
    let (a, b) = (&lp.records[i], &rp.records[j]);
    match spec.kind {
        FieldKind::GivenName | FieldKind::Patronymic | FieldKind::FamilyName => {
            match (name_of(lp, i, spec.left), name_of(rp, j, spec.right)) {
                (Some((_, x)), Some((_, y))) => name_level(x, y),
                _ => NULL,
            }
        }
        FieldKind::Sex => {
            if spec.left == Source::Missing
                || spec.right == Source::Missing
                || a.sex == SEX_UNKNOWN
                || b.sex == SEX_UNKNOWN
            {
                NULL
            } else if a.sex == b.sex {
                1
            } else {
                2
            }
        }
        FieldKind::BirthDate => match (a.date.as_ref(), b.date.as_ref()) {
            (Some(x), Some(y)) if spec.left != Source::Missing && spec.right != Source::Missing => {
                date_level_code(x.level(y))
            }
            _ => NULL,
        },
        FieldKind::BirthPlace => match (lp.place(i), rp.place(j)) {
            (Some(x), Some(y)) if spec.left != Source::Missing && spec.right != Source::Missing => {
                place_level(x, y)
            }
            _ => NULL,
        },
        FieldKind::Identifier | FieldKind::Exact | FieldKind::Text => {
            let (Source::Extra(ci), Source::Extra(cj)) = (spec.left, spec.right) else {
                return NULL;
            };
            match (extra_value(lp, ci, i), extra_value(rp, cj, j)) {
                (Some(x), Some(y)) => {
                    if x.0 == y.0 {
                        1
                    } else if spec.kind == FieldKind::Identifier {
                        if identifier_one_typo(&x.1, &y.1) {
                            2
                        } else {
                            3
                        }
                    } else if spec.kind != FieldKind::Text {
                        2
                    } else {
                        let jw = jaro_winkler(x.1.as_bytes(), y.1.as_bytes());
                        if jw >= 0.88 {
                            2
                        } else if jw >= 0.70 {
                            3
                        } else {
                            4
                        }
                    }
                }
                _ => NULL,
            }
        }
        _ => NULL,
    }
}

/// The level number (1-based, as in [`DATE_LEVELS`]) of a date comparison.
pub(crate) fn date_level_code(l: DateLevel) -> u8 {
    match l {
        DateLevel::Exact => 1,
        DateLevel::Swapped => 2,
        DateLevel::FewDays => 3,
        DateLevel::YearOffByOne => 4,
        DateLevel::OneDigit => 5,
        DateLevel::SameYearMonth => 6,
        DateLevel::SameMonthCoarser => 7,
        DateLevel::WithinMonth => 8,
        DateLevel::WithinYear => 9,
        DateLevel::SameYearCoarser => 10,
        DateLevel::SamePartial => 11,
        DateLevel::Different => 12,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::fixtures;

    #[test]
    fn identifier_one_typo_is_one_digit_or_a_swap_but_not_a_consecutive_number() {
        for (a, b) in [
            ("5304218", "5304298"),   // one digit
            ("5304218", "5302418"),   // neighbours swapped
            ("5998949", "5998994"),   // the last two swapped
            ("ав123456", "аб123456"), // one Cyrillic letter of a series
        ] {
            assert!(identifier_one_typo(a, b), "{a} ~ {b}");
            assert!(identifier_one_typo(b, a), "{b} ~ {a}");
        }
        for (a, b) in [
            ("5304218", "5304218"), // the same: exact, not a typo
            ("5304218", "5304219"), // consecutive numbers (twins' certificates)
            ("5304218", "5904298"), // two digits
            ("5304218", "3504281"), // two swaps
            ("5304218", "530421"),  // another length
            ("1234", "1244"),       // too short to tell
            ("5304218", "5403218"), // a swap of digits that are not neighbours
        ] {
            assert!(!identifier_one_typo(a, b), "{a} !~ {b}");
            assert!(!identifier_one_typo(b, a), "{b} !~ {a}");
        }
    }

    #[test]
    fn identifier_levels_in_a_comparison() {
        let table = |ids: &[&str]| {
            let cols = vec![
                ("id".to_string(), FieldKind::Id),
                ("doc".to_string(), FieldKind::Identifier),
            ];
            let mut t = Table::new(cols).unwrap();
            for (n, v) in ids.iter().enumerate() {
                let id = format!("r{n}");
                t.push(id.clone(), [Some(id.as_str()), Some(*v)]).unwrap();
            }
            t
        };
        let (lt, rt) = (
            table(&["AB 1234567"]),
            table(&["ab1234567", "AB 1243567", "AB 1234568", "CD 7654321", ""]),
        );
        let (lp, rp) = (Prepared::build(&lt), Prepared::build(&rt));
        let specs = field_specs(&lt, &lp, &rt, &rp);
        assert_eq!(specs.len(), 1);
        let levels: Vec<&str> = (0..rt.len())
            .map(|j| match field_level(&specs[0], &lp, 0, &rp, j) {
                NULL => "null",
                l => IDENTIFIER_LEVELS[usize::from(l) - 1],
            })
            .collect();
        assert_eq!(
            levels,
            ["exact", "one_typo", "different", "different", "null"]
        );
    }

    /// Cached levels (by pair of distinct values) must be the levels computed afresh, whatever
    /// order pairs come in.
    #[test]
    fn cached_levels_equal_fresh_levels() {
        let (lt, rt) = (fixtures::left(), fixtures::right());
        let (lp, rp) = (
            Arc::new(Prepared::build(&lt)),
            Arc::new(Prepared::build(&rt)),
        );
        let specs = field_specs(&lt, &lp, &rt, &rp);
        assert!(specs.len() >= 7, "{specs:?}");
        let comparer = Comparer::new(specs.clone(), lp.clone(), rp.clone());
        assert!(comparer.caches.iter().filter(|c| c.is_some()).count() >= 4);
        let mut out = vec![0u8; specs.len()];
        for round in 0..2 {
            for i in 0..lt.len() {
                for j in (0..rt.len()).rev() {
                    comparer.compare_into(i, j, &mut out);
                    for (f, spec) in specs.iter().enumerate() {
                        assert_eq!(
                            out[f],
                            field_level(spec, &lp, i, &rp, j),
                            "round {round} pair ({i}, {j}) field {}",
                            spec.name
                        );
                    }
                }
            }
        }
        comparer.compare_into(0, 0, &mut out);
        // Олійник / Олейник: Russian ей for Ukrainian ій is one surname's two spellings.
        assert_eq!(
            &out[..3],
            &[2, 2, 2],
            "Дмитро Андрійович Олійник ~ Дмитрий Андреевич Олейник"
        );
    }

    #[test]
    fn caches_dense_when_small_and_lossy_when_large() {
        assert!(LevelCache::new(0, 10).is_none());
        let c = LevelCache::new(3, 4).unwrap();
        assert!(matches!(c, LevelCache::Dense { .. }));
        assert_eq!(c.get_or(2, 3, || 5), 5);
        assert_eq!(c.get_or(2, 3, || 6), 5, "computed once");
        assert_eq!(
            c.get_or(9, 9, || 4),
            4,
            "out of range: computed, not stored"
        );
        for (l, r) in [(1 << 13, 1 << 12), (usize::MAX, 2)] {
            let c = LevelCache::new(l, r).unwrap();
            assert!(matches!(c, LevelCache::Lossy { .. }));
            assert_eq!(c.get_or(7, 9, || 3), 3);
            assert_eq!(c.get_or(7, 9, || 6), 3, "cached");
            assert_eq!(c.get_or(9, 7, || 2), 2, "another pair, another level");
            assert_eq!(c.get_or(LOSSY_ID_LIMIT, 1, || 4), 4);
            assert_eq!(
                c.get_or(LOSSY_ID_LIMIT, 1, || 5),
                5,
                "too large an id: not stored"
            );
        }
        // A lossy cache never answers for the wrong pair, however many pairs collide.
        let c = LevelCache::new(usize::MAX, 2).unwrap();
        let level = |a: u32, b: u32| (1 + (a * 7 + b) % 7) as u8;
        for a in 0..3000u32 {
            for b in 0..700u32 {
                c.get_or(a, b, || level(a, b));
            }
        }
        for a in 0..3000u32 {
            for b in 0..700u32 {
                assert_eq!(c.get_or(a, b, || level(a, b)), level(a, b));
            }
        }
    }
}
