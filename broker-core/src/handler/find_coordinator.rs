//! FindCoordinator: this node coordinates every group. Transactions are not
//! supported yet, so transactional ids get COORDINATOR_NOT_AVAILABLE.

use std::sync::Arc;

use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::StrBytes;

use super::{s, RequestCtx};
use crate::error_code as ec;
use crate::security::acl::{Operation, ResourceType};
use crate::state::BrokerState;

const KEY_TYPE_GROUP: i8 = 0;
const KEY_TYPE_TRANSACTION: i8 = 1;

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: FindCoordinatorRequest,
) -> FindCoordinatorResponse {
    // Each key's answer: this node, or why not.
    let answer = |key: &str| -> (i16, Option<StrBytes>) {
        if req.key_type == KEY_TYPE_GROUP {
            if ctx.may(st, Operation::Describe, ResourceType::Group, key) {
                (ec::NONE, None)
            } else {
                (ec::GROUP_AUTHORIZATION_FAILED, None)
            }
        } else if req.key_type != KEY_TYPE_TRANSACTION {
            (
                ec::INVALID_REQUEST,
                Some(s(&format!(
                    "coordinator key type {} is not supported (share groups are not)",
                    req.key_type
                ))),
            )
        } else if !ctx.may(st, Operation::Describe, ResourceType::TransactionalId, key) {
            (ec::TRANSACTIONAL_ID_AUTHORIZATION_FAILED, None)
        } else {
            (
                ec::COORDINATOR_NOT_AVAILABLE,
                Some(s("transactions are not supported by this broker")),
            )
        }
    };
    let endpoint = st.endpoint(ctx.listener);
    let place = |code: i16| {
        if code == ec::NONE {
            (st.node_id(), endpoint.host.as_str(), endpoint.port as i32)
        } else {
            (-1, "", -1)
        }
    };
    if ctx.version >= 4 {
        let coordinators = req
            .coordinator_keys
            .iter()
            .map(|k| {
                let (code, message) = answer(k);
                let (node, host, port) = place(code);
                Coordinator::default()
                    .with_key(k.clone())
                    .with_node_id(BrokerId(node))
                    .with_host(s(host))
                    .with_port(port)
                    .with_error_code(code)
                    .with_error_message(message)
            })
            .collect();
        return FindCoordinatorResponse::default().with_coordinators(coordinators);
    }
    let (code, message) = answer(&req.key);
    let (node, host, port) = place(code);
    FindCoordinatorResponse::default()
        .with_error_code(code)
        .with_error_message(message)
        .with_node_id(BrokerId(node))
        .with_host(s(host))
        .with_port(port)
}
