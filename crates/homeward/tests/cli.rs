#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `homeward` binary end to end: a real process on a real database.

use homeward_store::testing::TestDatabase;
use sqlx::Connection;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn homeward(db_url: &str, data: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_homeward"))
        .arg("--data")
        .arg(data)
        .arg("--database-url")
        .arg(db_url)
        .args(args)
        .env("HOMEWARD_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[track_caller]
fn ok(o: Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    text(&o)
}

/// A database with a custody party and a caseworker `cw` in it.
fn setup(url: &str, data: &Path) {
    ok(homeward(
        url,
        data,
        &[
            "admin",
            "create-party",
            "--name",
            "Mediator",
            "--kind",
            "mediator",
        ],
        None,
    ));
    ok(homeward(
        url,
        data,
        &[
            "admin",
            "create-party",
            "--name",
            "Holder",
            "--kind",
            "custody",
        ],
        None,
    ));
    let pw = Some("a long enough password\n");
    ok(homeward(
        url,
        data,
        &[
            "admin",
            "create-user",
            "--party",
            "Holder",
            "--username",
            "holder.cw",
            "--role",
            "caseworker",
            "--password-stdin",
        ],
        pw,
    ));
}

async fn sql(url: &str, statement: &str) {
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(statement).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(statement).execute(&mut c).await.unwrap();
    }
}

async fn count(url: &str, table: &str) -> i64 {
    let q = format!("SELECT COUNT(*) FROM {table}");
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(&q).fetch_one(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(&q).fetch_one(&mut c).await.unwrap()
    }
}

async fn databases() -> Vec<TestDatabase> {
    let mut dbs = vec![TestDatabase::sqlite().await.unwrap()];
    match TestDatabase::postgres().await.unwrap() {
        Some(pg) => dbs.push(pg),
        None => eprintln!("skipped PostgreSQL: HOMEWARD_TEST_POSTGRES_URL not set"),
    }
    dbs
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_verify_passes_on_an_intact_log_and_names_the_first_tampered_entry() {
    for db in databases().await {
        let data = tempfile::tempdir().unwrap();
        setup(&db.url, data.path());
        let out = ok(homeward(&db.url, data.path(), &["audit", "verify"], None));
        assert!(out.contains("intact: 3 entries"), "{out}");

        // Altered content.
        sql(
            &db.url,
            "UPDATE audit_log SET details = '{\"forged\":true}' WHERE seq = 2",
        )
        .await;
        let o = homeward(&db.url, data.path(), &["audit", "verify"], None);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains("entry 2"), "{}", text(&o));
        db.cleanup().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_verify_catches_a_removed_entry_and_a_truncated_tail() {
    let db = TestDatabase::sqlite().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    setup(&db.url, data.path());
    sql(&db.url, "DELETE FROM audit_log WHERE seq = 3").await;
    let o = homeward(&db.url, data.path(), &["audit", "verify"], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("entry 3"), "{}", text(&o));

    let db = TestDatabase::sqlite().await.unwrap();
    setup(&db.url, data.path());
    sql(&db.url, "DELETE FROM audit_log WHERE seq = 2").await;
    let o = homeward(&db.url, data.path(), &["audit", "verify"], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("entry 2"), "{}", text(&o));
}

const CSV: &str = "record_id;first_name;surname;sex;date_of_birth;current_location\n\
C-1;Дмитрий;Олейник;м;12.03.2015;Children's home No. 4\n\
C-2;Елена;Лысенко;ж;31.02.2014;=HYPERLINK(1)\n\
C-3;Александр;Коваленко;м;2016;Children's home No. 4\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_csv_with_one_bad_row_imports_nothing_unless_told_to_skip_it() {
    for db in databases().await {
        let data = tempfile::tempdir().unwrap();
        setup(&db.url, data.path());
        let file = data.path().join("held.csv");
        std::fs::write(&file, CSV).unwrap();
        let f = file.to_str().unwrap();

        let o = homeward(
            &db.url,
            data.path(),
            &["import", "custody-records", f, "--user", "holder.cw"],
            None,
        );
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("line 3"), "{}", text(&o));
        assert!(text(&o).contains("birth_date"), "{}", text(&o));
        assert_eq!(count(&db.url, "records").await, 0);

        let out = ok(homeward(
            &db.url,
            data.path(),
            &[
                "import",
                "custody-records",
                f,
                "--user",
                "holder.cw",
                "--skip-invalid",
            ],
            None,
        ));
        assert!(out.contains('2'), "{out}");
        assert_eq!(count(&db.url, "records").await, 2);
        let rejects = std::fs::read_to_string(data.path().join("held.rejects.csv")).unwrap();
        assert!(
            rejects.contains("C-2") && !rejects.contains("C-1"),
            "{rejects}"
        );
        // The cell a spreadsheet would run is written as text.
        assert!(rejects.contains(";'=HYPERLINK(1)\n"), "{rejects}");
        ok(homeward(&db.url, data.path(), &["audit", "verify"], None));
        db.cleanup().await.unwrap();
    }
}

#[test]
fn bad_usage_and_bad_input_exit_with_2() {
    let data = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", data.path().join("h.db").display());
    let o = homeward(
        &url,
        data.path(),
        &["admin", "create-party", "--name", "X", "--kind", "bogus"],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("unknown party kind"), "{}", text(&o));
    let o = homeward(&url, data.path(), &["no-such-command"], None);
    assert_eq!(o.status.code(), Some(2));
    let o = homeward(
        &url,
        data.path(),
        &[
            "import",
            "custody-records",
            "/nonexistent.csv",
            "--user",
            "holder.cw",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    ok(homeward(&url, data.path(), &["migrate"], None));
    for sub in [
        &["serve", "--help"][..],
        &["admin", "create-user", "--help"],
        &["import", "tracing-requests", "--help"],
        &["audit", "verify", "--help"],
        &["demo", "--help"],
    ] {
        ok(homeward(&url, data.path(), sub, None));
    }
}

#[test]
fn the_demo_seeds_a_scenario_and_prints_its_logins() {
    let data = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", data.path().join("unused.db").display());
    let out = ok(homeward(
        &url,
        data.path(),
        &["demo", "--no-serve", "--children", "60"],
        None,
    ));
    for login in ["mediator.admin", "origin.caseworker", "custody.caseworker"] {
        assert!(out.contains(login), "{out}");
    }
    assert!(out.contains("http://127.0.0.1:8080"), "{out}");
}
