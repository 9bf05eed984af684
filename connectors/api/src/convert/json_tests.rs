//! Expected bytes follow Kafka's JsonConverter: `asJsonSchema` key order, Jackson's
//! compact output and Java's number text.

use std::sync::Arc;

use crate::{Decimal, Schema, SchemaAndValue, Struct, Value};

use super::*;
use crate::convert::ConverterConfig;
use crate::text::{java_double_text, java_float_text};

fn conv(props: &[(&str, &str)]) -> JsonConverter {
    let cfg = ConverterConfig::from_pairs(props);
    JsonConverter::new(&cfg).expect("valid config")
}

fn write(c: &JsonConverter, schema: Option<Schema>, value: Value) -> String {
    let data = SchemaAndValue::new(schema.map(Arc::new), value);
    let bytes = c
        .encode("t", &data)
        .expect("converts")
        .expect("not a tombstone");
    String::from_utf8(bytes.into_owned()).expect("utf8")
}

#[test]
fn string_lines_as_filestream_source_writes_them() {
    let c = conv(&[]);
    assert_eq!(
        write(&c, Some(Schema::string()), Value::String("a line".into())),
        r#"{"schema":{"type":"string","optional":false},"payload":"a line"}"#
    );
    let plain = conv(&[("schemas.enable", "false")]);
    assert_eq!(
        write(&plain, Some(Schema::string()), Value::String("x".into())),
        r#""x""#
    );
}

#[test]
fn struct_schema_keys_in_kafka_order() {
    let schema = Schema::structure()
        .named("com.example.Person")
        .field("name", Schema::string())
        .field("age", Schema::int32().optional())
        .field("price", Schema::decimal(2))
        .field("tags", Schema::array(Schema::string()).optional());
    let shared = Arc::new(schema.clone());
    let value = Struct::new(shared)
        .with("name", Value::String("ada".into()))
        .and_then(|s| s.with("age", Value::Int32(36)))
        .and_then(|s| s.with("price", Value::Decimal(Decimal::new(12345, 2))))
        .expect("valid struct");
    let c = conv(&[]);
    let text = write(&c, Some(schema.clone()), Value::Struct(value.clone()));
    assert_eq!(
        text,
        concat!(
            r#"{"schema":{"type":"struct","fields":["#,
            r#"{"type":"string","optional":false,"field":"name"},"#,
            r#"{"type":"int32","optional":true,"field":"age"},"#,
            r#"{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"price"},"#,
            r#"{"type":"array","items":{"type":"string","optional":false},"optional":true,"field":"tags"}],"#,
            r#""optional":false,"name":"com.example.Person"},"#,
            r#""payload":{"name":"ada","age":36,"price":"MDk=","tags":null}}"#
        )
    );
    let back = c.decode("t", Some(text.as_bytes())).expect("reads back");
    assert_eq!(back.value, Value::Struct(value));
    let numeric = conv(&[("decimal.format", "NUMERIC"), ("schemas.enable", "false")]);
    assert_eq!(
        write(
            &numeric,
            Some(Schema::decimal(2)),
            Value::Decimal(Decimal::new(-5, 2))
        ),
        "-0.05"
    );
}

#[test]
fn floats_use_java_text() {
    for (f, text) in [
        (1.5, "1.5"),
        (100.0, "100.0"),
        (1e10, "1.0E10"),
        (0.0001, "1.0E-4"),
        (0.001, "0.001"),
        (1234567.0, "1234567.0"),
        (12345678.0, "1.2345678E7"),
        (-2.5e-7, "-2.5E-7"),
    ] {
        assert_eq!(java_double_text(f), text, "{f}");
    }
    assert_eq!(java_float_text(0.1f32), "0.1");
    let c = conv(&[("schemas.enable", "false")]);
    assert_eq!(
        write(&c, Some(Schema::float64()), Value::Float64(1e10)),
        "1.0E10"
    );
}

#[test]
fn schemaless_maps_keep_a_repeated_key_in_its_first_place_with_its_last_value() {
    let c = conv(&[("schemas.enable", "false")]);
    let key = |k: &str| Value::String(k.into());
    for n in [2, 16, 17, 40] {
        let mut entries: Vec<(Value, Value)> = (0..n)
            .map(|i| (key(&format!("k{i}")), Value::Int64(i)))
            .collect();
        let distinct = format!(
            "{{{}}}",
            (0..n)
                .map(|i| format!("\"k{i}\":{i}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(write(&c, None, Value::Map(entries.clone())), distinct);
        entries.push((key("k0"), Value::Int64(-1)));
        let repeated = distinct.replacen("\"k0\":0", "\"k0\":-1", 1);
        assert_eq!(write(&c, None, Value::Map(entries)), repeated, "{n} keys");
    }
}

#[test]
fn maps_with_non_string_keys_are_pair_arrays() {
    let c = conv(&[("schemas.enable", "false")]);
    let m = Value::Map(vec![(Value::Int32(1), Value::String("a".into()))]);
    assert_eq!(
        write(&c, Some(Schema::map(Schema::int32(), Schema::string())), m),
        r#"[[1,"a"]]"#
    );
}

#[test]
fn envelope_is_required_when_schemas_are_enabled() {
    let c = conv(&[]);
    let err = c.decode("t", Some(br#"{"a":1}"#)).expect_err("no envelope");
    assert!(
        err.to_string()
            .contains("requires \"schema\" and \"payload\" fields"),
        "{err}"
    );
    assert_eq!(
        c.decode("t", None).expect("tombstone"),
        SchemaAndValue::NULL
    );
    let plain = conv(&[("schemas.enable", "false")]);
    let v = plain
        .decode("t", Some(br#"{"a":1,"b":[true,2.5]}"#))
        .expect("schemaless");
    assert_eq!(
        v.value,
        Value::Map(vec![
            (Value::String("a".into()), Value::Int64(1)),
            (
                Value::String("b".into()),
                Value::Array(vec![Value::Boolean(true), Value::Float64(2.5)])
            ),
        ])
    );
    assert!(c.decode("t", Some(b"{not json")).is_err());
}

#[test]
fn cached_schema_text_follows_the_schema_given() {
    let c = conv(&[]);
    let text = Arc::new(Schema::string());
    let number = Arc::new(Schema::int32().optional());
    let enc = |s: &Arc<Schema>, v: Value| {
        let data = SchemaAndValue::new(Some(s.clone()), v);
        let b = c.encode("t", &data).expect("ok").expect("bytes");
        String::from_utf8(b.into_owned()).expect("utf8")
    };
    let a = r#"{"schema":{"type":"string","optional":false},"payload":"a"}"#;
    assert_eq!(enc(&text, Value::String("a".into())), a);
    assert_eq!(enc(&text, Value::String("a".into())), a);
    assert_eq!(
        enc(&number, Value::Int32(7)),
        r#"{"schema":{"type":"int32","optional":true},"payload":7}"#
    );
    assert_eq!(enc(&text, Value::String("a".into())), a);
}

/// The one-pass writer writes what the JSON tree would, value by value.
#[test]
fn one_pass_writing_matches_the_tree() {
    let row = Arc::new(
        Schema::structure()
            .named("row")
            .field("id", Schema::int64())
            .field("f", Schema::float32())
            .field("d", Schema::float64().optional())
            .field("name", Schema::string().optional())
            .field("raw", Schema::bytes())
            .field("amount", Schema::decimal(2))
            .field("day", Schema::date())
            .field("tags", Schema::array(Schema::string()))
            .field("counts", Schema::map(Schema::string(), Schema::int32()))
            .field("pairs", Schema::map(Schema::int32(), Schema::boolean())),
    );
    let st = Struct::new(row.clone())
        .with("id", Value::Int64(-7))
        .and_then(|s| s.with("f", Value::Float32(1.0e10)))
        .and_then(|s| s.with("d", Value::Float64(f64::NAN)))
        .and_then(|s| s.with("name", Value::String("tab\t \"quote\" ☃ \u{1}".into())))
        .and_then(|s| s.with("raw", Value::Bytes(vec![0, 255, 16])))
        .and_then(|s| s.with("amount", Value::Decimal(Decimal::new(-1234, 2))))
        .and_then(|s| s.with("day", Value::Date(19_737)))
        .and_then(|s| s.with("tags", Value::Array(vec![Value::String("a".into())])))
        .and_then(|s| {
            s.with(
                "counts",
                Value::Map(vec![(Value::String("k".into()), Value::Int32(1))]),
            )
        })
        .and_then(|s| {
            s.with(
                "pairs",
                Value::Map(vec![(Value::Int32(1), Value::Boolean(true))]),
            )
        })
        .expect("valid struct");
    let schemaless_dup = Value::Map(vec![
        (Value::String("a".into()), Value::Int64(1)),
        (Value::String("b".into()), Value::Float64(0.1)),
        (Value::String("a".into()), Value::Int64(3)),
    ]);
    for props in [
        &[][..],
        &[("schemas.enable", "false")][..],
        &[("decimal.format", "NUMERIC")][..],
    ] {
        let c = conv(props);
        for (schema, value) in [
            (Some(row.clone()), Value::Struct(st.clone())),
            (None, schemaless_dup.clone()),
            (
                None,
                Value::Array(vec![Value::Null, Value::Float64(-1.5e-7)]),
            ),
            (Some(Arc::new(Schema::string().optional())), Value::Null),
        ] {
            let data = SchemaAndValue::new(schema.clone(), value.clone());
            let fast = c.encode("t", &data).expect("encodes").expect("bytes");
            let tree = c.value_to_json(schema.as_deref(), &value).expect("tree");
            let mut payload = String::new();
            write_compact(&tree, &mut payload);
            let text = String::from_utf8(fast.into_owned()).expect("utf8");
            assert!(
                text.ends_with(&format!("{payload}}}")) || text == payload,
                "{props:?}: {text} vs {payload}"
            );
        }
    }
}
