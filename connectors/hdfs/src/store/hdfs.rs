//! `hdfs://namenode:8020[/base]` or `hdfs://nameservice`: HDFS's own RPC
//! protocol through hdfs-native (no JVM, no libhdfs). `hadoop.conf.dir`
//! (or `<hadoop.home>/etc/hadoop`, or `HADOOP_CONF_DIR`) gives
//! core-site.xml and hdfs-site.xml: `fs.defaultFS`, HA nameservices and
//! their namenodes. The client's I/O runs on a runtime of the store's own,
//! so the store's blocking calls can be made from a task's thread.

use std::future::Future;
use std::sync::Arc;

use hdfs_native::{Client, ClientBuilder, HdfsError, WriteOptions};

use super::{Entry, Output, Store, StoreError, StoreResult};

/// Bytes sent to a datanode at a time.
const CHUNK: usize = 8 << 20;

/// Failover settings that make one call to unreachable namenodes end in
/// about a second.
const FAIL_FAST: &[(&str, &str)] = &[
    ("dfs.client.failover.max.attempts", "2"),
    ("dfs.client.failover.sleep.base.millis", "200"),
    ("dfs.client.failover.sleep.max.millis", "1000"),
];

#[derive(Clone)]
pub struct HdfsStore {
    url: String,
    root: String,
    client: Client,
    runtime: Arc<Io>,
}

/// The client's runtime, shut down without waiting when the store goes
/// (it may be dropped on a task's own runtime, where waiting is refused).
struct Io(Option<tokio::runtime::Runtime>);

impl Drop for Io {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl HdfsStore {
    /// A store for `url`, with the Hadoop configuration in `conf_dir` (or
    /// the environment's when empty).
    pub fn new(url: &str, conf_dir: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("hdfs://")
            .ok_or_else(|| format!("{url} is not an hdfs:// URL"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("hdfs-io")
            .enable_all()
            .build()
            .map_err(|e| format!("starting the HDFS client's runtime: {e}"))?;
        let mut builder = ClientBuilder::new()
            .with_url(format!("hdfs://{authority}"))
            .with_io_runtime(runtime.handle().clone());
        let mut site = String::new();
        if !conf_dir.is_empty() {
            if !std::path::Path::new(conf_dir).is_dir() {
                return Err(format!("hadoop.conf.dir {conf_dir} is not a directory"));
            }
            builder = builder.with_config_dir(conf_dir);
            site = std::fs::read_to_string(std::path::Path::new(conf_dir).join("hdfs-site.xml"))
                .unwrap_or_default();
        }
        // Hadoop's client retries an unreachable namenode for minutes; the
        // connectors retry every retry.backoff.ms and say why in the task's
        // status, so one call gives up within seconds unless hdfs-site.xml
        // says otherwise.
        let quick: Vec<(&str, &str)> = FAIL_FAST
            .iter()
            .filter(|(k, _)| !site.contains(k))
            .copied()
            .collect();
        builder = builder.with_config(quick);
        let client = builder
            .build()
            .map_err(|e| format!("store.url {url}: {e}"))?;
        Ok(Self {
            url: url.to_string(),
            root: format!("/{}/", path.trim_matches('/')).replace("//", "/"),
            client,
            runtime: Arc::new(Io(Some(runtime))),
        })
    }

    fn abs(&self, path: &str) -> String {
        format!("{}{}", self.root, path.trim_start_matches('/'))
    }

    fn fail(&self, op: &str, path: &str, e: HdfsError) -> StoreError {
        StoreError(format!("HDFS {op} {} on {}: {e}", self.abs(path), self.url))
    }

    /// Runs `f` on the client's runtime and waits for it.
    fn run<T: Send + 'static>(
        &self,
        f: impl Future<Output = T> + Send + 'static,
    ) -> StoreResult<T> {
        let (tx, rx) = std::sync::mpsc::channel();
        let Some(rt) = &self.runtime.0 else {
            return Err(StoreError(format!(
                "the HDFS client of {} stopped",
                self.url
            )));
        };
        rt.spawn(async move {
            let _ = tx.send(f.await);
        });
        rx.recv()
            .map_err(|_| StoreError(format!("the HDFS client of {} stopped", self.url)))
    }
}

fn missing(e: &HdfsError) -> bool {
    match e {
        HdfsError::FileNotFound(_) => true,
        HdfsError::RPCError(class, _) => class.ends_with("FileNotFoundException"),
        _ => false,
    }
}

struct HdfsOutput {
    store: HdfsStore,
    path: String,
    buf: Vec<u8>,
    writer: Option<hdfs_native::file::FileWriter>,
}

impl HdfsOutput {
    fn send(&mut self) -> StoreResult<()> {
        let data = bytes::Bytes::from(std::mem::take(&mut self.buf));
        let client = self.store.client.clone();
        let abs = self.store.abs(&self.path);
        let writer = self.writer.take();
        let result = self.store.run(async move {
            let mut w = match writer {
                Some(w) => w,
                None => {
                    // hdfs-native refuses overwrite=true for a new file.
                    match client.delete(&abs, false).await {
                        Ok(_) => {}
                        Err(e) if missing(&e) => {}
                        Err(e) => return Err(e),
                    }
                    client.create(&abs, WriteOptions::default()).await?
                }
            };
            w.write_bytes(data).await?;
            Ok(w)
        })?;
        self.writer = Some(result.map_err(|e| self.store.fail("write", &self.path, e))?);
        Ok(())
    }
}

impl Output for HdfsOutput {
    fn write(&mut self, bytes: &[u8]) -> StoreResult<()> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(())
    }

    fn close(mut self: Box<Self>) -> StoreResult<()> {
        if self.writer.is_none() || !self.buf.is_empty() {
            self.send()?;
        }
        let Some(mut w) = self.writer.take() else {
            return Ok(());
        };
        let result = self.store.run(async move { w.close().await })?;
        result.map_err(|e| self.store.fail("close", &self.path, e))
    }
}

impl Store for HdfsStore {
    fn url(&self) -> &str {
        &self.url
    }

    fn create(&self, path: &str) -> StoreResult<Box<dyn Output>> {
        Ok(Box::new(HdfsOutput {
            store: self.clone(),
            path: path.to_string(),
            buf: Vec::new(),
            writer: None,
        }))
    }

    fn rename(&self, from: &str, to: &str) -> StoreResult<bool> {
        if !self.exists(from)? || self.exists(to)? {
            return Ok(false);
        }
        let (c, f, t) = (self.client.clone(), self.abs(from), self.abs(to));
        let parent = t
            .rsplit_once('/')
            .map_or("/".to_string(), |(p, _)| p.to_string());
        self.run(async move {
            c.mkdirs(&parent, 0o755, true).await?;
            c.rename(&f, &t, false).await
        })?
        .map(|()| true)
        .map_err(|e| self.fail("rename", from, e))
    }

    fn replace(&self, from: &str, to: &str) -> StoreResult<()> {
        let (c, f, t) = (self.client.clone(), self.abs(from), self.abs(to));
        self.run(async move { c.rename(&f, &t, true).await })?
            .map_err(|e| self.fail("rename", from, e))
    }

    fn exists(&self, path: &str) -> StoreResult<bool> {
        let (c, p) = (self.client.clone(), self.abs(path));
        match self.run(async move { c.get_file_info(&p).await })? {
            Ok(_) => Ok(true),
            Err(e) if missing(&e) => Ok(false),
            Err(e) => Err(self.fail("get file info", path, e)),
        }
    }

    fn list(&self, dir: &str, recursive: bool) -> StoreResult<Vec<Entry>> {
        let (c, p) = (self.client.clone(), self.abs(dir));
        let statuses = match self.run(async move { c.list_status(&p, recursive).await })? {
            Ok(s) => s,
            Err(e) if missing(&e) => return Ok(Vec::new()),
            Err(e) => return Err(self.fail("list", dir, e)),
        };
        let mut out: Vec<Entry> = statuses
            .into_iter()
            .filter(|s| !(recursive && s.isdir))
            .map(|s| Entry {
                path: s
                    .path
                    .strip_prefix(&self.root)
                    .unwrap_or(&s.path)
                    .trim_start_matches('/')
                    .to_string(),
                is_dir: s.isdir,
            })
            .collect();
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    fn read(&self, path: &str) -> StoreResult<Vec<u8>> {
        let (c, p) = (self.client.clone(), self.abs(path));
        self.run(async move {
            let r = c.read(&p).await?;
            r.read_range(0, r.file_length()).await
        })?
        .map(|b| b.to_vec())
        .map_err(|e| self.fail("read", path, e))
    }

    fn delete(&self, path: &str) -> StoreResult<bool> {
        let (c, p) = (self.client.clone(), self.abs(path));
        match self.run(async move { c.delete(&p, true).await })? {
            Ok(b) => Ok(b),
            Err(e) if missing(&e) => Ok(false),
            Err(e) => Err(self.fail("delete", path, e)),
        }
    }
}
