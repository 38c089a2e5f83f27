//! The Fellegi–Sunter model: m and u probabilities per comparison level, the prior, training by EM,
//! and the weights a pair's score is the sum of.

use crate::compare::{DATE_LEVELS, default_m, default_u, level_names};
use crate::table::{FieldKind, LinkError};
use serde::{Deserialize, Serialize};

/// The model format version written by this crate; [`Model::from_json`] reads it and versions 3
/// and 4 (upgraded on reading), and refuses others.
///
/// 5: date fields have levels `few_days` and `year_off_by_one` after `day_month_swapped`.
///
/// 4: identifier fields have a `one_typo` level between `exact` and `different`; a model may
/// carry `twin_rate` (models written before it was measured lack it and keep the sibling guard
/// at full strength, as they scored when written).
pub const MODEL_VERSION: u32 = 5;

/// Term-frequency adjustments are clamped to ± this many bits, so that no single value's
/// rarity or commonness outweighs the evidence of a whole field.
pub const TF_CLAMP: f64 = 3.0;

/// Weight of pseudo-pairs pulling m towards its default in each EM step (a Beta prior worth this
/// many matches): keeps small or lopsided blocks from driving a level's m to 0 or 1, and lets a
/// list of a few dozen matches lean on general expectations; negligible beside thousands.
const M_PRIOR_PAIRS: f64 = 50.0;
/// Weight of pseudo-pairs pulling u towards its default: negligible beside hundreds of thousands of
/// sampled pairs, decisive when the tables are tiny.
const U_PRIOR_PAIRS: f64 = 1000.0;
const P_MIN: f64 = 1e-6;

/// One comparison level's parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LevelModel {
    /// `exact`, `equivalent`, `jw_0.92`, `day_month_swapped`...
    pub name: String,
    /// P(level | same child).
    pub m: f64,
    /// P(level | different children).
    pub u: f64,
}

/// One compared field's parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldModel {
    /// `given_name`, `family_name`, ... or the header of an identifier/text/exact column.
    pub name: String,
    pub kind: FieldKind,
    /// Best level first; the null level (missing value, weight 0) is not listed.
    pub levels: Vec<LevelModel>,
    /// Whether agreement weights are adjusted for how common the agreeing value is.
    pub tf_adjusted: bool,
    /// How m was obtained: `em` (averaged over the blocking rules not involving the field) or
    /// `default` (the field is in every blocking rule, so EM could not see it disagree).
    pub m_source: String,
}

/// A trained Fellegi–Sunter model, serialisable as JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub version: u32,
    /// Prior probability that two records, one from each table, drawn at random are a match (not
    /// a candidate pair: the u probabilities are those of random pairs, so the agreement blocking
    /// selected for is counted in the field weights and must not be counted again in the prior).
    pub lambda: f64,
    pub fields: Vec<FieldModel>,
    /// The chance that two records of one list drawn at random are twin-like (same family name
    /// and full birth date, different given names, everything else agreeing): how often a pair
    /// that differs only in the given name is two children rather than one. Measured within the
    /// lists trained on (see the `twins` module); `None` when they lack a given name, family name
    /// or birth date, and in models written before it was measured: then a different given name
    /// outweighs everything else, whatever the lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub twin_rate: Option<f64>,
    /// Facts about training, for the record (pairs seen, iterations, notes).
    pub training: TrainingInfo,
}

/// How a model was trained.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingInfo {
    pub candidate_pairs: u64,
    pub u_sample_pairs: u64,
    pub em_iterations: u32,
    pub blocking_rules: Vec<String>,
    pub notes: Vec<String>,
    /// The match threshold reviewers' decisions moved it to ([`crate::threshold_from_labels`]);
    /// `None`: the configured one. In the case system it decides which queued pairs are shown
    /// as likely the same child; nothing is confirmed by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_threshold: Option<f64>,
    /// The lowest probability at which a possibly renamed pair is queued, when reviewers'
    /// decisions lowered it below the review threshold; `None`: the review threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_threshold: Option<f64>,
}

impl Model {
    /// A model with the default priors for these fields (what EM starts from).
    pub fn with_defaults(fields: &[(String, FieldKind)]) -> Model {
        Model {
            version: MODEL_VERSION,
            lambda: 0.01,
            fields: fields
                .iter()
                .map(|(name, kind)| FieldModel {
                    name: name.clone(),
                    kind: *kind,
                    levels: level_names(*kind)
                        .iter()
                        .zip(default_m(*kind).iter().zip(default_u(*kind)))
                        .map(|(n, (&m, &u))| LevelModel {
                            name: (*n).to_string(),
                            m,
                            u,
                        })
                        .collect(),
                    tf_adjusted: matches!(kind, FieldKind::GivenName | FieldKind::FamilyName),
                    m_source: "default".into(),
                })
                .collect(),
            twin_rate: None,
            training: TrainingInfo::default(),
        }
    }

    /// The model as pretty JSON.
    pub fn to_json(&self) -> Result<String, LinkError> {
        serde_json::to_string_pretty(self).map_err(|e| LinkError::Model(e.to_string()))
    }

    /// Reads a model written by [`Model::to_json`], checking its version and level lists.
    pub fn from_json(text: &str) -> Result<Model, LinkError> {
        let mut m: Model =
            serde_json::from_str(text).map_err(|e| LinkError::Model(e.to_string()))?;
        if m.version == 3 {
            m.upgrade_from_v3();
        }
        if m.version == 4 {
            m.upgrade_from_v4();
        }
        if m.version != MODEL_VERSION {
            return Err(LinkError::Model(format!(
                "version {} (this build reads {MODEL_VERSION})",
                m.version
            )));
        }
        if !(m.lambda > 0.0 && m.lambda < 1.0) {
            return Err(LinkError::Model(format!(
                "lambda {} is not a probability",
                m.lambda
            )));
        }
        if let Some(r) = m.twin_rate
            && !(r > 0.0 && r < 1.0)
        {
            return Err(LinkError::Model(format!(
                "twin_rate {r} is not a probability"
            )));
        }
        for f in &m.fields {
            let expected = level_names(f.kind);
            if f.levels.len() != expected.len()
                || f.levels.iter().zip(expected).any(|(l, e)| l.name != *e)
            {
                return Err(LinkError::Model(format!(
                    "field {:?}: levels do not match kind {}",
                    f.name, f.kind
                )));
            }
            if f.levels
                .iter()
                .any(|l| !(l.m > 0.0 && l.m <= 1.0 && l.u > 0.0 && l.u <= 1.0))
            {
                return Err(LinkError::Model(format!(
                    "field {:?}: m and u must be probabilities",
                    f.name
                )));
            }
        }
        Ok(m)
    }

    /// Version 3 had two identifier levels (exact, different). A stored model stays usable (a
    /// reviewer's training is not thrown away by an upgrade): `one_typo` gets its default m and u,
    /// taken out of `different`, which held those pairs before. Fields of other kinds are the same
    /// in both versions.
    fn upgrade_from_v3(&mut self) {
        let names = level_names(FieldKind::Identifier);
        let (m0, u0) = (
            default_m(FieldKind::Identifier),
            default_u(FieldKind::Identifier),
        );
        for f in &mut self.fields {
            if f.kind != FieldKind::Identifier || f.levels.len() != 2 {
                continue;
            }
            let different = &mut f.levels[1];
            let typo = LevelModel {
                name: names[1].to_string(),
                m: m0[1].min(different.m / 2.0),
                u: u0[1].min(different.u / 2.0),
            };
            different.m -= typo.m;
            different.u -= typo.u;
            different.name = names[2].to_string();
            f.levels.insert(1, typo);
        }
        self.version = 4;
        self.training
            .notes
            .push("read from a version 3 model: identifier one_typo level at its default".into());
    }

    /// Version 4 had no date levels `few_days` and `year_off_by_one`: such pairs were
    /// `one_digit`, `same_year_month`, `within_month`, `within_year` or `different`. A stored model
    /// stays usable: the two levels get their default m and u, taken out of `different` (at most
    /// half of it), until the model is trained again.
    fn upgrade_from_v4(&mut self) {
        let (m0, u0) = (
            default_m(FieldKind::BirthDate),
            default_u(FieldKind::BirthDate),
        );
        for f in &mut self.fields {
            if f.kind != FieldKind::BirthDate || f.levels.len() + 2 != DATE_LEVELS.len() {
                continue;
            }
            for at in [2, 3] {
                let Some(different) = f.levels.last_mut() else {
                    continue;
                };
                let level = LevelModel {
                    name: DATE_LEVELS[at].to_string(),
                    m: m0[at].min(different.m / 4.0),
                    u: u0[at].min(different.u / 4.0),
                };
                different.m -= level.m;
                different.u -= level.u;
                f.levels.insert(at, level);
            }
        }
        self.version = 5;
        self.training.notes.push(
            "read from a version 4 model: date levels few_days and year_off_by_one at their defaults"
                .into(),
        );
    }

    /// Prior log2-odds that two random records match.
    pub fn prior_weight(&self) -> f64 {
        (self.lambda / (1.0 - self.lambda)).log2()
    }
}

/// Weights derived from a model, with its guards applied: what scoring uses.
#[derive(Clone, Debug)]
pub(crate) struct Scorer {
    /// Per field: weight per level, index 0 = null (0.0).
    pub weights: Vec<Vec<f64>>,
    /// Per field: u of each level (index as `weights`), for term-frequency adjustment.
    pub u: Vec<Vec<f64>>,
    pub tf: Vec<bool>,
    /// Per field: the floor an adjusted agreement weight keeps above the unadjusted levels.
    pub floor: Vec<f64>,
    pub prior: f64,
    /// (patronymic, family name) field indices, when both are compared: see
    /// [`Scorer::weight_in_pair`].
    pub adoption: Option<(usize, usize)>,
    /// Identifier fields (document numbers).
    pub identifiers: Vec<usize>,
    /// Per given-name field, its "different" weight before the sibling guard: what it weighs
    /// when an identifier agrees or is one typo off (siblings and twins never share a document
    /// number, so the guard
    /// has nothing to protect, and a record with its names swapped or replaced is still the one).
    pub unguarded: Vec<Option<f64>>,
    /// With the lists' twin rate known: the two-hypothesis weight of a pair that looks like
    /// twins; see [`Scorer::twin_adjusted`].
    pub twin: Option<TwinTerm>,
}

/// A pair whose given names are different and whose birth dates are the same (and whose
/// document numbers, if any, do not agree) is either one child, whose given name was replaced,
/// or twins. Its odds are λ·m(x) / ((1 − λ)·u(x) + t·P(x | twins)), t the lists' twin rate;
/// twins agree on every other field as often as one child's two records do, except that their
/// given names and document numbers always differ, so P(x | twins) / m(x) = 1 / (m(given
/// different) · m(identifier level)) and the second term alone gives the cap
/// C = log2 λ + log2 m(given different) + log2 m(identifier level) − log2 t. The pair's weight is
/// −log2(2^−W + 2^−C), W its Fellegi–Sunter weight without the guard.
#[derive(Clone, Debug)]
pub(crate) struct TwinTerm {
    pub given: usize,
    pub date: usize,
    /// log2 λ + log2 m(given different) − log2 t.
    pub base: f64,
    /// Per identifier field: its index and log2 m per level (index 0, null: 0.0).
    pub identifiers: Vec<(usize, Vec<f64>)>,
}

impl Scorer {
    /// Log2 Bayes factors, with two guards:
    /// - monotone: for names each level weighs at most the level above it, and for every field the
    ///   top level weighs more than any other and more than nothing (so an identical value never
    ///   scores below a different one);
    /// - siblings: a given name that is different (or a different known name) weighs 10 bits less
    ///   than the prior and all other fields together can weigh, so no agreement elsewhere makes two
    ///   differently named children one — twins share everything else. The price: a child whose
    ///   given name was changed entirely (not just translated or shortened) is not linked.
    pub fn new(model: &Model) -> Scorer {
        let mut weights: Vec<Vec<f64>> = model
            .fields
            .iter()
            .map(|f| {
                let mut w = vec![0.0];
                w.extend(
                    f.levels
                        .iter()
                        .map(|l| (l.m.max(P_MIN) / l.u.max(P_MIN)).log2()),
                );
                if matches!(
                    f.kind,
                    FieldKind::GivenName | FieldKind::Patronymic | FieldKind::FamilyName
                ) {
                    for k in 2..w.len() {
                        w[k] = w[k].min(w[k - 1]);
                    }
                }
                if f.kind == FieldKind::BirthDate && w.len() == DATE_LEVELS.len() + 1 {
                    // A partial date's identical copy ("2014" vs "2014", same_partial) must weigh
                    // more than any level a partial date can reach with another date (coarser,
                    // within a month or year), or the copy could tie with another child's record.
                    // Raised rather than the others lowered: all a partial date says agrees.
                    let at =
                        |name: &str| DATE_LEVELS.iter().position(|l| *l == name).map(|i| i + 1);
                    if let (Some(from), Some(to), Some(same)) = (
                        at("same_month_one_side_coarser"),
                        at("same_year_one_side_coarser"),
                        at("same_partial"),
                    ) {
                        let best = w[from..=to].iter().copied().fold(f64::MIN, f64::max);
                        w[same] = w[same].max(best + 0.01);
                    }
                }
                if w.len() > 2 {
                    let best_other = w[2..].iter().copied().fold(f64::MIN, f64::max);
                    w[1] = w[1].max(best_other + 0.1).max(0.1);
                }
                w
            })
            .collect();
        let tf: Vec<bool> = model.fields.iter().map(|f| f.tf_adjusted).collect();
        let mut unguarded: Vec<Option<f64>> = vec![None; model.fields.len()];
        let max_of = |w: &Vec<f64>, t: bool| {
            w.iter().copied().fold(0.0, f64::max) + if t { TF_CLAMP } else { 0.0 }
        };
        for (i, f) in model.fields.iter().enumerate() {
            if f.kind != FieldKind::GivenName {
                continue;
            }
            let others: f64 = weights
                .iter()
                .zip(&tf)
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, (w, &t))| max_of(w, t))
                .sum();
            // Even with every other field at its best and the prior, the pair stays below 2^-10
            // odds.
            if let Some(last) = weights[i].last_mut() {
                unguarded[i] = Some(*last);
                *last = last.min(-others - model.prior_weight().max(0.0) - 10.0);
            }
        }
        let floor = weights
            .iter()
            .map(|w| {
                if w.len() > 3 {
                    w[3..].iter().copied().fold(0.0, f64::max)
                } else {
                    0.0
                }
            })
            .collect();
        let u = model
            .fields
            .iter()
            .map(|f| {
                let mut u = vec![1.0];
                u.extend(f.levels.iter().map(|l| l.u.max(P_MIN)));
                u
            })
            .collect();
        let find = |k: FieldKind| model.fields.iter().position(|f| f.kind == k);
        let adoption = find(FieldKind::Patronymic).zip(find(FieldKind::FamilyName));
        let identifiers = model
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.kind == FieldKind::Identifier)
            .map(|(i, _)| i)
            .collect();
        let twin = model.twin_rate.and_then(|t| {
            let given = find(FieldKind::GivenName)?;
            let date = find(FieldKind::BirthDate)?;
            let m_different = model.fields[given].levels.last()?.m.max(P_MIN);
            let log_m = |f: &FieldModel| {
                let mut v = vec![0.0];
                v.extend(f.levels.iter().map(|l| l.m.max(P_MIN).log2()));
                v
            };
            Some(TwinTerm {
                given,
                date,
                base: model.prior_weight() + m_different.log2() - t.log2(),
                identifiers: model
                    .fields
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.kind == FieldKind::Identifier)
                    .map(|(i, f)| (i, log_m(f)))
                    .collect(),
            })
        });
        Scorer {
            weights,
            u,
            tf,
            floor,
            prior: model.prior_weight(),
            adoption,
            identifiers,
            unguarded,
            twin,
        }
    }

    /// Whether the pair with these levels is weighed as one child or twins (see [`TwinTerm`]),
    /// and if so the cap C.
    fn twin_cap(&self, levels: &[u8]) -> Option<f64> {
        let t = self.twin.as_ref()?;
        let level = |i: usize| usize::from(levels.get(i).copied().unwrap_or(0));
        let given_different =
            level(t.given) > 0 && level(t.given) + 1 == self.weights[t.given].len();
        if !given_different || level(t.date) != 1 {
            return None;
        }
        let mut cap = t.base;
        for (i, log_m) in &t.identifiers {
            let l = level(*i);
            // An identifier that agrees or is one typo off already lifts the guard.
            if matches!(l, 1 | 2) {
                return None;
            }
            cap += log_m.get(l).copied().unwrap_or(0.0);
        }
        Some(cap)
    }

    /// The weight of a pair whose field weights (from [`Scorer::weight_in_pair`]) and prior sum
    /// to `w`: `w` itself unless the pair could be twins, then `w` lowered towards the cap C
    /// (see [`TwinTerm`]). Never above `w`.
    pub fn twin_adjusted(&self, levels: &[u8], w: f64) -> f64 {
        match self.twin_cap(levels) {
            None => w,
            Some(c) => {
                let (a, b) = (-w, -c);
                let hi = a.max(b);
                -(hi + (1.0 + (-(a - b).abs()).exp2()).log2())
            }
        }
    }

    /// The weight of field `f` at `level`, and the term-frequency part of it, given the frequency of
    /// the agreeing value (`tf`, the larger of the two records' values' frequencies).
    pub fn field_weight(&self, f: usize, level: u8, tf: f64) -> (f64, f64) {
        let l = usize::from(level);
        let base = self.weights[f].get(l).copied().unwrap_or(0.0);
        if !self.tf[f] || !(l == 1 || l == 2) || tf <= 0.0 {
            return (base, 0.0);
        }
        let adj = (self.u[f][l] / tf).log2().clamp(-TF_CLAMP, TF_CLAMP);
        // Exact stays above equivalent, and both above the unadjusted levels.
        let floor = self.floor[f] + if l == 1 { 0.2 } else { 0.1 };
        let w = (base + adj).max(floor);
        (w, w - base)
    }
}

impl Scorer {
    /// [`Scorer::field_weight`] of field `f` within a pair whose levels are `levels`. One
    /// dependence between fields is accounted for: an adopted child gets a new surname and a new
    /// patronymic together, so when the family name is already different a different patronymic
    /// is no further evidence (it weighs 0 instead of counting the same event twice).
    pub fn weight_in_pair(&self, f: usize, levels: &[u8], tf: f64) -> (f64, f64) {
        let level = levels.get(f).copied().unwrap_or(0);
        let different = |i: usize| {
            let l = usize::from(levels.get(i).copied().unwrap_or(0));
            l > 0 && l + 1 == self.weights[i].len()
        };
        if let Some((pat, fam)) = self.adoption
            && f == pat
            && different(pat)
            && different(fam)
        {
            return (self.field_weight(f, level, tf).0.max(0.0), 0.0);
        }
        // One typo in a document number is still the child's own document: siblings' numbers
        // are not one typo apart (see `identifier_one_typo`).
        if let Some(raw) = self.unguarded.get(f).copied().flatten()
            && different(f)
            && (self
                .identifiers
                .iter()
                .any(|&i| matches!(levels.get(i), Some(1 | 2)))
                || self.twin.as_ref().is_some_and(|t| t.given == f)
                    && self.twin_cap(levels).is_some())
        {
            // Weighed as one child or twins instead: see `Scorer::twin_adjusted`.
            return (raw, 0.0);
        }
        self.field_weight(f, level, tf)
    }

    /// Per field and level, the most [`Scorer::field_weight`] can give at that level whatever the
    /// term frequency: a bound to discard pairs that cannot reach a threshold.
    pub fn upper_bounds(&self) -> Vec<Vec<f64>> {
        self.weights
            .iter()
            .enumerate()
            .map(|(f, w)| {
                w.iter()
                    .enumerate()
                    .map(|(l, &base)| {
                        if self.adoption.is_some_and(|(pat, _)| pat == f) && l + 1 == w.len() {
                            // See `weight_in_pair`.
                            base.max(0.0)
                        } else if let Some(raw) = self.unguarded[f].filter(|_| {
                            l + 1 == w.len()
                                && (!self.identifiers.is_empty() || self.twin.is_some())
                        }) {
                            base.max(raw)
                        } else if self.tf[f] && (l == 1 || l == 2) {
                            let floor = self.floor[f] + if l == 1 { 0.2 } else { 0.1 };
                            (base + TF_CLAMP).max(floor)
                        } else {
                            base
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

/// Levels of a candidate pair packed 4 bits per field, and the rules that produced it.
pub(crate) type Pattern = (u128, crate::blocking::RuleMask);

pub(crate) fn pack(levels: &[u8]) -> u128 {
    levels
        .iter()
        .enumerate()
        .fold(0u128, |acc, (i, &l)| acc | (u128::from(l & 0xF) << (4 * i)))
}

fn unpack(p: u128, i: usize) -> usize {
    ((p >> (4 * i)) & 0xF) as usize
}

/// u from random pairs: `counts[f][level]` over sampled pairs, smoothed towards the default.
pub(crate) fn estimate_u(model: &mut Model, counts: &[Vec<f64>]) {
    for (f, c) in model.fields.iter_mut().zip(counts) {
        let n: f64 = c.iter().skip(1).sum();
        let defaults = default_u(f.kind);
        for (k, level) in f.levels.iter_mut().enumerate() {
            let count = c.get(k + 1).copied().unwrap_or(0.0);
            level.u = ((count + U_PRIOR_PAIRS * defaults[k]) / (n + U_PRIOR_PAIRS)).max(P_MIN);
        }
    }
}

/// Expected matches among the candidate pairs at each level of each field (`[f][level]`, index 0
/// the null level), under the model's m, u and λ: what a random sample of pairs holds of matches
/// in proportion to its share of all pairs.
pub(crate) fn match_mass(model: &Model, patterns: &[(Pattern, u64)]) -> Vec<Vec<f64>> {
    let odds = model.lambda / (1.0 - model.lambda);
    let mut mass: Vec<Vec<f64>> = model
        .fields
        .iter()
        .map(|f| vec![0.0; f.levels.len() + 1])
        .collect();
    for &((p, _), c) in patterns {
        let mut ratio = 1.0;
        for (f, field) in model.fields.iter().enumerate() {
            let l = unpack(p, f);
            if l > 0 {
                ratio *= field.levels[l - 1].m.max(P_MIN) / field.levels[l - 1].u.max(P_MIN);
            }
        }
        let post = odds * ratio / (1.0 + odds * ratio);
        let w = if post.is_finite() { post } else { 1.0 } * c as f64;
        for (f, m) in mass.iter_mut().enumerate() {
            m[unpack(p, f)] += w;
        }
    }
    mass
}

/// One EM fit of m and λ on some patterns, over the fields in `active`; returns m per field
/// (for active fields) and λ.
fn em(
    model: &Model,
    patterns: &[(u128, f64)],
    active: &[bool],
    iterations: u32,
    lambda0: f64,
    max_lambda: f64,
) -> (Vec<Vec<f64>>, f64) {
    let nf = model.fields.len();
    let mut m: Vec<Vec<f64>> = model
        .fields
        .iter()
        .map(|f| f.levels.iter().map(|l| l.m).collect())
        .collect();
    let u: Vec<Vec<f64>> = model
        .fields
        .iter()
        .map(|f| f.levels.iter().map(|l| l.u).collect())
        .collect();
    let prior_m: Vec<&[f64]> = model.fields.iter().map(|f| default_m(f.kind)).collect();
    let mut lambda = lambda0.min(max_lambda);
    let total: f64 = patterns.iter().map(|p| p.1).sum();
    if total <= 0.0 {
        return (m, lambda);
    }
    for _ in 0..iterations {
        let mut acc: Vec<Vec<f64>> = m.iter().map(|v| vec![0.0; v.len()]).collect();
        let mut matched = 0.0;
        for &(p, count) in patterns {
            let (mut pm, mut pu) = (lambda, 1.0 - lambda);
            for f in 0..nf {
                let l = unpack(p, f);
                if l == 0 || !active[f] {
                    continue;
                }
                pm *= m[f][l - 1];
                pu *= u[f][l - 1];
            }
            let post = if pm + pu > 0.0 { pm / (pm + pu) } else { 0.0 };
            let w = post * count;
            matched += w;
            for f in 0..nf {
                let l = unpack(p, f);
                if l > 0 && active[f] {
                    acc[f][l - 1] += w;
                }
            }
        }
        lambda = (matched / total).clamp(1e-7, max_lambda.clamp(1e-7, 0.999));
        for f in 0..nf {
            if !active[f] {
                continue;
            }
            let s: f64 = acc[f].iter().sum();
            for k in 0..m[f].len() {
                m[f][k] =
                    ((acc[f][k] + M_PRIOR_PAIRS * prior_m[f][k]) / (s + M_PRIOR_PAIRS)).max(P_MIN);
            }
        }
    }
    (m, lambda)
}

/// Trains m (per blocking rule, leaving out the fields the rule constrains, as Splink does, then
/// averaged) and λ (on all candidate pairs, with m fixed). `patterns` counts candidate pairs by
/// their levels and the rules that produced them; `rule_fields[r]` are the fields rule r
/// constrains; `max_matches` bounds the matches (the smaller table's size); `all_pairs` is the
/// number of pairs of records, candidates or not, which λ is a fraction of.
pub(crate) fn train_em(
    model: &mut Model,
    patterns: &[(Pattern, u64)],
    rule_fields: &[Vec<FieldKind>],
    iterations: u32,
    max_matches: f64,
    all_pairs: f64,
) {
    let nf = model.fields.len();
    let mut sums: Vec<Vec<f64>> = model
        .fields
        .iter()
        .map(|f| vec![0.0; f.levels.len()])
        .collect();
    let mut runs = vec![0.0f64; nf];
    for (r, constrained) in rule_fields.iter().enumerate() {
        let pats: Vec<(u128, f64)> = patterns
            .iter()
            .filter(|((_, mask), _)| mask & (1 << r) != 0)
            .map(|&((p, _), c)| (p, c as f64))
            .collect();
        if pats.is_empty() {
            continue;
        }
        let active: Vec<bool> = model
            .fields
            .iter()
            .map(|f| !constrained.contains(&f.kind))
            .collect();
        if !active.iter().any(|&a| a) {
            continue;
        }
        // A child is one child: no rule's candidates hold more matches than the smaller table
        // has records. Without this bound EM on a rule whose pairs agree on much (same given
        // name, initial and year) takes the whole block for one class, and its "matches"
        // disagree on everything else.
        let n_r: f64 = pats.iter().map(|p| p.1).sum();
        let cap = (max_matches / n_r).clamp(1e-7, 0.999);
        let (m, lam) = em(model, &pats, &active, iterations, cap.min(0.5), cap);
        // Rules whose candidates are mostly matches (a dense block, high λ) teach m with little
        // contamination from look-alikes; a sparse block's "matches" include namesakes, cousins
        // and siblings that share what the rule does not fix. So each rule's m counts in
        // proportion to its fitted λ.
        for f in 0..nf {
            if active[f] {
                for (s, v) in sums[f].iter_mut().zip(&m[f]) {
                    *s += lam * v;
                }
                runs[f] += lam;
            }
        }
    }
    for (f, field) in model.fields.iter_mut().enumerate() {
        if runs[f] <= 0.0 {
            field.m_source = "default".into();
            model.training.notes.push(format!(
                "{}: in every blocking rule, so EM never sees it disagree; m kept at its default",
                field.name
            ));
            continue;
        }
        field.m_source = "em".into();
        for (level, s) in field.levels.iter_mut().zip(&sums[f]) {
            level.m = (s / runs[f]).max(P_MIN);
        }
        // A true match whose field is outright different (not a typo, transliteration, swapped
        // or partial date) is the exception the default already allows for generously (adoption,
        // a wrong record). EM cannot tell namesakes and siblings that agree on what the blocks
        // fix from matches, and they inflate this m; so "different" never weighs less against a
        // pair than the default says.
        let defaults = default_m(field.kind);
        if let (Some(level), Some(&d)) = (field.levels.last_mut(), defaults.last())
            && level.m > d
        {
            model.training.notes.push(format!(
                "{}: m(different) {:.4} capped at {d}",
                field.name, level.m
            ));
            level.m = d;
        }
    }
    let all: Vec<(u128, f64)> = patterns.iter().map(|&((p, _), c)| (p, c as f64)).collect();
    let lambda = em_lambda_only(model, &all, iterations.max(10), max_matches, all_pairs);
    model.lambda = lambda.clamp(1e-12, 0.999);
    model.training.em_iterations = iterations;
}

/// λ with m and u fixed: the expected number of matches among the candidates (pairs outside them
/// are taken as non-matches) over all pairs. The prior is that of a random pair, as u is.
fn em_lambda_only(
    model: &Model,
    patterns: &[(u128, f64)],
    iterations: u32,
    max_matches: f64,
    all_pairs: f64,
) -> f64 {
    // The Bayes factor of each pattern does not change while m and u are fixed.
    let bf: Vec<(f64, f64)> = patterns
        .iter()
        .map(|&(p, c)| {
            let mut ratio = 1.0;
            for (f, field) in model.fields.iter().enumerate() {
                let l = unpack(p, f);
                if l > 0 {
                    ratio *= field.levels[l - 1].m.max(P_MIN) / field.levels[l - 1].u.max(P_MIN);
                }
            }
            (ratio, c)
        })
        .collect();
    let mut lambda = (max_matches / all_pairs).clamp(1e-12, 0.999);
    for _ in 0..iterations {
        let odds = lambda / (1.0 - lambda);
        let matched: f64 = bf
            .iter()
            .map(|&(r, c)| c * (odds * r) / (1.0 + odds * r))
            .sum();
        // Each record of the smaller table matches at most once.
        lambda = (matched.min(max_matches) / all_pairs).clamp(1e-12, 0.999);
    }
    lambda
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<(String, FieldKind)> {
        vec![
            ("given_name".into(), FieldKind::GivenName),
            ("birth_date".into(), FieldKind::BirthDate),
        ]
    }

    #[test]
    fn json_round_trip_and_checks() {
        let m = Model::with_defaults(&fields());
        let text = m.to_json().unwrap();
        assert_eq!(Model::from_json(&text).unwrap(), m);
        let bad = text.replace(&format!("\"version\": {MODEL_VERSION}"), "\"version\": 99");
        assert!(Model::from_json(&bad).is_err());
        let bad = text.replace("\"exact\"", "\"same\"");
        assert!(Model::from_json(&bad).is_err());
        assert!(Model::from_json("{").is_err());
    }

    #[test]
    fn a_version_3_model_is_upgraded_on_reading() {
        let fields = vec![
            ("given_name".to_string(), FieldKind::GivenName),
            ("doc".to_string(), FieldKind::Identifier),
            ("postcode".to_string(), FieldKind::Exact),
        ];
        let mut v3 = Model::with_defaults(&fields);
        v3.version = 3;
        v3.fields[1].levels = vec![
            LevelModel {
                name: "exact".into(),
                m: 0.9,
                u: 0.0002,
            },
            LevelModel {
                name: "different".into(),
                m: 0.1,
                u: 0.9998,
            },
        ];
        let text = serde_json::to_string(&v3).unwrap();
        let m = Model::from_json(&text).unwrap();
        assert_eq!(m.version, MODEL_VERSION);
        let id = &m.fields[1];
        let names: Vec<&str> = id.levels.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["exact", "one_typo", "different"]);
        let m_sum: f64 = id.levels.iter().map(|l| l.m).sum();
        let u_sum: f64 = id.levels.iter().map(|l| l.u).sum();
        assert!((m_sum - 1.0).abs() < 1e-12 && (u_sum - 1.0).abs() < 1e-12);
        assert_eq!(id.levels[0], v3.fields[1].levels[0], "exact kept");
        // Other kinds are read as they were.
        assert_eq!(m.fields[0], v3.fields[0]);
        assert_eq!(m.fields[2], v3.fields[2]);
        // It scores: the stored training is used rather than thrown away.
        let s = Scorer::new(&m);
        assert!(s.weights[1][2] > 0.0 && s.weights[1][3] < 0.0);
        // Other versions are still refused.
        let v2 = text.replace("\"version\":3", "\"version\":2");
        assert!(Model::from_json(&v2).is_err());
    }

    #[test]
    fn a_version_4_model_gets_the_new_date_levels() {
        let fields = vec![
            ("given_name".to_string(), FieldKind::GivenName),
            ("birth_date".to_string(), FieldKind::BirthDate),
        ];
        let mut v4 = Model::with_defaults(&fields);
        v4.version = 4;
        v4.fields[1].levels.remove(3);
        v4.fields[1].levels.remove(2);
        let m_left: f64 = v4.fields[1].levels[..9].iter().map(|l| l.m).sum();
        let u_left: f64 = v4.fields[1].levels[..9].iter().map(|l| l.u).sum();
        v4.fields[1].levels[9].m = 1.0 - m_left;
        v4.fields[1].levels[9].u = 1.0 - u_left;
        let text = serde_json::to_string(&v4).unwrap();
        let m = Model::from_json(&text).unwrap();
        assert_eq!(m.version, MODEL_VERSION);
        let names: Vec<&str> = m.fields[1].levels.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, DATE_LEVELS);
        let m_sum: f64 = m.fields[1].levels.iter().map(|l| l.m).sum();
        let u_sum: f64 = m.fields[1].levels.iter().map(|l| l.u).sum();
        assert!((m_sum - 1.0).abs() < 1e-9 && (u_sum - 1.0).abs() < 1e-9);
        assert_eq!(m.fields[0], v4.fields[0]);
        let s = Scorer::new(&m);
        assert!(s.weights[1][3] > 0.0, "few days apart is evidence for");
    }

    /// The sibling guard yields to an identifier that agrees or is one typo off, and only then.
    #[test]
    fn one_typo_in_the_identifier_lifts_the_sibling_guard() {
        let fields = vec![
            ("given_name".to_string(), FieldKind::GivenName),
            ("birth_date".to_string(), FieldKind::BirthDate),
            ("doc".to_string(), FieldKind::Identifier),
        ];
        let s = Scorer::new(&Model::with_defaults(&fields));
        let different = 7u8;
        let guarded = s.weight_in_pair(0, &[different, 1, 3], 0.0).0;
        let null_id = s.weight_in_pair(0, &[different, 1, 0], 0.0).0;
        let typo = s.weight_in_pair(0, &[different, 1, 2], 0.0).0;
        let exact = s.weight_in_pair(0, &[different, 1, 1], 0.0).0;
        assert_eq!(guarded, null_id);
        assert!(guarded < -20.0, "{guarded}");
        assert_eq!(typo, exact);
        assert!(typo > guarded + 10.0, "{typo} vs {guarded}");
        // The bound used to skip pairs still covers the lifted weight.
        assert!(s.upper_bounds()[0][7] >= typo);
    }

    /// With the twin rate known, a pair that could be twins weighs the lesser of its evidence
    /// and the cap, smoothly; other pairs keep the guard or their plain weight.
    #[test]
    fn a_pair_that_could_be_twins_is_weighed_against_the_twin_rate() {
        let fields = vec![
            ("given_name".to_string(), FieldKind::GivenName),
            ("birth_date".to_string(), FieldKind::BirthDate),
            ("doc".to_string(), FieldKind::Identifier),
        ];
        let mut m = Model::with_defaults(&fields);
        m.twin_rate = Some(1e-9);
        let s = Scorer::new(&m);
        let different = 7u8;
        let twin_like = [different, 1, 3];
        let cap = s.twin_cap(&twin_like).unwrap();
        let expected = m.prior_weight() + 0.03f64.log2() + 0.07f64.log2() - 1e-9f64.log2();
        assert!((cap - expected).abs() < 1e-9, "{cap} vs {expected}");
        // Unguarded: the given name weighs its raw "different" weight, the pair is capped.
        let raw = s.weight_in_pair(0, &twin_like, 0.0).0;
        assert!(raw > -10.0, "{raw}");
        for w in [-30.0, cap - 5.0, cap, cap + 5.0, 80.0] {
            let adjusted = s.twin_adjusted(&twin_like, w);
            assert!(adjusted <= w.min(cap) + 1e-12, "{w} -> {adjusted}");
            assert!(adjusted >= w.min(cap) - 1.0, "{w} -> {adjusted}");
        }
        assert!((s.twin_adjusted(&twin_like, 80.0) - cap).abs() < 1e-9);
        assert!((s.twin_adjusted(&twin_like, -30.0) + 30.0).abs() < 1e-9);
        // Another birth date, or an agreeing document: not twin-like, nothing changes.
        for levels in [[different, 3, 3], [different, 1, 1], [1, 1, 3]] {
            assert_eq!(s.twin_cap(&levels), None);
            assert_eq!(s.twin_adjusted(&levels, 12.0), 12.0);
        }
        assert!(s.weight_in_pair(0, &[different, 3, 3], 0.0).0 < -20.0);
        // The bound used to skip pairs covers the unguarded weight.
        assert!(s.upper_bounds()[0][7] >= raw);
        // Many twins in the lists: the cap is far below any match.
        m.twin_rate = Some(0.01);
        let s = Scorer::new(&m);
        assert!(s.twin_adjusted(&twin_like, 80.0) < -5.0);
    }

    #[test]
    fn guards() {
        let mut m = Model::with_defaults(&fields());
        // A degenerate fit: exact no better than one_digit.
        m.fields[1].levels[0].m = 0.01;
        let s = Scorer::new(&m);
        let w = &s.weights[1];
        assert!(w[1] > w[2..].iter().copied().fold(f64::MIN, f64::max));
        // Given-name disagreement outweighs everything else.
        let others: f64 = s.weights[1].iter().copied().fold(0.0, f64::max);
        assert!(s.weights[0][7] < -others);
        // A common value's exact agreement still beats any lower level.
        let (common, adj) = s.field_weight(0, 1, 0.5);
        assert!(adj < 0.0);
        assert!(common > s.weights[0][3]);
        let (equiv, _) = s.field_weight(0, 2, 0.5);
        assert!(common > equiv);
    }
}
