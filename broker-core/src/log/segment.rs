//! One segment: `<base>.log` holding raw v2 batches as received, a sparse
//! `<base>.index` (relative offset u32, file position u32) and a sparse
//! `<base>.timeindex` (max timestamp so far i64, relative offset u32).
//!
//! The active segment's log file is allocated ahead of its data (in steps
//! that grow with the segment, up to [`MAX_STEP`]), so that appending does
//! not change the file's length and an `fdatasync` has no size to commit
//! with the data. The allocated tail reads as zeros; it is cut off when the
//! segment rolls or the broker shuts down, and recognised as unwritten
//! space (not as a damaged batch) when a segment is opened after a crash.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::batch::{self, BatchHeader, HEADER_LEN};

pub const LOG_SUFFIX: &str = "log";
const INDEX_SUFFIX: &str = "index";
const TIME_INDEX_SUFFIX: &str = "timeindex";

/// Kafka's file name for a base offset: 20 zero-padded digits.
pub fn file_name(base_offset: i64, suffix: &str) -> String {
    format!("{base_offset:020}.{suffix}")
}

#[derive(Debug)]
pub struct Segment {
    pub base_offset: i64,
    dir: PathBuf,
    pub file: Arc<File>,
    /// Bytes of complete batches in the file.
    pub size: u64,
    /// The file's length: `size` plus the space allocated ahead of the data.
    allocated: u64,
    /// False once the filesystem refused to allocate ahead.
    allocating: bool,
    /// The offset after the last batch (== base_offset when empty).
    pub next_offset: i64,
    index: Vec<(u32, u32)>,
    time_index: Vec<(i64, u32)>,
    index_file: File,
    time_index_file: File,
    bytes_since_index: u64,
    /// Largest batch max-timestamp and the base offset of that batch.
    pub max_timestamp: (i64, i64),
    /// Wall-clock creation time, for `segment.ms`.
    pub created_ms: i64,
}

/// What recovery did to a segment.
#[derive(Debug, Default, Clone, Copy)]
pub struct Recovery {
    /// Bytes cut off from the first batch that did not validate.
    pub truncated_bytes: u64,
    /// Zero bytes cut off right after the last batch and at the end of the
    /// file: space allocated ahead and never written (a crash before the
    /// segment was trimmed).
    pub unwritten_bytes: u64,
}

/// The smallest and largest step in which a log file is allocated ahead.
const MIN_STEP: u64 = 64 << 10;
const MAX_STEP: u64 = 4 << 20;

/// Allocates `[from, to)` of `file` on disk and sets its length to `to`;
/// false where the filesystem cannot (the file then grows as it is written).
#[allow(unsafe_code)]
fn allocate(file: &File, from: u64, to: u64) -> bool {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (
        libc::off_t::try_from(from),
        libc::off_t::try_from(to - from),
    ) else {
        return false;
    };
    // SAFETY: the descriptor is open for writing for the life of `file`;
    // fallocate reads no memory of ours.
    unsafe { libc::fallocate(file.as_raw_fd(), 0, offset, len) == 0 }
}

fn open_rw(path: &Path, truncate: bool) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(truncate)
        .open(path)
}

impl Segment {
    /// Creates a new, empty segment (replacing stale files of the same name).
    pub fn create(dir: &Path, base_offset: i64, now_ms: i64) -> io::Result<Self> {
        let file = open_rw(&dir.join(file_name(base_offset, LOG_SUFFIX)), true)?;
        let index_file = open_rw(&dir.join(file_name(base_offset, INDEX_SUFFIX)), true)?;
        let time_index_file = open_rw(&dir.join(file_name(base_offset, TIME_INDEX_SUFFIX)), true)?;
        Ok(Self {
            base_offset,
            dir: dir.to_path_buf(),
            file: Arc::new(file),
            size: 0,
            allocated: 0,
            allocating: true,
            next_offset: base_offset,
            index: Vec::new(),
            time_index: Vec::new(),
            index_file,
            time_index_file,
            bytes_since_index: 0,
            max_timestamp: (-1, base_offset),
            created_ms: now_ms,
        })
    }

    /// Opens an existing segment. With `trust_index` (clean shutdown) the index
    /// files are loaded and only the tail after the last index entry is
    /// re-validated; otherwise every batch is CRC-checked and the indexes are
    /// rebuilt. The file is truncated at the first invalid batch.
    pub fn open(
        dir: &Path,
        base_offset: i64,
        trust_index: bool,
        index_interval_bytes: u64,
        now_ms: i64,
    ) -> io::Result<(Self, Recovery)> {
        let log_path = dir.join(file_name(base_offset, LOG_SUFFIX));
        let file = open_rw(&log_path, false)?;
        let file_len = file.metadata()?.len();
        let created_ms = file
            .metadata()?
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as i64)
            .unwrap_or(now_ms);
        let index_path = dir.join(file_name(base_offset, INDEX_SUFFIX));
        let time_path = dir.join(file_name(base_offset, TIME_INDEX_SUFFIX));
        let (index, time_index) = if trust_index {
            (
                read_index(&index_path, file_len),
                read_time_index(&time_path),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        // Keep only time index entries that the offset index also covers.
        let (start_pos, start_rel) = index.last().map(|&(r, p)| (p as u64, r)).unwrap_or((0, 0));
        let time_index: Vec<(i64, u32)> = time_index
            .into_iter()
            .filter(|&(_, r)| r <= start_rel)
            .collect();
        let mut seg = Self {
            base_offset,
            dir: dir.to_path_buf(),
            file: Arc::new(file),
            size: start_pos,
            allocated: file_len,
            allocating: true,
            next_offset: base_offset + start_rel as i64,
            index_file: open_rw(&index_path, !trust_index)?,
            time_index_file: open_rw(&time_path, !trust_index)?,
            index,
            time_index,
            bytes_since_index: 0,
            max_timestamp: (-1, base_offset),
            created_ms,
        };
        if let Some(&(ts, rel)) = seg.time_index.last() {
            seg.max_timestamp = (ts, base_offset + rel as i64);
        }
        if trust_index {
            // Rewrite index files so they match exactly what was kept.
            seg.rewrite_index_files()?;
        }
        let recovery = seg.scan_tail(file_len, index_interval_bytes)?;
        Ok((seg, recovery))
    }

    /// Validates batches from `self.size` to `file_len`, extending the indexes
    /// and truncating at the first bad batch.
    fn scan_tail(&mut self, file_len: u64, index_interval_bytes: u64) -> io::Result<Recovery> {
        let mut reader = BufReader::with_capacity(
            1 << 20,
            SegmentReader {
                file: self.file.clone(),
                pos: self.size,
            },
        );
        let mut buf = Vec::new();
        let mut pos = self.size;
        while pos < file_len {
            buf.resize(HEADER_LEN, 0);
            if read_full(&mut reader, &mut buf)? < HEADER_LEN {
                break;
            }
            let Ok(h) = BatchHeader::parse(&buf, pos as usize) else {
                break;
            };
            if pos + h.size as u64 > file_len || h.base_offset < self.next_offset {
                break;
            }
            buf.resize(h.size, 0);
            if read_full(&mut reader, &mut buf[HEADER_LEN..])? < h.size - HEADER_LEN {
                break;
            }
            if batch::validate(&buf, pos as usize).is_err() {
                break;
            }
            self.note_appended(&h, pos, index_interval_bytes)?;
            pos += h.size as u64;
        }
        let mut recovery = Recovery::default();
        if file_len > pos {
            // Zeros right after the last batch and at the very end are
            // space allocated ahead and never written; what lies between
            // (a torn batch, garbage) is what was damaged.
            let (leading, trailing) = zero_runs(&self.file, pos, file_len)?;
            recovery.unwritten_bytes = leading + trailing;
            recovery.truncated_bytes = file_len - pos - leading - trailing;
            self.file.set_len(pos)?;
            self.file.sync_all()?;
        }
        self.size = pos;
        self.allocated = pos;
        Ok(recovery)
    }

    fn rewrite_index_files(&mut self) -> io::Result<()> {
        let mut idx = Vec::with_capacity(self.index.len() * 8);
        for &(r, p) in &self.index {
            idx.extend_from_slice(&r.to_be_bytes());
            idx.extend_from_slice(&p.to_be_bytes());
        }
        self.index_file.set_len(0)?;
        self.index_file.write_all_at(&idx, 0)?;
        let mut tidx = Vec::with_capacity(self.time_index.len() * 12);
        for &(t, r) in &self.time_index {
            tidx.extend_from_slice(&t.to_be_bytes());
            tidx.extend_from_slice(&r.to_be_bytes());
        }
        self.time_index_file.set_len(0)?;
        self.time_index_file.write_all_at(&tidx, 0)
    }

    /// Appends one batch whose offsets are already assigned, allocating the
    /// file ahead when `preallocate`.
    pub fn append(
        &mut self,
        data: &[u8],
        h: &BatchHeader,
        index_interval_bytes: u64,
        preallocate: bool,
    ) -> io::Result<()> {
        let end = self.size + data.len() as u64;
        if end > self.allocated && preallocate && self.allocating {
            let step = self.size.clamp(MIN_STEP, MAX_STEP);
            self.allocating = allocate(&self.file, self.allocated, end + step);
            if self.allocating {
                self.allocated = end + step;
            }
        }
        self.file.write_all_at(data, self.size)?;
        let pos = self.size;
        self.note_appended(h, pos, index_interval_bytes)?;
        self.size = end;
        self.allocated = self.allocated.max(end);
        Ok(())
    }

    /// Cuts off the space allocated ahead of the data (the segment is rolled
    /// or the broker stops); the next append allocates again.
    pub fn trim(&mut self) -> io::Result<()> {
        if self.allocated > self.size {
            self.file.set_len(self.size)?;
            self.allocated = self.size;
        }
        Ok(())
    }

    fn note_appended(&mut self, h: &BatchHeader, pos: u64, interval: u64) -> io::Result<()> {
        if h.max_timestamp > self.max_timestamp.0 {
            self.max_timestamp = (h.max_timestamp, h.base_offset);
        }
        let rel = (h.base_offset - self.base_offset) as u32;
        if self.index.is_empty() || self.bytes_since_index >= interval {
            let at = self.index.len() as u64 * 8;
            let mut e = [0u8; 8];
            e[..4].copy_from_slice(&rel.to_be_bytes());
            e[4..].copy_from_slice(&(pos as u32).to_be_bytes());
            self.index_file.write_all_at(&e, at)?;
            self.index.push((rel, pos as u32));
            let mut t = [0u8; 12];
            t[..8].copy_from_slice(&self.max_timestamp.0.to_be_bytes());
            t[8..]
                .copy_from_slice(&((self.max_timestamp.1 - self.base_offset) as u32).to_be_bytes());
            self.time_index_file
                .write_all_at(&t, self.time_index.len() as u64 * 12)?;
            self.time_index.push((
                self.max_timestamp.0,
                (self.max_timestamp.1 - self.base_offset) as u32,
            ));
            self.bytes_since_index = 0;
        }
        self.bytes_since_index += h.size as u64;
        self.next_offset = h.next_offset();
        Ok(())
    }

    /// The file position of the last indexed batch starting at or before `offset`.
    pub fn index_position(&self, offset: i64) -> u64 {
        let rel = (offset - self.base_offset).clamp(0, u32::MAX as i64) as u32;
        match self.index.partition_point(|&(r, _)| r <= rel) {
            0 => 0,
            n => self.index[n - 1].1 as u64,
        }
    }

    /// The last indexed batch start at or below file position `pos` (0 when
    /// none is).
    pub fn indexed_position_at_most(&self, pos: u64) -> u64 {
        match self.index.partition_point(|&(_, p)| u64::from(p) <= pos) {
            0 => 0,
            n => u64::from(self.index[n - 1].1),
        }
    }

    /// A file position from which every batch has max timestamp >= `ts` or later.
    pub fn time_position(&self, ts: i64) -> u64 {
        match self.time_index.partition_point(|&(t, _)| t < ts) {
            0 => 0,
            n => self.index_position(self.base_offset + self.time_index[n - 1].1 as i64),
        }
    }

    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_data()?;
        self.index_file.sync_data()?;
        self.time_index_file.sync_data()
    }

    /// Removes the segment's files.
    pub fn delete_files(&self) -> io::Result<()> {
        for suffix in [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX] {
            match std::fs::remove_file(self.dir.join(file_name(self.base_offset, suffix))) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// Path of a sibling file with `suffix` (used by the cleaner).
    pub fn sibling(&self, suffix: &str) -> PathBuf {
        self.dir.join(file_name(self.base_offset, suffix))
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn read_index(path: &Path, log_len: u64) -> Vec<(u32, u32)> {
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(bytes.len() / 8);
    for c in bytes.chunks_exact(8) {
        let r = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        let p = u32::from_be_bytes([c[4], c[5], c[6], c[7]]);
        // Stop at the first entry that is not strictly increasing or points past the log.
        if (p as u64) >= log_len || out.last().is_some_and(|&(lr, lp)| r <= lr || p <= lp) {
            break;
        }
        out.push((r, p));
    }
    out
}

fn read_time_index(path: &Path) -> Vec<(i64, u32)> {
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    bytes
        .chunks_exact(12)
        .map(|c| {
            let mut t = [0u8; 8];
            t.copy_from_slice(&c[..8]);
            (
                i64::from_be_bytes(t),
                u32::from_be_bytes([c[8], c[9], c[10], c[11]]),
            )
        })
        .collect()
}

/// Sequential reads over a shared file handle.
pub struct SegmentReader {
    pub file: Arc<File>,
    pub pos: u64,
}

impl Read for SegmentReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// The zero bytes at the start and at the end of `[from, to)` of `file`
/// (the whole range counts as leading when it holds only zeros).
fn zero_runs(file: &File, from: u64, to: u64) -> io::Result<(u64, u64)> {
    const CHUNK: u64 = 1 << 16;
    let mut buf = vec![0u8; CHUNK as usize];
    let mut pos = from;
    while pos < to {
        let want = (to - pos).min(CHUNK) as usize;
        let n = file.read_at(&mut buf[..want], pos)?;
        if n == 0 {
            return Ok((pos - from, 0));
        }
        if let Some(i) = buf[..n].iter().position(|&b| b != 0) {
            pos += i as u64;
            break;
        }
        pos += n as u64;
    }
    let leading = pos - from;
    if pos >= to {
        return Ok((to - from, 0));
    }
    let mut end = to;
    while end > pos {
        let start = end.saturating_sub(CHUNK).max(pos);
        let want = (end - start) as usize;
        let n = file.read_at(&mut buf[..want], start)?;
        if let Some(i) = buf[..n].iter().rposition(|&b| b != 0) {
            end = start + i as u64 + 1;
            break;
        }
        end = start;
    }
    Ok((leading, to - end))
}

/// Reads exactly `len` bytes at `pos` (fewer only at end of file).
pub fn read_range(file: &File, pos: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let mut n = 0;
    while n < len {
        match file.read_at(&mut buf[n..], pos + n as u64)? {
            0 => break,
            k => n += k,
        }
    }
    buf.truncate(n);
    Ok(buf)
}

/// Reads the header of the batch at `pos`, if a complete header is there.
pub fn read_header(file: &File, pos: u64) -> io::Result<Option<BatchHeader>> {
    let buf = read_range(file, pos, HEADER_LEN)?;
    Ok(BatchHeader::parse(&buf, pos as usize).ok())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::zero_runs;

    fn runs(bytes: &[u8]) -> (u64, u64) {
        let mut f = tempfile::tempfile().expect("tempfile");
        f.write_all(bytes).expect("write");
        zero_runs(&f, 2, bytes.len() as u64).expect("zero runs")
    }

    #[test]
    fn zero_runs_find_unwritten_space_around_damage() {
        // Two bytes of data, then the range looked at.
        let mut torn = vec![9, 9, 5, 5, 5];
        torn.extend([0; 70_000]);
        assert_eq!(
            runs(&torn),
            (0, 70_000),
            "a torn batch, then unwritten space"
        );
        let mut garbage = vec![9, 9];
        garbage.extend([0; 70_000]);
        garbage.extend([7; 3]);
        assert_eq!(runs(&garbage), (70_000, 0), "unwritten space, then garbage");
        assert_eq!(runs(&[9, 9, 0, 0, 0]), (3, 0), "only unwritten space");
        assert_eq!(runs(&[9, 9, 1, 0, 2]), (0, 0), "damage throughout");
    }
}
