//! Signing in: passwords (Argon2id), throttling, TOTP, browser sessions and API tokens.

use crate::secret::{constant_time_eq, random_token, token_hash};
use crate::{App, AppError, AppResult, Caller};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, password_hash::rand_core::OsRng};
use chrono::{DateTime, Duration, Utc};
use homeward_domain::{AuditAction, AuditDraft, Party, Password, TokenId, User, Username};
use homeward_store::{ApiToken, SessionRow};
use serde::Serialize;
use std::sync::OnceLock;
use totp_rs::{Algorithm, Secret, TOTP};

const SESSION_PREFIX: &str = "hws_";
const TOKEN_PREFIX: &str = "hw_";

/// Hashes a password with Argon2id (OWASP parameters: 19 MiB, 2 passes). Runs on a blocking
/// thread: it is deliberately slow.
pub async fn hash_password(password: &Password) -> AppResult<String> {
    let pw = password.expose().to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(pw.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(format!("password hashing task failed: {e}")))?
}

pub(crate) async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash to verify against when the username does not exist, so that the answer takes as long
/// as for a real account and does not reveal which usernames exist.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"no such user, no such password", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[derive(Clone, Debug, Default)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    pub totp_code: Option<String>,
}

/// A new browser session. `token` goes into the cookie and is never stored.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
    pub party: Party,
}

/// A new API token; `token` is shown once.
#[derive(Clone, Debug, Serialize)]
pub struct NewApiToken {
    pub token: String,
    #[serde(flatten)]
    pub meta: ApiToken,
}

/// What an authenticator app needs to enrol.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TotpEnrolment {
    /// Base32 secret, for typing in by hand.
    pub secret: String,
    /// `otpauth://` URL, for a QR code.
    pub otpauth_url: String,
}

fn totp_for(secret_b32: &str, issuer: &str, account: &str) -> AppResult<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_owned())
        .to_bytes()
        .map_err(|e| AppError::Internal(format!("stored TOTP secret is invalid: {e:?}")))?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        Some(issuer.to_owned()),
        account.to_owned(),
    )
    .map_err(|e| AppError::Internal(format!("TOTP setup failed: {e}")))
}

fn totp_matches(totp: &TOTP, code: &str) -> bool {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    totp.check_current(&code).unwrap_or(false)
}

impl App {
    /// Checks a username, password and (when enrolled) one-time code, and opens a session.
    pub async fn login(&self, req: LoginRequest, source: Option<String>) -> AppResult<NewSession> {
        let now = Utc::now();
        let since = now - self.config.login_window;
        let username = Username::parse(&req.username).ok();
        let user_key = format!(
            "user:{}",
            username
                .as_ref()
                .map(Username::as_str)
                .unwrap_or(req.username.trim())
        );
        let source_key = source.as_ref().map(|s| format!("ip:{s}"));

        let retry_after_secs = self.config.login_window.num_seconds();
        if self.store.count_login_failures(&user_key, since).await?
            >= self.config.login_max_failures
        {
            return Err(AppError::TooManyAttempts { retry_after_secs });
        }
        if let Some(k) = &source_key
            && self.store.count_login_failures(k, since).await?
                >= self.config.login_max_failures_per_source
        {
            return Err(AppError::TooManyAttempts { retry_after_secs });
        }

        let creds = match &username {
            Some(u) => self.store.user_credentials(u).await?,
            None => None,
        };
        let hash = creds
            .as_ref()
            .map(|c| c.password_hash.clone())
            .unwrap_or_else(|| dummy_hash().to_owned());
        let password_ok = verify_password(req.password.clone(), hash).await;
        let fail = |reason: &'static str, user: Option<&User>| {
            let mut keys = vec![user_key.clone()];
            keys.extend(source_key.clone());
            let audit = AuditDraft {
                actor_user: user.map(|u| u.id),
                actor_party: user.map(|u| u.party_id),
                source: source.clone(),
                ..AuditDraft::new(AuditAction::LoginFailed)
            }
            .details(serde_json::json!({ "reason": reason }));
            (keys, audit)
        };

        let Some(creds) = creds.filter(|c| password_ok && !c.user.disabled) else {
            let (keys, audit) = fail("bad_credentials", None);
            self.store.record_login_failure(&keys, now, audit).await?;
            return Err(AppError::InvalidCredentials);
        };
        if let Some(secret) = &creds.totp_secret {
            let Some(code) = req.totp_code.as_deref().filter(|c| !c.trim().is_empty()) else {
                return Err(AppError::SecondFactorRequired);
            };
            let totp = totp_for(
                secret,
                &self.config.totp_issuer,
                creds.user.username.as_str(),
            )?;
            if !totp_matches(&totp, code) {
                let (keys, audit) = fail("bad_second_factor", Some(&creds.user));
                self.store.record_login_failure(&keys, now, audit).await?;
                return Err(AppError::InvalidSecondFactor);
            }
        }
        let party = self
            .store
            .get_party(creds.user.party_id)
            .await?
            .ok_or_else(|| AppError::Internal("user without a party".to_owned()))?;
        self.store.clear_login_failures(&user_key, since).await?;

        let token = random_token(SESSION_PREFIX);
        let row = SessionRow {
            token_hash: token_hash(&token),
            user_id: creds.user.id,
            csrf_token: random_token(""),
            created_at: now,
            expires_at: now + self.config.session_idle,
            absolute_expires_at: now + self.config.session_absolute,
        };
        let caller = Caller::new(creds.user.clone(), party.clone(), source);
        self.store
            .create_session(
                &row,
                caller
                    .audit(AuditAction::Login)
                    .target("user", creds.user.id),
            )
            .await?;
        Ok(NewSession {
            token,
            csrf_token: row.csrf_token,
            expires_at: row.expires_at,
            user: creds.user,
            party,
        })
    }

    /// The caller a session cookie stands for, and the session's CSRF token. Slides the idle
    /// expiry forward (at most once a minute, to spare the database a write per request).
    pub async fn authenticate_session(
        &self,
        token: &str,
        source: Option<String>,
    ) -> AppResult<(Caller, String)> {
        if !token.starts_with(SESSION_PREFIX) {
            return Err(AppError::Unauthenticated);
        }
        let now = Utc::now();
        let hash = token_hash(token);
        let (row, user) = self
            .store
            .session(&hash, now)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        if row.absolute_expires_at <= now {
            return Err(AppError::Unauthenticated);
        }
        let wanted = (now + self.config.session_idle).min(row.absolute_expires_at);
        if wanted - row.expires_at > Duration::minutes(1) {
            self.store.touch_session(&hash, wanted).await?;
        }
        let party = self
            .store
            .get_party(user.party_id)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        Ok((Caller::new(user, party, source), row.csrf_token))
    }

    /// Whether a submitted CSRF token is the session's.
    pub fn csrf_matches(expected: &str, submitted: &str) -> bool {
        constant_time_eq(expected, submitted)
    }

    pub async fn logout(&self, session_token: &str, source: Option<String>) -> AppResult<()> {
        let (caller, _) = self.authenticate_session(session_token, source).await?;
        self.store
            .delete_session(
                &token_hash(session_token),
                caller
                    .audit(AuditAction::Logout)
                    .target("user", caller.user().id),
            )
            .await?;
        Ok(())
    }

    /// The caller an API bearer token stands for.
    pub async fn authenticate_token(
        &self,
        token: &str,
        source: Option<String>,
    ) -> AppResult<Caller> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Err(AppError::Unauthenticated);
        }
        let (_, user) = self
            .store
            .token_by_hash(&token_hash(token), Utc::now())
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let party = self
            .store
            .get_party(user.party_id)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        Ok(Caller::new(user, party, source))
    }

    /// The caller for a command run on the server as a named user (e.g. `homeward import --user`).
    pub async fn command_line_caller(&self, username: &str) -> AppResult<Caller> {
        let name = Username::parse(username)?;
        let creds = self
            .store
            .user_credentials(&name)
            .await?
            .ok_or(AppError::NotFound)?;
        if creds.user.disabled {
            return Err(AppError::ForbiddenBecause("the user is disabled"));
        }
        let party = self
            .store
            .get_party(creds.user.party_id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(Caller::new(creds.user, party, Some("cli".to_owned())))
    }

    /// Creates an API token for the caller; it expires after `days` days when given.
    pub async fn create_token(
        &self,
        caller: &Caller,
        name: &str,
        days: Option<u32>,
    ) -> AppResult<NewApiToken> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::invalid(
                "name",
                "invalid_token_name",
                "a token name has 1 to 100 characters",
            ));
        }
        if days == Some(0) || days.is_some_and(|d| d > 3660) {
            return Err(AppError::invalid(
                "expires_in_days",
                "out_of_range",
                "between 1 and 3660 days",
            ));
        }
        let now = Utc::now();
        let token = random_token(TOKEN_PREFIX);
        let meta = ApiToken {
            id: TokenId::new(),
            user_id: caller.user().id,
            name: name.to_owned(),
            created_at: now,
            expires_at: days.map(|d| now + Duration::days(i64::from(d))),
            last_used_at: None,
            revoked_at: None,
        };
        let audit = caller
            .audit(AuditAction::TokenCreate)
            .target("token", meta.id);
        self.store
            .create_token(&meta, &token_hash(&token), audit)
            .await?;
        Ok(NewApiToken { token, meta })
    }

    pub async fn list_tokens(&self, caller: &Caller) -> AppResult<Vec<ApiToken>> {
        Ok(self.store.list_tokens(caller.user().id).await?)
    }

    /// Revokes a token: one's own always; anyone's with `TokenRevokeAny` (a party admin only within
    /// the party). Someone else's token outside those bounds answers as not found.
    pub async fn revoke_token(&self, actor: crate::Actor<'_>, id: TokenId) -> AppResult<()> {
        let token = self.store.get_token(id).await?.ok_or(AppError::NotFound)?;
        if let crate::Actor::User(caller) = actor
            && token.user_id != caller.user().id
        {
            if !caller.may(homeward_domain::Permission::TokenRevokeAny) {
                return Err(AppError::NotFound);
            }
            caller.require(homeward_domain::Permission::TokenRevokeAny, &self.config)?;
            let owner = self
                .store
                .get_user(token.user_id)
                .await?
                .ok_or(AppError::NotFound)?;
            if actor.managed_party().is_some_and(|p| p != owner.party_id) {
                return Err(AppError::NotFound);
            }
        }
        let audit = actor.audit(AuditAction::TokenRevoke).target("token", id);
        self.store.revoke_token(id, Utc::now(), audit).await?;
        Ok(())
    }

    /// Starts TOTP enrolment: stores a new secret, not yet enabled, and returns it for the app.
    pub async fn begin_totp_enrolment(&self, caller: &Caller) -> AppResult<TotpEnrolment> {
        let secret = Secret::generate_secret().to_encoded().to_string();
        let totp = totp_for(
            &secret,
            &self.config.totp_issuer,
            caller.user().username.as_str(),
        )?;
        let audit = caller
            .audit(AuditAction::UserTotpEnable)
            .target("user", caller.user().id)
            .details(serde_json::json!({"step": "begin"}));
        self.store
            .set_totp(caller.user().id, Some(&secret), false, audit)
            .await?;
        Ok(TotpEnrolment {
            secret,
            otpauth_url: totp.get_url(),
        })
    }

    /// Finishes enrolment with the first code the authenticator app shows.
    pub async fn confirm_totp_enrolment(&self, caller: &Caller, code: &str) -> AppResult<()> {
        let secret = self
            .store
            .totp_secret(caller.user().id)
            .await?
            .ok_or(AppError::invalid(
                "code",
                "no_enrolment",
                "start TOTP enrolment first",
            ))?;
        let totp = totp_for(
            &secret,
            &self.config.totp_issuer,
            caller.user().username.as_str(),
        )?;
        if !totp_matches(&totp, code) {
            return Err(AppError::invalid(
                "code",
                "invalid_second_factor",
                "the one-time code is wrong or expired",
            ));
        }
        let audit = caller
            .audit(AuditAction::UserTotpEnable)
            .target("user", caller.user().id)
            .details(serde_json::json!({"step": "confirm"}));
        self.store
            .set_totp(caller.user().id, Some(&secret), true, audit)
            .await?;
        Ok(())
    }
}

/// The current code for a base32 secret (for tests and the demo, never for checking).
pub fn current_totp_code(secret_b32: &str) -> AppResult<String> {
    let totp = totp_for(secret_b32, "Homeward", "user")?;
    totp.generate_current()
        .map_err(|e| AppError::Internal(format!("clock error: {e}")))
}
