//! Every F* (federal income tax) and P* (FICA) vector of the reference
//! `us-payroll-tax.md` §5, plus FUTA and the Additional Medicare cases, to the cent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use payroll_domain::federal::{FicaInput, FitInput, income_tax, payroll_taxes};
use payroll_domain::request::{EmployerSettings, FederalW4, PayFrequency, StateCode, Ytd};
use payroll_domain::rules::federal_for;
use rust_decimal::Decimal;
use rust_decimal::dec;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// (id, year, frequency, wage, W-4 JSON or "" for none, expected)
const F: &[(&str, i32, &str, &str, &str, &str)] = &[
    (
        "F01",
        2025,
        "biweekly",
        "1500",
        r#"{"form":"2020","filing_status":"single"}"#,
        "101.60",
    ),
    (
        "F03",
        2025,
        "semimonthly",
        "2500",
        r#"{"form":"2020","filing_status":"single"}"#,
        "215.06",
    ),
    (
        "F05",
        2025,
        "biweekly",
        "3000",
        r#"{"form":"2020","filing_status":"married_filing_jointly"}"#,
        "203.19",
    ),
    (
        "F07",
        2025,
        "monthly",
        "8000",
        r#"{"form":"2020","filing_status":"married_filing_jointly","dependents_amount":"4000"}"#,
        "286.92",
    ),
    (
        "F09",
        2025,
        "semimonthly",
        "3000",
        r#"{"form":"2020","filing_status":"head_of_household"}"#,
        "233.33",
    ),
    (
        "F10",
        2025,
        "biweekly",
        "1500",
        r#"{"form":"2020","filing_status":"single","multiple_jobs":true}"#,
        "168.73",
    ),
    (
        "F13",
        2025,
        "biweekly",
        "2000",
        r#"{"form":"2020","filing_status":"single","other_income":"5200"}"#,
        "185.60",
    ),
    (
        "F14",
        2025,
        "biweekly",
        "2000",
        r#"{"form":"2020","filing_status":"single","deductions":"10400"}"#,
        "113.60",
    ),
    (
        "F15",
        2025,
        "biweekly",
        "2000",
        r#"{"form":"2020","filing_status":"single","extra_withholding":"25"}"#,
        "186.60",
    ),
    (
        "F17",
        2025,
        "weekly",
        "300",
        r#"{"form":"2020","filing_status":"single"}"#,
        "1.15",
    ),
    (
        "F18",
        2025,
        "biweekly",
        "500",
        r#"{"form":"2020","filing_status":"single","dependents_amount":"2000","extra_withholding":"20"}"#,
        "20.00",
    ),
    (
        "F19",
        2025,
        "biweekly",
        "10000",
        r#"{"form":"2020","filing_status":"single"}"#,
        "2133.19",
    ),
    (
        "F22",
        2025,
        "biweekly",
        "1500",
        r#"{"form":"2019","filing_status":"single","allowances":0}"#,
        "141.29",
    ),
    (
        "F24",
        2025,
        "monthly",
        "1000",
        r#"{"form":"2019","filing_status":"single","allowances":1}"#,
        "10.83",
    ),
    (
        "F26",
        2025,
        "monthly",
        "2000",
        r#"{"form":"2020","filing_status":"single"}"#,
        "75.00",
    ),
    (
        "F28",
        2025,
        "monthly",
        "5000",
        r#"{"form":"2020","filing_status":"single"}"#,
        "430.13",
    ),
    (
        "F32",
        2026,
        "biweekly",
        "1500",
        r#"{"form":"2020","filing_status":"single"}"#,
        "96.15",
    ),
    (
        "F33",
        2026,
        "biweekly",
        "3000",
        r#"{"form":"2020","filing_status":"married_filing_jointly"}"#,
        "192.31",
    ),
    (
        "F35",
        2026,
        "biweekly",
        "1500",
        r#"{"form":"2020","filing_status":"single","multiple_jobs":true}"#,
        "160.19",
    ),
    (
        "F36",
        2026,
        "weekly",
        "1000",
        r#"{"form":"2020","filing_status":"single","deductions":"25000"}"#,
        "20.96",
    ),
    (
        "F37",
        2026,
        "weekly",
        "1500",
        r#"{"form":"2020","filing_status":"married_filing_jointly","deductions":"12500"}"#,
        "67.31",
    ),
    (
        "F40",
        2026,
        "weekly",
        "1000",
        r#"{"form":"2020","filing_status":"single"}"#,
        "78.08",
    ),
    // No W-4 on file: Single, no adjustments (Pub 15 section 9).
    ("F01-noW4", 2025, "biweekly", "1500", "", "101.60"),
];

fn freq(s: &str) -> PayFrequency {
    serde_json::from_str(&format!("\"{s}\"")).unwrap()
}

#[test]
fn pub15t_percentage_method_vectors() {
    let mut failures = Vec::new();
    for (id, year, fr, wage, w4, expected) in F {
        let pack = federal_for(NaiveDate::from_ymd_opt(*year, 3, 15).unwrap()).unwrap();
        let w4: Option<FederalW4> = (!w4.is_empty()).then(|| serde_json::from_str(w4).unwrap());
        let (line, trace) = income_tax(
            pack,
            &FitInput {
                w4: w4.as_ref(),
                frequency: freq(fr),
                regular_wages: d(wage),
                supplemental_wages: Decimal::ZERO,
                ytd_supplemental: Decimal::ZERO,
            },
        )
        .unwrap();
        assert_eq!(line.code, "US_FIT");
        assert!(trace.rounding().is_some(), "{id}: trace records rounding");
        if line.amount != d(expected) || line.amount.to_string() != *expected {
            failures.push(format!("{id}: got {} want {expected}", line.amount));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn f28_is_an_exact_half_cent_rounded_away_from_zero() {
    let pack = federal_for(NaiveDate::from_ymd_opt(2025, 1, 31).unwrap()).unwrap();
    let (line, trace) = income_tax(
        pack,
        &FitInput {
            w4: None,
            frequency: PayFrequency::Monthly,
            regular_wages: dec!(5000),
            supplemental_wages: Decimal::ZERO,
            ytd_supplemental: Decimal::ZERO,
        },
    )
    .unwrap();
    let r = trace.rounding().unwrap();
    assert_eq!(r.exact, dec!(430.125));
    assert_eq!(line.amount, dec!(430.13));
}

struct P {
    id: &'static str,
    year: i32,
    wages: &'static str,
    ytd: &'static str,
    ss: &'static str,
    medicare: &'static str,
    addl: &'static str,
}

const PV: &[P] = &[
    P {
        id: "P01",
        year: 2025,
        wages: "2500",
        ytd: "10000",
        ss: "155.00",
        medicare: "36.25",
        addl: "0.00",
    },
    P {
        id: "P03",
        year: 2025,
        wages: "7000",
        ytd: "176100",
        ss: "0.00",
        medicare: "101.50",
        addl: "0.00",
    },
    P {
        id: "P06/W19",
        year: 2024,
        wages: "5000",
        ytd: "165000",
        ss: "223.20",
        medicare: "72.50",
        addl: "0.00",
    },
    P {
        id: "P07",
        year: 2026,
        wages: "10000",
        ytd: "180000",
        ss: "279.00",
        medicare: "145.00",
        addl: "0.00",
    },
    P {
        id: "P08/W11",
        year: 2025,
        wages: "563.90",
        ytd: "0",
        ss: "34.96",
        medicare: "8.18",
        addl: "0.00",
    },
    P {
        id: "P10",
        year: 2025,
        wages: "176100",
        ytd: "0",
        ss: "10918.20",
        medicare: "2553.45",
        addl: "0.00",
    },
    P {
        id: "W20",
        year: 2025,
        wages: "10000",
        ytd: "195000",
        ss: "0.00",
        medicare: "145.00",
        addl: "45.00",
    },
];

fn fica(
    year: i32,
    wages: Decimal,
    ytd: Ytd,
    employer: EmployerSettings,
) -> Vec<(String, Decimal, Decimal)> {
    let pack = federal_for(NaiveDate::from_ymd_opt(year, 7, 1).unwrap()).unwrap();
    let (ee, er) = payroll_taxes(
        pack,
        &FicaInput {
            wages,
            futa_wages: wages,
            ytd: &ytd,
            employer: &employer,
            work_state: StateCode::parse("TX").unwrap(),
        },
    )
    .unwrap();
    ee.into_iter()
        .chain(er)
        .map(|(l, _)| (l.code.to_string(), l.taxable_wages, l.amount))
        .collect()
}

fn amount(lines: &[(String, Decimal, Decimal)], code: &str) -> Decimal {
    lines.iter().find(|l| l.0 == code).map(|l| l.2).unwrap()
}

#[test]
fn fica_vectors() {
    for p in PV {
        // W20's YTD is Medicare wages above the SS base, so SS YTD is past the base too.
        let ytd = Ytd {
            social_security_wages: d(p.ytd),
            medicare_wages: d(p.ytd),
            ..Ytd::default()
        };
        let lines = fica(p.year, d(p.wages), ytd, EmployerSettings::default());
        assert_eq!(amount(&lines, "US_SS"), d(p.ss), "{} SS", p.id);
        assert_eq!(amount(&lines, "US_SS_ER"), d(p.ss), "{} SS employer", p.id);
        assert_eq!(
            amount(&lines, "US_MEDICARE"),
            d(p.medicare),
            "{} Medicare",
            p.id
        );
        assert_eq!(
            amount(&lines, "US_MEDICARE_ER"),
            d(p.medicare),
            "{} Medicare employer",
            p.id
        );
        assert_eq!(
            amount(&lines, "US_ADDL_MEDICARE"),
            d(p.addl),
            "{} Additional Medicare",
            p.id
        );
    }
}

#[test]
fn p06_taxable_is_the_remaining_base() {
    let ytd = Ytd {
        social_security_wages: dec!(165000),
        ..Ytd::default()
    };
    let lines = fica(2024, dec!(5000), ytd, EmployerSettings::default());
    let ss = lines.iter().find(|l| l.0 == "US_SS").unwrap();
    assert_eq!(ss.1, dec!(3600.00));
}

#[test]
fn additional_medicare_only_on_the_excess_and_no_employer_share() {
    let ytd = Ytd {
        medicare_wages: dec!(195000),
        social_security_wages: dec!(195000),
        ..Ytd::default()
    };
    let lines = fica(2025, dec!(10000), ytd, EmployerSettings::default());
    let addl = lines.iter().find(|l| l.0 == "US_ADDL_MEDICARE").unwrap();
    assert_eq!((addl.1, addl.2), (dec!(5000.00), dec!(45.00)));
    assert!(!lines.iter().any(|l| l.0 == "US_ADDL_MEDICARE_ER"));
}

#[test]
fn futa_w21_and_single_payment() {
    let ytd = Ytd {
        futa_wages: dec!(6500),
        ..Ytd::default()
    };
    let lines = fica(2025, dec!(1000), ytd, EmployerSettings::default());
    let futa = lines.iter().find(|l| l.0 == "US_FUTA").unwrap();
    assert_eq!((futa.1, futa.2), (dec!(500.00), dec!(3.00)));
    let lines = fica(
        2025,
        dec!(7500),
        Ytd::default(),
        EmployerSettings::default(),
    );
    assert_eq!(amount(&lines, "US_FUTA"), dec!(42.00));
    // A credit-reduction state (0.9%): 7,000 × (0.6% + 0.9%) = 105.00
    let er = EmployerSettings {
        futa_credit_reduction: Some(dec!(0.009)),
        ..Default::default()
    };
    let lines = fica(2025, dec!(7500), Ytd::default(), er);
    assert_eq!(amount(&lines, "US_FUTA"), dec!(105.00));
}

#[test]
fn sui_uses_employer_rate_and_base() {
    let er = EmployerSettings {
        sui_rate: Some(dec!(0.027)),
        sui_wage_base: Some(dec!(9000)),
        futa_credit_reduction: None,
    };
    let ytd = Ytd {
        sui_wages: dec!(8000),
        ..Ytd::default()
    };
    let lines = fica(2025, dec!(2500), ytd, er);
    let sui = lines.iter().find(|l| l.0 == "TX_SUI").unwrap();
    assert_eq!((sui.1, sui.2), (dec!(1000.00), dec!(27.00)));
}

#[test]
fn w22_six_biweekly_paychecks_accumulate() {
    let mut ytd = Ytd::default();
    let mut fica_total = Decimal::ZERO;
    for _ in 0..6 {
        let lines = fica(2025, dec!(2500), ytd.clone(), EmployerSettings::default());
        assert_eq!(amount(&lines, "US_SS"), dec!(155.00));
        assert_eq!(amount(&lines, "US_MEDICARE"), dec!(36.25));
        fica_total += amount(&lines, "US_SS") + amount(&lines, "US_MEDICARE");
        ytd.gross += dec!(2500);
        ytd.social_security_wages += dec!(2500);
        ytd.medicare_wages += dec!(2500);
    }
    assert_eq!(ytd.gross, dec!(15000));
    assert_eq!(fica_total, dec!(1147.50));
}
