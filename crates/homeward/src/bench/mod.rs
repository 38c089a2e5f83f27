//! `homeward bench link`: the linkage engine on synthetic multilingual lists of known truth (and on
//! FEBRL4), with precision, recall, F1, time per phase, pairs per second and peak memory, beside
//! Splink 5 on the same data in the same run (`--peers`).
//!
//! Each size runs in a child process (`--child`), so that the peak memory reported is that run's
//! and not the largest so far.

pub mod export;
pub mod held_out;
pub mod indicators;
pub mod labels;
pub mod pprl;
pub mod queue;
pub mod serve;
pub mod synth;
pub mod tables;
pub mod variations;

use crate::link_cmd;
use anyhow::{Context, bail};
use homeward_linkage::{FieldKind, LinkConfig, LinkOutput, Table, link};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

/// The sizes the issue asks for; the last is 1M records in all, split 100k left × 900k right.
const STANDARD_SIZES: [(usize, usize); 4] = [
    (1_000, 10_000),
    (5_000, 100_000),
    (20_000, 400_000),
    (100_000, 900_000),
];

#[derive(Debug, clap::Args)]
pub struct LinkBenchArgs {
    /// Records in the left list (with --right: one size; without both: the standard sizes).
    #[arg(long, requires = "right")]
    pub left: Option<usize>,
    #[arg(long, requires = "left")]
    pub right: Option<usize>,
    /// Only the standard sizes up to this many records in all (e.g. 500000 skips the 1M run).
    #[arg(long)]
    pub max_records: Option<usize>,
    /// Seed of the synthetic lists.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Runs per size (the median is reported).
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
    /// Also run Splink 5 (bench/splink_bench.py in bench/.venv; see bench/setup.sh) on the same data.
    #[arg(long)]
    pub peers: bool,
    /// Also link FEBRL4, exported to this directory by `splink_bench.py export-febrl DIR`.
    #[arg(long, value_name = "DIR")]
    pub febrl: Option<PathBuf>,
    /// Keep the generated CSV files here (default: a temporary directory).
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// Python of the peers' virtual environment.
    #[arg(long, default_value = "bench/.venv/bin/python")]
    pub python: PathBuf,
    #[arg(long, default_value = "bench/splink_bench.py")]
    pub script: PathBuf,
    /// Write up to this many missed and false pairs with their explanations to the CSV directory.
    #[arg(long, default_value_t = 30)]
    pub examples: usize,
    /// Also run the lists of generator 2 (bench/gen2, written blind; see docs/benchmarks.md), three
    /// profiles up to --max-records, Splink too with --peers.
    #[arg(long)]
    pub gen2: bool,
    #[arg(long, default_value = "bench/gen2/generate.py")]
    pub gen2_script: PathBuf,
    /// Also link each list again (generator 1 and 2) with the model refined by this many reviewers.
    /// decisions (comma-separated, e.g. 100,500), drawn from the pairs the unlabelled run
    /// returned and labelled with the truth.
    #[arg(long, value_delimiter = ',')]
    pub labels: Vec<usize>,
    /// Internal: run one size in this process and print its figures as JSON.
    #[arg(long, hide = true)]
    pub child: bool,
    /// Internal: where the child writes the CSV files.
    #[arg(long, hide = true)]
    pub write_dir: Option<PathBuf>,
}

/// The most memory the process has held (VmHWM), from Linux's accounting.
fn peak_rss_bytes() -> Option<u64> {
    status_kb("VmHWM:").map(|kb| kb * 1024)
}

fn rss_bytes() -> Option<u64> {
    status_kb("VmRSS:").map(|kb| kb * 1024)
}

fn status_kb(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.trim_start_matches(key)
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// CPU time this thread has run, from the kernel's scheduler statistics (Linux): on a machine
/// shared with other work, a rate per CPU second compares two programs fairly where a rate per
/// wall-clock second depends on what else ran at that moment.
pub(crate) fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: f64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(nanos / 1e9)
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0), so that the peak measured is the linkage's and
/// not the generator's.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

pub fn run_link_bench(args: &LinkBenchArgs) -> anyhow::Result<ExitCode> {
    if args.child {
        let (Some(l), Some(r)) = (args.left, args.right) else {
            bail!("--child needs --left and --right")
        };
        let v = child_run(l, r, args, args.write_dir.as_deref())?;
        println!("{v}");
        return Ok(ExitCode::SUCCESS);
    }
    let sizes: Vec<(usize, usize)> = match (args.left, args.right) {
        (Some(l), Some(r)) => vec![(l, r)],
        _ => STANDARD_SIZES
            .iter()
            .copied()
            .filter(|(l, r)| args.max_records.is_none_or(|m| l + r <= m))
            .collect(),
    };
    let tmp = tempfile::Builder::new()
        .prefix("homeward-bench-link-")
        .tempdir()?;
    let base = args
        .keep
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    print_machine();
    let mut rows = Vec::new();
    for &(l, r) in &sizes {
        let dir = base.join(format!("{l}x{r}"));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let mut runs = Vec::new();
        for k in 0..args.runs.max(1) {
            eprintln!("homeward {l} × {r}, run {} of {}…", k + 1, args.runs.max(1));
            runs.push(spawn_child(l, r, args, (k == 0).then_some(dir.as_path()))?);
        }
        let home = median_run(runs);
        let peer = if args.peers {
            eprintln!("splink {l} × {r}…");
            Some(run_peer(args, &dir, false))
        } else {
            None
        };
        print_row(&format!("{l} × {r}"), &home, peer.as_ref());
        labels::print(&home);
        rows.push((format!("{l}x{r}"), home, peer));
    }
    if let Some(dir) = &args.febrl {
        let examples_dir = args.keep.as_ref().map(|k| k.join("febrl4"));
        if let Some(d) = &examples_dir {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
        }
        let home = febrl_run(dir, examples_dir.as_deref(), args.examples)?;
        let peer = args.peers.then(|| run_peer(args, dir, true));
        print_row("FEBRL4", &home, peer.as_ref());
        rows.push(("febrl4".into(), home, peer));
    }
    if args.gen2 {
        for (name, home, peer) in held_out::run(args, &base)? {
            print_row(&name, &home, peer.as_ref());
            labels::print(&home);
            rows.push((name, home, peer));
        }
    }
    let all: Vec<Value> = rows
        .iter()
        .map(|(n, h, p)| json!({"size": n, "homeward": h, "splink": p}))
        .collect();
    println!("\nJSON: {}", Value::Array(all));
    if args.keep.is_some() {
        eprintln!("files kept in {}", base.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn spawn_child(
    l: usize,
    r: usize,
    args: &LinkBenchArgs,
    write_dir: Option<&Path>,
) -> anyhow::Result<Value> {
    let exe = std::env::current_exe().context("cannot find the homeward executable")?;
    let mut cmd = Command::new(exe);
    cmd.args([
        "bench",
        "link",
        "--child",
        "--left",
        &l.to_string(),
        "--right",
        &r.to_string(),
    ])
    .args([
        "--seed",
        &args.seed.to_string(),
        "--examples",
        &args.examples.to_string(),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    if let Some(d) = write_dir {
        cmd.arg("--write-dir").arg(d);
    }
    if !args.labels.is_empty() {
        let counts: Vec<String> = args.labels.iter().map(usize::to_string).collect();
        cmd.arg("--labels").arg(counts.join(","));
    }
    let out = cmd
        .output()
        .context("cannot run the benchmark child process")?;
    if !out.status.success() {
        bail!("the benchmark child for {l} × {r} failed ({})", out.status);
    }
    serde_json::from_slice(&out.stdout).context("the benchmark child printed no JSON")
}

/// The run with the median total time (its other figures with it, so they stay consistent).
fn median_run(mut runs: Vec<Value>) -> Value {
    runs.sort_by(|a, b| f(a, "total_s").total_cmp(&f(b, "total_s")));
    let n = runs.len();
    let totals: Vec<f64> = runs.iter().map(|r| f(r, "total_s")).collect();
    let mut m = runs.swap_remove(n / 2);
    if let Some(o) = m.as_object_mut() {
        o.insert("runs_total_s".into(), json!(totals));
    }
    m
}

fn f(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

fn run_peer(args: &LinkBenchArgs, dir: &Path, febrl: bool) -> Value {
    let (l, r, t) = if febrl {
        (
            dir.join("febrl4_a_splink.csv"),
            dir.join("febrl4_b_splink.csv"),
            dir.join("febrl4_truth.csv"),
        )
    } else {
        (
            dir.join("left_ascii.csv"),
            dir.join("right_ascii.csv"),
            dir.join("truth.csv"),
        )
    };
    let mut cmd = Command::new(&args.python);
    cmd.arg(&args.script)
        .arg("link")
        .arg(&l)
        .arg(&r)
        .arg(&t)
        .stderr(Stdio::null());
    if febrl {
        cmd.arg("--febrl");
    }
    let started = Instant::now();
    match cmd.output() {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            match text
                .lines()
                .rev()
                .find_map(|line| serde_json::from_str::<Value>(line).ok())
            {
                Some(mut v) => {
                    if let Some(o) = v.as_object_mut() {
                        o.insert("process_s".into(), json!(started.elapsed().as_secs_f64()));
                    }
                    v
                }
                None => json!({"error": "no JSON from splink_bench.py"}),
            }
        }
        Ok(out) => json!({"error": format!("splink_bench.py failed ({})", out.status)}),
        Err(e) => {
            json!({"error": format!("cannot run {}: {e} (run bench/setup.sh)", args.python.display())})
        }
    }
}

fn print_machine() {
    let cpus = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|c| c.lines().next().map(str::to_string))
        .unwrap_or_default();
    println!("machine: {cpus} CPUs ({model}); {mem}");
    println!(
        "{:<16} {:<9} {:>7} {:>7} {:>7} {:>9} {:>12} {:>10} {:>8}",
        "size", "tool", "prec", "recall", "F1", "wall s", "pairs/s", "peak MiB", "×faster"
    );
}

fn print_row(name: &str, home: &Value, peer: Option<&Value>) {
    let mib = |v: &Value| f(v, "peak_rss_bytes") / (1024.0 * 1024.0);
    println!(
        "{:<16} {:<9} {:>7.4} {:>7.4} {:>7.4} {:>9.2} {:>12.0} {:>10.0} {:>8}",
        name,
        "homeward",
        f(home, "precision"),
        f(home, "recall"),
        f(home, "f1"),
        f(home, "total_s"),
        f(home, "pairs_per_s"),
        mib(home),
        ""
    );
    if let Some(p) = peer {
        if let Some(e) = p.get("error") {
            println!("{:<16} {:<9} {e}", "", "splink");
            return;
        }
        println!(
            "{:<16} {:<9} {:>7.4} {:>7.4} {:>7.4} {:>9.2} {:>12} {:>10.0} {:>8.1}",
            "",
            "splink",
            f(p, "precision"),
            f(p, "recall"),
            f(p, "f1"),
            f(p, "total_s"),
            "",
            mib(p),
            f(p, "total_s") / f(home, "total_s")
        );
    }
}

fn score(
    pairs: &HashSet<(String, String)>,
    truth: &HashSet<(String, String)>,
) -> (usize, f64, f64, f64) {
    let tp = pairs.intersection(truth).count();
    let p = if pairs.is_empty() {
        1.0
    } else {
        tp as f64 / pairs.len() as f64
    };
    let r = if truth.is_empty() {
        1.0
    } else {
        tp as f64 / truth.len() as f64
    };
    let f1 = if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    };
    (tp, p, r, f1)
}

fn figures(out: &LinkOutput, truth: &HashSet<(String, String)>, wall_s: f64) -> Value {
    let pairs: HashSet<(String, String)> = out
        .pairs
        .iter()
        .filter(|p| p.decision == homeward_linkage::Decision::Match)
        .map(|p| (p.left_id.clone(), p.right_id.clone()))
        .collect();
    let (tp, precision, recall, f1) = score(&pairs, truth);
    // The review band: every pair output (match or review), and the possibly renamed among them.
    let key = |p: &homeward_linkage::LinkedPair| (p.left_id.clone(), p.right_id.clone());
    let all: HashSet<(String, String)> = out.pairs.iter().map(key).collect();
    let renamed: Vec<(String, String)> = out
        .pairs
        .iter()
        .filter(|p| p.possibly_renamed)
        .map(key)
        .collect();
    let t = &out.stats.timings;
    json!({
        "with_review_recall": all.intersection(truth).count() as f64 / truth.len().max(1) as f64,
        "with_review_pairs": all.len(),
        "possibly_renamed": renamed.len(),
        "possibly_renamed_true": renamed.iter().filter(|p| truth.contains(p)).count(),
        "tool": "homeward",
        "left_records": out.stats.left_records,
        "right_records": out.stats.right_records,
        "true_pairs": truth.len(),
        "found": pairs.len(),
        "true_positives": tp,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "candidate_pairs": out.stats.candidate_pairs,
        "pairs_per_s": out.stats.candidate_pairs as f64 / wall_s.max(1e-9),
        "timings_ms": t,
        "total_s": wall_s,
        "threads": rayon_threads(),
    })
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
}

fn child_run(
    n_left: usize,
    n_right: usize,
    args: &LinkBenchArgs,
    write_dir: Option<&Path>,
) -> anyhow::Result<Value> {
    let (seed, examples) = (args.seed, args.examples);
    let t0 = Instant::now();
    let lists = synth::generate(seed, n_left, n_right, &synth::Rates::default());
    let generate_s = t0.elapsed().as_secs_f64();
    if let Some(dir) = write_dir {
        write_csvs(dir, &lists)?;
    }
    let columns: Vec<(String, FieldKind)> = synth::COLUMNS
        .iter()
        .map(|h| {
            (
                (*h).to_string(),
                link_cmd::recognise_header(h).unwrap_or(FieldKind::Ignore),
            )
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
    let truth: HashSet<(String, String)> = lists
        .truth
        .iter()
        .map(|&(i, j)| {
            (
                lists.left[i as usize].id.clone(),
                lists.right[j as usize].id.clone(),
            )
        })
        .collect();
    let rss_before = rss_bytes();
    let peak_reset = reset_peak();
    let t1 = Instant::now();
    let out = link(&left, &right, &LinkConfig::default(), None, &|_| {})?;
    let wall = t1.elapsed().as_secs_f64();
    let peak = peak_rss_bytes();
    let mut v = figures(&out, &truth, wall);
    if let Some(o) = v.as_object_mut() {
        o.insert("generate_s".into(), json!(generate_s));
        o.insert("rss_before_link_bytes".into(), json!(rss_before));
        o.insert("peak_rss_bytes".into(), json!(peak));
        o.insert("peak_is_link_only".into(), json!(peak_reset));
    }
    if !args.labels.is_empty()
        && let Some(o) = v.as_object_mut()
    {
        let curve = labels::curve(&left, &right, &truth, &out, &args.labels, seed)?;
        o.insert("labels".into(), curve);
    }
    if let Some(dir) = write_dir {
        let by = variations::tally(&lists, &left, &right, &out);
        let text = variations::render(&by);
        eprint!("{text}");
        std::fs::write(dir.join("variations.txt"), text).context("cannot write variations.txt")?;
        if let Some(o) = v.as_object_mut() {
            o.insert("by_variation".into(), variations::to_json(&by));
        }
        if examples > 0 {
            write_examples(dir, &lists, &left, &right, &out, examples)?;
        }
    }
    Ok(v)
}

fn csv_line(values: &[&str]) -> String {
    let cells: Vec<String> = values
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
}

fn write_csvs(dir: &Path, lists: &synth::Lists) -> anyhow::Result<()> {
    let write = |name: &str, body: String| {
        std::fs::write(dir.join(name), body).with_context(|| format!("cannot write {name}"))
    };
    for (name, recs) in [("left", &lists.left), ("right", &lists.right)] {
        let mut body = csv_line(&synth::COLUMNS);
        let mut ascii = body.clone();
        for r in recs {
            body.push_str(&csv_line(&r.values()));
            let a = synth::ascii_record(r);
            let refs: Vec<&str> = a.iter().map(String::as_str).collect();
            ascii.push_str(&csv_line(&refs));
        }
        write(&format!("{name}.csv"), body)?;
        write(&format!("{name}_ascii.csv"), ascii)?;
    }
    let mut truth = String::from("left_id,right_id\n");
    for &(i, j) in &lists.truth {
        truth.push_str(&format!(
            "{},{}\n",
            lists.left[i as usize].id, lists.right[j as usize].id
        ));
    }
    write("truth.csv", truth)
}

/// Missed and false pairs with the engine's explanations, for whoever tunes the engine.
fn write_examples(
    dir: &Path,
    lists: &synth::Lists,
    left: &Table,
    right: &Table,
    out: &LinkOutput,
    n: usize,
) -> anyhow::Result<()> {
    let matched: HashMap<usize, (usize, f64)> = out
        .pairs
        .iter()
        .filter(|p| p.decision == homeward_linkage::Decision::Match)
        .map(|p| (p.left, (p.right, p.probability)))
        .collect();
    let true_right: HashMap<usize, usize> = lists
        .truth
        .iter()
        .map(|&(i, j)| (i as usize, j as usize))
        .collect();
    let rec = |r: &synth::Record| {
        format!(
            "{} | {} | {} | {} | {} | {} | {} [{}]",
            r.id,
            r.family_name,
            r.given_name,
            r.patronymic,
            r.sex,
            r.birth_date,
            r.birth_place,
            r.notes.join(" ")
        )
    };
    let explain = |i: usize, j: usize| -> String {
        match out.model.explain(left, i, right, j) {
            Ok(e) => {
                let parts: Vec<String> = e
                    .fields
                    .iter()
                    .map(|c| format!("{}={}({:+.1})", c.field, c.level, c.weight))
                    .collect();
                format!(
                    "p={:.3} w={:+.1} prior={:+.1}: {}",
                    e.probability,
                    e.match_weight,
                    e.prior,
                    parts.join(" ")
                )
            }
            Err(e) => format!("(no explanation: {e})"),
        }
    };
    let rules = homeward_linkage::default_rules();
    let (lk, rk) = (
        homeward_linkage::row_keys(left, &rules),
        homeward_linkage::row_keys(right, &rules),
    );
    let blocked = |i: usize, j: usize| lk[i].iter().any(|k| rk[j].binary_search(k).is_ok());
    let mut text = String::new();
    let mut missed = 0;
    for (&i, &j) in &true_right {
        if missed >= n {
            break;
        }
        if matched.get(&i).map(|m| m.0) == Some(j) {
            continue;
        }
        missed += 1;
        text.push_str(&format!(
            "MISSED{}\n  L {}\n  R {}\n  {}\n",
            if blocked(i, j) {
                ""
            } else {
                " (not a candidate)"
            },
            rec(&lists.left[i]),
            rec(&lists.right[j]),
            explain(i, j)
        ));
        if let Some(&(other, _)) = matched.get(&i) {
            text.push_str(&format!(
                "  matched instead to R {}\n  {}\n",
                rec(&lists.right[other]),
                explain(i, other)
            ));
        }
    }
    let mut false_pairs = 0;
    for (&i, &(j, _)) in &matched {
        if false_pairs >= n {
            break;
        }
        if true_right.get(&i) == Some(&j) {
            continue;
        }
        false_pairs += 1;
        text.push_str(&format!(
            "FALSE\n  L {}\n  R {}\n  {}\n",
            rec(&lists.left[i]),
            rec(&lists.right[j]),
            explain(i, j)
        ));
        if let Some(&t) = true_right.get(&i) {
            text.push_str(&format!(
                "  true partner R {}\n  {}\n",
                rec(&lists.right[t]),
                explain(i, t)
            ));
        }
    }
    let mut file =
        std::fs::File::create(dir.join("examples.txt")).context("cannot write examples.txt")?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

/// FEBRL4 through the same reading as `homeward link`, with its columns named as a user would;
/// with `examples_dir`, its missed and false pairs are written there as for the synthetic lists.
fn febrl_run(dir: &Path, examples_dir: Option<&Path>, examples: usize) -> anyhow::Result<Value> {
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
    let t0 = Instant::now();
    // FEBRL4 as shipped: its impossible dates are read as missing, as `homeward link` does.
    let (left, unreadable_l) = link_cmd::load_table(&dir.join("febrl4_a.csv"), &overrides)?;
    let (right, unreadable_r) = link_cmd::load_table(&dir.join("febrl4_b.csv"), &overrides)?;
    let truth_text = std::fs::read_to_string(dir.join("febrl4_truth.csv"))
        .context("cannot read febrl4_truth.csv")?;
    let truth: HashSet<(String, String)> = truth_text
        .lines()
        .skip(1)
        .filter_map(|l| {
            l.split_once(',')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        })
        .collect();
    reset_peak();
    let out = link(&left, &right, &LinkConfig::default(), None, &|_| {})?;
    let wall = t0.elapsed().as_secs_f64();
    let mut v = figures(&out, &truth, wall);
    if let Some(o) = v.as_object_mut() {
        o.insert("peak_rss_bytes".into(), json!(peak_rss_bytes()));
        o.insert(
            "unreadable_cells".into(),
            json!(unreadable_l.len() + unreadable_r.len()),
        );
    }
    if let Some(d) = examples_dir
        && examples > 0
    {
        write_table_examples(d, &left, &right, &truth, &out, examples)?;
    }
    Ok(v)
}

/// Missed and false pairs of a linkage of two tables with known truth (by record id), each with
/// its records' values and the engine's explanation.
fn write_table_examples(
    dir: &Path,
    left: &Table,
    right: &Table,
    truth: &HashSet<(String, String)>,
    out: &LinkOutput,
    n: usize,
) -> anyhow::Result<()> {
    let row = |t: &Table, i: usize| {
        let cells: Vec<&str> = (0..t.columns().len())
            .map(|c| t.value(i, c).unwrap_or(""))
            .collect();
        cells.join(" | ")
    };
    let explain = |i: usize, j: usize| match out.model.explain(left, i, right, j) {
        Ok(e) => {
            let parts: Vec<String> = e
                .fields
                .iter()
                .map(|c| format!("{}={}({:+.1})", c.field, c.level, c.weight))
                .collect();
            format!(
                "p={:.3} w={:+.1} prior={:+.1}: {}",
                e.probability,
                e.match_weight,
                e.prior,
                parts.join(" ")
            )
        }
        Err(e) => format!("(no explanation: {e})"),
    };
    let matched: HashSet<(String, String)> = out
        .pairs
        .iter()
        .filter(|p| p.decision == homeward_linkage::Decision::Match)
        .map(|p| (p.left_id.clone(), p.right_id.clone()))
        .collect();
    let found: HashMap<&str, (&str, f64)> = out
        .pairs
        .iter()
        .map(|p| (p.left_id.as_str(), (p.right_id.as_str(), p.probability)))
        .collect();
    // Whether blocking compared a missed pair at all (the engine's own keys, as stored matching
    // uses them), to tell blocking misses from scoring misses.
    let rules = homeward_linkage::default_rules();
    let (lk, rk) = (
        homeward_linkage::row_keys(left, &rules),
        homeward_linkage::row_keys(right, &rules),
    );
    let blocked = |i: usize, j: usize| lk[i].iter().any(|k| rk[j].binary_search(k).is_ok());
    let mut missed: Vec<&(String, String)> = truth.difference(&matched).collect();
    missed.sort();
    let mut text = format!("{} missed, ", missed.len());
    let mut false_pairs: Vec<&(String, String)> = matched.difference(truth).collect();
    false_pairs.sort();
    text.push_str(&format!("{} false\n", false_pairs.len()));
    for (l, r) in missed.into_iter().take(n) {
        let (Some(i), Some(j)) = (left.row_of(l), right.row_of(r)) else {
            continue;
        };
        text.push_str(&format!(
            "MISSED{}\n  L {}\n  R {}\n  {}\n",
            if blocked(i, j) {
                ""
            } else {
                " (not a candidate)"
            },
            row(left, i),
            row(right, j),
            explain(i, j)
        ));
        match found.get(l.as_str()) {
            Some((other, p)) if *other != r.as_str() => {
                text.push_str(&format!("  paired instead with {other} (p={p:.3})\n"))
            }
            Some((_, p)) => text.push_str(&format!("  output for review (p={p:.3})\n")),
            None => {}
        }
    }
    for (l, r) in false_pairs.into_iter().take(n) {
        let (Some(i), Some(j)) = (left.row_of(l), right.row_of(r)) else {
            continue;
        };
        text.push_str(&format!(
            "FALSE\n  L {}\n  R {}\n  {}\n",
            row(left, i),
            row(right, j),
            explain(i, j)
        ));
    }
    std::fs::write(dir.join("examples.txt"), text).context("cannot write examples.txt")
}
