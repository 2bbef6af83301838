//! The embedded rule packs: all load and validate, every file on disk is embedded, each value has
//! a source, each jurisdiction is covered without gaps, and the pay date picks the pack.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use payroll_domain::rules::{self, FEDERAL_FILES, STATE_FILES};
use rust_decimal::dec;
use std::collections::BTreeSet;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn all_packs_load_and_validate() {
    let reg = rules::registry().expect("embedded packs load");
    assert_eq!(reg.federal.len(), FEDERAL_FILES.len());
    assert_eq!(reg.states.len(), STATE_FILES.len());
}

#[test]
fn every_file_under_rules_is_embedded() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut on_disk = BTreeSet::new();
    for entry in walk(&root) {
        let rel = entry
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel.ends_with(".toml") {
            on_disk.insert(rel);
        }
    }
    let embedded: BTreeSet<String> = FEDERAL_FILES
        .iter()
        .chain(STATE_FILES)
        .map(|(n, _)| (*n).to_owned())
        .collect();
    assert_eq!(on_disk, embedded, "rules/ and the embedded list differ");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn every_value_names_a_source_and_no_placeholders_remain() {
    for info in rules::catalog().unwrap() {
        assert!(!info.sources.is_empty(), "{} has no sources", info.id);
        for s in &info.sources {
            assert!(s.trim().len() >= 10, "{}: source too short: {s:?}", info.id);
            assert!(
                !s.to_lowercase().contains("placeholder"),
                "{}: placeholder source",
                info.id
            );
        }
    }
    for (name, text) in FEDERAL_FILES.iter().chain(STATE_FILES) {
        assert!(
            !text.to_lowercase().contains("placeholder"),
            "{name} is a placeholder"
        );
    }
}

#[test]
fn packs_cover_each_year_without_gaps() {
    let reg = rules::registry().unwrap();
    let mut jurisdictions: BTreeSet<&str> = reg
        .states
        .iter()
        .map(|p| p.header.jurisdiction.as_str())
        .collect();
    jurisdictions.insert("US");
    for j in jurisdictions {
        let mut d = date(2025, 1, 1);
        while d <= date(2026, 12, 31) {
            let found = if j == "US" {
                rules::federal_for(d).is_ok()
            } else {
                rules::state_for(j, d).is_some()
            };
            assert!(found, "{j} has no pack for {d}");
            d = d.succ_opt().unwrap();
        }
    }
    assert!(
        rules::federal_for(date(2024, 6, 1)).is_ok(),
        "2024 federal for FICA vectors"
    );
}

#[test]
fn pay_date_selects_the_pack() {
    let p25 = rules::federal_for(date(2025, 12, 31)).unwrap();
    let p26 = rules::federal_for(date(2026, 1, 1)).unwrap();
    assert_eq!(p25.params.ss_wage_base.value, dec!(176100));
    assert_eq!(p26.params.ss_wage_base.value, dec!(184500));
    assert_eq!(p25.header.id, "US-2025@2025.1");
    let err = rules::federal_for(date(2019, 6, 1)).unwrap_err();
    assert_eq!(err.code(), "no_rule_pack");
    assert_eq!(err.field(), "pay_date");
}

#[test]
fn federal_tables_follow_the_pub15t_construction() {
    // Standard table: zero bracket = standard deduction − line 1g; checkbox: half the deduction.
    let reg = rules::registry().unwrap();
    let sd = [
        (2024, dec!(14600), dec!(29200), dec!(21900)),
        (2025, dec!(15000), dec!(30000), dec!(22500)),
        (2026, dec!(16100), dec!(32200), dec!(24150)),
    ];
    for p in &reg.federal {
        let (_, s, m, h) = sd.iter().find(|x| x.0 == p.header.year).unwrap();
        let g_other = p.params.w4_line1g_other.value;
        let g_mfj = p.params.w4_line1g_mfj.value;
        assert_eq!(
            p.fit.standard.single[1].over,
            s - g_other,
            "{}",
            p.header.id
        );
        assert_eq!(
            p.fit.standard.married_filing_jointly[1].over,
            m - g_mfj,
            "{}",
            p.header.id
        );
        assert_eq!(
            p.fit.standard.head_of_household[1].over,
            h - g_other,
            "{}",
            p.header.id
        );
        assert_eq!(
            p.fit.checkbox.single[1].over,
            s / dec!(2),
            "{}",
            p.header.id
        );
        // Each checkbox row's base is half the standard base, to the cent, half away from zero.
        for (c, st) in p.fit.checkbox.single.iter().zip(&p.fit.standard.single) {
            assert_eq!(c.base, payroll_domain::money::cents(st.base / dec!(2)));
            assert_eq!(c.rate, st.rate);
        }
        // Top rate 37%, eight rows.
        for t in [&p.fit.standard.single, &p.fit.checkbox.head_of_household] {
            assert_eq!(t.len(), 8);
            assert_eq!(t[7].rate, dec!(0.37));
        }
    }
}
