//! What a transfer plan still lacks before it may be approved, as data: each gap has a stable
//! code and names the case it concerns, so that a page can say it in the reader's language and
//! name the child, and the API can keep the sentences it has always answered with.

use crate::error::{FieldError, ValidationErrors};
use crate::ids::CaseId;
use crate::transfer::{DocumentKind, TravelPlan};
use serde::Serialize;
use std::fmt;

/// One thing missing for the plan's approval.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum PlanGap {
    /// The plan has no leg.
    NoRoute,
    /// Nobody is named to escort the children.
    NoEscort,
    /// A covered child has no travel document listed.
    NoTravelDocument { case: CaseId },
    /// A listed document is not ready yet.
    DocumentNotReady { case: CaseId, kind: DocumentKind },
    /// The plan's content breaks a rule of its fields (a leg that goes nowhere, …).
    Invalid { fields: Vec<FieldError> },
}

impl PlanGap {
    /// Stable, machine-readable (the `code` it is serialised with).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoRoute => "no_route",
            Self::NoEscort => "no_escort",
            Self::NoTravelDocument { .. } => "no_travel_document",
            Self::DocumentNotReady { .. } => "document_not_ready",
            Self::Invalid { .. } => "invalid",
        }
    }

    /// The case the gap concerns, if it concerns one.
    pub fn case(&self) -> Option<CaseId> {
        match self {
            Self::NoTravelDocument { case } | Self::DocumentNotReady { case, .. } => Some(*case),
            _ => None,
        }
    }
}

/// The English sentence the API has answered with since before gaps were typed.
impl fmt::Display for PlanGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoRoute => f.write_str("the plan has no route"),
            Self::NoEscort => f.write_str("nobody escorts the children"),
            Self::NoTravelDocument { case } => {
                write!(f, "no travel document is listed for case {case}")
            }
            Self::DocumentNotReady { case, kind } => {
                write!(f, "the {} of case {case} is not ready", kind.as_str())
            }
            Self::Invalid { fields } => ValidationErrors(fields.clone()).fmt(f),
        }
    }
}

/// The gaps' sentences, joined as the refusal's message says them.
pub fn plan_gap_sentences(gaps: &[PlanGap]) -> String {
    gaps.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl TravelPlan {
    /// What approval still needs, in the order a person would fix it: route, escort, each
    /// child's documents, then any rule the content breaks. Empty when the plan may be approved.
    pub fn missing_for_approval(&self) -> Vec<PlanGap> {
        let mut out = Vec::new();
        if self.legs.is_empty() {
            out.push(PlanGap::NoRoute);
        }
        if self.escorts.is_empty() {
            out.push(PlanGap::NoEscort);
        }
        for c in &self.cases {
            if !self.documents.iter().any(|d| d.case_id == *c) {
                out.push(PlanGap::NoTravelDocument { case: *c });
            }
        }
        for d in self.documents.iter().filter(|d| !d.ready) {
            out.push(PlanGap::DocumentNotReady {
                case: d.case_id,
                kind: d.kind,
            });
        }
        if let Err(e) = self.validate() {
            out.push(PlanGap::Invalid { fields: e.0 });
        }
        out
    }
}
