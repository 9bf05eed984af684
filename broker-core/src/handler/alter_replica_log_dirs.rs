//! AlterReplicaLogDirs: the broker has one log directory, so a replica may
//! be "moved" there (where it is) and nowhere else.

use std::sync::Arc;

use kafka_protocol::messages::alter_replica_log_dirs_response::{
    AlterReplicaLogDirPartitionResult, AlterReplicaLogDirTopicResult,
};
use kafka_protocol::messages::{AlterReplicaLogDirsRequest, AlterReplicaLogDirsResponse};

use super::RequestCtx;
use crate::error_code as ec;
use crate::security::acl::Operation;
use crate::state::BrokerState;

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: AlterReplicaLogDirsRequest,
) -> AlterReplicaLogDirsResponse {
    let allowed = ctx.may_cluster(st, Operation::Alter);
    let ours = st.topics.log_dir();
    let ours_canonical = std::fs::canonicalize(ours).ok();
    let mut results = Vec::new();
    for dir in &req.dirs {
        let path = std::path::Path::new(dir.path.as_str());
        let known = allowed
            && (path == ours
                || (path.is_absolute()
                    && ours_canonical.is_some()
                    && std::fs::canonicalize(path).ok() == ours_canonical));
        for t in &dir.topics {
            let topic = st.topics.get(&t.name);
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let code = if !allowed {
                        ec::CLUSTER_AUTHORIZATION_FAILED
                    } else if !known {
                        ec::LOG_DIR_NOT_FOUND
                    } else if topic.is_none() {
                        ec::UNKNOWN_TOPIC_OR_PARTITION
                    } else if topic.as_ref().and_then(|x| x.partition(*p)).is_none() {
                        ec::REPLICA_NOT_AVAILABLE
                    } else {
                        ec::NONE
                    };
                    AlterReplicaLogDirPartitionResult::default()
                        .with_partition_index(*p)
                        .with_error_code(code)
                })
                .collect();
            results.push(
                AlterReplicaLogDirTopicResult::default()
                    .with_topic_name(t.name.clone())
                    .with_partitions(partitions),
            );
        }
    }
    AlterReplicaLogDirsResponse::default().with_results(results)
}
