//! What a change clashed with, as a type: callers match a variant, never a sentence, so a renamed
//! constraint or a reworded message cannot silently turn a refusal the person can act on into an
//! internal error.

use thiserror::Error;

/// A change the store refused because of what is already there.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum Conflict {
    #[error("this username is taken")]
    Username,
    #[error("a party with this name exists")]
    PartyName,
    #[error("the token exists already")]
    Token,
    #[error("the token id is taken")]
    TokenId,
    #[error("the session exists already")]
    Session,
    #[error("the party id is taken")]
    PartyId,
    #[error("the user id is taken")]
    UserId,
    #[error("the record id is taken")]
    RecordId,
    #[error("the attachment id is taken")]
    AttachmentId,
    #[error("the case is on another open transfer list")]
    CaseOnAnotherList,
    #[error("the case already travels by another transfer plan")]
    CaseOnAnotherPlan,
    #[error("the transfer list id is taken")]
    TransferListId,
    #[error("the transfer plan id is taken")]
    TransferPlanId,
    #[error("the candidate has already been decided")]
    CandidateDecided,
    #[error("the same reviewer cannot confirm twice")]
    SameReviewer,
    #[error("the candidate duplicate has already been decided")]
    DuplicateDecided,
    #[error("the survivor is not one of the pair")]
    SurvivorNotInPair,
    #[error("one of the records was deleted")]
    RecordDeleted,
    #[error("the two records are in different cases")]
    CasesDiffer,
    #[error("the pair changed since it was read")]
    PprlPairChanged,
    /// A uniqueness rule this list does not name yet: the constraint as the database reports it,
    /// for the log only (never matched on).
    #[error("a value that must be unique exists already ({0})")]
    Unique(String),
}

impl Conflict {
    /// A stable machine-readable name (pages translate by it).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Username => "username_taken",
            Self::PartyName => "party_name_taken",
            Self::Token => "token_exists",
            Self::TokenId => "token_id_taken",
            Self::Session => "session_exists",
            Self::PartyId => "party_id_taken",
            Self::UserId => "user_id_taken",
            Self::RecordId => "record_id_taken",
            Self::AttachmentId => "attachment_id_taken",
            Self::CaseOnAnotherList => "case_on_another_list",
            Self::CaseOnAnotherPlan => "case_on_another_plan",
            Self::TransferListId => "transfer_list_id_taken",
            Self::TransferPlanId => "transfer_plan_id_taken",
            Self::CandidateDecided => "candidate_decided",
            Self::SameReviewer => "same_reviewer",
            Self::DuplicateDecided => "duplicate_decided",
            Self::SurvivorNotInPair => "survivor_not_in_pair",
            Self::RecordDeleted => "record_deleted",
            Self::CasesDiffer => "cases_differ",
            Self::PprlPairChanged => "pprl_pair_changed",
            Self::Unique(_) => "unique",
        }
    }

    /// The one place a unique constraint gets its meaning. PostgreSQL reports the constraint (its
    /// default names); SQLite only says `UNIQUE constraint failed: table.column`, so both
    /// spellings are listed.
    pub(crate) fn of_constraint(key: &str) -> Self {
        match key {
            "users_username_key" | "users.username" => Self::Username,
            "parties_name_key" | "parties.name" => Self::PartyName,
            "api_tokens_token_hash_key" | "api_tokens.token_hash" => Self::Token,
            "api_tokens_pkey" | "api_tokens.id" => Self::TokenId,
            "sessions_pkey" | "sessions.token_hash" => Self::Session,
            "parties_pkey" | "parties.id" => Self::PartyId,
            "users_pkey" | "users.id" => Self::UserId,
            "records_pkey" | "records.id" => Self::RecordId,
            "attachments_pkey" | "attachments.id" => Self::AttachmentId,
            "transfer_list_cases_pkey" | "transfer_list_cases.case_id" => Self::CaseOnAnotherList,
            "transfer_plan_cases_pkey" | "transfer_plan_cases.case_id" => Self::CaseOnAnotherPlan,
            "transfer_lists_pkey" | "transfer_lists.id" => Self::TransferListId,
            "transfer_plans_pkey" | "transfer_plans.id" => Self::TransferPlanId,
            other => Self::Unique(other.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_of_a_constraint_name_the_same_conflict() {
        assert_eq!(
            Conflict::of_constraint("users_username_key"),
            Conflict::of_constraint("users.username")
        );
        assert_eq!(
            Conflict::of_constraint("transfer_list_cases_pkey"),
            Conflict::CaseOnAnotherList
        );
        assert_eq!(
            Conflict::of_constraint("some_new_key"),
            Conflict::Unique("some_new_key".to_owned())
        );
    }
}
