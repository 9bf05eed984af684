//! Source offset storage. Standalone mode keeps offsets in a file in Kafka
//! Connect's format (`offset.storage.file.filename`): a Java-serialized map
//! whose keys are `["<connector>",{partition}]` and values `{offset}`, both
//! compact JSON. Distributed mode writes the same keys and values as records
//! of the offsets topic (`OffsetLog`), a null value removing an offset.

pub mod java_map;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use connect_api::record::{SourceOffset, SourcePartition};
use connect_api::OffsetReader;
use parking_lot::Mutex;
use serde_json::Value as Json;

/// Where committed offsets go besides memory.
enum Backing {
    Memory,
    /// Rewritten whole on each commit (standalone).
    File(PathBuf),
    /// Each change appended as a record (distributed).
    Log(Arc<dyn OffsetLog>),
}

/// A record of the offsets log: key, and value (`None`: a tombstone).
pub type OffsetRecord = (Vec<u8>, Option<Vec<u8>>);

/// An append-only place for offset records (the offsets topic).
pub trait OffsetLog: Send + Sync {
    /// Writes records and returns once they are durable. Called from a
    /// blocking context.
    fn write(&self, records: &[OffsetRecord]) -> anyhow::Result<()>;
}

/// Committed source offsets of every connector.
pub struct OffsetStore {
    backing: Backing,
    data: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
    /// Held from a snapshot of `data` until the file holds it, so that
    /// tasks committing at once neither share the temporary file nor put
    /// an older snapshot in place of a newer one.
    file_writes: Mutex<()>,
}

/// The offsets key of a source partition: `["<connector>",{partition}]`.
pub fn offset_key(connector: &str, partition: &SourcePartition) -> Vec<u8> {
    let key = Json::Array(vec![
        Json::String(connector.to_string()),
        Json::Object(partition.clone()),
    ]);
    key.to_string().into_bytes()
}

impl OffsetStore {
    /// An in-memory store (tests, or when no file is configured).
    pub fn memory() -> Self {
        Self {
            backing: Backing::Memory,
            data: Mutex::new(BTreeMap::new()),
            file_writes: Mutex::new(()),
        }
    }

    /// A store over an offsets log whose records so far are `records`
    /// (read in order; a `None` value removes the key).
    pub fn over_log(
        log: Arc<dyn OffsetLog>,
        records: impl IntoIterator<Item = OffsetRecord>,
    ) -> Self {
        let store = Self {
            backing: Backing::Log(log),
            data: Mutex::new(BTreeMap::new()),
            file_writes: Mutex::new(()),
        };
        for (k, v) in records {
            store.apply(k, v);
        }
        store
    }

    /// Takes in a record another worker wrote to the offsets log.
    pub fn apply(&self, key: Vec<u8>, value: Option<Vec<u8>>) {
        let mut data = self.data.lock();
        match value {
            Some(v) => {
                data.insert(key, v);
            }
            None => {
                data.remove(&key);
            }
        }
    }

    /// Loads `path` (a missing or empty file is an empty store).
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating {} for the offsets file", dir.display()))?;
        }
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let entries = java_map::read(&bytes).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a Kafka Connect offsets file ({e}); move it away to start without offsets",
                path.display()
            )
        })?;
        Ok(Self {
            backing: Backing::File(path.to_path_buf()),
            data: Mutex::new(entries.into_iter().collect()),
            file_writes: Mutex::new(()),
        })
    }

    /// The committed offset of `partition` for `connector`.
    pub fn get(&self, connector: &str, partition: &SourcePartition) -> Option<SourceOffset> {
        let key = offset_key(connector, partition);
        let data = self.data.lock();
        let value = data.get(&key)?;
        match serde_json::from_slice::<Json>(value) {
            Ok(Json::Object(o)) => Some(o),
            _ => None,
        }
    }

    /// Every offset stored for `connector`: (partition, offset) pairs.
    pub fn all_for(&self, connector: &str) -> Vec<(SourcePartition, Option<SourceOffset>)> {
        let data = self.data.lock();
        data.iter()
            .filter_map(|(k, v)| {
                let Ok(Json::Array(parts)) = serde_json::from_slice::<Json>(k) else {
                    return None;
                };
                match parts.as_slice() {
                    [Json::String(c), Json::Object(p)] if c == connector => {
                        let offset = match serde_json::from_slice::<Json>(v) {
                            Ok(Json::Object(o)) => Some(o),
                            _ => None,
                        };
                        Some((p.clone(), offset))
                    }
                    _ => None,
                }
            })
            .collect()
    }

    /// Stores offsets (`None` removes the partition's offset) durably: the
    /// file is rewritten (a temporary file, fsync, rename), or the changes
    /// are appended to the log.
    pub fn commit(
        &self,
        connector: &str,
        offsets: &[(SourcePartition, Option<SourceOffset>)],
    ) -> anyhow::Result<()> {
        if let Backing::Log(log) = &self.backing {
            let records: Vec<OffsetRecord> = offsets
                .iter()
                .map(|(p, o)| {
                    let value = o
                        .as_ref()
                        .map(|o| Json::Object(o.clone()).to_string().into_bytes());
                    (offset_key(connector, p), value)
                })
                .collect();
            // In memory only once the log has them.
            log.write(&records)?;
            for (k, v) in records {
                self.apply(k, v);
            }
            return Ok(());
        }
        let _writing = self.file_writes.lock();
        let snapshot = {
            let mut data = self.data.lock();
            for (p, o) in offsets {
                let key = offset_key(connector, p);
                match o {
                    Some(o) => {
                        data.insert(key, Json::Object(o.clone()).to_string().into_bytes());
                    }
                    None => {
                        data.remove(&key);
                    }
                }
            }
            data.iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Vec<_>>()
        };
        let Backing::File(path) = &self.backing else {
            return Ok(());
        };
        let tmp = path.with_extension("tmp");
        let bytes = java_map::write(&snapshot);
        let mut f = std::fs::File::create(&tmp)
            .with_context(|| format!("writing offsets to {}", tmp.display()))?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

/// One connector's view of the store, handed to its source tasks.
pub struct ConnectorOffsets {
    pub store: Arc<OffsetStore>,
    pub connector: String,
}

impl OffsetReader for ConnectorOffsets {
    fn offset(&self, partition: &SourcePartition) -> Option<SourceOffset> {
        self.store.get(&self.connector, partition)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partition(f: &str) -> SourcePartition {
        let mut p = SourcePartition::new();
        p.insert("filename".into(), Json::String(f.into()));
        p
    }

    /// A log that keeps what it is given.
    #[derive(Default)]
    struct Kept(Mutex<Vec<OffsetRecord>>);

    impl OffsetLog for Kept {
        fn write(&self, records: &[OffsetRecord]) -> anyhow::Result<()> {
            self.0.lock().extend_from_slice(records);
            Ok(())
        }
    }

    #[test]
    fn a_log_backed_store_appends_changes_and_replays_them() {
        let log = Arc::new(Kept::default());
        let store = OffsetStore::over_log(log.clone(), Vec::new());
        let mut offset = SourceOffset::new();
        offset.insert("position".into(), Json::from(30));
        store
            .commit("c", &[(partition("/a"), Some(offset.clone()))])
            .expect("commit");
        store
            .commit("c", &[(partition("/b"), Some(offset.clone()))])
            .expect("commit");
        store
            .commit("c", &[(partition("/b"), None)])
            .expect("remove");
        let records = log.0.lock().clone();
        assert_eq!(
            records[0],
            (
                br#"["c",{"filename":"/a"}]"#.to_vec(),
                Some(br#"{"position":30}"#.to_vec())
            )
        );
        assert_eq!(records[2].1, None, "a removal is a tombstone");
        let replayed = OffsetStore::over_log(log.clone(), records);
        assert_eq!(replayed.get("c", &partition("/a")), Some(offset));
        assert_eq!(replayed.get("c", &partition("/b")), None);
        assert_eq!(replayed.all_for("c").len(), 1);
    }

    /// Tasks of a connector commit from threads of their own at once:
    /// every commit succeeds and the file ends with every offset.
    #[test]
    fn concurrent_commits_to_one_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("connect.offsets");
        let store = std::sync::Arc::new(OffsetStore::open(&path).expect("empty"));
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for i in 0..40 {
                        let mut o = SourceOffset::new();
                        o.insert("position".into(), Json::from(i));
                        store
                            .commit("c", &[(partition(&format!("/f{t}")), Some(o))])
                            .expect("every commit succeeds");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let again = OffsetStore::open(&path).expect("reopen");
        for t in 0..8 {
            let o = again
                .get("c", &partition(&format!("/f{t}")))
                .expect("offset");
            assert_eq!(o.get("position"), Some(&Json::from(39)));
        }
    }

    #[test]
    fn offsets_survive_reopening_and_keys_match_kafka() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("connect.offsets");
        let store = OffsetStore::open(&path).expect("empty");
        let mut offset = SourceOffset::new();
        offset.insert("position".into(), Json::from(42));
        store
            .commit(
                "local-file-source",
                &[(partition("/tmp/a.txt"), Some(offset.clone()))],
            )
            .expect("commit");
        assert_eq!(
            offset_key("local-file-source", &partition("/tmp/a.txt")),
            br#"["local-file-source",{"filename":"/tmp/a.txt"}]"#.to_vec()
        );
        let again = OffsetStore::open(&path).expect("reopen");
        assert_eq!(
            again.get("local-file-source", &partition("/tmp/a.txt")),
            Some(offset)
        );
        assert_eq!(again.get("other", &partition("/tmp/a.txt")), None);
        assert_eq!(again.all_for("local-file-source").len(), 1);
        std::fs::write(&path, b"garbage").expect("write");
        let err = OffsetStore::open(&path).err().expect("garbage rejected");
        assert!(err.to_string().contains("at byte"), "{err}");
    }
}
