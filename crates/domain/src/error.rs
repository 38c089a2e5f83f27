//! Validation errors name the field and carry a stable code, so that an import report, an API
//! response and a form can all say *which* field is wrong and *why*.

use serde::Serialize;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The field, e.g. `birth_date` or `names[0].given`.
    pub field: String,
    /// A stable machine-readable code, e.g. `invalid_date`.
    pub code: &'static str,
    /// A human-readable explanation.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.field, self.message, self.code)
    }
}

/// All the problems found in one input, not just the first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, thiserror::Error)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn single(
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self(vec![FieldError::new(field, code, message)])
    }
    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Collects a field's parse result, remembering the error and yielding the value if it parsed.
    pub fn take<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }
    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, Self> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join("; "))
    }
}

/// The longest free text a form field takes (a task's instructions, a visit's outcome, a fact's
/// details).
const TEXT_MAX: usize = 4_000;

/// Adds an error for `field` when the text is empty (and `required`) or longer than [`TEXT_MAX`].
pub(crate) fn check_text(errs: &mut ValidationErrors, field: &str, text: &str, required: bool) {
    let n = text.trim().chars().count();
    if required && n == 0 {
        errs.push(FieldError::new(field, "required", "must not be empty"));
    } else if n > TEXT_MAX {
        errs.push(FieldError::new(
            field,
            "too_long",
            format!("at most {TEXT_MAX} characters"),
        ));
    }
}
