//! The one small interface the sink and source use to reach files: create
//! (and write), rename, list, read, delete. Paths are relative to the
//! store's root and use `/`. Implementations: `file://` (the local
//! filesystem), `webhdfs://` (Hadoop's REST API) and `hdfs://` (HDFS's RPC
//! protocol).

mod hdfs;
mod local;
mod webhdfs;

use std::fmt;

pub use hdfs::HdfsStore;
pub use local::LocalStore;
pub use webhdfs::WebHdfsStore;

/// A store failure, with the operation and path it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A file or directory found by `list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The path from the store's root.
    pub path: String,
    pub is_dir: bool,
}

impl Entry {
    /// The last part of the path.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// A file being written.
pub trait Output: Send {
    fn write(&mut self, bytes: &[u8]) -> StoreResult<()>;
    /// Makes the written bytes durable and closes the file.
    fn close(self: Box<Self>) -> StoreResult<()>;
}

pub trait Store: Send + Sync {
    /// The store's URL, for messages.
    fn url(&self) -> &str;
    /// Creates (or truncates) a file, with its parent directories.
    fn create(&self, path: &str) -> StoreResult<Box<dyn Output>>;
    /// Renames `from` to `to`, creating `to`'s parent directories; `false`
    /// (HDFS's answer) when `from` is missing or `to` exists.
    fn rename(&self, from: &str, to: &str) -> StoreResult<bool>;
    /// Puts `from` in the place of `to`, which may exist.
    fn replace(&self, from: &str, to: &str) -> StoreResult<()>;
    fn exists(&self, path: &str) -> StoreResult<bool>;
    /// The files (and, unless `recursive`, directories) under `dir`; none
    /// when `dir` does not exist.
    fn list(&self, dir: &str, recursive: bool) -> StoreResult<Vec<Entry>>;
    /// Reads a whole file.
    fn read(&self, path: &str) -> StoreResult<Vec<u8>>;
    /// Deletes a file (or a directory and what it holds); `false` when
    /// there was nothing.
    fn delete(&self, path: &str) -> StoreResult<bool>;
}

/// The store a `store.url` names; `conf_dir` holds core-site.xml and
/// hdfs-site.xml for `hdfs://` (empty: `HADOOP_CONF_DIR`'s).
pub fn open(url: &str, conf_dir: &str) -> Result<Box<dyn Store>, String> {
    if let Some(path) = url.strip_prefix("file://") {
        if !path.starts_with('/') {
            return Err(format!(
                "store.url {url} must be an absolute file URL, such as file:///var/lib/weir/hdfs"
            ));
        }
        return Ok(Box::new(LocalStore::new(path)));
    }
    if url.starts_with("webhdfs://") {
        return Ok(Box::new(WebHdfsStore::new(url)?));
    }
    if url.starts_with("hdfs://") {
        return Ok(Box::new(HdfsStore::new(url, conf_dir)?));
    }
    if url.starts_with("swebhdfs://") {
        return Err(format!(
            "store.url {url}: swebhdfs:// (WebHDFS over TLS) is not available yet; use webhdfs://, hdfs:// or file://"
        ));
    }
    Err(format!(
        "store.url {url} is not a store URL: use file:///path, webhdfs://namenode:9870 or hdfs://namenode:8020"
    ))
}

/// `a/b` joined, without doubled or leading slashes.
pub fn join(parts: &[&str]) -> String {
    parts
        .iter()
        .flat_map(|p| p.split('/'))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}
