//! Flume's TAILDIR source: follows every file of its file groups (a
//! directory and a file-name pattern each) line by line, as they grow,
//! rotate and appear.
//!
//! A file is known by its device and inode, and by a checksum of its first
//! line: a renamed file is the same file (never read again because the
//! pattern also matches its new name), an inode reused for a new file is a
//! new file. A file shorter than its position was truncated (copytruncate)
//! and is read again from the start; lines written between the copy and the
//! truncation are lost, as with any reader. A file renamed or deleted away
//! is read to its end (its last line too, newline or not), then let go. A
//! partial last line is held back until its newline arrives.
//!
//! Positions are Connect offsets (`{"file": "dev:inode"}` ->
//! `{"pos": bytes, "path": ..., "checksum": ...}`), committed once the
//! broker has the lines; Flume's position file (`[{"inode":..,"pos":..,
//! "file":..}]`) is also written, atomically, from acknowledged positions,
//! and read at start for files with no offset. File events (inotify through
//! `notify`) wake the task; a rescan every half second is the fallback.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use connect_api::config::{key, ConfigType, DefaultValue, Importance};
use connect_api::record::{SourceOffset, SourcePartition};
use connect_api::{
    ConfigDef, ConnectError, ConnectResult, Header, OffsetReader, Props, RecordMetadata, Schema,
    SchemaAndValue, SourceRecord, SourceTask, SourceTaskContext, Value,
};
use notify::Watcher;
use serde_json::{json, Value as Json};

use crate::common::{bool_setting, int_setting, str_setting, string_header, text};
use crate::spooldir::fnv;

const RESCAN: Duration = Duration::from_millis(500);
/// A file renamed or deleted away is let go after this long at its end
/// (a writer may still append to it for a moment after the rename).
const ROTATE_WAIT: Duration = Duration::from_secs(5);
const CHUNK: usize = 1 << 16;

pub fn def() -> ConfigDef {
    let s = |name, default, doc| key(name, ConfigType::String, default, Importance::Medium, doc);
    let n = |name, default, doc| {
        key(
            name,
            ConfigType::Long,
            DefaultValue::Value(default),
            Importance::Low,
            doc,
        )
    };
    crate::common::with_topic(ConfigDef::new())
        .define(s("filegroups", DefaultValue::Required, "Space-separated file group names; filegroups.<name> is a directory and a file-name regular expression."))
        .define(s("positionFile", DefaultValue::Null, "Flume's JSON position file (default ~/.flume/taildir_position.json)."))
        .define(key("skipToEnd", ConfigType::Boolean, DefaultValue::Value("false"), Importance::Low, "Start files with no known position at their end."))
        .define(n("idleTimeout", "120000", "Milliseconds without growth before a file is closed (it is opened again when it grows)."))
        .define(n("writePosInterval", "3000", "Milliseconds between writes of the position file."))
        .define(n("batchSize", "100", "The most lines returned by one poll."))
        .define(n("maxBatchCount", "9223372036854775807", "The most lines read from one file in one poll."))
        .define(key("byteOffsetHeader", ConfigType::Boolean, DefaultValue::Value("false"), Importance::Low, "Add each line's byte offset as the byteoffset header."))
        .define(key("fileHeader", ConfigType::Boolean, DefaultValue::Value("false"), Importance::Low, "Add the file's path as a header."))
        .define(s("fileHeaderKey", DefaultValue::Value("file"), "The file header's name."))
}

/// A group: files in `dir` whose name matches `pattern`, with headers.
struct Group {
    dir: PathBuf,
    pattern: regex::Regex,
    headers: Vec<Header>,
}

struct Settings {
    groups: Vec<Group>,
    position_file: PathBuf,
    skip_to_end: bool,
    idle: Duration,
    write_every: Duration,
    batch: usize,
    per_file: usize,
    offset_header: bool,
    file_header: Option<String>,
}

fn refuse(key: &str, why: impl std::fmt::Display) -> ConnectError {
    ConnectError::fatal(format!("Invalid value for configuration {key}: {why}"))
}

/// The directories of the file groups and the position file a config names.
pub fn local_access(p: &Props) -> Vec<connect_api::LocalAccess> {
    let mut out = connect_api::LocalAccess::paths(p, &["positionFile"]);
    for g in str_setting(p, "filegroups")
        .unwrap_or("")
        .split_whitespace()
    {
        let key = format!("filegroups.{g}");
        if let Some(spec) = str_setting(p, &key) {
            let dir = Path::new(spec).parent().unwrap_or(Path::new(spec));
            out.push(connect_api::LocalAccess::Path {
                key,
                path: dir.display().to_string(),
            });
        }
    }
    out
}

impl Settings {
    fn parse(p: &Props) -> ConnectResult<Self> {
        let names = str_setting(p, "filegroups").ok_or_else(|| {
            ConnectError::fatal(
                "Missing required configuration \"filegroups\" which has no default value.",
            )
        })?;
        let mut groups = Vec::new();
        for g in names.split_whitespace() {
            let key = format!("filegroups.{g}");
            let spec = str_setting(p, &key).ok_or_else(|| {
                ConnectError::fatal(format!(
                    "Missing required configuration \"{key}\" which has no default value."
                ))
            })?;
            let path = Path::new(spec);
            let (Some(dir), Some(name)) =
                (path.parent(), path.file_name().and_then(|n| n.to_str()))
            else {
                return Err(refuse(
                    &key,
                    format!("{spec} is not a directory and a file-name pattern"),
                ));
            };
            if !path.is_absolute() {
                return Err(refuse(&key, format!("{spec} must be an absolute path")));
            }
            let pattern =
                regex::Regex::new(&format!("^(?:{name})$")).map_err(|e| refuse(&key, e))?;
            let prefix = format!("headers.{g}.");
            let headers = p
                .iter()
                .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|h| string_header(h, v.trim())))
                .collect();
            groups.push(Group {
                dir: dir.to_path_buf(),
                pattern,
                headers,
            });
        }
        let ms = |k: &str, d: i64| {
            int_setting(p, k, Some(d), 0, i64::MAX).map(|v| Duration::from_millis(v as u64))
        };
        let home = std::env::var("HOME").unwrap_or_else(|_| ".".into());
        Ok(Settings {
            groups,
            position_file: str_setting(p, "positionFile").map_or_else(
                || PathBuf::from(home).join(".flume/taildir_position.json"),
                PathBuf::from,
            ),
            skip_to_end: bool_setting(p, "skipToEnd", false)?,
            idle: ms("idleTimeout", 120_000)?,
            write_every: ms("writePosInterval", 3000)?,
            batch: int_setting(p, "batchSize", Some(100), 1, i32::MAX as i64)? as usize,
            per_file: usize::try_from(int_setting(
                p,
                "maxBatchCount",
                Some(i64::MAX),
                1,
                i64::MAX,
            )?)
            .unwrap_or(usize::MAX),
            offset_header: bool_setting(p, "byteOffsetHeader", false)?,
            file_header: bool_setting(p, "fileHeader", false)?.then(|| {
                str_setting(p, "fileHeaderKey")
                    .unwrap_or("file")
                    .to_string()
            }),
        })
    }
}

/// A followed file.
struct Tail {
    ino: u64,
    path: PathBuf,
    group: usize,
    file: Option<File>,
    /// Bytes read past the last complete line.
    partial: Vec<u8>,
    /// Where `partial` starts: the position up to which lines were emitted.
    pos: u64,
    checksum: Option<u64>,
    /// The position it was first followed from.
    start: u64,
    /// Still matched by its group's pattern.
    matched: bool,
    last_growth: Instant,
    partition: Arc<SourcePartition>,
}

/// The file with inode `ino`: at `path`, or elsewhere in its directory.
fn open_inode(path: &Path, ino: u64) -> Option<(PathBuf, File)> {
    let at = |p: &Path| {
        File::open(p)
            .ok()
            .filter(|f| f.metadata().is_ok_and(|m| m.ino() == ino))
    };
    if let Some(f) = at(path) {
        return Some((path.to_path_buf(), f));
    }
    let entries = std::fs::read_dir(path.parent()?).ok()?;
    entries
        .flatten()
        .filter(|e| e.metadata().is_ok_and(|m| m.ino() == ino))
        .find_map(|e| at(&e.path()).map(|f| (e.path(), f)))
}

/// The checksum of a file's first line, once it has one.
fn first_line_checksum(path: &Path) -> Option<u64> {
    let mut head = vec![0u8; 4096];
    let n = File::open(path).and_then(|mut f| f.read(&mut head)).ok()?;
    let end = memchr::memchr(b'\n', &head[..n])?;
    Some(fnv(&head[..end]) >> 1)
}

pub struct TaildirSourceTask {
    settings: Option<Settings>,
    offsets: Option<Arc<dyn OffsetReader>>,
    topic: Arc<str>,
    schema: Option<Arc<Schema>>,
    tails: BTreeMap<String, Tail>,
    /// Flume's position file, read at start.
    flume_positions: HashMap<u64, u64>,
    /// Positions the broker has acknowledged, for the position file.
    acked: BTreeMap<String, u64>,
    last_scan: Option<Instant>,
    last_write: Instant,
    wake: Option<tokio::sync::mpsc::Receiver<()>>,
    _watcher: Option<notify::RecommendedWatcher>,
}

impl Default for TaildirSourceTask {
    fn default() -> Self {
        Self {
            settings: None,
            offsets: None,
            topic: Arc::from(""),
            schema: None,
            tails: BTreeMap::new(),
            flume_positions: HashMap::new(),
            acked: BTreeMap::new(),
            last_scan: None,
            last_write: Instant::now(),
            wake: None,
            _watcher: None,
        }
    }
}

impl TaildirSourceTask {
    /// Lists the groups' files: new files are followed, renamed ones get
    /// their new path, files gone from every pattern are marked.
    fn scan(&mut self) -> ConnectResult<()> {
        let s = self
            .settings
            .take()
            .ok_or_else(|| ConnectError::fatal("not started"))?;
        let mut seen = Vec::new();
        for (gi, g) in s.groups.iter().enumerate() {
            let Ok(entries) = std::fs::read_dir(&g.dir) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name();
                let Some(name) = name.to_str() else { continue };
                if !g.pattern.is_match(name) {
                    continue;
                }
                let path = e.path();
                let Ok(meta) = std::fs::metadata(&path) else {
                    continue;
                };
                if !meta.is_file() {
                    continue;
                }
                let id = format!("{}:{}", meta.dev(), meta.ino());
                seen.push(id.clone());
                let checksum = first_line_checksum(&path);
                match self.tails.get_mut(&id) {
                    Some(t)
                        if t.checksum.is_none() || checksum.is_none() || t.checksum == checksum =>
                    {
                        if t.path != path {
                            tracing::info!("{} is now {}", t.path.display(), path.display());
                            t.path = path;
                        }
                        t.checksum = t.checksum.or(checksum);
                        t.matched = true;
                    }
                    _ => {
                        let t =
                            self.follow(&s, id.clone(), meta.ino(), path, gi, checksum, meta.len());
                        self.tails.insert(id, t);
                    }
                }
            }
        }
        for (id, t) in self.tails.iter_mut() {
            t.matched = seen.contains(id);
        }
        self.settings = Some(s);
        self.last_scan = Some(Instant::now());
        Ok(())
    }

    /// A file seen for the first time: where to start it.
    #[allow(clippy::too_many_arguments)]
    fn follow(
        &mut self,
        s: &Settings,
        id: String,
        ino: u64,
        path: PathBuf,
        group: usize,
        checksum: Option<u64>,
        len: u64,
    ) -> Tail {
        let mut partition = SourcePartition::new();
        partition.insert("file".into(), Json::String(id.clone()));
        let committed = self.offsets.as_ref().and_then(|o| o.offset(&partition));
        // A committed position of another file on the same inode counts
        // for nothing; Flume's position file counts when nothing was committed.
        let known = match committed {
            Some(o) => {
                let same = match (o.get("checksum").and_then(Json::as_u64), checksum) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                };
                Some(if same {
                    o.get("pos").and_then(Json::as_u64).unwrap_or(0)
                } else {
                    0
                })
            }
            None => self.flume_positions.remove(&ino),
        };
        // skipToEnd is for what is there at start, not for files that appear later.
        let at_start = self.last_scan.is_none();
        let pos = known.unwrap_or(if s.skip_to_end && at_start { len } else { 0 });
        let pos = if pos > len { 0 } else { pos };
        tracing::info!("Following {} from byte {pos}", path.display());
        Tail {
            ino,
            path,
            group,
            file: None,
            partial: Vec::new(),
            pos,
            checksum,
            start: pos,
            matched: true,
            last_growth: Instant::now(),
            partition: Arc::new(partition),
        }
    }

    /// Moves up to `max` whole lines from the bytes held back to `out`;
    /// returns how many.
    fn take_lines(t: &mut Tail, max: usize, out: &mut Vec<(Vec<u8>, u64, u64)>) -> usize {
        let mut taken = 0;
        let mut start = 0;
        while taken < max {
            let Some(nl) = memchr::memchr(b'\n', &t.partial[start..]) else {
                break;
            };
            let end = start + nl;
            let line_end = if end > start && t.partial[end - 1] == b'\r' {
                end - 1
            } else {
                end
            };
            out.push((
                t.partial[start..line_end].to_vec(),
                t.pos + start as u64,
                t.pos + end as u64 + 1,
            ));
            start = end + 1;
            taken += 1;
        }
        t.partial.drain(..start);
        t.pos += start as u64;
        taken
    }

    /// Reads up to `max` lines from one file.
    fn read_lines(t: &mut Tail, max: usize, out: &mut Vec<(Vec<u8>, u64, u64)>) {
        if t.file.is_none() {
            // Closed while idle: opened again by inode, wherever in its
            // directory it was renamed to since.
            let Some((path, f)) = open_inode(&t.path, t.ino) else {
                return;
            };
            t.path = path;
            t.file = Some(f);
            t.partial.clear();
        }
        // Whole lines read before but held back by the last batch's limit
        // go first: they were in the file as read, whatever it holds now.
        let mut taken = Self::take_lines(t, max, out);
        let Some(f) = t.file.as_mut() else { return };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        let read_to = t.pos + t.partial.len() as u64;
        if len < read_to {
            tracing::warn!(
                "{} was truncated ({len} bytes, position {}): reading it from the start",
                t.path.display(),
                t.pos
            );
            t.pos = 0;
            // Its first line is new: the next scan takes its checksum.
            t.checksum = None;
            t.partial.clear();
        }
        if f.seek(SeekFrom::Start(t.pos + t.partial.len() as u64))
            .is_err()
        {
            return;
        }
        while taken < max {
            let Some(f) = t.file.as_mut() else { break };
            // Read straight onto the held-back bytes: no copy through a buffer.
            match f.by_ref().take(CHUNK as u64).read_to_end(&mut t.partial) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            t.last_growth = Instant::now();
            taken += Self::take_lines(t, max - taken, out);
        }
        // A file renamed or deleted away: its last line ends with the file.
        if !t.matched
            && !t.partial.is_empty()
            && t.last_growth.elapsed() >= ROTATE_WAIT
            && taken < max
        {
            let line = std::mem::take(&mut t.partial);
            let start = t.pos;
            t.pos += line.len() as u64;
            out.push((line, start, t.pos));
        }
    }

    fn record(
        &self,
        s: &Settings,
        t: &Tail,
        line: Vec<u8>,
        (start, end): (u64, u64),
        last: bool,
    ) -> SourceRecord {
        let offset = last.then(|| {
            let mut o = SourceOffset::new();
            o.insert("pos".into(), Json::from(end));
            o.insert("path".into(), Json::String(t.path.display().to_string()));
            if let Some(c) = t.checksum {
                o.insert("checksum".into(), Json::from(c));
            }
            o.insert("inode".into(), Json::from(t.ino));
            o
        });
        let mut r = SourceRecord::new(
            t.partition.clone(),
            offset,
            self.topic.clone(),
            SchemaAndValue::new(self.schema.clone(), Value::String(text(line))),
        );
        r.headers = s.groups[t.group].headers.clone();
        if s.offset_header {
            r.headers
                .push(string_header("byteoffset", start.to_string()));
        }
        if let Some(h) = &s.file_header {
            r.headers
                .push(string_header(h, t.path.display().to_string()));
        }
        r
    }

    /// Writes Flume's position file from acknowledged positions.
    fn write_positions(&mut self) {
        let Some(s) = self.settings.as_ref() else {
            return;
        };
        if self.last_write.elapsed() < s.write_every {
            return;
        }
        self.last_write = Instant::now();
        // Every followed file, at its acknowledged position (or where it
        // started, which was committed before).
        let list: Vec<Json> = self
            .tails
            .iter()
            .map(|(id, t)| {
                let pos = self.acked.get(id).copied().unwrap_or(t.start);
                json!({"inode": t.ino, "pos": pos, "file": t.path.display().to_string()})
            })
            .collect();
        let path = &s.position_file;
        let tmp = path.with_extension("json.tmp");
        let text = Json::Array(list).to_string();
        let result = (|| {
            if let Some(d) = path.parent() {
                std::fs::create_dir_all(d)?;
            }
            std::fs::write(&tmp, text)?;
            std::fs::rename(&tmp, path)
        })();
        if let Err(e) = result {
            tracing::warn!("could not write the position file {}: {e}", path.display());
        }
    }
}

#[async_trait]
impl SourceTask for TaildirSourceTask {
    async fn start(&mut self, props: &Props, ctx: SourceTaskContext) -> ConnectResult<()> {
        let s = Settings::parse(props)?;
        self.topic = crate::source_topic(props)
            .map_err(ConnectError::fatal)?
            .into();
        self.schema = Some(Arc::new(Schema::string()));
        if let Ok(text) = std::fs::read_to_string(&s.position_file) {
            match serde_json::from_str::<Vec<Json>>(&text) {
                Ok(list) => {
                    for e in list {
                        if let (Some(ino), Some(pos)) = (
                            e.get("inode").and_then(Json::as_u64),
                            e.get("pos").and_then(Json::as_u64),
                        ) {
                            self.flume_positions.insert(ino, pos);
                        }
                    }
                }
                Err(e) => tracing::warn!(
                    "ignoring the position file {}: {e}",
                    s.position_file.display()
                ),
            }
        }
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let mut watcher =
            notify::recommended_watcher(move |_event: notify::Result<notify::Event>| {
                let _ = tx.try_send(());
            })
            .map_err(|e| ConnectError::fatal(format!("cannot watch files: {e}")))?;
        for g in &s.groups {
            if let Err(e) = watcher.watch(&g.dir, notify::RecursiveMode::NonRecursive) {
                tracing::warn!(
                    "not watching {} ({e}); it is rescanned every {RESCAN:?}",
                    g.dir.display()
                );
            }
        }
        self._watcher = Some(watcher);
        self.wake = Some(rx);
        self.offsets = Some(ctx.offsets.clone());
        self.settings = Some(s);
        self.scan()
    }

    async fn poll(&mut self) -> ConnectResult<Vec<SourceRecord>> {
        if self.last_scan.is_none_or(|t| t.elapsed() >= RESCAN) {
            self.scan()?;
        }
        self.write_positions();
        let s = self
            .settings
            .take()
            .ok_or_else(|| ConnectError::fatal("not started"))?;
        let mut out = Vec::with_capacity(s.batch.min(1 << 16));
        let ids: Vec<String> = self.tails.keys().cloned().collect();
        for id in ids {
            if out.len() >= s.batch {
                break;
            }
            let Some(mut t) = self.tails.remove(&id) else {
                continue;
            };
            let mut lines = Vec::new();
            Self::read_lines(&mut t, s.per_file.min(s.batch - out.len()), &mut lines);
            let n = lines.len();
            for (i, (line, start, end)) in lines.into_iter().enumerate() {
                out.push(self.record(&s, &t, line, (start, end), i + 1 == n));
            }
            let idle = t.last_growth.elapsed();
            if !t.matched && idle >= ROTATE_WAIT && t.partial.is_empty() {
                tracing::info!("Done with {} (renamed or deleted away)", t.path.display());
                continue;
            }
            if t.matched && idle >= s.idle && t.file.is_some() {
                tracing::debug!("closing idle {}", t.path.display());
                t.file = None;
                t.partial.clear();
            }
            self.tails.insert(id, t);
        }
        self.settings = Some(s);
        if out.is_empty() {
            if let Some(w) = self.wake.as_mut() {
                let _ = tokio::time::timeout(RESCAN, w.recv()).await;
            }
        }
        Ok(out)
    }

    fn commit_record(
        &mut self,
        record: &SourceRecord,
        _metadata: Option<RecordMetadata>,
    ) -> ConnectResult<()> {
        // Only a batch's last line of each file carries an offset.
        let Some(o) = &record.source_offset else {
            return Ok(());
        };
        if let (Some(Json::String(id)), Some(pos)) = (
            record.source_partition.get("file"),
            o.get("pos").and_then(Json::as_u64),
        ) {
            self.acked.insert(id.clone(), pos);
        }
        Ok(())
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        self.last_write = Instant::now() - Duration::from_secs(3600);
        self.write_positions();
        self.tails.clear();
        self._watcher = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::NoOffsets;

    /// A task started on `props`, with no committed offsets.
    async fn started(props: &Props) -> TaildirSourceTask {
        let mut task = TaildirSourceTask::default();
        let ctx = SourceTaskContext {
            configs: props.clone(),
            offsets: Arc::new(NoOffsets),
        };
        task.start(props, ctx).await.expect("start");
        task
    }

    async fn lines(task: &mut TaildirSourceTask, n: usize) -> Vec<SourceRecord> {
        let mut out = Vec::new();
        for _ in 0..40 {
            out.extend(task.poll().await.expect("poll"));
            if out.len() >= n {
                break;
            }
        }
        out
    }

    /// One file group `g` of `pattern` in `dir` to topic `t`, with `extra`.
    fn group(dir: &std::path::Path, pattern: &str, extra: &[(&str, &str)]) -> Props {
        [
            ("topic".to_string(), "t".to_string()),
            ("filegroups".to_string(), "g".to_string()),
            (
                "filegroups.g".to_string(),
                format!("{}/{pattern}", dir.display()),
            ),
            (
                "positionFile".to_string(),
                dir.join("pos.json").display().to_string(),
            ),
        ]
        .into_iter()
        .chain(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        .collect()
    }

    fn text(r: &SourceRecord) -> String {
        match &r.value.value {
            Value::String(s) => s.clone(),
            other => panic!("not a string: {other:?}"),
        }
    }

    fn header<'a>(r: &'a SourceRecord, key: &str) -> Option<&'a Value> {
        r.headers
            .iter()
            .find(|h| h.key == key)
            .map(|h| &h.value.value)
    }

    /// skipToEnd, group headers, byteOffsetHeader, fileHeader, and a partial
    /// last line held back until its newline.
    #[tokio::test]
    async fn keys_of_a_group_and_partial_lines() {
        let dir = tempfile::tempdir().expect("tmp");
        let log = dir.path().join("app.log");
        std::fs::write(&log, "old\n").expect("write");
        let props: Props = [
            ("topic", "t"),
            ("filegroups", "g"),
            ("headers.g.kind", "web"),
            ("skipToEnd", "true"),
            ("byteOffsetHeader", "true"),
            ("fileHeader", "true"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain([
            (
                "filegroups.g".to_string(),
                format!("{}/app\\.log", dir.path().display()),
            ),
            (
                "positionFile".to_string(),
                dir.path().join("pos.json").display().to_string(),
            ),
        ])
        .collect();
        let mut task = started(&props).await;
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .expect("open");
        f.write_all(b"one\ntwo\npar").expect("append");
        let got = lines(&mut task, 2).await;
        let texts: Vec<&Value> = got.iter().map(|r| &r.value.value).collect();
        assert_eq!(
            texts,
            [&Value::String("one".into()), &Value::String("two".into())],
            "skipToEnd skipped `old`; `par` waits"
        );
        assert_eq!(header(&got[0], "kind"), Some(&Value::String("web".into())));
        // As in Flume's Kafka channel, the producer stamps each record.
        assert!(got.iter().all(|r| r.timestamp.is_none()));
        assert_eq!(
            header(&got[0], "byteoffset"),
            Some(&Value::String("4".into()))
        );
        assert_eq!(
            header(&got[1], "byteoffset"),
            Some(&Value::String("8".into()))
        );
        assert_eq!(
            header(&got[0], "file"),
            Some(&Value::String(log.display().to_string()))
        );
        f.write_all(b"tial\n").expect("append");
        let got = lines(&mut task, 1).await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].value.value, Value::String("partial".into()));
        task.stop().await.expect("stop");
    }

    /// Lines read in one go but held back by the batch limit are given by
    /// the next polls though the file does not grow, and still when it is
    /// truncated before they are given (copytruncate after a quiet moment).
    #[tokio::test]
    async fn lines_held_back_by_the_batch_limit_outlive_a_truncation() {
        let dir = tempfile::tempdir().expect("tmp");
        let log = dir.path().join("app.log");
        std::fs::write(&log, "l1\nl2\nl3\nl4\nl5\n").expect("write");
        let props = group(dir.path(), "app\\.log", &[("batchSize", "2")]);
        let mut task = started(&props).await;
        let mut got: Vec<String> = Vec::new();
        for _ in 0..40 {
            got.extend(task.poll().await.expect("poll").iter().map(text));
            if got.len() >= 3 {
                break;
            }
        }
        assert_eq!(got, ["l1", "l2", "l3", "l4"][..got.len()].to_vec());
        assert!(
            got.len() >= 3,
            "held lines come without the file growing: {got:?}"
        );
        // Truncated with lines still held: they were read, so they go out.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&log)
            .and_then(|f| f.set_len(0))
            .expect("truncate");
        got.extend(lines(&mut task, 5 - got.len()).await.iter().map(text));
        assert_eq!(got, ["l1", "l2", "l3", "l4", "l5"]);
        use std::io::Write as _;
        std::fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .and_then(|mut f| f.write_all(b"new\n"))
            .expect("append");
        let after: Vec<String> = lines(&mut task, 1).await.iter().map(text).collect();
        assert_eq!(after, ["new"], "the truncated file is read from its start");
        task.stop().await.expect("stop");
    }

    /// maxBatchCount bounds the lines one file gives to a poll, so a busy
    /// file does not hold up the others; idleTimeout closes a file that
    /// stopped growing, and it is opened again where it was when it grows.
    #[tokio::test]
    async fn lines_per_file_per_poll_and_idle_files() {
        let dir = tempfile::tempdir().expect("tmp");
        let body = |p: &str| (1..=5).map(|i| format!("{p}{i}\n")).collect::<String>();
        std::fs::write(dir.path().join("a.log"), body("a")).expect("write");
        std::fs::write(dir.path().join("b.log"), body("b")).expect("write");
        let props = group(
            dir.path(),
            ".*\\.log",
            &[("maxBatchCount", "2"), ("idleTimeout", "50")],
        );
        let mut task = started(&props).await;
        let mut first = Vec::new();
        for _ in 0..40 {
            first = task.poll().await.expect("poll");
            if !first.is_empty() {
                break;
            }
        }
        let mut texts: Vec<String> = first.iter().map(text).collect();
        texts.sort();
        assert_eq!(texts, ["a1", "a2", "b1", "b2"], "two lines of each file");
        let mut all: Vec<String> = first.iter().map(text).collect();
        all.extend(lines(&mut task, 6).await.iter().map(text));
        for p in ["a", "b"] {
            let of: Vec<&String> = all.iter().filter(|t| t.starts_with(p)).collect();
            let want: Vec<String> = (1..=5).map(|i| format!("{p}{i}")).collect();
            assert_eq!(
                of,
                want.iter().collect::<Vec<_>>(),
                "every line of {p}.log once, in order"
            );
        }

        // Quiet for longer than idleTimeout: both files are closed.
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(task.poll().await.expect("poll").is_empty());
        assert!(
            task.tails.values().all(|t| t.file.is_none()),
            "idle files closed"
        );
        use std::io::Write as _;
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join("a.log"))
            .expect("open")
            .write_all(b"a6\n")
            .expect("append");
        let got: Vec<String> = lines(&mut task, 1).await.iter().map(text).collect();
        assert_eq!(got, ["a6"], "opened again where it was");
        task.stop().await.expect("stop");
    }
}
