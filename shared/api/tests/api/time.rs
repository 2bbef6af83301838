//! Time entries: batch import (all-or-nothing, idempotent by external_id, bulk), list filters and
//! pagination, delete, roles and tenants; and the audit log they write.

use crate::common;

use crate::common::{TestApp, assert_problem};
use http::{Method, StatusCode};
use payroll_api::auth::Role;
use serde_json::{Value, json};
use uuid::Uuid;

const BATCH: &str = "/api/payroll/v1/time-entries/batch";
const LIST: &str = "/api/payroll/v1/time-entries";

/// Create an employee through the API (hire date 2025-01-06) in the token's tenant.
async fn employee(app: &TestApp, token: &str, first: &str) -> Uuid {
    let r = app
        .post(
            "/api/payroll/v1/employees",
            token,
            &json!({"first_name": first, "last_name": "Diaz", "hire_date": "2025-01-06",
                    "pay_type": "hourly", "hourly_rate": "18.00"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    Uuid::parse_str(r.json["id"].as_str().unwrap()).unwrap()
}

fn entry(ext: &str, emp: Uuid, date: &str, hours: &str) -> Value {
    json!({"external_id": ext, "employee_id": emp, "date": date, "hours": hours, "job": "server"})
}

async fn stored_count(app: &TestApp, tenant: Uuid) -> i64 {
    let tx = app.db.tenant_tx(tenant).await.unwrap();
    let n: i64 = tx
        .client()
        .query_one("SELECT count(*) FROM time_entries", &[])
        .await
        .unwrap()
        .get(0);
    n
}

async fn audit_count(app: &TestApp, action: &str) -> i64 {
    let tx = app.db.tenant_tx(app.tenant).await.unwrap();
    let n: i64 = tx
        .client()
        .query_one(
            "SELECT count(*) FROM audit_events WHERE entity = 'time_entry' AND action = $1",
            &[&action],
        )
        .await
        .unwrap()
        .get(0);
    n
}

fn fields(r: &common::TestResponse) -> Vec<String> {
    r.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn batch_creates_replay_is_unchanged_and_changes_update() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let clerk = app.token(Role::PayrollClerk);
    let emp = employee(&app, &admin, "Ana").await;
    let body = json!({"entries": [
        entry("pos-1", emp, "2025-01-06", "8"),
        {"external_id": "pos-2", "employee_id": emp, "clock_in": "2025-01-07T16:00:00-08:00",
         "clock_out": "2025-01-07T23:30:00-08:00", "job": "server", "cash_tips": "42.00",
         "charged_tips": "118.25"},
        {"external_id": "pos-3", "employee_id": emp, "date": "2025-01-08", "hours": "6.25",
         "rate": "16.50"}
    ]});
    let r = app.post(BATCH, &clerk, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (
            r.json["created"].clone(),
            r.json["updated"].clone(),
            r.json["unchanged"].clone()
        ),
        (json!(3), json!(0), json!(0))
    );
    let items = r.json["items"].as_array().unwrap();
    assert_eq!(items[1]["external_id"], "pos-2");
    assert_eq!(items[1]["result"], "created");
    let id2 = items[1]["id"].as_str().unwrap().to_owned();

    // The clocked entry: 7.5 hours on its local date, tips as money strings, times in UTC.
    let r = app.get(&format!("{LIST}/{id2}"), &clerk).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("etag"), Some("\"v1\""));
    assert_eq!(r.json["hours"], "7.5");
    assert_eq!(r.json["date"], "2025-01-07");
    assert_eq!(r.json["clock_in"], "2025-01-08T00:00:00Z");
    assert_eq!(r.json["cash_tips"], "42.00");
    assert_eq!(r.json["charged_tips"], "118.25");
    assert_eq!(r.json["rate"], Value::Null);

    // Replay: nothing changes (same ids, no new audit rows).
    let r = app.post(BATCH, &clerk, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (
            r.json["created"].clone(),
            r.json["updated"].clone(),
            r.json["unchanged"].clone()
        ),
        (json!(0), json!(0), json!(3))
    );
    assert_eq!(r.json["items"][1]["id"], id2.as_str());
    assert_eq!(audit_count(&app, "create").await, 3);
    assert_eq!(audit_count(&app, "update").await, 0);

    // "8.00" equals "8": still unchanged; a changed pos-3 is updated (version 2, audited).
    let mut changed = body.clone();
    changed["entries"][0]["hours"] = json!("8.00");
    changed["entries"][2]["hours"] = json!("7");
    let r = app.post(BATCH, &clerk, &changed).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (
            r.json["created"].clone(),
            r.json["updated"].clone(),
            r.json["unchanged"].clone()
        ),
        (json!(0), json!(1), json!(2))
    );
    assert_eq!(r.json["items"][2]["result"], "updated");
    let id3 = r.json["items"][2]["id"].as_str().unwrap().to_owned();
    let r = app.get(&format!("{LIST}/{id3}"), &clerk).await;
    assert_eq!(r.json["hours"], "7");
    assert_eq!(r.json["rate"], "16.50");
    assert_eq!(r.header("etag"), Some("\"v2\""));
    assert_eq!(stored_count(&app, app.tenant).await, 3);
    assert_eq!(audit_count(&app, "update").await, 1);
    let tx = app.db.tenant_tx(app.tenant).await.unwrap();
    let row = tx
        .client()
        .query_one(
            "SELECT actor, before, after FROM audit_events WHERE entity = 'time_entry' AND action = 'update'",
            &[],
        )
        .await
        .unwrap();
    let (actor, before, after): (String, Value, Value) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(actor, "tester@example.com");
    assert_eq!(before["hours"], "6.25");
    assert_eq!(after["hours"], "7");
    drop(tx);
    app.cleanup().await;
}

#[tokio::test]
async fn one_bad_entry_writes_nothing_and_every_error_is_listed() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let emp = employee(&app, &admin, "Ana").await;
    let mut entries: Vec<Value> = (0..20)
        .map(|i| entry(&format!("e{i}"), emp, "2025-02-03", "8"))
        .collect();
    entries[17]["hours"] = json!("25");
    entries[4].as_object_mut().unwrap().remove("date");
    entries[9]["cash_tips"] = json!("-1.00");
    entries[12]["external_id"] = json!("e3"); // duplicate within the batch
    entries[15]["date"] = json!("2024-12-31"); // before the hire date
    let r = app
        .post(BATCH, &admin, &json!({ "entries": entries }))
        .await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(
        fields(&r),
        vec![
            "entries[4].date",
            "entries[9].cash_tips",
            "entries[12].external_id",
            "entries[15].date",
            "entries[17].hours"
        ]
    );
    assert!(
        r.json["detail"]
            .as_str()
            .unwrap()
            .contains("5 of 20 entries are invalid"),
        "{}",
        r.text
    );
    assert_eq!(stored_count(&app, app.tenant).await, 0);
    assert_eq!(audit_count(&app, "create").await, 0);

    // Clock rules: out before in.
    let r = app
        .post(
            BATCH,
            &admin,
            &json!({"entries": [{"external_id": "c", "employee_id": emp,
                "clock_in": "2025-02-03T17:00:00Z", "clock_out": "2025-02-03T09:00:00Z"}]}),
        )
        .await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(fields(&r), vec!["entries[0].clock_out"]);

    // Shape errors.
    let r = app.post(BATCH, &admin, &json!({"entries": []})).await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(fields(&r), vec!["entries"]);
    let r = app.post(BATCH, &admin, &json!({"entries": "x"})).await;
    assert_problem(&r, 422, "validation_failed");
    let r = app.post(BATCH, &admin, &json!({"items": []})).await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(stored_count(&app, app.tenant).await, 0);
    app.cleanup().await;
}

#[tokio::test]
async fn more_than_ten_thousand_entries_is_422() {
    let app = TestApp::spawn().await;
    let emp = Uuid::new_v4();
    let entries: Vec<Value> = (0..10_001)
        .map(|i| entry(&format!("e{i}"), emp, "2025-02-03", "8"))
        .collect();
    let r = app
        .post(BATCH, &app.admin(), &json!({ "entries": entries }))
        .await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(fields(&r), vec!["entries"]);
    assert!(
        r.json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("10000")
    );
    app.cleanup().await;
}

#[tokio::test]
async fn ten_thousand_entries_are_written_in_bulk() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let a = employee(&app, &admin, "Ana").await;
    let b = employee(&app, &admin, "Ben").await;
    let entries: Vec<Value> = (0..10_000)
        .map(|i| {
            let day = 1 + (i % 28);
            json!({"external_id": format!("pos-{i:05}"), "employee_id": if i % 2 == 0 { a } else { b },
                   "date": format!("2025-03-{day:02}"), "hours": "7.75", "job": "cook",
                   "charged_tips": "12.34"})
        })
        .collect();
    let body = json!({ "entries": entries });
    let started = std::time::Instant::now();
    let r = app.post(BATCH, &admin, &body).await;
    let first = started.elapsed();
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        &r.text[..r.text.len().min(500)]
    );
    assert_eq!(r.json["created"], 10_000);
    assert_eq!(r.json["items"].as_array().unwrap().len(), 10_000);
    let started = std::time::Instant::now();
    let r = app.post(BATCH, &admin, &body).await;
    let replay = started.elapsed();
    assert_eq!(r.json["unchanged"], 10_000);
    eprintln!("10,000 entries: import {first:?}, replay {replay:?}");
    // Generous for an unoptimised test build on a shared 2-core machine; release is far faster.
    assert!(first < std::time::Duration::from_secs(15), "{first:?}");
    assert_eq!(stored_count(&app, app.tenant).await, 10_000);
    assert_eq!(audit_count(&app, "create").await, 10_000);
    app.cleanup().await;
}

#[tokio::test]
async fn another_tenants_employee_is_rejected_like_an_unknown_one() {
    let app = TestApp::spawn().await;
    let other_admin = app.token_for(app.other_tenant, Role::PayrollAdmin, None);
    let theirs = employee(&app, &other_admin, "Olga").await;
    let unknown = Uuid::new_v4();
    let r = app
        .post(
            BATCH,
            &app.admin(),
            &json!({"entries": [entry("x1", theirs, "2025-02-03", "8"), entry("x2", unknown, "2025-02-03", "8")]}),
        )
        .await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(
        fields(&r),
        vec!["entries[0].employee_id", "entries[1].employee_id"]
    );
    assert_eq!(
        r.json["errors"][0]["message"],
        r.json["errors"][1]["message"]
    );
    assert_eq!(stored_count(&app, app.tenant).await, 0);
    assert_eq!(stored_count(&app, app.other_tenant).await, 0);
    app.cleanup().await;
}

#[tokio::test]
async fn roles_and_tokens() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let emp = employee(&app, &admin, "Ana").await;
    let body = json!({"entries": [entry("r1", emp, "2025-02-03", "8")]});

    let r = app.call(Method::POST, BATCH, None, Some(&body), &[]).await;
    assert_problem(&r, 401, "unauthorized");
    let r = app.call(Method::GET, LIST, None, None, &[]).await;
    assert_problem(&r, 401, "unauthorized");

    let self_token = app.token_for(app.tenant, Role::Employee, Some(emp));
    let r = app.post(BATCH, &self_token, &body).await;
    assert_problem(&r, 403, "forbidden");
    let r = app.get(LIST, &self_token).await;
    assert_problem(&r, 403, "forbidden");

    for (i, role) in [Role::PayrollClerk, Role::PayrollManager, Role::PayrollAdmin]
        .into_iter()
        .enumerate()
    {
        let b = json!({"entries": [entry(&format!("role-{i}"), emp, "2025-02-03", "8")]});
        let r = app.post(BATCH, &app.token(role), &b).await;
        assert_eq!(r.status, StatusCode::OK, "{role:?}: {}", r.text);
        let r = app.get(LIST, &app.token(role)).await;
        assert_eq!(r.status, StatusCode::OK, "{role:?}: {}", r.text);
    }
    assert_eq!(stored_count(&app, app.tenant).await, 3);
    app.cleanup().await;
}

#[tokio::test]
async fn list_filters_and_pages() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let clerk = app.token(Role::PayrollClerk);
    let a = employee(&app, &admin, "Ana").await;
    let b = employee(&app, &admin, "Ben").await;
    let mut entries = Vec::new();
    for d in 3..=9 {
        entries.push(entry(&format!("a{d}"), a, &format!("2025-02-0{d}"), "8"));
        entries.push(entry(&format!("b{d}"), b, &format!("2025-02-0{d}"), "5"));
    }
    let r = app
        .post(BATCH, &admin, &json!({ "entries": entries }))
        .await;
    assert_eq!(r.json["created"], 14, "{}", r.text);

    let r = app
        .get(
            &format!("{LIST}?employee_id={a}&from=2025-02-04&to=2025-02-06"),
            &clerk,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let got: Vec<&str> = r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["external_id"].as_str().unwrap())
        .collect();
    assert_eq!(got, vec!["a4", "a5", "a6"]);
    assert_eq!(r.json["next_cursor"], Value::Null);

    // Pages of 4 through all of b's entries, in date order, without repeats.
    let mut seen = Vec::new();
    let mut url = format!("{LIST}?employee_id={b}&limit=4");
    loop {
        let r = app.get(&url, &clerk).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        for e in r.json["items"].as_array().unwrap() {
            assert_eq!(e["employee_id"], b.to_string());
            seen.push(e["date"].as_str().unwrap().to_owned());
        }
        match r.json["next_cursor"].as_str() {
            Some(c) => url = format!("{LIST}?employee_id={b}&limit=4&cursor={c}"),
            None => break,
        }
    }
    let want: Vec<String> = (3..=9).map(|d| format!("2025-02-0{d}")).collect();
    assert_eq!(seen, want);

    // The whole tenant; another tenant sees none of it.
    let r = app.get(&format!("{LIST}?limit=500"), &clerk).await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 14);
    let other = app.token_for(app.other_tenant, Role::PayrollAdmin, None);
    let r = app.get(&format!("{LIST}?employee_id={a}"), &other).await;
    assert_eq!(r.json["items"], json!([]));

    // Bad filters name the parameter.
    for (q, field) in [
        ("from=2025-13-01", "from"),
        ("to=yesterday", "to"),
        ("employee_id=nope", "employee_id"),
        ("from=2025-02-09&to=2025-02-01", "to"),
        ("limit=0", "limit"),
        ("cursor=%21%21", "cursor"),
    ] {
        let r = app.get(&format!("{LIST}?{q}"), &clerk).await;
        assert_problem(&r, 422, "validation_failed");
        assert_eq!(r.json["errors"][0]["field"], field, "{q}: {}", r.text);
    }
    app.cleanup().await;
}

#[tokio::test]
async fn delete_is_audited_and_honours_if_match_and_tenants() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let clerk = app.token(Role::PayrollClerk);
    let emp = employee(&app, &admin, "Ana").await;
    let r = app
        .post(
            BATCH,
            &clerk,
            &json!({"entries": [entry("d1", emp, "2025-02-03", "8")]}),
        )
        .await;
    let id = r.json["items"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("{LIST}/{id}");

    // Another tenant: 404, nothing deleted. Employee role: 403.
    let other = app.token_for(app.other_tenant, Role::PayrollAdmin, None);
    assert_problem(&app.delete(&path, &other).await, 404, "not_found");
    assert_problem(&app.get(&path, &other).await, 404, "not_found");
    let self_token = app.token_for(app.tenant, Role::Employee, Some(emp));
    assert_problem(&app.delete(&path, &self_token).await, 403, "forbidden");
    assert_problem(
        &app.delete(&format!("{LIST}/not-a-uuid"), &clerk).await,
        404,
        "not_found",
    );

    // Stale If-Match: 412 with the current ETag.
    let r = app
        .call(
            Method::DELETE,
            &path,
            Some(&clerk),
            None,
            &[("if-match", "\"v7\"")],
        )
        .await;
    assert_problem(&r, 412, "stale_etag");
    assert_eq!(r.header("etag"), Some("\"v1\""));

    let r = app
        .call(
            Method::DELETE,
            &path,
            Some(&clerk),
            None,
            &[("if-match", "\"v1\"")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_problem(&app.get(&path, &clerk).await, 404, "not_found");
    assert_problem(&app.delete(&path, &clerk).await, 404, "not_found");
    assert_eq!(audit_count(&app, "delete").await, 1);

    // Re-importing the same external_id creates it again.
    let r = app
        .post(
            BATCH,
            &clerk,
            &json!({"entries": [entry("d1", emp, "2025-02-03", "8")]}),
        )
        .await;
    assert_eq!(r.json["created"], 1, "{}", r.text);
    app.cleanup().await;
}

#[tokio::test]
async fn audit_events_are_listed_filtered_and_admin_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let emp = employee(&app, &admin, "Ana").await;
    let r = app
        .post(
            BATCH,
            &admin,
            &json!({"entries": [entry("a1", emp, "2025-02-03", "8"), entry("a2", emp, "2025-02-04", "8")]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let id = r.json["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.delete(&format!("{LIST}/{id}"), &admin).await.status,
        StatusCode::NO_CONTENT
    );

    let r = app
        .get("/api/payroll/v1/audit-events?entity=time_entry", &admin)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let items = r.json["items"].as_array().unwrap();
    let actions: Vec<&str> = items
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["create", "create", "delete"]);
    assert!(items.iter().all(|e| e["entity"] == "time_entry"));
    assert_eq!(items[2]["entity_id"], id.as_str());
    assert_eq!(items[2]["before"]["external_id"], "a1");
    assert_eq!(items[2]["after"], Value::Null);
    assert_eq!(items[0]["after"]["hours"], "8");

    // The employee creation is there too, under its own entity; every event without a filter.
    let r = app
        .get("/api/payroll/v1/audit-events?entity=employee", &admin)
        .await;
    assert!(
        !r.json["items"].as_array().unwrap().is_empty(),
        "{}",
        r.text
    );
    assert!(
        r.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["entity"] == "employee")
    );

    // Paging and time filters.
    let r = app
        .get(
            "/api/payroll/v1/audit-events?entity=time_entry&limit=2",
            &admin,
        )
        .await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 2);
    let cursor = r.json["next_cursor"].as_str().unwrap().to_owned();
    let r = app
        .get(
            &format!("/api/payroll/v1/audit-events?entity=time_entry&limit=2&cursor={cursor}"),
            &admin,
        )
        .await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(r.json["items"][0]["action"], "delete");
    assert_eq!(r.json["next_cursor"], Value::Null);
    let r = app
        .get(
            "/api/payroll/v1/audit-events?from=2000-01-01&to=2000-01-31",
            &admin,
        )
        .await;
    assert_eq!(r.json["items"], json!([]));
    let today = chrono::Utc::now().date_naive();
    let r = app
        .get(
            &format!("/api/payroll/v1/audit-events?entity=time_entry&from={today}&to={today}"),
            &admin,
        )
        .await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 3, "{}", r.text);
    let r = app
        .get("/api/payroll/v1/audit-events?from=soon", &admin)
        .await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.json["errors"][0]["field"], "from");

    // Another tenant's log is separate; manager and clerk may not read it.
    let other = app.token_for(app.other_tenant, Role::PayrollAdmin, None);
    let r = app.get("/api/payroll/v1/audit-events", &other).await;
    assert_eq!(r.json["items"], json!([]), "{}", r.text);
    for role in [Role::PayrollManager, Role::PayrollClerk] {
        let r = app
            .get("/api/payroll/v1/audit-events", &app.token(role))
            .await;
        assert_problem(&r, 403, "forbidden");
    }
    let r = app
        .call(Method::GET, "/api/payroll/v1/audit-events", None, None, &[])
        .await;
    assert_problem(&r, 401, "unauthorized");
    app.cleanup().await;
}
