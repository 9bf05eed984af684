//! Reading committed files back into records' values, by format.

use std::sync::Arc;

use connect_api::convert::{Converter, ConverterConfig, JsonConverter};
use connect_api::{Schema, SchemaAndValue, Type, Value};

use super::{avro_read, parquet, Format};

fn optional(t: Type) -> Option<Arc<Schema>> {
    let mut s = Schema::new(t);
    s.optional = true;
    Some(Arc::new(s))
}

/// The lines of `bytes` (a last line without its newline included).
fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    body.split(|b| *b == b'\n')
        .filter(move |_| !bytes.is_empty())
}

/// The values of a file of `format`; the error names the line or byte.
pub fn values(format: &Format, topic: &str, bytes: &[u8]) -> Result<Vec<SchemaAndValue>, String> {
    match format {
        Format::Json => {
            let cfg = ConverterConfig::from_pairs(&[("schemas.enable", "false")]);
            let conv = JsonConverter::new(&cfg)?;
            let mut out = Vec::with_capacity(bytes.iter().filter(|b| **b == b'\n').count() + 1);
            for (i, line) in lines(bytes).enumerate() {
                let v = conv
                    .decode(topic, Some(line))
                    .map_err(|e| format!("line {}: {}", i + 1, e.message()))?;
                out.push(v);
            }
            Ok(out)
        }
        Format::String => lines(bytes)
            .enumerate()
            .map(|(i, line)| match std::str::from_utf8(line) {
                Ok(s) => Ok(SchemaAndValue::new(
                    optional(Type::String),
                    Value::String(s.to_string()),
                )),
                Err(_) => Err(format!("line {} is not UTF-8", i + 1)),
            })
            .collect(),
        Format::ByteArray { separator, .. } => {
            let mut out = Vec::new();
            let mut rest = bytes;
            while !rest.is_empty() {
                let end = if separator.is_empty() {
                    rest.len()
                } else {
                    rest.windows(separator.len())
                        .position(|w| w == separator.as_slice())
                        .unwrap_or(rest.len())
                };
                out.push(SchemaAndValue::new(
                    optional(Type::Bytes),
                    Value::Bytes(rest[..end].to_vec()),
                ));
                rest = rest.get(end + separator.len()..).unwrap_or(&[]);
            }
            Ok(out)
        }
        Format::Avro(_) | Format::Parquet(_) => {
            let (schema, values) = match format {
                Format::Parquet(_) => parquet::read(bytes)?,
                _ => avro_read::read(bytes)?,
            };
            Ok(values
                .into_iter()
                .map(|v| SchemaAndValue::new(Some(schema.clone()), v))
                .collect())
        }
    }
}
