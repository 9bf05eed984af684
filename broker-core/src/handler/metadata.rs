//! Metadata: brokers, topics and partitions; unknown topics are created when
//! the client allows it and `auto.create.topics.enable` is on.

use std::sync::Arc;

use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};

use super::{s, RequestCtx};
use crate::error_code as ec;
use crate::state::BrokerState;
use crate::topics::Topic;

fn topic_entry(st: &BrokerState, t: &Topic) -> MetadataResponseTopic {
    let node = BrokerId(st.node_id());
    MetadataResponseTopic::default()
        .with_name(Some(TopicName(s(&t.name))))
        .with_topic_id(t.id)
        .with_is_internal(t.internal)
        .with_topic_authorized_operations(i32::MIN)
        .with_partitions(
            (0..t.partition_count())
                .map(|p| {
                    MetadataResponsePartition::default()
                        .with_partition_index(p)
                        .with_leader_id(node)
                        .with_leader_epoch(0)
                        .with_replica_nodes(vec![node])
                        .with_isr_nodes(vec![node])
                })
                .collect(),
        )
}

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: MetadataRequest,
) -> MetadataResponse {
    // Before v4 there is no flag and Kafka auto-creates.
    let allow = ctx.version < 4 || req.allow_auto_topic_creation;
    let topics = match req.topics {
        None => st.topics.all().iter().map(|t| topic_entry(st, t)).collect(),
        Some(list) => list
            .iter()
            .map(|rt| {
                let found = match &rt.name {
                    Some(name) => st.topic_or_create(name, allow),
                    None => st.topics.by_id(rt.topic_id).ok_or(ec::UNKNOWN_TOPIC_ID),
                };
                match found {
                    Ok(t) => topic_entry(st, &t),
                    Err(code) => MetadataResponseTopic::default()
                        .with_error_code(code)
                        .with_name(rt.name.clone())
                        .with_topic_id(rt.topic_id)
                        .with_topic_authorized_operations(i32::MIN),
                }
            })
            .collect(),
    };
    MetadataResponse::default()
        .with_brokers(vec![MetadataResponseBroker::default()
            .with_node_id(BrokerId(st.node_id()))
            .with_host(s(&st.endpoint(ctx.listener).host))
            .with_port(st.endpoint(ctx.listener).port as i32)])
        .with_cluster_id(Some(s(&st.cluster_id)))
        .with_controller_id(BrokerId(st.node_id()))
        .with_cluster_authorized_operations(i32::MIN)
        .with_topics(topics)
}
