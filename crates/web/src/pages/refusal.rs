//! Forms of the transfer and aftercare pages: the posted fields, read with errors that name the
//! field, and the app's refusals shown on the page they came from.
//!
//! A refusal (a 409 with the unmet conditions, a stale hash, a field the app finds wrong) is not
//! an error page: the same page comes back with the conditions in the person's language, the
//! app's own sentence beside each, and the form filled in as it was sent, so nothing typed is lost.

use super::i18n::Tr;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use homeward_app::error::{Conflict, ErrorKind};
use homeward_app::{AppError, AppResult};
use serde::de::DeserializeOwned;

/// The fields of a posted form exactly as sent, in order (a name may come more than once: a set
/// of checkboxes), read with errors that name the field, and kept to fill the form again when
/// the app refuses it. The one form type of every page.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(transparent)]
pub(crate) struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// A field as sent (the first of that name); empty when absent.
    pub fn get(&self, k: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == k)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value sent under a name (checkboxes, a multiple select), in order.
    pub fn all(&self, k: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Sets a field, replacing what was sent under that name.
    pub fn insert(&mut self, k: &str, v: String) {
        self.0.retain(|(n, _)| n != k);
        self.0.push((k.to_owned(), v));
    }

    /// A field's text as typed, trimmed; empty when absent.
    pub fn text(&self, k: &str) -> String {
        self.get(k).trim().to_owned()
    }

    pub fn opt(&self, k: &str) -> Option<String> {
        Some(self.text(k)).filter(|v| !v.is_empty())
    }

    /// A code or id as the API takes it (an enum's snake_case name, a UUID).
    pub fn parse<T: DeserializeOwned>(&self, k: &str) -> AppResult<T> {
        let v = self.text(k);
        if v.is_empty() {
            return Err(AppError::invalid(k, "required", "choose or enter a value"));
        }
        serde_json::from_value(serde_json::Value::String(v))
            .map_err(|_| AppError::invalid(k, "invalid", "not one of the values offered"))
    }

    pub fn opt_parse<T: DeserializeOwned>(&self, k: &str) -> AppResult<Option<T>> {
        if self.text(k).is_empty() {
            Ok(None)
        } else {
            self.parse(k).map(Some)
        }
    }

    pub fn int(&self, k: &str) -> AppResult<i64> {
        self.text(k)
            .parse()
            .map_err(|_| AppError::invalid(k, "invalid_number", "a whole number"))
    }

    /// A time as a browser's `datetime-local` field sends it (read as UTC, which the label
    /// says), or RFC 3339. Empty is `None`.
    pub fn time(&self, k: &str) -> AppResult<Option<DateTime<Utc>>> {
        let v = self.text(k);
        if v.is_empty() {
            return Ok(None);
        }
        if let Ok(t) = DateTime::parse_from_rfc3339(&v) {
            return Ok(Some(t.with_timezone(&Utc)));
        }
        for f in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
            if let Ok(t) = NaiveDateTime::parse_from_str(&v, f) {
                return Ok(Some(t.and_utc()));
            }
        }
        Err(AppError::invalid(
            k,
            "invalid_time",
            "a date and time such as 2030-04-01T08:00 (UTC)",
        ))
    }

    pub fn required_time(&self, k: &str) -> AppResult<DateTime<Utc>> {
        self.time(k)?
            .ok_or_else(|| AppError::invalid(k, "required", "must not be empty"))
    }

    pub fn date(&self, k: &str) -> AppResult<Option<NaiveDate>> {
        let v = self.text(k);
        if v.is_empty() {
            return Ok(None);
        }
        NaiveDate::parse_from_str(&v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| AppError::invalid(k, "invalid_date", "a date such as 2030-04-01"))
    }

    pub fn required_date(&self, k: &str) -> AppResult<NaiveDate> {
        self.date(k)?
            .ok_or_else(|| AppError::invalid(k, "required", "must not be empty"))
    }

    /// What the form showed in a field, to draw it again as it was.
    pub fn v(&self, k: &str) -> &str {
        self.get(k)
    }

    /// Whether a checkbox was ticked.
    pub fn on(&self, k: &str) -> bool {
        self.0.iter().any(|(n, _)| n == k)
    }

    /// Rows of a repeating part of a form (`prefix0_name`, `prefix1_name`, ...), in order.
    pub fn rows(&self, prefix: &str) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .0
            .iter()
            .filter_map(|(k, _)| k.strip_prefix(prefix))
            .filter_map(|rest| rest.split('_').next()?.parse().ok())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// One unmet condition, or one wrong field, as the page shows it.
#[derive(Debug, Clone)]
pub(crate) struct RefusalItem {
    /// The stable code (a condition's, a field error's).
    pub code: String,
    /// The field, for an invalid input.
    pub field: String,
    /// In the person's language.
    pub text: String,
    /// The app's own sentence (English), with the specifics: which handover, which case.
    pub detail: String,
}

/// Why the app refused what a form asked.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    /// Which form it answers (its id), so the page can say where to look.
    pub form: &'static str,
    pub summary: String,
    pub items: Vec<RefusalItem>,
    /// On `stale_list_hash`: the hash the list has now.
    pub current_hash: Option<String>,
}

/// What a change clashed with, in the person's language (the app's sentence where no
/// translation names it yet).
pub(crate) fn conflict_text(t: &Tr, c: &Conflict) -> String {
    t.get_or(&format!("conflict_{}", c.code()), &c.to_string())
}

/// The app's answer to a form as a refusal to show on the page, when it is one (the input or
/// the state of things is wrong); anything else (not found, not allowed, our failure) is given
/// back to become the same error page the rest of the interface shows.
pub(crate) fn refusal(t: &Tr, form: &'static str, e: AppError) -> Result<Refusal, AppError> {
    if !matches!(e.kind(), ErrorKind::Invalid | ErrorKind::Conflict)
        || matches!(e, AppError::ChainBroken(_))
    {
        return Err(e);
    }
    let code = e.code();
    let status = if e.kind() == ErrorKind::Invalid {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::CONFLICT
    };
    let conditions: Vec<RefusalItem> = e
        .conditions()
        .iter()
        .filter(|c| !c.met)
        .map(|c| RefusalItem {
            code: c.code.as_str().to_owned(),
            field: String::new(),
            text: t.get_or(&format!("tr_cond_{}", c.code.as_str()), &c.message),
            detail: c.message.clone(),
        })
        .collect();
    let mut current_hash = None;
    let items = match &e {
        AppError::Validation(v) => {
            v.0.iter()
                .map(|f| RefusalItem {
                    code: f.code.to_owned(),
                    field: f.field.clone(),
                    text: t.get_or(&format!("tr_fe_{}", f.code), &f.message),
                    detail: f.message.clone(),
                })
                .collect()
        }
        // Only plan forms are refused so, and the plan page fills the items in with the
        // children named (it has their names; a refusal does not).
        AppError::TransferRefused(homeward_domain::TransferRefused::PlanNotReady(_)) => Vec::new(),
        AppError::StaleListHash { current } => {
            current_hash = Some(current.clone());
            Vec::new()
        }
        _ if !conditions.is_empty() => conditions,
        AppError::Conflict(c) => vec![RefusalItem {
            code: c.code().to_owned(),
            field: String::new(),
            text: conflict_text(t, c),
            detail: c.to_string(),
        }],
        other => vec![RefusalItem {
            code: code.to_owned(),
            field: String::new(),
            text: String::new(),
            detail: other.to_string(),
        }],
    };
    Ok(Refusal {
        status,
        code,
        form,
        summary: t.get_or(&format!("tr_err_{code}"), t.get("tr_err_refused")),
        items,
        current_hash,
    })
}
