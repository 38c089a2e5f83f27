//! The `homeward` binary as every end-to-end test runs it: the built executable, quiet logs, its
//! standard input given or closed, and both output streams kept for the assertion messages.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The built binary with warnings-only logs; callers add arguments, environment and directory.
pub fn command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_homeward"));
    c.env("HOMEWARD_LOG", "warn");
    c
}

/// `homeward --data DATA [--database-url URL] ARGS`, without running it.
pub fn on_data(data: &Path, url: Option<&str>, args: &[&str]) -> Command {
    let mut c = command();
    c.arg("--data").arg(data);
    if let Some(url) = url {
        c.arg("--database-url").arg(url);
    }
    c.args(args);
    c
}

/// Runs `cmd` to its end with `stdin` (if any) as its input, then closed.
pub fn run(mut cmd: Command, stdin: Option<&str>) -> Output {
    let mut child = cmd
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

/// `homeward ARGS` run in `dir` with no input.
pub fn homeward_in(dir: &Path, args: &[&str]) -> Output {
    let mut c = command();
    c.current_dir(dir).args(args);
    run(c, None)
}

/// Standard output then standard error, for assertion messages.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The output of a run that must have exited 0.
#[track_caller]
pub fn ok(o: Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    text(&o)
}
