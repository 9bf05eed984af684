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

/// What every store does the same way.
fn conformance(s: &dyn Store) {
    let mut out = s.create("a/b/one.txt").expect("create");
    out.write(b"hello ").expect("write");
    // More than one WebHDFS chunk: CREATE, then APPEND.
    let big = vec![b'x'; 9 << 20];
    out.write(&big).expect("write");
    out.close().expect("close");
    let back = s.read("a/b/one.txt").expect("read");
    assert_eq!(back.len(), 6 + big.len());
    assert!(back.starts_with(b"hello x"));
    assert!(s.exists("a/b/one.txt").expect("exists"));
    assert!(s.exists("a/b").expect("exists"));
    assert!(!s.exists("a/none").expect("exists"));
    let empty = s.create("a/empty.txt").expect("create");
    empty.close().expect("close");
    assert_eq!(s.read("a/empty.txt").expect("read"), b"");
    // Rename: parents made; false when the source is missing or the target exists.
    assert!(s.rename("a/b/one.txt", "c/d/two.txt").expect("rename"));
    assert!(!s.exists("a/b/one.txt").expect("exists"));
    assert!(!s.rename("a/b/one.txt", "c/d/three.txt").expect("rename"));
    assert!(!s.rename("a/empty.txt", "c/d/two.txt").expect("rename"));
    // Replace: over an existing file.
    s.replace("a/empty.txt", "c/d/two.txt").expect("replace");
    assert_eq!(s.read("c/d/two.txt").expect("read"), b"");
    let mut out = s.create("c/e.txt").expect("create");
    out.write(b"e").expect("write");
    out.close().expect("close");
    let all: Vec<String> = s
        .list("c", true)
        .expect("list")
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert_eq!(all, ["c/d/two.txt", "c/e.txt"]);
    let top: Vec<(String, bool)> = s
        .list("c", false)
        .expect("list")
        .into_iter()
        .map(|e| (e.path, e.is_dir))
        .collect();
    assert_eq!(
        top,
        [("c/d".to_string(), true), ("c/e.txt".to_string(), false)]
    );
    assert!(s.list("nowhere", true).expect("list").is_empty());
    assert!(s.delete("c").expect("delete"));
    assert!(!s.delete("c").expect("delete"));
    assert!(s.read("c/e.txt").is_err());
}

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
    let e = store::open("hdfs://namenode:8020").err().expect("not yet");
    assert!(e.contains("hdfs://"), "{e}");
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
