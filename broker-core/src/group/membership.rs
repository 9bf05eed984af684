//! JoinGroup, SyncGroup, Heartbeat and LeaveGroup on the classic protocol.

use bytes::Bytes;

use super::{Coordinator, Effect, Group, GroupState, Member};
use crate::error_code as ec;

/// A JoinGroup request, decoupled from the wire version.
#[derive(Debug, Clone)]
pub struct JoinParams {
    pub group_id: String,
    pub member_id: String,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout_ms: i32,
    pub rebalance_timeout_ms: i32,
    pub protocol_type: String,
    pub protocols: Vec<(String, Bytes)>,
    /// JoinGroup v4+ without a static instance id: KIP-394 handshake.
    pub require_known_member_id: bool,
}

/// The answer to a JoinGroup.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JoinResult {
    pub error: i16,
    pub generation: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub leader: String,
    pub member_id: String,
    /// Only the leader gets the members (id, instance id, metadata).
    pub members: Vec<(String, Option<String>, Bytes)>,
}

impl JoinResult {
    fn error(code: i16, member_id: &str) -> Self {
        Self {
            error: code,
            generation: -1,
            member_id: member_id.to_string(),
            ..Self::default()
        }
    }
}

/// A SyncGroup request.
#[derive(Debug, Clone)]
pub struct SyncParams {
    pub group_id: String,
    pub generation: i32,
    pub member_id: String,
    pub instance_id: Option<String>,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub assignments: Vec<(String, Bytes)>,
}

/// How a JoinGroup or SyncGroup ends: now, or later through an [`Effect`].
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<T> {
    Now(T),
    /// Parked under this member id.
    Parked(String),
}

fn new_member_id(client_id: &str) -> String {
    let prefix = if client_id.is_empty() {
        "member"
    } else {
        client_id
    };
    format!("{prefix}-{}", uuid::Uuid::new_v4())
}

impl Coordinator {
    pub fn join(&mut self, p: JoinParams, now: u64) -> (Outcome<JoinResult>, Vec<Effect>) {
        let mut fx = Vec::new();
        if p.group_id.is_empty() {
            return (
                Outcome::Now(JoinResult::error(ec::INVALID_GROUP_ID, &p.member_id)),
                fx,
            );
        }
        if p.session_timeout_ms < self.config.min_session_timeout_ms
            || p.session_timeout_ms > self.config.max_session_timeout_ms
        {
            return (
                Outcome::Now(JoinResult::error(ec::INVALID_SESSION_TIMEOUT, &p.member_id)),
                fx,
            );
        }
        let delay = self.config.initial_rebalance_delay_ms;
        let pending_ttl = self.config.pending_member_timeout_ms;
        let group = self
            .groups
            .entry(p.group_id.clone())
            .or_insert_with(|| Group::new(&p.group_id));
        if group.state == GroupState::Dead {
            return (
                Outcome::Now(JoinResult::error(
                    ec::COORDINATOR_NOT_AVAILABLE,
                    &p.member_id,
                )),
                fx,
            );
        }
        let compatible = group.members.is_empty()
            || (group.protocol_type.as_deref() == Some(p.protocol_type.as_str())
                && p.protocols.iter().any(|(name, _)| {
                    group
                        .members
                        .values()
                        .all(|m| m.protocols.iter().any(|(n, _)| n == name))
                }));
        if p.protocols.is_empty() || p.protocol_type.is_empty() || !compatible {
            return (
                Outcome::Now(JoinResult::error(
                    ec::INCONSISTENT_GROUP_PROTOCOL,
                    &p.member_id,
                )),
                fx,
            );
        }

        let member_id = if p.member_id.is_empty() {
            if let Some(instance) = &p.instance_id {
                if let Some(old) = group.static_members.get(instance).cloned() {
                    // A static member came back: replace its member id.
                    return rejoin_static(group, &old, p, now, delay, fx);
                }
                new_member_id(&p.client_id)
            } else if p.require_known_member_id {
                let id = new_member_id(&p.client_id);
                let ttl = (p.session_timeout_ms.max(0) as u64).min(pending_ttl);
                group.pending.insert(id.clone(), now + ttl);
                return (
                    Outcome::Now(JoinResult::error(ec::MEMBER_ID_REQUIRED, &id)),
                    fx,
                );
            } else {
                new_member_id(&p.client_id)
            }
        } else {
            p.member_id.clone()
        };

        let known = group.members.contains_key(&member_id);
        if !known {
            let was_pending = group.pending.remove(&member_id).is_some();
            if !p.member_id.is_empty() && !was_pending {
                let code = match &p.instance_id {
                    Some(i) if group.static_members.contains_key(i) => ec::FENCED_INSTANCE_ID,
                    _ => ec::UNKNOWN_MEMBER_ID,
                };
                return (Outcome::Now(JoinResult::error(code, &p.member_id)), fx);
            }
            if let Some(i) = &p.instance_id {
                group.static_members.insert(i.clone(), member_id.clone());
            }
            group.members.insert(
                member_id.clone(),
                Member {
                    id: member_id.clone(),
                    instance_id: p.instance_id.clone(),
                    client_id: p.client_id.clone(),
                    client_host: p.client_host.clone(),
                    session_timeout_ms: p.session_timeout_ms,
                    rebalance_timeout_ms: p.rebalance_timeout_ms,
                    protocols: p.protocols.clone(),
                    assignment: Bytes::new(),
                    last_heartbeat_ms: now,
                    awaiting_join: true,
                    awaiting_sync: false,
                },
            );
            if group.protocol_type.is_none() {
                group.protocol_type = Some(p.protocol_type.clone());
            }
            prepare_rebalance(group, now, delay, &mut fx);
            complete_join_if_ready(group, now, &mut fx);
            return (Outcome::Parked(member_id), fx);
        }

        // A known member rejoins.
        if let (Some(i), Some(m)) = (&p.instance_id, group.members.get(&member_id)) {
            if m.instance_id.as_ref() != Some(i) {
                return (
                    Outcome::Now(JoinResult::error(ec::FENCED_INSTANCE_ID, &member_id)),
                    fx,
                );
            }
        }
        let is_leader = group.leader.as_deref() == Some(member_id.as_str());
        let Some(m) = group.members.get_mut(&member_id) else {
            return (
                Outcome::Now(JoinResult::error(ec::UNKNOWN_MEMBER_ID, &member_id)),
                fx,
            );
        };
        let same_metadata = m.protocols == p.protocols;
        m.protocols = p.protocols;
        m.session_timeout_ms = p.session_timeout_ms;
        m.rebalance_timeout_ms = p.rebalance_timeout_ms;
        m.last_heartbeat_ms = now;
        m.awaiting_join = true;
        match group.state {
            GroupState::Stable | GroupState::CompletingRebalance
                if same_metadata && !(is_leader && group.state == GroupState::Stable) =>
            {
                // Nothing changed: answer with the current generation.
                if let Some(m) = group.members.get_mut(&member_id) {
                    m.awaiting_join = false;
                }
                let result = join_result_for(group, &member_id);
                (Outcome::Now(result), fx)
            }
            GroupState::PreparingRebalance => {
                complete_join_if_ready(group, now, &mut fx);
                (Outcome::Parked(member_id), fx)
            }
            _ => {
                prepare_rebalance(group, now, delay, &mut fx);
                complete_join_if_ready(group, now, &mut fx);
                (Outcome::Parked(member_id), fx)
            }
        }
    }

    pub fn sync(&mut self, p: SyncParams, now: u64) -> (Outcome<(i16, Bytes)>, Vec<Effect>) {
        let mut fx = Vec::new();
        let err = |code| (Outcome::Now((code, Bytes::new())), Vec::new());
        let Some(group) = self.groups.get_mut(&p.group_id) else {
            return err(ec::UNKNOWN_MEMBER_ID);
        };
        if let Some(code) = member_error(group, &p.member_id, p.instance_id.as_deref()) {
            return err(code);
        }
        if p.generation != group.generation {
            return err(ec::ILLEGAL_GENERATION);
        }
        if p.protocol_type
            .as_ref()
            .is_some_and(|t| Some(t) != group.protocol_type.as_ref())
            || p.protocol_name
                .as_ref()
                .is_some_and(|n| Some(n) != group.protocol.as_ref())
        {
            return err(ec::INCONSISTENT_GROUP_PROTOCOL);
        }
        if let Some(m) = group.members.get_mut(&p.member_id) {
            m.last_heartbeat_ms = now;
        }
        match group.state {
            GroupState::PreparingRebalance => err(ec::REBALANCE_IN_PROGRESS),
            GroupState::Stable => {
                let a = group
                    .members
                    .get(&p.member_id)
                    .map(|m| m.assignment.clone())
                    .unwrap_or_default();
                (Outcome::Now((ec::NONE, a)), fx)
            }
            GroupState::CompletingRebalance => {
                if let Some(m) = group.members.get_mut(&p.member_id) {
                    m.awaiting_sync = true;
                }
                if group.leader.as_deref() == Some(p.member_id.as_str()) {
                    for m in group.members.values_mut() {
                        m.assignment = p
                            .assignments
                            .iter()
                            .find(|(id, _)| *id == m.id)
                            .map(|(_, a)| a.clone())
                            .unwrap_or_default();
                    }
                    group.state = GroupState::Stable;
                    group.state_timestamp_ms = now as i64;
                    for m in group.members.values_mut() {
                        if std::mem::take(&mut m.awaiting_sync) {
                            fx.push(Effect::Sync {
                                group: group.id.clone(),
                                member: m.id.clone(),
                                error: ec::NONE,
                                assignment: m.assignment.clone(),
                            });
                        }
                    }
                    fx.push(Effect::PersistGroup(group.id.clone()));
                }
                (Outcome::Parked(p.member_id), fx)
            }
            GroupState::Empty | GroupState::Dead => err(ec::UNKNOWN_MEMBER_ID),
        }
    }

    pub fn heartbeat(
        &mut self,
        group_id: &str,
        generation: i32,
        member_id: &str,
        instance_id: Option<&str>,
        now: u64,
    ) -> i16 {
        let Some(group) = self.groups.get_mut(group_id) else {
            return ec::UNKNOWN_MEMBER_ID;
        };
        if let Some(code) = member_error(group, member_id, instance_id) {
            return code;
        }
        if let Some(m) = group.members.get_mut(member_id) {
            m.last_heartbeat_ms = now;
        }
        if generation != group.generation {
            return ec::ILLEGAL_GENERATION;
        }
        match group.state {
            GroupState::PreparingRebalance => ec::REBALANCE_IN_PROGRESS,
            GroupState::Stable | GroupState::CompletingRebalance => ec::NONE,
            GroupState::Empty | GroupState::Dead => ec::UNKNOWN_MEMBER_ID,
        }
    }

    /// LeaveGroup; `members` are (member id, instance id). Returns per-member
    /// errors in order.
    pub fn leave(
        &mut self,
        group_id: &str,
        members: &[(String, Option<String>)],
        now: u64,
    ) -> (i16, Vec<i16>, Vec<Effect>) {
        let mut fx = Vec::new();
        let delay = self.config.initial_rebalance_delay_ms;
        let Some(group) = self.groups.get_mut(group_id) else {
            return (
                ec::UNKNOWN_MEMBER_ID,
                vec![ec::UNKNOWN_MEMBER_ID; members.len()],
                fx,
            );
        };
        let mut errors = Vec::new();
        for (member_id, instance_id) in members {
            let resolved = match instance_id {
                Some(i) => match group.static_members.get(i) {
                    Some(id) if member_id.is_empty() || id == member_id => Some(id.clone()),
                    Some(_) => {
                        errors.push(ec::FENCED_INSTANCE_ID);
                        continue;
                    }
                    None => None,
                },
                None => Some(member_id.clone()).filter(|id| group.members.contains_key(id)),
            };
            match resolved {
                Some(id) => {
                    remove_member(group, &id, now, delay, &mut fx);
                    errors.push(ec::NONE);
                }
                None => {
                    if group.pending.remove(member_id).is_some() {
                        errors.push(ec::NONE);
                        complete_join_if_ready(group, now, &mut fx);
                    } else {
                        errors.push(ec::UNKNOWN_MEMBER_ID);
                    }
                }
            }
        }
        (ec::NONE, errors, fx)
    }

    pub(crate) fn tick_group(&mut self, id: &str, now: u64, fx: &mut Vec<Effect>) {
        let delay = self.config.initial_rebalance_delay_ms;
        let Some(group) = self.groups.get_mut(id) else {
            return;
        };
        group.pending.retain(|_, expiry| *expiry > now);
        let expired: Vec<String> = group
            .members
            .values()
            .filter(|m| {
                !m.awaiting_join
                    && now.saturating_sub(m.last_heartbeat_ms) > m.session_timeout_ms.max(0) as u64
            })
            .map(|m| m.id.clone())
            .collect();
        for mid in expired {
            remove_member(group, &mid, now, delay, fx);
        }
        if group.state == GroupState::PreparingRebalance && now >= group.rebalance_deadline_ms {
            // Members that did not rejoin in time are dropped.
            let missing: Vec<String> = group
                .members
                .values()
                .filter(|m| !m.awaiting_join)
                .map(|m| m.id.clone())
                .collect();
            for mid in missing {
                group.members.shift_remove(&mid);
                group.static_members.retain(|_, v| *v != mid);
            }
            group.pending.clear();
            group.initial_delay_until_ms = 0;
        }
        complete_join_if_ready(group, now, fx);
    }
}

/// The error for a member id that is unknown or fenced, if any.
fn member_error(group: &Group, member_id: &str, instance_id: Option<&str>) -> Option<i16> {
    if let Some(i) = instance_id {
        match group.static_members.get(i) {
            Some(id) if id != member_id => return Some(ec::FENCED_INSTANCE_ID),
            _ => {}
        }
    }
    (!group.members.contains_key(member_id)).then_some(ec::UNKNOWN_MEMBER_ID)
}

fn rejoin_static(
    group: &mut Group,
    old_id: &str,
    p: JoinParams,
    now: u64,
    delay: u64,
    mut fx: Vec<Effect>,
) -> (Outcome<JoinResult>, Vec<Effect>) {
    let new_id = new_member_id(&p.client_id);
    let Some(mut m) = group.members.shift_remove(old_id) else {
        return (
            Outcome::Now(JoinResult::error(ec::UNKNOWN_MEMBER_ID, "")),
            fx,
        );
    };
    // The old incarnation's parked requests are fenced.
    if m.awaiting_join {
        fx.push(Effect::Join {
            group: group.id.clone(),
            member: old_id.to_string(),
            result: JoinResult::error(ec::FENCED_INSTANCE_ID, old_id),
        });
    }
    if m.awaiting_sync {
        fx.push(Effect::Sync {
            group: group.id.clone(),
            member: old_id.to_string(),
            error: ec::FENCED_INSTANCE_ID,
            assignment: Bytes::new(),
        });
    }
    let same = m.protocols == p.protocols;
    m.id = new_id.clone();
    m.protocols = p.protocols;
    m.session_timeout_ms = p.session_timeout_ms;
    m.rebalance_timeout_ms = p.rebalance_timeout_ms;
    m.client_id = p.client_id;
    m.client_host = p.client_host;
    m.last_heartbeat_ms = now;
    m.awaiting_join = false;
    m.awaiting_sync = false;
    group.members.insert(new_id.clone(), m);
    if let Some(i) = p.instance_id {
        group.static_members.insert(i, new_id.clone());
    }
    let was_leader = group.leader.as_deref() == Some(old_id);
    if was_leader {
        group.leader = Some(new_id.clone());
    }
    if group.state == GroupState::Stable && same && !was_leader {
        fx.push(Effect::PersistGroup(group.id.clone()));
        return (Outcome::Now(join_result_for(group, &new_id)), fx);
    }
    if let Some(m) = group.members.get_mut(&new_id) {
        m.awaiting_join = true;
    }
    prepare_rebalance(group, now, delay, &mut fx);
    complete_join_if_ready(group, now, &mut fx);
    (Outcome::Parked(new_id), fx)
}

fn join_result_for(group: &Group, member_id: &str) -> JoinResult {
    let leader = group.leader.clone().unwrap_or_default();
    let protocol = group.protocol.clone().unwrap_or_default();
    let members = if leader == member_id {
        group
            .members
            .values()
            .map(|m| {
                (
                    m.id.clone(),
                    m.instance_id.clone(),
                    m.metadata_for(&protocol),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    JoinResult {
        error: ec::NONE,
        generation: group.generation,
        protocol_type: group.protocol_type.clone(),
        protocol_name: group.protocol.clone(),
        leader,
        member_id: member_id.to_string(),
        members,
    }
}

fn prepare_rebalance(group: &mut Group, now: u64, delay: u64, fx: &mut Vec<Effect>) {
    if group.state == GroupState::CompletingRebalance {
        for m in group.members.values_mut() {
            if std::mem::take(&mut m.awaiting_sync) {
                fx.push(Effect::Sync {
                    group: group.id.clone(),
                    member: m.id.clone(),
                    error: ec::REBALANCE_IN_PROGRESS,
                    assignment: Bytes::new(),
                });
            }
        }
    }
    let timeout = group
        .members
        .values()
        .map(|m| m.rebalance_timeout_ms.max(0) as u64)
        .max()
        .unwrap_or(0);
    if group.state == GroupState::Empty && delay > 0 {
        group.initial_delay_until_ms = now + delay.min(timeout.max(1));
    }
    if group.state != GroupState::PreparingRebalance {
        group.rebalance_deadline_ms = now + timeout;
        group.state = GroupState::PreparingRebalance;
        group.state_timestamp_ms = now as i64;
    }
}

fn remove_member(group: &mut Group, id: &str, now: u64, delay: u64, fx: &mut Vec<Effect>) {
    let Some(m) = group.members.shift_remove(id) else {
        return;
    };
    if let Some(i) = &m.instance_id {
        group.static_members.remove(i);
    }
    if m.awaiting_join {
        fx.push(Effect::Join {
            group: group.id.clone(),
            member: id.to_string(),
            result: JoinResult::error(ec::UNKNOWN_MEMBER_ID, id),
        });
    }
    if m.awaiting_sync {
        fx.push(Effect::Sync {
            group: group.id.clone(),
            member: id.to_string(),
            error: ec::UNKNOWN_MEMBER_ID,
            assignment: Bytes::new(),
        });
    }
    match group.state {
        GroupState::Stable | GroupState::CompletingRebalance => {
            prepare_rebalance(group, now, delay, fx)
        }
        _ => {}
    }
    complete_join_if_ready(group, now, fx);
}

/// Finishes the join phase when every member has rejoined (or the deadline
/// dropped those that did not): a new generation, a protocol and a leader.
fn complete_join_if_ready(group: &mut Group, now: u64, fx: &mut Vec<Effect>) {
    if group.state != GroupState::PreparingRebalance
        || now < group.initial_delay_until_ms
        || !group.pending.is_empty()
        || !group.members.values().all(|m| m.awaiting_join)
    {
        return;
    }
    group.initial_delay_until_ms = 0;
    group.generation += 1;
    group.state_timestamp_ms = now as i64;
    if group.members.is_empty() {
        group.state = GroupState::Empty;
        group.protocol = None;
        group.leader = None;
        fx.push(Effect::PersistGroup(group.id.clone()));
        return;
    }
    group.protocol = select_protocol(group);
    if !group
        .leader
        .as_ref()
        .is_some_and(|l| group.members.contains_key(l))
    {
        group.leader = group.members.keys().next().cloned();
    }
    group.state = GroupState::CompletingRebalance;
    let ids: Vec<String> = group.members.keys().cloned().collect();
    for id in ids {
        let result = join_result_for(group, &id);
        if let Some(m) = group.members.get_mut(&id) {
            m.awaiting_join = false;
            m.last_heartbeat_ms = now;
        }
        fx.push(Effect::Join {
            group: group.id.clone(),
            member: id,
            result,
        });
    }
}

/// Kafka's vote: each member votes for its most preferred protocol that every
/// member supports; the most votes win (ties go to the first member's order).
fn select_protocol(group: &Group) -> Option<String> {
    let first = group.members.values().next()?;
    let candidates: Vec<&String> = first
        .protocols
        .iter()
        .map(|(n, _)| n)
        .filter(|n| {
            group
                .members
                .values()
                .all(|m| m.protocols.iter().any(|(x, _)| x == *n))
        })
        .collect();
    let mut best: Option<(&String, usize)> = None;
    for c in &candidates {
        let votes = group
            .members
            .values()
            .filter(|m| {
                m.protocols
                    .iter()
                    .map(|(n, _)| n)
                    .find(|n| candidates.contains(n))
                    == Some(*c)
            })
            .count();
        if best.is_none_or(|(_, v)| votes > v) {
            best = Some((c, votes));
        }
    }
    best.map(|(c, _)| c.clone())
}
