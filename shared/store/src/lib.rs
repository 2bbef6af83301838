//! State: PostgreSQL (pool, migrations, tenant-scoped transactions with row-level security,
//! repositories, audit log, idempotency records), field encryption, and the Redis-backed cache.
//!
//! Every tenant-scoped query runs inside `Db::tenant_tx`, which switches to the unprivileged
//! `payroll_app` role and sets `app.tenant_id`, so PostgreSQL's row-level security enforces tenant
//! isolation even if a query forgets its `tenant_id = $1` filter.

pub mod audit;
pub mod backup;
pub mod cache;
pub mod crypto;
pub mod db;
pub mod error;
pub mod idempotency;
pub mod migrate;
pub mod repo;

pub use db::{Db, TenantTx};
pub use error::StoreError;
