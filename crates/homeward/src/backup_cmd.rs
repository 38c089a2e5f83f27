//! `homeward backup` and `homeward restore` (issue 19): one archive holding a consistent copy of
//! the database, the attachment files and a manifest, made while the server runs.
//!
//! The archive is a plain tar:
//! - `homeward-backup.json`: the manifest (format, backend, when, the attachment key's
//!   fingerprint, how many attachments were opened with it);
//! - `database.sqlite` (SQLite's `VACUUM INTO`) or `database.pgdump` (`pg_dump -Fc`);
//! - `attachments/ab/abcdef…`: the encrypted attachment files, as they are on disk.
//!
//! The attachment key itself is never in the archive: whoever holds a backup and its key holds
//! every document, so they are kept apart (see docs/operations.md). The database is copied
//! before the attachment files, and a blob is written before the row that names it, so every
//! attachment the copied database names is in the archive.

use crate::BadInput;
use crate::serve::{ATTACHMENT_KEY_ENV, attachment_key};
use anyhow::{Context, bail};
use homeward_app::console::Console;
use homeward_app::{App, AppConfig};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const MANIFEST: &str = "homeward-backup.json";
const FORMAT: &str = "homeward-backup";
const SQLITE_FILE: &str = "database.sqlite";
const PG_FILE: &str = "database.pgdump";
const ATTACHMENTS: &str = "attachments";

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// The archive to write (must not exist).
    #[arg(long)]
    out: PathBuf,
    /// The attachment key file, to check that it opens every attachment (or set
    /// HOMEWARD_ATTACHMENT_KEY). Needed when the database has attachments.
    #[arg(long, env = "HOMEWARD_ATTACHMENT_KEY_FILE")]
    attachment_key_file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The archive `homeward backup` wrote.
    file: PathBuf,
    /// The data directory to restore into: missing or empty.
    #[arg(long)]
    data_dir: PathBuf,
    /// For a PostgreSQL backup: the empty database to restore into.
    #[arg(long)]
    database_url: Option<String>,
    /// The attachment key file, to check that it is the key the backup was made with and that it
    /// opens every attachment (or set HOMEWARD_ATTACHMENT_KEY).
    #[arg(long, env = "HOMEWARD_ATTACHMENT_KEY_FILE")]
    attachment_key_file: Option<PathBuf>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    homeward_version: String,
    /// `sqlite` or `postgres`.
    backend: String,
    created_at: chrono::DateTime<chrono::Utc>,
    /// Attachment blobs the database named when the backup was made, all opened with the key.
    attachments: usize,
    /// Names the key that opened them (see `App::attachment_key_fingerprint`); `None` when there
    /// was no attachment and no key.
    attachment_key_fingerprint: Option<String>,
}

fn app_config(data: &Path, key_file: Option<&Path>) -> anyhow::Result<AppConfig> {
    let key = attachment_key(key_file, std::env::var(ATTACHMENT_KEY_ENV).ok())?;
    Ok(AppConfig {
        attachment_key: key,
        attachment_dir: Some(data.join(ATTACHMENTS)),
        ..AppConfig::default()
    })
}

/// The configuration `backup` opens the app with (its key, the data directory's attachments).
pub fn backup_config(data: &Path, args: &BackupArgs) -> anyhow::Result<AppConfig> {
    app_config(data, args.attachment_key_file.as_deref())
}

pub async fn backup(
    app: &App,
    data: &Path,
    url: &str,
    args: &BackupArgs,
) -> anyhow::Result<ExitCode> {
    if args.out.exists() {
        return Err(BadInput(format!("{} exists; choose a new file", args.out.display())).into());
    }
    let parent = match args.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    // Beside the archive, so the rename at the end is atomic and nothing lands in /tmp.
    let work = tempfile::Builder::new()
        .prefix(".homeward-backup-")
        .tempdir_in(&parent)
        .with_context(|| format!("cannot write in {}", parent.display()))?;
    let db_file = copy_database(app, url, work.path()).await?;
    let check = app.check_attachment_key().await.map_err(|e| match e {
        homeward_app::AppError::AttachmentsNotConfigured => anyhow::Error::new(BadInput(format!(
            "the database has attachments: give the attachment key (--attachment-key-file or {ATTACHMENT_KEY_ENV}) so the backup can check that it opens them"
        ))),
        e => e.into(),
    })?;
    if !check.is_ok() {
        bail!(
            "attachments the database names are missing ({}) or do not open with the key ({}): {}",
            check.missing.len(),
            check.unopenable.len(),
            check
                .missing
                .iter()
                .chain(&check.unopenable)
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        version: 1,
        homeward_version: env!("CARGO_PKG_VERSION").to_owned(),
        backend: app.backend().to_owned(),
        created_at: chrono::Utc::now(),
        attachments: check.opened,
        attachment_key_fingerprint: app.attachment_key_fingerprint(),
    };
    let partial = work.path().join("archive.tar");
    write_archive(&partial, &manifest, &db_file, &data.join(ATTACHMENTS))?;
    std::fs::rename(&partial, &args.out)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let event = backup_event(&args.out, &manifest)?;
    // After the copy, so the entry is in the live log, not in the archive it names.
    let seq = app.audit_backup(false, &event).await?;
    println!(
        "backup written to {}: {} database, {} attachments opened with the key; sha256 {}, audit entry {}",
        args.out.display(),
        manifest.backend,
        manifest.attachments,
        event.sha256,
        seq
    );
    Ok(ExitCode::SUCCESS)
}

/// What the audit log keeps of an archive: its name, hash and what the manifest says.
fn backup_event(file: &Path, m: &Manifest) -> anyhow::Result<homeward_app::ops::BackupEvent> {
    let (sha256, bytes) = homeward_app::ops::file_sha256(file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    Ok(homeward_app::ops::BackupEvent {
        file: file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        sha256,
        bytes,
        backend: m.backend.clone(),
        attachments: m.attachments,
        made_at: m.created_at,
    })
}

/// The database's copy in `work`: SQLite's own, or `pg_dump`'s.
async fn copy_database(app: &App, url: &str, work: &Path) -> anyhow::Result<PathBuf> {
    let sqlite = work.join(SQLITE_FILE);
    if app.backup_database(&sqlite).await? {
        return Ok(sqlite);
    }
    let dump = work.join(PG_FILE);
    let (url, password) = split_password(url);
    run_pg_tool(
        Command::new("pg_dump")
            .args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
            .arg(&dump)
            .arg("--dbname")
            .arg(&url),
        password.as_deref(),
        "pg_dump",
    )?;
    Ok(dump)
}

/// A URL's password goes to the tools in `PGPASSWORD`, not on their command line (which every
/// user of the machine can read).
fn split_password(url: &str) -> (String, Option<String>) {
    let (Some(s), Some(at)) = (url.find("://"), url.rfind('@')) else {
        return (url.to_owned(), None);
    };
    if at < s {
        return (url.to_owned(), None);
    }
    match url[s + 3..at].split_once(':') {
        Some((user, pw)) => (
            format!("{}{}{}", &url[..s + 3], user, &url[at..]),
            Some(pw.to_owned()),
        ),
        None => (url.to_owned(), None),
    }
}

fn run_pg_tool(cmd: &mut Command, password: Option<&str>, name: &str) -> anyhow::Result<()> {
    if let Some(pw) = password {
        cmd.env("PGPASSWORD", pw);
    }
    let out = cmd.output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            anyhow::anyhow!(
                "{name} is not installed: install PostgreSQL's client tools (Debian: apt-get install postgresql-client)"
            )
        } else {
            anyhow::anyhow!("cannot run {name}: {e}")
        }
    })?;
    if !out.status.success() {
        bail!(
            "{name} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

fn write_archive(
    out: &Path,
    manifest: &Manifest,
    db_file: &Path,
    attachments: &Path,
) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut tar = tar::Builder::new(std::io::BufWriter::new(file));
    let json = serde_json::to_vec_pretty(manifest)?;
    let mut header = tar::Header::new_gnu();
    header.set_size(json.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(u64::try_from(manifest.created_at.timestamp()).unwrap_or(0));
    header.set_cksum();
    tar.append_data(&mut header, MANIFEST, json.as_slice())?;
    let name = db_file
        .file_name()
        .context("the database copy has no file name")?;
    tar.append_path_with_name(db_file, name)?;
    for blob in blob_files(attachments)? {
        let rel = blob.strip_prefix(attachments)?;
        tar.append_path_with_name(&blob, Path::new(ATTACHMENTS).join(rel))?;
    }
    let mut inner = tar.into_inner()?;
    std::io::Write::flush(&mut inner)?;
    inner.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(())
}

/// The blob files under `dir` (`ab/abcdef…`), leaving out half-written temporary files.
fn blob_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let shards = match std::fs::read_dir(dir) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(files),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    for shard in shards {
        let shard = shard?;
        if !shard.file_type()?.is_dir() {
            continue;
        }
        for entry in std::fs::read_dir(shard.path())? {
            let entry = entry?;
            let name = entry.file_name();
            let is_blob = name
                .to_str()
                .is_some_and(|n| n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit()));
            if is_blob && entry.file_type()?.is_file() {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Whether `dir` is missing or holds nothing.
fn is_empty_dir(dir: &Path) -> anyhow::Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

pub async fn restore(args: &RestoreArgs) -> anyhow::Result<ExitCode> {
    if !is_empty_dir(&args.data_dir)? {
        return Err(BadInput(format!(
            "{} is not empty: restore only into a new or empty data directory, so nothing there is overwritten or mixed in",
            args.data_dir.display()
        ))
        .into());
    }
    let key_file = args.attachment_key_file.as_deref();
    let config = app_config(&args.data_dir, key_file)?;
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    let work = tempfile::Builder::new()
        .prefix(".homeward-restore-")
        .tempdir_in(&args.data_dir)?;
    let manifest = unpack(&args.file, work.path())?;
    let url = place_database(args, &manifest, work.path())?;
    let from = work.path().join(ATTACHMENTS);
    if from.exists() {
        std::fs::rename(&from, args.data_dir.join(ATTACHMENTS))?;
    }
    drop(work);
    let store = homeward_store::connect(&url).await.with_context(|| {
        format!(
            "cannot open the restored database at {}",
            crate::redact(&url)
        )
    })?;
    let app = App::new(store, config);
    let code = verify_restored(&app, &manifest).await;
    // A copy that verified notes where it came from, at the head of its own log.
    let code = match code {
        Ok(c) if c == ExitCode::SUCCESS => {
            let entered = async {
                let event = backup_event(&args.file, &manifest)?;
                let seq = app.audit_backup(true, &event).await?;
                println!(
                    "restore entered in the audit log (entry {seq}, sha256 {})",
                    event.sha256
                );
                anyhow::Ok(())
            }
            .await;
            entered.map(|()| c)
        }
        other => other,
    };
    app.close().await;
    code
}

/// Unpacks the archive into `work` and returns its manifest. Only the names a backup writes are
/// taken; `unpack_in` also refuses any path that would leave `work`.
fn unpack(file: &Path, work: &Path) -> anyhow::Result<Manifest> {
    let bad = |why: String| anyhow::Error::new(BadInput(format!("{}: {why}", file.display())));
    let f = std::fs::File::open(file).map_err(|e| bad(format!("cannot open: {e}")))?;
    let mut archive = tar::Archive::new(std::io::BufReader::new(f));
    let mut manifest = None;
    for entry in archive
        .entries()
        .map_err(|e| bad(format!("not a backup archive: {e}")))?
    {
        let mut entry = entry.map_err(|e| bad(format!("damaged archive: {e}")))?;
        let path = entry.path()?.into_owned();
        let known = path == Path::new(MANIFEST)
            || path == Path::new(SQLITE_FILE)
            || path == Path::new(PG_FILE)
            || path.starts_with(ATTACHMENTS);
        if !known {
            return Err(bad(format!("unexpected entry {}", path.display())));
        }
        if path == Path::new(MANIFEST) {
            let m: Manifest = serde_json::from_reader(&mut entry)
                .map_err(|e| bad(format!("unreadable manifest: {e}")))?;
            manifest = Some(m);
            continue;
        }
        entry
            .unpack_in(work)
            .map_err(|e| bad(format!("cannot unpack {}: {e}", path.display())))?;
    }
    let m = manifest.ok_or_else(|| bad(format!("no {MANIFEST}: not a Homeward backup")))?;
    if m.format != FORMAT || m.version != 1 {
        return Err(bad(format!(
            "format {} version {} is not one this build reads",
            m.format, m.version
        )));
    }
    Ok(m)
}

/// Puts the database where the restored deployment finds it; returns its URL.
fn place_database(args: &RestoreArgs, m: &Manifest, work: &Path) -> anyhow::Result<String> {
    match m.backend.as_str() {
        "sqlite" => {
            if args.database_url.is_some() {
                return Err(BadInput(
                    "a SQLite backup is restored into the data directory; leave out --database-url"
                        .to_owned(),
                )
                .into());
            }
            std::fs::rename(work.join(SQLITE_FILE), args.data_dir.join("homeward.db"))
                .context("the archive has no database.sqlite")?;
            Ok(homeward_store::sqlite_url_for_dir(&args.data_dir))
        }
        "postgres" => {
            let Some(url) = &args.database_url else {
                return Err(BadInput(
                    "a PostgreSQL backup needs --database-url naming an empty database to restore into"
                        .to_owned(),
                )
                .into());
            };
            let (plain, password) = split_password(url);
            run_pg_tool(
                Command::new("pg_restore")
                    .args([
                        "--no-owner",
                        "--no-privileges",
                        "--exit-on-error",
                        "--single-transaction",
                        "--dbname",
                    ])
                    .arg(&plain)
                    .arg(work.join(PG_FILE)),
                password.as_deref(),
                "pg_restore",
            )?;
            Ok(url.clone())
        }
        other => Err(BadInput(format!("unknown backend {other:?} in the manifest")).into()),
    }
}

/// The restored copy's audit log, and its attachments with the key given.
async fn verify_restored(app: &App, m: &Manifest) -> anyhow::Result<ExitCode> {
    let report = match Console::new(app).verify_audit(&|_| {}).await {
        Ok(r) => r,
        Err(homeward_app::AppError::ChainBroken(b)) => {
            println!(
                "restored, but the audit log is BROKEN at entry {}: {}",
                b.seq, b.reason
            );
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e.into()),
    };
    println!(
        "restored a {} backup of {}: audit log intact, {} entries, head hash {}",
        m.backend, m.created_at, report.entries, report.head_hash
    );
    match (
        app.attachment_key_fingerprint(),
        &m.attachment_key_fingerprint,
    ) {
        (Some(given), Some(made)) if &given != made => {
            println!("the attachment key given is NOT the one the backup was made with");
            return Ok(ExitCode::from(1));
        }
        (None, _) if m.attachments > 0 => {
            println!(
                "{} attachments restored, not checked: give the attachment key to check them",
                m.attachments
            );
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let check = app.check_attachment_key().await?;
    if !check.is_ok() {
        println!(
            "attachments missing ({}) or not opening with the key ({})",
            check.missing.len(),
            check.unopenable.len()
        );
        return Ok(ExitCode::from(1));
    }
    println!("{} attachments open with the key", check.opened);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_leave_the_url_for_the_environment() {
        assert_eq!(
            split_password("postgres://u:s3cret@h:5432/db"),
            (
                "postgres://u@h:5432/db".to_owned(),
                Some("s3cret".to_owned())
            )
        );
        assert_eq!(
            split_password("postgres://u@h/db"),
            ("postgres://u@h/db".to_owned(), None)
        );
    }

    #[test]
    fn only_blob_files_are_archived() {
        let dir = tempfile::tempdir().unwrap();
        let shard = dir.path().join("ab");
        std::fs::create_dir(&shard).unwrap();
        let blob = shard.join("ab".repeat(32));
        std::fs::write(&blob, b"x").unwrap();
        std::fs::write(shard.join(".tmp-123"), b"half").unwrap();
        assert_eq!(blob_files(dir.path()).unwrap(), vec![blob]);
        assert!(blob_files(&dir.path().join("none")).unwrap().is_empty());
    }
}
