//! Worker and connector settings the runtime itself reads (Kafka Connect's
//! WorkerConfig and ConnectorConfig), with Kafka's keys, defaults and messages.

use std::collections::BTreeMap;
use std::time::Duration;

use connect_api::config::{key, ConfigKey, ConfigType, DefaultValue, Importance, Validator};
use connect_api::{ConfigDef, ConnectorKind, Plugin, Props};

use crate::convert::{converter, Converter, ConverterConfig};
use crate::providers::Providers;

/// What every task of this worker shares.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub bootstrap_servers: String,
    /// The whole worker config, for converter and client prefixes.
    pub props: BTreeMap<String, String>,
    pub offset_flush_interval: Duration,
    /// How long a source's records may wait for the broker before its
    /// status says so (`weir.delivery.warning.ms`, Kafka's default
    /// `delivery.timeout.ms`); they go on waiting.
    pub delivery_warning: Duration,
    pub shutdown_timeout: Duration,
    /// `host:port` of this worker's REST listener, shown in statuses.
    pub worker_id: String,
    /// One worker owns every task: sink consumers use static membership
    /// (`group.instance.id`), so a restarted worker takes its partitions back
    /// at once instead of waiting out the old session.
    pub standalone: bool,
    /// The worker's config providers, applied to connector configs.
    pub providers: Providers,
    /// Which local paths and commands connectors may use.
    pub local: super::local_access::LocalPolicy,
}

fn millis(props: &BTreeMap<String, String>, key: &str, default: u64) -> anyhow::Result<Duration> {
    match props.get(key) {
        None => Ok(Duration::from_millis(default)),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| {
                anyhow::anyhow!(
                    "Invalid value {v} for configuration {key}: Not a number of type LONG"
                )
            }),
    }
}

impl WorkerSettings {
    pub fn from_props(
        props: BTreeMap<String, String>,
        bootstrap_servers: String,
        worker_id: String,
    ) -> anyhow::Result<Self> {
        let providers = Providers::from_worker(&props).map_err(|e| anyhow::anyhow!(e))?;
        let props = providers.resolve(&props).map_err(|e| anyhow::anyhow!(e))?;
        let local =
            super::local_access::LocalPolicy::from_worker(&props).map_err(anyhow::Error::msg)?;
        // Converter classes are checked after placeholders are resolved.
        for key in ["key.converter", "value.converter"] {
            let class = props.get(key).ok_or_else(|| {
                anyhow::anyhow!(
                    "Missing required configuration \"{key}\" which has no default value."
                )
            })?;
            converter(class, &ConverterConfig::default()).map_err(|e| {
                anyhow::anyhow!("Invalid value {class} for configuration {key}: {e}")
            })?;
        }
        Ok(Self {
            offset_flush_interval: millis(&props, "offset.flush.interval.ms", 60_000)?,
            delivery_warning: millis(&props, "weir.delivery.warning.ms", 120_000)?,
            shutdown_timeout: millis(&props, "task.shutdown.graceful.timeout.ms", 5_000)?,
            bootstrap_servers,
            props,
            worker_id,
            standalone: false,
            local,
            providers,
        })
    }

    /// Client properties under `prefix` (e.g. `producer.`), then the
    /// connector's `<kind>.override.` properties on top, the worker's
    /// security settings when they set none, all in librdkafka's words.
    pub fn client_props(
        &self,
        prefix: &str,
        connector: &Props,
    ) -> anyhow::Result<BTreeMap<String, String>> {
        let own = self.client_props_raw(prefix, connector);
        let merged = crate::kafka::security::inherit(own, &self.props);
        crate::kafka::security::to_librdkafka(merged).map_err(|e| anyhow::anyhow!("{prefix}{e}"))
    }

    fn client_props_raw(&self, prefix: &str, connector: &Props) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = self
            .props
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(prefix).map(|k| (k.to_string(), v.clone())))
            .collect();
        let over = format!("{}override.", prefix);
        out.extend(
            connector
                .iter()
                .filter_map(|(k, v)| k.strip_prefix(&over).map(|k| (k.to_string(), v.clone()))),
        );
        out
    }

    /// The key, value and header converters of a connector: its own
    /// `key.converter` etc. when set, else the worker's.
    pub fn converters(&self, connector: &Props) -> anyhow::Result<Converters> {
        let pick = |key: &str,
                    default: &str,
                    is_key: bool|
         -> anyhow::Result<(Box<dyn Converter>, String)> {
            let (source, class) = match connector.get(key) {
                Some(c) => (connector, c.clone()),
                None => (
                    &self.props,
                    self.props
                        .get(key)
                        .cloned()
                        .unwrap_or_else(|| default.to_string()),
                ),
            };
            let cfg = ConverterConfig::from_prefixed(source, &format!("{key}."), is_key);
            let c = converter(&class, &cfg).map_err(|e| {
                anyhow::anyhow!("Invalid value {class} for configuration {key}: {e}")
            })?;
            Ok((c, crate::convert::class_name(&class)))
        };
        let (key, key_class) = pick("key.converter", "", true)?;
        let (value, value_class) = pick("value.converter", "", false)?;
        let (header, header_class) = pick(
            "header.converter",
            "org.apache.kafka.connect.storage.SimpleHeaderConverter",
            false,
        )?;
        Ok(Converters {
            key,
            value,
            header,
            key_class,
            value_class,
            header_class,
        })
    }
}

/// A task's converters.
pub struct Converters {
    pub key: Box<dyn Converter>,
    pub value: Box<dyn Converter>,
    pub header: Box<dyn Converter>,
    /// Kafka's class names of the three, for error reports.
    pub key_class: String,
    pub value_class: String,
    pub header_class: String,
}

/// The plugins this worker can run.
pub fn plugins() -> &'static [Plugin] {
    &[
        connector_file::SOURCE,
        connector_file::SINK,
        connector_file::spooldir::LINES,
        connector_file::spooldir::CSV,
        connector_file::spooldir::JSON,
        connector_file::NETCAT,
        connector_file::EXEC,
        connector_file::TAILDIR,
        connector_file::SYSLOG_TCP,
        connector_file::SYSLOG_UDP,
        connector_file::LOGGER,
        connector_file::FILE_ROLL,
        connector_jdbc::SOURCE,
        connector_jdbc::SINK,
        connector_hdfs::SOURCE,
        connector_hdfs::SINK,
        connector_hdfs::FLUME_SINK,
        crate::flume::copy::PLUGIN,
    ]
}

/// The plugin a config's `connector.class` names, if there is one.
pub fn plugin_of(config: &Props) -> Option<Plugin> {
    config
        .get("connector.class")
        .and_then(|c| find_plugin(c).ok())
}

/// The plugin named by `connector.class`.
pub fn find_plugin(class: &str) -> Result<Plugin, String> {
    plugins()
        .iter()
        .find(|p| p.answers_to(class))
        .copied()
        .ok_or_else(|| {
            let names: Vec<&str> = plugins().iter().map(|p| p.class).collect();
            format!(
                "Failed to find any class that implements Connector and which name matches {class}, available connectors are: {}",
                names.join(", ")
            )
        })
}

/// Checks the settings every connector has (Kafka's ConnectorConfig and
/// SinkConnectorConfig) and returns every problem, each naming its key.
pub fn check_connector(props: &Props, kind: Option<ConnectorKind>) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    let mut err = |k: &str, m: String| errors.push((k.to_string(), m));
    match props.get("name").map(|n| (n.trim(), n)) {
        None | Some(("", _)) => err("name", "Missing required configuration \"name\" which has no default value.".into()),
        Some((n, raw)) if raw.chars().any(char::is_control) => err(
            "name",
            format!("Invalid value {n} for configuration name: Connector name contains ISO control characters"),
        ),
        Some(_) => {}
    }
    if !props.contains_key("connector.class") {
        err(
            "connector.class",
            "Missing required configuration \"connector.class\" which has no default value.".into(),
        );
    }
    if let Some(t) = props.get("tasks.max") {
        match t.trim().parse::<i64>() {
            Ok(n) if n >= 1 => {}
            Ok(_) => err(
                "tasks.max",
                format!("Invalid value {t} for configuration tasks.max: Value must be at least 1"),
            ),
            Err(_) => err(
                "tasks.max",
                format!("Invalid value {t} for configuration tasks.max: Not a number of type INT"),
            ),
        }
    }
    for key in ["key.converter", "value.converter", "header.converter"] {
        if let Some(class) = props.get(key) {
            if let Err(e) = converter(class, &ConverterConfig::default()) {
                err(
                    key,
                    format!("Invalid value {class} for configuration {key}: {e}"),
                );
            }
        }
    }
    if kind == Some(ConnectorKind::Sink) {
        let topics = props
            .get("topics")
            .map(|t| t.trim())
            .filter(|t| !t.is_empty());
        let regex = props
            .get("topics.regex")
            .map(|t| t.trim())
            .filter(|t| !t.is_empty());
        match (topics, regex) {
            (Some(_), Some(_)) => err(
                "topics",
                "topics and topics.regex are mutually exclusive options, but both are set.".into(),
            ),
            (None, None) => err(
                "topics",
                "Must configure one of topics or topics.regex".into(),
            ),
            (None, Some(r)) => {
                if let Err(e) = regex::Regex::new(r) {
                    err(
                        "topics.regex",
                        format!("Invalid value {r} for configuration topics.regex: {e}"),
                    );
                }
            }
            (Some(_), None) => {}
        }
    }
    if let Err(e) = connect_transforms::Chain::from_props(props) {
        errors.extend(e);
    }
    errors.extend(super::errors::ErrorSettings::check(props, kind));
    if kind == Some(ConnectorKind::Source) && props.keys().any(|k| k.starts_with("topic.creation."))
    {
        if let Err(e) = super::topic_creation::TopicCreation::from_props(props) {
            errors.extend(e);
        }
    }
    errors
}

/// The keys every connector has (Kafka's ConnectorConfig, group "Common"),
/// plus `topics` / `topics.regex` for sinks; they lead validation answers.
pub fn common_def(kind: ConnectorKind) -> ConfigDef {
    let common = |name, kind, default, importance, doc, order| ConfigKey {
        group: Some("Common"),
        order_in_group: order,
        ..key(name, kind, default, importance, doc)
    };
    let mut def = ConfigDef::new()
        .define(common("name", ConfigType::String, DefaultValue::Required, Importance::High, "Globally unique name to use for this connector.", 1))
        .define(common("connector.class", ConfigType::String, DefaultValue::Required, Importance::High, "Name or alias of the class for this connector.", 2))
        .define(ConfigKey {
            validator: Some(Validator::AtLeast(1)),
            ..common("tasks.max", ConfigType::Int, DefaultValue::Value("1"), Importance::High, "Maximum number of tasks to use for this connector.", 3)
        })
        .define(common("key.converter", ConfigType::Class, DefaultValue::Null, Importance::Low, "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.", 4))
        .define(common("value.converter", ConfigType::Class, DefaultValue::Null, Importance::Low, "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.", 5))
        .define(common("header.converter", ConfigType::Class, DefaultValue::Null, Importance::Low, "HeaderConverter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.", 6));
    if kind == ConnectorKind::Sink {
        def = def
            .define(common(
                "topics",
                ConfigType::List,
                DefaultValue::Value(""),
                Importance::High,
                "List of topics to consume, separated by commas",
                7,
            ))
            .define(common(
                "topics.regex",
                ConfigType::String,
                DefaultValue::Value(""),
                Importance::High,
                "Regular expression giving topics to consume.",
                8,
            ));
    }
    def
}

/// `tasks.max` (default 1).
pub fn tasks_max(props: &Props) -> usize {
    props
        .get("tasks.max")
        .and_then(|t| t.trim().parse().ok())
        .filter(|n: &usize| *n >= 1)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn connector_mistakes_name_their_keys() {
        let errors = check_connector(
            &props(&[("name", "x"), ("tasks.max", "0")]),
            Some(ConnectorKind::Sink),
        );
        let keys: Vec<&str> = errors.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, vec!["connector.class", "tasks.max", "topics"]);
        assert!(errors[1].1.contains("Value must be at least 1"));
        let both = check_connector(
            &props(&[
                ("name", "x"),
                ("connector.class", "FileStreamSink"),
                ("topics", "a"),
                ("topics.regex", "b.*"),
            ]),
            Some(ConnectorKind::Sink),
        );
        assert_eq!(
            both[0].1,
            "topics and topics.regex are mutually exclusive options, but both are set."
        );
    }

    #[test]
    fn plugins_answer_to_kafka_names() {
        assert!(find_plugin("FileStreamSource").is_ok());
        assert!(find_plugin("org.apache.kafka.connect.file.FileStreamSinkConnector").is_ok());
        assert!(find_plugin("FileStreamSinkConnector").is_ok());
        let Err(err) = find_plugin("com.example.Nope") else {
            panic!("an unknown class was found");
        };
        assert!(err.contains(
            "available connectors are: org.apache.kafka.connect.file.FileStreamSourceConnector"
        ));
    }
}
