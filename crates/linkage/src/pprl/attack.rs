//! A frequency alignment attack on one encoded field (Kuzu et al. 2011; Christen et al. 2018
//! describe it and its refinements): the attacker groups identical encodings, ranks the groups
//! by size, and takes the group of rank r to be the name of rank r in a public frequency list.

use std::collections::HashMap;

/// What the attack achieved on one field.
#[derive(Clone, Debug, PartialEq)]
pub struct AttackReport {
    /// Records that have the field.
    pub records: usize,
    /// Distinct encodings among them.
    pub distinct_encodings: usize,
    /// Records whose name the attack guessed right.
    pub reidentified: usize,
    /// `reidentified / records` (0 when there are none).
    pub share: f64,
}

/// Runs the attack. `encoded[i]` is record i's encoding of the field (any text; identical text
/// is an identical encoding), `truth[i]` its true name in the public list's form (used only to
/// score the attack), `public` the attacker's knowledge: names with frequencies.
pub fn frequency_attack(
    encoded: &[Option<&str>],
    truth: &[Option<&str>],
    public: &[(String, f64)],
) -> AttackReport {
    let mut groups: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, e) in encoded.iter().enumerate() {
        if let Some(e) = e {
            groups.entry(e).or_default().push(i);
        }
    }
    let records: usize = groups.values().map(Vec::len).sum();
    let mut ranked: Vec<Vec<usize>> = groups.into_values().collect();
    // Largest first; equal sizes in order of first appearance, so that the result is stable.
    ranked.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    let mut names: Vec<&(String, f64)> = public.iter().collect();
    names.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut reidentified = 0;
    for (group, (name, _)) in ranked.iter().zip(names) {
        reidentified += group
            .iter()
            .filter(|&&i| truth.get(i).copied().flatten() == Some(name.as_str()))
            .count();
    }
    AttackReport {
        records,
        distinct_encodings: ranked.len(),
        reidentified,
        share: if records == 0 {
            0.0
        } else {
            reidentified as f64 / records as f64
        },
    }
}
