//! How a command fails: an exit code and (usually) one line on stderr.
//!
//! Exit codes: 0 success; 1 an internal error (a bug, an invariant the calculation refused to
//! break, or an output that could not be written); 2 bad input (the caller's fault: invalid request,
//! unreadable input file, bad arguments — clap also uses 2 for usage errors).

use payroll_domain::CalcError;
use std::process::ExitCode;

pub const EXIT_INTERNAL: u8 = 1;
pub const EXIT_INPUT: u8 = 2;

#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    /// The message printed as `error: <message>`; `None` when it was already reported
    /// (batch lines) or must stay silent (a closed pipe).
    pub message: Option<String>,
}

impl Failure {
    /// Bad input: exit 2.
    pub fn input(message: impl Into<String>) -> Self {
        Failure {
            code: EXIT_INPUT,
            message: Some(message.into()),
        }
    }

    /// A bug or an environment failure: exit 1.
    pub fn internal(message: impl Into<String>) -> Self {
        Failure {
            code: EXIT_INTERNAL,
            message: Some(message.into()),
        }
    }

    /// Exit with `code` without printing anything more.
    pub fn silent(code: u8) -> Self {
        Failure {
            code,
            message: None,
        }
    }

    /// The exit code of a calculation error: 2 for the caller's fault, 1 for a bug.
    pub fn code_of(e: &CalcError) -> u8 {
        if e.is_client_error() {
            EXIT_INPUT
        } else {
            EXIT_INTERNAL
        }
    }

    /// Print the message (one line) and give the exit code.
    pub fn report(self) -> ExitCode {
        if let Some(m) = &self.message {
            // One line, whatever the message holds.
            eprintln!("error: {}", one_line(m));
        }
        ExitCode::from(self.code)
    }
}

impl From<CalcError> for Failure {
    fn from(e: CalcError) -> Self {
        Failure {
            code: Failure::code_of(&e),
            message: Some(e.to_string()),
        }
    }
}

/// Collapse line breaks so an error is always exactly one line.
pub fn one_line(s: &str) -> String {
    if s.contains(['\n', '\r']) {
        s.split(['\n', '\r'])
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        s.to_owned()
    }
}

/// The message part of a calculation error (its display without the leading `field: `).
pub fn message_of(e: &CalcError) -> String {
    let full = e.to_string();
    let field = e.field();
    if !field.is_empty()
        && let Some(rest) = full.strip_prefix(field).and_then(|r| r.strip_prefix(": "))
    {
        return rest.to_owned();
    }
    full
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_strips_the_field() {
        let e = CalcError::invalid("time_entries[3].hours", "must not be negative");
        assert_eq!(message_of(&e), "must not be negative");
        assert_eq!(Failure::code_of(&e), EXIT_INPUT);
        let bug = CalcError::Invariant("gross != sum".into());
        assert_eq!(message_of(&bug), "invariant violated: gross != sum");
        assert_eq!(Failure::code_of(&bug), EXIT_INTERNAL);
    }

    #[test]
    fn one_line_joins_lines() {
        assert_eq!(one_line("a\nb\r\nc"), "a b c");
        assert_eq!(one_line("plain"), "plain");
    }
}
