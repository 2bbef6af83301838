//! The audit log: `GET /audit-events?entity=&from=&to=&cursor=&limit=` (payroll_admin only).
//! Events are listed oldest first; sensitive fields were masked when they were recorded.

use crate::auth::{Auth, Permission};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::pagination::{Page, decode_cursor, limit, page};
use crate::state::SharedState;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use payroll_store::audit::{self, AuditEvent, AuditQuery};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// OpenAPI description of this group's routes (merged into `/openapi.json`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_audit_events),
    components(schemas(AuditEventOut, AuditEventList)),
    tags((name = "audit", description = "The append-only audit log"))
)]
pub struct ApiDoc;

pub fn router() -> Router<SharedState> {
    Router::new().route("/audit-events", get(list_audit_events))
}

/// One audit event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEventOut {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Who (the token's `sub`).
    pub actor: String,
    /// `create`, `update`, `delete`, `read_sensitive`, ...
    pub action: String,
    /// `employee`, `location`, `time_entry`, ...
    pub entity: String,
    pub entity_id: Option<String>,
    pub request_id: Option<String>,
    /// The entity before the change (sensitive fields masked).
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    /// The entity after the change (sensitive fields masked).
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
}

impl From<AuditEvent> for AuditEventOut {
    fn from(e: AuditEvent) -> AuditEventOut {
        AuditEventOut {
            id: e.id,
            at: e.at,
            actor: e.actor,
            action: e.action,
            entity: e.entity,
            entity_id: e.entity_id,
            request_id: e.request_id,
            before: e.before,
            after: e.after,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventList {
    pub items: Vec<AuditEventOut>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only events of this entity type (e.g. `employee`, `time_entry`).
    pub entity: Option<String>,
    /// From this instant (RFC 3339) or the start of this date (YYYY-MM-DD, UTC), inclusive.
    pub from: Option<String>,
    /// Before this instant (RFC 3339, exclusive) or through the end of this date (YYYY-MM-DD, UTC).
    pub to: Option<String>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
    /// Page size (default 50, at most 500).
    pub limit: Option<i64>,
}

/// An instant or a date; `end_of_day` turns a date into the start of the next day (so `to` with
/// a date includes that whole day).
fn instant(field: &str, v: Option<&str>, end_of_day: bool) -> ApiResult<Option<DateTime<Utc>>> {
    let Some(s) = v.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    let bad = || ApiError::validation(field, "must be a date YYYY-MM-DD or an RFC 3339 timestamp");
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())?;
    let d = if end_of_day {
        d.succ_opt().ok_or_else(bad)?
    } else {
        d
    };
    Ok(Some(d.and_time(chrono::NaiveTime::MIN).and_utc()))
}

fn entity(v: Option<&str>) -> ApiResult<Option<String>> {
    let Some(s) = v.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if s.len() > 64 || !s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return Err(ApiError::validation(
            "entity",
            "must be an entity name like employee or time_entry",
        ));
    }
    Ok(Some(s.to_owned()))
}

/// List audit events (oldest first, cursor-paginated).
#[utoipa::path(
    get,
    path = "/audit-events",
    tag = "audit",
    params(AuditParams),
    responses(
        (status = 200, description = "A page of audit events", body = AuditEventList),
        (status = 401, description = "No or invalid token"),
        (status = 403, description = "Only payroll_admin may read the audit log"),
        (status = 422, description = "Bad filter, limit or cursor")
    )
)]
pub async fn list_audit_events(
    State(state): State<SharedState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<AuditParams>,
) -> ApiResult<Response> {
    auth.require(Permission::ReadAudit)?;
    let n = limit(
        q.limit,
        state.settings.default_page_size,
        state.settings.max_page_size,
    )?;
    let entity = entity(q.entity.as_deref())?;
    let from = instant("from", q.from.as_deref(), false)?;
    let to = instant("to", q.to.as_deref(), true)?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(ApiError::validation("to", "must not be before from"));
    }
    let after_id =
        match q.cursor.as_deref() {
            None => None,
            Some(c) => Some(decode_cursor(c)?.parse::<i64>().map_err(|_| {
                ApiError::validation("cursor", "is not a cursor returned by this API")
            })?),
        };
    let tx = state.db.tenant_tx(auth.tenant_id).await?;
    let rows = audit::list(
        &tx,
        &AuditQuery {
            entity,
            from,
            to,
            after_id,
            limit: n + 1,
        },
    )
    .await?;
    tx.commit().await?;
    let p: Page<AuditEventOut> = page(
        rows.into_iter().map(AuditEventOut::from).collect(),
        n,
        |e| e.id.to_string(),
    );
    Ok(axum::Json(p).into_response())
}
