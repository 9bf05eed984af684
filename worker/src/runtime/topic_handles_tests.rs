//! Runs against the bundled broker: every record handed over once, in
//! order per partition, across librdkafka's queue filling up.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rdkafka::config::ClientConfig;
use rdkafka::producer::{DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientContext, Message};

use super::{Payload, Run, TopicHandles, RUN_RECORDS};
use crate::kafka::polled::PolledProducer;

/// (opaque, topic, partition, offset) of every acknowledged record.
#[derive(Default)]
struct Delivered(Mutex<Vec<(usize, String, i32, i64)>>);

impl ClientContext for Delivered {}

impl ProducerContext for Delivered {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, opaque: usize) {
        if let Ok(m) = result {
            self.0
                .lock()
                .push((opaque, m.topic().to_string(), m.partition(), m.offset()));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_keep_every_record_and_its_order_through_a_full_queue() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = crate::runtime::test_broker::start(dir.path(), 2).await;
    let boot = broker.bootstrap();

    let delivered = tokio::task::spawn_blocking(move || {
        let producer: Arc<PolledProducer<Delivered>> = Arc::new(
            ClientConfig::new()
                .set("bootstrap.servers", &boot)
                .set("enable.idempotence", "true")
                // A queue far smaller than what is sent: runs wait for room.
                .set("queue.buffering.max.messages", "100")
                .set("message.timeout.ms", "0")
                .create_with_context(Delivered::default())
                .expect("producer"),
        );
        let mut handles = TopicHandles::new(producer.clone());
        let mut run = Run::default();
        let (a, b): (Arc<str>, Arc<str>) = ("runs-a".into(), "runs-b".into());
        let mut waits = 0;
        let total = 3 * RUN_RECORDS + 7;
        for i in 1..=total {
            // Runs of one topic, switching now and then; every third
            // record keyed (left to the partitioner), the others on a
            // partition of their own choosing.
            let topic = if (i / 500) % 2 == 0 { &a } else { &b };
            if run.topic().is_some_and(|t| t != topic) || run.len() >= RUN_RECORDS {
                handles
                    .send_run(&mut run, || {
                        waits += 1;
                        std::thread::sleep(Duration::from_millis(1));
                    })
                    .expect("sent");
            }
            let key = format!("k{}", i % 10);
            let value = format!("v{i}");
            run.push(
                topic,
                &Payload {
                    partition: (i % 3 != 0).then_some((i % 2) as i32),
                    key: (i % 3 == 0).then_some(key.as_bytes()),
                    value: Some(value.as_bytes()),
                    timestamp: 0,
                    opaque: i,
                },
            );
        }
        handles.send_run(&mut run, || {}).expect("sent");
        assert!(run.is_empty());
        producer.flush(Duration::from_secs(30)).expect("flushed");
        assert!(waits > 0, "the queue never filled up");
        let delivered = std::mem::take(&mut *producer.context().0.lock());
        (delivered, total)
    })
    .await
    .expect("producer thread");
    let (mut delivered, total) = delivered;

    // Each record once...
    delivered.sort_by_key(|d| d.0);
    let opaques: Vec<usize> = delivered.iter().map(|d| d.0).collect();
    assert_eq!(opaques, (1..=total).collect::<Vec<_>>());
    // ...and in each partition in the order handed over.
    let mut last = std::collections::HashMap::new();
    for (opaque, topic, partition, offset) in &delivered {
        if let Some(before) = last.insert((topic.clone(), *partition), *offset) {
            assert!(
                *offset > before,
                "record {opaque} came before an earlier one"
            );
        }
    }
    // Records given a partition went there.
    for (opaque, _, partition, _) in &delivered {
        if opaque % 3 != 0 {
            assert_eq!(*partition, (opaque % 2) as i32, "record {opaque}");
        }
    }
}
