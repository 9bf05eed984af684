//! ElectLeaders: on one node every partition's only replica leads already,
//! so a named partition answers ELECTION_NOT_NEEDED and an election of
//! every partition has nothing to report, as Kafka answers them.

use std::sync::Arc;

use kafka_protocol::messages::elect_leaders_response::{PartitionResult, ReplicaElectionResult};
use kafka_protocol::messages::{ElectLeadersRequest, ElectLeadersResponse};

use super::{s, RequestCtx};
use crate::error_code as ec;
use crate::security::acl::Operation;
use crate::state::BrokerState;

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: ElectLeadersRequest,
) -> ElectLeadersResponse {
    let allowed = ctx.may_cluster(st, Operation::Alter);
    let results = req
        .topic_partitions
        .iter()
        .flatten()
        .map(|t| {
            let topic = st.topics.get(&t.topic);
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let (code, message) = if !allowed {
                        (ec::CLUSTER_AUTHORIZATION_FAILED, None)
                    } else if topic.is_none() {
                        (
                            ec::UNKNOWN_TOPIC_OR_PARTITION,
                            Some(format!("No such topic as {}", t.topic.as_str())),
                        )
                    } else if topic.as_ref().and_then(|x| x.partition(*p)).is_none() {
                        (
                            ec::UNKNOWN_TOPIC_OR_PARTITION,
                            Some(format!("No such partition as {}-{p}", t.topic.as_str())),
                        )
                    } else {
                        (
                            ec::ELECTION_NOT_NEEDED,
                            Some("Leader election not needed for topic partition.".to_string()),
                        )
                    };
                    PartitionResult::default()
                        .with_partition_id(*p)
                        .with_error_code(code)
                        .with_error_message(message.as_deref().map(s))
                })
                .collect();
            ReplicaElectionResult::default()
                .with_topic(t.topic.clone())
                .with_partition_result(partitions)
        })
        .collect();
    let resp = ElectLeadersResponse::default().with_replica_election_results(results);
    // v0 has no top-level error: the partitions carry it.
    if allowed || ctx.version < 1 {
        return resp;
    }
    resp.with_error_code(ec::CLUSTER_AUTHORIZATION_FAILED)
}
