//! Linking two encoded lists: block, compare (Dice per field), learn weights by EM, assign.

use super::bits::{Bits, NLEVELS, decode, level_of, pattern};
use super::encode::{
    F_DATE, F_FAMILY, F_GIVEN, F_IDENTIFIER, F_PATRONYMIC, F_PLACE, F_SEX, NFIELDS,
};
use super::{EncodedList, Hardening, PprlError, PprlPair};
use crate::features::hash_bytes;
use rayon::prelude::*;
use std::collections::HashMap;
use std::time::Instant;

/// Options of [`link_encoded`].
#[derive(Clone, Debug)]
pub struct PprlOptions {
    /// Match probability from which a pair is in the mapping.
    pub threshold: f64,
    /// EM iterations.
    pub iterations: usize,
    /// Random pairs sampled to estimate how often non-matches agree (u).
    pub u_sample: usize,
}

impl Default for PprlOptions {
    fn default() -> Self {
        PprlOptions {
            threshold: 0.9,
            iterations: 25,
            u_sample: 300_000,
        }
    }
}

/// Counts and times of one linkage, for the benchmark.
#[derive(Clone, Debug, Default)]
pub struct LinkStats {
    pub candidates: usize,
    pub seconds_decode: f64,
    pub seconds_block: f64,
    pub seconds_compare: f64,
    pub seconds_fit: f64,
    pub seconds_assign: f64,
}

/// Blocking rules: the fields whose filters must be identical. A rule applies to a record that
/// has all of its fields.
const RULES: [&[usize]; 5] = [
    &[F_DATE],
    &[F_FAMILY, F_SEX],
    &[F_FAMILY, F_PLACE],
    &[F_GIVEN, F_FAMILY],
    &[F_IDENTIFIER],
];

/// A block larger than this many records (on the right) is skipped for that rule: a key so
/// common says little, and the other rules still see its pairs.
const MAX_BLOCK: usize = 5_000;

/// Links two encoded lists; the mapping is one-to-one, best pairs first.
pub fn link_encoded(
    left: &EncodedList,
    right: &EncodedList,
    opts: &PprlOptions,
) -> Result<Vec<PprlPair>, PprlError> {
    link_encoded_with_stats(left, right, opts).map(|(p, _)| p)
}

/// [`link_encoded`] with counts and times.
pub fn link_encoded_with_stats(
    left: &EncodedList,
    right: &EncodedList,
    opts: &PprlOptions,
) -> Result<(Vec<PprlPair>, LinkStats), PprlError> {
    check_options(opts)?;
    left.validate()?;
    right.validate()?;
    check_compatible(left, right)?;
    let hardening = Hardening::parse(&left.hardening)?;
    let mut stats = LinkStats::default();
    let t = Instant::now();
    let (a, b) = (decode(left)?, decode(right)?);
    stats.seconds_decode = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let cands = candidates(&a, &b);
    stats.candidates = cands.len();
    stats.seconds_block = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let salted = hardening == Hardening::SaltDate;
    let hardened = hardening != Hardening::None;
    let patterns: Vec<u32> = cands
        .par_iter()
        .map(|&(i, j)| {
            let (x, y) = (&a[i as usize], &b[j as usize]);
            unsalted_apart(adjust(pattern(x, y), salted), x, y, hardened)
        })
        .collect();
    stats.seconds_compare = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let u = estimate_u(&a, &b, opts.u_sample, salted, hardened);
    let model = fit(&patterns, &u, opts.iterations, a.len().min(b.len()));
    stats.seconds_fit = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let pairs = assign(&cands, &patterns, &model, opts.threshold, left, right);
    stats.seconds_assign = t.elapsed().as_secs_f64();
    Ok((pairs, stats))
}

fn check_options(opts: &PprlOptions) -> Result<(), PprlError> {
    if !(opts.threshold > 0.0 && opts.threshold < 1.0) {
        return Err(PprlError::Options(format!(
            "threshold {} is not a probability strictly between 0 and 1",
            opts.threshold
        )));
    }
    if opts.u_sample == 0 {
        return Err(PprlError::Options("u_sample must be at least 1".into()));
    }
    Ok(())
}

fn check_compatible(left: &EncodedList, right: &EncodedList) -> Result<(), PprlError> {
    if left.key_id != right.key_id {
        return Err(PprlError::KeyMismatch {
            left: left.key_id.clone(),
            right: right.key_id.clone(),
        });
    }
    if left.hardening != right.hardening {
        return Err(PprlError::HardeningMismatch {
            left: left.hardening.clone(),
            right: right.hardening.clone(),
        });
    }
    Ok(())
}

/// With names salted by the date of birth, names of two records whose dates differ were hashed
/// under different salts: their similarity means nothing, so they count as missing.
#[inline]
fn adjust(p: u32, salted: bool) -> u32 {
    if salted && level_of(p, F_DATE) != 1 {
        p & !(7 << (3 * F_GIVEN)) & !(7 << (3 * F_PATRONYMIC))
    } else {
        p
    }
}

/// With hardening, the names' salts come from other fields (`homeward-pprl/2`: the date of birth
/// for the three names, the family name's initial for the given name and patronymic). When such a
/// field is present in one record and missing in the other, the two were salted differently for
/// certain, so the names' similarity means nothing: they count as missing.
#[inline]
fn unsalted_apart(p: u32, a: &Bits, b: &Bits, hardened: bool) -> u32 {
    if !hardened {
        return p;
    }
    let one_sided = |f: usize| (a.present ^ b.present) & (1 << f) != 0;
    let mut p = p;
    if one_sided(F_DATE) {
        p &= !(7 << (3 * F_FAMILY));
    }
    if one_sided(F_DATE) || one_sided(F_FAMILY) {
        p &= !(7 << (3 * F_GIVEN)) & !(7 << (3 * F_PATRONYMIC));
    }
    p
}

fn rule_key(r: &Bits, fields: &[usize]) -> Option<u64> {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &f in fields {
        if r.present & (1 << f) == 0 {
            return None;
        }
        for w in r.field(f) {
            h = hash_bytes(&(h ^ w).to_le_bytes());
        }
    }
    Some(h)
}

/// Candidate pairs (left index, right index), each once, sorted.
fn candidates(a: &[Bits], b: &[Bits]) -> Vec<(u32, u32)> {
    let indexes: Vec<HashMap<u64, Vec<u32>>> = RULES
        .par_iter()
        .map(|fields| {
            let mut m: HashMap<u64, Vec<u32>> = HashMap::new();
            for (j, r) in b.iter().enumerate() {
                if let Some(k) = rule_key(r, fields) {
                    m.entry(k).or_default().push(j as u32);
                }
            }
            m.retain(|_, v| v.len() <= MAX_BLOCK);
            m
        })
        .collect();
    a.par_iter()
        .enumerate()
        .flat_map_iter(|(i, r)| {
            let mut js: Vec<u32> = Vec::new();
            for (fields, index) in RULES.iter().zip(&indexes) {
                if let Some(v) = rule_key(r, fields).and_then(|k| index.get(&k)) {
                    js.extend_from_slice(v);
                }
            }
            js.sort_unstable();
            js.dedup();
            js.into_iter().map(move |j| (i as u32, j))
        })
        .collect()
}

/// Per field and level, the share of random pairs at that level (u), from a seeded sample.
fn estimate_u(
    a: &[Bits],
    b: &[Bits],
    n: usize,
    salted: bool,
    hardened: bool,
) -> [[f64; NLEVELS]; NFIELDS] {
    let mut counts = [[1.0f64; NLEVELS]; NFIELDS];
    let mut s: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    if a.is_empty() || b.is_empty() {
        return [[1.0 / NLEVELS as f64; NLEVELS]; NFIELDS];
    }
    for _ in 0..n {
        let i = (next() % a.len() as u64) as usize;
        let j = (next() % b.len() as u64) as usize;
        let p = unsalted_apart(
            adjust(pattern(&a[i], &b[j]), salted),
            &a[i],
            &b[j],
            hardened,
        );
        for (f, c) in counts.iter_mut().enumerate() {
            c[level_of(p, f)] += 1.0;
        }
    }
    if salted {
        salted_u(a, b, n, &mut counts);
    }
    for c in counts.iter_mut() {
        // Level 0 (missing) carries no weight; shares are among the present levels.
        let total: f64 = c[1..].iter().sum();
        for v in c[1..].iter_mut() {
            *v /= total;
        }
        c[0] = 1.0;
    }
    counts
}

/// Names salted with the date of birth are compared only between records born the same day, so
/// their u is measured on random pairs of such records: the given name and patronymic counts are
/// replaced by those of random pairs drawn within equal date filters.
fn salted_u(a: &[Bits], b: &[Bits], n: usize, counts: &mut [[f64; NLEVELS]; NFIELDS]) {
    let mut by_date: HashMap<u64, Vec<u32>> = HashMap::new();
    for (j, r) in b.iter().enumerate() {
        if let Some(k) = rule_key(r, &[F_DATE]) {
            by_date.entry(k).or_default().push(j as u32);
        }
    }
    for f in [F_GIVEN, F_PATRONYMIC] {
        counts[f] = [1.0; NLEVELS];
    }
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    for _ in 0..n {
        let i = (next() % a.len() as u64) as usize;
        let Some(block) = rule_key(&a[i], &[F_DATE]).and_then(|k| by_date.get(&k)) else {
            continue;
        };
        let j = block[(next() % block.len() as u64) as usize] as usize;
        let p = pattern(&a[i], &b[j]);
        for f in [F_GIVEN, F_PATRONYMIC] {
            counts[f][level_of(p, f)] += 1.0;
        }
    }
}

/// The fitted model: per field and level, the weight in bits; and the prior in bits.
#[derive(Debug)]
pub(crate) struct Fitted {
    pub weights: [[f64; NLEVELS]; NFIELDS],
    pub prior: f64,
}

impl Fitted {
    fn score(&self, p: u32) -> f64 {
        let mut w = self.prior;
        for (f, row) in self.weights.iter().enumerate() {
            w += row[level_of(p, f)];
        }
        1.0 / (1.0 + (-w).exp2())
    }
}

/// EM over the distinct patterns of the candidate pairs (u fixed, m and λ learnt), as the clear
/// engine and Splink do. λ is bounded by one-to-one: no more matches than the smaller list holds.
fn fit(
    patterns: &[u32],
    u: &[[f64; NLEVELS]; NFIELDS],
    iterations: usize,
    smaller: usize,
) -> Fitted {
    let mut counts: HashMap<u32, f64> = HashMap::new();
    for &p in patterns {
        *counts.entry(p).or_default() += 1.0;
    }
    let distinct: Vec<(u32, f64)> = counts.into_iter().collect();
    let n: f64 = patterns.len().max(1) as f64;
    let max_lambda = (smaller as f64 / n).clamp(1e-9, 0.999);
    // Starting m: the best level most likely among matches.
    let mut m = [[0.0f64; NLEVELS]; NFIELDS];
    for row in m.iter_mut() {
        let start = [1.0, 0.75, 0.12, 0.06, 0.07];
        row.copy_from_slice(&start[..NLEVELS]);
    }
    let mut lambda = (0.5 * max_lambda).min(0.3);
    for _ in 0..iterations {
        let mut m_acc = [[1e-6f64; NLEVELS]; NFIELDS];
        let mut matches = 0.0;
        for &(p, c) in &distinct {
            let (mut pm, mut pu) = (lambda, 1.0 - lambda);
            for f in 0..NFIELDS {
                let l = level_of(p, f);
                if l == 0 {
                    continue;
                }
                pm *= m[f][l];
                pu *= u[f][l];
            }
            let post = if pm + pu > 0.0 { pm / (pm + pu) } else { 0.0 };
            matches += post * c;
            for (f, acc) in m_acc.iter_mut().enumerate() {
                acc[level_of(p, f)] += post * c;
            }
        }
        lambda = (matches / n).clamp(1e-9, max_lambda);
        for (row, acc) in m.iter_mut().zip(&m_acc) {
            let total: f64 = acc[1..].iter().sum();
            for l in 1..NLEVELS {
                row[l] = acc[l] / total;
            }
        }
    }
    let mut weights = [[0.0f64; NLEVELS]; NFIELDS];
    for f in 0..NFIELDS {
        for l in 1..NLEVELS {
            weights[f][l] = (m[f][l].max(1e-6) / u[f][l].max(1e-9)).log2();
        }
        // An identical value never weighs less than a merely close one.
        for l in 2..NLEVELS {
            if weights[f][l] > weights[f][l - 1] {
                weights[f][l] = weights[f][l - 1];
            }
        }
    }
    Fitted {
        weights,
        prior: (lambda / (1.0 - lambda)).log2(),
    }
}

/// Siblings and twins share everything but the given name, so a pair whose given names are
/// known to differ is never a match unless an identifier agrees (the clear engine's guard).
fn sibling_guard(p: u32) -> bool {
    let different = NLEVELS - 1;
    let id = level_of(p, F_IDENTIFIER);
    level_of(p, F_GIVEN) == different && !(id == 1 || id == 2)
}

/// One-to-one, greedily by descending probability (ties by position, for determinism).
fn assign(
    cands: &[(u32, u32)],
    patterns: &[u32],
    model: &Fitted,
    threshold: f64,
    left: &EncodedList,
    right: &EncodedList,
) -> Vec<PprlPair> {
    let mut scored: Vec<(f64, u32, u32)> = cands
        .iter()
        .zip(patterns)
        .filter_map(|(&(i, j), &p)| {
            if sibling_guard(p) {
                return None;
            }
            let s = model.score(p);
            (s >= threshold).then_some((s, i, j))
        })
        .collect();
    scored.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let mut used_l = vec![false; left.records.len()];
    let mut used_r = vec![false; right.records.len()];
    let mut out = Vec::new();
    for (s, i, j) in scored {
        let (i, j) = (i as usize, j as usize);
        if used_l[i] || used_r[j] {
            continue;
        }
        used_l[i] = true;
        used_r[j] = true;
        out.push(PprlPair {
            left: left.records[i].reference.clone(),
            right: right.records[j].reference.clone(),
            score: s,
        });
    }
    out
}

/// Compares every record of `left` with every record of `right` (the comparison loop alone, for
/// measuring comparisons per second against other tools' all-pairs Dice), and counts the pairs
/// whose mean per-field Dice level is at least "close". Runs on the current rayon pool.
pub fn dice_all_pairs(left: &EncodedList, right: &EncodedList) -> Result<(u64, u64), PprlError> {
    let (a, b) = (decode(left)?, decode(right)?);
    let close = a
        .par_iter()
        .map(|x| {
            let mut n = 0u64;
            for y in &b {
                let p = pattern(x, y);
                let mut good = 0;
                for f in 0..NFIELDS {
                    let l = level_of(p, f);
                    if l == 1 || l == 2 {
                        good += 1;
                    }
                }
                n += u64::from(good * 2 > NFIELDS);
            }
            n
        })
        .sum();
    Ok(((a.len() * b.len()) as u64, close))
}
