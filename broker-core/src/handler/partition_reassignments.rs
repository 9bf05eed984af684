//! AlterPartitionReassignments and ListPartitionReassignments: a partition
//! may be "moved" only to this node, where it already is (the reassignment
//! completes at once); any other broker is refused with Kafka's error, and
//! nothing is ever in progress.

use std::collections::BTreeSet;
use std::sync::Arc;

use kafka_protocol::messages::alter_partition_reassignments_response::{
    ReassignablePartitionResponse, ReassignableTopicResponse,
};
use kafka_protocol::messages::*;

use super::{s, RequestCtx};
use crate::error_code as ec;
use crate::security::acl::Operation;
use crate::state::BrokerState;

/// The answer for one partition's target replicas.
fn check(
    st: &BrokerState,
    topic: &str,
    partition: i32,
    replicas: Option<&[BrokerId]>,
) -> (i16, Option<String>) {
    let Some(t) = st.topics.get(topic) else {
        return (
            ec::UNKNOWN_TOPIC_OR_PARTITION,
            Some(format!("Unable to find a topic named {topic}.")),
        );
    };
    if t.partition(partition).is_none() {
        return (
            ec::UNKNOWN_TOPIC_OR_PARTITION,
            Some(format!("Unable to find partition {topic}:{partition}.")),
        );
    }
    let Some(replicas) = replicas else {
        return (
            ec::NO_REASSIGNMENT_IN_PROGRESS,
            Some("No partition reassignment is in progress.".into()),
        );
    };
    if replicas.is_empty() {
        return (
            ec::INVALID_REPLICA_ASSIGNMENT,
            Some("The manual partition assignment includes an empty replica list.".into()),
        );
    }
    let mut seen = BTreeSet::new();
    for b in replicas {
        if !seen.insert(b.0) {
            return (
                ec::INVALID_REPLICA_ASSIGNMENT,
                Some(format!(
                    "The manual partition assignment includes the broker {} more than once.",
                    b.0
                )),
            );
        }
        if b.0 != st.node_id() {
            return (
                ec::INVALID_REPLICA_ASSIGNMENT,
                Some(format!(
                    "The manual partition assignment includes broker {}, but no such broker is registered.",
                    b.0
                )),
            );
        }
    }
    (ec::NONE, None)
}

pub(super) async fn alter(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: AlterPartitionReassignmentsRequest,
) -> AlterPartitionReassignmentsResponse {
    let resp = AlterPartitionReassignmentsResponse::default();
    if !ctx.may_cluster(st, Operation::Alter) {
        return resp
            .with_error_code(ec::CLUSTER_AUTHORIZATION_FAILED)
            .with_error_message(Some(s(super::CLUSTER_REFUSED)));
    }
    let responses = req
        .topics
        .iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let (code, message) =
                        check(st, &t.name, p.partition_index, p.replicas.as_deref());
                    ReassignablePartitionResponse::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(code)
                        .with_error_message(message.as_deref().map(s))
                })
                .collect();
            ReassignableTopicResponse::default()
                .with_name(t.name.clone())
                .with_partitions(partitions)
        })
        .collect();
    resp.with_responses(responses)
}

pub(super) async fn list(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    _req: ListPartitionReassignmentsRequest,
) -> ListPartitionReassignmentsResponse {
    let resp = ListPartitionReassignmentsResponse::default();
    if !ctx.may_cluster(st, Operation::Describe) {
        return resp
            .with_error_code(ec::CLUSTER_AUTHORIZATION_FAILED)
            .with_error_message(Some(s(super::CLUSTER_REFUSED)));
    }
    resp
}
