//! Linking two encoded lists: block, compare (Dice per field), learn weights by EM, assign.

use super::bits::{Bits, NLEVELS, close_fields, decode, level_of, levels, pattern};
use super::encode::{
    F_DATE, F_FAMILY, F_GIVEN, F_IDENTIFIER, F_PATRONYMIC, F_PLACE, F_SEX, NFIELDS,
};
use super::{EncodedList, Hardening, PprlError, PprlPair};
use crate::features::hash_bytes;
use crate::link::SplitMix;
use crate::model::TF_CLAMP;
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
/// The last two find a child whose family name and date were both written differently.
const RULES: [&[usize]; 7] = [
    &[F_DATE],
    &[F_FAMILY, F_SEX],
    &[F_FAMILY, F_PLACE],
    &[F_GIVEN, F_FAMILY],
    &[F_IDENTIFIER],
    &[F_GIVEN, F_PATRONYMIC],
    &[F_GIVEN, F_PLACE, F_SEX],
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
    let after_given_u = given_identical_u(&a, &b, opts.u_sample, (salted, hardened), &u);
    let model = fit(
        &patterns,
        &u,
        &after_given_u,
        opts.iterations,
        (a.len(), b.len()),
    );
    stats.seconds_fit = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let freq = Frequencies::of(&a, &b);
    let scored: Vec<u32> = patterns.iter().map(|&p| dates_apart(p, hardened)).collect();
    let score = |k: usize| model.score_pair(scored[k], &a[cands[k].0 as usize], &freq);
    let pairs = assign(&cands, &scored, score, opts.threshold, left, right);
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

/// When a pair's dates differ outright (a year written wrong), its names were most likely salted
/// differently: names that still look alike keep that evidence, but names that look different say
/// nothing the date has not said, and count as missing when the pair is scored. (Weights are
/// learnt on the patterns as compared: this only takes away evidence that salting made up.)
#[inline]
fn dates_apart(p: u32, hardened: bool) -> u32 {
    let mut p = p;
    if hardened && level_of(p, F_DATE) == NLEVELS - 1 {
        if level_of(p, F_GIVEN) == NLEVELS - 1 {
            p |= GIVEN_DIFFERS;
        }
        for f in [F_GIVEN, F_PATRONYMIC, F_FAMILY] {
            if level_of(p, f) == NLEVELS - 1 {
                p &= !(7 << (3 * f));
            }
        }
    }
    p
}

/// Set in a pattern whose given names differ but count as missing (see [`unsalted_apart`]):
/// siblings differ in the given name and the date, and the sibling guard must still see them.
const GIVEN_DIFFERS: u32 = 1 << 24;

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
    let mut rng = SplitMix(0x2545_f491_4f6c_dd1d);
    if a.is_empty() || b.is_empty() {
        return [[1.0 / NLEVELS as f64; NLEVELS]; NFIELDS];
    }
    for _ in 0..n {
        let i = rng.below(a.len());
        let j = rng.below(b.len());
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
    normalise(&mut counts);
    counts
}

/// Level 0 (missing) carries no weight; shares are among the present levels.
fn normalise(counts: &mut [[f64; NLEVELS]; NFIELDS]) {
    for c in counts.iter_mut() {
        let total: f64 = c[1..].iter().sum();
        for v in c[1..].iter_mut() {
            *v /= total;
        }
        c[0] = 1.0;
    }
}

/// u of every field among pairs whose given-name filters are identical. Such names were hashed
/// under the same salt (years and family initial), so those pairs agree on the year and the
/// family name's initial more often than random pairs do: counting the other fields with their
/// plain u after an identical given name would count that agreement twice. Drawn as pairs of two
/// records of the larger list with equal given-name filters: two records of one list are two
/// children (a pair across the lists within such a block is too often the same child). The
/// sample starts from `marginal` worth [`U_PRIOR_PAIRS`] pairs, so lists with few such pairs keep
/// the plain u.
fn given_identical_u(
    a: &[Bits],
    b: &[Bits],
    n: usize,
    (salted, hardened): (bool, bool),
    marginal: &[[f64; NLEVELS]; NFIELDS],
) -> [[f64; NLEVELS]; NFIELDS] {
    let list = larger(a, b);
    let mut by_given: HashMap<u64, Vec<u32>> = HashMap::new();
    for (j, r) in list.iter().enumerate() {
        if let Some(k) = rule_key(r, &[F_GIVEN]) {
            by_given.entry(k).or_default().push(j as u32);
        }
    }
    let blocks: Vec<&Vec<u32>> = by_given.values().filter(|v| v.len() > 1).collect();
    // Pairs are drawn in proportion to the pairs each block holds, as random pairs would be.
    let mut cumulative = Vec::with_capacity(blocks.len());
    let mut total = 0u64;
    for v in &blocks {
        let len = v.len() as u64;
        total += len * (len - 1);
        cumulative.push(total);
    }
    let mut counts = marginal.map(|row| row.map(|u| u * U_PRIOR_PAIRS));
    let mut rng = SplitMix(0xd1b5_4a32_d192_ed03);
    for _ in 0..if total == 0 { 0 } else { n } {
        let at = rng.next() % total;
        let block = blocks[cumulative.partition_point(|&c| c <= at)];
        let i = block[rng.below(block.len())] as usize;
        let j = block[rng.below(block.len())] as usize;
        if i == j {
            continue;
        }
        let (x, y) = (&list[i], &list[j]);
        let p = unsalted_apart(adjust(pattern(x, y), salted), x, y, hardened);
        for (f, c) in counts.iter_mut().enumerate() {
            c[level_of(p, f)] += 1.0;
        }
    }
    normalise(&mut counts);
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
    let mut rng = SplitMix(0x9e37_79b9_7f4a_7c15);
    for _ in 0..n {
        let i = rng.below(a.len());
        let Some(block) = rule_key(&a[i], &[F_DATE]).and_then(|k| by_date.get(&k)) else {
            continue;
        };
        let j = block[rng.below(block.len())] as usize;
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
    /// Per field, u of the identical level: what a term-frequency adjustment compares with.
    pub identical_u: [f64; NFIELDS],
    /// The weights of the other fields once the given names are identical (see
    /// [`given_identical_u`]), and their identical level's u.
    pub after_given: [[f64; NLEVELS]; NFIELDS],
    pub after_given_identical_u: [f64; NFIELDS],
}

impl Fitted {
    fn score_adjusted(&self, p: u32, adjustment: f64) -> f64 {
        let given_identical = level_of(p, F_GIVEN) == 1;
        let mut w = self.prior + adjustment;
        for f in 0..NFIELDS {
            let rows = if given_identical && f != F_GIVEN {
                &self.after_given
            } else {
                &self.weights
            };
            w += rows[f][level_of(p, f)];
        }
        1.0 / (1.0 + (-w).exp2())
    }

    /// The pair's probability with the term-frequency adjustment of the fields it has
    /// identical: after an identical given name, a field's frequency is counted among the
    /// records with that given name.
    fn score_pair(&self, p: u32, x: &Bits, freq: &Frequencies) -> f64 {
        let given_identical = level_of(p, F_GIVEN) == 1;
        let mut adjustment = 0.0;
        for &f in &TF_FIELDS {
            if level_of(p, f) != 1 {
                continue;
            }
            let (u, share) = if given_identical && f != F_GIVEN {
                let u = self.after_given_identical_u[f];
                (u, freq.share_after_given(f, x, u))
            } else {
                let u = self.identical_u[f];
                (u, freq.share(f, x, u))
            };
            adjustment += (u.max(1e-9) / share).log2().clamp(-TF_CLAMP, TF_CLAMP);
        }
        self.score_adjusted(p, adjustment)
    }
}

/// Fields whose identical filters are weighed by how common that filter is: an identical
/// filter is an identical (salted) value, whose frequency in the two lists the mediator can
/// count without learning the value, as the clear engine counts names.
const TF_FIELDS: [usize; 4] = [F_GIVEN, F_PATRONYMIC, F_FAMILY, F_PLACE];

/// The larger of the two lists: frequencies and within-list pairs are counted there.
fn larger<'a>(a: &'a [Bits], b: &'a [Bits]) -> &'a [Bits] {
    if b.len() >= a.len() { b } else { a }
}

/// How many records of the larger list have each filter of the [`TF_FIELDS`], alone and
/// together with the record's given-name filter. A pair identical on a field has its partner
/// among those records; the others are the non-matches that would agree as well.
pub(crate) struct Frequencies {
    alone: HashMap<(usize, u64), u32>,
    with_given: HashMap<(usize, u64), u32>,
    records: u32,
}

impl Frequencies {
    fn of(a: &[Bits], b: &[Bits]) -> Frequencies {
        let list = larger(a, b);
        let mut alone: HashMap<(usize, u64), u32> = HashMap::new();
        let mut with_given: HashMap<(usize, u64), u32> = HashMap::new();
        for r in list {
            for f in TF_FIELDS {
                if let Some(k) = rule_key(r, &[f]) {
                    *alone.entry((f, k)).or_default() += 1;
                }
                if let Some(k) = rule_key(r, &[F_GIVEN, f]) {
                    *with_given.entry((f, k)).or_default() += 1;
                }
            }
        }
        Frequencies {
            alone,
            with_given,
            records: u32::try_from(list.len()).unwrap_or(u32::MAX),
        }
    }

    /// Of `of` records other than the pair's partner, the share that `agree` (the partner taken
    /// out of both), shrunk towards u by a prior worth 1/u records holding one agreeing record:
    /// a few records say little about a value's frequency, a thousand say much.
    fn others(agree: u32, of: u32, u: f64) -> f64 {
        let u = u.clamp(1e-9, 1.0);
        f64::from(agree.max(1)) / (f64::from(of.saturating_sub(1)) + 1.0 / u)
    }

    fn count(map: &HashMap<(usize, u64), u32>, f: usize, key: Option<u64>) -> u32 {
        key.and_then(|k| map.get(&(f, k))).copied().unwrap_or(1)
    }

    /// The share of the other records with this record's filter of field f.
    fn share(&self, f: usize, x: &Bits, u: f64) -> f64 {
        Self::others(
            Self::count(&self.alone, f, rule_key(x, &[f])),
            self.records,
            u,
        )
    }

    /// Among the other records with this record's given-name filter, the share that also have
    /// its filter of field f.
    fn share_after_given(&self, f: usize, x: &Bits, u: f64) -> f64 {
        let both = Self::count(&self.with_given, f, rule_key(x, &[F_GIVEN, f]));
        let given = Self::count(&self.alone, F_GIVEN, rule_key(x, &[F_GIVEN]));
        Self::others(both, given, u)
    }
}

/// m where EM cannot see a field disagree, and what each EM step is pulled towards: per level
/// after "missing", the share among matches (identical, close, further, different).
const DEFAULT_M: [f64; NLEVELS - 1] = [0.75, 0.12, 0.06, 0.07];

/// Weight, in pairs, of the pull towards [`DEFAULT_M`] in each EM step (a Beta prior): keeps a
/// small or lopsided block from driving a level's m to 0 or 1; negligible beside thousands.
const M_PRIOR_PAIRS: f64 = 20.0;

/// Weight, in pairs, of the plain u in the u measured after an identical given name.
const U_PRIOR_PAIRS: f64 = 1_000.0;

/// Blocks with fewer candidate pairs than this do not train m.
const MIN_TRAINING_PAIRS: usize = 100;

/// Fellegi–Sunter weights learnt without labels, as the clear engine and Splink learn them: per
/// blocking rule, EM over the pairs that rule selects with the rule's own fields left out (they
/// agree by construction, so EM cannot learn from them), each field's m averaged over the rules
/// that leave it free; u from random pairs. The prior is that of a random pair (u counts what
/// blocking selected for, so the prior must not count it again), from the number of matches EM
/// finds among all candidates with m and u fixed.
fn fit(
    patterns: &[u32],
    u: &[[f64; NLEVELS]; NFIELDS],
    after_given_u: &[[f64; NLEVELS]; NFIELDS],
    iterations: usize,
    sizes: (usize, usize),
) -> Fitted {
    let smaller = sizes.0.min(sizes.1);
    let mut sum = [[0.0f64; NLEVELS]; NFIELDS];
    let mut sessions = [0usize; NFIELDS];
    for rule in RULES {
        let mask = rule.iter().fold(0u32, |m, &f| m | (7 << (3 * f)));
        let selected: Vec<u32> = patterns
            .iter()
            .filter(|&&p| rule.iter().all(|&f| level_of(p, f) == 1))
            .map(|&p| p & !mask)
            .collect();
        if selected.len() < MIN_TRAINING_PAIRS {
            continue;
        }
        let (m, _) = em(&distinct(&selected), u, None, iterations, smaller);
        for f in (0..NFIELDS).filter(|f| !rule.contains(f)) {
            for l in 1..NLEVELS {
                sum[f][l] += m[f][l];
            }
            sessions[f] += 1;
        }
    }
    let mut m = [[0.0f64; NLEVELS]; NFIELDS];
    for f in 0..NFIELDS {
        for l in 1..NLEVELS {
            m[f][l] = if sessions[f] == 0 {
                DEFAULT_M[l - 1]
            } else {
                sum[f][l] / sessions[f] as f64
            };
        }
    }
    let (_, matches) = em(&distinct(patterns), u, Some(&m), iterations, smaller);
    let pairs = (sizes.0 as f64 * sizes.1 as f64).max(1.0);
    let lambda = (matches.max(1.0) / pairs).clamp(1e-12, 0.5);
    Fitted {
        weights: weights_of(&m, u),
        prior: (lambda / (1.0 - lambda)).log2(),
        identical_u: std::array::from_fn(|f| u[f][1]),
        after_given: weights_of(&m, after_given_u),
        after_given_identical_u: std::array::from_fn(|f| after_given_u[f][1]),
    }
}

/// Each distinct pattern with how many pairs have it.
fn distinct(patterns: &[u32]) -> Vec<(u32, f64)> {
    let mut counts: HashMap<u32, f64> = HashMap::new();
    for &p in patterns {
        *counts.entry(p).or_default() += 1.0;
    }
    let mut out: Vec<(u32, f64)> = counts.into_iter().collect();
    out.sort_by_key(|&(p, _)| p);
    out
}

/// EM over patterns with u fixed: m learnt (or, when given, fixed) and λ learnt, λ bounded by
/// one-to-one (no more matches than the smaller list holds). Returns m and the expected number
/// of matches among the pairs.
fn em(
    distinct: &[(u32, f64)],
    u: &[[f64; NLEVELS]; NFIELDS],
    fixed_m: Option<&[[f64; NLEVELS]; NFIELDS]>,
    iterations: usize,
    smaller: usize,
) -> ([[f64; NLEVELS]; NFIELDS], f64) {
    let n: f64 = distinct.iter().map(|&(_, c)| c).sum::<f64>().max(1.0);
    let max_lambda = (smaller as f64 / n).clamp(1e-9, 0.999);
    let mut m = [[1.0f64; NLEVELS]; NFIELDS];
    match fixed_m {
        Some(fixed) => m = *fixed,
        None => m
            .iter_mut()
            .for_each(|row| row[1..].copy_from_slice(&DEFAULT_M)),
    }
    let mut lambda = (0.5 * max_lambda).min(0.3);
    let mut matches = 0.0;
    for _ in 0..iterations {
        let mut acc = [[0.0f64; NLEVELS]; NFIELDS];
        matches = 0.0;
        for &(p, c) in distinct {
            let (mut pm, mut pu) = (lambda, 1.0 - lambda);
            for f in 0..NFIELDS {
                let l = level_of(p, f);
                if l != 0 {
                    pm *= m[f][l];
                    pu *= u[f][l];
                }
            }
            let post = if pm + pu > 0.0 { pm / (pm + pu) } else { 0.0 };
            matches += post * c;
            for (f, row) in acc.iter_mut().enumerate() {
                row[level_of(p, f)] += post * c;
            }
        }
        lambda = (matches / n).clamp(1e-9, max_lambda);
        if fixed_m.is_none() {
            for (row, acc) in m.iter_mut().zip(&acc) {
                let total: f64 = acc[1..].iter().sum::<f64>() + M_PRIOR_PAIRS;
                for l in 1..NLEVELS {
                    row[l] = (acc[l] + M_PRIOR_PAIRS * DEFAULT_M[l - 1]) / total;
                }
            }
        }
    }
    (m, matches.min(smaller as f64))
}

/// log2(m/u) per field and level; an identical value never weighs less than a merely close one.
fn weights_of(
    m: &[[f64; NLEVELS]; NFIELDS],
    u: &[[f64; NLEVELS]; NFIELDS],
) -> [[f64; NLEVELS]; NFIELDS] {
    let mut weights = [[0.0f64; NLEVELS]; NFIELDS];
    for f in 0..NFIELDS {
        for l in 1..NLEVELS {
            weights[f][l] = (m[f][l].max(1e-6) / u[f][l].max(1e-9)).log2();
        }
        for l in 2..NLEVELS {
            if weights[f][l] > weights[f][l - 1] {
                weights[f][l] = weights[f][l - 1];
            }
        }
    }
    weights
}

/// Siblings and twins share everything but the given name, so a pair whose given names are
/// known to differ is never a match unless an identifier agrees (the clear engine's guard).
fn sibling_guard(p: u32) -> bool {
    let different = NLEVELS - 1;
    let id = level_of(p, F_IDENTIFIER);
    (level_of(p, F_GIVEN) == different || p & GIVEN_DIFFERS != 0) && !(id == 1 || id == 2)
}

/// One-to-one, greedily by descending probability (ties by position, for determinism).
fn assign(
    cands: &[(u32, u32)],
    patterns: &[u32],
    score: impl Fn(usize) -> f64 + Sync,
    threshold: f64,
    left: &EncodedList,
    right: &EncodedList,
) -> Vec<PprlPair> {
    let mut scored: Vec<(f64, u32, u32)> = cands
        .par_iter()
        .zip(patterns)
        .enumerate()
        .filter_map(|(k, (&(i, j), &p))| {
            if sibling_guard(p) {
                return None;
            }
            let s = score(k);
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
                n += u64::from(close_fields(levels(x, y)) * 2 > NFIELDS as u32);
            }
            n
        })
        .sum();
    Ok(((a.len() * b.len()) as u64, close))
}

#[cfg(test)]
mod fit_tests {
    use super::*;

    fn pattern_of(levels: &[(usize, u32)]) -> u32 {
        levels.iter().fold(0, |p, &(f, l)| p | (l << (3 * f)))
    }

    fn uniform_u() -> [[f64; NLEVELS]; NFIELDS] {
        let mut u = [[1.0, 0.001, 0.004, 0.015, 0.98]; NFIELDS];
        u[F_DATE] = [1.0, 0.0002, 0.002, 0.02, 0.9778];
        u[F_SEX] = [1.0, 0.5, 0.0, 0.0, 0.5];
        u
    }

    /// 1,000 children on both sides among 24,000 candidates of two blocking rules: the pairs the
    /// date rule brings are mostly children born the same day with other names.
    fn candidates_of_two_rules() -> Vec<u32> {
        let names = [F_GIVEN, F_PATRONYMIC, F_FAMILY, F_PLACE];
        let mut out = Vec::new();
        for k in 0..1000u32 {
            let family = if k % 20 == 0 { 4 } else { 1 };
            out.push(pattern_of(&[
                (F_GIVEN, 1),
                (F_PATRONYMIC, 1),
                (F_FAMILY, family),
                (F_DATE, 1 + u32::from(k % 10 == 0)),
                (F_SEX, 1),
                (F_PLACE, 1),
            ]));
        }
        for k in 0..20_000u32 {
            let mut levels: Vec<(usize, u32)> = names.iter().map(|&f| (f, 4)).collect();
            levels.push((F_DATE, 1));
            levels.push((F_SEX, 1 + 3 * (k % 2)));
            out.push(pattern_of(&levels));
        }
        for k in 0..3_000u32 {
            out.push(pattern_of(&[
                (F_GIVEN, 4),
                (F_PATRONYMIC, 4),
                (F_FAMILY, 1),
                (F_DATE, 4 - (k % 3)),
                (F_SEX, 1),
                (F_PLACE, 4),
            ]));
        }
        out
    }

    #[test]
    fn fit_learns_what_a_disagreement_costs_and_the_prior_of_a_random_pair() {
        let u = uniform_u();
        let model = fit(&candidates_of_two_rules(), &u, &u, 25, (5_000, 100_000));
        // A family name that differs is strong evidence of two children: m about 0.05 (the
        // children whose name changed), u 0.98. EM over all candidates at once put it near 0,
        // because the date rule's same-day strangers became its "matches".
        assert!(
            model.weights[F_FAMILY][4] < -3.0,
            "{:?}",
            model.weights[F_FAMILY]
        );
        assert!(
            model.weights[F_GIVEN][4] < -3.0,
            "{:?}",
            model.weights[F_GIVEN]
        );
        // About 1,000 matches among 5,000 × 100,000 random pairs: log2(1000 / 5e8) ≈ −19.
        assert!(
            (-20.5..-17.5).contains(&model.prior),
            "prior {}",
            model.prior
        );
        let full = pattern_of(&[
            (F_GIVEN, 1),
            (F_PATRONYMIC, 1),
            (F_FAMILY, 1),
            (F_DATE, 1),
            (F_SEX, 1),
            (F_PLACE, 1),
        ]);
        let stranger_same_day = pattern_of(&[
            (F_GIVEN, 4),
            (F_PATRONYMIC, 4),
            (F_FAMILY, 4),
            (F_DATE, 1),
            (F_SEX, 1),
            (F_PLACE, 4),
        ]);
        assert!(model.score_adjusted(full, 0.0) > 0.99);
        assert!(model.score_adjusted(stranger_same_day, 0.0) < 0.01);
    }

    #[test]
    fn names_that_differ_beside_dates_that_differ_say_nothing_but_siblings_stay_apart() {
        let p = pattern_of(&[(F_GIVEN, 4), (F_FAMILY, 4), (F_DATE, 4), (F_IDENTIFIER, 1)]);
        let scored = dates_apart(p, true);
        assert_eq!(level_of(scored, F_GIVEN), 0);
        assert_eq!(level_of(scored, F_FAMILY), 0);
        // A document agrees: not siblings.
        assert!(!sibling_guard(scored));
        // Without a document, a given name that differs still keeps them apart.
        let sibling = pattern_of(&[(F_GIVEN, 4), (F_FAMILY, 1), (F_DATE, 4)]);
        assert!(sibling_guard(dates_apart(sibling, true)));
        // Names that look alike keep their evidence; unhardened names are not salted at all.
        let alike = pattern_of(&[(F_GIVEN, 2), (F_FAMILY, 4), (F_DATE, 4)]);
        assert_eq!(level_of(dates_apart(alike, true), F_GIVEN), 2);
        assert_eq!(dates_apart(p, false), p);
    }

    #[test]
    fn a_common_identical_value_weighs_less_than_a_rare_one_and_a_few_records_say_little() {
        let u = 1e-4;
        let common = Frequencies::others(1_000, 100_000, u);
        let rare = Frequencies::others(2, 100_000, u);
        assert!(common > 20.0 * u, "{common}");
        assert!(rare < u, "{rare}");
        // Three records with a given name, two sharing a family name: far too few to say the
        // family name is common among them.
        let few = Frequencies::others(2, 3, 0.004);
        assert!((0.002..0.008).contains(&few), "{few}");
    }

    fn record(given: u64, family: u64) -> Bits {
        let mut b = Bits::empty();
        for (f, v) in [(F_GIVEN, given), (F_FAMILY, family)] {
            b.set_field(f, &[v]);
        }
        b
    }

    #[test]
    fn after_an_identical_given_name_the_family_name_agrees_more_often() {
        // 100 given names; half the children of a given name share one family name (as the
        // salt shares the family initial), the others have their own.
        let spread = |x: u64| x.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let list: Vec<Bits> = (0..4_000u64)
            .map(|i| {
                let g = spread(i % 100);
                let f = if i % 2 == 0 {
                    spread(1_000 + i % 100)
                } else {
                    spread(10_000 + i)
                };
                record(g, f)
            })
            .collect();
        let marginal = estimate_u(&list, &list, 50_000, false, false);
        let after = given_identical_u(&list, &list, 50_000, (false, false), &marginal);
        assert!(
            after[F_FAMILY][1] > 20.0 * marginal[F_FAMILY][1],
            "after {:?} marginal {:?}",
            after[F_FAMILY],
            marginal[F_FAMILY]
        );
    }
}
