//! `payroll worker`: consume payroll-run chunks from the queue named by `QUEUE_URL`
//! (`redis://host:6379` → Redis Streams consumer group) and calculate them, several at once,
//! until SIGTERM / Ctrl-C (chunks in flight finish first). A chunk left unacknowledged by a
//! killed worker is taken over by another after `--visibility-timeout` seconds.

use crate::failure::Failure;
use payroll_queue::{JobQueue, RedisStreamsQueue};
use payroll_runs::worker::{WorkerConfig, run};
use std::sync::Arc;
use std::time::Duration;

/// The job queue named by `QUEUE_URL`, if set (only `redis://` and `rediss://` for now).
pub async fn queue_from_env(visibility: Duration) -> Result<Option<Arc<dyn JobQueue>>, Failure> {
    let Some(url) = std::env::var("QUEUE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        return Ok(None);
    };
    if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
        return Err(Failure::input(format!(
            "QUEUE_URL: {url:?} is not supported (use redis://host:6379 for Redis Streams)"
        )));
    }
    let q = RedisStreamsQueue::from_url(&url, visibility)
        .await
        .map_err(|e| Failure::input(format!("QUEUE_URL: {e}")))?;
    Ok(Some(Arc::new(q)))
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
            .ok_or_else(|| Failure::input("QUEUE_URL is not set (e.g. redis://127.0.0.1:6379)"))?;
        let (stop, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown_signal().await;
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

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
