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

/// The match threshold reviewers' decisions support. `scored` holds each labelled pair's
/// probability under the model that will score (0 for a pair it no longer proposes) and whether
/// it is the same child. The labelled pairs are a sample of what people were shown, so the F1 of
/// a threshold on them estimates its F1 on the queue; the best threshold is taken only when it
/// beats `current` on the labels by more than one pair's worth, and with at least
/// [`MIN_LABELS_FOR_THRESHOLD`] labels of which some are true and some false; otherwise `current`
/// stays.
pub fn threshold_from_labels(scored: &[(f64, bool)], current: f64) -> f64 {
    let positives = scored.iter().filter(|(_, same)| *same).count();
    if scored.len() < MIN_LABELS_FOR_THRESHOLD || positives == 0 || positives == scored.len() {
        return current;
    }
    let f1_at = |t: f64| {
        let tp = scored.iter().filter(|(p, same)| *same && *p >= t).count() as f64;
        let called = scored.iter().filter(|(p, _)| *p >= t).count() as f64;
        if tp == 0.0 {
            0.0
        } else {
            2.0 * tp / (called + positives as f64)
        }
    };
    let base = f1_at(current);
    let best = scored
        .iter()
        .map(|&(p, _)| p)
        .filter(|p| *p > 0.0)
        .map(|t| (f1_at(t), t))
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
    match best {
        Some((f1, t)) if f1 > base + 1.0 / scored.len() as f64 => t,
        _ => current,
    }
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
    fn threshold_moves_only_on_enough_clear_evidence() {
        // True pairs at 0.7 and 0.8 that the default 0.9 leaves to review; false ones at 0.6.
        let pairs = [(0.95, true), (0.8, true), (0.7, true), (0.6, false)];
        assert_eq!(threshold_from_labels(&labelled(&pairs, 30), 0.9), 0.7);
        // A handful says nothing.
        assert_eq!(threshold_from_labels(&labelled(&pairs, 5), 0.9), 0.9);
        // All true, all false: nothing to separate.
        assert_eq!(
            threshold_from_labels(&labelled(&[(0.7, true)], 200), 0.9),
            0.9
        );
        assert_eq!(
            threshold_from_labels(&labelled(&[(0.7, false)], 200), 0.9),
            0.9
        );
        // Only false pairs below it: the current threshold already does best.
        let noisy = [(0.95, true), (0.8, false), (0.7, false), (0.6, false)];
        assert_eq!(threshold_from_labels(&labelled(&noisy, 40), 0.9), 0.9);
    }

    proptest! {
        /// The threshold chosen never does worse on the labels than the one it replaces.
        #[test]
        fn chosen_threshold_is_never_worse_on_the_labels(
            raw in prop::collection::vec((0.0f64..1.0, any::<bool>()), 0..300),
            current in 0.5f64..0.99,
        ) {
            let t = threshold_from_labels(&raw, current);
            let positives = raw.iter().filter(|x| x.1).count() as f64;
            let f1 = |t: f64| {
                let tp = raw.iter().filter(|(p, s)| *s && *p >= t).count() as f64;
                let called = raw.iter().filter(|(p, _)| *p >= t).count() as f64;
                if tp == 0.0 { 0.0 } else { 2.0 * tp / (called + positives) }
            };
            prop_assert!(f1(t) >= f1(current));
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
