//! DescribeTopicPartitions: topics and their partitions in name order, at
//! most `response_partition_limit` partitions per answer, continued from a
//! cursor. Topics the client may not describe are refused when named and
//! left out of a full listing.

use std::sync::Arc;

use kafka_protocol::messages::describe_topic_partitions_response::{
    Cursor, DescribeTopicPartitionsResponsePartition, DescribeTopicPartitionsResponseTopic,
};
use kafka_protocol::messages::{
    BrokerId, DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse, TopicName,
};

use super::{s, RequestCtx};
use crate::error_code as ec;
use crate::security::acl::{Operation, ResourceType};
use crate::state::BrokerState;
use crate::topics::validate_name;

/// Kafka's `max.request.partition.size.limit`.
const PARTITION_LIMIT: i32 = 2000;

fn refused(name: &str, code: i16) -> DescribeTopicPartitionsResponseTopic {
    DescribeTopicPartitionsResponseTopic::default()
        .with_error_code(code)
        .with_name(Some(TopicName(s(name))))
        .with_topic_authorized_operations(i32::MIN)
}

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: DescribeTopicPartitionsRequest,
) -> DescribeTopicPartitionsResponse {
    let resp = DescribeTopicPartitionsResponse::default();
    let from = req.cursor.as_ref().map(|c| c.topic_name.to_string());
    let from = from.as_deref().unwrap_or("");
    if let Some(c) = &req.cursor {
        let named = req.topics.iter().any(|t| t.name == c.topic_name);
        if c.partition_index < 0 || (!req.topics.is_empty() && !named) {
            let topics = req
                .topics
                .iter()
                .map(|t| refused(&t.name, ec::INVALID_REQUEST))
                .collect();
            return resp.with_topics(topics);
        }
    }
    let all = req.topics.is_empty();
    let mut names: Vec<String> = if all {
        st.topics.all().iter().map(|t| t.name.clone()).collect()
    } else {
        req.topics.iter().map(|t| t.name.to_string()).collect()
    };
    names.sort();
    names.dedup();
    names.retain(|n| n.as_str() >= from);
    let mut out = Vec::new();
    let mut denied = Vec::new();
    let mut budget = req.response_partition_limit.clamp(1, PARTITION_LIMIT);
    let mut next = None;
    for name in names {
        let allowed = if all {
            ctx.may_see(st, Operation::Describe, ResourceType::Topic, &name)
        } else {
            ctx.may(st, Operation::Describe, ResourceType::Topic, &name)
        };
        if !allowed {
            if !all {
                denied.push(refused(&name, ec::TOPIC_AUTHORIZATION_FAILED));
            }
            continue;
        }
        let Some(topic) = st.topics.get(&name) else {
            if !all {
                let code = if validate_name(&name).is_err() {
                    ec::INVALID_TOPIC_EXCEPTION
                } else {
                    ec::UNKNOWN_TOPIC_OR_PARTITION
                };
                out.push(refused(&name, code));
            }
            continue;
        };
        if budget == 0 {
            next = Some(Cursor::default().with_topic_name(TopicName(s(&name))));
            break;
        }
        let start = match &req.cursor {
            Some(c) if c.topic_name.as_str() == name => c.partition_index,
            _ => 0,
        };
        let count = topic.partition_count();
        let end = count.min(start.saturating_add(budget));
        let node = BrokerId(st.node_id());
        let partitions = (start..end)
            .map(|p| {
                DescribeTopicPartitionsResponsePartition::default()
                    .with_partition_index(p)
                    .with_leader_id(node)
                    .with_leader_epoch(0)
                    .with_replica_nodes(vec![node])
                    .with_isr_nodes(vec![node])
                    .with_eligible_leader_replicas(Some(Vec::new()))
                    .with_last_known_elr(Some(Vec::new()))
            })
            .collect();
        budget -= (end - start).max(0);
        out.push(
            DescribeTopicPartitionsResponseTopic::default()
                .with_name(Some(TopicName(s(&topic.name))))
                .with_topic_id(topic.id)
                .with_is_internal(topic.internal)
                .with_partitions(partitions)
                .with_topic_authorized_operations(ctx.authorized_operations(
                    st,
                    ResourceType::Topic,
                    &topic.name,
                )),
        );
        if end < count {
            next = Some(
                Cursor::default()
                    .with_topic_name(TopicName(s(&topic.name)))
                    .with_partition_index(end),
            );
            break;
        }
    }
    out.extend(denied);
    resp.with_topics(out).with_next_cursor(next)
}
