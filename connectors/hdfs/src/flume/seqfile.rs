//! Hadoop SequenceFiles (version 6, uncompressed) as Flume's HDFS sink
//! writes them by default: a `LongWritable` key (the event's timestamp)
//! and a `BytesWritable` (or, with `hdfs.writeFormat = Text`, a `Text`)
//! value holding the body; a sync marker at least every 2000 bytes.

use std::io::{self, Write};

const SYNC_ESCAPE: i32 = -1;
const SYNC_INTERVAL: u64 = 100 * 20;

/// Hadoop's `WritableUtils.writeVLong`.
pub fn vlong(out: &mut Vec<u8>, mut i: i64) {
    if (-112..=127).contains(&i) {
        out.push(i as u8);
        return;
    }
    let mut len: i32 = -112;
    if i < 0 {
        i ^= -1;
        len = -120;
    }
    let mut tmp = i;
    while tmp != 0 {
        tmp >>= 8;
        len -= 1;
    }
    out.push(len as u8);
    let n = if len < -120 {
        -(len + 120)
    } else {
        -(len + 112)
    };
    for idx in (1..=n).rev() {
        out.push((i >> ((idx - 1) * 8)) as u8);
    }
}

/// Hadoop's `Text.writeString`: a vint length and the UTF-8 bytes.
fn text(out: &mut Vec<u8>, s: &[u8]) {
    vlong(out, s.len() as i64);
    out.extend_from_slice(s);
}

pub struct SeqWriter<W: Write> {
    out: W,
    sync: [u8; 16],
    pos: u64,
    last_sync: u64,
    text_values: bool,
    record: Vec<u8>,
}

impl<W: Write> SeqWriter<W> {
    pub fn new(mut out: W, text_values: bool) -> io::Result<Self> {
        let mut header = b"SEQ\x06".to_vec();
        text(&mut header, b"org.apache.hadoop.io.LongWritable");
        let value_class: &[u8] = if text_values {
            b"org.apache.hadoop.io.Text"
        } else {
            b"org.apache.hadoop.io.BytesWritable"
        };
        text(&mut header, value_class);
        header.extend_from_slice(&[0, 0]); // not compressed, not block-compressed
        header.extend_from_slice(&0i32.to_be_bytes()); // no metadata
        let sync = *uuid::Uuid::new_v4().as_bytes();
        header.extend_from_slice(&sync);
        out.write_all(&header)?;
        Ok(Self {
            out,
            sync,
            pos: header.len() as u64,
            last_sync: 0,
            text_values,
            record: Vec::new(),
        })
    }

    pub fn append(&mut self, key: i64, body: &[u8]) -> io::Result<()> {
        if self.pos >= self.last_sync + SYNC_INTERVAL {
            self.out.write_all(&SYNC_ESCAPE.to_be_bytes())?;
            self.out.write_all(&self.sync)?;
            self.pos += 20;
            self.last_sync = self.pos;
        }
        self.record.clear();
        let mut value = Vec::with_capacity(body.len() + 5);
        if self.text_values {
            text(&mut value, body);
        } else {
            value.extend_from_slice(&(body.len() as i32).to_be_bytes());
            value.extend_from_slice(body);
        }
        self.record
            .extend_from_slice(&((8 + value.len()) as i32).to_be_bytes());
        self.record.extend_from_slice(&8i32.to_be_bytes());
        self.record.extend_from_slice(&key.to_be_bytes());
        self.record.extend_from_slice(&value);
        self.out.write_all(&self.record)?;
        self.pos += self.record.len() as u64;
        Ok(())
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vints_as_hadoop_writes_them() {
        let enc = |i| {
            let mut v = Vec::new();
            vlong(&mut v, i);
            v
        };
        assert_eq!(enc(0), vec![0]);
        assert_eq!(enc(127), vec![127]);
        assert_eq!(enc(-112), vec![0x90]);
        assert_eq!(enc(128), vec![0x8f, 0x80]);
        assert_eq!(enc(300), vec![0x8e, 0x01, 0x2c]);
        assert_eq!(enc(-113), vec![0x87, 0x70]);
    }

    /// Reads the file back the way Hadoop's reader walks it.
    #[test]
    fn records_and_sync_markers_read_back() {
        let mut w = SeqWriter::new(Vec::new(), false).expect("header");
        for i in 0..500i64 {
            w.append(i, format!("event {i}").as_bytes())
                .expect("append");
        }
        let sync = w.sync;
        let bytes = w.into_inner();
        assert_eq!(&bytes[..4], b"SEQ\x06");
        let mut at = 4 + 1 + 33 + 1 + 34 + 2 + 4;
        assert_eq!(&bytes[at..at + 16], &sync);
        at += 16;
        let int =
            |b: &[u8], at: usize| i32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        let (mut n, mut syncs) = (0i64, 0);
        while at < bytes.len() {
            let len = int(&bytes, at);
            if len == -1 {
                assert_eq!(&bytes[at + 4..at + 20], &sync);
                at += 20;
                syncs += 1;
                continue;
            }
            assert_eq!(int(&bytes, at + 4), 8);
            let key = i64::from_be_bytes(bytes[at + 8..at + 16].try_into().expect("8 bytes"));
            assert_eq!(key, n);
            let vlen = int(&bytes, at + 16) as usize;
            assert_eq!(
                &bytes[at + 20..at + 20 + vlen],
                format!("event {n}").as_bytes()
            );
            at += 8 + len as usize;
            n += 1;
        }
        assert_eq!(n, 500);
        assert!(syncs >= 5, "{syncs} sync markers");
    }
}
