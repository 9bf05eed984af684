//! Producing through librdkafka topic handles. The client crate's `send`
//! names the topic by string, so every record costs a C string and a
//! lookup of the topic under librdkafka's lock; a source task writes to
//! few topics, so it keeps one handle per topic and names that instead.
//! Records with headers still go through the crate (its header type owns
//! a native pointer that only it can hand over).

#![allow(unsafe_code)]

use std::ffi::{c_void, CString};
use std::sync::Arc;

use rdkafka::bindings as rd;
use rdkafka::producer::{Producer, ProducerContext, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;

/// One librdkafka topic handle, destroyed with it.
struct Handle {
    name: Arc<str>,
    ptr: *mut rd::rd_kafka_topic_t,
}

/// The topic handles of one producer. Holds the producer so that every
/// handle is destroyed before it.
pub(crate) struct TopicHandles<C: ProducerContext + 'static> {
    handles: Vec<Handle>,
    producer: Arc<ThreadedProducer<C>>,
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

impl<C: ProducerContext<DeliveryOpaque = usize> + 'static> TopicHandles<C> {
    pub fn new(producer: Arc<ThreadedProducer<C>>) -> Self {
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
