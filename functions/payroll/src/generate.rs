//! `payroll generate --count N [--seed S] [--output FILE]`: realistic, varied, valid paycheck
//! requests as JSON Lines, for the batch benchmark and for tests.
//!
//! The requests are built as `PaycheckRequest` values (so they follow the contract by
//! construction) from a SplitMix64 stream per item: the output depends only on the seed and the
//! index, not on the number of threads. The mix is a restaurant group's payroll: hourly kitchen
//! staff, tipped servers and bartenders (cash and charged tips, tip credit where the state allows
//! it), salaried managers with bonuses, 401(k) / Roth / section 125 / HSA deductions, W-4s of
//! both forms, state certificates, YTD amounts consistent with the date, SUI settings, and a few
//! garnishments; work states CA, NY, TX, FL, IL, PA; pay dates in 2025 and 2026.

use crate::cli::GenerateArgs;
use crate::failure::Failure;
use crate::io;
use crate::rng::SplitMix64;
use chrono::{Datelike, Days, NaiveDate, Weekday};
use payroll_domain::money::cents;
use payroll_domain::request::{
    DeductionInput, DeductionType, EarningInput, EarningType, EmployeeProfile, EmployerSettings,
    FederalW4, FilingStatus, GarnishmentInput, GarnishmentType, HsaCoverage, PayFrequency,
    PaycheckRequest, StateCode, StateW4, SupplementalMethod, TimeEntry, W4Form, WeekdayName, Ytd,
};
use rayon::prelude::*;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::collections::BTreeMap;
use std::io::Write;

/// Requests generated per parallel chunk.
const CHUNK: u64 = 4096;

pub fn run(a: &GenerateArgs) -> Result<(), Failure> {
    let mut out = io::open_output(a.output.as_ref())?;
    let mut start = 0u64;
    while start < a.count {
        let end = (start + CHUNK).min(a.count);
        let lines: Vec<String> = (start..end)
            .into_par_iter()
            .map(|i| request_line(a.seed, i))
            .collect::<Result<_, _>>()?;
        for l in &lines {
            out.write_all(l.as_bytes())
                .and_then(|()| out.write_all(b"\n"))
                .map_err(|e| io::write_failure(&e))?;
        }
        start = end;
    }
    out.flush().map_err(|e| io::write_failure(&e))
}

/// Request `index` of the run seeded with `seed`, as one line of JSON.
pub fn request_line(seed: u64, index: u64) -> Result<String, Failure> {
    let req = request(seed, index);
    serde_json::to_string(&req).map_err(|e| Failure::internal(format!("generate: {e}")))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Kitchen,
    Server,
    Bartender,
    ShiftLead,
    Manager,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    Ca,
    Ny,
    Tx,
    Fl,
    Il,
    Pa,
}

impl St {
    fn code(self) -> &'static str {
        match self {
            St::Ca => "CA",
            St::Ny => "NY",
            St::Tx => "TX",
            St::Fl => "FL",
            St::Il => "IL",
            St::Pa => "PA",
        }
    }

    /// Hourly rate range in cents for non-tipped work: at or above every minimum wage in force in
    /// 2025–2026 (CA 16.90, NY 16.00 rest of state, FL 15.00 from 2026-09-30, IL 15.00).
    fn wage_range(self) -> (i64, i64) {
        match self {
            St::Ca => (1800, 3200),
            St::Ny => (1700, 2900),
            St::Il => (1550, 2700),
            St::Fl => (1525, 2500),
            St::Tx | St::Pa => (1100, 2400),
        }
    }

    /// Cash wage range in cents for tipped work: the tipped cash wage where the state allows a
    /// tip credit (highest value of 2025–2026), the minimum wage where it does not (CA).
    fn tipped_range(self) -> (i64, i64) {
        match self {
            St::Ca => (1725, 1900),
            St::Ny => (1100, 1200),
            St::Fl => (1200, 1300),
            St::Il => (900, 1000),
            St::Pa => (283, 283),
            St::Tx => (213, 213),
        }
    }

    /// State unemployment wage base by year, and a plausible employer rate range (basis points
    /// of a percent, i.e. 1/10000).
    fn sui(self, year: i32) -> (i64, (i64, i64)) {
        match (self, year) {
            (St::Ca, _) => (7000, (150, 620)),
            (St::Ny, 2025) => (12800, (210, 990)),
            (St::Ny, _) => (17600, (210, 990)),
            (St::Tx, _) => (9000, (25, 631)),
            (St::Fl, _) => (7000, (10, 540)),
            (St::Il, 2025) => (13590, (85, 760)),
            (St::Il, _) => (13916, (85, 760)),
            (St::Pa, _) => (10000, (142, 1037)),
        }
    }
}

fn d(cents_value: i64) -> Decimal {
    Decimal::new(cents_value, 2)
}

fn date(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
}

fn add_days(x: NaiveDate, n: u64) -> NaiveDate {
    x.checked_add_days(Days::new(n)).unwrap_or(x)
}

fn sub_days(x: NaiveDate, n: u64) -> NaiveDate {
    x.checked_sub_days(Days::new(n)).unwrap_or(x)
}

fn last_of_month(y: i32, m: u32) -> NaiveDate {
    let first_next = if m == 12 {
        date(y + 1, 1, 1)
    } else {
        date(y, m + 1, 1)
    };
    sub_days(first_next, 1)
}

/// The pay period `[start, end]` and pay date: pay dates fall between 2025-01-06 and 2026-12-31.
fn period(r: &mut SplitMix64, freq: PayFrequency) -> (NaiveDate, NaiveDate, NaiveDate) {
    let first = date(2025, 1, 1);
    match freq {
        PayFrequency::Semimonthly | PayFrequency::Monthly => {
            let y = r.pick(&[2025, 2026]);
            let m = r.range(1, 12) as u32;
            let (s, e) = if freq == PayFrequency::Monthly {
                (date(y, m, 1), last_of_month(y, m))
            } else if r.chance(50) {
                (date(y, m, 1), date(y, m, 15))
            } else {
                (date(y, m, 16), last_of_month(y, m))
            };
            // Paid on the last day of the period (a 2026-12-31 pay date stays in 2026).
            (s, e, e)
        }
        _ => {
            let len: u64 = if freq == PayFrequency::Weekly { 7 } else { 14 };
            // Period ends between 2025-01-14 and 2026-12-24; paid 5 days later.
            let offset = r.range(len as i64 - 1, 722) as u64;
            let end = add_days(first, offset);
            (sub_days(end, len - 1), end, add_days(end, 5))
        }
    }
}

/// Shift lengths in quarter hours, weighted toward 6–9 hour shifts; long ones give daily overtime
/// in California.
fn shift_quarters(r: &mut SplitMix64) -> i64 {
    r.weighted(&[
        (16, 6),
        (20, 8),
        (24, 12),
        (26, 8),
        (28, 10),
        (30, 10),
        (32, 16),
        (34, 8),
        (36, 8),
        (38, 4),
        (40, 5),
        (42, 2),
        (44, 2),
        (48, 1),
        (52, 1),
    ]) + r.range(-1, 1)
}

fn federal_w4(r: &mut SplitMix64, has_bonus: bool) -> Option<FederalW4> {
    if r.chance(2) {
        return None; // no W-4 on file: single, no adjustments
    }
    let exempt = r.chance(1);
    let supplemental_method = if has_bonus && r.chance(15) {
        SupplementalMethod::Aggregate
    } else {
        SupplementalMethod::Flat
    };
    let extra = |r: &mut SplitMix64, p: u64| r.chance(p).then(|| d(r.range(2, 10) * 500));
    if r.chance(78) {
        let filing_status = r.weighted(&[
            (FilingStatus::Single, 55),
            (FilingStatus::MarriedFilingJointly, 30),
            (FilingStatus::HeadOfHousehold, 12),
            (FilingStatus::MarriedFilingSeparately, 3),
        ]);
        let dependents_amount = r
            .chance(22)
            .then(|| d(r.pick(&[50_000, 200_000, 250_000, 400_000, 600_000])));
        Some(FederalW4 {
            form: W4Form::Y2020,
            filing_status,
            multiple_jobs: r.chance(10),
            dependents_amount,
            other_income: r.chance(5).then(|| d(r.range(10, 120) * 10_000)),
            deductions: r.chance(5).then(|| d(r.range(5, 60) * 100_000)),
            extra_withholding: extra(r, 8),
            allowances: None,
            exempt,
            supplemental_method,
        })
    } else {
        let filing_status = r.weighted(&[
            (FilingStatus::Single, 50),
            (FilingStatus::Married, 40),
            (FilingStatus::MarriedWithholdSingle, 10),
        ]);
        Some(FederalW4 {
            form: W4Form::Y2019,
            filing_status,
            multiple_jobs: false,
            dependents_amount: None,
            other_income: None,
            deductions: None,
            extra_withholding: extra(r, 5),
            allowances: Some(r.range(0, 5) as u32),
            exempt,
            supplemental_method,
        })
    }
}

fn state_w4(r: &mut SplitMix64, st: St) -> BTreeMap<StateCode, StateW4> {
    let mut m = BTreeMap::new();
    let w = match st {
        St::Ca => StateW4 {
            filing_status: Some(
                r.weighted(&[("single", 55), ("married", 35), ("head_of_household", 10)])
                    .to_owned(),
            ),
            allowances: Some(r.range(0, 4) as u32),
            additional_allowances: r.chance(15).then(|| r.range(1, 2) as u32),
            extra_withholding: r.chance(5).then(|| d(r.range(1, 6) * 500)),
            exempt: false,
        },
        St::Ny => StateW4 {
            filing_status: Some(r.weighted(&[("single", 60), ("married", 40)]).to_owned()),
            allowances: Some(r.range(0, 3) as u32),
            additional_allowances: None,
            extra_withholding: r.chance(5).then(|| d(r.range(1, 6) * 500)),
            exempt: false,
        },
        St::Il => StateW4 {
            filing_status: None,
            allowances: Some(r.range(0, 3) as u32),
            additional_allowances: r.chance(10).then(|| r.range(1, 2) as u32),
            extra_withholding: None,
            exempt: false,
        },
        St::Tx | St::Fl | St::Pa => return m,
    };
    if r.chance(90)
        && let Ok(code) = StateCode::parse(st.code())
    {
        m.insert(code, w);
    }
    m
}

fn workweek_start(r: &mut SplitMix64) -> WeekdayName {
    r.weighted(&[
        (WeekdayName::Monday, 55),
        (WeekdayName::Sunday, 30),
        (WeekdayName::Wednesday, 5),
        (WeekdayName::Thursday, 5),
        (WeekdayName::Saturday, 5),
    ])
}

/// Build request `index` of the run seeded with `seed`.
pub fn request(seed: u64, index: u64) -> PaycheckRequest {
    let r = &mut SplitMix64::for_item(seed, index);
    let st = r.weighted(&[
        (St::Ca, 25),
        (St::Ny, 15),
        (St::Tx, 20),
        (St::Fl, 15),
        (St::Il, 12),
        (St::Pa, 13),
    ]);
    let role = r.weighted(&[
        (Role::Kitchen, 34),
        (Role::Server, 26),
        (Role::Bartender, 10),
        (Role::ShiftLead, 15),
        (Role::Manager, 15),
    ]);
    let tipped = matches!(role, Role::Server | Role::Bartender);
    let freq = if role == Role::Manager {
        r.weighted(&[
            (PayFrequency::Biweekly, 60),
            (PayFrequency::Semimonthly, 30),
            (PayFrequency::Monthly, 10),
        ])
    } else {
        r.weighted(&[(PayFrequency::Biweekly, 65), (PayFrequency::Weekly, 35)])
    };
    let (start, end, pay_date) = period(r, freq);
    let year = pay_date.year();

    let mut employee = EmployeeProfile {
        tipped,
        flsa_exempt: role == Role::Manager,
        ..EmployeeProfile::default()
    };
    let mut time_entries = Vec::new();
    let mut earnings = Vec::new();
    // Rough gross for the period, for YTD amounts and percentages.
    let mut est = Decimal::ZERO;
    let mut has_bonus = false;

    if role == Role::Manager {
        let (lo, hi) = match st {
            St::Ca => (70_000, 115_000),
            St::Ny => (66_000, 110_000),
            _ => (48_000, 98_000),
        };
        let annual = if r.chance(6) {
            r.range(180, 275) * 1000 // general manager / director: crosses the SS wage base
        } else {
            r.range(lo / 500, hi / 500) * 500
        };
        earnings.push(EarningInput {
            kind: EarningType::Salary,
            hours: None,
            rate: None,
            amount: None,
            annual_amount: Some(Decimal::from(annual)),
            previous_rate: None,
            date: None,
            discretionary: false,
            job: Some("manager".to_owned()),
        });
        est += Decimal::from(annual) / freq.periods_per_year();
        if r.chance(25) {
            let b = r.range(25, 600) * 1000;
            earnings.push(EarningInput {
                kind: EarningType::Bonus,
                hours: None,
                rate: None,
                amount: Some(d(b)),
                previous_rate: None,
                annual_amount: None,
                date: None,
                discretionary: r.chance(50),
                job: None,
            });
            est += d(b);
            has_bonus = true;
        }
    } else {
        employee.workweek_start = workweek_start(r);
        let (job, (lo, hi)) = match role {
            Role::Kitchen => (
                r.pick(&["line_cook", "prep_cook", "dishwasher", "host"]),
                st.wage_range(),
            ),
            Role::Server => ("server", st.tipped_range()),
            Role::Bartender => ("bartender", st.tipped_range()),
            _ => ("shift_lead", {
                let (a, b) = st.wage_range();
                (a + 300, b + 400)
            }),
        };
        let rate = d(lo + r.range(0, (hi - lo) / 5) * 5);
        let days = (end - start).num_days() as u64 + 1;
        let work_pct = r.range(55, 85) as u64;
        for k in 0..days {
            if !r.chance(work_pct) {
                continue;
            }
            let day = add_days(start, k);
            let q = shift_quarters(r);
            let hours = Decimal::new(q * 25, 2);
            let (cash_tips, charged_tips) = if tipped {
                let scale = if day.weekday() == Weekday::Fri || day.weekday() == Weekday::Sat {
                    2
                } else {
                    1
                };
                (
                    r.chance(80).then(|| r.money(0, 6_000 * scale)),
                    Some(r.money(1_500 * scale, 16_000 * scale)),
                )
            } else {
                (None, None)
            };
            est += hours * rate + cash_tips.unwrap_or_default() + charged_tips.unwrap_or_default();
            time_entries.push(TimeEntry {
                date: day,
                hours,
                rate,
                job: Some(job.to_owned()),
                cash_tips,
                charged_tips,
            });
            // A double shift on another station now and then.
            if q <= 24 && r.chance(8) {
                let extra = Decimal::new(r.range(12, 20) * 25, 2);
                let other_rate = if tipped {
                    rate
                } else {
                    d(lo + r.range(0, (hi - lo) / 5) * 5)
                };
                est += extra * other_rate;
                time_entries.push(TimeEntry {
                    date: day,
                    hours: extra,
                    rate: other_rate,
                    job: Some(if tipped { "bartender" } else { "prep_cook" }.to_owned()),
                    cash_tips: None,
                    charged_tips: tipped.then(|| r.money(1_000, 9_000)),
                });
            }
        }
        if time_entries.is_empty() {
            time_entries.push(TimeEntry {
                date: start,
                hours: Decimal::new(6, 0),
                rate,
                job: Some(job.to_owned()),
                cash_tips: None,
                charged_tips: None,
            });
            est += Decimal::new(6, 0) * rate;
        }
        // Paid leave and holiday hours.
        if r.chance(12) {
            let kind = r.pick(&[EarningType::Pto, EarningType::Holiday, EarningType::Sick]);
            let h = Decimal::from(r.pick(&[4, 8]));
            let leave_rate = if tipped { st_min_rate(st) } else { rate };
            earnings.push(EarningInput {
                kind,
                hours: Some(h),
                rate: Some(leave_rate),
                amount: None,
                annual_amount: None,
                previous_rate: None,
                date: None,
                discretionary: false,
                job: None,
            });
            est += h * leave_rate;
        }
        // A non-discretionary shift-lead bonus (enters the FLSA regular rate).
        if role == Role::ShiftLead && r.chance(30) {
            let b = r.range(50, 400) * 100;
            earnings.push(EarningInput {
                kind: EarningType::Bonus,
                hours: None,
                rate: None,
                amount: Some(d(b)),
                annual_amount: None,
                previous_rate: None,
                date: Some(end),
                discretionary: false,
                job: None,
            });
            est += d(b);
            has_bonus = true;
        }
    }

    // Deductions.
    let mut deductions = Vec::new();
    let mut k401_per_period = Decimal::ZERO;
    let mut s125_per_period = Decimal::ZERO;
    let k401_chance = if role == Role::Manager { 70 } else { 35 };
    if r.chance(k401_chance) {
        let (amount, percent) = if r.chance(70) {
            (None, Some(Decimal::from(r.range(2, 10))))
        } else {
            (Some(d(r.range(5, 40) * 500)), None)
        };
        k401_per_period = match (amount, percent) {
            (Some(a), _) => a,
            (_, Some(p)) => cents(est * p / Decimal::ONE_HUNDRED),
            _ => Decimal::ZERO,
        };
        let kind = if r.chance(15) {
            DeductionType::Roth401k
        } else {
            DeductionType::K401
        };
        deductions.push(DeductionInput {
            kind,
            amount,
            percent,
            annual_limit: None,
            ytd: None,
            coverage: None,
        });
    }
    let s125_chance = if role == Role::Manager { 60 } else { 30 };
    if r.chance(s125_chance) {
        let a = d(r.range(8, 90) * 250);
        s125_per_period = a;
        deductions.push(DeductionInput {
            kind: DeductionType::Section125,
            amount: Some(a),
            percent: None,
            annual_limit: None,
            ytd: None,
            coverage: None,
        });
    }
    if r.chance(6) {
        let a = d(r.range(10, 60) * 250);
        s125_per_period += a;
        deductions.push(DeductionInput {
            kind: DeductionType::Hsa,
            amount: Some(a),
            percent: None,
            annual_limit: None,
            ytd: None,
            coverage: Some(r.pick(&[HsaCoverage::SelfOnly, HsaCoverage::Family])),
        });
    }
    if matches!(st, St::Ny | St::Il) && role != Role::Manager && r.chance(10) {
        deductions.push(DeductionInput {
            kind: DeductionType::UnionDues,
            amount: Some(d(r.range(15, 45) * 100)),
            percent: None,
            annual_limit: None,
            ytd: None,
            coverage: None,
        });
    }

    // Garnishments.
    let mut garnishments = Vec::new();
    if r.chance(4) {
        let child = r.chance(60);
        garnishments.push(GarnishmentInput {
            kind: if child {
                GarnishmentType::ChildSupport
            } else {
                GarnishmentType::Creditor
            },
            amount: Some(d(r.range(5, 40) * 1000)),
            percent: None,
            limit_percent: child.then(|| Decimal::from(r.pick(&[50, 55, 60, 65]))),
            exempt_amount: None,
            fee: None,
            reference: Some(format!(
                "{}-{:06}",
                if child { "CS" } else { "CV" },
                r.below(1_000_000)
            )),
        });
    }

    // Year to date before this paycheck: the periods already paid this year at about this pay.
    let days_into_year = u64::from(pay_date.ordinal0());
    let per_year = freq.periods_per_year().to_u64().unwrap_or(26).max(1);
    let paid_before = days_into_year * per_year / 366;
    let ytd = if paid_before == 0 {
        Ytd::default()
    } else {
        let n = Decimal::from(paid_before);
        let f = Decimal::new(r.range(85, 110), 2);
        let gross = cents(est * n * f);
        let k401 = cents(k401_per_period * n);
        let s125 = cents(s125_per_period * n).min(gross);
        let fica = gross - s125;
        Ytd {
            gross,
            fit_wages: (fica - k401).max(Decimal::ZERO),
            social_security_wages: fica,
            medicare_wages: fica,
            futa_wages: fica,
            sui_wages: fica,
            sdi_wages: if st == St::Ca { fica } else { Decimal::ZERO },
            supplemental: Decimal::ZERO,
            k401,
        }
    };

    let employer = if r.chance(90) {
        let (base, (lo, hi)) = st.sui(year);
        EmployerSettings {
            sui_rate: Some(Decimal::new(r.range(lo, hi), 4)),
            sui_wage_base: Some(Decimal::from(base)),
            futa_credit_reduction: (st == St::Ca && year == 2025).then(|| Decimal::new(12, 3)),
        }
    } else {
        EmployerSettings::default()
    };

    let mut fw4 = federal_w4(r, has_bonus);
    if let Some(w) = &mut fw4
        && !has_bonus
    {
        w.supplemental_method = SupplementalMethod::Flat;
    }
    PaycheckRequest {
        pay_date,
        pay_frequency: freq,
        work_state: StateCode::parse(st.code()).unwrap_or_else(|_| unreachable_state()),
        resident_state: None,
        period_start: Some(start),
        period_end: Some(end),
        employee,
        time_entries,
        earnings,
        federal_w4: fw4,
        state_w4: state_w4(r, st),
        deductions,
        garnishments,
        ytd,
        employer,
    }
}

/// The highest minimum wage of 2025–2026 in the state: leave hours of tipped staff are paid at
/// least at the full minimum wage.
fn st_min_rate(st: St) -> Decimal {
    d(match st {
        St::Ca => 1690,
        St::Ny => 1600,
        St::Fl | St::Il => 1500,
        St::Tx | St::Pa => 725,
    })
}

#[cold]
fn unreachable_state() -> StateCode {
    // The six codes above are all valid; this keeps the generator free of panics.
    StateCode::parse("TX").unwrap_or_else(|_| unreachable_state())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn same_seed_same_output() {
        for i in [0, 1, 99, 12_345] {
            assert_eq!(request_line(7, i).unwrap(), request_line(7, i).unwrap());
        }
        assert_ne!(request_line(7, 0).unwrap(), request_line(8, 0).unwrap());
    }

    #[test]
    fn generated_requests_parse_back_unchanged() {
        for i in 0..500 {
            let line = request_line(3, i).unwrap();
            let parsed = payroll_domain::parse_request(&line)
                .unwrap_or_else(|e| panic!("request {i}: {e}\n{line}"));
            assert_eq!(parsed, request(3, i), "request {i}");
        }
    }

    #[test]
    fn generated_requests_calculate() {
        for i in 0..400 {
            let req = request(5, i);
            let res = payroll_domain::calculate(&req).unwrap_or_else(|e| {
                panic!(
                    "request {i}: {e}\n{}",
                    request_line(5, i).unwrap_or_default()
                )
            });
            assert!(res.gross_pay > Decimal::ZERO, "request {i}");
            assert!(res.net_pay >= Decimal::ZERO, "request {i}");
        }
    }

    #[test]
    fn the_mix_is_varied() {
        let reqs: Vec<PaycheckRequest> = (0..2000).map(|i| request(11, i)).collect();
        let states: BTreeSet<&str> = reqs.iter().map(|r| r.work_state.as_str()).collect();
        assert_eq!(
            states,
            ["CA", "FL", "IL", "NY", "PA", "TX"].into_iter().collect()
        );
        let years: BTreeSet<i32> = reqs.iter().map(|r| r.pay_date.year()).collect();
        assert_eq!(years, [2025, 2026].into_iter().collect());
        let count = |f: &dyn Fn(&PaycheckRequest) -> bool| reqs.iter().filter(|r| f(r)).count();
        assert!(count(&|r| r.employee.tipped) > 400);
        assert!(count(&|r| r.employee.flsa_exempt) > 150);
        assert!(count(&|r| r.time_entries.iter().any(|e| e.cash_tips.is_some())) > 300);
        assert!(count(&|r| r.pay_frequency == PayFrequency::Weekly) > 300);
        assert!(count(&|r| !r.garnishments.is_empty()) > 20);
        assert!(
            count(&|r| r
                .federal_w4
                .as_ref()
                .is_some_and(|w| w.form == W4Form::Y2019))
                > 200
        );
        assert!(count(&|r| r.deductions.iter().any(|x| x.kind == DeductionType::K401)) > 300);
        assert!(
            count(&|r| r
                .deductions
                .iter()
                .any(|x| x.kind == DeductionType::Section125))
                > 300
        );
        assert!(count(&|r| !r.ytd.gross.is_zero()) > 1500);
        assert!(count(&|r| r.employer.sui_rate.is_some()) > 1500);
        // CA daily overtime: some shifts over 8 hours.
        assert!(count(&|r| r.time_entries.iter().any(|e| e.hours > Decimal::from(8))) > 500);
        for r in &reqs {
            assert!(r.pay_date >= date(2025, 1, 1) && r.pay_date <= date(2026, 12, 31));
        }
    }
}
