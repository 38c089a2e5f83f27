use anyhow::Context;
use homeward_app::{App, AppConfig};
use homeward_web::WebOptions;
use std::net::SocketAddr;

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
}

impl ServeArgs {
    pub fn app_config(&self) -> AppConfig {
        AppConfig {
            require_admin_totp: self.require_admin_totp,
            session_idle: chrono::Duration::minutes(i64::from(self.session_idle_minutes)),
            ..AppConfig::default()
        }
    }

    pub fn web_options(&self) -> WebOptions {
        WebOptions {
            trust_forwarded_for: self.trust_forwarded_for,
            secure_cookies: !self.insecure_cookies,
            ..WebOptions::default()
        }
    }
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
    tracing::info!(%addr, backend = app.backend(), "homeward listening");
    homeward_web::serve(app, listener, opts, shutdown_signal())
        .await
        .context("the server stopped with an error")
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
