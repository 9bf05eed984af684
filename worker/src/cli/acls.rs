//! `weir acls`: kafka-acls.sh, with its flags and its output, over
//! CreateAcls, DescribeAcls and DeleteAcls.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use clap::Args;
use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::delete_acls_request::DeleteAclsFilter;
use kafka_protocol::messages::{CreateAclsRequest, DeleteAclsRequest, DescribeAclsRequest};
use kafka_protocol::protocol::StrBytes;

use broker_core::security::acl::{
    entry_text, pattern_text, AclBinding, Operation, PatternType, Permission, ResourceType,
    CLUSTER_NAME, WILDCARD,
};

use super::common::{block_on, Target};
use crate::kafka::admin::{check, Cluster};

#[derive(Debug, Args)]
pub struct AclsArgs {
    #[command(flatten)]
    pub target: Target,
    /// The controller to talk to; on one node, the broker itself.
    #[arg(long = "bootstrap-controller", value_name = "HOST:PORT")]
    pub bootstrap_controller: Option<String>,
    /// Client properties file (security settings of the admin connection).
    #[arg(long = "command-config")]
    pub command_config: Option<std::path::PathBuf>,
    /// Add ACLs.
    #[arg(long)]
    pub add: bool,
    /// Remove ACLs.
    #[arg(long)]
    pub remove: bool,
    /// List ACLs.
    #[arg(long)]
    pub list: bool,
    /// A topic the ACLs are about (repeatable).
    #[arg(long)]
    pub topic: Vec<String>,
    /// A consumer group the ACLs are about (repeatable).
    #[arg(long)]
    pub group: Vec<String>,
    /// The cluster resource.
    #[arg(long)]
    pub cluster: bool,
    /// A transactional id the ACLs are about (repeatable).
    #[arg(long = "transactional-id")]
    pub transactional_id: Vec<String>,
    /// A delegation token the ACLs are about (repeatable).
    #[arg(long = "delegation-token")]
    pub delegation_token: Vec<String>,
    /// A user principal the ACLs are about (repeatable).
    #[arg(long = "user-principal")]
    pub user_principal: Vec<String>,
    /// LITERAL (default) or PREFIXED; with --list and --remove also ANY or MATCH.
    #[arg(long = "resource-pattern-type", default_value = "LITERAL")]
    pub resource_pattern_type: String,
    /// A principal to allow, `User:name` (repeatable).
    #[arg(long = "allow-principal")]
    pub allow_principal: Vec<String>,
    /// A principal to deny, `User:name` (repeatable).
    #[arg(long = "deny-principal")]
    pub deny_principal: Vec<String>,
    /// A host the allowed principals connect from (default: any).
    #[arg(long = "allow-host")]
    pub allow_host: Vec<String>,
    /// A host the denied principals connect from (default: any).
    #[arg(long = "deny-host")]
    pub deny_host: Vec<String>,
    /// Read, Write, Create, Delete, Alter, Describe, ClusterAction,
    /// DescribeConfigs, AlterConfigs, IdempotentWrite, All (repeatable).
    #[arg(long)]
    pub operation: Vec<String>,
    /// With --list: only the ACLs of this principal.
    #[arg(long)]
    pub principal: Vec<String>,
    /// The ACLs a producer needs on the topics (and transactional ids).
    #[arg(long)]
    pub producer: bool,
    /// The ACLs a consumer needs on the topics and the group.
    #[arg(long)]
    pub consumer: bool,
    /// With --producer: IdempotentWrite on the cluster.
    #[arg(long)]
    pub idempotent: bool,
    /// Remove without asking.
    #[arg(long)]
    pub force: bool,
}

/// A resource pattern (or, with ANY/MATCH, a filter over them).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Resource {
    kind: ResourceType,
    name: String,
    pattern: PatternType,
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&pattern_text(self.kind, &self.name, self.pattern))
    }
}

/// An access-control entry: principal, host, operation, permission.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    principal: String,
    host: String,
    operation: Operation,
    permission: Permission,
}

impl std::fmt::Display for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&entry_text(
            &self.principal,
            &self.host,
            self.operation,
            self.permission,
        ))
    }
}

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

pub fn run(args: AclsArgs) -> anyhow::Result<()> {
    let actions = [args.add, args.remove, args.list]
        .iter()
        .filter(|a| **a)
        .count();
    if actions != 1 {
        anyhow::bail!("Command must include exactly one action: --list, --add, --remove. ");
    }
    check_options(&args)?;
    let pattern = PatternType::from_name(&args.resource_pattern_type).ok_or_else(|| {
        anyhow::anyhow!(
            "Unknown resource-pattern-type: {}",
            args.resource_pattern_type
        )
    })?;
    if args.add && !matches!(pattern, PatternType::Literal | PatternType::Prefixed) {
        anyhow::bail!(
            "A '--resource-pattern-type' value of '{pattern}' is not valid when adding acls."
        );
    }
    let target = args
        .target
        .or_controller(args.bootstrap_controller.as_ref())?;
    block_on(async {
        let mut cluster = target
            .admin(args.command_config.as_deref(), "weir-acls")
            .await?;
        if args.list {
            list(&mut cluster, &args, pattern).await
        } else {
            let plan = entries_by_resource(&args, pattern)?;
            if args.add {
                add(&mut cluster, &plan).await
            } else {
                remove(&mut cluster, &args, &plan).await
            }
        }
    })
    .map_err(|e| anyhow::anyhow!("Error while executing ACL command: {e:#}"))
}

/// kafka-acls.sh's checks of flags that do not go together.
fn check_options(args: &AclsArgs) -> anyhow::Result<()> {
    let clash =
        |a: &str, b: &str| anyhow::anyhow!("Option \"[{a}]\" can't be used with option \"[{b}]\"");
    if args.list {
        for (set, name) in [
            (args.producer, "producer"),
            (args.consumer, "consumer"),
            (!args.allow_host.is_empty(), "allow-host"),
            (!args.allow_principal.is_empty(), "allow-principal"),
            (!args.deny_host.is_empty(), "deny-host"),
            (!args.deny_principal.is_empty(), "deny-principal"),
        ] {
            if set {
                return Err(clash("list", name));
            }
        }
    } else if !args.principal.is_empty() {
        anyhow::bail!("The --principal option is only available if --list is set");
    }
    if args.producer || args.consumer {
        let who = if args.producer {
            "producer"
        } else {
            "consumer"
        };
        for (set, name) in [
            (!args.operation.is_empty(), "operation"),
            (!args.deny_principal.is_empty(), "deny-principal"),
            (!args.deny_host.is_empty(), "deny-host"),
        ] {
            if set {
                return Err(clash(who, name));
            }
        }
    }
    if args.idempotent && !args.producer {
        anyhow::bail!("The --idempotent option is only available if --producer is set");
    }
    if args.producer && args.topic.is_empty() {
        anyhow::bail!("With --producer you must specify a --topic");
    }
    if args.consumer
        && (args.topic.is_empty()
            || args.group.is_empty()
            || (!args.producer && (args.cluster || !args.transactional_id.is_empty())))
    {
        anyhow::bail!("With --consumer you must specify a --topic and a --group and no --cluster or --transactional-id option should be specified.");
    }
    for p in args
        .allow_principal
        .iter()
        .chain(&args.deny_principal)
        .chain(&args.principal)
    {
        match p.split_once(':') {
            Some((kind, name)) if !kind.is_empty() && !name.is_empty() => {}
            _ => {
                anyhow::bail!("expected a string in format principalType:principalName but got {p}")
            }
        }
    }
    Ok(())
}

/// The resources the flags name, with the pattern type.
fn resources(args: &AclsArgs, pattern: PatternType) -> Vec<Resource> {
    let r = |kind, name: &str| Resource {
        kind,
        name: name.to_string(),
        pattern,
    };
    let mut out: Vec<Resource> = args
        .topic
        .iter()
        .map(|t| r(ResourceType::Topic, t))
        .collect();
    out.extend(args.group.iter().map(|g| r(ResourceType::Group, g)));
    out.extend(
        args.transactional_id
            .iter()
            .map(|t| r(ResourceType::TransactionalId, t)),
    );
    out.extend(
        args.delegation_token
            .iter()
            .map(|t| r(ResourceType::DelegationToken, t)),
    );
    out.extend(args.user_principal.iter().map(|u| r(ResourceType::User, u)));
    if (args.cluster || args.idempotent) && pattern == PatternType::Literal {
        out.push(r(ResourceType::Cluster, CLUSTER_NAME));
    }
    out
}

/// The entries to add or remove on each resource the flags name.
fn entries_by_resource(
    args: &AclsArgs,
    pattern: PatternType,
) -> anyhow::Result<Vec<(Resource, Vec<Entry>)>> {
    let resources = resources(args, pattern);
    if resources.is_empty() {
        anyhow::bail!("You must provide at least one resource: --topic <topic> or --cluster or --group <group> or --delegation-token <Delegation Token ID>");
    }
    if args.add && args.allow_principal.is_empty() && args.deny_principal.is_empty() {
        anyhow::bail!(
            "You must specify one of: --allow-principal, --deny-principal when trying to add ACLs."
        );
    }
    let entries = |ops: &[Operation]| -> Vec<Entry> {
        let mut out = Vec::new();
        for (principals, hosts, permission) in [
            (&args.allow_principal, &args.allow_host, Permission::Allow),
            (&args.deny_principal, &args.deny_host, Permission::Deny),
        ] {
            let hosts: Vec<String> = if hosts.is_empty() {
                vec![WILDCARD.to_string()]
            } else {
                hosts.clone()
            };
            for p in principals {
                for h in &hosts {
                    for op in ops {
                        out.push(Entry {
                            principal: p.clone(),
                            host: h.clone(),
                            operation: *op,
                            permission,
                        });
                    }
                }
            }
        }
        out
    };
    let mut plan = Vec::new();
    for res in resources {
        let ops: Vec<Operation> = if args.producer || args.consumer {
            use Operation::*;
            let mut ops = Vec::new();
            match res.kind {
                ResourceType::Topic if args.producer => ops.extend([Write, Describe, Create]),
                ResourceType::TransactionalId if args.producer => ops.extend([Write, Describe]),
                ResourceType::Cluster if args.idempotent => ops.push(IdempotentWrite),
                _ => {}
            }
            match res.kind {
                ResourceType::Topic if args.consumer => ops.extend([Read, Describe]),
                ResourceType::Group if args.consumer => ops.push(Read),
                _ => {}
            }
            ops
        } else if args.operation.is_empty() {
            vec![Operation::All]
        } else {
            args.operation
                .iter()
                .map(|o| {
                    Operation::from_name(o)
                        .filter(|op| *op != Operation::Any)
                        .ok_or_else(|| anyhow::anyhow!("Unknown operation: {o}"))
                })
                .collect::<anyhow::Result<_>>()?
        };
        // --producer and --consumer both grant DESCRIBE: once.
        let mut seen = Vec::new();
        let ops: Vec<Operation> = ops
            .into_iter()
            .filter(|o| {
                let first = !seen.contains(o);
                seen.push(*o);
                first
            })
            .collect();
        let list = entries(&ops);
        for e in &list {
            binding(&res, e)
                .check_operation()
                .map_err(anyhow::Error::msg)?;
        }
        plan.push((res, list));
    }
    Ok(plan)
}

fn binding(res: &Resource, e: &Entry) -> AclBinding {
    AclBinding {
        resource_type: res.kind,
        name: res.name.clone(),
        pattern: res.pattern,
        principal: e.principal.clone(),
        host: e.host.clone(),
        operation: e.operation,
        permission: e.permission,
    }
}

async fn add(cluster: &mut Cluster, plan: &[(Resource, Vec<Entry>)]) -> anyhow::Result<()> {
    let mut creations = Vec::new();
    for (res, entries) in plan {
        let lines: Vec<String> = entries.iter().map(|e| format!("\t{e}")).collect();
        println!(
            "Adding ACLs for resource `{res}`: \n {}\n",
            lines.join("\n")
        );
        for e in entries {
            creations.push(
                AclCreation::default()
                    .with_resource_type(res.kind.wire())
                    .with_resource_name(s(&res.name))
                    .with_resource_pattern_type(res.pattern.wire())
                    .with_principal(s(&e.principal))
                    .with_host(s(&e.host))
                    .with_operation(e.operation.wire())
                    .with_permission_type(e.permission.wire()),
            );
        }
    }
    let resp = cluster
        .controller_conn()
        .await?
        .send(&CreateAclsRequest::default().with_creations(creations), 3)
        .await?;
    for r in &resp.results {
        check(r.error_code, r.error_message.as_ref())?;
    }
    Ok(())
}

/// Asks before a removal, as kafka-acls.sh does without --force.
fn confirm(question: &str) -> anyhow::Result<bool> {
    println!("{question}");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim().eq_ignore_ascii_case("y"))
}

async fn remove(
    cluster: &mut Cluster,
    args: &AclsArgs,
    plan: &[(Resource, Vec<Entry>)],
) -> anyhow::Result<()> {
    let mut filters = Vec::new();
    for (res, entries) in plan {
        let filter = |e: Option<&Entry>| {
            DeleteAclsFilter::default()
                .with_resource_type_filter(res.kind.wire())
                .with_resource_name_filter(Some(s(&res.name)))
                .with_pattern_type_filter(res.pattern.wire())
                .with_principal_filter(e.map(|e| s(&e.principal)))
                .with_host_filter(e.map(|e| s(&e.host)))
                .with_operation(e.map_or(Operation::Any, |e| e.operation).wire())
                .with_permission_type(e.map_or(Permission::Any, |e| e.permission).wire())
        };
        if entries.is_empty() {
            if args.force
                || confirm(&format!(
                    "Are you sure you want to delete all ACLs for resource filter `{res}`? (y/n)"
                ))?
            {
                filters.push(filter(None));
            }
        } else {
            let lines: Vec<String> = entries.iter().map(|e| format!("\t{e}")).collect();
            if args.force
                || confirm(&format!(
                    "Are you sure you want to remove ACLs: \n {}\n from resource filter `{res}`? (y/n)",
                    lines.join("\n")
                ))?
            {
                filters.extend(entries.iter().map(|e| filter(Some(e))));
            }
        }
    }
    if filters.is_empty() {
        return Ok(());
    }
    let resp = cluster
        .controller_conn()
        .await?
        .send(&DeleteAclsRequest::default().with_filters(filters), 3)
        .await?;
    for r in &resp.filter_results {
        check(r.error_code, r.error_message.as_ref())?;
    }
    Ok(())
}

async fn list(cluster: &mut Cluster, args: &AclsArgs, pattern: PatternType) -> anyhow::Result<()> {
    let named = resources(args, pattern);
    let filters: Vec<(ResourceType, Option<String>, PatternType)> = if named.is_empty() {
        vec![(ResourceType::Any, None, PatternType::Any)]
    } else {
        named
            .into_iter()
            .map(|r| (r.kind, Some(r.name), r.pattern))
            .collect()
    };
    let mut found: BTreeMap<Resource, Vec<Entry>> = BTreeMap::new();
    for (kind, name, pattern) in filters {
        let req = DescribeAclsRequest::default()
            .with_resource_type_filter(kind.wire())
            .with_resource_name_filter(name.as_deref().map(s))
            .with_pattern_type_filter(pattern.wire())
            .with_principal_filter(None)
            .with_host_filter(None)
            .with_operation(Operation::Any.wire())
            .with_permission_type(Permission::Any.wire());
        let resp = cluster.controller_conn().await?.send(&req, 3).await?;
        check(resp.error_code, resp.error_message.as_ref())?;
        for r in resp.resources {
            let res = Resource {
                kind: ResourceType::from_wire(r.resource_type).unwrap_or(ResourceType::Any),
                name: r.resource_name.to_string(),
                pattern: PatternType::from_wire(r.pattern_type).unwrap_or(PatternType::Any),
            };
            let list = found.entry(res).or_default();
            for a in r.acls {
                let e = Entry {
                    principal: a.principal.to_string(),
                    host: a.host.to_string(),
                    operation: Operation::from_wire(a.operation).unwrap_or(Operation::Any),
                    permission: Permission::from_wire(a.permission_type).unwrap_or(Permission::Any),
                };
                if !list.contains(&e) {
                    list.push(e);
                }
            }
        }
    }
    let print = |found: &BTreeMap<Resource, Vec<Entry>>, only: Option<&str>| {
        for (res, entries) in found {
            let lines: Vec<String> = entries
                .iter()
                .filter(|e| only.is_none_or(|p| e.principal == p))
                .map(|e| format!("\t{e}"))
                .collect();
            if only.is_some() && lines.is_empty() {
                continue;
            }
            println!("Current ACLs for resource `{res}`:\n{}\n", lines.join("\n"));
        }
    };
    if args.principal.is_empty() {
        print(&found, None);
    } else {
        for p in &args.principal {
            println!("ACLs for principal `{p}`");
            print(&found, Some(p));
        }
    }
    Ok(())
}
