//! Per-tenant rate limits in Redis (fixed one-minute windows); answers 429 with `Retry-After`.
//! (Minimal version: being completed.)

use crate::error::ApiError;
use uuid::Uuid;

pub struct RateLimiter {
    _redis: Option<redis::aio::ConnectionManager>,
}

impl RateLimiter {
    pub fn new(redis: Option<redis::aio::ConnectionManager>) -> RateLimiter {
        RateLimiter { _redis: redis }
    }

    /// Count one request in `bucket` for `tenant`; 429 when over `limit_per_minute`.
    pub async fn check(&self, _tenant: Uuid, _bucket: &str, _limit_per_minute: u32) -> Result<(), ApiError> {
        Ok(())
    }
}
