//! The handler fed a real EventBridge scheduled event (events/scheduled.json, 2025-01-20 06:00 UTC)
//! against a fresh database: the period paid 2025-01-24 gets a draft run, calculated because its
//! period ended on 01-19 and AUTO_CALCULATE is on; the period paid 2025-02-07 is too far; a
//! second delivery of the same event creates nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use job_scheduler::Job;
use lambda_runtime::{Context, LambdaEvent};
use payroll_api::testing::TestApp;
use payroll_queue::{InProcessQueue, JobQueue};
use payroll_runs::scheduler::BeatConfig;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

async fn post(app: &TestApp, path: &str, body: Value) -> Value {
    let r = app
        .post(&format!("/api/payroll/v1{path}"), &app.admin(), &body)
        .await;
    assert_eq!(r.status, 201, "{path}: {}", r.text);
    r.json
}

#[tokio::test]
async fn a_scheduled_event_creates_and_calculates_due_runs_once() {
    let app = TestApp::spawn().await;
    let schedule = post(
        &app,
        "/pay-schedules",
        json!({"name": "Biweekly", "frequency": "biweekly", "first_period_start": "2025-01-06",
               "pay_date_offset_days": 5}),
    )
    .await;
    let loc = post(
        &app,
        "/locations",
        json!({"name": "SF", "state": "CA", "locality": "San Francisco",
               "address": {"line1": "1 Market St", "city": "San Francisco", "state": "CA", "postal_code": "94105"}}),
    )
    .await;
    for name in ["Ana", "Ben"] {
        post(
            &app,
            "/employees",
            json!({"first_name": name, "last_name": "Salaried", "hire_date": "2024-06-01",
                   "location_id": loc["id"], "pay_schedule_id": schedule["id"], "pay_type": "salary",
                   "annual_salary": "52000.00", "flsa_exempt": true, "resident_state": "CA"}),
        )
        .await;
    }

    let queue: Arc<dyn JobQueue> = InProcessQueue::new();
    payroll_runs::worker::spawn_in_process(app.db.clone(), queue.clone(), Default::default());
    let job = Job {
        db: app.db.clone(),
        queue,
        config: BeatConfig::from_lookup(|k| {
            match k {
                "SCHEDULER_LEAD_DAYS" => Some("7"),
                "SCHEDULER_AUTO_CALCULATE" => Some("true"),
                _ => None,
            }
            .map(str::to_owned)
        })
        .unwrap(),
    };
    let fixture = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("events/scheduled.json"),
    )
    .unwrap();
    let event: EventBridgeEvent<Value> = serde_json::from_str(&fixture).unwrap();
    assert_eq!(event.detail_type, "Scheduled Event");

    let out = job
        .handle(LambdaEvent::new(event.clone(), Context::default()))
        .await
        .unwrap();
    assert_eq!(out["today"], "2025-01-20");
    assert_eq!(out["errors"], json!([]), "{out}");
    let created = out["created"].as_array().unwrap();
    assert_eq!(created.len(), 1, "{out}");
    assert_eq!(created[0]["tenant_id"], app.tenant.to_string());
    assert_eq!(created[0]["period_start"], "2025-01-06");
    assert_eq!(created[0]["pay_date"], "2025-01-24");
    assert_eq!(out["calculated"], out["created"]);
    let run = created[0]["run_id"].as_str().unwrap().to_owned();
    let mut status = Value::Null;
    for _ in 0..200 {
        let r = app
            .get(&format!("/api/payroll/v1/payroll-runs/{run}"), &app.admin())
            .await;
        status = r.json;
        if status["status"] != "calculating" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status["status"], "calculated", "{status}");
    assert_eq!(
        status["progress"],
        json!({"total": 2, "done": 2, "failed": 0})
    );
    assert_eq!(status["totals"]["gross_pay"], "4000.00"); // 2 × 52,000 / 26

    // EventBridge delivers at least once: the same event again changes nothing.
    let again = job
        .handle(LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    assert_eq!(again["created"], json!([]));
    assert_eq!(again["calculated"], json!([]));
    assert_eq!(again["redriven"], json!([]));
    let runs = app
        .get("/api/payroll/v1/payroll-runs", &app.admin())
        .await
        .json;
    assert_eq!(runs["items"].as_array().unwrap().len(), 1);
    app.cleanup().await;
}
