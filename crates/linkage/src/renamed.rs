//! Children who were renamed: an adopted or placed child is often given the new family's surname
//! and patronymic while the given name, birth date, sex and birthplace stay as they were. Scored
//! field by field such a pair looks like two different children (the surname alone weighs
//! strongly against), so it is recognised by its pattern instead, sent to review (never matched:
//! two unrelated children can share the rest by chance, and only a person can tell), and ranked by
//! how rare what agrees is: the prior plus the weights of the fields a renaming leaves alone.

use crate::compare::FieldSpec;
use crate::model::Scorer;
use crate::table::FieldKind;

/// The fields the pattern reads, by index among the compared fields.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RenamedPattern {
    given: usize,
    date: usize,
    place: usize,
    family: usize,
    sex: Option<usize>,
    patronymic: Option<usize>,
}

impl RenamedPattern {
    /// The pattern over these fields, when the lists compare given name, birth date, birthplace
    /// and family name (without any of them the pattern cannot be told).
    pub fn new(specs: &[FieldSpec]) -> Option<RenamedPattern> {
        let find = |k: FieldKind| specs.iter().position(|s| s.kind == k);
        Some(RenamedPattern {
            given: find(FieldKind::GivenName)?,
            date: find(FieldKind::BirthDate)?,
            place: find(FieldKind::BirthPlace)?,
            family: find(FieldKind::FamilyName)?,
            sex: find(FieldKind::Sex),
            patronymic: find(FieldKind::Patronymic),
        })
    }

    /// Whether a pair with these levels (1 = the best level, the last = different, 0 = null) is
    /// the pattern: given name exact or equivalent, the same full birth date, the same
    /// birthplace, sex not disagreeing, a different family name, and a patronymic that does not
    /// agree (different, or missing on a side).
    pub fn matches(&self, levels: &[u8], level_counts: &[usize]) -> bool {
        let at = |f: usize| usize::from(levels.get(f).copied().unwrap_or(0));
        let different = |f: usize| at(f) != 0 && Some(&at(f)) == level_counts.get(f);
        matches!(at(self.given), 1 | 2)
            && at(self.date) == 1
            && at(self.place) == 1
            && self.sex.is_none_or(|s| at(s) != 2)
            && different(self.family)
            && self.patronymic.is_none_or(|p| at(p) == 0 || different(p))
    }

    /// The pair's rank as a renamed child: the prior plus the weights of given name (with its
    /// term-frequency adjustment: a rare name says more), birth date, sex and birthplace.
    pub fn weight(&self, scorer: &Scorer, levels: &[u8], tf_given: f64) -> f64 {
        let mut w = scorer.prior;
        for f in [
            Some(self.given),
            Some(self.date),
            Some(self.place),
            self.sex,
        ]
        .into_iter()
        .flatten()
        {
            let tf = if f == self.given { tf_given } else { 0.0 };
            w += scorer
                .field_weight(f, levels.get(f).copied().unwrap_or(0), tf)
                .0;
        }
        w
    }
}
