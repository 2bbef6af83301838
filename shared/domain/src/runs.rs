//! Payroll run lifecycle rules (DESIGN §4), pure: the statuses and types of a run, the allowed
//! transitions, the canonical text the run's `calc_hash` is computed over, and the year-to-date
//! arithmetic of paying or reversing a paycheck.
//!
//! `DRAFT → CALCULATING → CALCULATED → APPROVED → PAID`, plus `FAILED` and `VOIDED`. A run may be
//! recalculated while it is not yet approved; a paid run is never edited (a void of a paid run
//! creates a linked reversal run instead).

use crate::request::Ytd;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Draft,
    Calculating,
    Calculated,
    Approved,
    Paid,
    Failed,
    Voided,
}

impl RunStatus {
    pub const ALL: [RunStatus; 7] = [
        RunStatus::Draft,
        RunStatus::Calculating,
        RunStatus::Calculated,
        RunStatus::Approved,
        RunStatus::Paid,
        RunStatus::Failed,
        RunStatus::Voided,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Draft => "draft",
            RunStatus::Calculating => "calculating",
            RunStatus::Calculated => "calculated",
            RunStatus::Approved => "approved",
            RunStatus::Paid => "paid",
            RunStatus::Failed => "failed",
            RunStatus::Voided => "voided",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Does a run in this status hold its (schedule, period) slot? (`voided` and `failed` free it.)
    pub fn is_active(self) -> bool {
        !matches!(self, RunStatus::Voided | RunStatus::Failed)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunType {
    /// The schedule's period: every employee on the schedule, from their time entries and pay.
    Regular,
    /// Extra earnings (bonuses, commissions) for some employees, outside the regular cycle.
    OffCycle,
    /// A correction, e.g. the reversal of a paid run.
    Correction,
}

impl RunType {
    pub fn as_str(self) -> &'static str {
        match self {
            RunType::Regular => "regular",
            RunType::OffCycle => "off_cycle",
            RunType::Correction => "correction",
        }
    }

    pub fn parse(s: &str) -> Option<RunType> {
        [RunType::Regular, RunType::OffCycle, RunType::Correction]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// What is asked of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunAction {
    /// Start (or restart) the calculation.
    Calculate,
    /// Every chunk finished.
    Complete,
    /// The calculation could not run at all.
    Fail,
    Approve,
    Pay,
    Void,
}

impl RunAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RunAction::Calculate => "calculate",
            RunAction::Complete => "complete",
            RunAction::Fail => "fail",
            RunAction::Approve => "approve",
            RunAction::Pay => "pay",
            RunAction::Void => "void",
        }
    }
}

/// A transition that the lifecycle does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {} run cannot be asked to {}", from.as_str(), action.as_str())]
pub struct TransitionError {
    pub from: RunStatus,
    pub action: RunAction,
}

/// Where `action` takes a run in status `from`.
///
/// - calculate: from draft, calculated or failed (recalculation invalidates the old hash); a run
///   already calculating restarts (a new attempt; chunks of the old attempt are ignored);
/// - complete / fail: only while calculating;
/// - approve: only a calculated run; pay: only an approved run;
/// - void: any run not yet paid becomes `voided`; a paid run stays paid and gets a reversal run
///   (the caller creates it), so the answer for a paid run is `Paid`.
pub fn transition(from: RunStatus, action: RunAction) -> Result<RunStatus, TransitionError> {
    use RunAction as A;
    use RunStatus as S;
    let to = match (from, action) {
        (S::Draft | S::Calculating | S::Calculated | S::Failed, A::Calculate) => S::Calculating,
        (S::Calculating, A::Complete) => S::Calculated,
        (S::Calculating, A::Fail) => S::Failed,
        (S::Calculated, A::Approve) => S::Approved,
        (S::Approved, A::Pay) => S::Paid,
        (S::Draft | S::Calculating | S::Calculated | S::Approved | S::Failed, A::Void) => S::Voided,
        (S::Paid, A::Void) => S::Paid,
        _ => return Err(TransitionError { from, action }),
    };
    Ok(to)
}

/// One line of the canonical text hashed into a run's `calc_hash` (and, with an empty result
/// hash, its `inputs_hash`): `employee_id:input_hash:result_hash\n`. The lines are concatenated
/// in ascending employee-id order (the UUIDs' lower-case hyphenated text, which sorts like their
/// bytes) and the SHA-256 of the concatenation, in lower-case hex, is the hash. PostgreSQL
/// computes the same text with `string_agg(... ORDER BY employee_id)`.
pub fn canonical_line(out: &mut String, employee_id: &str, input_hash: &str, result_hash: &str) {
    let _ = writeln!(out, "{employee_id}:{input_hash}:{result_hash}");
}

/// The canonical text of a whole run from `(employee_id, input_hash, result_hash)` items in any
/// order.
pub fn canonical_text(items: &[(String, String, String)]) -> String {
    let mut sorted: Vec<&(String, String, String)> = items.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::with_capacity(items.len() * 140);
    for (e, i, r) in sorted {
        canonical_line(&mut out, e, i, r);
    }
    out
}

fn ytd_map(y: &Ytd, f: impl Fn(Decimal) -> Decimal) -> Ytd {
    Ytd {
        gross: f(y.gross),
        fit_wages: f(y.fit_wages),
        social_security_wages: f(y.social_security_wages),
        medicare_wages: f(y.medicare_wages),
        futa_wages: f(y.futa_wages),
        sui_wages: f(y.sui_wages),
        sdi_wages: f(y.sdi_wages),
        supplemental: f(y.supplemental),
        k401: f(y.k401),
    }
}

fn ytd_zip(a: &Ytd, b: &Ytd, f: impl Fn(Decimal, Decimal) -> Decimal) -> Ytd {
    Ytd {
        gross: f(a.gross, b.gross),
        fit_wages: f(a.fit_wages, b.fit_wages),
        social_security_wages: f(a.social_security_wages, b.social_security_wages),
        medicare_wages: f(a.medicare_wages, b.medicare_wages),
        futa_wages: f(a.futa_wages, b.futa_wages),
        sui_wages: f(a.sui_wages, b.sui_wages),
        sdi_wages: f(a.sdi_wages, b.sdi_wages),
        supplemental: f(a.supplemental, b.supplemental),
        k401: f(a.k401, b.k401),
    }
}

/// What paying a paycheck adds to year-to-date: `after − before`.
pub fn ytd_delta(before: &Ytd, after: &Ytd) -> Ytd {
    ytd_zip(after, before, |a, b| a - b)
}

/// `a + b`, field by field.
pub fn ytd_add(a: &Ytd, b: &Ytd) -> Ytd {
    ytd_zip(a, b, |x, y| x + y)
}

/// The reversal of a delta (voiding a paid paycheck).
pub fn ytd_negate(y: &Ytd) -> Ytd {
    ytd_map(y, |x| -x)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn the_happy_path_is_allowed() {
        let mut s = RunStatus::Draft;
        for a in [
            RunAction::Calculate,
            RunAction::Complete,
            RunAction::Approve,
            RunAction::Pay,
        ] {
            s = transition(s, a).unwrap();
        }
        assert_eq!(s, RunStatus::Paid);
    }

    #[test]
    fn paid_runs_are_never_edited() {
        for a in [
            RunAction::Calculate,
            RunAction::Complete,
            RunAction::Approve,
            RunAction::Pay,
            RunAction::Fail,
        ] {
            assert_eq!(
                transition(RunStatus::Paid, a),
                Err(TransitionError {
                    from: RunStatus::Paid,
                    action: a
                })
            );
        }
        // A void of a paid run leaves it paid (a reversal run is created instead).
        assert_eq!(
            transition(RunStatus::Paid, RunAction::Void),
            Ok(RunStatus::Paid)
        );
    }

    #[test]
    fn approval_needs_a_calculated_run_and_pay_an_approved_one() {
        assert!(transition(RunStatus::Draft, RunAction::Approve).is_err());
        assert!(transition(RunStatus::Calculating, RunAction::Approve).is_err());
        assert!(transition(RunStatus::Calculated, RunAction::Pay).is_err());
        assert_eq!(
            transition(RunStatus::Approved, RunAction::Calculate)
                .unwrap_err()
                .to_string(),
            "a approved run cannot be asked to calculate"
        );
        assert_eq!(
            transition(RunStatus::Calculated, RunAction::Calculate),
            Ok(RunStatus::Calculating)
        );
        assert_eq!(
            transition(RunStatus::Approved, RunAction::Void),
            Ok(RunStatus::Voided)
        );
        assert!(transition(RunStatus::Voided, RunAction::Void).is_err());
    }

    #[test]
    fn statuses_and_types_round_trip_as_lower_case() {
        for s in RunStatus::ALL {
            assert_eq!(RunStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::Value::String(s.as_str().into())
            );
        }
        assert_eq!(RunType::parse("off_cycle"), Some(RunType::OffCycle));
        assert_eq!(RunType::parse("OFF_CYCLE"), None);
        assert!(!RunStatus::Voided.is_active());
        assert!(!RunStatus::Failed.is_active());
        assert!(RunStatus::Paid.is_active());
    }

    #[test]
    fn canonical_text_sorts_by_employee() {
        let items = vec![
            ("b".to_owned(), "i2".to_owned(), "r2".to_owned()),
            ("a".to_owned(), "i1".to_owned(), "r1".to_owned()),
        ];
        assert_eq!(canonical_text(&items), "a:i1:r1\nb:i2:r2\n");
    }

    #[test]
    fn ytd_delta_and_reversal_net_to_zero() {
        let before = Ytd {
            gross: dec!(1000.00),
            k401: dec!(50.00),
            ..Ytd::default()
        };
        let after = Ytd {
            gross: dec!(1812.50),
            k401: dec!(90.63),
            ..Ytd::default()
        };
        let d = ytd_delta(&before, &after);
        assert_eq!(d.gross, dec!(812.50));
        assert_eq!(d.k401, dec!(40.63));
        assert_eq!(ytd_add(&before, &d), after);
        assert_eq!(ytd_add(&after, &ytd_negate(&d)), before);
    }
}
