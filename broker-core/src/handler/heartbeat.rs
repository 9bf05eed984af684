//! Heartbeat: keeps a member's session alive and tells it about rebalances.

use std::sync::Arc;

use kafka_protocol::messages::{HeartbeatRequest, HeartbeatResponse};

use super::RequestCtx;
use crate::error_code as ec;
use crate::security::acl::{Operation, ResourceType};
use crate::state::BrokerState;

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: HeartbeatRequest,
) -> HeartbeatResponse {
    if !ctx.may(st, Operation::Read, ResourceType::Group, &req.group_id) {
        return HeartbeatResponse::default().with_error_code(ec::GROUP_AUTHORIZATION_FAILED);
    }
    let code = st.groups.heartbeat(
        &req.group_id,
        req.generation_id,
        &req.member_id,
        req.group_instance_id.as_deref(),
    );
    HeartbeatResponse::default().with_error_code(code)
}
