//! Names as written, with a Latin transliteration beside them in the standard of the script's
//! country (Ukrainian: KMU 2010, the Ukrainian passport standard; Russian and undetermined
//! Cyrillic: ICAO 9303, the Russian passport standard since 2014).

use homeward_domain::{ChildRecord, NameEntry, Script};

/// One name for display.
#[derive(Debug, Clone)]
pub(crate) struct ShownName {
    pub written: String,
    /// The BCP 47 tag of the text as written, so that screen readers pronounce it right.
    pub lang: &'static str,
    /// Empty when the name is already in Latin letters or no standard applies.
    pub latin: String,
}

fn lang_tag(script: Script) -> &'static str {
    match script {
        Script::UkrainianCyrillic => "uk",
        Script::RussianCyrillic => "ru",
        Script::BelarusianCyrillic => "be",
        Script::Latin => "und-Latn",
        Script::Arabic => "ar",
        Script::Cyrillic => "und-Cyrl",
        Script::Unknown => "und",
    }
}

pub(crate) fn shown(n: &NameEntry) -> ShownName {
    let latin = homeward_linkage::passport_latin(&n.as_written, n.script).unwrap_or_default();
    ShownName {
        written: n.as_written.clone(),
        lang: lang_tag(n.script),
        latin,
    }
}

/// A name that is only text so far (a cell of a file being imported), its script guessed.
pub(crate) fn shown_text(text: &str) -> ShownName {
    let script = Script::detect(text);
    let latin = homeward_linkage::passport_latin(text, script).unwrap_or_default();
    ShownName {
        written: text.to_owned(),
        lang: lang_tag(script),
        latin,
    }
}

pub(crate) fn all_names(r: &ChildRecord) -> Vec<ShownName> {
    r.content.names.iter().map(shown).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(text: &str, script: Script) -> NameEntry {
        NameEntry {
            given: None,
            patronymic: None,
            family: None,
            script,
            as_written: text.to_owned(),
        }
    }

    #[test]
    fn each_script_gets_its_passport_standard() {
        let uk = shown(&entry("Олійник Григорій", Script::UkrainianCyrillic));
        assert_eq!(uk.written, "Олійник Григорій");
        assert_eq!(uk.latin, "Oliinyk Hryhorii");
        let ru = shown(&entry("Олейник Григорий", Script::RussianCyrillic));
        assert_eq!(ru.latin, "Oleinik Grigorii");
        let latin = shown(&entry("Oliinyk Hryhorii", Script::Latin));
        assert_eq!(latin.latin, "", "nothing to transliterate");
    }
}
