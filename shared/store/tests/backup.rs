//! Backup and restore round trips against PostgreSQL (127.0.0.1:5432 or TEST_DATABASE_URL), to
//! `file://` and to moto's S3 (TEST_S3_ENDPOINT; `scripts/test` starts moto_server).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use payroll_cloud::{ObjectStorage, S3Options, Store};
use payroll_store::Db;
use payroll_store::backup::{self, BackupError, BackupKey, Manifest, NoProgress, RestoreOptions};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio_postgres::{Client, NoTls};
use uuid::Uuid;

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

async fn connect(url: &str) -> Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .expect("connect to PostgreSQL (is it running?)");
    tokio::spawn(conn);
    client
}

/// A new empty database; dropped by `Cleanup` at the end of the test.
struct TestDb {
    name: String,
    url: String,
}

impl TestDb {
    async fn new() -> TestDb {
        let admin = connect(&admin_url()).await;
        let name = format!("t_{}", Uuid::new_v4().simple());
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let base = admin_url().rsplit_once('/').unwrap().0.to_owned();
        TestDb {
            url: format!("{base}/{name}"),
            name,
        }
    }

    async fn migrated() -> TestDb {
        let db = TestDb::new().await;
        let pool = Db::connect(&db.url, 1).unwrap();
        payroll_store::migrate::migrate(&pool).await.unwrap();
        db
    }

    async fn drop(self) {
        let admin = connect(&admin_url()).await;
        let _ = admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await;
    }
}

fn key() -> BackupKey {
    BackupKey::from_bytes(&[42u8; 32]).unwrap()
}

async fn file_store() -> (Store, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("backup-test-{}", Uuid::new_v4().simple()));
    let store = Store::from_url(&format!("file://{}", dir.display()))
        .await
        .unwrap();
    (store, dir)
}

/// moto's S3 when TEST_S3_ENDPOINT is set (a fresh bucket), else None.
async fn s3_store() -> Option<Store> {
    let Ok(endpoint) = std::env::var("TEST_S3_ENDPOINT") else {
        eprintln!(
            "NOTE: TEST_S3_ENDPOINT is not set: skipping the S3 (moto) variant; scripts/test sets it"
        );
        return None;
    };
    let bucket = format!(
        "payroll-backups-{}",
        &Uuid::new_v4().simple().to_string()[..12]
    );
    let opts = S3Options {
        endpoint: Some(endpoint),
        region: Some("us-east-1".into()),
        force_path_style: true,
        credentials: Some(("test".into(), "test".into())),
    };
    let store = Store::from_url_with(&format!("s3://{bucket}/payroll/prod"), opts)
        .await
        .unwrap();
    let Store::S3(s3) = &store else {
        unreachable!()
    };
    s3.ensure_bucket().await.unwrap();
    Some(store)
}

/// Realistic data in every table: one restaurant group with 3 locations, 200 employees (with
/// compensation, W-4s, deductions, garnishments, encrypted bank accounts), `time_entries` time
/// entries, 4 paid runs (items, stubs, YTD), audit events and idempotency records (with an
/// incompressible ~8 KiB body each, so some objects exceed one multipart part).
async fn seed(c: &Client, time_entries: i64, idempotency_rows: i64) -> Uuid {
    let t = Uuid::new_v4();
    c.execute(
        "INSERT INTO tenants (id, name) VALUES ($1, 'Harbor Street Restaurant Group')",
        &[&t],
    )
    .await
    .unwrap();
    let sql = format!(
        r#"
        INSERT INTO company_settings (tenant_id, legal_name, ein, address, sui, futa_credit_reduction)
        VALUES ('{t}', 'Harbor Street Restaurant Group LLC', '12-3456789',
                '{{"line1": "1 Pier Way", "city": "San Francisco", "state": "CA", "zip": "94105"}}',
                '{{"CA": {{"rate": "0.034", "wage_base": "7000.00"}}}}', '{{"CA": "0.009"}}');
        INSERT INTO locations (tenant_id, id, name, state, locality, address)
        SELECT '{t}', md5('{t}loc' || i)::uuid, 'Location ' || i, (ARRAY['CA','NY','TX'])[i],
               CASE WHEN i = 2 THEN 'NYC' END, jsonb_build_object('line1', i || ' Main St')
          FROM generate_series(1, 3) i;
        INSERT INTO pay_schedules (tenant_id, id, name, frequency, first_period_start, pay_date_offset_days)
        VALUES ('{t}', md5('{t}sched')::uuid, 'Biweekly', 'biweekly', '2026-01-05', 5);
        INSERT INTO employees (tenant_id, id, first_name, last_name, email, ssn_enc, ssn_last4,
                               hire_date, location_id, pay_schedule_id, pay_type, tipped,
                               overtime_rules, resident_state, home_address, job_rates)
        SELECT '{t}', md5('{t}emp' || i)::uuid, 'First' || i, 'Ö''Last-' || i,
               'emp' || i || '@example.com', decode(md5('ssn' || i) || md5('x' || i), 'hex'),
               lpad((i * 37 % 10000)::text, 4, '0'), date '2020-01-01' + i,
               md5('{t}loc' || (i % 3 + 1))::uuid, md5('{t}sched')::uuid,
               CASE WHEN i % 10 = 0 THEN 'salary' ELSE 'hourly' END, i % 3 = 0,
               CASE WHEN i % 3 = 1 THEN 'california' ELSE 'flsa' END,
               (ARRAY['CA','NY','TX'])[i % 3 + 1],
               jsonb_build_object('line1', i || E' Ocean Ave\napt "2"', 'zip', '9410' || (i % 10)),
               jsonb_build_object('server', 16.50 + i % 5, 'bartender', 18.25)
          FROM generate_series(1, 200) i;
        INSERT INTO compensations (tenant_id, id, employee_id, effective_date, pay_type, hourly_rate, annual_salary)
        SELECT '{t}', md5('{t}comp' || i)::uuid, md5('{t}emp' || i)::uuid, date '2026-01-01',
               CASE WHEN i % 10 = 0 THEN 'salary' ELSE 'hourly' END,
               CASE WHEN i % 10 = 0 THEN NULL ELSE 16.5 + (i % 7) * 0.75 END,
               CASE WHEN i % 10 = 0 THEN 62000 + i * 100 END
          FROM generate_series(1, 200) i;
        INSERT INTO tax_profiles (tenant_id, id, employee_id, federal_w4, state_w4)
        SELECT '{t}', md5('{t}tax' || i)::uuid, md5('{t}emp' || i)::uuid,
               jsonb_build_object('filing_status', 'single', 'step2', i % 2 = 0, 'dependents', '0.00'),
               jsonb_build_object('allowances', i % 3)
          FROM generate_series(1, 200) i;
        INSERT INTO deductions (tenant_id, id, employee_id, type, percent, annual_limit, start_date)
        SELECT '{t}', md5('{t}ded' || i)::uuid, md5('{t}emp' || i)::uuid, '401k', 4 + i % 3,
               23500, date '2026-01-01'
          FROM generate_series(1, 200) i;
        INSERT INTO garnishments (tenant_id, id, employee_id, type, amount, limit_percent, reference)
        SELECT '{t}', md5('{t}garn' || i)::uuid, md5('{t}emp' || i)::uuid, 'child_support', 150.00,
               50, 'Case #' || i
          FROM generate_series(1, 200, 20) i;
        INSERT INTO bank_accounts (tenant_id, id, employee_id, routing_number, account_number_enc,
                                   account_last4, account_type, split)
        SELECT '{t}', md5('{t}bank' || i)::uuid, md5('{t}emp' || i)::uuid, '021000021',
               decode(md5('acct' || i), 'hex'), lpad((i % 10000)::text, 4, '0'), 'checking', 'remainder'
          FROM generate_series(1, 200) i;
        INSERT INTO time_entries (tenant_id, id, external_id, employee_id, date, hours, clock_in,
                                  clock_out, job, rate, cash_tips, charged_tips)
        SELECT '{t}', md5('{t}te' || i)::uuid, 'pos-' || i, md5('{t}emp' || (i % 200 + 1))::uuid,
               date '2025-01-01' + (i / 200) % 700, (i % 33) * 0.25,
               CASE WHEN i % 2 = 0 THEN timestamptz '2025-01-01 16:00Z' + ((i / 200) % 700) * interval '1 day' END,
               CASE WHEN i % 2 = 0 THEN timestamptz '2025-01-01 16:00Z' + ((i / 200) % 700) * interval '1 day'
                                        + (i % 33 + 1) * interval '15 minutes' END,
               CASE WHEN i % 4 = 0 THEN 'bartender' ELSE 'server' END,
               CASE WHEN i % 5 = 0 THEN 18.25 END, (i % 50) * 1.10, (i % 70) * 2.35
          FROM generate_series(1, {time_entries}) i;
        INSERT INTO payroll_runs (tenant_id, id, pay_schedule_id, type, status, period_start,
                                  period_end, pay_date, total, done, gross_pay, net_pay,
                                  employee_taxes, employer_taxes, calculated_at, approved_at,
                                  approved_by, paid_at)
        SELECT '{t}', md5('{t}run' || r)::uuid, md5('{t}sched')::uuid, 'regular', 'paid',
               date '2026-01-05' + (r - 1) * 14, date '2026-01-18' + (r - 1) * 14,
               date '2026-01-23' + (r - 1) * 14, 200, 200, 250000.00, 190000.00, 40000.00, 20000.00,
               now(), now(), 'admin@example.com', now()
          FROM generate_series(1, 4) r;
        INSERT INTO payroll_run_items (tenant_id, run_id, employee_id, calc_attempt, status, request,
                                       result, input_hash, result_hash, gross_pay, net_pay,
                                       employee_taxes, employer_taxes, ytd_delta)
        SELECT '{t}', md5('{t}run' || r)::uuid, md5('{t}emp' || i)::uuid, 1, 'calculated',
               jsonb_build_object('employee_id', i), jsonb_build_object('net_pay', (950 + i)::text),
               md5('in' || r || i), md5('out' || r || i), 1250.00 + i, 950.00 + i, 200.00, 100.00,
               jsonb_build_object('gross', (1250 + i)::text)
          FROM generate_series(1, 4) r, generate_series(1, 200) i;
        INSERT INTO pay_stubs (tenant_id, id, run_id, employee_id, pay_date, period_start, period_end,
                               year, gross_pay, net_pay, employee_taxes, employer_taxes, result, ytd)
        SELECT '{t}', md5('{t}stub' || r || '-' || i)::uuid, md5('{t}run' || r)::uuid,
               md5('{t}emp' || i)::uuid, date '2026-01-23' + (r - 1) * 14,
               date '2026-01-05' + (r - 1) * 14, date '2026-01-18' + (r - 1) * 14, 2026,
               1250.00 + i, 950.00 + i, 200.00, 100.00,
               jsonb_build_object('lines', jsonb_build_array(jsonb_build_object('code', 'FIT', 'amount', '101.17'))),
               jsonb_build_object('gross', ((1250 + i) * r)::text)
          FROM generate_series(1, 4) r, generate_series(1, 200) i;
        INSERT INTO ytd_accumulators (tenant_id, employee_id, year, gross, fit_wages,
                                      social_security_wages, medicare_wages)
        SELECT '{t}', md5('{t}emp' || i)::uuid, 2026, (1250 + i) * 4, (1200 + i) * 4,
               (1250 + i) * 4, (1250 + i) * 4
          FROM generate_series(1, 200) i;
        INSERT INTO audit_events (tenant_id, actor, action, entity, entity_id, request_id, before, after)
        SELECT '{t}', 'user:admin', (ARRAY['create','update','read_sensitive'])[i % 3 + 1], 'employee',
               md5('{t}emp' || (i % 200 + 1)), 'req-' || i,
               CASE WHEN i % 3 = 1 THEN jsonb_build_object('ssn', '***-**-' || lpad((i % 10000)::text, 4, '0')) END,
               jsonb_build_object('first_name', 'First' || i, 'note', E'tab\there')
          FROM generate_series(1, 2000) i;
        INSERT INTO idempotency_keys (tenant_id, key, method, path, request_hash, status, headers, body)
        SELECT '{t}', 'idem-' || i, 'POST', '/api/payroll/v1/employees', md5('req' || i), 201,
               '{{"content-type": "application/json"}}',
               (SELECT decode(string_agg(md5(random()::text || j || i), ''), 'hex')
                  FROM generate_series(1, 512) j)
          FROM generate_series(1, {idempotency_rows}) i;
        "#
    );
    c.batch_execute(&sql).await.unwrap();
    t
}

/// (row count, md5 of every row's text in order) of every table, plus the sequences' positions.
async fn digests(c: &Client) -> BTreeMap<String, (i64, String)> {
    let tables = backup::tables(c).await.unwrap();
    let mut out = BTreeMap::new();
    for t in tables {
        let row = c
            .query_one(
                &format!(
                    "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{}\" t",
                    t.name
                ),
                &[],
            )
            .await
            .unwrap();
        out.insert(t.name, (row.get(0), row.get(1)));
    }
    out
}

/// Every index and constraint definition of the schema (the restore rebuilds them after the load).
async fn schema_shape(c: &Client) -> Vec<String> {
    c.query(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
         UNION ALL
         SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
           FROM pg_constraint WHERE connamespace = 'public'::regnamespace
         ORDER BY 1",
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

async fn table_count(c: &Client) -> i64 {
    c.query_one(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
        &[],
    )
    .await
    .unwrap()
    .get(0)
}

async fn restore_into(store: &Store, manifest: &Manifest, key: &BackupKey) -> TestDb {
    let target = TestDb::new().await;
    let report = backup::restore(
        &target.url,
        store,
        key,
        manifest,
        &RestoreOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(report.rows, manifest.total_rows);
    target
}

#[tokio::test]
async fn round_trip_to_file_and_s3_restores_identical_tables() {
    let source = TestDb::migrated().await;
    let src = connect(&source.url).await;
    seed(&src, 100_000, 1_200).await;
    let before = digests(&src).await;
    let total: i64 = before.values().map(|(n, _)| n).sum();
    assert!(total >= 100_000, "only {total} rows");
    let empty: Vec<&String> = before
        .iter()
        .filter(|(_, (n, _))| *n == 0)
        .map(|(k, _)| k)
        .collect();
    if !empty.is_empty() {
        eprintln!("NOTE: tables without seed data (add them to seed()): {empty:?}");
    }
    for must in [
        "tenants",
        "employees",
        "time_entries",
        "pay_stubs",
        "audit_events",
        "idempotency_keys",
    ] {
        assert!(before[must].0 > 0, "{must} is empty");
    }
    let max_audit: i64 = src
        .query_one("SELECT max(id) FROM audit_events", &[])
        .await
        .unwrap()
        .get(0);

    let key = key();
    let (file, dir) = file_store().await;
    let mut stores = vec![("file", file)];
    if let Some(s3) = s3_store().await {
        stores.push(("s3", s3));
    }
    for (label, store) in &stores {
        let clock = std::time::Instant::now();
        let manifest = backup::backup(&src, store, &key, &NoProgress)
            .await
            .unwrap();
        eprintln!("{label}: backup {:?}", clock.elapsed());
        assert_eq!(manifest.total_rows, total as u64, "{label}");
        assert_eq!(
            manifest.schema_version,
            payroll_store::migrate::latest_version()
        );
        // Parents before children.
        let pos = |n: &str| manifest.tables.iter().position(|t| t.name == n).unwrap();
        assert!(pos("tenants") < pos("employees"));
        assert!(pos("employees") < pos("time_entries"));
        assert!(pos("payroll_runs") < pos("pay_stubs"));
        assert!(
            !manifest
                .tables
                .iter()
                .any(|t| t.name == "schema_migrations")
        );
        // Some object is larger than one multipart part.
        assert!(
            manifest
                .tables
                .iter()
                .any(|t| t.bytes > payroll_cloud::PART_SIZE as u64),
            "{label}: no object exercises multipart: {:?}",
            manifest
                .tables
                .iter()
                .map(|t| (&t.name, t.bytes))
                .collect::<Vec<_>>()
        );
        let listed = backup::list(store).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].complete);
        assert_eq!(listed[0].id, manifest.id);

        // "Drop the database": restore into a new one from what the store holds.
        let read = backup::manifest(store, &key, "latest").await.unwrap();
        assert_eq!(read, manifest);
        let clock = std::time::Instant::now();
        let target = restore_into(store, &read, &key).await;
        eprintln!("{label}: restore {:?}", clock.elapsed());
        let dst = connect(&target.url).await;
        assert_eq!(digests(&dst).await, before, "{label}: tables differ");
        assert_eq!(
            schema_shape(&dst).await,
            schema_shape(&src).await,
            "{label}"
        );
        // Sequences continue after the restored ids; the append-only trigger is back in force.
        let next: i64 = dst
            .query_one("SELECT nextval('audit_events_id_seq')", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(next, max_audit + 1, "{label}");
        assert!(dst.batch_execute("DELETE FROM audit_events").await.is_err());
        let version =
            payroll_store::migrate::current_version(&Db::connect(&target.url, 1).unwrap())
                .await
                .unwrap();
        assert_eq!(version, manifest.schema_version);
        drop(dst);
        target.drop().await;
    }
    let _ = std::fs::remove_dir_all(dir);
    source.drop().await;
}

#[tokio::test]
async fn a_run_paid_during_the_backup_is_entirely_in_it_or_not_at_all() {
    let source = TestDb::migrated().await;
    let src = connect(&source.url).await;
    let tenant = seed(&src, 20_000, 0).await;
    let (store, dir) = file_store().await;

    // A writer paying runs (run + 200 items + 200 stubs + YTD + audit, one transaction each)
    // for as long as the backup takes.
    let writer = connect(&source.url).await;
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let task = tokio::spawn(async move {
        let mut paid = Vec::new();
        let mut n = 0;
        while !stop2.load(Ordering::SeqCst) || paid.len() < 3 {
            n += 1;
            let run = Uuid::new_v4();
            let sql = format!(
                r#"BEGIN;
                INSERT INTO payroll_runs (tenant_id, id, pay_schedule_id, type, status, period_start,
                    period_end, pay_date, total, done, paid_at)
                VALUES ('{tenant}', '{run}', md5('{tenant}sched')::uuid, 'off_cycle', 'paid',
                    '2026-06-01', '2026-06-14', '2026-06-19', 200, 200, now());
                INSERT INTO payroll_run_items (tenant_id, run_id, employee_id, status, gross_pay, net_pay)
                SELECT '{tenant}', '{run}', md5('{tenant}emp' || i)::uuid, 'calculated', 100, 80
                  FROM generate_series(1, 200) i;
                INSERT INTO pay_stubs (tenant_id, id, run_id, employee_id, pay_date, period_start,
                    period_end, year, gross_pay, net_pay, employee_taxes, employer_taxes, result, ytd)
                SELECT '{tenant}', gen_random_uuid(), '{run}', md5('{tenant}emp' || i)::uuid,
                    '2026-06-19', '2026-06-01', '2026-06-14', 2026, 100, 80, 20, 10, '{{}}', '{{}}'
                  FROM generate_series(1, 200) i;
                UPDATE ytd_accumulators SET gross = gross + 100, version = version + 1
                 WHERE tenant_id = '{tenant}';
                INSERT INTO audit_events (tenant_id, actor, action, entity, entity_id)
                VALUES ('{tenant}', 'user:admin', 'pay', 'payroll_run', '{run}');
                COMMIT;"#
            );
            writer.batch_execute(&sql).await.unwrap();
            paid.push((n, run));
        }
        paid
    });
    // Let a few runs land first, then back up while the writer keeps going.
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let manifest = backup::backup(&src, &store, &key(), &NoProgress)
        .await
        .unwrap();
    stop.store(true, Ordering::SeqCst);
    let paid = task.await.unwrap();

    let target = restore_into(&store, &manifest, &key()).await;
    let dst = connect(&target.url).await;
    let mut in_snapshot = Vec::new();
    for (n, run) in &paid {
        let row = dst
            .query_one(
                "SELECT (SELECT count(*) FROM payroll_runs WHERE id = $1),
                        (SELECT count(*) FROM payroll_run_items WHERE run_id = $1),
                        (SELECT count(*) FROM pay_stubs WHERE run_id = $1),
                        (SELECT count(*) FROM audit_events WHERE entity_id = $1::text)",
                &[run],
            )
            .await
            .unwrap();
        let counts: (i64, i64, i64, i64) = (row.get(0), row.get(1), row.get(2), row.get(3));
        match counts {
            (1, 200, 200, 1) => in_snapshot.push(*n),
            (0, 0, 0, 0) => {}
            other => panic!("run {n} is partly in the snapshot: {other:?}"),
        }
    }
    // The runs in the snapshot are exactly those committed before it (a prefix), and YTD agrees.
    let k = in_snapshot.len();
    assert_eq!(in_snapshot, (1..=k as i32).collect::<Vec<_>>());
    assert!(k >= 1, "no run committed before the snapshot");
    assert!(k < paid.len(), "no run committed during the backup");
    let ytd: rust_decimal::Decimal = dst
        .query_one(
            "SELECT gross FROM ytd_accumulators WHERE employee_id = md5($1 || 'emp1')::uuid",
            &[&tenant.to_string()],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(ytd, rust_decimal::Decimal::from(1251 * 4 + 100 * k as i64));
    eprintln!(
        "{} runs paid while backing up; {k} in the snapshot, {} after it",
        paid.len(),
        paid.len() - k
    );
    drop(dst);
    target.drop().await;
    let _ = std::fs::remove_dir_all(dir);
    source.drop().await;
}

#[tokio::test]
async fn tampered_objects_wrong_keys_and_non_empty_targets_are_refused() {
    let source = TestDb::migrated().await;
    let src = connect(&source.url).await;
    seed(&src, 5_000, 0).await;
    let before = digests(&src).await;
    let (store, dir) = file_store().await;
    let manifest = backup::backup(&src, &store, &key(), &NoProgress)
        .await
        .unwrap();
    let object = |table: &str| {
        let t = manifest.tables.iter().find(|t| t.name == table).unwrap();
        dir.join(&manifest.id).join(&t.object)
    };
    let target = TestDb::new().await;
    let dst = connect(&target.url).await;
    let restore = |m: Manifest, k: BackupKey, force: bool| {
        let (url, store) = (&target.url, &store);
        let opts = RestoreOptions {
            force,
            ..RestoreOptions::default()
        };
        async move { backup::restore(url, store, &k, &m, &opts, &NoProgress).await }
    };

    // A wrong key: named as such, before anything is loaded.
    let other = BackupKey::from_bytes(&[7u8; 32]).unwrap();
    let err = backup::manifest(&store, &other, "latest")
        .await
        .unwrap_err();
    assert!(matches!(err, BackupError::WrongKey(_)), "{err}");
    assert!(err.to_string().contains("wrong backup key"), "{err}");
    let err = restore(manifest.clone(), other, false).await.unwrap_err();
    assert!(matches!(err, BackupError::WrongKey(_)), "{err}");

    // One flipped byte in the middle of the time entries.
    let path = object("time_entries");
    let original = std::fs::read(&path).unwrap();
    let mut bytes = original.clone();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let err = restore(manifest.clone(), key(), false).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, BackupError::Integrity { .. }), "{msg}");
    assert!(
        msg.contains("time_entries") && msg.contains("does not authenticate"),
        "{msg}"
    );
    assert_eq!(
        table_count(&dst).await,
        0,
        "a refused restore leaves nothing"
    );
    let aside: i64 = dst
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname IN ('public', $1)",
            &[&backup::PREVIOUS_SCHEMA],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(aside, 1, "public is back, nothing left aside");

    // Cut off after the first frame's header: truncation is detected.
    std::fs::write(&path, &original[..original.len() - 40]).unwrap();
    let err = restore(manifest.clone(), key(), false).await.unwrap_err();
    assert!(matches!(err, BackupError::Integrity { .. }), "{err}");
    std::fs::write(&path, &original).unwrap();

    // Objects swapped between tables do not authenticate either.
    let (a, b) = (object("locations"), object("pay_schedules"));
    std::fs::copy(&a, &b).unwrap();
    let err = restore(manifest.clone(), key(), false).await.unwrap_err();
    assert!(err.to_string().contains("pay_schedules"), "{err}");
    assert_eq!(table_count(&dst).await, 0);

    // A manifest edited to match a tampered object is itself refused.
    let manifest_path = dir.join(&manifest.id).join("manifest.json");
    let mut edited: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    edited["total_rows"] = serde_json::json!(1);
    std::fs::write(&manifest_path, serde_json::to_vec(&edited).unwrap()).unwrap();
    let err = backup::manifest(&store, &key(), &manifest.id)
        .await
        .unwrap_err();
    assert!(matches!(err, BackupError::Integrity { .. }), "{err}");

    // Repaired (a second backup), it restores; then the target is not empty any more.
    let fresh = loop {
        match backup::backup(&src, &store, &key(), &NoProgress).await {
            Ok(m) => break m,
            Err(BackupError::Refused(_)) => {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await
            }
            Err(e) => panic!("{e}"),
        }
    };
    restore(fresh.clone(), key(), false).await.unwrap();
    assert_eq!(digests(&dst).await, before);
    let err = restore(fresh.clone(), key(), false).await.unwrap_err();
    assert!(matches!(err, BackupError::Refused(_)), "{err}");
    assert!(err.to_string().contains("not empty"), "{err}");
    // A restore killed half-way leaves the previous schema aside: the next one refuses to start.
    dst.batch_execute(&format!("CREATE SCHEMA {}", backup::PREVIOUS_SCHEMA))
        .await
        .unwrap();
    let err = restore(fresh.clone(), key(), true).await.unwrap_err();
    assert!(matches!(err, BackupError::Refused(_)), "{err}");
    assert!(err.to_string().contains("interrupted"), "{err}");
    dst.batch_execute(&format!("DROP SCHEMA {}", backup::PREVIOUS_SCHEMA))
        .await
        .unwrap();
    assert_eq!(digests(&dst).await, before);
    // --force replaces the contents.
    dst.batch_execute("INSERT INTO tenants (id, name) VALUES (gen_random_uuid(), 'stray')")
        .await
        .unwrap();
    restore(fresh, key(), true).await.unwrap();
    assert_eq!(digests(&dst).await, before);

    drop(dst);
    target.drop().await;
    let _ = std::fs::remove_dir_all(dir);
    source.drop().await;
}

#[tokio::test]
async fn prune_keeps_recent_snapshots_and_the_newest_complete_one() {
    let source = TestDb::migrated().await;
    let src = connect(&source.url).await;
    seed(&src, 10, 0).await;
    let (store, dir) = file_store().await;
    let m = backup::backup(&src, &store, &key(), &NoProgress)
        .await
        .unwrap();
    // Copy it to old ids: 40 and 35 days ago (complete), 31 days ago (incomplete), 2 days ago.
    let now = backup::parse_snapshot_id(&m.id).unwrap();
    let objects = store.list(&format!("{}/", m.id)).await.unwrap();
    for (days, complete) in [(40, true), (35, true), (31, false), (2, true)] {
        let id = backup::snapshot_id(now - chrono::TimeDelta::days(days));
        for o in &objects {
            if !complete && o.key.ends_with("manifest.json") {
                continue;
            }
            let body = store.get_bytes(&o.key).await.unwrap();
            let rest = o.key.strip_prefix(&m.id).unwrap();
            store
                .put(&format!("{id}{rest}"), body.into())
                .await
                .unwrap();
        }
    }
    let ids = |v: Vec<backup::SnapshotInfo>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(backup::list(&store).await.unwrap().len(), 5);
    let removed = backup::prune(&store, 30, now).await.unwrap();
    assert_eq!(removed.len(), 3);
    assert_eq!(
        ids(backup::list(&store).await.unwrap()),
        vec![
            backup::snapshot_id(now - chrono::TimeDelta::days(2)),
            m.id.clone()
        ]
    );
    // Everything is old: the newest complete snapshot stays anyway.
    let later = now + chrono::TimeDelta::days(365);
    backup::prune(&store, 30, later).await.unwrap();
    assert_eq!(ids(backup::list(&store).await.unwrap()), vec![m.id.clone()]);
    let _ = std::fs::remove_dir_all(dir);
    source.drop().await;
}
