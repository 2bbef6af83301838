//! Per-tenant rate limits. (Placeholder: being written.)
pub struct RateLimiter;
