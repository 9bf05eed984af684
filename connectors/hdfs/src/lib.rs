//! HDFS connectors, drop-in for Confluent's HDFS 3 (and HDFS 2) sink: files
//! of records in Avro, JSON, String or ByteArray format, laid out by
//! Confluent's partitioners and named by their offset ranges, committed
//! exactly once through temporary files, a commit log and renames, on
//! `file://` and `webhdfs://` stores; and the source that reads them back.

pub mod config;
pub mod flume;
pub mod format;
pub mod naming;
pub mod partitioner;
pub mod schema;
pub mod sink;
pub mod source;
pub mod store;
pub mod wal;
pub mod zone;

use std::sync::Arc;

use async_trait::async_trait;
use connect_api::connector::SharedConfigSink;
use connect_api::{
    ConfigDef, ConfigValue, ConnectResult, Connector, ConnectorContext, Plugin, Props, TaskFactory,
};

pub use sink::HdfsSinkTask;
pub use source::HdfsSourceTask;

/// Why the store a config names cannot be used, on `store.url`.
fn store_problems(url: &str, conf_dir: &str) -> Vec<(String, String)> {
    store::open(url, conf_dir)
        .err()
        .map(|e| vec![(config::STORE_URL.to_string(), e)])
        .unwrap_or_default()
}

/// The rules between the sink's keys, and the store it names.
fn sink_rules(props: &Props) -> Vec<(String, String)> {
    match config::SinkConfig::parse(props) {
        Ok(cfg) => store_problems(&cfg.store_url, &cfg.hadoop_conf_dir),
        Err(errors) => errors,
    }
}

/// A `file://` store (`store.url`, `hdfs.url`, Flume's `hdfs.path`) is a
/// local directory.
fn local_store(props: &Props) -> Vec<connect_api::LocalAccess> {
    ["store.url", "hdfs.url", "hdfs.path"]
        .iter()
        .filter_map(|k| {
            let v = props.get(*k)?.trim();
            let path = v.strip_prefix("file://")?;
            Some(connect_api::LocalAccess::Path {
                key: k.to_string(),
                path: if path.is_empty() {
                    "/".into()
                } else {
                    path.to_string()
                },
            })
        })
        .collect()
}

/// The sink plugin, by the class names of Confluent's HDFS 3 and HDFS 2
/// sinks.
pub const SINK: Plugin = Plugin {
    class: "io.confluent.connect.hdfs3.Hdfs3SinkConnector",
    aliases: &[
        "io.confluent.connect.hdfs.HdfsSinkConnector",
        "Hdfs3SinkConnector",
        "HdfsSinkConnector",
        "Hdfs3Sink",
        "HdfsSink",
    ],
    version: env!("CARGO_PKG_VERSION"),
    config_def: config::sink_def,
    new_connector: || SharedConfigSink::boxed_accessing(sink_rules, false, local_store),
    tasks: TaskFactory::Sink(|| Box::new(HdfsSinkTask::default())),
};

/// The source connector: every task reads the topic partitions that hash
/// to it, so new files and partitions need no reconfiguration.
#[derive(Default)]
struct HdfsSourceConnector {
    props: Props,
}

#[async_trait]
impl Connector for HdfsSourceConnector {
    async fn start(&mut self, props: &Props, _ctx: Arc<dyn ConnectorContext>) -> ConnectResult<()> {
        self.props = props.clone();
        Ok(())
    }

    fn task_configs(&self, max_tasks: usize) -> ConnectResult<Vec<Props>> {
        let n = max_tasks.max(1);
        Ok((0..n)
            .map(|i| {
                let mut p = self.props.clone();
                p.insert(source::TASK_INDEX.into(), i.to_string());
                p.insert(source::TASK_COUNT.into(), n.to_string());
                p
            })
            .collect())
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        Ok(())
    }

    fn local_access(&self, props: &Props) -> Vec<connect_api::LocalAccess> {
        local_store(props)
    }

    fn validate(&self, props: &Props, def: &ConfigDef) -> Vec<ConfigValue> {
        def.validate_with(props, |p| match source::SourceConfig::parse(p) {
            Ok(cfg) => store_problems(&cfg.store_url, &cfg.hadoop_conf_dir),
            Err(errors) => errors,
        })
    }
}

/// The source plugin, by the class names of Confluent's HDFS 3 and HDFS 2
/// sources.
pub const SOURCE: Plugin = Plugin {
    class: "io.confluent.connect.hdfs3.Hdfs3SourceConnector",
    aliases: &[
        "io.confluent.connect.hdfs2.Hdfs2SourceConnector",
        "Hdfs3SourceConnector",
        "Hdfs3Source",
        "HdfsSource",
    ],
    version: env!("CARGO_PKG_VERSION"),
    config_def: source::source_def,
    new_connector: || Box::new(HdfsSourceConnector::default()),
    tasks: TaskFactory::Source(|| Box::new(HdfsSourceTask::default())),
};

/// Flume's HDFS sink (`type = hdfs` in an agent file).
pub const FLUME_SINK: Plugin = Plugin {
    class: "org.apache.flume.sink.hdfs.HDFSEventSink",
    aliases: &["HDFSEventSink"],
    version: env!("CARGO_PKG_VERSION"),
    config_def: flume::def,
    new_connector: || SharedConfigSink::boxed_accessing(flume::rules, true, local_store),
    tasks: TaskFactory::Sink(|| Box::new(flume::FlumeHdfsSinkTask::default())),
};
