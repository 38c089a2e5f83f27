//! Where recall is lost on generator 1, by kind of variation: for every variation the generator
//! applied to a true pair (either side), how many such pairs there are, how many `link` matched,
//! how many it put in the review band, and how many blocking never compared. Issue 13 asks that
//! the engine be improved on generator 1's own misses, never on generator 2's.

use super::synth::Lists;
use homeward_linkage::{Decision, LinkOutput, Table, default_rules, row_keys};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

/// Counts for one variation.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub pairs: usize,
    pub matched: usize,
    pub review: usize,
    pub not_compared: usize,
}

/// The tally per variation tag; `(none)` counts the true pairs with no variation at all, and
/// `(all)` every true pair.
pub fn tally(
    lists: &Lists,
    left: &Table,
    right: &Table,
    out: &LinkOutput,
) -> BTreeMap<String, Tally> {
    let decided: HashMap<(usize, usize), Decision> = out
        .pairs
        .iter()
        .map(|p| ((p.left, p.right), p.decision))
        .collect();
    let rules = default_rules();
    let (lk, rk) = (row_keys(left, &rules), row_keys(right, &rules));
    let mut by: BTreeMap<String, Tally> = BTreeMap::new();
    for &(i, j) in &lists.truth {
        let (i, j) = (i as usize, j as usize);
        let decision = decided.get(&(i, j)).copied();
        let compared = lk[i].iter().any(|k| rk[j].binary_search(k).is_ok());
        let mut tags: Vec<String> = lists.left[i]
            .notes
            .iter()
            .map(|t| (*t).to_string())
            .chain(lists.right[j].notes.iter().map(|t| (*t).to_string()))
            .collect();
        if tags.is_empty() {
            tags.push("(none)".into());
        }
        tags.push("(all)".into());
        tags.sort();
        tags.dedup();
        for t in tags {
            let e = by.entry(t).or_default();
            e.pairs += 1;
            match decision {
                Some(Decision::Match) => e.matched += 1,
                Some(_) => e.review += 1,
                None => {}
            }
            if !compared {
                e.not_compared += 1;
            }
        }
    }
    by
}

/// The tally as text, worst recall first, for the kept directory and the terminal.
pub fn render(by: &BTreeMap<String, Tally>) -> String {
    let mut rows: Vec<(&String, &Tally)> = by.iter().collect();
    rows.sort_by(|a, b| recall(a.1).total_cmp(&recall(b.1)));
    let mut text = format!(
        "{:<24} {:>7} {:>7} {:>7} {:>9} {:>12}\n",
        "variation", "pairs", "recall", "missed", "in review", "not compared"
    );
    for (tag, t) in rows {
        text.push_str(&format!(
            "{:<24} {:>7} {:>7.4} {:>7} {:>9} {:>12}\n",
            tag,
            t.pairs,
            recall(t),
            t.pairs - t.matched,
            t.review,
            t.not_compared
        ));
    }
    text
}

pub fn to_json(by: &BTreeMap<String, Tally>) -> Value {
    by.iter()
        .map(|(tag, t)| {
            (
                tag.clone(),
                json!({"pairs": t.pairs, "matched": t.matched, "review": t.review,
                       "not_compared": t.not_compared}),
            )
        })
        .collect::<serde_json::Map<String, Value>>()
        .into()
}

fn recall(t: &Tally) -> f64 {
    t.matched as f64 / t.pairs.max(1) as f64
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::bench::synth::{Rates, generate};
    use crate::link_cmd::recognise_header;
    use homeward_linkage::{FieldKind, LinkConfig, link};

    fn table(records: &[crate::bench::synth::Record]) -> Table {
        let columns: Vec<(String, FieldKind)> = crate::bench::synth::COLUMNS
            .iter()
            .map(|h| {
                (
                    (*h).to_string(),
                    recognise_header(h).unwrap_or(FieldKind::Ignore),
                )
            })
            .collect();
        let mut t = Table::new(columns).unwrap();
        for r in records {
            t.push(r.id.clone(), r.values().map(Some)).unwrap();
        }
        t
    }

    /// Every true pair is counted once under `(all)`, and matched, review and missed add up.
    #[test]
    fn the_tally_counts_every_true_pair() {
        let lists = generate(3, 300, 1500, &Rates::default());
        let (l, r) = (table(&lists.left), table(&lists.right));
        let out = link(&l, &r, &LinkConfig::default(), None, &|_| {}).unwrap();
        let by = tally(&lists, &l, &r, &out);
        let all = by["(all)"];
        assert_eq!(all.pairs, lists.truth.len());
        assert!(all.matched > all.pairs * 8 / 10, "{all:?}");
        assert!(all.matched + all.review <= all.pairs);
        let typo = by["typo"];
        assert!(typo.pairs > 0 && typo.pairs < all.pairs);
        assert!(render(&by).lines().count() == by.len() + 1);
    }
}
