//! Cursor pagination: lists return `{"items": [...], "next_cursor": "..." | null}`. The cursor is an
//! opaque base64url string of the last item's sort key.

use crate::error::ApiError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Page<T: Serialize> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

pub fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ApiError::validation("cursor", "is not a cursor returned by this API"))
}

/// Clamp a requested page size.
pub fn limit(requested: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    match requested {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::validation(
            "limit",
            format!("must be between 1 and {max}"),
        )),
    }
}

/// Build a page from `limit + 1` fetched rows: the extra row only signals that more exist.
pub fn page<T: Serialize>(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Page<T> {
    let more = rows.len() as i64 > limit;
    if more {
        rows.truncate(limit as usize);
    }
    let next_cursor = if more {
        rows.last().map(|r| encode_cursor(&key(r)))
    } else {
        None
    };
    Page {
        items: rows,
        next_cursor,
    }
}
