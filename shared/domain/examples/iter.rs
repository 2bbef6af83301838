//! Loop driver for instruction counts: `iter calc|parse|json N` runs `calculate` /
//! `parse_request` / `calculate_json` on the benchmark request N times. Per call =
//! (callgrind count at N = 1200 − count at N = 200) / 1000; see docs/PERFORMANCE.md.
#![allow(clippy::unwrap_used, clippy::expect_used)]
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
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("calc");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10000);
    let req = payroll_domain::parse_request(REQUEST).unwrap();
    let compact =
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(REQUEST).unwrap())
            .unwrap();
    let t = std::time::Instant::now();
    for _ in 0..n {
        match mode {
            "calc" => {
                black_box(payroll_domain::calculate(black_box(&req)).unwrap());
            }
            "parse" => {
                black_box(payroll_domain::parse_request(black_box(&compact)).unwrap());
            }
            _ => {
                black_box(payroll_domain::calculate_json(black_box(&compact)).unwrap());
            }
        }
    }
    let el = t.elapsed();
    eprintln!("{mode}: {:.3} us/iter", el.as_secs_f64() * 1e6 / n as f64);
}
