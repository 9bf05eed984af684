//! A small Kafka-protocol client for what librdkafka does not expose: config
//! synonyms, incremental config changes, topic ids and API versions (and, for
//! distributed mode, the Connect group protocol).

pub mod admin;
mod conn;
pub mod java_keys;
pub mod offsets;
pub mod polled;
pub mod security;

use std::time::{Duration, Instant};

pub use conn::{ClientError, Connection};

/// How long Weir's librdkafka consumers pause fetching a partition whose
/// prefetch queue is full (`fetch.queue.backoff.ms`). librdkafka's default is a
/// second, during which a consumer that drains its queue quickly sits idle;
/// Kafka's Java consumer fetches again as soon as there is room.
pub const FETCH_QUEUE_BACKOFF_MS: &str = "10";

/// `a:9092, PLAINTEXT://b:9092` -> `["a:9092", "b:9092"]` (any listener name).
pub fn split_servers(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| {
            let x = x.trim();
            x.split_once("://").map_or(x, |(_, hp)| hp).to_string()
        })
        .filter(|x| !x.is_empty())
        .collect()
}

/// The Kafka cluster's id as its brokers report it (empty when they do
/// not answer within `wait`).
pub async fn cluster_id(servers: &str, wait: Duration) -> String {
    let list = split_servers(servers);
    let ask = async {
        let mut cluster = admin::Cluster::connect(&list, "weir-worker-cluster-id", wait)
            .await
            .ok()?;
        let md = cluster.metadata(Some(&[])).await.ok()?;
        md.cluster_id.map(|c| c.to_string())
    };
    tokio::time::timeout(wait + Duration::from_secs(5), ask)
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Connects to the first reachable server of `servers`, retrying all of them
/// until `wait` has passed; the error names every address tried.
pub async fn connect_any(
    servers: &[String],
    client_id: &str,
    wait: Duration,
) -> Result<Connection, ClientError> {
    let deadline = Instant::now() + wait;
    loop {
        let mut last = None;
        for addr in servers {
            let left = deadline.saturating_duration_since(Instant::now());
            match Connection::connect(addr, client_id, left.max(Duration::from_millis(200))).await {
                Ok(conn) => return Ok(conn),
                Err(e) => last = Some(e),
            }
        }
        if Instant::now() >= deadline {
            let reason = match last {
                Some(ClientError::Connect { reason, .. }) => reason,
                Some(other) => other.to_string(),
                None => "no servers given".to_string(),
            };
            return Err(ClientError::Connect {
                addr: servers.join(","),
                reason: format!("no answer within {wait:?} ({reason})"),
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
