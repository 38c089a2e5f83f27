#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The README's "Running it for real" commands, run as written: the first-run block by `sh` in a
//! fresh directory holding only the template lists, with the built `homeward` first on the PATH
//! (where `cargo install` would put it), on SQLite and on PostgreSQL. Editing the block without
//! fixing what it runs fails here.

mod common;

use common::{ok, text};
use homeward_store::testing::TestDatabase;
use std::path::Path;
use std::process::{Command, Stdio};

const SECTION: &str = "## Running it for real\n";

/// The ```sh blocks of the README section, in order.
fn section_blocks() -> Vec<String> {
    let readme = include_str!("../../../README.md");
    let section = readme.split(SECTION).nth(1).expect("the README section");
    let section = section.split("\n## ").next().unwrap();
    section
        .split("```sh\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap().to_owned())
        .collect()
}

fn commands(block: &str) -> Vec<&str> {
    block
        .lines()
        .map(|l| l.split(" #").next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The blocks the test does not run: the install (too slow for a test, and it writes to
/// `~/.cargo`) and the server (it runs until stopped). Anything else in the section is run.
fn is_not_run(block: &str) -> bool {
    let c = commands(block);
    c == ["cargo install --path crates/homeward --locked"]
        || (c.len() == 1 && c[0].starts_with("homeward serve --listen "))
}

fn run_block(block: &str, dir: &Path, database_url: Option<&str>) -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_homeward")).parent().unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin.to_path_buf()];
    paths.extend(std::env::split_paths(&path));
    let mut c = Command::new("sh");
    c.arg("-eu")
        .arg("-c")
        .arg(block)
        .current_dir(dir)
        .env("PATH", std::env::join_paths(paths).unwrap())
        .env("HOMEWARD_LOG", "warn")
        .env_remove("HOMEWARD_DATA")
        .env_remove("HOMEWARD_DATABASE_URL")
        .stdin(Stdio::null());
    if let Some(url) = database_url {
        c.env("HOMEWARD_DATABASE_URL", url);
    }
    ok(c.output().unwrap())
}

/// A fresh directory with what a checkout brings that the block reads: the template lists.
fn checkout_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("docs/templates");
    std::fs::create_dir_all(&templates).unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/templates");
    for name in ["tracing-requests.csv", "custody-records.csv"] {
        std::fs::copy(source.join(name), templates.join(name)).unwrap();
    }
    dir
}

#[test]
fn the_install_line_names_the_binary_crate() {
    let blocks = section_blocks();
    assert!(
        blocks
            .iter()
            .any(|b| commands(b) == ["cargo install --path crates/homeward --locked"]),
        "the section says how to get homeward on the PATH"
    );
    let manifest = include_str!("../Cargo.toml");
    assert!(manifest.contains("name = \"homeward\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_first_run_runs_as_written() {
    let blocks = section_blocks();
    let run: Vec<&String> = blocks.iter().filter(|b| !is_not_run(b)).collect();
    assert_eq!(run.len(), 1, "one block to run: {blocks:?}");
    let block = run[0];
    for needed in [
        "--kind mediator",
        "--kind origin",
        "--kind custody",
        "import tracing-requests docs/templates/",
        "import custody-records docs/templates/",
        "homeward link ",
        "homeward audit verify",
    ] {
        assert!(block.contains(needed), "the first run has {needed:?}");
    }
    let mut dbs = vec![None];
    if let Some(pg) = TestDatabase::postgres().await.unwrap() {
        dbs.push(Some(pg));
    }
    for db in dbs {
        let dir = checkout_copy();
        let url = db.as_ref().map(|d| d.url.as_str());
        let out = run_block(block, dir.path(), url);
        assert!(out.contains("imported 4 tracing requests"), "{out}");
        assert!(out.contains("imported 4 custody records"), "{out}");
        assert!(out.contains("audit log intact"), "{out}");
        assert!(out.contains("3 matches"), "{out}");
        let pairs = std::fs::read_to_string(dir.path().join("pairs.csv")).unwrap();
        for pair in ["TR-0001,CR-0101", "TR-0002,CR-0102", "TR-0003,CR-0103"] {
            assert!(pairs.contains(pair), "{pairs}");
        }
        // Each person has a user and a password file of their own (never on a command line).
        let users = ok(common::run(
            common::on_data(
                &dir.path().join("homeward-data"),
                url,
                &["admin", "list-users"],
            ),
            None,
        ));
        for who in ["anna", "mira", "olena", "petro"] {
            assert!(users.contains(&format!("\t{who}\t")), "{users}");
            let pw = std::fs::read_to_string(dir.path().join(format!("{who}.password"))).unwrap();
            assert!(pw.trim().len() >= 12, "{who}: {pw:?}");
        }
        if db.is_none() {
            assert!(dir.path().join("homeward-data/homeward.db").exists());
        }
        let o = common::run(
            common::on_data(&dir.path().join("homeward-data"), url, &["audit", "verify"]),
            None,
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        if let Some(pg) = db {
            pg.cleanup().await.unwrap();
        }
    }
}
