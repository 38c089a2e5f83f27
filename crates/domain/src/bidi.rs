//! Invisible direction controls. U+202E (right-to-left override) makes `\u{202e}fdp.exe` show as
//! `exe.pdf`; the embeddings, isolates and marks reorder or hide what a name says the same way.
//! Names (of children, enquirers, carers, users), places and file names are read by people who
//! must trust what they see, and are compared by the matching engine: they refuse these
//! characters rather than strip them, since a silently changed name is worse than a clear
//! refusal that says which field to fix. The pages isolate the names they show (`<bdi>`), so a
//! name needs no control to display in the right direction. Free text
//! (notes, circumstances) keeps them: mixed Arabic and Latin prose may need a mark, and free text
//! is neither matched nor used as a file name.

use crate::error::FieldError;

/// LRE, RLE, PDF, LRO, RLO (U+202A–U+202E), the isolates LRI, RLI, FSI, PDI (U+2066–U+2069), the
/// marks LRM, RLM (U+200E, U+200F) and the Arabic letter mark (U+061C).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Refuses a value that holds a direction control, naming `field` and the first one found.
pub fn refuse_bidi_controls(field: &str, value: &str) -> Result<(), FieldError> {
    match value.chars().find(|c| is_bidi_control(*c)) {
        None => Ok(()),
        Some(c) => Err(FieldError::new(
            field,
            "bidi_control",
            format!(
                "contains an invisible text-direction control (U+{:04X}), which can make the text \
                 show as something else; remove it",
                u32::from(c)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_control_is_refused_with_its_field_and_code_point() {
        let controls = [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
        ];
        for c in controls {
            let e = refuse_bidi_controls("filename", &format!("{c}fdp.exe")).unwrap_err();
            assert_eq!((e.field.as_str(), e.code), ("filename", "bidi_control"));
            assert!(
                e.message.contains(&format!("U+{:04X}", u32::from(c))),
                "{}",
                e.message
            );
        }
        for fine in ["Олександр", "محمد", "report.pdf", "Anne-Marie O'Neil"] {
            assert!(refuse_bidi_controls("x", fine).is_ok(), "{fine}");
        }
    }
}
