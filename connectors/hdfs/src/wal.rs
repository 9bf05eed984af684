//! The commit log of a topic partition, `<logs.dir>/<topic>/<partition>/log`:
//! before a commit renames its temporary files, it records the renames and
//! the commit's last offset; recovery redoes renames that did not happen.
//!
//! Confluent's sink keeps an appended binary log under an HDFS lease, the
//! cause of most of its field trouble (a dead worker's lease blocks the
//! next; a torn log blocks recovery). Here the log is one small JSON
//! document replaced whole: written to `log.tmp`, then renamed over `log`.
//! A torn `log.tmp` does not parse and is ignored; a complete one that was
//! not yet renamed is the newest commit. It needs no lease because Kafka's
//! group assignment gives each partition one writer.

use serde::{Deserialize, Serialize};

use crate::store::{join, Store, StoreResult};

/// One commit: its renames (temporary to committed path) and the last
/// offset its files hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Commit {
    pub end_offset: i64,
    pub renames: Vec<(String, String)>,
}

pub struct Wal {
    path: String,
    tmp: String,
}

impl Wal {
    pub fn new(logs_dir: &str, topic: &str, partition: i32) -> Self {
        let path = join(&[logs_dir, topic, &partition.to_string(), "log"]);
        let tmp = format!("{path}.tmp");
        Self { path, tmp }
    }

    fn load(store: &dyn Store, path: &str) -> StoreResult<Option<Commit>> {
        if !store.exists(path)? {
            return Ok(None);
        }
        Ok(serde_json::from_slice(&store.read(path)?).ok())
    }

    /// The newest commit recorded, if any. A complete `log.tmp` newer than
    /// `log` is first put in its place, so the next commit's `log.tmp`
    /// cannot overwrite the only record of it.
    pub fn last(&self, store: &dyn Store) -> StoreResult<Option<Commit>> {
        let log = Self::load(store, &self.path)?;
        let tmp = Self::load(store, &self.tmp)?;
        let tmp_newer = match (&log, &tmp) {
            (Some(l), Some(t)) => t.end_offset > l.end_offset,
            (None, Some(_)) => true,
            _ => false,
        };
        if tmp_newer {
            store.replace(&self.tmp, &self.path)?;
            return Ok(tmp);
        }
        Ok(log)
    }

    /// Records `commit` durably before its renames happen.
    pub fn record(&self, store: &dyn Store, commit: &Commit) -> StoreResult<()> {
        let text =
            serde_json::to_vec(commit).map_err(|e| crate::store::StoreError(e.to_string()))?;
        let mut out = store.create(&self.tmp)?;
        out.write(&text)?;
        out.close()?;
        store.replace(&self.tmp, &self.path)
    }
}
