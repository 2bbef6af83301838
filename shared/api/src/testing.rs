//! Test support (feature `testing`): a fresh migrated PostgreSQL database per test, the app router
//! called in-process, tokens for each role, and two tenants to check isolation. Used by this
//! crate's integration tests and by the function crates' Lambda tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::auth::{DEFAULT_AUDIENCE, DEFAULT_ISSUER, JwtConfig, Role};
use crate::state::{AppState, Settings};
use crate::{Group, SharedState, app};
use axum::Router;
use axum::body::Body;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use payroll_store::Db;
use payroll_store::crypto::DataKey;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;
use uuid::Uuid;

pub const JWT_SECRET: &[u8] = b"test-secret-test-secret-test-secret-0123";

pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Create an empty database with a unique name; returns (name, url).
pub async fn fresh_database() -> (String, String) {
    let admin = admin_url();
    let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .expect("connect to PostgreSQL (is it running?)");
    tokio::spawn(conn);
    let name = format!("t_{}", Uuid::new_v4().simple());
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap();
    (name.clone(), format!("{base}/{name}"))
}

pub async fn drop_database(name: &str) {
    if let Ok((client, conn)) = tokio_postgres::connect(&admin_url(), tokio_postgres::NoTls).await {
        tokio::spawn(conn);
        let _ = client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
}

pub async fn redis(url: &str) -> Option<redis::aio::ConnectionManager> {
    let client = redis::Client::open(url).ok()?;
    tokio::time::timeout(
        std::time::Duration::from_secs(2),
        client.get_connection_manager(),
    )
    .await
    .ok()?
    .ok()
}

pub struct TestApp {
    pub router: Router,
    pub state: SharedState,
    pub db: Db,
    pub db_name: String,
    pub tenant: Uuid,
    pub other_tenant: Uuid,
    pub jwt: JwtConfig,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    /// All endpoint groups, Redis at `TEST_REDIS_URL` if reachable.
    pub async fn spawn() -> TestApp {
        let r = redis(&redis_url()).await;
        TestApp::spawn_with(r, Settings::default(), &Group::ALL).await
    }

    pub async fn spawn_with(
        redis: Option<redis::aio::ConnectionManager>,
        settings: Settings,
        groups: &[Group],
    ) -> TestApp {
        let (db_name, url) = fresh_database().await;
        let db = Db::connect(&url, 8).unwrap();
        payroll_store::migrate::migrate(&db).await.unwrap();
        let tenant = payroll_store::repo::tenants::create(&db, "Test Bistro")
            .await
            .unwrap();
        let other_tenant = payroll_store::repo::tenants::create(&db, "Other Diner")
            .await
            .unwrap();
        let jwt = JwtConfig::new(JWT_SECRET, DEFAULT_ISSUER, DEFAULT_AUDIENCE).unwrap();
        let key = DataKey::from_bytes(&[42u8; 32]).unwrap();
        let state = Arc::new(AppState::new(db.clone(), jwt.clone(), key, redis, settings));
        let router = app(state.clone(), groups);
        TestApp {
            router,
            state,
            db,
            db_name,
            tenant,
            other_tenant,
            jwt,
        }
    }

    pub fn token(&self, role: Role) -> String {
        self.jwt
            .mint("tester@example.com", self.tenant, &[role], None, 3600)
            .unwrap()
    }

    pub fn token_for(&self, tenant: Uuid, role: Role, employee: Option<Uuid>) -> String {
        self.jwt
            .mint("someone@example.com", tenant, &[role], employee, 3600)
            .unwrap()
    }

    pub fn admin(&self) -> String {
        self.token(Role::PayrollAdmin)
    }

    /// Call the app in-process.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = match body {
            Some(v) => b
                .header("content-type", "application/json")
                .body(Body::from(v.to_string()))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        TestResponse {
            status,
            headers,
            text,
            json,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> TestResponse {
        self.call(Method::GET, path, Some(token), None, &[]).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> TestResponse {
        self.call(Method::POST, path, Some(token), Some(body), &[])
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: &Value) -> TestResponse {
        self.call(Method::PUT, path, Some(token), Some(body), &[])
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> TestResponse {
        self.call(Method::PATCH, path, Some(token), Some(body), &[])
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> TestResponse {
        self.call(Method::DELETE, path, Some(token), None, &[])
            .await
    }

    /// Drop the test database (call at the end of a test).
    pub async fn cleanup(self) {
        let name = self.db_name.clone();
        drop(self);
        drop_database(&name).await;
    }
}

/// Assert a problem+json response with the given status and code.
pub fn assert_problem(r: &TestResponse, status: u16, code: &str) {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    assert_eq!(
        r.header("content-type"),
        Some("application/problem+json"),
        "{}",
        r.text
    );
    assert_eq!(r.json["code"], code, "{}", r.text);
}

/// Feed an API Gateway event (JSON text, e.g. an HTTP API v2 payload) through the same adapter
/// `lambda_http::run` uses, and return the Lambda proxy response as JSON
/// (`statusCode`, `headers`, `body`, `isBase64Encoded`).
pub async fn invoke_lambda(router: Router, event_json: &str) -> Value {
    use lambda_http::request::LambdaRequest;
    use lambda_http::{Context, LambdaEvent};
    let payload: LambdaRequest =
        serde_json::from_str(event_json).expect("a valid API Gateway event");
    let mut adapter = lambda_http::Adapter::from(router);
    let resp = tower::Service::call(&mut adapter, LambdaEvent::new(payload, Context::default()))
        .await
        .expect("the router never fails");
    serde_json::to_value(resp).expect("serializable response")
}

/// Read an event fixture and put a bearer token in place of `{{TOKEN}}`.
pub fn event_fixture(path: &std::path::Path, token: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .replace("{{TOKEN}}", token)
}

/// The JSON body of a Lambda proxy response.
pub fn lambda_body(resp: &Value) -> Value {
    let body = resp["body"].as_str().unwrap_or("");
    serde_json::from_str(body).unwrap_or(Value::Null)
}
