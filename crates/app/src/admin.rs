//! Administration: parties, users, roles, passwords.

use crate::auth::hash_password;
use crate::throttle::Guess;
use crate::{Actor, App, AppError, AppResult, Caller};
use homeward_domain::user::parse_roles;
use homeward_domain::{
    AuditAction, DisplayName, Language, Party, PartyId, PartyKind, PartyName, Password, Permission,
    Role, User, UserId, Username, ValidationErrors,
};
use homeward_store::ApiToken;
use serde::Deserialize;

/// The permission table: each permission, the roles that grant it and the kinds of party in
/// which they do.
pub type PermissionTable = &'static [(Permission, &'static [Role], &'static [PartyKind])];

#[derive(Clone, Debug, Default, Deserialize)]
pub struct NewUserInput {
    pub party_id: PartyId,
    pub username: String,
    #[serde(default)]
    pub display_name: Option<String>,
    pub roles: Vec<String>,
    pub password: String,
    /// The language of the user's web interface; their browser's until they choose.
    #[serde(default)]
    pub language: Option<Language>,
}

impl App {
    #[tracing::instrument(skip_all)]
    pub async fn create_party(&self, actor: Actor<'_>, name: &str, kind: &str) -> AppResult<Party> {
        actor.require(Permission::PartyManage, &self.config)?;
        let mut errs = ValidationErrors::default();
        let name = errs.take(PartyName::parse(name));
        let kind = errs.take(kind.parse::<PartyKind>());
        let (Some(name), Some(kind)) = (name, kind) else {
            return Err(errs.into());
        };
        let party = Party {
            id: PartyId::new(),
            name,
            kind,
            created_at: self.now(),
        };
        let audit = actor
            .audit(AuditAction::PartyCreate)
            .target("party", party.id)
            .details(serde_json::json!({ "kind": kind.as_str() }));
        self.store
            .create_party(&party, audit)
            .await
            .map_err(AppError::from)?;
        Ok(party)
    }

    /// Every party (names and kinds are not confidential: each side must know its counterpart).
    #[tracing::instrument(skip_all)]
    pub async fn list_parties(&self, _caller: &Caller) -> AppResult<Vec<Party>> {
        Ok(self.store.list_parties().await?)
    }

    /// The parties, for the command line.
    #[tracing::instrument(skip_all)]
    pub async fn list_parties_cli(&self) -> AppResult<Vec<Party>> {
        Ok(self.store.list_parties().await?)
    }

    /// Finds a party by id or exact name (the command line accepts either).
    #[tracing::instrument(skip_all)]
    pub async fn find_party(&self, id_or_name: &str) -> AppResult<Party> {
        let parties = self.store.list_parties().await?;
        parties
            .into_iter()
            .find(|p| p.id.to_string() == id_or_name.trim() || p.name.as_str() == id_or_name.trim())
            .ok_or(AppError::NotFound)
    }

    /// Whether the actor may create users in `party`: an administrator in their own party only
    /// (the mediator's too). Party ids are no secret (every party is listed to everyone), so
    /// an id of no party is named as such, and another party's is refused as forbidden.
    async fn check_manages(&self, actor: Actor<'_>, party: PartyId) -> AppResult<()> {
        actor.require(Permission::UserManage, &self.config)?;
        match actor.managed_party() {
            Some(own) if own != party => match self.store.get_party(party).await? {
                None => Err(AppError::invalid(
                    "party_id",
                    "unknown_party",
                    "no such party",
                )),
                Some(_) => Err(AppError::ForbiddenBecause(
                    "admins manage users of their own party only",
                )),
            },
            _ => Ok(()),
        }
    }

    #[tracing::instrument(skip_all)]
    pub async fn create_user(&self, actor: Actor<'_>, input: NewUserInput) -> AppResult<User> {
        self.check_manages(actor, input.party_id).await?;
        let mut errs = ValidationErrors::default();
        let username = errs.take(Username::parse(&input.username));
        let roles = errs.take(parse_roles(&input.roles));
        let password = errs.take(Password::parse(&input.password));
        let display_name = input
            .display_name
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|d| errs.take(DisplayName::parse(d)))
            .map(DisplayName::into_string);
        let (Some(username), Some(roles), Some(password)) = (username, roles, password) else {
            return Err(errs.into());
        };
        if !errs.is_empty() {
            return Err(errs.into());
        }
        let party = self
            .store
            .get_party(input.party_id)
            .await?
            .ok_or_else(|| AppError::invalid("party_id", "unknown_party", "no such party"))?;
        let user = User {
            id: UserId::new(),
            party_id: party.id,
            display_name: display_name.unwrap_or_else(|| username.to_string()),
            username,
            roles,
            totp_enabled: false,
            disabled: false,
            created_at: self.now(),
            language: input.language,
        };
        let hash = hash_password(&password).await?;
        let audit = actor
            .audit(AuditAction::UserCreate)
            .target("user", user.id)
            .details(serde_json::json!({
                "party": party.id.to_string(),
                "roles": user.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            }));
        self.store
            .create_user(&user, &hash, audit)
            .await
            .map_err(AppError::from)?;
        Ok(user)
    }

    /// Users of one party, or of every party the actor manages when `party` is `None`.
    #[tracing::instrument(skip_all)]
    pub async fn list_users(
        &self,
        actor: Actor<'_>,
        party: Option<PartyId>,
    ) -> AppResult<Vec<User>> {
        actor.require(Permission::UserManage, &self.config)?;
        let party = match (actor.managed_party(), party) {
            (Some(own), Some(p)) if own != p => {
                return Err(AppError::ForbiddenBecause(
                    "admins manage users of their own party only",
                ));
            }
            (Some(own), _) => Some(own),
            (None, p) => p,
        };
        Ok(self.store.list_users(party).await?)
    }

    async fn managed_user(&self, actor: Actor<'_>, user: UserId) -> AppResult<User> {
        actor.require(Permission::UserManage, &self.config)?;
        let u = self.store.get_user(user).await?.ok_or(AppError::NotFound)?;
        // Another party's user answers as missing, like any record outside one's scope.
        if actor.managed_party().is_some_and(|p| p != u.party_id) {
            return Err(AppError::NotFound);
        }
        Ok(u)
    }

    /// One user the actor manages; another party's user answers as missing.
    #[tracing::instrument(skip_all)]
    pub async fn get_managed_user(&self, actor: Actor<'_>, user: UserId) -> AppResult<User> {
        self.managed_user(actor, user).await
    }

    /// The API tokens of a user the actor manages, for revoking them (their secrets are never
    /// kept, so nothing here can be used to sign in).
    #[tracing::instrument(skip_all)]
    pub async fn list_user_tokens(
        &self,
        actor: Actor<'_>,
        user: UserId,
    ) -> AppResult<Vec<ApiToken>> {
        let u = self.managed_user(actor, user).await?;
        actor.require(Permission::TokenRevokeAny, &self.config)?;
        Ok(self.store.list_tokens(u.id).await?)
    }

    /// The one permission table, for the administrators who hand out roles: which roles grant
    /// each permission, and in which kinds of party.
    pub fn permission_table(&self, caller: &Caller) -> AppResult<PermissionTable> {
        caller.require(Permission::UserManage, &self.config)?;
        Ok(homeward_domain::role::PERMISSIONS)
    }

    /// Finds a user by id or username (for the command line).
    #[cfg_attr(not(feature = "console"), allow(dead_code))]
    pub(crate) async fn find_user(&self, id_or_name: &str) -> AppResult<User> {
        if let Ok(id) = id_or_name.trim().parse::<UserId>() {
            return self.store.get_user(id).await?.ok_or(AppError::NotFound);
        }
        let name = Username::parse(id_or_name)?;
        Ok(self
            .store
            .user_credentials(&name)
            .await?
            .ok_or(AppError::NotFound)?
            .user)
    }

    /// Sets a new password, ends the user's sessions and revokes their API tokens: whoever
    /// knew the old password may have made one.
    #[tracing::instrument(skip_all)]
    pub async fn reset_password(
        &self,
        actor: Actor<'_>,
        user: UserId,
        new_password: &str,
    ) -> AppResult<()> {
        let u = self.managed_user(actor, user).await?;
        let password = Password::parse(new_password)?;
        let hash = hash_password(&password).await?;
        self.store
            .set_password(
                u.id,
                &hash,
                false,
                actor
                    .audit(AuditAction::UserPasswordReset)
                    .target("user", u.id),
            )
            .await?;
        Ok(())
    }

    /// Removes a user's TOTP second factor (a lost phone); they enrol again at their next sign-in.
    /// Ends nothing else: the password still has to be right.
    #[tracing::instrument(skip_all)]
    pub async fn reset_totp(&self, actor: Actor<'_>, user: UserId) -> AppResult<()> {
        let u = self.managed_user(actor, user).await?;
        let audit = actor
            .audit(AuditAction::UserTotpEnable)
            .target("user", u.id)
            .details(serde_json::json!({ "step": "reset" }));
        self.store.set_totp(u.id, None, false, audit).await?;
        Ok(())
    }

    /// Changes a user's own password after checking the current one. Ends every session of
    /// the account and revokes its API tokens, unless `keep_tokens` asks to keep them (the
    /// person's scripts, when they change the password for routine rather than a leak). A wrong
    /// current password counts as a failed sign-in: the same throttle answers
    /// `too_many_attempts` here and at the sign-in.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn change_own_password(
        &self,
        caller: &Caller,
        current: &str,
        new_password: &str,
        keep_tokens: bool,
    ) -> AppResult<()> {
        let now = self.now();
        let user = caller.user();
        let guess = Guess::new(user.username.as_str(), caller.source());
        self.check_throttle(&guess, now).await?;
        let creds = self
            .store
            .user_credentials(&user.username)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        if !crate::auth::verify_password(current.to_owned(), creds.password_hash).await {
            let who = Some((user.id, user.party_id));
            self.record_failed_guess(&guess, now, who, "bad_credentials", "password_change")
                .await?;
            return Err(AppError::invalid(
                "current_password",
                "invalid_credentials",
                "the current password is wrong",
            ));
        }
        self.clear_throttle(&guess, now).await?;
        let password = Password::parse(new_password)?;
        let hash = hash_password(&password).await?;
        let audit = caller
            .audit(AuditAction::UserPasswordReset)
            .target("user", user.id)
            .details(serde_json::json!({ "keep_tokens": keep_tokens }));
        self.store
            .set_password(user.id, &hash, keep_tokens, audit)
            .await?;
        Ok(())
    }

    /// Sets the language of one's own web interface. Returns the user as stored afterwards.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn set_own_language(
        &self,
        caller: &Caller,
        language: homeward_domain::Language,
    ) -> AppResult<User> {
        let audit = caller
            .audit(AuditAction::UserUpdate)
            .target("user", caller.user().id)
            .details(serde_json::json!({ "language": language.code() }));
        self.store
            .set_user_language(caller.user().id, language, audit)
            .await?;
        self.store
            .get_user(caller.user().id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// Changes roles and/or disables the account (which ends its sessions and tokens).
    #[tracing::instrument(skip_all)]
    pub async fn update_user(
        &self,
        actor: Actor<'_>,
        user: UserId,
        roles: Option<Vec<String>>,
        disabled: Option<bool>,
    ) -> AppResult<User> {
        let u = self.managed_user(actor, user).await?;
        let roles = match roles {
            Some(r) => parse_roles(&r)?,
            None => u.roles.clone(),
        };
        let disabled = disabled.unwrap_or(u.disabled);
        if let Actor::User(c) = actor
            && c.user().id == u.id
            && (disabled || !roles.contains(&homeward_domain::Role::Admin))
        {
            return Err(AppError::ForbiddenBecause(
                "administrators cannot disable or demote themselves",
            ));
        }
        let audit = actor
            .audit(AuditAction::UserUpdate)
            .target("user", u.id)
            .details(serde_json::json!({
                "roles": roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                "disabled": disabled,
            }));
        self.store
            .update_user(u.id, &roles, disabled, audit)
            .await?;
        self.store.get_user(u.id).await?.ok_or(AppError::NotFound)
    }
}
