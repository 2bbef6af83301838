//! Build each employee's `PaycheckRequest` for a run from the database, for many employees at
//! once: a fixed number of statements per chunk (employees with location, compensation and tax
//! profile; deductions; garnishments; time entries; YTD; company settings), never one round trip
//! per employee.
//!
//! What goes into a request:
//! - pay date, frequency (the run's schedule), period, work state (the location's; the resident
//!   state when there is no location), resident state;
//! - the employee profile (tipped, FLSA exemption, overtime rules) and the company's workweek start;
//! - regular runs: hourly employees' time entries of the period with their tips, each at the
//!   entry's rate, else the job's rate, else the compensation's hourly rate; salaried employees
//!   their salary (the compensation in effect on the pay date) as a `salary` earning;
//! - off-cycle runs: only the run's own earnings for the employee (bonuses, commissions...);
//! - the federal and state W-4s, deductions and garnishments active on the pay date;
//! - year-to-date from `ytd_accumulators` (the pay date's year), as advanced by paid runs;
//! - the company's SUI rate and wage base and FUTA credit reduction for the work state.

use chrono::{Datelike, NaiveDate};
use payroll_domain::request::{
    DeductionInput, EarningInput, EarningType, EmployeeProfile, EmployerSettings, FederalW4,
    GarnishmentInput, PayFrequency, PaycheckRequest, StateCode, StateW4, TimeEntry, WeekdayName,
    Ytd,
};
use payroll_domain::runs::RunType;
use payroll_store::{StoreError, TenantTx};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// The run-level facts every request of the run shares.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub kind: RunType,
    pub frequency: PayFrequency,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub pay_date: NaiveDate,
    /// Off-cycle earnings by employee.
    pub earnings: HashMap<Uuid, Vec<EarningInput>>,
}

/// Why an employee's request could not be built: names the field, like a `CalcError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    pub field: String,
    pub message: String,
}

impl BuildError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> BuildError {
        BuildError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A time entry as loaded: (date, hours, job, rate, cash tips, charged tips).
type Entry = (
    NaiveDate,
    Decimal,
    Option<String>,
    Option<Decimal>,
    Decimal,
    Decimal,
);

struct EmployeeRow {
    tipped: bool,
    flsa_exempt: bool,
    overtime_rules: Option<String>,
    resident_state: Option<String>,
    job_rates: Value,
    work_state: Option<String>,
    comp_pay_type: Option<String>,
    hourly_rate: Option<Decimal>,
    annual_salary: Option<Decimal>,
    federal_w4: Option<Value>,
    state_w4: Option<Value>,
}

fn parse_str_enum<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, String> {
    serde_json::from_value(Value::String(s.to_owned())).map_err(|e| e.to_string())
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Config(format!("stored {what} is not valid: {e}"))
}

/// Load and build the requests of `employee_ids` (in that order). A missing employee or one whose
/// data cannot form a request gets a `BuildError`.
pub async fn build_requests(
    tx: &TenantTx,
    ctx: &RunContext,
    employee_ids: &[Uuid],
) -> Result<Vec<(Uuid, Result<PaycheckRequest, BuildError>)>, StoreError> {
    let c = tx.client();
    let tenant = tx.tenant();
    let ids: Vec<Uuid> = employee_ids.to_vec();
    let company = payroll_store::repo::company::get(tx).await?;
    let workweek_start: WeekdayName = parse_str_enum(&company.workweek_start)
        .map_err(|e| corrupt("company_settings.workweek_start", e))?;

    let rows = c
        .query(
            "SELECT e.id, e.tipped, e.flsa_exempt, e.overtime_rules, e.resident_state, e.job_rates,
                    l.state, cp.pay_type, cp.hourly_rate, cp.annual_salary, tp.federal_w4, tp.state_w4
               FROM employees e
               LEFT JOIN locations l ON l.tenant_id = e.tenant_id AND l.id = e.location_id
               LEFT JOIN LATERAL (
                    SELECT pay_type, hourly_rate, annual_salary FROM compensations cc
                     WHERE cc.tenant_id = e.tenant_id AND cc.employee_id = e.id
                       AND cc.effective_date <= $3
                     ORDER BY cc.effective_date DESC LIMIT 1) cp ON true
               LEFT JOIN tax_profiles tp ON tp.tenant_id = e.tenant_id AND tp.employee_id = e.id
              WHERE e.tenant_id = $1 AND e.id = ANY($2)",
            &[&tenant, &ids, &ctx.pay_date],
        )
        .await?;
    let mut employees: HashMap<Uuid, EmployeeRow> = HashMap::with_capacity(rows.len());
    for r in &rows {
        employees.insert(
            r.get(0),
            EmployeeRow {
                tipped: r.get(1),
                flsa_exempt: r.get(2),
                overtime_rules: r.get(3),
                resident_state: r.get(4),
                job_rates: r.get(5),
                work_state: r.get(6),
                comp_pay_type: r.get(7),
                hourly_rate: r.get(8),
                annual_salary: r.get(9),
                federal_w4: r.get(10),
                state_w4: r.get(11),
            },
        );
    }

    let mut deductions: HashMap<Uuid, Vec<DeductionInput>> = HashMap::new();
    for r in c
        .query(
            "SELECT employee_id, type, amount, percent, annual_limit, coverage FROM deductions
              WHERE tenant_id = $1 AND employee_id = ANY($2) AND deleted_at IS NULL
                AND (start_date IS NULL OR start_date <= $3) AND (end_date IS NULL OR end_date >= $3)
              ORDER BY employee_id, created_at, id",
            &[&tenant, &ids, &ctx.pay_date],
        )
        .await?
    {
        let kind: String = r.get(1);
        let coverage: Option<String> = r.get(5);
        let d = DeductionInput {
            kind: parse_str_enum(&kind).map_err(|e| corrupt("deduction type", e))?,
            amount: r.get(2),
            percent: r.get(3),
            annual_limit: r.get(4),
            ytd: None,
            coverage: coverage
                .as_deref()
                .map(parse_str_enum)
                .transpose()
                .map_err(|e| corrupt("deduction coverage", e))?,
        };
        deductions.entry(r.get(0)).or_default().push(d);
    }

    let mut garnishments: HashMap<Uuid, Vec<GarnishmentInput>> = HashMap::new();
    for r in c
        .query(
            "SELECT employee_id, type, amount, percent, limit_percent, exempt_amount, fee, reference
               FROM garnishments
              WHERE tenant_id = $1 AND employee_id = ANY($2) AND deleted_at IS NULL
                AND (start_date IS NULL OR start_date <= $3) AND (end_date IS NULL OR end_date >= $3)
              ORDER BY employee_id, created_at, id",
            &[&tenant, &ids, &ctx.pay_date],
        )
        .await?
    {
        let kind: String = r.get(1);
        let g = GarnishmentInput {
            kind: parse_str_enum(&kind).map_err(|e| corrupt("garnishment type", e))?,
            amount: r.get(2),
            percent: r.get(3),
            limit_percent: r.get(4),
            exempt_amount: r.get(5),
            fee: r.get(6),
            reference: r.get(7),
        };
        garnishments.entry(r.get(0)).or_default().push(g);
    }

    // Per employee, in date order.
    let mut entries: HashMap<Uuid, Vec<Entry>> = HashMap::new();
    if ctx.kind == RunType::Regular {
        for r in c
            .query(
                "SELECT employee_id, date, hours, job, rate, cash_tips, charged_tips FROM time_entries
                  WHERE tenant_id = $1 AND employee_id = ANY($2) AND date BETWEEN $3 AND $4
                  ORDER BY employee_id, date, id",
                &[&tenant, &ids, &ctx.period_start, &ctx.period_end],
            )
            .await?
        {
            entries.entry(r.get(0)).or_default().push((
                r.get(1),
                r.get(2),
                r.get(3),
                r.get(4),
                r.get(5),
                r.get(6),
            ));
        }
    }

    let year = ctx.pay_date.year();
    let mut ytds: HashMap<Uuid, Ytd> = HashMap::new();
    for r in c
        .query(
            "SELECT employee_id, gross, fit_wages, social_security_wages, medicare_wages, futa_wages,
                    sui_wages, sdi_wages, supplemental, k401
               FROM ytd_accumulators WHERE tenant_id = $1 AND employee_id = ANY($2) AND year = $3",
            &[&tenant, &ids, &year],
        )
        .await?
    {
        ytds.insert(
            r.get(0),
            Ytd {
                gross: r.get(1),
                fit_wages: r.get(2),
                social_security_wages: r.get(3),
                medicare_wages: r.get(4),
                futa_wages: r.get(5),
                sui_wages: r.get(6),
                sdi_wages: r.get(7),
                supplemental: r.get(8),
                k401: r.get(9),
            },
        );
    }

    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let built = match employees.get(&id) {
            None => Err(BuildError::new(
                "employee_id",
                "no such employee in this tenant",
            )),
            Some(e) => build_one(
                ctx,
                workweek_start,
                &company,
                e,
                entries.remove(&id).unwrap_or_default(),
                deductions.remove(&id).unwrap_or_default(),
                garnishments.remove(&id).unwrap_or_default(),
                ytds.remove(&id).unwrap_or_default(),
                ctx.earnings.get(&id).cloned().unwrap_or_default(),
            ),
        };
        out.push((id, built));
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn build_one(
    ctx: &RunContext,
    workweek_start: WeekdayName,
    company: &payroll_store::repo::company::CompanySettings,
    e: &EmployeeRow,
    entries: Vec<Entry>,
    deductions: Vec<DeductionInput>,
    garnishments: Vec<GarnishmentInput>,
    ytd: Ytd,
    extra_earnings: Vec<EarningInput>,
) -> Result<PaycheckRequest, BuildError> {
    let resident_state = e
        .resident_state
        .as_deref()
        .map(StateCode::parse)
        .transpose()
        .map_err(|m| BuildError::new("resident_state", m))?;
    let work_state = match e.work_state.as_deref() {
        Some(s) => StateCode::parse(s).map_err(|m| BuildError::new("location.state", m))?,
        None => resident_state.ok_or_else(|| {
            BuildError::new(
                "location_id",
                "the employee has no work location (and no resident state)",
            )
        })?,
    };
    let overtime_rules = e
        .overtime_rules
        .as_deref()
        .map(parse_str_enum)
        .transpose()
        .map_err(|m| BuildError::new("overtime_rules", m))?;
    let job_rates: BTreeMap<String, Decimal> = match &e.job_rates {
        Value::Object(m) => m
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.parse::<Decimal>().ok()?)))
            .collect(),
        _ => BTreeMap::new(),
    };
    let federal_w4 = e
        .federal_w4
        .clone()
        .map(serde_json::from_value::<FederalW4>)
        .transpose()
        .map_err(|m| BuildError::new("tax_profile.federal_w4", m.to_string()))?;
    let state_w4 = match &e.state_w4 {
        Some(v) => serde_json::from_value::<BTreeMap<StateCode, StateW4>>(v.clone())
            .map_err(|m| BuildError::new("tax_profile.state_w4", m.to_string()))?,
        None => BTreeMap::new(),
    };

    let mut time_entries = Vec::new();
    let mut earnings = Vec::new();
    match ctx.kind {
        RunType::Regular => {
            let salaried = e.comp_pay_type.as_deref() == Some("salary");
            if salaried {
                let annual = e.annual_salary.ok_or_else(|| {
                    BuildError::new("compensation", "no salary in effect on the pay date")
                })?;
                earnings.push(EarningInput {
                    kind: EarningType::Salary,
                    hours: None,
                    rate: None,
                    amount: None,
                    annual_amount: Some(annual),
                    previous_rate: None,
                    date: None,
                    discretionary: false,
                    job: None,
                });
            } else {
                for (i, (date, hours, job, rate, cash, charged)) in entries.into_iter().enumerate()
                {
                    let rate = rate
                        .or_else(|| job.as_ref().and_then(|j| job_rates.get(j).copied()))
                        .or(e.hourly_rate)
                        .ok_or_else(|| {
                            BuildError::new(
                                format!("time_entries[{i}].rate"),
                                "no rate: the entry has none, its job has no rate and no hourly compensation is in effect",
                            )
                        })?;
                    time_entries.push(TimeEntry {
                        date,
                        hours,
                        rate,
                        job,
                        cash_tips: (!cash.is_zero()).then_some(cash),
                        charged_tips: (!charged.is_zero()).then_some(charged),
                    });
                }
            }
        }
        RunType::OffCycle | RunType::Correction => earnings = extra_earnings,
    }

    let ws = work_state.as_str();
    let sui = company.sui.get(ws);
    Ok(PaycheckRequest {
        pay_date: ctx.pay_date,
        pay_frequency: ctx.frequency,
        work_state,
        resident_state,
        period_start: Some(ctx.period_start),
        period_end: Some(ctx.period_end),
        employee: EmployeeProfile {
            tipped: e.tipped,
            flsa_exempt: e.flsa_exempt,
            overtime_rules,
            workweek_start,
            minimum_wage: None,
        },
        time_entries,
        earnings,
        federal_w4,
        state_w4,
        deductions,
        garnishments,
        ytd,
        employer: EmployerSettings {
            sui_rate: sui.map(|s| s.rate),
            sui_wage_base: sui.map(|s| s.wage_base),
            futa_credit_reduction: company.futa_credit_reduction.get(ws).copied(),
        },
    })
}
