//! Payroll runs end to end against real PostgreSQL (and Redis for the Streams transport): data
//! loaded through the API, calculated through the queue, approved against the calc_hash, paid
//! (stubs + YTD once), voided (a reversal netting to zero); duplicated chunks, concurrent
//! approvals, stale hashes and changed inputs.

use crate::common::{TestApp, TestResponse, assert_problem};
use http::Method;
use payroll_api::auth::Role;
use payroll_queue::{InProcessQueue, JobQueue};
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

fn p(path: &str) -> String {
    format!("/api/payroll/v1{path}")
}

fn id_of(v: &Value) -> Uuid {
    Uuid::parse_str(v["id"].as_str().unwrap()).unwrap()
}

struct Setup {
    schedule: Uuid,
    /// Hourly tipped server (job rate 16.50), CA.
    ana: Uuid,
    /// Salaried, 65,000 a year.
    ben: Uuid,
    /// Hourly 20.00, 8 h on each weekday of the period: 80 h, no overtime.
    cy: Uuid,
}

async fn ok(r: TestResponse, status: u16) -> Value {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    r.json
}

/// Company settings, a CA location, a biweekly schedule (periods from Monday 2025-01-06, paid 5
/// days after the end), three employees, and two weeks of time entries with tips — all through
/// the API.
async fn setup(app: &TestApp) -> Setup {
    let admin = app.admin();
    ok(
        app.put(
            &p("/company"),
            &admin,
            &json!({"legal_name": "Test Bistro LLC", "ein": "12-3456789",
                    "address": {"line1": "1 Market St", "city": "San Francisco", "state": "CA", "postal_code": "94105"},
                    "workweek_start": "monday",
                    "sui": {"CA": {"rate": "0.034", "wage_base": "7000.00"}},
                    "futa_credit_reduction": {"CA": "0.009"}}),
        )
        .await,
        200,
    )
    .await;
    let loc = id_of(
        &ok(
            app.post(
                &p("/locations"),
                &admin,
                &json!({"name": "SF", "state": "CA", "locality": "San Francisco",
                        "address": {"line1": "1 Market St", "city": "San Francisco", "state": "CA", "postal_code": "94105"}}),
            )
            .await,
            201,
        )
        .await,
    );
    let schedule = id_of(
        &ok(
            app.post(
                &p("/pay-schedules"),
                &admin,
                &json!({"name": "Biweekly", "frequency": "biweekly",
                        "first_period_start": "2025-01-06", "pay_date_offset_days": 5}),
            )
            .await,
            201,
        )
        .await,
    );
    let emp = |body: Value| {
        let admin = admin.clone();
        async move { id_of(&ok(app.post(&p("/employees"), &admin, &body).await, 201).await) }
    };
    let ana = emp(
        json!({"first_name": "Ana", "last_name": "Diaz", "hire_date": "2024-06-01",
        "location_id": loc, "pay_schedule_id": schedule, "pay_type": "hourly",
        "hourly_rate": "18.00", "tipped": true, "resident_state": "CA",
        "job_rates": {"server": "16.50"},
        "federal_w4": {"form": "2020", "filing_status": "single"},
        "state_w4": {"CA": {"filing_status": "single", "allowances": 1}}}),
    )
    .await;
    let ben = emp(
        json!({"first_name": "Ben", "last_name": "Ng", "hire_date": "2024-06-01",
        "location_id": loc, "pay_schedule_id": schedule, "pay_type": "salary",
        "annual_salary": "65000.00", "flsa_exempt": true, "resident_state": "CA",
        "federal_w4": {"form": "2020", "filing_status": "married_filing_jointly"}}),
    )
    .await;
    let cy = emp(
        json!({"first_name": "Cy", "last_name": "Park", "hire_date": "2024-06-01",
        "location_id": loc, "pay_schedule_id": schedule, "pay_type": "hourly",
        "hourly_rate": "20.00", "resident_state": "CA"}),
    )
    .await;
    // Two weeks: Mon-Fri of 2025-01-06 and 2025-01-13.
    let mut entries = Vec::new();
    for week in [6, 13] {
        for d in 0..5 {
            let date = format!("2025-01-{:02}", week + d);
            entries.push(
                json!({"external_id": format!("ana-{date}"), "employee_id": ana,
                "date": date, "hours": "7.5", "job": "server", "cash_tips": "20.00",
                "charged_tips": "45.50"}),
            );
            entries.push(
                json!({"external_id": format!("cy-{date}"), "employee_id": cy,
                "date": date, "hours": "8"}),
            );
        }
    }
    ok(
        app.post(
            &p("/time-entries/batch"),
            &admin,
            &json!({ "entries": entries }),
        )
        .await,
        200,
    )
    .await;
    Setup {
        schedule,
        ana,
        ben,
        cy,
    }
}

async fn create_run(app: &TestApp, s: &Setup) -> Uuid {
    let r = app
        .post(
            &p("/payroll-runs"),
            &app.admin(),
            &json!({"pay_schedule_id": s.schedule, "period_start": "2025-01-06", "type": "regular"}),
        )
        .await;
    let v = ok(r, 201).await;
    assert_eq!(v["status"], "draft");
    assert_eq!(v["period_end"], "2025-01-19");
    assert_eq!(v["pay_date"], "2025-01-24");
    id_of(&v)
}

/// `POST /payroll-runs/{run}/calculate` with an empty body.
async fn calculate(app: &TestApp, run: Uuid, token: &str) -> TestResponse {
    app.post(
        &p(&format!("/payroll-runs/{run}/calculate")),
        token,
        &json!({}),
    )
    .await
}

/// How many items (employees) the run has.
async fn item_count(app: &TestApp, run: Uuid) -> i64 {
    count(
        app,
        "SELECT count(*) FROM payroll_run_items WHERE run_id = $1",
        run,
    )
    .await
}

/// Poll until the run leaves `calculating`.
async fn wait_calculated(app: &TestApp, run: Uuid) -> Value {
    for _ in 0..400 {
        let r = app
            .get(&p(&format!("/payroll-runs/{run}")), &app.admin())
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        if r.json["status"] != "calculating" {
            return r.json;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("run {run} still calculating");
}

async fn approve(app: &TestApp, run: Uuid, hash: Option<&str>) -> TestResponse {
    let h = hash.map(|h| format!("\"{h}\""));
    let headers: Vec<(&str, &str)> = h
        .as_deref()
        .map(|h| vec![("if-match", h)])
        .unwrap_or_default();
    app.call(
        Method::POST,
        &p(&format!("/payroll-runs/{run}/approve")),
        Some(&app.admin()),
        None,
        &headers,
    )
    .await
}

async fn ytd_gross(app: &TestApp, emp: Uuid) -> Option<String> {
    let tx = app.db.tenant_tx(app.tenant).await.unwrap();
    let row = tx
        .client()
        .query_opt(
            "SELECT gross::text FROM ytd_accumulators WHERE employee_id = $1 AND year = 2025",
            &[&emp],
        )
        .await
        .unwrap();
    row.map(|r| r.get(0))
}

async fn count(app: &TestApp, sql: &str, run: Uuid) -> i64 {
    let tx = app.db.tenant_tx(app.tenant).await.unwrap();
    tx.client().query_one(sql, &[&run]).await.unwrap().get(0)
}

#[tokio::test]
async fn a_full_run_from_time_entries_to_paid_stubs_then_void() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let s = setup(&app).await;
    let run = create_run(&app, &s).await;

    // One active regular run per schedule and period: the database refuses a second.
    let dup = app
        .post(
            &p("/payroll-runs"),
            &admin,
            &json!({"pay_schedule_id": s.schedule, "period_start": "2025-01-06"}),
        )
        .await;
    assert_problem(&dup, 409, "conflict");
    // Not a period start.
    let bad = app
        .post(
            &p("/payroll-runs"),
            &admin,
            &json!({"pay_schedule_id": s.schedule, "period_start": "2025-01-07"}),
        )
        .await;
    assert_problem(&bad, 422, "validation_failed");
    assert_eq!(bad.json["errors"][0]["field"], "period_start");
    // A clerk may read but not run payroll; another tenant sees nothing.
    let clerk = app.token(Role::PayrollClerk);
    assert_eq!(calculate(&app, run, &clerk).await.status, 403);
    let other = app.token_for(app.other_tenant, Role::PayrollAdmin, None);
    assert_eq!(
        app.get(&p(&format!("/payroll-runs/{run}")), &other)
            .await
            .status,
        404
    );
    // Approving a draft is a conflict.
    assert_problem(&approve(&app, run, Some("x")).await, 409, "conflict");

    let r = calculate(&app, run, &admin).await;
    let v = ok(r, 202).await;
    assert_eq!(v["progress"]["total"], 3);
    let v = wait_calculated(&app, run).await;
    assert_eq!(v["status"], "calculated", "{v}");
    assert_eq!(v["progress"], json!({"total": 3, "done": 3, "failed": 0}));
    let hash = v["calc_hash"].as_str().unwrap().to_owned();
    assert_eq!(hash.len(), 64);

    // Items: Cy worked 80 h at 20.00 = 1600.00; Ben gets 65000 / 26 = 2500.00.
    let items = ok(
        app.get(&p(&format!("/payroll-runs/{run}/items")), &admin)
            .await,
        200,
    )
    .await;
    assert_eq!(items["items"].as_array().unwrap().len(), 3);
    let cy = ok(
        app.get(&p(&format!("/payroll-runs/{run}/items/{}", s.cy)), &admin)
            .await,
        200,
    )
    .await;
    assert_eq!(cy["status"], "calculated");
    assert_eq!(cy["gross_pay"], "1600.00");
    assert_eq!(cy["result"]["gross_pay"], "1600.00");
    assert_eq!(cy["request"]["time_entries"].as_array().unwrap().len(), 10);
    assert!(!cy["result"]["trace"].as_array().unwrap().is_empty());
    let ben = ok(
        app.get(&p(&format!("/payroll-runs/{run}/items/{}", s.ben)), &admin)
            .await,
        200,
    )
    .await;
    assert_eq!(ben["gross_pay"], "2500.00");
    let ana = ok(
        app.get(&p(&format!("/payroll-runs/{run}/items/{}", s.ana)), &admin)
            .await,
        200,
    )
    .await;
    // 75 h at the server rate 16.50 = 1237.50, plus 455.00 charged and 200.00 cash tips.
    assert_eq!(ana["request"]["time_entries"][0]["rate"], "16.50");
    assert_eq!(ana["request"]["time_entries"][0]["cash_tips"], "20.00");
    let ana_gross: rust_decimal::Decimal = ana["gross_pay"].as_str().unwrap().parse().unwrap();
    assert!(
        ana_gross >= rust_decimal::Decimal::new(189250, 2),
        "{ana_gross}"
    );
    // The run's totals are the sum of its items.
    let sum: rust_decimal::Decimal = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i["gross_pay"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum();
    assert_eq!(v["totals"]["gross_pay"], sum.to_string());

    // Approval: If-Match required, stale hash 412, then the right hash.
    assert_problem(&approve(&app, run, None).await, 422, "validation_failed");
    assert_problem(
        &approve(&app, run, Some(&"0".repeat(64))).await,
        412,
        "stale_calc_hash",
    );
    let a = approve(&app, run, Some(&hash)).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["status"], "approved");

    // Pay twice: pays once, YTD advances once.
    let first = ok(
        app.post(&p(&format!("/payroll-runs/{run}/pay")), &admin, &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(first["status"], "paid");
    assert_eq!(ytd_gross(&app, s.cy).await.as_deref(), Some("1600.00"));
    let again = ok(
        app.post(&p(&format!("/payroll-runs/{run}/pay")), &admin, &json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(again["status"], "paid");
    assert_eq!(ytd_gross(&app, s.cy).await.as_deref(), Some("1600.00"));
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM pay_stubs WHERE run_id = $1",
            run
        )
        .await,
        3
    );

    // Pay stubs: staff by employee and year; an employee sees only its own.
    let stubs = ok(
        app.get(
            &p(&format!("/paystubs?employee_id={}&year=2025", s.cy)),
            &admin,
        )
        .await,
        200,
    )
    .await;
    let list = stubs["items"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["gross_pay"], "1600.00");
    assert_eq!(list[0]["ytd"]["gross"], "1600.00");
    assert!(list[0]["current"]["taxes"].as_array().unwrap().len() >= 3);
    let stub_id = list[0]["id"].as_str().unwrap().to_owned();
    let cy_token = app.token_for(app.tenant, Role::Employee, Some(s.cy));
    let ana_token = app.token_for(app.tenant, Role::Employee, Some(s.ana));
    assert_eq!(
        app.get(&p(&format!("/paystubs/{stub_id}")), &cy_token)
            .await
            .status,
        200
    );
    assert_eq!(
        app.get(&p("/paystubs"), &cy_token).await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.get(&p(&format!("/paystubs/{stub_id}")), &ana_token)
            .await
            .status,
        404
    );
    assert_eq!(
        app.get(&p(&format!("/paystubs?employee_id={}", s.cy)), &ana_token)
            .await
            .status,
        404
    );
    assert_eq!(
        app.get(&p(&format!("/paystubs/{stub_id}")), &other)
            .await
            .status,
        404
    );

    // Register: JSON and CSV.
    let reg = ok(
        app.get(&p(&format!("/payroll-runs/{run}/register")), &admin)
            .await,
        200,
    )
    .await;
    assert_eq!(reg["lines"].as_array().unwrap().len(), 3);
    let csv = app
        .call(
            Method::GET,
            &p(&format!("/payroll-runs/{run}/register")),
            Some(&admin),
            None,
            &[("accept", "text/csv")],
        )
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert_eq!(csv.text.lines().count(), 5, "{}", csv.text);
    assert!(
        csv.text
            .contains(&format!("{},Park,Cy,calculated,1600.00,", s.cy)),
        "{}",
        csv.text
    );

    // A paid run is never edited: recalculation is refused; void creates a reversal.
    assert_problem(&calculate(&app, run, &admin).await, 409, "conflict");
    let rev = ok(
        app.post(&p(&format!("/payroll-runs/{run}/void")), &admin, &json!({}))
            .await,
        201,
    )
    .await;
    assert_eq!(rev["type"], "correction");
    assert_eq!(rev["status"], "paid");
    assert_eq!(rev["reverses_run_id"], run.to_string());
    let orig = ok(
        app.get(&p(&format!("/payroll-runs/{run}")), &admin).await,
        200,
    )
    .await;
    assert_eq!(orig["status"], "paid");
    assert_eq!(orig["reversed_by_run_id"], rev["id"]);
    for k in ["gross_pay", "net_pay", "employee_taxes", "employer_taxes"] {
        let a: rust_decimal::Decimal = orig["totals"][k].as_str().unwrap().parse().unwrap();
        let b: rust_decimal::Decimal = rev["totals"][k].as_str().unwrap().parse().unwrap();
        assert_eq!(a + b, rust_decimal::Decimal::ZERO, "{k}");
    }
    assert_eq!(ytd_gross(&app, s.cy).await.as_deref(), Some("0.00"));
    let stubs = ok(
        app.get(
            &p(&format!("/paystubs?employee_id={}&year=2025", s.cy)),
            &admin,
        )
        .await,
        200,
    )
    .await;
    let gross: Vec<&str> = stubs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["gross_pay"].as_str().unwrap())
        .collect();
    assert_eq!(gross, ["1600.00", "-1600.00"]);
    assert_problem(
        &app.post(&p(&format!("/payroll-runs/{run}/void")), &admin, &json!({}))
            .await,
        409,
        "conflict",
    );
    // Audited.
    let audits = count(
        &app,
        "SELECT count(*) FROM audit_events WHERE entity = 'payroll_run' AND entity_id = ($1::uuid)::text",
        run,
    )
    .await;
    assert_eq!(audits, 4); // create, calculate, approve, pay
    let rev_audits = count(
        &app,
        "SELECT count(*) FROM audit_events WHERE entity = 'payroll_run' AND action = 'reverse' AND entity_id = ($1::uuid)::text",
        id_of(&rev),
    )
    .await;
    assert_eq!(rev_audits, 1);
    app.cleanup().await;
}

/// The `api-runs` function's router has no in-process fallback: without `QUEUE_URL` (unset in
/// the test environment) calculating is a 503 naming it and changes nothing; with a queue
/// installed the same router calculates.
#[tokio::test]
async fn the_function_router_needs_a_queue_and_changes_nothing_without_one() {
    assert!(
        std::env::var_os("QUEUE_URL").is_none(),
        "QUEUE_URL must be unset for this test"
    );
    let mut app = TestApp::spawn().await;
    let s = setup(&app).await;
    app.router = payroll_api::app_with(
        app.state.clone(),
        payroll_api::routes::runs::function_router(),
    );
    let run = create_run(&app, &s).await;
    let r = calculate(&app, run, &app.admin()).await;
    assert_problem(&r, 503, "unavailable");
    assert!(r.text.contains("QUEUE_URL"), "{}", r.text);
    let v = ok(
        app.get(&p(&format!("/payroll-runs/{run}")), &app.admin())
            .await,
        200,
    )
    .await;
    assert_eq!(v["status"], "draft");
    assert_eq!(item_count(&app, run).await, 0);

    // A queue (here: one this test drains by hand) makes the same router calculate.
    let queue = InProcessQueue::new();
    payroll_api::routes::runs::install_queue(&app.state, queue.clone());
    let r = calculate(&app, run, &app.admin()).await;
    assert_eq!(ok(r, 202).await["status"], "calculating");
    let deliveries = queue.receive(10, Duration::from_millis(100)).await.unwrap();
    let employees: usize = deliveries.iter().map(|d| d.chunk.employee_ids.len()).sum();
    assert_eq!(employees, 3);
    app.cleanup().await;
}

#[tokio::test]
async fn a_time_entry_changed_after_calculation_blocks_approval_until_recalculated() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let s = setup(&app).await;
    let run = create_run(&app, &s).await;
    ok(calculate(&app, run, &admin).await, 202).await;
    let v = wait_calculated(&app, run).await;
    let hash = v["calc_hash"].as_str().unwrap().to_owned();
    // Re-send one entry with more hours (idempotent by external_id: an update).
    ok(
        app.post(
            &p("/time-entries/batch"),
            &admin,
            &json!({"entries": [{"external_id": "cy-2025-01-06", "employee_id": s.cy,
                                 "date": "2025-01-06", "hours": "9"}]}),
        )
        .await,
        200,
    )
    .await;
    assert_problem(
        &approve(&app, run, Some(&hash)).await,
        412,
        "inputs_changed",
    );
    assert_eq!(
        app.get(&p(&format!("/payroll-runs/{run}")), &admin)
            .await
            .json["status"],
        "calculated"
    );
    ok(calculate(&app, run, &admin).await, 202).await;
    let v2 = wait_calculated(&app, run).await;
    let hash2 = v2["calc_hash"].as_str().unwrap().to_owned();
    assert_ne!(hash, hash2);
    let cy = app
        .get(&p(&format!("/payroll-runs/{run}/items/{}", s.cy)), &admin)
        .await;
    // 81 h: Monday's 9th hour is California daily overtime: 80 × 20.00 + 1 × 30.00.
    assert_eq!(cy.json["gross_pay"], "1630.00");
    assert_problem(
        &approve(&app, run, Some(&hash)).await,
        412,
        "stale_calc_hash",
    );
    assert_eq!(approve(&app, run, Some(&hash2)).await.status, 200);
    app.cleanup().await;
}

#[tokio::test]
async fn two_concurrent_approvals_exactly_one_succeeds() {
    let app = TestApp::spawn().await;
    let s = setup(&app).await;
    let run = create_run(&app, &s).await;
    ok(calculate(&app, run, &app.admin()).await, 202).await;
    let hash = wait_calculated(&app, run).await["calc_hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let (a, b) = tokio::join!(
        approve(&app, run, Some(&hash)),
        approve(&app, run, Some(&hash))
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", a.text, b.text);
    app.cleanup().await;
}

#[tokio::test]
async fn duplicated_and_concurrent_chunks_give_one_result_per_employee() {
    let app = TestApp::spawn().await;
    let s = setup(&app).await;
    let run = create_run(&app, &s).await;
    // Our own queue, not consumed by any worker: we deliver by hand.
    let queue = InProcessQueue::new();
    let started = payroll_runs::calculate(&app.db, queue.as_ref(), app.tenant, run, 2, "test")
        .await
        .unwrap();
    assert_eq!(started.total, 3);
    let deliveries = queue.receive(10, Duration::from_millis(100)).await.unwrap();
    assert_eq!(deliveries.len(), 2); // chunks of 2 and 1
    // Two workers on the first chunk at once, then the same message again.
    let c0 = &deliveries[0].chunk;
    let (x, y) = tokio::join!(
        payroll_runs::process_chunk(&app.db, c0),
        payroll_runs::process_chunk(&app.db, c0)
    );
    let stored: Vec<u64> = [x.unwrap(), y.unwrap()]
        .iter()
        .map(|o| match o {
            payroll_runs::ChunkOutcome::Stored { items, .. } => *items,
            payroll_runs::ChunkOutcome::Skipped => 0,
        })
        .collect();
    assert_eq!(stored.iter().sum::<u64>(), 2, "{stored:?}");
    let again = payroll_runs::process_chunk(&app.db, c0).await.unwrap();
    assert_eq!(
        again,
        payroll_runs::ChunkOutcome::Stored {
            items: 0,
            completed: false
        }
    );
    let last = payroll_runs::process_chunk(&app.db, &deliveries[1].chunk)
        .await
        .unwrap();
    assert_eq!(
        last,
        payroll_runs::ChunkOutcome::Stored {
            items: 1,
            completed: true
        }
    );
    let v = wait_calculated(&app, run).await;
    assert_eq!(v["progress"], json!({"total": 3, "done": 3, "failed": 0}));
    // A redelivery after completion changes nothing.
    assert_eq!(
        payroll_runs::process_chunk(&app.db, c0).await.unwrap(),
        payroll_runs::ChunkOutcome::Skipped
    );
    let after = app
        .get(&p(&format!("/payroll-runs/{run}")), &app.admin())
        .await
        .json;
    assert_eq!(after["calc_hash"], v["calc_hash"]);
    assert_eq!(after["totals"], v["totals"]);
    assert_eq!(item_count(&app, run).await, 3);
    // The SQL hash is the domain's canonical hash.
    let tx = app.db.tenant_tx(app.tenant).await.unwrap();
    let lines: Vec<(String, String, String)> = tx
        .client()
        .query(
            "SELECT employee_id::text, input_hash, result_hash FROM payroll_run_items WHERE run_id = $1",
            &[&run],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    drop(tx);
    assert_eq!(v["calc_hash"], payroll_runs::run_hash(&lines));
    app.cleanup().await;
}

#[tokio::test]
async fn a_chunk_that_keeps_failing_marks_its_employees_failed_and_blocks_approval() {
    let app = TestApp::spawn().await;
    let s = setup(&app).await;
    let run = create_run(&app, &s).await;
    let queue = InProcessQueue::new();
    payroll_runs::calculate(&app.db, queue.as_ref(), app.tenant, run, 2, "test")
        .await
        .unwrap();
    let d = queue.receive(10, Duration::from_millis(100)).await.unwrap();
    payroll_runs::process_chunk(&app.db, &d[1].chunk)
        .await
        .unwrap();
    payroll_runs::fail_chunk(&app.db, &d[0].chunk, "database timeout")
        .await
        .unwrap();
    let v = wait_calculated(&app, run).await;
    assert_eq!(v["status"], "calculated");
    assert_eq!(v["progress"], json!({"total": 3, "done": 1, "failed": 2}));
    assert!(v["error"].as_str().unwrap().contains("database timeout"));
    let failed = app
        .get(
            &p(&format!("/payroll-runs/{run}/items?status=failed")),
            &app.admin(),
        )
        .await;
    assert_eq!(failed.json["items"].as_array().unwrap().len(), 2);
    assert!(
        failed.json["items"][0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("database timeout")
    );
    let hash = v["calc_hash"].as_str().unwrap();
    assert_problem(&approve(&app, run, Some(hash)).await, 409, "conflict");
    app.cleanup().await;
}

#[tokio::test]
async fn redis_streams_with_two_workers_completes_the_run() {
    let app = TestApp::spawn().await;
    let s = setup(&app).await;
    let run = create_run(&app, &s).await;
    let stream = format!("test:run-chunks:{}", Uuid::new_v4().simple());
    let url = payroll_api::testing::redis_url();
    let mk = |name: &'static str| {
        let (url, stream) = (url.clone(), stream.clone());
        async move {
            payroll_queue::RedisStreamsQueue::connect(
                &url,
                &stream,
                "g",
                name,
                Duration::from_secs(30),
            )
            .await
            .unwrap()
        }
    };
    let producer: std::sync::Arc<dyn JobQueue> = std::sync::Arc::new(mk("api").await);
    payroll_api::routes::runs::install_queue(&app.state, producer);
    let (stop, rx) = tokio::sync::watch::channel(false);
    let mut workers = Vec::new();
    for name in ["w1", "w2"] {
        let q: std::sync::Arc<dyn JobQueue> = std::sync::Arc::new(mk(name).await);
        let cfg = payroll_runs::worker::WorkerConfig {
            concurrency: 1,
            poll: Duration::from_millis(100),
            ..Default::default()
        };
        workers.push(tokio::spawn(payroll_runs::worker::run(
            app.db.clone(),
            q,
            cfg,
            rx.clone(),
        )));
    }
    ok(calculate(&app, run, &app.admin()).await, 202).await;
    let v = wait_calculated(&app, run).await;
    assert_eq!(v["status"], "calculated");
    assert_eq!(v["progress"], json!({"total": 3, "done": 3, "failed": 0}));
    stop.send(true).unwrap();
    for w in workers {
        w.await.unwrap();
    }
    let client = redis::Client::open(url).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let len: usize = redis::cmd("XLEN")
        .arg(&stream)
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(len, 0); // every chunk acknowledged and removed
    let _: () = redis::cmd("DEL")
        .arg(&stream)
        .query_async(&mut c)
        .await
        .unwrap();
    app.cleanup().await;
}
