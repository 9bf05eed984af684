//! Source offset storage. Standalone mode keeps offsets in a file in Kafka
//! Connect's format (`offset.storage.file.filename`): a Java-serialized map
//! whose keys are `["<connector>",{partition}]` and values `{offset}`, both
//! compact JSON.

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

/// Committed source offsets of every connector, optionally backed by a file.
pub struct OffsetStore {
    path: Option<PathBuf>,
    data: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
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
            path: None,
            data: Mutex::new(BTreeMap::new()),
        }
    }

    /// Loads `path` (a missing or empty file is an empty store).
    pub fn open(path: &Path) -> anyhow::Result<Self> {
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
            path: Some(path.to_path_buf()),
            data: Mutex::new(entries.into_iter().collect()),
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

    /// Stores offsets (`None` removes the partition's offset) and writes the
    /// file durably: a temporary file, fsync, rename.
    pub fn commit(
        &self,
        connector: &str,
        offsets: &[(SourcePartition, Option<SourceOffset>)],
    ) -> anyhow::Result<()> {
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
        let Some(path) = &self.path else {
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
