//! Text normalisation shared by search and linkage.

use crate::translit::{phonetic, skeleton};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds text for matching: compatibility-decomposed, diacritics and combining marks removed,
/// lowercased, apostrophes (Ukrainian `Мар'яна`, `D'Arcy`) and punctuation dropped, whitespace
/// collapsed to single spaces.
///
/// Folding deliberately merges й/и, ї/і, ё/е: clerks drop those marks inconsistently, and a
/// search that misses a child because of a breve is worse than one extra hit.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfkd() {
        if is_combining_mark(c) || matches!(c, '\'' | '’' | 'ʼ' | '`' | '´' | 'ʻ') {
            continue;
        }
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else {
            // Hyphens, dots and spaces all separate name parts.
            pending_space = true;
        }
    }
    out
}

/// Marks the section of a search key that holds spelling-independent tokens.
const TOKENS: &str = " ‖ ";

/// The spelling-independent tokens of one written word: its Latin phonetic form (`~oleksandr`),
/// its consonant skeleton (`^olksndr^`) and its given-name classes (`#12#`), the forms in which
/// the transliteration standards, the Ukrainian and Russian spellings and the nicknames meet.
fn word_tokens(word: &str, out: &mut Vec<String>) {
    let tables = crate::names::tables();
    for w in phonetic(word).split(' ').filter(|w| !w.is_empty()) {
        out.push(format!("~{w}"));
        out.push(format!("^{}^", skeleton(w)));
        for id in tables.given_classes(w).as_slice() {
            out.push(format!("#{id}#"));
        }
    }
}

/// What one typed word of a name search may match, any one of them being enough: the folded word
/// anywhere in the folded names (as typed: "kov" finds Kovalenko), the start of a phonetic form,
/// an equal consonant skeleton (for words of four letters or more, shorter ones are too common),
/// or a shared given-name class.
///
/// `Oleksandr` thereby finds Олександр (same phonetic form) and Александр and Sasha (same class).
pub fn search_terms(query: &str) -> Vec<Vec<String>> {
    let tables = crate::names::tables();
    fold(query)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|word| {
            let mut alts = vec![word.to_owned()];
            for p in phonetic(word).split(' ').filter(|p| !p.is_empty()) {
                alts.push(format!("~{p}"));
                if p.chars().count() >= 4 {
                    alts.push(format!("^{}^", skeleton(p)));
                }
                for id in tables.given_classes(p).as_slice() {
                    alts.push(format!("#{id}#"));
                }
            }
            alts.dedup();
            alts
        })
        .collect()
}

/// The text a record's name filter searches: every name entry's parts and original text, folded,
/// separated by `|` so that a query cannot match across two entries; then, after ` ‖ `, the
/// spelling-independent tokens of every word (see [`search_terms`]).
pub fn search_key<'a>(names: impl IntoIterator<Item = [Option<&'a str>; 4]>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut tokens: Vec<String> = Vec::new();
    for entry in names {
        for text in entry.iter().flatten() {
            word_tokens(text, &mut tokens);
        }
        let folded: Vec<String> = entry
            .iter()
            .flatten()
            .map(|s| fold(s))
            .filter(|s| !s.is_empty())
            .collect();
        if !folded.is_empty() {
            parts.push(folded.join(" "));
        }
    }
    tokens.sort();
    tokens.dedup();
    let mut key = parts.join(" | ");
    if !tokens.is_empty() {
        key.push_str(TOKENS);
        key.push_str(&tokens.join(" "));
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_marks_and_punctuation() {
        assert_eq!(fold("  ОЛІЙНИК   Дмитро "), "оліиник дмитро");
        assert_eq!(fold("Мар'яна"), "маряна");
        assert_eq!(fold("Алёна"), "алена");
        assert_eq!(fold("José-María O’Neill"), "jose maria oneill");
        assert_eq!(fold("Ĳsbrand"), "ijsbrand");
        assert_eq!(fold("---"), "");
    }

    #[test]
    fn search_key_keeps_entries_apart() {
        let k = search_key([
            [
                Some("Дмитро"),
                None,
                Some("Олійник"),
                Some("Олійник Дмитро"),
            ],
            [Some("Dmytro"), None, Some("Oliinyk"), None],
        ]);
        let (names, tokens) = k.split_once(" ‖ ").expect("token section");
        assert_eq!(names, "дмитро оліиник оліиник дмитро | dmytro oliinyk");
        assert!(tokens.contains("~dmitro"), "{tokens}");
    }

    /// Whether a key matches a search the way the store's LIKE filters do.
    fn finds(key: &str, query: &str) -> bool {
        search_terms(query)
            .iter()
            .all(|alts| alts.iter().any(|a| key.contains(a.as_str())))
    }

    fn key_of(given: &str, family: &str) -> String {
        search_key([[Some(given), None, Some(family), None]])
    }

    #[test]
    fn a_search_finds_a_child_whatever_the_script_or_spelling() {
        let uk = key_of("Олександр", "Олійник");
        let ru = key_of("Александр", "Олейник");
        let en = key_of("Alexander", "Oliinyk");
        for q in [
            "Oleksandr",
            "Олександр",
            "Александр",
            "oleksandr oliinyk",
            "Olejnik",
        ] {
            assert!(finds(&uk, q), "{q} in {uk}");
            assert!(finds(&ru, q), "{q} in {ru}");
            assert!(finds(&en, q), "{q} in {en}");
        }
        assert!(finds(&uk, "олійн"), "a typed prefix still works");
        let other = key_of("Марія", "Коваленко");
        for q in ["Oleksandr", "Олійник", "Petrenko"] {
            assert!(!finds(&other, q), "{q} must not find {other}");
        }
        assert!(!finds(&uk, "Oleksandr Kovalenko"), "every word must match");
    }
}
