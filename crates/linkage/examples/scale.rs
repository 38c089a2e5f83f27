//! Times a large end-to-end run on simply generated synthetic lists (not the benchmark generator:
//! just enough variety to exercise blocking and scoring at scale).
//!
//! `cargo run --release -p homeward-linkage --example scale -- 20000 400000`
//!
//! A third argument replaces the default blocking rules, to weigh a rule's cost against its
//! recall: `... -- 20000 400000 given_class+family_skeleton,family_skeleton+birth_year`.

use homeward_linkage::names::{NameSex, tables};
use homeward_linkage::{FieldKind, LinkConfig, Standard, Table, link, transliterate};
use std::time::Instant;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

const STEMS: &[&str] = &[
    "Коваль",
    "Шевч",
    "Бондар",
    "Ткач",
    "Мельнич",
    "Олійн",
    "Кравч",
    "Лис",
    "Петр",
    "Сидор",
    "Гончар",
    "Савч",
    "Руд",
    "Мороз",
    "Павл",
    "Марч",
    "Левч",
    "Кушн",
    "Клим",
    "Гриц",
    "Дорош",
    "Яковл",
    "Романч",
    "Остап",
    "Лук",
    "Пилип",
    "Стась",
    "Мирон",
    "Федор",
    "Зінч",
    "Костюч",
    "Гавриш",
    "Тарас",
    "Юрч",
    "Ничип",
    "Семен",
    "Демч",
    "Поліщ",
    "Кириленк",
    "Білоус",
];
const SUFFIXES: &[&str] = &[
    "енко",
    "ук",
    "ак",
    "ишин",
    "ів",
    "ецький",
    "ик",
    "енюк",
    "ан",
    "уш",
];

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (nl, nr) = (
        args.first().copied().unwrap_or(20_000),
        args.get(1).copied().unwrap_or(400_000),
    );
    let blocking: Option<Vec<homeward_linkage::BlockingRule>> = std::env::args()
        .skip(1)
        .find(|a| a.parse::<usize>().is_err())
        .map(|a| {
            a.split(',')
                .map(|r| r.parse().unwrap_or_else(|e| panic!("{r}: {e}")))
                .collect()
        });
    let config = LinkConfig {
        blocking,
        ..LinkConfig::default()
    };
    let t = tables();
    let mut rng = Rng(7);
    let cols = vec![
        ("id".to_string(), FieldKind::Id),
        ("given".to_string(), FieldKind::GivenName),
        ("patronymic".to_string(), FieldKind::Patronymic),
        ("family".to_string(), FieldKind::FamilyName),
        ("sex".to_string(), FieldKind::Sex),
        ("dob".to_string(), FieldKind::BirthDate),
        ("place".to_string(), FieldKind::BirthPlace),
    ];
    let places = [
        "Маріуполь",
        "Бахмут",
        "Херсон",
        "Донецьк",
        "Луганськ",
        "Мелітополь",
        "Горлівка",
        "Київ",
        "Харків",
        "Бердянськ",
    ];
    let male: Vec<usize> = (0..t.classes.len())
        .filter(|&i| t.classes[i].sex == NameSex::Male)
        .collect();
    let female: Vec<usize> = (0..t.classes.len())
        .filter(|&i| t.classes[i].sex == NameSex::Female)
        .collect();
    // Zipf-like: low class indexes (the common names come first in the table) are likelier.
    let person = |rng: &mut Rng| -> [String; 6] {
        let is_m = rng.chance(0.5);
        let pool = if is_m { &male } else { &female };
        let k = (rng.below(pool.len()) * rng.below(pool.len())) / pool.len();
        let given = t.classes[pool[k]].forms[0].clone();
        let father =
            &t.classes[male[rng.below(male.len()) * rng.below(male.len()) / male.len()]].forms[0];
        let pat = format!(
            "{}{}",
            father.trim_end_matches(['о', 'а', 'й']),
            if is_m { "ович" } else { "івна" }
        );
        let fam = format!(
            "{}{}",
            STEMS[rng.below(STEMS.len())],
            SUFFIXES[rng.below(SUFFIXES.len())]
        );
        let y = 2006 + rng.below(18);
        let dob = format!("{y}-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28));
        [
            given,
            pat,
            fam,
            if is_m { "m".into() } else { "f".into() },
            dob,
            places[rng.below(places.len())].to_string(),
        ]
    };
    let start = Instant::now();
    let mut left = Table::new(cols.clone()).unwrap_or_else(|e| panic!("{e}"));
    let mut right = Table::new(cols).unwrap_or_else(|e| panic!("{e}"));
    let mut truth = 0;
    let mut lefts = Vec::new();
    for i in 0..nl {
        let p = person(&mut rng);
        left.push(
            format!("L{i}"),
            std::iter::once(None::<String>).chain(p.iter().cloned().map(Some)),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        lefts.push(p);
    }
    for i in 0..nr {
        let p = if i < nl * 3 / 4 {
            // A variant of left record i: other standard or script, typos, swaps.
            truth += 1;
            let mut p = lefts[i].clone();
            if rng.chance(0.4) {
                let std = Standard::ALL[rng.below(5)];
                for v in p.iter_mut().take(3) {
                    *v = transliterate(v, std);
                }
            }
            if rng.chance(0.1) {
                let d: Vec<&str> = p[4].split('-').collect();
                if let [y, m, dd] = d.as_slice() {
                    p[4] = format!("{y}-{dd}-{m}");
                }
            }
            if rng.chance(0.1) {
                p[2] = format!(
                    "{}{}",
                    STEMS[rng.below(STEMS.len())],
                    SUFFIXES[rng.below(SUFFIXES.len())]
                );
            }
            p
        } else {
            person(&mut rng)
        };
        if right
            .push(
                format!("R{i}"),
                std::iter::once(None::<String>).chain(p.iter().cloned().map(Some)),
            )
            .is_err()
        {
            // A swapped date that is not a calendar date: keep the original.
            let q = lefts.get(i).cloned().unwrap_or_else(|| person(&mut rng));
            right
                .push(
                    format!("R{i}"),
                    std::iter::once(None::<String>).chain(q.iter().cloned().map(Some)),
                )
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }
    eprintln!(
        "generated {nl} x {nr} ({truth} true pairs) in {:.2?}",
        start.elapsed()
    );
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let out = link(&left, &right, &config, None, &|_| {}).unwrap_or_else(|e| panic!("{e}"));
    let wall = t0.elapsed();
    let cpu = cpu_seconds() - cpu0;
    let correct = out
        .pairs
        .iter()
        .filter(|p| {
            p.decision == homeward_linkage::Decision::Match && p.left_id[1..] == p.right_id[1..]
        })
        .count();
    let matches = out.stats.matches as usize;
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(str::to_string)
        })
        .unwrap_or_default();
    // CPU time beside wall time: on a machine shared with other work, wall time measures the
    // neighbours too.
    println!("link {nl} x {nr}: {wall:.2?} end to end, {cpu:.2}s CPU; {peak}");
    println!(
        "stats: {}",
        serde_json::to_string_pretty(&out.stats).unwrap_or_default()
    );
    let p = correct as f64 / matches.max(1) as f64;
    let r = correct as f64 / truth.max(1) as f64;
    println!(
        "matches {matches}, correct {correct}, precision {p:.4}, recall {r:.4} (toy data, not the benchmark)"
    );
    println!("lambda {:.5}", out.model.lambda);
    // A digest of the output (ids, decisions, weights to 1e-6), so that a faster engine can be
    // checked to link exactly as before; rounding absorbs the order in which EM sums patterns.
    let mut digest: u64 = 0xcbf2_9ce4_8422_2325;
    for p in &out.pairs {
        let line = format!(
            "{} {} {:?} {:.6}",
            p.left_id, p.right_id, p.decision, p.match_weight
        );
        for b in line.bytes() {
            digest = (digest ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    println!("output digest {digest:016x} ({} pairs)", out.pairs.len());
}

/// User + system CPU time of this process so far, from /proc (0 where there is none).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    // Clock ticks are 1/100 s on Linux.
    f.iter().sum::<f64>() / 100.0
}
