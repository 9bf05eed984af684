//! The records of Kafka Connect's internal topics, byte for byte: keys are
//! plain strings (JSON arrays in the offsets topic), values schemaless JSON
//! with Kafka Connect's field order, `null` values are tombstones.

use connect_api::Props;
use serde_json::{json, Map, Value as Json};

use crate::runtime::TargetState;

/// Why a record of an internal topic could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{topic} record {key:?}: {why}")]
pub struct RecordError {
    pub topic: &'static str,
    pub key: String,
    pub why: String,
}

/// A record of the config topic.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigRecord {
    /// `connector-<name>`; `None` deletes the connector.
    Connector { name: String, config: Option<Props> },
    /// `task-<name>-<n>`: applied only with the matching commit.
    Task {
        connector: String,
        task: u32,
        config: Props,
    },
    /// `commit-<name>`: the task configs written before it are the set.
    Commit { connector: String, tasks: u32 },
    /// `target-state-<name>`; `None` falls back to STARTED.
    Target {
        connector: String,
        state: Option<TargetState>,
    },
    /// `restart-connector-<name>` (KIP-745).
    Restart {
        connector: String,
        include_tasks: bool,
        only_failed: bool,
    },
    /// `session-key` (KIP-507): the key in base64.
    SessionKey {
        key: String,
        algorithm: String,
        created_ms: i64,
    },
    /// `logger-cluster-<namespace>` (KIP-976).
    LoggerLevel { namespace: String, level: String },
    /// `tasks-fencing-<name>` (KIP-618), kept so it is not lost on rewrite.
    TasksFencing { connector: String, count: i32 },
}

fn props_json(p: &Props) -> Json {
    json!({ "properties": p })
}

fn target_json(s: TargetState) -> Json {
    // STOPPED reads as PAUSED for workers that know only `state`.
    let (v1, v2) = match s {
        TargetState::Started => ("STARTED", "STARTED"),
        TargetState::Paused => ("PAUSED", "PAUSED"),
        TargetState::Stopped => ("PAUSED", "STOPPED"),
    };
    json!({ "state": v1, "state.v2": v2 })
}

impl ConfigRecord {
    pub fn key(&self) -> String {
        match self {
            ConfigRecord::Connector { name, .. } => format!("connector-{name}"),
            ConfigRecord::Task {
                connector, task, ..
            } => format!("task-{connector}-{task}"),
            ConfigRecord::Commit { connector, .. } => format!("commit-{connector}"),
            ConfigRecord::Target { connector, .. } => format!("target-state-{connector}"),
            ConfigRecord::Restart { connector, .. } => format!("restart-connector-{connector}"),
            ConfigRecord::SessionKey { .. } => "session-key".into(),
            ConfigRecord::LoggerLevel { namespace, .. } => format!("logger-cluster-{namespace}"),
            ConfigRecord::TasksFencing { connector, .. } => format!("tasks-fencing-{connector}"),
        }
    }

    /// The value's bytes; `None` for a tombstone.
    pub fn value(&self) -> Option<Vec<u8>> {
        let v = match self {
            ConfigRecord::Connector { config, .. } => props_json(config.as_ref()?),
            ConfigRecord::Task { config, .. } => props_json(config),
            ConfigRecord::Commit { tasks, .. } => json!({ "tasks": tasks }),
            ConfigRecord::Target { state, .. } => target_json((*state)?),
            ConfigRecord::Restart {
                include_tasks,
                only_failed,
                ..
            } => json!({ "include-tasks": include_tasks, "only-failed": only_failed }),
            ConfigRecord::SessionKey {
                key,
                algorithm,
                created_ms,
            } => json!({ "key": key, "algorithm": algorithm, "creation-timestamp": created_ms }),
            ConfigRecord::LoggerLevel { level, .. } => json!({ "level": level }),
            ConfigRecord::TasksFencing { count, .. } => json!({ "task-count": count }),
        };
        Some(v.to_string().into_bytes())
    }

    /// Reads a record; `Ok(None)` for keys this version does not know
    /// (Kafka Connect skips those too).
    pub fn parse(key: &[u8], value: Option<&[u8]>) -> Result<Option<Self>, RecordError> {
        let key = String::from_utf8_lossy(key).into_owned();
        let fail = |why: String| RecordError {
            topic: "config",
            key: key.clone(),
            why,
        };
        let body: Option<Map<String, Json>> = match value {
            None => None,
            Some(b) => match serde_json::from_slice::<Json>(b) {
                Ok(Json::Object(m)) => Some(m),
                Ok(Json::Null) => None,
                Ok(other) => return Err(fail(format!("value is not an object: {other}"))),
                Err(e) => return Err(fail(format!("value is not JSON: {e}"))),
            },
        };
        let need = |what: &str| -> Result<&Map<String, Json>, RecordError> {
            body.as_ref()
                .ok_or_else(|| fail(format!("a {what} record needs a value")))
        };
        let int = |m: &Map<String, Json>, f: &str| -> Result<i64, RecordError> {
            m.get(f)
                .and_then(Json::as_i64)
                .ok_or_else(|| fail(format!("field {f:?} is missing or not an integer")))
        };
        let flag =
            |m: &Map<String, Json>, f: &str| m.get(f).and_then(Json::as_bool).unwrap_or(false);
        Ok(Some(if let Some(name) = key.strip_prefix("connector-") {
            ConfigRecord::Connector {
                name: name.into(),
                config: body.as_ref().map(properties).transpose().map_err(fail)?,
            }
        } else if let Some(rest) = key.strip_prefix("task-") {
            let (connector, task) = rest
                .rsplit_once('-')
                .and_then(|(c, n)| Some((c, n.parse::<u32>().ok()?)))
                .ok_or_else(|| fail("the key is not task-<connector>-<n>".into()))?;
            ConfigRecord::Task {
                connector: connector.into(),
                task,
                config: properties(need("task")?).map_err(fail)?,
            }
        } else if let Some(connector) = key.strip_prefix("commit-") {
            let tasks = int(need("commit")?, "tasks")?;
            ConfigRecord::Commit {
                connector: connector.into(),
                tasks: u32::try_from(tasks).map_err(|_| fail(format!("task count {tasks}")))?,
            }
        } else if let Some(connector) = key.strip_prefix("target-state-") {
            let state = match &body {
                None => None,
                Some(m) => {
                    let s = m
                        .get("state.v2")
                        .or_else(|| m.get("state"))
                        .and_then(Json::as_str)
                        .unwrap_or("");
                    Some(match s {
                        "STARTED" => TargetState::Started,
                        "PAUSED" => TargetState::Paused,
                        "STOPPED" => TargetState::Stopped,
                        other => return Err(fail(format!("unknown target state {other:?}"))),
                    })
                }
            };
            ConfigRecord::Target {
                connector: connector.into(),
                state,
            }
        } else if let Some(connector) = key.strip_prefix("restart-connector-") {
            let m = need("restart")?;
            ConfigRecord::Restart {
                connector: connector.into(),
                include_tasks: flag(m, "include-tasks"),
                only_failed: flag(m, "only-failed"),
            }
        } else if key == "session-key" {
            let m = need("session key")?;
            ConfigRecord::SessionKey {
                key: m.get("key").and_then(Json::as_str).unwrap_or("").into(),
                algorithm: m
                    .get("algorithm")
                    .and_then(Json::as_str)
                    .unwrap_or("")
                    .into(),
                created_ms: int(m, "creation-timestamp")?,
            }
        } else if let Some(namespace) = key.strip_prefix("logger-cluster-") {
            let m = need("logger")?;
            ConfigRecord::LoggerLevel {
                namespace: namespace.into(),
                level: m.get("level").and_then(Json::as_str).unwrap_or("").into(),
            }
        } else if let Some(connector) = key.strip_prefix("tasks-fencing-") {
            let count = int(need("task count")?, "task-count")?;
            ConfigRecord::TasksFencing {
                connector: connector.into(),
                count: i32::try_from(count).map_err(|_| fail(format!("task count {count}")))?,
            }
        } else {
            return Ok(None);
        }))
    }
}

/// `{"properties": {...}}` -> the map (null values dropped, others as text).
fn properties(m: &Map<String, Json>) -> Result<Props, String> {
    let p = m
        .get("properties")
        .and_then(Json::as_object)
        .ok_or("no \"properties\" object")?;
    Ok(p.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_string),
            )
        })
        .collect())
}

/// A status in the status topic (`status-connector-<c>`, `status-task-<c>-<n>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRecord {
    /// `UNASSIGNED`, `RUNNING`, `PAUSED`, `FAILED`, `RESTARTING`, `STOPPED`
    /// (`DESTROYED` is written as a tombstone).
    pub state: String,
    pub trace: Option<String>,
    pub worker_id: String,
    pub generation: i32,
}

/// Whose status a status-topic key holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusKey {
    Connector(String),
    Task(String, u32),
    /// `status-topic-<topic>:connector-<c>` (KIP-558).
    Topic {
        topic: String,
        connector: String,
    },
}

impl StatusKey {
    pub fn key(&self) -> String {
        match self {
            StatusKey::Connector(c) => format!("status-connector-{c}"),
            StatusKey::Task(c, n) => format!("status-task-{c}-{n}"),
            StatusKey::Topic { topic, connector } => {
                format!("status-topic-{topic}:connector-{connector}")
            }
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        if let Some(c) = key.strip_prefix("status-connector-") {
            return Some(StatusKey::Connector(c.into()));
        }
        if let Some(rest) = key.strip_prefix("status-task-") {
            let (c, n) = rest.rsplit_once('-')?;
            return Some(StatusKey::Task(c.into(), n.parse().ok()?));
        }
        let rest = key.strip_prefix("status-topic-")?;
        let (topic, connector) = rest.split_once(":connector-")?;
        Some(StatusKey::Topic {
            topic: topic.into(),
            connector: connector.into(),
        })
    }
}

impl StatusRecord {
    pub fn value(&self) -> Vec<u8> {
        json!({
            "state": self.state,
            "trace": self.trace,
            "worker_id": self.worker_id,
            "generation": self.generation,
        })
        .to_string()
        .into_bytes()
    }

    pub fn parse(key: &str, value: &[u8]) -> Result<Self, RecordError> {
        let fail = |why: String| RecordError {
            topic: "status",
            key: key.into(),
            why,
        };
        let m: Map<String, Json> = serde_json::from_slice(value)
            .map_err(|e| fail(format!("value is not a JSON object: {e}")))?;
        Ok(StatusRecord {
            state: m
                .get("state")
                .and_then(Json::as_str)
                .ok_or_else(|| fail("no state".into()))?
                .into(),
            trace: m.get("trace").and_then(Json::as_str).map(str::to_string),
            worker_id: m
                .get("worker_id")
                .and_then(Json::as_str)
                .unwrap_or("")
                .into(),
            generation: m
                .get("generation")
                .and_then(Json::as_i64)
                .and_then(|g| i32::try_from(g).ok())
                .unwrap_or(-1),
        })
    }
}

/// The value of a `status-topic-...` record.
pub fn topic_status_value(topic: &str, connector: &str, task: u32, discovered_ms: i64) -> Vec<u8> {
    json!({"topic": {"name": topic, "connector": connector, "task": task, "discoverTimestamp": discovered_ms}})
        .to_string()
        .into_bytes()
}

#[cfg(test)]
#[path = "records_tests.rs"]
mod tests;
