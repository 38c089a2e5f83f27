//! `homeward pprl`: privacy-preserving linkage from the command line.
//!
//! - `keygen --out K`: a random 32-byte key, hex, in a file only its owner can read. Both sides
//!   use the same key; the mediator never gets it.
//! - `encode LIST.csv --key-file K --out ENC.json`: on a side's own machine, the list read as
//!   `homeward link` reads it (same headers, same handling of unreadable cells), encoded.
//! - `link A.json B.json --out PAIRS.csv`: on the mediator's machine, the one-to-one mapping of
//!   record references (left, right, score); no names, since the encodings hold none.

use crate::BadInput;
use crate::link_cmd;
use anyhow::Context;
use homeward_linkage::pprl::{EncodedList, Hardening, PprlKey, PprlOptions, encode, link_encoded};
use rand::RngCore;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, clap::Subcommand)]
pub enum PprlCommand {
    /// Make a new random key file (readable by its owner only). Share it with the other side
    /// out of band, never with the mediator.
    Keygen(KeygenArgs),
    /// Encode a CSV list with the key (on the side's own machine); the output holds no name.
    Encode(EncodeArgs),
    /// Link two encoded lists and write the one-to-one mapping of their references.
    Link(LinkArgs),
}

#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// The key file to create (refused if it exists).
    #[arg(long, short)]
    pub out: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct EncodeArgs {
    /// The list, CSV with a header line (the headers `homeward link` recognises).
    pub list: PathBuf,
    /// The key file made by `homeward pprl keygen`.
    #[arg(long)]
    pub key_file: PathBuf,
    /// Where to write the encoded list (JSON; replaced whole, or left untouched on failure).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Assigns a column the header does not name: HEADER=KIND (as for `homeward link`).
    #[arg(long = "column", value_name = "HEADER=KIND")]
    pub columns: Vec<String>,
    /// Hardening against frequency attacks: salt-year (default), salt-date (stronger, but a
    /// child whose date differs between the lists then loses its given name's evidence), or
    /// none (for tests of the attack only). Both sides must use the same.
    #[arg(long, default_value = "salt-year")]
    pub hardening: String,
    /// Refuse a list with an unreadable cell instead of treating the cell as missing.
    #[arg(long)]
    pub strict: bool,
    /// Write the unreadable cells treated as missing here (CSV: file, line, column, value, reason).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
pub struct LinkArgs {
    /// The first encoded list.
    pub left: PathBuf,
    /// The second encoded list.
    pub right: PathBuf,
    /// Where to write the pairs: left,right,score (replaced whole, or left untouched on failure).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Match probability from which a pair is in the mapping.
    #[arg(long, default_value_t = 0.9)]
    pub threshold: f64,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(cmd: &PprlCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PprlCommand::Keygen(a) => keygen(a),
        PprlCommand::Encode(a) => encode_cmd(a),
        PprlCommand::Link(a) => link_cmd(a),
    }
}

fn bad(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(BadInput(message.into()))
}

fn keygen(args: &KeygenArgs) -> anyhow::Result<ExitCode> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let key = PprlKey::from_bytes(bytes);
    bytes = [0; 32];
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&args.out).map_err(|e| {
        bad(format!(
            "cannot create the key file {}: {e}",
            args.out.display()
        ))
    })?;
    file.write_all(format!("{}\n", key.to_hex()).as_bytes())?;
    file.sync_all()?;
    // The fingerprint, which both sides can compare over the phone before encoding.
    println!("{}", key.id());
    let _ = bytes;
    Ok(ExitCode::SUCCESS)
}

fn read_key(path: &Path) -> anyhow::Result<PprlKey> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad(format!("cannot read the key file {}: {e}", path.display())))?;
    PprlKey::from_hex(&text).map_err(|e| bad(format!("{}: {e}", path.display())))
}

fn encode_cmd(args: &EncodeArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let hardening =
        Hardening::parse(&args.hardening).map_err(|e| bad(format!("--hardening: {e}")))?;
    let key = read_key(&args.key_file)?;
    let overrides = link_cmd::parse_overrides(&args.columns)?;
    let (table, issues) = link_cmd::load_list(&args.list, &overrides, args.strict)?;
    let list = encode(&table, &key, hardening);
    let json = list
        .to_json()
        .context("cannot serialise the encoded list")?;
    link_cmd::write_whole(&args.out, &json)?;
    if let Some(path) = &args.report {
        link_cmd::write_whole(path, &link_cmd::issues_csv(&issues))?;
    }
    if !args.quiet {
        eprintln!(
            "encoded {} records (key {}, {}) → {} in {:.1} s",
            list.records.len(),
            list.key_id,
            list.hardening,
            args.out.display(),
            started.elapsed().as_secs_f64()
        );
        for line in link_cmd::issue_summary(&issues, args.report.as_deref()) {
            eprintln!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_encoded(path: &Path) -> anyhow::Result<EncodedList> {
    let bytes =
        std::fs::read(path).map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
    EncodedList::from_json(&bytes)
        .map_err(|e| bad(format!("{}: {e} [{}]", path.display(), e.code())))
}

fn link_cmd(args: &LinkArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let left = read_encoded(&args.left)?;
    let right = read_encoded(&args.right)?;
    let opts = PprlOptions {
        threshold: args.threshold,
        ..PprlOptions::default()
    };
    let pairs =
        link_encoded(&left, &right, &opts).map_err(|e| bad(format!("{e} [{}]", e.code())))?;
    let mut body = String::from("left,right,score\n");
    for p in &pairs {
        body.push_str(&format!(
            "{},{},{:.4}\n",
            cell(&p.left),
            cell(&p.right),
            p.score
        ));
    }
    link_cmd::write_whole(&args.out, body.as_bytes())?;
    if !args.quiet {
        eprintln!(
            "linked {} × {} encoded records: {} pairs → {} in {:.1} s",
            left.records.len(),
            right.records.len(),
            pairs.len(),
            args.out.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A reference as a CSV cell: guarded against formulas, quoted when it must be.
fn cell(s: &str) -> String {
    let s = homeward_domain::csv_cell::neutralise(s);
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.into_owned()
    }
}
