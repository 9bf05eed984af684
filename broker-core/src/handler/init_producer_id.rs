//! InitProducerId for idempotent producers: a fresh id, or the same id with a
//! bumped epoch when the producer asks for one (KIP-360).

use std::sync::Arc;

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};

use super::RequestCtx;
use crate::error_code as ec;
use crate::security::acl::{Operation, ResourceType};
use crate::state::BrokerState;

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: InitProducerIdRequest,
) -> InitProducerIdResponse {
    let resp = InitProducerIdResponse::default()
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1);
    if let Some(t) = &req.transactional_id {
        if !ctx.may(st, Operation::Write, ResourceType::TransactionalId, t) {
            return resp.with_error_code(ec::TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
        }
        tracing::warn!(
            "client {:?} at {} asked for a transactional producer id; transactions are not supported yet",
            ctx.client_id,
            ctx.client_host
        );
        return resp.with_error_code(ec::COORDINATOR_NOT_AVAILABLE);
    }
    // KIP-679: IDEMPOTENT_WRITE on the cluster, or WRITE on some topic.
    if !ctx.may_any(st, Operation::Write, ResourceType::Topic)
        && !ctx.may_cluster(st, Operation::IdempotentWrite)
    {
        return resp.with_error_code(ec::CLUSTER_AUTHORIZATION_FAILED);
    }
    let (pid, epoch) = (req.producer_id.0, req.producer_epoch);
    if pid >= 0 && (0..i16::MAX - 1).contains(&epoch) {
        return resp
            .with_producer_id(ProducerId(pid))
            .with_producer_epoch(epoch + 1);
    }
    match st.producer_ids.allocate() {
        Ok(id) => resp.with_producer_id(ProducerId(id)).with_producer_epoch(0),
        Err(e) => {
            tracing::error!("could not allocate a producer id: {e}");
            resp.with_error_code(ec::KAFKA_STORAGE_ERROR)
        }
    }
}
