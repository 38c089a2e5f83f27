#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `homeward backup` and `homeward restore` end to end: real processes, a real server taking
//! writes while the backup is made, and the restored copy verified and served.

use homeward_store::testing::TestDatabase;
use serde_json::{Value, json};
use std::path::Path;
mod common;

use common::{ok, text};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const PASSWORD: &str = "a long enough password";
/// Synthetic key for tests only.
const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const OTHER_KEY: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

fn homeward(data: &Path, url: Option<&str>, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = common::on_data(data, url, args);
    cmd.env("HOMEWARD_ATTACHMENT_KEY", KEY);
    common::run(cmd, stdin)
}

/// An origin party with a caseworker `olena`.
fn setup(data: &Path, url: Option<&str>) {
    let party = [
        "admin",
        "create-party",
        "--name",
        "Ombudsman",
        "--kind",
        "origin",
    ];
    ok(homeward(data, url, &party, None));
    let user = [
        "admin",
        "create-user",
        "--party",
        "Ombudsman",
        "--username",
        "olena",
        "--role",
        "caseworker",
        "--password-stdin",
    ];
    ok(homeward(data, url, &user, Some(&format!("{PASSWORD}\n"))));
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server on `data`, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn serve(data: &Path, url: Option<&str>) -> Server {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_homeward"));
    cmd.arg("--data").arg(data);
    if let Some(url) = url {
        cmd.arg("--database-url").arg(url);
    }
    let child = cmd
        .args(["serve", "--insecure-cookies", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .env("HOMEWARD_LOG", "warn")
        .env("HOMEWARD_ATTACHMENT_KEY", KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..200 {
        if let Ok(r) = reqwest::get(format!("{}/readyz", server.base)).await
            && r.status().is_success()
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

struct Session {
    client: reqwest::Client,
    csrf: String,
    base: String,
}

async fn login(base: &str) -> Session {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let res = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "olena", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "login: {}", res.status());
    let body: Value = res.json().await.unwrap();
    Session {
        client,
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        base: base.to_owned(),
    }
}

impl Session {
    /// Files a tracing request; its id once acknowledged.
    async fn create(&self, given: &str) -> String {
        let res = self
            .client
            .post(format!("{}/api/v1/records", self.base))
            .header("x-csrf-token", &self.csrf)
            .json(&json!({
                "external_ref": format!("TR-{given}"),
                "names": [{ "given": given, "family": "Олійник", "script": "uk-Cyrl" }],
                "sex": "female",
                "birth_date": "2015-03",
                "last_known_location": "Херсон",
                "enquirer_name": "Оксана Олійник",
                "enquirer_relationship": "mother",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        let body: Value = res.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    async fn attach(&self, record: &str) {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&[7; 64]);
        let res = self
            .client
            .post(format!("{}/api/v1/records/{record}/attachments", self.base))
            .header("x-csrf-token", &self.csrf)
            .header("x-filename", "photo.png")
            .header("content-type", "image/png")
            .body(png)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }

    async fn read(&self, record: &str) -> Value {
        let res = self
            .client
            .get(format!("{}/api/v1/records/{record}", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }
}

/// Files records until `stop`, returning the ids acknowledged.
fn writer(s: Arc<Session>, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<Vec<String>> {
    tokio::spawn(async move {
        let mut ids = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            let given = format!("Дарина{}", ids.len());
            ids.push(s.create(&given).await);
        }
        ids
    })
}

/// Backs `data` (and `url`) up while a writer files records through a server; returns the
/// archive, the record ids acknowledged before the backup started, and one record with an
/// attachment.
async fn backup_under_writes(
    dir: &Path,
    data: &Path,
    url: Option<&str>,
) -> (std::path::PathBuf, Vec<String>, String) {
    setup(data, url);
    let server = serve(data, url).await;
    let s = Arc::new(login(&server.base).await);
    let first = s.create("Марія").await;
    s.attach(&first).await;
    let stop = Arc::new(AtomicBool::new(false));
    let early = writer(Arc::clone(&s), Arc::clone(&stop));
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    let mut before = early.await.unwrap();
    before.push(first.clone());
    // Writes go on during the backup.
    let stop = Arc::new(AtomicBool::new(false));
    let during = writer(Arc::clone(&s), Arc::clone(&stop));
    let out = dir.join("backup.tar");
    let (data2, url2, out2) = (data.to_owned(), url.map(str::to_owned), out.clone());
    let backed_up = tokio::task::spawn_blocking(move || {
        let out = out2.to_str().unwrap().to_owned();
        homeward(&data2, url2.as_deref(), &["backup", "--out", &out], None)
    })
    .await
    .unwrap();
    stop.store(true, Ordering::SeqCst);
    let written_during = during.await.unwrap();
    let said = ok(backed_up);
    assert!(said.contains("1 attachments opened with the key"), "{said}");
    assert!(
        !written_during.is_empty(),
        "no write went on during the backup"
    );
    drop(server);
    (out, before, first)
}

/// The details of the last audit entry with `action` in the database at `url`.
async fn last_entry(url: &str, action: &str) -> Option<Value> {
    let store = homeward_store::connect(url).await.unwrap();
    let entries = store
        .audit_entries(&homeward_store::AuditFilter {
            limit: 1000,
            action: Some(action.to_owned()),
            ..Default::default()
        })
        .await
        .unwrap();
    store.close().await;
    entries
        .last()
        .map(|e| serde_json::from_str(&e.details).unwrap())
}

/// The backup is in the source's audit log and the restore in the copy's, both naming the
/// archive by its SHA-256 and the operating-system account that ran the command.
async fn assert_backup_audited(source_url: &str, restored_url: &str, archive: &Path) {
    let (sha, bytes) = homeward_app::ops::file_sha256(archive).unwrap();
    let made = last_entry(source_url, "backup.create")
        .await
        .expect("the backup is not in the audit log");
    assert_eq!(made["sha256"], sha.as_str(), "{made}");
    assert_eq!(made["bytes"], bytes, "{made}");
    assert_eq!(made["file"], "backup.tar", "{made}");
    assert!(
        made["os_user"].as_str().is_some_and(|u| !u.is_empty()),
        "{made}"
    );
    let restored = last_entry(restored_url, "backup.restore")
        .await
        .expect("the restore is not in the restored audit log");
    assert_eq!(restored["sha256"], sha.as_str(), "{restored}");
    assert_eq!(restored["made_at"], made["made_at"], "{restored}");
    // The archive holds the database as it was before its own entry was written.
    assert!(
        last_entry(restored_url, "backup.create").await.is_none(),
        "the archive holds its own backup entry"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sqlite_backup_made_under_writes_restores_verifies_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (archive, before, first) = backup_under_writes(dir.path(), &data, None).await;
    let archive = archive.to_str().unwrap();
    let restored = dir.path().join("restored");
    let restored_s = restored.to_str().unwrap();
    let said = ok(homeward(
        &restored,
        None,
        &["restore", archive, "--data-dir", restored_s],
        None,
    ));
    assert!(said.contains("audit log intact"), "{said}");
    assert!(said.contains("1 attachments open with the key"), "{said}");
    assert!(said.contains("restore entered in the audit log"), "{said}");
    assert_backup_audited(
        &homeward_store::sqlite_url_for_dir(&data),
        &homeward_store::sqlite_url_for_dir(&restored),
        Path::new(archive),
    )
    .await;
    // A non-empty directory is refused, naming it.
    let again = homeward(
        &restored,
        None,
        &["restore", archive, "--data-dir", restored_s],
        None,
    );
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("is not empty"), "{}", text(&again));
    ok(homeward(&restored, None, &["audit", "verify"], None));
    // The restored copy serves: every record acknowledged before the backup began is there.
    let server = serve(&restored, None).await;
    let s = login(&server.base).await;
    for id in &before {
        assert_eq!(s.read(id).await["id"], id.as_str());
    }
    assert_eq!(s.read(&first).await["names"][0]["given"], "Марія");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restore_checks_the_attachment_key_and_refuses_what_is_not_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    setup(&data, None);
    let server = serve(&data, None).await;
    let s = login(&server.base).await;
    let id = s.create("Ірина").await;
    s.attach(&id).await;
    drop(server);
    let out = dir.path().join("b.tar");
    let out_s = out.to_str().unwrap();
    // Without the key, a database with attachments is not backed up unchecked.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_homeward"));
    let no_key = cmd
        .arg("--data")
        .arg(&data)
        .args(["backup", "--out", out_s])
        .env_remove("HOMEWARD_ATTACHMENT_KEY")
        .env_remove("HOMEWARD_ATTACHMENT_KEY_FILE")
        .output()
        .unwrap();
    assert_eq!(no_key.status.code(), Some(2), "{}", text(&no_key));
    assert!(
        text(&no_key).contains("attachment key"),
        "{}",
        text(&no_key)
    );
    assert!(!out.exists());
    ok(homeward(&data, None, &["backup", "--out", out_s], None));
    let exists = homeward(&data, None, &["backup", "--out", out_s], None);
    assert_eq!(exists.status.code(), Some(2), "{}", text(&exists));
    // Another key is named as such.
    let restored = dir.path().join("r");
    let wrong = Command::new(env!("CARGO_BIN_EXE_homeward"))
        .args(["restore", out_s, "--data-dir", restored.to_str().unwrap()])
        .env("HOMEWARD_ATTACHMENT_KEY", OTHER_KEY)
        .env("HOMEWARD_LOG", "warn")
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(1), "{}", text(&wrong));
    assert!(text(&wrong).contains("NOT the one"), "{}", text(&wrong));
    // Any other file is refused as bad input.
    let junk = dir.path().join("junk.tar");
    std::fs::write(&junk, b"not an archive at all").unwrap();
    let refused = homeward(
        &data,
        None,
        &[
            "restore",
            junk.to_str().unwrap(),
            "--data-dir",
            dir.path().join("j").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_postgres_backup_restores_into_a_fresh_database_and_verifies() {
    let Some(source) = TestDatabase::postgres().await.unwrap() else {
        return;
    };
    let Some(target) = TestDatabase::postgres().await.unwrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (archive, before, _) = backup_under_writes(dir.path(), &data, Some(&source.url)).await;
    let restored = dir.path().join("restored");
    let said = ok(homeward(
        &restored,
        None,
        &[
            "restore",
            archive.to_str().unwrap(),
            "--data-dir",
            restored.to_str().unwrap(),
            "--database-url",
            &target.url,
        ],
        None,
    ));
    assert!(said.contains("a postgres backup"), "{said}");
    assert!(said.contains("audit log intact"), "{said}");
    assert!(said.contains("1 attachments open with the key"), "{said}");
    assert_backup_audited(&source.url, &target.url, &archive).await;
    ok(homeward(
        &restored,
        Some(&target.url),
        &["audit", "verify"],
        None,
    ));
    let server = serve(&restored, Some(&target.url)).await;
    let s = login(&server.base).await;
    for id in &before {
        assert_eq!(s.read(id).await["id"], id.as_str());
    }
    drop(server);
    source.cleanup().await.unwrap();
    target.cleanup().await.unwrap();
}

/// The command lines of the README section headed `heading` (its first code block), without
/// their comments.
fn readme_commands(heading: &str) -> Vec<String> {
    let readme = include_str!("../../../README.md");
    let section = readme.split(heading).nth(1).expect("the README section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    block
        .lines()
        .map(|l| l.split(" #").next().unwrap().trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The README's "Backup and restore" and "Operations" commands, run as written: the first in a
/// directory whose `homeward-data` a server is writing to, the second against that server.
#[tokio::test(flavor = "multi_thread")]
async fn the_readme_backup_and_operations_commands_run_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("homeward-data");
    setup(&data, None);
    let server = serve(&data, None).await;
    let s = login(&server.base).await;
    let id = s.create("Олег").await;
    let backup = readme_commands("## Backup and restore");
    assert!(backup.iter().any(|c| c.starts_with("homeward backup")));
    assert!(backup.iter().any(|c| c.starts_with("homeward restore")));
    for line in &backup {
        let args: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(args[0], "homeward", "{line}");
        let out = Command::new(env!("CARGO_BIN_EXE_homeward"))
            .current_dir(dir.path())
            .args(&args[1..])
            .env("HOMEWARD_LOG", "warn")
            .env("HOMEWARD_ATTACHMENT_KEY", KEY)
            .env_remove("HOMEWARD_DATA")
            .output()
            .unwrap();
        ok(out);
    }
    let ops = readme_commands("## Operations");
    assert_eq!(ops.len(), 3);
    let client = reqwest::Client::new();
    for line in &ops {
        let url = line.strip_prefix("curl -s ").unwrap();
        let path = url.strip_prefix("http://127.0.0.1:8080").unwrap();
        let res = client
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{line}");
    }
    drop(server);
    let restored = serve(&dir.path().join("restored"), None).await;
    let s = login(&restored.base).await;
    assert_eq!(s.read(&id).await["id"], id.as_str());
}
