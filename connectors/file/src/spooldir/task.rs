//! The spooling-directory task: picks the next ready file, reads it in
//! batches, and cleans it up once the broker has acknowledged every record
//! it sent from it.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use connect_api::record::{SourceOffset, SourcePartition};
use connect_api::{
    ConnectError, ConnectResult, Header, OffsetReader, Props, RecordMetadata, SourceRecord,
    SourceTask, SourceTaskContext,
};
use serde_json::Value as Json;

use super::parse::Reader;
use super::settings::{fnv, Cleanup, Order, Settings};
use super::Kind;
use crate::common::{now_ms, string_header};

pub const FILE_NAME: &str = "fileName";
pub const OFFSET: &str = "offset";
const SIZE: &str = "size";
const FINGERPRINT: &str = "fingerprint";
/// How much of a file's start identifies it.
const FINGERPRINT_BYTES: u64 = 4096;

/// A file's identity when it was opened: a change means it was written to
/// while it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    mtime_ns: i128,
    ino: u64,
}

fn stamp(m: &std::fs::Metadata) -> Stamp {
    Stamp {
        len: m.len(),
        mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
        ino: m.ino(),
    }
}

/// The file being read.
struct Current {
    name: String,
    path: PathBuf,
    reader: Reader<BufReader<File>>,
    /// Records read from the start of the file, skipped ones included.
    records: u64,
    skip: u64,
    stamp: Stamp,
    fingerprint: u64,
    partition: Arc<SourcePartition>,
    headers: Vec<Header>,
    timestamp: Option<i64>,
}

/// How a file ended.
#[derive(Debug)]
enum Outcome {
    Done,
    Failed(String),
}

/// A file with records in flight.
struct Track {
    path: PathBuf,
    emitted: u64,
    acked: u64,
    outcome: Option<Outcome>,
}

impl Track {
    fn new(path: PathBuf, outcome: Option<Outcome>) -> Self {
        Self {
            path,
            emitted: 0,
            acked: 0,
            outcome,
        }
    }
}

pub struct SpoolDirSourceTask {
    kind: Kind,
    settings: Option<Settings>,
    offsets: Option<Arc<dyn OffsetReader>>,
    current: Option<Current>,
    tracks: HashMap<String, Track>,
    /// Files finished in this run under cleanup.policy=NONE.
    kept: HashSet<String>,
    /// The partition of the last acknowledged record, its file, and the
    /// acknowledgements not yet added to the file's track.
    last_acked: Option<(Arc<SourcePartition>, String, u64)>,
    topic: Arc<str>,
}

impl SpoolDirSourceTask {
    pub fn new(kind: Kind) -> Self {
        Self {
            kind,
            settings: None,
            offsets: None,
            current: None,
            tracks: HashMap::new(),
            kept: HashSet::new(),
            last_acked: None,
            topic: Arc::from(""),
        }
    }

    fn settings(&self) -> ConnectResult<&Settings> {
        self.settings
            .as_ref()
            .ok_or_else(|| ConnectError::fatal("the spooldir task was not started"))
    }

    /// The files ready to be read, in the configured order.
    fn ready(&self, s: &Settings) -> ConnectResult<Vec<(String, std::fs::Metadata)>> {
        let now = SystemTime::now();
        let entries = std::fs::read_dir(&s.input).map_err(|e| {
            ConnectError::retriable(format!("cannot list {}: {e}", s.input.display()))
        })?;
        let mut files = Vec::new();
        for entry in entries.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if !s.wants(&name) || self.tracks.contains_key(&name) || self.kept.contains(&name) {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            let age = meta
                .modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok());
            if age.unwrap_or(Duration::ZERO) < s.min_age {
                continue;
            }
            files.push((name, meta));
        }
        files.sort_by(|(an, am), (bn, bm)| {
            for o in &s.order {
                let c = match o {
                    Order::NameAsc => an.cmp(bn),
                    Order::NameDesc => bn.cmp(an),
                    Order::LengthAsc => am.len().cmp(&bm.len()),
                    Order::LengthDesc => bm.len().cmp(&am.len()),
                    Order::LastModifiedAsc => stamp(am).mtime_ns.cmp(&stamp(bm).mtime_ns),
                    Order::LastModifiedDesc => stamp(bm).mtime_ns.cmp(&stamp(am).mtime_ns),
                };
                if c.is_ne() {
                    return c;
                }
            }
            std::cmp::Ordering::Equal
        });
        Ok(files)
    }

    /// Opens the next ready file; a file that cannot be taken is failed
    /// and the next one tried.
    fn open_next(&mut self) -> ConnectResult<bool> {
        let s = self.settings()?;
        let input = s.input.clone();
        for (name, _) in self.ready(s)? {
            let path = input.join(&name);
            match self.open(&name, &path) {
                Ok(Some(cur)) => {
                    tracing::info!("Reading {} from record {}", path.display(), cur.skip);
                    self.tracks.insert(name, Track::new(path, None));
                    self.current = Some(cur);
                    return Ok(true);
                }
                Ok(None) => {
                    // Everything in it was committed before: only the cleanup is left.
                    self.tracks
                        .insert(name, Track::new(path, Some(Outcome::Done)));
                }
                Err(why) => {
                    self.tracks
                        .insert(name, Track::new(path, Some(Outcome::Failed(why))));
                }
            }
        }
        Ok(false)
    }

    /// `Ok(None)`: all of the file was sent before.
    fn open(&self, name: &str, path: &Path) -> Result<Option<Current>, String> {
        let s = self.settings().map_err(|e| e.to_string())?;
        let file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
        let meta = file
            .metadata()
            .map_err(|e| format!("cannot read its metadata: {e}"))?;
        let st = stamp(&meta);
        let mut head = Vec::new();
        (&file)
            .take(FINGERPRINT_BYTES)
            .read_to_end(&mut head)
            .map_err(|e| format!("read failed: {e}"))?;
        // 63 bits: offsets stores may keep numbers as Java longs.
        let fingerprint = fnv(&head) >> 1;
        let file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
        let mut partition = SourcePartition::new();
        partition.insert(FILE_NAME.into(), Json::String(name.to_string()));
        let mut skip = 0;
        if let Some(o) = self.offsets.as_ref().and_then(|r| r.offset(&partition)) {
            let same = o.get(SIZE).and_then(Json::as_u64) == Some(st.len)
                && o.get(FINGERPRINT).and_then(Json::as_u64) == Some(fingerprint);
            if !same && o.get(FINGERPRINT).is_some() {
                return Err(format!(
                    "the name {name} was used before for a file with other content (its committed offset is {o:?}); rename the file to read it"
                ));
            }
            skip = o.get(OFFSET).and_then(Json::as_u64).unwrap_or(0);
            if o.get(FINGERPRINT).is_some() && o.get("eof") == Some(&Json::Bool(true)) {
                return Ok(None);
            }
        }
        let mut headers = Vec::new();
        if let Some(h) = &s.file_header {
            let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            headers.push(string_header(h, abs.display().to_string()));
        }
        if let Some(h) = &s.basename_header {
            headers.push(string_header(h, name));
        }
        let timestamp = s.file_time.then_some((st.mtime_ns / 1_000_000) as i64);
        Ok(Some(Current {
            name: name.to_string(),
            path: path.to_path_buf(),
            reader: Reader::new(
                BufReader::with_capacity(1 << 16, file),
                s.format.clone(),
                s.decode,
            ),
            records: 0,
            skip,
            stamp: st,
            fingerprint,
            partition: Arc::new(partition),
            headers,
            timestamp,
        }))
    }

    /// Reads up to a batch from the current file; ends it at its end or at
    /// the first record that cannot be read.
    fn read_batch(&mut self) -> ConnectResult<Vec<SourceRecord>> {
        let batch = self.settings()?.batch;
        let Some(cur) = self.current.as_mut() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(batch.min(1 << 16));
        let mut ended = None;
        while out.len() < batch {
            match cur.reader.next_record() {
                Ok(Some((value, _line))) => {
                    cur.records += 1;
                    if cur.records <= cur.skip {
                        continue;
                    }
                    let mut r =
                        SourceRecord::new(cur.partition.clone(), None, self.topic.clone(), value);
                    // PROCESS_TIME leaves it to the producer, which stamps
                    // the record as it sends it (as the spooldir connectors do).
                    r.timestamp = cur.timestamp;
                    r.headers = cur.headers.clone();
                    out.push(r);
                }
                Ok(None) => {
                    ended = Some(match std::fs::metadata(&cur.path).map(|m| stamp(&m)) {
                        Ok(now) if now == cur.stamp => Outcome::Done,
                        Ok(now) => Outcome::Failed(format!(
                            "the file changed while it was read ({} bytes when opened, {} now{}); files in the spool directory must not be written to",
                            cur.stamp.len,
                            now.len,
                            if now.ino == cur.stamp.ino { "" } else { ", and it is another file" }
                        )),
                        Err(e) => Outcome::Failed(format!("the file went away while it was read: {e}")),
                    });
                    break;
                }
                Err(e) => {
                    ended = Some(Outcome::Failed(format!(
                        "record {} at line {}: {}",
                        cur.records + 1,
                        e.line,
                        e.message
                    )));
                    break;
                }
            }
        }
        let eof = matches!(ended, Some(Outcome::Done));
        if !out.is_empty() || eof {
            // The offset travels on the batch's last record; an empty last
            // batch still commits the end through no record, so the file's
            // end is marked by the last batch that has one.
            if let Some(last) = out.last_mut() {
                let mut o = SourceOffset::new();
                o.insert(OFFSET.into(), Json::from(cur.records));
                o.insert(SIZE.into(), Json::from(cur.stamp.len));
                o.insert(FINGERPRINT.into(), Json::from(cur.fingerprint));
                o.insert("eof".into(), Json::Bool(eof));
                last.source_offset = Some(o);
            }
        }
        if let Some(t) = self.tracks.get_mut(&cur.name) {
            t.emitted += out.len() as u64;
            if let Some(outcome) = ended {
                t.outcome = Some(outcome);
            }
        }
        if self
            .tracks
            .get(&cur.name)
            .is_some_and(|t| t.outcome.is_some())
        {
            self.current = None;
        }
        Ok(out)
    }

    /// Adds the acknowledgements counted for the last file to its track.
    fn settle_acks(&mut self) {
        if let Some((_, name, n)) = &mut self.last_acked {
            if let Some(t) = self.tracks.get_mut(name.as_str()) {
                t.acked += *n;
            }
            *n = 0;
        }
    }

    /// Cleans up every file whose records are all acknowledged. A failed
    /// file under halt.on.error fails the task once it is moved aside.
    fn finish_acknowledged(&mut self) -> ConnectResult<()> {
        self.settle_acks();
        let ready: Vec<String> = self
            .tracks
            .iter()
            .filter(|(_, t)| t.outcome.is_some() && t.acked >= t.emitted)
            .map(|(n, _)| n.clone())
            .collect();
        for name in ready {
            let Some(t) = self.tracks.remove(&name) else {
                continue;
            };
            let s = self.settings()?;
            match t.outcome {
                Some(Outcome::Done) => match finish(&s.cleanup, &name, &t.path) {
                    Ok(Some(to)) => tracing::info!(
                        "Finished {} ({} records sent in this run); moved to {}",
                        t.path.display(),
                        t.emitted,
                        to.display()
                    ),
                    Ok(None) => {
                        tracing::info!(
                            "Finished {} ({} records sent in this run)",
                            t.path.display(),
                            t.emitted
                        );
                        if s.cleanup == Cleanup::None {
                            self.kept.insert(name);
                        }
                    }
                    Err(e) => {
                        let why =
                            format!("cannot clean up {} after reading it: {e}", t.path.display());
                        self.fail(&name, &t.path, &why)?;
                    }
                },
                Some(Outcome::Failed(why)) => self.fail(&name, &t.path, &why)?,
                None => {}
            }
        }
        Ok(())
    }

    fn fail(&mut self, name: &str, path: &Path, why: &str) -> ConnectResult<()> {
        let s = self.settings()?;
        let halt = s.halt_on_error;
        let to = match &s.error {
            Some(dir) => dir.join(name),
            None => PathBuf::from(format!("{}.ERROR", path.display())),
        };
        let moved = move_file(path, &to);
        let message = format!("Could not read {}: {why}", path.display());
        match &moved {
            Ok(()) => tracing::error!("{message}; moved to {}", to.display()),
            Err(e) => tracing::error!("{message}; moving it to {} failed too: {e}", to.display()),
        }
        if moved.is_err() {
            // Not picked up again in this run.
            self.kept.insert(name.to_string());
        }
        if halt {
            return Err(ConnectError::fatal(format!(
                "{message} (halt.on.error=true)"
            )));
        }
        Ok(())
    }
}

/// Renames, or copies and removes across file systems.
fn move_file(from: &Path, to: &Path) -> std::io::Result<()> {
    match std::fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc_exdev()) => {
            std::fs::copy(from, to)?;
            std::fs::remove_file(from)
        }
        Err(e) => Err(e),
    }
}

/// EXDEV, "Invalid cross-device link", on Linux.
const fn libc_exdev() -> i32 {
    18
}

/// Cleans up a file that was read completely; the new place, if moved.
fn finish(cleanup: &Cleanup, name: &str, path: &Path) -> std::io::Result<Option<PathBuf>> {
    let to = match cleanup {
        Cleanup::None => return Ok(None),
        Cleanup::Delete => {
            std::fs::remove_file(path)?;
            return Ok(None);
        }
        Cleanup::Move(dir) => dir.join(name),
        Cleanup::MoveByDate(dir) => {
            let d = dir.join(today());
            std::fs::create_dir_all(&d)?;
            d.join(name)
        }
        Cleanup::Suffix(suffix) => {
            let to = PathBuf::from(format!("{}{suffix}", path.display()));
            if to.exists() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    format!("{} exists: the file name was used again", to.display()),
                ));
            }
            to
        }
    };
    move_file(path, &to)?;
    Ok(Some(to))
}

/// Today's date in UTC as `yyyy-MM-dd`.
pub fn today() -> String {
    let (y, m, d) = connect_api::text::civil_from_days(now_ms().div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}")
}

#[async_trait]
impl SourceTask for SpoolDirSourceTask {
    async fn start(&mut self, props: &Props, ctx: SourceTaskContext) -> ConnectResult<()> {
        let s = Settings::from_props(props, self.kind)?;
        self.topic = Arc::from(s.topic.as_str());
        tracing::info!(
            "Spooling directory {} (task {} of {})",
            s.input.display(),
            s.task_index + 1,
            s.task_count
        );
        self.settings = Some(s);
        self.offsets = Some(ctx.offsets.clone());
        Ok(())
    }

    async fn poll(&mut self) -> ConnectResult<Vec<SourceRecord>> {
        self.finish_acknowledged()?;
        if self.current.is_none() && !self.open_next()? {
            let wait = self.settings()?.empty_wait;
            tokio::time::sleep(wait.min(Duration::from_secs(1))).await;
            return Ok(Vec::new());
        }
        self.read_batch()
    }

    fn commit_record(
        &mut self,
        record: &SourceRecord,
        _metadata: Option<RecordMetadata>,
    ) -> ConnectResult<()> {
        // Records of a file share its partition: most acknowledgements
        // are counted for the file of the one before, found by pointer, and
        // added to its track when another file's come or before a cleanup.
        if let Some((p, _, n)) = &mut self.last_acked {
            if Arc::ptr_eq(p, &record.source_partition) {
                *n += 1;
                return Ok(());
            }
        }
        self.settle_acks();
        if let Some(Json::String(name)) = record.source_partition.get(FILE_NAME) {
            self.last_acked = Some((record.source_partition.clone(), name.clone(), 1));
        }
        Ok(())
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        self.current = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{finish, Cleanup};

    /// Each cleanup policy leaves a finished file where it says.
    #[test]
    fn cleanup_policies() {
        let tmp = tempfile::tempdir().expect("tmp");
        let (input, done) = (tmp.path().join("in"), tmp.path().join("done"));
        std::fs::create_dir_all(&input).expect("in");
        std::fs::create_dir_all(&done).expect("done");
        let file = |name: &str| {
            let p = input.join(name);
            std::fs::write(&p, "x\n").expect("write");
            p
        };
        let p = file("a.log");
        assert_eq!(
            finish(&Cleanup::Move(done.clone()), "a.log", &p).expect("move"),
            Some(done.join("a.log"))
        );
        assert!(!p.exists() && done.join("a.log").exists());
        let p = file("b.log");
        let to = finish(&Cleanup::MoveByDate(done.clone()), "b.log", &p)
            .expect("by date")
            .expect("moved");
        assert_eq!(to, done.join(super::today()).join("b.log"));
        let p = file("c.log");
        assert_eq!(finish(&Cleanup::Delete, "c.log", &p).expect("delete"), None);
        assert!(!p.exists());
        let p = file("d.log");
        assert_eq!(finish(&Cleanup::None, "d.log", &p).expect("none"), None);
        assert!(p.exists());
        let suffix = Cleanup::Suffix(".COMPLETED".into());
        assert!(finish(&suffix, "d.log", &p).expect("rename").is_some());
        assert!(input.join("d.log.COMPLETED").exists());
        let p = file("d.log");
        let e = finish(&suffix, "d.log", &p).expect_err("the name was used before");
        assert!(e.to_string().contains("used again"), "{e}");
    }

    /// files.sort.attributes orders the ready files (a tie goes to the next
    /// attribute), timestamp.mode=FILE_TIME stamps each record with its
    /// file's modification time, and PROCESS_TIME leaves the stamp to the
    /// producer.
    #[tokio::test]
    async fn file_order_and_file_time() {
        use super::{Kind, Settings, SpoolDirSourceTask};
        use connect_api::{Props, SourceTask, SourceTaskContext};
        use std::time::{Duration, SystemTime};
        let tmp = tempfile::tempdir().expect("tmp");
        for d in ["in", "done", "err"] {
            std::fs::create_dir(tmp.path().join(d)).expect("dir");
        }
        let epoch_s = 1_700_000_000u64;
        let base = SystemTime::UNIX_EPOCH + Duration::from_secs(epoch_s);
        for (name, lines, age) in [
            ("a.log", 3, 30),
            ("b.log", 1, 10),
            ("c.log", 2, 20),
            ("d.log", 1, 40),
        ] {
            let p = tmp.path().join("in").join(name);
            std::fs::write(&p, "x\n".repeat(lines)).expect("write");
            std::fs::File::options()
                .write(true)
                .open(&p)
                .and_then(|f| f.set_modified(base - Duration::from_secs(age)))
                .expect("mtime");
        }
        let props = |extra: &[(&str, &str)]| -> Props {
            let dir = |d: &str| tmp.path().join(d).display().to_string();
            [
                ("topic".to_string(), "t".to_string()),
                ("input.path".to_string(), dir("in")),
                ("finished.path".to_string(), dir("done")),
                ("error.path".to_string(), dir("err")),
                ("input.file.pattern".to_string(), ".*\\.log".to_string()),
            ]
            .into_iter()
            .chain(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .collect()
        };
        let order = |attributes: &str| -> Vec<String> {
            let p = props(&[("files.sort.attributes", attributes)]);
            let s = Settings::from_props(&p, Kind::Lines).expect("settings");
            let task = SpoolDirSourceTask::new(Kind::Lines);
            task.ready(&s)
                .expect("ready")
                .into_iter()
                .map(|(name, _)| name)
                .collect()
        };
        for (attributes, want) in [
            ("LengthDesc,NameAsc", ["a.log", "c.log", "b.log", "d.log"]),
            ("LengthAsc,NameDesc", ["d.log", "b.log", "c.log", "a.log"]),
            ("LastModifiedDesc", ["b.log", "c.log", "a.log", "d.log"]),
            ("LastModifiedAsc", ["d.log", "a.log", "c.log", "b.log"]),
        ] {
            assert_eq!(order(attributes), want, "{attributes}");
        }

        // A new task's first poll.
        async fn first_poll(p: Props) -> Vec<connect_api::SourceRecord> {
            let mut task = SpoolDirSourceTask::new(Kind::Lines);
            let ctx = SourceTaskContext {
                configs: p.clone(),
                offsets: std::sync::Arc::new(crate::common::NoOffsets),
            };
            task.start(&p, ctx).await.expect("start");
            task.poll().await.expect("poll")
        }
        let oldest = ("files.sort.attributes", "LastModifiedAsc");
        let got = first_poll(props(&[("timestamp.mode", "FILE_TIME"), oldest])).await;
        assert_eq!(got.len(), 1, "d.log, the oldest, has one line");
        let millis = i64::try_from(epoch_s * 1000).expect("fits") - 40_000;
        assert_eq!(got[0].timestamp, Some(millis));

        let got = first_poll(props(&[oldest])).await;
        assert_eq!(got.len(), 1, "d.log again");
        assert_eq!(got[0].timestamp, None, "PROCESS_TIME");
    }

    #[test]
    fn dates() {
        let d = super::today();
        assert_eq!(d.len(), 10);
        assert!(d.starts_with("20"), "{d}");
    }
}
