//! The scheduler's beat (`payroll_runs::scheduler`) against real PostgreSQL and Redis: drafts
//! for due periods, once, in each tenant; auto-calculation after the period ends; stuck runs
//! re-driven from PostgreSQL (and given up after the limit); and a run in flight on Redis
//! Streams surviving a wipe of its stream, every employee calculated exactly once.

use crate::common::TestApp;
use chrono::NaiveDate;
use http::Method;
use payroll_api::auth::Role;
use payroll_queue::{InProcessQueue, JobQueue, RedisStreamsQueue};
use payroll_runs::scheduler::{BeatConfig, BeatReport, beat};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

fn p(path: &str) -> String {
    format!("/api/payroll/v1{path}")
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

async fn ok(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
    status: u16,
) -> Value {
    let r = app
        .call(method.clone(), &p(path), Some(token), body, &[])
        .await;
    assert_eq!(r.status.as_u16(), status, "{method} {path}: {}", r.text);
    r.json
}

fn uuid(v: &Value) -> Uuid {
    Uuid::parse_str(v["id"].as_str().unwrap()).unwrap()
}

/// A biweekly schedule (periods from Monday 2025-01-06, paid 5 days after the end: 2025-01-24,
/// 2025-02-07, ...) in `tenant`, and `employees` hourly CA employees with 8 h on each weekday of
/// the first period. Returns (schedule, employees).
async fn setup(app: &TestApp, token: &str, employees: usize) -> (Uuid, Vec<Uuid>) {
    let address = json!({"line1": "1 Market St", "city": "San Francisco", "state": "CA", "postal_code": "94105"});
    ok(
        app,
        token,
        Method::PUT,
        "/company",
        Some(&json!({"legal_name": "Beat Bistro", "address": address, "workweek_start": "monday"})),
        200,
    )
    .await;
    let loc = uuid(&ok(app, token, Method::POST, "/locations",
        Some(&json!({"name": "SF", "state": "CA", "locality": "San Francisco", "address": address})), 201).await);
    let schedule = uuid(
        &ok(
            app,
            token,
            Method::POST,
            "/pay-schedules",
            Some(&json!({"name": "Biweekly", "frequency": "biweekly",
                     "first_period_start": "2025-01-06", "pay_date_offset_days": 5})),
            201,
        )
        .await,
    );
    let mut ids = Vec::new();
    let mut entries = Vec::new();
    for i in 0..employees {
        let e = uuid(&ok(app, token, Method::POST, "/employees",
            Some(&json!({"first_name": format!("E{i}"), "last_name": "Beat", "hire_date": "2024-06-01",
                "location_id": loc, "pay_schedule_id": schedule, "pay_type": "hourly",
                "hourly_rate": format!("{}.00", 18 + i), "resident_state": "CA"})), 201).await);
        for d in [6, 7, 8, 9, 10, 13, 14, 15, 16, 17] {
            let date = format!("2025-01-{d:02}");
            entries.push(json!({"external_id": format!("{e}-{date}"), "employee_id": e, "date": date, "hours": "8"}));
        }
        ids.push(e);
    }
    if !entries.is_empty() {
        ok(
            app,
            token,
            Method::POST,
            "/time-entries/batch",
            Some(&json!({"entries": entries})),
            200,
        )
        .await;
    }
    (schedule, ids)
}

async fn runs_of(app: &TestApp, token: &str) -> Vec<Value> {
    ok(
        app,
        token,
        Method::GET,
        "/payroll-runs?limit=100",
        None,
        200,
    )
    .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn wait_calculated(app: &TestApp, run: Uuid) -> Value {
    for _ in 0..600 {
        let v = ok(
            app,
            &app.admin(),
            Method::GET,
            &format!("/payroll-runs/{run}"),
            None,
            200,
        )
        .await;
        if v["status"] != "calculating" {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("run {run} still calculating");
}

/// A queue worked by an in-process worker (stops when the test ends).
fn worked_queue(app: &TestApp) -> Arc<dyn JobQueue> {
    let q: Arc<dyn JobQueue> = InProcessQueue::new();
    payroll_runs::worker::spawn_in_process(app.db.clone(), q.clone(), Default::default());
    q
}

async fn sql(app: &TestApp, statement: &str, run: Uuid) {
    let c = app.db.client().await.unwrap();
    c.execute(statement, &[&run]).await.unwrap();
}

fn config(lead_days: u32, auto_calculate: bool) -> BeatConfig {
    BeatConfig {
        lead_days,
        auto_calculate,
        ..BeatConfig::default()
    }
}

#[tokio::test]
async fn drafts_are_created_once_per_due_period_in_every_tenant() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    let other = app.token_for(app.other_tenant, Role::PayrollAdmin, None);
    let (schedule, _) = setup(&app, &admin, 1).await;
    let (other_schedule, _) = setup(&app, &other, 0).await;
    // An inactive schedule gets nothing.
    let inactive = ok(
        &app,
        &admin,
        Method::POST,
        "/pay-schedules",
        Some(
            &json!({"name": "Old", "frequency": "weekly", "first_period_start": "2025-01-06",
                     "pay_date_offset_days": 0, "active": false}),
        ),
        201,
    )
    .await;
    let q = worked_queue(&app);

    // 2025-01-10: the first pay date (01-24) is 14 days away: nothing with 3 lead days.
    let r = beat(&app.db, q.as_ref(), &config(3, false), day("2025-01-10"))
        .await
        .unwrap();
    assert!(r.tenants >= 2);
    assert!(r.created.is_empty() && r.errors.is_empty(), "{r:?}");
    assert!(runs_of(&app, &admin).await.is_empty());

    // 2025-01-21: 01-24 is within 3 days: one draft per tenant, in that tenant.
    let r = beat(&app.db, q.as_ref(), &config(3, false), day("2025-01-21"))
        .await
        .unwrap();
    assert!(r.errors.is_empty(), "{r:?}");
    let mut made: Vec<(Uuid, Uuid, String)> = r
        .created
        .iter()
        .map(|c| (c.tenant_id, c.pay_schedule_id, c.period_start.to_string()))
        .collect();
    made.sort();
    let mut want = vec![
        (app.tenant, schedule, "2025-01-06".to_owned()),
        (app.other_tenant, other_schedule, "2025-01-06".to_owned()),
    ];
    want.sort();
    assert_eq!(made, want);
    assert!(r.created.iter().all(|c| c.pay_date == day("2025-01-24")));
    let mine = runs_of(&app, &admin).await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["status"], "draft");
    assert_eq!(mine[0]["type"], "regular");
    assert_eq!(mine[0]["pay_schedule_id"], schedule.to_string());
    assert_ne!(mine[0]["pay_schedule_id"], inactive["id"]);
    assert_eq!(runs_of(&app, &other).await.len(), 1);
    let audit = ok(
        &app,
        &admin,
        Method::GET,
        "/audit-events?entity=payroll_run",
        None,
        200,
    )
    .await;
    assert_eq!(audit["items"][0]["actor"], "scheduler", "{audit}");

    // The same beat again, and a wider window later that still covers 01-24: nothing new.
    for (today, lead) in [("2025-01-21", 3), ("2025-01-22", 2)] {
        let r = beat(&app.db, q.as_ref(), &config(lead, false), day(today))
            .await
            .unwrap();
        assert!(r.created.is_empty(), "{r:?}");
    }
    // A draft someone voided is not created again.
    let run = uuid(&mine[0]);
    ok(
        &app,
        &admin,
        Method::POST,
        &format!("/payroll-runs/{run}/void"),
        Some(&json!({})),
        200,
    )
    .await;
    let r = beat(&app.db, q.as_ref(), &config(3, false), day("2025-01-21"))
        .await
        .unwrap();
    assert!(r.created.is_empty(), "{r:?}");
    // Twenty days ahead: the next period (paid 02-07) joins; 01-24's is still not duplicated.
    let r = beat(&app.db, q.as_ref(), &config(20, false), day("2025-01-21"))
        .await
        .unwrap();
    let starts: Vec<String> = r
        .created
        .iter()
        .filter(|c| c.tenant_id == app.tenant)
        .map(|c| c.period_start.to_string())
        .collect();
    assert_eq!(starts, ["2025-01-20"]);
    // The database holds one active regular run per period whatever happens.
    let c = app.db.client().await.unwrap();
    let dup: i64 = c
        .query_one(
            "SELECT count(*) FROM (SELECT 1 FROM payroll_runs WHERE type = 'regular'
               AND status NOT IN ('voided', 'failed')
             GROUP BY tenant_id, pay_schedule_id, period_start HAVING count(*) > 1) d",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(dup, 0);
    app.cleanup().await;
}

#[tokio::test]
async fn auto_calculation_waits_for_the_end_of_the_period() {
    let app = TestApp::spawn().await;
    let admin = app.admin();
    setup(&app, &admin, 3).await;
    let q = worked_queue(&app);
    // 2025-01-17: the period (to 01-19) has not ended: a draft, not calculated.
    let r = beat(&app.db, q.as_ref(), &config(7, true), day("2025-01-17"))
        .await
        .unwrap();
    assert_eq!(r.created.len(), 1);
    assert!(r.calculated.is_empty(), "{r:?}");
    // 2025-01-20: ended, pay date within 7 days: calculated through the queue.
    let r = beat(&app.db, q.as_ref(), &config(7, true), day("2025-01-20"))
        .await
        .unwrap();
    assert!(r.created.is_empty());
    assert_eq!(r.calculated.len(), 1, "{r:?}");
    let v = wait_calculated(&app, r.calculated[0].run_id).await;
    assert_eq!(v["status"], "calculated", "{v}");
    assert_eq!(v["progress"], json!({"total": 3, "done": 3, "failed": 0}));
    // Calculated runs are not calculated again.
    let r = beat(&app.db, q.as_ref(), &config(7, true), day("2025-01-20"))
        .await
        .unwrap();
    assert!(r.calculated.is_empty() && r.created.is_empty(), "{r:?}");
    app.cleanup().await;
}

/// A queue that accepts chunks and loses them (a crash between commit and enqueue, an expired
/// message, a wiped broker): only PostgreSQL still knows the work.
async fn calculating_with_lost_chunks(app: &TestApp, schedule: Uuid) -> Uuid {
    let run = uuid(
        &ok(
            app,
            &app.admin(),
            Method::POST,
            "/payroll-runs",
            Some(&json!({"pay_schedule_id": schedule, "period_start": "2025-01-06"})),
            201,
        )
        .await,
    );
    let lost = InProcessQueue::new();
    payroll_runs::calculate(&app.db, lost.as_ref(), app.tenant, run, 2, "test")
        .await
        .unwrap();
    run
}

#[tokio::test]
async fn a_stuck_run_is_redriven_and_given_up_after_the_limit() {
    let app = TestApp::spawn().await;
    let (schedule, employees) = setup(&app, &app.admin(), 3).await;
    let run = calculating_with_lost_chunks(&app, schedule).await;
    let q = worked_queue(&app);
    let cfg = BeatConfig {
        stuck_after: Duration::from_secs(600),
        max_redrives: 1,
        chunk_size: 2,
        ..config(0, false)
    };
    // Moving recently: not stuck.
    let r = beat(&app.db, q.as_ref(), &cfg, day("2025-01-01"))
        .await
        .unwrap();
    assert!(r.redriven.is_empty(), "{r:?}");
    // No progress for an hour: its three pending employees are enqueued again, in 2 chunks.
    sql(
        &app,
        "UPDATE payroll_runs SET updated_at = now() - interval '1 hour' WHERE id = $1",
        run,
    )
    .await;
    let r = beat(&app.db, q.as_ref(), &cfg, day("2025-01-01"))
        .await
        .unwrap();
    assert_eq!(r.redriven.len(), 1, "{r:?}");
    let d = &r.redriven[0];
    assert_eq!(
        (d.run_id, d.employees, d.chunks, d.previous),
        (run, 3, 2, 0)
    );
    let v = wait_calculated(&app, run).await;
    assert_eq!(
        v["progress"],
        json!({"total": 3, "done": 3, "failed": 0}),
        "{v}"
    );
    let audit = ok(
        &app,
        &app.admin(),
        Method::GET,
        "/audit-events?entity=payroll_run",
        None,
        200,
    )
    .await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "redrive"
                && e["actor"] == "scheduler"
                && e["after"]["employees"] == 3),
        "{audit}"
    );

    // Calculate again into the void; re-drive once into the void; the next beat gives up:
    // the employees are failed with the reason and the run completes (approval then refuses).
    let lost = InProcessQueue::new();
    payroll_runs::calculate(&app.db, lost.as_ref(), app.tenant, run, 2, "test")
        .await
        .unwrap();
    sql(
        &app,
        "UPDATE payroll_runs SET updated_at = now() - interval '1 hour' WHERE id = $1",
        run,
    )
    .await;
    let r = beat(&app.db, lost.as_ref(), &cfg, day("2025-01-01"))
        .await
        .unwrap();
    assert_eq!(r.redriven.len(), 1);
    sql(
        &app,
        "UPDATE payroll_runs SET updated_at = now() - interval '1 hour' WHERE id = $1",
        run,
    )
    .await;
    let r = beat(&app.db, q.as_ref(), &cfg, day("2025-01-01"))
        .await
        .unwrap();
    assert!(r.redriven.is_empty(), "{r:?}");
    assert_eq!(r.gave_up.len(), 1);
    assert_eq!((r.gave_up[0].employees, r.gave_up[0].previous), (3, 1));
    let v = ok(
        &app,
        &app.admin(),
        Method::GET,
        &format!("/payroll-runs/{run}"),
        None,
        200,
    )
    .await;
    assert_eq!(v["status"], "calculated");
    assert_eq!(v["progress"], json!({"total": 3, "done": 0, "failed": 3}));
    assert!(v["error"].as_str().unwrap().contains("re-drive"), "{v}");
    let items = ok(
        &app,
        &app.admin(),
        Method::GET,
        &format!("/payroll-runs/{run}/items?status=failed"),
        None,
        200,
    )
    .await;
    assert_eq!(items["items"].as_array().unwrap().len(), employees.len());
    app.cleanup().await;
}

/// Every item's (employee, xmin, result_hash): xmin changes whenever PostgreSQL rewrites a row.
async fn item_versions(
    app: &TestApp,
    run: Uuid,
) -> BTreeMap<Uuid, (String, Option<String>, String)> {
    let c = app.db.client().await.unwrap();
    c.query(
        "SELECT employee_id, xmin::text, result_hash, status FROM payroll_run_items WHERE run_id = $1",
        &[&run],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3))))
    .collect()
}

/// Receive and handle chunks until the run is calculated; returns the employees of every chunk
/// that stored results.
async fn work_until_calculated(app: &TestApp, q: &RedisStreamsQueue, run: Uuid) -> Vec<Uuid> {
    let mut stored = Vec::new();
    for _ in 0..200 {
        for d in q.receive(1, Duration::from_millis(100)).await.unwrap() {
            if let payroll_runs::ChunkOutcome::Stored { items, .. } =
                payroll_runs::process_chunk(&app.db, &d.chunk)
                    .await
                    .unwrap()
            {
                assert_eq!(items as usize, d.chunk.employee_ids.len());
                stored.extend(d.chunk.employee_ids.iter().copied());
            }
            q.ack(&d).await.unwrap();
        }
        let v = ok(
            app,
            &app.admin(),
            Method::GET,
            &format!("/payroll-runs/{run}"),
            None,
            200,
        )
        .await;
        if v["status"] == "calculated" {
            return stored;
        }
    }
    panic!("run {run} never completed");
}

#[tokio::test]
async fn a_run_in_flight_survives_a_redis_wipe() {
    let app = TestApp::spawn().await;
    let (schedule, employees) = setup(&app, &app.admin(), 4).await;
    let url = payroll_api::testing::redis_url();
    let stream = format!("test:wipe:{}", Uuid::new_v4().simple());
    let connect = |name: &'static str| {
        RedisStreamsQueue::connect(&url, &stream, "workers", name, Duration::from_secs(30))
    };
    let producer = connect("api").await.unwrap();
    let consumer = connect("w1").await.unwrap();

    // Calculate in chunks of one employee; one chunk is processed, then Redis loses everything.
    let run = uuid(
        &ok(
            &app,
            &app.admin(),
            Method::POST,
            "/payroll-runs",
            Some(&json!({"pay_schedule_id": schedule, "period_start": "2025-01-06"})),
            201,
        )
        .await,
    );
    payroll_runs::calculate(&app.db, &producer, app.tenant, run, 1, "test")
        .await
        .unwrap();
    let first = consumer.receive(1, Duration::from_secs(2)).await.unwrap();
    assert_eq!(first.len(), 1);
    payroll_runs::worker::handle(&app.db, &consumer, &first[0], 5).await;
    let done_before: Vec<Uuid> = first[0].chunk.employee_ids.clone();
    let before = item_versions(&app, run).await;
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let deleted: i64 = redis::cmd("DEL")
        .arg(&stream)
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(
        deleted, 1,
        "the stream (with its group and 3 pending chunks) is gone"
    );

    // Workers find nothing (their group is re-created on an empty stream); the run is stuck.
    assert!(
        consumer
            .receive(1, Duration::from_millis(200))
            .await
            .unwrap()
            .is_empty()
    );
    let v = ok(
        &app,
        &app.admin(),
        Method::GET,
        &format!("/payroll-runs/{run}"),
        None,
        200,
    )
    .await;
    assert_eq!(v["status"], "calculating");
    assert_eq!(v["progress"]["done"], 1);

    // The beat re-drives exactly the employees PostgreSQL still has pending.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let cfg = BeatConfig {
        stuck_after: Duration::from_secs(1),
        chunk_size: 1,
        ..config(0, false)
    };
    let r: BeatReport = beat(&app.db, &producer, &cfg, day("2025-01-01"))
        .await
        .unwrap();
    assert_eq!(r.redriven.len(), 1, "{r:?}");
    assert_eq!((r.redriven[0].employees, r.redriven[0].chunks), (3, 3));

    let stored = work_until_calculated(&app, &consumer, run).await;
    let v = ok(
        &app,
        &app.admin(),
        Method::GET,
        &format!("/payroll-runs/{run}"),
        None,
        200,
    )
    .await;
    assert_eq!(
        v["progress"],
        json!({"total": 4, "done": 4, "failed": 0}),
        "{v}"
    );
    // Exactly once: the employee done before the wipe was not rewritten, each other employee
    // was stored by exactly one chunk, and together they are everyone.
    let after = item_versions(&app, run).await;
    for e in &done_before {
        assert_eq!(before[e], after[e], "rewritten after the wipe");
    }
    let mut all: Vec<Uuid> = done_before.iter().chain(stored.iter()).copied().collect();
    all.sort();
    let mut want = employees.clone();
    want.sort();
    assert_eq!(all, want);
    assert!(
        after
            .values()
            .all(|(_, h, s)| s == "calculated" && h.is_some())
    );

    // The results are those of an undisturbed calculation: calculating again (in-process)
    // reproduces the same calc_hash.
    let hash = v["calc_hash"].as_str().unwrap().to_owned();
    let q = worked_queue(&app);
    payroll_runs::calculate(&app.db, q.as_ref(), app.tenant, run, 500, "test")
        .await
        .unwrap();
    let again = wait_calculated(&app, run).await;
    assert_eq!(again["calc_hash"], hash.as_str());

    let len: usize = redis::cmd("XLEN")
        .arg(&stream)
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(len, 0, "every re-driven chunk acknowledged");
    let _: () = redis::cmd("DEL")
        .arg(&stream)
        .query_async(&mut c)
        .await
        .unwrap();
    app.cleanup().await;
}
