//! The scheduler job: on each EventBridge scheduled event, one beat of the payroll scheduler
//! (`payroll_runs::scheduler::beat`) for every tenant:
//! - DRAFT regular runs for pay periods paid within `SCHEDULER_LEAD_DAYS` of the event's day
//!   (never twice for a period);
//! - with `SCHEDULER_AUTO_CALCULATE=true`, calculation of those drafts once their period has
//!   ended (chunks to the queue at `QUEUE_URL`, e.g. the SQS queue `worker-runs` consumes);
//! - re-drive of CALCULATING runs without progress for `SCHEDULER_STUCK_AFTER_SECONDS`: their
//!   employees still pending in PostgreSQL are enqueued again (after
//!   `SCHEDULER_MAX_REDRIVES` re-drives of one attempt they are marked failed).
//!
//! Environment: `DATABASE_URL` and `QUEUE_URL` (required); `SCHEDULER_LEAD_DAYS` (default 3),
//! `SCHEDULER_AUTO_CALCULATE` (default false), `SCHEDULER_STUCK_AFTER_SECONDS` (default 900),
//! `SCHEDULER_MAX_REDRIVES` (default 5), `PAYROLL_RUN_CHUNK_SIZE` (default 500); the queue's own
//! settings (`QUEUE_DLQ_URL`, `QUEUE_STREAM`, `QUEUE_GROUP`) as `payroll_queue::from_env` reads
//! them.
//!
//! The beat's day is the event's `time` (the scheduled time, UTC), so a delayed or retried
//! invocation acts for the day it was scheduled; without a time, now. The outcome is returned
//! and logged as one CloudWatch Embedded Metric Format line (namespace `Payroll/Scheduler`:
//! `RunsCreated`, `RunsCalculated`, `RunsRedriven`, `EmployeesRedriven`, `RunsGaveUp`,
//! `BeatErrors`).

use anyhow::Context as _;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::LambdaEvent;
use payroll_queue::JobQueue;
use payroll_runs::scheduler::{self, BeatConfig, BeatReport};
use payroll_store::Db;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// How long SQS hides a received message (only consumers use it; the scheduler only sends).
const QUEUE_VISIBILITY: Duration = Duration::from_secs(120);

/// The job's configuration (read once per execution environment).
pub struct Job {
    pub db: Db,
    pub queue: Arc<dyn JobQueue>,
    pub config: BeatConfig,
}

impl Job {
    pub async fn from_env() -> anyhow::Result<Job> {
        let url = std::env::var("DATABASE_URL").context("DATABASE_URL is not set")?;
        let db = Db::connect(&url, 4)?;
        let queue = payroll_queue::from_env(QUEUE_VISIBILITY)
            .await
            .context("QUEUE_URL")?
            .context(
                "QUEUE_URL is not set (the queue the workers consume, e.g. the SQS queue URL)",
            )?;
        let config = BeatConfig::from_env()?;
        tracing::info!(
            transport = queue.transport(),
            ?config,
            "scheduler job configured"
        );
        Ok(Job { db, queue, config })
    }

    /// The Lambda handler.
    pub async fn handle(
        &self,
        event: LambdaEvent<EventBridgeEvent<Value>>,
    ) -> Result<Value, lambda_runtime::Error> {
        Ok(self.run(&event.payload).await?)
    }

    /// One beat for the event's day; returns the report (also logged as EMF metrics).
    pub async fn run(&self, event: &EventBridgeEvent<Value>) -> anyhow::Result<Value> {
        let at = event.time.unwrap_or_else(chrono::Utc::now);
        tracing::info!(source = %event.source, detail_type = %event.detail_type, %at,
            "scheduler beat");
        let report =
            match scheduler::beat(&self.db, self.queue.as_ref(), &self.config, at.date_naive())
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    emit_metrics(&json!({ "BeatErrors": 1 }));
                    return Err(e.into());
                }
            };
        emit_metrics(&metrics(&report));
        Ok(serde_json::to_value(&report)?)
    }
}

fn metrics(r: &BeatReport) -> Value {
    json!({
        "RunsCreated": r.created.len(),
        "RunsCalculated": r.calculated.len(),
        "RunsRedriven": r.redriven.len(),
        "EmployeesRedriven": r.employees_redriven(),
        "RunsGaveUp": r.gave_up.len(),
        "BeatErrors": r.errors.len(),
    })
}

/// One CloudWatch Embedded Metric Format record on stdout.
fn emit_metrics(values: &Value) {
    let Some(map) = values.as_object() else {
        return;
    };
    let metrics: Vec<Value> = map
        .keys()
        .map(|k| json!({ "Name": k, "Unit": "Count" }))
        .collect();
    let mut record = json!({
        "_aws": {
            "Timestamp": chrono::Utc::now().timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": "Payroll/Scheduler",
                "Dimensions": [["Function"]],
                "Metrics": metrics,
            }],
        },
        "Function": "job-scheduler",
    });
    if let Some(obj) = record.as_object_mut() {
        for (k, v) in map {
            obj.insert(k.clone(), v.clone());
        }
    }
    println!("{record}");
}
