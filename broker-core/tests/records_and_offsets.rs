//! DeleteRecords, DeleteGroups and ListOffsets by timestamp through librdkafka.

mod common;

use std::time::Duration;

use common::*;
use rdkafka::admin::AdminOptions;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::producer::FutureRecord;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_records_moves_the_log_start_offset() {
    let b = start().await;
    b.create_topic("dr", 1, &[]).await;
    let p = b.producer(&[]);
    produce(&p, "dr", Some(0), &msgs("d", 20)).await;
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset("dr", 0, Offset::Offset(12))
        .expect("tpl");
    let res = b
        .admin()
        .delete_records(&tpl, &opts)
        .await
        .expect("delete_records");
    let el = &res.elements()[0];
    assert_eq!(el.error(), Ok(()));
    assert_eq!(el.offset(), Offset::Offset(12), "new low watermark");
    let c = b.consumer("dr-reader", &[]);
    assert_eq!(
        c.fetch_watermarks("dr", 0, Duration::from_secs(5))
            .expect("wm"),
        (12, 20)
    );
    c.subscribe(&["dr"]).expect("subscribe");
    let got = consume_n(&c, 8, Duration::from_secs(10));
    assert_eq!(got.first().map(|m| m.1), Some(12));
    // Beyond the high watermark is refused.
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset("dr", 0, Offset::Offset(99))
        .expect("tpl");
    let res = b.admin().delete_records(&tpl, &opts).await;
    let failed = match res {
        Err(_) => true,
        Ok(list) => list.elements()[0].error().is_err(),
    };
    assert!(failed, "offset 99 > high watermark 20 must fail");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_groups_only_when_empty() {
    let b = start().await;
    b.create_topic("dg", 1, &[]).await;
    produce(&b.producer(&[]), "dg", Some(0), &msgs("x", 3)).await;
    let c = b.consumer("busy", &[]);
    c.subscribe(&["dg"]).expect("subscribe");
    assert_eq!(consume_n(&c, 3, Duration::from_secs(15)).len(), 3);
    c.commit_consumer_state(CommitMode::Sync).expect("commit");
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let admin = b.admin();
    let delete = || async {
        let res = admin
            .delete_groups(&["busy"], &opts)
            .await
            .expect("delete_groups");
        res[0].clone()
    };
    assert_eq!(
        delete().await,
        Err(("busy".into(), RDKafkaErrorCode::NonEmptyGroup))
    );
    drop(c);
    assert_eq!(delete().await, Ok("busy".into()));
    assert_eq!(
        delete().await,
        Err(("busy".into(), RDKafkaErrorCode::GroupIdNotFound))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_for_times_finds_the_first_record_at_or_after() {
    let b = start().await;
    b.create_topic("ts", 1, &[]).await;
    let p = b.producer(&[("linger.ms", "0")]);
    for (i, ts) in [1_000i64, 2_000, 3_000, 4_000].iter().enumerate() {
        let key = format!("k{i}");
        let val = format!("v{i}");
        p.send(
            FutureRecord::to("ts")
                .partition(0)
                .key(&key)
                .payload(&val)
                .timestamp(*ts),
            Duration::from_secs(10),
        )
        .await
        .expect("acked");
    }
    let c = b.consumer("ts-reader", &[]);
    let lookup = |ts: i64| {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset("ts", 0, Offset::Offset(ts))
            .expect("tpl");
        let res = c
            .offsets_for_times(tpl, Duration::from_secs(10))
            .expect("offsets_for_times");
        res.elements()[0].offset()
    };
    assert_eq!(lookup(2_000), Offset::Offset(1));
    assert_eq!(lookup(2_500), Offset::Offset(2));
    assert_eq!(lookup(0), Offset::Offset(0));
    assert_eq!(lookup(9_000), Offset::End, "no record that late");
}
