//! The interface's words in four languages. Each language is one JSON file in `i18n/`, compiled in
//! and parsed once; the tests check that every file has every key, so a page never falls back to a
//! key's name in production.

use axum::http::HeaderMap;
use axum::http::header::ACCEPT_LANGUAGE;
use homeward_domain::Language;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The cookie that keeps the language of someone not signed in (the sign-in page).
pub(crate) const LANGUAGE_COOKIE: &str = "homeward_lang";

pub(crate) fn source(lang: Language) -> &'static str {
    match lang {
        Language::En => include_str!("../../i18n/en.json"),
        Language::Uk => include_str!("../../i18n/uk.json"),
        Language::Ru => include_str!("../../i18n/ru.json"),
        Language::Ar => include_str!("../../i18n/ar.json"),
    }
}

/// One language's words.
#[derive(Debug)]
pub(crate) struct Tr {
    pub lang: Language,
    words: HashMap<String, String>,
}

impl Tr {
    /// The text for `key`; the key itself if the file lacks it (the tests make sure none does).
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.words.get(key).map(String::as_str).unwrap_or(key)
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }

    pub fn dir(&self) -> &'static str {
        if self.lang.is_rtl() { "rtl" } else { "ltr" }
    }
}

pub(crate) fn parse(text: &str) -> Result<HashMap<String, String>, serde_json::Error> {
    serde_json::from_str(text)
}

pub(crate) fn tr(lang: Language) -> &'static Tr {
    static ALL: OnceLock<[Tr; 4]> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        Language::ALL.map(|lang| Tr {
            lang,
            // A file that does not parse is caught by the tests; at run time the page shows keys
            // rather than refusing to serve.
            words: parse(source(lang)).unwrap_or_default(),
        })
    });
    let i = Language::ALL.iter().position(|l| *l == lang).unwrap_or(0);
    &all[i]
}

/// The language for a request: the signed-in user's choice, else the language cookie, else the
/// browser's preference, else English.
pub(crate) fn choose(user: Option<Language>, headers: &HeaderMap) -> Language {
    if let Some(l) = user {
        return l;
    }
    let jar = axum_extra::extract::CookieJar::from_headers(headers);
    if let Some(l) = jar
        .get(LANGUAGE_COOKIE)
        .and_then(|c| Language::parse(c.value()))
    {
        return l;
    }
    headers
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(from_accept_language)
        .unwrap_or(Language::En)
}

/// The first language of an `Accept-Language` header we have (quality order is the order
/// browsers send anyway).
fn from_accept_language(header: &str) -> Option<Language> {
    header.split(',').find_map(|item| {
        let tag = item.split(';').next()?.trim();
        let primary = tag.split('-').next()?.to_ascii_lowercase();
        Language::parse(&primary)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_key_and_nothing_else() {
        let en = parse(source(Language::En)).expect("en.json parses");
        assert!(en.len() > 50);
        for lang in Language::ALL {
            let words = parse(source(lang)).unwrap_or_else(|e| panic!("{lang:?}: {e}"));
            let mut missing: Vec<_> = en.keys().filter(|k| !words.contains_key(*k)).collect();
            let mut extra: Vec<_> = words.keys().filter(|k| !en.contains_key(*k)).collect();
            missing.sort();
            extra.sort();
            assert!(missing.is_empty(), "{lang:?} lacks {missing:?}");
            assert!(extra.is_empty(), "{lang:?} has unknown keys {extra:?}");
            for (k, v) in &words {
                assert!(!v.trim().is_empty(), "{lang:?}: {k} is empty");
            }
        }
    }

    #[test]
    fn translations_differ_from_english() {
        // A copied-over English file would pass the key check; most labels must change.
        let en = parse(source(Language::En)).expect("en");
        for lang in [Language::Uk, Language::Ru, Language::Ar] {
            let words = parse(source(lang)).expect("parses");
            let same = en.iter().filter(|(k, v)| words.get(*k) == Some(v)).count();
            assert!(
                same * 10 < en.len(),
                "{lang:?}: {same} labels are the English ones"
            );
        }
    }

    #[test]
    fn every_key_the_templates_use_exists() {
        let en = parse(source(Language::En)).expect("en");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut used = 0;
        for entry in std::fs::read_dir(dir).expect("templates") {
            let text = std::fs::read_to_string(entry.expect("entry").path()).expect("read");
            for (i, _) in text.match_indices("t.get(\"") {
                let rest = &text[i + 7..];
                let key = &rest[..rest.find('"').expect("closing quote")];
                assert!(en.contains_key(key), "templates use unknown key {key}");
                used += 1;
            }
        }
        assert!(used > 30, "only {used} keys found: the scan is broken");
    }

    #[test]
    fn accept_language_picks_the_first_known() {
        assert_eq!(
            from_accept_language("de-DE,uk;q=0.8,en;q=0.5"),
            Some(Language::Uk)
        );
        assert_eq!(from_accept_language("ar-EG"), Some(Language::Ar));
        assert_eq!(from_accept_language("de, fr"), None);
        let mut h = HeaderMap::new();
        h.insert(ACCEPT_LANGUAGE, "ru-RU".parse().expect("header"));
        assert_eq!(choose(None, &h), Language::Ru);
        assert_eq!(choose(Some(Language::Ar), &h), Language::Ar);
        assert_eq!(choose(None, &HeaderMap::new()), Language::En);
    }
}
