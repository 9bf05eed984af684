//! `weir metadata-quorum describe --status|--replication`:
//! kafka-metadata-quorum.sh over DescribeQuorum, with Kafka's layout.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use clap::{Args, Subcommand};
use kafka_protocol::messages::describe_quorum_request::{PartitionData, TopicData};
use kafka_protocol::messages::{DescribeClusterRequest, DescribeQuorumRequest, TopicName};
use kafka_protocol::protocol::StrBytes;

use super::common::{block_on, Target};
use crate::kafka::admin::check;

#[derive(Debug, Args)]
pub struct MetadataQuorumArgs {
    #[command(flatten)]
    pub target: Target,
    /// The controller to talk to; on one node, the broker itself.
    #[arg(long = "bootstrap-controller", value_name = "HOST:PORT")]
    pub bootstrap_controller: Option<String>,
    /// Client properties file (security settings of the admin connection).
    #[arg(long = "command-config")]
    pub command_config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub command: QuorumCommand,
}

#[derive(Debug, Subcommand)]
pub enum QuorumCommand {
    /// Describe the metadata quorum.
    Describe {
        /// The quorum's leader, epoch, high watermark and voters.
        #[arg(long)]
        status: bool,
        /// Each replica's log end offset, lag and last contact.
        #[arg(long)]
        replication: bool,
        /// With --replication: times as "N ms ago".
        #[arg(long = "human-readable")]
        human_readable: bool,
    },
}

/// Kafka's `ToolsUtils.prettyPrintTable`: cells padded to their column's
/// width, each followed by a tab.
fn table(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..rows.first().map_or(0, Vec::len))
        .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|r| {
            r.iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}\t"))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A directory id as Kafka prints it (its base64), `AAAA...` when unset.
fn directory_id(id: uuid::Uuid) -> String {
    B64.encode(id.as_bytes())
}

pub fn run(args: MetadataQuorumArgs) -> anyhow::Result<()> {
    let QuorumCommand::Describe {
        status,
        replication,
        human_readable,
    } = args.command;
    if status == replication {
        anyhow::bail!(
            "One of --status or --replication must be specified with describe sub-command"
        );
    }
    let target = args
        .target
        .or_controller(args.bootstrap_controller.as_ref())?;
    block_on(async {
        let mut cluster = target
            .admin(args.command_config.as_deref(), "weir-metadata-quorum")
            .await?;
        let req = DescribeQuorumRequest::default().with_topics(vec![TopicData::default()
            .with_topic_name(TopicName(StrBytes::from_static_str("__cluster_metadata")))
            .with_partitions(vec![PartitionData::default()])]);
        // The server named on the command line answers (a KRaft controller
        // serves no Metadata to find another).
        let conn = cluster.any()?;
        let resp = conn.send(&req, 2).await?;
        check(resp.error_code, resp.error_message.as_ref())?;
        let p = resp
            .topics
            .first()
            .and_then(|t| t.partitions.first())
            .ok_or_else(|| anyhow::anyhow!("the quorum's answer has no partition"))?;
        check(p.error_code, p.error_message.as_ref())?;
        if status {
            let cluster_id = conn
                .send(&DescribeClusterRequest::default(), 1)
                .await
                .map(|r| r.cluster_id.to_string())
                .unwrap_or_default();
            let leader_leo = p
                .current_voters
                .iter()
                .find(|v| v.replica_id == p.leader_id)
                .map_or(0, |v| v.log_end_offset);
            let min_leo = p
                .current_voters
                .iter()
                .map(|v| v.log_end_offset)
                .min()
                .unwrap_or(leader_leo);
            let node = |id: i32| {
                let endpoints: Vec<String> = resp
                    .nodes
                    .iter()
                    .filter(|n| n.node_id.0 == id)
                    .flat_map(|n| n.listeners.iter())
                    .map(|l| format!("\"{}://{}:{}\"", l.name, l.host, l.port))
                    .collect();
                let dir = p
                    .current_voters
                    .iter()
                    .chain(&p.observers)
                    .find(|v| v.replica_id.0 == id)
                    .map(|v| v.replica_directory_id)
                    .filter(|d| !d.is_nil())
                    .map_or("null".to_string(), |d| format!("\"{}\"", directory_id(d)));
                if endpoints.is_empty() {
                    format!("{{\"id\": {id}, \"directoryId\": {dir}}}")
                } else {
                    format!(
                        "{{\"id\": {id}, \"directoryId\": {dir}, \"endpoints\": [{}]}}",
                        endpoints.join(", ")
                    )
                }
            };
            let voters: Vec<String> = p
                .current_voters
                .iter()
                .map(|v| node(v.replica_id.0))
                .collect();
            let observers: Vec<String> = p.observers.iter().map(|v| node(v.replica_id.0)).collect();
            println!("ClusterId:              {cluster_id}");
            println!("LeaderId:               {}", p.leader_id.0);
            println!("LeaderEpoch:            {}", p.leader_epoch);
            println!("HighWatermark:          {}", p.high_watermark);
            // The most lagging voter's catch-up time against the leader's.
            let leader_caught_up = p
                .current_voters
                .iter()
                .find(|v| v.replica_id == p.leader_id)
                .map_or(-1, |v| v.last_caught_up_timestamp);
            let laggard = p.current_voters.iter().min_by_key(|v| v.log_end_offset);
            let lag_time = match laggard {
                Some(v) if v.replica_id == p.leader_id => 0,
                Some(v) if v.last_caught_up_timestamp >= 0 && leader_caught_up >= 0 => {
                    leader_caught_up.saturating_sub(v.last_caught_up_timestamp)
                }
                _ => -1,
            };
            println!(
                "MaxFollowerLag:         {}",
                leader_leo.saturating_sub(min_leo)
            );
            println!("MaxFollowerLagTimeMs:   {lag_time}");
            println!("CurrentVoters:          [{}]", voters.join(", "));
            println!("CurrentObservers:       [{}]", observers.join(", "));
        } else {
            let now = broker_core::clock::now_ms();
            let time = |t: i64| {
                if t < 0 {
                    "-1".to_string()
                } else if human_readable {
                    format!("{} ms ago", now.saturating_sub(t).max(0))
                } else {
                    t.to_string()
                }
            };
            let leader_leo = p
                .current_voters
                .iter()
                .find(|v| v.replica_id == p.leader_id)
                .map_or(0, |v| v.log_end_offset);
            let mut rows = vec![[
                "NodeId",
                "DirectoryId",
                "LogEndOffset",
                "Lag",
                "LastFetchTimestamp",
                "LastCaughtUpTimestamp",
                "Status",
            ]
            .map(str::to_string)
            .to_vec()];
            let leader = p
                .current_voters
                .iter()
                .filter(|v| v.replica_id == p.leader_id);
            let followers = p
                .current_voters
                .iter()
                .filter(|v| v.replica_id != p.leader_id);
            for (v, role) in leader
                .map(|v| (v, "Leader"))
                .chain(followers.map(|v| (v, "Follower")))
                .chain(p.observers.iter().map(|v| (v, "Observer")))
            {
                rows.push(vec![
                    v.replica_id.0.to_string(),
                    directory_id(v.replica_directory_id),
                    v.log_end_offset.to_string(),
                    leader_leo.saturating_sub(v.log_end_offset).to_string(),
                    time(v.last_fetch_timestamp),
                    time(v.last_caught_up_timestamp),
                    role.to_string(),
                ]);
            }
            println!("{}", table(&rows));
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn tables_and_directory_ids_as_kafka_prints_them() {
        let rows = vec![
            vec!["NodeId".to_string(), "Status".to_string()],
            vec!["1".to_string(), "Leader".to_string()],
        ];
        assert_eq!(super::table(&rows), "NodeId\tStatus\t\n1     \tLeader\t");
        assert_eq!(
            super::directory_id(uuid::Uuid::nil()),
            "AAAAAAAAAAAAAAAAAAAAAA"
        );
    }
}
