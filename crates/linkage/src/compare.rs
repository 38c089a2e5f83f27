//! Comparison levels: how two records agree on one field, from exact to different.
//!
//! Level 0 is always "null" (a value missing on either side; weight 0). The other levels are
//! ordered best first. Every comparison is symmetric.

use crate::dates::{DateLevel, compare_dates};
use crate::features::{NameFeat, Prepared, RecordFeat};
use crate::jw::jaro_winkler;
use crate::table::{FieldKind, SEX_UNKNOWN, Table};

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
pub const DATE_LEVELS: [&str; 7] = [
    "exact",
    "day_month_swapped",
    "one_digit",
    "same_year_month",
    "within_month",
    "within_year",
    "different",
];
pub const SEX_LEVELS: [&str; 2] = ["agree", "disagree"];
pub const PLACE_LEVELS: [&str; 3] = ["same", "similar", "different"];
pub const EXACT_LEVELS: [&str; 2] = ["exact", "different"];
pub const TEXT_LEVELS: [&str; 4] = ["exact", "jw_0.88", "jw_0.70", "different"];

/// Level names of a field kind, best first, without the null level.
pub fn level_names(kind: FieldKind) -> &'static [&'static str] {
    match kind {
        FieldKind::GivenName | FieldKind::Patronymic | FieldKind::FamilyName => &NAME_LEVELS,
        FieldKind::BirthDate => &DATE_LEVELS,
        FieldKind::Sex => &SEX_LEVELS,
        FieldKind::BirthPlace => &PLACE_LEVELS,
        FieldKind::Text => &TEXT_LEVELS,
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
        FieldKind::BirthDate => &[0.80, 0.03, 0.05, 0.03, 0.02, 0.03, 0.04],
        FieldKind::Sex => &[0.97, 0.03],
        FieldKind::BirthPlace => &[0.80, 0.08, 0.12],
        FieldKind::Text => &[0.70, 0.10, 0.10, 0.10],
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
        FieldKind::BirthDate => &[0.0003, 0.0001, 0.002, 0.005, 0.005, 0.06, 0.9276],
        FieldKind::Sex => &[0.5, 0.5],
        FieldKind::BirthPlace => &[0.05, 0.01, 0.94],
        FieldKind::Text => &[0.01, 0.02, 0.1, 0.87],
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
    /// Index into `RecordFeat::extra`.
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

fn name_of(r: &RecordFeat, s: Source) -> Option<&NameFeat> {
    match s {
        Source::Given => r.given.as_ref(),
        Source::Patronymic => r.patronymic.as_ref(),
        Source::Family => r.family.as_ref(),
        _ => None,
    }
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
    if a.is_known() && b.is_known() {
        return 7;
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

/// The level of one field for a pair.
pub(crate) fn field_level(spec: &FieldSpec, a: &RecordFeat, b: &RecordFeat) -> u8 {
    match spec.kind {
        FieldKind::GivenName | FieldKind::Patronymic | FieldKind::FamilyName => {
            match (name_of(a, spec.left), name_of(b, spec.right)) {
                (Some(x), Some(y)) => name_level(x, y),
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
                match compare_dates(x, y) {
                    DateLevel::Exact => 1,
                    DateLevel::Swapped => 2,
                    DateLevel::OneDigit => 3,
                    DateLevel::SameYearMonth => 4,
                    DateLevel::WithinMonth => 5,
                    DateLevel::WithinYear => 6,
                    DateLevel::Different => 7,
                }
            }
            _ => NULL,
        },
        FieldKind::BirthPlace => match (a.place.as_ref(), b.place.as_ref()) {
            (Some(x), Some(y)) if spec.left != Source::Missing && spec.right != Source::Missing => {
                if x.key == y.key || x.phon == y.phon {
                    1
                } else if jaro_winkler(x.phon.as_bytes(), y.phon.as_bytes()) >= 0.88 {
                    2
                } else {
                    3
                }
            }
            _ => NULL,
        },
        FieldKind::Identifier | FieldKind::Exact | FieldKind::Text => {
            let (Source::Extra(i), Source::Extra(j)) = (spec.left, spec.right) else {
                return NULL;
            };
            match (
                a.extra.get(i).and_then(Option::as_ref),
                b.extra.get(j).and_then(Option::as_ref),
            ) {
                (Some(x), Some(y)) => {
                    if x.0 == y.0 {
                        1
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

/// Levels of every field for one pair, into `out` (one byte per field).
pub(crate) fn compare_into(specs: &[FieldSpec], a: &RecordFeat, b: &RecordFeat, out: &mut [u8]) {
    for (slot, spec) in out.iter_mut().zip(specs) {
        *slot = field_level(spec, a, b);
    }
}
