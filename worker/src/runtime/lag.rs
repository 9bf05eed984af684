//! How far behind a sink task's consumer is: the records past its position
//! in each partition, from what librdkafka already knows (the high
//! watermark of the last fetch), so looking costs no request and no wait.

use std::ffi::CString;

use rdkafka::bindings as rd;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};

/// Records the consumer has not read yet in the partitions at the
/// `positions` given (topic, partition, next offset to read); a partition
/// not fetched from yet counts nothing.
pub fn unread<'a, C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    positions: impl Iterator<Item = (&'a str, i32, i64)>,
) -> u64 {
    positions
        .filter_map(|(topic, partition, at)| {
            let high = cached_high_watermark(consumer, topic, partition)?;
            u64::try_from(high - at).ok()
        })
        .sum()
}

/// The high watermark of a partition as the last fetch response gave it.
#[allow(unsafe_code)]
fn cached_high_watermark<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    topic: &str,
    partition: i32,
) -> Option<i64> {
    let topic = CString::new(topic).ok()?;
    let (mut low, mut high) = (-1i64, -1i64);
    // SAFETY: the client handle lives as long as `consumer`; librdkafka
    // reads the NUL-terminated topic name and writes the two integers,
    // under its own locks, without a request to the broker.
    let err = unsafe {
        rd::rd_kafka_get_watermark_offsets(
            consumer.client().native_ptr(),
            topic.as_ptr(),
            partition,
            &mut low,
            &mut high,
        )
    };
    (err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0).then_some(high)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use rdkafka::config::ClientConfig;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
    use rdkafka::Message;

    use super::unread;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unread_records_are_those_past_the_position() {
        let dir = tempfile::tempdir().expect("tempdir");
        let broker = crate::runtime::test_broker::start(dir.path(), 1).await;
        let boot = broker.bootstrap();
        let counts = tokio::task::spawn_blocking(move || {
            let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
                .set("bootstrap.servers", &boot)
                .create()
                .expect("producer");
            for i in 0..10 {
                let r = BaseRecord::<(), str>::to("lagging")
                    .payload("x")
                    .partition(0);
                producer.send(r).map_err(|(e, _)| e).expect("send");
                if i == 9 {
                    producer.flush(Duration::from_secs(10)).expect("flush");
                }
            }
            let consumer: BaseConsumer = ClientConfig::new()
                .set("bootstrap.servers", &boot)
                .set("group.id", "lagging")
                .set("auto.offset.reset", "earliest")
                .set("enable.auto.commit", "false")
                .create()
                .expect("consumer");
            let at = |next: i64| std::iter::once(("lagging", 0, next));
            assert_eq!(unread(&consumer, at(0)), 0, "nothing fetched yet");
            consumer.subscribe(&["lagging"]).expect("subscribe");
            let mut seen = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut next = 0;
            while next < 10 && Instant::now() < deadline {
                if let Some(m) = consumer.poll(Duration::from_millis(100)) {
                    next = m.expect("a record").offset() + 1;
                    if next <= 3 || next == 10 {
                        seen.push(unread(&consumer, at(next)));
                    }
                }
            }
            seen
        })
        .await
        .expect("join");
        // Ten records, read one at a time: 9, 8 and 7 left, then none.
        assert_eq!(counts, vec![9, 8, 7, 0]);
        broker.shutdown().await.expect("shutdown");
    }
}
