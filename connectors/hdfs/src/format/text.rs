//! Line formats: JSON (a value per line, as JsonConverter writes it without
//! schemas), String (string values) and ByteArray (raw bytes and a
//! separator).

use connect_api::convert::{Converter, ConverterConfig, JsonConverter};
use connect_api::{SinkRecord, Value};

use super::RecordWriter;

/// `topic t partition p offset o`, how errors name a record.
pub fn coordinates(r: &SinkRecord) -> String {
    format!(
        "topic {} partition {} offset {}",
        r.original_topic, r.original_partition, r.original_offset
    )
}

pub struct JsonWriter(JsonConverter);

impl JsonWriter {
    pub fn new() -> Result<Self, String> {
        let cfg = ConverterConfig::from_pairs(&[("schemas.enable", "false")]);
        JsonConverter::new(&cfg).map(Self)
    }
}

impl RecordWriter for JsonWriter {
    fn write(&mut self, r: &SinkRecord, out: &mut Vec<u8>) -> Result<(), String> {
        match self.0.encode(&r.topic, &r.value) {
            Ok(Some(bytes)) => out.extend_from_slice(&bytes),
            Ok(None) => out.extend_from_slice(b"null"),
            Err(e) => return Err(format!("{} ({})", e.message(), coordinates(r))),
        }
        out.push(b'\n');
        Ok(())
    }

    fn finish(&mut self, _out: &mut Vec<u8>) -> Result<(), String> {
        Ok(())
    }
}

pub struct StringWriter;

impl RecordWriter for StringWriter {
    fn write(&mut self, r: &SinkRecord, out: &mut Vec<u8>) -> Result<(), String> {
        match &r.value.value {
            Value::String(s) => out.extend_from_slice(s.as_bytes()),
            other => {
                return Err(format!(
                    "StringFormat writes string values, but the record at {} has {} (use StringConverter, or JsonFormat)",
                    coordinates(r),
                    kind(other)
                ))
            }
        }
        out.push(b'\n');
        Ok(())
    }

    fn finish(&mut self, _out: &mut Vec<u8>) -> Result<(), String> {
        Ok(())
    }
}

fn kind(v: &Value) -> String {
    match v {
        Value::Null => "a null value".into(),
        other => format!("a {:?} value", other.inferred_type()).to_lowercase(),
    }
}

/// Raw bytes, each value followed by the separator.
pub struct ByteArrayWriter(pub Vec<u8>);

impl RecordWriter for ByteArrayWriter {
    fn write(&mut self, r: &SinkRecord, out: &mut Vec<u8>) -> Result<(), String> {
        match &r.value.value {
            Value::Bytes(b) => out.extend_from_slice(b),
            Value::String(s) => out.extend_from_slice(s.as_bytes()),
            other => {
                return Err(format!(
                    "ByteArrayFormat writes bytes, but the record at {} has {} (use ByteArrayConverter)",
                    coordinates(r),
                    kind(other)
                ))
            }
        }
        out.extend_from_slice(&self.0);
        Ok(())
    }

    fn finish(&mut self, _out: &mut Vec<u8>) -> Result<(), String> {
        Ok(())
    }
}

/// A value as JSON text, as JsonConverter writes it without schemas.
pub fn json_text(v: &Value) -> String {
    let cfg = ConverterConfig::from_pairs(&[("schemas.enable", "false")]);
    let data = connect_api::SchemaAndValue::new(None, v.clone());
    JsonConverter::new(&cfg)
        .ok()
        .and_then(|c| {
            c.encode("", &data)
                .ok()
                .flatten()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
        })
        .unwrap_or_else(|| "null".to_string())
}
