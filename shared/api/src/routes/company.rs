//! Company settings, work locations and pay schedules:
//! `GET|PUT /company`, `GET|POST /locations`, `GET|PUT|DELETE /locations/{id}`,
//! `GET|POST /pay-schedules`, `GET|PUT /pay-schedules/{id}`, `GET /pay-schedules/{id}/periods`.
//!
//! Handlers are thin: they check the role, validate the body (every error names its field), run one
//! tenant transaction with the write and its audit event, invalidate the cache and answer with an ETag.

use crate::auth::{Auth, Permission};
use crate::error::{ApiError, ApiResult};
use crate::etag::{of_version, with_etag};
use crate::extract::{ApiJson, ApiQuery, IfMatch, parse_id};
use crate::pagination::{Page, decode_cursor, limit, page};
use crate::state::SharedState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use payroll_domain::CalcError;
use payroll_domain::request::StateCode;
use payroll_domain::schedule::{Schedule, ScheduleFrequency};
use payroll_store::TenantTx;
use payroll_store::audit::{self, AuditRecord};
use payroll_store::repo::company;
use payroll_store::repo::company::{CompanySettings, CompanyUpdate, SuiRate};
use payroll_store::repo::locations::{self, Location, LocationInput, Removal};
use payroll_store::repo::schedules::{self, PaySchedule, ScheduleInput};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// OpenAPI description of this group's routes (merged into `/openapi.json`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        get_company,
        put_company,
        list_locations,
        create_location,
        get_location,
        put_location,
        delete_location,
        list_schedules,
        create_schedule,
        get_schedule,
        put_schedule,
        list_periods
    ),
    components(schemas(
        Company,
        CompanyInput,
        SuiEntry,
        Address,
        LocationOut,
        LocationBody,
        LocationList,
        PayScheduleOut,
        PayScheduleBody,
        PayScheduleList,
        PeriodOut,
        PeriodList
    )),
    tags((name = "company", description = "Company settings, work locations and pay schedules"))
)]
pub struct ApiDoc;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/company", get(get_company).put(put_company))
        .route("/locations", get(list_locations).post(create_location))
        .route(
            "/locations/{id}",
            get(get_location).put(put_location).delete(delete_location),
        )
        .route("/pay-schedules", get(list_schedules).post(create_schedule))
        .route("/pay-schedules/{id}", get(get_schedule).put(put_schedule))
        .route("/pay-schedules/{id}/periods", get(list_periods))
}

/// The cache key of a tenant's company settings.
pub fn company_cache_key(tenant: Uuid) -> String {
    format!("config:{tenant}:company")
}

// ---------------------------------------------------------------------------------------------
// Representations

/// A postal address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Address {
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub city: String,
    /// Two-letter state code.
    pub state: String,
    /// `12345` or `12345-6789`.
    pub postal_code: String,
}

/// SUI settings for one state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SuiEntry {
    /// Employer rate as a fraction, e.g. `"0.034"`.
    #[schema(value_type = String, example = "0.034")]
    pub rate: Decimal,
    /// Taxable wage base per employee per year, e.g. `"7000.00"`.
    #[schema(value_type = String, example = "7000.00")]
    pub wage_base: Decimal,
}

/// Company settings.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Company {
    /// The tenant id.
    pub id: Uuid,
    pub legal_name: String,
    /// `NN-NNNNNNN`.
    pub ein: Option<String>,
    /// An `Address`, or `{}` when not set.
    #[schema(value_type = Object)]
    pub address: Value,
    /// `monday` .. `sunday`.
    pub workweek_start: String,
    /// By state code.
    pub sui: BTreeMap<String, SuiEntry>,
    /// FUTA credit reduction by state code, as a fraction, e.g. `{"CA": "0.009"}`.
    #[schema(value_type = BTreeMap<String, String>)]
    pub futa_credit_reduction: BTreeMap<String, Decimal>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&CompanySettings> for Company {
    fn from(c: &CompanySettings) -> Company {
        Company {
            id: c.tenant_id,
            legal_name: c.legal_name.clone(),
            ein: c.ein.clone(),
            address: c.address.clone(),
            workweek_start: c.workweek_start.clone(),
            sui: c
                .sui
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        SuiEntry {
                            rate: v.rate,
                            wage_base: v.wage_base,
                        },
                    )
                })
                .collect(),
            futa_credit_reduction: c.futa_credit_reduction.clone(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// `PUT /company` body: a full replacement (`id`, `created_at`, `updated_at` are accepted and ignored).
#[derive(Debug, Clone, ToSchema)]
#[allow(dead_code)]
pub struct CompanyInput {
    pub legal_name: String,
    /// `NN-NNNNNNN`, or null.
    pub ein: Option<String>,
    pub address: Option<Address>,
    /// `monday` (default) .. `sunday`.
    pub workweek_start: Option<String>,
    /// By state code: `{"CA": {"rate": "0.034", "wage_base": "7000.00"}}`.
    pub sui: Option<BTreeMap<String, SuiEntry>>,
    /// By state code: `{"CA": "0.009"}`.
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    pub futa_credit_reduction: Option<BTreeMap<String, Decimal>>,
}

/// A work location.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LocationOut {
    pub id: Uuid,
    pub name: String,
    /// Two-letter state code.
    pub state: String,
    /// City or county, for local taxes and minimum wages.
    pub locality: Option<String>,
    /// An `Address`, or `{}` when not set.
    #[schema(value_type = Object)]
    pub address: Value,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Location> for LocationOut {
    fn from(l: &Location) -> LocationOut {
        LocationOut {
            id: l.id,
            name: l.name.clone(),
            state: l.state.clone(),
            locality: l.locality.clone(),
            address: l.address.clone(),
            active: l.active,
            created_at: l.created_at,
            updated_at: l.updated_at,
        }
    }
}

/// `POST /locations` and `PUT /locations/{id}` body.
#[derive(Debug, Clone, ToSchema)]
#[allow(dead_code)]
pub struct LocationBody {
    pub name: String,
    pub state: String,
    pub locality: Option<String>,
    pub address: Option<Address>,
    /// Default true on create; unchanged when omitted on update.
    pub active: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LocationList {
    pub items: Vec<LocationOut>,
    pub next_cursor: Option<String>,
}

/// A pay schedule.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PayScheduleOut {
    pub id: Uuid,
    pub name: String,
    /// `weekly`, `biweekly`, `semimonthly` or `monthly`.
    #[schema(example = "biweekly")]
    pub frequency: String,
    /// First day of the first period (semimonthly: the 1st or 16th; monthly: the 1st).
    pub first_period_start: NaiveDate,
    /// Days from the period end to the pay date (0..30).
    pub pay_date_offset_days: i32,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&PaySchedule> for PayScheduleOut {
    fn from(s: &PaySchedule) -> PayScheduleOut {
        PayScheduleOut {
            id: s.id,
            name: s.name.clone(),
            frequency: s.frequency.as_str().to_owned(),
            first_period_start: s.first_period_start,
            pay_date_offset_days: s.pay_date_offset_days,
            active: s.active,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// `POST /pay-schedules` and `PUT /pay-schedules/{id}` body.
#[derive(Debug, Clone, ToSchema)]
#[allow(dead_code)]
pub struct PayScheduleBody {
    pub name: String,
    #[schema(example = "biweekly")]
    pub frequency: String,
    pub first_period_start: NaiveDate,
    /// Default 0.
    pub pay_date_offset_days: Option<i32>,
    /// Default true on create; unchanged when omitted on update.
    pub active: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PayScheduleList {
    pub items: Vec<PayScheduleOut>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeriodOut {
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub pay_date: NaiveDate,
}

/// The periods of a schedule overlapping `from..=to` (at most 400).
#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodList {
    pub pay_schedule_id: Uuid,
    pub frequency: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub items: Vec<PeriodOut>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Page size (default 50, at most 500).
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
    /// Only active (true) or inactive (false) resources.
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodParams {
    /// First day of the range (YYYY-MM-DD).
    pub from: Option<String>,
    /// Last day of the range (YYYY-MM-DD), inclusive.
    pub to: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Body validation: every error names its field.

/// Read-only fields a client may echo back from a GET; accepted and ignored.
const READ_ONLY: [&str; 3] = ["id", "created_at", "updated_at"];

struct Fields {
    map: Map<String, Value>,
}

impl Fields {
    fn new(body: Value, allowed: &[&str]) -> ApiResult<Fields> {
        let Value::Object(map) = body else {
            return Err(ApiError::validation("body", "must be a JSON object"));
        };
        if let Some(k) = map
            .keys()
            .find(|k| !allowed.contains(&k.as_str()) && !READ_ONLY.contains(&k.as_str()))
        {
            return Err(ApiError::validation(k.as_str(), "unknown field"));
        }
        Ok(Fields { map })
    }

    /// The value, treating `null` as absent.
    fn get(&self, k: &str) -> Option<&Value> {
        self.map.get(k).filter(|v| !v.is_null())
    }

    fn opt_str(&self, k: &str) -> ApiResult<Option<String>> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::validation(k, "must be a string")),
        }
    }

    fn req_str(&self, k: &str) -> ApiResult<String> {
        self.opt_str(k)?
            .ok_or_else(|| ApiError::validation(k, "is required"))
    }

    fn opt_bool(&self, k: &str) -> ApiResult<Option<bool>> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::validation(k, "must be true or false")),
        }
    }

    fn opt_int(&self, k: &str) -> ApiResult<Option<i64>> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| ApiError::validation(k, "must be an integer")),
        }
    }
}

fn text(field: &str, s: &str, max: usize) -> ApiResult<String> {
    let t = s.trim();
    let n = t.chars().count();
    if n == 0 || n > max {
        return Err(ApiError::validation(
            field,
            format!("must be 1 to {max} characters"),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(ApiError::validation(
            field,
            "must not contain control characters",
        ));
    }
    Ok(t.to_owned())
}

fn state_code(field: &str, s: &str) -> ApiResult<String> {
    StateCode::parse(s)
        .map(|c| c.as_str().to_owned())
        .map_err(|m| ApiError::validation(field, m))
}

fn date(field: &str, s: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::validation(field, "must be a date YYYY-MM-DD"))
}

/// A valid EIN has the form `NN-NNNNNNN`.
pub fn valid_ein(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[2] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 2 || c.is_ascii_digit())
}

fn postal_code_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    match b.len() {
        5 => digits(b),
        10 => digits(&b[..5]) && b[5] == b'-' && digits(&b[6..]),
        _ => false,
    }
}

/// Validate an address object; `None` (absent or null) is stored as `{}`.
fn address(v: Option<&Value>, field: &str) -> ApiResult<Value> {
    let Some(v) = v else {
        return Ok(Value::Object(Map::new()));
    };
    let f = Fields::new(
        v.clone(),
        &["line1", "line2", "city", "state", "postal_code"],
    )
    .map_err(|e| prefix(e, field))?;
    let sub = |k: &str| format!("{field}.{k}");
    let line1 = f.req_str("line1").map_err(|e| prefix(e, field))?;
    let city = f.req_str("city").map_err(|e| prefix(e, field))?;
    let state = f.req_str("state").map_err(|e| prefix(e, field))?;
    let postal = f.req_str("postal_code").map_err(|e| prefix(e, field))?;
    let line2 = f.opt_str("line2").map_err(|e| prefix(e, field))?;
    let postal = postal.trim().to_owned();
    if !postal_code_ok(&postal) {
        return Err(ApiError::validation(
            sub("postal_code"),
            "must be a ZIP code: 12345 or 12345-6789",
        ));
    }
    let a = Address {
        line1: text(&sub("line1"), &line1, 200)?,
        line2: match line2 {
            Some(l) if !l.trim().is_empty() => Some(text(&sub("line2"), &l, 200)?),
            _ => None,
        },
        city: text(&sub("city"), &city, 100)?,
        state: state_code(&sub("state"), &state)?,
        postal_code: postal,
    };
    serde_json::to_value(a).map_err(|e| ApiError::internal(e.to_string()))
}

/// Prefix the field names of a validation error (`city` → `address.city`).
fn prefix(mut e: ApiError, field: &str) -> ApiError {
    for fe in &mut e.errors {
        if fe.field == "body" {
            fe.field = field.to_owned();
        } else {
            fe.field = format!("{field}.{}", fe.field);
        }
    }
    if let Some(fe) = e.errors.first() {
        e.detail = format!("{}: {}", fe.field, fe.message);
    }
    e
}

/// A decimal given as a JSON string, within `min..=max`, at most `scale` decimal places.
fn decimal(v: &Value, field: &str, min: Decimal, max: Decimal, scale: u32) -> ApiResult<Decimal> {
    let s = v
        .as_str()
        .ok_or_else(|| ApiError::validation(field, "must be a decimal string, e.g. \"0.034\""))?;
    let d: Decimal = s
        .trim()
        .parse()
        .map_err(|_| ApiError::validation(field, "must be a decimal string, e.g. \"0.034\""))?;
    if d < min || d > max {
        return Err(ApiError::validation(
            field,
            format!("must be between {min} and {max}"),
        ));
    }
    if d.normalize().scale() > scale {
        return Err(ApiError::validation(
            field,
            format!("must have at most {scale} decimal places"),
        ));
    }
    Ok(d)
}

const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

fn company_update(body: Value) -> ApiResult<CompanyUpdate> {
    let f = Fields::new(
        body,
        &[
            "legal_name",
            "ein",
            "address",
            "workweek_start",
            "sui",
            "futa_credit_reduction",
        ],
    )?;
    let legal_name = text("legal_name", &f.req_str("legal_name")?, 200)?;
    let ein = match f.opt_str("ein")? {
        None => None,
        Some(e) if valid_ein(e.trim()) => Some(e.trim().to_owned()),
        Some(_) => return Err(ApiError::validation("ein", "must have the form NN-NNNNNNN")),
    };
    let address = address(f.get("address"), "address")?;
    let workweek_start = match f.opt_str("workweek_start")? {
        None => "monday".to_owned(),
        Some(w) if WEEKDAYS.contains(&w.as_str()) => w,
        Some(_) => {
            return Err(ApiError::validation(
                "workweek_start",
                "must be one of monday, tuesday, wednesday, thursday, friday, saturday, sunday",
            ));
        }
    };
    let mut sui = BTreeMap::new();
    match f.get("sui") {
        None => {}
        Some(Value::Object(m)) => {
            for (state, entry) in m {
                let field = format!("sui.{state}");
                let code = state_code(&field, state)?;
                let e = Fields::new(entry.clone(), &["rate", "wage_base"])
                    .map_err(|e| prefix(e, &field))?;
                let rate = e
                    .get("rate")
                    .ok_or_else(|| ApiError::validation(format!("{field}.rate"), "is required"))?;
                let base = e.get("wage_base").ok_or_else(|| {
                    ApiError::validation(format!("{field}.wage_base"), "is required")
                })?;
                let rate = decimal(
                    rate,
                    &format!("{field}.rate"),
                    Decimal::ZERO,
                    Decimal::new(25, 2),
                    6,
                )?;
                let mut wage_base = decimal(
                    base,
                    &format!("{field}.wage_base"),
                    Decimal::ZERO,
                    Decimal::new(1_000_000, 0),
                    2,
                )?;
                wage_base.rescale(2);
                sui.insert(code, SuiRate { rate, wage_base });
            }
        }
        Some(_) => {
            return Err(ApiError::validation(
                "sui",
                "must be an object keyed by state code",
            ));
        }
    }
    let mut futa = BTreeMap::new();
    match f.get("futa_credit_reduction") {
        None => {}
        Some(Value::Object(m)) => {
            for (state, v) in m {
                let field = format!("futa_credit_reduction.{state}");
                let code = state_code(&field, state)?;
                let r = decimal(v, &field, Decimal::ZERO, Decimal::new(54, 3), 4)?;
                futa.insert(code, r);
            }
        }
        Some(_) => {
            return Err(ApiError::validation(
                "futa_credit_reduction",
                "must be an object keyed by state code",
            ));
        }
    }
    Ok(CompanyUpdate {
        legal_name,
        ein,
        address,
        workweek_start,
        sui,
        futa_credit_reduction: futa,
    })
}

/// Location fields; `active` is `None` when omitted.
fn location_input(body: Value) -> ApiResult<(LocationInput, Option<bool>)> {
    let f = Fields::new(body, &["name", "state", "locality", "address", "active"])?;
    let name = text("name", &f.req_str("name")?, 200)?;
    let state = state_code("state", f.req_str("state")?.trim())?;
    let locality = match f.opt_str("locality")? {
        Some(l) if !l.trim().is_empty() => Some(text("locality", &l, 200)?),
        _ => None,
    };
    let address = address(f.get("address"), "address")?;
    let active = f.opt_bool("active")?;
    Ok((
        LocationInput {
            name,
            state,
            locality,
            address,
            active: active.unwrap_or(true),
        },
        active,
    ))
}

fn calc_field_error(e: CalcError) -> ApiError {
    match e {
        CalcError::Invalid { field, message } => ApiError::validation(field, message),
        other => ApiError::validation(other.field().to_owned(), other.to_string()),
    }
}

/// Schedule fields; `active` is `None` when omitted.
fn schedule_input(body: Value) -> ApiResult<(ScheduleInput, Option<bool>)> {
    let f = Fields::new(
        body,
        &[
            "name",
            "frequency",
            "first_period_start",
            "pay_date_offset_days",
            "active",
        ],
    )?;
    let name = text("name", &f.req_str("name")?, 200)?;
    let frequency = ScheduleFrequency::parse(&f.req_str("frequency")?).map_err(calc_field_error)?;
    let first_period_start = date("first_period_start", &f.req_str("first_period_start")?)?;
    let offset = f.opt_int("pay_date_offset_days")?.unwrap_or(0);
    let offset = i32::try_from(offset)
        .map_err(|_| ApiError::validation("pay_date_offset_days", "must be between 0 and 30"))?;
    Schedule::new(frequency, first_period_start, offset).map_err(calc_field_error)?;
    let active = f.opt_bool("active")?;
    Ok((
        ScheduleInput {
            name,
            frequency,
            first_period_start,
            pay_date_offset_days: offset,
            active: active.unwrap_or(true),
        },
        active,
    ))
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn request_id(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-request-id").and_then(|v| v.to_str().ok())
}

fn json<T: Serialize>(v: &T) -> ApiResult<Value> {
    serde_json::to_value(v).map_err(|e| ApiError::internal(e.to_string()))
}

/// Cursor = `"<created_at RFC 3339>|<id>"` of the last item.
fn cursor_key(at: DateTime<Utc>, id: Uuid) -> String {
    format!("{}|{id}", at.to_rfc3339_opts(SecondsFormat::Micros, true))
}

fn parse_cursor(c: Option<&str>) -> ApiResult<Option<(DateTime<Utc>, Uuid)>> {
    let Some(c) = c else { return Ok(None) };
    let key = decode_cursor(c)?;
    let bad = || ApiError::validation("cursor", "is not a cursor returned by this API");
    let (at, id) = key.split_once('|').ok_or_else(bad)?;
    let at = DateTime::parse_from_rfc3339(at).map_err(|_| bad())?;
    let id = Uuid::parse_str(id).map_err(|_| bad())?;
    Ok(Some((at.with_timezone(&Utc), id)))
}

fn created(version: i64, body: &impl Serialize, location: &str) -> Response {
    let mut resp = with_etag(StatusCode::CREATED, version, body);
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

async fn read_tx(state: &SharedState, auth: &Auth) -> ApiResult<TenantTx> {
    Ok(state.db.tenant_tx(auth.tenant_id).await?)
}

// ---------------------------------------------------------------------------------------------
// Company

/// Read the company settings.
#[utoipa::path(
    get,
    path = "/company",
    tag = "company",
    responses(
        (status = 200, description = "The settings (ETag header)", body = Company),
        (status = 401, description = "No or invalid token"),
        (status = 403, description = "Role not allowed")
    )
)]
pub async fn get_company(State(state): State<SharedState>, auth: Auth) -> ApiResult<Response> {
    auth.require(Permission::Read)?;
    let key = company_cache_key(auth.tenant_id);
    if let Some(c) = state.cache.get::<CompanySettings>(&key).await
        && c.tenant_id == auth.tenant_id
    {
        return Ok(with_etag(StatusCode::OK, c.version, &Company::from(&c)));
    }
    let tx = read_tx(&state, &auth).await?;
    let c = company::get(&tx).await?;
    tx.commit().await?;
    state.cache.put(&key, &c).await;
    Ok(with_etag(StatusCode::OK, c.version, &Company::from(&c)))
}

/// Replace the company settings (payroll_admin only). Honours `If-Match`.
#[utoipa::path(
    put,
    path = "/company",
    tag = "company",
    request_body = CompanyInput,
    params(("If-Match" = Option<String>, Header, description = "ETag of the settings read")),
    responses(
        (status = 200, description = "The updated settings (ETag header)", body = Company),
        (status = 401, description = "No or invalid token"),
        (status = 403, description = "Only payroll_admin may change company settings"),
        (status = 412, description = "Stale If-Match"),
        (status = 422, description = "Validation failed (problem+json naming the field)")
    )
)]
pub async fn put_company(
    State(state): State<SharedState>,
    auth: Auth,
    if_match: IfMatch,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteCompany)?;
    let update = company_update(body)?;
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let before = company::get_for_update(&tx).await?;
    if_match.check(&of_version(before.version))?;
    let after = company::update(&tx, &update, before.version).await?;
    audit::record(
        &tx,
        &AuditRecord {
            actor: auth.actor(),
            action: "update",
            entity: "company",
            entity_id: Some(auth.tenant_id.to_string()),
            request_id: request_id(&headers),
            before: Some(json(&Company::from(&before))?),
            after: Some(json(&Company::from(&after))?),
        },
    )
    .await?;
    tx.commit().await?;
    state
        .cache
        .invalidate(&company_cache_key(auth.tenant_id))
        .await;
    Ok(with_etag(
        StatusCode::OK,
        after.version,
        &Company::from(&after),
    ))
}

// ---------------------------------------------------------------------------------------------
// Locations

/// List work locations (cursor-paginated, oldest first).
#[utoipa::path(
    get,
    path = "/locations",
    tag = "company",
    params(ListParams),
    responses(
        (status = 200, description = "A page of locations", body = LocationList),
        (status = 401, description = "No or invalid token"),
        (status = 403, description = "Role not allowed"),
        (status = 422, description = "Bad limit or cursor")
    )
)]
pub async fn list_locations(
    State(state): State<SharedState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Response> {
    auth.require(Permission::Read)?;
    let n = limit(
        q.limit,
        state.settings.default_page_size,
        state.settings.max_page_size,
    )?;
    let after = parse_cursor(q.cursor.as_deref())?;
    let tx = read_tx(&state, &auth).await?;
    let rows = locations::list(
        &tx,
        &locations::ListQuery {
            active: q.active,
            after,
            limit: n + 1,
        },
    )
    .await?;
    tx.commit().await?;
    let p: Page<LocationOut> = page(rows.iter().map(LocationOut::from).collect(), n, |l| {
        cursor_key(l.created_at, l.id)
    });
    Ok(axum::Json(p).into_response())
}

/// Create a work location.
#[utoipa::path(
    post,
    path = "/locations",
    tag = "company",
    request_body = LocationBody,
    responses(
        (status = 201, description = "Created (Location and ETag headers)", body = LocationOut),
        (status = 401, description = "No or invalid token"),
        (status = 403, description = "Role not allowed"),
        (status = 422, description = "Validation failed (problem+json naming the field)")
    )
)]
pub async fn create_location(
    State(state): State<SharedState>,
    auth: Auth,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteOrg)?;
    let (input, _) = location_input(body)?;
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let loc = locations::create(&tx, &input).await?;
    let out = LocationOut::from(&loc);
    audit::record(
        &tx,
        &AuditRecord {
            actor: auth.actor(),
            action: "create",
            entity: "location",
            entity_id: Some(loc.id.to_string()),
            request_id: request_id(&headers),
            before: None,
            after: Some(json(&out)?),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(created(
        loc.version,
        &out,
        &format!("{}/locations/{}", crate::BASE_PATH, loc.id),
    ))
}

/// Read one work location.
#[utoipa::path(
    get,
    path = "/locations/{id}",
    tag = "company",
    params(("id" = Uuid, Path, description = "Location id")),
    responses(
        (status = 200, description = "The location (ETag header)", body = LocationOut),
        (status = 401, description = "No or invalid token"),
        (status = 403, description = "Role not allowed"),
        (status = 404, description = "No such location in this tenant")
    )
)]
pub async fn get_location(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    auth.require(Permission::Read)?;
    let id = parse_id(&id)?;
    let tx = read_tx(&state, &auth).await?;
    let loc = locations::get(&tx, id).await?;
    tx.commit().await?;
    Ok(with_etag(
        StatusCode::OK,
        loc.version,
        &LocationOut::from(&loc),
    ))
}

/// Replace a work location. Honours `If-Match`.
#[utoipa::path(
    put,
    path = "/locations/{id}",
    tag = "company",
    request_body = LocationBody,
    params(
        ("id" = Uuid, Path, description = "Location id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the location read")
    ),
    responses(
        (status = 200, description = "The updated location (ETag header)", body = LocationOut),
        (status = 401, description = "No or invalid token"),
        (status = 403, description = "Role not allowed"),
        (status = 404, description = "No such location in this tenant"),
        (status = 412, description = "Stale If-Match"),
        (status = 422, description = "Validation failed (problem+json naming the field)")
    )
)]
pub async fn put_location(
    State(state): State<SharedState>,
    auth: Auth,
    if_match: IfMatch,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteOrg)?;
    let id = parse_id(&id)?;
    let (mut input, active) = location_input(body)?;
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let before = locations::get_for_update(&tx, id).await?;
    if_match.check(&of_version(before.version))?;
    if active.is_none() {
        input.active = before.active;
    }
    let after = locations::update(&tx, id, &input, before.version).await?;
    let out = LocationOut::from(&after);
    audit::record(
        &tx,
        &AuditRecord {
            actor: auth.actor(),
            action: "update",
            entity: "location",
            entity_id: Some(id.to_string()),
            request_id: request_id(&headers),
            before: Some(json(&LocationOut::from(&before))?),
            after: Some(json(&out)?),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(with_etag(StatusCode::OK, after.version, &out))
}

/// Delete a work location; one still referenced (e.g. by employees) is deactivated instead.
#[utoipa::path(
    delete,
    path = "/locations/{id}",
    tag = "company",
    params(
        ("id" = Uuid, Path, description = "Location id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the location read")
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 200, description = "Still referenced: deactivated (`active: false`)", body = LocationOut),
        (status = 401, description = "No or invalid token"),
        (status = 403, description = "Role not allowed"),
        (status = 404, description = "No such location in this tenant"),
        (status = 412, description = "Stale If-Match")
    )
)]
pub async fn delete_location(
    State(state): State<SharedState>,
    auth: Auth,
    if_match: IfMatch,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteOrg)?;
    let id = parse_id(&id)?;
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let current = locations::get_for_update(&tx, id).await?;
    if_match.check(&of_version(current.version))?;
    let removal = locations::delete_or_deactivate(&tx, id).await?;
    let (action, before, after) = match &removal {
        Removal::Deleted(before) => ("delete", LocationOut::from(before), None),
        Removal::Deactivated { before, after } => (
            "deactivate",
            LocationOut::from(before),
            Some(LocationOut::from(after)),
        ),
    };
    audit::record(
        &tx,
        &AuditRecord {
            actor: auth.actor(),
            action,
            entity: "location",
            entity_id: Some(id.to_string()),
            request_id: request_id(&headers),
            before: Some(json(&before)?),
            after: after.as_ref().map(json).transpose()?,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(match (&removal, after) {
        (Removal::Deactivated { after: a, .. }, Some(out)) => {
            with_etag(StatusCode::OK, a.version, &out)
        }
        _ => StatusCode::NO_CONTENT.into_response(),
    })
}

// ---------------------------------------------------------------------------------------------
// Pay schedules

/// List pay schedules (cursor-paginated, oldest first).
#[utoipa::path(
    get,
    path = "/pay-schedules",
    tag = "company",
    params(ListParams),
    responses(
        (status = 200, description = "A page of pay schedules", body = PayScheduleList),
        (status = 401, description = "No or invalid token"),
        (status = 403, description = "Role not allowed"),
        (status = 422, description = "Bad limit or cursor")
    )
)]
pub async fn list_schedules(
    State(state): State<SharedState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Response> {
    auth.require(Permission::Read)?;
    let n = limit(
        q.limit,
        state.settings.default_page_size,
        state.settings.max_page_size,
    )?;
    let after = parse_cursor(q.cursor.as_deref())?;
    let tx = read_tx(&state, &auth).await?;
    let rows = schedules::list(
        &tx,
        &schedules::ListQuery {
            active: q.active,
            after,
            limit: n + 1,
        },
    )
    .await?;
    tx.commit().await?;
    let p: Page<PayScheduleOut> = page(rows.iter().map(PayScheduleOut::from).collect(), n, |s| {
        cursor_key(s.created_at, s.id)
    });
    Ok(axum::Json(p).into_response())
}

/// Create a pay schedule.
#[utoipa::path(
    post,
    path = "/pay-schedules",
    tag = "company",
    request_body = PayScheduleBody,
    responses(
        (status = 201, description = "Created (Location and ETag headers)", body = PayScheduleOut),
        (status = 401, description = "No or invalid token"),
        (status = 403, description = "Role not allowed"),
        (status = 422, description = "Validation failed (problem+json naming the field)")
    )
)]
pub async fn create_schedule(
    State(state): State<SharedState>,
    auth: Auth,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteOrg)?;
    let (input, _) = schedule_input(body)?;
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let s = schedules::create(&tx, &input).await?;
    let out = PayScheduleOut::from(&s);
    audit::record(
        &tx,
        &AuditRecord {
            actor: auth.actor(),
            action: "create",
            entity: "pay_schedule",
            entity_id: Some(s.id.to_string()),
            request_id: request_id(&headers),
            before: None,
            after: Some(json(&out)?),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(created(
        s.version,
        &out,
        &format!("{}/pay-schedules/{}", crate::BASE_PATH, s.id),
    ))
}

/// Read one pay schedule.
#[utoipa::path(
    get,
    path = "/pay-schedules/{id}",
    tag = "company",
    params(("id" = Uuid, Path, description = "Pay schedule id")),
    responses(
        (status = 200, description = "The pay schedule (ETag header)", body = PayScheduleOut),
        (status = 401, description = "No or invalid token"),
        (status = 403, description = "Role not allowed"),
        (status = 404, description = "No such pay schedule in this tenant")
    )
)]
pub async fn get_schedule(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    auth.require(Permission::Read)?;
    let id = parse_id(&id)?;
    let tx = read_tx(&state, &auth).await?;
    let s = schedules::get(&tx, id).await?;
    tx.commit().await?;
    Ok(with_etag(
        StatusCode::OK,
        s.version,
        &PayScheduleOut::from(&s),
    ))
}

/// Replace a pay schedule. Honours `If-Match`.
#[utoipa::path(
    put,
    path = "/pay-schedules/{id}",
    tag = "company",
    request_body = PayScheduleBody,
    params(
        ("id" = Uuid, Path, description = "Pay schedule id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the pay schedule read")
    ),
    responses(
        (status = 200, description = "The updated pay schedule (ETag header)", body = PayScheduleOut),
        (status = 401, description = "No or invalid token"),
        (status = 403, description = "Role not allowed"),
        (status = 404, description = "No such pay schedule in this tenant"),
        (status = 412, description = "Stale If-Match"),
        (status = 422, description = "Validation failed (problem+json naming the field)")
    )
)]
pub async fn put_schedule(
    State(state): State<SharedState>,
    auth: Auth,
    if_match: IfMatch,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteOrg)?;
    let id = parse_id(&id)?;
    let (mut input, active) = schedule_input(body)?;
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let before = schedules::get_for_update(&tx, id).await?;
    if_match.check(&of_version(before.version))?;
    if active.is_none() {
        input.active = before.active;
    }
    let after = schedules::update(&tx, id, &input, before.version).await?;
    let out = PayScheduleOut::from(&after);
    audit::record(
        &tx,
        &AuditRecord {
            actor: auth.actor(),
            action: "update",
            entity: "pay_schedule",
            entity_id: Some(id.to_string()),
            request_id: request_id(&headers),
            before: Some(json(&PayScheduleOut::from(&before))?),
            after: Some(json(&out)?),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(with_etag(StatusCode::OK, after.version, &out))
}

/// The pay periods of a schedule overlapping `from..=to` (at most 400; nothing before the anchor).
#[utoipa::path(
    get,
    path = "/pay-schedules/{id}/periods",
    tag = "company",
    params(("id" = Uuid, Path, description = "Pay schedule id"), PeriodParams),
    responses(
        (status = 200, description = "The periods, in order", body = PeriodList),
        (status = 401, description = "No or invalid token"),
        (status = 403, description = "Role not allowed"),
        (status = 404, description = "No such pay schedule in this tenant"),
        (status = 422, description = "Bad or missing from/to, or more than 400 periods")
    )
)]
pub async fn list_periods(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PeriodParams>,
) -> ApiResult<Response> {
    auth.require(Permission::Read)?;
    let id = parse_id(&id)?;
    let from = date(
        "from",
        q.from
            .as_deref()
            .ok_or_else(|| ApiError::validation("from", "is required"))?,
    )?;
    let to = date(
        "to",
        q.to.as_deref()
            .ok_or_else(|| ApiError::validation("to", "is required"))?,
    )?;
    let tx = read_tx(&state, &auth).await?;
    let s = schedules::get(&tx, id).await?;
    tx.commit().await?;
    let periods = s.schedule().periods(from, to).map_err(calc_field_error)?;
    Ok(axum::Json(PeriodList {
        pay_schedule_id: s.id,
        frequency: s.frequency.as_str().to_owned(),
        from,
        to,
        items: periods
            .iter()
            .map(|p| PeriodOut {
                period_start: p.period_start,
                period_end: p.period_end,
                pay_date: p.pay_date,
            })
            .collect(),
    })
    .into_response())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn ein_format() {
        assert!(valid_ein("12-3456789"));
        assert!(!valid_ein("123456789"));
        assert!(!valid_ein("12-345678"));
        assert!(!valid_ein("1a-3456789"));
        assert!(!valid_ein("12-3456789 "));
    }

    #[test]
    fn company_body_fields_are_named() {
        let field = |body: Value| company_update(body).unwrap_err().errors[0].field.clone();
        assert_eq!(field(json!({})), "legal_name");
        assert_eq!(field(json!({"legal_name": "A", "ein": "1"})), "ein");
        assert_eq!(
            field(json!({"legal_name": "A", "sui": {"CA": {"rate": 0.034, "wage_base": "7000"}}})),
            "sui.CA.rate"
        );
        assert_eq!(
            field(
                json!({"legal_name": "A", "sui": {"XX": {"rate": "0.034", "wage_base": "7000"}}})
            ),
            "sui.XX"
        );
        assert_eq!(
            field(json!({"legal_name": "A", "futa_credit_reduction": {"CA": "0.9"}})),
            "futa_credit_reduction.CA"
        );
        assert_eq!(
            field(
                json!({"legal_name": "A", "address": {"line1": "1 Main", "city": "X", "state": "CA", "postal_code": "9"}})
            ),
            "address.postal_code"
        );
        assert_eq!(
            field(json!({"legal_name": "A", "address": {"city": "X"}})),
            "address.line1"
        );
        assert_eq!(field(json!({"legal_name": "A", "bogus": 1})), "bogus");
        let ok = company_update(json!({
            "legal_name": " Bistro LLC ",
            "sui": {"CA": {"rate": "0.034", "wage_base": "7000"}},
            "futa_credit_reduction": {"CA": "0.009"},
            "id": "ignored"
        }))
        .unwrap();
        assert_eq!(ok.legal_name, "Bistro LLC");
        assert_eq!(ok.sui["CA"].wage_base.to_string(), "7000.00");
        assert_eq!(ok.workweek_start, "monday");
    }

    #[test]
    fn openapi_lists_every_route() {
        use utoipa::OpenApi;
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
        assert_eq!(
            paths,
            [
                "/company",
                "/locations",
                "/locations/{id}",
                "/pay-schedules",
                "/pay-schedules/{id}",
                "/pay-schedules/{id}/periods"
            ]
        );
        assert!(doc["paths"]["/locations/{id}"]["delete"].is_object());
        assert!(doc["components"]["schemas"]["PayScheduleOut"].is_object());
    }

    #[test]
    fn cursor_round_trip() {
        let at = Utc::now();
        let id = Uuid::new_v4();
        let c = crate::pagination::encode_cursor(&cursor_key(at, id));
        let (at2, id2) = parse_cursor(Some(&c)).unwrap().unwrap();
        assert_eq!(id2, id);
        assert_eq!(at2.timestamp_micros(), at.timestamp_micros());
        assert!(parse_cursor(Some("!!")).is_err());
    }
}
