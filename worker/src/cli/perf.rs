//! `weir producer-perf-test`: Kafka's ProducerPerformance tool (same flags and
//! output lines) over librdkafka.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use broker_core::properties::Properties;
use clap::Args;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;

#[derive(Debug, Args)]
pub struct ProducerPerfArgs {
    /// Topic to produce to.
    #[arg(long)]
    pub topic: String,
    /// Number of messages to produce.
    #[arg(long = "num-records")]
    pub num_records: u64,
    /// Message size in bytes.
    #[arg(long = "record-size", default_value_t = 100)]
    pub record_size: usize,
    /// Target messages per second; -1 means as fast as possible.
    #[arg(long, allow_negative_numbers = true)]
    pub throughput: f64,
    /// Producer properties, e.g. `bootstrap.servers=localhost:9092 acks=all`.
    #[arg(long = "producer-props", num_args = 1..)]
    pub producer_props: Vec<String>,
    /// A producer properties file.
    #[arg(long = "producer.config")]
    pub producer_config: Option<PathBuf>,
    /// Bootstrap servers (overrides producer-props).
    #[arg(long = "bootstrap-server")]
    pub bootstrap_server: Option<String>,
}

/// Latencies (µs) of acknowledged sends and the number of failures.
#[derive(Default)]
struct Stats {
    latencies_us: Vec<u32>,
    errors: u64,
    window: Window,
}

struct Window {
    start: Instant,
    count: u64,
    bytes: u64,
    total_latency_us: u64,
    max_latency_us: u32,
}

impl Default for Window {
    fn default() -> Self {
        Self {
            start: Instant::now(),
            count: 0,
            bytes: 0,
            total_latency_us: 0,
            max_latency_us: 0,
        }
    }
}

struct Recorder {
    stats: Arc<Mutex<Stats>>,
    record_size: usize,
}

impl ClientContext for Recorder {}

impl ProducerContext for Recorder {
    type DeliveryOpaque = Box<Instant>;

    fn delivery(&self, result: &DeliveryResult<'_>, sent_at: Box<Instant>) {
        let us = sent_at.elapsed().as_micros().min(u32::MAX as u128) as u32;
        let Ok(mut s) = self.stats.lock() else { return };
        match result {
            Ok(_) => {
                s.latencies_us.push(us);
                let w = &mut s.window;
                w.count += 1;
                w.bytes += self.record_size as u64;
                w.total_latency_us += us as u64;
                w.max_latency_us = w.max_latency_us.max(us);
            }
            Err((e, _)) => {
                s.errors += 1;
                if s.errors <= 5 {
                    eprintln!("Error when sending message: {e}");
                }
            }
        }
    }
}

fn client_config(args: &ProducerPerfArgs) -> anyhow::Result<ClientConfig> {
    let mut cfg = ClientConfig::new();
    if let Some(path) = &args.producer_config {
        for e in Properties::load(path)?.entries() {
            cfg.set(&e.key, &e.value);
        }
    }
    for kv in &args.producer_props {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--producer-props {kv:?} is not of the form key=value"))?;
        cfg.set(k.trim(), v.trim());
    }
    if let Some(b) = &args.bootstrap_server {
        cfg.set("bootstrap.servers", b);
    }
    if cfg.get("bootstrap.servers").is_none() {
        anyhow::bail!(
            "bootstrap.servers is required (--producer-props bootstrap.servers=host:port)"
        );
    }
    Ok(cfg)
}

fn print_window(w: &Window) {
    let secs = w.start.elapsed().as_secs_f64().max(1e-9);
    let avg_ms = if w.count > 0 {
        w.total_latency_us as f64 / w.count as f64 / 1000.0
    } else {
        0.0
    };
    println!(
        "{} records sent, {:.1} records/sec ({:.2} MB/sec), {:.1} ms avg latency, {:.1} ms max latency.",
        w.count,
        w.count as f64 / secs,
        w.bytes as f64 / secs / 1024.0 / 1024.0,
        avg_ms,
        w.max_latency_us as f64 / 1000.0
    );
}

pub fn run(args: ProducerPerfArgs) -> anyhow::Result<()> {
    let stats = Arc::new(Mutex::new(Stats::default()));
    let producer: ThreadedProducer<Recorder> =
        client_config(&args)?.create_with_context(Recorder {
            stats: stats.clone(),
            record_size: args.record_size,
        })?;
    let payload: Vec<u8> = (0..args.record_size)
        .map(|i| b'A' + (i % 26) as u8)
        .collect();
    let start = Instant::now();
    let mut last_report = Instant::now();
    for i in 0..args.num_records {
        if args.throughput > 0.0 {
            let due = start + Duration::from_secs_f64(i as f64 / args.throughput);
            // Sleep rather than spin: the tool must not steal the CPU it measures.
            let now = Instant::now();
            if now < due {
                std::thread::sleep(due - now);
            }
        }
        let mut record = BaseRecord::with_opaque_to(&args.topic, Box::new(Instant::now()))
            .payload(payload.as_slice());
        loop {
            match producer.send::<[u8], [u8]>(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    producer.poll(Duration::from_millis(1));
                }
                Err((e, _)) => return Err(e).context("sending a record"),
            }
        }
        if last_report.elapsed() >= Duration::from_secs(5) {
            if let Ok(mut s) = stats.lock() {
                print_window(&s.window);
                s.window = Window::default();
            }
            last_report = Instant::now();
        }
    }
    producer
        .flush(Duration::from_secs(120))
        .context("waiting for outstanding deliveries")?;
    let elapsed = start.elapsed().as_secs_f64().max(1e-9);
    let mut s = stats
        .lock()
        .map_err(|_| anyhow::anyhow!("statistics lock poisoned"))?;
    let n = s.latencies_us.len();
    s.latencies_us.sort_unstable();
    let pct = |q: f64| -> u32 {
        if n == 0 {
            return 0;
        }
        s.latencies_us[((q * n as f64) as usize).min(n - 1)] / 1000
    };
    let avg = if n > 0 {
        s.latencies_us.iter().map(|&x| x as f64).sum::<f64>() / n as f64 / 1000.0
    } else {
        0.0
    };
    let max = s.latencies_us.last().copied().unwrap_or(0) as f64 / 1000.0;
    println!(
        "{} records sent, {:.6} records/sec ({:.2} MB/sec), {:.2} ms avg latency, {:.2} ms max latency, {} ms 50th, {} ms 95th, {} ms 99th, {} ms 99.9th.",
        args.num_records,
        args.num_records as f64 / elapsed,
        (args.num_records as f64 * args.record_size as f64) / elapsed / 1024.0 / 1024.0,
        avg,
        max,
        pct(0.5),
        pct(0.95),
        pct(0.99),
        pct(0.999),
    );
    if s.errors > 0 {
        anyhow::bail!("{} of {} records failed", s.errors, args.num_records);
    }
    Ok(())
}
