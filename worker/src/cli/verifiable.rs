//! `weir verifiable-producer`: kafka-verifiable-producer.sh, one JSON event per
//! line in Kafka's field order.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::Args;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;
use serde::Serialize;

use super::common::{client_config, set_default, Target};

#[derive(Debug, Args)]
pub struct VerifiableArgs {
    #[command(flatten)]
    pub target: Target,
    /// Topic to produce to.
    #[arg(long)]
    pub topic: String,
    /// Number of messages; -1 produces until stopped.
    #[arg(long = "max-messages", default_value_t = -1, allow_negative_numbers = true)]
    pub max_messages: i64,
    /// Messages per second; -1 means no limit.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub throughput: i64,
    /// acks: 0, 1 or -1.
    #[arg(long, default_value = "-1", allow_negative_numbers = true)]
    pub acks: String,
    /// A producer properties file.
    #[arg(long = "producer.config")]
    pub producer_config: Option<PathBuf>,
    /// Record timestamp in ms (default: now).
    #[arg(long = "message-create-time")]
    pub message_create_time: Option<i64>,
    /// Values are `<prefix>.<n>` instead of `<n>`.
    #[arg(long = "value-prefix")]
    pub value_prefix: Option<i64>,
    /// Keys cycle through 0..N.
    #[arg(long = "repeating-keys")]
    pub repeating_keys: Option<u64>,
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

#[derive(Serialize)]
struct Event<'a> {
    timestamp: u128,
    name: &'a str,
}

#[derive(Serialize)]
struct Success<'a> {
    timestamp: u128,
    name: &'a str,
    key: Option<&'a str>,
    value: &'a str,
    topic: &'a str,
    partition: i32,
    offset: i64,
}

#[derive(Serialize)]
struct Failure<'a> {
    timestamp: u128,
    name: &'a str,
    key: Option<&'a str>,
    value: &'a str,
    topic: &'a str,
    exception: &'a str,
    message: String,
}

#[derive(Serialize)]
struct ToolData {
    timestamp: u128,
    name: &'static str,
    sent: u64,
    acked: u64,
    target_throughput: i64,
    avg_throughput: f64,
}

/// Prints whole lines from any thread.
fn emit<T: Serialize>(out: &Mutex<()>, event: &T) {
    if let Ok(line) = serde_json::to_string(event) {
        let _guard = out.lock();
        println!("{line}");
    }
}

struct Events {
    acked: Arc<AtomicU64>,
    out: Arc<Mutex<()>>,
}

impl ClientContext for Events {}

impl ProducerContext for Events {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        let text = |b: Option<&[u8]>| b.map(|x| String::from_utf8_lossy(x).into_owned());
        match result {
            Ok(m) => {
                self.acked.fetch_add(1, Ordering::Relaxed);
                let key = text(m.key());
                let value = text(m.payload()).unwrap_or_default();
                emit(
                    &self.out,
                    &Success {
                        timestamp: now_ms(),
                        name: "producer_send_success",
                        key: key.as_deref(),
                        value: &value,
                        topic: m.topic(),
                        partition: m.partition(),
                        offset: m.offset(),
                    },
                );
            }
            Err((e, m)) => {
                let key = text(m.key());
                let value = text(m.payload()).unwrap_or_default();
                let exception = match e {
                    KafkaError::MessageProduction(code) => format!("{code:?}"),
                    other => format!("{other:?}"),
                };
                emit(
                    &self.out,
                    &Failure {
                        timestamp: now_ms(),
                        name: "producer_send_error",
                        key: key.as_deref(),
                        value: &value,
                        topic: m.topic(),
                        exception: &exception,
                        message: e.to_string(),
                    },
                );
            }
        }
    }
}

pub fn run(args: VerifiableArgs) -> anyhow::Result<()> {
    let mut cfg = client_config(&args.target, args.producer_config.as_deref(), "", &[])?;
    args.target.probe()?;
    set_default(&mut cfg, "acks", &args.acks);
    set_default(&mut cfg, "partitioner", "murmur2_random");
    set_default(&mut cfg, "linger.ms", "0");
    let acked = Arc::new(AtomicU64::new(0));
    let out = Arc::new(Mutex::new(()));
    let producer: ThreadedProducer<Events> = cfg
        .create_with_context(Events {
            acked: acked.clone(),
            out: out.clone(),
        })
        .context("creating the producer")?;
    let stop = super::common::interrupted();
    emit(
        &out,
        &Event {
            timestamp: now_ms(),
            name: "startup_complete",
        },
    );
    let start = Instant::now();
    let mut sent = 0u64;
    while (args.max_messages < 0 || (sent as i64) < args.max_messages)
        && !stop.load(Ordering::SeqCst)
    {
        if args.throughput > 0 {
            let due = start + Duration::from_secs_f64(sent as f64 / args.throughput as f64);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        let value = match args.value_prefix {
            Some(p) => format!("{p}.{sent}"),
            None => sent.to_string(),
        };
        let key = args
            .repeating_keys
            .filter(|n| *n > 0)
            .map(|n| (sent % n).to_string());
        let mut record = BaseRecord::<str, str, ()>::to(&args.topic).payload(&value);
        if let Some(k) = &key {
            record = record.key(k.as_str());
        }
        if let Some(ts) = args.message_create_time {
            record = record.timestamp(ts);
        }
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((e, _)) => return Err(e).context("sending a record"),
            }
        }
        sent += 1;
    }
    producer
        .flush(Duration::from_secs(120))
        .context("waiting for outstanding deliveries")?;
    let elapsed = start.elapsed().as_secs_f64().max(1e-3);
    let acked = acked.load(Ordering::Relaxed);
    emit(
        &out,
        &Event {
            timestamp: now_ms(),
            name: "shutdown_complete",
        },
    );
    emit(
        &out,
        &ToolData {
            timestamp: now_ms(),
            name: "tool_data",
            sent,
            acked,
            target_throughput: args.throughput,
            avg_throughput: acked as f64 / elapsed,
        },
    );
    if acked < sent {
        anyhow::bail!("{} of {sent} messages were not acknowledged", sent - acked);
    }
    Ok(())
}
