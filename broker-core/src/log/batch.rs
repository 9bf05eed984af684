//! Record batch v2 headers: parsing, validation and the few in-place rewrites
//! the broker makes (base offset, leader epoch, log-append time).
//!
//! Layout (big-endian): baseOffset i64 | batchLength i32 | partitionLeaderEpoch i32 |
//! magic i8 | crc u32 | attributes i16 | lastOffsetDelta i32 | baseTimestamp i64 |
//! maxTimestamp i64 | producerId i64 | producerEpoch i16 | baseSequence i32 |
//! recordCount i32 | records. The CRC-32C covers attributes..end.

use bytes::{Bytes, BytesMut};
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

/// Size of the fixed batch header.
pub const HEADER_LEN: usize = 61;
/// Bytes before the length-covered part (baseOffset + batchLength).
pub const LOG_OVERHEAD: usize = 12;
const CRC_OFFSET: usize = 17;
const ATTR_OFFSET: usize = 21;

pub const ATTR_COMPRESSION_MASK: i16 = 0x07;
pub const ATTR_TIMESTAMP_TYPE: i16 = 0x08;
pub const ATTR_TRANSACTIONAL: i16 = 0x10;
pub const ATTR_CONTROL: i16 = 0x20;

/// The parsed fixed header of one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    pub base_offset: i64,
    /// Total bytes of the batch including the 12-byte log overhead.
    pub size: usize,
    pub magic: i8,
    pub crc: u32,
    pub attributes: i16,
    pub last_offset_delta: i32,
    pub base_timestamp: i64,
    pub max_timestamp: i64,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub record_count: i32,
}

/// Why a batch was rejected, with the byte position inside the buffer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("truncated batch at byte {pos}: {have} bytes left, need {need}")]
    Truncated {
        pos: usize,
        have: usize,
        need: usize,
    },
    #[error("batch at byte {pos} has invalid length {len}")]
    BadLength { pos: usize, len: i32 },
    #[error(
        "batch at byte {pos} has unsupported magic {magic} (only v2 record batches are stored)"
    )]
    BadMagic { pos: usize, magic: i8 },
    #[error("batch at byte {pos} fails its CRC-32C check (stored {stored:#010x}, computed {computed:#010x})")]
    BadCrc {
        pos: usize,
        stored: u32,
        computed: u32,
    },
    #[error(
        "batch at byte {pos} has an inconsistent record count {count} / last offset delta {delta}"
    )]
    BadCount { pos: usize, count: i32, delta: i32 },
}

fn be_i64(b: &[u8], at: usize) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    i64::from_be_bytes(a)
}
fn be_i32(b: &[u8], at: usize) -> i32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    i32::from_be_bytes(a)
}
fn be_i16(b: &[u8], at: usize) -> i16 {
    i16::from_be_bytes([b[at], b[at + 1]])
}

impl BatchHeader {
    /// Parses the header at the start of `buf` (which must hold `HEADER_LEN` bytes),
    /// checking length and magic but not the CRC. `pos` is only used in errors.
    pub fn parse(buf: &[u8], pos: usize) -> Result<Self, BatchError> {
        if buf.len() < HEADER_LEN {
            return Err(BatchError::Truncated {
                pos,
                have: buf.len(),
                need: HEADER_LEN,
            });
        }
        let len = be_i32(buf, 8);
        if len < (HEADER_LEN - LOG_OVERHEAD) as i32 {
            return Err(BatchError::BadLength { pos, len });
        }
        let magic = buf[16] as i8;
        if magic != 2 {
            return Err(BatchError::BadMagic { pos, magic });
        }
        let h = Self {
            base_offset: be_i64(buf, 0),
            size: len as usize + LOG_OVERHEAD,
            magic,
            crc: u32::from_be_bytes([buf[17], buf[18], buf[19], buf[20]]),
            attributes: be_i16(buf, 21),
            last_offset_delta: be_i32(buf, 23),
            base_timestamp: be_i64(buf, 27),
            max_timestamp: be_i64(buf, 35),
            producer_id: be_i64(buf, 43),
            producer_epoch: be_i16(buf, 51),
            base_sequence: be_i32(buf, 53),
            record_count: be_i32(buf, 57),
        };
        if h.last_offset_delta < 0 || h.record_count < 0 {
            return Err(BatchError::BadCount {
                pos,
                count: h.record_count,
                delta: h.last_offset_delta,
            });
        }
        Ok(h)
    }

    pub fn last_offset(&self) -> i64 {
        self.base_offset + self.last_offset_delta as i64
    }
    pub fn next_offset(&self) -> i64 {
        self.last_offset() + 1
    }
    pub fn is_control(&self) -> bool {
        self.attributes & ATTR_CONTROL != 0
    }
    pub fn is_transactional(&self) -> bool {
        self.attributes & ATTR_TRANSACTIONAL != 0
    }
    pub fn compression(&self) -> i16 {
        self.attributes & ATTR_COMPRESSION_MASK
    }
    pub fn last_sequence(&self) -> i32 {
        if self.base_sequence < 0 {
            return -1;
        }
        // Sequences wrap at i32::MAX.
        ((self.base_sequence as i64 + self.last_offset_delta as i64) % (i32::MAX as i64 + 1)) as i32
    }
}

/// Computes the CRC-32C of a complete batch.
pub fn compute_crc(batch: &[u8]) -> u32 {
    crc32c::crc32c(&batch[ATTR_OFFSET..])
}

/// Parses and CRC-checks one complete batch at the start of `buf`.
pub fn validate(buf: &[u8], pos: usize) -> Result<BatchHeader, BatchError> {
    let h = BatchHeader::parse(buf, pos)?;
    if buf.len() < h.size {
        return Err(BatchError::Truncated {
            pos,
            have: buf.len(),
            need: h.size,
        });
    }
    let computed = compute_crc(&buf[..h.size]);
    if computed != h.crc {
        return Err(BatchError::BadCrc {
            pos,
            stored: h.crc,
            computed,
        });
    }
    Ok(h)
}

/// Splits a produce payload into validated batches.
pub fn split_batches(buf: &[u8]) -> Result<Vec<(usize, BatchHeader)>, BatchError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let h = validate(&buf[pos..], pos)?;
        out.push((pos, h));
        pos += h.size;
    }
    Ok(out)
}

/// Rewrites the base offset and partition leader epoch (neither is CRC-covered).
pub fn assign_offset(batch: &mut [u8], base_offset: i64) {
    batch[0..8].copy_from_slice(&base_offset.to_be_bytes());
    batch[12..16].copy_from_slice(&0i32.to_be_bytes());
}

/// Marks the batch as LogAppendTime with `now_ms` and recomputes the CRC.
pub fn set_log_append_time(batch: &mut [u8], now_ms: i64) {
    let attrs = be_i16(batch, ATTR_OFFSET) | ATTR_TIMESTAMP_TYPE;
    batch[ATTR_OFFSET..ATTR_OFFSET + 2].copy_from_slice(&attrs.to_be_bytes());
    batch[35..43].copy_from_slice(&now_ms.to_be_bytes());
    let crc = compute_crc(batch);
    batch[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
}

/// Encodes one non-idempotent batch of (key, value) records with offsets from
/// 0 and timestamps `first_ts`, `first_ts + step`, ...
pub fn encode_batch(
    records: &[(Option<Bytes>, Option<Bytes>)],
    compression: Compression,
    first_ts: i64,
    step: i64,
) -> Result<Vec<u8>, String> {
    let recs: Vec<Record> = records
        .iter()
        .enumerate()
        .map(|(i, (k, v))| Record {
            transactional: false,
            control: false,
            partition_leader_epoch: 0,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            // The encoder starts a new batch whenever offset - sequence changes.
            sequence: i as i32,
            timestamp: first_ts + step * i as i64,
            key: k.clone(),
            value: v.clone(),
            headers: Default::default(),
            delete_horizon: false,
        })
        .collect();
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut buf,
        &recs,
        &RecordEncodeOptions {
            version: 2,
            compression,
        },
    )
    .map_err(|e| e.to_string())?;
    Ok(buf.to_vec())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Encodes small records into one batch, for tests across the crate.
    pub(crate) fn make_batch(keys: &[Option<&str>], value_len: usize) -> Vec<u8> {
        let records: Vec<(Option<Bytes>, Option<Bytes>)> = keys
            .iter()
            .map(|k| {
                (
                    k.map(|s| Bytes::copy_from_slice(s.as_bytes())),
                    Some(Bytes::from(vec![b'v'; value_len])),
                )
            })
            .collect();
        encode_batch(&records, Compression::None, 1_700_000_000_000, 1).expect("encodes")
    }

    #[test]
    fn parse_validate_and_rewrite() {
        let mut b = make_batch(&[Some("a"), None, Some("c")], 10);
        let h = validate(&b, 0).expect("valid");
        assert_eq!(h.record_count, 3);
        assert_eq!(h.last_offset_delta, 2);
        assert_eq!(h.size, b.len());
        assign_offset(&mut b, 42);
        let h = validate(&b, 0).expect("offset is not CRC-covered");
        assert_eq!((h.base_offset, h.last_offset()), (42, 44));
        set_log_append_time(&mut b, 5);
        let h = validate(&b, 0).expect("CRC recomputed");
        assert_eq!(h.max_timestamp, 5);
        assert!(h.attributes & ATTR_TIMESTAMP_TYPE != 0);
    }

    #[test]
    fn corruption_is_detected_with_position() {
        let mut b = make_batch(&[Some("a")], 10);
        let last = b.len() - 1;
        b[last] ^= 0xff;
        assert!(matches!(
            validate(&b, 7),
            Err(BatchError::BadCrc { pos: 7, .. })
        ));
        let two = [make_batch(&[Some("a")], 3), make_batch(&[Some("b")], 3)].concat();
        assert_eq!(split_batches(&two).expect("valid").len(), 2);
        assert!(matches!(
            split_batches(&two[..two.len() - 1]),
            Err(BatchError::Truncated { .. })
        ));
    }
}
