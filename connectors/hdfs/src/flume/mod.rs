//! Flume's HDFS sink on Weir's stores: events (a record's value is the body,
//! its headers the event's headers) written to `hdfs.path` with Flume's
//! escapes, into files named `<filePrefix>.<counter><fileSuffix>`, in use
//! under `<inUsePrefix>...<inUseSuffix>` until rolled by
//! `hdfs.rollInterval`, `hdfs.rollSize`, `hdfs.rollCount` or
//! `hdfs.idleTimeout`. `hdfs.fileType` DataStream, CompressedStream (gzip)
//! or SequenceFile.
//!
//! Offsets are committed only past records in rolled files: a file in use
//! when the worker dies holds only records that will be delivered again,
//! and it is deleted when the sink next writes to its directory. A stopping
//! task rolls its files before its last commit. Records can be written
//! twice only if the worker dies between a roll and the next offset
//! commit, which each roll asks for at once. One task writes all (Flume's
//! one sink runner): `tasks.max` is 1 for this connector.

mod escape;
mod seqfile;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use connect_api::config::{key, ConfigType, DefaultValue, Importance};
use connect_api::{
    ConfigDef, ConnectError, ConnectResult, Offsets, Props, SinkRecord, SinkTask, SinkTaskContext,
    TopicPartition,
};
use flate2::write::GzEncoder;
use jiff::tz::TimeZone;

use connect_api::event::{body_bytes, header_text, now_ms};

use crate::store::{self, Output, Store};
use escape::{Host, Round};
use seqfile::SeqWriter;

pub fn def() -> ConfigDef {
    let s = |name, default, doc| key(name, ConfigType::String, default, Importance::Medium, doc);
    let n = |name, default, doc| {
        key(
            name,
            ConfigType::Long,
            DefaultValue::Value(default),
            Importance::Medium,
            doc,
        )
    };
    ConfigDef::new()
        .define(s("hdfs.path", DefaultValue::Required, "The directory, with Flume's escapes: hdfs://, webhdfs:// or file:// URL, or a path on fs.defaultFS (the local file system when none is configured)."))
        .define(s("hdfs.filePrefix", DefaultValue::Value("FlumeData"), "The start of each file name (escapes allowed)."))
        .define(s("hdfs.fileSuffix", DefaultValue::Value(""), "The end of each file name."))
        .define(s("hdfs.inUsePrefix", DefaultValue::Value(""), "Before the name of a file being written."))
        .define(s("hdfs.inUseSuffix", DefaultValue::Value(".tmp"), "After the name of a file being written."))
        .define(n("hdfs.rollInterval", "30", "Seconds before a file is rolled; 0: never by time."))
        .define(n("hdfs.rollSize", "1024", "Body bytes before a file is rolled; 0: never by size."))
        .define(n("hdfs.rollCount", "10", "Events before a file is rolled; 0: never by count."))
        .define(n("hdfs.idleTimeout", "0", "Seconds without events before a file is closed; 0: never."))
        .define(n("hdfs.batchSize", "100", "Accepted; batches are the worker's."))
        .define(s("hdfs.fileType", DefaultValue::Value("SequenceFile"), "SequenceFile, DataStream or CompressedStream."))
        .define(s("hdfs.writeFormat", DefaultValue::Value("Writable"), "SequenceFile values: Writable (BytesWritable) or Text."))
        .define(s("hdfs.codeC", DefaultValue::Null, "gzip, for CompressedStream."))
        .define(key("hdfs.round", ConfigType::Boolean, DefaultValue::Value("false"), Importance::Low, "Round the event time down before the escapes read it."))
        .define(n("hdfs.roundValue", "1", "Round down to a multiple of this many units."))
        .define(s("hdfs.roundUnit", DefaultValue::Value("second"), "second, minute or hour."))
        .define(s("hdfs.timeZone", DefaultValue::Null, "The zone the escapes read the time in (default: the machine's)."))
        .define(key("hdfs.useLocalTimeStamp", ConfigType::Boolean, DefaultValue::Value("false"), Importance::Low, "Use the time of writing instead of the timestamp header."))
        .define(s("serializer", DefaultValue::Value("TEXT"), "TEXT: each body followed by a newline (DataStream, CompressedStream)."))
        .define(key("serializer.appendNewline", ConfigType::Boolean, DefaultValue::Value("true"), Importance::Low, "Write a newline after each body."))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileType {
    Sequence { text: bool },
    Data,
    Gzip,
}

struct Settings {
    store: Box<dyn Store>,
    path: String,
    prefix: String,
    suffix: String,
    in_use_prefix: String,
    in_use_suffix: String,
    interval: Option<Duration>,
    size: u64,
    count: u64,
    idle: Option<Duration>,
    file_type: FileType,
    round: Option<Round>,
    zone: TimeZone,
    local_time: bool,
    newline: bool,
}

fn get<'a>(p: &'a Props, k: &str) -> Option<&'a str> {
    p.get(k).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn num(p: &Props, k: &str, default: u64) -> Result<u64, String> {
    get(p, k).map_or(Ok(default), |v| {
        v.parse::<u64>().map_err(|_| {
            format!("Invalid value {v} for configuration {k}: not a number of 0 or more")
        })
    })
}

fn flag(p: &Props, k: &str, default: bool) -> Result<bool, String> {
    match get(p, k).map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(v) => Err(format!(
            "Invalid value {v} for configuration {k}: Expected value to be either true or false"
        )),
    }
}

/// `fs.defaultFS` from `HADOOP_CONF_DIR`'s core-site.xml, if any.
fn default_fs() -> Option<String> {
    let dir = std::env::var("HADOOP_CONF_DIR").ok()?;
    let xml = std::fs::read_to_string(std::path::Path::new(&dir).join("core-site.xml")).ok()?;
    let at = xml.find("<name>fs.defaultFS</name>")?;
    let rest = &xml[at..];
    let v = rest.split("<value>").nth(1)?.split("</value>").next()?;
    Some(v.trim().to_string())
}

/// The store and the path in it that `hdfs.path` names.
fn store_and_path(path: &str) -> Result<(Box<dyn Store>, String), String> {
    let local = |p: &str| {
        (
            "file:///".to_string(),
            p.trim_start_matches('/').to_string(),
        )
    };
    let (root, rest) = match path.split_once("://") {
        Some(("file", after)) => local(after),
        Some((scheme, after)) => {
            let (authority, p) = after.split_once('/').unwrap_or((after, ""));
            (format!("{scheme}://{authority}"), p.to_string())
        }
        None => match default_fs() {
            Some(fs) if !fs.starts_with("file:") => (
                fs.trim_end_matches('/').to_string(),
                path.trim_start_matches('/').to_string(),
            ),
            _ => local(path),
        },
    };
    let conf = std::env::var("HADOOP_CONF_DIR").unwrap_or_default();
    let store = store::open(&root, &conf).map_err(|e| format!("hdfs.path {path}: {e}"))?;
    Ok((store, rest))
}

impl Settings {
    fn parse(p: &Props) -> Result<Self, (String, String)> {
        let k = |key: &'static str| move |e: String| (key.to_string(), e);
        let path = get(p, "hdfs.path").ok_or_else(|| {
            (
                "hdfs.path".to_string(),
                "Missing required configuration \"hdfs.path\" which has no default value."
                    .to_string(),
            )
        })?;
        escape::check(path).map_err(|e| {
            (
                "hdfs.path".to_string(),
                format!("Invalid value {path} for configuration hdfs.path: {e}"),
            )
        })?;
        let prefix = get(p, "hdfs.filePrefix").unwrap_or("FlumeData").to_string();
        escape::check(&prefix).map_err(|e| {
            (
                "hdfs.filePrefix".to_string(),
                format!("Invalid value {prefix} for configuration hdfs.filePrefix: {e}"),
            )
        })?;
        let codec = get(p, "hdfs.codeC").map(str::to_ascii_lowercase);
        let file_type = match get(p, "hdfs.fileType").unwrap_or("SequenceFile") {
            "SequenceFile" => {
                if let Some(c) = &codec {
                    return Err(k("hdfs.codeC")(format!("Invalid value {c} for configuration hdfs.codeC: compressed SequenceFiles are not supported; use hdfs.fileType = CompressedStream with gzip")));
                }
                match get(p, "hdfs.writeFormat").unwrap_or("Writable") {
                    "Writable" => FileType::Sequence { text: false },
                    "Text" => FileType::Sequence { text: true },
                    v => return Err(k("hdfs.writeFormat")(format!("Invalid value {v} for configuration hdfs.writeFormat: Writable or Text"))),
                }
            }
            "DataStream" => FileType::Data,
            "CompressedStream" => match codec.as_deref() {
                Some("gzip") | Some("gzipcodec") => FileType::Gzip,
                Some(c) => return Err(k("hdfs.codeC")(format!("Invalid value {c} for configuration hdfs.codeC: only gzip is supported"))),
                None => return Err(k("hdfs.codeC")("Missing required configuration \"hdfs.codeC\" (hdfs.fileType = CompressedStream)".into())),
            },
            v => return Err(k("hdfs.fileType")(format!("Invalid value {v} for configuration hdfs.fileType: SequenceFile, DataStream or CompressedStream"))),
        };
        if let Some(s) = get(p, "serializer").filter(|s| !s.eq_ignore_ascii_case("TEXT")) {
            return Err(k("serializer")(format!(
                "Invalid value {s} for configuration serializer: only TEXT is supported"
            )));
        }
        let round = if flag(p, "hdfs.round", false).map_err(k("hdfs.round"))? {
            let unit_ms = match get(p, "hdfs.roundUnit").unwrap_or("second") {
                "second" => 1_000,
                "minute" => 60_000,
                "hour" => 3_600_000,
                v => {
                    return Err(k("hdfs.roundUnit")(format!(
                    "Invalid value {v} for configuration hdfs.roundUnit: second, minute or hour"
                )))
                }
            };
            Some(Round {
                unit_ms,
                value: num(p, "hdfs.roundValue", 1)
                    .map_err(k("hdfs.roundValue"))?
                    .max(1) as i64,
            })
        } else {
            None
        };
        let zone = match get(p, "hdfs.timeZone") {
            Some(z) => crate::zone::parse(z).map_err(k("hdfs.timeZone"))?,
            None => TimeZone::system(),
        };
        let secs = |key: &'static str, d| {
            num(p, key, d)
                .map(|s| (s > 0).then(|| Duration::from_secs(s)))
                .map_err(k(key))
        };
        let (store, path) = store_and_path(path).map_err(k("hdfs.path"))?;
        Ok(Settings {
            store,
            path,
            prefix,
            suffix: get(p, "hdfs.fileSuffix").unwrap_or("").to_string(),
            in_use_prefix: get(p, "hdfs.inUsePrefix").unwrap_or("").to_string(),
            in_use_suffix: p
                .get("hdfs.inUseSuffix")
                .map_or(".tmp", |s| s.trim())
                .to_string(),
            interval: secs("hdfs.rollInterval", 30)?,
            size: num(p, "hdfs.rollSize", 1024).map_err(k("hdfs.rollSize"))?,
            count: num(p, "hdfs.rollCount", 10).map_err(k("hdfs.rollCount"))?,
            idle: secs("hdfs.idleTimeout", 0)?,
            file_type,
            round,
            zone,
            local_time: flag(p, "hdfs.useLocalTimeStamp", false)
                .map_err(k("hdfs.useLocalTimeStamp"))?,
            newline: flag(p, "serializer.appendNewline", true)
                .map_err(k("serializer.appendNewline"))?,
        })
    }
}

/// The rules between the sink's keys, for validation.
pub fn rules(props: &Props) -> Vec<(String, String)> {
    Settings::parse(props).err().into_iter().collect()
}

/// `std::io::Write` over a store's output.
struct Out(Box<dyn Output>);

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf).map_err(|e| std::io::Error::other(e.0))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

enum Writer {
    Plain(Out),
    Gzip(GzEncoder<Out>),
    Seq(SeqWriter<Out>),
}

/// One file being written.
struct Bucket {
    writer: Writer,
    in_use: String,
    target: String,
    events: u64,
    bytes: u64,
    opened: Instant,
    last: Instant,
    /// The first offset of each partition with records in this file.
    first: BTreeMap<TopicPartition, i64>,
}

#[derive(Default)]
pub struct FlumeHdfsSinkTask {
    settings: Option<Settings>,
    ctx: Option<Arc<dyn SinkTaskContext>>,
    host: Option<Host>,
    /// Open files by directory and file prefix.
    buckets: HashMap<(String, String), Bucket>,
    /// Directories whose leftover in-use files were removed in this run.
    swept: HashSet<String>,
    counter: std::cell::Cell<i64>,
    /// In this connector's in-use names, so that a sweep leaves other
    /// writers' files alone.
    token: String,
    /// The first offsets of files that failed to roll: nothing past them is
    /// committed.
    floor: BTreeMap<TopicPartition, i64>,
}

/// Store and file errors stop the task: its offsets stay before every
/// event not in a rolled file, so a restart writes them again (a retry in
/// place could write a batch twice into an open file).
fn fatal(e: impl std::fmt::Display) -> ConnectError {
    ConnectError::fatal(format!(
        "{e} (the task stops; its events not yet in a rolled file are written again when it restarts)"
    ))
}

fn io(e: std::io::Error) -> ConnectError {
    fatal(e)
}

fn header_of(r: &SinkRecord, name: &str) -> Option<String> {
    r.headers
        .iter()
        .rev()
        .find(|h| h.key == name)
        .map(header_text)
}

impl FlumeHdfsSinkTask {
    fn settings(&self) -> ConnectResult<&Settings> {
        self.settings
            .as_ref()
            .ok_or_else(|| ConnectError::fatal("the HDFS sink was not started"))
    }

    /// Removes in-use files a previous run left in `dir`: their records
    /// were never committed and come again.
    fn sweep(&mut self, dir: &str, prefix: &str) -> ConnectResult<()> {
        let s = self.settings()?;
        if s.in_use_suffix.is_empty() && s.in_use_prefix.is_empty() {
            return Ok(());
        }
        let start = format!("{}{prefix}.", s.in_use_prefix);
        let end = format!(".{}{}", self.token, s.in_use_suffix);
        let entries = s.store.list(dir, false).map_err(|e| fatal(e.0))?;
        for e in entries.iter().filter(|e| !e.is_dir) {
            let n = e.name();
            if n.starts_with(&start) && n.ends_with(&end) && n.len() > start.len() + end.len() {
                tracing::info!(
                    "Removing {} left in use by an earlier run: its events are delivered again",
                    e.path
                );
                s.store.delete(&e.path).map_err(|e| fatal(e.0))?;
            }
        }
        Ok(())
    }

    fn open(&mut self, dir: &str, prefix: &str) -> ConnectResult<Bucket> {
        if self.swept.insert(format!("{dir}\u{0}{prefix}")) {
            self.sweep(dir, prefix)?;
        }
        let s = self.settings()?;
        let ext = match (s.suffix.is_empty(), s.file_type) {
            (true, FileType::Gzip) => ".gz",
            _ => s.suffix.as_str(),
        };
        loop {
            let n = self.counter.get().max(now_ms()) + 1;
            self.counter.set(n);
            let name = format!("{prefix}.{n}{ext}");
            let target = store::join(&[dir, &name]);
            let in_use = store::join(&[
                dir,
                &format!(
                    "{}{name}.{}{}",
                    s.in_use_prefix, self.token, s.in_use_suffix
                ),
            ]);
            if s.store.exists(&target).map_err(|e| fatal(e.0))? {
                continue;
            }
            let out = Out(s.store.create(&in_use).map_err(|e| fatal(e.0))?);
            let writer = match s.file_type {
                FileType::Data => Writer::Plain(out),
                FileType::Gzip => Writer::Gzip(GzEncoder::new(out, flate2::Compression::default())),
                FileType::Sequence { text } => Writer::Seq(SeqWriter::new(out, text).map_err(io)?),
            };
            let now = Instant::now();
            return Ok(Bucket {
                writer,
                in_use,
                target,
                events: 0,
                bytes: 0,
                opened: now,
                last: now,
                first: BTreeMap::new(),
            });
        }
    }

    /// Closes a file and gives it its final name; when that fails, nothing
    /// past its first events is committed.
    fn roll(&mut self, b: Bucket) -> ConnectResult<()> {
        let first = b.first.clone();
        let rolled = self.close_and_rename(b);
        if rolled.is_err() {
            for (tp, o) in first {
                let f = self.floor.entry(tp).or_insert(o);
                *f = (*f).min(o);
            }
        }
        rolled
    }

    fn close_and_rename(&self, b: Bucket) -> ConnectResult<()> {
        let s = self.settings()?;
        let out = match b.writer {
            Writer::Plain(o) => o,
            Writer::Gzip(g) => g.finish().map_err(io)?,
            Writer::Seq(w) => w.into_inner(),
        };
        out.0.close().map_err(|e| fatal(e.0))?;
        if b.in_use != b.target
            && !s
                .store
                .rename(&b.in_use, &b.target)
                .map_err(|e| fatal(e.0))?
        {
            return Err(fatal(format!(
                "could not rename {} to {}",
                b.in_use, b.target
            )));
        }
        tracing::info!("Closed {} ({} events)", b.target, b.events);
        if let Some(ctx) = &self.ctx {
            ctx.request_commit();
        }
        Ok(())
    }

    /// Rolls the files that are due by time (or every file).
    fn roll_due(&mut self, all: bool) -> ConnectResult<()> {
        let s = self.settings()?;
        let (interval, idle) = (s.interval, s.idle);
        let due: Vec<(String, String)> = self
            .buckets
            .iter()
            .filter(|(_, b)| {
                all || interval.is_some_and(|i| b.opened.elapsed() >= i)
                    || idle.is_some_and(|i| b.last.elapsed() >= i)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in due {
            if let Some(b) = self.buckets.remove(&k) {
                self.roll(b)?;
            }
        }
        Ok(())
    }

    fn write(&mut self, r: &SinkRecord) -> ConnectResult<()> {
        let s = self.settings()?;
        let ts = if s.local_time {
            Some(now_ms())
        } else {
            header_of(r, "timestamp").and_then(|t| t.trim().parse::<i64>().ok())
        };
        let time = ts.map(|t| escape::round_down(t, s.round, &s.zone));
        let host = self
            .host
            .as_ref()
            .ok_or_else(|| ConnectError::fatal("no host"))?;
        let header = |h: &str| header_of(r, h);
        let place = |text: &str| {
            escape::expand(text, time, &s.zone, host, &header).map_err(|e| {
                ConnectError::data(format!(
                    "{} (record {}-{}@{})",
                    e, r.topic, r.partition, r.offset
                ))
            })
        };
        let key = (place(&s.path)?, place(&s.prefix)?);
        let newline = s.newline;
        let (count, size) = (s.count, s.size);
        let seq_key = ts.unwrap_or_else(now_ms);
        if !self.buckets.contains_key(&key) {
            let b = self.open(&key.0, &key.1)?;
            self.buckets.insert(key.clone(), b);
        }
        let b = self
            .buckets
            .get_mut(&key)
            .ok_or_else(|| ConnectError::fatal("no bucket"))?;
        let data = body_bytes(&r.value.value);
        match &mut b.writer {
            Writer::Plain(w) => write_line(w, &data, newline),
            Writer::Gzip(w) => write_line(w, &data, newline),
            Writer::Seq(w) => w.append(seq_key, &data),
        }
        .map_err(io)?;
        b.events += 1;
        b.bytes += data.len() as u64;
        b.last = Instant::now();
        b.first
            .entry(TopicPartition {
                topic: r.topic.to_string(),
                partition: r.partition,
            })
            .or_insert(r.offset);
        if (count > 0 && b.events >= count) || (size > 0 && b.bytes >= size) {
            if let Some(b) = self.buckets.remove(&key) {
                self.roll(b)?;
            }
        }
        Ok(())
    }
}

fn write_line(w: &mut impl Write, data: &[u8], newline: bool) -> std::io::Result<()> {
    w.write_all(data)?;
    if newline {
        w.write_all(b"\n")?;
    }
    Ok(())
}

#[async_trait]
impl SinkTask for FlumeHdfsSinkTask {
    async fn start(&mut self, props: &Props, ctx: Arc<dyn SinkTaskContext>) -> ConnectResult<()> {
        let s = Settings::parse(props).map_err(|(_, e)| ConnectError::fatal(e))?;
        tracing::info!("Flume HDFS sink writing under {}{}", s.store.url(), s.path);
        self.settings = Some(s);
        self.ctx = Some(ctx);
        self.host = Some(Host::local());
        let name = props.get("name").map_or("", String::as_str);
        let hash = name.bytes().fold(0x811c_9dc5u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
        self.token = format!("{hash:08x}");
        Ok(())
    }

    async fn put(&mut self, records: &[SinkRecord]) -> ConnectResult<()> {
        for r in records {
            self.write(r)?;
        }
        self.roll_due(false)
    }

    /// Offsets only up to the first record still in a file being written;
    /// the last commit of a stopping task rolls every file first.
    async fn pre_commit(&mut self, offsets: &Offsets) -> ConnectResult<Offsets> {
        if self.ctx.as_ref().is_some_and(|c| c.stopping()) {
            self.roll_due(true)?;
        }
        let mut out = offsets.clone();
        for b in self.buckets.values().map(|b| &b.first).chain([&self.floor]) {
            for (tp, first) in b {
                if let Some(o) = out.get_mut(tp) {
                    *o = (*o).min(*first);
                }
            }
        }
        Ok(out)
    }

    /// Files in use stay as they are: their records were not committed, so
    /// whoever reads the partitions next writes them again, and this
    /// task's next run removes them.
    async fn stop(&mut self) -> ConnectResult<()> {
        self.buckets.clear();
        Ok(())
    }
}
