//! Config providers (Kafka's `config.providers`): `${name:path:key}` and
//! `${name:key}` placeholders in connector (and worker) configs resolved from
//! properties files, files in a directory, or environment variables. Only
//! the worker config declares providers; REST always shows the placeholders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One declared provider.
#[derive(Debug, Clone)]
enum Provider {
    /// `FileConfigProvider`: `${p:/path/file.properties:key}`.
    File { allowed: Option<Vec<PathBuf>> },
    /// `DirectoryConfigProvider`: `${p:/dir:filename}` is the file's content.
    Directory { allowed: Option<Vec<PathBuf>> },
    /// `EnvVarConfigProvider`: `${p:VAR}`, optionally limited by `allowlist.pattern`.
    Env { allow: Option<regex::Regex> },
}

/// The providers a worker declares.
#[derive(Debug, Clone, Default)]
pub struct Providers {
    by_name: BTreeMap<String, Provider>,
}

fn allowed_paths(props: &BTreeMap<String, String>, prefix: &str) -> Option<Vec<PathBuf>> {
    props.get(&format!("{prefix}param.allowed.paths")).map(|v| {
        v.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect()
    })
}

impl Providers {
    /// Reads `config.providers` and `config.providers.<name>.class|param.*`.
    pub fn from_worker(props: &BTreeMap<String, String>) -> Result<Self, String> {
        let mut by_name = BTreeMap::new();
        let Some(names) = props.get("config.providers") else {
            return Ok(Self::default());
        };
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let prefix = format!("config.providers.{name}.");
            let class_key = format!("{prefix}class");
            let class = props.get(&class_key).ok_or_else(|| {
                format!("Missing required configuration \"{class_key}\" for config provider {name}")
            })?;
            let short = class.rsplit('.').next().unwrap_or(class);
            let provider = match short {
                "FileConfigProvider" => Provider::File {
                    allowed: allowed_paths(props, &prefix),
                },
                "DirectoryConfigProvider" => Provider::Directory {
                    allowed: allowed_paths(props, &prefix),
                },
                "EnvVarConfigProvider" => {
                    let key = format!("{prefix}param.allowlist.pattern");
                    let allow = match props.get(&key) {
                        Some(p) => Some(regex::Regex::new(&format!("^(?:{p})$")).map_err(|e| {
                            format!("Invalid value {p} for configuration {key}: {e}")
                        })?),
                        None => None,
                    };
                    Provider::Env { allow }
                }
                _ => {
                    return Err(format!(
                        "Invalid value {class} for configuration {class_key}: Weir provides FileConfigProvider, DirectoryConfigProvider and EnvVarConfigProvider"
                    ))
                }
            };
            by_name.insert(name.to_string(), provider);
        }
        Ok(Self { by_name })
    }

    /// Task configs for display: values that came from a placeholder in the
    /// connector config are shown as that placeholder again.
    pub fn hide_resolved(
        raw: &BTreeMap<String, String>,
        resolved: &BTreeMap<String, String>,
        task: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        task.iter()
            .map(|(k, v)| {
                let shown = match (raw.get(k), resolved.get(k)) {
                    (Some(r), Some(res)) if res == v && r != res => r.clone(),
                    _ => v.clone(),
                };
                (k.clone(), shown)
            })
            .collect()
    }

    /// Replaces every placeholder of a known provider; the error names the
    /// config key and the placeholder.
    pub fn resolve(
        &self,
        props: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, String> {
        props
            .iter()
            .map(|(k, v)| {
                self.resolve_value(v)
                    .map(|r| (k.clone(), r))
                    .map_err(|e| format!("Could not resolve the value of {k}: {e}"))
            })
            .collect()
    }

    fn resolve_value(&self, value: &str) -> Result<String, String> {
        if self.by_name.is_empty() || !value.contains("${") {
            return Ok(value.to_string());
        }
        let mut out = String::with_capacity(value.len());
        let mut rest = value;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return Ok(out);
            };
            let inner = &after[..end];
            match self.lookup(inner)? {
                Some(v) => out.push_str(&v),
                // Not a provider of this worker: left as written, as Kafka does.
                None => out.push_str(&rest[start..start + 2 + end + 1]),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// `name:path:key` or `name:key`; `None` when `name` is not a provider.
    fn lookup(&self, inner: &str) -> Result<Option<String>, String> {
        let Some((name, rest)) = inner.split_once(':') else {
            return Ok(None);
        };
        let Some(provider) = self.by_name.get(name) else {
            return Ok(None);
        };
        let placeholder = format!("${{{inner}}}");
        match provider {
            Provider::Env { allow } => {
                if allow.as_ref().is_some_and(|re| !re.is_match(rest)) {
                    return Err(format!(
                        "{placeholder}: {rest} is not allowed by allowlist.pattern"
                    ));
                }
                std::env::var(rest)
                    .map(Some)
                    .map_err(|_| format!("{placeholder}: environment variable {rest} is not set"))
            }
            Provider::File { allowed } => {
                let (path, key) = rest
                    .rsplit_once(':')
                    .ok_or_else(|| format!("{placeholder}: expected ${{{name}:path:key}}"))?;
                let path = check_allowed(Path::new(path), allowed.as_deref(), &placeholder)?;
                let props = broker_core::properties::Properties::load(&path)
                    .map_err(|e| format!("{placeholder}: {e}"))?;
                props
                    .get(key)
                    .map(|v| Some(v.to_string()))
                    .ok_or_else(|| format!("{placeholder}: {} has no key {key}", path.display()))
            }
            Provider::Directory { allowed } => {
                let (dir, file) = rest
                    .rsplit_once(':')
                    .ok_or_else(|| format!("{placeholder}: expected ${{{name}:directory:file}}"))?;
                if file.contains('/') || file == ".." {
                    return Err(format!("{placeholder}: {file} is not a file name"));
                }
                let path =
                    check_allowed(&Path::new(dir).join(file), allowed.as_deref(), &placeholder)?;
                std::fs::read_to_string(&path)
                    .map(Some)
                    .map_err(|e| format!("{placeholder}: reading {}: {e}", path.display()))
            }
        }
    }
}

/// The path, made absolute and normalized, when it lies under an allowed one.
fn check_allowed(
    path: &Path,
    allowed: Option<&[PathBuf]>,
    placeholder: &str,
) -> Result<PathBuf, String> {
    let canonical = path
        .canonicalize()
        .map_err(|e| format!("{placeholder}: {}: {e}", path.display()))?;
    match allowed {
        None => Ok(canonical),
        Some(list) => {
            let ok = list.iter().any(|a| {
                a.canonicalize()
                    .map(|a| canonical.starts_with(a))
                    .unwrap_or(false)
            });
            if ok {
                Ok(canonical)
            } else {
                Err(format!(
                    "{placeholder}: {} is not in allowed.paths",
                    canonical.display()
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn placeholders_resolve_from_files_directories_and_env() {
        let dir = tempfile::tempdir().expect("tempdir");
        let secrets = dir.path().join("secrets.properties");
        std::fs::write(&secrets, "db.password=hunter2\n").expect("write");
        std::fs::write(dir.path().join("token"), "t0k3n").expect("write");
        let worker = map(&[
            ("config.providers", "file,directory,env"),
            (
                "config.providers.file.class",
                "org.apache.kafka.common.config.provider.FileConfigProvider",
            ),
            (
                "config.providers.file.param.allowed.paths",
                &dir.path().display().to_string(),
            ),
            (
                "config.providers.directory.class",
                "org.apache.kafka.common.config.provider.DirectoryConfigProvider",
            ),
            (
                "config.providers.env.class",
                "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
            ),
            ("config.providers.env.param.allowlist.pattern", "PATH|HOME"),
        ]);
        let p = Providers::from_worker(&worker).expect("valid providers");
        let conn = map(&[
            (
                "password",
                &format!("${{file:{}:db.password}}", secrets.display()),
            ),
            (
                "token",
                &format!("x-${{directory:{}:token}}", dir.path().display()),
            ),
            ("path", "${env:PATH}"),
            ("other", "${vault:a:b} stays"),
        ]);
        let r = p.resolve(&conn).expect("resolves");
        assert_eq!(r["password"], "hunter2");
        assert_eq!(r["token"], "x-t0k3n");
        assert_eq!(r["path"], std::env::var("PATH").expect("PATH"));
        assert_eq!(r["other"], "${vault:a:b} stays");
        let err = p
            .resolve(&map(&[("x", "${env:SECRET_KEY}")]))
            .expect_err("not allowed");
        assert!(
            err.starts_with("Could not resolve the value of x: ${env:SECRET_KEY}"),
            "{err}"
        );
        let outside = tempfile::tempdir().expect("tempdir");
        let elsewhere = outside.path().join("x.properties");
        std::fs::write(&elsewhere, "k=v\n").expect("write");
        let err = p
            .resolve(&map(&[(
                "y",
                &format!("${{file:{}:k}}", elsewhere.display()),
            )]))
            .expect_err("outside allowed.paths");
        assert!(err.contains("not in allowed.paths"), "{err}");
        assert!(Providers::from_worker(&map(&[
            ("config.providers", "v"),
            ("config.providers.v.class", "com.Vault")
        ]))
        .is_err());
    }
}
