//! Real librdkafka clients against an in-process broker.

mod common;

use std::time::Duration;

use common::*;
use rdkafka::consumer::Consumer;
use rdkafka::TopicPartitionList;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_compression_round_trips() {
    let b = start().await;
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"] {
        let topic = format!("codec-{codec}");
        b.create_topic(&topic, 1, &[]).await;
        let p = b.producer(&[("compression.type", codec), ("linger.ms", "5")]);
        let sent = msgs(codec, 500);
        produce(&p, &topic, Some(0), &sent).await;
        let c = b.consumer(&format!("g-{codec}"), &[]);
        c.subscribe(&[&topic]).expect("subscribe");
        let got = consume_n(&c, 500, Duration::from_secs(20));
        let values: Vec<String> = got.iter().map(|m| m.3.clone()).collect();
        let expected: Vec<String> = sent.iter().map(|m| m.1.clone()).collect();
        assert_eq!(values, expected, "codec {codec}");
        let offsets: Vec<i64> = got.iter().map(|m| m.1).collect();
        assert_eq!(offsets, (0..500).collect::<Vec<i64>>(), "codec {codec}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_producer_writes_each_record_once_in_order() {
    let b = start().await;
    b.create_topic("idem", 3, &[]).await;
    let p = b.producer(&[
        ("enable.idempotence", "true"),
        ("linger.ms", "2"),
        ("batch.num.messages", "50"),
    ]);
    let sent = msgs("idem", 3000);
    produce(&p, "idem", None, &sent).await;
    let c = b.consumer("g-idem", &[]);
    c.subscribe(&["idem"]).expect("subscribe");
    let got = consume_n(&c, 3000, Duration::from_secs(30));
    assert_eq!(got.len(), 3000);
    let mut values: Vec<String> = got.iter().map(|m| m.3.clone()).collect();
    values.sort();
    values.dedup();
    assert_eq!(values.len(), 3000, "no duplicates");
    // Per key order is per partition order: offsets per partition are dense.
    for part in 0..3 {
        let offs: Vec<i64> = got.iter().filter(|m| m.0 == part).map(|m| m.1).collect();
        assert_eq!(offs, (0..offs.len() as i64).collect::<Vec<_>>());
    }
    // Nothing is left over.
    assert!(consume_n(&c, 1, Duration::from_millis(800)).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_inside_a_batch_returns_that_batch() {
    let b = start().await;
    b.create_topic("mid", 1, &[]).await;
    let p = b.producer(&[("linger.ms", "50")]);
    produce(&p, "mid", Some(0), &msgs("m", 100)).await;
    let c = b.consumer("g-mid", &[]);
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset("mid", 0, rdkafka::Offset::Offset(57))
        .expect("tpl");
    c.assign(&tpl).expect("assign");
    let got = consume_n(&c, 43, Duration::from_secs(10));
    assert_eq!(got.first().map(|m| m.1), Some(57));
    assert_eq!(got.len(), 43);
}
