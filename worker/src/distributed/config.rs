//! `weir distributed`'s worker settings (Kafka Connect's DistributedConfig:
//! keys, defaults, messages) and Confluent's `CONNECT_*` environment
//! variables as worker properties (the container images' convention).

use std::collections::BTreeMap;
use std::time::Duration;

use super::member::MemberConfig;
use super::protocol::Protocol;
use super::topics::InternalTopic;

/// The distributed-only settings.
#[derive(Debug, Clone)]
pub struct DistributedSettings {
    pub bootstrap_servers: String,
    pub member: MemberConfig,
    pub heartbeat_interval: Duration,
    pub scheduled_rebalance_max_delay: Duration,
    pub config_topic: InternalTopic,
    pub offset_topic: InternalTopic,
    pub status_topic: InternalTopic,
    /// The URL other workers reach this one at (`rest.advertised.*`, else `listeners`).
    pub advertised_url: String,
    /// `weir.task.auto.restart.enable` (false) and the longest wait between
    /// restarts of a FAILED task, `weir.task.auto.restart.max.backoff.ms`
    /// (60000); the wait starts at 1 s and doubles.
    pub auto_restart: Option<Duration>,
    /// `inter.worker.key.ttl.ms`: how long the leader's session key lives.
    pub key_ttl: Duration,
    /// `inter.worker.key.size` in bits (256 when unset).
    pub key_bits: usize,
}

/// The KIP-507 algorithm settings: HmacSHA256 is the one supported.
fn check_algorithms(props: &BTreeMap<String, String>) -> Result<(), String> {
    use super::signing::ALGORITHM;
    for key in [
        "inter.worker.key.generation.algorithm",
        "inter.worker.signature.algorithm",
    ] {
        if let Some(v) = get(props, key).filter(|v| *v != ALGORITHM) {
            return Err(format!(
                "Invalid value {v} for configuration {key}: this worker supports {ALGORITHM} only"
            ));
        }
    }
    let key = "inter.worker.verification.algorithms";
    if let Some(v) = get(props, key) {
        if !v.split(',').any(|a| a.trim() == ALGORITHM) {
            return Err(format!(
                "Invalid value {v} for configuration {key}: the signature algorithm {ALGORITHM} must be among the verification algorithms"
            ));
        }
    }
    Ok(())
}

fn get<'a>(props: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    props.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn required<'a>(props: &'a BTreeMap<String, String>, key: &str) -> Result<&'a str, String> {
    get(props, key).ok_or_else(|| {
        format!("Missing required configuration \"{key}\" which has no default value.")
    })
}

fn number<T: std::str::FromStr>(
    props: &BTreeMap<String, String>,
    key: &str,
    default: T,
    kind: &str,
) -> Result<T, String> {
    match get(props, key) {
        None => Ok(default),
        Some(v) => v.parse::<T>().map_err(|_| {
            format!("Invalid value {v} for configuration {key}: Not a number of type {kind}")
        }),
    }
}

fn millis(props: &BTreeMap<String, String>, key: &str, default: u64) -> Result<Duration, String> {
    number(props, key, default, "INT").map(Duration::from_millis)
}

/// Topic configs given as `<prefix>.<config>` (other than the settings the
/// worker itself reads), passed on when the topic is created.
fn topic_configs(props: &BTreeMap<String, String>, prefix: &str) -> Vec<(String, String)> {
    props
        .iter()
        .filter_map(|(k, v)| {
            let rest = k.strip_prefix(prefix)?.strip_prefix('.')?;
            (!matches!(rest, "topic" | "partitions" | "replication.factor"))
                .then(|| (rest.to_string(), v.clone()))
        })
        .collect()
}

fn topic(
    props: &BTreeMap<String, String>,
    prefix: &str,
    property: &'static str,
    purpose: &'static str,
    default_partitions: i32,
    single_partition: bool,
) -> Result<InternalTopic, String> {
    let partitions = number(
        props,
        &format!("{prefix}.partitions"),
        default_partitions,
        "INT",
    )?;
    let replication = number(
        props,
        &format!("{prefix}.replication.factor"),
        3i16,
        "SHORT",
    )?;
    for (key, v) in [
        ("partitions", partitions),
        ("replication.factor", i32::from(replication)),
    ] {
        if v == 0 || v < -1 {
            return Err(format!(
                "Invalid value {v} for configuration {prefix}.{key}: must be -1 (the broker's default) or at least 1"
            ));
        }
    }
    Ok(InternalTopic {
        name: required(props, property)?.to_string(),
        property,
        purpose,
        partitions,
        replication,
        configs: topic_configs(props, prefix),
        single_partition,
    })
}

impl DistributedSettings {
    /// Reads the distributed settings; `rest_url` is the URL from `listeners`.
    pub fn from_props(props: &BTreeMap<String, String>, rest_url: &str) -> Result<Self, String> {
        let bootstrap_servers = get(props, "bootstrap.servers")
            .ok_or(
                "Missing required configuration \"bootstrap.servers\": distributed workers meet on a Kafka \
                 cluster. Start one with `weir broker` (or `kafka-server-start.sh config/server.properties`) \
                 and set bootstrap.servers=127.0.0.1:9092",
            )?
            .to_string();
        let setting = get(props, "connect.protocol").unwrap_or("sessioned");
        let protocol = [Protocol::Eager, Protocol::Compatible, Protocol::Sessioned]
            .into_iter()
            .find(|p| p.setting() == setting)
            .ok_or_else(|| {
                format!(
                    "Invalid value {setting} for configuration connect.protocol: String must be one of: eager, compatible, sessioned"
                )
            })?;
        let session_timeout = millis(props, "session.timeout.ms", 10_000)?;
        let heartbeat_interval = millis(props, "heartbeat.interval.ms", 3_000)?;
        if heartbeat_interval >= session_timeout {
            return Err(format!(
                "heartbeat.interval.ms ({}) must be lower than session.timeout.ms ({})",
                heartbeat_interval.as_millis(),
                session_timeout.as_millis()
            ));
        }
        let advertised_url = match (
            get(props, "rest.advertised.host.name"),
            get(props, "rest.advertised.port"),
        ) {
            (None, None) => rest_url.to_string(),
            (host, port) => {
                let (scheme, rest) = rest_url.split_once("://").unwrap_or(("http", rest_url));
                let hp = rest.trim_end_matches('/');
                let (h, p) = hp.rsplit_once(':').unwrap_or((hp, "8083"));
                let scheme = get(props, "rest.advertised.listener").unwrap_or(scheme);
                format!("{scheme}://{}:{}/", host.unwrap_or(h), port.unwrap_or(p))
            }
        };
        check_algorithms(props)?;
        let key_bits: usize = number(props, "inter.worker.key.size", 256, "INT")?;
        if !(64..=4096).contains(&key_bits) {
            return Err(format!(
                "Invalid value {key_bits} for configuration inter.worker.key.size: must be between 64 and 4096 bits"
            ));
        }
        Ok(DistributedSettings {
            bootstrap_servers,
            key_ttl: millis(props, "inter.worker.key.ttl.ms", 3_600_000)?,
            key_bits,
            member: MemberConfig {
                group: required(props, "group.id")?.to_string(),
                session_timeout,
                rebalance_timeout: millis(props, "rebalance.timeout.ms", 60_000)?,
                protocol,
            },
            heartbeat_interval,
            scheduled_rebalance_max_delay: millis(
                props,
                "scheduled.rebalance.max.delay.ms",
                300_000,
            )?,
            config_topic: topic(
                props,
                "config.storage",
                "config.storage.topic",
                "connector configurations",
                1,
                true,
            )?,
            offset_topic: topic(
                props,
                "offset.storage",
                "offset.storage.topic",
                "source connector offsets",
                25,
                false,
            )?,
            status_topic: topic(
                props,
                "status.storage",
                "status.storage.topic",
                "connector and task statuses",
                5,
                false,
            )?,
            advertised_url,
            auto_restart: match get(props, "weir.task.auto.restart.enable").unwrap_or("false") {
                "true" => Some(millis(props, "weir.task.auto.restart.max.backoff.ms", 60_000)?),
                "false" => None,
                other => {
                    return Err(format!(
                        "Invalid value {other} for configuration weir.task.auto.restart.enable: Expected value to be either true or false"
                    ))
                }
            },
        })
    }
}

/// Worker properties from Confluent's environment convention: `CONNECT_`
/// and the rest lower-cased, `___` -> `-`, `__` -> `_`, `_` -> `.`
/// (`CONNECT_BOOTSTRAP_SERVERS` -> `bootstrap.servers`,
/// `CONNECT_CONFIG_STORAGE_REPLICATION_FACTOR` -> `config.storage.replication.factor`).
pub fn from_env(vars: impl IntoIterator<Item = (String, String)>) -> BTreeMap<String, String> {
    vars.into_iter()
        .filter_map(|(k, v)| {
            let rest = k.strip_prefix("CONNECT_")?;
            if rest.is_empty() {
                return None;
            }
            let mut out = String::with_capacity(rest.len());
            let mut chars = rest.chars().peekable();
            while let Some(c) = chars.next() {
                if c != '_' {
                    out.extend(c.to_lowercase());
                    continue;
                }
                let mut run = 1;
                while chars.peek() == Some(&'_') {
                    chars.next();
                    run += 1;
                }
                // Runs of underscores: 1 -> '.', 2 -> '_', 3 -> '-', longer ones in threes, then the rest.
                for _ in 0..run / 3 {
                    out.push('-');
                }
                match run % 3 {
                    1 => out.push('.'),
                    2 => out.push('_'),
                    _ => {}
                }
            }
            Some((out, v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn sample() -> BTreeMap<String, String> {
        // config/connect-distributed.properties as shipped, host edited.
        props(&[
            ("bootstrap.servers", "localhost:9092"),
            ("group.id", "connect-cluster"),
            ("offset.storage.topic", "connect-offsets"),
            ("offset.storage.replication.factor", "1"),
            ("config.storage.topic", "connect-configs"),
            ("config.storage.replication.factor", "1"),
            ("status.storage.topic", "connect-status"),
            ("status.storage.replication.factor", "1"),
            ("offset.flush.interval.ms", "10000"),
        ])
    }

    #[test]
    fn the_sample_file_gives_connects_defaults() {
        let s =
            DistributedSettings::from_props(&sample(), "http://127.0.0.1:8083/").expect("valid");
        assert_eq!(s.member.group, "connect-cluster");
        assert_eq!(s.member.protocol, Protocol::Sessioned);
        assert_eq!(s.member.session_timeout, Duration::from_secs(10));
        assert_eq!(s.member.rebalance_timeout, Duration::from_secs(60));
        assert_eq!(s.heartbeat_interval, Duration::from_secs(3));
        assert_eq!(s.scheduled_rebalance_max_delay, Duration::from_secs(300));
        assert_eq!(
            (s.offset_topic.partitions, s.offset_topic.replication),
            (25, 1)
        );
        assert_eq!(s.status_topic.partitions, 5);
        assert!(s.config_topic.single_partition);
        assert_eq!(s.advertised_url, "http://127.0.0.1:8083/");
        assert_eq!(s.auto_restart, None, "off by default");
        let mut p = sample();
        p.insert("weir.task.auto.restart.enable".into(), "true".into());
        p.insert(
            "weir.task.auto.restart.max.backoff.ms".into(),
            "8000".into(),
        );
        let s = DistributedSettings::from_props(&p, "http://h:1/").expect("valid");
        assert_eq!(s.auto_restart, Some(Duration::from_secs(8)));
    }

    #[test]
    fn missing_and_bad_settings_are_named() {
        let mut p = sample();
        p.remove("bootstrap.servers");
        let e = DistributedSettings::from_props(&p, "http://h:1/").expect_err("no servers");
        assert!(
            e.contains("bootstrap.servers") && e.contains("weir broker"),
            "{e}"
        );
        let mut p = sample();
        p.remove("group.id");
        let e = DistributedSettings::from_props(&p, "http://h:1/").expect_err("no group");
        assert!(e.contains("\"group.id\""), "{e}");
        let mut p = sample();
        p.insert("connect.protocol".into(), "fast".into());
        assert!(DistributedSettings::from_props(&p, "http://h:1/")
            .expect_err("protocol")
            .contains("connect.protocol"));
        let mut p = sample();
        p.insert("status.storage.partitions".into(), "0".into());
        assert!(DistributedSettings::from_props(&p, "http://h:1/")
            .expect_err("partitions")
            .contains("status.storage.partitions"));
    }

    #[test]
    fn minus_one_means_the_brokers_default_and_extra_keys_become_topic_configs() {
        let mut p = sample();
        p.insert("offset.storage.replication.factor".into(), "-1".into());
        p.insert("offset.storage.partitions".into(), "-1".into());
        p.insert("offset.storage.segment.bytes".into(), "1048576".into());
        p.insert("rest.advertised.host.name".into(), "worker-2".into());
        let s = DistributedSettings::from_props(&p, "http://0.0.0.0:8083/").expect("valid");
        assert_eq!(
            (s.offset_topic.partitions, s.offset_topic.replication),
            (-1, -1)
        );
        assert_eq!(
            s.offset_topic.configs,
            vec![("segment.bytes".to_string(), "1048576".to_string())]
        );
        assert_eq!(s.advertised_url, "http://worker-2:8083/");
    }

    #[test]
    fn confluent_environment_variables_map_to_properties() {
        let m = from_env(
            [
                ("CONNECT_BOOTSTRAP_SERVERS", "broker:9092"),
                ("CONNECT_CONFIG_STORAGE_REPLICATION_FACTOR", "1"),
                ("CONNECT_REST_ADVERTISED_HOST_NAME", "connect-1"),
                ("CONNECT_PRODUCER_CLIENT__ID", "x"),
                ("CONNECT_SOME___DASHED", "y"),
                ("CONNECT_", "ignored"),
                ("PATH", "/usr/bin"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        assert_eq!(
            m,
            props(&[
                ("bootstrap.servers", "broker:9092"),
                ("config.storage.replication.factor", "1"),
                ("rest.advertised.host.name", "connect-1"),
                ("producer.client_id", "x"),
                ("some-dashed", "y"),
            ])
        );
    }
}
