//! DeleteRecords: moves each partition's log start offset.

use std::sync::Arc;

use kafka_protocol::messages::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use kafka_protocol::messages::{DeleteRecordsRequest, DeleteRecordsResponse};

use super::RequestCtx;
use crate::error_code as ec;
use crate::security::acl::{Operation, ResourceType};
use crate::state::BrokerState;

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: DeleteRecordsRequest,
) -> DeleteRecordsResponse {
    let topics = req
        .topics
        .iter()
        .map(|t| {
            let allowed = ctx.may(st, Operation::Delete, ResourceType::Topic, &t.name);
            let topic = st.topics.get(&t.name);
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let r = DeleteRecordsPartitionResult::default()
                        .with_partition_index(p.partition_index)
                        .with_low_watermark(-1);
                    if !allowed {
                        return r.with_error_code(ec::TOPIC_AUTHORIZATION_FAILED);
                    }
                    match topic.as_ref().and_then(|x| x.partition(p.partition_index)) {
                        None => r.with_error_code(ec::UNKNOWN_TOPIC_OR_PARTITION),
                        Some(part) => match part.log.lock().delete_records_before(p.offset) {
                            Ok(low) => r.with_low_watermark(low),
                            Err(e) => r.with_error_code(e.code),
                        },
                    }
                })
                .collect();
            DeleteRecordsTopicResult::default()
                .with_name(t.name.clone())
                .with_partitions(partitions)
        })
        .collect();
    DeleteRecordsResponse::default().with_topics(topics)
}
