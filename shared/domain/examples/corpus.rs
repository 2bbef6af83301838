//! Request corpus for output comparison: `corpus N [SEED]` writes N varied paycheck requests as
//! JSON Lines (valid ones of every kind the engine handles, and a share of invalid ones). Run the
//! `golden` example of the old and the new build over the same corpus and `cmp` the outputs.
//!
//! Covers every state with a rule pack (and states without one), resident states, all pay
//! frequencies, 2024–2027 pay dates, both W-4 forms and every filing status, no W-4, exempt,
//! time entries with several jobs and rates (hours and rates at scales 0–6), FLSA / California /
//! exempt employees, every workweek start, tipped employees with and without a tip credit, every
//! earning, deduction and garnishment type, and YTD amounts near every annual limit.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use serde_json::{Map, Value, json};
use std::io::Write;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
    /// Money text with 2 decimals in [lo, hi] cents (sometimes 0 or 1 decimals).
    fn money(&mut self, lo: u64, hi: u64) -> String {
        let c = lo + self.below(hi - lo + 1);
        match self.below(10) {
            0 if c.is_multiple_of(100) => format!("{}", c / 100),
            1 if c.is_multiple_of(10) => format!("{}.{}", c / 100, (c % 100) / 10),
            _ => format!("{}.{:02}", c / 100, c % 100),
        }
    }
}

/// Hours text: quarter hours mostly, sometimes odd scales ("8.00", "7.333333", "8.5").
fn hours_text(r: &mut Rng, max_hundredths: u64) -> String {
    let h = r.below(max_hundredths + 1);
    match r.below(20) {
        0 => format!("{}.{:02}", h / 100, h % 100),
        1 => {
            let x = r.below(max_hundredths * 10_000 + 1);
            format!("{}.{:06}", x / 1_000_000, x % 1_000_000)
        }
        2 => {
            let x = r.below(max_hundredths * 10 + 1);
            format!("{}.{:03}", x / 1000, x % 1000)
        }
        3 => format!("{}.0", h / 100),
        _ => {
            let q = h / 25 * 25;
            if q.is_multiple_of(100) {
                format!("{}", q / 100)
            } else if q.is_multiple_of(50) {
                format!("{}.{}", q / 100, (q % 100) / 10)
            } else {
                format!("{}.{:02}", q / 100, q % 100)
            }
        }
    }
}

fn rate_text(r: &mut Rng, lo_cents: u64, hi_cents: u64) -> String {
    let c = lo_cents + r.below(hi_cents - lo_cents + 1);
    match r.below(12) {
        0 => format!("{}.{:02}00", c / 100, c % 100),
        1 => format!("{}.{:02}5", c / 100, c % 100),
        2 if c.is_multiple_of(100) => format!("{}", c / 100),
        _ => format!("{}.{:02}", c / 100, c % 100),
    }
}

const STATES: &[&str] = &[
    "CA", "CA", "CA", "CA", "NY", "NY", "NY", "IL", "IL", "PA", "PA", "TX", "TX", "FL", "AK", "NV",
    "NH", "SD", "TN", "WA", "WY",
];
const FREQS: &[&str] = &[
    "weekly",
    "weekly",
    "biweekly",
    "biweekly",
    "biweekly",
    "semimonthly",
    "semimonthly",
    "monthly",
    "daily",
    "quarterly",
    "semiannual",
    "annual",
];
const DAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];
const EARNINGS: &[&str] = &[
    "regular",
    "overtime",
    "double_time",
    "salary",
    "bonus",
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
];
const DEDUCTIONS: &[&str] = &[
    "401k",
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
];
const GARNISH: &[&str] = &["child_support", "tax_levy", "student_loan", "creditor"];

fn date(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn request(r: &mut Rng) -> Value {
    let mut q = Map::new();
    let year = if r.chance(2) {
        *r.pick(&[2024, 2027])
    } else {
        *r.pick(&[2025, 2026])
    };
    let freq = *r.pick(FREQS);
    let period_days: u64 = match freq {
        "daily" => 1,
        "weekly" => 7,
        "biweekly" => 14,
        "semimonthly" => 15,
        "monthly" => 30,
        _ => 14,
    };
    let start = date(year, 1 + r.below(12) as u32, 1 + r.below(28) as u32);
    let end = start + chrono::Days::new(period_days - 1);
    let pay = end + chrono::Days::new(r.below(8));
    q.insert("pay_date".into(), json!(pay.to_string()));
    q.insert("pay_frequency".into(), json!(freq));
    let ws = if r.chance(2) {
        *r.pick(&["MN", "MT", "OR", "GA"])
    } else {
        *r.pick(STATES)
    };
    q.insert("work_state".into(), json!(ws));
    if r.chance(12) {
        q.insert(
            "resident_state".into(),
            json!(r.pick(&["NY", "CA", "PA", "IL", "TX", "NJ", "FL", ws])),
        );
    }
    let tipped = r.chance(35);
    let exempt = r.chance(8);
    let mut emp = Map::new();
    if tipped {
        emp.insert("tipped".into(), json!(true));
    }
    if exempt {
        emp.insert("flsa_exempt".into(), json!(true));
    }
    if r.chance(15) {
        emp.insert(
            "overtime_rules".into(),
            json!(r.pick(&["flsa", "california"])),
        );
    }
    if r.chance(40) {
        emp.insert("workweek_start".into(), json!(r.pick(DAYS)));
    }
    if r.chance(8) {
        emp.insert("minimum_wage".into(), json!(rate_text(r, 1600, 2100)));
    }
    if !emp.is_empty() || r.chance(50) {
        q.insert("employee".into(), Value::Object(emp));
    }

    // Time entries.
    let hourly = r.chance(75);
    let low = if tipped && matches!(ws, "TX" | "FL" | "NY" | "IL" | "PA") {
        500
    } else {
        1650
    };
    if hourly {
        let mut entries = vec![];
        let n = 1 + r.below(period_days.min(16) + 2);
        let jobs = ["server", "bartender", "cook", "host", "lead"];
        let njobs = 1 + r.below(3) as usize;
        let rates: Vec<String> = (0..3).map(|_| rate_text(r, low, 4500)).collect();
        let mut day_hours = std::collections::HashMap::new();
        for _ in 0..n {
            let d = start + chrono::Days::new(r.below(period_days));
            let mut e = Map::new();
            e.insert("date".into(), json!(d.to_string()));
            let max = if r.chance(10) { 1600 } else { 1250 };
            let used: &mut u64 = day_hours.entry(d).or_insert(0);
            let max = max.min(2400 - *used);
            if max == 0 {
                continue;
            }
            let h = hours_text(r, max);
            // Up to 6 decimals: count the hundredths it takes, rounded up.
            let hund: rust_decimal::Decimal = h.parse().unwrap();
            *used += (hund * rust_decimal::Decimal::ONE_HUNDRED)
                .ceil()
                .try_into()
                .unwrap_or(2400u64);
            e.insert("hours".into(), json!(h));
            let j = r.below(njobs as u64) as usize;
            e.insert("rate".into(), json!(rates[j].clone()));
            if njobs > 1 || r.chance(50) {
                e.insert("job".into(), json!(jobs[j]));
            }
            if tipped && r.chance(70) {
                e.insert("cash_tips".into(), json!(r.money(0, 15_000)));
            }
            if tipped && r.chance(80) {
                e.insert("charged_tips".into(), json!(r.money(0, 30_000)));
            }
            entries.push(Value::Object(e));
        }
        if r.chance(3) {
            // Occasionally invalid: an entry outside the period or too long.
            entries.push(json!({"date": (end + chrono::Days::new(3)).to_string(), "hours": "25", "rate": "20"}));
        }
        q.insert("time_entries".into(), Value::Array(entries));
    }
    if hourly || r.chance(30) {
        q.insert("period_start".into(), json!(start.to_string()));
        q.insert("period_end".into(), json!(end.to_string()));
    }

    // Earnings inputs.
    let mut earnings = vec![];
    if !hourly {
        if r.chance(60) {
            earnings
                .push(json!({"type": "salary", "annual_amount": r.money(3_000_000, 40_000_000)}));
        } else {
            earnings.push(json!({"type": "salary", "amount": r.money(50_000, 1_500_000)}));
        }
    }
    let ne = r.below(4);
    for _ in 0..ne {
        let kind = *r.pick(EARNINGS);
        let mut e = Map::new();
        e.insert("type".into(), json!(kind));
        match kind {
            "retro" if r.chance(50) => {
                e.insert("hours".into(), json!(hours_text(r, 4000)));
                e.insert("rate".into(), json!(rate_text(r, 2000, 3000)));
                e.insert("previous_rate".into(), json!(rate_text(r, 1700, 2000)));
            }
            "salary" if r.chance(50) => {
                e.insert(
                    "annual_amount".into(),
                    json!(r.money(2_000_000, 30_000_000)),
                );
            }
            "regular" | "overtime" | "double_time" | "holiday" | "pto" | "sick" if r.chance(60) => {
                e.insert("hours".into(), json!(hours_text(r, 4000)));
                e.insert("rate".into(), json!(rate_text(r, 1650, 4000)));
            }
            "bonus" if r.chance(5) => {
                e.insert("amount".into(), json!(r.money(100_000_000, 200_000_000)));
            }
            _ => {
                e.insert("amount".into(), json!(r.money(0, 300_000)));
            }
        }
        if kind == "bonus" && r.chance(40) {
            e.insert("discretionary".into(), json!(true));
        }
        if r.chance(30) {
            let d = start + chrono::Days::new(r.below(period_days + 10));
            e.insert("date".into(), json!(d.to_string()));
        }
        if r.chance(15) {
            e.insert("job".into(), json!("server"));
        }
        if r.below(400) == 0 {
            e.insert("discretionary".into(), json!(true));
        }
        earnings.push(Value::Object(e));
    }
    if !earnings.is_empty() {
        q.insert("earnings".into(), Value::Array(earnings));
    }

    // Federal W-4.
    if r.chance(90) {
        let mut w = Map::new();
        if r.chance(80) {
            w.insert("form".into(), json!("2020"));
            w.insert(
                "filing_status".into(),
                json!(r.pick(&[
                    "single",
                    "married_filing_jointly",
                    "married_filing_separately",
                    "head_of_household"
                ])),
            );
            if r.chance(20) {
                w.insert("multiple_jobs".into(), json!(true));
            }
            if r.chance(25) {
                w.insert("dependents_amount".into(), json!(r.money(0, 800_000)));
            }
            if r.chance(15) {
                w.insert("other_income".into(), json!(r.money(0, 3_000_000)));
            }
            if r.chance(15) {
                w.insert("deductions".into(), json!(r.money(0, 3_000_000)));
            }
        } else {
            w.insert("form".into(), json!("2019"));
            w.insert(
                "filing_status".into(),
                json!(r.pick(&["single", "married", "married_withhold_single"])),
            );
            w.insert("allowances".into(), json!(r.below(8)));
        }
        if r.chance(15) {
            w.insert("extra_withholding".into(), json!(r.money(0, 20_000)));
        }
        if r.chance(4) {
            w.insert("exempt".into(), json!(true));
        }
        if r.chance(15) {
            w.insert("supplemental_method".into(), json!("aggregate"));
        }
        q.insert("federal_w4".into(), Value::Object(w));
    }

    // State certificates.
    if r.chance(80) {
        let st = if r.chance(85) {
            ws
        } else {
            *r.pick(&["CA", "NY", "IL", "PA"])
        };
        let mut w = Map::new();
        if matches!(st, "CA" | "NY") || r.chance(10) {
            w.insert(
                "filing_status".into(),
                json!(r.pick(&["single", "married", "head_of_household"])),
            );
        }
        if r.chance(60) {
            w.insert("allowances".into(), json!(r.below(6)));
        }
        if r.chance(25) {
            w.insert("additional_allowances".into(), json!(r.below(4)));
        }
        if r.chance(10) {
            w.insert("extra_withholding".into(), json!(r.money(0, 5_000)));
        }
        if r.chance(3) {
            w.insert("exempt".into(), json!(true));
        }
        let mut m = Map::new();
        m.insert(st.into(), Value::Object(w));
        if let Some(Value::String(rs)) = q.get("resident_state")
            && r.chance(70)
        {
            m.insert(
                rs.clone(),
                json!({"filing_status": "single", "allowances": 1}),
            );
        }
        q.insert("state_w4".into(), Value::Object(m));
    }

    // Deductions.
    let nd = r.below(4);
    let mut deds = vec![];
    for _ in 0..nd {
        let kind = *r.pick(DEDUCTIONS);
        let mut d = Map::new();
        d.insert("type".into(), json!(kind));
        if r.chance(45) && matches!(kind, "401k" | "403b" | "457b" | "roth_401k" | "other") {
            d.insert(
                "percent".into(),
                json!(r.pick(&["3", "5", "6", "10", "4.5", "15", "2.25", "50", "100"])),
            );
        } else {
            d.insert("amount".into(), json!(r.money(0, 150_000)));
        }
        if r.chance(15) {
            d.insert("annual_limit".into(), json!(r.money(50_000, 2_500_000)));
        }
        if r.chance(20) {
            d.insert("ytd".into(), json!(r.money(0, 800_000)));
        }
        if kind == "hsa" && r.chance(50) {
            d.insert("coverage".into(), json!(r.pick(&["self_only", "family"])));
        }
        deds.push(Value::Object(d));
    }
    if !deds.is_empty() {
        q.insert("deductions".into(), Value::Array(deds));
    }

    // Garnishments.
    if r.chance(12) {
        let mut gs = vec![];
        for _ in 0..1 + r.below(3) {
            let kind = *r.pick(GARNISH);
            let mut g = Map::new();
            g.insert("type".into(), json!(kind));
            match r.below(3) {
                0 => {
                    g.insert("percent".into(), json!(r.pick(&["10", "15", "25", "50"])));
                }
                1 if kind == "tax_levy" => {}
                _ => {
                    g.insert("amount".into(), json!(r.money(1_000, 200_000)));
                }
            }
            if kind == "child_support" && r.chance(60) {
                g.insert(
                    "limit_percent".into(),
                    json!(r.pick(&["50", "55", "60", "65"])),
                );
            }
            if kind == "tax_levy" && r.chance(80) {
                g.insert("exempt_amount".into(), json!(r.money(20_000, 120_000)));
            }
            if r.chance(20) {
                g.insert("fee".into(), json!(r.money(0, 500)));
            }
            if r.chance(40) {
                g.insert(
                    "reference".into(),
                    json!(format!("CASE-{}", r.below(99999))),
                );
            }
            gs.push(Value::Object(g));
        }
        q.insert("garnishments".into(), Value::Array(gs));
    }

    // YTD near the limits.
    if r.chance(75) {
        let mut y = Map::new();
        let high = r.chance(25);
        let base = if high {
            r.below(30_000_000)
        } else {
            r.below(8_000_000)
        };
        let gross = format!("{}.{:02}", base / 100, base % 100);
        for k in ["gross", "fit_wages", "medicare_wages"] {
            y.insert(k.into(), json!(gross.clone()));
        }
        let near = |r: &mut Rng, limit_cents: u64, spread: u64| -> String {
            let c = (limit_cents + r.below(2 * spread)).saturating_sub(spread);
            format!("{}.{:02}", c / 100, c % 100)
        };
        y.insert(
            "social_security_wages".into(),
            json!(if high && r.chance(50) {
                near(r, 17_610_000, 400_000)
            } else {
                gross.clone()
            }),
        );
        if high && r.chance(40) {
            y.insert("medicare_wages".into(), json!(near(r, 20_000_000, 500_000)));
        }
        y.insert(
            "futa_wages".into(),
            json!(if r.chance(50) {
                near(r, 700_000, 200_000)
            } else {
                gross.clone()
            }),
        );
        y.insert("sui_wages".into(), json!(near(r, 1_500_000, 1_000_000)));
        if r.chance(50) {
            y.insert("sdi_wages".into(), json!(gross.clone()));
        }
        if r.chance(30) {
            y.insert(
                "supplemental".into(),
                json!(if r.chance(30) {
                    near(r, 100_000_000, 3_000_000)
                } else {
                    r.money(0, 5_000_000)
                }),
            );
        }
        if r.chance(40) {
            y.insert("401k".into(), json!(near(r, 2_350_000, 300_000)));
        }
        q.insert("ytd".into(), Value::Object(y));
    }
    if r.chance(70) {
        let mut e = Map::new();
        e.insert(
            "sui_rate".into(),
            json!(r.pick(&["0.034", "0.062", "0.015", "0.0275", "0"])),
        );
        if r.below(100) != 0 {
            e.insert("sui_wage_base".into(), json!(r.money(700_000, 6_000_000)));
        }
        if r.chance(40) {
            e.insert(
                "futa_credit_reduction".into(),
                json!(r.pick(&["0.009", "0.012", "0.006", "0"])),
            );
        }
        q.insert("employer".into(), Value::Object(e));
    }
    if r.chance(2) {
        // Occasionally invalid on purpose.
        match r.below(4) {
            0 => {
                q.insert("ytd".into(), json!({"gross": "-1.00"}));
            }
            1 => {
                q.insert("period_end".into(), json!("2020-01-01"));
            }
            2 => {
                q.insert("employee".into(), json!({"minimum_wage": "0"}));
            }
            _ => {
                q.insert("surprise".into(), json!(1));
            }
        }
    }
    Value::Object(q)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut r = Rng(seed);
    let mut out = std::io::BufWriter::new(std::io::stdout());
    for _ in 0..n {
        let q = request(&mut r);
        writeln!(out, "{}", serde_json::to_string(&q).unwrap()).unwrap();
    }
}
