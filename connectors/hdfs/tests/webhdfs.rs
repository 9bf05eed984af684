//! The `webhdfs://` store against the WebHDFS protocol fake in
//! `common/webhdfs.rs` (Hadoop's REST API over a temporary directory): the
//! same store checks as `file://`, Hadoop's errors surfaced with their
//! class and message, and the sink writing and recovering through it.
//! This proves the HTTP exchange, not HDFS's semantics.

use std::collections::BTreeMap;

use connect_api::{SinkRecord, SinkTask, Value};
use connector_hdfs::store::{self, LocalStore, Store, WebHdfsStore};

mod common;
use common::webhdfs::Fake;
use common::*;

#[test]
fn file_and_webhdfs_stores_behave_alike() {
    let dir = tempfile::tempdir().expect("tempdir");
    conformance(&LocalStore::new(&dir.path().display().to_string()));
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = Fake::start(dir.path());
    conformance(&WebHdfsStore::new(&fake.url()).expect("store"));
    // Under a base path, with the user named in the URL.
    let s = WebHdfsStore::new(&format!(
        "webhdfs://alice@127.0.0.1:{}/data/weir",
        fake.port
    ))
    .expect("store");
    let out = s.create("x+1=2 y.txt").expect("create");
    out.close().expect("close");
    assert!(
        dir.path().join("data/weir/x+1=2 y.txt").exists(),
        "names are encoded and decoded intact"
    );
}

#[test]
fn hadoop_errors_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = Fake::start(dir.path());
    let s = WebHdfsStore::new(&fake.url()).expect("store");
    fake.fail_next(1);
    let out = s.create("f.txt").expect("create");
    let e = out.close().expect_err("refused").0;
    assert!(
        e.contains("CREATE /f.txt")
            && e.contains("AccessControlException: Permission denied")
            && e.contains("HTTP 403"),
        "{e}"
    );
    let e = WebHdfsStore::new("webhdfs://127.0.0.1:1")
        .expect("store")
        .exists("x")
        .expect_err("refused")
        .0;
    assert!(
        e.contains("127.0.0.1:1") && e.contains("cannot reach"),
        "{e}"
    );
    let e = store::open("swebhdfs://namenode:9871", "")
        .err()
        .expect("not yet");
    assert!(e.contains("swebhdfs://"), "{e}");
}

#[tokio::test]
async fn the_sink_writes_and_recovers_through_webhdfs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = Fake::start(dir.path());
    let (mut t, _) = task_on(&fake.url(), &[]).await;
    t.open(&[tp(0)]).await.expect("open");
    let records: Vec<SinkRecord> = (0..7)
        .map(|i| rec(0, i, 0, map(&[("id", Value::Int64(i))])))
        .collect();
    t.put(&records).await.expect("put");
    assert_eq!(
        committed(dir.path()),
        [
            "topics/t/partition=0/t+0+0000000000+0000000002.json",
            "topics/t/partition=0/t+0+0000000003+0000000005.json"
        ]
    );
    assert_eq!(
        t.pre_commit(&BTreeMap::new())
            .await
            .expect("pre_commit")
            .get(&tp(0)),
        Some(&6)
    );
    // The store refuses: the partition waits, its status says why.
    fake.fail_next(1000);
    let (mut t, ctx) = task_on(&fake.url(), &[]).await;
    t.open(&[tp(0)]).await.expect("open");
    let why = ctx.trouble.lock().clone().expect("a reason");
    assert!(why.contains("AccessControlException"), "{why}");
    fake.fail_next(0);
    t.put(&records[6..]).await.expect("put");
    assert_eq!(*ctx.trouble.lock(), None);
    assert!(
        ctx.seeks.lock().is_empty(),
        "record 6 is the next one: no seek"
    );
    let more: Vec<SinkRecord> = (7..9)
        .map(|i| rec(0, i, 0, map(&[("id", Value::Int64(i))])))
        .collect();
    t.put(&more).await.expect("put");
    assert_eq!(
        committed(dir.path()).last().map(String::as_str),
        Some("topics/t/partition=0/t+0+0000000006+0000000008.json")
    );
    assert!(
        files(dir.path()).iter().all(|f| !f.contains("_tmp")),
        "renamed away"
    );
}

#[tokio::test]
async fn a_store_failure_before_any_commit_reads_the_partition_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = Fake::start(dir.path());
    let (mut t, ctx) = task_on(&fake.url(), &[]).await;
    t.open(&[tp(0)]).await.expect("open");
    let records: Vec<SinkRecord> = (0..4)
        .map(|i| rec(0, i, 0, map(&[("id", Value::Int64(i))])))
        .collect();
    // Records 0 and 1 wait in memory; the commit after record 2 fails.
    fake.fail_next(1);
    t.put(&records[..3]).await.expect("put goes on");
    assert!(ctx.trouble.lock().is_some());
    t.put(&records[3..]).await.expect("put");
    assert_eq!(
        *ctx.seeks.lock(),
        [(tp(0), 0)],
        "nothing is committed, so the partition is read again from its first record"
    );
    assert_eq!(*ctx.trouble.lock(), None);
    t.put(&records).await.expect("put");
    assert_eq!(
        committed(dir.path()),
        ["topics/t/partition=0/t+0+0000000000+0000000002.json"]
    );
}
