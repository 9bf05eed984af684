//! Compaction and retention observed through real clients.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use rdkafka::consumer::Consumer;
use rdkafka::producer::FutureRecord;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

async fn fast_maintenance() -> TestBroker {
    start_with(|c| {
        c.retention_check_interval_ms = 200;
        c.cleaner_backoff_ms = 200;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compacted_topic_keeps_latest_value_per_key_and_drops_tombstones() {
    let b = fast_maintenance().await;
    b.create_topic(
        "compact",
        1,
        &[
            ("cleanup.policy", "compact"),
            ("segment.bytes", "2048"),
            ("delete.retention.ms", "0"),
            ("min.cleanable.dirty.ratio", "0.01"),
        ],
    )
    .await;
    let p = b.producer(&[("linger.ms", "0")]);
    for round in 0..20 {
        let batch: Vec<(String, String)> = (0..10)
            .map(|k| (format!("key{k}"), format!("v{round}")))
            .collect();
        produce(&p, "compact", Some(0), &batch).await;
    }
    for k in 0..3 {
        let key = format!("key{k}");
        let rec: FutureRecord<'_, str, str> = FutureRecord::to("compact").partition(0).key(&key);
        p.send(rec, Duration::from_secs(10))
            .await
            .expect("tombstone");
    }
    // Distinct filler keys roll the segment so all test keys are in closed segments.
    let fillers: Vec<(String, String)> = (0..60)
        .map(|i| (format!("filler{i}"), "x".repeat(40)))
        .collect();
    produce(&p, "compact", Some(0), &fillers).await;

    // A keyless record is rejected with INVALID_RECORD.
    let keyless: FutureRecord<'_, str, str> =
        FutureRecord::to("compact").partition(0).payload("no key");
    let err = p
        .send(keyless, Duration::from_secs(10))
        .await
        .expect_err("rejected");
    assert_eq!(
        err.0.rdkafka_error_code(),
        Some(RDKafkaErrorCode::InvalidRecord)
    );

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let c = b.consumer(&format!("reader-{}", deadline.elapsed().as_millis()), &[]);
        c.subscribe(&["compact"]).expect("subscribe");
        let all = consume_n(&c, 10_000, Duration::from_secs(3));
        let mut latest: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (_, _, k, v) in &all {
            if k.starts_with("key") {
                latest.entry(k.clone()).or_default().push(v.clone());
            }
        }
        let compacted = (0..3).all(|k| !latest.contains_key(&format!("key{k}")))
            && (3..10).all(|k| latest.get(&format!("key{k}")) == Some(&vec!["v19".to_string()]));
        let fillers_kept = all.iter().filter(|m| m.2.starts_with("filler")).count();
        if compacted {
            assert!(fillers_kept >= 59, "distinct keys survive: {fillers_kept}");
            // Offsets are never rewritten: they stay increasing with gaps.
            let offs: Vec<i64> = all.iter().map(|m| m.1).collect();
            assert!(offs.windows(2).all(|w| w[0] < w[1]));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not compacted in time: {latest:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_moves_log_start_and_consumers_recover() {
    let b = fast_maintenance().await;
    b.create_topic(
        "short",
        1,
        &[("segment.bytes", "1024"), ("retention.bytes", "2048")],
    )
    .await;
    let p = b.producer(&[("linger.ms", "0")]);
    for i in 0..100 {
        produce(
            &p,
            "short",
            Some(0),
            &[(format!("k{i}"), format!("{i:0>80}"))],
        )
        .await;
    }
    let c = b.consumer("wm", &[]);
    let watermarks = || {
        c.fetch_watermarks("short", 0, Duration::from_secs(5))
            .expect("watermarks")
    };
    // A retention pass (every 200 ms here) may run while the last records are
    // still coming in; the log start has settled once it stays put for a
    // second, i.e. over several later passes.
    let deadline = Instant::now() + Duration::from_secs(20);
    let (low, high) = loop {
        let (low, high) = watermarks();
        if low > 50 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if watermarks().0 == low || Instant::now() > deadline {
                break (low, high);
            }
        } else if Instant::now() > deadline {
            break (low, high);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(high, 100);
    assert!(low > 50, "old segments deleted, log start {low}");

    // A consumer positioned below the log start gets OFFSET_OUT_OF_RANGE ...
    let strict = b.consumer("strict", &[("auto.offset.reset", "error")]);
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset("short", 0, Offset::Offset(0))
        .expect("tpl");
    strict.assign(&tpl).expect("assign");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut saw = None;
    while Instant::now() < deadline && saw.is_none() {
        if let Some(Err(e)) = strict.poll(Duration::from_millis(100)) {
            saw = e.rdkafka_error_code();
        }
    }
    // librdkafka turns the broker's OFFSET_OUT_OF_RANGE into this error when
    // the reset policy is `error` (offset 0 was assigned explicitly).
    assert_eq!(saw, Some(RDKafkaErrorCode::AutoOffsetReset));

    // ... and one with auto.offset.reset=earliest recovers from the log start.
    let easy = b.consumer("easy", &[]);
    easy.assign(&tpl).expect("assign");
    let got = consume_n(&easy, (100 - low) as usize, Duration::from_secs(10));
    assert_eq!(got.first().map(|m| m.1), Some(low));
    assert_eq!(got.last().map(|m| m.1), Some(99));
}
