//! Choosing the transport from `QUEUE_URL`, the same way in every process (`payroll worker`,
//! `payroll serve`, `payroll scheduler`, the API and scheduler functions):
//!
//! | `QUEUE_URL` | transport |
//! |---|---|
//! | `redis://host:6379` / `rediss://…` | Redis Streams: stream `QUEUE_STREAM` (default `payroll:run-chunks`), group `QUEUE_GROUP` (default `payroll-workers`) |
//! | `https://sqs.<region>.amazonaws.com/<account>/<queue>` | Amazon SQS (region from the host) |
//! | `http(s)://host[:port]/<account>/<queue>` | SQS at an emulator endpoint (moto): region `AWS_REGION` or `us-east-1`, credentials `test` unless set, queue created when missing |
//! | unset or empty | none: the caller decides (`payroll serve` uses the in-process queue) |
//!
//! `QUEUE_DLQ_URL` (SQS): the dead-letter queue where failed chunks are sent with their reason.

use crate::{JobQueue, QueueError, RedisStreamsQueue, SqsOptions, SqsQueue};
use std::sync::Arc;
use std::time::Duration;

pub const ENV_QUEUE_URL: &str = "QUEUE_URL";
pub const ENV_DLQ_URL: &str = "QUEUE_DLQ_URL";
pub const ENV_STREAM: &str = "QUEUE_STREAM";
pub const ENV_GROUP: &str = "QUEUE_GROUP";

/// The transport a queue URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueKind {
    RedisStreams,
    Sqs,
}

/// Which transport `url` names; an error says what is accepted.
pub fn kind_of(url: &str) -> Result<QueueKind, QueueError> {
    let url = url.trim();
    if url.starts_with("redis://") || url.starts_with("rediss://") {
        return Ok(QueueKind::RedisStreams);
    }
    if url.starts_with("https://") || url.starts_with("http://") {
        crate::sqs::parse_sqs_url(url)?;
        return Ok(QueueKind::Sqs);
    }
    Err(QueueError::Config(format!(
        "{url:?} is not a supported queue URL (use redis://host:6379 for Redis Streams, or an SQS queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/payroll-chunks)"
    )))
}

/// The settings around the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSettings {
    /// After this long an unacknowledged chunk (its worker died) is delivered to another worker.
    pub visibility: Duration,
    pub redis_stream: String,
    pub redis_group: String,
    /// SQS only.
    pub dead_letter_url: Option<String>,
}

impl QueueSettings {
    pub fn new(visibility: Duration) -> QueueSettings {
        QueueSettings {
            visibility,
            redis_stream: crate::DEFAULT_STREAM.to_owned(),
            redis_group: crate::DEFAULT_GROUP.to_owned(),
            dead_letter_url: None,
        }
    }

    /// `QUEUE_STREAM`, `QUEUE_GROUP`, `QUEUE_DLQ_URL` over the defaults.
    pub fn from_env(visibility: Duration) -> QueueSettings {
        let mut s = QueueSettings::new(visibility);
        if let Some(v) = env(ENV_STREAM) {
            s.redis_stream = v;
        }
        if let Some(v) = env(ENV_GROUP) {
            s.redis_group = v;
        }
        s.dead_letter_url = env(ENV_DLQ_URL);
        s
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Connect to the queue at `url`.
pub async fn connect(url: &str, s: &QueueSettings) -> Result<Arc<dyn JobQueue>, QueueError> {
    let url = url.trim();
    match kind_of(url)? {
        QueueKind::RedisStreams => {
            let consumer = format!(
                "worker-{}-{}",
                std::process::id(),
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            );
            let q = RedisStreamsQueue::connect(
                url,
                &s.redis_stream,
                &s.redis_group,
                &consumer,
                s.visibility,
            )
            .await?;
            Ok(Arc::new(q))
        }
        QueueKind::Sqs => {
            let mut o = SqsOptions::for_url(url, s.visibility)?;
            if let Some(dlq) = &s.dead_letter_url {
                crate::sqs::parse_sqs_url(dlq)?;
                o.dead_letter_url = Some(dlq.clone());
            }
            Ok(Arc::new(SqsQueue::connect(o).await?))
        }
    }
}

/// The queue named by `QUEUE_URL` (with [`QueueSettings::from_env`]); `None` when it is unset.
pub async fn from_env(visibility: Duration) -> Result<Option<Arc<dyn JobQueue>>, QueueError> {
    let Some(url) = env(ENV_QUEUE_URL) else {
        return Ok(None);
    };
    connect(&url, &QueueSettings::from_env(visibility))
        .await
        .map(Some)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_url_picks_the_transport() {
        assert_eq!(
            kind_of("redis://127.0.0.1:6379").unwrap(),
            QueueKind::RedisStreams
        );
        assert_eq!(
            kind_of("rediss://cache.example:6380/0").unwrap(),
            QueueKind::RedisStreams
        );
        assert_eq!(
            kind_of("https://sqs.us-east-1.amazonaws.com/123456789012/payroll-chunks").unwrap(),
            QueueKind::Sqs
        );
        assert_eq!(
            kind_of("http://127.0.0.1:5055/123456789012/payroll-chunks").unwrap(),
            QueueKind::Sqs
        );
        for bad in [
            "amqp://host/q",
            "127.0.0.1:6379",
            "https://example.com/",
            "",
        ] {
            assert!(matches!(kind_of(bad), Err(QueueError::Config(_))), "{bad}");
        }
    }
}
