//! `weir configs`: kafka-configs.sh for topics, brokers and groups.

use clap::Args;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::describe_configs_response::DescribeConfigsResourceResult;
use kafka_protocol::messages::incremental_alter_configs_request::{
    AlterConfigsResource, AlterableConfig,
};
use kafka_protocol::messages::{DescribeConfigsRequest, IncrementalAlterConfigsRequest};
use kafka_protocol::protocol::StrBytes;

use super::common::{block_on, connect_wait, Target};
use crate::kafka::admin::{check, Cluster};
use crate::kafka::Connection;

/// Kafka's `ConfigEntry.ConfigSource` codes.
pub mod source {
    pub const DYNAMIC_TOPIC_CONFIG: i8 = 1;
    pub const DYNAMIC_BROKER_CONFIG: i8 = 2;
    pub const DYNAMIC_DEFAULT_BROKER_CONFIG: i8 = 3;
    pub const DEFAULT_CONFIG: i8 = 5;
    pub const GROUP_CONFIG: i8 = 8;

    pub fn name(code: i8) -> &'static str {
        match code {
            1 => "DYNAMIC_TOPIC_CONFIG",
            2 => "DYNAMIC_BROKER_CONFIG",
            3 => "DYNAMIC_DEFAULT_BROKER_CONFIG",
            4 => "STATIC_BROKER_CONFIG",
            5 => "DEFAULT_CONFIG",
            6 => "DYNAMIC_BROKER_LOGGER_CONFIG",
            7 => "DYNAMIC_CLIENT_METRICS_CONFIG",
            8 => "DYNAMIC_GROUP_CONFIG",
            _ => "UNKNOWN",
        }
    }
}

const RESOURCE_TOPIC: i8 = 2;
const RESOURCE_BROKER: i8 = 4;
const RESOURCE_GROUP: i8 = 32;

#[derive(Debug, Args)]
pub struct ConfigsArgs {
    #[command(flatten)]
    pub target: Target,
    /// Client properties file (security settings of the admin connection).
    #[arg(long = "command-config")]
    pub command_config: Option<std::path::PathBuf>,
    /// `topics`, `brokers`, `groups` or `users` (SCRAM credentials).
    #[arg(long = "entity-type")]
    pub entity_type: Option<String>,
    /// The topic, broker id or group.
    #[arg(long = "entity-name")]
    pub entity_name: Option<String>,
    /// The cluster-wide default broker config.
    #[arg(long = "entity-default")]
    pub entity_default: bool,
    /// Shorthand for --entity-type topics --entity-name T.
    #[arg(long)]
    pub topic: Option<String>,
    /// Shorthand for --entity-type brokers --entity-name B.
    #[arg(long)]
    pub broker: Option<String>,
    /// Shorthand for --entity-type groups --entity-name G.
    #[arg(long)]
    pub group: Option<String>,
    /// Shorthand for --entity-type users --entity-name U.
    #[arg(long)]
    pub user: Option<String>,
    /// Show configs.
    #[arg(long)]
    pub describe: bool,
    /// With --describe: every config, not only the dynamic ones.
    #[arg(long)]
    pub all: bool,
    /// Change configs.
    #[arg(long)]
    pub alter: bool,
    /// `k1=v1,k2=[v2,v3]` to set.
    #[arg(long = "add-config")]
    pub add_config: Vec<String>,
    /// `k1,k2` to remove.
    #[arg(long = "delete-config")]
    pub delete_config: Vec<String>,
}

/// The resource a command is about.
struct Entity {
    kind: i8,
    /// `topic`, `broker`, `group`: as Kafka words it in messages.
    word: &'static str,
    name: String,
    default_broker: bool,
}

fn entity(args: &ConfigsArgs) -> anyhow::Result<Entity> {
    let (kind, word, name) = if let Some(t) = &args.topic {
        (RESOURCE_TOPIC, "topic", Some(t.clone()))
    } else if let Some(b) = &args.broker {
        (RESOURCE_BROKER, "broker", Some(b.clone()))
    } else if let Some(g) = &args.group {
        (RESOURCE_GROUP, "group", Some(g.clone()))
    } else {
        let t = args.entity_type.as_deref().ok_or_else(|| {
            anyhow::anyhow!("--entity-type is required (topics, brokers or groups)")
        })?;
        match t {
            "topics" | "topic" => (RESOURCE_TOPIC, "topic", args.entity_name.clone()),
            "brokers" | "broker" => (RESOURCE_BROKER, "broker", args.entity_name.clone()),
            "groups" | "group" => (RESOURCE_GROUP, "group", args.entity_name.clone()),
            other => anyhow::bail!(
                "Invalid entity-type {other}, --entity-type must be one of topics, brokers, groups, users"
            ),
        }
    };
    let default_broker = args.entity_default && kind == RESOURCE_BROKER;
    let name = match (name, default_broker) {
        (Some(n), _) => n,
        (None, true) => String::new(),
        (None, false) if args.describe && kind == RESOURCE_TOPIC => String::new(),
        (None, false) => anyhow::bail!("An entity name must be specified with --alter of {word}s"),
    };
    Ok(Entity {
        kind,
        word,
        name,
        default_broker,
    })
}

pub fn run(args: ConfigsArgs) -> anyhow::Result<()> {
    if args.describe == args.alter {
        anyhow::bail!("Command must include exactly one action: --describe, --alter");
    }
    let user = args.user.clone().or_else(|| {
        matches!(args.entity_type.as_deref(), Some("users" | "user"))
            .then(|| args.entity_name.clone().unwrap_or_default())
    });
    if let Some(user) = user {
        return users(&args, &user);
    }
    let e = entity(&args)?;
    block_on(async {
        let mut cluster = connect(&args).await?;
        if args.describe {
            describe(&mut cluster, &e, args.all).await
        } else {
            alter(&mut cluster, &e, &args).await
        }
    })
    .map_err(with_args)
}

/// The admin connection the command's flags describe.
async fn connect(args: &ConfigsArgs) -> anyhow::Result<Cluster> {
    args.target
        .check_admin_config(args.command_config.as_deref())?;
    let servers = args.target.server_list()?;
    Ok(Cluster::connect(&servers, "weir-configs", connect_wait()).await?)
}

/// kafka-configs.sh's wording of a failed command.
fn with_args(err: anyhow::Error) -> anyhow::Error {
    let argv: Vec<String> = std::env::args().skip(2).collect();
    anyhow::anyhow!(
        "Error while executing config command with args '{}'\n{err:#}",
        argv.join(" ")
    )
}

/// `--entity-type users`: SCRAM credentials.
fn users(args: &ConfigsArgs, user: &str) -> anyhow::Result<()> {
    if args.alter && user.is_empty() {
        anyhow::bail!("An entity name must be specified with --alter of users");
    }
    block_on(async {
        let mut cluster = connect(args).await?;
        if args.describe {
            let who = (!user.is_empty()).then_some(user);
            super::scram_users::describe(&mut cluster, who).await
        } else {
            super::scram_users::alter(&mut cluster, user, &args.add_config, &args.delete_config)
                .await
        }
    })
    .map_err(with_args)
}

async fn describe(cluster: &mut Cluster, e: &Entity, all: bool) -> anyhow::Result<()> {
    let names = if e.kind == RESOURCE_TOPIC && e.name.is_empty() {
        let md = cluster.metadata(None).await?;
        let mut names: Vec<String> = md
            .topics
            .iter()
            .filter_map(|t| t.name.as_ref().map(|n| n.to_string()))
            .collect();
        names.sort();
        names
    } else {
        vec![e.name.clone()]
    };
    for name in names {
        let conn = broker_conn(cluster, e, &name).await?;
        let entries = describe_configs(conn, e.kind, &name).await?;
        let dynamic = match (e.kind, e.default_broker) {
            (RESOURCE_TOPIC, _) => source::DYNAMIC_TOPIC_CONFIG,
            (RESOURCE_BROKER, true) => source::DYNAMIC_DEFAULT_BROKER_CONFIG,
            (RESOURCE_BROKER, false) => source::DYNAMIC_BROKER_CONFIG,
            _ => source::GROUP_CONFIG,
        };
        if e.default_broker {
            println!("Default configs for brokers in the cluster are:");
        } else {
            let which = if all { "All" } else { "Dynamic" };
            println!("{which} configs for {} {name} are:", e.word);
        }
        let mut entries: Vec<_> = entries
            .into_iter()
            .filter(|c| all || c.config_source == dynamic)
            .collect();
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        for c in entries {
            let synonyms: Vec<String> = c
                .synonyms
                .iter()
                .map(|s| {
                    format!(
                        "{}:{}={}",
                        source::name(s.source),
                        s.name,
                        shown(c.is_sensitive, s.value.as_ref())
                    )
                })
                .collect();
            println!(
                "  {}={} sensitive={} synonyms={{{}}}",
                c.name,
                shown(c.is_sensitive, c.value.as_ref()),
                c.is_sensitive,
                synonyms.join(", ")
            );
        }
    }
    Ok(())
}

/// Broker configs are answered by that broker; everything else by any broker.
async fn broker_conn<'a>(
    cluster: &'a mut Cluster,
    e: &Entity,
    name: &str,
) -> anyhow::Result<&'a mut Connection> {
    if e.kind == RESOURCE_BROKER && !e.default_broker {
        if let Ok(id) = name.parse::<i32>() {
            cluster.metadata(Some(&[])).await?;
            if cluster.brokers().contains_key(&id) {
                return Ok(cluster.node(id).await?);
            }
            anyhow::bail!("Broker {id} is not in the cluster");
        }
    }
    Ok(cluster.any()?)
}

fn shown(sensitive: bool, v: Option<&StrBytes>) -> String {
    match v {
        Some(v) if !sensitive => v.to_string(),
        _ => "null".to_string(),
    }
}

/// Every config of one resource, with synonyms.
pub async fn describe_configs(
    conn: &mut Connection,
    kind: i8,
    name: &str,
) -> anyhow::Result<Vec<DescribeConfigsResourceResult>> {
    let request = DescribeConfigsRequest::default()
        .with_resources(vec![DescribeConfigsResource::default()
            .with_resource_type(kind)
            .with_resource_name(StrBytes::from_string(name.to_string()))
            .with_configuration_keys(None)])
        .with_include_synonyms(true);
    let response = conn.send(&request, 4).await?;
    let mut out = Vec::new();
    for r in response.results {
        check(r.error_code, r.error_message.as_ref())?;
        out.extend(r.configs);
    }
    Ok(out)
}

/// Every config of a topic, with synonyms.
pub async fn describe_topic_configs(
    conn: &mut Connection,
    topic: &str,
) -> anyhow::Result<Vec<DescribeConfigsResourceResult>> {
    describe_configs(conn, RESOURCE_TOPIC, topic).await
}

/// Splits `k1=v1,k2=[a,b],k3=v3` at the commas outside brackets.
fn parse_add_config(s: &str) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let bytes = s.as_bytes();
    for i in 0..=bytes.len() {
        let c = bytes.get(i).copied();
        match c {
            Some(b'[') => depth += 1,
            Some(b']') => depth -= 1,
            Some(b',') if depth == 0 => {}
            None => {}
            _ => continue,
        }
        if matches!(c, Some(b'[') | Some(b']')) {
            continue;
        }
        let part = s[start..i].trim();
        start = i + 1;
        if part.is_empty() {
            continue;
        }
        let (k, v) = part.split_once('=').ok_or_else(|| {
            anyhow::anyhow!("Invalid entity config: all configs to be added must be in the format \"key=val\" ({part:?})")
        })?;
        let v = v.trim();
        let v = v
            .strip_prefix('[')
            .and_then(|x| x.strip_suffix(']'))
            .unwrap_or(v);
        out.push((k.trim().to_string(), v.to_string()));
    }
    Ok(out)
}

async fn alter(cluster: &mut Cluster, e: &Entity, args: &ConfigsArgs) -> anyhow::Result<()> {
    let mut configs = Vec::new();
    for s in &args.add_config {
        for (k, v) in parse_add_config(s)? {
            configs.push(
                AlterableConfig::default()
                    .with_name(StrBytes::from_string(k))
                    .with_config_operation(0)
                    .with_value(Some(StrBytes::from_string(v))),
            );
        }
    }
    for s in &args.delete_config {
        for k in s.split(',').map(str::trim).filter(|k| !k.is_empty()) {
            configs.push(
                AlterableConfig::default()
                    .with_name(StrBytes::from_string(k.to_string()))
                    .with_config_operation(1),
            );
        }
    }
    if configs.is_empty() {
        anyhow::bail!(
            "At least one of --add-config or --delete-config must be specified with --alter"
        );
    }
    let request = IncrementalAlterConfigsRequest::default().with_resources(vec![
        AlterConfigsResource::default()
            .with_resource_type(e.kind)
            .with_resource_name(StrBytes::from_string(e.name.clone()))
            .with_configs(configs),
    ]);
    let response = broker_conn(cluster, e, &e.name)
        .await?
        .send(&request, 1)
        .await?;
    for r in &response.responses {
        check(r.error_code, r.error_message.as_ref())?;
    }
    if e.default_broker {
        println!("Completed updating default config for brokers in the cluster.");
    } else {
        println!("Completed updating config for {} {}.", e.word, e.name);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_add_config;

    #[test]
    fn add_config_keeps_bracketed_lists_together() {
        let got =
            parse_add_config("retention.ms=1000,cleanup.policy=[compact,delete]").expect("valid");
        assert_eq!(
            got,
            vec![
                ("retention.ms".to_string(), "1000".to_string()),
                ("cleanup.policy".to_string(), "compact,delete".to_string())
            ]
        );
        assert!(parse_add_config("retention.ms").is_err());
    }
}
