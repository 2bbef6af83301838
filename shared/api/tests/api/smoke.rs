//! The harness itself: a fresh database migrates, and row-level security isolates tenants even
//! for a query without a tenant filter.

use crate::common;

#[tokio::test]
async fn migrations_apply_and_rls_isolates_tenants() {
    let app = common::TestApp::spawn().await;
    let tx = app.db.tenant_tx(app.tenant).await.unwrap();
    // No WHERE clause: RLS alone limits the rows to this tenant.
    let n: i64 = tx
        .client()
        .query_one("SELECT count(*) FROM company_settings", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    let names: Vec<String> = tx
        .client()
        .query("SELECT name FROM tenants", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(names, vec!["Test Bistro".to_owned()]);
    // Writing a row for another tenant is refused by the policy's WITH CHECK.
    let err = tx
        .client()
        .execute(
            "INSERT INTO audit_events (tenant_id, actor, action, entity) VALUES ($1, 'x', 'create', 'test')",
            &[&app.other_tenant],
        )
        .await;
    assert!(err.is_err());
    drop(tx);
    // The audit log refuses UPDATE and DELETE, even for the table owner.
    let c = app.db.client().await.unwrap();
    c.execute("INSERT INTO audit_events (tenant_id, actor, action, entity) VALUES ($1, 'x', 'create', 'test')", &[&app.tenant]).await.unwrap();
    assert!(
        c.execute("UPDATE audit_events SET actor = 'y'", &[])
            .await
            .is_err()
    );
    assert!(c.execute("DELETE FROM audit_events", &[]).await.is_err());
    drop(c);
    app.cleanup().await;
}
