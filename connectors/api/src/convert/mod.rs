//! Converters between Connect data and record bytes, selected by Kafka's
//! class names (or their short names): JsonConverter, StringConverter,
//! ByteArrayConverter, the number and boolean converters, and
//! SimpleHeaderConverter for headers.

mod json;
mod json_canonical;
mod json_scan;
mod json_text;
pub mod plain_json;
mod simple;

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::{ConnectResult, SchemaAndValue};

pub use json::JsonConverter;
pub use json_canonical::JsonText;
pub use simple::{ByteArrayConverter, NumberConverter, SimpleHeaderConverter, StringConverter};

/// Turns Connect data into record bytes and back.
/// What `Converter::encode` gives: the record bytes, or `None` for null.
pub type Encoded<'a> = ConnectResult<Option<Cow<'a, [u8]>>>;

pub trait Converter: Send + Sync {
    /// Connect data to record bytes (`fromConnectData`); `None` is a null
    /// record key or value (a tombstone). Bytes the data already holds (a
    /// string's, a byte array's) are borrowed, not copied.
    fn encode<'a>(&self, topic: &str, data: &'a SchemaAndValue) -> Encoded<'a>;
    /// Record bytes to Connect data (`toConnectData`).
    fn decode(&self, topic: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue>;
    /// A schemaless value still in its JSON text: what [`Converter::encode`]
    /// writes for the value it holds. A converter that writes that text as
    /// it is (JsonConverter) borrows it.
    fn encode_text<'a>(&self, topic: &str, text: &'a JsonText) -> Encoded<'a> {
        Ok(self
            .encode(topic, &text.data())?
            .map(|c| Cow::Owned(c.into_owned())))
    }
}

/// A converter's own settings (the `key.converter.` / `value.converter.`
/// prefix already removed) and whether it converts keys.
#[derive(Debug, Clone, Default)]
pub struct ConverterConfig {
    props: BTreeMap<String, String>,
    pub is_key: bool,
}

impl ConverterConfig {
    /// The settings under `prefix` (e.g. `value.converter.`) of a config.
    pub fn from_prefixed(all: &BTreeMap<String, String>, prefix: &str, is_key: bool) -> Self {
        let props = all
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(prefix).map(|k| (k.to_string(), v.clone())))
            .collect();
        Self { props, is_key }
    }

    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Self {
            props: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            is_key: false,
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.props.get(key).map(String::as_str)
    }

    /// A boolean setting; the error names the key.
    pub fn bool(&self, key: &str, default: bool) -> Result<bool, String> {
        match self.get(key).map(str::trim) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(format!(
                "Invalid value {v} for configuration {key}: Expected value to be either true or false"
            )),
        }
    }
}

/// Kafka's class names of the converters, with their short names.
pub const CONVERTER_CLASSES: &[(&str, &str)] = &[
    (
        "org.apache.kafka.connect.json.JsonConverter",
        "JsonConverter",
    ),
    (
        "org.apache.kafka.connect.storage.StringConverter",
        "StringConverter",
    ),
    (
        "org.apache.kafka.connect.converters.ByteArrayConverter",
        "ByteArrayConverter",
    ),
    (
        "org.apache.kafka.connect.converters.ShortConverter",
        "ShortConverter",
    ),
    (
        "org.apache.kafka.connect.converters.IntegerConverter",
        "IntegerConverter",
    ),
    (
        "org.apache.kafka.connect.converters.LongConverter",
        "LongConverter",
    ),
    (
        "org.apache.kafka.connect.converters.FloatConverter",
        "FloatConverter",
    ),
    (
        "org.apache.kafka.connect.converters.DoubleConverter",
        "DoubleConverter",
    ),
    (
        "org.apache.kafka.connect.converters.BooleanConverter",
        "BooleanConverter",
    ),
    (
        "org.apache.kafka.connect.storage.SimpleHeaderConverter",
        "SimpleHeaderConverter",
    ),
];

/// Kafka's full class name for a converter named by its class or short name.
pub fn class_name(class: &str) -> String {
    CONVERTER_CLASSES
        .iter()
        .find(|(full, short)| *full == class.trim() || *short == class.trim())
        .map_or_else(|| class.trim().to_string(), |(full, _)| full.to_string())
}

/// The converter named by `class` (Kafka's class name or its short name).
pub fn converter(class: &str, cfg: &ConverterConfig) -> Result<Box<dyn Converter>, String> {
    let short = CONVERTER_CLASSES
        .iter()
        .find(|(full, short)| *full == class.trim() || *short == class.trim())
        .map(|(_, short)| *short)
        .ok_or_else(|| {
            format!(
                "Class {class} could not be found. Known converters: {}",
                CONVERTER_CLASSES
                    .iter()
                    .map(|(full, _)| *full)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
    Ok(match short {
        "JsonConverter" => Box::new(JsonConverter::new(cfg)?),
        "StringConverter" => Box::new(StringConverter::new(cfg)?),
        "ByteArrayConverter" => Box::new(ByteArrayConverter),
        "SimpleHeaderConverter" => Box::new(SimpleHeaderConverter),
        number => Box::new(NumberConverter::named(number)?),
    })
}
