//! The scheduler's beat: what `functions/job-scheduler` (an EventBridge schedule) and
//! `payroll scheduler` (a loop) run, once per tick, for every tenant.
//!
//! 1. **Drafts.** For every active pay schedule, each period whose pay date falls within
//!    `lead_days` from today (`today ..= today + lead_days`) gets a DRAFT regular run — once: a
//!    period that already has a regular run, whatever its status (a voided or failed one
//!    included: someone decided about it), is left alone, and two beats racing are settled by the
//!    database's one-active-regular-run-per-period constraint (the loser sees a conflict and
//!    moves on).
//! 2. **Calculation** (`auto_calculate`). Due DRAFT regular runs whose period has ended are
//!    calculated: chunks go to the queue like `POST /payroll-runs/{id}/calculate`.
//! 3. **Re-drive.** A CALCULATING run with no progress for `stuck_after` (its `updated_at` moves
//!    with every stored chunk) has its employees still `pending` in PostgreSQL enqueued again as
//!    new chunks of the same calculation attempt. This is how a run survives a lost message, a
//!    worker that died before acknowledging, a crash between commit and enqueue, and a Redis
//!    wipe: the queue is only a delivery mechanism, PostgreSQL knows what is left. Duplicates are
//!    harmless (results are written only over pending rows of the attempt). After
//!    `max_redrives` re-drives of one attempt the remaining employees are marked failed with the
//!    reason, so a run never hangs for ever.
//!
//! Tenant isolation: the beat lists tenant ids with the service's own connection (the one
//! cross-tenant read), then does everything for a tenant inside `Db::tenant_tx`, so row-level
//! security scopes every statement to that tenant. One tenant's failure is reported and does not
//! stop the others.

use crate::engine::{self, NewRun, RunError};
use chrono::{Days, NaiveDate};
use payroll_domain::runs::RunType;
use payroll_queue::{Chunk, JobQueue};
use payroll_store::audit::{self, AuditRecord};
use payroll_store::repo::schedules::{self, ListQuery};
use payroll_store::{Db, StoreError};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;
use uuid::Uuid;

/// The actor recorded in the audit log for the scheduler's changes.
pub const ACTOR: &str = "scheduler";

/// Environment variables read by [`BeatConfig::from_env`].
pub const ENV_LEAD_DAYS: &str = "SCHEDULER_LEAD_DAYS";
pub const ENV_AUTO_CALCULATE: &str = "SCHEDULER_AUTO_CALCULATE";
pub const ENV_STUCK_AFTER: &str = "SCHEDULER_STUCK_AFTER_SECONDS";
pub const ENV_MAX_REDRIVES: &str = "SCHEDULER_MAX_REDRIVES";
/// Shared with the API (`POST /payroll-runs/{id}/calculate`).
pub const ENV_CHUNK_SIZE: &str = "PAYROLL_RUN_CHUNK_SIZE";

/// The largest `lead_days` accepted.
pub const MAX_LEAD_DAYS: u32 = 90;

/// What a beat does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeatConfig {
    /// Create drafts for periods paid within this many days from today (0: paid today).
    pub lead_days: u32,
    /// Also calculate due drafts whose period has ended.
    pub auto_calculate: bool,
    /// A CALCULATING run without progress for this long is re-driven.
    pub stuck_after: Duration,
    /// Re-drives of one calculation attempt before its remaining employees are marked failed.
    pub max_redrives: u32,
    /// Employees per queued chunk.
    pub chunk_size: usize,
}

impl Default for BeatConfig {
    fn default() -> Self {
        BeatConfig {
            lead_days: 3,
            auto_calculate: false,
            stuck_after: Duration::from_secs(900),
            max_redrives: 5,
            chunk_size: engine::DEFAULT_CHUNK_SIZE,
        }
    }
}

/// A configuration variable with an unusable value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

impl BeatConfig {
    /// The defaults overridden by `SCHEDULER_LEAD_DAYS` (0..=90, default 3),
    /// `SCHEDULER_AUTO_CALCULATE` (true/false, default false), `SCHEDULER_STUCK_AFTER_SECONDS`
    /// (≥ 1, default 900), `SCHEDULER_MAX_REDRIVES` (default 5) and `PAYROLL_RUN_CHUNK_SIZE`
    /// (1..=10000, default 500). Unset or empty variables keep the default.
    pub fn from_env() -> Result<BeatConfig, ConfigError> {
        BeatConfig::from_lookup(|k| std::env::var(k).ok())
    }

    /// [`BeatConfig::from_env`] over any variable source.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<BeatConfig, ConfigError> {
        let mut cfg = BeatConfig::default();
        let var = |k: &'static str| {
            get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let bad = |var: &'static str, message: &str| ConfigError {
            var,
            message: message.to_owned(),
        };
        if let Some(v) = var(ENV_LEAD_DAYS) {
            cfg.lead_days = v
                .parse()
                .ok()
                .filter(|n| *n <= MAX_LEAD_DAYS)
                .ok_or_else(|| bad(ENV_LEAD_DAYS, "must be a number of days from 0 to 90"))?;
        }
        if let Some(v) = var(ENV_AUTO_CALCULATE) {
            cfg.auto_calculate =
                parse_bool(&v).ok_or_else(|| bad(ENV_AUTO_CALCULATE, "must be true or false"))?;
        }
        if let Some(v) = var(ENV_STUCK_AFTER) {
            let secs: u64 =
                v.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    bad(ENV_STUCK_AFTER, "must be a number of seconds (at least 1)")
                })?;
            cfg.stuck_after = Duration::from_secs(secs);
        }
        if let Some(v) = var(ENV_MAX_REDRIVES) {
            cfg.max_redrives = v
                .parse()
                .map_err(|_| bad(ENV_MAX_REDRIVES, "must be a whole number"))?;
        }
        if let Some(v) = var(ENV_CHUNK_SIZE) {
            cfg.chunk_size = v
                .parse()
                .ok()
                .filter(|n| (1..=10_000).contains(n))
                .ok_or_else(|| bad(ENV_CHUNK_SIZE, "must be from 1 to 10000"))?;
        }
        Ok(cfg)
    }
}

/// `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off` (any case).
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// A run the beat created or calculated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunRef {
    pub tenant_id: Uuid,
    pub run_id: Uuid,
    pub pay_schedule_id: Uuid,
    pub period_start: NaiveDate,
    pub pay_date: NaiveDate,
}

/// A stuck run the beat acted on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Redrive {
    pub tenant_id: Uuid,
    pub run_id: Uuid,
    pub attempt: i32,
    /// Employees still pending (re-enqueued, or marked failed when giving up).
    pub employees: usize,
    /// Chunks enqueued (0 when giving up).
    pub chunks: usize,
    /// Re-drives of this attempt before this one.
    pub previous: u32,
}

/// Something that went wrong for one tenant or run (the beat carries on with the others).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BeatIssue {
    pub tenant_id: Uuid,
    pub run_id: Option<Uuid>,
    pub message: String,
}

/// What one beat did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BeatReport {
    pub today: NaiveDate,
    pub tenants: usize,
    pub created: Vec<RunRef>,
    pub calculated: Vec<RunRef>,
    pub redriven: Vec<Redrive>,
    /// Stuck runs whose remaining employees were marked failed after `max_redrives`.
    pub gave_up: Vec<Redrive>,
    /// CALCULATING runs found with nothing pending, completed by the beat.
    pub completed: Vec<Uuid>,
    pub errors: Vec<BeatIssue>,
}

impl BeatReport {
    fn new(today: NaiveDate) -> BeatReport {
        BeatReport {
            today,
            tenants: 0,
            created: Vec::new(),
            calculated: Vec::new(),
            redriven: Vec::new(),
            gave_up: Vec::new(),
            completed: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Employees re-enqueued in total.
    pub fn employees_redriven(&self) -> usize {
        self.redriven.iter().map(|r| r.employees).sum()
    }
}

/// One beat over every tenant, for the calendar day `today` (UTC). Fails only when the tenants
/// cannot be listed; everything else is reported per tenant or run in [`BeatReport::errors`].
pub async fn beat(
    db: &Db,
    queue: &dyn JobQueue,
    cfg: &BeatConfig,
    today: NaiveDate,
) -> Result<BeatReport, RunError> {
    let mut report = BeatReport::new(today);
    for tenant in list_tenants(db).await? {
        report.tenants += 1;
        if let Err(e) = tenant_beat(db, queue, cfg, tenant, today, &mut report).await {
            tracing::error!(%tenant, error = %e, "scheduler beat failed for a tenant");
            report.errors.push(BeatIssue {
                tenant_id: tenant,
                run_id: None,
                message: e.to_string(),
            });
        }
    }
    tracing::info!(
        %today,
        tenants = report.tenants,
        created = report.created.len(),
        calculated = report.calculated.len(),
        redriven = report.redriven.len(),
        employees_redriven = report.employees_redriven(),
        gave_up = report.gave_up.len(),
        errors = report.errors.len(),
        "scheduler beat"
    );
    Ok(report)
}

/// Every tenant id: the one read across tenants, on the service's own connection (the table
/// owner, outside the `payroll_app` role whose row-level security would hide other tenants).
pub async fn list_tenants(db: &Db) -> Result<Vec<Uuid>, StoreError> {
    let c = db.client().await?;
    Ok(c.query("SELECT id FROM tenants ORDER BY id", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

async fn tenant_beat(
    db: &Db,
    queue: &dyn JobQueue,
    cfg: &BeatConfig,
    tenant: Uuid,
    today: NaiveDate,
    report: &mut BeatReport,
) -> Result<(), RunError> {
    let until = add_days(today, cfg.lead_days)?;
    for (schedule, period_start, pay_date) in due_without_run(db, tenant, today, until).await? {
        let tx = db.tenant_tx(tenant).await?;
        let created = engine::create_run(
            &tx,
            &NewRun {
                pay_schedule_id: schedule,
                period_start,
                kind: RunType::Regular,
                pay_date: None,
                earnings: BTreeMap::new(),
            },
            ACTOR,
        )
        .await;
        match created {
            Ok(run) => {
                tx.commit().await?;
                tracing::info!(%tenant, run = %run.id, %period_start, %pay_date, "draft run created");
                report.created.push(RunRef {
                    tenant_id: tenant,
                    run_id: run.id,
                    pay_schedule_id: schedule,
                    period_start,
                    pay_date: run.pay_date,
                });
            }
            // Another beat (or a person) created it meanwhile: the constraint decided.
            Err(RunError::Store(StoreError::Conflict(_))) => tx.rollback().await?,
            Err(e) => {
                tx.rollback().await?;
                report.errors.push(BeatIssue {
                    tenant_id: tenant,
                    run_id: None,
                    message: format!("creating the run of {schedule} for {period_start}: {e}"),
                });
            }
        }
    }

    if cfg.auto_calculate {
        for r in due_drafts(db, tenant, today, until).await? {
            match engine::calculate(db, queue, tenant, r.run_id, cfg.chunk_size, ACTOR).await {
                Ok(_) => report.calculated.push(r),
                // Someone started or voided it meanwhile.
                Err(RunError::Store(StoreError::Conflict(_))) => {}
                Err(e) => report.errors.push(BeatIssue {
                    tenant_id: tenant,
                    run_id: Some(r.run_id),
                    message: format!("calculating: {e}"),
                }),
            }
        }
    }

    for run_id in stuck_runs(db, tenant, cfg.stuck_after).await? {
        match redrive(db, queue, cfg, tenant, run_id).await {
            Ok(Outcome::Redriven(r)) => report.redriven.push(r),
            Ok(Outcome::GaveUp(r)) => report.gave_up.push(r),
            Ok(Outcome::Completed) => report.completed.push(run_id),
            Ok(Outcome::NotStuck) => {}
            Err(e) => report.errors.push(BeatIssue {
                tenant_id: tenant,
                run_id: Some(run_id),
                message: format!("re-driving: {e}"),
            }),
        }
    }
    Ok(())
}

fn add_days(d: NaiveDate, n: u32) -> Result<NaiveDate, RunError> {
    d.checked_add_days(Days::new(u64::from(n)))
        .ok_or_else(|| RunError::Store(StoreError::Config(format!("{d} + {n} days"))))
}

/// The (schedule, period start, pay date) of every active schedule's period paid within
/// `today..=until` that has no regular run yet.
async fn due_without_run(
    db: &Db,
    tenant: Uuid,
    today: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<(Uuid, NaiveDate, NaiveDate)>, RunError> {
    let tx = db.tenant_tx(tenant).await?;
    let mut active = Vec::new();
    let mut after = None;
    loop {
        let page = schedules::list(
            &tx,
            &ListQuery {
                active: Some(true),
                after,
                limit: 200,
            },
        )
        .await?;
        after = page.last().map(|s| (s.created_at, s.id));
        let more = page.len() == 200;
        active.extend(page);
        if !more {
            break;
        }
    }
    let mut due = Vec::new();
    for s in &active {
        // A period paid on or after `today` ended at most 30 days (the largest offset) before,
        // and began at most 31 days before its end.
        let offset = u32::try_from(s.pay_date_offset_days).unwrap_or(0);
        let from = today
            .checked_sub_days(Days::new(u64::from(offset) + 31))
            .unwrap_or(today);
        let periods = match s.schedule().periods(from, until) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(%tenant, schedule = %s.id, error = %e, "cannot list the schedule's periods");
                continue;
            }
        };
        due.extend(
            periods
                .into_iter()
                .filter(|p| p.pay_date >= today && p.pay_date <= until)
                .map(|p| (s.id, p.period_start, p.pay_date)),
        );
    }
    let existing: HashSet<(Uuid, NaiveDate)> = if due.is_empty() {
        HashSet::new()
    } else {
        let earliest = due.iter().map(|d| d.1).min().unwrap_or(today);
        tx.client()
            .query(
                "SELECT pay_schedule_id, period_start FROM payroll_runs
                  WHERE tenant_id = $1 AND type = 'regular' AND period_start >= $2",
                &[&tenant, &earliest],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    };
    tx.commit().await?;
    due.retain(|(s, start, _)| !existing.contains(&(*s, *start)));
    Ok(due)
}

/// DRAFT regular runs paid within `today..=until` whose period has ended.
async fn due_drafts(
    db: &Db,
    tenant: Uuid,
    today: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<RunRef>, RunError> {
    let tx = db.tenant_tx(tenant).await?;
    let rows = tx
        .client()
        .query(
            "SELECT id, pay_schedule_id, period_start, pay_date FROM payroll_runs
              WHERE tenant_id = $1 AND type = 'regular' AND status = 'draft'
                AND pay_date BETWEEN $2 AND $3 AND period_end < $2
              ORDER BY pay_date, id",
            &[&tenant, &today, &until],
        )
        .await?;
    tx.commit().await?;
    Ok(rows
        .iter()
        .map(|r| RunRef {
            tenant_id: tenant,
            run_id: r.get(0),
            pay_schedule_id: r.get(1),
            period_start: r.get(2),
            pay_date: r.get(3),
        })
        .collect())
}

fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// CALCULATING runs whose last progress is older than `stuck_after` (PostgreSQL's clock).
async fn stuck_runs(db: &Db, tenant: Uuid, stuck_after: Duration) -> Result<Vec<Uuid>, RunError> {
    let tx = db.tenant_tx(tenant).await?;
    let rows = tx
        .client()
        .query(
            "SELECT id FROM payroll_runs
              WHERE tenant_id = $1 AND status = 'calculating'
                AND updated_at < now() - make_interval(secs => $2)
              ORDER BY updated_at",
            &[&tenant, &seconds(stuck_after)],
        )
        .await?;
    tx.commit().await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

enum Outcome {
    Redriven(Redrive),
    GaveUp(Redrive),
    Completed,
    NotStuck,
}

/// Re-enqueue a stuck run's pending employees (or give up on them after `max_redrives`).
async fn redrive(
    db: &Db,
    queue: &dyn JobQueue,
    cfg: &BeatConfig,
    tenant: Uuid,
    run_id: Uuid,
) -> Result<Outcome, RunError> {
    let tx = db.tenant_tx(tenant).await?;
    // Still stuck, and nobody (a worker storing a chunk) holds the row: otherwise it is moving.
    let Some(row) = tx
        .client()
        .query_opt(
            "SELECT calc_attempt FROM payroll_runs
              WHERE tenant_id = $1 AND id = $2 AND status = 'calculating'
                AND updated_at < now() - make_interval(secs => $3)
              FOR UPDATE SKIP LOCKED",
            &[&tenant, &run_id, &seconds(cfg.stuck_after)],
        )
        .await?
    else {
        tx.rollback().await?;
        return Ok(Outcome::NotStuck);
    };
    let attempt: i32 = row.get(0);
    let pending: Vec<Uuid> = tx
        .client()
        .query(
            "SELECT employee_id FROM payroll_run_items
              WHERE tenant_id = $1 AND run_id = $2 AND calc_attempt = $3 AND status = 'pending'
              ORDER BY employee_id",
            &[&tenant, &run_id, &attempt],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if pending.is_empty() {
        let status = engine::record_progress(&tx, run_id).await?;
        tx.commit().await?;
        tracing::warn!(%tenant, run = %run_id, ?status, "calculating run with nothing pending completed");
        return Ok(Outcome::Completed);
    }
    let previous: i64 = tx
        .client()
        .query_one(
            "SELECT count(*) FROM audit_events
              WHERE tenant_id = $1 AND entity = 'payroll_run' AND entity_id = $2
                AND action = 'redrive' AND (after->>'calc_attempt')::int = $3",
            &[&tenant, &run_id.to_string(), &attempt],
        )
        .await?
        .get(0);
    let previous = u32::try_from(previous).unwrap_or(u32::MAX);
    let mut r = Redrive {
        tenant_id: tenant,
        run_id,
        attempt,
        employees: pending.len(),
        chunks: 0,
        previous,
    };
    if previous >= cfg.max_redrives {
        tx.rollback().await?;
        let reason = format!(
            "no worker completed it after {previous} re-drive(s) of this calculation attempt"
        );
        let chunk = Chunk {
            tenant_id: tenant,
            run_id,
            attempt,
            index: 0,
            employee_ids: pending,
        };
        engine::fail_chunk(db, &chunk, &reason).await?;
        tracing::error!(%tenant, run = %run_id, attempt, employees = r.employees, "gave up re-driving");
        return Ok(Outcome::GaveUp(r));
    }
    let chunks = Chunk::split(tenant, run_id, attempt, &pending, cfg.chunk_size);
    r.chunks = chunks.len();
    tx.client()
        .execute(
            "UPDATE payroll_runs SET updated_at = now() WHERE tenant_id = $1 AND id = $2",
            &[&tenant, &run_id],
        )
        .await?;
    audit::record(
        &tx,
        &AuditRecord {
            actor: ACTOR,
            action: "redrive",
            entity: "payroll_run",
            entity_id: Some(run_id.to_string()),
            request_id: None,
            before: None,
            after: Some(json!({
                "calc_attempt": attempt,
                "employees": r.employees,
                "chunks": r.chunks,
                "previous_redrives": previous,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    // After the commit: the updated `updated_at` keeps the next beat off this run for
    // `stuck_after` even if enqueueing fails (the beat after that retries).
    queue.enqueue(&chunks).await?;
    tracing::warn!(%tenant, run = %run_id, attempt, employees = r.employees, chunks = r.chunks,
        transport = queue.transport(), "stuck run re-driven");
    Ok(Outcome::Redriven(r))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn config_defaults_and_overrides() {
        assert_eq!(
            BeatConfig::from_lookup(lookup(&[])).unwrap(),
            BeatConfig::default()
        );
        let c = BeatConfig::from_lookup(lookup(&[
            (ENV_LEAD_DAYS, "7"),
            (ENV_AUTO_CALCULATE, "TRUE"),
            (ENV_STUCK_AFTER, "120"),
            (ENV_MAX_REDRIVES, "2"),
            (ENV_CHUNK_SIZE, "250"),
        ]))
        .unwrap();
        assert_eq!(
            c,
            BeatConfig {
                lead_days: 7,
                auto_calculate: true,
                stuck_after: Duration::from_secs(120),
                max_redrives: 2,
                chunk_size: 250,
            }
        );
        // Empty values keep the default.
        assert_eq!(
            BeatConfig::from_lookup(lookup(&[(ENV_LEAD_DAYS, " ")]))
                .unwrap()
                .lead_days,
            3
        );
    }

    #[test]
    fn config_errors_name_the_variable() {
        for (var, value) in [
            (ENV_LEAD_DAYS, "91"),
            (ENV_LEAD_DAYS, "-1"),
            (ENV_AUTO_CALCULATE, "maybe"),
            (ENV_STUCK_AFTER, "0"),
            (ENV_MAX_REDRIVES, "x"),
            (ENV_CHUNK_SIZE, "0"),
        ] {
            let e = BeatConfig::from_lookup(lookup(&[(var, value)])).unwrap_err();
            assert_eq!(e.var, var);
            assert!(e.to_string().starts_with(var), "{e}");
        }
    }

    #[test]
    fn booleans() {
        assert_eq!(parse_bool("yes"), Some(true));
        assert_eq!(parse_bool("Off"), Some(false));
        assert_eq!(parse_bool("2"), None);
    }
}
