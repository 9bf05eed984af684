//! Kafka Connect's worker, connector and task metrics, kept as atomics that
//! the task loops update once per batch, and their Prometheus text form.
//!
//! Names follow what a JMX exporter makes of Kafka Connect's MBeans:
//! `kafka.connect:type=source-task-metrics,connector=c,task=0` attribute
//! `source-record-poll-total` becomes
//! `kafka_connect_source_task_metrics_source_record_poll_total{connector="c",task="0"}`.
//! Averages and maxima cover the task's life; rates cover the last 30 to 60 s.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

use connect_api::{ConnectorKind, Plugin};

use super::{State, Status};

/// A monotonic count with a rate over a rolling window.
#[derive(Debug)]
pub struct Counter {
    total: AtomicU64,
    /// (start of the previous window, total then, start of the current window, total then)
    windows: Mutex<(Instant, u64, Instant, u64)>,
}

const WINDOW: Duration = Duration::from_secs(30);

impl Default for Counter {
    fn default() -> Self {
        let now = Instant::now();
        Counter {
            total: AtomicU64::new(0),
            windows: Mutex::new((now, 0, now, 0)),
        }
    }
}

impl Counter {
    pub fn add(&self, n: u64) {
        self.total.fetch_add(n, Relaxed);
    }

    pub fn total(&self) -> u64 {
        self.total.load(Relaxed)
    }

    /// Per second since the start of the previous window.
    pub fn rate(&self) -> f64 {
        let now = Instant::now();
        let total = self.total();
        let mut w = self.windows.lock();
        if now.duration_since(w.2) >= WINDOW {
            *w = (w.2, w.3, now, total);
        }
        let secs = now.duration_since(w.0).as_secs_f64();
        if secs <= 0.0 {
            0.0
        } else {
            total.saturating_sub(w.1) as f64 / secs
        }
    }
}

/// Count, sum and maximum of a measured value (sizes, or microseconds).
#[derive(Debug, Default)]
pub struct Stat {
    count: AtomicU64,
    sum: AtomicU64,
    max: AtomicU64,
}

impl Stat {
    pub fn record(&self, v: u64) {
        self.count.fetch_add(1, Relaxed);
        self.sum.fetch_add(v, Relaxed);
        self.max.fetch_max(v, Relaxed);
    }

    pub fn record_time(&self, since: Instant) {
        self.record(u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX));
    }

    fn avg(&self) -> f64 {
        match self.count.load(Relaxed) {
            0 => 0.0,
            n => self.sum.load(Relaxed) as f64 / n as f64,
        }
    }

    fn max(&self) -> f64 {
        self.max.load(Relaxed) as f64
    }
}

/// Worker-wide start-up counts.
#[derive(Debug, Default)]
pub struct WorkerMetrics {
    pub connector_startup_attempts: AtomicU64,
    pub connector_startup_success: AtomicU64,
    pub connector_startup_failure: AtomicU64,
    pub task_startup_attempts: AtomicU64,
    pub task_startup_success: AtomicU64,
    pub task_startup_failure: AtomicU64,
}

/// The metrics of one task (both kinds; a source task leaves the sink ones at zero).
#[derive(Debug)]
pub struct TaskMetrics {
    created: Instant,
    /// The state since when, and the time spent running and paused before that.
    state: Mutex<(State, Instant, Duration, Duration)>,
    pub started: AtomicBool,
    pub batch_size: Stat,
    pub offset_commit_time: Stat,
    pub offset_commit_success: AtomicU64,
    pub offset_commit_failure: AtomicU64,
    // Source tasks.
    pub poll: Counter,
    pub write: Counter,
    pub poll_batch_time: Stat,
    pub source_active: Stat,
    pub source_active_now: AtomicU64,
    // Sink tasks.
    pub read: Counter,
    pub send: Counter,
    pub put_batch_time: Stat,
    pub partition_count: AtomicU64,
    pub commit_completion: Counter,
    pub commit_skip: Counter,
    pub sink_active: Stat,
    pub sink_active_now: AtomicU64,
    /// The next offset of each partition the task has handed on, for
    /// Flume's `ChannelSize`.
    pub positions: Mutex<connect_api::Offsets>,
    // Errors.
    pub retries: AtomicU64,
    pub record_failures: AtomicU64,
    pub record_errors: AtomicU64,
    pub records_skipped: AtomicU64,
    pub errors_logged: AtomicU64,
    pub dlq_requests: AtomicU64,
    pub dlq_failures: Arc<AtomicU64>,
    pub last_error_ms: AtomicU64,
}

impl Default for TaskMetrics {
    fn default() -> Self {
        let now = Instant::now();
        TaskMetrics {
            created: now,
            state: Mutex::new((State::Unassigned, now, Duration::ZERO, Duration::ZERO)),
            started: AtomicBool::new(false),
            batch_size: Stat::default(),
            offset_commit_time: Stat::default(),
            offset_commit_success: AtomicU64::new(0),
            offset_commit_failure: AtomicU64::new(0),
            poll: Counter::default(),
            write: Counter::default(),
            poll_batch_time: Stat::default(),
            source_active: Stat::default(),
            source_active_now: AtomicU64::new(0),
            read: Counter::default(),
            send: Counter::default(),
            put_batch_time: Stat::default(),
            partition_count: AtomicU64::new(0),
            commit_completion: Counter::default(),
            commit_skip: Counter::default(),
            sink_active: Stat::default(),
            sink_active_now: AtomicU64::new(0),
            positions: Mutex::default(),
            retries: AtomicU64::new(0),
            record_failures: AtomicU64::new(0),
            record_errors: AtomicU64::new(0),
            records_skipped: AtomicU64::new(0),
            errors_logged: AtomicU64::new(0),
            dlq_requests: AtomicU64::new(0),
            dlq_failures: Arc::new(AtomicU64::new(0)),
            last_error_ms: AtomicU64::new(0),
        }
    }
}

impl TaskMetrics {
    /// Notes a state change for the running and pause ratios.
    pub fn state(&self, to: State) {
        let mut s = self.state.lock();
        if s.0 == to {
            return;
        }
        let spent = s.1.elapsed();
        match s.0 {
            State::Running => s.2 += spent,
            State::Paused => s.3 += spent,
            _ => {}
        }
        s.0 = to;
        s.1 = Instant::now();
    }

    /// Fractions of the task's life spent running and paused.
    fn ratios(&self) -> (f64, f64) {
        let s = self.state.lock();
        let (mut run, mut pause) = (s.2, s.3);
        match s.0 {
            State::Running => run += s.1.elapsed(),
            State::Paused => pause += s.1.elapsed(),
            _ => {}
        }
        let life = self.created.elapsed().as_secs_f64().max(1e-9);
        (run.as_secs_f64() / life, pause.as_secs_f64() / life)
    }

    pub fn error(&self) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        self.last_error_ms.store(now, Relaxed);
    }

    pub fn set_source_active(&self, n: usize) {
        let n = n as u64;
        self.source_active_now.store(n, Relaxed);
        self.source_active.record(n);
    }

    pub fn set_sink_active(&self, n: usize) {
        let n = n as u64;
        self.sink_active_now.store(n, Relaxed);
        self.sink_active.record(n);
    }
}

/// Prometheus text exposition, one `# HELP`/`# TYPE` per family.
#[derive(Default)]
pub struct Exposition {
    families: Vec<Family>,
}

/// One metric name: its type, help and labelled samples.
struct Family {
    name: String,
    kind: &'static str,
    help: &'static str,
    samples: Vec<(String, f64)>,
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Exposition {
    /// Adds a sample of `group`'s `metric` (Kafka's dashed names).
    pub fn add(
        &mut self,
        group: &str,
        metric: &str,
        help: &'static str,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        let name = format!("kafka_connect_{group}_{metric}").replace('-', "_");
        let kind = if metric.ends_with("-total") {
            "counter"
        } else {
            "gauge"
        };
        self.add_named(name, kind, help, labels, value);
    }

    /// Adds a sample under a name of its own.
    pub fn add_named(
        &mut self,
        name: String,
        kind: &'static str,
        help: &'static str,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        let labels = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
            .collect::<Vec<_>>()
            .join(",");
        match self.families.iter_mut().find(|f| f.name == name) {
            Some(f) => f.samples.push((labels, value)),
            None => self.families.push(Family {
                name,
                kind,
                help,
                samples: vec![(labels, value)],
            }),
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for Family {
            name,
            kind,
            help,
            samples,
        } in &self.families
        {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (labels, v) in samples {
                if labels.is_empty() {
                    let _ = writeln!(out, "{name} {v}");
                } else {
                    let _ = writeln!(out, "{name}{{{labels}}} {v}");
                }
            }
        }
        out
    }
}

/// Kafka Connect's metric form of a state: lower case.
pub fn state_name(s: State) -> &'static str {
    match s {
        State::Unassigned => "unassigned",
        State::Running => "running",
        State::Paused => "paused",
        State::Failed => "failed",
        State::Restarting => "restarting",
        State::Stopped => "stopped",
    }
}

/// A channel of the Flume agent that `weir flume` runs: the connectors
/// that put events into its topic and those that take them out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlumeChannel {
    pub agent: String,
    pub name: String,
    pub topic: String,
    pub writers: Vec<String>,
    pub readers: Vec<String>,
}

static FLUME_CHANNELS: OnceLock<Vec<FlumeChannel>> = OnceLock::new();

/// Registers the channels of the one agent this process runs; `/metrics`
/// then shows their counters.
pub fn set_flume_channels(channels: Vec<FlumeChannel>) {
    let _ = FLUME_CHANNELS.set(channels);
}

/// The channels registered with [`set_flume_channels`], if any.
pub fn flume_channels() -> &'static [FlumeChannel] {
    FLUME_CHANNELS.get().map_or(&[][..], Vec::as_slice)
}

/// Flume's channel counters, as its Kafka channel keeps them: events put
/// into the channel's topic by the connectors that write it, and events
/// taken by its sinks (summed over the tasks of each that run here); and
/// `ChannelSize`, the events its slowest sink has not read, where `sizes`
/// has it.
fn export_flume_channels(
    e: &mut Exposition,
    connectors: &[ConnectorSample],
    channels: &[FlumeChannel],
    sizes: &HashMap<String, u64>,
) {
    let sum = |names: &[String]| {
        let mut total = (0, 0);
        for c in connectors.iter().filter(|c| names.contains(&c.name)) {
            let source = c.plugin.kind() == ConnectorKind::Source;
            for (_, _, m) in &c.tasks {
                let (a, s) = m.flume_counts(source);
                total = (total.0 + a, total.1 + s);
            }
        }
        total
    };
    for ch in channels {
        let l = [
            ("agent", ch.agent.as_str()),
            ("component", ch.name.as_str()),
        ];
        let (put_attempts, puts) = sum(&ch.writers);
        let (take_attempts, takes) = sum(&ch.readers);
        for (name, help, v) in [
            (
                "EventPutAttemptCount",
                "Events offered to the channel (topic)",
                put_attempts,
            ),
            (
                "EventPutSuccessCount",
                "Events the channel (topic) accepted",
                puts,
            ),
            (
                "EventTakeAttemptCount",
                "Events the channel's sinks read from its topic",
                take_attempts,
            ),
            (
                "EventTakeSuccessCount",
                "Events handed to the channel's sinks",
                takes,
            ),
        ] {
            e.add_named(
                format!("flume_channel_{name}"),
                "counter",
                help,
                &l,
                v as f64,
            );
        }
        if let Some(size) = sizes.get(&ch.name) {
            e.add_named(
                "flume_channel_ChannelSize".to_string(),
                "gauge",
                "Events in the channel (topic) that its slowest sink has not read",
                &l,
                *size as f64,
            );
        }
    }
}

/// What `/metrics` shows of a worker: its counts and, per connector, the
/// connector's state when it runs here and the tasks that run here.
#[derive(Clone, Default)]
pub struct MetricsView {
    pub counts: Arc<WorkerMetrics>,
    pub connectors: Vec<ConnectorSample>,
    /// Flume's `ChannelSize` by channel name, where it was measured.
    pub channel_sizes: HashMap<String, u64>,
}

/// One connector in a [`MetricsView`].
#[derive(Clone)]
pub struct ConnectorSample {
    pub name: String,
    /// `None` when only some of its tasks run here.
    pub status: Option<State>,
    pub plugin: Plugin,
    pub tasks: Vec<(usize, Arc<Mutex<Status>>, Arc<TaskMetrics>)>,
}

impl MetricsView {
    /// The Prometheus text.
    pub fn render(&self) -> String {
        let mut e = Exposition::default();
        let tasks = self.connectors.iter().map(|c| c.tasks.len()).sum();
        let here = self
            .connectors
            .iter()
            .filter(|c| c.status.is_some())
            .count();
        self.counts.export(&mut e, here, tasks);
        for c in &self.connectors {
            let states: Vec<State> = c.tasks.iter().map(|(_, s, _)| s.lock().state).collect();
            let p = &c.plugin;
            export_connector(
                &mut e,
                &c.name,
                c.status,
                &states,
                (p.kind(), p.class, p.version),
            );
            let source = p.kind() == ConnectorKind::Source;
            for ((i, _, m), state) in c.tasks.iter().zip(&states) {
                m.export(&mut e, &c.name, &i.to_string(), state_name(*state), source);
            }
        }
        export_flume_channels(
            &mut e,
            &self.connectors,
            flume_channels(),
            &self.channel_sizes,
        );
        e.render()
    }
}

/// A connector's task counts by state (worker metrics) and, when it runs
/// here, its `connector-metrics`.
#[rustfmt::skip]
fn export_connector(
    e: &mut Exposition,
    name: &str,
    status: Option<State>,
    tasks: &[State],
    (kind, class, version): (ConnectorKind, &str, &str),
) {
    let count = |s: State| tasks.iter().filter(|x| **x == s).count() as f64;
    let l = [("connector", name)];
    const W: &str = "connect-worker-metrics";
    e.add(W, "connector-total-task-count", "Tasks of the connector", &l, tasks.len() as f64);
    e.add(W, "connector-running-task-count", "Tasks RUNNING", &l, count(State::Running));
    e.add(W, "connector-paused-task-count", "Tasks PAUSED", &l, count(State::Paused));
    e.add(W, "connector-failed-task-count", "Tasks FAILED", &l, count(State::Failed));
    e.add(W, "connector-unassigned-task-count", "Tasks UNASSIGNED", &l, count(State::Unassigned));
    e.add(W, "connector-restarting-task-count", "Tasks RESTARTING", &l, count(State::Restarting));
    let Some(status) = status else { return };
    e.add(
        "connector-metrics", "info",
        "1 per connector; labels: status, connector-type, connector-class, connector-version",
        &[("connector", name), ("status", state_name(status)), ("connector_type", kind.as_str()),
          ("connector_class", class), ("connector_version", version)],
        1.0,
    );
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

impl WorkerMetrics {
    #[rustfmt::skip]
    pub fn export(&self, e: &mut Exposition, connectors: usize, tasks: usize) {
        const G: &str = "connect-worker-metrics";
        e.add(G, "connector-count", "Connectors on this worker", &[], connectors as f64);
        e.add(G, "task-count", "Tasks on this worker", &[], tasks as f64);
        let c = |a: &AtomicU64| a.load(Relaxed);
        let (ca, cs, cf) = (
            c(&self.connector_startup_attempts),
            c(&self.connector_startup_success),
            c(&self.connector_startup_failure),
        );
        let (ta, ts, tf) = (
            c(&self.task_startup_attempts),
            c(&self.task_startup_success),
            c(&self.task_startup_failure),
        );
        e.add(G, "connector-startup-attempts-total", "Connector starts attempted", &[], ca as f64);
        e.add(G, "connector-startup-success-total", "Connector starts that succeeded", &[], cs as f64);
        e.add(G, "connector-startup-failure-total", "Connector starts that failed", &[], cf as f64);
        e.add(G, "connector-startup-success-percentage", "Share of connector starts that succeeded", &[], pct(cs, ca));
        e.add(G, "connector-startup-failure-percentage", "Share of connector starts that failed", &[], pct(cf, ca));
        e.add(G, "task-startup-attempts-total", "Task starts attempted", &[], ta as f64);
        e.add(G, "task-startup-success-total", "Task starts that succeeded", &[], ts as f64);
        e.add(G, "task-startup-failure-total", "Task starts that failed", &[], tf as f64);
        e.add(G, "task-startup-success-percentage", "Share of task starts that succeeded", &[], pct(ts, ta));
        e.add(G, "task-startup-failure-percentage", "Share of task starts that failed", &[], pct(tf, ta));
    }
}

impl TaskMetrics {
    /// Events attempted and succeeded as Flume counts them: a source
    /// task's records polled and acknowledged by Kafka; a sink task's (or a
    /// copy connector's) records read from its topics and handed to it.
    fn flume_counts(&self, source: bool) -> (u64, u64) {
        if source {
            (self.poll.total(), self.write.total())
        } else {
            (self.read.total(), self.send.total())
        }
    }

    /// Flume's component counters for the connectors `weir flume` names
    /// `<agent>.sources.<source>` and `<agent>.sinks.<sink>`: a source's
    /// events received and accepted by its channel's topic, a sink's events
    /// taken from its channel and handed to it. An avro source is a copy
    /// connector and counts alike; the copy connectors that feed the
    /// channels of a source with several (`<source>.<channel>`) count in
    /// their channel's counters instead.
    fn export_flume(&self, e: &mut Exposition, connector: &str, source: bool) {
        let parts: Vec<&str> = connector.splitn(3, '.').collect();
        let [agent, kind, name] = parts[..] else {
            return;
        };
        let l = [("agent", agent), ("component", name)];
        let (attempted, succeeded) = self.flume_counts(source);
        let names = match kind {
            "sources" if !name.contains('.') => [
                (
                    "flume_source_EventReceivedCount",
                    "Events the source received",
                ),
                (
                    "flume_source_EventAcceptedCount",
                    "Events of the source the channel (topic) accepted",
                ),
            ],
            "sinks" if !source => [
                (
                    "flume_sink_EventDrainAttemptCount",
                    "Events the sink took from its channel (topic)",
                ),
                (
                    "flume_sink_EventDrainSuccessCount",
                    "Events handed to the sink",
                ),
            ],
            _ => return,
        };
        for ((metric, help), v) in names.into_iter().zip([attempted, succeeded]) {
            e.add_named(metric.into(), "counter", help, &l, v as f64);
        }
    }

    /// Adds this task's connector-task, source- or sink-task and error metrics.
    #[rustfmt::skip]
    pub fn export(&self, e: &mut Exposition, connector: &str, task: &str, status: &str, source: bool) {
        let l = [("connector", connector), ("task", task)];
        const T: &str = "connector-task-metrics";
        let (run, pause) = self.ratios();
        e.add(T, "status", "1 for the task's current status (label status)", &[l[0], l[1], ("status", status)], 1.0);
        e.add(T, "running-ratio", "Fraction of the task's life spent running", &l, run);
        e.add(T, "pause-ratio", "Fraction of the task's life spent paused", &l, pause);
        e.add(T, "batch-size-max", "Largest batch polled or put", &l, self.batch_size.max());
        e.add(T, "batch-size-avg", "Average batch polled or put", &l, self.batch_size.avg());
        e.add(T, "offset-commit-max-time-ms", "Longest offset commit", &l, self.offset_commit_time.max() / 1000.0);
        e.add(T, "offset-commit-avg-time-ms", "Average offset commit", &l, self.offset_commit_time.avg() / 1000.0);
        let (ok, failed) = (self.offset_commit_success.load(Relaxed), self.offset_commit_failure.load(Relaxed));
        e.add(T, "offset-commit-success-percentage", "Share of offset commits that succeeded", &l, pct(ok, ok + failed));
        e.add(T, "offset-commit-failure-percentage", "Share of offset commits that failed", &l, pct(failed, ok + failed));
        if source {
            const S: &str = "source-task-metrics";
            e.add(S, "source-record-poll-total", "Records produced by the task's poll", &l, self.poll.total() as f64);
            e.add(S, "source-record-poll-rate", "Records polled per second", &l, self.poll.rate());
            e.add(S, "source-record-write-total", "Records acknowledged by Kafka", &l, self.write.total() as f64);
            e.add(S, "source-record-write-rate", "Records acknowledged per second", &l, self.write.rate());
            e.add(S, "poll-batch-max-time-ms", "Longest poll", &l, self.poll_batch_time.max() / 1000.0);
            e.add(S, "poll-batch-avg-time-ms", "Average poll", &l, self.poll_batch_time.avg() / 1000.0);
            e.add(S, "source-record-active-count", "Records polled whose offsets are not yet committed", &l, self.source_active_now.load(Relaxed) as f64);
            e.add(S, "source-record-active-count-max", "Most records polled but not committed", &l, self.source_active.max());
            e.add(S, "source-record-active-count-avg", "Average records polled but not committed", &l, self.source_active.avg());
        } else {
            const K: &str = "sink-task-metrics";
            e.add(K, "sink-record-read-total", "Records read from Kafka", &l, self.read.total() as f64);
            e.add(K, "sink-record-read-rate", "Records read per second", &l, self.read.rate());
            e.add(K, "sink-record-send-total", "Records handed to the task's put", &l, self.send.total() as f64);
            e.add(K, "sink-record-send-rate", "Records put per second", &l, self.send.rate());
            e.add(K, "partition-count", "Topic partitions assigned to the task", &l, self.partition_count.load(Relaxed) as f64);
            e.add(K, "offset-commit-seq-no", "Offset commits so far", &l, (ok + failed) as f64);
            e.add(K, "offset-commit-completion-total", "Offset commits that completed", &l, self.commit_completion.total() as f64);
            e.add(K, "offset-commit-completion-rate", "Offset commits completed per second", &l, self.commit_completion.rate());
            e.add(K, "offset-commit-skip-total", "Offset commits skipped (nothing new to commit)", &l, self.commit_skip.total() as f64);
            e.add(K, "offset-commit-skip-rate", "Offset commits skipped per second", &l, self.commit_skip.rate());
            e.add(K, "put-batch-max-time-ms", "Longest put", &l, self.put_batch_time.max() / 1000.0);
            e.add(K, "put-batch-avg-time-ms", "Average put", &l, self.put_batch_time.avg() / 1000.0);
            e.add(K, "sink-record-active-count", "Records read whose offsets are not yet committed", &l, self.sink_active_now.load(Relaxed) as f64);
            e.add(K, "sink-record-active-count-max", "Most records read but not committed", &l, self.sink_active.max());
            e.add(K, "sink-record-active-count-avg", "Average records read but not committed", &l, self.sink_active.avg());
        }
        self.export_flume(e, connector, source);
        const E: &str = "task-error-metrics";
        let n = |a: &AtomicU64| a.load(Relaxed) as f64;
        e.add(E, "total-record-failures", "Record operations that failed (each failed attempt)", &l, n(&self.record_failures));
        e.add(E, "total-record-errors", "Records that could not be processed", &l, n(&self.record_errors));
        e.add(E, "total-records-skipped", "Records skipped because of errors (errors.tolerance=all)", &l, n(&self.records_skipped));
        e.add(E, "total-retries", "Retried operations (retriable errors)", &l, n(&self.retries));
        e.add(E, "total-errors-logged", "Errors logged (errors.log.enable=true)", &l, n(&self.errors_logged));
        e.add(E, "deadletterqueue-produce-requests", "Records sent to the dead letter queue", &l, n(&self.dlq_requests));
        e.add(E, "deadletterqueue-produce-failures", "Records the dead letter queue could not take", &l, n(&self.dlq_failures));
        e.add(E, "last-error-timestamp", "When the last error happened (ms since the epoch; 0 for never)", &l, self.last_error_ms.load(Relaxed) as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_groups_samples_under_one_family() {
        let mut e = Exposition::default();
        let m = TaskMetrics::default();
        m.poll.add(7);
        m.batch_size.record(3);
        m.batch_size.record(5);
        m.export(&mut e, "a\"b", "0", "RUNNING", true);
        m.export(&mut e, "c", "1", "RUNNING", true);
        let text = e.render();
        assert_eq!(
            text.matches(
                "# TYPE kafka_connect_source_task_metrics_source_record_poll_total counter"
            )
            .count(),
            1
        );
        assert!(text.contains(
            "kafka_connect_source_task_metrics_source_record_poll_total{connector=\"a\\\"b\",task=\"0\"} 7\n"
        ));
        assert!(text.contains(
            "kafka_connect_connector_task_metrics_batch_size_avg{connector=\"c\",task=\"1\"} 4\n"
        ));
        assert!(text.contains(
            "kafka_connect_connector_task_metrics_batch_size_max{connector=\"c\",task=\"1\"} 5\n"
        ));
        assert!(!text.contains("sink_task_metrics"));
    }

    #[test]
    fn flume_components_and_channels_count_their_events() {
        let sample = |name: &str, class: &str, m: Arc<TaskMetrics>| ConnectorSample {
            name: name.into(),
            status: Some(State::Running),
            plugin: super::super::config::find_plugin(class).expect("plugin"),
            tasks: vec![(
                0,
                Arc::new(Mutex::new(Status {
                    state: State::Running,
                    worker_id: String::new(),
                    trace: None,
                })),
                m,
            )],
        };
        let (source, copy, sink) = (
            Arc::new(TaskMetrics::default()),
            Arc::new(TaskMetrics::default()),
            Arc::new(TaskMetrics::default()),
        );
        source.poll.add(5);
        source.write.add(4);
        copy.read.add(4);
        copy.send.add(3);
        sink.read.add(3);
        sink.send.add(2);
        let connectors = [
            sample(
                "a.sources.s",
                "org.apache.flume.source.NetcatSource",
                source,
            ),
            sample("a.sources.s.c", crate::flume::copy::CLASS, copy),
            sample("a.sinks.k", "org.apache.flume.sink.LoggerSink", sink),
        ];
        let mut e = Exposition::default();
        for c in &connectors {
            let source = c.plugin.kind() == ConnectorKind::Source;
            c.tasks[0].2.export(&mut e, &c.name, "0", "running", source);
        }
        let channel = FlumeChannel {
            agent: "a".into(),
            name: "c".into(),
            topic: "flume.a.c".into(),
            writers: vec!["a.sources.s.c".into()],
            readers: vec!["a.sinks.k".into()],
        };
        let sizes = HashMap::from([("c".to_string(), 7)]);
        export_flume_channels(&mut e, &connectors, &[channel], &sizes);
        let text = e.render();
        for line in [
            "flume_source_EventReceivedCount{agent=\"a\",component=\"s\"} 5",
            "flume_source_EventAcceptedCount{agent=\"a\",component=\"s\"} 4",
            "flume_channel_EventPutAttemptCount{agent=\"a\",component=\"c\"} 4",
            "flume_channel_EventPutSuccessCount{agent=\"a\",component=\"c\"} 3",
            "flume_channel_EventTakeAttemptCount{agent=\"a\",component=\"c\"} 3",
            "flume_channel_EventTakeSuccessCount{agent=\"a\",component=\"c\"} 2",
            "flume_channel_ChannelSize{agent=\"a\",component=\"c\"} 7",
            "flume_sink_EventDrainAttemptCount{agent=\"a\",component=\"k\"} 3",
            "flume_sink_EventDrainSuccessCount{agent=\"a\",component=\"k\"} 2",
        ] {
            assert!(text.contains(&format!("{line}\n")), "{line} in\n{text}");
        }
        assert!(
            !text.contains("component=\"s.c\""),
            "a copy counts in its channel"
        );
    }

    #[test]
    fn ratios_follow_the_states() {
        let m = TaskMetrics::default();
        m.state(State::Running);
        std::thread::sleep(Duration::from_millis(30));
        m.state(State::Paused);
        std::thread::sleep(Duration::from_millis(30));
        let (run, pause) = m.ratios();
        assert!(run > 0.3 && run < 0.7, "{run}");
        assert!(pause > 0.3 && pause < 0.7, "{pause}");
    }
}
