//! `/employees` and their sub-resources: compensations, tax profile, deductions, garnishments,
//! bank accounts.
//!
//! SSNs and account numbers are encrypted with the data key before they reach the store, are
//! never logged, and are returned masked (`***-**-1234`, `****6789`); only
//! `GET /employees/{id}?reveal=ssn` by a payroll admin returns the SSN, and that read is audited.
//! Every write is audited in its transaction with masked before/after, and invalidates the cached
//! employee (`employee:{tenant}:{id}`).

use crate::auth::{Auth, Permission};
use crate::error::{ApiError, ApiResult};
use crate::etag::{of_version, with_etag};
use crate::extract::{ApiJson, ApiQuery, IfMatch, parse_id};
use crate::pagination::{Page, decode_cursor, encode_cursor, limit};
use crate::state::SharedState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use chrono::{DateTime, NaiveDate, Utc};
use payroll_domain::CalcError;
use payroll_domain::money::{de_dec, de_dec_opt, de_money_opt};
use payroll_domain::request::{
    DeductionInput, FederalW4, GarnishmentInput, OvertimeRules, PayFrequency, PaycheckRequest,
    StateCode, StateW4,
};
use payroll_domain::validate as idv;
use payroll_store::TenantTx;
use payroll_store::audit::{self, AuditRecord};
use payroll_store::crypto::{mask_account, mask_ssn};
use payroll_store::repo::employee_items::{
    self as items, BankAccount, Deduction, Garnishment, NewBankAccount, NewDeduction,
    NewGarnishment,
};
use payroll_store::repo::employees::{
    self as repo, Compensation, EmployeeData, EmployeeFilter, EmployeeRecord, NewCompensation,
    TaxProfile,
};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Representations

/// An employee. `ssn` is masked (`***-**-6789`) unless revealed by a payroll admin.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EmployeeView {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub ssn: Option<String>,
    pub hire_date: NaiveDate,
    pub termination_date: Option<NaiveDate>,
    pub termination_reason: Option<String>,
    /// `active` or `terminated`
    pub status: String,
    pub location_id: Option<Uuid>,
    pub pay_schedule_id: Option<Uuid>,
    /// `hourly` or `salary` (from the compensation in effect today)
    pub pay_type: String,
    #[schema(value_type = Option<String>)]
    pub hourly_rate: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub annual_salary: Option<Decimal>,
    pub tipped: bool,
    pub flsa_exempt: bool,
    /// `flsa` or `california`; unset means the work state's default
    pub overtime_rules: Option<String>,
    pub resident_state: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub home_address: Option<Value>,
    /// Rates by job, e.g. `{"server": "2.13", "cook": "18.00"}`
    #[schema(value_type = Object)]
    pub job_rates: Value,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn employee_view(r: &EmployeeRecord) -> EmployeeView {
    let d = &r.data;
    EmployeeView {
        id: r.id,
        first_name: d.first_name.clone(),
        last_name: d.last_name.clone(),
        email: d.email.clone(),
        ssn: d.ssn_last4.as_deref().map(mask_ssn),
        hire_date: d.hire_date,
        termination_date: d.termination_date,
        termination_reason: d.termination_reason.clone(),
        status: d.status.clone(),
        location_id: d.location_id,
        pay_schedule_id: d.pay_schedule_id,
        pay_type: d.pay_type.clone(),
        hourly_rate: r.hourly_rate,
        annual_salary: r.annual_salary,
        tipped: d.tipped,
        flsa_exempt: d.flsa_exempt,
        overtime_rules: d.overtime_rules.clone(),
        resident_state: d.resident_state.clone(),
        home_address: d.home_address.clone(),
        job_rates: d.job_rates.clone(),
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmployeeList {
    pub items: Vec<EmployeeView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CompensationView {
    pub id: Uuid,
    pub employee_id: Uuid,
    pub effective_date: NaiveDate,
    pub pay_type: String,
    #[schema(value_type = Option<String>)]
    pub hourly_rate: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub annual_salary: Option<Decimal>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn compensation_view(c: Compensation) -> CompensationView {
    CompensationView {
        id: c.id,
        employee_id: c.employee_id,
        effective_date: c.effective_date,
        pay_type: c.pay_type,
        hourly_rate: c.hourly_rate,
        annual_salary: c.annual_salary,
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CompensationList {
    pub items: Vec<CompensationView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaxProfileView {
    pub id: Uuid,
    pub employee_id: Uuid,
    /// The calculation contract's `federal_w4`
    #[schema(value_type = Option<Object>)]
    pub federal_w4: Option<Value>,
    /// State certificates keyed by state code: `{"CA": {"filing_status": "single", "allowances": 1}}`
    #[schema(value_type = Object)]
    pub state_w4: Value,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn tax_view(t: TaxProfile) -> TaxProfileView {
    TaxProfileView {
        id: t.id,
        employee_id: t.employee_id,
        federal_w4: t.federal_w4,
        state_w4: t.state_w4,
        version: t.version,
        created_at: t.created_at,
        updated_at: t.updated_at,
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeductionView {
    pub id: Uuid,
    pub employee_id: Uuid,
    /// `401k`, `403b`, `457b`, `section_125`, `fsa`, `dependent_care`, `hsa`, `roth_401k`,
    /// `union_dues`, `loan` or `other`
    #[serde(rename = "type")]
    pub kind: String,
    #[schema(value_type = Option<String>)]
    pub amount: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub percent: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub annual_limit: Option<Decimal>,
    pub coverage: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn deduction_view(d: Deduction) -> DeductionView {
    DeductionView {
        id: d.id,
        employee_id: d.employee_id,
        kind: d.kind,
        amount: d.amount,
        percent: d.percent,
        annual_limit: d.annual_limit,
        coverage: d.coverage,
        start_date: d.start_date,
        end_date: d.end_date,
        created_at: d.created_at,
        updated_at: d.updated_at,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeductionList {
    pub items: Vec<DeductionView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GarnishmentView {
    pub id: Uuid,
    pub employee_id: Uuid,
    /// `child_support`, `tax_levy`, `student_loan` or `creditor`
    #[serde(rename = "type")]
    pub kind: String,
    #[schema(value_type = Option<String>)]
    pub amount: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub percent: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub limit_percent: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub exempt_amount: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub fee: Option<Decimal>,
    pub reference: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn garnishment_view(g: Garnishment) -> GarnishmentView {
    GarnishmentView {
        id: g.id,
        employee_id: g.employee_id,
        kind: g.kind,
        amount: g.amount,
        percent: g.percent,
        limit_percent: g.limit_percent,
        exempt_amount: g.exempt_amount,
        fee: g.fee,
        reference: g.reference,
        start_date: g.start_date,
        end_date: g.end_date,
        created_at: g.created_at,
        updated_at: g.updated_at,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GarnishmentList {
    pub items: Vec<GarnishmentView>,
    pub next_cursor: Option<String>,
}

/// A direct-deposit account; `account_number` is always masked (`****6789`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BankAccountView {
    pub id: Uuid,
    pub employee_id: Uuid,
    pub routing_number: String,
    pub account_number: String,
    /// `checking` or `savings`
    pub account_type: String,
    /// `percent`, `amount` or `remainder`
    pub split: String,
    #[schema(value_type = Option<String>)]
    pub percent: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub amount: Option<Decimal>,
    pub priority: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn bank_view(b: BankAccount) -> BankAccountView {
    BankAccountView {
        id: b.id,
        employee_id: b.employee_id,
        routing_number: b.routing_number,
        account_number: mask_account(&b.account_last4),
        account_type: b.account_type,
        split: b.split,
        percent: b.percent,
        amount: b.amount,
        priority: b.priority,
        created_at: b.created_at,
        updated_at: b.updated_at,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BankAccountList {
    pub items: Vec<BankAccountView>,
    pub next_cursor: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Request bodies

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayType {
    Hourly,
    Salary,
}

impl PayType {
    fn as_str(self) -> &'static str {
        match self {
            PayType::Hourly => "hourly",
            PayType::Salary => "salary",
        }
    }
}

/// A rate given as a decimal string (`"18.00"`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
struct Rate(#[serde(deserialize_with = "de_dec")] Decimal);

/// `POST /employees`. Money and rates are strings. The first compensation row (effective on the
/// hire date) is created from `pay_type` and `hourly_rate` or `annual_salary`; `federal_w4` and
/// `state_w4`, if given, create the tax profile.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmployeeCreate {
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub email: Option<String>,
    /// `123-45-6789` or `123456789`; stored encrypted, returned masked
    #[serde(default)]
    pub ssn: Option<String>,
    pub hire_date: NaiveDate,
    #[serde(default)]
    pub location_id: Option<Uuid>,
    #[serde(default)]
    pub pay_schedule_id: Option<Uuid>,
    pub pay_type: PayType,
    #[serde(default, deserialize_with = "de_dec_opt")]
    #[schema(value_type = Option<String>)]
    pub hourly_rate: Option<Decimal>,
    #[serde(default, deserialize_with = "de_money_opt")]
    #[schema(value_type = Option<String>)]
    pub annual_salary: Option<Decimal>,
    #[serde(default)]
    pub tipped: bool,
    #[serde(default)]
    pub flsa_exempt: bool,
    /// `flsa` or `california`
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub overtime_rules: Option<OvertimeRules>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub resident_state: Option<StateCode>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub home_address: Option<Value>,
    #[serde(default)]
    #[schema(value_type = Object)]
    job_rates: BTreeMap<String, Rate>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub federal_w4: Option<FederalW4>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub state_w4: BTreeMap<StateCode, StateW4>,
}

/// The fields `PATCH /employees/{id}` may change (a JSON merge of the stored values and the
/// patch is re-validated as a whole). `ssn` may be given too (`null` clears it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmployeePatch {
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub email: Option<String>,
    pub hire_date: NaiveDate,
    #[serde(default)]
    pub location_id: Option<Uuid>,
    #[serde(default)]
    pub pay_schedule_id: Option<Uuid>,
    #[serde(default)]
    pub tipped: bool,
    #[serde(default)]
    pub flsa_exempt: bool,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub overtime_rules: Option<OvertimeRules>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub resident_state: Option<StateCode>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub home_address: Option<Value>,
    #[serde(default)]
    #[schema(value_type = Object)]
    job_rates: BTreeMap<String, Rate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TerminateBody {
    pub termination_date: NaiveDate,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompensationCreate {
    pub effective_date: NaiveDate,
    pub pay_type: PayType,
    #[serde(default, deserialize_with = "de_dec_opt")]
    #[schema(value_type = Option<String>)]
    pub hourly_rate: Option<Decimal>,
    #[serde(default, deserialize_with = "de_money_opt")]
    #[schema(value_type = Option<String>)]
    pub annual_salary: Option<Decimal>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxProfilePut {
    /// The calculation contract's `federal_w4` (null: no W-4 on file)
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub federal_w4: Option<FederalW4>,
    /// Keyed by state code
    #[serde(default)]
    #[schema(value_type = Object)]
    pub state_w4: BTreeMap<StateCode, StateW4>,
}

/// A deduction: the calculation contract's deduction (`type`, `amount` or `percent`,
/// `annual_limit`, `coverage`) plus optional `start_date` / `end_date`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeductionCreate {
    #[serde(rename = "type")]
    pub kind: String,
    #[schema(value_type = Option<String>)]
    pub amount: Option<String>,
    #[schema(value_type = Option<String>)]
    pub percent: Option<String>,
    #[schema(value_type = Option<String>)]
    pub annual_limit: Option<String>,
    pub coverage: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

/// A garnishment order: the calculation contract's garnishment (`type`, `amount` or `percent`,
/// `limit_percent`, `exempt_amount`, `fee`, `reference`) plus optional `start_date` / `end_date`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GarnishmentCreate {
    #[serde(rename = "type")]
    pub kind: String,
    pub amount: Option<String>,
    pub percent: Option<String>,
    pub limit_percent: Option<String>,
    pub exempt_amount: Option<String>,
    pub fee: Option<String>,
    pub reference: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    Checking,
    Savings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    Percent,
    Amount,
    Remainder,
}

/// A direct-deposit account. `split`: `percent` (with `percent`), `amount` (with `amount`) or
/// `remainder` (one per employee). `account_number` is stored encrypted and returned masked.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankAccountCreate {
    pub routing_number: String,
    #[serde(default)]
    pub account_number: String,
    pub account_type: AccountType,
    pub split: Split,
    #[serde(default, deserialize_with = "de_dec_opt")]
    #[schema(value_type = Option<String>)]
    pub percent: Option<Decimal>,
    #[serde(default, deserialize_with = "de_money_opt")]
    #[schema(value_type = Option<String>)]
    pub amount: Option<Decimal>,
    /// Payment order, 1 (first) to 100; default 1
    #[serde(default)]
    pub priority: Option<i32>,
}

/// Deduction and garnishment bodies: the contract's shape plus our effective dates.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemDates {
    #[serde(default)]
    start_date: Option<NaiveDate>,
    #[serde(default)]
    end_date: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `active` or `terminated`
    pub status: Option<String>,
    pub location_id: Option<Uuid>,
    pub pay_schedule_id: Option<Uuid>,
    /// Name search (case-insensitive substring of first, last or full name)
    pub q: Option<String>,
    /// Page size (default 50, max 500)
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct GetQuery {
    /// `ssn`: return the SSN unmasked (payroll_admin only; audited)
    pub reveal: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn calc_to_api(e: CalcError) -> ApiError {
    match e {
        CalcError::Invalid { field, message } => ApiError::validation(field, message),
        other => ApiError::from(other),
    }
}

/// Deserialize a body value; errors are 422 naming the field path.
fn parse<T: DeserializeOwned>(v: Value) -> ApiResult<T> {
    idv::from_json_value(v).map_err(calc_to_api)
}

fn object(v: Value) -> ApiResult<Map<String, Value>> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::validation("body", "must be a JSON object")),
    }
}

/// Take a sensitive string field out of the body without ever echoing its value in an error.
fn take_secret(m: &mut Map<String, Value>, field: &str) -> ApiResult<Option<String>> {
    match m.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::validation(field, "must be a string")),
    }
}

fn cache_key(tenant: Uuid, id: Uuid) -> String {
    format!("employee:{tenant}:{id}")
}

async fn invalidate(state: &SharedState, auth: &Auth, id: Uuid) {
    state.cache.invalidate(&cache_key(auth.tenant_id, id)).await;
}

fn to_json<T: Serialize>(v: &T) -> Option<Value> {
    serde_json::to_value(v).ok()
}

async fn record(
    tx: &TenantTx,
    auth: &Auth,
    action: &str,
    entity: &str,
    id: Uuid,
    before: Option<Value>,
    after: Option<Value>,
) -> ApiResult<()> {
    audit::record(
        tx,
        &AuditRecord {
            actor: auth.actor(),
            action,
            entity,
            entity_id: Some(id.to_string()),
            request_id: None,
            before,
            after,
        },
    )
    .await?;
    Ok(())
}

fn check_name(field: &str, v: &str) -> ApiResult<String> {
    let t = v.trim();
    if t.is_empty() || t.chars().count() > 100 {
        return Err(ApiError::validation(field, "must be 1 to 100 characters"));
    }
    Ok(t.to_owned())
}

fn check_email(v: Option<&str>) -> ApiResult<Option<String>> {
    let Some(v) = v else { return Ok(None) };
    let t = v.trim();
    let ok = t.len() <= 254
        && !t.chars().any(char::is_whitespace)
        && t.split_once('@').is_some_and(|(a, b)| {
            !a.is_empty() && b.contains('.') && !b.starts_with('.') && !b.ends_with('.')
        });
    if !ok {
        return Err(ApiError::validation("email", "is not an email address"));
    }
    Ok(Some(t.to_owned()))
}

fn check_job_rates(rates: &BTreeMap<String, Rate>) -> ApiResult<Value> {
    let mut m = Map::new();
    for (job, Rate(r)) in rates {
        let name = job.trim();
        if name.is_empty() || name.chars().count() > 50 || name != job {
            return Err(ApiError::validation(
                format!("job_rates.{job}"),
                "job names are 1 to 50 characters without surrounding spaces",
            ));
        }
        if *r <= Decimal::ZERO {
            return Err(ApiError::validation(
                format!("job_rates.{job}"),
                "must be positive",
            ));
        }
        m.insert(job.clone(), Value::String(r.to_string()));
    }
    Ok(Value::Object(m))
}

fn check_address(v: Option<Value>) -> ApiResult<Option<Value>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(Value::Object(m))),
        Some(_) => Err(ApiError::validation("home_address", "must be an object")),
    }
}

/// Check pay type and rates; returns the compensation to store.
fn check_pay(
    effective_date: NaiveDate,
    pay_type: PayType,
    hourly_rate: Option<Decimal>,
    annual_salary: Option<Decimal>,
) -> ApiResult<NewCompensation> {
    match pay_type {
        PayType::Hourly => {
            if annual_salary.is_some() {
                return Err(ApiError::validation(
                    "annual_salary",
                    "not allowed for pay_type hourly (give hourly_rate)",
                ));
            }
            match hourly_rate {
                None => {
                    return Err(ApiError::validation(
                        "hourly_rate",
                        "required for pay_type hourly",
                    ));
                }
                Some(r) if r <= Decimal::ZERO => {
                    return Err(ApiError::validation("hourly_rate", "must be positive"));
                }
                Some(r) if r > Decimal::from(10_000) => {
                    return Err(ApiError::validation("hourly_rate", "must be at most 10000"));
                }
                _ => {}
            }
        }
        PayType::Salary => {
            if hourly_rate.is_some() {
                return Err(ApiError::validation(
                    "hourly_rate",
                    "not allowed for pay_type salary (give annual_salary)",
                ));
            }
            match annual_salary {
                None => {
                    return Err(ApiError::validation(
                        "annual_salary",
                        "required for pay_type salary",
                    ));
                }
                Some(s) if s <= Decimal::ZERO => {
                    return Err(ApiError::validation("annual_salary", "must be positive"));
                }
                Some(s) if s > Decimal::from(100_000_000) => {
                    return Err(ApiError::validation(
                        "annual_salary",
                        "must be at most 100000000",
                    ));
                }
                _ => {}
            }
        }
    }
    Ok(NewCompensation {
        effective_date,
        pay_type: pay_type.as_str().to_owned(),
        hourly_rate,
        annual_salary,
    })
}

fn check_tax(
    federal: Option<&FederalW4>,
    states: &BTreeMap<StateCode, StateW4>,
) -> ApiResult<(Option<Value>, Value)> {
    if let Some(w4) = federal {
        payroll_domain::federal::validate_w4(w4).map_err(calc_to_api)?;
    }
    for (st, w4) in states {
        idv::state_w4(*st, w4).map_err(calc_to_api)?;
    }
    let fed = match federal {
        Some(w4) => Some(serde_json::to_value(w4).map_err(|e| ApiError::internal(e.to_string()))?),
        None => None,
    };
    let st = serde_json::to_value(states).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok((fed, st))
}

/// Validate an SSN and encrypt it; returns (ciphertext, last4).
fn seal_ssn(state: &SharedState, ssn: &str) -> ApiResult<(Vec<u8>, String)> {
    let digits = idv::normalize_ssn(ssn).map_err(|e| ApiError::validation("ssn", e.to_string()))?;
    let enc = state.data_key.encrypt_str(&digits)?;
    let last4 = digits.get(5..).unwrap_or_default().to_owned();
    Ok((enc, last4))
}

/// Lock the employee (404 if absent in this tenant).
async fn lock_employee(tx: &TenantTx, id: Uuid) -> ApiResult<EmployeeRecord> {
    repo::lock(tx, id).await?.ok_or_else(ApiError::not_found)
}

async fn require_employee(tx: &TenantTx, id: Uuid) -> ApiResult<()> {
    if repo::exists(tx, id).await? {
        Ok(())
    } else {
        Err(ApiError::not_found())
    }
}

fn check_dates(start: Option<NaiveDate>, end: Option<NaiveDate>) -> ApiResult<()> {
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        return Err(ApiError::validation(
            "end_date",
            "must not be before start_date",
        ));
    }
    Ok(())
}

/// Split a deduction/garnishment body into the contract's part and our dates.
fn split_dates(mut m: Map<String, Value>) -> ApiResult<(Value, ItemDates)> {
    let mut dates = Map::new();
    for k in ["start_date", "end_date"] {
        if let Some(v) = m.remove(k) {
            dates.insert(k.to_owned(), v);
        }
    }
    let d: ItemDates = parse(Value::Object(dates))?;
    check_dates(d.start_date, d.end_date)?;
    Ok((Value::Object(m), d))
}

/// Map a field of a one-item calculation request (`deductions[0].amount`) to the body's (`amount`).
fn item_field(e: CalcError, prefix: &str, whole: &str) -> ApiError {
    match e {
        CalcError::Invalid { field, message } => {
            let f = field
                .strip_prefix(&format!("{prefix}."))
                .map(str::to_owned)
                .unwrap_or_else(|| whole.to_owned());
            ApiError::validation(f, message)
        }
        other => ApiError::from(other),
    }
}

/// A request carrying one deduction, for the domain's validation rules.
fn probe_request(deductions: Vec<DeductionInput>) -> ApiResult<PaycheckRequest> {
    Ok(PaycheckRequest {
        pay_date: NaiveDate::default(),
        pay_frequency: PayFrequency::Weekly,
        work_state: StateCode::parse("TX").map_err(ApiError::internal)?,
        resident_state: None,
        period_start: None,
        period_end: None,
        employee: Default::default(),
        time_entries: Vec::new(),
        earnings: Vec::new(),
        federal_w4: None,
        state_w4: BTreeMap::new(),
        deductions,
        garnishments: Vec::new(),
        ytd: Default::default(),
        employer: Default::default(),
    })
}

fn list_of<T: Serialize>(items: Vec<T>) -> Page<T> {
    Page {
        items,
        next_cursor: None,
    }
}

// ---------------------------------------------------------------------------------------------
// Employees

/// List employees (cursor pagination, ordered by last name, first name, id).
#[utoipa::path(get, path = "/employees", tag = "employees",
    params(ListQuery),
    responses((status = 200, body = EmployeeList), (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn list_employees(
    State(state): State<SharedState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Response> {
    auth.require(Permission::Read)?;
    let lim = limit(
        q.limit,
        state.settings.default_page_size,
        state.settings.max_page_size,
    )?;
    if let Some(s) = q.status.as_deref()
        && !matches!(s, "active" | "terminated")
    {
        return Err(ApiError::validation(
            "status",
            "must be active or terminated",
        ));
    }
    let after = match q.cursor.as_deref() {
        None => None,
        Some(c) => {
            let raw = decode_cursor(c)?;
            let mut parts = raw.splitn(3, '\u{1f}');
            let (l, f, i) = (parts.next(), parts.next(), parts.next());
            match (l, f, i.and_then(|i| Uuid::parse_str(i).ok())) {
                (Some(l), Some(f), Some(i)) => Some((l.to_owned(), f.to_owned(), i)),
                _ => {
                    return Err(ApiError::validation(
                        "cursor",
                        "is not a cursor returned by this API",
                    ));
                }
            }
        }
    };
    let q_text = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if q_text.is_some_and(|s| s.chars().count() > 100) {
        return Err(ApiError::validation("q", "must be at most 100 characters"));
    }
    let filter = EmployeeFilter {
        status: q.status.clone(),
        location_id: q.location_id,
        pay_schedule_id: q.pay_schedule_id,
        q: q_text.map(str::to_owned),
        after,
        limit: lim + 1,
    };
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let rows = repo::list(&tx, &filter).await?;
    tx.commit().await?;
    let more = rows.len() as i64 > lim;
    let mut items: Vec<EmployeeView> = rows.iter().map(employee_view).collect();
    if more {
        items.truncate(lim as usize);
    }
    let next_cursor = if more {
        items.last().map(|e| {
            encode_cursor(&format!(
                "{}\u{1f}{}\u{1f}{}",
                e.last_name, e.first_name, e.id
            ))
        })
    } else {
        None
    };
    Ok(axum::Json(EmployeeList { items, next_cursor }).into_response())
}

/// Create an employee and their first compensation (effective on the hire date).
#[utoipa::path(post, path = "/employees", tag = "employees",
    request_body = EmployeeCreate,
    responses((status = 201, body = EmployeeView), (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn create_employee(
    State(state): State<SharedState>,
    auth: Auth,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteOrg)?;
    let mut m = object(body)?;
    let ssn = take_secret(&mut m, "ssn")?;
    let b: EmployeeCreate = parse(Value::Object(m))?;
    let first_name = check_name("first_name", &b.first_name)?;
    let last_name = check_name("last_name", &b.last_name)?;
    let email = check_email(b.email.as_deref())?;
    let job_rates = check_job_rates(&b.job_rates)?;
    let home_address = check_address(b.home_address)?;
    let comp = check_pay(b.hire_date, b.pay_type, b.hourly_rate, b.annual_salary)?;
    let tax = if b.federal_w4.is_some() || !b.state_w4.is_empty() {
        Some(check_tax(b.federal_w4.as_ref(), &b.state_w4)?)
    } else {
        None
    };
    let (ssn_enc, ssn_last4) = match ssn {
        Some(s) => {
            let (e, l) = seal_ssn(&state, &s)?;
            (Some(e), Some(l))
        }
        None => (None, None),
    };
    let data = EmployeeData {
        first_name,
        last_name,
        email,
        ssn_enc,
        ssn_last4,
        hire_date: b.hire_date,
        termination_date: None,
        termination_reason: None,
        status: "active".into(),
        location_id: b.location_id,
        pay_schedule_id: b.pay_schedule_id,
        pay_type: b.pay_type.as_str().into(),
        tipped: b.tipped,
        flsa_exempt: b.flsa_exempt,
        overtime_rules: b
            .overtime_rules
            .and_then(|o| to_json(&o))
            .and_then(|v| v.as_str().map(str::to_owned)),
        resident_state: b.resident_state.map(|s| s.as_str().to_owned()),
        home_address,
        job_rates,
    };
    let id = Uuid::new_v4();
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    repo::check_references(&tx, &data).await?;
    repo::insert(&tx, id, &data).await?;
    let c = repo::insert_compensation(&tx, id, &comp).await?;
    let mut tax_after = None;
    if let Some((fed, st)) = &tax {
        let t = repo::put_tax_profile(&tx, id, fed.as_ref(), st).await?;
        tax_after = to_json(&tax_view(t));
    }
    let rec = repo::get(&tx, id)
        .await?
        .ok_or_else(|| ApiError::internal("employee vanished"))?;
    let view = employee_view(&rec);
    record(&tx, &auth, "create", "employee", id, None, to_json(&view)).await?;
    record(
        &tx,
        &auth,
        "create",
        "compensation",
        c.id,
        None,
        to_json(&compensation_view(c)),
    )
    .await?;
    if let Some(t) = tax_after {
        record(&tx, &auth, "create", "tax_profile", id, None, Some(t)).await?;
    }
    tx.commit().await?;
    invalidate(&state, &auth, id).await;
    Ok(with_etag(StatusCode::CREATED, view.version, &view))
}

/// One employee. `?reveal=ssn` (payroll_admin only) returns the SSN unmasked and is audited.
#[utoipa::path(get, path = "/employees/{id}", tag = "employees",
    params(("id" = Uuid, Path), GetQuery),
    responses((status = 200, body = EmployeeView, headers(("ETag" = String))), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_employee(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<GetQuery>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    auth.require_employee_read(id)?;
    match q.reveal.as_deref() {
        None => {}
        Some("ssn") => {
            auth.require(Permission::ReadSensitive)?;
            let tx = state.db.tenant_tx(auth.tenant_id).await?;
            let rec = repo::get(&tx, id).await?.ok_or_else(ApiError::not_found)?;
            let mut view = employee_view(&rec);
            if let Some(enc) = &rec.data.ssn_enc {
                let digits = state.data_key.decrypt_str(enc)?;
                view.ssn = Some(match (digits.get(..3), digits.get(3..5), digits.get(5..)) {
                    (Some(a), Some(g), Some(s)) => format!("{a}-{g}-{s}"),
                    _ => digits,
                });
            }
            record(
                &tx,
                &auth,
                "read_sensitive",
                "employee",
                id,
                None,
                Some(serde_json::json!({"fields": ["ssn"]})),
            )
            .await?;
            tx.commit().await?;
            return Ok(with_etag(StatusCode::OK, view.version, &view));
        }
        Some(_) => {
            return Err(ApiError::validation(
                "reveal",
                "the only revealable field is ssn",
            ));
        }
    }
    let key = cache_key(auth.tenant_id, id);
    if let Some(view) = state.cache.get::<EmployeeView>(&key).await
        && view.id == id
    {
        return Ok(with_etag(StatusCode::OK, view.version, &view));
    }
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let rec = repo::get(&tx, id).await?;
    tx.commit().await?;
    let view = employee_view(&rec.ok_or_else(ApiError::not_found)?);
    state.cache.put(&key, &view).await;
    Ok(with_etag(StatusCode::OK, view.version, &view))
}

/// Change an employee's profile: the given fields replace the stored ones (`null` clears an
/// optional field). Pay changes go through compensations, terminations through `terminate`,
/// W-4s through the tax profile. Honours `If-Match`.
#[utoipa::path(patch, path = "/employees/{id}", tag = "employees",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    request_body = EmployeePatch,
    responses((status = 200, body = EmployeeView), (status = 401), (status = 403), (status = 404), (status = 412), (status = 422)),
    security(("bearer" = [])))]
pub async fn patch_employee(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteOrg)?;
    let id = parse_id(&id)?;
    let mut patch = object(body)?;
    for (k, why) in [
        ("pay_type", "use POST /employees/{id}/compensations"),
        ("hourly_rate", "use POST /employees/{id}/compensations"),
        ("annual_salary", "use POST /employees/{id}/compensations"),
        ("status", "use POST /employees/{id}/terminate"),
        ("termination_date", "use POST /employees/{id}/terminate"),
        ("termination_reason", "use POST /employees/{id}/terminate"),
        ("federal_w4", "use PUT /employees/{id}/tax-profile"),
        ("state_w4", "use PUT /employees/{id}/tax-profile"),
    ] {
        if patch.contains_key(k) {
            return Err(ApiError::validation(
                k,
                format!("cannot be changed here: {why}"),
            ));
        }
    }
    let ssn_given = patch.contains_key("ssn");
    let ssn = take_secret(&mut patch, "ssn")?;
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let rec = lock_employee(&tx, id).await?;
    if_match.check(&of_version(rec.version))?;
    let before = employee_view(&rec);
    // The stored editable fields, overlaid with the patch, re-validated as a whole.
    let current = match to_json(&before) {
        Some(Value::Object(m)) => m,
        _ => return Err(ApiError::internal("employee view is not an object")),
    };
    let mut merged = Map::new();
    for k in [
        "first_name",
        "last_name",
        "email",
        "hire_date",
        "location_id",
        "pay_schedule_id",
        "tipped",
        "flsa_exempt",
        "overtime_rules",
        "resident_state",
        "home_address",
        "job_rates",
    ] {
        if let Some(v) = current.get(k) {
            merged.insert(k.to_owned(), v.clone());
        }
    }
    for (k, v) in patch {
        merged.insert(k, v);
    }
    let p: EmployeePatch = parse(Value::Object(merged))?;
    let mut data = rec.data.clone();
    data.first_name = check_name("first_name", &p.first_name)?;
    data.last_name = check_name("last_name", &p.last_name)?;
    data.email = check_email(p.email.as_deref())?;
    data.hire_date = p.hire_date;
    if data.termination_date.is_some_and(|t| t < p.hire_date) {
        return Err(ApiError::validation(
            "hire_date",
            "must not be after the termination date",
        ));
    }
    data.location_id = p.location_id;
    data.pay_schedule_id = p.pay_schedule_id;
    data.tipped = p.tipped;
    data.flsa_exempt = p.flsa_exempt;
    data.overtime_rules = p
        .overtime_rules
        .and_then(|o| to_json(&o))
        .and_then(|v| v.as_str().map(str::to_owned));
    data.resident_state = p.resident_state.map(|s| s.as_str().to_owned());
    data.home_address = check_address(p.home_address)?;
    data.job_rates = check_job_rates(&p.job_rates)?;
    if ssn_given {
        match ssn {
            Some(s) => {
                let (e, l) = seal_ssn(&state, &s)?;
                data.ssn_enc = Some(e);
                data.ssn_last4 = Some(l);
            }
            None => {
                data.ssn_enc = None;
                data.ssn_last4 = None;
            }
        }
    }
    // Only a changed reference must point at an existing, active object.
    let mut changed_refs = data.clone();
    if changed_refs.location_id == rec.data.location_id {
        changed_refs.location_id = None;
    }
    if changed_refs.pay_schedule_id == rec.data.pay_schedule_id {
        changed_refs.pay_schedule_id = None;
    }
    repo::check_references(&tx, &changed_refs).await?;
    repo::update(&tx, id, &data, rec.version).await?;
    let after = employee_view(&repo::get(&tx, id).await?.ok_or_else(ApiError::not_found)?);
    record(
        &tx,
        &auth,
        "update",
        "employee",
        id,
        to_json(&before),
        to_json(&after),
    )
    .await?;
    tx.commit().await?;
    invalidate(&state, &auth, id).await;
    Ok(with_etag(StatusCode::OK, after.version, &after))
}

/// Terminate an employee (`termination_date`, optional `reason`). Honours `If-Match`.
#[utoipa::path(post, path = "/employees/{id}/terminate", tag = "employees",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    request_body = TerminateBody,
    responses((status = 200, body = EmployeeView), (status = 401), (status = 403), (status = 404), (status = 409), (status = 412), (status = 422)),
    security(("bearer" = [])))]
pub async fn terminate_employee(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteOrg)?;
    let id = parse_id(&id)?;
    let b: TerminateBody = parse(body)?;
    let reason = match b.reason.as_deref().map(str::trim) {
        Some(r) if r.chars().count() > 500 => {
            return Err(ApiError::validation(
                "reason",
                "must be at most 500 characters",
            ));
        }
        Some("") | None => None,
        Some(r) => Some(r.to_owned()),
    };
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let rec = lock_employee(&tx, id).await?;
    if_match.check(&of_version(rec.version))?;
    if rec.data.status == "terminated" {
        return Err(ApiError::conflict("the employee is already terminated"));
    }
    if b.termination_date < rec.data.hire_date {
        return Err(ApiError::validation(
            "termination_date",
            "must not be before the hire date",
        ));
    }
    let before = employee_view(&rec);
    let mut data = rec.data.clone();
    data.status = "terminated".into();
    data.termination_date = Some(b.termination_date);
    data.termination_reason = reason;
    repo::update(&tx, id, &data, rec.version).await?;
    let after = employee_view(&repo::get(&tx, id).await?.ok_or_else(ApiError::not_found)?);
    record(
        &tx,
        &auth,
        "terminate",
        "employee",
        id,
        to_json(&before),
        to_json(&after),
    )
    .await?;
    tx.commit().await?;
    invalidate(&state, &auth, id).await;
    Ok(with_etag(StatusCode::OK, after.version, &after))
}

// ---------------------------------------------------------------------------------------------
// Compensations

/// The employee's compensation history, by effective date.
#[utoipa::path(get, path = "/employees/{id}/compensations", tag = "employees",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CompensationList), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn list_compensations(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    auth.require_employee_read(id)?;
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    require_employee(&tx, id).await?;
    let rows = repo::list_compensations(&tx, id).await?;
    tx.commit().await?;
    Ok(axum::Json(list_of(rows.into_iter().map(compensation_view).collect())).into_response())
}

/// Add a compensation effective on a date (one per date; not before the hire date).
#[utoipa::path(post, path = "/employees/{id}/compensations", tag = "employees",
    params(("id" = Uuid, Path)),
    request_body = CompensationCreate,
    responses((status = 201, body = CompensationView), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn create_compensation(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteOrg)?;
    let id = parse_id(&id)?;
    let b: CompensationCreate = parse(body)?;
    let comp = check_pay(b.effective_date, b.pay_type, b.hourly_rate, b.annual_salary)?;
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let rec = lock_employee(&tx, id).await?;
    if b.effective_date < rec.data.hire_date {
        return Err(ApiError::validation(
            "effective_date",
            "must not be before the hire date",
        ));
    }
    let c = compensation_view(repo::insert_compensation(&tx, id, &comp).await?);
    repo::sync_current_pay(&tx, id).await?;
    record(
        &tx,
        &auth,
        "create",
        "compensation",
        c.id,
        None,
        to_json(&c),
    )
    .await?;
    tx.commit().await?;
    invalidate(&state, &auth, id).await;
    Ok((StatusCode::CREATED, axum::Json(c)).into_response())
}

// ---------------------------------------------------------------------------------------------
// Tax profile

/// The employee's tax profile (404 if none was ever set).
#[utoipa::path(get, path = "/employees/{id}/tax-profile", tag = "employees",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = TaxProfileView, headers(("ETag" = String))), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_tax_profile(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    auth.require_employee_read(id)?;
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let t = repo::get_tax_profile(&tx, id, false).await?;
    tx.commit().await?;
    let t = tax_view(t.ok_or_else(ApiError::not_found)?);
    Ok(with_etag(StatusCode::OK, t.version, &t))
}

/// Replace the employee's federal and state W-4s (validated like the calculation's request).
/// Honours `If-Match` (the ETag of the current profile; `"v0"` or `*` when there is none yet).
#[utoipa::path(put, path = "/employees/{id}/tax-profile", tag = "employees",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    request_body = TaxProfilePut,
    responses((status = 200, body = TaxProfileView), (status = 401), (status = 403), (status = 404), (status = 412), (status = 422)),
    security(("bearer" = [])))]
pub async fn put_tax_profile(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteOrg)?;
    let id = parse_id(&id)?;
    let b: TaxProfilePut = parse(body)?;
    let (fed, st) = check_tax(b.federal_w4.as_ref(), &b.state_w4)?;
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    lock_employee(&tx, id).await?;
    let current = repo::get_tax_profile(&tx, id, true).await?;
    if_match.check(&of_version(current.as_ref().map_or(0, |t| t.version)))?;
    let before = current.map(tax_view).and_then(|t| to_json(&t));
    let t = tax_view(repo::put_tax_profile(&tx, id, fed.as_ref(), &st).await?);
    let action = if before.is_some() { "update" } else { "create" };
    record(&tx, &auth, action, "tax_profile", id, before, to_json(&t)).await?;
    tx.commit().await?;
    invalidate(&state, &auth, id).await;
    Ok(with_etag(StatusCode::OK, t.version, &t))
}

// ---------------------------------------------------------------------------------------------
// Deductions

/// The employee's live deductions.
#[utoipa::path(get, path = "/employees/{id}/deductions", tag = "employees",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = DeductionList), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn list_deductions(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    auth.require_employee_read(id)?;
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    require_employee(&tx, id).await?;
    let rows = items::list_deductions(&tx, id, None).await?;
    tx.commit().await?;
    Ok(axum::Json(list_of(rows.into_iter().map(deduction_view).collect())).into_response())
}

/// Add a recurring deduction (the calculation's deduction shape).
#[utoipa::path(post, path = "/employees/{id}/deductions", tag = "employees",
    params(("id" = Uuid, Path)),
    request_body = DeductionCreate,
    responses((status = 201, body = DeductionView), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn create_deduction(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteOrg)?;
    let id = parse_id(&id)?;
    let m = object(body)?;
    if m.contains_key("ytd") {
        return Err(ApiError::validation(
            "ytd",
            "is computed from payroll history and cannot be set",
        ));
    }
    let (rest, dates) = split_dates(m)?;
    let d: DeductionInput = parse(rest)?;
    payroll_domain::deductions::validate(&probe_request(vec![d.clone()])?)
        .map_err(|e| item_field(e, "deductions[0]", "amount"))?;
    let new = NewDeduction {
        kind: d.kind.as_str().to_owned(),
        amount: d.amount,
        percent: d.percent,
        annual_limit: d.annual_limit,
        coverage: d
            .coverage
            .and_then(|c| to_json(&c))
            .and_then(|v| v.as_str().map(str::to_owned)),
        start_date: dates.start_date,
        end_date: dates.end_date,
    };
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    lock_employee(&tx, id).await?;
    let v = deduction_view(items::insert_deduction(&tx, id, &new).await?);
    record(&tx, &auth, "create", "deduction", v.id, None, to_json(&v)).await?;
    tx.commit().await?;
    invalidate(&state, &auth, id).await;
    Ok((StatusCode::CREATED, axum::Json(v)).into_response())
}

/// End a deduction (it stays in history for past payroll runs).
#[utoipa::path(delete, path = "/employees/{id}/deductions/{did}", tag = "employees",
    params(("id" = Uuid, Path), ("did" = Uuid, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn delete_deduction(
    State(state): State<SharedState>,
    auth: Auth,
    Path((id, did)): Path<(String, String)>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteOrg)?;
    let (id, did) = (parse_id(&id)?, parse_id(&did)?);
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    lock_employee(&tx, id).await?;
    let before = items::get_deduction(&tx, id, did)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if !items::delete_deduction(&tx, id, did).await? {
        return Err(ApiError::not_found());
    }
    record(
        &tx,
        &auth,
        "delete",
        "deduction",
        did,
        to_json(&deduction_view(before)),
        None,
    )
    .await?;
    tx.commit().await?;
    invalidate(&state, &auth, id).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---------------------------------------------------------------------------------------------
// Garnishments

/// The employee's live garnishment orders.
#[utoipa::path(get, path = "/employees/{id}/garnishments", tag = "employees",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = GarnishmentList), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn list_garnishments(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    auth.require_employee_read(id)?;
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    require_employee(&tx, id).await?;
    let rows = items::list_garnishments(&tx, id, None).await?;
    tx.commit().await?;
    Ok(axum::Json(list_of(rows.into_iter().map(garnishment_view).collect())).into_response())
}

/// Add a garnishment order (the calculation's garnishment shape).
#[utoipa::path(post, path = "/employees/{id}/garnishments", tag = "employees",
    params(("id" = Uuid, Path)),
    request_body = GarnishmentCreate,
    responses((status = 201, body = GarnishmentView), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn create_garnishment(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteOrg)?;
    let id = parse_id(&id)?;
    let (rest, dates) = split_dates(object(body)?)?;
    let g: GarnishmentInput = parse(rest)?;
    payroll_domain::garnish::validate(std::slice::from_ref(&g))
        .map_err(|e| item_field(e, "garnishments[0]", "amount"))?;
    if g.reference
        .as_deref()
        .is_some_and(|r| r.chars().count() > 200)
    {
        return Err(ApiError::validation(
            "reference",
            "must be at most 200 characters",
        ));
    }
    let new = NewGarnishment {
        kind: g.kind.as_str().to_owned(),
        amount: g.amount,
        percent: g.percent,
        limit_percent: g.limit_percent,
        exempt_amount: g.exempt_amount,
        fee: g.fee,
        reference: g.reference.clone(),
        start_date: dates.start_date,
        end_date: dates.end_date,
    };
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    lock_employee(&tx, id).await?;
    let v = garnishment_view(items::insert_garnishment(&tx, id, &new).await?);
    record(&tx, &auth, "create", "garnishment", v.id, None, to_json(&v)).await?;
    tx.commit().await?;
    invalidate(&state, &auth, id).await;
    Ok((StatusCode::CREATED, axum::Json(v)).into_response())
}

/// End a garnishment order.
#[utoipa::path(delete, path = "/employees/{id}/garnishments/{gid}", tag = "employees",
    params(("id" = Uuid, Path), ("gid" = Uuid, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn delete_garnishment(
    State(state): State<SharedState>,
    auth: Auth,
    Path((id, gid)): Path<(String, String)>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteOrg)?;
    let (id, gid) = (parse_id(&id)?, parse_id(&gid)?);
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    lock_employee(&tx, id).await?;
    let before = items::get_garnishment(&tx, id, gid)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if !items::delete_garnishment(&tx, id, gid).await? {
        return Err(ApiError::not_found());
    }
    record(
        &tx,
        &auth,
        "delete",
        "garnishment",
        gid,
        to_json(&garnishment_view(before)),
        None,
    )
    .await?;
    tx.commit().await?;
    invalidate(&state, &auth, id).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---------------------------------------------------------------------------------------------
// Bank accounts

/// The employee's live direct-deposit accounts in payment order (account numbers masked).
#[utoipa::path(get, path = "/employees/{id}/bank-accounts", tag = "employees",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = BankAccountList), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn list_bank_accounts(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    auth.require_employee_read(id)?;
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    require_employee(&tx, id).await?;
    let rows = items::list_bank_accounts(&tx, id).await?;
    tx.commit().await?;
    Ok(axum::Json(list_of(rows.into_iter().map(bank_view).collect())).into_response())
}

/// Add a direct-deposit account (ABA routing checksum validated; account number encrypted).
#[utoipa::path(post, path = "/employees/{id}/bank-accounts", tag = "employees",
    params(("id" = Uuid, Path)),
    request_body = BankAccountCreate,
    responses((status = 201, body = BankAccountView), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn create_bank_account(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteOrg)?;
    let id = parse_id(&id)?;
    let mut m = object(body)?;
    let account = take_secret(&mut m, "account_number")?
        .ok_or_else(|| ApiError::validation("account_number", "required"))?;
    let b: BankAccountCreate = parse(Value::Object(m))?;
    idv::aba_routing(&b.routing_number)
        .map_err(|e| ApiError::validation("routing_number", e.to_string()))?;
    idv::account_number(&account)
        .map_err(|e| ApiError::validation("account_number", e.to_string()))?;
    match b.split {
        Split::Percent => {
            if b.amount.is_some() {
                return Err(ApiError::validation(
                    "amount",
                    "not allowed with split percent",
                ));
            }
            match b.percent {
                None => {
                    return Err(ApiError::validation(
                        "percent",
                        "required with split percent",
                    ));
                }
                Some(p) if p <= Decimal::ZERO || p > Decimal::ONE_HUNDRED => {
                    return Err(ApiError::validation(
                        "percent",
                        "must be more than 0 and at most 100",
                    ));
                }
                _ => {}
            }
        }
        Split::Amount => {
            if b.percent.is_some() {
                return Err(ApiError::validation(
                    "percent",
                    "not allowed with split amount",
                ));
            }
            match b.amount {
                None => return Err(ApiError::validation("amount", "required with split amount")),
                Some(a) if a <= Decimal::ZERO => {
                    return Err(ApiError::validation("amount", "must be positive"));
                }
                _ => {}
            }
        }
        Split::Remainder => {
            for (f, present) in [
                ("percent", b.percent.is_some()),
                ("amount", b.amount.is_some()),
            ] {
                if present {
                    return Err(ApiError::validation(f, "not allowed with split remainder"));
                }
            }
        }
    }
    let priority = b.priority.unwrap_or(1);
    if !(1..=100).contains(&priority) {
        return Err(ApiError::validation(
            "priority",
            "must be between 1 and 100",
        ));
    }
    let new = NewBankAccount {
        routing_number: b.routing_number.clone(),
        account_number_enc: state.data_key.encrypt_str(&account)?,
        account_last4: account
            .get(account.len().saturating_sub(4)..)
            .unwrap_or_default()
            .to_owned(),
        account_type: match b.account_type {
            AccountType::Checking => "checking".into(),
            AccountType::Savings => "savings".into(),
        },
        split: match b.split {
            Split::Percent => "percent".into(),
            Split::Amount => "amount".into(),
            Split::Remainder => "remainder".into(),
        },
        percent: b.percent,
        amount: b.amount,
        priority,
    };
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    lock_employee(&tx, id).await?;
    let v = bank_view(items::insert_bank_account(&tx, id, &new).await?);
    record(
        &tx,
        &auth,
        "create",
        "bank_account",
        v.id,
        None,
        to_json(&v),
    )
    .await?;
    tx.commit().await?;
    invalidate(&state, &auth, id).await;
    Ok((StatusCode::CREATED, axum::Json(v)).into_response())
}

/// Remove a direct-deposit account.
#[utoipa::path(delete, path = "/employees/{id}/bank-accounts/{bid}", tag = "employees",
    params(("id" = Uuid, Path), ("bid" = Uuid, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn delete_bank_account(
    State(state): State<SharedState>,
    auth: Auth,
    Path((id, bid)): Path<(String, String)>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteOrg)?;
    let (id, bid) = (parse_id(&id)?, parse_id(&bid)?);
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    lock_employee(&tx, id).await?;
    let before = items::get_bank_account(&tx, id, bid)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if !items::delete_bank_account(&tx, id, bid).await? {
        return Err(ApiError::not_found());
    }
    record(
        &tx,
        &auth,
        "delete",
        "bank_account",
        bid,
        to_json(&bank_view(before)),
        None,
    )
    .await?;
    tx.commit().await?;
    invalidate(&state, &auth, id).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---------------------------------------------------------------------------------------------

/// OpenAPI description of this group's routes (merged into `/openapi.json`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list_employees,
        create_employee,
        get_employee,
        patch_employee,
        terminate_employee,
        list_compensations,
        create_compensation,
        get_tax_profile,
        put_tax_profile,
        list_deductions,
        create_deduction,
        delete_deduction,
        list_garnishments,
        create_garnishment,
        delete_garnishment,
        list_bank_accounts,
        create_bank_account,
        delete_bank_account
    ),
    components(schemas(
        EmployeeView,
        EmployeeList,
        EmployeeCreate,
        EmployeePatch,
        TerminateBody,
        PayType,
        CompensationView,
        CompensationList,
        CompensationCreate,
        TaxProfileView,
        TaxProfilePut,
        DeductionView,
        DeductionList,
        DeductionCreate,
        GarnishmentView,
        GarnishmentList,
        GarnishmentCreate,
        BankAccountView,
        BankAccountList,
        BankAccountCreate,
        AccountType,
        Split
    ))
)]
pub struct ApiDoc;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/employees", get(list_employees).post(create_employee))
        .route("/employees/{id}", get(get_employee).patch(patch_employee))
        .route("/employees/{id}/terminate", post(terminate_employee))
        .route(
            "/employees/{id}/compensations",
            get(list_compensations).post(create_compensation),
        )
        .route(
            "/employees/{id}/tax-profile",
            get(get_tax_profile).put(put_tax_profile),
        )
        .route(
            "/employees/{id}/deductions",
            get(list_deductions).post(create_deduction),
        )
        .route("/employees/{id}/deductions/{did}", delete(delete_deduction))
        .route(
            "/employees/{id}/garnishments",
            get(list_garnishments).post(create_garnishment),
        )
        .route(
            "/employees/{id}/garnishments/{gid}",
            delete(delete_garnishment),
        )
        .route(
            "/employees/{id}/bank-accounts",
            get(list_bank_accounts).post(create_bank_account),
        )
        .route(
            "/employees/{id}/bank-accounts/{bid}",
            delete(delete_bank_account),
        )
}
