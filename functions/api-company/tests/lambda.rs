//! The function's handler fed real API Gateway HTTP API (v2) events, through lambda_http's adapter.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use payroll_api::Group;
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
    let app = TestApp::spawn_with(None, Settings::default(), &[Group::Company]).await;
    let admin = app.admin();
    let r = invoke_lambda(app.router.clone(), &event("get-company.json", &admin)).await;
    assert_eq!(r["statusCode"], 200, "{r}");
    assert_eq!(lambda_body(&r)["legal_name"], "Test Bistro");
    let r = invoke_lambda(app.router.clone(), &event("create-location.json", &admin)).await;
    assert_eq!(r["statusCode"], 201, "{r}");
    assert_eq!(lambda_body(&r)["state"], "CA");
    let r = invoke_lambda(app.router.clone(), &event("no-token.json", "")).await;
    assert_eq!(r["statusCode"], 401, "{r}");
    assert_eq!(r["headers"]["content-type"], "application/problem+json");
    // This function serves only its own group.
    let other = event("get-company.json", &admin)
        .replace("/api/payroll/v1/company", "/api/payroll/v1/employees");
    let r = invoke_lambda(app.router.clone(), &other).await;
    assert_eq!(r["statusCode"], 404, "{r}");
    app.cleanup().await;
}
