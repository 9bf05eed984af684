//! Kafka Connect's single message transforms and predicates, as pure
//! functions over Weir's Connect records: no I/O, no runtime code.
//!
//! Each transform is built from its own settings (the `transforms.<alias>.`
//! prefix removed) and changes a record in place; returning `false` drops
//! it. [`Chain`] reads a connector's `transforms=` and `predicates=` settings
//! and applies the stages in order, each guarded by its predicate.
//!
//! ```
//! use connect_api::{ConnectRecord, SchemaAndValue, SourceRecord, Value};
//! use connect_transforms::Chain;
//!
//! let props = [
//!     ("transforms", "hoist,route"),
//!     ("transforms.hoist.type", "org.apache.kafka.connect.transforms.HoistField$Value"),
//!     ("transforms.hoist.field", "line"),
//!     ("transforms.route.type", "RegexRouter"),
//!     ("transforms.route.regex", "(.*)-raw"),
//!     ("transforms.route.replacement", "$1-lines"),
//! ]
//! .into_iter()
//! .map(|(k, v)| (k.to_string(), v.to_string()))
//! .collect();
//! let mut chain = Chain::from_props(&props).expect("valid settings");
//! let mut record = SourceRecord::new(
//!     serde_json::Map::new(),
//!     None,
//!     "logs-raw",
//!     SchemaAndValue::new(None, Value::String("hello".into())),
//! );
//! assert!(chain.apply(&mut record).expect("transforms"));
//! assert_eq!(record.topic(), "logs-lines");
//! assert_eq!(
//!     record.value().value,
//!     Value::Map(vec![(Value::String("line".into()), Value::String("hello".into()))])
//! );
//! ```

mod cast;
mod chain;
pub mod datetime;
mod extract_field;
mod flatten;
pub mod flume;
mod header_from;
mod headers;
mod hoist_field;
mod insert_field;
mod mask_field;
mod path;
mod predicates;
mod registry;
mod replace_field;
mod routers;
mod set_schema_metadata;
mod timestamp_converter;
pub mod util;
mod value_to_key;

use connect_api::{ConnectRecord, ConnectResult};

pub use chain::{predicate_keys, stage_keys, Chain, StageError};
pub use registry::{
    find_predicate, find_transform, predicates, transforms, PredicatePlugin, TransformPlugin,
};

/// A single message transform. Called on the task's thread, one record at
/// a time; `&mut self` lets it keep caches without locks.
pub trait Transformation: Send {
    /// Transforms `record` in place; `Ok(false)` drops it.
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool>;
    /// Whether it reads or changes the record's value. One that does not
    /// (a router, a header transform) lets a source record keep its value
    /// as the text it was read as.
    fn reads_value(&self) -> bool {
        true
    }
}

/// A condition that decides whether a transform applies to a record.
pub trait Predicate: Send {
    fn test(&mut self, record: &dyn ConnectRecord) -> bool;
    /// As [`Transformation::reads_value`].
    fn reads_value(&self) -> bool {
        true
    }
}
