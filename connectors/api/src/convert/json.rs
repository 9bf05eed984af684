//! JsonConverter with Kafka's byte layout: the `{"schema":…,"payload":…}`
//! envelope when `schemas.enable=true` (the default), plain JSON otherwise,
//! Kafka's schema layout and key order, base64 bytes, and decimals as base64
//! or numbers (`decimal.format`).

use std::borrow::Cow;
use std::sync::Arc;

use crate::schema::logical;
use crate::text::{java_double_text, java_float_text};
use crate::{ConnectError, ConnectResult, Decimal, Schema, SchemaAndValue, Struct, Type, Value};
use base64::Engine;
use parking_lot::Mutex;
use serde_json::{Map, Number, Value as Json};

use super::{Converter, ConverterConfig, Encoded, JsonText};

const ENVELOPE_ERROR: &str = "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DecimalFormat {
    Base64,
    Numeric,
}

/// Kafka's `org.apache.kafka.connect.json.JsonConverter`.
#[derive(Debug)]
pub struct JsonConverter {
    schemas_enable: bool,
    decimal_format: DecimalFormat,
    replace_null_with_default: bool,
    /// The envelope's schema text for the schema last seen: tasks usually
    /// give every record the same `Arc<Schema>`, so it is written once.
    schema_text: Mutex<Option<(Arc<Schema>, String)>>,
}

/// An integer as JSON, without the formatter's machinery.
fn write_int<I: itoa::Integer>(out: &mut Vec<u8>, n: I) -> std::io::Result<()> {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    Ok(())
}

impl JsonConverter {
    pub fn new(cfg: &ConverterConfig) -> Result<Self, String> {
        let decimal_format = match cfg.get("decimal.format").map(|s| s.to_ascii_uppercase()) {
            None => DecimalFormat::Base64,
            Some(f) if f == "BASE64" => DecimalFormat::Base64,
            Some(f) if f == "NUMERIC" => DecimalFormat::Numeric,
            Some(f) => {
                return Err(format!(
                    "Invalid value {f} for configuration decimal.format: String must be one of: BASE64, NUMERIC"
                ))
            }
        };
        Ok(Self {
            schemas_enable: cfg.bool("schemas.enable", true)?,
            decimal_format,
            replace_null_with_default: cfg.bool("replace.null.with.default", true)?,
            schema_text: Mutex::new(None),
        })
    }

    /// Kafka's `asJsonSchema`.
    pub fn schema_to_json(&self, schema: &Schema) -> Json {
        let mut m = Map::new();
        m.insert("type".into(), Json::String(schema.kind.json_name().into()));
        match schema.kind {
            Type::Array => {
                if let Some(items) = &schema.value {
                    m.insert("items".into(), self.schema_to_json(items));
                }
            }
            Type::Map => {
                if let (Some(k), Some(v)) = (&schema.key, &schema.value) {
                    m.insert("keys".into(), self.schema_to_json(k));
                    m.insert("values".into(), self.schema_to_json(v));
                }
            }
            Type::Struct => {
                let fields = schema
                    .fields
                    .iter()
                    .map(|f| {
                        let mut j = self.schema_to_json(&f.schema);
                        if let Json::Object(o) = &mut j {
                            o.insert("field".into(), Json::String(f.name.clone()));
                        }
                        j
                    })
                    .collect();
                m.insert("fields".into(), Json::Array(fields));
            }
            _ => {}
        }
        m.insert("optional".into(), Json::Bool(schema.optional));
        if let Some(n) = &schema.name {
            m.insert("name".into(), Json::String(n.clone()));
        }
        if let Some(v) = schema.version {
            m.insert("version".into(), Json::from(v));
        }
        if let Some(d) = &schema.doc {
            m.insert("doc".into(), Json::String(d.clone()));
        }
        if !schema.parameters.is_empty() {
            let p = schema
                .parameters
                .iter()
                .map(|(k, v)| (k.clone(), Json::String(v.clone())))
                .collect();
            m.insert("parameters".into(), Json::Object(p));
        }
        if let Some(d) = &schema.default {
            if let Ok(j) = self.value_to_json(Some(schema), d) {
                m.insert("default".into(), j);
            }
        }
        Json::Object(m)
    }

    /// Kafka's `convertToJson`.
    pub fn value_to_json(&self, schema: Option<&Schema>, value: &Value) -> ConnectResult<Json> {
        let value = match (value, schema) {
            (Value::Null, Some(s)) if self.replace_null_with_default && s.default.is_some() => {
                s.default.as_ref().unwrap_or(&Value::Null)
            }
            _ => value,
        };
        Ok(match value {
            Value::Null => {
                if let Some(s) = schema {
                    if !s.optional && s.default.is_none() {
                        return Err(ConnectError::data(
                            "Conversion error: null value for field that is required and has no default value",
                        ));
                    }
                }
                Json::Null
            }
            Value::Boolean(b) => Json::Bool(*b),
            Value::Int8(n) => Json::from(*n),
            Value::Int16(n) => Json::from(*n),
            Value::Int32(n) | Value::Date(n) | Value::Time(n) => Json::from(*n),
            Value::Int64(n) | Value::Timestamp(n) => Json::from(*n),
            Value::Float32(f) => float(f64::from(*f), java_float_text(*f))?,
            Value::Float64(f) => float(*f, java_double_text(*f))?,
            Value::String(s) => Json::String(s.clone()),
            Value::Bytes(b) => Json::String(base64::engine::general_purpose::STANDARD.encode(b)),
            Value::Decimal(d) => match self.decimal_format {
                DecimalFormat::Base64 => Json::String(
                    base64::engine::general_purpose::STANDARD.encode(d.unscaled_bytes()),
                ),
                DecimalFormat::Numeric => Json::Number(
                    number(&d.to_plain_string())
                        .ok_or_else(|| ConnectError::data("decimal out of range"))?,
                ),
            },
            Value::Array(items) => Json::Array(
                items
                    .iter()
                    .map(|v| self.value_to_json(schema.and_then(|s| s.value.as_deref()), v))
                    .collect::<ConnectResult<_>>()?,
            ),
            Value::Map(entries) => {
                let key_schema = schema.and_then(|s| s.key.as_deref());
                let value_schema = schema.and_then(|s| s.value.as_deref());
                let string_keys = match key_schema {
                    Some(k) => k.kind == Type::String,
                    None => entries.iter().all(|(k, _)| matches!(k, Value::String(_))),
                };
                if string_keys {
                    let mut o = Map::new();
                    for (k, v) in entries {
                        let Value::String(k) = k else {
                            return Err(ConnectError::data("map key is not a string"));
                        };
                        o.insert(k.clone(), self.value_to_json(value_schema, v)?);
                    }
                    Json::Object(o)
                } else {
                    Json::Array(
                        entries
                            .iter()
                            .map(|(k, v)| {
                                Ok(Json::Array(vec![
                                    self.value_to_json(key_schema, k)?,
                                    self.value_to_json(value_schema, v)?,
                                ]))
                            })
                            .collect::<ConnectResult<_>>()?,
                    )
                }
            }
            Value::Struct(s) => {
                let mut o = Map::new();
                for (f, v) in s.schema.fields.iter().zip(s.values()) {
                    o.insert(f.name.clone(), self.value_to_json(Some(&f.schema), v)?);
                }
                Json::Object(o)
            }
        })
    }

    /// `value_to_json` and `write_compact` in one pass, without building
    /// the JSON tree: the same text, for every record a task writes.
    fn write_value(
        &self,
        schema: Option<&Schema>,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> ConnectResult<()> {
        use std::io::Write as _;
        let value = match (value, schema) {
            (Value::Null, Some(s)) if self.replace_null_with_default && s.default.is_some() => {
                s.default.as_ref().unwrap_or(&Value::Null)
            }
            _ => value,
        };
        let b64 = |out: &mut Vec<u8>, bytes: &[u8]| {
            // Encoded straight into `out`: no string per value.
            out.push(b'"');
            let at = out.len();
            let len = base64::encoded_len(bytes.len(), true).unwrap_or(0);
            out.resize(at + len, 0);
            let written = base64::engine::general_purpose::STANDARD
                .encode_slice(bytes, &mut out[at..])
                .unwrap_or(0);
            out.truncate(at + written);
            out.push(b'"');
        };
        // serde_json's escaping, as `Json::String(..).to_string()` writes it.
        let text = super::json_text::write_str;
        let _ = match value {
            Value::Null => {
                if let Some(s) = schema {
                    if !s.optional && s.default.is_none() {
                        return Err(ConnectError::data(
                            "Conversion error: null value for field that is required and has no default value",
                        ));
                    }
                }
                out.write_all(b"null")
            }
            Value::Boolean(b) => out.write_all(if *b { b"true" } else { b"false" }),
            Value::Int8(n) => write_int(out, *n),
            Value::Int16(n) => write_int(out, *n),
            Value::Int32(n) | Value::Date(n) | Value::Time(n) => write_int(out, *n),
            Value::Int64(n) | Value::Timestamp(n) => write_int(out, *n),
            Value::Float32(f) if f.is_finite() => out.write_all(java_float_text(*f).as_bytes()),
            Value::Float64(f) if f.is_finite() => out.write_all(java_double_text(*f).as_bytes()),
            Value::Float32(f) => {
                text(out, &java_float_text(*f));
                Ok(())
            }
            Value::Float64(f) => {
                text(out, &java_double_text(*f));
                Ok(())
            }
            Value::String(s) => {
                text(out, s);
                Ok(())
            }
            Value::Bytes(b) => {
                b64(out, b);
                Ok(())
            }
            Value::Decimal(d) => match self.decimal_format {
                DecimalFormat::Base64 => {
                    b64(out, &d.unscaled_bytes());
                    Ok(())
                }
                DecimalFormat::Numeric => out.write_all(d.to_plain_string().as_bytes()),
            },
            Value::Array(items) => {
                out.push(b'[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write_value(schema.and_then(|s| s.value.as_deref()), v, out)?;
                }
                out.write_all(b"]")
            }
            Value::Map(entries) => {
                let key_schema = schema.and_then(|s| s.key.as_deref());
                let string_keys = match key_schema {
                    Some(k) => k.kind == Type::String,
                    None => entries.iter().all(|(k, _)| matches!(k, Value::String(_))),
                };
                let distinct = || {
                    if entries.len() <= 16 {
                        // Few keys: comparing each with those before it
                        // beats building a set.
                        return entries
                            .iter()
                            .enumerate()
                            .all(|(i, (k, _))| entries[..i].iter().all(|(e, _)| e != k));
                    }
                    let mut seen = std::collections::HashSet::with_capacity(entries.len());
                    entries.iter().all(|(k, _)| match k {
                        Value::String(k) => seen.insert(k.as_str()),
                        _ => false,
                    })
                };
                if !string_keys || !distinct() {
                    // Pairs, or an object whose repeated keys keep their
                    // first place and last value: the tree does that.
                    let j = self.value_to_json(schema, value)?;
                    let mut t = String::new();
                    write_compact(&j, &mut t);
                    return out
                        .write_all(t.as_bytes())
                        .map_err(|e| ConnectError::data(e.to_string()));
                }
                let value_schema = schema.and_then(|s| s.value.as_deref());
                out.push(b'{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    if let Value::String(k) = k {
                        text(out, k);
                    }
                    out.push(b':');
                    self.write_value(value_schema, v, out)?;
                }
                out.write_all(b"}")
            }
            Value::Struct(s) => {
                out.push(b'{');
                for (i, (f, v)) in s.schema.fields.iter().zip(s.values()).enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    text(out, &f.name);
                    out.push(b':');
                    self.write_value(Some(&f.schema), v, out)?;
                }
                out.write_all(b"}")
            }
        };
        Ok(())
    }

    /// Kafka's `asConnectSchema`.
    pub fn schema_from_json(&self, j: &Json) -> ConnectResult<Schema> {
        let o = j
            .as_object()
            .ok_or_else(|| ConnectError::data("Schema must be a JSON object"))?;
        let type_name = o
            .get("type")
            .and_then(Json::as_str)
            .ok_or_else(|| ConnectError::data("Schema must contain 'type' field"))?;
        let kind = Type::from_json_name(type_name)
            .ok_or_else(|| ConnectError::data(format!("Unknown schema type: {type_name}")))?;
        let mut s = match kind {
            Type::Array => {
                Schema::array(self.schema_from_json(o.get("items").ok_or_else(|| {
                    ConnectError::data("Array schema did not specify the items type")
                })?)?)
            }
            Type::Map => Schema::map(
                self.schema_from_json(o.get("keys").ok_or_else(|| {
                    ConnectError::data("Map schema did not specify the key type")
                })?)?,
                self.schema_from_json(o.get("values").ok_or_else(|| {
                    ConnectError::data("Map schema did not specify the value type")
                })?)?,
            ),
            Type::Struct => {
                let fields = o.get("fields").and_then(Json::as_array).ok_or_else(|| {
                    ConnectError::data("Struct schema's \"fields\" argument is not an array.")
                })?;
                let mut st = Schema::structure();
                for f in fields {
                    let name = f.get("field").and_then(Json::as_str).ok_or_else(|| {
                        ConnectError::data("Struct schema's field name not specified properly")
                    })?;
                    st = st.field(name, self.schema_from_json(f)?);
                }
                st
            }
            other => Schema::new(other),
        };
        s.optional = o.get("optional").and_then(Json::as_bool).unwrap_or(true);
        s.name = o.get("name").and_then(Json::as_str).map(str::to_string);
        s.version = o
            .get("version")
            .and_then(Json::as_i64)
            .and_then(|v| i32::try_from(v).ok());
        s.doc = o.get("doc").and_then(Json::as_str).map(str::to_string);
        if let Some(Json::Object(p)) = o.get("parameters") {
            for (k, v) in p {
                let v = v.as_str().ok_or_else(|| {
                    ConnectError::data("Schema parameters must have string values.")
                })?;
                s = s.parameter(k, v);
            }
        }
        if let Some(d) = o.get("default").filter(|d| !d.is_null()) {
            let v = self.json_to_value(Some(&s), d)?;
            s.default = Some(v);
        }
        Ok(s)
    }

    /// Kafka's `convertToConnect`.
    pub fn json_to_value(&self, schema: Option<&Schema>, j: &Json) -> ConnectResult<Value> {
        let Some(schema) = schema else {
            return Ok(schemaless(j));
        };
        if j.is_null() {
            return match (&schema.default, schema.optional) {
                (Some(d), _) if self.replace_null_with_default => Ok(d.clone()),
                (_, true) | (Some(_), _) => Ok(Value::Null),
                _ => Err(ConnectError::data(format!(
                    "Invalid null value for required {} field",
                    schema.kind.upper_name()
                ))),
            };
        }
        let wrong = || {
            ConnectError::data(format!(
                "Invalid JSON for {} schema: {j}",
                schema.kind.upper_name()
            ))
        };
        let int = |min: i64, max: i64| -> ConnectResult<i64> {
            j.as_i64()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(wrong)
        };
        Ok(match (schema.kind, schema.name.as_deref()) {
            (Type::Bytes, Some(logical::DECIMAL)) => {
                let scale = schema.decimal_scale().ok_or_else(|| {
                    ConnectError::data("Invalid Decimal schema: scale parameter not found.")
                })?;
                match j {
                    Json::String(s) => {
                        let b = base64::engine::general_purpose::STANDARD
                            .decode(s)
                            .map_err(|e| ConnectError::data(format!("Invalid bytes field: {e}")))?;
                        Value::Decimal(Decimal::from_unscaled_bytes(&b, scale)?)
                    }
                    Json::Number(n) => {
                        let d = Decimal::parse(&n.to_string())?;
                        Value::Decimal(rescale(d, scale)?)
                    }
                    _ => return Err(wrong()),
                }
            }
            (Type::Int32, Some(logical::DATE)) => {
                Value::Date(int(i32::MIN.into(), i32::MAX.into())? as i32)
            }
            (Type::Int32, Some(logical::TIME)) => {
                Value::Time(int(i32::MIN.into(), i32::MAX.into())? as i32)
            }
            (Type::Int64, Some(logical::TIMESTAMP)) => {
                Value::Timestamp(j.as_i64().ok_or_else(wrong)?)
            }
            (Type::Boolean, _) => Value::Boolean(j.as_bool().ok_or_else(wrong)?),
            (Type::Int8, _) => Value::Int8(int(i8::MIN.into(), i8::MAX.into())? as i8),
            (Type::Int16, _) => Value::Int16(int(i16::MIN.into(), i16::MAX.into())? as i16),
            (Type::Int32, _) => Value::Int32(int(i32::MIN.into(), i32::MAX.into())? as i32),
            (Type::Int64, _) => Value::Int64(j.as_i64().ok_or_else(wrong)?),
            (Type::Float32, _) => Value::Float32(j.as_f64().ok_or_else(wrong)? as f32),
            (Type::Float64, _) => Value::Float64(j.as_f64().ok_or_else(wrong)?),
            (Type::String, _) => Value::String(j.as_str().ok_or_else(wrong)?.to_string()),
            (Type::Bytes, _) => Value::Bytes(
                base64::engine::general_purpose::STANDARD
                    .decode(j.as_str().ok_or_else(wrong)?)
                    .map_err(|e| ConnectError::data(format!("Invalid bytes field: {e}")))?,
            ),
            (Type::Array, _) => {
                let items = schema.value.as_deref();
                Value::Array(
                    j.as_array()
                        .ok_or_else(wrong)?
                        .iter()
                        .map(|x| self.json_to_value(items, x))
                        .collect::<ConnectResult<_>>()?,
                )
            }
            (Type::Map, _) => {
                let (ks, vs) = (schema.key.as_deref(), schema.value.as_deref());
                let entries = match j {
                    Json::Object(o) if ks.is_some_and(|k| k.kind == Type::String) => o
                        .iter()
                        .map(|(k, v)| Ok((Value::String(k.clone()), self.json_to_value(vs, v)?)))
                        .collect::<ConnectResult<_>>()?,
                    Json::Array(pairs) => pairs
                        .iter()
                        .map(|p| match p.as_array().map(Vec::as_slice) {
                            Some([k, v]) => {
                                Ok((self.json_to_value(ks, k)?, self.json_to_value(vs, v)?))
                            }
                            _ => Err(ConnectError::data(
                                "Found invalid map entry instead of array tuple",
                            )),
                        })
                        .collect::<ConnectResult<_>>()?,
                    _ => return Err(wrong()),
                };
                Value::Map(entries)
            }
            (Type::Struct, _) => {
                let o = j.as_object().ok_or_else(wrong)?;
                let shared = Arc::new(schema.clone());
                let mut st = Struct::new(shared);
                for f in &schema.fields {
                    let v =
                        self.json_to_value(Some(&f.schema), o.get(&f.name).unwrap_or(&Json::Null))?;
                    st.put(&f.name, v)?;
                }
                Value::Struct(st)
            }
        })
    }
}

fn rescale(d: Decimal, scale: i32) -> ConnectResult<Decimal> {
    let mut d = d;
    while d.scale < scale {
        d = Decimal::new(
            d.unscaled()
                .checked_mul(10)
                .ok_or_else(|| ConnectError::data("decimal out of range"))?,
            d.scale + 1,
        );
    }
    if d.scale > scale {
        return Err(ConnectError::data(format!(
            "decimal has scale {} but the schema's scale is {scale}",
            d.scale
        )));
    }
    Ok(d)
}

fn schemaless(j: &Json) -> Value {
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int64(i),
            None => Value::Float64(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::String(s.clone()),
        Json::Array(a) => Value::Array(a.iter().map(schemaless).collect()),
        Json::Object(o) => Value::Map(
            o.iter()
                .map(|(k, v)| (Value::String(k.clone()), schemaless(v)))
                .collect(),
        ),
    }
}

/// A JSON number written with Java's text for the float (Jackson does the same).
fn float(f: f64, text: String) -> ConnectResult<Json> {
    if !f.is_finite() {
        return Ok(Json::String(text));
    }
    number(&text)
        .map(Json::Number)
        .ok_or_else(|| ConnectError::data(format!("cannot write {text} as JSON")))
}

/// Compact JSON as Jackson writes it; numbers keep Java's text (`1.0E10`),
/// which serde_json would write as `1.0e+10`.
pub fn write_compact(j: &Json, out: &mut String) {
    match j {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => {
            let t = n.to_string();
            match t.split_once('e') {
                Some((m, e)) => {
                    out.push_str(m);
                    out.push('E');
                    out.push_str(e.strip_prefix('+').unwrap_or(e));
                }
                None => out.push_str(&t),
            }
        }
        Json::String(s) => out.push_str(&Json::String(s.clone()).to_string()),
        Json::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_compact(x, out);
            }
            out.push(']');
        }
        Json::Object(o) => {
            out.push('{');
            for (i, (k, v)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Json::String(k.clone()).to_string());
                out.push(':');
                write_compact(v, out);
            }
            out.push('}');
        }
    }
}

/// A JSON number with exactly this text (serde_json keeps number text as
/// written with its `arbitrary_precision` feature).
fn number(text: &str) -> Option<Number> {
    serde_json::from_str::<Number>(text).ok()
}

impl Converter for JsonConverter {
    fn encode<'a>(&self, _topic: &str, data: &'a SchemaAndValue) -> Encoded<'a> {
        if data.schema.is_none() && data.value.is_null() {
            return Ok(None);
        }
        let mut out = Vec::with_capacity(256);
        if self.schemas_enable {
            // {"schema":...,"payload":...}, Kafka's envelope and key order.
            out.extend_from_slice(b"{\"schema\":");
            match &data.schema {
                None => out.extend_from_slice(b"null"),
                Some(s) => {
                    let mut cached = self.schema_text.lock();
                    match cached.as_ref() {
                        Some((c, t)) if Arc::ptr_eq(c, s) => out.extend_from_slice(t.as_bytes()),
                        _ => {
                            let mut t = String::new();
                            write_compact(&self.schema_to_json(s), &mut t);
                            out.extend_from_slice(t.as_bytes());
                            *cached = Some((s.clone(), t));
                        }
                    }
                }
            }
            out.extend_from_slice(b",\"payload\":");
            self.write_value(data.schema.as_deref(), &data.value, &mut out)?;
            out.push(b'}');
        } else {
            self.write_value(data.schema.as_deref(), &data.value, &mut out)?;
        }
        Ok(Some(Cow::Owned(out)))
    }

    fn encode_text<'a>(&self, _topic: &str, text: &'a JsonText) -> Encoded<'a> {
        if !self.schemas_enable {
            return Ok(Some(Cow::Borrowed(text.as_bytes())));
        }
        let mut out = Vec::with_capacity(text.as_bytes().len() + 32);
        out.extend_from_slice(b"{\"schema\":null,\"payload\":");
        out.extend_from_slice(text.as_bytes());
        out.push(b'}');
        Ok(Some(Cow::Owned(out)))
    }

    fn decode(&self, _topic: &str, bytes: Option<&[u8]>) -> ConnectResult<SchemaAndValue> {
        let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
            return Ok(SchemaAndValue::NULL);
        };
        let failed = |e: serde_json::Error| {
            ConnectError::data(format!(
                "Converting byte[] to Kafka Connect data failed due to serialization error: {e}"
            ))
        };
        if !self.schemas_enable {
            let value = super::plain_json::decode(bytes).map_err(failed)?;
            return Ok(SchemaAndValue::new(None, value));
        }
        let j: Json = serde_json::from_slice(bytes).map_err(failed)?;
        let o = match &j {
            Json::Object(o)
                if o.len() == 2 && o.contains_key("schema") && o.contains_key("payload") =>
            {
                o
            }
            _ => return Err(ConnectError::data(ENVELOPE_ERROR)),
        };
        let payload = o.get("payload").unwrap_or(&Json::Null);
        match o.get("schema") {
            None | Some(Json::Null) => Ok(SchemaAndValue::new(None, schemaless(payload))),
            Some(s) => {
                let schema = self.schema_from_json(s)?;
                let value = self.json_to_value(Some(&schema), payload)?;
                Ok(SchemaAndValue::new(Some(Arc::new(schema)), value))
            }
        }
    }
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
