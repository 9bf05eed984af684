//! OffsetFetch: committed offsets of one group (v1-7) or several (v8).

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{OffsetFetchRequest, OffsetFetchResponse, TopicName};

use super::{s, RequestCtx};
use crate::error_code as ec;
use crate::group::Coordinator;
use crate::security::acl::{Operation, ResourceType};
use crate::state::BrokerState;

/// (topic -> [(partition, offset, leader epoch, metadata)]) for a group.
type Fetched = BTreeMap<String, Vec<(i32, i64, i32, String)>>;

fn lookup(c: &Coordinator, group: &str, topics: Option<Vec<(String, Vec<i32>)>>) -> Fetched {
    let mut out = Fetched::new();
    match topics {
        None => {
            for ((t, p), v) in c.all_committed(group) {
                out.entry(t)
                    .or_default()
                    .push((p, v.offset, v.leader_epoch, v.metadata));
            }
        }
        Some(list) => {
            for (t, parts) in list {
                let e = out.entry(t.clone()).or_default();
                for p in parts {
                    match c.committed(group, &t, p) {
                        Some(v) => e.push((p, v.offset, v.leader_epoch, v.metadata.clone())),
                        None => e.push((p, -1, -1, String::new())),
                    }
                }
            }
        }
    }
    out
}

/// Builds the topics array of either response layout (v1-7 or v8) from `fetched`;
/// the two layouts have the same fields under different type names.
macro_rules! topics_of {
    ($fetched:expr, $topic:ty, $partition:ty) => {
        $fetched
            .into_iter()
            .map(|(t, parts)| {
                <$topic>::default()
                    .with_name(TopicName(s(&t)))
                    .with_partitions(
                        parts
                            .into_iter()
                            .map(|(p, o, e, m)| {
                                <$partition>::default()
                                    .with_partition_index(p)
                                    .with_committed_offset(o)
                                    .with_committed_leader_epoch(e)
                                    .with_metadata(Some(s(&m)))
                            })
                            .collect(),
                    )
            })
            .collect()
    };
}

/// Leaves out (all partitions) or refuses (named ones) the topics the
/// client may not describe; returns the refused ones' names.
fn authorize(
    st: &BrokerState,
    ctx: &RequestCtx,
    named: bool,
    fetched: &mut Fetched,
) -> Vec<String> {
    if !named {
        fetched.retain(|t, _| ctx.may_see(st, Operation::Describe, ResourceType::Topic, t));
        return Vec::new();
    }
    let mut refused = Vec::new();
    for (topic, parts) in fetched.iter_mut() {
        if !ctx.may(st, Operation::Describe, ResourceType::Topic, topic) {
            for p in parts.iter_mut() {
                *p = (p.0, -1, -1, String::new());
            }
            refused.push(topic.clone());
        }
    }
    refused
}

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: OffsetFetchRequest,
) -> OffsetFetchResponse {
    if ctx.version >= 8 {
        let groups = req
            .groups
            .iter()
            .map(|g| {
                let topics = g.topics.as_ref().map(|ts| {
                    ts.iter()
                        .map(|t| (t.name.to_string(), t.partition_indexes.clone()))
                        .collect()
                });
                if !ctx.may(st, Operation::Describe, ResourceType::Group, &g.group_id) {
                    return OffsetFetchResponseGroup::default()
                        .with_group_id(g.group_id.clone())
                        .with_error_code(ec::GROUP_AUTHORIZATION_FAILED);
                }
                let named = topics.is_some();
                let mut fetched = st.groups.read(|c| lookup(c, &g.group_id, topics));
                let denied = authorize(st, ctx, named, &mut fetched);
                let mut topics: Vec<OffsetFetchResponseTopics> = topics_of!(
                    fetched,
                    OffsetFetchResponseTopics,
                    OffsetFetchResponsePartitions
                );
                for t in topics
                    .iter_mut()
                    .filter(|t| denied.contains(&t.name.to_string()))
                {
                    for p in t.partitions.iter_mut() {
                        p.error_code = ec::TOPIC_AUTHORIZATION_FAILED;
                    }
                }
                OffsetFetchResponseGroup::default()
                    .with_group_id(g.group_id.clone())
                    .with_topics(topics)
            })
            .collect();
        return OffsetFetchResponse::default().with_groups(groups);
    }
    let topics = req.topics.as_ref().map(|ts| {
        ts.iter()
            .map(|t| (t.name.to_string(), t.partition_indexes.clone()))
            .collect()
    });
    if !ctx.may(st, Operation::Describe, ResourceType::Group, &req.group_id) {
        return OffsetFetchResponse::default().with_error_code(ec::GROUP_AUTHORIZATION_FAILED);
    }
    let named = topics.is_some();
    let mut fetched = st.groups.read(|c| lookup(c, &req.group_id, topics));
    let denied = authorize(st, ctx, named, &mut fetched);
    let mut topics: Vec<OffsetFetchResponseTopic> = topics_of!(
        fetched,
        OffsetFetchResponseTopic,
        OffsetFetchResponsePartition
    );
    for t in topics
        .iter_mut()
        .filter(|t| denied.contains(&t.name.to_string()))
    {
        for p in t.partitions.iter_mut() {
            p.error_code = ec::TOPIC_AUTHORIZATION_FAILED;
        }
    }
    OffsetFetchResponse::default().with_topics(topics)
}
