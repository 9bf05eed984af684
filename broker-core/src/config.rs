//! Broker configuration, read from Kafka's `server.properties` keys.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::properties::Properties;
use crate::security::acl::{AuthorizerConfig, AUTHORIZER_CLASSES};
use crate::security::SecurityProtocol;
use crate::topic_config::{self, BrokerDefaults, TOPIC_CONFIGS};

/// A `NAME://host:port` listener and the security protocol it speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The listener name, upper case (`PLAINTEXT`, `SASL_SSL`, `CLIENT`...).
    pub name: String,
    pub host: String,
    pub port: u16,
    pub protocol: SecurityProtocol,
}

impl Endpoint {
    /// A PLAINTEXT listener.
    pub fn plaintext(host: &str, port: u16) -> Self {
        Self {
            name: "PLAINTEXT".into(),
            host: host.into(),
            port,
            protocol: SecurityProtocol::Plaintext,
        }
    }
}

/// Everything the broker needs to run.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    pub node_id: i32,
    pub listeners: Vec<Endpoint>,
    /// `advertised.listeners`, matched to `listeners` by name; a listener
    /// without one advertises its own address (`localhost` and wildcards
    /// as 127.0.0.1).
    pub advertised: Vec<Endpoint>,
    pub log_dir: PathBuf,
    pub num_partitions: i32,
    pub auto_create_topics: bool,
    pub default_replication_factor: i16,
    pub socket_request_max_bytes: usize,
    pub retention_check_interval_ms: u64,
    pub cleaner_backoff_ms: u64,
    pub group_initial_rebalance_delay_ms: u64,
    /// How long a group with no members and no committed offsets is kept
    /// (and with it its generation) before it is forgotten.
    pub offsets_retention_check_interval_ms: u64,
    pub group_min_session_timeout_ms: i32,
    pub group_max_session_timeout_ms: i32,
    pub offsets_topic_num_partitions: i32,
    pub transaction_max_timeout_ms: i32,
    /// Broker-level values that act as topic defaults, keyed by broker key.
    pub topic_defaults: BrokerDefaults,
    /// Every key the user set, for DescribeConfigs on the broker resource.
    pub raw: BTreeMap<String, String>,
    /// `controller.listener.names`: KRaft controller listeners, which a
    /// single node without a controller quorum does not open.
    pub controller_listeners: Vec<String>,
    /// `max.connections`: open connections over every listener.
    pub max_connections: Option<usize>,
    /// `max.connections.per.ip` and its `max.connections.per.ip.overrides`.
    pub max_connections_per_ip: Option<usize>,
    pub max_connections_per_ip_overrides: Vec<(String, usize)>,
    /// `connections.max.idle.ms`: a connection silent this long is closed
    /// (when set; Weir's own clients keep connections that a default
    /// would cut).
    pub connections_max_idle_ms: Option<u64>,
    /// `authorizer.class.name`, `super.users`, `allow.everyone.if.no.acl.found`.
    pub authorizer: AuthorizerConfig,
}

/// Notes produced while reading a config; the caller logs them.
#[derive(Debug, Default)]
pub struct ConfigNotes {
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

/// A bad value, naming the key.
#[derive(Debug, thiserror::Error)]
#[error("invalid value {value:?} for {key}: {reason}")]
pub struct ConfigError {
    pub key: String,
    pub value: String,
    pub reason: String,
}

/// Keys of Kafka's sample server.properties (ZooKeeper and KRaft) that are
/// meaningless on a single node but must not produce warnings.
const ACCEPTED_NOOP_KEYS: &[&str] = &[
    "inter.broker.listener.name",
    "security.inter.broker.protocol",
    "sasl.mechanism.inter.broker.protocol",
    "sasl.mechanism.controller.protocol",
    "controller.quorum.voters",
    "controller.quorum.bootstrap.servers",
    "process.roles",
    "num.network.threads",
    "num.io.threads",
    "socket.send.buffer.bytes",
    "socket.receive.buffer.bytes",
    "num.recovery.threads.per.data.dir",
    "offsets.topic.replication.factor",
    "transaction.state.log.replication.factor",
    "transaction.state.log.min.isr",
    "zookeeper.connection.timeout.ms",
    "zookeeper.session.timeout.ms",
    "log.dir",
    "delete.topic.enable",
    "num.replica.fetchers",
    "replica.lag.time.max.ms",
    "auto.leader.rebalance.enable",
    "confluent.support.metrics.enable",
    "share.coordinator.state.topic.replication.factor",
    "share.coordinator.state.topic.min.isr",
];

impl Default for BrokerConfig {
    fn default() -> Self {
        Self {
            node_id: 0,
            listeners: vec![Endpoint::plaintext("localhost", 9092)],
            advertised: Vec::new(),
            log_dir: PathBuf::from("/tmp/weir-logs"),
            num_partitions: 1,
            auto_create_topics: true,
            default_replication_factor: 1,
            socket_request_max_bytes: 104_857_600,
            retention_check_interval_ms: 300_000,
            cleaner_backoff_ms: 15_000,
            group_initial_rebalance_delay_ms: 0,
            offsets_retention_check_interval_ms: 600_000,
            group_min_session_timeout_ms: 6_000,
            group_max_session_timeout_ms: 1_800_000,
            offsets_topic_num_partitions: 1,
            transaction_max_timeout_ms: 900_000,
            topic_defaults: BrokerDefaults::new(),
            raw: BTreeMap::new(),
            controller_listeners: Vec::new(),
            connections_max_idle_ms: None,
            authorizer: AuthorizerConfig::default(),
            max_connections: None,
            max_connections_per_ip: None,
            max_connections_per_ip_overrides: Vec::new(),
        }
    }
}

/// Parses `PLAINTEXT://host:port[,NAME://host:port]`; a name's protocol is
/// its own (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL) until
/// `listener.security.protocol.map` says otherwise.
pub fn parse_listeners(value: &str) -> Result<Vec<Endpoint>, String> {
    let mut out: Vec<Endpoint> = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, rest) = item
            .split_once("://")
            .ok_or_else(|| format!("{item:?} is not of the form PLAINTEXT://host:port"))?;
        let name = name.trim().to_ascii_uppercase();
        if out.iter().any(|e| e.name == name) {
            return Err(format!("listener name {name} is given twice"));
        }
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| format!("{item:?} has no port"))?;
        let port: u16 = port
            .parse()
            .map_err(|_| format!("{item:?} has an invalid port"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        out.push(Endpoint {
            protocol: SecurityProtocol::parse(&name).unwrap_or(SecurityProtocol::Plaintext),
            name,
            host: host.to_string(),
            port,
        });
    }
    if out.is_empty() {
        return Err("no listener given".into());
    }
    Ok(out)
}

impl BrokerConfig {
    /// Builds a config from properties; unknown keys become warnings.
    pub fn from_properties(props: &Properties) -> Result<(Self, ConfigNotes), ConfigError> {
        let mut cfg = Self::default();
        let mut notes = ConfigNotes::default();
        let map = props.to_map();
        let err = |key: &str, value: &str, reason: &str| ConfigError {
            key: key.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        };
        fn num<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, ConfigError> {
            v.trim().parse().map_err(|_| ConfigError {
                key: key.into(),
                value: v.into(),
                reason: "not a number".into(),
            })
        }
        let mut retention: Option<(u8, i64)> = None;
        let mut protocol_map: Vec<(String, SecurityProtocol)> = Vec::new();
        let mut controllers: Vec<String> = Vec::new();
        for (key, value) in &map {
            let v = value.as_str();
            match key.as_str() {
                "broker.id" | "node.id" => cfg.node_id = num(key, v)?,
                "zookeeper.connect" => notes.infos.push(format!(
                    "zookeeper.connect={v} is accepted and ignored: Weir's broker needs no ZooKeeper"
                )),
                "listeners" => {
                    cfg.listeners = parse_listeners(v).map_err(|r| err(key, v, &r))?;
                }
                "advertised.listeners" => {
                    cfg.advertised = parse_listeners(v).map_err(|r| err(key, v, &r))?;
                }
                "listener.security.protocol.map" => {
                    protocol_map = parse_protocol_map(v).map_err(|r| err(key, v, &r))?;
                }
                "controller.listener.names" => {
                    controllers = v
                        .split(',')
                        .map(|n| n.trim().to_ascii_uppercase())
                        .filter(|n| !n.is_empty())
                        .collect();
                }
                "authorizer.class.name" => {
                    let class = v.trim();
                    cfg.authorizer.enabled = !class.is_empty();
                    if cfg.authorizer.enabled && !AUTHORIZER_CLASSES.contains(&class) {
                        return Err(err(
                            key,
                            v,
                            &format!(
                                "Weir's broker applies Kafka's ACLs with {}; another authorizer cannot be loaded",
                                AUTHORIZER_CLASSES.join(" or ")
                            ),
                        ));
                    }
                }
                "super.users" => {
                    cfg.authorizer.super_users = v
                        .split(';')
                        .map(str::trim)
                        .filter(|u| !u.is_empty())
                        .map(str::to_string)
                        .collect();
                    if let Some(u) = cfg.authorizer.super_users.iter().find(|u| !u.contains(':')) {
                        return Err(err(
                            key,
                            v,
                            &format!("{u:?} is not a principal: write User:name, separated by ';'"),
                        ));
                    }
                }
                "allow.everyone.if.no.acl.found" => {
                    cfg.authorizer.allow_if_no_acl =
                        parse_bool(v).ok_or_else(|| err(key, v, "not a boolean"))?;
                    if cfg.authorizer.allow_if_no_acl {
                        notes.warnings.push(
                            "allow.everyone.if.no.acl.found=true: whatever no ACL names is open to every principal, User:ANONYMOUS included; until an ACL names the cluster, that includes creating ACLs and SCRAM users".into(),
                        );
                    }
                }
                k if is_security_key(k) => {}
                "log.dirs" | "log.dir" => {
                    let first = v.split(',').next().unwrap_or(v).trim();
                    if v.contains(',') {
                        notes.warnings.push(format!(
                            "{key}={v}: only the first directory ({first}) is used"
                        ));
                    }
                    cfg.log_dir = PathBuf::from(first);
                }
                "num.partitions" => {
                    cfg.num_partitions = num(key, v)?;
                    if cfg.num_partitions < 1 {
                        return Err(err(key, v, "must be at least 1"));
                    }
                }
                "auto.create.topics.enable" => {
                    cfg.auto_create_topics = parse_bool(v).ok_or_else(|| err(key, v, "not a boolean"))?
                }
                "default.replication.factor" => cfg.default_replication_factor = num(key, v)?,
                "socket.request.max.bytes" => cfg.socket_request_max_bytes = num(key, v)?,
                "connections.max.idle.ms" => cfg.connections_max_idle_ms = Some(num(key, v)?),
                "max.connections" => cfg.max_connections = Some(num(key, v)?),
                "max.connections.per.ip" => cfg.max_connections_per_ip = Some(num(key, v)?),
                "max.connections.per.ip.overrides" => {
                    cfg.max_connections_per_ip_overrides = v
                        .split(',')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(|p| {
                            let (host, n) = p.rsplit_once(':').ok_or_else(|| {
                                err(key, v, &format!("{p:?} is not of the form host:count"))
                            })?;
                            Ok((host.trim().to_string(), num::<usize>(key, n)?))
                        })
                        .collect::<Result<_, ConfigError>>()?;
                }
                "log.retention.check.interval.ms" => cfg.retention_check_interval_ms = num(key, v)?,
                "log.cleaner.backoff.ms" => cfg.cleaner_backoff_ms = num(key, v)?,
                "group.initial.rebalance.delay.ms" => {
                    cfg.group_initial_rebalance_delay_ms = num(key, v)?
                }
                "offsets.retention.check.interval.ms" => {
                    cfg.offsets_retention_check_interval_ms = num(key, v)?
                }
                "group.min.session.timeout.ms" => cfg.group_min_session_timeout_ms = num(key, v)?,
                "group.max.session.timeout.ms" => cfg.group_max_session_timeout_ms = num(key, v)?,
                "offsets.topic.num.partitions" => {
                    cfg.offsets_topic_num_partitions = num::<i32>(key, v)?.max(1)
                }
                "transaction.max.timeout.ms" => cfg.transaction_max_timeout_ms = num(key, v)?,
                // Retention: ms beats minutes beats hours, as in Kafka.
                "log.retention.ms" => retention = pick(retention, 3, num(key, v)?),
                "log.retention.minutes" => {
                    retention = pick(retention, 2, num::<i64>(key, v)?.saturating_mul(60_000))
                }
                "log.retention.hours" => {
                    retention = pick(retention, 1, num::<i64>(key, v)?.saturating_mul(3_600_000))
                }
                "log.roll.hours" => {
                    let ms = num::<i64>(key, v)?.saturating_mul(3_600_000);
                    cfg.topic_defaults
                        .entry("log.roll.ms".into())
                        .or_insert(ms.to_string());
                }
                k if is_topic_default_key(k) => {
                    let def = TOPIC_CONFIGS
                        .iter()
                        .find(|d| d.broker_key == Some(k))
                        .ok_or_else(|| err(key, v, "unknown"))?;
                    topic_config::validate_value(def, v)
                        .map_err(|r| err(key, v, &r))?;
                    cfg.topic_defaults.insert(k.to_string(), v.trim().to_string());
                }
                k if ACCEPTED_NOOP_KEYS.contains(&k) => {}
                k => notes.warnings.push(format!(
                    "unknown broker config {k:?} is ignored{}",
                    crate::properties::did_you_mean(k, known_keys())
                )),
            }
        }
        cfg.controller_listeners = controllers.clone();
        resolve_protocols(&mut cfg.listeners, &protocol_map, &controllers).map_err(|r| {
            err(
                "listeners",
                map.get("listeners").map(String::as_str).unwrap_or(""),
                &r,
            )
        })?;
        if let Some((_, ms)) = retention {
            let ms = if ms < 0 { -1 } else { ms };
            cfg.topic_defaults
                .insert("log.retention.ms".into(), ms.to_string());
        }
        if let Some(bytes) = cfg.topic_defaults.get("log.retention.bytes") {
            if bytes.trim().starts_with('-') {
                cfg.topic_defaults
                    .insert("log.retention.bytes".into(), "-1".into());
            }
        }
        cfg.raw = map;
        Ok((cfg, notes))
    }

    /// Applies `--override key=value` pairs on top of file properties.
    pub fn with_overrides(
        mut props: Properties,
        overrides: &[(String, String)],
    ) -> Result<(Self, ConfigNotes), ConfigError> {
        for (k, v) in overrides {
            props.set(k.clone(), v.clone());
        }
        Self::from_properties(&props)
    }

    /// A config for tests and embedding: `log_dir`, listening on 127.0.0.1 port 0.
    pub fn ephemeral(log_dir: impl Into<PathBuf>) -> Self {
        Self {
            listeners: vec![Endpoint::plaintext("127.0.0.1", 0)],
            log_dir: log_dir.into(),
            ..Self::default()
        }
    }
}

/// Keys `from_properties` reads itself (besides topic defaults and the
/// accepted no-op keys).
const HANDLED_KEYS: &[&str] = &[
    "broker.id",
    "node.id",
    "zookeeper.connect",
    "listeners",
    "advertised.listeners",
    "listener.security.protocol.map",
    "controller.listener.names",
    "log.dirs",
    "num.partitions",
    "auto.create.topics.enable",
    "default.replication.factor",
    "socket.request.max.bytes",
    "connections.max.idle.ms",
    "max.connections",
    "max.connections.per.ip",
    "max.connections.per.ip.overrides",
    "log.retention.check.interval.ms",
    "log.cleaner.backoff.ms",
    "group.initial.rebalance.delay.ms",
    "offsets.retention.check.interval.ms",
    "group.min.session.timeout.ms",
    "group.max.session.timeout.ms",
    "offsets.topic.num.partitions",
    "transaction.max.timeout.ms",
    "log.retention.ms",
    "log.retention.minutes",
    "log.retention.hours",
    "log.roll.hours",
];

/// Every broker config key Weir knows.
pub fn known_keys() -> impl Iterator<Item = &'static str> {
    HANDLED_KEYS
        .iter()
        .chain(ACCEPTED_NOOP_KEYS)
        .chain(SECURITY_KEYS)
        .copied()
        .chain(TOPIC_CONFIGS.iter().filter_map(|d| d.broker_key))
}

/// One problem of a server.properties file: its line (0 for an
/// `--override`), and whether it stops the broker from starting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub error: bool,
    pub message: String,
}

impl BrokerConfig {
    /// Every problem of `props`, each entry checked on its own so that one
    /// bad value hides no other: errors (bad values) and warnings (unknown
    /// keys, with the likely key when there is one).
    pub fn problems(props: &Properties) -> Vec<Problem> {
        let mut out = Vec::new();
        // Listener names are resolved with the protocol map and the
        // controller names, wherever those are in the file.
        let context = [
            "listener.security.protocol.map",
            "controller.listener.names",
        ];
        for e in props.entries() {
            let mut one = Properties::default();
            if e.key == "listeners" {
                for k in context {
                    if let Some(v) = props.get(k) {
                        one.set(k.to_string(), v.to_string());
                    }
                }
            }
            one.set(e.key.clone(), e.value.clone());
            match Self::from_properties(&one) {
                Err(err) => out.push(Problem {
                    line: e.line,
                    error: true,
                    message: err.to_string(),
                }),
                Ok((_, notes)) => out.extend(notes.warnings.into_iter().map(|w| Problem {
                    line: e.line,
                    error: false,
                    message: w,
                })),
            }
        }
        out
    }
}

/// Keys of the listeners' TLS and SASL settings (read when the broker
/// starts, see [`crate::security`]).
pub const SECURITY_KEYS: &[&str] = &[
    "ssl.keystore.type",
    "ssl.keystore.location",
    "ssl.keystore.password",
    "ssl.keystore.certificate.chain",
    "ssl.keystore.key",
    "ssl.key.password",
    "ssl.truststore.type",
    "ssl.truststore.location",
    "ssl.truststore.password",
    "ssl.truststore.certificates",
    "ssl.client.auth",
    "ssl.enabled.protocols",
    "ssl.protocol",
    "ssl.cipher.suites",
    "ssl.endpoint.identification.algorithm",
    "ssl.principal.mapping.rules",
    "sasl.enabled.mechanisms",
    "sasl.jaas.config",
    "connections.max.reauth.ms",
];

fn is_security_key(k: &str) -> bool {
    SECURITY_KEYS.contains(&k) || k.starts_with("listener.name.")
}

/// `NAME:PROTOCOL,...`.
fn parse_protocol_map(v: &str) -> Result<Vec<(String, SecurityProtocol)>, String> {
    v.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, proto) = pair
                .split_once(':')
                .ok_or_else(|| format!("{pair:?} is not of the form NAME:PROTOCOL"))?;
            let proto = SecurityProtocol::parse(proto).ok_or_else(|| {
                format!("{proto:?} is not a security protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)")
            })?;
            Ok((name.trim().to_ascii_uppercase(), proto))
        })
        .collect()
}

/// Gives every listener its protocol: the map's, else its own name's.
/// A controller listener (KRaft's) that the map omits speaks PLAINTEXT.
fn resolve_protocols(
    listeners: &mut [Endpoint],
    map: &[(String, SecurityProtocol)],
    controllers: &[String],
) -> Result<(), String> {
    for l in listeners {
        l.protocol = match map.iter().find(|(n, _)| *n == l.name) {
            Some((_, p)) => *p,
            None => match SecurityProtocol::parse(&l.name) {
                Some(p) => p,
                None if controllers.contains(&l.name) => SecurityProtocol::Plaintext,
                None => {
                    return Err(format!(
                        "listener {} has no security protocol: add {}:PLAINTEXT (or SSL, SASL_PLAINTEXT, SASL_SSL) to listener.security.protocol.map",
                        l.name, l.name
                    ))
                }
            },
        };
    }
    Ok(())
}

fn is_topic_default_key(k: &str) -> bool {
    TOPIC_CONFIGS.iter().any(|d| d.broker_key == Some(k))
}

fn pick(cur: Option<(u8, i64)>, rank: u8, value: i64) -> Option<(u8, i64)> {
    match cur {
        Some((r, _)) if r > rank => cur,
        _ => Some((rank, value)),
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_keys_are_not_unknown_and_misspellings_get_the_key() {
        for k in known_keys() {
            let mut p = Properties::default();
            p.set(k, "1");
            for problem in BrokerConfig::problems(&p) {
                assert!(
                    !problem.message.contains("unknown"),
                    "{k}: {}",
                    problem.message
                );
            }
        }
        let p = Properties::parse("num.partitions=x\nlog.retention.hourz=1\nlisteners=nope://\n")
            .expect("parse");
        let problems = BrokerConfig::problems(&p);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].error && problems[0].line == 1);
        assert!(
            !problems[1].error
                && problems[1]
                    .message
                    .contains("did you mean log.retention.hours?")
        );
        assert!(problems[2].error && problems[2].line == 3);
    }

    fn load(text: &str) -> (BrokerConfig, ConfigNotes) {
        let props = Properties::parse(text).expect("parses");
        BrokerConfig::from_properties(&props).expect("valid")
    }

    #[test]
    fn kafka_sample_server_properties() {
        let (cfg, notes) = load(
            "broker.id=0\nlisteners=PLAINTEXT://:9093\nnum.network.threads=3\n\
             log.dirs=/tmp/kafka-logs\nnum.partitions=3\nlog.retention.hours=168\n\
             log.segment.bytes=1073741824\nzookeeper.connect=localhost:2181\nfancy.key=1\n",
        );
        assert_eq!(cfg.listeners[0].port, 9093);
        assert_eq!(cfg.num_partitions, 3);
        assert_eq!(cfg.log_dir, PathBuf::from("/tmp/kafka-logs"));
        assert_eq!(cfg.topic_defaults["log.retention.ms"], "604800000");
        assert_eq!(notes.infos.len(), 1, "zookeeper note");
        assert_eq!(notes.warnings.len(), 1);
        assert!(notes.warnings[0].contains("fancy.key"));
    }

    #[test]
    fn retention_precedence_and_forever() {
        let (cfg, _) = load("log.retention.hours=1\nlog.retention.minutes=2\n");
        assert_eq!(cfg.topic_defaults["log.retention.ms"], "120000");
        let (cfg, _) = load("log.retention.hours=1\nlog.retention.ms=-1\n");
        assert_eq!(cfg.topic_defaults["log.retention.ms"], "-1");
    }

    #[test]
    fn empty_groups_are_kept_for_the_offsets_retention_check_interval() {
        assert_eq!(load("").0.offsets_retention_check_interval_ms, 600_000);
        let (cfg, notes) = load("offsets.retention.check.interval.ms=1000\n");
        assert_eq!(cfg.offsets_retention_check_interval_ms, 1000);
        assert!(notes.warnings.is_empty(), "{:?}", notes.warnings);
    }

    #[test]
    fn bad_value_names_key() {
        let props = Properties::parse("num.partitions=many\n").expect("parses");
        let e = BrokerConfig::from_properties(&props).expect_err("invalid");
        assert!(e.to_string().contains("num.partitions"), "{e}");
    }
}
