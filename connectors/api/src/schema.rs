//! Connect schemas: the types of Kafka Connect's data model with optional,
//! default, name, version, doc and parameters, and the logical types Decimal,
//! Date, Time and Timestamp.

use std::sync::Arc;

use crate::value::Value;

/// Kafka Connect's `Schema.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Type {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    String,
    Bytes,
    Array,
    Map,
    Struct,
}

impl Type {
    /// The name JsonConverter writes in schemas (`float` for FLOAT32, ...).
    pub fn json_name(self) -> &'static str {
        match self {
            Type::Int8 => "int8",
            Type::Int16 => "int16",
            Type::Int32 => "int32",
            Type::Int64 => "int64",
            Type::Float32 => "float",
            Type::Float64 => "double",
            Type::Boolean => "boolean",
            Type::String => "string",
            Type::Bytes => "bytes",
            Type::Array => "array",
            Type::Map => "map",
            Type::Struct => "struct",
        }
    }

    /// The inverse of [`Type::json_name`].
    pub fn from_json_name(name: &str) -> Option<Type> {
        Some(match name {
            "int8" => Type::Int8,
            "int16" => Type::Int16,
            "int32" => Type::Int32,
            "int64" => Type::Int64,
            "float" => Type::Float32,
            "double" => Type::Float64,
            "boolean" => Type::Boolean,
            "string" => Type::String,
            "bytes" => Type::Bytes,
            "array" => Type::Array,
            "map" => Type::Map,
            "struct" => Type::Struct,
            _ => return None,
        })
    }

    /// Kafka's upper-case name (`INT32`, `STRUCT`, ...), used in messages.
    pub fn upper_name(self) -> &'static str {
        match self {
            Type::Int8 => "INT8",
            Type::Int16 => "INT16",
            Type::Int32 => "INT32",
            Type::Int64 => "INT64",
            Type::Float32 => "FLOAT32",
            Type::Float64 => "FLOAT64",
            Type::Boolean => "BOOLEAN",
            Type::String => "STRING",
            Type::Bytes => "BYTES",
            Type::Array => "ARRAY",
            Type::Map => "MAP",
            Type::Struct => "STRUCT",
        }
    }
}

/// Names of the logical types.
pub mod logical {
    pub const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";
    pub const DATE: &str = "org.apache.kafka.connect.data.Date";
    pub const TIME: &str = "org.apache.kafka.connect.data.Time";
    pub const TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";
    /// The Decimal parameter holding the scale.
    pub const SCALE: &str = "scale";
}

/// A field of a struct schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub index: usize,
    pub schema: Arc<Schema>,
}

/// A Connect schema (Kafka's `ConnectSchema`, built like `SchemaBuilder`).
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub kind: Type,
    pub optional: bool,
    pub default: Option<Value>,
    pub name: Option<String>,
    pub version: Option<i32>,
    pub doc: Option<String>,
    /// In insertion order, as Kafka keeps them.
    pub parameters: Vec<(String, String)>,
    pub fields: Vec<Field>,
    /// Map keys.
    pub key: Option<Arc<Schema>>,
    /// Map values and array items.
    pub value: Option<Arc<Schema>>,
}

impl Schema {
    pub fn new(kind: Type) -> Self {
        Self {
            kind,
            optional: false,
            default: None,
            name: None,
            version: None,
            doc: None,
            parameters: Vec::new(),
            fields: Vec::new(),
            key: None,
            value: None,
        }
    }

    pub fn boolean() -> Self {
        Self::new(Type::Boolean)
    }
    pub fn int8() -> Self {
        Self::new(Type::Int8)
    }
    pub fn int16() -> Self {
        Self::new(Type::Int16)
    }
    pub fn int32() -> Self {
        Self::new(Type::Int32)
    }
    pub fn int64() -> Self {
        Self::new(Type::Int64)
    }
    pub fn float32() -> Self {
        Self::new(Type::Float32)
    }
    pub fn float64() -> Self {
        Self::new(Type::Float64)
    }
    pub fn string() -> Self {
        Self::new(Type::String)
    }
    pub fn bytes() -> Self {
        Self::new(Type::Bytes)
    }
    pub fn structure() -> Self {
        Self::new(Type::Struct)
    }

    pub fn array(items: Schema) -> Self {
        Self {
            value: Some(Arc::new(items)),
            ..Self::new(Type::Array)
        }
    }

    pub fn map(key: Schema, value: Schema) -> Self {
        Self {
            key: Some(Arc::new(key)),
            value: Some(Arc::new(value)),
            ..Self::new(Type::Map)
        }
    }

    /// `Decimal` with `scale`: BYTES holding the unscaled two's complement value.
    pub fn decimal(scale: i32) -> Self {
        Self::bytes()
            .named(logical::DECIMAL)
            .version(1)
            .parameter(logical::SCALE, &scale.to_string())
    }

    /// `Date`: INT32 days since the epoch.
    pub fn date() -> Self {
        Self::int32().named(logical::DATE).version(1)
    }

    /// `Time`: INT32 milliseconds since midnight.
    pub fn time() -> Self {
        Self::int32().named(logical::TIME).version(1)
    }

    /// `Timestamp`: INT64 milliseconds since the epoch.
    pub fn timestamp() -> Self {
        Self::int64().named(logical::TIMESTAMP).version(1)
    }

    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    pub fn version(mut self, v: i32) -> Self {
        self.version = Some(v);
        self
    }

    pub fn doc(mut self, doc: &str) -> Self {
        self.doc = Some(doc.to_string());
        self
    }

    pub fn parameter(mut self, key: &str, value: &str) -> Self {
        self.parameters.retain(|(k, _)| k != key);
        self.parameters.push((key.to_string(), value.to_string()));
        self
    }

    pub fn default_value(mut self, v: Value) -> Self {
        self.default = Some(v);
        self
    }

    /// Adds a field to a struct schema.
    pub fn field(mut self, name: &str, schema: Schema) -> Self {
        let index = self.fields.len();
        self.fields.push(Field {
            name: name.to_string(),
            index,
            schema: Arc::new(schema),
        });
        self
    }

    /// The field called `name`.
    pub fn field_named(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// A parameter's value.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The Decimal scale, when this is a Decimal schema.
    pub fn decimal_scale(&self) -> Option<i32> {
        if self.name.as_deref() != Some(logical::DECIMAL) {
            return None;
        }
        self.param(logical::SCALE).and_then(|s| s.parse().ok())
    }

    /// A short description for error messages, e.g. `INT32 (org...Date)`.
    pub fn describe(&self) -> String {
        match &self.name {
            Some(n) => format!("{} ({n})", self.kind.upper_name()),
            None => self.kind.upper_name().to_string(),
        }
    }
}
