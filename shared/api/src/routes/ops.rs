//! Operational routes, outside the base path: `GET /health` (the process is up), `GET /ready`
//! (PostgreSQL reachable; Redis reported but optional), `GET /metrics` (Prometheus text format)
//! and `GET /openapi.json` (generated from the code of every endpoint group).

use crate::state::SharedState;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use std::sync::OnceLock;
use std::time::Duration;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// OpenAPI description of this group's routes (merged into `/openapi.json`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(health, ready, metrics, openapi_json),
    components(schemas(Health, Readiness))
)]
pub struct ApiDoc;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi_json))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// `ready` or `unavailable`.
    pub status: &'static str,
    /// `up` or `down`.
    pub postgres: &'static str,
    /// `up`, `down` or `disabled` (Redis is optional: it never makes the service unready).
    pub redis: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/health", tag = "ops",
    responses((status = 200, description = "The process is up", body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Ready to serve: PostgreSQL is reachable.
#[utoipa::path(get, path = "/ready", tag = "ops",
    responses(
        (status = 200, description = "PostgreSQL is reachable", body = Readiness),
        (status = 503, description = "PostgreSQL is not reachable", body = Readiness)))]
pub async fn ready(State(state): State<SharedState>) -> Response {
    let (pg, redis) = tokio::join!(
        tokio::time::timeout(Duration::from_secs(2), state.db.ping()),
        state.cache.redis_status()
    );
    let pg_up = match pg {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: PostgreSQL is not reachable");
            false
        }
        Err(_) => {
            tracing::warn!("readiness: PostgreSQL ping timed out");
            false
        }
    };
    let body = Readiness {
        status: if pg_up { "ready" } else { "unavailable" },
        postgres: if pg_up { "up" } else { "down" },
        redis: redis.as_str(),
    };
    let status = if pg_up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut resp = (status, Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<SharedState>) -> Response {
    let text = crate::metrics::render(&state);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

/// The OpenAPI 3.1 document of the whole API.
#[utoipa::path(get, path = "/openapi.json", tag = "ops",
    responses((status = 200, description = "OpenAPI document", content_type = "application/json", body = Object)))]
pub async fn openapi_json() -> Response {
    static DOC: OnceLock<String> = OnceLock::new();
    let text = DOC.get_or_init(|| {
        openapi()
            .to_json()
            .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    });
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        text.clone(),
    )
        .into_response()
}

/// The merged document: every endpoint group's paths under the base path, the ops routes at the
/// root, and the bearer security scheme.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use super::{audit, company, employees, paychecks, paystubs, runs, time};
    let base = crate::BASE_PATH;
    let mut doc = utoipa::openapi::OpenApiBuilder::new()
        .info(
            utoipa::openapi::InfoBuilder::new()
                .title("Payroll API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "US payroll: employer data, time entries and paycheck previews. Business routes \
                     live under /api/payroll/v1; /health, /ready, /metrics and /openapi.json at the root. \
                     Errors are application/problem+json with a stable `code`.",
                ))
                .build(),
        )
        .servers(Some(vec![utoipa::openapi::ServerBuilder::new().url("/").description(Some(
            "This deployment (business paths carry the /api/payroll/v1 prefix)",
        )).build()]))
        .build();
    doc = doc
        .nest(base, company::ApiDoc::openapi())
        .nest(base, employees::ApiDoc::openapi())
        .nest(base, time::ApiDoc::openapi())
        .nest(base, paychecks::ApiDoc::openapi())
        .nest(base, audit::ApiDoc::openapi())
        .nest(base, runs::ApiDoc::openapi())
        .nest(base, paystubs::ApiDoc::openapi());
    doc.merge(ApiDoc::openapi());
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    doc.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
        "bearer",
        Vec::<String>::new(),
    )]);
    // The ops routes need no token.
    for (path, item) in doc.paths.paths.iter_mut() {
        if !path.starts_with(base) {
            for op in [&mut item.get, &mut item.post].into_iter().flatten() {
                op.security = Some(vec![
                    utoipa::openapi::security::SecurityRequirement::default(),
                ]);
            }
        }
    }
    doc
}
