//! `weir groups`: kafka-consumer-groups.sh (list, describe with lag, members,
//! state, offset resets, delete) with Kafka's column layouts.

use std::collections::BTreeMap;

use anyhow::bail;
use clap::Args;
use kafka_protocol::messages::describe_groups_response::DescribedGroup;
use kafka_protocol::messages::{DeleteGroupsRequest, ListGroupsRequest};

use super::common::{block_on, connect_wait, Target};
use super::group_reset::{reset_offsets, ResetArgs};
use crate::kafka::admin::{describe, group_id, Cluster};
use crate::kafka::offsets::{
    committed, decode_assignment, describe_group, list_offsets, Tp, LATEST,
};

#[derive(Debug, Args)]
pub struct GroupsArgs {
    #[command(flatten)]
    pub target: Target,
    /// Client properties file (security settings of the admin connection).
    #[arg(long = "command-config")]
    pub command_config: Option<std::path::PathBuf>,
    /// List all groups.
    #[arg(long)]
    pub list: bool,
    /// Describe groups: offsets and lag (default), --members or --state.
    #[arg(long)]
    pub describe: bool,
    /// Delete groups.
    #[arg(long)]
    pub delete: bool,
    /// The group (repeatable for --describe and --delete).
    #[arg(long)]
    pub group: Vec<String>,
    /// Every group.
    #[arg(long = "all-groups")]
    pub all_groups: bool,
    /// With --describe: the members.
    #[arg(long)]
    pub members: bool,
    /// With --describe: the state.
    #[arg(long)]
    pub state: bool,
    /// With --describe: the offsets (the default view).
    #[arg(long)]
    pub offsets: bool,
    /// With --members: each member's assignment.
    #[arg(long)]
    pub verbose: bool,
    #[command(flatten)]
    pub reset: ResetArgs,
    /// Ignored (words after the options, as in `--list hello-group`).
    #[arg(hide = true)]
    pub rest: Vec<String>,
}

pub fn run(args: GroupsArgs) -> anyhow::Result<()> {
    let actions = [
        args.list,
        args.describe,
        args.delete,
        args.reset.reset_offsets,
    ];
    if actions.iter().filter(|a| **a).count() != 1 {
        bail!("Command must include exactly one action: --list, --describe, --delete, --reset-offsets");
    }
    if !args.rest.is_empty() {
        eprintln!("Note: ignoring extra arguments: {}", args.rest.join(" "));
    }
    let result = block_on(async {
        args.target
            .check_admin_config(args.command_config.as_deref())?;
        let servers = args.target.server_list()?;
        let mut cluster = Cluster::connect(&servers, "weir-groups", connect_wait()).await?;
        if args.list {
            for g in all_groups(&mut cluster).await? {
                println!("{g}");
            }
            return Ok(());
        }
        let groups = if args.all_groups {
            all_groups(&mut cluster).await?
        } else if args.group.is_empty() {
            bail!(
                "Option [{}] takes one of these options: [all-groups], [group]",
                action_name(&args)
            );
        } else {
            args.group.clone()
        };
        if args.delete {
            delete(&mut cluster, &groups).await
        } else if args.describe {
            let mut failed = 0;
            for g in &groups {
                if let Err(e) = describe_one(&mut cluster, g, &args).await {
                    if groups.len() == 1 {
                        return Err(e);
                    }
                    println!("\nError: {e:#}");
                    failed += 1;
                }
            }
            if failed > 0 {
                bail!("{failed} of {} groups could not be described", groups.len());
            }
            Ok(())
        } else {
            reset_offsets(&mut cluster, &groups, &args.reset).await
        }
    });
    // Kafka's tool prints its errors on stdout after a blank line.
    result.map_err(|e| super::StdoutError(format!("\nError: {e:#}")).into())
}

fn action_name(args: &GroupsArgs) -> &'static str {
    if args.delete {
        "delete"
    } else if args.describe {
        "describe"
    } else {
        "reset-offsets"
    }
}

/// Group ids from every broker, sorted.
async fn all_groups(cluster: &mut Cluster) -> anyhow::Result<Vec<String>> {
    cluster.metadata(Some(&[])).await?;
    let ids: Vec<i32> = cluster.brokers().keys().copied().collect();
    let mut out = Vec::new();
    for id in ids {
        let r = cluster
            .node(id)
            .await?
            .send(&ListGroupsRequest::default(), 4)
            .await?;
        if r.error_code != 0 {
            bail!(
                "listing groups on broker {id}: {}",
                describe(r.error_code, None)
            );
        }
        // Consumer groups only, as Kafka's tool lists them (not Connect's
        // worker groups or other protocols).
        out.extend(
            r.groups
                .into_iter()
                .filter(|g| g.protocol_type.is_empty() || g.protocol_type.as_str() == "consumer")
                .map(|g| g.group_id.to_string()),
        );
    }
    out.sort();
    out.dedup();
    Ok(out)
}

async fn delete(cluster: &mut Cluster, groups: &[String]) -> anyhow::Result<()> {
    let mut failures = Vec::new();
    for g in groups {
        let (_, _, conn) = cluster.coordinator(g).await?;
        let request = DeleteGroupsRequest::default().with_groups_names(vec![group_id(g)]);
        let response = conn.send(&request, 2).await?;
        for r in response.results {
            if r.error_code != 0 {
                failures.push((r.group_id.to_string(), describe(r.error_code, None)));
            }
        }
    }
    if failures.is_empty() {
        println!(
            "Deletion of requested consumer groups ('{}') was successful.",
            groups.join(", ")
        );
        return Ok(());
    }
    let mut msg = String::from("Deletion of some consumer groups failed:");
    for (g, e) in failures {
        msg.push_str(&format!("\n* Group '{g}' could not be deleted due to: {e}"));
    }
    bail!(msg)
}

/// A row of the offsets view.
struct Row {
    topic: String,
    partition: i32,
    current: Option<i64>,
    end: Option<i64>,
    consumer: String,
    host: String,
    client: String,
}

fn dash(v: Option<i64>) -> String {
    v.map_or_else(|| "-".to_string(), |x| x.to_string())
}

fn width(min: usize, items: impl Iterator<Item = usize>) -> usize {
    items.fold(min, usize::max)
}

async fn describe_one(cluster: &mut Cluster, group: &str, args: &GroupsArgs) -> anyhow::Result<()> {
    let (coord_id, coord_addr, conn) = cluster.coordinator(group).await?;
    let g = describe_group(conn, group).await?;
    let offsets = committed(conn, group).await?;
    let exists = g.group_state.as_str() != "Dead" || !offsets.is_empty();
    if !exists {
        bail!("Consumer group '{group}' does not exist.");
    }
    let state = g.group_state.to_string();
    if args.state {
        print_state(&g, group, &format!("{coord_addr}  ({coord_id})"));
        return Ok(());
    }
    if state == "PreparingRebalance" || state == "CompletingRebalance" {
        eprintln!("\nWarning: Consumer group '{group}' is rebalancing.");
    } else if g.members.is_empty() {
        eprintln!("\nConsumer group '{group}' has no active members.");
    }
    if args.members {
        print_members(&g, group, args.verbose);
        return Ok(());
    }
    print_offsets(cluster, &g, group, &offsets).await
}

/// Kafka's `--state` layout: `"\n%-Ns %-25s %-20s %-15s %s"` where N is the
/// coordinator's text length (at least 25), applied to the GROUP column.
fn print_state(g: &DescribedGroup, group: &str, coordinator: &str) {
    let gw = width(25, std::iter::once(coordinator.len()));
    println!();
    let (h1, h2, h3, h4) = ("GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE");
    println!("{h1:<gw$} {h2:<25} {h3:<20} {h4:<15} #MEMBERS");
    println!(
        "{:<gw$} {:<25} {:<20} {:<15} {}",
        group,
        coordinator,
        g.protocol_data.as_str(),
        g.group_state.as_str(),
        g.members.len()
    );
}

fn print_members(g: &DescribedGroup, group: &str, verbose: bool) {
    let members: Vec<_> = g
        .members
        .iter()
        .map(|m| {
            (
                m.member_id.to_string(),
                m.group_instance_id.as_ref().map(|i| i.to_string()),
                m.client_host.to_string(),
                m.client_id.to_string(),
                decode_assignment(&m.member_assignment),
            )
        })
        .collect();
    let gw = width(15, std::iter::once(group.len()));
    let cw = width(15, members.iter().map(|m| m.0.len()));
    let hw = width(15, members.iter().map(|m| m.2.len()));
    let lw = width(15, members.iter().map(|m| m.3.len()));
    let with_instance = members.iter().any(|m| m.1.is_some());
    let iw = width(
        17,
        members.iter().map(|m| m.1.as_ref().map_or(1, String::len)),
    );
    let line = |a: &str, b: &str, i: &str, h: &str, c: &str, n: &str, asg: &str| {
        let inst = if with_instance {
            format!("{i:<iw$} ")
        } else {
            String::new()
        };
        // Kafka's "%-15s " for #PARTITIONS, then the assignment with --verbose.
        let tail = if verbose { asg } else { "" };
        format!("{a:<gw$} {b:<cw$} {inst}{h:<hw$} {c:<lw$} {n:<15} {tail}")
    };
    println!();
    println!(
        "{}",
        line(
            "GROUP",
            "CONSUMER-ID",
            "GROUP-INSTANCE-ID",
            "HOST",
            "CLIENT-ID",
            "#PARTITIONS",
            "ASSIGNMENT"
        )
    );
    for (id, inst, host, client, asg) in &members {
        let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
        for (t, p) in asg {
            by_topic.entry(t).or_default().push(*p);
        }
        let text = if by_topic.is_empty() {
            "-".to_string()
        } else {
            by_topic
                .iter()
                .map(|(t, ps)| {
                    let ps: Vec<String> = ps.iter().map(i32::to_string).collect();
                    format!("{t}({})", ps.join(","))
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "{}",
            line(
                group,
                id,
                inst.as_deref().unwrap_or(""),
                host,
                client,
                &asg.len().to_string(),
                &text
            )
        );
    }
}

async fn print_offsets(
    cluster: &mut Cluster,
    g: &DescribedGroup,
    group: &str,
    offsets: &BTreeMap<Tp, i64>,
) -> anyhow::Result<()> {
    let mut owners: BTreeMap<Tp, (String, String, String)> = BTreeMap::new();
    if g.protocol_type.as_str() == "consumer" || g.protocol_type.is_empty() {
        for m in &g.members {
            for tp in decode_assignment(&m.member_assignment) {
                owners.insert(
                    tp,
                    (
                        m.member_id.to_string(),
                        m.client_host.to_string(),
                        m.client_id.to_string(),
                    ),
                );
            }
        }
    }
    let mut partitions: Vec<Tp> = offsets.keys().chain(owners.keys()).cloned().collect();
    partitions.sort();
    partitions.dedup();
    let ends = if partitions.is_empty() {
        BTreeMap::new()
    } else {
        list_offsets(cluster, &partitions, LATEST).await?
    };
    let rows: Vec<Row> = partitions
        .into_iter()
        .map(|tp| {
            let (consumer, host, client) = owners
                .get(&tp)
                .cloned()
                .unwrap_or_else(|| ("-".into(), "-".into(), "-".into()));
            Row {
                current: offsets.get(&tp).copied(),
                end: ends.get(&tp).copied(),
                topic: tp.0,
                partition: tp.1,
                consumer,
                host,
                client,
            }
        })
        .collect();
    let gw = width(15, std::iter::once(group.len()));
    let tw = width(15, rows.iter().map(|r| r.topic.len()));
    let cw = width(15, rows.iter().map(|r| r.consumer.len()));
    let hw = width(15, rows.iter().map(|r| r.host.len()));
    let mut out = String::new();
    let mut line = |cols: [&str; 9]| {
        out.push_str(&format!(
            "\n{:<gw$} {:<tw$} {:<10} {:<15} {:<15} {:<15} {:<cw$} {:<hw$} {}",
            cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7], cols[8]
        ));
    };
    line([
        "GROUP",
        "TOPIC",
        "PARTITION",
        "CURRENT-OFFSET",
        "LOG-END-OFFSET",
        "LAG",
        "CONSUMER-ID",
        "HOST",
        "CLIENT-ID",
    ]);
    for r in &rows {
        let lag = match (r.current, r.end) {
            (Some(c), Some(e)) => Some(e - c),
            _ => None,
        };
        line([
            group,
            &r.topic,
            &r.partition.to_string(),
            &dash(r.current),
            &dash(r.end),
            &dash(lag),
            &r.consumer,
            &r.host,
            &r.client,
        ]);
    }
    println!("{out}");
    Ok(())
}
