//! Shared broker state that every handler sees.

use std::collections::BTreeMap;
use std::path::PathBuf;
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
    /// (next id to hand out, first id of the next unpersisted block)
    state: Mutex<(i64, i64)>,
}

const PRODUCER_ID_BLOCK: i64 = 1000;

impl ProducerIds {
    pub fn load(path: PathBuf) -> std::io::Result<Self> {
        let start: i64 = std::fs::read_to_string(&path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        Ok(Self {
            path,
            state: Mutex::new((start, start)),
        })
    }

    /// The next unused producer id.
    pub fn allocate(&self) -> std::io::Result<i64> {
        let mut state = self.state.lock();
        let (id, end) = *state;
        if id >= end {
            let new_end = id + PRODUCER_ID_BLOCK;
            let tmp = self.path.with_extension("tmp");
            std::fs::write(&tmp, format!("{new_end}\n"))?;
            std::fs::File::open(&tmp)?.sync_all()?;
            std::fs::rename(&tmp, &self.path)?;
            state.1 = new_end;
        }
        state.0 = id + 1;
        Ok(id)
    }
}

/// Everything a request handler can reach.
#[derive(Debug)]
pub struct BrokerState {
    pub config: BrokerConfig,
    pub cluster_id: String,
    /// The address each listener advertises (indexed like `config.listeners`).
    pub advertised: Vec<Endpoint>,
    /// SCRAM users (AlterUserScramCredentials), kept in the log directory.
    pub scram: Arc<crate::security::scram::CredentialStore>,
    /// ACLs (CreateAcls) and the rules of `authorizer.class.name`.
    pub acls: crate::security::acl::Authorizer,
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

    /// The address clients of listener `index` are told to use.
    pub fn endpoint(&self, index: usize) -> &Endpoint {
        &self.advertised[index.min(self.advertised.len().saturating_sub(1))]
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

#[cfg(test)]
mod tests {
    use super::ProducerIds;

    #[test]
    fn producer_ids_never_repeat_across_restarts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("producer-id-block");
        let ids = ProducerIds::load(path.clone()).expect("load");
        let first: Vec<i64> = (0..3).map(|_| ids.allocate().expect("id")).collect();
        assert_eq!(first, vec![0, 1, 2]);
        drop(ids);
        let ids = ProducerIds::load(path).expect("reload");
        let next = ids.allocate().expect("id");
        assert!(
            next > 2,
            "a restarted broker skips the handed-out block: {next}"
        );
    }
}
