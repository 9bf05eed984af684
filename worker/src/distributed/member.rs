//! A member of the workers' group: JoinGroup with protocol type `connect`
//! and Connect's sub-protocols, SyncGroup (the leader hands out the
//! assignments), Heartbeat and LeaveGroup, over Weir's Kafka-protocol
//! client and the classic group protocol any Kafka broker serves.

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    HeartbeatRequest, JoinGroupRequest, LeaveGroupRequest, SyncGroupRequest,
};
use kafka_protocol::protocol::{Request, StrBytes};

use super::protocol::{Assignment, Protocol, WorkerState, PROTOCOL_TYPE};
use crate::kafka::admin::{check, describe, group_id, Cluster};
use crate::kafka::Connection;

/// Broker error codes a member reacts to.
pub mod codes {
    pub const COORDINATOR_LOAD_IN_PROGRESS: i16 = 14;
    pub const COORDINATOR_NOT_AVAILABLE: i16 = 15;
    pub const NOT_COORDINATOR: i16 = 16;
    pub const ILLEGAL_GENERATION: i16 = 22;
    pub const UNKNOWN_MEMBER_ID: i16 = 25;
    pub const REBALANCE_IN_PROGRESS: i16 = 27;
    pub const MEMBER_ID_REQUIRED: i16 = 79;
}

/// The group settings of `weir distributed`.
#[derive(Debug, Clone)]
pub struct MemberConfig {
    pub group: String,
    pub session_timeout: Duration,
    pub rebalance_timeout: Duration,
    /// The most preferred protocol (`connect.protocol`).
    pub protocol: Protocol,
}

/// What a join gave this member.
#[derive(Debug, Clone)]
pub struct Joined {
    pub generation: i32,
    pub member_id: String,
    pub leader_id: String,
    pub protocol: Protocol,
    /// Every member's metadata, when this member leads.
    pub members: Vec<(String, WorkerState)>,
}

impl Joined {
    pub fn is_leader(&self) -> bool {
        self.member_id == self.leader_id
    }
}

/// A heartbeat's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beat {
    Ok,
    /// The group is rebalancing, or this member's generation is over: rejoin.
    Rejoin,
}

/// The member's connection to the group coordinator and its identity.
pub struct GroupMember {
    config: MemberConfig,
    servers: Vec<String>,
    conn: Option<Connection>,
    member_id: String,
    generation: i32,
}

fn text(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

impl GroupMember {
    pub fn new(config: MemberConfig, servers: Vec<String>) -> Self {
        GroupMember {
            config,
            servers,
            conn: None,
            member_id: String::new(),
            generation: -1,
        }
    }

    pub fn member_id(&self) -> &str {
        &self.member_id
    }

    pub fn generation(&self) -> i32 {
        self.generation
    }

    /// The coordinator's connection, found again when it is gone.
    async fn coordinator(&mut self) -> anyhow::Result<&mut Connection> {
        if self.conn.is_none() {
            let client = format!("{}-member", self.config.group);
            let mut cluster =
                Cluster::connect(&self.servers, &client, Duration::from_secs(10)).await?;
            let (_, addr, _) = cluster.coordinator(&self.config.group).await?;
            let mut conn = Connection::connect(&addr, &client, Duration::from_secs(10)).await?;
            // A JoinGroup waits for every member, up to the rebalance timeout.
            conn.set_request_timeout(self.config.rebalance_timeout + Duration::from_secs(5));
            self.conn = Some(conn);
        }
        self.conn
            .as_mut()
            .ok_or_else(|| anyhow::anyhow!("no coordinator connection"))
    }

    /// Sends to the coordinator; a connection that failed is dropped so the
    /// next call finds the coordinator again.
    async fn call<R: Request>(&mut self, request: &R, cap: i16) -> anyhow::Result<R::Response> {
        let result = self.coordinator().await?.send(request, cap).await;
        if result.is_err() {
            self.conn = None;
        }
        Ok(result?)
    }

    /// Forgets the coordinator after an error that may mean it moved.
    fn lost(&mut self, code: i16) {
        if matches!(
            code,
            codes::NOT_COORDINATOR
                | codes::COORDINATOR_NOT_AVAILABLE
                | codes::COORDINATOR_LOAD_IN_PROGRESS
        ) {
            self.conn = None;
        }
    }

    /// Joins (or rejoins) the group with this worker's state.
    pub async fn join(&mut self, state: &WorkerState) -> anyhow::Result<Joined> {
        let protocols: Vec<JoinGroupRequestProtocol> = Protocol::offered(self.config.protocol)
            .into_iter()
            .map(|p| {
                JoinGroupRequestProtocol::default()
                    .with_name(text(p.name()))
                    .with_metadata(Bytes::from(state.encode(p)))
            })
            .collect();
        for _attempt in 0..5 {
            let request = JoinGroupRequest::default()
                .with_group_id(group_id(&self.config.group))
                .with_session_timeout_ms(millis(self.config.session_timeout))
                .with_rebalance_timeout_ms(millis(self.config.rebalance_timeout))
                .with_member_id(text(&self.member_id))
                .with_protocol_type(text(PROTOCOL_TYPE))
                .with_protocols(protocols.clone());
            tracing::debug!("JoinGroup {} as {:?}", self.config.group, self.member_id);
            let response = self.call(&request, 7).await?;
            tracing::debug!(
                "JoinGroup answered: error {}, generation {}",
                response.error_code,
                response.generation_id
            );
            match response.error_code {
                0 => {}
                // KIP-394: the first join gets a member id to join with.
                codes::MEMBER_ID_REQUIRED => {
                    self.member_id = response.member_id.to_string();
                    continue;
                }
                codes::UNKNOWN_MEMBER_ID => {
                    self.member_id.clear();
                    continue;
                }
                code => {
                    self.lost(code);
                    anyhow::bail!(
                        "joining group {}: {}",
                        self.config.group,
                        describe(code, None)
                    );
                }
            }
            self.member_id = response.member_id.to_string();
            self.generation = response.generation_id;
            let protocol = response
                .protocol_name
                .as_deref()
                .and_then(Protocol::from_name)
                .ok_or_else(|| anyhow::anyhow!("the group chose an unknown protocol"))?;
            let mut members = Vec::new();
            for m in &response.members {
                let state = WorkerState::decode(&m.metadata)
                    .map_err(|e| anyhow::anyhow!("member {}: {e}", m.member_id.as_str()))?;
                members.push((m.member_id.to_string(), state));
            }
            return Ok(Joined {
                generation: response.generation_id,
                member_id: self.member_id.clone(),
                leader_id: response.leader.to_string(),
                protocol,
                members,
            });
        }
        anyhow::bail!(
            "joining group {}: no member id after 5 attempts",
            self.config.group
        )
    }

    /// Sends the leader's assignments (empty for followers) and returns this
    /// member's; `None` when the group began another rebalance meanwhile.
    pub async fn sync(
        &mut self,
        joined: &Joined,
        assignments: &[(String, Assignment)],
    ) -> anyhow::Result<Option<Assignment>> {
        let conn = self.coordinator().await?;
        // Version 5 repeats the protocol type and name.
        let named = conn.version_for::<SyncGroupRequest>(5)? >= 5;
        let request = SyncGroupRequest::default()
            .with_group_id(group_id(&self.config.group))
            .with_generation_id(joined.generation)
            .with_member_id(text(&self.member_id))
            .with_protocol_type(named.then(|| text(PROTOCOL_TYPE)))
            .with_protocol_name(named.then(|| text(joined.protocol.name())))
            .with_assignments(
                assignments
                    .iter()
                    .map(|(m, a)| {
                        SyncGroupRequestAssignment::default()
                            .with_member_id(text(m))
                            .with_assignment(Bytes::from(a.encode()))
                    })
                    .collect(),
            );
        let response = self.call(&request, 5).await?;
        match response.error_code {
            0 => {}
            codes::REBALANCE_IN_PROGRESS | codes::ILLEGAL_GENERATION => return Ok(None),
            codes::UNKNOWN_MEMBER_ID => {
                self.member_id.clear();
                return Ok(None);
            }
            code => {
                self.lost(code);
                check(code, None)?;
            }
        }
        if response.assignment.is_empty() {
            anyhow::bail!("the leader sent this member no assignment");
        }
        Ok(Some(Assignment::decode(&response.assignment)?))
    }

    /// One heartbeat.
    pub async fn heartbeat(&mut self) -> anyhow::Result<Beat> {
        let request = HeartbeatRequest::default()
            .with_group_id(group_id(&self.config.group))
            .with_generation_id(self.generation)
            .with_member_id(text(&self.member_id));
        let response = self.call(&request, 4).await?;
        match response.error_code {
            0 => Ok(Beat::Ok),
            codes::REBALANCE_IN_PROGRESS | codes::ILLEGAL_GENERATION => Ok(Beat::Rejoin),
            codes::UNKNOWN_MEMBER_ID => {
                self.member_id.clear();
                Ok(Beat::Rejoin)
            }
            code => {
                self.lost(code);
                check(code, None)?;
                Ok(Beat::Ok)
            }
        }
    }

    /// Leaves the group so the others rebalance at once.
    pub async fn leave(&mut self) -> anyhow::Result<()> {
        if self.member_id.is_empty() {
            return Ok(());
        }
        let member = text(&self.member_id);
        let group = group_id(&self.config.group);
        let conn = self.coordinator().await?;
        // Version 3 names members in a list; earlier ones in one field.
        let request = if conn.version_for::<LeaveGroupRequest>(4)? >= 3 {
            LeaveGroupRequest::default()
                .with_group_id(group)
                .with_members(vec![MemberIdentity::default().with_member_id(member)])
        } else {
            LeaveGroupRequest::default()
                .with_group_id(group)
                .with_member_id(member)
        };
        let response = conn.send(&request, 4).await?;
        self.member_id.clear();
        self.generation = -1;
        check(response.error_code, None)?;
        Ok(())
    }
}

fn millis(d: Duration) -> i32 {
    i32::try_from(d.as_millis()).unwrap_or(i32::MAX)
}
