//! Garnishments in priority order with CCPA limits.
//!
//! Priority: child support (in input order), IRS tax levies, student loans (administrative wage
//! garnishment), then ordinary creditor garnishments. Limits on disposable earnings (DE):
//! - child support: `limit_percent` (50/55/60/65, 15 USC 1673(b)(2)) × DE, less earlier support;
//! - tax levy: not under the CCPA caps (15 USC 1673(b)(1)(C)); takes the ordered amount or all pay
//!   above the exempt amount (IRC 6334(d));
//! - student loan: min(15% × DE, DE − multiple × FMW, 25% × DE − support/student loans already
//!   withheld) (31 CFR 285.11(i));
//! - creditor: min(25% × DE, DE − multiple × FMW) (15 USC 1673(a)) less what support, student
//!   loans and earlier creditor orders took.
//!
//! Every order is also capped by the cash left in the check. Caps are rounded down to cents so a
//! line never exceeds its legal limit; each line is traced.

use crate::error::CalcError;
use crate::money::{cents, zero};
use crate::request::{GarnishmentInput, GarnishmentType, PayFrequency};
use crate::response::GarnishmentLine;
use crate::rules::FederalPack;
use crate::trace::LineTrace;
use rust_decimal::{Decimal, RoundingStrategy, dec};

pub struct GarnishContext<'a> {
    pub orders: &'a [GarnishmentInput],
    pub federal: &'static FederalPack,
    pub frequency: PayFrequency,
    /// Disposable earnings: wages (without tips and reimbursements) minus employee taxes.
    pub disposable: Decimal,
    /// Cash left in the paycheck that garnishments may take.
    pub available: Decimal,
}

/// Student loan AWG limit: 15% of disposable pay (31 CFR 285.11(i)(2)(i)(A)).
const STUDENT_LOAN_PERCENT: Decimal = dec!(0.15);
const STUDENT_LOAN_SOURCE: &str =
    "31 CFR 285.11(i)(2): administrative wage garnishment up to 15% of disposable pay";

/// Round a cap down to cents (never above the legal limit).
fn floor_cents(d: Decimal) -> Decimal {
    let mut r = d.round_dp_with_strategy(2, RoundingStrategy::ToZero);
    r.rescale(2);
    r
}

/// The federal-minimum-wage multiple protected per pay period, as a multiple of the weekly one
/// (29 CFR 870.10(c)): with the weekly 30, biweekly 60, semimonthly 65, monthly 130; daily 6
/// (a 5-day week). Quarterly, semiannual and annual periods have no figure in the regulation and
/// scale the weekly one by 13, 26 and 52 weeks.
fn period_multiple(weekly: Decimal, f: PayFrequency) -> (Decimal, &'static str) {
    match f {
        PayFrequency::Daily => (
            weekly / dec!(5),
            "29 CFR 870.10; DOL Fact Sheet 30: daily = the weekly 30 x FMW over a 5-day week (6 x FMW)",
        ),
        PayFrequency::Weekly => (weekly, "29 CFR 870.10(c)(1): weekly 30 x FMW"),
        PayFrequency::Biweekly => (weekly * dec!(2), "29 CFR 870.10(c)(2): biweekly 60 x FMW"),
        PayFrequency::Semimonthly => (
            weekly * dec!(13) / dec!(6),
            "29 CFR 870.10(c)(3): semimonthly 65 x FMW",
        ),
        PayFrequency::Monthly => (
            weekly * dec!(13) / dec!(3),
            "29 CFR 870.10(c)(4): monthly 130 x FMW",
        ),
        PayFrequency::Quarterly => (
            weekly * dec!(13),
            "not in 29 CFR 870.10: weekly 30 x FMW scaled by 13 weeks per quarter",
        ),
        PayFrequency::Semiannual => (
            weekly * dec!(26),
            "not in 29 CFR 870.10: weekly 30 x FMW scaled by 26 weeks per half-year",
        ),
        PayFrequency::Annual => (
            weekly * dec!(52),
            "not in 29 CFR 870.10: weekly 30 x FMW scaled by 52 weeks per year",
        ),
    }
}

fn priority(k: GarnishmentType) -> u8 {
    match k {
        GarnishmentType::ChildSupport => 0,
        GarnishmentType::TaxLevy => 1,
        GarnishmentType::StudentLoan => 2,
        GarnishmentType::Creditor => 3,
    }
}

/// Check every order; errors name `garnishments[i].<field>`.
pub fn validate(orders: &[GarnishmentInput]) -> Result<(), CalcError> {
    for (i, g) in orders.iter().enumerate() {
        let f = |name: &str| format!("garnishments[{i}].{name}");
        for (name, v) in [
            ("amount", g.amount),
            ("percent", g.percent),
            ("limit_percent", g.limit_percent),
            ("exempt_amount", g.exempt_amount),
            ("fee", g.fee),
        ] {
            if v.is_some_and(|v| v < Decimal::ZERO) {
                return Err(CalcError::invalid(f(name), "must not be negative"));
            }
        }
        if g.percent.is_some_and(|p| p > dec!(100)) {
            return Err(CalcError::invalid(f("percent"), "must not exceed 100"));
        }
        if g.amount.is_some() && g.percent.is_some() {
            return Err(CalcError::invalid(
                format!("garnishments[{i}]"),
                "give either amount or percent, not both",
            ));
        }
        let levy = g.kind == GarnishmentType::TaxLevy;
        if g.amount.is_none() && g.percent.is_none() && !(levy && g.exempt_amount.is_some()) {
            return Err(CalcError::invalid(
                f("amount"),
                if levy {
                    "a tax levy needs an amount or an exempt_amount (IRS Pub 1494)"
                } else {
                    "required (or a percent of disposable earnings)"
                },
            ));
        }
        if let Some(lp) = g.limit_percent {
            if g.kind != GarnishmentType::ChildSupport {
                return Err(CalcError::invalid(
                    f("limit_percent"),
                    "applies only to child_support",
                ));
            }
            if ![dec!(50), dec!(55), dec!(60), dec!(65)].contains(&lp) {
                return Err(CalcError::invalid(
                    f("limit_percent"),
                    "must be 50, 55, 60 or 65 (15 USC 1673(b)(2))",
                ));
            }
        }
        if g.exempt_amount.is_some() && !levy {
            return Err(CalcError::invalid(
                f("exempt_amount"),
                "applies only to tax_levy",
            ));
        }
    }
    Ok(())
}

pub fn compute(ctx: &GarnishContext) -> Result<(Vec<GarnishmentLine>, Vec<LineTrace>), CalcError> {
    validate(ctx.orders)?;
    if ctx.orders.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let z = zero();
    let p = &ctx.federal.params;
    let pack = ctx.federal.header.id.as_str();
    let de = ctx.disposable.max(z);
    let (multiple, multiple_source) =
        period_multiple(p.ccpa_min_wage_multiple.value, ctx.frequency);
    let protected = multiple * p.flsa_minimum_wage.value;

    let mut order: Vec<usize> = (0..ctx.orders.len()).collect();
    order.sort_by_key(|&i| (ctx.orders.get(i).map(|g| priority(g.kind)), i));

    let mut cash_left = ctx.available.max(z);
    // Withheld so far under support orders, student loans and creditor orders (counted against
    // the CCPA aggregate limits).
    let mut support = z;
    let mut student = z;
    let mut creditor = z;

    let mut lines = Vec::with_capacity(order.len());
    let mut traces = Vec::with_capacity(order.len());
    for i in order {
        let Some(g) = ctx.orders.get(i) else { continue };
        let rule = match g.kind {
            GarnishmentType::ChildSupport => "garnishment.ccpa.child_support",
            GarnishmentType::TaxLevy => "garnishment.irs.tax_levy",
            GarnishmentType::StudentLoan => "garnishment.awg.student_loan",
            GarnishmentType::Creditor => "garnishment.ccpa.creditor",
        };
        let mut t = LineTrace::new(g.kind.trace_line(), rule).pack(pack);
        t.input("index", Decimal::from(i as u64));
        if let Some(r) = &g.reference {
            t.input_text("reference", r);
        }
        if let Some(a) = g.amount {
            t.input("amount", a);
        }
        if let Some(pc) = g.percent {
            t.input("percent", pc);
        }
        let fee = g.fee.unwrap_or(z);
        if g.fee.is_some() {
            t.input("fee", fee);
        }
        t.step("disposable_earnings", de);

        // What the order asks for this period (before the fee).
        let base: Option<Decimal> = match (g.amount, g.percent) {
            (Some(a), _) => Some(a),
            (None, Some(pc)) => Some(cents(pc * de / dec!(100))),
            (None, None) => None, // tax levy: everything above the exempt amount
        };

        // The legal cap for this order (floored to cents), before cash.
        let cap: Option<Decimal> = match g.kind {
            GarnishmentType::ChildSupport => {
                let lp = g.limit_percent.unwrap_or(dec!(50));
                let exact = lp / dec!(100) * de;
                let room = (floor_cents(exact) - support).max(z);
                t.param_value(
                    "child_support_limit_percent",
                    lp,
                    "15 USC 1673(b)(2): 50% (60% with no second family), +5% when 12+ weeks in arrears",
                );
                t.step("cap", floor_cents(exact))
                    .step("prior_support", support)
                    .step("room", room);
                Some(room)
            }
            GarnishmentType::TaxLevy => {
                t.param_value(
                    "ccpa_exempt",
                    "tax levy",
                    "15 USC 1673(b)(1)(C): federal tax debts are not under the CCPA limits; IRC 6331/6334(d)",
                );
                match g.exempt_amount {
                    Some(ex) => {
                        t.input("exempt_amount", ex);
                        let room = (cash_left - ex).max(z);
                        t.step("exempt_amount", ex).step("room", room);
                        Some(room)
                    }
                    None => None,
                }
            }
            GarnishmentType::StudentLoan => {
                t.param_value(
                    "student_loan_percent",
                    STUDENT_LOAN_PERCENT,
                    STUDENT_LOAN_SOURCE,
                )
                .param("ccpa_creditor_percent", &p.ccpa_creditor_percent)
                .param("ccpa_min_wage_multiple", &p.ccpa_min_wage_multiple)
                .param_value("min_wage_multiple_for_period", multiple, multiple_source)
                .param("flsa_minimum_wage", &p.flsa_minimum_wage);
                let pct = floor_cents(STUDENT_LOAN_PERCENT * de);
                let above = floor_cents((de - protected).max(z));
                let aggregate = floor_cents(p.ccpa_creditor_percent.value * de);
                let prior = support + student;
                let room = pct.min(above).min((aggregate - prior).max(z)).max(z);
                t.step("cap_15_percent", pct)
                    .step("protected_earnings", protected)
                    .step("above_protected", above)
                    .step("aggregate_cap", aggregate)
                    .step("prior_garnishments", prior)
                    .step("room", room);
                Some(room)
            }
            GarnishmentType::Creditor => {
                t.param("ccpa_creditor_percent", &p.ccpa_creditor_percent)
                    .param("ccpa_min_wage_multiple", &p.ccpa_min_wage_multiple)
                    .param_value("min_wage_multiple_for_period", multiple, multiple_source)
                    .param("flsa_minimum_wage", &p.flsa_minimum_wage);
                let pct = floor_cents(p.ccpa_creditor_percent.value * de);
                let above = floor_cents((de - protected).max(z));
                let cap = pct.min(above);
                let prior = support + student + creditor;
                let room = (cap - prior).max(z);
                t.step("cap_percent", pct)
                    .step("protected_earnings", protected)
                    .step("above_protected", above)
                    .step("cap", cap)
                    .step("prior_garnishments", prior)
                    .step("room", room);
                Some(room)
            }
        };

        let ordered = match base {
            Some(b) => b + fee,
            None => cap.unwrap_or(cash_left) + fee,
        };
        t.step("ordered", ordered).step("cash_available", cash_left);
        let mut taken = ordered.min(cash_left);
        if let Some(c) = cap {
            taken = taken.min(c);
        }
        let taken = t.round(taken.max(z));
        // The order's own amount comes first; the fee takes what is left within the caps.
        let fee_taken = match base {
            Some(b) => (taken - b).max(z).min(fee),
            None => fee.min(taken),
        };
        t.step("taken", taken);
        if g.fee.is_some() {
            t.step("fee_taken", fee_taken);
        }
        if taken < ordered {
            t.step("not_taken", ordered - taken);
        }

        cash_left -= taken;
        match g.kind {
            GarnishmentType::ChildSupport => support += taken,
            GarnishmentType::StudentLoan => student += taken,
            GarnishmentType::Creditor => creditor += taken,
            GarnishmentType::TaxLevy => {}
        }
        lines.push(GarnishmentLine {
            kind: g.kind,
            reference: g.reference.clone(),
            amount: taken,
            fee: g.fee.map(|_| cents(fee_taken)),
            ordered: cents(ordered),
        });
        traces.push(t);
    }
    Ok((lines, traces))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::rules::federal_for;
    use crate::trace::TraceValue;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn fed() -> &'static FederalPack {
        federal_for(chrono::NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()).unwrap()
    }

    fn orders(v: Value) -> Vec<GarnishmentInput> {
        serde_json::from_value(v).unwrap()
    }

    fn run(
        v: Value,
        freq: PayFrequency,
        disposable: Decimal,
        available: Decimal,
    ) -> Result<(Vec<GarnishmentLine>, Vec<LineTrace>), CalcError> {
        let o = orders(v);
        compute(&GarnishContext {
            orders: &o,
            federal: fed(),
            frequency: freq,
            disposable,
            available,
        })
    }

    fn amounts(v: Value, freq: PayFrequency, disposable: Decimal) -> Vec<Decimal> {
        run(v, freq, disposable, disposable)
            .unwrap()
            .0
            .iter()
            .map(|l| l.amount)
            .collect()
    }

    fn step(t: &LineTrace, k: &str) -> Option<TraceValue> {
        t.step_value(k)
    }

    #[test]
    fn w14_creditor_within_cap() {
        let (l, t) = run(
            json!([{"type": "creditor", "amount": "200.00", "reference": "c-1"}]),
            PayFrequency::Weekly,
            dec!(1100),
            dec!(1100),
        )
        .unwrap();
        assert_eq!(l[0].amount.to_string(), "200.00");
        assert_eq!(l[0].ordered, dec!(200.00));
        assert_eq!(l[0].reference.as_deref(), Some("c-1"));
        assert_eq!(step(&t[0], "cap"), Some(TraceValue::Num(dec!(275.00))));
        assert_eq!(t[0].line, "garnishment:creditor");
        assert_eq!(t[0].rule, "garnishment.ccpa.creditor");
        assert!(t[0].params().any(|p| p.source.contains("870.10")));
        assert!(t[0].params().any(|p| p.source.contains("1673(a)(1)")));
    }

    #[test]
    fn w15_creditor_low_earnings() {
        let (l, t) = run(
            json!([{"type": "creditor", "amount": "100.00"}]),
            PayFrequency::Weekly,
            dec!(250),
            dec!(250),
        )
        .unwrap();
        assert_eq!(l[0].amount, dec!(32.50));
        assert_eq!(l[0].ordered, dec!(100.00));
        assert_eq!(
            step(&t[0], "protected_earnings"),
            Some(TraceValue::Num(dec!(217.50)))
        );
    }

    #[test]
    fn w16_child_support_under_50_percent() {
        let (l, t) = run(
            json!([{"type": "child_support", "amount": "400.00", "limit_percent": "50"}]),
            PayFrequency::Weekly,
            dec!(1725),
            dec!(1725),
        )
        .unwrap();
        assert_eq!(l[0].amount, dec!(400.00));
        assert_eq!(step(&t[0], "cap"), Some(TraceValue::Num(dec!(862.50))));
        assert_eq!(t[0].rule, "garnishment.ccpa.child_support");
    }

    #[test]
    fn w17_support_first_creditor_gets_nothing() {
        let (l, _) = run(
            json!([{"type": "creditor", "amount": "150.00"}, {"type": "child_support", "amount": "300.00"}]),
            PayFrequency::Weekly,
            dec!(640),
            dec!(640),
        )
        .unwrap();
        assert_eq!(l[0].kind, GarnishmentType::ChildSupport);
        assert_eq!(l[0].amount, dec!(300.00));
        assert_eq!(l[1].kind, GarnishmentType::Creditor);
        assert_eq!(l[1].amount, dec!(0.00));
        assert_eq!(l[1].ordered, dec!(150.00));
    }

    #[test]
    fn child_support_capped_and_shared_between_orders() {
        // 50% of 1,000 = 500: first order 350, second gets 150 of its 300.
        let got = amounts(
            json!([
                {"type": "child_support", "amount": "350.00"},
                {"type": "child_support", "amount": "300.00"}
            ]),
            PayFrequency::Biweekly,
            dec!(1000),
        );
        assert_eq!(got, vec![dec!(350.00), dec!(150.00)]);
        // 65% limit
        let got = amounts(
            json!([{"type": "child_support", "amount": "900.00", "limit_percent": "65"}]),
            PayFrequency::Biweekly,
            dec!(1000),
        );
        assert_eq!(got, vec![dec!(650.00)]);
    }

    #[test]
    fn creditor_after_small_support_gets_the_rest_of_25_percent() {
        // 25% of 640 = 160; support 100 → creditor room 60.
        let got = amounts(
            json!([{"type": "child_support", "amount": "100.00"}, {"type": "creditor", "amount": "150.00"}]),
            PayFrequency::Weekly,
            dec!(640),
        );
        assert_eq!(got, vec![dec!(100.00), dec!(60.00)]);
    }

    #[test]
    fn frequency_multiples() {
        // Creditor room = DE − multiple × 7.25 when that is below 25%.
        let one = |f: PayFrequency, de: Decimal| {
            amounts(json!([{"type": "creditor", "amount": "5000.00"}]), f, de)[0]
        };
        assert_eq!(one(PayFrequency::Daily, dec!(50)), dec!(6.50)); // 50 − 43.50
        assert_eq!(one(PayFrequency::Biweekly, dec!(500)), dec!(65.00)); // 500 − 435
        assert_eq!(one(PayFrequency::Semimonthly, dec!(500)), dec!(28.75)); // 500 − 471.25
        assert_eq!(one(PayFrequency::Monthly, dec!(1000)), dec!(57.50)); // 1000 − 942.50
        assert_eq!(one(PayFrequency::Quarterly, dec!(3000)), dec!(172.50)); // 3000 − 2827.50
        assert_eq!(one(PayFrequency::Annual, dec!(12000)), dec!(690.00)); // 12000 − 11310
        let (_, t) = run(
            json!([{"type": "creditor", "amount": "10.00"}]),
            PayFrequency::Quarterly,
            dec!(3000),
            dec!(3000),
        )
        .unwrap();
        let m = t[0]
            .params()
            .find(|p| p.name == "min_wage_multiple_for_period")
            .unwrap();
        assert_eq!(m.value, TraceValue::Num(dec!(390)));
        assert!(m.source.contains("scaled by 13"));
    }

    #[test]
    fn student_loan_15_percent_and_aggregate() {
        let got = amounts(
            json!([{"type": "student_loan", "amount": "500.00"}]),
            PayFrequency::Weekly,
            dec!(1000),
        );
        assert_eq!(got, vec![dec!(150.00)]);
        // Support took 200 of 1,000: 25% − 200 = 50 left for the student loan.
        let got = amounts(
            json!([
                {"type": "student_loan", "amount": "500.00"},
                {"type": "child_support", "amount": "200.00"},
                {"type": "creditor", "amount": "500.00"}
            ]),
            PayFrequency::Weekly,
            dec!(1000),
        );
        assert_eq!(got, vec![dec!(200.00), dec!(50.00), dec!(0.00)]);
    }

    #[test]
    fn tax_levy_exempt_amount_and_priority() {
        // Support 300, then the levy takes everything above 500 of the 1,200 left (700); the
        // creditor's CCPA room is 25% × 1,500 − 300 support = 75 (the levy is outside the CCPA
        // aggregate), and 500 of cash is left, so it takes 75.
        let (l, t) = run(
            json!([
                {"type": "creditor", "amount": "100.00"},
                {"type": "tax_levy", "exempt_amount": "500.00"},
                {"type": "child_support", "amount": "300.00"}
            ]),
            PayFrequency::Biweekly,
            dec!(1500),
            dec!(1500),
        )
        .unwrap();
        let got: Vec<_> = l.iter().map(|x| (x.kind, x.amount)).collect();
        assert_eq!(
            got,
            vec![
                (GarnishmentType::ChildSupport, dec!(300.00)),
                (GarnishmentType::TaxLevy, dec!(700.00)),
                (GarnishmentType::Creditor, dec!(75.00)),
            ]
        );
        assert_eq!(t[1].rule, "garnishment.irs.tax_levy");
        // Ordered levy amount, not under the CCPA caps.
        let got = amounts(
            json!([{"type": "tax_levy", "amount": "1200.00"}]),
            PayFrequency::Weekly,
            dec!(1500),
        );
        assert_eq!(got, vec![dec!(1200.00)]);
    }

    #[test]
    fn fee_within_caps() {
        let (l, _) = run(
            json!([{"type": "creditor", "amount": "100.00", "fee": "5.00"}]),
            PayFrequency::Weekly,
            dec!(1100),
            dec!(1100),
        )
        .unwrap();
        assert_eq!(
            (l[0].amount, l[0].fee, l[0].ordered),
            (dec!(105.00), Some(dec!(5.00)), dec!(105.00))
        );
        // Cap 32.50 at disposable 250: the order takes it all, no room for the fee.
        let (l, _) = run(
            json!([{"type": "creditor", "amount": "100.00", "fee": "3.00"}]),
            PayFrequency::Weekly,
            dec!(250),
            dec!(250),
        )
        .unwrap();
        assert_eq!((l[0].amount, l[0].fee), (dec!(32.50), Some(dec!(0.00))));
        // Order 30 + fee 3 under the 32.50 cap: fee 2.50.
        let (l, _) = run(
            json!([{"type": "creditor", "amount": "30.00", "fee": "3.00"}]),
            PayFrequency::Weekly,
            dec!(250),
            dec!(250),
        )
        .unwrap();
        assert_eq!((l[0].amount, l[0].fee), (dec!(32.50), Some(dec!(2.50))));
    }

    #[test]
    fn percent_orders_and_cash_limit() {
        // 20% of 1,725 = 345 support; cash 300 only.
        let (l, _) = run(
            json!([{"type": "child_support", "percent": "20"}, {"type": "creditor", "amount": "50.00"}]),
            PayFrequency::Weekly,
            dec!(1725),
            dec!(300),
        )
        .unwrap();
        assert_eq!(l[0].ordered, dec!(345.00));
        assert_eq!(l[0].amount, dec!(300.00));
        assert_eq!(l[1].amount, dec!(0.00));
    }

    fn err(v: Value) -> String {
        run(v, PayFrequency::Weekly, dec!(1000), dec!(1000))
            .unwrap_err()
            .field()
            .to_owned()
    }

    #[test]
    fn validation_errors_name_the_field() {
        assert_eq!(err(json!([{"type": "creditor"}])), "garnishments[0].amount");
        assert_eq!(
            err(json!([{"type": "creditor", "amount": "1.00"}, {"type": "tax_levy"}])),
            "garnishments[1].amount"
        );
        assert_eq!(
            err(json!([{"type": "creditor", "amount": "-1.00"}])),
            "garnishments[0].amount"
        );
        assert_eq!(
            err(json!([{"type": "creditor", "percent": "101"}])),
            "garnishments[0].percent"
        );
        assert_eq!(
            err(json!([{"type": "creditor", "percent": "-1"}])),
            "garnishments[0].percent"
        );
        assert_eq!(
            err(json!([{"type": "creditor", "amount": "1.00", "fee": "-1.00"}])),
            "garnishments[0].fee"
        );
        assert_eq!(
            err(json!([{"type": "tax_levy", "exempt_amount": "-1.00"}])),
            "garnishments[0].exempt_amount"
        );
        assert_eq!(
            err(json!([{"type": "child_support", "amount": "1.00", "limit_percent": "70"}])),
            "garnishments[0].limit_percent"
        );
        assert_eq!(
            err(json!([{"type": "creditor", "amount": "1.00", "limit_percent": "50"}])),
            "garnishments[0].limit_percent"
        );
        assert_eq!(
            err(json!([{"type": "creditor", "amount": "1.00", "percent": "5"}])),
            "garnishments[0]"
        );
        // A levy with only an exempt amount is valid.
        assert!(
            run(
                json!([{"type": "tax_levy", "exempt_amount": "400.00"}]),
                PayFrequency::Weekly,
                dec!(1000),
                dec!(1000)
            )
            .is_ok()
        );
    }

    fn order_strategy() -> impl Strategy<Value = Value> {
        (
            0u8..4,
            0u32..200_000,
            prop::option::of(0u32..1_000),
            0u8..4,
            prop::bool::ANY,
        )
            .prop_map(|(k, amt, fee, lp, use_exempt)| {
                let kind = ["child_support", "tax_levy", "student_loan", "creditor"][k as usize];
                let money = |c: u32| format!("{}.{:02}", c / 100, c % 100);
                let mut o = json!({"type": kind});
                if kind == "tax_levy" && use_exempt {
                    o["exempt_amount"] = json!(money(amt));
                } else {
                    o["amount"] = json!(money(amt));
                }
                if let Some(f) = fee {
                    o["fee"] = json!(money(f));
                }
                if kind == "child_support" {
                    o["limit_percent"] = json!(["50", "55", "60", "65"][lp as usize]);
                }
                o
            })
    }

    proptest! {
        #[test]
        fn never_exceeds_cash_nor_ccpa_caps(
            os in prop::collection::vec(order_strategy(), 0..6),
            de_c in 0u32..500_000,
            cash_c in 0u32..500_000,
            f in 0usize..8,
        ) {
            let freq = [
                PayFrequency::Daily, PayFrequency::Weekly, PayFrequency::Biweekly,
                PayFrequency::Semimonthly, PayFrequency::Monthly, PayFrequency::Quarterly,
                PayFrequency::Semiannual, PayFrequency::Annual,
            ][f];
            let de = Decimal::new(de_c.into(), 2);
            let cash = Decimal::new(cash_c.into(), 2);
            let (lines, traces) = run(Value::Array(os), freq, de, cash).unwrap();
            prop_assert_eq!(lines.len(), traces.len());
            let total: Decimal = lines.iter().map(|l| l.amount).sum();
            prop_assert!(total <= cash);
            let sum = |k: GarnishmentType| -> Decimal {
                lines.iter().filter(|l| l.kind == k).map(|l| l.amount).sum()
            };
            let support = sum(GarnishmentType::ChildSupport);
            let student = sum(GarnishmentType::StudentLoan);
            let creditor = sum(GarnishmentType::Creditor);
            let p = &fed().params;
            let (m, _) = period_multiple(p.ccpa_min_wage_multiple.value, freq);
            let protected = m * p.flsa_minimum_wage.value;
            prop_assert!(support <= dec!(0.65) * de);
            // Ordinary garnishments: never more than min(25%, DE − protected), less support.
            let ccpa = (p.ccpa_creditor_percent.value * de).min((de - protected).max(Decimal::ZERO));
            if creditor > Decimal::ZERO {
                prop_assert!(support + student + creditor <= ccpa);
            }
            if student > Decimal::ZERO {
                prop_assert!(support + student <= p.ccpa_creditor_percent.value * de);
            }
            for l in &lines {
                prop_assert!(l.amount >= Decimal::ZERO);
                prop_assert!(l.amount <= l.ordered);
                prop_assert_eq!(l.amount.scale(), 2);
                if l.kind == GarnishmentType::StudentLoan {
                    prop_assert!(l.amount <= dec!(0.15) * de);
                    prop_assert!(l.amount <= (de - protected).max(Decimal::ZERO));
                }
                if let Some(fee) = l.fee {
                    prop_assert!(fee <= l.amount);
                }
            }
        }
    }
}
