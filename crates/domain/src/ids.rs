//! Typed identifiers. UUIDv7 so that ids sort by creation time, which gives stable keyset paging.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }
    };
}

id_type!(
    /// A party: the mediator, one side of the conflict, a humanitarian organisation, an observer.
    PartyId
);
id_type!(
    /// A user account, which belongs to exactly one party.
    UserId
);
id_type!(
    /// A child record (tracing request or custody record).
    RecordId
);
id_type!(
    /// An API token.
    TokenId
);
id_type!(
    /// A case: one child's way from a tracing request to a family, linking the records about it.
    CaseId
);
id_type!(
    /// A candidate match between a tracing request and a custody record.
    MatchId
);
id_type!(
    /// A candidate pair of records of one party that may be the same child filed twice.
    DuplicateId
);
id_type!(
    /// One identity-verification step of a case.
    VerificationStepId
);
id_type!(
    /// A consent (or refusal) record of a case.
    ConsentId
);
id_type!(
    /// A record of the child's views.
    ChildViewsId
);
id_type!(
    /// A best-interests assessment or determination.
    BestInterestsId
);
id_type!(
    /// A disclosure of chosen case fields to the counterpart.
    DisclosureId
);
id_type!(
    /// A task assigned to a humanitarian party.
    TaskId
);
id_type!(
    /// A follow-up visit after reunification.
    FollowUpId
);
id_type!(
    /// An aftercare service (medical, psychological, schooling, documents, housing).
    ServiceId
);
id_type!(
    /// One fact of the accountability record: how the child was taken and held.
    AccountabilityId
);
id_type!(
    /// A document or photo attached to a child record or a case.
    AttachmentId
);
id_type!(
    /// A transfer list: the children due to travel in one negotiated round.
    TransferListId
);
id_type!(
    /// A transfer plan: the route, escorts, documents and costs of children travelling together.
    TransferPlanId
);
id_type!(
    /// One leg of a transfer plan's route.
    LegId
);
