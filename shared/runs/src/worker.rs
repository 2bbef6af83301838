//! The consumer loop: receive chunks, calculate them (several at once), acknowledge the ones
//! stored, leave failed ones for redelivery, and dead-letter a chunk delivered `max_deliveries`
//! times (its employees are then marked failed with the reason).

use crate::engine::{ChunkOutcome, fail_chunk, process_chunk};
use payroll_queue::{Delivery, JobQueue};
use payroll_store::Db;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Chunks calculated at the same time.
    pub concurrency: usize,
    /// Deliveries after which a failing chunk is dead-lettered.
    pub max_deliveries: u32,
    /// How long one receive waits for a message.
    pub poll: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            concurrency: 2,
            max_deliveries: 5,
            poll: Duration::from_secs(1),
        }
    }
}

/// Handle one delivery completely (ack, nack or dead letter).
pub async fn handle(db: &Db, queue: &dyn JobQueue, d: &Delivery, max_deliveries: u32) {
    match process_chunk(db, &d.chunk).await {
        Ok(outcome) => {
            if let ChunkOutcome::Stored { items, completed } = outcome {
                tracing::debug!(run = %d.chunk.run_id, chunk = d.chunk.index, items, completed, "chunk stored");
            }
            if let Err(e) = queue.ack(d).await {
                tracing::warn!(error = %e, "ack failed; the chunk may be delivered again (harmless)");
            }
        }
        Err(e) => {
            let reason = crate::error_chain(&e);
            if d.deliveries >= max_deliveries {
                tracing::error!(run = %d.chunk.run_id, chunk = d.chunk.index, error = %reason, "chunk dead-lettered");
                if let Err(e2) = fail_chunk(db, &d.chunk, &reason).await {
                    tracing::error!(error = %e2, "could not mark the chunk's employees failed");
                    let _ = queue.nack(d).await;
                    return;
                }
                if let Err(e2) = queue.dead_letter(d, &reason).await {
                    tracing::error!(error = %e2, "could not dead-letter the chunk");
                }
            } else {
                tracing::warn!(run = %d.chunk.run_id, chunk = d.chunk.index, deliveries = d.deliveries, error = %reason, "chunk failed; will retry");
                if let Err(e2) = queue.nack(d).await {
                    tracing::warn!(error = %e2, "nack failed");
                }
            }
        }
    }
}

/// Consume until `shutdown` turns true; up to `concurrency` chunks in flight.
pub async fn run(
    db: Db,
    queue: Arc<dyn JobQueue>,
    cfg: WorkerConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let permits = Arc::new(tokio::sync::Semaphore::new(cfg.concurrency.max(1)));
    loop {
        if *shutdown.borrow() {
            break;
        }
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        let received = tokio::select! {
            r = queue.receive(1, cfg.poll) => r,
            _ = shutdown.changed() => break,
        };
        let batch = match received {
            Ok(b) => b,
            Err(payroll_queue::QueueError::Closed) => break,
            Err(e) => {
                tracing::warn!(error = %e, "receive failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let Some(d) = batch.into_iter().next() else {
            continue;
        };
        let db = db.clone();
        let q = queue.clone();
        let max = cfg.max_deliveries;
        tokio::spawn(async move {
            handle(&db, q.as_ref(), &d, max).await;
            drop(permit);
        });
    }
    // Wait for the chunks in flight.
    let _ = permits
        .acquire_many(u32::try_from(cfg.concurrency.max(1)).unwrap_or(1))
        .await;
}

/// Start an in-process worker on `queue` for this process (`payroll serve` without QUEUE_URL);
/// it stops when the queue is dropped.
pub fn spawn_in_process(db: Db, queue: Arc<dyn JobQueue>, cfg: WorkerConfig) {
    let (_tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let _keep = _tx;
        run(db, queue, cfg, rx).await;
    });
}
