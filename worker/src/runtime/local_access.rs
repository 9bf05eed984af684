//! Which local files, directories and commands connector configs may use.
//!
//! Connectors that read or write this machine's files (FileStream,
//! spooling directory, tail, the HDFS connectors' `file://` stores, SQLite)
//! or run commands (Flume's exec source) are what anyone who reaches the REST
//! API could abuse. `connector.allowed.paths` (directories, comma-separated)
//! bounds every path; without it, paths are open only while the REST API is
//! protected: every listener on loopback, or basic authentication on.
//! Commands follow `connector.exec.allowed`, by default the same protection.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use connect_api::{LocalAccess, Props};

/// The worker key listing the directories connector paths must be under.
pub const ALLOWED_PATHS: &str = "connector.allowed.paths";
/// The worker key that allows or forbids connectors that run commands.
pub const EXEC_ALLOWED: &str = "connector.exec.allowed";

/// The worker's policy.
#[derive(Debug, Clone)]
pub struct LocalPolicy {
    allowed: Option<Vec<PathBuf>>,
    protected: bool,
    exec: bool,
}

impl Default for LocalPolicy {
    fn default() -> Self {
        Self {
            allowed: None,
            protected: true,
            exec: true,
        }
    }
}

/// Whether a REST listener URL binds to loopback only (Weir binds an
/// empty host to 127.0.0.1).
fn loopback(url: &str) -> bool {
    let hp = url
        .split_once("://")
        .map_or(url, |(_, r)| r)
        .trim_end_matches('/');
    let host = match hp.rsplit_once(':') {
        Some((h, _)) => h,
        None => hp,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.is_empty()
        || host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|a| a.is_loopback())
}

impl LocalPolicy {
    pub fn from_worker(props: &BTreeMap<String, String>) -> Result<Self, String> {
        let (main, admin) = crate::rest::listener_urls(props);
        let all_loopback = main
            .iter()
            .chain(admin.iter().flatten())
            .all(|l| loopback(l));
        let authenticated = props
            .get("rest.extension.classes")
            .is_some_and(|c| c.contains(crate::rest::security::BASIC_AUTH_EXTENSION));
        let protected = all_loopback || authenticated;
        let allowed = match props.get(ALLOWED_PATHS).map(|v| v.trim()) {
            None | Some("") => None,
            Some(list) => Some(
                list.split(',')
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .map(|d| {
                        let p = Path::new(d);
                        if p.is_absolute() {
                            Ok(resolve(p))
                        } else {
                            Err(format!("{ALLOWED_PATHS}: {d} is not an absolute directory"))
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let exec = match props
            .get(EXEC_ALLOWED)
            .map(|v| v.trim().to_ascii_lowercase())
        {
            None => protected,
            Some(v) if v == "true" => true,
            Some(v) if v == "false" => false,
            Some(v) => {
                return Err(format!(
                    "Invalid value {v} for configuration {EXEC_ALLOWED}: must be true or false"
                ))
            }
        };
        Ok(Self {
            allowed,
            protected,
            exec,
        })
    }

    /// Every access of a connector config this policy refuses, by key.
    pub fn refusals(&self, accesses: &[LocalAccess]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for a in accesses {
            match a {
                LocalAccess::Command { key } if !self.exec => out.push((
                    key.clone(),
                    format!(
                        "Invalid value for configuration {key}: this worker does not run commands for connectors ({EXEC_ALLOWED}=false{})",
                        if self.protected { "" } else { ", the default while the REST API is reachable from the network without authentication" }
                    ),
                )),
                LocalAccess::Command { .. } => {}
                LocalAccess::Path { key, path } => {
                    let full = resolve(Path::new(path));
                    let refused = match &self.allowed {
                        Some(dirs) => !dirs.iter().any(|d| full.starts_with(d)),
                        None => !self.protected,
                    };
                    if refused {
                        let why = match &self.allowed {
                            Some(dirs) => format!(
                                "it is not under {ALLOWED_PATHS}={}",
                                dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(",")
                            ),
                            None => format!(
                                "the REST API is reachable from the network without authentication, so connectors may use local paths only under {ALLOWED_PATHS} (not set)"
                            ),
                        };
                        out.push((
                            key.clone(),
                            format!("Invalid value {path} for configuration {key}: {why}"),
                        ));
                    }
                }
            }
        }
        out
    }

    /// The refusals of a connector config (its plugin says what it uses).
    pub fn check(&self, plugin: &connect_api::Plugin, props: &Props) -> Vec<(String, String)> {
        let connector = (plugin.new_connector)();
        self.refusals(&connector.local_access(props))
    }
}

/// `path` made absolute (against the working directory), without `.` and
/// `..`, and with the symbolic links of its existing part followed, so
/// that neither `..` nor a link leads out of an allowed directory.
fn resolve(path: &Path) -> PathBuf {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut clean = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                clean.pop();
            }
            Component::CurDir => {}
            other => clean.push(other),
        }
    }
    // Follow links in the longest existing prefix.
    let mut existing = clean.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match existing.file_name() {
            Some(n) => rest.push(n.to_os_string()),
            None => break,
        }
        if !existing.pop() {
            break;
        }
    }
    let mut out = existing.canonicalize().unwrap_or(existing);
    for n in rest.into_iter().rev() {
        out.push(n);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(pairs: &[(&str, &str)]) -> LocalPolicy {
        let props: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LocalPolicy::from_worker(&props).expect("valid")
    }

    fn path(key: &str, p: &str) -> LocalAccess {
        LocalAccess::Path {
            key: key.into(),
            path: p.into(),
        }
    }

    #[test]
    fn a_loopback_api_leaves_paths_open_and_an_exposed_one_closes_them() {
        let local = policy(&[("listeners", "http://localhost:8083")]);
        assert!(local.refusals(&[path("file", "/etc/shadow")]).is_empty());
        let exposed = policy(&[("listeners", "http://0.0.0.0:8083")]);
        let r = exposed.refusals(&[
            path("file", "/etc/shadow"),
            LocalAccess::Command {
                key: "command".into(),
            },
        ]);
        assert_eq!(r.len(), 2);
        assert!(
            r[0].1.contains("connector.allowed.paths (not set)"),
            "{}",
            r[0].1
        );
        assert!(r[1].1.contains("does not run commands"), "{}", r[1].1);
        let authed = policy(&[
            ("listeners", "https://0.0.0.0:8443"),
            (
                "rest.extension.classes",
                "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension",
            ),
        ]);
        assert!(authed.refusals(&[path("file", "/etc/shadow")]).is_empty());
    }

    #[test]
    fn allowed_paths_bound_every_path_even_through_dot_dot_and_links() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("mkdir");
        std::os::unix::fs::symlink("/etc", data.join("etc-link")).expect("symlink");
        let p = policy(&[
            ("listeners", "http://0.0.0.0:8083"),
            (ALLOWED_PATHS, &data.display().to_string()),
        ]);
        let inside = data.join("in/new.txt").display().to_string();
        assert!(p.refusals(&[path("file", &inside)]).is_empty());
        let escape = data.join("../../etc/passwd").display().to_string();
        let link = data.join("etc-link/passwd").display().to_string();
        let r = p.refusals(&[path("file", &escape), path("input.path", &link)]);
        assert_eq!(r.len(), 2, "{r:?}");
        assert!(r[0].1.starts_with(&format!(
            "Invalid value {escape} for configuration file: it is not under"
        )));
        assert!(LocalPolicy::from_worker(
            &[(ALLOWED_PATHS.to_string(), "data".to_string())].into()
        )
        .is_err());
    }
}
