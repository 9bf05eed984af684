//! `file://`: a directory of the local filesystem. Closed files are synced
//! to disk, and a rename or replace syncs the directory it names, so a
//! commit survives a crash of the machine, not only of the worker.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{Entry, Output, Store, StoreError, StoreResult};

pub struct LocalStore {
    root: PathBuf,
    url: String,
}

impl LocalStore {
    pub fn new(root: &str) -> Self {
        Self {
            root: PathBuf::from(root),
            url: format!("file://{root}"),
        }
    }

    fn full(&self, path: &str) -> PathBuf {
        self.root.join(path.trim_start_matches('/'))
    }

    fn fail(&self, doing: &str, path: &str, e: io::Error) -> StoreError {
        StoreError(format!(
            "{doing} {}/{}: {e}",
            self.url.trim_end_matches('/'),
            path.trim_start_matches('/')
        ))
    }

    fn parent_dirs(&self, path: &Path, rel: &str) -> StoreResult<()> {
        match path.parent() {
            Some(p) => {
                fs::create_dir_all(p).map_err(|e| self.fail("creating the directory of", rel, e))
            }
            None => Ok(()),
        }
    }
}

struct LocalOutput {
    file: BufWriter<fs::File>,
    url: String,
}

impl Output for LocalOutput {
    fn write(&mut self, bytes: &[u8]) -> StoreResult<()> {
        self.file
            .write_all(bytes)
            .map_err(|e| StoreError(format!("writing {}: {e}", self.url)))
    }

    fn close(self: Box<Self>) -> StoreResult<()> {
        let url = self.url;
        let file = self
            .file
            .into_inner()
            .map_err(|e| StoreError(format!("writing {url}: {}", e.error())))?;
        file.sync_all()
            .map_err(|e| StoreError(format!("syncing {url}: {e}")))
    }
}

fn walk(root: &Path, dir: &Path, recursive: bool, out: &mut Vec<Entry>) -> io::Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let meta = match entry.metadata() {
            Ok(m) => m,
            // Gone since the directory was read.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let rel = path
            .strip_prefix(root)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        if meta.is_dir() {
            if recursive {
                walk(root, &path, true, out)?;
            } else {
                out.push(Entry {
                    path: rel,
                    is_dir: true,
                });
            }
        } else {
            out.push(Entry {
                path: rel,
                is_dir: false,
            });
        }
    }
    Ok(())
}

impl Store for LocalStore {
    fn url(&self) -> &str {
        &self.url
    }

    fn create(&self, path: &str) -> StoreResult<Box<dyn Output>> {
        let full = self.full(path);
        self.parent_dirs(&full, path)?;
        let file = fs::File::create(&full).map_err(|e| self.fail("creating", path, e))?;
        Ok(Box::new(LocalOutput {
            file: BufWriter::with_capacity(1 << 16, file),
            url: format!("{}/{}", self.url.trim_end_matches('/'), path),
        }))
    }

    fn rename(&self, from: &str, to: &str) -> StoreResult<bool> {
        let (f, t) = (self.full(from), self.full(to));
        if !f.exists() || t.exists() {
            return Ok(false);
        }
        self.parent_dirs(&t, to)?;
        match fs::rename(&f, &t) {
            Ok(()) => {
                // The new name is on disk before the commit goes on.
                if let Some(dir) = t.parent() {
                    fs::File::open(dir)
                        .and_then(|d| d.sync_all())
                        .map_err(|e| self.fail("syncing the directory of", to, e))?;
                }
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(self.fail(&format!("renaming {from} to"), to, e)),
        }
    }

    fn replace(&self, from: &str, to: &str) -> StoreResult<()> {
        let (f, t) = (self.full(from), self.full(to));
        self.parent_dirs(&t, to)?;
        fs::rename(&f, &t).map_err(|e| self.fail(&format!("renaming {from} over"), to, e))?;
        if let Some(dir) = t.parent() {
            fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| self.fail("syncing the directory of", to, e))?;
        }
        Ok(())
    }

    fn exists(&self, path: &str) -> StoreResult<bool> {
        self.full(path)
            .try_exists()
            .map_err(|e| self.fail("looking for", path, e))
    }

    fn list(&self, dir: &str, recursive: bool) -> StoreResult<Vec<Entry>> {
        let mut out = Vec::new();
        walk(&self.root, &self.full(dir), recursive, &mut out)
            .map_err(|e| self.fail("listing", dir, e))?;
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    fn read(&self, path: &str) -> StoreResult<Vec<u8>> {
        fs::read(self.full(path)).map_err(|e| self.fail("reading", path, e))
    }

    fn delete(&self, path: &str) -> StoreResult<bool> {
        let full = self.full(path);
        let result = match fs::symlink_metadata(&full) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => Err(e),
            Ok(m) if m.is_dir() => fs::remove_dir_all(&full),
            Ok(_) => fs::remove_file(&full),
        };
        match result {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(self.fail("deleting", path, e)),
        }
    }
}
