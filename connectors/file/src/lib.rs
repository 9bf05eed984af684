//! The file and log sources and sinks. FileStreamSource and FileStreamSink,
//! with Kafka's config keys, offsets (`{"filename": f}` ->
//! `{"position": bytes}`) and behaviour: the source follows a growing file
//! and emits only complete lines; the sink writes one line per record
//! value. The spooling-directory sources (spooldir/). Flume's netcat and
//! exec sources and its logger and file_roll sinks, with Flume's keys.

pub mod common;
mod exec;
mod flume_sinks;
mod netcat;
mod sink;
mod source;
pub mod spooldir;
mod syslog;
mod taildir;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use connect_api::config::{key, ConfigKey, ConfigType, DefaultValue, Importance, Validator};
use connect_api::{
    ConfigDef, ConfigValue, ConnectResult, Connector, ConnectorContext, LocalAccess, Plugin, Props,
    TaskFactory,
};

pub use sink::FileStreamSinkTask;
pub use source::FileStreamSourceTask;

pub const FILE: &str = "file";
pub const TOPIC: &str = "topic";
pub const BATCH_SIZE: &str = "batch.size";
/// The source partition key and the offset key.
pub const FILENAME_FIELD: &str = "filename";
pub const POSITION_FIELD: &str = "position";

fn source_def() -> ConfigDef {
    ConfigDef::new()
        .define(key(
            FILE,
            ConfigType::String,
            DefaultValue::Null,
            Importance::High,
            "Source filename. If not specified, the standard input will be used",
        ))
        .define(key(
            TOPIC,
            ConfigType::String,
            DefaultValue::Null,
            Importance::High,
            "The topic to publish data to (required; a single `topics` value is accepted in its place)",
        ))
        .define(ConfigKey {
            validator: Some(Validator::AtLeast(1)),
            ..key(
                BATCH_SIZE,
                ConfigType::Int,
                DefaultValue::Value("2000"),
                Importance::Low,
                "The maximum number of records the source task can read from the file each time it is polled",
            )
        })
}

fn sink_def() -> ConfigDef {
    ConfigDef::new().define(key(
        FILE,
        ConfigType::String,
        DefaultValue::Null,
        Importance::High,
        "Destination filename. If not specified, the standard output will be used",
    ))
}

/// The source's topic: `topic`, or a single `topics` value as some
/// tutorials write it.
pub fn source_topic(props: &Props) -> Result<String, String> {
    let non_empty = |k: &str| {
        props
            .get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    if let Some(t) = non_empty(TOPIC) {
        return Ok(t);
    }
    match non_empty("topics") {
        Some(t) if !t.contains(',') => Ok(t),
        Some(t) => Err(format!(
            "Invalid value {t} for configuration topics: FileStreamSource writes to one topic; set topic=<name>"
        )),
        None => Err(format!(
            "Missing required configuration \"{TOPIC}\" which has no default value."
        )),
    }
}

/// The connectors hand their whole config to their tasks.
#[derive(Default)]
struct FileConnector {
    props: Props,
    source: bool,
    /// The local files, directories or commands of a config.
    access: Option<fn(&Props) -> Vec<LocalAccess>>,
}

#[async_trait]
impl Connector for FileConnector {
    async fn start(&mut self, props: &Props, _ctx: Arc<dyn ConnectorContext>) -> ConnectResult<()> {
        self.props = props.clone();
        Ok(())
    }

    /// One task for a source (one file, one reader); `tasks.max` copies for
    /// a sink, whose tasks share the topics' partitions, as Kafka's do.
    fn task_configs(&self, max_tasks: usize) -> ConnectResult<Vec<Props>> {
        let n = if self.source { 1 } else { max_tasks.max(1) };
        Ok(vec![self.props.clone(); n])
    }

    fn validate(&self, props: &Props, def: &ConfigDef) -> Vec<ConfigValue> {
        let mut values = def.validate(props);
        if self.source {
            if let (Err(e), Some(v)) = (
                source_topic(props),
                values.iter_mut().find(|v| v.name == TOPIC),
            ) {
                v.errors.push(e);
            }
        }
        values
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        Ok(())
    }

    fn local_access(&self, props: &Props) -> Vec<LocalAccess> {
        self.access.map(|f| f(props)).unwrap_or_default()
    }
}

fn new_source_connector() -> Box<dyn Connector> {
    Box::new(FileConnector {
        props: BTreeMap::new(),
        source: true,
        access: None,
    })
}

fn new_sink_connector() -> Box<dyn Connector> {
    Box::new(FileConnector::default())
}

/// A connector whose configs touch local resources as `access` says.
fn accessing(source: bool, access: fn(&Props) -> Vec<LocalAccess>) -> Box<dyn Connector> {
    Box::new(FileConnector {
        props: BTreeMap::new(),
        source,
        access: Some(access),
    })
}

fn file_key(props: &Props) -> Vec<LocalAccess> {
    LocalAccess::paths(props, &[FILE])
}

/// The version reported for both connectors (Weir's own).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub const SOURCE: Plugin = Plugin {
    class: "org.apache.kafka.connect.file.FileStreamSourceConnector",
    aliases: &["FileStreamSource", "FileStreamSourceConnector"],
    version: VERSION,
    config_def: source_def,
    new_connector: || accessing(true, file_key),
    tasks: TaskFactory::Source(|| Box::new(FileStreamSourceTask::default())),
};

pub const SINK: Plugin = Plugin {
    class: "org.apache.kafka.connect.file.FileStreamSinkConnector",
    aliases: &["FileStreamSink", "FileStreamSinkConnector"],
    version: VERSION,
    config_def: sink_def,
    new_connector: || accessing(false, file_key),
    tasks: TaskFactory::Sink(|| Box::new(FileStreamSinkTask::default())),
};

/// The file path of a config: `None` for stdin/stdout (missing or empty).
fn file_of(props: &Props) -> Option<String> {
    props
        .get(FILE)
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty())
}

pub const NETCAT: Plugin = Plugin {
    class: "org.apache.flume.source.NetcatSource",
    aliases: &["netcat", "NetcatSource"],
    version: VERSION,
    config_def: netcat::def,
    new_connector: new_source_connector,
    tasks: TaskFactory::Source(|| Box::new(netcat::NetcatSourceTask::default())),
};

pub const TAILDIR: Plugin = Plugin {
    class: "org.apache.flume.source.taildir.TaildirSource",
    aliases: &["TAILDIR", "taildir", "TaildirSource"],
    version: VERSION,
    config_def: taildir::def,
    new_connector: || accessing(true, taildir::local_access),
    tasks: TaskFactory::Source(|| Box::new(taildir::TaildirSourceTask::default())),
};

pub const SYSLOG_TCP: Plugin = Plugin {
    class: "org.apache.flume.source.SyslogTcpSource",
    aliases: &["syslogtcp", "SyslogTcpSource"],
    version: VERSION,
    config_def: syslog::def,
    new_connector: new_source_connector,
    tasks: TaskFactory::Source(|| Box::new(syslog::SyslogSourceTask::default())),
};

pub const SYSLOG_UDP: Plugin = Plugin {
    class: "org.apache.flume.source.SyslogUDPSource",
    aliases: &["syslogudp", "SyslogUDPSource"],
    version: VERSION,
    config_def: syslog::def,
    new_connector: new_source_connector,
    tasks: TaskFactory::Source(|| Box::new(syslog::SyslogSourceTask::udp())),
};

pub const EXEC: Plugin = Plugin {
    class: "org.apache.flume.source.ExecSource",
    aliases: &["exec", "ExecSource"],
    version: VERSION,
    config_def: exec::def,
    new_connector: || {
        accessing(true, |_| {
            vec![LocalAccess::Command {
                key: exec::COMMAND.into(),
            }]
        })
    },
    tasks: TaskFactory::Source(|| Box::new(exec::ExecSourceTask::default())),
};

pub const LOGGER: Plugin = Plugin {
    class: "org.apache.flume.sink.LoggerSink",
    aliases: &["logger", "LoggerSink"],
    version: VERSION,
    config_def: flume_sinks::logger_def,
    new_connector: new_sink_connector,
    tasks: TaskFactory::Sink(|| Box::new(flume_sinks::LoggerSinkTask::default())),
};

pub const FILE_ROLL: Plugin = Plugin {
    class: "org.apache.flume.sink.RollingFileSink",
    aliases: &["file_roll", "RollingFileSink"],
    version: VERSION,
    config_def: flume_sinks::roll_def,
    new_connector: || accessing(false, |p| LocalAccess::paths(p, &["sink.directory"])),
    tasks: TaskFactory::Sink(|| Box::new(flume_sinks::FileRollSinkTask::default())),
};

pub use flume_sinks::dump_event;
