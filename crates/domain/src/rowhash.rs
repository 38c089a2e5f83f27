//! The hashes of stored rows that the audit chain carries, so that a row edited behind the
//! application's back (directly in the database) no longer matches the entry that wrote it.
//!
//! # The canonical serialisation (version 1)
//!
//! A row is hashed as `SHA-256("homeward-row/v1\n" ‖ TABLE ‖ "\n" ‖ CANONICAL_JSON)`, hex in lower
//! case, where `TABLE` is the table's name (`records`, `record_versions`, `cases`,
//! `case_versions`) and `CANONICAL_JSON` is one JSON object with a member per hashed column:
//!
//! - objects: members sorted by key (by Unicode code point, i.e. by UTF-8 bytes), no whitespace,
//!   no duplicate keys; arrays keep their order;
//! - strings: JSON strings as `serde_json` writes them (`"`, `\` and control characters escaped,
//!   everything else as UTF-8);
//! - numbers: integers in decimal; other numbers as the shortest text that reads back as the
//!   same IEEE double (so PostgreSQL's JSONB, which may respell a number, hashes alike);
//! - `true`, `false`, `null`;
//! - column values: UUIDs as lower-case hyphenated text, timestamps as RFC 3339 in UTC with six
//!   fractional digits (`2026-01-02T03:04:05.000006Z`, the precision both databases keep), NULL
//!   as `null`, JSON columns as the JSON value itself (canonicalised like the rest).
//!
//! Which columns each table hashes is listed by the store (`homeward_store::RowTable`). Columns
//! that are derived from the others and rewritten without an audit entry (a record's search key)
//! are left out.

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// The canonical JSON text of `v` (see the module documentation).
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(&mut out, v);
    out
}

fn write_canonical(out: &mut String, v: &Value) {
    match v {
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_canonical(out, v);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(out, v);
            }
            out.push(']');
        }
        Value::String(s) => write_string(out, s),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => {
                let _ = write!(out, "{i}");
            }
            (None, Some(u), _) => {
                let _ = write!(out, "{u}");
            }
            (None, None, Some(f)) => out.push_str(&Value::from(f).to_string()),
            (None, None, None) => out.push_str(&n.to_string()),
        },
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Null => out.push_str("null"),
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push_str(&Value::from(s).to_string());
}

/// The hash of one row of `table` whose columns are the members of `row`.
pub fn row_hash(table: &str, row: &Value) -> String {
    let mut h = Sha256::new();
    h.update(b"homeward-row/v1\n");
    h.update(table.as_bytes());
    h.update(b"\n");
    h.update(canonical_json(row).as_bytes());
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_and_whitespace_dropped() {
        let v: Value = serde_json::from_str(r#"{ "b": [1, {"z": null, "a": true}], "a": "x\"y" }"#)
            .unwrap_or_default();
        assert_eq!(
            canonical_json(&v),
            r#"{"a":"x\"y","b":[1,{"a":true,"z":null}]}"#
        );
    }

    #[test]
    fn a_respelt_number_hashes_alike() {
        let a: Value = serde_json::from_str(r#"{"p":0.0000001,"n":10}"#).unwrap_or_default();
        let b: Value = serde_json::from_str(r#"{"n":10,"p":1e-7}"#).unwrap_or_default();
        assert_eq!(row_hash("t", &a), row_hash("t", &b));
    }

    #[test]
    fn the_table_and_every_value_count() {
        let row = json!({"id": "x", "version": 1});
        assert_ne!(row_hash("records", &row), row_hash("cases", &row));
        assert_ne!(
            row_hash("records", &row),
            row_hash("records", &json!({"id": "x", "version": 2}))
        );
    }

    /// A JSON value written out with its object members in an order chosen by `order`, and with
    /// optional spaces: the same value as `v`, spelt differently.
    fn respell(v: &Value, order: &mut impl Iterator<Item = u64>) -> String {
        match v {
            Value::Object(map) => {
                let mut members: Vec<(&String, &Value)> = map.iter().collect();
                // A rotation and maybe a reversal, driven by the generated numbers.
                let n = members.len().max(1);
                let r = order.next().unwrap_or(0);
                members.rotate_left(usize::try_from(r).unwrap_or(0) % n);
                if r % 2 == 1 {
                    members.reverse();
                }
                let parts: Vec<String> = members
                    .into_iter()
                    .map(|(k, v)| format!("{} : {}", Value::from(k.as_str()), respell(v, order)))
                    .collect();
                format!("{{ {} }}", parts.join(" , "))
            }
            Value::Array(items) => {
                let parts: Vec<String> = items.iter().map(|v| respell(v, order)).collect();
                format!("[ {} ]", parts.join(", "))
            }
            other => other.to_string(),
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (-1.0e12f64..1.0e12).prop_map(Value::from),
            "[a-zA-Zа-я\u{0600}-\u{0620}\"\\\\ \n]{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map("[a-zé_]{1,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn canonical_form_is_stable_under_member_order_and_spacing(
            v in json_value(),
            order in prop::collection::vec(any::<u64>(), 64),
        ) {
            let text = respell(&v, &mut order.into_iter().cycle());
            let reread: Value = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(canonical_json(&reread), canonical_json(&v));
            prop_assert_eq!(row_hash("records", &reread), row_hash("records", &v));
            // And the canonical text reads back as the same value.
            let back: Value = serde_json::from_str(&canonical_json(&v)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(canonical_json(&back), canonical_json(&v));
        }
    }
}
