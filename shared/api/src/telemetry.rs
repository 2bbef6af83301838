//! Logging: JSON lines through `tracing-subscriber` (filter from `RUST_LOG`, default `info`), a
//! request id on every line and every response (`x-request-id`), and one access-log line per
//! request (method, matched route, status, latency). Bodies and the `Authorization` header are
//! never logged.

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

/// The request-id header (read from the request when valid, always set on the response).
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request (also available as a request extension for handlers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Install the global JSON subscriber (to stdout). Safe to call more than once (later calls do
/// nothing).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing::subscriber::set_global_default(subscriber(filter, std::io::stdout));
    crate::metrics::init();
}

/// The JSON log format: one object per line with the event's fields flattened, the current span
/// (`span.request_id`) and the whole span list (`spans`), so nested spans keep the request id.
pub fn subscriber<W>(filter: EnvFilter, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(true)
        .flatten_event(true)
        .with_target(true)
        .with_writer(writer)
        .finish()
}

/// A caller-supplied request id is kept when it is 1..=128 characters of `[A-Za-z0-9._:-]`
/// (so it cannot inject anything into logs); otherwise a new UUID is generated.
pub fn valid_request_id(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 128
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// Request id, span and access log. Apply with `Router::layer` as the outermost layer.
pub async fn middleware(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| valid_request_id(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| crate::metrics::UNMATCHED_ROUTE.to_owned());
    let span = tracing::info_span!("request", request_id = %id, method = %method, route = %route);
    let started = Instant::now();
    let mut resp = async move {
        let resp = next.run(req).await;
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let status = resp.status().as_u16();
        if status >= 500 {
            tracing::error!(status, latency_ms, "request finished");
        } else {
            tracing::info!(status, latency_ms, "request finished");
        }
        resp
    }
    .instrument(span)
    .await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID.clone(), v);
    }
    resp
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> tracing_subscriber::fmt::MakeWriter<'w> for Buf {
        type Writer = Buf;
        fn make_writer(&'w self) -> Buf {
            self.clone()
        }
    }

    #[tokio::test]
    async fn every_log_line_carries_the_request_id_and_no_secrets() {
        use axum::Router;
        use axum::body::Body;
        use axum::routing::post;
        use tower::ServiceExt;

        let buf = Buf::default();
        let _guard =
            tracing::subscriber::set_default(subscriber(EnvFilter::new("info"), buf.clone()));
        let app = Router::new()
            .route(
                "/things/{id}",
                post(|body: String| async move {
                    tracing::info!(len = body.len(), "handler ran");
                    let inner = tracing::info_span!("inner");
                    inner.in_scope(|| tracing::info!("nested"));
                    "ok"
                }),
            )
            .layer(axum::middleware::from_fn(middleware));
        let req = axum::http::Request::builder()
            .method("POST")
            .uri("/things/42")
            .header("x-request-id", "log-test-1")
            .header("authorization", "Bearer SECRET-TOKEN")
            .body(Body::from("{\"ssn\":\"123-45-6789\"}"))
            .unwrap();
        let resp = app.oneshot(req).await.unwrap();
        assert_eq!(resp.headers()["x-request-id"], "log-test-1");

        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3, "{text}");
        for l in &lines {
            let spans = l["spans"].as_array().unwrap();
            assert_eq!(spans[0]["request_id"], "log-test-1", "{l}");
        }
        let last = &lines[2];
        assert_eq!(last["message"], "request finished");
        assert_eq!(last["status"], 200);
        assert_eq!(last["span"]["route"], "/things/{id}");
        assert_eq!(last["span"]["method"], "POST");
        assert!(last["latency_ms"].as_f64().is_some());
        assert!(!text.contains("SECRET-TOKEN"), "{text}");
        assert!(!text.contains("123-45-6789"), "{text}");
    }

    #[test]
    fn request_ids_are_validated() {
        assert!(valid_request_id("abc-123"));
        assert!(valid_request_id(
            "Root=1-5e1b4151-5ac6c58f5b5daa6532e8d8e5"[5..].as_ref()
        ));
        assert!(!valid_request_id(""));
        assert!(!valid_request_id("has space"));
        assert!(!valid_request_id("quote\"inject"));
        assert!(!valid_request_id(&"a".repeat(129)));
    }

    #[test]
    fn init_twice_is_harmless() {
        init();
        init();
    }
}
