//! `homeward evidence verify BUNDLE`: checks an evidence bundle without the database (the
//! checks are `homeward_domain::evidence::verify`; this prints what they found).

use crate::BadInput;
use homeward_app::checkpoint::parse_public_key;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum EvidenceCommand {
    /// Check an evidence bundle: its signature, each attachment's SHA-256, each audit entry's
    /// hash, the chain's links and its signed head. Exit 0 when all hold, 1 naming each part
    /// that does not. Needs no database.
    Verify(VerifyArgs),
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The bundle (a .tar file downloaded from Homeward).
    bundle: PathBuf,
    /// The deployment's public key (file of 64 hex digits, from `audit keygen --public-out`).
    /// Without it the key the bundle names is used, which proves the bundle intact but not who
    /// signed it.
    #[arg(long)]
    public_key: Option<PathBuf>,
}

pub fn run(cmd: &EvidenceCommand) -> anyhow::Result<ExitCode> {
    let EvidenceCommand::Verify(args) = cmd;
    let bytes = std::fs::read(&args.bundle).map_err(|e| {
        BadInput(format!(
            "cannot read the bundle {}: {e}",
            args.bundle.display()
        ))
    })?;
    let key = match &args.public_key {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| {
                BadInput(format!("cannot read the public key {}: {e}", p.display()))
            })?;
            Some(parse_public_key(&text).map_err(|e| BadInput(format!("{}: {e}", p.display())))?)
        }
        None => None,
    };
    let v = homeward_domain::evidence::verify(&bytes, key.as_ref());
    if let Some(m) = &v.manifest {
        let names: Vec<String> = m
            .case
            .child_names
            .iter()
            .map(|n| match n.latin.as_str() {
                "" => n.written.clone(),
                latin => format!("{} ({latin})", n.written),
            })
            .collect();
        println!("case {} — {}", m.case.id, names.join(", "));
        println!(
            "exported by {} ({}) at {}",
            m.exported_by.display_name, m.exported_by.party_name, m.exported_by.at
        );
        println!(
            "{} accountability facts, {} attachments, {} audit entries, chain of {} links to head {} ({})",
            m.accountability.len(),
            m.attachments.len(),
            m.audit_entries.len(),
            m.chain.len(),
            m.head.seq,
            m.head.hash
        );
    }
    if !v.key_from_verifier {
        println!(
            "note: checked with the key the bundle names; pass --public-key with the deployment's key to prove who signed it"
        );
    }
    if v.holds() {
        println!("evidence bundle intact");
        return Ok(ExitCode::SUCCESS);
    }
    for p in &v.problems {
        println!("FAILED {p}");
    }
    println!("evidence bundle BROKEN: {} problem(s)", v.problems.len());
    Ok(ExitCode::from(1))
}
