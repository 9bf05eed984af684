//! Internal topics against the bundled broker: created compacted, checked
//! when they exist (one partition for configs, compaction), config
//! records written and read back into a snapshot where task configs appear
//! with their commit, and source offsets committed through the offsets topic.

use std::sync::Arc;
use std::time::Duration;

use broker_core::properties::Properties;
use broker_core::{BrokerConfig, RunningBroker};
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::CreateTopicsRequest;
use kafka_protocol::protocol::StrBytes;
use serde_json::{Map, Value as Json};
use worker::distributed::records::ConfigRecord;
use worker::distributed::snapshot::ConfigSnapshot;
use worker::distributed::topics::{ensure, log_writer, InternalTopic, OffsetTopic, TopicLog};
use worker::kafka::admin::{topic_name, Cluster};
use worker::store::OffsetStore;

fn config_topic(name: &str) -> InternalTopic {
    InternalTopic {
        name: name.into(),
        property: "config.storage.topic",
        purpose: "connector configurations",
        partitions: -1,
        replication: -1,
        configs: Vec::new(),
        single_partition: true,
    }
}

async fn create_plain(cluster: &mut Cluster, name: &str, partitions: i32, policy: &str) {
    let request = CreateTopicsRequest::default()
        .with_topics(vec![CreatableTopic::default()
            .with_name(topic_name(name))
            .with_num_partitions(partitions)
            .with_replication_factor(-1)
            .with_configs(vec![CreatableTopicConfig::default()
                .with_name(StrBytes::from_static_str("cleanup.policy"))
                .with_value(Some(StrBytes::from_string(policy.to_string())))])])
        .with_timeout_ms(10_000);
    let r = cluster
        .controller_conn()
        .await
        .expect("controller")
        .send(&request, 5)
        .await
        .expect("create");
    assert_eq!(r.topics[0].error_code, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_topics_are_created_checked_and_read_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut props = Properties::default();
    props.set("log.dirs", dir.path().display().to_string());
    props.set("listeners", "PLAINTEXT://127.0.0.1:0".to_string());
    props.set("num.partitions", "3".to_string());
    let (cfg, _) = BrokerConfig::from_properties(&props).expect("config");
    let b = RunningBroker::start(cfg).await.expect("broker");
    let boot = b.bootstrap();
    let mut cluster =
        Cluster::connect(std::slice::from_ref(&boot), "test", Duration::from_secs(10))
            .await
            .expect("cluster");

    // Created with one partition even though the broker's default is 3, and checked again.
    ensure(&mut cluster, &config_topic("connect-configs"))
        .await
        .expect("created");
    ensure(&mut cluster, &config_topic("connect-configs"))
        .await
        .expect("accepted");
    let md = cluster
        .metadata(Some(&["connect-configs".to_string()]))
        .await
        .expect("metadata");
    assert_eq!(md.topics[0].partitions.len(), 1);

    create_plain(&mut cluster, "three", 3, "compact").await;
    let err = ensure(&mut cluster, &config_topic("three"))
        .await
        .expect_err("3 partitions");
    assert!(
        err.to_string().contains("single partition") && err.to_string().contains("has 3"),
        "{err}"
    );
    create_plain(&mut cluster, "deleting", 1, "delete").await;
    let err = ensure(&mut cluster, &config_topic("deleting"))
        .await
        .expect_err("not compacted");
    assert!(err.to_string().contains("cleanup.policy=delete"), "{err}");

    // Write a connector, two task configs and their commit; read them back.
    let log = TopicLog::open(
        &boot,
        "connect-configs",
        "test",
        log_writer(&boot, "test").expect("writer"),
    )
    .expect("log");
    let records = [
        ConfigRecord::Connector {
            name: "my-conn".into(),
            config: Some([("tasks.max".to_string(), "2".to_string())].into()),
        },
        ConfigRecord::Task {
            connector: "my-conn".into(),
            task: 0,
            config: [("n".to_string(), "0".to_string())].into(),
        },
        ConfigRecord::Task {
            connector: "my-conn".into(),
            task: 1,
            config: [("n".to_string(), "1".to_string())].into(),
        },
        ConfigRecord::Commit {
            connector: "my-conn".into(),
            tasks: 2,
        },
    ];
    for r in &records {
        log.send(&r.key(), r.value().as_deref())
            .await
            .expect("written");
    }
    let reader = TopicLog::open(
        &boot,
        "connect-configs",
        "test2",
        log_writer(&boot, "test2").expect("writer"),
    )
    .expect("log");
    let mut snap = ConfigSnapshot::default();
    let mut keys = Vec::new();
    tokio::task::block_in_place(|| {
        reader.read_to_end(Duration::from_secs(10), |rec| {
            keys.push(String::from_utf8_lossy(&rec.key).into_owned());
            let parsed = ConfigRecord::parse(&rec.key, rec.value.as_deref())
                .expect("parses")
                .expect("known");
            snap.apply(rec.offset, parsed);
        })
    })
    .expect("read to end");
    assert_eq!(
        keys,
        [
            "connector-my-conn",
            "task-my-conn-0",
            "task-my-conn-1",
            "commit-my-conn"
        ]
    );
    assert_eq!(snap.offset, 4);
    assert_eq!(snap.tasks["my-conn"][1]["n"], "1");

    // Source offsets through the offsets topic: one worker commits, another
    // reads the topic and finds them; a reset is a tombstone.
    let offsets_topic = InternalTopic {
        name: "connect-offsets".into(),
        property: "offset.storage.topic",
        purpose: "source connector offsets",
        partitions: 5,
        replication: -1,
        configs: Vec::new(),
        single_partition: false,
    };
    ensure(&mut cluster, &offsets_topic)
        .await
        .expect("offsets topic");
    let writer = OffsetTopic::open(&boot, "connect-offsets", "w1").expect("writer");
    let store = OffsetStore::over_log(Arc::new(writer), Vec::new());
    let mut partition = Map::new();
    partition.insert("filename".into(), Json::String("/tmp/in.txt".into()));
    let mut offset = Map::new();
    offset.insert("position".into(), Json::from(30));
    let other = {
        let mut p = Map::new();
        p.insert("filename".into(), Json::String("/tmp/other.txt".into()));
        p
    };
    tokio::task::block_in_place(|| {
        store
            .commit(
                "src",
                &[
                    (partition.clone(), Some(offset.clone())),
                    (other.clone(), Some(offset.clone())),
                ],
            )
            .expect("commit");
        store
            .commit("src", &[(other.clone(), None)])
            .expect("reset");
    });
    let reader = TopicLog::open(
        &boot,
        "connect-offsets",
        "w2",
        log_writer(&boot, "w2").expect("writer"),
    )
    .expect("reader");
    let mut records = Vec::new();
    tokio::task::block_in_place(|| {
        reader.read_to_end(Duration::from_secs(10), |r| records.push(r))
    })
    .expect("read");
    let keys: Vec<String> = records
        .iter()
        .map(|r| String::from_utf8_lossy(&r.key).into_owned())
        .collect();
    assert!(
        keys.contains(&r#"["src",{"filename":"/tmp/in.txt"}]"#.to_string()),
        "{keys:?}"
    );
    let values: Vec<Option<String>> = records
        .iter()
        .map(|r| {
            r.value
                .as_ref()
                .map(|v| String::from_utf8_lossy(v).into_owned())
        })
        .collect();
    assert!(
        values.contains(&Some(r#"{"position":30}"#.to_string())),
        "{values:?}"
    );
    assert!(values.contains(&None), "the reset is a tombstone");
    // Per key, the partition keeps the order written: replay gives the latest.
    let replayed = OffsetStore::over_log(
        Arc::new(OffsetTopic::open(&boot, "connect-offsets", "w2").expect("writer")),
        records.into_iter().map(|r| (r.key, r.value)),
    );
    assert_eq!(replayed.get("src", &partition), Some(offset));
    assert_eq!(replayed.get("src", &other), None);
    b.shutdown().await.expect("broker stops");
}
