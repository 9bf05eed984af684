//! Committed offsets and the group admin operations (list, describe, delete).

use bytes::{Buf, Bytes};

use super::records::OffsetValue;
use super::{Coordinator, Group, GroupState};
use crate::error_code as ec;

/// One offset to commit.
#[derive(Debug, Clone)]
pub struct CommitEntry {
    pub topic: String,
    pub partition: i32,
    pub value: OffsetValue,
}

/// ListGroups row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupListing {
    pub group_id: String,
    pub protocol_type: String,
    pub state: &'static str,
}

/// DescribeGroups member.
#[derive(Debug, Clone)]
pub struct MemberSummary {
    pub member_id: String,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub metadata: Bytes,
    pub assignment: Bytes,
}

/// DescribeGroups group.
#[derive(Debug, Clone)]
pub struct GroupSummary {
    pub state: &'static str,
    pub protocol_type: String,
    pub protocol: String,
    pub members: Vec<MemberSummary>,
}

/// Largest commit metadata Kafka accepts (`offset.metadata.max.bytes`).
pub const OFFSET_METADATA_MAX_BYTES: usize = 4096;

impl Coordinator {
    /// Checks whether a commit may be written (before it is persisted).
    pub fn validate_commit(
        &self,
        group_id: &str,
        generation: i32,
        member_id: &str,
        instance_id: Option<&str>,
    ) -> Result<(), i16> {
        if group_id.is_empty() {
            return Err(ec::INVALID_GROUP_ID);
        }
        let Some(group) = self.groups.get(group_id) else {
            return if generation < 0 {
                Ok(())
            } else {
                Err(ec::ILLEGAL_GENERATION)
            };
        };
        if generation < 0 && member_id.is_empty() {
            return match group.state {
                GroupState::Empty | GroupState::Dead => Ok(()),
                _ => Err(ec::UNKNOWN_MEMBER_ID),
            };
        }
        if let Some(i) = instance_id {
            if group
                .static_members
                .get(i)
                .is_some_and(|id| id != member_id)
            {
                return Err(ec::FENCED_INSTANCE_ID);
            }
        }
        if !group.members.contains_key(member_id) {
            return Err(ec::UNKNOWN_MEMBER_ID);
        }
        if generation != group.generation {
            return Err(ec::ILLEGAL_GENERATION);
        }
        if group.state == GroupState::CompletingRebalance {
            return Err(ec::REBALANCE_IN_PROGRESS);
        }
        Ok(())
    }

    /// Applies committed (or replayed) offsets; `None` deletes.
    pub fn apply_offset(
        &mut self,
        group_id: &str,
        topic: &str,
        partition: i32,
        value: Option<OffsetValue>,
    ) {
        match value {
            Some(v) => {
                let g = self
                    .groups
                    .entry(group_id.to_string())
                    .or_insert_with(|| Group::new(group_id));
                g.offsets.insert((topic.to_string(), partition), v);
            }
            None => {
                if let Some(g) = self.groups.get_mut(group_id) {
                    g.offsets.remove(&(topic.to_string(), partition));
                }
            }
        }
    }

    /// Committed offset of one partition.
    pub fn committed(&self, group_id: &str, topic: &str, partition: i32) -> Option<&OffsetValue> {
        self.groups
            .get(group_id)?
            .offsets
            .get(&(topic.to_string(), partition))
    }

    /// Every committed offset of a group: ((topic, partition), value).
    pub fn all_committed(&self, group_id: &str) -> Vec<((String, i32), OffsetValue)> {
        self.groups
            .get(group_id)
            .map(|g| {
                g.offsets
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Groups with their protocol type and state.
    pub fn list(&self) -> Vec<GroupListing> {
        let mut v: Vec<GroupListing> = self
            .groups
            .values()
            .map(|g| GroupListing {
                group_id: g.id.clone(),
                protocol_type: g.protocol_type.clone().unwrap_or_default(),
                state: g.state.name(),
            })
            .collect();
        v.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        v
    }

    /// Describes a group; an unknown group is reported as Dead, as Kafka does.
    pub fn describe(&self, group_id: &str) -> GroupSummary {
        let Some(g) = self.groups.get(group_id) else {
            return GroupSummary {
                state: GroupState::Dead.name(),
                protocol_type: String::new(),
                protocol: String::new(),
                members: Vec::new(),
            };
        };
        let protocol = g.protocol.clone().unwrap_or_default();
        GroupSummary {
            state: g.state.name(),
            protocol_type: g.protocol_type.clone().unwrap_or_default(),
            protocol: protocol.clone(),
            members: g
                .members
                .values()
                .map(|m| MemberSummary {
                    member_id: m.id.clone(),
                    instance_id: m.instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    metadata: m.metadata_for(&protocol),
                    assignment: m.assignment.clone(),
                })
                .collect(),
        }
    }

    /// Checks DeleteGroups for one group.
    pub fn check_delete(&self, group_id: &str) -> Result<(), i16> {
        match self.groups.get(group_id) {
            None => Err(ec::GROUP_ID_NOT_FOUND),
            Some(g) if matches!(g.state, GroupState::Empty | GroupState::Dead) => Ok(()),
            Some(_) => Err(ec::NON_EMPTY_GROUP),
        }
    }

    /// Removes a group (after its tombstones are written).
    pub fn remove_group(&mut self, group_id: &str) {
        self.groups.remove(group_id);
    }

    /// Checks OffsetDelete for a group: top-level error, and the topics its
    /// consumer members subscribe to (whose offsets may not be deleted).
    pub fn check_offset_delete(&self, group_id: &str) -> Result<Vec<String>, i16> {
        let Some(g) = self.groups.get(group_id) else {
            return Err(ec::GROUP_ID_NOT_FOUND);
        };
        if matches!(g.state, GroupState::Empty | GroupState::Dead) {
            return Ok(Vec::new());
        }
        if g.protocol_type.as_deref() != Some("consumer") {
            return Err(ec::NON_EMPTY_GROUP);
        }
        let protocol = g.protocol.clone().unwrap_or_default();
        let mut topics: Vec<String> = g
            .members
            .values()
            .flat_map(|m| consumer_subscription(m.metadata_for(&protocol)))
            .collect();
        topics.sort();
        topics.dedup();
        Ok(topics)
    }

    /// Drops every committed offset of a deleted topic; returns the keys removed.
    pub fn forget_topic(&mut self, topic: &str) -> Vec<(String, i32)> {
        let mut removed = Vec::new();
        for g in self.groups.values_mut() {
            let keys: Vec<(String, i32)> = g
                .offsets
                .keys()
                .filter(|(t, _)| t == topic)
                .cloned()
                .collect();
            for k in keys {
                g.offsets.remove(&k);
                removed.push((g.id.clone(), k.1));
            }
        }
        removed
    }
}

/// Topics of a consumer-protocol subscription (version i16, topics array of strings).
pub fn consumer_subscription(mut b: Bytes) -> Vec<String> {
    let mut out = Vec::new();
    if b.remaining() < 6 {
        return out;
    }
    let _version = b.get_i16();
    let n = b.get_i32();
    for _ in 0..n.max(0) {
        if b.remaining() < 2 {
            break;
        }
        let len = b.get_i16();
        if len < 0 || b.remaining() < len as usize {
            break;
        }
        out.push(String::from_utf8_lossy(&b.split_to(len as usize)).into_owned());
    }
    out
}
