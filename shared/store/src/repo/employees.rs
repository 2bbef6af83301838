//! Employees, their effective-dated compensation and their tax profile, plus the loader of
//! everything a paycheck calculation needs for one employee (`load_for_paycheck`).
//!
//! SSNs arrive here already encrypted (`ssn_enc`) with their last four digits; this module never
//! sees plaintext. Every query filters `tenant_id = $1` on top of row-level security.

use crate::db::TenantTx;
use crate::error::StoreError;
use crate::repo::employee_items::{self, Deduction, Garnishment};
use chrono::{DateTime, NaiveDate, Utc};
use payroll_domain::request::{
    DeductionInput, DeductionType, EmployeeProfile, FederalW4, GarnishmentInput, GarnishmentType,
    HsaCoverage, OvertimeRules, StateCode, StateW4,
};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;
use tokio_postgres::Row;
use uuid::Uuid;

/// The writable columns of an employee.
#[derive(Debug, Clone, PartialEq)]
pub struct EmployeeData {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    /// AES-256-GCM ciphertext of the 9 SSN digits.
    pub ssn_enc: Option<Vec<u8>>,
    pub ssn_last4: Option<String>,
    pub hire_date: NaiveDate,
    pub termination_date: Option<NaiveDate>,
    pub termination_reason: Option<String>,
    /// `active` or `terminated`.
    pub status: String,
    pub location_id: Option<Uuid>,
    pub pay_schedule_id: Option<Uuid>,
    /// `hourly` or `salary` (kept equal to the current compensation's).
    pub pay_type: String,
    pub tipped: bool,
    pub flsa_exempt: bool,
    /// `flsa` or `california`.
    pub overtime_rules: Option<String>,
    pub resident_state: Option<String>,
    pub home_address: Option<Value>,
    /// `{"server": "2.13", "cook": "18.00"}`
    pub job_rates: Value,
}

/// An employee as stored, with the compensation current today.
#[derive(Debug, Clone, PartialEq)]
pub struct EmployeeRecord {
    pub id: Uuid,
    pub data: EmployeeData,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// From the compensation in effect today (or the first one, before it starts).
    pub hourly_rate: Option<Decimal>,
    pub annual_salary: Option<Decimal>,
}

const EMPLOYEE_COLS: &str = "e.id, e.first_name, e.last_name, e.email, e.ssn_enc, e.ssn_last4, e.hire_date,
    e.termination_date, e.termination_reason, e.status, e.location_id, e.pay_schedule_id,
    COALESCE(c.pay_type, e.pay_type), e.tipped, e.flsa_exempt, e.overtime_rules, e.resident_state,
    e.home_address, e.job_rates, e.version, e.created_at, e.updated_at, c.hourly_rate, c.annual_salary";

/// The compensation in effect today, or the earliest one when none has started yet.
const CURRENT_COMP_JOIN: &str = "LEFT JOIN LATERAL (
        SELECT pay_type, hourly_rate, annual_salary FROM compensations cc
         WHERE cc.tenant_id = e.tenant_id AND cc.employee_id = e.id
         ORDER BY (cc.effective_date > CURRENT_DATE),
                  CASE WHEN cc.effective_date <= CURRENT_DATE THEN cc.effective_date END DESC,
                  cc.effective_date
         LIMIT 1) c ON true";

fn employee_from_row(r: &Row) -> EmployeeRecord {
    EmployeeRecord {
        id: r.get(0),
        data: EmployeeData {
            first_name: r.get(1),
            last_name: r.get(2),
            email: r.get(3),
            ssn_enc: r.get(4),
            ssn_last4: r.get(5),
            hire_date: r.get(6),
            termination_date: r.get(7),
            termination_reason: r.get(8),
            status: r.get(9),
            location_id: r.get(10),
            pay_schedule_id: r.get(11),
            pay_type: r.get(12),
            tipped: r.get(13),
            flsa_exempt: r.get(14),
            overtime_rules: r.get(15),
            resident_state: r.get(16),
            home_address: r.get(17),
            job_rates: r.get(18),
        },
        version: r.get(19),
        created_at: r.get(20),
        updated_at: r.get(21),
        hourly_rate: r.get(22),
        annual_salary: r.get(23),
    }
}

/// Refuse a location or pay schedule that does not exist for this tenant (or is inactive).
async fn check_reference(
    tx: &TenantTx,
    table: &str,
    field: &str,
    id: Option<Uuid>,
) -> Result<(), StoreError> {
    let Some(id) = id else { return Ok(()) };
    let sql = format!("SELECT active FROM {table} WHERE tenant_id = $1 AND id = $2");
    match tx.client().query_opt(&sql, &[&tx.tenant(), &id]).await? {
        None => Err(StoreError::invalid(
            field,
            "no such resource in this tenant",
        )),
        Some(r) if !r.get::<_, bool>(0) => Err(StoreError::invalid(field, "is inactive")),
        Some(_) => Ok(()),
    }
}

/// Check the references of `data` (location and pay schedule) for the current tenant.
pub async fn check_references(tx: &TenantTx, data: &EmployeeData) -> Result<(), StoreError> {
    check_reference(tx, "locations", "location_id", data.location_id).await?;
    check_reference(tx, "pay_schedules", "pay_schedule_id", data.pay_schedule_id).await
}

/// Insert an employee (references already checked).
pub async fn insert(tx: &TenantTx, id: Uuid, d: &EmployeeData) -> Result<(), StoreError> {
    tx.client()
        .execute(
            "INSERT INTO employees (tenant_id, id, first_name, last_name, email, ssn_enc, ssn_last4,
                hire_date, termination_date, termination_reason, status, location_id, pay_schedule_id,
                pay_type, tipped, flsa_exempt, overtime_rules, resident_state, home_address, job_rates)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
            &[
                &tx.tenant(),
                &id,
                &d.first_name,
                &d.last_name,
                &d.email,
                &d.ssn_enc,
                &d.ssn_last4,
                &d.hire_date,
                &d.termination_date,
                &d.termination_reason,
                &d.status,
                &d.location_id,
                &d.pay_schedule_id,
                &d.pay_type,
                &d.tipped,
                &d.flsa_exempt,
                &d.overtime_rules,
                &d.resident_state,
                &d.home_address,
                &d.job_rates,
            ],
        )
        .await?;
    Ok(())
}

/// One employee, or `None` (also for another tenant's).
pub async fn get(tx: &TenantTx, id: Uuid) -> Result<Option<EmployeeRecord>, StoreError> {
    let sql = format!(
        "SELECT {EMPLOYEE_COLS} FROM employees e {CURRENT_COMP_JOIN} WHERE e.tenant_id = $1 AND e.id = $2"
    );
    let row = tx.client().query_opt(&sql, &[&tx.tenant(), &id]).await?;
    Ok(row.as_ref().map(employee_from_row))
}

/// Like `get`, locking the row until the transaction ends (read-modify-write).
pub async fn lock(tx: &TenantTx, id: Uuid) -> Result<Option<EmployeeRecord>, StoreError> {
    let sql = format!(
        "SELECT {EMPLOYEE_COLS} FROM employees e {CURRENT_COMP_JOIN}
          WHERE e.tenant_id = $1 AND e.id = $2 FOR UPDATE OF e"
    );
    let row = tx.client().query_opt(&sql, &[&tx.tenant(), &id]).await?;
    Ok(row.as_ref().map(employee_from_row))
}

/// Does the employee exist (in this tenant)?
pub async fn exists(tx: &TenantTx, id: Uuid) -> Result<bool, StoreError> {
    Ok(tx
        .client()
        .query_opt(
            "SELECT 1 FROM employees WHERE tenant_id = $1 AND id = $2",
            &[&tx.tenant(), &id],
        )
        .await?
        .is_some())
}

/// Write every column of `d` if the stored version is still `expected_version`; returns the new
/// version. A concurrent change answers `StoreError::Stale`.
pub async fn update(
    tx: &TenantTx,
    id: Uuid,
    d: &EmployeeData,
    expected_version: i64,
) -> Result<i64, StoreError> {
    let row = tx
        .client()
        .query_opt(
            "UPDATE employees SET first_name = $4, last_name = $5, email = $6, ssn_enc = $7,
                ssn_last4 = $8, hire_date = $9, termination_date = $10, termination_reason = $11,
                status = $12, location_id = $13, pay_schedule_id = $14, pay_type = $15, tipped = $16,
                flsa_exempt = $17, overtime_rules = $18, resident_state = $19, home_address = $20,
                job_rates = $21, version = version + 1, updated_at = now()
              WHERE tenant_id = $1 AND id = $2 AND version = $3
              RETURNING version",
            &[
                &tx.tenant(),
                &id,
                &expected_version,
                &d.first_name,
                &d.last_name,
                &d.email,
                &d.ssn_enc,
                &d.ssn_last4,
                &d.hire_date,
                &d.termination_date,
                &d.termination_reason,
                &d.status,
                &d.location_id,
                &d.pay_schedule_id,
                &d.pay_type,
                &d.tipped,
                &d.flsa_exempt,
                &d.overtime_rules,
                &d.resident_state,
                &d.home_address,
                &d.job_rates,
            ],
        )
        .await?;
    match row {
        Some(r) => Ok(r.get(0)),
        None => Err(StoreError::Stale {
            current: format!("\"v{}\"", expected_version + 1),
        }),
    }
}

/// Filters and cursor for `list`. The cursor is the last row's (last_name, first_name, id).
#[derive(Debug, Clone, Default)]
pub struct EmployeeFilter {
    pub status: Option<String>,
    pub location_id: Option<Uuid>,
    pub pay_schedule_id: Option<Uuid>,
    /// Case-insensitive substring of the first, last or full name.
    pub q: Option<String>,
    pub after: Option<(String, String, Uuid)>,
    pub limit: i64,
}

fn like_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for ch in q.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// Employees ordered by (last_name, first_name, id), at most `limit` rows after the cursor.
pub async fn list(tx: &TenantTx, f: &EmployeeFilter) -> Result<Vec<EmployeeRecord>, StoreError> {
    let pattern = f.q.as_deref().map(like_pattern);
    let (a_last, a_first, a_id) = match &f.after {
        Some((l, fi, id)) => (Some(l.as_str()), Some(fi.as_str()), Some(*id)),
        None => (None, None, None),
    };
    let sql = format!(
        "SELECT {EMPLOYEE_COLS} FROM employees e {CURRENT_COMP_JOIN}
          WHERE e.tenant_id = $1
            AND ($2::text IS NULL OR e.status = $2)
            AND ($3::uuid IS NULL OR e.location_id = $3)
            AND ($4::uuid IS NULL OR e.pay_schedule_id = $4)
            AND ($5::text IS NULL OR e.first_name ILIKE $5 OR e.last_name ILIKE $5
                 OR (e.first_name || ' ' || e.last_name) ILIKE $5)
            AND ($6::text IS NULL OR (e.last_name, e.first_name, e.id) > ($6, $7::text, $8::uuid))
          ORDER BY e.last_name, e.first_name, e.id
          LIMIT $9"
    );
    let rows = tx
        .client()
        .query(
            &sql,
            &[
                &tx.tenant(),
                &f.status,
                &f.location_id,
                &f.pay_schedule_id,
                &pattern,
                &a_last,
                &a_first,
                &a_id,
                &f.limit,
            ],
        )
        .await?;
    Ok(rows.iter().map(employee_from_row).collect())
}

// ---------------------------------------------------------------------------------------------
// Compensation

#[derive(Debug, Clone, PartialEq)]
pub struct Compensation {
    pub id: Uuid,
    pub employee_id: Uuid,
    pub effective_date: NaiveDate,
    pub pay_type: String,
    pub hourly_rate: Option<Decimal>,
    pub annual_salary: Option<Decimal>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewCompensation {
    pub effective_date: NaiveDate,
    pub pay_type: String,
    pub hourly_rate: Option<Decimal>,
    pub annual_salary: Option<Decimal>,
}

const COMP_COLS: &str =
    "id, employee_id, effective_date, pay_type, hourly_rate, annual_salary, created_at, updated_at";

fn comp_from_row(r: &Row) -> Compensation {
    Compensation {
        id: r.get(0),
        employee_id: r.get(1),
        effective_date: r.get(2),
        pay_type: r.get(3),
        hourly_rate: r.get(4),
        annual_salary: r.get(5),
        created_at: r.get(6),
        updated_at: r.get(7),
    }
}

/// Add a compensation row; one per employee and effective date (else `Conflict`). Call
/// `sync_current_pay` afterwards when the employee already existed.
pub async fn insert_compensation(
    tx: &TenantTx,
    employee_id: Uuid,
    c: &NewCompensation,
) -> Result<Compensation, StoreError> {
    let dup = tx
        .client()
        .query_opt(
            "SELECT 1 FROM compensations WHERE tenant_id = $1 AND employee_id = $2 AND effective_date = $3",
            &[&tx.tenant(), &employee_id, &c.effective_date],
        )
        .await?;
    if dup.is_some() {
        return Err(StoreError::Conflict(format!(
            "a compensation effective {} already exists for this employee",
            c.effective_date
        )));
    }
    let sql = format!(
        "INSERT INTO compensations (tenant_id, id, employee_id, effective_date, pay_type, hourly_rate, annual_salary)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COMP_COLS}"
    );
    let row = tx
        .client()
        .query_one(
            &sql,
            &[
                &tx.tenant(),
                &Uuid::new_v4(),
                &employee_id,
                &c.effective_date,
                &c.pay_type,
                &c.hourly_rate,
                &c.annual_salary,
            ],
        )
        .await?;
    Ok(comp_from_row(&row))
}

/// Keep the employee's `pay_type` equal to the current compensation's and bump the employee's
/// version (its representation shows the current pay).
pub async fn sync_current_pay(tx: &TenantTx, employee_id: Uuid) -> Result<(), StoreError> {
    tx.client()
        .execute(
            "UPDATE employees e SET
                pay_type = COALESCE((
                    SELECT cc.pay_type FROM compensations cc
                     WHERE cc.tenant_id = $1 AND cc.employee_id = $2
                     ORDER BY (cc.effective_date > CURRENT_DATE),
                              CASE WHEN cc.effective_date <= CURRENT_DATE THEN cc.effective_date END DESC,
                              cc.effective_date
                     LIMIT 1), e.pay_type),
                version = e.version + 1, updated_at = now()
              WHERE e.tenant_id = $1 AND e.id = $2",
            &[&tx.tenant(), &employee_id],
        )
        .await?;
    Ok(())
}

/// Every compensation of the employee, by effective date.
pub async fn list_compensations(
    tx: &TenantTx,
    employee_id: Uuid,
) -> Result<Vec<Compensation>, StoreError> {
    let sql = format!(
        "SELECT {COMP_COLS} FROM compensations WHERE tenant_id = $1 AND employee_id = $2 ORDER BY effective_date"
    );
    let rows = tx
        .client()
        .query(&sql, &[&tx.tenant(), &employee_id])
        .await?;
    Ok(rows.iter().map(comp_from_row).collect())
}

/// The compensation in effect on `date` (latest effective date on or before it).
pub async fn compensation_as_of(
    tx: &TenantTx,
    employee_id: Uuid,
    date: NaiveDate,
) -> Result<Option<Compensation>, StoreError> {
    let sql = format!(
        "SELECT {COMP_COLS} FROM compensations
          WHERE tenant_id = $1 AND employee_id = $2 AND effective_date <= $3
          ORDER BY effective_date DESC LIMIT 1"
    );
    let row = tx
        .client()
        .query_opt(&sql, &[&tx.tenant(), &employee_id, &date])
        .await?;
    Ok(row.as_ref().map(comp_from_row))
}

// ---------------------------------------------------------------------------------------------
// Tax profile

#[derive(Debug, Clone, PartialEq)]
pub struct TaxProfile {
    pub id: Uuid,
    pub employee_id: Uuid,
    /// The calculation contract's `federal_w4` (validated before storing).
    pub federal_w4: Option<Value>,
    /// `{"CA": {...}}` keyed by state code.
    pub state_w4: Value,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const TAX_COLS: &str = "id, employee_id, federal_w4, state_w4, version, created_at, updated_at";

fn tax_from_row(r: &Row) -> TaxProfile {
    TaxProfile {
        id: r.get(0),
        employee_id: r.get(1),
        federal_w4: r.get(2),
        state_w4: r.get(3),
        version: r.get(4),
        created_at: r.get(5),
        updated_at: r.get(6),
    }
}

/// The employee's tax profile; `lock` holds it until the transaction ends.
pub async fn get_tax_profile(
    tx: &TenantTx,
    employee_id: Uuid,
    lock: bool,
) -> Result<Option<TaxProfile>, StoreError> {
    let sql = format!(
        "SELECT {TAX_COLS} FROM tax_profiles WHERE tenant_id = $1 AND employee_id = $2{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let row = tx
        .client()
        .query_opt(&sql, &[&tx.tenant(), &employee_id])
        .await?;
    Ok(row.as_ref().map(tax_from_row))
}

/// Create or replace the tax profile (bumping its version).
pub async fn put_tax_profile(
    tx: &TenantTx,
    employee_id: Uuid,
    federal_w4: Option<&Value>,
    state_w4: &Value,
) -> Result<TaxProfile, StoreError> {
    let sql = format!(
        "INSERT INTO tax_profiles (tenant_id, id, employee_id, federal_w4, state_w4)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (employee_id) DO UPDATE
            SET federal_w4 = EXCLUDED.federal_w4, state_w4 = EXCLUDED.state_w4,
                version = tax_profiles.version + 1, updated_at = now()
         RETURNING {TAX_COLS}"
    );
    let row = tx
        .client()
        .query_one(
            &sql,
            &[
                &tx.tenant(),
                &Uuid::new_v4(),
                &employee_id,
                &federal_w4,
                &state_w4,
            ],
        )
        .await?;
    Ok(tax_from_row(&row))
}

// ---------------------------------------------------------------------------------------------
// Everything a paycheck needs

/// One employee's inputs to `payroll_domain::calculate`, as of a pay date. The caller adds the
/// pay date, frequency, time entries, earnings, YTD and employer settings.
#[derive(Debug, Clone)]
pub struct PaycheckInputs {
    pub employee: EmployeeRecord,
    /// The work location's state and locality (if the employee has a location).
    pub work_state: Option<StateCode>,
    pub locality: Option<String>,
    /// The pay schedule's frequency (`weekly`, `biweekly`, ...), if assigned.
    pub pay_frequency: Option<String>,
    pub resident_state: Option<StateCode>,
    /// The request's `employee` block (tipped, FLSA exemption, overtime rules).
    pub profile: EmployeeProfile,
    /// The compensation in effect on the date (`None` before the first one starts).
    pub compensation: Option<Compensation>,
    /// Rates by job name (`server` → 2.13).
    pub job_rates: BTreeMap<String, Decimal>,
    pub federal_w4: Option<FederalW4>,
    pub state_w4: BTreeMap<StateCode, StateW4>,
    /// Active on the date, in creation order.
    pub deductions: Vec<DeductionInput>,
    pub garnishments: Vec<GarnishmentInput>,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Config(format!("stored {what} is not valid: {e}"))
}

fn parse_enum<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T, StoreError> {
    serde_json::from_value(Value::String(s.to_owned())).map_err(|e| corrupt(what, e))
}

/// Convert a stored deduction to the calculation's input.
pub fn deduction_input(d: &Deduction) -> Result<DeductionInput, StoreError> {
    Ok(DeductionInput {
        kind: parse_enum::<DeductionType>("deduction type", &d.kind)?,
        amount: d.amount,
        percent: d.percent,
        annual_limit: d.annual_limit,
        ytd: None,
        coverage: d
            .coverage
            .as_deref()
            .map(|c| parse_enum::<HsaCoverage>("hsa coverage", c))
            .transpose()?,
    })
}

/// Convert a stored garnishment to the calculation's input.
pub fn garnishment_input(g: &Garnishment) -> Result<GarnishmentInput, StoreError> {
    Ok(GarnishmentInput {
        kind: parse_enum::<GarnishmentType>("garnishment type", &g.kind)?,
        amount: g.amount,
        percent: g.percent,
        limit_percent: g.limit_percent,
        exempt_amount: g.exempt_amount,
        fee: g.fee,
        reference: g.reference.clone(),
    })
}

/// Load everything the paycheck calculation needs for one employee as of `date`: profile,
/// compensation in effect, tax profile, and the deductions and garnishments active that day.
/// `None` when the employee does not exist in this tenant.
pub async fn load_for_paycheck(
    tx: &TenantTx,
    employee_id: Uuid,
    date: NaiveDate,
) -> Result<Option<PaycheckInputs>, StoreError> {
    let Some(employee) = get(tx, employee_id).await? else {
        return Ok(None);
    };
    let d = &employee.data;
    let (work_state, locality) = match d.location_id {
        Some(loc) => {
            let row = tx
                .client()
                .query_opt(
                    "SELECT state, locality FROM locations WHERE tenant_id = $1 AND id = $2",
                    &[&tx.tenant(), &loc],
                )
                .await?;
            match row {
                Some(r) => {
                    let s: String = r.get(0);
                    (
                        Some(StateCode::parse(&s).map_err(|e| corrupt("location state", e))?),
                        r.get(1),
                    )
                }
                None => (None, None),
            }
        }
        None => (None, None),
    };
    let pay_frequency = match d.pay_schedule_id {
        Some(ps) => tx
            .client()
            .query_opt(
                "SELECT frequency FROM pay_schedules WHERE tenant_id = $1 AND id = $2",
                &[&tx.tenant(), &ps],
            )
            .await?
            .map(|r| r.get::<_, String>(0)),
        None => None,
    };
    let resident_state = d
        .resident_state
        .as_deref()
        .map(|s| StateCode::parse(s).map_err(|e| corrupt("resident_state", e)))
        .transpose()?;
    let profile = EmployeeProfile {
        tipped: d.tipped,
        flsa_exempt: d.flsa_exempt,
        overtime_rules: d
            .overtime_rules
            .as_deref()
            .map(|s| parse_enum::<OvertimeRules>("overtime_rules", s))
            .transpose()?,
        ..EmployeeProfile::default()
    };
    let job_rates = match &d.job_rates {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| {
                let s = v.as_str().ok_or_else(|| corrupt("job rate", k))?;
                let r = s.parse::<Decimal>().map_err(|e| corrupt("job rate", e))?;
                Ok((k.clone(), r))
            })
            .collect::<Result<BTreeMap<_, _>, StoreError>>()?,
        _ => BTreeMap::new(),
    };
    let compensation = compensation_as_of(tx, employee_id, date).await?;
    let tax = get_tax_profile(tx, employee_id, false).await?;
    let (federal_w4, state_w4) = match tax {
        Some(t) => (
            t.federal_w4
                .map(serde_json::from_value::<FederalW4>)
                .transpose()
                .map_err(|e| corrupt("federal_w4", e))?,
            serde_json::from_value::<BTreeMap<StateCode, StateW4>>(t.state_w4)
                .map_err(|e| corrupt("state_w4", e))?,
        ),
        None => (None, BTreeMap::new()),
    };
    let deductions = employee_items::list_deductions(tx, employee_id, Some(date))
        .await?
        .iter()
        .map(deduction_input)
        .collect::<Result<Vec<_>, _>>()?;
    let garnishments = employee_items::list_garnishments(tx, employee_id, Some(date))
        .await?
        .iter()
        .map(garnishment_input)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(PaycheckInputs {
        employee,
        work_state,
        locality,
        pay_frequency,
        resident_state,
        profile,
        compensation,
        job_rates,
        federal_w4,
        state_w4,
        deductions,
        garnishments,
    }))
}
