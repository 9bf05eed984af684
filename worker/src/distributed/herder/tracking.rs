//! Topic tracking (KIP-558) across workers: the worker running a task
//! records each topic the task uses as `status-topic-<topic>:connector-<c>`
//! in the status topic, once; every worker answers
//! `GET /connectors/{name}/topics` from those records; a reset writes
//! tombstones, and a worker that reads them forgets the topics, so they are
//! recorded again when next used.

use std::collections::BTreeSet;
use std::time::Instant;

use super::{now_ms, DistributedHerder};
use crate::distributed::executor::Executor;
use crate::distributed::records::{topic_status_value, StatusKey};
use crate::runtime::WorkerError;

/// How often the loop reads the status topic for resets by other workers.
const RESET_CHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// Topics recorded by this worker, and when the status topic was last
/// checked for resets.
#[derive(Default)]
pub(super) struct Tracked {
    written: BTreeSet<(String, String)>,
    checked: Option<Instant>,
}

impl DistributedHerder {
    /// Records the topics this worker's tasks began to use, and forgets
    /// those another worker's reset removed.
    pub(super) async fn track_topics(&self, executor: &mut Executor) {
        let due = self
            .tracked
            .lock()
            .checked
            .is_none_or(|t| t.elapsed() >= RESET_CHECK);
        if due {
            match self.read_statuses().await {
                Ok(()) => {
                    let mut tracked = self.tracked.lock();
                    tracked.checked = Some(Instant::now());
                    let shared = self.shared.lock();
                    let gone: Vec<(String, String)> = tracked
                        .written
                        .iter()
                        .filter(|(c, t)| !shared.topics.get(c).is_some_and(|ts| ts.contains(t)))
                        .cloned()
                        .collect();
                    for (c, t) in gone {
                        tracked.written.remove(&(c.clone(), t.clone()));
                        executor.forget_topic(&c, &t);
                    }
                }
                Err(e) => tracing::warn!("reading the status topic: {e:#}"),
            }
        }
        let mut writes = Vec::new();
        for (connector, task, topic) in executor.topics_in_use() {
            let key = (connector.clone(), topic.clone());
            if self.tracked.lock().written.contains(&key) {
                continue;
            }
            let record_key = StatusKey::Topic {
                topic: topic.clone(),
                connector: connector.clone(),
            }
            .key();
            let value = topic_status_value(&topic, &connector, task, now_ms());
            writes.push((key, record_key, value));
        }
        // Written together, as statuses are: tasks that all start reading
        // at once do not wait for one acknowledgment per topic.
        for ((connector, topic), sent) in self.status_log.send_all(writes).await {
            match sent {
                Ok(_) => {
                    self.shared
                        .lock()
                        .topics
                        .entry(connector.clone())
                        .or_default()
                        .insert(topic.clone());
                    self.tracked.lock().written.insert((connector, topic));
                }
                Err(e) => tracing::warn!("[{connector}|worker] recording topic {topic}: {e:#}"),
            }
        }
    }

    /// The topics a connector has used since it was created or reset.
    pub(super) async fn active_topics(&self, name: &str) -> Result<Vec<String>, WorkerError> {
        self.read_statuses().await.map_err(super::internal)?;
        Ok(self
            .shared
            .lock()
            .topics
            .get(name)
            .map(|ts| ts.iter().cloned().collect())
            .unwrap_or_default())
    }

    /// Writes tombstones for every topic recorded for the connector.
    pub(super) async fn forget_topics(&self, name: &str) -> Result<(), WorkerError> {
        for topic in self.active_topics(name).await? {
            let key = StatusKey::Topic {
                topic: topic.clone(),
                connector: name.to_string(),
            }
            .key();
            self.status_log
                .send(&key, None)
                .await
                .map_err(super::internal)?;
            if let Some(ts) = self.shared.lock().topics.get_mut(name) {
                ts.remove(&topic);
            }
        }
        Ok(())
    }
}
