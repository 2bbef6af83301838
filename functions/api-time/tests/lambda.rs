//! The function's handler fed real API Gateway HTTP API (v2) events, through lambda_http's adapter.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use payroll_api::Group;
use payroll_api::auth::Role;
use payroll_api::state::Settings;
use payroll_api::testing::{TestApp, event_fixture, invoke_lambda, lambda_body};
use std::path::Path;

fn event(name: &str, token: &str) -> String {
    event_fixture(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("events")
            .join(name),
        token,
    )
}

#[tokio::test]
async fn api_gateway_v2_events() {
    let app = TestApp::spawn_with(None, Settings::default(), &[Group::Time]).await;
    let clerk = app.token(Role::PayrollClerk);
    let r = invoke_lambda(app.router.clone(), &event("list-time-entries.json", &clerk)).await;
    assert_eq!(r["statusCode"], 200, "{r}");
    assert_eq!(lambda_body(&r)["items"], serde_json::json!([]));
    let r = invoke_lambda(app.router.clone(), &event("batch-invalid.json", &clerk)).await;
    assert_eq!(r["statusCode"], 422, "{r}");
    assert_eq!(r["headers"]["content-type"], "application/problem+json");
    let r = invoke_lambda(app.router.clone(), &event("no-token.json", "")).await;
    assert_eq!(r["statusCode"], 401, "{r}");
    app.cleanup().await;
}
