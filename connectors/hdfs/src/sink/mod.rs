//! The sink task: one `PartitionWriter` per assigned topic partition; the
//! store, not the consumer group, says what is done, so a task seeks each
//! partition it takes to the offset after its last committed file, and
//! `pre_commit` reports only committed offsets.
//!
//! A store failure takes the partition out of service: its open files are
//! dropped, and after `retry.backoff.ms` it is recovered and sought back to
//! its last commit, with the task's status saying why meanwhile.

mod partition;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use connect_api::{
    ConnectError, ConnectResult, Offsets, Props, SinkRecord, SinkTask, SinkTaskContext,
    TopicPartition,
};

use crate::config::SinkConfig;
use crate::store::{self, Store, StoreError};
use partition::{PartitionWriter, WriteError};

/// A partition's writer and whether it can take records.
struct Slot {
    writer: PartitionWriter,
    /// `None`: not recovered yet.
    state: Option<State>,
}

#[derive(Clone)]
enum State {
    Ready,
    /// The store failed at this moment; recovery is tried after the backoff.
    Failed(Instant),
    /// A seek was asked in this `put`: its other records are from before it.
    Seeking,
}

/// What every step needs: the settings, the store and the context.
type Parts = (Arc<SinkConfig>, Arc<dyn Store>, Arc<dyn SinkTaskContext>);

#[derive(Default)]
pub struct HdfsSinkTask {
    cfg: Option<Arc<SinkConfig>>,
    store: Option<Arc<dyn Store>>,
    ctx: Option<Arc<dyn SinkTaskContext>>,
    slots: BTreeMap<TopicPartition, Slot>,
    /// The lowest offset delivered of each partition since it was opened:
    /// where to read again when the store failed before any commit.
    seen: BTreeMap<TopicPartition, i64>,
}

impl HdfsSinkTask {
    fn parts(&self) -> ConnectResult<Parts> {
        match (&self.cfg, &self.store, &self.ctx) {
            (Some(c), Some(s), Some(x)) => Ok((c.clone(), s.clone(), x.clone())),
            _ => Err(ConnectError::fatal("the HDFS sink task was not started")),
        }
    }

    /// Recovers `tp`; asks for a seek to its last commit unless `at` (the
    /// offset of the record in hand) is where it is. Returns whether
    /// records of `tp` may be written now.
    fn recover(&mut self, tp: &TopicPartition, at: Option<i64>) -> ConnectResult<bool> {
        let (cfg, store, ctx) = self.parts()?;
        let slot = self.slots.entry(tp.clone()).or_insert_with(|| Slot {
            writer: PartitionWriter::new(&cfg, &tp.topic, tp.partition),
            state: None,
        });
        match slot.writer.recover(store.as_ref()) {
            Ok(next) => {
                // Nothing committed: the records delivered since the
                // partition was opened are read again from the first.
                let from = next.or_else(|| self.seen.get(tp).copied());
                let seek = from.is_some_and(|n| at != Some(n));
                if let Some(n) = from.filter(|_| seek) {
                    match next {
                        Some(_) => tracing::info!(
                            "{}-{}: the store holds records up to offset {}; reading from there",
                            tp.topic,
                            tp.partition,
                            n - 1
                        ),
                        None => tracing::info!(
                            "{}-{}: nothing committed yet; reading again from offset {n}",
                            tp.topic,
                            tp.partition
                        ),
                    }
                    ctx.offset(tp, n);
                }
                let failed_before = matches!(slot.state, Some(State::Failed(..)));
                slot.state = Some(if seek { State::Seeking } else { State::Ready });
                if failed_before
                    && !self
                        .slots
                        .values()
                        .any(|s| matches!(s.state, Some(State::Failed(..))))
                {
                    ctx.trouble(None);
                }
                Ok(!seek)
            }
            Err(e) => {
                self.failed(tp, e);
                Ok(false)
            }
        }
    }

    fn failed(&mut self, tp: &TopicPartition, e: StoreError) {
        let Some(ctx) = self.ctx.clone() else { return };
        let backoff = self
            .cfg
            .as_ref()
            .map_or(Duration::from_secs(5), |c| c.retry_backoff);
        let why = format!(
            "{}-{}: {e}; retrying in {} ms (retry.backoff.ms)",
            tp.topic,
            tp.partition,
            backoff.as_millis()
        );
        tracing::warn!("{why}");
        ctx.trouble(Some(why));
        if let (Some(slot), Some(store)) = (self.slots.get_mut(tp), &self.store) {
            slot.writer.discard(store.as_ref());
            slot.state = Some(State::Failed(Instant::now()));
        }
    }

    /// Whether records of `tp` may be written now, recovering it when it
    /// is due.
    fn ready(&mut self, tp: &TopicPartition, at: Option<i64>) -> ConnectResult<bool> {
        let backoff = self
            .cfg
            .as_ref()
            .map_or(Duration::from_secs(5), |c| c.retry_backoff);
        match self.slots.get(tp).and_then(|s| s.state.clone()) {
            Some(State::Ready) => Ok(true),
            Some(State::Seeking) => Ok(false),
            Some(State::Failed(since)) if since.elapsed() < backoff => Ok(false),
            _ => self.recover(tp, at),
        }
    }

    fn write(&mut self, r: &SinkRecord) -> ConnectResult<()> {
        let tp = TopicPartition {
            topic: r.original_topic.clone(),
            partition: r.original_partition,
        };
        let seen = self.seen.entry(tp.clone()).or_insert(r.original_offset);
        *seen = (*seen).min(r.original_offset);
        if !self.ready(&tp, Some(r.original_offset))? {
            return Ok(());
        }
        let (cfg, store, ctx) = self.parts()?;
        let Some(slot) = self.slots.get_mut(&tp) else {
            return Ok(());
        };
        match slot.writer.write(store.as_ref(), &cfg, r) {
            Ok(()) => Ok(()),
            Err(WriteError::Store(e)) => {
                self.failed(&tp, e);
                Ok(())
            }
            Err(WriteError::File(m)) => Err(ConnectError::fatal(m)),
            Err(WriteError::Record(m)) => match ctx.errant_record_reporter() {
                Some(reporter) => {
                    reporter.report(r, ConnectError::data(m));
                    Ok(())
                }
                None => Err(ConnectError::data(format!(
                    "{m}; set errors.tolerance=all (with a dead letter queue) to skip such records"
                ))),
            },
        }
    }

    /// Wall-clock rotations of every partition.
    fn tick(&mut self) -> ConnectResult<()> {
        let (cfg, store, _) = self.parts()?;
        let mut failures = Vec::new();
        for (tp, slot) in &mut self.slots {
            if matches!(slot.state, Some(State::Ready)) {
                match slot.writer.tick(store.as_ref(), &cfg) {
                    Ok(()) => {}
                    Err(WriteError::Store(e)) => failures.push((tp.clone(), e)),
                    Err(WriteError::File(m) | WriteError::Record(m)) => {
                        return Err(ConnectError::fatal(m))
                    }
                }
            }
        }
        for (tp, e) in failures {
            self.failed(&tp, e);
        }
        Ok(())
    }
}

#[async_trait]
impl SinkTask for HdfsSinkTask {
    async fn start(&mut self, props: &Props, ctx: Arc<dyn SinkTaskContext>) -> ConnectResult<()> {
        let cfg = SinkConfig::parse(props).map_err(crate::config::refused)?;
        self.store = Some(Arc::from(
            store::open(&cfg.store_url, &cfg.hadoop_conf_dir).map_err(ConnectError::fatal)?,
        ));
        self.cfg = Some(Arc::new(cfg));
        self.ctx = Some(ctx);
        Ok(())
    }

    async fn open(&mut self, partitions: &[TopicPartition]) -> ConnectResult<()> {
        for tp in partitions {
            self.slots.remove(tp);
            self.seen.remove(tp);
            self.recover(tp, None)?;
            // The seek is made before records are read again.
            if let Some(slot) = self.slots.get_mut(tp) {
                if matches!(slot.state, Some(State::Seeking)) {
                    slot.state = Some(State::Ready);
                }
            }
        }
        Ok(())
    }

    async fn put(&mut self, records: &[SinkRecord]) -> ConnectResult<()> {
        for r in records {
            self.write(r)?;
        }
        // Seeks asked in this put are in effect for the next one.
        for slot in self.slots.values_mut() {
            if matches!(slot.state, Some(State::Seeking)) {
                slot.state = Some(State::Ready);
            }
        }
        self.tick()
    }

    async fn pre_commit(&mut self, _offsets: &Offsets) -> ConnectResult<Offsets> {
        self.tick()?;
        Ok(self
            .slots
            .iter()
            .filter_map(|(tp, s)| s.writer.committed.map(|o| (tp.clone(), o)))
            .collect())
    }

    async fn close(&mut self, partitions: &[TopicPartition]) -> ConnectResult<()> {
        let store = self.store.clone();
        for tp in partitions {
            self.seen.remove(tp);
            if let (Some(mut slot), Some(store)) = (self.slots.remove(tp), &store) {
                slot.writer.discard(store.as_ref());
            }
        }
        Ok(())
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        let all: Vec<TopicPartition> = self.slots.keys().cloned().collect();
        self.close(&all).await
    }
}
