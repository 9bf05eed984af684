//! CreatePartitions: grows a topic; one result per requested topic.

use std::sync::Arc;

use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::{CreatePartitionsRequest, CreatePartitionsResponse};

use super::{s, RequestCtx};
use crate::error_code as ec;
use crate::security::acl::{Operation, ResourceType};
use crate::state::BrokerState;
use crate::topics::TopicError;

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: CreatePartitionsRequest,
) -> CreatePartitionsResponse {
    let results = req
        .topics
        .iter()
        .map(|t| {
            let r = CreatePartitionsTopicResult::default().with_name(t.name.clone());
            if !ctx.may(st, Operation::Alter, ResourceType::Topic, &t.name) {
                return r
                    .with_error_code(ec::TOPIC_AUTHORIZATION_FAILED)
                    .with_error_message(Some(s("Authorization failed.")));
            }
            let Some(topic) = st.topics.get(&t.name) else {
                return r.with_error_code(ec::UNKNOWN_TOPIC_OR_PARTITION).with_error_message(Some(
                    s(&format!("The topic '{}' does not exist.", t.name.as_str())),
                ));
            };
            let current = topic.partition_count();
            let outcome = if t.count <= current {
                Err(TopicError::InvalidPartitions(if t.count == current {
                    format!("Topic already has {current} partitions.")
                } else {
                    format!("Topic currently has {current} partitions, which is higher than the requested {}.", t.count)
                }))
            } else if req.validate_only {
                Ok(())
            } else {
                st.topics.add_partitions(&topic, t.count)
            };
            match outcome {
                Ok(()) => r,
                Err(TopicError::InvalidPartitions(m)) => r
                    .with_error_code(ec::INVALID_PARTITIONS)
                    .with_error_message(Some(s(&m))),
                Err(e) => r
                    .with_error_code(ec::KAFKA_STORAGE_ERROR)
                    .with_error_message(Some(s(&e.to_string()))),
            }
        })
        .collect();
    CreatePartitionsResponse::default().with_results(results)
}
