//! Homeward's domain: pure types and rules, no I/O.
//!
//! Everything that decides *what is allowed* or *what is valid* lives here, so that the store, the
//! app and the web layer cannot disagree about it.

pub mod audit;
pub mod date;
pub mod error;
pub mod ids;
pub mod name;
pub mod party;
pub mod record;
pub mod role;
pub mod user;

pub use audit::{AuditAction, AuditDraft, AuditEntry, ChainBreak, GENESIS_HASH};
pub use date::PartialDate;
pub use error::{FieldError, ValidationErrors};
pub use ids::{PartyId, RecordId, TokenId, UserId};
pub use name::{NameEntry, Script};
pub use party::{Party, PartyKind, PartyName};
pub use record::{
    ChildRecord, ChildRecordInput, Enquirer, RecordDraft, RecordFilter, RecordKind, RecordVersion,
    Sex,
};
pub use role::{Permission, Role, Scope};
pub use user::{Password, User, Username};
