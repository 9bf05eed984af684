//! Records out of a spooled file: lines, CSV rows (RFC 4180 quoting, a
//! header row) and JSON documents. Each reader yields one record at a time
//! with the line it started on, so an error names the file and the line.

use std::io::BufRead;
use std::sync::Arc;

use connect_api::{Schema, SchemaAndValue, Struct, Value};

/// How a file's bytes that are not UTF-8 are treated (Flume's
/// `decodeErrorPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decode {
    Fail,
    Replace,
    Ignore,
}

#[derive(Debug, Clone)]
pub struct Csv {
    pub header: bool,
    pub separator: u8,
    pub quote: u8,
    pub escape: Option<u8>,
    pub skip_lines: usize,
}

#[derive(Debug, Clone)]
pub enum Format {
    /// One record per line; lines longer than the limit are split.
    Lines {
        max: usize,
    },
    Csv(Csv),
    Json,
}

/// A file being read: the format's state over a buffered reader.
pub struct Reader<R> {
    input: R,
    format: Format,
    decode: Decode,
    /// The line the next read starts on (1-based).
    pub line: u64,
    csv_schema: Option<Arc<Schema>>,
    /// The rest of a line longer than the limit, and the line it is on.
    pending: Vec<u8>,
    pending_line: u64,
    string: Arc<Schema>,
}

/// Where to cut `buf` (longer than `max`) so that a UTF-8 character is not
/// split: at `max`, or before the character that `max` falls in.
fn char_cut(buf: &[u8], max: usize) -> usize {
    let mut at = max;
    while at > 0 && buf.get(at).is_some_and(|b| b & 0xC0 == 0x80) {
        at -= 1;
    }
    if at == 0 {
        max
    } else {
        at
    }
}

/// What went wrong at a line of the file.
#[derive(Debug)]
pub struct ParseError {
    pub line: u64,
    pub message: String,
}

fn err(line: u64, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
    }
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R, format: Format, decode: Decode) -> Self {
        Self {
            input,
            format,
            decode,
            line: 1,
            csv_schema: None,
            pending: Vec::new(),
            pending_line: 0,
            string: Arc::new(Schema::string()),
        }
    }

    /// One physical line without its line end; `None` at the end.
    fn raw_line(&mut self, max: usize) -> Result<Option<Vec<u8>>, ParseError> {
        let mut buf = std::mem::take(&mut self.pending);
        if !buf.is_empty() {
            if buf.len() > max {
                self.pending = buf.split_off(char_cut(&buf, max));
            }
            return Ok(Some(buf));
        }
        let this = self.line;
        match self.input.read_until(b'\n', &mut buf) {
            Ok(0) if buf.is_empty() => return Ok(None),
            Ok(_) => {}
            Err(e) => return Err(err(self.line, format!("read failed: {e}"))),
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            self.line += 1;
        }
        if buf.len() > max {
            // Flume's LINE deserializer: the rest of the line is the next record.
            self.pending = buf.split_off(char_cut(&buf, max));
            self.pending_line = this;
        }
        Ok(Some(buf))
    }

    fn text(&self, bytes: Vec<u8>, line: u64) -> Result<String, ParseError> {
        match String::from_utf8(bytes) {
            Ok(s) => Ok(s),
            Err(e) => match self.decode {
                Decode::Fail => Err(err(
                    line,
                    format!(
                        "invalid UTF-8 at byte {} of the line (decodeErrorPolicy=FAIL)",
                        e.utf8_error().valid_up_to()
                    ),
                )),
                Decode::Replace => Ok(String::from_utf8_lossy(e.as_bytes()).into_owned()),
                Decode::Ignore => Ok(String::from_utf8_lossy(e.as_bytes()).replace('\u{FFFD}', "")),
            },
        }
    }

    /// The next record, with the line it started on; `None` at the end.
    pub fn next_record(&mut self) -> Result<Option<(SchemaAndValue, u64)>, ParseError> {
        let start = if self.pending.is_empty() {
            self.line
        } else {
            self.pending_line
        };
        match self.format.clone() {
            Format::Lines { max } => {
                let Some(bytes) = self.raw_line(max)? else {
                    return Ok(None);
                };
                let s = self.text(bytes, start)?;
                Ok(Some((
                    SchemaAndValue::new(Some(self.string.clone()), Value::String(s)),
                    start,
                )))
            }
            Format::Json => self.json(start),
            Format::Csv(c) => self.csv(&c),
        }
    }

    fn json(&mut self, start: u64) -> Result<Option<(SchemaAndValue, u64)>, ParseError> {
        let mut doc = Vec::new();
        let mut first = start;
        loop {
            let at = self.line;
            let Some(line) = self.raw_line(usize::MAX)? else {
                if doc.iter().all(u8::is_ascii_whitespace) {
                    return Ok(None);
                }
                return Err(err(first, "the file ends inside a JSON document"));
            };
            if doc.iter().all(u8::is_ascii_whitespace) {
                doc.clear();
                first = at;
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
            } else {
                doc.push(b'\n');
            }
            doc.extend_from_slice(&line);
            match connect_api::convert::plain_json::decode(&doc) {
                Ok(v) => return Ok(Some((SchemaAndValue::new(None, v), first))),
                Err(e) if e.is_eof() => continue,
                Err(e) => {
                    return Err(err(
                        first + e.line().saturating_sub(1) as u64,
                        format!("invalid JSON at column {}: {e}", e.column()),
                    ))
                }
            }
        }
    }

    /// The fields of one CSV record, which may span lines inside quotes.
    fn csv_fields(&mut self, c: &Csv) -> Result<Option<Vec<String>>, ParseError> {
        let start = self.line;
        let Some(first) = self.raw_line(usize::MAX)? else {
            return Ok(None);
        };
        let mut line = self.text(first, start)?;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut at_start = true;
        let (sep, quote) = (c.separator as char, c.quote as char);
        let escape = c.escape.map(|e| e as char);
        loop {
            let mut chars = line.chars().peekable();
            while let Some(ch) = chars.next() {
                if quoted {
                    if Some(ch) == escape && escape != Some(quote) && chars.peek().is_some() {
                        field.extend(chars.next());
                    } else if ch == quote {
                        if chars.peek() == Some(&quote) {
                            chars.next();
                            field.push(quote);
                        } else {
                            quoted = false;
                        }
                    } else {
                        field.push(ch);
                    }
                } else if ch == sep {
                    fields.push(std::mem::take(&mut field));
                    at_start = true;
                    continue;
                } else if ch == quote && at_start {
                    quoted = true;
                } else {
                    field.push(ch);
                }
                at_start = false;
            }
            if !quoted {
                break;
            }
            let at = self.line;
            let Some(next) = self.raw_line(usize::MAX)? else {
                return Err(err(start, "the file ends inside a quoted CSV field"));
            };
            field.push('\n');
            line = self.text(next, at)?;
        }
        fields.push(field);
        Ok(Some(fields))
    }

    fn csv(&mut self, c: &Csv) -> Result<Option<(SchemaAndValue, u64)>, ParseError> {
        if self.csv_schema.is_none() {
            for _ in 0..c.skip_lines {
                if self.raw_line(usize::MAX)?.is_none() {
                    return Ok(None);
                }
            }
        }
        let start = self.line;
        let Some(mut fields) = self.csv_fields(c)? else {
            return Ok(None);
        };
        let schema = match &self.csv_schema {
            Some(s) => s.clone(),
            None => {
                let names: Vec<String> = if c.header {
                    std::mem::take(&mut fields)
                } else {
                    (1..=fields.len())
                        .map(|i| format!("column{i:02}"))
                        .collect()
                };
                let mut s =
                    Schema::structure().named("com.github.jcustenborder.kafka.connect.model.Value");
                for n in &names {
                    s = s.field(n.trim(), Schema::string().optional());
                }
                let s = Arc::new(s);
                self.csv_schema = Some(s.clone());
                if c.header {
                    return self.csv(c);
                }
                s
            }
        };
        if fields.len() != schema.fields.len() {
            return Err(err(
                start,
                format!(
                    "the row has {} fields where the header has {}",
                    fields.len(),
                    schema.fields.len()
                ),
            ));
        }
        let values = fields.into_iter().map(Value::String).collect();
        let st =
            Struct::from_values(schema.clone(), values).map_err(|e| err(start, e.to_string()))?;
        Ok(Some((
            SchemaAndValue::new(Some(schema), Value::Struct(st)),
            start,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str, format: Format) -> Result<Vec<(Value, u64)>, ParseError> {
        let mut r = Reader::new(text.as_bytes(), format, Decode::Fail);
        let mut out = Vec::new();
        while let Some((v, line)) = r.next_record()? {
            out.push((v.value, line));
        }
        Ok(out)
    }

    #[test]
    fn lines_keep_empty_lines_and_split_long_ones() {
        let got = all("a\r\n\nabcdef\nx", Format::Lines { max: 4 }).expect("lines");
        let texts: Vec<_> = got.iter().map(|(v, l)| (v.clone(), *l)).collect();
        assert_eq!(
            texts,
            vec![
                (Value::String("a".into()), 1),
                (Value::String("".into()), 2),
                (Value::String("abcd".into()), 3),
                (Value::String("ef".into()), 3),
                (Value::String("x".into()), 4),
            ]
        );
    }

    #[test]
    fn csv_reads_quotes_escapes_and_fields_across_lines() {
        let c = Csv {
            header: true,
            separator: b',',
            quote: b'"',
            escape: Some(b'\\'),
            skip_lines: 0,
        };
        let got = all(
            "id,name\n1,\"a,b\"\n2,\"two\nlines \"\"q\"\"\"\n3,x\\\"y\n",
            Format::Csv(c.clone()),
        )
        .expect("csv");
        let rows: Vec<Vec<Value>> = got
            .iter()
            .map(|(v, _)| match v {
                Value::Struct(s) => s.values().to_vec(),
                _ => Vec::new(),
            })
            .collect();
        assert_eq!(
            rows[0],
            vec![Value::String("1".into()), Value::String("a,b".into())]
        );
        assert_eq!(
            rows[1],
            vec![
                Value::String("2".into()),
                Value::String("two\nlines \"q\"".into())
            ]
        );
        assert_eq!(
            rows[2][1],
            Value::String("x\\\"y".into()),
            "an escape outside quotes is text"
        );
        assert_eq!(
            got[2].1, 5,
            "the row after a two-line field starts on line 5"
        );
        let e = all("a,b\n1,2,3\n", Format::Csv(c)).expect_err("too many fields");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("3 fields"), "{}", e.message);
    }

    #[test]
    fn json_documents_may_span_lines_and_errors_name_the_line() {
        let got = all("{\"a\":1}\n\n{\"b\":\n [2]}\n", Format::Json).expect("json");
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].1, 3);
        let e = all("{\"a\":1}\n{\"b\" 2}\n", Format::Json).expect_err("bad json");
        assert_eq!(e.line, 2, "{}", e.message);
        let e = all("{\"a\":\n", Format::Json).expect_err("cut");
        assert!(e.message.contains("ends inside"), "{}", e.message);
    }

    #[test]
    fn long_lines_are_not_cut_inside_a_character() {
        let got = all("abcé\n", Format::Lines { max: 4 }).expect("lines");
        let texts: Vec<_> = got.into_iter().map(|(v, _)| v).collect();
        assert_eq!(
            texts,
            vec![Value::String("abc".into()), Value::String("é".into())]
        );
    }

    #[test]
    fn decode_policies() {
        let bytes: &[u8] = b"ok\nbad\xff\n";
        let mut r = Reader::new(bytes, Format::Lines { max: 100 }, Decode::Fail);
        assert!(r.next_record().expect("first").is_some());
        assert_eq!(r.next_record().expect_err("invalid").line, 2);
        let mut r = Reader::new(bytes, Format::Lines { max: 100 }, Decode::Ignore);
        r.next_record().expect("first");
        let (v, _) = r.next_record().expect("second").expect("a record");
        assert_eq!(v.value, Value::String("bad".into()));
    }
}
