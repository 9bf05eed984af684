//! Shared broker state that every handler sees.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::watch;

use crate::config::{BrokerConfig, Endpoint};
use crate::error_code as ec;
use crate::flusher::Flusher;
use crate::group::service::GroupService;
use crate::topics::{Topic, TopicError, TopicRegistry};

/// Producer ids are handed out in persisted blocks so they never repeat
/// across restarts.
#[derive(Debug)]
pub struct ProducerIds {
    path: PathBuf,
    next: AtomicI64,
    block_end: Mutex<i64>,
}

const PRODUCER_ID_BLOCK: i64 = 1000;

impl ProducerIds {
    pub fn load(path: PathBuf) -> std::io::Result<Self> {
        let start: i64 = std::fs::read_to_string(&path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        let ids = Self {
            path,
            next: AtomicI64::new(start),
            block_end: Mutex::new(start),
        };
        Ok(ids)
    }

    /// The next unused producer id.
    pub fn allocate(&self) -> std::io::Result<i64> {
        let mut end = self.block_end.lock();
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        if id >= *end {
            let new_end = id + PRODUCER_ID_BLOCK;
            let tmp = self.path.with_extension("tmp");
            std::fs::write(&tmp, format!("{new_end}\n"))?;
            std::fs::File::open(&tmp)?.sync_all()?;
            std::fs::rename(&tmp, &self.path)?;
            *end = new_end;
        }
        Ok(id)
    }
}

/// Everything a request handler can reach.
#[derive(Debug)]
pub struct BrokerState {
    pub config: BrokerConfig,
    pub cluster_id: String,
    pub advertised: Endpoint,
    pub topics: Arc<TopicRegistry>,
    pub flusher: Flusher,
    pub groups: Arc<GroupService>,
    pub producer_ids: ProducerIds,
    /// Bumped on every append so long-polling fetches wake up.
    pub data_version: watch::Sender<u64>,
}

impl BrokerState {
    pub fn node_id(&self) -> i32 {
        self.config.node_id
    }

    /// Signals fetchers that new data may be there.
    pub fn notify_data(&self) {
        self.data_version.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Finds a topic, creating it when `auto_create` and the broker allows.
    pub fn topic_or_create(&self, name: &str, auto_create: bool) -> Result<Arc<Topic>, i16> {
        if let Some(t) = self.topics.get(name) {
            return Ok(t);
        }
        if !(auto_create && self.config.auto_create_topics) {
            return Err(ec::UNKNOWN_TOPIC_OR_PARTITION);
        }
        match self
            .topics
            .create(name, self.config.num_partitions, BTreeMap::new(), false)
        {
            Ok(t) => {
                tracing::info!(
                    "auto-created topic {name} with {} partition(s)",
                    self.config.num_partitions
                );
                Ok(t)
            }
            Err(TopicError::AlreadyExists(_)) => {
                self.topics.get(name).ok_or(ec::UNKNOWN_TOPIC_OR_PARTITION)
            }
            Err(TopicError::InvalidName(_)) => Err(ec::INVALID_TOPIC_EXCEPTION),
            Err(e) => {
                tracing::error!("auto-creating topic {name} failed: {e}");
                Err(ec::UNKNOWN_TOPIC_OR_PARTITION)
            }
        }
    }
}
