//! Schemaless JSON (`schemas.enable=false`) read straight into Connect
//! values, without an intermediate `serde_json::Value`: this is the path of
//! every record a plain JSON producer writes, so it allocates only what the
//! result keeps.
//!
//! Values come out as they would through `serde_json::Value`: integers that
//! fit a long are `Int64`, other numbers `Float64`; objects are maps in the
//! order of their keys, a repeated key keeping its first place and its last
//! value (as Jackson's `ObjectNode` does).

use std::fmt;

use crate::Value;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The key under which serde_json (with `arbitrary_precision`) hands a
/// number's text to a visitor, as a one-entry map.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Objects up to this many keys find repeats by scanning; bigger ones
/// through an index of their keys.
const SCAN_KEYS: usize = 32;

/// Decodes one JSON document, failing on anything after it. The scanner
/// in `json_scan` takes what it can; the rest (bad input among it) goes
/// through serde_json, which gives the same values and names the place of
/// an error.
pub fn decode(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    if let Some(v) = super::json_scan::scan(bytes) {
        return Ok(v);
    }
    through_serde(bytes)
}

pub(super) fn through_serde(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = Plain.deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// Whether an object whose first key is `key` is serde_json's wrapping of
/// a number's text (the scanner leaves such objects to serde_json).
pub(super) fn is_number_token(key: &str) -> bool {
    key == NUMBER_TOKEN
}

/// An object's entries as they are read: a repeated key keeps its first
/// place and takes the last value.
pub(super) struct Entries {
    entries: Vec<(Value, Value)>,
    /// Where each key stands, once the object is too big to scan.
    index: Option<std::collections::HashMap<String, usize>>,
}

impl Entries {
    pub(super) fn new() -> Self {
        Self {
            entries: Vec::with_capacity(8),
            index: None,
        }
    }

    pub(super) fn insert(&mut self, k: String, v: Value) {
        let entries = &mut self.entries;
        if self.index.is_none() && entries.len() >= SCAN_KEYS {
            self.index = Some(
                entries
                    .iter()
                    .enumerate()
                    .filter_map(|(i, (e, _))| match e {
                        Value::String(s) => Some((s.clone(), i)),
                        _ => None,
                    })
                    .collect(),
            );
        }
        let seen = match &self.index {
            Some(at) => at.get(&k).copied(),
            None => entries
                .iter()
                .position(|(e, _)| matches!(e, Value::String(s) if *s == k)),
        };
        match seen {
            Some(i) => entries[i].1 = v,
            None => {
                if let Some(at) = self.index.as_mut() {
                    at.insert(k.clone(), entries.len());
                }
                entries.push((Value::String(k), v));
            }
        }
    }

    /// The map, in a list of its own size: records hold their values
    /// until they are sent, and a tight list keeps the records of a batch
    /// close together in memory, which is what reading them back costs.
    pub(super) fn finish(mut self) -> Value {
        if self.entries.capacity() == self.entries.len() {
            return Value::Map(self.entries);
        }
        let mut tight = Vec::with_capacity(self.entries.len());
        tight.append(&mut self.entries);
        Value::Map(tight)
    }
}

pub(super) fn number(text: &str) -> Option<Value> {
    match text.parse::<i64>() {
        Ok(i) => Some(Value::Int64(i)),
        Err(_) => text.parse::<f64>().ok().map(Value::Float64),
    }
}

#[derive(Clone, Copy)]
struct Plain;

impl<'de> DeserializeSeed<'de> for Plain {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Plain {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Boolean(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int64(i))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(i64::try_from(u).map_or(Value::Float64(u as f64), Value::Int64))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float64(f))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(v) = seq.next_element_seed(Plain)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let Some(first) = map.next_key::<String>()? else {
            return Ok(Value::Map(Vec::new()));
        };
        if first == NUMBER_TOKEN {
            let text: String = map.next_value()?;
            return number(&text)
                .ok_or_else(|| serde::de::Error::custom(format!("invalid number {text}")));
        }
        let mut entries = Entries::new();
        let mut key = Some(first);
        while let Some(k) = key {
            let v = map.next_value_seed(Plain)?;
            entries.insert(k, v);
            key = map.next_key::<String>()?;
        }
        Ok(entries.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn via_serde_json(text: &str) -> Value {
        fn conv(j: &serde_json::Value) -> Value {
            match j {
                serde_json::Value::Null => Value::Null,
                serde_json::Value::Bool(b) => Value::Boolean(*b),
                serde_json::Value::Number(n) => match n.as_i64() {
                    Some(i) => Value::Int64(i),
                    None => Value::Float64(n.as_f64().unwrap_or(f64::NAN)),
                },
                serde_json::Value::String(s) => Value::String(s.clone()),
                serde_json::Value::Array(a) => Value::Array(a.iter().map(conv).collect()),
                serde_json::Value::Object(o) => Value::Map(
                    o.iter()
                        .map(|(k, v)| (Value::String(k.clone()), conv(v)))
                        .collect(),
                ),
            }
        }
        conv(&serde_json::from_str(text).expect("valid JSON"))
    }

    #[test]
    fn decodes_as_serde_json_values_would() {
        let mut big = String::from("{");
        for i in 0..40 {
            big.push_str(&format!("\"k{}\":{i},", i % 35));
        }
        big.push_str("\"end\":null}");
        for text in [
            r#"{"number": 5}"#,
            r#"{"id":1,"name":"a\"b","amount":12.50,"ts":"2026-01-01 00:00:00+00"}"#,
            r#"[1, -2, 9223372036854775807, 9223372036854775808, 1e3, 1.5, -0, true, null, "é"]"#,
            r#"{"a":{"b":[{"c":{}}, []]},"a":2,"z":1}"#,
            r#""just text""#,
            "17",
            "-3.25",
            "null",
            &big,
        ] {
            assert_eq!(
                decode(text.as_bytes()).expect(text),
                via_serde_json(text),
                "{text}"
            );
        }
    }

    #[test]
    fn a_repeated_key_keeps_its_place_and_its_last_value() {
        let v = decode(br#"{"a":1,"b":2,"a":3}"#).expect("valid");
        assert_eq!(
            v,
            Value::Map(vec![
                (Value::String("a".into()), Value::Int64(3)),
                (Value::String("b".into()), Value::Int64(2)),
            ])
        );
    }

    #[test]
    fn bad_input_names_the_place() {
        let e = decode(br#"{"a":1,}"#).expect_err("trailing comma");
        assert!(e.to_string().contains("column 8"), "{e}");
        let e = decode(br#"{"a":1} x"#).expect_err("trailing text");
        assert!(e.to_string().contains("trailing characters"), "{e}");
    }
}
