//! ListOffsets: -2 earliest, -1 latest, -3 max timestamp (v7), or the first
//! offset at or after a timestamp.

use std::sync::Arc;

use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};

use super::RequestCtx;
use crate::error_code as ec;
use crate::security::acl::{Operation, ResourceType};
use crate::state::BrokerState;

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;
/// v8: the first offset on local storage, which is all storage here.
const EARLIEST_LOCAL: i64 = -4;
/// v9: the last offset on tiered storage, of which there is none.
const LATEST_TIERED: i64 = -5;

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: ListOffsetsRequest,
) -> ListOffsetsResponse {
    let topics = req
        .topics
        .iter()
        .map(|t| {
            let allowed = ctx.may(st, Operation::Describe, ResourceType::Topic, &t.name);
            let topic = st.topics.get(&t.name);
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let r = ListOffsetsPartitionResponse::default()
                        .with_partition_index(p.partition_index)
                        .with_timestamp(-1)
                        .with_offset(-1)
                        .with_leader_epoch(if ctx.version >= 4 { 0 } else { -1 });
                    if !allowed {
                        return r.with_error_code(ec::TOPIC_AUTHORIZATION_FAILED);
                    }
                    let Some(part) = topic.as_ref().and_then(|t| t.partition(p.partition_index))
                    else {
                        return r.with_error_code(ec::UNKNOWN_TOPIC_OR_PARTITION);
                    };
                    let log = part.log.lock();
                    let found = match p.timestamp {
                        LATEST => Ok(Some((log.high_watermark(), -1))),
                        EARLIEST | EARLIEST_LOCAL => Ok(Some((log.log_start_offset(), -1))),
                        LATEST_TIERED => Ok(Some((-1, -1))),
                        MAX_TIMESTAMP => log.max_timestamp_offset(),
                        ts if ts >= 0 => log.offset_for_timestamp(ts),
                        _ => return r.with_error_code(ec::INVALID_REQUEST),
                    };
                    match found {
                        Ok(Some((offset, ts))) => r.with_offset(offset).with_timestamp(ts),
                        Ok(None) => r,
                        Err(e) => {
                            tracing::error!(
                                "ListOffsets on {}-{} failed: {e}",
                                part.topic,
                                part.index
                            );
                            r.with_error_code(ec::KAFKA_STORAGE_ERROR)
                        }
                    }
                })
                .collect();
            ListOffsetsTopicResponse::default()
                .with_name(t.name.clone())
                .with_partitions(partitions)
        })
        .collect();
    ListOffsetsResponse::default().with_topics(topics)
}
