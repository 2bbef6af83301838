//! The worked cases W1–W23 of `features-and-cases.md` and the state examples of
//! `us-payroll-tax.md`, through the public API (mostly the whole pipeline), to the cent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use payroll_domain::request::{GarnishmentInput, PayFrequency};
use payroll_domain::response::PaycheckResult;
use payroll_domain::{calculate, parse_request};
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn calc(v: Value) -> PaycheckResult {
    let req = parse_request(&v.to_string()).unwrap();
    calculate(&req).unwrap_or_else(|e| panic!("{e}"))
}

fn earning(r: &PaycheckResult, kind: &str) -> Decimal {
    r.earnings
        .iter()
        .filter(|e| e.kind.as_str() == kind)
        .map(|e| e.amount)
        .sum()
}

fn tax(r: &PaycheckResult, code: &str) -> (Decimal, Decimal) {
    let t = r.tax(code).unwrap_or_else(|| panic!("no {code} line"));
    (t.taxable_wages, t.amount)
}

/// Time entries for consecutive days starting on `start` (YYYY-MM-DD).
fn days(start: &str, hours: &[&str], rate: &str) -> Vec<Value> {
    let s = chrono::NaiveDate::parse_from_str(start, "%Y-%m-%d").unwrap();
    hours
        .iter()
        .enumerate()
        .map(|(i, h)| json!({"date": (s + chrono::Days::new(i as u64)).to_string(), "hours": h, "rate": rate}))
        .collect()
}

fn hourly(state: &str, freq: &str, start: &str, end: &str, entries: Vec<Value>) -> Value {
    json!({
        "pay_date": "2025-03-21", "pay_frequency": freq, "work_state": state,
        "period_start": start, "period_end": end,
        "federal_w4": {"form": "2020", "filing_status": "single"},
        "time_entries": entries
    })
}

// 2025-03-03 is a Monday.

#[test]
fn w1_california_daily_overtime() {
    let r = calc(hourly(
        "CA",
        "weekly",
        "2025-03-03",
        "2025-03-09",
        days("2025-03-03", &["9", "10", "8", "12", "7"], "20"),
    ));
    assert_eq!(
        (r.hours.regular, r.hours.overtime, r.hours.double_time),
        (d("39"), d("7"), d("0"))
    );
}

#[test]
fn w2_california_fourteen_hour_day() {
    let r = calc(hourly(
        "CA",
        "weekly",
        "2025-03-03",
        "2025-03-09",
        days("2025-03-03", &["14"], "20"),
    ));
    assert_eq!(
        (r.hours.regular, r.hours.overtime, r.hours.double_time),
        (d("8"), d("4"), d("2"))
    );
}

#[test]
fn w3_flsa_five_ten_hour_days() {
    let r = calc(hourly(
        "TX",
        "weekly",
        "2025-03-03",
        "2025-03-09",
        days("2025-03-03", &["10"; 5], "15"),
    ));
    assert_eq!((r.hours.regular, r.hours.overtime), (d("40"), d("10")));
}

#[test]
fn w4_weeks_are_not_averaged() {
    let mut e = days("2025-03-03", &["10"; 5], "15");
    e.extend(days("2025-03-10", &["6"; 5], "15"));
    let r = calc(hourly("TX", "biweekly", "2025-03-03", "2025-03-16", e));
    assert_eq!((r.hours.regular, r.hours.overtime), (d("70"), d("10")));
}

#[test]
fn w5_overtime_pay() {
    let r = calc(hourly(
        "TX",
        "weekly",
        "2025-03-03",
        "2025-03-09",
        days("2025-03-03", &["10"; 5], "15"),
    ));
    assert_eq!(earning(&r, "regular"), d("600.00"));
    assert_eq!(earning(&r, "overtime"), d("225.00"));
    assert_eq!(r.gross_pay, d("825.00"));
}

#[test]
fn w6_each_line_rounded_once() {
    let r = calc(json!({
        "pay_date": "2025-03-21", "pay_frequency": "weekly", "work_state": "TX",
        "earnings": [
            {"type": "regular", "hours": "37.25", "rate": "15.75"},
            {"type": "overtime", "hours": "2.75", "rate": "23.625"}
        ]
    }));
    assert_eq!(earning(&r, "regular"), d("586.69"));
    assert_eq!(earning(&r, "overtime"), d("64.97"));
    assert_eq!(r.gross_pay, d("651.66"));
}

#[test]
fn w7_biweekly_with_overtime() {
    let mut e = days("2025-03-03", &["8"; 5], "25");
    e.extend(days("2025-03-10", &["9"; 5], "25"));
    let r = calc(hourly("TX", "biweekly", "2025-03-03", "2025-03-16", e));
    assert_eq!((r.hours.regular, r.hours.overtime), (d("80"), d("5")));
    assert_eq!(r.gross_pay, d("2187.50"));
}

#[test]
fn w8_w9_salary_per_period() {
    for (annual, freq, want) in [
        ("120000", "biweekly", "4615.38"),
        ("52000", "weekly", "1000.00"),
        ("52000", "biweekly", "2000.00"),
        ("52000", "semimonthly", "2166.67"),
        ("52000", "monthly", "4333.33"),
    ] {
        let r = calc(json!({
            "pay_date": "2025-03-31", "pay_frequency": freq, "work_state": "TX",
            "employee": {"flsa_exempt": true},
            "earnings": [{"type": "salary", "annual_amount": annual}]
        }));
        assert_eq!(r.gross_pay.to_string(), want, "{annual} {freq}");
    }
}

#[test]
fn w10_tip_pool_sums_to_the_pool() {
    let parts =
        payroll_domain::earnings::allocate_tip_pool(d("800.00"), &[d("40"), d("35"), d("15")])
            .unwrap();
    assert_eq!(parts, vec![d("355.56"), d("311.11"), d("133.33")]);
    assert_eq!(parts.iter().sum::<Decimal>(), d("800.00"));
}

#[test]
fn w11_tipped_no_makeup_and_fica_on_tips() {
    let mut req = hourly(
        "TX",
        "weekly",
        "2025-03-03",
        "2025-03-09",
        days("2025-03-03", &["6"; 5], "2.13"),
    );
    req["employee"] = json!({"tipped": true});
    req["earnings"] = json!([{"type": "cash_tips", "amount": "500.00"}]);
    let r = calc(req);
    assert_eq!(earning(&r, "tip_makeup"), d("0"));
    assert_eq!(r.gross_pay, d("563.90"));
    assert_eq!(tax(&r, "US_SS"), (d("563.90"), d("34.96")));
    assert_eq!(tax(&r, "US_MEDICARE"), (d("563.90"), d("8.18")));
    // Cash wages 63.90 cannot cover FICA and income tax: FICA is withheld in full, income tax is
    // cut to what is left and the rest reported as uncollected; net pay is zero, never negative.
    let fit = r.tax("US_FIT").unwrap();
    assert_eq!(fit.amount, d("63.90") - d("34.96") - d("8.18"));
    assert!(fit.uncollected.unwrap() > Decimal::ZERO);
    assert_eq!(r.net_pay, d("0.00"));
    let cash_tips_paid = r
        .deductions
        .iter()
        .find(|x| x.kind.as_str() == "cash_tips_paid")
        .unwrap();
    assert_eq!(cash_tips_paid.amount, d("500.00"));
}

#[test]
fn w12_tipped_minimum_wage_makeup() {
    let mut req = hourly(
        "TX",
        "weekly",
        "2025-03-03",
        "2025-03-09",
        days("2025-03-03", &["8"; 5], "2.13"),
    );
    req["employee"] = json!({"tipped": true});
    req["earnings"] = json!([{"type": "charged_tips", "amount": "100.00"}]);
    let r = calc(req);
    assert_eq!(earning(&r, "tip_makeup"), d("104.80"));
    assert_eq!(r.gross_pay, d("85.20") + d("100.00") + d("104.80"));
}

#[test]
fn w13_regular_rate_blends_jobs() {
    let mut e = days("2025-03-03", &["6"; 5], "12");
    for x in &mut e {
        x["job"] = json!("cook");
    }
    let mut e2 = days("2025-03-06", &["5"; 3], "20");
    for x in &mut e2 {
        x["job"] = json!("server");
    }
    e.extend(e2);
    let r = calc(hourly("TX", "weekly", "2025-03-03", "2025-03-09", e));
    assert_eq!((r.hours.regular, r.hours.overtime), (d("40"), d("5")));
    assert_eq!(r.gross_pay, d("696.67"));
}

fn garnish(orders: Value, disposable: &str, freq: PayFrequency) -> Vec<Decimal> {
    let orders: Vec<GarnishmentInput> = serde_json::from_value(orders).unwrap();
    let fed =
        payroll_domain::rules::federal_for(chrono::NaiveDate::from_ymd_opt(2025, 6, 1).unwrap())
            .unwrap();
    let (lines, _) = payroll_domain::garnish::compute(&payroll_domain::garnish::GarnishContext {
        orders: &orders,
        federal: fed,
        frequency: freq,
        disposable: d(disposable),
        available: d(disposable),
    })
    .unwrap();
    lines.iter().map(|l| l.amount).collect()
}

#[test]
fn w14_creditor_within_cap() {
    assert_eq!(
        garnish(
            json!([{"type": "creditor", "amount": "200.00"}]),
            "1100",
            PayFrequency::Weekly
        ),
        vec![d("200.00")]
    );
}

#[test]
fn w15_creditor_low_earnings() {
    assert_eq!(
        garnish(
            json!([{"type": "creditor", "amount": "100.00"}]),
            "250",
            PayFrequency::Weekly
        ),
        vec![d("32.50")]
    );
}

#[test]
fn w16_child_support() {
    assert_eq!(
        garnish(
            json!([{"type": "child_support", "amount": "400.00", "limit_percent": "50"}]),
            "1725",
            PayFrequency::Weekly
        ),
        vec![d("400.00")]
    );
}

#[test]
fn w17_support_first_then_creditor_gets_nothing() {
    let got = garnish(
        json!([{"type": "creditor", "amount": "150.00"}, {"type": "child_support", "amount": "300.00"}]),
        "640",
        PayFrequency::Weekly,
    );
    assert_eq!(got.iter().sum::<Decimal>(), d("300.00"));
    assert!(got.contains(&d("300.00")));
}

#[test]
fn w14_through_the_pipeline() {
    // Weekly 1,500 gross salary; the disposable earnings are gross less employee taxes.
    let r = calc(json!({
        "pay_date": "2025-03-21", "pay_frequency": "weekly", "work_state": "TX",
        "employee": {"flsa_exempt": true},
        "earnings": [{"type": "salary", "amount": "1500.00"}],
        "garnishments": [{"type": "creditor", "amount": "200.00", "reference": "case-1"}]
    }));
    assert_eq!(r.garnishments[0].amount, d("200.00"));
    assert_eq!(r.garnishments[0].reference.as_deref(), Some("case-1"));
}

#[test]
fn w18_retro_pay() {
    let r = calc(json!({
        "pay_date": "2025-03-21", "pay_frequency": "biweekly", "work_state": "TX",
        "earnings": [{"type": "retro", "hours": "160", "rate": "62.50", "previous_rate": "57.69"}]
    }));
    assert_eq!(earning(&r, "retro"), d("769.60"));
}

#[test]
fn w19_w20_w21_through_the_pipeline() {
    let r = calc(json!({
        "pay_date": "2024-06-14", "pay_frequency": "biweekly", "work_state": "TX",
        "employee": {"flsa_exempt": true},
        "earnings": [{"type": "salary", "amount": "5000.00"}],
        "ytd": {"social_security_wages": "165000.00", "medicare_wages": "165000.00", "futa_wages": "165000.00"}
    }));
    assert_eq!(tax(&r, "US_SS"), (d("3600.00"), d("223.20")));
    assert_eq!(tax(&r, "US_MEDICARE").1, d("72.50"));
    assert_eq!(tax(&r, "US_FUTA").1, d("0.00"));
    let r = calc(json!({
        "pay_date": "2025-11-14", "pay_frequency": "monthly", "work_state": "TX",
        "employee": {"flsa_exempt": true},
        "earnings": [{"type": "salary", "amount": "10000.00"}],
        "ytd": {"social_security_wages": "195000.00", "medicare_wages": "195000.00"}
    }));
    assert_eq!(tax(&r, "US_MEDICARE").1, d("145.00"));
    assert_eq!(tax(&r, "US_ADDL_MEDICARE"), (d("5000.00"), d("45.00")));
    let r = calc(json!({
        "pay_date": "2025-03-14", "pay_frequency": "biweekly", "work_state": "TX",
        "employee": {"flsa_exempt": true},
        "earnings": [{"type": "salary", "amount": "1000.00"}],
        "ytd": {"futa_wages": "6500.00"}
    }));
    assert_eq!(tax(&r, "US_FUTA"), (d("500.00"), d("3.00")));
}

#[test]
fn w22_ytd_accumulates_over_six_paychecks() {
    let mut ytd = json!({});
    let mut fica = Decimal::ZERO;
    for _ in 0..6 {
        let r = calc(json!({
            "pay_date": "2025-03-14", "pay_frequency": "biweekly", "work_state": "TX",
            "employee": {"flsa_exempt": true},
            "earnings": [{"type": "salary", "amount": "2500.00"}],
            "ytd": ytd
        }));
        assert_eq!(tax(&r, "US_SS").1, d("155.00"));
        assert_eq!(tax(&r, "US_MEDICARE").1, d("36.25"));
        fica += tax(&r, "US_SS").1 + tax(&r, "US_MEDICARE").1;
        ytd = serde_json::to_value(&r.ytd_after).unwrap();
    }
    assert_eq!(ytd["gross"], json!("15000.00"));
    assert_eq!(fica, d("1147.50"));
}

#[test]
fn w23_pretax_bases() {
    let r = calc(json!({
        "pay_date": "2025-03-14", "pay_frequency": "biweekly", "work_state": "TX",
        "employee": {"flsa_exempt": true},
        "earnings": [{"type": "salary", "amount": "2000.00"}],
        "deductions": [{"type": "401k", "amount": "100.00"}, {"type": "section_125", "amount": "50.00"}]
    }));
    assert_eq!(tax(&r, "US_FIT").0, d("1850.00"));
    assert_eq!(tax(&r, "US_SS").0, d("1950.00"));
    assert_eq!(tax(&r, "US_MEDICARE").0, d("1950.00"));
}

fn salaried(state: &str, w4: Value) -> PaycheckResult {
    calc(json!({
        "pay_date": "2025-03-14", "pay_frequency": "biweekly", "work_state": state,
        "employee": {"flsa_exempt": true},
        "earnings": [{"type": "salary", "amount": "2000.00"}],
        "state_w4": w4
    }))
}

#[test]
fn state_examples() {
    let r = salaried(
        "CA",
        json!({"CA": {"filing_status": "single", "allowances": 1}}),
    );
    assert_eq!(tax(&r, "CA_SIT").1, d("51.45"));
    assert_eq!(tax(&r, "CA_SDI").1, d("24.00"));
    let r = salaried("IL", json!({"IL": {"allowances": 1}}));
    assert_eq!(tax(&r, "IL_SIT").1, d("93.57"));
    let r = salaried("PA", json!({}));
    assert_eq!(tax(&r, "PA_SIT").1, d("61.40"));
    for st in ["AK", "FL", "NV", "NH", "SD", "TN", "TX", "WA", "WY"] {
        let r = salaried(st, json!({}));
        assert_eq!(
            tax(&r, &format!("{st}_SIT")),
            (d("2000.00"), d("0.00")),
            "{st}"
        );
    }
}

#[test]
fn every_tax_that_applies_is_listed_even_at_zero() {
    let r = salaried("TX", json!({}));
    let codes: Vec<&str> = r.taxes.iter().map(|t| t.code.as_ref()).collect();
    for c in [
        "US_FIT",
        "US_SS",
        "US_MEDICARE",
        "US_ADDL_MEDICARE",
        "TX_SIT",
        "US_SS_ER",
        "US_MEDICARE_ER",
        "US_FUTA",
    ] {
        assert!(codes.contains(&c), "{c} missing from {codes:?}");
    }
}

#[test]
fn recalculating_2025_in_2026_gives_2025_answer() {
    let a = salaried("TX", json!({}));
    let mut req = json!({
        "pay_date": "2026-03-13", "pay_frequency": "biweekly", "work_state": "TX",
        "employee": {"flsa_exempt": true},
        "earnings": [{"type": "salary", "amount": "2000.00"}]
    });
    let b = calc(req.clone());
    assert_ne!(tax(&a, "US_FIT").1, tax(&b, "US_FIT").1);
    req["pay_date"] = json!("2025-03-14");
    assert_eq!(tax(&calc(req), "US_FIT").1, tax(&a, "US_FIT").1);
    assert_eq!(a.rule_packs[0], "US-2025@2025.1");
}
