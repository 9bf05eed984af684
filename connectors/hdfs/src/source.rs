//! The HDFS source: reads the files the sink committed back into their
//! topics and Kafka partitions, in offset order per topic partition (the
//! backup-and-restore use of Confluent's HDFS 3 source). Each task takes
//! the topic partitions whose hash falls to it, lists the store every
//! `hdfs.poll.interval.ms` for new files, and reads a file whole. A
//! source offset names the last file read and how many of its records were
//! sent (`lastFileRead`, `fileOffset`, `eof`), so a restart resumes after
//! the last committed record.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use connect_api::config::{key, ConfigKey, ConfigType, DefaultValue, Importance, Validator};
use connect_api::convert::{Converter, ConverterConfig, JsonConverter};
use connect_api::record::{SourceOffset, SourcePartition};
use connect_api::{
    ConfigDef, ConnectError, ConnectResult, Header, Props, SchemaAndValue, SourceRecord,
    SourceTask, SourceTaskContext,
};
use serde_json::Value as Json;

use crate::config::{self, unescape};
use crate::format::{read, Format};
use crate::naming::{parse_committed, META_SUFFIX};
use crate::store::{self, Store};

pub const POLL_INTERVAL: &str = "hdfs.poll.interval.ms";
pub const BATCH_MAX: &str = "record.batch.max.size";
/// Set by the connector: this task's number and how many there are.
pub const TASK_INDEX: &str = "weir.hdfs.task.index";
pub const TASK_COUNT: &str = "weir.hdfs.task.count";

/// How long a poll waits when there is nothing to read.
const IDLE_WAIT: Duration = Duration::from_millis(500);

/// The source's keys.
pub fn source_def() -> ConfigDef {
    let sink = config::sink_def();
    let shared = [
        config::STORE_URL,
        config::HDFS_URL,
        config::HADOOP_CONF_DIR,
        config::HADOOP_HOME,
        config::TOPICS_DIR,
        config::FORMAT_CLASS,
        config::KERBEROS,
        config::BYTEARRAY_EXTENSION,
        config::BYTEARRAY_SEPARATOR,
    ];
    let mut def = ConfigDef::new();
    for k in sink.keys().iter().filter(|k| shared.contains(&k.name)) {
        def = def.define(k.clone());
    }
    def.define(ConfigKey {
        validator: Some(Validator::AtLeast(100)),
        ..key(
            POLL_INTERVAL,
            ConfigType::Long,
            DefaultValue::Value("300000"),
            Importance::Medium,
            "How often the store is listed for new files, in ms.",
        )
    })
    .define(ConfigKey {
        validator: Some(Validator::AtLeast(1)),
        ..key(
            BATCH_MAX,
            ConfigType::Int,
            DefaultValue::Value("200"),
            Importance::Low,
            "Most records one poll returns.",
        )
    })
}

/// The source's settings.
pub struct SourceConfig {
    pub store_url: String,
    pub hadoop_conf_dir: String,
    pub topics_dir: String,
    pub format: Format,
    pub poll_interval: Duration,
    pub batch_max: usize,
}

impl SourceConfig {
    pub fn parse(props: &Props) -> Result<Self, Vec<(String, String)>> {
        let c = config::parse_def(&source_def(), props)?;
        let s = |k: &str| c.string(k).unwrap_or("").to_string();
        let mut errors = Vec::new();
        let (store_url, hadoop_conf_dir) = config::store_of(&c, &mut errors);
        let format = Format::parse(
            &s(config::FORMAT_CLASS),
            "null",
            "snappy",
            &s(config::BYTEARRAY_EXTENSION),
            &unescape(&s(config::BYTEARRAY_SEPARATOR)),
        )
        .unwrap_or_else(|(k, e)| {
            errors.push((k.to_string(), e));
            Format::Json
        });
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            store_url,
            hadoop_conf_dir,
            topics_dir: s(config::TOPICS_DIR).trim_matches('/').to_string(),
            format,
            poll_interval: Duration::from_millis(
                c.int(POLL_INTERVAL).unwrap_or(300_000).max(100) as u64
            ),
            batch_max: c.int(BATCH_MAX).unwrap_or(200).max(1) as usize,
        })
    }
}

/// Which task reads `topic`/`partition` (FNV-1a of `topic:partition`).
pub fn owner(topic: &str, partition: i32, tasks: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in format!("{topic}:{partition}").bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h % tasks.max(1)
}

/// A topic partition's files and how far they are read.
#[derive(Default)]
struct Partition {
    /// Committed files by start offset.
    files: BTreeMap<i64, String>,
    /// The start offset of the file being read (or next to read).
    at: Option<i64>,
    /// Records of that file already sent.
    sent: usize,
    /// The file being read, its values decoded as they are sent.
    loaded: Option<read::FileValues>,
    /// Its records' keys, headers and timestamps, when the sink kept them.
    meta: Option<Vec<Kept>>,
    resumed: bool,
}

/// What a sidecar kept of one record.
#[derive(Default)]
struct Kept {
    key: Option<SchemaAndValue>,
    headers: Vec<Header>,
    timestamp: Option<i64>,
}

/// The lines of a `.meta.json` sidecar.
fn kept(topic: &str, bytes: &[u8]) -> Result<Vec<Kept>, String> {
    let cfg = ConverterConfig::from_pairs(&[("schemas.enable", "false")]);
    let conv = JsonConverter::new(&cfg)?;
    let decode = |v: &Json| {
        conv.decode(topic, Some(v.to_string().as_bytes()))
            .map_err(|e| e.message().to_string())
    };
    let mut out = Vec::new();
    for (i, line) in bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let m: Json = serde_json::from_slice(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        let mut k = Kept {
            timestamp: m.get("timestamp").and_then(Json::as_i64),
            ..Kept::default()
        };
        if let Some(key) = m.get("key") {
            k.key = Some(if key.is_null() {
                SchemaAndValue::NULL
            } else {
                decode(key)?
            });
        }
        for h in m
            .get("headers")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            k.headers.push(Header {
                key: h
                    .get("key")
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_string(),
                value: match h.get("value") {
                    Some(v) if !v.is_null() => decode(v)?,
                    _ => SchemaAndValue::NULL,
                },
            });
        }
        out.push(k);
    }
    Ok(out)
}

#[derive(Default)]
pub struct HdfsSourceTask {
    cfg: Option<SourceConfig>,
    store: Option<Box<dyn Store>>,
    ctx: Option<SourceTaskContext>,
    index: u64,
    count: u64,
    partitions: BTreeMap<(String, i32), Partition>,
    next_listing: Option<Instant>,
    /// Records the last poll returned: the next one's list starts with
    /// room for as many rather than growing (and moving) record by record.
    last_polled: usize,
}

fn source_partition(topic: &str, partition: i32) -> SourcePartition {
    let mut p = SourcePartition::new();
    p.insert("topic".into(), Json::String(topic.to_string()));
    p.insert("partition".into(), Json::from(partition));
    p
}

impl HdfsSourceTask {
    fn list(&mut self) -> ConnectResult<()> {
        let (Some(cfg), Some(store)) = (&self.cfg, &self.store) else {
            return Err(ConnectError::fatal("the HDFS source task was not started"));
        };
        let ext = cfg.format.extension();
        let entries = store
            .list(&cfg.topics_dir, true)
            .map_err(|e| ConnectError::retriable(e.0))?;
        for e in entries {
            // `<topics.dir>/+tmp/...` holds files being written.
            if e.path.split('/').any(|p| p == "+tmp") {
                continue;
            }
            let Some(c) = parse_committed(e.name()).filter(|c| c.ext == ext) else {
                continue;
            };
            if owner(&c.topic, c.partition, self.count) != self.index {
                continue;
            }
            self.partitions
                .entry((c.topic, c.partition))
                .or_default()
                .files
                .insert(c.start, e.path);
        }
        Ok(())
    }

    /// Where a partition's reading starts, from its committed offset.
    fn resume(&self, topic: &str, partition: i32, p: &mut Partition) {
        p.resumed = true;
        let Some(ctx) = &self.ctx else { return };
        let Some(offset) = ctx.offsets.offset(&source_partition(topic, partition)) else {
            p.at = p.files.keys().next().copied();
            return;
        };
        let file = offset
            .get("lastFileRead")
            .and_then(Json::as_str)
            .unwrap_or("");
        let sent = offset
            .get("fileOffset")
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(0);
        let eof = offset
            .get("eof")
            .is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("true"));
        let start = parse_committed(file.rsplit('/').next().unwrap_or(file)).map(|c| c.start);
        match start {
            Some(s) if eof => {
                p.at = p
                    .files
                    .range(s + 1..)
                    .next()
                    .map(|(k, _)| *k)
                    .or(Some(s + 1))
            }
            Some(s) => {
                p.at = Some(s);
                p.sent = sent as usize;
            }
            None => p.at = p.files.keys().next().copied(),
        }
    }
}

#[async_trait]
impl SourceTask for HdfsSourceTask {
    fn reads_committed_records(&self) -> bool {
        false
    }

    async fn start(&mut self, props: &Props, ctx: SourceTaskContext) -> ConnectResult<()> {
        let cfg = SourceConfig::parse(props).map_err(config::refused)?;
        self.store =
            Some(store::open(&cfg.store_url, &cfg.hadoop_conf_dir).map_err(ConnectError::fatal)?);
        self.index = props
            .get(TASK_INDEX)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        self.count = props
            .get(TASK_COUNT)
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        self.cfg = Some(cfg);
        self.ctx = Some(ctx);
        Ok(())
    }

    async fn poll(&mut self) -> ConnectResult<Vec<SourceRecord>> {
        let interval = self
            .cfg
            .as_ref()
            .map_or(Duration::from_secs(300), |c| c.poll_interval);
        if self.next_listing.is_none_or(|t| Instant::now() >= t) {
            self.list()?;
            self.next_listing = Some(Instant::now() + interval);
        }
        let (Some(cfg), Some(store)) = (&self.cfg, &self.store) else {
            return Err(ConnectError::fatal("the HDFS source task was not started"));
        };
        let mut out = Vec::with_capacity(self.last_polled.min(cfg.batch_max));
        let keys: Vec<(String, i32)> = self.partitions.keys().cloned().collect();
        for (topic, partition) in keys {
            let Some(mut p) = self.partitions.remove(&(topic.clone(), partition)) else {
                continue;
            };
            if !p.resumed {
                self.resume(&topic, partition, &mut p);
            }
            let result = (|| -> ConnectResult<()> {
                let sp = Arc::new(source_partition(&topic, partition));
                let topic_name: Arc<str> = Arc::from(topic.as_str());
                while out.len() < cfg.batch_max {
                    let Some((start, path)) =
                        p.at.and_then(|a| p.files.range(a..).next())
                            .map(|(s, f)| (*s, f.clone()))
                    else {
                        break;
                    };
                    if p.at != Some(start) {
                        p.at = Some(start);
                        p.sent = 0;
                        p.loaded = None;
                    }
                    if p.loaded.is_none() {
                        let bytes = store
                            .read(&path)
                            .map_err(|e| ConnectError::retriable(e.0))?;
                        let mut values = read::FileValues::open(&cfg.format, &topic, bytes)
                            .map_err(|e| ConnectError::fatal(format!("{path}: {e}")))?;
                        // Records sent before a restart (none for a new file).
                        values.pass_over(p.sent);
                        let sidecar = format!("{path}{META_SUFFIX}");
                        p.meta = if store
                            .exists(&sidecar)
                            .map_err(|e| ConnectError::retriable(e.0))?
                        {
                            let bytes = store
                                .read(&sidecar)
                                .map_err(|e| ConnectError::retriable(e.0))?;
                            let meta = kept(&topic, &bytes)
                                .map_err(|e| ConnectError::fatal(format!("{sidecar}: {e}")))?;
                            if meta.len() != values.len() {
                                return Err(ConnectError::fatal(format!(
                                    "{sidecar} holds {} records where {path} holds {}",
                                    meta.len(),
                                    values.len()
                                )));
                            }
                            Some(meta)
                        } else {
                            None
                        };
                        p.loaded = Some(values);
                    }
                    let Some(values) = p.loaded.as_mut() else {
                        break;
                    };
                    let total = values.len();
                    let first = out.len();
                    while out.len() < cfg.batch_max {
                        let Some(value) = values.next() else { break };
                        let (value, value_text) =
                            match value.map_err(|e| ConnectError::fatal(format!("{path}: {e}")))? {
                                read::Taken::Value(v) => (v, None),
                                read::Taken::Text(t) => (SchemaAndValue::NULL, Some(t)),
                            };
                        let kept = p
                            .meta
                            .as_mut()
                            .and_then(|m| m.get_mut(p.sent))
                            .map(std::mem::take)
                            .unwrap_or_default();
                        out.push(SourceRecord {
                            source_partition: sp.clone(),
                            source_offset: None,
                            topic: topic_name.clone(),
                            partition: Some(partition),
                            key: kept.key.unwrap_or(SchemaAndValue::NULL),
                            value,
                            value_text,
                            timestamp: kept.timestamp,
                            headers: kept.headers,
                        });
                        p.sent += 1;
                    }
                    // The last record of the run carries the offset that
                    // covers the run (Connect commits acknowledged prefixes).
                    if let Some(last) = out.get_mut(first..).and_then(|r| r.last_mut()) {
                        let mut offset = SourceOffset::new();
                        offset.insert("lastFileRead".into(), Json::String(path.clone()));
                        offset.insert("fileOffset".into(), Json::from(p.sent));
                        offset.insert("eof".into(), Json::Bool(p.sent == total));
                        last.source_offset = Some(offset);
                    }
                    if p.sent >= total {
                        p.at = Some(start + 1);
                        p.sent = 0;
                        p.loaded = None;
                        p.meta = None;
                    }
                }
                Ok(())
            })();
            self.partitions.insert((topic, partition), p);
            result?;
            if out.len() >= cfg.batch_max {
                break;
            }
        }
        self.last_polled = out.len();
        if out.is_empty() {
            tokio::time::sleep(IDLE_WAIT).await;
        }
        Ok(out)
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        Ok(())
    }
}
