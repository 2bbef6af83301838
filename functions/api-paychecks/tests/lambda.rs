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
    let app = TestApp::spawn_with(None, Settings::default(), &[Group::Paychecks]).await;
    let clerk = app.token(Role::PayrollClerk);
    let r = invoke_lambda(app.router.clone(), &event("calculate.json", &clerk)).await;
    assert_eq!(r["statusCode"], 200, "{r}");
    let body = lambda_body(&r);
    assert_eq!(body["gross_pay"], "2000.00");
    // The same answer as the calculation core.
    let ev: serde_json::Value = serde_json::from_str(&event("calculate.json", &clerk)).unwrap();
    let direct = payroll_domain_json(ev["body"].as_str().unwrap());
    assert_eq!(body, direct);
    let r = invoke_lambda(app.router.clone(), &event("calculate-invalid.json", &clerk)).await;
    assert_eq!(r["statusCode"], 422, "{r}");
    assert_eq!(lambda_body(&r)["code"], "invalid_request");
    let r = invoke_lambda(app.router.clone(), &event("rule-packs.json", &clerk)).await;
    assert_eq!(r["statusCode"], 200, "{r}");
    let r = invoke_lambda(app.router.clone(), &event("no-token.json", "")).await;
    assert_eq!(r["statusCode"], 401, "{r}");
    app.cleanup().await;
}

fn payroll_domain_json(body: &str) -> serde_json::Value {
    let req = payroll_domain::parse_request(body).unwrap();
    serde_json::to_value(payroll_domain::calculate(&req).unwrap()).unwrap()
}
