//! The coordinator's edge: parked requests as channels, a clock, and the
//! `__consumer_offsets` topic where offsets and group metadata are persisted.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::records::{Record, RecordBatchDecoder};
use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::membership::Outcome;
use super::records::{partition_for, GroupValue, OffsetValue, RecordKey};
use super::{CommitEntry, Coordinator, Effect, GroupConfig, JoinParams, JoinResult, SyncParams};
use crate::clock::now_ms;
use crate::error_code as ec;
use crate::flusher::Flusher;
use crate::topics::Topic;

type Key = (String, String);

struct Inner {
    coord: Coordinator,
    joins: HashMap<Key, oneshot::Sender<JoinResult>>,
    syncs: HashMap<Key, oneshot::Sender<(i16, Bytes)>>,
}

/// Thread-safe coordinator with persistence.
pub struct GroupService {
    inner: Mutex<Inner>,
    started: Instant,
    topic: Arc<Topic>,
    flusher: Flusher,
}

impl std::fmt::Debug for GroupService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupService").finish_non_exhaustive()
    }
}

impl GroupService {
    /// Builds the service and replays `__consumer_offsets`.
    pub fn load(topic: Arc<Topic>, flusher: Flusher, config: GroupConfig) -> std::io::Result<Self> {
        let svc = Self {
            inner: Mutex::new(Inner {
                coord: Coordinator::new(config),
                joins: HashMap::new(),
                syncs: HashMap::new(),
            }),
            started: Instant::now(),
            topic,
            flusher,
        };
        let now = svc.now();
        let mut inner = svc.inner.lock();
        for p in svc.topic.partitions() {
            let (mut offset, end) = {
                let log = p.log.lock();
                (log.log_start_offset(), log.high_watermark())
            };
            while offset < end {
                let plan = p.log.lock().plan_read(offset, 1 << 20);
                let Ok(plan) = plan else { break };
                let data = plan.execute()?;
                if data.is_empty() {
                    break;
                }
                let next = crate::log::batch::split_batches(&data)
                    .ok()
                    .and_then(|b| b.last().map(|(_, h)| h.next_offset()))
                    .unwrap_or(end);
                let sets = RecordBatchDecoder::decode_all(&mut Bytes::from(data))
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                for set in sets {
                    for r in set.records {
                        if r.offset >= offset {
                            offset = r.offset + 1;
                            replay(&mut inner.coord, r, now);
                        }
                    }
                }
                offset = offset.max(next);
            }
        }
        drop(inner);
        Ok(svc)
    }

    fn now(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Appends records for `group` to its offsets partition; returns the
    /// durability wait.
    fn write(
        &self,
        group: &str,
        records: &[(Bytes, Option<Bytes>)],
    ) -> Result<oneshot::Receiver<Result<(), String>>, String> {
        let keyed: Vec<(Option<Bytes>, Option<Bytes>)> = records
            .iter()
            .map(|(k, v)| (Some(k.clone()), v.clone()))
            .collect();
        let data = crate::log::batch::encode_batch(
            &keyed,
            kafka_protocol::records::Compression::None,
            now_ms(),
            0,
        )?;
        let idx = partition_for(group, self.topic.partition_count());
        let partition = self
            .topic
            .partition(idx)
            .ok_or_else(|| "offsets partition missing".to_string())?;
        partition
            .log
            .lock()
            .append(&data, now_ms())
            .map_err(|e| e.message)?;
        Ok(self.flusher.flush(partition))
    }

    fn group_record(&self, coord: &Coordinator, group: &str) -> (Bytes, Option<Bytes>) {
        (
            RecordKey::Group(group.to_string()).encode(),
            coord.group_value(group).map(|v: GroupValue| v.encode()),
        )
    }

    fn deliver(&self, inner: &mut Inner, effects: Vec<Effect>) {
        for e in effects {
            match e {
                Effect::Join {
                    group,
                    member,
                    result,
                } => {
                    if let Some(tx) = inner.joins.remove(&(group, member)) {
                        let _ = tx.send(result);
                    }
                }
                Effect::Sync {
                    group,
                    member,
                    error,
                    assignment,
                } => {
                    if let Some(tx) = inner.syncs.remove(&(group, member)) {
                        let _ = tx.send((error, assignment));
                    }
                }
                Effect::PersistGroup(group) => {
                    let rec = self.group_record(&inner.coord, &group);
                    if let Err(e) = self.write(&group, &[rec]) {
                        tracing::error!("could not persist metadata of group {group}: {e}");
                    }
                }
            }
        }
    }

    /// Runs an operation that may park the request; a parked answer arrives
    /// later through the channel stored in `slot`.
    fn run_parkable<T>(
        &self,
        group: String,
        op: impl FnOnce(&mut Coordinator, u64) -> (Outcome<T>, Vec<Effect>),
        slot: impl FnOnce(&mut Inner) -> &mut HashMap<Key, oneshot::Sender<T>>,
    ) -> Result<T, (oneshot::Receiver<T>, String)> {
        let mut inner = self.inner.lock();
        let (outcome, fx) = op(&mut inner.coord, self.now());
        let parked = match outcome {
            Outcome::Now(r) => Ok(r),
            Outcome::Parked(member) => {
                let (tx, rx) = oneshot::channel();
                slot(&mut inner).insert((group, member.clone()), tx);
                Err((rx, member))
            }
        };
        // Effects may answer the request just parked, so they go after the insert.
        self.deliver(&mut inner, fx);
        parked
    }

    pub async fn join(&self, p: JoinParams) -> JoinResult {
        let group = p.group_id.clone();
        match self.run_parkable(group, |c, now| c.join(p, now), |i| &mut i.joins) {
            Ok(r) => r,
            Err((rx, member)) => rx.await.unwrap_or(JoinResult {
                error: ec::REBALANCE_IN_PROGRESS,
                generation: -1,
                member_id: member,
                ..JoinResult::default()
            }),
        }
    }

    pub async fn sync(&self, p: SyncParams) -> (i16, Bytes) {
        let group = p.group_id.clone();
        match self.run_parkable(group, |c, now| c.sync(p, now), |i| &mut i.syncs) {
            Ok(r) => r,
            Err((rx, _)) => rx
                .await
                .unwrap_or((ec::REBALANCE_IN_PROGRESS, Bytes::new())),
        }
    }

    pub fn heartbeat(
        &self,
        group: &str,
        generation: i32,
        member: &str,
        instance: Option<&str>,
    ) -> i16 {
        let now = self.now();
        self.inner
            .lock()
            .coord
            .heartbeat(group, generation, member, instance, now)
    }

    pub fn leave(&self, group: &str, members: &[(String, Option<String>)]) -> (i16, Vec<i16>) {
        let mut inner = self.inner.lock();
        let (code, errors, fx) = inner.coord.leave(group, members, self.now());
        self.deliver(&mut inner, fx);
        (code, errors)
    }

    /// Runs timers; call periodically.
    pub fn tick(&self) {
        let mut inner = self.inner.lock();
        let fx = inner.coord.tick(self.now());
        self.deliver(&mut inner, fx);
    }

    /// Validates, persists and applies offset commits; resolves once durable.
    pub async fn commit(
        &self,
        group: &str,
        generation: i32,
        member: &str,
        instance: Option<&str>,
        entries: Vec<CommitEntry>,
    ) -> Result<(), i16> {
        let wait = {
            let mut inner = self.inner.lock();
            inner
                .coord
                .validate_commit(group, generation, member, instance)?;
            if entries.is_empty() {
                return Ok(());
            }
            let records: Vec<(Bytes, Option<Bytes>)> = entries
                .iter()
                .map(|e| {
                    (
                        RecordKey::Offset {
                            group: group.to_string(),
                            topic: e.topic.clone(),
                            partition: e.partition,
                        }
                        .encode(),
                        Some(e.value.encode()),
                    )
                })
                .collect();
            let wait = self.write(group, &records).map_err(|e| {
                tracing::error!("offset commit for group {group} failed: {e}");
                ec::COORDINATOR_NOT_AVAILABLE
            })?;
            for e in entries {
                inner
                    .coord
                    .apply_offset(group, &e.topic, e.partition, Some(e.value));
            }
            wait
        };
        match wait.await {
            Ok(Ok(())) => Ok(()),
            _ => Err(ec::COORDINATOR_NOT_AVAILABLE),
        }
    }

    /// Runs `f` with read access to the coordinator.
    pub fn read<T>(&self, f: impl FnOnce(&Coordinator) -> T) -> T {
        f(&self.inner.lock().coord)
    }

    /// DeleteGroups for one group.
    pub async fn delete_group(&self, group: &str) -> i16 {
        let wait = {
            let mut inner = self.inner.lock();
            if let Err(code) = inner.coord.check_delete(group) {
                return code;
            }
            let mut records: Vec<(Bytes, Option<Bytes>)> = inner
                .coord
                .all_committed(group)
                .into_iter()
                .map(|((topic, partition), _)| {
                    let key = RecordKey::Offset {
                        group: group.to_string(),
                        topic,
                        partition,
                    };
                    (key.encode(), None)
                })
                .collect();
            records.push((RecordKey::Group(group.to_string()).encode(), None));
            let wait = match self.write(group, &records) {
                Ok(w) => w,
                Err(_) => return ec::COORDINATOR_NOT_AVAILABLE,
            };
            inner.coord.remove_group(group);
            wait
        };
        match wait.await {
            Ok(Ok(())) => ec::NONE,
            _ => ec::COORDINATOR_NOT_AVAILABLE,
        }
    }

    /// OffsetDelete: removes the given partitions' offsets; per-partition errors.
    pub async fn delete_offsets(
        &self,
        group: &str,
        partitions: &[(String, i32)],
    ) -> Result<Vec<i16>, i16> {
        let (wait, errors) = {
            let mut inner = self.inner.lock();
            let subscribed = inner.coord.check_offset_delete(group)?;
            let mut records = Vec::new();
            let mut errors = Vec::new();
            for (topic, partition) in partitions {
                if subscribed.contains(topic) {
                    errors.push(ec::GROUP_SUBSCRIBED_TO_TOPIC);
                    continue;
                }
                errors.push(ec::NONE);
                if inner.coord.committed(group, topic, *partition).is_some() {
                    records.push((
                        RecordKey::Offset {
                            group: group.to_string(),
                            topic: topic.clone(),
                            partition: *partition,
                        }
                        .encode(),
                        None,
                    ));
                    inner.coord.apply_offset(group, topic, *partition, None);
                }
            }
            if records.is_empty() {
                return Ok(errors);
            }
            let wait = self
                .write(group, &records)
                .map_err(|_| ec::COORDINATOR_NOT_AVAILABLE)?;
            (wait, errors)
        };
        match wait.await {
            Ok(Ok(())) => Ok(errors),
            _ => Err(ec::COORDINATOR_NOT_AVAILABLE),
        }
    }

    /// Drops offsets of a deleted topic (tombstones written in the background).
    pub fn forget_topic(&self, topic: &str) {
        let mut inner = self.inner.lock();
        for (group, partition) in inner.coord.forget_topic(topic) {
            let key = RecordKey::Offset {
                group: group.clone(),
                topic: topic.to_string(),
                partition,
            };
            if let Err(e) = self.write(&group, &[(key.encode(), None)]) {
                tracing::warn!("could not write offset tombstone for {group}/{topic}: {e}");
            }
        }
    }

    /// Runs the timer loop until the token is dropped.
    pub async fn run_timers(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut interval = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                _ = interval.tick() => self.tick(),
                _ = stop.changed() => return,
            }
        }
    }
}

fn replay(coord: &mut Coordinator, r: Record, now: u64) {
    let Some(key) = r.key else { return };
    match RecordKey::decode(key) {
        Ok(RecordKey::Offset {
            group,
            topic,
            partition,
        }) => {
            let value = r.value.and_then(|v| OffsetValue::decode(v).ok());
            coord.apply_offset(&group, &topic, partition, value);
        }
        Ok(RecordKey::Group(group)) => {
            let value = r.value.and_then(|v| GroupValue::decode(v).ok());
            coord.load_group(&group, value, now);
        }
        Err(e) => tracing::warn!(
            "skipping unreadable {} record: {e}",
            crate::topics::OFFSETS_TOPIC
        ),
    }
}
