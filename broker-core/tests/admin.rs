//! The admin APIs through librdkafka's AdminClient.

mod common;

use std::time::Duration;

use common::*;
use rdkafka::admin::{
    AdminOptions, AlterConfig, ConfigSource, NewPartitions, NewTopic, ResourceSpecifier,
    TopicReplication,
};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;

fn topic_names(c: &BaseConsumer) -> Vec<String> {
    c.fetch_metadata(None, Duration::from_secs(10))
        .expect("metadata")
        .topics()
        .iter()
        .map(|t| t.name().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_describe_alter_grow_delete() {
    let b = start().await;
    let admin = b.admin();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));

    let t =
        NewTopic::new("admin-t", 3, TopicReplication::Fixed(1)).set("retention.ms", "172800000");
    let res = admin.create_topics([&t], &opts).await.expect("create");
    assert!(res[0].is_ok(), "{res:?}");

    // Creating it again, a bad replication factor and a bad config all fail with Kafka's codes.
    let res = admin.create_topics([&t], &opts).await.expect("create");
    assert_eq!(
        res[0],
        Err(("admin-t".into(), RDKafkaErrorCode::TopicAlreadyExists))
    );
    let rf3 = NewTopic::new("rf3", 1, TopicReplication::Fixed(3));
    let res = admin.create_topics([&rf3], &opts).await.expect("create");
    assert_eq!(
        res[0],
        Err(("rf3".into(), RDKafkaErrorCode::InvalidReplicationFactor))
    );
    let bad = NewTopic::new("badcfg", 1, TopicReplication::Fixed(1)).set("retention.ms", "soon");
    let res = admin.create_topics([&bad], &opts).await.expect("create");
    assert_eq!(
        res[0],
        Err(("badcfg".into(), RDKafkaErrorCode::InvalidConfig))
    );

    // DescribeConfigs returns every config with its source.
    let described = admin
        .describe_configs([&ResourceSpecifier::Topic("admin-t")], &opts)
        .await
        .expect("describe");
    let cfg = described[0].as_ref().expect("resource");
    let retention = cfg.get("retention.ms").expect("retention.ms present");
    assert_eq!(retention.value.as_deref(), Some("172800000"));
    assert_eq!(retention.source, ConfigSource::DynamicTopic);
    let policy = cfg.get("cleanup.policy").expect("cleanup.policy present");
    assert_eq!(policy.value.as_deref(), Some("delete"));
    assert_eq!(policy.source, ConfigSource::Default);
    assert!(
        cfg.entries.len() >= 25,
        "all topic configs: {}",
        cfg.entries.len()
    );

    // AlterConfigs replaces the overrides.
    let alter =
        AlterConfig::new(ResourceSpecifier::Topic("admin-t")).set("retention.ms", "864000000");
    let res = admin.alter_configs([&alter], &opts).await.expect("alter");
    assert!(res[0].is_ok(), "{res:?}");
    let described = admin
        .describe_configs([&ResourceSpecifier::Topic("admin-t")], &opts)
        .await
        .expect("describe");
    let cfg = described[0].as_ref().expect("resource");
    assert_eq!(
        cfg.get("retention.ms").and_then(|e| e.value.as_deref()),
        Some("864000000")
    );

    // CreatePartitions grows, never shrinks.
    let res = admin
        .create_partitions([&NewPartitions::new("admin-t", 4)], &opts)
        .await
        .expect("partitions");
    assert!(res[0].is_ok(), "{res:?}");
    let res = admin
        .create_partitions([&NewPartitions::new("admin-t", 2)], &opts)
        .await
        .expect("partitions");
    assert_eq!(
        res[0],
        Err(("admin-t".into(), RDKafkaErrorCode::InvalidPartitions))
    );
    let c = b.consumer("meta", &[]);
    let md = c
        .fetch_metadata(Some("admin-t"), Duration::from_secs(10))
        .expect("metadata");
    assert_eq!(md.topics()[0].partitions().len(), 4);

    // DeleteTopics removes it.
    let res = admin
        .delete_topics(&["admin-t"], &opts)
        .await
        .expect("delete");
    assert!(res[0].is_ok(), "{res:?}");
    assert!(!topic_names(&c).contains(&"admin-t".to_string()));
    let res = admin
        .delete_topics(&["admin-t"], &opts)
        .await
        .expect("delete");
    assert_eq!(
        res[0],
        Err(("admin-t".into(), RDKafkaErrorCode::UnknownTopicOrPartition))
    );
}
