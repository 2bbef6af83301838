//! Errors as `application/problem+json` (RFC 9457) with a stable `code` and per-field `errors`.
//! Bad input is always 4xx and changes nothing; only our own failures are 5xx.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use payroll_domain::CalcError;
use payroll_store::StoreError;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable machine-readable code, e.g. `validation_failed`, `not_found`, `stale_etag`.
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Extra headers (e.g. `Retry-After`, `ETag`).
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    code: &'a str,
    detail: &'a str,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            code,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            headers: Vec::new(),
        }
    }
    /// 422 with one field error.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "The request is not valid",
            format!("{field}: {message}"),
        );
        e.errors.push(FieldError { field, message });
        e
    }
    /// 400 for a body that is not JSON of the expected shape.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "The request could not be read",
            detail,
        )
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        let mut e = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
            detail,
        );
        e.headers
            .push((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        e
    }
    pub fn forbidden() -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Not allowed",
            "your role does not allow this action",
        )
    }
    pub fn not_found() -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Not found",
            "no such resource",
        )
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
    }
    pub fn stale(current_etag: &str) -> Self {
        let mut e = ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "stale_etag",
            "The resource changed",
            "If-Match does not match the current ETag; re-read the resource and retry",
        );
        if let Ok(v) = HeaderValue::from_str(current_etag) {
            e.headers.push((header::ETAG, v));
        }
        e
    }
    pub fn internal(detail: impl Into<String>) -> Self {
        let detail = detail.into();
        tracing::error!(error = %detail, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal error",
            "an internal error occurred; it has been logged",
        )
    }
    pub fn unavailable(detail: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            detail,
        )
    }
    pub fn with_header(mut self, name: header::HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: format!("https://payroll.example/problems/{}", self.code),
            title: self.title,
            status: self.status.as_u16(),
            code: self.code,
            detail: &self.detail,
            errors: &self.errors,
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut resp = (self.status, bytes).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        for (k, v) in self.headers {
            h.insert(k, v);
        }
        resp
    }
}

impl From<CalcError> for ApiError {
    fn from(e: CalcError) -> Self {
        if !e.is_client_error() {
            return ApiError::internal(e.to_string());
        }
        let mut a = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            e.code(),
            "The paycheck cannot be calculated",
            e.to_string(),
        );
        a.errors.push(FieldError {
            field: e.field().to_owned(),
            message: e.to_string(),
        });
        a
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found(),
            StoreError::Conflict(m) => ApiError::conflict(m),
            StoreError::Invalid { field, message } => ApiError::validation(field, message),
            StoreError::Stale { current } => ApiError::stale(&current),
            StoreError::Pool(m) => ApiError::unavailable(format!("database unavailable: {m}")),
            other => ApiError::internal(other.to_string()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
