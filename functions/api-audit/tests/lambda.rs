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
    let app = TestApp::spawn_with(None, Settings::default(), &[Group::Audit]).await;
    let r = invoke_lambda(app.router.clone(), &event("list-audit.json", &app.admin())).await;
    assert_eq!(r["statusCode"], 200, "{r}");
    assert!(lambda_body(&r)["items"].is_array());
    let r = invoke_lambda(
        app.router.clone(),
        &event("list-audit.json", &app.token(Role::PayrollManager)),
    )
    .await;
    assert_eq!(r["statusCode"], 403, "{r}");
    let r = invoke_lambda(app.router.clone(), &event("no-token.json", "")).await;
    assert_eq!(r["statusCode"], 401, "{r}");
    app.cleanup().await;
}
