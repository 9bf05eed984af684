//! `weir get-offsets`: kafka-get-offsets.sh (Kafka's GetOffsetShell). Prints
//! `topic:partition:offset` for the partitions chosen by `--topic` (a
//! regular expression over whole names) and `--partitions`, or by
//! `--topic-partitions` patterns, at `--time`: -1 or `latest`, -2 or
//! `earliest`, -3 or `max-timestamp`, -4 or `earliest-local`, -5 or
//! `latest-tiered`, or a timestamp in ms (the first offset at or after it).
//! Partitions without such an offset print nothing, as in Kafka.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use kafka_protocol::messages::ListOffsetsRequest;

use super::common::{block_on, connect_wait, Target};
use crate::kafka::admin::Cluster;

#[derive(Debug, Args)]
pub struct GetOffsetsArgs {
    #[command(flatten)]
    pub target: Target,
    /// The topics, a regular expression matching whole names (all topics
    /// when left out).
    #[arg(long)]
    pub topic: Option<String>,
    /// Comma-separated partition ids (all when left out).
    #[arg(long)]
    pub partitions: Option<String>,
    /// `topic-regex:partitions` patterns, comma-separated; partitions are
    /// `N`, `N-M` (M excluded), `N-`, `-M`, or left out for all.
    #[arg(long = "topic-partitions")]
    pub topic_partitions: Option<String>,
    /// -1 (latest), -2 (earliest), -3 (max-timestamp), -4 (earliest-local),
    /// -5 (latest-tiered), their names, or a timestamp in ms.
    #[arg(long, default_value = "-1", allow_hyphen_values = true)]
    pub time: String,
    /// Leave out internal topics (__consumer_offsets ...).
    #[arg(long = "exclude-internal-topics")]
    pub exclude_internal_topics: bool,
    /// Client properties file (security settings of the admin connection).
    #[arg(long = "command-config")]
    pub command_config: Option<PathBuf>,
}

/// Which partitions of which topics.
struct Filter {
    topic: regex::Regex,
    /// Inclusive lower and exclusive upper bound.
    range: (i32, i32),
    ids: Option<Vec<i32>>,
}

impl Filter {
    fn takes(&self, topic: &str, p: i32) -> bool {
        self.topic.is_match(topic)
            && p >= self.range.0
            && p < self.range.1
            && self.ids.as_ref().is_none_or(|ids| ids.contains(&p))
    }
}

fn whole(pattern: &str) -> anyhow::Result<regex::Regex> {
    regex::Regex::new(&format!("^(?:{pattern})$"))
        .map_err(|e| anyhow::anyhow!("invalid topic pattern {pattern}: {e}"))
}

fn number(s: &str, what: &str) -> anyhow::Result<i32> {
    s.trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("invalid {what} {s:?}: a partition number is expected"))
}

/// The filters `--topic`/`--partitions` or `--topic-partitions` describe.
fn filters(args: &GetOffsetsArgs) -> anyhow::Result<Vec<Filter>> {
    if let Some(tp) = &args.topic_partitions {
        if args.topic.is_some() || args.partitions.is_some() {
            bail!("--topic-partitions cannot be used with --topic or --partitions");
        }
        return tp
            .split(',')
            .map(|item| {
                let (topic, parts) = item.split_once(':').unwrap_or((item, ""));
                let topic = if topic.is_empty() { ".*" } else { topic };
                let range = match parts.trim() {
                    "" => (0, i32::MAX),
                    p => match p.split_once('-') {
                        None => {
                            let n = number(p, "partition")?;
                            (n, n.saturating_add(1))
                        }
                        Some(("", hi)) => (0, number(hi, "partition range")?),
                        Some((lo, "")) => (number(lo, "partition range")?, i32::MAX),
                        Some((lo, hi)) => (
                            number(lo, "partition range")?,
                            number(hi, "partition range")?,
                        ),
                    },
                };
                Ok(Filter {
                    topic: whole(topic)?,
                    range,
                    ids: None,
                })
            })
            .collect();
    }
    let ids = args
        .partitions
        .as_ref()
        .map(|p| p.split(',').map(|x| number(x, "partition")).collect())
        .transpose()?;
    Ok(vec![Filter {
        topic: whole(args.topic.as_deref().unwrap_or(".*"))?,
        range: (0, i32::MAX),
        ids,
    }])
}

/// `--time` as ListOffsets takes it; `None` for latest-tiered, which a
/// broker without tiered storage has no offset for.
fn timestamp(time: &str) -> anyhow::Result<Option<i64>> {
    Ok(Some(match time.trim() {
        "-1" | "latest" => -1,
        "-2" | "earliest" => -2,
        "-3" | "max-timestamp" => -3,
        // No tiered storage: the earliest local offset is the earliest.
        "-4" | "earliest-local" => -2,
        "-5" | "latest-tiered" => return Ok(None),
        t => match t.parse::<i64>() {
            Ok(ms) if ms >= 0 => ms,
            _ => bail!("Malformed time argument {t}. Please use -1 or latest / -2 or earliest / -3 or max-timestamp / -4 or earliest-local / -5 or latest-tiered, or a specified long format timestamp"),
        },
    }))
}

pub fn run(args: GetOffsetsArgs) -> anyhow::Result<()> {
    let filters = filters(&args)?;
    let time = timestamp(&args.time)?;
    block_on(async {
        args.target
            .check_admin_config(args.command_config.as_deref())?;
        let servers = args.target.server_list()?;
        let mut cluster = Cluster::connect(&servers, "weir-get-offsets", connect_wait()).await?;
        let md = cluster.metadata(None).await?;
        let mut chosen: Vec<(String, i32, i32)> = Vec::new();
        for t in &md.topics {
            let Some(name) = t.name.as_ref().map(|n| n.to_string()) else {
                continue;
            };
            if args.exclude_internal_topics && (t.is_internal || name.starts_with("__")) {
                continue;
            }
            for p in &t.partitions {
                let id = p.partition_index;
                if filters.iter().any(|f| f.takes(&name, id)) {
                    chosen.push((name.clone(), id, p.leader_id.0));
                }
            }
        }
        if chosen.is_empty() {
            bail!("Could not match any topic-partitions with the specified filters");
        }
        chosen.sort();
        let Some(time) = time else {
            return Ok(());
        };
        for (topic, partition, offset) in list(&mut cluster, &chosen, time).await? {
            println!("{topic}:{partition}:{offset}");
        }
        Ok(())
    })
}

/// Each partition's offset for `time` from its leader; partitions without
/// one are left out, errors are printed and skipped as Kafka's tool does.
async fn list(
    cluster: &mut Cluster,
    chosen: &[(String, i32, i32)],
    time: i64,
) -> anyhow::Result<Vec<(String, i32, i64)>> {
    use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
    use kafka_protocol::messages::BrokerId;
    let mut out = Vec::new();
    for (topic, partition, leader) in chosen {
        let request = ListOffsetsRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_topics(vec![ListOffsetsTopic::default()
                .with_name(crate::kafka::admin::topic_name(topic))
                .with_partitions(vec![ListOffsetsPartition::default()
                    .with_partition_index(*partition)
                    .with_timestamp(time)])]);
        let response = cluster.node(*leader).await?.send(&request, 7).await?;
        for t in response.topics {
            for p in t.partitions {
                if p.error_code != 0 {
                    eprintln!(
                        "Skip getting offsets for topic-partition {topic}-{partition} due to error: {}",
                        crate::kafka::admin::describe(p.error_code, None)
                    );
                } else if p.offset >= 0 {
                    out.push((topic.clone(), *partition, p.offset));
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(topic: Option<&str>, parts: Option<&str>, tp: Option<&str>) -> GetOffsetsArgs {
        GetOffsetsArgs {
            target: Target {
                bootstrap_server: Some("x:1".into()),
                broker_list: None,
                zookeeper: None,
            },
            topic: topic.map(Into::into),
            partitions: parts.map(Into::into),
            topic_partitions: tp.map(Into::into),
            time: "-1".into(),
            exclude_internal_topics: false,
            command_config: None,
        }
    }

    #[test]
    fn topic_partition_patterns_as_kafka_reads_them() {
        let f = filters(&args(None, None, Some("a.*:1,b:0-3,c:5-,d:-2,e"))).expect("filters");
        let takes = |t: &str, p: i32| f.iter().any(|f| f.takes(t, p));
        assert!(takes("apple", 1) && !takes("apple", 0));
        assert!(takes("b", 2) && !takes("b", 3));
        assert!(takes("c", 9) && !takes("c", 4));
        assert!(takes("d", 1) && !takes("d", 2));
        assert!(takes("e", 7) && !takes("ee", 7), "whole names only");
        let f = filters(&args(Some("t\\d"), Some("0,2"), None)).expect("filters");
        assert!(f[0].takes("t1", 2) && !f[0].takes("t1", 1) && !f[0].takes("t10", 0));
        assert!(filters(&args(Some("t"), None, Some("t:1"))).is_err());
    }

    #[test]
    fn times_by_number_and_name() {
        assert_eq!(timestamp("latest").expect("t"), Some(-1));
        assert_eq!(timestamp("-3").expect("t"), Some(-3));
        assert_eq!(timestamp("earliest-local").expect("t"), Some(-2));
        assert_eq!(timestamp("-5").expect("t"), None);
        assert_eq!(
            timestamp("1700000000000").expect("t"),
            Some(1_700_000_000_000)
        );
        assert!(timestamp("-7").is_err() && timestamp("soon").is_err());
    }
}
