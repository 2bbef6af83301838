//! Each `functions/api-*` Lambda function fed its own API Gateway HTTP API (v2) event fixtures
//! (`functions/<name>/events/*.json`) through lambda_http's adapter, with exactly the endpoint
//! groups that function's `main` serves. (The function crates hold one-line mains; their fixture
//! tests live here so the workspace links one test binary instead of one per function.)

use crate::common::{TestApp, event_fixture, invoke_lambda, lambda_body};
use payroll_api::Group;
use payroll_api::auth::Role;
use payroll_api::state::Settings;
use std::path::Path;

fn event(function: &str, name: &str, token: &str) -> String {
    event_fixture(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../functions")
            .join(function)
            .join("events")
            .join(name),
        token,
    )
}

#[tokio::test]
async fn company_function_events() {
    let app = TestApp::spawn_with(None, Settings::default(), &[Group::Company]).await;
    let admin = app.admin();
    let r = invoke_lambda(
        app.router.clone(),
        &event("api-company", "get-company.json", &admin),
    )
    .await;
    assert_eq!(r["statusCode"], 200, "{r}");
    assert_eq!(lambda_body(&r)["legal_name"], "Test Bistro");
    let r = invoke_lambda(
        app.router.clone(),
        &event("api-company", "create-location.json", &admin),
    )
    .await;
    assert_eq!(r["statusCode"], 201, "{r}");
    assert_eq!(lambda_body(&r)["state"], "CA");
    let r = invoke_lambda(
        app.router.clone(),
        &event("api-company", "no-token.json", ""),
    )
    .await;
    assert_eq!(r["statusCode"], 401, "{r}");
    assert_eq!(r["headers"]["content-type"], "application/problem+json");
    // This function serves only its own group.
    let other = event("api-company", "get-company.json", &admin)
        .replace("/api/payroll/v1/company", "/api/payroll/v1/employees");
    let r = invoke_lambda(app.router.clone(), &other).await;
    assert_eq!(r["statusCode"], 404, "{r}");
    app.cleanup().await;
}

#[tokio::test]
async fn employees_function_events() {
    let app = TestApp::spawn_with(None, Settings::default(), &[Group::Employees]).await;
    let admin = app.admin();
    let r = invoke_lambda(
        app.router.clone(),
        &event("api-employees", "create-employee.json", &admin),
    )
    .await;
    assert_eq!(r["statusCode"], 201, "{r}");
    let body = lambda_body(&r);
    assert_eq!(body["first_name"], "Ana");
    assert!(!r.to_string().contains("6789") || body["ssn"] == "***-**-6789");
    assert!(
        !r.to_string().contains("123-45-6789"),
        "SSN must be masked: {r}"
    );
    let r = invoke_lambda(
        app.router.clone(),
        &event("api-employees", "list-employees.json", &admin),
    )
    .await;
    assert_eq!(r["statusCode"], 200, "{r}");
    assert_eq!(lambda_body(&r)["items"].as_array().map(Vec::len), Some(1));
    let r = invoke_lambda(
        app.router.clone(),
        &event("api-employees", "no-token.json", ""),
    )
    .await;
    assert_eq!(r["statusCode"], 401, "{r}");
    app.cleanup().await;
}

#[tokio::test]
async fn time_function_events() {
    let app = TestApp::spawn_with(None, Settings::default(), &[Group::Time]).await;
    let clerk = app.token(Role::PayrollClerk);
    let r = invoke_lambda(
        app.router.clone(),
        &event("api-time", "list-time-entries.json", &clerk),
    )
    .await;
    assert_eq!(r["statusCode"], 200, "{r}");
    assert_eq!(lambda_body(&r)["items"], serde_json::json!([]));
    let r = invoke_lambda(
        app.router.clone(),
        &event("api-time", "batch-invalid.json", &clerk),
    )
    .await;
    assert_eq!(r["statusCode"], 422, "{r}");
    assert_eq!(r["headers"]["content-type"], "application/problem+json");
    let r = invoke_lambda(app.router.clone(), &event("api-time", "no-token.json", "")).await;
    assert_eq!(r["statusCode"], 401, "{r}");
    app.cleanup().await;
}

#[tokio::test]
async fn paychecks_function_events() {
    let app = TestApp::spawn_with(None, Settings::default(), &[Group::Paychecks]).await;
    let clerk = app.token(Role::PayrollClerk);
    let r = invoke_lambda(
        app.router.clone(),
        &event("api-paychecks", "calculate.json", &clerk),
    )
    .await;
    assert_eq!(r["statusCode"], 200, "{r}");
    let body = lambda_body(&r);
    assert_eq!(body["gross_pay"], "2000.00");
    // The same answer as the calculation core.
    let ev: serde_json::Value =
        serde_json::from_str(&event("api-paychecks", "calculate.json", &clerk)).unwrap();
    let direct = domain_json(ev["body"].as_str().unwrap());
    assert_eq!(body, direct);
    let r = invoke_lambda(
        app.router.clone(),
        &event("api-paychecks", "calculate-invalid.json", &clerk),
    )
    .await;
    assert_eq!(r["statusCode"], 422, "{r}");
    assert_eq!(lambda_body(&r)["code"], "invalid_request");
    let r = invoke_lambda(
        app.router.clone(),
        &event("api-paychecks", "rule-packs.json", &clerk),
    )
    .await;
    assert_eq!(r["statusCode"], 200, "{r}");
    let r = invoke_lambda(
        app.router.clone(),
        &event("api-paychecks", "no-token.json", ""),
    )
    .await;
    assert_eq!(r["statusCode"], 401, "{r}");
    app.cleanup().await;
}

fn domain_json(body: &str) -> serde_json::Value {
    let req = payroll_domain::parse_request(body).unwrap();
    serde_json::to_value(payroll_domain::calculate(&req).unwrap()).unwrap()
}

#[tokio::test]
async fn audit_function_events() {
    let app = TestApp::spawn_with(None, Settings::default(), &[Group::Audit]).await;
    let r = invoke_lambda(
        app.router.clone(),
        &event("api-audit", "list-audit.json", &app.admin()),
    )
    .await;
    assert_eq!(r["statusCode"], 200, "{r}");
    assert!(lambda_body(&r)["items"].is_array());
    let r = invoke_lambda(
        app.router.clone(),
        &event(
            "api-audit",
            "list-audit.json",
            &app.token(Role::PayrollManager),
        ),
    )
    .await;
    assert_eq!(r["statusCode"], 403, "{r}");
    let r = invoke_lambda(app.router.clone(), &event("api-audit", "no-token.json", "")).await;
    assert_eq!(r["statusCode"], 401, "{r}");
    app.cleanup().await;
}

#[tokio::test]
async fn paystubs_function_events() {
    use base64::Engine as _;
    // Paid stubs seeded through every group; the function's router serves only /paystubs.
    let app = TestApp::spawn_with(None, Settings::default(), &Group::ALL).await;
    let paid = crate::paystubs::paid_stubs(&app).await;
    let function = payroll_api::app(app.state.clone(), &[Group::Paystubs]);
    let admin = app.admin();
    let fill = |name: &str, token: &str| {
        event("api-paystubs", name, token)
            .replace("{{EMPLOYEE_ID}}", &paid.employee.to_string())
            .replace("{{STUB_ID}}", &paid.second.to_string())
    };
    let r = invoke_lambda(function.clone(), &fill("list-paystubs.json", &admin)).await;
    assert_eq!(r["statusCode"], 200, "{r}");
    assert_eq!(lambda_body(&r)["items"].as_array().map(Vec::len), Some(2));
    let r = invoke_lambda(function.clone(), &fill("get-paystub.json", &admin)).await;
    assert_eq!(r["statusCode"], 200, "{r}");
    let stub = lambda_body(&r);
    assert_eq!(stub["statement"]["employee"]["ssn"], "***-**-6789");
    // The PDF comes back base64-encoded, as API Gateway needs for a binary body.
    let r = invoke_lambda(function.clone(), &fill("get-paystub-pdf.json", &admin)).await;
    assert_eq!(r["statusCode"], 200);
    assert_eq!(r["headers"]["content-type"], "application/pdf");
    assert_eq!(r["isBase64Encoded"], true);
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(r["body"].as_str().unwrap())
        .unwrap();
    assert!(crate::paystubs::check_pdf(&pdf) >= 1);
    let net = crate::paystubs::grouped(stub["net_pay"].as_str().unwrap());
    assert!(crate::paystubs::shown_text(&pdf).contains(&net));
    // An employee's token sees its own stub, not another's.
    let own = app.token_for(app.tenant, Role::Employee, Some(paid.employee));
    let r = invoke_lambda(function.clone(), &fill("get-paystub.json", &own)).await;
    assert_eq!(r["statusCode"], 200, "{r}");
    let stranger = app.token_for(app.tenant, Role::Employee, Some(uuid::Uuid::new_v4()));
    let r = invoke_lambda(function.clone(), &fill("get-paystub.json", &stranger)).await;
    assert_eq!(r["statusCode"], 404, "{r}");
    let r = invoke_lambda(function.clone(), &fill("no-token.json", "")).await;
    assert_eq!(r["statusCode"], 401, "{r}");
    // /payroll-runs belongs to api-runs: this function does not serve it (the full app does).
    let r = invoke_lambda(function.clone(), &fill("list-payroll-runs.json", &admin)).await;
    assert_eq!(r["statusCode"], 404, "{r}");
    let r = invoke_lambda(app.router.clone(), &fill("list-payroll-runs.json", &admin)).await;
    assert_eq!(r["statusCode"], 200, "{r}");
    app.cleanup().await;
}
