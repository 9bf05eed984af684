//! Runs what reconciliation asks for on this worker: connector instances
//! and single tasks, each task on its own thread as in standalone mode.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use connect_api::{Connector, Props};
use parking_lot::Mutex;

use super::protocol::TaskRef;
use super::reconcile::{Action, Local};
use crate::providers::Providers;
use crate::runtime::config::{plugin_of, tasks_max};
use crate::runtime::metrics::{ConnectorSample, MetricsView};
use crate::runtime::{
    stop_tasks, validate, with_connector_keys, with_trouble, LogContext, State, Status, Target,
    TargetState, TaskHandle, TaskSpawner, Trouble,
};

struct Instance {
    connector: Box<dyn Connector>,
    /// As stored (placeholders kept) and as started (resolved).
    config: Props,
    resolved: Props,
    target: TargetState,
    status: Status,
    trouble: Trouble,
}

struct RunningTask {
    handle: TaskHandle,
    config: Props,
    target: TargetState,
}

/// The connectors and tasks this worker runs.
pub struct Executor {
    spawner: TaskSpawner,
    instances: BTreeMap<String, Instance>,
    /// Failed starts, kept to report their status.
    failed: BTreeMap<String, (Props, TargetState, Status)>,
    tasks: BTreeMap<TaskRef, RunningTask>,
    topics: BTreeMap<String, Arc<Mutex<BTreeSet<String>>>>,
}

fn control(target: TargetState) -> Target {
    match target {
        TargetState::Started => Target::Run,
        TargetState::Paused => Target::Pause,
        TargetState::Stopped => Target::Stop,
    }
}

impl Executor {
    pub(crate) fn new(spawner: TaskSpawner) -> Self {
        Executor {
            spawner,
            instances: BTreeMap::new(),
            failed: BTreeMap::new(),
            tasks: BTreeMap::new(),
            topics: BTreeMap::new(),
        }
    }

    /// What runs here, for the next reconciliation.
    pub fn local(&self) -> Local {
        let mut connectors: BTreeMap<String, (Props, TargetState)> = self
            .instances
            .iter()
            .map(|(n, i)| (n.clone(), (i.config.clone(), i.target)))
            .collect();
        for (n, (config, target, _)) in &self.failed {
            connectors.insert(n.clone(), (config.clone(), *target));
        }
        Local {
            connectors,
            tasks: self
                .tasks
                .iter()
                .map(|(t, r)| (t.clone(), (r.config.clone(), r.target)))
                .collect(),
        }
    }

    /// Carries out `actions` in order.
    pub async fn apply(&mut self, actions: Vec<Action>) {
        let mut actions = actions.into_iter().peekable();
        while let Some(action) = actions.next() {
            match action {
                Action::StopTask(first) => {
                    // A run of task stops is told to stop at once and then
                    // waited for, so hundreds of tasks (a rebalance, a
                    // shutdown) stop together rather than one by one.
                    let mut stopping = vec![first];
                    while let Some(Action::StopTask(t)) =
                        actions.next_if(|a| matches!(a, Action::StopTask(_)))
                    {
                        stopping.push(t);
                    }
                    let (refs, mut handles): (Vec<TaskRef>, Vec<_>) = stopping
                        .into_iter()
                        .filter_map(|t| self.tasks.remove(&t).map(|r| (t, r.handle)))
                        .unzip();
                    stop_tasks(&mut handles, self.spawner.settings.shutdown_timeout).await;
                    for t in refs {
                        tracing::info!(
                            "[{}|task-{}] stopped (no longer assigned here)",
                            t.connector,
                            t.task
                        );
                    }
                }
                Action::StopConnector(name) => {
                    self.failed.remove(&name);
                    if let Some(mut i) = self.instances.remove(&name) {
                        if let Err(e) = i.connector.stop().await {
                            tracing::warn!("[{name}|worker] connector stop failed: {e}");
                        }
                    }
                }
                Action::StartConnector {
                    name,
                    config,
                    target,
                } => self.start_connector(name, config, target).await,
                Action::TargetConnector { name, target } => {
                    if let Some(i) = self.instances.get_mut(&name) {
                        i.target = target;
                        i.status = self.spawner.status(running_state(target), None);
                    }
                }
                Action::StartTask {
                    task,
                    config,
                    target,
                } => self.start_task(task, config, target),
                Action::TargetTask { task, target } => {
                    if let Some(r) = self.tasks.get_mut(&task) {
                        r.target = target;
                        let _ = r.handle.control.send(control(target));
                    }
                }
            }
        }
    }

    async fn start_connector(&mut self, name: String, config: Props, target: TargetState) {
        let fail = |this: &mut Self, e: String| {
            tracing::error!("[{name}|worker] connector failed to start: {e}");
            let status = this.spawner.status(State::Failed, Some(e));
            this.failed
                .insert(name.clone(), (config.clone(), target, status));
        };
        let resolved = match self.spawner.settings.providers.resolve(&config) {
            Ok(r) => r,
            Err(e) => return fail(self, e),
        };
        let plugin = match validate(&resolved) {
            Ok(p) => p,
            Err(e) => return fail(self, e.to_string()),
        };
        // This worker's own policy, whoever accepted the config.
        let refused = self.spawner.settings.local.check(&plugin, &resolved);
        if !refused.is_empty() {
            return fail(self, crate::runtime::Rejected(refused).to_string());
        }
        let mut connector = (plugin.new_connector)();
        let trouble = Trouble::default();
        let context = Arc::new(LogContext {
            name: name.clone(),
            reconfigure: None,
            trouble: trouble.clone(),
        });
        if let Err(e) = connector.start(&resolved, context).await {
            return fail(self, e.to_string());
        }
        self.failed.remove(&name);
        tracing::info!("[{name}|worker] connector started");
        let status = self.spawner.status(running_state(target), None);
        self.instances.insert(
            name,
            Instance {
                connector,
                config,
                resolved,
                target,
                status,
                trouble,
            },
        );
    }

    fn start_task(&mut self, task: TaskRef, config: Props, target: TargetState) {
        let resolved = self
            .spawner
            .settings
            .providers
            .resolve(&config)
            .unwrap_or_else(|_| config.clone());
        let plugin = plugin_of(&config);
        let n = usize::try_from(task.task).unwrap_or(0);
        let Some(plugin) = plugin else {
            tracing::error!(
                "[{}|task-{n}] the task config names no known connector.class",
                task.connector
            );
            return;
        };
        let topics = self
            .topics
            .entry(task.connector.clone())
            .or_default()
            .clone();
        let handle = self.spawner.spawn(
            &task.connector,
            n,
            (resolved, config.clone()),
            plugin.tasks,
            topics,
            target == TargetState::Paused,
        );
        self.tasks.insert(
            task,
            RunningTask {
                handle,
                config,
                target,
            },
        );
    }

    /// The task configs of a connector running here, as stored: the
    /// connector's config (placeholders kept) under each task's own keys.
    pub fn task_configs(&self, name: &str) -> Option<Result<Vec<Props>, String>> {
        let i = self.instances.get(name)?;
        Some(
            i.connector
                .task_configs(tasks_max(&i.resolved))
                .map(|configs| {
                    with_connector_keys(configs, &i.resolved)
                        .iter()
                        .map(|tc| Providers::hide_resolved(&i.config, &i.resolved, tc))
                        .collect()
                })
                .map_err(|e| e.to_string()),
        )
    }

    /// `(connector, task, topic)` for each topic a connector's tasks here
    /// used, with the lowest of its tasks running here.
    pub fn topics_in_use(&self) -> Vec<(String, u32, String)> {
        let mut out = Vec::new();
        for (c, set) in &self.topics {
            let task = self
                .tasks
                .keys()
                .filter(|t| &t.connector == c)
                .map(|t| u32::try_from(t.task).unwrap_or(0))
                .min()
                .unwrap_or(0);
            out.extend(set.lock().iter().map(|t| (c.clone(), task, t.clone())));
        }
        out
    }

    /// Forgets that a connector used `topic`; its tasks record it again when they next use it.
    pub fn forget_topic(&self, connector: &str, topic: &str) {
        if let Some(set) = self.topics.get(connector) {
            set.lock().remove(topic);
        }
    }

    /// What `/metrics` shows of this worker's work.
    pub fn metrics_view(&self) -> MetricsView {
        let mut by_name: BTreeMap<String, ConnectorSample> = BTreeMap::new();
        let running = self
            .instances
            .iter()
            .map(|(n, i)| (n, &i.config, i.status.state));
        let failed = self.failed.iter().map(|(n, (c, _, s))| (n, c, s.state));
        for (name, config, state) in running.chain(failed) {
            if let Some(plugin) = plugin_of(config) {
                by_name.insert(
                    name.clone(),
                    ConnectorSample {
                        name: name.clone(),
                        status: Some(state),
                        plugin,
                        tasks: Vec::new(),
                    },
                );
            }
        }
        for (t, r) in &self.tasks {
            let Some(plugin) = plugin_of(&r.config) else {
                continue;
            };
            by_name
                .entry(t.connector.clone())
                .or_insert_with(|| ConnectorSample {
                    name: t.connector.clone(),
                    status: None,
                    plugin,
                    tasks: Vec::new(),
                })
                .tasks
                .push((
                    usize::try_from(t.task).unwrap_or(0),
                    r.handle.status.clone(),
                    r.handle.metrics.clone(),
                ));
        }
        MetricsView {
            counts: self.spawner.counts.clone(),
            connectors: by_name.into_values().collect(),
            channel_sizes: Default::default(),
        }
    }

    /// Statuses of what runs (or failed to start) here.
    pub fn statuses(&self) -> (BTreeMap<String, Status>, BTreeMap<TaskRef, Status>) {
        let mut connectors: BTreeMap<String, Status> = self
            .instances
            .iter()
            .map(|(n, i)| (n.clone(), with_trouble(i.status.clone(), &i.trouble)))
            .collect();
        for (n, (_, _, s)) in &self.failed {
            connectors.insert(n.clone(), s.clone());
        }
        let tasks = self
            .tasks
            .iter()
            .map(|(t, r)| (t.clone(), r.handle.status.lock().clone()))
            .collect();
        (connectors, tasks)
    }

    /// Stops everything.
    pub async fn shutdown(&mut self) {
        let actions = self
            .tasks
            .keys()
            .cloned()
            .map(Action::StopTask)
            .chain(self.instances.keys().cloned().map(Action::StopConnector))
            .collect();
        self.apply(actions).await;
        self.failed.clear();
    }
}

fn running_state(target: TargetState) -> State {
    match target {
        TargetState::Paused => State::Paused,
        TargetState::Stopped => State::Stopped,
        TargetState::Started => State::Running,
    }
}
