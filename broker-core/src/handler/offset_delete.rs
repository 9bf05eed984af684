//! OffsetDelete: removes committed offsets of partitions the group no longer consumes.

use std::sync::Arc;

use kafka_protocol::messages::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use kafka_protocol::messages::{OffsetDeleteRequest, OffsetDeleteResponse};

use super::RequestCtx;
use crate::state::BrokerState;

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    _ctx: &RequestCtx,
    req: OffsetDeleteRequest,
) -> OffsetDeleteResponse {
    let wanted: Vec<(String, i32)> = req
        .topics
        .iter()
        .flat_map(|t| {
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
        .map(|t| {
            let parts = t
                .partitions
                .iter()
                .map(|p| {
                    OffsetDeleteResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(it.next().unwrap_or_default())
                })
                .collect();
            OffsetDeleteResponseTopic::default()
                .with_name(t.name)
                .with_partitions(parts)
        })
        .collect();
    OffsetDeleteResponse::default().with_topics(topics)
}
