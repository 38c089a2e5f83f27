//! User accounts. Password hashing itself is done in the app layer (it is slow and not "pure"
//! policy); the rules a password must meet live here.

use crate::error::FieldError;
use crate::ids::{PartyId, UserId};
use crate::role::Role;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A login name: 3–64 characters of lowercase ASCII letters, digits, `.`, `_`, `-`, `@`.
/// Lowercased on parse so that `Anna` and `anna` cannot be two accounts.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let t = s.trim().to_ascii_lowercase();
        let ok_chars = t
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(c));
        if !(3..=64).contains(&t.len()) || !ok_chars {
            return Err(FieldError::new(
                "username",
                "invalid_username",
                "a username has 3 to 64 characters: letters a-z, digits, '.', '_', '-', '@'",
            ));
        }
        Ok(Self(t))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user's name as others see it (in a case's timeline, beside an approval): trimmed, 1 to 200
/// characters, no control characters and no direction controls (see [`crate::bidi`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let t = s.trim();
        if t.is_empty() || t.chars().count() > 200 {
            return Err(FieldError::new(
                "display_name",
                "too_long",
                "1 to 200 characters",
            ));
        }
        if t.chars().any(char::is_control) {
            return Err(FieldError::new(
                "display_name",
                "control_characters",
                "contains control characters",
            ));
        }
        crate::bidi::refuse_bidi_controls("display_name", t)?;
        Ok(Self(t.to_owned()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl TryFrom<String> for Username {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Username> for String {
    fn from(u: Username) -> Self {
        u.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password that meets the policy. Deliberately not `Serialize` and redacted in `Debug`.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 256;

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let n = s.chars().count();
        if n < Self::MIN_CHARS {
            return Err(FieldError::new(
                "password",
                "password_too_short",
                format!("a password needs at least {} characters", Self::MIN_CHARS),
            ));
        }
        if n > Self::MAX_CHARS {
            return Err(FieldError::new(
                "password",
                "password_too_long",
                format!("a password has at most {} characters", Self::MAX_CHARS),
            ));
        }
        if s.chars().collect::<std::collections::HashSet<_>>().len() < 5 {
            return Err(FieldError::new(
                "password",
                "password_too_simple",
                "a password needs at least 5 different characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    pub party_id: PartyId,
    pub username: Username,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub totp_enabled: bool,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    /// The language the user chose for the web interface; `None` until they choose one.
    #[serde(default)]
    pub language: Option<Language>,
}

/// A language the web interface is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Language {
    En,
    Uk,
    Ru,
    Ar,
}

impl Language {
    pub const ALL: [Language; 4] = [Language::En, Language::Uk, Language::Ru, Language::Ar];

    /// The BCP 47 tag, as stored and as written in `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Uk => "uk",
            Self::Ru => "ru",
            Self::Ar => "ar",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.code() == code)
    }

    /// Written right to left.
    pub fn is_rtl(self) -> bool {
        matches!(self, Self::Ar)
    }
}

impl User {
    pub fn has_role(&self, r: Role) -> bool {
        self.roles.contains(&r)
    }
}

/// Roles as given by a person: at least one, no repeats, sorted.
pub fn parse_roles<S: AsRef<str>>(items: &[S]) -> Result<Vec<Role>, FieldError> {
    let mut roles = items
        .iter()
        .map(|s| s.as_ref().parse())
        .collect::<Result<Vec<Role>, _>>()?;
    roles.sort();
    roles.dedup();
    if roles.is_empty() {
        return Err(FieldError::new(
            "roles",
            "roles_required",
            "a user needs at least one role",
        ));
    }
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_refuse_direction_controls() {
        assert_eq!(
            DisplayName::parse("  Анна К. ").unwrap().into_string(),
            "Анна К."
        );
        let e = DisplayName::parse("Anna \u{2067}nimda").unwrap_err();
        assert_eq!((e.field.as_str(), e.code), ("display_name", "bidi_control"));
        assert_eq!(
            DisplayName::parse("a\nb").unwrap_err().code,
            "control_characters"
        );
    }

    #[test]
    fn usernames_are_lowercased_and_checked() {
        assert_eq!(Username::parse(" Anna.K ").unwrap().as_str(), "anna.k");
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("anna k").is_err());
        assert!(Username::parse("анна").is_err());
    }

    #[test]
    fn passwords_follow_the_policy_and_never_print() {
        assert_eq!(
            Password::parse("short").unwrap_err().code,
            "password_too_short"
        );
        assert_eq!(
            Password::parse("aaaaaaaaaaaaaaaa").unwrap_err().code,
            "password_too_simple"
        );
        let p = Password::parse("correct horse battery").unwrap();
        assert_eq!(format!("{p:?}"), "Password(***)");
    }

    #[test]
    fn roles_are_deduplicated_and_required() {
        assert_eq!(
            parse_roles(&["viewer", "admin", "viewer"]).unwrap(),
            vec![Role::Admin, Role::Viewer]
        );
        assert_eq!(parse_roles::<&str>(&[]).unwrap_err().code, "roles_required");
    }
}
