//! Earnings: time entries classified into regular/overtime/double time at the FLSA regular rate,
//! salary, supplemental pay, paid leave, tips with tip credit and minimum-wage make-up.
//! (Placeholder: being written.)

use crate::error::CalcError;
use crate::request::{OvertimeRules, PaycheckRequest};
use crate::response::{EarningLine, HoursSummary};
use crate::rules::FederalPack;
use crate::state::StatePack;
use crate::trace::LineTrace;

pub struct EarningsContext<'a> {
    pub req: &'a PaycheckRequest,
    pub federal: &'static FederalPack,
    pub work_state: &'static StatePack,
    pub overtime_rules: OvertimeRules,
}

pub struct EarningsOutcome {
    pub lines: Vec<EarningLine>,
    pub traces: Vec<LineTrace>,
    pub hours: HoursSummary,
}

pub fn compute(_ctx: &EarningsContext) -> Result<EarningsOutcome, CalcError> {
    Err(CalcError::Invariant("earnings not implemented yet".into()))
}
