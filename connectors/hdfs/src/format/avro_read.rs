//! Reading Avro object container files back into Connect data: the writer
//! schema becomes a Connect schema as Confluent's AvroData reads one
//! (`connect.*` properties, logical types, `["null", T]` as optional, arrays
//! of `MapEntry` records as maps), and each record a value of it.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

use connect_api::schema::logical;
use connect_api::{Decimal, Field, Schema, Struct, Type, Value};
use serde_json::Value as Json;

/// A node of the writer schema and the Connect schema it reads as.
#[derive(Debug, Clone)]
enum Node {
    Null,
    Boolean,
    Int(IntKind),
    Long(bool),
    Float,
    Double,
    Bytes(Option<i32>),
    String,
    Record(Vec<(String, Node)>, Arc<Schema>),
    Array(Box<Node>, Arc<Schema>),
    Map(Box<Node>, Arc<Schema>),
    /// An array of `MapEntry` records: a map with keys of any type.
    Entries(Box<Node>, Box<Node>, Arc<Schema>),
    Union(Vec<Node>, Arc<Schema>),
    Enum(Vec<String>),
    Fixed(usize),
}

#[derive(Debug, Clone, Copy)]
enum IntKind {
    Int8,
    Int16,
    Int32,
    Date,
    Time,
}

fn err(what: impl std::fmt::Display) -> String {
    format!("not an Avro file Weir can read: {what}")
}

struct Parser {
    named: HashMap<String, Node>,
}

fn props(j: &Json, s: &mut Schema) {
    if let Some(v) = j.get("connect.version").and_then(Json::as_i64) {
        s.version = i32::try_from(v).ok();
    }
    if let Some(d) = j.get("connect.doc").and_then(Json::as_str) {
        s.doc = Some(d.to_string());
    }
    if let Some(n) = j.get("connect.name").and_then(Json::as_str) {
        s.name = Some(n.to_string());
    }
    if let Some(p) = j.get("connect.parameters").and_then(Json::as_object) {
        s.parameters = p
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), String::from),
                )
            })
            .collect();
    }
}

impl Node {
    fn schema(&self) -> Arc<Schema> {
        let simple = |t| Arc::new(Schema::new(t));
        match self {
            Node::Null => simple(Type::String),
            Node::Boolean => simple(Type::Boolean),
            Node::Int(k) => {
                let mut s = Schema::new(match k {
                    IntKind::Int8 => Type::Int8,
                    IntKind::Int16 => Type::Int16,
                    _ => Type::Int32,
                });
                match k {
                    IntKind::Date => s.name = Some(logical::DATE.into()),
                    IntKind::Time => s.name = Some(logical::TIME.into()),
                    _ => {}
                }
                if matches!(k, IntKind::Date | IntKind::Time) {
                    s.version = Some(1);
                }
                Arc::new(s)
            }
            Node::Long(ts) => {
                let mut s = Schema::new(Type::Int64);
                if *ts {
                    s.name = Some(logical::TIMESTAMP.into());
                    s.version = Some(1);
                }
                Arc::new(s)
            }
            Node::Float => simple(Type::Float32),
            Node::Double => simple(Type::Float64),
            Node::Bytes(Some(scale)) => {
                let mut s = Schema::new(Type::Bytes);
                s.name = Some(logical::DECIMAL.into());
                s.version = Some(1);
                s.parameters = vec![(logical::SCALE.into(), scale.to_string())];
                Arc::new(s)
            }
            Node::Bytes(None) | Node::Fixed(_) => simple(Type::Bytes),
            Node::String | Node::Enum(_) => simple(Type::String),
            Node::Record(_, s)
            | Node::Array(_, s)
            | Node::Map(_, s)
            | Node::Entries(_, _, s)
            | Node::Union(_, s) => s.clone(),
        }
    }
}

impl Parser {
    fn parse(&mut self, j: &Json, namespace: &str) -> Result<Node, String> {
        match j {
            Json::String(name) => self.named_or_primitive(name, namespace),
            Json::Array(branches) => {
                let nodes = branches
                    .iter()
                    .map(|b| self.parse(b, namespace))
                    .collect::<Result<Vec<_>, _>>()?;
                let non_null: Vec<&Node> =
                    nodes.iter().filter(|n| !matches!(n, Node::Null)).collect();
                let mut s = match non_null.as_slice() {
                    [one] => (*one.schema()).clone(),
                    _ => Schema::new(Type::String),
                };
                s.optional = nodes.iter().any(|n| matches!(n, Node::Null));
                Ok(Node::Union(nodes, Arc::new(s)))
            }
            Json::Object(o) => {
                let kind = o
                    .get("type")
                    .ok_or_else(|| err("a schema without a type"))?;
                let logical_type = o.get("logicalType").and_then(Json::as_str);
                match kind.as_str() {
                    Some("record") | Some("error") => self.record(j, namespace),
                    Some("array") => {
                        let items = self.parse(
                            o.get("items")
                                .ok_or_else(|| err("an array without items"))?,
                            namespace,
                        )?;
                        if let Node::Record(fields, rs) = &items {
                            if rs.name.is_none()
                                && fields.len() == 2
                                && fields[0].0 == "key"
                                && fields[1].0 == "value"
                                && o["items"]
                                    .get("name")
                                    .or(Some(&o["items"]))
                                    .and_then(Json::as_str)
                                    .is_some_and(|n| {
                                        n.rsplit('.')
                                            .next()
                                            .is_some_and(|n| n.starts_with("MapEntry"))
                                    })
                            {
                                let (k, v) = (fields[0].1.clone(), fields[1].1.clone());
                                let mut s = Schema::new(Type::Map);
                                s.key = Some(k.schema());
                                s.value = Some(v.schema());
                                props(j, &mut s);
                                return Ok(Node::Entries(Box::new(k), Box::new(v), Arc::new(s)));
                            }
                        }
                        let mut s = Schema::new(Type::Array);
                        s.value = Some(items.schema());
                        props(j, &mut s);
                        Ok(Node::Array(Box::new(items), Arc::new(s)))
                    }
                    Some("map") => {
                        let values = self.parse(
                            o.get("values").ok_or_else(|| err("a map without values"))?,
                            namespace,
                        )?;
                        let mut s = Schema::new(Type::Map);
                        s.key = Some(Arc::new(Schema::new(Type::String)));
                        s.value = Some(values.schema());
                        props(j, &mut s);
                        Ok(Node::Map(Box::new(values), Arc::new(s)))
                    }
                    Some("enum") => Ok(Node::Enum(
                        o.get("symbols")
                            .and_then(Json::as_array)
                            .map(|a| {
                                a.iter()
                                    .filter_map(|s| s.as_str().map(String::from))
                                    .collect()
                            })
                            .unwrap_or_default(),
                    )),
                    Some("fixed") => Ok(Node::Fixed(
                        o.get("size").and_then(Json::as_u64).unwrap_or(0) as usize,
                    )),
                    Some("int") => Ok(Node::Int(
                        match (logical_type, o.get("connect.type").and_then(Json::as_str)) {
                            (Some("date"), _) => IntKind::Date,
                            (Some("time-millis"), _) => IntKind::Time,
                            (_, Some("int8")) => IntKind::Int8,
                            (_, Some("int16")) => IntKind::Int16,
                            _ => IntKind::Int32,
                        },
                    )),
                    Some("long") => Ok(Node::Long(logical_type == Some("timestamp-millis"))),
                    Some("bytes") if logical_type == Some("decimal") => Ok(Node::Bytes(Some(
                        o.get("scale").and_then(Json::as_i64).unwrap_or(0) as i32,
                    ))),
                    Some(other) => self.named_or_primitive(other, namespace),
                    None => self.parse(kind, namespace),
                }
            }
            other => Err(err(format!("a schema of {other}"))),
        }
    }

    fn named_or_primitive(&mut self, name: &str, namespace: &str) -> Result<Node, String> {
        Ok(match name {
            "null" => Node::Null,
            "boolean" => Node::Boolean,
            "int" => Node::Int(IntKind::Int32),
            "long" => Node::Long(false),
            "float" => Node::Float,
            "double" => Node::Double,
            "bytes" => Node::Bytes(None),
            "string" => Node::String,
            other => {
                let full = if other.contains('.') || namespace.is_empty() {
                    other.to_string()
                } else {
                    format!("{namespace}.{other}")
                };
                self.named
                    .get(&full)
                    .or_else(|| self.named.get(other))
                    .cloned()
                    .ok_or_else(|| err(format!("an unknown type {other}")))?
            }
        })
    }

    fn record(&mut self, j: &Json, namespace: &str) -> Result<Node, String> {
        let name = j.get("name").and_then(Json::as_str).unwrap_or("");
        let ns = j
            .get("namespace")
            .and_then(Json::as_str)
            .unwrap_or(namespace);
        let full = if name.contains('.') || ns.is_empty() {
            name.to_string()
        } else {
            format!("{ns}.{name}")
        };
        let mut s = Schema::new(Type::Struct);
        s.doc = j.get("doc").and_then(Json::as_str).map(String::from);
        if !full.starts_with("io.confluent.connect.avro.ConnectDefault")
            && !full.starts_with("io.confluent.connect.avro.MapEntry")
        {
            s.name = Some(full.clone());
        }
        props(j, &mut s);
        let mut fields = Vec::new();
        for (i, f) in j
            .get("fields")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let fname = f
                .get("name")
                .and_then(Json::as_str)
                .ok_or_else(|| err("a field without a name"))?;
            let node = self.parse(
                f.get("type").ok_or_else(|| err("a field without a type"))?,
                ns,
            )?;
            s.fields.push(Field {
                name: fname.to_string(),
                index: i,
                schema: node.schema(),
            });
            fields.push((fname.to_string(), node));
        }
        let node = Node::Record(fields, Arc::new(s));
        self.named.insert(full, node.clone());
        Ok(node)
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.b.len())
            .ok_or_else(|| err(format!("data ends at byte {}", self.b.len())))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn long(&mut self) -> Result<i64, String> {
        let mut z: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)?[0];
            z |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(((z >> 1) as i64) ^ -((z & 1) as i64));
            }
        }
        Err(err(format!("a number too long at byte {}", self.at)))
    }

    fn len(&mut self) -> Result<usize, String> {
        usize::try_from(self.long()?)
            .map_err(|_| err(format!("a negative length at byte {}", self.at)))
    }

    fn bytes(&mut self) -> Result<Vec<u8>, String> {
        let n = self.len()?;
        Ok(self.take(n)?.to_vec())
    }

    fn string(&mut self) -> Result<String, String> {
        String::from_utf8(self.bytes()?)
            .map_err(|_| err(format!("text that is not UTF-8 before byte {}", self.at)))
    }

    /// Items of an array or map block by block; `each` reads one.
    fn blocks(
        &mut self,
        mut each: impl FnMut(&mut Self) -> Result<(), String>,
    ) -> Result<(), String> {
        loop {
            let mut n = self.long()?;
            if n == 0 {
                return Ok(());
            }
            if n < 0 {
                n = n.checked_neg().ok_or_else(|| {
                    err(format!("a block count out of range at byte {}", self.at))
                })?;
                self.long()?;
            }
            // Every item takes a byte or more except nulls and empty
            // records: more items than bytes left (and a margin) is a
            // corrupt count, not a reason to fill memory.
            let left = (self.b.len() - self.at) as i64;
            if n > left.saturating_add(1 << 16) {
                return Err(err(format!(
                    "a block of {n} items with {left} bytes left at byte {}",
                    self.at
                )));
            }
            for _ in 0..n {
                each(self)?;
            }
        }
    }
}

fn decode(node: &Node, c: &mut Cursor<'_>) -> Result<Value, String> {
    Ok(match node {
        Node::Null => Value::Null,
        Node::Boolean => Value::Boolean(c.take(1)?[0] != 0),
        Node::Int(k) => {
            let n = i32::try_from(c.long()?).map_err(|_| err("an int out of range"))?;
            match k {
                IntKind::Int8 => Value::Int8(n as i8),
                IntKind::Int16 => Value::Int16(n as i16),
                IntKind::Int32 => Value::Int32(n),
                IntKind::Date => Value::Date(n),
                IntKind::Time => Value::Time(n),
            }
        }
        Node::Long(true) => Value::Timestamp(c.long()?),
        Node::Long(false) => Value::Int64(c.long()?),
        Node::Float => Value::Float32(f32::from_le_bytes(
            c.take(4)?.try_into().map_err(|_| err("a float"))?,
        )),
        Node::Double => Value::Float64(f64::from_le_bytes(
            c.take(8)?.try_into().map_err(|_| err("a double"))?,
        )),
        Node::Bytes(Some(scale)) => Value::Decimal(
            Decimal::from_unscaled_bytes(&c.bytes()?, *scale).map_err(|e| err(e.message()))?,
        ),
        Node::Bytes(None) => Value::Bytes(c.bytes()?),
        Node::Fixed(n) => Value::Bytes(c.take(*n)?.to_vec()),
        Node::String => Value::String(c.string()?),
        Node::Enum(symbols) => {
            let i = c.len()?;
            Value::String(
                symbols
                    .get(i)
                    .cloned()
                    .ok_or_else(|| err(format!("enum symbol {i}")))?,
            )
        }
        Node::Record(fields, s) => {
            let values = fields
                .iter()
                .map(|(_, n)| decode(n, c))
                .collect::<Result<Vec<_>, _>>()?;
            Value::Struct(Struct::from_values(s.clone(), values).map_err(|e| err(e.message()))?)
        }
        Node::Array(item, _) => {
            let mut out = Vec::new();
            c.blocks(|c| {
                out.push(decode(item, c)?);
                Ok(())
            })?;
            Value::Array(out)
        }
        Node::Map(v, _) => {
            let mut out = Vec::new();
            c.blocks(|c| {
                let k = c.string()?;
                out.push((Value::String(k), decode(v, c)?));
                Ok(())
            })?;
            Value::Map(out)
        }
        Node::Entries(k, v, _) => {
            let mut out = Vec::new();
            c.blocks(|c| {
                let key = decode(k, c)?;
                out.push((key, decode(v, c)?));
                Ok(())
            })?;
            Value::Map(out)
        }
        Node::Union(branches, _) => {
            let i = c.len()?;
            decode(
                branches
                    .get(i)
                    .ok_or_else(|| err(format!("union branch {i}")))?,
                c,
            )?
        }
    })
}

/// The records of an Avro object container file, with their schema.
pub fn read(bytes: &[u8]) -> Result<(Arc<Schema>, Vec<Value>), String> {
    let mut c = Cursor { b: bytes, at: 0 };
    if c.take(4)? != b"Obj\x01" {
        return Err(err("it does not start with Avro's magic bytes"));
    }
    let mut meta: HashMap<String, Vec<u8>> = HashMap::new();
    c.blocks(|c| {
        let k = c.string()?;
        let v = c.bytes()?;
        meta.insert(k, v);
        Ok(())
    })?;
    let sync = c.take(16)?.to_vec();
    let schema: Json = serde_json::from_slice(
        meta.get("avro.schema")
            .ok_or_else(|| err("no avro.schema"))?,
    )
    .map_err(|e| err(format!("its schema is not JSON ({e})")))?;
    let node = Parser {
        named: HashMap::new(),
    }
    .parse(&schema, "")?;
    let codec = meta.get("avro.codec").map_or("null".to_string(), |c| {
        String::from_utf8_lossy(c).into_owned()
    });
    let mut values = Vec::new();
    while c.at < bytes.len() {
        let count = c.len()?;
        let size = c.len()?;
        let raw = c.take(size)?;
        let data = match codec.as_str() {
            "null" => raw.to_vec(),
            "deflate" => {
                let mut out = Vec::new();
                flate2::read::DeflateDecoder::new(raw)
                    .read_to_end(&mut out)
                    .map_err(|e| err(format!("a deflate block ({e})")))?;
                out
            }
            "snappy" => {
                let body = raw
                    .get(..raw.len().saturating_sub(4))
                    .ok_or_else(|| err("a snappy block"))?;
                snap::raw::Decoder::new()
                    .decompress_vec(body)
                    .map_err(|e| err(format!("a snappy block ({e})")))?
            }
            other => {
                return Err(err(format!(
                    "its codec {other} (Weir reads null, deflate and snappy)"
                )))
            }
        };
        if c.take(16)? != sync.as_slice() {
            return Err(err(format!(
                "a block that does not end with the file's sync marker before byte {}",
                c.at
            )));
        }
        if count > data.len().saturating_add(1 << 16) {
            return Err(err(format!(
                "a block of {count} records in {} bytes",
                data.len()
            )));
        }
        let mut d = Cursor { b: &data, at: 0 };
        for _ in 0..count {
            values.push(decode(&node, &mut d)?);
        }
    }
    Ok((node.schema(), values))
}
