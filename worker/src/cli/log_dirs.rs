//! `weir log-dirs --describe`: kafka-log-dirs.sh. Asks each broker (or those
//! of `--broker-list`) for its log directories and the partitions in them
//! (those of `--topic-list` when given) and prints Kafka's JSON.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use kafka_protocol::messages::describe_log_dirs_request::DescribableLogDirTopic;
use kafka_protocol::messages::DescribeLogDirsRequest;
use serde_json::{json, Value};

use super::common::{block_on, connect_wait, Target};
use crate::kafka::admin::{topic_name, Cluster};

#[derive(Debug, Args)]
pub struct LogDirsArgs {
    /// The broker(s) to connect to, `host:port[,host:port]` (here
    /// `--broker-list` names broker ids, as in Kafka's tool).
    #[arg(long = "bootstrap-server", value_name = "HOST:PORT")]
    pub bootstrap_server: String,
    /// Describe the log directories (the one action).
    #[arg(long)]
    pub describe: bool,
    /// Comma-separated topics (all when left out).
    #[arg(long = "topic-list")]
    pub topic_list: Option<String>,
    /// Comma-separated broker ids (all when left out).
    #[arg(long = "broker-list")]
    pub broker_list: Option<String>,
    /// Client properties file (security settings of the admin connection).
    #[arg(long = "command-config")]
    pub command_config: Option<PathBuf>,
}

fn list(s: &Option<String>) -> Vec<String> {
    s.iter()
        .flat_map(|s| s.split(','))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

pub fn run(args: LogDirsArgs) -> anyhow::Result<()> {
    if !args.describe {
        bail!("Command must include exactly one action: --describe");
    }
    let topics = list(&args.topic_list);
    let wanted: Option<Vec<i32>> = args
        .broker_list
        .as_ref()
        .map(|_| {
            list(&args.broker_list)
                .iter()
                .map(|b| {
                    b.parse()
                        .map_err(|_| anyhow::anyhow!("--broker-list: {b} is not a broker id"))
                })
                .collect::<anyhow::Result<Vec<i32>>>()
        })
        .transpose()?;
    let target = Target {
        bootstrap_server: Some(args.bootstrap_server.clone()),
        broker_list: None,
        zookeeper: None,
    };
    block_on(async {
        target.check_admin_config(args.command_config.as_deref())?;
        let servers = target.server_list()?;
        let mut cluster = Cluster::connect(&servers, "weir-log-dirs", connect_wait()).await?;
        let md = cluster
            .metadata((!topics.is_empty()).then_some(&topics[..]))
            .await?;
        let mut brokers: Vec<i32> = cluster.brokers().keys().copied().collect();
        brokers.sort();
        if let Some(w) = &wanted {
            brokers.retain(|b| w.contains(b));
        }
        // Each topic with all its partitions, when topics are named.
        let request_topics = (!topics.is_empty()).then(|| {
            md.topics
                .iter()
                .filter_map(|t| {
                    let name = t.name.as_ref()?.to_string();
                    Some(
                        DescribableLogDirTopic::default()
                            .with_topic(topic_name(&name))
                            .with_partitions(
                                t.partitions.iter().map(|p| p.partition_index).collect(),
                            ),
                    )
                })
                .collect::<Vec<_>>()
        });
        println!("Querying brokers for log directories information");
        let mut out = Vec::new();
        for b in &brokers {
            let request = DescribeLogDirsRequest::default().with_topics(request_topics.clone());
            let response = cluster.node(*b).await?.send(&request, 4).await?;
            let dirs: Vec<Value> = response
                .results
                .iter()
                .map(|d| {
                    let mut partitions: Vec<(String, i32, Value)> = d
                        .topics
                        .iter()
                        .flat_map(|t| {
                            t.partitions.iter().map(move |p| {
                                (
                                    t.name.to_string(),
                                    p.partition_index,
                                    json!({
                                        "partition": format!("{}-{}", t.name.as_str(), p.partition_index),
                                        "size": p.partition_size,
                                        "offsetLag": p.offset_lag,
                                        "isFuture": p.is_future_key,
                                    }),
                                )
                            })
                        })
                        .collect();
                    partitions.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
                    let error = (d.error_code != 0)
                        .then(|| crate::kafka::admin::describe(d.error_code, None));
                    json!({
                        "logDir": d.log_dir.as_str(),
                        "error": error,
                        "partitions": partitions.into_iter().map(|(_, _, v)| v).collect::<Vec<_>>(),
                    })
                })
                .collect();
            out.push(json!({"broker": b, "logDirs": dirs}));
        }
        let ids: Vec<String> = brokers.iter().map(ToString::to_string).collect();
        println!(
            "Received log directory information from brokers {}",
            ids.join(",")
        );
        println!("{}", json!({"version": 1, "brokers": out}));
        Ok(())
    })
}
