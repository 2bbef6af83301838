//! The paycheck request: what `payroll calc` reads and `POST /paychecks/calculate` accepts.
//!
//! Money is a JSON string with at most 2 decimals; hours, rates and percentages are strings with at
//! most 6 decimals. Unknown fields are rejected so a misspelt field never silently changes pay.

use crate::money::{de_dec, de_dec_opt, de_money, de_money_opt};
use chrono::{NaiveDate, Weekday};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// A US state (or DC) postal code, validated against the list of jurisdictions.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StateCode([u8; 2]);

pub const ALL_STATES: [&str; 51] = [
    "AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "IA", "ID", "IL", "IN",
    "KS", "KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MS", "MT", "NC", "ND", "NE", "NH", "NJ",
    "NM", "NV", "NY", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VT", "WA",
    "WI", "WV", "WY",
];

/// `ALL_STATES` position of each two-letter code (`u8::MAX`: not a state), indexed by
/// `26 × first letter + second letter`.
const STATE_INDEX: [u8; 26 * 26] = {
    let mut t = [u8::MAX; 26 * 26];
    let mut i = 0;
    while i < ALL_STATES.len() {
        let b = ALL_STATES[i].as_bytes();
        t[(b[0] - b'A') as usize * 26 + (b[1] - b'A') as usize] = i as u8;
        i += 1;
    }
    t
};

impl StateCode {
    pub fn parse(s: &str) -> Result<Self, String> {
        if ALL_STATES.binary_search(&s).is_ok() {
            let b = s.as_bytes();
            Ok(StateCode([b[0], b[1]]))
        } else {
            Err(format!(
                "{s:?} is not a US state code (two capital letters, e.g. \"CA\")"
            ))
        }
    }
    pub fn as_str(&self) -> &'static str {
        // Always one of ALL_STATES by construction.
        ALL_STATES.get(self.index()).copied().unwrap_or("??")
    }
    /// Position in `ALL_STATES` (always found: a `StateCode` is built only from that list), by a
    /// table lookup on the two letters.
    #[inline]
    pub fn index(&self) -> usize {
        let [a, b] = self.0;
        let (a, b) = (a.wrapping_sub(b'A'), b.wrapping_sub(b'A'));
        if a >= 26 || b >= 26 {
            return usize::MAX;
        }
        match STATE_INDEX[usize::from(a) * 26 + usize::from(b)] {
            u8::MAX => usize::MAX,
            i => usize::from(i),
        }
    }
}
impl fmt::Debug for StateCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl fmt::Display for StateCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl Serialize for StateCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
impl<'de> Deserialize<'de> for StateCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = StateCode;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<StateCode, E> {
                StateCode::parse(s).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// `YYYY-MM-DD` read in one pass; `None` for any other text and for impossible dates.
fn parse_iso_date(s: &str) -> Option<NaiveDate> {
    let b: &[u8; 10] = s.as_bytes().try_into().ok()?;
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digit = |i: usize| {
        let c = b[i];
        c.is_ascii_digit().then(|| i32::from(c - b'0'))
    };
    let year = digit(0)? * 1000 + digit(1)? * 100 + digit(2)? * 10 + digit(3)?;
    let month = digit(5)? * 10 + digit(6)?;
    let day = digit(8)? * 10 + digit(9)?;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32)
}

/// A date on input: `YYYY-MM-DD` read directly; any other text goes to chrono, which accepts or
/// refuses it with the same message as `NaiveDate`'s own `Deserialize` (which this replaces only
/// for speed: chrono's general parser was ≈ 1,000 instructions a date).
pub fn de_date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = NaiveDate;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a formatted date string")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<NaiveDate, E> {
            match parse_iso_date(v) {
                Some(d) => Ok(d),
                None => v.parse().map_err(E::custom),
            }
        }
    }
    d.deserialize_str(V)
}

/// An optional date (`null` or absent: none).
pub fn de_date_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    #[derive(Deserialize)]
    struct W(#[serde(deserialize_with = "de_date")] NaiveDate);
    Ok(Option::<W>::deserialize(d)?.map(|w| w.0))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayFrequency {
    Daily,
    Weekly,
    Biweekly,
    Semimonthly,
    Monthly,
    Quarterly,
    Semiannual,
    Annual,
}

impl PayFrequency {
    /// Pay periods per year (Pub 15-T Worksheet 1A line 1b; daily = 260).
    pub fn periods_per_year(self) -> Decimal {
        Decimal::from(match self {
            PayFrequency::Daily => 260,
            PayFrequency::Weekly => 52,
            PayFrequency::Biweekly => 26,
            PayFrequency::Semimonthly => 24,
            PayFrequency::Monthly => 12,
            PayFrequency::Quarterly => 4,
            PayFrequency::Semiannual => 2,
            PayFrequency::Annual => 1,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            PayFrequency::Daily => "daily",
            PayFrequency::Weekly => "weekly",
            PayFrequency::Biweekly => "biweekly",
            PayFrequency::Semimonthly => "semimonthly",
            PayFrequency::Monthly => "monthly",
            PayFrequency::Quarterly => "quarterly",
            PayFrequency::Semiannual => "semiannual",
            PayFrequency::Annual => "annual",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OvertimeRules {
    /// Over 40 hours in the workweek at 1.5x.
    Flsa,
    /// California: daily over 8 (1.5x) and over 12 (2x), weekly over 40, 7th consecutive day.
    California,
}

/// Day names for the workweek start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WeekdayName {
    #[default]
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl From<WeekdayName> for Weekday {
    fn from(w: WeekdayName) -> Weekday {
        match w {
            WeekdayName::Monday => Weekday::Mon,
            WeekdayName::Tuesday => Weekday::Tue,
            WeekdayName::Wednesday => Weekday::Wed,
            WeekdayName::Thursday => Weekday::Thu,
            WeekdayName::Friday => Weekday::Fri,
            WeekdayName::Saturday => Weekday::Sat,
            WeekdayName::Sunday => Weekday::Sun,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmployeeProfile {
    #[serde(default)]
    pub tipped: bool,
    #[serde(default)]
    pub flsa_exempt: bool,
    /// Defaults from the work state (California rules in CA, FLSA elsewhere).
    #[serde(default)]
    pub overtime_rules: Option<OvertimeRules>,
    /// First day of the employer's workweek (default Monday).
    #[serde(default)]
    pub workweek_start: WeekdayName,
    /// A local minimum wage above the state's (city or county ordinance), per hour.
    #[serde(
        default,
        deserialize_with = "de_dec_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub minimum_wage: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeEntry {
    #[serde(deserialize_with = "de_date")]
    pub date: NaiveDate,
    #[serde(deserialize_with = "de_dec")]
    pub hours: Decimal,
    #[serde(deserialize_with = "de_dec")]
    pub rate: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// Cash tips the employee kept, reported for this shift.
    #[serde(
        default,
        deserialize_with = "de_money_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub cash_tips: Option<Decimal>,
    /// Card tips paid out through payroll for this shift.
    #[serde(
        default,
        deserialize_with = "de_money_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub charged_tips: Option<Decimal>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EarningType {
    Regular,
    Overtime,
    DoubleTime,
    Salary,
    Bonus,
    Commission,
    Retro,
    Holiday,
    Pto,
    Sick,
    CashTips,
    ChargedTips,
    ServiceCharge,
    Reimbursement,
    TipMakeup,
}

impl EarningType {
    pub fn as_str(self) -> &'static str {
        match self {
            EarningType::Regular => "regular",
            EarningType::Overtime => "overtime",
            EarningType::DoubleTime => "double_time",
            EarningType::Salary => "salary",
            EarningType::Bonus => "bonus",
            EarningType::Commission => "commission",
            EarningType::Retro => "retro",
            EarningType::Holiday => "holiday",
            EarningType::Pto => "pto",
            EarningType::Sick => "sick",
            EarningType::CashTips => "cash_tips",
            EarningType::ChargedTips => "charged_tips",
            EarningType::ServiceCharge => "service_charge",
            EarningType::Reimbursement => "reimbursement",
            EarningType::TipMakeup => "tip_makeup",
        }
    }
    /// Wages for income tax, FICA, FUTA and SUI (everything but reimbursements).
    pub fn is_wages(self) -> bool {
        !matches!(self, EarningType::Reimbursement)
    }
    /// Supplemental wages (Pub 15 section 7): bonuses, commissions, retroactive pay.
    pub fn is_supplemental(self) -> bool {
        matches!(
            self,
            EarningType::Bonus | EarningType::Commission | EarningType::Retro
        )
    }
    /// Tips the employee already holds (cash); taxed, but not paid through this check.
    pub fn paid_outside_payroll(self) -> bool {
        matches!(self, EarningType::CashTips)
    }
    pub fn is_tips(self) -> bool {
        matches!(self, EarningType::CashTips | EarningType::ChargedTips)
    }
}

/// An earning given directly (not from time entries): hours × rate, or an amount.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarningInput {
    #[serde(rename = "type")]
    pub kind: EarningType,
    #[serde(
        default,
        deserialize_with = "de_dec_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub hours: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de_dec_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub rate: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de_money_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub amount: Option<Decimal>,
    /// Salary: the annual amount, divided by the periods per year.
    #[serde(
        default,
        deserialize_with = "de_money_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub annual_amount: Option<Decimal>,
    /// Retro pay: the old rate; the line pays hours × (rate − previous_rate).
    #[serde(
        default,
        deserialize_with = "de_dec_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub previous_rate: Option<Decimal>,
    /// The day it was earned (places tips and bonuses in a workweek).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_date_opt"
    )]
    pub date: Option<NaiveDate>,
    /// Bonus only: true if discretionary (then it stays out of the FLSA regular rate).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub discretionary: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum W4Form {
    #[serde(rename = "2020")]
    Y2020,
    #[serde(rename = "2019")]
    Y2019,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilingStatus {
    Single,
    MarriedFilingJointly,
    MarriedFilingSeparately,
    HeadOfHousehold,
    /// 2019-or-earlier form.
    Married,
    /// 2019-or-earlier form: "Married, but withhold at higher Single rate".
    MarriedWithholdSingle,
}

impl FilingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FilingStatus::Single => "single",
            FilingStatus::MarriedFilingJointly => "married_filing_jointly",
            FilingStatus::MarriedFilingSeparately => "married_filing_separately",
            FilingStatus::HeadOfHousehold => "head_of_household",
            FilingStatus::Married => "married",
            FilingStatus::MarriedWithholdSingle => "married_withhold_single",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SupplementalMethod {
    /// Flat 22% on separately identified supplemental wages (Pub 15 section 7, method 1a).
    #[default]
    Flat,
    /// Add to regular wages and withhold on the total (aggregate method).
    Aggregate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederalW4 {
    pub form: W4Form,
    pub filing_status: FilingStatus,
    /// Step 2 checkbox (2020+ form).
    #[serde(default)]
    pub multiple_jobs: bool,
    /// Step 3 (2020+ form), annual.
    #[serde(
        default,
        deserialize_with = "de_money_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub dependents_amount: Option<Decimal>,
    /// Step 4(a) (2020+ form), annual.
    #[serde(
        default,
        deserialize_with = "de_money_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub other_income: Option<Decimal>,
    /// Step 4(b) (2020+ form), annual.
    #[serde(
        default,
        deserialize_with = "de_money_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub deductions: Option<Decimal>,
    /// Step 4(c) (2020+) or line 6 (2019-), per pay period.
    #[serde(
        default,
        deserialize_with = "de_money_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub extra_withholding: Option<Decimal>,
    /// 2019-or-earlier form only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowances: Option<u32>,
    #[serde(default)]
    pub exempt: bool,
    #[serde(default)]
    pub supplemental_method: SupplementalMethod,
}

/// A state withholding certificate (DE 4, IT-2104, IL-W-4, ...). Fields apply as the state uses them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateW4 {
    /// `single`, `married` or `head_of_household` (CA, NY).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filing_status: Option<String>,
    /// CA DE 4 regular allowances; NY IT-2104 allowances; IL-W-4 line 1 basic allowances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowances: Option<u32>,
    /// CA DE 4 estimated-deduction allowances; IL-W-4 line 2 additional allowances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_allowances: Option<u32>,
    /// Extra amount per pay period.
    #[serde(
        default,
        deserialize_with = "de_money_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub extra_withholding: Option<Decimal>,
    #[serde(default)]
    pub exempt: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeductionType {
    /// Pre-tax: reduces income-tax wages only.
    #[serde(rename = "401k")]
    K401,
    #[serde(rename = "403b")]
    B403,
    #[serde(rename = "457b")]
    B457,
    /// Pre-tax, section 125 cafeteria plan premium: reduces income-tax and FICA wages.
    #[serde(rename = "section_125")]
    Section125,
    /// Health FSA (section 125).
    Fsa,
    /// Dependent care FSA (section 125/129).
    DependentCare,
    /// HSA through a section 125 plan.
    Hsa,
    /// Post-tax.
    #[serde(rename = "roth_401k")]
    Roth401k,
    UnionDues,
    Loan,
    Other,
    /// System line: cash tips the employee already holds (offsets gross; never input).
    CashTipsPaid,
}

impl DeductionType {
    pub fn as_str(self) -> &'static str {
        match self {
            DeductionType::K401 => "401k",
            DeductionType::B403 => "403b",
            DeductionType::B457 => "457b",
            DeductionType::Section125 => "section_125",
            DeductionType::Fsa => "fsa",
            DeductionType::DependentCare => "dependent_care",
            DeductionType::Hsa => "hsa",
            DeductionType::Roth401k => "roth_401k",
            DeductionType::UnionDues => "union_dues",
            DeductionType::Loan => "loan",
            DeductionType::Other => "other",
            DeductionType::CashTipsPaid => "cash_tips_paid",
        }
    }
    /// The trace line id, `deduction:{type}`.
    pub fn trace_line(self) -> &'static str {
        match self {
            DeductionType::K401 => "deduction:401k",
            DeductionType::B403 => "deduction:403b",
            DeductionType::B457 => "deduction:457b",
            DeductionType::Section125 => "deduction:section_125",
            DeductionType::Fsa => "deduction:fsa",
            DeductionType::DependentCare => "deduction:dependent_care",
            DeductionType::Hsa => "deduction:hsa",
            DeductionType::Roth401k => "deduction:roth_401k",
            DeductionType::UnionDues => "deduction:union_dues",
            DeductionType::Loan => "deduction:loan",
            DeductionType::Other => "deduction:other",
            DeductionType::CashTipsPaid => "deduction:cash_tips_paid",
        }
    }
    pub fn is_pre_tax(self) -> bool {
        matches!(
            self,
            DeductionType::K401
                | DeductionType::B403
                | DeductionType::B457
                | DeductionType::Section125
                | DeductionType::Fsa
                | DeductionType::DependentCare
                | DeductionType::Hsa
        )
    }
    /// Counts toward the 402(g) elective-deferral limit.
    pub fn is_elective_deferral(self) -> bool {
        matches!(
            self,
            DeductionType::K401 | DeductionType::B403 | DeductionType::Roth401k
        )
    }
    /// Reduces Social Security and Medicare wages too (section 125 plans).
    pub fn reduces_fica(self) -> bool {
        matches!(
            self,
            DeductionType::Section125
                | DeductionType::Fsa
                | DeductionType::DependentCare
                | DeductionType::Hsa
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HsaCoverage {
    SelfOnly,
    Family,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeductionInput {
    #[serde(rename = "type")]
    pub kind: DeductionType,
    /// Fixed amount per pay period.
    #[serde(
        default,
        deserialize_with = "de_money_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub amount: Option<Decimal>,
    /// Or a percentage of gross wages (e.g. "5" for 5%).
    #[serde(
        default,
        deserialize_with = "de_dec_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub percent: Option<Decimal>,
    /// An annual cap set by the plan (the statutory cap applies anyway).
    #[serde(
        default,
        deserialize_with = "de_money_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub annual_limit: Option<Decimal>,
    /// Taken so far this year for this deduction (for caps other than 401(k), which uses `ytd.401k`).
    #[serde(
        default,
        deserialize_with = "de_money_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub ytd: Option<Decimal>,
    /// HSA only: self-only or family coverage (default self-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<HsaCoverage>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GarnishmentType {
    ChildSupport,
    TaxLevy,
    StudentLoan,
    Creditor,
}

impl GarnishmentType {
    pub fn as_str(self) -> &'static str {
        match self {
            GarnishmentType::ChildSupport => "child_support",
            GarnishmentType::TaxLevy => "tax_levy",
            GarnishmentType::StudentLoan => "student_loan",
            GarnishmentType::Creditor => "creditor",
        }
    }
    /// The trace line id, `garnishment:{type}`.
    pub fn trace_line(self) -> &'static str {
        match self {
            GarnishmentType::ChildSupport => "garnishment:child_support",
            GarnishmentType::TaxLevy => "garnishment:tax_levy",
            GarnishmentType::StudentLoan => "garnishment:student_loan",
            GarnishmentType::Creditor => "garnishment:creditor",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GarnishmentInput {
    #[serde(rename = "type")]
    pub kind: GarnishmentType,
    /// Amount ordered per pay period (for a tax levy: leave out to take all above the exempt amount).
    #[serde(
        default,
        deserialize_with = "de_money_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub amount: Option<Decimal>,
    /// Or a percentage of disposable earnings.
    #[serde(
        default,
        deserialize_with = "de_dec_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub percent: Option<Decimal>,
    /// Child support: the CCPA limit that applies (50, 55, 60 or 65; default 50).
    #[serde(
        default,
        deserialize_with = "de_dec_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub limit_percent: Option<Decimal>,
    /// Tax levy: the amount exempt per pay period (IRS Pub 1494 table for the employee).
    #[serde(
        default,
        deserialize_with = "de_money_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub exempt_amount: Option<Decimal>,
    /// Processing fee per pay period allowed by the order or state law.
    #[serde(
        default,
        deserialize_with = "de_money_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub fee: Option<Decimal>,
    /// The caller's reference for the order (case number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

fn is_zero(d: &Decimal) -> bool {
    d.is_zero()
}

/// Year-to-date amounts from this employer before this paycheck.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ytd {
    #[serde(
        default,
        deserialize_with = "de_money",
        serialize_with = "crate::money::ser_money",
        skip_serializing_if = "is_zero"
    )]
    pub gross: Decimal,
    #[serde(
        default,
        deserialize_with = "de_money",
        serialize_with = "crate::money::ser_money",
        skip_serializing_if = "is_zero"
    )]
    pub fit_wages: Decimal,
    #[serde(
        default,
        deserialize_with = "de_money",
        serialize_with = "crate::money::ser_money",
        skip_serializing_if = "is_zero"
    )]
    pub social_security_wages: Decimal,
    #[serde(
        default,
        deserialize_with = "de_money",
        serialize_with = "crate::money::ser_money",
        skip_serializing_if = "is_zero"
    )]
    pub medicare_wages: Decimal,
    #[serde(
        default,
        deserialize_with = "de_money",
        serialize_with = "crate::money::ser_money",
        skip_serializing_if = "is_zero"
    )]
    pub futa_wages: Decimal,
    #[serde(
        default,
        deserialize_with = "de_money",
        serialize_with = "crate::money::ser_money",
        skip_serializing_if = "is_zero"
    )]
    pub sui_wages: Decimal,
    #[serde(
        default,
        deserialize_with = "de_money",
        serialize_with = "crate::money::ser_money",
        skip_serializing_if = "is_zero"
    )]
    pub sdi_wages: Decimal,
    #[serde(
        default,
        deserialize_with = "de_money",
        serialize_with = "crate::money::ser_money",
        skip_serializing_if = "is_zero"
    )]
    pub supplemental: Decimal,
    #[serde(
        rename = "401k",
        default,
        deserialize_with = "de_money",
        serialize_with = "crate::money::ser_money",
        skip_serializing_if = "is_zero"
    )]
    pub k401: Decimal,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmployerSettings {
    /// SUI employer rate for the work state, as a fraction (e.g. "0.034").
    #[serde(
        default,
        deserialize_with = "de_dec_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub sui_rate: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de_money_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub sui_wage_base: Option<Decimal>,
    /// FUTA credit reduction for the work state, as a fraction (e.g. "0.009" for California 2024).
    #[serde(
        default,
        deserialize_with = "de_dec_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub futa_credit_reduction: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaycheckRequest {
    #[serde(deserialize_with = "de_date")]
    pub pay_date: NaiveDate,
    pub pay_frequency: PayFrequency,
    pub work_state: StateCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident_state: Option<StateCode>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_date_opt"
    )]
    pub period_start: Option<NaiveDate>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_date_opt"
    )]
    pub period_end: Option<NaiveDate>,
    #[serde(default)]
    pub employee: EmployeeProfile,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub time_entries: Vec<TimeEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earnings: Vec<EarningInput>,
    /// No W-4 on file: withhold as Single with no adjustments (Pub 15 section 9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federal_w4: Option<FederalW4>,
    /// State certificates keyed by state code, e.g. `{"CA": {"filing_status": "single", "allowances": 1}}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub state_w4: BTreeMap<StateCode, StateW4>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deductions: Vec<DeductionInput>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub garnishments: Vec<GarnishmentInput>,
    #[serde(default)]
    pub ytd: Ytd,
    #[serde(default)]
    pub employer: EmployerSettings,
}

/// Parse a request from JSON text; errors name the field path (`time_entries[2].hours: ...`).
pub fn parse_request(json: &str) -> Result<PaycheckRequest, crate::CalcError> {
    // Fast path: a plain parse. Tracking the field path costs an allocation per key, so it is
    // only done to explain a request that failed to parse.
    if let Ok(r) = serde_json::from_str::<PaycheckRequest>(json) {
        return Ok(r);
    }
    let de = &mut serde_json::Deserializer::from_str(json);
    match serde_path_to_error::deserialize::<_, PaycheckRequest>(de) {
        Ok(r) => Ok(r),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let field = if path == "." || path == "?" || path.starts_with('[') {
                "request".to_owned()
            } else {
                path
            };
            let msg = inner.to_string();
            // serde_json appends " at line L column C"; keep it only for syntax errors.
            let msg = if inner.is_syntax() || inner.is_eof() {
                msg
            } else {
                msg.rsplit_once(" at line ")
                    .map(|(m, _)| m.to_owned())
                    .unwrap_or(msg)
            };
            Err(crate::CalcError::invalid(field, msg))
        }
    }
}

#[cfg(test)]
mod trace_line_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Fast(#[serde(deserialize_with = "de_date")] NaiveDate);

    /// What `de_date` reads `json` as, and what chrono's own `Deserialize` reads it as (value or
    /// error message).
    fn both(json: &str) -> (Result<NaiveDate, String>, Result<NaiveDate, String>) {
        (
            serde_json::from_str::<Fast>(json)
                .map(|f| f.0)
                .map_err(|e| e.to_string()),
            serde_json::from_str::<NaiveDate>(json).map_err(|e| e.to_string()),
        )
    }

    #[test]
    fn dates_read_as_chrono_reads_them() {
        for json in [
            r#""2025-03-21""#,
            r#""0000-01-01""#,
            r#""9999-12-31""#,
            r#""2024-02-29""#,
            r#""2025-02-29""#,
            r#""2025-13-01""#,
            r#""2025-00-10""#,
            r#""2025-3-21""#,
            r#""+12025-03-21""#,
            r#""2025/03/21""#,
            r#"" 2025-03-21""#,
            r#""2025-03-21 ""#,
            r#""2025-03-2x""#,
            r#""""#,
            r#""2025-03-21""#,
            "20250321",
            "null",
            "[]",
        ] {
            let (fast, chrono) = both(json);
            assert_eq!(fast, chrono, "{json}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_date_text_reads_as_chrono_reads_it(s in "[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9-]{8,11}") {
            let json = serde_json::to_string(&s).unwrap();
            let (fast, chrono) = both(&json);
            proptest::prop_assert_eq!(fast, chrono);
        }
    }

    #[test]
    fn state_codes_index_their_position() {
        for (i, code) in ALL_STATES.iter().enumerate() {
            let c = StateCode::parse(code).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(c.index(), i, "{code}");
            assert_eq!(c.as_str(), *code);
        }
        assert_eq!(STATE_INDEX.iter().filter(|&&i| i != u8::MAX).count(), 51);
        assert!(StateCode::parse("ZZ").is_err());
    }

    #[test]
    fn trace_lines_are_prefix_and_type() {
        use DeductionType as D;
        for d in [
            D::K401,
            D::B403,
            D::B457,
            D::Section125,
            D::Fsa,
            D::DependentCare,
            D::Hsa,
            D::Roth401k,
            D::UnionDues,
            D::Loan,
            D::Other,
            D::CashTipsPaid,
        ] {
            assert_eq!(d.trace_line(), format!("deduction:{}", d.as_str()));
        }
        use GarnishmentType as G;
        for g in [G::ChildSupport, G::TaxLevy, G::StudentLoan, G::Creditor] {
            assert_eq!(g.trace_line(), format!("garnishment:{}", g.as_str()));
        }
    }
}
