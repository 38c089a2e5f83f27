//! Signing in: passwords (Argon2id), throttling, TOTP, browser sessions and API tokens.

use crate::secret::{constant_time_eq, random_token, token_hash};
use crate::throttle::Guess;
use crate::{App, AppError, AppResult, Caller};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, password_hash::rand_core::OsRng};
use chrono::{DateTime, Duration, Utc};
use homeward_domain::{AuditAction, Party, Password, TokenId, User, Username};
use homeward_store::{ApiToken, SessionRow};
use serde::Serialize;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};
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

/// The time step whose code `code` is, among those the clock skew lets through (the previous,
/// the current and the next 30-second step), compared in constant time.
fn totp_step(totp: &TOTP, code: &str) -> AppResult<Option<i64>> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| AppError::Internal(format!("clock before 1970: {e}")))?
        .as_secs();
    let current = now / totp.step;
    let skew = u64::from(totp.skew);
    let found = (current.saturating_sub(skew)..=current + skew)
        .find(|step| constant_time_eq(&totp.generate(step * totp.step), &code));
    found
        .map(i64::try_from)
        .transpose()
        .map_err(|e| AppError::Internal(format!("TOTP step out of range: {e}")))
}

impl App {
    /// Checks a username, password and (when enrolled) one-time code, and opens a session.
    #[tracing::instrument(skip_all)]
    pub async fn login(&self, req: LoginRequest, source: Option<String>) -> AppResult<NewSession> {
        let now = self.now();
        let username = Username::parse(&req.username).ok();
        let guess = Guess::new(
            username
                .as_ref()
                .map(Username::as_str)
                .unwrap_or(req.username.trim()),
            source.as_deref(),
        );
        self.check_throttle(&guess, now).await?;

        let creds = match &username {
            Some(u) => self.store.user_credentials(u).await?,
            None => None,
        };
        let hash = creds
            .as_ref()
            .map(|c| c.password_hash.clone())
            .unwrap_or_else(|| dummy_hash().to_owned());
        let password_ok = verify_password(req.password.clone(), hash).await;

        let Some(creds) = creds.filter(|c| password_ok && !c.user.disabled) else {
            self.record_failed_guess(&guess, now, None, "bad_credentials", "sign_in")
                .await?;
            return Err(AppError::InvalidCredentials);
        };
        if let Some(secret) = &creds.totp_secret {
            let Some(code) = req.totp_code.as_deref().filter(|c| !c.trim().is_empty()) else {
                return Err(AppError::SecondFactorRequired);
            };
            if let Err(reason) = self.accept_totp_code(&creds.user, secret, code).await? {
                let who = Some((creds.user.id, creds.user.party_id));
                self.record_failed_guess(&guess, now, who, reason, "sign_in")
                    .await?;
                return Err(AppError::InvalidSecondFactor);
            }
        }
        let party = self
            .store
            .get_party(creds.user.party_id)
            .await?
            .ok_or_else(|| AppError::Internal("user without a party".to_owned()))?;
        self.clear_throttle(&guess, now).await?;

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
    #[tracing::instrument(skip_all)]
    pub async fn authenticate_session(
        &self,
        token: &str,
        source: Option<String>,
    ) -> AppResult<(Caller, String)> {
        if !token.starts_with(SESSION_PREFIX) {
            return Err(AppError::Unauthenticated);
        }
        let now = self.now();
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

    #[tracing::instrument(skip_all)]
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
    #[tracing::instrument(skip_all)]
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
            .token_by_hash(&token_hash(token), self.now())
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
    #[cfg_attr(not(feature = "console"), allow(dead_code))]
    pub(crate) async fn command_line_caller(&self, username: &str) -> AppResult<Caller> {
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
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
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
        let now = self.now();
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

    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn list_tokens(&self, caller: &Caller) -> AppResult<Vec<ApiToken>> {
        Ok(self.store.list_tokens(caller.user().id).await?)
    }

    /// Revokes a token: one's own always; anyone's with `TokenRevokeAny` (a party admin only within
    /// the party). Someone else's token outside those bounds answers as not found.
    #[tracing::instrument(skip_all)]
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
        self.store.revoke_token(id, self.now(), audit).await?;
        Ok(())
    }

    /// Starts TOTP enrolment: stores a new secret, not yet enabled, and returns it for the app.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
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

    /// Finishes enrolment with the first code the authenticator app shows. Throttled like
    /// signing in (a wrong code counts as a failed guess for the account), and the code is then
    /// spent: it cannot sign in as well.
    #[tracing::instrument(skip_all, fields(user = %caller.user().id))]
    pub async fn confirm_totp_enrolment(&self, caller: &Caller, code: &str) -> AppResult<()> {
        let now = self.now();
        let user = caller.user();
        let guess = Guess::new(user.username.as_str(), caller.source());
        self.check_throttle(&guess, now).await?;
        let secret = self
            .store
            .totp_secret(user.id)
            .await?
            .ok_or(AppError::invalid(
                "code",
                "no_enrolment",
                "start TOTP enrolment first",
            ))?;
        if let Err(reason) = self.accept_totp_code(user, &secret, code).await? {
            let who = Some((user.id, user.party_id));
            self.record_failed_guess(&guess, now, who, reason, "totp_confirm")
                .await?;
            return Err(AppError::invalid(
                "code",
                "invalid_second_factor",
                "the one-time code is wrong or expired",
            ));
        }
        let audit = caller
            .audit(AuditAction::UserTotpEnable)
            .target("user", user.id)
            .details(serde_json::json!({"step": "confirm"}));
        self.store
            .set_totp(user.id, Some(&secret), true, audit)
            .await?;
        Ok(())
    }

    /// Checks a one-time code and spends it: `Err(reason)` when it is wrong (`bad_second_factor`)
    /// or of a time step already used (`reused_second_factor`), so a code seen over a shoulder
    /// or in a log cannot be used again.
    async fn accept_totp_code(
        &self,
        user: &User,
        secret: &str,
        code: &str,
    ) -> AppResult<Result<(), &'static str>> {
        let totp = totp_for(secret, &self.config.totp_issuer, user.username.as_str())?;
        let Some(step) = totp_step(&totp, code)? else {
            return Ok(Err("bad_second_factor"));
        };
        if !self.store.accept_totp_step(user.id, step).await? {
            return Ok(Err("reused_second_factor"));
        }
        Ok(Ok(()))
    }
}

/// The current code for a base32 secret (for tests and the demo, never for checking).
pub fn current_totp_code(secret_b32: &str) -> AppResult<String> {
    let totp = totp_for(secret_b32, "Homeward", "user")?;
    totp.generate_current()
        .map_err(|e| AppError::Internal(format!("clock error: {e}")))
}

/// The code of the next time step (for tests: a code is accepted once, so a test that has just
/// used the current one signs in with the next, which the clock skew still lets through).
pub fn next_totp_code(secret_b32: &str) -> AppResult<String> {
    let totp = totp_for(secret_b32, "Homeward", "user")?;
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| AppError::Internal(format!("clock before 1970: {e}")))?
        .as_secs();
    Ok(totp.generate((t / totp.step + 1) * totp.step))
}
