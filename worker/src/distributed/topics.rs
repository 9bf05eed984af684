//! The internal topics: created when missing (compacted, with Connect's
//! partition counts), checked when present, and read and written as logs.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::{CreateTopicsRequest, DescribeConfigsRequest};
use kafka_protocol::protocol::StrBytes;
use parking_lot::Mutex;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientContext;
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::sync::oneshot;

use crate::kafka::admin::{check, topic_name, Cluster};
use crate::kafka::polled::PolledProducer;
use crate::store::{OffsetLog, OffsetRecord};

/// One internal topic as the worker config describes it.
#[derive(Debug, Clone)]
pub struct InternalTopic {
    pub name: String,
    /// The worker property that names it (for messages).
    pub property: &'static str,
    /// What it holds (for messages): "connector configurations", ...
    pub purpose: &'static str,
    /// -1: the broker's default.
    pub partitions: i32,
    /// -1: the broker's default.
    pub replication: i16,
    /// Other topic configs (`config.storage.*` and the like).
    pub configs: Vec<(String, String)>,
    /// The config topic must have exactly one partition.
    pub single_partition: bool,
}

const TOPIC_ALREADY_EXISTS: i16 = 36;
const INVALID_REPLICATION_FACTOR: i16 = 38;

/// Creates the topic compacted when missing; checks an existing one as
/// Kafka Connect does (one partition for configs, `cleanup.policy=compact`).
pub async fn ensure(cluster: &mut Cluster, t: &InternalTopic) -> anyhow::Result<()> {
    let mut configs = vec![CreatableTopicConfig::default()
        .with_name(StrBytes::from_static_str("cleanup.policy"))
        .with_value(Some(StrBytes::from_static_str("compact")))];
    for (k, v) in t.configs.iter().filter(|(k, _)| k != "cleanup.policy") {
        configs.push(
            CreatableTopicConfig::default()
                .with_name(StrBytes::from_string(k.clone()))
                .with_value(Some(StrBytes::from_string(v.clone()))),
        );
    }
    let partitions = if t.single_partition { 1 } else { t.partitions };
    let request = CreateTopicsRequest::default()
        .with_topics(vec![CreatableTopic::default()
            .with_name(topic_name(&t.name))
            .with_num_partitions(partitions)
            .with_replication_factor(t.replication)
            .with_configs(configs)])
        .with_timeout_ms(30_000);
    let response = cluster.controller_conn().await?.send(&request, 5).await?;
    for r in &response.topics {
        match r.error_code {
            0 => {
                tracing::info!(
                    "created internal topic {} ({}) for {}",
                    t.name,
                    t.property,
                    t.purpose
                );
                return Ok(());
            }
            TOPIC_ALREADY_EXISTS => {}
            INVALID_REPLICATION_FACTOR => {
                let key = t.property.replace(".topic", ".replication.factor");
                anyhow::bail!(
                    "creating topic {} ({}) with {key}={}: {}. Set {key} to at most the number of brokers (1 for a single broker), or to -1 for the broker's default.replication.factor; config.storage.replication.factor, offset.storage.replication.factor and status.storage.replication.factor all default to 3",
                    t.name,
                    t.property,
                    t.replication,
                    r.error_message
                        .as_ref()
                        .map_or("the broker refused the replication factor", |m| m.as_str())
                );
            }
            code => check(code, r.error_message.as_ref())
                .with_context(|| format!("creating topic {} ({})", t.name, t.property))?,
        }
    }
    verify(cluster, t).await
}

async fn verify(cluster: &mut Cluster, t: &InternalTopic) -> anyhow::Result<()> {
    let metadata = cluster
        .metadata(Some(std::slice::from_ref(&t.name)))
        .await?;
    let found = metadata
        .topics
        .iter()
        .find(|m| m.name.as_ref().map(|n| n.as_str()) == Some(t.name.as_str()))
        .map_or(0, |m| m.partitions.len());
    if t.single_partition && found != 1 {
        anyhow::bail!(
            "Topic '{}' named by '{}' must have a single partition so that every worker reads {} in one order, but it has {found}; point '{}' at a topic with one partition",
            t.name,
            t.property,
            t.purpose,
            t.property
        );
    }
    let request =
        DescribeConfigsRequest::default().with_resources(vec![DescribeConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(StrBytes::from_string(t.name.clone()))
            .with_configuration_keys(Some(vec![StrBytes::from_static_str("cleanup.policy")]))]);
    let response = cluster.any()?.send(&request, 4).await?;
    for r in response.results {
        check(r.error_code, r.error_message.as_ref())?;
        for c in r.configs {
            if c.name.as_str() != "cleanup.policy" {
                continue;
            }
            let policy = c.value.as_ref().map_or("", |v| v.as_str()).to_string();
            if policy.split(',').map(str::trim).collect::<Vec<_>>() != ["compact"] {
                anyhow::bail!(
                    "Topic '{}' named by '{}' must have 'cleanup.policy=compact' to keep {} for good, but it has 'cleanup.policy={policy}'; with it, {} would eventually be deleted. Point '{}' at a compacted topic",
                    t.name,
                    t.property,
                    t.purpose,
                    t.purpose,
                    t.property
                );
            }
        }
    }
    Ok(())
}

/// A record read from an internal topic.
#[derive(Debug, Clone)]
pub struct LogRecord {
    pub partition: i32,
    pub offset: i64,
    pub key: Vec<u8>,
    /// `None`: a tombstone.
    pub value: Option<Vec<u8>>,
}

/// A librdkafka configuration with the worker's security settings.
fn secured() -> ClientConfig {
    let mut cfg = ClientConfig::new();
    crate::kafka::security::default_security().apply(&mut cfg);
    cfg
}

/// An internal topic read from its beginning and written with acks=all.
pub struct TopicLog {
    topic: String,
    consumer: BaseConsumer,
    producer: LogWriter,
}

/// Where a write to an internal topic landed, or why it did not.
type Landed = Result<(i32, i64), KafkaError>;

/// Hands each delivery report of the internal topics' writer to the write
/// that waits for it.
pub struct LogAcks;

impl ClientContext for LogAcks {}

impl ProducerContext for LogAcks {
    type DeliveryOpaque = Box<oneshot::Sender<Landed>>;

    fn delivery(&self, result: &DeliveryResult<'_>, waiting: Self::DeliveryOpaque) {
        let landed = match result {
            Ok(m) => Ok((m.partition(), m.offset())),
            Err((e, _)) => Err(e.clone()),
        };
        // The write may have stopped waiting (its task was dropped).
        let _ = waiting.send(landed);
    }
}

/// The producer the internal topics are written with, shared by the three.
pub type LogWriter = Arc<PolledProducer<LogAcks>>;

/// How long a write waits for room in the producer's queue.
const QUEUE_WAIT: Duration = Duration::from_secs(30);

/// The producer the internal topics are written with: one per worker, so
/// that its thread is not paid three times.
pub fn log_writer(bootstrap: &str, client_id: &str) -> anyhow::Result<LogWriter> {
    let producer: PolledProducer<LogAcks> = secured()
        .set("bootstrap.servers", bootstrap)
        .set("client.id", format!("{client_id}-writer"))
        .set("acks", "all")
        // Kafka's default partitioner: one key, one partition, so
        // compaction keeps only its latest value.
        .set("partitioner", "murmur2_random")
        .set("message.timeout.ms", "30000")
        .create_with_context(LogAcks)
        .context("creating the internal topic writer")?;
    Ok(Arc::new(producer))
}

impl TopicLog {
    /// Opens the topic: every partition is read from the start, and
    /// written through `producer`.
    pub fn open(
        bootstrap: &str,
        topic: &str,
        client_id: &str,
        producer: LogWriter,
    ) -> anyhow::Result<Self> {
        let consumer: BaseConsumer = secured()
            .set("bootstrap.servers", bootstrap)
            .set("client.id", format!("{client_id}-reader"))
            .set("group.id", format!("{client_id}-unused"))
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false")
            // Records written by other workers must show up at once: no
            // second-long pause on a full queue and a short long-poll.
            .set(
                "fetch.queue.backoff.ms",
                crate::kafka::FETCH_QUEUE_BACKOFF_MS,
            )
            .set("fetch.wait.max.ms", "50")
            .create()
            .context("creating the internal topic reader")?;
        let metadata = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .with_context(|| format!("reading the metadata of {topic}"))?;
        let mut tpl = TopicPartitionList::new();
        for t in metadata.topics().iter().filter(|t| t.name() == topic) {
            for p in t.partitions() {
                tpl.add_partition_offset(topic, p.id(), Offset::Beginning)?;
            }
        }
        if tpl.count() == 0 {
            anyhow::bail!("topic {topic} has no partitions");
        }
        consumer.assign(&tpl)?;
        Ok(TopicLog {
            topic: topic.to_string(),
            consumer,
            producer,
        })
    }

    /// Reads every record up to the topic's current end, calling `apply`
    /// for each in partition order. Blocks up to `timeout`.
    pub fn read_to_end(
        &self,
        timeout: Duration,
        mut apply: impl FnMut(LogRecord),
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        // The ends are asked for over the writer's connection: on the
        // reader's, the question would wait behind its fetch, which the
        // broker holds for fetch.wait.max.ms when there is nothing new.
        let mut ends: HashMap<i32, i64> = HashMap::new();
        for e in self.consumer.assignment()?.elements() {
            let left = deadline.saturating_duration_since(Instant::now());
            let (_, end) = self
                .producer
                .client()
                .fetch_watermarks(&self.topic, e.partition(), left)
                .with_context(|| format!("reading the end of {}", self.topic))?;
            ends.insert(e.partition(), end);
        }
        let done = |c: &BaseConsumer, ends: &HashMap<i32, i64>| -> anyhow::Result<bool> {
            let pos = c.position()?;
            Ok(ends.iter().all(|(p, end)| {
                *end == 0
                    || matches!(
                        pos.find_partition(&self.topic, *p).map(|e| e.offset()),
                        Some(Offset::Offset(o)) if o >= *end
                    )
            }))
        };
        let mut last_error = None;
        while !done(&self.consumer, &ends)? {
            if Instant::now() > deadline {
                let why = last_error.map_or(String::new(), |e| format!(" (last error: {e})"));
                anyhow::bail!(
                    "could not read {} to its end within {timeout:?}{why}",
                    self.topic
                );
            }
            match self.consumer.poll(Duration::from_millis(100)) {
                None => {}
                Some(Ok(m)) => apply(LogRecord {
                    partition: m.partition(),
                    offset: m.offset(),
                    key: m.key().map(<[u8]>::to_vec).unwrap_or_default(),
                    value: m.payload().map(<[u8]>::to_vec),
                }),
                // The client reconnects by itself (a broker restart, say):
                // keep reading until the deadline.
                Some(Err(e)) => {
                    tracing::debug!("reading {}: {e}", self.topic);
                    last_error = Some(e);
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
        Ok(())
    }

    /// The records up to the end, with how the reading ended: records read
    /// before a failure are returned too (the reader has moved past them).
    pub fn read_new(&self, timeout: Duration) -> (Vec<LogRecord>, anyhow::Result<()>) {
        let mut out = Vec::new();
        let result = self.read_to_end(timeout, |r| out.push(r));
        (out, result)
    }

    /// Writes one record and waits until the broker has it.
    pub async fn send(&self, key: &str, value: Option<&[u8]>) -> anyhow::Result<(i32, i64)> {
        let failed = |e: KafkaError| {
            anyhow::Error::from(e).context(format!("writing {key} to {}", self.topic))
        };
        let (tx, landed) = oneshot::channel();
        let mut record = BaseRecord::with_opaque_to(&self.topic, Box::new(tx)).key(key);
        if let Some(v) = value {
            record = record.payload(v);
        }
        let deadline = Instant::now() + QUEUE_WAIT;
        loop {
            match self.producer.send(record) {
                Ok(()) => break,
                Err((e, back))
                    if e.rdkafka_error_code() == Some(RDKafkaErrorCode::QueueFull)
                        && Instant::now() < deadline =>
                {
                    record = back;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err((e, _)) => return Err(failed(e)),
            }
        }
        match landed.await {
            Ok(landed) => landed.map_err(failed),
            Err(_) => Err(failed(KafkaError::Canceled)),
        }
    }

    /// Writes records (a tag, a key and a value each) together and waits
    /// for all of them: one wait for the broker instead of one per record.
    /// Returns each tag with how its write ended, in no particular order.
    pub async fn send_all<T: Send + 'static>(
        self: &Arc<Self>,
        records: Vec<(T, String, Vec<u8>)>,
    ) -> Vec<(T, anyhow::Result<(i32, i64)>)> {
        let mut writes = tokio::task::JoinSet::new();
        for (tag, key, value) in records {
            let log = self.clone();
            writes.spawn(async move {
                let sent = log.send(&key, Some(&value)).await;
                (tag, sent)
            });
        }
        let mut out = Vec::new();
        while let Some(done) = writes.join_next().await {
            // A write whose task panicked is not known to be written.
            if let Ok(done) = done {
                out.push(done);
            }
        }
        out
    }
}

/// Remembers the first failed delivery of a write.
#[derive(Default)]
struct Deliveries {
    failed: Mutex<Option<String>>,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.failed.lock().get_or_insert_with(|| e.to_string());
        }
    }
}

/// The offsets topic as the log under an `OffsetStore`: synchronous
/// writes with acks=all, usable from any thread.
pub struct OffsetTopic {
    topic: String,
    producer: BaseProducer<Deliveries>,
    /// One write at a time, so a failure is reported to the write it hit.
    writing: Mutex<()>,
}

impl OffsetTopic {
    pub fn open(bootstrap: &str, topic: &str, client_id: &str) -> anyhow::Result<Self> {
        let producer = secured()
            .set("bootstrap.servers", bootstrap)
            .set("client.id", format!("{client_id}-offsets"))
            .set("acks", "all")
            .set("partitioner", "murmur2_random")
            .set("message.timeout.ms", "30000")
            .create_with_context(Deliveries::default())
            .context("creating the offsets writer")?;
        Ok(OffsetTopic {
            topic: topic.to_string(),
            producer,
            writing: Mutex::new(()),
        })
    }
}

impl OffsetLog for OffsetTopic {
    fn write(&self, records: &[OffsetRecord]) -> anyhow::Result<()> {
        let _one = self.writing.lock();
        for (key, value) in records {
            let mut r = BaseRecord::<[u8], [u8]>::to(&self.topic).key(key.as_slice());
            if let Some(v) = value {
                r = r.payload(v.as_slice());
            }
            loop {
                match self.producer.send(r) {
                    Ok(()) => break,
                    Err((e, back))
                        if e.rdkafka_error_code()
                            == Some(rdkafka::types::RDKafkaErrorCode::QueueFull) =>
                    {
                        self.producer.poll(Duration::from_millis(10));
                        r = back;
                    }
                    Err((e, _)) => {
                        return Err(anyhow::Error::from(e)
                            .context(format!("writing offsets to {}", self.topic)))
                    }
                }
            }
        }
        self.producer
            .flush(Duration::from_secs(30))
            .with_context(|| format!("writing offsets to {}", self.topic))?;
        match self.producer.context().failed.lock().take() {
            Some(e) => Err(anyhow::anyhow!("writing offsets to {}: {e}", self.topic)),
            None => Ok(()),
        }
    }
}
