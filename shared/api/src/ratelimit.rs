//! Per-tenant rate limits in fixed one-minute windows, counted in Redis (`INCR` + `EXPIRE` in one
//! atomic pipeline, key `ratelimit:{bucket}:{tenant}:{minute}`), so every instance shares the
//! count. Over the limit: 429 problem+json `rate_limited` with `Retry-After` (seconds to the next
//! window). When Redis is unavailable (or slow: 50 ms timeout) the count falls back to an
//! in-process counter, so the API keeps answering (limits then apply per process).

use crate::error::ApiError;
use axum::http::{StatusCode, header};
use payroll_store::cache::RedisBreaker;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use uuid::Uuid;

const REDIS_TIMEOUT: Duration = Duration::from_millis(50);
const REDIS_BACKOFF: Duration = Duration::from_secs(1);
/// Window keys live a little longer than their minute (clock skew between instances).
const KEY_TTL_SECS: i64 = 120;
/// In-process fallback map size that triggers pruning of old windows.
const LOCAL_PRUNE_AT: usize = 10_000;

pub struct RateLimiter {
    redis: Option<redis::aio::ConnectionManager>,
    breaker: RedisBreaker,
    /// (bucket, tenant) → (minute, count) for the in-process fallback.
    local: Mutex<HashMap<(String, Uuid), (u64, u64)>>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The Redis key of a window.
pub fn window_key(bucket: &str, tenant: Uuid, minute: u64) -> String {
    format!("ratelimit:{bucket}:{tenant}:{minute}")
}

/// The 429 answer; `retry_after` seconds until the next window.
pub fn rate_limited(limit_per_minute: u32, retry_after: u64) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "Too many requests",
        format!("the limit is {limit_per_minute} requests per minute; retry after {retry_after} s"),
    )
    .with_header(header::RETRY_AFTER, &retry_after.to_string())
}

impl RateLimiter {
    pub fn new(redis: Option<redis::aio::ConnectionManager>) -> RateLimiter {
        RateLimiter {
            redis,
            breaker: RedisBreaker::new(REDIS_BACKOFF),
            local: Mutex::new(HashMap::new()),
        }
    }

    /// Count one request in `bucket` for `tenant`; 429 when over `limit_per_minute`.
    pub async fn check(
        &self,
        tenant: Uuid,
        bucket: &str,
        limit_per_minute: u32,
    ) -> Result<(), ApiError> {
        let now = unix_now();
        self.check_at(tenant, bucket, limit_per_minute, now).await
    }

    async fn check_at(
        &self,
        tenant: Uuid,
        bucket: &str,
        limit_per_minute: u32,
        now: u64,
    ) -> Result<(), ApiError> {
        let minute = now / 60;
        let count = match self.count_in_redis(tenant, bucket, minute).await {
            Some(n) => n,
            None => self.count_locally(tenant, bucket, minute),
        };
        if count > u64::from(limit_per_minute) {
            let retry_after = (60 - now % 60).max(1);
            return Err(rate_limited(limit_per_minute, retry_after));
        }
        Ok(())
    }

    async fn count_in_redis(&self, tenant: Uuid, bucket: &str, minute: u64) -> Option<u64> {
        let conn = self.redis.as_ref()?;
        let mut conn = conn.clone();
        let key = window_key(bucket, tenant, minute);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("INCR")
            .arg(&key)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(KEY_TTL_SECS)
            .ignore();
        let fut = async move { pipe.query_async::<(u64,)>(&mut conn).await };
        self.breaker
            .call("ratelimit INCR", REDIS_TIMEOUT, fut)
            .await
            .map(|(n,)| n)
    }

    fn count_locally(&self, tenant: Uuid, bucket: &str, minute: u64) -> u64 {
        let mut local = self.local.lock().unwrap_or_else(|p| p.into_inner());
        if local.len() >= LOCAL_PRUNE_AT {
            local.retain(|_, (m, _)| *m >= minute);
        }
        let slot = local
            .entry((bucket.to_owned(), tenant))
            .or_insert((minute, 0));
        if slot.0 != minute {
            *slot = (minute, 0);
        }
        slot.1 += 1;
        slot.1
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    async fn real_redis() -> redis::aio::ConnectionManager {
        let url =
            std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let client = redis::Client::open(url).unwrap();
        tokio::time::timeout(Duration::from_secs(2), client.get_connection_manager())
            .await
            .expect("redis connect timed out (is Redis running at TEST_REDIS_URL?)")
            .expect("connect to redis")
    }

    fn assert_429(r: Result<(), ApiError>, retry_after: &str) {
        let e = r.expect_err("expected 429");
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.code, "rate_limited");
        let ra = e
            .headers
            .iter()
            .find(|(k, _)| *k == header::RETRY_AFTER)
            .map(|(_, v)| v.to_str().unwrap().to_owned());
        assert_eq!(ra.as_deref(), Some(retry_after));
    }

    #[tokio::test]
    async fn local_fallback_limits_per_window_and_tenant() {
        let rl = RateLimiter::new(None);
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let t0 = 1_700_000_000 - (1_700_000_000 % 60) + 15; // 15 s into a minute
        for _ in 0..3 {
            rl.check_at(a, "preview", 3, t0).await.unwrap();
        }
        assert_429(rl.check_at(a, "preview", 3, t0).await, "45");
        // Other tenant and other bucket are independent.
        rl.check_at(b, "preview", 3, t0).await.unwrap();
        rl.check_at(a, "other", 3, t0).await.unwrap();
        // The next window starts over.
        rl.check_at(a, "preview", 3, t0 + 60).await.unwrap();
        // Retry-After is at least 1 s.
        let end = t0 - 15 + 59;
        for _ in 0..3 {
            let _ = rl.check_at(b, "x", 1, end).await;
        }
        assert_429(rl.check_at(b, "x", 1, end).await, "1");
    }

    #[tokio::test]
    async fn redis_counts_with_expiry() {
        let conn = real_redis().await;
        let rl = RateLimiter::new(Some(conn.clone()));
        let tenant = Uuid::new_v4();
        let now = unix_now();
        for _ in 0..3 {
            rl.check_at(tenant, "preview", 3, now).await.unwrap();
        }
        let retry = (60 - now % 60).max(1).to_string();
        assert_429(rl.check_at(tenant, "preview", 3, now).await, &retry);

        // The count is in Redis (shared by every instance), with an expiry.
        let key = window_key("preview", tenant, now / 60);
        let mut raw = conn.clone();
        let n: u64 = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut raw)
            .await
            .unwrap();
        assert_eq!(n, 4);
        let ttl: i64 = redis::cmd("TTL")
            .arg(&key)
            .query_async(&mut raw)
            .await
            .unwrap();
        assert!((1..=KEY_TTL_SECS).contains(&ttl), "{ttl}");

        // A second limiter (another instance) sees the same window.
        let other = RateLimiter::new(Some(conn.clone()));
        assert_429(other.check_at(tenant, "preview", 3, now).await, &retry);
        // Nothing counted locally while Redis works.
        assert!(rl.local.lock().unwrap().is_empty());
        let _: i64 = redis::cmd("DEL")
            .arg(&key)
            .query_async(&mut raw)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn unreachable_redis_falls_back_to_local_counts() {
        let client = redis::Client::open("redis://127.0.0.1:1").unwrap();
        let cfg = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(20)))
            .set_number_of_retries(0);
        let conn = client.get_connection_manager_lazy(cfg).unwrap();
        let rl = RateLimiter::new(Some(conn));
        let tenant = Uuid::new_v4();
        let started = std::time::Instant::now();
        let now = unix_now();
        for _ in 0..2 {
            rl.check_at(tenant, "preview", 2, now).await.unwrap();
        }
        assert!(rl.check_at(tenant, "preview", 2, now).await.is_err());
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
