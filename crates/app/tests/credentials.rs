//! Password guessing and stale credentials: every door that checks a password or a one-time code
//! is throttled by the one sign-in allowance; a password change or reset revokes the account's
//! API tokens (a self-service change may keep them); a one-time code is accepted once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{PW, worlds};
use homeward_app::auth::{LoginRequest, current_totp_code, next_totp_code};
use homeward_app::{Actor, AppConfig, AppError};

fn login(username: &str, password: &str, code: Option<String>) -> LoginRequest {
    LoginRequest {
        username: username.into(),
        password: password.into(),
        totp_code: code,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn guesses_at_the_password_change_are_throttled_like_sign_ins() {
    for w in worlds(AppConfig::default()).await {
        let o = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let max = w.app.config().login_max_failures;
        for _ in 0..max {
            let wrong = w
                .app
                .change_own_password(&o, "a wrong guess here", "another long password", false)
                .await;
            assert!(matches!(wrong, Err(AppError::Validation(_))), "{wrong:?}");
        }
        // The right password no longer helps: the guesser cannot tell it was right.
        let right = w
            .app
            .change_own_password(&o, PW, "another long password", false)
            .await;
        assert!(
            matches!(right, Err(AppError::TooManyAttempts { retry_after_secs }) if retry_after_secs > 0),
            "{right:?}"
        );
        // One allowance per account, whichever door the guesses came through.
        assert!(matches!(
            w.app.login(login("o.cw", PW, None), None).await,
            Err(AppError::TooManyAttempts { .. })
        ));
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn guesses_at_the_enrolment_code_are_throttled() {
    for w in worlds(AppConfig::default()).await {
        let o = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let enrol = w.app.begin_totp_enrolment(&o).await.unwrap();
        let right = current_totp_code(&enrol.secret).unwrap();
        let wrong = if right == "000000" {
            "111111"
        } else {
            "000000"
        };
        for _ in 0..w.app.config().login_max_failures {
            assert!(matches!(
                w.app.confirm_totp_enrolment(&o, wrong).await,
                Err(AppError::Validation(_))
            ));
        }
        assert!(matches!(
            w.app.confirm_totp_enrolment(&o, &right).await,
            Err(AppError::TooManyAttempts { .. })
        ));
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_change_or_reset_revokes_the_api_tokens() {
    for w in worlds(AppConfig::default()).await {
        let o = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let admin = w.user(w.origin.id, "o.admin", &["admin"]).await;

        let t = w.app.create_token(&o, "nightly", None).await.unwrap();
        w.app
            .change_own_password(&o, PW, "second long password", false)
            .await
            .unwrap();
        assert!(matches!(
            w.app.authenticate_token(&t.token, None).await,
            Err(AppError::Unauthenticated)
        ));

        // Asked explicitly, a self-service change keeps them.
        let kept = w.app.create_token(&o, "nightly", None).await.unwrap();
        w.app
            .change_own_password(&o, "second long password", "third long password", true)
            .await
            .unwrap();
        w.app.authenticate_token(&kept.token, None).await.unwrap();

        // An administrator's reset always revokes them.
        w.app
            .reset_password(Actor::User(&admin), o.user().id, "fourth long password")
            .await
            .unwrap();
        assert!(matches!(
            w.app.authenticate_token(&kept.token, None).await,
            Err(AppError::Unauthenticated)
        ));
        let listed = w.app.list_tokens(&o).await.unwrap();
        assert!(listed.iter().all(|k| k.revoked_at.is_some()), "{listed:?}");
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_one_time_code_signs_in_once() {
    for w in worlds(AppConfig::default()).await {
        let o = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let enrol = w.app.begin_totp_enrolment(&o).await.unwrap();
        let first = current_totp_code(&enrol.secret).unwrap();
        w.app.confirm_totp_enrolment(&o, &first).await.unwrap();

        // The code that confirmed the enrolment is spent.
        assert!(matches!(
            w.app.login(login("o.cw", PW, Some(first)), None).await,
            Err(AppError::InvalidSecondFactor)
        ));
        let next = next_totp_code(&enrol.secret).unwrap();
        w.app
            .login(login("o.cw", PW, Some(next.clone())), None)
            .await
            .unwrap();
        // Replayed (say, read over a shoulder), it is refused, and counted as a failure.
        assert!(matches!(
            w.app.login(login("o.cw", PW, Some(next)), None).await,
            Err(AppError::InvalidSecondFactor)
        ));
        w.finish().await;
    }
}
