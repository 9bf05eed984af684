//! JoinGroup: parks until the group's join phase completes.

use std::sync::Arc;

use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::{JoinGroupRequest, JoinGroupResponse};

use super::{s, RequestCtx};
use crate::error_code as ec;
use crate::group::JoinParams;
use crate::security::acl::{Operation, ResourceType};
use crate::state::BrokerState;

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: JoinGroupRequest,
) -> JoinGroupResponse {
    if !ctx.may(st, Operation::Read, ResourceType::Group, &req.group_id) {
        return JoinGroupResponse::default()
            .with_error_code(ec::GROUP_AUTHORIZATION_FAILED)
            .with_generation_id(-1)
            .with_member_id(req.member_id);
    }
    let params = JoinParams {
        group_id: req.group_id.to_string(),
        member_id: req.member_id.to_string(),
        instance_id: req.group_instance_id.as_ref().map(|i| i.to_string()),
        client_id: ctx.client_id.clone(),
        client_host: ctx.client_host.clone(),
        session_timeout_ms: req.session_timeout_ms,
        // v0 has no rebalance timeout: the session timeout is used.
        rebalance_timeout_ms: if ctx.version >= 1 {
            req.rebalance_timeout_ms
        } else {
            req.session_timeout_ms
        },
        protocol_type: req.protocol_type.to_string(),
        protocols: req
            .protocols
            .iter()
            .map(|p| (p.name.to_string(), p.metadata.clone()))
            .collect(),
        require_known_member_id: ctx.version >= 4 && req.group_instance_id.is_none(),
    };
    let r = st.groups.join(params).await;
    JoinGroupResponse::default()
        .with_error_code(r.error)
        .with_generation_id(r.generation)
        .with_protocol_type(r.protocol_type.as_deref().map(s))
        .with_protocol_name(r.protocol_name.as_deref().map(s))
        .with_leader(s(&r.leader))
        .with_member_id(s(&r.member_id))
        .with_members(
            r.members
                .into_iter()
                .map(|(id, instance, metadata)| {
                    JoinGroupResponseMember::default()
                        .with_member_id(s(&id))
                        .with_group_instance_id(instance.as_deref().map(s))
                        .with_metadata(metadata)
                })
                .collect(),
        )
}
