//! Learning from reviewers (issue 13 §5): every pair a reviewer confirmed or rejected is a label
//! when the model is retrained. The decisions move the match threshold ([`threshold_from_labels`]: only down, and only with at least 100 of
//! them) and, the same way, the lowest probability at which a possibly renamed pair is queued.
//! Nothing is ever confirmed by a threshold in the case system: the match threshold only tells
//! which queued pairs are likely the same child.
//!
//! m is not refined with the confirmed pairs (`Model::with_labels`): the pairs people are shown
//! scored high because they agree, so they over-represent agreement, and m refined with them
//! lowered recall on both generators (docs/benchmarks.md, "Learning from reviewers").

use crate::{AppError, AppResult};
use homeward_domain::RecordId;
use homeward_linkage::{Label, LinkConfig, Model, Table, threshold_from_labels};
use serde::Serialize;
use std::collections::HashMap;

/// What the reviewers' decisions did to a retrained model, for the train report and its audit
/// entry.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LabelsUsed {
    /// Confirmed pairs.
    pub confirmed: usize,
    /// Rejected pairs (they count for the thresholds only).
    pub rejected: usize,
    /// Decisions on a record deleted since, left out.
    pub left_out: usize,
    /// The match threshold before and after (equal when the labels did not move it).
    pub match_threshold_before: f64,
    pub match_threshold: f64,
    /// The renamed-child band's floor before and after.
    pub renamed_threshold_before: f64,
    pub renamed_threshold: f64,
}

/// The decided pairs as labels on the training tables (`left` the tracing requests, `right` the
/// custody records, by record id), and how many named a record not in them.
pub fn labels_of(
    decided: &[(RecordId, RecordId, bool)],
    left: &Table,
    right: &Table,
) -> (Vec<Label>, usize) {
    let rows = |t: &Table| -> HashMap<String, usize> {
        (0..t.len())
            .filter_map(|i| Some((t.id(i)?.to_owned(), i)))
            .collect()
    };
    let (l, r) = (rows(left), rows(right));
    let mut labels = Vec::with_capacity(decided.len());
    let mut left_out = 0;
    for (t, c, same) in decided {
        match (l.get(&t.to_string()), r.get(&c.to_string())) {
            (Some(&left), Some(&right)) => labels.push(Label {
                left,
                right,
                same: *same,
            }),
            _ => left_out += 1,
        }
    }
    (labels, left_out)
}

/// `model` (trained on `left` and `right` without labels) with the thresholds the decisions
/// support, recorded in its training info and notes.
pub fn learn(
    mut model: Model,
    left: &Table,
    right: &Table,
    labels: &[Label],
    left_out: usize,
) -> AppResult<(Model, LabelsUsed)> {
    let link_error = |e: homeward_linkage::LinkError| AppError::Internal(format!("linkage: {e}"));
    let config = LinkConfig::default();
    let confirmed = labels.iter().filter(|l| l.same).count();
    // Each decision scored by the model that will score (renamed pairs by their own rank).
    let mut plain = Vec::new();
    let mut renamed = Vec::new();
    for l in labels {
        let p = model
            .score_pair(left, l.left, right, l.right)
            .map_err(link_error)?;
        let into = if p.possibly_renamed {
            &mut renamed
        } else {
            &mut plain
        };
        into.push((p.probability, l.same));
    }
    let used = LabelsUsed {
        confirmed,
        rejected: labels.len() - confirmed,
        left_out,
        match_threshold_before: config.threshold,
        match_threshold: threshold_from_labels(&plain, config.threshold),
        renamed_threshold_before: config.review_threshold,
        renamed_threshold: threshold_from_labels(&renamed, config.review_threshold),
    };
    let info = &mut model.training;
    info.match_threshold =
        (used.match_threshold < used.match_threshold_before).then_some(used.match_threshold);
    info.renamed_threshold =
        (used.renamed_threshold < used.renamed_threshold_before).then_some(used.renamed_threshold);
    info.notes.push(format!(
        "reviewers' decisions: {} confirmed, {} rejected; match threshold {} -> {}, renamed band {} -> {}",
        used.confirmed,
        used.rejected,
        used.match_threshold_before,
        used.match_threshold,
        used.renamed_threshold_before,
        used.renamed_threshold
    ));
    Ok((model, used))
}
