//! The group consumer of a sink task: its context (which notes rebalances
//! and gives assigned partitions their start), and how it is let go of.
//!
//! librdkafka's close (`rd_kafka_consumer_close_queue`, which dropping a
//! `BaseConsumer` runs) can hang its caller for ever: a rebalance event that
//! the task had not served when the close began (a join that completed
//! while the task was never polled, or a revocation queued behind an
//! assignment) may be handed out after the group has terminated, and the
//! assign call that serves it then waits for an answer that never comes
//! (librdkafka issue 4884). A task stopped right after it started hit this
//! and its thread was left behind. So the consumer first unsubscribes while
//! its group is alive, serves the rebalance events that follow, and is
//! closed only once it holds no partition and nothing more arrives.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::{ClientContext, Offset};

/// How long the consumer may take to give its partitions back before it is
/// closed anyway.
const QUIESCE_LIMIT: Duration = Duration::from_secs(3);
/// How long nothing must happen before the consumer counts as settled.
const QUIET: Duration = Duration::from_millis(60);
/// How long an assignment waits for the group's committed offsets before
/// leaving the lookup to librdkafka.
const COMMITTED_WAIT: Duration = Duration::from_secs(10);

/// Notes that a rebalance happened (the task's loop reads the new
/// assignment), and gives each assigned partition its starting offset.
pub(super) struct SinkConsumerContext {
    rebalanced: Arc<AtomicBool>,
    /// Where a partition without a committed offset starts, from
    /// `auto.offset.reset`; `None` leaves it to librdkafka.
    reset: Option<Offset>,
}

impl SinkConsumerContext {
    /// `auto.offset.reset` as the consumer is configured with it.
    pub(super) fn new(rebalanced: Arc<AtomicBool>, auto_offset_reset: Option<&str>) -> Self {
        let reset = match auto_offset_reset.map(|v| v.trim().to_ascii_lowercase()) {
            None => Some(Offset::End),
            Some(v) => match v.as_str() {
                "earliest" | "smallest" | "beginning" => Some(Offset::Beginning),
                "latest" | "largest" | "end" => Some(Offset::End),
                _ => None,
            },
        };
        Self { rebalanced, reset }
    }
}

impl ClientContext for SinkConsumerContext {}

impl ConsumerContext for SinkConsumerContext {
    /// An assigned partition starts at its committed offset, else where
    /// `auto.offset.reset` says. librdkafka would find the same, but for a
    /// partition with nothing committed it waits a fixed 100 ms before it
    /// looks up the reset offset (`rd_kafka_offset_reset`), which every new
    /// sink paid before its first record.
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let (Rebalance::Assign(tpl), Some(reset)) = (rebalance, self.reset) else {
            return;
        };
        if tpl.count() == 0 {
            return;
        }
        let committed = match consumer.committed_offsets((*tpl).clone(), COMMITTED_WAIT) {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!("committed offsets at assignment: {e}; librdkafka looks them up");
                return;
            }
        };
        for mut e in tpl.elements() {
            let start = match committed.find_partition(e.topic(), e.partition()) {
                Some(c) if matches!(c.offset(), Offset::Offset(_)) => c.offset(),
                _ => reset,
            };
            if let Err(err) = e.set_offset(start) {
                tracing::debug!("{}-{}: {err}", e.topic(), e.partition());
            }
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, _: &Rebalance<'_>) {
        self.rebalanced.store(true, Ordering::SeqCst);
    }
}

/// Unsubscribes, serves what follows until the consumer holds no partition
/// and a short while passes without a rebalance, then closes it. Records
/// still arriving are dropped: the task has been closed and its offsets
/// committed before this is called.
pub(super) fn close(consumer: BaseConsumer<SinkConsumerContext>) {
    let rebalanced = consumer.context().rebalanced.clone();
    consumer.unsubscribe();
    let start = Instant::now();
    let mut quiet_since = Instant::now();
    while start.elapsed() < QUIESCE_LIMIT {
        let _ = consumer.poll(Duration::from_millis(20));
        if rebalanced.swap(false, Ordering::SeqCst) {
            quiet_since = Instant::now();
            continue;
        }
        let holds = consumer.assignment().map_or(0, |a| a.count());
        if holds == 0 && quiet_since.elapsed() >= QUIET {
            break;
        }
    }
    drop(consumer);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::config::ClientConfig;

    /// The case that hung: a consumer whose group assigned it partitions
    /// while it was never polled, closed right away, as a task stopped just
    /// after it started is. Each round has its own group and topic.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_consumer_never_polled_closes_after_its_group_assigned_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let broker = crate::runtime::test_broker::start(dir.path(), 2).await;
        let boot = broker.bootstrap();
        for round in 0..5 {
            let boot = boot.clone();
            let (done, finished) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let consumer: BaseConsumer<SinkConsumerContext> = ClientConfig::new()
                    .set("bootstrap.servers", &boot)
                    .set("group.id", format!("never-polled-{round}"))
                    .set("group.instance.id", format!("never-polled-{round}-0"))
                    .set("allow.auto.create.topics", "true")
                    .create_with_context(SinkConsumerContext::new(Arc::default(), Some("earliest")))
                    .expect("consumer");
                let topic = format!("never-polled-{round}");
                consumer
                    .fetch_metadata(Some(&topic), Duration::from_secs(5))
                    .expect("topic created");
                consumer.subscribe(&[&topic]).expect("subscribe");
                // The join and the assignment complete meanwhile; the
                // assignment waits in the queue, unserved.
                std::thread::sleep(Duration::from_millis(1500));
                close(consumer);
                let _ = done.send(());
            });
            let waited = tokio::task::spawn_blocking(move || {
                finished.recv_timeout(QUIESCE_LIMIT + Duration::from_secs(10))
            })
            .await
            .expect("join");
            assert!(
                waited.is_ok(),
                "round {round}: closing the consumer did not finish"
            );
        }
    }

    /// Where an assigned partition starts: its committed offset when the
    /// group has one, else the end or the beginning by `auto.offset.reset`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn assigned_partitions_start_at_the_committed_offset_else_by_the_reset() {
        use rdkafka::consumer::CommitMode;
        use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
        use rdkafka::{Message, TopicPartitionList};

        let dir = tempfile::tempdir().expect("tempdir");
        let broker = crate::runtime::test_broker::start(dir.path(), 1).await;
        let boot = broker.bootstrap();
        tokio::task::spawn_blocking(move || {
            let producer: BaseProducer = ClientConfig::new()
                .set("bootstrap.servers", &boot)
                .create()
                .expect("producer");
            let send = |n: usize| {
                for i in 0..n {
                    let v = format!("{i}");
                    producer
                        .send(BaseRecord::<(), str>::to("starts").payload(&v))
                        .expect("send");
                }
                producer.flush(Duration::from_secs(10)).expect("flush");
            };
            send(5);
            // The first offset each consumer reads, after `more` records
            // are sent once it holds its partition.
            let first = |group: &str, reset: &str, more: usize| -> i64 {
                let consumer: BaseConsumer<SinkConsumerContext> = ClientConfig::new()
                    .set("bootstrap.servers", &boot)
                    .set("group.id", group)
                    .set("enable.auto.commit", "false")
                    .create_with_context(SinkConsumerContext::new(Arc::default(), Some(reset)))
                    .expect("consumer");
                consumer.subscribe(&["starts"]).expect("subscribe");
                let deadline = Instant::now() + Duration::from_secs(20);
                let mut sent = false;
                while Instant::now() < deadline {
                    // The message is gone before the consumer is closed:
                    // librdkafka's destroy waits for every message it lent.
                    let read = consumer
                        .poll(Duration::from_millis(100))
                        .and_then(Result::ok)
                        .map(|m| m.offset());
                    if let Some(at) = read {
                        let mut done = TopicPartitionList::new();
                        done.add_partition_offset("starts", 0, rdkafka::Offset::Offset(at + 1))
                            .expect("offset");
                        consumer.commit(&done, CommitMode::Sync).expect("commit");
                        close(consumer);
                        return at;
                    }
                    if !sent && consumer.assignment().map_or(0, |a| a.count()) > 0 {
                        // Held, and the start looked up: new records now.
                        std::thread::sleep(Duration::from_millis(500));
                        send(more);
                        sent = true;
                    }
                }
                panic!("{group}: no record within 20 s");
            };
            assert_eq!(first("from-earliest", "earliest", 0), 0);
            assert_eq!(
                first("from-latest", "latest", 1),
                5,
                "latest: the record sent after"
            );
            // A group with a committed offset starts there, whatever the reset.
            assert_eq!(first("from-earliest", "latest", 0), 1);
        })
        .await
        .expect("join");
    }
}
