//! `/company`, `/locations`, `/pay-schedules`: success, validation, roles, tenant isolation, ETags,
//! audit rows and cache invalidation, against real PostgreSQL (and Redis when reachable).

use crate::common::{TestApp, TestResponse, assert_problem};
use http::Method;
use payroll_api::auth::Role;
use serde_json::{Value, json};
use uuid::Uuid;

const BASE: &str = "/api/payroll/v1";

fn p(path: &str) -> String {
    format!("{BASE}{path}")
}

async fn put_if(app: &TestApp, path: &str, token: &str, body: &Value, etag: &str) -> TestResponse {
    app.call(
        Method::PUT,
        path,
        Some(token),
        Some(body),
        &[("if-match", etag)],
    )
    .await
}

/// Audit rows of the test tenant for `entity`, oldest first: (actor, action, entity_id, before, after).
async fn audit_rows(
    app: &TestApp,
    entity: &str,
) -> Vec<(String, String, Option<String>, Option<Value>, Option<Value>)> {
    let c = app.db.client().await.unwrap();
    c.query(
        "SELECT actor, action, entity_id, before, after FROM audit_events
          WHERE tenant_id = $1 AND entity = $2 ORDER BY id",
        &[&app.tenant, &entity],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
    .collect()
}

fn company_body() -> Value {
    json!({
        "legal_name": "Test Bistro LLC",
        "ein": "12-3456789",
        "address": {"line1": "1 Market St", "city": "San Francisco", "state": "CA", "postal_code": "94105"},
        "workweek_start": "sunday",
        "sui": {"CA": {"rate": "0.034", "wage_base": "7000"}, "TX": {"rate": "0.027", "wage_base": "9000.00"}},
        "futa_credit_reduction": {"CA": "0.009"}
    })
}

fn location_body(name: &str, state: &str) -> Value {
    json!({
        "name": name,
        "state": state,
        "locality": "San Francisco",
        "address": {"line1": "1 Market St", "line2": "Suite 5", "city": "San Francisco", "state": state, "postal_code": "94105-1234"}
    })
}

fn schedule_body() -> Value {
    json!({"name": "Hourly biweekly", "frequency": "biweekly", "first_period_start": "2024-01-01", "pay_date_offset_days": 5})
}

// ------------------------------------------------------------------------------------------
// Company

#[tokio::test]
async fn company_get_and_put_round_trip() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let r = app.get(&p("/company"), &admin).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), Some("\"v1\""));
    assert_eq!(r.json["id"], app.tenant.to_string());
    assert_eq!(r.json["legal_name"], "Test Bistro");
    assert_eq!(r.json["workweek_start"], "monday");
    assert_eq!(r.json["sui"], json!({}));

    let r = put_if(&app, &p("/company"), &admin, &company_body(), "\"v1\"").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), Some("\"v2\""));
    assert_eq!(r.json["legal_name"], "Test Bistro LLC");
    assert_eq!(r.json["ein"], "12-3456789");
    assert_eq!(r.json["workweek_start"], "sunday");
    assert_eq!(
        r.json["sui"]["CA"],
        json!({"rate": "0.034", "wage_base": "7000.00"})
    );
    assert_eq!(
        r.json["sui"]["TX"],
        json!({"rate": "0.027", "wage_base": "9000.00"})
    );
    assert_eq!(r.json["futa_credit_reduction"], json!({"CA": "0.009"}));
    assert_eq!(r.json["address"]["postal_code"], "94105");

    // Read back (clerks may read); a GET body echoed into a PUT is accepted (read-only fields ignored).
    let r = app
        .get(&p("/company"), &app.token(Role::PayrollClerk))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("etag"), Some("\"v2\""));
    assert_eq!(r.json["sui"]["CA"]["wage_base"], "7000.00");
    let mut echoed = r.json.clone();
    echoed["legal_name"] = json!("Renamed LLC");
    let r = app.put(&p("/company"), &admin, &echoed).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["legal_name"], "Renamed LLC");
    assert_eq!(r.json["futa_credit_reduction"]["CA"], "0.009");
    assert_eq!(r.header("etag"), Some("\"v3\""));

    // The other tenant is untouched.
    let other = app.token_for(app.other_tenant, Role::PayrollAdmin, None);
    let r = app.get(&p("/company"), &other).await;
    assert_eq!(r.json["legal_name"], "Other Diner");
    assert_eq!(r.json["id"], app.other_tenant.to_string());
    app.cleanup().await;
}

#[tokio::test]
async fn company_validation_names_the_field_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let cases: Vec<(Value, &str)> = vec![
        (json!({"ein": "12-3456789"}), "legal_name"),
        (json!({"legal_name": ""}), "legal_name"),
        (json!({"legal_name": "A", "ein": "123456789"}), "ein"),
        (
            json!({"legal_name": "A", "workweek_start": "funday"}),
            "workweek_start",
        ),
        (
            json!({"legal_name": "A", "sui": {"CA": {"rate": 0.034, "wage_base": "7000"}}}),
            "sui.CA.rate",
        ),
        (
            json!({"legal_name": "A", "sui": {"CA": {"rate": "0.034"}}}),
            "sui.CA.wage_base",
        ),
        (
            json!({"legal_name": "A", "sui": {"CA": {"rate": "-0.01", "wage_base": "7000"}}}),
            "sui.CA.rate",
        ),
        (
            json!({"legal_name": "A", "sui": {"CA": {"rate": "0.01", "wage_base": "7000.001"}}}),
            "sui.CA.wage_base",
        ),
        (
            json!({"legal_name": "A", "sui": {"Ca": {"rate": "0.01", "wage_base": "7000"}}}),
            "sui.Ca",
        ),
        (
            json!({"legal_name": "A", "sui": {"CA": {"rate": "0.01", "wage_base": "7000", "x": 1}}}),
            "sui.CA.x",
        ),
        (
            json!({"legal_name": "A", "futa_credit_reduction": {"CA": "abc"}}),
            "futa_credit_reduction.CA",
        ),
        (
            json!({"legal_name": "A", "futa_credit_reduction": {"ZZ": "0.009"}}),
            "futa_credit_reduction.ZZ",
        ),
        (
            json!({"legal_name": "A", "address": {"line1": "1 Main", "city": "LA", "state": "XX", "postal_code": "90001"}}),
            "address.state",
        ),
        (
            json!({"legal_name": "A", "address": "1 Main St"}),
            "address",
        ),
        (json!({"legal_name": "A", "colour": "blue"}), "colour"),
    ];
    for (body, field) in cases {
        let r = app.put(&p("/company"), &admin, &body).await;
        assert_problem(&r, 422, "validation_failed");
        assert_eq!(r.json["errors"][0]["field"], field, "{body}: {}", r.text);
    }
    // Not JSON at all: 400, still problem+json.
    let r = app
        .call(
            Method::PUT,
            &p("/company"),
            Some(&admin),
            None,
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(r.status.as_u16() / 100, 4, "{}", r.text);
    let r = app.get(&p("/company"), &admin).await;
    assert_eq!(r.header("etag"), Some("\"v1\""));
    assert_eq!(r.json["legal_name"], "Test Bistro");
    assert!(audit_rows(&app, "company").await.is_empty());
    app.cleanup().await;
}

#[tokio::test]
async fn company_roles() {
    let app = TestApp::spawn().await;
    let r = app.call(Method::GET, &p("/company"), None, None, &[]).await;
    assert_problem(&r, 401, "unauthorized");
    let r = app
        .call(
            Method::PUT,
            &p("/company"),
            None,
            Some(&company_body()),
            &[],
        )
        .await;
    assert_problem(&r, 401, "unauthorized");
    let r = app.get(&p("/company"), "not-a-token").await;
    assert_problem(&r, 401, "unauthorized");
    for role in [Role::PayrollManager, Role::PayrollClerk] {
        let r = app
            .put(&p("/company"), &app.token(role), &company_body())
            .await;
        assert_problem(&r, 403, "forbidden");
    }
    let employee = app.token_for(app.tenant, Role::Employee, Some(Uuid::new_v4()));
    assert_problem(&app.get(&p("/company"), &employee).await, 403, "forbidden");
    assert_problem(
        &app.put(&p("/company"), &employee, &company_body()).await,
        403,
        "forbidden",
    );
    // Managers may read.
    let r = app
        .get(&p("/company"), &app.token(Role::PayrollManager))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["legal_name"], "Test Bistro");
    app.cleanup().await;
}

#[tokio::test]
async fn company_stale_if_match_is_412() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    assert_eq!(
        put_if(&app, &p("/company"), &admin, &company_body(), "\"v1\"")
            .await
            .status,
        200
    );
    let r = put_if(
        &app,
        &p("/company"),
        &admin,
        &json!({"legal_name": "Late"}),
        "\"v1\"",
    )
    .await;
    assert_problem(&r, 412, "stale_etag");
    assert_eq!(r.header("etag"), Some("\"v2\""));
    let r = app.get(&p("/company"), &admin).await;
    assert_eq!(r.json["legal_name"], "Test Bistro LLC");
    assert_eq!(audit_rows(&app, "company").await.len(), 1);
    app.cleanup().await;
}

#[tokio::test]
async fn company_put_is_audited_with_before_and_after() {
    let app = TestApp::spawn().await;
    let r = app
        .call(
            Method::PUT,
            &p("/company"),
            Some(&app.admin()),
            Some(&company_body()),
            &[("x-request-id", "req-company-1")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rows = audit_rows(&app, "company").await;
    assert_eq!(rows.len(), 1);
    let (actor, action, entity_id, before, after) = &rows[0];
    assert_eq!(actor, "tester@example.com");
    assert_eq!(action, "update");
    assert_eq!(entity_id.as_deref(), Some(app.tenant.to_string().as_str()));
    let before = before.as_ref().unwrap();
    let after = after.as_ref().unwrap();
    assert_eq!(before["legal_name"], "Test Bistro");
    assert_eq!(before["sui"], json!({}));
    assert_eq!(after["legal_name"], "Test Bistro LLC");
    assert_eq!(after["sui"]["CA"]["rate"], "0.034");
    let c = app.db.client().await.unwrap();
    let rid: Option<String> = c
        .query_one(
            "SELECT request_id FROM audit_events WHERE tenant_id = $1 AND entity = 'company'",
            &[&app.tenant],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(rid.as_deref(), Some("req-company-1"));
    app.cleanup().await;
}

#[tokio::test]
async fn company_cache_is_invalidated_by_put() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let key = format!("config:{}:company", app.tenant);
    assert_eq!(
        payroll_api::routes::company::company_cache_key(app.tenant),
        key
    );
    // Warm the cache, then plant a stale copy under the key: a PUT must drop it.
    let r = app.get(&p("/company"), &admin).await;
    assert_eq!(r.status, 200);
    let tx = app.db.tenant_tx(app.tenant).await.unwrap();
    let mut stale = payroll_store::repo::company::get(&tx).await.unwrap();
    tx.commit().await.unwrap();
    stale.legal_name = "Stale Cached Name".into();
    app.state.cache.put(&key, &stale).await;

    let r = put_if(&app, &p("/company"), &admin, &company_body(), "\"v1\"").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(app.state.cache.get::<Value>(&key).await.is_none());
    let r = app.get(&p("/company"), &admin).await;
    assert_eq!(r.json["legal_name"], "Test Bistro LLC");
    assert_eq!(r.header("etag"), Some("\"v2\""));
    // Served again (possibly from the cache now): still the fresh values.
    let r = app.get(&p("/company"), &admin).await;
    assert_eq!(r.json["legal_name"], "Test Bistro LLC");
    assert_eq!(r.json["sui"]["TX"]["wage_base"], "9000.00");
    app.cleanup().await;
}

// ------------------------------------------------------------------------------------------
// Locations

#[tokio::test]
async fn location_crud() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let r = app
        .post(&p("/locations"), &admin, &location_body("Downtown", "CA"))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.header("location"),
        Some(p(&format!("/locations/{id}")).as_str())
    );
    assert_eq!(r.header("etag"), Some("\"v1\""));
    assert_eq!(r.json["name"], "Downtown");
    assert_eq!(r.json["state"], "CA");
    assert_eq!(r.json["locality"], "San Francisco");
    assert_eq!(r.json["address"]["line2"], "Suite 5");
    assert_eq!(r.json["active"], true);
    assert!(r.json["created_at"].is_string() && r.json["updated_at"].is_string());

    let r = app
        .get(
            &p(&format!("/locations/{id}")),
            &app.token(Role::PayrollClerk),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("etag"), Some("\"v1\""));
    assert_eq!(r.json["id"], id);

    // Managers may write; PUT replaces, `active` kept when omitted.
    let manager = app.token(Role::PayrollManager);
    let body = json!({"name": "Uptown", "state": "TX", "locality": null});
    let r = put_if(
        &app,
        &p(&format!("/locations/{id}")),
        &manager,
        &body,
        "\"v1\"",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), Some("\"v2\""));
    assert_eq!(r.json["name"], "Uptown");
    assert_eq!(r.json["state"], "TX");
    assert_eq!(r.json["locality"], Value::Null);
    assert_eq!(r.json["address"], json!({}));
    assert_eq!(r.json["active"], true);
    let r = put_if(
        &app,
        &p(&format!("/locations/{id}")),
        &manager,
        &json!({"name": "Uptown", "state": "TX", "active": false}),
        "\"v2\"",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["active"], false);

    // Stale If-Match.
    let r = put_if(
        &app,
        &p(&format!("/locations/{id}")),
        &manager,
        &body,
        "\"v1\"",
    )
    .await;
    assert_problem(&r, 412, "stale_etag");
    let r = app
        .call(
            Method::DELETE,
            &p(&format!("/locations/{id}")),
            Some(&admin),
            None,
            &[("if-match", "\"v1\"")],
        )
        .await;
    assert_problem(&r, 412, "stale_etag");

    // Unreferenced: deleted.
    let r = app.delete(&p(&format!("/locations/{id}")), &admin).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_problem(
        &app.get(&p(&format!("/locations/{id}")), &admin).await,
        404,
        "not_found",
    );
    assert_problem(
        &app.delete(&p(&format!("/locations/{id}")), &admin).await,
        404,
        "not_found",
    );

    // Audit: create, update, update, delete, each with the actor and before/after.
    let rows = audit_rows(&app, "location").await;
    let actions: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(actions, ["create", "update", "update", "delete"]);
    assert!(
        rows.iter()
            .all(|r| r.0 == "tester@example.com" && r.2.as_deref() == Some(id.as_str()))
    );
    assert!(rows[0].3.is_none());
    assert_eq!(rows[0].4.as_ref().unwrap()["name"], "Downtown");
    assert_eq!(rows[1].3.as_ref().unwrap()["name"], "Downtown");
    assert_eq!(rows[1].4.as_ref().unwrap()["name"], "Uptown");
    assert_eq!(rows[3].3.as_ref().unwrap()["active"], false);
    assert!(rows[3].4.is_none());
    app.cleanup().await;
}

#[tokio::test]
async fn location_referenced_is_deactivated_not_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let r = app
        .post(&p("/locations"), &admin, &location_body("Kitchen", "CA"))
        .await;
    let id: Uuid = r.json["id"].as_str().unwrap().parse().unwrap();
    // A referencing row (employees do this in the real schema).
    let c = app.db.client().await.unwrap();
    c.batch_execute(
        "CREATE TABLE test_location_refs (location_id uuid NOT NULL REFERENCES locations(id))",
    )
    .await
    .unwrap();
    c.execute("INSERT INTO test_location_refs VALUES ($1)", &[&id])
        .await
        .unwrap();

    let r = app.delete(&p(&format!("/locations/{id}")), &admin).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["active"], false);
    assert_eq!(r.header("etag"), Some("\"v2\""));
    let r = app.get(&p(&format!("/locations/{id}")), &admin).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["active"], false);
    let r = app.get(&p("/locations?active=false"), &admin).await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 1);
    let r = app.get(&p("/locations?active=true"), &admin).await;
    assert_eq!(r.json["items"], json!([]));

    let rows = audit_rows(&app, "location").await;
    let last = rows.last().unwrap();
    assert_eq!(last.1, "deactivate");
    assert_eq!(last.3.as_ref().unwrap()["active"], true);
    assert_eq!(last.4.as_ref().unwrap()["active"], false);
    app.cleanup().await;
}

#[tokio::test]
async fn location_validation_names_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let cases: Vec<(Value, &str)> = vec![
        (json!({"state": "CA"}), "name"),
        (json!({"name": "   ", "state": "CA"}), "name"),
        (json!({"name": "A"}), "state"),
        (json!({"name": "A", "state": "ZZ"}), "state"),
        (json!({"name": "A", "state": "ca"}), "state"),
        (json!({"name": "A", "state": 6}), "state"),
        (
            json!({"name": "A", "state": "CA", "active": "yes"}),
            "active",
        ),
        (
            json!({"name": "A", "state": "CA", "address": {"line1": "1 Main", "city": "LA", "state": "CA", "postal_code": "9001"}}),
            "address.postal_code",
        ),
        (
            json!({"name": "A", "state": "CA", "address": {"line1": "1 Main", "city": "LA", "state": "CA"}}),
            "address.postal_code",
        ),
        (
            json!({"name": "A", "state": "CA", "address": {"line1": "1 Main", "city": "LA", "state": "CA", "postal_code": "90001", "zip4": "1"}}),
            "address.zip4",
        ),
        (
            json!({"name": "A", "state": "CA", "timezone": "PST"}),
            "timezone",
        ),
    ];
    for (body, field) in cases {
        let r = app.post(&p("/locations"), &admin, &body).await;
        assert_problem(&r, 422, "validation_failed");
        assert_eq!(r.json["errors"][0]["field"], field, "{body}: {}", r.text);
    }
    let r = app.get(&p("/locations"), &admin).await;
    assert_eq!(r.json["items"], json!([]));
    assert!(audit_rows(&app, "location").await.is_empty());

    // PUT validates the same way and changes nothing.
    let r = app
        .post(&p("/locations"), &admin, &location_body("Main", "CA"))
        .await;
    let id = r.json["id"].as_str().unwrap().to_owned();
    let r = app
        .put(
            &p(&format!("/locations/{id}")),
            &admin,
            &json!({"name": "Main", "state": "QQ"}),
        )
        .await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.json["errors"][0]["field"], "state");
    let r = app.get(&p(&format!("/locations/{id}")), &admin).await;
    assert_eq!(r.json["state"], "CA");
    assert_eq!(r.header("etag"), Some("\"v1\""));
    app.cleanup().await;
}

#[tokio::test]
async fn location_roles_and_tenants() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let r = app
        .post(&p("/locations"), &admin, &location_body("Main", "CA"))
        .await;
    let id = r.json["id"].as_str().unwrap().to_owned();
    let one = p(&format!("/locations/{id}"));

    for (m, path) in [
        (Method::GET, p("/locations")),
        (Method::POST, p("/locations")),
        (Method::GET, one.clone()),
        (Method::PUT, one.clone()),
        (Method::DELETE, one.clone()),
    ] {
        let body = location_body("X", "CA");
        let r = app
            .call(
                m.clone(),
                &path,
                None,
                matches!(m, Method::POST | Method::PUT).then_some(&body),
                &[],
            )
            .await;
        assert_problem(&r, 401, "unauthorized");
    }
    let clerk = app.token(Role::PayrollClerk);
    let employee = app.token_for(app.tenant, Role::Employee, Some(Uuid::new_v4()));
    for t in [&clerk, &employee] {
        assert_problem(
            &app.post(&p("/locations"), t, &location_body("X", "CA"))
                .await,
            403,
            "forbidden",
        );
        assert_problem(
            &app.put(&one, t, &location_body("X", "CA")).await,
            403,
            "forbidden",
        );
        assert_problem(&app.delete(&one, t).await, 403, "forbidden");
    }
    assert_problem(&app.get(&one, &employee).await, 403, "forbidden");
    assert_problem(
        &app.get(&p("/locations"), &employee).await,
        403,
        "forbidden",
    );
    assert_eq!(app.get(&p("/locations"), &clerk).await.status, 200);

    // Another tenant's location is invisible: 404 for read, update and delete.
    let other = app.token_for(app.other_tenant, Role::PayrollAdmin, None);
    assert_problem(&app.get(&one, &other).await, 404, "not_found");
    assert_problem(
        &app.put(&one, &other, &location_body("Hijack", "CA")).await,
        404,
        "not_found",
    );
    assert_problem(&app.delete(&one, &other).await, 404, "not_found");
    assert_eq!(
        app.get(&p("/locations"), &other).await.json["items"],
        json!([])
    );
    // A malformed id is a 404 too.
    assert_problem(
        &app.get(&p("/locations/not-a-uuid"), &admin).await,
        404,
        "not_found",
    );
    let r = app.get(&one, &admin).await;
    assert_eq!(r.json["name"], "Main");
    assert_eq!(r.header("etag"), Some("\"v1\""));
    app.cleanup().await;
}

#[tokio::test]
async fn location_list_is_cursor_paginated() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let mut ids = Vec::new();
    for (i, st) in ["CA", "TX", "NY"].iter().enumerate() {
        let r = app
            .post(
                &p("/locations"),
                &admin,
                &location_body(&format!("Site {i}"), st),
            )
            .await;
        assert_eq!(r.status, 201);
        ids.push(r.json["id"].as_str().unwrap().to_owned());
    }
    let r = app.get(&p("/locations?limit=2"), &admin).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], ids[0]);
    assert_eq!(items[1]["id"], ids[1]);
    let cursor = r.json["next_cursor"].as_str().unwrap().to_owned();
    let r = app
        .get(&p(&format!("/locations?limit=2&cursor={cursor}")), &admin)
        .await;
    let items = r.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], ids[2]);
    assert_eq!(items[0]["state"], "NY");
    assert_eq!(r.json["next_cursor"], Value::Null);

    let r = app.get(&p("/locations"), &admin).await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 3);
    assert_eq!(r.json["next_cursor"], Value::Null);

    let r = app.get(&p("/locations?limit=0"), &admin).await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.json["errors"][0]["field"], "limit");
    let r = app.get(&p("/locations?cursor=bm9wZQ"), &admin).await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.json["errors"][0]["field"], "cursor");
    app.cleanup().await;
}

// ------------------------------------------------------------------------------------------
// Pay schedules

#[tokio::test]
async fn pay_schedule_crud_and_periods() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let r = app
        .post(&p("/pay-schedules"), &admin, &schedule_body())
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.header("location"),
        Some(p(&format!("/pay-schedules/{id}")).as_str())
    );
    assert_eq!(r.header("etag"), Some("\"v1\""));
    assert_eq!(r.json["frequency"], "biweekly");
    assert_eq!(r.json["first_period_start"], "2024-01-01");
    assert_eq!(r.json["pay_date_offset_days"], 5);
    assert_eq!(r.json["active"], true);

    let clerk = app.token(Role::PayrollClerk);
    let r = app.get(&p(&format!("/pay-schedules/{id}")), &clerk).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("etag"), Some("\"v1\""));
    assert_eq!(r.json["name"], "Hourly biweekly");

    let r = app
        .get(
            &p(&format!(
                "/pay-schedules/{id}/periods?from=2024-02-20&to=2024-03-15"
            )),
            &clerk,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["pay_schedule_id"], id);
    assert_eq!(
        r.json["items"],
        json!([
            {"period_start": "2024-02-12", "period_end": "2024-02-25", "pay_date": "2024-03-01"},
            {"period_start": "2024-02-26", "period_end": "2024-03-10", "pay_date": "2024-03-15"},
            {"period_start": "2024-03-11", "period_end": "2024-03-24", "pay_date": "2024-03-29"}
        ])
    );
    // Before the anchor: nothing.
    let r = app
        .get(
            &p(&format!(
                "/pay-schedules/{id}/periods?from=2023-01-01&to=2023-12-31"
            )),
            &clerk,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["items"], json!([]));

    // Switch to semimonthly on the 16th (PUT, If-Match), then periods follow the new rule.
    let body = json!({"name": "Salaried", "frequency": "semimonthly", "first_period_start": "2024-01-16", "pay_date_offset_days": 0});
    let r = put_if(
        &app,
        &p(&format!("/pay-schedules/{id}")),
        &app.token(Role::PayrollManager),
        &body,
        "\"v1\"",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), Some("\"v2\""));
    assert_eq!(r.json["frequency"], "semimonthly");
    let r = app
        .get(
            &p(&format!(
                "/pay-schedules/{id}/periods?from=2024-02-01&to=2024-02-29"
            )),
            &clerk,
        )
        .await;
    assert_eq!(
        r.json["items"],
        json!([
            {"period_start": "2024-02-01", "period_end": "2024-02-15", "pay_date": "2024-02-15"},
            {"period_start": "2024-02-16", "period_end": "2024-02-29", "pay_date": "2024-02-29"}
        ])
    );
    let r = put_if(
        &app,
        &p(&format!("/pay-schedules/{id}")),
        &admin,
        &body,
        "\"v1\"",
    )
    .await;
    assert_problem(&r, 412, "stale_etag");

    // A second schedule, and the list pages through both.
    let r = app
        .post(
            &p("/pay-schedules"),
            &admin,
            &json!({"name": "Monthly", "frequency": "monthly", "first_period_start": "2024-01-01"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["pay_date_offset_days"], 0);
    let r = app.get(&p("/pay-schedules?limit=1"), &clerk).await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(r.json["items"][0]["id"], id);
    let cursor = r.json["next_cursor"].as_str().unwrap().to_owned();
    let r = app
        .get(
            &p(&format!("/pay-schedules?limit=1&cursor={cursor}")),
            &clerk,
        )
        .await;
    assert_eq!(r.json["items"][0]["name"], "Monthly");
    assert_eq!(r.json["next_cursor"], Value::Null);

    // Audit.
    let rows = audit_rows(&app, "pay_schedule").await;
    let actions: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(actions, ["create", "update", "create"]);
    assert_eq!(rows[1].0, "tester@example.com");
    assert_eq!(rows[1].3.as_ref().unwrap()["frequency"], "biweekly");
    assert_eq!(rows[1].4.as_ref().unwrap()["frequency"], "semimonthly");
    app.cleanup().await;
}

#[tokio::test]
async fn pay_schedule_validation_names_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"frequency": "weekly", "first_period_start": "2024-01-01"}),
            "name",
        ),
        (
            json!({"name": "A", "frequency": "daily", "first_period_start": "2024-01-01"}),
            "frequency",
        ),
        (
            json!({"name": "A", "first_period_start": "2024-01-01"}),
            "frequency",
        ),
        (
            json!({"name": "A", "frequency": "weekly"}),
            "first_period_start",
        ),
        (
            json!({"name": "A", "frequency": "weekly", "first_period_start": "2024-02-30"}),
            "first_period_start",
        ),
        (
            json!({"name": "A", "frequency": "semimonthly", "first_period_start": "2024-01-05"}),
            "first_period_start",
        ),
        (
            json!({"name": "A", "frequency": "monthly", "first_period_start": "2024-01-16"}),
            "first_period_start",
        ),
        (
            json!({"name": "A", "frequency": "weekly", "first_period_start": "2024-01-01", "pay_date_offset_days": 31}),
            "pay_date_offset_days",
        ),
        (
            json!({"name": "A", "frequency": "weekly", "first_period_start": "2024-01-01", "pay_date_offset_days": -1}),
            "pay_date_offset_days",
        ),
        (
            json!({"name": "A", "frequency": "weekly", "first_period_start": "2024-01-01", "pay_date_offset_days": "3"}),
            "pay_date_offset_days",
        ),
        (
            json!({"name": "A", "frequency": "weekly", "first_period_start": "2024-01-01", "pay_date_offset_days": 1.5}),
            "pay_date_offset_days",
        ),
        (
            json!({"name": "A", "frequency": "weekly", "first_period_start": "2024-01-01", "anchor": "x"}),
            "anchor",
        ),
    ];
    for (body, field) in cases {
        let r = app.post(&p("/pay-schedules"), &admin, &body).await;
        assert_problem(&r, 422, "validation_failed");
        assert_eq!(r.json["errors"][0]["field"], field, "{body}: {}", r.text);
    }
    assert_eq!(
        app.get(&p("/pay-schedules"), &admin).await.json["items"],
        json!([])
    );
    assert!(audit_rows(&app, "pay_schedule").await.is_empty());

    // Period queries.
    let r = app
        .post(
            &p("/pay-schedules"),
            &admin,
            &json!({"name": "W", "frequency": "weekly", "first_period_start": "2024-01-01"}),
        )
        .await;
    let id = r.json["id"].as_str().unwrap().to_owned();
    for (q, field) in [
        ("to=2024-02-01", "from"),
        ("from=2024-01-01", "to"),
        ("from=2024-13-01&to=2024-02-01", "from"),
        ("from=2024-02-01&to=2024-01-01", "from"),
        ("from=2024-01-01&to=2031-12-31", "to"),
    ] {
        let r = app
            .get(&p(&format!("/pay-schedules/{id}/periods?{q}")), &admin)
            .await;
        assert_problem(&r, 422, "validation_failed");
        assert_eq!(r.json["errors"][0]["field"], field, "{q}: {}", r.text);
    }
    app.cleanup().await;
}

#[tokio::test]
async fn pay_schedule_roles_and_tenants() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let r = app
        .post(&p("/pay-schedules"), &admin, &schedule_body())
        .await;
    let id = r.json["id"].as_str().unwrap().to_owned();
    let one = p(&format!("/pay-schedules/{id}"));
    let periods = format!("{one}/periods?from=2024-01-01&to=2024-01-31");

    for path in [p("/pay-schedules"), one.clone(), periods.clone()] {
        assert_problem(
            &app.call(Method::GET, &path, None, None, &[]).await,
            401,
            "unauthorized",
        );
    }
    assert_problem(
        &app.call(
            Method::POST,
            &p("/pay-schedules"),
            None,
            Some(&schedule_body()),
            &[],
        )
        .await,
        401,
        "unauthorized",
    );
    let clerk = app.token(Role::PayrollClerk);
    let employee = app.token_for(app.tenant, Role::Employee, Some(Uuid::new_v4()));
    for t in [&clerk, &employee] {
        assert_problem(
            &app.post(&p("/pay-schedules"), t, &schedule_body()).await,
            403,
            "forbidden",
        );
        assert_problem(&app.put(&one, t, &schedule_body()).await, 403, "forbidden");
    }
    assert_problem(&app.get(&periods, &employee).await, 403, "forbidden");

    let other = app.token_for(app.other_tenant, Role::PayrollAdmin, None);
    assert_problem(&app.get(&one, &other).await, 404, "not_found");
    assert_problem(&app.get(&periods, &other).await, 404, "not_found");
    assert_problem(
        &app.put(&one, &other, &schedule_body()).await,
        404,
        "not_found",
    );
    assert_eq!(
        app.get(&p("/pay-schedules"), &other).await.json["items"],
        json!([])
    );
    assert_problem(
        &app.get(&p(&format!("/pay-schedules/{}", Uuid::new_v4())), &admin)
            .await,
        404,
        "not_found",
    );
    let r = app.get(&periods, &admin).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["items"].as_array().unwrap().len(), 3);
    app.cleanup().await;
}
