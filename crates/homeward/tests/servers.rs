#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Several app servers on one PostgreSQL database (issue 19): three real `homeward serve`
//! processes, every request of a client sent to the next one in turn (nothing sticky: the
//! session, its CSRF token and the imports live in the database), a concurrent burst of writes to
//! all three, and one server killed (`kill -9`) while it runs an import's matching, which another
//! server takes over once the (short) lease expires. Afterwards every acknowledged write is
//! there, on every server, and `homeward audit verify` passes. Between the two, the whole journey
//! of one child: the match confirmed, the case work, a transfer list the mediator drafts and both
//! sides approve (each its own users), the plan, the departure and the handovers.

use homeward_app::synthetic::Synthetic;
use homeward_domain::RecordKind;
use homeward_store::testing::TestDatabase;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::Path;
mod common;

use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const PASSWORD: &str = "a long enough password";
/// Short, so that the killed server's job is taken over within the test.
const LEASE_SECONDS: &str = "6";

fn homeward(url: &str, data: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let out = common::run(common::on_data(data, Some(url), args), stdin);
    assert_eq!(
        out.status.code(),
        Some(0),
        "homeward {args:?}: {}",
        common::text(&out)
    );
    out
}

fn setup(url: &str, data: &Path) {
    homeward(url, data, &["migrate"], None);
    for (party, kind) in [
        ("Ombudsman", "origin"),
        ("Custody authority", "custody"),
        ("Task force", "mediator"),
    ] {
        homeward(
            url,
            data,
            &["admin", "create-party", "--name", party, "--kind", kind],
            None,
        );
    }
    let pw = format!("{PASSWORD}\n");
    for (party, user, role) in [
        ("Ombudsman", "olena", "caseworker"),
        ("Custody authority", "ivan", "caseworker"),
        ("Task force", "maria", "reviewer"),
        ("Task force", "petra", "caseworker"),
        ("Task force", "lev", "logistics"),
    ] {
        let args = [
            "admin",
            "create-user",
            "--party",
            party,
            "--username",
            user,
            "--role",
            role,
            "--password-stdin",
        ];
        homeward(url, data, &args, Some(&pw));
    }
}

struct Server {
    child: Child,
    base: String,
    alive: bool,
}

/// A failing test must not leave servers running.
impl Drop for Server {
    fn drop(&mut self) {
        if self.alive {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn start(url: &str, data: &Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_homeward"))
        .arg("--data")
        .arg(data)
        .arg("--database-url")
        .arg(url)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--insecure-cookies",
        ])
        .args(["--job-lease-seconds", LEASE_SECONDS])
        .env("HOMEWARD_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        alive: true,
    }
}

async fn wait_ready(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Ok(r) = reqwest::get(format!("{base}/healthz")).await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{base} did not start");
}

/// The servers a client sends its requests to, each to the next live one.
struct Pool {
    bases: std::sync::Mutex<Vec<(String, bool)>>,
    next: AtomicUsize,
}

impl Pool {
    fn next(&self) -> String {
        let bases = self.bases.lock().unwrap();
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed) % bases.len();
            if bases[i].1 {
                return bases[i].0.clone();
            }
        }
    }

    fn kill(&self, base: &str) {
        for b in self.bases.lock().unwrap().iter_mut() {
            if b.0 == base {
                b.1 = false;
            }
        }
    }
}

/// A signed-in person: the session cookie (sent to every server: same host) and CSRF token.
struct Session {
    client: reqwest::Client,
    csrf: String,
    pool: Arc<Pool>,
}

impl Session {
    async fn login(pool: &Arc<Pool>, username: &str) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let res = client
            .post(format!("{}/api/v1/auth/login", pool.next()))
            .json(&json!({ "username": username, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        let body = body(res, StatusCode::OK).await;
        Self {
            client,
            csrf: body["csrf_token"].as_str().unwrap().to_owned(),
            pool: Arc::clone(pool),
        }
    }

    async fn get(&self, path: &str) -> Value {
        let res = self
            .client
            .get(format!("{}{path}", self.pool.next()))
            .send()
            .await
            .unwrap();
        body(res, StatusCode::OK).await
    }

    async fn post(&self, path: &str, b: &Value) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, b).await
    }

    async fn send(&self, method: reqwest::Method, path: &str, b: &Value) -> reqwest::Response {
        self.client
            .request(method, format!("{}{path}", self.pool.next()))
            .header("x-csrf-token", &self.csrf)
            .json(b)
            .send()
            .await
            .unwrap()
    }

    /// A change that must succeed; its answer.
    async fn ok(&self, path: &str, b: &Value) -> Value {
        body(self.post(path, b).await, StatusCode::OK).await
    }

    async fn put_ok(&self, path: &str, b: &Value) -> Value {
        body(
            self.send(reqwest::Method::PUT, path, b).await,
            StatusCode::OK,
        )
        .await
    }

    async fn import(&self, kind: &str, csv: Vec<u8>) -> Value {
        let res = self
            .client
            .post(format!("{}/api/v1/imports/{kind}", self.pool.next()))
            .header("x-csrf-token", &self.csrf)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        body(res, StatusCode::CREATED).await
    }
}

async fn body(res: reqwest::Response, want: StatusCode) -> Value {
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, want, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The two sides' lists: `n` children sought, `n` held, `n / 2` of them on both.
fn lists(n: usize) -> (Vec<u8>, Vec<u8>) {
    let mut synthetic = Synthetic::new(1919);
    let (mut sought, mut held) = (Vec::new(), Vec::new());
    for i in 0..n {
        if i % 2 == 0 {
            let (t, c) = synthetic.matched_pair();
            sought.push(t);
            held.push(c);
        } else {
            sought.push(synthetic.tracing_request());
            held.push(synthetic.custody_record());
        }
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    Synthetic::write_csv(&sought, RecordKind::TracingRequest, &mut a).unwrap();
    Synthetic::write_csv(&held, RecordKind::CustodyRecord, &mut b).unwrap();
    (a, b)
}

/// The job matching `import`: (state, attempts, the pid in its worker's name if running).
async fn import_job(
    db: &mut sqlx::PgConnection,
    import: &str,
) -> Option<(String, i32, Option<u32>)> {
    let row: Option<(String, i32, Option<String>)> =
        sqlx::query_as("SELECT state, attempts, locked_by FROM jobs WHERE idempotency_key = $1")
            .bind(format!("records.match:import:{import}"))
            .fetch_optional(db)
            .await
            .unwrap();
    row.map(|(state, attempts, by)| {
        // Workers are named `serve-<pid>-<random>`.
        let pid = by.and_then(|b| b.split('-').nth(1).and_then(|p| p.parse().ok()));
        (state, attempts, pid)
    })
}

/// The mediator's people and both sides, each signed in on some server.
struct People {
    origin: Arc<Session>,
    custody: Session,
    reviewer: Session,
    caseworker: Session,
    logistics: Session,
}

fn case_path(case: &str, rest: &str) -> String {
    format!("/api/v1/cases/{case}{rest}")
}

/// The case work before a child can be listed, each step to the next server: identity verified
/// two ways, the guardian's consent, the child's views, a best-interests assessment and the
/// panel's determination. Returns the case's version.
async fn case_work(cw: &Session, case: &str) -> i64 {
    let steps = [
        (
            "/verifications",
            json!({ "method": "document_check", "performed_by": "ICRC delegate", "outcome": "positive" }),
        ),
        (
            "/verifications",
            json!({ "method": "photo_recognition_by_relative", "performed_by": "ICRC delegate", "outcome": "positive" }),
        ),
        ("/transitions", json!({ "to": "identity_verified" })),
        (
            "/consents",
            json!({
                "giver": { "kind": "legal_guardian", "name": "Guardian", "relationship": "parent" },
                "scope": { "kind": "return" }, "decision": "given", "method": "written",
            }),
        ),
        (
            "/child-views",
            json!({ "heard_by": "psychologist", "wish": "wants_return", "summary": "wants to go home" }),
        ),
        (
            "/assessments",
            json!({ "assessed_by": "psychologist", "findings": "close to the mother", "recommendation": "return" }),
        ),
        (
            "/determinations",
            json!({
                "panel": [
                    { "name": "A. Koval", "role": "psychologist" },
                    { "name": "B. Ivanenko", "role": "legal adviser" },
                    { "name": "C. Moreau", "role": "ICRC child protection" },
                ],
                "decision": "return", "reasons": "the mother wants him back; he wants to go",
            }),
        ),
        ("/transitions", json!({ "to": "consent_obtained" })),
    ];
    let mut version = 1;
    for (rest, mut b) in steps {
        b["expected_version"] = json!(version);
        let out = cw.ok(&case_path(case, rest), &b).await;
        version = out["version"].as_i64().unwrap();
    }
    version
}

/// Drafted and proposed by the mediator, approved by each side (its own users, by the hash
/// each saw), fixed: the case is listed. Returns the list's id.
async fn agreed_list(w: &People, pg: &mut sqlx::PgConnection, case: &str) -> String {
    let mut party = async |name: &str| -> String {
        let (id,): (String,) = sqlx::query_as("SELECT id::text FROM parties WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *pg)
            .await
            .unwrap();
        id
    };
    let round = json!({
        "round": "Round 19",
        "origin_party": party("Ombudsman").await,
        "custody_party": party("Custody authority").await,
    });
    let list = body(
        w.caseworker.post("/api/v1/transfer-lists", &round).await,
        StatusCode::CREATED,
    )
    .await;
    let lp = |rest: &str| {
        format!(
            "/api/v1/transfer-lists/{}{rest}",
            list["id"].as_str().unwrap()
        )
    };
    let entry = json!({ "case_id": case, "direction": "to_origin", "expected_version": 1 });
    w.caseworker.ok(&lp("/entries"), &entry).await;
    let proposed = w
        .caseworker
        .ok(&lp("/propose"), &json!({ "expected_version": 2 }))
        .await;
    let hash = proposed["hash"].as_str().unwrap();
    for side in [&*w.origin, &w.custody] {
        let seen = side.get(&lp("")).await;
        assert_eq!(seen["hash"], hash, "each side sees the list it approves");
        side.ok(&lp("/approve"), &json!({ "hash": hash })).await;
    }
    let fixed = w
        .caseworker
        .ok(&lp("/fix"), &json!({ "expected_version": 5 }))
        .await;
    assert_eq!(fixed["state"], "fixed", "{fixed}");
    list["id"].as_str().unwrap().to_owned()
}

/// The logistics officer's plan for the child, approved; the child leaves and is handed over by
/// the children's home to the embassy, then by the embassy to his mother.
async fn handover(w: &People, list: &str, case: &str) {
    let plan = body(
        w.logistics
            .post(
                "/api/v1/transfer-plans",
                &json!({ "list_id": list, "cases": [case] }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let pp = |rest: &str| {
        format!(
            "/api/v1/transfer-plans/{}{rest}",
            plan["id"].as_str().unwrap()
        )
    };
    let leg = json!({
        "from": "Rostov-on-Don", "to": "Kyiv", "mode": "road", "carrier": "Embassy convoy",
        "planned_departure": "2030-04-01T08:00:00Z", "planned_arrival": "2030-04-02T20:00:00Z",
        "expected_version": 1,
    });
    let mut version = w.logistics.ok(&pp("/legs"), &leg).await["version"]
        .as_i64()
        .unwrap();
    let parts = [
        (
            "/escorts",
            json!({ "escorts": [{ "kind": "diplomat", "name": "Consul N." }] }),
        ),
        (
            "/documents",
            json!({ "documents": [{ "case_id": case, "kind": "passport", "ready": true }] }),
        ),
    ];
    for (rest, mut b) in parts {
        b["expected_version"] = json!(version);
        version = w.logistics.put_ok(&pp(rest), &b).await["version"]
            .as_i64()
            .unwrap();
    }
    w.logistics
        .ok(&pp("/approve"), &json!({ "expected_version": version }))
        .await;
    let mut v = w.caseworker.get(&case_path(case, "")).await["version"]
        .as_i64()
        .unwrap();
    let moved = w
        .caseworker
        .ok(
            &case_path(case, "/transitions"),
            &json!({ "to": "in_transit", "expected_version": v }),
        )
        .await;
    assert_eq!(moved["case"]["state"], "in_transit", "{moved}");
    v = moved["version"].as_i64().unwrap();
    let ago = |h: i64| (chrono::Utc::now() - chrono::Duration::hours(h)).to_rfc3339();
    let home = json!({ "kind": "custody_authority", "name": "Children's home No. 4" });
    let embassy = json!({ "kind": "mediator", "name": "Embassy" });
    let mother = json!({ "kind": "family", "name": "The mother" });
    let record = |giver: &Value, receiver: &Value, h: i64, v: i64| {
        json!({
            "at": ago(h), "giver": giver, "receiver": receiver, "place": "Embassy, consular section",
            "witnesses": ["consul", "ICRC delegate"], "expected_version": v,
        })
    };
    v = w
        .logistics
        .ok(
            &case_path(case, "/handovers"),
            &record(&home, &embassy, 3, v),
        )
        .await["version"]
        .as_i64()
        .unwrap();
    v = w
        .caseworker
        .ok(
            &case_path(case, "/transitions"),
            &json!({ "to": "handed_over", "expected_version": v }),
        )
        .await["version"]
        .as_i64()
        .unwrap();
    w.logistics
        .ok(
            &case_path(case, "/handovers"),
            &record(&embassy, &mother, 2, v),
        )
        .await;
}

/// The whole journey after the match is confirmed, each request to the next server.
async fn journey(w: &People, pg: &mut sqlx::PgConnection, case: &str) {
    let version = case_work(&w.caseworker, case).await;
    assert!(version > 1);
    let list = agreed_list(w, pg, case).await;
    let listed = w.caseworker.get(&case_path(case, "")).await;
    assert_eq!(listed["case"]["state"], "listed", "{listed}");
    handover(w, &list, case).await;
    // Every server answers with all of it.
    for _ in 0..2 {
        let seen = w.caseworker.get(&case_path(case, "")).await;
        assert_eq!(seen["case"]["state"], "handed_over", "{seen}");
        assert_eq!(
            seen["case"]["handovers"].as_array().map(Vec::len),
            Some(2),
            "{seen}"
        );
        let l = w
            .caseworker
            .get(&format!("/api/v1/transfer-lists/{list}"))
            .await;
        assert_eq!(l["state"], "fixed", "{l}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_servers_share_one_database_and_take_over_a_killed_servers_job() {
    let Some(db) = TestDatabase::postgres().await.unwrap() else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    setup(&db.url, data.path());
    let mut servers: Vec<Server> = (0..3)
        .map(|i| {
            let dir = data.path().join(format!("server-{i}"));
            std::fs::create_dir_all(&dir).unwrap();
            start(&db.url, &dir)
        })
        .collect();
    for s in &servers {
        wait_ready(&s.base).await;
    }
    let pool = Arc::new(Pool {
        bases: std::sync::Mutex::new(servers.iter().map(|s| (s.base.clone(), true)).collect()),
        next: AtomicUsize::new(0),
    });
    let w = People {
        origin: Arc::new(Session::login(&pool, "olena").await),
        custody: Session::login(&pool, "ivan").await,
        reviewer: Session::login(&pool, "maria").await,
        caseworker: Session::login(&pool, "petra").await,
        logistics: Session::login(&pool, "lev").await,
    };
    let (origin, custody, reviewer) = (&w.origin, &w.custody, &w.reviewer);
    let mut pg = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();

    // Both sides import; the custody list's matching is the job a server dies running.
    let (sought, held) = lists(800);
    origin.import("tracing-requests", sought).await;
    // A burst of writes to all three servers at once; each acknowledged one must be kept.
    let mut synthetic = Synthetic::new(77);
    let writes: Vec<Value> = (0..60)
        .map(|_| serde_json::to_value(synthetic.tracing_request()).unwrap())
        .collect();
    let tasks: Vec<_> = writes
        .into_iter()
        .map(|w| {
            let o = Arc::clone(origin);
            tokio::spawn(async move {
                let res = o.post("/api/v1/records", &w).await;
                (res.status() == StatusCode::CREATED).then_some(res)
            })
        })
        .collect();
    let mut acknowledged = Vec::new();
    for t in tasks {
        if let Some(res) = t.await.unwrap() {
            let b: Value = res.json().await.unwrap();
            acknowledged.push(b["id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(
        acknowledged.len(),
        60,
        "every write of the burst was acknowledged"
    );
    let report = custody.import("custody-records", held).await;
    let import = report["import_id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(120);
    let victim = loop {
        assert!(Instant::now() < deadline, "the matching job never ran");
        if let Some((state, _, Some(pid))) = import_job(&mut pg, &import).await
            && state == "running"
        {
            break pid;
        }
        assert_ne!(
            import_job(&mut pg, &import).await.map(|j| j.0).as_deref(),
            Some("done"),
            "the matching finished before a server could be killed running it"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let s = servers
        .iter_mut()
        .find(|s| s.child.id() == victim)
        .expect("the worker is one of ours");
    s.child.kill().unwrap();
    s.child.wait().unwrap();
    s.alive = false;
    pool.kill(&s.base);

    let deadline = Instant::now() + Duration::from_secs(600);
    let (attempts, _) = loop {
        assert!(
            Instant::now() < deadline,
            "the killed server's job was not taken over"
        );
        let (state, attempts, pid) = import_job(&mut pg, &import).await.unwrap();
        assert_ne!(state, "failed");
        if state == "done" {
            break (attempts, pid);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(
        attempts >= 2,
        "another server ran the job again after the kill"
    );

    // The reviewer confirms a candidate on one server; the case is seen on the others.
    let queue = reviewer.get("/api/v1/matches").await;
    let first = &queue["items"][0];
    let id = first["id"].as_str().expect("matching found candidates");
    let decided = body(
        reviewer
            .post(
                &format!("/api/v1/matches/{id}/confirm"),
                &json!({ "reason": "agree" }),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let case = decided["case"]["case"]["id"]
        .as_str()
        .expect("a case")
        .to_owned();
    for _ in 0..2 {
        let seen = reviewer.get(&format!("/api/v1/cases/{case}")).await;
        assert!(seen.to_string().contains(&case), "{seen}");
    }
    journey(&w, &mut pg, &case).await;

    // Every acknowledged write is there, on each server still running.
    for id in &acknowledged {
        origin.get(&format!("/api/v1/records/{id}")).await;
        origin.get(&format!("/api/v1/records/{id}")).await;
    }

    for s in servers.iter_mut().filter(|s| s.alive) {
        s.child.kill().unwrap();
        s.child.wait().unwrap();
        s.alive = false;
    }
    homeward(&db.url, data.path(), &["audit", "verify"], None);
    drop(pg);
    db.cleanup().await.unwrap();
}
