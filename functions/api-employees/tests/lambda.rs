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
    let app = TestApp::spawn_with(None, Settings::default(), &[Group::Employees]).await;
    let admin = app.admin();
    let r = invoke_lambda(app.router.clone(), &event("create-employee.json", &admin)).await;
    assert_eq!(r["statusCode"], 201, "{r}");
    let body = lambda_body(&r);
    assert_eq!(body["first_name"], "Ana");
    assert!(!r.to_string().contains("6789") || body["ssn"] == "***-**-6789");
    assert!(
        !r.to_string().contains("123-45-6789"),
        "SSN must be masked: {r}"
    );
    let r = invoke_lambda(app.router.clone(), &event("list-employees.json", &admin)).await;
    assert_eq!(r["statusCode"], 200, "{r}");
    assert_eq!(lambda_body(&r)["items"].as_array().map(Vec::len), Some(1));
    let r = invoke_lambda(app.router.clone(), &event("no-token.json", "")).await;
    assert_eq!(r["statusCode"], 401, "{r}");
    app.cleanup().await;
}
