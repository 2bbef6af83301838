//! `payroll beat-endpoint`: the scheduler's beat behind HTTP, for schedulers that call a URL
//! instead of running a process — Knative Eventing's PingSource in `k8s-fallback/knative`, or any
//! cron that can `curl -X POST`. Each `POST /` runs one beat (`payroll_runs::scheduler::beat`, the
//! same as one turn of `payroll scheduler` or one `job-scheduler` invocation) and answers its
//! report as JSON; beats never overlap (a request waits for the one in progress). `GET /health`
//! answers 200. The beat's settings are `payroll scheduler`'s environment variables
//! (`SCHEDULER_LEAD_DAYS`, `SCHEDULER_AUTO_CALCULATE`, ...); `QUEUE_URL` is required, because a
//! scale-to-zero endpoint must hand calculation chunks to the workers rather than work them.

use crate::failure::Failure;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use payroll_queue::JobQueue;
use payroll_runs::scheduler::{self, BeatConfig};
use payroll_store::Db;
use std::sync::Arc;
use std::time::Duration;

/// What the endpoint needs: the database, the queue chunks go to, the beat's settings.
pub struct Endpoint {
    pub db: Db,
    pub queue: Arc<dyn JobQueue>,
    pub cfg: BeatConfig,
    beat_lock: tokio::sync::Mutex<()>,
}

impl Endpoint {
    pub fn new(db: Db, queue: Arc<dyn JobQueue>, cfg: BeatConfig) -> Arc<Endpoint> {
        Arc::new(Endpoint {
            db,
            queue,
            cfg,
            beat_lock: tokio::sync::Mutex::new(()),
        })
    }
}

pub fn router(endpoint: Arc<Endpoint>) -> Router {
    Router::new()
        .route("/", post(beat))
        .route(
            "/health",
            get(|| async { Json(serde_json::json!({"status": "ok"})) }),
        )
        .with_state(endpoint)
}

async fn beat(State(e): State<Arc<Endpoint>>) -> Response {
    let _one_at_a_time = e.beat_lock.lock().await;
    let today = chrono::Utc::now().date_naive();
    match scheduler::beat(&e.db, e.queue.as_ref(), &e.cfg, today).await {
        Ok(report) => (StatusCode::OK, Json(report)).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "scheduler beat failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(serde_json::json!({"error": err.to_string()})),
            )
                .into_response()
        }
    }
}

/// `payroll beat-endpoint`: serve on PORT (default 8000) until SIGTERM.
pub fn run() -> Result<(), Failure> {
    let (cfg, _interval) = crate::scheduler::config(&crate::scheduler::Overrides::default())?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::internal(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async {
        payroll_api::telemetry::init();
        let url = std::env::var("DATABASE_URL").map_err(|_| {
            Failure::input(
                "DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/payroll)",
            )
        })?;
        let db = Db::connect(&url, 4).map_err(|e| Failure::input(e.to_string()))?;
        let queue = crate::worker::queue_from_env(Duration::from_secs(120))
            .await?
            .ok_or_else(|| {
                Failure::input(
                    "QUEUE_URL is not set: the beat endpoint hands calculation chunks to the \
                     workers' queue (redis://host:6379 or an SQS queue URL)",
                )
            })?;
        let port = payroll_api::runtime::port_from_env().map_err(Failure::input)?;
        tracing::info!(
            transport = queue.transport(),
            ?cfg,
            port,
            "payroll beat endpoint"
        );
        payroll_api::runtime::serve(router(Endpoint::new(db, queue, cfg)), port)
            .await
            .map_err(Failure::internal)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use payroll_queue::InProcessQueue;
    use tower::ServiceExt;

    async fn call(app: &Router, method: &str, path: &str) -> (u16, serde_json::Value) {
        let req = http::Request::builder()
            .method(method)
            .uri(path)
            .body(axum::body::Body::empty())
            .unwrap();
        let resp = app.clone().oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        let body = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        (
            status,
            serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        )
    }

    #[tokio::test]
    async fn each_post_runs_one_beat_over_every_tenant() {
        let (name, url) = payroll_api::testing::fresh_database().await;
        let db = Db::connect(&url, 2).unwrap();
        payroll_store::migrate::migrate(&db).await.unwrap();
        payroll_store::repo::tenants::create(&db, "Bistro LLC")
            .await
            .unwrap();
        payroll_store::repo::tenants::create(&db, "Diner Inc")
            .await
            .unwrap();
        let app = router(Endpoint::new(
            db,
            InProcessQueue::new(),
            BeatConfig::default(),
        ));

        let (status, report) = call(&app, "POST", "/").await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["tenants"], 2, "{report}");
        assert_eq!(report["today"], chrono::Utc::now().date_naive().to_string());
        assert!(report["errors"].as_array().unwrap().is_empty(), "{report}");

        let (status, health) = call(&app, "GET", "/health").await;
        assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
        assert_eq!(call(&app, "GET", "/").await.0, 405);
        payroll_api::testing::drop_database(&name).await;
    }

    #[tokio::test]
    async fn a_database_that_cannot_be_reached_is_a_500_with_the_reason() {
        let db = Db::connect("postgres://nobody@127.0.0.1:1/none", 1).unwrap();
        let app = router(Endpoint::new(
            db,
            InProcessQueue::new(),
            BeatConfig::default(),
        ));
        let (status, body) = call(&app, "POST", "/").await;
        assert_eq!(status, 500);
        assert!(!body["error"].as_str().unwrap().is_empty(), "{body}");
    }
}
