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
}

impl Bits {
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
            let mut b = Bits {
                words: [0; WORDS],
                pops: [0; NFIELDS],
                present: 0,
            };
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
                let dest = &mut b.words[OFFSETS[f]..OFFSETS[f] + FIELDS[f].words];
                for (w, chunk) in dest.iter_mut().zip(bytes.chunks_exact(8)) {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(chunk);
                    *w = u64::from_le_bytes(a);
                }
                let pop: u32 = dest.iter().map(|w| w.count_ones()).sum();
                b.pops[f] = pop as u16;
                b.present |= 1 << f;
            }
            Ok(b)
        })
        .collect()
}

/// Dice similarity levels of each field of a pair, packed 3 bits per field (field f at bits
/// 3f..3f+3): 0 = missing on either side, then 1 (identical) to [`NLEVELS`] − 1 (different).
/// Branch-free: this is the loop every compared pair goes through.
#[inline]
pub(crate) fn pattern(a: &Bits, b: &Bits) -> u32 {
    let mut inter = [0u32; NFIELDS];
    for k in 0..WORDS {
        inter[FIELD_OF_WORD[k]] += (a.words[k] & b.words[k]).count_ones();
    }
    let both = a.present & b.present;
    let mut out = 0u32;
    for f in 0..NFIELDS {
        let total = u32::from(a.pops[f]) + u32::from(b.pops[f]);
        // dice ≥ t/20  ⇔  40·inter ≥ t·total
        let lhs = 40 * inter[f];
        let [t1, t2, t3] = THRESHOLDS[f];
        let level = 1
            + u32::from(lhs < t1 * total)
            + u32::from(lhs < t2 * total)
            + u32::from(lhs < t3 * total);
        let present = u32::from((both >> f) & 1 == 1 && total > 0);
        out |= (present * level) << (3 * f);
    }
    out
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
