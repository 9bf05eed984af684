//! Produce: validate and append each partition's batches; `acks=all` answers
//! only after the flusher made them durable, `acks=0` gets no answer at all.

use std::sync::Arc;

use kafka_protocol::messages::produce_response::{
    BatchIndexAndErrorMessage, PartitionProduceResponse, TopicProduceResponse,
};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};

use super::{s, Reply, RequestCtx};
use crate::clock::now_ms;
use crate::error_code as ec;
use crate::protocol::encode_response;
use crate::security::acl::{Operation, ResourceType};
use crate::state::BrokerState;

pub(super) fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: ProduceRequest,
    cid: i32,
) -> Reply {
    let acks = req.acks;
    let now = now_ms();
    let mut waits = Vec::new();
    let mut appended = false;
    let mut topics = Vec::with_capacity(req.topic_data.len());
    let txn_denied = req
        .transactional_id
        .as_ref()
        .is_some_and(|t| !ctx.may(st, Operation::Write, ResourceType::TransactionalId, t));
    for (ti, td) in req.topic_data.into_iter().enumerate() {
        let denied = if txn_denied {
            Some(ec::TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
        } else if !ctx.may(st, Operation::Write, ResourceType::Topic, &td.name) {
            Some(ec::TOPIC_AUTHORIZATION_FAILED)
        } else {
            None
        };
        let topic = st.topics.get(&td.name).filter(|t| !t.internal);
        let mut parts = Vec::with_capacity(td.partition_data.len());
        for (pi, pd) in td.partition_data.into_iter().enumerate() {
            let mut r = PartitionProduceResponse::default()
                .with_index(pd.index)
                .with_base_offset(-1)
                .with_log_append_time_ms(-1)
                .with_log_start_offset(-1);
            let partition = topic.as_ref().and_then(|t| t.partition(pd.index));
            match (partition, pd.records) {
                _ if denied.is_some() => {
                    r = r.with_error_code(denied.unwrap_or(ec::TOPIC_AUTHORIZATION_FAILED));
                }
                (None, _) => {
                    let code = match &topic {
                        None if st.topics.get(&td.name).is_some() => ec::INVALID_TOPIC_EXCEPTION,
                        _ => ec::UNKNOWN_TOPIC_OR_PARTITION,
                    };
                    r = r.with_error_code(code);
                }
                (Some(_), None) => {
                    r = r.with_error_code(ec::CORRUPT_MESSAGE);
                }
                (Some(p), Some(records)) => {
                    let result = {
                        let mut log = p.log.lock();
                        log.append(&records, now)
                            .map(|a| (a, log.log_start_offset()))
                    };
                    match result {
                        Ok((a, start)) => {
                            appended = true;
                            r = r
                                .with_base_offset(a.base_offset)
                                .with_log_append_time_ms(a.log_append_time_ms)
                                .with_log_start_offset(start);
                            if acks == -1 {
                                waits.push((ti, pi, st.flusher.flush(p.clone())));
                            } else if p.log.lock().flush_due(now) {
                                st.flusher.flush_later(p.clone());
                            }
                        }
                        Err(e) => {
                            tracing::warn!(
                                "produce to {}-{} from client {:?} at {} rejected: {}",
                                td.name.as_str(),
                                pd.index,
                                ctx.client_id,
                                ctx.client_host,
                                e.message
                            );
                            r = r
                                .with_error_code(e.code)
                                .with_error_message(Some(s(&e.message)));
                            if let Some(i) = e.record_index {
                                r = r
                                    .with_record_errors(vec![BatchIndexAndErrorMessage::default()
                                        .with_batch_index(i)
                                        .with_batch_index_error_message(Some(s(&e.message)))]);
                            }
                        }
                    }
                }
            }
            parts.push(r);
        }
        topics.push(
            TopicProduceResponse::default()
                .with_name(td.name)
                .with_partition_responses(parts),
        );
    }
    if appended {
        st.notify_data();
    }
    if acks == 0 {
        return Reply::Nothing;
    }
    let version = ctx.version;
    let mut resp = ProduceResponse::default().with_responses(topics);
    if waits.is_empty() {
        return match encode_response(cid, version, &resp) {
            Ok(b) => Reply::Now(b),
            Err(e) => Reply::Later(Box::pin(async move { Err(e) })),
        };
    }
    Reply::Later(Box::pin(async move {
        for (ti, pi, w) in waits {
            if !matches!(w.await, Ok(Ok(()))) {
                if let Some(p) = resp
                    .responses
                    .get_mut(ti)
                    .and_then(|t| t.partition_responses.get_mut(pi))
                {
                    p.error_code = ec::KAFKA_STORAGE_ERROR;
                    p.base_offset = -1;
                }
            }
        }
        encode_response(cid, version, &resp)
    }))
}
