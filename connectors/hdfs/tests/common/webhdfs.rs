//! A WebHDFS protocol fake: Hadoop's published WebHDFS REST API
//! (GETFILESTATUS, LISTSTATUS, OPEN, CREATE, APPEND, MKDIRS, RENAME,
//! DELETE) over a temporary directory, with the namenode's 307 redirects to
//! a "datanode" (this same server) and RemoteException error bodies. It
//! proves the HTTP exchange, not HDFS's semantics (leases, replication,
//! permissions).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

struct Inner {
    root: PathBuf,
    port: u16,
    /// The next this many requests are refused with AccessControlException.
    fail_next: AtomicUsize,
}

pub struct Fake {
    pub port: u16,
    inner: Arc<Inner>,
}

impl Fake {
    /// Serves `root` on a free port of 127.0.0.1 from a thread of its own.
    pub fn start(root: &Path) -> Fake {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let inner = Arc::new(Inner {
            root: root.to_path_buf(),
            port,
            fail_next: AtomicUsize::new(0),
        });
        let state = inner.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let app = axum::Router::new()
                    .fallback(handle)
                    .layer(axum::extract::DefaultBodyLimit::disable())
                    .with_state(state);
                axum::serve(listener, app).await.expect("serve");
            });
        });
        Fake { port, inner }
    }

    pub fn url(&self) -> String {
        format!("webhdfs://127.0.0.1:{}", self.port)
    }

    /// Refuses the next `n` requests.
    pub fn fail_next(&self, n: usize) {
        self.inner.fail_next.store(n, Ordering::SeqCst);
    }
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn remote(status: StatusCode, exception: &str, class: &str, message: &str) -> Response {
    let body = serde_json::json!({"RemoteException": {"exception": exception, "javaClassName": class, "message": message}});
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn not_found(message: String) -> Response {
    remote(
        StatusCode::NOT_FOUND,
        "FileNotFoundException",
        "java.io.FileNotFoundException",
        &message,
    )
}

fn boolean(b: bool) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        format!("{{\"boolean\":{b}}}"),
    )
        .into_response()
}

fn status_of(path: &Path, suffix: &str) -> serde_json::Value {
    let meta = std::fs::metadata(path).ok();
    let dir = meta.as_ref().is_some_and(|m| m.is_dir());
    serde_json::json!({
        "accessTime": 0, "blockSize": 134217728, "group": "supergroup",
        "length": if dir { 0 } else { meta.as_ref().map_or(0, |m| m.len()) },
        "modificationTime": 0, "owner": "weir", "pathSuffix": suffix,
        "permission": if dir { "755" } else { "644" }, "replication": if dir { 0 } else { 1 },
        "type": if dir { "DIRECTORY" } else { "FILE" }
    })
}

async fn handle(State(s): State<Arc<Inner>>, method: Method, uri: Uri, body: Bytes) -> Response {
    let Some(hdfs_path) = uri.path().strip_prefix("/webhdfs/v1") else {
        return (StatusCode::NOT_FOUND, "not a WebHDFS path").into_response();
    };
    let hdfs_path = decode(hdfs_path);
    let query: Vec<(String, String)> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), decode(v)),
            None => (p.to_string(), String::new()),
        })
        .collect();
    let param = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.as_str());
    let op = param("op").unwrap_or("").to_ascii_uppercase();
    if s.fail_next.load(Ordering::SeqCst) > 0 {
        s.fail_next.fetch_sub(1, Ordering::SeqCst);
        return remote(StatusCode::FORBIDDEN, "AccessControlException", "org.apache.hadoop.security.AccessControlException",
            &format!("Permission denied: user=dr.who, access=WRITE, inode=\"{hdfs_path}\":hdfs:supergroup:drwxr-xr-x"));
    }
    let local = s.root.join(hdfs_path.trim_start_matches('/'));
    let datanode = param("datanode") == Some("true");
    let redirect = |op: &str| {
        let mut q: Vec<String> = query
            .iter()
            .filter(|(k, _)| k != "op")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        q.push("datanode=true".into());
        let to = format!(
            "http://127.0.0.1:{}/webhdfs/v1{}?op={op}&{}",
            s.port,
            uri.path().trim_start_matches("/webhdfs/v1"),
            q.join("&")
        );
        (
            StatusCode::TEMPORARY_REDIRECT,
            [("location", to), ("content-length", "0".into())],
        )
            .into_response()
    };
    match (method.as_str(), op.as_str()) {
        ("GET", "GETFILESTATUS") if local.exists() => (
            StatusCode::OK,
            [("content-type", "application/json")],
            serde_json::json!({"FileStatus": status_of(&local, "")}).to_string(),
        )
            .into_response(),
        ("GET", "GETFILESTATUS") => not_found(format!("File does not exist: {hdfs_path}")),
        ("GET", "LISTSTATUS") if local.is_dir() => {
            let mut list: Vec<serde_json::Value> = std::fs::read_dir(&local)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| status_of(&e.path(), &e.file_name().to_string_lossy()))
                .collect();
            list.sort_by(|a, b| a["pathSuffix"].as_str().cmp(&b["pathSuffix"].as_str()));
            (
                StatusCode::OK,
                [("content-type", "application/json")],
                serde_json::json!({"FileStatuses": {"FileStatus": list}}).to_string(),
            )
                .into_response()
        }
        ("GET", "LISTSTATUS") if local.exists() => (
            StatusCode::OK,
            [("content-type", "application/json")],
            serde_json::json!({"FileStatuses": {"FileStatus": [status_of(&local, "")]}})
                .to_string(),
        )
            .into_response(),
        ("GET", "LISTSTATUS") => not_found(format!("File {hdfs_path} does not exist.")),
        ("GET", "OPEN") if !local.is_file() => {
            not_found(format!("File does not exist: {hdfs_path}"))
        }
        ("GET", "OPEN") if !datanode => redirect("OPEN"),
        ("GET", "OPEN") => match std::fs::read(&local) {
            Ok(b) => (
                StatusCode::OK,
                [("content-type", "application/octet-stream")],
                b,
            )
                .into_response(),
            Err(e) => remote(
                StatusCode::FORBIDDEN,
                "IOException",
                "java.io.IOException",
                &e.to_string(),
            ),
        },
        ("PUT", "CREATE") if !datanode => {
            if local.exists() && param("overwrite") != Some("true") {
                return remote(
                    StatusCode::FORBIDDEN,
                    "FileAlreadyExistsException",
                    "org.apache.hadoop.fs.FileAlreadyExistsException",
                    &format!("{hdfs_path} for client 127.0.0.1 already exists"),
                );
            }
            redirect("CREATE")
        }
        ("PUT", "CREATE") => {
            if let Some(p) = local.parent() {
                let _ = std::fs::create_dir_all(p);
            }
            match std::fs::write(&local, &body) {
                Ok(()) => (
                    StatusCode::CREATED,
                    [(
                        "location",
                        format!("webhdfs://127.0.0.1:{}{hdfs_path}", s.port),
                    )],
                )
                    .into_response(),
                Err(e) => remote(
                    StatusCode::FORBIDDEN,
                    "IOException",
                    "java.io.IOException",
                    &e.to_string(),
                ),
            }
        }
        ("POST", "APPEND") if !local.is_file() => remote(
            StatusCode::NOT_FOUND,
            "FileNotFoundException",
            "java.io.FileNotFoundException",
            &format!("failed to append to non-existent file {hdfs_path} for client 127.0.0.1"),
        ),
        ("POST", "APPEND") if !datanode => redirect("APPEND"),
        ("POST", "APPEND") => {
            use std::io::Write;
            let result = std::fs::OpenOptions::new()
                .append(true)
                .open(&local)
                .and_then(|mut f| f.write_all(&body));
            match result {
                Ok(()) => StatusCode::OK.into_response(),
                Err(e) => remote(
                    StatusCode::FORBIDDEN,
                    "IOException",
                    "java.io.IOException",
                    &e.to_string(),
                ),
            }
        }
        ("PUT", "MKDIRS") => match std::fs::create_dir_all(&local) {
            Ok(()) => boolean(true),
            Err(_) => remote(
                StatusCode::FORBIDDEN,
                "ParentNotDirectoryException",
                "org.apache.hadoop.fs.ParentNotDirectoryException",
                &format!("Parent path is not a directory: {hdfs_path}"),
            ),
        },
        ("PUT", "RENAME") => {
            let Some(dest) = param("destination") else {
                return remote(
                    StatusCode::BAD_REQUEST,
                    "IllegalArgumentException",
                    "java.lang.IllegalArgumentException",
                    "Invalid value for webhdfs parameter \"destination\": null",
                );
            };
            let to = s.root.join(dest.trim_start_matches('/'));
            let parent_ok = to.parent().is_some_and(Path::is_dir);
            boolean(
                local.exists() && !to.exists() && parent_ok && std::fs::rename(&local, &to).is_ok(),
            )
        }
        ("DELETE", "DELETE") if !local.exists() => boolean(false),
        ("DELETE", "DELETE") if local.is_dir() => {
            let empty = std::fs::read_dir(&local)
                .map(|mut d| d.next().is_none())
                .unwrap_or(true);
            if !empty && param("recursive") != Some("true") {
                return remote(
                    StatusCode::FORBIDDEN,
                    "PathIsNotEmptyDirectoryException",
                    "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException",
                    &format!("`{hdfs_path} is non empty': Directory is not empty"),
                );
            }
            boolean(std::fs::remove_dir_all(&local).is_ok())
        }
        ("DELETE", "DELETE") => boolean(std::fs::remove_file(&local).is_ok()),
        (m, op) => {
            let kind = match m {
                "GET" => "Get",
                "PUT" => "Put",
                "POST" => "Post",
                _ => "Delete",
            };
            remote(StatusCode::BAD_REQUEST, "IllegalArgumentException", "java.lang.IllegalArgumentException",
                &format!("Invalid value for webhdfs parameter \"op\": No enum constant org.apache.hadoop.hdfs.web.resources.{kind}OpParam.Op.{op}"))
        }
    }
}
