//! State income tax withholding and employee payroll taxes (SDI). (Placeholder.)

use crate::deductions::PreTaxOutcome;
use crate::error::CalcError;
use crate::request::{PayFrequency, StateCode, StateW4, Ytd};
use crate::response::TaxLine;
use crate::state::StatePack;
use crate::trace::LineTrace;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StateTaxRules {
    /// No wage income tax.
    None { source: String },
}

impl StateTaxRules {
    pub fn validate(&self) -> Result<(), String> {
        Ok(())
    }
    pub fn sources(&self) -> Vec<String> {
        match self {
            StateTaxRules::None { source } => vec![source.clone()],
        }
    }
    pub fn has_income_tax(&self) -> bool {
        !matches!(self, StateTaxRules::None { .. })
    }
}

pub struct StateTaxInput<'a> {
    pub state: StateCode,
    pub pack: &'static StatePack,
    pub pay_date: NaiveDate,
    pub frequency: PayFrequency,
    /// Wages this period before pre-tax deductions (reimbursements excluded).
    pub wages: Decimal,
    /// The supplemental part of `wages` (bonus, commission, retro).
    pub supplemental: Decimal,
    pub pretax: &'a PreTaxOutcome,
    pub w4: Option<&'a StateW4>,
    pub ytd: &'a Ytd,
    /// Resident state only: tax withheld for the work state this period, credited against it.
    pub other_state_credit: Decimal,
}

pub fn withhold(_input: &StateTaxInput) -> Result<Vec<(TaxLine, LineTrace)>, CalcError> {
    Err(CalcError::Invariant("state withholding not implemented yet".into()))
}
