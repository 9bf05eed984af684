//! ParquetFormat: one row group per file, a column per field of the
//! records' struct schema (a value that is not a struct is one `value`
//! column), compressed by `parquet.codec`. Logical types keep their Parquet
//! form (decimal, date, time-millis, timestamp-millis in UTC); arrays, maps
//! and nested structs are written as JSON text. The struct's Connect name
//! and version travel in the file's key-value metadata, so reading a file
//! back gives the schema it was written with.

use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, Float32Builder,
    Float64Builder, Int16Builder, Int32Builder, Int64Builder, Int8Builder, StringBuilder,
    Time32MillisecondBuilder, TimestampMillisecondBuilder,
};
use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchReader};
use arrow_schema::{DataType, Field as ArrowField, Schema as ArrowSchema, TimeUnit};
use connect_api::schema::logical;
use connect_api::{Decimal, Field, Schema, SinkRecord, Struct, Type, Value};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use super::text::coordinates;
use super::RecordWriter;

/// The key-value metadata of a file whose one column is a value that is not
/// a struct.
const VALUE_MARK: &str = "weir.value";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParquetCodec {
    None,
    Snappy,
    Gzip,
    Zstd,
}

impl ParquetCodec {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "uncompressed" => Ok(ParquetCodec::None),
            "snappy" | "" => Ok(ParquetCodec::Snappy),
            "gzip" => Ok(ParquetCodec::Gzip),
            "zstd" => Ok(ParquetCodec::Zstd),
            other => Err(format!(
                "parquet.codec {other} is not supported: use none, snappy, gzip or zstd"
            )),
        }
    }

    fn compression(self) -> Compression {
        match self {
            ParquetCodec::None => Compression::UNCOMPRESSED,
            ParquetCodec::Snappy => Compression::SNAPPY,
            ParquetCodec::Gzip => Compression::GZIP(GzipLevel::default()),
            ParquetCodec::Zstd => Compression::ZSTD(ZstdLevel::default()),
        }
    }
}

/// The columns of a schema: a struct's fields, or one `value` column.
fn columns(schema: &Arc<Schema>) -> Vec<(String, Arc<Schema>)> {
    if schema.kind == Type::Struct {
        schema
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.schema.clone()))
            .collect()
    } else {
        vec![("value".to_string(), schema.clone())]
    }
}

fn scale_of(s: &Schema) -> i8 {
    s.parameters
        .iter()
        .find(|(k, _)| k == logical::SCALE)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

/// Whether a column of schema `s` can hold `v`.
fn fits(v: &Value, s: &Schema) -> bool {
    match (arrow_type(s), v) {
        (_, Value::Null) => s.optional,
        (DataType::Int8, Value::Int8(_))
        | (DataType::Int16, Value::Int16(_))
        | (DataType::Int32, Value::Int32(_))
        | (DataType::Int64, Value::Int64(_))
        | (DataType::Float32, Value::Float32(_))
        | (DataType::Float64, Value::Float64(_))
        | (DataType::Boolean, Value::Boolean(_))
        | (DataType::Binary, Value::Bytes(_))
        | (DataType::Date32, Value::Date(_))
        | (DataType::Time32(_), Value::Time(_))
        | (DataType::Timestamp(..), Value::Timestamp(_))
        | (DataType::Decimal128(..), Value::Decimal(_)) => true,
        (DataType::Utf8, Value::String(_)) => true,
        (DataType::Utf8, _) => s.kind != Type::String,
        _ => false,
    }
}

fn arrow_type(s: &Schema) -> DataType {
    match (s.kind, s.name.as_deref()) {
        (Type::Int32, Some(logical::DATE)) => DataType::Date32,
        (Type::Int32, Some(logical::TIME)) => DataType::Time32(TimeUnit::Millisecond),
        (Type::Int64, Some(logical::TIMESTAMP)) => {
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
        }
        (Type::Bytes, Some(logical::DECIMAL)) => DataType::Decimal128(38, scale_of(s)),
        (Type::Int8, _) => DataType::Int8,
        (Type::Int16, _) => DataType::Int16,
        (Type::Int32, _) => DataType::Int32,
        (Type::Int64, _) => DataType::Int64,
        (Type::Float32, _) => DataType::Float32,
        (Type::Float64, _) => DataType::Float64,
        (Type::Boolean, _) => DataType::Boolean,
        (Type::Bytes, _) => DataType::Binary,
        (Type::String | Type::Array | Type::Map | Type::Struct, _) => DataType::Utf8,
    }
}

pub struct ParquetWriter {
    schema: Arc<Schema>,
    codec: ParquetCodec,
    rows: Vec<Value>,
}

impl ParquetWriter {
    pub fn new(schema: Option<&Arc<Schema>>, codec: ParquetCodec) -> Result<Self, String> {
        let schema = schema.cloned().ok_or(
            "ParquetFormat needs a schema: the records have none, and none could be inferred",
        )?;
        Ok(Self {
            schema,
            codec,
            rows: Vec::new(),
        })
    }

    /// The value of column `i` (named `name`) in a row.
    fn cell<'a>(&self, row: &'a Value, name: &str) -> &'a Value {
        if self.schema.kind != Type::Struct {
            return row;
        }
        match row {
            Value::Struct(s) => s.get(name).unwrap_or(&Value::Null),
            Value::Map(m) => m
                .iter()
                .find(|(k, _)| matches!(k, Value::String(s) if s == name))
                .map_or(&Value::Null, |(_, v)| v),
            _ => &Value::Null,
        }
    }

    fn column(&self, name: &str, s: &Schema) -> Result<ArrayRef, String> {
        let values = self.rows.iter().map(|r| self.cell(r, name));
        let bad = |v: &Value| {
            format!(
                "column {name}: a {:?} value where the schema says {:?}",
                v.inferred_type(),
                s.kind
            )
        };
        macro_rules! build {
            ($builder:expr, $($pat:pat => $e:expr),+) => {{
                let mut b = $builder;
                for v in values {
                    match v {
                        Value::Null => b.append_null(),
                        $($pat => b.append_value($e),)+
                        other => return Err(bad(other)),
                    }
                }
                Arc::new(b.finish()) as ArrayRef
            }};
        }
        Ok(match arrow_type(s) {
            DataType::Int8 => build!(Int8Builder::new(), Value::Int8(n) => *n),
            DataType::Int16 => build!(Int16Builder::new(), Value::Int16(n) => *n),
            DataType::Int32 => build!(Int32Builder::new(), Value::Int32(n) => *n),
            DataType::Int64 => build!(Int64Builder::new(), Value::Int64(n) => *n),
            DataType::Float32 => build!(Float32Builder::new(), Value::Float32(f) => *f),
            DataType::Float64 => build!(Float64Builder::new(), Value::Float64(f) => *f),
            DataType::Boolean => build!(BooleanBuilder::new(), Value::Boolean(b) => *b),
            DataType::Binary => build!(BinaryBuilder::new(), Value::Bytes(b) => b),
            DataType::Date32 => build!(Date32Builder::new(), Value::Date(d) => *d),
            DataType::Time32(_) => build!(Time32MillisecondBuilder::new(), Value::Time(t) => *t),
            DataType::Timestamp(..) => {
                build!(TimestampMillisecondBuilder::new().with_timezone("UTC"), Value::Timestamp(t) => *t)
            }
            DataType::Decimal128(p, sc) => build!(
                Decimal128Builder::new().with_precision_and_scale(p, sc).map_err(|e| e.to_string())?,
                Value::Decimal(d) => d.unscaled()
            ),
            _ if s.kind == Type::String => build!(StringBuilder::new(), Value::String(t) => t),
            _ => {
                // Arrays, maps and nested structs, as JSON text.
                let mut b = StringBuilder::new();
                for v in values {
                    match v {
                        Value::Null => b.append_null(),
                        v => b.append_value(crate::format::text::json_text(v)),
                    }
                }
                Arc::new(b.finish()) as ArrayRef
            }
        })
    }
}

impl RecordWriter for ParquetWriter {
    fn write(&mut self, r: &SinkRecord, _out: &mut Vec<u8>) -> Result<(), String> {
        if r.value.value.is_null() && !self.schema.optional {
            return Err(format!(
                "ParquetFormat cannot write a null value ({})",
                coordinates(r)
            ));
        }
        // A value the columns cannot take is refused here, where the
        // record can be reported, not when the file is committed.
        for (name, s) in columns(&self.schema) {
            let v = self.cell(&r.value.value, &name);
            if !fits(v, &s) {
                return Err(format!(
                    "ParquetFormat: column {name} ({:?}{}) cannot take {} ({})",
                    s.kind,
                    if s.optional || self.schema.optional {
                        ", optional"
                    } else {
                        ""
                    },
                    match v.inferred_type() {
                        Some(t) => format!("a {t:?} value"),
                        None => "null".to_string(),
                    },
                    coordinates(r)
                ));
            }
        }
        self.rows.push(r.value.value.clone());
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        let cols = columns(&self.schema);
        let fields: Vec<ArrowField> = cols
            .iter()
            .map(|(n, s)| ArrowField::new(n, arrow_type(s), s.optional || self.schema.optional))
            .collect();
        let mut meta = Vec::new();
        if let Some(n) = &self.schema.name {
            meta.push(KeyValue::new("connect.name".to_string(), n.clone()));
        }
        if let Some(v) = self.schema.version {
            meta.push(KeyValue::new("connect.version".to_string(), v.to_string()));
        }
        if self.schema.kind != Type::Struct {
            // Not a struct: the file's one column is the value itself.
            meta.push(KeyValue::new(VALUE_MARK.to_string(), "true".to_string()));
        }
        let arrow = Arc::new(ArrowSchema::new(fields));
        let arrays = cols
            .iter()
            .map(|(n, s)| self.column(n, s))
            .collect::<Result<Vec<_>, _>>()?;
        let batch = RecordBatch::try_new(arrow.clone(), arrays)
            .map_err(|e| format!("building a Parquet row group: {e}"))?;
        let props = WriterProperties::builder()
            .set_compression(self.codec.compression())
            .set_key_value_metadata((!meta.is_empty()).then_some(meta))
            .build();
        let mut w = ArrowWriter::try_new(&mut *out, arrow, Some(props))
            .map_err(|e| format!("writing Parquet: {e}"))?;
        w.write(&batch)
            .map_err(|e| format!("writing Parquet: {e}"))?;
        w.close().map_err(|e| format!("writing Parquet: {e}"))?;
        self.rows.clear();
        Ok(())
    }
}

fn connect_type(t: &DataType) -> Schema {
    let named = |kind, name: &str| {
        let mut s = Schema::new(kind);
        s.name = Some(name.to_string());
        s.version = Some(1);
        s
    };
    match t {
        DataType::Int8 => Schema::new(Type::Int8),
        DataType::Int16 => Schema::new(Type::Int16),
        DataType::Int32 => Schema::new(Type::Int32),
        DataType::Int64 => Schema::new(Type::Int64),
        DataType::Float32 => Schema::new(Type::Float32),
        DataType::Float64 => Schema::new(Type::Float64),
        DataType::Boolean => Schema::new(Type::Boolean),
        DataType::Binary | DataType::LargeBinary => Schema::new(Type::Bytes),
        DataType::Date32 => named(Type::Int32, logical::DATE),
        DataType::Time32(_) => named(Type::Int32, logical::TIME),
        DataType::Timestamp(..) => named(Type::Int64, logical::TIMESTAMP),
        DataType::Decimal128(_, scale) => {
            let mut s = named(Type::Bytes, logical::DECIMAL);
            s.parameters = vec![(logical::SCALE.into(), scale.to_string())];
            s
        }
        _ => Schema::new(Type::String),
    }
}

/// The values of one column at `row`.
fn value_at(a: &dyn Array, row: usize) -> Result<Value, String> {
    use arrow_array::*;
    if a.is_null(row) {
        return Ok(Value::Null);
    }
    macro_rules! get {
        ($t:ty) => {
            a.as_any()
                .downcast_ref::<$t>()
                .ok_or_else(|| format!("a column of {:?}", a.data_type()))?
                .value(row)
        };
    }
    Ok(match a.data_type() {
        DataType::Int8 => Value::Int8(get!(Int8Array)),
        DataType::Int16 => Value::Int16(get!(Int16Array)),
        DataType::Int32 => Value::Int32(get!(Int32Array)),
        DataType::Int64 => Value::Int64(get!(Int64Array)),
        DataType::Float32 => Value::Float32(get!(Float32Array)),
        DataType::Float64 => Value::Float64(get!(Float64Array)),
        DataType::Boolean => Value::Boolean(get!(BooleanArray)),
        DataType::Binary => Value::Bytes(get!(BinaryArray).to_vec()),
        DataType::Utf8 => Value::String(get!(StringArray).to_string()),
        DataType::Date32 => Value::Date(get!(Date32Array)),
        DataType::Time32(TimeUnit::Millisecond) => Value::Time(get!(Time32MillisecondArray)),
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            Value::Timestamp(get!(TimestampMillisecondArray))
        }
        DataType::Decimal128(_, scale) => {
            Value::Decimal(Decimal::new(get!(Decimal128Array), i32::from(*scale)))
        }
        other => return Err(format!("a column of {other}, which Weir does not read")),
    })
}

/// The records of a Parquet file, with the schema it was written with.
pub fn read(bytes: &[u8]) -> Result<(Arc<Schema>, Vec<Value>), String> {
    let fail = |e: &dyn std::fmt::Display| format!("not a Parquet file Weir can read: {e}");
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::copy_from_slice(bytes))
        .map_err(|e| fail(&e))?;
    let meta: std::collections::HashMap<String, String> = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .into_iter()
        .flatten()
        .filter_map(|kv| kv.value.clone().map(|v| (kv.key.clone(), v)))
        .collect();
    let reader = builder.build().map_err(|e| fail(&e))?;
    let arrow = reader.schema();
    let single = meta.get(VALUE_MARK).is_some_and(|v| v == "true") && arrow.fields().len() == 1;
    let mut schema = Schema::new(Type::Struct);
    schema.name = meta.get("connect.name").cloned();
    schema.version = meta.get("connect.version").and_then(|v| v.parse().ok());
    schema.fields = arrow
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut s = connect_type(f.data_type());
            s.optional = f.is_nullable();
            Field {
                name: f.name().clone(),
                index: i,
                schema: Arc::new(s),
            }
        })
        .collect();
    let schema = if single {
        schema.fields[0].schema.clone()
    } else {
        Arc::new(schema)
    };
    let mut values = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| fail(&e))?;
        for row in 0..batch.num_rows() {
            let cells = batch
                .columns()
                .iter()
                .map(|c| value_at(c.as_ref(), row))
                .collect::<Result<Vec<_>, _>>()?;
            values.push(if single {
                cells.into_iter().next().unwrap_or(Value::Null)
            } else {
                Value::Struct(
                    Struct::from_values(schema.clone(), cells).map_err(|e| fail(&e.message()))?,
                )
            });
        }
    }
    Ok((schema, values))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_of(schema: &Arc<Schema>, values: &[Value]) -> Vec<u8> {
        let mut w = ParquetWriter::new(Some(schema), ParquetCodec::Snappy).expect("writer");
        let mut out = Vec::new();
        for v in values {
            let data = connect_api::SchemaAndValue::new(Some(schema.clone()), v.clone());
            let r = SinkRecord::new("t", 0, 0, connect_api::SchemaAndValue::NULL, data, None);
            w.write(&r, &mut out).expect("write");
        }
        w.finish(&mut out).expect("finish");
        out
    }

    #[test]
    fn values_and_structs_of_one_field_named_value_read_back_as_written() {
        let text = Arc::new(Schema::new(Type::String));
        let values = [Value::String("a".into()), Value::String("b".into())];
        let (schema, back) = read(&file_of(&text, &values)).expect("read");
        assert_eq!((schema.kind, back.as_slice()), (Type::String, &values[..]));

        let mut s = Schema::new(Type::Struct);
        s.fields = vec![Field {
            name: "value".into(),
            index: 0,
            schema: Arc::new(Schema::new(Type::Int64)),
        }];
        let s = Arc::new(s);
        let row = Value::Struct(
            Struct::new(s.clone())
                .with("value", Value::Int64(7))
                .expect("struct"),
        );
        let (schema, back) = read(&file_of(&s, &[row])).expect("read");
        assert_eq!(schema.kind, Type::Struct);
        let Value::Struct(got) = &back[0] else {
            panic!("a struct")
        };
        assert_eq!(got.get("value"), Some(&Value::Int64(7)));

        // A value its column cannot take is refused when written.
        let mut w = ParquetWriter::new(Some(&s), ParquetCodec::None).expect("writer");
        let bad = connect_api::SchemaAndValue::new(Some(s.clone()), Value::String("x".into()));
        let r = SinkRecord::new("t", 0, 9, connect_api::SchemaAndValue::NULL, bad, None);
        let e = w.write(&r, &mut Vec::new()).expect_err("refused");
        assert!(e.contains("column value") && e.contains("offset 9"), "{e}");
    }
}
