//! Helpers for the example tests: connector settings, chains, records,
//! values and field-by-field assertions.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use connect_api::{
    ConnectError, ConnectRecord, Header, Schema, SchemaAndValue, SinkRecord, SourceRecord, Struct,
    TimestampType, Type, Value,
};
use connect_transforms::Chain;

/// Package of Kafka's transforms.
pub const T: &str = "org.apache.kafka.connect.transforms.";
/// Package of Kafka's predicates.
pub const P: &str = "org.apache.kafka.connect.transforms.predicates.";

/// Connector settings from pairs.
pub fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Settings of a one-stage chain: `transforms=t`, `transforms.t.type=<T><class>`
/// and `transforms.t.<key>=<value>` for each setting.
pub fn one(class: &str, settings: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut p = props(&[("transforms", "t")]);
    p.insert("transforms.t.type".into(), format!("{T}{class}"));
    for (k, v) in settings {
        p.insert(format!("transforms.t.{k}"), v.to_string());
    }
    p
}

/// A chain the settings must describe without errors.
pub fn chain_of(p: &BTreeMap<String, String>) -> Chain {
    match Chain::from_props(p) {
        Ok(c) => c,
        Err(e) => panic!("settings {p:?} were refused: {e:?}"),
    }
}

/// A one-stage chain (see [`one`]).
pub fn transform(class: &str, settings: &[(&str, &str)]) -> Chain {
    chain_of(&one(class, settings))
}

/// The errors `Chain::from_props` gives for settings it must refuse.
pub fn config_errors(p: &BTreeMap<String, String>) -> Vec<(String, String)> {
    match Chain::from_props(p) {
        Ok(_) => panic!("settings {p:?} were accepted"),
        Err(e) => e,
    }
}

/// Checks that one error names `key` and contains `text`; a problem is
/// pushed to `problems` (so one test reports every mismatch at once).
pub fn expect_config_error(
    problems: &mut Vec<String>,
    p: &BTreeMap<String, String>,
    key: &str,
    text: &str,
) {
    let errors = match Chain::from_props(p) {
        Ok(_) => {
            problems.push(format!("{p:?}: accepted; expected {key}: {text}"));
            return;
        }
        Err(e) => e,
    };
    if !errors.iter().any(|(k, m)| k == key && m.contains(text)) {
        problems.push(format!(
            "{p:?}: expected an error on {key} containing {text:?}, got {errors:?}"
        ));
    }
}

/// Like [`expect_config_error`], for errors Kafka raises in `configure()`
/// (no single key): any key of the stage, message containing `text`.
pub fn expect_configure_error(
    problems: &mut Vec<String>,
    p: &BTreeMap<String, String>,
    text: &str,
) {
    match Chain::from_props(p) {
        Ok(_) => problems.push(format!("{p:?}: accepted; expected {text:?}")),
        Err(errors) => {
            if !errors
                .iter()
                .any(|(k, m)| k.starts_with("transforms.t.") && m.contains(text))
            {
                problems.push(format!("{p:?}: expected {text:?}, got {errors:?}"));
            }
        }
    }
}

/// Fails with every collected problem.
pub fn no_problems(problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Applies the chain; true when the record is kept.
pub fn run(chain: &mut Chain, record: &mut dyn ConnectRecord) -> bool {
    match chain.apply(record) {
        Ok(kept) => kept,
        Err(e) => panic!("the chain failed: {e}"),
    }
}

/// The message of the error the chain must fail with.
pub fn run_err(chain: &mut Chain, record: &mut dyn ConnectRecord) -> String {
    match chain.apply(record) {
        Ok(kept) => panic!("the chain succeeded (kept: {kept}); an error was expected"),
        Err(e) => message(&e.error),
    }
}

/// The text of an error without the kind prefix.
pub fn message(e: &ConnectError) -> String {
    match e {
        ConnectError::Retriable(m) | ConnectError::Data(m) | ConnectError::Fatal(m) => m.clone(),
    }
}

pub fn s(text: &str) -> Value {
    Value::String(text.to_string())
}

/// A schemaless map with string keys, in the given order.
pub fn map(entries: &[(&str, Value)]) -> Value {
    Value::Map(entries.iter().map(|(k, v)| (s(k), v.clone())).collect())
}

pub fn with_schema(schema: Schema, value: Value) -> SchemaAndValue {
    SchemaAndValue::new(Some(Arc::new(schema)), value)
}

pub fn schemaless(value: Value) -> SchemaAndValue {
    SchemaAndValue::new(None, value)
}

/// A struct value of `schema` with the given fields set (others null).
pub fn strukt(schema: &Schema, fields: &[(&str, Value)]) -> Value {
    let mut st = Struct::new(Arc::new(schema.clone()));
    for (name, v) in fields {
        st.put(name, v.clone())
            .unwrap_or_else(|e| panic!("field {name} of the test struct: {e}"));
    }
    Value::Struct(st)
}

/// A struct value with its schema.
pub fn struct_sv(schema: &Schema, fields: &[(&str, Value)]) -> SchemaAndValue {
    with_schema(schema.clone(), strukt(schema, fields))
}

/// A sink record: partition 0, offset 0, no timestamp, no headers.
pub fn sink(topic: &str, key: SchemaAndValue, value: SchemaAndValue) -> SinkRecord {
    SinkRecord {
        topic: topic.to_string(),
        partition: 0,
        offset: 0,
        key,
        value,
        timestamp: None,
        timestamp_type: TimestampType::CreateTime,
        headers: Vec::new(),
        original_topic: topic.to_string(),
        original_partition: 0,
        original_offset: 0,
    }
}

/// A source record: partition 0, timestamp 0, no headers.
pub fn source(topic: &str, key: SchemaAndValue, value: SchemaAndValue) -> SourceRecord {
    let mut r = SourceRecord::new(serde_json::Map::new(), None, topic, value);
    r.key = key;
    r.partition = Some(0);
    r.timestamp = Some(0);
    r
}

pub fn header(key: &str, schema: Option<Schema>, value: Value) -> Header {
    Header {
        key: key.to_string(),
        value: SchemaAndValue::new(schema.map(Arc::new), value),
    }
}

/// A string header with the string schema (what Kafka's tests add).
pub fn string_header(key: &str, value: &str) -> Header {
    header(key, Some(Schema::string()), s(value))
}

/// The struct inside a value.
pub fn as_struct(v: &Value) -> &Struct {
    match v {
        Value::Struct(st) => st,
        other => panic!("expected a struct, found {other:?}"),
    }
}

/// A struct field's value as stored (no default applied).
pub fn stored(st: &Struct, name: &str) -> Value {
    let f = st
        .schema
        .field_named(name)
        .unwrap_or_else(|| panic!("no field {name} in {:?}", st.schema));
    st.value_at(f.index).cloned().unwrap_or(Value::Null)
}

/// Checks a schemaless map entry by entry, in any order (Kafka builds most
/// of them as `HashMap`s).
pub fn assert_map(actual: &Value, expected: &[(&str, Value)]) {
    let Value::Map(entries) = actual else {
        panic!("expected a map, found {actual:?}");
    };
    for (k, v) in expected {
        let found: Vec<&Value> = entries
            .iter()
            .filter(|(key, _)| *key == s(k))
            .map(|(_, v)| v)
            .collect();
        assert_eq!(found, vec![v], "map entry {k} of {actual:?}");
    }
    assert_eq!(
        entries.len(),
        expected.len(),
        "number of entries of {actual:?}"
    );
}

/// Checks a struct with schema field by field: field names in order, each
/// field's schema and its stored value.
pub fn assert_struct(actual: &SchemaAndValue, expected: &[(&str, Schema, Value)]) {
    let schema = actual
        .schema
        .as_ref()
        .unwrap_or_else(|| panic!("expected a schema with {:?}", actual.value));
    assert_eq!(schema.kind, Type::Struct, "schema kind of {schema:?}");
    let names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
    let want: Vec<&str> = expected.iter().map(|(n, _, _)| *n).collect();
    assert_eq!(names, want, "field names");
    let st = as_struct(&actual.value);
    for (name, field_schema, value) in expected {
        let f = schema.field_named(name).expect("field listed above");
        assert_eq!(*f.schema, *field_schema, "schema of field {name}");
        assert_eq!(stored(st, name), *value, "value of field {name}");
    }
    assert_eq!(
        *st.schema, **schema,
        "the struct's own schema is the record's"
    );
}
