//! Pay schedules (frequency, anchor, pay-date offset). Period generation is pure and lives in
//! `payroll_domain::schedule`.

use crate::db::TenantTx;
use crate::error::StoreError;
use chrono::{DateTime, NaiveDate, Utc};
use payroll_domain::schedule::{Schedule, ScheduleFrequency};
use serde::{Deserialize, Serialize};
use tokio_postgres::Row;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaySchedule {
    pub id: Uuid,
    pub name: String,
    pub frequency: ScheduleFrequency,
    pub first_period_start: NaiveDate,
    pub pay_date_offset_days: i32,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl PaySchedule {
    /// The pure schedule definition (for period generation).
    pub fn schedule(&self) -> Schedule {
        Schedule {
            frequency: self.frequency,
            first_period_start: self.first_period_start,
            pay_date_offset_days: self.pay_date_offset_days,
        }
    }
}

/// The writable fields (create, or full replacement on update).
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleInput {
    pub name: String,
    pub frequency: ScheduleFrequency,
    pub first_period_start: NaiveDate,
    pub pay_date_offset_days: i32,
    pub active: bool,
}

impl ScheduleInput {
    pub fn validate(&self) -> Result<(), StoreError> {
        let n = self.name.trim().chars().count();
        if n == 0 || n > 200 {
            return Err(StoreError::invalid("name", "must be 1 to 200 characters"));
        }
        Schedule::new(
            self.frequency,
            self.first_period_start,
            self.pay_date_offset_days,
        )
        .map_err(|e| StoreError::invalid(e.field(), e.to_string()))?;
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

const COLUMNS: &str = "id, name, frequency, first_period_start, pay_date_offset_days, active, version, created_at, updated_at";

fn from_row(r: &Row) -> Result<PaySchedule, StoreError> {
    let freq: String = r.try_get(2)?;
    Ok(PaySchedule {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        frequency: ScheduleFrequency::parse(&freq)
            .map_err(|e| StoreError::Config(format!("pay_schedules.frequency: {e}")))?,
        first_period_start: r.try_get(3)?,
        pay_date_offset_days: r.try_get(4)?,
        active: r.try_get(5)?,
        version: r.try_get(6)?,
        created_at: r.try_get(7)?,
        updated_at: r.try_get(8)?,
    })
}

pub async fn create(tx: &TenantTx, input: &ScheduleInput) -> Result<PaySchedule, StoreError> {
    input.validate()?;
    let row = tx
        .client()
        .query_one(
            &format!(
                "INSERT INTO pay_schedules
                        (tenant_id, id, name, frequency, first_period_start, pay_date_offset_days, active)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
              RETURNING {COLUMNS}"
            ),
            &[
                &tx.tenant(),
                &Uuid::new_v4(),
                &input.name.trim(),
                &input.frequency.as_str(),
                &input.first_period_start,
                &input.pay_date_offset_days,
                &input.active,
            ],
        )
        .await?;
    from_row(&row)
}

/// One schedule of the transaction's tenant (`NotFound` for another tenant's).
pub async fn get(tx: &TenantTx, id: Uuid) -> Result<PaySchedule, StoreError> {
    let row = tx
        .client()
        .query_opt(
            &format!("SELECT {COLUMNS} FROM pay_schedules WHERE tenant_id = $1 AND id = $2"),
            &[&tx.tenant(), &id],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Like `get`, locking the row until the end of the transaction.
pub async fn get_for_update(tx: &TenantTx, id: Uuid) -> Result<PaySchedule, StoreError> {
    let row = tx
        .client()
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM pay_schedules WHERE tenant_id = $1 AND id = $2 FOR UPDATE"
            ),
            &[&tx.tenant(), &id],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Up to `q.limit` schedules ordered by `(created_at, id)`, after the cursor.
pub async fn list(tx: &TenantTx, q: &ListQuery) -> Result<Vec<PaySchedule>, StoreError> {
    let (after_at, after_id) = match q.after {
        Some((at, id)) => (Some(at), Some(id)),
        None => (None, None),
    };
    let rows = tx
        .client()
        .query(
            &format!(
                "SELECT {COLUMNS} FROM pay_schedules
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
    input: &ScheduleInput,
    expected_version: i64,
) -> Result<PaySchedule, StoreError> {
    input.validate()?;
    let row = tx
        .client()
        .query_opt(
            &format!(
                "UPDATE pay_schedules
                    SET name = $3, frequency = $4, first_period_start = $5,
                        pay_date_offset_days = $6, active = $7,
                        version = version + 1, updated_at = now()
                  WHERE tenant_id = $1 AND id = $2 AND version = $8
              RETURNING {COLUMNS}"
            ),
            &[
                &tx.tenant(),
                &id,
                &input.name.trim(),
                &input.frequency.as_str(),
                &input.first_period_start,
                &input.pay_date_offset_days,
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
