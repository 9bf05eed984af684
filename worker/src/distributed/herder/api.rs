//! The REST API's view of a distributed worker: reads answered from the
//! topics every worker reads, writes turned into config-topic records.

use async_trait::async_trait;
use connect_api::{ConnectorKind, Props};
use serde_json::{json, Value as Json};

use super::{internal, state_of, DistributedHerder};
use crate::distributed::protocol::TaskRef;
use crate::distributed::records::{ConfigRecord, StatusKey};
use crate::distributed::signing::Signature;
use crate::runtime::config::plugin_of;
use crate::runtime::{
    ConnectorView, Created, Herder, Leader, OffsetChanges, RestartRequest, State, Status,
    TargetState, WorkerError, NO_LEADER,
};

impl DistributedHerder {
    fn view_of(&self, name: &str) -> Option<ConnectorView> {
        let shared = self.shared.lock();
        let config = shared.snapshot.connectors.get(name)?.clone();
        let kind = plugin_of(&config).map_or(ConnectorKind::Source, |p| p.kind());
        let status_of = |key: StatusKey| -> Status {
            match shared.statuses.get(&key.key()) {
                Some(s) => Status {
                    state: state_of(&s.state),
                    worker_id: s.worker_id.clone(),
                    trace: s.trace.clone(),
                },
                None => Status {
                    state: State::Unassigned,
                    worker_id: String::new(),
                    trace: None,
                },
            }
        };
        let mut status = status_of(StatusKey::Connector(name.into()));
        if shared.snapshot.target(name) == TargetState::Stopped {
            status.state = State::Stopped;
        }
        let tasks = shared
            .snapshot
            .tasks
            .get(name)
            .map(|ts| {
                ts.iter()
                    .enumerate()
                    .map(|(i, c)| {
                        (
                            i,
                            status_of(StatusKey::Task(name.into(), i as u32)),
                            c.clone(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(ConnectorView {
            name: name.into(),
            config,
            kind,
            status,
            tasks,
        })
    }
}

#[async_trait]
impl Herder for DistributedHerder {
    fn leader(&self) -> Leader {
        self.shared.lock().leader.clone().unwrap_or(Leader::Unknown)
    }

    async fn put_connector(
        &self,
        name: &str,
        mut props: Props,
        initial: TargetState,
        allow_replace: bool,
    ) -> Result<Created, WorkerError> {
        props.insert("name".into(), name.to_string());
        crate::runtime::accept(&self.spawner.settings, &props)?;
        self.read_configs().await.map_err(internal)?;
        let exists = self.shared.lock().snapshot.connectors.contains_key(name);
        if exists && !allow_replace {
            return Err(WorkerError::Conflict(format!(
                "Connector {name} already exists"
            )));
        }
        if !exists {
            // The target state goes first, so the connector starts in it.
            self.write_config(&ConfigRecord::Target {
                connector: name.into(),
                state: Some(initial),
            })
            .await?;
        }
        self.write_config(&ConfigRecord::Connector {
            name: name.into(),
            config: Some(props.clone()),
        })
        .await?;
        self.await_snapshot(|s| s.connectors.get(name) == Some(&props))
            .await?;
        Ok(Created(!exists))
    }

    async fn pause(&self, name: &str) -> Result<(), WorkerError> {
        self.exists(name).await?;
        self.write_config(&ConfigRecord::Target {
            connector: name.into(),
            state: Some(TargetState::Paused),
        })
        .await?;
        self.await_snapshot(|s| s.target(name) == TargetState::Paused)
            .await
    }

    async fn resume(&self, name: &str) -> Result<(), WorkerError> {
        self.exists(name).await?;
        self.write_config(&ConfigRecord::Target {
            connector: name.into(),
            state: Some(TargetState::Started),
        })
        .await?;
        self.await_snapshot(|s| s.target(name) == TargetState::Started)
            .await
    }

    async fn stop(&self, name: &str) -> Result<(), WorkerError> {
        self.exists(name).await?;
        // The target, then no tasks: a STOPPED connector keeps only its
        // config. In this order a worker that reads the empty task set
        // already knows the connector stopped, so it does not hand the
        // leader fresh task configs in between.
        self.write_config(&ConfigRecord::Target {
            connector: name.into(),
            state: Some(TargetState::Stopped),
        })
        .await?;
        self.write_config(&ConfigRecord::Commit {
            connector: name.into(),
            tasks: 0,
        })
        .await?;
        self.await_snapshot(|s| {
            s.target(name) == TargetState::Stopped && s.tasks.get(name).is_none_or(Vec::is_empty)
        })
        .await
    }

    async fn restart(&self, name: &str, req: RestartRequest) -> Result<(), WorkerError> {
        self.exists(name).await?;
        self.write_config(&ConfigRecord::Restart {
            connector: name.into(),
            include_tasks: req.include_tasks,
            only_failed: req.only_failed,
        })
        .await
    }

    async fn restart_task(&self, name: &str, task: usize) -> Result<(), WorkerError> {
        self.exists(name).await?;
        let known = self
            .shared
            .lock()
            .snapshot
            .tasks
            .get(name)
            .is_some_and(|t| task < t.len());
        if !known {
            return Err(WorkerError::NotFound(format!(
                "Task {name}-{task} not found"
            )));
        }
        let task = i32::try_from(task)
            .map_err(|_| WorkerError::NotFound(format!("Task {name}-{task} not found")))?;
        self.restart_task_where_it_runs(TaskRef::new(name, task))
            .await
    }

    async fn put_task_configs(
        &self,
        name: &str,
        configs: Vec<Props>,
        body: &[u8],
        signature: Signature,
    ) -> Result<(), WorkerError> {
        // The leader alone writes task configs, from signed requests.
        match self.leader() {
            Leader::Here => {}
            Leader::At(url) => return Err(WorkerError::NotHere(url)),
            Leader::Unknown => return Err(WorkerError::Conflict(NO_LEADER.into())),
        }
        self.read_configs().await.map_err(internal)?;
        self.check_signature(body, &signature)?;
        if !self.shared.lock().snapshot.connectors.contains_key(name) {
            return Err(WorkerError::NotFound(format!("Connector {name} not found")));
        }
        if self.shared.lock().snapshot.target(name) == TargetState::Stopped {
            // Generated before the stop was read: a STOPPED connector has no tasks.
            tracing::info!("[{name}|worker] ignoring task configs of a STOPPED connector");
            return Ok(());
        }
        self.write_task_configs(name, &configs).await
    }

    async fn delete(&self, name: &str) -> Result<Props, WorkerError> {
        self.exists(name).await?;
        let config = self
            .shared
            .lock()
            .snapshot
            .connectors
            .get(name)
            .cloned()
            .unwrap_or_default();
        let tasks = self
            .shared
            .lock()
            .snapshot
            .tasks
            .get(name)
            .map_or(0, Vec::len);
        self.write_config(&ConfigRecord::Connector {
            name: name.into(),
            config: None,
        })
        .await?;
        self.write_config(&ConfigRecord::Target {
            connector: name.into(),
            state: None,
        })
        .await?;
        // DESTROYED statuses are tombstones.
        let mut keys = vec![StatusKey::Connector(name.into()).key()];
        keys.extend((0..tasks).map(|i| StatusKey::Task(name.into(), i as u32).key()));
        for k in keys {
            let _ = self.status_log.send(&k, None).await;
        }
        // A deleted connector's active topics go with it.
        if let Err(e) = self.forget_topics(name).await {
            tracing::warn!("[{name}|worker] forgetting its topics: {e}");
        }
        self.await_snapshot(|s| !s.connectors.contains_key(name))
            .await?;
        Ok(config)
    }

    async fn names(&self) -> Vec<String> {
        let _ = self.read_configs().await;
        self.shared
            .lock()
            .snapshot
            .connectors
            .keys()
            .cloned()
            .collect()
    }

    async fn view(&self, name: &str) -> Option<ConnectorView> {
        if let Err(e) = self.read_statuses().await {
            tracing::warn!("reading the status topic: {e:#}");
        }
        self.view_of(name)
    }

    async fn views(&self, names: &[String]) -> Vec<ConnectorView> {
        if let Err(e) = self.read_statuses().await {
            tracing::warn!("reading the status topic: {e:#}");
        }
        names.iter().filter_map(|n| self.view_of(n)).collect()
    }

    async fn metrics(&self) -> String {
        let view = self.shared.lock().metrics.clone();
        view.render()
    }

    async fn topics(&self, name: &str) -> Result<Vec<String>, WorkerError> {
        self.exists(name).await?;
        self.active_topics(name).await
    }

    async fn reset_topics(&self, name: &str) -> Result<(), WorkerError> {
        self.exists(name).await?;
        self.forget_topics(name).await
    }

    async fn offsets(&self, name: &str) -> Result<Vec<Json>, WorkerError> {
        self.exists(name).await?;
        if self
            .view_of(name)
            .is_some_and(|v| v.kind == ConnectorKind::Sink)
        {
            return crate::runtime::sink_offsets(&self.settings.bootstrap_servers, name).await;
        }
        if let Err(e) = self.read_offsets().await {
            tracing::warn!("reading the offsets topic: {e:#}");
        }
        Ok(self
            .offsets
            .all_for(name)
            .into_iter()
            .filter_map(|(p, o)| o.map(|o| json!({"partition": p, "offset": o})))
            .collect())
    }

    async fn alter_offsets(
        &self,
        name: &str,
        changes: OffsetChanges,
    ) -> Result<String, WorkerError> {
        self.exists(name).await?;
        {
            // As Kafka Connect: STOPPED, and its tasks gone from the config topic.
            let shared = self.shared.lock();
            let tasks = shared.snapshot.tasks.get(name).map_or(0, Vec::len);
            if shared.snapshot.target(name) != TargetState::Stopped || tasks > 0 {
                return Err(crate::runtime::not_stopped(name, &changes));
            }
        }
        let kind = self.view_of(name).map_or(ConnectorKind::Source, |v| v.kind);
        if kind == ConnectorKind::Source {
            // Resets remove every partition known so far.
            self.read_offsets().await.map_err(internal)?;
        }
        crate::runtime::alter_offsets(
            &self.offsets,
            &self.settings.bootstrap_servers,
            name,
            kind,
            changes,
        )
        .await
    }
}
