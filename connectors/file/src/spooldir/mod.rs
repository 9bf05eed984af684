//! The spooling-directory sources: files dropped into a directory are read
//! once, record by record, and then moved, renamed or deleted. The keys are
//! those of the widely used spooldir connectors (`input.path`,
//! `finished.path`, `error.path`, `input.file.pattern`, `cleanup.policy`,
//! ...) and, for Flume's agent files, Flume's (`spoolDir`, `fileSuffix`,
//! `deletePolicy`, `includePattern`, `fileHeader`, ...).
//!
//! A file is cleaned up only once every record of it has been acknowledged
//! by the broker. Offsets are `{"fileName": name}` ->
//! `{"offset": records, "size": bytes, "fingerprint": hash}`: a restart in
//! the middle of a file skips the records already committed, and a name
//! used again for other content is refused rather than skipped into.

mod parse;
mod settings;
mod task;

use std::sync::Arc;

use async_trait::async_trait;
use connect_api::config::{key, ConfigType, DefaultValue, Importance};
use connect_api::{
    ConfigDef, ConfigValue, ConnectResult, Connector, ConnectorContext, Plugin, Props, TaskFactory,
};

pub use settings::{fnv, Settings};
pub use task::{today, SpoolDirSourceTask};

/// Which records a connector class reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Lines,
    Csv,
    Json,
}

/// The task's own keys for its share of the files.
pub const TASK_INDEX: &str = "task.index";
pub const TASK_COUNT: &str = "task.count";

fn def(kind: Kind) -> ConfigDef {
    let s = |name, default, doc| key(name, ConfigType::String, default, Importance::Medium, doc);
    let mut d = crate::common::with_topic(ConfigDef::new())
        .define(s("input.path", DefaultValue::Null, "The directory files are read from (Flume: spoolDir)."))
        .define(s("finished.path", DefaultValue::Null, "Where files go once every record of them is in Kafka (cleanup.policy=MOVE)."))
        .define(s("error.path", DefaultValue::Null, "Where files that cannot be read go."))
        .define(s("input.file.pattern", DefaultValue::Null, "A regular expression the whole file name must match (Flume: includePattern)."))
        .define(s("cleanup.policy", DefaultValue::Value("MOVE"), "MOVE, MOVEBYDATE, DELETE or NONE."))
        .define(key("file.minimum.age.ms", ConfigType::Long, DefaultValue::Value("0"), Importance::Low, "How long a file must be left unchanged before it is read."))
        .define(key("files.sort.attributes", ConfigType::List, DefaultValue::Value("NameAsc"), Importance::Low, "The order files are read in: NameAsc, NameDesc, LengthAsc, LengthDesc, LastModifiedAsc, LastModifiedDesc."))
        .define(key("halt.on.error", ConfigType::Boolean, DefaultValue::Value("true"), Importance::Medium, "Fail the task when a file cannot be read (after moving it to error.path); false goes on with the next file."))
        .define(key("batch.size", ConfigType::Int, DefaultValue::Value("1000"), Importance::Low, "The most records returned by one poll."))
        .define(key("empty.poll.wait.ms", ConfigType::Long, DefaultValue::Value("500"), Importance::Low, "How long to wait when no file is ready."))
        .define(s("timestamp.mode", DefaultValue::Value("PROCESS_TIME"), "PROCESS_TIME (the producer stamps each record as it sends it) or FILE_TIME (the file's modification time): the records' timestamp."))
        .define(s("spoolDir", DefaultValue::Null, "Flume: the directory files are read from."))
        .define(s("fileSuffix", DefaultValue::Value(".COMPLETED"), "Flume: the suffix a finished file is renamed with."))
        .define(s("deletePolicy", DefaultValue::Value("never"), "Flume: never or immediate."))
        .define(key("fileHeader", ConfigType::Boolean, DefaultValue::Value("false"), Importance::Low, "Flume: add the file's absolute path as a header."))
        .define(s("fileHeaderKey", DefaultValue::Value("file"), "Flume: the file header's name."))
        .define(key("basenameHeader", ConfigType::Boolean, DefaultValue::Value("false"), Importance::Low, "Flume: add the file's name as a header."))
        .define(s("basenameHeaderKey", DefaultValue::Value("basename"), "Flume: the name header's name."))
        .define(s("decodeErrorPolicy", DefaultValue::Value("FAIL"), "FAIL, REPLACE or IGNORE: bytes that are not UTF-8."));
    if kind == Kind::Csv {
        d = d
            .define(key(
                "csv.first.row.as.header",
                ConfigType::Boolean,
                DefaultValue::Value("false"),
                Importance::Medium,
                "The first row names the fields.",
            ))
            .define(key(
                "csv.separator.char",
                ConfigType::Int,
                DefaultValue::Value("44"),
                Importance::Low,
                "The field separator, as a character code (44 is ',').",
            ))
            .define(key(
                "csv.quote.char",
                ConfigType::Int,
                DefaultValue::Value("34"),
                Importance::Low,
                "The quote character, as a character code.",
            ))
            .define(key(
                "csv.escape.char",
                ConfigType::Int,
                DefaultValue::Value("92"),
                Importance::Low,
                "The escape character inside quotes, as a character code (0 for none).",
            ))
            .define(key(
                "csv.skip.lines",
                ConfigType::Int,
                DefaultValue::Value("0"),
                Importance::Low,
                "Lines skipped at the start of each file.",
            ));
    }
    d
}

#[derive(Default)]
struct SpoolDirConnector {
    props: Props,
    kind: Option<Kind>,
}

#[async_trait]
impl Connector for SpoolDirConnector {
    async fn start(&mut self, props: &Props, _ctx: Arc<dyn ConnectorContext>) -> ConnectResult<()> {
        self.props = props.clone();
        Ok(())
    }

    /// Up to `tasks.max` tasks, each reading the files whose name hashes
    /// to it.
    fn task_configs(&self, max_tasks: usize) -> ConnectResult<Vec<Props>> {
        let n = max_tasks.max(1);
        Ok((0..n)
            .map(|i| {
                let mut p = self.props.clone();
                p.insert(TASK_INDEX.into(), i.to_string());
                p.insert(TASK_COUNT.into(), n.to_string());
                p
            })
            .collect())
    }

    fn local_access(&self, props: &Props) -> Vec<connect_api::LocalAccess> {
        connect_api::LocalAccess::paths(
            props,
            &["input.path", "spoolDir", "finished.path", "error.path"],
        )
    }

    fn validate(&self, props: &Props, def: &ConfigDef) -> Vec<ConfigValue> {
        let kind = self.kind.unwrap_or(Kind::Lines);
        def.validate_with(props, |p| match Settings::from_props(p, kind) {
            Ok(_) => Vec::new(),
            Err(e) => vec![(e.key, e.message)],
        })
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        Ok(())
    }
}

macro_rules! plugin {
    ($class:expr, $aliases:expr, $kind:expr) => {
        Plugin {
            class: $class,
            aliases: $aliases,
            version: crate::VERSION,
            config_def: || def($kind),
            new_connector: || {
                Box::new(SpoolDirConnector {
                    props: Props::new(),
                    kind: Some($kind),
                })
            },
            tasks: TaskFactory::Source(|| Box::new(SpoolDirSourceTask::new($kind))),
        }
    };
}

pub const LINES: Plugin = plugin!(
    "com.github.jcustenborder.kafka.connect.spooldir.SpoolDirLineDelimitedSourceConnector",
    &[
        "SpoolDirLineDelimitedSourceConnector",
        "spooldir",
        "org.apache.flume.source.SpoolDirectorySource"
    ],
    Kind::Lines
);
pub const CSV: Plugin = plugin!(
    "com.github.jcustenborder.kafka.connect.spooldir.SpoolDirCsvSourceConnector",
    &["SpoolDirCsvSourceConnector"],
    Kind::Csv
);
pub const JSON: Plugin = plugin!(
    "com.github.jcustenborder.kafka.connect.spooldir.SpoolDirSchemaLessJsonSourceConnector",
    &["SpoolDirSchemaLessJsonSourceConnector"],
    Kind::Json
);
