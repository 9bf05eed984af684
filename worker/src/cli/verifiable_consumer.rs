//! `weir verifiable-consumer`: kafka-verifiable-consumer.sh. Consumes with a
//! group and prints one JSON event per line in Kafka's names and field
//! order: startup, partitions revoked and assigned, each poll's records by
//! partition (and each record with --verbose), each commit's offsets, and
//! shutdown.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::Args;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaResult;
use rdkafka::message::Message;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use serde_json::{json, Value};

use super::common::{client_config, consumer_defaults, set_default, Target};

#[derive(Debug, Args)]
pub struct VerifiableConsumerArgs {
    #[command(flatten)]
    pub target: Target,
    /// The topic to consume.
    #[arg(long)]
    pub topic: String,
    /// The consumer group.
    #[arg(long = "group-id")]
    pub group_id: String,
    /// A static member's instance id.
    #[arg(long = "group-instance-id")]
    pub group_instance_id: Option<String>,
    /// Stop after this many records; -1 consumes until stopped.
    #[arg(long = "max-messages", default_value_t = -1, allow_negative_numbers = true)]
    pub max_messages: i64,
    /// The group session timeout in ms.
    #[arg(long = "session-timeout", default_value_t = 30_000)]
    pub session_timeout: u64,
    /// Print every record.
    #[arg(long)]
    pub verbose: bool,
    /// Commit automatically rather than after each poll.
    #[arg(long = "enable-autocommit")]
    pub enable_autocommit: bool,
    /// Where to start without a committed offset: earliest, latest, none.
    #[arg(long = "reset-policy", default_value = "earliest")]
    pub reset_policy: String,
    /// Kafka's assignor class (RangeAssignor, RoundRobinAssignor,
    /// CooperativeStickyAssignor).
    #[arg(long = "assignment-strategy")]
    pub assignment_strategy: Option<String>,
    /// A consumer properties file.
    #[arg(long = "consumer.config")]
    pub consumer_config: Option<PathBuf>,
    /// Only `classic` is spoken.
    #[arg(long = "group-protocol", default_value = "classic")]
    pub group_protocol: String,
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// Prints an event: `timestamp` and `name` first, then its fields.
fn emit(name: &str, fields: Vec<(&str, Value)>) {
    let mut line = format!("{{\"timestamp\":{},\"name\":{}", now_ms(), json!(name));
    for (k, v) in fields {
        line.push_str(&format!(",{}:{v}", json!(k)));
    }
    line.push('}');
    println!("{line}");
}

fn partitions(list: &TopicPartitionList) -> Value {
    Value::Array(
        list.elements()
            .iter()
            .map(|e| json!({"topic": e.topic(), "partition": e.partition()}))
            .collect(),
    )
}

/// Prints the rebalance and automatic-commit events as they are served.
#[derive(Default)]
struct Events {
    assigned: std::sync::atomic::AtomicBool,
}

fn offsets_committed(offsets: &TopicPartitionList, result: KafkaResult<()>) {
    let list: Vec<Value> = offsets
        .elements()
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(o) => {
                Some(json!({"topic": e.topic(), "partition": e.partition(), "offset": o}))
            }
            _ => None,
        })
        .collect();
    let mut fields = vec![("offsets", Value::Array(list))];
    match result {
        Ok(()) => fields.push(("success", json!(true))),
        Err(e) => {
            fields.push(("success", json!(false)));
            fields.push(("error", json!(e.to_string())));
        }
    }
    emit("offsets_committed", fields);
}

impl ClientContext for Events {}

impl ConsumerContext for Events {
    fn pre_rebalance(&self, _c: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            self.assigned.store(false, Ordering::SeqCst);
            emit("partitions_revoked", vec![("partitions", partitions(list))]);
        }
    }

    fn post_rebalance(&self, _c: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(list) = rebalance {
            self.assigned.store(true, Ordering::SeqCst);
            emit(
                "partitions_assigned",
                vec![("partitions", partitions(list))],
            );
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        // Synchronous commits are reported where they are made.
        if !offsets.elements().is_empty() {
            offsets_committed(offsets, result);
        }
    }
}

pub fn run(args: VerifiableConsumerArgs) -> anyhow::Result<()> {
    if args.group_protocol != "classic" {
        anyhow::bail!(
            "--group-protocol {}: only the classic protocol is spoken",
            args.group_protocol
        );
    }
    let mut cfg = client_config(&args.target, args.consumer_config.as_deref(), "", &[])?;
    args.target.probe()?;
    consumer_defaults(&mut cfg);
    cfg.set("group.id", &args.group_id);
    cfg.set(
        "enable.auto.commit",
        if args.enable_autocommit {
            "true"
        } else {
            "false"
        },
    );
    set_default(
        &mut cfg,
        "session.timeout.ms",
        &args.session_timeout.to_string(),
    );
    // Kafka's `none` is librdkafka's `error`.
    let reset = match args.reset_policy.as_str() {
        "none" => "error",
        other => other,
    };
    set_default(&mut cfg, "auto.offset.reset", reset);
    if let Some(id) = &args.group_instance_id {
        cfg.set("group.instance.id", id);
    }
    if let Some(s) = &args.assignment_strategy {
        let name = s.rsplit('.').next().unwrap_or(s);
        let strategy = match name {
            "RangeAssignor" => "range",
            "RoundRobinAssignor" => "roundrobin",
            "CooperativeStickyAssignor" => "cooperative-sticky",
            other => anyhow::bail!("--assignment-strategy {other}: RangeAssignor, RoundRobinAssignor or CooperativeStickyAssignor"),
        };
        cfg.set("partition.assignment.strategy", strategy);
    }
    let consumer: BaseConsumer<Events> = cfg
        .create_with_context(Events::default())
        .context("creating the consumer")?;
    consumer.subscribe(&[&args.topic]).context("subscribing")?;
    let stop = super::common::interrupted();
    emit("startup_complete", vec![]);
    let mut consumed = 0i64;
    while (args.max_messages < 0 || consumed < args.max_messages) && !stop.load(Ordering::SeqCst) {
        // A poll: the records that arrive within a moment, at most 500.
        let mut batch: BTreeMap<(String, i32), (i64, i64, i64)> = BTreeMap::new();
        let deadline = Instant::now() + Duration::from_millis(100);
        let mut n = 0;
        while n < 500 && (args.max_messages < 0 || consumed < args.max_messages) {
            let wait = deadline.saturating_duration_since(Instant::now());
            let Some(m) = consumer.poll(wait) else {
                break;
            };
            let m = match m {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("consumer error: {e}");
                    break;
                }
            };
            if args.verbose {
                let text = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
                emit(
                    "record_data",
                    vec![
                        ("key", json!(text(m.key()))),
                        ("value", json!(text(m.payload()))),
                        ("topic", json!(m.topic())),
                        ("partition", json!(m.partition())),
                        ("offset", json!(m.offset())),
                    ],
                );
            }
            let e = batch
                .entry((m.topic().to_string(), m.partition()))
                .or_insert((0, m.offset(), m.offset()));
            e.0 += 1;
            e.1 = e.1.min(m.offset());
            e.2 = e.2.max(m.offset());
            n += 1;
            consumed += 1;
        }
        if batch.is_empty() {
            continue;
        }
        let parts: Vec<Value> = batch
            .iter()
            .map(|((t, p), (count, min, max))| {
                json!({"topic": t, "partition": p, "count": count, "minOffset": min, "maxOffset": max})
            })
            .collect();
        emit(
            "records_consumed",
            vec![("count", json!(n)), ("partitions", Value::Array(parts))],
        );
        if !args.enable_autocommit {
            let mut offsets = TopicPartitionList::new();
            for ((t, p), (_, _, max)) in &batch {
                offsets
                    .add_partition_offset(t, *p, Offset::Offset(max + 1))
                    .context("building the offsets to commit")?;
            }
            let result = consumer.commit(&offsets, CommitMode::Sync);
            offsets_committed(&offsets, result);
        }
    }
    // Leave the group, reporting the revocation, before saying goodbye.
    consumer.unsubscribe();
    let deadline = Instant::now() + Duration::from_secs(5);
    while consumer.context().assigned.load(Ordering::SeqCst) && Instant::now() < deadline {
        let _ = consumer.poll(Duration::from_millis(50));
    }
    emit("shutdown_complete", vec![]);
    Ok(())
}
