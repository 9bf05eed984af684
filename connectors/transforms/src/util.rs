//! What the transforms share: the side of the record they work on, Kafka's
//! `Requirements` checks and messages, schema copying, a small schema cache,
//! and settings parsing helpers.

use std::sync::Arc;

use connect_api::config::{Config, Parsed};
use connect_api::{ConnectError, ConnectRecord, Schema, SchemaAndValue, Struct, Value};

/// The part of the record a `$Key` or `$Value` transform works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Key,
    Value,
}

impl Side {
    pub fn get(self, r: &dyn ConnectRecord) -> &SchemaAndValue {
        match self {
            Side::Key => r.key(),
            Side::Value => r.value(),
        }
    }

    pub fn get_mut(self, r: &mut dyn ConnectRecord) -> &mut SchemaAndValue {
        match self {
            Side::Key => r.key_mut(),
            Side::Value => r.value_mut(),
        }
    }
}

/// The Java class name Kafka's messages print for a value.
pub fn java_class(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Boolean(_) => "java.lang.Boolean",
        Value::Int8(_) => "java.lang.Byte",
        Value::Int16(_) => "java.lang.Short",
        Value::Int32(_) => "java.lang.Integer",
        Value::Int64(_) => "java.lang.Long",
        Value::Float32(_) => "java.lang.Float",
        Value::Float64(_) => "java.lang.Double",
        Value::String(_) => "java.lang.String",
        Value::Bytes(_) => "[B",
        Value::Array(_) => "java.util.ArrayList",
        Value::Map(_) => "java.util.HashMap",
        Value::Struct(_) => "org.apache.kafka.connect.data.Struct",
        Value::Decimal(_) => "java.math.BigDecimal",
        Value::Date(_) | Value::Time(_) | Value::Timestamp(_) => "java.util.Date",
    }
}

/// Kafka's `requireStruct`.
pub fn require_struct<'a>(v: &'a Value, purpose: &str) -> Result<&'a Struct, ConnectError> {
    match v {
        Value::Struct(s) => Ok(s),
        other => Err(ConnectError::data(format!(
            "Only Struct objects supported for [{purpose}], found: {}",
            java_class(other)
        ))),
    }
}

/// Kafka's `requireMap`: schemaless values must be maps.
pub fn require_map<'a>(v: &'a Value, purpose: &str) -> Result<&'a [(Value, Value)], ConnectError> {
    match v {
        Value::Map(m) => Ok(m),
        other => Err(ConnectError::data(format!(
            "Only Map objects supported in absence of schema for [{purpose}], found: {}",
            java_class(other)
        ))),
    }
}

/// Kafka's `requireSchema`.
pub fn require_schema<'a>(
    s: &'a Option<Arc<Schema>>,
    purpose: &str,
) -> Result<&'a Arc<Schema>, ConnectError> {
    s.as_ref()
        .ok_or_else(|| ConnectError::data(format!("Schema required for [{purpose}]")))
}

/// A map entry's value by string key.
pub fn map_get<'a>(m: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    m.iter()
        .find(|(k, _)| matches!(k, Value::String(s) if s == key))
        .map(|(_, v)| v)
}

/// Sets a string key of a map, keeping the position of an existing entry.
pub fn map_put(m: &mut Vec<(Value, Value)>, key: &str, value: Value) {
    match m
        .iter_mut()
        .find(|(k, _)| matches!(k, Value::String(s) if s == key))
    {
        Some(slot) => slot.1 = value,
        None => m.push((Value::String(key.to_string()), value)),
    }
}

/// The text of a map key (string keys as they are, others as Java prints them).
pub fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => connect_api::text::value_text(other),
    }
}

/// A struct schema with `source`'s name, version, doc and parameters and
/// no fields (Kafka's `SchemaUtil.copySchemaBasics`).
pub fn struct_basics(source: &Schema) -> Schema {
    Schema {
        name: source.name.clone(),
        version: source.version,
        doc: source.doc.clone(),
        parameters: source.parameters.clone(),
        ..Schema::structure()
    }
}

/// A field's value as the transform reads it: with `replace.null.with.default`
/// a null takes the field's default, otherwise it stays null.
pub fn field_value(s: &Struct, index: usize, with_default: bool) -> Value {
    let v = s.value_at(index).cloned().unwrap_or(Value::Null);
    if with_default && v.is_null() {
        if let Some(d) = s
            .schema
            .fields
            .get(index)
            .and_then(|f| f.schema.default.clone())
        {
            return d;
        }
    }
    v
}

/// Schemas derived from input schemas, remembered by input (Kafka keeps an
/// LRU of 16 per transform). Inputs are compared by pointer first: a
/// converter or a source task that reuses its schema makes the lookup free.
#[derive(Default)]
pub struct SchemaCache {
    entries: Vec<(Arc<Schema>, Arc<Schema>)>,
}

const CACHE_SIZE: usize = 16;

impl SchemaCache {
    pub fn get_or(
        &mut self,
        input: &Arc<Schema>,
        derive: impl FnOnce(&Schema) -> Result<Schema, ConnectError>,
    ) -> Result<Arc<Schema>, ConnectError> {
        if let Some(i) = self
            .entries
            .iter()
            .position(|(k, _)| Arc::ptr_eq(k, input) || **k == **input)
        {
            if i > 0 {
                let e = self.entries.remove(i);
                self.entries.insert(0, e);
            }
            return Ok(self.entries[0].1.clone());
        }
        let out = Arc::new(derive(input)?);
        self.entries.insert(0, (input.clone(), out.clone()));
        self.entries.truncate(CACHE_SIZE);
        Ok(out)
    }
}

/// A string setting; `None` when absent, null or empty.
pub fn opt_string(c: &Config, key: &str) -> Option<String> {
    c.string(key).filter(|s| !s.is_empty()).map(str::to_string)
}

/// A list setting (empty when absent).
pub fn list(c: &Config, key: &str) -> Vec<String> {
    c.list(key).map(<[String]>::to_vec).unwrap_or_default()
}

/// A boolean setting with a default.
pub fn boolean(c: &Config, key: &str, default: bool) -> bool {
    match c.get(key) {
        Some(Parsed::Bool(b)) => *b,
        _ => default,
    }
}

/// Kafka's `NonEmptyListValidator`.
pub fn non_empty_list(v: &Parsed) -> Result<(), String> {
    match v {
        Parsed::List(l) if l.is_empty() => Err("Empty list".into()),
        _ => Ok(()),
    }
}

/// Kafka's "Invalid value ... for configuration ...: ..." message.
pub fn invalid(key: &str, value: &str, reason: &str) -> String {
    format!("Invalid value {value} for configuration {key}: {reason}")
}

/// A Java regular expression as the `regex` crate reads it (the common
/// syntax is shared; possessive quantifiers and lookaround are refused
/// with the crate's message). Whole-string matching is the caller's.
pub fn java_regex(pattern: &str, anchored: bool) -> Result<regex::Regex, String> {
    let p = if anchored {
        format!("^(?:{pattern})$")
    } else {
        pattern.to_string()
    };
    regex::Regex::new(&p).map_err(|e| e.to_string())
}

/// A Java `Matcher.replaceFirst` replacement (`$1`, `${name}`, `\$`) in the
/// `regex` crate's syntax (`${1}`, `${name}`, `$$`).
/// `groups` is the pattern's number of capture groups: as in Java, `$12`
/// reads group 12 only when there is one, else group 1 and a literal `2`.
pub fn java_replacement(r: &str, groups: usize) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = r.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(x) => out.push(x),
                None => return Err("character to be escaped is missing".into()),
            },
            '$' => match chars.peek() {
                Some('{') => {
                    chars.next();
                    let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    if name.is_empty() {
                        return Err("named capturing group is missing trailing '}'".into());
                    }
                    out.push_str(&format!("${{{name}}}"));
                }
                Some(d) if d.is_ascii_digit() => {
                    let mut n = d.to_digit(10).map_or(0, |d| d as usize);
                    chars.next();
                    while let Some(next) = chars.peek().and_then(|d| d.to_digit(10)) {
                        let longer = n * 10 + next as usize;
                        if longer > groups {
                            break;
                        }
                        n = longer;
                        chars.next();
                    }
                    if n > groups {
                        return Err(format!("No group {n}"));
                    }
                    out.push_str(&format!("${{{n}}}"));
                }
                _ => return Err("Illegal group reference".into()),
            },
            other => out.push(other),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_replacements_translate() {
        assert_eq!(java_replacement("$1-x", 1).as_deref(), Ok("${1}-x"));
        assert_eq!(java_replacement("$10a", 10).as_deref(), Ok("${10}a"));
        assert_eq!(java_replacement("$10a", 1).as_deref(), Ok("${1}0a"));
        assert_eq!(java_replacement("\\$1 ${g}", 1).as_deref(), Ok("$$1 ${g}"));
        assert!(java_replacement("$x", 1).is_err());
        assert!(java_replacement("$2", 1).is_err());
    }
}
