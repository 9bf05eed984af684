//! DescribeQuorum: one node is the whole quorum, its only voter and its
//! leader; there is no metadata log behind it, so offsets are 0.

use std::sync::Arc;

use kafka_protocol::messages::describe_quorum_response::{
    Listener, Node, PartitionData, ReplicaState, TopicData,
};
use kafka_protocol::messages::{
    BrokerId, DescribeQuorumRequest, DescribeQuorumResponse, TopicName,
};

use super::{s, RequestCtx};
use crate::clock::now_ms;
use crate::error_code as ec;
use crate::security::acl::Operation;
use crate::state::BrokerState;

const METADATA_TOPIC: &str = "__cluster_metadata";

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: DescribeQuorumRequest,
) -> DescribeQuorumResponse {
    if !ctx.may_cluster(st, Operation::Describe) {
        return DescribeQuorumResponse::default()
            .with_error_code(ec::CLUSTER_AUTHORIZATION_FAILED)
            .with_error_message(Some(s(super::CLUSTER_REFUSED)));
    }
    let node = BrokerId(st.node_id());
    let now = now_ms();
    let topics = req
        .topics
        .iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    if t.topic_name.as_str() != METADATA_TOPIC || p.partition_index != 0 {
                        return PartitionData::default()
                            .with_partition_index(p.partition_index)
                            .with_error_code(ec::UNKNOWN_TOPIC_OR_PARTITION);
                    }
                    let mut voter = ReplicaState::default()
                        .with_replica_id(node)
                        .with_log_end_offset(0);
                    // v1 tells when the leader last heard from each voter.
                    if ctx.version >= 1 {
                        voter = voter
                            .with_last_fetch_timestamp(now)
                            .with_last_caught_up_timestamp(now);
                    }
                    PartitionData::default()
                        .with_error_message(None)
                        .with_partition_index(0)
                        .with_leader_id(node)
                        .with_leader_epoch(1)
                        .with_high_watermark(0)
                        .with_current_voters(vec![voter])
                })
                .collect();
            TopicData::default()
                .with_topic_name(TopicName(t.topic_name.0.clone()))
                .with_partitions(partitions)
        })
        .collect();
    // The voter's endpoints: the addresses this broker advertises.
    let listeners = st
        .advertised
        .iter()
        .map(|e| {
            Listener::default()
                .with_name(s(&e.name))
                .with_host(s(&e.host))
                .with_port(e.port)
        })
        .collect();
    let resp = DescribeQuorumResponse::default()
        .with_error_message(None)
        .with_topics(topics);
    if ctx.version < 2 {
        return resp;
    }
    resp.with_nodes(vec![Node::default()
        .with_node_id(node)
        .with_listeners(listeners)])
}
