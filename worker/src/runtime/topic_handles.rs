//! Producing through librdkafka topic handles. The client crate's `send`
//! names the topic by string, so every record costs a C string and a
//! lookup of the topic under librdkafka's lock; a source task writes to
//! few topics, so it keeps one handle per topic and names that instead.
//! Records with headers still go through the crate (its header type owns
//! a native pointer that only it can hand over).
//!
//! Runs of records of one topic without headers or timestamps go to
//! librdkafka together ([`Run`]): it reads the clock and takes the topic's
//! lock once per call instead of per record, and stamps them with the time
//! of the call, as it would stamp each one sent alone.

#![allow(unsafe_code)]

use std::ffi::{c_void, CString};
use std::sync::Arc;

use rdkafka::bindings as rd;
use rdkafka::producer::{Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;

use crate::kafka::polled::PolledProducer;

/// One librdkafka topic handle, destroyed with it.
struct Handle {
    name: Arc<str>,
    ptr: *mut rd::rd_kafka_topic_t,
}

/// The topic handles of one producer. Holds the producer so that every
/// handle is destroyed before it.
pub(crate) struct TopicHandles<C: ProducerContext + 'static> {
    handles: Vec<Handle>,
    producer: Arc<PolledProducer<C>>,
}

/// What a record hands to librdkafka: borrowed bytes, copied by it.
pub(crate) struct Payload<'a> {
    pub partition: Option<i32>,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    /// Milliseconds since the epoch; 0 means the time of sending.
    pub timestamp: i64,
    /// Handed back in the delivery report.
    pub opaque: usize,
}

/// Records waiting to be handed to librdkafka in one call: one topic,
/// keys and values copied into one buffer that is reused.
#[derive(Default)]
pub(crate) struct Run {
    topic: Option<Arc<str>>,
    bytes: Vec<u8>,
    entries: Vec<Entry>,
    /// The messages of the last call, kept for their allocation.
    messages: Vec<rd::rd_kafka_message_t>,
}

struct Entry {
    key: Option<(usize, usize)>,
    value: Option<(usize, usize)>,
    partition: i32,
    opaque: usize,
}

/// Records in a run before it is handed over.
pub(crate) const RUN_RECORDS: usize = 1024;

impl Run {
    /// The topic of the records waiting, if any.
    pub fn topic(&self) -> Option<&Arc<str>> {
        self.topic.as_ref()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds a record of `topic`, which must be the run's topic or the
    /// run empty; `partition` `None` leaves it to the producer's partitioner.
    pub fn push(&mut self, topic: &Arc<str>, p: &Payload<'_>) {
        if self.topic.is_none() {
            self.topic = Some(topic.clone());
        }
        let mut copy = |b: Option<&[u8]>| {
            b.map(|b| {
                let at = self.bytes.len();
                self.bytes.extend_from_slice(b);
                (at, b.len())
            })
        };
        let key = copy(p.key);
        let value = copy(p.value);
        self.entries.push(Entry {
            key,
            value,
            partition: p.partition.unwrap_or(-1),
            opaque: p.opaque,
        });
    }

    fn clear(&mut self) {
        self.topic = None;
        self.bytes.clear();
        self.entries.clear();
    }
}

impl<C: ProducerContext<DeliveryOpaque = usize> + 'static> TopicHandles<C> {
    pub fn new(producer: Arc<PolledProducer<C>>) -> Self {
        Self {
            handles: Vec::new(),
            producer,
        }
    }

    /// The handle of `topic`, created on first use; `None` for a name
    /// librdkafka cannot take (an interior NUL) or refuses.
    fn handle(&mut self, topic: &Arc<str>) -> Option<*mut rd::rd_kafka_topic_t> {
        if let Some(h) = self
            .handles
            .iter()
            .find(|h| Arc::ptr_eq(&h.name, topic) || *h.name == **topic)
        {
            return Some(h.ptr);
        }
        let name = CString::new(topic.as_bytes()).ok()?;
        // SAFETY: the client pointer is valid while `self.producer` lives;
        // the name is a valid C string; a null config takes the defaults.
        let ptr = unsafe {
            rd::rd_kafka_topic_new(
                self.producer.client().native_ptr(),
                name.as_ptr(),
                std::ptr::null_mut(),
            )
        };
        if ptr.is_null() {
            return None;
        }
        self.handles.push(Handle {
            name: topic.clone(),
            ptr,
        });
        Some(ptr)
    }

    /// Whether records of `topic` can go through a handle (and so join a run).
    pub fn usable(&mut self, topic: &Arc<str>) -> bool {
        self.handle(topic).is_some()
    }

    /// Hands one record to librdkafka, which copies its bytes. `Ok(false)`
    /// when there is no handle for the topic (the caller sends it by name).
    pub fn send(&mut self, topic: &Arc<str>, p: &Payload<'_>) -> Result<bool, RDKafkaErrorCode> {
        let Some(rkt) = self.handle(topic) else {
            return Ok(false);
        };
        let (key, key_len) = p.key.map_or((std::ptr::null_mut(), 0), |k| {
            (k.as_ptr() as *mut c_void, k.len())
        });
        let (value, value_len) = p.value.map_or((std::ptr::null_mut(), 0), |v| {
            (v.as_ptr() as *mut c_void, v.len())
        });
        use rd::rd_kafka_vtype_t::*;
        // SAFETY: `rkt` belongs to this producer's client and lives until
        // `self` drops; librdkafka copies key and value (MSG_F_COPY) before
        // returning; the opaque is a plain integer, never dereferenced; the
        // argument list is terminated by VTYPE_END and each value has the
        // C type its tag names.
        let err = unsafe {
            rd::rd_kafka_producev(
                self.producer.client().native_ptr(),
                RD_KAFKA_VTYPE_RKT,
                rkt,
                RD_KAFKA_VTYPE_PARTITION,
                p.partition.unwrap_or(-1),
                RD_KAFKA_VTYPE_MSGFLAGS,
                rd::RD_KAFKA_MSG_F_COPY,
                RD_KAFKA_VTYPE_VALUE,
                value,
                value_len,
                RD_KAFKA_VTYPE_KEY,
                key,
                key_len,
                RD_KAFKA_VTYPE_OPAQUE,
                p.opaque as *mut c_void,
                RD_KAFKA_VTYPE_TIMESTAMP,
                p.timestamp,
                RD_KAFKA_VTYPE_END,
            )
        };
        match RDKafkaErrorCode::from(err) {
            RDKafkaErrorCode::NoError => Ok(true),
            e => Err(e),
        }
    }

    /// Hands the run to librdkafka (which copies the bytes) and empties it.
    /// While librdkafka's queue is full, waits for room (calling `wait`)
    /// and hands over the rest, in order; any other refusal ends the call
    /// and is returned.
    pub fn send_run(
        &mut self,
        run: &mut Run,
        mut wait: impl FnMut(),
    ) -> Result<(), RDKafkaErrorCode> {
        let Some(topic) = run.topic.clone() else {
            return Ok(());
        };
        // Records join a run only once their topic has a handle.
        let Some(rkt) = self.handle(&topic) else {
            run.clear();
            return Err(RDKafkaErrorCode::UnknownTopic);
        };
        let mut from = 0;
        while from < run.entries.len() {
            let base = run.bytes.as_ptr();
            let at = |slice: Option<(usize, usize)>| {
                // SAFETY: every range was taken from `run.bytes` by `push`
                // and the buffer is not changed until the run is cleared.
                slice.map_or((std::ptr::null_mut(), 0), |(at, len)| {
                    (unsafe { base.add(at) } as *mut c_void, len)
                })
            };
            run.messages.clear();
            for e in &run.entries[from..] {
                let (key, key_len) = at(e.key);
                let (payload, len) = at(e.value);
                run.messages.push(rd::rd_kafka_message_t {
                    err: rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR,
                    rkt: std::ptr::null_mut(),
                    partition: e.partition,
                    payload,
                    len,
                    key,
                    key_len,
                    offset: 0,
                    _private: e.opaque as *mut c_void,
                });
            }
            let count = i32::try_from(run.messages.len()).unwrap_or(i32::MAX);
            // SAFETY: `rkt` belongs to this producer's client and lives
            // until `self` drops; the messages point into `run.bytes`, which
            // outlives the call, and librdkafka copies them (MSG_F_COPY);
            // each opaque is a plain integer, never dereferenced; `count`
            // does not exceed the array's length.
            unsafe {
                rd::rd_kafka_produce_batch(
                    rkt,
                    -1,
                    rd::RD_KAFKA_MSG_F_COPY | rd::RD_KAFKA_MSG_F_PARTITION,
                    run.messages.as_mut_ptr(),
                    count,
                );
            }
            // Messages before the first refusal are queued; after a full
            // queue every later one is refused too and is sent again.
            let refused = run
                .messages
                .iter()
                .position(|m| m.err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR);
            match refused {
                None => break,
                Some(i) => {
                    let err = RDKafkaErrorCode::from(run.messages[i].err);
                    if err != RDKafkaErrorCode::QueueFull {
                        run.clear();
                        return Err(err);
                    }
                    from += i;
                    wait();
                }
            }
        }
        run.clear();
        Ok(())
    }
}

impl<C: ProducerContext + 'static> Drop for TopicHandles<C> {
    fn drop(&mut self) {
        for h in self.handles.drain(..) {
            // SAFETY: each handle was created by rd_kafka_topic_new on this
            // producer's client, which is still alive, and is destroyed once.
            unsafe { rd::rd_kafka_topic_destroy(h.ptr) };
        }
    }
}

#[cfg(test)]
#[path = "topic_handles_tests.rs"]
mod tests;
