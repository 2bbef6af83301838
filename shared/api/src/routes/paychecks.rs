//! Paycheck previews and the rule-pack catalog: `POST /paychecks/calculate`, `GET /rule-packs`.
//!
//! A preview is stateless and has exactly the `payroll calc` contract: the body is a
//! `payroll_domain::PaycheckRequest` (parsed by `payroll_domain::parse_request`, so errors name
//! the field) and the answer is the `PaycheckResult` JSON. Results are cached for 300 s under
//! `calculation:{tenant}:{sha256 of the body}`; previews are rate limited per tenant.

use crate::auth::{Auth, Permission};
use crate::error::{ApiError, ApiResult};
use crate::state::SharedState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use payroll_domain::CalcError;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

/// OpenAPI description of this group's routes (merged into `/openapi.json`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(calculate, list_rule_packs),
    components(schemas(RulePackOut, RulePackList)),
    tags((name = "paychecks", description = "Stateless paycheck previews and the supported rule packs"))
)]
pub struct ApiDoc;

pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/paychecks/calculate", post(calculate))
        .route("/rule-packs", get(list_rule_packs))
}

/// `x-cache: hit|miss` on previews.
static X_CACHE: HeaderName = HeaderName::from_static("x-cache");

/// The cache key of a preview: the tenant and the SHA-256 of the exact request body.
pub fn calculation_cache_key(tenant: Uuid, body: &[u8]) -> String {
    format!("calculation:{tenant}:{}", hex::encode(Sha256::digest(body)))
}

fn json_response(body: String, cache: &'static str) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(X_CACHE.clone(), HeaderValue::from_static(cache));
    resp
}

/// A body that is not JSON at all is a 400 (like every other endpoint); a JSON body that is not
/// a valid request is the calculation's 422 naming the field.
fn request_error(body: &str, e: CalcError) -> ApiError {
    if serde_json::from_str::<serde::de::IgnoredAny>(body).is_err() {
        return ApiError::bad_request(format!("the body is not valid JSON: {e}"));
    }
    ApiError::from(e)
}

/// Calculate one paycheck (stateless preview; the `payroll calc` contract).
#[utoipa::path(
    post,
    path = "/paychecks/calculate",
    tag = "paychecks",
    request_body(
        content = Object,
        description = "A PaycheckRequest, exactly as for `payroll calc` (money and hours as strings)",
        content_type = "application/json"
    ),
    responses(
        (status = 200, description = "The PaycheckResult (header `x-cache: hit|miss`)", body = Object),
        (status = 400, description = "The body is not JSON"),
        (status = 401, description = "No or invalid token"),
        (status = 403, description = "Role not allowed"),
        (status = 415, description = "Not application/json"),
        (status = 422, description = "The request cannot be calculated (problem+json naming the field; codes invalid_request, unsupported_state, no_rule_pack)"),
        (status = 429, description = "Too many previews for this tenant this minute (Retry-After)")
    )
)]
pub async fn calculate(
    State(state): State<SharedState>,
    auth: Auth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    auth.require(Permission::Preview)?;
    state
        .limiter
        .check(
            auth.tenant_id,
            "preview",
            state.settings.preview_limit_per_minute,
        )
        .await?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Unsupported media type",
            "send the body as application/json",
        ));
    }
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("the body is not UTF-8 text"))?;

    let key = calculation_cache_key(auth.tenant_id, &body);
    if let Some(cached) = state.cache.get::<String>(&key).await {
        return Ok(json_response(cached, "hit"));
    }
    let req = payroll_domain::parse_request(text).map_err(|e| request_error(text, e))?;
    let result = payroll_domain::calculate(&req)?;
    let out = result.to_json();
    state.cache.put(&key, &out).await;
    Ok(json_response(out, "miss"))
}

/// One rule pack (a jurisdiction's rates and tables for a period).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RulePackOut {
    #[schema(example = "us-ca-2025")]
    pub id: String,
    /// `US` for federal, else the two-letter state code.
    #[schema(example = "CA")]
    pub jurisdiction: String,
    pub year: i32,
    pub version: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    /// Where the figures come from (publications, statutes).
    pub sources: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RulePackList {
    pub items: Vec<RulePackOut>,
}

/// The supported jurisdictions and years, with their sources.
#[utoipa::path(
    get,
    path = "/rule-packs",
    tag = "paychecks",
    responses(
        (status = 200, description = "Every embedded rule pack", body = RulePackList),
        (status = 401, description = "No or invalid token"),
        (status = 403, description = "Role not allowed")
    )
)]
pub async fn list_rule_packs(auth: Auth) -> ApiResult<Response> {
    auth.require(Permission::Read)?;
    let items = payroll_domain::rules::catalog()?
        .iter()
        .map(|p| RulePackOut {
            id: p.id.clone(),
            jurisdiction: p.jurisdiction.clone(),
            year: p.year,
            version: p.version.clone(),
            valid_from: p.valid_from,
            valid_to: p.valid_to,
            sources: p.sources.clone(),
        })
        .collect();
    Ok(axum::Json(RulePackList { items }).into_response())
}
