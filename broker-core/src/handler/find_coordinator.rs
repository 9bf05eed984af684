//! FindCoordinator: this node coordinates every group. Transactions are not
//! supported yet, so transactional ids get COORDINATOR_NOT_AVAILABLE.

use std::sync::Arc;

use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};

use super::{s, RequestCtx};
use crate::error_code as ec;
use crate::state::BrokerState;

const KEY_TYPE_GROUP: i8 = 0;

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: FindCoordinatorRequest,
) -> FindCoordinatorResponse {
    let (code, message) = if req.key_type == KEY_TYPE_GROUP {
        (ec::NONE, None)
    } else {
        (
            ec::COORDINATOR_NOT_AVAILABLE,
            Some(s("transactions are not supported by this broker")),
        )
    };
    let node = if code == ec::NONE { st.node_id() } else { -1 };
    let host = if code == ec::NONE {
        st.endpoint(ctx.listener).host.as_str()
    } else {
        ""
    };
    let port = if code == ec::NONE {
        st.endpoint(ctx.listener).port as i32
    } else {
        -1
    };
    if ctx.version >= 4 {
        let coordinators = req
            .coordinator_keys
            .iter()
            .map(|k| {
                Coordinator::default()
                    .with_key(k.clone())
                    .with_node_id(BrokerId(node))
                    .with_host(s(host))
                    .with_port(port)
                    .with_error_code(code)
                    .with_error_message(message.clone())
            })
            .collect();
        return FindCoordinatorResponse::default().with_coordinators(coordinators);
    }
    FindCoordinatorResponse::default()
        .with_error_code(code)
        .with_error_message(message)
        .with_node_id(BrokerId(node))
        .with_host(s(host))
        .with_port(port)
}
