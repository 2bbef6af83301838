//! Rule packs: tax and labour-law parameters as data files, one per jurisdiction and year,
//! embedded at build time, selected by pay date.
//!
//! Every scalar parameter carries its source citation (`Param`); tables carry one source for the
//! table. Packs are parsed once on first use and live for the whole process (`&'static`), so
//! traces can borrow their sources without copying.

use crate::error::CalcError;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// A parameter value with the public source it was taken from.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Param {
    pub value: Decimal,
    pub source: String,
}

/// Fields every pack starts with.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PackHeader {
    /// `US` for federal, the two-letter code for a state.
    pub jurisdiction: String,
    pub year: i32,
    /// Bumped whenever a value in the file changes.
    pub version: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    /// Identifier used in traces: `US-2025@2025.1`. Filled in at load.
    #[serde(skip_deserializing, default)]
    pub id: String,
}

impl PackHeader {
    pub fn covers(&self, d: NaiveDate) -> bool {
        self.valid_from <= d && d <= self.valid_to
    }
}

/// One row of an annual percentage-method table: at `over` and above, tax is
/// `base + rate × (wages − over)`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub over: Decimal,
    pub base: Decimal,
    pub rate: Decimal,
}

/// Find the row for `amount` (the last row whose `over` ≤ amount) and apply it.
pub fn apply_table(rows: &[Row], amount: Decimal) -> (Option<&Row>, Decimal) {
    let idx =
        rows.partition_point(|r| crate::money::cmp(r.over, amount) != std::cmp::Ordering::Greater);
    match idx.checked_sub(1).and_then(|i| rows.get(i)) {
        Some(r) => (
            Some(r),
            crate::money::add(
                r.base,
                crate::money::mul(r.rate, crate::money::sub(amount, r.over)),
            ),
        ),
        None => (None, Decimal::ZERO),
    }
}

/// Check a table is usable: starts at 0, strictly ascending, rates in [0, 1], bases not decreasing.
pub fn validate_table(name: &str, rows: &[Row]) -> Result<(), String> {
    let first = rows.first().ok_or_else(|| format!("{name}: empty table"))?;
    if !first.over.is_zero() {
        return Err(format!("{name}: first row must start at 0"));
    }
    for w in rows.windows(2) {
        if w[1].over <= w[0].over || w[1].base < w[0].base {
            return Err(format!("{name}: rows out of order at {}", w[1].over));
        }
    }
    if rows
        .iter()
        .any(|r| r.rate < Decimal::ZERO || r.rate > Decimal::ONE || r.base < Decimal::ZERO)
    {
        return Err(format!("{name}: rate outside [0, 1] or negative base"));
    }
    Ok(())
}

/// Federal tables by filing status (Pub 15-T Worksheet 1A annual tables).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StatusTables {
    pub married_filing_jointly: Vec<Row>,
    /// Also used for married filing separately.
    pub single: Vec<Row>,
    pub head_of_household: Vec<Row>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FitTables {
    pub source: String,
    /// W-4 2019 or earlier, or 2020+ with the Step 2 box unchecked.
    pub standard: StatusTables,
    /// W-4 2020+ with the Step 2 box checked.
    pub checkbox: StatusTables,
}

/// Federal parameters for one calendar year.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FederalParams {
    pub ss_rate: Param,
    pub ss_wage_base: Param,
    pub medicare_rate: Param,
    pub addl_medicare_rate: Param,
    pub addl_medicare_threshold: Param,
    pub futa_rate: Param,
    pub futa_max_credit: Param,
    pub futa_wage_base: Param,
    pub supplemental_rate: Param,
    pub supplemental_mandatory_rate: Param,
    pub supplemental_mandatory_threshold: Param,
    pub w4_line1g_mfj: Param,
    pub w4_line1g_other: Param,
    pub w4_2019_allowance: Param,
    pub flsa_minimum_wage: Param,
    pub flsa_tipped_cash_wage: Param,
    pub flsa_overtime_threshold_hours: Param,
    pub elective_deferral_limit: Param,
    pub hsa_limit_self: Param,
    pub hsa_limit_family: Param,
    pub health_fsa_limit: Param,
    pub dependent_care_limit: Param,
    pub ccpa_creditor_percent: Param,
    pub ccpa_min_wage_multiple: Param,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FederalPack {
    #[serde(flatten)]
    pub header: PackHeader,
    pub params: FederalParams,
    pub fit: FitTables,
}

/// What `GET /rule-packs` lists.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PackInfo {
    pub id: String,
    pub jurisdiction: String,
    pub year: i32,
    pub version: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub file: String,
    pub sources: Vec<String>,
}

macro_rules! pack_files {
    ($($f:literal),* $(,)?) => { &[$(($f, include_str!(concat!("../rules/", $f)))),*] };
}

/// Federal packs embedded in the binary.
pub const FEDERAL_FILES: &[(&str, &str)] = pack_files!(
    "us-federal-2024.toml",
    "us-federal-2025.toml",
    "us-federal-2026.toml",
);

/// State packs embedded in the binary.
pub const STATE_FILES: &[(&str, &str)] = pack_files!(
    "states/ak-2025.toml",
    "states/ak-2026.toml",
    "states/ca-2025.toml",
    "states/ca-2026.toml",
    "states/fl-2025.toml",
    "states/fl-2026.toml",
    "states/il-2025.toml",
    "states/il-2026.toml",
    "states/mn-2025.toml",
    "states/mn-2026.toml",
    "states/mt-2025.toml",
    "states/mt-2026.toml",
    "states/nh-2025.toml",
    "states/nh-2026.toml",
    "states/nv-2025.toml",
    "states/nv-2026.toml",
    "states/ny-2025.toml",
    "states/ny-2026.toml",
    "states/or-2025.toml",
    "states/or-2026.toml",
    "states/pa-2025.toml",
    "states/pa-2026.toml",
    "states/sd-2025.toml",
    "states/sd-2026.toml",
    "states/tn-2025.toml",
    "states/tn-2026.toml",
    "states/tx-2024.toml",
    "states/tx-2025.toml",
    "states/tx-2026.toml",
    "states/wa-2025.toml",
    "states/wa-2026.toml",
    "states/wy-2025.toml",
    "states/wy-2026.toml",
);

pub struct Registry {
    pub federal: Vec<FederalPack>,
    pub states: Vec<crate::state::StatePack>,
    pub files: Vec<PackInfo>,
}

static REGISTRY: OnceLock<Result<Registry, String>> = OnceLock::new();

fn load_all() -> Result<Registry, String> {
    let mut files = Vec::new();
    let mut federal = Vec::new();
    for (name, text) in FEDERAL_FILES {
        let mut p: FederalPack = toml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
        p.header.id = format!(
            "{}-{}@{}",
            p.header.jurisdiction, p.header.year, p.header.version
        );
        if p.header.jurisdiction != "US" {
            return Err(format!("{name}: federal pack must have jurisdiction US"));
        }
        for (t, rows) in [
            (
                "standard.married_filing_jointly",
                &p.fit.standard.married_filing_jointly,
            ),
            ("standard.single", &p.fit.standard.single),
            (
                "standard.head_of_household",
                &p.fit.standard.head_of_household,
            ),
            (
                "checkbox.married_filing_jointly",
                &p.fit.checkbox.married_filing_jointly,
            ),
            ("checkbox.single", &p.fit.checkbox.single),
            (
                "checkbox.head_of_household",
                &p.fit.checkbox.head_of_household,
            ),
        ] {
            validate_table(&format!("{name}: fit.{t}"), rows)?;
        }
        let mut sources: Vec<String> = federal_param_sources(&p.params);
        sources.push(p.fit.source.clone());
        files.push(info(&p.header, name, sources));
        federal.push(p);
    }
    let mut states = Vec::new();
    for (name, text) in STATE_FILES {
        let mut p: crate::state::StatePack =
            toml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
        p.header.id = format!(
            "{}-{}@{}",
            p.header.jurisdiction, p.header.year, p.header.version
        );
        p.validate().map_err(|e| format!("{name}: {e}"))?;
        files.push(info(&p.header, name, p.sources()));
        states.push(p);
    }
    for v in [
        &federal.iter().map(|p| &p.header).collect::<Vec<_>>(),
        &states.iter().map(|p| &p.header).collect(),
    ] {
        check_no_overlap(v)?;
    }
    Ok(Registry {
        federal,
        states,
        files,
    })
}

fn info(h: &PackHeader, file: &str, mut sources: Vec<String>) -> PackInfo {
    sources.sort();
    sources.dedup();
    PackInfo {
        id: h.id.clone(),
        jurisdiction: h.jurisdiction.clone(),
        year: h.year,
        version: h.version.clone(),
        valid_from: h.valid_from,
        valid_to: h.valid_to,
        file: file.to_owned(),
        sources,
    }
}

fn check_no_overlap(headers: &[&PackHeader]) -> Result<(), String> {
    for (i, a) in headers.iter().enumerate() {
        if a.valid_to < a.valid_from {
            return Err(format!("{}: valid_to before valid_from", a.id));
        }
        for b in &headers[i + 1..] {
            if a.jurisdiction == b.jurisdiction
                && a.valid_from <= b.valid_to
                && b.valid_from <= a.valid_to
            {
                return Err(format!("{} and {} overlap", a.id, b.id));
            }
        }
    }
    Ok(())
}

fn federal_param_sources(p: &FederalParams) -> Vec<String> {
    // Serialize to a table and collect every `source`; keeps this list in step with the struct.
    let v = serde_json::to_value(p).unwrap_or_default();
    v.as_object()
        .map(|m| {
            m.values()
                .filter_map(|x| x.get("source").and_then(|s| s.as_str()).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The loaded registry. Packs are validated by tests; a broken embedded pack is an invariant error.
pub fn registry() -> Result<&'static Registry, CalcError> {
    REGISTRY
        .get_or_init(load_all)
        .as_ref()
        .map_err(|e| CalcError::Invariant(format!("rule packs failed to load: {e}")))
}

/// The federal pack in force on `date`.
pub fn federal_for(date: NaiveDate) -> Result<&'static FederalPack, CalcError> {
    registry()?
        .federal
        .iter()
        .find(|p| p.header.covers(date))
        .ok_or_else(|| CalcError::NoRulePack {
            field: "pay_date".into(),
            jurisdiction: "US federal".into(),
            date,
        })
}

/// The state pack for `state` in force on `date`, if any exists for that state at all.
pub fn state_for(state: &str, date: NaiveDate) -> Option<&'static crate::state::StatePack> {
    registry()
        .ok()?
        .states
        .iter()
        .find(|p| p.header.jurisdiction == state && p.header.covers(date))
}

/// Whether any pack (of any year) exists for the state.
pub fn state_known(state: &str) -> bool {
    registry()
        .map(|r| r.states.iter().any(|p| p.header.jurisdiction == state))
        .unwrap_or(false)
}

/// Every embedded pack, for listing.
pub fn catalog() -> Result<&'static [PackInfo], CalcError> {
    Ok(&registry()?.files)
}
