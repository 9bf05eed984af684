//! Offsets and groups over the protocol client: log offsets by spec, committed
//! group offsets, commits outside a generation, group descriptions, record
//! deletion, and the consumer protocol's assignment encoding.

use std::collections::{BTreeMap, HashMap};

use bytes::{Buf, Bytes};
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::describe_groups_response::DescribedGroup;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::{
    BrokerId, DeleteGroupsRequest, DeleteRecordsRequest, DescribeGroupsRequest, LeaveGroupRequest,
    ListOffsetsRequest, OffsetCommitRequest, OffsetFetchRequest,
};
use kafka_protocol::protocol::StrBytes;

use super::admin::{check, describe, group_id, topic_name, Cluster};
use super::Connection;

/// A topic partition, ordered by topic then partition.
pub type Tp = (String, i32);

/// ListOffsets timestamps with a special meaning.
pub const LATEST: i64 = -1;
pub const EARLIEST: i64 = -2;

/// Groups partitions by the broker that leads them.
async fn by_leader(
    cluster: &mut Cluster,
    partitions: &[Tp],
) -> anyhow::Result<BTreeMap<i32, Vec<Tp>>> {
    let mut topics: Vec<String> = partitions.iter().map(|(t, _)| t.clone()).collect();
    topics.sort();
    topics.dedup();
    let md = cluster.metadata(Some(&topics)).await?;
    let mut leaders: HashMap<Tp, i32> = HashMap::new();
    for t in &md.topics {
        let name = t.name.as_ref().map(|n| n.to_string()).unwrap_or_default();
        check(t.error_code, None).map_err(|e| anyhow::anyhow!("topic {name}: {e}"))?;
        for p in &t.partitions {
            leaders.insert((name.clone(), p.partition_index), p.leader_id.0);
        }
    }
    let mut out: BTreeMap<i32, Vec<Tp>> = BTreeMap::new();
    for tp in partitions {
        let leader = leaders
            .get(tp)
            .copied()
            .ok_or_else(|| anyhow::anyhow!("partition {}-{} does not exist", tp.0, tp.1))?;
        out.entry(leader).or_default().push(tp.clone());
    }
    Ok(out)
}

fn grouped(tps: &[Tp]) -> BTreeMap<&str, Vec<i32>> {
    let mut m: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for (t, p) in tps {
        m.entry(t.as_str()).or_default().push(*p);
    }
    m
}

/// The offset for `timestamp` ([`LATEST`], [`EARLIEST`] or a time in ms) of
/// each partition; a time after the last record gives the log end offset.
pub async fn list_offsets(
    cluster: &mut Cluster,
    partitions: &[Tp],
    timestamp: i64,
) -> anyhow::Result<BTreeMap<Tp, i64>> {
    let mut out = BTreeMap::new();
    let mut unresolved = Vec::new();
    for (leader, tps) in by_leader(cluster, partitions).await? {
        let topics = grouped(&tps)
            .into_iter()
            .map(|(t, ps)| {
                ListOffsetsTopic::default()
                    .with_name(topic_name(t))
                    .with_partitions(
                        ps.into_iter()
                            .map(|p| {
                                ListOffsetsPartition::default()
                                    .with_partition_index(p)
                                    .with_timestamp(timestamp)
                            })
                            .collect(),
                    )
            })
            .collect();
        let request = ListOffsetsRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_topics(topics);
        let response = cluster.node(leader).await?.send(&request, 7).await?;
        for t in response.topics {
            for p in t.partitions {
                let tp = (t.name.to_string(), p.partition_index);
                check(p.error_code, None)
                    .map_err(|e| anyhow::anyhow!("partition {}-{}: {e}", tp.0, tp.1))?;
                if p.offset < 0 {
                    unresolved.push(tp);
                } else {
                    out.insert(tp, p.offset);
                }
            }
        }
    }
    if !unresolved.is_empty() && timestamp >= 0 {
        out.extend(Box::pin(list_offsets(cluster, &unresolved, LATEST)).await?);
    }
    Ok(out)
}

/// Every committed offset of `group`.
pub async fn committed(conn: &mut Connection, group: &str) -> anyhow::Result<BTreeMap<Tp, i64>> {
    let request = OffsetFetchRequest::default()
        .with_group_id(group_id(group))
        .with_topics(None);
    let response = conn.send(&request, 7).await?;
    check(response.error_code, None)?;
    let mut out = BTreeMap::new();
    for t in response.topics {
        for p in t.partitions {
            if p.error_code == 0 && p.committed_offset >= 0 {
                out.insert((t.name.to_string(), p.partition_index), p.committed_offset);
            }
        }
    }
    Ok(out)
}

/// Commits `offsets` for an inactive group (no generation, no member).
pub async fn commit(
    conn: &mut Connection,
    group: &str,
    offsets: &BTreeMap<Tp, i64>,
) -> anyhow::Result<()> {
    let mut topics: BTreeMap<&str, Vec<OffsetCommitRequestPartition>> = BTreeMap::new();
    for ((t, p), o) in offsets {
        topics.entry(t).or_default().push(
            OffsetCommitRequestPartition::default()
                .with_partition_index(*p)
                .with_committed_offset(*o)
                .with_committed_metadata(Some(StrBytes::from_static_str(""))),
        );
    }
    let request = OffsetCommitRequest::default()
        .with_group_id(group_id(group))
        .with_generation_id_or_member_epoch(-1)
        .with_member_id(StrBytes::from_static_str(""))
        .with_topics(
            topics
                .into_iter()
                .map(|(t, ps)| {
                    OffsetCommitRequestTopic::default()
                        .with_name(topic_name(t))
                        .with_partitions(ps)
                })
                .collect(),
        );
    let response = conn.send(&request, 8).await?;
    for t in response.topics {
        for p in t.partitions {
            check(p.error_code, None).map_err(|e| {
                anyhow::anyhow!("partition {}-{}: {e}", t.name.as_str(), p.partition_index)
            })?;
        }
    }
    Ok(())
}

/// DescribeGroups for one group.
pub async fn describe_group(conn: &mut Connection, group: &str) -> anyhow::Result<DescribedGroup> {
    let request = DescribeGroupsRequest::default().with_groups(vec![group_id(group)]);
    let response = conn.send(&request, 5).await?;
    let g = response
        .groups
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("the coordinator did not describe group {group}"))?;
    check(g.error_code, g.error_message.as_ref())?;
    Ok(g)
}

/// Removes a static member (`group.instance.id`) from `group`, as a
/// consumer that closes does not do for itself.
pub async fn leave_static(
    conn: &mut Connection,
    group: &str,
    instance: &str,
) -> anyhow::Result<()> {
    let request = LeaveGroupRequest::default()
        .with_group_id(group_id(group))
        .with_members(vec![MemberIdentity::default()
            .with_member_id(StrBytes::from_static_str(""))
            .with_group_instance_id(Some(StrBytes::from_string(
                instance.to_string(),
            )))]);
    if conn.version_for::<LeaveGroupRequest>(4)? < 3 {
        anyhow::bail!("the broker cannot remove static members (LeaveGroup v3)");
    }
    let response = conn.send(&request, 4).await?;
    check(response.error_code, None)?;
    Ok(())
}

/// Deletes an empty group and its committed offsets.
pub async fn delete_group(conn: &mut Connection, group: &str) -> anyhow::Result<()> {
    let request = DeleteGroupsRequest::default().with_groups_names(vec![group_id(group)]);
    let response = conn.send(&request, 2).await?;
    for r in response.results {
        // A group that never committed anything has nothing to reset.
        if r.error_code != 69 {
            check(r.error_code, None)?;
        }
    }
    Ok(())
}

/// Deletes records before `offset` (-1: the high watermark) per partition;
/// returns the new low watermark or the error of each partition.
pub async fn delete_records(
    cluster: &mut Cluster,
    offsets: &[(Tp, i64)],
) -> anyhow::Result<BTreeMap<Tp, Result<i64, String>>> {
    let wanted: HashMap<Tp, i64> = offsets.iter().cloned().collect();
    let tps: Vec<Tp> = offsets.iter().map(|(tp, _)| tp.clone()).collect();
    let mut out = BTreeMap::new();
    for (leader, tps) in by_leader(cluster, &tps).await? {
        let topics = grouped(&tps)
            .into_iter()
            .map(|(t, ps)| {
                DeleteRecordsTopic::default()
                    .with_name(topic_name(t))
                    .with_partitions(
                        ps.into_iter()
                            .map(|p| {
                                DeleteRecordsPartition::default()
                                    .with_partition_index(p)
                                    .with_offset(
                                        wanted.get(&(t.to_string(), p)).copied().unwrap_or(-1),
                                    )
                            })
                            .collect(),
                    )
            })
            .collect();
        let request = DeleteRecordsRequest::default()
            .with_topics(topics)
            .with_timeout_ms(30_000);
        let response = cluster.node(leader).await?.send(&request, 2).await?;
        for t in response.topics {
            for p in t.partitions {
                let r = if p.error_code == 0 {
                    Ok(p.low_watermark)
                } else {
                    Err(describe(p.error_code, None))
                };
                out.insert((t.name.to_string(), p.partition_index), r);
            }
        }
    }
    Ok(out)
}

/// The partitions in a consumer-protocol assignment (`ConsumerProtocolAssignment`).
pub fn decode_assignment(bytes: &Bytes) -> Vec<Tp> {
    fn read(b: &mut Bytes) -> Option<Vec<Tp>> {
        let mut out = Vec::new();
        if b.remaining() < 6 {
            return Some(out);
        }
        let _version = b.get_i16();
        let topics = b.get_i32();
        for _ in 0..topics.max(0) {
            if b.remaining() < 2 {
                return None;
            }
            let len = usize::try_from(b.get_i16()).ok()?;
            if b.remaining() < len + 4 {
                return None;
            }
            let name = String::from_utf8_lossy(&b.split_to(len)).into_owned();
            let n = b.get_i32();
            for _ in 0..n.max(0) {
                if b.remaining() < 4 {
                    return None;
                }
                out.push((name.clone(), b.get_i32()));
            }
        }
        Some(out)
    }
    read(&mut bytes.clone()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BufMut;

    #[test]
    fn assignment_round_trip_of_a_kafka_consumer_encoding() {
        let mut b = bytes::BytesMut::new();
        b.put_i16(1);
        b.put_i32(2);
        for (t, ps) in [("a", vec![0, 2]), ("bb", vec![1])] {
            b.put_i16(t.len() as i16);
            b.put_slice(t.as_bytes());
            b.put_i32(ps.len() as i32);
            for p in ps {
                b.put_i32(p);
            }
        }
        b.put_i32(-1);
        let got = decode_assignment(&b.freeze());
        assert_eq!(
            got,
            vec![("a".into(), 0), ("a".into(), 2), ("bb".into(), 1)]
        );
        assert!(decode_assignment(&Bytes::from_static(&[0, 1, 0, 0, 0, 9, 0])).is_empty());
    }
}
