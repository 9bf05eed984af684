//! The topic registry: topic ids, partition counts and config overrides,
//! persisted as one small properties file per topic under `<log.dir>/.weir/topics/`,
//! and the open partition logs in `<log.dir>/<topic>-<partition>/`.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use uuid::Uuid;

use crate::log::PartitionLog;
use crate::properties::Properties;
use crate::topic_config::{BrokerDefaults, TopicConfig};

/// Partitions one topic may have on this broker (each is a directory and open files).
pub const MAX_PARTITIONS_PER_TOPIC: i32 = 10_000;

/// The internal topic holding committed offsets and group metadata.
pub const OFFSETS_TOPIC: &str = "__consumer_offsets";

/// One partition and its log.
#[derive(Debug)]
pub struct Partition {
    pub topic: String,
    pub index: i32,
    pub log: Mutex<PartitionLog>,
}

/// A topic: identity, partitions and config.
#[derive(Debug)]
pub struct Topic {
    pub name: String,
    pub id: Uuid,
    pub internal: bool,
    partitions: RwLock<Vec<Arc<Partition>>>,
    overrides: RwLock<BTreeMap<String, String>>,
}

impl Topic {
    pub fn partitions(&self) -> Vec<Arc<Partition>> {
        self.partitions.read().clone()
    }
    pub fn partition(&self, index: i32) -> Option<Arc<Partition>> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.partitions.read().get(i).cloned())
    }
    pub fn partition_count(&self) -> i32 {
        self.partitions.read().len() as i32
    }
    pub fn overrides(&self) -> BTreeMap<String, String> {
        self.overrides.read().clone()
    }
}

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TopicError {
    #[error("Topic '{0}' already exists.")]
    AlreadyExists(String),
    #[error("Topic '{0}' does not exist.")]
    Unknown(String),
    #[error("{0}")]
    InvalidName(String),
    #[error("{0}")]
    InvalidPartitions(String),
    #[error("storage error: {0}")]
    Io(#[from] io::Error),
}

/// Kafka's topic name rules.
pub fn validate_name(name: &str) -> Result<(), TopicError> {
    let bad = |why: &str| {
        Err(TopicError::InvalidName(format!(
            "Topic name \"{name}\" is illegal, {why}"
        )))
    };
    if name.is_empty() {
        return bad("it can't be empty");
    }
    if name == "." || name == ".." {
        return bad("it cannot be \".\" or \"..\"");
    }
    if name.len() > 249 {
        return bad("it can't be longer than 249 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        return bad("it contains a character other than ASCII alphanumerics, '.', '_' and '-'");
    }
    Ok(())
}

/// All topics of the broker.
#[derive(Debug)]
pub struct TopicRegistry {
    log_dir: PathBuf,
    meta_dir: PathBuf,
    broker_defaults: BrokerDefaults,
    topics: RwLock<HashMap<String, Arc<Topic>>>,
    /// Serialises create/delete/alter so metadata files and memory agree.
    admin: Mutex<()>,
}

/// Things found while loading that deserve a log line.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub topics: usize,
    pub partitions: usize,
    pub truncated: Vec<String>,
}

fn now_ms() -> i64 {
    crate::clock::now_ms()
}

impl TopicRegistry {
    /// Loads every topic under `log_dir`.
    pub fn load(
        log_dir: &Path,
        broker_defaults: BrokerDefaults,
        clean_shutdown: bool,
    ) -> Result<(Self, LoadReport), TopicError> {
        let meta_dir = log_dir.join(".weir").join("topics");
        std::fs::create_dir_all(&meta_dir)?;
        let reg = Self {
            log_dir: log_dir.to_path_buf(),
            meta_dir,
            broker_defaults,
            topics: RwLock::new(HashMap::new()),
            admin: Mutex::new(()),
        };
        let mut report = LoadReport::default();
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&reg.meta_dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "properties"))
            .collect();
        entries.sort();
        for path in entries {
            let props = Properties::load(&path).map_err(|e| io::Error::other(e.to_string()))?;
            let Some(name) = props.get("name").map(str::to_string) else {
                continue;
            };
            let id = props
                .get("topic.id")
                .and_then(|s| Uuid::parse_str(s).ok())
                .unwrap_or_else(Uuid::new_v4);
            let count: i32 = props
                .get("partitions")
                .and_then(|s| s.parse().ok())
                .unwrap_or(1);
            let internal = props.get("internal") == Some("true");
            let overrides: BTreeMap<String, String> = props
                .entries()
                .iter()
                .filter_map(|e| {
                    e.key
                        .strip_prefix("config.")
                        .map(|k| (k.to_string(), e.value.clone()))
                })
                .collect();
            let cfg = Arc::new(TopicConfig::resolve(&overrides, &reg.broker_defaults));
            let mut parts = Vec::new();
            for p in 0..count {
                let (log, notes) = PartitionLog::open(
                    &reg.partition_dir(&name, p),
                    cfg.clone(),
                    clean_shutdown,
                    now_ms(),
                )?;
                for (base, bytes) in notes.truncated {
                    report.truncated.push(format!(
                        "{name}-{p}: dropped {bytes} bytes of a torn or corrupt tail in segment {base:020}.log"
                    ));
                }
                for base in notes.dropped_segments {
                    report.truncated.push(format!(
                        "{name}-{p}: deleted segment {base:020}.log after the corrupt point"
                    ));
                }
                parts.push(Arc::new(Partition {
                    topic: name.clone(),
                    index: p,
                    log: Mutex::new(log),
                }));
            }
            report.topics += 1;
            report.partitions += parts.len();
            reg.topics.write().insert(
                name.clone(),
                Arc::new(Topic {
                    name,
                    id,
                    internal,
                    partitions: RwLock::new(parts),
                    overrides: RwLock::new(overrides),
                }),
            );
        }
        Ok((reg, report))
    }

    fn partition_dir(&self, topic: &str, p: i32) -> PathBuf {
        self.log_dir.join(format!("{topic}-{p}"))
    }

    fn meta_path(&self, topic: &str) -> PathBuf {
        self.meta_dir.join(format!("{topic}.properties"))
    }

    pub fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    pub fn broker_defaults(&self) -> &BrokerDefaults {
        &self.broker_defaults
    }

    pub fn get(&self, name: &str) -> Option<Arc<Topic>> {
        self.topics.read().get(name).cloned()
    }

    pub fn by_id(&self, id: Uuid) -> Option<Arc<Topic>> {
        self.topics.read().values().find(|t| t.id == id).cloned()
    }

    /// All topics sorted by name.
    pub fn all(&self) -> Vec<Arc<Topic>> {
        let mut v: Vec<_> = self.topics.read().values().cloned().collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    fn write_meta(&self, topic: &Topic) -> io::Result<()> {
        let mut text = format!(
            "name={}\ntopic.id={}\npartitions={}\ninternal={}\n",
            topic.name,
            topic.id,
            topic.partition_count(),
            topic.internal
        );
        for (k, v) in topic.overrides.read().iter() {
            text.push_str(&format!("config.{}={}\n", escape(k), escape(v)));
        }
        let path = self.meta_path(&topic.name);
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)?;
        File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        File::open(&self.meta_dir)?.sync_all()
    }

    /// Creates a topic; overrides must already be validated.
    pub fn create(
        &self,
        name: &str,
        partitions: i32,
        overrides: BTreeMap<String, String>,
        internal: bool,
    ) -> Result<Arc<Topic>, TopicError> {
        validate_name(name)?;
        if partitions < 1 {
            return Err(TopicError::InvalidPartitions(
                "Number of partitions must be larger than 0.".into(),
            ));
        }
        check_partition_limit(partitions)?;
        let _guard = self.admin.lock();
        if self.topics.read().contains_key(name) {
            return Err(TopicError::AlreadyExists(name.to_string()));
        }
        let cfg = Arc::new(TopicConfig::resolve(&overrides, &self.broker_defaults));
        let mut parts = Vec::new();
        for p in 0..partitions {
            let dir = self.partition_dir(name, p);
            if dir.exists() {
                // Leftover of a topic whose deletion was interrupted.
                std::fs::remove_dir_all(&dir)?;
            }
            let (log, _) = PartitionLog::open(&dir, cfg.clone(), true, now_ms())?;
            parts.push(Arc::new(Partition {
                topic: name.to_string(),
                index: p,
                log: Mutex::new(log),
            }));
        }
        let topic = Arc::new(Topic {
            name: name.to_string(),
            id: Uuid::new_v4(),
            internal,
            partitions: RwLock::new(parts),
            overrides: RwLock::new(overrides),
        });
        self.write_meta(&topic)?;
        self.topics.write().insert(name.to_string(), topic.clone());
        Ok(topic)
    }

    /// Deletes a topic and its data.
    pub fn delete(&self, name: &str) -> Result<Arc<Topic>, TopicError> {
        let _guard = self.admin.lock();
        let topic = self
            .topics
            .write()
            .remove(name)
            .ok_or_else(|| TopicError::Unknown(name.to_string()))?;
        std::fs::remove_file(self.meta_path(name))?;
        for p in topic.partitions() {
            let dir = p.log.lock().dir().to_path_buf();
            if let Err(e) = std::fs::remove_dir_all(&dir) {
                tracing::warn!("could not remove {}: {e}", dir.display());
            }
        }
        Ok(topic)
    }

    /// Grows a topic to `count` partitions.
    pub fn add_partitions(&self, topic: &Topic, count: i32) -> Result<(), TopicError> {
        let _guard = self.admin.lock();
        let current = topic.partition_count();
        if count < current {
            return Err(TopicError::InvalidPartitions(format!(
                "Topic currently has {current} partitions, which is higher than the requested {count}."
            )));
        }
        if count == current {
            return Err(TopicError::InvalidPartitions(format!(
                "Topic already has {current} partitions."
            )));
        }
        let cfg = Arc::new(TopicConfig::resolve(
            &topic.overrides(),
            &self.broker_defaults,
        ));
        let mut new = Vec::new();
        for p in current..count {
            let (log, _) = PartitionLog::open(
                &self.partition_dir(&topic.name, p),
                cfg.clone(),
                true,
                now_ms(),
            )?;
            new.push(Arc::new(Partition {
                topic: topic.name.clone(),
                index: p,
                log: Mutex::new(log),
            }));
        }
        topic.partitions.write().extend(new);
        self.write_meta(topic)?;
        Ok(())
    }

    /// Replaces a topic's overrides (already validated) and applies them.
    pub fn set_overrides(
        &self,
        topic: &Topic,
        overrides: BTreeMap<String, String>,
    ) -> Result<(), TopicError> {
        let _guard = self.admin.lock();
        let cfg = Arc::new(TopicConfig::resolve(&overrides, &self.broker_defaults));
        *topic.overrides.write() = overrides;
        self.write_meta(topic)?;
        for p in topic.partitions() {
            p.log.lock().set_config(cfg.clone());
        }
        Ok(())
    }
}

fn check_partition_limit(count: i32) -> Result<(), TopicError> {
    if count > MAX_PARTITIONS_PER_TOPIC {
        return Err(TopicError::InvalidPartitions(format!(
            "{count} partitions exceed this broker's limit of {MAX_PARTITIONS_PER_TOPIC} per topic."
        )));
    }
    Ok(())
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '=' | ':' | '#' | '!' | ' ' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}
