//! Shared application state, built once per process (per Lambda execution environment).

use crate::auth::JwtConfig;
use crate::ratelimit::RateLimiter;
use payroll_store::Db;
use payroll_store::cache::Cache;
use payroll_store::crypto::DataKey;
use std::sync::Arc;

/// Tunables read from the environment (see `AppState::from_env`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// `POST /paychecks/calculate` per tenant per minute (`PAYROLL_PREVIEW_RATE_LIMIT`, default 100).
    pub preview_limit_per_minute: u32,
    /// Page size for lists when `limit` is not given, and the maximum allowed.
    pub default_page_size: i64,
    pub max_page_size: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            preview_limit_per_minute: 100,
            default_page_size: 50,
            max_page_size: 500,
        }
    }
}

pub struct AppState {
    pub db: Db,
    pub jwt: JwtConfig,
    pub data_key: DataKey,
    pub cache: Cache,
    pub limiter: RateLimiter,
    pub settings: Settings,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    pub fn new(
        db: Db,
        jwt: JwtConfig,
        data_key: DataKey,
        redis: Option<redis::aio::ConnectionManager>,
        settings: Settings,
    ) -> AppState {
        AppState {
            db,
            jwt,
            data_key,
            cache: Cache::new(redis.clone()),
            limiter: RateLimiter::new(redis),
            settings,
        }
    }
}
