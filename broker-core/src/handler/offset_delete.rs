//! OffsetDelete: removes committed offsets of partitions the group no longer consumes.

use std::sync::Arc;

use kafka_protocol::messages::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use kafka_protocol::messages::{OffsetDeleteRequest, OffsetDeleteResponse};

use super::RequestCtx;
use crate::error_code as ec;
use crate::security::acl::{Operation, ResourceType};
use crate::state::BrokerState;

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: OffsetDeleteRequest,
) -> OffsetDeleteResponse {
    if !ctx.may(st, Operation::Delete, ResourceType::Group, &req.group_id) {
        return OffsetDeleteResponse::default().with_error_code(ec::GROUP_AUTHORIZATION_FAILED);
    }
    let denied: Vec<bool> = req
        .topics
        .iter()
        .map(|t| !ctx.may(st, Operation::Read, ResourceType::Topic, &t.name))
        .collect();
    let wanted: Vec<(String, i32)> = req
        .topics
        .iter()
        .zip(&denied)
        .filter(|(_, d)| !**d)
        .flat_map(|(t, _)| {
            t.partitions
                .iter()
                .map(move |p| (t.name.to_string(), p.partition_index))
        })
        .collect();
    let errors = match st.groups.delete_offsets(&req.group_id, &wanted).await {
        Ok(e) => e,
        Err(code) => return OffsetDeleteResponse::default().with_error_code(code),
    };
    let mut it = errors.into_iter();
    let topics = req
        .topics
        .into_iter()
        .zip(denied)
        .map(|(t, denied)| {
            let parts = t
                .partitions
                .iter()
                .map(|p| {
                    let code = if denied {
                        ec::TOPIC_AUTHORIZATION_FAILED
                    } else {
                        it.next().unwrap_or_default()
                    };
                    OffsetDeleteResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(code)
                })
                .collect();
            OffsetDeleteResponseTopic::default()
                .with_name(t.name)
                .with_partitions(parts)
        })
        .collect();
    OffsetDeleteResponse::default().with_topics(topics)
}
