//! Two-level cache (seed strategy): L1 in-process (TTL 300 s, bounded by entry count and total
//! bytes, ~100 MB), L2 Redis with TTL by key class (`config:*` 3600 s, `employee:*` 900 s,
//! `calculation:*` 300 s, anything else 300 s), invalidated on writes.
//!
//! Redis being down or slow never fails a request: every Redis call has a short timeout (50 ms),
//! a failure opens a small circuit breaker (Redis is skipped for a second), and reads fall back to
//! L1 and then to the caller's PostgreSQL query. Values are stored as JSON.
//!
//! Hit/miss counts are kept in [`CacheStats`]; the API's `/metrics` exports them as Prometheus
//! counters (`cache_requests_total{result="l1_hit|l2_hit|miss"}`, `cache_redis_errors_total`).

use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// L2 TTL (seconds) by key prefix.
pub fn redis_ttl_secs(key: &str) -> u64 {
    if key.starts_with("config:") {
        3600
    } else if key.starts_with("employee:") {
        900
    } else {
        // `calculation:*` and everything else
        300
    }
}

/// Tunables of the cache.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// L1 time to live.
    pub l1_ttl: Duration,
    /// L1 bound: number of entries.
    pub l1_max_entries: usize,
    /// L1 bound: total bytes of keys and serialized values.
    pub l1_max_bytes: usize,
    /// Timeout of each Redis command.
    pub redis_timeout: Duration,
    /// How long Redis is skipped after a failure.
    pub redis_backoff: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            l1_ttl: Duration::from_secs(300),
            l1_max_entries: 100_000,
            l1_max_bytes: 100 * 1024 * 1024,
            redis_timeout: Duration::from_millis(50),
            redis_backoff: Duration::from_secs(1),
        }
    }
}

/// Is Redis usable? (`/ready` reports it; it never fails readiness.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedisStatus {
    Up,
    Down,
    Disabled,
}

impl RedisStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RedisStatus::Up => "up",
            RedisStatus::Down => "down",
            RedisStatus::Disabled => "disabled",
        }
    }
}

fn process_start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    u64::try_from(process_start().elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// A minimal circuit breaker for Redis: after a failure, Redis is skipped for `backoff`, so a
/// dead or slow Redis costs at most one timeout per second instead of one per request.
#[derive(Debug)]
pub struct RedisBreaker {
    open_until_ms: AtomicU64,
    backoff: Duration,
    failures: AtomicU64,
}

impl RedisBreaker {
    pub fn new(backoff: Duration) -> RedisBreaker {
        RedisBreaker {
            open_until_ms: AtomicU64::new(0),
            backoff,
            failures: AtomicU64::new(0),
        }
    }

    /// May Redis be tried now?
    pub fn allows(&self) -> bool {
        now_ms() >= self.open_until_ms.load(Ordering::Relaxed)
    }

    /// Failed or timed-out Redis calls so far.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    pub fn record_failure(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        let backoff = u64::try_from(self.backoff.as_millis()).unwrap_or(u64::MAX);
        self.open_until_ms
            .store(now_ms().saturating_add(backoff), Ordering::Relaxed);
    }

    pub fn record_success(&self) {
        self.open_until_ms.store(0, Ordering::Relaxed);
    }

    /// Run one Redis command with `timeout`; `None` (and the breaker opened) on error or timeout.
    pub async fn call<T, F>(&self, what: &str, timeout: Duration, fut: F) -> Option<T>
    where
        F: Future<Output = redis::RedisResult<T>>,
    {
        if !self.allows() {
            return None;
        }
        match tokio::time::timeout(timeout, fut).await {
            Ok(Ok(v)) => {
                self.record_success();
                Some(v)
            }
            Ok(Err(e)) => {
                tracing::warn!(op = what, error = %e, "redis command failed; continuing without redis");
                self.record_failure();
                None
            }
            Err(_) => {
                tracing::warn!(
                    op = what,
                    timeout_ms = timeout.as_millis() as u64,
                    "redis command timed out; continuing without redis"
                );
                self.record_failure();
                None
            }
        }
    }
}

/// Counters since the process started.
#[derive(Debug, Default)]
pub struct CacheStats {
    pub l1_hits: AtomicU64,
    pub l2_hits: AtomicU64,
    pub misses: AtomicU64,
    pub l1_evictions: AtomicU64,
}

/// A snapshot of [`CacheStats`] plus the L1 size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheSnapshot {
    pub l1_hits: u64,
    pub l2_hits: u64,
    pub misses: u64,
    pub redis_errors: u64,
    pub l1_evictions: u64,
    pub l1_entries: usize,
    pub l1_bytes: usize,
}

struct Entry {
    value: Vec<u8>,
    expires: Instant,
    seq: u64,
}

/// The in-process level: a map with expiry, bounded by entries and bytes. Eviction is FIFO by
/// insertion (expired entries first), which is good enough for a 300 s cache.
struct L1 {
    map: HashMap<String, Entry>,
    order: VecDeque<(u64, String)>,
    bytes: usize,
    next_seq: u64,
}

fn entry_size(key: &str, value: &[u8]) -> usize {
    key.len() + value.len() + 64
}

impl L1 {
    fn new() -> L1 {
        L1 {
            map: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            next_seq: 0,
        }
    }

    fn get(&mut self, key: &str, now: Instant) -> Option<Vec<u8>> {
        let expired = match self.map.get(key) {
            None => return None,
            Some(e) => e.expires <= now,
        };
        if expired {
            self.remove(key);
            return None;
        }
        self.map.get(key).map(|e| e.value.clone())
    }

    fn remove(&mut self, key: &str) {
        if let Some(e) = self.map.remove(key) {
            self.bytes = self.bytes.saturating_sub(entry_size(key, &e.value));
        }
    }

    /// Insert; returns how many entries were evicted to make room.
    fn insert(&mut self, key: &str, value: Vec<u8>, expires: Instant, cfg: &CacheConfig) -> u64 {
        let size = entry_size(key, &value);
        self.remove(key);
        if size > cfg.l1_max_bytes || cfg.l1_max_entries == 0 {
            return 0;
        }
        let mut evicted = 0;
        let now = Instant::now();
        while (self.map.len() + 1 > cfg.l1_max_entries || self.bytes + size > cfg.l1_max_bytes)
            && !self.map.is_empty()
        {
            if self.evict_one(now) {
                evicted += 1;
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.bytes += size;
        self.map.insert(
            key.to_owned(),
            Entry {
                value,
                expires,
                seq,
            },
        );
        self.order.push_back((seq, key.to_owned()));
        // Keys overwritten or invalidated leave stale positions behind: compact now and then.
        if self.order.len() > 2 * self.map.len() + 1024 {
            let map = &self.map;
            self.order
                .retain(|(s, k)| map.get(k).is_some_and(|e| e.seq == *s));
        }
        evicted
    }

    /// Evict the oldest live entry (skipping stale queue positions). False when only stale
    /// positions were dropped.
    fn evict_one(&mut self, _now: Instant) -> bool {
        while let Some((seq, key)) = self.order.pop_front() {
            if self.map.get(&key).is_some_and(|e| e.seq == seq) {
                self.remove(&key);
                return true;
            }
        }
        // The queue is empty but the map is not (cannot happen): clear to stay bounded.
        self.map.clear();
        self.bytes = 0;
        true
    }

    fn remove_prefix(&mut self, prefix: &str) {
        let keys: Vec<String> = self
            .map
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        for k in keys {
            self.remove(&k);
        }
    }
}

pub struct Cache {
    redis: Option<ConnectionManager>,
    l1: Mutex<L1>,
    cfg: CacheConfig,
    breaker: RedisBreaker,
    stats: CacheStats,
}

impl Cache {
    pub fn new(redis: Option<ConnectionManager>) -> Cache {
        Cache::with_config(redis, CacheConfig::default())
    }

    pub fn with_config(redis: Option<ConnectionManager>, cfg: CacheConfig) -> Cache {
        Cache {
            redis,
            l1: Mutex::new(L1::new()),
            breaker: RedisBreaker::new(cfg.redis_backoff),
            cfg,
            stats: CacheStats::default(),
        }
    }

    fn l1(&self) -> std::sync::MutexGuard<'_, L1> {
        // A panic while holding the lock cannot leave the map inconsistent in a harmful way.
        self.l1.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached value for `key`, from L1, else Redis (then copied into L1). `None` on a miss,
    /// on a value that no longer deserializes as `T`, and when Redis is unavailable.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let now = Instant::now();
        let local = self.l1().get(key, now);
        if let Some(bytes) = local {
            if let Ok(v) = serde_json::from_slice(&bytes) {
                self.stats.l1_hits.fetch_add(1, Ordering::Relaxed);
                return Some(v);
            }
            self.l1().remove(key);
        }
        if let Some(conn) = &self.redis {
            let mut conn = conn.clone();
            let got: Option<Option<Vec<u8>>> = self
                .breaker
                .call("GET", self.cfg.redis_timeout, conn.get(key))
                .await;
            if let Some(Some(bytes)) = got
                && let Ok(v) = serde_json::from_slice(&bytes)
            {
                self.stats.l2_hits.fetch_add(1, Ordering::Relaxed);
                let ev = self
                    .l1()
                    .insert(key, bytes, now + self.cfg.l1_ttl, &self.cfg);
                self.stats.l1_evictions.fetch_add(ev, Ordering::Relaxed);
                return Some(v);
            }
        }
        self.stats.misses.fetch_add(1, Ordering::Relaxed);
        None
    }

    /// Store `value` under `key` in L1 and Redis (TTL by key prefix).
    pub async fn put<T: Serialize>(&self, key: &str, value: &T) {
        let bytes = match serde_json::to_vec(value) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(key, error = %e, "cache: value does not serialize; not cached");
                return;
            }
        };
        let ev = self.l1().insert(
            key,
            bytes.clone(),
            Instant::now() + self.cfg.l1_ttl,
            &self.cfg,
        );
        self.stats.l1_evictions.fetch_add(ev, Ordering::Relaxed);
        if let Some(conn) = &self.redis {
            let mut conn = conn.clone();
            let ttl = redis_ttl_secs(key);
            let _: Option<()> = self
                .breaker
                .call("SET", self.cfg.redis_timeout, conn.set_ex(key, bytes, ttl))
                .await;
        }
    }

    /// Remove `key` from both levels. A Redis failure is logged and ignored.
    pub async fn invalidate(&self, key: &str) {
        self.l1().remove(key);
        if let Some(conn) = &self.redis {
            let mut conn = conn.clone();
            // Invalidation matters more than a read: try even while the breaker is open.
            match tokio::time::timeout(self.cfg.redis_timeout, conn.del::<_, i64>(key)).await {
                Ok(Ok(_)) => self.breaker.record_success(),
                Ok(Err(e)) => {
                    tracing::warn!(key, error = %e, "cache: redis invalidation failed");
                    self.breaker.record_failure();
                }
                Err(_) => {
                    tracing::warn!(key, "cache: redis invalidation timed out");
                    self.breaker.record_failure();
                }
            }
        }
    }

    /// Remove every key starting with `prefix` (e.g. `config:{tenant}:`) from both levels.
    /// Redis keys are found with SCAN (bounded by a short overall timeout).
    pub async fn invalidate_prefix(&self, prefix: &str) {
        self.l1().remove_prefix(prefix);
        let Some(conn) = &self.redis else { return };
        let mut conn = conn.clone();
        let pattern = format!("{}*", escape_glob(prefix));
        let work = async {
            let mut cursor: u64 = 0;
            loop {
                let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(500)
                    .query_async(&mut conn)
                    .await?;
                if !keys.is_empty() {
                    let _: i64 = conn.del(keys).await?;
                }
                if next == 0 {
                    return Ok::<(), redis::RedisError>(());
                }
                cursor = next;
            }
        };
        match tokio::time::timeout(self.cfg.redis_timeout * 10, work).await {
            Ok(Ok(())) => self.breaker.record_success(),
            Ok(Err(e)) => {
                tracing::warn!(prefix, error = %e, "cache: redis prefix invalidation failed");
                self.breaker.record_failure();
            }
            Err(_) => {
                tracing::warn!(prefix, "cache: redis prefix invalidation timed out");
                self.breaker.record_failure();
            }
        }
    }

    /// Get from the cache, else compute with `load` (e.g. a PostgreSQL query) and cache the
    /// result. Errors of `load` are returned and nothing is cached.
    pub async fn get_or_load<T, E, F, Fut>(&self, key: &str, load: F) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(v) = self.get(key).await {
            return Ok(v);
        }
        let v = load().await?;
        self.put(key, &v).await;
        Ok(v)
    }

    /// Is Redis configured and answering a PING (within the timeout, ignoring the breaker)?
    pub async fn redis_status(&self) -> RedisStatus {
        let Some(conn) = &self.redis else {
            return RedisStatus::Disabled;
        };
        let mut conn = conn.clone();
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut conn);
        match tokio::time::timeout(self.cfg.redis_timeout * 4, ping).await {
            Ok(Ok(_)) => RedisStatus::Up,
            _ => RedisStatus::Down,
        }
    }

    /// Is a Redis connection configured?
    pub fn has_redis(&self) -> bool {
        self.redis.is_some()
    }

    pub fn stats(&self) -> CacheSnapshot {
        let l1 = self.l1();
        CacheSnapshot {
            l1_hits: self.stats.l1_hits.load(Ordering::Relaxed),
            l2_hits: self.stats.l2_hits.load(Ordering::Relaxed),
            misses: self.stats.misses.load(Ordering::Relaxed),
            redis_errors: self.breaker.failures(),
            l1_evictions: self.stats.l1_evictions.load(Ordering::Relaxed),
            l1_entries: l1.map.len(),
            l1_bytes: l1.bytes,
        }
    }

    /// Drop every L1 entry (tests, and operators after a bulk change).
    pub fn clear_local(&self) {
        let mut l1 = self.l1();
        *l1 = L1::new();
    }
}

/// Escape Redis glob metacharacters so a key prefix matches literally.
fn escape_glob(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct V {
        name: String,
        n: i64,
    }

    fn v(n: i64) -> V {
        V {
            name: format!("v{n}"),
            n,
        }
    }

    fn small(entries: usize, bytes: usize, ttl: Duration) -> CacheConfig {
        CacheConfig {
            l1_ttl: ttl,
            l1_max_entries: entries,
            l1_max_bytes: bytes,
            ..CacheConfig::default()
        }
    }

    #[test]
    fn ttl_by_prefix() {
        assert_eq!(redis_ttl_secs("config:t:company"), 3600);
        assert_eq!(redis_ttl_secs("employee:t:1"), 900);
        assert_eq!(redis_ttl_secs("calculation:t:abc"), 300);
        assert_eq!(redis_ttl_secs("other:x"), 300);
    }

    #[test]
    fn escape_glob_escapes_metacharacters() {
        assert_eq!(
            escape_glob("config:a*b?[c]\\"),
            "config:a\\*b\\?\\[c\\]\\\\"
        );
    }

    #[tokio::test]
    async fn l1_put_get_invalidate() {
        let c = Cache::new(None);
        assert_eq!(c.get::<V>("employee:t:1").await, None);
        c.put("employee:t:1", &v(1)).await;
        assert_eq!(c.get::<V>("employee:t:1").await, Some(v(1)));
        c.put("employee:t:1", &v(2)).await;
        assert_eq!(c.get::<V>("employee:t:1").await, Some(v(2)));
        c.invalidate("employee:t:1").await;
        assert_eq!(c.get::<V>("employee:t:1").await, None);
        let s = c.stats();
        assert_eq!((s.l1_hits, s.l2_hits, s.misses), (2, 0, 2));
        assert_eq!(s.l1_entries, 0);
        assert_eq!(s.l1_bytes, 0);
    }

    #[tokio::test]
    async fn wrong_type_is_a_miss() {
        let c = Cache::new(None);
        c.put("config:t:x", &"a string").await;
        assert_eq!(c.get::<V>("config:t:x").await, None);
        assert_eq!(c.stats().l1_entries, 0);
    }

    #[tokio::test]
    async fn l1_entries_expire() {
        let c = Cache::with_config(None, small(100, 1 << 20, Duration::from_millis(30)));
        c.put("config:t:a", &v(1)).await;
        assert_eq!(c.get::<V>("config:t:a").await, Some(v(1)));
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(c.get::<V>("config:t:a").await, None);
        assert_eq!(c.stats().l1_entries, 0);
    }

    #[tokio::test]
    async fn l1_is_bounded_by_entries_oldest_first() {
        let c = Cache::with_config(None, small(3, 1 << 20, Duration::from_secs(60)));
        for i in 0..5 {
            c.put(&format!("employee:t:{i}"), &v(i)).await;
        }
        let s = c.stats();
        assert_eq!(s.l1_entries, 3);
        assert_eq!(s.l1_evictions, 2);
        assert_eq!(c.get::<V>("employee:t:0").await, None);
        assert_eq!(c.get::<V>("employee:t:1").await, None);
        assert_eq!(c.get::<V>("employee:t:4").await, Some(v(4)));
    }

    #[tokio::test]
    async fn l1_is_bounded_by_bytes() {
        let one = entry_size("employee:t:0", &serde_json::to_vec(&v(0)).unwrap());
        let c = Cache::with_config(None, small(1000, one * 2 + 10, Duration::from_secs(60)));
        for i in 0..6 {
            c.put(&format!("employee:t:{i}"), &v(i)).await;
        }
        let s = c.stats();
        assert_eq!(s.l1_entries, 2);
        assert!(s.l1_bytes <= one * 2 + 10);
        assert_eq!(c.get::<V>("employee:t:5").await, Some(v(5)));
        // A value larger than the whole cache is not kept.
        let big = "x".repeat(one * 3);
        c.put("employee:t:big", &big).await;
        assert_eq!(c.get::<String>("employee:t:big").await, None);
    }

    #[tokio::test]
    async fn overwrites_do_not_grow_the_queue_unboundedly() {
        let c = Cache::with_config(None, small(10, 1 << 20, Duration::from_secs(60)));
        for i in 0..10_000 {
            c.put("employee:t:same", &v(i)).await;
        }
        let l1 = c.l1();
        assert_eq!(l1.map.len(), 1);
        assert!(
            l1.order.len() <= 2 * l1.map.len() + 1025,
            "{}",
            l1.order.len()
        );
    }

    #[tokio::test]
    async fn prefix_invalidation_in_l1() {
        let c = Cache::new(None);
        c.put("config:a:company", &v(1)).await;
        c.put("config:a:locations", &v(2)).await;
        c.put("config:b:company", &v(3)).await;
        c.invalidate_prefix("config:a:").await;
        assert_eq!(c.get::<V>("config:a:company").await, None);
        assert_eq!(c.get::<V>("config:a:locations").await, None);
        assert_eq!(c.get::<V>("config:b:company").await, Some(v(3)));
    }

    #[tokio::test]
    async fn get_or_load_caches_ok_values_only() {
        let c = Cache::new(None);
        let r: Result<V, String> = c
            .get_or_load("employee:t:9", || async { Err("db down".to_owned()) })
            .await;
        assert_eq!(r, Err("db down".to_owned()));
        let r: Result<V, String> = c.get_or_load("employee:t:9", || async { Ok(v(9)) }).await;
        assert_eq!(r, Ok(v(9)));
        let r: Result<V, String> = c
            .get_or_load("employee:t:9", || async {
                panic!("must come from the cache")
            })
            .await;
        assert_eq!(r, Ok(v(9)));
    }

    #[tokio::test]
    async fn without_redis_status_is_disabled() {
        let c = Cache::new(None);
        assert_eq!(c.redis_status().await, RedisStatus::Disabled);
        assert!(!c.has_redis());
    }

    #[test]
    fn breaker_opens_and_closes() {
        let b = RedisBreaker::new(Duration::from_millis(40));
        assert!(b.allows());
        b.record_failure();
        assert!(!b.allows());
        std::thread::sleep(Duration::from_millis(60));
        assert!(b.allows());
        b.record_failure();
        b.record_success();
        assert!(b.allows());
    }

    fn redis_url() -> String {
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
    }

    async fn real_redis() -> ConnectionManager {
        let client = redis::Client::open(redis_url()).unwrap();
        tokio::time::timeout(Duration::from_secs(2), client.get_connection_manager())
            .await
            .expect("redis connect timed out (is Redis running at TEST_REDIS_URL?)")
            .expect("connect to redis")
    }

    #[tokio::test]
    async fn real_redis_l2_ttl_sharing_and_invalidation() {
        let conn = real_redis().await;
        let t = uuid::Uuid::new_v4();
        let a = Cache::new(Some(conn.clone()));
        let b = Cache::new(Some(conn.clone()));
        assert_eq!(a.redis_status().await, RedisStatus::Up);

        let (ck, ek, xk, ok) = (
            format!("config:{t}:company"),
            format!("employee:{t}:1"),
            format!("calculation:{t}:h"),
            format!("misc:{t}:z"),
        );
        a.put(&ck, &v(1)).await;
        a.put(&ek, &v(2)).await;
        a.put(&xk, &v(3)).await;
        a.put(&ok, &v(4)).await;

        // TTLs by prefix
        let mut raw = conn.clone();
        let ttl = |k: String| {
            let mut raw = conn.clone();
            async move { raw.ttl::<_, i64>(k).await.unwrap() }
        };
        let t1 = ttl(ck.clone()).await;
        assert!((3590..=3600).contains(&t1), "{t1}");
        let t2 = ttl(ek.clone()).await;
        assert!((890..=900).contains(&t2), "{t2}");
        let t3 = ttl(xk.clone()).await;
        assert!((290..=300).contains(&t3), "{t3}");
        let t4 = ttl(ok.clone()).await;
        assert!((290..=300).contains(&t4), "{t4}");

        // Another instance (empty L1) reads through L2 and then from its own L1.
        assert_eq!(b.get::<V>(&ek).await, Some(v(2)));
        assert_eq!(b.get::<V>(&ek).await, Some(v(2)));
        let s = b.stats();
        assert_eq!((s.l1_hits, s.l2_hits, s.misses), (1, 1, 0));

        // Invalidation removes both levels (on the instance that invalidates).
        a.invalidate(&ek).await;
        assert_eq!(a.get::<V>(&ek).await, None);
        let exists: bool = raw.exists(&ek).await.unwrap();
        assert!(!exists);

        a.invalidate_prefix(&format!("config:{t}:")).await;
        let exists: bool = raw.exists(&ck).await.unwrap();
        assert!(!exists);
        for k in [&xk, &ok] {
            a.invalidate(k).await;
        }
        assert_eq!(a.stats().redis_errors, 0);
    }

    #[tokio::test]
    async fn unreachable_redis_degrades_to_l1() {
        // A connection manager to a port nothing listens on cannot be created eagerly: use a
        // lazily-connecting one.
        let client = redis::Client::open("redis://127.0.0.1:1").unwrap();
        let cfg = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(20)))
            .set_number_of_retries(0);
        let Ok(conn) = client.get_connection_manager_lazy(cfg) else {
            return;
        };
        let c = Cache::new(Some(conn));
        let started = Instant::now();
        c.put("employee:t:1", &v(1)).await;
        assert_eq!(c.get::<V>("employee:t:1").await, Some(v(1)));
        assert_eq!(c.get::<V>("employee:t:2").await, None);
        c.invalidate("employee:t:1").await;
        assert_eq!(c.get::<V>("employee:t:1").await, None);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        assert!(c.stats().redis_errors >= 1);
        assert_eq!(c.redis_status().await, RedisStatus::Down);
    }
}
