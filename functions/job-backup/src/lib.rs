//! The backup job: on each scheduled event, snapshot DATABASE_URL to BACKUP_URL (encrypted with
//! PAYROLL_BACKUP_KEY), then prune snapshots older than BACKUP_KEEP_DAYS (default 30; never the
//! newest complete one). The outcome is logged as one CloudWatch Embedded Metric Format line
//! (namespace `Payroll/Backup`: `BackupSuccess`, `BackupRows`, `BackupBytes`,
//! `BackupDurationSeconds`, `SnapshotsPruned`), which a CloudWatch alarm watches for the RPO.

use anyhow::Context as _;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::LambdaEvent;
use payroll_cloud::Store;
use payroll_store::backup::{self, BackupKey, NoProgress};
use serde_json::{Value, json};
use tokio_postgres::NoTls;

/// The job's configuration (read once per execution environment).
pub struct Job {
    pub database_url: String,
    pub store: Store,
    pub key: BackupKey,
    pub keep_days: u32,
}

impl Job {
    pub async fn from_env() -> anyhow::Result<Job> {
        let var = |n: &str| std::env::var(n).with_context(|| format!("{n} is not set"));
        let keep_days = match std::env::var("BACKUP_KEEP_DAYS") {
            Ok(v) => v
                .parse()
                .context("BACKUP_KEEP_DAYS must be a number of days")?,
            Err(_) => 30,
        };
        Ok(Job {
            database_url: var("DATABASE_URL")?,
            store: Store::from_url(&var("BACKUP_URL")?).await?,
            key: BackupKey::from_env()?,
            keep_days,
        })
    }

    /// The Lambda handler.
    pub async fn handle(
        &self,
        event: LambdaEvent<EventBridgeEvent<Value>>,
    ) -> Result<Value, lambda_runtime::Error> {
        Ok(self.run(&event.payload).await?)
    }

    /// Back up, then prune; returns a summary (also logged as EMF metrics).
    pub async fn run(&self, event: &EventBridgeEvent<Value>) -> anyhow::Result<Value> {
        tracing::info!(source = %event.source, detail_type = %event.detail_type,
            time = ?event.time, "scheduled backup");
        let (client, conn) = tokio_postgres::connect(&self.database_url, NoTls)
            .await
            .context("connect to the database")?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::error!(error = %e, "database connection");
            }
        });
        let manifest = match backup::backup(&client, &self.store, &self.key, &NoProgress).await {
            Ok(m) => m,
            Err(e) => {
                emit_metrics(&json!({ "BackupSuccess": 0 }));
                return Err(e.into());
            }
        };
        let pruned = backup::prune(&self.store, self.keep_days, chrono::Utc::now()).await?;
        let duration = manifest.duration_ms as f64 / 1000.0;
        emit_metrics(&json!({
            "BackupSuccess": 1,
            "BackupRows": manifest.total_rows,
            "BackupBytes": manifest.total_bytes,
            "BackupDurationSeconds": duration,
            "SnapshotsPruned": pruned.len(),
        }));
        Ok(json!({
            "snapshot": manifest.id,
            "tables": manifest.tables.len(),
            "rows": manifest.total_rows,
            "bytes": manifest.total_bytes,
            "duration_seconds": duration,
            "schema_version": manifest.schema_version,
            "pruned": pruned,
        }))
    }
}

/// One CloudWatch Embedded Metric Format record on stdout (turned into metrics by CloudWatch Logs).
fn emit_metrics(values: &Value) {
    let Some(map) = values.as_object() else {
        return;
    };
    let unit = |name: &str| match name {
        "BackupBytes" => "Bytes",
        "BackupDurationSeconds" => "Seconds",
        _ => "Count",
    };
    let metrics: Vec<Value> = map
        .keys()
        .map(|k| json!({ "Name": k, "Unit": unit(k) }))
        .collect();
    let mut record = json!({
        "_aws": {
            "Timestamp": chrono::Utc::now().timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": "Payroll/Backup",
                "Dimensions": [["Function"]],
                "Metrics": metrics,
            }],
        },
        "Function": "job-backup",
    });
    if let Some(obj) = record.as_object_mut() {
        for (k, v) in map {
            obj.insert(k.clone(), v.clone());
        }
    }
    println!("{record}");
}
