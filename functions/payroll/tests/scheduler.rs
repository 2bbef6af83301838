//! A real `payroll scheduler` process: beats every second against a fresh database, creates the
//! due draft runs once (however many beats run), stops cleanly on SIGTERM; `--once` prints the
//! beat's report; a bad setting is one line on stderr and exit code 2.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Days, Utc};
use payroll_api::testing::{drop_database, fresh_database};
use payroll_domain::schedule::{ScheduleFrequency, periods};
use payroll_store::Db;
use payroll_store::repo::schedules::{self, ScheduleInput};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn payroll() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_payroll"));
    for v in [
        "QUEUE_URL",
        "SCHEDULER_LEAD_DAYS",
        "SCHEDULER_AUTO_CALCULATE",
        "SCHEDULER_STUCK_AFTER_SECONDS",
        "SCHEDULER_MAX_REDRIVES",
        "SCHEDULER_INTERVAL_SECONDS",
    ] {
        c.env_remove(v);
    }
    c.env("RUST_LOG", "warn");
    c
}

async fn draft_count(db: &Db) -> i64 {
    db.client()
        .await
        .unwrap()
        .query_one(
            "SELECT count(*) FROM payroll_runs WHERE type = 'regular' AND status = 'draft'",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn the_scheduler_loop_creates_due_drafts_once_and_stops_on_sigterm() {
    let (name, url) = fresh_database().await;
    let db = Db::connect(&url, 2).unwrap();
    payroll_store::migrate::migrate(&db).await.unwrap();
    let tenant = payroll_store::repo::tenants::create(&db, "Loop Diner")
        .await
        .unwrap();
    // A weekly schedule paid on the last day of each period, anchored two weeks ago.
    let today = Utc::now().date_naive();
    let anchor = today.checked_sub_days(Days::new(14)).unwrap();
    let tx = db.tenant_tx(tenant).await.unwrap();
    schedules::create(
        &tx,
        &ScheduleInput {
            name: "Weekly".into(),
            frequency: ScheduleFrequency::Weekly,
            first_period_start: anchor,
            pay_date_offset_days: 0,
            active: true,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let until = today.checked_add_days(Days::new(7)).unwrap();
    let due = periods(ScheduleFrequency::Weekly, anchor, 0, anchor, until)
        .unwrap()
        .into_iter()
        .filter(|p| p.pay_date >= today && p.pay_date <= until)
        .count() as i64;
    assert!(due >= 1);

    let mut child = payroll()
        .args(["scheduler", "--interval", "1", "--lead-days", "7"])
        .env("DATABASE_URL", &url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while draft_count(&db).await < due {
        assert!(start.elapsed() < Duration::from_secs(30), "no drafts");
        assert!(child.try_wait().unwrap().is_none(), "the scheduler exited");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A few more beats: still exactly the due drafts.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(draft_count(&db).await, due);

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");

    // --once: one beat, its report on stdout; nothing left to create.
    let out = payroll()
        .args(["scheduler", "--once", "--lead-days", "7"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["tenants"], 1);
    assert_eq!(report["created"], serde_json::json!([]));
    assert_eq!(report["today"], today.to_string());
    assert_eq!(draft_count(&db).await, due);

    // Bad settings: exit 2, one line naming the setting.
    for (args, env, want) in [
        (
            vec!["scheduler", "--once"],
            Some(("SCHEDULER_LEAD_DAYS", "soon")),
            "SCHEDULER_LEAD_DAYS",
        ),
        (
            vec!["scheduler", "--once", "--stuck-after", "0"],
            None,
            "--stuck-after",
        ),
        (vec!["scheduler", "--interval", "0"], None, "--interval"),
    ] {
        let mut c = payroll();
        c.args(&args).env("DATABASE_URL", &url);
        if let Some((k, v)) = env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("error: ") && err.contains(want), "{err}");
    }
    drop(db);
    drop_database(&name).await;
}
