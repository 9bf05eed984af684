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
}
