//! The app reads the time from its clock: a test moves a settable clock instead of writing
//! dates in the past.
#![allow(clippy::unwrap_used)]

mod common;
use chrono::{Duration, Utc};
use common::{PW, worlds};
use homeward_app::auth::LoginRequest;
use homeward_app::clock::Clock;
use homeward_app::{AppConfig, AppError};

#[tokio::test(flavor = "multi_thread")]
async fn a_session_ends_once_the_clock_passes_its_idle_limit() {
    let clock = Clock::settable(Utc::now());
    let config = AppConfig {
        clock: clock.clone(),
        ..AppConfig::default()
    };
    let idle = config.session_idle;
    for w in worlds(config).await {
        w.user(w.mediator.id, "m.cw", &["caseworker"]).await;
        let login = LoginRequest {
            username: "m.cw".into(),
            password: PW.into(),
            totp_code: None,
        };
        let session = w.app.login(login, None).await.unwrap();
        assert_eq!(session.expires_at, clock.now() + idle);

        assert!(clock.advance(idle - Duration::minutes(1)));
        w.app
            .authenticate_session(&session.token, None)
            .await
            .unwrap();

        assert!(clock.advance(idle + Duration::minutes(1)));
        let late = w.app.authenticate_session(&session.token, None).await;
        assert!(matches!(late, Err(AppError::Unauthenticated)), "{late:?}");
        w.finish().await;
    }
}
