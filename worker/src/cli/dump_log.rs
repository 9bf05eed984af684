//! `weir dump-log --files ...`: kafka-dump-log.sh (DumpLogSegments) over a
//! partition directory's files, in Kafka's layout: a segment's batches (and
//! with `--deep-iteration` or `--print-data-log` its records), an offset or
//! time index's entries, and `__consumer_offsets` records decoded with
//! `--offsets-decoder`.

use std::path::Path;

use base64::Engine;
use bytes::Bytes;
use clap::Args;

use broker_core::group::records::{GroupValue, OffsetValue, RecordKey};
use broker_core::log::batch::{self, BatchHeader, LOG_OVERHEAD};

#[derive(Debug, Args)]
pub struct DumpLogArgs {
    /// Comma-separated `.log`, `.index` and `.timeindex` files.
    #[arg(long, value_delimiter = ',', required = true)]
    pub files: Vec<String>,
    /// Print each record's key and value (implies --deep-iteration).
    #[arg(long = "print-data-log")]
    pub print_data_log: bool,
    /// Print every record of each batch.
    #[arg(long = "deep-iteration")]
    pub deep_iteration: bool,
    /// Decode `__consumer_offsets` records (implies --print-data-log).
    #[arg(long = "offsets-decoder")]
    pub offsets_decoder: bool,
    /// Leave out each record's metadata, printing only key and value.
    #[arg(long = "skip-record-metadata")]
    pub skip_record_metadata: bool,
    /// Check the index's entries only.
    #[arg(long = "index-sanity-check")]
    pub index_sanity_check: bool,
    /// Check the index against the log without printing it.
    #[arg(long = "verify-index-only")]
    pub verify_index_only: bool,
    /// Read at most this many bytes of a log file.
    #[arg(long = "max-bytes", default_value_t = i32::MAX)]
    pub max_bytes: i32,
    /// Accepted: keys are printed as UTF-8 text (Kafka's StringDecoder).
    #[arg(long = "key-decoder-class")]
    pub key_decoder_class: Option<String>,
    /// Accepted: values are printed as UTF-8 text (Kafka's StringDecoder).
    #[arg(long = "value-decoder-class")]
    pub value_decoder_class: Option<String>,
}

/// The segment's base offset, from its 20-digit file name.
fn base_offset(path: &Path) -> i64 {
    path.file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn codec(attributes: i16) -> &'static str {
    match attributes & batch::ATTR_COMPRESSION_MASK {
        0 => "none",
        1 => "gzip",
        2 => "snappy",
        3 => "lz4",
        4 => "zstd",
        _ => "unknown",
    }
}

fn timestamp_type(attributes: i16) -> &'static str {
    if attributes & batch::ATTR_TIMESTAMP_TYPE != 0 {
        "LogAppendTime"
    } else {
        "CreateTime"
    }
}

/// Kafka's JSON of an `__consumer_offsets` key and value.
fn offsets_record(key: Option<&Bytes>, value: Option<&Bytes>) -> (String, String) {
    let Some(key) = key else {
        return ("".into(), "".into());
    };
    let Ok(k) = RecordKey::decode(key.clone()) else {
        return (
            format!("Unknown record type at key {}", hex(key)),
            String::new(),
        );
    };
    // The record's own key and value versions, as Kafka prints them.
    let version = |b: &Bytes| {
        b.get(..2)
            .map_or(-1, |v| i16::from_be_bytes([v[0], v[1]]))
            .to_string()
    };
    let key_type = version(key);
    let key_json = match &k {
        RecordKey::Offset {
            group,
            topic,
            partition,
        } => {
            serde_json::json!({"type": key_type, "data": {"group": group, "topic": topic, "partition": partition}})
        }
        RecordKey::Group(g) => serde_json::json!({"type": key_type, "data": {"group": g}}),
    };
    let value_json = match (value, &k) {
        (None, _) => "<DELETE>".to_string(),
        (Some(v), RecordKey::Offset { .. }) => match OffsetValue::decode(v.clone()) {
            Ok(o) => serde_json::json!({"version": version(v), "data": {
                "offset": o.offset, "leaderEpoch": o.leader_epoch,
                "metadata": o.metadata, "commitTimestamp": o.commit_timestamp}})
            .to_string(),
            Err(e) => e.to_string(),
        },
        (Some(v), RecordKey::Group(_)) => match GroupValue::decode(v.clone()) {
            Ok(g) => {
                let b64 = base64::engine::general_purpose::STANDARD;
                let members: Vec<serde_json::Value> = g
                    .members
                    .iter()
                    .map(|m| {
                        serde_json::json!({
                            "memberId": m.member_id, "groupInstanceId": m.instance_id,
                            "clientId": m.client_id, "clientHost": m.client_host,
                            "rebalanceTimeout": m.rebalance_timeout_ms,
                            "sessionTimeout": m.session_timeout_ms,
                            "subscription": b64.encode(&m.subscription),
                            "assignment": b64.encode(&m.assignment)})
                    })
                    .collect();
                serde_json::json!({"version": version(v), "data": {
                    "protocolType": g.protocol_type, "generation": g.generation,
                    "protocol": g.protocol, "leader": g.leader,
                    "currentStateTimestamp": g.state_timestamp, "members": members}})
                .to_string()
            }
            Err(e) => e.to_string(),
        },
    };
    (key_json.to_string(), value_json)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn text(b: &Bytes) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn dump_log(path: &Path, args: &DumpLogArgs) -> anyhow::Result<()> {
    let data = std::fs::read(path)?;
    let limit = (args.max_bytes.max(0) as usize).min(data.len());
    let deep = args.deep_iteration || args.print_data_log || args.offsets_decoder;
    let print = args.print_data_log || args.offsets_decoder;
    println!("Log starting offset: {}", base_offset(path));
    let mut pos = 0usize;
    while pos + LOG_OVERHEAD <= limit {
        let Ok(h) = BatchHeader::parse(&data[pos..limit], pos) else {
            break;
        };
        if pos + h.size > data.len() {
            break;
        }
        let raw = &data[pos..pos + h.size];
        let valid = batch::validate(raw, pos).is_ok();
        let leader_epoch = i32::from_be_bytes([raw[12], raw[13], raw[14], raw[15]]);
        // Bit 6 of the attributes: the base timestamp is a delete horizon.
        let horizon = if h.attributes & 0x40 != 0 {
            format!("OptionalLong[{}]", h.base_timestamp)
        } else {
            "OptionalLong.empty".to_string()
        };
        println!(
            "baseOffset: {} lastOffset: {} count: {} baseSequence: {} lastSequence: {} producerId: {} producerEpoch: {} partitionLeaderEpoch: {leader_epoch} isTransactional: {} isControl: {} deleteHorizonMs: {horizon} position: {pos} {}: {} size: {} magic: {} compresscodec: {} crc: {} isvalid: {valid}",
            h.base_offset,
            h.last_offset(),
            h.record_count,
            h.base_sequence,
            h.last_sequence(),
            h.producer_id,
            h.producer_epoch,
            h.is_transactional(),
            h.is_control(),
            timestamp_type(h.attributes),
            h.max_timestamp,
            h.size,
            h.magic,
            codec(h.attributes),
            h.crc,
        );
        if deep {
            let set = broker_core::log::decompress::decode_batch(raw, 64 << 20)
                .map_err(|e| anyhow::anyhow!("batch at position {pos}: {e}"))?;
            for r in &set.records {
                let mut line = String::from("|");
                if !args.skip_record_metadata {
                    let keys: Vec<String> = r.headers.keys().map(|k| k.to_string()).collect();
                    line.push_str(&format!(
                        " offset: {} {}: {} keySize: {} valueSize: {} sequence: {} headerKeys: [{}]",
                        r.offset,
                        timestamp_type(h.attributes),
                        r.timestamp,
                        r.key.as_ref().map_or(-1, |k| k.len() as i64),
                        r.value.as_ref().map_or(-1, |v| v.len() as i64),
                        // Records of a batch without a base sequence have none.
                        if h.base_sequence < 0 {
                            -1
                        } else {
                            r.sequence
                        },
                        keys.join(",")
                    ));
                }
                if print && !h.is_control() {
                    if args.offsets_decoder {
                        let (k, v) = offsets_record(r.key.as_ref(), r.value.as_ref());
                        line.push_str(&format!(" key: {k} payload: {v}"));
                    } else {
                        if let Some(k) = &r.key {
                            line.push_str(&format!(" key: {}", text(k)));
                        }
                        if let Some(v) = &r.value {
                            line.push_str(&format!(" payload: {}", text(v)));
                        }
                    }
                }
                println!("{line}");
            }
        }
        pos += h.size;
    }
    if pos < data.len() && limit == data.len() {
        println!(
            "Found {} invalid bytes at the end of {}",
            data.len() - pos,
            path.file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned())
        );
    }
    Ok(())
}

/// Entries of a sparse index: (relative offset or timestamp, value).
fn dump_index(path: &Path, time: bool, args: &DumpLogArgs) -> anyhow::Result<()> {
    let data = std::fs::read(path)?;
    let base = base_offset(path);
    let width = if time { 12 } else { 8 };
    let name = path.display();
    if data.len() < width {
        println!("{name} is empty.");
        return Ok(());
    }
    let mut last = i64::MIN;
    let mut sane = true;
    for (n, e) in data.chunks_exact(width).enumerate() {
        // A preallocated index ends at its first zero entry after the first.
        if n > 0 && e.iter().all(|b| *b == 0) {
            break;
        }
        let (line, key) = if time {
            let ts = i64::from_be_bytes(e[..8].try_into().unwrap_or([0; 8]));
            let rel = u32::from_be_bytes(e[8..12].try_into().unwrap_or([0; 4]));
            (format!("timestamp: {ts} offset: {}", base + rel as i64), ts)
        } else {
            let rel = u32::from_be_bytes(e[..4].try_into().unwrap_or([0; 4]));
            let position = u32::from_be_bytes(e[4..8].try_into().unwrap_or([0; 4]));
            (
                format!("offset: {} position: {position}", base + rel as i64),
                rel as i64,
            )
        };
        sane &= key >= last;
        last = key;
        if !(args.index_sanity_check || args.verify_index_only) {
            println!("{line}");
        }
    }
    if data.len() % width != 0 {
        sane = false;
    }
    if args.index_sanity_check || args.verify_index_only {
        if sane {
            println!("{name} passed sanity check.");
        } else {
            eprintln!("{name} failed sanity check: its entries are not in order or not whole");
        }
    }
    Ok(())
}

pub fn run(args: DumpLogArgs) -> anyhow::Result<()> {
    for f in &args.files {
        let path = Path::new(f);
        println!("Dumping {f}");
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let done = match ext {
            "log" => dump_log(path, &args),
            "index" => dump_index(path, false, &args),
            "timeindex" => dump_index(path, true, &args),
            _ => {
                eprintln!("Ignoring unknown file {f}");
                Ok(())
            }
        };
        done.map_err(|e| anyhow::anyhow!("{f}: {e}"))?;
    }
    Ok(())
}
