//! `payroll scheduler`: the scheduler's beat (`payroll_runs::scheduler::beat`) in a loop, every
//! `--interval` seconds, until SIGTERM / Ctrl-C (a beat in progress finishes first). It is the
//! Kubernetes and single-machine counterpart of the `job-scheduler` Lambda function.
//!
//! The beat's settings come from the flags, else the environment (`SCHEDULER_LEAD_DAYS`,
//! `SCHEDULER_AUTO_CALCULATE`, `SCHEDULER_STUCK_AFTER_SECONDS`, `SCHEDULER_MAX_REDRIVES`,
//! `PAYROLL_RUN_CHUNK_SIZE`, `SCHEDULER_INTERVAL_SECONDS`), else the defaults. Chunks go to the
//! queue `QUEUE_URL` names (Redis Streams or SQS, worked by `payroll worker`); without
//! `QUEUE_URL` this process works them itself on an in-process queue (the single-process
//! default). `--once` runs one beat, prints its report as one JSON object on stdout (and nothing
//! else) and exits — with the in-process queue, after the runs it calculated or re-drove have
//! finished; a CronJob can run it instead of the loop.

use crate::failure::Failure;
use payroll_queue::{InProcessQueue, JobQueue};
use payroll_runs::scheduler::{self, BeatConfig, BeatReport, ConfigError};
use payroll_runs::worker::{self, WorkerConfig};
use payroll_store::Db;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Seconds between beats when neither `--interval` nor `SCHEDULER_INTERVAL_SECONDS` says.
pub const DEFAULT_INTERVAL_SECS: u64 = 60;
pub const ENV_INTERVAL: &str = "SCHEDULER_INTERVAL_SECONDS";

/// The command line's overrides (None: from the environment).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub interval: Option<u64>,
    pub once: bool,
    pub lead_days: Option<u32>,
    pub auto_calculate: Option<bool>,
    pub stuck_after: Option<u64>,
    pub max_redrives: Option<u32>,
}

fn config_failure(e: ConfigError) -> Failure {
    Failure::input(e.to_string())
}

/// The beat settings: environment, then flags.
pub fn config(o: &Overrides) -> Result<(BeatConfig, Duration), Failure> {
    let mut cfg = BeatConfig::from_env().map_err(config_failure)?;
    if let Some(n) = o.lead_days {
        if n > scheduler::MAX_LEAD_DAYS {
            return Err(Failure::input(format!(
                "--lead-days: must be from 0 to {}",
                scheduler::MAX_LEAD_DAYS
            )));
        }
        cfg.lead_days = n;
    }
    if let Some(b) = o.auto_calculate {
        cfg.auto_calculate = b;
    }
    if let Some(s) = o.stuck_after {
        if s == 0 {
            return Err(Failure::input("--stuck-after: must be at least 1 second"));
        }
        cfg.stuck_after = Duration::from_secs(s);
    }
    if let Some(n) = o.max_redrives {
        cfg.max_redrives = n;
    }
    let interval = match o.interval {
        Some(s) => s,
        None => match std::env::var(ENV_INTERVAL)
            .ok()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
        {
            Some(v) => v.parse().map_err(|_| {
                Failure::input(format!("{ENV_INTERVAL}: must be a number of seconds"))
            })?,
            None => DEFAULT_INTERVAL_SECS,
        },
    };
    if interval == 0 {
        return Err(Failure::input("--interval: must be at least 1 second"));
    }
    Ok((cfg, Duration::from_secs(interval)))
}

pub fn scheduler(o: &Overrides) -> Result<(), Failure> {
    let (cfg, interval) = config(o)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::internal(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async {
        // --once: the report on stdout is the whole output (no JSON log lines around it).
        if !o.once {
            payroll_api::telemetry::init();
        }
        let url = std::env::var("DATABASE_URL").map_err(|_| {
            Failure::input(
                "DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/payroll)",
            )
        })?;
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let db = Db::connect(&url, workers * 2 + 4).map_err(|e| Failure::input(e.to_string()))?;
        let (stop, stopped) = watch::channel(false);
        let stop = Arc::new(stop);
        let external = crate::worker::queue_from_env(Duration::from_secs(120)).await?;
        let mut local_worker = None;
        let queue: Arc<dyn JobQueue> = match external {
            Some(q) => q,
            None => {
                let q: Arc<dyn JobQueue> = InProcessQueue::new();
                let cfg = WorkerConfig {
                    concurrency: workers,
                    ..WorkerConfig::default()
                };
                local_worker = Some(tokio::spawn(worker::run(
                    db.clone(),
                    q.clone(),
                    cfg,
                    stopped.clone(),
                )));
                q
            }
        };
        tracing::info!(
            transport = queue.transport(),
            ?cfg,
            interval_secs = interval.as_secs(),
            once = o.once,
            "payroll scheduler started"
        );

        let outcome = if o.once {
            once(&db, queue.as_ref(), &cfg, local_worker.is_some()).await
        } else {
            let on_signal = stop.clone();
            tokio::spawn(async move {
                payroll_api::runtime::shutdown_signal().await;
                tracing::info!("shutting down after the current beat");
                let _ = on_signal.send(true);
            });
            beat_loop(&db, queue.as_ref(), &cfg, interval, stopped.clone()).await;
            Ok(())
        };
        // The local worker finishes its chunks in flight, then stops.
        let _ = stop.send(true);
        if let Some(w) = local_worker {
            let _ = tokio::time::timeout(Duration::from_secs(60), w).await;
        }
        tracing::info!("payroll scheduler stopped");
        outcome
    })
}

/// Beat, then wait `interval` (or until shutdown), until shutdown.
async fn beat_loop(
    db: &Db,
    queue: &dyn JobQueue,
    cfg: &BeatConfig,
    interval: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        if *stopped.borrow() {
            break;
        }
        let today = chrono::Utc::now().date_naive();
        match scheduler::beat(db, queue, cfg, today).await {
            Ok(r) => {
                for e in &r.errors {
                    tracing::error!(tenant = %e.tenant_id, run = ?e.run_id, error = %e.message,
                        "scheduler beat issue");
                }
            }
            Err(e) => tracing::error!(error = %e, "scheduler beat failed; trying again next beat"),
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stopped.changed() => break,
        }
    }
}

/// One beat; print the report; with the in-process queue, wait for the work it queued.
async fn once(db: &Db, queue: &dyn JobQueue, cfg: &BeatConfig, local: bool) -> Result<(), Failure> {
    let today = chrono::Utc::now().date_naive();
    let report = scheduler::beat(db, queue, cfg, today)
        .await
        .map_err(|e| Failure::internal(format!("scheduler beat: {e}")))?;
    if local {
        wait_for(db, &report).await?;
    }
    let text =
        serde_json::to_string(&report).map_err(|e| Failure::internal(format!("report: {e}")))?;
    println!("{text}");
    Ok(())
}

/// Until none of the runs the beat calculated or re-drove is still calculating (at most 30 min).
async fn wait_for(db: &Db, r: &BeatReport) -> Result<(), Failure> {
    let mut runs: Vec<(uuid::Uuid, uuid::Uuid)> = r
        .calculated
        .iter()
        .map(|c| (c.tenant_id, c.run_id))
        .chain(r.redriven.iter().map(|d| (d.tenant_id, d.run_id)))
        .collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1800);
    while !runs.is_empty() {
        let mut left = Vec::new();
        for (tenant, run) in runs {
            let tx = db
                .tenant_tx(tenant)
                .await
                .map_err(|e| Failure::internal(e.to_string()))?;
            let status = payroll_runs::get_run(&tx, run)
                .await
                .map_err(|e| Failure::internal(e.to_string()))?
                .status;
            tx.commit()
                .await
                .map_err(|e| Failure::internal(e.to_string()))?;
            if status == payroll_domain::runs::RunStatus::Calculating {
                left.push((tenant, run));
            }
        }
        runs = left;
        if runs.is_empty() {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            return Err(Failure::internal("runs still calculating after 30 minutes"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}
