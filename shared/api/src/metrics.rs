//! Prometheus metrics: one recorder per process (installed on first use), a middleware counting
//! requests and timing them by method, matched route and status, and gauges refreshed on scrape
//! (database pool in use/idle, cache counters).
//!
//! Metrics:
//! - `http_requests_total{method,route,status}` (counter)
//! - `http_request_duration_seconds{method,route,status}` (histogram, buckets from 0.5 ms to 10 s)
//! - `db_pool_connections{state="in_use|idle|max"}`, `db_pool_waiting` (gauges)
//! - `cache_requests_total{result="l1_hit|l2_hit|miss"}`, `cache_redis_errors_total`,
//!   `cache_l1_evictions_total` (counters), `cache_l1_entries`, `cache_l1_bytes` (gauges)

use crate::state::SharedState;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// Latency buckets (seconds) suited to millisecond latencies.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The route label of requests that matched no route (keeps label cardinality bounded).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The process-wide Prometheus handle; installs the global recorder on first call. When another
/// recorder was installed first (by an embedding program), a detached recorder is used and a
/// warning logged: `/metrics` then renders only what that recorder sees.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = || {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    LATENCY_BUCKETS,
                )
                .unwrap_or_else(|_| PrometheusBuilder::new())
        };
        match builder().install_recorder() {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "a metrics recorder is already installed; /metrics uses a detached one");
                builder().build_recorder().handle()
            }
        }
    })
}

/// Install the recorder now (idempotent), so metrics recorded before the first scrape count.
pub fn init() {
    let _ = handle();
}

/// Count and time every request. Apply with `Router::layer` (so the matched route is known).
pub async fn middleware(req: Request, next: Next) -> Response {
    init();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| UNMATCHED_ROUTE.to_owned());
    let started = Instant::now();
    let resp = next.run(req).await;
    let elapsed = started.elapsed().as_secs_f64();
    let status = resp.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(elapsed);
    resp
}

fn as_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Refresh the scrape-time gauges and render the Prometheus text format.
pub fn render(state: &SharedState) -> String {
    let h = handle();
    let st = state.db.pool().status();
    let in_use = st.size.saturating_sub(st.available);
    metrics::gauge!("db_pool_connections", "state" => "in_use").set(in_use as f64);
    metrics::gauge!("db_pool_connections", "state" => "idle").set(st.available as f64);
    metrics::gauge!("db_pool_connections", "state" => "max").set(st.max_size as f64);
    metrics::gauge!("db_pool_waiting").set(st.waiting as f64);

    let c = state.cache.stats();
    metrics::counter!("cache_requests_total", "result" => "l1_hit").absolute(c.l1_hits);
    metrics::counter!("cache_requests_total", "result" => "l2_hit").absolute(c.l2_hits);
    metrics::counter!("cache_requests_total", "result" => "miss").absolute(c.misses);
    metrics::counter!("cache_redis_errors_total").absolute(c.redis_errors);
    metrics::counter!("cache_l1_evictions_total").absolute(c.l1_evictions);
    metrics::gauge!("cache_l1_entries").set(as_u64(c.l1_entries) as f64);
    metrics::gauge!("cache_l1_bytes").set(as_u64(c.l1_bytes) as f64);

    h.run_upkeep();
    h.render()
}
