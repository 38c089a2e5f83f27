//! How values are written on the pages, the same on every page: times and enum codes.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// A time to the minute, in UTC and saying so.
pub(crate) fn when(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// An enum's snake_case code as serde writes it (a tagged enum's tag).
pub(crate) fn code_of<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(o)) => o
            .get("kind")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}
