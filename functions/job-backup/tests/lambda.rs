//! The handler fed a real EventBridge scheduled event, backing up to `file://` in a temp dir.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use job_backup::Job;
use lambda_runtime::{Context, LambdaEvent};
use payroll_api::testing::{drop_database, fresh_database};
use payroll_cloud::{ObjectStorage, Store};
use payroll_store::backup::{self, BackupKey};
use serde_json::Value;

#[tokio::test]
async fn a_scheduled_event_backs_up_and_prunes() {
    let (name, url) = fresh_database().await;
    let db = payroll_store::Db::connect(&url, 1).unwrap();
    payroll_store::migrate::migrate(&db).await.unwrap();
    let tenant = payroll_store::repo::tenants::create(&db, "Scheduled Diner")
        .await
        .unwrap();

    let dir = std::env::temp_dir().join(format!("job-backup-{}", uuid::Uuid::new_v4().simple()));
    let store = Store::from_url(&format!("file://{}", dir.display()))
        .await
        .unwrap();
    // An old complete snapshot (copied from a real one below) must be pruned by the job.
    let job = Job {
        database_url: url.clone(),
        store: store.clone(),
        key: BackupKey::from_bytes(&[9u8; 32]).unwrap(),
        keep_days: 30,
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
    let id = out["snapshot"].as_str().unwrap().to_owned();
    assert!(out["rows"].as_u64().unwrap() >= 1, "{out}");
    assert_eq!(out["pruned"], serde_json::json!([]));

    // Make that snapshot look 40 days old, run again: the old one goes, the new one stays.
    let old =
        backup::snapshot_id(backup::parse_snapshot_id(&id).unwrap() - chrono::TimeDelta::days(40));
    for o in store.list(&format!("{id}/")).await.unwrap() {
        let body = store.get_bytes(&o.key).await.unwrap();
        store
            .put(&o.key.replacen(&id, &old, 1), body.into())
            .await
            .unwrap();
    }
    store
        .delete(
            &store
                .list(&format!("{id}/"))
                .await
                .unwrap()
                .into_iter()
                .map(|o| o.key)
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap();
    let out = job
        .handle(LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    assert_eq!(out["pruned"], serde_json::json!([old]));
    let left = backup::list(&store).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, out["snapshot"].as_str().unwrap());

    // The snapshot restores, with the tenant in it.
    let (target, target_url) = fresh_database().await;
    let (client, conn) = tokio_postgres::connect(&target_url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let m = backup::manifest(&store, &job.key, "latest").await.unwrap();
    backup::restore(
        &target_url,
        &store,
        &job.key,
        &m,
        &Default::default(),
        &backup::NoProgress,
    )
    .await
    .unwrap();
    let n: i64 = client
        .query_one("SELECT count(*) FROM tenants WHERE id = $1", &[&tenant])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);

    drop(client);
    drop_database(&target).await;
    drop_database(&name).await;
    let _ = std::fs::remove_dir_all(dir);
}
