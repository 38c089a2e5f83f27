//! Generator 2: lists written blind by a second generator (`bench/gen2`, Python, its own name
//! tables, its Latin spellings from the `iuliia` and `cyrtranslit` packages), read through the same
//! reader as `homeward link` and linked with the defaults chosen on generator 1. These runs only
//! report: no constant of the engine may be chosen by looking at them.

use super::{LinkBenchArgs, figures, peak_rss_bytes, reset_peak, tables, write_table_examples};
use crate::link_cmd;
use anyhow::{Context, bail};
use homeward_linkage::{BirthDate, LinkConfig, link, parse_sex};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;
use unicode_normalization::UnicodeNormalization;

/// The three kinds of held-out lists issue 13 reports: Russian Cyrillic custody lists, custody
/// lists wholly in Latin spellings of many schemes, and a large mixed pair.
pub const PROFILES: [(&str, usize, usize); 3] = [
    ("cyrillic", 5_000, 28_000),
    ("latin", 5_000, 33_000),
    ("mixed", 20_000, 400_000),
];

/// One row of results per profile: name, Homeward's figures, Splink's (with `--peers`).
pub type Row = (String, Value, Option<Value>);

/// Generates, links and scores each profile that fits `--max-records`.
pub fn run(args: &LinkBenchArgs, base: &Path) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    for (profile, l, r) in PROFILES {
        if args.max_records.is_some_and(|m| l + r > m) {
            continue;
        }
        let name = format!("gen2-{profile}-{l}x{r}");
        let dir = base.join(&name);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        eprintln!("generator 2, {profile} {l} × {r}…");
        generate(args, profile, l, r, &dir)?;
        let home = link_dir(&dir, args)?;
        let peer = if args.peers {
            write_splink_copies(&dir)?;
            eprintln!("splink, generator 2 {profile}…");
            Some(super::run_peer(args, &dir, false))
        } else {
            None
        };
        rows.push((name, home, peer));
    }
    Ok(rows)
}

fn generate(
    args: &LinkBenchArgs,
    profile: &str,
    l: usize,
    r: usize,
    dir: &Path,
) -> anyhow::Result<()> {
    let status = Command::new(&args.python)
        .arg(&args.gen2_script)
        .args(["--left", &l.to_string(), "--right", &r.to_string()])
        .args(["--seed", &args.seed.to_string(), "--profile", profile])
        .arg("--out")
        .arg(dir)
        .stdout(Stdio::null())
        .status()
        .with_context(|| {
            format!(
                "cannot run {} (run bench/setup.sh first)",
                args.python.display()
            )
        })?;
    if !status.success() {
        bail!(
            "{} failed ({status}); run bench/setup.sh first",
            args.gen2_script.display()
        );
    }
    Ok(())
}

/// The lists as a user would link them: `homeward link`'s reader (headers recognised, unreadable
/// cells read as missing and counted), the default configuration.
fn link_dir(dir: &Path, args: &LinkBenchArgs) -> anyhow::Result<Value> {
    let examples = args.examples;
    let none = HashMap::new();
    let t0 = Instant::now();
    let (left, bad_l) = link_cmd::load_table(&dir.join("left.csv"), &none)?;
    let (right, bad_r) = link_cmd::load_table(&dir.join("right.csv"), &none)?;
    let truth = read_truth(&dir.join("truth.csv"))?;
    reset_peak();
    let out = link(&left, &right, &LinkConfig::default(), None, &|_| {})?;
    let mut v = figures(&out, &truth, t0.elapsed().as_secs_f64());
    if let Some(o) = v.as_object_mut() {
        o.insert("peak_rss_bytes".into(), json!(peak_rss_bytes()));
        o.insert("unreadable_cells".into(), json!(bad_l.len() + bad_r.len()));
    }
    if !args.labels.is_empty()
        && let Some(o) = v.as_object_mut()
    {
        let curve = super::labels::curve(&left, &right, &truth, &out, &args.labels, args.seed)?;
        o.insert("labels".into(), curve);
    }
    if examples > 0 {
        write_table_examples(dir, &left, &right, &truth, &out, examples)?;
    }
    Ok(v)
}

pub(crate) fn read_truth(path: &Path) -> anyhow::Result<HashSet<(String, String)>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut truth = HashSet::new();
    for row in reader.records() {
        let row = row.with_context(|| format!("cannot read {}", path.display()))?;
        if let (Some(l), Some(r)) = (row.get(0), row.get(1)) {
            truth.insert((l.to_string(), r.to_string()));
        }
    }
    Ok(truth)
}

/// `left_ascii.csv` and `right_ascii.csv`: what a Splink user would feed it, as for generator 1
/// (names folded to lower-case ASCII one character at a time, whole dates as ISO, sex as m/f).
fn write_splink_copies(dir: &Path) -> anyhow::Result<()> {
    for side in ["left", "right"] {
        let src = dir.join(format!("{side}.csv"));
        let dst = dir.join(format!("{side}_ascii.csv"));
        let mut reader = csv::Reader::from_path(&src)
            .with_context(|| format!("cannot read {}", src.display()))?;
        let header = reader.headers()?.clone();
        let mut writer = csv::Writer::from_path(&dst)
            .with_context(|| format!("cannot write {}", dst.display()))?;
        writer.write_record(&header)?;
        for row in reader.records() {
            let row = row?;
            let cells: Vec<String> = header
                .iter()
                .zip(row.iter())
                .map(|(h, v)| splink_cell(h, v))
                .collect();
            writer.write_record(&cells)?;
        }
        writer.flush()?;
    }
    Ok(())
}

fn splink_cell(header: &str, value: &str) -> String {
    match header {
        "id" => value.to_string(),
        // parse_sex's codes: 1 male, 2 female, 0 unknown.
        "sex" => match parse_sex(value) {
            Ok(1) => "m".into(),
            Ok(2) => "f".into(),
            _ => String::new(),
        },
        "birth_date" => match BirthDate::parse(value) {
            Ok(d) if d.is_full() => format!("{:04}-{:02}-{:02}", d.year, d.month, d.day),
            _ => String::new(),
        },
        _ => fold_ascii(value).to_lowercase(),
    }
}

/// unidecode-style: Latin letters lose their diacritics (č → c), Cyrillic is folded letter by
/// letter, anything else that is not ASCII is dropped.
fn fold_ascii(text: &str) -> String {
    let mut bare = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\u{0400}'..='\u{04ff}') {
            bare.push(c);
        } else {
            bare.extend(c.nfd().filter(|d| !matches!(d, '\u{0300}'..='\u{036f}')));
        }
    }
    tables::ascii_fold(&bare)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splink_gets_ascii_lower_case_names_and_iso_dates() {
        assert_eq!(splink_cell("family_name", "Tkačenko"), "tkacenko");
        assert_eq!(splink_cell("family_name", "Ŝerbakova"), "serbakova");
        assert_eq!(splink_cell("given_name", "Олександр"), "oleksandr");
        assert_eq!(splink_cell("given_name", "Андрій"), "andrii");
        assert_eq!(splink_cell("birth_date", "07.03.2014"), "2014-03-07");
        assert_eq!(splink_cell("birth_date", "2014"), "");
        assert_eq!(splink_cell("sex", "ж"), "f");
    }
}
