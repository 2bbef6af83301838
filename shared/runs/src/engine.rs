//! The run lifecycle against PostgreSQL. Every function runs in one tenant-scoped transaction
//! (row-level security) and records an audit event with its change.

use crate::load::{self, BuildError, RunContext};
use crate::{run_hash, sha256_hex};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use payroll_domain::request::{EarningInput, PaycheckRequest};
use payroll_domain::response::Payer;
use payroll_domain::runs::{self as rules, RunAction, RunStatus, RunType};
use payroll_queue::{Chunk, JobQueue, QueueError};
use payroll_store::audit::{self, AuditRecord};
use payroll_store::{Db, StoreError, TenantTx};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use tokio_postgres::Row;
use uuid::Uuid;

/// Errors of the run operations.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Approval found inputs (time entries, rates, W-4s, employees...) changed since calculation.
    #[error("the run's inputs changed since it was calculated; calculate it again")]
    InputsChanged { calc_hash: String },
    /// `If-Match` is not the run's current calc_hash.
    #[error("If-Match does not match the run's calc_hash")]
    StaleHash { calc_hash: String },
    #[error("job queue: {0}")]
    Queue(#[from] QueueError),
}

impl From<tokio_postgres::Error> for RunError {
    fn from(e: tokio_postgres::Error) -> Self {
        RunError::Store(StoreError::from(e))
    }
}

fn conflict(m: impl Into<String>) -> RunError {
    RunError::Store(StoreError::Conflict(m.into()))
}

fn invalid(field: &str, m: impl Into<String>) -> RunError {
    RunError::Store(StoreError::invalid(field, m))
}

/// A payroll run as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub id: Uuid,
    pub pay_schedule_id: Uuid,
    pub kind: RunType,
    pub status: RunStatus,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub pay_date: NaiveDate,
    pub earnings: Value,
    pub calc_attempt: i32,
    pub inputs_hash: Option<String>,
    pub calc_hash: Option<String>,
    pub total: i32,
    pub done: i32,
    pub failed: i32,
    pub gross_pay: Decimal,
    pub net_pay: Decimal,
    pub employee_taxes: Decimal,
    pub employer_taxes: Decimal,
    pub reverses_run_id: Option<Uuid>,
    pub reversed_by_run_id: Option<Uuid>,
    pub error: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub calculated_at: Option<DateTime<Utc>>,
    pub approved_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
}

const RUN_COLS: &str = "r.id, r.pay_schedule_id, r.type, r.status, r.period_start, r.period_end,
    r.pay_date, r.earnings, r.calc_attempt, r.inputs_hash, r.calc_hash, r.total, r.done, r.failed,
    r.gross_pay, r.net_pay, r.employee_taxes, r.employer_taxes, r.reverses_run_id,
    (SELECT x.id FROM payroll_runs x WHERE x.reverses_run_id = r.id), r.error, r.version,
    r.created_at, r.updated_at, r.calculated_at, r.approved_at, r.paid_at";

fn run_from_row(r: &Row) -> Result<Run, StoreError> {
    let kind: String = r.try_get(2)?;
    let status: String = r.try_get(3)?;
    Ok(Run {
        id: r.try_get(0)?,
        pay_schedule_id: r.try_get(1)?,
        kind: RunType::parse(&kind)
            .ok_or_else(|| StoreError::Config(format!("stored run type {kind:?}")))?,
        status: RunStatus::parse(&status)
            .ok_or_else(|| StoreError::Config(format!("stored run status {status:?}")))?,
        period_start: r.try_get(4)?,
        period_end: r.try_get(5)?,
        pay_date: r.try_get(6)?,
        earnings: r.try_get(7)?,
        calc_attempt: r.try_get(8)?,
        inputs_hash: r.try_get(9)?,
        calc_hash: r.try_get(10)?,
        total: r.try_get(11)?,
        done: r.try_get(12)?,
        failed: r.try_get(13)?,
        gross_pay: r.try_get(14)?,
        net_pay: r.try_get(15)?,
        employee_taxes: r.try_get(16)?,
        employer_taxes: r.try_get(17)?,
        reverses_run_id: r.try_get(18)?,
        reversed_by_run_id: r.try_get(19)?,
        error: r.try_get(20)?,
        version: r.try_get(21)?,
        created_at: r.try_get(22)?,
        updated_at: r.try_get(23)?,
        calculated_at: r.try_get(24)?,
        approved_at: r.try_get(25)?,
        paid_at: r.try_get(26)?,
    })
}

/// One run (`NotFound` also for another tenant's).
pub async fn get_run(tx: &TenantTx, id: Uuid) -> Result<Run, StoreError> {
    let sql = format!("SELECT {RUN_COLS} FROM payroll_runs r WHERE r.tenant_id = $1 AND r.id = $2");
    let row = tx
        .client()
        .query_opt(&sql, &[&tx.tenant(), &id])
        .await?
        .ok_or(StoreError::NotFound)?;
    run_from_row(&row)
}

async fn lock_run(tx: &TenantTx, id: Uuid) -> Result<Run, StoreError> {
    tx.client()
        .query_opt(
            "SELECT 1 FROM payroll_runs WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
            &[&tx.tenant(), &id],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    get_run(tx, id).await
}

/// Runs of the tenant, newest first, optionally of one schedule; `before` is the cursor
/// (created_at, id) of the last row of the previous page.
pub async fn list_runs(
    tx: &TenantTx,
    pay_schedule_id: Option<Uuid>,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<Run>, StoreError> {
    let (bt, bi) = before.unzip();
    let sql = format!(
        "SELECT {RUN_COLS} FROM payroll_runs r
          WHERE r.tenant_id = $1 AND ($2::uuid IS NULL OR r.pay_schedule_id = $2)
            AND ($3::timestamptz IS NULL OR (r.created_at, r.id) < ($3, $4::uuid))
          ORDER BY r.created_at DESC, r.id DESC LIMIT $5"
    );
    let rows = tx
        .client()
        .query(&sql, &[&tx.tenant(), &pay_schedule_id, &bt, &bi, &limit])
        .await?;
    rows.iter().map(run_from_row).collect()
}

fn audit_run<'a>(
    actor: &'a str,
    action: &'a str,
    run: &Run,
    before: Option<&Run>,
) -> AuditRecord<'a> {
    let brief = |r: &Run| {
        json!({"status": r.status.as_str(), "type": r.kind.as_str(), "period_start": r.period_start,
               "calc_hash": r.calc_hash, "total": r.total, "gross_pay": r.gross_pay.to_string(),
               "net_pay": r.net_pay.to_string(), "reverses_run_id": r.reverses_run_id})
    };
    AuditRecord {
        actor,
        action,
        entity: "payroll_run",
        entity_id: Some(run.id.to_string()),
        request_id: None,
        before: before.map(brief),
        after: Some(brief(run)),
    }
}

// ---------------------------------------------------------------------------------------------
// Create

/// `POST /payroll-runs`.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub pay_schedule_id: Uuid,
    pub period_start: NaiveDate,
    pub kind: RunType,
    /// Off-cycle only: a pay date other than the period's.
    pub pay_date: Option<NaiveDate>,
    /// Off-cycle only: the earnings by employee.
    pub earnings: BTreeMap<Uuid, Vec<EarningInput>>,
}

/// Create a draft run for the schedule's period starting on `period_start`. A second active
/// regular run for the same period is refused by the database (`Conflict`).
pub async fn create_run(tx: &TenantTx, n: &NewRun, actor: &str) -> Result<Run, RunError> {
    match n.kind {
        RunType::Correction => {
            return Err(invalid(
                "type",
                "correction runs are created by voiding a paid run",
            ));
        }
        RunType::OffCycle if n.earnings.is_empty() => {
            return Err(invalid(
                "earnings",
                "an off-cycle run needs earnings for at least one employee",
            ));
        }
        RunType::Regular if !n.earnings.is_empty() => {
            return Err(invalid(
                "earnings",
                "only off-cycle runs carry their own earnings",
            ));
        }
        RunType::Regular if n.pay_date.is_some() => {
            return Err(invalid(
                "pay_date",
                "a regular run is paid on its period's pay date",
            ));
        }
        _ => {}
    }
    let schedule = match payroll_store::repo::schedules::get(tx, n.pay_schedule_id).await {
        Ok(s) => s,
        Err(StoreError::NotFound) => {
            return Err(invalid(
                "pay_schedule_id",
                "no such pay schedule in this tenant",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let periods = schedule
        .schedule()
        .periods(n.period_start, n.period_start)
        .map_err(|e| invalid("period_start", e.to_string()))?;
    let Some(period) = periods.iter().find(|p| p.period_start == n.period_start) else {
        let hint = periods
            .first()
            .map(|p| format!(" (the period containing it starts on {})", p.period_start))
            .unwrap_or_default();
        return Err(invalid(
            "period_start",
            format!("is not the first day of a pay period of this schedule{hint}"),
        ));
    };
    if !n.earnings.is_empty() {
        let ids: Vec<Uuid> = n.earnings.keys().copied().collect();
        let found: i64 = tx
            .client()
            .query_one(
                "SELECT count(*) FROM employees WHERE tenant_id = $1 AND id = ANY($2)",
                &[&tx.tenant(), &ids],
            )
            .await?
            .get(0);
        if usize::try_from(found).unwrap_or(0) != ids.len() {
            return Err(invalid("earnings", "names an employee not in this tenant"));
        }
    }
    let earnings = serde_json::to_value(&n.earnings)
        .map_err(|e| StoreError::Config(format!("earnings: {e}")))?;
    let id = Uuid::new_v4();
    let r = tx
        .client()
        .execute(
            "INSERT INTO payroll_runs (tenant_id, id, pay_schedule_id, type, period_start, period_end,
                pay_date, earnings) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &tx.tenant(),
                &id,
                &n.pay_schedule_id,
                &n.kind.as_str(),
                &period.period_start,
                &period.period_end,
                &n.pay_date.unwrap_or(period.pay_date),
                &earnings,
            ],
        )
        .await;
    if let Err(e) = r {
        if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
            return Err(conflict(format!(
                "an active regular run already exists for this pay schedule and the period starting {}",
                period.period_start
            )));
        }
        return Err(e.into());
    }
    let run = get_run(tx, id).await?;
    audit::record(tx, &audit_run(actor, "create", &run, None)).await?;
    Ok(run)
}

// ---------------------------------------------------------------------------------------------
// Calculate

/// Chunk size used by `calculate` (employees per queue message).
pub const DEFAULT_CHUNK_SIZE: usize = 500;

/// The employees a run pays: a regular run every employee on the schedule employed at some point
/// of the period; an off-cycle run the employees it has earnings for. Sorted by id.
async fn run_employees(tx: &TenantTx, run: &Run) -> Result<Vec<Uuid>, StoreError> {
    match run.kind {
        RunType::Regular => Ok(tx
            .client()
            .query(
                "SELECT id FROM employees
                  WHERE tenant_id = $1 AND pay_schedule_id = $2 AND hire_date <= $4
                    AND (termination_date IS NULL OR termination_date >= $3)
                  ORDER BY id",
                &[
                    &tx.tenant(),
                    &run.pay_schedule_id,
                    &run.period_start,
                    &run.period_end,
                ],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect()),
        RunType::OffCycle | RunType::Correction => {
            let m: BTreeMap<Uuid, Value> = serde_json::from_value(run.earnings.clone())
                .map_err(|e| StoreError::Config(format!("stored run earnings: {e}")))?;
            Ok(m.into_keys().collect())
        }
    }
}

/// The completion statement: records the chunk's progress and, when no item is pending any more,
/// flips CALCULATING → CALCULATED with the inputs hash, calc hash and totals, all in one
/// statement under the run-row lock the caller holds. Returns the run's status afterwards.
const COMPLETE_SQL: &str = "
WITH c AS (
    SELECT count(*) FILTER (WHERE status = 'calculated')::int AS d,
           count(*) FILTER (WHERE status = 'failed')::int AS f,
           count(*) FILTER (WHERE status = 'pending')::int AS p,
           coalesce(sum(gross_pay) FILTER (WHERE status = 'calculated'), 0) AS g,
           coalesce(sum(net_pay) FILTER (WHERE status = 'calculated'), 0) AS n,
           coalesce(sum(employee_taxes) FILTER (WHERE status = 'calculated'), 0) AS et,
           coalesce(sum(employer_taxes) FILTER (WHERE status = 'calculated'), 0) AS rt
      FROM payroll_run_items WHERE run_id = $1 AND tenant_id = $2),
h AS (
    SELECT encode(sha256(convert_to(coalesce(string_agg(employee_id::text || ':' || coalesce(input_hash, '')
               || ':' || coalesce(result_hash, '') || E'\\n', '' ORDER BY employee_id), ''), 'UTF8')), 'hex') AS calc,
           encode(sha256(convert_to(coalesce(string_agg(employee_id::text || ':' || coalesce(input_hash, '')
               || ':' || E'\\n', '' ORDER BY employee_id), ''), 'UTF8')), 'hex') AS inputs
      FROM payroll_run_items WHERE run_id = $1 AND tenant_id = $2
       AND (SELECT p FROM c) = 0)
UPDATE payroll_runs r
   SET done = c.d, failed = c.f,
       gross_pay = c.g, net_pay = c.n, employee_taxes = c.et, employer_taxes = c.rt,
       status = CASE WHEN c.p = 0 THEN 'calculated' ELSE r.status END,
       calc_hash = CASE WHEN c.p = 0 THEN (SELECT calc FROM h) END,
       inputs_hash = CASE WHEN c.p = 0 THEN (SELECT inputs FROM h) END,
       calculated_at = CASE WHEN c.p = 0 THEN now() END,
       version = r.version + 1, updated_at = now()
  FROM c
 WHERE r.id = $1 AND r.tenant_id = $2 AND r.status = 'calculating'
RETURNING r.status";

pub(crate) async fn record_progress(
    tx: &TenantTx,
    run_id: Uuid,
) -> Result<Option<String>, StoreError> {
    Ok(tx
        .client()
        .query_opt(COMPLETE_SQL, &[&run_id, &tx.tenant()])
        .await?
        .map(|r| r.get(0)))
}

/// `POST /payroll-runs/{id}/calculate`: a new calculation attempt — every employee's item reset
/// to pending, the run CALCULATING — then the chunks are enqueued (after commit). A run with no
/// employees is CALCULATED at once.
pub async fn calculate(
    db: &Db,
    queue: &dyn JobQueue,
    tenant: Uuid,
    run_id: Uuid,
    chunk_size: usize,
    actor: &str,
) -> Result<Run, RunError> {
    let tx = db.tenant_tx(tenant).await?;
    let before = lock_run(&tx, run_id).await?;
    if before.kind == RunType::Correction {
        return Err(conflict("a correction run is not calculated"));
    }
    rules::transition(before.status, RunAction::Calculate).map_err(|e| conflict(e.to_string()))?;
    let employees = run_employees(&tx, &before).await?;
    let attempt = before.calc_attempt + 1;
    let total = i32::try_from(employees.len()).map_err(|_| conflict("too many employees"))?;
    let c = tx.client();
    c.execute(
        "DELETE FROM payroll_run_items WHERE tenant_id = $1 AND run_id = $2",
        &[&tenant, &run_id],
    )
    .await?;
    c.execute(
        "INSERT INTO payroll_run_items (tenant_id, run_id, employee_id, calc_attempt)
         SELECT $1, $2, e, $4 FROM unnest($3::uuid[]) AS e",
        &[&tenant, &run_id, &employees, &attempt],
    )
    .await?;
    c.execute(
        "UPDATE payroll_runs SET status = 'calculating', calc_attempt = $3, total = $4, done = 0,
            failed = 0, calc_hash = NULL, inputs_hash = NULL, gross_pay = 0, net_pay = 0,
            employee_taxes = 0, employer_taxes = 0, error = NULL, calculated_at = NULL,
            version = version + 1, updated_at = now()
          WHERE tenant_id = $1 AND id = $2",
        &[&tenant, &run_id, &attempt, &total],
    )
    .await?;
    if employees.is_empty() {
        record_progress(&tx, run_id).await?;
    }
    let run = get_run(&tx, run_id).await?;
    audit::record(&tx, &audit_run(actor, "calculate", &run, Some(&before))).await?;
    tx.commit().await?;

    let chunks = Chunk::split(tenant, run_id, attempt, &employees, chunk_size);
    if let Err(e) = queue.enqueue(&chunks).await {
        // Nothing will complete this attempt: say so; calculating again retries.
        let tx = db.tenant_tx(tenant).await?;
        tx.client()
            .execute(
                "UPDATE payroll_runs SET status = 'failed', error = $3, version = version + 1,
                    updated_at = now()
                  WHERE tenant_id = $1 AND id = $2 AND status = 'calculating' AND calc_attempt = $4",
                &[&tenant, &run_id, &format!("could not enqueue the calculation: {e}"), &attempt],
            )
            .await?;
        tx.commit().await?;
        return Err(e.into());
    }
    Ok(run)
}

/// What a chunk did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkOutcome {
    /// Results stored for this many employees (0 for a duplicate of a chunk already stored).
    Stored { items: u64, completed: bool },
    /// The run is no longer calculating this attempt (duplicate after completion, or a
    /// recalculation started): nothing changed.
    Skipped,
}

/// One employee's computed row.
struct Computed {
    employee_id: Uuid,
    status: &'static str,
    request: Option<String>,
    result: Option<String>,
    error: Option<String>,
    input_hash: String,
    result_hash: String,
    gross: Option<Decimal>,
    net: Option<Decimal>,
    ee_taxes: Option<Decimal>,
    er_taxes: Option<Decimal>,
    ytd_delta: Option<String>,
}

fn error_json(field: &str, message: &str) -> String {
    json!({"field": field, "message": message}).to_string()
}

/// The input hash of one employee: SHA-256 of the request's JSON, or of the reason it could not
/// be built. Used both when calculating and when approval re-checks the inputs.
pub fn input_hash(built: &Result<PaycheckRequest, BuildError>) -> (String, Option<String>) {
    match built {
        Ok(req) => match serde_json::to_string(req) {
            Ok(s) => (sha256_hex(s.as_bytes()), Some(s)),
            Err(e) => (sha256_hex(format!("error:{e}").as_bytes()), None),
        },
        Err(b) => (
            sha256_hex(format!("error:{}", error_json(&b.field, &b.message)).as_bytes()),
            None,
        ),
    }
}

fn compute_one(employee_id: Uuid, built: Result<PaycheckRequest, BuildError>) -> Computed {
    let (ih, req_json) = input_hash(&built);
    let failed = |error: String| Computed {
        employee_id,
        status: "failed",
        request: None,
        result: None,
        result_hash: sha256_hex(error.as_bytes()),
        error: Some(error),
        input_hash: ih.clone(),
        gross: None,
        net: None,
        ee_taxes: None,
        er_taxes: None,
        ytd_delta: None,
    };
    let req = match built {
        Ok(r) => r,
        Err(b) => return failed(error_json(&b.field, &b.message)),
    };
    let res = match payroll_domain::calculate(&req) {
        Ok(r) => r,
        Err(e) => {
            let mut f = failed(error_json(e.field(), &e.to_string()));
            f.request = req_json;
            return f;
        }
    };
    let result = res.to_json();
    let sum = |p: Payer| {
        res.taxes
            .iter()
            .filter(|t| t.payer == p)
            .map(|t| t.amount)
            .sum::<Decimal>()
    };
    let delta = rules::ytd_delta(&req.ytd, &res.ytd_after);
    Computed {
        employee_id,
        status: "calculated",
        request: req_json,
        result_hash: sha256_hex(result.as_bytes()),
        result: Some(result),
        error: None,
        input_hash: ih,
        gross: Some(res.gross_pay),
        net: Some(res.net_pay),
        ee_taxes: Some(sum(Payer::Employee)),
        er_taxes: Some(sum(Payer::Employer)),
        ytd_delta: serde_json::to_string(&delta).ok(),
    }
}

async fn run_context(tx: &TenantTx, run: &Run) -> Result<RunContext, StoreError> {
    let sched = payroll_store::repo::schedules::get(tx, run.pay_schedule_id).await?;
    let earnings: HashMap<Uuid, Vec<EarningInput>> = if run.kind == RunType::Regular {
        HashMap::new()
    } else {
        serde_json::from_value(run.earnings.clone())
            .map_err(|e| StoreError::Config(format!("stored run earnings: {e}")))?
    };
    Ok(RunContext {
        kind: run.kind,
        frequency: sched.frequency.pay_frequency(),
        period_start: run.period_start,
        period_end: run.period_end,
        pay_date: run.pay_date,
        earnings,
    })
}

/// The worker's job: calculate a chunk and store its results. Idempotent: only pending items of
/// the chunk's attempt are written, under the run-row lock, so a duplicate changes nothing.
pub async fn process_chunk(db: &Db, chunk: &Chunk) -> Result<ChunkOutcome, RunError> {
    let tx = db.tenant_tx(chunk.tenant_id).await?;
    let run = match get_run(&tx, chunk.run_id).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => return Ok(ChunkOutcome::Skipped),
        Err(e) => return Err(e.into()),
    };
    if run.status != RunStatus::Calculating || run.calc_attempt != chunk.attempt {
        return Ok(ChunkOutcome::Skipped);
    }
    let ctx = run_context(&tx, &run).await?;
    let built = load::build_requests(&tx, &ctx, &chunk.employee_ids).await?;
    tx.rollback().await?;

    let computed = tokio::task::spawn_blocking(move || {
        built
            .into_iter()
            .map(|(id, b)| compute_one(id, b))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| StoreError::Config(format!("calculation task: {e}")))?;

    let tx = db.tenant_tx(chunk.tenant_id).await?;
    let run = lock_run(&tx, chunk.run_id).await?;
    if run.status != RunStatus::Calculating || run.calc_attempt != chunk.attempt {
        return Ok(ChunkOutcome::Skipped);
    }
    let (items, all_done) = store_items(&tx, chunk, &computed).await?;
    // The full recount (hashes, exact totals, the flip to CALCULATED) once, by the last chunk.
    let status = if all_done {
        record_progress(&tx, chunk.run_id).await?
    } else {
        None
    };
    tx.commit().await?;
    Ok(ChunkOutcome::Stored {
        items,
        completed: status.as_deref() == Some("calculated"),
    })
}

/// One statement for the whole chunk: the results of the chunk's still-pending items, and the
/// run's progress and totals advanced by what was stored (under the run-row lock the caller
/// holds, so the increments are exact; the last chunk's full recount makes them so anyway).
/// Returns the items stored and whether no item of the run is pending any more.
///
/// Each item is found through the primary key (run, employee) by a lateral lookup per result,
/// then updated by its row address: a plain join lets the planner estimate the run's items from
/// statistics that do not know a run just created, and it then scanned every pending item of the
/// run for each chunk (quadratic in the run's size: 100,000 pending rows for the first chunk).
async fn store_items(
    tx: &TenantTx,
    chunk: &Chunk,
    rows: &[Computed],
) -> Result<(u64, bool), StoreError> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.employee_id).collect();
    let status: Vec<&str> = rows.iter().map(|r| r.status).collect();
    let req: Vec<Option<&str>> = rows.iter().map(|r| r.request.as_deref()).collect();
    let res: Vec<Option<&str>> = rows.iter().map(|r| r.result.as_deref()).collect();
    let err: Vec<Option<&str>> = rows.iter().map(|r| r.error.as_deref()).collect();
    let ih: Vec<&str> = rows.iter().map(|r| r.input_hash.as_str()).collect();
    let rh: Vec<&str> = rows.iter().map(|r| r.result_hash.as_str()).collect();
    let g: Vec<Option<Decimal>> = rows.iter().map(|r| r.gross).collect();
    let n: Vec<Option<Decimal>> = rows.iter().map(|r| r.net).collect();
    let et: Vec<Option<Decimal>> = rows.iter().map(|r| r.ee_taxes).collect();
    let rt: Vec<Option<Decimal>> = rows.iter().map(|r| r.er_taxes).collect();
    let yd: Vec<Option<&str>> = rows.iter().map(|r| r.ytd_delta.as_deref()).collect();
    let row = tx
        .client()
        .query_opt(
            "WITH stored AS (
                UPDATE payroll_run_items i
                   SET status = u.s, request = u.req::json, result = u.res::json,
                       error = u.err::jsonb, input_hash = u.ih, result_hash = u.rh,
                       gross_pay = u.g, net_pay = u.n, employee_taxes = u.et,
                       employer_taxes = u.rt, ytd_delta = u.yd::jsonb, updated_at = now()
                  FROM unnest($4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[],
                              $9::text[], $10::text[], $11::numeric[], $12::numeric[],
                              $13::numeric[], $14::numeric[], $15::text[])
                           AS u(e, s, req, res, err, ih, rh, g, n, et, rt, yd)
                       CROSS JOIN LATERAL (SELECT x.ctid AS tid FROM payroll_run_items x
                                            WHERE x.run_id = $2 AND x.employee_id = u.e
                                           OFFSET 0) AS k
                 WHERE i.ctid = k.tid AND i.tenant_id = $1 AND i.run_id = $2
                   AND i.status = 'pending' AND i.calc_attempt = $3
             RETURNING i.status, i.gross_pay, i.net_pay, i.employee_taxes, i.employer_taxes),
             t AS (
                SELECT count(*) AS items,
                       count(*) FILTER (WHERE status = 'calculated')::int AS d,
                       count(*) FILTER (WHERE status = 'failed')::int AS f,
                       coalesce(sum(gross_pay) FILTER (WHERE status = 'calculated'), 0) AS g,
                       coalesce(sum(net_pay) FILTER (WHERE status = 'calculated'), 0) AS n,
                       coalesce(sum(employee_taxes) FILTER (WHERE status = 'calculated'), 0) AS et,
                       coalesce(sum(employer_taxes) FILTER (WHERE status = 'calculated'), 0) AS rt
                  FROM stored)
             UPDATE payroll_runs r
                SET done = r.done + t.d, failed = r.failed + t.f,
                    gross_pay = r.gross_pay + t.g, net_pay = r.net_pay + t.n,
                    employee_taxes = r.employee_taxes + t.et,
                    employer_taxes = r.employer_taxes + t.rt,
                    version = r.version + 1, updated_at = now()
               FROM t
              WHERE r.tenant_id = $1 AND r.id = $2 AND r.status = 'calculating'
          RETURNING t.items, r.done + r.failed >= r.total",
            &[
                &tx.tenant(),
                &chunk.run_id,
                &chunk.attempt,
                &ids,
                &status,
                &req,
                &res,
                &err,
                &ih,
                &rh,
                &g,
                &n,
                &et,
                &rt,
                &yd,
            ],
        )
        .await?;
    Ok(row.map_or((0, false), |r| {
        let items: i64 = r.get(0);
        (u64::try_from(items).unwrap_or(0), r.get(1))
    }))
}

/// A chunk that kept failing (dead-lettered): its still-pending employees are marked failed with
/// the reason, the run records the error, and it completes if this was the last work.
pub async fn fail_chunk(db: &Db, chunk: &Chunk, reason: &str) -> Result<(), RunError> {
    let tx = db.tenant_tx(chunk.tenant_id).await?;
    let run = match lock_run(&tx, chunk.run_id).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if run.status != RunStatus::Calculating || run.calc_attempt != chunk.attempt {
        return Ok(());
    }
    let error = error_json("", &format!("the calculation chunk failed: {reason}"));
    tx.client()
        .execute(
            "UPDATE payroll_run_items
                SET status = 'failed', error = $5::text::jsonb,
                    result_hash = encode(sha256(convert_to($5, 'UTF8')), 'hex'), updated_at = now()
              WHERE tenant_id = $1 AND run_id = $2 AND calc_attempt = $3
                AND employee_id = ANY($4) AND status = 'pending'",
            &[
                &tx.tenant(),
                &chunk.run_id,
                &chunk.attempt,
                &chunk.employee_ids,
                &error,
            ],
        )
        .await?;
    tx.client()
        .execute(
            "UPDATE payroll_runs SET error = $3 WHERE tenant_id = $1 AND id = $2",
            &[
                &tx.tenant(),
                &chunk.run_id,
                &format!("chunk {} failed: {reason}", chunk.index),
            ],
        )
        .await?;
    record_progress(&tx, chunk.run_id).await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Approve, pay, void

fn strip_etag(v: &str) -> &str {
    v.trim().trim_start_matches("W/").trim_matches('"')
}

/// Rebuild every employee's request from the current data and hash the inputs as calculation
/// did; `None` when the set of employees itself changed.
async fn current_inputs_hash(tx: &TenantTx, run: &Run) -> Result<Option<String>, RunError> {
    let item_ids: Vec<Uuid> = tx
        .client()
        .query(
            "SELECT employee_id FROM payroll_run_items WHERE tenant_id = $1 AND run_id = $2
              ORDER BY employee_id",
            &[&tx.tenant(), &run.id],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if run_employees(tx, run).await? != item_ids {
        return Ok(None);
    }
    let ctx = run_context(tx, run).await?;
    let mut lines = Vec::with_capacity(item_ids.len());
    for part in item_ids.chunks(2000) {
        for (id, built) in load::build_requests(tx, &ctx, part).await? {
            lines.push((id.to_string(), input_hash(&built).0, String::new()));
        }
    }
    Ok(Some(run_hash(&lines)))
}

/// `POST /payroll-runs/{id}/approve` with `If-Match: <calc_hash>`: CALCULATED → APPROVED, only
/// if the hash is current and the inputs (time entries, rates, W-4s, deductions, YTD, the
/// employees of the schedule) still hash to what was calculated.
pub async fn approve(
    db: &Db,
    tenant: Uuid,
    run_id: Uuid,
    if_match: Option<&str>,
    actor: &str,
) -> Result<Run, RunError> {
    let tx = db.tenant_tx(tenant).await?;
    let before = lock_run(&tx, run_id).await?;
    rules::transition(before.status, RunAction::Approve).map_err(|e| conflict(e.to_string()))?;
    let current = before.calc_hash.clone().unwrap_or_default();
    let Some(given) = if_match else {
        return Err(invalid(
            "If-Match",
            "required: send the run's calc_hash to approve exactly what was calculated",
        ));
    };
    if strip_etag(given) != current {
        return Err(RunError::StaleHash { calc_hash: current });
    }
    if before.failed > 0 {
        return Err(conflict(format!(
            "{} employee(s) failed to calculate; fix them and calculate again",
            before.failed
        )));
    }
    if current_inputs_hash(&tx, &before).await?.as_deref() != before.inputs_hash.as_deref() {
        return Err(RunError::InputsChanged { calc_hash: current });
    }
    let n = tx
        .client()
        .execute(
            "UPDATE payroll_runs SET status = 'approved', approved_at = now(), approved_by = $4,
                version = version + 1, updated_at = now()
              WHERE tenant_id = $1 AND id = $2 AND status = 'calculated' AND calc_hash = $3",
            &[&tenant, &run_id, &current, &actor],
        )
        .await?;
    if n != 1 {
        return Err(conflict("the run changed while being approved"));
    }
    let run = get_run(&tx, run_id).await?;
    audit::record(&tx, &audit_run(actor, "approve", &run, Some(&before))).await?;
    tx.commit().await?;
    Ok(run)
}

/// YTD accumulators advance by every calculated item's delta, then the pay stubs are written
/// with the accumulators' new values (same transaction as the status change).
async fn post_items(tx: &TenantTx, run_id: Uuid, year: i32) -> Result<(), StoreError> {
    let c = tx.client();
    c.execute(
        "INSERT INTO ytd_accumulators AS a (tenant_id, employee_id, year, gross, fit_wages,
            social_security_wages, medicare_wages, futa_wages, sui_wages, sdi_wages, supplemental, k401)
         SELECT i.tenant_id, i.employee_id, $3,
                coalesce((i.ytd_delta->>'gross')::numeric, 0),
                coalesce((i.ytd_delta->>'fit_wages')::numeric, 0),
                coalesce((i.ytd_delta->>'social_security_wages')::numeric, 0),
                coalesce((i.ytd_delta->>'medicare_wages')::numeric, 0),
                coalesce((i.ytd_delta->>'futa_wages')::numeric, 0),
                coalesce((i.ytd_delta->>'sui_wages')::numeric, 0),
                coalesce((i.ytd_delta->>'sdi_wages')::numeric, 0),
                coalesce((i.ytd_delta->>'supplemental')::numeric, 0),
                coalesce((i.ytd_delta->>'401k')::numeric, 0)
           FROM payroll_run_items i
          WHERE i.tenant_id = $1 AND i.run_id = $2 AND i.status = 'calculated'
         ON CONFLICT (tenant_id, employee_id, year) DO UPDATE SET
            gross = a.gross + EXCLUDED.gross,
            fit_wages = a.fit_wages + EXCLUDED.fit_wages,
            social_security_wages = a.social_security_wages + EXCLUDED.social_security_wages,
            medicare_wages = a.medicare_wages + EXCLUDED.medicare_wages,
            futa_wages = a.futa_wages + EXCLUDED.futa_wages,
            sui_wages = a.sui_wages + EXCLUDED.sui_wages,
            sdi_wages = a.sdi_wages + EXCLUDED.sdi_wages,
            supplemental = a.supplemental + EXCLUDED.supplemental,
            k401 = a.k401 + EXCLUDED.k401,
            version = a.version + 1, updated_at = now()",
        &[&tx.tenant(), &run_id, &year],
    )
    .await?;
    c.execute(
        "INSERT INTO pay_stubs (tenant_id, id, run_id, employee_id, pay_date, period_start, period_end,
            year, gross_pay, net_pay, employee_taxes, employer_taxes, result, ytd)
         SELECT i.tenant_id, gen_random_uuid(), i.run_id, i.employee_id, r.pay_date, r.period_start,
                r.period_end, $3, i.gross_pay, i.net_pay, i.employee_taxes, i.employer_taxes, i.result,
                jsonb_build_object('gross', a.gross::text, 'fit_wages', a.fit_wages::text,
                    'social_security_wages', a.social_security_wages::text,
                    'medicare_wages', a.medicare_wages::text, 'futa_wages', a.futa_wages::text,
                    'sui_wages', a.sui_wages::text, 'sdi_wages', a.sdi_wages::text,
                    'supplemental', a.supplemental::text, '401k', a.k401::text)
           FROM payroll_run_items i
           JOIN payroll_runs r ON r.tenant_id = i.tenant_id AND r.id = i.run_id
           JOIN ytd_accumulators a ON a.tenant_id = i.tenant_id AND a.employee_id = i.employee_id
                                  AND a.year = $3
          WHERE i.tenant_id = $1 AND i.run_id = $2 AND i.status = 'calculated'",
        &[&tx.tenant(), &run_id, &year],
    )
    .await?;
    Ok(())
}

/// `POST /payroll-runs/{id}/pay`: APPROVED → PAID, pay stubs final and YTD advanced in the same
/// transaction. Paying a paid run again changes nothing (`false`).
pub async fn pay(
    db: &Db,
    tenant: Uuid,
    run_id: Uuid,
    actor: &str,
) -> Result<(Run, bool), RunError> {
    let tx = db.tenant_tx(tenant).await?;
    let before = lock_run(&tx, run_id).await?;
    if before.status == RunStatus::Paid {
        return Ok((before, false));
    }
    rules::transition(before.status, RunAction::Pay).map_err(|e| conflict(e.to_string()))?;
    post_items(&tx, run_id, before.pay_date.year()).await?;
    tx.client()
        .execute(
            "UPDATE payroll_runs SET status = 'paid', paid_at = now(), version = version + 1,
                updated_at = now() WHERE tenant_id = $1 AND id = $2",
            &[&tenant, &run_id],
        )
        .await?;
    let run = get_run(&tx, run_id).await?;
    audit::record(&tx, &audit_run(actor, "pay", &run, Some(&before))).await?;
    tx.commit().await?;
    Ok((run, true))
}

/// `POST /payroll-runs/{id}/void`. A run not yet paid becomes VOIDED (its slot freed). A paid run
/// is never edited: a linked correction run reversing it is created, already paid, with negated
/// amounts, negative pay stubs and YTD moved back. Returns the voided run or the reversal.
pub async fn void(db: &Db, tenant: Uuid, run_id: Uuid, actor: &str) -> Result<Run, RunError> {
    let tx = db.tenant_tx(tenant).await?;
    let before = lock_run(&tx, run_id).await?;
    let to =
        rules::transition(before.status, RunAction::Void).map_err(|e| conflict(e.to_string()))?;
    if to == RunStatus::Voided {
        tx.client()
            .execute(
                "UPDATE payroll_runs SET status = 'voided', version = version + 1, updated_at = now()
                  WHERE tenant_id = $1 AND id = $2",
                &[&tenant, &run_id],
            )
            .await?;
        let run = get_run(&tx, run_id).await?;
        audit::record(&tx, &audit_run(actor, "void", &run, Some(&before))).await?;
        tx.commit().await?;
        return Ok(run);
    }
    if before.reverses_run_id.is_some() {
        return Err(conflict("a reversal run cannot be voided"));
    }
    if before.reversed_by_run_id.is_some() {
        return Err(conflict("this run has already been reversed"));
    }
    let rid = Uuid::new_v4();
    let c = tx.client();
    c.execute(
        "INSERT INTO payroll_runs (tenant_id, id, pay_schedule_id, type, status, period_start,
            period_end, pay_date, total, done, failed, gross_pay, net_pay, employee_taxes,
            employer_taxes, reverses_run_id, calculated_at, approved_at, approved_by, paid_at)
         SELECT tenant_id, $3, pay_schedule_id, 'correction', 'paid', period_start, period_end,
                pay_date, total, done, failed, -gross_pay, -net_pay, -employee_taxes,
                -employer_taxes, id, now(), now(), $4, now()
           FROM payroll_runs WHERE tenant_id = $1 AND id = $2",
        &[&tenant, &run_id, &rid, &actor],
    )
    .await?;
    c.execute(
        "INSERT INTO payroll_run_items (tenant_id, run_id, employee_id, calc_attempt, status,
            request, result, error, input_hash, result_hash, gross_pay, net_pay, employee_taxes,
            employer_taxes, ytd_delta)
         SELECT tenant_id, $3, employee_id, 0, status, request, result, error, input_hash,
                result_hash, -gross_pay, -net_pay, -employee_taxes, -employer_taxes,
                (SELECT coalesce(jsonb_object_agg(k, (-((v #>> '{}')::numeric))::text), '{}'::jsonb)
                   FROM jsonb_each(ytd_delta) AS t(k, v))
           FROM payroll_run_items WHERE tenant_id = $1 AND run_id = $2",
        &[&tenant, &run_id, &rid],
    )
    .await?;
    post_items(&tx, rid, before.pay_date.year()).await?;
    let reversal = get_run(&tx, rid).await?;
    audit::record(&tx, &audit_run(actor, "reverse", &reversal, Some(&before))).await?;
    tx.commit().await?;
    Ok(reversal)
}

// ---------------------------------------------------------------------------------------------
// Items, register, pay stubs

/// One employee's result in a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunItem {
    pub employee_id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub status: String,
    pub gross_pay: Option<Decimal>,
    pub net_pay: Option<Decimal>,
    pub employee_taxes: Option<Decimal>,
    pub employer_taxes: Option<Decimal>,
    pub error: Option<Value>,
    /// Only for a single item: the calculation request and the full result with its trace.
    pub request: Option<Value>,
    pub result: Option<Value>,
}

fn item_from_row(r: &Row, full: bool) -> RunItem {
    RunItem {
        employee_id: r.get(0),
        first_name: r.get(1),
        last_name: r.get(2),
        status: r.get(3),
        gross_pay: r.get(4),
        net_pay: r.get(5),
        employee_taxes: r.get(6),
        employer_taxes: r.get(7),
        error: r.get(8),
        request: if full { r.get(9) } else { None },
        result: if full { r.get(10) } else { None },
    }
}

/// Items by employee id after the cursor; `status` filters (`pending`, `calculated`, `failed`).
/// `limit` None lists all (the register).
pub async fn list_items(
    tx: &TenantTx,
    run_id: Uuid,
    status: Option<&str>,
    after: Option<Uuid>,
    limit: Option<i64>,
) -> Result<Vec<RunItem>, StoreError> {
    let rows = tx
        .client()
        .query(
            "SELECT i.employee_id, e.first_name, e.last_name, i.status, i.gross_pay, i.net_pay,
                    i.employee_taxes, i.employer_taxes, i.error, NULL::json, NULL::json
               FROM payroll_run_items i
               JOIN employees e ON e.tenant_id = i.tenant_id AND e.id = i.employee_id
              WHERE i.tenant_id = $1 AND i.run_id = $2 AND ($3::text IS NULL OR i.status = $3)
                AND ($4::uuid IS NULL OR i.employee_id > $4)
              ORDER BY i.employee_id LIMIT $5",
            &[
                &tx.tenant(),
                &run_id,
                &status,
                &after,
                &limit.unwrap_or(i64::MAX),
            ],
        )
        .await?;
    Ok(rows.iter().map(|r| item_from_row(r, false)).collect())
}

/// One item with its request and full result (trace included).
pub async fn get_item(
    tx: &TenantTx,
    run_id: Uuid,
    employee_id: Uuid,
) -> Result<RunItem, StoreError> {
    let row = tx
        .client()
        .query_opt(
            "SELECT i.employee_id, e.first_name, e.last_name, i.status, i.gross_pay, i.net_pay,
                    i.employee_taxes, i.employer_taxes, i.error, i.request, i.result
               FROM payroll_run_items i
               JOIN employees e ON e.tenant_id = i.tenant_id AND e.id = i.employee_id
              WHERE i.tenant_id = $1 AND i.run_id = $2 AND i.employee_id = $3",
            &[&tx.tenant(), &run_id, &employee_id],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(item_from_row(&row, true))
}

/// A final pay stub.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PayStub {
    pub id: Uuid,
    pub run_id: Uuid,
    pub run_type: String,
    pub employee_id: Uuid,
    pub pay_date: NaiveDate,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub year: i32,
    pub gross_pay: Decimal,
    pub net_pay: Decimal,
    pub employee_taxes: Decimal,
    pub employer_taxes: Decimal,
    /// The paycheck result (earnings, taxes, deductions, garnishments, trace).
    pub result: Value,
    /// Year-to-date after this stub.
    pub ytd: Value,
    pub created_at: DateTime<Utc>,
}

const STUB_COLS: &str = "s.id, s.run_id, r.type, s.employee_id, s.pay_date, s.period_start,
    s.period_end, s.year, s.gross_pay, s.net_pay, s.employee_taxes, s.employer_taxes, s.result,
    s.ytd, s.created_at";

fn stub_from_row(r: &Row) -> PayStub {
    PayStub {
        id: r.get(0),
        run_id: r.get(1),
        run_type: r.get(2),
        employee_id: r.get(3),
        pay_date: r.get(4),
        period_start: r.get(5),
        period_end: r.get(6),
        year: r.get(7),
        gross_pay: r.get(8),
        net_pay: r.get(9),
        employee_taxes: r.get(10),
        employer_taxes: r.get(11),
        result: r.get(12),
        ytd: r.get(13),
        created_at: r.get(14),
    }
}

/// Pay stubs of an employee (optionally of one year), by pay date.
pub async fn list_stubs(
    tx: &TenantTx,
    employee_id: Uuid,
    year: Option<i32>,
) -> Result<Vec<PayStub>, StoreError> {
    let sql = format!(
        "SELECT {STUB_COLS} FROM pay_stubs s JOIN payroll_runs r ON r.tenant_id = s.tenant_id AND r.id = s.run_id
          WHERE s.tenant_id = $1 AND s.employee_id = $2 AND ($3::int IS NULL OR s.year = $3)
          ORDER BY s.pay_date, s.created_at, s.id"
    );
    let rows = tx
        .client()
        .query(&sql, &[&tx.tenant(), &employee_id, &year])
        .await?;
    Ok(rows.iter().map(stub_from_row).collect())
}

pub async fn get_stub(tx: &TenantTx, id: Uuid) -> Result<PayStub, StoreError> {
    let sql = format!(
        "SELECT {STUB_COLS} FROM pay_stubs s JOIN payroll_runs r ON r.tenant_id = s.tenant_id AND r.id = s.run_id
          WHERE s.tenant_id = $1 AND s.id = $2"
    );
    let row = tx
        .client()
        .query_opt(&sql, &[&tx.tenant(), &id])
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(stub_from_row(&row))
}
