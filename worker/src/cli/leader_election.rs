//! `weir leader-election`: kafka-leader-election.sh over ElectLeaders, with
//! Kafka's flags and messages.

use clap::Args;
use kafka_protocol::messages::elect_leaders_request::TopicPartitions;
use kafka_protocol::messages::ElectLeadersRequest;

use super::common::{block_on, Target};
use crate::kafka::admin::{check, topic_name};

/// Kafka's ELECTION_NOT_NEEDED.
const ELECTION_NOT_NEEDED: i16 = 84;

#[derive(Debug, Args)]
pub struct LeaderElectionArgs {
    #[command(flatten)]
    pub target: Target,
    /// Client properties file (security settings of the admin connection).
    #[arg(long = "admin.config", alias = "command-config")]
    pub admin_config: Option<std::path::PathBuf>,
    /// PREFERRED or UNCLEAN.
    #[arg(long = "election-type")]
    pub election_type: String,
    /// The topic of the partition (with --partition).
    #[arg(long)]
    pub topic: Option<String>,
    /// The partition (with --topic).
    #[arg(long)]
    pub partition: Option<i32>,
    /// Elect leaders of every partition.
    #[arg(long = "all-topic-partitions")]
    pub all_topic_partitions: bool,
    /// `{"partitions": [{"topic": "t", "partition": 0}]}`.
    #[arg(long = "path-to-json-file")]
    pub path_to_json_file: Option<std::path::PathBuf>,
}

fn partitions(args: &LeaderElectionArgs) -> anyhow::Result<Option<Vec<(String, i32)>>> {
    let given = [
        args.topic.is_some(),
        args.all_topic_partitions,
        args.path_to_json_file.is_some(),
    ]
    .iter()
    .filter(|g| **g)
    .count();
    if given != 1 {
        anyhow::bail!("One and only one of the following options is required: --all-topic-partitions, --topic, --path-to-json-file");
    }
    if args.all_topic_partitions {
        return Ok(None);
    }
    if let Some(t) = &args.topic {
        let p = args
            .partition
            .ok_or_else(|| anyhow::anyhow!("Missing required option(s) [partition]"))?;
        return Ok(Some(vec![(t.clone(), p)]));
    }
    let path = args
        .path_to_json_file
        .as_ref()
        .map_or_else(Default::default, |p| p.clone());
    let text =
        std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: not JSON: {e}", path.display()))?;
    let list = json["partitions"].as_array().ok_or_else(|| {
        anyhow::anyhow!(
            "{}: expected {{\"partitions\": [{{\"topic\": ..., \"partition\": ...}}]}}",
            path.display()
        )
    })?;
    list.iter()
        .map(|p| {
            let t = p["topic"].as_str();
            let n = p["partition"].as_i64().and_then(|n| i32::try_from(n).ok());
            match (t, n) {
                (Some(t), Some(n)) => Ok((t.to_string(), n)),
                _ => anyhow::bail!("{}: {p} needs a topic and a partition", path.display()),
            }
        })
        .collect::<anyhow::Result<Vec<_>>>()
        .map(Some)
}

pub fn run(args: LeaderElectionArgs) -> anyhow::Result<()> {
    let kind = args.election_type.to_ascii_uppercase();
    let wire = match kind.as_str() {
        "PREFERRED" => 0,
        "UNCLEAN" => 1,
        other => anyhow::bail!("Unknown election type {other}: PREFERRED or UNCLEAN"),
    };
    let wanted = partitions(&args)?;
    block_on(async {
        let mut cluster = args
            .target
            .admin(args.admin_config.as_deref(), "weir-leader-election")
            .await?;
        let mut by_topic: std::collections::BTreeMap<String, Vec<i32>> = Default::default();
        for (t, p) in wanted.iter().flatten() {
            by_topic.entry(t.clone()).or_default().push(*p);
        }
        let req = ElectLeadersRequest::default()
            .with_election_type(wire)
            .with_timeout_ms(30_000)
            .with_topic_partitions(wanted.as_ref().map(|_| {
                by_topic
                    .iter()
                    .map(|(t, ps)| {
                        TopicPartitions::default()
                            .with_topic(topic_name(t))
                            .with_partitions(ps.clone())
                    })
                    .collect()
            }));
        let resp = cluster.controller_conn().await?.send(&req, 2).await?;
        check(resp.error_code, None)?;
        let (mut done, mut noop, mut failed) = (Vec::new(), Vec::new(), Vec::new());
        for t in &resp.replica_election_results {
            for p in &t.partition_result {
                let name = format!("{}-{}", t.topic.as_str(), p.partition_id);
                match p.error_code {
                    0 => done.push(name),
                    ELECTION_NOT_NEEDED => noop.push(name),
                    code => failed.push((
                        name,
                        crate::kafka::admin::describe(code, p.error_message.as_deref()),
                    )),
                }
            }
        }
        if !done.is_empty() {
            println!(
                "Successfully completed leader election ({kind}) for partitions {}",
                done.join(", ")
            );
        }
        if !noop.is_empty() {
            println!(
                "Valid replica already elected for partitions {}",
                noop.join(", ")
            );
        }
        if !failed.is_empty() {
            for (p, why) in &failed {
                println!("Error completing leader election ({kind}) for partition: {p}: {why}");
            }
            anyhow::bail!("{} replica(s) could not be elected", failed.len());
        }
        Ok(())
    })
}
