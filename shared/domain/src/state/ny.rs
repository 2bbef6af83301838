//! New York State: NYS-50-T-NYS Method II (exact calculation), annualized.
//!
//! Annual regular wages less the deduction allowance (single/head of household or married) and
//! $1,000 per IT-2104 allowance, then the NYS withholding schedule (published add-ons, including
//! the high-income recapture rows); at or above the top threshold a flat rate applies to all net
//! wages. ÷ periods. Supplemental wages at the supplemental withholding rate.
//!
//! Out of scope: New York City and Yonkers resident taxes (NYS-50-T-NYC, NYS-50-T-Y), the Yonkers
//! nonresident earnings tax, NY SDI and NY Paid Family Leave.

use super::{
    StateTaxInput, Status, WageBasis, allowance_count, filing_status, finish_income_tax, sit_code,
    sit_line, state_wages, trace_for, trace_wages,
};
use crate::error::CalcError;
use crate::response::TaxLine;
use crate::rules::{Param, Row, apply_table, validate_table};
use crate::trace::LineTrace;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// At or above `at_least` annual net wages, withhold `rate` × all net wages.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TopRate {
    pub at_least: Decimal,
    pub rate: Decimal,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NyTables {
    pub source: String,
    /// Single and head of household.
    pub single: Vec<Row>,
    pub single_top: Vec<TopRate>,
    pub married: Vec<Row>,
    pub married_top: Vec<TopRate>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NyRules {
    pub wages: WageBasis,
    pub wages_source: String,
    /// Table A deduction allowance, annual: single and head of household.
    pub deduction_allowance_single: Param,
    /// Table A deduction allowance, annual: married.
    pub deduction_allowance_married: Param,
    /// Annual amount per IT-2104 allowance (exemption).
    pub exemption_allowance: Param,
    pub supplemental_rate: Param,
    pub tables: NyTables,
}

fn validate_top(name: &str, rows: &[TopRate]) -> Result<(), String> {
    for r in rows {
        if r.rate < Decimal::ZERO || r.rate > Decimal::ONE || r.at_least <= Decimal::ZERO {
            return Err(format!("{name}: bad row at {}", r.at_least));
        }
    }
    for w in rows.windows(2) {
        if w[1].at_least <= w[0].at_least {
            return Err(format!("{name}: rows out of order at {}", w[1].at_least));
        }
    }
    Ok(())
}

impl NyRules {
    pub fn validate(&self) -> Result<(), String> {
        super::check_source("wages_source", &self.wages_source)?;
        super::check_amount(
            "deduction_allowance_single",
            &self.deduction_allowance_single,
        )?;
        super::check_amount(
            "deduction_allowance_married",
            &self.deduction_allowance_married,
        )?;
        super::check_amount("exemption_allowance", &self.exemption_allowance)?;
        super::check_rate("supplemental_rate", &self.supplemental_rate)?;
        super::check_source("tables.source", &self.tables.source)?;
        validate_table("withholding.tables.single", &self.tables.single)?;
        validate_table("withholding.tables.married", &self.tables.married)?;
        validate_top("withholding.tables.single_top", &self.tables.single_top)?;
        validate_top("withholding.tables.married_top", &self.tables.married_top)
    }

    pub fn sources(&self) -> Vec<String> {
        vec![
            self.wages_source.clone(),
            self.deduction_allowance_single.source.clone(),
            self.deduction_allowance_married.source.clone(),
            self.exemption_allowance.source.clone(),
            self.supplemental_rate.source.clone(),
            self.tables.source.clone(),
        ]
    }
}

pub(super) fn withhold(
    input: &StateTaxInput,
    r: &'static NyRules,
) -> Result<(TaxLine, LineTrace), CalcError> {
    let z = Decimal::ZERO;
    let status = filing_status(input)?;
    let allowances = allowance_count(input, "allowances", input.w4.and_then(|w| w.allowances))?;
    let code = sit_code(input.state);
    let w = state_wages(input, r.wages);
    let mut t = trace_for(input, sit_line(input.state), "state.ny.nys50t.method_ii");
    t.reserve(9, 5, 16);
    trace_wages(&mut t, input, r.wages, &w);
    t.param_value("wage_basis", r.wages.as_str(), r.wages_source.as_str());
    t.input("filing_status", status.as_str())
        .input("allowances", Decimal::from(allowances));
    if input.w4.is_none() {
        t.step("no_it2104_on_file", "withheld as single with 0 allowances");
    }
    if input.w4.and_then(|w| w.additional_allowances).is_some() {
        t.step(
            "additional_allowances_not_used",
            "IT-2104 has one allowance count; use allowances",
        );
    }
    t.step(
        "scope",
        "New York State only; NYC and Yonkers taxes are not computed",
    );
    let periods = input.frequency.periods_per_year();
    let (deduction, rows, top, table_name) = match status {
        Status::Married => (
            &r.deduction_allowance_married,
            &r.tables.married,
            &r.tables.married_top,
            "married",
        ),
        Status::Single | Status::HeadOfHousehold => (
            &r.deduction_allowance_single,
            &r.tables.single,
            &r.tables.single_top,
            "single",
        ),
    };
    let annual = w.regular * periods;
    let exemptions = Decimal::from(allowances) * r.exemption_allowance.value;
    t.step("annual_regular_wages", annual)
        .param("deduction_allowance", deduction)
        .param("exemption_allowance", &r.exemption_allowance)
        .step("exemptions", exemptions);
    let net = (annual - deduction.value - exemptions).max(z);
    t.step("annual_net_wages", net);
    t.param_value("rate_table", table_name, r.tables.source.as_str());
    let annual_tax = match top.iter().rev().find(|row| net >= row.at_least) {
        Some(row) => {
            t.step("top_rate_threshold", row.at_least)
                .step("top_rate", row.rate);
            net * row.rate
        }
        None => {
            let (row, tax) = apply_table(rows, net);
            if let Some(row) = row {
                t.step("table_row_over", row.over)
                    .step("table_row_add_on", row.base)
                    .step("table_row_rate", row.rate);
            }
            tax
        }
    };
    t.step("annual_tax", annual_tax);
    let regular_tax = annual_tax / periods;
    t.step("period_tax_regular", regular_tax);
    let mut supplemental_tax = z;
    if w.supplemental > z {
        t.param("supplemental_rate", &r.supplemental_rate);
        supplemental_tax = w.supplemental * r.supplemental_rate.value;
        t.step("period_tax_supplemental", supplemental_tax);
    }
    Ok(finish_income_tax(
        input,
        code,
        t,
        w.total,
        regular_tax + supplemental_tax,
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::super::tests::Case;
    use crate::request::PayFrequency;
    use rust_decimal::dec;

    // 2025, single, 0 allowances, biweekly 2,000: 52,000 − 7,400 = 44,600;
    // row 13,900: 600 + 5.5% × 30,700 (= 1,688.50) = 2,288.50; ÷ 26 = 88.0192 → 88.02.
    #[test]
    fn ny_2025_single() {
        assert_eq!(
            Case::new("NY", 2025, dec!(2000)).amount("NY_SIT"),
            dec!(88.02)
        );
        let c = Case::new("NY", 2025, dec!(2000)).w4(r#"{"filing_status":"single"}"#);
        assert_eq!(c.amount("NY_SIT"), dec!(88.02));
    }

    // 2026 (rates cut 0.1 point): 44,600 → 586 + 5.4% × 30,700 (= 1,657.80) = 2,243.80;
    // ÷ 26 = 86.30.
    #[test]
    fn ny_2026_single() {
        assert_eq!(
            Case::new("NY", 2026, dec!(2000)).amount("NY_SIT"),
            dec!(86.30)
        );
    }

    // 2026, married, 2 allowances, weekly 1,500: 78,000 − 7,950 − 2,000 = 68,050;
    // 586 + 5.4% × 54,150 (= 2,924.10) = 3,510.10; ÷ 52 = 67.5019 → 67.50.
    #[test]
    fn ny_2026_married() {
        let mut c =
            Case::new("NY", 2026, dec!(1500)).w4(r#"{"filing_status":"married","allowances":2}"#);
        c.freq = PayFrequency::Weekly;
        assert_eq!(c.amount("NY_SIT"), dec!(67.50));
    }

    // 2025, head of household (single table), 1 allowance, semimonthly 4,000:
    // 96,000 − 7,400 − 1,000 = 87,600; row 80,650: 4,271 + 6% × 6,950 (= 417) = 4,688;
    // ÷ 24 = 195.3333 → 195.33.
    #[test]
    fn ny_head_of_household_uses_single_table() {
        let mut c = Case::new("NY", 2025, dec!(4000))
            .w4(r#"{"filing_status":"head_of_household","allowances":1}"#);
        c.freq = PayFrequency::Semimonthly;
        assert_eq!(c.amount("NY_SIT"), dec!(195.33));
    }

    // 2025, single, monthly 100,000: 1,200,000 − 7,400 = 1,192,600 ≥ 1,077,550 → 10.45% of all
    // net wages = 124,626.70; ÷ 12 = 10,385.5583 → 10,385.56.
    #[test]
    fn ny_top_rate() {
        let mut c = Case::new("NY", 2025, dec!(100000));
        c.freq = PayFrequency::Monthly;
        assert_eq!(c.amount("NY_SIT"), dec!(10385.56));
    }

    // 2026 supplemental: regular 2,000 (86.30) + 1,000 × 11.70% = 117.00 → 203.30.
    #[test]
    fn ny_supplemental_rate() {
        let mut c = Case::new("NY", 2026, dec!(3000));
        c.supplemental = dec!(1000);
        assert_eq!(c.amount("NY_SIT"), dec!(203.30));
    }

    #[test]
    fn ny_rejects_unknown_filing_status() {
        let c = Case::new("NY", 2025, dec!(2000)).w4(r#"{"filing_status":"widow"}"#);
        let e = c.run().unwrap_err();
        assert_eq!(e.field(), "state_w4.NY.filing_status");
        assert_eq!(e.code(), "invalid_request");
    }
}
