//! ListGroups with the v4 state filter and the v5 type filter.

use std::sync::Arc;

use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{GroupId, ListGroupsRequest, ListGroupsResponse};

use super::{s, RequestCtx};
use crate::security::acl::{Operation, ResourceType, CLUSTER_NAME};
use crate::state::BrokerState;

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: ListGroupsRequest,
) -> ListGroupsResponse {
    // DESCRIBE on the cluster shows every group; otherwise the groups the
    // client may describe.
    let all = ctx.may_see(st, Operation::Describe, ResourceType::Cluster, CLUSTER_NAME);
    let states: Vec<String> = req.states_filter.iter().map(|x| x.to_lowercase()).collect();
    let types: Vec<String> = req.types_filter.iter().map(|x| x.to_lowercase()).collect();
    let groups = st
        .groups
        .read(|c| c.list())
        .into_iter()
        .filter(|g| states.is_empty() || states.contains(&g.state.to_lowercase()))
        .filter(|_| types.is_empty() || types.iter().any(|t| t == "classic"))
        .filter(|g| all || ctx.may_see(st, Operation::Describe, ResourceType::Group, &g.group_id))
        .map(|g| {
            ListedGroup::default()
                .with_group_id(GroupId(s(&g.group_id)))
                .with_protocol_type(s(&g.protocol_type))
                .with_group_state(s(g.state))
                .with_group_type(s("classic"))
        })
        .collect();
    ListGroupsResponse::default().with_groups(groups)
}
