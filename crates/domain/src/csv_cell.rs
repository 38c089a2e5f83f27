//! Cells of the CSV files Homeward writes (rejected import rows, linkage pairs, generated lists).
//! They echo what someone typed, and a spreadsheet runs a cell that starts with `=`, `+`, `-` or
//! `@` (or a tab or carriage return before one) as a formula: `=HYPERLINK(…)` in a child's name
//! would run on the desk of whoever opens the rejects file. Following OWASP's guidance, such a
//! cell is written with a leading `'`, which spreadsheets show as text; reading a file back takes
//! that quote off again, so a corrected rejects file imports what was originally typed.

use std::borrow::Cow;

/// The first characters a spreadsheet may read as the start of a formula.
const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The cell as it is safe to write: with a `'` in front when it starts like a formula (or like
/// a guarded one, so that [`restore`] gives back exactly what was typed).
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(TRIGGERS) || restore(cell).len() < cell.len() {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The cell as typed, from one [`neutralise`] wrote: the quote is taken off only where it
/// guards a formula trigger, or a cell that was itself guarded (`''=1` was `'=1`), so names
/// such as `'Abd` keep theirs.
pub fn restore(cell: &str) -> &str {
    let unquoted = cell.trim_start_matches('\'');
    if unquoted.len() < cell.len() && unquoted.starts_with(TRIGGERS) {
        &cell[1..]
    } else {
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formula_cells_are_quoted_and_others_kept() {
        for (cell, written) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+380441234567", "'+380441234567"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("Олена", "Олена"),
            ("a=b", "a=b"),
            ("", ""),
            ("'Abd", "'Abd"),
            ("'=1", "''=1"),
        ] {
            assert_eq!(neutralise(cell), written, "{cell:?}");
        }
    }

    proptest! {
        #[test]
        fn nothing_written_starts_a_formula_and_reading_undoes_writing(cell in ".{0,12}") {
            let written = neutralise(&cell);
            prop_assert!(!written.starts_with(TRIGGERS));
            prop_assert_eq!(restore(&written), cell.as_str());
        }
    }
}
