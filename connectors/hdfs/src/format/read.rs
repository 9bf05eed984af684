//! Reading committed files back into records' values, by format.

use std::sync::Arc;

use connect_api::convert::{Converter, ConverterConfig, JsonConverter, JsonText};
use connect_api::{Schema, SchemaAndValue, Type, Value};

use super::{avro_read, parquet, Format};

fn optional(t: Type) -> Option<Arc<Schema>> {
    let mut s = Schema::new(t);
    s.optional = true;
    Some(Arc::new(s))
}

/// A value as it is taken from a file.
#[derive(Debug)]
pub enum Taken {
    Value(SchemaAndValue),
    /// A JSON line in the form JsonConverter writes, left as it is: the
    /// worker's converter may write it as it is too.
    Text(JsonText),
}

impl Taken {
    pub fn into_value(self) -> SchemaAndValue {
        match self {
            Taken::Value(v) => v,
            Taken::Text(t) => t.data(),
        }
    }
}

/// A committed file's values, decoded as they are taken: a file of lines
/// (JSON, String) a line at a time, so that a source task decodes its next
/// batch while the batch before is encoded and sent; the other formats are
/// decoded whole when opened. The error of a line names it.
pub struct FileValues {
    len: usize,
    taken: usize,
    rest: Rest,
}

enum Rest {
    Decoded(std::vec::IntoIter<SchemaAndValue>),
    Lines {
        bytes: Vec<u8>,
        /// Where the next line starts.
        at: usize,
        /// `None`: String lines.
        json: Option<JsonConverter>,
        topic: String,
    },
}

impl FileValues {
    /// The error names the line or byte that does not decode.
    pub fn open(format: &Format, topic: &str, bytes: Vec<u8>) -> Result<Self, String> {
        let values = match format {
            Format::Json => {
                let cfg = ConverterConfig::from_pairs(&[("schemas.enable", "false")]);
                return Ok(Self::lines(bytes, Some(JsonConverter::new(&cfg)?), topic));
            }
            Format::String => return Ok(Self::lines(bytes, None, topic)),
            Format::ByteArray { separator, .. } => pieces(&bytes, separator),
            Format::Avro(_) => with_schema(avro_read::read(&bytes)?),
            Format::Parquet(_) => with_schema(parquet::read(&bytes)?),
        };
        Ok(Self {
            len: values.len(),
            taken: 0,
            rest: Rest::Decoded(values.into_iter()),
        })
    }

    /// A file of lines, JSON (with `json`) or String.
    fn lines(bytes: Vec<u8>, json: Option<JsonConverter>, topic: &str) -> Self {
        Self {
            len: line_count(&bytes),
            taken: 0,
            rest: Rest::Lines {
                bytes,
                at: 0,
                json,
                topic: topic.to_string(),
            },
        }
    }

    /// How many values the file holds.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Passes over the next `n` values without decoding the lines among them.
    pub fn pass_over(&mut self, n: usize) {
        for _ in 0..n.min(self.len - self.taken) {
            self.taken += 1;
            match &mut self.rest {
                Rest::Decoded(values) => {
                    values.next();
                }
                Rest::Lines { bytes, at, .. } => {
                    *at = line_end(bytes, *at) + 1;
                }
            }
        }
    }
}

/// How many lines `bytes` holds: a last line without its newline counts,
/// the empty text after a last newline does not.
fn line_count(bytes: &[u8]) -> usize {
    match bytes.strip_suffix(b"\n") {
        _ if bytes.is_empty() => 0,
        Some(body) => memchr::memchr_iter(b'\n', body).count() + 1,
        None => memchr::memchr_iter(b'\n', bytes).count() + 1,
    }
}

/// Where the line starting at `at` ends (its newline, or the end).
fn line_end(bytes: &[u8], at: usize) -> usize {
    memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i)
}

impl Iterator for FileValues {
    type Item = Result<Taken, String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.taken >= self.len {
            return None;
        }
        self.taken += 1;
        let number = self.taken;
        Some(match &mut self.rest {
            Rest::Decoded(values) => Ok(Taken::Value(values.next()?)),
            Rest::Lines {
                bytes,
                at,
                json,
                topic,
            } => {
                let end = line_end(bytes, *at);
                let line = &bytes[*at..end];
                *at = end + 1;
                match json {
                    Some(conv) => match JsonText::canonical(line) {
                        Some(text) => Ok(Taken::Text(text)),
                        None => conv
                            .decode(topic, Some(line))
                            .map(Taken::Value)
                            .map_err(|e| format!("line {number}: {}", e.message())),
                    },
                    None => match std::str::from_utf8(line) {
                        Ok(s) => Ok(Taken::Value(SchemaAndValue::new(
                            optional(Type::String),
                            Value::String(s.to_string()),
                        ))),
                        Err(_) => Err(format!("line {number} is not UTF-8")),
                    },
                }
            }
        })
    }
}

/// The values of a ByteArray file: the pieces between separators (the
/// whole file without one).
fn pieces(bytes: &[u8], separator: &[u8]) -> Vec<SchemaAndValue> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let end = if separator.is_empty() {
            rest.len()
        } else {
            rest.windows(separator.len())
                .position(|w| w == separator)
                .unwrap_or(rest.len())
        };
        out.push(SchemaAndValue::new(
            optional(Type::Bytes),
            Value::Bytes(rest[..end].to_vec()),
        ));
        rest = rest.get(end + separator.len()..).unwrap_or(&[]);
    }
    out
}

/// An Avro or Parquet file's values, each with the file's schema.
fn with_schema((schema, values): (Arc<Schema>, Vec<Value>)) -> Vec<SchemaAndValue> {
    values
        .into_iter()
        .map(|v| SchemaAndValue::new(Some(schema.clone()), v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(text: &str) -> Vec<String> {
        FileValues::open(&Format::String, "t", text.as_bytes().to_vec())
            .expect("open")
            .map(|v| match v.expect("line").into_value().value {
                Value::String(s) => s,
                other => panic!("not a string: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn lines_are_counted_and_taken_as_the_file_splits_them() {
        assert!(strings("").is_empty());
        assert_eq!(strings("\n"), [""]);
        assert_eq!(strings("a\nb\n"), ["a", "b"]);
        assert_eq!(strings("a\n\nb"), ["a", "", "b"]);
        let mut v = FileValues::open(&Format::String, "t", b"a\nb\nc\nd\n".to_vec()).expect("open");
        assert_eq!(v.len(), 4);
        v.pass_over(2);
        let rest: Vec<_> = v.map(|x| x.expect("line").into_value().value).collect();
        assert_eq!(rest, [Value::String("c".into()), Value::String("d".into())]);
    }

    #[test]
    fn json_lines_in_the_converter_s_form_are_left_as_text() {
        let file = b"{\"id\":1,\"pad\":\"x\"}\n{\"id\": 2}\n{\"id\":3}\r\n\n".to_vec();
        let taken: Vec<Taken> = FileValues::open(&Format::Json, "t", file)
            .expect("open")
            .map(|v| v.expect("line"))
            .collect();
        assert_eq!(taken.len(), 4);
        assert!(matches!(&taken[0], Taken::Text(t) if t.as_bytes() == b"{\"id\":1,\"pad\":\"x\"}"));
        // Spaces, a carriage return, an empty line (a null): decoded.
        assert!(matches!(&taken[1], Taken::Value(_)));
        assert!(matches!(&taken[2], Taken::Value(_)));
        assert!(matches!(&taken[3], Taken::Value(v) if v.value.is_null()));
        let values: Vec<Value> = taken.into_iter().map(|t| t.into_value().value).collect();
        let id = |n: i64| Value::Map(vec![(Value::String("id".into()), Value::Int64(n))]);
        assert_eq!(values[1], id(2));
        assert_eq!(values[2], id(3));
        match &values[0] {
            Value::Map(e) => assert_eq!(e[0], (Value::String("id".into()), Value::Int64(1))),
            other => panic!("not a map: {other:?}"),
        }
    }

    #[test]
    fn a_bad_json_line_is_named_when_it_is_taken() {
        let mut v =
            FileValues::open(&Format::Json, "t", b"{\"a\":1}\n{\"a\":\n".to_vec()).expect("open");
        assert_eq!(v.len(), 2);
        assert!(v.next().expect("first").is_ok());
        let e = v.next().expect("second").expect_err("bad line");
        assert!(e.starts_with("line 2: "), "{e}");
        assert!(v.next().is_none());
    }
}
