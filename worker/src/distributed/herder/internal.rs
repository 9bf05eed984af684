//! What workers ask of each other: the leader keeps a session key in the
//! config topic; a connector's owner hands its task configs to the leader,
//! which alone writes them, signed with that key; a task restart runs on
//! the worker that owns the task.

use std::time::{Duration, Instant};

use connect_api::Props;
use tokio::sync::oneshot;

use super::{now_ms, DistributedHerder, Leader, WRITE_WAIT};
use crate::distributed::executor::Executor;
use crate::distributed::protocol::TaskRef;
use crate::distributed::reconcile::Action;
use crate::distributed::records::ConfigRecord;
use crate::distributed::signing::{
    self, Refusal, Signature, ALGORITHM, ALGORITHM_HEADER, SIGNATURE_HEADER,
};
use crate::rest::client::{exchange, path_segment};
use crate::runtime::{WorkerError, CONFLICT, NO_LEADER};

/// How long handed-on task configs wait to be read back before they go again.
const REPUBLISH: Duration = Duration::from_secs(2);

impl DistributedHerder {
    /// Whether this generation's requests between workers are signed.
    fn sessioned(&self) -> bool {
        self.shared
            .lock()
            .protocol
            .is_some_and(|p| p.version() >= 2)
    }

    /// On the leader of a `sessioned` group: writes a new session key when
    /// there is none or the last one is older than `inter.worker.key.ttl.ms`.
    pub(super) async fn renew_session_key(&self) {
        let (leading, current) = {
            let s = self.shared.lock();
            (
                s.leader == Some(Leader::Here),
                s.snapshot.session_key.clone(),
            )
        };
        if !leading || !self.sessioned() {
            return;
        }
        let now = now_ms();
        let ttl = i64::try_from(self.settings.key_ttl.as_millis()).unwrap_or(i64::MAX);
        if current.is_some_and(|(_, _, created)| created.saturating_add(ttl) > now) {
            return;
        }
        let record = ConfigRecord::SessionKey {
            key: signing::generate(self.settings.key_bits),
            algorithm: ALGORITHM.into(),
            created_ms: now,
        };
        match self.write_config(&record).await {
            Ok(()) => {
                tracing::info!("wrote a new session key to the config topic");
                if let Err(e) = self.read_configs().await {
                    tracing::warn!("reading the config topic: {e:#}");
                }
            }
            Err(e) => tracing::warn!("writing the session key: {e}"),
        }
    }

    /// Has the task configs of a connector running here written: by
    /// itself when it leads, else by the leader.
    pub(super) async fn publish_task_configs(&self, connector: &str, configs: Vec<Props>) {
        if let Some((sent, at)) = self.published.lock().get(connector) {
            if *sent == configs && at.elapsed() < REPUBLISH {
                return;
            }
        }
        let leader = self.shared.lock().leader.clone();
        let result = match leader {
            Some(Leader::Here) => self
                .write_task_configs(connector, &configs)
                .await
                .map_err(|e| e.to_string()),
            Some(Leader::At(url)) => self.send_task_configs(&url, connector, &configs).await,
            _ => return,
        };
        if let Err(e) = result {
            tracing::warn!("[{connector}|worker] task configs not written: {e}");
        }
        self.published
            .lock()
            .insert(connector.to_string(), (configs, Instant::now()));
    }

    /// `POST /connectors/{name}/tasks` to the leader, signed when the group
    /// is sessioned. The request runs on its own task: the loop must keep
    /// heartbeating while a slow leader answers.
    async fn send_task_configs(
        &self,
        url: &str,
        connector: &str,
        configs: &[Props],
    ) -> Result<(), String> {
        let body = serde_json::to_vec(configs).map_err(|e| e.to_string())?;
        let mut headers = Vec::new();
        if self.sessioned() {
            let key = self.shared.lock().snapshot.session_key.clone();
            let Some((key, _, _)) = key else {
                return Err("no session key has been read from the config topic yet".into());
            };
            headers.push((SIGNATURE_HEADER.to_string(), signing::sign(&key, &body)?));
            headers.push((ALGORITHM_HEADER.to_string(), ALGORITHM.to_string()));
        }
        let path = format!("/connectors/{}/tasks", path_segment(connector));
        let (url, connector, n) = (url.to_string(), connector.to_string(), configs.len());
        tokio::spawn(async move {
            match exchange(&url, "POST", &path, &headers, &body, WRITE_WAIT).await {
                Ok(r) if (200..300).contains(&r.status) => tracing::info!(
                    "[{connector}|worker] handed {n} task config(s) to the leader at {url}"
                ),
                Ok(r) => tracing::warn!(
                    "[{connector}|worker] task configs not written: the leader at {url} answered {}: {}",
                    r.status,
                    String::from_utf8_lossy(&r.body)
                ),
                Err(e) => tracing::warn!(
                    "[{connector}|worker] task configs not written: the leader at {url}: {e:#}"
                ),
            }
        });
        Ok(())
    }

    /// Checks an internal request's signature when the group is sessioned.
    pub(super) fn check_signature(
        &self,
        body: &[u8],
        signature: &Signature,
    ) -> Result<(), WorkerError> {
        if !self.sessioned() {
            return Ok(());
        }
        let key = self.shared.lock().snapshot.session_key.clone();
        let Some((key, _, _)) = key else {
            return Err(WorkerError::Unavailable(
                "This worker has not read a session key from the config topic yet; try again shortly"
                    .into(),
            ));
        };
        signing::verify(&key, body, signature).map_err(|r| match r {
            Refusal::Invalid => WorkerError::Forbidden(r.to_string()),
            _ => WorkerError::BadRequest(r.to_string()),
        })
    }

    /// Restarts a task: here when it runs here, else says which worker must.
    pub(super) async fn restart_task_where_it_runs(&self, t: TaskRef) -> Result<(), WorkerError> {
        let (here, leader, owner) = {
            let s = self.shared.lock();
            (
                s.assigned.tasks.contains(&t),
                s.leader.clone(),
                s.owners.get(&t).cloned(),
            )
        };
        if here {
            let (tx, rx) = oneshot::channel();
            self.task_restarts.lock().push((t, tx));
            self.wake.notify_one();
            return match tokio::time::timeout(WRITE_WAIT, rx).await {
                Ok(Ok(r)) => r,
                _ => Err(WorkerError::Internal(
                    "Request timed out: the task was not restarted within 30 s".into(),
                )),
            };
        }
        match (leader, owner) {
            (Some(Leader::At(url)), _) | (Some(Leader::Here), Some(url)) => {
                Err(WorkerError::NotHere(url))
            }
            (Some(Leader::Here), None) => Err(WorkerError::Conflict(CONFLICT.into())),
            _ => Err(WorkerError::Conflict(NO_LEADER.into())),
        }
    }

    /// Stops the tasks REST asked to restart (the next reconciliation
    /// starts them again); returns whom to tell once that is done.
    pub(super) async fn stop_asked_restarts(
        &self,
        executor: &mut Executor,
    ) -> Vec<oneshot::Sender<Result<(), WorkerError>>> {
        let asked = std::mem::take(&mut *self.task_restarts.lock());
        if asked.is_empty() {
            return Vec::new();
        }
        let local = executor.local();
        let mut stops = Vec::new();
        let mut replies = Vec::new();
        for (t, reply) in asked {
            if local.tasks.contains_key(&t) {
                tracing::info!("[{}|task-{}] restarting as asked", t.connector, t.task);
                stops.push(Action::StopTask(t));
                replies.push(reply);
            } else {
                let _ = reply.send(Err(WorkerError::Conflict(CONFLICT.into())));
            }
        }
        executor.apply(stops).await;
        replies
    }
}
