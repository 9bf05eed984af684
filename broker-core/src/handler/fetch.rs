//! Fetch: answer as soon as `min_bytes` are available, otherwise long-poll
//! until data arrives or `max_wait_ms` passes. Whole batches are returned,
//! starting with the one that contains the fetch offset, read from the
//! segment files straight into the response buffer as it is encoded.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{FetchRequest, FetchResponse};

use super::RequestCtx;
use crate::error_code as ec;
use crate::log::FileRange;
use crate::protocol::{encode_response, spliced};
use crate::security::acl::{Operation, ResourceType};
use crate::state::BrokerState;

/// One response from what is in the logs now, with records as stand-ins
/// for the file ranges to read while encoding it.
struct Built {
    resp: FetchResponse,
    ranges: Vec<FileRange>,
    /// Record bytes in the response.
    bytes: usize,
    /// Whether any partition has an error.
    error: bool,
}

fn build(st: &BrokerState, ctx: &RequestCtx, req: &FetchRequest, denied: &[bool]) -> Built {
    let by_id = ctx.version >= 13;
    let max_total = if req.max_bytes > 0 {
        req.max_bytes as usize
    } else {
        usize::MAX
    };
    let mut used = 0usize;
    let mut any_error = false;
    let mut ranges = Vec::new();
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
            let budget =
                (fp.partition_max_bytes.max(0) as usize).min(max_total - used.min(max_total));
            let (plan, hwm, start) = {
                let log = p.log.lock();
                (
                    log.plan_read(fp.fetch_offset, budget),
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
                    let located = if fp.fetch_offset >= hwm || (budget == 0 && used > 0) {
                        Ok(None)
                    } else {
                        plan.locate()
                    };
                    let records = located.and_then(|found| match found {
                        None => Ok(Bytes::new()),
                        Some(range) => match spliced::stand_in(range.len) {
                            Some(b) => {
                                ranges.push(range);
                                Ok(b)
                            }
                            None => range.read().map(Bytes::from),
                        },
                    });
                    match records {
                        Ok(b) => {
                            used += b.len();
                            pd = pd.with_records(Some(b));
                        }
                        Err(e) => {
                            tracing::error!("read of {}-{} failed: {e}", p.topic, p.index);
                            any_error = true;
                            pd = pd
                                .with_error_code(ec::KAFKA_STORAGE_ERROR)
                                .with_records(Some(Bytes::new()));
                        }
                    }
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
    Built {
        resp: FetchResponse::default().with_responses(topics),
        ranges,
        bytes: used,
        error: any_error,
    }
}

/// The encoded response frame. A range that cannot be read at encode time
/// turns its partition into a storage error and the response is encoded
/// again without reading any file.
fn encode(built: Built, cid: i32, version: i16) -> anyhow::Result<Bytes> {
    let Built {
        mut resp, ranges, ..
    } = built;
    let (frame, failed) = spliced::encode(cid, version, &resp, &ranges)?;
    if failed.is_empty() {
        return Ok(frame);
    }
    let mut n = 0;
    for pd in resp
        .responses
        .iter_mut()
        .flat_map(|t| t.partitions.iter_mut())
    {
        if !pd.records.as_deref().is_some_and(spliced::is_stand_in) {
            continue;
        }
        let read = match (failed.iter().find(|(i, _)| *i == n), ranges.get(n)) {
            (None, Some(range)) => range.read().map_err(|e| e.to_string()),
            (Some((_, e)), _) => Err(e.to_string()),
            (None, None) => Err("no file range".to_string()),
        };
        n += 1;
        pd.records = Some(match read {
            Ok(data) => Bytes::from(data),
            Err(e) => {
                tracing::error!("read of partition {} failed: {e}", pd.partition_index);
                pd.error_code = ec::KAFKA_STORAGE_ERROR;
                Bytes::new()
            }
        });
    }
    encode_response(cid, version, &resp)
}

/// Answers a fetch with its encoded response frame.
pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: FetchRequest,
    cid: i32,
) -> anyhow::Result<Bytes> {
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
        let built = build(st, ctx, &req, &denied);
        if built.bytes >= min_bytes || built.error || tokio::time::Instant::now() >= deadline {
            return encode(built, cid, ctx.version);
        }
        match tokio::time::timeout_at(deadline, rx.changed()).await {
            Ok(Ok(())) => continue,
            Ok(Err(_)) => return encode(built, cid, ctx.version),
            Err(_) => return encode(build(st, ctx, &req, &denied), cid, ctx.version),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use bytes::Buf;
    use kafka_protocol::messages::ResponseHeader;
    use kafka_protocol::protocol::{Decodable, HeaderVersion};

    use super::*;

    fn decoded(mut frame: Bytes, version: i16) -> FetchResponse {
        assert_eq!(frame.get_i32() as usize, frame.len());
        ResponseHeader::decode(&mut frame, FetchResponse::header_version(version)).expect("header");
        FetchResponse::decode(&mut frame, version).expect("body")
    }

    #[test]
    fn a_range_that_cannot_be_read_is_a_storage_error_of_its_partition_alone() {
        let mut f = tempfile::tempfile().expect("tempfile");
        f.write_all(b"records of partition 0").expect("write");
        let file = Arc::new(f);
        let ranges = vec![
            FileRange {
                file: file.clone(),
                pos: 0,
                len: 22,
            },
            // Past the end of the file.
            FileRange {
                file,
                pos: 10,
                len: 100,
            },
        ];
        let partition = |i: i32, len: usize| {
            PartitionData::default()
                .with_partition_index(i)
                .with_records(spliced::stand_in(len))
        };
        let built = Built {
            resp: FetchResponse::default().with_responses(vec![FetchableTopicResponse::default()
                .with_partitions(vec![partition(0, 22), partition(1, 100)])]),
            ranges,
            bytes: 122,
            error: false,
        };
        let resp = decoded(encode(built, 7, 12).expect("encode"), 12);
        let parts = &resp.responses[0].partitions;
        assert_eq!(parts[0].error_code, 0);
        assert_eq!(
            parts[0].records.as_deref(),
            Some(&b"records of partition 0"[..])
        );
        assert_eq!(parts[1].error_code, ec::KAFKA_STORAGE_ERROR);
        assert_eq!(parts[1].records.as_deref(), Some(&b""[..]));
    }
}
