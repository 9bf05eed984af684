//! `weir topics`: kafka-topics.sh with Kafka's flags, messages and layouts.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::metadata_response::MetadataResponseTopic;
use kafka_protocol::messages::{CreatePartitionsRequest, CreateTopicsRequest, DeleteTopicsRequest};
use kafka_protocol::protocol::StrBytes;

use super::common::{block_on, connect_wait, key_value, Target};
use super::configs::{describe_topic_configs, source};
use crate::kafka::admin::{check, topic_name, Cluster};

#[derive(Debug, Args)]
pub struct TopicsArgs {
    #[command(flatten)]
    pub target: Target,
    /// Client properties file (security settings of the admin connection).
    #[arg(long = "command-config")]
    pub command_config: Option<PathBuf>,
    /// Create a topic.
    #[arg(long)]
    pub create: bool,
    /// List all topics.
    #[arg(long)]
    pub list: bool,
    /// Describe topics.
    #[arg(long)]
    pub describe: bool,
    /// Change the number of partitions (growing only).
    #[arg(long)]
    pub alter: bool,
    /// Delete a topic.
    #[arg(long)]
    pub delete: bool,
    /// The topic (a regular expression for --list, --describe and --delete).
    #[arg(long)]
    pub topic: Option<String>,
    /// Number of partitions (--create, --alter).
    #[arg(long, allow_negative_numbers = true)]
    pub partitions: Option<i32>,
    /// Replication factor (--create).
    #[arg(long = "replication-factor", allow_negative_numbers = true)]
    pub replication_factor: Option<i32>,
    /// A topic config override `key=value` (repeatable).
    #[arg(long = "config")]
    pub config: Vec<String>,
    /// With --create: do nothing when the topic exists.
    #[arg(long = "if-not-exists")]
    pub if_not_exists: bool,
    /// With --alter/--delete/--describe: do nothing when the topic is missing.
    #[arg(long = "if-exists")]
    pub if_exists: bool,
    /// Leave out internal topics.
    #[arg(long = "exclude-internal")]
    pub exclude_internal: bool,
    /// With --describe: only topics that have config overrides.
    #[arg(long = "topics-with-overrides")]
    pub topics_with_overrides: bool,
    /// With --describe: only under-replicated partitions (none on one broker).
    #[arg(long = "under-replicated-partitions")]
    pub under_replicated: bool,
    /// With --describe: only partitions without a leader.
    #[arg(long = "unavailable-partitions")]
    pub unavailable: bool,
}

const COLLISION_WARNING: &str = "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.";

pub fn run(args: TopicsArgs) -> anyhow::Result<()> {
    let actions = [
        args.create,
        args.list,
        args.describe,
        args.alter,
        args.delete,
    ];
    if actions.iter().filter(|a| **a).count() != 1 {
        bail!("Command must include exactly one action: --list, --describe, --create, --alter or --delete");
    }
    let result = block_on(async {
        args.target
            .check_admin_config(args.command_config.as_deref())?;
        let servers = args.target.server_list()?;
        let mut cluster = Cluster::connect(&servers, "weir-topics", connect_wait()).await?;
        if args.create {
            create(&mut cluster, &args).await
        } else if args.list {
            list(&mut cluster, &args).await
        } else if args.describe {
            describe(&mut cluster, &args).await
        } else if args.alter {
            alter(&mut cluster, &args).await
        } else {
            delete(&mut cluster, &args).await
        }
    });
    result.map_err(|e| {
        super::StdoutError(format!("Error while executing topic command : {e:#}")).into()
    })
}

fn required_topic(args: &TopicsArgs) -> anyhow::Result<&str> {
    args.topic
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("Missing required argument \"[topic]\""))
}

async fn create(cluster: &mut Cluster, args: &TopicsArgs) -> anyhow::Result<()> {
    let name = required_topic(args)?;
    if let Some(p) = args.partitions {
        if p < 1 {
            bail!("The partitions must be greater than 0");
        }
    }
    if let Some(rf) = args.replication_factor {
        if !(1..=32767).contains(&rf) {
            bail!("The replication factor must be between 1 and 32767 inclusive");
        }
    }
    let configs = args
        .config
        .iter()
        .map(|kv| {
            let (k, v) = key_value("--config", kv)?;
            Ok(CreatableTopicConfig::default()
                .with_name(StrBytes::from_string(k))
                .with_value(Some(StrBytes::from_string(v))))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if name.contains('.') || name.contains('_') {
        println!("{COLLISION_WARNING}");
    }
    let topic = CreatableTopic::default()
        .with_name(topic_name(name))
        .with_num_partitions(args.partitions.unwrap_or(-1))
        .with_replication_factor(args.replication_factor.map_or(-1, |r| r as i16))
        .with_configs(configs);
    let request = CreateTopicsRequest::default()
        .with_topics(vec![topic])
        .with_timeout_ms(30_000);
    let conn = cluster.controller_conn().await?;
    let response = conn.send(&request, 5).await?;
    for t in &response.topics {
        if t.error_code == 36 && args.if_not_exists {
            return Ok(());
        }
        check(t.error_code, t.error_message.as_ref())?;
    }
    println!("Created topic {name}.");
    Ok(())
}

/// Topics matching `--topic` (a regular expression, as in Kafka), sorted by
/// name; with `must_exist`, no match is an error naming the pattern.
async fn matching(
    cluster: &mut Cluster,
    args: &TopicsArgs,
    must_exist: bool,
) -> anyhow::Result<Vec<MetadataResponseTopic>> {
    let metadata = cluster.metadata(None).await?;
    let pattern = match &args.topic {
        // Kafka's topic filter: commas separate alternatives; spaces and
        // quotes are dropped.
        Some(t) => {
            let cleaned: String = t
                .chars()
                .filter(|c| !matches!(c, ' ' | '"' | '\''))
                .collect();
            Some(regex::Regex::new(&format!(
                "^(?:{})$",
                cleaned.replace(',', "|")
            ))?)
        }
        None => None,
    };
    let mut topics: Vec<MetadataResponseTopic> = metadata
        .topics
        .into_iter()
        .filter(|t| !(args.exclude_internal && t.is_internal))
        .filter(|t| pattern.as_ref().is_none_or(|p| p.is_match(&name_of(t))))
        .collect();
    topics.sort_by(|a, b| a.name.cmp(&b.name));
    if let (true, true, Some(t)) = (
        topics.is_empty(),
        must_exist && !args.if_exists,
        &args.topic,
    ) {
        bail!("Topic '{t}' does not exist as expected");
    }
    Ok(topics)
}

fn name_of(t: &MetadataResponseTopic) -> String {
    t.name.as_ref().map(|n| n.to_string()).unwrap_or_default()
}

async fn list(cluster: &mut Cluster, args: &TopicsArgs) -> anyhow::Result<()> {
    for t in matching(cluster, args, false).await? {
        println!("{}", name_of(&t));
    }
    Ok(())
}

async fn describe(cluster: &mut Cluster, args: &TopicsArgs) -> anyhow::Result<()> {
    let topics = matching(cluster, args, true).await?;
    for t in topics {
        let name = name_of(&t);
        check(t.error_code, None)?;
        let configs = describe_topic_configs(cluster.any()?, &name).await?;
        let overrides: Vec<String> = configs
            .iter()
            .filter(|c| c.config_source != source::DEFAULT_CONFIG)
            .map(|c| {
                let v = if c.is_sensitive {
                    None
                } else {
                    c.value.as_ref().map(|v| v.to_string())
                };
                format!("{}={}", c.name, v.as_deref().unwrap_or("null"))
            })
            .collect();
        if args.topics_with_overrides && overrides.is_empty() {
            continue;
        }
        let mut partitions = t.partitions.clone();
        partitions.sort_by_key(|p| p.partition_index);
        let rf = partitions.first().map_or(0, |p| p.replica_nodes.len());
        let only_partitions = args.under_replicated || args.unavailable;
        if !only_partitions {
            println!(
                "Topic: {name}\tTopicId: {}\tPartitionCount: {}\tReplicationFactor: {rf}\tConfigs: {}",
                kafka_uuid(t.topic_id.as_bytes()),
                partitions.len(),
                overrides.join(",")
            );
        }
        // With --topics-with-overrides Kafka lists the topics only.
        if args.topics_with_overrides {
            continue;
        }
        for p in partitions {
            let under = p.isr_nodes.len() < p.replica_nodes.len();
            let leaderless = p.leader_id.0 < 0;
            if (args.under_replicated && !under) || (args.unavailable && !leaderless) {
                continue;
            }
            let ids = |v: &[kafka_protocol::messages::BrokerId]| {
                v.iter()
                    .map(|b| b.0.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let leader = if leaderless {
                "none".to_string()
            } else {
                p.leader_id.0.to_string()
            };
            println!(
                "\tTopic: {name}\tPartition: {}\tLeader: {leader}\tReplicas: {}\tIsr: {}\tElr: N/A\tLastKnownElr: N/A",
                p.partition_index,
                ids(&p.replica_nodes),
                ids(&p.isr_nodes)
            );
        }
    }
    Ok(())
}

async fn alter(cluster: &mut Cluster, args: &TopicsArgs) -> anyhow::Result<()> {
    required_topic(args)?;
    let Some(count) = args.partitions else {
        bail!("--alter needs --partitions (Weir's --alter changes the partition count; use `weir configs` for configs)");
    };
    if args.replication_factor.is_some() {
        bail!("Option \"[replication-factor]\" can't be used with option \"[alter]\"");
    }
    if count < 1 {
        bail!("The partitions must be greater than 0");
    }
    let topics = matching(cluster, args, true).await?;
    let request = CreatePartitionsRequest::default()
        .with_topics(
            topics
                .iter()
                .map(|t| {
                    CreatePartitionsTopic::default()
                        .with_name(topic_name(&name_of(t)))
                        .with_count(count)
                })
                .collect(),
        )
        .with_timeout_ms(30_000);
    if request.topics.is_empty() {
        return Ok(());
    }
    let response = cluster.controller_conn().await?.send(&request, 3).await?;
    for r in &response.results {
        check(r.error_code, r.error_message.as_ref())?;
    }
    Ok(())
}

async fn delete(cluster: &mut Cluster, args: &TopicsArgs) -> anyhow::Result<()> {
    required_topic(args)?;
    let topics = matching(cluster, args, true).await?;
    let names: Vec<String> = topics.iter().map(name_of).collect();
    if names.is_empty() {
        return Ok(());
    }
    let request = DeleteTopicsRequest::default()
        .with_topic_names(names.iter().map(|n| topic_name(n)).collect())
        .with_topics(
            names
                .iter()
                .map(|n| DeleteTopicState::default().with_name(Some(topic_name(n))))
                .collect(),
        )
        .with_timeout_ms(30_000);
    let conn = cluster.controller_conn().await?;
    let version = conn.version_for::<DeleteTopicsRequest>(6)?;
    let request = if version >= 6 {
        request.with_topic_names(vec![])
    } else {
        request.with_topics(vec![])
    };
    let response = conn.send(&request, 6).await?;
    for r in &response.responses {
        check(r.error_code, r.error_message.as_ref())?;
    }
    Ok(())
}

/// Kafka's text form of a UUID: URL-safe base64 without padding.
pub fn kafka_uuid(bytes: &[u8; 16]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(22);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::kafka_uuid;

    #[test]
    fn uuid_text_matches_kafka() {
        // Kafka's Uuid.toString for 0x...0001 (most significant 0, least 1).
        let mut b = [0u8; 16];
        b[15] = 1;
        assert_eq!(kafka_uuid(&b), "AAAAAAAAAAAAAAAAAAAAAQ");
        assert_eq!(kafka_uuid(&[0xff; 16]), "_____________________w");
    }
}
