//! OffsetCommit: validated against the group, written to `__consumer_offsets`,
//! answered once durable.

use std::sync::Arc;

use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse};

use super::RequestCtx;
use crate::clock::now_ms;
use crate::error_code as ec;
use crate::group::offsets::OFFSET_METADATA_MAX_BYTES;
use crate::group::records::OffsetValue;
use crate::group::CommitEntry;
use crate::security::acl::{Operation, ResourceType};
use crate::state::BrokerState;

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: OffsetCommitRequest,
) -> OffsetCommitResponse {
    let now = now_ms();
    let group_denied = !ctx.may(st, Operation::Read, ResourceType::Group, &req.group_id);
    // Per-partition verdicts before the group check.
    let mut verdicts: Vec<Vec<i16>> = Vec::new();
    let mut entries = Vec::new();
    for t in &req.topics {
        let topic = st.topics.get(&t.name);
        let topic_denied =
            !group_denied && !ctx.may(st, Operation::Read, ResourceType::Topic, &t.name);
        let mut v = Vec::new();
        for p in &t.partitions {
            let meta = p.committed_metadata.as_deref().unwrap_or("");
            let code = if group_denied {
                ec::GROUP_AUTHORIZATION_FAILED
            } else if topic_denied {
                ec::TOPIC_AUTHORIZATION_FAILED
            } else if topic
                .as_ref()
                .and_then(|x| x.partition(p.partition_index))
                .is_none()
            {
                ec::UNKNOWN_TOPIC_OR_PARTITION
            } else if meta.len() > OFFSET_METADATA_MAX_BYTES {
                ec::OFFSET_METADATA_TOO_LARGE
            } else {
                entries.push(CommitEntry {
                    topic: t.name.to_string(),
                    partition: p.partition_index,
                    value: OffsetValue {
                        offset: p.committed_offset,
                        leader_epoch: p.committed_leader_epoch,
                        metadata: meta.to_string(),
                        commit_timestamp: now,
                    },
                });
                ec::NONE
            };
            v.push(code);
        }
        verdicts.push(v);
    }
    if group_denied {
        entries.clear();
    }
    let group_result = if group_denied {
        Ok(())
    } else {
        st.groups
            .commit(
                &req.group_id,
                req.generation_id_or_member_epoch,
                &req.member_id,
                req.group_instance_id.as_deref(),
                entries,
            )
            .await
    };
    let topics = req
        .topics
        .iter()
        .zip(verdicts)
        .map(|(t, v)| {
            OffsetCommitResponseTopic::default()
                .with_name(t.name.clone())
                .with_partitions(
                    t.partitions
                        .iter()
                        .zip(v)
                        .map(|(p, code)| {
                            let code = match (code, group_result) {
                                (ec::NONE, Err(e)) => e,
                                (c, _) => c,
                            };
                            OffsetCommitResponsePartition::default()
                                .with_partition_index(p.partition_index)
                                .with_error_code(code)
                        })
                        .collect(),
                )
        })
        .collect();
    OffsetCommitResponse::default().with_topics(topics)
}
