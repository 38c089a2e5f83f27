//! Record linkage for Homeward: find the same child in two parties' lists, in any script.
//!
//! Pure: no I/O, no knowledge of storage or HTTP; the tables it needs (transliteration standards,
//! given names, patronymic suffixes, surname endings, places) are data files in `data/`, compiled in.
//!
//! # Use
//!
//! ```
//! use homeward_linkage::{FieldKind, LinkConfig, Table, link};
//!
//! let columns = vec![
//!     ("id".to_string(), FieldKind::Id),
//!     ("name".to_string(), FieldKind::FullName),
//!     ("dob".to_string(), FieldKind::BirthDate),
//! ];
//! let mut left = Table::new(columns.clone())?;
//! left.push("L1", [Some("L1"), Some("Олійник Дмитро Андрійович"), Some("07.03.2014")])?;
//! let mut right = Table::new(columns)?;
//! right.push("R1", [Some("R1"), Some("Олейник Дмитрий Андреевич"), Some("2014-03-07")])?;
//! let out = link(&left, &right, &LinkConfig::default(), None, &|_| {})?;
//! assert_eq!(out.pairs[0].right_id, "R1");
//! let json = out.model.to_json()?; // save; Model::from_json(&json) loads
//! # Ok::<(), homeward_linkage::LinkError>(())
//! ```
//!
//! # How
//!
//! 1. **Normalise** ([`translit`], [`names`], [`places`], [`dates`]): every name is reduced to a
//!    Latin phonetic form in which the transliteration standards and the two Cyrillic orthographies
//!    coincide, and a consonant skeleton in which Ukrainian and Russian vowel spellings coincide;
//!    given names and patronymics are mapped to equivalence classes (Олександр = Александр =
//!    Alexander = Саша); surname endings are made canonical (Петрова → Петров, Яворська →
//!    Яворський, Петрів → Петров); a full name is split into its parts in whatever order it was
//!    written; places are mapped to one canonical settlement (Кировоград → Кропивницький).
//! 2. **Block** ([`blocking`]): several rules, unioned; see [`default_rules`].
//! 3. **Compare** ([`compare`]): each field gets a level, best first (names: exact, equivalent,
//!    skeleton, Jaro–Winkler ≥ 0.92 / 0.88 / 0.70, different; an unknown given name one edit from
//!    a known one counts as close to that name's equivalents; dates: exact, day/month swapped,
//!    1–3 days apart, year off by one, one digit, same year-month, within a month, within a year,
//!    ..., identical partial dates, different; identifiers: exact, one typo (a character wrong or two neighbours swapped),
//!    different; ...), or null when missing. A given name and surname written in each other's
//!    columns are compared across.
//! 4. **Score** ([`Model`]): Fellegi–Sunter. u from seeded random pairs (less the matches the
//!    fitted model expects among them, which matters for small lists); m by EM on the candidate
//!    pairs, per blocking rule and leaving out the fields the rule fixes (as Splink does), each
//!    rule's fit bounded by one-to-one (no more matches than the smaller list has records) and
//!    weighted by its fitted λ; m of "different" never above its default; the prior λ is that of
//!    two random records (not of a candidate pair: u counts the agreement blocking selected for).
//!    Agreement on a common given name or surname weighs less (term-frequency adjustment,
//!    clamped to ±3 bits). Guards: an identical value always outweighs a different one; a
//!    different given name outweighs all other fields together (siblings and twins share
//!    everything else) unless an identifier agrees or is one typo off, or the birth dates are
//!    the same and the lists show that such pairs are mostly one child renamed rather than twins
//!    (then the pair is weighed as one child or twins, against the twin rate measured within
//!    the lists: see [`Model::twin_rate`]); a different patronymic beside a different surname
//!    counts once (adoption changes both).
//! 5. **Assign** ([`link`]): one-to-one, greedily by descending match weight. A pair whose given
//!    name, birth date, sex and birthplace agree while surname and patronymic do not (an adopted
//!    or renamed child) is never a match: it is assigned after all others, into the review band,
//!    ranked by the weight of what agrees, and marked [`LinkedPair::possibly_renamed`].
//! 6. **Explain**: every output pair carries each field's level, values and weight, and the prior
//!    ([`Explanation`]), so that a waterfall can be drawn.

pub mod blocking;
pub mod compare;
pub mod dates;
mod features;
mod jw;
pub mod labels;
mod link;
pub mod model;
pub mod names;
pub mod normalise;
pub mod places;
pub mod pprl;
mod renamed;
mod table;
pub mod translit;
mod twins;

pub use blocking::{BlockKey, BlockingRule, default_rules, row_keys};
pub use dates::{BirthDate, DateLevel, compare_dates, read_loosely};
pub use jw::jaro_winkler;
pub use labels::{Label, LabelReport, threshold_from_labels};
pub use link::{
    Decision, Explanation, FieldContribution, LinkConfig, LinkOutput, LinkStats, LinkedPair, Phase,
    Progress, RuleCount, Timings, link, score_pairs,
};
pub use model::{FieldModel, LevelModel, MODEL_VERSION, Model, TrainingInfo};
pub use names::{SplitName, split_full_name};
pub use normalise::{fold, search_key, search_terms};
pub use places::{Place, normalise_place};
pub use table::{Column, FieldKind, LinkError, Table, parse_sex};
pub use translit::{
    Standard, passport_latin, passport_standard, phonetic, skeleton, transliterate,
};
