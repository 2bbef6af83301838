//! Redis Streams transport against a real Redis (`TEST_REDIS_URL`, default 127.0.0.1:6379).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use payroll_queue::{Chunk, JobQueue, RedisStreamsQueue};
use std::time::Duration;
use uuid::Uuid;

fn url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn chunk(i: u32) -> Chunk {
    Chunk {
        tenant_id: Uuid::new_v4(),
        run_id: Uuid::new_v4(),
        attempt: 1,
        index: i,
        employee_ids: vec![Uuid::new_v4(), Uuid::new_v4()],
    }
}

async fn queue(stream: &str, consumer: &str, visibility_ms: u64) -> RedisStreamsQueue {
    RedisStreamsQueue::connect(
        &url(),
        stream,
        "test-group",
        consumer,
        Duration::from_millis(visibility_ms),
    )
    .await
    .unwrap()
}

async fn delete(stream: &str) {
    let client = redis::Client::open(url()).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("DEL")
        .arg(stream)
        .arg(format!("{stream}:dead"))
        .query_async(&mut c)
        .await
        .unwrap();
}

#[tokio::test]
async fn two_consumers_share_the_stream_and_acked_messages_are_gone() {
    let stream = format!("test:chunks:{}", Uuid::new_v4().simple());
    let a = queue(&stream, "a", 60_000).await;
    let b = queue(&stream, "b", 60_000).await;
    let sent: Vec<Chunk> = (0..4).map(chunk).collect();
    a.enqueue(&sent).await.unwrap();
    let got_a = a.receive(2, Duration::from_millis(200)).await.unwrap();
    let got_b = b.receive(10, Duration::from_millis(200)).await.unwrap();
    assert_eq!(got_a.len(), 2);
    assert_eq!(got_b.len(), 2);
    let mut all: Vec<Chunk> = got_a
        .iter()
        .chain(&got_b)
        .map(|d| d.chunk.clone())
        .collect();
    all.sort_by_key(|c| c.index);
    assert_eq!(all, sent);
    for d in got_a.iter().chain(&got_b) {
        assert_eq!(d.deliveries, 1);
        a.ack(d).await.unwrap();
    }
    assert!(
        a.receive(10, Duration::from_millis(100))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        b.receive(10, Duration::from_millis(100))
            .await
            .unwrap()
            .is_empty()
    );
    delete(&stream).await;
}

#[tokio::test]
async fn an_unacknowledged_message_is_claimed_by_another_consumer_then_dead_lettered() {
    let stream = format!("test:chunks:{}", Uuid::new_v4().simple());
    let a = queue(&stream, "a", 150).await;
    let b = queue(&stream, "b", 150).await;
    let c0 = chunk(7);
    a.enqueue(std::slice::from_ref(&c0)).await.unwrap();
    // a takes it and "dies" (never acks).
    let first = a.receive(1, Duration::from_millis(200)).await.unwrap();
    assert_eq!(first.len(), 1);
    // Before the visibility timeout nobody else gets it.
    assert!(
        b.receive(1, Duration::from_millis(10))
            .await
            .unwrap()
            .is_empty()
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    let again = b.receive(1, Duration::from_millis(10)).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].chunk, c0);
    assert_eq!(again[0].id, first[0].id);
    assert_eq!(again[0].deliveries, 2);
    b.dead_letter(&again[0], "kept failing").await.unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(
        a.receive(1, Duration::from_millis(10))
            .await
            .unwrap()
            .is_empty()
    );
    let client = redis::Client::open(url()).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let n: usize = redis::cmd("XLEN")
        .arg(b.dead_letter_stream())
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(n, 1);
    delete(&stream).await;
}
