use super::*;
use crate::{FieldKind, Table};
use proptest::prelude::*;

fn key(b: u8) -> PprlKey {
    PprlKey::from_bytes([b; 32])
}

fn columns() -> Vec<(String, FieldKind)> {
    vec![
        ("id".to_string(), FieldKind::Id),
        ("given".to_string(), FieldKind::GivenName),
        ("family".to_string(), FieldKind::FamilyName),
        ("dob".to_string(), FieldKind::BirthDate),
        ("sex".to_string(), FieldKind::Sex),
    ]
}

fn table(rows: &[[&str; 5]]) -> Table {
    let mut t = Table::new(columns()).unwrap();
    for r in rows {
        t.push(r[0], r.map(|c| (!c.is_empty()).then_some(c)))
            .unwrap();
    }
    t
}

fn field(list: &EncodedList, i: usize, name: &str) -> Option<String> {
    let f = list.fields.iter().position(|f| f.name == name).unwrap();
    list.records[i].fields[f].clone()
}

#[test]
fn one_name_in_three_scripts_and_spellings_encodes_alike() {
    let t = table(&[
        ["1", "Олександр", "Петренко", "2014-03-07", "m"],
        ["2", "Александр", "Петренко", "2014-03-07", "m"],
        ["3", "Oleksandr", "Petrenko", "07.03.2014", "m"],
        ["4", "Дмитро", "Петренко", "2014-03-07", "m"],
    ]);
    for h in [Hardening::None, Hardening::SaltYear, Hardening::SaltDate] {
        let list = encode(&t, &key(1), h);
        let a = bits::decode(&list).unwrap();
        let dice = |x: usize, y: usize| {
            let (fa, fb) = (a[x].field(0), a[y].field(0));
            let inter: u32 = fa.iter().zip(fb).map(|(p, q)| (p & q).count_ones()).sum();
            2.0 * f64::from(inter) / f64::from(a[x].pops[0] + a[y].pops[0])
        };
        assert!(
            dice(0, 1) > 0.85,
            "{h:?}: Олександр/Александр {}",
            dice(0, 1)
        );
        assert!(
            dice(0, 2) > 0.85,
            "{h:?}: Олександр/Oleksandr {}",
            dice(0, 2)
        );
        assert!(dice(0, 3) < 0.5, "{h:?}: Олександр/Дмитро {}", dice(0, 3));
        assert_eq!(
            field(&list, 0, "family_name"),
            field(&list, 2, "family_name")
        );
        assert_eq!(field(&list, 0, "birth_date"), field(&list, 2, "birth_date"));
    }
}

#[test]
fn salt_year_salts_family_names_by_period_and_given_names_by_year_and_family_initial() {
    let t = table(&[
        ["1", "Олександр", "Петренко", "2014-03-07", "m"],
        ["2", "Oleksandr", "Petrenko", "2015-11-20", "m"],
        ["3", "Олександр", "Петренко", "2017-01-02", "m"],
        ["4", "Олександр", "Пилипенко", "2014-05-05", "m"],
        ["5", "Олександр", "Коваль", "2014-05-05", "m"],
    ]);
    let plain = encode(&t, &key(1), Hardening::None);
    let salted = encode(&t, &key(1), Hardening::SaltYear);
    let (g, f) = ("given_name", "family_name");
    // Unsalted, one family name is one filter whatever the year.
    assert_eq!(field(&plain, 0, f), field(&plain, 2, f));
    // Salted: one filter within a four-year period (2012–2015), unrelated across periods.
    assert_eq!(field(&salted, 0, f), field(&salted, 1, f));
    assert_ne!(field(&salted, 0, f), field(&salted, 2, f));
    // One given name: equal for one year and one family initial (Петренко, Пилипенко: p),
    // unrelated for another year or another initial (Коваль: k).
    assert_eq!(field(&salted, 0, g), field(&salted, 3, g));
    assert_ne!(field(&salted, 0, g), field(&salted, 1, g));
    assert_ne!(field(&salted, 3, g), field(&salted, 4, g));
    assert_eq!(field(&plain, 3, g), field(&plain, 4, g));
    // Hashed under the neighbouring years too: a year one off keeps two thirds of the bits.
    let a = bits::decode(&salted).unwrap();
    let dice = |x: usize, y: usize| {
        let (fa, fb) = (a[x].field(0), a[y].field(0));
        let inter: u32 = fa.iter().zip(fb).map(|(p, q)| (p & q).count_ones()).sum();
        2.0 * f64::from(inter) / f64::from(a[x].pops[0] + a[y].pops[0])
    };
    assert!(dice(0, 1) >= 0.6, "a year apart: {}", dice(0, 1));
    assert!(dice(0, 2) < 0.5, "three years apart: {}", dice(0, 2));
}

#[test]
fn salting_makes_one_name_of_two_children_unrelated() {
    let t = table(&[
        ["1", "Олександр", "Петренко", "2014-03-07", "m"],
        ["2", "Олександр", "Коваль", "2011-10-01", "m"],
    ]);
    let plain = encode(&t, &key(1), Hardening::None);
    assert_eq!(
        field(&plain, 0, "given_name"),
        field(&plain, 1, "given_name")
    );
    let salted = encode(&t, &key(1), Hardening::SaltDate);
    assert_ne!(
        field(&salted, 0, "given_name"),
        field(&salted, 1, "given_name")
    );
}

#[test]
fn lists_with_other_keys_or_specs_are_refused() {
    let t = table(&[["1", "Олександр", "Петренко", "2014-03-07", "m"]]);
    let a = encode(&t, &key(1), Hardening::SaltDate);
    let b = encode(&t, &key(2), Hardening::SaltDate);
    let e = link_encoded(&a, &b, &PprlOptions::default()).unwrap_err();
    assert_eq!(e.code(), "pprl_key_mismatch");
    let c = encode(&t, &key(1), Hardening::None);
    let e = link_encoded(&a, &c, &PprlOptions::default()).unwrap_err();
    assert_eq!(e.code(), "pprl_hardening_mismatch");
    let mut d = a.clone();
    d.spec = "homeward-pprl/0".into();
    let e = EncodedList::from_json(&d.to_json().unwrap()).unwrap_err();
    assert_eq!(e.code(), "pprl_spec_mismatch");
}

#[test]
fn malformed_records_are_named() {
    let t = table(&[
        ["1", "Олександр", "Петренко", "2014-03-07", "m"],
        ["2", "Марія", "Коваль", "2012-01-02", "f"],
    ]);
    let good = encode(&t, &key(1), Hardening::SaltDate);
    let mut bad = good.clone();
    bad.records[1].fields[2] = Some("!!not base64".into());
    match EncodedList::from_json(&bad.to_json().unwrap()) {
        Err(PprlError::MalformedRecord { record, field, .. }) => {
            assert_eq!((record, field.as_str()), (1, "family_name"));
        }
        other => panic!("{other:?}"),
    }
    let mut short = good.clone();
    short.records[0].fields[3] = Some("AAAA".into());
    let e = short.validate().unwrap_err();
    assert_eq!(e.code(), "pprl_malformed_record");
    assert!(e.to_string().contains("birth_date"), "{e}");
    let mut dup = good.clone();
    dup.records[1].reference = "1".into();
    assert_eq!(
        dup.validate().unwrap_err().code(),
        "pprl_duplicate_reference"
    );
    let mut narrow = good;
    narrow.records[0].fields.pop();
    assert_eq!(
        narrow.validate().unwrap_err().code(),
        "pprl_malformed_record"
    );
    assert_eq!(
        EncodedList::from_json(b"{\"spec\":").unwrap_err().code(),
        "pprl_json"
    );
}

#[test]
fn keys_read_back_from_hex_and_their_id_is_not_the_key() {
    let k = key(7);
    let back = PprlKey::from_hex(&format!(" {}\n", k.to_hex())).unwrap();
    assert_eq!(back.id(), k.id());
    assert!(!k.to_hex().contains(&k.id()));
    assert_eq!(PprlKey::from_hex("abc").unwrap_err().code(), "pprl_key");
}

/// Synthetic lists: the right holds the left's children (some spelt in the other script or
/// language, some with a typo) and others.
fn sides() -> (Table, Table) {
    let given = [
        "Олександр",
        "Марія",
        "Дмитро",
        "Анна",
        "Іван",
        "Софія",
        "Андрій",
        "Олена",
    ];
    let given_ru = [
        "Александр",
        "Мария",
        "Дмитрий",
        "Анна",
        "Иван",
        "София",
        "Андрей",
        "Елена",
    ];
    let family = [
        "Петренко",
        "Коваль",
        "Шевченко",
        "Бондар",
        "Мельник",
        "Ткаченко",
        "Кравець",
    ];
    let mut l = Table::new(columns()).unwrap();
    let mut r = Table::new(columns()).unwrap();
    let mut n = 0;
    for (gi, g) in given.iter().enumerate() {
        for (fi, f) in family.iter().enumerate() {
            n += 1;
            let dob = format!(
                "20{:02}-{:02}-{:02}",
                8 + (n % 9),
                1 + (n % 12),
                1 + (n * 7 % 28)
            );
            let sex = if gi % 2 == 0 { "m" } else { "f" };
            if n % 3 != 0 {
                l.push(
                    format!("L{n}"),
                    [
                        Some(format!("L{n}").as_str()),
                        Some(g),
                        Some(f),
                        Some(&dob),
                        Some(sex),
                    ],
                )
                .unwrap();
            }
            let g2 = if n % 2 == 0 { given_ru[gi] } else { g };
            let f2 = if n % 5 == 0 {
                format!("{f}а")
            } else {
                f.to_string()
            };
            r.push(
                format!("R{n}"),
                [
                    Some(format!("R{n}").as_str()),
                    Some(g2),
                    Some(&f2),
                    Some(&dob),
                    Some(sex),
                ],
            )
            .unwrap();
            let _ = fi;
        }
    }
    (l, r)
}

#[test]
fn linking_finds_the_children_on_both_sides_one_to_one() {
    let (l, r) = sides();
    for h in [Hardening::None, Hardening::SaltYear, Hardening::SaltDate] {
        let (a, b) = (encode(&l, &key(3), h), encode(&r, &key(3), h));
        let pairs = link_encoded(&a, &b, &PprlOptions::default()).unwrap();
        let right: usize = pairs.iter().filter(|p| p.left[1..] == p.right[1..]).count();
        assert!(
            right as f64 >= 0.95 * a.records.len() as f64,
            "{h:?}: {right} of {}",
            a.records.len()
        );
        assert!(
            right as f64 >= 0.95 * pairs.len() as f64,
            "{h:?}: {right} right of {}",
            pairs.len()
        );
        let mut seen = std::collections::HashSet::new();
        assert!(pairs.iter().all(|p| seen.insert(p.right.clone())));
    }
}

#[test]
fn the_frequency_attack_reads_unhardened_names_but_not_salted_ones() {
    // Skewed like real names: the first is the commonest.
    let given = ["Олександр", "Марія", "Дмитро", "Анна", "Іван", "Софія"];
    let mut t = Table::new(columns()).unwrap();
    let mut truth: Vec<Option<&str>> = Vec::new();
    let mut n = 0;
    for (gi, g) in given.iter().enumerate() {
        for _ in 0..(given.len() - gi) * 4 {
            n += 1;
            let dob = format!(
                "20{:02}-{:02}-{:02}",
                8 + (n % 9),
                1 + (n % 12),
                1 + (n * 7 % 28)
            );
            let id = format!("R{n}");
            t.push(
                &id,
                [
                    Some(id.as_str()),
                    Some(g),
                    Some("Коваль"),
                    Some(&dob),
                    Some("f"),
                ],
            )
            .unwrap();
            truth.push(Some(g));
        }
    }
    let public: Vec<(String, f64)> = given
        .iter()
        .enumerate()
        .map(|(i, g)| (g.to_string(), 1.0 / (i + 1) as f64))
        .collect();
    let run = |h| {
        let list = encode(&t, &key(4), h);
        let enc: Vec<Option<String>> = (0..t.len())
            .map(|i| field(&list, i, "given_name"))
            .collect();
        let enc_ref: Vec<Option<&str>> = enc.iter().map(|e| e.as_deref()).collect();
        frequency_attack(&enc_ref, &truth, &public)
    };
    let plain = run(Hardening::None);
    let salted = run(Hardening::SaltDate);
    assert_eq!(plain.share, 1.0, "{plain:?}");
    assert!(salted.share < 0.2, "{salted:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn encoding_is_deterministic_per_key_and_unrelated_across_keys(
        given in "[А-Яа-яA-Za-z]{2,12}",
        family in "[А-Яа-яA-Za-z]{2,14}",
        day in 1u8..28, month in 1u8..12, year in 2005i32..2020,
        k1 in any::<[u8; 32]>(), k2 in any::<[u8; 32]>(),
    ) {
        prop_assume!(k1 != k2);
        let dob = format!("{year}-{month:02}-{day:02}");
        let t = table(&[["1", &given, &family, &dob, "f"]]);
        let a = encode(&t, &PprlKey::from_bytes(k1), Hardening::SaltDate);
        let again = encode(&t, &PprlKey::from_bytes(k1), Hardening::SaltDate);
        prop_assert_eq!(&a, &again);
        let b = encode(&t, &PprlKey::from_bytes(k2), Hardening::SaltDate);
        prop_assert_ne!(&a.key_id, &b.key_id);
        let (x, y) = (bits::decode(&a).unwrap(), bits::decode(&b).unwrap());
        // Under another key the same value's bits are as if drawn afresh: the filters share
        // about as many bits as two random ones of their weight, far from all of them.
        for f in [0usize, 2, 3] {
            if x[0].pops[f] == 0 { continue; }
            let inter: u32 = x[0].field(f).iter().zip(y[0].field(f)).map(|(p, q)| (p & q).count_ones()).sum();
            let dice = 2.0 * f64::from(inter) / f64::from(x[0].pops[f] + y[0].pops[f]);
            prop_assert!(dice < 0.8, "field {} dice {}", f, dice);
        }
    }

    #[test]
    fn any_json_is_read_or_refused_with_a_code(s in ".{0,200}") {
        if let Err(e) = EncodedList::from_json(s.as_bytes()) {
            prop_assert!(e.code().starts_with("pprl_"));
        }
    }
}
