//! The HDFS sink task on a `file://` store: layout and names, partitioners,
//! rotation, schema changes, recovery of a half-done commit, and a store
//! that fails and comes back.

use std::collections::BTreeMap;
use std::sync::Arc;

use connect_api::{SchemaAndValue, SinkRecord, SinkTask, Value};

mod common;
use common::*;

#[tokio::test]
async fn json_files_by_flush_size_and_recovery_from_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut t, _) = task(dir.path(), &[]).await;
    t.open(&[tp(0)]).await.expect("open");
    let records: Vec<SinkRecord> = (0..7)
        .map(|i| {
            rec(
                0,
                i,
                0,
                map(&[
                    ("id", Value::Int64(i)),
                    ("name", Value::String(format!("n{i}"))),
                ]),
            )
        })
        .collect();
    t.put(&records).await.expect("put");
    assert_eq!(
        committed(dir.path()),
        [
            "topics/t/partition=0/t+0+0000000000+0000000002.json",
            "topics/t/partition=0/t+0+0000000003+0000000005.json"
        ]
    );
    let text = std::fs::read_to_string(
        dir.path()
            .join("topics/t/partition=0/t+0+0000000003+0000000005.json"),
    )
    .expect("file");
    assert_eq!(
        text,
        "{\"id\":3,\"name\":\"n3\"}\n{\"id\":4,\"name\":\"n4\"}\n{\"id\":5,\"name\":\"n5\"}\n"
    );
    let temps: Vec<String> = files(dir.path())
        .into_iter()
        .filter(|f| f.contains("+tmp"))
        .collect();
    assert_eq!(
        temps.len(),
        1,
        "record 6 waits in a temporary file: {temps:?}"
    );
    assert!(
        temps[0].starts_with("topics/+tmp/t/partition=0/0_") && temps[0].ends_with("_tmp.json"),
        "{temps:?}"
    );
    let offsets = t.pre_commit(&BTreeMap::new()).await.expect("pre_commit");
    assert_eq!(
        offsets.get(&tp(0)),
        Some(&6),
        "only committed records count"
    );
    // Redelivered records are not written twice.
    t.put(&records[4..]).await.expect("put again");
    assert_eq!(committed(dir.path()).len(), 2);
    // A crash leaves the temporary file; a new task deletes it and seeks.
    drop(t);
    let (mut t, ctx) = task(dir.path(), &[]).await;
    t.open(&[tp(0)]).await.expect("open");
    assert_eq!(*ctx.seeks.lock(), [(tp(0), 6)]);
    assert!(
        files(dir.path()).iter().all(|f| !f.contains("_tmp")),
        "orphans deleted"
    );
    t.put(&records[6..]).await.expect("put");
    t.stop().await.expect("stop");
    assert_eq!(
        committed(dir.path()).len(),
        2,
        "stop does not commit a partial file"
    );
    // Without a commit log, the committed names tell.
    std::fs::remove_dir_all(dir.path().join("logs")).expect("rm logs");
    let (mut t, ctx) = task(dir.path(), &[]).await;
    t.open(&[tp(0)]).await.expect("open");
    assert_eq!(*ctx.seeks.lock(), [(tp(0), 6)]);
}

#[tokio::test]
async fn a_half_done_commit_is_completed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut t, _) = task(dir.path(), &[]).await;
    t.open(&[tp(0)]).await.expect("open");
    let records: Vec<SinkRecord> = (0..3)
        .map(|i| rec(0, i, 0, map(&[("id", Value::Int64(i))])))
        .collect();
    t.put(&records).await.expect("put");
    // Undo the rename, as if the worker died after writing the log.
    let done = dir
        .path()
        .join("topics/t/partition=0/t+0+0000000000+0000000002.json");
    let log: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("logs/t/0/log")).expect("log"))
            .expect("json");
    let tmp = log["renames"][0][0]
        .as_str()
        .expect("temp path")
        .to_string();
    std::fs::rename(&done, dir.path().join(&tmp)).expect("undo");
    let (mut t, ctx) = task(dir.path(), &[]).await;
    t.open(&[tp(0)]).await.expect("open");
    assert!(done.exists(), "the logged rename was redone");
    assert!(!dir.path().join(&tmp).exists());
    assert_eq!(*ctx.seeks.lock(), [(tp(0), 3)]);
}

#[tokio::test]
async fn field_and_hourly_partitioners_and_rotation_by_record_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut t, _) = task(
        dir.path(),
        &[
            (
                "partitioner.class",
                "io.confluent.connect.storage.partitioner.FieldPartitioner",
            ),
            ("partition.field.name", "region,ok"),
        ],
    )
    .await;
    t.open(&[tp(1)]).await.expect("open");
    let r = |i: i64, region: &str| {
        rec(
            1,
            i,
            0,
            map(&[
                ("region", Value::String(region.into())),
                ("ok", Value::Boolean(i % 2 == 0)),
            ]),
        )
    };
    t.put(&[r(0, "eu"), r(1, "us"), r(2, "eu")])
        .await
        .expect("put");
    assert_eq!(
        committed(dir.path()),
        [
            "topics/t/region=eu/ok=true/t+1+0000000000+0000000002.json",
            "topics/t/region=us/ok=false/t+1+0000000001+0000000001.json"
        ]
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let hourly = [
        (
            "partitioner.class",
            "io.confluent.connect.storage.partitioner.HourlyPartitioner",
        ),
        ("timestamp.extractor", "Record"),
        ("locale", "en-US"),
        ("timezone", "Asia/Seoul"),
        ("rotate.interval.ms", "600000"),
        ("flush.size", "1000"),
    ];
    let (mut t, _) = task(dir.path(), &hourly).await;
    t.open(&[tp(0)]).await.expect("open");
    // 2026-03-05T14:50Z = 23:50 in Seoul; ten minutes later it is the next day.
    let base = 1_772_722_200_000;
    let at = |i: i64, ms: i64| rec(0, i, ms, map(&[("id", Value::Int64(i))]));
    t.put(&[
        at(0, base),
        at(1, base + 60_000),
        at(2, base + 600_000),
        at(3, base + 601_000),
    ])
    .await
    .expect("put");
    assert_eq!(
        committed(dir.path()),
        ["topics/t/year=2026/month=03/day=05/hour=23/t+0+0000000000+0000000001.json"],
        "the record ten minutes after the first rotated the file and waits in the next"
    );
    t.put(&[at(4, base + 1_300_000)]).await.expect("put");
    assert_eq!(committed(dir.path()).len(), 2);
    assert_eq!(
        committed(dir.path())[1],
        "topics/t/year=2026/month=03/day=06/hour=00/t+0+0000000002+0000000003.json"
    );
}

#[tokio::test]
async fn avro_files_and_a_schema_change() {
    use connect_api::{Schema, Struct, Type};
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut t, _) = task(
        dir.path(),
        &[
            ("format.class", "io.confluent.connect.hdfs.avro.AvroFormat"),
            ("flush.size", "10"),
            ("avro.codec", "deflate"),
        ],
    )
    .await;
    t.open(&[tp(0)]).await.expect("open");
    let schema = |v: i32, extra: bool| {
        let mut s = Schema::new(Type::Struct);
        s.name = Some("com.example.Row".into());
        s.version = Some(v);
        s.fields.push(connect_api::Field {
            name: "id".into(),
            index: 0,
            schema: Arc::new(Schema::new(Type::Int64)),
        });
        if extra {
            let mut o = Schema::new(Type::String);
            o.optional = true;
            s.fields.push(connect_api::Field {
                name: "note".into(),
                index: 1,
                schema: Arc::new(o),
            });
        }
        Arc::new(s)
    };
    let (v1, v2) = (schema(1, false), schema(2, true));
    let mk = |s: &Arc<Schema>, i: i64| {
        let mut r = rec(0, i, 0, Value::Null);
        let st = Struct::new(s.clone())
            .with("id", Value::Int64(i))
            .expect("struct");
        r.value = SchemaAndValue::new(Some(s.clone()), Value::Struct(st));
        r
    };
    t.put(&[mk(&v1, 0), mk(&v1, 1), mk(&v2, 2)])
        .await
        .expect("put");
    let names = committed(dir.path());
    assert_eq!(
        names,
        ["topics/t/partition=0/t+0+0000000000+0000000001.avro"],
        "the new schema rotated the file"
    );
    let bytes = std::fs::read(dir.path().join(&names[0])).expect("file");
    assert_eq!(&bytes[..4], b"Obj\x01");
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains(r#""name":"Row","namespace":"com.example""#),
        "schema in the header"
    );
    assert!(text.contains("deflate"));
}

#[tokio::test]
async fn a_failing_store_is_retried_and_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("store");
    // A file where the store's directory should be: every write fails.
    std::fs::write(&root, b"in the way").expect("file");
    let (mut t, ctx) = task(&root, &[]).await;
    t.open(&[tp(0)]).await.expect("open");
    t.put(&[rec(0, 0, 0, map(&[("id", Value::Int64(0))]))])
        .await
        .expect("put goes on");
    let why = ctx.trouble.lock().clone().expect("the status says why");
    assert!(why.contains("t-0") && why.contains("retrying"), "{why}");
    std::fs::remove_file(&root).expect("rm");
    let records: Vec<SinkRecord> = (0..3)
        .map(|i| rec(0, i, 0, map(&[("id", Value::Int64(i))])))
        .collect();
    t.put(&records).await.expect("put");
    assert_eq!(*ctx.trouble.lock(), None, "recovered");
    // Redelivered, they are not written twice.
    t.put(&records).await.expect("put");
    assert_eq!(
        committed(&root),
        ["topics/t/partition=0/t+0+0000000000+0000000002.json"]
    );
}

#[tokio::test]
async fn rotation_on_a_wall_clock_schedule_and_daily_and_custom_time_buckets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut t, _) = task(
        dir.path(),
        &[
            ("rotate.schedule.interval.ms", "500"),
            ("timezone", "UTC"),
            ("flush.size", "1000"),
        ],
    )
    .await;
    t.open(&[tp(0)]).await.expect("open");
    t.put(&[rec(0, 0, 0, map(&[("id", Value::Int64(0))]))])
        .await
        .expect("put");
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    // The runtime calls put without records when there are none.
    t.put(&[]).await.expect("put");
    assert_eq!(
        committed(dir.path()),
        ["topics/t/partition=0/t+0+0000000000+0000000000.json"]
    );

    let at = |i: i64, ms: i64| rec(0, i, ms, map(&[("id", Value::Int64(i))]));
    // 2026-03-05T23:30Z and 2026-03-06T00:30Z.
    let (a, b) = (1_772_753_400_000, 1_772_757_000_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let daily = [
        (
            "partitioner.class",
            "io.confluent.connect.storage.partitioner.DailyPartitioner",
        ),
        ("timestamp.extractor", "Record"),
        ("locale", "en"),
        ("timezone", "UTC"),
        ("flush.size", "2"),
    ];
    let (mut t, _) = task(dir.path(), &daily).await;
    t.open(&[tp(0)]).await.expect("open");
    t.put(&[at(0, a), at(1, b)]).await.expect("put");
    assert_eq!(
        committed(dir.path()),
        [
            "topics/t/year=2026/month=03/day=05/t+0+0000000000+0000000000.json",
            "topics/t/year=2026/month=03/day=06/t+0+0000000001+0000000001.json"
        ]
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let custom = [
        (
            "partitioner.class",
            "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
        ),
        ("partition.duration.ms", "7200000"),
        ("path.format", "'dt'=YYYY-MM-dd/'h'=HH/"),
        ("timestamp.extractor", "RecordField"),
        ("timestamp.field", "meta.at"),
        ("locale", "en"),
        ("timezone", "UTC"),
        ("flush.size", "2"),
    ];
    let (mut t, _) = task(dir.path(), &custom).await;
    t.open(&[tp(0)]).await.expect("open");
    let nested = |i: i64, iso: &str| {
        rec(
            0,
            i,
            0,
            map(&[("meta", map(&[("at", Value::String(iso.into()))]))]),
        )
    };
    t.put(&[
        nested(0, "2026-03-05T23:30:00Z"),
        nested(1, "2026-03-05T21:10:00Z"),
    ])
    .await
    .expect("put");
    assert_eq!(
        committed(dir.path()),
        [
            "topics/t/dt=2026-03-05/h=20/t+0+0000000001+0000000001.json",
            "topics/t/dt=2026-03-05/h=22/t+0+0000000000+0000000000.json"
        ],
        "two-hour buckets from a nested field, the trailing / of path.format dropped"
    );
}
