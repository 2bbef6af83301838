//! Platform layer: ops routes, request ids, metrics, problem+json fallbacks, idempotency keys,
//! rate limits, and Redis going away mid-test.

use crate::common;

use crate::common::{TestApp, assert_problem};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::Method;
use payroll_api::auth::{Auth, Role};
use payroll_api::extract::ApiJson;
use payroll_api::state::Settings;
use payroll_api::telemetry::RequestId;
use payroll_api::{ApiError, Group, SharedState, app_with};
use payroll_store::audit::{AuditRecord, record};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

const PREVIEW: &str = "/api/payroll/v1/paychecks/calculate";

fn preview_body() -> Value {
    json!({"pay_date":"2025-03-14","pay_frequency":"biweekly","work_state":"TX",
           "employee":{"flsa_exempt":true},
           "earnings":[{"type":"salary","amount":"2000.00"}]})
}

// ---------------------------------------------------------------------------------------------
// A small business router exercising the middleware deterministically.

#[derive(Default)]
struct Probe {
    echo_calls: AtomicUsize,
    fail_calls: AtomicUsize,
    slow_entered: Notify,
    slow_release: Notify,
}

async fn count_audit(app: &TestApp) -> i64 {
    let c = app.db.client().await.unwrap();
    c.query_one(
        "SELECT count(*) FROM audit_events WHERE entity = 'probe'",
        &[],
    )
    .await
    .unwrap()
    .get(0)
}

fn probe_router(probe: Arc<Probe>) -> Router<SharedState> {
    let p1 = probe.clone();
    let p2 = probe.clone();
    let p3 = probe;
    Router::new()
        .route(
            "/probe/echo",
            post(
                move |State(state): State<SharedState>,
                      auth: Auth,
                      rid: Option<axum::Extension<RequestId>>,
                      ApiJson(body): ApiJson<Value>| {
                    let p = p1.clone();
                    async move {
                        let n = p.echo_calls.fetch_add(1, Ordering::SeqCst) + 1;
                        let tx = state.db.tenant_tx(auth.tenant_id).await?;
                        let rid = rid.map(|r| r.0.0.clone());
                        record(
                            &tx,
                            &AuditRecord {
                                actor: auth.actor(),
                                action: "create",
                                entity: "probe",
                                entity_id: Some(n.to_string()),
                                request_id: rid.as_deref(),
                                before: None,
                                after: Some(body.clone()),
                            },
                        )
                        .await?;
                        tx.commit().await?;
                        let mut r = (
                            StatusCode::CREATED,
                            axum::Json(json!({"n": n, "echo": body})),
                        )
                            .into_response();
                        r.headers_mut()
                            .insert(header::ETAG, HeaderValue::from_static("\"v1\""));
                        Ok::<Response, ApiError>(r)
                    }
                },
            ),
        )
        .route(
            "/probe/fail-once",
            post(move |_auth: Auth| {
                let p = p2.clone();
                async move {
                    if p.fail_calls.fetch_add(1, Ordering::SeqCst) == 0 {
                        Err(ApiError::internal("probe: first call fails"))
                    } else {
                        Ok((StatusCode::CREATED, axum::Json(json!({"ok": true}))))
                    }
                }
            }),
        )
        .route(
            "/probe/slow",
            post(move |_auth: Auth| {
                let p = p3.clone();
                async move {
                    p.slow_entered.notify_one();
                    p.slow_release.notified().await;
                    axum::Json(json!({"slow": "done"}))
                }
            }),
        )
        .route(
            "/probe/limited",
            post(|State(state): State<SharedState>, auth: Auth| async move {
                state
                    .limiter
                    .check(
                        auth.tenant_id,
                        "probe",
                        state.settings.preview_limit_per_minute,
                    )
                    .await?;
                Ok::<_, ApiError>(axum::Json(json!({"ok": true})))
            }),
        )
        .route(
            "/probe/cached",
            get(|State(state): State<SharedState>, auth: Auth| async move {
                let key = format!("config:{}:probe", auth.tenant_id);
                let tenant = auth.tenant_id;
                let db = state.db.clone();
                let name: String = state
                    .cache
                    .get_or_load(&key, || async move {
                        let tx = db.tenant_tx(tenant).await?;
                        let row = tx
                            .client()
                            .query_one(
                                "SELECT legal_name FROM company_settings WHERE tenant_id = $1",
                                &[&tenant],
                            )
                            .await
                            .map_err(payroll_store::StoreError::from)?;
                        tx.commit().await?;
                        Ok::<String, payroll_store::StoreError>(row.get(0))
                    })
                    .await?;
                Ok::<_, ApiError>(axum::Json(json!({"legal_name": name})))
            }),
        )
}

/// A TestApp whose business routes are the probe routes (plus the given groups).
async fn probe_app(
    redis: Option<redis::aio::ConnectionManager>,
    settings: Settings,
    groups: &[Group],
) -> (TestApp, Arc<Probe>) {
    let app = TestApp::spawn_with(redis, settings, groups).await;
    let probe = Arc::new(Probe::default());
    let mut api = probe_router(probe.clone());
    for g in groups {
        api = api.merge(g.router());
    }
    let router = app_with(app.state.clone(), api);
    (TestApp { router, ..app }, probe)
}

async fn post_with_key(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    body: &Value,
    key: &str,
) -> common::TestResponse {
    app.call(
        Method::POST,
        path,
        token,
        Some(body),
        &[("idempotency-key", key)],
    )
    .await
}

/// Sleep past the end of the current minute when fewer than `margin` seconds remain, so a
/// rate-limit test stays inside one fixed window.
async fn avoid_minute_boundary(margin: u64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let left = 60 - now % 60;
    if left < margin {
        tokio::time::sleep(Duration::from_secs(left + 1)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Ops routes

#[tokio::test]
async fn health_is_ok_and_carries_a_request_id() {
    let app = TestApp::spawn_with(None, Settings::default(), &Group::ALL).await;
    let r = app.call(Method::GET, "/health", None, None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json, json!({"status": "ok"}));
    let id = r.header("x-request-id").unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    app.cleanup().await;
}

#[tokio::test]
async fn request_id_is_echoed_or_replaced_when_invalid() {
    let app = TestApp::spawn_with(None, Settings::default(), &Group::ALL).await;
    let r = app
        .call(
            Method::GET,
            "/health",
            None,
            None,
            &[("x-request-id", "abc-123.XYZ")],
        )
        .await;
    assert_eq!(r.header("x-request-id"), Some("abc-123.XYZ"));
    let r = app
        .call(
            Method::GET,
            "/health",
            None,
            None,
            &[("x-request-id", "bad id\"")],
        )
        .await;
    let id = r.header("x-request-id").unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    // Also on errors.
    let r = app
        .call(
            Method::GET,
            "/nowhere",
            None,
            None,
            &[("x-request-id", "err-1")],
        )
        .await;
    assert_eq!(r.header("x-request-id"), Some("err-1"));
    app.cleanup().await;
}

#[tokio::test]
async fn ready_reports_postgres_and_redis() {
    let app = TestApp::spawn().await;
    let r = app.call(Method::GET, "/ready", None, None, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["status"], "ready");
    assert_eq!(r.json["postgres"], "up");
    assert_eq!(r.json["redis"], "up");
    app.cleanup().await;

    let app = TestApp::spawn_with(None, Settings::default(), &Group::ALL).await;
    let r = app.call(Method::GET, "/ready", None, None, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["redis"], "disabled");
    app.cleanup().await;
}

#[tokio::test]
async fn ready_is_503_when_the_database_is_gone() {
    let app = TestApp::spawn_with(None, Settings::default(), &Group::ALL).await;
    common::drop_database(&app.db_name).await;
    let r = app.call(Method::GET, "/ready", None, None, &[]).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    assert_eq!(r.json["status"], "unavailable");
    assert_eq!(r.json["postgres"], "down");
    // The process itself is still healthy.
    let r = app.call(Method::GET, "/health", None, None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    app.cleanup().await;
}

#[tokio::test]
async fn metrics_count_requests_by_route() {
    let app = TestApp::spawn_with(None, Settings::default(), &Group::ALL).await;
    app.call(Method::GET, "/health", None, None, &[]).await;
    app.call(Method::GET, "/no/such/route", None, None, &[])
        .await;
    let r = app.call(Method::GET, "/metrics", None, None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let text = &r.text;
    let has = |needle: &str| text.lines().any(|l| l.contains(needle));
    assert!(
        text.lines().any(|l| l.starts_with("http_requests_total{")
            && l.contains("route=\"/health\"")
            && l.contains("method=\"GET\"")
            && l.contains("status=\"200\"")),
        "{text}"
    );
    assert!(has("route=\"unmatched\""), "{text}");
    assert!(has("http_request_duration_seconds_bucket{"), "{text}");
    assert!(has("le=\"0.001\""), "{text}");
    assert!(has("db_pool_connections{state=\"in_use\"}"), "{text}");
    assert!(has("db_pool_connections{state=\"idle\"}"), "{text}");
    assert!(has("cache_requests_total{result=\"miss\"}"), "{text}");
    app.cleanup().await;
}

#[tokio::test]
async fn openapi_document_lists_paths_and_bearer_scheme() {
    let app = TestApp::spawn_with(None, Settings::default(), &Group::ALL).await;
    let r = app
        .call(Method::GET, "/openapi.json", None, None, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let doc = &r.json;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        r.text
    );
    assert_eq!(doc["info"]["title"], "Payroll API");
    let paths = doc["paths"].as_object().unwrap();
    for p in ["/health", "/ready", "/metrics", "/openapi.json"] {
        assert!(paths.contains_key(p), "missing {p}: {:?}", paths.keys());
    }
    // Every other path is under the base path.
    for p in paths.keys() {
        assert!(
            p.starts_with("/api/payroll/v1/")
                || ["/health", "/ready", "/metrics", "/openapi.json"].contains(&p.as_str()),
            "{p}"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["security"][0]["bearer"], json!([]));
    app.cleanup().await;
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problem_json() {
    let app = TestApp::spawn_with(None, Settings::default(), &Group::ALL).await;
    let r = app.call(Method::GET, "/nope", None, None, &[]).await;
    assert_problem(&r, 404, "not_found");
    let r = app
        .call(
            Method::GET,
            "/api/payroll/v1/no-such-thing",
            Some(&app.admin()),
            None,
            &[],
        )
        .await;
    assert_problem(&r, 404, "not_found");
    let r = app.call(Method::DELETE, "/health", None, None, &[]).await;
    assert_problem(&r, 405, "method_not_allowed");
    // Also for nested business routes.
    let r = app
        .call(Method::DELETE, PREVIEW, Some(&app.admin()), None, &[])
        .await;
    assert_problem(&r, 405, "method_not_allowed");
    app.cleanup().await;
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let (app, probe) = probe_app(None, Settings::default(), &[]).await;
    let big = "x".repeat(11 * 1024 * 1024);
    let r = app
        .call(
            Method::POST,
            "/api/payroll/v1/probe/echo",
            Some(&app.admin()),
            Some(&json!({"big": big})),
            &[("idempotency-key", "big-1")],
        )
        .await;
    assert_problem(&r, 413, "payload_too_large");
    assert_eq!(probe.echo_calls.load(Ordering::SeqCst), 0);
    app.cleanup().await;
}

// ---------------------------------------------------------------------------------------------
// Idempotency keys

#[tokio::test]
async fn idempotent_replay_returns_the_first_response_and_changes_nothing() {
    let (app, probe) = probe_app(None, Settings::default(), &[]).await;
    let token = app.admin();
    let path = "/api/payroll/v1/probe/echo";
    let body = json!({"name": "first"});

    let first = post_with_key(&app, path, Some(&token), &body, "key-1").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.json, json!({"n": 1, "echo": {"name": "first"}}));
    assert_eq!(first.header("idempotent-replayed"), None);

    let again = post_with_key(&app, path, Some(&token), &body, "key-1").await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.text, first.text);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.header("etag"), Some("\"v1\""));
    assert_eq!(again.header("content-type"), Some("application/json"));
    // The replay has its own request id.
    assert_ne!(again.header("x-request-id"), first.header("x-request-id"));
    assert_eq!(probe.echo_calls.load(Ordering::SeqCst), 1);
    assert_eq!(count_audit(&app).await, 1);

    // Same key, different body → 422, nothing runs.
    let other = post_with_key(
        &app,
        path,
        Some(&token),
        &json!({"name": "second"}),
        "key-1",
    )
    .await;
    assert_problem(&other, 422, "idempotency_key_reused");
    // Same key, different path → 422.
    let other = post_with_key(
        &app,
        "/api/payroll/v1/probe/limited",
        Some(&token),
        &body,
        "key-1",
    )
    .await;
    assert_problem(&other, 422, "idempotency_key_reused");
    assert_eq!(probe.echo_calls.load(Ordering::SeqCst), 1);
    assert_eq!(count_audit(&app).await, 1);

    // A new key runs the handler again; without a key every POST runs.
    let second = post_with_key(&app, path, Some(&token), &body, "key-2").await;
    assert_eq!(second.json["n"], 2);
    let third = app.post(path, &token, &body).await;
    assert_eq!(third.json["n"], 3);

    // Keys are per tenant: the other tenant's "key-1" is a new request.
    let other_token = app.token_for(app.other_tenant, Role::PayrollAdmin, None);
    let r = post_with_key(&app, path, Some(&other_token), &body, "key-1").await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.json["n"], 4);
    assert_eq!(r.header("idempotent-replayed"), None);
    assert_eq!(count_audit(&app).await, 4);
    app.cleanup().await;
}

#[tokio::test]
async fn idempotency_key_requires_auth_and_a_valid_key() {
    let (app, probe) = probe_app(None, Settings::default(), &[]).await;
    let path = "/api/payroll/v1/probe/echo";
    let body = json!({"a": 1});
    // No token: the handler answers 401, nothing stored.
    let r = post_with_key(&app, path, None, &body, "k").await;
    assert_problem(&r, 401, "unauthorized");
    let r = post_with_key(&app, path, Some("not-a-jwt"), &body, "k").await;
    assert_problem(&r, 401, "unauthorized");
    let c = app.db.client().await.unwrap();
    let n: i64 = c
        .query_one("SELECT count(*) FROM idempotency_keys", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    // Key too long or empty.
    let token = app.admin();
    let r = post_with_key(&app, path, Some(&token), &body, &"k".repeat(256)).await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.json["errors"][0]["field"], "Idempotency-Key");
    let r = post_with_key(&app, path, Some(&token), &body, &"k".repeat(255)).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(probe.echo_calls.load(Ordering::SeqCst), 1);
    app.cleanup().await;
}

#[tokio::test]
async fn server_errors_are_not_stored_so_a_retry_runs() {
    let (app, probe) = probe_app(None, Settings::default(), &[]).await;
    let token = app.admin();
    let path = "/api/payroll/v1/probe/fail-once";
    let r = post_with_key(&app, path, Some(&token), &json!({}), "retry-me").await;
    assert_problem(&r, 500, "internal_error");
    let r = post_with_key(&app, path, Some(&token), &json!({}), "retry-me").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.header("idempotent-replayed"), None);
    let r = post_with_key(&app, path, Some(&token), &json!({}), "retry-me").await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.header("idempotent-replayed"), Some("true"));
    assert_eq!(probe.fail_calls.load(Ordering::SeqCst), 2);
    app.cleanup().await;
}

#[tokio::test]
async fn a_request_in_flight_with_the_same_key_is_409() {
    let (app, probe) = probe_app(None, Settings::default(), &[]).await;
    let app = Arc::new(app);
    let token = app.admin();
    let path = "/api/payroll/v1/probe/slow";
    let first = {
        let app = app.clone();
        let token = token.clone();
        tokio::spawn(
            async move { post_with_key(&app, path, Some(&token), &json!({}), "slow-1").await },
        )
    };
    tokio::time::timeout(Duration::from_secs(10), probe.slow_entered.notified())
        .await
        .expect("the first request reached the handler");
    let second = post_with_key(&app, path, Some(&token), &json!({}), "slow-1").await;
    assert_problem(&second, 409, "idempotency_key_in_progress");
    assert_eq!(second.header("retry-after"), Some("1"));
    probe.slow_release.notify_one();
    let first = first.await.unwrap();
    assert_eq!(first.status, StatusCode::OK);
    let third = post_with_key(&app, path, Some(&token), &json!({}), "slow-1").await;
    assert_eq!(third.status, StatusCode::OK);
    assert_eq!(third.header("idempotent-replayed"), Some("true"));
    assert_eq!(third.json, json!({"slow": "done"}));
    let app = Arc::into_inner(app).unwrap();
    app.cleanup().await;
}

// ---------------------------------------------------------------------------------------------
// Rate limits

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let settings = Settings {
        preview_limit_per_minute: 3,
        ..Settings::default()
    };
    let (app, _) = probe_app(common::redis(&common::redis_url()).await, settings, &[]).await;
    avoid_minute_boundary(10).await;
    let token = app.admin();
    let path = "/api/payroll/v1/probe/limited";
    for _ in 0..3 {
        let r = app.post(path, &token, &json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let r = app.post(path, &token, &json!({})).await;
    assert_problem(&r, 429, "rate_limited");
    let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&secs), "{secs}");
    // Per tenant: the other tenant is not limited.
    let other = app.token_for(app.other_tenant, Role::PayrollClerk, None);
    let r = app.post(path, &other, &json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    app.cleanup().await;
}

// ---------------------------------------------------------------------------------------------
// Redis stopped mid-test

struct RedisProcess {
    child: std::process::Child,
    url: String,
}

impl RedisProcess {
    async fn start() -> RedisProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start redis-server (is it installed?)");
        let url = format!("redis://127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        RedisProcess { child, url }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test]
async fn redis_stopped_mid_test_degrades_without_errors() {
    let mut redis = RedisProcess::start().await;
    let conn = common::redis(&redis.url)
        .await
        .expect("connect to the private redis");
    let settings = Settings {
        preview_limit_per_minute: 1000,
        ..Settings::default()
    };
    let (app, probe) = probe_app(Some(conn.clone()), settings, &Group::ALL).await;
    let token = app.admin();

    let r = app.call(Method::GET, "/ready", None, None, &[]).await;
    assert_eq!(r.json["redis"], "up");
    // With Redis: the cache fills L2, the rate limit counts in Redis.
    for _ in 0..3 {
        let r = app.get("/api/payroll/v1/probe/cached", &token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.json["legal_name"], "Test Bistro");
        let r = app
            .post("/api/payroll/v1/probe/limited", &token, &json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let mut raw = conn.clone();
    let cached: Option<String> = redis::cmd("GET")
        .arg(format!("config:{}:probe", app.tenant))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(cached.as_deref(), Some("\"Test Bistro\""));
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("ratelimit:probe:{}:*", app.tenant))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");

    redis.stop();

    // Without Redis: everything still answers, from L1 and PostgreSQL, quickly.
    let started = Instant::now();
    for i in 0..20 {
        let r = app.get("/api/payroll/v1/probe/cached", &token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.json["legal_name"], "Test Bistro");
        let r = app
            .post("/api/payroll/v1/probe/limited", &token, &json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        // A cache miss goes to PostgreSQL.
        app.state.cache.clear_local();
        let r = app.get("/api/payroll/v1/probe/cached", &token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        // Idempotent writes keep working (they live in PostgreSQL).
        let r = app
            .call(
                Method::POST,
                "/api/payroll/v1/probe/echo",
                Some(&token),
                Some(&json!({"i": i})),
                &[("idempotency-key", &format!("down-{i}"))],
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        // Writers invalidate; a Redis failure there is logged and ignored.
        app.state
            .cache
            .invalidate(&format!("config:{}:probe", app.tenant))
            .await;
        for path in ["/health", "/ready", "/metrics", "/openapi.json"] {
            let r = app.call(Method::GET, path, None, None, &[]).await;
            assert!(r.status.is_success(), "{path}: {} {}", r.status, r.text);
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(probe.echo_calls.load(Ordering::SeqCst), 20);
    let r = app.call(Method::GET, "/ready", None, None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["redis"], "down");
    assert!(app.state.cache.stats().redis_errors >= 1);

    // The real preview route, when present, keeps answering too.
    let r = app.post(PREVIEW, &token, &preview_body()).await;
    assert!(r.status.as_u16() < 500, "{} {}", r.status, r.text);
    app.cleanup().await;
}

// ---------------------------------------------------------------------------------------------
// The same behaviour on the real preview route

#[tokio::test]
async fn preview_idempotent_replay_and_key_reuse() {
    let app = TestApp::spawn().await;
    let token = app.admin();
    let first = post_with_key(&app, PREVIEW, Some(&token), &preview_body(), "preview-1").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = post_with_key(&app, PREVIEW, Some(&token), &preview_body(), "preview-1").await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.text, first.text);
    assert_eq!(again.header("content-type"), first.header("content-type"));

    let mut changed = preview_body();
    changed["earnings"][0]["amount"] = json!("2100.00");
    let r = post_with_key(&app, PREVIEW, Some(&token), &changed, "preview-1").await;
    assert_problem(&r, 422, "idempotency_key_reused");

    // Exactly one stored record, complete.
    let c = app.db.client().await.unwrap();
    let rows = c
        .query("SELECT key, status FROM idempotency_keys", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, String>(0), "preview-1");
    assert_eq!(rows[0].get::<_, Option<i32>>(1), Some(200));
    app.cleanup().await;
}

#[tokio::test]
async fn preview_rate_limit_is_429_with_retry_after() {
    let settings = Settings {
        preview_limit_per_minute: 3,
        ..Settings::default()
    };
    let app = TestApp::spawn_with(
        common::redis(&common::redis_url()).await,
        settings,
        &Group::ALL,
    )
    .await;
    avoid_minute_boundary(10).await;
    let token = app.token(Role::PayrollClerk);
    for _ in 0..3 {
        let r = app.post(PREVIEW, &token, &preview_body()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let r = app.post(PREVIEW, &token, &preview_body()).await;
    assert_problem(&r, 429, "rate_limited");
    let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&secs), "{secs}");
    app.cleanup().await;
}
