//! The classic group coordinator as a state machine without sockets or timers.
//!
//! Every operation takes the current time in milliseconds and returns
//! [`Effect`]s: answers for requests that were parked (JoinGroup and SyncGroup
//! wait for the rest of the group) and group metadata to persist. The broker's
//! `service` module owns the channels and the clock.

mod membership;
pub mod offsets;
pub mod records;
pub mod service;

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use indexmap::IndexMap;

pub use membership::{JoinParams, JoinResult, SyncParams};
pub use offsets::{CommitEntry, GroupListing, GroupSummary, MemberSummary};
use records::OffsetValue;

/// The five classic group states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupState {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
    Dead,
}

impl GroupState {
    /// The name Kafka reports in ListGroups / DescribeGroups.
    pub fn name(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
        }
    }
}

/// Coordinator limits (broker config).
#[derive(Debug, Clone)]
pub struct GroupConfig {
    pub min_session_timeout_ms: i32,
    pub max_session_timeout_ms: i32,
    pub initial_rebalance_delay_ms: u64,
    /// Upper bound on how long a KIP-394 pending member id is kept.
    pub pending_member_timeout_ms: u64,
    /// How long a group without members or offsets is kept. As with Kafka's
    /// periodic cleanup, a group that empties and fills again within this
    /// time goes on counting generations, so members that left (Connect
    /// workers restarted together, say) never meet a generation they already
    /// used.
    pub empty_group_retention_ms: u64,
}

impl Default for GroupConfig {
    fn default() -> Self {
        Self {
            min_session_timeout_ms: 6_000,
            max_session_timeout_ms: 1_800_000,
            initial_rebalance_delay_ms: 0,
            pending_member_timeout_ms: 5_000,
            empty_group_retention_ms: 600_000,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub id: String,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout_ms: i32,
    pub rebalance_timeout_ms: i32,
    pub protocols: Vec<(String, Bytes)>,
    pub assignment: Bytes,
    pub last_heartbeat_ms: u64,
    pub awaiting_join: bool,
    pub awaiting_sync: bool,
}

impl Member {
    fn metadata_for(&self, protocol: &str) -> Bytes {
        self.protocols
            .iter()
            .find(|(n, _)| n == protocol)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub id: String,
    pub state: GroupState,
    pub protocol_type: Option<String>,
    pub protocol: Option<String>,
    pub generation: i32,
    pub leader: Option<String>,
    pub members: IndexMap<String, Member>,
    /// KIP-394 member ids handed out but not yet used, with their expiry.
    pub pending: HashMap<String, u64>,
    pub static_members: HashMap<String, String>,
    pub offsets: BTreeMap<(String, i32), OffsetValue>,
    pub rebalance_deadline_ms: u64,
    pub initial_delay_until_ms: u64,
    pub state_timestamp_ms: i64,
}

impl Group {
    fn new(id: &str) -> Self {
        Self {
            id: id.to_string(),
            state: GroupState::Empty,
            protocol_type: None,
            protocol: None,
            generation: 0,
            leader: None,
            members: IndexMap::new(),
            pending: HashMap::new(),
            static_members: HashMap::new(),
            offsets: BTreeMap::new(),
            rebalance_deadline_ms: 0,
            initial_delay_until_ms: 0,
            state_timestamp_ms: -1,
        }
    }
}

/// An answer or a write the caller must carry out.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Answer a parked JoinGroup of `member`.
    Join {
        group: String,
        member: String,
        result: JoinResult,
    },
    /// Answer a parked SyncGroup of `member` (error code, assignment).
    Sync {
        group: String,
        member: String,
        error: i16,
        assignment: Bytes,
    },
    /// Persist the group's metadata (or a tombstone when it is gone).
    PersistGroup(String),
}

/// The coordinator for every group of the broker.
#[derive(Debug, Default)]
pub struct Coordinator {
    pub(crate) groups: HashMap<String, Group>,
    pub(crate) config: GroupConfig,
}

impl Coordinator {
    pub fn new(config: GroupConfig) -> Self {
        Self {
            groups: HashMap::new(),
            config,
        }
    }

    /// The stored form of a group's metadata, `None` if it no longer exists.
    pub fn group_value(&self, group: &str) -> Option<records::GroupValue> {
        let g = self.groups.get(group)?;
        if g.state == GroupState::Dead {
            return None;
        }
        Some(records::GroupValue {
            protocol_type: g.protocol_type.clone().unwrap_or_default(),
            generation: g.generation,
            protocol: g.protocol.clone(),
            leader: g.leader.clone(),
            state_timestamp: g.state_timestamp_ms,
            members: g
                .members
                .values()
                .map(|m| records::StoredMember {
                    member_id: m.id.clone(),
                    instance_id: m.instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    rebalance_timeout_ms: m.rebalance_timeout_ms,
                    session_timeout_ms: m.session_timeout_ms,
                    subscription: g
                        .protocol
                        .as_deref()
                        .map(|p| m.metadata_for(p))
                        .unwrap_or_default(),
                    assignment: m.assignment.clone(),
                })
                .collect(),
        })
    }

    /// Restores a group from its stored metadata (start-up replay). Members
    /// come back as Stable; those that do not heartbeat expire normally.
    pub fn load_group(&mut self, group: &str, value: Option<records::GroupValue>, now_ms: u64) {
        let Some(v) = value else {
            if let Some(g) = self.groups.get_mut(group) {
                g.members.clear();
                g.static_members.clear();
                g.state = GroupState::Empty;
            }
            return;
        };
        let g = self
            .groups
            .entry(group.to_string())
            .or_insert_with(|| Group::new(group));
        g.protocol_type = Some(v.protocol_type).filter(|s| !s.is_empty());
        g.generation = v.generation;
        g.protocol = v.protocol;
        g.leader = v.leader;
        g.state_timestamp_ms = v.state_timestamp;
        g.members.clear();
        g.static_members.clear();
        for m in v.members {
            if let Some(i) = &m.instance_id {
                g.static_members.insert(i.clone(), m.member_id.clone());
            }
            let protocol = g.protocol.clone().unwrap_or_default();
            g.members.insert(
                m.member_id.clone(),
                Member {
                    id: m.member_id,
                    instance_id: m.instance_id,
                    client_id: m.client_id,
                    client_host: m.client_host,
                    session_timeout_ms: m.session_timeout_ms,
                    rebalance_timeout_ms: m.rebalance_timeout_ms,
                    protocols: vec![(protocol, m.subscription)],
                    assignment: m.assignment,
                    last_heartbeat_ms: now_ms,
                    awaiting_join: false,
                    awaiting_sync: false,
                },
            );
        }
        g.state = if g.members.is_empty() {
            GroupState::Empty
        } else {
            GroupState::Stable
        };
    }

    /// Expires sessions, pending members and rebalance timeouts.
    pub fn tick(&mut self, now_ms: u64) -> Vec<Effect> {
        let mut effects = Vec::new();
        let ids: Vec<String> = self.groups.keys().cloned().collect();
        for id in ids {
            self.tick_group(&id, now_ms, &mut effects);
        }
        // Forget groups that have had neither members nor offsets for a while.
        let keep_ms = self.config.empty_group_retention_ms;
        self.groups.retain(|_, g| {
            let empty_since = u64::try_from(g.state_timestamp_ms).unwrap_or(0);
            !(g.state == GroupState::Empty
                && g.offsets.is_empty()
                && g.pending.is_empty()
                && now_ms.saturating_sub(empty_since) >= keep_ms)
        });
        effects
    }
}

#[cfg(test)]
mod tests;
