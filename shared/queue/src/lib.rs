//! The job queue of payroll runs: one trait ([`JobQueue`]) and its transports.
//!
//! - [`InProcessQueue`]: a tokio channel inside one process (`payroll serve` without `QUEUE_URL`);
//! - [`RedisStreamsQueue`]: a Redis stream read through a consumer group (`XADD`, `XREADGROUP`,
//!   `XACK`); a message a crashed consumer never acknowledged is taken over by another consumer
//!   with `XAUTOCLAIM` once it has been idle longer than the visibility timeout;
//! - [`SqsQueue`]: Amazon SQS (the AWS deployment); an undeleted message becomes visible again
//!   after the visibility timeout, `ApproximateReceiveCount` counts the deliveries.
//!
//! [`from_env`] / [`connect`] choose the transport from `QUEUE_URL` (see [`select`]).
//!
//! Delivery is at least once: a message may arrive twice (redelivery, or two workers on one chunk),
//! so consumers must be idempotent. Payroll workers are: results are upserted keyed by
//! (run, employee). A message delivered more than `max_deliveries` times goes to the dead-letter
//! list (the consumer decides, using [`Delivery::deliveries`]).

use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};
use uuid::Uuid;

mod redis_streams;
pub mod select;
pub mod sqs;
pub use redis_streams::{DEFAULT_GROUP, DEFAULT_STREAM, RedisStreamsQueue};
pub use select::{QueueKind, QueueSettings, connect, from_env, kind_of};
pub use sqs::{SqsOptions, SqsQueue};

/// One unit of work: calculate these employees of this run (for this calculation attempt).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    pub tenant_id: Uuid,
    pub run_id: Uuid,
    /// The run's calculation attempt; a chunk of an older attempt is ignored.
    pub attempt: i32,
    /// Position of the chunk in the run (for logs).
    pub index: u32,
    pub employee_ids: Vec<Uuid>,
}

impl Chunk {
    /// Split `employee_ids` into chunks of at most `size` (at least 1).
    pub fn split(
        tenant_id: Uuid,
        run_id: Uuid,
        attempt: i32,
        employee_ids: &[Uuid],
        size: usize,
    ) -> Vec<Chunk> {
        employee_ids
            .chunks(size.max(1))
            .enumerate()
            .map(|(i, ids)| Chunk {
                tenant_id,
                run_id,
                attempt,
                index: u32::try_from(i).unwrap_or(u32::MAX),
                employee_ids: ids.to_vec(),
            })
            .collect()
    }
}

/// A received message, to be acknowledged (done) or not (delivered again later).
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The transport's message id (stream entry id, or a local counter).
    pub id: String,
    pub chunk: Chunk,
    /// How many times this message has been delivered, this time included (1 the first time).
    pub deliveries: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("sqs: {0}")]
    Sqs(String),
    #[error("message {id}: {message}")]
    BadMessage { id: String, message: String },
    #[error("the queue is closed")]
    Closed,
    #[error("configuration: {0}")]
    Config(String),
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A queue of chunks. Object safe (`Arc<dyn JobQueue>`).
pub trait JobQueue: Send + Sync {
    /// Add chunks (in one round trip where the transport allows).
    fn enqueue<'a>(&'a self, chunks: &'a [Chunk]) -> BoxFuture<'a, Result<(), QueueError>>;
    /// Up to `max` messages, waiting at most `wait` for the first one (empty on timeout).
    fn receive(
        &self,
        max: usize,
        wait: Duration,
    ) -> BoxFuture<'_, Result<Vec<Delivery>, QueueError>>;
    /// Done: never deliver it again.
    fn ack<'a>(&'a self, d: &'a Delivery) -> BoxFuture<'a, Result<(), QueueError>>;
    /// Failed: deliver it again (now, or after the visibility timeout).
    fn nack<'a>(&'a self, d: &'a Delivery) -> BoxFuture<'a, Result<(), QueueError>>;
    /// Gave up: move it to the dead-letter list with the reason, and never deliver it again.
    fn dead_letter<'a>(
        &'a self,
        d: &'a Delivery,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<(), QueueError>>;
    /// A short name for logs (`in-process`, `redis-streams`, `sqs`).
    fn transport(&self) -> &'static str;
}

/// The in-process transport: an unbounded tokio channel shared by the producers and the local
/// consumers. Nothing survives the process.
pub struct InProcessQueue {
    tx: mpsc::UnboundedSender<Delivery>,
    rx: Mutex<mpsc::UnboundedReceiver<Delivery>>,
    next_id: AtomicU64,
    dead: std::sync::Mutex<Vec<(Delivery, String)>>,
}

impl Default for InProcessQueue {
    fn default() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        InProcessQueue {
            tx,
            rx: Mutex::new(rx),
            next_id: AtomicU64::new(1),
            dead: std::sync::Mutex::new(Vec::new()),
        }
    }
}

impl InProcessQueue {
    pub fn new() -> Arc<InProcessQueue> {
        Arc::new(InProcessQueue::default())
    }

    /// The dead-lettered messages so far, with their reasons.
    pub fn dead_letters(&self) -> Vec<(Delivery, String)> {
        self.dead.lock().map(|d| d.clone()).unwrap_or_default()
    }
}

impl JobQueue for InProcessQueue {
    fn enqueue<'a>(&'a self, chunks: &'a [Chunk]) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            for c in chunks {
                let id = self.next_id.fetch_add(1, Ordering::Relaxed).to_string();
                self.tx
                    .send(Delivery {
                        id,
                        chunk: c.clone(),
                        deliveries: 1,
                    })
                    .map_err(|_| QueueError::Closed)?;
            }
            Ok(())
        })
    }

    fn receive(
        &self,
        max: usize,
        wait: Duration,
    ) -> BoxFuture<'_, Result<Vec<Delivery>, QueueError>> {
        Box::pin(async move {
            let mut rx = self.rx.lock().await;
            let mut out = Vec::new();
            match tokio::time::timeout(wait, rx.recv()).await {
                Ok(Some(d)) => out.push(d),
                Ok(None) => return Err(QueueError::Closed),
                Err(_) => return Ok(out),
            }
            while out.len() < max {
                match rx.try_recv() {
                    Ok(d) => out.push(d),
                    Err(_) => break,
                }
            }
            Ok(out)
        })
    }

    fn ack<'a>(&'a self, _d: &'a Delivery) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async { Ok(()) })
    }

    fn nack<'a>(&'a self, d: &'a Delivery) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            let mut again = d.clone();
            again.deliveries = again.deliveries.saturating_add(1);
            self.tx.send(again).map_err(|_| QueueError::Closed)
        })
    }

    fn dead_letter<'a>(
        &'a self,
        d: &'a Delivery,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            if let Ok(mut dead) = self.dead.lock() {
                dead.push((d.clone(), reason.to_owned()));
            }
            Ok(())
        })
    }

    fn transport(&self) -> &'static str {
        "in-process"
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn chunk(i: u32) -> Chunk {
        Chunk {
            tenant_id: Uuid::nil(),
            run_id: Uuid::nil(),
            attempt: 1,
            index: i,
            employee_ids: vec![Uuid::from_u128(u128::from(i))],
        }
    }

    #[test]
    fn split_makes_chunks_of_at_most_size() {
        let ids: Vec<Uuid> = (0..1201u128).map(Uuid::from_u128).collect();
        let chunks = Chunk::split(Uuid::nil(), Uuid::nil(), 3, &ids, 500);
        assert_eq!(
            chunks
                .iter()
                .map(|c| c.employee_ids.len())
                .collect::<Vec<_>>(),
            vec![500, 500, 201]
        );
        assert_eq!(chunks[2].index, 2);
        assert_eq!(chunks[2].attempt, 3);
        assert_eq!(chunks[1].employee_ids[0], Uuid::from_u128(500));
    }

    #[tokio::test]
    async fn in_process_delivers_nacked_messages_again() {
        let q = InProcessQueue::new();
        q.enqueue(&[chunk(0), chunk(1)]).await.unwrap();
        let got = q.receive(10, Duration::from_millis(100)).await.unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].deliveries, 1);
        q.ack(&got[0]).await.unwrap();
        q.nack(&got[1]).await.unwrap();
        let again = q.receive(10, Duration::from_millis(100)).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].chunk, chunk(1));
        assert_eq!(again[0].deliveries, 2);
        q.dead_letter(&again[0], "boom").await.unwrap();
        assert_eq!(q.dead_letters().len(), 1);
        let none = q.receive(10, Duration::from_millis(50)).await.unwrap();
        assert!(none.is_empty());
    }
}
