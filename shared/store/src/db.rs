//! The connection pool and tenant-scoped transactions.

use crate::error::StoreError;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use std::str::FromStr;
use tokio_postgres::NoTls;
use uuid::Uuid;

/// The PostgreSQL role tenant-scoped transactions run as (created by the first migration). It is not
/// a superuser and does not own the tables, so row-level security applies to it.
pub const APP_ROLE: &str = "payroll_app";

#[derive(Clone)]
pub struct Db {
    pool: Pool,
}

impl Db {
    /// Connect a pool to `url` (`postgres://user@host:port/db`), `max_size` connections.
    pub fn connect(url: &str, max_size: usize) -> Result<Db, StoreError> {
        let cfg = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::Config(format!("DATABASE_URL: {e}")))?;
        let mgr = Manager::from_config(
            cfg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(mgr)
            .max_size(max_size)
            .build()
            .map_err(|e| StoreError::Config(e.to_string()))?;
        Ok(Db { pool })
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// A pooled connection (for migrations, health checks and tenant-less admin work).
    pub async fn client(&self) -> Result<Object, StoreError> {
        Ok(self.pool.get().await?)
    }

    /// Is the database reachable? (`/ready`)
    pub async fn ping(&self) -> Result<(), StoreError> {
        let c = self.client().await?;
        c.simple_query("SELECT 1").await?;
        Ok(())
    }

    /// Begin a transaction scoped to `tenant`: `SET LOCAL ROLE payroll_app` and
    /// `app.tenant_id = tenant`, so row-level security applies to every statement in it.
    pub async fn tenant_tx(&self, tenant: Uuid) -> Result<TenantTx, StoreError> {
        let client = self.client().await?;
        client
            .batch_execute(&format!("BEGIN; SET LOCAL ROLE {APP_ROLE}"))
            .await?;
        if let Err(e) = client
            .execute(
                "SELECT set_config('app.tenant_id', $1, true)",
                &[&tenant.to_string()],
            )
            .await
        {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(e.into());
        }
        Ok(TenantTx {
            client: Some(client),
            tenant,
        })
    }
}

/// A transaction bound to one tenant. Commit explicitly; dropping it without `commit` discards
/// the connection (closing it rolls the transaction back) instead of returning it to the pool.
pub struct TenantTx {
    client: Option<Object>,
    tenant: Uuid,
}

impl TenantTx {
    pub fn tenant(&self) -> Uuid {
        self.tenant
    }

    /// The connection, to run statements inside the transaction.
    pub fn client(&self) -> &tokio_postgres::Client {
        // Present until commit/rollback consume `self`.
        match &self.client {
            Some(c) => c,
            None => unreachable!("TenantTx used after commit"),
        }
    }

    pub async fn commit(mut self) -> Result<(), StoreError> {
        if let Some(c) = self.client.take()
            && let Err(e) = c.batch_execute("COMMIT").await
        {
            let _ = Object::take(c);
            return Err(e.into());
        }
        Ok(())
    }

    pub async fn rollback(mut self) -> Result<(), StoreError> {
        if let Some(c) = self.client.take()
            && let Err(e) = c.batch_execute("ROLLBACK").await
        {
            let _ = Object::take(c);
            return Err(e.into());
        }
        Ok(())
    }
}

impl Drop for TenantTx {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            // Detach from the pool: the connection closes and PostgreSQL rolls back.
            drop(Object::take(c));
        }
    }
}
