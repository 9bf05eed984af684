//! The source task loop: poll, convert, produce (acks=all, one request in
//! flight, as Kafka Connect's worker sets its task producers), and
//! commit source offsets as the acknowledged prefix every
//! `offset.flush.interval.ms`.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use connect_api::{ConnectError, RecordMetadata, SourceTask, SourceTaskContext};
use parking_lot::Mutex;
use rdkafka::config::ClientConfig;
use rdkafka::producer::{DeliveryResult, ProducerContext};
use rdkafka::{ClientContext, Message};

use crate::kafka::polled::PolledProducer;
use crate::runtime::metrics::TaskMetrics;
use crate::runtime::topic_creation::TopicCreation;
use crate::runtime::{retry_backoff, State, Target, TaskEnv};

mod outstanding;
mod sender;
use crate::store::ConnectorOffsets;
use outstanding::{Acks, Kept, Latest, Outstanding, Slot, Submitted};
use sender::{Batch, Pipeline, Sender};

/// The source producer's first reconnect backoff (librdkafka's default is
/// 100 ms, the Java client's 50 ms; later ones double up to
/// `reconnect.backoff.max.ms`). librdkafka also opens a connection to a
/// broker it learned from metadata no sooner than half of this (at least
/// 11 ms) after the bootstrap connection: at its default every task's first
/// records waited 50 ms for that.
const RECONNECT_BACKOFF_MS: &str = "20";

/// A source task's producer settings: Kafka Connect's worker defaults
/// (`acks=all`, idempotence off, one request in flight per connection, so
/// records keep their order through retries), then the worker's `producer.`
/// and the connector's `producer.override.` settings (`own`), which win.
///
/// Why idempotence is off (Kafka Connect's reason and librdkafka's): see
/// "The source producer" in ARCHITECTURE.md.
fn producer_config(
    bootstrap: &str,
    client_id: String,
    own: impl IntoIterator<Item = (String, String)>,
) -> ClientConfig {
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", bootstrap)
        .set("acks", "all")
        .set("enable.idempotence", "false")
        .set("max.in.flight.requests.per.connection", "1")
        .set("partitioner", "murmur2_random")
        .set("message.timeout.ms", "0")
        .set("reconnect.backoff.ms", RECONNECT_BACKOFF_MS)
        .set("client.id", client_id);
    for (k, v) in own {
        cfg.set(k, v);
    }
    cfg
}

struct AckContext {
    acks: Arc<Mutex<Acks>>,
    /// `source-record-write-total` counts records as the broker acknowledges them.
    metrics: Arc<TaskMetrics>,
}

impl ClientContext for AckContext {}

impl ProducerContext for AckContext {
    /// The record's sequence number (an integer opaque: no allocation per record).
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, seq: usize) {
        let mut a = self.acks.lock();
        match result {
            Ok(m) => {
                self.metrics.write.add(1);
                a.ack(
                    seq as u64,
                    Slot::Acked(RecordMetadata {
                        partition: m.partition(),
                        offset: m.offset(),
                    }),
                )
            }
            Err((e, m)) => {
                a.failure.get_or_insert_with(|| {
                    format!(
                        "Unrecoverable exception from producer send callback for topic {}: {e}",
                        m.topic()
                    )
                });
            }
        }
    }
}

/// Runs one source task until it is told to stop or it fails.
pub async fn run(env: TaskEnv, mut task: Box<dyn SourceTask>) -> anyhow::Result<()> {
    let connector = env.id.connector.clone();
    let converters = env.worker.converters(&env.props)?;
    let cfg = producer_config(
        &env.worker.bootstrap_servers,
        format!("connector-producer-{}-{}", connector, env.id.task),
        env.worker.client_props("producer.", &env.props)?,
    );
    let acks = Arc::new(Mutex::new(Acks::default()));
    let producer: Arc<PolledProducer<AckContext>> = Arc::new(
        cfg.create_with_context(AckContext {
            acks: acks.clone(),
            metrics: env.metrics.clone(),
        })
        .context("creating the task's producer")?,
    );

    let offsets = Arc::new(ConnectorOffsets {
        store: env.offsets.clone(),
        connector: connector.clone(),
    });
    let ctx = SourceTaskContext {
        configs: env.props.clone(),
        offsets,
    };
    let (chain, tolerance, dlq) = super::errors::task_handling(&env).await?;
    let dlq = dlq.map(Arc::new);
    let creation = if TopicCreation::wanted(&env.worker.props, &env.props) {
        Some(TopicCreation::from_props(&env.props).map_err(super::errors::joined)?)
    } else {
        None
    };
    task.start(&env.props, ctx).await.map_err(failed)?;
    let pipeline = Pipeline {
        chain,
        tolerance,
        dlq: dlq.clone(),
        creation,
    };
    let mut sender = Sender::spawn(&env, producer.clone(), converters, acks.clone(), pipeline)?;
    // A task that does not read its records back hands them to the sender.
    let hands_over = !task.reads_committed_records();
    env.running();

    let mut out = Outstanding {
        acks: acks.clone(),
        pending: VecDeque::new(),
        unacked: 0,
        latest: Latest::new(),
        scratch: Vec::new(),
        dlq,
        progress: Instant::now(),
        stalled: false,
    };
    let mut next_commit = Instant::now() + env.worker.offset_flush_interval;
    let mut control = env.control.clone();
    let mut attempt = 0u32;
    let result = loop {
        let target = *control.borrow();
        if target == Target::Stop {
            break Ok(());
        }
        env.set_state(if target == Target::Pause {
            State::Paused
        } else {
            State::Running
        });
        if let Some(f) = acks.lock().failure.clone() {
            break Err(anyhow::anyhow!(f));
        }
        if Instant::now() >= next_commit {
            out.commit(&env, &mut task).await?;
            next_commit = Instant::now() + env.worker.offset_flush_interval;
        }
        if target == Target::Pause {
            // Paused: no polling, offsets still committed on schedule.
            let _ = tokio::time::timeout(Duration::from_millis(500), control.changed()).await;
            out.drain(&mut task)?;
            out.watch_delivery(&env);
            continue;
        }
        let polled_at = Instant::now();
        let records = tokio::select! {
            r = task.poll() => r,
            _ = control.changed() => continue,
        };
        let records = match records {
            Ok(r) => {
                if attempt > 0 {
                    attempt = 0;
                    env.trouble(None);
                }
                if !r.is_empty() {
                    env.metrics.poll.add(r.len() as u64);
                    env.metrics.batch_size.record(r.len() as u64);
                    env.metrics.poll_batch_time.record_time(polled_at);
                }
                r
            }
            Err(e) if e.is_retriable() => {
                attempt += 1;
                env.metrics.retries.fetch_add(1, Ordering::Relaxed);
                env.metrics.error();
                let wait = retry_backoff(attempt);
                tracing::warn!("poll failed, retrying in {wait:?}: {e}");
                env.trouble(Some(format!(
                    "poll failed {attempt} time(s) in a row, retrying in {wait:?}: {}",
                    e.message()
                )));
                tokio::time::sleep(wait).await;
                continue;
            }
            Err(e) => break Err(failed(e)),
        };
        // The topics in use, checked once per batch (and per change of
        // topic within it), so one reset through REST is seen at the next batch.
        let mut last_topic: Option<&Arc<str>> = None;
        for record in &records {
            if last_topic.is_some_and(|t| Arc::ptr_eq(t, &record.topic) || **t == *record.topic) {
                continue;
            }
            let mut topics = env.topics.lock();
            if !topics.contains(&*record.topic) {
                topics.insert(record.topic.to_string());
            }
            last_topic = Some(&record.topic);
        }
        if !records.is_empty() {
            let n = records.len();
            let (mut batch, kept) = if hands_over {
                let offsets = records
                    .iter()
                    .enumerate()
                    .filter_map(|(i, r)| {
                        let o = r.source_offset.clone()?;
                        Some((i, r.source_partition.clone(), o))
                    })
                    .collect();
                (
                    Some(Batch::Owned(records)),
                    Kept::Offsets { len: n, offsets },
                )
            } else {
                let records = Arc::new(records);
                (Some(Batch::Shared(records.clone())), Kept::Records(records))
            };
            // The sender waits while librdkafka's queue is full (the broker
            // does not answer): the wait is watched meanwhile.
            let sent = loop {
                match tokio::time::timeout(Duration::from_secs(1), sender.room()).await {
                    Ok(Some(room)) => {
                        if let Some(b) = batch.take() {
                            room.send(b);
                        }
                        break true;
                    }
                    Ok(None) => break false,
                    Err(_) => {
                        out.drain(&mut task)?;
                        out.watch_delivery(&env);
                    }
                }
            };
            if !sent {
                // The sender stopped; its error (if it had one) is in `acks`.
                acks.lock()
                    .failure
                    .get_or_insert_with(|| "the task's sender thread stopped".into());
                continue;
            }
            if out.unacked == 0 {
                // Nothing was waiting: the wait for acknowledgements starts now.
                out.progress = Instant::now();
            }
            out.unacked += n;
            out.pending.push_back(Submitted { kept, acked: 0 });
        }
        out.drain(&mut task)?;
        out.watch_delivery(&env);
        env.metrics.set_source_active(out.unacked);
    };
    // Graceful stop: send what was polled, deliver it, commit, then stop the task.
    sender.finish();
    let deadline = env.worker.shutdown_timeout;
    // The task has its own thread: blocking it here holds up no other task.
    if let Err(e) = producer.flush(deadline) {
        tracing::warn!("not every record was acknowledged within {deadline:?}: {e}");
    }
    out.commit(&env, &mut task).await?;
    task.stop().await.map_err(failed)?;
    result
}

fn failed(e: ConnectError) -> anyhow::Error {
    anyhow::anyhow!(e)
}

#[cfg(test)]
mod tests {
    use super::producer_config;
    use crate::runtime::WorkerSettings;
    use connect_api::Props;

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_producer_has_kafka_connect_s_defaults() {
        let cfg = producer_config("b:9092", "connector-producer-c-0".into(), Props::new());
        assert_eq!(cfg.get("acks"), Some("all"));
        assert_eq!(cfg.get("enable.idempotence"), Some("false"));
        assert_eq!(cfg.get("max.in.flight.requests.per.connection"), Some("1"));
        assert_eq!(cfg.get("message.timeout.ms"), Some("0"));
        assert_eq!(cfg.get("client.id"), Some("connector-producer-c-0"));
    }

    /// The worker file's `producer.` keys and the connector's
    /// `producer.override.` keys, as the task reads them, win.
    #[test]
    fn a_user_s_producer_settings_win() {
        let worker = WorkerSettings::from_props(
            props(&[
                ("key.converter", "StringConverter"),
                ("value.converter", "StringConverter"),
                ("producer.enable.idempotence", "true"),
                ("producer.acks", "1"),
            ]),
            "b:9092".into(),
            "w".into(),
        )
        .expect("settings");
        let connector = props(&[(
            "producer.override.max.in.flight.requests.per.connection",
            "5",
        )]);
        let own = worker
            .client_props("producer.", &connector)
            .expect("client props");
        let cfg = producer_config("b:9092", "id".into(), own);
        assert_eq!(cfg.get("enable.idempotence"), Some("true"));
        assert_eq!(cfg.get("max.in.flight.requests.per.connection"), Some("5"));
        assert_eq!(cfg.get("acks"), Some("1"));
    }
}
