//! With ACLs on, every API the broker advertises refuses a principal that
//! has none (an authorization error code in its answer, nothing changed),
//! and lets a super user through; the few APIs Kafka does not guard are
//! named here, so a new API cannot slip in unchecked.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable};

use super::fuzz_tests::{frame, rt};
use super::version_tests::sample;
use super::{dispatch, Conn, Reply};
use crate::config::{BrokerConfig, Endpoint};
use crate::protocol::SUPPORTED;
use crate::security::acl::AuthorizerConfig;
use crate::server::open_state;
use crate::state::BrokerState;

/// APIs Kafka answers without an ACL check: before authentication, the
/// cluster's description (whose authorized operations are checked on
/// their own), and ListGroups (which lists only what may be seen).
const UNGUARDED: &[ApiKey] = &[
    ApiKey::ApiVersions,
    ApiKey::SaslHandshake,
    ApiKey::SaslAuthenticate,
    ApiKey::DescribeCluster,
    ApiKey::ListGroups,
];

fn acl_state(dir: &std::path::Path) -> Arc<BrokerState> {
    let mut cfg = BrokerConfig::ephemeral(dir);
    cfg.authorizer = AuthorizerConfig {
        enabled: true,
        super_users: vec!["User:admin".into()],
        allow_if_no_acl: false,
    };
    open_state(cfg, vec![Endpoint::plaintext("127.0.0.1", 9092)], false).expect("state")
}

/// The answer's fields as text, decoded with the API's response type.
pub(super) fn answer_text(api: ApiKey, version: i16, reply: Bytes) -> String {
    let mut b = reply.slice(4..);
    let _ = ResponseHeader::decode(&mut b, api.response_header_version(version));
    macro_rules! text {
        ($($key:ident => $resp:ty),* $(,)?) => {
            match api {
                $(ApiKey::$key => <$resp>::decode(&mut b, version).map(|r| format!("{r:?}")),)*
                other => panic!("{other:?}: no decoder in this test"),
            }
        };
    }
    text!(
        Produce => ProduceResponse,
        Fetch => FetchResponse,
        ListOffsets => ListOffsetsResponse,
        Metadata => MetadataResponse,
        OffsetCommit => OffsetCommitResponse,
        OffsetFetch => OffsetFetchResponse,
        FindCoordinator => FindCoordinatorResponse,
        JoinGroup => JoinGroupResponse,
        Heartbeat => HeartbeatResponse,
        LeaveGroup => LeaveGroupResponse,
        SyncGroup => SyncGroupResponse,
        DescribeGroups => DescribeGroupsResponse,
        CreateTopics => CreateTopicsResponse,
        DeleteTopics => DeleteTopicsResponse,
        DeleteRecords => DeleteRecordsResponse,
        InitProducerId => InitProducerIdResponse,
        DescribeConfigs => DescribeConfigsResponse,
        AlterConfigs => AlterConfigsResponse,
        DescribeLogDirs => DescribeLogDirsResponse,
        CreatePartitions => CreatePartitionsResponse,
        DeleteGroups => DeleteGroupsResponse,
        IncrementalAlterConfigs => IncrementalAlterConfigsResponse,
        OffsetDelete => OffsetDeleteResponse,
        DescribeAcls => DescribeAclsResponse,
        DescribeCluster => DescribeClusterResponse,
        DescribeTopicPartitions => DescribeTopicPartitionsResponse,
        DescribeQuorum => DescribeQuorumResponse,
        ElectLeaders => ElectLeadersResponse,
        AlterPartitionReassignments => AlterPartitionReassignmentsResponse,
        ListPartitionReassignments => ListPartitionReassignmentsResponse,
        AlterReplicaLogDirs => AlterReplicaLogDirsResponse,
        CreateAcls => CreateAclsResponse,
        DeleteAcls => DeleteAclsResponse,
        DescribeUserScramCredentials => DescribeUserScramCredentialsResponse,
        AlterUserScramCredentials => AlterUserScramCredentialsResponse,
    )
    .unwrap_or_else(|e| panic!("{api:?} v{version}: the answer does not decode: {e}"))
}

fn refused(text: &str) -> bool {
    // TOPIC_, GROUP_, CLUSTER_ and TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
    [
        "error_code: 29,",
        "error_code: 30,",
        "error_code: 31,",
        "error_code: 53,",
    ]
    .iter()
    .any(|c| text.contains(c))
}

fn ask(
    st: &Arc<BrokerState>,
    rt: &tokio::runtime::Runtime,
    who: &str,
    api: ApiKey,
    v: i16,
) -> String {
    let id = st.topics.get("t").map(|t| t.id).unwrap_or_default();
    let body = sample(api, v, id).unwrap_or_else(|| panic!("{api:?} v{v}: no sample request"));
    ask_with(st, rt, who, api, v, &body)
}

pub(super) fn ask_with(
    st: &Arc<BrokerState>,
    rt: &tokio::runtime::Runtime,
    who: &str,
    api: ApiKey,
    v: i16,
    body: &[u8],
) -> String {
    answer_text(api, v, reply(st, rt, who, api, v, body))
}

/// The encoded answer (size, header, body) to one request.
pub(super) fn reply(
    st: &Arc<BrokerState>,
    rt: &tokio::runtime::Runtime,
    who: &str,
    api: ApiKey,
    v: i16,
    body: &[u8],
) -> Bytes {
    let conn = Conn {
        host: "/10.0.0.9".into(),
        listener: 0,
        principal: who.into(),
    };
    rt.block_on(async {
        match dispatch(st, &conn, frame(api as i16, v, body)).await {
            Ok(Reply::Now(b)) => b,
            Ok(Reply::Later(f)) => tokio::time::timeout(std::time::Duration::from_secs(5), f)
                .await
                .unwrap_or_else(|_| panic!("{api:?} v{v}: no answer"))
                .unwrap_or_else(|e| panic!("{api:?} v{v}: {e}")),
            Ok(Reply::Nothing) => panic!("{api:?} v{v}: no answer"),
            Err(e) => panic!("{api:?} v{v}: {e}"),
        }
    })
}

#[test]
fn every_guarded_api_refuses_a_principal_without_acls_and_serves_a_super_user() {
    let dir = tempfile::tempdir().expect("tempdir");
    let st = acl_state(dir.path());
    st.topics
        .create("t", 2, BTreeMap::new(), false)
        .expect("topic");
    let rt = rt();
    let mut checked = 0;
    for (api, _, hi) in SUPPORTED {
        if UNGUARDED.contains(api) {
            continue;
        }
        let text = ask(&st, &rt, "User:mallory", *api, *hi);
        assert!(
            refused(&text),
            "{api:?} v{hi} let User:mallory through: {text}"
        );
        checked += 1;
    }
    let names: Vec<String> = st.topics.all().iter().map(|t| t.name.clone()).collect();
    assert!(
        names.contains(&"t".to_string()) && !names.iter().any(|n| n.starts_with("new-")),
        "a refused principal changed the topics: {names:?}"
    );
    for (api, _, hi) in SUPPORTED {
        // Deleting and then re-reading topic t would leave nothing to test.
        if UNGUARDED.contains(api) || *api == ApiKey::DeleteTopics {
            continue;
        }
        let text = ask(&st, &rt, "User:admin", *api, *hi);
        assert!(
            !refused(&text),
            "{api:?} v{hi} refused a super user: {text}"
        );
    }
    assert!(checked >= 25, "only {checked} APIs were checked");
}

#[test]
fn listings_leave_out_what_may_not_be_seen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let st = acl_state(dir.path());
    st.topics
        .create("t", 1, BTreeMap::new(), false)
        .expect("topic");
    let rt = rt();
    let encode = |req: &dyn Fn(&mut bytes::BytesMut)| {
        let mut b = bytes::BytesMut::new();
        req(&mut b);
        b
    };
    let cluster = encode(&|b| {
        DescribeClusterRequest::default()
            .with_include_cluster_authorized_operations(true)
            .encode(b, 1)
            .expect("encode")
    });
    let text = ask_with(
        &st,
        &rt,
        "User:mallory",
        ApiKey::DescribeCluster,
        1,
        &cluster,
    );
    assert!(text.contains("cluster_authorized_operations: 0,"), "{text}");
    let text = ask_with(&st, &rt, "User:admin", ApiKey::DescribeCluster, 1, &cluster);
    assert!(
        !text.contains("cluster_authorized_operations: 0,"),
        "{text}"
    );
    let all = encode(&|b| {
        MetadataRequest::default()
            .with_topics(None)
            .encode(b, 12)
            .expect("encode")
    });
    let text = ask_with(&st, &rt, "User:mallory", ApiKey::Metadata, 12, &all);
    assert!(text.contains("topics: []"), "{text}");
    let text = ask_with(&st, &rt, "User:admin", ApiKey::Metadata, 12, &all);
    assert!(!text.contains("topics: []"), "{text}");
}
