//! What of a case a caller may see. A case carries facts that need more than `case_read` (the
//! accountability record needs `accountability_read`): the read models the app hands out leave
//! those out for callers without the permission, say so in `withheld`, and a read that does carry
//! them is audited as a read of them too, in the same transaction as the read itself.

use crate::Caller;
use homeward_domain::{AuditAction, AuditDraft, Case, CaseId, Permission};
use serde::Serialize;

/// A part of a case that needs its own permission to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CasePart {
    /// `case.accountability`: how the child was taken and held (`accountability_read`).
    Accountability,
}

impl CasePart {
    pub const ALL: [CasePart; 1] = [Self::Accountability];

    /// The permission that reading this part needs beyond `case_read`.
    pub fn permission(self) -> Permission {
        match self {
            Self::Accountability => Permission::AccountabilityRead,
        }
    }

    fn withhold(self, case: &mut Case) {
        match self {
            Self::Accountability => case.accountability.clear(),
        }
    }

    /// The audit action of the part's own read, the one its own endpoint records.
    fn read_action(self, many: bool) -> AuditAction {
        match (self, many) {
            (Self::Accountability, false) => AuditAction::AccountabilityRead,
            (Self::Accountability, true) => AuditAction::AccountabilityList,
        }
    }
}

/// Which parts a read asks for: the API hands out every part the caller may see; a page that does
/// not show a part asks without it, so that the audit log does not record a read that showed
/// nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaseParts {
    pub accountability: bool,
}

impl CaseParts {
    /// Everything the caller may see.
    pub const ALL: CaseParts = CaseParts {
        accountability: true,
    };
    /// The case's workflow only (its state, the facts its guards read, its custody chain).
    pub const WORKFLOW: CaseParts = CaseParts {
        accountability: false,
    };

    fn wants(self, part: CasePart) -> bool {
        match part {
            CasePart::Accountability => self.accountability,
        }
    }
}

/// The parts of cases one read carries for one caller: asked for and permitted.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CaseSight {
    carried: CaseParts,
}

impl CaseSight {
    pub(crate) fn of(caller: &Caller, asked: CaseParts) -> Self {
        let may = |p: CasePart| asked.wants(p) && caller.may(p.permission());
        Self {
            carried: CaseParts {
                accountability: may(CasePart::Accountability),
            },
        }
    }

    fn carries(self, part: CasePart) -> bool {
        self.carried.wants(part)
    }

    /// Takes out of `case` every part this read does not carry; returns those parts.
    pub(crate) fn filter(self, case: &mut Case) -> Vec<CasePart> {
        CasePart::ALL
            .into_iter()
            .filter(|p| !self.carries(*p))
            .inspect(|p| p.withhold(case))
            .collect()
    }

    /// The entries that a read of case `id` carrying these parts adds beside its own: each part
    /// audited under its own read action, as if read from its own endpoint.
    pub(crate) fn audits(self, caller: &Caller, id: CaseId, within: &str) -> Vec<AuditDraft> {
        CasePart::ALL
            .into_iter()
            .filter(|p| self.carries(*p))
            .map(|p| {
                caller
                    .audit(p.read_action(false))
                    .target("case", id)
                    .details(serde_json::json!({ "within": within }))
            })
            .collect()
    }

    /// The same for a list of cases (the store adds the case ids).
    pub(crate) fn list_audits(self, caller: &Caller) -> Vec<AuditDraft> {
        CasePart::ALL
            .into_iter()
            .filter(|p| self.carries(*p))
            .map(|p| {
                caller
                    .audit(p.read_action(true))
                    .details(serde_json::json!({ "within": "case_list" }))
            })
            .collect()
    }
}
