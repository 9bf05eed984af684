//! DescribeLogDirs: the one log directory and each partition's size.

use std::sync::Arc;

use kafka_protocol::messages::describe_log_dirs_response::{
    DescribeLogDirsPartition, DescribeLogDirsResult, DescribeLogDirsTopic,
};
use kafka_protocol::messages::{DescribeLogDirsRequest, DescribeLogDirsResponse, TopicName};

use super::{s, RequestCtx};
use crate::error_code as ec;
use crate::security::acl::Operation;
use crate::state::BrokerState;

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: DescribeLogDirsRequest,
) -> DescribeLogDirsResponse {
    if !ctx.may_cluster(st, Operation::Describe) {
        return DescribeLogDirsResponse::default()
            .with_error_code(ec::CLUSTER_AUTHORIZATION_FAILED);
    }
    let wanted = req.topics;
    let topics = st
        .topics
        .all()
        .into_iter()
        .filter_map(|t| {
            let parts: Vec<i32> = match &wanted {
                None => (0..t.partition_count()).collect(),
                Some(list) => list
                    .iter()
                    .find(|w| w.topic.as_str() == t.name)?
                    .partitions
                    .clone(),
            };
            let partitions = parts
                .into_iter()
                .filter_map(|p| {
                    let part = t.partition(p)?;
                    let size = part.log.lock().size_bytes();
                    Some(
                        DescribeLogDirsPartition::default()
                            .with_partition_index(p)
                            .with_partition_size(size as i64),
                    )
                })
                .collect();
            Some(
                DescribeLogDirsTopic::default()
                    .with_name(TopicName(s(&t.name)))
                    .with_partitions(partitions),
            )
        })
        .collect();
    DescribeLogDirsResponse::default().with_results(vec![DescribeLogDirsResult::default()
        .with_log_dir(s(&st.topics.log_dir().display().to_string()))
        .with_topics(topics)
        .with_total_bytes(-1)
        .with_usable_bytes(-1)])
}
