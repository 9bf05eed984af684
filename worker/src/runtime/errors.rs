//! Error handling in the task loops, as Kafka Connect does it: retries of
//! retriable failures with backoff up to `errors.retry.timeout`, then
//! `errors.tolerance` (`none` fails the task, `all` skips the record), the
//! log reporter (`errors.log.*`) and the dead letter queue
//! (`errors.deadletterqueue.*`) with the `__connect.errors.*` headers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use connect_api::config::{key, ConfigKey, ConfigType, DefaultValue, Importance, Validator};
use connect_api::{ConfigDef, ConnectError, ConnectResult, ConnectorKind, Props, SourceRecord};
use parking_lot::Mutex;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, ProducerContext};
use rdkafka::ClientContext;

use super::metrics::TaskMetrics;
use crate::kafka::polled::PolledProducer;

/// Where in the pipeline a record failed (Kafka's `Stage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    TaskPut,
    Transformation,
    KeyConverter,
    ValueConverter,
    HeaderConverter,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::TaskPut => "TASK_PUT",
            Stage::Transformation => "TRANSFORMATION",
            Stage::KeyConverter => "KEY_CONVERTER",
            Stage::ValueConverter => "VALUE_CONVERTER",
            Stage::HeaderConverter => "HEADER_CONVERTER",
        }
    }
}

pub const TOLERANCE: &str = "errors.tolerance";
pub const RETRY_TIMEOUT: &str = "errors.retry.timeout";
pub const RETRY_DELAY_MAX: &str = "errors.retry.delay.max.ms";
pub const LOG_ENABLE: &str = "errors.log.enable";
pub const LOG_MESSAGES: &str = "errors.log.include.messages";
pub const DLQ_TOPIC: &str = "errors.deadletterqueue.topic.name";
pub const DLQ_RF: &str = "errors.deadletterqueue.topic.replication.factor";
pub const DLQ_HEADERS: &str = "errors.deadletterqueue.context.headers.enable";

/// The `Error Handling` keys of a connector (Kafka's ConnectorConfig and
/// SinkConnectorConfig; Weir offers the dead letter queue to sources too).
pub fn def() -> ConfigDef {
    let k = |name, kind, default, importance, doc, order| ConfigKey {
        group: Some("Error Handling"),
        order_in_group: order,
        ..key(name, kind, default, importance, doc)
    };
    ConfigDef::new()
        .define(ConfigKey {
            validator: None,
            ..k(RETRY_TIMEOUT, ConfigType::Long, DefaultValue::Value("0"), Importance::Medium, "How long a failed operation is retried, in ms; 0 means no retries, -1 retries for ever.", 1)
        })
        .define(ConfigKey {
            validator: Some(Validator::AtLeast(0)),
            ..k(RETRY_DELAY_MAX, ConfigType::Long, DefaultValue::Value("60000"), Importance::Medium, "The longest wait between retries, in ms.", 2)
        })
        .define(ConfigKey {
            validator: Some(Validator::OneOf(&["none", "all"])),
            ..k(TOLERANCE, ConfigType::String, DefaultValue::Value("none"), Importance::Medium, "none: a record that fails conversion or a transformation fails the task; all: it is skipped (logged and sent to the dead letter queue when those are enabled).", 3)
        })
        .define(k(LOG_ENABLE, ConfigType::Boolean, DefaultValue::Value("false"), Importance::Medium, "Log each failed operation and its record's coordinates.", 4))
        .define(k(LOG_MESSAGES, ConfigType::Boolean, DefaultValue::Value("false"), Importance::Medium, "Also log the record's key, value and headers.", 5))
        .define(k(DLQ_TOPIC, ConfigType::String, DefaultValue::Value(""), Importance::Medium, "The topic that records failing conversion or a transformation are written to (empty: none).", 6))
        .define(ConfigKey {
            validator: Some(Validator::Between(-1, i64::from(i16::MAX))),
            ..k(DLQ_RF, ConfigType::Short, DefaultValue::Value("3"), Importance::Medium, "Replication factor of the dead letter queue topic when it is created (-1: the broker's default).", 7)
        })
        .define(k(DLQ_HEADERS, ConfigType::Boolean, DefaultValue::Value("false"), Importance::Medium, "Add __connect.errors.* headers naming the record's origin and the error.", 8))
}

/// A connector's error handling settings.
#[derive(Debug, Clone)]
pub struct ErrorSettings {
    pub tolerate_all: bool,
    /// `None`: retry for ever.
    pub retry_timeout: Option<Duration>,
    pub retry_delay_max: Duration,
    pub log: bool,
    pub log_messages: bool,
    pub dlq_topic: Option<String>,
    pub dlq_replication_factor: i16,
    pub dlq_headers: bool,
}

impl ErrorSettings {
    /// Reads validated settings (anything unreadable takes Kafka's default;
    /// a negative retry timeout retries for ever, as in Kafka).
    pub fn from_props(p: &Props) -> Self {
        let get = |k: &str| p.get(k).map(|v| v.trim().to_string());
        let flag = |k: &str| get(k).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let timeout: i64 = get(RETRY_TIMEOUT).and_then(|v| v.parse().ok()).unwrap_or(0);
        Self {
            tolerate_all: get(TOLERANCE).is_some_and(|v| v.eq_ignore_ascii_case("all")),
            retry_timeout: u64::try_from(timeout).ok().map(Duration::from_millis),
            retry_delay_max: Duration::from_millis(
                get(RETRY_DELAY_MAX)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(60_000),
            ),
            log: flag(LOG_ENABLE),
            log_messages: flag(LOG_MESSAGES),
            dlq_topic: get(DLQ_TOPIC).filter(|t| !t.is_empty()),
            dlq_replication_factor: get(DLQ_RF).and_then(|v| v.parse().ok()).unwrap_or(3),
            dlq_headers: flag(DLQ_HEADERS),
        }
    }

    /// Every mistake in the error settings, by key, including a dead letter
    /// topic that the sink itself consumes.
    pub fn check(p: &Props, kind: Option<ConnectorKind>) -> Vec<(String, String)> {
        let mut errors: Vec<(String, String)> = def()
            .validate(p)
            .into_iter()
            .flat_map(|v| {
                let name = v.name;
                v.errors.into_iter().map(move |e| (name.clone(), e))
            })
            .collect();
        let dlq = p.get(DLQ_TOPIC).map(|t| t.trim()).unwrap_or("");
        if dlq.is_empty() || kind != Some(ConnectorKind::Sink) {
            return errors;
        }
        if let Some(topics) = p.get("topics").filter(|t| !t.trim().is_empty()) {
            let list: Vec<&str> = topics
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect();
            if list.contains(&dlq) {
                errors.push((
                    "topics".into(),
                    format!("The DLQ topic '{dlq}' may not be included in the list of topics ('topics=[{}]') consumed by the connector", list.join(", ")),
                ));
            }
        }
        if let Some(re) = p
            .get("topics.regex")
            .map(|r| r.trim())
            .filter(|r| !r.is_empty())
        {
            if regex::Regex::new(&format!("^(?:{re})$")).is_ok_and(|r| r.is_match(dlq)) {
                errors.push((
                    "topics.regex".into(),
                    format!("The DLQ topic '{dlq}' may not be matched by the regex for the topics ('topics.regex={re}') consumed by the connector"),
                ));
            }
        }
        errors
    }
}

/// Settings errors (key, message) as one task failure message.
pub fn joined(errors: Vec<(String, String)>) -> anyhow::Error {
    let text: Vec<String> = errors.into_iter().map(|(_, e)| e).collect();
    anyhow::anyhow!(text.join("; "))
}

/// What a task applies to each record besides its converters: the
/// transformation chain, retries and tolerance, and the dead letter queue.
pub async fn task_handling(
    env: &super::TaskEnv,
) -> anyhow::Result<(
    connect_transforms::Chain,
    Tolerance,
    Option<DeadLetterQueue>,
)> {
    let chain = connect_transforms::Chain::from_props(&env.props).map_err(joined)?;
    let settings = ErrorSettings::from_props(&env.props);
    let connector = &env.id.connector;
    let dlq = DeadLetterQueue::open(
        &env.worker.bootstrap_servers,
        &env.worker.client_props("producer.", &env.props)?,
        &settings,
        connector,
        env.id.task,
        env.metrics.clone(),
    )
    .await?;
    let task = format!("{connector}-{}", env.id.task);
    let tolerance =
        Tolerance::new(settings, env.metrics.clone(), task).stopped_by(env.control.clone());
    Ok((chain, tolerance, dlq))
}

/// A record operation that failed: where, in which class, and why.
#[derive(Debug, Clone)]
pub struct Failure {
    pub stage: Stage,
    /// The converter's or transform's class name.
    pub class: String,
    pub error: ConnectError,
}

/// The record a failure concerns, for logs, traces and dead letter headers.
pub enum Origin<'a> {
    Consumed {
        topic: &'a str,
        partition: i32,
        offset: i64,
    },
    Polled(&'a SourceRecord),
}

impl Origin<'_> {
    fn coordinates(&self) -> String {
        match self {
            Origin::Consumed {
                topic,
                partition,
                offset,
            } => {
                format!("topic {topic} partition {partition} offset {offset}")
            }
            Origin::Polled(r) => format!(
                "source partition {} offset {} (for topic {})",
                serde_json::Value::Object((*r.source_partition).clone()),
                r.source_offset
                    .clone()
                    .map_or(serde_json::Value::Null, serde_json::Value::Object),
                r.topic
            ),
        }
    }
}

/// Retries and tolerance for one task (Kafka's `RetryWithToleranceOperator`
/// with its `LogReporter`). Owned by the thread that processes records.
pub struct Tolerance {
    pub settings: ErrorSettings,
    metrics: Arc<TaskMetrics>,
    /// `<connector>-<task>`, as Kafka's log lines name the task.
    task: String,
    /// The task's target: retries end when it is told to stop.
    stop: Option<tokio::sync::watch::Receiver<super::Target>>,
}

/// Kafka's first retry delay.
const RETRY_DELAY_MIN_MS: u64 = 300;

impl Tolerance {
    pub fn new(settings: ErrorSettings, metrics: Arc<TaskMetrics>, task: String) -> Self {
        Self {
            settings,
            metrics,
            task,
            stop: None,
        }
    }

    /// Retries end early once `control` says stop.
    pub fn stopped_by(mut self, control: tokio::sync::watch::Receiver<super::Target>) -> Self {
        self.stop = Some(control);
        self
    }

    /// Runs `op`, retrying retriable failures with doubling backoff from
    /// 300 ms (a random wait below `errors.retry.delay.max.ms` once the
    /// doubling passes it) until `errors.retry.timeout` has passed. Blocks
    /// the calling thread, which is the task's own.
    pub fn retrying<T>(&self, mut op: impl FnMut() -> ConnectResult<T>) -> ConnectResult<T> {
        // The clock is read only once something failed: this runs for
        // every record.
        let mut started: Option<Instant> = None;
        let mut attempt = 0u32;
        loop {
            attempt = attempt.saturating_add(1);
            match op() {
                Err(e) if e.is_retriable() => {
                    let since = *started.get_or_insert_with(Instant::now);
                    let left = match self.settings.retry_timeout {
                        None => Duration::MAX,
                        Some(t) => t.saturating_sub(since.elapsed()),
                    };
                    // The last failure is counted by `failed`.
                    if left.is_zero() || self.stopping() {
                        return Err(e);
                    }
                    self.metrics.record_failures.fetch_add(1, Ordering::Relaxed);
                    let doubled = RETRY_DELAY_MIN_MS.saturating_mul(1 << (attempt - 1).min(30));
                    let max = u64::try_from(self.settings.retry_delay_max.as_millis())
                        .unwrap_or(u64::MAX);
                    let delay = if doubled > max { jitter(max) } else { doubled };
                    self.pause(Duration::from_millis(delay.max(1)).min(left));
                    self.metrics.retries.fetch_add(1, Ordering::Relaxed);
                }
                other => return other,
            }
        }
    }

    /// True once the task is told to stop.
    fn stopping(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|rx| *rx.borrow() == super::Target::Stop)
    }

    /// Sleeps, waking early when the task is told to stop (Kafka's
    /// `triggerStop`), in slices short enough to notice it.
    fn pause(&self, d: Duration) {
        let until = Instant::now() + d;
        while !self.stopping() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            std::thread::sleep(left.min(Duration::from_millis(100)));
        }
    }

    /// A record failed: counts it, logs it when asked, and either lets the
    /// caller skip it (`Ok`) or fails the task with a trace naming the
    /// stage, the class and the record's coordinates.
    pub fn failed(
        &self,
        f: &Failure,
        origin: &Origin<'_>,
        describe: impl Fn() -> String,
    ) -> anyhow::Result<()> {
        let m = &self.metrics;
        m.record_failures.fetch_add(1, Ordering::Relaxed);
        m.record_errors.fetch_add(1, Ordering::Relaxed);
        m.error();
        if self.settings.log {
            // Kafka's LogReporter: the record only with include.messages.
            let record = match (self.settings.log_messages, origin) {
                (false, _) => String::new(),
                (true, Origin::Consumed { topic, partition, offset }) => format!(
                    ", where consumed record is {{topic='{topic}', partition={partition}, offset={offset}}}"
                ),
                (true, Origin::Polled(_)) => {
                    format!(", where source record is = {{{}, {}}}", origin.coordinates(), describe())
                }
            };
            tracing::error!(
                "Error encountered in task {}. Executing stage '{}' with class '{}'{record}. {}",
                self.task,
                f.stage.name(),
                f.class,
                f.error
            );
            m.errors_logged.fetch_add(1, Ordering::Relaxed);
        }
        if !self.settings.tolerate_all {
            anyhow::bail!(
                "Tolerance exceeded in error handler: stage {} ({}) failed for {}: {} (set errors.tolerance=all to skip such records)",
                f.stage.name(),
                f.class,
                origin.coordinates(),
                f.error
            );
        }
        m.records_skipped.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// A random wait below `max` ms: the clock's nanoseconds are random enough
/// to spread retries apart.
fn jitter(max: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()));
    if max == 0 {
        0
    } else {
        nanos.wrapping_mul(2_654_435_761) % max
    }
}

/// The bytes of a failed record as they go to the dead letter queue.
pub struct RawRecord<'a> {
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub headers: Vec<(&'a str, Option<&'a [u8]>)>,
    pub timestamp: Option<i64>,
}

struct DlqContext {
    failures: Arc<AtomicU64>,
    first_failure: Arc<Mutex<Option<String>>>,
}

impl ClientContext for DlqContext {}

impl ProducerContext for DlqContext {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, m)) = result {
            use rdkafka::Message;
            self.failures.fetch_add(1, Ordering::Relaxed);
            tracing::error!(
                "Could not produce message to dead letter queue. topic={}: {e}",
                m.topic()
            );
            self.first_failure
                .lock()
                .get_or_insert_with(|| e.to_string());
        }
    }
}

/// The dead letter queue of a task: a topic of one partition, written by
/// an idempotent producer. Offsets past a record sent here are committed
/// only after [`DeadLetterQueue::flush`] saw it acknowledged.
pub struct DeadLetterQueue {
    producer: PolledProducer<DlqContext>,
    topic: String,
    context_headers: bool,
    connector: String,
    task: String,
    metrics: Arc<TaskMetrics>,
    first_failure: Arc<Mutex<Option<String>>>,
}

impl DeadLetterQueue {
    /// Creates the topic when it is missing (1 partition, the configured
    /// replication factor) and the producer.
    pub async fn open(
        bootstrap: &str,
        client_props: &std::collections::BTreeMap<String, String>,
        settings: &ErrorSettings,
        connector: &str,
        task: usize,
        metrics: Arc<TaskMetrics>,
    ) -> anyhow::Result<Option<Self>> {
        let Some(topic) = settings.dlq_topic.clone() else {
            return Ok(None);
        };
        crate::kafka::admin::create_topic(bootstrap, &topic, 1, settings.dlq_replication_factor, &[])
            .await
            .with_context(|| {
                format!("Could not initialize dead letter queue with topic={topic} (is {DLQ_RF} at most the number of brokers?)")
            })?;
        let mut cfg = ClientConfig::new();
        cfg.set("bootstrap.servers", bootstrap)
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set(
                "client.id",
                format!("connector-dlq-producer-{connector}-{task}"),
            );
        for (k, v) in client_props {
            cfg.set(k, v);
        }
        let first_failure = Arc::new(Mutex::new(None));
        let producer = cfg
            .create_with_context(DlqContext {
                failures: metrics.dlq_failures.clone(),
                first_failure: first_failure.clone(),
            })
            .context("creating the dead letter queue producer")?;
        Ok(Some(Self {
            producer,
            topic,
            context_headers: settings.dlq_headers,
            connector: connector.to_string(),
            task: task.to_string(),
            metrics,
            first_failure,
        }))
    }

    /// Sends a failed record with, when enabled, the context headers.
    pub fn send(&self, raw: &RawRecord<'_>, origin: &Origin<'_>, f: &Failure) {
        self.metrics.dlq_requests.fetch_add(1, Ordering::Relaxed);
        let mut headers = OwnedHeaders::new_with_capacity(raw.headers.len() + 10);
        for (k, v) in &raw.headers {
            headers = headers.insert(Header { key: k, value: *v });
        }
        if self.context_headers {
            let mut ctx: Vec<(&str, String)> = Vec::with_capacity(10);
            match origin {
                Origin::Consumed {
                    topic,
                    partition,
                    offset,
                } => {
                    ctx.push(("topic", topic.to_string()));
                    ctx.push(("partition", partition.to_string()));
                    ctx.push(("offset", offset.to_string()));
                }
                Origin::Polled(r) => {
                    ctx.push(("topic", r.topic.to_string()));
                    ctx.push((
                        "source.partition",
                        serde_json::Value::Object((*r.source_partition).clone()).to_string(),
                    ));
                    if let Some(o) = &r.source_offset {
                        ctx.push((
                            "source.offset",
                            serde_json::Value::Object(o.clone()).to_string(),
                        ));
                    }
                }
            }
            ctx.push(("connector.name", self.connector.clone()));
            ctx.push(("task.id", self.task.clone()));
            ctx.push(("stage", f.stage.name().to_string()));
            ctx.push(("class.name", f.class.clone()));
            ctx.push(("exception.class.name", f.error.java_class().to_string()));
            ctx.push(("exception.message", f.error.message().to_string()));
            ctx.push((
                "exception.stacktrace",
                format!("{}: {}", f.error.java_class(), f.error.message()),
            ));
            for (k, v) in &ctx {
                headers = headers.insert(Header {
                    key: &format!("__connect.errors.{k}"),
                    value: Some(v.as_bytes()),
                });
            }
        }
        let mut record = BaseRecord::<[u8], [u8], ()>::to(&self.topic).headers(headers);
        if let Some(k) = raw.key {
            record = record.key(k);
        }
        if let Some(v) = raw.value {
            record = record.payload(v);
        }
        if let Some(ts) = raw.timestamp.filter(|t| *t >= 0) {
            record = record.timestamp(ts);
        }
        loop {
            match self.producer.send(record) {
                Ok(()) => return,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err((e, _)) => {
                    self.metrics.dlq_failures.fetch_add(1, Ordering::Relaxed);
                    self.first_failure
                        .lock()
                        .get_or_insert_with(|| e.to_string());
                    return;
                }
            }
        }
    }

    /// Waits until everything sent is acknowledged; an error when a record
    /// could not be written (its offset must then not be committed).
    pub fn flush(&self, timeout: Duration) -> anyhow::Result<()> {
        self.producer
            .flush(timeout)
            .with_context(|| format!("waiting for the dead letter queue topic {}", self.topic))?;
        if let Some(e) = self.first_failure.lock().clone() {
            anyhow::bail!(
                "Could not produce message to dead letter queue topic={}: {e}",
                self.topic
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> ErrorSettings {
        let props: Props = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ErrorSettings::from_props(&props)
    }

    #[test]
    fn retriable_failures_are_retried_until_the_timeout() {
        let metrics = Arc::new(TaskMetrics::default());
        let t = Tolerance::new(
            settings(&[(RETRY_TIMEOUT, "10000")]),
            metrics.clone(),
            "c-0".into(),
        );
        let mut calls = 0;
        let got = t.retrying(|| {
            calls += 1;
            if calls < 3 {
                Err(ConnectError::retriable("the registry is restarting"))
            } else {
                Ok(calls)
            }
        });
        assert_eq!(got, Ok(3));
        assert_eq!(metrics.retries.load(Ordering::Relaxed), 2);
        assert_eq!(metrics.record_failures.load(Ordering::Relaxed), 2);

        // The default timeout of 0: no retries; data errors never retry.
        let none = Tolerance::new(settings(&[]), metrics.clone(), "c-0".into());
        let mut calls = 0;
        let got: ConnectResult<()> = none.retrying(|| {
            calls += 1;
            Err(ConnectError::retriable("down"))
        });
        assert!(got.is_err());
        assert_eq!(calls, 1);
        let mut calls = 0;
        let _ = t.retrying(|| -> ConnectResult<()> {
            calls += 1;
            Err(ConnectError::data("bad bytes"))
        });
        assert_eq!(calls, 1);
    }

    #[test]
    fn settings_are_checked_with_kafka_messages() {
        let props: Props = [
            (TOLERANCE, "ALL"),
            (RETRY_TIMEOUT, "-5"),
            (DLQ_TOPIC, "orders"),
            ("topics", "orders,payments"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let errors = ErrorSettings::check(&props, Some(ConnectorKind::Sink));
        let keys: Vec<&str> = errors.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, vec![TOLERANCE, "topics"], "{errors:?}");
        assert_eq!(
            errors[0].1,
            "Invalid value ALL for configuration errors.tolerance: String must be one of: none, all"
        );
        assert_eq!(
            errors[1].1,
            "The DLQ topic 'orders' may not be included in the list of topics ('topics=[orders, payments]') consumed by the connector"
        );
        let s = settings(&[
            (TOLERANCE, "all"),
            (RETRY_TIMEOUT, "-1"),
            (DLQ_TOPIC, " dlq "),
        ]);
        assert!(s.tolerate_all);
        assert_eq!(s.retry_timeout, None, "-1 retries for ever");
        assert_eq!(s.dlq_topic.as_deref(), Some("dlq"));
        assert_eq!(s.dlq_replication_factor, 3);
    }
}
