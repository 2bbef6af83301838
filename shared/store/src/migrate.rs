//! Embedded SQL migrations, applied in order under an advisory lock, each in its own transaction,
//! recorded with a checksum so an edited, already-applied migration is refused.

use crate::db::Db;
use crate::error::StoreError;
use sha2::{Digest, Sha256};

/// (version, name, sql) in order. Every file under `migrations/` must be listed (a test checks).
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "core", include_str!("../migrations/V001__core.sql")),
    (2, "org", include_str!("../migrations/V002__org.sql")),
    (
        3,
        "employees",
        include_str!("../migrations/V003__employees.sql"),
    ),
    (4, "time", include_str!("../migrations/V004__time.sql")),
    (5, "runs", include_str!("../migrations/V005__runs.sql")),
];

/// The newest schema version this build knows.
pub fn latest_version() -> i32 {
    MIGRATIONS.last().map(|m| m.0).unwrap_or(0)
}

/// The bookkeeping table (also created by restore, which migrates inside its own transaction).
pub const SCHEMA_MIGRATIONS_DDL: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())";

/// The checksum recorded for a migration's SQL.
pub fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

/// Apply every migration not yet applied. Returns the versions applied now.
pub async fn migrate(db: &Db) -> Result<Vec<i32>, StoreError> {
    let mut client = db.client().await?;
    // One migrator at a time across processes.
    client
        .batch_execute("SELECT pg_advisory_lock(7262011)")
        .await?;
    let result = apply(&mut client).await;
    let _ = client
        .batch_execute("SELECT pg_advisory_unlock(7262011)")
        .await;
    result
}

async fn apply(client: &mut tokio_postgres::Client) -> Result<Vec<i32>, StoreError> {
    client.batch_execute(SCHEMA_MIGRATIONS_DDL).await?;
    let rows = client
        .query("SELECT version, checksum FROM schema_migrations", &[])
        .await?;
    let applied: Vec<(i32, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let mut done = Vec::new();
    for (version, name, sql) in MIGRATIONS {
        let sum = checksum(sql);
        if let Some((_, have)) = applied.iter().find(|(v, _)| v == version) {
            if *have != sum {
                return Err(StoreError::Config(format!(
                    "migration V{version:03}__{name} was changed after it was applied"
                )));
            }
            continue;
        }
        let tx = client.transaction().await?;
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
            &[version, name, &sum],
        )
        .await?;
        tx.commit().await?;
        done.push(*version);
    }
    Ok(done)
}

/// The schema version of the database (0 when empty).
pub async fn current_version(db: &Db) -> Result<i32, StoreError> {
    let c = db.client().await?;
    let exists: bool = c
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
        .await?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let v: Option<i32> = c
        .query_one("SELECT max(version) FROM schema_migrations", &[])
        .await?
        .get(0);
    Ok(v.unwrap_or(0))
}
