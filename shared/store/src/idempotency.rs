//! Idempotency-Key records (table `idempotency_keys`, tenant-scoped with row-level security).
//!
//! Protocol (driven by the API middleware):
//! 1. [`begin`] inserts a placeholder row (`status` NULL) for `(tenant, key)`, or reports what is
//!    already there: a completed response to replay, a request still in flight, or a different
//!    request that used the same key.
//! 2. After the handler ran, [`complete`] stores the response (status < 500), or [`abandon`]
//!    deletes the placeholder (5xx) so that a retry runs again.
//!
//! A placeholder older than [`STALE_AFTER_SECS`] (its process died) is taken over by the next
//! request; completed records are replayed for [`RETAIN_SECS`] and then the key can be reused.

use crate::db::Db;
use crate::error::StoreError;
use uuid::Uuid;

/// A placeholder older than this is considered abandoned (its request died).
pub const STALE_AFTER_SECS: i64 = 300;
/// Completed records are replayed for 24 hours.
pub const RETAIN_SECS: i64 = 86_400;

/// A stored response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    /// (name, value) pairs, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The outcome of [`begin`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// The key is new (or its old record expired): run the request, then `complete` or `abandon`.
    Started,
    /// The same request completed before: replay this response.
    Replay(StoredResponse),
    /// The same key is being processed by another request right now.
    InProgress,
    /// The key was used for a different request (method, path or body).
    Mismatch,
}

/// Claim `key` for a request whose fingerprint is `request_hash`.
pub async fn begin(
    db: &Db,
    tenant: Uuid,
    key: &str,
    method: &str,
    path: &str,
    request_hash: &str,
) -> Result<Begin, StoreError> {
    if key.is_empty() || key.len() > 255 {
        return Err(StoreError::invalid(
            "Idempotency-Key",
            "must be 1 to 255 characters",
        ));
    }
    let tx = db.tenant_tx(tenant).await?;
    let c = tx.client();
    let inserted = c
        .execute(
            "INSERT INTO idempotency_keys (tenant_id, key, method, path, request_hash)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant_id, key) DO NOTHING",
            &[&tenant, &key, &method, &path, &request_hash],
        )
        .await?;
    if inserted == 1 {
        tx.commit().await?;
        return Ok(Begin::Started);
    }
    let row = c
        .query_opt(
            "SELECT request_hash, status, headers, body,
                    EXTRACT(EPOCH FROM (now() - created_at))::bigint AS age
             FROM idempotency_keys WHERE tenant_id = $1 AND key = $2 FOR UPDATE",
            &[&tenant, &key],
        )
        .await?;
    let Some(row) = row else {
        // Deleted between our INSERT and SELECT (an abandoned attempt): let the client retry.
        tx.rollback().await?;
        return Ok(Begin::InProgress);
    };
    let hash: String = row.get(0);
    let status: Option<i32> = row.get(1);
    let age: i64 = row.get::<_, Option<i64>>(4).unwrap_or(0);

    let expired = match status {
        None => age > STALE_AFTER_SECS,
        Some(_) => age > RETAIN_SECS,
    };
    if expired {
        c.execute(
            "UPDATE idempotency_keys
             SET method = $3, path = $4, request_hash = $5, status = NULL, headers = NULL,
                 body = NULL, created_at = now()
             WHERE tenant_id = $1 AND key = $2",
            &[&tenant, &key, &method, &path, &request_hash],
        )
        .await?;
        tx.commit().await?;
        return Ok(Begin::Started);
    }
    tx.rollback().await?;
    if hash != request_hash {
        return Ok(Begin::Mismatch);
    }
    let Some(status) = status else {
        return Ok(Begin::InProgress);
    };
    let headers_json: Option<serde_json::Value> = row.get(2);
    let body: Option<Vec<u8>> = row.get(3);
    Ok(Begin::Replay(StoredResponse {
        status: u16::try_from(status).unwrap_or(200),
        headers: headers_from_json(headers_json.as_ref()),
        body: body.unwrap_or_default(),
    }))
}

fn headers_to_json(headers: &[(String, String)]) -> serde_json::Value {
    serde_json::Value::Array(
        headers
            .iter()
            .map(|(k, v)| serde_json::json!([k, v]))
            .collect(),
    )
}

fn headers_from_json(v: Option<&serde_json::Value>) -> Vec<(String, String)> {
    let Some(serde_json::Value::Array(items)) = v else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|pair| {
            let k = pair.get(0)?.as_str()?;
            let v = pair.get(1)?.as_str()?;
            Some((k.to_owned(), v.to_owned()))
        })
        .collect()
}

/// Store the response of the request that holds `key`.
pub async fn complete(
    db: &Db,
    tenant: Uuid,
    key: &str,
    resp: &StoredResponse,
) -> Result<(), StoreError> {
    let tx = db.tenant_tx(tenant).await?;
    let status = i32::from(resp.status);
    let headers = headers_to_json(&resp.headers);
    tx.client()
        .execute(
            "UPDATE idempotency_keys SET status = $3, headers = $4, body = $5
             WHERE tenant_id = $1 AND key = $2",
            &[&tenant, &key, &status, &headers, &resp.body],
        )
        .await?;
    tx.commit().await
}

/// Forget `key` (the request failed with a server error; a retry may run it again).
pub async fn abandon(db: &Db, tenant: Uuid, key: &str) -> Result<(), StoreError> {
    let tx = db.tenant_tx(tenant).await?;
    tx.client()
        .execute(
            "DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2 AND status IS NULL",
            &[&tenant, &key],
        )
        .await?;
    tx.commit().await
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_through_json() {
        let h = vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("etag".to_owned(), "\"v1\"".to_owned()),
        ];
        assert_eq!(headers_from_json(Some(&headers_to_json(&h))), h);
        assert_eq!(headers_from_json(None), Vec::<(String, String)>::new());
        assert_eq!(
            headers_from_json(Some(&serde_json::json!([["a"], [1, 2], ["b", "c"]]))),
            vec![("b".to_owned(), "c".to_owned())]
        );
    }
}
