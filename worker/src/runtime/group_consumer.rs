//! The group consumer of a sink task: its context, and how it is let go of.
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
use rdkafka::ClientContext;

/// How long the consumer may take to give its partitions back before it is
/// closed anyway.
const QUIESCE_LIMIT: Duration = Duration::from_secs(3);
/// How long nothing must happen before the consumer counts as settled.
const QUIET: Duration = Duration::from_millis(60);

/// Notes that a rebalance happened; the task's loop reads the new assignment.
pub(super) struct RebalanceFlag(pub Arc<AtomicBool>);

impl ClientContext for RebalanceFlag {}

impl ConsumerContext for RebalanceFlag {
    fn post_rebalance(&self, _: &BaseConsumer<Self>, _: &Rebalance<'_>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Unsubscribes, serves what follows until the consumer holds no partition
/// and a short while passes without a rebalance, then closes it. Records
/// still arriving are dropped: the task has been closed and its offsets
/// committed before this is called.
pub(super) fn close(consumer: BaseConsumer<RebalanceFlag>) {
    let rebalanced = consumer.context().0.clone();
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
                let consumer: BaseConsumer<RebalanceFlag> = ClientConfig::new()
                    .set("bootstrap.servers", &boot)
                    .set("group.id", format!("never-polled-{round}"))
                    .set("group.instance.id", format!("never-polled-{round}-0"))
                    .set("allow.auto.create.topics", "true")
                    .create_with_context(RebalanceFlag(Arc::default()))
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
}
