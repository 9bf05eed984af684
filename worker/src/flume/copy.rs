//! Flume's Kafka sink: records of its topics written to `kafka.topic` on
//! `kafka.bootstrap.servers`, headers and timestamps kept. `weir flume`
//! also uses it to copy a source's events into each of its channels, and
//! to join an avro sink to the avro source of another agent. Offsets are
//! committed only once every record put before is acknowledged.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use connect_api::config::{key, ConfigType, DefaultValue, Importance};
use connect_api::connector::SharedConfigSink;
use connect_api::{
    ConfigDef, ConnectError, ConnectResult, Offsets, Plugin, Props, SinkRecord, SinkTask,
    SinkTaskContext, TaskFactory, Value,
};
use parking_lot::Mutex;
use rdkafka::config::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, ProducerContext};
use rdkafka::ClientContext;

use crate::kafka::polled::PolledProducer;

pub const CLASS: &str = "org.apache.flume.sink.kafka.KafkaSink";
pub const TOPIC: &str = "kafka.topic";
pub const SERVERS: &str = "kafka.bootstrap.servers";
const PRODUCER_PREFIX: &str = "kafka.producer.";

fn def() -> ConfigDef {
    ConfigDef::new()
        .define(key(
            SERVERS,
            ConfigType::String,
            DefaultValue::Required,
            Importance::High,
            "The Kafka cluster written to.",
        ))
        .define(key(
            TOPIC,
            ConfigType::String,
            DefaultValue::Value("default-flume-topic"),
            Importance::High,
            "The topic written to.",
        ))
}

fn rules(props: &Props) -> Vec<(String, String)> {
    match props.get(TOPIC).map(|t| t.trim()) {
        Some(t) if props.get("topics").is_some_and(|s| s.split(',').any(|s| s.trim() == t)) => vec![(
            TOPIC.to_string(),
            format!("Invalid value {t} for configuration {TOPIC}: the sink reads that topic; writing to it would loop"),
        )],
        _ => Vec::new(),
    }
}

pub const PLUGIN: Plugin = Plugin {
    class: CLASS,
    aliases: &["KafkaSink"],
    version: env!("CARGO_PKG_VERSION"),
    config_def: def,
    new_connector: || SharedConfigSink::boxed(rules),
    tasks: TaskFactory::Sink(|| Box::new(CopySinkTask::default())),
};

#[derive(Default)]
struct Delivery {
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
}

struct Context(Arc<Delivery>);

impl ClientContext for Context {}

impl ProducerContext for Context {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.0.failed.fetch_add(1, Ordering::Relaxed);
            self.0
                .first_error
                .lock()
                .get_or_insert_with(|| e.to_string());
        }
    }
}

#[derive(Default)]
pub struct CopySinkTask {
    producer: Option<PolledProducer<Context>>,
    delivery: Arc<Delivery>,
    topic: String,
}

/// A key, value or header as bytes; null stays null.
fn bytes(v: &Value) -> Option<Vec<u8>> {
    (!matches!(v, Value::Null)).then(|| connect_api::event::body_bytes(v).into_owned())
}

impl CopySinkTask {
    fn producer(&self) -> ConnectResult<&PolledProducer<Context>> {
        self.producer
            .as_ref()
            .ok_or_else(|| ConnectError::fatal("the Kafka sink was not started"))
    }

    /// Waits for every record sent so far; a failed one fails the task, so
    /// that its offsets are not committed and it is written again.
    fn settle(&self) -> ConnectResult<()> {
        let p = self.producer()?;
        p.flush(Duration::from_secs(30)).map_err(|e| {
            ConnectError::retriable(format!(
                "waiting for {} to acknowledge records: {e}",
                self.topic
            ))
        })?;
        let failed = self.delivery.failed.load(Ordering::Relaxed);
        if failed > 0 {
            let why = self.delivery.first_error.lock().clone().unwrap_or_default();
            return Err(ConnectError::fatal(format!(
                "{failed} records could not be written to {}: {why}",
                self.topic
            )));
        }
        Ok(())
    }
}

#[async_trait]
impl SinkTask for CopySinkTask {
    async fn start(&mut self, props: &Props, _ctx: Arc<dyn SinkTaskContext>) -> ConnectResult<()> {
        let servers = props
            .get(SERVERS)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                ConnectError::fatal(format!(
                    "Missing required configuration \"{SERVERS}\" which has no default value."
                ))
            })?;
        self.topic = props
            .get(TOPIC)
            .map_or("default-flume-topic", |t| t.trim())
            .to_string();
        let mut cfg = ClientConfig::new();
        cfg.set("bootstrap.servers", servers)
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("linger.ms", "5");
        // Flume's `kafka.producer.*` keys are Kafka's (Java) names.
        let own: std::collections::BTreeMap<String, String> = props
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(PRODUCER_PREFIX)?.to_string(), v.clone())))
            .collect();
        let own = crate::kafka::security::to_librdkafka(own)
            .map_err(|e| ConnectError::fatal(format!("{PRODUCER_PREFIX}{e}")))?;
        for (k, v) in own {
            cfg.set(k, v);
        }
        self.delivery = Arc::new(Delivery::default());
        let producer = cfg
            .create_with_context(Context(self.delivery.clone()))
            .map_err(|e| {
                ConnectError::fatal(format!("creating the producer for {}: {e}", self.topic))
            })?;
        self.producer = Some(producer);
        Ok(())
    }

    async fn put(&mut self, records: &[SinkRecord]) -> ConnectResult<()> {
        let topic = self.topic.clone();
        let p = self.producer()?;
        for r in records {
            let value = bytes(&r.value.value);
            let key = bytes(&r.key.value);
            let mut headers = OwnedHeaders::new_with_capacity(r.headers.len());
            let texts: Vec<(String, Option<Vec<u8>>)> = r
                .headers
                .iter()
                .map(|h| (h.key.clone(), bytes(&h.value.value)))
                .collect();
            for (k, v) in &texts {
                headers = headers.insert(Header {
                    key: k,
                    value: v.as_deref(),
                });
            }
            let mut rec = BaseRecord::to(&topic).headers(headers);
            if let Some(v) = &value {
                rec = rec.payload(v);
            }
            if let Some(k) = &key {
                rec = rec.key(k);
            }
            if let Some(ts) = r.timestamp {
                rec = rec.timestamp(ts);
            }
            let mut pending = rec;
            loop {
                match p.send(pending) {
                    Ok(()) => break,
                    Err((e, back))
                        if e.rdkafka_error_code()
                            == Some(rdkafka::types::RDKafkaErrorCode::QueueFull) =>
                    {
                        p.poll(Duration::from_millis(50));
                        pending = back;
                    }
                    Err((e, _)) => {
                        return Err(ConnectError::retriable(format!("sending to {topic}: {e}")))
                    }
                }
            }
        }
        Ok(())
    }

    async fn flush(&mut self, _offsets: &Offsets) -> ConnectResult<()> {
        self.settle()
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        if self.producer.is_some() {
            let _ = self.settle();
        }
        self.producer = None;
        Ok(())
    }
}
