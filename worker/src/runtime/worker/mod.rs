//! `Worker`: creates, reconfigures, pauses, resumes, stops, restarts and
//! deletes connectors, and reads and changes their offsets.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use connect_api::{Connector, ConnectorKind, Plugin, Props, TaskFactory};
use parking_lot::Mutex;
use tokio::sync::watch;

mod context;
mod offsets;

pub(crate) use context::{with_trouble, LogContext, Trouble};
pub(crate) use offsets::{alter_offsets, not_stopped, sink_offsets};

use super::config::{check_connector, find_plugin, tasks_max, WorkerSettings};
use super::metrics::{ConnectorSample, MetricsView, TaskMetrics, WorkerMetrics};
use super::{sink, source, State, Status, Target, TaskEnv, TaskId};
use crate::providers::Providers;
use crate::store::OffsetStore;

/// Kafka Connect's target states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetState {
    Started,
    Paused,
    Stopped,
}

/// Whether a put created the connector (201) or updated it (200).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Created(pub bool);

/// `POST /connectors/{c}/restart` flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct RestartRequest {
    pub include_tasks: bool,
    pub only_failed: bool,
}

/// Failures of worker operations, as the REST API reports them.
#[derive(Debug)]
pub enum WorkerError {
    NotFound(String),
    Conflict(String),
    BadRequest(String),
    Internal(String),
    /// 403: an internal request whose signature does not verify.
    Forbidden(String),
    /// 503: cannot be done yet (no session key read so far, say).
    Unavailable(String),
    /// Another worker must handle this request: the one at this URL.
    NotHere(String),
}

impl fmt::Display for WorkerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkerError::NotFound(m)
            | WorkerError::Conflict(m)
            | WorkerError::BadRequest(m)
            | WorkerError::Internal(m)
            | WorkerError::Forbidden(m)
            | WorkerError::Unavailable(m) => f.write_str(m),
            WorkerError::NotHere(url) => write!(f, "only the worker at {url} can do this"),
        }
    }
}

impl std::error::Error for WorkerError {}

fn not_found(name: &str) -> WorkerError {
    WorkerError::NotFound(format!("Connector {name} not found"))
}

/// Why a connector config was refused: one message per problem, by key.
#[derive(Debug)]
pub struct Rejected(pub Vec<(String, String)>);

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msgs: Vec<&str> = self.0.iter().map(|(_, m)| m.as_str()).collect();
        write!(
            f,
            "Connector configuration is invalid and contains the following {} error(s):\n{}\nYou can also find the above list of errors at the endpoint `/connector-plugins/{{connectorType}}/config/validate`",
            msgs.len(),
            msgs.join("\n")
        )
    }
}

impl std::error::Error for Rejected {}

/// A connector config as a REST write gives it (with its `name`): its
/// placeholders resolve with the worker's providers and it validates.
pub(crate) fn accept(settings: &WorkerSettings, props: &Props) -> Result<Plugin, WorkerError> {
    let resolved = settings
        .providers
        .resolve(props)
        .map_err(WorkerError::BadRequest)?;
    let plugin = validate(&resolved).map_err(|r| WorkerError::BadRequest(r.to_string()))?;
    let refused = settings.local.check(&plugin, &resolved);
    if !refused.is_empty() {
        return Err(WorkerError::BadRequest(Rejected(refused).to_string()));
    }
    Ok(plugin)
}

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

/// A running task: its thread, status, metrics and control channel.
pub(crate) struct TaskHandle {
    pub(crate) status: Arc<Mutex<Status>>,
    pub(crate) metrics: Arc<TaskMetrics>,
    pub(crate) control: watch::Sender<Target>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// The task's config with provider placeholders resolved.
    props: Props,
    /// The same config as users see it (placeholders kept).
    pub(crate) shown: Props,
}

/// What starting a task thread needs; shared by the standalone worker and
/// a distributed worker's executor.
#[derive(Clone)]
pub(crate) struct TaskSpawner {
    pub(crate) settings: Arc<WorkerSettings>,
    pub(crate) offsets: Arc<OffsetStore>,
    pub(crate) counts: Arc<WorkerMetrics>,
}

impl TaskSpawner {
    pub(crate) fn status(&self, state: State, trace: Option<String>) -> Status {
        Status {
            state,
            worker_id: self.settings.worker_id.clone(),
            trace,
        }
    }

    /// Starts task `n` of `connector` on a thread of its own.
    pub(crate) fn spawn(
        &self,
        connector: &str,
        n: usize,
        (props, shown): (Props, Props),
        factory: TaskFactory,
        topics: Arc<Mutex<BTreeSet<String>>>,
        paused: bool,
    ) -> TaskHandle {
        let initial = if paused { Target::Pause } else { Target::Run };
        let (control_tx, control_rx) = watch::channel(initial);
        let status = Arc::new(Mutex::new(self.status(State::Unassigned, None)));
        let metrics = Arc::new(TaskMetrics::default());
        self.counts
            .task_startup_attempts
            .fetch_add(1, Ordering::Relaxed);
        let env = TaskEnv {
            id: TaskId {
                connector: connector.to_string(),
                task: n,
            },
            props: props.clone(),
            worker: self.settings.clone(),
            offsets: self.offsets.clone(),
            control: control_rx,
            topics,
            metrics: metrics.clone(),
            counts: self.counts.clone(),
            status: status.clone(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("task-{connector}-{n}"))
            .spawn(move || run_task(env, factory));
        let thread = match thread {
            Ok(t) => Some(t),
            Err(e) => {
                *status.lock() =
                    self.status(State::Failed, Some(format!("cannot start a thread: {e}")));
                self.counts
                    .task_startup_failure
                    .fetch_add(1, Ordering::Relaxed);
                None
            }
        };
        TaskHandle {
            status,
            metrics,
            control: control_tx,
            thread,
            props,
            shown,
        }
    }
}

struct RunningConnector {
    config: Props,
    plugin: Plugin,
    target: TargetState,
    status: Arc<Mutex<Status>>,
    trouble: Trouble,
    connector: Option<Box<dyn Connector>>,
    tasks: Vec<TaskHandle>,
    topics: Arc<Mutex<BTreeSet<String>>>,
}

/// A connector as the REST API shows it.
#[derive(Debug, Clone)]
pub struct ConnectorView {
    pub name: String,
    pub config: Props,
    pub kind: ConnectorKind,
    pub status: Status,
    pub tasks: Vec<(usize, Status, Props)>,
}

/// The connectors of one worker.
pub struct Worker {
    pub settings: Arc<WorkerSettings>,
    pub offsets: Arc<OffsetStore>,
    connectors: tokio::sync::Mutex<BTreeMap<String, RunningConnector>>,
    counts: Arc<WorkerMetrics>,
    /// Connectors that asked for their tasks to be reconfigured (a JDBC
    /// source that found a new table), for [`Worker::reconfigure_on_request`].
    reconfigure: tokio::sync::mpsc::UnboundedSender<String>,
    requests: Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<String>>>,
}

/// Task configs with the connector's own keys added where a task's config
/// lacks them, as tasks are started with.
pub(crate) fn with_connector_keys(configs: Vec<Props>, connector: &Props) -> Vec<Props> {
    configs
        .into_iter()
        .map(|mut tc| {
            for (k, v) in connector {
                tc.entry(k.clone()).or_insert_with(|| v.clone());
            }
            tc
        })
        .collect()
}

impl Worker {
    pub fn new(settings: WorkerSettings, offsets: Arc<OffsetStore>) -> Self {
        let (reconfigure, requests) = tokio::sync::mpsc::unbounded_channel();
        Self {
            settings: Arc::new(settings),
            offsets,
            connectors: tokio::sync::Mutex::new(BTreeMap::new()),
            counts: Arc::new(WorkerMetrics::default()),
            reconfigure,
            requests: Mutex::new(Some(requests)),
        }
    }

    /// The context of a connector about to start, with a new trouble in
    /// `trouble` (the instance before may still say so).
    fn context(&self, name: &str, trouble: &mut Trouble) -> Arc<LogContext> {
        *trouble = Trouble::default();
        Arc::new(LogContext {
            name: name.to_string(),
            reconfigure: Some(self.reconfigure.clone()),
            trouble: trouble.clone(),
        })
    }

    /// Serves connectors' requests for task reconfiguration until the
    /// worker is dropped, as Kafka Connect's standalone herder does: the
    /// connector is asked for its task configs again and, when they
    /// changed, its tasks are stopped and started with the new ones.
    pub fn reconfigure_on_request(self: &Arc<Self>) {
        let Some(mut rx) = self.requests.lock().take() else {
            return;
        };
        let worker = Arc::downgrade(self);
        tokio::spawn(async move {
            while let Some(name) = rx.recv().await {
                let Some(w) = worker.upgrade() else { return };
                w.update_tasks(&name).await;
            }
        });
    }

    /// Restarts a connector's tasks with the configs it gives now, if they
    /// differ from those its tasks run with.
    async fn update_tasks(&self, name: &str) {
        let mut connectors = self.connectors.lock().await;
        let Some(rc) = connectors.get_mut(name) else {
            return;
        };
        let Some(connector) = rc.connector.as_ref() else {
            return;
        };
        let resolved = match self.settings.providers.resolve(&rc.config) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("[{name}|worker] not reconfiguring the tasks: {e}");
                return;
            }
        };
        let configs = match connector.task_configs(tasks_max(&resolved)) {
            Ok(c) => with_connector_keys(c, &resolved),
            Err(e) => {
                tracing::warn!("[{name}|worker] not reconfiguring the tasks: {e}");
                return;
            }
        };
        if configs.len() == rc.tasks.len()
            && configs.iter().zip(&rc.tasks).all(|(c, t)| *c == t.props)
        {
            return;
        }
        tracing::info!(
            "[{name}|worker] task configs changed: restarting {} task(s) as {}",
            rc.tasks.len(),
            configs.len()
        );
        stop_tasks(&mut rc.tasks, self.settings.shutdown_timeout).await;
        rc.tasks.clear();
        self.start_tasks(name, rc, configs, &resolved);
    }

    /// Starts tasks with these configs (each with the connector's keys).
    fn start_tasks(
        &self,
        name: &str,
        rc: &mut RunningConnector,
        configs: Vec<Props>,
        resolved: &Props,
    ) {
        let paused = rc.target == TargetState::Paused;
        for (i, tc) in configs.into_iter().enumerate() {
            let shown = Providers::hide_resolved(&rc.config, resolved, &tc);
            let t = self.spawn_task(
                name,
                i,
                (tc, shown),
                rc.plugin.tasks,
                rc.topics.clone(),
                paused,
            );
            rc.tasks.push(t);
        }
    }

    fn status(&self, state: State, trace: Option<String>) -> Status {
        self.spawner().status(state, trace)
    }

    /// Creates connector `name`, or replaces its config when `allow_replace`.
    pub async fn put_connector(
        &self,
        name: &str,
        mut props: Props,
        initial: TargetState,
        allow_replace: bool,
    ) -> Result<Created, WorkerError> {
        props.insert("name".into(), name.to_string());
        let plugin = accept(&self.settings, &props)?;
        let mut connectors = self.connectors.lock().await;
        let (target, created) = match connectors.remove(name) {
            Some(mut old) if allow_replace => {
                self.halt(&mut old).await;
                (old.target, false)
            }
            Some(old) => {
                connectors.insert(name.to_string(), old);
                return Err(WorkerError::Conflict(format!(
                    "Connector {name} already exists"
                )));
            }
            None => (initial, true),
        };
        let mut rc = RunningConnector {
            config: props,
            plugin,
            target,
            status: Arc::new(Mutex::new(self.status(State::Unassigned, None))),
            trouble: Trouble::default(),
            connector: None,
            tasks: Vec::new(),
            topics: Arc::new(Mutex::new(BTreeSet::new())),
        };
        self.launch(name, &mut rc).await;
        connectors.insert(name.to_string(), rc);
        Ok(Created(created))
    }

    /// Starts the connector and its tasks as its target state says.
    async fn launch(&self, name: &str, rc: &mut RunningConnector) {
        if rc.target == TargetState::Stopped {
            *rc.status.lock() = self.status(State::Stopped, None);
            return;
        }
        let counts = &self.counts;
        counts
            .connector_startup_attempts
            .fetch_add(1, Ordering::Relaxed);
        let resolved = match self.settings.providers.resolve(&rc.config) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("[{name}|worker] {e}");
                *rc.status.lock() = self.status(State::Failed, Some(e));
                counts
                    .connector_startup_failure
                    .fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        let mut connector = (rc.plugin.new_connector)();
        let context = self.context(name, &mut rc.trouble);
        let started = connector.start(&resolved, context).await;
        match started.and_then(|_| connector.task_configs(tasks_max(&resolved))) {
            Ok(task_configs) => {
                let state = if rc.target == TargetState::Paused {
                    State::Paused
                } else {
                    State::Running
                };
                *rc.status.lock() = self.status(state, None);
                counts
                    .connector_startup_success
                    .fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    "[{name}|worker] connector started with {} task(s)",
                    task_configs.len()
                );
                let configs = with_connector_keys(task_configs, &resolved);
                self.start_tasks(name, rc, configs, &resolved);
                rc.connector = Some(connector);
            }
            Err(e) => {
                tracing::error!("[{name}|worker] connector failed to start: {e}");
                *rc.status.lock() = self.status(State::Failed, Some(e.to_string()));
                counts
                    .connector_startup_failure
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn spawn_task(
        &self,
        connector: &str,
        n: usize,
        props: (Props, Props),
        factory: TaskFactory,
        topics: Arc<Mutex<BTreeSet<String>>>,
        paused: bool,
    ) -> TaskHandle {
        self.spawner()
            .spawn(connector, n, props, factory, topics, paused)
    }

    /// What starting tasks on this worker needs.
    pub(crate) fn spawner(&self) -> TaskSpawner {
        TaskSpawner {
            settings: self.settings.clone(),
            offsets: self.offsets.clone(),
            counts: self.counts.clone(),
        }
    }

    /// Stops the tasks (each within the graceful timeout) and the connector.
    async fn halt(&self, rc: &mut RunningConnector) {
        stop_tasks(&mut rc.tasks, self.settings.shutdown_timeout).await;
        rc.tasks.clear();
        if let Some(mut c) = rc.connector.take() {
            if let Err(e) = c.stop().await {
                tracing::warn!("connector stop failed: {e}");
            }
        }
    }

    async fn with<T>(
        &self,
        name: &str,
        f: impl AsyncFnOnce(&Self, &mut RunningConnector) -> T,
    ) -> Result<T, WorkerError> {
        let mut connectors = self.connectors.lock().await;
        let rc = connectors.get_mut(name).ok_or_else(|| not_found(name))?;
        Ok(f(self, rc).await)
    }

    /// PAUSED: tasks stop working but keep their resources.
    pub async fn pause(&self, name: &str) -> Result<(), WorkerError> {
        self.with(name, async |w: &Self, rc: &mut RunningConnector| {
            rc.target = TargetState::Paused;
            if rc.connector.is_some() {
                *rc.status.lock() = w.status(State::Paused, None);
            }
            for t in &rc.tasks {
                let _ = t.control.send(Target::Pause);
            }
            tracing::info!("[{name}|worker] paused");
        })
        .await
    }

    /// Resumes a PAUSED or STOPPED connector.
    pub async fn resume(&self, name: &str) -> Result<(), WorkerError> {
        self.with(name, async |w: &Self, rc: &mut RunningConnector| {
            let was = rc.target;
            rc.target = TargetState::Started;
            if was == TargetState::Stopped || rc.connector.is_none() {
                w.halt(rc).await;
                w.launch(name, rc).await;
            } else {
                *rc.status.lock() = w.status(State::Running, None);
                for t in &rc.tasks {
                    let _ = t.control.send(Target::Run);
                }
            }
            tracing::info!("[{name}|worker] resumed");
        })
        .await
    }

    /// STOPPED: tasks shut down, the connector stopped, the config kept.
    pub async fn stop(&self, name: &str) -> Result<(), WorkerError> {
        self.with(name, async |w: &Self, rc: &mut RunningConnector| {
            w.halt(rc).await;
            rc.target = TargetState::Stopped;
            *rc.status.lock() = w.status(State::Stopped, None);
            tracing::info!("[{name}|worker] stopped");
        })
        .await
    }

    /// Restarts the connector, and with `include_tasks` its (failed) tasks.
    pub async fn restart(&self, name: &str, req: RestartRequest) -> Result<(), WorkerError> {
        self.with(name, async |w: &Self, rc: &mut RunningConnector| {
            let failed = rc.status.lock().state == State::Failed;
            let any_task_failed = rc
                .tasks
                .iter()
                .any(|t| t.status.lock().state == State::Failed);
            let restart_connector = !req.only_failed || failed;
            if req.include_tasks && (!req.only_failed || any_task_failed || failed) {
                w.halt(rc).await;
                w.launch(name, rc).await;
            } else if restart_connector && rc.target != TargetState::Stopped {
                if let Some(mut c) = rc.connector.take() {
                    let _ = c.stop().await;
                }
                let mut c = (rc.plugin.new_connector)();
                let resolved = w
                    .settings
                    .providers
                    .resolve(&rc.config)
                    .unwrap_or_else(|_| rc.config.clone());
                match c.start(&resolved, w.context(name, &mut rc.trouble)).await {
                    Ok(()) => {
                        rc.connector = Some(c);
                        let state = if rc.target == TargetState::Paused {
                            State::Paused
                        } else {
                            State::Running
                        };
                        *rc.status.lock() = w.status(state, None);
                    }
                    Err(e) => *rc.status.lock() = w.status(State::Failed, Some(e.to_string())),
                }
            }
            tracing::info!("[{name}|worker] restarted");
        })
        .await
    }

    /// Restarts one task.
    pub async fn restart_task(&self, name: &str, task: usize) -> Result<(), WorkerError> {
        let mut connectors = self.connectors.lock().await;
        let rc = connectors.get_mut(name).ok_or_else(|| not_found(name))?;
        if task >= rc.tasks.len() {
            return Err(WorkerError::NotFound(format!(
                "Task {name}-{task} not found"
            )));
        }
        let mut old = rc.tasks.remove(task);
        stop_tasks(
            std::slice::from_mut(&mut old),
            self.settings.shutdown_timeout,
        )
        .await;
        let paused = rc.target == TargetState::Paused;
        let t = self.spawn_task(
            name,
            task,
            (old.props, old.shown),
            rc.plugin.tasks,
            rc.topics.clone(),
            paused,
        );
        rc.tasks.insert(task, t);
        Ok(())
    }

    /// Stops and forgets a connector.
    pub async fn delete(&self, name: &str) -> Result<Props, WorkerError> {
        let mut rc = self
            .connectors
            .lock()
            .await
            .remove(name)
            .ok_or_else(|| not_found(name))?;
        self.halt(&mut rc).await;
        tracing::info!("[{name}|worker] deleted");
        Ok(rc.config)
    }

    /// Stops every connector.
    pub async fn shutdown(&self) {
        let mut connectors = self.connectors.lock().await;
        for (name, rc) in connectors.iter_mut() {
            self.halt(rc).await;
            tracing::info!("[{name}|worker] connector stopped");
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
        let status = with_trouble(c.status.lock().clone(), &c.trouble);
        let tasks = c
            .tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (i, t.status.lock().clone(), t.shown.clone()))
            .collect();
        Some(ConnectorView {
            name: name.to_string(),
            config: c.config.clone(),
            kind: c.plugin.kind(),
            status,
            tasks,
        })
    }

    /// Kafka Connect's worker, connector and task metrics in Prometheus text.
    pub async fn metrics(&self) -> String {
        let connectors = self.connectors.lock().await;
        let mut view = MetricsView {
            counts: self.counts.clone(),
            connectors: connectors
                .iter()
                .map(|(name, c)| ConnectorSample {
                    name: name.clone(),
                    status: Some(c.status.lock().state),
                    plugin: c.plugin,
                    tasks: c
                        .tasks
                        .iter()
                        .enumerate()
                        .map(|(i, t)| (i, t.status.clone(), t.metrics.clone()))
                        .collect(),
                })
                .collect(),
            channel_sizes: Default::default(),
        };
        drop(connectors);
        view.channel_sizes = crate::runtime::channel_size::channel_sizes(
            &self.settings.bootstrap_servers,
            crate::runtime::metrics::flume_channels(),
            &view.connectors,
        )
        .await;
        view.render()
    }

    /// Topics the connector has used since it was created or reset.
    pub async fn topics(&self, name: &str) -> Result<Vec<String>, WorkerError> {
        self.with(name, async |_: &Self, rc: &mut RunningConnector| {
            rc.topics.lock().iter().cloned().collect()
        })
        .await
    }

    pub async fn reset_topics(&self, name: &str) -> Result<(), WorkerError> {
        self.with(name, async |_: &Self, rc: &mut RunningConnector| {
            rc.topics.lock().clear()
        })
        .await
    }
}

fn run_task(env: TaskEnv, factory: TaskFactory) {
    crate::logging::set_thread_context(format!("{} ", env.id));
    let status = env.status.clone();
    let (metrics, counts) = (env.metrics.clone(), env.counts.clone());
    // File I/O runs on the runtime's blocking threads; an idle task keeps
    // none of them for long.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_keep_alive(std::time::Duration::from_secs(1))
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
            tracing::info!("stopped");
            s.state = State::Unassigned;
        }
        Err(e) => {
            tracing::error!("failed: {e:#}");
            s.state = State::Failed;
            s.trace = Some(format!("{e:#}"));
            metrics.error();
            if !metrics.started.load(Ordering::Relaxed) {
                counts.task_startup_failure.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    metrics.state(s.state);
}

/// Stops tasks, each within `timeout` (plus a margin) or left behind.
pub(crate) async fn stop_tasks(tasks: &mut [TaskHandle], timeout: Duration) {
    for t in tasks.iter() {
        let _ = t.control.send(Target::Stop);
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
