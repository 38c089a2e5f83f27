//! The PPRL comparison loop alone on one core: every left record against every right record, as
//! `homeward bench pprl` measures it beside anonlink, without building the whole binary.
//!
//! `cargo run --release -p homeward-linkage --example pprl_speed -- 2000 20000`
//!
//! Wall-clock rates on a shared machine move with its load; `valgrind --tool=callgrind` on the
//! example counts instructions, which do not.

use homeward_linkage::pprl::{Hardening, PprlKey, dice_all_pairs, encode};
use homeward_linkage::{FieldKind, LinkError, Table};
use std::time::Instant;

const GIVEN: &[&str] = &[
    "Олександр",
    "Александр",
    "Oleksandr",
    "Марія",
    "Maria",
    "Іван",
    "Ivan",
    "Анна",
    "Дмитро",
    "Dmitry",
    "Олена",
    "Елена",
    "Софія",
    "София",
    "Максим",
    "Maksym",
    "Артем",
    "Дарина",
];
const FAMILY: &[&str] = &[
    "Коваленко",
    "Kovalenko",
    "Шевченко",
    "Shevchenko",
    "Бондаренко",
    "Ткаченко",
    "Tkachenko",
    "Кравченко",
    "Олійник",
    "Олейник",
    "Мельник",
    "Melnyk",
    "Поліщук",
    "Лисенко",
];
const PLACES: &[&str] = &[
    "Маріуполь",
    "Mariupol",
    "Херсон",
    "Kherson",
    "Донецьк",
    "Бердянськ",
];

fn table(n: usize, seed: u64) -> Result<Table, LinkError> {
    let cols = [
        ("given_name", FieldKind::GivenName),
        ("family_name", FieldKind::FamilyName),
        ("birth_date", FieldKind::BirthDate),
        ("sex", FieldKind::Sex),
        ("birth_place", FieldKind::BirthPlace),
    ];
    let mut t = Table::new(cols.iter().map(|(n, k)| (n.to_string(), *k)).collect())?;
    let mut s = seed;
    let mut next = || {
        s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let z = (s ^ (s >> 31)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        (z ^ (z >> 29)) as usize
    };
    for i in 0..n {
        let date = format!(
            "20{:02}-{:02}-{:02}",
            8 + next() % 10,
            1 + next() % 12,
            1 + next() % 28
        );
        let sex = if next() % 2 == 0 { "m" } else { "f" };
        let values = [
            Some(GIVEN[next() % GIVEN.len()].to_string()),
            Some(FAMILY[next() % FAMILY.len()].to_string()),
            Some(date),
            Some(sex.to_string()),
            Some(PLACES[next() % PLACES.len()].to_string()),
        ];
        t.push(format!("r{i}"), values)?;
    }
    Ok(t)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (nl, nr) = (
        args.first().copied().unwrap_or(2_000),
        args.get(1).copied().unwrap_or(20_000),
    );
    let key = PprlKey::from_bytes([7; 32]);
    let a = encode(&table(nl, 1)?, &key, Hardening::SaltYear);
    let b = encode(&table(nr, 2)?, &key, Hardening::SaltYear);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let mut rates = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let (n, close) = pool.install(|| dice_all_pairs(&a, &b))?;
        let secs = t.elapsed().as_secs_f64();
        rates.push(n as f64 / secs / 1e6);
        println!(
            "{n} pairs, {close} close, {:.3} s, {:.1} M/s",
            secs,
            n as f64 / secs / 1e6
        );
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "median {:.1} M comparisons/s on one core",
        rates[rates.len() / 2]
    );
    Ok(())
}
