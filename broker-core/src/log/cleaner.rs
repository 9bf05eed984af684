//! Log compaction for `cleanup.policy=compact`: keep the latest record per key
//! in the closed segments, and drop tombstones once they have been in the log
//! for `delete.retention.ms`. Offsets never change; the active segment is
//! never touched.

use std::collections::HashMap;
use std::io;

use bytes::{Bytes, BytesMut};
use kafka_protocol::records::{Compression, Record, RecordBatchEncoder, RecordEncodeOptions};

use super::batch::{BatchHeader, HEADER_LEN};
use super::segment::{read_range, Segment, LOG_SUFFIX};
use super::PartitionLog;

/// What one compaction pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CompactionStats {
    pub segments: usize,
    pub records_removed: usize,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

fn compression_of(h: &BatchHeader) -> Compression {
    match h.compression() {
        1 => Compression::Gzip,
        2 => Compression::Snappy,
        3 => Compression::Lz4,
        4 => Compression::Zstd,
        _ => Compression::None,
    }
}

/// Iterates the batches of a segment's bytes.
fn batches(data: &[u8]) -> impl Iterator<Item = (usize, BatchHeader)> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos + HEADER_LEN > data.len() {
            return None;
        }
        let h = BatchHeader::parse(&data[pos..], pos).ok()?;
        if pos + h.size > data.len() {
            return None;
        }
        let at = pos;
        pos += h.size;
        Some((at, h))
    })
}

fn decode(data: &[u8]) -> io::Result<Vec<Record>> {
    // Stored batches passed the same limit when they were appended.
    super::decompress::decode_batch(data, super::decompress::limit_for(data.len()))
        .map(|s| s.records)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
}

impl PartitionLog {
    /// Closed segments old enough to clean (respecting `min.compaction.lag.ms`).
    fn cleanable_bases(&self, now_ms: i64) -> Vec<i64> {
        let lag = self.config.min_compaction_lag_ms;
        let n = self.segments.len();
        self.segments
            .values()
            .take(n.saturating_sub(1))
            .filter(|s| s.max_timestamp.0 < 0 || now_ms.saturating_sub(s.max_timestamp.0) >= lag)
            .map(|s| s.base_offset)
            .collect()
    }

    /// Whether the dirty share of the cleanable segments reaches
    /// `min.cleanable.dirty.ratio`.
    pub fn compaction_due(&self, now_ms: i64) -> bool {
        if !self.config.compact {
            return false;
        }
        let bases = self.cleanable_bases(now_ms);
        let (mut total, mut dirty) = (0u64, 0u64);
        for b in &bases {
            if let Some(s) = self.segments.get(b) {
                total += s.size;
                if s.next_offset > self.cleaned_up_to {
                    dirty += s.size;
                }
            }
        }
        total > 0
            && dirty > 0
            && dirty as f64 / total as f64 >= self.config.min_cleanable_dirty_ratio
    }

    /// Runs one compaction pass over the closed segments.
    pub fn compact(&mut self, now_ms: i64) -> io::Result<CompactionStats> {
        let bases = self.cleanable_bases(now_ms);
        let mut stats = CompactionStats::default();
        if bases.is_empty() {
            return Ok(stats);
        }
        // Pass 1: the latest offset of every key in the cleanable range.
        let mut latest: HashMap<Bytes, i64> = HashMap::new();
        for b in &bases {
            let Some(seg) = self.segments.get(b) else {
                continue;
            };
            let data = read_range(&seg.file, 0, seg.size as usize)?;
            for (pos, h) in batches(&data) {
                if h.is_control() {
                    continue;
                }
                for r in decode(&data[pos..pos + h.size])? {
                    if let Some(k) = r.key {
                        latest.insert(k, r.offset);
                    }
                }
            }
        }
        // Pass 2: rewrite each segment with what survives.
        let retention = self.config.delete_retention_ms;
        let index_interval = self.config.index_interval_bytes;
        for b in &bases {
            let Some(seg) = self.segments.get(b) else {
                continue;
            };
            let tombstones_expire =
                seg.max_timestamp.0 >= 0 && now_ms.saturating_sub(seg.max_timestamp.0) > retention;
            let data = read_range(&seg.file, 0, seg.size as usize)?;
            let mut out = Vec::with_capacity(data.len());
            let mut removed = 0;
            for (pos, h) in batches(&data) {
                let raw = &data[pos..pos + h.size];
                if h.is_control() {
                    out.extend_from_slice(raw);
                    continue;
                }
                let records = decode(raw)?;
                let count = records.len();
                let kept: Vec<Record> = records
                    .into_iter()
                    .filter(|r| match &r.key {
                        None => true,
                        Some(k) => {
                            latest.get(k) == Some(&r.offset)
                                && !(r.value.is_none() && tombstones_expire)
                        }
                    })
                    .collect();
                removed += count - kept.len();
                if kept.len() == count {
                    out.extend_from_slice(raw);
                } else if !kept.is_empty() {
                    let mut buf = BytesMut::new();
                    RecordBatchEncoder::encode(
                        &mut buf,
                        &kept,
                        &RecordEncodeOptions {
                            version: 2,
                            compression: compression_of(&h),
                        },
                    )
                    .map_err(|e| io::Error::other(e.to_string()))?;
                    out.extend_from_slice(&buf);
                }
            }
            stats.segments += 1;
            stats.records_removed += removed;
            stats.bytes_before += data.len() as u64;
            stats.bytes_after += out.len() as u64;
            if removed == 0 {
                continue;
            }
            let created_ms = seg.created_ms;
            let log_path = seg.sibling(LOG_SUFFIX);
            let tmp = seg.sibling("log.cleaned");
            std::fs::write(&tmp, &out)?;
            std::fs::File::open(&tmp)?.sync_all()?;
            std::fs::rename(&tmp, &log_path)?;
            let (mut fresh, _) = Segment::open(&self.dir, *b, false, index_interval, now_ms)?;
            fresh.created_ms = created_ms;
            self.segments.insert(*b, fresh);
        }
        // Segments emptied by cleaning are removed (never the active one).
        let n = self.segments.len();
        let empty: Vec<i64> = self
            .segments
            .values()
            .take(n.saturating_sub(1))
            .filter(|s| s.size == 0)
            .map(|s| s.base_offset)
            .collect();
        for b in empty {
            if let Some(s) = self.segments.remove(&b) {
                s.delete_files()?;
            }
        }
        if let Some(&first) = self.segments.keys().next() {
            self.log_start_offset = self.log_start_offset.max(first);
        }
        self.cleaned_up_to = self
            .segments
            .values()
            .next_back()
            .map(|s| s.base_offset)
            .unwrap_or(0);
        Ok(stats)
    }
}
