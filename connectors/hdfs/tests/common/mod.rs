//! What the HDFS tests share: a sink task context that records seeks and
//! status, records, a task on a store, listings of the files written, and
//! the WebHDFS protocol fake.
#![allow(dead_code)]

pub mod webhdfs;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use connect_api::{
    ErrantRecordReporter, SchemaAndValue, SinkRecord, SinkTask, SinkTaskContext, TopicPartition,
    Value,
};
use connector_hdfs::store::Store;
use connector_hdfs::HdfsSinkTask;
use parking_lot::Mutex;

#[derive(Default)]
pub struct Ctx {
    pub seeks: Mutex<Vec<(TopicPartition, i64)>>,
    pub trouble: Mutex<Option<String>>,
}

impl SinkTaskContext for Ctx {
    fn assignment(&self) -> Vec<TopicPartition> {
        Vec::new()
    }
    fn offset(&self, tp: &TopicPartition, offset: i64) {
        self.seeks.lock().push((tp.clone(), offset));
    }
    fn timeout(&self, _ms: u64) {}
    fn pause(&self, _partitions: &[TopicPartition]) {}
    fn resume(&self, _partitions: &[TopicPartition]) {}
    fn request_commit(&self) {}
    fn trouble(&self, why: Option<String>) {
        *self.trouble.lock() = why;
    }
    fn errant_record_reporter(&self) -> Option<Arc<dyn ErrantRecordReporter>> {
        None
    }
}

pub fn map(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (Value::String(k.to_string()), v.clone()))
            .collect(),
    )
}

pub fn rec(partition: i32, offset: i64, ts: i64, value: Value) -> SinkRecord {
    let value = SchemaAndValue::new(None, value);
    SinkRecord::new(
        "t",
        partition,
        offset,
        SchemaAndValue::NULL,
        value,
        Some(ts),
    )
}

pub fn tp(partition: i32) -> TopicPartition {
    TopicPartition {
        topic: "t".into(),
        partition,
    }
}

pub async fn task(root: &Path, extra: &[(&str, &str)]) -> (HdfsSinkTask, Arc<Ctx>) {
    task_on(&format!("file://{}", root.display()), extra).await
}

/// A started sink task writing JSON to the store at `url`, committing
/// every 3 records.
pub async fn task_on(url: &str, extra: &[(&str, &str)]) -> (HdfsSinkTask, Arc<Ctx>) {
    let mut props: BTreeMap<String, String> = [
        ("store.url".to_string(), url.to_string()),
        (
            "format.class".into(),
            "io.confluent.connect.hdfs3.json.JsonFormat".into(),
        ),
        ("flush.size".into(), "3".into()),
        ("retry.backoff.ms".into(), "0".into()),
    ]
    .into_iter()
    .collect();
    for (k, v) in extra {
        props.insert(k.to_string(), v.to_string());
    }
    let ctx = Arc::new(Ctx::default());
    let mut t = HdfsSinkTask::default();
    t.start(&props, ctx.clone()).await.expect("starts");
    (t, ctx)
}

/// Every file under `dir`, relative, sorted.
pub fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, d: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                walk(root, &e.path(), out);
            } else if let Ok(p) = e.path().strip_prefix(root) {
                out.push(p.display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

pub fn committed(dir: &Path) -> Vec<String> {
    files(dir)
        .into_iter()
        .filter(|f| f.starts_with("topics/t/"))
        .collect()
}

/// What every store does the same way.
pub fn conformance(s: &dyn Store) {
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
