//! The paycheck result: lines, totals and the trace that explains them.

use crate::json::JsonOut;
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

impl Payer {
    pub fn as_str(self) -> &'static str {
        match self {
            Payer::Employee => "employee",
            Payer::Employer => "employer",
        }
    }
}

impl PaycheckResult {
    /// The result as JSON: the same text as `serde_json::to_string(self)`, written directly
    /// (several times faster; see `json.rs`). Every structure is destructured in full, so a new
    /// field does not compile until it is written here too.
    pub fn to_json(&self) -> String {
        let PaycheckResult {
            pay_date,
            pay_frequency,
            gross_pay,
            net_pay,
            employer_cost,
            hours,
            earnings,
            taxes,
            deductions,
            garnishments,
            ytd_after,
            rule_packs,
            trace,
        } = self;
        let mut j = JsonOut::with_capacity(16 * 1024);
        j.open_obj();
        j.key("pay_date");
        j.date(*pay_date);
        j.key("pay_frequency");
        j.str(pay_frequency.as_str());
        j.key("gross_pay");
        j.money(gross_pay);
        j.key("net_pay");
        j.money(net_pay);
        j.key("employer_cost");
        j.money(employer_cost);
        j.key("hours");
        let HoursSummary {
            regular,
            overtime,
            double_time,
        } = hours;
        j.open_obj();
        j.key("regular");
        j.money(regular);
        j.key("overtime");
        j.money(overtime);
        j.key("double_time");
        j.money(double_time);
        j.close_obj();
        list(&mut j, "earnings", earnings, |j, x| x.write_json(j));
        list(&mut j, "taxes", taxes, |j, x| x.write_json(j));
        list(&mut j, "deductions", deductions, |j, x| x.write_json(j));
        list(&mut j, "garnishments", garnishments, |j, x| x.write_json(j));
        j.key("ytd_after");
        write_ytd(&mut j, ytd_after);
        list(&mut j, "rule_packs", rule_packs, |j, p| j.str(p));
        list(&mut j, "trace", trace, |j, x| x.write_json(j));
        j.close_obj();
        j.finish()
    }

    /// Employee tax withheld for `code`, if the line exists.
    pub fn tax(&self, code: &str) -> Option<&TaxLine> {
        self.taxes.iter().find(|t| t.code == code)
    }
}

/// A field holding a JSON array, one element per item.
fn list<T>(j: &mut JsonOut, name: &str, items: &[T], each: impl Fn(&mut JsonOut, &T)) {
    j.key(name);
    j.open_arr();
    for x in items {
        j.elem();
        each(j, x);
    }
    j.close_arr();
}

/// An optional money field, left out when absent (`skip_serializing_if = "Option::is_none"`).
fn money_opt(j: &mut JsonOut, name: &str, v: &Option<Decimal>) {
    if let Some(v) = v {
        j.key(name);
        j.money(v);
    }
}

impl EarningLine {
    fn write_json(&self, j: &mut JsonOut) {
        let EarningLine {
            kind,
            job,
            hours,
            rate,
            amount,
        } = self;
        j.open_obj();
        j.key("type");
        j.str(kind.as_str());
        if let Some(job) = job {
            j.key("job");
            j.str(job);
        }
        money_opt(j, "hours", hours);
        money_opt(j, "rate", rate);
        j.key("amount");
        j.money(amount);
        j.close_obj();
    }
}

impl TaxLine {
    fn write_json(&self, j: &mut JsonOut) {
        let TaxLine {
            code,
            payer,
            taxable_wages,
            amount,
            uncollected,
        } = self;
        j.open_obj();
        j.key("code");
        j.str(code);
        j.key("payer");
        j.str(payer.as_str());
        j.key("taxable_wages");
        j.money(taxable_wages);
        j.key("amount");
        j.money(amount);
        money_opt(j, "uncollected", uncollected);
        j.close_obj();
    }
}

impl DeductionLine {
    fn write_json(&self, j: &mut JsonOut) {
        let DeductionLine {
            kind,
            pre_tax,
            amount,
            not_taken,
        } = self;
        j.open_obj();
        j.key("type");
        j.str(kind.as_str());
        j.key("pre_tax");
        j.bool(*pre_tax);
        j.key("amount");
        j.money(amount);
        money_opt(j, "not_taken", not_taken);
        j.close_obj();
    }
}

impl GarnishmentLine {
    fn write_json(&self, j: &mut JsonOut) {
        let GarnishmentLine {
            kind,
            reference,
            amount,
            fee,
            ordered,
        } = self;
        j.open_obj();
        j.key("type");
        j.str(kind.as_str());
        if let Some(r) = reference {
            j.key("reference");
            j.str(r);
        }
        j.key("amount");
        j.money(amount);
        money_opt(j, "fee", fee);
        j.key("ordered");
        j.money(ordered);
        j.close_obj();
    }
}

/// `Ytd` as serialized: zero amounts are left out.
fn write_ytd(j: &mut JsonOut, y: &Ytd) {
    let Ytd {
        gross,
        fit_wages,
        social_security_wages,
        medicare_wages,
        futa_wages,
        sui_wages,
        sdi_wages,
        supplemental,
        k401,
    } = y;
    j.open_obj();
    for (name, v) in [
        ("gross", gross),
        ("fit_wages", fit_wages),
        ("social_security_wages", social_security_wages),
        ("medicare_wages", medicare_wages),
        ("futa_wages", futa_wages),
        ("sui_wages", sui_wages),
        ("sdi_wages", sdi_wages),
        ("supplemental", supplemental),
        ("401k", k401),
    ] {
        if !v.is_zero() {
            j.key(name);
            j.money(v);
        }
    }
    j.close_obj();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::{calculate, parse_request};

    #[test]
    fn enum_names_are_their_serde_names() {
        fn check<T: Serialize + serde::de::DeserializeOwned>(
            names: &[&str],
            as_str: fn(T) -> &'static str,
        ) {
            for n in names {
                let v: T = serde_json::from_str(&format!("\"{n}\"")).unwrap();
                assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{n}\""));
                assert_eq!(as_str(v), *n);
            }
        }
        check::<EarningType>(
            &[
                "regular",
                "overtime",
                "double_time",
                "salary",
                "bonus",
                "commission",
                "retro",
                "holiday",
                "pto",
                "sick",
                "cash_tips",
                "charged_tips",
                "service_charge",
                "reimbursement",
                "tip_makeup",
            ],
            EarningType::as_str,
        );
        check::<DeductionType>(
            &[
                "401k",
                "403b",
                "457b",
                "section_125",
                "fsa",
                "dependent_care",
                "hsa",
                "roth_401k",
                "union_dues",
                "loan",
                "other",
                "cash_tips_paid",
            ],
            DeductionType::as_str,
        );
        check::<GarnishmentType>(
            &["child_support", "tax_levy", "student_loan", "creditor"],
            GarnishmentType::as_str,
        );
        check::<PayFrequency>(
            &[
                "daily",
                "weekly",
                "biweekly",
                "semimonthly",
                "monthly",
                "quarterly",
                "semiannual",
                "annual",
            ],
            PayFrequency::as_str,
        );
        check::<Payer>(&["employee", "employer"], Payer::as_str);
    }

    #[test]
    fn texts_that_need_escaping_are_written_as_serde_json_writes_them() {
        // A job label and a garnishment reference with quotes, a backslash, a tab and non-ASCII
        // text; several jobs and rates (the regular rate's overtime texts), a garnishment fee.
        let req = serde_json::json!({
            "pay_date": "2025-03-21", "pay_frequency": "biweekly", "work_state": "TX",
            "period_start": "2025-03-03", "period_end": "2025-03-16",
            "time_entries": [
                {"date": "2025-03-03", "hours": "12", "rate": "15.00", "job": "Bar \"A\"\t\\ é"},
                {"date": "2025-03-04", "hours": "12", "rate": "15.00", "job": "Bar \"A\"\t\\ é"},
                {"date": "2025-03-05", "hours": "12", "rate": "19.25", "job": "cook ½"},
                {"date": "2025-03-06", "hours": "12", "rate": "19.25", "job": "cook ½"},
            ],
            "earnings": [{"type": "bonus", "amount": "150.00"}],
            "federal_w4": {"form": "2020", "filing_status": "single"},
            "garnishments": [{"type": "creditor", "amount": "50.00", "reference": "Case \"7\"\\B\u{2028}"}],
        });
        let r = calculate(&parse_request(&req.to_string()).unwrap()).unwrap();
        let written = r.to_json();
        assert!(written.contains(r#"Bar \"A\"\t\\ é"#), "{written}");
        assert_eq!(written, serde_json::to_string(&r).unwrap());
        // Read back (owned labels and texts; inputs and steps in their order), it writes the
        // same text.
        let back: PaycheckResult = serde_json::from_str(&written).unwrap();
        assert_eq!(back.to_json(), written);
        assert_eq!(back.trace.len(), r.trace.len());
    }
}
