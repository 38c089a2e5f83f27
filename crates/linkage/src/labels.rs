//! Learning from reviewers: every pair a person confirmed or rejected is a label. Confirmed
//! pairs show which comparison levels the same child really produces in these lists, so they
//! refine m, most of all where EM is blind (a field in every blocking rule never disagrees
//! among the candidates EM sees). u stays with the random pairs: the pairs reviewers reject
//! were chosen because they looked alike, so they say nothing of how unrelated children differ.
//!
//! The estimate EM made counts as [`LABEL_PRIOR_PAIRS`] confirmed pairs, so that a handful of
//! labels moves m a little and hundreds move it a lot; a level no confirmed pair shows keeps part
//! of its m (it is rarer than EM thought, not impossible).

use crate::compare::{field_level, specs_for_model, swap_names};
use crate::model::Model;
use crate::table::{FieldKind, LinkError, Table};
use serde::{Deserialize, Serialize};

/// How many confirmed pairs the unsupervised estimate is worth: below this many labels the
/// reviewers' view is the smaller part of the new m.
pub const LABEL_PRIOR_PAIRS: f64 = 200.0;

/// A person's decision on a pair: rows of the left and right tables, and whether they are the
/// same child.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub left: usize,
    pub right: usize,
    pub same: bool,
}

/// Fewer decisions than this leave the match threshold where it is: a threshold read off a few
/// dozen pairs would follow their accidents.
pub const MIN_LABELS_FOR_THRESHOLD: usize = 100;

/// How many decisions must lie between the current threshold and a lower one before it moves.
pub const MIN_LABELS_IN_BAND: usize = 10;

/// The share of those decisions that must have found the same child: a lower threshold turns the
/// band into matches, so it must be nearly all matches by the reviewers' own account.
pub const BAND_PRECISION: f64 = 0.95;

/// The match threshold reviewers' decisions support. `scored` holds each labelled pair's
/// probability under the model that will score (0 for a pair it no longer proposes) and whether
/// it is the same child. The threshold only ever moves down, to the lowest labelled probability
/// such that at least [`MIN_LABELS_IN_BAND`] decisions lie between it and `current` and at least
/// [`BAND_PRECISION`] of them found the same child; with fewer than [`MIN_LABELS_FOR_THRESHOLD`]
/// decisions it stays. It never rises: raising it on a sample of a hundred pairs traded away
/// more true matches than false ones it removed (docs/benchmarks.md).
pub fn threshold_from_labels(scored: &[(f64, bool)], current: f64) -> f64 {
    if scored.len() < MIN_LABELS_FOR_THRESHOLD {
        return current;
    }
    let mut below: Vec<(f64, bool)> = scored
        .iter()
        .copied()
        .filter(|&(p, _)| p > 0.0 && p < current)
        .collect();
    below.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut same, mut chosen) = (0usize, current);
    for (k, &(p, is_same)) in below.iter().enumerate() {
        same += usize::from(is_same);
        let n = k + 1;
        // A threshold takes every pair at its value: judge it once all of them are in.
        let tie_follows = below.get(n).is_some_and(|next| next.0 == p);
        if !tie_follows && n >= MIN_LABELS_IN_BAND && same as f64 >= BAND_PRECISION * n as f64 {
            chosen = p;
        }
    }
    chosen
}

/// What folding the labels in did, for the record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LabelReport {
    pub confirmed: usize,
    pub rejected: usize,
    /// Labels naming a row beyond the tables, left out.
    pub out_of_range: usize,
}

impl Model {
    /// This model with m refined by the confirmed pairs among `labels` (see the module's notes);
    /// rejected pairs are counted in the report and the training notes only. Rows are those of
    /// `left` and `right`, which must hold the fields the model was trained on.
    pub fn with_labels(
        &self,
        left: &Table,
        right: &Table,
        labels: &[Label],
    ) -> Result<(Model, LabelReport), LinkError> {
        let (lp, rp) = (left.prepared(), right.prepared());
        let fields: Vec<(String, FieldKind)> = self
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.kind))
            .collect();
        let specs = specs_for_model(&fields, left, &lp, right, &rp);
        let mut report = LabelReport::default();
        // counts[f][k]: confirmed pairs at the field's level k + 1 (the model lists no null level).
        let mut counts: Vec<Vec<f64>> = self
            .fields
            .iter()
            .map(|f| vec![0.0; f.levels.len()])
            .collect();
        for l in labels {
            if l.left >= left.len() || l.right >= right.len() {
                report.out_of_range += 1;
                continue;
            }
            if !l.same {
                report.rejected += 1;
                continue;
            }
            report.confirmed += 1;
            let mut lv: Vec<u8> = specs
                .iter()
                .map(|s| field_level(s, &lp, l.left, &rp, l.right))
                .collect();
            swap_names(&specs, &lp, l.left, &rp, l.right, &mut lv);
            // Level 0 is null (a value missing): it says nothing of m.
            for (f, &level) in lv.iter().enumerate() {
                if let Some(c) = usize::from(level)
                    .checked_sub(1)
                    .and_then(|l| counts.get_mut(f)?.get_mut(l))
                {
                    *c += 1.0;
                }
            }
        }
        let mut model = self.clone();
        for (field, seen) in model.fields.iter_mut().zip(&counts) {
            let n: f64 = seen.iter().sum();
            if n == 0.0 {
                continue;
            }
            for (level, &k) in field.levels.iter_mut().zip(seen) {
                level.m = (LABEL_PRIOR_PAIRS * level.m + k) / (LABEL_PRIOR_PAIRS + n);
            }
            field.m_source = format!("{}+labels", field.m_source);
        }
        model.training.notes.push(format!(
            "m refined by {} confirmed pairs ({} rejected not used for u), prior worth {} pairs",
            report.confirmed, report.rejected, LABEL_PRIOR_PAIRS
        ));
        Ok((model, report))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::fixtures;
    use crate::link::{LinkConfig, link};
    use proptest::prelude::*;

    fn trained() -> (Table, Table, Model) {
        let (left, right) = (fixtures::left(), fixtures::right());
        let model = Model::train(&left, &right, &LinkConfig::default()).unwrap();
        (left, right, model)
    }

    #[test]
    fn no_labels_change_nothing_but_the_notes() {
        let (left, right, model) = trained();
        let (with, report) = model.with_labels(&left, &right, &[]).unwrap();
        assert_eq!(report, LabelReport::default());
        assert_eq!(with.fields, model.fields);
    }

    /// A confirmed pair raises m of the levels it shows; rejected pairs and rows out of range
    /// change no probability.
    #[test]
    fn confirmed_pairs_pull_m_towards_their_levels() {
        let (left, right, model) = trained();
        let out = link(&left, &right, &LinkConfig::default(), Some(&model), &|_| {}).unwrap();
        let p = &out.pairs[0];
        let confirmed = vec![
            Label {
                left: p.left,
                right: p.right,
                same: true,
            };
            400
        ];
        let (with, report) = model.with_labels(&left, &right, &confirmed).unwrap();
        assert_eq!(report.confirmed, 400);
        let mut moved = 0;
        for (c, (a, b)) in p
            .explanation
            .fields
            .iter()
            .zip(model.fields.iter().zip(&with.fields))
        {
            for (x, y) in a.levels.iter().zip(&b.levels) {
                if c.level == "null" {
                    assert_eq!(x.m, y.m, "{} {}", c.field, x.name);
                } else if x.name == c.level {
                    assert!(y.m > x.m, "{} {}: {} → {}", c.field, x.name, x.m, y.m);
                    moved += 1;
                } else {
                    assert!(y.m < x.m, "{} {}: {} → {}", c.field, x.name, x.m, y.m);
                }
            }
        }
        assert!(moved >= 3, "{moved}");
        let rejected = [
            Label {
                left: p.left,
                right: p.right,
                same: false,
            },
            Label {
                left: 10_000,
                right: 0,
                same: true,
            },
        ];
        let (same, report) = model.with_labels(&left, &right, &rejected).unwrap();
        assert_eq!((report.rejected, report.out_of_range), (1, 1));
        assert_eq!(same.fields, model.fields);
    }

    fn labelled(pairs: &[(f64, bool)], times: usize) -> Vec<(f64, bool)> {
        pairs
            .iter()
            .copied()
            .cycle()
            .take(pairs.len() * times)
            .collect()
    }

    #[test]
    fn threshold_moves_only_down_and_only_on_enough_clear_evidence() {
        // True pairs at 0.8 and 0.7 that the default 0.9 leaves to review; false ones at 0.6.
        let pairs = [(0.95, true), (0.8, true), (0.7, true), (0.6, false)];
        assert_eq!(threshold_from_labels(&labelled(&pairs, 30), 0.9), 0.7);
        // A handful says nothing.
        assert_eq!(threshold_from_labels(&labelled(&pairs, 5), 0.9), 0.9);
        // A band with one false pair in ten is not clear enough.
        let mixed = [
            (0.95, true),
            (0.8, true),
            (0.8, true),
            (0.8, true),
            (0.8, true),
            (0.8, true),
            (0.8, true),
            (0.8, true),
            (0.8, true),
            (0.8, false),
        ];
        assert_eq!(threshold_from_labels(&labelled(&mixed, 12), 0.9), 0.9);
        // False pairs above the threshold never raise it.
        let noisy = [(0.95, true), (0.92, false), (0.91, false), (0.6, false)];
        assert_eq!(threshold_from_labels(&labelled(&noisy, 40), 0.9), 0.9);
    }

    proptest! {
        /// The threshold never rises, and when it falls the decisions between the two found
        /// the same child at least [`BAND_PRECISION`] of the time.
        #[test]
        fn a_lower_threshold_is_backed_by_its_band(
            raw in prop::collection::vec((0.0f64..1.0, any::<bool>()), 0..300),
            current in 0.5f64..0.99,
        ) {
            let t = threshold_from_labels(&raw, current);
            prop_assert!(t <= current);
            if t < current {
                let band: Vec<bool> = raw.iter().filter(|(p, _)| *p >= t && *p < current).map(|x| x.1).collect();
                prop_assert!(band.len() >= MIN_LABELS_IN_BAND);
                let same = band.iter().filter(|s| **s).count() as f64;
                prop_assert!(same >= BAND_PRECISION * band.len() as f64);
            }
        }

        /// Whatever the labels, every field's m stays a probability distribution over its levels
        /// (its sum moves only towards 1), and u is never touched.
        #[test]
        fn m_stays_a_distribution(raw in prop::collection::vec((0usize..12, 0usize..12, any::<bool>()), 0..60)) {
            let (left, right, model) = trained();
            let labels: Vec<Label> = raw.iter().map(|&(l, r, same)| Label { left: l, right: r, same }).collect();
            let (with, _) = model.with_labels(&left, &right, &labels).unwrap();
            for (a, b) in model.fields.iter().zip(&with.fields) {
                let (sa, sb): (f64, f64) = (a.levels.iter().map(|l| l.m).sum(), b.levels.iter().map(|l| l.m).sum());
                prop_assert!(b.levels.iter().all(|l| l.m > 0.0 && l.m <= 1.0));
                prop_assert!((sb - 1.0).abs() <= (sa - 1.0).abs() + 1e-9, "{sa} → {sb}");
                prop_assert!(a.levels.iter().zip(&b.levels).all(|(x, y)| x.u == y.u));
            }
        }
    }
}
