//! Time entries: worked hours per employee and day, imported in batches that are idempotent by
//! `external_id` (unique per tenant). Batches are written with a few multi-row statements
//! (`UNNEST` of array parameters), never one round trip per entry.

use crate::db::TenantTx;
use crate::error::StoreError;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use uuid::Uuid;

/// The writable fields of a time entry (already validated by the caller).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeEntryData {
    pub external_id: String,
    pub employee_id: Uuid,
    pub date: NaiveDate,
    pub hours: Decimal,
    pub clock_in: Option<DateTime<Utc>>,
    pub clock_out: Option<DateTime<Utc>>,
    pub job: Option<String>,
    /// `None`: the employee's job rate or compensation applies when the payroll is calculated.
    pub rate: Option<Decimal>,
    pub cash_tips: Decimal,
    pub charged_tips: Decimal,
}

impl TimeEntryData {
    /// Same values (decimals compared numerically, so `"8"` equals `"8.00"`).
    pub fn same_values(&self, other: &TimeEntryData) -> bool {
        self.external_id == other.external_id
            && self.employee_id == other.employee_id
            && self.date == other.date
            && self.hours == other.hours
            && self.clock_in == other.clock_in
            && self.clock_out == other.clock_out
            && self.job == other.job
            && self.rate == other.rate
            && self.cash_tips == other.cash_tips
            && self.charged_tips == other.charged_tips
    }
}

/// A stored time entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeEntryRecord {
    pub id: Uuid,
    pub data: TimeEntryData,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLS: &str = "id, external_id, employee_id, date, hours, clock_in, clock_out, job, rate, \
                    cash_tips, charged_tips, version, created_at, updated_at";

fn from_row(r: &Row) -> TimeEntryRecord {
    TimeEntryRecord {
        id: r.get(0),
        data: TimeEntryData {
            external_id: r.get(1),
            employee_id: r.get(2),
            date: r.get(3),
            hours: r.get(4),
            clock_in: r.get(5),
            clock_out: r.get(6),
            job: r.get(7),
            rate: r.get(8),
            cash_tips: r.get(9),
            charged_tips: r.get(10),
        },
        version: r.get(11),
        created_at: r.get(12),
        updated_at: r.get(13),
    }
}

/// Map constraint violations of a batch write to caller-facing errors.
fn write_error(e: tokio_postgres::Error) -> StoreError {
    match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => StoreError::Conflict(
            "another request is importing the same external_id right now; retry".into(),
        ),
        Some(c) if *c == SqlState::FOREIGN_KEY_VIOLATION => {
            StoreError::invalid("entries", "refers to an employee that does not exist")
        }
        Some(c) if *c == SqlState::CHECK_VIOLATION => {
            StoreError::invalid("entries", "a value is out of range")
        }
        _ => StoreError::Db(e),
    }
}

/// Hire and termination dates of an employee, to check entry dates against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmployeeSpan {
    pub hire_date: NaiveDate,
    pub termination_date: Option<NaiveDate>,
}

/// The employees of this tenant among `ids` (others, including other tenants' ids, are absent).
pub async fn employee_spans(
    tx: &TenantTx,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, EmployeeSpan>, StoreError> {
    let rows = tx
        .client()
        .query(
            "SELECT id, hire_date, termination_date FROM employees
              WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
            &[&tx.tenant(), &ids],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                r.get::<_, Uuid>(0),
                EmployeeSpan {
                    hire_date: r.get(1),
                    termination_date: r.get(2),
                },
            )
        })
        .collect())
}

/// Existing entries by `external_id`, locked for update until the transaction ends.
pub async fn lock_by_external_ids(
    tx: &TenantTx,
    external_ids: &[String],
) -> Result<HashMap<String, TimeEntryRecord>, StoreError> {
    let rows = tx
        .client()
        .query(
            &format!(
                "SELECT {COLS} FROM time_entries
                  WHERE tenant_id = $1 AND external_id = ANY($2::text[])
                  FOR UPDATE"
            ),
            &[&tx.tenant(), &external_ids],
        )
        .await?;
    Ok(rows
        .iter()
        .map(from_row)
        .map(|r| (r.data.external_id.clone(), r))
        .collect())
}

/// Column vectors of a batch, in the order of the `UNNEST` statements below.
struct Columns {
    ids: Vec<Uuid>,
    external_ids: Vec<String>,
    employee_ids: Vec<Uuid>,
    dates: Vec<NaiveDate>,
    hours: Vec<Decimal>,
    clock_ins: Vec<Option<DateTime<Utc>>>,
    clock_outs: Vec<Option<DateTime<Utc>>>,
    jobs: Vec<Option<String>>,
    rates: Vec<Option<Decimal>>,
    cash_tips: Vec<Decimal>,
    charged_tips: Vec<Decimal>,
}

impl Columns {
    fn of(rows: &[(Uuid, &TimeEntryData)]) -> Columns {
        let n = rows.len();
        let mut c = Columns {
            ids: Vec::with_capacity(n),
            external_ids: Vec::with_capacity(n),
            employee_ids: Vec::with_capacity(n),
            dates: Vec::with_capacity(n),
            hours: Vec::with_capacity(n),
            clock_ins: Vec::with_capacity(n),
            clock_outs: Vec::with_capacity(n),
            jobs: Vec::with_capacity(n),
            rates: Vec::with_capacity(n),
            cash_tips: Vec::with_capacity(n),
            charged_tips: Vec::with_capacity(n),
        };
        for (id, d) in rows {
            c.ids.push(*id);
            c.external_ids.push(d.external_id.clone());
            c.employee_ids.push(d.employee_id);
            c.dates.push(d.date);
            c.hours.push(d.hours);
            c.clock_ins.push(d.clock_in);
            c.clock_outs.push(d.clock_out);
            c.jobs.push(d.job.clone());
            c.rates.push(d.rate);
            c.cash_tips.push(d.cash_tips);
            c.charged_tips.push(d.charged_tips);
        }
        c
    }
}

/// Insert new entries `(id, data)` with one statement; returns the stored rows.
pub async fn insert_many(
    tx: &TenantTx,
    rows: &[(Uuid, &TimeEntryData)],
) -> Result<Vec<TimeEntryRecord>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let c = Columns::of(rows);
    let stored = tx
        .client()
        .query(
            &format!(
                "INSERT INTO time_entries (tenant_id, id, external_id, employee_id, date, hours,
                                           clock_in, clock_out, job, rate, cash_tips, charged_tips)
                 SELECT $1, u.* FROM UNNEST($2::uuid[], $3::text[], $4::uuid[], $5::date[],
                                            $6::numeric[], $7::timestamptz[], $8::timestamptz[],
                                            $9::text[], $10::numeric[], $11::numeric[], $12::numeric[]) AS u
                 RETURNING {COLS}"
            ),
            &[
                &tx.tenant(),
                &c.ids,
                &c.external_ids,
                &c.employee_ids,
                &c.dates,
                &c.hours,
                &c.clock_ins,
                &c.clock_outs,
                &c.jobs,
                &c.rates,
                &c.cash_tips,
                &c.charged_tips,
            ],
        )
        .await
        .map_err(write_error)?;
    Ok(stored.iter().map(from_row).collect())
}

/// Replace the values of existing entries `(id, data)` with one statement (version + 1);
/// returns the stored rows.
pub async fn update_many(
    tx: &TenantTx,
    rows: &[(Uuid, &TimeEntryData)],
) -> Result<Vec<TimeEntryRecord>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let c = Columns::of(rows);
    let cols = COLS
        .split(',')
        .map(|c| format!("t.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let stored = tx
        .client()
        .query(
            &format!(
                "UPDATE time_entries t
                    SET employee_id = u.employee_id, date = u.date, hours = u.hours,
                        clock_in = u.clock_in, clock_out = u.clock_out, job = u.job, rate = u.rate,
                        cash_tips = u.cash_tips, charged_tips = u.charged_tips,
                        version = t.version + 1, updated_at = now()
                   FROM UNNEST($2::uuid[], $3::uuid[], $4::date[], $5::numeric[],
                               $6::timestamptz[], $7::timestamptz[], $8::text[], $9::numeric[],
                               $10::numeric[], $11::numeric[])
                        AS u(id, employee_id, date, hours, clock_in, clock_out, job, rate,
                             cash_tips, charged_tips)
                  WHERE t.tenant_id = $1 AND t.id = u.id
                 RETURNING {cols}"
            ),
            &[
                &tx.tenant(),
                &c.ids,
                &c.employee_ids,
                &c.dates,
                &c.hours,
                &c.clock_ins,
                &c.clock_outs,
                &c.jobs,
                &c.rates,
                &c.cash_tips,
                &c.charged_tips,
            ],
        )
        .await
        .map_err(write_error)?;
    Ok(stored.iter().map(from_row).collect())
}

/// List filter; `after` is the keyset cursor `(date, id)` of the last item seen.
#[derive(Debug, Clone, Default)]
pub struct TimeEntryQuery {
    pub employee_id: Option<Uuid>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub after: Option<(NaiveDate, Uuid)>,
    pub limit: i64,
}

/// Entries ordered by `(date, id)`; `from` and `to` are inclusive.
pub async fn list(tx: &TenantTx, q: &TimeEntryQuery) -> Result<Vec<TimeEntryRecord>, StoreError> {
    let (after_date, after_id) = match q.after {
        Some((d, i)) => (Some(d), Some(i)),
        None => (None, None),
    };
    let rows = tx
        .client()
        .query(
            &format!(
                "SELECT {COLS} FROM time_entries
                  WHERE tenant_id = $1
                    AND ($2::uuid IS NULL OR employee_id = $2)
                    AND ($3::date IS NULL OR date >= $3)
                    AND ($4::date IS NULL OR date <= $4)
                    AND ($5::date IS NULL OR (date, id) > ($5, $6::uuid))
                  ORDER BY date, id
                  LIMIT $7"
            ),
            &[
                &tx.tenant(),
                &q.employee_id,
                &q.from,
                &q.to,
                &after_date,
                &after_id,
                &q.limit,
            ],
        )
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// One entry (`NotFound` when absent or another tenant's).
pub async fn get(tx: &TenantTx, id: Uuid) -> Result<TimeEntryRecord, StoreError> {
    let row = tx
        .client()
        .query_opt(
            &format!("SELECT {COLS} FROM time_entries WHERE tenant_id = $1 AND id = $2"),
            &[&tx.tenant(), &id],
        )
        .await?;
    row.as_ref().map(from_row).ok_or(StoreError::NotFound)
}

/// One entry, locked until the transaction ends.
pub async fn get_for_update(tx: &TenantTx, id: Uuid) -> Result<TimeEntryRecord, StoreError> {
    let row = tx
        .client()
        .query_opt(
            &format!("SELECT {COLS} FROM time_entries WHERE tenant_id = $1 AND id = $2 FOR UPDATE"),
            &[&tx.tenant(), &id],
        )
        .await?;
    row.as_ref().map(from_row).ok_or(StoreError::NotFound)
}

/// Delete one entry; returns what was deleted.
pub async fn delete(tx: &TenantTx, id: Uuid) -> Result<TimeEntryRecord, StoreError> {
    let row = tx
        .client()
        .query_opt(
            &format!("DELETE FROM time_entries WHERE tenant_id = $1 AND id = $2 RETURNING {COLS}"),
            &[&tx.tenant(), &id],
        )
        .await?;
    row.as_ref().map(from_row).ok_or(StoreError::NotFound)
}

/// One audit event of a batch (see [`audit_many`]).
#[derive(Debug, Clone)]
pub struct BatchAudit {
    pub action: &'static str,
    pub entity_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Append many audit events of one entity type in one statement, in the caller's transaction
/// (the bulk counterpart of `audit::record`, for batch imports).
pub async fn audit_many(
    tx: &TenantTx,
    actor: &str,
    entity: &str,
    request_id: Option<&str>,
    events: &[BatchAudit],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let actions: Vec<&str> = events.iter().map(|e| e.action).collect();
    let ids: Vec<&str> = events.iter().map(|e| e.entity_id.as_str()).collect();
    let befores: Vec<Option<&Value>> = events.iter().map(|e| e.before.as_ref()).collect();
    let afters: Vec<Option<&Value>> = events.iter().map(|e| e.after.as_ref()).collect();
    tx.client()
        .execute(
            "INSERT INTO audit_events (tenant_id, actor, action, entity, entity_id, request_id, before, after)
             SELECT $1, $2, u.action, $3, u.entity_id, $4, u.before, u.after
               FROM UNNEST($5::text[], $6::text[], $7::jsonb[], $8::jsonb[])
                    WITH ORDINALITY AS u(action, entity_id, before, after, n)
              ORDER BY u.n",
            &[
                &tx.tenant(),
                &actor,
                &entity,
                &request_id,
                &actions,
                &ids,
                &befores,
                &afters,
            ],
        )
        .await?;
    Ok(())
}
