//! Source and sink records with their headers.

use serde_json::Map as JsonMap;
use serde_json::Value as Json;

use crate::convert::JsonText;
use crate::schema::Schema;
use crate::value::Value;
use std::sync::Arc;

/// A value with its (optional) schema.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaAndValue {
    pub schema: Option<Arc<Schema>>,
    pub value: Value,
}

impl SchemaAndValue {
    pub const NULL: SchemaAndValue = SchemaAndValue {
        schema: None,
        value: Value::Null,
    };

    pub fn new(schema: Option<Arc<Schema>>, value: Value) -> Self {
        Self { schema, value }
    }
}

/// One record header (Kafka Connect's `Header`).
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub key: String,
    pub value: SchemaAndValue,
}

/// Record headers in order; keys may repeat.
pub type Headers = Vec<Header>;

/// Where a source record came from and how far the source has read: both
/// JSON objects, stored by the runtime in the offsets store.
pub type SourcePartition = JsonMap<String, Json>;
pub type SourceOffset = JsonMap<String, Json>;

/// A record produced by a source task. The partition and topic are shared:
/// a task usually gives many records the same ones, so cloning them is a
/// reference count, not a copy.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    pub source_partition: Arc<SourcePartition>,
    /// `None` (Kafka's null offset): nothing to commit for this record; the
    /// offset of a later record of the same partition covers it.
    pub source_offset: Option<SourceOffset>,
    pub topic: Arc<str>,
    /// `None` lets the producer's partitioner choose.
    pub partition: Option<i32>,
    pub key: SchemaAndValue,
    /// Null while the value is still in [`SourceRecord::value_text`].
    pub value: SchemaAndValue,
    /// The value as schemaless JSON text, not decoded yet: a task that
    /// reads JSON lines in JsonConverter's form sets this (see
    /// [`SourceRecord::with_text`]) and the runtime decodes it into `value`
    /// only for what reads the value (a transform that looks at it, a
    /// converter other than JsonConverter, an error report).
    pub value_text: Option<JsonText>,
    /// Milliseconds since the epoch; `None` means the time of sending.
    pub timestamp: Option<i64>,
    pub headers: Headers,
}

impl SourceRecord {
    /// A record with no key, partition, timestamp or headers.
    pub fn new(
        source_partition: impl Into<Arc<SourcePartition>>,
        source_offset: Option<SourceOffset>,
        topic: impl Into<Arc<str>>,
        value: SchemaAndValue,
    ) -> Self {
        Self {
            source_partition: source_partition.into(),
            source_offset,
            topic: topic.into(),
            partition: None,
            key: SchemaAndValue::NULL,
            value,
            value_text: None,
            timestamp: None,
            headers: Vec::new(),
        }
    }

    /// This record with its value still in its JSON text.
    pub fn with_text(mut self, text: JsonText) -> Self {
        self.value = SchemaAndValue::NULL;
        self.value_text = Some(text);
        self
    }

    /// Decodes a value still in its text into `value`.
    pub fn decode_text(&mut self) {
        if let Some(t) = self.value_text.take() {
            self.value = t.data();
        }
    }
}

/// Kafka's timestamp types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampType {
    NoTimestamp,
    CreateTime,
    LogAppendTime,
}

/// A record delivered to a sink task.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: SchemaAndValue,
    pub value: SchemaAndValue,
    pub timestamp: Option<i64>,
    pub timestamp_type: TimestampType,
    pub headers: Headers,
    /// Topic, partition and offset before any transformation: what offsets
    /// are committed against.
    pub original_topic: String,
    pub original_partition: i32,
    pub original_offset: i64,
}

impl SinkRecord {
    /// A record as consumed (its original coordinates are its own), with a
    /// CreateTime timestamp when it has one.
    pub fn new(
        topic: &str,
        partition: i32,
        offset: i64,
        key: SchemaAndValue,
        value: SchemaAndValue,
        timestamp: Option<i64>,
    ) -> Self {
        Self {
            topic: topic.to_string(),
            partition,
            offset,
            key,
            value,
            timestamp,
            timestamp_type: if timestamp.is_some() {
                TimestampType::CreateTime
            } else {
                TimestampType::NoTimestamp
            },
            headers: Vec::new(),
            original_topic: topic.to_string(),
            original_partition: partition,
            original_offset: offset,
        }
    }
}

/// What transformations and predicates see of a record, source or sink
/// (Kafka's `ConnectRecord`): they change it in place.
pub trait ConnectRecord {
    fn topic(&self) -> &str;
    fn set_topic(&mut self, topic: &str);
    /// [`ConnectRecord::set_topic`] for a router that names the same
    /// topic for many records: a source record then shares it.
    fn set_topic_shared(&mut self, topic: &Arc<str>) {
        self.set_topic(topic);
    }
    /// The partition the record is (or will be) in, when known.
    fn kafka_partition(&self) -> Option<i32>;
    /// The record's offset in its partition: sink records only.
    fn kafka_offset(&self) -> Option<i64>;
    fn timestamp(&self) -> Option<i64>;
    fn key(&self) -> &SchemaAndValue;
    fn key_mut(&mut self) -> &mut SchemaAndValue;
    fn value(&self) -> &SchemaAndValue;
    fn value_mut(&mut self) -> &mut SchemaAndValue;
    fn headers(&self) -> &Headers;
    fn headers_mut(&mut self) -> &mut Headers;
    /// Makes [`ConnectRecord::value`] the record's value: a source record
    /// may still hold it as text. Called before anything that reads values.
    fn decode_value(&mut self) {}
}

impl ConnectRecord for SourceRecord {
    fn topic(&self) -> &str {
        &self.topic
    }
    fn set_topic(&mut self, topic: &str) {
        if *self.topic != *topic {
            self.topic = Arc::from(topic);
        }
    }
    fn set_topic_shared(&mut self, topic: &Arc<str>) {
        if !Arc::ptr_eq(&self.topic, topic) {
            self.topic = topic.clone();
        }
    }
    fn kafka_partition(&self) -> Option<i32> {
        self.partition
    }
    fn kafka_offset(&self) -> Option<i64> {
        None
    }
    fn timestamp(&self) -> Option<i64> {
        self.timestamp
    }
    fn key(&self) -> &SchemaAndValue {
        &self.key
    }
    fn key_mut(&mut self) -> &mut SchemaAndValue {
        &mut self.key
    }
    fn value(&self) -> &SchemaAndValue {
        &self.value
    }
    fn value_mut(&mut self) -> &mut SchemaAndValue {
        self.decode_text();
        &mut self.value
    }
    fn headers(&self) -> &Headers {
        &self.headers
    }
    fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }
    fn decode_value(&mut self) {
        self.decode_text();
    }
}

impl ConnectRecord for SinkRecord {
    fn topic(&self) -> &str {
        &self.topic
    }
    fn set_topic(&mut self, topic: &str) {
        if self.topic != topic {
            self.topic = topic.to_string();
        }
    }
    fn kafka_partition(&self) -> Option<i32> {
        Some(self.partition)
    }
    fn kafka_offset(&self) -> Option<i64> {
        Some(self.offset)
    }
    fn timestamp(&self) -> Option<i64> {
        self.timestamp
    }
    fn key(&self) -> &SchemaAndValue {
        &self.key
    }
    fn key_mut(&mut self) -> &mut SchemaAndValue {
        &mut self.key
    }
    fn value(&self) -> &SchemaAndValue {
        &self.value
    }
    fn value_mut(&mut self) -> &mut SchemaAndValue {
        &mut self.value
    }
    fn headers(&self) -> &Headers {
        &self.headers
    }
    fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }
}
