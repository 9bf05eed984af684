//! The Connect runtime: connectors and their tasks, each task on its own
//! thread, with Kafka Connect's states (UNASSIGNED, RUNNING, PAUSED, FAILED
//! with trace, RESTARTING, STOPPED) and target states (STARTED, PAUSED,
//! STOPPED).

mod channel_size;
pub mod config;
mod errant;
pub mod errors;
mod group_consumer;
pub mod health;
mod herder;
pub mod local_access;
pub mod metrics;
mod pattern;
pub mod secrets;
mod sink;
mod source;
mod sticky;
#[cfg(test)]
pub(crate) mod test_broker;
pub mod topic_creation;
mod topic_handles;
mod worker;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use connect_api::Props;
use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::watch;

use crate::store::OffsetStore;
use config::WorkerSettings;
pub use herder::{Herder, Leader, OffsetChanges, CONFLICT, NO_LEADER};
use metrics::{TaskMetrics, WorkerMetrics};
pub(crate) use worker::{
    accept, alter_offsets, not_stopped, sink_offsets, stop_tasks, with_connector_keys,
    with_trouble, LogContext, TaskHandle, TaskSpawner, Trouble,
};
pub use worker::{
    validate, ConnectorView, Created, Rejected, RestartRequest, TargetState, Worker, WorkerError,
};

/// Kafka Connect's status states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    Unassigned,
    Running,
    Paused,
    Failed,
    Restarting,
    Stopped,
}

/// The status of a connector or a task; `trace` when it failed, or while a
/// running task retries.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Status {
    pub state: State,
    pub worker_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

/// What a task loop is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Run,
    Pause,
    Stop,
}

/// A task's identity: `<connector>-<n>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskId {
    pub connector: String,
    pub task: usize,
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}|task-{}]", self.connector, self.task)
    }
}

/// Everything a task loop needs.
#[derive(Clone)]
pub struct TaskEnv {
    pub id: TaskId,
    pub props: Props,
    pub worker: Arc<WorkerSettings>,
    pub offsets: Arc<OffsetStore>,
    pub control: watch::Receiver<Target>,
    /// Topics the connector used (KIP-558 topic tracking).
    pub topics: Arc<Mutex<BTreeSet<String>>>,
    pub metrics: Arc<TaskMetrics>,
    counts: Arc<WorkerMetrics>,
    status: Arc<Mutex<Status>>,
}

impl TaskEnv {
    fn running(&self) {
        self.set_state(State::Running);
        self.metrics.started.store(true, Ordering::Relaxed);
        self.counts
            .task_startup_success
            .fetch_add(1, Ordering::Relaxed);
        tracing::info!("started");
    }

    /// What keeps the running task from making progress (a retriable
    /// error, a database that is down), or `None` once it makes progress.
    fn trouble(&self, why: Option<String>) {
        set_trouble(&self.status, why);
    }

    fn set_state(&self, state: State) {
        let mut s = self.status.lock();
        if s.state != state {
            s.state = state;
            s.trace = None;
            self.metrics.state(state);
        }
    }
}

/// Shows `why` as the `trace` of a RUNNING status (Kafka Connect shows a
/// trace only for FAILED; the field is the same), so `GET .../status` says
/// why a running task is not making progress.
fn set_trouble(status: &Mutex<Status>, why: Option<String>) {
    let mut s = status.lock();
    if s.state == State::Running && s.trace != why {
        s.trace = why;
    }
}

/// Backoff for retriable errors: 100 ms doubling up to 10 s.
pub fn retry_backoff(attempt: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1 << attempt.min(7)).min(10_000))
}
