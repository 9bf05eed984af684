//! `weir consume`: kafka-console-consumer.sh, printing records with Kafka's
//! DefaultMessageFormatter layout and ending with `Processed a total of N
//! messages` on stderr.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Headers, Message, Timestamp};
use rdkafka::{Offset, TopicPartitionList};

use super::common::{
    bool_property, client_config, consumer_defaults, interrupted, properties, set_default,
    text_property, warn_unknown, Target,
};

#[derive(Debug, Args)]
pub struct ConsumeArgs {
    #[command(flatten)]
    pub target: Target,
    /// Topic to read.
    #[arg(long)]
    pub topic: Option<String>,
    /// A regular expression of topics to read (also --whitelist).
    #[arg(long, alias = "whitelist")]
    pub include: Option<String>,
    /// Read only this partition.
    #[arg(long)]
    pub partition: Option<i32>,
    /// With --partition: earliest, latest or an offset.
    #[arg(long)]
    pub offset: Option<String>,
    /// Consumer group (its committed offsets are used and updated).
    #[arg(long)]
    pub group: Option<String>,
    /// Start at the earliest offset when the group has no committed offset.
    #[arg(long = "from-beginning")]
    pub from_beginning: bool,
    /// Stop after this many messages.
    #[arg(long = "max-messages")]
    pub max_messages: Option<u64>,
    /// Stop when no message arrives for this long.
    #[arg(long = "timeout-ms")]
    pub timeout_ms: Option<u64>,
    /// Formatter property `key=value`: print.key, key.separator, print.timestamp, ...
    #[arg(long = "property")]
    pub property: Vec<String>,
    /// Consumer property `key=value` (repeatable).
    #[arg(long = "consumer-property")]
    pub consumer_property: Vec<String>,
    /// A consumer properties file.
    #[arg(long = "consumer.config")]
    pub consumer_config: Option<PathBuf>,
    /// read_uncommitted or read_committed.
    #[arg(long = "isolation-level")]
    pub isolation_level: Option<String>,
    /// Accepted for compatibility: records are printed as bytes.
    #[arg(long = "key-deserializer")]
    pub key_deserializer: Option<String>,
    /// Accepted for compatibility: records are printed as bytes.
    #[arg(long = "value-deserializer")]
    pub value_deserializer: Option<String>,
    /// Accepted for compatibility: Kafka's default formatter is always used.
    #[arg(long)]
    pub formatter: Option<String>,
    /// Skip records that fail to print instead of stopping.
    #[arg(long = "skip-message-on-error")]
    pub skip_message_on_error: bool,
}

const FORMATTER_PROPERTIES: &[&str] = &[
    "print.timestamp",
    "print.key",
    "print.offset",
    "print.partition",
    "print.headers",
    "print.value",
    "key.separator",
    "line.separator",
    "headers.separator",
    "null.literal",
    "print.delivery",
    "print.epoch",
];

/// Kafka's DefaultMessageFormatter settings.
#[derive(Debug, Clone)]
pub struct Formatter {
    print_timestamp: bool,
    print_key: bool,
    print_offset: bool,
    print_partition: bool,
    print_headers: bool,
    print_value: bool,
    key_separator: Vec<u8>,
    line_separator: Vec<u8>,
    headers_separator: Vec<u8>,
    null_literal: Vec<u8>,
}

/// The parts of a record the formatter prints.
pub struct Fields<'a> {
    pub timestamp: Timestamp,
    pub partition: i32,
    pub offset: i64,
    pub headers: Vec<(&'a str, Option<&'a [u8]>)>,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
}

impl Formatter {
    pub fn from_properties(props: &[(String, String)]) -> anyhow::Result<Self> {
        let flag = |k: &str, d: bool| bool_property(props, k, d);
        let text = |k: &str, d: &str| text_property(props, k, d).into_bytes();
        Ok(Self {
            print_timestamp: flag("print.timestamp", false)?,
            print_key: flag("print.key", false)?,
            print_offset: flag("print.offset", false)?,
            print_partition: flag("print.partition", false)?,
            print_headers: flag("print.headers", false)?,
            print_value: flag("print.value", true)?,
            key_separator: text("key.separator", "\t"),
            line_separator: text("line.separator", "\n"),
            headers_separator: text("headers.separator", ","),
            null_literal: text("null.literal", "null"),
        })
    }

    /// Writes one record the way Kafka's console consumer does.
    pub fn write(&self, out: &mut impl Write, f: &Fields<'_>) -> std::io::Result<()> {
        let later = [
            self.print_partition
                || self.print_offset
                || self.print_headers
                || self.print_key
                || self.print_value,
            self.print_offset || self.print_headers || self.print_key || self.print_value,
            self.print_headers || self.print_key || self.print_value,
            self.print_key || self.print_value,
            self.print_value,
        ];
        let sep = |out: &mut dyn Write, more: bool| -> std::io::Result<()> {
            if more {
                out.write_all(&self.key_separator)?;
            }
            Ok(())
        };
        if self.print_timestamp {
            match f.timestamp {
                Timestamp::CreateTime(t) => write!(out, "CreateTime:{t}")?,
                Timestamp::LogAppendTime(t) => write!(out, "LogAppendTime:{t}")?,
                Timestamp::NotAvailable => write!(out, "NO_TIMESTAMP")?,
            }
            sep(out, later[0])?;
        }
        if self.print_partition {
            write!(out, "Partition:{}", f.partition)?;
            sep(out, later[1])?;
        }
        if self.print_offset {
            write!(out, "Offset:{}", f.offset)?;
            sep(out, later[2])?;
        }
        if self.print_headers {
            if f.headers.is_empty() {
                out.write_all(b"NO_HEADERS")?;
            }
            for (i, (k, v)) in f.headers.iter().enumerate() {
                if i > 0 {
                    out.write_all(&self.headers_separator)?;
                }
                out.write_all(k.as_bytes())?;
                out.write_all(b":")?;
                out.write_all(v.unwrap_or(&self.null_literal))?;
            }
            sep(out, later[3])?;
        }
        if self.print_key {
            out.write_all(f.key.unwrap_or(&self.null_literal))?;
            sep(out, later[4])?;
        }
        if self.print_value {
            out.write_all(f.value.unwrap_or(&self.null_literal))?;
            out.write_all(&self.line_separator)?;
        }
        Ok(())
    }
}

fn fields<'a>(m: &'a BorrowedMessage<'a>) -> Fields<'a> {
    let headers = m
        .headers()
        .map(|h| h.iter().map(|x| (x.key, x.value)).collect())
        .unwrap_or_default();
    Fields {
        timestamp: m.timestamp(),
        partition: m.partition(),
        offset: m.offset(),
        headers,
        key: m.key(),
        value: m.payload(),
    }
}

fn start_offset(args: &ConsumeArgs) -> anyhow::Result<Offset> {
    Ok(match args.offset.as_deref() {
        None if args.from_beginning => Offset::Beginning,
        None | Some("latest") => Offset::End,
        Some("earliest") => Offset::Beginning,
        Some(n) => match n.parse::<i64>() {
            Ok(o) if o >= 0 => Offset::Offset(o),
            _ => {
                bail!("The offset must be a non-negative number, 'earliest' or 'latest', not {n:?}")
            }
        },
    })
}

pub fn run(args: ConsumeArgs) -> anyhow::Result<()> {
    let props = properties("--property", &args.property)?;
    warn_unknown("formatter", &props, FORMATTER_PROPERTIES);
    let formatter = Formatter::from_properties(&props)?;
    let topic = match (&args.topic, &args.include) {
        (Some(t), None) => t.clone(),
        // librdkafka treats a leading ^ as a regex; Kafka matches whole names.
        (None, Some(re)) => format!("^(?:{re})$"),
        _ => bail!("Exactly one of --include/--topic is required."),
    };
    if args.offset.is_some() && args.partition.is_none() {
        bail!("The partition is required when offset is specified.");
    }
    if args.partition.is_some() && args.include.is_some() {
        bail!("Options --include and --partition cannot be used together.");
    }
    if args.partition.is_some() && args.group.is_some() {
        bail!("Options group and partition cannot be specified together.");
    }
    let mut cfg = client_config(
        &args.target,
        args.consumer_config.as_deref(),
        "--consumer-property",
        &args.consumer_property,
    )?;
    args.target.probe()?;
    let generated_group = args.group.is_none() && cfg.get("group.id").is_none();
    if let Some(g) = &args.group {
        cfg.set("group.id", g);
    } else if generated_group {
        cfg.set(
            "group.id",
            format!("console-consumer-{}", std::process::id() % 100_000),
        );
        // A throw-away group leaves no committed offsets behind.
        set_default(&mut cfg, "enable.auto.commit", "false");
    }
    set_default(&mut cfg, "client.id", "console-consumer");
    let commits = cfg.get("enable.auto.commit") != Some("false");
    let reset = if args.from_beginning {
        "earliest"
    } else {
        "latest"
    };
    set_default(&mut cfg, "auto.offset.reset", reset);
    set_default(&mut cfg, "allow.auto.create.topics", "true");
    consumer_defaults(&mut cfg);
    if let Some(i) = &args.isolation_level {
        cfg.set("isolation.level", i);
    }
    let consumer: BaseConsumer = cfg.create().context("creating the consumer")?;
    match args.partition {
        Some(p) => {
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset(&topic, p, start_offset(&args)?)?;
            consumer.assign(&tpl)?;
        }
        None => consumer.subscribe(&[&topic])?,
    }

    let stop = interrupted();
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut count = 0u64;
    let mut last_message = Instant::now();
    let mut warned = false;
    let mut last_warning: Option<Instant> = None;
    let result = loop {
        if stop.load(Ordering::SeqCst) || args.max_messages.is_some_and(|m| count >= m) {
            break Ok(());
        }
        if args
            .timeout_ms
            .is_some_and(|t| last_message.elapsed() >= Duration::from_millis(t))
        {
            break Ok(());
        }
        let polled = match consumer.poll(Duration::ZERO) {
            Some(m) => Some(m),
            None => {
                out.flush()?;
                consumer.poll(Duration::from_millis(100))
            }
        };
        match polled {
            None => {}
            Some(Ok(m)) => {
                last_message = Instant::now();
                if let Err(e) = formatter.write(&mut out, &fields(&m)) {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        break Ok(());
                    }
                    if !args.skip_message_on_error {
                        break Err(e.into());
                    }
                }
                count += 1;
            }
            Some(Err(KafkaError::MessageConsumption(
                RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic,
            ))) if !warned => {
                eprintln!("Warning: topic {topic} does not exist yet; waiting for it.");
                warned = true;
            }
            Some(Err(KafkaError::MessageConsumption(
                RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic,
            ))) => {}
            Some(Err(KafkaError::PartitionEOF(_))) => {}
            // Fatal errors end the run; others (a broker restarting, a
            // connection lost) are retried by librdkafka, as Kafka's consumer does.
            Some(Err(e @ KafkaError::MessageConsumptionFatal(_))) => {
                break Err(anyhow::Error::from(e).context("consuming"))
            }
            Some(Err(e)) if last_warning.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) => {
                eprintln!("Warning: {e}");
                last_warning = Some(Instant::now());
            }
            Some(Err(_)) => {}
        }
    };
    let _ = out.flush();
    drop(out);
    if commits && !generated_group && args.partition.is_none() {
        if let Err(e) = commit_positions(&consumer, reset == "earliest") {
            eprintln!("Warning: committing offsets failed: {e:#}");
        }
    }
    eprintln!("Processed a total of {count} messages");
    result
}

/// Commits the group's position on every assigned partition, as Kafka's
/// console consumer does: consumed partitions at the next offset, and (when
/// reading from the beginning) untouched ones without a committed offset at
/// their log start, so lag shows for records that arrive there later.
fn commit_positions(consumer: &BaseConsumer, from_earliest: bool) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(10);
    let positions = consumer.position()?;
    let committed = consumer.committed(timeout)?;
    let mut tpl = TopicPartitionList::new();
    for e in positions.elements() {
        let offset = match e.offset() {
            Offset::Offset(o) => o,
            _ if from_earliest => {
                let known = committed
                    .find_partition(e.topic(), e.partition())
                    .is_some_and(|c| matches!(c.offset(), Offset::Offset(_)));
                if known {
                    continue;
                }
                consumer
                    .fetch_watermarks(e.topic(), e.partition(), timeout)?
                    .0
            }
            _ => continue,
        };
        tpl.add_partition_offset(e.topic(), e.partition(), Offset::Offset(offset))?;
    }
    if tpl.count() > 0 {
        consumer.commit(&tpl, CommitMode::Sync)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(props: &[(&str, &str)], f: &Fields<'_>) -> String {
        let p: Vec<(String, String)> = props
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut out = Vec::new();
        Formatter::from_properties(&p)
            .expect("valid")
            .write(&mut out, f)
            .expect("written");
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn layout_follows_kafka_default_formatter() {
        let f = Fields {
            timestamp: Timestamp::CreateTime(1700000000000),
            partition: 2,
            offset: 5,
            headers: vec![("h", Some(b"v".as_slice())), ("n", None)],
            key: None,
            value: Some(b"hello".as_slice()),
        };
        assert_eq!(render(&[], &f), "hello\n");
        assert_eq!(
            render(&[("print.key", "true"), ("key.separator", "-")], &f),
            "null-hello\n"
        );
        assert_eq!(
            render(
                &[
                    ("print.timestamp", "true"),
                    ("print.partition", "true"),
                    ("print.offset", "true"),
                    ("print.headers", "true"),
                    ("print.key", "true"),
                ],
                &f
            ),
            "CreateTime:1700000000000\tPartition:2\tOffset:5\th:v,n:null\tnull\thello\n"
        );
        // Kafka ends the line only after the value.
        assert_eq!(
            render(&[("print.key", "true"), ("print.value", "false")], &f),
            "null"
        );
    }
}
