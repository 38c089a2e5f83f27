#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `homeward pprl` end to end: keygen, encode on each side, link on the mediator's side; the real
//! binary on CSV files in a temporary directory.

use std::path::{Path, PathBuf};
mod common;

use common::{homeward_in, ok, text};

// The origin side's list, headers in Ukrainian; the custody side's in Russian, in Russian
// spellings, in another order, with an unreadable date.
const ORIGIN: &str = "\u{feff}Номер;Ім'я;По батькові;Прізвище;Стать;Дата народження;Місце народження\n\
L1;Дмитро;Андрійович;Олійник;ч;07.03.2014;Кропивницький\n\
L2;Олена;Андріївна;Олійник;ж;2016-11-02;Кропивницький\n\
L3;Олександр;Сергійович;Лисенко;ч;15.05.2012;Київ\n\
L4;Марія;Іванівна;Коваль;ж;2010-01-04;Херсон\n\
L5;Софія;Петрівна;Бондар;ж;2013-06-21;Суми\n";

const CUSTODY: &str = "Номер,Фамилия,Имя,Отчество,Пол,Дата рождения,Место рождения\n\
R9,Лысенко,Александр,Сергеевич,м,15/05/2012,Киев\n\
R7,Олейник,Дмитрий,Андреевич,муж,2014-03-07,Кировоград\n\
R8,Олейник,Елена,Андреевна,жен,02.11.2016,Кировоград\n\
R5,Бондар,Петр,Иванович,м,2001-09-09,Сумы\n\
R6,Коваленко,Ирина,Олеговна,ж,31.02.2015,Харьков\n";

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

/// The `homeward pprl …` lines of the README, as argument lists.
fn readme_pprl_commands() -> Vec<Vec<String>> {
    include_str!("../../../README.md")
        .lines()
        .filter_map(|l| l.strip_prefix("homeward pprl "))
        .map(|rest| {
            let command = rest.split('#').next().unwrap();
            std::iter::once("pprl".to_owned())
                .chain(command.split_whitespace().map(str::to_owned))
                .collect()
        })
        .collect()
}

#[test]
fn the_readme_pprl_commands_link_two_sides_without_names_leaving() {
    let commands = readme_pprl_commands();
    assert_eq!(
        commands.iter().map(|c| c[1].as_str()).collect::<Vec<_>>(),
        ["keygen", "encode", "encode", "link"],
        "{commands:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "origin.csv", ORIGIN);
    write(dir.path(), "custody.csv", CUSTODY);
    for c in &commands {
        let args: Vec<&str> = c.iter().map(String::as_str).collect();
        let out = ok(homeward_in(dir.path(), &args));
        if c[1] == "keygen" {
            let key = std::fs::read_to_string(dir.path().join("shared.key")).unwrap();
            assert_eq!(key.trim().len(), 64);
            assert!(!out.contains(key.trim()), "the key is not printed: {out}");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(dir.path().join("shared.key"))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600);
            }
        }
    }
    // What leaves each side: no name, date or place in any script.
    for (file, words) in [
        (
            "origin.json",
            ["Олійник", "Oliinyk", "Дмитро", "2014", "Київ"],
        ),
        (
            "custody.json",
            ["Олейник", "Лысенко", "Александр", "2012", "Киев"],
        ),
    ] {
        let enc = std::fs::read_to_string(dir.path().join(file)).unwrap();
        for w in words {
            assert!(!enc.contains(w), "{file} holds {w}");
        }
    }
    let pairs = std::fs::read_to_string(dir.path().join("pairs.csv")).unwrap();
    let mut lines = pairs.lines();
    assert_eq!(lines.next(), Some("left,right,score"));
    let mut found: Vec<(String, String)> = lines
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[0].to_string(), c[1].to_string())
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [("L1", "R7"), ("L2", "R8"), ("L3", "R9")].map(|(a, b)| (a.to_string(), b.to_string()))
    );
}

#[test]
fn unreadable_cells_are_missing_or_refused_with_strict() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "custody.csv", CUSTODY);
    ok(homeward_in(dir.path(), &["pprl", "keygen", "--out", "k"]));
    let out = ok(homeward_in(
        dir.path(),
        &[
            "pprl",
            "encode",
            "custody.csv",
            "--key-file",
            "k",
            "--out",
            "c.json",
            "--report",
            "bad.csv",
        ],
    ));
    assert!(out.contains("encoded 5 records"), "{out}");
    let report = std::fs::read_to_string(dir.path().join("bad.csv")).unwrap();
    assert!(report.contains("31.02.2015"), "{report}");
    let o = homeward_in(
        dir.path(),
        &[
            "pprl",
            "encode",
            "custody.csv",
            "--key-file",
            "k",
            "--out",
            "d.json",
            "--strict",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains(":6:") && text(&o).contains("Дата рождения"),
        "{}",
        text(&o)
    );
    assert!(!dir.path().join("d.json").exists());
}

#[test]
fn lists_of_other_keys_or_malformed_are_refused_with_their_code() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "origin.csv", ORIGIN);
    for k in ["k1", "k2"] {
        ok(homeward_in(dir.path(), &["pprl", "keygen", "--out", k]));
    }
    // keygen never overwrites a key.
    let o = homeward_in(dir.path(), &["pprl", "keygen", "--out", "k1"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    for (k, out) in [("k1", "a.json"), ("k2", "b.json")] {
        ok(homeward_in(
            dir.path(),
            &[
                "pprl",
                "encode",
                "origin.csv",
                "--key-file",
                k,
                "--out",
                out,
                "-q",
            ],
        ));
    }
    let o = homeward_in(
        dir.path(),
        &["pprl", "link", "a.json", "b.json", "--out", "p.csv"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("pprl_key_mismatch"), "{}", text(&o));
    assert!(!dir.path().join("p.csv").exists());

    let mut list: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("a.json")).unwrap()).unwrap();
    list["records"][3]["fields"][2] = serde_json::json!("%%%");
    std::fs::write(dir.path().join("bad.json"), list.to_string()).unwrap();
    let o = homeward_in(
        dir.path(),
        &["pprl", "link", "a.json", "bad.json", "--out", "p.csv"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("pprl_malformed_record") && t.contains("record 3") && t.contains("family_name"),
        "{t}"
    );

    std::fs::write(dir.path().join("bad.key"), "not a key").unwrap();
    let o = homeward_in(
        dir.path(),
        &[
            "pprl",
            "encode",
            "origin.csv",
            "--key-file",
            "bad.key",
            "--out",
            "c.json",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("64 hexadecimal digits"), "{}", text(&o));
}
