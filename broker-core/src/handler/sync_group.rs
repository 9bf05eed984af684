//! SyncGroup: followers wait for the leader's assignment.

use std::sync::Arc;

use kafka_protocol::messages::{SyncGroupRequest, SyncGroupResponse};

use super::RequestCtx;
use crate::error_code as ec;
use crate::group::SyncParams;
use crate::security::acl::{Operation, ResourceType};
use crate::state::BrokerState;

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: SyncGroupRequest,
) -> SyncGroupResponse {
    if !ctx.may(st, Operation::Read, ResourceType::Group, &req.group_id) {
        return SyncGroupResponse::default().with_error_code(ec::GROUP_AUTHORIZATION_FAILED);
    }
    let params = SyncParams {
        group_id: req.group_id.to_string(),
        generation: req.generation_id,
        member_id: req.member_id.to_string(),
        instance_id: req.group_instance_id.as_ref().map(|i| i.to_string()),
        protocol_type: req.protocol_type.as_ref().map(|p| p.to_string()),
        protocol_name: req.protocol_name.as_ref().map(|p| p.to_string()),
        assignments: req
            .assignments
            .iter()
            .map(|a| (a.member_id.to_string(), a.assignment.clone()))
            .collect(),
    };
    let (error, assignment) = st.groups.sync(params).await;
    SyncGroupResponse::default()
        .with_error_code(error)
        .with_protocol_type(req.protocol_type)
        .with_protocol_name(req.protocol_name)
        .with_assignment(assignment)
}
