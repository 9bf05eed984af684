//! DeleteTopics by name (v1-5) or topic id (v6).

use std::sync::Arc;

use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{DeleteTopicsRequest, DeleteTopicsResponse, TopicName};

use super::{s, RequestCtx};
use crate::error_code as ec;
use crate::security::acl::{Operation, ResourceType, CLUSTER_NAME};
use crate::state::BrokerState;

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: DeleteTopicsRequest,
) -> DeleteTopicsResponse {
    let targets: Vec<(Option<TopicName>, uuid::Uuid)> = if ctx.version >= 6 {
        req.topics
            .iter()
            .map(|t| (t.name.clone(), t.topic_id))
            .collect()
    } else {
        req.topic_names
            .iter()
            .map(|n| (Some(n.clone()), uuid::Uuid::nil()))
            .collect()
    };
    // DELETE on the cluster covers every topic; otherwise a topic must be
    // describable (else it is as good as unknown: refused) and deletable.
    let cluster_delete = ctx.may_see(st, Operation::Delete, ResourceType::Cluster, CLUSTER_NAME);
    let responses = targets
        .into_iter()
        .map(|(name, id)| {
            let topic = match &name {
                Some(n) => st.topics.get(n),
                None => st.topics.by_id(id),
            };
            let r = DeletableTopicResult::default()
                .with_name(name.clone())
                .with_topic_id(id);
            let target = topic.as_ref().map(|t| t.name.clone());
            let target = target.as_deref().or(name.as_deref().map(|n| n.as_str()));
            let describable = |n: &str| ctx.may(st, Operation::Describe, ResourceType::Topic, n);
            if !cluster_delete && target.is_some_and(|n| !describable(n)) {
                return r.with_error_code(ec::TOPIC_AUTHORIZATION_FAILED);
            }
            let Some(topic) = topic else {
                let code = if name.is_none() {
                    ec::UNKNOWN_TOPIC_ID
                } else {
                    ec::UNKNOWN_TOPIC_OR_PARTITION
                };
                return r.with_error_code(code);
            };
            // Described by id: the client may learn its name.
            let r = r.with_name(Some(TopicName(s(&topic.name))));
            if !cluster_delete && !ctx.may(st, Operation::Delete, ResourceType::Topic, &topic.name)
            {
                return r.with_error_code(ec::TOPIC_AUTHORIZATION_FAILED);
            }
            if topic.internal {
                return r
                    .with_error_code(ec::INVALID_TOPIC_EXCEPTION)
                    .with_error_message(Some(s(&format!(
                        "Topic {} is internal and cannot be deleted",
                        topic.name
                    ))));
            }
            match st.topics.delete(&topic.name) {
                Ok(_) => {
                    tracing::info!("deleted topic {}", topic.name);
                    st.groups.forget_topic(&topic.name);
                    r.with_name(Some(TopicName(s(&topic.name))))
                        .with_topic_id(topic.id)
                }
                Err(e) => r
                    .with_error_code(ec::UNKNOWN_TOPIC_OR_PARTITION)
                    .with_error_message(Some(s(&e.to_string()))),
            }
        })
        .collect();
    st.notify_data();
    DeleteTopicsResponse::default().with_responses(responses)
}
