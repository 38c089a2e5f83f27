use crate::BadInput;
use anyhow::Context;
use homeward_app::attachments::{AttachmentKey, DEFAULT_MAX_ATTACHMENT_BYTES};
use homeward_app::{App, AppConfig};
use homeward_web::WebOptions;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The environment variable that may hold the attachment key itself (64 hex digits or base64).
/// There is deliberately no command-line flag for the key: command lines are visible to every
/// user of the machine.
pub const ATTACHMENT_KEY_ENV: &str = "HOMEWARD_ATTACHMENT_KEY";

/// The environment variable that, when set, is the token `/metrics` requires (as a bearer token).
/// No flag, for the same reason as the attachment key.
pub const METRICS_TOKEN_ENV: &str = "HOMEWARD_METRICS_TOKEN";

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "HOMEWARD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Refuse administration to admins who have not enrolled a TOTP second factor.
    #[arg(long, env = "HOMEWARD_REQUIRE_ADMIN_TOTP")]
    pub require_admin_totp: bool,
    /// Take the client address from X-Forwarded-For (only behind a proxy you run).
    #[arg(long, env = "HOMEWARD_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
    /// Send session cookies without the Secure flag (only for plain HTTP on a loopback address).
    #[arg(long, env = "HOMEWARD_INSECURE_COOKIES")]
    pub insecure_cookies: bool,
    /// Minutes without a request after which a session ends.
    #[arg(long, env = "HOMEWARD_SESSION_IDLE_MINUTES", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub session_idle_minutes: u32,
    /// File holding the key attachments are encrypted with: 32 bytes as 64 hex digits or base64
    /// (e.g. `openssl rand -hex 32`). Or put the key itself in HOMEWARD_ATTACHMENT_KEY. Without a
    /// key, uploads are refused. Keep the key safe: attachments cannot be read without it.
    #[arg(long, env = "HOMEWARD_ATTACHMENT_KEY_FILE")]
    pub attachment_key_file: Option<PathBuf>,
    /// Largest attachment taken, in bytes.
    #[arg(long, env = "HOMEWARD_MAX_ATTACHMENT_BYTES", default_value_t = DEFAULT_MAX_ATTACHMENT_BYTES,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=(1 << 30)))]
    pub max_attachment_bytes: usize,
    /// Four eyes on matches: a candidate is confirmed only when a second, different reviewer
    /// confirms it too.
    #[arg(long, env = "HOMEWARD_REQUIRE_SECOND_REVIEW")]
    pub require_second_review: bool,
    /// A JSON file with the case policies (verification, consent, best interests, matching,
    /// aftercare); fields left out keep their defaults. See `CasePolicy` in the API document.
    #[arg(long, env = "HOMEWARD_CASE_POLICY")]
    pub case_policy: Option<PathBuf>,
    /// Seconds a job worker's claim holds a job before another server may take it over (a
    /// running job renews it as it goes). Shorter: a crashed server's job resumes sooner.
    #[arg(long, env = "HOMEWARD_JOB_LEASE_SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(2..=86_400))]
    pub job_lease_seconds: u64,
    /// The Ed25519 private key evidence bundles are signed with (from `homeward audit keygen`).
    /// Without it, observers cannot export bundles.
    #[arg(long, env = "HOMEWARD_EVIDENCE_KEY_FILE")]
    pub evidence_key_file: Option<PathBuf>,
    /// Smallest encoded list a side may upload for privacy-preserving linkage (records): smaller
    /// lists are refused, so that nobody can probe for one child.
    #[arg(long, env = "HOMEWARD_PPRL_MIN_LIST_SIZE", default_value_t = homeward_app::pprl::DEFAULT_MIN_LIST_SIZE,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000_000))]
    pub pprl_min_list_size: usize,
    /// Largest encoded list a side may upload (records).
    #[arg(long, env = "HOMEWARD_PPRL_MAX_LIST_SIZE", default_value_t = homeward_app::pprl::DEFAULT_MAX_LIST_SIZE,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000_000))]
    pub pprl_max_list_size: usize,
}

impl ServeArgs {
    /// The app's settings; attachments are kept in `DATA/attachments`. A key that is given but
    /// unusable is bad input (exit 2), so a server never starts believing it can keep files.
    pub fn app_config(&self, data: &Path) -> anyhow::Result<AppConfig> {
        let from_env = std::env::var(ATTACHMENT_KEY_ENV).ok();
        let attachment_key = attachment_key(self.attachment_key_file.as_deref(), from_env)?;
        if attachment_key.is_none() {
            tracing::warn!(
                "no attachment key configured (--attachment-key-file or {ATTACHMENT_KEY_ENV}): uploads are refused"
            );
        }
        if self.pprl_min_list_size > self.pprl_max_list_size {
            return Err(anyhow::Error::new(BadInput(format!(
                "--pprl-min-list-size ({}) is larger than --pprl-max-list-size ({})",
                self.pprl_min_list_size, self.pprl_max_list_size
            ))));
        }
        let case_policy = match &self.case_policy {
            Some(path) => read_case_policy(path)?,
            None => homeward_domain::CasePolicy::default(),
        };
        Ok(AppConfig {
            require_admin_totp: self.require_admin_totp,
            require_second_review: self.require_second_review,
            case_policy,
            session_idle: chrono::Duration::minutes(i64::from(self.session_idle_minutes)),
            max_attachment_bytes: self.max_attachment_bytes,
            attachment_key,
            attachment_dir: Some(data.join("attachments")),
            // The server's job workers run follow-ups, so requests answer at once.
            inline_jobs: false,
            job_lease: std::time::Duration::from_secs(self.job_lease_seconds),
            evidence_key: evidence_key(self.evidence_key_file.as_deref())?,
            pprl_min_list_size: self.pprl_min_list_size,
            pprl_max_list_size: self.pprl_max_list_size,
            ..AppConfig::default()
        })
    }

    pub fn web_options(&self) -> WebOptions {
        WebOptions {
            trust_forwarded_for: self.trust_forwarded_for,
            secure_cookies: !self.insecure_cookies,
            metrics_token: std::env::var(METRICS_TOKEN_ENV)
                .ok()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty()),
            ..WebOptions::default()
        }
    }
}

/// Reads and checks a case policy file; every problem is bad input (exit 2) naming the field, so
/// a server never starts with a policy other than the one written.
fn read_case_policy(path: &Path) -> anyhow::Result<homeward_domain::CasePolicy> {
    let bad = |what: String| anyhow::Error::new(BadInput(what));
    let text = std::fs::read_to_string(path).map_err(|e| {
        bad(format!(
            "cannot read the case policy {}: {e}",
            path.display()
        ))
    })?;
    let policy: homeward_domain::CasePolicy = serde_json::from_str(&text)
        .map_err(|e| bad(format!("case policy {}: {e}", path.display())))?;
    policy.validate().map_err(|errs| {
        bad(format!(
            "case policy {}: {}",
            path.display(),
            errs.0
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })?;
    Ok(policy)
}

/// The key from the key file or from the environment (not both: which one wins would be a guess).
pub(crate) fn attachment_key(
    file: Option<&Path>,
    from_env: Option<String>,
) -> anyhow::Result<Option<AttachmentKey>> {
    let bad = |what: String| anyhow::Error::new(BadInput(what));
    let text = match (file, from_env) {
        (Some(_), Some(_)) => {
            return Err(bad(format!(
                "give the attachment key either in a file (--attachment-key-file) or in {ATTACHMENT_KEY_ENV}, not both"
            )));
        }
        (Some(path), None) => {
            zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
                bad(format!(
                    "cannot read the attachment key file {}: {e}",
                    path.display()
                ))
            })?)
        }
        (None, Some(text)) => zeroize::Zeroizing::new(text),
        (None, None) => return Ok(None),
    };
    AttachmentKey::parse(&text)
        .map(Some)
        .map_err(|e| bad(format!("bad attachment key: {e}")))
}

pub async fn run(app: App, args: &ServeArgs) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    serve_on(app, listener, args.web_options()).await
}

/// Serves until Ctrl-C or SIGTERM, then lets requests in flight finish.
pub async fn serve_on(
    app: App,
    listener: tokio::net::TcpListener,
    opts: WebOptions,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    // The startup check: matching a crash (or an older version) left undone is queued again.
    app.enqueue_owed_matching()
        .await
        .context("cannot check for records whose matching never ran")?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = {
        let app = app.clone();
        let name = App::worker_name("serve");
        tokio::spawn(async move { app.work_jobs(&name, stopped).await })
    };
    tracing::info!(%addr, backend = app.backend(), "homeward listening");
    let served = homeward_web::serve(app, listener, opts, shutdown_signal())
        .await
        .context("the server stopped with an error");
    // A job being run is handed back (queued, lease released) for another server or the next
    // start to take at once.
    let _ = stop.send(true);
    if let Err(e) = worker.await {
        tracing::error!(error = %e, "the job worker stopped abnormally");
    }
    served
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// The evidence signing key from its file; a file that is given but unusable is bad input.
fn evidence_key(
    file: Option<&Path>,
) -> anyhow::Result<Option<homeward_app::evidence::EvidenceKey>> {
    let Some(path) = file else {
        return Ok(None);
    };
    let bad = |what: String| anyhow::Error::new(BadInput(what));
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
        bad(format!(
            "cannot read the evidence key file {}: {e}",
            path.display()
        ))
    })?);
    homeward_app::checkpoint::parse_signing_key(&text)
        .map(|k| Some(homeward_app::evidence::EvidenceKey::new(k)))
        .map_err(|e| bad(format!("evidence key file {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn the_key_comes_from_a_file_or_the_environment_and_bad_keys_are_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        std::fs::write(&file, format!("{HEX}\n")).unwrap();
        assert!(attachment_key(Some(&file), None).unwrap().is_some());
        assert!(
            attachment_key(None, Some(HEX.to_owned()))
                .unwrap()
                .is_some()
        );
        assert!(attachment_key(None, None).unwrap().is_none());
        for (f, env) in [
            (Some(file.as_path()), Some(HEX.to_owned())),
            (None, Some("not a key".to_owned())),
            (Some(dir.path().join("missing").as_path()), None),
        ] {
            let e = attachment_key(f, env).unwrap_err();
            assert!(e.downcast_ref::<BadInput>().is_some(), "{e}");
        }
        std::fs::write(&file, "short").unwrap();
        let e = attachment_key(Some(&file), None).unwrap_err();
        assert!(e.to_string().contains("64 hexadecimal digits"), "{e}");
    }

    #[test]
    fn a_case_policy_file_is_read_whole_or_refused_naming_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("policy.json");
        std::fs::write(
            &file,
            r#"{"verification": {"min_independent_methods": 3}, "aftercare": {"schedule_months": [1, 2]}}"#,
        )
        .unwrap();
        let p = read_case_policy(&file).unwrap();
        assert_eq!(p.verification.min_independent_methods, 3);
        assert_eq!(p.aftercare.schedule_months, [1, 2]);
        assert_eq!(p.consent, homeward_domain::ConsentPolicy::default());
        for (text, needle) in [
            (r#"{"verificaton": {}}"#, "unknown field"),
            (
                r#"{"matching": {"confirmations": 0}}"#,
                "matching.confirmations",
            ),
            ("not json", "expected"),
        ] {
            std::fs::write(&file, text).unwrap();
            let e = read_case_policy(&file).unwrap_err();
            assert!(e.downcast_ref::<BadInput>().is_some(), "{e}");
            assert!(e.to_string().contains(needle), "{e}");
        }
    }

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn the_pprl_list_size_limits_come_from_serve_flags_and_min_above_max_is_bad_input() {
        use clap::Parser;
        let dir = tempfile::tempdir().unwrap();
        let args = Cli::try_parse_from(["serve"]).unwrap().serve;
        let c = args.app_config(dir.path()).unwrap();
        assert_eq!(
            c.pprl_min_list_size,
            homeward_app::pprl::DEFAULT_MIN_LIST_SIZE
        );
        assert_eq!(
            c.pprl_max_list_size,
            homeward_app::pprl::DEFAULT_MAX_LIST_SIZE
        );
        let args = Cli::try_parse_from([
            "serve",
            "--pprl-min-list-size",
            "200",
            "--pprl-max-list-size",
            "500000",
        ])
        .unwrap()
        .serve;
        let c = args.app_config(dir.path()).unwrap();
        assert_eq!((c.pprl_min_list_size, c.pprl_max_list_size), (200, 500_000));
        assert!(Cli::try_parse_from(["serve", "--pprl-min-list-size", "0"]).is_err());
        let args = Cli::try_parse_from([
            "serve",
            "--pprl-min-list-size",
            "600",
            "--pprl-max-list-size",
            "500",
        ])
        .unwrap()
        .serve;
        let e = args.app_config(dir.path()).unwrap_err();
        assert!(e.downcast_ref::<BadInput>().is_some(), "{e}");
        assert!(e.to_string().contains("--pprl-min-list-size"), "{e}");
    }
}
