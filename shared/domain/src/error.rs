//! Errors of the calculation. Every error names the request field it is about.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CalcError {
    /// The request is malformed or violates a rule (bad field value, unsupported state...).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// No rule pack covers the pay date for a jurisdiction.
    #[error("{field}: no {jurisdiction} rule pack covers {date}")]
    NoRulePack {
        field: String,
        jurisdiction: String,
        date: chrono::NaiveDate,
    },
    /// A state that has a wage tax we do not compute yet.
    #[error("{field}: state {state} is not supported yet (supported: {supported})")]
    UnsupportedState {
        field: String,
        state: String,
        supported: String,
    },
    /// An internal invariant failed: a bug, never the caller's fault.
    #[error("invariant violated: {0}")]
    Invariant(String),
}

impl CalcError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        CalcError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The request field the error is about (`""` for invariant failures).
    pub fn field(&self) -> &str {
        match self {
            CalcError::Invalid { field, .. }
            | CalcError::NoRulePack { field, .. }
            | CalcError::UnsupportedState { field, .. } => field,
            CalcError::Invariant(_) => "",
        }
    }

    /// A stable machine-readable code (used by the HTTP API's problem+json).
    pub fn code(&self) -> &'static str {
        match self {
            CalcError::Invalid { .. } => "invalid_request",
            CalcError::NoRulePack { .. } => "no_rule_pack",
            CalcError::UnsupportedState { .. } => "unsupported_state",
            CalcError::Invariant(_) => "invariant_violated",
        }
    }

    /// True when the caller caused it (4xx); false for bugs (5xx).
    pub fn is_client_error(&self) -> bool {
        !matches!(self, CalcError::Invariant(_))
    }
}
