//! Request dispatch: decode the header, pick the handler, encode the answer.
//! One file per API.

mod acls;
mod alter_configs;
mod alter_replica_log_dirs;
mod api_versions;
mod create_partitions;
mod create_topics;
mod delete_groups;
mod delete_records;
mod delete_topics;
mod describe_cluster;
mod describe_configs;
mod describe_groups;
mod describe_log_dirs;
mod describe_quorum;
mod describe_topic_partitions;
mod elect_leaders;
mod fetch;
mod find_coordinator;
mod heartbeat;
mod incremental_alter_configs;
mod init_producer_id;
mod join_group;
mod leave_group;
mod list_groups;
mod list_offsets;
mod metadata;
mod offset_commit;
mod offset_delete;
mod offset_fetch;
mod partition_reassignments;
mod produce;
mod scram_credentials;
mod sync_group;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::{Buf, Bytes};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{decode_request_header_from_buffer, Decodable, StrBytes};

use crate::protocol::{encode_response, supported_range};
use crate::security::acl::{Action, Operation, Requester, ResourceType, CLUSTER_NAME};
use crate::state::BrokerState;

/// Per-request facts handlers may need.
#[derive(Debug, Clone)]
pub struct RequestCtx {
    pub version: i16,
    pub client_id: String,
    pub client_host: String,
    /// Index of the listener the request came through (in `listeners`).
    pub listener: usize,
    /// `User:name` of an authenticated client, else `User:ANONYMOUS`.
    pub principal: String,
    pub api: ApiKey,
}

impl RequestCtx {
    fn requester(&self) -> Requester<'_> {
        Requester {
            principal: &self.principal,
            host: self.client_host.trim_start_matches('/'),
            api: self.api,
        }
    }

    /// Whether the ACLs let this client do `op` to the resource; a refusal
    /// is logged.
    pub fn may(&self, st: &BrokerState, op: Operation, rt: ResourceType, name: &str) -> bool {
        st.acls
            .authorize(self.requester(), Action::new(op, rt, name))
    }

    /// The same, unlogged: for listings that leave out what may not be seen.
    pub fn may_see(&self, st: &BrokerState, op: Operation, rt: ResourceType, name: &str) -> bool {
        st.acls.permits(self.requester(), Action::new(op, rt, name))
    }

    /// Kafka's bit set of the operations this client may perform on a
    /// resource (`authorized_operations` in Metadata and DescribeGroups).
    pub fn authorized_operations(&self, st: &BrokerState, rt: ResourceType, name: &str) -> i32 {
        rt.operations()
            .iter()
            .filter(|op| **op != Operation::All && self.may_see(st, **op, rt, name))
            .fold(0, |bits, op| bits | (1 << op.wire()))
    }

    /// `op` on the cluster resource.
    pub fn may_cluster(&self, st: &BrokerState, op: Operation) -> bool {
        self.may(st, op, ResourceType::Cluster, CLUSTER_NAME)
    }

    /// `op` on some resource of the type (KIP-679's idempotent producer).
    pub fn may_any(&self, st: &BrokerState, op: Operation, rt: ResourceType) -> bool {
        st.acls.permits_any(self.requester(), op, rt)
    }
}

/// What the connection knows of its client.
#[derive(Debug, Clone)]
pub struct Conn {
    /// `/ip`, as Kafka writes client hosts.
    pub host: String,
    pub listener: usize,
    pub principal: String,
}

impl Conn {
    /// An unauthenticated client of the first listener.
    #[cfg(test)]
    pub fn anonymous(host: &str) -> Self {
        Self {
            host: host.to_string(),
            listener: 0,
            principal: ANONYMOUS.to_string(),
        }
    }
}

/// Kafka's message for a request the cluster's ACLs refuse.
pub(crate) const CLUSTER_REFUSED: &str = "Cluster authorization failed.";

/// Kafka's principal of a client that did not authenticate.
pub const ANONYMOUS: &str = "User:ANONYMOUS";

/// A response to write now, one to write when a future resolves, or none (acks=0).
pub enum Reply {
    Now(Bytes),
    Later(Pin<Box<dyn Future<Output = anyhow::Result<Bytes>> + Send>>),
    Nothing,
}

/// A request that cannot be answered; the connection is closed.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("request too short for a header")]
    Short,
    #[error("unknown API key {0}")]
    UnknownApi(i16),
    #[error("{api:?} v{version} is not supported (supported: v{min}-v{max})")]
    UnsupportedVersion {
        api: ApiKey,
        version: i16,
        min: i16,
        max: i16,
    },
    #[error("malformed {api:?} v{version} request: {reason}")]
    Malformed {
        api: ApiKey,
        version: i16,
        reason: String,
    },
    #[error("could not encode {api:?} response: {reason}")]
    Encode { api: ApiKey, reason: String },
}

/// Reads the API key and version without consuming the frame.
pub fn peek_api(frame: &[u8]) -> Result<(i16, i16), DispatchError> {
    if frame.len() < 4 {
        return Err(DispatchError::Short);
    }
    let mut b = &frame[..4];
    Ok((b.get_i16(), b.get_i16()))
}

pub(crate) fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

/// Decodes and answers one request frame (without its size prefix).
pub async fn dispatch(
    st: &Arc<BrokerState>,
    conn: &Conn,
    mut frame: Bytes,
) -> Result<Reply, DispatchError> {
    let (key_raw, version) = peek_api(&frame)?;
    let api = ApiKey::try_from(key_raw).map_err(|_| DispatchError::UnknownApi(key_raw))?;
    let malformed = |reason: String| DispatchError::Malformed {
        api,
        version,
        reason,
    };
    if api == ApiKey::ApiVersions {
        return api_versions::dispatch(&mut frame, version).map_err(|e| malformed(e.to_string()));
    }
    let (min, max) = supported_range(api).ok_or(DispatchError::UnknownApi(key_raw))?;
    if version < min || version > max {
        return Err(DispatchError::UnsupportedVersion {
            api,
            version,
            min,
            max,
        });
    }
    let header =
        decode_request_header_from_buffer(&mut frame).map_err(|e| malformed(e.to_string()))?;
    let ctx = RequestCtx {
        version,
        client_id: header
            .client_id
            .as_ref()
            .map(|c| c.to_string())
            .unwrap_or_default(),
        client_host: conn.host.clone(),
        listener: conn.listener,
        principal: conn.principal.clone(),
        api,
    };
    let cid = header.correlation_id;
    let enc = |r: anyhow::Result<Bytes>| {
        r.map_err(|e| DispatchError::Encode {
            api,
            reason: e.to_string(),
        })
    };

    macro_rules! call {
        ($req:ty, $handler:path) => {{
            let req = <$req>::decode(&mut frame, version).map_err(|e| malformed(e.to_string()))?;
            let resp = $handler(st, &ctx, req).await;
            Ok(Reply::Now(enc(encode_response(cid, version, &resp))?))
        }};
    }

    match api {
        ApiKey::Produce => {
            let req = ProduceRequest::decode(&mut frame, version)
                .map_err(|e| malformed(e.to_string()))?;
            Ok(produce::handle(st, &ctx, req, cid))
        }
        ApiKey::Fetch => {
            let req =
                FetchRequest::decode(&mut frame, version).map_err(|e| malformed(e.to_string()))?;
            Ok(Reply::Now(enc(fetch::handle(st, &ctx, req, cid).await)?))
        }
        ApiKey::ListOffsets => call!(ListOffsetsRequest, list_offsets::handle),
        ApiKey::Metadata => call!(MetadataRequest, metadata::handle),
        ApiKey::OffsetCommit => call!(OffsetCommitRequest, offset_commit::handle),
        ApiKey::OffsetFetch => call!(OffsetFetchRequest, offset_fetch::handle),
        ApiKey::FindCoordinator => call!(FindCoordinatorRequest, find_coordinator::handle),
        ApiKey::JoinGroup => call!(JoinGroupRequest, join_group::handle),
        ApiKey::Heartbeat => call!(HeartbeatRequest, heartbeat::handle),
        ApiKey::LeaveGroup => call!(LeaveGroupRequest, leave_group::handle),
        ApiKey::SyncGroup => call!(SyncGroupRequest, sync_group::handle),
        ApiKey::DescribeGroups => call!(DescribeGroupsRequest, describe_groups::handle),
        ApiKey::ListGroups => call!(ListGroupsRequest, list_groups::handle),
        ApiKey::CreateTopics => call!(CreateTopicsRequest, create_topics::handle),
        ApiKey::DeleteTopics => call!(DeleteTopicsRequest, delete_topics::handle),
        ApiKey::DeleteRecords => call!(DeleteRecordsRequest, delete_records::handle),
        ApiKey::InitProducerId => call!(InitProducerIdRequest, init_producer_id::handle),
        ApiKey::DescribeConfigs => call!(DescribeConfigsRequest, describe_configs::handle),
        ApiKey::AlterConfigs => call!(AlterConfigsRequest, alter_configs::handle),
        ApiKey::DescribeLogDirs => call!(DescribeLogDirsRequest, describe_log_dirs::handle),
        ApiKey::CreatePartitions => call!(CreatePartitionsRequest, create_partitions::handle),
        ApiKey::DeleteGroups => call!(DeleteGroupsRequest, delete_groups::handle),
        ApiKey::IncrementalAlterConfigs => {
            call!(
                IncrementalAlterConfigsRequest,
                incremental_alter_configs::handle
            )
        }
        ApiKey::OffsetDelete => call!(OffsetDeleteRequest, offset_delete::handle),
        ApiKey::DescribeCluster => call!(DescribeClusterRequest, describe_cluster::handle),
        // A SASL listener answers these before dispatch; anywhere else they
        // are out of place, as Kafka answers them.
        ApiKey::SaslHandshake => {
            call!(SaslHandshakeRequest, scram_credentials::handshake_elsewhere)
        }
        ApiKey::SaslAuthenticate => {
            call!(
                SaslAuthenticateRequest,
                scram_credentials::authenticate_elsewhere
            )
        }
        ApiKey::DescribeTopicPartitions => {
            call!(
                DescribeTopicPartitionsRequest,
                describe_topic_partitions::handle
            )
        }
        ApiKey::DescribeQuorum => call!(DescribeQuorumRequest, describe_quorum::handle),
        ApiKey::ElectLeaders => call!(ElectLeadersRequest, elect_leaders::handle),
        ApiKey::AlterPartitionReassignments => {
            call!(
                AlterPartitionReassignmentsRequest,
                partition_reassignments::alter
            )
        }
        ApiKey::ListPartitionReassignments => {
            call!(
                ListPartitionReassignmentsRequest,
                partition_reassignments::list
            )
        }
        ApiKey::AlterReplicaLogDirs => {
            call!(AlterReplicaLogDirsRequest, alter_replica_log_dirs::handle)
        }
        ApiKey::CreateAcls => call!(CreateAclsRequest, acls::create),
        ApiKey::DescribeAcls => call!(DescribeAclsRequest, acls::describe),
        ApiKey::DeleteAcls => call!(DeleteAclsRequest, acls::delete),
        ApiKey::AlterUserScramCredentials => {
            call!(AlterUserScramCredentialsRequest, scram_credentials::alter)
        }
        ApiKey::DescribeUserScramCredentials => {
            call!(
                DescribeUserScramCredentialsRequest,
                scram_credentials::describe
            )
        }
        _ => Err(DispatchError::UnknownApi(key_raw)),
    }
}

#[cfg(test)]
mod acl_tests;
#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod single_node_admin_tests;
#[cfg(test)]
mod version_tests;
