//! File formats, by Confluent's `format.class` names: each turns records
//! into the bytes of one file (a header, the records, a trailer).

mod avro;
mod avro_read;
mod parquet;
pub mod read;
mod text;

use std::sync::Arc;

use connect_api::{Schema, SinkRecord};

pub use avro::{AvroCodec, AvroWriter};
pub use parquet::{ParquetCodec, ParquetWriter};
pub use text::{json_text, ByteArrayWriter, JsonWriter, StringWriter};

#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    Avro(AvroCodec),
    Parquet(ParquetCodec),
    Json,
    String,
    ByteArray {
        extension: String,
        separator: Vec<u8>,
    },
}

/// Writes the records of one file into byte buffers.
pub trait RecordWriter: Send {
    /// Appends `r`'s encoding to `out`.
    fn write(&mut self, r: &SinkRecord, out: &mut Vec<u8>) -> Result<(), String>;
    /// Appends what ends the file.
    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), String>;
}

const PREFIXES: &[&str] = &[
    "io.confluent.connect.hdfs3.format.",
    "io.confluent.connect.hdfs3.",
    "io.confluent.connect.hdfs.",
    "io.confluent.connect.storage.format.",
    "io.confluent.connect.s3.format.",
];

impl Format {
    /// The format a `format.class` names; the error names the key.
    pub fn parse(
        class: &str,
        avro_codec: &str,
        parquet_codec: &str,
        bytearray_extension: &str,
        bytearray_separator: &str,
    ) -> Result<Format, (&'static str, String)> {
        let class = class.trim();
        let short = PREFIXES
            .iter()
            .find_map(|p| class.strip_prefix(p))
            .unwrap_or(class);
        // `avro.AvroFormat`, `json.JsonFormat`, ... or the bare class name.
        let name = short.rsplit('.').next().unwrap_or(short);
        let known = short == name || short.split('.').count() == 2;
        match name {
            "AvroFormat" if known => Ok(Format::Avro(
                AvroCodec::parse(avro_codec).map_err(|e| (crate::config::AVRO_CODEC, e))?,
            )),
            "JsonFormat" if known => Ok(Format::Json),
            "StringFormat" if known => Ok(Format::String),
            "ByteArrayFormat" if known => Ok(Format::ByteArray {
                extension: bytearray_extension.to_string(),
                separator: bytearray_separator.as_bytes().to_vec(),
            }),
            "ParquetFormat" if known => Ok(Format::Parquet(
                ParquetCodec::parse(parquet_codec).map_err(|e| (crate::config::PARQUET_CODEC, e))?,
            )),
            "OrcFormat" if known => Err((
                crate::config::FORMAT_CLASS,
                format!("{class} is not supported yet: use AvroFormat, ParquetFormat, JsonFormat, StringFormat or ByteArrayFormat"),
            )),
            _ => Err((
                crate::config::FORMAT_CLASS,
                format!("Unknown format class {class}: use io.confluent.connect.hdfs.avro.AvroFormat, io.confluent.connect.hdfs.parquet.ParquetFormat, io.confluent.connect.hdfs.json.JsonFormat, io.confluent.connect.hdfs.string.StringFormat or io.confluent.connect.s3.format.bytearray.ByteArrayFormat (or their hdfs3 names)"),
            )),
        }
    }

    /// The extension of committed files, with its dot.
    pub fn extension(&self) -> &str {
        match self {
            Format::Avro(_) => ".avro",
            Format::Parquet(_) => ".parquet",
            Format::Json => ".json",
            Format::String => ".txt",
            Format::ByteArray { extension, .. } => extension,
        }
    }

    /// Whether files of this format hold the schema, so a schema change
    /// matters to them.
    pub fn needs_schema(&self) -> bool {
        matches!(self, Format::Avro(_) | Format::Parquet(_))
    }

    /// A writer for a file whose records have `schema` (`None`: schemaless).
    pub fn writer(&self, schema: Option<&Arc<Schema>>) -> Result<Box<dyn RecordWriter>, String> {
        Ok(match self {
            Format::Avro(codec) => Box::new(AvroWriter::new(schema, *codec)?),
            Format::Parquet(codec) => Box::new(ParquetWriter::new(schema, *codec)?),
            Format::Json => Box::new(JsonWriter::new()?),
            Format::String => Box::new(StringWriter),
            Format::ByteArray { separator, .. } => Box::new(ByteArrayWriter(separator.clone())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_classes_by_confluent_names() {
        let p = |c: &str| Format::parse(c, "null", "snappy", ".bin", "\n");
        assert_eq!(
            p("io.confluent.connect.hdfs.json.JsonFormat"),
            Ok(Format::Json)
        );
        assert_eq!(
            p("io.confluent.connect.hdfs3.json.JsonFormat"),
            Ok(Format::Json)
        );
        assert_eq!(
            p("io.confluent.connect.hdfs3.format.avro.AvroFormat"),
            Ok(Format::Avro(AvroCodec::Null))
        );
        assert_eq!(p("StringFormat"), Ok(Format::String));
        assert!(matches!(
            p("io.confluent.connect.s3.format.bytearray.ByteArrayFormat"),
            Ok(Format::ByteArray { .. })
        ));
        let (key, e) = p("io.confluent.connect.hdfs.json.JsonFormatt").expect_err("unknown");
        assert_eq!(key, "format.class");
        assert!(e.contains("JsonFormatt"), "{e}");
        assert!(p("io.confluent.connect.hdfs.orc.OrcFormat").is_err());
        assert_eq!(
            p("io.confluent.connect.hdfs3.parquet.ParquetFormat"),
            Ok(Format::Parquet(ParquetCodec::Snappy))
        );
    }

    /// Every logical type, optional fields, arrays and maps through the
    /// Avro writer and reader, and the Parquet writer and reader.
    #[test]
    fn logical_types_and_containers_round_trip() {
        use connect_api::schema::logical;
        use connect_api::{Decimal, Field, SchemaAndValue, Struct, Type, Value};
        let named = |kind, name: &str, params: Vec<(String, String)>| {
            let mut s = Schema::new(kind);
            s.name = Some(name.into());
            s.version = Some(1);
            s.parameters = params;
            Arc::new(s)
        };
        let mut opt = Schema::new(Type::String);
        opt.optional = true;
        let mut list = Schema::new(Type::Array);
        list.value = Some(Arc::new(Schema::new(Type::Int32)));
        let mut tags = Schema::new(Type::Map);
        tags.key = Some(Arc::new(Schema::new(Type::String)));
        tags.value = Some(Arc::new(Schema::new(Type::Int64)));
        let fields: Vec<(&str, Arc<Schema>)> = vec![
            (
                "amount",
                named(
                    Type::Bytes,
                    logical::DECIMAL,
                    vec![(logical::SCALE.into(), "2".into())],
                ),
            ),
            ("day", named(Type::Int32, logical::DATE, vec![])),
            ("at", named(Type::Int32, logical::TIME, vec![])),
            ("ts", named(Type::Int64, logical::TIMESTAMP, vec![])),
            ("raw", Arc::new(Schema::new(Type::Bytes))),
            ("small", Arc::new(Schema::new(Type::Int8))),
            ("ratio", Arc::new(Schema::new(Type::Float32))),
            ("note", Arc::new(opt)),
        ];
        let mut s = Schema::new(Type::Struct);
        s.name = Some("com.example.Row".into());
        s.fields = fields
            .iter()
            .enumerate()
            .map(|(i, (n, fs))| Field {
                name: n.to_string(),
                index: i,
                schema: fs.clone(),
            })
            .collect();
        let values = |i: i64| {
            vec![
                Value::Decimal(Decimal::new(12345 + i128::from(i), 2)),
                Value::Date(20_000),
                Value::Time(3_600_000),
                Value::Timestamp(1_772_722_200_000 + i),
                Value::Bytes(vec![0, 255, i as u8]),
                Value::Int8(-3),
                Value::Float32(1.5),
                if i == 0 {
                    Value::Null
                } else {
                    Value::String("n".into())
                },
            ]
        };
        // Avro also takes arrays and maps (Parquet writes those as JSON text).
        let mut with_containers = s.clone();
        with_containers.fields.push(Field {
            name: "list".into(),
            index: 8,
            schema: Arc::new(list),
        });
        with_containers.fields.push(Field {
            name: "tags".into(),
            index: 9,
            schema: Arc::new(tags),
        });
        for (format, schema, containers) in [
            (
                Format::Avro(AvroCodec::Deflate),
                Arc::new(with_containers),
                true,
            ),
            (Format::Parquet(ParquetCodec::Zstd), Arc::new(s), false),
        ] {
            let rows: Vec<Value> = (0..2)
                .map(|i| {
                    let mut v = values(i);
                    if containers {
                        v.push(Value::Array(vec![Value::Int32(1), Value::Int32(2)]));
                        v.push(Value::Map(vec![(
                            Value::String("k".into()),
                            Value::Int64(i),
                        )]));
                    }
                    Value::Struct(Struct::from_values(schema.clone(), v).expect("struct"))
                })
                .collect();
            let mut w = format.writer(Some(&schema)).expect("writer");
            let mut bytes = Vec::new();
            for (i, row) in rows.iter().enumerate() {
                let data = SchemaAndValue::new(Some(schema.clone()), row.clone());
                let r = SinkRecord::new("t", 0, i as i64, SchemaAndValue::NULL, data, None);
                w.write(&r, &mut bytes).expect("write");
            }
            w.finish(&mut bytes).expect("finish");
            let back: Vec<SchemaAndValue> = read::FileValues::open(&format, "t", bytes)
                .expect("open")
                .map(|v| v.map(read::Taken::into_value))
                .collect::<Result<_, _>>()
                .expect("read");
            let got: Vec<Vec<Value>> = back
                .iter()
                .map(|sv| match &sv.value {
                    Value::Struct(st) => st.values().to_vec(),
                    other => panic!("{format:?}: a struct, not {other:?}"),
                })
                .collect();
            let want: Vec<Vec<Value>> = rows
                .iter()
                .map(|r| match r {
                    Value::Struct(st) => st.values().to_vec(),
                    _ => Vec::new(),
                })
                .collect();
            assert_eq!(got, want, "{format:?}");
            assert_eq!(
                back[0]
                    .schema
                    .as_ref()
                    .and_then(|s| s.name.clone())
                    .as_deref(),
                Some("com.example.Row")
            );
        }
    }
}
