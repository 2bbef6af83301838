//! The append-only audit log. Every write records who, when, what, before and after (with
//! sensitive fields already masked by the caller); reads of unmasked sensitive values are recorded too.

use crate::db::TenantTx;
use crate::error::StoreError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What to record.
#[derive(Debug, Clone)]
pub struct AuditRecord<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<String>,
    pub request_id: Option<&'a str>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Append an event in the caller's transaction (so it commits or rolls back with the change).
pub async fn record(tx: &TenantTx, r: &AuditRecord<'_>) -> Result<(), StoreError> {
    tx.client()
        .execute(
            "INSERT INTO audit_events (tenant_id, actor, action, entity, entity_id, request_id, before, after)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &tx.tenant(),
                &r.actor,
                &r.action,
                &r.entity,
                &r.entity_id,
                &r.request_id,
                &r.before,
                &r.after,
            ],
        )
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub request_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Filters for listing; `after_id` is the cursor (events are listed by id ascending).
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub entity: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub after_id: Option<i64>,
    pub limit: i64,
}

pub async fn list(tx: &TenantTx, q: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
    let rows = tx
        .client()
        .query(
            "SELECT id, at, actor, action, entity, entity_id, request_id, before, after
               FROM audit_events
              WHERE tenant_id = $1
                AND ($2::text IS NULL OR entity = $2)
                AND ($3::timestamptz IS NULL OR at >= $3)
                AND ($4::timestamptz IS NULL OR at < $4)
                AND ($5::bigint IS NULL OR id > $5)
              ORDER BY id
              LIMIT $6",
            &[
                &tx.tenant(),
                &q.entity,
                &q.from,
                &q.to,
                &q.after_id,
                &q.limit,
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| AuditEvent {
            id: r.get(0),
            at: r.get(1),
            actor: r.get(2),
            action: r.get(3),
            entity: r.get(4),
            entity_id: r.get(5),
            request_id: r.get(6),
            before: r.get(7),
            after: r.get(8),
        })
        .collect())
}
