//! The examples of Kafka's and Confluent's documentation and the cases of
//! Kafka's unit tests, as expected outputs, for every transform and
//! predicate, built through `Chain::from_props` with Kafka's class names.
//!
//! Where a documentation page prints an output the real Kafka code does not
//! produce (`!! DOC BUG`), the test expects what Kafka really does. Sources:
//! "Kafka docs" = apache/kafka docs/connect.html; "CP <page>" = Confluent's
//! page for the transform; `XTest.method` = Kafka's unit test; "Kafka source"
//! = behaviour read from the transform's Java source.

mod common;
#[path = "examples/fields.rs"]
mod fields;
#[path = "examples/headers.rs"]
mod headers;
#[path = "examples/routing.rs"]
mod routing;
#[path = "examples/structure.rs"]
mod structure;
#[path = "examples/timestamps.rs"]
mod timestamps;
#[path = "examples/values.rs"]
mod values;

use common::*;
use connect_api::{Schema, SchemaAndValue, Value};

/// The file source chain of the Kafka docs: every line becomes
/// `{"line": ..., "data_source": "test-file-source"}`.
// Kafka docs, connect.html "Transformations" (connect-file-source.properties)
fn file_source_chain() -> connect_transforms::Chain {
    chain_of(&props(&[
        ("name", "local-file-source"),
        ("connector.class", "FileStreamSource"),
        ("tasks.max", "1"),
        ("file", "test.txt"),
        ("topic", "connect-test"),
        ("transforms", "MakeMap, InsertSource"),
        (
            "transforms.MakeMap.type",
            "org.apache.kafka.connect.transforms.HoistField$Value",
        ),
        ("transforms.MakeMap.field", "line"),
        (
            "transforms.InsertSource.type",
            "org.apache.kafka.connect.transforms.InsertField$Value",
        ),
        ("transforms.InsertSource.static.field", "data_source"),
        ("transforms.InsertSource.static.value", "test-file-source"),
    ]))
}

#[test]
fn file_source_chain_turns_schemaless_lines_into_maps_with_data_source() {
    // Kafka docs, connect.html: the consumer shows
    // {"line":"foo","data_source":"test-file-source"} (converters without schemas).
    let mut chain = file_source_chain();
    for line in ["foo", "bar", "hello world"] {
        let mut r = source("connect-test", SchemaAndValue::NULL, schemaless(s(line)));
        assert!(run(&mut chain, &mut r));
        assert_eq!(r.value.schema, None);
        assert_map(
            &r.value.value,
            &[("line", s(line)), ("data_source", s("test-file-source"))],
        );
        assert_eq!(&*r.topic, "connect-test");
        assert_eq!(r.key, SchemaAndValue::NULL);
    }
}

#[test]
fn file_source_chain_turns_string_lines_into_structs_with_optional_data_source() {
    // Kafka docs, connect.html, with FileStreamSource's string value schema:
    // HoistField gives struct{line: string}, InsertField appends
    // data_source: optional string (no `!` suffix).
    let mut chain = file_source_chain();
    for line in ["foo", "bar", "hello world"] {
        let mut r = source(
            "connect-test",
            SchemaAndValue::NULL,
            with_schema(Schema::string(), s(line)),
        );
        assert!(run(&mut chain, &mut r));
        assert_struct(
            &r.value,
            &[
                ("line", Schema::string(), s(line)),
                (
                    "data_source",
                    Schema::string().optional(),
                    s("test-file-source"),
                ),
            ],
        );
        let schema = r.value.schema.as_ref().expect("a schema");
        assert!(!schema.optional);
        assert_eq!(schema.name, None);
    }
    // The value without transforms is the line itself.
    let mut plain = chain_of(&props(&[]));
    let mut r = source("connect-test", SchemaAndValue::NULL, schemaless(s("foo")));
    assert!(run(&mut plain, &mut r));
    assert_eq!(r.value.value, Value::String("foo".into()));
}
