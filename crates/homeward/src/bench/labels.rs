//! `bench link --labels 100,500`: what reviewers' decisions buy (issue 13 §5). A reviewer decides
//! pairs from the queue, so the labelled pairs are drawn at random (seeded) from the pairs the
//! unlabelled run put in front of people (matches and the review band), each labelled with the
//! truth. Two uses are measured: the match threshold re-chosen on the labels
//! ([`homeward_linkage::threshold_from_labels`]), and that after m is refined with them too
//! ([`homeward_linkage::Model::with_labels`]); the lists are linked again for each. Reported beside the unlabelled run: precision, recall, F1, and the recall at the
//! unlabelled run's precision (the best threshold reaching it), so that gains are not bought with
//! precision.

use super::{f, score, synth::Rng};
use homeward_linkage::{
    Label, LinkConfig, LinkOutput, LinkedPair, Table, link, threshold_from_labels,
};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

type Truth = HashSet<(String, String)>;

fn key(p: &LinkedPair) -> (String, String) {
    (p.left_id.clone(), p.right_id.clone())
}

/// Precision, recall and F1 at `threshold`, and the best recall whose precision is at least
/// `floor`, among the pairs `out` returned (review band included).
fn figures(out: &LinkOutput, truth: &Truth, floor: f64, threshold: f64) -> Value {
    let matched: Truth = out
        .pairs
        .iter()
        .filter(|p| !p.possibly_renamed && p.probability >= threshold)
        .map(key)
        .collect();
    let (_, precision, recall, f1) = score(&matched, truth);
    let mut ranked: Vec<(f64, bool)> = out
        .pairs
        .iter()
        .filter(|p| !p.possibly_renamed)
        .map(|p| (p.probability, truth.contains(&key(p))))
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut best) = (0usize, 0usize);
    for (k, &(_, true_pair)) in ranked.iter().enumerate() {
        tp += usize::from(true_pair);
        if tp as f64 / (k + 1) as f64 >= floor {
            best = best.max(tp);
        }
    }
    json!({
        "threshold": threshold,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "recall_at_base_precision": best as f64 / truth.len().max(1) as f64,
    })
}

/// The unlabelled run `base`, then one run per number of labels in `counts`.
pub fn curve(
    left: &Table,
    right: &Table,
    truth: &Truth,
    base: &LinkOutput,
    counts: &[usize],
    seed: u64,
) -> anyhow::Result<Value> {
    let default = LinkConfig::default().threshold;
    let floor = f(&figures(base, truth, 1.0, default), "precision");
    let mut rows = vec![json!({"labels": 0, "figures": figures(base, truth, floor, default)})];
    let mut queue: Vec<&LinkedPair> = base.pairs.iter().collect();
    let mut rng = Rng::new(seed ^ 0x1abe15);
    rng.shuffle(&mut queue);
    for &n in counts {
        let labels: Vec<Label> = queue
            .iter()
            .take(n)
            .map(|p| Label {
                left: p.left,
                right: p.right,
                same: truth.contains(&(p.left_id.clone(), p.right_id.clone())),
            })
            .collect();
        // Two uses of the labels: the threshold alone (the default), and m refined as well.
        let (refined, report) = base.model.with_labels(left, right, &labels)?;
        for (variant, model) in [("threshold", &base.model), ("m+threshold", &refined)] {
            let out = link(left, right, &LinkConfig::default(), Some(model), &|_| {})?;
            // Each labelled pair's probability under this model (0 if no longer proposed).
            let now: HashMap<(usize, usize), f64> = out
                .pairs
                .iter()
                .map(|p| ((p.left, p.right), p.probability))
                .collect();
            let scored: Vec<(f64, bool)> = labels
                .iter()
                .map(|l| (now.get(&(l.left, l.right)).copied().unwrap_or(0.0), l.same))
                .collect();
            let threshold = threshold_from_labels(&scored, default);
            rows.push(json!({
                "labels": labels.len(),
                "variant": variant,
                "confirmed": report.confirmed,
                "rejected": report.rejected,
                "figures": figures(&out, truth, floor, threshold),
            }));
        }
    }
    Ok(Value::Array(rows))
}

/// One line per number of labels under a size's row.
pub fn print(v: &Value) {
    let Some(rows) = v.get("labels").and_then(Value::as_array) else {
        return;
    };
    for r in rows {
        let fig = r.get("figures").cloned().unwrap_or(Value::Null);
        println!(
            "{:<16} {:<9} {:>7.4} {:>7.4} {:>7.4}   threshold {:.3}, recall at the unlabelled precision {:.4}",
            "",
            format!(
                "{} labels {}",
                r.get("labels").and_then(Value::as_u64).unwrap_or(0),
                r.get("variant").and_then(Value::as_str).unwrap_or("")
            ),
            f(&fig, "precision"),
            f(&fig, "recall"),
            f(&fig, "f1"),
            f(&fig, "threshold"),
            f(&fig, "recall_at_base_precision"),
        );
    }
}
