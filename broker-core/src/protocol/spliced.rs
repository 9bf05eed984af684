//! Responses whose record fields are read from segment files straight into
//! the response buffer while it is encoded: one buffer per response and one
//! copy of the data (page cache to buffer), where reading the records first
//! and encoding them after would take a second buffer and a second copy.
//!
//! A field to fill is given to the codec as a stand-in: a `Bytes` of the
//! records' length that points into a zeroed static. The codec writes a
//! bytes field with one `put_slice` of exactly that slice, and the buffer
//! below recognises it by its address, reads the next file range in its
//! place and never reads the stand-in itself.

use std::io;
use std::os::unix::fs::FileExt;

use bytes::buf::UninitSlice;
use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::ResponseHeader;
use kafka_protocol::protocol::buf::ByteBufMut;
use kafka_protocol::protocol::{Encodable, HeaderVersion};

use crate::log::FileRange;

/// The longest records field that is read at encode time; longer ones (a
/// client asking for more than this per partition) are read beforehand.
pub const STAND_IN_MAX: usize = 16 << 20;

/// Zero-initialised, so it costs address space only: nothing reads it.
static STAND_IN: [u8; STAND_IN_MAX] = [0; STAND_IN_MAX];

/// A stand-in for `len` bytes of records, or `None` when `len` is 0 or
/// longer than [`STAND_IN_MAX`].
pub fn stand_in(len: usize) -> Option<Bytes> {
    (len > 0 && len <= STAND_IN_MAX).then(|| Bytes::from_static(&STAND_IN[..len]))
}

/// Whether `b` is a stand-in made by [`stand_in`].
pub fn is_stand_in(b: &[u8]) -> bool {
    !b.is_empty() && std::ptr::eq(b.as_ptr(), STAND_IN.as_ptr())
}

/// The encode buffer: everything is appended to `out`, except stand-ins,
/// whose place is filled from the next of `ranges`.
struct Spliced<'a> {
    out: BytesMut,
    ranges: &'a [FileRange],
    next: usize,
    /// The stand-ins (by order) whose range could not be read.
    failed: Vec<(usize, io::Error)>,
}

impl Spliced<'_> {
    fn splice(&mut self, len: usize) {
        let i = self.next;
        self.next += 1;
        let at = self.out.len();
        self.out.resize(at + len, 0);
        let read = match self.ranges.get(i) {
            Some(r) if r.len == len => r.file.read_exact_at(&mut self.out[at..], r.pos),
            _ => Err(io::Error::other(
                "a records stand-in has no file range of its length",
            )),
        };
        if let Err(e) = read {
            self.failed.push((i, e));
        }
    }
}

// SAFETY: every method forwards to the `BytesMut`, which upholds the
// contract; `put_slice` only decides what to append.
#[allow(unsafe_code)]
unsafe impl BufMut for Spliced<'_> {
    fn remaining_mut(&self) -> usize {
        self.out.remaining_mut()
    }

    unsafe fn advance_mut(&mut self, cnt: usize) {
        // SAFETY: the caller initialised `cnt` bytes of `chunk_mut`, which
        // is the `BytesMut`'s own chunk.
        unsafe { self.out.advance_mut(cnt) }
    }

    fn chunk_mut(&mut self) -> &mut UninitSlice {
        self.out.chunk_mut()
    }

    fn put_slice(&mut self, src: &[u8]) {
        if is_stand_in(src) {
            self.splice(src.len());
        } else {
            self.out.extend_from_slice(src);
        }
    }
}

impl ByteBufMut for Spliced<'_> {
    fn offset(&self) -> usize {
        self.out.len()
    }

    fn seek(&mut self, offset: usize) {
        self.out.resize(offset, 0);
    }

    fn range(&mut self, r: std::ops::Range<usize>) -> &mut [u8] {
        &mut self.out[r]
    }
}

/// A response frame (size prefix, header, body) whose stand-ins, in the
/// order the body holds them, are filled from `ranges`. Also returns the
/// stand-ins whose range could not be read (their bytes are zeros): the
/// caller must not send such a frame.
pub fn encode<R: Encodable + HeaderVersion>(
    correlation_id: i32,
    version: i16,
    body: &R,
    ranges: &[FileRange],
) -> anyhow::Result<(Bytes, Vec<(usize, io::Error)>)> {
    let header_version = R::header_version(version);
    let header = ResponseHeader::default().with_correlation_id(correlation_id);
    let size = header.compute_size(header_version)? + body.compute_size(version)?;
    let mut buf = Spliced {
        out: BytesMut::with_capacity(4 + size),
        ranges,
        next: 0,
        failed: Vec::new(),
    };
    buf.put_i32(size as i32);
    header.encode(&mut buf, header_version)?;
    body.encode(&mut buf, version)?;
    if buf.next != ranges.len() {
        anyhow::bail!(
            "{} file ranges for {} records stand-ins",
            ranges.len(),
            buf.next
        );
    }
    Ok((buf.out.freeze(), buf.failed))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Arc;

    use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
    use kafka_protocol::messages::{FetchResponse, TopicName};
    use kafka_protocol::protocol::StrBytes;

    use super::*;
    use crate::protocol::encode_response;

    fn file_with(data: &[u8]) -> Arc<std::fs::File> {
        let mut f = tempfile::tempfile().expect("tempfile");
        f.write_all(data).expect("write");
        Arc::new(f)
    }

    fn response(records: Vec<Option<Bytes>>) -> FetchResponse {
        let partitions = records
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                PartitionData::default()
                    .with_partition_index(i as i32)
                    .with_high_watermark(1000 + i as i64)
                    .with_records(r)
            })
            .collect();
        FetchResponse::default().with_responses(vec![FetchableTopicResponse::default()
            .with_topic(TopicName(StrBytes::from_static_str("t")))
            .with_partitions(partitions)])
    }

    #[test]
    fn frames_equal_those_of_records_read_first_in_every_fetch_version() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let file = file_with(&data);
        let ranges = vec![
            FileRange {
                file: file.clone(),
                pos: 10,
                len: 200_000,
            },
            FileRange {
                file,
                pos: 299_990,
                len: 10,
            },
        ];
        let inline = Bytes::from_static(b"inline bytes");
        let spliced = response(vec![
            stand_in(200_000),
            Some(inline.clone()),
            None,
            Some(Bytes::new()),
            stand_in(10),
        ]);
        let read_first = response(vec![
            Some(Bytes::copy_from_slice(&data[10..200_010])),
            Some(inline),
            None,
            Some(Bytes::new()),
            Some(Bytes::copy_from_slice(&data[299_990..])),
        ]);
        for version in 4..=17 {
            let (frame, failed) = encode(7, version, &spliced, &ranges).expect("encode");
            assert!(failed.is_empty());
            let expected = encode_response(7, version, &read_first).expect("encode");
            assert_eq!(frame, expected, "Fetch v{version}");
        }
    }

    #[test]
    fn an_unreadable_range_is_reported_by_its_place() {
        let file = file_with(b"short");
        let ranges = vec![
            FileRange {
                file: file.clone(),
                pos: 0,
                len: 5,
            },
            FileRange {
                file,
                pos: 3,
                len: 100,
            },
        ];
        let resp = response(vec![stand_in(5), stand_in(100)]);
        let (_, failed) = encode(1, 12, &resp, &ranges).expect("encode");
        assert_eq!(failed.iter().map(|(i, _)| *i).collect::<Vec<_>>(), vec![1]);
        assert!(
            encode(1, 12, &resp, &ranges[..1]).is_err(),
            "a stand-in without a range"
        );
        assert!(stand_in(0).is_none() && stand_in(STAND_IN_MAX + 1).is_none());
    }
}
