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
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::message::{BorrowedMessage, Headers, Message, Timestamp};
use rdkafka::{Offset, TopicPartitionList};

use super::config::Converters;
use super::errant::{report_errant, settle, Errant, Originals, OwnedRaw};
use super::errors::{DeadLetterQueue, Failure, Origin, RawRecord, Stage, Tolerance};
use super::group_consumer::SinkConsumerContext;
use super::pattern::TopicPattern;
use super::{retry_backoff, State, Target, TaskEnv};
use connect_transforms::Chain;

/// How long a task that read nothing last time waits for a record.
const IDLE_POLL: Duration = Duration::from_millis(500);

/// The longest a task that does not act on the clock sleeps with nothing to
/// read: librdkafka counts the sleep against `max.poll.interval.ms`.
const IDLE_SLEEP: Duration = Duration::from_secs(5);

/// Records handed to `put` at most at once (Kafka's `max.poll.records`
/// default), unless `consumer.max.poll.records` says otherwise.
const MAX_BATCH: usize = 500;

/// How long a sink consumer's fetch may wait at the broker for records
/// (librdkafka's `fetch.wait.max.ms`, Kafka's `fetch.max.wait.ms`, 500 ms by
/// default), unless `consumer.fetch.max.wait.ms` says otherwise. Records end
/// the wait as they arrive, so it adds no latency; the longer wait makes an
/// idle task's consumer fetch a quarter as often, and its wakeups are much
/// of what hundreds of idle tasks cost a worker. The price: a partition newly
/// assigned to a live consumer is first fetched when its outstanding fetch
/// returns, up to this long after the assignment.
const FETCH_WAIT_MS: &str = "2000";

/// How long a starting task waits for the broker to create the topics it
/// subscribes to.
const AUTO_CREATE_PATIENCE: Duration = Duration::from_secs(5);

/// How long a seek the task asked for is tried before the task fails.
const SEEK_PATIENCE: Duration = Duration::from_secs(60);

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

struct TaskContext {
    requests: Arc<Requests>,
    errant: Option<Arc<Errant>>,
    status: Arc<Mutex<super::Status>>,
    control: tokio::sync::watch::Receiver<Target>,
}

impl SinkTaskContext for TaskContext {
    fn assignment(&self) -> Vec<TopicPartition> {
        self.requests.assignment.lock().clone()
    }
    fn offset(&self, tp: &TopicPartition, offset: i64) {
        self.requests.seeks.lock().push((tp.clone(), offset));
    }
    fn timeout(&self, ms: u64) {
        self.requests.timeout_ms.store(ms, Ordering::Relaxed);
    }
    fn pause(&self, partitions: &[TopicPartition]) {
        self.requests.pause.lock().extend_from_slice(partitions);
    }
    fn resume(&self, partitions: &[TopicPartition]) {
        self.requests.resume.lock().extend_from_slice(partitions);
    }
    fn request_commit(&self) {
        self.requests.commit.store(true, Ordering::Relaxed);
    }
    fn stopping(&self) -> bool {
        *self.control.borrow() == Target::Stop
    }
    fn trouble(&self, why: Option<String>) {
        super::set_trouble(&self.status, why);
    }
    fn errant_record_reporter(&self) -> Option<Arc<dyn connect_api::ErrantRecordReporter>> {
        self.errant
            .clone()
            .map(|e| e as Arc<dyn connect_api::ErrantRecordReporter>)
    }
}

fn tpl(items: &[TopicPartition]) -> TopicPartitionList {
    let mut t = TopicPartitionList::new();
    for tp in items {
        t.add_partition(&tp.topic, tp.partition);
    }
    t
}

/// Converts a consumed record (retrying retriable converter failures);
/// the error names the converter that failed.
fn to_record(
    m: &BorrowedMessage<'_>,
    conv: &Converters,
    tolerance: &Tolerance,
) -> Result<SinkRecord, Failure> {
    let topic = m.topic();
    fn fail(stage: Stage, class: &str) -> impl FnOnce(ConnectError) -> Failure + '_ {
        move |error| Failure {
            stage,
            class: class.to_string(),
            error,
        }
    }
    let key = tolerance
        .retrying(|| conv.key.decode(topic, m.key()))
        .map_err(fail(Stage::KeyConverter, &conv.key_class))?;
    let value = tolerance
        .retrying(|| conv.value.decode(topic, m.payload()))
        .map_err(fail(Stage::ValueConverter, &conv.value_class))?;
    let mut headers = Vec::new();
    if let Some(h) = m.headers() {
        for x in h.iter() {
            headers.push(ConnectHeader {
                key: x.key.to_string(),
                value: tolerance
                    .retrying(|| conv.header.decode(topic, x.value))
                    .map_err(fail(Stage::HeaderConverter, &conv.header_class))?,
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

/// Converts and transforms one consumed record. `Ok(None)`: a transform
/// dropped it, or it failed and `errors.tolerance=all` skips it (after
/// logging it and sending it to the dead letter queue).
fn process(
    m: &BorrowedMessage<'_>,
    conv: &Converters,
    chain: &mut Chain,
    tolerance: &Tolerance,
    dlq: Option<&DeadLetterQueue>,
) -> anyhow::Result<Option<SinkRecord>> {
    let result = to_record(m, conv, tolerance).and_then(|mut r| {
        if chain.is_empty() {
            return Ok(Some(r));
        }
        match chain.apply(&mut r) {
            Ok(true) => Ok(Some(r)),
            Ok(false) => Ok(None),
            Err(e) => Err(Failure {
                stage: Stage::Transformation,
                class: e.class.to_string(),
                error: e.error,
            }),
        }
    });
    let failure = match result {
        Ok(r) => return Ok(r),
        Err(f) => f,
    };
    let origin = Origin::Consumed {
        topic: m.topic(),
        partition: m.partition(),
        offset: m.offset(),
    };
    if let Some(d) = dlq {
        let headers = m
            .headers()
            .map(|h| h.iter().map(|x| (x.key, x.value)).collect())
            .unwrap_or_default();
        let raw = RawRecord {
            key: m.key(),
            value: m.payload(),
            headers,
            timestamp: m.timestamp().to_millis(),
        };
        d.send(&raw, &origin, &failure);
    }
    let describe = || {
        format!(
            "key={:?}, value={:?}",
            m.key().map(String::from_utf8_lossy),
            m.payload().map(String::from_utf8_lossy)
        )
    };
    if let Err(e) = tolerance.failed(&failure, &origin, describe) {
        if let Some(d) = dlq {
            // The record is in the dead letter queue before the task fails.
            let _ = d.flush(Duration::from_secs(10));
        }
        return Err(e);
    }
    Ok(None)
}

fn commit_offsets(
    consumer: &BaseConsumer<SinkConsumerContext>,
    offsets: &Offsets,
) -> anyhow::Result<()> {
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
    consumer: &BaseConsumer<SinkConsumerContext>,
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

/// Asks the broker about each of `topics` by name, which creates the ones
/// it lacks where the broker creates topics on demand (Kafka's default), as
/// a Java consumer's subscription does. Without it a consumer of a missing
/// topic would ask for metadata every second until somebody created it.
fn create_missing<C: ConsumerContext>(consumer: &BaseConsumer<C>, topics: &[&str]) {
    let deadline = Instant::now() + AUTO_CREATE_PATIENCE;
    for t in topics {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        if let Err(e) = consumer.fetch_metadata(Some(t), left) {
            tracing::debug!("asking the broker about topic {t}: {e}");
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
        .set("fetch.wait.max.ms", FETCH_WAIT_MS)
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
    // `max.poll.records` is the Java consumer's: here it bounds the
    // records handed to one `put`, and librdkafka never sees it.
    let mut max_batch = MAX_BATCH;
    for (k, v) in env.worker.client_props("consumer.", &env.props)? {
        if k == "max.poll.records" {
            max_batch = v.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                anyhow::anyhow!("Invalid value {v} for configuration consumer.max.poll.records: Value must be at least 1")
            })?;
            continue;
        }
        cfg.set(k, v);
    }
    // A Java consumer asks the broker to create the topics it subscribes to
    // (`allow.auto.create.topics`, true unless set); librdkafka's consumer
    // does only for topics it is asked about by name, which the task does
    // before it subscribes.
    let auto_create = cfg
        .get("allow.auto.create.topics")
        .is_none_or(|v| v.trim().eq_ignore_ascii_case("true"));
    if auto_create {
        cfg.set("allow.auto.create.topics", "true");
    }
    let rebalanced = Arc::new(AtomicBool::new(false));
    let idle_sleep = cfg
        .get("max.poll.interval.ms")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(IDLE_SLEEP, |ms| {
            IDLE_SLEEP.min(Duration::from_millis(ms / 2))
        });
    let mut consumer: BaseConsumer<SinkConsumerContext> = cfg
        .create_with_context(SinkConsumerContext::new(
            rebalanced.clone(),
            cfg.get("auto.offset.reset"),
        ))
        .context("creating the task's consumer")?;
    // Records, rebalances and errors wake a task that sleeps with nothing to read.
    let arrived = Arc::new(tokio::sync::Notify::new());
    consumer.set_nonempty_callback({
        let arrived = arrived.clone();
        move || arrived.notify_one()
    });
    let mut control = env.control.clone();
    let mut pattern = match env
        .props
        .get("topics.regex")
        .filter(|r| !r.trim().is_empty())
    {
        Some(re) => {
            let mut p = TopicPattern::new(re)?;
            p.refresh(&consumer)?;
            Some(p)
        }
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
            if auto_create {
                create_missing(&consumer, &topics);
            }
            consumer.subscribe(&topics)?;
            None
        }
    };
    let (mut chain, tolerance, dlq) = super::errors::task_handling(&env).await?;
    let errant = (dlq.is_some() || tolerance.settings.log).then(|| Arc::new(Errant::default()));
    let mut originals = Originals::new();
    let requests = Arc::new(Requests::default());
    task.start(
        &env.props,
        Arc::new(TaskContext {
            requests: requests.clone(),
            errant: errant.clone(),
            status: env.status.clone(),
            control: env.control.clone(),
        }),
    )
    .await
    .map_err(|e| anyhow::anyhow!(e))?;
    env.running();

    let mut assigned: Vec<TopicPartition> = Vec::new();
    let mut current: Offsets = BTreeMap::new();
    let mut next_commit = Instant::now() + env.worker.offset_flush_interval;
    let mut idle = false;
    let mut attempt = 0u32;
    let mut paused = false;
    // Seeks not made yet, with when they were asked for.
    let mut pending: BTreeMap<TopicPartition, (i64, Instant)> = BTreeMap::new();
    let mut committed: Offsets = BTreeMap::new();
    let mut batch: Vec<SinkRecord> = Vec::new();
    // Records read by the last pass, for the room kept in `batch`.
    let mut last_read = 0usize;
    let result: anyhow::Result<()> = loop {
        let target = *control.borrow_and_update();
        if target == Target::Stop {
            break Ok(());
        }
        // Pausing, rebalances, seeks and the task's pause and resume
        // requests; a failure ends the loop, so the task is still closed
        // and stopped.
        let housekeeping: anyhow::Result<()> = async {
            if let Some(p) = pattern.as_mut() {
                p.refresh(&consumer)?;
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
                    env.metrics.positions.lock().clone_from(&current);
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
            // A seek right after an assignment can fail until the partition
            // is fetching ("Erroneous state"): it is tried again each round,
            // and the partition's records are held back meanwhile (not
            // paused: a pause outliving a revocation would never be undone).
            pending.retain(|tp, _| assigned.contains(tp));
            for (tp, o) in std::mem::take(&mut *requests.seeks.lock()) {
                pending.insert(tp, (o, Instant::now()));
            }
            let mut done = Vec::new();
            for (tp, (o, since)) in &pending {
                match consumer.seek(
                    &tp.topic,
                    tp.partition,
                    Offset::Offset(*o),
                    Duration::from_secs(10),
                ) {
                    Ok(()) => done.push(tp.clone()),
                    Err(e) if since.elapsed() < SEEK_PATIENCE => {
                        tracing::debug!(
                            "seeking {}-{} to {o}: {e}; trying again",
                            tp.topic,
                            tp.partition
                        );
                    }
                    Err(e) => {
                        anyhow::bail!("seeking {}-{} to offset {o}: {e}", tp.topic, tp.partition)
                    }
                }
            }
            for tp in done {
                if let Some((o, _)) = pending.remove(&tp) {
                    current.insert(tp, o);
                }
            }
            let p = std::mem::take(&mut *requests.pause.lock());
            if !p.is_empty() {
                consumer.pause(&tpl(&p))?;
            }
            let r = std::mem::take(&mut *requests.resume.lock());
            if !r.is_empty() {
                consumer.resume(&tpl(&r))?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = housekeeping {
            break Err(e);
        }
        if Instant::now() >= next_commit || requests.commit.swap(false, Ordering::Relaxed) {
            let safe = match task.pre_commit(&current).await {
                Ok(s) => s,
                Err(e) => break Err(anyhow::anyhow!(e)),
            };
            // Records reported while flushing, and every record sent to
            // the dead letter queue, are handled before the offsets past them.
            if let Err(e) = settle(
                &errant,
                &originals,
                &converters,
                &tolerance,
                dlq.as_ref(),
                &env,
            ) {
                break Err(e);
            }
            commit_if_new(&env, &consumer, safe, &mut committed);
            next_commit = Instant::now() + env.worker.offset_flush_interval;
        }
        // Gather a batch: wait briefly for the first record, then take what
        // is ready. The list of the batch before is reused: growing a new
        // one record by record moved each batch several times over. A busy
        // task keeps room for its next batch; a quiet one gives it back.
        batch.clear();
        if batch.capacity() > 4 * last_read.max(64) {
            batch = Vec::new();
        }
        // The next offset of every record read, whether it was put, dropped
        // by a transform or skipped as an error: all of them are done.
        let mut next: Vec<(TopicPartition, i64)> = Vec::new();
        let mut read = 0usize;
        // An idle task waits longer for its first record (up to the next
        // commit), so hundreds of idle tasks do not keep the worker busy;
        // a record ends the wait as soon as it arrives. Seeks not made yet
        // are tried again at the short pace.
        let until_commit = next_commit.saturating_duration_since(Instant::now());
        let mut wait = if !idle {
            Duration::from_millis(100)
        } else if task.acts_on_time() || !pending.is_empty() {
            IDLE_POLL.min(until_commit).max(Duration::from_millis(100))
        } else {
            // Asleep until a record (or a rebalance) arrives, the worker
            // changes the target, or the commit falls due.
            tokio::select! {
                _ = arrived.notified() => {}
                changed = control.changed() => {
                    if changed.is_err() {
                        // The worker let go of the task.
                        break Ok(());
                    }
                }
                _ = tokio::time::sleep(idle_sleep.min(until_commit)) => {}
            }
            Duration::ZERO
        };
        let mut fatal = None;
        originals.clear();
        while read < max_batch {
            match consumer.poll(wait) {
                None => break,
                Some(Ok(m))
                    if !pending.is_empty()
                        && pending
                            .keys()
                            .any(|tp| tp.partition == m.partition() && tp.topic == m.topic()) =>
                {
                    // From before a seek the task asked for: read again after it.
                }
                Some(Ok(m)) => {
                    // Records come in runs of one partition: the topic set
                    // and the offsets are looked up when the run changes.
                    let same = next.last().is_some_and(|(tp, _)| {
                        tp.partition == m.partition() && tp.topic == m.topic()
                    });
                    if !same && !env.topics.lock().contains(m.topic()) {
                        env.topics.lock().insert(m.topic().to_string());
                    }
                    read += 1;
                    match process(&m, &converters, &mut chain, &tolerance, dlq.as_ref()) {
                        Ok(Some(record)) => {
                            if errant.is_some() && dlq.is_some() {
                                originals.insert(
                                    (m.topic().to_string(), m.partition(), m.offset()),
                                    OwnedRaw::of(&m),
                                );
                            }
                            batch.push(record);
                        }
                        Ok(None) => {}
                        Err(e) => {
                            fatal = Some(e);
                            break;
                        }
                    }
                    let at = if same {
                        next.len().checked_sub(1)
                    } else {
                        next.iter().position(|(tp, _)| {
                            tp.partition == m.partition() && tp.topic == m.topic()
                        })
                    };
                    match at {
                        Some(i) => next[i].1 = m.offset() + 1,
                        None => next.push((
                            TopicPartition {
                                topic: m.topic().to_string(),
                                partition: m.partition(),
                            },
                            m.offset() + 1,
                        )),
                    }
                }
                Some(Err(e)) => tracing::warn!("consumer: {e}"),
            }
            wait = Duration::ZERO;
            // The task hears of a new assignment (and seeks in it) before
            // it is given records of it.
            if rebalanced.load(Ordering::SeqCst) {
                break;
            }
        }
        if let Some(e) = fatal {
            break Err(e);
        }
        idle = read == 0;
        last_read = read;
        if read == 0 {
            // As Kafka Connect does, a poll without records still calls put,
            // so tasks can act on time (a sink rotating files by the clock).
            if let Err(e) = task.put(&[]).await {
                if !e.is_retriable() {
                    break Err(anyhow::anyhow!(e));
                }
            }
            continue;
        }
        let m = &env.metrics;
        m.read.add(read as u64);
        m.batch_size.record(read as u64);
        m.set_sink_active(m.sink_active_now.load(Ordering::Relaxed) as usize + read);
        // A retriable failure redelivers the same batch after a pause.
        while !batch.is_empty() {
            let put_at = Instant::now();
            let put = task.put(&batch).await;
            if let Some(e) = &errant {
                if let Err(e) = report_errant(e, &originals, &converters, &tolerance, dlq.as_ref())
                {
                    fatal = Some(e);
                    break;
                }
            }
            match put {
                Ok(()) => {
                    m.put_batch_time.record_time(put_at);
                    m.send.add(batch.len() as u64);
                    tracing::debug!("put {} record(s)", batch.len());
                    if attempt > 0 {
                        attempt = 0;
                        env.trouble(None);
                    }
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
                    env.trouble(Some(format!(
                        "put failed {attempt} time(s) in a row, redelivering {} records in {wait:?}: {}",
                        batch.len(),
                        e.message()
                    )));
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    fatal = Some(anyhow::anyhow!(e));
                    break;
                }
            }
        }
        if let Some(e) = fatal {
            break Err(e);
        }
        for (tp, o) in next {
            current.insert(tp, o);
        }
        env.metrics.positions.lock().clone_from(&current);
    };
    // The last commit: offsets past records sent to the dead letter queue
    // only once the queue has them. The task is closed and stopped however
    // the loop ended.
    let mut result = result;
    match task.pre_commit(&current).await {
        Ok(safe) => {
            match settle(
                &errant,
                &originals,
                &converters,
                &tolerance,
                dlq.as_ref(),
                &env,
            ) {
                Ok(()) => commit_if_new(&env, &consumer, safe, &mut committed),
                Err(e) => {
                    result = result.and(Err(e));
                }
            }
        }
        Err(e) => result = result.and(Err(anyhow::anyhow!(e))),
    }
    if !assigned.is_empty() {
        if let Err(e) = task.close(&assigned).await {
            result = result.and(Err(anyhow::anyhow!(e)));
        }
        if let Err(e) = settle(
            &errant,
            &originals,
            &converters,
            &tolerance,
            dlq.as_ref(),
            &env,
        ) {
            result = result.and(Err(e));
        }
    }
    if let Err(e) = task.stop().await {
        result = result.and(Err(anyhow::anyhow!(e)));
    }
    super::group_consumer::close(consumer);
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

#[cfg(test)]
#[path = "sink_tests.rs"]
mod tests;
