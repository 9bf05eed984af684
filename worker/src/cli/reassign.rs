//! `weir reassign-partitions`: kafka-reassign-partitions.sh (`--generate`,
//! `--execute`, `--verify`, `--list`, `--cancel`) over Metadata,
//! AlterPartitionReassignments, ListPartitionReassignments and
//! AlterReplicaLogDirs, with Kafka's JSON files and messages. On one node a
//! reassignment can only name this broker and completes at once; there are
//! no replication throttles to set or clear.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use clap::Args;
use kafka_protocol::messages::alter_partition_reassignments_request::{
    ReassignablePartition, ReassignableTopic,
};
use kafka_protocol::messages::alter_replica_log_dirs_request::{
    AlterReplicaLogDir, AlterReplicaLogDirTopic,
};
use kafka_protocol::messages::{
    AlterPartitionReassignmentsRequest, AlterReplicaLogDirsRequest, BrokerId,
    ListPartitionReassignmentsRequest,
};
use kafka_protocol::protocol::StrBytes;
use serde_json::{json, Value};

use super::common::{block_on, Target};
use crate::kafka::admin::{check, describe, topic_name, Cluster};

#[derive(Debug, Args)]
pub struct ReassignArgs {
    /// The broker(s) to connect to, `host:port[,host:port]` (here
    /// `--broker-list` names broker ids, as in Kafka's tool).
    #[arg(long = "bootstrap-server", value_name = "HOST:PORT")]
    pub bootstrap_server: Option<String>,
    /// The controller to talk to; on one node, the broker itself.
    #[arg(long = "bootstrap-controller", value_name = "HOST:PORT")]
    pub bootstrap_controller: Option<String>,
    /// Client properties file (security settings of the admin connection).
    #[arg(long = "command-config")]
    pub command_config: Option<PathBuf>,
    /// Propose an assignment of --topics-to-move-json-file over --broker-list.
    #[arg(long)]
    pub generate: bool,
    /// Start the reassignment of --reassignment-json-file.
    #[arg(long)]
    pub execute: bool,
    /// Report the state of --reassignment-json-file's reassignment.
    #[arg(long)]
    pub verify: bool,
    /// List the reassignments in progress.
    #[arg(long)]
    pub list: bool,
    /// Cancel --reassignment-json-file's reassignment.
    #[arg(long)]
    pub cancel: bool,
    /// `{"version":1,"partitions":[{"topic":..,"partition":..,"replicas":[..]}]}`.
    #[arg(long = "reassignment-json-file")]
    pub reassignment_json_file: Option<PathBuf>,
    /// `{"version":1,"topics":[{"topic":..}]}`.
    #[arg(long = "topics-to-move-json-file")]
    pub topics_to_move_json_file: Option<PathBuf>,
    /// Broker ids for --generate, `1,2,3`.
    #[arg(long = "broker-list")]
    pub broker_list: Option<String>,
    /// Accepted as Kafka's (a reassignment in progress is impossible here).
    #[arg(long)]
    pub additional: bool,
    /// Accepted as Kafka's (one node has no replication throttles).
    #[arg(long = "preserve-throttles")]
    pub preserve_throttles: bool,
    /// Accepted as Kafka's (one node has no replication throttles).
    #[arg(long)]
    pub throttle: Option<i64>,
    /// Accepted as Kafka's (one node has no replication throttles).
    #[arg(long = "replica-alter-log-dirs-throttle")]
    pub replica_alter_log_dirs_throttle: Option<i64>,
    /// Accepted as Kafka's.
    #[arg(long)]
    pub timeout: Option<i64>,
    /// Accepted as Kafka's (one node has one rack).
    #[arg(long = "disable-rack-aware")]
    pub disable_rack_aware: bool,
}

/// One partition's target: replicas and, optionally, log directories.
#[derive(Debug, Clone)]
struct Target1 {
    topic: String,
    partition: i32,
    replicas: Vec<i32>,
    log_dirs: Option<Vec<String>>,
}

fn read_json(path: &PathBuf) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: not JSON: {e}", path.display()))
}

fn parse_reassignment(path: &PathBuf) -> anyhow::Result<Vec<Target1>> {
    let json = read_json(path)?;
    let list = json["partitions"]
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("{}: no \"partitions\" array", path.display()))?;
    let mut out = Vec::new();
    for p in list {
        let bad = || {
            anyhow::anyhow!(
                "{}: {p} needs topic, partition and replicas",
                path.display()
            )
        };
        let replicas = p["replicas"]
            .as_array()
            .ok_or_else(bad)?
            .iter()
            .map(|r| {
                r.as_i64()
                    .and_then(|r| i32::try_from(r).ok())
                    .ok_or_else(bad)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let log_dirs = p["log_dirs"].as_array().map(|d| {
            d.iter()
                .map(|x| x.as_str().unwrap_or("any").to_string())
                .collect::<Vec<_>>()
        });
        if log_dirs.as_ref().is_some_and(|d| d.len() != replicas.len()) {
            anyhow::bail!(
                "Size of replicas list {replicas:?} is different from size of log dirs list {:?} for partition {}-{}",
                log_dirs.unwrap_or_default(),
                p["topic"].as_str().unwrap_or(""),
                p["partition"]
            );
        }
        out.push(Target1 {
            topic: p["topic"].as_str().ok_or_else(bad)?.to_string(),
            partition: p["partition"]
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(bad)?,
            replicas,
            log_dirs,
        });
    }
    if out.is_empty() {
        anyhow::bail!("Partition reassignment list cannot be empty");
    }
    Ok(out)
}

/// Kafka's assignment JSON of what the cluster holds now.
async fn current(
    cluster: &mut Cluster,
    topics: &[String],
) -> anyhow::Result<(Value, BTreeMap<(String, i32), Vec<i32>>)> {
    let md = cluster.metadata(Some(topics)).await?;
    let mut now = BTreeMap::new();
    for t in &md.topics {
        let name = t.name.as_ref().map(|n| n.to_string()).unwrap_or_default();
        check(t.error_code, None).map_err(|e| anyhow::anyhow!("topic {name}: {e}"))?;
        for p in &t.partitions {
            now.insert(
                (name.clone(), p.partition_index),
                p.replica_nodes.iter().map(|b| b.0).collect(),
            );
        }
    }
    let parts: Vec<Value> = now
        .iter()
        .map(|((t, p), r): (&(String, i32), &Vec<i32>)| {
            json!({"topic": t, "partition": p, "replicas": r, "log_dirs": vec!["any"; r.len()]})
        })
        .collect();
    Ok((json!({"version": 1, "partitions": parts}), now))
}

pub fn run(args: ReassignArgs) -> anyhow::Result<()> {
    let actions = [
        args.generate,
        args.execute,
        args.verify,
        args.list,
        args.cancel,
    ]
    .iter()
    .filter(|a| **a)
    .count();
    if actions != 1 {
        anyhow::bail!("Command must include exactly one action: --generate, --execute, --verify, --list, --cancel");
    }
    let target = Target {
        bootstrap_server: args.bootstrap_server.clone(),
        broker_list: None,
        zookeeper: None,
    }
    .or_controller(args.bootstrap_controller.as_ref())?;
    block_on(async {
        let mut cluster = target
            .admin(args.command_config.as_deref(), "weir-reassign-partitions")
            .await?;
        cluster.metadata(Some(&[])).await?;
        let brokers: BTreeSet<i32> = cluster.brokers().keys().copied().collect();
        if args.list {
            let resp = cluster
                .controller_conn()
                .await?
                .send(
                    &ListPartitionReassignmentsRequest::default().with_topics(None),
                    0,
                )
                .await?;
            check(resp.error_code, resp.error_message.as_ref())?;
            if resp.topics.is_empty() {
                println!("No partition reassignments found.");
            } else {
                println!("Current partition reassignments:");
                for t in &resp.topics {
                    for p in &t.partitions {
                        let ids = |v: &[BrokerId]| {
                            v.iter()
                                .map(|b| b.0.to_string())
                                .collect::<Vec<_>>()
                                .join(",")
                        };
                        println!(
                            "{}-{}: replicas: {}. adding: {}. removing: {}.",
                            t.name.as_str(),
                            p.partition_index,
                            ids(&p.replicas),
                            ids(&p.adding_replicas),
                            ids(&p.removing_replicas)
                        );
                    }
                }
            }
            return Ok(());
        }
        if args.generate {
            let path = args.topics_to_move_json_file.as_ref().ok_or_else(|| {
                anyhow::anyhow!("Missing required argument \"[topics-to-move-json-file]\"")
            })?;
            let list = args
                .broker_list
                .as_ref()
                .ok_or_else(|| anyhow::anyhow!("Missing required argument \"[broker-list]\""))?;
            let ids: Vec<i32> = list
                .split(',')
                .map(|b| {
                    b.trim()
                        .parse()
                        .map_err(|_| anyhow::anyhow!("--broker-list: {b} is not a broker id"))
                })
                .collect::<anyhow::Result<_>>()?;
            if let Some(b) = ids.iter().find(|b| !brokers.contains(b)) {
                anyhow::bail!("Unknown broker id {b}");
            }
            let json = read_json(path)?;
            let topics: Vec<String> = json["topics"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t["topic"].as_str().map(str::to_string))
                .collect();
            let (now, _) = current(&mut cluster, &topics).await?;
            println!("Current partition replica assignment\n{now}\n");
            println!("Proposed partition reassignment configuration\n{now}");
            return Ok(());
        }
        let path = args.reassignment_json_file.as_ref().ok_or_else(|| {
            anyhow::anyhow!("Missing required argument \"[reassignment-json-file]\"")
        })?;
        let wanted = parse_reassignment(path)?;
        let topics: Vec<String> = wanted
            .iter()
            .map(|w| w.topic.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let (now_json, now) = current(&mut cluster, &topics).await?;
        let name = |w: &Target1| format!("{}-{}", w.topic, w.partition);
        if args.verify {
            println!("Status of partition reassignment:");
            for w in &wanted {
                let have = now
                    .get(&(w.topic.clone(), w.partition))
                    .cloned()
                    .unwrap_or_default();
                let join = |v: &[i32]| v.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
                if have == w.replicas {
                    println!("Reassignment of partition {} is completed.", name(w));
                } else {
                    println!(
                        "There is no active reassignment of partition {}, but replica set is {} rather than {}.",
                        name(w),
                        join(&have),
                        join(&w.replicas)
                    );
                }
            }
            println!();
            return Ok(());
        }
        if args.execute {
            if let Some(b) = wanted
                .iter()
                .flat_map(|w| w.replicas.iter())
                .find(|b| !brokers.contains(b))
            {
                anyhow::bail!("Unknown broker id {b}");
            }
            println!("Current partition replica assignment\n\n{now_json}\n\nSave this to use as the --reassignment-json-file option during rollback");
        }
        if args.cancel {
            // Only reassignments in progress can be cancelled, as Kafka's
            // tool lists them first.
            let active = cluster
                .controller_conn()
                .await?
                .send(
                    &ListPartitionReassignmentsRequest::default().with_topics(None),
                    0,
                )
                .await?;
            check(active.error_code, active.error_message.as_ref())?;
            let ongoing: BTreeSet<(String, i32)> = active
                .topics
                .iter()
                .flat_map(|t| {
                    t.partitions
                        .iter()
                        .map(move |p| (t.name.to_string(), p.partition_index))
                })
                .collect();
            if !wanted
                .iter()
                .any(|w| ongoing.contains(&(w.topic.clone(), w.partition)))
            {
                println!("None of the specified partition reassignments are active.");
                return Ok(());
            }
        }
        let mut by_topic: BTreeMap<String, Vec<&Target1>> = BTreeMap::new();
        for w in &wanted {
            by_topic.entry(w.topic.clone()).or_default().push(w);
        }
        let req = AlterPartitionReassignmentsRequest::default()
            .with_timeout_ms(30_000)
            .with_topics(
                by_topic
                    .iter()
                    .map(|(t, ws)| {
                        ReassignableTopic::default()
                            .with_name(topic_name(t))
                            .with_partitions(
                                ws.iter()
                                    .map(|w| {
                                        ReassignablePartition::default()
                                            .with_partition_index(w.partition)
                                            .with_replicas((!args.cancel).then(|| {
                                                w.replicas.iter().map(|b| BrokerId(*b)).collect()
                                            }))
                                    })
                                    .collect(),
                            )
                    })
                    .collect(),
            );
        let resp = cluster.controller_conn().await?.send(&req, 0).await?;
        check(resp.error_code, resp.error_message.as_ref())?;
        let mut errors = Vec::new();
        for t in &resp.responses {
            for p in &t.partitions {
                if p.error_code != 0 {
                    errors.push(format!(
                        "{}-{}: {}",
                        t.name.as_str(),
                        p.partition_index,
                        describe(p.error_code, p.error_message.as_deref())
                    ));
                }
            }
        }
        let mut names: Vec<String> = wanted.iter().map(name).collect();
        names.sort();
        if args.cancel {
            if !errors.is_empty() {
                anyhow::bail!(
                    "Error cancelling partition reassignment(s):\n{}",
                    errors.join("\n")
                );
            }
            println!(
                "Successfully cancelled partition reassignment(s) for: {}",
                names.join(",")
            );
            return Ok(());
        }
        if !errors.is_empty() {
            anyhow::bail!("Error reassigning partition(s):\n{}", errors.join("\n"));
        }
        println!(
            "Successfully started partition reassignment{} for {}",
            if names.len() > 1 { "s" } else { "" },
            names.join(",")
        );
        // Replicas asked to move to a named log directory.
        for w in &wanted {
            for (broker, dir) in w.replicas.iter().zip(w.log_dirs.iter().flatten()) {
                if dir == "any" {
                    continue;
                }
                let req = AlterReplicaLogDirsRequest::default().with_dirs(vec![
                    AlterReplicaLogDir::default()
                        .with_path(StrBytes::from_string(dir.clone()))
                        .with_topics(vec![AlterReplicaLogDirTopic::default()
                            .with_name(topic_name(&w.topic))
                            .with_partitions(vec![w.partition])]),
                ]);
                let resp = cluster.node(*broker).await?.send(&req, 2).await?;
                for t in &resp.results {
                    for p in &t.partitions {
                        check(p.error_code, None).map_err(|e| {
                            anyhow::anyhow!("moving {} to {dir} on broker {broker}: {e}", name(w))
                        })?;
                    }
                }
                println!(
                    "Successfully started moving log directory to {dir} for replica {}-{} with broker {broker} ",
                    w.topic, w.partition
                );
            }
        }
        Ok(())
    })
}
