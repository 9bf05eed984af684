//! The admin APIs a single node answers as Kafka's single node would:
//! DescribeTopicPartitions' pages, ElectLeaders, reassignments, log dirs
//! and the quorum.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::BytesMut;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

use super::acl_tests::{ask_with, reply};
use super::fuzz_tests::{rt, state};
use crate::state::BrokerState;

fn name(v: &str) -> TopicName {
    TopicName(StrBytes::from_string(v.to_string()))
}

fn setup() -> (tempfile::TempDir, Arc<BrokerState>, tokio::runtime::Runtime) {
    let dir = tempfile::tempdir().expect("tempdir");
    let st = state(dir.path());
    for (t, n) in [("a", 3), ("b", 2), ("c", 1)] {
        st.topics
            .create(t, n, BTreeMap::new(), false)
            .expect("topic");
    }
    (dir, st, rt())
}

fn body(r: &impl Encodable, v: i16) -> BytesMut {
    let mut b = BytesMut::new();
    r.encode(&mut b, v).expect("encode");
    b
}

fn ask(
    st: &Arc<BrokerState>,
    rt: &tokio::runtime::Runtime,
    api: ApiKey,
    v: i16,
    r: &impl Encodable,
) -> String {
    ask_with(st, rt, "User:ANONYMOUS", api, v, &body(r, v))
}

#[test]
fn describe_topic_partitions_pages_through_every_partition_in_name_order() {
    let (_d, st, rt) = setup();
    let mut cursor: Option<describe_topic_partitions_request::Cursor> = None;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let req = DescribeTopicPartitionsRequest::default()
            .with_response_partition_limit(2)
            .with_cursor(cursor.clone());
        let bytes = reply(
            &st,
            &rt,
            "User:ANONYMOUS",
            ApiKey::DescribeTopicPartitions,
            0,
            &body(&req, 0),
        );
        let mut b = bytes.slice(4..);
        ResponseHeader::decode(&mut b, 1).expect("header");
        let resp = DescribeTopicPartitionsResponse::decode(&mut b, 0).expect("response");
        for t in &resp.topics {
            let n = t.name.as_ref().map(|n| n.to_string()).unwrap_or_default();
            assert!(t.partitions.len() <= 2);
            seen.extend(
                t.partitions
                    .iter()
                    .map(|p| format!("{n}-{}", p.partition_index)),
            );
        }
        pages += 1;
        assert!(pages < 10, "the pages never end: {seen:?}");
        match resp.next_cursor {
            None => break,
            Some(c) => {
                cursor = Some(
                    describe_topic_partitions_request::Cursor::default()
                        .with_topic_name(c.topic_name)
                        .with_partition_index(c.partition_index),
                )
            }
        }
    }
    let topics: Vec<&str> = seen
        .iter()
        .map(String::as_str)
        .filter(|s| !s.starts_with("__"))
        .collect();
    assert_eq!(topics, ["a-0", "a-1", "a-2", "b-0", "b-1", "c-0"]);
    assert!(pages >= 3, "2 partitions a page: {pages} pages");
}

#[test]
fn elections_reassignments_and_log_dirs_have_nothing_to_do_here() {
    let (_d, st, rt) = setup();
    let elect = ElectLeadersRequest::default().with_topic_partitions(Some(vec![
        elect_leaders_request::TopicPartitions::default()
            .with_topic(name("a"))
            .with_partitions(vec![0, 9]),
    ]));
    let text = ask(&st, &rt, ApiKey::ElectLeaders, 2, &elect);
    assert!(text.contains("partition_id: 0, error_code: 84"), "{text}");
    assert!(text.contains("No such partition as a-9"), "{text}");
    let all = ElectLeadersRequest::default().with_topic_partitions(None);
    let text = ask(&st, &rt, ApiKey::ElectLeaders, 2, &all);
    assert!(text.contains("replica_election_results: []"), "{text}");

    let move_to = |b: i32| {
        AlterPartitionReassignmentsRequest::default().with_topics(vec![
            alter_partition_reassignments_request::ReassignableTopic::default()
                .with_name(name("a"))
                .with_partitions(vec![
                    alter_partition_reassignments_request::ReassignablePartition::default()
                        .with_replicas(Some(vec![BrokerId(b)])),
                ]),
        ])
    };
    let text = ask(
        &st,
        &rt,
        ApiKey::AlterPartitionReassignments,
        0,
        &move_to(st.node_id()),
    );
    assert!(text.contains("partition_index: 0, error_code: 0"), "{text}");
    let text = ask(
        &st,
        &rt,
        ApiKey::AlterPartitionReassignments,
        0,
        &move_to(7),
    );
    assert!(
        text.contains("error_code: 39")
            && text.contains("includes broker 7, but no such broker is registered"),
        "{text}"
    );
    let list = ListPartitionReassignmentsRequest::default().with_topics(None);
    let text = ask(&st, &rt, ApiKey::ListPartitionReassignments, 0, &list);
    assert!(
        text.contains("error_code: 0") && text.contains("topics: []"),
        "{text}"
    );

    let dirs = |path: &str| {
        AlterReplicaLogDirsRequest::default().with_dirs(vec![
            alter_replica_log_dirs_request::AlterReplicaLogDir::default()
                .with_path(StrBytes::from_string(path.to_string()))
                .with_topics(vec![
                    alter_replica_log_dirs_request::AlterReplicaLogDirTopic::default()
                        .with_name(name("a"))
                        .with_partitions(vec![0]),
                ]),
        ])
    };
    let here = st.topics.log_dir().display().to_string();
    let text = ask(&st, &rt, ApiKey::AlterReplicaLogDirs, 2, &dirs(&here));
    assert!(text.contains("partition_index: 0, error_code: 0"), "{text}");
    let text = ask(
        &st,
        &rt,
        ApiKey::AlterReplicaLogDirs,
        2,
        &dirs("/elsewhere"),
    );
    assert!(text.contains("error_code: 57"), "{text}");

    let quorum = DescribeQuorumRequest::default().with_topics(vec![
        describe_quorum_request::TopicData::default()
            .with_topic_name(name("__cluster_metadata"))
            .with_partitions(vec![describe_quorum_request::PartitionData::default()]),
    ]);
    let text = ask(&st, &rt, ApiKey::DescribeQuorum, 2, &quorum);
    let me = format!("leader_id: {}, leader_epoch: 1", st.node_id());
    assert!(
        text.contains(&me) && text.contains("current_voters: [ReplicaState"),
        "{text}"
    );
}
