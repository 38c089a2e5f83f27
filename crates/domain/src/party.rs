//! Parties: who takes part in the mediation, and what each kind of party may see.

use crate::error::FieldError;
use crate::ids::PartyId;
use crate::record::RecordKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    /// The mediating state's task force: sees what every party submitted to it.
    Mediator,
    /// The children's home state (ombudsman, national information bureau): files tracing requests.
    Origin,
    /// The authority holding the children: files custody records.
    Custody,
    /// ICRC, UNICEF, NGOs: does tasks assigned to it.
    Humanitarian,
    /// Prosecutor, auditor: read-only, audited access.
    Observer,
}

impl PartyKind {
    pub const ALL: [PartyKind; 5] = [
        Self::Mediator,
        Self::Origin,
        Self::Custody,
        Self::Humanitarian,
        Self::Observer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mediator => "mediator",
            Self::Origin => "origin",
            Self::Custody => "custody",
            Self::Humanitarian => "humanitarian",
            Self::Observer => "observer",
        }
    }

    /// Which kind of child record a party of this kind files, if any.
    pub fn files(self) -> Option<RecordKind> {
        match self {
            Self::Origin => Some(RecordKind::TracingRequest),
            Self::Custody => Some(RecordKind::CustodyRecord),
            Self::Mediator | Self::Humanitarian | Self::Observer => None,
        }
    }
}

impl fmt::Display for PartyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PartyKind {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim().to_ascii_lowercase()).ok_or_else(|| {
            FieldError::new(
                "kind",
                "invalid_party_kind",
                format!("unknown party kind {s:?}; expected mediator, origin, custody, humanitarian or observer"),
            )
        })
    }
}

/// A party's display name: trimmed, 1 to 200 characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
#[serde(try_from = "String", into = "String")]
pub struct PartyName(String);

impl PartyName {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let t = s.trim();
        if t.is_empty() || t.chars().count() > 200 || t.chars().any(char::is_control) {
            return Err(FieldError::new(
                "name",
                "invalid_party_name",
                "a party name must have 1 to 200 characters and no control characters",
            ));
        }
        crate::bidi::refuse_bidi_controls("name", t)?;
        Ok(Self(t.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PartyName {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<PartyName> for String {
    fn from(p: PartyName) -> Self {
        p.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Party {
    pub id: PartyId,
    pub name: PartyName,
    pub kind: PartyKind,
    pub created_at: DateTime<Utc>,
}
