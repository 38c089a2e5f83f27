//! Text normalisation shared by search and linkage.

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

/// The text a record's name filter searches: every name entry's parts and original text, folded,
/// separated by `|` so that a query cannot match across two entries.
pub fn search_key<'a>(names: impl IntoIterator<Item = [Option<&'a str>; 4]>) -> String {
    let mut parts: Vec<String> = Vec::new();
    for entry in names {
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
    parts.join(" | ")
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
        assert_eq!(k, "дмитро оліиник оліиник дмитро | dmytro oliinyk");
    }
}
