//! The Connect runtime: connectors and their tasks, each task on its own
//! thread, with Kafka Connect's states (UNASSIGNED, RUNNING, PAUSED, FAILED
//! with trace, RESTARTING, STOPPED).

pub mod config;
mod sink;
mod source;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use connect_api::{ConnectError, ConnectorContext, ConnectorKind, Plugin, Props, TaskFactory};
use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::watch;

use crate::store::OffsetStore;
use config::{check_connector, find_plugin, tasks_max, WorkerSettings};

/// Kafka Connect's status states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    Unassigned,
    Running,
    Paused,
    Failed,
    Restarting,
    Stopped,
}

/// The status of a connector or a task.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub state: State,
    pub worker_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
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
    pub stop: watch::Receiver<bool>,
    status: Arc<Mutex<Status>>,
}

impl TaskEnv {
    fn running(&self) {
        self.status.lock().state = State::Running;
        tracing::info!("{} started", self.id);
    }
}

/// Backoff for retriable errors: 100 ms doubling up to 10 s.
pub fn retry_backoff(attempt: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1 << attempt.min(7)).min(10_000))
}

struct TaskHandle {
    status: Arc<Mutex<Status>>,
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct RunningConnector {
    config: Props,
    plugin: Plugin,
    status: Arc<Mutex<Status>>,
    connector: Option<Box<dyn connect_api::Connector>>,
    tasks: Vec<TaskHandle>,
}

/// A connector as the REST API shows it.
#[derive(Debug, Clone)]
pub struct ConnectorView {
    pub name: String,
    pub config: Props,
    pub kind: ConnectorKind,
    pub status: Status,
    pub tasks: Vec<(usize, Status)>,
    pub task_configs: Vec<Props>,
}

/// The connectors of one worker.
pub struct Worker {
    pub settings: Arc<WorkerSettings>,
    pub offsets: Arc<OffsetStore>,
    connectors: tokio::sync::Mutex<BTreeMap<String, RunningConnector>>,
}

struct NoopContext;

impl ConnectorContext for NoopContext {
    fn request_task_reconfiguration(&self) {
        tracing::info!("a connector asked for task reconfiguration");
    }
    fn raise_error(&self, error: ConnectError) {
        tracing::error!("a connector raised an error: {error}");
    }
}

/// Why a connector config was refused: one message per problem, by key.
#[derive(Debug)]
pub struct Rejected(pub Vec<(String, String)>);

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msgs: Vec<&str> = self.0.iter().map(|(_, m)| m.as_str()).collect();
        write!(
            f,
            "Connector configuration is invalid and contains the following {} error(s):\n{}",
            msgs.len(),
            msgs.join("\n")
        )
    }
}

impl std::error::Error for Rejected {}

/// Validates a connector config: common keys, then the plugin's own.
pub fn validate(props: &Props) -> Result<Plugin, Rejected> {
    let plugin = props.get("connector.class").map(|c| find_plugin(c));
    let kind = match &plugin {
        Some(Ok(p)) => Some(p.kind()),
        _ => None,
    };
    let mut errors = check_connector(props, kind);
    match plugin {
        Some(Ok(p)) => {
            let def = (p.config_def)();
            let c = (p.new_connector)();
            for v in c.validate(props, &def) {
                errors.extend(v.errors.into_iter().map(|e| (v.name.clone(), e)));
            }
            if errors.is_empty() {
                return Ok(p);
            }
        }
        Some(Err(e)) => errors.push(("connector.class".into(), e)),
        None => {}
    }
    Err(Rejected(errors))
}

impl Worker {
    pub fn new(settings: WorkerSettings, offsets: Arc<OffsetStore>) -> Self {
        Self {
            settings: Arc::new(settings),
            offsets,
            connectors: tokio::sync::Mutex::new(BTreeMap::new()),
        }
    }

    fn status(&self, state: State, trace: Option<String>) -> Status {
        Status {
            state,
            worker_id: self.settings.worker_id.clone(),
            trace,
        }
    }

    /// Starts connector `name` with `props` and its tasks.
    pub async fn start_connector(&self, name: &str, mut props: Props) -> anyhow::Result<()> {
        props.insert("name".into(), name.to_string());
        let plugin = validate(&props)?;
        let mut connectors = self.connectors.lock().await;
        if connectors.contains_key(name) {
            anyhow::bail!("Connector {name} already exists");
        }
        let mut connector = (plugin.new_connector)();
        let status = Arc::new(Mutex::new(self.status(State::Unassigned, None)));
        let started = connector.start(&props, Arc::new(NoopContext)).await;
        let mut running = RunningConnector {
            config: props.clone(),
            plugin,
            status: status.clone(),
            connector: None,
            tasks: Vec::new(),
        };
        match started.and_then(|_| connector.task_configs(tasks_max(&props))) {
            Ok(task_configs) => {
                *status.lock() = self.status(State::Running, None);
                tracing::info!(
                    "[{name}] connector started with {} task(s)",
                    task_configs.len()
                );
                for (i, tc) in task_configs.into_iter().enumerate() {
                    let mut tc = tc;
                    for (k, v) in &props {
                        tc.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                    running
                        .tasks
                        .push(self.spawn_task(name, i, tc, plugin.tasks));
                }
                running.connector = Some(connector);
            }
            Err(e) => {
                tracing::error!("[{name}] connector failed to start: {e}");
                *status.lock() = self.status(State::Failed, Some(e.to_string()));
            }
        }
        connectors.insert(name.to_string(), running);
        Ok(())
    }

    fn spawn_task(
        &self,
        connector: &str,
        n: usize,
        props: Props,
        factory: TaskFactory,
    ) -> TaskHandle {
        let (stop_tx, stop_rx) = watch::channel(false);
        let status = Arc::new(Mutex::new(self.status(State::Unassigned, None)));
        let env = TaskEnv {
            id: TaskId {
                connector: connector.to_string(),
                task: n,
            },
            props,
            worker: self.settings.clone(),
            offsets: self.offsets.clone(),
            stop: stop_rx,
            status: status.clone(),
        };
        let name = format!("task-{connector}-{n}");
        let thread = std::thread::Builder::new().name(name).spawn(move || {
            let id = env.id.clone();
            let status = env.status.clone();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            let result = match rt {
                Ok(rt) => rt.block_on(async move {
                    match factory {
                        TaskFactory::Source(f) => source::run(env, f()).await,
                        TaskFactory::Sink(f) => sink::run(env, f()).await,
                    }
                }),
                Err(e) => Err(anyhow::anyhow!("cannot start the task's runtime: {e}")),
            };
            let mut s = status.lock();
            match result {
                Ok(()) => {
                    tracing::info!("{id} stopped");
                    s.state = State::Unassigned;
                }
                Err(e) => {
                    tracing::error!("{id} failed: {e:#}");
                    s.state = State::Failed;
                    s.trace = Some(format!("{e:#}"));
                }
            }
        });
        let thread = match thread {
            Ok(t) => Some(t),
            Err(e) => {
                *status.lock() =
                    self.status(State::Failed, Some(format!("cannot start a thread: {e}")));
                None
            }
        };
        TaskHandle {
            status,
            stop: stop_tx,
            thread,
        }
    }

    /// Stops a connector's tasks (each within the graceful timeout) and the connector.
    pub async fn stop_connector(&self, name: &str) -> anyhow::Result<Option<Props>> {
        let Some(mut running) = self.connectors.lock().await.remove(name) else {
            return Ok(None);
        };
        stop_tasks(&mut running.tasks, self.settings.shutdown_timeout).await;
        if let Some(mut c) = running.connector.take() {
            if let Err(e) = c.stop().await {
                tracing::warn!("[{name}] connector stop failed: {e}");
            }
        }
        tracing::info!("[{name}] connector stopped");
        Ok(Some(running.config))
    }

    /// Stops every connector.
    pub async fn shutdown(&self) {
        let names: Vec<String> = self.connectors.lock().await.keys().cloned().collect();
        for n in names {
            if let Err(e) = self.stop_connector(&n).await {
                tracing::warn!("[{n}] {e:#}");
            }
        }
    }

    /// Names of the connectors, sorted.
    pub async fn names(&self) -> Vec<String> {
        self.connectors.lock().await.keys().cloned().collect()
    }

    /// A connector's config, status and tasks.
    pub async fn view(&self, name: &str) -> Option<ConnectorView> {
        let connectors = self.connectors.lock().await;
        let c = connectors.get(name)?;
        let view = ConnectorView {
            name: name.to_string(),
            config: c.config.clone(),
            kind: c.plugin.kind(),
            status: c.status.lock().clone(),
            tasks: c
                .tasks
                .iter()
                .enumerate()
                .map(|(i, t)| (i, t.status.lock().clone()))
                .collect(),
            task_configs: Vec::new(),
        };
        Some(view)
    }
}

async fn stop_tasks(tasks: &mut [TaskHandle], timeout: Duration) {
    for t in tasks.iter() {
        let _ = t.stop.send(true);
    }
    for t in tasks.iter_mut() {
        if let Some(thread) = t.thread.take() {
            let joined = tokio::task::spawn_blocking(move || thread.join());
            if tokio::time::timeout(timeout + Duration::from_secs(5), joined)
                .await
                .is_err()
            {
                tracing::warn!("a task did not stop within {timeout:?}; leaving it behind");
            }
        }
    }
}
