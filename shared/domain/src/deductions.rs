//! Pre-tax and post-tax deductions with their wage bases and annual limits.
//!
//! Each deduction asks for a fixed `amount` or a `percent` of this period's wages (rounded once to
//! cents). What is taken is the smallest of: the request, the room left under the statutory annual
//! limit (402(g) for 401(k)/403(b)/Roth 401(k) together, 457(b) on its own, HSA, health FSA,
//! dependent care), the room under the plan's own `annual_limit`, and the cash left in the check.
//! The part not taken is reported in `not_taken`.

use crate::error::CalcError;
use crate::money::zero;
use crate::request::{DeductionInput, DeductionType, HsaCoverage, PaycheckRequest};
use crate::response::DeductionLine;
use crate::rules::{FederalPack, Param};
use crate::trace::LineTrace;
use rust_decimal::Decimal;
use rust_decimal::dec;

#[derive(Debug, Default)]
pub struct PreTaxOutcome {
    pub lines: Vec<DeductionLine>,
    pub traces: Vec<LineTrace>,
    /// 401(k)/403(b)/457(b): reduce income-tax wages only.
    pub elective_deferrals: Decimal,
    /// Section 125 premiums, health FSA, dependent care: reduce income-tax, FICA and FUTA wages.
    pub section_125: Decimal,
    /// HSA through a cafeteria plan: like section 125 federally (some states tax it).
    pub hsa: Decimal,
    /// The part of `elective_deferrals` that counts toward the 402(g) limit (401(k) and 403(b),
    /// not 457(b)); a Roth 401(k) in the same paycheck shares the room left.
    pub deferrals_402g: Decimal,
}

impl PreTaxOutcome {
    pub fn total(&self) -> Decimal {
        crate::money::add(
            crate::money::add(self.elective_deferrals, self.section_125),
            self.hsa,
        )
    }
}

/// Check every deduction of the request (pre- and post-tax) in input order.
pub fn validate(req: &PaycheckRequest) -> Result<(), CalcError> {
    for (i, d) in req.deductions.iter().enumerate() {
        validate_one(i, d)?;
    }
    Ok(())
}

fn validate_one(i: usize, d: &DeductionInput) -> Result<(), CalcError> {
    let f = |name: &str| format!("deductions[{i}].{name}");
    if d.kind == DeductionType::CashTipsPaid {
        return Err(CalcError::invalid(
            f("type"),
            "cash_tips_paid is computed by the payroll from reported cash tips and may not be input",
        ));
    }
    match (d.amount, d.percent) {
        (Some(_), Some(_)) => {
            return Err(CalcError::invalid(
                format!("deductions[{i}]"),
                "give either amount or percent, not both",
            ));
        }
        (None, None) => {
            return Err(CalcError::invalid(
                format!("deductions[{i}]"),
                "give an amount or a percent of wages",
            ));
        }
        _ => {}
    }
    for (name, v) in [
        ("amount", d.amount),
        ("percent", d.percent),
        ("annual_limit", d.annual_limit),
        ("ytd", d.ytd),
    ] {
        if v.is_some_and(|v| v < Decimal::ZERO) {
            return Err(CalcError::invalid(f(name), "must not be negative"));
        }
    }
    if d.percent.is_some_and(|p| p > dec!(100)) {
        return Err(CalcError::invalid(f("percent"), "must not exceed 100"));
    }
    if d.coverage.is_some() && d.kind != DeductionType::Hsa {
        return Err(CalcError::invalid(
            f("coverage"),
            "applies only to an hsa deduction",
        ));
    }
    Ok(())
}

/// The statutory annual limit of a deduction type, if any: (parameter name, parameter).
fn statutory_limit(
    fed: &'static FederalPack,
    d: &DeductionInput,
) -> Option<(&'static str, &'static Param)> {
    let p = &fed.params;
    match d.kind {
        DeductionType::K401
        | DeductionType::B403
        | DeductionType::Roth401k
        | DeductionType::B457 => Some(("elective_deferral_limit", &p.elective_deferral_limit)),
        DeductionType::Hsa => match d.coverage.unwrap_or(HsaCoverage::SelfOnly) {
            HsaCoverage::SelfOnly => Some(("hsa_limit_self", &p.hsa_limit_self)),
            HsaCoverage::Family => Some(("hsa_limit_family", &p.hsa_limit_family)),
        },
        DeductionType::Fsa => Some(("health_fsa_limit", &p.health_fsa_limit)),
        DeductionType::DependentCare => Some(("dependent_care_limit", &p.dependent_care_limit)),
        DeductionType::Section125
        | DeductionType::UnionDues
        | DeductionType::Loan
        | DeductionType::Other
        | DeductionType::CashTipsPaid => None,
    }
}

fn rule_for(kind: DeductionType) -> &'static str {
    match kind {
        DeductionType::K401 | DeductionType::B403 => "deduction.pretax.elective_deferral",
        DeductionType::B457 => "deduction.pretax.457b",
        DeductionType::Section125 => "deduction.pretax.section_125",
        DeductionType::Fsa => "deduction.pretax.health_fsa",
        DeductionType::DependentCare => "deduction.pretax.dependent_care",
        DeductionType::Hsa => "deduction.pretax.hsa",
        DeductionType::Roth401k => "deduction.posttax.roth_elective_deferral",
        DeductionType::UnionDues => "deduction.posttax.union_dues",
        DeductionType::Loan => "deduction.posttax.loan",
        DeductionType::Other => "deduction.posttax.other",
        DeductionType::CashTipsPaid => "payroll.cash_tips_offset",
    }
}

/// `p × wages / 100`: the product with its scale raised by 2 when that stays exact (the value of
/// the division; only its rounding to cents is used), else the division.
fn percent_of(p: Decimal, wages: Decimal) -> Decimal {
    let prod = crate::money::mul(p, wages);
    if prod.scale() + 2 <= Decimal::MAX_SCALE {
        Decimal::from_i128_with_scale(prod.mantissa(), prod.scale() + 2)
    } else {
        prod / dec!(100)
    }
}

/// Number of `DeductionType` variants.
const KINDS: usize = DeductionType::CashTipsPaid as usize + 1;

/// Running state while the deductions of one paycheck are taken in input order.
struct Taker<'a> {
    req: &'a PaycheckRequest,
    fed: &'static FederalPack,
    wages: Decimal,
    /// Cash left in the check; `None` = not limited (used to replay the pre-tax lines).
    cash_left: Option<Decimal>,
    /// 401(k) + 403(b) + Roth 401(k) taken in this paycheck so far (402(g) shared room).
    deferrals_402g: Decimal,
    /// Taken in this paycheck so far, per type (indexed by `DeductionType as usize`).
    by_kind: [Decimal; KINDS],
}

impl Taker<'_> {
    fn take(&mut self, i: usize, d: &DeductionInput) -> (DeductionLine, LineTrace) {
        let z = zero();
        let mut t =
            LineTrace::new(d.kind.trace_line(), rule_for(d.kind)).pack(self.fed.header.id.as_str());
        t.reserve(4, 2, 8);
        t.input("index", Decimal::from(i as u64));
        // Requested amount: fixed, or percent of wages rounded once to cents.
        let requested = match (d.amount, d.percent) {
            (Some(a), _) => {
                t.input("amount", a);
                a
            }
            (None, Some(p)) => {
                t.input("percent", p).input("wages", self.wages);
                t.round(percent_of(p, self.wages))
            }
            (None, None) => z,
        };
        t.step("requested", requested);

        let mut cap = requested;
        let mut reason: Option<&'static str> = None;
        let this_kind = self.by_kind.get(d.kind as usize).copied().unwrap_or(z);
        let deferral_402g = d.kind.is_elective_deferral();

        // Statutory annual limit.
        if let Some((name, param)) = statutory_limit(self.fed, d) {
            t.param(name, param);
            let (ytd, this_check) = if deferral_402g {
                (self.req.ytd.k401, self.deferrals_402g)
            } else {
                (d.ytd.unwrap_or(z), this_kind)
            };
            let room = crate::money::max(
                crate::money::sub(crate::money::sub(param.value, ytd), this_check),
                z,
            );
            t.step("limit", param.value)
                .step("ytd", ytd)
                .step("earlier_this_check", this_check)
                .step("room", room);
            if crate::money::cmp(room, cap) == std::cmp::Ordering::Less {
                cap = room;
                reason = Some("annual_limit");
            }
        }
        // Plan cap on the input.
        if let Some(plan) = d.annual_limit {
            let ytd = d.ytd.unwrap_or(
                if matches!(
                    d.kind,
                    DeductionType::K401 | DeductionType::B403 | DeductionType::Roth401k
                ) {
                    self.req.ytd.k401
                } else {
                    z
                },
            );
            let room = crate::money::max(
                crate::money::sub(crate::money::sub(plan, ytd), this_kind),
                z,
            );
            t.input("annual_limit", plan)
                .step("plan_limit", plan)
                .step("plan_ytd", ytd)
                .step("plan_room", room);
            if crate::money::cmp(room, cap) == std::cmp::Ordering::Less {
                cap = room;
                reason = Some("plan_annual_limit");
            }
        }
        // Cash left in the check.
        if let Some(cash) = self.cash_left {
            let cash = crate::money::max(cash, z);
            t.step("cash_available", cash);
            if crate::money::cmp(cash, cap) == std::cmp::Ordering::Less {
                cap = cash;
                reason = Some("insufficient_pay");
            }
        }
        let taken = crate::money::cents(crate::money::max(cap, z));
        let not_taken = crate::money::sub(requested, taken);
        t.step("taken", taken);
        if crate::money::is_positive(not_taken) {
            t.step("not_taken", not_taken);
            if let Some(r) = reason {
                t.step("not_taken_reason", r);
            }
        }
        if !t.is_rounded() {
            t.round(taken);
        }

        if let Some(c) = self.cash_left.as_mut() {
            *c = crate::money::sub(*c, taken);
        }
        if deferral_402g {
            self.deferrals_402g = crate::money::add(self.deferrals_402g, taken);
        }
        if let Some(k) = self.by_kind.get_mut(d.kind as usize) {
            *k = crate::money::add(*k, taken);
        }
        let line = DeductionLine {
            kind: d.kind,
            pre_tax: d.kind.is_pre_tax(),
            amount: taken,
            not_taken: crate::money::is_positive(not_taken).then_some(not_taken),
        };
        (line, t)
    }
}

pub fn pre_tax(
    req: &PaycheckRequest,
    fed: &'static FederalPack,
    wages: Decimal,
    available: Decimal,
) -> Result<PreTaxOutcome, CalcError> {
    let mut traces = Vec::new();
    let mut out = pre_tax_into(req, fed, wages, available, &mut traces)?;
    out.traces = traces;
    Ok(out)
}

/// `pre_tax` with the traces appended to `traces` (the outcome's own `traces` stay empty): the
/// pipeline passes the result's trace list.
pub fn pre_tax_into(
    req: &PaycheckRequest,
    fed: &'static FederalPack,
    wages: Decimal,
    available: Decimal,
    traces: &mut Vec<LineTrace>,
) -> Result<PreTaxOutcome, CalcError> {
    validate(req)?;
    let mut tk = Taker {
        req,
        fed,
        wages,
        cash_left: Some(available.max(Decimal::ZERO)),
        deferrals_402g: Decimal::ZERO,
        by_kind: [zero(); KINDS],
    };
    let mut out = PreTaxOutcome {
        elective_deferrals: zero(),
        section_125: zero(),
        hsa: zero(),
        deferrals_402g: zero(),
        ..Default::default()
    };
    for (i, d) in req.deductions.iter().enumerate() {
        if !d.kind.is_pre_tax() {
            continue;
        }
        let (line, trace) = tk.take(i, d);
        match d.kind {
            DeductionType::K401 | DeductionType::B403 => {
                out.elective_deferrals += line.amount;
                out.deferrals_402g += line.amount;
            }
            DeductionType::B457 => out.elective_deferrals += line.amount,
            DeductionType::Hsa => out.hsa += line.amount,
            _ => out.section_125 += line.amount,
        }
        out.lines.push(line);
        traces.push(trace);
    }
    Ok(out)
}

/// Post-tax deductions (Roth 401(k), union dues, loans, other) in input order, capped by
/// `available` (cash left after taxes and garnishments).
///
/// The Roth 401(k) shares the 402(g) room with this paycheck's pre-tax deferrals, which are
/// replayed here from the request. The replay ignores the cash cap: when cash cut a pre-tax
/// deferral, no cash is left after taxes either, so `available` is zero and the Roth takes nothing.
pub fn post_tax(
    req: &PaycheckRequest,
    fed: &'static FederalPack,
    wages: Decimal,
    available: Decimal,
) -> Result<(Vec<DeductionLine>, Vec<LineTrace>), CalcError> {
    validate(req)?;
    // Nothing post-tax: no replay needed (it only sets the room the post-tax lines share).
    if req.deductions.iter().all(|d| d.kind.is_pre_tax()) {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut tk = Taker {
        req,
        fed,
        wages,
        cash_left: None,
        deferrals_402g: Decimal::ZERO,
        by_kind: [zero(); KINDS],
    };
    for (i, d) in req.deductions.iter().enumerate() {
        if d.kind.is_pre_tax() {
            tk.take(i, d);
        }
    }
    tk.cash_left = Some(available.max(Decimal::ZERO));
    let mut lines = Vec::new();
    let mut traces = Vec::new();
    for (i, d) in req.deductions.iter().enumerate() {
        if d.kind.is_pre_tax() {
            continue;
        }
        let (line, trace) = tk.take(i, d);
        lines.push(line);
        traces.push(trace);
    }
    Ok((lines, traces))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::request::parse_request;
    use crate::rules::federal_for;
    use crate::trace::TraceValue;
    use serde_json::{Value, json};

    fn req(pay_date: &str, deductions: Value, ytd: Value) -> PaycheckRequest {
        let v = json!({
            "pay_date": pay_date, "pay_frequency": "biweekly", "work_state": "TX",
            "employee": {"flsa_exempt": true},
            "earnings": [{"type": "salary", "amount": "2000.00"}],
            "deductions": deductions,
            "ytd": ytd,
        });
        parse_request(&v.to_string()).unwrap()
    }

    fn fed(r: &PaycheckRequest) -> &'static FederalPack {
        federal_for(r.pay_date).unwrap()
    }

    fn step(t: &LineTrace, k: &str) -> Option<TraceValue> {
        t.step_value(k)
    }

    #[test]
    fn w23_totals_give_fit_and_fica_wages() {
        let r = req(
            "2025-03-14",
            json!([{"type": "401k", "amount": "100.00"}, {"type": "section_125", "amount": "50.00"}]),
            json!({}),
        );
        let wages = dec!(2000.00);
        let o = pre_tax(&r, fed(&r), wages, wages).unwrap();
        assert_eq!(o.elective_deferrals, dec!(100.00));
        assert_eq!(o.section_125, dec!(50.00));
        assert_eq!(o.hsa, dec!(0.00));
        assert_eq!(o.total(), dec!(150.00));
        assert_eq!(wages - o.total(), dec!(1850.00));
        assert_eq!(wages - o.section_125 - o.hsa, dec!(1950.00));
        assert_eq!(o.lines.len(), 2);
        assert_eq!(o.lines[0].kind, DeductionType::K401);
        assert!(o.lines[0].pre_tax);
        assert_eq!(o.lines[0].amount.to_string(), "100.00");
        assert_eq!(o.lines[0].not_taken, None);
        assert_eq!(o.traces[0].line, "deduction:401k");
        assert_eq!(o.traces[0].rule, "deduction.pretax.elective_deferral");
        assert_eq!(
            o.traces[0].params().next().unwrap().name,
            "elective_deferral_limit"
        );
        assert!(
            o.traces[0]
                .params()
                .next()
                .unwrap()
                .source
                .contains("402(g)")
        );
        assert_eq!(o.traces[1].line, "deduction:section_125");
    }

    #[test]
    fn limit_401k_2025_takes_the_room_left() {
        let r = req(
            "2025-12-12",
            json!([{"type": "401k", "amount": "500.00"}]),
            json!({"401k": "23400.00"}),
        );
        let o = pre_tax(&r, fed(&r), dec!(2000), dec!(2000)).unwrap();
        assert_eq!(o.lines[0].amount, dec!(100.00));
        assert_eq!(o.lines[0].not_taken, Some(dec!(400.00)));
        assert_eq!(o.elective_deferrals, dec!(100.00));
        let t = &o.traces[0];
        assert_eq!(step(t, "limit"), Some(TraceValue::Num(dec!(23500))));
        assert_eq!(step(t, "room"), Some(TraceValue::Num(dec!(100.00))));
        assert_eq!(
            step(t, "not_taken_reason"),
            Some(TraceValue::from("annual_limit"))
        );
    }

    #[test]
    fn limit_2024_is_23000() {
        let r = req(
            "2024-12-13",
            json!([{"type": "403b", "amount": "500.00"}]),
            json!({"401k": "22800.00"}),
        );
        let o = pre_tax(&r, fed(&r), dec!(2000), dec!(2000)).unwrap();
        assert_eq!(o.lines[0].amount, dec!(200.00));
        assert_eq!(o.lines[0].not_taken, Some(dec!(300.00)));
    }

    #[test]
    fn two_deferral_lines_share_402g_but_457b_has_its_own() {
        let r = req(
            "2025-12-12",
            json!([
                {"type": "401k", "amount": "300.00"},
                {"type": "403b", "amount": "300.00"},
                {"type": "457b", "amount": "300.00", "ytd": "23300.00"}
            ]),
            json!({"401k": "23000.00"}),
        );
        let o = pre_tax(&r, fed(&r), dec!(2000), dec!(2000)).unwrap();
        let got: Vec<_> = o.lines.iter().map(|l| (l.amount, l.not_taken)).collect();
        assert_eq!(
            got,
            vec![
                (dec!(300.00), None),
                (dec!(200.00), Some(dec!(100.00))),
                (dec!(200.00), Some(dec!(100.00)))
            ]
        );
        assert_eq!(o.elective_deferrals, dec!(700.00));
        assert_eq!(o.deferrals_402g, dec!(500.00));
        assert_eq!(o.traces[2].rule, "deduction.pretax.457b");
    }

    #[test]
    fn percent_of_wages_rounded_once() {
        let r = req(
            "2025-03-14",
            json!([{"type": "401k", "percent": "6.5"}]),
            json!({}),
        );
        let o = pre_tax(&r, fed(&r), dec!(1234.57), dec!(1234.57)).unwrap();
        // 6.5% × 1,234.57 = 80.24705 → 80.25
        assert_eq!(o.lines[0].amount.to_string(), "80.25");
        let rd = o.traces[0].rounding().unwrap();
        assert_eq!(rd.exact, dec!(80.24705));
        assert_eq!(rd.rounded, dec!(80.25));
    }

    #[test]
    fn hsa_family_fsa_and_dependent_care_limits() {
        let r = req(
            "2025-12-12",
            json!([
                {"type": "hsa", "amount": "400.00", "ytd": "4000.00"},
                {"type": "hsa", "amount": "400.00", "ytd": "8300.00", "coverage": "family"},
                {"type": "fsa", "amount": "200.00", "ytd": "3200.00"},
                {"type": "dependent_care", "amount": "300.00", "ytd": "4900.00"}
            ]),
            json!({}),
        );
        let o = pre_tax(&r, fed(&r), dec!(3000), dec!(3000)).unwrap();
        let got: Vec<_> = o.lines.iter().map(|l| l.amount).collect();
        // self-only 4,300 − 4,000 = 300; family 8,550 − 8,300 − 300 taken above = −50 → 0;
        // FSA 3,300 − 3,200 = 100; dependent care 5,000 − 4,900 = 100.
        assert_eq!(
            got,
            vec![dec!(300.00), dec!(0.00), dec!(100.00), dec!(100.00)]
        );
        assert_eq!(o.hsa, dec!(300.00));
        assert_eq!(o.section_125, dec!(200.00));
        assert_eq!(
            o.traces[1].params().next().unwrap().name,
            "hsa_limit_family"
        );
        assert_eq!(o.traces[0].params().next().unwrap().name, "hsa_limit_self");
    }

    #[test]
    fn plan_cap_smaller_than_statute_wins() {
        let r = req(
            "2025-06-13",
            json!([{"type": "401k", "amount": "500.00", "annual_limit": "10000.00"}]),
            json!({"401k": "9800.00"}),
        );
        let o = pre_tax(&r, fed(&r), dec!(2000), dec!(2000)).unwrap();
        assert_eq!(o.lines[0].amount, dec!(200.00));
        assert_eq!(o.lines[0].not_taken, Some(dec!(300.00)));
        assert_eq!(
            step(&o.traces[0], "not_taken_reason"),
            Some(TraceValue::from("plan_annual_limit"))
        );
    }

    #[test]
    fn cash_limits_pre_tax() {
        let r = req(
            "2025-06-13",
            json!([{"type": "section_125", "amount": "300.00"}, {"type": "401k", "amount": "300.00"}]),
            json!({}),
        );
        let o = pre_tax(&r, fed(&r), dec!(2000), dec!(450.00)).unwrap();
        assert_eq!(o.lines[0].amount, dec!(300.00));
        assert_eq!(o.lines[1].amount, dec!(150.00));
        assert_eq!(o.lines[1].not_taken, Some(dec!(150.00)));
        assert_eq!(o.total(), dec!(450.00));
    }

    #[test]
    fn post_tax_lines_in_order_capped_by_cash() {
        let r = req(
            "2025-06-13",
            json!([
                {"type": "union_dues", "amount": "40.00"},
                {"type": "401k", "amount": "100.00"},
                {"type": "loan", "amount": "75.00"},
                {"type": "other", "percent": "1"}
            ]),
            json!({}),
        );
        let (lines, traces) = post_tax(&r, fed(&r), dec!(2000), dec!(100.00)).unwrap();
        let got: Vec<_> = lines
            .iter()
            .map(|l| (l.kind, l.amount, l.not_taken, l.pre_tax))
            .collect();
        assert_eq!(
            got,
            vec![
                (DeductionType::UnionDues, dec!(40.00), None, false),
                (DeductionType::Loan, dec!(60.00), Some(dec!(15.00)), false),
                (DeductionType::Other, dec!(0.00), Some(dec!(20.00)), false),
            ]
        );
        assert_eq!(traces[1].line, "deduction:loan");
        assert_eq!(traces[1].rule, "deduction.posttax.loan");
    }

    #[test]
    fn roth_shares_402g_room_with_pretax_deferrals() {
        let r = req(
            "2025-12-12",
            json!([{"type": "401k", "amount": "300.00"}, {"type": "roth_401k", "amount": "300.00"}]),
            json!({"401k": "23000.00"}),
        );
        let f = fed(&r);
        let pre = pre_tax(&r, f, dec!(2000), dec!(2000)).unwrap();
        assert_eq!(pre.lines.len(), 1);
        assert_eq!(pre.lines[0].amount, dec!(300.00));
        let (lines, traces) = post_tax(&r, f, dec!(2000), dec!(1500)).unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].kind, DeductionType::Roth401k);
        assert_eq!(lines[0].amount, dec!(200.00));
        assert_eq!(lines[0].not_taken, Some(dec!(100.00)));
        assert_eq!(traces[0].rule, "deduction.posttax.roth_elective_deferral");
    }

    fn err(deductions: Value) -> CalcError {
        let r = req("2025-06-13", deductions, json!({}));
        pre_tax(&r, fed(&r), dec!(2000), dec!(2000)).unwrap_err()
    }

    #[test]
    fn validation_errors_name_the_field() {
        assert_eq!(err(json!([{"type": "401k"}])).field(), "deductions[0]");
        assert_eq!(
            err(json!([{"type": "loan", "amount": "1.00"}, {"type": "401k", "amount": "1.00", "percent": "2"}])).field(),
            "deductions[1]"
        );
        assert_eq!(
            err(json!([{"type": "401k", "amount": "-1.00"}])).field(),
            "deductions[0].amount"
        );
        assert_eq!(
            err(json!([{"type": "401k", "percent": "-1"}])).field(),
            "deductions[0].percent"
        );
        assert_eq!(
            err(json!([{"type": "401k", "percent": "100.5"}])).field(),
            "deductions[0].percent"
        );
        assert_eq!(
            err(json!([{"type": "hsa", "amount": "1.00", "ytd": "-5.00"}])).field(),
            "deductions[0].ytd"
        );
        assert_eq!(
            err(json!([{"type": "fsa", "amount": "1.00", "annual_limit": "-5.00"}])).field(),
            "deductions[0].annual_limit"
        );
        assert_eq!(
            err(json!([{"type": "401k", "amount": "1.00", "coverage": "family"}])).field(),
            "deductions[0].coverage"
        );
        let r = req(
            "2025-06-13",
            json!([{"type": "cash_tips_paid", "amount": "5.00"}]),
            json!({}),
        );
        let e = post_tax(&r, fed(&r), dec!(2000), dec!(2000)).unwrap_err();
        assert_eq!(e.field(), "deductions[0].type");
        // 100% is allowed.
        let r = req(
            "2025-06-13",
            json!([{"type": "other", "percent": "100"}]),
            json!({}),
        );
        let (lines, _) = post_tax(&r, fed(&r), dec!(2000), dec!(5000)).unwrap();
        assert_eq!(lines[0].amount, dec!(2000.00));
    }
}
