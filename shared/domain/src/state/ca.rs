//! California: EDD DE 44 "Method B – Exact Calculation", annualized, and the employee SDI line.
//!
//! Method B on annualized regular wages: (1) at or below the low-income exemption (Table 1) no tax;
//! (2) less $1,000 per DE 4 estimated-deduction allowance (Table 2); (3) less the standard deduction
//! (Table 3); (4) tax from the rate table for the filing status (Table 5, published add-ons);
//! (5) less the exemption-allowance credit × regular allowances (Table 4); floor 0; ÷ periods.
//! Supplemental wages are withheld at the flat supplemental rates (bonus vs other).

use super::{
    StateOptions, StateTaxInput, Status, WageBasis, allowance_count, filing_status,
    finish_income_tax, sit_code, sit_line, state_wages, trace_for, trace_wages,
};
use crate::error::CalcError;
use crate::response::{Payer, TaxLine};
use crate::rules::{Param, Row, apply_table, validate_table};
use crate::trace::{Label, LineTrace};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// DE 44 Table 5: annual rate tables (rows "over / base (add-on) / rate").
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CaTables {
    pub source: String,
    /// Single, dual-income married, married with multiple employers.
    pub single: Vec<Row>,
    pub married: Vec<Row>,
    /// Unmarried head of household.
    pub head_of_household: Vec<Row>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CaRules {
    /// California PIT wages.
    pub wages: WageBasis,
    pub wages_source: String,
    /// Table 1, annual: single and married with 0 or 1 regular allowance.
    pub low_income_exemption_low: Param,
    /// Table 1, annual: married with 2 or more allowances, and head of household.
    pub low_income_exemption_high: Param,
    /// Table 2: annual amount per DE 4 estimated-deduction (additional) allowance.
    pub estimated_deduction_allowance: Param,
    /// Table 3, annual: single and married with 0 or 1 allowance.
    pub standard_deduction_low: Param,
    /// Table 3, annual: married with 2 or more allowances, and head of household.
    pub standard_deduction_high: Param,
    /// Table 4: annual tax credit per regular allowance.
    pub exemption_allowance_credit: Param,
    /// Flat rate for bonuses and stock options.
    pub supplemental_bonus_rate: Param,
    /// Flat rate for other supplemental wages.
    pub supplemental_rate: Param,
    /// Employee State Disability Insurance rate.
    pub sdi_rate: Param,
    /// SDI taxable wage ceiling per year; absent: no ceiling.
    #[serde(default)]
    pub sdi_wage_base: Option<Param>,
    pub sdi_wages: WageBasis,
    pub sdi_wages_source: String,
    pub tables: CaTables,
}

impl CaRules {
    pub fn validate(&self) -> Result<(), String> {
        super::check_source("wages_source", &self.wages_source)?;
        super::check_source("sdi_wages_source", &self.sdi_wages_source)?;
        for (n, p) in [
            ("low_income_exemption_low", &self.low_income_exemption_low),
            ("low_income_exemption_high", &self.low_income_exemption_high),
            (
                "estimated_deduction_allowance",
                &self.estimated_deduction_allowance,
            ),
            ("standard_deduction_low", &self.standard_deduction_low),
            ("standard_deduction_high", &self.standard_deduction_high),
            (
                "exemption_allowance_credit",
                &self.exemption_allowance_credit,
            ),
        ] {
            super::check_amount(n, p)?;
        }
        for (n, p) in [
            ("supplemental_bonus_rate", &self.supplemental_bonus_rate),
            ("supplemental_rate", &self.supplemental_rate),
            ("sdi_rate", &self.sdi_rate),
        ] {
            super::check_rate(n, p)?;
        }
        if let Some(b) = &self.sdi_wage_base {
            super::check_amount("sdi_wage_base", b)?;
        }
        super::check_source("tables.source", &self.tables.source)?;
        validate_table("withholding.tables.single", &self.tables.single)?;
        validate_table("withholding.tables.married", &self.tables.married)?;
        validate_table(
            "withholding.tables.head_of_household",
            &self.tables.head_of_household,
        )
    }

    pub fn sources(&self) -> Vec<String> {
        let mut v: Vec<String> = [
            &self.low_income_exemption_low,
            &self.low_income_exemption_high,
            &self.estimated_deduction_allowance,
            &self.standard_deduction_low,
            &self.standard_deduction_high,
            &self.exemption_allowance_credit,
            &self.supplemental_bonus_rate,
            &self.supplemental_rate,
            &self.sdi_rate,
        ]
        .iter()
        .map(|p| p.source.clone())
        .collect();
        v.extend(self.sdi_wage_base.iter().map(|p| p.source.clone()));
        v.push(self.wages_source.clone());
        v.push(self.sdi_wages_source.clone());
        v.push(self.tables.source.clone());
        v
    }
}

pub(super) fn withhold(
    input: &StateTaxInput,
    opts: &StateOptions,
    r: &'static CaRules,
    out: &mut crate::federal::TaxOut,
) -> Result<(), CalcError> {
    let sit = income_tax(input, opts, r)?;
    out.push(sit);
    out.push(sdi(input, r));
    Ok(())
}

fn income_tax(
    input: &StateTaxInput,
    opts: &StateOptions,
    r: &'static CaRules,
) -> Result<(TaxLine, LineTrace), CalcError> {
    let z = Decimal::ZERO;
    let status = filing_status(input)?;
    let regular_allowances =
        allowance_count(input, "allowances", input.w4.and_then(|w| w.allowances))?;
    let estimated_allowances = allowance_count(
        input,
        "additional_allowances",
        input.w4.and_then(|w| w.additional_allowances),
    )?;
    let code = sit_code(input.state);
    let w = state_wages(input, r.wages);
    let mut t = trace_for(input, sit_line(input.state), "state.ca.de44.method_b");
    t.reserve(10, 8, 20);
    trace_wages(&mut t, input, r.wages, &w);
    t.param_value("wage_basis", r.wages.as_str(), r.wages_source.as_str());
    t.input("filing_status", status.as_str())
        .input("allowances", Decimal::from(regular_allowances))
        .input("additional_allowances", Decimal::from(estimated_allowances));
    if input.w4.is_none() {
        t.step("no_de4_on_file", "withheld as single with 0 allowances");
    }
    let periods = input.frequency.periods_per_year();
    let high = match status {
        Status::Single => false,
        Status::Married => regular_allowances >= 2,
        Status::HeadOfHousehold => true,
    };

    // Regular wages: Method B, annualized.
    let annual = crate::money::mul(w.regular, periods);
    t.step("annual_regular_wages", annual);
    let (low_income, std_ded) = if high {
        (&r.low_income_exemption_high, &r.standard_deduction_high)
    } else {
        (&r.low_income_exemption_low, &r.standard_deduction_low)
    };
    t.param("low_income_exemption", low_income);
    let regular_tax = if annual <= low_income.value {
        t.step("low_income_exempt", true);
        z
    } else {
        t.step("low_income_exempt", false);
        let est = crate::money::mul(
            Decimal::from(estimated_allowances),
            r.estimated_deduction_allowance.value,
        );
        t.param(
            "estimated_deduction_allowance",
            &r.estimated_deduction_allowance,
        )
        .step("estimated_deduction", est);
        t.param("standard_deduction", std_ded);
        let taxable = crate::money::max(
            crate::money::sub(crate::money::sub(annual, est), std_ded.value),
            z,
        );
        t.step("annual_taxable_income", taxable);
        let (rows, table_name) = match status {
            Status::Single => (&r.tables.single, "single"),
            Status::Married => (&r.tables.married, "married"),
            Status::HeadOfHousehold => (&r.tables.head_of_household, "head_of_household"),
        };
        let (row, tax) = apply_table(rows, taxable);
        t.param_value("rate_table", table_name, r.tables.source.as_str());
        if let Some(row) = row {
            t.step("table_row_over", row.over)
                .step("table_row_add_on", row.base)
                .step("table_row_rate", row.rate);
        }
        t.step("annual_tax_before_credit", tax);
        let credit = crate::money::mul(
            Decimal::from(regular_allowances),
            r.exemption_allowance_credit.value,
        );
        t.param("exemption_allowance_credit", &r.exemption_allowance_credit)
            .step("exemption_credit", credit);
        let annual_tax = crate::money::max(crate::money::sub(tax, credit), z);
        t.step("annual_tax", annual_tax);
        annual_tax / periods
    };
    t.step("period_tax_regular", regular_tax);

    // Supplemental wages: flat rates.
    let mut supplemental_tax = z;
    if crate::money::is_positive(w.supplemental) {
        let bonus = opts
            .bonus
            .map(|b| b.clamp(z, w.supplemental))
            .unwrap_or(w.supplemental);
        let other = w.supplemental - bonus;
        if opts.bonus.is_none() {
            t.step(
                "supplemental_split",
                "bonus part not given: all supplemental wages withheld at the bonus rate",
            );
        }
        t.param("supplemental_bonus_rate", &r.supplemental_bonus_rate)
            .param("supplemental_rate", &r.supplemental_rate);
        supplemental_tax =
            bonus * r.supplemental_bonus_rate.value + other * r.supplemental_rate.value;
        t.step("supplemental_bonus_wages", bonus)
            .step("supplemental_other_wages", other)
            .step("period_tax_supplemental", supplemental_tax);
    }
    Ok(finish_income_tax(
        input,
        code,
        t,
        w.total,
        regular_tax + supplemental_tax,
    ))
}

fn sdi(input: &StateTaxInput, r: &'static CaRules) -> (TaxLine, LineTrace) {
    let z = Decimal::ZERO;
    let code: Cow<'static, str> = Cow::Borrowed("CA_SDI");
    let w = state_wages(input, r.sdi_wages);
    let mut t = trace_for(input, Label::Static("tax:CA_SDI"), "state.ca.sdi");
    t.reserve(4, 3, 4);
    t.input("wages", input.wages)
        .input("pretax_section_125", input.pretax.section_125)
        .input("pretax_hsa", input.pretax.hsa)
        .input("ytd_sdi_wages", input.ytd.sdi_wages);
    t.param_value(
        "wage_basis",
        r.sdi_wages.as_str(),
        r.sdi_wages_source.as_str(),
    );
    t.step("sdi_wages", w.total);
    let taxable = match &r.sdi_wage_base {
        Some(base) => {
            t.param("sdi_wage_base", base);
            crate::money::min(
                w.total,
                crate::money::max(base.value - input.ytd.sdi_wages, z),
            )
        }
        None => {
            t.step("sdi_wage_base", "no taxable wage limit");
            w.total
        }
    };
    t.param("sdi_rate", &r.sdi_rate)
        .step("taxable_wages", taxable);
    if input.w4.is_some_and(|w| w.exempt) {
        t.step(
            "exempt_not_applicable",
            "DE 4 exemption covers income tax only; SDI still applies",
        );
    }
    let amount = t.round(crate::money::mul(taxable, r.sdi_rate.value));
    (
        TaxLine {
            code,
            payer: Payer::Employee,
            taxable_wages: crate::money::cents(taxable),
            amount,
            uncollected: None,
        },
        t,
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::super::tests::Case;
    use super::super::{StateOptions, StateRole};
    use rust_decimal::dec;

    // 2025, single, 1 allowance, biweekly 2,000 (the reference example):
    // 2,000 × 26 = 52,000 > 18,355 low-income exemption; − 5,540 = 46,460;
    // 1,091.49 + 6.6% × (46,460 − 40,245 = 6,215) = 1,091.49 + 410.19 = 1,501.68;
    // − 163.90 = 1,337.78; ÷ 26 = 51.4531 → 51.45. SDI 1.2% × 2,000 = 24.00.
    #[test]
    fn ca_2025_single_one_allowance() {
        let c =
            Case::new("CA", 2025, dec!(2000)).w4(r#"{"filing_status":"single","allowances":1}"#);
        assert_eq!(c.amount("CA_SIT"), dec!(51.45));
        assert_eq!(c.amount("CA_SDI"), dec!(24.00));
        let lines = c.run().unwrap();
        let t = &lines[0].1;
        assert_eq!(t.rule, "state.ca.de44.method_b");
        assert!(
            t.steps().any(
                |(k, v)| k == "low_income_exempt" && v == crate::trace::TraceValue::Flag(false)
            )
        );
    }

    // 2026, same employee: 52,000 − 5,706 = 46,294; row 41,452: 1,124.21 + 6.6% × 4,842
    // (= 319.572) = 1,443.782; − 168.30 = 1,275.482; ÷ 26 = 49.0570 → 49.06.
    // SDI 1.3% × 2,000 = 26.00.
    #[test]
    fn ca_2026_single_one_allowance() {
        let c =
            Case::new("CA", 2026, dec!(2000)).w4(r#"{"filing_status":"single","allowances":1}"#);
        assert_eq!(c.amount("CA_SIT"), dec!(49.06));
        assert_eq!(c.amount("CA_SDI"), dec!(26.00));
    }

    // 2026, married, 3 allowances, 1 estimated-deduction allowance, semimonthly 5,000:
    // 120,000 − 1,000 − 11,412 = 107,588; married row 82,904: 2,248.42 + 6.6% × 24,684
    // (= 1,629.144) = 3,877.564; − 3 × 168.30 = 504.90 → 3,372.664; ÷ 24 = 140.5277 → 140.53.
    #[test]
    fn ca_2026_married() {
        let mut c = Case::new("CA", 2026, dec!(5000))
            .w4(r#"{"filing_status":"married","allowances":3,"additional_allowances":1}"#);
        c.freq = crate::request::PayFrequency::Semimonthly;
        assert_eq!(c.amount("CA_SIT"), dec!(140.53));
    }

    // No DE 4: single, 0 allowances (2025): 46,460 → 1,501.68 ÷ 26 = 57.7569 → 57.76.
    // Low income: biweekly 700 → 18,200 ≤ 18,355 → 0.00 (SDI still 8.40).
    #[test]
    fn ca_defaults_and_low_income() {
        assert_eq!(
            Case::new("CA", 2025, dec!(2000)).amount("CA_SIT"),
            dec!(57.76)
        );
        let c = Case::new("CA", 2025, dec!(700));
        assert_eq!(c.amount("CA_SIT"), dec!(0.00));
        assert_eq!(c.amount("CA_SDI"), dec!(8.40));
    }

    // Exempt: no income tax, SDI still withheld.
    #[test]
    fn ca_exempt_keeps_sdi() {
        let c = Case::new("CA", 2025, dec!(2000)).w4(r#"{"exempt":true,"allowances":1}"#);
        assert_eq!(c.amount("CA_SIT"), dec!(0.00));
        assert_eq!(c.amount("CA_SDI"), dec!(24.00));
    }

    // Wages: 401(k) 100, section 125 50, HSA 30 on 2,000 (2025, single, 1 allowance).
    // PIT wages = 2,000 − 100 − 50 = 1,850 (HSA stays taxable): 48,100 − 5,540 = 42,560;
    // 1,091.49 + 6.6% × 2,315 (= 152.79) = 1,244.28; − 163.90 = 1,080.38; ÷ 26 = 41.5531 → 41.55.
    // SDI wages = 2,000 − 50 − 30 = 1,920 (401(k) stays SDI-taxable): × 1.2% = 23.04.
    #[test]
    fn ca_wage_bases() {
        let mut c = Case::new("CA", 2025, dec!(2000)).w4(r#"{"allowances":1}"#);
        c.pre.elective_deferrals = dec!(100);
        c.pre.section_125 = dec!(50);
        c.pre.hsa = dec!(30);
        let lines = c.run().unwrap();
        assert_eq!(lines[0].0.taxable_wages, dec!(1850));
        assert_eq!(lines[0].0.amount, dec!(41.55));
        assert_eq!(lines[1].0.taxable_wages, dec!(1920));
        assert_eq!(lines[1].0.amount, dec!(23.04));
    }

    // Supplemental (2025): regular 2,000 as above (51.45) + bonus 1,000 × 10.23% = 102.30
    // → 153.75 exact 153.7531 → 153.75. If 400 of it is a bonus and 600 commission:
    // 400 × 10.23% + 600 × 6.6% = 40.92 + 39.60 = 80.52; 51.4531 + 80.52 = 131.9731 → 131.97.
    #[test]
    fn ca_supplemental_rates() {
        let mut c = Case::new("CA", 2025, dec!(3000)).w4(r#"{"allowances":1}"#);
        c.supplemental = dec!(1000);
        assert_eq!(c.amount("CA_SIT"), dec!(153.75));
        let lines = c
            .run_with(&StateOptions {
                role: StateRole::Work,
                bonus: Some(dec!(400)),
            })
            .unwrap();
        assert_eq!(lines[0].0.amount, dec!(131.97));
    }

    // Head of household 2025, biweekly 3,000, 2 allowances: 78,000 − 11,080 = 66,920;
    // HoH row 65,744: 1,533.95 + 6.6% × 1,176 (= 77.616) = 1,611.566; − 327.80 = 1,283.766;
    // ÷ 26 = 49.3756 → 49.38. Extra 5.00 → 54.38.
    #[test]
    fn ca_head_of_household_with_extra() {
        let c = Case::new("CA", 2025, dec!(3000)).w4(
            r#"{"filing_status":"head_of_household","allowances":2,"extra_withholding":"5.00"}"#,
        );
        assert_eq!(c.amount("CA_SIT"), dec!(54.38));
    }

    #[test]
    fn ca_rejects_bad_status() {
        let c = Case::new("CA", 2025, dec!(2000)).w4(r#"{"filing_status":"widow"}"#);
        assert_eq!(c.run().unwrap_err().field(), "state_w4.CA.filing_status");
        let c = Case::new("CA", 2025, dec!(2000)).w4(r#"{"allowances":500}"#);
        assert_eq!(c.run().unwrap_err().field(), "state_w4.CA.allowances");
    }
}
