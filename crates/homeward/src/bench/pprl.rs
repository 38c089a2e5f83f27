//! `homeward bench pprl`: privacy-preserving linkage on the generator's multilingual lists (and on
//! FEBRL4), beside clear-text Homeward and beside clkhash + anonlink (PyPI) on the same lists in the
//! same run; the comparison loop's speed on one core beside anonlink's; and a frequency attack on
//! the encodings with and without hardening.

use super::synth;
use crate::link_cmd;
use anyhow::Context;
use homeward_linkage::names::tables;
use homeward_linkage::pprl::{
    EncodedList, Hardening, PprlKey, PprlOptions, dice_all_pairs, encode, frequency_attack,
    link_encoded_with_stats,
};
use homeward_linkage::{FieldKind, LinkConfig, Table, link, phonetic};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct PprlBenchArgs {
    /// Records in the left list.
    #[arg(long, default_value_t = 20_000)]
    pub left: usize,
    /// Records in the right list.
    #[arg(long, default_value_t = 400_000)]
    pub right: usize,
    /// Seed of the synthetic lists.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also link FEBRL4, exported to this directory by `bench/.venv/bin/python
    /// bench/splink_bench.py export-febrl DIR`.
    #[arg(long, value_name = "DIR")]
    pub febrl: Option<PathBuf>,
    /// Also link lists of generator 2 (bench/gen2, written blind; profile "mixed") of the same
    /// sizes: figures reported, never tuned on.
    #[arg(long)]
    pub gen2: bool,
    #[arg(long, default_value = "bench/gen2/generate.py")]
    pub gen2_script: PathBuf,
    /// Python of the virtual environment with clkhash and anonlink (`bash bench/setup.sh` makes
    /// it, with the versions pinned in bench/pprl-requirements.txt).
    #[arg(long, default_value = "bench/.venv/bin/python")]
    pub python: PathBuf,
    #[arg(long, default_value = "bench/pprl_peer.py")]
    pub script: PathBuf,
    /// Skip clkhash + anonlink.
    #[arg(long)]
    pub no_peers: bool,
    /// Left records × right records of the one-core comparison measurement (all pairs).
    #[arg(long, default_value_t = 2_000)]
    pub speed_left: usize,
    #[arg(long, default_value_t = 20_000)]
    pub speed_right: usize,
    /// Hardening of the linkage runs (the attack runs every one).
    #[arg(long, default_value = "salt-year")]
    pub hardening: String,
    /// Keep the CSV files here (default: a temporary directory).
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

pub fn run(args: &PprlBenchArgs) -> anyhow::Result<ExitCode> {
    let tmp = tempfile::Builder::new()
        .prefix("homeward-bench-pprl-")
        .tempdir()?;
    let dir = args
        .keep
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let cpus = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1);
    println!(
        "machine: {cpus} CPUs; rayon threads {}",
        rayon::current_num_threads()
    );
    let mut report = serde_json::Map::new();

    eprintln!("generating {} × {}…", args.left, args.right);
    let lists = synth::generate(args.seed, args.left, args.right, &synth::Rates::default());
    write_lists(&dir, &lists)?;
    let (left, right, truth) = tables_of(&lists)?;
    let name = format!("synthetic {} × {}", args.left, args.right);
    let row = compare_on(args, &name, &left, &right, &truth, &dir, false)?;
    report.insert("synthetic".into(), row);

    if args.gen2 {
        let gdir = dir.join("gen2");
        std::fs::create_dir_all(&gdir)?;
        eprintln!("generator 2, mixed {} × {}…", args.left, args.right);
        let status = Command::new(&args.python)
            .arg(&args.gen2_script)
            .args(["--left", &args.left.to_string()])
            .args(["--right", &args.right.to_string()])
            .args(["--seed", &args.seed.to_string(), "--profile", "mixed"])
            .arg("--out")
            .arg(&gdir)
            .stdout(Stdio::null())
            .status()
            .with_context(|| format!("cannot run {}", args.python.display()))?;
        anyhow::ensure!(
            status.success(),
            "{} failed ({status})",
            args.gen2_script.display()
        );
        let none = HashMap::new();
        let (left, _) = link_cmd::load_table(&gdir.join("left.csv"), &none)?;
        let (right, _) = link_cmd::load_table(&gdir.join("right.csv"), &none)?;
        let truth = super::held_out::read_truth(&gdir.join("truth.csv"))?;
        let name = format!("generator 2 mixed {} × {}", args.left, args.right);
        let row = compare_on(args, &name, &left, &right, &truth, &gdir, false)?;
        report.insert("gen2".into(), row);
    }

    if let Some(fdir) = &args.febrl {
        let (left, right, truth) = febrl_tables(fdir)?;
        let row = compare_on(args, "FEBRL4", &left, &right, &truth, fdir, true)?;
        report.insert("febrl4".into(), row);
    }

    report.insert("speed".into(), speed(args, &left, &right, &dir)?);
    report.insert("attack".into(), attack(args, &right, &lists)?);
    println!("\nJSON: {}", Value::Object(report));
    Ok(ExitCode::SUCCESS)
}

type Truth = HashSet<(String, String)>;

fn tables_of(lists: &synth::Lists) -> anyhow::Result<(Table, Table, Truth)> {
    let columns: Vec<(String, FieldKind)> = synth::COLUMNS
        .iter()
        .map(|h| {
            let kind = link_cmd::recognise_header(h).unwrap_or(FieldKind::Ignore);
            ((*h).to_string(), kind)
        })
        .collect();
    let mut left = Table::new(columns.clone())?;
    for r in &lists.left {
        left.push(r.id.clone(), r.values().map(Some))?;
    }
    let mut right = Table::new(columns)?;
    for r in &lists.right {
        right.push(r.id.clone(), r.values().map(Some))?;
    }
    let truth = lists
        .truth
        .iter()
        .map(|&(i, j)| {
            let l = lists.left[i as usize].id.clone();
            (l, lists.right[j as usize].id.clone())
        })
        .collect();
    Ok((left, right, truth))
}

fn write_lists(dir: &Path, lists: &synth::Lists) -> anyhow::Result<()> {
    let line = |v: &[&str]| -> String {
        let cells: Vec<String> = v
            .iter()
            .map(|s| {
                if s.contains([',', '"', '\n']) {
                    format!("\"{}\"", s.replace('"', "\"\""))
                } else {
                    (*s).to_string()
                }
            })
            .collect();
        cells.join(",") + "\n"
    };
    for (name, records) in [("left.csv", &lists.left), ("right.csv", &lists.right)] {
        let mut body = line(&synth::COLUMNS);
        for r in records {
            body.push_str(&line(&r.values()));
        }
        std::fs::write(dir.join(name), body).with_context(|| format!("cannot write {name}"))?;
    }
    let mut body = String::from("left_id,right_id\n");
    for &(i, j) in &lists.truth {
        body.push_str(&line(&[
            &lists.left[i as usize].id,
            &lists.right[j as usize].id,
        ]));
    }
    std::fs::write(dir.join("truth.csv"), body).context("cannot write truth.csv")?;
    Ok(())
}

/// FEBRL4 as `homeward bench link --febrl` reads it.
fn febrl_tables(dir: &Path) -> anyhow::Result<(Table, Table, Truth)> {
    let overrides: HashMap<String, FieldKind> = [
        ("soc_sec_id", FieldKind::Identifier),
        ("street_number", FieldKind::Exact),
        ("address_1", FieldKind::Text),
        ("address_2", FieldKind::Text),
        ("suburb", FieldKind::Text),
        ("postcode", FieldKind::Exact),
        ("state", FieldKind::Exact),
    ]
    .into_iter()
    .map(|(h, k)| (h.to_string(), k))
    .collect();
    let (left, _) = link_cmd::load_table(&dir.join("febrl4_a.csv"), &overrides)?;
    let (right, _) = link_cmd::load_table(&dir.join("febrl4_b.csv"), &overrides)?;
    let text = std::fs::read_to_string(dir.join("febrl4_truth.csv"))
        .context("cannot read febrl4_truth.csv")?;
    let truth = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            l.split_once(',')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        })
        .collect();
    Ok((left, right, truth))
}

fn score(pairs: &Truth, truth: &Truth) -> Value {
    let tp = pairs.intersection(truth).count() as f64;
    let p = if pairs.is_empty() {
        1.0
    } else {
        tp / pairs.len() as f64
    };
    let r = if truth.is_empty() {
        1.0
    } else {
        tp / truth.len() as f64
    };
    let f1 = if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    };
    json!({"precision": p, "recall": r, "f1": f1, "found": pairs.len(), "true_pairs": truth.len()})
}

fn key() -> PprlKey {
    // The benchmark's key is fixed so that runs are comparable; a real key comes from keygen.
    PprlKey::from_bytes([0x5a; 32])
}

/// Clear Homeward, Homeward PPRL and (unless --no-peers) clkhash + anonlink on one pair of lists.
fn compare_on(
    args: &PprlBenchArgs,
    name: &str,
    left: &Table,
    right: &Table,
    truth: &Truth,
    dir: &Path,
    febrl: bool,
) -> anyhow::Result<Value> {
    eprintln!("{name}: clear-text Homeward…");
    let t = Instant::now();
    let out = link(left, right, &LinkConfig::default(), None, &|_| {})?;
    let clear_s = t.elapsed().as_secs_f64();
    let pairs: Truth = out
        .pairs
        .iter()
        .filter(|p| p.decision == homeward_linkage::Decision::Match)
        .map(|p| (p.left_id.clone(), p.right_id.clone()))
        .collect();
    let mut clear = score(&pairs, truth);
    clear["total_s"] = json!(clear_s);
    clear["candidate_pairs"] = json!(out.stats.candidate_pairs);

    eprintln!("{name}: Homeward PPRL…");
    let t = Instant::now();
    let h = Hardening::parse(&args.hardening)?;
    let (a, b) = (encode(left, &key(), h), encode(right, &key(), h));
    let encode_s = t.elapsed().as_secs_f64();
    let (ja, jb) = (a.to_json()?, b.to_json()?);
    drop((a, b));
    let t = Instant::now();
    let (a, b) = (EncodedList::from_json(&ja)?, EncodedList::from_json(&jb)?);
    let (found, stats) = link_encoded_with_stats(&a, &b, &PprlOptions::default())?;
    let link_s = t.elapsed().as_secs_f64();
    let pairs: Truth = found
        .iter()
        .map(|p| (p.left.clone(), p.right.clone()))
        .collect();
    let mut pprl = score(&pairs, truth);
    pprl["encode_s"] = json!(encode_s);
    pprl["link_s"] = json!(link_s);
    pprl["candidate_pairs"] = json!(stats.candidates);
    pprl["compare_s"] = json!(stats.seconds_compare);
    pprl["stats"] = json!(format!("{stats:?}"));
    pprl["encoded_mib"] = json!((ja.len() + jb.len()) as f64 / 1048576.0);

    let peer = if args.no_peers {
        json!({"skipped": true})
    } else {
        eprintln!("{name}: clkhash + anonlink…");
        let (l, r, t) = if febrl {
            (
                dir.join("febrl4_a.csv"),
                dir.join("febrl4_b.csv"),
                dir.join("febrl4_truth.csv"),
            )
        } else {
            (
                dir.join("left.csv"),
                dir.join("right.csv"),
                dir.join("truth.csv"),
            )
        };
        let mut extra = vec!["link".to_string()];
        for p in [&l, &r, &t] {
            extra.push(p.display().to_string());
        }
        if febrl {
            extra.push("--febrl".into());
        }
        run_peer(args, &extra)
    };
    print_rows(name, &clear, &pprl, &peer);
    Ok(json!({"clear": clear, "pprl": pprl, "anonlink": peer}))
}

fn fv(v: &Value, k: &str) -> f64 {
    v.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

fn print_rows(name: &str, clear: &Value, pprl: &Value, peer: &Value) {
    println!("\n{name}");
    println!(
        "  {:<22} {:>7} {:>7} {:>7} {:>10} {:>10}",
        "tool", "prec", "recall", "F1", "encode s", "link s"
    );
    let row = |tool: &str, v: &Value, enc: f64, link: f64| {
        println!(
            "  {:<22} {:>7.4} {:>7.4} {:>7.4} {:>10.2} {:>10.2}",
            tool,
            fv(v, "precision"),
            fv(v, "recall"),
            fv(v, "f1"),
            enc,
            link
        );
    };
    row("homeward clear", clear, f64::NAN, fv(clear, "total_s"));
    row(
        "homeward pprl",
        pprl,
        fv(pprl, "encode_s"),
        fv(pprl, "link_s"),
    );
    if let Some(e) = peer.get("error") {
        println!("  {:<22} {e}", "clkhash + anonlink");
    } else if peer.get("skipped").is_none() {
        row(
            "clkhash + anonlink",
            peer,
            fv(peer, "encode_s"),
            fv(peer, "link_s"),
        );
    }
    println!(
        "  F1 PPRL − clear: {:+.4}",
        fv(pprl, "f1") - fv(clear, "f1")
    );
}

fn run_peer(args: &PprlBenchArgs, extra: &[String]) -> Value {
    let out = Command::new(&args.python)
        .arg(&args.script)
        .args(extra)
        .stderr(Stdio::inherit())
        .output();
    let how = "bash bench/setup.sh (pins in bench/pprl-requirements.txt)";
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .lines()
            .rev()
            .find_map(|l| serde_json::from_str::<Value>(l).ok())
            .unwrap_or_else(|| json!({"error": "no JSON from the peer script"})),
        Ok(o) => {
            json!({"error": format!("{} failed ({}); to install the peers: {how}", args.script.display(), o.status)})
        }
        Err(e) => {
            json!({"error": format!("cannot run {}: {e}; to install the peers: {how}", args.python.display())})
        }
    }
}

/// Comparisons per second on one core: every left record against every right record, Homeward's
/// per-field Dice loop beside anonlink's Dice on clkhash's CLKs of the same records.
fn speed(args: &PprlBenchArgs, left: &Table, right: &Table, dir: &Path) -> anyhow::Result<Value> {
    let a = encode(left, &key(), Hardening::SaltYear);
    let b = encode(right, &key(), Hardening::SaltYear);
    let sub = |l: &EncodedList, n: usize| EncodedList {
        records: l.records.iter().take(n).cloned().collect(),
        ..l.clone()
    };
    let (a, b) = (sub(&a, args.speed_left), sub(&b, args.speed_right));
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let t = Instant::now();
    // Read on the pool's one thread, where the comparisons run.
    let (counted, cpu) = pool.install(|| {
        let before = super::thread_cpu_seconds();
        let counted = dice_all_pairs(&a, &b);
        let cpu = before.zip(super::thread_cpu_seconds()).map(|(s, e)| e - s);
        (counted, cpu)
    });
    let (n, close) = counted?;
    let secs = t.elapsed().as_secs_f64();
    let ours = n as f64 / secs;
    let ours_cpu = cpu.map(|c| n as f64 / c.max(1e-9));
    let peer = if args.no_peers {
        json!({"skipped": true})
    } else {
        eprintln!("one-core comparisons: anonlink…");
        run_peer(
            args,
            &[
                "speed".into(),
                dir.join("left.csv").display().to_string(),
                dir.join("right.csv").display().to_string(),
                args.speed_left.to_string(),
                args.speed_right.to_string(),
            ],
        )
    };
    let theirs = fv(&peer, "comparisons_per_s");
    let theirs_cpu = fv(&peer, "comparisons_per_cpu_s");
    let ratio_cpu = ours_cpu.map(|o| o / theirs_cpu);
    println!(
        "\none core, all pairs of {} × {}: homeward pprl {:.1} M comparisons/s ({} close), anonlink {:.1} M/s, ratio {:.2}",
        a.records.len(),
        b.records.len(),
        ours / 1e6,
        close,
        theirs / 1e6,
        ours / theirs
    );
    if let Some(o) = ours_cpu {
        println!(
            "  per CPU second (what each process ran, whatever else the machine did): homeward pprl {:.1} M, anonlink {:.1} M, ratio {:.2}",
            o / 1e6,
            theirs_cpu / 1e6,
            o / theirs_cpu
        );
    }
    Ok(json!({
        "comparisons": n, "seconds": secs, "cpu_seconds": cpu, "homeward_per_s": ours,
        "homeward_per_cpu_s": ours_cpu, "anonlink": peer, "ratio": ours / theirs,
        "ratio_cpu": ratio_cpu,
    }))
}

/// The key an attacker's public list would use for a given name: its equivalence class (so that
/// Олександр and Александр count as one name), else its phonetic form.
fn given_key(name: &str) -> Option<String> {
    let phon = phonetic(name);
    if phon.is_empty() {
        return None;
    }
    let t = tables();
    let classes = t.given_classes(&phon);
    Some(match classes.as_slice().first() {
        Some(c) => format!("class {c}"),
        None => phon,
    })
}

fn family_key(name: &str) -> Option<String> {
    let phon = phonetic(name);
    (!phon.is_empty()).then(|| tables().surname_canonical(&phon))
}

/// The frequency attack on the right list's encodings, per field and hardening. The attacker's
/// public frequency list is counted on another synthetic population (another seed).
fn attack(args: &PprlBenchArgs, right: &Table, lists: &synth::Lists) -> anyhow::Result<Value> {
    let public_lists = synth::generate(
        args.seed.wrapping_add(7919),
        0,
        200_000,
        &synth::Rates::default(),
    );
    let count = |f: &dyn Fn(&synth::Record) -> Option<String>| -> Vec<(String, f64)> {
        let mut m: HashMap<String, f64> = HashMap::new();
        for r in &public_lists.right {
            if let Some(k) = f(r) {
                *m.entry(k).or_default() += 1.0;
            }
        }
        m.into_iter().collect()
    };
    type KeyFn = fn(&synth::Record) -> Option<String>;
    let fields: [(&str, KeyFn); 2] = [
        ("given_name", |r| given_key(&r.given_name)),
        ("family_name", |r| family_key(&r.family_name)),
    ];
    let mut out = serde_json::Map::new();
    println!(
        "\nfrequency attack on the {} right-list encodings (public list: 200000 other synthetic records)",
        right.len()
    );
    for h in [Hardening::None, Hardening::SaltYear, Hardening::SaltDate] {
        let enc = encode(right, &key(), h);
        for (field, keyf) in &fields {
            let public = count(keyf);
            let truth: Vec<Option<String>> = lists.right.iter().map(keyf).collect();
            let truth_ref: Vec<Option<&str>> = truth.iter().map(|t| t.as_deref()).collect();
            let fi = enc
                .fields
                .iter()
                .position(|f| f.name == *field)
                .unwrap_or(0);
            let values: Vec<Option<&str>> = enc
                .records
                .iter()
                .map(|r| r.fields[fi].as_deref())
                .collect();
            let rep = frequency_attack(&values, &truth_ref, &public);
            println!(
                "  hardening {:<10} {:<12} re-identified {:>7} of {:>7} = {:>6.2} % ({} distinct encodings)",
                h.as_str(),
                field,
                rep.reidentified,
                rep.records,
                100.0 * rep.share,
                rep.distinct_encodings
            );
            out.insert(
                format!("{}/{field}", h.as_str()),
                json!({"reidentified": rep.reidentified, "records": rep.records, "share": rep.share, "distinct": rep.distinct_encodings}),
            );
        }
    }
    Ok(Value::Object(out))
}
