//! The paycheck result: lines, totals and the trace that explains them.

use crate::money::{ser_money, ser_money_opt};
use crate::request::{DeductionType, EarningType, GarnishmentType, PayFrequency, Ytd};
use crate::trace::{LineTrace, Str};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarningLine {
    #[serde(rename = "type")]
    pub kind: EarningType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_money_opt"
    )]
    pub hours: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_money_opt"
    )]
    pub rate: Option<Decimal>,
    #[serde(serialize_with = "ser_money")]
    pub amount: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Payer {
    Employee,
    Employer,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxLine {
    /// `US_FIT`, `US_SS`, `CA_SIT`, `CA_SDI`, `TX_SUI`, ...
    pub code: Str,
    pub payer: Payer,
    #[serde(serialize_with = "ser_money")]
    pub taxable_wages: Decimal,
    /// Amount withheld (employee) or owed (employer) this period.
    #[serde(serialize_with = "ser_money")]
    pub amount: Decimal,
    /// Employee tax that could not be withheld because pay ran short (reported, e.g. W-2 box 12 A/B).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_money_opt"
    )]
    pub uncollected: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeductionLine {
    #[serde(rename = "type")]
    pub kind: DeductionType,
    pub pre_tax: bool,
    #[serde(serialize_with = "ser_money")]
    pub amount: Decimal,
    /// Part of the requested amount not taken (annual limit reached or pay too short).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_money_opt"
    )]
    pub not_taken: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GarnishmentLine {
    #[serde(rename = "type")]
    pub kind: GarnishmentType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(serialize_with = "ser_money")]
    pub amount: Decimal,
    /// Processing fee withheld with the garnishment, included in `amount`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_money_opt"
    )]
    pub fee: Option<Decimal>,
    /// What the order asked for this period, before CCPA limits.
    #[serde(serialize_with = "ser_money")]
    pub ordered: Decimal,
}

/// Hours by class, summed over the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HoursSummary {
    #[serde(serialize_with = "ser_money")]
    pub regular: Decimal,
    #[serde(serialize_with = "ser_money")]
    pub overtime: Decimal,
    #[serde(serialize_with = "ser_money")]
    pub double_time: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaycheckResult {
    pub pay_date: NaiveDate,
    pub pay_frequency: PayFrequency,
    #[serde(serialize_with = "ser_money")]
    pub gross_pay: Decimal,
    #[serde(serialize_with = "ser_money")]
    pub net_pay: Decimal,
    /// Gross pay plus employer taxes.
    #[serde(serialize_with = "ser_money")]
    pub employer_cost: Decimal,
    pub hours: HoursSummary,
    pub earnings: Vec<EarningLine>,
    pub taxes: Vec<TaxLine>,
    pub deductions: Vec<DeductionLine>,
    pub garnishments: Vec<GarnishmentLine>,
    /// Year-to-date after this paycheck (the request's `ytd` plus this paycheck).
    pub ytd_after: Ytd,
    /// Rule packs used, e.g. `US-2025@2025.1`, `CA-2025@2025.1`.
    pub rule_packs: Vec<Str>,
    pub trace: Vec<LineTrace>,
}

impl PaycheckResult {
    /// Employee tax withheld for `code`, if the line exists.
    pub fn tax(&self, code: &str) -> Option<&TaxLine> {
        self.taxes.iter().find(|t| t.code == code)
    }
}
