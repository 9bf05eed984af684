//! The HDFS source reading back what the sink wrote, in every format, in
//! offset order per topic partition; a restart resumes after the last
//! committed record; tasks share the partitions.

use std::collections::BTreeMap;
use std::sync::Arc;

use connect_api::record::{SourceOffset, SourcePartition};
use connect_api::{
    OffsetReader, Schema, SchemaAndValue, SinkRecord, SinkTask, SourceRecord, SourceTask,
    SourceTaskContext, Struct, Type, Value,
};
use connector_hdfs::HdfsSourceTask;
use parking_lot::Mutex;

mod common;
use common::*;

#[derive(Default)]
struct Offsets(Mutex<Vec<(SourcePartition, SourceOffset)>>);

impl OffsetReader for Offsets {
    fn offset(&self, partition: &SourcePartition) -> Option<SourceOffset> {
        self.0
            .lock()
            .iter()
            .rev()
            .find(|(p, _)| p == partition)
            .map(|(_, o)| o.clone())
    }
}

async fn source(
    root: &std::path::Path,
    format: &str,
    offsets: Arc<Offsets>,
    index: usize,
    count: usize,
) -> HdfsSourceTask {
    let props: BTreeMap<String, String> = [
        ("store.url", format!("file://{}", root.display())),
        ("format.class", format.to_string()),
        ("hdfs.poll.interval.ms", "100".to_string()),
        ("record.batch.max.size", "4".to_string()),
        ("weir.hdfs.task.index", index.to_string()),
        ("weir.hdfs.task.count", count.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let mut t = HdfsSourceTask::default();
    t.start(
        &props,
        SourceTaskContext {
            configs: props.clone(),
            offsets,
        },
    )
    .await
    .expect("source starts");
    t
}

/// Polls until `n` records came or three empty polls in a row.
async fn drain(t: &mut HdfsSourceTask, n: usize) -> Vec<SourceRecord> {
    let mut out = Vec::new();
    let mut empty = 0;
    while out.len() < n && empty < 3 {
        let batch = t.poll().await.expect("poll");
        empty = if batch.is_empty() { empty + 1 } else { 0 };
        out.extend(batch);
    }
    out
}

/// Records with every value decoded, as transforms and converters see them.
fn decoded(mut records: Vec<SourceRecord>) -> Vec<SourceRecord> {
    records.iter_mut().for_each(SourceRecord::decode_text);
    records
}

fn row_schema() -> Arc<Schema> {
    let mut s = Schema::new(Type::Struct);
    s.name = Some("com.example.Row".into());
    s.version = Some(1);
    let mut note = Schema::new(Type::String);
    note.optional = true;
    s.fields = vec![
        connect_api::Field {
            name: "id".into(),
            index: 0,
            schema: Arc::new(Schema::new(Type::Int64)),
        },
        connect_api::Field {
            name: "note".into(),
            index: 1,
            schema: Arc::new(note),
        },
    ];
    Arc::new(s)
}

/// A row of `row_schema`, its note null for every third.
fn row(schema: &Arc<Schema>, i: i64) -> SchemaAndValue {
    let note = if i % 3 == 0 {
        Value::Null
    } else {
        Value::String(format!("n{i}"))
    };
    let s = Struct::new(schema.clone())
        .with("id", Value::Int64(i))
        .and_then(|s| s.with("note", note))
        .expect("struct");
    SchemaAndValue::new(Some(schema.clone()), Value::Struct(s))
}

/// The value of the record at an index.
type ValueOf = Box<dyn Fn(i64) -> SchemaAndValue>;

#[tokio::test]
async fn every_format_reads_back_in_offset_order() {
    let schema = row_schema();
    let cases: Vec<(&str, ValueOf)> = vec![
        (
            "io.confluent.connect.hdfs3.json.JsonFormat",
            Box::new(|i| {
                SchemaAndValue::new(
                    None,
                    map(&[
                        ("id", Value::Int64(i)),
                        ("note", Value::String(format!("n{i}"))),
                    ]),
                )
            }),
        ),
        (
            "io.confluent.connect.hdfs3.string.StringFormat",
            Box::new(|i| SchemaAndValue::new(None, Value::String(format!("line {i}")))),
        ),
        (
            "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
            Box::new(|i| SchemaAndValue::new(None, Value::Bytes(vec![b'b', b'A' + i as u8]))),
        ),
        ("io.confluent.connect.hdfs3.avro.AvroFormat", {
            let schema = schema.clone();
            Box::new(move |i| row(&schema, i))
        }),
        (
            "io.confluent.connect.hdfs3.parquet.ParquetFormat",
            Box::new(move |i| row(&schema, i)),
        ),
    ];
    for (format, value) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut sink, _) =
            task(dir.path(), &[("format.class", format), ("flush.size", "5")]).await;
        sink.open(&[tp(0), tp(1)]).await.expect("open");
        let mut records: Vec<SinkRecord> = Vec::new();
        for i in 0..20 {
            let mut r = rec((i % 2) as i32, i / 2, 0, Value::Null);
            r.value = value(i);
            records.push(r);
        }
        sink.put(&records).await.expect("put");
        let offsets = Arc::new(Offsets::default());
        let mut t = source(dir.path(), format, offsets.clone(), 0, 1).await;
        let got = drain(&mut t, 20).await;
        assert_eq!(got.len(), 20, "{format}");
        // JSON lines in JsonConverter's form are handed over as they are.
        let as_text = got.iter().filter(|r| r.value_text.is_some()).count();
        let json = format.contains("JsonFormat");
        assert_eq!(as_text, if json { 20 } else { 0 }, "{format}");
        let got = decoded(got);
        for p in 0..2 {
            let vals: Vec<&Value> = got
                .iter()
                .filter(|r| r.partition == Some(p))
                .map(|r| &r.value.value)
                .collect();
            let want: Vec<Value> = records
                .iter()
                .filter(|r| r.partition == p)
                .map(|r| r.value.value.clone())
                .collect();
            let want_ref: Vec<&Value> = want.iter().collect();
            if format.contains("Avro") || format.contains("Parquet") {
                // Structs come back with the schema AvroData reads.
                let ids: Vec<Value> = vals
                    .iter()
                    .map(|v| match v {
                        Value::Struct(s) => s.get("id").cloned().unwrap_or(Value::Null),
                        other => (*other).clone(),
                    })
                    .collect();
                let want_ids: Vec<Value> = (0..10)
                    .map(|i| Value::Int64(i * 2 + i64::from(p)))
                    .collect();
                assert_eq!(ids, want_ids, "{format} partition {p}");
                let Value::Struct(first) = vals[0] else {
                    panic!("a struct")
                };
                assert_eq!(first.schema.name.as_deref(), Some("com.example.Row"));
                let note = if p == 0 {
                    Value::Null
                } else {
                    Value::String("n1".into())
                };
                assert_eq!(
                    first.get("note"),
                    Some(&note),
                    "an optional field, null or not"
                );
            } else {
                assert_eq!(vals, want_ref, "{format} partition {p}");
            }
            assert!(got.iter().all(|r| &*r.topic == "t"));
        }
        // A restart after the last record of partition 0 that carries an
        // offset (the end of a run) within its first 7 resumes after it.
        let p0: Vec<&SourceRecord> = got.iter().filter(|r| r.partition == Some(0)).collect();
        let (k, _) = p0
            .iter()
            .take(7)
            .enumerate()
            .rfind(|(_, r)| r.source_offset.is_some())
            .expect("a record with an offset");
        let again = restart_after(dir.path(), format, &offsets, &p0, k).await;
        assert_eq!(
            again.iter().filter(|r| r.partition == Some(1)).count(),
            10,
            "{format}"
        );
        // A restart in the middle of a file (the first run ended short of
        // its file's last record) resumes at that file's next record.
        let (k, _) = p0
            .iter()
            .enumerate()
            .find(|(_, r)| {
                r.source_offset
                    .as_ref()
                    .is_some_and(|o| o.get("eof").and_then(|e| e.as_bool()) == Some(false))
            })
            .expect("a run that ends within a file");
        restart_after(dir.path(), format, &offsets, &p0, k).await;
    }
}

/// Restarts the source with partition 0 committed at its record `k` (of
/// the 20 records of two partitions) and requires that partition's records
/// after `k` back in order; returns what the restarted source read.
async fn restart_after(
    root: &std::path::Path,
    format: &str,
    offsets: &Arc<Offsets>,
    p0: &[&SourceRecord],
    k: usize,
) -> Vec<SourceRecord> {
    let at = p0[k];
    offsets.0.lock().push((
        (*at.source_partition).clone(),
        at.source_offset.clone().expect("offset"),
    ));
    let mut t = source(root, format, offsets.clone(), 0, 1).await;
    let again = decoded(drain(&mut t, 20 - k - 1).await);
    let resumed: Vec<&Value> = again
        .iter()
        .filter(|r| r.partition == Some(0))
        .map(|r| &r.value.value)
        .collect();
    let rest: Vec<&Value> = p0[k + 1..].iter().map(|r| &r.value.value).collect();
    assert_eq!(resumed, rest, "{format}: resumed after record {k}");
    again
}

#[tokio::test]
async fn tasks_share_the_partitions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut sink, _) = task(dir.path(), &[("flush.size", "1")]).await;
    let parts: Vec<_> = (0..8).map(tp).collect();
    sink.open(&parts).await.expect("open");
    let records: Vec<SinkRecord> = (0..8)
        .map(|p| rec(p, 0, 0, map(&[("p", Value::Int32(p))])))
        .collect();
    sink.put(&records).await.expect("put");
    let mut seen = Vec::new();
    for i in 0..3 {
        let mut t = source(dir.path(), "JsonFormat", Arc::new(Offsets::default()), i, 3).await;
        seen.extend(
            drain(&mut t, 8)
                .await
                .into_iter()
                .filter_map(|r| r.partition),
        );
    }
    seen.sort();
    assert_eq!(
        seen,
        (0..8).collect::<Vec<i32>>(),
        "each partition read by exactly one task"
    );
}
