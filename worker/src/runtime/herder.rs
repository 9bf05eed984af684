//! `Herder`: what the REST API asks of a worker. The standalone worker
//! answers everything itself; a distributed worker answers from the cluster's
//! shared state and hands writes to the leader.

use async_trait::async_trait;
use connect_api::record::{SourceOffset, SourcePartition};
use connect_api::Props;
use serde_json::Value as Json;

use crate::distributed::signing::Signature;

use super::{ConnectorView, Created, RestartRequest, TargetState, Worker, WorkerError};

/// Source partitions with their new offsets (`None` removes one), or
/// `None` for a reset of every offset.
pub type OffsetChanges = Option<Vec<(SourcePartition, Option<SourceOffset>)>>;

/// Kafka Connect's 409 when no leader is known.
pub const NO_LEADER: &str =
    "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.";
/// Kafka Connect's 409 when a request reached the wrong worker twice.
pub const CONFLICT: &str =
    "Cannot complete request because of a conflicting operation (e.g. worker rebalance)";

/// Where writes are done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leader {
    /// On this worker (the leader, or a standalone worker).
    Here,
    /// On the leader at this URL.
    At(String),
    /// Nowhere known yet (a rebalance is under way).
    Unknown,
}

#[async_trait]
pub trait Herder: Send + Sync {
    /// Where REST writes must go.
    fn leader(&self) -> Leader {
        Leader::Here
    }
    /// Creates connector `name`, or replaces its config when `allow_replace`.
    async fn put_connector(
        &self,
        name: &str,
        props: Props,
        initial: TargetState,
        allow_replace: bool,
    ) -> Result<Created, WorkerError>;
    async fn pause(&self, name: &str) -> Result<(), WorkerError>;
    async fn resume(&self, name: &str) -> Result<(), WorkerError>;
    async fn stop(&self, name: &str) -> Result<(), WorkerError>;
    async fn restart(&self, name: &str, req: RestartRequest) -> Result<(), WorkerError>;
    async fn restart_task(&self, name: &str, task: usize) -> Result<(), WorkerError>;
    /// Writes the task configs a connector's owner generated (the internal
    /// `POST /connectors/{name}/tasks`); `signature` signs `body`.
    async fn put_task_configs(
        &self,
        _name: &str,
        _configs: Vec<Props>,
        _body: &[u8],
        _signature: Signature,
    ) -> Result<(), WorkerError> {
        Err(WorkerError::BadRequest(
            "Kafka Connect in standalone mode does not support externally setting task configurations."
                .into(),
        ))
    }
    /// Deletes the connector; returns its last config.
    async fn delete(&self, name: &str) -> Result<Props, WorkerError>;
    async fn names(&self) -> Vec<String>;
    async fn view(&self, name: &str) -> Option<ConnectorView>;
    /// The views of `names` (those that exist), for listings: a worker
    /// that must catch up with shared state does so once, not per name.
    async fn views(&self, names: &[String]) -> Vec<ConnectorView> {
        let mut out = Vec::with_capacity(names.len());
        for n in names {
            if let Some(v) = self.view(n).await {
                out.push(v);
            }
        }
        out
    }
    /// Prometheus text of the worker's metrics.
    async fn metrics(&self) -> String;
    async fn topics(&self, name: &str) -> Result<Vec<String>, WorkerError>;
    async fn reset_topics(&self, name: &str) -> Result<(), WorkerError>;
    /// `[{"partition": {...}, "offset": {...}}]`.
    async fn offsets(&self, name: &str) -> Result<Vec<Json>, WorkerError>;
    /// Alters (or with `None` resets) a STOPPED connector's offsets.
    async fn alter_offsets(
        &self,
        name: &str,
        changes: OffsetChanges,
    ) -> Result<String, WorkerError>;
}

#[async_trait]
impl Herder for Worker {
    async fn put_connector(
        &self,
        name: &str,
        props: Props,
        initial: TargetState,
        allow_replace: bool,
    ) -> Result<Created, WorkerError> {
        Worker::put_connector(self, name, props, initial, allow_replace).await
    }
    async fn pause(&self, name: &str) -> Result<(), WorkerError> {
        Worker::pause(self, name).await
    }
    async fn resume(&self, name: &str) -> Result<(), WorkerError> {
        Worker::resume(self, name).await
    }
    async fn stop(&self, name: &str) -> Result<(), WorkerError> {
        Worker::stop(self, name).await
    }
    async fn restart(&self, name: &str, req: RestartRequest) -> Result<(), WorkerError> {
        Worker::restart(self, name, req).await
    }
    async fn restart_task(&self, name: &str, task: usize) -> Result<(), WorkerError> {
        Worker::restart_task(self, name, task).await
    }
    async fn delete(&self, name: &str) -> Result<Props, WorkerError> {
        Worker::delete(self, name).await
    }
    async fn names(&self) -> Vec<String> {
        Worker::names(self).await
    }
    async fn view(&self, name: &str) -> Option<ConnectorView> {
        Worker::view(self, name).await
    }
    async fn metrics(&self) -> String {
        Worker::metrics(self).await
    }
    async fn topics(&self, name: &str) -> Result<Vec<String>, WorkerError> {
        Worker::topics(self, name).await
    }
    async fn reset_topics(&self, name: &str) -> Result<(), WorkerError> {
        Worker::reset_topics(self, name).await
    }
    async fn offsets(&self, name: &str) -> Result<Vec<Json>, WorkerError> {
        Worker::offsets(self, name).await
    }
    async fn alter_offsets(
        &self,
        name: &str,
        changes: OffsetChanges,
    ) -> Result<String, WorkerError> {
        Worker::alter_offsets(self, name, changes).await
    }
}
