//! Partition log behaviour on a temporary directory.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use super::batch::tests::make_batch;
use super::*;
use crate::topic_config::TopicConfig;

fn cfg(pairs: &[(&str, &str)]) -> Arc<TopicConfig> {
    let o: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Arc::new(TopicConfig::resolve(&o, &BTreeMap::new()))
}

fn append_n(log: &mut PartitionLog, batches: usize, per_batch: usize) {
    for _ in 0..batches {
        let keys: Vec<Option<&str>> = (0..per_batch).map(|_| Some("k")).collect();
        log.append(&make_batch(&keys, 50), 1_700_000_000_000)
            .expect("append");
    }
}

#[test]
fn offsets_reads_and_segment_rolls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _) =
        PartitionLog::open(dir.path(), cfg(&[("segment.bytes", "1000")]), true, 0).expect("open");
    let a = log
        .append(&make_batch(&[Some("a"), Some("b")], 10), 5)
        .expect("append");
    assert_eq!((a.base_offset, a.end_offset), (0, 2));
    append_n(&mut log, 20, 3);
    assert_eq!(log.high_watermark(), 62);
    assert!(log.segment_count() > 3, "small segments roll");
    // A read inside a batch starts with that batch.
    let data = log
        .plan_read(31, 1)
        .expect("in range")
        .execute()
        .expect("read");
    let h = batch::BatchHeader::parse(&data, 0).expect("header");
    assert!(h.base_offset <= 31 && h.last_offset() >= 31);
    assert_eq!(
        data.len(),
        h.size,
        "at least one whole batch even over max bytes"
    );
    assert_eq!(
        log.plan_read(63, 1).map(|_| ()),
        Err(crate::error_code::OFFSET_OUT_OF_RANGE)
    );
    assert!(log
        .plan_read(62, 1000)
        .expect("at the end")
        .execute()
        .expect("read")
        .is_empty());
}

#[test]
fn reopen_clean_and_unclean_finds_the_same_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let (mut log, _) =
            PartitionLog::open(dir.path(), cfg(&[("segment.bytes", "2000")]), true, 0)
                .expect("open");
        append_n(&mut log, 30, 2);
        log.sync_all().expect("sync");
    }
    for clean in [true, false] {
        let (log, notes) =
            PartitionLog::open(dir.path(), cfg(&[("segment.bytes", "2000")]), clean, 0)
                .expect("reopen");
        assert_eq!(log.high_watermark(), 60, "clean={clean}");
        assert!(notes.truncated.is_empty());
    }
    // Garbage after the last batch is cut off and reported.
    let last = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .max()
        .expect("a segment");
    std::fs::OpenOptions::new()
        .append(true)
        .open(&last)
        .expect("open")
        .write_all(&[7u8; 99])
        .expect("write");
    let (mut log, notes) =
        PartitionLog::open(dir.path(), cfg(&[("segment.bytes", "2000")]), true, 0).expect("reopen");
    assert_eq!(notes.truncated.len(), 1);
    assert_eq!(notes.truncated[0].1, 99);
    assert_eq!(log.high_watermark(), 60);
    let a = log.append(&make_batch(&[Some("z")], 1), 0).expect("append");
    assert_eq!(a.base_offset, 60);
}

#[test]
fn timestamps_delete_records_and_size_retention() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _) = PartitionLog::open(
        dir.path(),
        cfg(&[("segment.bytes", "600"), ("retention.bytes", "1200")]),
        true,
        0,
    )
    .expect("open");
    append_n(&mut log, 12, 2);
    // make_batch stamps records 1_700_000_000_000 + i.
    assert_eq!(
        log.offset_for_timestamp(1_700_000_000_001).expect("lookup"),
        Some((1, 1_700_000_000_001))
    );
    assert_eq!(
        log.offset_for_timestamp(1_800_000_000_000).expect("lookup"),
        None
    );
    assert_eq!(
        log.max_timestamp_offset().expect("lookup").map(|x| x.1),
        Some(1_700_000_000_001)
    );
    let before = log.segment_count();
    let deleted = log.apply_retention(0).expect("retention");
    assert!(deleted > 0 && log.segment_count() < before);
    assert!(log.size_bytes() < 1200 + 600);
    assert!(log.log_start_offset() > 0);
    let start = log.delete_records_before(20).expect("delete records");
    assert_eq!(start, 20);
    assert_eq!(
        log.plan_read(19, 1).map(|_| ()),
        Err(crate::error_code::OFFSET_OUT_OF_RANGE)
    );
    assert!(
        log.delete_records_before(25).is_err(),
        "beyond the high watermark"
    );
    // The log start offset survives a restart.
    drop(log);
    let (log, _) = PartitionLog::open(dir.path(), cfg(&[]), true, 0).expect("reopen");
    assert_eq!(log.log_start_offset(), 20);
}

#[test]
fn oversized_and_corrupt_batches_are_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _) =
        PartitionLog::open(dir.path(), cfg(&[("max.message.bytes", "100")]), true, 0)
            .expect("open");
    let e = log
        .append(&make_batch(&[Some("a")], 500), 0)
        .expect_err("too large");
    assert_eq!(e.code, crate::error_code::MESSAGE_TOO_LARGE);
    let mut b = make_batch(&[Some("a")], 5);
    let n = b.len();
    b[n - 1] ^= 1;
    let e = log.append(&b, 0).expect_err("corrupt");
    assert_eq!(e.code, crate::error_code::CORRUPT_MESSAGE);
    assert!(e.message.contains("CRC"), "{}", e.message);
    assert_eq!(log.high_watermark(), 0, "nothing was written");
}

fn log_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    files.sort();
    files
}

fn file_len(p: &std::path::Path) -> u64 {
    std::fs::metadata(p).expect("metadata").len()
}

#[test]
fn the_active_segment_is_allocated_ahead_and_trimmed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = cfg(&[("segment.bytes", "4000")]);
    let (mut log, _) = PartitionLog::open(dir.path(), config.clone(), true, 0).expect("open");
    append_n(&mut log, 40, 2);
    let files = log_files(dir.path());
    assert!(files.len() > 2, "segments roll");
    let (active, rolled) = files.split_last().expect("segments");
    // Rolled segments end at their data; the active one has space ahead.
    let data: u64 = log.segments.values().map(|s| s.size).sum();
    let rolled_data: u64 = log.segments.values().rev().skip(1).map(|s| s.size).sum();
    assert_eq!(rolled.iter().map(|p| file_len(p)).sum::<u64>(), rolled_data);
    let active_size = data - rolled_data;
    assert!(
        file_len(active) > active_size,
        "allocated ahead: {} bytes on disk for {active_size} of data",
        file_len(active)
    );
    // A crash (no trim): reopening finds every record, reports nothing lost,
    // cuts off the unwritten space and appends after the last record.
    drop(log);
    let (mut log, notes) = PartitionLog::open(dir.path(), config, false, 0).expect("reopen");
    assert!(notes.truncated.is_empty() && notes.dropped_segments.is_empty());
    assert_eq!(file_len(active), active_size);
    assert_eq!(log.high_watermark(), 80);
    let a = log.append(&make_batch(&[Some("z")], 1), 0).expect("append");
    assert_eq!(a.base_offset, 80);
    assert!(file_len(active) > active_size + 1);
    // A clean shutdown trims too.
    log.sync_all().expect("sync");
    let size = log.segments.values().next_back().map_or(0, |s| s.size);
    assert!(size > active_size);
    assert_eq!(file_len(active), size);
}

#[test]
fn unwritten_space_in_a_rolled_segment_is_lost_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = cfg(&[("segment.bytes", "2000")]);
    {
        let (mut log, _) = PartitionLog::open(dir.path(), config.clone(), true, 0).expect("open");
        append_n(&mut log, 30, 2);
        log.sync_all().expect("sync");
    }
    let files = log_files(dir.path());
    assert!(files.len() > 2);
    // Zeros after the first segment's data: not the active segment's
    // allocation, so the log ends there, as after any damaged batch.
    let first = &files[0];
    let len = file_len(first);
    std::fs::OpenOptions::new()
        .write(true)
        .open(first)
        .expect("open")
        .set_len(len + 500)
        .expect("extend");
    let (log, notes) = PartitionLog::open(dir.path(), config, false, 0).expect("reopen");
    assert_eq!(notes.truncated, vec![(0, 500)]);
    assert_eq!(notes.dropped_segments.len(), files.len() - 1);
    assert!(log.high_watermark() < 60);
}

#[test]
fn damage_after_unwritten_space_is_reported_by_its_own_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let (mut log, _) = PartitionLog::open(dir.path(), cfg(&[]), true, 0).expect("open");
        append_n(&mut log, 5, 2);
    }
    let seg = log_files(dir.path()).pop().expect("segment");
    let allocated = file_len(&seg);
    std::fs::OpenOptions::new()
        .append(true)
        .open(&seg)
        .expect("open")
        .write_all(&[7u8; 99])
        .expect("write");
    let (log, notes) = PartitionLog::open(dir.path(), cfg(&[]), false, 0).expect("reopen");
    let size = log.segments.values().next_back().map_or(0, |s| s.size);
    assert!(allocated > size, "space was allocated ahead");
    assert_eq!(notes.truncated.len(), 1);
    assert_eq!(
        notes.truncated[0].1, 99,
        "only the damaged bytes are reported"
    );
    assert_eq!(log.high_watermark(), 10);
    assert_eq!(file_len(&seg), size);
}

#[test]
fn a_read_ends_at_the_last_whole_batch_that_fits_whatever_the_index_holds() {
    for interval in ["1", "300", "4096", "1000000"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut log, _) = PartitionLog::open(
            dir.path(),
            cfg(&[("index.interval.bytes", interval)]),
            true,
            1_700_000_000_000,
        )
        .expect("open");
        for i in 0..200 {
            append_n(&mut log, 1, 1 + i % 7);
        }
        assert_eq!(log.segment_count(), 1);
        let end = log.high_watermark();
        // Every batch of the file, read whole, as the reference.
        let all = log
            .plan_read(0, usize::MAX)
            .expect("plan")
            .execute()
            .expect("read");
        let batches = batch::split_batches(&all).expect("batches");
        for offset in (0..end).step_by(13) {
            for max_bytes in [1, 100, 700, 2_000, 9_999, usize::MAX] {
                let first = batches
                    .iter()
                    .position(|(_, h)| h.next_offset() > offset)
                    .expect("a batch holds the offset");
                let from = batches[first].0;
                let mut len = batches[first].1.size;
                for (_, h) in &batches[first + 1..] {
                    if len + h.size > max_bytes {
                        break;
                    }
                    len += h.size;
                }
                let got = log
                    .plan_read(offset, max_bytes)
                    .expect("plan")
                    .locate()
                    .expect("locate")
                    .expect("a range");
                assert_eq!(
                    (got.pos, got.len),
                    (from as u64, len),
                    "offset {offset}, max {max_bytes}, index interval {interval}"
                );
                assert_eq!(got.read().expect("read"), all[from..from + len]);
            }
        }
    }
}
