//! `webhdfs://namenode:9870[/base]`: HDFS over its REST API, Hadoop's
//! WebHDFS. CREATE and APPEND are two steps (the namenode answers 307 with
//! a datanode's address, which takes the bytes); a file is written in
//! chunks, the first by CREATE and the rest by APPEND. Failures carry
//! Hadoop's RemoteException class and message. The user is the URL's
//! (`webhdfs://alice@host:9870`) or `HADOOP_USER_NAME`.

use std::time::Duration;

use serde::Deserialize;
use ureq::Agent;

use super::{Entry, Output, Store, StoreError, StoreResult};

/// Bytes sent per CREATE or APPEND.
const CHUNK: usize = 8 << 20;

#[derive(Clone)]
pub struct WebHdfsStore {
    url: String,
    /// `http://host:port`.
    base: String,
    /// The directory store paths are under, `/` or `/base/`.
    root: String,
    user: Option<String>,
    agent: Agent,
}

#[derive(Deserialize)]
struct RemoteError {
    #[serde(rename = "RemoteException")]
    remote: RemoteException,
}

#[derive(Deserialize)]
struct RemoteException {
    exception: String,
    message: String,
}

#[derive(Deserialize)]
struct Boolean {
    boolean: bool,
}

#[derive(Deserialize)]
struct Listing {
    #[serde(rename = "FileStatuses")]
    statuses: Statuses,
}

#[derive(Deserialize)]
struct Statuses {
    #[serde(rename = "FileStatus")]
    list: Vec<Status>,
}

#[derive(Deserialize)]
struct Status {
    #[serde(rename = "pathSuffix")]
    suffix: String,
    #[serde(rename = "type")]
    kind: String,
}

/// `s` with everything but unreserved characters and `/` percent-encoded
/// (`+` too: some Hadoop versions read it as a space).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

enum Method {
    Get,
    Put,
    Post,
    Delete,
}

impl WebHdfsStore {
    /// A store for `url` (`webhdfs://[user@]host:port[/base]`).
    pub fn new(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("webhdfs://")
            .ok_or_else(|| format!("{url} is not a webhdfs:// URL"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (user, host) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u.to_string()), h),
            None => (std::env::var("HADOOP_USER_NAME").ok(), authority),
        };
        if host.is_empty() {
            return Err(format!(
                "store.url {url} names no namenode: use webhdfs://namenode:9870"
            ));
        }
        let host = if host.contains(':') {
            host.to_string()
        } else {
            format!("{host}:9870")
        };
        let root = format!("/{}/", path.trim_matches('/')).replace("//", "/");
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(300)))
            .build()
            .into();
        Ok(Self {
            url: url.to_string(),
            base: format!("http://{host}"),
            root,
            user,
            agent,
        })
    }

    fn abs(&self, path: &str) -> String {
        format!("{}{}", self.root, path.trim_start_matches('/'))
    }

    fn op_url(&self, path: &str, op: &str, extra: &str) -> String {
        let mut u = format!(
            "{}/webhdfs/v1{}?op={op}",
            self.base,
            encode(&self.abs(path))
        );
        if let Some(user) = &self.user {
            u.push_str(&format!("&user.name={}", encode(user)));
        }
        u.push_str(extra);
        u
    }

    fn fail(&self, op: &str, path: &str, why: String) -> StoreError {
        StoreError(format!(
            "WebHDFS {op} {} on {}: {why}",
            self.abs(path),
            self.base
        ))
    }

    /// Sends one request; the status and body of the answer.
    fn send(
        &self,
        method: &Method,
        url: &str,
        body: Option<&[u8]>,
    ) -> Result<(u16, Vec<u8>, Option<String>), String> {
        let result = match (method, body) {
            (Method::Get, _) => self.agent.get(url).call(),
            (Method::Delete, _) => self.agent.delete(url).call(),
            (Method::Put, Some(b)) => self
                .agent
                .put(url)
                .header("Content-Type", "application/octet-stream")
                .send(b),
            (Method::Put, None) => self.agent.put(url).send_empty(),
            (Method::Post, Some(b)) => self
                .agent
                .post(url)
                .header("Content-Type", "application/octet-stream")
                .send(b),
            (Method::Post, None) => self.agent.post(url).send_empty(),
        };
        let mut resp =
            result.map_err(|e| format!("cannot reach the namenode or datanode ({e})"))?;
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .map_err(|e| format!("reading the answer: {e}"))?;
        Ok((status, bytes, location))
    }

    /// A request whose answer must have status `ok`; 404 gives `None`.
    fn call(
        &self,
        method: Method,
        path: &str,
        op: &str,
        extra: &str,
        body: Option<&[u8]>,
        ok: u16,
    ) -> StoreResult<Option<Vec<u8>>> {
        let url = self.op_url(path, op, extra);
        // The namenode takes no data: CREATE and APPEND send it where it
        // redirects them.
        let (status, bytes, location) = self
            .send(&method, &url, None)
            .map_err(|e| self.fail(op, path, e))?;
        let (status, bytes) = match (status, location) {
            // The namenode's redirect to a datanode, which takes the data.
            (307, Some(to)) => {
                let (s, b, _) = self
                    .send(&method, &to, body)
                    .map_err(|e| self.fail(op, path, e))?;
                (s, b)
            }
            other => (other.0, bytes),
        };
        if status == ok {
            return Ok(Some(bytes));
        }
        let remote = serde_json::from_slice::<RemoteError>(&bytes).ok();
        if status == 404
            && remote
                .as_ref()
                .is_none_or(|r| r.remote.exception == "FileNotFoundException")
        {
            return Ok(None);
        }
        Err(self.fail(
            op,
            path,
            match remote {
                Some(r) => format!(
                    "{}: {} (HTTP {status})",
                    r.remote.exception, r.remote.message
                ),
                None => format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes).trim()),
            },
        ))
    }

    fn boolean(&self, method: Method, path: &str, op: &str, extra: &str) -> StoreResult<bool> {
        let Some(body) = self.call(method, path, op, extra, None, 200)? else {
            return Ok(false);
        };
        serde_json::from_slice::<Boolean>(&body)
            .map(|b| b.boolean)
            .map_err(|e| self.fail(op, path, format!("unexpected answer ({e})")))
    }

    fn mkdirs(&self, dir: &str) -> StoreResult<()> {
        if self.boolean(Method::Put, dir, "MKDIRS", "")? {
            Ok(())
        } else {
            Err(self.fail(
                "MKDIRS",
                dir,
                "the namenode did not create the directory".into(),
            ))
        }
    }

    fn parent_of(path: &str) -> &str {
        path.rsplit_once('/').map_or("", |(p, _)| p)
    }

    fn list_into(&self, dir: &str, recursive: bool, out: &mut Vec<Entry>) -> StoreResult<()> {
        let Some(body) = self.call(Method::Get, dir, "LISTSTATUS", "", None, 200)? else {
            return Ok(());
        };
        let listing: Listing = serde_json::from_slice(&body)
            .map_err(|e| self.fail("LISTSTATUS", dir, format!("unexpected answer ({e})")))?;
        for s in listing.statuses.list {
            // LISTSTATUS of a file lists the file itself, with no suffix.
            if s.suffix.is_empty() {
                continue;
            }
            let path = super::join(&[dir, &s.suffix]);
            let is_dir = s.kind == "DIRECTORY";
            if is_dir && recursive {
                self.list_into(&path, true, out)?;
            } else if !is_dir || !recursive {
                out.push(Entry { path, is_dir });
            }
        }
        Ok(())
    }
}

struct WebHdfsOutput {
    store: WebHdfsStore,
    path: String,
    buf: Vec<u8>,
    created: bool,
}

impl WebHdfsOutput {
    fn send(&mut self) -> StoreResult<()> {
        let body = std::mem::take(&mut self.buf);
        if self.created {
            self.store
                .call(Method::Post, &self.path, "APPEND", "", Some(&body), 200)?;
        } else {
            self.store.call(
                Method::Put,
                &self.path,
                "CREATE",
                "&overwrite=true",
                Some(&body),
                201,
            )?;
            self.created = true;
        }
        Ok(())
    }
}

impl Output for WebHdfsOutput {
    fn write(&mut self, bytes: &[u8]) -> StoreResult<()> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(())
    }

    fn close(mut self: Box<Self>) -> StoreResult<()> {
        if !self.created || !self.buf.is_empty() {
            self.send()?;
        }
        Ok(())
    }
}

impl Store for WebHdfsStore {
    fn url(&self) -> &str {
        &self.url
    }

    fn create(&self, path: &str) -> StoreResult<Box<dyn Output>> {
        // The namenode creates parent directories with the file; the first
        // chunk goes when it is full or the file is closed.
        Ok(Box::new(WebHdfsOutput {
            store: self.clone(),
            path: path.to_string(),
            buf: Vec::new(),
            created: false,
        }))
    }

    fn rename(&self, from: &str, to: &str) -> StoreResult<bool> {
        if !self.exists(from)? || self.exists(to)? {
            return Ok(false);
        }
        self.mkdirs(Self::parent_of(to))?;
        let dest = format!("&destination={}", encode(&self.abs(to)));
        self.boolean(Method::Put, from, "RENAME", &dest)
    }

    fn replace(&self, from: &str, to: &str) -> StoreResult<()> {
        self.delete(to)?;
        if self.rename(from, to)? {
            Ok(())
        } else {
            Err(self.fail(
                "RENAME",
                from,
                format!("could not rename it to {}", self.abs(to)),
            ))
        }
    }

    fn exists(&self, path: &str) -> StoreResult<bool> {
        Ok(self
            .call(Method::Get, path, "GETFILESTATUS", "", None, 200)?
            .is_some())
    }

    fn list(&self, dir: &str, recursive: bool) -> StoreResult<Vec<Entry>> {
        let mut out = Vec::new();
        self.list_into(dir, recursive, &mut out)?;
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    fn read(&self, path: &str) -> StoreResult<Vec<u8>> {
        self.call(Method::Get, path, "OPEN", "", None, 200)?
            .ok_or_else(|| self.fail("OPEN", path, "File does not exist".into()))
    }

    fn delete(&self, path: &str) -> StoreResult<bool> {
        self.boolean(Method::Delete, path, "DELETE", "&recursive=true")
    }
}
