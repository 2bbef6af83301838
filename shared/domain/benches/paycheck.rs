//! Criterion benchmark of one realistic paycheck: a California server paid hourly over a
//! biweekly period (10 time entries, daily overtime and double time), cash and charged tips,
//! a 5% 401(k), federal W-4 (2020 form) and a DE 4, YTD amounts and SUI settings.
//!
//! Throughput is one element per iteration, so criterion's `elem/s` is paychecks per second on
//! one core. Run with `cargo bench -p payroll-domain --bench paycheck` (or `scripts/bench`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use payroll_domain::{calculate, calculate_json, parse_request};
use std::hint::black_box;

const REQUEST: &str = r#"{
  "pay_date": "2025-03-21",
  "pay_frequency": "biweekly",
  "work_state": "CA",
  "period_start": "2025-03-03",
  "period_end": "2025-03-16",
  "employee": { "tipped": true, "workweek_start": "monday" },
  "time_entries": [
    { "date": "2025-03-03", "hours": "8", "rate": "17.50", "job": "server", "cash_tips": "42.00", "charged_tips": "118.25" },
    { "date": "2025-03-04", "hours": "9.5", "rate": "17.50", "job": "server", "cash_tips": "35.50", "charged_tips": "140.00" },
    { "date": "2025-03-06", "hours": "7", "rate": "17.50", "job": "server", "charged_tips": "96.40" },
    { "date": "2025-03-07", "hours": "10", "rate": "17.50", "job": "server", "cash_tips": "80.00", "charged_tips": "212.75" },
    { "date": "2025-03-08", "hours": "12.5", "rate": "17.50", "job": "server", "cash_tips": "95.00", "charged_tips": "260.10" },
    { "date": "2025-03-10", "hours": "6", "rate": "17.50", "job": "server", "charged_tips": "70.00" },
    { "date": "2025-03-11", "hours": "8", "rate": "17.50", "job": "server", "cash_tips": "20.00", "charged_tips": "101.30" },
    { "date": "2025-03-13", "hours": "8.75", "rate": "17.50", "job": "server", "charged_tips": "125.00" },
    { "date": "2025-03-14", "hours": "9", "rate": "17.50", "job": "server", "cash_tips": "64.00", "charged_tips": "188.60" },
    { "date": "2025-03-15", "hours": "11", "rate": "17.50", "job": "server", "cash_tips": "71.25", "charged_tips": "240.00" }
  ],
  "federal_w4": { "form": "2020", "filing_status": "single" },
  "state_w4": { "CA": { "filing_status": "single", "allowances": 1 } },
  "deductions": [ { "type": "401k", "percent": "5" } ],
  "ytd": {
    "gross": "6820.40", "fit_wages": "6479.38", "social_security_wages": "6820.40",
    "medicare_wages": "6820.40", "futa_wages": "6820.40", "sui_wages": "6820.40",
    "sdi_wages": "6820.40", "401k": "341.02"
  },
  "employer": { "sui_rate": "0.034", "sui_wage_base": "7000", "futa_credit_reduction": "0.012" }
}"#;

fn paycheck(c: &mut Criterion) {
    let req = parse_request(REQUEST).expect("the benchmark request parses");
    // Fail loudly (not a fast error path measured by mistake) if the request stops calculating.
    let res = calculate(&req).expect("the benchmark request calculates");
    assert_eq!(res.gross_pay.to_string(), "3646.71");
    let compact =
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(REQUEST).unwrap())
            .unwrap();

    let mut g = c.benchmark_group("paycheck");
    g.throughput(Throughput::Elements(1));
    g.bench_function("calculate", |b| b.iter(|| calculate(black_box(&req))));
    g.bench_function("parse_request", |b| {
        b.iter(|| parse_request(black_box(&compact)))
    });
    g.bench_function("parse_calculate_serialize", |b| {
        b.iter(|| calculate_json(black_box(&compact)))
    });
    g.finish();
}

criterion_group!(benches, paycheck);
criterion_main!(benches);
