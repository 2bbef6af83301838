//! Work locations (sites with a state and an optional locality).

use crate::db::TenantTx;
use crate::error::StoreError;
use chrono::{DateTime, Utc};
use payroll_domain::request::StateCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub id: Uuid,
    pub name: String,
    /// Two-letter state code.
    pub state: String,
    pub locality: Option<String>,
    /// A JSON object (`{}` when not set).
    pub address: Value,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The writable fields (create, or full replacement on update).
#[derive(Debug, Clone, PartialEq)]
pub struct LocationInput {
    pub name: String,
    pub state: String,
    pub locality: Option<String>,
    pub address: Value,
    pub active: bool,
}

impl LocationInput {
    /// The invariants the table relies on (callers validate more finely; this guards every path).
    pub fn validate(&self) -> Result<(), StoreError> {
        let n = self.name.trim().chars().count();
        if n == 0 || n > 200 {
            return Err(StoreError::invalid("name", "must be 1 to 200 characters"));
        }
        StateCode::parse(&self.state).map_err(|m| StoreError::invalid("state", m))?;
        if let Some(l) = &self.locality {
            let n = l.trim().chars().count();
            if n == 0 || n > 200 {
                return Err(StoreError::invalid(
                    "locality",
                    "must be 1 to 200 characters",
                ));
            }
        }
        if !self.address.is_object() {
            return Err(StoreError::invalid("address", "must be an object"));
        }
        Ok(())
    }
}

/// List filter and keyset cursor (`after` = the last item's `(created_at, id)`).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub active: Option<bool>,
    pub after: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

/// What `delete_or_deactivate` did.
#[derive(Debug, Clone, PartialEq)]
pub enum Removal {
    Deleted(Location),
    /// Still referenced (e.g. by employees): kept, with `active = false`.
    Deactivated {
        before: Location,
        after: Location,
    },
}

const COLUMNS: &str = "id, name, state, locality, address, active, version, created_at, updated_at";

fn from_row(r: &Row) -> Result<Location, StoreError> {
    Ok(Location {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        state: r.try_get(2)?,
        locality: r.try_get(3)?,
        address: r.try_get(4)?,
        active: r.try_get(5)?,
        version: r.try_get(6)?,
        created_at: r.try_get(7)?,
        updated_at: r.try_get(8)?,
    })
}

pub async fn create(tx: &TenantTx, input: &LocationInput) -> Result<Location, StoreError> {
    input.validate()?;
    let row = tx
        .client()
        .query_one(
            &format!(
                "INSERT INTO locations (tenant_id, id, name, state, locality, address, active)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
              RETURNING {COLUMNS}"
            ),
            &[
                &tx.tenant(),
                &Uuid::new_v4(),
                &input.name.trim(),
                &input.state,
                &input.locality.as_deref().map(str::trim),
                &input.address,
                &input.active,
            ],
        )
        .await?;
    from_row(&row)
}

/// One location of the transaction's tenant (`NotFound` for another tenant's).
pub async fn get(tx: &TenantTx, id: Uuid) -> Result<Location, StoreError> {
    let row = tx
        .client()
        .query_opt(
            &format!("SELECT {COLUMNS} FROM locations WHERE tenant_id = $1 AND id = $2"),
            &[&tx.tenant(), &id],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Like `get`, locking the row until the end of the transaction.
pub async fn get_for_update(tx: &TenantTx, id: Uuid) -> Result<Location, StoreError> {
    let row = tx
        .client()
        .query_opt(
            &format!("SELECT {COLUMNS} FROM locations WHERE tenant_id = $1 AND id = $2 FOR UPDATE"),
            &[&tx.tenant(), &id],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Up to `q.limit` locations ordered by `(created_at, id)`, after the cursor.
pub async fn list(tx: &TenantTx, q: &ListQuery) -> Result<Vec<Location>, StoreError> {
    let (after_at, after_id) = match q.after {
        Some((at, id)) => (Some(at), Some(id)),
        None => (None, None),
    };
    let rows = tx
        .client()
        .query(
            &format!(
                "SELECT {COLUMNS} FROM locations
                  WHERE tenant_id = $1
                    AND ($2::boolean IS NULL OR active = $2)
                    AND ($3::timestamptz IS NULL OR (created_at, id) > ($3, $4::uuid))
                  ORDER BY created_at, id
                  LIMIT $5"
            ),
            &[&tx.tenant(), &q.active, &after_at, &after_id, &q.limit],
        )
        .await?;
    rows.iter().map(from_row).collect()
}

/// Replace the writable fields if the stored version is still `expected_version`.
pub async fn update(
    tx: &TenantTx,
    id: Uuid,
    input: &LocationInput,
    expected_version: i64,
) -> Result<Location, StoreError> {
    input.validate()?;
    let row = tx
        .client()
        .query_opt(
            &format!(
                "UPDATE locations
                    SET name = $3, state = $4, locality = $5, address = $6, active = $7,
                        version = version + 1, updated_at = now()
                  WHERE tenant_id = $1 AND id = $2 AND version = $8
              RETURNING {COLUMNS}"
            ),
            &[
                &tx.tenant(),
                &id,
                &input.name.trim(),
                &input.state,
                &input.locality.as_deref().map(str::trim),
                &input.address,
                &input.active,
                &expected_version,
            ],
        )
        .await?;
    match row {
        Some(r) => from_row(&r),
        None => {
            let current = get(tx, id).await?;
            Err(StoreError::Stale {
                current: format!("\"v{}\"", current.version),
            })
        }
    }
}

/// Delete the location, or — when another row still references it (a foreign-key violation) —
/// mark it inactive instead.
pub async fn delete_or_deactivate(tx: &TenantTx, id: Uuid) -> Result<Removal, StoreError> {
    let before = get_for_update(tx, id).await?;
    let c = tx.client();
    c.batch_execute("SAVEPOINT location_delete").await?;
    match c
        .execute(
            "DELETE FROM locations WHERE tenant_id = $1 AND id = $2",
            &[&tx.tenant(), &id],
        )
        .await
    {
        Ok(0) => {
            c.batch_execute("RELEASE SAVEPOINT location_delete").await?;
            Err(StoreError::NotFound)
        }
        Ok(_) => {
            c.batch_execute("RELEASE SAVEPOINT location_delete").await?;
            Ok(Removal::Deleted(before))
        }
        Err(e) if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => {
            c.batch_execute("ROLLBACK TO SAVEPOINT location_delete")
                .await?;
            let row = c
                .query_one(
                    &format!(
                        "UPDATE locations
                            SET active = false, version = version + 1, updated_at = now()
                          WHERE tenant_id = $1 AND id = $2
                      RETURNING {COLUMNS}"
                    ),
                    &[&tx.tenant(), &id],
                )
                .await?;
            Ok(Removal::Deactivated {
                before,
                after: from_row(&row)?,
            })
        }
        Err(e) => Err(e.into()),
    }
}
