//! What a running connector may ask of the worker (`ConnectorContext`).

use std::sync::Arc;

use connect_api::{ConnectError, ConnectorContext};
use parking_lot::Mutex;

use crate::runtime::{State, Status};

/// A connector's context: errors go to the log; a request for task
/// reconfiguration goes to `reconfigure` when there is one (a standalone
/// worker), or is only logged (a distributed worker's herder compares
/// every connector's task configs with the published ones each round);
/// what the connector says keeps it from its work goes to `trouble`.
pub(crate) struct LogContext {
    pub(crate) name: String,
    pub(crate) reconfigure: Option<tokio::sync::mpsc::UnboundedSender<String>>,
    pub(crate) trouble: Trouble,
}

/// What a running connector last said keeps it from its work, shown with
/// its status (it may say so while it starts, before it is RUNNING).
pub(crate) type Trouble = Arc<Mutex<Option<String>>>;

/// `status` with the connector's trouble as its trace while it runs.
pub(crate) fn with_trouble(mut status: Status, trouble: &Trouble) -> Status {
    if status.state == State::Running && status.trace.is_none() {
        status.trace = trouble.lock().clone();
    }
    status
}

impl ConnectorContext for LogContext {
    fn request_task_reconfiguration(&self) {
        tracing::info!("[{}|worker] asked for task reconfiguration", self.name);
        if let Some(tx) = &self.reconfigure {
            // Fails only once the worker has stopped listening (shutdown).
            let _ = tx.send(self.name.clone());
        }
    }
    fn raise_error(&self, error: ConnectError) {
        tracing::error!("[{}|worker] raised an error: {error}", self.name);
    }
    fn trouble(&self, why: Option<String>) {
        *self.trouble.lock() = why;
    }
}
