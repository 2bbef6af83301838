//! Redis Streams transport: one stream, one consumer group, one consumer per worker process.
//!
//! - enqueue: `XADD stream * chunk <json>` (pipelined);
//! - receive: first `XAUTOCLAIM` messages other consumers left pending longer than the visibility
//!   timeout (a worker killed mid-chunk), then `XREADGROUP ... BLOCK` for new ones;
//! - ack: `XACK` + `XDEL` (a finished chunk is not kept);
//! - nack: nothing — the message stays pending and is claimed again after the visibility timeout;
//! - dead letter: `XADD stream:dead * chunk <json> reason <text>`, then ack.

use crate::{BoxFuture, Chunk, Delivery, JobQueue, QueueError};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::{StreamAutoClaimReply, StreamId, StreamPendingCountReply, StreamReadReply};
use std::time::Duration;

/// Defaults: stream `payroll:run-chunks`, group `payroll-workers`.
pub const DEFAULT_STREAM: &str = "payroll:run-chunks";
pub const DEFAULT_GROUP: &str = "payroll-workers";

pub struct RedisStreamsQueue {
    conn: ConnectionManager,
    stream: String,
    group: String,
    consumer: String,
    visibility: Duration,
}

impl RedisStreamsQueue {
    /// Connect and create the consumer group if needed (reading from the start of the stream, so
    /// chunks enqueued before the first worker started are delivered).
    pub async fn connect(
        url: &str,
        stream: &str,
        group: &str,
        consumer: &str,
        visibility: Duration,
    ) -> Result<RedisStreamsQueue, QueueError> {
        let client = redis::Client::open(url)?;
        // No response timeout: XREADGROUP BLOCK waits on purpose.
        let cfg = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(None);
        let conn = client.get_connection_manager_with_config(cfg).await?;
        let q = RedisStreamsQueue {
            conn,
            stream: stream.to_owned(),
            group: group.to_owned(),
            consumer: consumer.to_owned(),
            visibility,
        };
        q.ensure_group().await?;
        Ok(q)
    }

    /// `QUEUE_URL=redis://host:6379` with the default stream and group, a unique consumer name,
    /// and `visibility` as the time after which another worker takes over an unacknowledged chunk.
    pub async fn from_url(
        url: &str,
        visibility: Duration,
    ) -> Result<RedisStreamsQueue, QueueError> {
        let consumer = format!(
            "worker-{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        RedisStreamsQueue::connect(url, DEFAULT_STREAM, DEFAULT_GROUP, &consumer, visibility).await
    }

    pub fn stream(&self) -> &str {
        &self.stream
    }

    pub fn consumer(&self) -> &str {
        &self.consumer
    }

    /// The dead-letter stream's name.
    pub fn dead_letter_stream(&self) -> String {
        format!("{}:dead", self.stream)
    }

    async fn ensure_group(&self) -> Result<(), QueueError> {
        let mut c = self.conn.clone();
        let r: Result<(), redis::RedisError> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.stream)
            .arg(&self.group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut c)
            .await;
        match r {
            Ok(()) => Ok(()),
            Err(e) if e.to_string().contains("BUSYGROUP") => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn decode(&self, s: &StreamId, deliveries: u32) -> Result<Delivery, QueueError> {
        let text: String = s.get("chunk").ok_or_else(|| QueueError::BadMessage {
            id: s.id.clone(),
            message: "no `chunk` field".into(),
        })?;
        let chunk: Chunk = serde_json::from_str(&text).map_err(|e| QueueError::BadMessage {
            id: s.id.clone(),
            message: e.to_string(),
        })?;
        Ok(Delivery {
            id: s.id.clone(),
            chunk,
            deliveries,
        })
    }

    async fn delivery_count(&self, id: &str) -> Result<u32, QueueError> {
        let mut c = self.conn.clone();
        let r: StreamPendingCountReply = redis::cmd("XPENDING")
            .arg(&self.stream)
            .arg(&self.group)
            .arg(id)
            .arg(id)
            .arg(1)
            .query_async(&mut c)
            .await?;
        Ok(r.ids
            .first()
            .map(|p| u32::try_from(p.times_delivered).unwrap_or(u32::MAX))
            .unwrap_or(1))
    }

    /// Messages pending longer than the visibility timeout, now owned by this consumer.
    async fn reclaim(&self, max: usize) -> Result<Vec<Delivery>, QueueError> {
        let mut c = self.conn.clone();
        let idle_ms = u64::try_from(self.visibility.as_millis()).unwrap_or(u64::MAX);
        let r: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
            .arg(&self.stream)
            .arg(&self.group)
            .arg(&self.consumer)
            .arg(idle_ms)
            .arg("0-0")
            .arg("COUNT")
            .arg(max)
            .query_async(&mut c)
            .await?;
        let mut out = Vec::with_capacity(r.claimed.len());
        for s in &r.claimed {
            let n = self.delivery_count(&s.id).await?;
            match self.decode(s, n) {
                Ok(d) => out.push(d),
                Err(e) => {
                    tracing::error!(error = %e, "dropping an unreadable queue message");
                    self.remove(&s.id).await?;
                }
            }
        }
        Ok(out)
    }

    async fn remove(&self, id: &str) -> Result<(), QueueError> {
        let mut c = self.conn.clone();
        let () = redis::pipe()
            .cmd("XACK")
            .arg(&self.stream)
            .arg(&self.group)
            .arg(id)
            .ignore()
            .cmd("XDEL")
            .arg(&self.stream)
            .arg(id)
            .ignore()
            .query_async(&mut c)
            .await?;
        Ok(())
    }
}

/// The stream or its consumer group does not exist (any more).
fn is_nogroup(e: &redis::RedisError) -> bool {
    e.code() == Some("NOGROUP") || e.to_string().contains("NOGROUP")
}

impl JobQueue for RedisStreamsQueue {
    fn enqueue<'a>(&'a self, chunks: &'a [Chunk]) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            if chunks.is_empty() {
                return Ok(());
            }
            let mut p = redis::pipe();
            for ch in chunks {
                let json = serde_json::to_string(ch)
                    .map_err(|e| QueueError::Config(format!("cannot encode a chunk: {e}")))?;
                p.cmd("XADD")
                    .arg(&self.stream)
                    .arg("*")
                    .arg("chunk")
                    .arg(json)
                    .ignore();
            }
            let mut c = self.conn.clone();
            let () = p.query_async(&mut c).await?;
            Ok(())
        })
    }

    fn receive(
        &self,
        max: usize,
        wait: Duration,
    ) -> BoxFuture<'_, Result<Vec<Delivery>, QueueError>> {
        Box::pin(async move {
            let max = max.max(1);
            // NOGROUP: the stream or its group is gone (Redis was wiped or restarted without
            // persistence). Re-create the group; the chunks that were lost are re-driven from
            // PostgreSQL by the scheduler.
            let mut out = match self.reclaim(max).await {
                Ok(o) => o,
                Err(QueueError::Redis(e)) if is_nogroup(&e) => {
                    tracing::warn!(stream = %self.stream, "consumer group missing; re-creating it");
                    self.ensure_group().await?;
                    Vec::new()
                }
                Err(e) => return Err(e),
            };
            if out.len() >= max {
                return Ok(out);
            }
            let mut c = self.conn.clone();
            let block_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
            let r: Result<Option<StreamReadReply>, redis::RedisError> = redis::cmd("XREADGROUP")
                .arg("GROUP")
                .arg(&self.group)
                .arg(&self.consumer)
                .arg("COUNT")
                .arg(max - out.len())
                .arg("BLOCK")
                .arg(block_ms)
                .arg("STREAMS")
                .arg(&self.stream)
                .arg(">")
                .query_async(&mut c)
                .await;
            let r = match r {
                Ok(r) => r,
                Err(e) if is_nogroup(&e) => {
                    tracing::warn!(stream = %self.stream, "consumer group missing; re-creating it");
                    self.ensure_group().await?;
                    return Ok(out);
                }
                Err(e) => return Err(e.into()),
            };
            for key in r.map(|r| r.keys).unwrap_or_default() {
                for s in &key.ids {
                    match self.decode(s, 1) {
                        Ok(d) => out.push(d),
                        Err(e) => {
                            tracing::error!(error = %e, "dropping an unreadable queue message");
                            self.remove(&s.id).await?;
                        }
                    }
                }
            }
            Ok(out)
        })
    }

    fn ack<'a>(&'a self, d: &'a Delivery) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move { self.remove(&d.id).await })
    }

    fn nack<'a>(&'a self, _d: &'a Delivery) -> BoxFuture<'a, Result<(), QueueError>> {
        // Left pending: claimed again (by any worker) after the visibility timeout.
        Box::pin(async { Ok(()) })
    }

    fn dead_letter<'a>(
        &'a self,
        d: &'a Delivery,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            let json = serde_json::to_string(&d.chunk)
                .map_err(|e| QueueError::Config(format!("cannot encode a chunk: {e}")))?;
            let mut c = self.conn.clone();
            let _: String = redis::cmd("XADD")
                .arg(self.dead_letter_stream())
                .arg("*")
                .arg("chunk")
                .arg(json)
                .arg("reason")
                .arg(reason)
                .arg("id")
                .arg(&d.id)
                .query_async(&mut c)
                .await?;
            self.remove(&d.id).await
        })
    }

    fn transport(&self) -> &'static str {
        "redis-streams"
    }
}
