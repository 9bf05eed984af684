//! Flume's `ChannelSize` for a channel that is a topic: the events in it
//! that its slowest sink has not read yet.
//!
//! A sink's place in a partition is where its task has read to (each sink
//! task publishes the positions it has handed on), else its group's
//! committed offset, else the partition's first offset, where a sink with
//! nothing committed starts. The topic's end offsets come from the broker
//! at each scrape of `/metrics`. A channel without sinks holds every event
//! its topic keeps.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::kafka::admin::Cluster;
use crate::kafka::offsets::{self, Tp, EARLIEST, LATEST};

use super::metrics::{ConnectorSample, FlumeChannel};

/// How long a scrape waits for the broker before leaving the sizes out.
const WAIT: Duration = Duration::from_secs(2);

/// Each channel's size by channel name; empty when the broker does not
/// answer within [`WAIT`] (the scrape still shows every other counter).
pub async fn channel_sizes(
    bootstrap: &str,
    channels: &[FlumeChannel],
    connectors: &[ConnectorSample],
) -> HashMap<String, u64> {
    if channels.is_empty() {
        return HashMap::new();
    }
    match tokio::time::timeout(WAIT, measure(bootstrap, channels, connectors)).await {
        Ok(Ok(sizes)) => sizes,
        Ok(Err(e)) => {
            tracing::debug!("Flume channel sizes left out of /metrics: {e:#}");
            HashMap::new()
        }
        Err(_) => {
            tracing::debug!(
                "Flume channel sizes left out of /metrics: the broker took over {WAIT:?}"
            );
            HashMap::new()
        }
    }
}

async fn measure(
    bootstrap: &str,
    channels: &[FlumeChannel],
    connectors: &[ConnectorSample],
) -> anyhow::Result<HashMap<String, u64>> {
    let servers = crate::kafka::split_servers(bootstrap);
    let mut cluster = Cluster::connect(&servers, "weir-worker-admin", WAIT).await?;
    let topics: Vec<String> = channels.iter().map(|c| c.topic.clone()).collect();
    let metadata = cluster.metadata(Some(&topics)).await?;
    let partitions: Vec<Tp> = metadata
        .topics
        .iter()
        .filter(|t| t.error_code == 0)
        .filter_map(|t| Some((t.name.as_ref()?.to_string(), t)))
        .flat_map(|(name, t)| {
            t.partitions
                .iter()
                .map(move |p| (name.clone(), p.partition_index))
        })
        .collect();
    let ends = offsets::list_offsets(&mut cluster, &partitions, LATEST).await?;
    let starts = offsets::list_offsets(&mut cluster, &partitions, EARLIEST).await?;
    let mut sizes = HashMap::new();
    for ch in channels {
        let mine: Vec<&Tp> = partitions.iter().filter(|(t, _)| *t == ch.topic).collect();
        let start = |tp: &Tp| starts.get(tp).copied().unwrap_or(0);
        let unread = |from: &dyn Fn(&Tp) -> i64| -> u64 {
            mine.iter()
                .map(|tp| {
                    let end = ends.get(*tp).copied().unwrap_or(0);
                    (end - from(tp).max(start(tp))).max(0) as u64
                })
                .sum()
        };
        let mut size = None::<u64>;
        for reader in &ch.readers {
            let read = read_to(connectors, reader);
            let committed = if mine.iter().all(|tp| read.contains_key(*tp)) {
                BTreeMap::new()
            } else {
                let group = format!("connect-{reader}");
                let (_, _, conn) = cluster.coordinator(&group).await?;
                offsets::committed(conn, &group).await?
            };
            let lag = unread(&|tp| {
                read.get(tp)
                    .or_else(|| committed.get(tp))
                    .copied()
                    .unwrap_or(0)
            });
            size = Some(size.map_or(lag, |s| s.max(lag)));
        }
        let size = size.unwrap_or_else(|| unread(&|_| 0));
        sizes.insert(ch.name.clone(), size);
    }
    Ok(sizes)
}

/// Where the tasks of `connector` that run here have read to.
fn read_to(connectors: &[ConnectorSample], connector: &str) -> BTreeMap<Tp, i64> {
    let mut out = BTreeMap::new();
    for c in connectors.iter().filter(|c| c.name == connector) {
        for (_, _, m) in &c.tasks {
            for (tp, o) in m.positions.lock().iter() {
                out.insert((tp.topic.clone(), tp.partition), *o);
            }
        }
    }
    out
}
