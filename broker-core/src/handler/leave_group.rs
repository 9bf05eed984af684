//! LeaveGroup: one member (v0-2) or a batch of members (v3+).

use std::sync::Arc;

use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::{LeaveGroupRequest, LeaveGroupResponse};

use super::RequestCtx;
use crate::error_code as ec;
use crate::security::acl::{Operation, ResourceType};
use crate::state::BrokerState;

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: LeaveGroupRequest,
) -> LeaveGroupResponse {
    if !ctx.may(st, Operation::Read, ResourceType::Group, &req.group_id) {
        return LeaveGroupResponse::default().with_error_code(ec::GROUP_AUTHORIZATION_FAILED);
    }
    if ctx.version < 3 {
        let (_, errors) = st
            .groups
            .leave(&req.group_id, &[(req.member_id.to_string(), None)]);
        return LeaveGroupResponse::default()
            .with_error_code(errors.first().copied().unwrap_or(ec::UNKNOWN_MEMBER_ID));
    }
    let members: Vec<(String, Option<String>)> = req
        .members
        .iter()
        .map(|m| {
            (
                m.member_id.to_string(),
                m.group_instance_id.as_ref().map(|i| i.to_string()),
            )
        })
        .collect();
    let (code, errors) = st.groups.leave(&req.group_id, &members);
    LeaveGroupResponse::default()
        .with_error_code(code)
        .with_members(
            req.members
                .into_iter()
                .zip(errors)
                .map(|(m, e)| {
                    MemberResponse::default()
                        .with_member_id(m.member_id)
                        .with_group_instance_id(m.group_instance_id)
                        .with_error_code(e)
                })
                .collect(),
        )
}
