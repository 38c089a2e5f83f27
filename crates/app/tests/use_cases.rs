#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The use-cases against a real store: who may do what, who sees what, and what gets audited.
//! Runs on SQLite, and on PostgreSQL too when HOMEWARD_TEST_POSTGRES_URL is set.

mod common;
use common::{PW, worlds};
use homeward_app::console::Console;

use homeward_app::admin::NewUserInput;
use homeward_app::auth::{LoginRequest, current_totp_code, next_totp_code};
use homeward_app::records::RecordQuery;
use homeward_app::{Actor, AppConfig, AppError};
use homeward_domain::name::NameInput;
use homeward_domain::{ChildRecordInput, RecordId};
use homeward_store::AuditFilter;

fn sought() -> ChildRecordInput {
    ChildRecordInput {
        names: vec![NameInput {
            given: Some("Дмитро".into()),
            family: Some("Олійник".into()),
            ..Default::default()
        }],
        birth_date: Some("2015-03".into()),
        enquirer_name: Some("Оксана Олійник".into()),
        enquirer_relationship: Some("mother".into()),
        ..Default::default()
    }
}

fn held() -> ChildRecordInput {
    ChildRecordInput {
        names: vec![NameInput {
            given: Some("Дмитрий".into()),
            family: Some("Олейник".into()),
            ..Default::default()
        }],
        current_location: Some("Children's home No. 4".into()),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_party_sees_its_own_records_and_the_mediator_sees_all() {
    for w in worlds(AppConfig::default()).await {
        let o = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let c = w.user(w.custody.id, "c.cw", &["caseworker"]).await;
        let m = w.user(w.mediator.id, "m.view", &["viewer"]).await;
        let h_party = w
            .app
            .create_party(Console::actor(), "NGO", "humanitarian")
            .await
            .unwrap();
        let h = w.user(h_party.id, "h.cw", &["caseworker", "viewer"]).await;

        let mine = w.app.create_record(&o, &sought()).await.unwrap();
        let theirs = w.app.create_record(&c, &held()).await.unwrap();

        assert_eq!(w.app.get_record(&o, mine.id).await.unwrap().id, mine.id);
        assert!(matches!(
            w.app.get_record(&c, mine.id).await,
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            w.app.get_record(&c, RecordId::new()).await,
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            w.app.get_record(&h, mine.id).await,
            Err(AppError::Forbidden(_))
        ));
        assert_eq!(w.app.get_record(&m, mine.id).await.unwrap().id, mine.id);

        let list = |caller| {
            let app = w.app.clone();
            async move {
                app.list_records(caller, &RecordQuery::default())
                    .await
                    .unwrap()
                    .items
                    .iter()
                    .map(|r| r.id)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(list(&o).await, vec![mine.id]);
        assert_eq!(list(&c).await, vec![theirs.id]);
        assert_eq!(list(&m).await, vec![mine.id, theirs.id]);

        // The origin side cannot change the custody side's record either.
        assert!(matches!(
            w.app.update_record(&o, theirs.id, 1, &sought()).await,
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            w.app.delete_record(&o, theirs.id, "mistake").await,
            Err(AppError::NotFound)
        ));
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_role_table_decides_who_may_file_and_administer() {
    for w in worlds(AppConfig::default()).await {
        let viewer = w.user(w.origin.id, "o.view", &["viewer"]).await;
        let m_cw = w.user(w.mediator.id, "m.cw", &["caseworker"]).await;
        let o_admin = w.user(w.origin.id, "o.admin", &["admin"]).await;

        assert!(matches!(
            w.app.create_record(&viewer, &sought()).await,
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(
            w.app.create_record(&m_cw, &sought()).await,
            Err(AppError::Forbidden(_) | AppError::ForbiddenBecause(_))
        ));
        assert!(matches!(
            w.app
                .create_party(Actor::User(&o_admin), "X", "origin")
                .await,
            Err(AppError::Forbidden(_))
        ));
        let other_party = NewUserInput {
            party_id: w.custody.id,
            username: "spy".into(),
            roles: vec!["viewer".into()],
            password: PW.into(),
            language: None,
            display_name: None,
        };
        assert!(matches!(
            w.app.create_user(Actor::User(&o_admin), other_party).await,
            Err(AppError::ForbiddenBecause(_))
        ));
        let own_party = NewUserInput {
            party_id: w.origin.id,
            username: "o.new".into(),
            roles: vec!["viewer".into()],
            password: PW.into(),
            language: None,
            display_name: None,
        };
        w.app
            .create_user(Actor::User(&o_admin), own_party)
            .await
            .unwrap();
        // Users of another party answer as missing.
        let c = w.user(w.custody.id, "c.cw", &["caseworker"]).await;
        assert!(matches!(
            w.app
                .reset_password(Actor::User(&o_admin), c.user().id, PW)
                .await,
            Err(AppError::NotFound)
        ));
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_keep_history_and_refuse_stale_versions() {
    for w in worlds(AppConfig::default()).await {
        let o = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let r = w.app.create_record(&o, &sought()).await.unwrap();
        let mut changed = sought();
        changed.birth_place = Some("Херсон".into());
        let r2 = w.app.update_record(&o, r.id, 1, &changed).await.unwrap();
        assert_eq!(r2.version, 2);
        assert!(matches!(
            w.app.update_record(&o, r.id, 1, &sought()).await,
            Err(AppError::VersionConflict { current: 2 })
        ));
        assert!(matches!(
            w.app.delete_record(&o, r.id, "  ").await,
            Err(AppError::Validation(_))
        ));
        let d = w.app.delete_record(&o, r.id, "filed twice").await.unwrap();
        assert_eq!(d.deletion_reason.as_deref(), Some("filed twice"));
        let h = w.app.record_history(&o, r.id).await.unwrap();
        assert_eq!(
            h.iter().map(|v| v.change.as_str()).collect::<Vec<_>>(),
            ["create", "update", "delete"]
        );
        assert_eq!(h[1].content.birth_place.as_deref(), Some("Херсон"));
        // Deleted records drop out of lists unless asked for.
        assert!(
            w.app
                .list_records(&o, &RecordQuery::default())
                .await
                .unwrap()
                .items
                .is_empty()
        );
        let q = RecordQuery {
            include_deleted: true,
            ..Default::default()
        };
        assert_eq!(w.app.list_records(&o, &q).await.unwrap().items.len(), 1);
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn names_are_found_whatever_the_case_or_marks() {
    for w in worlds(AppConfig::default()).await {
        let o = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let r = w.app.create_record(&o, &sought()).await.unwrap();
        for q in ["олійник", "ОЛІЙНИК", "дмитро", "Олиймник"] {
            let found = w
                .app
                .list_records(
                    &o,
                    &RecordQuery {
                        name: Some(q.into()),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            let expect = q != "Олиймник";
            assert_eq!(found.items.iter().any(|x| x.id == r.id), expect, "{q}");
        }
        let found = w
            .app
            .list_records(
                &o,
                &RecordQuery {
                    name: Some("ник_".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(found.items.len(), 1, "punctuation is not a wildcard");
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn paging_walks_every_record_once() {
    for w in worlds(AppConfig::default()).await {
        let o = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let mut ids = Vec::new();
        for _ in 0..7 {
            ids.push(w.app.create_record(&o, &sought()).await.unwrap().id);
        }
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = w
                .app
                .list_records(
                    &o,
                    &RecordQuery {
                        limit: Some(3),
                        after,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            seen.extend(page.items.iter().map(|r| r.id));
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(seen, ids);
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_is_throttled_after_repeated_failures() {
    for w in worlds(AppConfig::default()).await {
        w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let attempt = |pw: &str| LoginRequest {
            username: "o.cw".into(),
            password: pw.into(),
            totp_code: None,
        };
        w.app.login(attempt(PW), None).await.unwrap();
        for _ in 0..5 {
            assert!(matches!(
                w.app.login(attempt("wrong password!"), None).await,
                Err(AppError::InvalidCredentials)
            ));
        }
        assert!(matches!(
            w.app.login(attempt(PW), None).await,
            Err(AppError::TooManyAttempts { .. })
        ));
        // Unknown users are refused the same way, and throttled too.
        assert!(matches!(
            w.app
                .login(
                    LoginRequest {
                        username: "nobody".into(),
                        password: PW.into(),
                        totp_code: None
                    },
                    None
                )
                .await,
            Err(AppError::InvalidCredentials)
        ));
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_tokens_and_totp() {
    let config = AppConfig {
        require_admin_totp: true,
        ..AppConfig::default()
    };
    for w in worlds(config.clone()).await {
        let admin = w.user(w.mediator.id, "m.admin", &["admin"]).await;
        assert!(matches!(
            w.app.create_party(Actor::User(&admin), "P", "origin").await,
            Err(AppError::TotpEnrolmentRequired)
        ));

        let enrol = w.app.begin_totp_enrolment(&admin).await.unwrap();
        assert!(enrol.otpauth_url.starts_with("otpauth://totp/"));
        assert!(
            w.app
                .confirm_totp_enrolment(&admin, "000000x")
                .await
                .is_err()
        );
        w.app
            .confirm_totp_enrolment(&admin, &current_totp_code(&enrol.secret).unwrap())
            .await
            .unwrap();

        let login = |code: Option<String>| LoginRequest {
            username: "m.admin".into(),
            password: PW.into(),
            totp_code: code,
        };
        assert!(matches!(
            w.app.login(login(None), None).await,
            Err(AppError::SecondFactorRequired)
        ));
        let s = w
            .app
            .login(
                // The confirmation spent the current code; the next one signs in.
                login(Some(next_totp_code(&enrol.secret).unwrap())),
                Some("127.0.0.1".into()),
            )
            .await
            .unwrap();
        let (admin, csrf) = w.app.authenticate_session(&s.token, None).await.unwrap();
        assert_eq!(csrf, s.csrf_token);
        w.app
            .create_party(Actor::User(&admin), "P", "origin")
            .await
            .unwrap();

        let t = w
            .app
            .create_token(&admin, "sync job", Some(30))
            .await
            .unwrap();
        assert_eq!(
            w.app
                .authenticate_token(&t.token, None)
                .await
                .unwrap()
                .user()
                .id,
            admin.user().id
        );
        w.app
            .revoke_token(Actor::User(&admin), t.meta.id)
            .await
            .unwrap();
        assert!(matches!(
            w.app.authenticate_token(&t.token, None).await,
            Err(AppError::Unauthenticated)
        ));

        // A lost phone: an administrator removes the second factor, and the password alone works.
        w.app
            .reset_totp(Console::actor(), admin.user().id)
            .await
            .unwrap();
        let again = w.app.login(login(None), None).await.unwrap();
        assert!(!again.user.totp_enabled);

        w.app.logout(&s.token, None).await.unwrap();
        assert!(matches!(
            w.app.authenticate_session(&s.token, None).await,
            Err(AppError::Unauthenticated)
        ));
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_reset_or_disabling_ends_sessions_and_tokens() {
    for w in worlds(AppConfig::default()).await {
        let o = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let login = LoginRequest {
            username: "o.cw".into(),
            password: PW.into(),
            totp_code: None,
        };
        let s = w.app.login(login.clone(), None).await.unwrap();
        w.app
            .reset_password(Console::actor(), o.user().id, "another long password")
            .await
            .unwrap();
        assert!(w.app.authenticate_session(&s.token, None).await.is_err());
        assert!(matches!(
            w.app.login(login, None).await,
            Err(AppError::InvalidCredentials)
        ));

        let t = w.app.create_token(&o, "t", None).await.unwrap();
        w.app
            .update_user(Console::actor(), o.user().id, None, Some(true))
            .await
            .unwrap();
        assert!(w.app.authenticate_token(&t.token, None).await.is_err());
        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_step_is_in_an_intact_audit_chain() {
    for w in worlds(AppConfig::default()).await {
        let o = w.user(w.origin.id, "o.cw", &["caseworker"]).await;
        let auditor = w.user(w.mediator.id, "m.aud", &["auditor"]).await;
        let r = w.app.create_record(&o, &sought()).await.unwrap();
        w.app.get_record(&o, r.id).await.unwrap();
        w.app
            .list_records(&o, &RecordQuery::default())
            .await
            .unwrap();
        let entries = w
            .app
            .list_audit(
                &auditor,
                AuditFilter {
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
        for a in [
            "party.create",
            "user.create",
            "record.create",
            "record.read",
            "record.list",
        ] {
            assert!(actions.contains(&a), "{a} missing from {actions:?}");
        }
        let list = entries.iter().find(|e| e.action == "record.list").unwrap();
        assert!(list.details.contains(&r.id.to_string()), "{}", list.details);
        assert!(!list.details.contains("Дмитро"));
        assert!(matches!(
            w.app.list_audit(&o, AuditFilter::default()).await,
            Err(AppError::Forbidden(_))
        ));
        let report = Console::new(&w.app).verify_audit(&|_| {}).await.unwrap();
        assert_eq!(report.entries, entries.len() as i64 + 1);
        w.finish().await;
    }
}
