//! DescribeCluster: one broker, which is also the controller.

use std::sync::Arc;

use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{BrokerId, DescribeClusterRequest, DescribeClusterResponse};

use super::{s, RequestCtx};
use crate::security::acl::{Operation, ResourceType, CLUSTER_NAME};
use crate::state::BrokerState;

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: DescribeClusterRequest,
) -> DescribeClusterResponse {
    let endpoint = st.endpoint(ctx.listener);
    DescribeClusterResponse::default()
        .with_endpoint_type(req.endpoint_type)
        .with_cluster_id(s(&st.cluster_id))
        .with_controller_id(BrokerId(st.node_id()))
        .with_cluster_authorized_operations(if !req.include_cluster_authorized_operations {
            i32::MIN
        } else if ctx.may_see(st, Operation::Describe, ResourceType::Cluster, CLUSTER_NAME) {
            ctx.authorized_operations(st, ResourceType::Cluster, CLUSTER_NAME)
        } else {
            0
        })
        .with_brokers(vec![DescribeClusterBroker::default()
            .with_broker_id(BrokerId(st.node_id()))
            .with_host(s(&endpoint.host))
            .with_port(endpoint.port as i32)])
}
