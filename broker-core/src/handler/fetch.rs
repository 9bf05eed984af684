//! Fetch: answer as soon as `min_bytes` are available, otherwise long-poll
//! until data arrives or `max_wait_ms` passes. Whole batches are returned,
//! starting with the one that contains the fetch offset.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{FetchRequest, FetchResponse};

use super::RequestCtx;
use crate::error_code as ec;
use crate::security::acl::{Operation, ResourceType};
use crate::state::BrokerState;

/// Builds one response from what is in the logs now; returns it with the
/// number of record bytes and whether any partition had an error.
fn build(
    st: &BrokerState,
    ctx: &RequestCtx,
    req: &FetchRequest,
    denied: &[bool],
) -> (FetchResponse, usize, bool) {
    let by_id = ctx.version >= 13;
    let max_total = if req.max_bytes > 0 {
        req.max_bytes as usize
    } else {
        usize::MAX
    };
    let mut used = 0usize;
    let mut any_error = false;
    let mut topics = Vec::with_capacity(req.topics.len());
    for (ft, denied) in req.topics.iter().zip(denied) {
        let topic = if by_id {
            st.topics.by_id(ft.topic_id)
        } else {
            st.topics.get(&ft.topic)
        };
        let mut parts = Vec::with_capacity(ft.partitions.len());
        for fp in &ft.partitions {
            let mut pd = PartitionData::default()
                .with_partition_index(fp.partition)
                .with_high_watermark(-1)
                .with_last_stable_offset(-1)
                .with_log_start_offset(-1);
            let found = topic.as_ref().and_then(|t| t.partition(fp.partition));
            let Some(p) = found.filter(|_| !denied) else {
                any_error = true;
                let code = if *denied {
                    ec::TOPIC_AUTHORIZATION_FAILED
                } else if by_id && topic.is_none() {
                    ec::UNKNOWN_TOPIC_ID
                } else {
                    ec::UNKNOWN_TOPIC_OR_PARTITION
                };
                parts.push(pd.with_error_code(code));
                continue;
            };
            let (plan, hwm, start) = {
                let log = p.log.lock();
                (
                    log.plan_read(fp.fetch_offset),
                    log.high_watermark(),
                    log.log_start_offset(),
                )
            };
            pd = pd
                .with_high_watermark(hwm)
                .with_last_stable_offset(hwm)
                .with_log_start_offset(start);
            if req.isolation_level == 1 {
                pd = pd.with_aborted_transactions(Some(Vec::new()));
            }
            match plan {
                Err(code) => {
                    any_error = true;
                    pd = pd.with_error_code(code);
                }
                Ok(plan) => {
                    let budget = (fp.partition_max_bytes.max(0) as usize)
                        .min(max_total - used.min(max_total));
                    let data = if fp.fetch_offset >= hwm || (budget == 0 && used > 0) {
                        Vec::new()
                    } else {
                        match plan.execute(budget) {
                            Ok(d) => d,
                            Err(e) => {
                                tracing::error!("read of {}-{} failed: {e}", p.topic, p.index);
                                any_error = true;
                                pd = pd.with_error_code(ec::KAFKA_STORAGE_ERROR);
                                Vec::new()
                            }
                        }
                    };
                    used += data.len();
                    pd = pd.with_records(Some(Bytes::from(data)));
                }
            }
            parts.push(pd);
        }
        topics.push(
            FetchableTopicResponse::default()
                .with_topic(ft.topic.clone())
                .with_topic_id(ft.topic_id)
                .with_partitions(parts),
        );
    }
    (
        FetchResponse::default().with_responses(topics),
        used,
        any_error,
    )
}

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: FetchRequest,
) -> FetchResponse {
    let wait = Duration::from_millis(req.max_wait_ms.max(0) as u64);
    let deadline = tokio::time::Instant::now() + wait;
    let min_bytes = req.min_bytes.max(1) as usize;
    let mut rx = st.data_version.subscribe();
    // A follower's fetch (a replica id) is cluster business; a consumer
    // reads topics.
    let follower = req.replica_id.0 >= 0 || req.replica_state.replica_id.0 >= 0;
    let cluster_ok = !follower || ctx.may_cluster(st, Operation::ClusterAction);
    let denied: Vec<bool> = req
        .topics
        .iter()
        .map(|ft| {
            let name = if ctx.version >= 13 {
                st.topics.by_id(ft.topic_id).map(|t| t.name.clone())
            } else {
                Some(ft.topic.to_string())
            };
            !cluster_ok
                || name.is_some_and(|n| !ctx.may(st, Operation::Read, ResourceType::Topic, &n))
        })
        .collect();
    loop {
        rx.borrow_and_update();
        let (resp, bytes, error) = build(st, ctx, &req, &denied);
        if bytes >= min_bytes || error || tokio::time::Instant::now() >= deadline {
            return resp;
        }
        match tokio::time::timeout_at(deadline, rx.changed()).await {
            Ok(Ok(())) => continue,
            Ok(Err(_)) => return resp,
            Err(_) => return build(st, ctx, &req, &denied).0,
        }
    }
}
