//! A real `payroll worker` process on Redis Streams killed with SIGKILL in the middle of a run,
//! then a new worker started: the run completes, and every employee's result is byte-identical
//! to an undisturbed run of the same data.
//!
//! The first worker runs with the documented chaos knob `PAYROLL_CHAOS_ACK_DELAY_MS`: it holds
//! each chunk after storing its results and before acknowledging it, so the kill lands at a known
//! point — chunks received and not acknowledged (pending in the consumer group), some of their
//! results committed. The restarted worker claims those chunks after its visibility timeout
//! (XAUTOCLAIM), recalculates them (nothing is written twice: results only go over pending items
//! of the attempt) and finishes the rest.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use payroll_api::testing::{drop_database, fresh_database, redis_url};
use payroll_domain::runs::RunType;
use payroll_queue::{InProcessQueue, JobQueue, RedisStreamsQueue};
use payroll_runs::NewRun;
use payroll_store::Db;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

const EMPLOYEES: i32 = 240;
const CHUNK: usize = 40;
const SCHEDULE: Uuid = Uuid::from_u128(0xb);

/// Tipped California servers and hosts, each with a compensation, W-4s and ten shifts with cash
/// and charged tips over a biweekly period starting Monday 2025-01-06 (the data of
/// `scripts/bench run`, straight into the tables).
async fn seed(url: &str, tenant: Uuid, n: i32) {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let h = tokio::spawn(conn);
    client
        .batch_execute(&format!(
            "UPDATE company_settings SET workweek_start = 'monday',
                 sui = '{{\"CA\": {{\"rate\": \"0.034\", \"wage_base\": \"7000.00\"}}}}',
                 futa_credit_reduction = '{{\"CA\": \"0.009\"}}'
               WHERE tenant_id = '{tenant}';
             INSERT INTO locations (tenant_id, id, name, state, locality)
               VALUES ('{tenant}', '00000000-0000-0000-0000-00000000000a', 'SF', 'CA', 'San Francisco');
             INSERT INTO pay_schedules (tenant_id, id, name, frequency, first_period_start, pay_date_offset_days)
               VALUES ('{tenant}', '{SCHEDULE}', 'Biweekly', 'biweekly', '2025-01-06', 5);
             CREATE TEMP TABLE ids AS SELECT i, gen_random_uuid() AS id FROM generate_series(1, {n}) AS i;
             INSERT INTO employees (tenant_id, id, first_name, last_name, hire_date, location_id,
                 pay_schedule_id, pay_type, tipped, resident_state, job_rates)
               SELECT '{tenant}', id, 'Emp', 'No' || i, '2024-01-01',
                      '00000000-0000-0000-0000-00000000000a', '{SCHEDULE}', 'hourly', true, 'CA',
                      jsonb_build_object('server', '16.50', 'host', '17.25')
                 FROM ids;
             INSERT INTO compensations (tenant_id, id, employee_id, effective_date, pay_type, hourly_rate)
               SELECT '{tenant}', gen_random_uuid(), id, '2024-01-01', 'hourly', 16.50 + (i % 10) FROM ids;
             INSERT INTO tax_profiles (tenant_id, id, employee_id, federal_w4, state_w4)
               SELECT '{tenant}', gen_random_uuid(), id,
                      '{{\"form\": \"2020\", \"filing_status\": \"single\"}}',
                      '{{\"CA\": {{\"filing_status\": \"single\", \"allowances\": 1}}}}' FROM ids;
             INSERT INTO time_entries (tenant_id, id, external_id, employee_id, date, hours, job,
                 cash_tips, charged_tips)
               SELECT '{tenant}', gen_random_uuid(), 'e' || i || '-' || d, id, DATE '2025-01-06' + d,
                      6 + ((i + d) % 5), CASE WHEN d % 3 = 0 THEN 'host' ELSE 'server' END,
                      ((i + d) % 40)::numeric, ((i * 7 + d) % 120)::numeric + 0.25
                 FROM ids, (VALUES (0), (1), (2), (3), (4), (7), (8), (9), (10), (11)) AS days(d);"
        ))
        .await
        .unwrap();
    drop(client);
    let _ = h.await;
}

async fn new_run(db: &Db, tenant: Uuid) -> Uuid {
    let tx = db.tenant_tx(tenant).await.unwrap();
    let run = payroll_runs::create_run(
        &tx,
        &NewRun {
            pay_schedule_id: SCHEDULE,
            period_start: chrono::NaiveDate::from_ymd_opt(2025, 1, 6).unwrap(),
            kind: RunType::Regular,
            pay_date: None,
            earnings: Default::default(),
        },
        "test",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    run.id
}

async fn run_state(db: &Db, tenant: Uuid, run: Uuid) -> payroll_runs::Run {
    let tx = db.tenant_tx(tenant).await.unwrap();
    payroll_runs::engine::get_run(&tx, run).await.unwrap()
}

/// (employee, status, result JSON text, result hash, input hash, net pay) of every item.
type Item = (
    Uuid,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

async fn items(db: &Db, tenant: Uuid, run: Uuid) -> Vec<Item> {
    let tx = db.tenant_tx(tenant).await.unwrap();
    tx.client()
        .query(
            "SELECT employee_id, status, result::text, result_hash, input_hash, net_pay::text
               FROM payroll_run_items WHERE run_id = $1 ORDER BY employee_id",
            &[&run],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect()
}

async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A `payroll worker` child process, killed (SIGKILL) when dropped.
struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_worker(
    database_url: &str,
    stream: &str,
    visibility_secs: u64,
    ack_delay_ms: Option<u64>,
) -> Worker {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_payroll"));
    cmd.args([
        "worker",
        "--concurrency",
        "2",
        "--visibility-timeout",
        &visibility_secs.to_string(),
    ])
    .env("DATABASE_URL", database_url)
    .env("QUEUE_URL", redis_url())
    .env("QUEUE_STREAM", stream)
    .env_remove("QUEUE_GROUP")
    .env("RUST_LOG", "warn")
    .env_remove("PAYROLL_CHAOS_ACK_DELAY_MS")
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::inherit());
    if let Some(ms) = ack_delay_ms {
        cmd.env("PAYROLL_CHAOS_ACK_DELAY_MS", ms.to_string());
    }
    Worker(cmd.spawn().expect("start payroll worker"))
}

async fn redis_conn() -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Messages of the stream's group delivered and not acknowledged.
async fn pending(stream: &str) -> usize {
    let mut c = redis_conn().await;
    let r: redis::streams::StreamPendingReply = redis::cmd("XPENDING")
        .arg(stream)
        .arg(payroll_queue::DEFAULT_GROUP)
        .query_async(&mut c)
        .await
        .unwrap();
    r.count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_run_and_restarted_gives_results_identical_to_an_undisturbed_run() {
    let (db_name, url) = fresh_database().await;
    let db = Db::connect(&url, 6).unwrap();
    payroll_store::migrate::migrate(&db).await.unwrap();
    let tenant = payroll_store::repo::tenants::create(&db, "Crash Diner")
        .await
        .unwrap();
    seed(&url, tenant, EMPLOYEES).await;

    // 1. The undisturbed run: an in-process queue and worker.
    let reference = new_run(&db, tenant).await;
    let local: Arc<dyn JobQueue> = InProcessQueue::new();
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(payroll_runs::worker::run(
        db.clone(),
        local.clone(),
        payroll_runs::worker::WorkerConfig {
            concurrency: 2,
            poll: Duration::from_millis(100),
            ..Default::default()
        },
        rx,
    ));
    payroll_runs::calculate(&db, local.as_ref(), tenant, reference, CHUNK, "test")
        .await
        .unwrap();
    wait_for("the reference run", Duration::from_secs(300), || async {
        run_state(&db, tenant, reference).await.status.as_str() != "calculating"
    })
    .await;
    stop.send(true).unwrap();
    task.await.unwrap();
    let expected = run_state(&db, tenant, reference).await;
    assert_eq!(expected.status.as_str(), "calculated");
    assert_eq!((expected.done, expected.failed), (EMPLOYEES, 0));
    let expected_items = items(&db, tenant, reference).await;
    // Free the period for the second run (one active regular run per period).
    payroll_runs::void(&db, tenant, reference, "test")
        .await
        .unwrap();

    // 2. The same data through Redis Streams and a worker process that is killed.
    let run = new_run(&db, tenant).await;
    let stream = format!("test:worker-crash:{}", Uuid::new_v4().simple());
    let producer = RedisStreamsQueue::connect(
        &redis_url(),
        &stream,
        payroll_queue::DEFAULT_GROUP,
        "producer",
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    payroll_runs::calculate(&db, &producer, tenant, run, CHUNK, "test")
        .await
        .unwrap();
    let first = start_worker(&url, &stream, 30, Some(600_000));
    wait_for(
        "the first chunk's results",
        Duration::from_secs(300),
        || async { run_state(&db, tenant, run).await.done >= CHUNK as i32 },
    )
    .await;
    // Results stored, chunks held unacknowledged: kill -9.
    drop(first);
    let at_kill = run_state(&db, tenant, run).await;
    assert_eq!(at_kill.status.as_str(), "calculating");
    assert!(
        at_kill.done >= CHUNK as i32 && at_kill.done < EMPLOYEES,
        "done at the kill: {}",
        at_kill.done
    );
    let held = pending(&stream).await;
    assert!(
        (1..=2).contains(&held),
        "chunks held by the killed worker: {held}"
    );

    // 3. A new worker takes the killed one's chunks over after 1 s and finishes the run.
    let second = start_worker(&url, &stream, 1, None);
    wait_for(
        "the run after the restart",
        Duration::from_secs(300),
        || async { run_state(&db, tenant, run).await.status.as_str() != "calculating" },
    )
    .await;
    let got = run_state(&db, tenant, run).await;
    assert_eq!(got.status.as_str(), "calculated", "{:?}", got.error);
    assert_eq!((got.total, got.done, got.failed), (EMPLOYEES, EMPLOYEES, 0));
    // Every chunk, the killed worker's included, is acknowledged (just after its commit).
    wait_for(
        "the last acknowledgements",
        Duration::from_secs(30),
        || async { pending(&stream).await == 0 },
    )
    .await;
    drop(second);

    // 4. Identical to the undisturbed run: every result byte for byte, the hashes and totals.
    let got_items = items(&db, tenant, run).await;
    assert_eq!(got_items.len(), EMPLOYEES as usize);
    assert!(
        got_items
            .iter()
            .all(|i| i.1 == "calculated" && i.2.is_some())
    );
    assert!(got_items == expected_items, "per-employee results differ");
    assert_eq!(got.calc_hash, expected.calc_hash);
    assert_eq!(got.inputs_hash, expected.inputs_hash);
    assert_eq!(
        (
            got.gross_pay,
            got.net_pay,
            got.employee_taxes,
            got.employer_taxes
        ),
        (
            expected.gross_pay,
            expected.net_pay,
            expected.employee_taxes,
            expected.employer_taxes
        )
    );

    let mut c = redis_conn().await;
    let _: () = redis::cmd("DEL")
        .arg(&stream)
        .query_async(&mut c)
        .await
        .unwrap();
    drop(db);
    drop_database(&db_name).await;
}
