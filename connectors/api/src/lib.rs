//! The Connect API of Weir: the data model (schemas, values, structs,
//! logical types), source and sink records, the connector and task traits
//! with their contexts, typed config definitions, `ConnectError`, and the
//! converters between Connect data and record bytes (Kafka's JsonConverter,
//! StringConverter, ...), which storage connectors also use for their files.

pub mod config;
pub mod connector;
pub mod convert;
pub mod error;
pub mod event;
pub mod record;
pub mod schema;
pub mod text;
pub mod value;

pub use config::{
    ConfigDef, ConfigKey, ConfigType, ConfigValue, DefaultValue, Importance, Validator,
};
pub use connector::{
    Connector, ConnectorContext, ConnectorKind, ErrantRecordReporter, LocalAccess, OffsetReader,
    Offsets, Plugin, Props, RecordMetadata, SinkTask, SinkTaskContext, SourceTask,
    SourceTaskContext, TaskFactory, TopicPartition,
};
pub use error::{ConnectError, ConnectResult};
pub use record::{
    ConnectRecord, Header, Headers, SchemaAndValue, SinkRecord, SourceRecord, TimestampType,
};
pub use schema::{Field, Schema, Type};
pub use value::{Decimal, Struct, Value};
