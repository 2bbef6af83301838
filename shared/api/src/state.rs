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

    /// Build the state from the environment:
    /// - `DATABASE_URL` (required), `DB_POOL_SIZE` (default 16, or 2 inside AWS Lambda)
    /// - `REDIS_URL` (optional; connected with a 2 s timeout, and on failure the service logs a
    ///   warning and runs without Redis)
    /// - `PAYROLL_JWT_SECRET` (required, at least 32 bytes), `PAYROLL_JWT_ISSUER`,
    ///   `PAYROLL_JWT_AUDIENCE`
    /// - `PAYROLL_DATA_KEY` (required, base64 of 32 bytes)
    /// - `PAYROLL_PREVIEW_RATE_LIMIT` (previews per tenant per minute, default 100)
    pub async fn from_env() -> Result<AppState, String> {
        let url = env_var("DATABASE_URL").ok_or_else(|| {
            "DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/payroll)".to_owned()
        })?;
        let default_pool = if crate::runtime::in_lambda() { 2 } else { 16 };
        let pool_size = parse_env("DB_POOL_SIZE", default_pool, 1, 1000)?;
        let db = Db::connect(&url, pool_size).map_err(|e| e.to_string())?;
        let jwt = JwtConfig::from_env()?;
        let data_key = DataKey::from_env().map_err(|e| {
            format!(
                "PAYROLL_DATA_KEY (base64 of 32 random bytes, e.g. `openssl rand -base64 32`): {e}"
            )
        })?;
        let mut settings = Settings::default();
        settings.preview_limit_per_minute = parse_env(
            "PAYROLL_PREVIEW_RATE_LIMIT",
            settings.preview_limit_per_minute,
            1,
            1_000_000,
        )?;
        let redis = match env_var("REDIS_URL") {
            None => {
                tracing::info!(
                    "REDIS_URL is not set: running without Redis (in-process cache and rate limits)"
                );
                None
            }
            Some(u) => connect_redis(&u).await,
        };
        Ok(AppState::new(db, jwt, data_key, redis, settings))
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// An integer variable within `min..=max`, `default` when unset.
fn parse_env<T>(name: &str, default: T, min: T, max: T) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    match env_var(name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<T>() {
            Ok(n) if n >= min && n <= max => Ok(n),
            _ => Err(format!(
                "{name} must be an integer from {min} to {max}, got {v:?}"
            )),
        },
    }
}

/// Connect to Redis with a 2 s timeout; `None` (logged) when it is unreachable. The connection
/// manager reconnects by itself later; commands use short timeouts (see `payroll_store::cache`).
pub async fn connect_redis(url: &str) -> Option<redis::aio::ConnectionManager> {
    let client = match redis::Client::open(url) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "REDIS_URL is not a valid Redis URL: running without Redis");
            return None;
        }
    };
    let cfg = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(std::time::Duration::from_secs(2)))
        .set_response_timeout(Some(std::time::Duration::from_secs(1)));
    match tokio::time::timeout(
        std::time::Duration::from_secs(2),
        client.get_connection_manager_with_config(cfg),
    )
    .await
    {
        Ok(Ok(c)) => {
            tracing::info!("connected to Redis");
            Some(c)
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "cannot connect to Redis: running without it");
            None
        }
        Err(_) => {
            tracing::warn!("connecting to Redis timed out: running without it");
            None
        }
    }
}
