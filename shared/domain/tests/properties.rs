//! Properties that hold for random valid paychecks: the net-pay identity, no negative line,
//! withholding that never falls when wages rise under the same W-4, and byte-identical output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use payroll_domain::response::Payer;
use payroll_domain::{PaycheckResult, calculate, calculate_json, parse_request};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};

const STATES: &[&str] = &["TX", "FL", "CA", "IL", "PA", "NY", "WA", "NV"];
const FREQS: &[&str] = &["weekly", "biweekly", "semimonthly", "monthly"];

fn cents(n: u64) -> String {
    format!("{}.{:02}", n / 100, n % 100)
}

fn w4_strategy() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0usize..4, any::<bool>(), 0u64..600_000, 0u64..2_000_000, 0u64..5_000).prop_map(|(fs, cb, dep, ded, extra)| {
            let status = ["single", "married_filing_jointly", "married_filing_separately", "head_of_household"][fs];
            json!({"form": "2020", "filing_status": status, "multiple_jobs": cb,
                   "dependents_amount": cents(dep), "deductions": cents(ded), "extra_withholding": cents(extra)})
        }),
        (0usize..3, 0u32..6).prop_map(|(fs, a)| {
            let status = ["single", "married", "married_withhold_single"][fs];
            json!({"form": "2019", "filing_status": status, "allowances": a})
        }),
        Just(Value::Null),
    ]
}

prop_compose! {
    fn request()(
        state in 0..STATES.len(),
        freq in 0..FREQS.len(),
        year in prop_oneof![Just(2025), Just(2026)],
        month in 1u32..=12,
        hours in prop::collection::vec(0u32..=48, 1..10),   // quarter hours per day: 0..12 h
        rate_cents in 1800u64..6000,
        tips in 0u64..80_000,
        charged in 0u64..80_000,
        bonus in prop_oneof![Just(0u64), 1u64..500_000],
        k401_pct in 0u32..=10,
        s125 in 0u64..20_000,
        w4 in w4_strategy(),
        ytd in 0u64..25_000_000,
        garnish in prop_oneof![Just(0u64), 1u64..100_000],
    ) -> Value {
        let st = STATES[state];
        let start = chrono::NaiveDate::from_ymd_opt(year, month, 1).unwrap();
        let entries: Vec<Value> = hours.iter().enumerate().map(|(i, q)| json!({
            "date": (start + chrono::Days::new(i as u64)).to_string(),
            "hours": format!("{}.{:02}", q / 4, (q % 4) * 25),
            "rate": cents(rate_cents),
        })).collect();
        let mut earnings = vec![];
        if tips > 0 { earnings.push(json!({"type": "cash_tips", "amount": cents(tips)})); }
        if charged > 0 { earnings.push(json!({"type": "charged_tips", "amount": cents(charged)})); }
        if bonus > 0 { earnings.push(json!({"type": "bonus", "amount": cents(bonus), "discretionary": true})); }
        let mut deductions = vec![];
        if k401_pct > 0 { deductions.push(json!({"type": "401k", "percent": k401_pct.to_string()})); }
        if s125 > 0 { deductions.push(json!({"type": "section_125", "amount": cents(s125)})); }
        let mut req = json!({
            "pay_date": (start + chrono::Days::new(20)).to_string(),
            "pay_frequency": FREQS[freq],
            "work_state": st,
            "period_start": start.to_string(),
            "period_end": (start + chrono::Days::new(13)).to_string(),
            "time_entries": entries,
            "earnings": earnings,
            "deductions": deductions,
            "ytd": {"gross": cents(ytd), "social_security_wages": cents(ytd), "medicare_wages": cents(ytd),
                    "futa_wages": cents(ytd), "sui_wages": cents(ytd), "fit_wages": cents(ytd)},
            "employer": {"sui_rate": "0.027", "sui_wage_base": "9000.00"},
        });
        if !w4.is_null() { req["federal_w4"] = w4; }
        if garnish > 0 { req["garnishments"] = json!([{"type": "creditor", "amount": cents(garnish)}]); }
        req
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn net_identity_and_no_negative_lines(req in request()) {
        let parsed = parse_request(&req.to_string()).unwrap();
        let r = calculate(&parsed).unwrap_or_else(|e| panic!("{e} for {req}"));
        let ee: Decimal = r.taxes.iter().filter(|t| t.payer == Payer::Employee).map(|t| t.amount).sum();
        let ded: Decimal = r.deductions.iter().map(|x| x.amount).sum();
        let garn: Decimal = r.garnishments.iter().map(|x| x.amount).sum();
        prop_assert_eq!(r.net_pay, r.gross_pay - ee - ded - garn);
        prop_assert_eq!(r.gross_pay, r.earnings.iter().map(|e| e.amount).sum::<Decimal>());
        prop_assert!(r.net_pay >= Decimal::ZERO);
        for a in r.earnings.iter().map(|e| e.amount)
            .chain(r.taxes.iter().flat_map(|t| [t.amount, t.taxable_wages]))
            .chain(r.deductions.iter().map(|x| x.amount))
            .chain(r.garnishments.iter().map(|x| x.amount)) {
            prop_assert!(a >= Decimal::ZERO, "negative line {}", a);
            prop_assert!(a.scale() <= 2);
        }
        // Every line is explained.
        for e in &r.earnings {
            let id = format!("earning:{}", e.kind.as_str());
            prop_assert!(r.trace.iter().any(|t| t.line == id), "no trace for {}", id);
        }
        for t in &r.taxes {
            let id = format!("tax:{}", t.code);
            prop_assert!(r.trace.iter().any(|x| x.line == id), "no trace for {}", id);
        }
    }

    #[test]
    fn same_input_gives_byte_identical_output(req in request()) {
        let text = req.to_string();
        let a = calculate_json(&text).unwrap();
        let b = calculate_json(&text).unwrap();
        prop_assert_eq!(a, b);
    }

    #[test]
    fn written_json_is_what_serde_json_writes(req in request()) {
        // `PaycheckResult::to_json` (what `calculate_json`, the batch, the API and runs use) is
        // the serde representation, byte for byte; also for a result read back from JSON, whose
        // trace labels and texts are owned rather than static.
        let r = calculate(&parse_request(&req.to_string()).unwrap()).unwrap();
        let written = r.to_json();
        prop_assert_eq!(&written, &serde_json::to_string(&r).unwrap());
        let back: PaycheckResult = serde_json::from_str(&written).unwrap();
        let again = back.to_json();
        prop_assert_eq!(&again, &serde_json::to_string(&back).unwrap());
        prop_assert_eq!(&again, &written);
    }

    #[test]
    fn withholding_never_decreases_when_wages_rise(
        state in 0..STATES.len(),
        freq in 0..FREQS.len(),
        year in prop_oneof![Just(2025), Just(2026)],
        w4 in w4_strategy(),
        low in 0u64..2_000_000,
        raise in 1u64..500_000,
    ) {
        let run = |amount: u64| {
            let mut req = json!({
                "pay_date": format!("{year}-05-15"), "pay_frequency": FREQS[freq], "work_state": STATES[state],
                "employee": {"flsa_exempt": true},
                "earnings": [{"type": "salary", "amount": cents(amount)}],
            });
            if !w4.is_null() { req["federal_w4"] = w4.clone(); }
            calculate(&parse_request(&req.to_string()).unwrap()).unwrap()
        };
        let (a, b) = (run(low), run(low + raise));
        for code in ["US_FIT", "US_SS", "US_MEDICARE"].iter().map(|s| s.to_string()).chain([format!("{}_SIT", STATES[state])]) {
            let x = a.tax(&code).map(|t| t.amount).unwrap_or_default();
            let y = b.tax(&code).map(|t| t.amount).unwrap_or_default();
            prop_assert!(y >= x, "{} fell from {} to {} when wages rose {} -> {}", code, x, y, low, low + raise);
        }
    }
}
