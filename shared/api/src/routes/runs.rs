//! Payroll runs: `POST /payroll-runs`, `POST /payroll-runs/{id}/calculate`,
//! `GET /payroll-runs/{id}` (status, progress, totals), `GET /payroll-runs/{id}/items[/{employee_id}]`,
//! `POST /payroll-runs/{id}/approve` (`If-Match: <calc_hash>`), `POST /payroll-runs/{id}/pay`,
//! `POST /payroll-runs/{id}/void`, `GET /payroll-runs/{id}/register` (JSON or CSV). Pay stubs
//! (`/paystubs`) are the `paystubs` group ([`super::paystubs`]).
//!
//! The work is in `payroll_runs`; calculation is chunked onto a job queue. The queue of a state is
//! the one installed with [`install_queue`] (`payroll serve` with `QUEUE_URL`), else the one
//! `QUEUE_URL` names (the `api-runs` function: SQS), else what the router's [`NoQueue`] says:
//! an in-process queue with local workers, created on first use ([`router`]: `payroll serve`,
//! tests), or 503 ([`function_router`]: the `api-runs` function, which then does not link the
//! calculation engine at all).

use crate::auth::{Auth, Permission};
use crate::error::{ApiError, ApiResult};
use crate::etag::with_etag;
use crate::extract::{ApiJson, ApiQuery, IfMatch, parse_id};
use crate::pagination::{decode_cursor, limit, page};
use crate::state::{AppState, SharedState};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use payroll_domain::request::EarningInput;
use payroll_domain::runs::RunType;
use payroll_queue::{InProcessQueue, JobQueue};
use payroll_runs::engine::{self, RunError};
use payroll_runs::{Run, RunItem};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// OpenAPI description of this group's routes (merged into `/openapi.json`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(create_run, list_runs, get_run, calculate, approve, pay, void, list_items, get_item,
          register),
    components(schemas(CreateRunBody, RunOut, Progress, Totals, RunList, ItemOut, ItemList)),
    tags((name = "payroll-runs", description = "Payroll runs: create, calculate (chunked, queued), approve, pay, void, register"))
)]
pub struct ApiDoc;

/// The group with an in-process queue and workers when no queue is installed or configured.
pub fn router() -> Router<SharedState> {
    routes::<LocalWorkers>()
}

/// The group as the `api-runs` function serves it: calculation needs the queue `QUEUE_URL` names
/// (or an installed one) and answers 503 without it. A Lambda execution environment is frozen
/// between invocations, so a worker inside it would stall the run; and without that fallback
/// the function's binary does not contain the calculation engine.
pub fn function_router() -> Router<SharedState> {
    routes::<QueueRequired>()
}

fn routes<F: NoQueue>() -> Router<SharedState> {
    Router::new()
        .route("/payroll-runs", post(create_run).get(list_runs))
        .route("/payroll-runs/{id}", get(get_run))
        .route("/payroll-runs/{id}/calculate", post(calculate::<F>))
        .route("/payroll-runs/{id}/approve", post(approve))
        .route("/payroll-runs/{id}/pay", post(pay))
        .route("/payroll-runs/{id}/void", post(void))
        .route("/payroll-runs/{id}/items", get(list_items))
        .route("/payroll-runs/{id}/items/{employee_id}", get(get_item))
        .route("/payroll-runs/{id}/register", get(register))
}

// ---------------------------------------------------------------------------------------------
// The job queue of each application state

type QueueSlot = (Weak<AppState>, Arc<dyn JobQueue>);

fn queues() -> &'static Mutex<Vec<QueueSlot>> {
    static QUEUES: OnceLock<Mutex<Vec<QueueSlot>>> = OnceLock::new();
    QUEUES.get_or_init(|| Mutex::new(Vec::new()))
}

/// Use `queue` for the runs calculated through `state` (e.g. Redis Streams consumed by
/// `payroll worker` processes). Without it, an in-process queue and worker are used.
pub fn install_queue(state: &SharedState, queue: Arc<dyn JobQueue>) {
    if let Ok(mut q) = queues().lock() {
        q.retain(|(w, _)| w.strong_count() > 0 && !std::ptr::eq(w.as_ptr(), Arc::as_ptr(state)));
        q.push((Arc::downgrade(state), queue));
    }
}

/// Employees per queued chunk (`PAYROLL_RUN_CHUNK_SIZE`, default 500).
fn chunk_size() -> usize {
    std::env::var("PAYROLL_RUN_CHUNK_SIZE")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| (1..=10_000).contains(n))
        .unwrap_or(engine::DEFAULT_CHUNK_SIZE)
}

fn installed_queue(state: &SharedState) -> Result<Option<Arc<dyn JobQueue>>, ApiError> {
    let mut q = queues()
        .lock()
        .map_err(|_| ApiError::internal("queue registry poisoned"))?;
    q.retain(|(w, _)| w.strong_count() > 0);
    Ok(q.iter()
        .find(|(w, _)| std::ptr::eq(w.as_ptr(), Arc::as_ptr(state)))
        .map(|(_, queue)| queue.clone()))
}

/// What calculation uses when no queue is installed and `QUEUE_URL` names none (a type, not a
/// value, so that a router without the in-process fallback does not link it).
pub trait NoQueue: Send + Sync + 'static {
    fn fallback(state: &SharedState) -> Result<Arc<dyn JobQueue>, ApiError>;
}

/// An in-process queue and as many local workers as cores (`payroll serve` without `QUEUE_URL`).
pub enum LocalWorkers {}

/// No fallback: 503 naming `QUEUE_URL`.
pub enum QueueRequired {}

impl NoQueue for LocalWorkers {
    fn fallback(state: &SharedState) -> Result<Arc<dyn JobQueue>, ApiError> {
        let queue: Arc<dyn JobQueue> = InProcessQueue::new();
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        payroll_runs::worker::spawn_in_process(
            state.db.clone(),
            queue.clone(),
            payroll_runs::worker::WorkerConfig {
                concurrency: workers,
                ..Default::default()
            },
        );
        Ok(queue)
    }
}

impl NoQueue for QueueRequired {
    fn fallback(_: &SharedState) -> Result<Arc<dyn JobQueue>, ApiError> {
        Err(ApiError::unavailable(
            "no job queue: set QUEUE_URL to the SQS queue (or Redis Streams) the run workers consume",
        ))
    }
}

/// The installed queue; else the one `QUEUE_URL` names (SQS for the Lambda functions, Redis
/// Streams on Kubernetes), connected once per state; else `F`'s fallback.
async fn queue_for<F: NoQueue>(state: &SharedState) -> Result<Arc<dyn JobQueue>, ApiError> {
    if let Some(queue) = installed_queue(state)? {
        return Ok(queue);
    }
    let external = payroll_queue::from_env(std::time::Duration::from_secs(60))
        .await
        .map_err(|e| ApiError::unavailable(format!("job queue (QUEUE_URL): {e}")))?;
    let mut q = queues()
        .lock()
        .map_err(|_| ApiError::internal("queue registry poisoned"))?;
    if let Some((_, queue)) = q
        .iter()
        .find(|(w, _)| std::ptr::eq(w.as_ptr(), Arc::as_ptr(state)))
    {
        return Ok(queue.clone());
    }
    let queue = match external {
        Some(queue) => queue,
        None => F::fallback(state)?,
    };
    q.push((Arc::downgrade(state), queue.clone()));
    Ok(queue)
}

// ---------------------------------------------------------------------------------------------
// Representations

/// `POST /payroll-runs` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRunBody {
    pub pay_schedule_id: Uuid,
    /// The first day of one of the schedule's pay periods.
    pub period_start: NaiveDate,
    /// `regular` (default) or `off_cycle`.
    #[serde(rename = "type", default)]
    #[schema(example = "regular")]
    pub kind: Option<String>,
    /// Off-cycle only: a pay date other than the period's.
    #[serde(default)]
    pub pay_date: Option<NaiveDate>,
    /// Off-cycle only: earnings by employee id, e.g. `{"<id>": [{"type": "bonus", "amount": "500.00"}]}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub earnings: BTreeMap<Uuid, Vec<EarningInput>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Progress {
    pub total: i32,
    pub done: i32,
    pub failed: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Totals {
    #[schema(value_type = String, example = "12345.67")]
    pub gross_pay: String,
    #[schema(value_type = String)]
    pub net_pay: String,
    #[schema(value_type = String)]
    pub employee_taxes: String,
    #[schema(value_type = String)]
    pub employer_taxes: String,
}

fn money(d: Decimal) -> String {
    payroll_domain::money::cents(d).to_string()
}

fn money_opt(d: Option<Decimal>) -> Option<String> {
    d.map(money)
}

/// A payroll run.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunOut {
    pub id: Uuid,
    /// `regular`, `off_cycle` or `correction`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `draft`, `calculating`, `calculated`, `approved`, `paid`, `failed` or `voided`.
    pub status: &'static str,
    pub pay_schedule_id: Uuid,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub pay_date: NaiveDate,
    /// SHA-256 over the inputs and results (send it as `If-Match` to approve).
    pub calc_hash: Option<String>,
    pub progress: Progress,
    pub totals: Totals,
    /// Correction runs: the paid run this one reverses.
    pub reverses_run_id: Option<Uuid>,
    /// The reversal of this run, if it was voided after payment.
    pub reversed_by_run_id: Option<Uuid>,
    pub error: Option<String>,
    #[schema(value_type = Object)]
    pub earnings: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub calculated_at: Option<DateTime<Utc>>,
    pub approved_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
}

impl From<&Run> for RunOut {
    fn from(r: &Run) -> RunOut {
        RunOut {
            id: r.id,
            kind: r.kind.as_str(),
            status: r.status.as_str(),
            pay_schedule_id: r.pay_schedule_id,
            period_start: r.period_start,
            period_end: r.period_end,
            pay_date: r.pay_date,
            calc_hash: r.calc_hash.clone(),
            progress: Progress {
                total: r.total,
                done: r.done,
                failed: r.failed,
            },
            totals: Totals {
                gross_pay: money(r.gross_pay),
                net_pay: money(r.net_pay),
                employee_taxes: money(r.employee_taxes),
                employer_taxes: money(r.employer_taxes),
            },
            reverses_run_id: r.reverses_run_id,
            reversed_by_run_id: r.reversed_by_run_id,
            error: r.error.clone(),
            earnings: r.earnings.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            calculated_at: r.calculated_at,
            approved_at: r.approved_at,
            paid_at: r.paid_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunList {
    pub items: Vec<RunOut>,
    pub next_cursor: Option<String>,
}

/// One employee's result in a run.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemOut {
    pub employee_id: Uuid,
    pub first_name: String,
    pub last_name: String,
    /// `pending`, `calculated` or `failed`.
    pub status: String,
    #[schema(value_type = Option<String>)]
    pub gross_pay: Option<String>,
    #[schema(value_type = Option<String>)]
    pub net_pay: Option<String>,
    #[schema(value_type = Option<String>)]
    pub employee_taxes: Option<String>,
    #[schema(value_type = Option<String>)]
    pub employer_taxes: Option<String>,
    /// Why the employee failed: `{"field": ..., "message": ...}`.
    #[schema(value_type = Option<Object>)]
    pub error: Option<Value>,
    /// Single item only: the PaycheckRequest built from the database.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub request: Option<Value>,
    /// Single item only: the PaycheckResult with its full trace.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
}

impl From<RunItem> for ItemOut {
    fn from(i: RunItem) -> ItemOut {
        ItemOut {
            employee_id: i.employee_id,
            first_name: i.first_name,
            last_name: i.last_name,
            status: i.status,
            gross_pay: money_opt(i.gross_pay),
            net_pay: money_opt(i.net_pay),
            employee_taxes: money_opt(i.employee_taxes),
            employer_taxes: money_opt(i.employer_taxes),
            error: i.error,
            request: i.request,
            result: i.result,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemList {
    pub items: Vec<ItemOut>,
    pub next_cursor: Option<String>,
}

fn run_error(e: RunError) -> ApiError {
    match e {
        RunError::Store(s) => ApiError::from(s),
        RunError::StaleHash { calc_hash } => ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "stale_calc_hash",
            "The run changed",
            "If-Match is not the run's current calc_hash; re-read the run",
        )
        .with_header(header::ETAG, &format!("\"{calc_hash}\"")),
        RunError::InputsChanged { .. } => ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "inputs_changed",
            "The run's inputs changed",
            "time entries, rates, tax profiles, deductions or employees changed since the run was calculated; calculate it again",
        ),
        RunError::Queue(q) => ApiError::unavailable(format!("job queue: {q}")),
    }
}

fn run_response(status: StatusCode, run: &Run) -> Response {
    with_etag(status, run.version, &RunOut::from(run))
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// Create a draft run for a pay schedule's period.
#[utoipa::path(post, path = "/payroll-runs", tag = "payroll-runs", request_body = CreateRunBody,
    responses((status = 201, body = RunOut), (status = 401), (status = 403),
              (status = 409, description = "An active regular run exists for this period"),
              (status = 422, description = "Invalid body (names the field)")))]
pub async fn create_run(
    State(state): State<SharedState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateRunBody>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteOrg)?;
    let kind = match body.kind.as_deref() {
        None => RunType::Regular,
        Some(s) => RunType::parse(s)
            .ok_or_else(|| ApiError::validation("type", "must be one of regular, off_cycle"))?,
    };
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let run = engine::create_run(
        &tx,
        &engine::NewRun {
            pay_schedule_id: body.pay_schedule_id,
            period_start: body.period_start,
            kind,
            pay_date: body.pay_date,
            earnings: body.earnings,
        },
        auth.actor(),
    )
    .await
    .map_err(run_error)?;
    tx.commit().await?;
    Ok(run_response(StatusCode::CREATED, &run))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunListParams {
    pub pay_schedule_id: Option<Uuid>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Runs, newest first.
#[utoipa::path(get, path = "/payroll-runs", tag = "payroll-runs", params(RunListParams),
    responses((status = 200, body = RunList), (status = 401), (status = 403)))]
pub async fn list_runs(
    State(state): State<SharedState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<RunListParams>,
) -> ApiResult<Response> {
    auth.require(Permission::Read)?;
    let n = limit(
        q.limit,
        state.settings.default_page_size,
        state.settings.max_page_size,
    )?;
    let before = match q.cursor.as_deref() {
        None => None,
        Some(c) => {
            let key = decode_cursor(c)?;
            let bad = || ApiError::validation("cursor", "is not a cursor returned by this API");
            let (t, i) = key.split_once('|').ok_or_else(bad)?;
            let t = DateTime::parse_from_rfc3339(t)
                .map_err(|_| bad())?
                .with_timezone(&Utc);
            Some((t, Uuid::parse_str(i).map_err(|_| bad())?))
        }
    };
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let runs = engine::list_runs(&tx, q.pay_schedule_id, before, n + 1).await?;
    tx.commit().await?;
    let p = page(runs, n, |r| {
        format!("{}|{}", r.created_at.to_rfc3339(), r.id)
    });
    Ok(axum::Json(RunList {
        items: p.items.iter().map(RunOut::from).collect(),
        next_cursor: p.next_cursor,
    })
    .into_response())
}

/// A run: status (lower case), progress and totals.
#[utoipa::path(get, path = "/payroll-runs/{id}", tag = "payroll-runs",
    responses((status = 200, body = RunOut), (status = 401), (status = 403), (status = 404)))]
pub async fn get_run(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    auth.require(Permission::Read)?;
    let id = parse_id(&id)?;
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let run = engine::get_run(&tx, id).await?;
    tx.commit().await?;
    Ok(run_response(StatusCode::OK, &run))
}

/// Start (or restart) the calculation: CALCULATING, chunks enqueued; poll `GET /payroll-runs/{id}`.
#[utoipa::path(post, path = "/payroll-runs/{id}/calculate", tag = "payroll-runs",
    responses((status = 202, body = RunOut), (status = 401), (status = 403), (status = 404),
              (status = 409, description = "Not calculable in its status"),
              (status = 503, description = "The job queue is unavailable")))]
pub async fn calculate<F: NoQueue>(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteOrg)?;
    let id = parse_id(&id)?;
    let queue = queue_for::<F>(&state).await?;
    let run = engine::calculate(
        &state.db,
        queue.as_ref(),
        auth.tenant_id,
        id,
        chunk_size(),
        auth.actor(),
    )
    .await
    .map_err(run_error)?;
    Ok(run_response(StatusCode::ACCEPTED, &run))
}

/// Approve exactly what was calculated: `If-Match: <calc_hash>`; 412 when the hash is stale or
/// any input changed since calculation.
#[utoipa::path(post, path = "/payroll-runs/{id}/approve", tag = "payroll-runs",
    params(("If-Match" = String, Header, description = "The run's calc_hash")),
    responses((status = 200, body = RunOut), (status = 401), (status = 403), (status = 404),
              (status = 409, description = "Not calculated, or employees failed"),
              (status = 412, description = "Stale calc_hash or inputs changed"),
              (status = 422, description = "If-Match missing")))]
pub async fn approve(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    auth.require(Permission::WriteOrg)?;
    let id = parse_id(&id)?;
    let run = engine::approve(
        &state.db,
        auth.tenant_id,
        id,
        if_match.0.as_deref(),
        auth.actor(),
    )
    .await
    .map_err(run_error)?;
    Ok(run_response(StatusCode::OK, &run))
}

/// Pay an approved run: PAID, pay stubs final and YTD advanced in one transaction. Paying a paid
/// run again answers 200 and changes nothing.
#[utoipa::path(post, path = "/payroll-runs/{id}/pay", tag = "payroll-runs",
    responses((status = 200, body = RunOut), (status = 401), (status = 403), (status = 404),
              (status = 409, description = "Not approved")))]
pub async fn pay(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteOrg)?;
    let id = parse_id(&id)?;
    let (run, _) = engine::pay(&state.db, auth.tenant_id, id, auth.actor())
        .await
        .map_err(run_error)?;
    Ok(run_response(StatusCode::OK, &run))
}

/// Void a run. Not yet paid: VOIDED. Paid: a linked correction run reversing it is created (201).
#[utoipa::path(post, path = "/payroll-runs/{id}/void", tag = "payroll-runs",
    responses((status = 200, description = "The voided run", body = RunOut),
              (status = 201, description = "The reversal run of a paid run", body = RunOut),
              (status = 401), (status = 403), (status = 404), (status = 409)))]
pub async fn void(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    auth.require(Permission::WriteOrg)?;
    let id = parse_id(&id)?;
    let run = engine::void(&state.db, auth.tenant_id, id, auth.actor())
        .await
        .map_err(run_error)?;
    let status = if run.id == id {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(run_response(status, &run))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemParams {
    /// `pending`, `calculated` or `failed`.
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Per-employee results (with errors), by employee id.
#[utoipa::path(get, path = "/payroll-runs/{id}/items", tag = "payroll-runs", params(ItemParams),
    responses((status = 200, body = ItemList), (status = 401), (status = 403), (status = 404)))]
pub async fn list_items(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ItemParams>,
) -> ApiResult<Response> {
    auth.require(Permission::Read)?;
    let id = parse_id(&id)?;
    let n = limit(
        q.limit,
        state.settings.default_page_size,
        state.settings.max_page_size,
    )?;
    if let Some(s) = q.status.as_deref()
        && !matches!(s, "pending" | "calculated" | "failed")
    {
        return Err(ApiError::validation(
            "status",
            "must be pending, calculated or failed",
        ));
    }
    let after =
        match q.cursor.as_deref() {
            None => None,
            Some(c) => Some(Uuid::parse_str(&decode_cursor(c)?).map_err(|_| {
                ApiError::validation("cursor", "is not a cursor returned by this API")
            })?),
        };
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    engine::get_run(&tx, id).await?;
    let rows = engine::list_items(&tx, id, q.status.as_deref(), after, Some(n + 1)).await?;
    tx.commit().await?;
    let p = page(rows, n, |i| i.employee_id.to_string());
    Ok(axum::Json(ItemList {
        items: p.items.into_iter().map(ItemOut::from).collect(),
        next_cursor: p.next_cursor,
    })
    .into_response())
}

/// One employee's result with the request built for them and the full trace.
#[utoipa::path(get, path = "/payroll-runs/{id}/items/{employee_id}", tag = "payroll-runs",
    responses((status = 200, body = ItemOut), (status = 401), (status = 403), (status = 404)))]
pub async fn get_item(
    State(state): State<SharedState>,
    auth: Auth,
    Path((id, employee_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    auth.require(Permission::Read)?;
    let id = parse_id(&id)?;
    let employee_id = parse_id(&employee_id)?;
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let item = engine::get_item(&tx, id, employee_id).await?;
    tx.commit().await?;
    Ok(axum::Json(ItemOut::from(item)).into_response())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The payroll register: one line per employee with gross, taxes and net, and the run's totals.
/// JSON, or CSV with `Accept: text/csv`.
#[utoipa::path(get, path = "/payroll-runs/{id}/register", tag = "payroll-runs",
    responses((status = 200, description = "JSON {run, lines} or text/csv"),
              (status = 401), (status = 403), (status = 404)))]
pub async fn register(
    State(state): State<SharedState>,
    auth: Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    auth.require(Permission::Read)?;
    let id = parse_id(&id)?;
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let run = engine::get_run(&tx, id).await?;
    let items = engine::list_items(&tx, id, None, None, None).await?;
    tx.commit().await?;
    let wants_csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/csv"));
    if wants_csv {
        let mut out = String::from(
            "employee_id,last_name,first_name,status,gross_pay,employee_taxes,net_pay,employer_taxes,error\n",
        );
        for i in &items {
            let err = i
                .error
                .as_ref()
                .and_then(|e| e.get("message"))
                .and_then(Value::as_str)
                .unwrap_or("");
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{}\n",
                i.employee_id,
                csv_field(&i.last_name),
                csv_field(&i.first_name),
                i.status,
                money_opt(i.gross_pay).unwrap_or_default(),
                money_opt(i.employee_taxes).unwrap_or_default(),
                money_opt(i.net_pay).unwrap_or_default(),
                money_opt(i.employer_taxes).unwrap_or_default(),
                csv_field(err),
            ));
        }
        out.push_str(&format!(
            "TOTAL,,,{},{},{},{},{},\n",
            run.status.as_str(),
            money(run.gross_pay),
            money(run.employee_taxes),
            money(run.net_pay),
            money(run.employer_taxes)
        ));
        let mut resp = (StatusCode::OK, out).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        return Ok(resp);
    }
    let body = serde_json::json!({
        "run": RunOut::from(&run),
        "lines": items.into_iter().map(ItemOut::from).collect::<Vec<_>>(),
    });
    Ok(axum::Json(body).into_response())
}
