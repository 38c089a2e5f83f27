//! Record linkage for Homeward: normalise, transliterate, block, compare, score, assign.
//!
//! Pure: no I/O, no knowledge of storage or HTTP, usable on its own.

pub mod normalise;

pub use normalise::{fold, search_key};
