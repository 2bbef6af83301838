//! A pay stub as a statement: every earnings, tax, deduction, garnishment and employer line with
//! its current amount, its year-to-date amount and the explanation of how it was calculated;
//! the totals; the employer and the employee (SSN masked). The JSON (`statement`) and the PDF
//! both render this.
//!
//! - Year to date is the sum of the employee's stubs of the same calendar year up to and
//!   including this one (by pay date, then creation), line by line. Lines that had amounts
//!   earlier in the year but none on this stub are listed with a current amount of zero.
//! - A reversal stub (run type `correction`: a void of a paid run) stores the reversed paycheck
//!   and counts negatively.
//! - Earnings lines of the same type and job are shown as one line: hours summed, the rate when
//!   they share one.
//! - The explanation of a line is its calculation trace (rule, rule pack, inputs, parameters
//!   with their sources, intermediate steps in order, the rounding) in words.

use rust_decimal::Decimal;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// What is read from a stored paycheck result (the calculation contract, read leniently)

/// A JSON object read with its keys in document order (traces list steps in order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ordered(pub Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, Value>()? {
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct EarningIn {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub job: Option<String>,
    #[serde(default)]
    pub hours: Option<Decimal>,
    #[serde(default)]
    pub rate: Option<Decimal>,
    pub amount: Decimal,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TaxIn {
    pub code: String,
    pub payer: String,
    #[serde(default)]
    pub taxable_wages: Decimal,
    pub amount: Decimal,
    #[serde(default)]
    pub uncollected: Option<Decimal>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DeductionIn {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub pre_tax: bool,
    pub amount: Decimal,
    #[serde(default)]
    pub not_taken: Option<Decimal>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GarnishmentIn {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub reference: Option<String>,
    pub amount: Decimal,
    #[serde(default)]
    pub fee: Option<Decimal>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HoursIn {
    #[serde(default)]
    pub regular: Decimal,
    #[serde(default)]
    pub overtime: Decimal,
    #[serde(default)]
    pub double_time: Decimal,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ParamIn {
    pub name: String,
    pub value: Value,
    #[serde(default)]
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RoundingIn {
    pub exact: Value,
    pub rounded: Value,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TraceIn {
    pub line: String,
    pub rule: String,
    #[serde(default)]
    pub rule_pack: Option<String>,
    #[serde(default)]
    pub inputs: Ordered,
    #[serde(default)]
    pub params: Vec<ParamIn>,
    #[serde(default)]
    pub steps: Ordered,
    #[serde(default)]
    pub rounding: Option<RoundingIn>,
}

/// The lines of one paycheck (what year-to-date sums).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Lines {
    #[serde(default)]
    pub earnings: Vec<EarningIn>,
    #[serde(default)]
    pub taxes: Vec<TaxIn>,
    #[serde(default)]
    pub deductions: Vec<DeductionIn>,
    #[serde(default)]
    pub garnishments: Vec<GarnishmentIn>,
}

/// This stub's paycheck: its lines plus hours, rule packs and the trace.
#[derive(Debug, Clone, Deserialize)]
pub struct ResultIn {
    #[serde(flatten)]
    pub lines: Lines,
    #[serde(default)]
    pub hours: HoursIn,
    #[serde(default)]
    pub rule_packs: Vec<String>,
    #[serde(default)]
    pub trace: Vec<TraceIn>,
}

/// One stub of the year up to this one, for year-to-date.
#[derive(Debug, Clone)]
pub struct YtdStub {
    /// -1 for a reversal stub.
    pub sign: Decimal,
    pub lines: Lines,
    pub gross_pay: Decimal,
    pub net_pay: Decimal,
    pub employee_taxes: Decimal,
    pub employer_taxes: Decimal,
}

// ---------------------------------------------------------------------------------------------
// The statement

/// The employer as printed on the stub.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Employer {
    pub name: String,
    pub ein: Option<String>,
    pub address: Vec<String>,
}

/// The employee as printed on the stub (SSN masked: `***-**-6789`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Employee {
    pub id: Uuid,
    pub name: String,
    pub ssn: Option<String>,
    pub address: Vec<String>,
}

/// One line: current and year-to-date amounts (money as strings), and how it was calculated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StubLine {
    /// `earning:regular:server`, `tax:US_FIT`, `deduction:401k`, `employer:US_FUTA`, ...
    pub code: String,
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hours: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<String>,
    pub current: String,
    pub ytd: String,
    /// The calculation, in words (absent for a line that is only year-to-date here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

/// A total: current and year to date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Total {
    pub label: String,
    pub current: String,
    pub ytd: String,
}

/// An explanation that belongs to no single amount (hours by workweek).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    pub label: String,
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    pub stub_id: Uuid,
    pub run_id: Uuid,
    pub run_type: String,
    pub pay_date: chrono::NaiveDate,
    pub period_start: chrono::NaiveDate,
    pub period_end: chrono::NaiveDate,
    pub employer: Employer,
    pub employee: Employee,
    /// Hours this period: regular, overtime, double time.
    pub hours: BTreeMap<String, String>,
    pub earnings: Vec<StubLine>,
    /// Employee taxes withheld.
    pub taxes: Vec<StubLine>,
    pub deductions: Vec<StubLine>,
    pub garnishments: Vec<StubLine>,
    /// Employer taxes (paid by the employer, not taken from the pay).
    pub employer_contributions: Vec<StubLine>,
    /// Gross pay, taxes, deductions, garnishments, net pay; employer contributions.
    pub totals: Vec<Total>,
    pub net_pay: Total,
    pub hours_by_workweek: Vec<Note>,
    pub rule_packs: Vec<String>,
}

/// What the stub row says about itself.
#[derive(Debug, Clone)]
pub struct StubHead {
    pub stub_id: Uuid,
    pub run_id: Uuid,
    pub run_type: String,
    pub pay_date: chrono::NaiveDate,
    pub period_start: chrono::NaiveDate,
    pub period_end: chrono::NaiveDate,
    pub gross_pay: Decimal,
    pub net_pay: Decimal,
    pub employee_taxes: Decimal,
    pub employer_taxes: Decimal,
}

/// Money as printed: `1234.50`, `-12.00`.
pub fn money(d: Decimal) -> String {
    let mut c = payroll_domain::money::cents(d);
    if c.is_zero() {
        c = Decimal::new(0, 2);
    }
    c.to_string()
}

fn hours_text(d: Decimal) -> String {
    let mut h = d.round_dp(2);
    h.rescale(2);
    h.to_string()
}

/// A rate with at least two decimals: `20.00`, `16.5` → `16.50`, `17.123456`.
fn rate_text(d: Decimal) -> String {
    let mut r = d.normalize();
    if r.scale() < 2 {
        r.rescale(2);
    }
    r.to_string()
}

fn earning_label(kind: &str) -> String {
    match kind {
        "regular" => "Regular".into(),
        "overtime" => "Overtime".into(),
        "double_time" => "Double time".into(),
        "salary" => "Salary".into(),
        "bonus" => "Bonus".into(),
        "commission" => "Commission".into(),
        "retro" => "Retroactive pay".into(),
        "holiday" => "Holiday".into(),
        "pto" => "Paid time off".into(),
        "sick" => "Sick pay".into(),
        "cash_tips" => "Cash tips (declared)".into(),
        "charged_tips" => "Charged tips".into(),
        "service_charge" => "Service charges".into(),
        "reimbursement" => "Reimbursement (not wages)".into(),
        "tip_makeup" => "Tip credit make-up".into(),
        other => other.replace('_', " "),
    }
}

fn tax_label(code: &str) -> String {
    match code {
        "US_FIT" => "Federal income tax".into(),
        "US_SS" => "Social Security".into(),
        "US_MEDICARE" => "Medicare".into(),
        "US_ADDL_MEDICARE" => "Additional Medicare".into(),
        "US_SS_ER" => "Social Security (employer)".into(),
        "US_MEDICARE_ER" => "Medicare (employer)".into(),
        "US_FUTA" => "Federal unemployment (FUTA)".into(),
        "CA_SDI" => "CA disability insurance (SDI)".into(),
        other => match other.split_once('_') {
            Some((st, "SIT")) => format!("{st} state income tax"),
            Some((st, "SUI")) => format!("{st} unemployment insurance (SUI)"),
            Some((st, "SDI")) => format!("{st} disability insurance"),
            _ => other.to_owned(),
        },
    }
}

fn deduction_label(kind: &str, pre_tax: bool) -> String {
    let name = match kind {
        "401k" => "401(k)",
        "403b" => "403(b)",
        "457b" => "457(b)",
        "section_125" => "Section 125 plan",
        "fsa" => "Health FSA",
        "dependent_care" => "Dependent care FSA",
        "hsa" => "HSA",
        "roth_401k" => "Roth 401(k)",
        "union_dues" => "Union dues",
        "loan" => "Loan repayment",
        "other" => "Other deduction",
        "cash_tips_paid" => return "Cash tips already received".into(),
        other => other,
    };
    format!("{name} ({})", if pre_tax { "pre-tax" } else { "after tax" })
}

fn garnishment_label(kind: &str, reference: Option<&str>) -> String {
    let name = match kind {
        "child_support" => "Child support",
        "tax_levy" => "Tax levy",
        "student_loan" => "Student loan garnishment",
        "creditor" => "Creditor garnishment",
        other => other,
    };
    match reference {
        Some(r) if !r.is_empty() => format!("{name} ({r})"),
        _ => name.to_owned(),
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "none".into(),
        other => other.to_string(),
    }
}

/// A trace in words.
pub fn explain(t: &TraceIn) -> String {
    let mut out = t.rule.clone();
    if let Some(p) = &t.rule_pack {
        out.push_str(&format!(" ({p})"));
    }
    out.push('.');
    let fields = |title: &str, f: &Ordered| {
        if f.0.is_empty() {
            return String::new();
        }
        let parts: Vec<String> =
            f.0.iter()
                .map(|(k, v)| format!("{} = {}", k.replace('_', " "), value_text(v)))
                .collect();
        format!(" {title}: {}.", parts.join("; "))
    };
    out.push_str(&fields("Inputs", &t.inputs));
    if !t.params.is_empty() {
        let parts: Vec<String> = t
            .params
            .iter()
            .map(|p| {
                let v = format!("{} = {}", p.name.replace('_', " "), value_text(&p.value));
                if p.source.is_empty() {
                    v
                } else {
                    format!("{v} ({})", p.source)
                }
            })
            .collect();
        out.push_str(&format!(" Parameters: {}.", parts.join("; ")));
    }
    out.push_str(&fields("Steps", &t.steps));
    if let Some(r) = &t.rounding {
        out.push_str(&format!(
            " Rounded half away from zero to the cent: {} -> {}.",
            value_text(&r.exact),
            value_text(&r.rounded)
        ));
    }
    out
}

/// Hands out the traces of a prefix (`earning:regular`) in order, one per line.
struct Traces<'a> {
    all: &'a [TraceIn],
    used: Vec<bool>,
}

impl<'a> Traces<'a> {
    fn new(all: &'a [TraceIn]) -> Traces<'a> {
        Traces {
            all,
            used: vec![false; all.len()],
        }
    }

    fn matches(line: &str, prefix: &str) -> bool {
        line == prefix
            || line
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with(':'))
    }

    /// The next unused trace of `prefix`.
    fn next(&mut self, prefix: &str) -> Option<String> {
        let i = (0..self.all.len())
            .find(|&i| !self.used[i] && Traces::matches(&self.all[i].line, prefix))?;
        self.used[i] = true;
        Some(explain(&self.all[i]))
    }

    /// Every unused trace of `prefix` (left over when lines and traces differ in number).
    fn rest(&mut self, prefix: &str) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(e) = self.next(prefix) {
            out.push(e);
        }
        out
    }
}

/// Lines by key in first-seen order, with current and YTD sums.
struct Book {
    order: Vec<String>,
    rows: BTreeMap<String, Row>,
}

struct Row {
    label: String,
    hours: Option<Decimal>,
    rate: Option<Option<Decimal>>,
    current: Decimal,
    ytd: Decimal,
    explanations: Vec<String>,
    on_this_stub: bool,
}

impl Book {
    fn new() -> Book {
        Book {
            order: Vec::new(),
            rows: BTreeMap::new(),
        }
    }

    fn row(&mut self, key: &str, label: impl FnOnce() -> String) -> &mut Row {
        if !self.rows.contains_key(key) {
            self.order.push(key.to_owned());
        }
        self.rows.entry(key.to_owned()).or_insert_with(|| Row {
            label: label(),
            hours: None,
            rate: None,
            current: Decimal::ZERO,
            ytd: Decimal::ZERO,
            explanations: Vec::new(),
            on_this_stub: false,
        })
    }

    fn current(
        &mut self,
        key: &str,
        label: impl FnOnce() -> String,
        amount: Decimal,
        explanation: Option<String>,
    ) -> &mut Row {
        let r = self.row(key, label);
        r.current += amount;
        r.on_this_stub = true;
        r.explanations.extend(explanation);
        r
    }

    fn lines(self) -> Vec<StubLine> {
        let mut rows = self.rows;
        self.order
            .into_iter()
            .filter_map(|k| rows.remove(&k).map(|r| (k, r)))
            .map(|(code, r)| StubLine {
                code,
                label: r.label,
                hours: r.hours.map(hours_text),
                rate: r.rate.flatten().map(rate_text),
                current: money(r.current),
                ytd: money(r.ytd),
                explanation: if r.explanations.is_empty() {
                    None
                } else {
                    Some(r.explanations.join(" "))
                },
            })
            .collect()
    }
}

fn earning_key(e: &EarningIn) -> String {
    match &e.job {
        Some(j) => format!("earning:{}:{j}", e.kind),
        None => format!("earning:{}", e.kind),
    }
}

fn earning_row_label(e: &EarningIn) -> String {
    match &e.job {
        Some(j) => format!("{} ({j})", earning_label(&e.kind)),
        None => earning_label(&e.kind),
    }
}

fn deduction_key(d: &DeductionIn) -> String {
    format!("deduction:{}", d.kind)
}

fn garnishment_key(g: &GarnishmentIn) -> String {
    match &g.reference {
        Some(r) => format!("garnishment:{}:{r}", g.kind),
        None => format!("garnishment:{}", g.kind),
    }
}

fn tax_key(t: &TaxIn) -> String {
    if t.payer == "employer" {
        format!("employer:{}", t.code)
    } else {
        format!("tax:{}", t.code)
    }
}

/// Build the statement of `head` from its paycheck `result` and the year's stubs up to and
/// including it (`ytd`, this stub among them).
pub fn build(
    head: &StubHead,
    result: &ResultIn,
    ytd: &[YtdStub],
    employer: Employer,
    employee: Employee,
) -> Statement {
    let sign = stub_sign(&head.run_type);
    let mut traces = Traces::new(&result.trace);
    let mut earnings = Book::new();
    let mut taxes = Book::new();
    let mut employer_book = Book::new();
    let mut deductions = Book::new();
    let mut garnishments = Book::new();

    // This stub, in the order of the paycheck.
    for e in &result.lines.earnings {
        let ex = traces.next(&format!("earning:{}", e.kind));
        let r = earnings.current(
            &earning_key(e),
            || earning_row_label(e),
            sign * e.amount,
            ex,
        );
        if let Some(h) = e.hours {
            r.hours = Some(r.hours.unwrap_or_default() + sign * h);
        }
        r.rate = match r.rate {
            None => Some(e.rate),
            Some(prev) if prev == e.rate => Some(prev),
            Some(_) => Some(None),
        };
    }
    for e in &result.lines.earnings {
        let rest = traces.rest(&format!("earning:{}", e.kind));
        if !rest.is_empty() {
            earnings
                .row(&earning_key(e), || earning_row_label(e))
                .explanations
                .extend(rest);
        }
    }
    for t in &result.lines.taxes {
        let ex = traces.next(&format!("tax:{}", t.code));
        let book = if t.payer == "employer" {
            &mut employer_book
        } else {
            &mut taxes
        };
        let ex = ex.map(|mut x| {
            x.push_str(&format!(
                " Taxable wages this period: {}.",
                money(t.taxable_wages)
            ));
            if let Some(u) = t.uncollected.filter(|u| !u.is_zero()) {
                x.push_str(&format!(
                    " Not withheld because the pay was too short: {}.",
                    money(u)
                ));
            }
            x
        });
        book.current(&tax_key(t), || tax_label(&t.code), sign * t.amount, ex);
    }
    for d in &result.lines.deductions {
        let ex = traces.next(&format!("deduction:{}", d.kind)).map(|mut x| {
            if let Some(n) = d.not_taken.filter(|n| !n.is_zero()) {
                x.push_str(&format!(
                    " Not taken (limit or pay too short): {}.",
                    money(n)
                ));
            }
            x
        });
        deductions.current(
            &deduction_key(d),
            || deduction_label(&d.kind, d.pre_tax),
            sign * d.amount,
            ex,
        );
    }
    for g in &result.lines.garnishments {
        let ex = traces
            .next(&format!("garnishment:{}", g.kind))
            .map(|mut x| {
                if let Some(f) = g.fee.filter(|f| !f.is_zero()) {
                    x.push_str(&format!(" Includes a processing fee of {}.", money(f)));
                }
                x
            });
        garnishments.current(
            &garnishment_key(g),
            || garnishment_label(&g.kind, g.reference.as_deref()),
            sign * g.amount,
            ex,
        );
    }

    // Year to date, over every stub of the year up to this one (this one included).
    let (mut gross, mut net, mut ee, mut er) =
        (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for s in ytd {
        gross += s.gross_pay;
        net += s.net_pay;
        ee += s.employee_taxes;
        er += s.employer_taxes;
        for e in &s.lines.earnings {
            earnings.row(&earning_key(e), || earning_row_label(e)).ytd += s.sign * e.amount;
        }
        for t in &s.lines.taxes {
            let book = if t.payer == "employer" {
                &mut employer_book
            } else {
                &mut taxes
            };
            book.row(&tax_key(t), || tax_label(&t.code)).ytd += s.sign * t.amount;
        }
        for d in &s.lines.deductions {
            deductions
                .row(&deduction_key(d), || deduction_label(&d.kind, d.pre_tax))
                .ytd += s.sign * d.amount;
        }
        for g in &s.lines.garnishments {
            garnishments
                .row(&garnishment_key(g), || {
                    garnishment_label(&g.kind, g.reference.as_deref())
                })
                .ytd += s.sign * g.amount;
        }
    }
    let sum = |b: &Book, ytd: bool| -> Decimal {
        b.rows
            .values()
            .map(|r| if ytd { r.ytd } else { r.current })
            .sum()
    };
    let total = |label: &str, current: Decimal, ytd: Decimal| Total {
        label: label.to_owned(),
        current: money(current),
        ytd: money(ytd),
    };
    let totals = vec![
        total("Gross pay", head.gross_pay, gross),
        total("Taxes withheld", head.employee_taxes, ee),
        total(
            "Deductions",
            sum(&deductions, false),
            sum(&deductions, true),
        ),
        total(
            "Garnishments",
            sum(&garnishments, false),
            sum(&garnishments, true),
        ),
        total("Net pay", head.net_pay, net),
        total("Employer contributions", head.employer_taxes, er),
    ];
    let hours_by_workweek = result
        .trace
        .iter()
        .filter_map(|t| {
            t.line.strip_prefix("hours:workweek:").map(|week| Note {
                label: format!("Hours, workweek of {week}"),
                explanation: explain(t),
            })
        })
        .collect();
    let mut hours = BTreeMap::new();
    hours.insert(
        "regular".to_owned(),
        hours_text(sign * result.hours.regular),
    );
    hours.insert(
        "overtime".to_owned(),
        hours_text(sign * result.hours.overtime),
    );
    hours.insert(
        "double_time".to_owned(),
        hours_text(sign * result.hours.double_time),
    );
    Statement {
        stub_id: head.stub_id,
        run_id: head.run_id,
        run_type: head.run_type.clone(),
        pay_date: head.pay_date,
        period_start: head.period_start,
        period_end: head.period_end,
        employer,
        employee,
        hours,
        earnings: earnings.lines(),
        taxes: taxes.lines(),
        deductions: deductions.lines(),
        garnishments: garnishments.lines(),
        employer_contributions: employer_book.lines(),
        net_pay: total("Net pay", head.net_pay, net),
        totals,
        hours_by_workweek,
        rule_packs: result.rule_packs.clone(),
    }
}

/// Reversal stubs (run type `correction`, created only by voiding a paid run) store the reversed
/// paycheck: their lines count negatively.
pub fn stub_sign(run_type: &str) -> Decimal {
    if run_type == "correction" {
        Decimal::NEGATIVE_ONE
    } else {
        Decimal::ONE
    }
}

/// Address lines from a stored address object (`line1`, `line2`, `city`, `state`, `postal_code`).
pub fn address_lines(v: Option<&Value>) -> Vec<String> {
    let Some(a) = v.and_then(Value::as_object) else {
        return Vec::new();
    };
    let s = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or("").trim();
    let mut out = Vec::new();
    for k in ["line1", "line2"] {
        if !s(k).is_empty() {
            out.push(s(k).to_owned());
        }
    }
    let city = [s("city"), s("state")]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let last = [city.as_str(), s("postal_code")]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if !last.is_empty() {
        out.push(last);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rust_decimal::dec;

    fn head(run_type: &str, gross: Decimal, net: Decimal) -> StubHead {
        StubHead {
            stub_id: Uuid::nil(),
            run_id: Uuid::nil(),
            run_type: run_type.into(),
            pay_date: "2025-01-24".parse().unwrap(),
            period_start: "2025-01-06".parse().unwrap(),
            period_end: "2025-01-19".parse().unwrap(),
            gross_pay: gross,
            net_pay: net,
            employee_taxes: dec!(10.00),
            employer_taxes: dec!(5.00),
        }
    }

    const RESULT: &str = r#"{
      "gross_pay": "100.00", "net_pay": "85.00",
      "hours": {"regular": "5.00", "overtime": "0.00", "double_time": "0.00"},
      "earnings": [
        {"type": "regular", "job": "server", "hours": "2.00", "rate": "10.00", "amount": "20.00"},
        {"type": "regular", "job": "server", "hours": "3.00", "rate": "10.00", "amount": "30.00"},
        {"type": "charged_tips", "amount": "50.00"}
      ],
      "taxes": [
        {"code": "US_SS", "payer": "employee", "taxable_wages": "100.00", "amount": "6.20"},
        {"code": "US_MEDICARE", "payer": "employee", "taxable_wages": "100.00", "amount": "3.80"},
        {"code": "US_FUTA", "payer": "employer", "taxable_wages": "100.00", "amount": "5.00"}
      ],
      "deductions": [{"type": "401k", "pre_tax": true, "amount": "5.00"}],
      "garnishments": [],
      "rule_packs": ["US-2025@2025.1"],
      "trace": [
        {"line": "hours:workweek:2025-01-06", "rule": "flsa.workweek", "steps": {"z_total": "5", "a_regular": "5"}},
        {"line": "earning:regular:server@10", "rule": "earnings.hourly", "inputs": {"hours": "2.00", "rate": "10.00"},
         "rounding": {"exact": "20", "rounded": "20.00", "mode": "half_away_from_zero_to_cents"}},
        {"line": "earning:regular:server@10b", "rule": "earnings.hourly", "inputs": {"hours": "3.00"}},
        {"line": "earning:charged_tips", "rule": "earnings.tips"},
        {"line": "tax:US_SS", "rule": "us.fica.social_security", "rule_pack": "US-2025@2025.1",
         "params": [{"name": "rate", "value": "0.062", "source": "IRC 3101(a)"}],
         "steps": {"wages": "100.00", "tax": "6.2"}},
        {"line": "tax:US_MEDICARE", "rule": "us.fica.medicare"},
        {"line": "tax:US_FUTA", "rule": "us.futa"},
        {"line": "deduction:401k", "rule": "deduction.pre_tax"}
      ]
    }"#;

    fn lines(json: &str) -> Lines {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn current_and_ytd_columns_with_explanations() {
        let result: ResultIn = serde_json::from_str(RESULT).unwrap();
        // An earlier stub with a bonus, this stub, and an earlier reversal of a 10.00 tips line.
        let earlier = YtdStub {
            sign: Decimal::ONE,
            lines: lines(
                r#"{"earnings": [{"type": "bonus", "amount": "200.00"},
                                 {"type": "regular", "job": "server", "hours": "1", "rate": "10", "amount": "10.00"}],
                    "taxes": [{"code": "US_SS", "payer": "employee", "amount": "13.02"}]}"#,
            ),
            gross_pay: dec!(210.00),
            net_pay: dec!(196.98),
            employee_taxes: dec!(13.02),
            employer_taxes: dec!(0),
        };
        let reversal = YtdStub {
            sign: Decimal::NEGATIVE_ONE,
            lines: lines(r#"{"earnings": [{"type": "charged_tips", "amount": "10.00"}]}"#),
            gross_pay: dec!(-10.00),
            net_pay: dec!(-10.00),
            employee_taxes: dec!(0),
            employer_taxes: dec!(0),
        };
        let this = YtdStub {
            sign: Decimal::ONE,
            lines: result.lines.clone(),
            gross_pay: dec!(100.00),
            net_pay: dec!(85.00),
            employee_taxes: dec!(10.00),
            employer_taxes: dec!(5.00),
        };
        let s = build(
            &head("regular", dec!(100.00), dec!(85.00)),
            &result,
            &[earlier, reversal, this],
            Employer::default(),
            Employee {
                id: Uuid::nil(),
                name: "Ana Diaz".into(),
                ssn: Some("***-**-6789".into()),
                address: vec![],
            },
        );
        // The two server lines are one: 5 hours at 10, 50.00; YTD adds the earlier 10.00.
        let reg = &s.earnings[0];
        assert_eq!(reg.code, "earning:regular:server");
        assert_eq!(reg.label, "Regular (server)");
        assert_eq!(reg.hours.as_deref(), Some("5.00"));
        assert_eq!(reg.rate.as_deref(), Some("10.00"));
        assert_eq!((reg.current.as_str(), reg.ytd.as_str()), ("50.00", "60.00"));
        let ex = reg.explanation.as_deref().unwrap();
        assert!(
            ex.starts_with("earnings.hourly. Inputs: hours = 2.00; rate = 10.00."),
            "{ex}"
        );
        assert!(ex.contains("20 -> 20.00"), "{ex}");
        assert!(ex.contains("Inputs: hours = 3.00."), "{ex}");
        // Tips: 50 now, 50 - 10 reversed YTD. Bonus: only YTD.
        let tips = s
            .earnings
            .iter()
            .find(|l| l.code == "earning:charged_tips")
            .unwrap();
        assert_eq!(
            (tips.current.as_str(), tips.ytd.as_str()),
            ("50.00", "40.00")
        );
        let bonus = s
            .earnings
            .iter()
            .find(|l| l.code == "earning:bonus")
            .unwrap();
        assert_eq!(
            (bonus.current.as_str(), bonus.ytd.as_str()),
            ("0.00", "200.00")
        );
        assert_eq!(bonus.explanation, None);
        // Taxes and employer contributions are separate; params carry their source; steps keep
        // their order.
        assert_eq!(s.taxes.len(), 2);
        let ss = &s.taxes[0];
        assert_eq!((ss.current.as_str(), ss.ytd.as_str()), ("6.20", "19.22"));
        let ex = ss.explanation.as_deref().unwrap();
        assert!(ex.contains("rate = 0.062 (IRC 3101(a))"), "{ex}");
        assert!(ex.contains("Steps: wages = 100.00; tax = 6.2."), "{ex}");
        assert!(ex.contains("Taxable wages this period: 100.00."), "{ex}");
        assert_eq!(s.employer_contributions.len(), 1);
        assert_eq!(
            s.employer_contributions[0].label,
            "Federal unemployment (FUTA)"
        );
        assert_eq!(s.deductions[0].label, "401(k) (pre-tax)");
        assert_eq!(
            s.hours_by_workweek[0].explanation,
            "flsa.workweek. Steps: z total = 5; a regular = 5."
        );
        let t = |l: &str| s.totals.iter().find(|t| t.label == l).unwrap();
        assert_eq!(
            (t("Gross pay").current.as_str(), t("Gross pay").ytd.as_str()),
            ("100.00", "300.00")
        );
        assert_eq!(s.net_pay.ytd, "271.98");
        assert_eq!(t("Deductions").ytd, "5.00");
    }

    #[test]
    fn a_reversal_stub_shows_negative_lines() {
        let result: ResultIn = serde_json::from_str(RESULT).unwrap();
        let s = build(
            &head("correction", dec!(-100.00), dec!(-85.00)),
            &result,
            &[],
            Employer::default(),
            Employee {
                id: Uuid::nil(),
                name: "A".into(),
                ssn: None,
                address: vec![],
            },
        );
        assert_eq!(s.earnings[0].current, "-50.00");
        assert_eq!(s.earnings[0].hours.as_deref(), Some("-5.00"));
        assert_eq!(s.taxes[0].current, "-6.20");
        assert_eq!(s.net_pay.current, "-85.00");
    }

    #[test]
    fn addresses() {
        let v: Value = serde_json::json!({"line1": "1 Market St", "city": "San Francisco",
            "state": "CA", "postal_code": "94105"});
        assert_eq!(
            address_lines(Some(&v)),
            vec!["1 Market St", "San Francisco, CA 94105"]
        );
        assert!(address_lines(None).is_empty());
    }
}
