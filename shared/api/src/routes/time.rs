//! Time entries: `POST /time-entries/batch`, `GET /time-entries`, `GET|DELETE /time-entries/{id}`.
//!
//! A batch is all-or-nothing: every entry is validated (fields, duplicates, the employee belongs to
//! this tenant and was employed on the date) before anything is written, and a 422 lists the
//! errors of every invalid entry (`entries[17].hours: ...`). Entries are idempotent by
//! `external_id`: re-sending an entry changes nothing, an entry with changed values updates the
//! stored one. Writes and their audit events go in a few multi-row statements in one transaction.

use crate::auth::{Auth, Permission};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::etag::{of_version, with_etag};
use crate::extract::{ApiJson, ApiQuery, IfMatch, parse_id};
use crate::pagination::{Page, decode_cursor, limit, page};
use crate::state::SharedState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};
use payroll_domain::money::parse_decimal;
use payroll_store::audit::{self, AuditRecord};
use payroll_store::repo::time_entries::{
    self, BatchAudit, TimeEntryData, TimeEntryQuery, TimeEntryRecord,
};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// OpenAPI description of this group's routes (merged into `/openapi.json`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(import_batch, list_entries, get_entry, delete_entry),
    components(schemas(
        TimeEntryIn,
        BatchBody,
        BatchResult,
        BatchItem,
        TimeEntryOut,
        TimeEntryList
    )),
    tags((name = "time", description = "Time entries: batch import (idempotent by external_id), list, delete"))
)]
pub struct ApiDoc;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/time-entries", get(list_entries))
        .route("/time-entries/batch", post(import_batch))
        .route("/time-entries/{id}", get(get_entry).delete(delete_entry))
}

/// The most entries one batch may carry.
pub const MAX_BATCH: usize = 10_000;
/// At most this many per-entry errors are listed in a 422 (the detail gives the total).
const MAX_LISTED_ERRORS: usize = 1_000;
/// The audit log's entity name.
const ENTITY: &str = "time_entry";

// ---------------------------------------------------------------------------------------------
// Representations

/// One entry of a batch. Give `hours`, or `clock_in` and `clock_out` (converted to hours; `date`
/// then defaults to the clock-in's local date).
#[derive(Debug, Clone, ToSchema)]
#[allow(dead_code)]
pub struct TimeEntryIn {
    /// The caller's id of the entry (unique per tenant; re-sending it is idempotent).
    #[schema(example = "pos-2025-01-06-0042")]
    pub external_id: String,
    pub employee_id: Uuid,
    /// `YYYY-MM-DD`.
    pub date: Option<NaiveDate>,
    /// Hours worked, 0 to 24, at most 6 decimals.
    #[schema(value_type = Option<String>, example = "8.5")]
    pub hours: Option<String>,
    /// RFC 3339 with offset, e.g. `2025-01-06T09:00:00-08:00`.
    pub clock_in: Option<DateTime<Utc>>,
    pub clock_out: Option<DateTime<Utc>>,
    /// The job worked (selects the employee's job rate).
    #[schema(example = "server")]
    pub job: Option<String>,
    /// An hourly rate for this entry; otherwise the employee's job rate or compensation applies.
    #[schema(value_type = Option<String>, example = "18.50")]
    pub rate: Option<String>,
    #[schema(value_type = Option<String>, example = "42.00")]
    pub cash_tips: Option<String>,
    #[schema(value_type = Option<String>, example = "118.25")]
    pub charged_tips: Option<String>,
}

/// `POST /time-entries/batch` body.
#[derive(Debug, Clone, ToSchema)]
#[allow(dead_code)]
pub struct BatchBody {
    /// 1 to 10,000 entries.
    pub entries: Vec<TimeEntryIn>,
}

/// What happened to one entry of a batch.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchItem {
    pub external_id: String,
    pub id: Uuid,
    /// `created`, `updated` or `unchanged`.
    pub result: &'static str,
}

/// The outcome of a batch; `items` are in the order of the request's entries.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchResult {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub items: Vec<BatchItem>,
}

/// A stored time entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimeEntryOut {
    pub id: Uuid,
    pub external_id: String,
    pub employee_id: Uuid,
    pub date: NaiveDate,
    #[schema(value_type = String, example = "8.5")]
    pub hours: String,
    pub clock_in: Option<DateTime<Utc>>,
    pub clock_out: Option<DateTime<Utc>>,
    pub job: Option<String>,
    #[schema(value_type = Option<String>, example = "18.50")]
    pub rate: Option<String>,
    #[schema(value_type = String, example = "0.00")]
    pub cash_tips: String,
    #[schema(value_type = String, example = "0.00")]
    pub charged_tips: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&TimeEntryRecord> for TimeEntryOut {
    fn from(r: &TimeEntryRecord) -> TimeEntryOut {
        let d = &r.data;
        TimeEntryOut {
            id: r.id,
            external_id: d.external_id.clone(),
            employee_id: d.employee_id,
            date: d.date,
            hours: d.hours.to_string(),
            clock_in: d.clock_in,
            clock_out: d.clock_out,
            job: d.job.clone(),
            rate: d.rate.map(|r| r.to_string()),
            cash_tips: d.cash_tips.to_string(),
            charged_tips: d.charged_tips.to_string(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimeEntryList {
    pub items: Vec<TimeEntryOut>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this employee's entries.
    pub employee_id: Option<String>,
    /// First date (YYYY-MM-DD), inclusive.
    pub from: Option<String>,
    /// Last date (YYYY-MM-DD), inclusive.
    pub to: Option<String>,
    /// Page size (default 50, at most 500).
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Validation of one entry (pure): every problem is collected, each naming `entries[i].field`.

const ENTRY_FIELDS: [&str; 10] = [
    "external_id",
    "employee_id",
    "date",
    "hours",
    "clock_in",
    "clock_out",
    "job",
    "rate",
    "cash_tips",
    "charged_tips",
];
/// Fields a client may echo back from a GET; accepted and ignored.
const READ_ONLY: [&str; 3] = ["id", "created_at", "updated_at"];

const MAX_RATE: Decimal = Decimal::from_parts(100_000, 0, 0, false, 0);
const MAX_TIPS: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);
const HOURS_PER_DAY: Decimal = Decimal::from_parts(24, 0, 0, false, 0);

struct EntryCheck<'a> {
    index: usize,
    errors: &'a mut Vec<FieldError>,
}

impl EntryCheck<'_> {
    fn err(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: format!("entries[{}].{field}", self.index),
            message: message.into(),
        });
    }

    /// A string field (`null` = absent).
    fn string<'v>(&mut self, m: &'v Map<String, Value>, k: &str) -> Option<&'v str> {
        match m.get(k) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => {
                self.err(k, "must be a string");
                None
            }
        }
    }

    /// A decimal string within `0..=max` with at most `dp` decimals.
    fn decimal(
        &mut self,
        m: &Map<String, Value>,
        k: &str,
        dp: u32,
        max: Decimal,
    ) -> Option<Decimal> {
        let v = m.get(k).filter(|v| !v.is_null())?;
        let Some(s) = v.as_str() else {
            self.err(k, "must be a decimal string, e.g. \"12.50\"");
            return None;
        };
        match parse_decimal(s.trim(), dp) {
            Err(msg) => {
                self.err(k, msg);
                None
            }
            Ok(d) if d < Decimal::ZERO => {
                self.err(k, "must not be negative");
                None
            }
            Ok(d) if d > max => {
                self.err(k, format!("must be at most {max}"));
                None
            }
            Ok(d) => Some(d),
        }
    }

    fn timestamp(&mut self, m: &Map<String, Value>, k: &str) -> Option<DateTime<FixedOffset>> {
        let s = self.string(m, k)?;
        match DateTime::parse_from_rfc3339(s.trim()) {
            Ok(t) => Some(t),
            Err(_) => {
                self.err(
                    k,
                    "must be an RFC 3339 timestamp with offset, e.g. 2025-01-06T09:00:00-08:00",
                );
                None
            }
        }
    }

    fn text(&mut self, k: &str, s: &str, max: usize) -> Option<String> {
        let n = s.chars().count();
        if n == 0 || n > max {
            self.err(k, format!("must be 1 to {max} characters"));
            return None;
        }
        if s.chars().any(char::is_control) {
            self.err(k, "must not contain control characters");
            return None;
        }
        Some(s.to_owned())
    }
}

/// Hours between two instants, rounded to 6 decimals (half away from zero).
fn hours_between(start: DateTime<FixedOffset>, end: DateTime<FixedOffset>) -> Decimal {
    let ms = (end - start).num_milliseconds();
    (Decimal::from(ms) / Decimal::from(3_600_000))
        .round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

fn date_in_range(d: NaiveDate) -> bool {
    (2000..=2100).contains(&d.year())
}

/// Validate entry `index`; problems are appended to `errors`.
fn parse_entry(index: usize, v: &Value, errors: &mut Vec<FieldError>) -> Option<TimeEntryData> {
    let before = errors.len();
    let mut c = EntryCheck { index, errors };
    let Value::Object(m) = v else {
        c.errors.push(FieldError {
            field: format!("entries[{index}]"),
            message: "must be a JSON object".into(),
        });
        return None;
    };
    for k in m.keys() {
        if !ENTRY_FIELDS.contains(&k.as_str()) && !READ_ONLY.contains(&k.as_str()) {
            c.err(k, "unknown field");
        }
    }

    let external_id = match c.string(m, "external_id") {
        None if m.get("external_id").is_none_or(Value::is_null) => {
            c.err("external_id", "is required");
            None
        }
        None => None,
        Some(s) => c.text("external_id", s, 200),
    };
    let employee_id = match c.string(m, "employee_id") {
        None if m.get("employee_id").is_none_or(Value::is_null) => {
            c.err("employee_id", "is required");
            None
        }
        None => None,
        Some(s) => match Uuid::parse_str(s.trim()) {
            Ok(id) => Some(id),
            Err(_) => {
                c.err("employee_id", "must be a UUID");
                None
            }
        },
    };
    let date = match c.string(m, "date") {
        None => None,
        Some(s) => match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
            Ok(d) if date_in_range(d) => Some(d),
            Ok(_) => {
                c.err("date", "must be between 2000-01-01 and 2100-12-31");
                None
            }
            Err(_) => {
                c.err("date", "must be a date YYYY-MM-DD");
                None
            }
        },
    };
    let date_bad = m.get("date").is_some_and(|v| !v.is_null()) && date.is_none();
    let hours_given = m.get("hours").is_some_and(|v| !v.is_null());
    let hours = c.decimal(m, "hours", 6, HOURS_PER_DAY);
    let clock_in = c.timestamp(m, "clock_in");
    let clock_out = c.timestamp(m, "clock_out");
    let in_given = m.get("clock_in").is_some_and(|v| !v.is_null());
    let out_given = m.get("clock_out").is_some_and(|v| !v.is_null());

    // Hours directly, or from the clock times.
    let mut clocks: (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = (None, None);
    let mut worked = hours;
    let mut date = date;
    match (in_given, out_given) {
        (false, false) => {
            if !hours_given {
                c.err("hours", "is required (or give clock_in and clock_out)");
            }
        }
        (true, false) => c.err("clock_out", "is required with clock_in"),
        (false, true) => c.err("clock_in", "is required with clock_out"),
        (true, true) => {
            if let (Some(i), Some(o)) = (clock_in, clock_out) {
                if o <= i {
                    c.err("clock_out", "must be after clock_in");
                } else if o - i > chrono::Duration::hours(24) {
                    c.err("clock_out", "must be at most 24 hours after clock_in");
                } else {
                    let h = hours_between(i, o);
                    match hours {
                        Some(given) if given != h => c.err(
                            "hours",
                            format!("{given} does not match clock_in/clock_out ({h} hours)"),
                        ),
                        _ => {}
                    }
                    worked = Some(h);
                    clocks = (Some(i.with_timezone(&Utc)), Some(o.with_timezone(&Utc)));
                    if date.is_none() && !date_bad {
                        let local = i.date_naive();
                        if date_in_range(local) {
                            date = Some(local);
                        } else {
                            c.err("clock_in", "must be between 2000-01-01 and 2100-12-31");
                        }
                    }
                }
            }
        }
    }
    if date.is_none() && !date_bad && !(in_given || out_given) {
        c.err("date", "is required");
    }

    let job = match c.string(m, "job") {
        None => None,
        Some(s) => {
            let t = s.trim();
            if t.is_empty() {
                None
            } else {
                c.text("job", t, 100)
            }
        }
    };
    let rate = c.decimal(m, "rate", 6, MAX_RATE);
    let cash_tips = c.decimal(m, "cash_tips", 2, MAX_TIPS);
    let charged_tips = c.decimal(m, "charged_tips", 2, MAX_TIPS);

    if c.errors.len() > before {
        return None;
    }
    Some(TimeEntryData {
        external_id: external_id?,
        employee_id: employee_id?,
        date: date?,
        hours: worked?,
        clock_in: clocks.0,
        clock_out: clocks.1,
        job,
        rate,
        cash_tips: cash_tips.unwrap_or(Decimal::ZERO),
        charged_tips: charged_tips.unwrap_or(Decimal::ZERO),
    })
}

/// A batch checked field by field: the valid entries with their index, and the errors of the
/// invalid ones (the caller adds the checks that need the database, then answers 422 if any).
struct ParsedBatch {
    valid: Vec<(usize, TimeEntryData)>,
    errors: Vec<FieldError>,
    total: usize,
}

/// Parse the body; a body of the wrong shape or size is a 422 right away.
fn parse_batch(body: Value) -> ApiResult<ParsedBatch> {
    let Value::Object(mut top) = body else {
        return Err(ApiError::validation("body", "must be a JSON object"));
    };
    if let Some(k) = top.keys().find(|k| k.as_str() != "entries") {
        return Err(ApiError::validation(k.as_str(), "unknown field"));
    }
    let entries = match top.remove("entries") {
        None | Some(Value::Null) => return Err(ApiError::validation("entries", "is required")),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(ApiError::validation("entries", "must be an array")),
    };
    if entries.is_empty() {
        return Err(ApiError::validation(
            "entries",
            "must contain at least one entry",
        ));
    }
    if entries.len() > MAX_BATCH {
        return Err(ApiError::validation(
            "entries",
            format!(
                "at most {MAX_BATCH} entries per batch (got {}); split the import",
                entries.len()
            ),
        ));
    }
    let mut errors = Vec::new();
    let mut valid = Vec::with_capacity(entries.len());
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(entries.len());
    for (i, v) in entries.iter().enumerate() {
        if let Some(d) = parse_entry(i, v, &mut errors) {
            if let Some(first) = seen.get(&d.external_id) {
                errors.push(FieldError {
                    field: format!("entries[{i}].external_id"),
                    message: format!("duplicates entries[{first}].external_id"),
                });
            } else {
                seen.insert(d.external_id.clone(), i);
                valid.push((i, d));
            }
        }
    }
    Ok(ParsedBatch {
        valid,
        errors,
        total: entries.len(),
    })
}

/// Index of `entries[17].hours` → 17 (for ordering errors).
fn error_index(f: &FieldError) -> usize {
    f.field
        .strip_prefix("entries[")
        .and_then(|r| r.split(']').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX)
}

fn batch_error(mut errors: Vec<FieldError>, total: usize) -> ApiError {
    errors.sort_by_key(error_index);
    let bad: HashSet<usize> = errors.iter().map(error_index).collect();
    let mut e = ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        "The request is not valid",
        format!(
            "{} of {total} entries are invalid; nothing was written (first: {}: {})",
            bad.len(),
            errors.first().map(|f| f.field.as_str()).unwrap_or(""),
            errors.first().map(|f| f.message.as_str()).unwrap_or(""),
        ),
    );
    errors.truncate(MAX_LISTED_ERRORS);
    e.errors = errors;
    e
}

fn request_id(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-request-id").and_then(|v| v.to_str().ok())
}

fn json<T: Serialize>(v: &T) -> ApiResult<Value> {
    serde_json::to_value(v).map_err(|e| ApiError::internal(e.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// Import time entries (all-or-nothing, idempotent by `external_id`).
#[utoipa::path(
    post,
    path = "/time-entries/batch",
    tag = "time",
    request_body = BatchBody,
    responses(
        (status = 200, description = "Counts of created, updated and unchanged entries", body = BatchResult),
        (status = 401, description = "No or invalid token"),
        (status = 403, description = "Role not allowed"),
        (status = 409, description = "A concurrent import wrote the same external_id; retry"),
        (status = 422, description = "Invalid entries (problem+json listing `entries[i].field` errors); nothing written")
    )
)]
pub async fn import_batch(
    State(state): State<SharedState>,
    auth: Auth,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteTime)?;
    let ParsedBatch {
        valid,
        mut errors,
        total,
    } = parse_batch(body)?;

    let tx = state.db.tenant_tx(auth.tenant_id).await?;

    // The employees must be this tenant's (others are invisible: same message as unknown ids)
    // and employed on the entry's date.
    let mut employee_ids: Vec<Uuid> = valid.iter().map(|(_, e)| e.employee_id).collect();
    employee_ids.sort_unstable();
    employee_ids.dedup();
    let spans = time_entries::employee_spans(&tx, &employee_ids).await?;
    for (i, e) in &valid {
        match spans.get(&e.employee_id) {
            None => errors.push(FieldError {
                field: format!("entries[{i}].employee_id"),
                message: "no such employee".into(),
            }),
            Some(s) if e.date < s.hire_date => errors.push(FieldError {
                field: format!("entries[{i}].date"),
                message: format!(
                    "{} is before the employee's hire date {}",
                    e.date, s.hire_date
                ),
            }),
            Some(s) if s.termination_date.is_some_and(|t| e.date > t) => errors.push(FieldError {
                field: format!("entries[{i}].date"),
                message: format!(
                    "{} is after the employee's termination date {}",
                    e.date,
                    s.termination_date.unwrap_or(e.date)
                ),
            }),
            Some(_) => {}
        }
    }
    if !errors.is_empty() {
        tx.rollback().await?;
        return Err(batch_error(errors, total));
    }

    let entries: Vec<TimeEntryData> = valid.into_iter().map(|(_, e)| e).collect();

    // Classify against what is stored.
    let external_ids: Vec<String> = entries.iter().map(|e| e.external_id.clone()).collect();
    let existing = time_entries::lock_by_external_ids(&tx, &external_ids).await?;
    let mut items = Vec::with_capacity(total);
    let mut to_insert: Vec<(Uuid, &TimeEntryData)> = Vec::new();
    let mut to_update: Vec<(Uuid, &TimeEntryData)> = Vec::new();
    let mut befores: HashMap<Uuid, &TimeEntryRecord> = HashMap::new();
    for e in &entries {
        let (id, result) = match existing.get(&e.external_id) {
            None => {
                let id = Uuid::new_v4();
                to_insert.push((id, e));
                (id, "created")
            }
            Some(old) if old.data.same_values(e) => (old.id, "unchanged"),
            Some(old) => {
                to_update.push((old.id, e));
                befores.insert(old.id, old);
                (old.id, "updated")
            }
        };
        items.push(BatchItem {
            external_id: e.external_id.clone(),
            id,
            result,
        });
    }

    let created = time_entries::insert_many(&tx, &to_insert).await?;
    let updated = time_entries::update_many(&tx, &to_update).await?;
    let mut events = Vec::with_capacity(created.len() + updated.len());
    for r in &created {
        events.push(BatchAudit {
            action: "create",
            entity_id: r.id.to_string(),
            before: None,
            after: Some(json(&TimeEntryOut::from(r))?),
        });
    }
    for r in &updated {
        events.push(BatchAudit {
            action: "update",
            entity_id: r.id.to_string(),
            before: match befores.get(&r.id) {
                Some(b) => Some(json(&TimeEntryOut::from(*b))?),
                None => None,
            },
            after: Some(json(&TimeEntryOut::from(r))?),
        });
    }
    time_entries::audit_many(&tx, auth.actor(), ENTITY, request_id(&headers), &events).await?;
    tx.commit().await?;

    let result = BatchResult {
        created: created.len(),
        updated: updated.len(),
        unchanged: total - created.len() - updated.len(),
        items,
    };
    Ok((StatusCode::OK, axum::Json(result)).into_response())
}

/// Cursor = `"<date>|<id>"` of the last item.
fn parse_cursor(c: Option<&str>) -> ApiResult<Option<(NaiveDate, Uuid)>> {
    let Some(c) = c else { return Ok(None) };
    let key = decode_cursor(c)?;
    let bad = || ApiError::validation("cursor", "is not a cursor returned by this API");
    let (d, id) = key.split_once('|').ok_or_else(bad)?;
    let d = NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| bad())?;
    let id = Uuid::parse_str(id).map_err(|_| bad())?;
    Ok(Some((d, id)))
}

fn query_date(field: &str, v: Option<&str>) -> ApiResult<Option<NaiveDate>> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ApiError::validation(field, "must be a date YYYY-MM-DD")),
    }
}

/// List time entries by date (cursor-paginated), optionally for one employee and a date range.
#[utoipa::path(
    get,
    path = "/time-entries",
    tag = "time",
    params(ListParams),
    responses(
        (status = 200, description = "A page of time entries, ordered by date", body = TimeEntryList),
        (status = 401, description = "No or invalid token"),
        (status = 403, description = "Role not allowed"),
        (status = 422, description = "Bad filter, limit or cursor")
    )
)]
pub async fn list_entries(
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
    let employee_id = match q
        .employee_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(s) => Some(
            Uuid::parse_str(s)
                .map_err(|_| ApiError::validation("employee_id", "must be a UUID"))?,
        ),
    };
    let from = query_date("from", q.from.as_deref())?;
    let to = query_date("to", q.to.as_deref())?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(ApiError::validation("to", "must not be before from"));
    }
    let after = parse_cursor(q.cursor.as_deref())?;
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let rows = time_entries::list(
        &tx,
        &TimeEntryQuery {
            employee_id,
            from,
            to,
            after,
            limit: n + 1,
        },
    )
    .await?;
    tx.commit().await?;
    let p: Page<TimeEntryOut> = page(rows.iter().map(TimeEntryOut::from).collect(), n, |e| {
        format!("{}|{}", e.date.format("%Y-%m-%d"), e.id)
    });
    Ok(axum::Json(p).into_response())
}

/// Read one time entry.
#[utoipa::path(
    get,
    path = "/time-entries/{id}",
    tag = "time",
    params(("id" = Uuid, Path, description = "Time entry id")),
    responses(
        (status = 200, description = "The entry (ETag header)", body = TimeEntryOut),
        (status = 401, description = "No or invalid token"),
        (status = 403, description = "Role not allowed"),
        (status = 404, description = "No such entry in this tenant")
    )
)]
pub async fn get_entry(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    auth.require(Permission::Read)?;
    let id = parse_id(&id)?;
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let r = time_entries::get(&tx, id).await?;
    tx.commit().await?;
    Ok(with_etag(
        StatusCode::OK,
        r.version,
        &TimeEntryOut::from(&r),
    ))
}

/// Delete a time entry (audited). Honors `If-Match`.
#[utoipa::path(
    delete,
    path = "/time-entries/{id}",
    tag = "time",
    params(
        ("id" = Uuid, Path, description = "Time entry id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the entry read")
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or invalid token"),
        (status = 403, description = "Role not allowed"),
        (status = 404, description = "No such entry in this tenant"),
        (status = 412, description = "Stale If-Match")
    )
)]
pub async fn delete_entry(
    State(state): State<SharedState>,
    auth: Auth,
    if_match: IfMatch,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteTime)?;
    let id = parse_id(&id)?;
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let current = time_entries::get_for_update(&tx, id).await?;
    if_match.check(&of_version(current.version))?;
    let deleted = time_entries::delete(&tx, id).await?;
    audit::record(
        &tx,
        &AuditRecord {
            actor: auth.actor(),
            action: "delete",
            entity: ENTITY,
            entity_id: Some(id.to_string()),
            request_id: request_id(&headers),
            before: Some(json(&TimeEntryOut::from(&deleted))?),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rust_decimal::dec;
    use serde_json::json;

    fn one(v: Value) -> Result<TimeEntryData, Vec<FieldError>> {
        let mut errors = Vec::new();
        match parse_entry(3, &v, &mut errors) {
            Some(d) if errors.is_empty() => Ok(d),
            _ => Err(errors),
        }
    }

    fn fields(r: Result<TimeEntryData, Vec<FieldError>>) -> Vec<String> {
        r.err().unwrap().into_iter().map(|e| e.field).collect()
    }

    const EMP: &str = "6f1c1a8e-8d0e-4b7e-9a44-2f0d3c1b2a10";

    #[test]
    fn hours_entry_parses_with_defaults() {
        let d = one(
            json!({"external_id": "a", "employee_id": EMP, "date": "2025-01-06", "hours": "8.5"}),
        )
        .unwrap();
        assert_eq!(d.hours, dec!(8.5));
        assert_eq!(d.date, NaiveDate::from_ymd_opt(2025, 1, 6).unwrap());
        assert_eq!(d.cash_tips, Decimal::ZERO);
        assert_eq!(d.rate, None);
        assert_eq!(d.clock_in, None);
    }

    #[test]
    fn clock_times_convert_to_hours_and_local_date() {
        let d = one(json!({"external_id": "a", "employee_id": EMP,
            "clock_in": "2025-01-06T22:00:00-08:00", "clock_out": "2025-01-07T05:20:00-08:00",
            "cash_tips": "12.50"}))
        .unwrap();
        assert_eq!(d.hours, dec!(7.333333));
        // The local date of the clock-in, not the UTC one (2025-01-07T06:00Z).
        assert_eq!(d.date, NaiveDate::from_ymd_opt(2025, 1, 6).unwrap());
        assert_eq!(d.cash_tips, dec!(12.50));
        assert_eq!(
            d.clock_in.unwrap().to_rfc3339(),
            "2025-01-07T06:00:00+00:00"
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let f = fields(one(
            json!({"external_id": "", "employee_id": "nope", "date": "2025-13-01",
            "hours": "-1", "rate": 18, "cash_tips": "1.005", "extra": true}),
        ));
        for want in [
            "entries[3].extra",
            "entries[3].external_id",
            "entries[3].employee_id",
            "entries[3].date",
            "entries[3].hours",
            "entries[3].rate",
            "entries[3].cash_tips",
        ] {
            assert!(f.contains(&want.to_owned()), "{want} missing from {f:?}");
        }
    }

    #[test]
    fn clock_rules() {
        let base = |i: &str, o: &str| json!({"external_id": "a", "employee_id": EMP, "clock_in": i, "clock_out": o});
        assert_eq!(
            fields(one(base("2025-01-06T09:00:00Z", "2025-01-06T08:00:00Z"))),
            vec!["entries[3].clock_out"]
        );
        assert_eq!(
            fields(one(base("2025-01-06T09:00:00Z", "2025-01-07T09:30:00Z"))),
            vec!["entries[3].clock_out"]
        );
        assert_eq!(
            fields(one(
                json!({"external_id": "a", "employee_id": EMP, "clock_in": "2025-01-06T09:00:00Z"})
            )),
            vec!["entries[3].clock_out"]
        );
        // Hours that disagree with the clock times.
        let mut v = base("2025-01-06T09:00:00Z", "2025-01-06T17:00:00Z");
        v["hours"] = json!("7");
        assert_eq!(fields(one(v.clone())), vec!["entries[3].hours"]);
        v["hours"] = json!("8.00");
        assert_eq!(one(v).unwrap().hours, dec!(8));
        // Neither hours nor clock times; more than 24 hours.
        assert_eq!(
            fields(one(
                json!({"external_id": "a", "employee_id": EMP, "date": "2025-01-06"})
            )),
            vec!["entries[3].hours"]
        );
        assert_eq!(
            fields(one(
                json!({"external_id": "a", "employee_id": EMP, "date": "2025-01-06", "hours": "24.5"})
            )),
            vec!["entries[3].hours"]
        );
    }

    #[test]
    fn batch_limits_and_duplicates() {
        let e = |id: &str| json!({"external_id": id, "employee_id": EMP, "date": "2025-01-06", "hours": "8"});
        let err = parse_batch(json!({"entries": []})).err().unwrap();
        assert_eq!(err.errors[0].field, "entries");
        let many: Vec<Value> = (0..=MAX_BATCH).map(|i| e(&i.to_string())).collect();
        let err = parse_batch(json!({ "entries": many })).err().unwrap();
        assert_eq!(err.errors[0].field, "entries");
        let p = parse_batch(json!({"entries": [e("x"), e("y"), e("x")]})).unwrap();
        assert_eq!(p.total, 3);
        assert_eq!(p.valid.len(), 2);
        assert_eq!(p.errors.len(), 1);
        assert_eq!(p.errors[0].field, "entries[2].external_id");
        assert_eq!(p.errors[0].message, "duplicates entries[0].external_id");
        let p = parse_batch(json!({"entries": [e("x"), e("y")]})).unwrap();
        assert_eq!((p.valid.len(), p.errors.len()), (2, 0));
    }
}
