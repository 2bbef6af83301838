//! Federal taxes: income tax withholding (Pub 15-T percentage method for automated systems,
//! Worksheet 1A), Social Security, Medicare, Additional Medicare, FUTA, and the state SUI line
//! whose rate and wage base are employer inputs.

use crate::error::CalcError;
use crate::money::{add, cents, max, min, mul, sub};
use crate::request::{
    EmployerSettings, FederalW4, FilingStatus, PayFrequency, StateCode, SupplementalMethod, W4Form,
    Ytd,
};
use crate::response::{Payer, TaxLine};
use crate::rules::{FederalPack, Row, apply_table};
use crate::trace::LineTrace;
use rust_decimal::Decimal;
use rust_decimal::dec;
use std::borrow::Cow;

/// What the income-tax computation needs.
pub struct FitInput<'a> {
    /// `None`: no W-4 on file, withhold as Single with no adjustments (Pub 15 section 9).
    pub w4: Option<&'a FederalW4>,
    pub frequency: PayFrequency,
    /// Income-tax wages this period that are regular (after pre-tax deductions).
    pub regular_wages: Decimal,
    /// Income-tax wages this period that are supplemental (bonus, commission, retro).
    pub supplemental_wages: Decimal,
    /// Supplemental wages paid earlier this year (for the $1,000,000 mandatory rate).
    pub ytd_supplemental: Decimal,
}

const DEFAULT_W4: FederalW4 = FederalW4 {
    form: W4Form::Y2020,
    filing_status: FilingStatus::Single,
    multiple_jobs: false,
    dependents_amount: None,
    other_income: None,
    deductions: None,
    extra_withholding: None,
    allowances: None,
    exempt: false,
    supplemental_method: SupplementalMethod::Flat,
};

/// Check a W-4 for fields that do not belong to its form version, and negative amounts.
pub fn validate_w4(w4: &FederalW4) -> Result<(), CalcError> {
    let f = |name: &str| format!("federal_w4.{name}");
    let new_statuses = matches!(
        w4.filing_status,
        FilingStatus::Single
            | FilingStatus::MarriedFilingJointly
            | FilingStatus::MarriedFilingSeparately
            | FilingStatus::HeadOfHousehold
    );
    match w4.form {
        W4Form::Y2020 => {
            if !new_statuses {
                return Err(CalcError::invalid(
                    f("filing_status"),
                    "the 2020 form takes single, married_filing_jointly, married_filing_separately or head_of_household",
                ));
            }
            if w4.allowances.is_some() {
                return Err(CalcError::invalid(
                    f("allowances"),
                    "allowances exist only on the 2019-or-earlier form",
                ));
            }
        }
        W4Form::Y2019 => {
            if !matches!(
                w4.filing_status,
                FilingStatus::Single | FilingStatus::Married | FilingStatus::MarriedWithholdSingle
            ) {
                return Err(CalcError::invalid(
                    f("filing_status"),
                    "the 2019 form takes single, married or married_withhold_single",
                ));
            }
            for (name, present) in [
                ("multiple_jobs", w4.multiple_jobs),
                ("dependents_amount", w4.dependents_amount.is_some()),
                ("other_income", w4.other_income.is_some()),
                ("deductions", w4.deductions.is_some()),
            ] {
                if present {
                    return Err(CalcError::invalid(
                        f(name),
                        "exists only on the 2020-or-later form",
                    ));
                }
            }
            if w4.allowances.is_some_and(|a| a > 99) {
                return Err(CalcError::invalid(f("allowances"), "must be at most 99"));
            }
        }
    }
    for (name, v) in [
        ("dependents_amount", w4.dependents_amount),
        ("other_income", w4.other_income),
        ("deductions", w4.deductions),
        ("extra_withholding", w4.extra_withholding),
    ] {
        if v.is_some_and(|v| v.is_sign_negative() && !v.is_zero()) {
            return Err(CalcError::invalid(f(name), "must not be negative"));
        }
    }
    Ok(())
}

/// The Worksheet 1A table for the W-4 and its name in the trace (`standard.single`, ...).
fn table<'p>(pack: &'p FederalPack, w4: &FederalW4) -> (&'p [Row], &'static str) {
    let checkbox = w4.form == W4Form::Y2020 && w4.multiple_jobs;
    let set = if checkbox {
        &pack.fit.checkbox
    } else {
        &pack.fit.standard
    };
    match (w4.filing_status, checkbox) {
        (FilingStatus::MarriedFilingJointly | FilingStatus::Married, false) => (
            &set.married_filing_jointly,
            "standard.married_filing_jointly",
        ),
        (FilingStatus::MarriedFilingJointly | FilingStatus::Married, true) => (
            &set.married_filing_jointly,
            "checkbox.married_filing_jointly",
        ),
        (FilingStatus::HeadOfHousehold, false) => {
            (&set.head_of_household, "standard.head_of_household")
        }
        (FilingStatus::HeadOfHousehold, true) => {
            (&set.head_of_household, "checkbox.head_of_household")
        }
        (
            FilingStatus::Single
            | FilingStatus::MarriedFilingSeparately
            | FilingStatus::MarriedWithholdSingle,
            false,
        ) => (&set.single, "standard.single"),
        (
            FilingStatus::Single
            | FilingStatus::MarriedFilingSeparately
            | FilingStatus::MarriedWithholdSingle,
            true,
        ) => (&set.single, "checkbox.single"),
    }
}

/// Federal income tax withholding for the period: Worksheet 1A on regular wages plus the
/// supplemental-wage rates. Returns the `US_FIT` line and its trace.
pub fn income_tax(
    pack: &'static FederalPack,
    input: &FitInput,
) -> Result<(TaxLine, LineTrace), CalcError> {
    let p = &pack.params;
    let w4 = input.w4.unwrap_or(&DEFAULT_W4);
    validate_w4(w4)?;
    let mut t = LineTrace::new("tax:US_FIT", "us.fit.pub15t.percentage_method_automated")
        .pack(pack.header.id.as_str());
    t.reserve(8, 4, 24);
    let periods = input.frequency.periods_per_year();
    t.input("w4_on_file", input.w4.is_some())
        .input(
            "form",
            if w4.form == W4Form::Y2020 {
                "2020"
            } else {
                "2019"
            },
        )
        .input("filing_status", w4.filing_status.as_str())
        .input("pay_frequency", input.frequency.as_str())
        .input("regular_wages", input.regular_wages)
        .input("supplemental_wages", input.supplemental_wages)
        .input("ytd_supplemental", input.ytd_supplemental);

    // Supplemental wages: the part above $1,000,000 for the year always at 37%; the rest at the
    // flat 22% or, with the aggregate method, added to regular wages.
    let threshold = p.supplemental_mandatory_threshold.value;
    let over = max(
        input.ytd_supplemental + input.supplemental_wages - threshold,
        Decimal::ZERO,
    ) - max(input.ytd_supplemental - threshold, Decimal::ZERO);
    let over = max(min(over, input.supplemental_wages), Decimal::ZERO);
    let under = input.supplemental_wages - over;
    let aggregate = w4.supplemental_method == SupplementalMethod::Aggregate;
    let wages_for_table = if aggregate {
        input.regular_wages + under
    } else {
        input.regular_wages
    };

    let regular_exact = if w4.exempt {
        t.step("exempt", true);
        Decimal::ZERO
    } else {
        worksheet_1a(pack, w4, wages_for_table, periods, &mut t)
    };

    let mut supp_exact = Decimal::ZERO;
    if !under.is_zero() && !aggregate && !w4.exempt {
        supp_exact += under * p.supplemental_rate.value;
        t.param("supplemental_rate", &p.supplemental_rate);
        t.step("supplemental_flat_tax", under * p.supplemental_rate.value);
    }
    if !over.is_zero() {
        supp_exact += over * p.supplemental_mandatory_rate.value;
        t.param(
            "supplemental_mandatory_threshold",
            &p.supplemental_mandatory_threshold,
        )
        .param(
            "supplemental_mandatory_rate",
            &p.supplemental_mandatory_rate,
        );
        t.step("supplemental_over_threshold", over);
        t.step(
            "supplemental_mandatory_tax",
            over * p.supplemental_mandatory_rate.value,
        );
    }
    let exact = add(regular_exact, supp_exact);
    t.step("total_exact", exact);
    let amount = t.round(exact);
    let line = TaxLine {
        code: Cow::Borrowed("US_FIT"),
        payer: Payer::Employee,
        taxable_wages: cents(add(input.regular_wages, input.supplemental_wages)),
        amount,
        uncollected: None,
    };
    Ok((line, t))
}

/// Worksheet 1A on `wages` for one period; returns the exact (unrounded) amount, line 4b.
fn worksheet_1a(
    pack: &'static FederalPack,
    w4: &FederalW4,
    wages: Decimal,
    periods: Decimal,
    t: &mut LineTrace,
) -> Decimal {
    let p = &pack.params;
    let z = Decimal::ZERO;
    t.step("1a_wages", wages).step("1b_periods", periods);
    let l1c = mul(wages, periods);
    t.step("1c_annual_wages", l1c);
    let adjusted = match w4.form {
        W4Form::Y2020 => {
            let l1d = w4.other_income.unwrap_or(z);
            let l1e = add(l1c, l1d);
            let l1f = w4.deductions.unwrap_or(z);
            let l1g = if w4.multiple_jobs {
                z
            } else if w4.filing_status == FilingStatus::MarriedFilingJointly {
                t.param("w4_line1g_mfj", &p.w4_line1g_mfj);
                p.w4_line1g_mfj.value
            } else {
                t.param("w4_line1g_other", &p.w4_line1g_other);
                p.w4_line1g_other.value
            };
            let l1h = add(l1f, l1g);
            let l1i = max(sub(l1e, l1h), z);
            t.step("1d_step4a_other_income", l1d)
                .step("1e", l1e)
                .step("1f_step4b_deductions", l1f)
                .step("1g", l1g)
                .step("1h", l1h)
                .step("1i_adjusted_annual_wages", l1i);
            l1i
        }
        W4Form::Y2019 => {
            let n = Decimal::from(w4.allowances.unwrap_or(0));
            let l1k = n * p.w4_2019_allowance.value;
            t.param("w4_2019_allowance", &p.w4_2019_allowance);
            let l1l = max(l1c - l1k, z);
            t.step("1j_allowances", n)
                .step("1k", l1k)
                .step("1l_adjusted_annual_wages", l1l);
            l1l
        }
    };
    let (rows, table_name) = table(pack, w4);
    let (row, l2g) = apply_table(rows, adjusted);
    t.param_value("table", table_name, pack.fit.source.as_str());
    if let Some(r) = row {
        t.step("2b_row_over", r.over)
            .step("2c_row_base", r.base)
            .step("2d_row_rate", r.rate)
            .step("2e", sub(adjusted, r.over))
            .step("2f", mul(sub(adjusted, r.over), r.rate));
    }
    t.step("2g_annual_tentative", l2g);
    let l2h = l2g / periods;
    t.step("2h_period_tentative", l2h);
    let l3a = if w4.form == W4Form::Y2020 {
        w4.dependents_amount.unwrap_or(z)
    } else {
        z
    };
    let l3b = l3a / periods;
    let l3c = max(sub(l2h, l3b), z);
    let l4a = w4.extra_withholding.unwrap_or(z);
    let l4b = add(l3c, l4a);
    t.step("3a_step3_credits", l3a)
        .step("3b", l3b)
        .step("3c_floored_at_zero", l3c)
        .step("4a_extra_withholding", l4a)
        .step("4b_regular_withholding", l4b);
    l4b
}

/// Tax lines with their explanations.
pub type TracedTaxes = Vec<(TaxLine, LineTrace)>;

/// Where computed tax lines go: the lines and their traces in two lists (the pipeline's own
/// result lists, so a line and its trace are not moved again).
pub struct TaxOut<'a> {
    pub lines: &'a mut Vec<TaxLine>,
    pub traces: &'a mut Vec<LineTrace>,
}

impl TaxOut<'_> {
    #[inline(always)]
    pub fn push(&mut self, (line, trace): (TaxLine, LineTrace)) {
        self.lines.push(line);
        self.traces.push(trace);
    }
}

/// FICA and FUTA wages for the period.
pub struct FicaInput<'a> {
    /// Social Security and Medicare wages this period (wages less section 125/HSA).
    pub wages: Decimal,
    /// FUTA/SUI wages this period (same exclusions as FICA here).
    pub futa_wages: Decimal,
    pub ytd: &'a Ytd,
    pub employer: &'a EmployerSettings,
    pub work_state: StateCode,
}

/// Employee FICA lines: US_SS, US_MEDICARE, US_ADDL_MEDICARE; employer: US_SS_ER, US_MEDICARE_ER,
/// US_FUTA and `<ST>_SUI` (when the employer's SUI rate is known).
pub fn payroll_taxes(
    pack: &'static FederalPack,
    input: &FicaInput,
) -> Result<(TracedTaxes, TracedTaxes), CalcError> {
    let (mut ee_lines, mut ee_traces) = (Vec::with_capacity(3), Vec::with_capacity(3));
    let (mut er_lines, mut er_traces) = (Vec::with_capacity(4), Vec::with_capacity(4));
    payroll_taxes_into(
        pack,
        input,
        &mut TaxOut {
            lines: &mut ee_lines,
            traces: &mut ee_traces,
        },
        &mut TaxOut {
            lines: &mut er_lines,
            traces: &mut er_traces,
        },
    )?;
    Ok((
        ee_lines.into_iter().zip(ee_traces).collect(),
        er_lines.into_iter().zip(er_traces).collect(),
    ))
}

/// `payroll_taxes`, appending the employee lines to `employee` and the employer lines to
/// `employer` (the pipeline's own lists: no intermediate vectors).
pub fn payroll_taxes_into(
    pack: &'static FederalPack,
    input: &FicaInput,
    employee: &mut TaxOut,
    employer: &mut TaxOut,
) -> Result<(), CalcError> {
    employee_fica_into(pack, input, employee);
    validate_employer(pack, input)?;
    employer_taxes_into(pack, input, employer)
}

/// A tax line with its taxable wages rounded to cents.
fn tax_line(code: &'static str, payer: Payer, taxable: Decimal, amount: Decimal) -> TaxLine {
    TaxLine {
        code: Cow::Borrowed(code),
        payer,
        taxable_wages: cents(taxable),
        amount,
        uncollected: None,
    }
}

/// Social Security wages this period: the wage base left after YTD, and the taxable part.
fn ss_taxable(pack: &'static FederalPack, input: &FicaInput) -> (Decimal, Decimal) {
    let z = Decimal::ZERO;
    let room = max(
        sub(
            pack.params.ss_wage_base.value,
            input.ytd.social_security_wages,
        ),
        z,
    );
    (room, max(min(input.wages, room), z))
}

/// The Social Security line (employee or employer).
fn ss_line(pack: &'static FederalPack, input: &FicaInput, employer: bool) -> (TaxLine, LineTrace) {
    let p = &pack.params;
    let (room, taxable) = ss_taxable(pack, input);
    let (code, line_id, payer, rule) = if employer {
        (
            "US_SS_ER",
            "tax:US_SS_ER",
            Payer::Employer,
            "us.fica.social_security.employer",
        )
    } else {
        (
            "US_SS",
            "tax:US_SS",
            Payer::Employee,
            "us.fica.social_security.employee",
        )
    };
    let mut t = LineTrace::new(line_id, rule).pack(pack.header.id.as_str());
    t.reserve(2, 2, 2);
    t.input("wages", input.wages)
        .input("ytd_social_security_wages", input.ytd.social_security_wages)
        .param("ss_wage_base", &p.ss_wage_base)
        .param("ss_rate", &p.ss_rate)
        .step("remaining_wage_base", room)
        .step("taxable_wages", taxable);
    let amt = t.round(mul(taxable, p.ss_rate.value));
    (tax_line(code, payer, taxable, amt), t)
}

/// The Medicare line (employee or employer): no cap.
fn medicare_line(
    pack: &'static FederalPack,
    input: &FicaInput,
    employer: bool,
) -> (TaxLine, LineTrace) {
    let p = &pack.params;
    let (code, line_id, payer, rule) = if employer {
        (
            "US_MEDICARE_ER",
            "tax:US_MEDICARE_ER",
            Payer::Employer,
            "us.fica.medicare.employer",
        )
    } else {
        (
            "US_MEDICARE",
            "tax:US_MEDICARE",
            Payer::Employee,
            "us.fica.medicare.employee",
        )
    };
    let mut t = LineTrace::new(line_id, rule).pack(pack.header.id.as_str());
    t.reserve(1, 1, 0);
    t.input("wages", input.wages)
        .param("medicare_rate", &p.medicare_rate);
    let amt = t.round(mul(input.wages, p.medicare_rate.value));
    (tax_line(code, payer, input.wages, amt), t)
}

/// Employee FICA lines: US_SS, US_MEDICARE, US_ADDL_MEDICARE, appended to `employee`.
pub fn employee_fica_into(pack: &'static FederalPack, input: &FicaInput, employee: &mut TaxOut) {
    let p = &pack.params;
    let z = Decimal::ZERO;
    employee.push(ss_line(pack, input, false));
    employee.push(medicare_line(pack, input, false));
    // Additional Medicare: wages above $200,000 YTD from this employer, any filing status.
    let thr = p.addl_medicare_threshold.value;
    let ytd = input.ytd.medicare_wages;
    let taxable = max(
        sub(
            max(sub(add(ytd, input.wages), thr), z),
            max(sub(ytd, thr), z),
        ),
        z,
    );
    let mut t = LineTrace::new("tax:US_ADDL_MEDICARE", "us.fica.additional_medicare")
        .pack(pack.header.id.as_str());
    t.reserve(2, 2, 1);
    t.input("wages", input.wages)
        .input("ytd_medicare_wages", ytd)
        .param("addl_medicare_threshold", &p.addl_medicare_threshold)
        .param("addl_medicare_rate", &p.addl_medicare_rate)
        .step("wages_over_threshold", taxable);
    let amt = t.round(mul(taxable, p.addl_medicare_rate.value));
    employee.push((
        tax_line("US_ADDL_MEDICARE", Payer::Employee, taxable, amt),
        t,
    ));
}

/// The employer inputs FUTA and SUI use, checked (the errors `employer_taxes_into` would give,
/// in the same order), so a pipeline can report them where the FICA lines are computed and
/// append the employer lines later.
pub fn validate_employer(pack: &'static FederalPack, input: &FicaInput) -> Result<(), CalcError> {
    let z = Decimal::ZERO;
    let p = &pack.params;
    let cr = input.employer.futa_credit_reduction.unwrap_or(z);
    if cr < z || cr > p.futa_max_credit.value {
        return Err(CalcError::invalid(
            "employer.futa_credit_reduction",
            format!("must be between 0 and {}", p.futa_max_credit.value),
        ));
    }
    match (input.employer.sui_rate, input.employer.sui_wage_base) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(CalcError::invalid(
            "employer.sui_wage_base",
            "is required with sui_rate",
        )),
        (None, Some(_)) => Err(CalcError::invalid(
            "employer.sui_rate",
            "is required with sui_wage_base",
        )),
        (Some(rate), Some(base)) => {
            if rate < z || rate > dec!(0.2) {
                return Err(CalcError::invalid(
                    "employer.sui_rate",
                    "must be a fraction between 0 and 0.2 (e.g. \"0.034\" for 3.4%)",
                ));
            }
            if base < z {
                return Err(CalcError::invalid(
                    "employer.sui_wage_base",
                    "must not be negative",
                ));
            }
            Ok(())
        }
    }
}

/// Employer lines: US_SS_ER, US_MEDICARE_ER, US_FUTA and `<ST>_SUI` (when the employer's SUI
/// rate is known), appended to `employer`.
pub fn employer_taxes_into(
    pack: &'static FederalPack,
    input: &FicaInput,
    employer: &mut TaxOut,
) -> Result<(), CalcError> {
    validate_employer(pack, input)?;
    let p = &pack.params;
    let id = pack.header.id.as_str();
    let z = Decimal::ZERO;
    employer.push(ss_line(pack, input, true));
    employer.push(medicare_line(pack, input, true));
    // FUTA: 6.0% less the 5.4% credit, plus any credit reduction, on the first $7,000.
    {
        let cr = input.employer.futa_credit_reduction.unwrap_or(z);
        let room = max(sub(p.futa_wage_base.value, input.ytd.futa_wages), z);
        let taxable = max(min(input.futa_wages, room), z);
        let net_rate = add(sub(p.futa_rate.value, p.futa_max_credit.value), cr);
        let mut t = LineTrace::new("tax:US_FUTA", "us.futa").pack(id);
        t.reserve(3, 3, 4);
        t.input("futa_wages", input.futa_wages)
            .input("ytd_futa_wages", input.ytd.futa_wages)
            .input("credit_reduction", cr)
            .param("futa_wage_base", &p.futa_wage_base)
            .param("futa_rate", &p.futa_rate)
            .param("futa_max_credit", &p.futa_max_credit)
            .step("taxable_wages", taxable)
            .step("gross_tax", mul(taxable, p.futa_rate.value))
            .step("credit", mul(taxable, sub(p.futa_max_credit.value, cr)))
            .step("net_rate", net_rate);
        let amt = t.round(mul(taxable, net_rate));
        employer.push((tax_line("US_FUTA", Payer::Employer, taxable, amt), t));
    }
    // SUI: employer rate and wage base are the employer's inputs (checked above).
    if let (Some(rate), Some(base)) = (input.employer.sui_rate, input.employer.sui_wage_base) {
        let room = max(sub(base, input.ytd.sui_wages), z);
        let taxable = max(min(input.futa_wages, room), z);
        let code = crate::state::withholding::sui_code(input.work_state);
        let mut t = LineTrace::new(
            crate::state::withholding::sui_line(input.work_state),
            "state.sui.employer",
        );
        t.reserve(2, 2, 1);
        t.input("sui_wages", input.futa_wages)
            .input("ytd_sui_wages", input.ytd.sui_wages)
            .param_value("sui_rate", rate, "employer input: state-assigned SUI rate")
            .param_value("sui_wage_base", base, "employer input: state SUI wage base")
            .step("taxable_wages", taxable);
        let amt = t.round(mul(taxable, rate));
        let mut l = tax_line("", Payer::Employer, taxable, amt);
        l.code = code;
        employer.push((l, t));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn fed(y: i32) -> &'static FederalPack {
        crate::rules::federal_for(NaiveDate::from_ymd_opt(y, 6, 1).unwrap()).unwrap()
    }

    fn w4(json: &str) -> FederalW4 {
        serde_json::from_str(json).unwrap()
    }

    fn fit(y: i32, freq: PayFrequency, wages: Decimal, w: Option<&FederalW4>) -> Decimal {
        let (l, _) = income_tax(
            fed(y),
            &FitInput {
                w4: w,
                frequency: freq,
                regular_wages: wages,
                supplemental_wages: Decimal::ZERO,
                ytd_supplemental: Decimal::ZERO,
            },
        )
        .unwrap();
        l.amount
    }

    #[test]
    fn no_w4_is_single_standard() {
        // F01 with no W-4 on file equals Single.
        assert_eq!(
            fit(2025, PayFrequency::Biweekly, dec!(1500), None),
            dec!(101.60)
        );
    }

    #[test]
    fn exempt_withholds_nothing_but_mandatory_37_still_applies() {
        let w = w4(r#"{"form":"2020","filing_status":"single","exempt":true}"#);
        assert_eq!(
            fit(2025, PayFrequency::Biweekly, dec!(5000), Some(&w)),
            dec!(0.00)
        );
        let (l, _) = income_tax(
            fed(2025),
            &FitInput {
                w4: Some(&w),
                frequency: PayFrequency::Biweekly,
                regular_wages: Decimal::ZERO,
                supplemental_wages: dec!(100000),
                ytd_supplemental: dec!(950000),
            },
        )
        .unwrap();
        assert_eq!(l.amount, dec!(18500.00)); // 50,000 over $1M at 37%
    }

    #[test]
    fn supplemental_flat_and_mandatory_split() {
        let w = w4(r#"{"form":"2020","filing_status":"single"}"#);
        let (l, _) = income_tax(
            fed(2025),
            &FitInput {
                w4: Some(&w),
                frequency: PayFrequency::Biweekly,
                regular_wages: Decimal::ZERO,
                supplemental_wages: dec!(100000),
                ytd_supplemental: dec!(950000),
            },
        )
        .unwrap();
        // 50,000 × 22% + 50,000 × 37%
        assert_eq!(l.amount, dec!(29500.00));
    }

    #[test]
    fn form_fields_are_checked() {
        let w = w4(r#"{"form":"2020","filing_status":"married"}"#);
        assert_eq!(
            validate_w4(&w).unwrap_err().field(),
            "federal_w4.filing_status"
        );
        let w = w4(r#"{"form":"2019","filing_status":"single","multiple_jobs":true}"#);
        assert_eq!(
            validate_w4(&w).unwrap_err().field(),
            "federal_w4.multiple_jobs"
        );
        let w = w4(r#"{"form":"2020","filing_status":"single","allowances":2}"#);
        assert_eq!(
            validate_w4(&w).unwrap_err().field(),
            "federal_w4.allowances"
        );
    }
}
