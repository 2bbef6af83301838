//! Tenants are created by operators (`payroll tenant create`), outside any tenant's scope.

use crate::db::Db;
use crate::error::StoreError;
use uuid::Uuid;

/// Create a tenant and its default company settings; returns the new id.
pub async fn create(db: &Db, name: &str) -> Result<Uuid, StoreError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(StoreError::invalid("name", "must be 1 to 200 characters"));
    }
    let id = Uuid::new_v4();
    let mut c = db.client().await?;
    let tx = c.transaction().await?;
    tx.execute(
        "INSERT INTO tenants (id, name) VALUES ($1, $2)",
        &[&id, &name],
    )
    .await?;
    tx.execute(
        "INSERT INTO company_settings (tenant_id, legal_name) VALUES ($1, $2)",
        &[&id, &name],
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Does the tenant exist? (admin check, outside RLS)
pub async fn exists(db: &Db, id: Uuid) -> Result<bool, StoreError> {
    let c = db.client().await?;
    Ok(c.query_opt("SELECT 1 FROM tenants WHERE id = $1", &[&id])
        .await?
        .is_some())
}
