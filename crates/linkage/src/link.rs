//! Linking two tables end to end: prepare, block, compare, train, score, assign, explain.

use crate::blocking::{BlockingRule, MAX_RULES, candidates, default_rules};
use crate::compare::{
    Comparer, FieldSpec, MAX_LEVELS, field_level, field_specs, level_names, specs_for_model,
    swap_names,
};
use crate::features::{FAMILY, FxHashMap, GIVEN, NameFeat, Prepared, row_names};
use crate::model::{Model, Pattern, Scorer, estimate_u, match_mass, pack, train_em};
use crate::renamed::RenamedPattern;
use crate::table::{FieldKind, LinkError, Table};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Settings of a linkage run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LinkConfig {
    /// A pair at or above this match probability is a `match`.
    pub threshold: f64,
    /// A pair at or above this (and below `threshold`) is output for `review`; lower pairs are not
    /// output. Set equal to `threshold` to output matches only.
    pub review_threshold: f64,
    /// EM iterations per blocking rule.
    pub em_iterations: u32,
    /// Random pairs sampled to estimate u.
    pub u_sample_pairs: usize,
    /// Seed of that sampling: the same inputs and seed give the same model.
    pub seed: u64,
    /// Blocking rules; `None` uses [`default_rules`].
    pub blocking: Option<Vec<BlockingRule>>,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            threshold: 0.9,
            review_threshold: 0.5,
            em_iterations: 20,
            u_sample_pairs: 300_000,
            seed: 42,
            blocking: None,
        }
    }
}

impl LinkConfig {
    fn check(&self) -> Result<(), LinkError> {
        let p = |x: f64| x > 0.0 && x < 1.0;
        if !p(self.threshold) || !p(self.review_threshold) || self.review_threshold > self.threshold
        {
            return Err(LinkError::Config(format!(
                "thresholds must satisfy 0 < review ({}) <= match ({}) < 1",
                self.review_threshold, self.threshold
            )));
        }
        if self
            .blocking
            .as_ref()
            .is_some_and(|b| b.is_empty() || b.len() > MAX_RULES)
        {
            return Err(LinkError::Config(format!(
                "between 1 and {MAX_RULES} blocking rules"
            )));
        }
        Ok(())
    }

    fn rules(&self) -> Vec<BlockingRule> {
        self.blocking.clone().unwrap_or_else(default_rules)
    }
}

/// A phase of a run, for progress reports and timings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Prepare,
    Block,
    Compare,
    Train,
    Score,
    Assign,
}

/// A progress report: `done` of `total` units of `phase` (units differ per phase; a report with
/// `done == total` ends the phase).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub phase: Phase,
    pub done: u64,
    pub total: u64,
}

/// Whether an output pair is a match or needs a person to look.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Match,
    Review,
}

/// One field's part in a pair's score: a bar of the waterfall.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldContribution {
    /// `given_name`, ... or a column header.
    pub field: String,
    pub kind: FieldKind,
    /// The comparison level (`exact`, `equivalent`, `day_month_swapped`, `null`...).
    pub level: String,
    /// The values compared, as written (names split from a full name where that is the source).
    pub left: Option<String>,
    pub right: Option<String>,
    /// log2 Bayes factor of this field, term-frequency adjustment included.
    pub weight: f64,
    /// The term-frequency part of `weight` (negative for a common name).
    pub tf_adjustment: f64,
}

/// Why a pair scored what it did: prior + Σ field weights = match weight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// Prior log2-odds of a match among candidate pairs.
    pub prior: f64,
    pub fields: Vec<FieldContribution>,
    pub match_weight: f64,
    pub probability: f64,
}

/// A linked pair.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkedPair {
    /// Row in the left table.
    pub left: usize,
    pub left_id: String,
    pub right: usize,
    pub right_id: String,
    pub probability: f64,
    /// log2-odds: the prior plus every field's weight.
    pub match_weight: f64,
    pub decision: Decision,
    pub explanation: Explanation,
    /// Given name, birth date, sex and birthplace agree while surname and patronymic do not: the
    /// pattern of an adopted or renamed child. Always `Review`; `probability` and `match_weight`
    /// then rank the pair by the fields a renaming leaves alone (the explanation still gives
    /// every field's weight). See [`crate::renamed`].
    #[serde(default)]
    pub possibly_renamed: bool,
}

/// Candidate pairs a blocking rule produced (before removing pairs other rules also produced).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleCount {
    pub rule: String,
    pub pairs: u64,
}

/// Wall time per phase, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    pub prepare_ms: f64,
    pub block_ms: f64,
    pub compare_ms: f64,
    pub train_ms: f64,
    pub score_ms: f64,
    pub assign_ms: f64,
    pub total_ms: f64,
}

/// Counts and timings of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LinkStats {
    pub left_records: usize,
    pub right_records: usize,
    /// Distinct pairs compared after blocking.
    pub candidate_pairs: u64,
    pub pairs_per_rule: Vec<RuleCount>,
    /// Random pairs compared to estimate u (0 when a model was given).
    pub u_sample_pairs: u64,
    /// Candidate pairs at or above the review threshold, before one-to-one assignment.
    pub pairs_above_review: u64,
    pub matches: u64,
    pub reviews: u64,
    pub timings: Timings,
}

/// The result of [`link`].
#[derive(Clone, Debug)]
pub struct LinkOutput {
    /// The model used (trained here, or the one given).
    pub model: Model,
    /// One-to-one pairs, highest probability first.
    pub pairs: Vec<LinkedPair>,
    pub stats: LinkStats,
}

/// Everything computed up to the comparison vectors.
struct Compared {
    specs: Vec<FieldSpec>,
    /// Kept for training, whose random pairs reuse the levels cached while comparing.
    comparer: Comparer,
    lp: std::sync::Arc<Prepared>,
    rp: std::sync::Arc<Prepared>,
    pairs: Vec<u64>,
    levels: Vec<u8>,
    masks: Vec<crate::blocking::RuleMask>,
    rules: Vec<BlockingRule>,
    per_rule: Vec<RuleCount>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn spec_fields(specs: &[FieldSpec]) -> Vec<(String, FieldKind)> {
    specs.iter().map(|s| (s.name.clone(), s.kind)).collect()
}

fn block_and_compare(
    left: &Table,
    right: &Table,
    config: &LinkConfig,
    model: Option<&Model>,
    progress: &dyn Fn(Progress),
    timings: &mut Timings,
) -> Result<Compared, LinkError> {
    config.check()?;
    let t0 = Instant::now();
    progress(Progress {
        phase: Phase::Prepare,
        done: 0,
        total: (left.len() + right.len()) as u64,
    });
    let (lp, rp) = rayon::join(|| left.prepared(), || right.prepared());
    let specs = match model {
        Some(m) => {
            let fields: Vec<(String, FieldKind)> =
                m.fields.iter().map(|f| (f.name.clone(), f.kind)).collect();
            specs_for_model(&fields, left, &lp, right, &rp)
        }
        None => field_specs(left, &lp, right, &rp),
    };
    if specs.is_empty() {
        return Err(LinkError::NoUsableColumn(
            "the two tables have no kind of field in common".into(),
        ));
    }
    if specs.len() > 32 {
        return Err(LinkError::Config("at most 32 compared fields".into()));
    }
    progress(Progress {
        phase: Phase::Prepare,
        done: (left.len() + right.len()) as u64,
        total: (left.len() + right.len()) as u64,
    });
    timings.prepare_ms = ms(t0.elapsed());

    let t1 = Instant::now();
    let rules = config.rules();
    progress(Progress {
        phase: Phase::Block,
        done: 0,
        total: rules.len() as u64,
    });
    let cand = candidates(&rules, &lp, &rp);
    let per_rule: Vec<RuleCount> = rules
        .iter()
        .zip(&cand.per_rule)
        .map(|(r, &pairs)| RuleCount {
            rule: r.to_string(),
            pairs,
        })
        .collect();
    let (pairs, masks) = (cand.pairs, cand.masks);
    progress(Progress {
        phase: Phase::Block,
        done: rules.len() as u64,
        total: rules.len() as u64,
    });
    timings.block_ms = ms(t1.elapsed());

    let t2 = Instant::now();
    let nf = specs.len();
    let total = pairs.len() as u64;
    progress(Progress {
        phase: Phase::Compare,
        done: 0,
        total,
    });
    let comparer = Comparer::new(specs.clone(), lp.clone(), rp.clone());
    let mut levels = vec![0u8; pairs.len() * nf];
    const CHUNK: usize = 1 << 20;
    for (c, lv) in levels.chunks_mut(CHUNK * nf).enumerate() {
        let base = c * CHUNK;
        // Pairs come grouped by the larger table's record (see `candidates`); tasks take runs of
        // them in that order so that the large table is read front to back.
        lv.par_chunks_mut(nf * 64).enumerate().for_each(|(k, out)| {
            for (n, o) in out.chunks_mut(nf).enumerate() {
                let p = pairs[base + k * 64 + n];
                let (i, j) = ((p >> 32) as usize, (p & 0xFFFF_FFFF) as usize);
                comparer.compare_into(i, j, o);
            }
        });
        progress(Progress {
            phase: Phase::Compare,
            done: (base + lv.len() / nf) as u64,
            total,
        });
    }
    timings.compare_ms = ms(t2.elapsed());
    Ok(Compared {
        specs,
        comparer,
        lp,
        rp,
        pairs,
        levels,
        masks,
        rules,
        per_rule,
    })
}

/// SplitMix64: a tiny seeded generator, enough to pick random pairs reproducibly.
pub(crate) struct SplitMix(pub(crate) u64);
impl SplitMix {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
}

fn train(c: &Compared, config: &LinkConfig, left_len: usize, right_len: usize) -> (Model, u64) {
    let fields = spec_fields(&c.specs);
    let mut model = Model::with_defaults(&fields);
    let nf = c.specs.len();
    // u: random pairs, or every pair when there are fewer than the sample.
    let all = left_len.saturating_mul(right_len);
    let n = config.u_sample_pairs.min(all);
    let pick: Vec<(usize, usize)> = if all <= config.u_sample_pairs {
        (0..left_len)
            .flat_map(|i| (0..right_len).map(move |j| (i, j)))
            .collect()
    } else {
        let mut rng = SplitMix(config.seed);
        let mut pick: Vec<(usize, usize)> = (0..n)
            .map(|_| (rng.below(left_len), rng.below(right_len)))
            .collect();
        // Only the counts matter, not the order: compared in the larger table's order, the
        // sample reads it front to back instead of at random.
        if left_len > right_len {
            pick.par_sort_unstable();
        } else {
            pick.par_sort_unstable_by_key(|&(i, j)| (j, i));
        }
        pick
    };
    let comparer = &c.comparer;
    let counts: Vec<Vec<u64>> = pick
        .par_iter()
        .fold(
            || (vec![vec![0u64; MAX_LEVELS]; nf], vec![0u8; nf]),
            |(mut acc, mut buf), &(i, j)| {
                comparer.compare_into(i, j, &mut buf);
                for (f, &l) in buf.iter().enumerate() {
                    acc[f][usize::from(l)] += 1;
                }
                (acc, buf)
            },
        )
        .map(|(acc, _)| acc)
        .reduce(
            || vec![vec![0u64; MAX_LEVELS]; nf],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    for (p, q) in x.iter_mut().zip(y) {
                        *p += q;
                    }
                }
                a
            },
        );
    let counts: Vec<Vec<f64>> = counts
        .iter()
        .map(|c| c.iter().map(|&x| x as f64).collect())
        .collect();
    estimate_u(&mut model, &counts);
    // m and λ: EM on the candidate pairs' patterns.
    let counted: FxHashMap<Pattern, u64> = c
        .levels
        .par_chunks(nf.max(1))
        .zip(c.masks.par_iter())
        .fold(
            FxHashMap::default,
            |mut h: FxHashMap<Pattern, u64>, (lv, &mask)| {
                *h.entry((pack(lv), mask)).or_insert(0) += 1;
                h
            },
        )
        .reduce(FxHashMap::default, merge);
    // Sorted, so that EM sums in the same order every run and the model is reproducible.
    let mut patterns: Vec<(Pattern, u64)> = counted.into_iter().collect();
    patterns.sort_unstable();
    let rule_fields: Vec<Vec<FieldKind>> = c
        .rules
        .iter()
        .map(|r| {
            let mut f: Vec<FieldKind> = r.keys.iter().map(|k| k.field()).collect();
            // Given names are gendered: pairs sharing a given-name class agree on sex almost
            // always, so within such a rule sex says nothing about matching and EM, seeing it
            // agree everywhere, would take the whole block for matches.
            if r.keys.iter().any(|k| {
                matches!(
                    k,
                    crate::blocking::BlockKey::GivenClass
                        | crate::blocking::BlockKey::NameSkeletons
                )
            }) {
                f.push(FieldKind::Sex);
            }
            if r.keys.contains(&crate::blocking::BlockKey::NameSkeletons) {
                f.push(FieldKind::FamilyName);
            }
            f
        })
        .collect();
    // Each record of the smaller table has at most one match among its candidates.
    let max_matches = left_len.min(right_len).max(1) as f64;
    let all_pairs = (left_len as f64 * right_len as f64).max(1.0);
    train_em(
        &mut model,
        &patterns,
        &rule_fields,
        config.em_iterations,
        max_matches,
        all_pairs,
    );
    // The random pairs u is counted on include matches: negligibly few in large tables, but in
    // small ones (every pair compared) they make agreement look common among non-matches and
    // weaken every agreement weight. Take out the matches the fitted model expects in the sample
    // and fit once more.
    let share = pick.len() as f64 / all_pairs;
    if share > 1e-4 {
        let mass = match_mass(&model, &patterns);
        let adjusted: Vec<Vec<f64>> = counts
            .iter()
            .zip(&mass)
            .map(|(c, m)| {
                c.iter()
                    .enumerate()
                    .map(|(l, &x)| (x - share * m.get(l).copied().unwrap_or(0.0)).max(0.0))
                    .collect()
            })
            .collect();
        estimate_u(&mut model, &adjusted);
        model.training.notes.clear();
        train_em(
            &mut model,
            &patterns,
            &rule_fields,
            config.em_iterations,
            max_matches,
            all_pairs,
        );
    }
    if let (Some(a), Some(b)) = (
        crate::twins::count_within(&c.specs, &c.lp, 0),
        crate::twins::count_within(&c.specs, &c.rp, 1),
    ) {
        let cross = crate::twins::count_across(&c.specs, &c.levels);
        let (rate, note) = crate::twins::rate_if_renamed_outnumber_twins(a, b, cross, all_pairs);
        model.twin_rate = rate;
        model.training.notes.push(note);
    }
    model.training.candidate_pairs = c.pairs.len() as u64;
    model.training.u_sample_pairs = pick.len() as u64;
    model.training.blocking_rules = c.rules.iter().map(ToString::to_string).collect();
    (model, pick.len() as u64)
}

fn merge(a: FxHashMap<Pattern, u64>, b: FxHashMap<Pattern, u64>) -> FxHashMap<Pattern, u64> {
    let (mut a, b) = if a.len() < b.len() { (b, a) } else { (a, b) };
    for (k, v) in b {
        *a.entry(k).or_insert(0) += v;
    }
    a
}

/// Term frequencies of given names and surnames over both tables, per record.
struct Tf {
    left: Vec<[f32; 2]>,
    right: Vec<[f32; 2]>,
}

fn term_frequencies(lp: &Prepared, rp: &Prepared) -> Tf {
    // Counted per distinct value first (records hold ids), then per key over the distinct values.
    let uses = |p: &Prepared, slot: usize| {
        let mut n = vec![0u32; p.names[slot].len()];
        for r in &p.records {
            if let Some(c) = n.get_mut(r.names[slot] as usize) {
                *c += 1;
            }
        }
        n
    };
    let given_key = |n: &NameFeat| n.tf_key();
    let family_key = |n: &NameFeat| n.phon_hash;
    let key_counts = |slot: usize, key: &dyn Fn(&NameFeat) -> u64| {
        let mut h: FxHashMap<u64, u32> = FxHashMap::default();
        for p in [lp, rp] {
            for (n, c) in p.names[slot].iter().zip(uses(p, slot)) {
                *h.entry(key(n)).or_insert(0) += c;
            }
        }
        h
    };
    let g = key_counts(GIVEN, &given_key);
    let f = key_counts(FAMILY, &family_key);
    let gt = g.values().map(|&v| f64::from(v)).sum::<f64>().max(1.0);
    let ft = f.values().map(|&v| f64::from(v)).sum::<f64>().max(1.0);
    let per = |p: &Prepared| -> Vec<[f32; 2]> {
        let freq =
            |slot: usize, h: &FxHashMap<u64, u32>, total: f64, key: &dyn Fn(&NameFeat) -> u64| {
                p.names[slot]
                    .iter()
                    .map(|n| (f64::from(h.get(&key(n)).copied().unwrap_or(0)) / total) as f32)
                    .collect::<Vec<f32>>()
            };
        let gv = freq(GIVEN, &g, gt, &given_key);
        let fv = freq(FAMILY, &f, ft, &family_key);
        p.records
            .par_iter()
            .map(|r| {
                [
                    gv.get(r.names[GIVEN] as usize).copied().unwrap_or(0.0),
                    fv.get(r.names[FAMILY] as usize).copied().unwrap_or(0.0),
                ]
            })
            .collect()
    };
    Tf {
        left: per(lp),
        right: per(rp),
    }
}

/// Which term frequency (given 0, family 1) a field is adjusted by.
fn tf_slot(kind: FieldKind) -> Option<usize> {
    match kind {
        FieldKind::GivenName => Some(0),
        FieldKind::FamilyName => Some(1),
        _ => None,
    }
}

fn pair_weight(
    scorer: &Scorer,
    specs: &[FieldSpec],
    lv: &[u8],
    tl: &[f32; 2],
    tr: &[f32; 2],
) -> f64 {
    let mut w = scorer.prior;
    for (f, spec) in specs.iter().enumerate() {
        let tf = tf_slot(spec.kind).map_or(0.0, |s| f64::from(tl[s].max(tr[s])));
        w += scorer.weight_in_pair(f, lv, tf).0;
    }
    scorer.twin_adjusted(lv, w)
}

fn probability(w: f64) -> f64 {
    let o = w.exp2();
    if o.is_infinite() { 1.0 } else { o / (1.0 + o) }
}

fn value_of(table: &Table, row: usize, spec_kind: FieldKind, name: &str) -> Option<String> {
    match spec_kind {
        FieldKind::GivenName | FieldKind::Patronymic | FieldKind::FamilyName => {
            let [g, p, f] = row_names(table, row);
            match spec_kind {
                FieldKind::GivenName => g,
                FieldKind::Patronymic => p,
                _ => f,
            }
        }
        FieldKind::Sex | FieldKind::BirthDate | FieldKind::BirthPlace => {
            table.first_of(row, spec_kind).map(str::to_string)
        }
        _ => {
            let cols = table.columns();
            cols.iter()
                .position(|c| c.kind == spec_kind && c.name.eq_ignore_ascii_case(name))
                .or_else(|| cols.iter().position(|c| c.kind == spec_kind))
                .and_then(|c| table.value(row, c))
                .map(str::to_string)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn explain(
    scorer: &Scorer,
    specs: &[FieldSpec],
    lv: &[u8],
    left: &Table,
    i: usize,
    right: &Table,
    j: usize,
    tl: &[f32; 2],
    tr: &[f32; 2],
) -> Explanation {
    let mut fields = Vec::with_capacity(specs.len());
    let mut total = scorer.prior;
    for (f, (&l, spec)) in lv.iter().zip(specs).enumerate() {
        let tf = tf_slot(spec.kind).map_or(0.0, |s| f64::from(tl[s].max(tr[s])));
        let (weight, tf_adjustment) = scorer.weight_in_pair(f, lv, tf);
        total += weight;
        let level = if l == 0 {
            "null".to_string()
        } else {
            level_names(spec.kind)
                .get(usize::from(l) - 1)
                .copied()
                .unwrap_or("?")
                .to_string()
        };
        fields.push(FieldContribution {
            field: spec.name.clone(),
            kind: spec.kind,
            level,
            left: value_of(left, i, spec.kind, &spec.name),
            right: value_of(right, j, spec.kind, &spec.name),
            weight,
            tf_adjustment,
        });
    }
    // What the pair loses for possibly being twins is the given name's doing: it is the field
    // that differs.
    let adjusted = scorer.twin_adjusted(lv, total);
    if adjusted != total
        && let Some(given) = scorer.twin.as_ref().map(|t| t.given)
    {
        fields[given].weight += adjusted - total;
        total = adjusted;
    }
    Explanation {
        prior: scorer.prior,
        fields,
        match_weight: total,
        probability: probability(total),
    }
}

/// A candidate kept for its weight: (weight, pair, index into the compared pairs, possibly
/// renamed).
type Kept = (f64, u64, usize, bool);

/// What scoring leaves for assignment and for explaining the kept pairs.
struct Scored {
    scorer: Scorer,
    tf: Tf,
    kept: Vec<Kept>,
}

/// Weighs every compared pair and keeps those at or above the review threshold. A possibly
/// renamed child is never a match: kept for review when there is a review band, else dropped.
fn score_candidates(c: &Compared, model: &Model, config: &LinkConfig) -> Scored {
    let nf = c.specs.len();
    let scorer = Scorer::new(model);
    let tf = term_frequencies(&c.lp, &c.rp);
    let review_w = (config.review_threshold / (1.0 - config.review_threshold)).log2();
    let bounds = scorer.upper_bounds();
    let renamed = RenamedPattern::new(&c.specs);
    let review_band = config.review_threshold < config.threshold;
    let level_counts: Vec<usize> = c.specs.iter().map(|s| level_names(s.kind).len()).collect();
    let given_tf = c.specs.iter().position(|s| s.kind == FieldKind::GivenName);
    let kept = c
        .levels
        .par_chunks(nf)
        .zip(c.pairs.par_iter())
        .enumerate()
        .filter_map(|(k, (lv, &p))| {
            let (i, j) = ((p >> 32) as usize, (p & 0xFFFF_FFFF) as usize);
            if let Some(r) = renamed.as_ref().filter(|r| r.matches(lv, &level_counts)) {
                if !review_band {
                    return None;
                }
                let tf_given =
                    given_tf.map_or(0.0, |_| f64::from(tf.left[i][0].max(tf.right[j][0])));
                let w = r.weight(&scorer, lv, tf_given);
                return (w >= review_w).then_some((w, p, k, true));
            }
            // Most candidate pairs are far below the review threshold even with every term
            // frequency at its most favourable: those need no exact weight.
            let bound: f64 = scorer.prior
                + lv.iter()
                    .zip(&bounds)
                    .map(|(&l, b)| b.get(usize::from(l)).copied().unwrap_or(0.0))
                    .sum::<f64>();
            if bound < review_w {
                return None;
            }
            let w = pair_weight(&scorer, &c.specs, lv, &tf.left[i], &tf.right[j]);
            (w >= review_w).then_some((w, p, k, false))
        })
        .collect();
    Scored { scorer, tf, kept }
}

/// A kept pair with its explanation and decision, rows `i` and `j` of the two tables.
fn linked_pair(
    c: &Compared,
    scored: &Scored,
    left: &Table,
    right: &Table,
    config: &LinkConfig,
    (w, i, j, k, is_renamed): (f64, usize, usize, usize, bool),
) -> LinkedPair {
    let nf = c.specs.len();
    let lv = &c.levels[k * nf..(k + 1) * nf];
    let explanation = explain(
        &scored.scorer,
        &c.specs,
        lv,
        left,
        i,
        right,
        j,
        &scored.tf.left[i],
        &scored.tf.right[j],
    );
    let probability = probability(w);
    LinkedPair {
        left: i,
        left_id: left.id(i).unwrap_or_default().to_string(),
        right: j,
        right_id: right.id(j).unwrap_or_default().to_string(),
        probability,
        match_weight: w,
        decision: if probability >= config.threshold && !is_renamed {
            Decision::Match
        } else {
            Decision::Review
        },
        explanation,
        possibly_renamed: is_renamed,
    }
}

/// Every pair the engine's blocking proposes and `model` scores at or above
/// `config.review_threshold`, explained, best first, without the one-to-one assignment of
/// [`link`]: a review queue keeps every plausible partner of a record and lets a person choose.
/// The case system scores stored records with this, so that its queue and `homeward link` see
/// the same candidates with the same weights.
pub fn score_pairs(
    left: &Table,
    right: &Table,
    config: &LinkConfig,
    model: &Model,
) -> Result<Vec<LinkedPair>, LinkError> {
    let mut timings = Timings::default();
    let c = block_and_compare(left, right, config, Some(model), &|_| {}, &mut timings)?;
    let mut scored = score_candidates(&c, model, config);
    let mut kept = std::mem::take(&mut scored.kept);
    kept.par_sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    Ok(kept
        .par_iter()
        .map(|&(w, p, k, is_renamed)| {
            let (i, j) = ((p >> 32) as usize, (p & 0xFFFF_FFFF) as usize);
            linked_pair(&c, &scored, left, right, config, (w, i, j, k, is_renamed))
        })
        .collect())
}

/// Links two tables: every record of `left` to at most one record of `right` and vice versa.
///
/// Trains a model on the data (no labels) unless `model` is given, then scores every candidate
/// pair, keeps those at or above `config.review_threshold`, and assigns greedily by descending
/// match weight (ties by row), so that a child is matched once. `progress` is called from the
/// calling thread between steps.
pub fn link(
    left: &Table,
    right: &Table,
    config: &LinkConfig,
    model: Option<&Model>,
    progress: &dyn Fn(Progress),
) -> Result<LinkOutput, LinkError> {
    let start = Instant::now();
    let mut stats = LinkStats {
        left_records: left.len(),
        right_records: right.len(),
        ..Default::default()
    };
    let c = block_and_compare(left, right, config, model, progress, &mut stats.timings)?;
    stats.candidate_pairs = c.pairs.len() as u64;
    stats.pairs_per_rule = c.per_rule.clone();

    let t3 = Instant::now();
    progress(Progress {
        phase: Phase::Train,
        done: 0,
        total: 1,
    });
    let model = match model {
        Some(m) => m.clone(),
        None => {
            let (m, n) = train(&c, config, left.len(), right.len());
            stats.u_sample_pairs = n;
            m
        }
    };
    progress(Progress {
        phase: Phase::Train,
        done: 1,
        total: 1,
    });
    stats.timings.train_ms = ms(t3.elapsed());

    let t4 = Instant::now();
    progress(Progress {
        phase: Phase::Score,
        done: 0,
        total: c.pairs.len() as u64,
    });
    let mut scored = score_candidates(&c, &model, config);
    let mut kept = std::mem::take(&mut scored.kept);
    stats.pairs_above_review = kept.len() as u64;
    progress(Progress {
        phase: Phase::Score,
        done: c.pairs.len() as u64,
        total: c.pairs.len() as u64,
    });
    stats.timings.score_ms = ms(t4.elapsed());

    let t5 = Instant::now();
    progress(Progress {
        phase: Phase::Assign,
        done: 0,
        total: kept.len() as u64,
    });
    // Possibly renamed pairs come after every other pair: their rank is on another scale, and a
    // record's own match, however weak, is a better answer than a renaming.
    kept.par_sort_unstable_by(|a, b| a.3.cmp(&b.3).then(b.0.total_cmp(&a.0)).then(a.1.cmp(&b.1)));
    let mut left_used = vec![false; left.len()];
    let mut right_used = vec![false; right.len()];
    let mut chosen = Vec::new();
    for &(w, p, k, is_renamed) in &kept {
        let (i, j) = ((p >> 32) as usize, (p & 0xFFFF_FFFF) as usize);
        if left_used[i] || right_used[j] {
            continue;
        }
        left_used[i] = true;
        right_used[j] = true;
        chosen.push((w, i, j, k, is_renamed));
    }
    let pairs: Vec<LinkedPair> = chosen
        .par_iter()
        .map(|&(w, i, j, k, is_renamed)| {
            linked_pair(&c, &scored, left, right, config, (w, i, j, k, is_renamed))
        })
        .collect();
    stats.matches = pairs
        .iter()
        .filter(|p| p.decision == Decision::Match)
        .count() as u64;
    stats.reviews = pairs.len() as u64 - stats.matches;
    progress(Progress {
        phase: Phase::Assign,
        done: kept.len() as u64,
        total: kept.len() as u64,
    });
    stats.timings.assign_ms = ms(t5.elapsed());
    stats.timings.total_ms = ms(start.elapsed());
    Ok(LinkOutput {
        model,
        pairs,
        stats,
    })
}

impl Model {
    /// Trains a model on two tables without labels: u from seeded random pairs, m by EM on the
    /// blocked pairs (per blocking rule, leaving out the fields that rule fixes), and the prior.
    pub fn train(left: &Table, right: &Table, config: &LinkConfig) -> Result<Model, LinkError> {
        let mut timings = Timings::default();
        let c = block_and_compare(left, right, config, None, &|_| {}, &mut timings)?;
        Ok(train(&c, config, left.len(), right.len()).0)
    }

    /// Scores one pair (row `i` of `left`, row `j` of `right`) as [`score_pairs`] would, whether
    /// or not blocking would have compared it: a pair of the renamed-child pattern is ranked by
    /// the fields a renaming leaves alone and marked, like any pair of a full run. The case
    /// system re-scores its pending candidates with this, so that a re-score neither drops the
    /// mark nor sinks the pair by the surname a renaming changed.
    pub fn score_pair(
        &self,
        left: &Table,
        i: usize,
        right: &Table,
        j: usize,
    ) -> Result<LinkedPair, LinkError> {
        let one = OnePair::new(self, left, i, right, j)?;
        let explanation = one.explanation(left, i, right, j);
        let level_counts: Vec<usize> = one
            .specs
            .iter()
            .map(|s| level_names(s.kind).len())
            .collect();
        let renamed = RenamedPattern::new(&one.specs).filter(|r| r.matches(&one.lv, &level_counts));
        let w = match renamed {
            Some(r) => {
                let tf_given = f64::from(one.tf.left[i][0].max(one.tf.right[j][0]));
                r.weight(&one.scorer, &one.lv, tf_given)
            }
            None => explanation.match_weight,
        };
        Ok(LinkedPair {
            left: i,
            left_id: left.id(i).unwrap_or_default().to_string(),
            right: j,
            right_id: right.id(j).unwrap_or_default().to_string(),
            probability: probability(w),
            match_weight: w,
            decision: Decision::Review,
            explanation,
            possibly_renamed: renamed.is_some(),
        })
    }

    /// Scores and explains one pair (row `i` of `left`, row `j` of `right`) whether or not blocking
    /// would have compared it. Term frequencies are counted over both tables, so for many pairs
    /// use [`link`].
    pub fn explain(
        &self,
        left: &Table,
        i: usize,
        right: &Table,
        j: usize,
    ) -> Result<Explanation, LinkError> {
        Ok(OnePair::new(self, left, i, right, j)?.explanation(left, i, right, j))
    }
}

/// What scoring one pair outside a full run needs: its levels, the scorer and the tables' term
/// frequencies.
struct OnePair {
    specs: Vec<FieldSpec>,
    lv: Vec<u8>,
    scorer: Scorer,
    tf: Tf,
}

impl OnePair {
    fn new(
        model: &Model,
        left: &Table,
        i: usize,
        right: &Table,
        j: usize,
    ) -> Result<Self, LinkError> {
        if i >= left.len() || j >= right.len() {
            return Err(LinkError::Config(format!(
                "no pair ({i}, {j}) in tables of {} and {} rows",
                left.len(),
                right.len()
            )));
        }
        let (lp, rp) = (left.prepared(), right.prepared());
        let fields: Vec<(String, FieldKind)> = model
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.kind))
            .collect();
        let specs = specs_for_model(&fields, left, &lp, right, &rp);
        // One pair: computed directly, without the caches a Comparer would allocate.
        let mut lv: Vec<u8> = specs
            .iter()
            .map(|s| field_level(s, &lp, i, &rp, j))
            .collect();
        swap_names(&specs, &lp, i, &rp, j, &mut lv);
        Ok(OnePair {
            specs,
            lv,
            scorer: Scorer::new(model),
            tf: term_frequencies(&lp, &rp),
        })
    }

    fn explanation(&self, left: &Table, i: usize, right: &Table, j: usize) -> Explanation {
        explain(
            &self.scorer,
            &self.specs,
            &self.lv,
            left,
            i,
            right,
            j,
            &self.tf.left[i],
            &self.tf.right[j],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::fixtures;

    /// Term frequencies counted per distinct value must equal counting record by record.
    #[test]
    fn term_frequencies_count_every_record() {
        let (lt, rt) = (fixtures::left(), fixtures::right());
        let (lp, rp) = (Prepared::build(&lt), Prepared::build(&rt));
        let tf = term_frequencies(&lp, &rp);
        let key = |p: &Prepared, slot: usize, i: usize| {
            p.name(slot, i).map(|n| {
                if slot == GIVEN {
                    n.tf_key()
                } else {
                    n.phon_hash
                }
            })
        };
        for (slot, col) in [(GIVEN, 0), (FAMILY, 1)] {
            let all: Vec<u64> = (0..lp.records.len())
                .filter_map(|i| key(&lp, slot, i))
                .chain((0..rp.records.len()).filter_map(|i| key(&rp, slot, i)))
                .collect();
            for (p, got) in [(&lp, &tf.left), (&rp, &tf.right)] {
                for (i, g) in got.iter().enumerate() {
                    let want = key(p, slot, i).map_or(0.0, |k| {
                        all.iter().filter(|&&x| x == k).count() as f64 / all.len() as f64
                    });
                    assert_eq!(g[col], want as f32, "slot {slot} record {i}");
                }
            }
        }
        // Саша counts with Александр (one class); Олена appears once.
        assert!(tf.left[3][0] > tf.left[2][0]);
    }

    /// The bound that lets scoring skip most pairs is never below a pair's weight.
    #[test]
    fn weight_bounds_hold_for_any_frequency() {
        let (left, right) = (fixtures::left(), fixtures::right());
        let model = Model::train(&left, &right, &LinkConfig::default()).unwrap();
        let scorer = Scorer::new(&model);
        let bounds = scorer.upper_bounds();
        for (f, b) in bounds.iter().enumerate() {
            for (l, &bound) in b.iter().enumerate() {
                for tf in [0.0, 1e-9, 1e-4, 0.01, 0.3, 1.0] {
                    let (w, _) = scorer.field_weight(f, l as u8, tf);
                    assert!(w <= bound, "field {f} level {l} tf {tf}: {w} > {bound}");
                }
            }
        }
    }

    /// The review queue's door and `link`'s door see the same candidates: every pair `link`
    /// assigns is among `score_pairs`' with the same weight and explanation, and `score_pairs`
    /// keeps nothing below the review threshold.
    #[test]
    fn score_pairs_holds_every_linked_pair() {
        let (left, right) = (fixtures::left(), fixtures::right());
        let config = LinkConfig::default();
        let model = Model::train(&left, &right, &config).unwrap();
        let linked = link(&left, &right, &config, Some(&model), &|_| {}).unwrap();
        let all = score_pairs(&left, &right, &config, &model).unwrap();
        assert!(!linked.pairs.is_empty());
        assert!(all.len() >= linked.pairs.len());
        for p in &linked.pairs {
            let q = all
                .iter()
                .find(|q| q.left == p.left && q.right == p.right)
                .unwrap_or_else(|| panic!("pair ({}, {}) missing", p.left, p.right));
            assert_eq!(q, p);
        }
        assert!(all.iter().all(|q| q.probability >= config.review_threshold));
        assert!(
            all.windows(2)
                .all(|w| w[0].match_weight >= w[1].match_weight)
        );
    }

    #[test]
    fn empty_tables_link_to_nothing() {
        let (left, right) = (fixtures::left(), fixtures::right());
        let empty = Table::new(
            left.columns()
                .iter()
                .map(|c| (c.name.clone(), c.kind))
                .collect(),
        )
        .unwrap();
        for (a, b) in [(&left, &empty), (&empty, &left), (&empty, &empty)] {
            let out = link(a, b, &LinkConfig::default(), None, &|_| {}).unwrap();
            assert!(out.pairs.is_empty());
            assert_eq!(out.stats.candidate_pairs, 0);
        }
        let model = Model::train(&left, &right, &LinkConfig::default()).unwrap();
        let out = link(
            &empty,
            &right,
            &LinkConfig::default(),
            Some(&model),
            &|_| {},
        )
        .unwrap();
        assert!(out.pairs.is_empty());
    }

    /// Which table is indexed and which streamed must not change what is linked.
    #[test]
    fn linking_is_the_same_either_way_round() {
        let (left, right) = (fixtures::left(), fixtures::right());
        let model = Model::train(&left, &right, &LinkConfig::default()).unwrap();
        let ab = link(&left, &right, &LinkConfig::default(), Some(&model), &|_| {}).unwrap();
        let ba = link(&right, &left, &LinkConfig::default(), Some(&model), &|_| {}).unwrap();
        assert!(!ab.pairs.is_empty());
        let mut x: Vec<(String, String, i64)> = ab
            .pairs
            .iter()
            .map(|p| {
                (
                    p.left_id.clone(),
                    p.right_id.clone(),
                    (p.match_weight * 1e6) as i64,
                )
            })
            .collect();
        let mut y: Vec<(String, String, i64)> = ba
            .pairs
            .iter()
            .map(|p| {
                (
                    p.right_id.clone(),
                    p.left_id.clone(),
                    (p.match_weight * 1e6) as i64,
                )
            })
            .collect();
        x.sort();
        y.sort();
        assert_eq!(x, y);
        assert_eq!(ab.stats.candidate_pairs, ba.stats.candidate_pairs);
        assert_eq!(ab.stats.pairs_per_rule, ba.stats.pairs_per_rule);
    }
}
