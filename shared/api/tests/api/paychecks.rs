//! Paycheck previews (the `payroll calc` contract over HTTP, cached, rate limited) and the
//! rule-pack catalog.

use crate::common;

use crate::common::{TestApp, assert_problem};
use http::{Method, StatusCode};
use payroll_api::Group;
use payroll_api::auth::Role;
use payroll_api::state::Settings;
use serde_json::{Value, json};

const CALC: &str = "/api/payroll/v1/paychecks/calculate";
const PACKS: &str = "/api/payroll/v1/rule-packs";

fn tx_cook() -> Value {
    json!({
        "pay_date": "2025-06-13",
        "pay_frequency": "weekly",
        "work_state": "TX",
        "period_start": "2025-06-02",
        "period_end": "2025-06-08",
        "employee": { "workweek_start": "monday" },
        "time_entries": [
            { "date": "2025-06-02", "hours": "9", "rate": "17.25", "job": "line_cook" },
            { "date": "2025-06-03", "hours": "9", "rate": "17.25", "job": "line_cook" },
            { "date": "2025-06-05", "hours": "10", "rate": "17.25", "job": "line_cook" },
            { "date": "2025-06-06", "hours": "10.5", "rate": "17.25", "job": "line_cook" },
            { "date": "2025-06-07", "hours": "8", "rate": "17.25", "job": "line_cook" }
        ],
        "federal_w4": { "form": "2019", "filing_status": "married", "allowances": 2 },
        "deductions": [ { "type": "section_125", "amount": "42.50" } ],
        "employer": { "sui_rate": "0.027", "sui_wage_base": "9000" }
    })
}

/// The same JSON the `payroll calc` command prints for `req`.
fn domain_answer(req: &Value) -> Value {
    serde_json::from_str(&payroll_domain::calculate_json(&req.to_string()).unwrap()).unwrap()
}

#[tokio::test]
async fn preview_returns_exactly_the_calc_contract_and_is_cached() {
    let app = TestApp::spawn().await;
    let clerk = app.token(Role::PayrollClerk);
    let req = tx_cook();
    let r = app.post(CALC, &clerk, &req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("x-cache"), Some("miss"));
    assert_eq!(r.json, domain_answer(&req));
    // 46.5 hours at 17.25: 40 regular + 6.5 overtime at 1.5x = 690.00 + 168.19 = 858.19 gross.
    assert_eq!(r.json["gross_pay"], "858.19", "{}", r.text);

    // The same body again comes from the cache, byte for byte.
    let again = app.post(CALC, &clerk, &req).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.header("x-cache"), Some("hit"));
    assert_eq!(again.text, r.text);
    let key = payroll_api::routes::paychecks::calculation_cache_key(
        app.tenant,
        req.to_string().as_bytes(),
    );
    assert_eq!(
        app.state.cache.get::<String>(&key).await,
        Some(r.text.clone())
    );

    // Every example of the repository answers like the CLI.
    for f in [
        "ca-tipped-server-overtime",
        "il-employee-garnishment",
        "ny-salaried-manager-bonus",
    ] {
        let path = format!("{}/../../examples/{f}.json", env!("CARGO_MANIFEST_DIR"));
        let req: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let r = app.post(CALC, &app.admin(), &req).await;
        assert_eq!(r.status, StatusCode::OK, "{f}: {}", r.text);
        assert_eq!(r.json, domain_answer(&req), "{f}");
    }
    app.cleanup().await;
}

#[tokio::test]
async fn invalid_requests_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let clerk = app.token(Role::PayrollClerk);

    let mut req = tx_cook();
    req["time_entries"][3]["hours"] = json!("ten");
    let r = app.post(CALC, &clerk, &req).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(
        r.json["errors"][0]["field"], "time_entries[3].hours",
        "{}",
        r.text
    );

    let mut req = tx_cook();
    req["time_entries"][1]["hours"] = json!("-2");
    let r = app.post(CALC, &clerk, &req).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(
        r.json["errors"][0]["field"], "time_entries[1].hours",
        "{}",
        r.text
    );

    let mut req = tx_cook();
    req.as_object_mut().unwrap().remove("pay_date");
    let r = app.post(CALC, &clerk, &req).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(
        r.json["detail"].as_str().unwrap().contains("pay_date"),
        "{}",
        r.text
    );

    let mut req = tx_cook();
    req["surprise"] = json!(1);
    let r = app.post(CALC, &clerk, &req).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("surprise"), "{}", r.text);

    // A state with a wage tax we do not compute (Georgia).
    let mut req = tx_cook();
    req["work_state"] = json!("GA");
    let r = app.post(CALC, &clerk, &req).await;
    assert_problem(&r, 422, "unsupported_state");
    assert_eq!(r.json["errors"][0]["field"], "work_state");

    // No rule pack for the pay date.
    let mut req = tx_cook();
    req["pay_date"] = json!("2019-06-14");
    req["period_start"] = json!("2019-06-03");
    req["period_end"] = json!("2019-06-09");
    for (i, d) in [
        "2019-06-03",
        "2019-06-04",
        "2019-06-05",
        "2019-06-06",
        "2019-06-07",
    ]
    .iter()
    .enumerate()
    {
        req["time_entries"][i]["date"] = json!(d);
    }
    let r = app.post(CALC, &clerk, &req).await;
    assert_problem(&r, 422, "no_rule_pack");

    // Not JSON: 400; not declared as JSON: 415.
    let r = app
        .call(
            Method::POST,
            CALC,
            Some(&clerk),
            None,
            &[("content-type", "application/json")],
        )
        .await;
    assert_problem(&r, 400, "bad_request");
    let r = app
        .call(
            Method::POST,
            CALC,
            Some(&clerk),
            None,
            &[("content-type", "text/plain")],
        )
        .await;
    assert_problem(&r, 415, "unsupported_media_type");
    app.cleanup().await;
}

#[tokio::test]
async fn preview_roles() {
    let app = TestApp::spawn().await;
    let req = tx_cook();
    let r = app.call(Method::POST, CALC, None, Some(&req), &[]).await;
    assert_problem(&r, 401, "unauthorized");
    let r = app.post(CALC, "not-a-token", &req).await;
    assert_problem(&r, 401, "unauthorized");
    let emp = app.token_for(app.tenant, Role::Employee, Some(uuid::Uuid::new_v4()));
    assert_problem(&app.post(CALC, &emp, &req).await, 403, "forbidden");
    for role in [Role::PayrollClerk, Role::PayrollManager, Role::PayrollAdmin] {
        let r = app.post(CALC, &app.token(role), &req).await;
        assert_eq!(r.status, StatusCode::OK, "{role:?}: {}", r.text);
    }
    app.cleanup().await;
}

#[tokio::test]
async fn previews_are_rate_limited_per_tenant() {
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
    let clerk = app.token(Role::PayrollClerk);
    let req = tx_cook();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(app.post(CALC, &clerk, &req).await);
    }
    // Near a minute boundary the window may reset once; at least one request is refused.
    let limited: Vec<_> = statuses
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert!(
        !limited.is_empty(),
        "{:?}",
        statuses.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(statuses[0].status, StatusCode::OK);
    let r = limited[0];
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");

    // Another tenant has its own budget.
    let other = app.token_for(app.other_tenant, Role::PayrollClerk, None);
    assert_eq!(app.post(CALC, &other, &req).await.status, StatusCode::OK);
    app.cleanup().await;
}

#[tokio::test]
async fn rule_packs_are_listed_with_sources() {
    let app = TestApp::spawn().await;
    let r = app.get(PACKS, &app.token(Role::PayrollClerk)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let items = r.json["items"].as_array().unwrap();
    let want = payroll_domain::rules::catalog().unwrap();
    assert_eq!(items.len(), want.len());
    let ca = items
        .iter()
        .find(|p| p["jurisdiction"] == "CA" && p["year"] == 2025)
        .expect("a CA 2025 pack");
    assert_eq!(ca["valid_from"], "2025-01-01");
    assert_eq!(ca["valid_to"], "2025-12-31");
    assert!(!ca["sources"].as_array().unwrap().is_empty());
    assert!(ca["version"].is_string());
    assert!(
        items
            .iter()
            .any(|p| p["jurisdiction"] == "US" && p["year"] == 2026),
        "{}",
        r.text
    );

    let r = app.call(Method::GET, PACKS, None, None, &[]).await;
    assert_problem(&r, 401, "unauthorized");
    let emp = app.token_for(app.tenant, Role::Employee, Some(uuid::Uuid::new_v4()));
    assert_problem(&app.get(PACKS, &emp).await, 403, "forbidden");
    app.cleanup().await;
}

#[tokio::test]
async fn openapi_lists_the_time_paycheck_and_audit_routes() {
    let app = TestApp::spawn().await;
    let r = app
        .call(Method::GET, "/openapi.json", None, None, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let paths = r.json["paths"].as_object().unwrap();
    for (p, m) in [
        ("/api/payroll/v1/time-entries/batch", "post"),
        ("/api/payroll/v1/time-entries", "get"),
        ("/api/payroll/v1/time-entries/{id}", "delete"),
        ("/api/payroll/v1/paychecks/calculate", "post"),
        ("/api/payroll/v1/rule-packs", "get"),
        ("/api/payroll/v1/audit-events", "get"),
    ] {
        assert!(
            paths.get(p).and_then(|v| v.get(m)).is_some(),
            "{m} {p} missing"
        );
    }
    let schemas = r.json["components"]["schemas"].as_object().unwrap();
    for s in [
        "TimeEntryOut",
        "BatchResult",
        "RulePackList",
        "AuditEventList",
    ] {
        assert!(schemas.contains_key(s), "{s} missing");
    }
    assert_eq!(
        schemas["TimeEntryOut"]["properties"]["hours"]["type"],
        "string"
    );
    app.cleanup().await;
}
