//! Transliteration standards, and the Latin phonetic form that makes all of them comparable.
//!
//! A child's name reaches Homeward as Ukrainian or Russian Cyrillic, or in the Latin of whichever
//! standard the issuing office used. [`transliterate`] writes Cyrillic in one named standard (for
//! display and tests); [`phonetic`] reduces *any* spelling — Cyrillic of either language, or Latin in
//! any of the standards or in common English forms — to one ASCII form in which the standards'
//! differences are gone:
//!
//! | difference between spellings | phonetic form |
//! | --- | --- |
//! | х kh h x, г (uk h, ru g) ґ g gh ğ gu (before e, i), кс ks (English x) | `h` |
//! | у ou, ч tch, ш ch, щ chtch, ж j in a word holding ou or tch (the French-based scheme) | as у ч ш щ ж |
//! | и і ы й ї, y i j ï | `i` (runs collapse: KMU `Oliinyk` = `Olijnyk` = `Oleinik`'s `ii`→`i`) |
//! | є ie ye je, е (BGN `ye`) | `e` (an `i` before `e` is dropped) |
//! | ё io yo jo ë ö | `e` after a consonant or at the start of a word (ё is often written е) |
//! | ю iu yu ju, я ia ya ja | `iu`, `ia` |
//! | щ shch sch shh šč ŝ, ш sh š sz | `S` |
//! | ч ch č tch | `C` |
//! | ц ts tc tz cz c (bare c is ц in GOST, DSTU, ISO 9) | `c` |
//! | ж zh ž | `Z` |
//! | ь ъ ' ’ ` and doubled letters | dropped / single |
//!
//! Uppercase `S`, `C`, `Z` are the three sounds no single Latin letter carries; the form is plain
//! ASCII so that comparisons can work on bytes. `x` becomes `h` because GOST 7.79 B, DSTU 9112 A
//! and scholarly Ukrainian write х as x; English writes кс as x (Olexandr, Maxim, Xenia), so кс
//! and ks become `h` too, and both readings of x meet (the form is a key, not a spelling).
//!
//! Ukrainian ьо stays `o` (KMU writes Ковальов as Kovalov, dropping ь), so Ковальов and Ковалёв
//! meet in the skeleton, not in the phonetic form.
//!
//! [`skeleton`] goes further and keeps only the first letter and the consonants, which is what a
//! Ukrainian surname and its Russian spelling have in common (Олійник / Олейник, Петрів / Петров,
//! Ковальов / Ковалев all differ only in vowels).

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// A transliteration standard for Cyrillic names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standard {
    /// Ukrainian, Cabinet of Ministers resolution 55 of 2010: the Ukrainian passport standard.
    Kmu2010,
    /// Ukrainian, DSTU 9112:2021 system A (diacritics).
    Dstu9112A,
    /// Russian, ICAO Doc 9303: Russian passports since 2014.
    Icao9303,
    /// Russian, GOST 7.79-2000 system B (ASCII).
    Gost779B,
    /// Russian, BGN/PCGN 1947.
    BgnPcgn,
}

impl Standard {
    /// All standards, Ukrainian first.
    pub const ALL: [Standard; 5] = [
        Standard::Kmu2010,
        Standard::Dstu9112A,
        Standard::Icao9303,
        Standard::Gost779B,
        Standard::BgnPcgn,
    ];

    fn is_ukrainian(self) -> bool {
        matches!(self, Standard::Kmu2010 | Standard::Dstu9112A)
    }
}

struct Tables {
    /// letter → [kmu, kmu initial, dstu a]
    uk: HashMap<char, [String; 3]>,
    /// letter → [icao, gost b, bgn, bgn initial]
    ru: HashMap<char, [String; 4]>,
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| Tables {
        uk: parse_tsv::<3>(include_str!("../data/translit_uk.tsv")),
        ru: parse_tsv::<4>(include_str!("../data/translit_ru.tsv")),
    })
}

/// Rows of `letter<TAB>col...`; comment lines start with `#`. A malformed row is skipped (the
/// tables are compiled in and their tests check every letter is present).
fn parse_tsv<const N: usize>(text: &str) -> HashMap<char, [String; N]> {
    let mut out = HashMap::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut cols = line.split('\t');
        let Some(letter) = cols.next().and_then(|l| l.chars().next()) else {
            continue;
        };
        let mut row: [String; N] = std::array::from_fn(|_| String::new());
        for slot in row.iter_mut() {
            *slot = cols.next().unwrap_or("").to_string();
        }
        out.insert(letter, row);
    }
    out
}

/// The number of letters each standard's table defines, for tests and documentation.
pub fn table_sizes() -> (usize, usize) {
    (tables().uk.len(), tables().ru.len())
}

fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{0400}'..='\u{04FF}')
}

fn is_ru_vowel(c: char) -> bool {
    matches!(c, 'а' | 'е' | 'ё' | 'и' | 'о' | 'у' | 'ы' | 'э' | 'ю' | 'я')
}

/// The passport standard of a name's script: Ukrainian KMU 2010, Russian and other Cyrillic
/// ICAO 9303; `None` when there is nothing to transliterate (Latin) or no standard applies.
pub fn passport_standard(script: homeward_domain::Script) -> Option<Standard> {
    use homeward_domain::Script as S;
    match script {
        S::UkrainianCyrillic => Some(Standard::Kmu2010),
        S::RussianCyrillic | S::BelarusianCyrillic | S::Cyrillic => Some(Standard::Icao9303),
        S::Latin | S::Arabic | S::Unknown => None,
    }
}

/// A name's Latin form in its script's passport standard, as every page, export and bundle shows
/// it beside the name as written; `None` when it is Latin already or no standard applies.
pub fn passport_latin(text: &str, script: homeward_domain::Script) -> Option<String> {
    passport_standard(script)
        .map(|s| transliterate(text, s))
        .filter(|l| l != text)
}

/// Writes Cyrillic text in a transliteration standard; other characters pass through. Letters of
/// the other language (ы in a Ukrainian standard, ї in a Russian one) use that language's passport
/// standard. Capitals are kept: an uppercase letter gives a capitalised digraph (`Щ` → `Shch`), or an
/// all-capital one inside an all-capital word (`ЩУР` → `SHCHUR`).
pub fn transliterate(text: &str, standard: Standard) -> String {
    let t = tables();
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() * 2);
    for (i, &orig) in chars.iter().enumerate() {
        let c = orig.to_lowercase().next().unwrap_or(orig);
        let prev = if i > 0 {
            chars[i - 1].to_lowercase().next()
        } else {
            None
        };
        let next = chars.get(i + 1).and_then(|n| n.to_lowercase().next());
        let word_start = prev.is_none_or(|p| !p.is_alphabetic() && p != '\'' && p != '’');
        let latin: String = if c == '\'' || c == '’' || c == 'ʼ' {
            match standard {
                Standard::Dstu9112A => "'".into(),
                _ => String::new(),
            }
        } else if !is_cyrillic(c) {
            out.push(orig);
            continue;
        } else if standard.is_ukrainian() && t.uk.contains_key(&c) {
            let row = &t.uk[&c];
            match standard {
                Standard::Kmu2010 if c == 'г' && prev == Some('з') => "gh".into(),
                Standard::Kmu2010 if word_start => row[1].clone(),
                Standard::Kmu2010 => row[0].clone(),
                // DSTU marks й after a consonant with an apostrophe, so that j is not read as ь.
                _ if c == 'й' && prev.is_some_and(|p| "бвгґджзклмнпрстфхцчшщ".contains(p)) => {
                    "'j".into()
                }
                _ => row[2].clone(),
            }
        } else if let Some(row) = t.ru.get(&c) {
            match standard {
                Standard::Gost779B if c == 'ц' => {
                    let next_latin = next
                        .and_then(|n| t.ru.get(&n))
                        .map(|r| r[1].as_str())
                        .unwrap_or("");
                    if next_latin.starts_with(['e', 'i', 'y', 'j']) {
                        "cz".into()
                    } else {
                        "c".into()
                    }
                }
                Standard::Gost779B => row[1].clone(),
                Standard::BgnPcgn => {
                    let after_soft =
                        prev.is_some_and(|p| is_ru_vowel(p) || matches!(p, 'й' | 'ъ' | 'ь'));
                    if word_start || after_soft {
                        row[3].clone()
                    } else {
                        row[2].clone()
                    }
                }
                _ => row[0].clone(),
            }
        } else if let Some(row) = t.uk.get(&c) {
            if word_start {
                row[1].clone()
            } else {
                row[0].clone()
            }
        } else {
            out.push(orig);
            continue;
        };
        if orig.is_uppercase() {
            let whole_word_upper = next
                .is_some_and(|_| chars.get(i + 1).is_some_and(|n| n.is_uppercase()))
                || (i > 0 && chars[i - 1].is_uppercase());
            let mut it = latin.chars();
            if let Some(first) = it.next() {
                out.extend(first.to_uppercase());
                for rest in it {
                    if whole_word_upper {
                        out.extend(rest.to_uppercase());
                    } else {
                        out.push(rest);
                    }
                }
            }
        } else {
            out.push_str(&latin);
        }
    }
    out
}

/// Cyrillic letter → phonetic symbols. The output is already in the phonetic alphabet, so it is not
/// re-read as Latin (з+г must stay `zh`, not become ж).
fn cyrillic_phonetic(c: char) -> Option<&'static str> {
    Some(match c {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' | 'ґ' | 'х' => "h",
        'д' => "d",
        'е' | 'э' | 'є' => "ie",
        'ё' => "io",
        'ж' => "Z",
        'з' => "z",
        'и' | 'і' | 'ї' | 'й' | 'ы' => "i",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' | 'ў' => "u",
        'ф' => "f",
        'ц' => "c",
        'ч' => "C",
        'ш' | 'щ' => "S",
        'ь' | 'ъ' => "",
        'ю' => "iu",
        'я' => "ia",
        _ => return None,
    })
}

/// Latin letters with marks that carry a sound (č, ŝ, ë), straight to phonetic symbols: they are not
/// re-read as Latin, so DSTU's zğ (зг) does not become zh (ж).
fn latin_special(c: char) -> Option<&'static str> {
    Some(match c {
        'č' => "C",
        'ć' => "c",
        'š' => "S",
        'ś' => "s",
        'ž' | 'ż' => "Z",
        'ź' => "z",
        'ŝ' => "S",
        'ğ' | 'ĝ' => "h",
        'ë' | 'ö' => "io",
        'û' => "iu",
        'â' => "ia",
        'ê' => "ie",
        'ł' => "l",
        'ß' => "s",
        'ø' => "o",
        'æ' => "ae",
        'œ' => "oe",
        'ŭ' => "u",
        'ĵ' => "",
        _ => return None,
    })
}

fn is_vowel(b: u8) -> bool {
    matches!(b, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// Whether Latin is read with the values of the French-based scheme.
#[derive(Clone, Copy, PartialEq, Eq)]
enum French {
    /// When a word shows the scheme's marks (see [`latin_run`]).
    Auto,
    Always,
    Never,
}

/// Reads a run of lowercase Latin into phonetic symbols.
fn latin_run(run: &[u8], out: &mut Vec<u8>, reading: French) {
    let n = run.len();
    let at = |i: usize| run.get(i).copied().unwrap_or(0);
    // The French-based scheme of older Soviet and Russian passports (Kovaltchouk, Dmitrievitch,
    // Iouri) writes у as ou, ч as tch, ш as ch and ж as j. tch occurs in no other scheme; ou
    // does where о meets у (KMU Chornousovych, Bilous), so ou counts only in a word without y
    // after its first letter: the French scheme writes y for ы and an initial й (Youri), the
    // others for и and й anywhere.
    let french = match reading {
        French::Always => true,
        French::Never => false,
        French::Auto => {
            run.windows(3).any(|w| w == b"tch")
                || (run.windows(2).any(|w| w == b"ou")
                    && run.get(1..).is_some_and(|r| !r.contains(&b'y')))
        }
    };
    let mut i = 0;
    while i < n {
        let rest = &run[i..];
        let (sym, len): (&[u8], usize) = if french && rest.starts_with(b"chtch") {
            (b"S", 5)
        } else if french && rest.starts_with(b"ou") {
            (b"u", 2)
        } else if french && rest.starts_with(b"ch") {
            (b"S", 2)
        } else if french && at(i) == b'j' {
            (b"Z", 1)
        } else if rest.starts_with(b"gu") && matches!(at(i + 2), b'e' | b'i' | b'y') {
            // French and Spanish write г before e and i as gu (Sergueï), so that g stays hard.
            (b"h", 2)
        } else if rest.starts_with(b"shch") || rest.starts_with(b"szcz") {
            (b"S", 4)
        } else if rest.starts_with(b"tsch") {
            (b"C", 4)
        } else if rest.starts_with(b"sch") || rest.starts_with(b"shh") {
            (b"S", 3)
        } else if rest.starts_with(b"tch") {
            (b"C", 3)
        } else if rest.starts_with(b"sh") || rest.starts_with(b"sz") {
            (b"S", 2)
        } else if rest.starts_with(b"zh") {
            (b"Z", 2)
        } else if rest.starts_with(b"ch") {
            (b"C", 2)
        } else if rest.starts_with(b"kh") || rest.starts_with(b"gh") {
            (b"h", 2)
        } else if rest.starts_with(b"ph") {
            (b"f", 2)
        } else if rest.starts_with(b"th") {
            (b"t", 2)
        } else if rest.starts_with(b"ts")
            || rest.starts_with(b"tc")
            || rest.starts_with(b"tz")
            || rest.starts_with(b"cz")
        {
            (b"c", 2)
        } else {
            let b = at(i);
            let sym: &[u8] = match b {
                // Bare c is ц in every scheme that uses it (GOST, DSTU, ISO 9, Polish, Czech); English
                // c = k names (Victor, Nicholas) are listed in the given-name table.
                b'c' => b"c",
                b'g' | b'h' | b'x' => b"h",
                b'q' => b"k",
                b'w' => b"v",
                // DSTU 9112 writes ь as j: after a consonant it is a soft sign unless it iotates
                // the next vowel (ja, ju, je are я, ю, є); jo is ьо, which KMU writes o.
                b'j' if i > 0
                    && !matches!(run[i - 1], b'a' | b'e' | b'i' | b'o' | b'u' | b'y' | b'j')
                    && !matches!(at(i + 1), b'a' | b'e' | b'i' | b'u' | b'y') =>
                {
                    b""
                }
                b'y' | b'j' => b"i",
                b'a'..=b'z' => std::slice::from_ref(&run[i]),
                _ => b"",
            };
            (sym, 1)
        };
        out.extend_from_slice(sym);
        i += len;
    }
}

/// Applies the vowel rules to one word of phonetic symbols, in place.
fn vowel_rules(word: &mut Vec<u8>) {
    // x is х in GOST 7.79 B and scholarly Ukrainian (Xarkiv, Xmelʹnyckyj) and кс in English
    // (Olexandr, Maxim, Xenia): кс is folded into х's symbol so that both readings meet.
    let mut k = 0;
    while k + 1 < word.len() {
        if word[k] == b'k' && word[k + 1] == b's' {
            word.splice(k..k + 2, [b'h']);
        }
        // Scholarly and ISO 9 Ukrainian write щ as šč, whose letters are read one by one.
        if word[k] == b'S' && word[k + 1] == b'C' {
            word.remove(k + 1);
        }
        k += 1;
    }
    // Runs of i (ii, iy, yi, ij from й and ї in the various standards) are one i.
    word.dedup_by(|b, a| *a == b'i' && *b == b'i');
    let mut out = Vec::with_capacity(word.len());
    let mut k = 0;
    while k < word.len() {
        let b = word[k];
        let next = word.get(k + 1).copied();
        // ICAO writes ъ as "ie" even before я, ю, ё: "Podieiachev" is Подъячев.
        if b == b'i'
            && next == Some(b'e')
            && word.get(k + 2) == Some(&b'i')
            && word.get(k + 3).is_some_and(|&v| is_vowel(v))
        {
            k += 2;
            continue;
        }
        // An i before e is the iotation of є / е (ye, ie, je): gone.
        if b == b'i' && next == Some(b'e') {
            k += 1;
            continue;
        }
        // io after a consonant or at the start is ё / ьо, which clerks also write е.
        if b == b'i' && next == Some(b'o') && out.last().is_none_or(|&p: &u8| !is_vowel(p)) {
            out.push(b'e');
            k += 2;
            continue;
        }
        out.push(b);
        k += 1;
    }
    out.dedup();
    *word = out;
}

/// The Latin phonetic form of a name or place in any script or standard (see the module docs).
/// Words are separated by single spaces; everything else but letters is dropped.
pub fn phonetic(text: &str) -> String {
    phonetic_as(text, French::Auto)
}

/// The other reading of a Latin name than [`phonetic`]'s, as to the French-based scheme: read
/// as French when `phonetic` did not see its marks (Chvetsak for Швецак and Jadan for Жадан
/// hold neither ou nor tch), or read plainly when it did (a KMU Bilous is Білоус). `None` when
/// the other reading changes nothing (Cyrillic, no ch, j or ou) or is not possible (a u outside
/// ou is no French spelling): the caller compares both readings.
pub fn phonetic_french(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    if lower.chars().any(is_cyrillic) {
        return None;
    }
    let auto = phonetic_as(text, French::Auto);
    if auto == phonetic_as(text, French::Always) {
        let plain = phonetic_as(text, French::Never);
        return (plain != auto).then_some(plain);
    }
    if !(lower.contains("ch") || lower.contains('j')) {
        return None;
    }
    // The French scheme writes у as ou, so a u elsewhere (Kovalchuk) is another scheme's.
    let chars: Vec<char> = lower.chars().collect();
    if chars
        .iter()
        .enumerate()
        .any(|(i, &c)| c == 'u' && (i == 0 || chars[i - 1] != 'o'))
    {
        return None;
    }
    let french = phonetic_as(text, French::Always);
    (french != auto).then_some(french)
}

fn phonetic_as(text: &str, french: French) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(text.len());
    let mut word: Vec<u8> = Vec::with_capacity(16);
    let mut run: Vec<u8> = Vec::with_capacity(16);
    let flush_word = |word: &mut Vec<u8>, run: &mut Vec<u8>, out: &mut Vec<u8>| {
        latin_run(run, word, french);
        run.clear();
        vowel_rules(word);
        if !word.is_empty() {
            if !out.is_empty() {
                out.push(b' ');
            }
            out.extend_from_slice(word);
        }
        word.clear();
    };
    for c in text.chars().flat_map(char::to_lowercase) {
        if let Some(sym) = cyrillic_phonetic(c) {
            latin_run(&run, &mut word, french);
            run.clear();
            word.extend_from_slice(sym.as_bytes());
        } else if let Some(sym) = latin_special(c) {
            latin_run(&run, &mut word, french);
            run.clear();
            word.extend_from_slice(sym.as_bytes());
        } else if matches!(c, '\'' | '’' | 'ʼ' | '`' | '´' | 'ʹ' | 'ʺ' | '”' | '"') {
            // Letters either side of an apostrophe are not a digraph (GOST's c`k is ць+к).
            latin_run(&run, &mut word, french);
            run.clear();
        } else if c.is_ascii_lowercase() {
            run.push(c as u8);
        } else if c.is_alphabetic() {
            for d in c.nfkd() {
                if is_combining_mark(d) {
                    continue;
                }
                if let Some(sym) = latin_special(d) {
                    latin_run(&run, &mut word, french);
                    run.clear();
                    word.extend_from_slice(sym.as_bytes());
                } else if d.is_ascii_alphabetic() {
                    run.push(d.to_ascii_lowercase() as u8);
                } else if d.is_alphabetic() {
                    // Another script: keep its bytes so that equal names still compare equal.
                    latin_run(&run, &mut word, french);
                    run.clear();
                    let mut buf = [0u8; 4];
                    word.extend_from_slice(d.encode_utf8(&mut buf).as_bytes());
                }
            }
        } else if c.is_numeric() {
            continue;
        } else {
            flush_word(&mut word, &mut run, &mut out);
        }
    }
    flush_word(&mut word, &mut run, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// The consonant skeleton of a phonetic form: its first letter, then its consonants, doubled ones
/// once, spaces dropped. What Ukrainian and Russian spellings of one surname share.
pub fn skeleton(phonetic: &str) -> String {
    let mut out = String::with_capacity(phonetic.len());
    let mut last = ' ';
    for (k, c) in phonetic.chars().filter(|c| *c != ' ').enumerate() {
        if k > 0 && c.is_ascii() && is_vowel(c as u8) {
            continue;
        }
        if c != last {
            out.push(c);
        }
        last = c;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_complete() {
        let (uk, ru) = table_sizes();
        assert_eq!(uk, 34, "33 Ukrainian letters and the apostrophe");
        assert_eq!(ru, 33);
    }

    #[test]
    fn kmu_2010_examples_from_the_resolution() {
        let k = |s| transliterate(s, Standard::Kmu2010);
        // The resolution's own examples.
        assert_eq!(k("Згорани"), "Zghorany");
        assert_eq!(k("Розгон"), "Rozghon");
        assert_eq!(k("Єнакієве"), "Yenakiieve");
        assert_eq!(k("Їжакевич"), "Yizhakevych");
        assert_eq!(k("Йосипівка"), "Yosypivka");
        assert_eq!(k("Стрий"), "Stryi");
        assert_eq!(k("Юрій"), "Yurii");
        assert_eq!(k("Крюківка"), "Kriukivka");
        assert_eq!(k("Яготин"), "Yahotyn");
        assert_eq!(k("Костянтин"), "Kostiantyn");
        assert_eq!(k("Знам'янка"), "Znamianka");
        assert_eq!(k("Щербухи"), "Shcherbukhy");
        assert_eq!(k("Гаврилюк"), "Havryliuk");
        assert_eq!(k("Ґалаґан"), "Galagan");
        assert_eq!(k("Олійник Дмитро Андрійович"), "Oliinyk Dmytro Andriiovych");
        assert_eq!(k("ОЛІЙНИК"), "OLIINYK");
        assert_eq!(k("Щур"), "Shchur");
    }

    #[test]
    fn dstu_9112_a() {
        let d = |s| transliterate(s, Standard::Dstu9112A);
        assert_eq!(d("Хмельницький"), "Xmeljnycjkyj");
        assert_eq!(d("Україна"), "Ukraïna");
        assert_eq!(d("Щастям"), "Ŝastjam");
        assert_eq!(d("Олійник"), "Olijnyk");
        assert_eq!(d("Григорій"), "Ğryğorij");
        assert_eq!(d("Соловйов"), "Solov'jov");
        assert_eq!(d("Ковальов"), "Kovaljov");
    }

    #[test]
    fn russian_standards() {
        let i = |s| transliterate(s, Standard::Icao9303);
        let g = |s| transliterate(s, Standard::Gost779B);
        let b = |s| transliterate(s, Standard::BgnPcgn);
        assert_eq!(i("Дмитрий Олейник"), "Dmitrii Oleinik");
        assert_eq!(i("Юлия Щербакова"), "Iuliia Shcherbakova");
        assert_eq!(i("Подъячев"), "Podieiachev");
        assert_eq!(i("Алёна"), "Alena");
        assert_eq!(g("Цыганков"), "Czy'gankov");
        assert_eq!(g("Цапко"), "Capko");
        assert_eq!(g("Щукин"), "Shhukin");
        assert_eq!(g("Фёдор Михайлович"), "Fyodor Mixajlovich");
        assert_eq!(g("Лысенко"), "Ly'senko");
        assert_eq!(b("Елена"), "Yelena");
        assert_eq!(b("Григорьев"), "Grigor’yev");
        assert_eq!(b("Андреевич"), "Andreyevich");
        assert_eq!(b("Юрий"), "Yuriy");
    }

    #[test]
    fn phonetic_collapses_standards() {
        let p = phonetic;
        assert_eq!(p("Олійник"), "olinik");
        assert_eq!(p("Oliinyk"), "olinik");
        assert_eq!(p("Olijnyk"), "olinik");
        assert_eq!(p("Михайло"), p("Mykhailo"));
        assert_eq!(p("Михаил"), p("Mikhail"));
        assert_eq!(p("Михаил"), p("Mixail"));
        assert_eq!(p("Олег"), p("Oleh"));
        assert_eq!(p("Олег"), p("Oleg"));
        assert_eq!(p("Євген"), p("Yevhen"));
        assert_eq!(p("Евгений"), p("Yevgeniy"));
        assert_eq!(p("Евгений"), p("Evgenii"));
        assert_eq!(p("Ковальов"), p("Kovalov"));
        assert_eq!(skeleton(&p("Ковальов")), skeleton(&p("Kovalev")));
        assert_eq!(p("Ковалёв"), p("Kovalyov"));
        assert_eq!(p("Ковалёв"), p("Kovaliov"));
        assert_eq!(p("Соловьёв"), p("Solov'yëv"));
        assert_eq!(p("Григорьев"), p("Grigor'yev"));
        assert_eq!(p("Щербак"), p("Shcherbak"));
        assert_eq!(p("Щербак"), p("Ŝerbak"));
        assert_eq!(p("Цыбенко"), p("Tsybenko"));
        assert_eq!(p("Розгон"), p("Rozghon"));
        assert_ne!(p("Розгон"), p("Rozhon"), "з+г is not ж");
        assert_eq!(p("Мар'яна"), p("Mariana"));
        assert_eq!(p("ANNA-MARIIA"), "ana maria");
    }

    #[test]
    fn every_standard_meets_the_cyrillic_in_the_phonetic_form() {
        let ukrainian = [
            "Олійник",
            "Дмитро",
            "Андрійович",
            "Євгенія",
            "Ярослава",
            "Щербак",
            "Хмельницький",
            "Григорій",
            "Юлія",
            "Мар'яна",
            "Ковальов",
            "Зінаїда",
            "Згурський",
            "Цюпа",
            "Кучеренко",
            "Жежерун",
            "Їжак",
            "Соловйов",
            "В'ячеслав",
            "Ілля",
            "Наталія",
            "Гаврилюк",
            "Ґудзь",
            "Шевчук",
            "Підгорна",
        ];
        let russian = [
            "Олейник",
            "Дмитрий",
            "Андреевич",
            "Евгения",
            "Щукин",
            "Фёдор",
            "Михайлович",
            "Юлия",
            "Ковалёв",
            "Подъячев",
            "Лысенко",
            "Соловьёв",
            "Цыганков",
            "Григорьев",
            "Эдуард",
            "Ёлкин",
            "Цветаева",
            "Наталья",
            "Вячеслав",
            "Илья",
            "Объедков",
            "Хмельницкий",
            "Воробьёва",
            "Шевчук",
        ];
        let check = |names: &[&str], standards: &[Standard]| {
            for name in names {
                let target = phonetic(name);
                for &std in standards {
                    let latin = transliterate(name, std);
                    assert_eq!(phonetic(&latin), target, "{name} in {std:?} = {latin}");
                }
            }
        };
        check(&ukrainian, &[Standard::Kmu2010, Standard::Dstu9112A]);
        check(
            &russian,
            &[Standard::Icao9303, Standard::Gost779B, Standard::BgnPcgn],
        );
    }

    #[test]
    fn skeleton_keeps_consonants() {
        assert_eq!(skeleton(&phonetic("Олійник")), "olnk");
        assert_eq!(skeleton(&phonetic("Олейник")), "olnk");
        assert_eq!(skeleton(&phonetic("Петрів")), skeleton(&phonetic("Петров")));
        assert_eq!(
            skeleton(&phonetic("Лисенко")),
            skeleton(&phonetic("Lysenko"))
        );
        assert_eq!(
            skeleton(&phonetic("Ковальов")),
            skeleton(&phonetic("Kovalev"))
        );
        assert_eq!(
            skeleton(&phonetic("Кравчук")),
            skeleton(&phonetic("Kravchuk"))
        );
    }
}

/// Spellings of one name in the romanisation schemes met on paperwork, written here from the
/// schemes' published definitions (not from any benchmark table): each row's Cyrillic and every
/// Latin spelling must fold to one phonetic form.
#[cfg(test)]
mod romanisation_tests {
    use super::*;

    /// (Cyrillic, [spellings]): KMU 2010 / ICAO 9303 / BGN/PCGN / GOST 7.79 B / ISO 9 / scholarly
    /// Ukrainian / French-style MVD / Wikipedia / informal English, upper case, apostrophes.
    const NAMES: &[(&str, &[&str])] = &[
        (
            "Шевченко",
            &[
                "Shevchenko",
                "Ševčenko",
                "Chevtchenko",
                "SHEVCHENKO",
                "Schewtschenko",
            ],
        ),
        (
            "Ковальчук",
            &[
                "Kovalchuk",
                "Koval'chuk",
                "Kovalʹčuk",
                "Kovaltchouk",
                "KOVALCHUK",
                "Koval’chuk",
            ],
        ),
        (
            "Хмельницький",
            &[
                "Khmelnytskyi",
                "Xmelʹnycʹkyj",
                "Khmelnytskyy",
                "Khmel'nyts'kyy",
                "Khmelnytsky",
                "Hmelnytskyi",
            ],
        ),
        (
            "Євген",
            &["Yevhen", "Jevhen", "Ievhen", "Evhen", "Yevgen", "Ěvgen"],
        ),
        (
            "Олександр",
            &["Oleksandr", "Olexandr", "OLEKSANDR", "Oleksandr"],
        ),
        (
            "Олексій",
            &["Oleksii", "Olexiy", "Oleksiy", "Oleksij", "Oleksìj"],
        ),
        (
            "Щербакова",
            &[
                "Shcherbakova",
                "Ŝerbakova",
                "Shherbakova",
                "Chtcherbakova",
                "Scherbakova",
            ],
        ),
        (
            "Маріуполь",
            &["Mariupol", "Mariupolʹ", "Mariupol'", "Marioupol"],
        ),
        (
            "Ткаченко",
            &["Tkachenko", "Tkačenko", "Tkatchenko", "TKACHENKO"],
        ),
        (
            "Дмитриевич",
            &[
                "Dmitrievich",
                "Dmitriyevich",
                "Dmitrievitch",
                "Dmitrijevič",
                "Dmitriievich",
            ],
        ),
        (
            "Юлія",
            &[
                "Yuliia", "Yuliya", "Julija", "Iuliia", "Ioulia", "Yulia", "Ûlìâ",
            ],
        ),
        ("Жук", &["Zhuk", "Žuk", "Jouk", "ZHUK"]),
        ("Наталія", &["Nataliia", "Natalija", "Natalia", "Nataliya"]),
        (
            "Сергей",
            &["Sergei", "Sergey", "Serguei", "Sergueï", "Sergej"],
        ),
        (
            "Юрий",
            &["Yuriy", "Iurii", "Youri", "Jurij", "Yury", "Ûrij"],
        ),
        (
            "Мельник",
            &["Melnyk", "Mel'nyk", "Melʹnyk", "Melnik", "Мельнык"],
        ),
        (
            "Клименко",
            &["Klymenko", "Klimenko", "Клыменко", "KLYMENKO"],
        ),
        ("Ксенія", &["Kseniia", "Xenia", "Ksenija", "Kseniya"]),
        ("Максим", &["Maksym", "Maxim", "Maksim", "Maxym"]),
        ("Тарас", &["Taras", "TARAS"]),
        ("Запоріжжя", &["Zaporizhzhia", "Zaporižžja", "Zaporizhia"]),
        ("Жовква", &["Zhovkva", "Žovkva"]),
        ("Чорновіл", &["Chornovil", "Čornovil", "Tchornovil"]),
        ("Цюпа", &["Tsiupa", "Cjupa", "Tsyupa", "Tsioupa"]),
        (
            "Гуляйполе",
            &["Huliaipole", "Huljajpole", "Gouliaipole", "Gulyaypole"],
        ),
        (
            "Пʼятниця",
            &["P'iatnytsia", "Piatnytsia", "Pjatnycja", "Pyatnytsya"],
        ),
    ];

    #[test]
    fn every_scheme_folds_to_one_form() {
        let mut failures = Vec::new();
        for (cyr, latins) in NAMES {
            let key = phonetic(cyr);
            for l in *latins {
                if phonetic(l) != key {
                    failures.push(format!("{cyr} = {key:?} but {l} = {:?}", phonetic(l)));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    fn spelling() -> impl proptest::strategy::Strategy<Value = (&'static str, &'static str)> {
        use proptest::strategy::Strategy;
        proptest::sample::select(
            NAMES
                .iter()
                .flat_map(|(c, ls)| ls.iter().map(move |l| (*c, *l)))
                .collect::<Vec<_>>(),
        )
        .prop_map(|x| x)
    }

    proptest::proptest! {
        /// Letter case never matters (KOVALCHUK, Kovalchuk, kovalchuk).
        #[test]
        fn case_does_not_matter((cyr, latin) in spelling()) {
            proptest::prop_assert_eq!(phonetic(&latin.to_uppercase()), phonetic(cyr));
            proptest::prop_assert_eq!(phonetic(&latin.to_lowercase()), phonetic(cyr));
        }

        /// Whichever apostrophe or soft-sign mark a scheme or a keyboard uses (' ’ ʼ ʹ `), and
        /// whether it is written at all after a consonant, the form is the same.
        #[test]
        fn apostrophe_kind_does_not_matter(
            (cyr, latin) in spelling(),
            mark in proptest::sample::select(vec!['\'', '’', 'ʼ', 'ʹ', '`']),
        ) {
            let swapped: String = latin
                .chars()
                .map(|c| if matches!(c, '\'' | '’' | 'ʼ' | 'ʹ') { mark } else { c })
                .collect();
            proptest::prop_assert_eq!(phonetic(&swapped), phonetic(cyr));
        }

        /// A typo inside a transliteration (one letter after the second replaced) leaves the
        /// form close enough for the Jaro–Winkler levels to see it (at least `jw_0.70`, not
        /// `different`), even when it spoils a scheme's marker (Chtcherbakova → Chtckerbakova).
        #[test]
        fn a_typo_stays_close(
            (_cyr, latin) in spelling(),
            at in 2usize..20,
            letter in proptest::sample::select(b"abdefiklmnoprstuvz".to_vec()),
        ) {
            let chars: Vec<char> = latin.chars().collect();
            proptest::prop_assume!(chars.len() >= 8 && at < chars.len());
            let mut typo = chars.clone();
            typo[at] = char::from(letter);
            let typo: String = typo.into_iter().collect();
            let (a, b) = (phonetic(latin), phonetic(&typo));
            let jw = crate::jw::jaro_winkler(a.as_bytes(), b.as_bytes());
            proptest::prop_assert!(jw >= 0.70, "{latin} / {typo}: {a} / {b} = {jw}");
        }
    }
}
