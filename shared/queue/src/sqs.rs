//! Amazon SQS transport (aws-sdk-sqs), for `payroll worker` on AWS and for the producers (the API,
//! the scheduler). The Lambda function `worker-runs` does not receive through this type: Lambda's
//! event source mapping polls the queue and hands it the records.
//!
//! - enqueue: `SendMessageBatch`, up to 10 chunks (and at most ~240 KiB) per call; the body is the
//!   chunk's JSON, the same text as the Redis transport's `chunk` field;
//! - receive: `ReceiveMessage` with long polling (up to 20 s), the visibility timeout of this queue
//!   object, and `ApproximateReceiveCount` as [`Delivery::deliveries`]. A message that is not
//!   deleted in time becomes visible again and is delivered to another consumer: that is the
//!   redelivery of a chunk whose worker died;
//! - ack: `DeleteMessage`;
//! - nack: `ChangeMessageVisibility` to the retry delay (× the deliveries so far), so a failing
//!   chunk backs off instead of spinning;
//! - dead letter: `SendMessage` of the chunk to the dead-letter queue (when one is configured) with
//!   the reason in message attributes, then `DeleteMessage`. Independently, the queue's own
//!   redrive policy (`maxReceiveCount`) should move messages that crash every consumer to the same
//!   dead-letter queue; set it above the workers' `max_deliveries` so the workers decide first.
//!
//! A message whose body is not a chunk is never deleted silently: it goes to the configured
//! dead-letter queue, or — without one — stays in the queue for its redrive policy.
//!
//! Standard (not FIFO) queues: order does not matter and duplicates are harmless.

use crate::{BoxFuture, Chunk, Delivery, JobQueue, QueueError};
use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::{Credentials, Region};
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::{
    MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName,
    SendMessageBatchRequestEntry,
};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// SQS limits: 10 entries per batch call, 20 s of long polling, 12 h of visibility.
const MAX_BATCH: usize = 10;
const MAX_WAIT_SECS: u64 = 20;
const MAX_VISIBILITY_SECS: u64 = 43_200;
/// Stay under the 256 KiB batch payload limit of older queues.
const MAX_BATCH_BYTES: usize = 240 * 1024;

/// How to reach a queue. Unset fields come from the SDK's usual sources (environment, profile,
/// container or instance role).
#[derive(Debug, Clone)]
pub struct SqsOptions {
    /// The queue URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`, or an emulator's
    /// `http://127.0.0.1:5055/<account>/<name>`).
    pub queue_url: String,
    /// Where failed chunks go ([`JobQueue::dead_letter`]); `None`: they are only deleted (the
    /// worker has already marked the chunk's employees failed with the reason).
    pub dead_letter_url: Option<String>,
    /// Another endpoint than AWS's (an emulator such as moto, or a VPC endpoint).
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Static credentials (access key id, secret), e.g. for an emulator.
    pub credentials: Option<(String, String)>,
    /// How long a received message stays invisible to other consumers; a worker killed while
    /// holding it lets another take it over after this long.
    pub visibility: Duration,
    /// A nacked message becomes visible again after `retry_delay × deliveries` (capped by SQS's
    /// 12 h); zero redelivers at once.
    pub retry_delay: Duration,
    /// Create the queue (and the dead-letter queue) when missing — for emulators and local use;
    /// on AWS the queues come from the deployment template.
    pub create_missing: bool,
}

impl SqsOptions {
    /// Options for `queue_url` as given in `QUEUE_URL`: an `*.amazonaws.com` URL uses AWS (region
    /// from the host name when it names one); any other host is taken as an emulator endpoint
    /// (region from the environment, default `us-east-1`; credentials `test`/`test` when
    /// `AWS_ACCESS_KEY_ID` is unset; queues created when missing).
    pub fn for_url(queue_url: &str, visibility: Duration) -> Result<SqsOptions, QueueError> {
        let parsed = parse_sqs_url(queue_url)?;
        let mut o = SqsOptions {
            queue_url: queue_url.trim().to_owned(),
            dead_letter_url: None,
            endpoint: None,
            region: parsed.region,
            credentials: None,
            visibility,
            retry_delay: Duration::from_secs(5),
            create_missing: false,
        };
        if !parsed.aws {
            o.endpoint = Some(parsed.endpoint);
            o.create_missing = true;
            if std::env::var("AWS_ACCESS_KEY_ID").map_or(true, |v| v.trim().is_empty()) {
                o.credentials = Some(("test".to_owned(), "test".to_owned()));
            }
        }
        Ok(o)
    }
}

/// What a queue URL says about where the queue lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SqsUrl {
    /// `scheme://host[:port]`.
    pub endpoint: String,
    /// An AWS host (`*.amazonaws.com`, `*.amazonaws.com.cn`, `*.api.aws`).
    pub aws: bool,
    /// The region named by an AWS host (`sqs.eu-west-1.amazonaws.com`).
    pub region: Option<String>,
    pub account: String,
    pub name: String,
}

/// Parse `http(s)://host[:port]/<account>/<queue name>`.
pub(crate) fn parse_sqs_url(url: &str) -> Result<SqsUrl, QueueError> {
    let url = url.trim();
    let bad = |why: &str| {
        QueueError::Config(format!(
            "{url:?} is not an SQS queue URL ({why}; expected https://sqs.<region>.amazonaws.com/<account>/<queue>)"
        ))
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
    if scheme != "https" && scheme != "http" {
        return Err(bad("the scheme is not http or https"));
    }
    let (authority, path) = rest.split_once('/').ok_or_else(|| bad("no path"))?;
    if authority.is_empty() || authority.contains('@') {
        return Err(bad("no host, or credentials in the URL"));
    }
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let [account, name] = segments.as_slice() else {
        return Err(bad("the path is not /<account>/<queue>"));
    };
    if account.is_empty() || name.is_empty() || name.contains(['?', '#']) {
        return Err(bad("the path is not /<account>/<queue>"));
    }
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(h, _)| h)
        .to_ascii_lowercase();
    let aws = host.ends_with(".amazonaws.com")
        || host.ends_with(".amazonaws.com.cn")
        || host.ends_with(".api.aws");
    // sqs.<region>.amazonaws.com, or the legacy <region>.queue.amazonaws.com.
    let labels: Vec<&str> = host.split('.').collect();
    let region = match labels.as_slice() {
        ["sqs", region, "amazonaws", ..] => Some((*region).to_owned()),
        [region, "queue", "amazonaws", ..] => Some((*region).to_owned()),
        _ => None,
    }
    .filter(|_| aws);
    Ok(SqsUrl {
        endpoint: format!("{scheme}://{authority}"),
        aws,
        region,
        account: (*account).to_owned(),
        name: (*name).to_owned(),
    })
}

fn sqs_error<E: std::error::Error>(operation: &str, e: E) -> QueueError {
    QueueError::Sqs(format!("{operation}: {}", DisplayErrorContext(e)))
}

fn secs_i32(d: Duration, max: u64) -> i32 {
    i32::try_from(d.as_secs().min(max)).unwrap_or(i32::MAX)
}

pub struct SqsQueue {
    client: Client,
    queue_url: String,
    dead_letter_url: Option<String>,
    visibility: Duration,
    retry_delay: Duration,
    /// The receipt handle of the latest receipt of each message in flight (by message id); SQS
    /// needs it to delete or release the message, and only the latest one is valid.
    receipts: Mutex<HashMap<String, String>>,
}

impl SqsQueue {
    /// Build the client (no request is made unless `create_missing` is set).
    pub async fn connect(opts: SqsOptions) -> Result<SqsQueue, QueueError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(payroll_cloud::aws_https_client())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    // Longer than a 20 s long poll.
                    .operation_attempt_timeout(Duration::from_secs(MAX_WAIT_SECS + 15))
                    .build(),
            );
        if let Some(r) = &opts.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(e) = &opts.endpoint {
            loader = loader.endpoint_url(e.clone());
        }
        if let Some((id, secret)) = &opts.credentials {
            loader =
                loader.credentials_provider(Credentials::new(id, secret, None, None, "static"));
        }
        let sdk = loader.load().await;
        let mut conf = aws_sdk_sqs::config::Builder::from(&sdk);
        if sdk.region().is_none() {
            conf = conf.region(Region::new("us-east-1"));
        }
        let q = SqsQueue {
            client: Client::from_conf(conf.build()),
            queue_url: opts.queue_url.clone(),
            dead_letter_url: opts.dead_letter_url.clone(),
            visibility: opts.visibility,
            retry_delay: opts.retry_delay,
            receipts: Mutex::new(HashMap::new()),
        };
        if opts.create_missing {
            q.ensure_queue(&opts.queue_url).await?;
            if let Some(dlq) = &opts.dead_letter_url {
                q.ensure_queue(dlq).await?;
            }
        }
        Ok(q)
    }

    /// The SDK client (cheap to clone).
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    pub fn dead_letter_url(&self) -> Option<&str> {
        self.dead_letter_url.as_deref()
    }

    /// Create the queue named by the last segment of `url` unless it exists.
    async fn ensure_queue(&self, url: &str) -> Result<(), QueueError> {
        let name = parse_sqs_url(url)?.name;
        match self.client.get_queue_url().queue_name(&name).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_queue_does_not_exist()) =>
            {
                self.client
                    .create_queue()
                    .queue_name(&name)
                    .send()
                    .await
                    .map_err(|e| sqs_error("CreateQueue", e))?;
                tracing::info!(queue = %name, "created the SQS queue");
                Ok(())
            }
            Err(e) => Err(sqs_error("GetQueueUrl", e)),
        }
    }

    fn take_receipt(&self, id: &str) -> Result<String, QueueError> {
        self.receipts
            .lock()
            .ok()
            .and_then(|mut r| r.remove(id))
            .ok_or_else(|| QueueError::BadMessage {
                id: id.to_owned(),
                message: "not received by this consumer (or already settled)".into(),
            })
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| sqs_error("DeleteMessage", e))?;
        Ok(())
    }

    /// Send `body` to the dead-letter queue with the reason and the original message id.
    async fn send_dead_letter(
        &self,
        dlq: &str,
        body: &str,
        message_id: &str,
        deliveries: u32,
        reason: &str,
    ) -> Result<(), QueueError> {
        let text = |v: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
                .map_err(|e| QueueError::Sqs(format!("message attribute: {e}")))
        };
        // Attribute values are limited with the message; keep the reason readable, not huge.
        let reason: String = reason.chars().take(4000).collect();
        self.client
            .send_message()
            .queue_url(dlq)
            .message_body(body)
            .message_attributes("reason", text(&reason)?)
            .message_attributes("source_message_id", text(message_id)?)
            .message_attributes(
                "deliveries",
                MessageAttributeValue::builder()
                    .data_type("Number")
                    .string_value(deliveries.to_string())
                    .build()
                    .map_err(|e| QueueError::Sqs(format!("message attribute: {e}")))?,
            )
            .send()
            .await
            .map_err(|e| sqs_error("SendMessage (dead letter)", e))?;
        Ok(())
    }

    /// Send one batch; entries SQS refused are retried once, then reported.
    async fn send_batch(
        &self,
        entries: Vec<SendMessageBatchRequestEntry>,
    ) -> Result<(), QueueError> {
        let mut pending = entries;
        for attempt in 0..2 {
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(pending.clone()))
                .send()
                .await
                .map_err(|e| sqs_error("SendMessageBatch", e))?;
            if out.failed().is_empty() {
                return Ok(());
            }
            let failed: Vec<(String, String)> = out
                .failed()
                .iter()
                .map(|f| {
                    (
                        f.id().to_owned(),
                        format!("{}: {}", f.code(), f.message().unwrap_or("")),
                    )
                })
                .collect();
            // A sender fault (a body too large, say) fails again; other faults get one retry.
            if attempt == 1 || out.failed().iter().any(|f| f.sender_fault()) {
                return Err(QueueError::Sqs(format!(
                    "SendMessageBatch refused {} chunk(s): {}",
                    failed.len(),
                    failed
                        .iter()
                        .map(|(id, m)| format!("{id} {m}"))
                        .collect::<Vec<_>>()
                        .join("; ")
                )));
            }
            pending.retain(|e| failed.iter().any(|(id, _)| id == e.id()));
        }
        Ok(())
    }
}

impl JobQueue for SqsQueue {
    fn enqueue<'a>(&'a self, chunks: &'a [Chunk]) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            let mut batch: Vec<SendMessageBatchRequestEntry> = Vec::new();
            let mut bytes = 0usize;
            for (i, ch) in chunks.iter().enumerate() {
                let body = serde_json::to_string(ch)
                    .map_err(|e| QueueError::Config(format!("cannot encode a chunk: {e}")))?;
                if !batch.is_empty()
                    && (batch.len() == MAX_BATCH || bytes + body.len() > MAX_BATCH_BYTES)
                {
                    self.send_batch(std::mem::take(&mut batch)).await?;
                    bytes = 0;
                }
                bytes += body.len();
                batch.push(
                    SendMessageBatchRequestEntry::builder()
                        .id(format!("c{i}"))
                        .message_body(body)
                        .build()
                        .map_err(|e| QueueError::Sqs(format!("batch entry: {e}")))?,
                );
            }
            if !batch.is_empty() {
                self.send_batch(batch).await?;
            }
            Ok(())
        })
    }

    fn receive(
        &self,
        max: usize,
        wait: Duration,
    ) -> BoxFuture<'_, Result<Vec<Delivery>, QueueError>> {
        Box::pin(async move {
            let max = i32::try_from(max.clamp(1, MAX_BATCH)).unwrap_or(1);
            // Whole seconds: a wait under a second still long-polls for one.
            let wait_secs = if wait.is_zero() {
                0
            } else {
                secs_i32(wait + Duration::from_millis(999), MAX_WAIT_SECS)
            };
            let out = self
                .client
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(max)
                .wait_time_seconds(wait_secs)
                .visibility_timeout(secs_i32(self.visibility, MAX_VISIBILITY_SECS))
                .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
                .send()
                .await
                .map_err(|e| sqs_error("ReceiveMessage", e))?;
            let mut got = Vec::new();
            for m in out.messages() {
                let (Some(id), Some(receipt)) = (m.message_id(), m.receipt_handle()) else {
                    continue;
                };
                let deliveries = m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|n| n.parse::<u32>().ok())
                    .unwrap_or(1)
                    .max(1);
                let body = m.body().unwrap_or("");
                match serde_json::from_str::<Chunk>(body) {
                    Ok(chunk) => {
                        if let Ok(mut r) = self.receipts.lock() {
                            r.insert(id.to_owned(), receipt.to_owned());
                        }
                        got.push(Delivery {
                            id: id.to_owned(),
                            chunk,
                            deliveries,
                        });
                    }
                    Err(e) => {
                        let reason = format!("the message body is not a chunk: {e}");
                        match &self.dead_letter_url {
                            Some(dlq) => {
                                tracing::error!(message_id = id, error = %reason, "moving an unreadable queue message to the dead-letter queue");
                                self.send_dead_letter(dlq, body, id, deliveries, &reason)
                                    .await?;
                                self.delete(receipt).await?;
                            }
                            None => {
                                tracing::error!(message_id = id, deliveries, error = %reason,
                                    "unreadable queue message left for the queue's redrive policy (no dead-letter queue configured)");
                            }
                        }
                    }
                }
            }
            Ok(got)
        })
    }

    fn ack<'a>(&'a self, d: &'a Delivery) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            let receipt = self.take_receipt(&d.id)?;
            self.delete(&receipt).await
        })
    }

    fn nack<'a>(&'a self, d: &'a Delivery) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            let receipt = self.take_receipt(&d.id)?;
            let delay = self.retry_delay.saturating_mul(d.deliveries.max(1));
            self.client
                .change_message_visibility()
                .queue_url(&self.queue_url)
                .receipt_handle(&receipt)
                .visibility_timeout(secs_i32(delay, MAX_VISIBILITY_SECS))
                .send()
                .await
                .map_err(|e| sqs_error("ChangeMessageVisibility", e))?;
            Ok(())
        })
    }

    fn dead_letter<'a>(
        &'a self,
        d: &'a Delivery,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            let receipt = self.take_receipt(&d.id)?;
            match &self.dead_letter_url {
                Some(dlq) => {
                    let body = serde_json::to_string(&d.chunk)
                        .map_err(|e| QueueError::Config(format!("cannot encode a chunk: {e}")))?;
                    if let Err(e) = self
                        .send_dead_letter(dlq, &body, &d.id, d.deliveries, reason)
                        .await
                    {
                        // Keep the receipt so the caller may still settle the message.
                        if let Ok(mut r) = self.receipts.lock() {
                            r.insert(d.id.clone(), receipt);
                        }
                        return Err(e);
                    }
                }
                None => tracing::warn!(message_id = %d.id, run = %d.chunk.run_id,
                    chunk = d.chunk.index, reason, "no dead-letter queue configured: deleting the failed chunk"),
            }
            self.delete(&receipt).await
        })
    }

    fn transport(&self) -> &'static str {
        "sqs"
    }
}

/// The number of messages visible and in flight (approximate, as SQS reports them).
pub async fn approximate_counts(
    client: &Client,
    queue_url: &str,
) -> Result<(u64, u64), QueueError> {
    let out = client
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .map_err(|e| sqs_error("GetQueueAttributes", e))?;
    let get = |k: QueueAttributeName| {
        out.attributes()
            .and_then(|a| a.get(&k))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok((
        get(QueueAttributeName::ApproximateNumberOfMessages),
        get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn aws_queue_urls_name_their_region() {
        let u = parse_sqs_url("https://sqs.eu-west-1.amazonaws.com/123456789012/payroll-chunks")
            .unwrap();
        assert!(u.aws);
        assert_eq!(u.region.as_deref(), Some("eu-west-1"));
        assert_eq!(u.account, "123456789012");
        assert_eq!(u.name, "payroll-chunks");
        let legacy = parse_sqs_url("https://us-east-2.queue.amazonaws.com/1/q").unwrap();
        assert_eq!(legacy.region.as_deref(), Some("us-east-2"));
    }

    #[test]
    fn other_hosts_are_emulator_endpoints() {
        let u = parse_sqs_url("http://127.0.0.1:5055/123456789012/payroll-chunks").unwrap();
        assert!(!u.aws);
        assert_eq!(u.endpoint, "http://127.0.0.1:5055");
        assert_eq!(u.region, None);
        let o = SqsOptions::for_url(
            "http://localhost:4566/000000000000/q",
            Duration::from_secs(30),
        )
        .unwrap();
        assert_eq!(o.endpoint.as_deref(), Some("http://localhost:4566"));
        assert!(o.create_missing);
    }

    #[test]
    fn malformed_queue_urls_are_refused() {
        for bad in [
            "sqs.us-east-1.amazonaws.com/1/q",
            "ftp://host/1/q",
            "https://host/q",
            "https://host/1/q/extra",
            "https://user:pw@host/1/q",
            "https:///1/q",
        ] {
            assert!(
                matches!(parse_sqs_url(bad), Err(QueueError::Config(_))),
                "{bad}"
            );
        }
    }
}
