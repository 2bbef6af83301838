//! Backups and restore: consistent, compressed, encrypted, checksummed snapshots of every table.
//!
//! **Snapshot.** One `REPEATABLE READ, READ ONLY` transaction (so every table is read at the same
//! instant: a payroll run committed during the backup is either entirely in it or not at all, and
//! writers are never blocked). The table list comes from the catalog — every table of the
//! `public` schema except `schema_migrations`, in foreign-key dependency order — so tables added
//! by later migrations are included without a code change. `row_security` is off in that
//! transaction: a role subject to row-level security gets an error instead of a silently partial
//! backup.
//!
//! **Objects.** Each table is streamed with `COPY (columns) TO STDOUT` (text format: one line per
//! row, portable across PostgreSQL versions), compressed with zstd and encrypted with AES-256-GCM
//! (key: `PAYROLL_BACKUP_KEY`, base64 of 32 bytes) in frames, so memory stays bounded whatever the
//! table size. Object layout:
//!
//! ```text
//! "PAYRBAK1"                                  8-byte magic
//! frame*: flags u8 | len u32 BE | nonce [12] | ciphertext+tag [len]
//! ```
//!
//! A frame holds up to [`FRAME_SIZE`] bytes of compressed data. Its associated data binds the
//! snapshot id, the table, the frame index and the flags (bit 0 = last frame), so frames cannot be
//! reordered, swapped between tables or snapshots, or cut off without the restore noticing.
//! Each object's SHA-256 and the SHA-256 and row count of its plaintext COPY data are in the
//! manifest.
//!
//! **Manifest.** `<id>/manifest.json`, written last (a snapshot without one is incomplete): format,
//! snapshot id, app and schema versions, start/end time, the key's fingerprint, and per table its
//! columns, row count, sizes and checksums; authenticated with the backup key (`auth`).
//! Snapshot ids are the dated prefix `YYYY/MM/DD/HHMMSSZ` (UTC).
//!
//! **Restore** ([`restore`]) loads a snapshot into an empty database (a non-empty one is refused
//! unless forced, which replaces the `public` schema) on several connections: migrations up to
//! the manifest's schema version into a new `public` (the previous one is kept aside until the
//! end), `COPY ... FROM STDIN` of every table split in whole rows across the connections, row
//! counts and checksums verified before anything commits, then indexes, keys and statistics
//! built in parallel and sequences set to the loaded `max(id)`. Any failure drops what was
//! loaded and puts the previous `public` back, and the error names the table.

use crate::migrate::MIGRATIONS;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeDelta, Utc};
use futures_util::{SinkExt, TryStreamExt};
use payroll_cloud::{CloudError, ObjectStorage, Upload};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::time::Instant;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_postgres::{Client, CopyInSink};

/// Compressed bytes per encrypted frame.
pub const FRAME_SIZE: usize = 1024 * 1024;
/// The object header.
pub const MAGIC: &[u8; 8] = b"PAYRBAK1";
/// The manifest's format version.
pub const FORMAT: u32 = 1;
/// zstd level: fast, and still 5–10x on COPY text.
const ZSTD_LEVEL: i32 = 3;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const FLAG_LAST: u8 = 1;
/// Decompressed output is handed to COPY in pieces of this size (bounds memory on restore).
const FEED: usize = 64 * 1024;
/// COPY output is hashed and compressed in batches of about this size.
const BATCH: usize = 256 * 1024;
const MANIFEST: &str = "manifest.json";
const ID_FORMAT: &str = "%Y/%m/%d/%H%M%SZ";

#[derive(Debug, Error)]
pub enum BackupError {
    /// Missing or malformed configuration (key, URL).
    #[error("{0}")]
    Config(String),
    /// The backup key does not match the snapshot's.
    #[error("{0}")]
    WrongKey(String),
    /// A checksum, authentication tag, row count or structure did not match: the snapshot was
    /// altered or damaged. Nothing was restored.
    #[error("snapshot {snapshot} failed verification ({object}): {message}; nothing was restored")]
    Integrity {
        snapshot: String,
        object: String,
        message: String,
    },
    /// The operation was refused (non-empty target, unknown snapshot, schema too new...).
    #[error("{0}")]
    Refused(String),
    #[error("storage: {0}")]
    Storage(#[from] CloudError),
    #[error("database: {0}")]
    Db(#[from] tokio_postgres::Error),
    #[error("{0}")]
    Io(String),
}

impl BackupError {
    /// Is this the caller's to fix (configuration, key, choice of snapshot or target)?
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            BackupError::Config(_) | BackupError::WrongKey(_) | BackupError::Refused(_)
        )
    }
}

fn db_error(e: tokio_postgres::Error) -> BackupError {
    // Show the server's message (the default Display is just "db error").
    match e.as_db_error() {
        Some(d) => BackupError::Io(format!("database: {}: {}", d.code().code(), d.message())),
        None => BackupError::Db(e),
    }
}

pub type Result<T> = std::result::Result<T, BackupError>;

// ---------------------------------------------------------------------------------------------
// Key
// ---------------------------------------------------------------------------------------------

/// The AES-256-GCM backup key (`PAYROLL_BACKUP_KEY`, base64 of 32 bytes). Keep it apart from the
/// backups (AWS Secrets Manager / a Kubernetes Secret): without it a snapshot cannot be read.
#[derive(Clone)]
pub struct BackupKey {
    cipher: Aes256Gcm,
    id: String,
}

impl std::fmt::Debug for BackupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BackupKey({})", self.id)
    }
}

impl BackupKey {
    pub fn from_bytes(key: &[u8]) -> Result<BackupKey> {
        if key.len() != 32 {
            return Err(BackupError::Config(
                "PAYROLL_BACKUP_KEY must be base64 of exactly 32 bytes (openssl rand -base64 32)"
                    .into(),
            ));
        }
        let cipher = Aes256Gcm::new_from_slice(key)
            .map_err(|_| BackupError::Config("invalid backup key".into()))?;
        let mut h = Sha256::new();
        h.update(b"payroll-backup-key-id\0");
        h.update(key);
        let id = hex::encode(&h.finalize()[..8]);
        Ok(BackupKey { cipher, id })
    }

    pub fn from_base64(s: &str) -> Result<BackupKey> {
        let bytes = STANDARD
            .decode(s.trim())
            .map_err(|_| BackupError::Config("PAYROLL_BACKUP_KEY is not valid base64".into()))?;
        BackupKey::from_bytes(&bytes)
    }

    pub fn from_env() -> Result<BackupKey> {
        let v = std::env::var("PAYROLL_BACKUP_KEY").map_err(|_| {
            BackupError::Config(
                "PAYROLL_BACKUP_KEY is not set (base64 of 32 bytes: openssl rand -base64 32)"
                    .into(),
            )
        })?;
        BackupKey::from_base64(&v)
    }

    /// A fingerprint of the key (not secret), recorded in manifests to tell a wrong key apart
    /// from a damaged snapshot.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<([u8; NONCE_LEN], Vec<u8>)> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce);
        let ct = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| BackupError::Io("encryption failed".into()))?;
        Ok((nonce, ct))
    }

    fn open(&self, nonce: &[u8; NONCE_LEN], ct: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        self.cipher
            .decrypt(&Nonce::from(*nonce), Payload { msg: ct, aad })
            .ok()
    }
}

fn frame_aad(snapshot: &str, table: &str, index: u64, flags: u8) -> Vec<u8> {
    let mut aad = Vec::with_capacity(64);
    aad.extend_from_slice(MAGIC);
    aad.extend_from_slice(snapshot.as_bytes());
    aad.push(0);
    aad.extend_from_slice(table.as_bytes());
    aad.push(0);
    aad.extend_from_slice(&index.to_be_bytes());
    aad.push(flags);
    aad
}

// ---------------------------------------------------------------------------------------------
// Manifest
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableEntry {
    pub name: String,
    pub columns: Vec<String>,
    /// The object's key relative to the snapshot.
    pub object: String,
    pub rows: u64,
    /// Bytes of COPY text before compression.
    pub raw_bytes: u64,
    /// Bytes stored (compressed, encrypted, framed).
    pub bytes: u64,
    /// SHA-256 of the stored object.
    pub sha256: String,
    /// SHA-256 of the COPY text.
    pub data_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub id: String,
    pub app_version: String,
    pub schema_version: i32,
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: u64,
    pub copy_format: String,
    pub compression: String,
    pub encryption: String,
    pub frame_size: u64,
    pub key_id: String,
    /// In dependency order (a table comes after the tables it references).
    pub tables: Vec<TableEntry>,
    pub total_rows: u64,
    pub total_bytes: u64,
    /// base64(nonce ‖ AES-GCM tag) over the manifest with this field empty.
    pub auth: String,
}

impl Manifest {
    fn auth_input(&self) -> Result<Vec<u8>> {
        let mut m = self.clone();
        m.auth = String::new();
        serde_json::to_vec(&m).map_err(|e| BackupError::Io(e.to_string()))
    }

    fn sign(&mut self, key: &BackupKey) -> Result<()> {
        let input = self.auth_input()?;
        let (nonce, tag) = key.seal(b"", &input)?;
        let mut raw = nonce.to_vec();
        raw.extend_from_slice(&tag);
        self.auth = STANDARD.encode(raw);
        Ok(())
    }

    /// Check the key fingerprint, then the manifest's authentication tag.
    fn verify(&self, key: &BackupKey) -> Result<()> {
        if self.key_id != key.id() {
            return Err(BackupError::WrongKey(format!(
                "wrong backup key: snapshot {} was encrypted with key {} but PAYROLL_BACKUP_KEY is key {}",
                self.id,
                self.key_id,
                key.id()
            )));
        }
        let integrity = |message: &str| BackupError::Integrity {
            snapshot: self.id.clone(),
            object: MANIFEST.into(),
            message: message.into(),
        };
        let raw = STANDARD
            .decode(&self.auth)
            .map_err(|_| integrity("the authentication tag is malformed"))?;
        if raw.len() != NONCE_LEN + TAG_LEN {
            return Err(integrity("the authentication tag is malformed"));
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&raw[..NONCE_LEN]);
        let input = self.auth_input()?;
        key.open(&nonce, &raw[NONCE_LEN..], &input)
            .map(|_| ())
            .ok_or_else(|| integrity("the manifest's authentication tag does not match (altered)"))
    }
}

// ---------------------------------------------------------------------------------------------
// Progress and metrics
// ---------------------------------------------------------------------------------------------

/// Progress reporting (the CLI draws bars; jobs pass [`NoProgress`]).
pub trait Progress: Send + Sync {
    /// A table starts; `expected_rows` is exact on restore, an estimate on backup.
    fn begin(&self, _table: &str, _expected_rows: u64) {}
    /// `rows` more rows of the current table were processed.
    fn advance(&self, _rows: u64) {}
    /// The table is done.
    fn end(&self, _table: &str, _rows: u64, _bytes: u64) {}
}

pub struct NoProgress;
impl Progress for NoProgress {}

/// The metrics a backup records (gauges; `metrics` facade, exporter chosen by the binary).
pub mod metric {
    pub const LAST_SUCCESS: &str = "payroll_backup_last_success_timestamp_seconds";
    pub const DURATION: &str = "payroll_backup_duration_seconds";
    pub const BYTES: &str = "payroll_backup_bytes";
    pub const ROWS: &str = "payroll_backup_rows";
    pub const FAILURES: &str = "payroll_backup_failures_total";
    pub const RESTORE_DURATION: &str = "payroll_restore_duration_seconds";
}

fn record_success(m: &Manifest, secs: f64) {
    metrics::gauge!(metric::LAST_SUCCESS).set(Utc::now().timestamp() as f64);
    metrics::gauge!(metric::DURATION).set(secs);
    metrics::gauge!(metric::BYTES).set(m.total_bytes as f64);
    metrics::gauge!(metric::ROWS).set(m.total_rows as f64);
}

// ---------------------------------------------------------------------------------------------
// Catalog
// ---------------------------------------------------------------------------------------------

/// Quote an identifier for SQL.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A table to copy: name, columns (in order, generated columns excluded), estimated rows.
#[derive(Debug, Clone)]
pub struct TableInfo {
    pub name: String,
    pub columns: Vec<String>,
    pub estimated_rows: u64,
}

/// Every table of the `public` schema except `schema_migrations`, parents before children (ties
/// by name). Self-references are fine (checked at the end of each COPY); a cycle is an error.
pub async fn tables(client: &Client) -> Result<Vec<TableInfo>> {
    let rows = client
        .query(
            "SELECT c.relname::text, c.reltuples::float8,
                    array_agg(a.attname::text ORDER BY a.attnum)
               FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
                                  AND NOT a.attisdropped AND a.attgenerated = ''
              WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                AND c.relname <> 'schema_migrations'
              GROUP BY c.relname, c.reltuples",
            &[],
        )
        .await?;
    let mut info: BTreeMap<String, TableInfo> = BTreeMap::new();
    for r in &rows {
        let name: String = r.get(0);
        let est: f64 = r.get(1);
        info.insert(
            name.clone(),
            TableInfo {
                name,
                columns: r.get(2),
                estimated_rows: if est > 0.0 { est as u64 } else { 0 },
            },
        );
    }
    let fks = client
        .query(
            "SELECT c.relname::text, p.relname::text
               FROM pg_constraint k
               JOIN pg_class c ON c.oid = k.conrelid
               JOIN pg_class p ON p.oid = k.confrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE k.contype = 'f' AND n.nspname = 'public'",
            &[],
        )
        .await?;
    let mut deps: BTreeMap<String, BTreeSet<String>> =
        info.keys().map(|k| (k.clone(), BTreeSet::new())).collect();
    for r in &fks {
        let child: String = r.get(0);
        let parent: String = r.get(1);
        if child != parent
            && info.contains_key(&parent)
            && let Some(d) = deps.get_mut(&child)
        {
            d.insert(parent);
        }
    }
    let order = dependency_order(&deps)?;
    Ok(order.into_iter().filter_map(|n| info.remove(&n)).collect())
}

/// Kahn's algorithm, smallest name first among the ready ones (deterministic).
fn dependency_order(deps: &BTreeMap<String, BTreeSet<String>>) -> Result<Vec<String>> {
    let mut remaining = deps.clone();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::with_capacity(deps.len());
    while !remaining.is_empty() {
        let ready = remaining
            .iter()
            .find(|(_, d)| d.iter().all(|p| done.contains(p)))
            .map(|(n, _)| n.clone());
        let Some(next) = ready else {
            let cycle: Vec<&String> = remaining.keys().collect();
            return Err(BackupError::Refused(format!(
                "foreign keys form a cycle among tables {cycle:?}; cannot order the load"
            )));
        };
        remaining.remove(&next);
        done.insert(next.clone());
        out.push(next);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Backup
// ---------------------------------------------------------------------------------------------

/// Snapshot ids look like `2026/11/27/140509Z` (the dated prefix of the objects).
pub fn snapshot_id(at: DateTime<Utc>) -> String {
    at.format(ID_FORMAT).to_string()
}

/// The time of a snapshot id, if it is one.
pub fn parse_snapshot_id(id: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(id, ID_FORMAT)
        .ok()
        .map(|t| t.and_utc())
}

fn now_str(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Take a snapshot of the database `client` is connected to (as the tables' owner or a superuser)
/// and write it to `store`. Returns the manifest.
pub async fn backup<S: ObjectStorage>(
    client: &Client,
    store: &S,
    key: &BackupKey,
    progress: &dyn Progress,
) -> Result<Manifest> {
    let clock = Instant::now();
    let started = Utc::now();
    let id = snapshot_id(started);
    if !store.list(&format!("{id}/")).await?.is_empty() {
        return Err(BackupError::Refused(format!(
            "snapshot {id} already exists in {} (one backup per second)",
            store.location()
        )));
    }
    let result = backup_in_tx(client, store, key, progress, &id, started).await;
    // Leave the connection usable whatever happened.
    let _ = client.batch_execute("ROLLBACK").await;
    match result {
        Ok(mut manifest) => {
            let secs = clock.elapsed().as_secs_f64();
            manifest.duration_ms = (secs * 1000.0) as u64;
            manifest.finished_at = now_str(Utc::now());
            manifest.sign(key)?;
            let json =
                serde_json::to_vec_pretty(&manifest).map_err(|e| BackupError::Io(e.to_string()))?;
            store
                .put(&format!("{id}/{MANIFEST}"), Bytes::from(json))
                .await?;
            record_success(&manifest, secs);
            tracing::info!(snapshot = %id, rows = manifest.total_rows, bytes = manifest.total_bytes,
                seconds = secs, "backup complete");
            Ok(manifest)
        }
        Err(e) => {
            metrics::counter!(metric::FAILURES).increment(1);
            tracing::error!(snapshot = %id, error = %e, "backup failed");
            Err(e)
        }
    }
}

async fn backup_in_tx<S: ObjectStorage>(
    client: &Client,
    store: &S,
    key: &BackupKey,
    progress: &dyn Progress,
    id: &str,
    started: DateTime<Utc>,
) -> Result<Manifest> {
    client
        .batch_execute(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
             SET LOCAL row_security = off;
             SET LOCAL statement_timeout = 0;
             SET LOCAL idle_in_transaction_session_timeout = 0",
        )
        .await
        .map_err(db_error)?;
    let has_migrations: bool = client
        .query_one(
            "SELECT to_regclass('public.schema_migrations') IS NOT NULL",
            &[],
        )
        .await
        .map_err(db_error)?
        .get(0);
    let schema_version: i32 = if has_migrations {
        client
            .query_one(
                "SELECT coalesce(max(version), 0) FROM schema_migrations",
                &[],
            )
            .await
            .map_err(db_error)?
            .get(0)
    } else {
        0
    };
    let tables = tables(client).await?;
    let mut entries = Vec::with_capacity(tables.len());
    for t in &tables {
        progress.begin(&t.name, t.estimated_rows);
        let entry = backup_table(client, store, key, progress, id, t).await?;
        progress.end(&t.name, entry.rows, entry.bytes);
        entries.push(entry);
    }
    client.batch_execute("COMMIT").await.map_err(db_error)?;
    Ok(Manifest {
        format: FORMAT,
        id: id.to_owned(),
        app_version: env!("CARGO_PKG_VERSION").to_owned(),
        schema_version,
        started_at: now_str(started),
        finished_at: String::new(),
        duration_ms: 0,
        copy_format: "text".into(),
        compression: "zstd".into(),
        encryption: "aes-256-gcm".into(),
        frame_size: FRAME_SIZE as u64,
        key_id: key.id().to_owned(),
        total_rows: entries.iter().map(|e| e.rows).sum(),
        total_bytes: entries.iter().map(|e| e.bytes).sum(),
        tables: entries,
        auth: String::new(),
    })
}

/// Encrypts compressed bytes into frames and writes them to the upload, hashing what is stored.
struct FrameWriter<'a> {
    key: &'a BackupKey,
    snapshot: &'a str,
    table: &'a str,
    index: u64,
    sha: Sha256,
    bytes: u64,
}

impl FrameWriter<'_> {
    async fn write(&mut self, upload: &mut Upload, plain: &[u8], last: bool) -> Result<()> {
        let flags = if last { FLAG_LAST } else { 0 };
        let aad = frame_aad(self.snapshot, self.table, self.index, flags);
        let (nonce, ct) = self.key.seal(plain, &aad)?;
        let mut head = [0u8; 1 + 4 + NONCE_LEN];
        head[0] = flags;
        head[1..5].copy_from_slice(&(ct.len() as u32).to_be_bytes());
        head[5..].copy_from_slice(&nonce);
        for part in [&head[..], &ct[..]] {
            self.sha.update(part);
            upload.write(part).await?;
            self.bytes += part.len() as u64;
        }
        self.index += 1;
        Ok(())
    }
}

async fn backup_table<S: ObjectStorage>(
    client: &Client,
    store: &S,
    key: &BackupKey,
    progress: &dyn Progress,
    id: &str,
    t: &TableInfo,
) -> Result<TableEntry> {
    let object = format!("{}.copy.zst.enc", t.name);
    let mut upload = store.create(&format!("{id}/{object}")).await?;
    match copy_table_out(client, &mut upload, key, progress, id, t).await {
        Ok((rows, raw_bytes, data_sha256, (bytes, sha256))) => {
            let written = upload.finish().await?;
            if written != bytes {
                return Err(BackupError::Io(format!(
                    "{object}: wrote {written} bytes, expected {bytes}"
                )));
            }
            Ok(TableEntry {
                name: t.name.clone(),
                columns: t.columns.clone(),
                object,
                rows,
                raw_bytes,
                bytes,
                sha256,
                data_sha256,
            })
        }
        Err(e) => {
            upload.abort().await;
            Err(e)
        }
    }
}

type CopyOutcome = (u64, u64, String, (u64, String));

async fn copy_table_out(
    client: &Client,
    upload: &mut Upload,
    key: &BackupKey,
    progress: &dyn Progress,
    id: &str,
    t: &TableInfo,
) -> Result<CopyOutcome> {
    let cols: Vec<String> = t.columns.iter().map(|c| ident(c)).collect();
    let sql = format!(
        "COPY (SELECT {} FROM ONLY {}) TO STDOUT",
        cols.join(", "),
        ident(&t.name)
    );
    let mut frames = FrameWriter {
        key,
        snapshot: id,
        table: &t.name,
        index: 0,
        sha: Sha256::new(),
        bytes: 0,
    };
    let mut header = Sha256::new();
    header.update(MAGIC);
    frames.sha = header;
    frames.bytes = MAGIC.len() as u64;
    upload.write(MAGIC).await?;

    let io = |e: std::io::Error| BackupError::Io(format!("compress {}: {e}", t.name));
    let mut zstd =
        zstd::stream::write::Encoder::new(Vec::with_capacity(2 * FRAME_SIZE), ZSTD_LEVEL)
            .map_err(io)?;
    let mut data_sha = Sha256::new();
    let (mut rows, mut raw) = (0u64, 0u64);
    let stream = client.copy_out(&sql).await.map_err(db_error)?;
    let mut stream = std::pin::pin!(stream);
    // PostgreSQL sends one message per row: gather them into batches before hashing/compressing.
    let mut batch: Vec<u8> = Vec::with_capacity(BATCH + 64 * 1024);
    loop {
        let chunk = stream.try_next().await.map_err(db_error)?;
        if let Some(c) = &chunk {
            batch.extend_from_slice(c);
            if batch.len() < BATCH {
                continue;
            }
        }
        // Text COPY escapes newlines inside values, so each '\n' ends exactly one row.
        let n = count_newlines(&batch);
        rows += n;
        raw += batch.len() as u64;
        data_sha.update(&batch);
        zstd.write_all(&batch).map_err(io)?;
        batch.clear();
        progress.advance(n);
        while zstd.get_ref().len() >= FRAME_SIZE {
            let rest = zstd.get_mut().split_off(FRAME_SIZE);
            let full = std::mem::replace(zstd.get_mut(), rest);
            frames.write(upload, &full, false).await?;
        }
        if chunk.is_none() {
            break;
        }
    }
    let mut tail = zstd.finish().map_err(io)?;
    while tail.len() > FRAME_SIZE {
        let rest = tail.split_off(FRAME_SIZE);
        frames.write(upload, &tail, false).await?;
        tail = rest;
    }
    frames.write(upload, &tail, true).await?;
    Ok((
        rows,
        raw,
        hex::encode(data_sha.finalize()),
        (frames.bytes, hex::encode(frames.sha.finalize())),
    ))
}

/// The number of `\n` bytes, eight bytes at a time (exact: no carry crosses a byte).
fn count_newlines(bytes: &[u8]) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const NL: u64 = 0x0a0a_0a0a_0a0a_0a0a;
    let (words, rest) = bytes.as_chunks::<8>();
    let mut n = 0u64;
    for w in words {
        let x = u64::from_ne_bytes(*w) ^ NL; // a zero byte where there was a newline
        n += u64::from((!(((x & LOW7) + LOW7) | x | LOW7)).count_ones());
    }
    n + rest.iter().filter(|&&b| b == b'\n').count() as u64
}

// ---------------------------------------------------------------------------------------------
// Listing and pruning
// ---------------------------------------------------------------------------------------------

/// A snapshot found in the store.
#[derive(Debug, Clone)]
pub struct SnapshotInfo {
    pub id: String,
    pub at: DateTime<Utc>,
    /// The objects' total size.
    pub bytes: u64,
    pub objects: usize,
    /// Has a manifest (the backup finished).
    pub complete: bool,
}

/// Every snapshot in the store, oldest first.
pub async fn list<S: ObjectStorage>(store: &S) -> Result<Vec<SnapshotInfo>> {
    let mut by_id: BTreeMap<String, SnapshotInfo> = BTreeMap::new();
    for o in store.list("").await? {
        let parts: Vec<&str> = o.key.splitn(5, '/').collect();
        if parts.len() != 5 {
            continue;
        }
        let id = parts[..4].join("/");
        let Some(at) = parse_snapshot_id(&id) else {
            continue;
        };
        let s = by_id.entry(id.clone()).or_insert(SnapshotInfo {
            id,
            at,
            bytes: 0,
            objects: 0,
            complete: false,
        });
        s.bytes += o.size;
        s.objects += 1;
        if parts[4] == MANIFEST {
            s.complete = true;
        }
    }
    Ok(by_id.into_values().collect())
}

/// Read and authenticate a snapshot's manifest. `snapshot` is an id or `latest` (the newest
/// complete snapshot).
pub async fn manifest<S: ObjectStorage>(
    store: &S,
    key: &BackupKey,
    snapshot: &str,
) -> Result<Manifest> {
    let id = if snapshot == "latest" {
        list(store)
            .await?
            .into_iter()
            .rev()
            .find(|s| s.complete)
            .map(|s| s.id)
            .ok_or_else(|| {
                BackupError::Refused(format!("no complete snapshot in {}", store.location()))
            })?
    } else {
        let id = snapshot.trim_matches('/').to_owned();
        if parse_snapshot_id(&id).is_none() {
            return Err(BackupError::Refused(format!(
                "{snapshot:?} is not a snapshot id (YYYY/MM/DD/HHMMSSZ, or latest)"
            )));
        }
        id
    };
    let raw = match store.get_bytes(&format!("{id}/{MANIFEST}")).await {
        Ok(b) => b,
        Err(CloudError::NotFound(_)) => {
            return Err(BackupError::Refused(format!(
                "snapshot {id} has no manifest in {} (unknown or incomplete)",
                store.location()
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let m: Manifest = serde_json::from_slice(&raw).map_err(|e| BackupError::Integrity {
        snapshot: id.clone(),
        object: MANIFEST.into(),
        message: format!("unreadable: {e}"),
    })?;
    if m.format != FORMAT {
        return Err(BackupError::Refused(format!(
            "snapshot {id} has format {}, this build reads format {FORMAT}",
            m.format
        )));
    }
    if m.id != id {
        return Err(BackupError::Integrity {
            snapshot: id,
            object: MANIFEST.into(),
            message: format!("it names snapshot {}", m.id),
        });
    }
    m.verify(key)?;
    Ok(m)
}

/// Delete snapshots older than `keep_days`, never the newest complete one. Returns the ids removed.
pub async fn prune<S: ObjectStorage>(
    store: &S,
    keep_days: u32,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let snapshots = list(store).await?;
    let newest_complete = snapshots
        .iter()
        .rev()
        .find(|s| s.complete)
        .map(|s| s.id.clone());
    let cutoff = now - TimeDelta::days(i64::from(keep_days));
    let mut removed = Vec::new();
    for s in snapshots {
        if s.at >= cutoff || Some(&s.id) == newest_complete.as_ref() {
            continue;
        }
        let keys: Vec<String> = store
            .list(&format!("{}/", s.id))
            .await?
            .into_iter()
            // The manifest goes first: a half-deleted snapshot is then merely incomplete.
            .map(|o| o.key)
            .collect();
        let (manifest, objects): (Vec<String>, Vec<String>) =
            keys.into_iter().partition(|k| k.ends_with(MANIFEST));
        store.delete(&manifest).await?;
        store.delete(&objects).await?;
        tracing::info!(snapshot = %s.id, "pruned");
        removed.push(s.id);
    }
    Ok(removed)
}

// ---------------------------------------------------------------------------------------------
// Restore
// ---------------------------------------------------------------------------------------------

/// Database connections a restore uses when [`RestoreOptions::jobs`] is 0.
pub const DEFAULT_JOBS: usize = 2;
/// The most connections a restore opens.
pub const MAX_JOBS: usize = 16;
/// Where a restore keeps the target's previous `public` schema until it commits (see [`restore`]).
pub const PREVIOUS_SCHEMA: &str = "payroll_restore_previous";
/// Decompressed COPY data goes to the loading connections in whole rows, about this much at once.
const CHUNK: usize = 512 * 1024;
/// Chunks queued per loading connection (with [`CHUNK`], bounds the memory in flight).
const QUEUE: usize = 4;
/// Taken (transaction-scoped) while a restore prepares the target, so two restores into the same
/// database cannot both pass the emptiness check.
const RESTORE_LOCK: i64 = 0x7061_7972_6573_7472; // "payrestr"

#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    /// Replace the `public` schema of a non-empty database.
    pub force: bool,
    /// Connections loading tables, building indexes and checking keys in parallel (0 = the
    /// default, [`DEFAULT_JOBS`]; at most [`MAX_JOBS`]).
    pub jobs: usize,
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct RestoreReport {
    pub snapshot: String,
    pub schema_version: i32,
    pub tables: usize,
    pub rows: u64,
    pub seconds: f64,
    /// Connections used.
    pub jobs: usize,
    /// Wall time of each phase, in order (prepare, load, indexes, keys, statistics, commit).
    pub phases: Vec<(&'static str, f64)>,
}

/// Load the snapshot described by `manifest` (see [`manifest`]) into the database at
/// `database_url` (connecting as a superuser or the database's owner), on
/// [`RestoreOptions::jobs`] connections.
///
/// 1. **Prepare** (one transaction): refuse a non-empty target unless forced; move the target's
///    `public` schema aside as [`PREVIOUS_SCHEMA`] and create a new `public` with the same owner
///    and privileges; run the migrations up to the manifest's schema version (their bookkeeping
///    is written at the end); drop the restored tables' keys and indexes, remembering them.
/// 2. **Load**: each object is read, authenticated frame by frame, decompressed and hashed on
///    one task, and its rows go in whole-row chunks to `COPY ... FROM STDIN` on every connection
///    at once (one open transaction each). The object and data checksums and the row counts are
///    verified before any of it commits.
/// 3. **Indexes** in parallel (primary keys and unique constraints are built as indexes and then
///    attached), then the foreign keys are added `NOT VALID` and validated in parallel, and every
///    table is analyzed.
/// 4. **Commit** (one transaction): migration bookkeeping, sequences set to the loaded
///    `max(id)`, and the previous schema dropped.
///
/// Whatever fails after step 1 (a tampered object, a COPY error, a lost connection), the new
/// `public` is dropped and the previous one renamed back: the target is as it was. A restore
/// killed half-way leaves [`PREVIOUS_SCHEMA`] behind, and the next restore refuses to start until
/// an operator puts it back or drops it.
pub async fn restore<S: ObjectStorage>(
    database_url: &str,
    store: &S,
    key: &BackupKey,
    manifest: &Manifest,
    opts: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<RestoreReport> {
    let clock = Instant::now();
    manifest.verify(key)?;
    let latest = crate::migrate::latest_version();
    if manifest.schema_version > latest {
        return Err(BackupError::Refused(format!(
            "snapshot {} has schema version {}, this build knows only up to {latest}: restore with a newer build",
            manifest.id, manifest.schema_version
        )));
    }
    let config: tokio_postgres::Config = database_url
        .parse()
        .map_err(|e| BackupError::Config(format!("invalid database URL: {e}")))?;
    let jobs = match opts.jobs {
        0 => DEFAULT_JOBS,
        n => n.min(MAX_JOBS),
    };
    let mut conns = Vec::with_capacity(jobs);
    for _ in 0..jobs {
        conns.push(connect(&config).await?);
    }
    let mut phases = Vec::new();
    let mut lap = Instant::now();
    let mut phase = |name: &'static str| {
        phases.push((name, lap.elapsed().as_secs_f64()));
        lap = Instant::now();
    };

    let plan = match prepare(&conns[0], manifest, opts.force).await {
        Ok(plan) => plan,
        Err(e) => {
            let _ = conns[0].batch_execute("ROLLBACK").await;
            return Err(e);
        }
    };
    phase("prepare");
    let rows = match build(&conns, store, key, manifest, &plan, progress, &mut phase).await {
        Ok(rows) => rows,
        Err(e) => return Err(undo(&conns, &config, plan.had_public, e).await),
    };
    phase("commit");
    let seconds = clock.elapsed().as_secs_f64();
    metrics::gauge!(metric::RESTORE_DURATION).set(seconds);
    tracing::info!(snapshot = %manifest.id, rows, seconds, jobs, ?phases, "restore complete");
    Ok(RestoreReport {
        snapshot: manifest.id.clone(),
        schema_version: manifest.schema_version,
        tables: manifest.tables.len(),
        rows,
        seconds,
        jobs,
        phases,
    })
}

async fn connect(config: &tokio_postgres::Config) -> Result<Client> {
    let (client, conn) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| BackupError::Config(format!("cannot connect to the database: {e}")))?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::warn!(error = %e, "restore connection");
        }
    });
    // Commits are made durable by the last one (synchronous: it flushes the WAL before it).
    client
        .batch_execute(
            "SET statement_timeout = 0; SET lock_timeout = 0;
             SET idle_in_transaction_session_timeout = 0;
             SET maintenance_work_mem = '256MB'; SET synchronous_commit = off",
        )
        .await
        .map_err(db_error)?;
    Ok(client)
}

/// What the load leaves to do, as SQL.
struct Plan {
    /// The target had a `public` schema (now [`PREVIOUS_SCHEMA`]).
    had_public: bool,
    /// Index builds (plain indexes, the indexes of primary keys and unique constraints,
    /// exclusion constraints), largest tables first; run in parallel.
    indexes: Vec<String>,
    /// Primary keys and unique constraints attached to their indexes, foreign keys added
    /// `NOT VALID`: one short transaction.
    keys: Vec<String>,
    /// Foreign key validations, largest tables first; run in parallel.
    validations: Vec<String>,
    /// `ANALYZE` of every restored table, largest first; run in parallel.
    statistics: Vec<String>,
}

/// Step 1 of [`restore`], in one transaction on `client` (left open on error: the caller rolls
/// back).
async fn prepare(client: &Client, m: &Manifest, force: bool) -> Result<Plan> {
    client
        .batch_execute(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({RESTORE_LOCK})"
        ))
        .await
        .map_err(db_error)?;
    let leftover: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
            &[&PREVIOUS_SCHEMA],
        )
        .await
        .map_err(db_error)?
        .get(0);
    if leftover {
        return Err(BackupError::Refused(format!(
            "schema {PREVIOUS_SCHEMA} exists: an earlier restore into this database was interrupted and it holds the database's previous contents. \
             Put them back (DROP SCHEMA public CASCADE; ALTER SCHEMA {PREVIOUS_SCHEMA} RENAME TO public) or discard them (DROP SCHEMA {PREVIOUS_SCHEMA} CASCADE), then restore again"
        )));
    }
    let existing: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')",
            &[],
        )
        .await
        .map_err(db_error)?
        .get(0);
    if existing > 0 && !force {
        return Err(BackupError::Refused(format!(
            "the target database is not empty ({existing} relations in schema public): restore into an empty database, or pass --force to replace its contents"
        )));
    }
    // A new `public` with the previous one's owner and privileges; the previous one stays
    // until the restore commits.
    let schema = client
        .query_opt(
            "SELECT quote_ident(pg_get_userbyid(nspowner)),
                    coalesce((SELECT string_agg(format('GRANT %s ON SCHEMA public TO %s', a.privilege_type,
                                         CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                                              ELSE quote_ident(pg_get_userbyid(a.grantee)) END), '; ')
                                FROM aclexplode(nspacl) a WHERE a.grantee <> nspowner), '')
               FROM pg_namespace WHERE nspname = 'public'",
            &[],
        )
        .await
        .map_err(db_error)?;
    let had_public = schema.is_some();
    let create = match &schema {
        Some(r) => format!(
            "ALTER SCHEMA public RENAME TO {PREVIOUS_SCHEMA};
             CREATE SCHEMA public AUTHORIZATION {}; {}",
            r.get::<_, String>(0),
            r.get::<_, String>(1)
        ),
        None => "CREATE SCHEMA public".to_owned(),
    };
    client.batch_execute(&create).await.map_err(db_error)?;
    apply_migrations(client, m.schema_version).await?;
    let present: BTreeSet<String> = tables(client).await?.into_iter().map(|t| t.name).collect();
    for t in &m.tables {
        if !present.contains(&t.name) {
            return Err(BackupError::Refused(format!(
                "table {} of snapshot {} does not exist at schema version {}",
                t.name, m.id, m.schema_version
            )));
        }
    }
    // Load into bare tables, then build the indexes and check the keys once per table (as
    // pg_restore does): several times faster than maintaining them row by row.
    let mut plan = drop_keys_and_indexes(client, m).await?;
    plan.had_public = had_public;
    client.batch_execute("COMMIT").await.map_err(db_error)?;
    Ok(plan)
}

/// Steps 2–4 of [`restore`]. Returns the rows loaded.
async fn build<S: ObjectStorage>(
    conns: &[Client],
    store: &S,
    key: &BackupKey,
    m: &Manifest,
    plan: &Plan,
    progress: &dyn Progress,
    phase: &mut impl FnMut(&'static str),
) -> Result<u64> {
    let main = &conns[0];
    for c in conns {
        c.batch_execute("BEGIN").await.map_err(db_error)?;
    }
    let mut senders = Vec::with_capacity(conns.len());
    let mut loaders = Vec::with_capacity(conns.len());
    for c in conns {
        let (tx, rx) = tokio::sync::mpsc::channel(QUEUE);
        senders.push(tx);
        loaders.push(load(c, m, rx));
    }
    let (_, loaded) = futures_util::future::try_join(
        read_tables(store, key, m, senders, progress),
        futures_util::future::try_join_all(loaders),
    )
    .await?;
    let mut total = 0;
    for (i, t) in m.tables.iter().enumerate() {
        let rows: u64 = loaded.iter().map(|l| l[i]).sum();
        if rows != t.rows {
            return Err(BackupError::Integrity {
                snapshot: m.id.clone(),
                object: t.object.clone(),
                message: format!("{rows} rows loaded, the manifest says {}", t.rows),
            });
        }
        total += rows;
    }
    for c in conns {
        c.batch_execute("COMMIT").await.map_err(db_error)?;
    }
    phase("load");

    run_parallel(conns, &plan.indexes, "indexes", progress).await?;
    phase("indexes");
    if !plan.keys.is_empty() {
        let keys = format!("BEGIN; {}; COMMIT", plan.keys.join("; "));
        main.batch_execute(&keys).await.map_err(|e| {
            BackupError::Io(format!(
                "adding the keys: {}",
                e.as_db_error().map(|d| d.message()).unwrap_or("failed")
            ))
        })?;
    }
    run_parallel(conns, &plan.validations, "keys", progress).await?;
    phase("keys");
    run_parallel(conns, &plan.statistics, "statistics", progress).await?;
    phase("statistics");

    main.batch_execute("BEGIN; SET LOCAL synchronous_commit = on")
        .await
        .map_err(db_error)?;
    record_migrations(main, m.schema_version).await?;
    reset_sequences(main).await?;
    if plan.had_public {
        main.batch_execute(&format!("DROP SCHEMA {PREVIOUS_SCHEMA} CASCADE"))
            .await
            .map_err(db_error)?;
    }
    main.batch_execute("COMMIT").await.map_err(db_error)?;
    Ok(total)
}

/// Put the target back as it was after a failure past [`prepare`]; returns the error to report.
async fn undo(
    conns: &[Client],
    config: &tokio_postgres::Config,
    had_public: bool,
    err: BackupError,
) -> BackupError {
    // End every open transaction first (an aborted COPY's locks would block the DROP).
    for c in conns {
        let _ = c.batch_execute("ROLLBACK").await;
    }
    let sql = if had_public {
        format!(
            "BEGIN; DROP SCHEMA public CASCADE; ALTER SCHEMA {PREVIOUS_SCHEMA} RENAME TO public; COMMIT"
        )
    } else {
        "DROP SCHEMA public CASCADE".to_owned()
    };
    let outcome = match conns.iter().find(|c| !c.is_closed()) {
        Some(c) => c.batch_execute(&sql).await.map_err(|e| e.to_string()),
        None => match connect(config).await {
            Ok(c) => c.batch_execute(&sql).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        },
    };
    match outcome {
        Ok(()) => err,
        Err(e) => {
            tracing::error!(error = %e, "undoing a failed restore");
            BackupError::Io(format!(
                "{err}; undoing the partial restore failed too ({e}): run `{sql}` in the target database"
            ))
        }
    }
}

/// Run `work` (one statement each) on all connections, each taking the next statement when it is
/// done. After a failure no new statement starts; the first error is returned.
async fn run_parallel(
    conns: &[Client],
    work: &[String],
    what: &str,
    progress: &dyn Progress,
) -> Result<()> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    progress.begin(what, work.len() as u64);
    let next = &AtomicUsize::new(0);
    let failed = &AtomicBool::new(false);
    let workers = conns.iter().map(|c| async move {
        while !failed.load(Ordering::Relaxed) {
            let Some(sql) = work.get(next.fetch_add(1, Ordering::Relaxed)) else {
                break;
            };
            if let Err(e) = c.batch_execute(sql).await {
                failed.store(true, Ordering::Relaxed);
                return Err(BackupError::Io(format!(
                    "{what} ({sql}): {}",
                    e.as_db_error().map(|d| d.message()).unwrap_or("failed")
                )));
            }
            progress.advance(1);
        }
        Ok(())
    });
    for r in futures_util::future::join_all(workers).await {
        r?;
    }
    progress.end(what, work.len() as u64, 0);
    Ok(())
}

/// Apply the embedded migrations up to `version` (their bookkeeping is [`record_migrations`]).
async fn apply_migrations(client: &Client, version: i32) -> Result<()> {
    for (v, name, sql) in MIGRATIONS.iter().filter(|m| m.0 <= version) {
        client.batch_execute(sql).await.map_err(|e| {
            BackupError::Io(format!(
                "migration V{v:03}__{name}: {}",
                e.as_db_error().map(|d| d.message()).unwrap_or("failed")
            ))
        })?;
    }
    Ok(())
}

/// Record the migrations up to `version` as `payroll migrate` records them (so a later
/// `payroll migrate` continues from there). Written last: until then `payroll migrate` on a
/// half-restored database fails instead of serving it.
async fn record_migrations(client: &Client, version: i32) -> Result<()> {
    client
        .batch_execute(crate::migrate::SCHEMA_MIGRATIONS_DDL)
        .await
        .map_err(db_error)?;
    for (v, name, sql) in MIGRATIONS.iter().filter(|m| m.0 <= version) {
        let sum = crate::migrate::checksum(sql);
        client
            .execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                &[v, name, &sum],
            )
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

/// Drop the foreign keys, primary/unique/exclusion constraints and other indexes of the
/// snapshot's tables; returns how to rebuild them (largest tables first).
async fn drop_keys_and_indexes(client: &Client, m: &Manifest) -> Result<Plan> {
    let names: Vec<String> = m.tables.iter().map(|t| t.name.clone()).collect();
    // Every row: table, drop statement, then the rebuild statements.
    let keys = client
        .query(
            "SELECT c.relname::text, format('ALTER TABLE %s DROP CONSTRAINT %I', k.conrelid::regclass, k.conname),
                    CASE WHEN k.contype = 'x'
                         THEN format('ALTER TABLE %s ADD CONSTRAINT %I %s', k.conrelid::regclass, k.conname,
                                     pg_get_constraintdef(k.oid))
                         ELSE pg_get_indexdef(k.conindid) END,
                    CASE WHEN k.contype <> 'x'
                         THEN format('ALTER TABLE %s ADD CONSTRAINT %I %s USING INDEX %I%s%s', k.conrelid::regclass,
                                     k.conname, CASE k.contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END,
                                     i.relname, CASE WHEN k.condeferrable THEN ' DEFERRABLE' ELSE '' END,
                                     CASE WHEN k.condeferred THEN ' INITIALLY DEFERRED' ELSE '' END) END
               FROM pg_constraint k
               JOIN pg_class c ON c.oid = k.conrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_class i ON i.oid = k.conindid
              WHERE n.nspname = 'public' AND c.relname = ANY($1) AND k.contype IN ('p', 'u', 'x')
              ORDER BY c.relname, k.conname",
            &[&names],
        )
        .await
        .map_err(db_error)?;
    // A foreign key that was NOT VALID in the source stays so (and is not validated).
    let fks = client
        .query(
            "SELECT c.relname::text, format('ALTER TABLE %s DROP CONSTRAINT %I', k.conrelid::regclass, k.conname),
                    format('ALTER TABLE %s ADD CONSTRAINT %I %s%s', k.conrelid::regclass, k.conname,
                           pg_get_constraintdef(k.oid), CASE WHEN k.convalidated THEN ' NOT VALID' ELSE '' END),
                    CASE WHEN k.convalidated
                         THEN format('ALTER TABLE %s VALIDATE CONSTRAINT %I', k.conrelid::regclass, k.conname) END
               FROM pg_constraint k
               JOIN pg_class c ON c.oid = k.conrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'public' AND c.relname = ANY($1) AND k.contype = 'f'
              ORDER BY c.relname, k.conname",
            &[&names],
        )
        .await
        .map_err(db_error)?;
    let indexes = client
        .query(
            "SELECT c.relname::text, format('DROP INDEX %s', i.indexrelid::regclass),
                    pg_get_indexdef(i.indexrelid)
               FROM pg_index i
               JOIN pg_class c ON c.oid = i.indrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'public' AND c.relname = ANY($1)
                AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                                 WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid
                                   AND k.contype IN ('p', 'u', 'x'))
              ORDER BY c.relname, 3",
            &[&names],
        )
        .await
        .map_err(db_error)?;
    for group in [&fks, &keys, &indexes] {
        for r in group.iter() {
            client
                .batch_execute(r.get::<_, &str>(1))
                .await
                .map_err(db_error)?;
        }
    }
    let rows: BTreeMap<&str, u64> = m.tables.iter().map(|t| (t.name.as_str(), t.rows)).collect();
    // Largest tables first (stable: ties keep the catalog order).
    let by_size = |mut v: Vec<(String, String)>| -> Vec<String> {
        v.sort_by_key(|(table, _)| {
            std::cmp::Reverse(rows.get(table.as_str()).copied().unwrap_or(0))
        });
        v.into_iter().map(|(_, sql)| sql).collect()
    };
    let col = |r: &tokio_postgres::Row, i: usize| -> (String, String) { (r.get(0), r.get(i)) };
    let mut attach: Vec<String> = keys
        .iter()
        .filter_map(|r| r.get::<_, Option<String>>(3))
        .collect();
    attach.extend(fks.iter().map(|r| r.get::<_, String>(2)));
    Ok(Plan {
        had_public: false,
        indexes: by_size(
            keys.iter()
                .chain(indexes.iter())
                .map(|r| col(r, 2))
                .collect(),
        ),
        keys: attach,
        validations: by_size(
            fks.iter()
                .filter_map(|r| r.get::<_, Option<String>>(3).map(|sql| (r.get(0), sql)))
                .collect(),
        ),
        statistics: by_size(
            m.tables
                .iter()
                .map(|t| (t.name.clone(), format!("ANALYZE {}", ident(&t.name))))
                .collect(),
        ),
    })
}

/// Set every sequence owned by a column to the column's maximum (or back to its start when the
/// table is empty), so new rows do not collide with restored ones.
async fn reset_sequences(client: &Client) -> Result<()> {
    let rows = client
        .query(
            "SELECT s.relname::text, t.relname::text, a.attname::text
               FROM pg_class s
               JOIN pg_namespace n ON n.oid = s.relnamespace
               JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass
                               AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
               JOIN pg_class t ON t.oid = d.refobjid
               JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
              WHERE s.relkind = 'S' AND n.nspname = 'public'",
            &[],
        )
        .await
        .map_err(db_error)?;
    for r in &rows {
        let (seq, table, col): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        let sql = format!(
            "SELECT setval('{}', coalesce(max({}), 1), max({}) IS NOT NULL) FROM {}",
            ident(&seq).replace('\'', "''"),
            ident(&col),
            ident(&col),
            ident(&table)
        );
        client.batch_execute(&sql).await.map_err(db_error)?;
    }
    Ok(())
}

/// Reads frames from an object, checking structure and authentication, hashing what is read.
struct FrameReader<R> {
    reader: R,
    sha: Sha256,
    index: u64,
    done: bool,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// The next frame's plaintext, or `None` after the last frame (and the end of the object).
    async fn next(
        &mut self,
        key: &BackupKey,
        m: &Manifest,
        t: &TableEntry,
    ) -> Result<Option<Vec<u8>>> {
        let bad = |message: String| BackupError::Integrity {
            snapshot: m.id.clone(),
            object: t.object.clone(),
            message,
        };
        if self.done {
            return Ok(None);
        }
        let mut head = [0u8; 1 + 4 + NONCE_LEN];
        let got = read_full(&mut self.reader, &mut head)
            .await
            .map_err(|e| BackupError::Io(format!("read {}: {e}", t.object)))?;
        if got < head.len() {
            return Err(bad(format!(
                "truncated: it ends after frame {} without its last frame",
                self.index
            )));
        }
        let flags = head[0];
        let mut len = [0u8; 4];
        len.copy_from_slice(&head[1..5]);
        let len = u32::from_be_bytes(len) as usize;
        if flags & !FLAG_LAST != 0 || !(TAG_LEN..=FRAME_SIZE + TAG_LEN).contains(&len) {
            return Err(bad(format!("frame {} has a malformed header", self.index)));
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&head[5..]);
        let mut ct = vec![0u8; len];
        let got = read_full(&mut self.reader, &mut ct)
            .await
            .map_err(|e| BackupError::Io(format!("read {}: {e}", t.object)))?;
        if got < len {
            return Err(bad(format!("truncated inside frame {}", self.index)));
        }
        self.sha.update(head);
        self.sha.update(&ct);
        let aad = frame_aad(&m.id, &t.name, self.index, flags);
        let plain = key.open(&nonce, &ct, &aad).ok_or_else(|| {
            bad(format!(
                "frame {} does not authenticate (AES-GCM tag mismatch: the object was altered, reordered or belongs elsewhere)",
                self.index
            ))
        })?;
        self.index += 1;
        if flags & FLAG_LAST != 0 {
            self.done = true;
            let mut extra = [0u8; 1];
            let n = self
                .reader
                .read(&mut extra)
                .await
                .map_err(|e| BackupError::Io(format!("read {}: {e}", t.object)))?;
            if n != 0 {
                return Err(bad("data after the last frame".into()));
            }
        }
        Ok(Some(plain))
    }
}

/// Read until `buf` is full or the end; returns the bytes read.
async fn read_full<R: AsyncRead + Unpin>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let k = r.read(&mut buf[n..]).await?;
        if k == 0 {
            break;
        }
        n += k;
    }
    Ok(n)
}

/// What the reader sends a loading connection.
enum Load {
    /// Whole rows of table `.0` (its index in the manifest).
    Rows(usize, Bytes),
    /// Table `.0` is complete.
    End(usize),
}

/// One loading connection: `COPY ... FROM STDIN` of the rows it is sent (opened at a table's first
/// chunk, finished at its end). Returns the rows loaded per table.
async fn load(
    client: &Client,
    m: &Manifest,
    mut rx: tokio::sync::mpsc::Receiver<Load>,
) -> Result<Vec<u64>> {
    let failed = |t: &TableEntry, e: tokio_postgres::Error| {
        BackupError::Io(format!(
            "loading {}: {}",
            t.name,
            e.as_db_error().map(|d| d.message()).unwrap_or("failed")
        ))
    };
    let mut rows = vec![0u64; m.tables.len()];
    let mut open: Option<(usize, std::pin::Pin<Box<CopyInSink<Bytes>>>)> = None;
    while let Some(msg) = rx.recv().await {
        match msg {
            Load::Rows(i, data) => {
                let t = &m.tables[i];
                let sink = match &mut open {
                    Some((j, sink)) if *j == i => sink,
                    _ => {
                        let cols: Vec<String> = t.columns.iter().map(|c| ident(c)).collect();
                        let sql =
                            format!("COPY {} ({}) FROM STDIN", ident(&t.name), cols.join(", "));
                        let sink = client.copy_in(&sql).await.map_err(|e| failed(t, e))?;
                        &mut open.insert((i, Box::pin(sink))).1
                    }
                };
                sink.send(data).await.map_err(|e| failed(t, e))?;
            }
            Load::End(i) => {
                if let Some((j, mut sink)) = open.take() {
                    rows[j] += sink
                        .as_mut()
                        .finish()
                        .await
                        .map_err(|e| failed(&m.tables[i], e))?;
                }
            }
        }
    }
    Ok(rows)
}

/// Hand `msg` to the first loading connection with room in its queue (starting after the last
/// one used), waiting for any when all are busy.
async fn dispatch(
    txs: &[tokio::sync::mpsc::Sender<Load>],
    next: &mut usize,
    msg: Load,
) -> Result<()> {
    use tokio::sync::mpsc::error::TrySendError;
    let gone = || BackupError::Io("a loading connection stopped".into());
    for k in 0..txs.len() {
        let i = (*next + k) % txs.len();
        match txs[i].try_reserve() {
            Ok(permit) => {
                permit.send(msg);
                *next = (i + 1) % txs.len();
                return Ok(());
            }
            Err(TrySendError::Full(())) => {}
            Err(TrySendError::Closed(())) => return Err(gone()),
        }
    }
    let (permit, i, _) =
        futures_util::future::select_all(txs.iter().map(|tx| Box::pin(tx.reserve()))).await;
    permit.map_err(|_| gone())?.send(msg);
    *next = (i + 1) % txs.len();
    Ok(())
}

/// Read, verify and decompress every table's object in manifest order, handing whole-row chunks
/// to the loading connections.
async fn read_tables<S: ObjectStorage>(
    store: &S,
    key: &BackupKey,
    m: &Manifest,
    txs: Vec<tokio::sync::mpsc::Sender<Load>>,
    progress: &dyn Progress,
) -> Result<()> {
    let mut next = 0;
    for (i, t) in m.tables.iter().enumerate() {
        progress.begin(&t.name, t.rows);
        read_table(store, key, m, i, &txs, &mut next, progress).await?;
        for tx in &txs {
            tx.send(Load::End(i))
                .await
                .map_err(|_| BackupError::Io("a loading connection stopped".into()))?;
        }
        progress.end(&t.name, t.rows, t.bytes);
    }
    Ok(())
}

async fn read_table<S: ObjectStorage>(
    store: &S,
    key: &BackupKey,
    m: &Manifest,
    i: usize,
    txs: &[tokio::sync::mpsc::Sender<Load>],
    next: &mut usize,
    progress: &dyn Progress,
) -> Result<()> {
    let t = &m.tables[i];
    let bad = |message: String| BackupError::Integrity {
        snapshot: m.id.clone(),
        object: t.object.clone(),
        message,
    };
    let reader = match store.get(&format!("{}/{}", m.id, t.object)).await {
        Ok(r) => r,
        Err(CloudError::NotFound(_)) => return Err(bad("the object is missing".into())),
        Err(e) => return Err(e.into()),
    };
    let mut frames = FrameReader {
        reader,
        sha: Sha256::new(),
        index: 0,
        done: false,
    };
    let mut magic = [0u8; 8];
    let got = read_full(&mut frames.reader, &mut magic)
        .await
        .map_err(|e| BackupError::Io(format!("read {}: {e}", t.object)))?;
    if got != magic.len() || &magic != MAGIC {
        return Err(bad("not a payroll backup object (bad header)".into()));
    }
    frames.sha.update(magic);

    let io = |e: std::io::Error| bad(format!("zstd: {e}"));
    // The decoder writes into its Vec: hashed as it grows, cut after the last newline into
    // chunks (text COPY escapes newlines inside values, so each '\n' ends exactly one row).
    let mut zstd =
        zstd::stream::write::Decoder::new(Vec::with_capacity(CHUNK + 8 * FEED)).map_err(io)?;
    let mut data_sha = Sha256::new();
    let (mut raw, mut shown, mut hashed) = (0u64, 0u64, 0usize);
    while let Some(plain) = frames.next(key, m, t).await? {
        for piece in plain.chunks(FEED) {
            zstd.write_all(piece).map_err(io)?;
            zstd.flush().map_err(io)?;
            let buf = zstd.get_mut();
            data_sha.update(&buf[hashed..]);
            raw += (buf.len() - hashed) as u64;
            hashed = buf.len();
            // Progress by bytes, scaled to rows (COPY counts the rows exactly).
            let n = if t.raw_bytes > 0 {
                (raw as u128 * t.rows as u128 / t.raw_bytes as u128) as u64
            } else {
                0
            };
            progress.advance(n.saturating_sub(shown));
            shown = shown.max(n);
            if buf.len() < CHUNK {
                continue;
            }
            let Some(cut) = buf.iter().rposition(|&b| b == b'\n') else {
                continue; // one row longer than a chunk: keep reading
            };
            let mut rest = Vec::with_capacity(CHUNK + 8 * FEED);
            rest.extend_from_slice(&buf[cut + 1..]);
            buf.truncate(cut + 1);
            let rows = std::mem::replace(buf, rest);
            hashed = buf.len();
            dispatch(txs, next, Load::Rows(i, Bytes::from(rows))).await?;
        }
    }
    let rest = std::mem::take(zstd.get_mut());
    if !rest.is_empty() {
        dispatch(txs, next, Load::Rows(i, Bytes::from(rest))).await?;
    }
    let object_sha = hex::encode(frames.sha.finalize());
    if object_sha != t.sha256 {
        return Err(bad(format!(
            "SHA-256 {object_sha} does not match the manifest's {}",
            t.sha256
        )));
    }
    let data_sha = hex::encode(data_sha.finalize());
    if data_sha != t.data_sha256 || raw != t.raw_bytes {
        return Err(bad(
            "the decompressed data does not match its checksum".into()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn newlines_are_counted_exactly() {
        let mut data = Vec::new();
        for i in 0..1000u32 {
            data.extend_from_slice(format!("{i}\t\\n\u{e9}\x7f").as_bytes());
            data.push(0xff);
            data.push(if i % 7 == 0 { b'\n' } else { 0x8a });
            data.push(0);
        }
        for cut in [0, 1, 7, 8, 9, 100, data.len()] {
            let part = &data[..cut];
            let naive = part.iter().filter(|&&b| b == b'\n').count() as u64;
            assert_eq!(count_newlines(part), naive, "cut {cut}");
        }
        assert_eq!(count_newlines(&data), 143);
    }

    #[test]
    fn parents_come_first() {
        let mut deps = BTreeMap::new();
        deps.insert("employees".to_string(), set(&["tenants", "locations"]));
        deps.insert("locations".to_string(), set(&["tenants"]));
        deps.insert("tenants".to_string(), set(&[]));
        deps.insert("audit".to_string(), set(&["tenants"]));
        assert_eq!(
            dependency_order(&deps).unwrap(),
            vec!["tenants", "audit", "locations", "employees"]
        );
        deps.insert("tenants".to_string(), set(&["employees"]));
        assert!(dependency_order(&deps).is_err());
    }

    #[test]
    fn snapshot_ids_are_dated_prefixes() {
        let t = DateTime::parse_from_rfc3339("2026-11-27T14:05:09.123Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(snapshot_id(t), "2026/11/27/140509Z");
        assert_eq!(
            parse_snapshot_id("2026/11/27/140509Z").unwrap(),
            t - TimeDelta::milliseconds(123)
        );
        assert!(parse_snapshot_id("2026/11/27").is_none());
        assert!(parse_snapshot_id("latest").is_none());
    }

    #[test]
    fn keys_are_checked_and_fingerprinted() {
        assert!(BackupKey::from_base64("c2hvcnQ=").is_err());
        assert!(BackupKey::from_base64("not base64!").is_err());
        let a = BackupKey::from_bytes(&[1u8; 32]).unwrap();
        let b = BackupKey::from_bytes(&[2u8; 32]).unwrap();
        assert_eq!(a.id().len(), 16);
        assert_ne!(a.id(), b.id());
    }

    #[test]
    fn manifests_are_authenticated() {
        let key = BackupKey::from_bytes(&[7u8; 32]).unwrap();
        let mut m = Manifest {
            format: FORMAT,
            id: "2026/11/27/140509Z".into(),
            app_version: "0.1.0".into(),
            schema_version: 5,
            started_at: "2026-11-27T14:05:09.000Z".into(),
            finished_at: "2026-11-27T14:05:10.000Z".into(),
            duration_ms: 1000,
            copy_format: "text".into(),
            compression: "zstd".into(),
            encryption: "aes-256-gcm".into(),
            frame_size: FRAME_SIZE as u64,
            key_id: key.id().into(),
            tables: vec![],
            total_rows: 10,
            total_bytes: 100,
            auth: String::new(),
        };
        m.sign(&key).unwrap();
        m.verify(&key).unwrap();
        let json = serde_json::to_vec(&m).unwrap();
        let back: Manifest = serde_json::from_slice(&json).unwrap();
        back.verify(&key).unwrap();
        let mut altered = back.clone();
        altered.total_rows = 11;
        assert!(matches!(
            altered.verify(&key),
            Err(BackupError::Integrity { .. })
        ));
        let other = BackupKey::from_bytes(&[8u8; 32]).unwrap();
        let err = back.verify(&other).unwrap_err();
        assert!(matches!(err, BackupError::WrongKey(_)));
        assert!(err.to_string().contains("wrong backup key"), "{err}");
    }
}
