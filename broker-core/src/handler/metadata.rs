//! Metadata: brokers, topics and partitions; unknown topics are created when
//! the client allows it and `auto.create.topics.enable` is on.

use std::sync::Arc;

use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};

use super::{s, RequestCtx};
use crate::error_code as ec;
use crate::security::acl::{Operation, ResourceType, CLUSTER_NAME};
use crate::state::BrokerState;
use crate::topics::Topic;

/// The bit set of the operations the client may perform on a resource
/// (Kafka's `*_authorized_operations`), or Kafka's "not asked" value.
fn authorized_operations(
    st: &BrokerState,
    ctx: &RequestCtx,
    asked: bool,
    rt: ResourceType,
    name: &str,
) -> i32 {
    if !asked {
        return i32::MIN;
    }
    ctx.authorized_operations(st, rt, name)
}

fn topic_entry(
    st: &BrokerState,
    ctx: &RequestCtx,
    req: &MetadataRequest,
    t: &Topic,
) -> MetadataResponseTopic {
    let node = BrokerId(st.node_id());
    let ops = authorized_operations(
        st,
        ctx,
        req.include_topic_authorized_operations,
        ResourceType::Topic,
        &t.name,
    );
    MetadataResponseTopic::default()
        .with_name(Some(TopicName(s(&t.name))))
        .with_topic_id(t.id)
        .with_is_internal(t.internal)
        .with_topic_authorized_operations(ops)
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

/// A topic asked for by name: described when the client may, created when
/// it is missing, the request allows it and the client may create it.
fn named_topic(
    st: &BrokerState,
    ctx: &RequestCtx,
    name: &str,
    allow: bool,
) -> Result<Arc<Topic>, i16> {
    if !ctx.may(st, Operation::Describe, ResourceType::Topic, name) {
        return Err(ec::TOPIC_AUTHORIZATION_FAILED);
    }
    let create =
        allow && st.topics.get(name).is_none() && st.config.auto_create_topics && st.acls.enabled();
    if create
        && !ctx.may_see(st, Operation::Create, ResourceType::Cluster, CLUSTER_NAME)
        && !ctx.may(st, Operation::Create, ResourceType::Topic, name)
    {
        return Err(ec::TOPIC_AUTHORIZATION_FAILED);
    }
    st.topic_or_create(name, allow)
}

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: MetadataRequest,
) -> MetadataResponse {
    // Before v4 there is no flag and Kafka auto-creates.
    let allow = ctx.version < 4 || req.allow_auto_topic_creation;
    let topics = match &req.topics {
        // A listing leaves out the topics the client may not describe.
        None => st
            .topics
            .all()
            .iter()
            .filter(|t| ctx.may_see(st, Operation::Describe, ResourceType::Topic, &t.name))
            .map(|t| topic_entry(st, ctx, &req, t))
            .collect(),
        Some(list) => list
            .iter()
            .map(|rt| {
                let found = match &rt.name {
                    Some(name) => named_topic(st, ctx, name, allow),
                    None => match st.topics.by_id(rt.topic_id) {
                        Some(t)
                            if ctx.may(st, Operation::Describe, ResourceType::Topic, &t.name) =>
                        {
                            Ok(t)
                        }
                        Some(_) => Err(ec::TOPIC_AUTHORIZATION_FAILED),
                        None => Err(ec::UNKNOWN_TOPIC_ID),
                    },
                };
                match found {
                    Ok(t) => topic_entry(st, ctx, &req, &t),
                    Err(code) => MetadataResponseTopic::default()
                        .with_error_code(code)
                        .with_name(rt.name.clone())
                        .with_topic_id(rt.topic_id)
                        .with_topic_authorized_operations(i32::MIN),
                }
            })
            .collect(),
    };
    // (v8-10) Without DESCRIBE on the cluster the client learns nothing of it.
    let cluster_ops = if req.include_cluster_authorized_operations
        && !ctx.may_see(st, Operation::Describe, ResourceType::Cluster, CLUSTER_NAME)
    {
        0
    } else {
        authorized_operations(
            st,
            ctx,
            req.include_cluster_authorized_operations,
            ResourceType::Cluster,
            CLUSTER_NAME,
        )
    };
    MetadataResponse::default()
        .with_brokers(vec![MetadataResponseBroker::default()
            .with_node_id(BrokerId(st.node_id()))
            .with_host(s(&st.endpoint(ctx.listener).host))
            .with_port(st.endpoint(ctx.listener).port as i32)])
        .with_cluster_id(Some(s(&st.cluster_id)))
        .with_controller_id(BrokerId(st.node_id()))
        .with_cluster_authorized_operations(cluster_ops)
        .with_topics(topics)
}
