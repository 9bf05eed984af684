//! `weir produce`: kafka-console-producer.sh. Lines from stdin (or `--file`)
//! become records; `parse.key`, `parse.headers` and their separators follow
//! Kafka's LineMessageReader.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;

use super::common::{
    bool_property, client_config, properties, property, set_default, text_property, warn_unknown,
    Target,
};

#[derive(Debug, Args)]
pub struct ProduceArgs {
    #[command(flatten)]
    pub target: Target,
    /// Topic to produce to.
    #[arg(long)]
    pub topic: String,
    /// Read lines from this file instead of stdin.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Reader property `key=value`: parse.key, key.separator, parse.headers, ...
    #[arg(long = "property")]
    pub property: Vec<String>,
    /// A file of reader properties.
    #[arg(long = "reader-config")]
    pub reader_config: Option<PathBuf>,
    /// Producer property `key=value` (repeatable).
    #[arg(long = "producer-property")]
    pub producer_property: Vec<String>,
    /// A producer properties file.
    #[arg(long = "producer.config")]
    pub producer_config: Option<PathBuf>,
    /// none, gzip (when given without a value), snappy, lz4 or zstd.
    #[arg(long = "compression-codec", num_args = 0..=1, default_missing_value = "gzip")]
    pub compression_codec: Option<String>,
    /// acks: 0, 1 or -1/all.
    #[arg(long = "request-required-acks", allow_negative_numbers = true)]
    pub acks: Option<String>,
    /// Send each record and wait for its acknowledgement.
    #[arg(long)]
    pub sync: bool,
    /// Linger time in ms before a batch is sent (default 1000).
    #[arg(long)]
    pub timeout: Option<u64>,
    /// Batch size in bytes.
    #[arg(long = "batch-size")]
    pub batch_size: Option<u64>,
    /// Request timeout in ms.
    #[arg(long = "request-timeout-ms")]
    pub request_timeout_ms: Option<u64>,
    /// Retries for a failed send.
    #[arg(long = "message-send-max-retries")]
    pub retries: Option<u64>,
}

const READER_PROPERTIES: &[&str] = &[
    "parse.key",
    "key.separator",
    "parse.headers",
    "headers.delimiter",
    "headers.separator",
    "headers.key.separator",
    "ignore.error",
    "null.marker",
];

/// How a line turns into a record (Kafka's LineMessageReader rules).
#[derive(Debug, Clone)]
pub struct LineFormat {
    parse_key: bool,
    key_separator: String,
    parse_headers: bool,
    headers_delimiter: String,
    headers_separator: String,
    headers_key_separator: String,
    ignore_error: bool,
    null_marker: Option<String>,
}

/// One parsed line.
#[derive(Debug, PartialEq)]
pub struct LineRecord {
    pub key: Option<String>,
    pub value: Option<String>,
    pub headers: Vec<(String, Option<String>)>,
}

impl LineFormat {
    pub fn from_properties(props: &[(String, String)]) -> anyhow::Result<Self> {
        let flag = |k: &str| bool_property(props, k, false);
        let sep = |k: &str, d: &str| text_property(props, k, d);
        let f = Self {
            parse_key: flag("parse.key")?,
            key_separator: sep("key.separator", "\t"),
            parse_headers: flag("parse.headers")?,
            headers_delimiter: sep("headers.delimiter", "\t"),
            headers_separator: sep("headers.separator", ","),
            headers_key_separator: sep("headers.key.separator", ":"),
            ignore_error: flag("ignore.error")?,
            null_marker: property(props, "null.marker"),
        };
        for (name, v) in [
            ("key.separator", &f.key_separator),
            ("headers.delimiter", &f.headers_delimiter),
            ("headers.separator", &f.headers_separator),
            ("headers.key.separator", &f.headers_key_separator),
        ] {
            if v.is_empty() {
                bail!("property {name} must not be empty");
            }
        }
        Ok(f)
    }

    fn null(&self, s: &str) -> Option<String> {
        match &self.null_marker {
            Some(m) if m == s => None,
            _ => Some(s.to_string()),
        }
    }

    /// Parses line `n` (1-based, for messages).
    pub fn parse(&self, line: &str, n: u64) -> anyhow::Result<LineRecord> {
        let mut rest = line;
        let mut headers = Vec::new();
        if self.parse_headers {
            match rest.find(&self.headers_delimiter) {
                Some(i) => {
                    for pair in rest[..i].split(&self.headers_separator) {
                        match pair.find(&self.headers_key_separator) {
                            Some(j) => headers.push((
                                pair[..j].to_string(),
                                self.null(&pair[j + self.headers_key_separator.len()..]),
                            )),
                            None if self.ignore_error => headers.push((pair.to_string(), None)),
                            None => bail!(
                                "No header key separator found in pair '{pair}' on line number {n}"
                            ),
                        }
                    }
                    rest = &rest[i + self.headers_delimiter.len()..];
                }
                None if self.ignore_error => {}
                None => bail!("No headers delimiter found on line number {n}: '{line}'"),
            }
        }
        let (key, value) = if self.parse_key {
            match rest.find(&self.key_separator) {
                Some(i) => (
                    self.null(&rest[..i]),
                    self.null(&rest[i + self.key_separator.len()..]),
                ),
                None if self.ignore_error => (None, self.null(rest)),
                None => bail!("No key separator found on line number {n}: '{line}'"),
            }
        } else {
            (None, self.null(rest))
        };
        Ok(LineRecord {
            key,
            value,
            headers,
        })
    }
}

struct Delivery {
    failed: AtomicU64,
    acked: AtomicU64,
}

struct DeliveryLog {
    state: Arc<Delivery>,
}

impl ClientContext for DeliveryLog {}

impl ProducerContext for DeliveryLog {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => {
                self.state.acked.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, m)) => {
                use rdkafka::Message;
                self.state.failed.fetch_add(1, Ordering::Relaxed);
                let key = m
                    .key()
                    .map_or_else(|| "null".to_string(), |k| format!("{} bytes", k.len()));
                let value = m
                    .payload()
                    .map_or_else(|| "null".to_string(), |v| format!("{} bytes", v.len()));
                eprintln!(
                    "Error when sending message to topic {} with key: {key}, value: {value} with error: {e}",
                    m.topic()
                );
            }
        }
    }
}

pub fn run(args: ProduceArgs) -> anyhow::Result<()> {
    let mut reader_props = Vec::new();
    if let Some(path) = &args.reader_config {
        let p = broker_core::properties::Properties::load(path)?;
        reader_props.extend(p.entries().iter().map(|e| (e.key.clone(), e.value.clone())));
    }
    reader_props.extend(properties("--property", &args.property)?);
    warn_unknown("reader", &reader_props, READER_PROPERTIES);
    let format = LineFormat::from_properties(&reader_props)?;

    let mut cfg = client_config(
        &args.target,
        args.producer_config.as_deref(),
        "--producer-property",
        &args.producer_property,
    )?;
    args.target.probe()?;
    set_default(&mut cfg, "partitioner", "murmur2_random");
    set_default(&mut cfg, "client.id", "console-producer");
    // Explicit flags win over properties files, as in Kafka's tool.
    match args.acks.as_deref() {
        Some(a) => {
            cfg.set("acks", if a == "all" { "-1" } else { a });
        }
        None => set_default(&mut cfg, "acks", "-1"),
    }
    match args.timeout {
        Some(t) => {
            cfg.set("linger.ms", t.to_string());
        }
        None => set_default(&mut cfg, "linger.ms", "1000"),
    }
    if let Some(c) = &args.compression_codec {
        cfg.set("compression.codec", c.as_str());
    }
    if let Some(b) = args.batch_size {
        cfg.set("batch.size", b.to_string());
    }
    if let Some(t) = args.request_timeout_ms {
        cfg.set("request.timeout.ms", t.to_string());
    }
    if let Some(r) = args.retries {
        cfg.set("retries", r.to_string());
    }
    let state = Arc::new(Delivery {
        failed: AtomicU64::new(0),
        acked: AtomicU64::new(0),
    });
    let producer: Arc<ThreadedProducer<DeliveryLog>> = Arc::new(
        cfg.create_with_context(DeliveryLog {
            state: state.clone(),
        })
        .context("creating the producer")?,
    );
    // Ctrl-C or SIGTERM: deliver what was typed so far, as Kafka's shutdown hook does.
    let on_signal = producer.clone();
    let stop = super::common::interrupted();
    std::thread::spawn(move || loop {
        if stop.load(Ordering::SeqCst) {
            let _ = on_signal.flush(Duration::from_secs(30));
            std::process::exit(0);
        }
        std::thread::sleep(Duration::from_millis(50));
    });
    let result = read_and_send(&args, &format, &producer);
    // Whatever happened, records already accepted are delivered before exit.
    let flushed = producer.flush(Duration::from_secs(120));
    result?;
    flushed.context("waiting for outstanding deliveries")?;
    let failed = state.failed.load(Ordering::Relaxed);
    if failed > 0 {
        bail!("{failed} records were not delivered");
    }
    Ok(())
}

fn read_and_send(
    args: &ProduceArgs,
    format: &LineFormat,
    producer: &ThreadedProducer<DeliveryLog>,
) -> anyhow::Result<()> {
    let (input, total_bytes): (Box<dyn Read>, Option<u64>) = match &args.file {
        Some(path) => {
            let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
            let len = f.metadata().ok().map(|m| m.len());
            (Box::new(f), len)
        }
        None => (Box::new(std::io::stdin()), None),
    };
    let prompt = args.file.is_none() && std::io::stdin().is_terminal();
    let mut progress = (args.file.is_some() && std::io::stderr().is_terminal())
        .then(|| Progress::new(total_bytes));
    let mut reader = BufReader::new(input);
    let mut raw = Vec::new();
    let mut n = 0u64;
    let mut bytes_read = 0u64;
    loop {
        if prompt {
            print!(">");
            let _ = std::io::stdout().flush();
        }
        raw.clear();
        let read = reader
            .read_until(b'\n', &mut raw)
            .context("reading input")?;
        if read == 0 {
            break;
        }
        bytes_read += read as u64;
        n += 1;
        // Bytes that are not UTF-8 become U+FFFD, as Kafka's reader does.
        let line = String::from_utf8_lossy(&raw);
        let text = line.strip_suffix('\n').unwrap_or(&line);
        let text = text.strip_suffix('\r').unwrap_or(text);
        let rec = format.parse(text, n)?;
        send(producer, &args.topic, &rec)?;
        if args.sync {
            producer
                .flush(Duration::from_secs(60))
                .context("waiting for the acknowledgement")?;
        }
        if let Some(p) = progress.as_mut() {
            p.tick(n, bytes_read, false);
        }
    }
    producer
        .flush(Duration::from_secs(120))
        .context("waiting for outstanding deliveries")?;
    if let Some(p) = progress.as_mut() {
        p.tick(n, bytes_read, true);
    }
    Ok(())
}

fn send(
    producer: &ThreadedProducer<DeliveryLog>,
    topic: &str,
    rec: &LineRecord,
) -> anyhow::Result<()> {
    let mut headers = OwnedHeaders::new();
    for (k, v) in &rec.headers {
        headers = headers.insert(Header {
            key: k,
            value: v.as_deref(),
        });
    }
    let mut record = BaseRecord::<str, str, ()>::to(topic).headers(headers);
    if let Some(k) = &rec.key {
        record = record.key(k.as_str());
    }
    if let Some(v) = &rec.value {
        record = record.payload(v.as_str());
    }
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                record = r;
                std::thread::sleep(Duration::from_millis(5));
            }
            Err((e, _)) => return Err(e).context("sending a record"),
        }
    }
}

/// A one-line progress display on stderr for `--file` on a terminal.
struct Progress {
    start: Instant,
    last: Instant,
    total: Option<u64>,
}

impl Progress {
    fn new(total: Option<u64>) -> Self {
        Self {
            start: Instant::now(),
            last: Instant::now(),
            total,
        }
    }

    fn tick(&mut self, lines: u64, bytes: u64, done: bool) {
        if !done && self.last.elapsed() < Duration::from_millis(200) {
            return;
        }
        self.last = Instant::now();
        let secs = self.start.elapsed().as_secs_f64().max(1e-3);
        let rate = lines as f64 / secs;
        let bar = match self.total.filter(|t| *t > 0) {
            Some(t) => {
                let frac = (bytes as f64 / t as f64).min(1.0);
                let filled = (frac * 30.0) as usize;
                format!(
                    "[{}{}] {:>3.0}% ",
                    "#".repeat(filled),
                    " ".repeat(30 - filled),
                    frac * 100.0
                )
            }
            None => String::new(),
        };
        eprint!("\r{bar}{lines} lines, {rate:.0} msg/s");
        if done {
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(props: &[(&str, &str)]) -> LineFormat {
        let p: Vec<(String, String)> = props
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LineFormat::from_properties(&p).expect("valid properties")
    }

    #[test]
    fn key_separator_splits_at_first_occurrence() {
        let f = fmt(&[("parse.key", "true"), ("key.separator", ":")]);
        let r = f.parse("k1:v:1", 1).expect("parsed");
        assert_eq!(r.key.as_deref(), Some("k1"));
        assert_eq!(r.value.as_deref(), Some("v:1"));
        let err = f.parse("novalue", 7).expect_err("no separator");
        assert_eq!(
            err.to_string(),
            "No key separator found on line number 7: 'novalue'"
        );
    }

    #[test]
    fn headers_and_null_marker() {
        let f = fmt(&[
            ("parse.headers", "true"),
            ("parse.key", "true"),
            ("null.marker", "NULL"),
        ]);
        let r = f.parse("h1:a,h2:NULL\tNULL\tvalue", 1).expect("parsed");
        assert_eq!(
            r.headers,
            vec![("h1".into(), Some("a".into())), ("h2".into(), None)]
        );
        assert_eq!(r.key, None);
        assert_eq!(r.value.as_deref(), Some("value"));
        let err = f.parse("h1a\tk\tv", 3).expect_err("bad header");
        assert_eq!(
            err.to_string(),
            "No header key separator found in pair 'h1a' on line number 3"
        );
    }
}
