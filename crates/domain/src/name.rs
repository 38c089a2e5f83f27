//! A child's names: each entry keeps the text exactly as written, in the script it was written in,
//! beside its parts. A child can have several entries (Ukrainian, Russian, a passport's Latin form).

use crate::error::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The script (and where the letters tell, the language) a name was written in. BCP 47 style codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Script {
    #[serde(rename = "uk-Cyrl")]
    UkrainianCyrillic,
    #[serde(rename = "ru-Cyrl")]
    RussianCyrillic,
    #[serde(rename = "be-Cyrl")]
    BelarusianCyrillic,
    /// Cyrillic whose language the letters do not reveal.
    #[serde(rename = "Cyrl")]
    Cyrillic,
    #[serde(rename = "Latn")]
    Latin,
    #[serde(rename = "Arab")]
    Arabic,
    #[serde(rename = "und")]
    Unknown,
}

impl Script {
    pub const ALL: [Script; 7] = [
        Self::UkrainianCyrillic,
        Self::RussianCyrillic,
        Self::BelarusianCyrillic,
        Self::Cyrillic,
        Self::Latin,
        Self::Arabic,
        Self::Unknown,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::UkrainianCyrillic => "uk-Cyrl",
            Self::RussianCyrillic => "ru-Cyrl",
            Self::BelarusianCyrillic => "be-Cyrl",
            Self::Cyrillic => "Cyrl",
            Self::Latin => "Latn",
            Self::Arabic => "Arab",
            Self::Unknown => "und",
        }
    }

    /// Guesses the script from the letters. Letters unique to one language decide it: і ї є ґ are
    /// Ukrainian (і and ў also Belarusian), ы э ъ ё Russian (ы э ё also Belarusian).
    pub fn detect(text: &str) -> Self {
        let mut cyr = 0usize;
        let mut lat = 0usize;
        let mut arab = 0usize;
        let (mut uk, mut ru, mut be) = (false, false, false);
        for c in text.chars().flat_map(char::to_lowercase) {
            match c {
                'ї' | 'є' | 'ґ' => uk = true,
                'ў' => be = true,
                'ъ' => ru = true,
                _ => {}
            }
            match c {
                'ы' | 'э' | 'ё' => ru = true,
                'і' => uk = true,
                _ => {}
            }
            if ('\u{0400}'..='\u{04FF}').contains(&c) {
                cyr += 1;
            } else if c.is_ascii_alphabetic() || ('\u{00C0}'..='\u{024F}').contains(&c) {
                lat += 1;
            } else if ('\u{0600}'..='\u{06FF}').contains(&c) {
                arab += 1;
            }
        }
        if cyr > 0 && cyr >= lat && cyr >= arab {
            // ў, or і together with ы/э, only occurs in Belarusian.
            if be || (uk && ru && text.to_lowercase().contains('і')) {
                Self::BelarusianCyrillic
            } else if uk && !ru {
                Self::UkrainianCyrillic
            } else if ru && !uk {
                Self::RussianCyrillic
            } else {
                Self::Cyrillic
            }
        } else if lat > 0 && lat >= arab {
            Self::Latin
        } else if arab > 0 {
            Self::Arabic
        } else {
            Self::Unknown
        }
    }
}

impl fmt::Display for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Script {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let aliases: &[(&str, Script)] = &[
            ("uk", Self::UkrainianCyrillic),
            ("ukrainian", Self::UkrainianCyrillic),
            ("ru", Self::RussianCyrillic),
            ("russian", Self::RussianCyrillic),
            ("be", Self::BelarusianCyrillic),
            ("belarusian", Self::BelarusianCyrillic),
            ("cyrillic", Self::Cyrillic),
            ("latin", Self::Latin),
            ("en", Self::Latin),
            ("arabic", Self::Arabic),
            ("ar", Self::Arabic),
        ];
        Self::ALL
            .into_iter()
            .find(|x| x.code().eq_ignore_ascii_case(t))
            .or_else(|| aliases.iter().find(|(a, _)| a.eq_ignore_ascii_case(t)).map(|(_, x)| *x))
            .ok_or_else(|| {
                FieldError::new("script", "invalid_script", format!("unknown script {s:?}; use uk-Cyrl, ru-Cyrl, be-Cyrl, Cyrl, Latn, Arab or und"))
            })
    }
}

/// One way a child's name was written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NameEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patronymic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    pub script: Script,
    /// The full name exactly as it was written on the source document.
    pub as_written: String,
}

/// A name as submitted: parts optional, script and original text optional (derived when missing).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NameInput {
    #[serde(default)]
    pub given: Option<String>,
    #[serde(default)]
    pub patronymic: Option<String>,
    #[serde(default)]
    pub family: Option<String>,
    /// `uk-Cyrl`, `ru-Cyrl`, `be-Cyrl`, `Cyrl`, `Latn`, `Arab` or `und`; detected from the letters when absent.
    #[serde(default)]
    pub script: Option<String>,
    /// The name exactly as written; composed from the parts when absent.
    #[serde(default)]
    pub as_written: Option<String>,
}

const MAX_NAME_CHARS: usize = 300;

fn clean(field: &str, v: &Option<String>) -> Result<Option<String>, FieldError> {
    let Some(s) = v else { return Ok(None) };
    // Keep the text as written; only surrounding whitespace is not part of a name.
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(
            field,
            "too_long",
            format!("at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "control_characters",
            "contains control characters",
        ));
    }
    crate::bidi::refuse_bidi_controls(field, t)?;
    Ok(Some(t.to_owned()))
}

impl NameInput {
    /// Validates one name entry; `prefix` is the field path, e.g. `names[0]`.
    pub fn parse(&self, prefix: &str) -> Result<NameEntry, Vec<FieldError>> {
        let mut errs = Vec::new();
        let mut part = |name: &str, v: &Option<String>| match clean(&format!("{prefix}.{name}"), v)
        {
            Ok(x) => x,
            Err(e) => {
                errs.push(e);
                None
            }
        };
        let given = part("given", &self.given);
        let patronymic = part("patronymic", &self.patronymic);
        let family = part("family", &self.family);
        let as_written = part("as_written", &self.as_written);
        let as_written = as_written.unwrap_or_else(|| {
            [&given, &patronymic, &family]
                .into_iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        });
        if as_written.is_empty() {
            errs.push(FieldError::new(
                prefix,
                "name_required",
                "a name needs at least one part or the text as written",
            ));
        }
        let script = match self
            .script
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(s) => match s.parse::<Script>() {
                Ok(x) => x,
                Err(mut e) => {
                    e.field = format!("{prefix}.script");
                    errs.push(e);
                    Script::Unknown
                }
            },
            None => Script::detect(&as_written),
        };
        if errs.is_empty() {
            Ok(NameEntry {
                given,
                patronymic,
                family,
                script,
                as_written,
            })
        } else {
            Err(errs)
        }
    }
}

impl From<&NameEntry> for NameInput {
    fn from(n: &NameEntry) -> Self {
        Self {
            given: n.given.clone(),
            patronymic: n.patronymic.clone(),
            family: n.family.clone(),
            script: Some(n.script.code().to_owned()),
            as_written: Some(n.as_written.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_language_from_its_letters() {
        assert_eq!(Script::detect("Олійник Дмитро"), Script::UkrainianCyrillic);
        assert_eq!(
            Script::detect("Олейник Дмитрий Андреевич"),
            Script::Cyrillic
        );
        assert_eq!(Script::detect("Лысенко Алёна"), Script::RussianCyrillic);
        assert_eq!(Script::detect("Oleksandr Lysenko"), Script::Latin);
        assert_eq!(Script::detect("Ўладзімір"), Script::BelarusianCyrillic);
        assert_eq!(Script::detect("123"), Script::Unknown);
    }

    #[test]
    fn keeps_the_text_as_written_and_composes_it_when_missing() {
        let n = NameInput {
            given: Some(" Олена ".into()),
            family: Some("Лисенко".into()),
            ..Default::default()
        }
        .parse("names[0]")
        .unwrap();
        assert_eq!(n.as_written, "Олена Лисенко");
        assert_eq!(n.given.as_deref(), Some("Олена"));
        assert_eq!(n.script, Script::Cyrillic);

        let n = NameInput {
            as_written: Some("ЛИСЕНКО Олена Іванівна".into()),
            ..Default::default()
        }
        .parse("names[0]")
        .unwrap();
        assert_eq!(n.as_written, "ЛИСЕНКО Олена Іванівна");
        assert_eq!(n.script, Script::UkrainianCyrillic);
    }

    #[test]
    fn an_empty_name_or_bad_script_is_refused_with_the_field() {
        let e = NameInput::default().parse("names[1]").unwrap_err();
        assert_eq!(e[0].field, "names[1]");
        let e = NameInput {
            given: Some("A".into()),
            script: Some("klingon".into()),
            ..Default::default()
        }
        .parse("names[0]")
        .unwrap_err();
        assert_eq!(e[0].field, "names[0].script");
    }
}
