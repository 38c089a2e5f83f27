#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `homeward` binary end to end: a real process on a real database.

mod common;

use common::{ok, text};
use homeward_store::testing::TestDatabase;
use sqlx::Connection;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn homeward(db_url: &str, data: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    common::run(common::on_data(data, Some(db_url), args), stdin)
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
    dbs.extend(TestDatabase::postgres().await.unwrap());
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
    for login in [
        "mediator.admin",
        "origin.admin",
        "origin.caseworker",
        "custody.admin",
        "custody.caseworker",
    ] {
        assert!(out.contains(login), "{out}");
    }
    assert!(out.contains("http://127.0.0.1:8080"), "{out}");
}

/// `homeward …` in `dir` (relative paths in the arguments are files there).
fn homeward_in(db_url: &str, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_homeward"))
        .current_dir(dir)
        .arg("--data")
        .arg(dir)
        .arg("--database-url")
        .arg(db_url)
        .args(args)
        .env("HOMEWARD_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The `homeward audit …` lines of the README's command block, as argument lists.
fn readme_audit_commands() -> Vec<Vec<String>> {
    let readme = include_str!("../../../README.md");
    readme
        .lines()
        .filter_map(|l| l.strip_prefix("homeward audit "))
        .map(|rest| {
            let command = rest.split('#').next().unwrap();
            std::iter::once("audit".to_owned())
                .chain(command.split_whitespace().map(str::to_owned))
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_audit_commands_run_as_written() {
    let commands = readme_audit_commands();
    assert!(
        commands
            .iter()
            .any(|c| c.contains(&"checkpoint".to_owned()))
    );
    assert!(
        commands
            .iter()
            .any(|c| c.contains(&"--checkpoint".to_owned()))
    );
    for db in databases().await {
        let dir = tempfile::tempdir().unwrap();
        setup(&db.url, dir.path());
        for c in &commands {
            let args: Vec<&str> = c.iter().map(String::as_str).collect();
            let out = ok(homeward_in(&db.url, dir.path(), &args));
            if c[1] == "keygen" {
                let public = std::fs::read_to_string(dir.path().join("audit.pub")).unwrap();
                assert!(out.contains(public.trim()), "{out}");
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = std::fs::metadata(dir.path().join("audit.key"))
                        .unwrap()
                        .permissions()
                        .mode();
                    assert_eq!(mode & 0o777, 0o600);
                }
            }
        }
        let cp: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("checkpoint.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(cp["format"], "homeward-audit-checkpoint");
        assert_eq!(cp["version"], 1);
        assert_eq!(cp["seq"], 3);
        db.cleanup().await.unwrap();
    }
}

/// A key pair and a checkpoint of the log as it is now, in `dir`.
fn checkpoint_now(url: &str, dir: &Path) {
    if !dir.join("k").exists() {
        ok(homeward_in(
            url,
            dir,
            &["audit", "keygen", "--out", "k", "--public-out", "k.pub"],
        ));
    }
    ok(homeward_in(
        url,
        dir,
        &["audit", "checkpoint", "--key-file", "k", "--out", "cp.json"],
    ));
}

fn verify_against_checkpoint(url: &str, dir: &Path) -> Output {
    homeward_in(
        url,
        dir,
        &[
            "audit",
            "verify",
            "--checkpoint",
            "cp.json",
            "--public-key",
            "k.pub",
        ],
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rewound_head_passes_plain_verify_but_not_the_checkpoint() {
    for db in databases().await {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        setup(&db.url, d);
        for name in ["Second", "Third"] {
            ok(homeward(
                &db.url,
                d,
                &[
                    "admin",
                    "create-party",
                    "--name",
                    name,
                    "--kind",
                    "humanitarian",
                ],
                None,
            ));
        }
        checkpoint_now(&db.url, d);
        let out = ok(verify_against_checkpoint(&db.url, d));
        assert!(out.contains("extends the checkpoint"), "{out}");

        // The newest two entries removed and the head rewound to entry 3: consistent on its own.
        sql(&db.url, "DELETE FROM audit_log WHERE seq > 3").await;
        sql(
            &db.url,
            "UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit_log WHERE seq = 3) WHERE id = 1",
        )
        .await;
        ok(homeward(&db.url, d, &["audit", "verify"], None));
        let o = verify_against_checkpoint(&db.url, d);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            text(&o).contains("entries 4..5 are missing"),
            "{}",
            text(&o)
        );
        db.cleanup().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_or_version_edited_in_sql_is_named_by_verify() {
    for db in databases().await {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        setup(&db.url, d);
        let csv = "record_id;first_name;surname;sex;date_of_birth;current_location\n\
                   C-1;Дмитрий;Олейник;м;12.03.2015;Children's home No. 4\n";
        std::fs::write(d.join("held.csv"), csv).unwrap();
        ok(homeward_in(
            &db.url,
            d,
            &[
                "import",
                "custody-records",
                "held.csv",
                "--user",
                "holder.cw",
            ],
        ));
        let out = ok(homeward(&db.url, d, &["audit", "verify"], None));
        assert!(out.contains("2 rows"), "{out}");

        sql(&db.url, "UPDATE records SET external_ref = 'C-9'").await;
        let o = homeward(&db.url, d, &["audit", "verify"], None);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains("BROKEN at row record/"), "{}", text(&o));
        sql(&db.url, "UPDATE records SET external_ref = 'C-1'").await;
        ok(homeward(&db.url, d, &["audit", "verify"], None));

        sql(&db.url, "UPDATE record_versions SET change = 'create'").await;
        let o = homeward(&db.url, d, &["audit", "verify"], None);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains("row record_version/"), "{}", text(&o));
        assert!(
            text(&o).contains("/1 differs from what entry"),
            "{}",
            text(&o)
        );
        db.cleanup().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_checkpoint_is_refused_and_bad_usage_exits_2() {
    for db in databases().await {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        setup(&db.url, d);
        checkpoint_now(&db.url, d);
        let good = std::fs::read_to_string(d.join("cp.json")).unwrap();
        let mut cp: serde_json::Value = serde_json::from_str(&good).unwrap();

        // A checkpoint claiming a shorter log, with the signature left as it was.
        cp["seq"] = 2.into();
        std::fs::write(d.join("cp.json"), cp.to_string()).unwrap();
        let o = verify_against_checkpoint(&db.url, d);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            text(&o).contains("signature does not verify"),
            "{}",
            text(&o)
        );

        // Another key's public half.
        std::fs::write(d.join("cp.json"), &good).unwrap();
        ok(homeward_in(
            &db.url,
            d,
            &["audit", "keygen", "--out", "k2", "--public-out", "k2.pub"],
        ));
        let o = homeward_in(
            &db.url,
            d,
            &[
                "audit",
                "verify",
                "--checkpoint",
                "cp.json",
                "--public-key",
                "k2.pub",
            ],
        );
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        ok(verify_against_checkpoint(&db.url, d));

        // Bad usage: half the options, a file that is not a checkpoint, an existing key file.
        let o = homeward_in(&db.url, d, &["audit", "verify", "--checkpoint", "cp.json"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        std::fs::write(d.join("bad.json"), "{}").unwrap();
        let o = homeward_in(
            &db.url,
            d,
            &[
                "audit",
                "verify",
                "--checkpoint",
                "bad.json",
                "--public-key",
                "k.pub",
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        let o = homeward_in(&db.url, d, &["audit", "keygen", "--out", "k"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        db.cleanup().await.unwrap();
    }
}

/// The same child three times (one family): the rows find each other as duplicates.
const FAMILY_CSV: &str = "record_id;first_name;surname;sex;date_of_birth;current_location\n\
F-1;Дмитрий;Олейник;м;12.03.2015;Children's home No. 4\n\
F-2;Дмитрий;Олейник;м;12.03.2015;Children's home No. 4\n\
F-3;Дмитрий;Олейник;м;12.03.2015;Children's home No. 4\n";

#[tokio::test(flavor = "multi_thread")]
async fn matching_an_import_left_undone_is_done_by_jobs_run_and_lost_matching_is_found() {
    for db in databases().await {
        let data = tempfile::tempdir().unwrap();
        setup(&db.url, data.path());
        let file = data.path().join("family.csv");
        std::fs::write(&file, FAMILY_CSV).unwrap();
        let f = file.to_str().unwrap();
        let run = |args: &[&str]| homeward(&db.url, data.path(), args, None);

        // The process ends right after the commit: the records are in, their matching queued.
        let out = ok(run(&[
            "import",
            "custody-records",
            f,
            "--user",
            "holder.cw",
            "--defer-matching",
        ]));
        assert!(out.contains("matching: queued"), "{out}");
        assert_eq!(count(&db.url, "duplicate_candidates").await, 0);
        let out = ok(run(&["jobs", "list"]));
        assert!(out.contains("queued 1"), "{out}");
        let out = ok(run(&["jobs", "check"]));
        assert!(out.contains("nothing lost (3 records"), "{out}");
        let out = ok(run(&["jobs", "run"]));
        assert!(out.contains("1 done"), "{out}");
        assert_eq!(count(&db.url, "duplicate_candidates").await, 3);

        // The same file again is refused, naming the earlier import; --force imports it.
        let o = run(&["import", "custody-records", f, "--user", "holder.cw"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(
            text(&o).contains("imported before (import "),
            "{}",
            text(&o)
        );
        let out = ok(run(&[
            "import",
            "custody-records",
            f,
            "--user",
            "holder.cw",
            "--force",
        ]));
        assert!(out.contains("matching: done"), "{out}");
        assert_eq!(count(&db.url, "records").await, 6);

        // Matching lost (records filed before the queue existed): found, queued by migrate, done.
        sql(&db.url, "UPDATE records SET matched_version = NULL").await;
        sql(&db.url, "DELETE FROM jobs").await;
        let o = run(&["jobs", "check"]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains("LOST for 6 records"), "{}", text(&o));
        let out = ok(run(&["migrate"]));
        assert!(
            out.contains("6 records whose matching never ran were queued"),
            "{out}"
        );
        ok(run(&["jobs", "check"]));
        ok(run(&["jobs", "run"]));
        let out = ok(run(&["jobs", "list", "--state", "done"]));
        assert!(out.contains("done 1"), "{out}");
        ok(run(&["audit", "verify"]));
        db.cleanup().await.unwrap();
    }
}
