//! The writer of one Kafka topic partition: records go to a temporary file
//! per encoded partition under `<topics.dir>/+tmp/<topic>/`; a commit
//! closes them all, records the renames in the commit log, and renames each
//! to `<topics.dir>/<topic>/<encoded partition>/<topic>+<p>+<start>+<end>`.
//! Recovery redoes a half-done commit, deletes the partition's orphaned
//! temporary files, and finds the offset after the last committed record,
//! from the log or, without one, from the committed names.

use std::collections::BTreeMap;
use std::sync::Arc;

use connect_api::{Schema, SinkRecord};

use crate::config::SinkConfig;
use crate::format::RecordWriter;
use crate::naming::{committed_name, parse_committed, temp_name, temp_partition, META_SUFFIX};
use crate::partitioner::{now_ms, Extractor};
use crate::schema::{self, Decision};
use crate::store::{join, Output, Store, StoreError};
use crate::wal::{Commit, Wal};
use crate::zone;

/// Bytes a file's encoder gathers before they go to the store.
const WRITE_CHUNK: usize = 1 << 20;

struct OpenFile {
    temp: String,
    out: Box<dyn Output>,
    writer: Box<dyn RecordWriter>,
    buf: Vec<u8>,
    start: i64,
    end: i64,
    /// The sidecar of keys, headers and timestamps, when they are kept.
    meta: Option<Meta>,
}

struct Meta {
    temp: String,
    out: Box<dyn Output>,
    buf: Vec<u8>,
}

/// One line of a sidecar: what `store.kafka.keys` and `store.kafka.headers`
/// keep of a record, and its timestamp.
fn meta_line(r: &SinkRecord, keys: bool, headers: bool, out: &mut Vec<u8>) {
    use crate::format::json_text;
    let mut m = serde_json::Map::new();
    if keys {
        let key: serde_json::Value =
            serde_json::from_str(&json_text(&r.key.value)).unwrap_or(serde_json::Value::Null);
        m.insert("key".into(), key);
    }
    if headers {
        let hs: Vec<serde_json::Value> = r
            .headers
            .iter()
            .map(|h| {
                let v: serde_json::Value = serde_json::from_str(&json_text(&h.value.value))
                    .unwrap_or(serde_json::Value::Null);
                serde_json::json!({"key": h.key, "value": v})
            })
            .collect();
        m.insert("headers".into(), serde_json::Value::Array(hs));
    }
    m.insert(
        "timestamp".into(),
        r.timestamp
            .map_or(serde_json::Value::Null, serde_json::Value::from),
    );
    out.extend_from_slice(serde_json::Value::Object(m).to_string().as_bytes());
    out.push(b'\n');
}

/// Why a record was not written.
pub enum WriteError {
    /// The store failed: the partition must be recovered.
    Store(StoreError),
    /// The record cannot be written (its fields, its type, its time).
    Record(String),
    /// The open files cannot be finished (a format's last step): retrying
    /// would fail the same way.
    File(String),
}

impl From<StoreError> for WriteError {
    fn from(e: StoreError) -> Self {
        WriteError::Store(e)
    }
}

pub struct PartitionWriter {
    topic: String,
    partition: i32,
    topic_dir: String,
    tmp_dir: String,
    wal: Wal,
    /// Records below this offset are in files already.
    pub next: Option<i64>,
    /// The offset after the last committed record.
    pub committed: Option<i64>,
    files: BTreeMap<String, OpenFile>,
    count: u64,
    /// The schema of the open files (the records' or an inferred one).
    schema: Option<Arc<Schema>>,
    /// The time (by the extractor) of the first record of the open files.
    first_ts: Option<i64>,
    /// Wall-clock time of the first record of the open files.
    opened_at: i64,
    next_scheduled: Option<i64>,
}

impl PartitionWriter {
    pub fn new(cfg: &SinkConfig, topic: &str, partition: i32) -> Self {
        let topics_dir = cfg.dir_of(&cfg.topics_dir, topic);
        Self {
            topic: topic.to_string(),
            partition,
            topic_dir: join(&[&topics_dir, topic]),
            tmp_dir: join(&[&topics_dir, "+tmp", topic]),
            wal: Wal::new(&cfg.dir_of(&cfg.logs_dir, topic), topic, partition),
            next: None,
            committed: None,
            files: BTreeMap::new(),
            count: 0,
            schema: None,
            first_ts: None,
            opened_at: 0,
            next_scheduled: None,
        }
    }

    /// Finishes a half-done commit, deletes this partition's orphaned
    /// temporary files, and returns the offset after the last committed
    /// record (`None`: nothing committed yet).
    pub fn recover(&mut self, store: &dyn Store) -> Result<Option<i64>, StoreError> {
        self.discard(store);
        let last = self.wal.last(store)?;
        if let Some(c) = &last {
            for (tmp, done) in &c.renames {
                if store.exists(tmp)? && !store.exists(done)? {
                    tracing::info!("completing the commit of {done}");
                    store.rename(tmp, done)?;
                }
            }
        }
        for e in store.list(&self.tmp_dir, true)? {
            if temp_partition(e.name()) == Some(self.partition) {
                store.delete(&e.path)?;
            }
        }
        let end = match last {
            Some(c) => Some(c.end_offset),
            None => store
                .list(&self.topic_dir, true)?
                .iter()
                .filter_map(|e| parse_committed(e.name()))
                .filter(|c| c.topic == self.topic && c.partition == self.partition)
                .map(|c| c.end)
                .max(),
        };
        self.committed = end.map(|e| e + 1);
        self.next = self.committed;
        Ok(self.committed)
    }

    /// Drops the open files (deleting what can be deleted).
    pub fn discard(&mut self, store: &dyn Store) {
        for (_, f) in std::mem::take(&mut self.files) {
            drop(f.out);
            let meta = f.meta.map(|m| m.temp);
            for temp in std::iter::once(f.temp).chain(meta) {
                if let Err(e) = store.delete(&temp) {
                    tracing::debug!("{e}");
                }
            }
        }
        self.reset_counters();
        self.next = self.committed;
    }

    fn reset_counters(&mut self) {
        self.count = 0;
        self.schema = None;
        self.first_ts = None;
        self.next_scheduled = None;
    }

    /// Writes `r` (skipped when its offset is in a file already),
    /// committing first or after as the rotation settings say.
    pub fn write(
        &mut self,
        store: &dyn Store,
        cfg: &SinkConfig,
        r: &SinkRecord,
    ) -> Result<(), WriteError> {
        let offset = r.original_offset;
        if self.next.is_some_and(|n| offset < n) {
            return Ok(());
        }
        let record_schema = match &r.value.schema {
            Some(s) => Some(s.clone()),
            None if cfg.format.needs_schema() => Some(schema::infer(&r.value.value)),
            None => None,
        };
        let ts = if cfg.extractor.is_wallclock()
            && !matches!(
                cfg.partitioner,
                crate::partitioner::Partitioner::Time { .. }
            ) {
            None
        } else {
            Some(cfg.extractor.timestamp(r).map_err(WriteError::Record)?)
        };
        let encoded = cfg
            .partitioner
            .encode(r, ts, &cfg.zone, &cfg.directory_delim)
            .map_err(WriteError::Record)?;
        let mut projected = None;
        if self.count > 0 {
            let compat = if r.value.schema.is_none() {
                crate::schema::Compatibility::None
            } else {
                cfg.compatibility
            };
            match compat
                .decide(self.schema.as_ref(), record_schema.as_ref())
                .map_err(WriteError::Record)?
            {
                Decision::Same => {}
                Decision::Rotate => self.commit(store, cfg)?,
                Decision::Project => {
                    let (Some(from), Some(to)) = (&record_schema, &self.schema) else {
                        return Err(WriteError::Record("no schema to project to".into()));
                    };
                    let v =
                        schema::project(from, &r.value.value, to).map_err(WriteError::Record)?;
                    let mut p = r.clone();
                    p.value = connect_api::SchemaAndValue {
                        schema: Some(to.clone()),
                        value: v,
                    };
                    projected = Some(p);
                }
            }
        }
        if self.count > 0 && !cfg.extractor.is_wallclock() {
            if let (Some(interval), Some(first), Some(ts)) =
                (cfg.rotate_interval_ms, self.first_ts, ts)
            {
                if ts.saturating_sub(first) >= interval {
                    self.commit(store, cfg)?;
                }
            }
        }
        if self.count == 0 {
            self.schema = record_schema;
            self.first_ts = ts;
            self.opened_at = now_ms();
            self.next_scheduled = cfg.rotate_schedule_ms.map(|period| {
                let now = self.opened_at;
                let day = zone::start_of_day(&cfg.zone, now);
                let next_day = zone::start_of_day(&cfg.zone, day + 36 * 3_600_000);
                (day + ((now - day) / period + 1) * period).min(next_day)
            });
        }
        let file = match self.files.get_mut(&encoded) {
            Some(f) => f,
            None => {
                let temp = join(&[
                    &self.tmp_dir,
                    &encoded,
                    &temp_name(self.partition, cfg.format.extension()),
                ]);
                let writer = cfg
                    .format
                    .writer(self.schema.as_ref())
                    .map_err(WriteError::Record)?;
                let out = store.create(&temp)?;
                let meta = if cfg.store_keys || cfg.store_headers {
                    let temp = format!("{temp}{META_SUFFIX}");
                    let out = store.create(&temp)?;
                    Some(Meta {
                        temp,
                        out,
                        buf: Vec::new(),
                    })
                } else {
                    None
                };
                self.files.entry(encoded).or_insert(OpenFile {
                    temp,
                    out,
                    writer,
                    buf: Vec::new(),
                    start: offset,
                    end: offset,
                    meta,
                })
            }
        };
        file.writer
            .write(projected.as_ref().unwrap_or(r), &mut file.buf)
            .map_err(WriteError::Record)?;
        file.end = offset;
        if file.buf.len() >= WRITE_CHUNK {
            file.out.write(&file.buf)?;
            file.buf.clear();
        }
        if let Some(m) = &mut file.meta {
            meta_line(r, cfg.store_keys, cfg.store_headers, &mut m.buf);
            if m.buf.len() >= WRITE_CHUNK {
                m.out.write(&m.buf)?;
                m.buf.clear();
            }
        }
        self.count += 1;
        self.next = Some(offset + 1);
        if self.count >= cfg.flush_size {
            self.commit(store, cfg)?;
        }
        Ok(())
    }

    /// Commits when a wall-clock rotation is due.
    pub fn tick(&mut self, store: &dyn Store, cfg: &SinkConfig) -> Result<(), WriteError> {
        if self.count == 0 {
            return Ok(());
        }
        let now = now_ms();
        let by_interval = cfg.extractor == Extractor::Wallclock
            && cfg
                .rotate_interval_ms
                .is_some_and(|i| now - self.opened_at >= i);
        let by_schedule = self.next_scheduled.is_some_and(|t| now >= t);
        if by_interval || by_schedule {
            self.commit(store, cfg)?;
        }
        Ok(())
    }

    /// Closes the open files and moves them to their committed names.
    pub fn commit(&mut self, store: &dyn Store, cfg: &SinkConfig) -> Result<(), WriteError> {
        if self.files.is_empty() {
            self.reset_counters();
            return Ok(());
        }
        let mut renames = Vec::with_capacity(self.files.len());
        let mut end = i64::MIN;
        // Files are committed in the order of their first offsets, so a
        // reader listing between two renames never sees a later file first.
        let mut files: Vec<(String, OpenFile)> =
            std::mem::take(&mut self.files).into_iter().collect();
        files.sort_by_key(|(_, f)| f.start);
        for (encoded, mut f) in files {
            f.writer
                .finish(&mut f.buf)
                .map_err(|e| WriteError::File(format!("finishing {}: {e}", f.temp)))?;
            f.out.write(&f.buf)?;
            f.out.close()?;
            let name = committed_name(
                &self.topic,
                self.partition,
                f.start,
                f.end,
                cfg.zero_pad,
                cfg.format.extension(),
            );
            let done = join(&[&self.topic_dir, &encoded, &name]);
            // The sidecar is in place before its data file appears.
            if let Some(mut m) = f.meta {
                m.out.write(&m.buf)?;
                m.out.close()?;
                renames.push((m.temp, format!("{done}{META_SUFFIX}")));
            }
            renames.push((f.temp, done));
            end = end.max(f.end);
        }
        self.wal.record(
            store,
            &Commit {
                end_offset: end,
                renames: renames.clone(),
            },
        )?;
        for (tmp, done) in &renames {
            if store.rename(tmp, done)? {
                continue;
            }
            if !store.exists(done)? {
                return Err(WriteError::Store(StoreError(format!(
                    "the temporary file {tmp} is gone before its commit to {done} (did another task take the partition?)"
                ))));
            }
            tracing::warn!(
                "{done} exists already: the records of {tmp} were committed before; deleting it"
            );
            store.delete(tmp)?;
        }
        self.committed = Some(end + 1);
        self.next = self.committed;
        self.reset_counters();
        Ok(())
    }
}
