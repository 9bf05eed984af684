//! A librdkafka producer whose events (delivery reports, errors, logs) are
//! served by a thread that sleeps until there is one.
//!
//! rust-rdkafka's `ThreadedProducer` polls every 100 ms, and a poll that
//! finds nothing does not end when librdkafka's wait does: librdkafka waits
//! in whole milliseconds, the poll's deadline is finer, and the fraction of
//! a millisecond left over is spent asking again without a wait. An idle
//! producer cost about 0.9% of a core that way, so a worker with a hundred
//! idle source tasks kept most of a core busy. Here librdkafka tells the
//! thread when the producer's event queue turns non-empty (the queue's
//! event callback); the thread serves events without waiting until the
//! queue is empty again, then sleeps.

use std::ffi::c_void;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};
use rdkafka::bindings as rd;
use rdkafka::config::{ClientConfig, FromClientConfigAndContext};
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::producer::{BaseProducer, Producer, ProducerContext};

/// The longest sleep without a ring: a guard, should a ring ever be missed,
/// that keeps `ThreadedProducer`'s bound on how late a report is served.
/// A wake with nothing queued only looks at the queue's length.
const BACKSTOP: Duration = Duration::from_millis(100);
/// Events served in one go before the thread looks at its stop flag again.
const SERVE_AT_MOST: usize = 10_000;

/// Rung by librdkafka when the event queue turns non-empty.
#[derive(Default)]
struct Bell {
    rung: Mutex<bool>,
    cond: Condvar,
}

impl Bell {
    fn ring(&self) {
        *self.rung.lock() = true;
        self.cond.notify_one();
    }

    /// Waits until rung or `wait` passes, and clears the ring.
    fn wait(&self, wait: Duration) {
        let mut rung = self.rung.lock();
        if !*rung {
            self.cond.wait_for(&mut rung, wait);
        }
        *rung = false;
    }
}

/// librdkafka's queue event callback. It runs on librdkafka's threads with
/// the queue locked, so it only rings.
#[allow(unsafe_code)]
unsafe extern "C" fn ring(_rk: *mut rd::rd_kafka_t, opaque: *mut c_void) {
    // SAFETY: `opaque` is the `Bell` of a `PolledProducer`, which keeps it
    // alive until the callback is disabled.
    let bell = unsafe { &*(opaque as *const Bell) };
    bell.ring();
}

/// A handle on the producer's event queue (librdkafka's queue handles may
/// be used from any thread).
struct EventQueue(*mut rd::rd_kafka_queue_t);

#[allow(unsafe_code)]
// SAFETY: librdkafka's queue operations lock the queue themselves.
unsafe impl Send for EventQueue {}
#[allow(unsafe_code)]
// SAFETY: as above.
unsafe impl Sync for EventQueue {}

impl EventQueue {
    #[allow(unsafe_code)]
    fn len(&self) -> usize {
        // SAFETY: the handle is valid until `PolledProducer::drop` destroys it,
        // after the serving thread has ended.
        unsafe { rd::rd_kafka_queue_length(self.0) }
    }
}

/// A `BaseProducer` with a thread that serves its events as they come.
pub struct PolledProducer<C: ProducerContext + 'static> {
    producer: Arc<BaseProducer<C>>,
    queue: Arc<EventQueue>,
    bell: Arc<Bell>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// Times the thread woke.
    #[cfg_attr(not(test), allow(dead_code))]
    wakes: Arc<AtomicU64>,
}

impl<C: ProducerContext + 'static> PolledProducer<C> {
    /// Serves `producer`'s events, waking at least every `backstop`.
    #[allow(unsafe_code)]
    fn start(producer: BaseProducer<C>, backstop: Duration) -> KafkaResult<Self> {
        let producer = Arc::new(producer);
        // SAFETY: the client pointer is valid while `producer` lives; the
        // handle returned holds a reference of its own and is destroyed in
        // `drop` before the producer is.
        let queue = unsafe { rd::rd_kafka_queue_get_main(producer.client().native_ptr()) };
        if queue.is_null() {
            return Err(KafkaError::ClientCreation(
                "the producer has no event queue".to_string(),
            ));
        }
        let queue = Arc::new(EventQueue(queue));
        let bell = Arc::new(Bell::default());
        // SAFETY: `bell` outlives the callback: `drop` disables the callback
        // before it lets go of the bell.
        unsafe {
            rd::rd_kafka_queue_cb_event_enable(
                queue.0,
                Some(ring),
                Arc::as_ptr(&bell) as *mut c_void,
            )
        };
        let stop = Arc::new(AtomicBool::new(false));
        let wakes = Arc::new(AtomicU64::new(0));
        let thread = std::thread::Builder::new()
            .name("producer-events".to_string())
            .spawn({
                let serving = Serving {
                    producer: producer.clone(),
                    queue: queue.clone(),
                    bell: bell.clone(),
                    stop: stop.clone(),
                    wakes: wakes.clone(),
                    backstop,
                };
                move || serving.run()
            })
            .map_err(|e| KafkaError::ClientCreation(format!("starting its thread: {e}")));
        let mut polled = PolledProducer {
            producer,
            queue,
            bell,
            stop,
            thread: None,
            wakes,
        };
        // On an error `polled` is dropped here, which disables the callback.
        polled.thread = Some(thread?);
        Ok(polled)
    }
}

/// What the serving thread holds.
struct Serving<C: ProducerContext + 'static> {
    producer: Arc<BaseProducer<C>>,
    queue: Arc<EventQueue>,
    bell: Arc<Bell>,
    stop: Arc<AtomicBool>,
    wakes: Arc<AtomicU64>,
    backstop: Duration,
}

impl<C: ProducerContext + 'static> Serving<C> {
    /// Serves events until the queue is empty, sleeps until it is not.
    fn run(self) {
        loop {
            let mut served = 0;
            // `poll` with no wait serves at most one event.
            while self.queue.len() > 0 && served < SERVE_AT_MOST {
                self.producer.poll(Duration::ZERO);
                served += 1;
            }
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
            // Something librdkafka does not hand out as an event may stay
            // queued: looked at again soon rather than spun on.
            let wait = if self.queue.len() > 0 {
                Duration::from_millis(1)
            } else {
                self.backstop
            };
            self.bell.wait(wait);
            self.wakes.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl<C: ProducerContext + 'static> PolledProducer<C> {
    /// Waits until every record sent so far is acknowledged or has failed,
    /// and its delivery report has been served; an error after `timeout`.
    /// librdkafka waits for the count of outstanding records to reach zero
    /// while the thread serves the reports, so this returns as the last one
    /// is served (`BaseProducer::flush` polls itself, 100 ms at a time).
    #[allow(unsafe_code)]
    pub fn flush(&self, timeout: Duration) -> KafkaResult<()> {
        let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        // SAFETY: the client pointer is valid while `self.producer` lives.
        let err = unsafe { rd::rd_kafka_flush(self.producer.client().native_ptr(), ms) };
        match err {
            rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR => Ok(()),
            e => Err(KafkaError::Flush(e.into())),
        }
    }
}

impl<C: ProducerContext + 'static> FromClientConfigAndContext<C> for PolledProducer<C> {
    fn from_config_and_context(config: &ClientConfig, context: C) -> KafkaResult<Self> {
        PolledProducer::start(
            BaseProducer::from_config_and_context(config, context)?,
            BACKSTOP,
        )
    }
}

impl<C: ProducerContext + 'static> Deref for PolledProducer<C> {
    type Target = BaseProducer<C>;

    fn deref(&self) -> &BaseProducer<C> {
        &self.producer
    }
}

impl<C: ProducerContext + 'static> Drop for PolledProducer<C> {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.bell.ring();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        // SAFETY: the serving thread has ended, so nothing else uses the
        // handle; with the callback disabled the bell is no longer needed.
        unsafe {
            rd::rd_kafka_queue_cb_event_enable(self.queue.0, None, std::ptr::null_mut());
            rd::rd_kafka_queue_destroy(self.queue.0);
        }
        // The producer itself (its purge and last flush) goes with the
        // last `Arc`, which is this one now that the thread has ended.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::producer::{BaseRecord, DeliveryResult};
    use rdkafka::ClientContext;
    use std::sync::atomic::AtomicUsize;
    use std::time::Instant;

    #[derive(Default)]
    struct Counted(AtomicUsize);

    impl ClientContext for Counted {}

    impl ProducerContext for Counted {
        type DeliveryOpaque = ();

        fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
            if result.is_ok() {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    fn delivered_within(p: &PolledProducer<Counted>, n: usize, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if p.context().0.load(Ordering::SeqCst) >= n {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn deliveries_wake_the_thread_and_an_idle_producer_sleeps() {
        let dir = tempfile::tempdir().expect("dir");
        let broker = crate::runtime::test_broker::start(dir.path(), 1).await;
        let boot = broker.bootstrap();
        tokio::task::spawn_blocking(move || {
            let base: BaseProducer<Counted> = ClientConfig::new()
                .set("bootstrap.servers", &boot)
                .set("linger.ms", "0")
                .create_with_context(Counted::default())
                .expect("producer");
            // No backstop within the test: only librdkafka's ring wakes it.
            let p = PolledProducer::start(base, Duration::from_secs(3600)).expect("start");
            for i in 0..100 {
                let v = format!("v{i}");
                p.send(BaseRecord::<(), str>::to("polled").payload(&v))
                    .expect("send");
            }
            // Nobody here polls: flush waits while the thread serves the
            // delivery reports, and returns once all of them are served.
            p.flush(Duration::from_secs(20)).expect("flushed");
            assert_eq!(p.context().0.load(Ordering::SeqCst), 100);
            std::thread::sleep(Duration::from_millis(300));
            let before = p.wakes.load(Ordering::Relaxed);
            std::thread::sleep(Duration::from_secs(2));
            let idle = p.wakes.load(Ordering::Relaxed) - before;
            // ThreadedProducer would have woken 20 times, spinning each time.
            assert!(idle <= 2, "woke {idle} times in 2 s with nothing to do");
            // After the sleep, a delivery still wakes it.
            p.send(BaseRecord::<(), str>::to("polled").payload("last"))
                .expect("send");
            assert!(delivered_within(&p, 101, Duration::from_secs(20)));
        })
        .await
        .expect("test thread");
    }
}
