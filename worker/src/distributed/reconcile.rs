//! What a worker must start, stop or change so that what it runs matches
//! its assignment and the config snapshot: a pure function, so the herder
//! around it only carries the actions out.

use std::collections::BTreeMap;

use connect_api::Props;

use super::protocol::{TaskRef, Work};
use super::snapshot::ConfigSnapshot;
use crate::runtime::TargetState;

/// What a worker runs now: each connector and task with the config and
/// target state it was started or last changed with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Local {
    pub connectors: BTreeMap<String, (Props, TargetState)>,
    pub tasks: BTreeMap<TaskRef, (Props, TargetState)>,
}

/// One step, in the order given (stops before starts).
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    StopTask(TaskRef),
    StopConnector(String),
    StartConnector {
        name: String,
        config: Props,
        target: TargetState,
    },
    /// Pause or resume a running connector (STOPPED connectors do not run).
    TargetConnector {
        name: String,
        target: TargetState,
    },
    StartTask {
        task: TaskRef,
        config: Props,
        target: TargetState,
    },
    TargetTask {
        task: TaskRef,
        target: TargetState,
    },
}

/// The actions that make `local` what `owned` and `snapshot` say.
/// A STOPPED connector runs neither its instance nor tasks; a changed
/// config restarts what it concerns; work no longer owned or configured
/// stops.
pub fn plan(snapshot: &ConfigSnapshot, owned: &Work, local: &Local) -> Vec<Action> {
    let mut stops = Vec::new();
    let mut starts = Vec::new();

    // Tasks: the wanted config is the committed one for this index.
    let wanted_task = |t: &TaskRef| -> Option<(&Props, TargetState)> {
        let target = snapshot.target(&t.connector);
        if target == TargetState::Stopped || !owned.tasks.contains(t) {
            return None;
        }
        let config = snapshot
            .tasks
            .get(&t.connector)?
            .get(usize::try_from(t.task).ok()?)?;
        Some((config, target))
    };
    for (t, (config, target)) in &local.tasks {
        match wanted_task(t) {
            None => stops.push(Action::StopTask(t.clone())),
            Some((want, _)) if want != config => {
                stops.push(Action::StopTask(t.clone()));
                starts.push(start_task(t, want, snapshot.target(&t.connector)));
            }
            Some((_, want_target)) if want_target != *target => starts.push(Action::TargetTask {
                task: t.clone(),
                target: want_target,
            }),
            Some(_) => {}
        }
    }
    for t in &owned.tasks {
        if !local.tasks.contains_key(t) {
            if let Some((config, target)) = wanted_task(t) {
                starts.push(start_task(t, config, target));
            }
        }
    }

    // Connectors.
    let wanted_connector = |c: &str| -> Option<(&Props, TargetState)> {
        let target = snapshot.target(c);
        if target == TargetState::Stopped || !owned.connectors.contains(c) {
            return None;
        }
        Some((snapshot.connectors.get(c)?, target))
    };
    for (c, (config, target)) in &local.connectors {
        match wanted_connector(c) {
            None => stops.push(Action::StopConnector(c.clone())),
            Some((want, want_target)) if want != config => {
                stops.push(Action::StopConnector(c.clone()));
                starts.push(Action::StartConnector {
                    name: c.clone(),
                    config: want.clone(),
                    target: want_target,
                });
            }
            Some((_, want_target)) if want_target != *target => {
                starts.push(Action::TargetConnector {
                    name: c.clone(),
                    target: want_target,
                })
            }
            Some(_) => {}
        }
    }
    for c in &owned.connectors {
        if !local.connectors.contains_key(c) {
            if let Some((config, target)) = wanted_connector(c) {
                starts.push(Action::StartConnector {
                    name: c.clone(),
                    config: config.clone(),
                    target,
                });
            }
        }
    }
    stops.extend(starts);
    stops
}

fn start_task(t: &TaskRef, config: &Props, target: TargetState) -> Action {
    Action::StartTask {
        task: t.clone(),
        config: config.clone(),
        target,
    }
}

/// Whether the leader must write `generated` as the connector's task
/// configs: they differ from the committed ones, or the committed set is
/// inconsistent.
pub fn task_configs_changed(
    snapshot: &ConfigSnapshot,
    connector: &str,
    generated: &[Props],
) -> bool {
    snapshot.inconsistent.contains(connector)
        || snapshot.tasks.get(connector).map(Vec::as_slice) != Some(generated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributed::records::ConfigRecord;

    fn props(kv: &[(&str, &str)]) -> Props {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// A snapshot with connector `c` (config `cfg`) and `n` committed tasks.
    fn snapshot(cfg: &Props, n: u32, target: Option<TargetState>) -> ConfigSnapshot {
        let mut s = ConfigSnapshot::default();
        let mut at = 0;
        let mut apply = |s: &mut ConfigSnapshot, r| {
            s.apply(at, r);
            at += 1;
        };
        apply(
            &mut s,
            ConfigRecord::Connector {
                name: "c".into(),
                config: Some(cfg.clone()),
            },
        );
        for i in 0..n {
            apply(
                &mut s,
                ConfigRecord::Task {
                    connector: "c".into(),
                    task: i,
                    config: props(&[("task", &i.to_string())]),
                },
            );
        }
        apply(
            &mut s,
            ConfigRecord::Commit {
                connector: "c".into(),
                tasks: n,
            },
        );
        if let Some(t) = target {
            apply(
                &mut s,
                ConfigRecord::Target {
                    connector: "c".into(),
                    state: Some(t),
                },
            );
        }
        s
    }

    fn owned(connector: bool, tasks: &[i32]) -> Work {
        Work {
            connectors: if connector {
                ["c".to_string()].into()
            } else {
                Default::default()
            },
            tasks: tasks.iter().map(|t| TaskRef::new("c", *t)).collect(),
        }
    }

    /// Carries actions out on `local`, as the herder would.
    fn apply(local: &mut Local, actions: &[Action]) {
        for a in actions {
            match a {
                Action::StopTask(t) => {
                    local.tasks.remove(t);
                }
                Action::StopConnector(c) => {
                    local.connectors.remove(c);
                }
                Action::StartConnector {
                    name,
                    config,
                    target,
                } => {
                    local
                        .connectors
                        .insert(name.clone(), (config.clone(), *target));
                }
                Action::TargetConnector { name, target } => {
                    if let Some(e) = local.connectors.get_mut(name) {
                        e.1 = *target;
                    }
                }
                Action::StartTask {
                    task,
                    config,
                    target,
                } => {
                    local.tasks.insert(task.clone(), (config.clone(), *target));
                }
                Action::TargetTask { task, target } => {
                    if let Some(e) = local.tasks.get_mut(task) {
                        e.1 = *target;
                    }
                }
            }
        }
    }

    #[test]
    fn owned_work_starts_and_a_second_plan_is_empty() {
        let cfg = props(&[("tasks.max", "2")]);
        let s = snapshot(&cfg, 2, None);
        let mut local = Local::default();
        let actions = plan(&s, &owned(true, &[1]), &local);
        assert_eq!(actions.len(), 2, "{actions:?}");
        assert!(matches!(&actions[0], Action::StartTask { task, .. } if task.task == 1));
        assert!(
            matches!(&actions[1], Action::StartConnector { name, target: TargetState::Started, .. } if name == "c")
        );
        apply(&mut local, &actions);
        assert!(plan(&s, &owned(true, &[1]), &local).is_empty());
    }

    #[test]
    fn revoked_work_stops_and_changed_configs_restart() {
        let cfg = props(&[("tasks.max", "2")]);
        let mut local = Local::default();
        let first = plan(&snapshot(&cfg, 2, None), &owned(true, &[0, 1]), &local);
        apply(&mut local, &first);
        // Task 1 revoked.
        let actions = plan(&snapshot(&cfg, 2, None), &owned(true, &[0]), &local);
        assert_eq!(actions, vec![Action::StopTask(TaskRef::new("c", 1))]);
        apply(&mut local, &actions);
        // A new connector config restarts the connector instance (tasks follow their own configs).
        let changed = props(&[("tasks.max", "2"), ("file", "/y")]);
        let actions = plan(&snapshot(&changed, 2, None), &owned(true, &[0]), &local);
        assert_eq!(actions.len(), 2, "{actions:?}");
        assert_eq!(actions[0], Action::StopConnector("c".into()));
        assert!(matches!(&actions[1], Action::StartConnector { config, .. } if config == &changed));
    }

    #[test]
    fn paused_work_is_paused_and_stopped_work_stops() {
        let cfg = props(&[]);
        let mut local = Local::default();
        let first = plan(&snapshot(&cfg, 1, None), &owned(true, &[0]), &local);
        apply(&mut local, &first);
        let paused = snapshot(&cfg, 1, Some(TargetState::Paused));
        let actions = plan(&paused, &owned(true, &[0]), &local);
        assert_eq!(
            actions,
            vec![
                Action::TargetTask {
                    task: TaskRef::new("c", 0),
                    target: TargetState::Paused
                },
                Action::TargetConnector {
                    name: "c".into(),
                    target: TargetState::Paused
                },
            ]
        );
        apply(&mut local, &actions);
        // STOPPED: zero tasks committed and the target written; nothing runs.
        let stopped = snapshot(&cfg, 0, Some(TargetState::Stopped));
        let actions = plan(&stopped, &owned(true, &[0]), &local);
        assert_eq!(
            actions,
            vec![
                Action::StopTask(TaskRef::new("c", 0)),
                Action::StopConnector("c".into())
            ]
        );
        apply(&mut local, &actions);
        assert_eq!(local, Local::default());
    }

    #[test]
    fn uncommitted_tasks_wait_and_the_leader_rewrites_changed_configs() {
        let cfg = props(&[]);
        let s = snapshot(&cfg, 1, None);
        // Task 3 is assigned before its config is committed: nothing to start yet.
        assert!(plan(&s, &owned(false, &[3]), &Local::default()).is_empty());
        assert!(!task_configs_changed(&s, "c", &[props(&[("task", "0")])]));
        assert!(task_configs_changed(
            &s,
            "c",
            &[props(&[("task", "0")]), props(&[("task", "1")])]
        ));
        assert!(task_configs_changed(&s, "new", &[]));
    }
}
