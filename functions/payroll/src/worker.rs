//! `payroll worker`: consume payroll-run chunks from the queue named by `QUEUE_URL`
//! (`redis://host:6379` → Redis Streams consumer group; an SQS queue URL → Amazon SQS, or an
//! emulator such as moto for `http://host:port/<account>/<queue>`; see `payroll_queue::select`)
//! and calculate them, several at once, until SIGTERM / Ctrl-C (chunks in flight finish first).
//! A chunk left unacknowledged by a killed worker is taken over by another after
//! `--visibility-timeout` seconds.
//!
//! Test/chaos knob: `PAYROLL_CHAOS_ACK_DELAY_MS=N` holds every chunk N ms after its results are
//! stored and before it is acknowledged, so a test can kill the worker (`kill -9`) at a known
//! point: results committed, message not yet acknowledged. Unset — the default, and the only
//! setting for production — it does nothing.

use crate::failure::Failure;
use payroll_queue::{BoxFuture, Chunk, Delivery, JobQueue, QueueError};
use payroll_runs::worker::{WorkerConfig, run};
use std::sync::Arc;
use std::time::Duration;

/// The job queue named by `QUEUE_URL` (with `QUEUE_STREAM`, `QUEUE_GROUP`, `QUEUE_DLQ_URL`), if set.
pub async fn queue_from_env(visibility: Duration) -> Result<Option<Arc<dyn JobQueue>>, Failure> {
    payroll_queue::from_env(visibility)
        .await
        .map_err(|e| Failure::input(format!("QUEUE_URL: {e}")))
}

/// See the module documentation: `PAYROLL_CHAOS_ACK_DELAY_MS`.
pub const ENV_CHAOS_ACK_DELAY: &str = "PAYROLL_CHAOS_ACK_DELAY_MS";

/// A queue whose acknowledgements wait first (the chaos knob); everything else is the inner queue.
struct DelayedAck {
    inner: Arc<dyn JobQueue>,
    delay: Duration,
}

impl JobQueue for DelayedAck {
    fn enqueue<'a>(&'a self, chunks: &'a [Chunk]) -> BoxFuture<'a, Result<(), QueueError>> {
        self.inner.enqueue(chunks)
    }
    fn receive(
        &self,
        max: usize,
        wait: Duration,
    ) -> BoxFuture<'_, Result<Vec<Delivery>, QueueError>> {
        self.inner.receive(max, wait)
    }
    fn ack<'a>(&'a self, d: &'a Delivery) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            tracing::warn!(run = %d.chunk.run_id, chunk = d.chunk.index,
                delay_ms = u64::try_from(self.delay.as_millis()).unwrap_or(u64::MAX),
                "{ENV_CHAOS_ACK_DELAY}: holding a stored chunk before acknowledging it");
            tokio::time::sleep(self.delay).await;
            self.inner.ack(d).await
        })
    }
    fn nack<'a>(&'a self, d: &'a Delivery) -> BoxFuture<'a, Result<(), QueueError>> {
        self.inner.nack(d)
    }
    fn dead_letter<'a>(
        &'a self,
        d: &'a Delivery,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<(), QueueError>> {
        self.inner.dead_letter(d, reason)
    }
    fn transport(&self) -> &'static str {
        self.inner.transport()
    }
}

fn with_chaos(queue: Arc<dyn JobQueue>) -> Result<Arc<dyn JobQueue>, Failure> {
    let Some(v) = std::env::var(ENV_CHAOS_ACK_DELAY)
        .ok()
        .filter(|v| !v.trim().is_empty())
    else {
        return Ok(queue);
    };
    let ms: u64 = v.trim().parse().map_err(|_| {
        Failure::input(format!(
            "{ENV_CHAOS_ACK_DELAY} must be a number of milliseconds, got {v:?}"
        ))
    })?;
    tracing::warn!(
        delay_ms = ms,
        "{ENV_CHAOS_ACK_DELAY} is set: a test knob, never for production"
    );
    Ok(Arc::new(DelayedAck {
        inner: queue,
        delay: Duration::from_millis(ms),
    }))
}

pub fn worker(
    concurrency: usize,
    visibility_secs: u64,
    max_deliveries: u32,
) -> Result<(), Failure> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::internal(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async {
        payroll_api::telemetry::init();
        let url = std::env::var("DATABASE_URL").map_err(|_| {
            Failure::input(
                "DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/payroll)",
            )
        })?;
        let db = payroll_store::Db::connect(&url, concurrency.max(1) * 2 + 2)
            .map_err(|e| Failure::input(e.to_string()))?;
        let queue = queue_from_env(Duration::from_secs(visibility_secs))
            .await?
            .ok_or_else(|| {
                Failure::input(
                    "QUEUE_URL is not set (e.g. redis://127.0.0.1:6379, or an SQS queue URL)",
                )
            })?;
        let queue = with_chaos(queue)?;
        let (stop, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            payroll_api::runtime::shutdown_signal().await;
            let _ = stop.send(true);
        });
        tracing::info!(
            transport = queue.transport(),
            concurrency,
            "payroll worker started"
        );
        let cfg = WorkerConfig {
            concurrency,
            max_deliveries,
            ..WorkerConfig::default()
        };
        run(db, queue, cfg, rx).await;
        tracing::info!("payroll worker stopped");
        Ok(())
    })
}
