//! `weir consumer-perf-test`: Kafka's ConsumerPerformance tool (same flags and
//! output line) over librdkafka.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::Args;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::message::Message;
use rdkafka::ClientContext;

use super::common::{client_config, consumer_defaults, set_default, Target};

#[derive(Debug, Args)]
pub struct ConsumerPerfArgs {
    #[command(flatten)]
    pub target: Target,
    /// Topic to consume.
    #[arg(long)]
    pub topic: String,
    /// Number of messages to consume.
    #[arg(long)]
    pub messages: u64,
    /// Consumer group (default: a new one, so the topic is read from the start).
    #[arg(long)]
    pub group: Option<String>,
    /// Bytes to fetch per partition per request.
    #[arg(long = "fetch-size")]
    pub fetch_size: Option<u64>,
    /// Start at the end of the log when the group has no offset.
    #[arg(long = "from-latest")]
    pub from_latest: bool,
    /// Give up when no message arrives for this many ms.
    #[arg(long, default_value_t = 10_000)]
    pub timeout: u64,
    /// Leave out the header line.
    #[arg(long = "hide-header")]
    pub hide_header: bool,
    /// Print a line per reporting interval.
    #[arg(long = "show-detailed-stats")]
    pub show_detailed_stats: bool,
    /// Interval of detailed stats in ms.
    #[arg(long = "reporting-interval", default_value_t = 5000)]
    pub reporting_interval: u64,
    /// A consumer properties file.
    #[arg(long = "consumer.config")]
    pub consumer_config: Option<PathBuf>,
    /// Accepted for compatibility (librdkafka uses its own threads).
    #[arg(long, alias = "num-fetch-threads")]
    pub threads: Option<u32>,
}

#[derive(Default)]
struct Joined(Mutex<Option<Instant>>);

struct PerfContext {
    joined: Arc<Joined>,
}

impl ClientContext for PerfContext {}

impl ConsumerContext for PerfContext {
    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(_) = rebalance {
            if let Ok(mut j) = self.joined.0.lock() {
                j.get_or_insert_with(Instant::now);
            }
        }
    }
}

/// `yyyy-MM-dd HH:mm:ss:SSS` in UTC, Kafka's default `--date-format`.
pub fn format_time(t: SystemTime) -> String {
    let ms = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis()) as i64;
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}:{:03}",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

const HEADER: &str = "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec";

pub fn run(args: ConsumerPerfArgs) -> anyhow::Result<()> {
    let mut cfg = client_config(&args.target, args.consumer_config.as_deref(), "", &[])?;
    args.target.probe()?;
    let group = args
        .group
        .clone()
        .unwrap_or_else(|| format!("perf-consumer-{}", std::process::id() % 100_000));
    cfg.set("group.id", &group);
    set_default(
        &mut cfg,
        "auto.offset.reset",
        if args.from_latest {
            "latest"
        } else {
            "earliest"
        },
    );
    set_default(&mut cfg, "enable.auto.commit", "true");
    consumer_defaults(&mut cfg);
    if let Some(f) = args.fetch_size {
        cfg.set("max.partition.fetch.bytes", f.to_string());
    }
    let joined = Arc::new(Joined::default());
    let consumer: BaseConsumer<PerfContext> = cfg
        .create_with_context(PerfContext {
            joined: joined.clone(),
        })
        .context("creating the consumer")?;
    if !args.hide_header {
        if args.show_detailed_stats {
            println!("time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec");
        } else {
            println!("{HEADER}");
        }
    }
    let start_wall = SystemTime::now();
    let start = Instant::now();
    consumer.subscribe(&[&args.topic])?;
    let (mut count, mut bytes) = (0u64, 0u64);
    let mut last_message = Instant::now();
    let (mut window_at, mut window_count, mut window_bytes) = (Instant::now(), 0u64, 0u64);
    while count < args.messages {
        if last_message.elapsed() >= Duration::from_millis(args.timeout) {
            eprintln!("WARNING: Exiting before consuming the expected number of messages: timeout ({} ms) exceeded. You can use the --timeout option to increase the timeout.", args.timeout);
            break;
        }
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                count += 1;
                bytes += (m.payload_len() + m.key().map_or(0, <[u8]>::len)) as u64;
                last_message = Instant::now();
            }
            Some(Err(e)) => eprintln!("Warning: {e}"),
            None => {}
        }
        if args.show_detailed_stats
            && window_at.elapsed() >= Duration::from_millis(args.reporting_interval)
        {
            let secs = window_at.elapsed().as_secs_f64();
            let mb = (bytes - window_bytes) as f64 / 1_048_576.0;
            let n = count - window_count;
            println!(
                "{}, 0, {:.4}, {:.4}, {}, {:.4}, 0, {}, {:.4}, {:.4}",
                format_time(SystemTime::now()),
                bytes as f64 / 1_048_576.0,
                mb / secs,
                count,
                n as f64 / secs,
                (secs * 1000.0) as u64,
                mb / secs,
                n as f64 / secs
            );
            (window_at, window_count, window_bytes) = (Instant::now(), count, bytes);
        }
    }
    let total = start.elapsed();
    let end_wall = SystemTime::now();
    let rebalance = joined
        .0
        .lock()
        .ok()
        .and_then(|j| *j)
        .map_or(Duration::ZERO, |j| j.saturating_duration_since(start));
    let fetch = total.saturating_sub(rebalance);
    let mb = bytes as f64 / 1_048_576.0;
    let secs = total.as_secs_f64().max(1e-9);
    let fetch_secs = fetch.as_secs_f64().max(1e-9);
    if !args.show_detailed_stats {
        println!(
            "{}, {}, {mb:.4}, {:.4}, {count}, {:.4}, {}, {}, {:.4}, {:.4}",
            format_time(start_wall),
            format_time(end_wall),
            mb / secs,
            count as f64 / secs,
            rebalance.as_millis(),
            fetch.as_millis(),
            mb / fetch_secs,
            count as f64 / fetch_secs
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::format_time;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn kafka_date_format_in_utc() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(format_time(t), "2023-11-14 22:13:20:123");
        assert_eq!(format_time(UNIX_EPOCH), "1970-01-01 00:00:00:000");
    }
}
