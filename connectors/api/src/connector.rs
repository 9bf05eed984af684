//! The connector and task contracts: what the runtime calls and in which
//! order (Kafka Connect's Connector, SourceTask and SinkTask), and the
//! contexts through which tasks talk back to the runtime.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::config::{ConfigDef, ConfigValue};
use crate::error::{ConnectError, ConnectResult};
use crate::record::{SinkRecord, SourceOffset, SourcePartition, SourceRecord};

/// String-to-string configuration, as connectors receive it.
pub type Props = BTreeMap<String, String>;

/// Whether a connector reads into Kafka or writes out of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectorKind {
    Source,
    Sink,
}

impl ConnectorKind {
    /// `source` / `sink`, as the REST API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorKind::Source => "source",
            ConnectorKind::Sink => "sink",
        }
    }
}

/// What a connector may ask of the runtime.
pub trait ConnectorContext: Send + Sync {
    /// The connector's inputs changed: ask it for new task configs.
    fn request_task_reconfiguration(&self);
    /// The connector failed outside a call from the runtime.
    fn raise_error(&self, error: crate::error::ConnectError);
    /// What keeps the running connector from its work while it retries on
    /// its own (a database that is down when it starts), or `None` once it
    /// gets on with it; shown as the `trace` of its RUNNING status.
    fn trouble(&self, _why: Option<String>) {}
}

/// A connector: validates its config and splits the work into task configs.
#[async_trait]
pub trait Connector: Send {
    /// Starts with the (validated, secrets resolved) config.
    async fn start(&mut self, props: &Props, ctx: Arc<dyn ConnectorContext>) -> ConnectResult<()>;
    /// At most `max_tasks` task configs.
    fn task_configs(&self, max_tasks: usize) -> ConnectResult<Vec<Props>>;
    /// Releases what `start` acquired.
    async fn stop(&mut self) -> ConnectResult<()>;
    /// Checks a config before it is accepted; the default checks the definition.
    fn validate(&self, props: &Props, def: &ConfigDef) -> Vec<ConfigValue> {
        def.validate(props)
    }
    /// The files, directories and commands of this machine that `props`
    /// would have the worker use, for the worker's policy to allow or
    /// refuse; the default is none.
    fn local_access(&self, _props: &Props) -> Vec<LocalAccess> {
        Vec::new()
    }
}

/// A local resource a connector config would have the worker use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalAccess {
    /// A file or directory, with the key that names it.
    Path { key: String, path: String },
    /// A command the worker would run, with the key that gives it.
    Command { key: String },
}

impl LocalAccess {
    /// The non-empty values of `keys` as paths.
    pub fn paths(props: &Props, keys: &[&str]) -> Vec<LocalAccess> {
        keys.iter()
            .filter_map(|k| {
                let v = props.get(*k)?.trim();
                (!v.is_empty()).then(|| LocalAccess::Path {
                    key: k.to_string(),
                    path: v.to_string(),
                })
            })
            .collect()
    }
}

/// The checks between a connector's keys: each problem with the key it is
/// reported on.
pub type Rules = fn(&Props) -> Vec<(String, String)>;

/// A sink connector that gives every task its own config, `tasks.max`
/// times (Kafka's group assignment spreads the partitions), and validates
/// with `rules` once every key is valid on its own.
pub struct SharedConfigSink {
    props: Props,
    rules: Rules,
    single: bool,
    access: Option<fn(&Props) -> Vec<LocalAccess>>,
}

impl SharedConfigSink {
    pub fn boxed(rules: Rules) -> Box<dyn Connector> {
        Box::new(Self {
            props: Props::new(),
            rules,
            single: false,
            access: None,
        })
    }

    /// A sink whose one task writes everything, whatever `tasks.max` says.
    pub fn boxed_single(rules: Rules) -> Box<dyn Connector> {
        Box::new(Self {
            props: Props::new(),
            rules,
            single: true,
            access: None,
        })
    }

    /// Like [`SharedConfigSink::boxed`] (or `boxed_single` when `single`),
    /// with the local resources its configs touch.
    pub fn boxed_accessing(
        rules: Rules,
        single: bool,
        access: fn(&Props) -> Vec<LocalAccess>,
    ) -> Box<dyn Connector> {
        Box::new(Self {
            props: Props::new(),
            rules,
            single,
            access: Some(access),
        })
    }
}

#[async_trait]
impl Connector for SharedConfigSink {
    async fn start(&mut self, props: &Props, _ctx: Arc<dyn ConnectorContext>) -> ConnectResult<()> {
        self.props = props.clone();
        Ok(())
    }

    fn task_configs(&self, max_tasks: usize) -> ConnectResult<Vec<Props>> {
        let n = if self.single { 1 } else { max_tasks.max(1) };
        Ok(vec![self.props.clone(); n])
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        Ok(())
    }

    fn validate(&self, props: &Props, def: &ConfigDef) -> Vec<ConfigValue> {
        def.validate_with(props, self.rules)
    }

    fn local_access(&self, props: &Props) -> Vec<LocalAccess> {
        self.access.map(|f| f(props)).unwrap_or_default()
    }
}

/// Committed source offsets, read by a source task when it starts.
pub trait OffsetReader: Send + Sync {
    fn offset(&self, partition: &SourcePartition) -> Option<SourceOffset>;
}

/// What a source task gets from the runtime.
#[derive(Clone)]
pub struct SourceTaskContext {
    pub configs: Props,
    pub offsets: Arc<dyn OffsetReader>,
}

/// Where the broker stored an acknowledged record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordMetadata {
    pub partition: i32,
    pub offset: i64,
}

/// A source task: reads from outside and returns records.
///
/// The runtime may drop a pending `poll` future when the task is stopped, so
/// `poll` hands records over only when it returns and loses nothing when
/// dropped. Each task runs on a thread of its own, so a short blocking call
/// (reading a chunk of a local file) holds up no other task.
#[async_trait]
pub trait SourceTask: Send {
    async fn start(&mut self, props: &Props, ctx: SourceTaskContext) -> ConnectResult<()>;
    /// The next records; may be empty, and should return at least every few
    /// seconds so the task can be paused or stopped.
    async fn poll(&mut self) -> ConnectResult<Vec<SourceRecord>>;
    /// Offsets up to some point were committed.
    async fn commit(&mut self) -> ConnectResult<()> {
        Ok(())
    }
    /// Whether `commit_record` reads the records. The worker keeps each
    /// polled record until it is acknowledged only for a task that does;
    /// for one that returns false (its `commit_record` is the default),
    /// it keeps just the offsets and lets transforms change the records in
    /// place instead of copying them, and never calls `commit_record`.
    fn reads_committed_records(&self) -> bool {
        true
    }
    /// `record` was acknowledged by the broker (`None`: it was filtered or
    /// dropped). Called once per record on the task's thread: keep it cheap.
    fn commit_record(
        &mut self,
        _record: &SourceRecord,
        _metadata: Option<RecordMetadata>,
    ) -> ConnectResult<()> {
        Ok(())
    }
    async fn stop(&mut self) -> ConnectResult<()>;
}

/// A topic partition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: i32,
}

/// Offsets by partition: the next offset to read.
pub type Offsets = BTreeMap<TopicPartition, i64>;

/// Takes records a sink task cannot write (KIP-610's
/// `ErrantRecordReporter`): the runtime logs them and writes them to the
/// dead letter queue, and commits offsets past them only once that is done.
/// Under `errors.tolerance=none` a report fails the task after the batch.
pub trait ErrantRecordReporter: Send + Sync {
    fn report(&self, record: &SinkRecord, error: ConnectError);
}

/// What a sink task may ask of the runtime.
pub trait SinkTaskContext: Send + Sync {
    /// The partitions currently assigned to the task.
    fn assignment(&self) -> Vec<TopicPartition>;
    /// Rewinds or skips: the next records of `tp` start at `offset`.
    fn offset(&self, tp: &TopicPartition, offset: i64);
    /// After a retriable error, wait this long before redelivering the batch.
    fn timeout(&self, ms: u64);
    fn pause(&self, partitions: &[TopicPartition]);
    fn resume(&self, partitions: &[TopicPartition]);
    /// Commit offsets as soon as possible.
    fn request_commit(&self);
    /// What keeps the task from making progress while it retries on its
    /// own (a database that is down), or `None` once it makes progress
    /// again; shown as the `trace` of the task's RUNNING status.
    fn trouble(&self, _why: Option<String>) {}
    /// Whether the worker is stopping the task: work it retries on its own
    /// should give up, committing nothing.
    fn stopping(&self) -> bool {
        false
    }
    /// Where to report records that cannot be written; `None` unless the
    /// connector has a dead letter queue or `errors.log.enable=true`.
    fn errant_record_reporter(&self) -> Option<Arc<dyn ErrantRecordReporter>> {
        None
    }
}

/// A sink task: writes records out.
#[async_trait]
pub trait SinkTask: Send {
    async fn start(&mut self, props: &Props, ctx: Arc<dyn SinkTaskContext>) -> ConnectResult<()>;
    /// Partitions were assigned, before any of their records arrive.
    async fn open(&mut self, _partitions: &[TopicPartition]) -> ConnectResult<()> {
        Ok(())
    }
    /// Writes or buffers `records`. A retriable error redelivers the same batch.
    async fn put(&mut self, records: &[SinkRecord]) -> ConnectResult<()>;
    /// Whether the task acts on the clock (rotates files by time, retries
    /// on its own), so that `put` is called with no records about twice a
    /// second while none arrive. A task that answers false is woken only
    /// by records, its commits and the worker, as Kafka Connect's are.
    fn acts_on_time(&self) -> bool {
        true
    }
    /// Makes everything `put` so far durable.
    async fn flush(&mut self, _offsets: &Offsets) -> ConnectResult<()> {
        Ok(())
    }
    /// The offsets that are safe to commit; by default flushes and returns
    /// `offsets`. An empty map opts out of the runtime's commits.
    async fn pre_commit(&mut self, offsets: &Offsets) -> ConnectResult<Offsets> {
        self.flush(offsets).await?;
        Ok(offsets.clone())
    }
    /// Partitions are being revoked, after their last records were put.
    async fn close(&mut self, _partitions: &[TopicPartition]) -> ConnectResult<()> {
        Ok(())
    }
    async fn stop(&mut self) -> ConnectResult<()>;
}

/// Creates a plugin's tasks.
#[derive(Clone, Copy)]
pub enum TaskFactory {
    Source(fn() -> Box<dyn SourceTask>),
    Sink(fn() -> Box<dyn SinkTask>),
}

/// A connector plugin as the runtime and `/connector-plugins` see it.
#[derive(Clone, Copy)]
pub struct Plugin {
    /// Kafka's class name, e.g. `org.apache.kafka.connect.file.FileStreamSourceConnector`.
    pub class: &'static str,
    /// Short names that also select it, e.g. `FileStreamSource`.
    pub aliases: &'static [&'static str],
    pub version: &'static str,
    pub config_def: fn() -> ConfigDef,
    pub new_connector: fn() -> Box<dyn Connector>,
    pub tasks: TaskFactory,
}

impl Plugin {
    pub fn kind(&self) -> ConnectorKind {
        match self.tasks {
            TaskFactory::Source(_) => ConnectorKind::Source,
            TaskFactory::Sink(_) => ConnectorKind::Sink,
        }
    }

    /// True when `name` is the class name or one of the aliases.
    pub fn answers_to(&self, name: &str) -> bool {
        let name = name.trim();
        self.class == name
            || self.aliases.contains(&name)
            || self.class.rsplit('.').next() == Some(name)
    }
}
