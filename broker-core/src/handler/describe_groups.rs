//! DescribeGroups: state, protocol and members (unknown groups are Dead).

use std::sync::Arc;

use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::{DescribeGroupsRequest, DescribeGroupsResponse};

use super::{s, RequestCtx};
use crate::error_code as ec;
use crate::security::acl::{Operation, ResourceType};
use crate::state::BrokerState;

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: DescribeGroupsRequest,
) -> DescribeGroupsResponse {
    let groups = req
        .groups
        .iter()
        .map(|id| {
            if !ctx.may(st, Operation::Describe, ResourceType::Group, id) {
                return DescribedGroup::default()
                    .with_group_id(id.clone())
                    .with_error_code(ec::GROUP_AUTHORIZATION_FAILED)
                    .with_authorized_operations(i32::MIN);
            }
            let ops = if req.include_authorized_operations {
                ctx.authorized_operations(st, ResourceType::Group, id)
            } else {
                i32::MIN
            };
            let g = st.groups.read(|c| c.describe(id));
            // Kafka 4.0 (v6) says a group it does not know is not found.
            if ctx.version >= 6 && g.state == "Dead" {
                return DescribedGroup::default()
                    .with_group_id(id.clone())
                    .with_error_code(ec::GROUP_ID_NOT_FOUND)
                    .with_error_message(Some(s(&format!("Group {} not found.", id.as_str()))))
                    .with_group_state(s("Dead"))
                    .with_authorized_operations(ops);
            }
            DescribedGroup::default()
                .with_group_id(id.clone())
                .with_group_state(s(g.state))
                .with_protocol_type(s(&g.protocol_type))
                .with_protocol_data(s(&g.protocol))
                .with_authorized_operations(ops)
                .with_members(
                    g.members
                        .into_iter()
                        .map(|m| {
                            DescribedGroupMember::default()
                                .with_member_id(s(&m.member_id))
                                .with_group_instance_id(m.instance_id.as_deref().map(s))
                                .with_client_id(s(&m.client_id))
                                .with_client_host(s(&m.client_host))
                                .with_member_metadata(m.metadata)
                                .with_member_assignment(m.assignment)
                        })
                        .collect(),
                )
        })
        .collect();
    DescribeGroupsResponse::default().with_groups(groups)
}
