//! Party autonomy: an administrator manages the users of their own party only. The mediator's
//! administrator is no exception: whoever could make or take over an account of the custody
//! party could approve a transfer list as custody. Each party's first administrator is made on
//! the server's command line, which may create users in any party.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{PW, worlds};
use homeward_app::admin::NewUserInput;
use homeward_app::console::Console;
use homeward_app::{Actor, AppConfig, AppError};

fn new_user(party: homeward_domain::PartyId, username: &str, role: &str) -> NewUserInput {
    NewUserInput {
        party_id: party,
        username: username.into(),
        display_name: None,
        roles: vec![role.into()],
        password: PW.into(),
        language: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mediators_administrator_manages_only_the_mediators_users() {
    for w in worlds(AppConfig::default()).await {
        let admin = w.user(w.mediator.id, "m.admin", &["admin"]).await;
        let ivan = w.user(w.custody.id, "c.ivan", &["caseworker"]).await;
        let token = w.app.create_token(&ivan, "sync", None).await.unwrap();
        let a = Actor::User(&admin);

        let made = w
            .app
            .create_user(a, new_user(w.custody.id, "spy", "logistics"))
            .await;
        assert!(
            matches!(made, Err(AppError::ForbiddenBecause(_))),
            "{made:?}"
        );
        assert!(matches!(
            w.app.list_users(a, Some(w.custody.id)).await,
            Err(AppError::ForbiddenBecause(_))
        ));
        let listed = w.app.list_users(a, None).await.unwrap();
        assert!(
            listed.iter().all(|u| u.party_id == w.mediator.id),
            "{listed:?}"
        );

        // Taking over custody's caseworker: every way answers as if he did not exist.
        let id = ivan.user().id;
        let not_found = |r: Result<(), AppError>, what: &str| {
            assert!(matches!(r, Err(AppError::NotFound)), "{what}: {r:?}");
        };
        not_found(
            w.app.reset_password(a, id, "taken over password").await,
            "reset",
        );
        not_found(w.app.reset_totp(a, id).await, "second factor");
        not_found(
            w.app
                .update_user(a, id, Some(vec!["logistics".into()]), None)
                .await
                .map(|_| ()),
            "roles",
        );
        not_found(
            w.app.update_user(a, id, None, Some(true)).await.map(|_| ()),
            "disable",
        );
        not_found(w.app.get_managed_user(a, id).await.map(|_| ()), "read");
        not_found(w.app.list_user_tokens(a, id).await.map(|_| ()), "tokens");
        not_found(w.app.revoke_token(a, token.meta.id).await, "revoke");
        w.app.authenticate_token(&token.token, None).await.unwrap();
        let still = Console::new(&w.app).find_user("c.ivan").await.unwrap();
        assert!(!still.disabled && still.roles == ivan.user().roles);

        // In its own party it does all of it; the command line makes users anywhere.
        let mira = w
            .app
            .create_user(a, new_user(w.mediator.id, "m.mira", "viewer"))
            .await
            .unwrap();
        w.app
            .reset_password(a, mira.id, "another long password")
            .await
            .unwrap();
        w.app
            .create_user(Console::actor(), new_user(w.custody.id, "c.admin", "admin"))
            .await
            .unwrap();
        w.finish().await;
    }
}
