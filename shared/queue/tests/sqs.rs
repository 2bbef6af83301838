//! The SQS transport against moto's SQS (`TEST_S3_ENDPOINT`, the moto_server `scripts/test`
//! starts; one server emulates S3 and SQS): send / receive / ack, nack → redelivery with the
//! receive count, a consumer that dies holding a message (visibility timeout) → redelivery,
//! dead-lettering with the reason, an unreadable body, batches above SQS's 10 entries, and the
//! `QUEUE_URL` chooser. Each test uses its own queues.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_sqs::types::MessageAttributeValue;
use payroll_queue::sqs::approximate_counts;
use payroll_queue::{Chunk, JobQueue, QueueSettings, SqsOptions, SqsQueue};
use std::time::Duration;
use uuid::Uuid;

/// moto's endpoint, or None (with a notice) when TEST_S3_ENDPOINT is unset.
fn endpoint() -> Option<String> {
    match std::env::var("TEST_S3_ENDPOINT") {
        Ok(e) if !e.trim().is_empty() => Some(e.trim().trim_end_matches('/').to_owned()),
        _ => {
            eprintln!(
                "NOTE: TEST_S3_ENDPOINT is not set: skipping the SQS (moto) test; scripts/test sets it"
            );
            None
        }
    }
}

fn queue_url(endpoint: &str, tag: &str) -> String {
    format!(
        "{endpoint}/123456789012/test-{tag}-{}",
        Uuid::new_v4().simple()
    )
}

async fn queue(
    endpoint: &str,
    visibility: Duration,
    dlq: bool,
) -> (SqsQueue, String, Option<String>) {
    let url = queue_url(endpoint, "chunks");
    let dlq_url = dlq.then(|| queue_url(endpoint, "dead"));
    let mut o = SqsOptions::for_url(&url, visibility).unwrap();
    o.credentials = Some(("test".into(), "test".into()));
    o.region = Some("us-east-1".into());
    o.dead_letter_url = dlq_url.clone();
    o.retry_delay = Duration::ZERO;
    assert!(o.create_missing);
    (SqsQueue::connect(o).await.unwrap(), url, dlq_url)
}

fn chunk(i: u32, employees: usize) -> Chunk {
    Chunk {
        tenant_id: Uuid::from_u128(7),
        run_id: Uuid::from_u128(42),
        attempt: 1,
        index: i,
        employee_ids: (0..employees)
            .map(|e| Uuid::from_u128(u128::from(i) * 10_000 + e as u128))
            .collect(),
    }
}

/// Receive until `n` deliveries arrived (SQS may return fewer than asked per call).
async fn receive_n(q: &SqsQueue, n: usize) -> Vec<payroll_queue::Delivery> {
    let mut got = Vec::new();
    for _ in 0..20 {
        got.extend(q.receive(10, Duration::from_secs(1)).await.unwrap());
        if got.len() >= n {
            break;
        }
    }
    got
}

#[tokio::test]
async fn send_receive_ack() {
    let Some(ep) = endpoint() else { return };
    let (q, url, _) = queue(&ep, Duration::from_secs(30), false).await;
    assert_eq!(q.transport(), "sqs");
    let sent: Vec<Chunk> = (0..3).map(|i| chunk(i, 500)).collect();
    q.enqueue(&sent).await.unwrap();
    let mut got = receive_n(&q, 3).await;
    assert_eq!(got.len(), 3);
    got.sort_by_key(|d| d.chunk.index);
    for (d, c) in got.iter().zip(&sent) {
        assert_eq!(&d.chunk, c);
        assert_eq!(d.deliveries, 1);
    }
    for d in &got {
        q.ack(d).await.unwrap();
    }
    // A settled delivery cannot be settled again by this consumer.
    assert!(q.ack(&got[0]).await.is_err());
    assert!(
        q.receive(10, Duration::from_secs(1))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(approximate_counts(q.client(), &url).await.unwrap(), (0, 0));
}

#[tokio::test]
async fn a_nacked_message_is_delivered_again_with_its_receive_count() {
    let Some(ep) = endpoint() else { return };
    let (q, _, _) = queue(&ep, Duration::from_secs(30), false).await;
    q.enqueue(&[chunk(0, 3)]).await.unwrap();
    let first = receive_n(&q, 1).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].deliveries, 1);
    q.nack(&first[0]).await.unwrap();
    let again = receive_n(&q, 1).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, first[0].id);
    assert_eq!(again[0].chunk, chunk(0, 3));
    assert_eq!(again[0].deliveries, 2);
    q.ack(&again[0]).await.unwrap();
}

#[tokio::test]
async fn a_message_held_by_a_dead_consumer_comes_back_after_the_visibility_timeout() {
    let Some(ep) = endpoint() else { return };
    let (q, url, _) = queue(&ep, Duration::from_secs(1), false).await;
    q.enqueue(&[chunk(5, 2)]).await.unwrap();
    let held = receive_n(&q, 1).await;
    assert_eq!(held.len(), 1);
    // Another consumer of the same queue (a second worker process) sees nothing while the
    // message is invisible...
    let mut o = SqsOptions::for_url(&url, Duration::from_secs(30)).unwrap();
    o.credentials = Some(("test".into(), "test".into()));
    o.region = Some("us-east-1".into());
    let other = SqsQueue::connect(o).await.unwrap();
    assert!(other.receive(10, Duration::ZERO).await.unwrap().is_empty());
    // ...the holder never settles it (killed); after the timeout the other consumer gets it.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let taken = receive_n(&other, 1).await;
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].id, held[0].id);
    assert_eq!(taken[0].deliveries, 2);
    other.ack(&taken[0]).await.unwrap();
    assert_eq!(
        approximate_counts(other.client(), &url).await.unwrap(),
        (0, 0)
    );
}

#[tokio::test]
async fn dead_letters_go_to_the_dead_letter_queue_with_the_reason() {
    let Some(ep) = endpoint() else { return };
    let (q, url, dlq) = queue(&ep, Duration::from_secs(30), true).await;
    let dlq = dlq.unwrap();
    q.enqueue(&[chunk(1, 4)]).await.unwrap();
    let d = receive_n(&q, 1).await;
    q.dead_letter(&d[0], "chunk failed 5 times: database timeout")
        .await
        .unwrap();
    assert_eq!(approximate_counts(q.client(), &url).await.unwrap(), (0, 0));
    let out = q
        .client()
        .receive_message()
        .queue_url(&dlq)
        .message_attribute_names("All")
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap();
    let msgs = out.messages();
    assert_eq!(msgs.len(), 1);
    let body: Chunk = serde_json::from_str(msgs[0].body().unwrap()).unwrap();
    assert_eq!(body, chunk(1, 4));
    let attrs = msgs[0].message_attributes().unwrap();
    let text = |k: &str| {
        attrs
            .get(k)
            .and_then(MessageAttributeValue::string_value)
            .map(str::to_owned)
    };
    assert_eq!(
        text("reason").as_deref(),
        Some("chunk failed 5 times: database timeout")
    );
    assert_eq!(text("source_message_id"), Some(d[0].id.clone()));
    assert_eq!(text("deliveries").as_deref(), Some("1"));
}

#[tokio::test]
async fn an_unreadable_body_is_moved_to_the_dead_letter_queue_not_delivered() {
    let Some(ep) = endpoint() else { return };
    let (q, url, dlq) = queue(&ep, Duration::from_secs(30), true).await;
    q.client()
        .send_message()
        .queue_url(&url)
        .message_body("{\"tenant_id\": \"not a chunk\"")
        .send()
        .await
        .unwrap();
    q.enqueue(&[chunk(2, 1)]).await.unwrap();
    let got = receive_n(&q, 1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].chunk, chunk(2, 1));
    q.ack(&got[0]).await.unwrap();
    // Let the receive loop see the unreadable one too, if the first call did not return it.
    let _ = q.receive(10, Duration::from_secs(1)).await.unwrap();
    assert_eq!(approximate_counts(q.client(), &url).await.unwrap(), (0, 0));
    let out = q
        .client()
        .receive_message()
        .queue_url(dlq.unwrap())
        .message_attribute_names("All")
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap();
    let msgs = out.messages();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].body(), Some("{\"tenant_id\": \"not a chunk\""));
    let reason = msgs[0]
        .message_attributes()
        .and_then(|a| a.get("reason"))
        .and_then(MessageAttributeValue::string_value)
        .unwrap();
    assert!(reason.contains("not a chunk"), "{reason}");
}

#[tokio::test]
async fn more_chunks_than_one_batch_call_are_all_sent() {
    let Some(ep) = endpoint() else { return };
    let (q, url, _) = queue(&ep, Duration::from_secs(30), false).await;
    // 25 chunks of 500 employees (~19 kB each): three SendMessageBatch calls at least.
    let sent: Vec<Chunk> = (0..25).map(|i| chunk(i, 500)).collect();
    q.enqueue(&sent).await.unwrap();
    let got = receive_n(&q, 25).await;
    let mut idx: Vec<u32> = got.iter().map(|d| d.chunk.index).collect();
    idx.sort_unstable();
    assert_eq!(idx, (0..25).collect::<Vec<_>>());
    for d in &got {
        q.ack(d).await.unwrap();
    }
    assert_eq!(approximate_counts(q.client(), &url).await.unwrap(), (0, 0));
}

#[tokio::test]
async fn the_queue_url_chooses_sqs() {
    let Some(ep) = endpoint() else { return };
    let url = queue_url(&ep, "chosen");
    // An emulator URL: the queue is created, test credentials are used unless configured.
    let mut s = QueueSettings::new(Duration::from_secs(30));
    s.dead_letter_url = Some(queue_url(&ep, "chosen-dead"));
    let q = payroll_queue::connect(&url, &s).await.unwrap();
    assert_eq!(q.transport(), "sqs");
    q.enqueue(&[chunk(9, 1)]).await.unwrap();
    let mut got = Vec::new();
    for _ in 0..10 {
        got = q.receive(1, Duration::from_secs(1)).await.unwrap();
        if !got.is_empty() {
            break;
        }
    }
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].chunk, chunk(9, 1));
    q.ack(&got[0]).await.unwrap();
}
