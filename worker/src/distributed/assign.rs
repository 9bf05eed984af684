//! The leader's incremental cooperative assignment (KIP-415) as a pure
//! function of what is configured, what each member runs, the leader's
//! memory of the previous round and the time.
//!
//! One round:
//! - work no longer configured, and second copies of work two members run,
//!   are revoked;
//! - work the previous round handed out that no member runs any more is
//!   *lost*: when a member left the group it is held for
//!   `scheduled.rebalance.max.delay.ms` (given to members that joined with
//!   nothing in the meantime, such as the same worker coming back), then
//!   spread over everyone; when no member left (a missed sync) it is
//!   reassigned at once;
//! - new work goes to the least loaded members (connectors and tasks
//!   counted apart);
//! - when nothing is held, members above their fair share give up the
//!   excess; they rejoin at once and the next round hands it to the others.
//!
//! Members receive only increments: what to start and what to stop.

use std::collections::{BTreeMap, BTreeSet};

use super::protocol::{TaskRef, Work};

/// What the leader remembers between rounds.
#[derive(Debug, Clone, Default)]
pub struct AssignorState {
    /// The full assignment the last round decided, by member id.
    previous: BTreeMap<String, Work>,
    /// Lost work held back until `deadline_ms`.
    held: Work,
    deadline_ms: Option<i64>,
}

impl AssignorState {
    /// What each member runs once the last round's increments are made.
    pub fn current(&self) -> &BTreeMap<String, Work> {
        &self.previous
    }
}

/// One member's share of a round.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    /// To start, in addition to what it runs.
    pub assigned: Work,
    /// To stop.
    pub revoked: Work,
    /// Milliseconds until everyone should rejoin (0: no rebalance scheduled).
    pub delay_ms: i32,
}

/// `members`: member id -> what it reports running; `configured`: every
/// connector and task of the config snapshot.
pub fn assign(
    state: &mut AssignorState,
    configured: &Work,
    members: &BTreeMap<String, Work>,
    now_ms: i64,
    max_delay_ms: i64,
) -> BTreeMap<String, Decision> {
    let mut out: BTreeMap<String, Decision> = members
        .keys()
        .map(|m| (m.clone(), Decision::default()))
        .collect();
    // What each member keeps: its work minus what is deleted or duplicated.
    let mut keeps: BTreeMap<String, Work> = BTreeMap::new();
    let mut running = Work::default();
    for (m, work) in members {
        let d = out.entry(m.clone()).or_default();
        let mut kept = Work::default();
        for c in &work.connectors {
            if !configured.connectors.contains(c) || running.connectors.contains(c) {
                d.revoked.connectors.insert(c.clone());
            } else {
                running.connectors.insert(c.clone());
                kept.connectors.insert(c.clone());
            }
        }
        for t in &work.tasks {
            if !configured.tasks.contains(t) || running.tasks.contains(t) {
                d.revoked.tasks.insert(t.clone());
            } else {
                running.tasks.insert(t.clone());
                kept.tasks.insert(t.clone());
            }
        }
        keeps.insert(m.clone(), kept);
    }

    // Lost: handed out last round, configured, run by nobody now.
    let previous_all = union(state.previous.values());
    let lost = minus(&intersect(&previous_all, configured), &running);
    let departed = state.previous.keys().any(|m| !members.contains_key(m));
    // Held work someone runs again, or that is no longer configured, is no longer held.
    state.held = minus(&intersect(&state.held, configured), &running);
    let newly_lost = minus(&lost, &state.held);
    let mut release = Work::default();
    if !newly_lost.is_empty() {
        if departed && max_delay_ms > 0 {
            extend(&mut state.held, &newly_lost);
            if state.deadline_ms.is_none() {
                state.deadline_ms = Some(now_ms + max_delay_ms);
            }
        } else {
            extend(&mut release, &newly_lost);
        }
    }
    let mut delay_ms = 0i64;
    match state.deadline_ms {
        Some(deadline) if now_ms >= deadline => {
            extend(&mut release, &state.held);
            state.held = Work::default();
            state.deadline_ms = None;
        }
        Some(_) if state.held.is_empty() => state.deadline_ms = None,
        Some(deadline) => {
            delay_ms = deadline - now_ms;
            // Members that joined with nothing (a worker back from a
            // restart, say) take the held work now.
            let fresh: Vec<String> = members
                .iter()
                .filter(|(m, w)| w.is_empty() && !state.previous.contains_key(*m))
                .map(|(m, _)| m.clone())
                .collect();
            if !fresh.is_empty() {
                let held = std::mem::take(&mut state.held);
                spread(&held, &fresh, &mut keeps, &mut out);
                extend(&mut running, &held);
                state.deadline_ms = None;
                delay_ms = 0;
            }
        }
        None => {}
    }

    // New work: configured, not running, not held.
    let mut new = minus(&minus(configured, &running), &state.held);
    extend(&mut new, &release);
    let everyone: Vec<String> = members.keys().cloned().collect();
    spread(&new, &everyone, &mut keeps, &mut out);

    // Balance when nothing is held back.
    if state.held.is_empty() && !members.is_empty() {
        balance(&mut keeps, &mut out);
    }

    let delay = i32::try_from(delay_ms.max(0)).unwrap_or(i32::MAX);
    for d in out.values_mut() {
        d.delay_ms = delay;
    }
    state.previous = keeps;
    out
}

fn union<'a>(works: impl Iterator<Item = &'a Work>) -> Work {
    let mut all = Work::default();
    for w in works {
        extend(&mut all, w);
    }
    all
}

fn extend(into: &mut Work, from: &Work) {
    into.connectors.extend(from.connectors.iter().cloned());
    into.tasks.extend(from.tasks.iter().cloned());
}

fn minus(a: &Work, b: &Work) -> Work {
    Work {
        connectors: a.connectors.difference(&b.connectors).cloned().collect(),
        tasks: a.tasks.difference(&b.tasks).cloned().collect(),
    }
}

fn intersect(a: &Work, b: &Work) -> Work {
    Work {
        connectors: a.connectors.intersection(&b.connectors).cloned().collect(),
        tasks: a.tasks.intersection(&b.tasks).cloned().collect(),
    }
}

/// Hands `work` to the least loaded of `to`, one item at a time
/// (connectors by connector count, tasks by task count; ties by id).
fn spread(
    work: &Work,
    to: &[String],
    keeps: &mut BTreeMap<String, Work>,
    out: &mut BTreeMap<String, Decision>,
) {
    if to.is_empty() {
        return;
    }
    for c in &work.connectors {
        let m = least(to, keeps, |w| w.connectors.len());
        keeps
            .entry(m.clone())
            .or_default()
            .connectors
            .insert(c.clone());
        out.entry(m)
            .or_default()
            .assigned
            .connectors
            .insert(c.clone());
    }
    for t in &work.tasks {
        let m = least(to, keeps, |w| w.tasks.len());
        keeps.entry(m.clone()).or_default().tasks.insert(t.clone());
        out.entry(m).or_default().assigned.tasks.insert(t.clone());
    }
}

fn least(to: &[String], keeps: &BTreeMap<String, Work>, load: impl Fn(&Work) -> usize) -> String {
    to.iter()
        .min_by_key(|m| (keeps.get(*m).map_or(0, &load), (*m).clone()))
        .cloned()
        .unwrap_or_default()
}

/// When some member holds less than the floor of a fair share, revokes
/// the excess from the others: the most loaded keep the ceiling (as many
/// as the remainder allows), the rest the floor. What is revoked is handed
/// out next round. Connectors and tasks are balanced apart.
fn balance(keeps: &mut BTreeMap<String, Work>, out: &mut BTreeMap<String, Decision>) {
    let c_targets = targets(keeps, |w| w.connectors.len());
    let t_targets = targets(keeps, |w| w.tasks.len());
    for (m, w) in keeps.iter_mut() {
        let d = out.entry(m.clone()).or_default();
        if let Some(c) = c_targets.as_ref().and_then(|t| t.get(m)) {
            trim(
                &mut w.connectors,
                &d.assigned.connectors,
                &mut d.revoked.connectors,
                *c,
            );
        }
        if let Some(t) = t_targets.as_ref().and_then(|t| t.get(m)) {
            trim(&mut w.tasks, &d.assigned.tasks, &mut d.revoked.tasks, *t);
        }
    }
}

/// Each member's share when the loads are uneven (someone below the floor).
fn targets(
    keeps: &BTreeMap<String, Work>,
    load: impl Fn(&Work) -> usize,
) -> Option<BTreeMap<String, usize>> {
    let n = keeps.len().max(1);
    let total: usize = keeps.values().map(&load).sum();
    let (floor, rem) = (total / n, total % n);
    if !keeps.values().any(|w| load(w) < floor) {
        return None;
    }
    let mut by_load: Vec<(&String, usize)> = keeps.iter().map(|(m, w)| (m, load(w))).collect();
    by_load.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    Some(
        by_load
            .into_iter()
            .enumerate()
            .map(|(i, (m, _))| (m.clone(), if i < rem { floor + 1 } else { floor }))
            .collect(),
    )
}

/// Moves items from `set` to `revoked` until it holds `keep`, never one
/// handed out in this same round.
fn trim<T: Ord + Clone>(
    set: &mut BTreeSet<T>,
    assigned: &BTreeSet<T>,
    revoked: &mut BTreeSet<T>,
    keep: usize,
) {
    let excess = set.len().saturating_sub(keep);
    let victims: Vec<T> = set
        .iter()
        .rev()
        .filter(|x| !assigned.contains(*x))
        .take(excess)
        .cloned()
        .collect();
    for v in victims {
        set.remove(&v);
        revoked.insert(v);
    }
}

/// Every connector and its tasks 0..n, as a config snapshot describes them.
pub fn configured(connectors: &BTreeMap<String, u32>) -> Work {
    let mut w = Work::default();
    for (c, n) in connectors {
        w.connectors.insert(c.clone());
        for t in 0..*n {
            w.tasks.insert(TaskRef::new(c, t as i32));
        }
    }
    w
}

#[cfg(test)]
#[path = "assign_tests.rs"]
mod tests;
