//! A spooling-directory source's settings, from the spooldir connectors'
//! keys or from Flume's; every refusal names its key.

use std::path::PathBuf;
use std::time::Duration;

use connect_api::{ConnectError, Props};
use regex::Regex;

use super::parse::{Csv, Decode, Format};
use super::{Kind, TASK_COUNT, TASK_INDEX};
use crate::common::{bool_setting, int_setting, str_setting};

/// What happens to a file once all of it is in Kafka.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cleanup {
    Move(PathBuf),
    /// Into a `yyyy-MM-dd` directory under the finished path.
    MoveByDate(PathBuf),
    Delete,
    None,
    /// Flume: renamed in place with this suffix.
    Suffix(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    NameAsc,
    NameDesc,
    LengthAsc,
    LengthDesc,
    LastModifiedAsc,
    LastModifiedDesc,
}

#[derive(Debug)]
pub struct Settings {
    pub topic: String,
    pub input: PathBuf,
    pub error: Option<PathBuf>,
    pub include: Regex,
    pub ignore: Option<Regex>,
    pub cleanup: Cleanup,
    pub min_age: Duration,
    pub order: Vec<Order>,
    pub halt_on_error: bool,
    pub batch: usize,
    pub empty_wait: Duration,
    pub file_time: bool,
    pub file_header: Option<String>,
    pub basename_header: Option<String>,
    pub format: Format,
    pub decode: Decode,
    pub task_index: u64,
    pub task_count: u64,
    /// Files with this suffix are never picked up (Flume's finished and
    /// failed files beside the others).
    pub skip_suffixes: Vec<String>,
}

/// A refused setting.
#[derive(Debug)]
pub struct Refusal {
    pub key: String,
    pub message: String,
}

impl From<Refusal> for ConnectError {
    fn from(r: Refusal) -> Self {
        ConnectError::fatal(r.message)
    }
}

fn refuse(key: &str, message: impl Into<String>) -> Refusal {
    Refusal {
        key: key.to_string(),
        message: message.into(),
    }
}

fn from_connect(key: &str, e: ConnectError) -> Refusal {
    refuse(key, e.to_string())
}

fn whole(pattern: &str, key: &str) -> Result<Regex, Refusal> {
    Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
        refuse(
            key,
            format!("Invalid value {pattern} for configuration {key}: {e}"),
        )
    })
}

fn dir(props: &Props, key: &str) -> Result<Option<PathBuf>, Refusal> {
    let Some(d) = str_setting(props, key) else {
        return Ok(None);
    };
    let p = PathBuf::from(d);
    if !p.is_dir() {
        return Err(refuse(
            key,
            format!("Invalid value {d} for configuration {key}: the directory does not exist"),
        ));
    }
    Ok(Some(p))
}

fn char_code(props: &Props, key: &str, default: i64) -> Result<u8, Refusal> {
    let n = int_setting(props, key, Some(default), 0, 127).map_err(|e| from_connect(key, e))?;
    Ok(n as u8)
}

impl Settings {
    pub fn from_props(props: &Props, kind: Kind) -> Result<Self, Refusal> {
        let flume = str_setting(props, "spoolDir").is_some();
        let topic = crate::source_topic(props).map_err(|e| refuse(crate::TOPIC, e))?;
        let input_key = if flume { "spoolDir" } else { "input.path" };
        let input = dir(props, input_key)?.ok_or_else(|| {
            refuse(
                input_key,
                format!(
                    "Missing required configuration \"{input_key}\" which has no default value."
                ),
            )
        })?;
        let error = dir(props, "error.path")?;
        let suffix = str_setting(props, "fileSuffix")
            .unwrap_or(".COMPLETED")
            .to_string();
        let cleanup = if flume {
            match str_setting(props, "deletePolicy").unwrap_or("never") {
                "never" => Cleanup::Suffix(suffix.clone()),
                "immediate" => Cleanup::Delete,
                other => {
                    return Err(refuse(
                        "deletePolicy",
                        format!(
                        "Invalid value {other} for configuration deletePolicy: never or immediate"
                    ),
                    ))
                }
            }
        } else {
            let policy = str_setting(props, "cleanup.policy")
                .unwrap_or("MOVE")
                .to_ascii_uppercase();
            let finished = || {
                dir(props, "finished.path")?.ok_or_else(|| {
                    refuse("finished.path", format!("Missing required configuration \"finished.path\" which has no default value (cleanup.policy={policy})."))
                })
            };
            match policy.as_str() {
                "MOVE" => Cleanup::Move(finished()?),
                "MOVEBYDATE" => Cleanup::MoveByDate(finished()?),
                "DELETE" => Cleanup::Delete,
                "NONE" => Cleanup::None,
                other => return Err(refuse("cleanup.policy", format!("Invalid value {other} for configuration cleanup.policy: MOVE, MOVEBYDATE, DELETE or NONE"))),
            }
        };
        if !flume && error.is_none() {
            return Err(refuse(
                "error.path",
                "Missing required configuration \"error.path\" which has no default value.",
            ));
        }
        let include = match (
            str_setting(props, "input.file.pattern"),
            str_setting(props, "includePattern"),
        ) {
            (Some(p), _) => whole(p, "input.file.pattern")?,
            (None, Some(p)) => whole(p, "includePattern")?,
            (None, None) if flume => whole(".*", "includePattern")?,
            (None, None) => return Err(refuse(
                "input.file.pattern",
                "Missing required configuration \"input.file.pattern\" which has no default value.",
            )),
        };
        let ignore = match str_setting(props, "ignorePattern") {
            Some(p) if p != "^$" => Some(whole(p, "ignorePattern")?),
            _ => None,
        };
        for unsupported in ["recursiveDirectorySearch", "input.path.walk.recursively"] {
            if bool_setting(props, unsupported, false).map_err(|e| from_connect(unsupported, e))? {
                return Err(refuse(unsupported, format!("Invalid value true for configuration {unsupported}: only files directly in the directory are read")));
            }
        }
        if let Some(t) = str_setting(props, "trackingPolicy").filter(|t| *t != "rename") {
            return Err(refuse(
                "trackingPolicy",
                format!(
                    "Invalid value {t} for configuration trackingPolicy: only rename is supported"
                ),
            ));
        }
        if let Some(d) =
            str_setting(props, "deserializer").filter(|d| !d.eq_ignore_ascii_case("LINE"))
        {
            return Err(refuse(
                "deserializer",
                format!("Invalid value {d} for configuration deserializer: only LINE is supported"),
            ));
        }
        if let Some(c) =
            str_setting(props, "inputCharset").filter(|c| !c.eq_ignore_ascii_case("UTF-8"))
        {
            return Err(refuse(
                "inputCharset",
                format!(
                    "Invalid value {c} for configuration inputCharset: only UTF-8 is supported"
                ),
            ));
        }
        if str_setting(props, "value.schema").is_some() {
            return Err(refuse("value.schema", "value.schema is not supported: fields are read as optional strings, named by the header row"));
        }
        let order = if flume {
            match str_setting(props, "consumeOrder").unwrap_or("oldest") {
                "oldest" => vec![Order::LastModifiedAsc, Order::NameAsc],
                "youngest" => vec![Order::LastModifiedDesc, Order::NameAsc],
                "random" => vec![Order::NameAsc],
                other => return Err(refuse("consumeOrder", format!("Invalid value {other} for configuration consumeOrder: oldest, youngest or random"))),
            }
        } else {
            let raw = str_setting(props, "files.sort.attributes").unwrap_or("NameAsc");
            raw.split(',')
                .map(|a| match a.trim() {
                    "NameAsc" => Ok(Order::NameAsc),
                    "NameDesc" => Ok(Order::NameDesc),
                    "LengthAsc" => Ok(Order::LengthAsc),
                    "LengthDesc" => Ok(Order::LengthDesc),
                    "LastModifiedAsc" => Ok(Order::LastModifiedAsc),
                    "LastModifiedDesc" => Ok(Order::LastModifiedDesc),
                    other => Err(refuse(
                        "files.sort.attributes",
                        format!("Invalid value {other} for configuration files.sort.attributes"),
                    )),
                })
                .collect::<Result<_, _>>()?
        };
        let int = |key: &str, default: i64, min: i64| {
            int_setting(props, key, Some(default), min, i64::MAX).map_err(|e| from_connect(key, e))
        };
        let (batch, empty_wait) = if flume {
            (int("batchSize", 100, 1)?, int("pollDelay", 500, 0)?)
        } else {
            (
                int("batch.size", 1000, 1)?,
                int("empty.poll.wait.ms", 500, 0)?,
            )
        };
        let header = |on: &str, name: &str, default: &str| -> Result<Option<String>, Refusal> {
            Ok(bool_setting(props, on, false)
                .map_err(|e| from_connect(on, e))?
                .then(|| str_setting(props, name).unwrap_or(default).to_string()))
        };
        let decode = match str_setting(props, "decodeErrorPolicy").unwrap_or("FAIL").to_ascii_uppercase().as_str() {
            "FAIL" => Decode::Fail,
            "REPLACE" => Decode::Replace,
            "IGNORE" => Decode::Ignore,
            other => return Err(refuse("decodeErrorPolicy", format!("Invalid value {other} for configuration decodeErrorPolicy: FAIL, REPLACE or IGNORE"))),
        };
        let format = match kind {
            Kind::Lines => Format::Lines {
                max: int(
                    "deserializer.maxLineLength",
                    if flume { 2048 } else { i32::MAX as i64 },
                    1,
                )? as usize,
            },
            Kind::Json => Format::Json,
            Kind::Csv => Format::Csv(Csv {
                header: bool_setting(props, "csv.first.row.as.header", false)
                    .map_err(|e| from_connect("csv.first.row.as.header", e))?,
                separator: char_code(props, "csv.separator.char", 44)?,
                quote: char_code(props, "csv.quote.char", 34)?,
                escape: Some(char_code(props, "csv.escape.char", 92)?).filter(|c| *c != 0),
                skip_lines: int("csv.skip.lines", 0, 0)? as usize,
            }),
        };
        let file_time = match str_setting(props, "timestamp.mode").unwrap_or("PROCESS_TIME") {
            "PROCESS_TIME" => false,
            "FILE_TIME" => true,
            other => return Err(refuse("timestamp.mode", format!("Invalid value {other} for configuration timestamp.mode: PROCESS_TIME or FILE_TIME"))),
        };
        let task_count = int(TASK_COUNT, 1, 1)? as u64;
        let mut skip_suffixes = vec![".ERROR".to_string()];
        if flume {
            skip_suffixes.push(suffix);
        }
        Ok(Settings {
            topic,
            input,
            error,
            include,
            ignore,
            cleanup,
            min_age: Duration::from_millis(int("file.minimum.age.ms", 0, 0)? as u64),
            order,
            halt_on_error: if flume {
                false
            } else {
                bool_setting(props, "halt.on.error", true)
                    .map_err(|e| from_connect("halt.on.error", e))?
            },
            batch: batch as usize,
            empty_wait: Duration::from_millis(empty_wait as u64),
            file_time,
            file_header: header("fileHeader", "fileHeaderKey", "file")?,
            basename_header: header("basenameHeader", "basenameHeaderKey", "basename")?,
            format,
            decode,
            task_index: int(TASK_INDEX, 0, 0)? as u64 % task_count,
            task_count,
            skip_suffixes,
        })
    }

    /// Whether this task reads the file called `name`.
    pub fn wants(&self, name: &str) -> bool {
        !name.starts_with('.')
            && self.include.is_match(name)
            && !self.ignore.as_ref().is_some_and(|i| i.is_match(name))
            && !self
                .skip_suffixes
                .iter()
                .any(|s| name.ends_with(s.as_str()))
            && fnv(name.as_bytes()) % self.task_count == self.task_index
    }
}

/// FNV-1a, 64 bits: stable across runs and machines.
pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(dir: &std::path::Path, extra: &[(&str, &str)]) -> Props {
        let mut p: Props = [("topic", "t")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for d in ["in", "done", "err"] {
            let _ = std::fs::create_dir(dir.join(d));
        }
        p.insert("input.path".into(), dir.join("in").display().to_string());
        p.insert(
            "finished.path".into(),
            dir.join("done").display().to_string(),
        );
        p.insert("error.path".into(), dir.join("err").display().to_string());
        p.insert("input.file.pattern".into(), ".*\\.csv".into());
        for (k, v) in extra {
            p.insert(k.to_string(), v.to_string());
        }
        p
    }

    #[test]
    fn refusals_name_their_key() {
        let tmp = tempfile::tempdir().expect("tmp");
        let ok = Settings::from_props(&props(tmp.path(), &[]), Kind::Csv).expect("valid");
        assert!(ok.wants("a.csv") && !ok.wants("a.csv.txt") && !ok.wants(".a.csv"));
        for (k, v) in [
            ("cleanup.policy", "SHRED"),
            ("input.file.pattern", "("),
            ("finished.path", "/does/not/exist"),
            ("csv.separator.char", "300"),
            ("files.sort.attributes", "Size"),
            ("value.schema", "{}"),
            ("input.path.walk.recursively", "true"),
        ] {
            let e = Settings::from_props(&props(tmp.path(), &[(k, v)]), Kind::Csv).expect_err(k);
            assert_eq!(e.key, k, "{}", e.message);
            assert!(
                e.message.contains(k) || k == "value.schema",
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn flume_keys() {
        let tmp = tempfile::tempdir().expect("tmp");
        let mut p = Props::new();
        p.insert("topic".into(), "t".into());
        p.insert("spoolDir".into(), tmp.path().display().to_string());
        p.insert("fileHeader".into(), "true".into());
        p.insert("ignorePattern".into(), ".*\\.tmp".into());
        let s = Settings::from_props(&p, Kind::Lines).expect("flume");
        assert_eq!(s.cleanup, Cleanup::Suffix(".COMPLETED".into()));
        assert_eq!(s.file_header.as_deref(), Some("file"));
        assert!(s.wants("fred.txt") && !s.wants("fred.txt.COMPLETED") && !s.wants("x.tmp"));
        p.insert("deletePolicy".into(), "sometimes".into());
        assert_eq!(
            Settings::from_props(&p, Kind::Lines)
                .expect_err("policy")
                .key,
            "deletePolicy"
        );
    }
}
