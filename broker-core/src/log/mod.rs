//! The partition log: an ordered set of segments holding raw v2 record
//! batches, with offset assignment, idempotent-producer checks, reads,
//! timestamp lookups, retention and (in `cleaner`) compaction.

pub mod batch;
mod cleaner;
pub mod decompress;
pub mod producer_state;
pub mod segment;

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kafka_protocol::records::RecordSet;

use crate::error_code;
use crate::topic_config::TopicConfig;
use batch::{BatchHeader, HEADER_LEN};
use producer_state::{ProducerStates, SequenceCheck};
use segment::{read_header, read_range, Segment};

const LOG_START_FILE: &str = "log-start-offset";

/// A rejected append: the Kafka error code and a message for the client and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendError {
    pub code: i16,
    pub message: String,
    /// Index of the offending record inside the batch, for INVALID_RECORD.
    pub record_index: Option<i32>,
}

impl AppendError {
    fn new(code: i16, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            record_index: None,
        }
    }
}

/// The result of a successful append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub base_offset: i64,
    /// `-1` unless the topic uses LogAppendTime.
    pub log_append_time_ms: i64,
    /// The offset after the appended data (what `acks=all` must see durable).
    pub end_offset: i64,
}

/// Segment files to read for a fetch, captured under the lock and read after it.
#[derive(Debug, Clone)]
pub struct ReadPlan {
    offset: i64,
    max_bytes: usize,
    parts: Vec<PlanPart>,
}

/// One segment of a [`ReadPlan`].
#[derive(Debug, Clone)]
struct PlanPart {
    file: Arc<File>,
    /// Where to start looking for the batch that holds the planned offset.
    start: u64,
    /// The end of the segment's complete batches.
    limit: u64,
    /// The last indexed batch start at or below `start + max_bytes`: every
    /// batch before it is whole, so the search for the last batch that fits
    /// can begin there.
    hint: u64,
}

/// A run of whole batches in a segment file.
#[derive(Debug, Clone)]
pub struct FileRange {
    pub file: Arc<File>,
    pub pos: u64,
    pub len: usize,
}

impl FileRange {
    /// The range's bytes; `UnexpectedEof` when the file holds fewer.
    pub fn read(&self) -> io::Result<Vec<u8>> {
        let mut data = vec![0; self.len];
        self.file.read_exact_at(&mut data, self.pos)?;
        Ok(data)
    }
}

impl ReadPlan {
    /// Where the batches to return lie: the batch that holds the planned
    /// offset and the whole batches after it in the same segment, up to the
    /// planned `max_bytes` (but always at least that first batch). Reads
    /// batch headers only.
    pub fn locate(&self) -> io::Result<Option<FileRange>> {
        for part in &self.parts {
            let mut pos = part.start;
            let first = loop {
                if pos + HEADER_LEN as u64 > part.limit {
                    break None;
                }
                match read_header(&part.file, pos)? {
                    Some(h) if h.next_offset() <= self.offset => pos += h.size as u64,
                    h => break h,
                }
            };
            let Some(first) = first else {
                continue;
            };
            let from = pos;
            let first_end = from + first.size as u64;
            if first_end > part.limit {
                return Ok(None);
            }
            let target = from.saturating_add(self.max_bytes as u64).min(part.limit);
            let mut end = first_end;
            let mut jumped = false;
            if part.hint > end && part.hint <= target {
                end = part.hint;
                jumped = true;
            }
            while end + HEADER_LEN as u64 <= target {
                let Some(h) = read_header(&part.file, end)? else {
                    if std::mem::take(&mut jumped) {
                        // Not a batch where the index said: walk instead.
                        end = first_end;
                        continue;
                    }
                    break;
                };
                jumped = false;
                if end + h.size as u64 > target {
                    break;
                }
                end += h.size as u64;
            }
            return Ok(Some(FileRange {
                file: part.file.clone(),
                pos: from,
                len: (end - from) as usize,
            }));
        }
        Ok(None)
    }

    /// Reads what [`ReadPlan::locate`] finds.
    pub fn execute(&self) -> io::Result<Vec<u8>> {
        match self.locate()? {
            Some(range) => range.read(),
            None => Ok(Vec::new()),
        }
    }
}

/// One partition's log.
#[derive(Debug)]
pub struct PartitionLog {
    dir: PathBuf,
    segments: BTreeMap<i64, Segment>,
    log_start_offset: i64,
    next_offset: i64,
    config: Arc<TopicConfig>,
    producers: ProducerStates,
    unflushed: Vec<Arc<File>>,
    unflushed_messages: i64,
    dir_dirty: bool,
    flushed_offset: i64,
    last_flush_ms: i64,
    /// Offsets below this have been compacted since start-up.
    cleaned_up_to: i64,
}

/// Things worth a log line that happened while opening a log.
#[derive(Debug, Default)]
pub struct OpenNotes {
    pub truncated: Vec<(i64, u64)>,
    pub dropped_segments: Vec<i64>,
}

fn parse_base(name: &str) -> Option<i64> {
    name.strip_suffix(".log")?.parse().ok()
}

impl PartitionLog {
    /// Opens (or creates) the log in `dir`. Unless `clean_shutdown`, every
    /// segment is CRC-checked and the log is truncated at the first bad batch.
    pub fn open(
        dir: &Path,
        config: Arc<TopicConfig>,
        clean_shutdown: bool,
        now_ms: i64,
    ) -> io::Result<(Self, OpenNotes)> {
        std::fs::create_dir_all(dir)?;
        let mut bases = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let name = entry?.file_name().to_string_lossy().to_string();
            if name.ends_with(".cleaned") || name.ends_with(".deleted") {
                std::fs::remove_file(dir.join(&name))?;
            } else if let Some(b) = parse_base(&name) {
                bases.push(b);
            }
        }
        bases.sort_unstable();
        let checkpoint: i64 = std::fs::read_to_string(dir.join(LOG_START_FILE))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        let mut notes = OpenNotes::default();
        let mut segments = BTreeMap::new();
        let mut truncated = false;
        let last_base = bases.last().copied();
        for base in bases {
            if truncated {
                // Everything after a corrupt point is gone, as in Kafka.
                let (seg, _) = Segment::open(dir, base, true, config.index_interval_bytes, now_ms)?;
                seg.delete_files()?;
                notes.dropped_segments.push(base);
                continue;
            }
            let (seg, rec) = Segment::open(
                dir,
                base,
                clean_shutdown,
                config.index_interval_bytes,
                now_ms,
            )?;
            // Space allocated ahead and never written is expected after a
            // crash at the end of the last segment only: an earlier segment
            // was trimmed when it rolled, so there it means lost data.
            let last = Some(&base) == last_base.as_ref();
            let lost = rec.truncated_bytes + if last { 0 } else { rec.unwritten_bytes };
            if lost > 0 {
                notes.truncated.push((base, lost));
                truncated = true;
            }
            segments.insert(base, seg);
        }
        if segments.is_empty() {
            let base = checkpoint.max(0);
            segments.insert(base, Segment::create(dir, base, now_ms)?);
        }
        let first_base = segments.keys().next().copied().unwrap_or(0);
        let next_offset = segments
            .values()
            .next_back()
            .map(|s| s.next_offset)
            .unwrap_or(0);
        let mut log = Self {
            dir: dir.to_path_buf(),
            segments,
            log_start_offset: checkpoint.clamp(first_base, next_offset.max(first_base)),
            next_offset,
            config,
            producers: ProducerStates::default(),
            unflushed: Vec::new(),
            unflushed_messages: 0,
            dir_dirty: false,
            flushed_offset: next_offset,
            last_flush_ms: now_ms,
            cleaned_up_to: 0,
        };
        log.rebuild_producer_state()?;
        Ok((log, notes))
    }

    fn rebuild_producer_state(&mut self) -> io::Result<()> {
        let Some(seg) = self.segments.values().next_back() else {
            return Ok(());
        };
        let mut pos = 0;
        while pos + (HEADER_LEN as u64) <= seg.size {
            let Some(h) = read_header(&seg.file, pos)? else {
                break;
            };
            self.producers.record(&h);
            pos += h.size as u64;
        }
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn config(&self) -> &Arc<TopicConfig> {
        &self.config
    }
    pub fn set_config(&mut self, config: Arc<TopicConfig>) {
        self.config = config;
    }
    pub fn log_start_offset(&self) -> i64 {
        self.log_start_offset
    }
    /// The high watermark: on a single node, the log end offset.
    pub fn high_watermark(&self) -> i64 {
        self.next_offset
    }
    pub fn size_bytes(&self) -> u64 {
        self.segments.values().map(|s| s.size).sum()
    }
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// Validates and appends a produce payload (one or more batches).
    pub fn append(&mut self, records: &[u8], now_ms: i64) -> Result<Appended, AppendError> {
        let batches = batch::split_batches(records)
            .map_err(|e| AppendError::new(error_code::CORRUPT_MESSAGE, e.to_string()))?;
        if batches.is_empty() {
            return Err(AppendError::new(
                error_code::CORRUPT_MESSAGE,
                "empty record set",
            ));
        }
        let cfg = self.config.clone();
        for (pos, h) in &batches {
            if h.size > cfg.max_message_bytes {
                return Err(AppendError::new(
                    error_code::MESSAGE_TOO_LARGE,
                    format!(
                        "batch at byte {pos} is {} bytes, larger than max.message.bytes={}",
                        h.size, cfg.max_message_bytes
                    ),
                ));
            }
            if h.is_transactional() || h.is_control() {
                return Err(AppendError::new(
                    error_code::INVALID_RECORD,
                    "transactional and control batches are not supported by this broker yet",
                ));
            }
            if cfg.compact {
                check_keys(&records[*pos..*pos + h.size], cfg.max_message_bytes)?;
            }
        }
        let mut first: Option<i64> = None;
        let mut buf = Vec::new();
        for (pos, h) in &batches {
            match self.producers.check(h) {
                SequenceCheck::Duplicate(offset) => {
                    first.get_or_insert(offset);
                    continue;
                }
                SequenceCheck::Reject(code) => {
                    return Err(AppendError::new(
                        code,
                        format!(
                            "producer {} epoch {} sequence {} rejected",
                            h.producer_id, h.producer_epoch, h.base_sequence
                        ),
                    ))
                }
                SequenceCheck::Append => {}
            }
            buf.clear();
            buf.extend_from_slice(&records[*pos..*pos + h.size]);
            let base = self.next_offset;
            batch::assign_offset(&mut buf, base);
            if cfg.log_append_time {
                batch::set_log_append_time(&mut buf, now_ms);
            }
            let mut stored = *h;
            stored.base_offset = base;
            if cfg.log_append_time {
                stored.max_timestamp = now_ms;
            }
            self.write_batch(&buf, &stored, now_ms)
                .map_err(|e| AppendError::new(error_code::KAFKA_STORAGE_ERROR, e.to_string()))?;
            self.producers.record(&stored);
            first.get_or_insert(base);
        }
        Ok(Appended {
            base_offset: first.unwrap_or(self.next_offset),
            log_append_time_ms: if cfg.log_append_time { now_ms } else { -1 },
            end_offset: self.next_offset,
        })
    }

    fn write_batch(&mut self, data: &[u8], h: &BatchHeader, now_ms: i64) -> io::Result<()> {
        let cfg = self.config.clone();
        let roll = self.segments.values().next_back().is_some_and(|s| {
            s.size > 0
                && (s.size + data.len() as u64 > cfg.segment_bytes
                    || now_ms.saturating_sub(s.created_ms) > cfg.segment_ms)
        });
        if roll {
            if let Some(old) = self.segments.values_mut().next_back() {
                // The rolled segment ends at its data: its new length is
                // made durable with the next flush, before anything
                // written after it is acknowledged.
                old.trim()?;
                if !self.unflushed.iter().any(|f| Arc::ptr_eq(f, &old.file)) {
                    self.unflushed.push(old.file.clone());
                }
            }
            let seg = Segment::create(&self.dir, self.next_offset, now_ms)?;
            self.segments.insert(self.next_offset, seg);
            self.dir_dirty = true;
        }
        let Some(seg) = self.segments.values_mut().next_back() else {
            return Err(io::Error::other("log has no segment"));
        };
        seg.append(data, h, cfg.index_interval_bytes, cfg.preallocate)?;
        if !self
            .unflushed
            .last()
            .is_some_and(|f| Arc::ptr_eq(f, &seg.file))
        {
            self.unflushed.push(seg.file.clone());
        }
        self.next_offset = h.next_offset();
        self.unflushed_messages += h.record_count as i64;
        Ok(())
    }

    /// Whether `flush.messages` / `flush.ms` ask for an fsync now.
    pub fn flush_due(&self, now_ms: i64) -> bool {
        self.flushed_offset < self.next_offset
            && (self.unflushed_messages >= self.config.flush_messages
                || now_ms.saturating_sub(self.last_flush_ms) >= self.config.flush_ms)
    }

    /// Hands the files written since the last flush to the flusher.
    pub fn take_unflushed(&mut self) -> (Vec<Arc<File>>, bool, i64) {
        self.unflushed_messages = 0;
        let dir_dirty = std::mem::take(&mut self.dir_dirty);
        (
            std::mem::take(&mut self.unflushed),
            dir_dirty,
            self.next_offset,
        )
    }

    pub fn mark_flushed(&mut self, offset: i64, now_ms: i64) {
        self.flushed_offset = self.flushed_offset.max(offset);
        self.last_flush_ms = now_ms;
    }

    pub fn flushed_offset(&self) -> i64 {
        self.flushed_offset
    }

    /// Trims and syncs every segment and index (clean shutdown).
    pub fn sync_all(&mut self) -> io::Result<()> {
        for seg in self.segments.values_mut() {
            seg.trim()?;
            seg.sync()?;
        }
        File::open(&self.dir)?.sync_all()?;
        self.unflushed.clear();
        self.flushed_offset = self.next_offset;
        Ok(())
    }

    /// Plans a read at `offset`; `Err` is OFFSET_OUT_OF_RANGE.
    pub fn plan_read(&self, offset: i64, max_bytes: usize) -> Result<ReadPlan, i16> {
        if offset < self.log_start_offset || offset > self.next_offset {
            return Err(error_code::OFFSET_OUT_OF_RANGE);
        }
        let first = self
            .segments
            .range(..=offset)
            .next_back()
            .map(|(b, _)| *b)
            .unwrap_or(i64::MIN);
        let parts = self
            .segments
            .range(first..)
            .map(|(_, s)| {
                let start = if s.base_offset <= offset {
                    s.index_position(offset)
                } else {
                    0
                };
                PlanPart {
                    file: s.file.clone(),
                    start,
                    limit: s.size,
                    hint: s.indexed_position_at_most(start.saturating_add(max_bytes as u64)),
                }
            })
            .collect();
        Ok(ReadPlan {
            offset,
            max_bytes,
            parts,
        })
    }

    /// The first offset whose record timestamp is >= `ts`, with that timestamp.
    pub fn offset_for_timestamp(&self, ts: i64) -> io::Result<Option<(i64, i64)>> {
        for seg in self.segments.values() {
            if seg.max_timestamp.0 < ts {
                continue;
            }
            let mut pos = seg.time_position(ts);
            while pos + HEADER_LEN as u64 <= seg.size {
                let Some(h) = read_header(&seg.file, pos)? else {
                    break;
                };
                if h.max_timestamp >= ts && h.next_offset() > self.log_start_offset {
                    let set = decode_at(&seg.file, pos, h.size)?;
                    let found = set.records.iter().find(|r| {
                        r.offset >= self.log_start_offset && effective_ts(&h, r.timestamp) >= ts
                    });
                    if let Some(r) = found {
                        return Ok(Some((r.offset, effective_ts(&h, r.timestamp))));
                    }
                }
                pos += h.size as u64;
            }
        }
        Ok(None)
    }

    /// The offset and value of the largest timestamp (ListOffsets -3).
    pub fn max_timestamp_offset(&self) -> io::Result<Option<(i64, i64)>> {
        let Some(seg) = self
            .segments
            .values()
            .filter(|s| s.max_timestamp.0 >= 0)
            .max_by_key(|s| s.max_timestamp.0)
        else {
            return Ok(None);
        };
        let (ts, batch_base) = seg.max_timestamp;
        let mut pos = seg.index_position(batch_base);
        while pos + HEADER_LEN as u64 <= seg.size {
            let Some(h) = read_header(&seg.file, pos)? else {
                break;
            };
            if h.base_offset == batch_base {
                let set = decode_at(&seg.file, pos, h.size)?;
                let off = set
                    .records
                    .iter()
                    .find(|r| effective_ts(&h, r.timestamp) == ts)
                    .map(|r| r.offset)
                    .unwrap_or(h.last_offset());
                return Ok(Some((off, ts)));
            }
            pos += h.size as u64;
        }
        Ok(None)
    }

    /// DeleteRecords: moves the log start offset to `offset` (-1 = high watermark).
    pub fn delete_records_before(&mut self, offset: i64) -> Result<i64, AppendError> {
        let target = if offset == -1 {
            self.next_offset
        } else {
            offset
        };
        if target < 0 || target > self.next_offset {
            return Err(AppendError::new(
                error_code::OFFSET_OUT_OF_RANGE,
                format!(
                    "offset {offset} is beyond the high watermark {}",
                    self.next_offset
                ),
            ));
        }
        if target > self.log_start_offset {
            self.log_start_offset = target;
            self.write_log_start()
                .map_err(|e| AppendError::new(error_code::KAFKA_STORAGE_ERROR, e.to_string()))?;
            self.drop_segments_below_start()
                .map_err(|e| AppendError::new(error_code::KAFKA_STORAGE_ERROR, e.to_string()))?;
        }
        Ok(self.log_start_offset)
    }

    fn write_log_start(&self) -> io::Result<()> {
        let tmp = self.dir.join(format!("{LOG_START_FILE}.tmp"));
        std::fs::write(&tmp, format!("{}\n", self.log_start_offset))?;
        File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, self.dir.join(LOG_START_FILE))
    }

    /// Deletes non-active segments that lie wholly below the log start offset.
    fn drop_segments_below_start(&mut self) -> io::Result<()> {
        while self.segments.len() > 1 {
            let Some((&base, seg)) = self.segments.iter().next() else {
                break;
            };
            if seg.next_offset > self.log_start_offset {
                break;
            }
            seg.delete_files()?;
            self.segments.remove(&base);
        }
        Ok(())
    }

    /// Time- and size-based retention for `cleanup.policy=delete`; returns how
    /// many segments were deleted.
    pub fn apply_retention(&mut self, now_ms: i64) -> io::Result<usize> {
        if !self.config.delete {
            return Ok(0);
        }
        let cfg = self.config.clone();
        let mut total: i64 = self.size_bytes() as i64;
        let mut deleted = 0;
        while self.segments.len() > 1 {
            let Some((&base, seg)) = self.segments.iter().next() else {
                break;
            };
            let expired = cfg.retention_ms >= 0
                && seg.max_timestamp.0 >= 0
                && now_ms.saturating_sub(seg.max_timestamp.0) > cfg.retention_ms;
            let oversize =
                cfg.retention_bytes >= 0 && total - seg.size as i64 >= cfg.retention_bytes;
            if !expired && !oversize {
                break;
            }
            total -= seg.size as i64;
            seg.delete_files()?;
            self.segments.remove(&base);
            deleted += 1;
        }
        if deleted > 0 {
            let first = self
                .segments
                .keys()
                .next()
                .copied()
                .unwrap_or(self.next_offset);
            if first > self.log_start_offset {
                self.log_start_offset = first;
                self.write_log_start()?;
            }
        }
        Ok(deleted)
    }

    /// Removes the partition directory (topic deletion).
    pub fn delete_dir(self) -> io::Result<()> {
        let dir = self.dir.clone();
        drop(self);
        std::fs::remove_dir_all(dir)
    }
}

fn effective_ts(h: &BatchHeader, record_ts: i64) -> i64 {
    if h.attributes & batch::ATTR_TIMESTAMP_TYPE != 0 {
        h.max_timestamp
    } else {
        record_ts
    }
}

fn decode_at(file: &File, pos: u64, size: usize) -> io::Result<RecordSet> {
    let data = read_range(file, pos, size)?;
    decompress::decode_batch(&data, decompress::limit_for(size))
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
}

/// Compacted topics reject records without a key (INVALID_RECORD).
fn check_keys(batch: &[u8], max_message_bytes: usize) -> Result<(), AppendError> {
    let set = decompress::decode_batch(batch, decompress::limit_for(max_message_bytes))
        .map_err(|e| AppendError::new(error_code::CORRUPT_MESSAGE, e.to_string()))?;
    if let Some(i) = set.records.iter().position(|r| r.key.is_none()) {
        return Err(AppendError {
            code: error_code::INVALID_RECORD,
            message: "Compacted topic cannot accept message without key in topic partition"
                .to_string(),
            record_index: Some(i as i32),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
