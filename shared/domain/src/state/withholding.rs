//! State income tax withholding and employee state payroll taxes (California SDI).
//!
//! Each state pack's `[withholding]` table is tagged by `kind`:
//! - `none`: no wage income tax (AK, FL, NV, NH, SD, TN, TX, WA, WY). A zero `<ST>_SIT` line is still
//!   listed, so a reader sees the state was considered.
//! - `unsupported`: the state taxes wages but this engine does not compute it yet (MN, MT, OR);
//!   `withhold` fails with `CalcError::UnsupportedState`, never a silent zero.
//! - `flat`: a percentage of state wages, optionally less per-allowance amounts (PA, IL).
//! - `ca_de44`: California EDD DE 44 Method B (exact calculation), annualized; plus CA SDI.
//! - `ny_nys50t`: New York State NYS-50-T-NYS Method II (exact calculation), annualized.
//!   New York City and Yonkers resident taxes, NY SDI and NY PFL are out of scope.
//!
//! Every state defines its own taxable wages (`WageBasis`): CA taxes HSA contributions, PA taxes
//! 401(k) deferrals, IL and NY follow federal income-tax wages.
//!
//! Resident and work state: the pipeline calls `withhold` for the work state, then (when the resident
//! state differs) for the resident state with `other_state_credit` = the work state's income tax
//! this period; the resident state's income tax is reduced by that credit, never below zero.

use crate::deductions::PreTaxOutcome;
use crate::error::CalcError;
use crate::federal::TaxOut;
use crate::money::{add, is_positive, sub};
use crate::request::{PayFrequency, StateCode, StateW4, Ytd};
use crate::response::{Payer, TaxLine};
use crate::rules::Param;
use crate::state::StatePack;
use crate::trace::{Label, LineTrace, TraceValue};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

#[path = "ca.rs"]
pub mod ca;
#[path = "ny.rs"]
pub mod ny;

pub use ca::CaRules;
pub use ny::NyRules;

/// Which pre-tax deductions reduce a state's taxable wages.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WageBasis {
    /// Federal income-tax wages: wages less 401(k)/403(b)/457(b), section 125 and HSA (IL, NY).
    FederalIncomeTax,
    /// Wages less section 125 and HSA only; elective deferrals stay taxable (PA; CA SDI).
    ExcludeSection125AndHsa,
    /// Wages less elective deferrals and section 125; HSA contributions stay taxable (CA PIT).
    ExcludeDeferralsAndSection125,
}

impl WageBasis {
    fn deductions(self, p: &PreTaxOutcome) -> Decimal {
        match self {
            WageBasis::FederalIncomeTax => add(add(p.elective_deferrals, p.section_125), p.hsa),
            WageBasis::ExcludeSection125AndHsa => add(p.section_125, p.hsa),
            WageBasis::ExcludeDeferralsAndSection125 => add(p.elective_deferrals, p.section_125),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            WageBasis::FederalIncomeTax => "federal_income_tax",
            WageBasis::ExcludeSection125AndHsa => "exclude_section125_and_hsa",
            WageBasis::ExcludeDeferralsAndSection125 => "exclude_deferrals_and_section125",
        }
    }
}

/// Flat-rate state income tax (PA; IL with its IL-W-4 allowances).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FlatRules {
    pub rate: Param,
    pub wages: WageBasis,
    pub wages_source: String,
    /// Annual amount per basic allowance (IL-W-4 line 1). Absent: the state has no allowances.
    #[serde(default)]
    pub allowance: Option<Param>,
    /// Annual amount per additional allowance (IL-W-4 line 2).
    #[serde(default)]
    pub additional_allowance: Option<Param>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StateTaxRules {
    /// No wage income tax.
    #[serde(rename = "none")]
    None {
        source: String,
    },
    /// A wage income tax this engine does not compute yet.
    Unsupported {
        source: String,
        reason: String,
    },
    Flat(FlatRules),
    CaDe44(Box<CaRules>),
    NyNys50t(Box<NyRules>),
}

fn check_rate(name: &str, p: &Param) -> Result<(), String> {
    if p.value < Decimal::ZERO || p.value > Decimal::ONE {
        return Err(format!("withholding.{name} must be a fraction in [0, 1]"));
    }
    check_source(name, &p.source)
}

fn check_amount(name: &str, p: &Param) -> Result<(), String> {
    if p.value < Decimal::ZERO {
        return Err(format!("withholding.{name} must not be negative"));
    }
    check_source(name, &p.source)
}

fn check_source(name: &str, s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        return Err(format!("withholding.{name} needs a source"));
    }
    Ok(())
}

impl StateTaxRules {
    pub fn validate(&self) -> Result<(), String> {
        match self {
            StateTaxRules::None { source } => check_source("source", source),
            StateTaxRules::Unsupported { source, reason } => {
                check_source("source", source)?;
                check_source("reason", reason)
            }
            StateTaxRules::Flat(f) => {
                check_rate("rate", &f.rate)?;
                check_source("wages_source", &f.wages_source)?;
                if let Some(a) = &f.allowance {
                    check_amount("allowance", a)?;
                }
                if let Some(a) = &f.additional_allowance {
                    check_amount("additional_allowance", a)?;
                }
                Ok(())
            }
            StateTaxRules::CaDe44(c) => c.validate(),
            StateTaxRules::NyNys50t(n) => n.validate(),
        }
    }

    pub fn sources(&self) -> Vec<String> {
        match self {
            StateTaxRules::None { source } => vec![source.clone()],
            StateTaxRules::Unsupported { source, .. } => vec![source.clone()],
            StateTaxRules::Flat(f) => {
                let mut v = vec![f.rate.source.clone(), f.wages_source.clone()];
                v.extend(f.allowance.iter().map(|p| p.source.clone()));
                v.extend(f.additional_allowance.iter().map(|p| p.source.clone()));
                v
            }
            StateTaxRules::CaDe44(c) => c.sources(),
            StateTaxRules::NyNys50t(n) => n.sources(),
        }
    }

    /// True when the state taxes wages (including states we do not compute yet).
    pub fn has_income_tax(&self) -> bool {
        !matches!(self, StateTaxRules::None { .. })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            StateTaxRules::None { .. } => "none",
            StateTaxRules::Unsupported { .. } => "unsupported",
            StateTaxRules::Flat(_) => "flat",
            StateTaxRules::CaDe44(_) => "ca_de44",
            StateTaxRules::NyNys50t(_) => "ny_nys50t",
        }
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

/// Why the state is being withheld for: names the request field in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StateRole {
    #[default]
    Work,
    Resident,
}

impl StateRole {
    pub fn field(self) -> &'static str {
        match self {
            StateRole::Work => "work_state",
            StateRole::Resident => "resident_state",
        }
    }
}

/// Details the pipeline may pass beyond `StateTaxInput`.
#[derive(Debug, Clone, Copy, Default)]
pub struct StateOptions {
    pub role: StateRole,
    /// The bonus part of `supplemental` (California withholds bonuses at a higher flat rate than
    /// other supplemental wages). `None`: unknown, all supplemental wages are treated as bonus.
    pub bonus: Option<Decimal>,
}

/// Withhold for the state as the work state (see `withhold_with` for the resident state).
pub fn withhold(input: &StateTaxInput) -> Result<Vec<(TaxLine, LineTrace)>, CalcError> {
    withhold_with(input, &StateOptions::default())
}

/// Withhold for the state: the `<ST>_SIT` line (always, even when zero) and any employee state
/// payroll tax (CA SDI).
pub fn withhold_with(
    input: &StateTaxInput,
    opts: &StateOptions,
) -> Result<Vec<(TaxLine, LineTrace)>, CalcError> {
    let (mut lines, mut traces) = (Vec::with_capacity(2), Vec::with_capacity(2));
    withhold_into(
        input,
        opts,
        &mut TaxOut {
            lines: &mut lines,
            traces: &mut traces,
        },
    )?;
    Ok(lines.into_iter().zip(traces).collect())
}

/// `withhold_with`, appending the lines to `out` (the pipeline's own list).
pub fn withhold_into(
    input: &StateTaxInput,
    opts: &StateOptions,
    out: &mut TaxOut,
) -> Result<(), CalcError> {
    let w4 = input.w4;
    if let Some(w) = w4
        && let Some(x) = w.extra_withholding
        && x < Decimal::ZERO
    {
        return Err(CalcError::invalid(
            w4_field(input.state, "extra_withholding"),
            "must not be negative",
        ));
    }
    if input.other_state_credit < Decimal::ZERO {
        return Err(CalcError::Invariant(
            "other_state_credit must not be negative".into(),
        ));
    }
    match &input.pack.withholding {
        StateTaxRules::None { source } => out.push(no_tax_line(input, source.as_str())),
        StateTaxRules::Unsupported { .. } => {
            return Err(CalcError::UnsupportedState {
                field: opts.role.field().into(),
                state: input.state.as_str().into(),
                supported: supported_states(),
            });
        }
        StateTaxRules::Flat(f) => out.push(flat(input, f)?),
        StateTaxRules::CaDe44(c) => ca::withhold(input, opts, c, out)?,
        StateTaxRules::NyNys50t(n) => out.push(ny::withhold(input, n)?),
    }
    Ok(())
}

/// States whose withholding this engine computes (income tax or explicitly none).
pub fn supported_states() -> String {
    let Ok(reg) = crate::rules::registry() else {
        return String::new();
    };
    let mut v: Vec<&str> = reg
        .states
        .iter()
        .filter(|p| !matches!(p.withholding, StateTaxRules::Unsupported { .. }))
        .map(|p| p.header.jurisdiction.as_str())
        .collect();
    v.sort_unstable();
    v.dedup();
    v.join(", ")
}

pub(crate) fn w4_field(state: StateCode, name: &str) -> String {
    format!("state_w4.{state}.{name}")
}

/// Static tax codes and trace line ids per state, in the order of `request::ALL_STATES`.
macro_rules! state_codes {
    ($($s:literal),* $(,)?) => {
        const SIT_CODES: [&str; 51] = [$(concat!($s, "_SIT")),*];
        const SUI_CODES: [&str; 51] = [$(concat!($s, "_SUI")),*];
        const SIT_LINES: [&str; 51] = [$(concat!("tax:", $s, "_SIT")),*];
        const SUI_LINES: [&str; 51] = [$(concat!("tax:", $s, "_SUI")),*];
    };
}
state_codes!(
    "AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "IA", "ID", "IL", "IN",
    "KS", "KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MS", "MT", "NC", "ND", "NE", "NH", "NJ",
    "NM", "NV", "NY", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VT", "WA",
    "WI", "WV", "WY"
);

/// `CA_SIT` etc. as a borrowed static string.
pub(crate) fn sit_code(s: StateCode) -> Cow<'static, str> {
    match SIT_CODES.get(s.index()) {
        Some(c) => Cow::Borrowed(c),
        None => Cow::Owned(format!("{s}_SIT")),
    }
}

/// `CA_SUI` etc. as a borrowed static string.
pub(crate) fn sui_code(s: StateCode) -> Cow<'static, str> {
    match SUI_CODES.get(s.index()) {
        Some(c) => Cow::Borrowed(c),
        None => Cow::Owned(format!("{s}_SUI")),
    }
}

/// The trace line id of a tax line: `tax:` + code, a static string for the codes used here.
pub(crate) fn tax_line_id(code: &str) -> Label {
    let fixed = match code {
        "US_FIT" => Some("tax:US_FIT"),
        "US_SS" => Some("tax:US_SS"),
        "US_SS_ER" => Some("tax:US_SS_ER"),
        "US_MEDICARE" => Some("tax:US_MEDICARE"),
        "US_MEDICARE_ER" => Some("tax:US_MEDICARE_ER"),
        "US_ADDL_MEDICARE" => Some("tax:US_ADDL_MEDICARE"),
        "US_FUTA" => Some("tax:US_FUTA"),
        "CA_SDI" => Some("tax:CA_SDI"),
        _ => None,
    };
    if let Some(f) = fixed {
        return Label::Static(f);
    }
    if let (Some(st), Some(kind)) = (code.get(..2), code.get(2..))
        && let Ok(i) = crate::request::ALL_STATES.binary_search(&st)
    {
        let lines = match kind {
            "_SIT" => Some(&SIT_LINES),
            "_SUI" => Some(&SUI_LINES),
            _ => None,
        };
        if let Some(l) = lines.and_then(|l| l.get(i)) {
            return Label::Static(l);
        }
    }
    Label::from(format!("tax:{code}"))
}

/// `tax_line_id(&sit_code(s))` without the text lookup.
pub(crate) fn sit_line(s: StateCode) -> Label {
    match SIT_LINES.get(s.index()) {
        Some(l) => Label::Static(l),
        None => tax_line_id(&sit_code(s)),
    }
}

/// `tax_line_id(&sui_code(s))` without the text lookup.
pub(crate) fn sui_line(s: StateCode) -> Label {
    match SUI_LINES.get(s.index()) {
        Some(l) => Label::Static(l),
        None => tax_line_id(&sui_code(s)),
    }
}

fn trace_for(input: &StateTaxInput, line: Label, rule: &'static str) -> LineTrace {
    LineTrace::new(line, rule).pack(input.pack.header.id.as_str())
}

fn no_tax_line(input: &StateTaxInput, source: &'static str) -> (TaxLine, LineTrace) {
    let code = sit_code(input.state);
    let wages = crate::money::cents(
        (input.wages - WageBasis::FederalIncomeTax.deductions(input.pretax)).max(Decimal::ZERO),
    );
    let mut t = trace_for(input, sit_line(input.state), "state.none");
    t.input("state", input.state.as_str())
        .input("state_wages", wages);
    t.param_value("has_wage_income_tax", false, source);
    t.step(
        "explanation",
        TraceValue::State(
            input.state,
            " has no income tax on wages; nothing to withhold",
        ),
    );
    let amount = t.round(Decimal::ZERO);
    (
        TaxLine {
            code,
            payer: Payer::Employee,
            taxable_wages: wages,
            amount,
            uncollected: None,
        },
        t,
    )
}

/// Filing status on a state certificate (DE 4, IT-2104).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Single,
    Married,
    HeadOfHousehold,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Single => "single",
            Status::Married => "married",
            Status::HeadOfHousehold => "head_of_household",
        }
    }
}

/// The certificate's filing status (`single` when none is on file).
pub(crate) fn filing_status(input: &StateTaxInput) -> Result<Status, CalcError> {
    match input.w4.and_then(|w| w.filing_status.as_deref()) {
        None | Some("single") => Ok(Status::Single),
        Some("married") => Ok(Status::Married),
        Some("head_of_household") => Ok(Status::HeadOfHousehold),
        Some(other) => Err(CalcError::invalid(
            w4_field(input.state, "filing_status"),
            format!(
                "{other:?} is not a {} filing status: use single, married or head_of_household",
                input.state
            ),
        )),
    }
}

/// Allowance counts above this are rejected as typing errors.
pub(crate) const MAX_ALLOWANCES: u32 = 99;

pub(crate) fn allowance_count(
    input: &StateTaxInput,
    name: &str,
    v: Option<u32>,
) -> Result<u32, CalcError> {
    let n = v.unwrap_or(0);
    if n > MAX_ALLOWANCES {
        return Err(CalcError::invalid(
            w4_field(input.state, name),
            format!("{n} is more than {MAX_ALLOWANCES} allowances"),
        ));
    }
    Ok(n)
}

/// State taxable wages this period, split into regular and supplemental parts the same way the
/// federal pipeline does: pre-tax deductions come out of regular wages first.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StateWages {
    pub total: Decimal,
    pub regular: Decimal,
    pub supplemental: Decimal,
    pub deductions: Decimal,
}

pub(crate) fn state_wages(input: &StateTaxInput, basis: WageBasis) -> StateWages {
    let z = Decimal::ZERO;
    let deductions = basis.deductions(input.pretax);
    let total = crate::money::max(sub(input.wages, deductions), z);
    let regular_gross = crate::money::max(sub(input.wages, input.supplemental), z);
    let regular = crate::money::max(sub(regular_gross, deductions), z);
    StateWages {
        total,
        regular,
        supplemental: sub(total, regular),
        deductions,
    }
}

/// Record the wage inputs common to every income-tax line.
pub(crate) fn trace_wages(
    t: &mut LineTrace,
    input: &StateTaxInput,
    basis: WageBasis,
    w: &StateWages,
) {
    t.input("state", input.state.as_str())
        .input("pay_frequency", input.frequency.as_str())
        .input("wages", input.wages)
        .input("supplemental_wages", input.supplemental)
        .input("pretax_elective_deferrals", input.pretax.elective_deferrals)
        .input("pretax_section_125", input.pretax.section_125)
        .input("pretax_hsa", input.pretax.hsa);
    t.step("wage_basis", basis.as_str())
        .step("pretax_deductions_excluded", w.deductions)
        .step("state_wages", w.total)
        .step("state_regular_wages", w.regular)
        .step("state_supplemental_wages", w.supplemental);
}

/// Apply the exemption, the resident credit and the extra withholding; round once.
/// `computed` is the exact tax this period before those adjustments.
pub(crate) fn finish_income_tax(
    input: &StateTaxInput,
    code: Cow<'static, str>,
    mut t: LineTrace,
    wages: Decimal,
    computed: Decimal,
) -> (TaxLine, LineTrace) {
    let z = Decimal::ZERO;
    let w4 = input.w4;
    let exempt = w4.is_some_and(|w| w.exempt);
    let extra = w4.and_then(|w| w.extra_withholding).unwrap_or(z);
    let exact = if exempt {
        t.step("exempt", true).step(
            "explanation",
            "the employee claimed exemption from state income tax withholding",
        );
        if is_positive(extra) {
            t.step("extra_withholding_ignored_exempt", extra);
        }
        z
    } else {
        let mut tax = crate::money::max(computed, z);
        t.step("period_tax", tax);
        if is_positive(input.other_state_credit) {
            let after = crate::money::max(sub(tax, input.other_state_credit), z);
            t.step("other_state_credit", input.other_state_credit)
                .step("period_tax_after_credit", after);
            tax = after;
        }
        if is_positive(extra) {
            t.step("extra_withholding", extra);
            tax = add(tax, extra);
        }
        tax
    };
    let amount = t.round(exact);
    (
        TaxLine {
            code,
            payer: Payer::Employee,
            taxable_wages: crate::money::cents(wages),
            amount,
            uncollected: None,
        },
        t,
    )
}

fn flat(input: &StateTaxInput, f: &'static FlatRules) -> Result<(TaxLine, LineTrace), CalcError> {
    let code = sit_code(input.state);
    let w = state_wages(input, f.wages);
    let mut t = trace_for(input, sit_line(input.state), "state.flat.percent_of_wages");
    trace_wages(&mut t, input, f.wages, &w);
    t.param_value("wage_basis", f.wages.as_str(), f.wages_source.as_str());
    t.param("rate", &f.rate);
    let periods = input.frequency.periods_per_year();
    let w4 = input.w4;
    let mut allowance_amount = Decimal::ZERO;
    if let Some(a) = &f.allowance {
        let n = Decimal::from(allowance_count(
            input,
            "allowances",
            w4.and_then(|w| w.allowances),
        )?);
        t.input("allowances", n).param("allowance", a);
        allowance_amount += n * a.value;
    } else if w4.and_then(|w| w.allowances).is_some() {
        t.step(
            "allowances_not_used",
            "this state has no withholding allowances",
        );
    }
    if let Some(a) = &f.additional_allowance {
        let n = Decimal::from(allowance_count(
            input,
            "additional_allowances",
            w4.and_then(|w| w.additional_allowances),
        )?);
        t.input("additional_allowances", n)
            .param("additional_allowance", a);
        allowance_amount += n * a.value;
    } else if w4.and_then(|w| w.additional_allowances).is_some() {
        t.step(
            "additional_allowances_not_used",
            "this state has no additional allowances",
        );
    }
    if w4.and_then(|w| w.filing_status.as_ref()).is_some() {
        t.step(
            "filing_status_not_used",
            "the flat rate does not depend on filing status",
        );
    }
    let per_period = allowance_amount / periods;
    let base = (w.total - per_period).max(Decimal::ZERO);
    if !allowance_amount.is_zero() {
        t.step("annual_allowance_amount", allowance_amount)
            .step("allowance_per_period", per_period);
    }
    t.step("wages_after_allowances", base);
    let computed = f.rate.value * base;
    Ok(finish_income_tax(input, code, t, w.total, computed))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rust_decimal::dec;

    pub(crate) fn pack(st: &str, year: i32) -> &'static StatePack {
        let d = NaiveDate::from_ymd_opt(year, 6, 15).unwrap();
        crate::rules::state_for(st, d).expect("pack")
    }

    pub(crate) struct Case {
        pub st: &'static str,
        pub year: i32,
        pub freq: PayFrequency,
        pub wages: Decimal,
        pub supplemental: Decimal,
        pub pre: PreTaxOutcome,
        pub w4: Option<StateW4>,
        pub credit: Decimal,
    }

    impl Case {
        pub fn new(st: &'static str, year: i32, wages: Decimal) -> Self {
            Case {
                st,
                year,
                freq: PayFrequency::Biweekly,
                wages,
                supplemental: Decimal::ZERO,
                pre: PreTaxOutcome::default(),
                w4: None,
                credit: Decimal::ZERO,
            }
        }
        pub fn w4(mut self, json: &str) -> Self {
            self.w4 = Some(serde_json::from_str(json).unwrap());
            self
        }
        pub fn run_with(
            &self,
            opts: &StateOptions,
        ) -> Result<Vec<(TaxLine, LineTrace)>, CalcError> {
            let ytd = Ytd::default();
            let p = pack(self.st, self.year);
            withhold_with(
                &StateTaxInput {
                    state: StateCode::parse(self.st).unwrap(),
                    pack: p,
                    pay_date: NaiveDate::from_ymd_opt(self.year, 6, 15).unwrap(),
                    frequency: self.freq,
                    wages: self.wages,
                    supplemental: self.supplemental,
                    pretax: &self.pre,
                    w4: self.w4.as_ref(),
                    ytd: &ytd,
                    other_state_credit: self.credit,
                },
                opts,
            )
        }
        pub fn run(&self) -> Result<Vec<(TaxLine, LineTrace)>, CalcError> {
            self.run_with(&StateOptions::default())
        }
        /// The amount of the line with `code`.
        pub fn amount(&self, code: &str) -> Decimal {
            let lines = self.run().unwrap();
            lines
                .iter()
                .find(|(l, _)| l.code == code)
                .map(|(l, _)| l.amount)
                .unwrap_or_else(|| panic!("no {code} line in {lines:?}"))
        }
    }

    #[test]
    fn every_state_pack_loads_and_validates() {
        let reg = crate::rules::registry().unwrap();
        assert_eq!(reg.states.len(), crate::rules::STATE_FILES.len());
        for st in [
            "AK", "CA", "FL", "IL", "MN", "MT", "NH", "NV", "NY", "OR", "PA", "SD", "TN", "TX",
            "WA", "WY",
        ] {
            for y in [2025, 2026] {
                let p = pack(st, y);
                assert_eq!(p.header.year, y);
                assert!(
                    !p.sources().iter().any(|s| s.contains("placeholder")),
                    "{st} {y}"
                );
            }
        }
        assert_eq!(
            supported_states(),
            "AK, CA, FL, IL, NH, NV, NY, PA, SD, TN, TX, WA, WY"
        );
    }

    #[test]
    fn misspelt_pack_fields_are_rejected() {
        let (_, ca) = crate::rules::STATE_FILES
            .iter()
            .find(|(n, _)| *n == "states/ca-2025.toml")
            .unwrap();
        assert!(toml::from_str::<StatePack>(ca).is_ok());
        let bad = ca.replace("sdi_rate =", "sdi_rte =");
        assert!(toml::from_str::<StatePack>(&bad).is_err());
        let bad = ca.replace("kind = \"ca_de44\"", "kind = \"ca_de4\"");
        assert!(toml::from_str::<StatePack>(&bad).is_err());
        let (_, tx) = crate::rules::STATE_FILES
            .iter()
            .find(|(n, _)| *n == "states/tx-2025.toml")
            .unwrap();
        let bad = tx.replace("kind = \"none\"", "kind = \"none\"\nrate = \"0\"");
        assert!(toml::from_str::<StatePack>(&bad).is_err());
    }

    #[test]
    fn labor_rules_per_state() {
        use crate::request::OvertimeRules;
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            pack("CA", 2025).labor.overtime_rules,
            OvertimeRules::California
        );
        assert_eq!(pack("TX", 2026).labor.overtime_rules, OvertimeRules::Flsa);
        for st in ["CA", "OR", "WA", "MN", "NV", "MT", "AK"] {
            assert!(!pack(st, 2025).labor.tip_credit_allowed, "{st}");
        }
        assert_eq!(pack("CA", 2025).labor.minimum_wage.value, dec!(16.50));
        assert_eq!(pack("CA", 2026).labor.minimum_wage.value, dec!(16.90));
        let pa = &pack("PA", 2025).labor;
        assert_eq!(pa.tipped_cash_wage.as_ref().unwrap().value, dec!(2.83));
        let il = &pack("IL", 2025).labor;
        assert_eq!(il.tipped_cash_wage.as_ref().unwrap().value, dec!(9.00));
        let tx = &pack("TX", 2025).labor;
        assert_eq!(tx.tipped_cash_wage.as_ref().unwrap().value, dec!(2.13));
        let fl = &pack("FL", 2025).labor;
        assert_eq!(fl.minimum_wage_on(d("2025-09-29")).0, dec!(13.00));
        assert_eq!(fl.minimum_wage_on(d("2025-09-30")).0, dec!(14.00));
        let or = &pack("OR", 2025).labor;
        assert_eq!(or.minimum_wage_on(d("2025-06-30")).0, dec!(14.70));
        assert_eq!(or.minimum_wage_on(d("2025-07-01")).0, dec!(15.05));
        let ak = &pack("AK", 2026).labor;
        assert_eq!(ak.minimum_wage_on(d("2026-06-30")).0, dec!(13.00));
        assert_eq!(ak.minimum_wage_on(d("2026-07-01")).0, dec!(14.00));
    }

    #[test]
    fn no_tax_states_answer_a_zero_sit_line() {
        for st in ["AK", "FL", "NV", "NH", "SD", "TN", "TX", "WA", "WY"] {
            for y in [2025, 2026] {
                let mut c = Case::new(st, y, dec!(2000));
                c.pre.elective_deferrals = dec!(100);
                let lines = c.run().unwrap();
                assert_eq!(lines.len(), 1, "{st}");
                let (l, t) = &lines[0];
                assert_eq!(l.code, format!("{st}_SIT"));
                assert_eq!(l.payer, Payer::Employee);
                assert_eq!(l.amount.to_string(), "0.00");
                assert_eq!(l.taxable_wages, dec!(1900));
                assert_eq!(t.rule, "state.none");
                assert!(!pack(st, y).withholding.has_income_tax());
            }
        }
    }

    #[test]
    fn unsupported_states_error_naming_the_field() {
        for st in ["MN", "MT", "OR"] {
            assert!(pack(st, 2025).withholding.has_income_tax());
            let err = Case::new(st, 2025, dec!(2000)).run().unwrap_err();
            match &err {
                CalcError::UnsupportedState {
                    field,
                    state,
                    supported,
                } => {
                    assert_eq!(field, "work_state");
                    assert_eq!(state, st);
                    assert!(supported.contains("CA") && !supported.contains(st));
                }
                other => panic!("{other:?}"),
            }
        }
        let err = Case::new("MN", 2026, dec!(2000))
            .run_with(&StateOptions {
                role: StateRole::Resident,
                bonus: None,
            })
            .unwrap_err();
        assert_eq!(err.field(), "resident_state");
    }

    // IL 2025: biweekly 2,000, IL-W-4 line 1 = 1.
    // 2,850 / 26 = 109.615385; (2,000 − 109.615385) × 4.95% = 93.574 → 93.57.
    #[test]
    fn il_2025_example() {
        let c = Case::new("IL", 2025, dec!(2000)).w4(r#"{"allowances":1}"#);
        assert_eq!(c.amount("IL_SIT"), dec!(93.57));
    }

    // IL 2026: exemption 2,925 [unverified]: 2,925 / 26 = 112.50;
    // (2,000 − 112.50) × 4.95% = 1,887.50 × 0.0495 = 93.43125 → 93.43.
    // With line 2 = 2 also: (2,000 − (2,925 + 2,000) / 26 = 189.423077) × 4.95% = 89.62356 → 89.62.
    #[test]
    fn il_2026_examples() {
        let c = Case::new("IL", 2026, dec!(2000)).w4(r#"{"allowances":1}"#);
        assert_eq!(c.amount("IL_SIT"), dec!(93.43));
        let c =
            Case::new("IL", 2026, dec!(2000)).w4(r#"{"allowances":1,"additional_allowances":2}"#);
        assert_eq!(c.amount("IL_SIT"), dec!(89.62));
    }

    // No IL-W-4 on file: 0 allowances: 2,000 × 4.95% = 99.00. IL wages follow federal income-tax
    // wages: a 100 401(k) deferral gives 1,900 × 4.95% = 94.05.
    #[test]
    fn il_default_and_pretax() {
        assert_eq!(
            Case::new("IL", 2025, dec!(2000)).amount("IL_SIT"),
            dec!(99.00)
        );
        let mut c = Case::new("IL", 2025, dec!(2000));
        c.pre.elective_deferrals = dec!(100);
        assert_eq!(c.amount("IL_SIT"), dec!(94.05));
    }

    // PA: 2,000 × 3.07% = 61.40 (both years). A 401(k) deferral stays PA-taxable; section 125
    // does not: 2,000 − 50 = 1,950 × 3.07% = 59.865 → 59.87.
    #[test]
    fn pa_examples() {
        for y in [2025, 2026] {
            assert_eq!(Case::new("PA", y, dec!(2000)).amount("PA_SIT"), dec!(61.40));
            let mut c = Case::new("PA", y, dec!(2000));
            c.pre.elective_deferrals = dec!(100);
            assert_eq!(c.amount("PA_SIT"), dec!(61.40));
            c.pre.section_125 = dec!(50);
            assert_eq!(c.amount("PA_SIT"), dec!(59.87));
            let lines = c.run().unwrap();
            assert_eq!(lines[0].0.taxable_wages, dec!(1950));
        }
    }

    #[test]
    fn extra_withholding_and_exempt_flat() {
        let c = Case::new("PA", 2025, dec!(2000)).w4(r#"{"extra_withholding":"10.00"}"#);
        assert_eq!(c.amount("PA_SIT"), dec!(71.40));
        let c = Case::new("IL", 2025, dec!(2000)).w4(r#"{"exempt":true}"#);
        assert_eq!(c.amount("IL_SIT"), dec!(0.00));
        let c = Case::new("PA", 2025, dec!(2000)).w4(r#"{"extra_withholding":"-1.00"}"#);
        assert_eq!(
            c.run().unwrap_err().field(),
            "state_w4.PA.extra_withholding"
        );
    }

    // Resident credit: IL resident working in PA. PA withholds 61.40; IL's 93.57 less the
    // 61.40 credit = 32.17. A credit above the resident tax leaves 0.00.
    #[test]
    fn resident_credit_reduces_resident_tax() {
        let mut c = Case::new("IL", 2025, dec!(2000)).w4(r#"{"allowances":1}"#);
        c.credit = dec!(61.40);
        let lines = c
            .run_with(&StateOptions {
                role: StateRole::Resident,
                bonus: None,
            })
            .unwrap();
        assert_eq!(lines[0].0.amount, dec!(32.17));
        c.credit = dec!(120.00);
        assert_eq!(c.amount("IL_SIT"), dec!(0.00));
    }

    #[test]
    fn static_codes_follow_the_state_list() {
        for (i, st) in crate::request::ALL_STATES.iter().enumerate() {
            let code = StateCode::parse(st).unwrap();
            assert_eq!(code.index(), i);
            assert_eq!(sit_code(code), format!("{st}_SIT"));
            assert_eq!(sui_code(code), format!("{st}_SUI"));
            assert_eq!(tax_line_id(&sit_code(code)), format!("tax:{st}_SIT"));
            assert!(matches!(tax_line_id(&sui_code(code)), Label::Static(_)));
            assert_eq!(sit_line(code), tax_line_id(&sit_code(code)));
            assert_eq!(sui_line(code), tax_line_id(&sui_code(code)));
        }
    }

    #[test]
    fn traces_name_the_pack_and_round() {
        let c = Case::new("IL", 2025, dec!(2000)).w4(r#"{"allowances":1}"#);
        let lines = c.run().unwrap();
        let t = &lines[0].1;
        assert_eq!(
            t.rule_pack.as_deref(),
            Some(pack("IL", 2025).header.id.as_str())
        );
        assert!(t.params().any(|p| p.name == "rate"));
        let r = t.rounding().unwrap();
        assert_eq!(r.rounded, dec!(93.57));
    }
}
