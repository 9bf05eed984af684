//! Record decoding with a cap on the decompressed size, so a small, highly
//! compressed batch cannot make the broker allocate without bound.

use std::io::Read;

use anyhow::{bail, Context};
use bytes::{Buf, Bytes};
use kafka_protocol::records::{Compression, RecordBatchDecoder, RecordSet};

/// The decompressed size the broker accepts for a batch whose topic allows
/// `max_message_bytes`: 64 times that, and at least 64 MiB.
pub fn limit_for(max_message_bytes: usize) -> usize {
    max_message_bytes.saturating_mul(64).max(64 << 20)
}

fn read_capped(mut r: impl Read, limit: usize, codec: &str) -> anyhow::Result<Bytes> {
    let mut out = Vec::new();
    r.by_ref()
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .with_context(|| format!("invalid {codec} data"))?;
    if out.len() > limit {
        bail!("{codec} batch expands beyond {limit} bytes");
    }
    Ok(Bytes::from(out))
}

/// Kafka's snappy framing (xerial): magic, version, compatible version.
const XERIAL_HEADER: &[u8; 16] = b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01";

fn snappy_capped(data: &mut Bytes, limit: usize) -> anyhow::Result<Bytes> {
    let mut blocks = Vec::new();
    if data.starts_with(&XERIAL_HEADER[..8]) {
        data.advance(XERIAL_HEADER.len().min(data.len()));
        while data.has_remaining() {
            let len = data
                .try_get_u32()
                .context("truncated snappy block length")? as usize;
            if data.remaining() < len {
                bail!("truncated snappy block");
            }
            blocks.push(data.split_to(len));
        }
    } else {
        blocks.push(data.split_to(data.len()));
    }
    let mut total = 0usize;
    for b in &blocks {
        total = total.saturating_add(snap::raw::decompress_len(b).context("invalid snappy block")?);
    }
    if total > limit {
        bail!("snappy batch expands beyond {limit} bytes");
    }
    let mut out = vec![0u8; total];
    let mut at = 0;
    let mut decoder = snap::raw::Decoder::new();
    for b in &blocks {
        at += decoder
            .decompress(b, &mut out[at..])
            .context("invalid snappy block")?;
    }
    out.truncate(at);
    Ok(Bytes::from(out))
}

fn decompress_capped(data: &mut Bytes, c: Compression, limit: usize) -> anyhow::Result<Bytes> {
    match c {
        Compression::None => Ok(data.split_to(data.len())),
        Compression::Gzip => read_capped(
            flate2::read::GzDecoder::new(data.clone().reader()),
            limit,
            "gzip",
        ),
        Compression::Zstd => read_capped(
            zstd::stream::read::Decoder::new(data.clone().reader())?,
            limit,
            "zstd",
        ),
        Compression::Lz4 => read_capped(lz4::Decoder::new(data.clone().reader())?, limit, "lz4"),
        Compression::Snappy => snappy_capped(data, limit),
    }
}

/// Decodes one complete batch, refusing to decompress beyond `limit` bytes.
pub fn decode_batch(batch: &[u8], limit: usize) -> anyhow::Result<RecordSet> {
    RecordBatchDecoder::decode_with_custom_compression(
        &mut Bytes::copy_from_slice(batch),
        Some(|data: &mut Bytes, c: Compression| decompress_capped(data, c, limit)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(compression: Compression, value_len: usize) -> Vec<u8> {
        let record = (
            Some(Bytes::from_static(b"k")),
            Some(Bytes::from(vec![b'z'; value_len])),
        );
        crate::log::batch::encode_batch(&[record], compression, 0, 0).expect("encodes")
    }

    #[test]
    fn every_codec_decodes_under_the_limit_and_stops_above_it() {
        for c in [
            Compression::None,
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let b = batch(c, 100_000);
            let set = decode_batch(&b, 1 << 20).expect("decodes");
            assert_eq!(
                set.records[0].value.as_ref().map(|v| v.len()),
                Some(100_000),
                "{c:?}"
            );
            if c != Compression::None {
                let err = decode_batch(&b, 10_000).expect_err("over the limit");
                assert!(err.to_string().contains("beyond"), "{c:?}: {err}");
            }
        }
    }
}
