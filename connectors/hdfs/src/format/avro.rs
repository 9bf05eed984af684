//! AvroFormat: Avro object container files, the schema derived from the
//! Connect schema as Confluent's AvroData derives it (`connect.*`
//! properties, logical types, `["null", T]` for optional schemas), blocks
//! compressed by `avro.codec` (null, deflate, snappy). Schemaless records
//! get a schema inferred from their values (`schema::infer`).

use std::io::Write;
use std::sync::Arc;

use connect_api::schema::logical;
use connect_api::{Schema, SinkRecord, Type, Value};
use serde_json::{json, Map, Value as Json};

use super::text::coordinates;
use super::RecordWriter;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AvroCodec {
    Null,
    Deflate,
    Snappy,
}

impl AvroCodec {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "null" | "" => Ok(AvroCodec::Null),
            "deflate" => Ok(AvroCodec::Deflate),
            "snappy" => Ok(AvroCodec::Snappy),
            other => Err(format!(
                "avro.codec {other} is not supported: use null, deflate or snappy"
            )),
        }
    }

    fn name(self) -> &'static str {
        match self {
            AvroCodec::Null => "null",
            AvroCodec::Deflate => "deflate",
            AvroCodec::Snappy => "snappy",
        }
    }
}

/// Records per block before it is written out.
const BLOCK_BYTES: usize = 64 * 1024;

pub struct AvroWriter {
    schema: Arc<Schema>,
    codec: AvroCodec,
    sync: [u8; 16],
    header: Option<Vec<u8>>,
    block: Vec<u8>,
    count: i64,
}

impl AvroWriter {
    pub fn new(schema: Option<&Arc<Schema>>, codec: AvroCodec) -> Result<Self, String> {
        let schema = schema.cloned().ok_or(
            "AvroFormat needs a schema: the records have none, and none could be inferred",
        )?;
        let text = to_avro_schema(&schema).to_string();
        let mut header = b"Obj\x01".to_vec();
        // File metadata: a map of two entries, then the end of the map.
        long(&mut header, 2);
        string(&mut header, "avro.schema");
        bytes(&mut header, text.as_bytes());
        string(&mut header, "avro.codec");
        bytes(&mut header, codec.name().as_bytes());
        long(&mut header, 0);
        let sync = *uuid::Uuid::new_v4().as_bytes();
        header.extend_from_slice(&sync);
        Ok(Self {
            schema,
            codec,
            sync,
            header: Some(header),
            block: Vec::new(),
            count: 0,
        })
    }

    fn flush_block(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        if self.count == 0 {
            return Ok(());
        }
        let data = match self.codec {
            AvroCodec::Null => std::mem::take(&mut self.block),
            AvroCodec::Deflate => {
                let mut e =
                    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(&self.block)
                    .and_then(|()| e.finish())
                    .map_err(|e| format!("compressing an Avro block: {e}"))?
            }
            AvroCodec::Snappy => {
                let mut c = snap::raw::Encoder::new()
                    .compress_vec(&self.block)
                    .map_err(|e| format!("compressing an Avro block: {e}"))?;
                c.extend_from_slice(&crc32fast::hash(&self.block).to_be_bytes());
                c
            }
        };
        self.block.clear();
        long(out, self.count);
        long(out, data.len() as i64);
        out.extend_from_slice(&data);
        out.extend_from_slice(&self.sync);
        self.count = 0;
        Ok(())
    }
}

impl RecordWriter for AvroWriter {
    fn write(&mut self, r: &SinkRecord, out: &mut Vec<u8>) -> Result<(), String> {
        if let Some(h) = self.header.take() {
            out.extend_from_slice(&h);
        }
        let before = self.block.len();
        if let Err(e) = encode(&self.schema, &r.value.value, &mut self.block) {
            // Nothing of a record that cannot be written stays in the block.
            self.block.truncate(before);
            return Err(format!("{e} ({})", coordinates(r)));
        }
        self.count += 1;
        if self.block.len() >= BLOCK_BYTES {
            self.flush_block(out)?;
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        if let Some(h) = self.header.take() {
            out.extend_from_slice(&h);
        }
        self.flush_block(out)
    }
}

fn long(out: &mut Vec<u8>, n: i64) {
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    long(out, b.len() as i64);
    out.extend_from_slice(b);
}

fn string(out: &mut Vec<u8>, s: &str) {
    bytes(out, s.as_bytes());
}

fn is_logical(s: &Schema, name: &str) -> bool {
    s.name.as_deref() == Some(name)
}

/// Whether an optional schema is written `[T, "null"]` (it has a default,
/// which Avro takes from the first branch) rather than `["null", T]`.
fn null_second(s: &Schema) -> bool {
    s.optional && s.default.as_ref().is_some_and(|d| !d.is_null())
}

/// `value` in Avro's binary encoding of `schema`'s Avro form.
fn encode(schema: &Schema, value: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    if schema.optional {
        let value = if value.is_null() {
            schema.default.as_ref().unwrap_or(value)
        } else {
            value
        };
        // The branch of the union: null is first unless a default puts it second.
        let second = null_second(schema);
        if value.is_null() {
            long(out, i64::from(second));
            return Ok(());
        }
        long(out, i64::from(!second));
        return encode_present(schema, value, out);
    }
    if value.is_null() {
        return match &schema.default {
            Some(d) if !d.is_null() => encode_present(schema, d, out),
            _ => Err(format!(
                "a null value where the schema ({:?}{}) requires one",
                schema.kind,
                schema
                    .name
                    .as_deref()
                    .map(|n| format!(" {n}"))
                    .unwrap_or_default()
            )),
        };
    }
    encode_present(schema, value, out)
}

fn mismatch(schema: &Schema, v: &Value) -> String {
    format!(
        "a {:?} value where the schema says {:?}",
        v.inferred_type(),
        schema.kind
    )
}

fn encode_present(schema: &Schema, value: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    match (schema.kind, value) {
        (Type::Int8, Value::Int8(n)) => long(out, i64::from(*n)),
        (Type::Int16, Value::Int16(n)) => long(out, i64::from(*n)),
        (Type::Int32, Value::Int32(n) | Value::Date(n) | Value::Time(n)) => {
            long(out, i64::from(*n))
        }
        (Type::Int64, Value::Int64(n) | Value::Timestamp(n)) => long(out, *n),
        (Type::Float32, Value::Float32(f)) => out.extend_from_slice(&f.to_le_bytes()),
        (Type::Float64, Value::Float64(f)) => out.extend_from_slice(&f.to_le_bytes()),
        (Type::Boolean, Value::Boolean(b)) => out.push(u8::from(*b)),
        (Type::String, Value::String(s)) => string(out, s),
        (Type::Bytes, Value::Bytes(b)) => bytes(out, b),
        (Type::Bytes, Value::Decimal(d)) => bytes(out, &d.unscaled_bytes()),
        (Type::Array, Value::Array(items)) => {
            let item = schema
                .value
                .as_deref()
                .ok_or("an array schema without an item schema")?;
            if !items.is_empty() {
                long(out, items.len() as i64);
                for v in items {
                    encode(item, v, out)?;
                }
            }
            long(out, 0);
        }
        (Type::Map, Value::Map(entries)) => {
            let (k, v) = match (&schema.key, &schema.value) {
                (Some(k), Some(v)) => (k, v),
                _ => return Err("a map schema without key and value schemas".into()),
            };
            if !entries.is_empty() {
                long(out, entries.len() as i64);
                for (key, val) in entries {
                    if string_keys(schema) {
                        match key {
                            Value::String(s) => string(out, s),
                            other => return Err(mismatch(k, other)),
                        }
                    } else {
                        encode(k, key, out)?;
                    }
                    encode(v, val, out)?;
                }
            }
            long(out, 0);
        }
        (Type::Struct, Value::Struct(s)) => {
            for f in &schema.fields {
                encode(&f.schema, s.get(&f.name).unwrap_or(&Value::Null), out)
                    .map_err(|e| format!("field {}: {e}", f.name))?;
            }
        }
        // A schemaless map, written with the schema inferred from it.
        (Type::Struct, Value::Map(entries)) => {
            for f in &schema.fields {
                let v = entries
                    .iter()
                    .find(|(k, _)| matches!(k, Value::String(s) if *s == f.name))
                    .map_or(&Value::Null, |(_, v)| v);
                encode(&f.schema, v, out).map_err(|e| format!("field {}: {e}", f.name))?;
            }
        }
        (_, v) => return Err(mismatch(schema, v)),
    }
    Ok(())
}

fn string_keys(map: &Schema) -> bool {
    map.key
        .as_deref()
        .is_some_and(|k| k.kind == Type::String && !k.optional)
}

/// The Avro schema of a Connect schema, as Confluent's AvroData writes it.
pub fn to_avro_schema(schema: &Schema) -> Json {
    let mut names = Names::default();
    avro_of(schema, &mut names)
}

/// What the schema being written has defined: Avro defines a named type
/// once and refers to it by name after that.
#[derive(Default)]
struct Names {
    unnamed: u32,
    defined: std::collections::HashSet<String>,
    /// MapEntry records by full name, with their fields.
    entries: std::collections::HashMap<String, Json>,
}

fn avro_of(s: &Schema, unnamed: &mut Names) -> Json {
    let base = avro_base(s, unnamed);
    if !s.optional {
        return base;
    }
    if null_second(s) {
        json!([base, "null"])
    } else {
        json!(["null", base])
    }
}

/// `connect.*` properties of a non-record schema, in AvroData's order.
fn with_props(kind: &str, s: &Schema, extra: &[(&str, Json)], connect_type: Option<&str>) -> Json {
    let mut m = Map::new();
    m.insert("type".into(), json!(kind));
    for (k, v) in extra {
        m.insert((*k).into(), v.clone());
    }
    if let Some(d) = &s.doc {
        m.insert("connect.doc".into(), json!(d));
    }
    if let Some(v) = s.version {
        m.insert("connect.version".into(), json!(v));
    }
    if !s.parameters.is_empty() {
        let p: Map<String, Json> = s
            .parameters
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        m.insert("connect.parameters".into(), Json::Object(p));
    }
    if let Some(n) = &s.name {
        m.insert("connect.name".into(), json!(n));
    }
    if let Some(t) = connect_type {
        m.insert("connect.type".into(), json!(t));
    }
    if m.len() == 1 {
        return json!(kind);
    }
    Json::Object(m)
}

fn avro_base(s: &Schema, unnamed: &mut Names) -> Json {
    match s.kind {
        Type::Int8 => with_props("int", s, &[], Some("int8")),
        Type::Int16 => with_props("int", s, &[], Some("int16")),
        Type::Int32 if is_logical(s, logical::DATE) => {
            with_props("int", s, &[("logicalType", json!("date"))], None)
        }
        Type::Int32 if is_logical(s, logical::TIME) => {
            with_props("int", s, &[("logicalType", json!("time-millis"))], None)
        }
        Type::Int32 => with_props("int", s, &[], None),
        Type::Int64 if is_logical(s, logical::TIMESTAMP) => with_props(
            "long",
            s,
            &[("logicalType", json!("timestamp-millis"))],
            None,
        ),
        Type::Int64 => with_props("long", s, &[], None),
        Type::Float32 => with_props("float", s, &[], None),
        Type::Float64 => with_props("double", s, &[], None),
        Type::Boolean => with_props("boolean", s, &[], None),
        Type::String => with_props("string", s, &[], None),
        Type::Bytes if is_logical(s, logical::DECIMAL) => {
            let scale: i64 = s
                .parameters
                .iter()
                .find(|(k, _)| k == logical::SCALE)
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            let precision: i64 = s
                .parameters
                .iter()
                .find(|(k, _)| k == "connect.decimal.precision")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(64);
            with_props(
                "bytes",
                s,
                &[
                    ("scale", json!(scale)),
                    ("precision", json!(precision)),
                    ("logicalType", json!("decimal")),
                ],
                None,
            )
        }
        Type::Bytes => with_props("bytes", s, &[], None),
        Type::Array => {
            let items = s
                .value
                .as_deref()
                .map_or(json!("string"), |v| avro_of(v, unnamed));
            json!({"type": "array", "items": items})
        }
        Type::Map if string_keys(s) => {
            let values = s
                .value
                .as_deref()
                .map_or(json!("string"), |v| avro_of(v, unnamed));
            json!({"type": "map", "values": values})
        }
        Type::Map => {
            let key = s
                .key
                .as_deref()
                .map_or(json!("string"), |k| avro_of(k, unnamed));
            let value = s
                .value
                .as_deref()
                .map_or(json!("string"), |v| avro_of(v, unnamed));
            // One MapEntry record per distinct key and value types: the
            // same types refer to it by name, others get MapEntry2, ...
            let fields = json!([{"name": "key", "type": key}, {"name": "value", "type": value}]);
            let mut n = 1;
            loop {
                let name = if n == 1 {
                    "MapEntry".to_string()
                } else {
                    format!("MapEntry{n}")
                };
                let full = format!("io.confluent.connect.avro.{name}");
                match unnamed.entries.get(&full) {
                    Some(f) if *f == fields => return json!({"type": "array", "items": full}),
                    Some(_) => n += 1,
                    None => {
                        unnamed.entries.insert(full, fields.clone());
                        return json!({"type": "array", "items": {
                            "type": "record", "name": name, "namespace": "io.confluent.connect.avro", "fields": fields
                        }});
                    }
                }
            }
        }
        Type::Struct => {
            let mut m = Map::new();
            m.insert("type".into(), json!("record"));
            let full = match &s.name {
                Some(n) => n.clone(),
                None => {
                    unnamed.unnamed += 1;
                    match unnamed.unnamed {
                        1 => "io.confluent.connect.avro.ConnectDefault".to_string(),
                        n => format!("io.confluent.connect.avro.ConnectDefault{n}"),
                    }
                }
            };
            if !unnamed.defined.insert(full.clone()) {
                return json!(full);
            }
            match full.rsplit_once('.') {
                Some((ns, name)) => {
                    m.insert("name".into(), json!(name));
                    m.insert("namespace".into(), json!(ns));
                }
                None => {
                    m.insert("name".into(), json!(full));
                }
            }
            if let Some(d) = &s.doc {
                m.insert("doc".into(), json!(d));
            }
            let fields: Vec<Json> = s
                .fields
                .iter()
                .map(|f| {
                    let mut fm = Map::new();
                    fm.insert("name".into(), json!(f.name));
                    fm.insert("type".into(), avro_of(&f.schema, unnamed));
                    if let Some(d) = f.schema.default.as_ref().and_then(default_json) {
                        fm.insert("default".into(), d);
                    } else if f.schema.optional {
                        fm.insert("default".into(), Json::Null);
                    }
                    Json::Object(fm)
                })
                .collect();
            m.insert("fields".into(), Json::Array(fields));
            if let Some(v) = s.version {
                m.insert("connect.version".into(), json!(v));
            }
            if let Some(n) = &s.name {
                m.insert("connect.name".into(), json!(n));
            }
            Json::Object(m)
        }
    }
}

/// A primitive default as Avro's JSON (other defaults are left out).
fn default_json(v: &Value) -> Option<Json> {
    Some(match v {
        Value::Boolean(b) => json!(b),
        Value::Int8(n) => json!(n),
        Value::Int16(n) => json!(n),
        Value::Int32(n) | Value::Date(n) | Value::Time(n) => json!(n),
        Value::Int64(n) | Value::Timestamp(n) => json!(n),
        Value::Float32(f) => json!(f),
        Value::Float64(f) => json!(f),
        Value::String(s) => json!(s),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_type_is_defined_once_and_a_failed_record_leaves_nothing() {
        let mut addr = Schema::new(Type::Struct);
        addr.name = Some("com.example.Address".into());
        addr.fields = vec![connect_api::Field {
            name: "city".into(),
            index: 0,
            schema: Arc::new(Schema::new(Type::String)),
        }];
        let addr = Arc::new(addr);
        let mut s = Schema::new(Type::Struct);
        s.name = Some("com.example.Order".into());
        s.fields = vec![
            connect_api::Field {
                name: "from".into(),
                index: 0,
                schema: addr.clone(),
            },
            connect_api::Field {
                name: "to".into(),
                index: 1,
                schema: addr.clone(),
            },
        ];
        let text = to_avro_schema(&s).to_string();
        assert_eq!(text.matches(r#""name":"Address""#).count(), 1, "{text}");
        assert!(
            text.contains(r#"{"name":"to","type":"com.example.Address"}"#),
            "{text}"
        );
        let s = Arc::new(s);
        let mut w = AvroWriter::new(Some(&s), AvroCodec::Null).expect("writer");
        let mut out = Vec::new();
        let mut bad = connect_api::Struct::new(s.clone());
        let from = connect_api::Struct::new(addr.clone())
            .with("city", Value::String("Seoul".into()))
            .expect("struct");
        bad.put("from", Value::Struct(from)).expect("put");
        let r = |v: Value| {
            let value = connect_api::SchemaAndValue::new(Some(s.clone()), v);
            SinkRecord::new("t", 0, 0, connect_api::SchemaAndValue::NULL, value, None)
        };
        // `to` is required and missing: refused after `from` was encoded.
        assert!(w.write(&r(Value::Struct(bad)), &mut out).is_err());
        assert!(w.block.is_empty() && w.count == 0);
    }

    #[test]
    fn zigzag_longs() {
        let enc = |n| {
            let mut v = Vec::new();
            long(&mut v, n);
            v
        };
        assert_eq!(enc(0), [0]);
        assert_eq!(enc(-1), [1]);
        assert_eq!(enc(1), [2]);
        assert_eq!(enc(-64), [0x7f]);
        assert_eq!(enc(64), [0x80, 0x01]);
    }

    #[test]
    fn avro_schema_as_avrodata_writes_it() {
        let mut ts = Schema::new(Type::Int64);
        ts.name = Some(logical::TIMESTAMP.into());
        ts.version = Some(1);
        let mut opt = Schema::new(Type::String);
        opt.optional = true;
        let mut s = Schema::new(Type::Struct);
        s.name = Some("com.example.Order".into());
        s.fields = vec![
            connect_api::Field {
                name: "id".into(),
                index: 0,
                schema: Arc::new(Schema::new(Type::Int8)),
            },
            connect_api::Field {
                name: "at".into(),
                index: 1,
                schema: Arc::new(ts),
            },
            connect_api::Field {
                name: "note".into(),
                index: 2,
                schema: Arc::new(opt),
            },
        ];
        let text = to_avro_schema(&s).to_string();
        assert_eq!(
            text,
            r#"{"type":"record","name":"Order","namespace":"com.example","fields":[{"name":"id","type":{"type":"int","connect.type":"int8"}},{"name":"at","type":{"type":"long","logicalType":"timestamp-millis","connect.version":1,"connect.name":"org.apache.kafka.connect.data.Timestamp"}},{"name":"note","type":["null","string"],"default":null}],"connect.name":"com.example.Order"}"#
        );
    }
}
