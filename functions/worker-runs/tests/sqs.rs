//! The SQS-triggered worker fed real SQS event JSON (events/*.json) against a real PostgreSQL
//! database: a batch of chunks calculates the run; in a batch with an unreadable record exactly
//! that record is reported in `batchItemFailures`; the same message delivered twice (in one
//! batch and again later) gives one result per employee; a chunk that keeps failing is retried
//! and, on its last allowed delivery, its employees are marked failed and SQS is told to stop.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Context, LambdaEvent};
use payroll_api::testing::TestApp;
use payroll_queue::{Chunk, InProcessQueue, JobQueue};
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;
use worker_runs::{RecordOutcome, Worker};

fn p(path: &str) -> String {
    format!("/api/payroll/v1{path}")
}

async fn created(app: &TestApp, path: &str, body: Value) -> Uuid {
    let r = app.post(&p(path), &app.admin(), &body).await;
    assert_eq!(r.status, 201, "{path}: {}", r.text);
    Uuid::parse_str(r.json["id"].as_str().unwrap()).unwrap()
}

/// A CA restaurant with a biweekly schedule, three hourly employees and two weeks of time entries
/// (all through the API), and a draft run for the first period. Returns the run id.
async fn draft_run(app: &TestApp) -> Uuid {
    let admin = app.admin();
    let r = app
        .put(
            &p("/company"),
            &admin,
            &json!({"legal_name": "Queue Bistro LLC", "ein": "12-3456789",
                    "address": {"line1": "1 Market St", "city": "San Francisco", "state": "CA", "postal_code": "94105"},
                    "workweek_start": "monday",
                    "sui": {"CA": {"rate": "0.034", "wage_base": "7000.00"}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let loc = created(
        app,
        "/locations",
        json!({"name": "SF", "state": "CA", "locality": "San Francisco",
               "address": {"line1": "1 Market St", "city": "San Francisco", "state": "CA", "postal_code": "94105"}}),
    )
    .await;
    let schedule = created(
        app,
        "/pay-schedules",
        json!({"name": "Biweekly", "frequency": "biweekly",
               "first_period_start": "2025-01-06", "pay_date_offset_days": 5}),
    )
    .await;
    let mut entries = Vec::new();
    for (i, rate) in ["18.00", "21.50", "25.00"].iter().enumerate() {
        let emp = created(
            app,
            "/employees",
            json!({"first_name": format!("Cook{i}"), "last_name": "Line", "hire_date": "2024-03-01",
                   "location_id": loc, "pay_schedule_id": schedule, "pay_type": "hourly",
                   "hourly_rate": rate, "resident_state": "CA",
                   "federal_w4": {"form": "2020", "filing_status": "single"}}),
        )
        .await;
        for day in [6, 7, 8, 9, 10, 13, 14, 15, 16, 17] {
            let date = format!("2025-01-{day:02}");
            entries.push(
                json!({"external_id": format!("{emp}-{date}"), "employee_id": emp,
                                "date": date, "hours": format!("{}", 7 + (day + i) % 3)}),
            );
        }
    }
    let r = app
        .post(
            &p("/time-entries/batch"),
            &admin,
            &json!({ "entries": entries }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    created(
        app,
        "/payroll-runs",
        json!({"pay_schedule_id": schedule, "period_start": "2025-01-06"}),
    )
    .await
}

/// Start the calculation with chunks of two employees (3 employees: two chunks) onto a queue
/// nobody consumes, and return the chunks — what the API would have sent to SQS.
async fn start(app: &TestApp, run: Uuid) -> Vec<Chunk> {
    let queue = InProcessQueue::new();
    payroll_runs::calculate(&app.db, queue.as_ref(), app.tenant, run, 2, "test")
        .await
        .unwrap();
    let d = queue.receive(10, Duration::from_millis(100)).await.unwrap();
    assert_eq!(d.len(), 2);
    d.into_iter().map(|d| d.chunk).collect()
}

/// An event fixture with the chunks' JSON as message bodies.
fn event(file: &str, chunks: &[Chunk], receive_count: u32) -> SqsEvent {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("events")
        .join(file);
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (i, c) in chunks.iter().enumerate() {
        // The body is a JSON string inside the event: insert the chunk's JSON escaped.
        let escaped = serde_json::to_string(&serde_json::to_string(c).unwrap()).unwrap();
        text = text.replace(&format!("\"{{{{CHUNK_{i}}}}}\""), &escaped);
    }
    text = text.replace("{{RECEIVE_COUNT}}", &receive_count.to_string());
    assert!(!text.contains("{{"), "{file}: a placeholder is left");
    serde_json::from_str(&text).unwrap()
}

async fn invoke(worker: &Worker, ev: SqsEvent) -> Value {
    let resp = worker
        .handle(LambdaEvent::new(ev, Context::default()))
        .await
        .unwrap();
    serde_json::to_value(resp).unwrap()
}

fn worker(app: &TestApp) -> Worker {
    Worker {
        db: app.db.clone(),
        max_deliveries: 5,
    }
}

async fn run_json(app: &TestApp, run: Uuid) -> Value {
    let r = app
        .get(&p(&format!("/payroll-runs/{run}")), &app.admin())
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json
}

/// (employee, status, result hash) of every item.
async fn items(app: &TestApp, run: Uuid) -> Vec<(Uuid, String, Option<String>)> {
    let tx = app.db.tenant_tx(app.tenant).await.unwrap();
    tx.client()
        .query(
            "SELECT employee_id, status, result_hash FROM payroll_run_items WHERE run_id = $1
              ORDER BY employee_id",
            &[&run],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

#[tokio::test]
async fn a_batch_of_chunks_calculates_the_run() {
    let app = TestApp::spawn().await;
    let run = draft_run(&app).await;
    let chunks = start(&app, run).await;
    let out = invoke(&worker(&app), event("two-chunks.json", &chunks, 1)).await;
    assert_eq!(out, json!({"batchItemFailures": []}));
    let v = run_json(&app, run).await;
    assert_eq!(v["status"], "calculated", "{v}");
    assert_eq!(v["progress"], json!({"total": 3, "done": 3, "failed": 0}));
    assert_eq!(v["calc_hash"].as_str().unwrap().len(), 64);
    let gross: rust_decimal::Decimal = v["totals"]["gross_pay"].as_str().unwrap().parse().unwrap();
    assert!(gross > rust_decimal::Decimal::ZERO, "{v}");
    app.cleanup().await;
}

#[tokio::test]
async fn only_the_unreadable_record_is_reported_failed() {
    let app = TestApp::spawn().await;
    let run = draft_run(&app).await;
    let chunks = start(&app, run).await;
    let ev = event("one-garbled.json", &chunks, 1);
    let garbled = ev.records[1].message_id.clone().unwrap();
    let w = worker(&app);
    assert!(matches!(
        w.process_record(&ev.records[1]).await,
        RecordOutcome::Unreadable { .. }
    ));
    let out = invoke(&w, ev).await;
    assert_eq!(
        out,
        json!({"batchItemFailures": [{"itemIdentifier": garbled}]})
    );
    // The two good records were stored and completed the run.
    let v = run_json(&app, run).await;
    assert_eq!(v["status"], "calculated", "{v}");
    assert_eq!(v["progress"], json!({"total": 3, "done": 3, "failed": 0}));
    app.cleanup().await;
}

#[tokio::test]
async fn the_same_message_delivered_twice_gives_one_result_per_employee() {
    let app = TestApp::spawn().await;
    let run = draft_run(&app).await;
    let chunks = start(&app, run).await;
    let w = worker(&app);
    // The same chunk twice in one batch (two messages: a producer retry), processed concurrently.
    let out = invoke(&w, event("duplicate.json", &chunks, 1)).await;
    assert_eq!(out, json!({"batchItemFailures": []}));
    let first = items(&app, run).await;
    assert_eq!(first.len(), 3);
    let stored: Vec<_> = first.iter().filter(|i| i.1 == "calculated").collect();
    assert_eq!(stored.len(), 2, "{first:?}");
    // The same messages again (a redelivery: ApproximateReceiveCount 2): nothing changes.
    let out = invoke(&w, event("duplicate.json", &chunks, 2)).await;
    assert_eq!(out, json!({"batchItemFailures": []}));
    assert_eq!(items(&app, run).await, first);
    assert_eq!(
        w.process_record(&event("last-delivery.json", &chunks, 3).records[0])
            .await,
        RecordOutcome::Done(payroll_runs::ChunkOutcome::Stored {
            items: 0,
            completed: false
        })
    );
    // The other chunk completes the run; a late duplicate after that is skipped.
    let out = invoke(&w, event("two-chunks.json", &chunks, 1)).await;
    assert_eq!(out, json!({"batchItemFailures": []}));
    let v = run_json(&app, run).await;
    assert_eq!(v["progress"], json!({"total": 3, "done": 3, "failed": 0}));
    let done = items(&app, run).await;
    assert_eq!(done.len(), 3);
    for i in &stored {
        assert!(
            done.contains(i),
            "the first chunk's results changed: {done:?}"
        );
    }
    let out = invoke(&w, event("duplicate.json", &chunks, 4)).await;
    assert_eq!(out, json!({"batchItemFailures": []}));
    assert_eq!(items(&app, run).await, done);
    assert_eq!(run_json(&app, run).await["calc_hash"], v["calc_hash"]);
    app.cleanup().await;
}

#[tokio::test]
async fn a_chunk_that_keeps_failing_is_retried_then_its_employees_are_marked_failed() {
    let app = TestApp::spawn().await;
    let run = draft_run(&app).await;
    let chunks = start(&app, run).await;
    // A storage failure for this run's results (as a full disk or a broken constraint would
    // raise), from a trigger: every attempt to store a calculated item fails.
    let (client, conn) = tokio_postgres_connect(&app).await;
    let handle = tokio::spawn(conn);
    client
        .batch_execute(&format!(
            "CREATE FUNCTION refuse_results() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$;
             CREATE TRIGGER refuse_results BEFORE UPDATE ON payroll_run_items FOR EACH ROW
               WHEN (NEW.run_id = '{run}' AND NEW.status = 'calculated')
               EXECUTE FUNCTION refuse_results();"
        ))
        .await
        .unwrap();
    let w = worker(&app);
    // Deliveries 1..4: reported failed each time, so SQS delivers the record again.
    for n in 1..5 {
        let ev = event("last-delivery.json", &chunks, n);
        let id = ev.records[0].message_id.clone().unwrap();
        let out = invoke(&w, ev).await;
        assert_eq!(
            out,
            json!({"batchItemFailures": [{"itemIdentifier": id}]}),
            "delivery {n}"
        );
        assert_eq!(run_json(&app, run).await["progress"]["failed"], 0);
    }
    // Delivery 5 = max deliveries: the chunk's employees are marked failed, the record is done.
    let ev = event("last-delivery.json", &chunks, 5);
    assert!(matches!(
        w.process_record(&ev.records[0]).await,
        RecordOutcome::GaveUp { .. }
    ));
    let out = invoke(&w, ev).await;
    assert_eq!(out, json!({"batchItemFailures": []}));
    client
        .batch_execute("DROP TRIGGER refuse_results ON payroll_run_items")
        .await
        .unwrap();
    drop(client);
    let _ = handle.await;
    // The other chunk goes through; the run completes and says two employees failed, and why.
    let out = invoke(&w, event("last-delivery.json", &chunks[1..], 1)).await;
    assert_eq!(out, json!({"batchItemFailures": []}));
    let v = run_json(&app, run).await;
    assert_eq!(v["status"], "calculated", "{v}");
    assert_eq!(v["progress"], json!({"total": 3, "done": 1, "failed": 2}));
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("No space left on device"),
        "{v}"
    );
    app.cleanup().await;
}

async fn tokio_postgres_connect(
    app: &TestApp,
) -> (
    tokio_postgres::Client,
    tokio_postgres::Connection<tokio_postgres::Socket, tokio_postgres::tls::NoTlsStream>,
) {
    let admin = payroll_api::testing::admin_url();
    let base = admin.rsplit_once('/').unwrap().0;
    tokio_postgres::connect(&format!("{base}/{}", app.db_name), tokio_postgres::NoTls)
        .await
        .unwrap()
}

/// The SQS transport end to end with the long-running consumer (`payroll worker`'s loop) on
/// moto's SQS: every chunk enqueued twice (a producer retry), one message held by a worker that
/// dies after storing its results (redelivered after the visibility timeout), two workers
/// consuming concurrently — one result per employee, the run completes, the queue drains.
#[tokio::test]
async fn sqs_with_two_workers_duplicates_and_a_redelivery_gives_one_result_per_employee() {
    let Ok(endpoint) = std::env::var("TEST_S3_ENDPOINT") else {
        eprintln!(
            "NOTE: TEST_S3_ENDPOINT is not set: skipping the SQS (moto) test; scripts/test sets it"
        );
        return;
    };
    let app = TestApp::spawn().await;
    let run = draft_run(&app).await;
    let chunks = start(&app, run).await;
    let url = format!(
        "{}/123456789012/worker-test-{}",
        endpoint.trim_end_matches('/'),
        Uuid::new_v4().simple()
    );
    let sqs = |visibility: u64| {
        let url = url.clone();
        async move {
            let mut o =
                payroll_queue::SqsOptions::for_url(&url, Duration::from_secs(visibility)).unwrap();
            o.credentials = Some(("test".into(), "test".into()));
            o.region = Some("us-east-1".into());
            o.retry_delay = Duration::ZERO;
            payroll_queue::SqsQueue::connect(o).await.unwrap()
        }
    };
    let producer = sqs(30).await;
    producer.enqueue(&chunks).await.unwrap();
    producer.enqueue(&chunks).await.unwrap();

    // A worker takes one message with a 1 s visibility timeout, stores its results, and dies
    // before deleting it.
    let doomed = sqs(1).await;
    let mut held = Vec::new();
    for _ in 0..10 {
        held = doomed.receive(1, Duration::from_secs(1)).await.unwrap();
        if !held.is_empty() {
            break;
        }
    }
    assert_eq!(held.len(), 1);
    let first = payroll_runs::process_chunk(&app.db, &held[0].chunk)
        .await
        .unwrap();
    assert!(matches!(first, payroll_runs::ChunkOutcome::Stored { items, .. } if items > 0));
    drop(doomed);

    // Two workers.
    let (stop, rx) = tokio::sync::watch::channel(false);
    let mut workers = Vec::new();
    for _ in 0..2 {
        let q: std::sync::Arc<dyn JobQueue> = std::sync::Arc::new(sqs(30).await);
        workers.push(tokio::spawn(payroll_runs::worker::run(
            app.db.clone(),
            q,
            payroll_runs::worker::WorkerConfig {
                concurrency: 2,
                poll: Duration::from_secs(1),
                ..Default::default()
            },
            rx.clone(),
        )));
    }
    let mut v = run_json(&app, run).await;
    for _ in 0..300 {
        if v["status"] != "calculating" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        v = run_json(&app, run).await;
    }
    assert_eq!(v["status"], "calculated", "{v}");
    assert_eq!(v["progress"], json!({"total": 3, "done": 3, "failed": 0}));
    // Every message — the duplicates and the one the dead worker held — is consumed and deleted.
    let mut counts = (1, 1);
    for _ in 0..100 {
        counts = payroll_queue::sqs::approximate_counts(producer.client(), &url)
            .await
            .unwrap();
        if counts == (0, 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(counts, (0, 0));
    stop.send(true).unwrap();
    for w in workers {
        w.await.unwrap();
    }
    let all = items(&app, run).await;
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|i| i.1 == "calculated"), "{all:?}");
    app.cleanup().await;
}
