//! The assignor's rounds: joins, leaves, returns within and after the
//! delay, uneven loads, deletions and duplicates.

use super::*;

const DELAY: i64 = 10_000;

fn snapshot(connectors: &[(&str, u32)]) -> Work {
    configured(
        &connectors
            .iter()
            .map(|(c, n)| (c.to_string(), *n))
            .collect(),
    )
}

/// Runs rounds the way workers would: each applies its decision, and
/// everyone rejoins while anything was revoked.
struct Cluster {
    state: AssignorState,
    running: BTreeMap<String, Work>,
    now: i64,
}

impl Cluster {
    fn new(members: &[&str]) -> Self {
        Cluster {
            state: AssignorState::default(),
            running: members
                .iter()
                .map(|m| (m.to_string(), Work::default()))
                .collect(),
            now: 0,
        }
    }

    fn round(&mut self, configured: &Work) -> BTreeMap<String, Decision> {
        let out = assign(&mut self.state, configured, &self.running, self.now, DELAY);
        for (m, d) in &out {
            let w = self.running.entry(m.clone()).or_default();
            w.apply(&d.assigned, &d.revoked);
        }
        out
    }

    /// Rounds until nothing is revoked (the cooperative follow-up rounds).
    fn settle(&mut self, configured: &Work) -> BTreeMap<String, Decision> {
        for _ in 0..5 {
            let out = self.round(configured);
            if out.values().all(|d| d.revoked.is_empty()) {
                return out;
            }
        }
        panic!("no stable assignment after 5 rounds: {:?}", self.running);
    }

    fn loads(&self) -> Vec<(usize, usize)> {
        self.running
            .values()
            .map(|w| (w.connectors.len(), w.tasks.len()))
            .collect()
    }

    /// Every configured item runs exactly once.
    fn check_complete(&self, configured: &Work) {
        let mut seen = Work::default();
        for w in self.running.values() {
            for c in &w.connectors {
                assert!(seen.connectors.insert(c.clone()), "{c} runs twice");
            }
            for t in &w.tasks {
                assert!(seen.tasks.insert(t.clone()), "{t:?} runs twice");
            }
        }
        assert_eq!(&seen, configured);
    }
}

#[test]
fn join_spreads_connectors_and_tasks_evenly() {
    let cfg = snapshot(&[("a", 4), ("b", 2)]);
    let mut c = Cluster::new(&["w1", "w2", "w3"]);
    let out = c.settle(&cfg);
    c.check_complete(&cfg);
    assert_eq!(c.loads(), vec![(1, 2), (1, 2), (0, 2)]);
    assert!(out.values().all(|d| d.delay_ms == 0));
}

#[test]
fn a_new_member_gets_a_share_through_revocation_first() {
    let cfg = snapshot(&[("a", 6)]);
    let mut c = Cluster::new(&["w1"]);
    c.settle(&cfg);
    assert_eq!(c.loads(), vec![(1, 6)]);
    c.running.insert("w2".into(), Work::default());
    // First round: w1 gives up three tasks and w2 gets nothing yet.
    let first = c.round(&cfg);
    assert_eq!(first["w1"].revoked.tasks.len(), 3);
    assert!(first["w2"].assigned.is_empty());
    // Second round: the revoked tasks go to w2; nothing else moves.
    let second = c.round(&cfg);
    assert_eq!(second["w2"].assigned.tasks.len(), 3);
    assert!(second["w1"].revoked.is_empty() && second["w1"].assigned.is_empty());
    c.check_complete(&cfg);
}

#[test]
fn a_departed_members_work_is_held_for_the_delay_then_spread() {
    let cfg = snapshot(&[("a", 4)]);
    let mut c = Cluster::new(&["w1", "w2"]);
    c.settle(&cfg);
    let gone = c.running.remove("w2").expect("w2");
    c.now = 1_000;
    let out = c.round(&cfg);
    // Held: nobody gets w2's work, and everyone is told when to rejoin.
    assert!(out["w1"].assigned.is_empty());
    assert_eq!(out["w1"].delay_ms, DELAY as i32);
    c.now = 6_000;
    let out = c.round(&cfg);
    assert!(out["w1"].assigned.is_empty());
    assert_eq!(out["w1"].delay_ms, 5_000);
    // After the delay the lost work goes to who is there.
    c.now = 11_000;
    let out = c.round(&cfg);
    assert_eq!(out["w1"].assigned, gone);
    assert_eq!(out["w1"].delay_ms, 0);
    c.check_complete(&cfg);
}

#[test]
fn a_member_back_within_the_delay_takes_the_held_work() {
    let cfg = snapshot(&[("a", 4), ("b", 1)]);
    let mut c = Cluster::new(&["w1", "w2"]);
    c.settle(&cfg);
    let gone = c.running.remove("w2").expect("w2");
    c.now = 1_000;
    c.round(&cfg);
    // The worker restarts: a new member id, running nothing.
    c.running.insert("w2-again".into(), Work::default());
    c.now = 3_000;
    let out = c.round(&cfg);
    assert_eq!(out["w2-again"].assigned, gone);
    assert!(out["w1"].assigned.is_empty() && out["w1"].revoked.is_empty());
    assert_eq!(out["w1"].delay_ms, 0);
    c.check_complete(&cfg);
}

#[test]
fn a_member_back_after_the_delay_gets_a_share_by_rebalancing() {
    let cfg = snapshot(&[("a", 4)]);
    let mut c = Cluster::new(&["w1", "w2"]);
    c.settle(&cfg);
    c.running.remove("w2");
    c.now = 1_000;
    c.round(&cfg);
    c.now = 12_000;
    c.round(&cfg);
    assert_eq!(c.loads(), vec![(1, 4)]);
    c.running.insert("w3".into(), Work::default());
    c.now = 13_000;
    c.settle(&cfg);
    c.check_complete(&cfg);
    assert_eq!(c.loads(), vec![(1, 2), (0, 2)]);
}

#[test]
fn lost_work_without_a_departure_is_reassigned_at_once() {
    let cfg = snapshot(&[("a", 2)]);
    let mut c = Cluster::new(&["w1", "w2"]);
    c.settle(&cfg);
    // w2 is still a member but reports nothing (it missed the last sync).
    let lost = std::mem::take(c.running.get_mut("w2").expect("w2"));
    let out = c.round(&cfg);
    assert_eq!(out["w1"].delay_ms, 0);
    let given = union([&out["w1"].assigned, &out["w2"].assigned].into_iter());
    assert_eq!(given, lost);
    c.check_complete(&cfg);
}

#[test]
fn deleted_and_duplicated_work_is_revoked() {
    let cfg = snapshot(&[("a", 2), ("b", 1)]);
    let mut c = Cluster::new(&["w1", "w2"]);
    c.settle(&cfg);
    // b is deleted; w2 also claims a task w1 runs.
    let fewer = snapshot(&[("a", 2)]);
    let w1_task = c.running["w1"]
        .tasks
        .iter()
        .next()
        .cloned()
        .expect("a task");
    c.running
        .get_mut("w2")
        .expect("w2")
        .tasks
        .insert(w1_task.clone());
    let out = c.round(&fewer);
    let revoked = union([&out["w1"].revoked, &out["w2"].revoked].into_iter());
    assert!(revoked.connectors.contains("b"));
    assert!(revoked.tasks.contains(&TaskRef::new("b", 0)));
    assert!(out["w2"].revoked.tasks.contains(&w1_task));
    c.settle(&fewer);
    c.check_complete(&fewer);
}

#[test]
fn uneven_loads_settle_within_one_of_each_other() {
    let cfg = snapshot(&[("a", 7), ("b", 3), ("c", 1)]);
    let mut c = Cluster::new(&["w1"]);
    c.settle(&cfg);
    for m in ["w2", "w3", "w4"] {
        c.running.insert(m.into(), Work::default());
        c.settle(&cfg);
        c.check_complete(&cfg);
    }
    let loads = c.loads();
    let tasks: Vec<usize> = loads.iter().map(|l| l.1).collect();
    let conns: Vec<usize> = loads.iter().map(|l| l.0).collect();
    assert!(
        tasks.iter().max().expect("max") - tasks.iter().min().expect("min") <= 1,
        "{loads:?}"
    );
    assert!(
        conns.iter().max().expect("max") - conns.iter().min().expect("min") <= 1,
        "{loads:?}"
    );
}

#[test]
fn a_new_leader_without_memory_keeps_what_runs() {
    let cfg = snapshot(&[("a", 2)]);
    let mut c = Cluster::new(&["w1", "w2"]);
    c.settle(&cfg);
    c.state = AssignorState::default();
    let out = c.round(&cfg);
    assert!(out
        .values()
        .all(|d| d.assigned.is_empty() && d.revoked.is_empty()));
    c.check_complete(&cfg);
}

#[test]
fn a_third_member_gets_a_task_when_two_hold_two_each() {
    let cfg = snapshot(&[("a", 4)]);
    let mut c = Cluster::new(&["w1", "w2"]);
    c.settle(&cfg);
    assert_eq!(c.loads(), vec![(1, 2), (0, 2)]);
    c.running.insert("w3".into(), Work::default());
    c.settle(&cfg);
    c.check_complete(&cfg);
    let tasks: Vec<usize> = c.loads().iter().map(|l| l.1).collect();
    assert_eq!(tasks.iter().sum::<usize>(), 4);
    assert!(tasks.iter().all(|t| *t >= 1), "{tasks:?}");
}
