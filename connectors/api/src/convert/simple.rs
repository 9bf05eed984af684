//! StringConverter, ByteArrayConverter, the number and boolean converters
//! (Kafka's serializers: big-endian fixed width) and SimpleHeaderConverter.

use std::borrow::Cow;
use std::sync::Arc;

use crate::{ConnectError, ConnectResult, Schema, SchemaAndValue, Type, Value};

use super::{Converter, ConverterConfig, Encoded};
use crate::text::value_text;

/// Kafka's `StringConverter` (UTF-8).
pub struct StringConverter;

impl StringConverter {
    pub fn new(cfg: &ConverterConfig) -> Result<Self, String> {
        match cfg.get("converter.encoding") {
            None => Ok(Self),
            Some(e) if e.eq_ignore_ascii_case("UTF-8") || e.eq_ignore_ascii_case("UTF8") => {
                Ok(Self)
            }
            Some(e) => Err(format!(
                "Invalid value {e} for configuration converter.encoding: only UTF-8 is supported"
            )),
        }
    }
}

impl Converter for StringConverter {
    fn encode<'a>(&self, _: &str, data: &'a SchemaAndValue) -> Encoded<'a> {
        Ok(match &data.value {
            Value::Null => None,
            Value::String(s) => Some(Cow::Borrowed(s.as_bytes())),
            v => Some(Cow::Owned(value_text(v).into_bytes())),
        })
    }

    fn decode(&self, _: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        let schema = Some(Arc::new(Schema::string().optional()));
        Ok(match bytes {
            None => SchemaAndValue::new(schema, Value::Null),
            Some(b) => SchemaAndValue::new(
                schema,
                Value::String(String::from_utf8_lossy(b).into_owned()),
            ),
        })
    }
}

/// Kafka's `ByteArrayConverter`: bytes pass through unchanged.
pub struct ByteArrayConverter;

impl Converter for ByteArrayConverter {
    fn encode<'a>(&self, topic: &str, data: &'a SchemaAndValue) -> Encoded<'a> {
        if let Some(s) = &data.schema {
            if s.kind != Type::Bytes {
                return Err(ConnectError::data(format!(
                    "Invalid schema type for ByteArrayConverter: {} (topic {topic})",
                    s.kind.upper_name()
                )));
            }
        }
        match &data.value {
            Value::Null => Ok(None),
            Value::Bytes(b) => Ok(Some(Cow::Borrowed(b))),
            other => Err(ConnectError::data(format!(
                "ByteArrayConverter is not compatible with objects of type {}",
                other.inferred_type().map_or("null", |t| t.upper_name())
            ))),
        }
    }

    fn decode(&self, _: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        let schema = Some(Arc::new(Schema::bytes().optional()));
        Ok(SchemaAndValue::new(
            schema,
            bytes.map_or(Value::Null, |b| Value::Bytes(b.to_vec())),
        ))
    }
}

/// Kafka's Short/Integer/Long/Float/Double/BooleanConverter.
pub struct NumberConverter {
    kind: Type,
}

impl NumberConverter {
    pub fn named(short_name: &str) -> Result<Self, String> {
        let kind = match short_name {
            "ShortConverter" => Type::Int16,
            "IntegerConverter" => Type::Int32,
            "LongConverter" => Type::Int64,
            "FloatConverter" => Type::Float32,
            "DoubleConverter" => Type::Float64,
            "BooleanConverter" => Type::Boolean,
            other => return Err(format!("{other} is not a number converter")),
        };
        Ok(Self { kind })
    }
}

impl Converter for NumberConverter {
    fn encode<'a>(&self, _: &str, data: &'a SchemaAndValue) -> Encoded<'a> {
        Ok(Some(Cow::Owned(match (self.kind, &data.value) {
            (_, Value::Null) => return Ok(None),
            (Type::Int16, Value::Int16(n)) => n.to_be_bytes().to_vec(),
            (Type::Int32, Value::Int32(n)) => n.to_be_bytes().to_vec(),
            (Type::Int64, Value::Int64(n)) => n.to_be_bytes().to_vec(),
            (Type::Float32, Value::Float32(f)) => f.to_be_bytes().to_vec(),
            (Type::Float64, Value::Float64(f)) => f.to_be_bytes().to_vec(),
            (Type::Boolean, Value::Boolean(b)) => vec![u8::from(*b)],
            (kind, v) => {
                return Err(ConnectError::data(format!(
                    "Failed to serialize to {} (was {})",
                    kind.upper_name(),
                    v.inferred_type().map_or("null", |t| t.upper_name())
                )))
            }
        })))
    }

    fn decode(&self, topic: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        let schema = Some(Arc::new(Schema::new(self.kind).optional()));
        let Some(b) = bytes else {
            return Ok(SchemaAndValue::new(schema, Value::Null));
        };
        let size = match self.kind {
            Type::Int16 => 2,
            Type::Int32 | Type::Float32 => 4,
            Type::Int64 | Type::Float64 => 8,
            _ => 1,
        };
        let arr = |n: usize| -> ConnectResult<&[u8]> {
            if b.len() == n {
                Ok(b)
            } else {
                Err(ConnectError::data(format!(
                    "Failed to deserialize {} from topic {topic}: size of data received is {}, not {n}",
                    self.kind.upper_name(),
                    b.len()
                )))
            }
        };
        let d = arr(size)?;
        let v = match self.kind {
            Type::Int16 => Value::Int16(i16::from_be_bytes([d[0], d[1]])),
            Type::Int32 => Value::Int32(i32::from_be_bytes([d[0], d[1], d[2], d[3]])),
            Type::Float32 => Value::Float32(f32::from_be_bytes([d[0], d[1], d[2], d[3]])),
            Type::Int64 => Value::Int64(i64::from_be_bytes([
                d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7],
            ])),
            Type::Float64 => Value::Float64(f64::from_be_bytes([
                d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7],
            ])),
            _ => Value::Boolean(d[0] != 0),
        };
        Ok(SchemaAndValue::new(schema, v))
    }
}

/// Kafka's `SimpleHeaderConverter`: values are written as text and their type
/// is inferred on reading (booleans, integers of the smallest fitting width,
/// doubles, else strings).
pub struct SimpleHeaderConverter;

impl Converter for SimpleHeaderConverter {
    /// Values are written as StringConverter writes them.
    fn encode<'a>(&self, topic: &str, data: &'a SchemaAndValue) -> Encoded<'a> {
        StringConverter.encode(topic, data)
    }

    fn decode(&self, _: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        let Some(b) = bytes else {
            return Ok(SchemaAndValue::NULL);
        };
        Ok(crate::text::parse_string(&String::from_utf8_lossy(b)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sv(v: Value) -> SchemaAndValue {
        SchemaAndValue::new(None, v)
    }

    #[test]
    fn numbers_use_kafka_serializer_bytes() {
        let c = NumberConverter::named("IntegerConverter").expect("known");
        let b = c
            .encode("t", &sv(Value::Int32(258)))
            .expect("ok")
            .expect("bytes")
            .into_owned();
        assert_eq!(b, vec![0, 0, 1, 2]);
        assert_eq!(
            c.decode("t", Some(&b)).expect("ok").value,
            Value::Int32(258)
        );
        let err = c.decode("t", Some(&[1, 2])).expect_err("short");
        assert!(
            err.to_string()
                .contains("size of data received is 2, not 4"),
            "{err}"
        );
        let d = NumberConverter::named("DoubleConverter").expect("known");
        let b = d
            .encode("t", &sv(Value::Float64(1.5)))
            .expect("ok")
            .expect("bytes")
            .into_owned();
        assert_eq!(b, 1.5f64.to_be_bytes().to_vec());
    }

    #[test]
    fn string_and_bytes_pass_through() {
        let s = StringConverter;
        assert_eq!(
            s.encode("t", &sv(Value::Int64(42))).expect("ok"),
            Some(Cow::Borrowed(&b"42"[..]))
        );
        assert_eq!(s.encode("t", &sv(Value::Null)).expect("ok"), None);
        assert_eq!(
            s.decode("t", Some("héllo".as_bytes())).expect("ok").value,
            Value::String("héllo".into())
        );
        let b = ByteArrayConverter;
        assert!(b.encode("t", &sv(Value::String("x".into()))).is_err());
    }

    #[test]
    fn header_values_are_inferred() {
        let h = SimpleHeaderConverter;
        let read = |s: &str| h.decode("t", Some(s.as_bytes())).expect("ok").value;
        assert_eq!(read("true"), Value::Boolean(true));
        assert_eq!(read("12"), Value::Int8(12));
        assert_eq!(read("70000"), Value::Int32(70000));
        assert_eq!(read("2.5"), Value::Float32(2.5));
        assert_eq!(read("hello"), Value::String("hello".into()));
    }
}
