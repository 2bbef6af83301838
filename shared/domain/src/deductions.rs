//! Pre-tax and post-tax deductions with their wage bases and annual limits. (Placeholder.)

use crate::error::CalcError;
use crate::request::PaycheckRequest;
use crate::response::DeductionLine;
use crate::rules::FederalPack;
use crate::trace::LineTrace;
use rust_decimal::Decimal;

#[derive(Debug, Default)]
pub struct PreTaxOutcome {
    pub lines: Vec<DeductionLine>,
    pub traces: Vec<LineTrace>,
    /// 401(k)/403(b)/457(b): reduce income-tax wages only.
    pub elective_deferrals: Decimal,
    /// Section 125 premiums, health FSA, dependent care: reduce income-tax, FICA and FUTA wages.
    pub section_125: Decimal,
    /// HSA through a cafeteria plan: like section 125 federally (some states tax it).
    pub hsa: Decimal,
}

impl PreTaxOutcome {
    pub fn total(&self) -> Decimal {
        self.elective_deferrals + self.section_125 + self.hsa
    }
}

pub fn pre_tax(
    _req: &PaycheckRequest,
    _fed: &'static FederalPack,
    _wages: Decimal,
    _available: Decimal,
) -> Result<PreTaxOutcome, CalcError> {
    Err(CalcError::Invariant("deductions not implemented yet".into()))
}

pub fn post_tax(
    _req: &PaycheckRequest,
    _fed: &'static FederalPack,
    _wages: Decimal,
    _available: Decimal,
) -> Result<(Vec<DeductionLine>, Vec<LineTrace>), CalcError> {
    Err(CalcError::Invariant("deductions not implemented yet".into()))
}
