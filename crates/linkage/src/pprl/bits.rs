//! Encoded lists decoded into fixed-size bitsets, for the comparison loop.

use super::encode::{F_DATE, FIELDS, NFIELDS, WORDS};
use super::{EncodedList, PprlError};
use base64::Engine as _;

/// Word offset of each field within a record's bitset.
pub(crate) const OFFSETS: [usize; NFIELDS] = {
    let mut out = [0; NFIELDS];
    let mut i = 1;
    while i < NFIELDS {
        out[i] = out[i - 1] + FIELDS[i - 1].words;
        i += 1;
    }
    out
};

/// One record: all its fields' filters in one array, each field's bit count (0 = missing).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bits {
    pub words: [u64; WORDS],
    pub pops: [u16; NFIELDS],
    /// Bit f set when field f is present.
    pub present: u8,
    /// The same counts as lanes for [`levels`] (see [`Lanes`]): per threshold of
    /// [`THRESHOLDS`], each field's threshold times its bit count.
    pub scaled: [Lanes; NLEVELS - 2],
    /// 0xffff in a field's lane when the field is present with bits set.
    pub lane_mask: Lanes,
}

/// Eight 16-bit lanes, one per field, in two words: fields 0–3 in the first, 4–7 in the second,
/// lane `f % 4` at bits `16 (f % 4)`. A pair's eight Dice levels are computed all at once in
/// these lanes with ordinary integer operations: every value stays below 2¹⁵ (at most
/// 40 · 128 or 20 · 256), so the top bit of each lane is free to catch a borrow.
pub(crate) type Lanes = [u64; 2];

const LANE_TOP: u64 = 0x8000_8000_8000_8000;
const LANE_ONE: u64 = 0x0001_0001_0001_0001;

const fn lane_shift(f: usize) -> u32 {
    16 * (f % 4) as u32
}

impl Bits {
    /// A record with no field present.
    pub(crate) fn empty() -> Bits {
        Bits {
            words: [0; WORDS],
            pops: [0; NFIELDS],
            present: 0,
            scaled: [[0; 2]; NLEVELS - 2],
            lane_mask: [0; 2],
        }
    }

    /// Sets field f from its filter's words.
    pub(crate) fn set_field(&mut self, f: usize, words: &[u64]) {
        let dest = &mut self.words[OFFSETS[f]..OFFSETS[f] + FIELDS[f].words];
        for (d, w) in dest.iter_mut().zip(words) {
            *d = *w;
        }
        let pop: u32 = dest.iter().map(|w| w.count_ones()).sum();
        self.pops[f] = pop as u16;
        self.present |= 1 << f;
        let (group, shift) = (f / 4, lane_shift(f));
        for (k, scaled) in self.scaled.iter_mut().enumerate() {
            scaled[group] |= u64::from(THRESHOLDS[f][k] * pop) << shift;
        }
        if pop > 0 {
            self.lane_mask[group] |= 0xffff << shift;
        }
    }

    pub fn field(&self, f: usize) -> &[u64] {
        &self.words[OFFSETS[f]..OFFSETS[f] + FIELDS[f].words]
    }
}

/// Decodes every record of a validated list.
pub(crate) fn decode(list: &EncodedList) -> Result<Vec<Bits>, PprlError> {
    list.records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut b = Bits::empty();
            for (f, value) in r.fields.iter().enumerate().take(NFIELDS) {
                let Some(text) = value else { continue };
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|e| PprlError::MalformedRecord {
                        record: i,
                        reference: r.reference.clone(),
                        field: FIELDS[f].name.to_string(),
                        message: format!("not base64: {e}"),
                    })?;
                let words: Vec<u64> = bytes
                    .chunks_exact(8)
                    .map(|chunk| {
                        let mut a = [0u8; 8];
                        a.copy_from_slice(chunk);
                        u64::from_le_bytes(a)
                    })
                    .collect();
                b.set_field(f, &words);
            }
            Ok(b)
        })
        .collect()
}

/// Dice similarity levels of each field of a pair, packed 3 bits per field (field f at bits
/// 3f..3f+3): 0 = missing on either side (absent, or a filter without a bit set), then 1 (identical) to [`NLEVELS`] − 1 (different).
#[inline]
pub(crate) fn pattern(a: &Bits, b: &Bits) -> u32 {
    let lanes = levels(a, b);
    let mut out = 0u32;
    for f in 0..NFIELDS {
        out |= (((lanes[f / 4] >> lane_shift(f)) & 7) as u32) << (3 * f);
    }
    out
}

/// The levels of [`pattern`], one per lane (see [`Lanes`]). Branch-free: this is the loop every
/// compared pair goes through. dice ≥ t/20 ⇔ 40·inter ≥ t·total, so a level is one more than the
/// number of thresholds with 40·inter < t·(pops_a + pops_b), and each threshold is tested in
/// every lane at once: (t·total | top) − (40·inter + 1) keeps a lane's top bit exactly when
/// t·total > 40·inter.
#[inline]
pub(crate) fn levels(a: &Bits, b: &Bits) -> Lanes {
    let mut inter = [0u64; 2];
    for ((x, y), &f) in a.words.iter().zip(&b.words).zip(&FIELD_OF_WORD) {
        inter[f / 4] += u64::from((x & y).count_ones()) << lane_shift(f);
    }
    let mut out = [0u64; 2];
    for g in 0..2 {
        let lhs = inter[g] * 40 + LANE_ONE;
        let mut level = LANE_ONE;
        for k in 0..NLEVELS - 2 {
            let t = a.scaled[k][g] + b.scaled[k][g];
            level += (((t | LANE_TOP) - lhs) & LANE_TOP) >> 15;
        }
        out[g] = level & a.lane_mask[g] & b.lane_mask[g];
    }
    out
}

/// How many fields of a pair's lanes are identical or close (level 1 or 2: low bits 001 or 010),
/// all fields at once.
#[inline]
pub(crate) fn close_fields(lanes: Lanes) -> u32 {
    lanes
        .iter()
        .map(|&p| ((p ^ (p >> 1)) & !(p >> 2) & LANE_ONE).count_ones())
        .sum()
}

/// The field each word of a record's bitset belongs to.
const FIELD_OF_WORD: [usize; WORDS] = {
    let mut out = [0; WORDS];
    let mut f = 0;
    while f < NFIELDS {
        let mut k = 0;
        while k < FIELDS[f].words {
            out[OFFSETS[f] + k] = f;
            k += 1;
        }
        f += 1;
    }
    out
};

/// Per field, the Dice thresholds (in twentieths) of the levels after "missing": identical,
/// then close, then further; below the last, different. A date's filter holds its year, month,
/// day and their combinations, so a date written one year off keeps about 0.64 of its bits and
/// one with the day or month wrong about half: its levels sit lower than the names'.
pub(crate) const THRESHOLDS: [[u32; NLEVELS - 2]; NFIELDS] = {
    let mut t = [[20, 17, 13]; NFIELDS];
    t[F_DATE] = [20, 12, 9];
    t
};
pub(crate) const NLEVELS: usize = 5;

/// The level (0 = missing) of field f in a pattern.
#[inline]
pub(crate) fn level_of(pattern: u32, f: usize) -> usize {
    ((pattern >> (3 * f)) & 7) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The levels as the Dice formula states them, one field at a time.
    fn reference(a: &Bits, b: &Bits) -> [usize; NFIELDS] {
        std::array::from_fn(|f| {
            let inter: u32 = a
                .field(f)
                .iter()
                .zip(b.field(f))
                .map(|(x, y)| (x & y).count_ones())
                .sum();
            let total = u32::from(a.pops[f]) + u32::from(b.pops[f]);
            // A filter with no bit set carries nothing: missing, like an absent field.
            if a.present & b.present & (1 << f) == 0 || a.pops[f] == 0 || b.pops[f] == 0 {
                return 0;
            }
            let dice = 2.0 * f64::from(inter) / f64::from(total);
            1 + THRESHOLDS[f]
                .iter()
                .filter(|&&t| dice < f64::from(t) / 20.0)
                .count()
        })
    }

    /// A record from raw words: dense, sparse (a few bits) or missing fields, so that every level
    /// occurs, including identical filters and filters one bit apart.
    fn record() -> impl Strategy<Value = Bits> {
        (
            prop::collection::vec(any::<u64>(), WORDS),
            prop::collection::vec(0u8..4, NFIELDS),
        )
            .prop_map(|(words, kinds)| {
                let mut b = Bits::empty();
                for f in 0..NFIELDS {
                    let field: Vec<u64> = words[OFFSETS[f]..OFFSETS[f] + FIELDS[f].words]
                        .iter()
                        .map(|&w| match kinds[f] {
                            0 => w,
                            1 => w & (w >> 1) & (w >> 2),
                            _ => 0xff00_ff00_ff00_ff00 ^ (w & 0x11),
                        })
                        .collect();
                    if kinds[f] != 3 {
                        b.set_field(f, &field);
                    }
                }
                b
            })
    }

    /// Two records, the second the first with a few bits moved (about 1 in 16, 1 in 256 or none
    /// per field): pairs at every level near the thresholds.
    fn near_pair() -> impl Strategy<Value = (Bits, Bits)> {
        (
            record(),
            prop::collection::vec(any::<[u64; 4]>(), WORDS),
            prop::collection::vec(0u8..3, NFIELDS),
        )
            .prop_map(|(a, noise, rates)| {
                let mut b = Bits::empty();
                for f in (0..NFIELDS).filter(|f| a.present & (1 << f) != 0) {
                    let words: Vec<u64> = (OFFSETS[f]..OFFSETS[f] + FIELDS[f].words)
                        .map(|k| {
                            let [w, x, y, z] = noise[k];
                            let flip = match rates[f] {
                                0 => w & x & y & z,
                                1 => w & x & y & z & (w >> 7) & (x >> 13) & (y >> 3) & (z >> 29),
                                _ => 0,
                            };
                            a.words[k] ^ flip
                        })
                        .collect();
                    b.set_field(f, &words);
                }
                (a, b)
            })
    }

    proptest! {
        #[test]
        fn near_pairs_agree_with_the_dice_formula((a, b) in near_pair()) {
            let expected = reference(&a, &b);
            let p = pattern(&a, &b);
            for (f, &level) in expected.iter().enumerate() {
                prop_assert_eq!(level_of(p, f), level, "field {}", f);
            }
        }

        #[test]
        fn lanes_agree_with_the_dice_formula(a in record(), b in record()) {
            let expected = reference(&a, &b);
            let p = pattern(&a, &b);
            for (f, &level) in expected.iter().enumerate() {
                prop_assert_eq!(level_of(p, f), level, "field {}", f);
            }
            let close = expected.iter().filter(|&&l| l == 1 || l == 2).count();
            prop_assert_eq!(close_fields(levels(&a, &b)) as usize, close);
            // A record against itself: every present field identical.
            let own = pattern(&a, &a);
            for f in 0..NFIELDS {
                let present = a.present & (1 << f) != 0 && a.pops[f] > 0;
                prop_assert_eq!(level_of(own, f), usize::from(present), "field {}", f);
            }
        }
    }
}
