//! Topic-level configuration: Kafka's topic config keys, their broker-level
//! synonyms, types and defaults. One table drives validation, DescribeConfigs
//! and the typed [`TopicConfig`] the log uses.

use std::collections::BTreeMap;

/// Kafka's `ConfigType` codes, as sent in DescribeConfigs v3+.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigType {
    Boolean = 1,
    String = 2,
    Int = 3,
    Long = 5,
    Double = 6,
    List = 7,
}

/// Where an effective value came from (DescribeConfigs `config_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSource {
    DynamicTopic = 1,
    StaticBroker = 4,
    Default = 5,
}

/// One topic config key.
#[derive(Debug)]
pub struct TopicConfigDef {
    pub name: &'static str,
    /// The broker key whose value is this key's default, if any.
    pub broker_key: Option<&'static str>,
    pub kind: ConfigType,
    pub default: &'static str,
    /// Allowed values for enumerated string/list configs.
    pub choices: &'static [&'static str],
    pub doc: &'static str,
}

const LONG_MAX: &str = "9223372036854775807";

macro_rules! def {
    ($name:expr, $broker:expr, $kind:ident, $default:expr, $choices:expr, $doc:expr) => {
        TopicConfigDef {
            name: $name,
            broker_key: $broker,
            kind: ConfigType::$kind,
            default: $default,
            choices: $choices,
            doc: $doc,
        }
    };
}

/// Every topic config Kafka 3.x/4.x documents, in name order.
pub static TOPIC_CONFIGS: &[TopicConfigDef] = &[
    def!(
        "cleanup.policy",
        Some("log.cleanup.policy"),
        List,
        "delete",
        &["delete", "compact"],
        "delete: drop old segments by time or size; compact: keep the latest value per key."
    ),
    def!(
        "compression.type",
        Some("compression.type"),
        String,
        "producer",
        &["producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"],
        "Compression of stored batches; `producer` keeps what the producer sent."
    ),
    def!(
        "delete.retention.ms",
        Some("log.cleaner.delete.retention.ms"),
        Long,
        "86400000",
        &[],
        "How long tombstones stay readable on compacted topics."
    ),
    def!(
        "file.delete.delay.ms",
        Some("log.segment.delete.delay.ms"),
        Long,
        "60000",
        &[],
        "Delay before a deleted segment file is removed."
    ),
    def!(
        "flush.messages",
        Some("log.flush.interval.messages"),
        Long,
        LONG_MAX,
        &[],
        "Force an fsync after this many messages."
    ),
    def!(
        "flush.ms",
        Some("log.flush.interval.ms"),
        Long,
        LONG_MAX,
        &[],
        "Force an fsync after this much time."
    ),
    def!(
        "follower.replication.throttled.replicas",
        None,
        List,
        "",
        &[],
        "Accepted for compatibility; a single node has no followers."
    ),
    def!(
        "index.interval.bytes",
        Some("log.index.interval.bytes"),
        Int,
        "4096",
        &[],
        "Bytes between offset index entries."
    ),
    def!(
        "leader.replication.throttled.replicas",
        None,
        List,
        "",
        &[],
        "Accepted for compatibility; a single node has no followers."
    ),
    def!(
        "local.retention.bytes",
        Some("log.local.retention.bytes"),
        Long,
        "-2",
        &[],
        "Accepted for compatibility (tiered storage)."
    ),
    def!(
        "local.retention.ms",
        Some("log.local.retention.ms"),
        Long,
        "-2",
        &[],
        "Accepted for compatibility (tiered storage)."
    ),
    def!(
        "max.compaction.lag.ms",
        Some("log.cleaner.max.compaction.lag.ms"),
        Long,
        LONG_MAX,
        &[],
        "Maximum time a record stays uncompacted."
    ),
    def!(
        "max.message.bytes",
        Some("message.max.bytes"),
        Int,
        "1048588",
        &[],
        "Largest record batch the topic accepts."
    ),
    def!(
        "message.timestamp.after.max.ms",
        Some("log.message.timestamp.after.max.ms"),
        Long,
        LONG_MAX,
        &[],
        "Largest allowed difference of a future record timestamp."
    ),
    def!(
        "message.timestamp.before.max.ms",
        Some("log.message.timestamp.before.max.ms"),
        Long,
        LONG_MAX,
        &[],
        "Largest allowed difference of a past record timestamp."
    ),
    def!(
        "message.timestamp.type",
        Some("log.message.timestamp.type"),
        String,
        "CreateTime",
        &["CreateTime", "LogAppendTime"],
        "Which timestamp records carry."
    ),
    def!(
        "min.cleanable.dirty.ratio",
        Some("log.cleaner.min.cleanable.ratio"),
        Double,
        "0.5",
        &[],
        "Dirty fraction of the log that triggers compaction."
    ),
    def!(
        "min.compaction.lag.ms",
        Some("log.cleaner.min.compaction.lag.ms"),
        Long,
        "0",
        &[],
        "Minimum time a record stays uncompacted."
    ),
    def!(
        "min.insync.replicas",
        Some("min.insync.replicas"),
        Int,
        "1",
        &[],
        "Accepted for compatibility; a single node is always in sync."
    ),
    def!(
        "preallocate",
        Some("log.preallocate"),
        Boolean,
        "true",
        &[],
        "Allocate the active segment's file ahead of its data (in steps of up to 4 MiB, not the whole segment as Kafka does), so that the fsync after an append need not commit a new file length."
    ),
    def!(
        "remote.storage.enable",
        None,
        Boolean,
        "false",
        &[],
        "Accepted for compatibility (tiered storage is not supported)."
    ),
    def!(
        "retention.bytes",
        Some("log.retention.bytes"),
        Long,
        "-1",
        &[],
        "Size a partition may grow to before old segments are deleted; -1 is unlimited."
    ),
    def!(
        "retention.ms",
        Some("log.retention.ms"),
        Long,
        "604800000",
        &[],
        "Age after which old segments are deleted; -1 keeps them forever."
    ),
    def!(
        "segment.bytes",
        Some("log.segment.bytes"),
        Int,
        "1073741824",
        &[],
        "Size at which a new segment file is started."
    ),
    def!(
        "segment.index.bytes",
        Some("log.index.size.max.bytes"),
        Int,
        "10485760",
        &[],
        "Maximum offset index size."
    ),
    def!(
        "segment.jitter.ms",
        Some("log.roll.jitter.ms"),
        Long,
        "0",
        &[],
        "Random jitter subtracted from segment.ms."
    ),
    def!(
        "segment.ms",
        Some("log.roll.ms"),
        Long,
        "604800000",
        &[],
        "Age at which a new segment file is started."
    ),
    def!(
        "unclean.leader.election.enable",
        Some("unclean.leader.election.enable"),
        Boolean,
        "false",
        &[],
        "Accepted for compatibility; a single node has one leader."
    ),
];

/// Looks up a topic config definition.
pub fn find_def(name: &str) -> Option<&'static TopicConfigDef> {
    TOPIC_CONFIGS.iter().find(|d| d.name == name)
}

/// Checks one value against its definition; the message names the key.
pub fn validate_value(def: &TopicConfigDef, value: &str) -> Result<(), String> {
    let bad = |what: &str| {
        Err(format!(
            "Invalid value {value} for configuration {}: {what}",
            def.name
        ))
    };
    let v = value.trim();
    match def.kind {
        ConfigType::Boolean => {
            if !v.eq_ignore_ascii_case("true") && !v.eq_ignore_ascii_case("false") {
                return bad("Expected value to be either true or false");
            }
        }
        ConfigType::Int => {
            if v.parse::<i32>().is_err() {
                return bad("Not a number of type INT");
            }
        }
        ConfigType::Long => {
            if v.parse::<i64>().is_err() {
                return bad("Not a number of type LONG");
            }
        }
        ConfigType::Double => {
            if v.parse::<f64>().is_err() {
                return bad("Not a number of type DOUBLE");
            }
        }
        ConfigType::String => {
            if !def.choices.is_empty() && !def.choices.contains(&v) {
                return bad(&format!(
                    "String must be one of: {}",
                    def.choices.join(", ")
                ));
            }
        }
        ConfigType::List => {
            if !def.choices.is_empty() {
                for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    if !def.choices.contains(&item) {
                        return bad(&format!("Valid values are {}", def.choices.join(", ")));
                    }
                }
            }
        }
    }
    match def.name {
        "segment.bytes" if v.parse::<i64>().unwrap_or(0) < 14 => bad("Value must be at least 14"),
        "max.message.bytes" | "index.interval.bytes" if v.parse::<i64>().unwrap_or(-1) < 0 => {
            bad("Value must be at least 0")
        }
        "min.cleanable.dirty.ratio" => match v.parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) => Ok(()),
            _ => bad("Value must be between 0.0 and 1.0"),
        },
        _ => Ok(()),
    }
}

/// Validates a set of overrides, naming the first bad key.
pub fn validate_overrides(overrides: &BTreeMap<String, String>) -> Result<(), String> {
    for (k, v) in overrides {
        let def = find_def(k).ok_or_else(|| format!("Unknown topic config name: {k}"))?;
        validate_value(def, v)?;
    }
    Ok(())
}

/// One effective config entry for DescribeConfigs.
#[derive(Debug, Clone)]
pub struct Described {
    pub def: &'static TopicConfigDef,
    pub value: String,
    pub source: ConfigSource,
    /// Synonyms in precedence order (topic override, broker config, default).
    pub synonyms: Vec<(String, String, ConfigSource)>,
}

/// Broker-level values that serve as topic defaults (`log.retention.hours`
/// already folded into `log.retention.ms` by the broker config).
pub type BrokerDefaults = BTreeMap<String, String>;

/// Kafka reports these topic defaults through the hour-based broker keys.
fn default_synonym(topic_key: &str) -> Option<(&'static str, &'static str)> {
    match topic_key {
        "retention.ms" => Some(("log.retention.hours", "168")),
        "segment.ms" => Some(("log.roll.hours", "168")),
        "segment.jitter.ms" => Some(("log.roll.jitter.hours", "0")),
        _ => None,
    }
}

/// Describes every topic config for a topic with `overrides`.
pub fn describe(overrides: &BTreeMap<String, String>, broker: &BrokerDefaults) -> Vec<Described> {
    TOPIC_CONFIGS
        .iter()
        .map(|def| {
            let mut synonyms = Vec::new();
            if let Some(v) = overrides.get(def.name) {
                synonyms.push((def.name.to_string(), v.clone(), ConfigSource::DynamicTopic));
            }
            if let Some(bk) = def.broker_key {
                if let Some(v) = broker.get(bk) {
                    synonyms.push((bk.to_string(), v.clone(), ConfigSource::StaticBroker));
                }
                let (key, value) = default_synonym(def.name).unwrap_or((bk, def.default));
                synonyms.push((key.to_string(), value.to_string(), ConfigSource::Default));
            }
            let (value, source) = synonyms
                .first()
                .map(|(_, v, s)| (v.clone(), *s))
                .unwrap_or_else(|| (def.default.to_string(), ConfigSource::Default));
            Described {
                def,
                value,
                source,
                synonyms,
            }
        })
        .collect()
}

/// The typed view of a topic's effective configuration used by the log.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicConfig {
    pub compact: bool,
    pub delete: bool,
    pub retention_ms: i64,
    pub retention_bytes: i64,
    pub segment_bytes: u64,
    pub segment_ms: i64,
    pub max_message_bytes: usize,
    pub delete_retention_ms: i64,
    pub min_cleanable_dirty_ratio: f64,
    pub min_compaction_lag_ms: i64,
    pub log_append_time: bool,
    pub index_interval_bytes: u64,
    pub flush_messages: i64,
    pub flush_ms: i64,
    pub preallocate: bool,
}

impl Default for TopicConfig {
    fn default() -> Self {
        Self::resolve(&BTreeMap::new(), &BTreeMap::new())
    }
}

impl TopicConfig {
    /// Resolves the effective typed config; values were validated on the way in,
    /// so an unparsable value falls back to the default.
    pub fn resolve(overrides: &BTreeMap<String, String>, broker: &BrokerDefaults) -> Self {
        let get = |name: &str| -> String {
            let def = find_def(name);
            overrides
                .get(name)
                .cloned()
                .or_else(|| {
                    def.and_then(|d| d.broker_key)
                        .and_then(|k| broker.get(k).cloned())
                })
                .or_else(|| def.map(|d| d.default.to_string()))
                .unwrap_or_default()
        };
        let long = |name: &str| -> i64 {
            get(name).trim().parse().unwrap_or_else(|_| {
                find_def(name)
                    .and_then(|d| d.default.parse().ok())
                    .unwrap_or(0)
            })
        };
        let policy = get("cleanup.policy");
        let policies: Vec<&str> = policy.split(',').map(str::trim).collect();
        Self {
            compact: policies.contains(&"compact"),
            delete: policies.contains(&"delete"),
            retention_ms: long("retention.ms"),
            retention_bytes: long("retention.bytes"),
            segment_bytes: long("segment.bytes").max(14) as u64,
            segment_ms: long("segment.ms"),
            max_message_bytes: long("max.message.bytes").max(0) as usize,
            delete_retention_ms: long("delete.retention.ms"),
            min_cleanable_dirty_ratio: get("min.cleanable.dirty.ratio").parse().unwrap_or(0.5),
            min_compaction_lag_ms: long("min.compaction.lag.ms"),
            log_append_time: get("message.timestamp.type") == "LogAppendTime",
            index_interval_bytes: long("index.interval.bytes").max(1) as u64,
            flush_messages: long("flush.messages"),
            flush_ms: long("flush.ms"),
            preallocate: get("preallocate").trim().eq_ignore_ascii_case("true"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_beats_broker_beats_default() {
        let mut broker = BrokerDefaults::new();
        broker.insert("log.retention.ms".into(), "1000".into());
        let mut overrides = BTreeMap::new();
        overrides.insert("cleanup.policy".into(), "compact".into());
        let cfg = TopicConfig::resolve(&overrides, &broker);
        assert!(cfg.compact && !cfg.delete);
        assert_eq!(cfg.retention_ms, 1000);
        assert_eq!(cfg.segment_bytes, 1 << 30);
        let described = describe(&overrides, &broker);
        let policy = described
            .iter()
            .find(|d| d.def.name == "cleanup.policy")
            .expect("present");
        assert_eq!(policy.source, ConfigSource::DynamicTopic);
        assert_eq!(policy.synonyms.len(), 2);
        let retention = described
            .iter()
            .find(|d| d.def.name == "retention.ms")
            .expect("present");
        assert_eq!(
            (retention.value.as_str(), retention.source),
            ("1000", ConfigSource::StaticBroker)
        );
    }

    #[test]
    fn validation_names_the_key() {
        let mut o = BTreeMap::new();
        o.insert("retention.ms".to_string(), "soon".to_string());
        let err = validate_overrides(&o).expect_err("invalid");
        assert!(err.contains("retention.ms"), "{err}");
        let mut o = BTreeMap::new();
        o.insert("no.such.key".to_string(), "1".to_string());
        assert!(validate_overrides(&o)
            .expect_err("unknown")
            .contains("no.such.key"));
        let mut o = BTreeMap::new();
        o.insert("cleanup.policy".to_string(), "compact,delete".to_string());
        assert!(validate_overrides(&o).is_ok());
    }
}
