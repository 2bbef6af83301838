//! Two-level cache (seed strategy): L1 in-process (TTL 300 s, bounded), L2 Redis with TTL by key
//! class (`config:*` 3600 s, `employee:*` 900 s, `calculation:*` 300 s), invalidated on writes.
//! Redis being down never fails a request: reads fall back to L1 and PostgreSQL.
//! (Minimal version: being completed.)

use serde::Serialize;
use serde::de::DeserializeOwned;

pub struct Cache {
    _redis: Option<redis::aio::ConnectionManager>,
}

impl Cache {
    pub fn new(redis: Option<redis::aio::ConnectionManager>) -> Cache {
        Cache { _redis: redis }
    }

    pub async fn get<T: DeserializeOwned>(&self, _key: &str) -> Option<T> {
        None
    }

    pub async fn put<T: Serialize>(&self, _key: &str, _value: &T) {}

    pub async fn invalidate(&self, _key: &str) {}
}
