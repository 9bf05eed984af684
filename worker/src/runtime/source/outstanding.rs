//! What a source task has sent and not yet committed: acknowledgements
//! from the producer, the polled batches they belong to, the offsets they
//! let the task commit, and whether the broker is acknowledging at all.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use connect_api::record::{SourceOffset, SourcePartition};
use connect_api::{RecordMetadata, SourceRecord, SourceTask};
use parking_lot::Mutex;

use super::failed;
use crate::runtime::errors::DeadLetterQueue;
use crate::runtime::TaskEnv;

/// What became of a record handed to the sender.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Slot {
    Pending,
    /// The broker has it.
    Acked(RecordMetadata),
    /// Dropped by a transform, or skipped as an error: done all the same.
    Dropped,
}

/// Acknowledgements from the producer's delivery callback: slot `i` holds
/// the fate of record `base + i` once it is known.
pub(super) struct Acks {
    pub(super) base: u64,
    pub(super) slots: VecDeque<Slot>,
    pub(super) failure: Option<String>,
}

impl Default for Acks {
    fn default() -> Self {
        // Sequence numbers start at 1.
        Self {
            base: 1,
            slots: VecDeque::new(),
            failure: None,
        }
    }
}

impl Acks {
    pub(super) fn ack(&mut self, seq: u64, slot: Slot) {
        let Some(i) = seq.checked_sub(self.base).map(|i| i as usize) else {
            return;
        };
        if self.slots.len() <= i {
            self.slots.resize(i + 1, Slot::Pending);
        }
        self.slots[i] = slot;
    }

    /// Whether the broker has acknowledged a record yet.
    pub(super) fn started(&self) -> bool {
        self.base > 1 || matches!(self.slots.front(), Some(Slot::Acked(_)))
    }

    /// The fate of record `base` once it is known, moving on.
    pub(super) fn pop(&mut self) -> Option<Slot> {
        match self.slots.front() {
            Some(Slot::Pending) | None => None,
            Some(_) => {
                self.base += 1;
                self.slots.pop_front()
            }
        }
    }
}

/// A polled batch whose records were sent; those before `acked` are
/// acknowledged. Records stay in the batch they were polled in: moving
/// each one into a queue and out again would copy it twice.
pub(super) struct Submitted {
    pub(super) kept: Kept,
    pub(super) acked: usize,
}

/// What the task loop keeps of a batch until it is acknowledged.
pub(super) enum Kept {
    /// The records, for a task whose `commit_record` reads them.
    Records(Arc<Vec<SourceRecord>>),
    /// For any other task, only the offsets: `(place in the batch,
    /// partition, offset)` of each record that carries one.
    Offsets {
        len: usize,
        offsets: VecDeque<(usize, Arc<SourcePartition>, SourceOffset)>,
    },
}

impl Submitted {
    fn len(&self) -> usize {
        match &self.kept {
            Kept::Records(r) => r.len(),
            Kept::Offsets { len, .. } => *len,
        }
    }

    /// Tells the task about the next record (when it reads them) and
    /// returns its offset, if it carries one.
    fn ack_next(
        &mut self,
        task: &mut Box<dyn SourceTask>,
        meta: Option<RecordMetadata>,
    ) -> anyhow::Result<Option<(Arc<SourcePartition>, SourceOffset)>> {
        let i = self.acked;
        self.acked += 1;
        Ok(match &mut self.kept {
            Kept::Records(records) => {
                let record = &records[i];
                task.commit_record(record, meta).map_err(failed)?;
                let offset = record.source_offset.clone();
                offset.map(|o| (record.source_partition.clone(), o))
            }
            Kept::Offsets { offsets, .. } => match offsets.front() {
                Some((at, _, _)) if *at == i => offsets.pop_front().map(|(_, p, o)| (p, o)),
                _ => None,
            },
        })
    }
}

/// Offsets of acknowledged records not yet written, one per source
/// partition (few, so a list compared by value beats hashing JSON).
pub(super) type Latest = Vec<(Arc<SourcePartition>, SourceOffset)>;

/// Records sent and not yet committed: those waiting for the broker's
/// acknowledgement (in sequence order), then the offsets of acknowledged ones.
pub(super) struct Outstanding {
    pub(super) acks: Arc<Mutex<Acks>>,
    pub(super) pending: VecDeque<Submitted>,
    /// Records in `pending` not yet acknowledged.
    pub(super) unacked: usize,
    pub(super) latest: Latest,
    /// Reused between drains: the acknowledgements taken under the lock.
    pub(super) scratch: Vec<Slot>,
    /// Records skipped into the dead letter queue must be there before
    /// the offsets past them are written.
    pub(super) dlq: Option<Arc<DeadLetterQueue>>,
    /// When the broker last acknowledged a record (or nothing was waiting).
    pub(super) progress: Instant,
    /// The task's status says records are not being delivered.
    pub(super) stalled: bool,
}

impl Outstanding {
    /// Moves the acknowledged prefix of `pending` into `latest`, telling the
    /// task about each record.
    pub(super) fn drain(&mut self, task: &mut Box<dyn SourceTask>) -> anyhow::Result<()> {
        // Take the acknowledgements under the lock; handle the records after it.
        let mut metas = std::mem::take(&mut self.scratch);
        {
            let mut a = self.acks.lock();
            while metas.len() < self.unacked {
                let Some(meta) = a.pop() else { break };
                metas.push(meta);
            }
        }
        self.unacked -= metas.len();
        if !metas.is_empty() || self.unacked == 0 {
            self.progress = Instant::now();
        }
        for meta in metas.drain(..) {
            let Some(batch) = self.pending.front_mut() else {
                break;
            };
            let meta = match meta {
                Slot::Acked(m) => Some(m),
                _ => None,
            };
            if let Some((partition, offset)) = batch.ack_next(task, meta)? {
                match self
                    .latest
                    .iter_mut()
                    .find(|(p, _)| Arc::ptr_eq(p, &partition) || *p == partition)
                {
                    Some(slot) => slot.1 = offset,
                    None => self.latest.push((partition, offset)),
                }
            }
            if batch.acked == batch.len() {
                self.pending.pop_front();
            }
        }
        self.scratch = metas;
        Ok(())
    }

    /// Records waiting longer than `weir.delivery.warning.ms` are named in
    /// the task's status (and the log) until the broker acknowledges again.
    pub(super) fn watch_delivery(&mut self, env: &TaskEnv) {
        let waited = self.progress.elapsed();
        let stalled = self.unacked > 0 && waited >= env.worker.delivery_warning;
        if stalled {
            // Said again each time (the counts move on, and a pause or a
            // poll retry may have replaced the trace meanwhile).
            let why = format!(
                "{} record(s) not acknowledged by the Kafka cluster at bootstrap.servers={} for {} s; they are held and sent when it answers",
                self.unacked,
                env.worker.bootstrap_servers,
                waited.as_secs()
            );
            if !self.stalled {
                tracing::warn!("{why}");
            }
            env.trouble(Some(why));
        } else if self.stalled {
            tracing::info!("the Kafka cluster acknowledges records again");
            env.trouble(None);
        }
        self.stalled = stalled;
    }

    /// Writes the offsets of everything acknowledged so far.
    pub(super) async fn commit(
        &mut self,
        env: &TaskEnv,
        task: &mut Box<dyn SourceTask>,
    ) -> anyhow::Result<()> {
        self.drain(task)?;
        if self.latest.is_empty() {
            return Ok(());
        }
        if let Some(d) = self.dlq.clone() {
            let wait = env.worker.shutdown_timeout.max(Duration::from_secs(30));
            tokio::task::spawn_blocking(move || d.flush(wait))
                .await
                .context("dead letter queue flush thread")??;
        }
        let started = Instant::now();
        let entries: Vec<(SourcePartition, Option<SourceOffset>)> =
            std::mem::take(&mut self.latest)
                .into_iter()
                .map(|(p, o)| (Arc::unwrap_or_clone(p), Some(o)))
                .collect();
        let n = entries.len();
        let store = env.offsets.clone();
        let connector = env.id.connector.clone();
        let written = tokio::task::spawn_blocking(move || store.commit(&connector, &entries))
            .await
            .context("offset commit thread")
            .and_then(|r| r);
        let m = &env.metrics;
        m.offset_commit_time.record_time(started);
        if let Err(e) = written {
            m.offset_commit_failure.fetch_add(1, Ordering::Relaxed);
            m.error();
            return Err(e);
        }
        m.offset_commit_success.fetch_add(1, Ordering::Relaxed);
        task.commit().await.map_err(failed)?;
        tracing::debug!("committed offsets of {n} source partition(s)");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(offset: i64) -> Slot {
        Slot::Acked(RecordMetadata {
            partition: 0,
            offset,
        })
    }

    #[test]
    fn acknowledgements_are_taken_in_order_and_the_first_one_is_seen() {
        let mut a = Acks::default();
        assert!(!a.started());
        // The second record's report comes first: nothing can be taken yet.
        a.ack(2, meta(1));
        assert!(!a.started());
        assert_eq!(a.pop(), None);
        a.ack(1, meta(0));
        assert!(a.started());
        assert_eq!(a.pop(), Some(meta(0)));
        assert_eq!(a.pop(), Some(meta(1)));
        assert_eq!(a.pop(), None);
        // Taken, the records before stay seen.
        assert!(a.started());
        // A dropped record is done, but not acknowledged by the broker.
        let mut b = Acks::default();
        b.ack(1, Slot::Dropped);
        assert!(!b.started());
        assert_eq!(b.pop(), Some(Slot::Dropped));
    }
}
