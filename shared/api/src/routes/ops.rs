//! Operational routes, outside the base path: `GET /health` (the process is up), `GET /ready`
//! (PostgreSQL reachable; Redis reported but optional), `GET /metrics` (Prometheus text format)
//! and `GET /openapi.json`.
//!
//! The OpenAPI document is generated from the code of every endpoint group ([`openapi`], utoipa)
//! into the committed file `shared/api/openapi.json`, which the route serves as it is: the
//! function binaries then carry 100 kB of JSON instead of ≈ 1 MB of schema-building code, and
//! the document is a reviewable file that clients can generate from. A test fails when the file
//! differs from the code; `UPDATE_OPENAPI=1 cargo test -p payroll-api --lib openapi` rewrites it.

use crate::state::SharedState;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
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
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI_JSON,
    )
        .into_response()
}

/// The committed OpenAPI document (`shared/api/openapi.json`, [`openapi`] serialized).
pub const OPENAPI_JSON: &str = include_str!("../../openapi.json");

/// Where [`OPENAPI_JSON`] comes from, for the test that keeps it current.
pub const OPENAPI_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");

/// [`openapi`] as the text of `shared/api/openapi.json`: pretty JSON and a final newline.
pub fn openapi_text() -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(&openapi())?;
    text.push('\n');
    Ok(text)
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// The served document is the one the code describes. With `UPDATE_OPENAPI=1` the file is
    /// rewritten first (then commit it).
    #[test]
    fn committed_openapi_document_matches_the_code() {
        let generated = openapi_text().unwrap();
        if std::env::var_os("UPDATE_OPENAPI").is_some_and(|v| v == "1") {
            std::fs::write(OPENAPI_FILE, &generated).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(OPENAPI_FILE).unwrap();
        assert!(
            committed == generated,
            "{OPENAPI_FILE} differs from the routes' OpenAPI description: run \
             `UPDATE_OPENAPI=1 cargo test -p payroll-api --lib openapi` and commit the file"
        );
        // What the route serves is that file (compiled in).
        assert_eq!(OPENAPI_JSON, committed);
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap();
        assert!(doc["paths"]["/api/payroll/v1/payroll-runs"]["post"].is_object());
    }
}
