//! The sink task loop: consume as group `connect-<connector>`, convert, `put`
//! in batches, and commit what `pre_commit` says is durable every
//! `offset.flush.interval.ms`, on revocation and on stop.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use connect_api::{
    ConnectError, Header as ConnectHeader, Offsets, SinkRecord, SinkTask, SinkTaskContext,
    TimestampType, TopicPartition,
};
use parking_lot::Mutex;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::message::{BorrowedMessage, Headers, Message, Timestamp};
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use super::config::Converters;
use super::{retry_backoff, State, Target, TaskEnv};

/// Records handed to `put` at most at once (Kafka's `max.poll.records`).
const MAX_BATCH: usize = 500;

/// What the task asked of the runtime through its context.
#[derive(Default)]
struct Requests {
    assignment: Mutex<Vec<TopicPartition>>,
    seeks: Mutex<Vec<(TopicPartition, i64)>>,
    pause: Mutex<Vec<TopicPartition>>,
    resume: Mutex<Vec<TopicPartition>>,
    timeout_ms: AtomicU64,
    commit: AtomicBool,
}

struct TaskContext(Arc<Requests>);

impl SinkTaskContext for TaskContext {
    fn assignment(&self) -> Vec<TopicPartition> {
        self.0.assignment.lock().clone()
    }
    fn offset(&self, tp: &TopicPartition, offset: i64) {
        self.0.seeks.lock().push((tp.clone(), offset));
    }
    fn timeout(&self, ms: u64) {
        self.0.timeout_ms.store(ms, Ordering::Relaxed);
    }
    fn pause(&self, partitions: &[TopicPartition]) {
        self.0.pause.lock().extend_from_slice(partitions);
    }
    fn resume(&self, partitions: &[TopicPartition]) {
        self.0.resume.lock().extend_from_slice(partitions);
    }
    fn request_commit(&self) {
        self.0.commit.store(true, Ordering::Relaxed);
    }
}

/// Notes that a rebalance happened; the loop reads the new assignment.
struct RebalanceFlag(Arc<AtomicBool>);

impl ClientContext for RebalanceFlag {}

impl ConsumerContext for RebalanceFlag {
    fn post_rebalance(&self, _: &BaseConsumer<Self>, _: &Rebalance<'_>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn tpl(items: &[TopicPartition]) -> TopicPartitionList {
    let mut t = TopicPartitionList::new();
    for tp in items {
        t.add_partition(&tp.topic, tp.partition);
    }
    t
}

fn to_record(m: &BorrowedMessage<'_>, conv: &Converters) -> Result<SinkRecord, ConnectError> {
    let topic = m.topic();
    let key = conv.key.decode(topic, m.key())?;
    let value = conv.value.decode(topic, m.payload())?;
    let mut headers = Vec::new();
    if let Some(h) = m.headers() {
        for x in h.iter() {
            headers.push(ConnectHeader {
                key: x.key.to_string(),
                value: conv.header.decode(topic, x.value)?,
            });
        }
    }
    let (timestamp, timestamp_type) = match m.timestamp() {
        Timestamp::CreateTime(t) => (Some(t), TimestampType::CreateTime),
        Timestamp::LogAppendTime(t) => (Some(t), TimestampType::LogAppendTime),
        Timestamp::NotAvailable => (None, TimestampType::NoTimestamp),
    };
    Ok(SinkRecord {
        topic: topic.to_string(),
        partition: m.partition(),
        offset: m.offset(),
        key,
        value,
        timestamp,
        timestamp_type,
        headers,
        original_topic: topic.to_string(),
        original_partition: m.partition(),
        original_offset: m.offset(),
    })
}

fn commit_offsets(consumer: &BaseConsumer<RebalanceFlag>, offsets: &Offsets) -> anyhow::Result<()> {
    if offsets.is_empty() {
        return Ok(());
    }
    let mut t = TopicPartitionList::new();
    for (tp, o) in offsets {
        t.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*o))?;
    }
    consumer
        .commit(&t, CommitMode::Sync)
        .context("committing consumer offsets")
}

/// Commits `safe` unless it is what was committed last (a skip), timing
/// it. A failed commit (the group rebalancing, its coordinator restarting)
/// does not fail the task, as in Kafka Connect: it is logged, the next
/// commit covers the same records, and until then they may be delivered
/// again.
fn commit_if_new(
    env: &TaskEnv,
    consumer: &BaseConsumer<RebalanceFlag>,
    safe: Offsets,
    committed: &mut Offsets,
) {
    let m = &env.metrics;
    if safe.is_empty() || safe == *committed {
        m.commit_skip.add(1);
        return;
    }
    let started = Instant::now();
    let result = commit_offsets(consumer, &safe);
    m.offset_commit_time.record_time(started);
    match &result {
        Ok(()) => {
            m.offset_commit_success.fetch_add(1, Ordering::Relaxed);
            m.commit_completion.add(1);
            m.set_sink_active(0);
            *committed = safe;
        }
        Err(e) => {
            m.offset_commit_failure.fetch_add(1, Ordering::Relaxed);
            m.error();
            tracing::warn!("offset commit failed, retried at the next commit: {e:#}");
        }
    }
}

/// Runs one sink task until it is told to stop or it fails.
pub async fn run(env: TaskEnv, mut task: Box<dyn SinkTask>) -> anyhow::Result<()> {
    let connector = env.id.connector.clone();
    let converters = env.worker.converters(&env.props)?;
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", &env.worker.bootstrap_servers)
        .set("group.id", format!("connect-{connector}"))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set(
            "fetch.queue.backoff.ms",
            crate::kafka::FETCH_QUEUE_BACKOFF_MS,
        )
        .set(
            "client.id",
            format!("connector-consumer-{}-{}", connector, env.id.task),
        );
    if env.worker.standalone {
        cfg.set(
            "group.instance.id",
            format!("connect-{connector}-{}", env.id.task),
        );
    }
    for (k, v) in env.worker.client_props("consumer.", &env.props) {
        cfg.set(k, v);
    }
    let rebalanced = Arc::new(AtomicBool::new(false));
    let consumer: BaseConsumer<RebalanceFlag> = cfg
        .create_with_context(RebalanceFlag(rebalanced.clone()))
        .context("creating the task's consumer")?;
    match env
        .props
        .get("topics.regex")
        .filter(|r| !r.trim().is_empty())
    {
        Some(re) => consumer.subscribe(&[&format!("^{}", re.trim())])?,
        None => {
            let topics: Vec<&str> = env
                .props
                .get("topics")
                .map(|t| {
                    t.split(',')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            consumer.subscribe(&topics)?;
        }
    }
    let requests = Arc::new(Requests::default());
    task.start(&env.props, Arc::new(TaskContext(requests.clone())))
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    env.running();

    let mut assigned: Vec<TopicPartition> = Vec::new();
    let mut current: Offsets = BTreeMap::new();
    let mut next_commit = Instant::now() + env.worker.offset_flush_interval;
    let mut attempt = 0u32;
    let mut paused = false;
    let mut committed: Offsets = BTreeMap::new();
    let result: anyhow::Result<()> = loop {
        let target = *env.control.borrow();
        if target == Target::Stop {
            break Ok(());
        }
        // Pausing pauses every assigned partition; polling goes on so the
        // group membership stays alive.
        let want_pause = target == Target::Pause;
        if want_pause != paused || (paused && rebalanced.load(Ordering::SeqCst)) {
            let all = consumer.assignment()?;
            if want_pause {
                consumer.pause(&all)?;
            } else {
                consumer.resume(&all)?;
            }
            paused = want_pause;
            env.set_state(if paused {
                State::Paused
            } else {
                State::Running
            });
        }
        if rebalanced.swap(false, Ordering::SeqCst) {
            let now: Vec<TopicPartition> = consumer
                .assignment()?
                .elements()
                .iter()
                .map(|e| TopicPartition {
                    topic: e.topic().to_string(),
                    partition: e.partition(),
                })
                .collect();
            let gone: Vec<TopicPartition> = assigned
                .iter()
                .filter(|p| !now.contains(p))
                .cloned()
                .collect();
            let new: Vec<TopicPartition> = now
                .iter()
                .filter(|p| !assigned.contains(p))
                .cloned()
                .collect();
            if !gone.is_empty() {
                task.close(&gone).await.map_err(|e| anyhow::anyhow!(e))?;
                current.retain(|tp, _| !gone.contains(tp));
            }
            if !new.is_empty() {
                task.open(&new).await.map_err(|e| anyhow::anyhow!(e))?;
            }
            env.metrics
                .partition_count
                .store(now.len() as u64, Ordering::Relaxed);
            assigned = now.clone();
            *requests.assignment.lock() = now;
        }
        for (tp, o) in std::mem::take(&mut *requests.seeks.lock()) {
            consumer.seek(
                &tp.topic,
                tp.partition,
                Offset::Offset(o),
                Duration::from_secs(10),
            )?;
            current.insert(tp, o);
        }
        let p = std::mem::take(&mut *requests.pause.lock());
        if !p.is_empty() {
            consumer.pause(&tpl(&p))?;
        }
        let r = std::mem::take(&mut *requests.resume.lock());
        if !r.is_empty() {
            consumer.resume(&tpl(&r))?;
        }
        if Instant::now() >= next_commit || requests.commit.swap(false, Ordering::Relaxed) {
            let safe = task
                .pre_commit(&current)
                .await
                .map_err(|e| anyhow::anyhow!(e))?;
            commit_if_new(&env, &consumer, safe, &mut committed);
            next_commit = Instant::now() + env.worker.offset_flush_interval;
        }
        // Gather a batch: wait briefly for the first record, then take what is ready.
        let mut batch = Vec::new();
        let mut wait = Duration::from_millis(100);
        while batch.len() < MAX_BATCH {
            match consumer.poll(wait) {
                None => break,
                Some(Ok(m)) => {
                    if !env.topics.lock().contains(m.topic()) {
                        env.topics.lock().insert(m.topic().to_string());
                    }
                    let record = to_record(&m, &converters).map_err(|e| {
                        env.metrics.record_failures.fetch_add(1, Ordering::Relaxed);
                        env.metrics.error();
                        anyhow::anyhow!(
                            "{e} (topic {} partition {} offset {})",
                            m.topic(),
                            m.partition(),
                            m.offset()
                        )
                    })?;
                    batch.push(record);
                }
                Some(Err(e)) => tracing::warn!("consumer: {e}"),
            }
            wait = Duration::ZERO;
        }
        if batch.is_empty() {
            continue;
        }
        let m = &env.metrics;
        m.read.add(batch.len() as u64);
        m.batch_size.record(batch.len() as u64);
        m.set_sink_active(m.sink_active_now.load(Ordering::Relaxed) as usize + batch.len());
        let next: Vec<(TopicPartition, i64)> = batch
            .iter()
            .map(|r| {
                (
                    TopicPartition {
                        topic: r.original_topic.clone(),
                        partition: r.original_partition,
                    },
                    r.original_offset + 1,
                )
            })
            .collect();
        // A retriable failure redelivers the same batch after a pause.
        loop {
            let put_at = Instant::now();
            match task.put(&batch).await {
                Ok(()) => {
                    m.put_batch_time.record_time(put_at);
                    m.send.add(batch.len() as u64);
                    tracing::debug!("put {} record(s)", batch.len());
                    attempt = 0;
                    break;
                }
                Err(e) if e.is_retriable() && *env.control.borrow() != Target::Stop => {
                    attempt += 1;
                    m.retries.fetch_add(1, Ordering::Relaxed);
                    m.error();
                    let asked = requests.timeout_ms.load(Ordering::Relaxed);
                    let wait = if asked > 0 {
                        Duration::from_millis(asked)
                    } else {
                        retry_backoff(attempt)
                    };
                    tracing::warn!(
                        "put failed, redelivering {} records in {wait:?}: {e}",
                        batch.len()
                    );
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(anyhow::anyhow!(e)),
            }
        }
        for (tp, o) in next {
            current.insert(tp, o);
        }
    };
    let safe = task
        .pre_commit(&current)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    commit_if_new(&env, &consumer, safe, &mut committed);
    if !assigned.is_empty() {
        task.close(&assigned)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
    }
    task.stop().await.map_err(|e| anyhow::anyhow!(e))?;
    drop(consumer);
    if env.worker.standalone {
        // A static member stays in the group after closing; leave explicitly
        // so the group is empty (offsets can then be altered or reset).
        let group = format!("connect-{connector}");
        let instance = format!("{group}-{}", env.id.task);
        if let Err(e) = leave_group(&env, &group, &instance).await {
            tracing::warn!("leaving group {group}: {e:#}");
        }
    }
    result
}

async fn leave_group(env: &TaskEnv, group: &str, instance: &str) -> anyhow::Result<()> {
    let servers = crate::kafka::split_servers(&env.worker.bootstrap_servers);
    let mut cluster = crate::kafka::admin::Cluster::connect(
        &servers,
        "weir-worker-admin",
        Duration::from_secs(5),
    )
    .await?;
    let (_, _, conn) = cluster.coordinator(group).await?;
    crate::kafka::offsets::leave_static(conn, group, instance).await
}
