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
        let mut places = Vec::new();
        for reader in &ch.readers {
            let mut place = read_to(connectors, reader);
            if !mine.iter().all(|tp| place.contains_key(*tp)) {
                let group = format!("connect-{reader}");
                let (_, _, conn) = cluster.coordinator(&group).await?;
                for (tp, o) in offsets::committed(conn, &group).await? {
                    place.entry(tp).or_insert(o);
                }
            }
            places.push(place);
        }
        sizes.insert(ch.name.clone(), size(&mine, &starts, &ends, &places));
    }
    Ok(sizes)
}

/// A channel's size: the most any of its sinks has left to read, each
/// standing at `places` (a partition a sink has no place in, or one before
/// the partition's start, counts from the start); without sinks, every
/// event its partitions keep.
fn size(
    partitions: &[&Tp],
    starts: &BTreeMap<Tp, i64>,
    ends: &BTreeMap<Tp, i64>,
    places: &[BTreeMap<Tp, i64>],
) -> u64 {
    let unread = |place: &BTreeMap<Tp, i64>| -> u64 {
        partitions
            .iter()
            .map(|tp| {
                let start = starts.get(*tp).copied().unwrap_or(0);
                let from = place.get(*tp).copied().unwrap_or(start).max(start);
                let end = ends.get(*tp).copied().unwrap_or(0);
                u64::try_from(end - from).unwrap_or(0)
            })
            .sum()
    };
    if places.is_empty() {
        return unread(&BTreeMap::new());
    }
    places.iter().map(unread).max().unwrap_or(0)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn offsets(items: &[(i32, i64)]) -> BTreeMap<Tp, i64> {
        items
            .iter()
            .map(|(p, o)| (("t".to_string(), *p), *o))
            .collect()
    }

    #[test]
    fn the_size_is_what_the_slowest_sink_has_left() {
        let (p0, p1) = (("t".to_string(), 0), ("t".to_string(), 1));
        let partitions = [&p0, &p1];
        let starts = offsets(&[(0, 10), (1, 0)]);
        let ends = offsets(&[(0, 50), (1, 20)]);
        // Without sinks: everything kept, 40 + 20.
        assert_eq!(size(&partitions, &starts, &ends, &[]), 60);
        let fast = offsets(&[(0, 50), (1, 18)]);
        // No place in partition 1, and a place before partition 0's start:
        // both count from the start.
        let slow = offsets(&[(0, 3)]);
        assert_eq!(
            size(&partitions, &starts, &ends, std::slice::from_ref(&fast)),
            2
        );
        assert_eq!(size(&partitions, &starts, &ends, &[fast, slow]), 60);
        // A place past the end (the end looked up first) counts as nothing left.
        assert_eq!(
            size(&partitions, &starts, &ends, &[offsets(&[(0, 51), (1, 20)])]),
            0
        );
    }
}
