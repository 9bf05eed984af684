//! Every advertised (API, version) pair answers a typical request with a
//! response that encodes: a field set that a version lacks would otherwise
//! close the client's connection (the codec refuses to encode it).

use std::collections::BTreeMap;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Encodable, StrBytes};

use super::fuzz_tests::{frame, rt, state};
use super::{dispatch, Conn, Reply};
use crate::protocol::SUPPORTED;

fn st(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

fn topic() -> TopicName {
    TopicName(st("t"))
}

/// A typical request for (api, version) naming topic `t` (id `id`) and group `g`.
pub(super) fn sample(api: ApiKey, v: i16, id: uuid::Uuid) -> Option<BytesMut> {
    let mut b = BytesMut::new();
    let r = match api {
        ApiKey::Produce => ProduceRequest::default()
            .with_acks(-1)
            .with_timeout_ms(1000)
            .with_topic_data(vec![produce_request::TopicProduceData::default()
                .with_name(topic())
                .with_partition_data(vec![
                    produce_request::PartitionProduceData::default().with_records(Some(
                        Bytes::from(crate::log::batch::tests::make_batch(&[Some("k")], 5)),
                    )),
                ])])
            .encode(&mut b, v),
        ApiKey::Fetch => {
            let mut t = fetch_request::FetchTopic::default().with_partitions(vec![
                fetch_request::FetchPartition::default().with_partition_max_bytes(1 << 20),
            ]);
            t = if v >= 13 {
                t.with_topic_id(id)
            } else {
                t.with_topic(topic())
            };
            FetchRequest::default()
                .with_max_wait_ms(0)
                .with_max_bytes(1 << 20)
                .with_isolation_level(1)
                .with_topics(vec![t])
                .encode(&mut b, v)
        }
        ApiKey::ListOffsets => ListOffsetsRequest::default()
            .with_topics(vec![list_offsets_request::ListOffsetsTopic::default()
                .with_name(topic())
                .with_partitions(
                    [-1i64, -2, 0]
                        .iter()
                        .chain(if v >= 7 { &[-3i64][..] } else { &[] })
                        .map(|ts| {
                            list_offsets_request::ListOffsetsPartition::default()
                                .with_timestamp(*ts)
                        })
                        .collect(),
                )])
            .encode(&mut b, v),
        ApiKey::Metadata => MetadataRequest::default()
            .with_topics(Some(vec![metadata_request::MetadataRequestTopic::default(
            )
            .with_name(Some(topic()))]))
            .encode(&mut b, v),
        ApiKey::OffsetCommit => OffsetCommitRequest::default()
            .with_group_id(GroupId(st("g")))
            .with_generation_id_or_member_epoch(-1)
            .with_topics(vec![
                offset_commit_request::OffsetCommitRequestTopic::default()
                    .with_name(topic())
                    .with_partitions(vec![
                        offset_commit_request::OffsetCommitRequestPartition::default()
                            .with_committed_offset(1)
                            .with_committed_metadata(Some(st("m"))),
                    ]),
            ])
            .encode(&mut b, v),
        ApiKey::OffsetFetch if v >= 8 => OffsetFetchRequest::default()
            .with_groups(vec![
                offset_fetch_request::OffsetFetchRequestGroup::default()
                    .with_group_id(GroupId(st("g")))
                    .with_topics(Some(vec![
                        offset_fetch_request::OffsetFetchRequestTopics::default()
                            .with_name(topic())
                            .with_partition_indexes(vec![0, 1]),
                    ])),
            ])
            .encode(&mut b, v),
        ApiKey::OffsetFetch => OffsetFetchRequest::default()
            .with_group_id(GroupId(st("g")))
            .with_topics(Some(vec![
                offset_fetch_request::OffsetFetchRequestTopic::default()
                    .with_name(topic())
                    .with_partition_indexes(vec![0, 1]),
            ]))
            .encode(&mut b, v),
        ApiKey::FindCoordinator if v >= 4 => FindCoordinatorRequest::default()
            .with_coordinator_keys(vec![st("g")])
            .encode(&mut b, v),
        ApiKey::FindCoordinator => FindCoordinatorRequest::default()
            .with_key(st("g"))
            .encode(&mut b, v),
        ApiKey::JoinGroup => JoinGroupRequest::default()
            .with_group_id(GroupId(st(&format!("j-{v}"))))
            .with_session_timeout_ms(10_000)
            .with_rebalance_timeout_ms(10_000)
            .with_protocol_type(st("consumer"))
            .with_protocols(vec![join_group_request::JoinGroupRequestProtocol::default(
            )
            .with_name(st("range"))])
            .encode(&mut b, v),
        ApiKey::Heartbeat => HeartbeatRequest::default()
            .with_group_id(GroupId(st("g")))
            .encode(&mut b, v),
        ApiKey::LeaveGroup if v >= 3 => LeaveGroupRequest::default()
            .with_group_id(GroupId(st("g")))
            .with_members(vec![
                leave_group_request::MemberIdentity::default().with_member_id(st("m"))
            ])
            .encode(&mut b, v),
        ApiKey::LeaveGroup => LeaveGroupRequest::default()
            .with_group_id(GroupId(st("g")))
            .with_member_id(st("m"))
            .encode(&mut b, v),
        ApiKey::SyncGroup => SyncGroupRequest::default()
            .with_group_id(GroupId(st("g")))
            .encode(&mut b, v),
        ApiKey::DescribeGroups => DescribeGroupsRequest::default()
            .with_groups(vec![GroupId(st("g")), GroupId(st("none"))])
            .encode(&mut b, v),
        ApiKey::ListGroups => ListGroupsRequest::default().encode(&mut b, v),
        ApiKey::CreateTopics => CreateTopicsRequest::default()
            .with_topics(vec![create_topics_request::CreatableTopic::default()
                .with_name(TopicName(st(&format!("new-{v}"))))
                .with_num_partitions(1)
                .with_replication_factor(1)
                .with_configs(vec![
                    create_topics_request::CreatableTopicConfig::default()
                        .with_name(st("retention.ms"))
                        .with_value(Some(st("1000"))),
                ])])
            .encode(&mut b, v),
        ApiKey::DeleteTopics if v >= 6 => DeleteTopicsRequest::default()
            .with_topics(vec![delete_topics_request::DeleteTopicState::default()
                .with_name(Some(TopicName(st("missing"))))])
            .encode(&mut b, v),
        ApiKey::DeleteTopics => DeleteTopicsRequest::default()
            .with_topic_names(vec![TopicName(st("missing"))])
            .encode(&mut b, v),
        ApiKey::DeleteRecords => DeleteRecordsRequest::default()
            .with_topics(vec![delete_records_request::DeleteRecordsTopic::default()
                .with_name(topic())
                .with_partitions(vec![
                    delete_records_request::DeleteRecordsPartition::default()
                        .with_partition_index(1)
                        .with_offset(0),
                ])])
            .encode(&mut b, v),
        ApiKey::InitProducerId => InitProducerIdRequest::default()
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1)
            .encode(&mut b, v),
        ApiKey::DescribeConfigs => DescribeConfigsRequest::default()
            .with_include_synonyms(v >= 1)
            .with_resources(vec![
                describe_configs_request::DescribeConfigsResource::default()
                    .with_resource_type(2)
                    .with_resource_name(st("t")),
                describe_configs_request::DescribeConfigsResource::default()
                    .with_resource_type(4)
                    .with_resource_name(st("0")),
            ])
            .encode(&mut b, v),
        ApiKey::AlterConfigs => AlterConfigsRequest::default()
            .with_resources(vec![alter_configs_request::AlterConfigsResource::default()
                .with_resource_type(2)
                .with_resource_name(st("t"))
                .with_configs(vec![alter_configs_request::AlterableConfig::default()
                    .with_name(st("retention.ms"))
                    .with_value(Some(st("5000")))])])
            .encode(&mut b, v),
        ApiKey::IncrementalAlterConfigs => IncrementalAlterConfigsRequest::default()
            .with_resources(vec![
                incremental_alter_configs_request::AlterConfigsResource::default()
                    .with_resource_type(2)
                    .with_resource_name(st("t"))
                    .with_configs(vec![
                        incremental_alter_configs_request::AlterableConfig::default()
                            .with_name(st("cleanup.policy"))
                            .with_config_operation(2)
                            .with_value(Some(st("compact"))),
                    ]),
            ])
            .encode(&mut b, v),
        ApiKey::DescribeLogDirs => DescribeLogDirsRequest::default()
            .with_topics(None)
            .encode(&mut b, v),
        ApiKey::CreatePartitions => CreatePartitionsRequest::default()
            .with_topics(vec![
                create_partitions_request::CreatePartitionsTopic::default()
                    .with_name(topic())
                    .with_count(1),
            ])
            .encode(&mut b, v),
        ApiKey::DeleteGroups => DeleteGroupsRequest::default()
            .with_groups_names(vec![GroupId(st("none"))])
            .encode(&mut b, v),
        ApiKey::OffsetDelete => OffsetDeleteRequest::default()
            .with_group_id(GroupId(st("g")))
            .with_topics(vec![
                offset_delete_request::OffsetDeleteRequestTopic::default()
                    .with_name(topic())
                    .with_partitions(vec![
                        offset_delete_request::OffsetDeleteRequestPartition::default(),
                    ]),
            ])
            .encode(&mut b, v),
        ApiKey::DescribeCluster => DescribeClusterRequest::default().encode(&mut b, v),
        ApiKey::SaslHandshake => SaslHandshakeRequest::default()
            .with_mechanism(st("PLAIN"))
            .encode(&mut b, v),
        ApiKey::SaslAuthenticate => SaslAuthenticateRequest::default().encode(&mut b, v),
        ApiKey::DescribeUserScramCredentials => DescribeUserScramCredentialsRequest::default()
            .with_users(None)
            .encode(&mut b, v),
        ApiKey::AlterUserScramCredentials => AlterUserScramCredentialsRequest::default()
            .with_upsertions(vec![
                alter_user_scram_credentials_request::ScramCredentialUpsertion::default()
                    .with_name(st("alice"))
                    .with_mechanism(1)
                    .with_iterations(4096)
                    .with_salt(Bytes::from_static(b"salt"))
                    .with_salted_password(Bytes::from_static(b"salted")),
            ])
            .encode(&mut b, v),
        ApiKey::CreateAcls => CreateAclsRequest::default()
            .with_creations(vec![create_acls_request::AclCreation::default()
                .with_resource_type(2)
                .with_resource_name(st("t"))
                .with_resource_pattern_type(3)
                .with_principal(st("User:alice"))
                .with_host(st("*"))
                .with_operation(3)
                .with_permission_type(3)])
            .encode(&mut b, v),
        ApiKey::DescribeAcls => DescribeAclsRequest::default()
            .with_resource_type_filter(1)
            .with_pattern_type_filter(1)
            .with_operation(1)
            .with_permission_type(1)
            .encode(&mut b, v),
        ApiKey::DeleteAcls => DeleteAclsRequest::default()
            .with_filters(vec![delete_acls_request::DeleteAclsFilter::default()
                .with_resource_type_filter(1)
                .with_pattern_type_filter(1)
                .with_operation(1)
                .with_permission_type(1)])
            .encode(&mut b, v),
        ApiKey::DescribeTopicPartitions => DescribeTopicPartitionsRequest::default()
            .with_topics(vec![
                describe_topic_partitions_request::TopicRequest::default().with_name(topic()),
            ])
            .with_response_partition_limit(1)
            .encode(&mut b, v),
        ApiKey::DescribeQuorum => DescribeQuorumRequest::default()
            .with_topics(vec![describe_quorum_request::TopicData::default()
                .with_topic_name(TopicName(st("__cluster_metadata")))
                .with_partitions(vec![
                    describe_quorum_request::PartitionData::default(),
                ])])
            .encode(&mut b, v),
        ApiKey::ElectLeaders => ElectLeadersRequest::default()
            .with_topic_partitions(Some(vec![elect_leaders_request::TopicPartitions::default(
            )
            .with_topic(topic())
            .with_partitions(vec![0])]))
            .encode(&mut b, v),
        ApiKey::AlterPartitionReassignments => AlterPartitionReassignmentsRequest::default()
            .with_topics(vec![
                alter_partition_reassignments_request::ReassignableTopic::default()
                    .with_name(topic())
                    .with_partitions(vec![
                        alter_partition_reassignments_request::ReassignablePartition::default()
                            .with_replicas(Some(vec![BrokerId(1)])),
                    ]),
            ])
            .encode(&mut b, v),
        ApiKey::ListPartitionReassignments => ListPartitionReassignmentsRequest::default()
            .with_topics(None)
            .encode(&mut b, v),
        ApiKey::AlterReplicaLogDirs => AlterReplicaLogDirsRequest::default()
            .with_dirs(vec![
                alter_replica_log_dirs_request::AlterReplicaLogDir::default()
                    .with_path(st("/nowhere"))
                    .with_topics(vec![
                        alter_replica_log_dirs_request::AlterReplicaLogDirTopic::default()
                            .with_name(topic())
                            .with_partitions(vec![0]),
                    ]),
            ])
            .encode(&mut b, v),
        _ => return None,
    };
    if let Err(e) = r {
        panic!("test request {api:?} v{v} does not encode: {e}");
    }
    Some(b)
}

#[test]
fn every_advertised_version_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = state(dir.path());
    let t = state
        .topics
        .create("t", 2, BTreeMap::new(), false)
        .expect("topic");
    t.partition(0)
        .expect("partition")
        .log
        .lock()
        .append(
            &crate::log::batch::tests::make_batch(&[Some("a"), Some("b")], 3),
            0,
        )
        .expect("append");
    let rt = rt();
    let mut checked = 0;
    for (api, lo, hi) in SUPPORTED {
        for v in *lo..=*hi {
            let Some(body) = sample(*api, v, t.id) else {
                continue;
            };
            let reply = rt.block_on(dispatch(
                &state,
                &Conn::anonymous("/127.0.0.1"),
                frame(*api as i16, v, &body),
            ));
            let bytes = match reply {
                Ok(Reply::Now(b)) => b,
                Ok(Reply::Later(f)) => rt
                    .block_on(f)
                    .unwrap_or_else(|e| panic!("{api:?} v{v}: {e}")),
                Ok(Reply::Nothing) => panic!("{api:?} v{v}: no response"),
                Err(e) => panic!("{api:?} v{v}: {e}"),
            };
            // Size prefix, then the echoed correlation id.
            assert_eq!(&bytes[4..8], &7i32.to_be_bytes(), "{api:?} v{v}");
            checked += 1;
        }
    }
    let advertised: i16 = SUPPORTED
        .iter()
        .filter(|(api, _, _)| *api != ApiKey::ApiVersions)
        .map(|(_, lo, hi)| hi - lo + 1)
        .sum();
    assert_eq!(
        checked, advertised as usize,
        "every advertised pair was exercised"
    );
}
