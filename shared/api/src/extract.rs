//! Request extractors whose failures are problem+json: JSON bodies, query strings, path ids,
//! `If-Match`.

use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON body; a malformed body or a field of the wrong shape answers 400/422 as problem+json,
/// naming the field (`employees[0].hire_date: ...`).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !ct.starts_with("application/json") {
            return Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
                "send the body as application/json",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("could not read the body: {e}")))?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parse JSON; a value of the wrong shape answers 422 naming the field's path (`entries[3].hours`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                return Err(ApiError::bad_request(format!(
                    "the body is not valid JSON: {inner}"
                )));
            }
            let msg = inner.to_string();
            let msg = msg
                .rsplit_once(" at line ")
                .map(|(m, _)| m.to_owned())
                .unwrap_or(msg);
            let field = if path == "." || path == "?" {
                field_of(&msg)
            } else {
                path
            };
            Err(ApiError::validation(field, msg))
        }
    }
}

/// Best-effort field name from a serde message (`missing field `x``, `unknown field `x``).
fn field_of(msg: &str) -> String {
    msg.split('`').nth(1).unwrap_or("body").to_owned()
}

/// A query string; bad values answer 422 naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        serde_urlencoded_from_str(q).map(ApiQuery)
    }
}

fn serde_urlencoded_from_str<T: DeserializeOwned>(q: &str) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{q}")
            .parse()
            .map_err(|_| ApiError::bad_request("malformed query string"))?,
    )
    .map(|axum::extract::Query(v)| v)
    .map_err(|e| {
        let m = e.body_text();
        ApiError::validation(field_of(&m), m)
    })
}

/// A UUID path parameter; anything else is 404 (no such resource), never 500.
pub fn parse_id(s: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(s).map_err(|_| ApiError::not_found())
}

/// The `If-Match` header, if any (`*` matches anything).
pub struct IfMatch(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(IfMatch(
            parts
                .headers
                .get(axum::http::header::IF_MATCH)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.trim().to_owned()),
        ))
    }
}

impl IfMatch {
    /// 412 if an `If-Match` was sent and does not match `current` (an ETag from `etag::of_version`).
    pub fn check(&self, current: &str) -> Result<(), ApiError> {
        match &self.0 {
            None => Ok(()),
            Some(v) if v == "*" => Ok(()),
            Some(v)
                if v.split(',')
                    .any(|t| t.trim().trim_start_matches("W/") == current) =>
            {
                Ok(())
            }
            Some(_) => Err(ApiError::stale(current)),
        }
    }
}
