use crate::view::ViewLog;
use crate::{AppConfig, AppError, AppResult};
use homeward_domain::{AuditAction, AuditDraft, Party, Permission, Role, Scope, User};
use std::sync::Arc;

/// An authenticated user acting through Homeward. Only the app can make one (by checking a
/// session, a token or a password), so holding a `Caller` proves who is asking, and its scope
/// travels with it into every query.
#[derive(Clone, Debug)]
pub struct Caller {
    user: User,
    party: Party,
    source: Option<String>,
    /// Inside a page view: where its reads are noted for the page's one audit entry.
    view: Option<Arc<ViewLog>>,
}

impl Caller {
    pub(crate) fn new(user: User, party: Party, source: Option<String>) -> Self {
        Self {
            user,
            party,
            source,
            view: None,
        }
    }

    /// This caller, drawing a page whose reads are noted in `log`.
    pub(crate) fn viewing(&self, log: Arc<ViewLog>) -> Self {
        Self {
            view: Some(log),
            ..self.clone()
        }
    }

    /// The audit entries of a read, for the store to append in the read's transaction; inside
    /// a page view none, since the view appends one entry for all its reads (see [`Caller::viewed`]).
    pub(crate) fn for_store(&self, drafts: Vec<AuditDraft>) -> Vec<AuditDraft> {
        if self.view.is_some() {
            Vec::new()
        } else {
            drafts
        }
    }

    /// [`Caller::viewed`] for a list read: each entry names the ids the read handed out, as the
    /// store's own entry does outside a view.
    pub(crate) fn viewed_ids(
        &self,
        drafts: Vec<AuditDraft>,
        key: &str,
        ids: impl FnOnce() -> Vec<String>,
    ) {
        if self.view.is_some() {
            let ids = ids();
            self.viewed(drafts.into_iter().map(|d| AuditDraft {
                details: homeward_domain::audit::details_with_ids(
                    d.details.clone(),
                    key,
                    ids.clone(),
                ),
                ..d
            }));
        }
    }

    /// Notes the reads a page showed, for its one entry; outside a page view the store has
    /// appended them already, so nothing happens.
    pub(crate) fn viewed(&self, drafts: impl IntoIterator<Item = AuditDraft>) {
        if let Some(log) = &self.view {
            log.note(drafts);
        }
    }

    pub fn user(&self) -> &User {
        &self.user
    }

    pub fn party(&self) -> &Party {
        &self.party
    }

    /// Where the request came from (the client's address), when known.
    pub(crate) fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }

    /// Which child records this caller may see.
    pub fn scope(&self) -> Scope {
        Scope::for_party(self.party.kind, self.party.id)
    }

    /// Whether the role table grants this caller the permission.
    pub fn may(&self, p: Permission) -> bool {
        p.granted(self.party.kind, &self.user.roles)
    }

    /// Whether this caller administers the users of `party`: an administrator, of that party
    /// (the pages ask this to offer only what the app will accept).
    pub fn manages_users_of(&self, party: homeward_domain::PartyId) -> bool {
        self.may(Permission::UserManage) && self.party.id == party
    }

    pub(crate) fn require(&self, p: Permission, config: &AppConfig) -> AppResult<()> {
        if !self.may(p) {
            return Err(AppError::Forbidden(p));
        }
        let admin_only = matches!(
            p,
            Permission::PartyManage | Permission::UserManage | Permission::TokenRevokeAny
        );
        if admin_only
            && config.require_admin_totp
            && self.user.has_role(Role::Admin)
            && !self.user.totp_enabled
        {
            return Err(AppError::TotpEnrolmentRequired);
        }
        Ok(())
    }

    pub(crate) fn audit(&self, action: AuditAction) -> AuditDraft {
        AuditDraft {
            actor_user: Some(self.user.id),
            actor_party: Some(self.party.id),
            source: self.source.clone(),
            ..AuditDraft::new(action)
        }
    }
}

/// Who performs an administrative change: a signed-in user, or the command line on the server
/// itself (which already holds the database, so it is trusted; it is how the first administrator
/// is made).
#[derive(Clone, Copy, Debug)]
pub enum Actor<'a> {
    User(&'a Caller),
    /// Only the console makes one (see `console::Console::actor`).
    CommandLine(ConsoleProof),
}

/// Proof that the command line, not a request, is acting: its field is private, so only this
/// crate's console can make one.
#[derive(Clone, Copy, Debug)]
pub struct ConsoleProof(pub(crate) ());

impl Actor<'_> {
    pub(crate) fn require(&self, p: Permission, config: &AppConfig) -> AppResult<()> {
        match self {
            Self::User(c) => c.require(p, config),
            Self::CommandLine(_) => Ok(()),
        }
    }

    pub(crate) fn audit(&self, action: AuditAction) -> AuditDraft {
        match self {
            Self::User(c) => c.audit(action),
            Self::CommandLine(_) => AuditDraft {
                source: Some("cli".to_owned()),
                ..AuditDraft::new(action)
            },
        }
    }

    /// The party whose users this actor may manage: `None` means any party. An administrator
    /// manages their own party only, the mediator's too: whoever could make or take over an
    /// account of another party could approve a transfer list as that party. The command line
    /// (whoever holds the server) makes each party's first administrator.
    pub(crate) fn managed_party(&self) -> Option<homeward_domain::PartyId> {
        match self {
            Self::User(c) => Some(c.party.id),
            Self::CommandLine(_) => None,
        }
    }
}
