//! The administration pages and my account: parties, users (roles, disabling, passwords, second
//! factors, tokens), the role matrix, API tokens; the same refusals as the API for everyone the
//! permission table leaves out; a CSRF token on every form.

use crate::helpers::*;
use crate::*;
use homeward_app::auth::{current_totp_code, next_totp_code};
use homeward_app::console::Console;
use reqwest::StatusCode;
use serde_json::json;

/// The text of the element with this id (its first text, up to the next tag).
fn text_of(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    let start = at + html[at..].find('>').unwrap() + 1;
    html[start..start + html[start..].find('<').unwrap()].to_owned()
}

async fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_administrator_manages_parties_and_users_through_the_pages() {
    on_every_backend(async |t: &TestApp| {
        let mediator = t.cli_party("Task force", "mediator").await;
        let admin = t.cli_user(&mediator, "admin", &["admin"]).await;
        let (c, csrf) = sign_in(t, "admin").await;

        // Parties: listed with their kind and users; validation errors come back on the form.
        let (status, page) = get(&c, t, "/admin/parties").await;
        assert_eq!(status, StatusCode::OK);
        assert_every_form_has_csrf(&page);
        assert!(
            page.contains("Task force") && page.contains("Mediator"),
            "{page}"
        );
        assert!(
            page.contains("href=\"/admin\""),
            "the navigation leads here"
        );
        let res = post_form(
            &c,
            t,
            "/admin/parties",
            &[("csrf", &csrf), ("name", "  "), ("kind", "origin")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        let page = res.text().await.unwrap();
        assert!(page.contains("<code>invalid_party_name</code>"), "{page}");
        assert!(page.contains("aria-invalid=\"true\""));
        assert!(
            page.contains("<option value=\"origin\" selected>"),
            "the kind is kept"
        );
        let res = post_form(
            &c,
            t,
            "/admin/parties",
            &[("csrf", &csrf), ("name", "Ombudsman"), ("kind", "origin")],
        )
        .await;
        let page = res.text().await.unwrap();
        assert!(page.contains("Party created:"), "{page}");
        assert!(page.contains("Origin side"));
        let res = post_form(
            &c,
            t,
            "/admin/parties",
            &[("csrf", &csrf), ("name", "Ombudsman"), ("kind", "origin")],
        )
        .await;
        assert!(res.text().await.unwrap().contains("<code>conflict</code>"));
        let origin = t.app.find_party("Ombudsman").await.unwrap();

        // The new party's first administrator is made on the command line, not here: the form
        // offers the administrator's own party only, and the app refuses another.
        let (status, page) = get(&c, t, "/admin/parties").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("id=\"first-admin\""), "{page}");
        let (status, page) = get(&c, t, "/admin/users").await;
        assert_eq!(status, StatusCode::OK);
        assert_every_form_has_csrf(&page);
        assert!(page.contains("data-user=\"admin\""));
        assert!(
            !page.contains(&format!("<option value=\"{}\"", origin.id)),
            "{page}"
        );
        let res = post_form(
            &c,
            t,
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("username", "oleh"),
                ("party_id", &origin.id.to_string()),
                ("roles", "admin"),
                ("password", PASSWORD),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(Console::new(&t.app).find_user("oleh").await.is_err());
        let (status, _) = get(&c, t, &format!("/admin/users?party={}", origin.id)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let oadmin = t.cli_user(&origin, "oadmin", &["admin"]).await;
        let (status, _) = get(&c, t, &format!("/admin/users/{}", oadmin.id)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let res = post_form(
            &c,
            t,
            &format!("/admin/users/{}/password", oadmin.id),
            &[
                ("csrf", &csrf),
                ("new_password", "a taken over password"),
                ("confirm", "yes"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        t.login("oadmin", PASSWORD).await;

        // A new user: a short password is refused on the form, which keeps everything else.
        let party = mediator.id.to_string();
        let res = post_form(
            &c,
            t,
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("username", "olena"),
                ("display_name", "Олена Коваль"),
                ("party_id", &party),
                ("roles", "caseworker"),
                ("roles", "viewer"),
                ("language", "uk"),
                ("password", "short"),
            ],
        )
        .await;
        let page = res.text().await.unwrap();
        assert!(page.contains("<code>password_too_short</code>"), "{page}");
        assert!(page.contains("value=\"Олена Коваль\""));
        assert!(page.contains("value=\"viewer\" checked"));
        assert!(
            !page.contains("value=\"short\""),
            "a password is never sent back"
        );
        let res = post_form(
            &c,
            t,
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("username", "olena"),
                ("party_id", ""),
                ("roles", "viewer"),
                ("password", PASSWORD),
            ],
        )
        .await;
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("<code>unknown_party</code>")
        );

        // Without a password one is made and shown once, in a page no cache keeps.
        let res = post_form(
            &c,
            t,
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("username", "olena"),
                ("display_name", "Олена Коваль"),
                ("party_id", &party),
                ("roles", "caseworker"),
                ("roles", "viewer"),
                ("language", "uk"),
                ("password", ""),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["cache-control"], "no-store");
        let page = res.text().await.unwrap();
        assert!(page.contains("created with a generated password"), "{page}");
        let first = text_of(&page, "new-password");
        assert_eq!(first.chars().count(), 23);
        t.login("olena", &first).await;
        let olena = Console::new(&t.app).find_user("olena").await.unwrap();
        assert_eq!(olena.language, Some(homeward_domain::Language::Uk));
        assert_eq!(olena.roles.len(), 2);
        let olena_page = format!("/admin/users/{}", olena.id);
        let (_, page) = get(&c, t, &olena_page).await;
        assert!(
            !page.contains(&first),
            "the password is not shown a second time"
        );
        assert_every_form_has_csrf(&page);

        // Filters: by role and status; another party's filter by party id.
        let search = async |f: &[(&str, &str)]| {
            let mut body = vec![("csrf", csrf.as_str())];
            body.extend_from_slice(f);
            let res = post_form(&c, t, "/admin/users/search", &body).await;
            assert_eq!(res.status(), StatusCode::OK);
            res.text().await.unwrap()
        };
        let page = search(&[("role", "caseworker")]).await;
        assert!(page.contains("data-user=\"olena\"") && !page.contains("data-user=\"admin\""));
        assert!(page.contains("value=\"caseworker\" selected"));
        let page = search(&[("status", "disabled")]).await;
        assert!(page.contains("No users match."));
        let (_, page) = get(&c, t, &format!("/admin/users?party={}", mediator.id)).await;
        assert!(page.contains("data-user=\"olena\"") && page.contains("data-user=\"admin\""));
        assert!(!page.contains("data-user=\"oadmin\""));

        // Roles are changed and the page says so.
        let res = post_form(
            &c,
            t,
            &format!("{olena_page}/roles"),
            &[("csrf", &csrf), ("roles", "viewer")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (_, page) = get(&c, t, &location(&res).await).await;
        assert!(page.contains("The roles were saved."), "{page}");
        assert!(page.contains("value=\"viewer\" checked"));
        assert!(!page.contains("value=\"caseworker\" checked"));
        let res = post_form(&c, t, &format!("{olena_page}/roles"), &[("csrf", &csrf)]).await;
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("<code>roles_required</code>")
        );

        // Disabling locks her out, so it asks first; nothing changes until confirmed.
        let res = post_form(
            &c,
            t,
            &format!("{olena_page}/status"),
            &[("csrf", &csrf), ("disabled", "true")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        let page = res.text().await.unwrap();
        assert!(page.contains("id=\"confirm-disable\""), "{page}");
        assert_every_form_has_csrf(&page);
        assert!(
            !Console::new(&t.app)
                .find_user("olena")
                .await
                .unwrap()
                .disabled
        );
        let res = post_form(
            &c,
            t,
            &format!("{olena_page}/status"),
            &[("csrf", &csrf), ("disabled", "true"), ("confirm", "yes")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (_, page) = get(&c, t, &location(&res).await).await;
        assert!(page.contains("The account is disabled"), "{page}");
        let res = t.try_login(&t.anonymous(), "olena", &first, None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let res = post_form(
            &c,
            t,
            &format!("{olena_page}/status"),
            &[("csrf", &csrf), ("disabled", "false")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        t.login("olena", &first).await;

        // A password reset signs her out everywhere: the box must be ticked.
        let res = post_form(
            &c,
            t,
            &format!("{olena_page}/password"),
            &[("csrf", &csrf), ("new_password", "a brand new password")],
        )
        .await;
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("<code>confirmation_required</code>")
        );
        let res = post_form(
            &c,
            t,
            &format!("{olena_page}/password"),
            &[
                ("csrf", &csrf),
                ("new_password", "a brand new password"),
                ("confirm", "yes"),
            ],
        )
        .await;
        let page = res.text().await.unwrap();
        assert!(
            page.contains("every session of the account has ended and its API tokens were revoked"),
            "{page}"
        );
        assert!(
            !page.contains("id=\"new-password\""),
            "a typed password is not shown"
        );
        t.login("olena", "a brand new password").await;

        // Her second factor, lost with her phone, is removed.
        let caller = Console::new(&t.app).caller("olena").await.unwrap();
        let e = t.app.begin_totp_enrolment(&caller).await.unwrap();
        let code = current_totp_code(&e.secret).unwrap();
        t.app.confirm_totp_enrolment(&caller, &code).await.unwrap();
        let res = post_form(&c, t, &format!("{olena_page}/totp"), &[("csrf", &csrf)]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(
            !Console::new(&t.app)
                .find_user("olena")
                .await
                .unwrap()
                .totp_enabled
        );

        // Her API token, listed on her page, is revoked from there.
        let s = t.login("olena", "a brand new password").await;
        let token = expect(
            s.post("/api/v1/me/tokens", &json!({ "name": "nightly export" }))
                .await,
            StatusCode::CREATED,
        )
        .await;
        let (_, page) = get(&c, t, &olena_page).await;
        assert!(page.contains("nightly export"), "{page}");
        let id = token["id"].as_str().unwrap();
        let admin_api = t.login("admin", PASSWORD).await;
        let listed = expect(
            admin_api
                .get(&format!("/api/v1/users/{}/tokens", olena.id))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(listed[0]["id"], id);
        assert!(listed[0].get("token").is_none(), "never the secret");
        let res = post_form(
            &c,
            t,
            &format!("{olena_page}/tokens/{id}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = t
            .anonymous()
            .get(t.url("/api/v1/me"))
            .bearer_auth(token["token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

        // An administrator cannot lock themself out: no button, and the app refuses the form.
        let own = format!("/admin/users/{}", admin.id);
        let (_, page) = get(&c, t, &own).await;
        assert!(!page.contains("id=\"disable\""));
        let res = post_form(
            &c,
            t,
            &format!("{own}/status"),
            &[("csrf", &csrf), ("disabled", "true"), ("confirm", "yes")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(res.text().await.unwrap().contains("<code>forbidden</code>"));

        // Forms without the token are refused before anything happens.
        let res = post_form(
            &c,
            t,
            "/admin/parties",
            &[("name", "Forged"), ("kind", "origin")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(t.app.find_party("Forged").await.is_err());
    })
    .await;
}

#[tokio::test]
async fn the_role_matrix_is_the_permission_table_in_the_persons_language() {
    on_every_backend(async |t: &TestApp| {
        let mediator = t.cli_party("Task force", "mediator").await;
        t.cli_user(&mediator, "admin", &["admin"]).await;
        let (c, csrf) = sign_in(t, "admin").await;
        let (status, page) = get(&c, t, "/admin/roles").await;
        assert_eq!(status, StatusCode::OK);
        for (p, roles, _) in homeward_domain::role::PERMISSIONS {
            let row = &page[page
                .find(&format!("data-permission=\"{}\"", p.as_str()))
                .unwrap()..];
            let row = &row[..row.find("</tr>").unwrap()];
            assert_eq!(
                row.matches("class=\"granted\"").count(),
                roles.len(),
                "{}",
                p.as_str()
            );
        }
        assert!(
            page.contains("Create parties")
                && page.contains("<code class=\"muted\">party_manage</code>")
        );
        post_form(
            &c,
            t,
            "/language",
            &[
                ("csrf", &csrf),
                ("language", "uk"),
                ("back", "/admin/roles"),
            ],
        )
        .await;
        let (_, page) = get(&c, t, "/admin/roles").await;
        assert!(page.contains("Створювати сторони") && page.contains("Адміністратор"));
        assert!(
            page.contains("<code class=\"muted\">admin</code>"),
            "codes beside"
        );
    })
    .await;
}

#[tokio::test]
async fn a_party_administrator_manages_only_their_own_party() {
    on_every_backend(async |t: &TestApp| {
        let mediator = t.cli_party("Task force", "mediator").await;
        let origin = t.cli_party("Ombudsman", "origin").await;
        let mira = t.cli_user(&mediator, "mira", &["caseworker"]).await;
        t.cli_user(&origin, "oadmin", &["admin"]).await;
        t.cli_user(&origin, "olena", &["caseworker"]).await;
        let (c, csrf) = sign_in(t, "oadmin").await;
        let api = t.login("oadmin", PASSWORD).await;

        let (_, page) = get(&c, t, "/admin/users").await;
        assert!(page.contains("data-user=\"olena\"") && !page.contains("data-user=\"mira\""));
        // The party list names every party (as the API does) but counts only their own users.
        let (_, page) = get(&c, t, "/admin/parties").await;
        assert!(page.contains("Task force") && !page.contains("id=\"party-form\""));

        // Another party's user is not there, for the page as for the API.
        let (status, page) = get(&c, t, &format!("/admin/users/{}", mira.id)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(page.contains("<code>not_found</code>"));
        for path in ["", "/tokens"] {
            expect_error(
                api.get(&format!("/api/v1/users/{}{path}", mira.id)).await,
                StatusCode::NOT_FOUND,
                "not_found",
            )
            .await;
        }
        expect_error(
            api.patch(
                &format!("/api/v1/users/{}", mira.id),
                &json!({ "disabled": true }),
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let res = post_form(
            &c,
            t,
            &format!("/admin/users/{}/status", mira.id),
            &[("csrf", &csrf), ("disabled", "true"), ("confirm", "yes")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(
            !Console::new(&t.app)
                .find_user("mira")
                .await
                .unwrap()
                .disabled
        );

        // Creating a user in another party, or a party at all: the API's 403.
        let res = post_form(
            &c,
            t,
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("username", "intruder"),
                ("party_id", &mediator.id.to_string()),
                ("roles", "admin"),
                ("password", PASSWORD),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = post_form(
            &c,
            t,
            "/admin/parties",
            &[("csrf", &csrf), ("name", "Mine"), ("kind", "mediator")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(res.text().await.unwrap().contains("<code>forbidden</code>"));
        expect_error(
            api.post(
                "/api/v1/parties",
                &json!({ "name": "Mine", "kind": "mediator" }),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn someone_who_is_not_an_administrator_gets_the_apis_refusal_everywhere() {
    on_every_backend(async |t: &TestApp| {
        let mediator = t.cli_party("Task force", "mediator").await;
        let admin = t.cli_user(&mediator, "admin", &["admin"]).await;
        t.cli_user(&mediator, "mira", &["caseworker", "reviewer"])
            .await;
        let (c, csrf) = sign_in(t, "mira").await;
        let api = t.login("mira", PASSWORD).await;
        expect_error(
            api.get("/api/v1/users").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        for path in ["", "/tokens"] {
            expect_error(
                api.get(&format!("/api/v1/users/{}{path}", admin.id)).await,
                StatusCode::FORBIDDEN,
                "forbidden",
            )
            .await;
        }
        expect_error(
            api.delete(&format!("/api/v1/users/{}/totp", admin.id), &json!({}))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        expect_error(
            api.patch(
                &format!("/api/v1/users/{}", admin.id),
                &json!({ "disabled": true }),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;

        let (_, dash) = get(&c, t, "/dashboard").await;
        assert!(!dash.contains("href=\"/admin\"") && dash.contains("href=\"/account\""));
        let user = format!("/admin/users/{}", admin.id);
        for path in [
            "/admin/users".to_owned(),
            "/admin/roles".to_owned(),
            user.clone(),
        ] {
            let (status, page) = get(&c, t, &path).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
            assert!(page.contains("<code>forbidden</code>"), "{path}: {page}");
            assert!(page.contains("You are not allowed to do this."));
        }
        let party = mediator.id.to_string();
        let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
            (
                "/admin/users".into(),
                vec![
                    ("username", "x-user"),
                    ("party_id", &party),
                    ("roles", "admin"),
                ],
            ),
            (
                "/admin/parties".into(),
                vec![("name", "P"), ("kind", "origin")],
            ),
            (format!("{user}/roles"), vec![("roles", "viewer")]),
            (
                format!("{user}/status"),
                vec![("disabled", "true"), ("confirm", "yes")],
            ),
            (format!("{user}/status"), vec![("disabled", "true")]),
            (
                format!("{user}/password"),
                vec![
                    ("new_password", "another long password"),
                    ("confirm", "yes"),
                ],
            ),
            (format!("{user}/totp"), vec![]),
        ];
        for (path, fields) in forms {
            let mut body = vec![("csrf", csrf.as_str())];
            body.extend(fields);
            let res = post_form(&c, t, &path, &body).await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
            assert!(res.text().await.unwrap().contains("<code>forbidden</code>"));
        }
        let a = Console::new(&t.app).find_user("admin").await.unwrap();
        assert!(!a.disabled && a.roles == admin.roles);
        // The party list is open to every signed-in person, as in the API, without the form.
        let (status, page) = get(&c, t, "/admin/parties").await;
        assert_eq!(status, StatusCode::OK);
        assert!(!page.contains("id=\"party-form\""));
    })
    .await;
}

#[tokio::test]
async fn my_account_changes_the_password_sets_up_a_second_factor_and_makes_tokens() {
    on_every_backend(async |t: &TestApp| {
        let mediator = t.cli_party("Task force", "mediator").await;
        t.cli_user(&mediator, "mira", &["caseworker"]).await;
        let (c, csrf) = sign_in(t, "mira").await;
        let (status, page) = get(&c, t, "/account").await;
        assert_eq!(status, StatusCode::OK);
        assert_every_form_has_csrf(&page);
        assert!(page.contains("Not set up"));

        // The second factor: a QR code drawn on the page, the otpauth text and the key.
        let res = post_form(&c, t, "/account/totp", &[("csrf", &csrf)]).await;
        assert_eq!(res.headers()["cache-control"], "no-store");
        let page = res.text().await.unwrap();
        assert_every_form_has_csrf(&page);
        assert!(
            page.contains("<svg") && page.contains("role=\"img\""),
            "{page}"
        );
        assert!(!page.contains("style="));
        let totp_secret = text_of(&page, "totp-secret");
        assert!(text_of(&page, "totp-uri").starts_with("otpauth://totp/"));
        let res = post_form(
            &c,
            t,
            "/account/totp/confirm",
            &[("csrf", &csrf), ("code", "000000x")],
        )
        .await;
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("<code>invalid_second_factor</code>")
        );
        let code = current_totp_code(&totp_secret).unwrap();
        let res = post_form(
            &c,
            t,
            "/account/totp/confirm",
            &[("csrf", &csrf), ("code", &code)],
        )
        .await;
        assert_eq!(location(&res).await, "/account?done=totp");
        let (_, page) = get(&c, t, "/account?done=totp").await;
        assert!(page.contains("Your second factor is set up"), "{page}");

        // Tokens: the secret is in the answer to the form, once, and works as a bearer token.
        let (status, page) = get(&c, t, "/account/tokens").await;
        assert_eq!(status, StatusCode::OK);
        assert_every_form_has_csrf(&page);
        let res = post_form(&c, t, "/account/tokens", &[("csrf", &csrf), ("name", " ")]).await;
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("<code>invalid_token_name</code>")
        );
        let res = post_form(
            &c,
            t,
            "/account/tokens",
            &[
                ("csrf", &csrf),
                ("name", "nightly export"),
                ("expires_in_days", "30"),
            ],
        )
        .await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "not a redirect: no secret in a URL"
        );
        assert_eq!(res.headers()["cache-control"], "no-store");
        let page = res.text().await.unwrap();
        assert!(page.contains("cannot be shown again"));
        let secret = text_of(&page, "token-secret");
        assert!(secret.starts_with("hw_"));
        let bearer = |s: &str| {
            t.anonymous()
                .get(t.url("/api/v1/me"))
                .bearer_auth(s.to_owned())
                .send()
        };
        assert_eq!(bearer(&secret).await.unwrap().status(), StatusCode::OK);
        let (_, page) = get(&c, t, "/account/tokens").await;
        assert!(page.contains("nightly export") && !page.contains(&secret));
        let at = page.find("data-token=\"").unwrap() + 12;
        let id = &page[at..at + 36];
        let res = post_form(&c, t, &format!("/tokens/{id}/revoke"), &[("csrf", &csrf)]).await;
        assert_eq!(location(&res).await, "/account/tokens?done=revoked");
        assert_eq!(
            bearer(&secret).await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );

        // The password: both new ones must agree, the current one must be right, and the change
        // ends this session too.
        let res = post_form(
            &c,
            t,
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", PASSWORD),
                ("new_password", "a brand new password"),
                ("repeat_password", "a brand new passw0rd"),
            ],
        )
        .await;
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("<code>passwords_differ</code>")
        );
        let res = post_form(
            &c,
            t,
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", "not my password"),
                ("new_password", "a brand new password"),
                ("repeat_password", "a brand new password"),
            ],
        )
        .await;
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("<code>invalid_credentials</code>")
        );
        let res = post_form(
            &c,
            t,
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", PASSWORD),
                ("new_password", "a brand new password"),
                ("repeat_password", "a brand new password"),
            ],
        )
        .await;
        assert_eq!(location(&res).await, "/login?ended=1");
        let res = c.get(t.url("/account")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // The confirmation spent the current code; the next one signs in.
        let code = next_totp_code(&totp_secret).unwrap();
        t.login_with("mira", "a brand new password", Some(&code))
            .await;
    })
    .await;
}
