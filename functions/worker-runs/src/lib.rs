//! The SQS-triggered run worker: each record of an [`SqsEvent`] is one payroll-run chunk (the
//! JSON of [`payroll_queue::Chunk`], as the API and the scheduler enqueue it). Every record is
//! calculated and stored ([`payroll_runs::process_chunk`], idempotent: results are written only
//! over pending items of the chunk's calculation attempt), and the response lists in
//! `batchItemFailures` exactly the records to be delivered again. The event source mapping must
//! have `FunctionResponseTypes: [ReportBatchItemFailures]`.
//!
//! What happens to a record:
//!
//! | record | outcome | reported |
//! |---|---|---|
//! | a chunk, stored (or a duplicate of one already stored, or of an old attempt) | done | success: SQS deletes it |
//! | a chunk whose calculation or storage failed, `ApproximateReceiveCount` < max deliveries | retried | failure: visible again after the visibility timeout |
//! | the same, on its last allowed delivery (`ApproximateReceiveCount` ≥ `PAYROLL_MAX_DELIVERIES`) | its still-pending employees are marked failed with the reason; the run completes and says so | success: SQS stops |
//! | a body that is not a chunk | left in the queue | failure |
//!
//! An unreadable body is reported failed rather than dropped: no retry will make it readable, but
//! reporting it keeps it in SQS, whose redrive policy (`maxReceiveCount`) then moves it to the
//! dead-letter queue where an operator can read it — nothing is lost and the function needs no
//! permission on the dead-letter queue. The same redrive covers a record that crashes or times out
//! the function on every delivery. Set `maxReceiveCount` above `PAYROLL_MAX_DELIVERIES`, so a chunk
//! that fails cleanly is settled by this function (employees marked failed) before the redrive.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::LambdaEvent;
use payroll_queue::Chunk;
use payroll_runs::{ChunkOutcome, error_chain};
use payroll_store::Db;

/// `PAYROLL_MAX_DELIVERIES`: deliveries after which a failing chunk's employees are marked failed.
pub const ENV_MAX_DELIVERIES: &str = "PAYROLL_MAX_DELIVERIES";
pub const DEFAULT_MAX_DELIVERIES: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name} must be an integer from {min} to {max}, got {value:?}")]
    OutOfRange {
        name: &'static str,
        value: String,
        min: u32,
        max: u32,
    },
    #[error("DATABASE_URL: {0}")]
    Database(String),
}

/// What one record came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    /// Stored (`items` 0 for a duplicate), or skipped (the run is no longer calculating that
    /// attempt).
    Done(ChunkOutcome),
    /// Failed on its last allowed delivery: the chunk's pending employees were marked failed.
    GaveUp { reason: String },
    /// Failed; to be delivered again.
    Retry { reason: String },
    /// The body is not a chunk.
    Unreadable { reason: String },
}

impl RecordOutcome {
    /// Whether SQS should deliver the record again.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            RecordOutcome::Retry { .. } | RecordOutcome::Unreadable { .. }
        )
    }
}

/// The function's state, built once per execution environment.
pub struct Worker {
    pub db: Db,
    pub max_deliveries: u32,
}

fn env_u32(name: &'static str, default: u32, min: u32, max: u32) -> Result<u32, ConfigError> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(v) if v.trim().is_empty() => Ok(default),
        Ok(v) => match v.trim().parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ConfigError::OutOfRange {
                name,
                value: v,
                min,
                max,
            }),
        },
    }
}

impl Worker {
    /// `DATABASE_URL` (required), `DB_POOL_SIZE` (default 2), `PAYROLL_MAX_DELIVERIES`
    /// (default 5).
    pub fn from_env() -> Result<Worker, ConfigError> {
        let url = std::env::var("DATABASE_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .ok_or(ConfigError::Missing("DATABASE_URL"))?;
        let pool = env_u32("DB_POOL_SIZE", 2, 1, 100)?;
        let max_deliveries = env_u32(ENV_MAX_DELIVERIES, DEFAULT_MAX_DELIVERIES, 1, 1000)?;
        let db =
            Db::connect(&url, pool as usize).map_err(|e| ConfigError::Database(e.to_string()))?;
        Ok(Worker { db, max_deliveries })
    }

    /// The Lambda handler.
    pub async fn handle(
        &self,
        event: LambdaEvent<SqsEvent>,
    ) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        Ok(self.process(&event.payload).await)
    }

    /// Process every record (concurrently; the calculations run on the blocking pool) and
    /// report the ones to deliver again.
    pub async fn process(&self, event: &SqsEvent) -> SqsBatchResponse {
        let outcomes =
            futures_util::future::join_all(event.records.iter().map(|r| self.process_record(r)))
                .await;
        let mut response = SqsBatchResponse::default();
        for (record, outcome) in event.records.iter().zip(outcomes) {
            if outcome.is_failure() {
                // A record without a message id cannot be named; an empty identifier makes
                // Lambda retry the whole batch, which is the safe reading.
                response.add_failure(record.message_id.clone().unwrap_or_default());
            }
        }
        response
    }

    /// Calculate one record's chunk; never fails (the outcome says what to report).
    pub async fn process_record(&self, record: &SqsMessage) -> RecordOutcome {
        let id = record.message_id.as_deref().unwrap_or("");
        let deliveries = receive_count(record);
        let body = record.body.as_deref().unwrap_or("");
        let chunk: Chunk = match serde_json::from_str(body) {
            Ok(c) => c,
            Err(e) => {
                let reason = format!("the message body is not a chunk: {e}");
                tracing::error!(message_id = id, deliveries, error = %reason,
                    "unreadable record: left for the queue's redrive policy (dead-letter queue)");
                return RecordOutcome::Unreadable { reason };
            }
        };
        match payroll_runs::process_chunk(&self.db, &chunk).await {
            Ok(outcome) => {
                tracing::info!(message_id = id, run = %chunk.run_id, chunk = chunk.index,
                    deliveries, outcome = ?outcome, "chunk processed");
                RecordOutcome::Done(outcome)
            }
            Err(e) => {
                let reason = error_chain(&e);
                if deliveries < self.max_deliveries {
                    tracing::warn!(message_id = id, run = %chunk.run_id, chunk = chunk.index,
                        deliveries, error = %reason, "chunk failed; SQS will deliver it again");
                    return RecordOutcome::Retry { reason };
                }
                match payroll_runs::fail_chunk(&self.db, &chunk, &reason).await {
                    Ok(()) => {
                        tracing::error!(message_id = id, run = %chunk.run_id, chunk = chunk.index,
                            deliveries, error = %reason, "chunk gave up: its employees are marked failed");
                        RecordOutcome::GaveUp { reason }
                    }
                    Err(e2) => {
                        tracing::error!(message_id = id, run = %chunk.run_id, chunk = chunk.index,
                            error = %reason, mark_error = %e2,
                            "could not mark the chunk's employees failed; SQS will deliver it again");
                        RecordOutcome::Retry {
                            reason: format!("{reason}; marking the employees failed: {e2}"),
                        }
                    }
                }
            }
        }
    }
}

/// `attributes.ApproximateReceiveCount` (1 when absent or unreadable).
pub fn receive_count(record: &SqsMessage) -> u32 {
    record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|n| n.trim().parse::<u32>().ok())
        .unwrap_or(1)
        .max(1)
}
