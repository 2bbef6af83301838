//! `payroll backup [run|list|prune]` and `payroll restore`: snapshots of the database to
//! BACKUP_URL (`s3://bucket/prefix` or `file:///path`), encrypted with PAYROLL_BACKUP_KEY.
//! The work is in `payroll_store::backup`; this module reads the configuration, draws progress
//! bars on a terminal and prints one summary line per command.

use crate::failure::Failure;
use indicatif::{ProgressBar, ProgressStyle};
use payroll_cloud::Store;
use payroll_store::backup::{self, BackupError, BackupKey, Progress, RestoreOptions};
use std::io::IsTerminal;
use std::sync::Mutex;
use tokio_postgres::{Client, NoTls};

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::internal(format!("cannot start the async runtime: {e}")))
}

fn fail(e: BackupError) -> Failure {
    if e.is_client_error() {
        Failure::input(e.to_string())
    } else {
        Failure::internal(e.to_string())
    }
}

fn env(name: &str, example: &str) -> Result<String, Failure> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Failure::input(format!("{name} is not set (e.g. {example})")))
}

async fn store() -> Result<Store, Failure> {
    let url = env(
        "BACKUP_URL",
        "s3://my-bucket/payroll or file:///var/backups/payroll",
    )?;
    Store::from_url(&url)
        .await
        .map_err(|e| Failure::input(e.to_string()))
}

fn key() -> Result<BackupKey, Failure> {
    BackupKey::from_env().map_err(fail)
}

async fn connect(url: &str) -> Result<Client, Failure> {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|e| Failure::input(format!("cannot connect to the database: {e}")))?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            eprintln!("database connection: {e}");
        }
    });
    Ok(client)
}

/// One bar per table on a terminal; nothing otherwise.
struct Bars {
    verb: &'static str,
    bar: Mutex<Option<ProgressBar>>,
    enabled: bool,
}

impl Bars {
    fn new(verb: &'static str) -> Bars {
        Bars {
            verb,
            bar: Mutex::new(None),
            enabled: std::io::stderr().is_terminal(),
        }
    }
}

impl Progress for Bars {
    fn begin(&self, table: &str, expected_rows: u64) {
        if !self.enabled {
            return;
        }
        let bar = ProgressBar::new(expected_rows.max(1));
        let style = ProgressStyle::with_template(
            "{prefix:>24} [{bar:30}] {human_pos}/{human_len} rows {per_sec} {elapsed}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(format!("{} {table}", self.verb));
        if let Ok(mut b) = self.bar.lock() {
            *b = Some(bar);
        }
    }

    fn advance(&self, rows: u64) {
        if let Ok(b) = self.bar.lock()
            && let Some(bar) = b.as_ref()
        {
            bar.inc(rows);
        }
    }

    fn end(&self, _table: &str, rows: u64, _bytes: u64) {
        if let Ok(mut b) = self.bar.lock()
            && let Some(bar) = b.take()
        {
            bar.set_length(rows.max(1));
            bar.set_position(rows);
            bar.finish();
        }
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Write the backup gauges in Prometheus text format (for a Pushgateway or node_exporter's
/// textfile collector: a short-lived job has no /metrics to scrape).
fn write_metrics(path: &std::path::Path, m: &backup::Manifest, ok: bool) -> Result<(), Failure> {
    use backup::metric;
    let now = chrono::Utc::now().timestamp();
    let mut s = String::new();
    let mut gauge = |name: &str, help: &str, value: String| {
        s.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
        ));
    };
    if ok {
        gauge(
            metric::LAST_SUCCESS,
            "Unix time of the last successful backup.",
            now.to_string(),
        );
        gauge(
            metric::DURATION,
            "Duration of the last successful backup, seconds.",
            format!("{:.3}", m.duration_ms as f64 / 1000.0),
        );
        gauge(
            metric::BYTES,
            "Bytes stored by the last successful backup.",
            m.total_bytes.to_string(),
        );
        gauge(
            metric::ROWS,
            "Rows in the last successful backup.",
            m.total_rows.to_string(),
        );
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, s)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| Failure::internal(format!("cannot write {}: {e}", path.display())))
}

/// `payroll backup [run]`: snapshot DATABASE_URL to BACKUP_URL.
pub fn run(metrics_file: Option<&std::path::Path>) -> Result<(), Failure> {
    runtime()?.block_on(async {
        let key = key()?;
        let store = store().await?;
        let url = env(
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/payroll",
        )?;
        let client = connect(&url).await?;
        let m = backup::backup(&client, &store, &key, &Bars::new("backup"))
            .await
            .map_err(fail)?;
        if let Some(p) = metrics_file {
            write_metrics(p, &m, true)?;
        }
        let secs = m.duration_ms as f64 / 1000.0;
        println!(
            "snapshot {} written to {}: {} tables, {} rows, {} stored in {:.2} s ({:.0} rows/s), schema version {}",
            m.id,
            store_location(&store),
            m.tables.len(),
            m.total_rows,
            mib(m.total_bytes),
            secs,
            m.total_rows as f64 / secs.max(0.001),
            m.schema_version
        );
        Ok(())
    })
}

fn store_location(store: &Store) -> String {
    use payroll_cloud::ObjectStorage;
    store.location()
}

/// `payroll backup list`.
pub fn list() -> Result<(), Failure> {
    runtime()?.block_on(async {
        let store = store().await?;
        let snapshots = backup::list(&store).await.map_err(fail)?;
        if snapshots.is_empty() {
            println!("no snapshots in {}", store_location(&store));
        }
        for s in snapshots {
            println!(
                "{}  {}  {:>5} objects  {:>10}  {}",
                s.id,
                s.at.format("%Y-%m-%d %H:%M:%S UTC"),
                s.objects,
                mib(s.bytes),
                if s.complete { "complete" } else { "INCOMPLETE" }
            );
        }
        Ok(())
    })
}

/// `payroll backup prune --keep-days N`.
pub fn prune(keep_days: u32) -> Result<(), Failure> {
    runtime()?.block_on(async {
        let store = store().await?;
        let removed = backup::prune(&store, keep_days, chrono::Utc::now())
            .await
            .map_err(fail)?;
        for id in &removed {
            println!("removed {id}");
        }
        println!(
            "pruned {} snapshot(s) older than {keep_days} days from {}",
            removed.len(),
            store_location(&store)
        );
        Ok(())
    })
}

/// `payroll restore [--snapshot ID|latest] --database-url URL [--force] [--jobs N]`.
pub fn restore(
    snapshot: &str,
    database_url: &str,
    force: bool,
    jobs: usize,
) -> Result<(), Failure> {
    runtime()?.block_on(async {
        let key = key()?;
        let store = store().await?;
        let manifest = backup::manifest(&store, &key, snapshot)
            .await
            .map_err(fail)?;
        eprintln!(
            "restoring snapshot {} ({} tables, {} rows, schema version {}, taken {})",
            manifest.id,
            manifest.tables.len(),
            manifest.total_rows,
            manifest.schema_version,
            manifest.started_at
        );
        let report = backup::restore(
            database_url,
            &store,
            &key,
            &manifest,
            &RestoreOptions { force, jobs },
            &Bars::new("restore"),
        )
        .await
        .map_err(fail)?;
        let phases: Vec<String> = report
            .phases
            .iter()
            .map(|(name, secs)| format!("{name} {secs:.2} s"))
            .collect();
        println!(
            "restored snapshot {}: {} tables, {} rows verified in {:.2} s ({:.0} rows/s) on {} connections ({}), schema version {}",
            report.snapshot,
            report.tables,
            report.rows,
            report.seconds,
            report.rows as f64 / report.seconds.max(0.001),
            report.jobs,
            phases.join(", "),
            report.schema_version
        );
        Ok(())
    })
}
