//! The state the config topic describes, built by applying its records in
//! order: connector configs, target states, and task configs that become
//! visible only with their commit record.

use std::collections::{BTreeMap, BTreeSet};

use connect_api::Props;

use super::protocol::{TaskRef, Work};
use super::records::ConfigRecord;
use crate::runtime::TargetState;

/// Something a worker acts on when it reads it, beyond the state itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Restart {
        connector: String,
        include_tasks: bool,
        only_failed: bool,
    },
    LoggerLevel {
        namespace: String,
        level: String,
    },
}

/// The config topic read up to `offset` (the next offset to read).
#[derive(Debug, Clone, Default)]
pub struct ConfigSnapshot {
    pub offset: i64,
    pub connectors: BTreeMap<String, Props>,
    targets: BTreeMap<String, TargetState>,
    /// Committed task configs, task `i` at index `i`.
    pub tasks: BTreeMap<String, Vec<Props>>,
    /// Task configs read but not yet committed.
    pending: BTreeMap<String, BTreeMap<u32, Props>>,
    /// Connectors whose last commit did not match the task configs before it
    /// (compaction can do that); the leader writes their tasks again.
    pub inconsistent: BTreeSet<String>,
    /// The latest session key: (base64 key, algorithm, created ms).
    pub session_key: Option<(String, String, i64)>,
}

impl ConfigSnapshot {
    /// Applies the record at `offset`.
    pub fn apply(&mut self, offset: i64, record: ConfigRecord) -> Option<Event> {
        self.offset = self.offset.max(offset + 1);
        match record {
            ConfigRecord::Connector {
                name,
                config: Some(config),
            } => {
                self.connectors.insert(name, config);
            }
            ConfigRecord::Connector { name, config: None } => {
                self.connectors.remove(&name);
                self.targets.remove(&name);
                self.tasks.remove(&name);
                self.pending.remove(&name);
                self.inconsistent.remove(&name);
            }
            ConfigRecord::Task {
                connector,
                task,
                config,
            } => {
                self.pending
                    .entry(connector)
                    .or_default()
                    .insert(task, config);
            }
            ConfigRecord::Commit { connector, tasks } => {
                let deferred = self.pending.remove(&connector).unwrap_or_default();
                let complete = deferred.len() == tasks as usize
                    && (0..tasks).all(|i| deferred.contains_key(&i));
                if complete {
                    self.tasks
                        .insert(connector.clone(), deferred.into_values().collect());
                    self.inconsistent.remove(&connector);
                } else {
                    self.inconsistent.insert(connector);
                }
            }
            ConfigRecord::Target {
                connector,
                state: Some(s),
            } => {
                self.targets.insert(connector, s);
            }
            ConfigRecord::Target {
                connector,
                state: None,
            } => {
                self.targets.remove(&connector);
            }
            ConfigRecord::Restart {
                connector,
                include_tasks,
                only_failed,
            } => {
                return Some(Event::Restart {
                    connector,
                    include_tasks,
                    only_failed,
                })
            }
            ConfigRecord::SessionKey {
                key,
                algorithm,
                created_ms,
            } => self.session_key = Some((key, algorithm, created_ms)),
            ConfigRecord::LoggerLevel { namespace, level } => {
                return Some(Event::LoggerLevel { namespace, level })
            }
            ConfigRecord::TasksFencing { .. } => {}
        }
        None
    }

    /// A connector's target state (STARTED when none was written).
    pub fn target(&self, connector: &str) -> TargetState {
        self.targets
            .get(connector)
            .copied()
            .unwrap_or(TargetState::Started)
    }

    /// Every connector and committed task: what the leader assigns.
    pub fn work(&self) -> Work {
        let mut w = Work::default();
        for c in self.connectors.keys() {
            w.connectors.insert(c.clone());
            for i in 0..self.tasks.get(c).map_or(0, Vec::len) {
                w.tasks.insert(TaskRef::new(c, i as i32));
            }
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(kv: &[(&str, &str)]) -> Props {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn task(c: &str, n: u32) -> ConfigRecord {
        ConfigRecord::Task {
            connector: c.into(),
            task: n,
            config: props(&[("task", &n.to_string())]),
        }
    }

    #[test]
    fn task_configs_appear_only_with_a_matching_commit() {
        let mut s = ConfigSnapshot::default();
        s.apply(
            0,
            ConfigRecord::Connector {
                name: "c".into(),
                config: Some(props(&[("tasks.max", "2")])),
            },
        );
        s.apply(1, task("c", 0));
        s.apply(2, task("c", 1));
        assert!(s.tasks.is_empty(), "not before the commit");
        assert_eq!(s.work().tasks.len(), 0);
        s.apply(
            3,
            ConfigRecord::Commit {
                connector: "c".into(),
                tasks: 2,
            },
        );
        assert_eq!(s.tasks["c"].len(), 2);
        assert_eq!(s.tasks["c"][1]["task"], "1");
        assert_eq!(s.offset, 4);
        assert_eq!(s.work().tasks.len(), 2);
        assert_eq!(s.target("c"), TargetState::Started);
    }

    #[test]
    fn a_commit_that_does_not_match_marks_the_connector_inconsistent() {
        let mut s = ConfigSnapshot::default();
        s.apply(0, task("c", 0));
        s.apply(
            1,
            ConfigRecord::Commit {
                connector: "c".into(),
                tasks: 2,
            },
        );
        assert!(s.inconsistent.contains("c"));
        assert!(!s.tasks.contains_key("c"));
        s.apply(2, task("c", 0));
        s.apply(3, task("c", 1));
        s.apply(
            4,
            ConfigRecord::Commit {
                connector: "c".into(),
                tasks: 2,
            },
        );
        assert!(s.inconsistent.is_empty());
    }

    #[test]
    fn stop_commits_zero_tasks_and_delete_forgets_everything() {
        let mut s = ConfigSnapshot::default();
        s.apply(
            0,
            ConfigRecord::Connector {
                name: "c".into(),
                config: Some(props(&[])),
            },
        );
        s.apply(1, task("c", 0));
        s.apply(
            2,
            ConfigRecord::Commit {
                connector: "c".into(),
                tasks: 1,
            },
        );
        s.apply(
            3,
            ConfigRecord::Commit {
                connector: "c".into(),
                tasks: 0,
            },
        );
        s.apply(
            4,
            ConfigRecord::Target {
                connector: "c".into(),
                state: Some(TargetState::Stopped),
            },
        );
        assert_eq!(s.tasks["c"].len(), 0);
        assert_eq!(s.target("c"), TargetState::Stopped);
        s.apply(
            5,
            ConfigRecord::Connector {
                name: "c".into(),
                config: None,
            },
        );
        s.apply(
            6,
            ConfigRecord::Target {
                connector: "c".into(),
                state: None,
            },
        );
        assert!(s.connectors.is_empty() && s.tasks.is_empty());
        assert_eq!(s.target("c"), TargetState::Started);
        let e = s.apply(
            7,
            ConfigRecord::Restart {
                connector: "d".into(),
                include_tasks: true,
                only_failed: true,
            },
        );
        assert!(matches!(e, Some(Event::Restart { ref connector, .. }) if connector == "d"));
    }
}
