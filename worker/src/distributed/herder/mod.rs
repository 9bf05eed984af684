//! The distributed herder: keeps this worker's view of the config and
//! status topics, takes part in the group (leading it when chosen), runs
//! its share of the work, and answers the REST API from the shared state.
//!
//! One loop owns the membership and the executor. REST calls write records
//! to the config topic and wake the loop; every worker reads the topics,
//! so any of them answers reads the same way.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use connect_api::Props;
use parking_lot::Mutex;
use tokio::sync::Notify;

mod api;
mod internal;
mod reads;
mod tracking;

use super::assign::{assign, AssignorState};
use super::config::DistributedSettings;
use super::executor::Executor;
use super::member::{Beat, GroupMember, Joined};
use super::protocol::{Assignment, Protocol, TaskRef, Work, WorkerState, NO_ERROR};
use super::reconcile::{plan, task_configs_changed, Action};
use super::records::{ConfigRecord, StatusKey, StatusRecord};
use super::snapshot::{ConfigSnapshot, Event};
use super::topics::TopicLog;
use crate::runtime::{Leader, State, Status, TargetState, TaskSpawner, WorkerError};
use crate::store::OffsetStore;
use reads::Reads;

/// How long a REST write waits for its record to come back from the topic.
const WRITE_WAIT: Duration = Duration::from_secs(30);
/// How long the loop sleeps when nothing wakes it and the last round had
/// work to do; each round with nothing to do doubles the sleep up to
/// `IDLE_TICK`, so that an idle worker with a thousand connectors does
/// not rebuild its view of them ten times a second. A REST request, a
/// heartbeat or a rejoin that falls due ends the sleep early.
const TICK: Duration = Duration::from_millis(100);
const IDLE_TICK: Duration = Duration::from_secs(1);

/// How often a follower heartbeats while its leader's scheduled rebalance
/// is due.
const FAST_BEAT: Duration = Duration::from_millis(100);

/// What every part of the herder reads.
#[derive(Default)]
struct Shared {
    snapshot: ConfigSnapshot,
    statuses: BTreeMap<String, StatusRecord>,
    generation: i32,
    leader: Option<Leader>,
    /// The sub-protocol of this generation.
    protocol: Option<Protocol>,
    /// What this worker runs.
    assigned: Work,
    /// On the leader: each task's owner's URL.
    owners: BTreeMap<TaskRef, String>,
    /// Topics each connector used, from the status topic.
    topics: BTreeMap<String, std::collections::BTreeSet<String>>,
    /// Whether the config topic was read to its end once.
    caught_up: bool,
    /// Config topic events waiting for the loop.
    events: Vec<Event>,
    /// What `/metrics` shows, as of the last reconciliation.
    metrics: crate::runtime::metrics::MetricsView,
}

/// A task restart asked of this worker through REST, carried out by the loop.
type TaskRestart = (
    TaskRef,
    tokio::sync::oneshot::Sender<Result<(), WorkerError>>,
);

/// The internal topics a herder reads and writes.
pub struct Logs {
    pub config: TopicLog,
    pub status: TopicLog,
    pub offsets: TopicLog,
}

pub struct DistributedHerder {
    settings: DistributedSettings,
    spawner: TaskSpawner,
    config_log: Arc<TopicLog>,
    status_log: Arc<TopicLog>,
    offsets_log: Arc<TopicLog>,
    offsets: Arc<OffsetStore>,
    shared: Mutex<Shared>,
    /// Readers of the config and status topics.
    reading: Reads,
    reading_statuses: Reads,
    wake: Notify,
    stopping: AtomicBool,
    worker_id: String,
    /// FAILED tasks waiting for an automatic restart: attempts so far, when
    /// the next restart is due, and when the last one happened.
    retries: Mutex<BTreeMap<TaskRef, Retry>>,
    task_restarts: Mutex<Vec<TaskRestart>>,
    /// Task configs handed on for writing, and when, so they go once.
    published: Mutex<BTreeMap<String, (Vec<Props>, Instant)>>,
    tracked: Mutex<tracking::Tracked>,
}

#[derive(Debug, Clone, Copy)]
struct Retry {
    attempts: u32,
    due: Instant,
    restarted: Option<Instant>,
}

/// The wait before automatic restart `attempt` (from 0): 1 s doubling, at most `max`.
pub fn restart_backoff(attempt: u32, max: Duration) -> Duration {
    Duration::from_secs(1u64 << attempt.min(20)).min(max)
}

/// Kafka Connect's putSafe rule: a worker may overwrite a status it wrote
/// itself, or one written in its own or an earlier generation.
fn may_write(existing: Option<&StatusRecord>, worker_id: &str, generation: i32) -> bool {
    existing.is_none_or(|e| e.worker_id == worker_id || e.generation <= generation)
}

/// Wall-clock milliseconds, as Kafka's timestamps.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn internal(e: impl std::fmt::Display) -> WorkerError {
    WorkerError::Internal(e.to_string())
}

fn state_text(s: State) -> &'static str {
    match s {
        State::Unassigned => "UNASSIGNED",
        State::Running => "RUNNING",
        State::Paused => "PAUSED",
        State::Failed => "FAILED",
        State::Restarting => "RESTARTING",
        State::Stopped => "STOPPED",
    }
}

fn state_of(text: &str) -> State {
    match text {
        "RUNNING" => State::Running,
        "PAUSED" => State::Paused,
        "FAILED" => State::Failed,
        "RESTARTING" => State::Restarting,
        "STOPPED" => State::Stopped,
        _ => State::Unassigned,
    }
}

/// The leader's half of a round: every member's assignment, from what
/// each reported running and what the config snapshot (`configured`, read
/// up to `config_offset`) holds.
pub fn lead(
    joined: &Joined,
    st: &mut AssignorState,
    configured: &Work,
    config_offset: i64,
    now_ms: i64,
    max_delay_ms: i64,
) -> Vec<(String, Assignment)> {
    let members: BTreeMap<String, Work> = joined
        .members
        .iter()
        .map(|(id, s)| {
            let running = s.assignment.as_ref().map(|a| a.assigned.clone());
            (id.clone(), running.unwrap_or_default())
        })
        .collect();
    let leader_url = joined
        .members
        .iter()
        .find(|(id, _)| *id == joined.member_id)
        .map(|(_, s)| s.url.clone())
        .unwrap_or_default();
    assign(st, configured, &members, now_ms, max_delay_ms)
        .into_iter()
        .map(|(id, d)| {
            let a = Assignment {
                version: joined.protocol.version(),
                error: NO_ERROR,
                leader: joined.member_id.clone(),
                leader_url: leader_url.clone(),
                config_offset,
                assigned: d.assigned,
                revoked: d.revoked,
                delay: d.delay_ms,
            };
            (id, a)
        })
        .collect()
}

/// Each task's owner's URL, from the leader's assignment.
fn owners(joined: &Joined, st: &AssignorState) -> BTreeMap<TaskRef, String> {
    if !joined.is_leader() {
        return BTreeMap::new();
    }
    let urls: BTreeMap<&str, &str> = joined
        .members
        .iter()
        .map(|(id, s)| (id.as_str(), s.url.as_str()))
        .collect();
    st.current()
        .iter()
        .filter_map(|(m, w)| Some((urls.get(m.as_str())?, w)))
        .flat_map(|(url, w)| w.tasks.iter().map(|t| (t.clone(), url.to_string())))
        .collect()
}

/// Reads a topic's new records on a blocking thread; records read before a
/// failure come back with it.
async fn read_new(log: Arc<TopicLog>) -> (Vec<super::topics::LogRecord>, anyhow::Result<()>) {
    match tokio::task::spawn_blocking(move || log.read_new(WRITE_WAIT)).await {
        Ok(r) => r,
        Err(e) => (
            Vec::new(),
            Err(anyhow::anyhow!("the reading thread failed: {e}")),
        ),
    }
}

impl DistributedHerder {
    pub(crate) fn new(
        settings: DistributedSettings,
        spawner: TaskSpawner,
        logs: Logs,
    ) -> Arc<Self> {
        let worker_id = spawner.settings.worker_id.clone();
        let offsets = spawner.offsets.clone();
        Arc::new(DistributedHerder {
            settings,
            spawner,
            config_log: Arc::new(logs.config),
            status_log: Arc::new(logs.status),
            offsets_log: Arc::new(logs.offsets),
            offsets,
            shared: Mutex::new(Shared::default()),
            reading: Reads::default(),
            reading_statuses: Reads::default(),
            wake: Notify::new(),
            stopping: AtomicBool::new(false),
            worker_id,
            retries: Mutex::new(BTreeMap::new()),
            task_restarts: Mutex::new(Vec::new()),
            published: Mutex::new(BTreeMap::new()),
            tracked: Mutex::new(tracking::Tracked::default()),
        })
    }

    /// Asks the loop to stop this worker's work and leave the group.
    pub fn stop_all(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Takes in offsets other workers committed.
    async fn read_offsets(&self) -> anyhow::Result<()> {
        let log = self.offsets_log.clone();
        let (records, result) = read_new(log).await;
        for r in records {
            self.offsets.apply(r.key, r.value);
        }
        result
    }

    /// Reads the config topic to its end. Events (restart requests, say)
    /// read after the first full read queue up for the loop; those of the
    /// topic's history are not acted on again.
    async fn read_configs(&self) -> anyhow::Result<()> {
        self.reading.once(self.read_configs_now()).await
    }

    async fn read_configs_now(&self) -> anyhow::Result<()> {
        let log = self.config_log.clone();
        let (records, result) = read_new(log).await;
        let mut shared = self.shared.lock();
        for r in records {
            match ConfigRecord::parse(&r.key, r.value.as_deref()) {
                Ok(Some(rec)) => {
                    if let Some(e) = shared.snapshot.apply(r.offset, rec) {
                        if shared.caught_up {
                            shared.events.push(e);
                        }
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("skipping a config topic record: {e}"),
            }
        }
        if result.is_ok() {
            shared.caught_up = true;
        }
        result
    }

    /// Reads the status topic to its end (when the REST API asks).
    async fn read_statuses(&self) -> anyhow::Result<()> {
        self.reading_statuses.once(self.read_statuses_now()).await
    }

    async fn read_statuses_now(&self) -> anyhow::Result<()> {
        let log = self.status_log.clone();
        let (records, result) = read_new(log).await;
        let mut shared = self.shared.lock();
        for r in records {
            let key = String::from_utf8_lossy(&r.key).into_owned();
            if let Some(StatusKey::Topic { topic, connector }) = StatusKey::parse(&key) {
                let set = shared.topics.entry(connector).or_default();
                if r.value.is_some() {
                    set.insert(topic);
                } else {
                    set.remove(&topic);
                }
                continue;
            }
            match r.value {
                None => {
                    shared.statuses.remove(&key);
                }
                Some(v) => match StatusRecord::parse(&key, &v) {
                    Ok(s) => {
                        shared.statuses.insert(key, s);
                    }
                    Err(e) => tracing::debug!("skipping a status record: {e}"),
                },
            }
        }
        result
    }

    async fn write_config(&self, record: &ConfigRecord) -> Result<(), WorkerError> {
        self.config_log
            .send(&record.key(), record.value().as_deref())
            .await
            .map(|_| ())
            .map_err(internal)
    }

    /// Waits until this worker's snapshot satisfies `done`.
    async fn await_snapshot(
        &self,
        done: impl Fn(&ConfigSnapshot) -> bool,
    ) -> Result<(), WorkerError> {
        let deadline = Instant::now() + WRITE_WAIT;
        loop {
            // The request reads the topic itself (the loop may be busy in
            // a rebalance), then wakes the loop to act on what it read.
            if let Err(e) = self.read_configs().await {
                tracing::debug!("reading the config topic: {e:#}");
            }
            self.wake.notify_one();
            if done(&self.shared.lock().snapshot) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(WorkerError::Internal(
                    "Request timed out. The worker did not read its write back from the config topic".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn exists(&self, name: &str) -> Result<(), WorkerError> {
        self.read_configs().await.map_err(internal)?;
        if self.shared.lock().snapshot.connectors.contains_key(name) {
            Ok(())
        } else {
            Err(WorkerError::NotFound(format!("Connector {name} not found")))
        }
    }

    /// Runs the membership loop until the process stops.
    pub async fn run(self: Arc<Self>) {
        let mut member = GroupMember::new(
            self.settings.member.clone(),
            crate::kafka::split_servers(&self.settings.bootstrap_servers),
        );
        let mut executor = Executor::new(self.spawner.clone());
        let mut assigned = Work::default();
        let mut leader_state = AssignorState::default();
        let mut written: BTreeMap<String, (State, Option<String>)> = BTreeMap::new();
        while !self.stopping.load(Ordering::SeqCst) {
            if let Err(e) = self
                .round(
                    &mut member,
                    &mut executor,
                    &mut assigned,
                    &mut leader_state,
                    &mut written,
                )
                .await
            {
                tracing::warn!("group membership: {e:#}; rejoining");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        executor.shutdown().await;
        if let Err(e) = member.leave().await {
            tracing::warn!("leaving the group: {e:#}");
        }
    }

    /// One generation: join, (lead,) sync, then work and heartbeat until
    /// the group rebalances.
    async fn round(
        &self,
        member: &mut GroupMember,
        executor: &mut Executor,
        assigned: &mut Work,
        leader_state: &mut AssignorState,
        written: &mut BTreeMap<String, (State, Option<String>)>,
    ) -> anyhow::Result<()> {
        self.read_configs().await?;
        let eager = self.settings.member.protocol == Protocol::Eager
            || self.shared.lock().protocol == Some(Protocol::Eager);
        if eager && !assigned.is_empty() {
            // Eager rebalancing: everything stops before the group
            // rebalances, and the leader hands out all the work afresh.
            self.stop_everything(executor, assigned).await;
        }
        // The configs this round starts from. Work configured later (a
        // connector created while the group is joining, whose REST request
        // reads the config topic itself) makes the loop below rejoin, even
        // when the snapshot has it by the time the loop begins.
        let (config_offset, configured) = {
            let shared = self.shared.lock();
            (shared.snapshot.offset, shared.snapshot.work())
        };
        let state = WorkerState {
            url: self.settings.advertised_url.clone(),
            config_offset,
            assignment: (!assigned.is_empty()).then(|| Assignment {
                version: self.settings.member.protocol.version(),
                error: NO_ERROR,
                leader: String::new(),
                leader_url: String::new(),
                config_offset,
                assigned: assigned.clone(),
                revoked: Work::default(),
                delay: 0,
            }),
        };
        let joined = member.join(&state).await?;
        let plan_out = if joined.is_leader() {
            self.lead(&joined, leader_state)
        } else {
            Vec::new()
        };
        let owners = owners(&joined, leader_state);
        let Some(mine) = member.sync(&joined, &plan_out).await? else {
            return Ok(());
        };
        {
            let mut shared = self.shared.lock();
            shared.generation = joined.generation;
            shared.leader = Some(if joined.is_leader() {
                Leader::Here
            } else {
                Leader::At(mine.leader_url.clone())
            });
            shared.protocol = Some(joined.protocol);
            shared.owners = owners;
            assigned.apply(&mine.assigned, &mine.revoked);
            shared.assigned = assigned.clone();
        }
        self.renew_session_key().await;
        tracing::info!(
            "generation {}: {} connector(s) and {} task(s) here, {} protocol{}",
            joined.generation,
            assigned.connectors.len(),
            assigned.tasks.len(),
            joined.protocol.setting(),
            if joined.is_leader() { " (leader)" } else { "" }
        );
        self.work(executor, assigned, written).await;
        if !mine.revoked.is_empty() {
            // Cooperative: what was given up is handed out in a second round.
            return Ok(());
        }
        let mut rejoin_at =
            (mine.delay > 0).then(|| Instant::now() + Duration::from_millis(mine.delay as u64));
        let leads = joined.is_leader();
        // After a scheduled rebalance falls due, until when a follower
        // heartbeats at FAST_BEAT to find the rebalance its leader starts.
        let mut fast_until: Option<Instant> = None;
        let mut last_beat = Instant::now();
        let mut beat_failing_since: Option<Instant> = None;
        let mut seen_offset = config_offset;
        let mut tick = TICK;
        let beat_every = |fast_until: Option<Instant>| match fast_until {
            Some(t) if Instant::now() < t => FAST_BEAT,
            _ => self.settings.heartbeat_interval,
        };
        loop {
            // Woken for the next heartbeat (a failing one is tried again a
            // tick later) and for a delayed rejoin. A heartbeat that fell
            // due and has not been tried (the pace just quickened) goes at
            // once, and a rejoin that fell due since the last look is not
            // slept over.
            let mut sleep = tick;
            let beat_left =
                (last_beat + beat_every(fast_until)).saturating_duration_since(Instant::now());
            if !beat_left.is_zero() || beat_failing_since.is_none() {
                sleep = sleep.min(beat_left);
            }
            if let Some(t) = rejoin_at {
                sleep = sleep.min(t.saturating_duration_since(Instant::now()));
            }
            let woken = tokio::select! {
                _ = self.wake.notified() => true,
                _ = tokio::time::sleep(sleep) => false,
            };
            if self.stopping.load(Ordering::SeqCst) {
                return Ok(());
            }
            if let Err(e) = self.read_configs().await {
                tracing::warn!("reading the config topic: {e:#}");
            }
            let events = std::mem::take(&mut self.shared.lock().events);
            let mut busy = woken || !events.is_empty();
            self.restarts(executor, assigned, events).await;
            let asked = self.stop_asked_restarts(executor).await;
            busy |= !asked.is_empty();
            busy |= self.work(executor, assigned, written).await;
            for reply in asked {
                let _ = reply.send(Ok(()));
            }
            self.renew_session_key().await;
            self.track_topics(executor).await;
            let offset = self.shared.lock().snapshot.offset;
            let config_changed = std::mem::replace(&mut seen_offset, offset) != offset;
            tick = if busy || config_changed {
                TICK
            } else {
                (tick * 2).min(IDLE_TICK)
            };
            // New or removed connectors and tasks: every worker reads them
            // within a tick and rejoins, so the rebalance does not wait for
            // heartbeats to spread the news.
            if config_changed && self.shared.lock().snapshot.work() != configured {
                return Ok(());
            }
            if rejoin_at.is_some_and(|t| Instant::now() >= t) {
                // The leader's rejoin starts the rebalance. A follower's
                // would be answered with this generation again (its
                // metadata has not changed), so it heartbeats often for a
                // while instead, to hear of the rebalance at once.
                if leads {
                    return Ok(());
                }
                rejoin_at = None;
                fast_until = Some(Instant::now() + 2 * self.settings.heartbeat_interval);
            }
            if last_beat.elapsed() >= beat_every(fast_until) {
                match member.heartbeat().await {
                    Ok(Beat::Ok) => {
                        last_beat = Instant::now();
                        beat_failing_since = None;
                    }
                    Ok(Beat::Rejoin) => return Ok(()),
                    Err(e) => {
                        let since = *beat_failing_since.get_or_insert_with(Instant::now);
                        tracing::warn!("heartbeat failed: {e:#}");
                        // Out of the group for a session: stop everything so
                        // no task runs twice, then rejoin.
                        if since.elapsed() >= self.settings.member.session_timeout {
                            tracing::warn!("lost the group coordinator; stopping this worker's connectors and tasks");
                            self.stop_everything(executor, assigned).await;
                            return Ok(());
                        }
                    }
                }
            }
        }
    }

    /// Stops every connector and task here and forgets the assignment.
    async fn stop_everything(&self, executor: &mut Executor, assigned: &mut Work) {
        executor.shutdown().await;
        *assigned = Work::default();
        let mut shared = self.shared.lock();
        shared.assigned = Work::default();
        shared.metrics = executor.metrics_view();
    }

    /// The leader's assignments for this generation.
    fn lead(&self, joined: &Joined, st: &mut AssignorState) -> Vec<(String, Assignment)> {
        let (configured, offset) = {
            let shared = self.shared.lock();
            (shared.snapshot.work(), shared.snapshot.offset)
        };
        let now = now_ms();
        // Eager groups hand out a departed worker's work at once.
        let max_delay = if joined.protocol == Protocol::Eager {
            0
        } else {
            self.settings.scheduled_rebalance_max_delay.as_millis() as i64
        };
        lead(joined, st, &configured, offset, now, max_delay)
    }

    /// Reconciles the executor with the assignment, writes task configs of
    /// the connectors running here, and statuses that changed; whether it
    /// had anything to do.
    async fn work(
        &self,
        executor: &mut Executor,
        assigned: &Work,
        written: &mut BTreeMap<String, (State, Option<String>)>,
    ) -> bool {
        let snapshot = self.shared.lock().snapshot.clone();
        let actions = plan(&snapshot, assigned, &executor.local());
        let mut busy = !actions.is_empty();
        let starts_tasks = actions
            .iter()
            .any(|a| matches!(a, Action::StartTask { .. }));
        if starts_tasks {
            // A task taken over from another worker resumes from its last commit.
            if let Err(e) = self.read_offsets().await {
                tracing::warn!("reading the offsets topic: {e:#}");
            }
        }
        if !actions.is_empty() {
            executor.apply(actions).await;
        }
        // The owner of a connector writes its task configs when they changed.
        for c in &assigned.connectors {
            if snapshot.target(c) == TargetState::Stopped {
                continue;
            }
            let Some(Ok(configs)) = executor.task_configs(c) else {
                continue;
            };
            if task_configs_changed(&snapshot, c, &configs) {
                busy = true;
                self.publish_task_configs(c, configs).await;
            }
        }
        self.shared.lock().metrics = executor.metrics_view();
        let (connectors, tasks) = executor.statuses();
        if let Some(max) = self.settings.auto_restart {
            let due = self.due_restarts(&tasks, max);
            if !due.is_empty() {
                busy = true;
                executor.apply(due).await;
            }
        }
        let generation = self.shared.lock().generation;
        let keyed = connectors
            .into_iter()
            .map(|(c, s)| (StatusKey::Connector(c), s))
            .chain(tasks.into_iter().map(|(t, s)| {
                (
                    StatusKey::Task(t.connector, u32::try_from(t.task).unwrap_or(0)),
                    s,
                )
            }));
        let mut writes = Vec::new();
        for (key, s) in keyed {
            let k = key.key();
            let now = (s.state, s.trace.clone());
            if written.get(&k) == Some(&now) {
                continue;
            }
            // A task given to this worker but not started yet has nothing
            // to say: as in Kafka Connect, its first status here is the one
            // it starts in, so the last owner's stands until then.
            if s.state == State::Unassigned && !written.contains_key(&k) {
                continue;
            }
            // As Kafka Connect's putSafe: a status another worker wrote in
            // a later generation is not overwritten by this one.
            let existing = self.shared.lock().statuses.get(&k).cloned();
            if !may_write(existing.as_ref(), &self.worker_id, generation) {
                continue;
            }
            let record = StatusRecord {
                state: state_text(s.state).into(),
                trace: s.trace.clone(),
                worker_id: self.worker_id.clone(),
                generation,
            };
            busy = true;
            writes.push(((k.clone(), now), k, record.value()));
        }
        // Written together: a rebalance that starts hundreds of tasks does
        // not wait for one acknowledgment per status.
        for ((k, now), sent) in self.status_log.send_all(writes).await {
            if sent.is_ok() {
                written.insert(k, now);
            }
        }
        busy
    }

    /// FAILED tasks whose restart is due: stopped now, started again by the
    /// next reconciliation. A task that ran a minute since its last
    /// restart starts its backoff over.
    fn due_restarts(&self, tasks: &BTreeMap<TaskRef, Status>, max: Duration) -> Vec<Action> {
        let now = Instant::now();
        let mut retries = self.retries.lock();
        retries.retain(|t, _| tasks.contains_key(t));
        let mut due = Vec::new();
        for (t, s) in tasks {
            let entry = retries.get(t).copied();
            match (s.state, entry) {
                (State::Failed, None) => {
                    retries.insert(
                        t.clone(),
                        Retry {
                            attempts: 0,
                            due: now + restart_backoff(0, max),
                            restarted: None,
                        },
                    );
                }
                (State::Failed, Some(r))
                    if r.restarted
                        .is_some_and(|at| at + Duration::from_millis(500) > now) => {}
                (State::Failed, Some(r)) if r.restarted.is_some() => {
                    // Failed again after a restart: wait longer.
                    let attempts = r.attempts + 1;
                    retries.insert(
                        t.clone(),
                        Retry {
                            attempts,
                            due: now + restart_backoff(attempts, max),
                            restarted: None,
                        },
                    );
                }
                (State::Failed, Some(r)) if now >= r.due => {
                    tracing::info!(
                        "[{}|task-{}] restarting automatically (attempt {})",
                        t.connector,
                        t.task,
                        r.attempts + 1
                    );
                    due.push(Action::StopTask(t.clone()));
                    retries.insert(
                        t.clone(),
                        Retry {
                            restarted: Some(now),
                            ..r
                        },
                    );
                }
                (State::Running, Some(r))
                    if r.restarted
                        .is_some_and(|at| now.duration_since(at) > Duration::from_secs(60)) =>
                {
                    retries.remove(t);
                }
                _ => {}
            }
        }
        due
    }

    async fn write_task_configs(
        &self,
        connector: &str,
        configs: &[Props],
    ) -> Result<(), WorkerError> {
        for (i, config) in configs.iter().enumerate() {
            self.write_config(&ConfigRecord::Task {
                connector: connector.into(),
                task: i as u32,
                config: config.clone(),
            })
            .await?;
        }
        self.write_config(&ConfigRecord::Commit {
            connector: connector.into(),
            tasks: configs.len() as u32,
        })
        .await?;
        tracing::info!(
            "[{connector}|worker] wrote {} task config(s)",
            configs.len()
        );
        Ok(())
    }

    /// Carries out restart requests read from the config topic, for what runs here.
    async fn restarts(&self, executor: &mut Executor, assigned: &Work, events: Vec<Event>) {
        for e in events {
            let Event::Restart {
                connector,
                include_tasks,
                only_failed,
            } = e
            else {
                continue;
            };
            let (conns, tasks) = executor.statuses();
            let failed = |s: Option<&Status>| s.is_some_and(|s| s.state == State::Failed);
            let mut local = executor.local();
            if assigned.connectors.contains(&connector)
                && (!only_failed || failed(conns.get(&connector)))
            {
                local.connectors.remove(&connector);
            }
            if include_tasks {
                for t in assigned.tasks.iter().filter(|t| t.connector == connector) {
                    if !only_failed || failed(tasks.get(t)) {
                        local.tasks.remove(t);
                    }
                }
            }
            // Stop what is restarted; the next reconciliation starts it again.
            let mut stops = Vec::new();
            for t in executor.local().tasks.keys() {
                if !local.tasks.contains_key(t) {
                    stops.push(Action::StopTask(t.clone()));
                }
            }
            if executor.local().connectors.contains_key(&connector)
                && !local.connectors.contains_key(&connector)
            {
                stops.push(Action::StopConnector(connector.clone()));
            }
            executor.apply(stops).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_from_a_later_generation_elsewhere_are_kept() {
        let by = |worker: &str, generation| StatusRecord {
            state: "RUNNING".into(),
            trace: None,
            worker_id: worker.into(),
            generation,
        };
        assert!(may_write(None, "a:1", 3));
        assert!(may_write(Some(&by("a:1", 9)), "a:1", 3));
        assert!(may_write(Some(&by("b:2", 3)), "a:1", 3));
        assert!(may_write(Some(&by("b:2", 2)), "a:1", 3));
        assert!(!may_write(Some(&by("b:2", 4)), "a:1", 3));
    }

    #[test]
    fn restart_backoff_doubles_up_to_the_maximum() {
        let max = Duration::from_secs(10);
        let waits: Vec<u64> = (0..6).map(|a| restart_backoff(a, max).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 10, 10]);
    }
}
