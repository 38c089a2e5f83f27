use homeward_app::admin::NewUserInput;
use homeward_app::console::Console;
use homeward_app::{App, AppConfig};
use homeward_domain::{Party, User};
use homeward_store::testing::TestDatabase;
use homeward_web::WebOptions;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const PASSWORD: &str = "correct horse battery staple";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running server on its own throwaway database.
pub struct TestApp {
    pub base: String,
    pub app: App,
    pub backend: Backend,
    db: TestDatabase,
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
}

impl TestApp {
    /// `None` for PostgreSQL when no test server is configured.
    pub async fn spawn(backend: Backend, config: AppConfig, opts: WebOptions) -> Option<Self> {
        let db = match backend {
            Backend::Sqlite => TestDatabase::sqlite()
                .await
                .expect("temporary SQLite database"),
            Backend::Postgres => TestDatabase::postgres()
                .await
                .expect("temporary PostgreSQL database")?,
        };
        let store = db.open().await.expect("open store");
        let app = App::new(store, config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("local addr"));
        let (shutdown, stop) = oneshot::channel::<()>();
        let server = tokio::spawn(homeward_web::serve(app.clone(), listener, opts, async {
            let _ = stop.await;
        }));
        Some(Self {
            base,
            app,
            backend,
            db,
            shutdown,
            server,
        })
    }

    pub async fn cleanup(self) {
        let _ = self.shutdown.send(());
        let _ = tokio::time::timeout(Duration::from_secs(10), self.server).await;
        self.app.close().await;
        self.db.cleanup().await.expect("drop test database");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The database's URL, for opening another store or app on it.
    pub fn db_url(&self) -> &str {
        &self.db.url
    }

    /// Runs SQL on the database directly, bypassing the app (to simulate tampering).
    pub async fn raw_sql(&self, sql: &str) {
        use sqlx::Connection;
        match self.backend {
            Backend::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(&self.db.url)
                    .await
                    .expect("connect");
                sqlx::query(sql).execute(&mut conn).await.expect("raw SQL");
                conn.close().await.expect("close");
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.db.url)
                    .await
                    .expect("connect");
                sqlx::query(sql).execute(&mut conn).await.expect("raw SQL");
                conn.close().await.expect("close");
            }
        }
    }
    /// A client without credentials.
    pub fn anonymous(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .build()
            .expect("client")
    }

    /// A party, made the way the command line makes one.
    pub async fn cli_party(&self, name: &str, kind: &str) -> Party {
        self.app
            .create_party(Console::actor(), name, kind)
            .await
            .expect("create party")
    }

    /// A user, made the way the command line makes one, with [`PASSWORD`].
    pub async fn cli_user(&self, party: &Party, username: &str, roles: &[&str]) -> User {
        let input = NewUserInput {
            party_id: party.id,
            username: username.to_owned(),
            display_name: None,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            password: PASSWORD.to_owned(),
            language: None,
        };
        self.app
            .create_user(Console::actor(), input)
            .await
            .expect("create user")
    }

    /// The three sides of a matching round, each with one user: `olena`, the origin's caseworker;
    /// `ivan`, custody's caseworker; `maria`, the mediator's reviewer.
    pub async fn three_sides(&self) -> ThreeSides {
        let origin = self.cli_party("Ombudsman", "origin").await;
        let custody = self.cli_party("Custody authority", "custody").await;
        let mediator = self.cli_party("Task force", "mediator").await;
        self.cli_user(&origin, "olena", &["caseworker"]).await;
        self.cli_user(&custody, "ivan", &["caseworker"]).await;
        self.cli_user(&mediator, "maria", &["reviewer"]).await;
        ThreeSides {
            origin,
            custody,
            mediator,
        }
    }

    /// A mediator party with an administrator `admin`, signed in.
    pub async fn mediator_admin(&self) -> (Party, Session) {
        let mediator = self.cli_party("Task force", "mediator").await;
        self.cli_user(&mediator, "admin", &["admin"]).await;
        (mediator, self.login("admin", PASSWORD).await)
    }

    pub async fn try_login(
        &self,
        client: &Client,
        username: &str,
        password: &str,
        totp: Option<&str>,
    ) -> Response {
        let mut body = json!({ "username": username, "password": password });
        if let Some(code) = totp {
            body["totp_code"] = json!(code);
        }
        client
            .post(self.url("/api/v1/auth/login"))
            .json(&body)
            .send()
            .await
            .expect("login request")
    }

    pub async fn login(&self, username: &str, password: &str) -> Session {
        self.login_with(username, password, None).await
    }

    pub async fn login_with(&self, username: &str, password: &str, totp: Option<&str>) -> Session {
        let client = self.anonymous();
        let res = self.try_login(&client, username, password, totp).await;
        assert_eq!(res.status(), StatusCode::OK, "login of {username}");
        let body: Value = res.json().await.expect("login body");
        let csrf = body["csrf_token"].as_str().expect("csrf token").to_owned();
        Session {
            client,
            csrf,
            base: self.base.clone(),
            body,
        }
    }
}

/// See [`TestApp::three_sides`].
pub struct ThreeSides {
    pub origin: Party,
    pub custody: Party,
    pub mediator: Party,
}

/// A signed-in browser: the cookie jar holds the session; changes repeat the CSRF token.
pub struct Session {
    pub client: Client,
    pub csrf: String,
    pub base: String,
    /// The login response.
    pub body: Value,
}

impl Session {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> Response {
        self.client
            .request(method, self.url(path))
            .header("x-csrf-token", &self.csrf)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.send(reqwest::Method::POST, path, body).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.send(reqwest::Method::PUT, path, body).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        self.send(reqwest::Method::PATCH, path, body).await
    }

    pub async fn delete(&self, path: &str, body: &Value) -> Response {
        self.send(reqwest::Method::DELETE, path, body).await
    }

    /// Posts a custody list as a CSV file to the import endpoint.
    pub async fn import_custody(&self, csv: impl Into<reqwest::Body>) -> Response {
        self.client
            .post(self.url("/api/v1/imports/custody-records"))
            .header("x-csrf-token", &self.csrf)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .expect("POST CSV")
    }
}

/// Reads a response's status and JSON body, failing with the body when the status is not `want`.
pub async fn expect(res: Response, want: StatusCode) -> Value {
    let status = res.status();
    let text = res.text().await.expect("body");
    assert_eq!(status, want, "unexpected status; body: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("JSON body")
    }
}

/// Asserts an error response: status, JSON shape and code.
pub async fn expect_error(res: Response, want: StatusCode, code: &str) -> Value {
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = expect(res, want).await;
    assert!(
        content_type.starts_with("application/json"),
        "content type {content_type}"
    );
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}

/// Runs `test` against SQLite and, when configured, PostgreSQL.
pub async fn on_every_backend(test: impl AsyncFn(&TestApp)) {
    on_every_backend_with(AppConfig::default(), test_options(), test).await;
}

pub async fn on_every_backend_with(
    config: AppConfig,
    opts: WebOptions,
    test: impl AsyncFn(&TestApp),
) {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = TestApp::spawn(backend, config.clone(), opts.clone()).await else {
            continue;
        };
        test(&app).await;
        app.cleanup().await;
    }
}

/// Plain HTTP on localhost: the cookie cannot be `Secure` or the client would not send it back.
pub fn test_options() -> WebOptions {
    WebOptions {
        secure_cookies: false,
        ..WebOptions::default()
    }
}

/// A valid tracing request.
pub fn tracing_request(given: &str) -> Value {
    json!({
        "external_ref": format!("TR-{given}"),
        "names": [{ "given": given, "family": "Олійник", "script": "uk-Cyrl" }],
        "sex": "male",
        "birth_date": "2015-03",
        "last_known_location": "Херсон",
        "enquirer_name": "Оксана Олійник",
        "enquirer_relationship": "mother",
    })
}
