//! Garnishments in priority order with CCPA limits. (Placeholder.)

use crate::error::CalcError;
use crate::request::{GarnishmentInput, PayFrequency};
use crate::response::GarnishmentLine;
use crate::rules::FederalPack;
use crate::trace::LineTrace;
use rust_decimal::Decimal;

pub struct GarnishContext<'a> {
    pub orders: &'a [GarnishmentInput],
    pub federal: &'static FederalPack,
    pub frequency: PayFrequency,
    /// Disposable earnings: wages (without tips and reimbursements) minus employee taxes.
    pub disposable: Decimal,
    /// Cash left in the paycheck that garnishments may take.
    pub available: Decimal,
}

pub fn compute(_ctx: &GarnishContext) -> Result<(Vec<GarnishmentLine>, Vec<LineTrace>), CalcError> {
    Err(CalcError::Invariant("garnishments not implemented yet".into()))
}
