//! The interface's words in four languages. Each language is a folder in `i18n/` with one JSON file
//! per area of the interface (so work on one area does not touch another's words), compiled in and
//! parsed once; the tests check that every language has every key, and that no key is in two
//! areas, so a page never falls back to a key's name in production.

use axum::http::HeaderMap;
use axum::http::header::ACCEPT_LANGUAGE;
use homeward_domain::Language;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The cookie that keeps the language of someone not signed in (the sign-in page).
pub(crate) const LANGUAGE_COOKIE: &str = "homeward_lang";

/// The areas of the interface, each a file in every language's folder.
pub(crate) const AREAS: [&str; 8] = [
    "core",
    "case",
    "import",
    "transfers",
    "admin",
    "stats",
    "evidence",
    "exports",
];

macro_rules! area_files {
    ($lang:literal) => {
        [
            include_str!(concat!("../../i18n/", $lang, "/core.json")),
            include_str!(concat!("../../i18n/", $lang, "/case.json")),
            include_str!(concat!("../../i18n/", $lang, "/import.json")),
            include_str!(concat!("../../i18n/", $lang, "/transfers.json")),
            include_str!(concat!("../../i18n/", $lang, "/admin.json")),
            include_str!(concat!("../../i18n/", $lang, "/stats.json")),
            include_str!(concat!("../../i18n/", $lang, "/evidence.json")),
            include_str!(concat!("../../i18n/", $lang, "/exports.json")),
        ]
    };
}

/// One language's files, in the order of [`AREAS`].
pub(crate) fn sources(lang: Language) -> [&'static str; 8] {
    match lang {
        Language::En => area_files!("en"),
        Language::Uk => area_files!("uk"),
        Language::Ru => area_files!("ru"),
        Language::Ar => area_files!("ar"),
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

    /// The text for `key` when the files have one, else `fallback` (an engine's own word, an
    /// app message, a code: things that may have no translation).
    pub fn get_or(&self, key: &str, fallback: &str) -> String {
        self.words
            .get(key)
            .map_or_else(|| fallback.to_owned(), String::clone)
    }

    /// The translation of the code `code` under `prefix`, else the code itself.
    pub fn word(&self, prefix: &str, code: &str) -> String {
        self.get_or(&format!("{prefix}{code}"), code)
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }

    /// An arrow pointing the way the page reads ("from → to" reads "to ← from" right to left),
    /// for text laid out in the page's direction.
    pub fn arrow(&self) -> &'static str {
        if self.lang.is_rtl() { "←" } else { "→" }
    }

    pub fn dir(&self) -> &'static str {
        if self.lang.is_rtl() { "rtl" } else { "ltr" }
    }
}

/// A language's words from all its area files. A key found in two areas is an error: one would
/// silently hide the other.
pub(crate) fn parse(lang: Language) -> Result<HashMap<String, String>, String> {
    let mut all = HashMap::new();
    for (area, text) in AREAS.iter().zip(sources(lang)) {
        let words: HashMap<String, String> = serde_json::from_str(text)
            .map_err(|e| format!("i18n/{}/{area}.json: {e}", lang.code()))?;
        for (k, v) in words {
            if all.insert(k.clone(), v).is_some() {
                return Err(format!(
                    "i18n/{}/{area}.json: {k} is in two areas",
                    lang.code()
                ));
            }
        }
    }
    Ok(all)
}

pub(crate) fn tr(lang: Language) -> &'static Tr {
    static ALL: OnceLock<[Tr; 4]> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        Language::ALL.map(|lang| Tr {
            lang,
            // A file that does not parse is caught by the tests; at run time the page shows keys
            // rather than refusing to serve.
            words: parse(lang).unwrap_or_default(),
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
        let en = parse(Language::En).expect("English parses");
        assert!(en.len() > 50);
        for lang in Language::ALL {
            let words = parse(lang).unwrap_or_else(|e| panic!("{lang:?}: {e}"));
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
    fn each_key_is_in_the_same_area_in_every_language() {
        for (i, area) in AREAS.iter().enumerate() {
            let keys = |lang| {
                let words: HashMap<String, String> =
                    serde_json::from_str(sources(lang)[i]).expect("parses");
                let mut k: Vec<_> = words.into_keys().collect();
                k.sort();
                k
            };
            let en = keys(Language::En);
            for lang in Language::ALL {
                assert_eq!(keys(lang), en, "{lang:?}: the keys of {area}.json differ");
            }
        }
    }

    #[test]
    fn translations_differ_from_english() {
        // A copied-over English file would pass the key check; most labels must change.
        let en = parse(Language::En).expect("en");
        for lang in [Language::Uk, Language::Ru, Language::Ar] {
            let words = parse(lang).expect("parses");
            let same = en.iter().filter(|(k, v)| words.get(*k) == Some(v)).count();
            assert!(
                same * 10 < en.len(),
                "{lang:?}: {same} labels are the English ones"
            );
        }
    }

    #[test]
    fn every_key_the_templates_use_exists() {
        let en = parse(Language::En).expect("en");
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
