//! `/employees` and sub-resources: CRUD, validation, masking, audited reveal, roles, tenants,
//! ETags, pagination, and the paycheck loader of the repository.

use crate::common::{TestApp, TestResponse, assert_problem};
use http::Method;
use payroll_api::auth::Role;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::str::FromStr;
use uuid::Uuid;

const SSN: &str = "123-45-6789";
const SSN_DIGITS: &str = "123456789";
const ACCOUNT: &str = "000987654321";

fn minimal() -> Value {
    json!({"first_name": "Ana", "last_name": "Lopez", "hire_date": "2024-01-15",
           "pay_type": "hourly", "hourly_rate": "18.00"})
}

async fn create(app: &TestApp, body: &Value) -> Value {
    let r = app
        .post("/api/payroll/v1/employees", &app.admin(), body)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// Every sensitive value must be absent from a response.
fn assert_no_secrets(r: &TestResponse) {
    for s in [SSN, SSN_DIGITS, ACCOUNT, "987654321"] {
        assert!(!r.text.contains(s), "response leaks {s}: {}", r.text);
    }
}

/// (action, entity, before, after) of the tenant's audit events, oldest first.
async fn audit_rows(app: &TestApp, tenant: Uuid) -> Vec<(String, String, String)> {
    let c = app.db.client().await.unwrap();
    c.query(
        "SELECT action, entity, coalesce(before::text, '') || ' ' || coalesce(after::text, '')
           FROM audit_events WHERE tenant_id = $1 ORDER BY id",
        &[&tenant],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

/// Insert a location directly (outside the API) for a tenant.
async fn location(app: &TestApp, tenant: Uuid, state: &str) -> Uuid {
    let id = Uuid::new_v4();
    let c = app.db.client().await.unwrap();
    c.execute(
        "INSERT INTO locations (tenant_id, id, name, state, locality) VALUES ($1, $2, 'Site', $3, 'San Francisco')",
        &[&tenant, &id, &state],
    )
    .await
    .unwrap();
    id
}

#[tokio::test]
async fn minimal_create_get_and_first_compensation() {
    let app = TestApp::spawn().await;
    let r = app
        .post("/api/payroll/v1/employees", &app.admin(), &minimal())
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("etag"), Some("\"v1\""));
    let e = &r.json;
    assert_eq!(e["first_name"], "Ana");
    assert_eq!(e["last_name"], "Lopez");
    assert_eq!(e["hire_date"], "2024-01-15");
    assert_eq!(e["pay_type"], "hourly");
    assert_eq!(e["hourly_rate"], "18.00");
    assert_eq!(e["annual_salary"], Value::Null);
    assert_eq!(e["status"], "active");
    assert_eq!(e["ssn"], Value::Null);
    assert_eq!(e["tipped"], false);
    assert!(e["created_at"].is_string() && e["updated_at"].is_string());
    let id = id_of(e);

    let g = app
        .get(&format!("/api/payroll/v1/employees/{id}"), &app.admin())
        .await;
    assert_eq!(g.status, 200, "{}", g.text);
    assert_eq!(g.header("etag"), Some("\"v1\""));
    assert_eq!(g.json["id"], id.as_str());
    assert_eq!(g.json["hourly_rate"], "18.00");

    let c = app
        .get(
            &format!("/api/payroll/v1/employees/{id}/compensations"),
            &app.admin(),
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.text);
    let items = c.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["effective_date"], "2024-01-15");
    assert_eq!(items[0]["pay_type"], "hourly");
    assert_eq!(items[0]["hourly_rate"], "18.00");
    assert_eq!(c.json["next_cursor"], Value::Null);

    let audit = audit_rows(&app, app.tenant).await;
    let kinds: Vec<(&str, &str)> = audit
        .iter()
        .map(|(a, e, _)| (a.as_str(), e.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![("create", "employee"), ("create", "compensation")]
    );
    // No token: 401.
    let r = app
        .call(
            Method::GET,
            &format!("/api/payroll/v1/employees/{id}"),
            None,
            None,
            &[],
        )
        .await;
    assert_problem(&r, 401, "unauthorized");
    app.cleanup().await;
}

#[tokio::test]
async fn full_create_with_tax_profile_and_job_rates() {
    let app = TestApp::spawn().await;
    let loc = location(&app, app.tenant, "CA").await;
    let body = json!({
        "first_name": "Ben", "last_name": "Ng", "email": "ben@example.com", "ssn": SSN,
        "hire_date": "2023-05-01", "location_id": loc, "pay_type": "salary",
        "annual_salary": "65000.00", "flsa_exempt": true, "overtime_rules": "california",
        "resident_state": "CA", "home_address": {"line1": "1 Main St", "city": "Oakland"},
        "job_rates": {"server": "2.13", "cook": "18.00"},
        "federal_w4": {"form": "2020", "filing_status": "single"},
        "state_w4": {"CA": {"filing_status": "single", "allowances": 1}}
    });
    let r = app
        .post("/api/payroll/v1/employees", &app.admin(), &body)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_no_secrets(&r);
    assert_eq!(r.json["ssn"], "***-**-6789");
    assert_eq!(r.json["pay_type"], "salary");
    assert_eq!(r.json["annual_salary"], "65000.00");
    assert_eq!(r.json["hourly_rate"], Value::Null);
    assert_eq!(
        r.json["job_rates"],
        json!({"server": "2.13", "cook": "18.00"})
    );
    assert_eq!(r.json["overtime_rules"], "california");
    assert_eq!(r.json["location_id"], loc.to_string());
    let id = id_of(&r.json);
    let t = app
        .get(
            &format!("/api/payroll/v1/employees/{id}/tax-profile"),
            &app.admin(),
        )
        .await;
    assert_eq!(t.status, 200, "{}", t.text);
    assert_eq!(t.json["federal_w4"]["filing_status"], "single");
    assert_eq!(t.json["state_w4"]["CA"]["allowances"], 1);
    assert_eq!(t.header("etag"), Some("\"v1\""));
    app.cleanup().await;
}

#[tokio::test]
async fn ssn_and_account_numbers_never_appear_outside_an_audited_reveal() {
    let app = TestApp::spawn().await;
    let mut body = minimal();
    body["ssn"] = json!(SSN);
    let r = app
        .post("/api/payroll/v1/employees", &app.admin(), &body)
        .await;
    assert_eq!(r.status, 201);
    assert_no_secrets(&r);
    let id = id_of(&r.json);
    let base = format!("/api/payroll/v1/employees/{id}");
    let b = app
        .post(
            &format!("{base}/bank-accounts"),
            &app.admin(),
            &json!({"routing_number": "021000021", "account_number": ACCOUNT,
                    "account_type": "checking", "split": "remainder"}),
        )
        .await;
    assert_eq!(b.status, 201, "{}", b.text);
    assert_no_secrets(&b);
    assert_eq!(b.json["account_number"], "****4321");
    assert_eq!(b.json["routing_number"], "021000021");

    let mut responses = vec![
        app.get(&base, &app.admin()).await,
        app.get("/api/payroll/v1/employees", &app.admin()).await,
        app.get(&format!("{base}/bank-accounts"), &app.admin())
            .await,
        app.patch(&base, &app.admin(), &json!({"email": "ana@example.com"}))
            .await,
        app.get(
            &base,
            &app.token_for(app.tenant, Role::Employee, Uuid::parse_str(&id).ok()),
        )
        .await,
    ];
    // Changing the SSN answers masked too.
    responses.push(
        app.patch(&base, &app.admin(), &json!({"ssn": "587-65-4320"}))
            .await,
    );
    for r in &responses {
        assert!(r.status.is_success(), "{}", r.text);
        assert_no_secrets(r);
        assert!(
            !r.text.contains("587654320") && !r.text.contains("587-65-4320"),
            "{}",
            r.text
        );
    }
    assert_eq!(responses[0].json["ssn"], "***-**-6789");
    assert_eq!(responses[1].json["items"][0]["ssn"], "***-**-6789");
    assert_eq!(responses[2].json["items"][0]["account_number"], "****4321");
    assert_eq!(responses[5].json["ssn"], "***-**-4320");
    // A bad SSN is refused without echoing it.
    let bad = app
        .patch(&base, &app.admin(), &json!({"ssn": "666-12-3456"}))
        .await;
    assert_problem(&bad, 422, "validation_failed");
    assert_eq!(bad.json["errors"][0]["field"], "ssn");
    assert!(!bad.text.contains("3456"), "{}", bad.text);
    let bad = app
        .patch(&base, &app.admin(), &json!({"ssn": 123456789}))
        .await;
    assert_problem(&bad, 422, "validation_failed");
    assert!(!bad.text.contains("123456789"), "{}", bad.text);

    // The audit trail is masked as well.
    for (action, entity, text) in audit_rows(&app, app.tenant).await {
        for s in [SSN, SSN_DIGITS, ACCOUNT, "987654321", "587654320"] {
            assert!(
                !text.contains(s),
                "audit {action} {entity} leaks {s}: {text}"
            );
        }
    }
    // Stored encrypted: the database holds neither plaintext.
    let c = app.db.client().await.unwrap();
    let row = c
        .query_one(
            "SELECT encode(e.ssn_enc, 'escape'), encode(b.account_number_enc, 'escape')
               FROM employees e JOIN bank_accounts b ON b.employee_id = e.id",
            &[],
        )
        .await
        .unwrap();
    let (s, a): (String, String) = (row.get(0), row.get(1));
    assert!(!s.contains("587654320") && !a.contains(ACCOUNT));

    // The admin's explicit reveal shows it and is audited.
    let rv = app.get(&format!("{base}?reveal=ssn"), &app.admin()).await;
    assert_eq!(rv.status, 200, "{}", rv.text);
    assert_eq!(rv.json["ssn"], "587-65-4320");
    let audit = audit_rows(&app, app.tenant).await;
    let last = audit.last().unwrap();
    assert_eq!(
        (last.0.as_str(), last.1.as_str()),
        ("read_sensitive", "employee")
    );
    // Nobody else may reveal.
    let m = app
        .get(
            &format!("{base}?reveal=ssn"),
            &app.token(Role::PayrollManager),
        )
        .await;
    assert_problem(&m, 403, "forbidden");
    let own = app
        .get(
            &format!("{base}?reveal=ssn"),
            &app.token_for(app.tenant, Role::Employee, Uuid::parse_str(&id).ok()),
        )
        .await;
    assert_problem(&own, 403, "forbidden");
    let odd = app.get(&format!("{base}?reveal=email"), &app.admin()).await;
    assert_problem(&odd, 422, "validation_failed");
    assert_eq!(audit_rows(&app, app.tenant).await.len(), audit.len());
    app.cleanup().await;
}

#[tokio::test]
async fn validation_errors_name_the_field_and_change_nothing() {
    let app = TestApp::spawn().await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"last_name": "L", "hire_date": "2024-01-01", "pay_type": "hourly", "hourly_rate": "18.00"}),
            "first_name",
        ),
        (
            json!({"first_name": " ", "last_name": "L", "hire_date": "2024-01-01", "pay_type": "hourly", "hourly_rate": "18.00"}),
            "first_name",
        ),
        (
            json!({"first_name": "A", "last_name": "L", "hire_date": "2024-13-01", "pay_type": "hourly", "hourly_rate": "18.00"}),
            "hire_date",
        ),
        (
            json!({"first_name": "A", "last_name": "L", "hire_date": "2024-01-01", "pay_type": "hourly", "hourly_rate": "abc"}),
            "hourly_rate",
        ),
        (
            json!({"first_name": "A", "last_name": "L", "hire_date": "2024-01-01", "pay_type": "hourly", "hourly_rate": 18}),
            "hourly_rate",
        ),
        (
            json!({"first_name": "A", "last_name": "L", "hire_date": "2024-01-01", "pay_type": "hourly"}),
            "hourly_rate",
        ),
        (
            json!({"first_name": "A", "last_name": "L", "hire_date": "2024-01-01", "pay_type": "hourly", "hourly_rate": "0"}),
            "hourly_rate",
        ),
        (
            json!({"first_name": "A", "last_name": "L", "hire_date": "2024-01-01", "pay_type": "salary", "hourly_rate": "18.00"}),
            "hourly_rate",
        ),
        (
            json!({"first_name": "A", "last_name": "L", "hire_date": "2024-01-01", "pay_type": "salary"}),
            "annual_salary",
        ),
        (
            json!({"first_name": "A", "last_name": "L", "hire_date": "2024-01-01", "pay_type": "weekly", "hourly_rate": "18.00"}),
            "pay_type",
        ),
        (
            json!({"first_name": "A", "last_name": "L", "hire_date": "2024-01-01", "pay_type": "hourly", "hourly_rate": "18.00", "ssn": "000-12-3456"}),
            "ssn",
        ),
        (
            json!({"first_name": "A", "last_name": "L", "hire_date": "2024-01-01", "pay_type": "hourly", "hourly_rate": "18.00", "email": "nope"}),
            "email",
        ),
        (
            json!({"first_name": "A", "last_name": "L", "hire_date": "2024-01-01", "pay_type": "hourly", "hourly_rate": "18.00", "resident_state": "ZZ"}),
            "resident_state",
        ),
        (
            json!({"first_name": "A", "last_name": "L", "hire_date": "2024-01-01", "pay_type": "hourly", "hourly_rate": "18.00", "job_rates": {"server": "x"}}),
            "job_rates.server",
        ),
        (
            json!({"first_name": "A", "last_name": "L", "hire_date": "2024-01-01", "pay_type": "hourly", "hourly_rate": "18.00", "overtime_rules": "texas"}),
            "overtime_rules",
        ),
        (
            json!({"first_name": "A", "last_name": "L", "hire_date": "2024-01-01", "pay_type": "hourly", "hourly_rate": "18.00", "location_id": Uuid::new_v4()}),
            "location_id",
        ),
        (
            json!({"first_name": "A", "last_name": "L", "hire_date": "2024-01-01", "pay_type": "hourly", "hourly_rate": "18.00", "nickname": "x"}),
            "nickname",
        ),
        (
            json!({"first_name": "A", "last_name": "L", "hire_date": "2024-01-01", "pay_type": "hourly", "hourly_rate": "18.00", "federal_w4": {"form": "2020", "filing_status": "married"}}),
            "federal_w4.filing_status",
        ),
    ];
    for (body, field) in cases {
        let r = app
            .post("/api/payroll/v1/employees", &app.admin(), &body)
            .await;
        assert_problem(&r, 422, "validation_failed");
        assert_eq!(r.json["errors"][0]["field"], field, "{body}: {}", r.text);
    }
    let r = app
        .call(
            Method::POST,
            "/api/payroll/v1/employees",
            Some(&app.admin()),
            None,
            &[("content-type", "application/json")],
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.text);
    let list = app.get("/api/payroll/v1/employees", &app.admin()).await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 0);
    assert!(audit_rows(&app, app.tenant).await.is_empty());
    app.cleanup().await;
}

#[tokio::test]
async fn bank_accounts_checksum_splits_and_delete() {
    let app = TestApp::spawn().await;
    let id = id_of(&create(&app, &minimal()).await);
    let path = format!("/api/payroll/v1/employees/{id}/bank-accounts");
    let acct = |routing: &str, split: Value| {
        let mut b = json!({"routing_number": routing, "account_number": ACCOUNT, "account_type": "checking"});
        for (k, v) in split.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let r = app
        .post(
            &path,
            &app.admin(),
            &acct("021000022", json!({"split": "remainder"})),
        )
        .await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.json["errors"][0]["field"], "routing_number");
    assert_no_secrets(&r);
    let r = app
        .post(
            &path,
            &app.admin(),
            &acct("02100002", json!({"split": "remainder"})),
        )
        .await;
    assert_eq!(r.json["errors"][0]["field"], "routing_number");
    let mut short = acct("021000021", json!({"split": "remainder"}));
    short["account_number"] = json!("12");
    let r = app.post(&path, &app.admin(), &short).await;
    assert_eq!(r.json["errors"][0]["field"], "account_number");
    let r = app
        .post(
            &path,
            &app.admin(),
            &acct("021000021", json!({"split": "percent"})),
        )
        .await;
    assert_eq!(r.json["errors"][0]["field"], "percent");
    let r = app
        .post(
            &path,
            &app.admin(),
            &acct("021000021", json!({"split": "amount", "amount": "-5.00"})),
        )
        .await;
    assert_eq!(r.json["errors"][0]["field"], "amount");
    assert_eq!(
        app.get(&path, &app.admin()).await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    let a = app
        .post(
            &path,
            &app.admin(),
            &acct(
                "021000021",
                json!({"split": "amount", "amount": "100.00", "priority": 1}),
            ),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.json["amount"], "100.00");
    let p = app
        .post(
            &path,
            &app.admin(),
            &acct(
                "121000358",
                json!({"split": "percent", "percent": "60", "priority": 2}),
            ),
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.text);
    let over = app
        .post(
            &path,
            &app.admin(),
            &acct(
                "121000358",
                json!({"split": "percent", "percent": "50", "priority": 3}),
            ),
        )
        .await;
    assert_eq!(over.json["errors"][0]["field"], "percent", "{}", over.text);
    let rem = app
        .post(
            &path,
            &app.admin(),
            &acct("322271627", json!({"split": "remainder", "priority": 9})),
        )
        .await;
    assert_eq!(rem.status, 201, "{}", rem.text);
    let rem2 = app
        .post(
            &path,
            &app.admin(),
            &acct("322271627", json!({"split": "remainder"})),
        )
        .await;
    assert_problem(&rem2, 422, "validation_failed");
    assert_eq!(rem2.json["errors"][0]["field"], "split");

    let list = app.get(&path, &app.admin()).await;
    let splits: Vec<&str> = list.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["split"].as_str().unwrap())
        .collect();
    assert_eq!(splits, vec!["amount", "percent", "remainder"]);
    assert_no_secrets(&list);

    let d = app
        .delete(&format!("{path}/{}", id_of(&a.json)), &app.admin())
        .await;
    assert_eq!(d.status, 204, "{}", d.text);
    let d = app
        .delete(&format!("{path}/{}", id_of(&a.json)), &app.admin())
        .await;
    assert_problem(&d, 404, "not_found");
    assert_eq!(
        app.get(&path, &app.admin()).await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let audit = audit_rows(&app, app.tenant).await;
    assert_eq!(
        audit.iter().filter(|(_, e, _)| e == "bank_account").count(),
        4
    );
    assert!(
        audit
            .iter()
            .any(|(a, e, t)| a == "delete" && e == "bank_account" && t.contains("****4321"))
    );
    app.cleanup().await;
}

#[tokio::test]
async fn other_tenants_objects_are_not_found() {
    let app = TestApp::spawn().await;
    let id = id_of(&create(&app, &minimal()).await);
    let other = app.token_for(app.other_tenant, Role::PayrollAdmin, None);
    let base = format!("/api/payroll/v1/employees/{id}");
    assert_problem(&app.get(&base, &other).await, 404, "not_found");
    assert_problem(
        &app.get(&format!("{base}?reveal=ssn"), &other).await,
        404,
        "not_found",
    );
    assert_problem(
        &app.patch(&base, &other, &json!({"first_name": "X"})).await,
        404,
        "not_found",
    );
    assert_problem(
        &app.post(
            &format!("{base}/terminate"),
            &other,
            &json!({"termination_date": "2024-06-01"}),
        )
        .await,
        404,
        "not_found",
    );
    for sub in [
        "compensations",
        "deductions",
        "garnishments",
        "bank-accounts",
        "tax-profile",
    ] {
        assert_problem(
            &app.get(&format!("{base}/{sub}"), &other).await,
            404,
            "not_found",
        );
    }
    assert_problem(
        &app.post(
            &format!("{base}/compensations"),
            &other,
            &json!({"effective_date": "2024-06-01", "pay_type": "hourly", "hourly_rate": "20.00"}),
        )
        .await,
        404,
        "not_found",
    );
    assert_problem(
        &app.post(
            &format!("{base}/deductions"),
            &other,
            &json!({"type": "401k", "percent": "5"}),
        )
        .await,
        404,
        "not_found",
    );
    assert_problem(
        &app.put(
            &format!("{base}/tax-profile"),
            &other,
            &json!({"federal_w4": {"form": "2020", "filing_status": "single"}}),
        )
        .await,
        404,
        "not_found",
    );
    let list = app.get("/api/payroll/v1/employees", &other).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.json["items"].as_array().unwrap().len(), 0);
    // A location of another tenant cannot be referenced.
    let foreign = location(&app, app.other_tenant, "TX").await;
    let mut body = minimal();
    body["location_id"] = json!(foreign);
    let r = app
        .post("/api/payroll/v1/employees", &app.admin(), &body)
        .await;
    assert_problem(&r, 422, "validation_failed");
    assert_eq!(r.json["errors"][0]["field"], "location_id");
    let r = app
        .patch(&base, &app.admin(), &json!({"location_id": foreign}))
        .await;
    assert_eq!(r.json["errors"][0]["field"], "location_id");
    // Malformed ids are 404, not 500.
    assert_problem(
        &app.get("/api/payroll/v1/employees/not-a-uuid", &app.admin())
            .await,
        404,
        "not_found",
    );
    app.cleanup().await;
}

#[tokio::test]
async fn employee_token_reads_only_its_own_record_and_never_writes() {
    let app = TestApp::spawn().await;
    let me = id_of(&create(&app, &minimal()).await);
    let mut b = minimal();
    b["first_name"] = json!("Other");
    let them = id_of(&create(&app, &b).await);
    let tok = app.token_for(app.tenant, Role::Employee, Uuid::parse_str(&me).ok());
    let mine = format!("/api/payroll/v1/employees/{me}");
    let theirs = format!("/api/payroll/v1/employees/{them}");
    let r = app.get(&mine, &tok).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["first_name"], "Ana");
    assert_eq!(
        app.get(&format!("{mine}/compensations"), &tok).await.status,
        200
    );
    assert_eq!(
        app.get(&format!("{mine}/deductions"), &tok).await.status,
        200
    );
    assert_problem(&app.get(&theirs, &tok).await, 404, "not_found");
    assert_problem(
        &app.get(&format!("{theirs}/bank-accounts"), &tok).await,
        404,
        "not_found",
    );
    assert_problem(
        &app.get("/api/payroll/v1/employees", &tok).await,
        403,
        "forbidden",
    );
    assert_problem(
        &app.patch(&mine, &tok, &json!({"first_name": "Me"})).await,
        403,
        "forbidden",
    );
    assert_problem(
        &app.post("/api/payroll/v1/employees", &tok, &minimal())
            .await,
        403,
        "forbidden",
    );
    assert_problem(
        &app.post(&format!("{mine}/bank-accounts"), &tok, &json!({"routing_number": "021000021", "account_number": ACCOUNT, "account_type": "checking", "split": "remainder"})).await,
        403,
        "forbidden",
    );
    assert_problem(
        &app.put(&format!("{mine}/tax-profile"), &tok, &json!({}))
            .await,
        403,
        "forbidden",
    );
    assert_problem(
        &app.post(
            &format!("{mine}/terminate"),
            &tok,
            &json!({"termination_date": "2024-06-01"}),
        )
        .await,
        403,
        "forbidden",
    );
    app.cleanup().await;
}

#[tokio::test]
async fn clerk_reads_but_cannot_write() {
    let app = TestApp::spawn().await;
    let id = id_of(&create(&app, &minimal()).await);
    let clerk = app.token(Role::PayrollClerk);
    let base = format!("/api/payroll/v1/employees/{id}");
    assert_eq!(app.get(&base, &clerk).await.status, 200);
    assert_eq!(
        app.get("/api/payroll/v1/employees", &clerk).await.status,
        200
    );
    assert_problem(
        &app.get(&format!("{base}?reveal=ssn"), &clerk).await,
        403,
        "forbidden",
    );
    assert_problem(
        &app.post("/api/payroll/v1/employees", &clerk, &minimal())
            .await,
        403,
        "forbidden",
    );
    assert_problem(
        &app.patch(&base, &clerk, &json!({"first_name": "X"})).await,
        403,
        "forbidden",
    );
    assert_problem(
        &app.post(
            &format!("{base}/terminate"),
            &clerk,
            &json!({"termination_date": "2024-06-01"}),
        )
        .await,
        403,
        "forbidden",
    );
    assert_problem(
        &app.post(
            &format!("{base}/compensations"),
            &clerk,
            &json!({"effective_date": "2024-06-01", "pay_type": "hourly", "hourly_rate": "20.00"}),
        )
        .await,
        403,
        "forbidden",
    );
    assert_problem(
        &app.post(
            &format!("{base}/deductions"),
            &clerk,
            &json!({"type": "401k", "percent": "5"}),
        )
        .await,
        403,
        "forbidden",
    );
    assert_problem(
        &app.post(
            &format!("{base}/garnishments"),
            &clerk,
            &json!({"type": "creditor", "amount": "50.00"}),
        )
        .await,
        403,
        "forbidden",
    );
    assert_problem(
        &app.put(&format!("{base}/tax-profile"), &clerk, &json!({}))
            .await,
        403,
        "forbidden",
    );
    assert_problem(
        &app.delete(&format!("{base}/deductions/{}", Uuid::new_v4()), &clerk)
            .await,
        403,
        "forbidden",
    );
    // A manager may write.
    let m = app
        .patch(
            &base,
            &app.token(Role::PayrollManager),
            &json!({"first_name": "Anna"}),
        )
        .await;
    assert_eq!(m.status, 200, "{}", m.text);
    assert_eq!(m.json["first_name"], "Anna");
    app.cleanup().await;
}

#[tokio::test]
async fn etags_and_stale_if_match() {
    let app = TestApp::spawn().await;
    let id = id_of(&create(&app, &minimal()).await);
    let base = format!("/api/payroll/v1/employees/{id}");
    let admin = app.admin();
    // Cached read, then a write, then the read shows the write (cache invalidated).
    assert_eq!(app.get(&base, &admin).await.json["email"], Value::Null);
    let p = app
        .call(
            Method::PATCH,
            &base,
            Some(&admin),
            Some(&json!({"email": "ana@example.com", "tipped": true})),
            &[("if-match", "\"v1\"")],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert_eq!(p.header("etag"), Some("\"v2\""));
    assert_eq!(p.json["email"], "ana@example.com");
    assert_eq!(p.json["tipped"], true);
    assert_eq!(p.json["first_name"], "Ana", "untouched fields stay");
    let g = app.get(&base, &admin).await;
    assert_eq!(g.json["email"], "ana@example.com");
    assert_eq!(g.header("etag"), Some("\"v2\""));
    // Stale: 412 with the current ETag, nothing changed.
    let s = app
        .call(
            Method::PATCH,
            &base,
            Some(&admin),
            Some(&json!({"first_name": "Zed"})),
            &[("if-match", "\"v1\"")],
        )
        .await;
    assert_problem(&s, 412, "stale_etag");
    assert_eq!(s.header("etag"), Some("\"v2\""));
    assert_eq!(app.get(&base, &admin).await.json["first_name"], "Ana");
    // null clears an optional field; pay changes are refused here.
    let c = app.patch(&base, &admin, &json!({"email": null})).await;
    assert_eq!(c.json["email"], Value::Null);
    let r = app
        .patch(&base, &admin, &json!({"hourly_rate": "30.00"}))
        .await;
    assert_eq!(r.json["errors"][0]["field"], "hourly_rate");
    let r = app.patch(&base, &admin, &json!({"first_name": null})).await;
    assert_eq!(r.json["errors"][0]["field"], "first_name");

    // Tax profile: none yet → 404; PUT creates v1; stale If-Match → 412.
    let tp = format!("{base}/tax-profile");
    assert_problem(&app.get(&tp, &admin).await, 404, "not_found");
    let w4 = json!({"federal_w4": {"form": "2020", "filing_status": "married_filing_jointly", "dependents_amount": "4000.00"},
                    "state_w4": {"CA": {"filing_status": "married", "allowances": 2}}});
    let put = app
        .call(
            Method::PUT,
            &tp,
            Some(&admin),
            Some(&w4),
            &[("if-match", "\"v0\"")],
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.text);
    assert_eq!(put.header("etag"), Some("\"v1\""));
    assert_eq!(put.json["federal_w4"]["dependents_amount"], "4000.00");
    let put2 = app
        .call(
            Method::PUT,
            &tp,
            Some(&admin),
            Some(&w4),
            &[("if-match", "\"v1\"")],
        )
        .await;
    assert_eq!(put2.header("etag"), Some("\"v2\""));
    let stale = app
        .call(
            Method::PUT,
            &tp,
            Some(&admin),
            Some(&w4),
            &[("if-match", "\"v1\"")],
        )
        .await;
    assert_problem(&stale, 412, "stale_etag");
    let g = app.get(&tp, &admin).await;
    assert_eq!(g.header("etag"), Some("\"v2\""));
    app.cleanup().await;
}

#[tokio::test]
async fn tax_profile_validation() {
    let app = TestApp::spawn().await;
    let id = id_of(&create(&app, &minimal()).await);
    let tp = format!("/api/payroll/v1/employees/{id}/tax-profile");
    let cases = [
        (
            json!({"federal_w4": {"form": "2020", "filing_status": "single", "allowances": 2}}),
            "federal_w4.allowances",
        ),
        (
            json!({"federal_w4": {"form": "2019", "filing_status": "head_of_household"}}),
            "federal_w4.filing_status",
        ),
        (
            json!({"federal_w4": {"form": "2020", "filing_status": "single", "extra_withholding": "1.234"}}),
            "federal_w4.extra_withholding",
        ),
        (
            json!({"federal_w4": {"filing_status": "single"}}),
            "federal_w4.form",
        ),
        (json!({"state_w4": {"XX": {}}}), "state_w4"),
        (
            json!({"state_w4": {"CA": {"filing_status": "widow"}}}),
            "state_w4.CA.filing_status",
        ),
        (
            json!({"state_w4": {"NY": {"allowances": 500}}}),
            "state_w4.NY.allowances",
        ),
        (
            json!({"state_w4": {"CA": {"bogus": 1}}}),
            "state_w4.CA.bogus",
        ),
    ];
    for (body, field) in cases {
        let r = app.put(&tp, &app.admin(), &body).await;
        assert_problem(&r, 422, "validation_failed");
        let got = r.json["errors"][0]["field"].as_str().unwrap().to_owned();
        assert!(
            got.starts_with(field),
            "{body}: expected {field}, got {got}"
        );
    }
    assert_problem(&app.get(&tp, &app.admin()).await, 404, "not_found");
    let ok = app
        .put(
            &tp,
            &app.admin(),
            &json!({"federal_w4": {"form": "2019", "filing_status": "married", "allowances": 3}}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json["federal_w4"]["allowances"], 3);
    assert_eq!(ok.json["state_w4"], json!({}));
    app.cleanup().await;
}

#[tokio::test]
async fn pagination_cursor_walks_every_page_and_filters_apply() {
    let app = TestApp::spawn().await;
    let loc = location(&app, app.tenant, "CA").await;
    let names = ["Garcia", "Adams", "Baker", "Young", "Evans", "Chen", "Diaz"];
    let mut ids = Vec::new();
    for (i, last) in names.iter().enumerate() {
        let mut b = minimal();
        b["last_name"] = json!(last);
        if i % 2 == 0 {
            b["location_id"] = json!(loc);
        }
        ids.push(id_of(&create(&app, &b).await));
    }
    let mut seen = Vec::new();
    let mut url = "/api/payroll/v1/employees?limit=3".to_owned();
    let mut pages = 0;
    loop {
        let r = app.get(&url, &app.admin()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        pages += 1;
        let items = r.json["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(
            items
                .iter()
                .map(|i| i["last_name"].as_str().unwrap().to_owned()),
        );
        match r.json["next_cursor"].as_str() {
            Some(c) => url = format!("/api/payroll/v1/employees?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen,
        vec!["Adams", "Baker", "Chen", "Diaz", "Evans", "Garcia", "Young"]
    );

    let by_loc = app
        .get(
            &format!("/api/payroll/v1/employees?location_id={loc}"),
            &app.admin(),
        )
        .await;
    let got: Vec<&str> = by_loc.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["last_name"].as_str().unwrap())
        .collect();
    assert_eq!(got, vec!["Baker", "Diaz", "Evans", "Garcia"]);
    let q = app
        .get("/api/payroll/v1/employees?q=na%20ch", &app.admin())
        .await;
    let got: Vec<&str> = q.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["last_name"].as_str().unwrap())
        .collect();
    assert_eq!(got, vec!["Chen"]);
    let q = app
        .get("/api/payroll/v1/employees?q=AD", &app.admin())
        .await;
    assert_eq!(q.json["items"].as_array().unwrap().len(), 1);
    // Terminate one; filter by status.
    let t = app
        .post(
            &format!("/api/payroll/v1/employees/{}/terminate", ids[3]),
            &app.admin(),
            &json!({"termination_date": "2024-06-30", "reason": "moved away"}),
        )
        .await;
    assert_eq!(t.status, 200, "{}", t.text);
    assert_eq!(t.json["status"], "terminated");
    assert_eq!(t.json["termination_reason"], "moved away");
    let term = app
        .get("/api/payroll/v1/employees?status=terminated", &app.admin())
        .await;
    assert_eq!(term.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(term.json["items"][0]["last_name"], "Young");
    let act = app
        .get("/api/payroll/v1/employees?status=active", &app.admin())
        .await;
    assert_eq!(act.json["items"].as_array().unwrap().len(), 6);
    assert_problem(
        &app.get("/api/payroll/v1/employees?status=gone", &app.admin())
            .await,
        422,
        "validation_failed",
    );
    assert_problem(
        &app.get("/api/payroll/v1/employees?limit=0", &app.admin())
            .await,
        422,
        "validation_failed",
    );
    assert_problem(
        &app.get("/api/payroll/v1/employees?cursor=%21%21", &app.admin())
            .await,
        422,
        "validation_failed",
    );
    app.cleanup().await;
}

#[tokio::test]
async fn terminate_and_compensation_rules() {
    let app = TestApp::spawn().await;
    let id = id_of(&create(&app, &minimal()).await);
    let base = format!("/api/payroll/v1/employees/{id}");
    let comp = format!("{base}/compensations");
    let raise = app
        .post(
            &comp,
            &app.admin(),
            &json!({"effective_date": "2024-07-01", "pay_type": "hourly", "hourly_rate": "20.50"}),
        )
        .await;
    assert_eq!(raise.status, 201, "{}", raise.text);
    assert_eq!(raise.json["hourly_rate"], "20.50");
    let dup = app
        .post(
            &comp,
            &app.admin(),
            &json!({"effective_date": "2024-07-01", "pay_type": "hourly", "hourly_rate": "21.00"}),
        )
        .await;
    assert_problem(&dup, 409, "conflict");
    let early = app
        .post(
            &comp,
            &app.admin(),
            &json!({"effective_date": "2023-12-31", "pay_type": "hourly", "hourly_rate": "21.00"}),
        )
        .await;
    assert_eq!(early.json["errors"][0]["field"], "effective_date");
    let salary = app
        .post(&comp, &app.admin(), &json!({"effective_date": "2025-01-01", "pay_type": "salary", "annual_salary": "52000.00"}))
        .await;
    assert_eq!(salary.status, 201, "{}", salary.text);
    let list = app.get(&comp, &app.admin()).await;
    let dates: Vec<&str> = list.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["effective_date"].as_str().unwrap())
        .collect();
    assert_eq!(dates, vec!["2024-01-15", "2024-07-01", "2025-01-01"]);
    // The employee shows the pay in effect today (the 2025 salary) and a new version.
    let e = app.get(&base, &app.admin()).await;
    assert_eq!(e.json["pay_type"], "salary");
    assert_eq!(e.json["annual_salary"], "52000.00");
    assert_eq!(e.header("etag"), Some("\"v3\""));

    let early = app
        .post(
            &format!("{base}/terminate"),
            &app.admin(),
            &json!({"termination_date": "2023-01-01"}),
        )
        .await;
    assert_eq!(early.json["errors"][0]["field"], "termination_date");
    let missing = app
        .post(&format!("{base}/terminate"), &app.admin(), &json!({}))
        .await;
    assert_eq!(missing.json["errors"][0]["field"], "termination_date");
    let stale = app
        .call(
            Method::POST,
            &format!("{base}/terminate"),
            Some(&app.admin()),
            Some(&json!({"termination_date": "2025-03-01"})),
            &[("if-match", "\"v1\"")],
        )
        .await;
    assert_problem(&stale, 412, "stale_etag");
    let t = app
        .post(
            &format!("{base}/terminate"),
            &app.admin(),
            &json!({"termination_date": "2025-03-01"}),
        )
        .await;
    assert_eq!(t.status, 200, "{}", t.text);
    assert_eq!(t.json["termination_date"], "2025-03-01");
    let again = app
        .post(
            &format!("{base}/terminate"),
            &app.admin(),
            &json!({"termination_date": "2025-03-02"}),
        )
        .await;
    assert_problem(&again, 409, "conflict");
    let audit = audit_rows(&app, app.tenant).await;
    let (_, _, text) = audit.iter().find(|(a, _, _)| a == "terminate").unwrap();
    assert!(
        text.contains("\"status\": \"active\"") && text.contains("\"status\": \"terminated\""),
        "{text}"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn deductions_and_garnishments_use_the_contract_shapes() {
    let app = TestApp::spawn().await;
    let id = id_of(&create(&app, &minimal()).await);
    let ded = format!("/api/payroll/v1/employees/{id}/deductions");
    let gar = format!("/api/payroll/v1/employees/{id}/garnishments");
    let bad = [
        (
            json!({"type": "401k", "percent": "5", "amount": "10.00"}),
            "amount",
        ),
        (json!({"type": "401k"}), "amount"),
        (json!({"type": "cash_tips_paid", "amount": "10.00"}), "type"),
        (json!({"type": "pension", "amount": "10.00"}), "type"),
        (json!({"type": "401k", "percent": "101"}), "percent"),
        (json!({"type": "loan", "amount": "10.001"}), "amount"),
        (
            json!({"type": "401k", "amount": "10.00", "coverage": "family"}),
            "coverage",
        ),
        (
            json!({"type": "401k", "amount": "10.00", "ytd": "100.00"}),
            "ytd",
        ),
        (
            json!({"type": "401k", "amount": "10.00", "start_date": "2024-05-01", "end_date": "2024-04-01"}),
            "end_date",
        ),
    ];
    for (body, field) in bad {
        let r = app.post(&ded, &app.admin(), &body).await;
        assert_problem(&r, 422, "validation_failed");
        assert_eq!(r.json["errors"][0]["field"], field, "{body}: {}", r.text);
    }
    let k = app
        .post(&ded, &app.admin(), &json!({"type": "401k", "percent": "5"}))
        .await;
    assert_eq!(k.status, 201, "{}", k.text);
    assert_eq!(k.json["type"], "401k");
    assert_eq!(k.json["percent"], "5");
    let h = app
        .post(&ded, &app.admin(), &json!({"type": "hsa", "amount": "50.00", "coverage": "family", "start_date": "2024-01-01"}))
        .await;
    assert_eq!(h.status, 201, "{}", h.text);
    assert_eq!(h.json["coverage"], "family");

    let gbad = [
        (
            json!({"type": "creditor", "limit_percent": "50", "amount": "10.00"}),
            "limit_percent",
        ),
        (
            json!({"type": "child_support", "amount": "100.00", "limit_percent": "70"}),
            "limit_percent",
        ),
        (json!({"type": "creditor"}), "amount"),
        (json!({"type": "parking", "amount": "1.00"}), "type"),
    ];
    for (body, field) in gbad {
        let r = app.post(&gar, &app.admin(), &body).await;
        assert_problem(&r, 422, "validation_failed");
        assert_eq!(r.json["errors"][0]["field"], field, "{body}: {}", r.text);
    }
    let cs = app
        .post(&gar, &app.admin(), &json!({"type": "child_support", "amount": "200.00", "limit_percent": "60", "reference": "CS-123"}))
        .await;
    assert_eq!(cs.status, 201, "{}", cs.text);
    assert_eq!(cs.json["limit_percent"], "60");
    let lv = app
        .post(
            &gar,
            &app.admin(),
            &json!({"type": "tax_levy", "exempt_amount": "400.00"}),
        )
        .await;
    assert_eq!(lv.status, 201, "{}", lv.text);

    assert_eq!(
        app.get(&ded, &app.admin()).await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let del = app
        .delete(&format!("{ded}/{}", id_of(&k.json)), &app.admin())
        .await;
    assert_eq!(del.status, 204);
    let left = app.get(&ded, &app.admin()).await;
    assert_eq!(left.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(left.json["items"][0]["type"], "hsa");
    assert_problem(
        &app.delete(&format!("{ded}/{}", id_of(&k.json)), &app.admin())
            .await,
        404,
        "not_found",
    );
    assert_problem(
        &app.delete(&format!("{gar}/{}", id_of(&k.json)), &app.admin())
            .await,
        404,
        "not_found",
    );
    let del = app
        .delete(&format!("{gar}/{}", id_of(&lv.json)), &app.admin())
        .await;
    assert_eq!(del.status, 204);
    assert_eq!(
        app.get(&gar, &app.admin()).await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let audit = audit_rows(&app, app.tenant).await;
    assert_eq!(audit.iter().filter(|(_, e, _)| e == "deduction").count(), 3);
    assert_eq!(
        audit.iter().filter(|(_, e, _)| e == "garnishment").count(),
        3
    );
    app.cleanup().await;
}

#[tokio::test]
async fn repository_loads_everything_a_paycheck_needs() {
    let app = TestApp::spawn().await;
    let loc = location(&app, app.tenant, "CA").await;
    let body = json!({
        "first_name": "Cam", "last_name": "Diaz", "hire_date": "2024-01-01", "location_id": loc,
        "pay_type": "hourly", "hourly_rate": "16.00", "tipped": true, "resident_state": "CA",
        "job_rates": {"server": "16.00", "bartender": "17.25"},
        "federal_w4": {"form": "2020", "filing_status": "single", "extra_withholding": "10.00"},
        "state_w4": {"CA": {"filing_status": "single", "allowances": 1}}
    });
    let id = id_of(&create(&app, &body).await);
    let base = format!("/api/payroll/v1/employees/{id}");
    app.post(
        &format!("{base}/compensations"),
        &app.admin(),
        &json!({"effective_date": "2024-06-01", "pay_type": "hourly", "hourly_rate": "17.00"}),
    )
    .await;
    app.post(
        &format!("{base}/deductions"),
        &app.admin(),
        &json!({"type": "401k", "percent": "4"}),
    )
    .await;
    app.post(
        &format!("{base}/deductions"),
        &app.admin(),
        &json!({"type": "loan", "amount": "25.00", "end_date": "2024-03-31"}),
    )
    .await;
    app.post(
        &format!("{base}/garnishments"),
        &app.admin(),
        &json!({"type": "creditor", "percent": "10", "start_date": "2024-05-01"}),
    )
    .await;

    let tx = app.db.tenant_tx(app.tenant).await.unwrap();
    let eid = Uuid::parse_str(&id).unwrap();
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let march = payroll_store::repo::employees::load_for_paycheck(&tx, eid, d("2024-03-15"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(march.work_state.map(|s| s.as_str()), Some("CA"));
    assert_eq!(march.locality.as_deref(), Some("San Francisco"));
    assert_eq!(march.resident_state.map(|s| s.as_str()), Some("CA"));
    assert!(march.profile.tipped);
    assert_eq!(
        march.compensation.as_ref().unwrap().hourly_rate,
        Some(Decimal::from_str("16.00").unwrap())
    );
    assert_eq!(
        march.job_rates["bartender"],
        Decimal::from_str("17.25").unwrap()
    );
    let fed = march.federal_w4.as_ref().unwrap();
    assert_eq!(
        fed.extra_withholding,
        Some(Decimal::from_str("10.00").unwrap())
    );
    let ca = payroll_domain::request::StateCode::parse("CA").unwrap();
    assert_eq!(march.state_w4[&ca].allowances, Some(1));
    let kinds: Vec<&str> = march.deductions.iter().map(|x| x.kind.as_str()).collect();
    assert_eq!(kinds, vec!["401k", "loan"]);
    assert!(march.garnishments.is_empty());

    let july = payroll_store::repo::employees::load_for_paycheck(&tx, eid, d("2024-07-15"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        july.compensation.as_ref().unwrap().hourly_rate,
        Some(Decimal::from_str("17.00").unwrap())
    );
    let kinds: Vec<&str> = july.deductions.iter().map(|x| x.kind.as_str()).collect();
    assert_eq!(kinds, vec!["401k"]);
    assert_eq!(july.garnishments.len(), 1);
    assert_eq!(july.garnishments[0].percent, Some(Decimal::from(10)));
    // Before the hire date there is no compensation; another tenant sees nothing.
    let before = payroll_store::repo::employees::load_for_paycheck(&tx, eid, d("2023-12-01"))
        .await
        .unwrap()
        .unwrap();
    assert!(before.compensation.is_none());
    drop(tx);
    let other = app.db.tenant_tx(app.other_tenant).await.unwrap();
    assert!(
        payroll_store::repo::employees::load_for_paycheck(&other, eid, d("2024-07-15"))
            .await
            .unwrap()
            .is_none()
    );
    drop(other);
    app.cleanup().await;
}

#[tokio::test]
async fn openapi_lists_the_employee_routes() {
    let app = TestApp::spawn().await;
    let r = app
        .call(Method::GET, "/openapi.json", None, None, &[])
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let paths = r.json["paths"].as_object().unwrap();
    for p in [
        "/api/payroll/v1/employees",
        "/api/payroll/v1/employees/{id}",
        "/api/payroll/v1/employees/{id}/terminate",
        "/api/payroll/v1/employees/{id}/compensations",
        "/api/payroll/v1/employees/{id}/tax-profile",
        "/api/payroll/v1/employees/{id}/deductions/{did}",
        "/api/payroll/v1/employees/{id}/garnishments/{gid}",
        "/api/payroll/v1/employees/{id}/bank-accounts/{bid}",
    ] {
        assert!(paths.contains_key(p), "missing {p}");
    }
    let schemas = r.json["components"]["schemas"].as_object().unwrap();
    assert_eq!(
        schemas["EmployeeView"]["properties"]["hourly_rate"]["type"],
        json!(["string", "null"])
    );
    app.cleanup().await;
}
