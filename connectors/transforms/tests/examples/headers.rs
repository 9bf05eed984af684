//! DropHeaders, HeaderFrom and InsertHeader.

use crate::common::*;
use connect_api::{Header, Schema, SchemaAndValue, SourceRecord, Value};

/// DropHeadersTest/InsertHeaderTest's record: key "key", value "value", timestamp 0.
fn headers_record(headers: Vec<Header>) -> SourceRecord {
    let mut r = source("topic", schemaless(s("key")), schemaless(s("value")));
    r.headers = headers;
    r
}

/// The record after the chain, checking the rest of it is unchanged.
fn only_headers_change(chain: &mut connect_transforms::Chain, headers: Vec<Header>) -> Vec<Header> {
    let mut r = headers_record(headers);
    let before = r.clone();
    assert!(run(chain, &mut r));
    assert_eq!(
        (&r.topic, &r.key, &r.value, r.timestamp),
        (&before.topic, &before.key, &before.value, before.timestamp)
    );
    r.headers
}

// ------------------------------------------------------------- DropHeaders

#[test]
fn drop_headers_doc_example_drops_app_id_and_txn_id() {
    // CP dropheaders.html: headers=app.id,txn.id
    let mut t = transform("DropHeaders", &[("headers", "app.id,txn.id")]);
    let out = only_headers_change(
        &mut t,
        vec![
            string_header("app.id", "a"),
            string_header("other", "o"),
            string_header("txn.id", "t"),
        ],
    );
    assert_eq!(out, vec![string_header("other", "o")]);
}

#[test]
fn drop_headers_drops_every_occurrence_and_keeps_the_rest() {
    let mut t = transform("DropHeaders", &[("headers", "to-drop")]);
    // DropHeadersTest.dropExistingHeader
    let out = only_headers_change(
        &mut t,
        vec![
            string_header("existing", "existing-value"),
            string_header("to-drop", "existing-value"),
        ],
    );
    assert_eq!(out, vec![string_header("existing", "existing-value")]);
    // DropHeadersTest.dropExistingHeaderWithMultipleValues
    let out = only_headers_change(
        &mut t,
        vec![
            string_header("existing", "existing-value"),
            string_header("to-drop", "existing-value"),
            string_header("to-drop", "existing-other-value"),
        ],
    );
    assert_eq!(out, vec![string_header("existing", "existing-value")]);
    // DropHeadersTest.dropNonExistingHeader
    let out = only_headers_change(&mut t, vec![string_header("existing", "existing-value")]);
    assert_eq!(out, vec![string_header("existing", "existing-value")]);
}

#[test]
fn drop_headers_refuses_an_empty_list() {
    // DropHeadersTest.configRejectsEmptyList
    let mut problems = Vec::new();
    expect_config_error(
        &mut problems,
        &one("DropHeaders", &[("headers", "")]),
        "transforms.t.headers",
        "Empty list",
    );
    no_problems(&problems);
}

// -------------------------------------------------------------- HeaderFrom

#[test]
fn header_from_doc_example_moves_id_and_ts_to_headers() {
    // CP headerfrom.html: fields=id,ts headers=record_id,event_timestamp operation=move
    let input = [
        ("id", Value::Int32(24)),
        ("ts", Value::Int64(1_626_102_708_861)),
        ("name", s("John Smith")),
        ("book", s("Kafka: The Definitive Guide")),
    ];
    for operation in ["move", "copy"] {
        let mut t = transform(
            "HeaderFrom$Value",
            &[
                ("fields", "id,ts"),
                ("headers", "record_id,event_timestamp"),
                ("operation", operation),
            ],
        );
        let mut r = source("topic", SchemaAndValue::NULL, schemaless(map(&input)));
        r.headers = vec![string_header("source", "RedditSource")];
        assert!(run(&mut t, &mut r));
        let kept = if operation == "move" {
            &input[2..]
        } else {
            &input[..]
        };
        assert_map(&r.value.value, kept);
        assert_eq!(
            r.headers,
            vec![
                string_header("source", "RedditSource"),
                header("record_id", None, Value::Int32(24)),
                header("event_timestamp", None, Value::Int64(1_626_102_708_861)),
            ],
            "{operation}"
        );
    }
}

/// One HeaderFromTest case run for $Key and $Value, with and without schema.
/// `fields` are the input fields, `kept` the names left after the transform,
/// `added` the (header, field) pairs appended after `existing`.
fn header_from_case(
    settings: &[(&str, &str)],
    fields: &[(&str, Schema, Value)],
    existing: &[Header],
    kept: &[&str],
    added: &[(&str, &str)],
) {
    let mut schema = Schema::structure();
    for (n, sch, _) in fields {
        schema = schema.field(n, sch.clone());
    }
    let values: Vec<(&str, Value)> = fields.iter().map(|(n, _, v)| (*n, v.clone())).collect();
    for side in ["Key", "Value"] {
        for with in [true, false] {
            let input = if with {
                struct_sv(&schema, &values)
            } else {
                schemaless(map(&values))
            };
            let mut t = transform(&format!("HeaderFrom${side}"), settings);
            let mut r = if side == "Key" {
                source("topic", input, schemaless(s("value")))
            } else {
                source("topic", schemaless(s("key")), input)
            };
            r.headers = existing.to_vec();
            assert!(run(&mut t, &mut r));
            let (out, other) = if side == "Key" {
                (&r.key, &r.value)
            } else {
                (&r.value, &r.key)
            };
            assert_eq!(other.value, s(if side == "Key" { "value" } else { "key" }));
            let what = format!("{settings:?} on {side}, schema: {with}");
            let field = |n: &str| {
                fields
                    .iter()
                    .find(|(f, _, _)| *f == n)
                    .expect("a field")
                    .clone()
            };
            if with {
                let want: Vec<(&str, Schema, Value)> = kept.iter().map(|n| field(n)).collect();
                assert_struct(out, &want);
            } else {
                let want: Vec<(&str, Value)> = kept.iter().map(|n| (*n, field(n).2)).collect();
                assert_map(&out.value, &want);
            }
            let mut want = existing.to_vec();
            for (h, f) in added {
                let (_, sch, v) = field(f);
                want.push(header(h, with.then_some(sch), v));
            }
            assert_eq!(r.headers, want, "{what}");
        }
    }
}

#[test]
fn header_from_copies_and_moves_fields_for_key_and_value() {
    let str_fields = [
        ("field1", Schema::string(), s("field1-value")),
        ("field2", Schema::string(), s("field2-value")),
    ];
    let existing = [string_header("header1", "existing-value")];
    let f1 = [("fields", "field1"), ("headers", "inserted1")];
    // HeaderFromTest "basic copy" / "basic move"
    let copy = [f1[0], f1[1], ("operation", "copy")];
    header_from_case(
        &copy,
        &str_fields,
        &existing,
        &["field1", "field2"],
        &[("inserted1", "field1")],
    );
    let mv = [f1[0], f1[1], ("operation", "move")];
    header_from_case(
        &mv,
        &str_fields,
        &existing,
        &["field2"],
        &[("inserted1", "field1")],
    );
    // HeaderFromTest "copy/move with preexisting header": appended, not replaced
    let pre = [string_header("inserted1", "existing-value")];
    header_from_case(
        &copy,
        &str_fields,
        &pre,
        &["field1", "field2"],
        &[("inserted1", "field1")],
    );
    header_from_case(
        &mv,
        &str_fields,
        &pre,
        &["field2"],
        &[("inserted1", "field1")],
    );
    // HeaderFromTest "copy/move with struct value"
    let inner = Schema::structure().field("foo", Schema::string());
    let struct_fields = [
        (
            "field1",
            inner.clone(),
            strukt(&inner, &[("foo", s("foo-value"))]),
        ),
        ("field2", Schema::string(), s("field2-value")),
    ];
    header_from_case(
        &copy,
        &struct_fields,
        &existing,
        &["field1", "field2"],
        &[("inserted1", "field1")],
    );
    header_from_case(
        &mv,
        &struct_fields,
        &existing,
        &["field2"],
        &[("inserted1", "field1")],
    );
    // HeaderFromTest "two headers from same field"
    let two = [
        ("fields", "field1,field1"),
        ("headers", "inserted1,inserted2"),
        ("operation", "move"),
    ];
    header_from_case(
        &two,
        &str_fields,
        &existing,
        &["field2"],
        &[("inserted1", "field1"), ("inserted2", "field1")],
    );
    // HeaderFromTest "two fields to same header"
    let same = [
        ("fields", "field1,field2"),
        ("headers", "inserted1,inserted1"),
        ("operation", "move"),
    ];
    header_from_case(
        &same,
        &str_fields,
        &existing,
        &[],
        &[("inserted1", "field1"), ("inserted1", "field2")],
    );
}

#[test]
fn header_from_copies_null_field_without_default() {
    // HeaderFromTest "copy/move field with null value and default" (replace.null.with.default=false)
    let opt = Schema::string().optional().default_value(s("default"));
    let fields = [
        ("field1", opt.clone(), s("field1-value")),
        ("field2", opt, Value::Null),
    ];
    let existing = [string_header("header1", "existing-value")];
    for (operation, kept) in [("copy", &["field1", "field2"][..]), ("move", &[][..])] {
        let settings = [
            ("fields", "field1,field2"),
            ("headers", "inserted1,inserted2"),
            ("operation", operation),
            ("replace.null.with.default", "false"),
        ];
        header_from_case(
            &settings,
            &fields,
            &existing,
            kept,
            &[("inserted1", "field1"), ("inserted2", "field2")],
        );
    }
}

#[test]
fn header_from_errors() {
    // Kafka source (requireMap with purpose "header move")
    let mut t = transform(
        "HeaderFrom$Value",
        &[("fields", "a"), ("headers", "b"), ("operation", "move")],
    );
    let mut r = source("topic", SchemaAndValue::NULL, SchemaAndValue::NULL);
    assert_eq!(
        run_err(&mut t, &mut r),
        "Only Map objects supported in absence of schema for [header move], found: null"
    );
    // HeaderFromTest.invalidConfigExtraHeaderConfig / operation validator
    let mut problems = Vec::new();
    let c = "HeaderFrom$Value";
    expect_configure_error(
        &mut problems,
        &one(
            c,
            &[("fields", "a,b"), ("headers", "x"), ("operation", "copy")],
        ),
        "'fields' config must have the same number of elements as 'headers' config.",
    );
    expect_config_error(
        &mut problems,
        &one(
            c,
            &[("fields", "a"), ("headers", "x"), ("operation", "rename")],
        ),
        "transforms.t.operation",
        "String must be one of: move, copy",
    );
    no_problems(&problems);
}

#[test]
fn header_from_refuses_empty_field_list() {
    // HeaderFromTest.invalidConfigEmptyFields... (fields: NonEmptyListValidator)
    let mut problems = Vec::new();
    let c = "HeaderFrom$Value";
    expect_config_error(
        &mut problems,
        &one(c, &[("fields", ""), ("headers", ""), ("operation", "copy")]),
        "transforms.t.fields",
        "Empty list",
    );
    no_problems(&problems);
}

// ------------------------------------------------------------ InsertHeader

#[test]
fn insert_header_doc_example_adds_app_id() {
    // CP insertheader.html: header=app.id value.literal=best-app-ever
    let mut t = transform(
        "InsertHeader",
        &[("header", "app.id"), ("value.literal", "best-app-ever")],
    );
    let out = only_headers_change(&mut t, vec![]);
    assert_eq!(out, vec![string_header("app.id", "best-app-ever")]);
}

#[test]
fn insert_header_appends_after_existing_headers() {
    // InsertHeaderTest.insertionWithExistingOtherHeader
    let mut t = transform(
        "InsertHeader",
        &[("header", "inserted"), ("value.literal", "inserted-value")],
    );
    let out = only_headers_change(&mut t, vec![string_header("existing", "existing-value")]);
    assert_eq!(
        out,
        vec![
            string_header("existing", "existing-value"),
            string_header("inserted", "inserted-value")
        ]
    );
    // InsertHeaderTest.insertionWithExistingSameHeader
    let mut t = transform(
        "InsertHeader",
        &[("header", "existing"), ("value.literal", "inserted-value")],
    );
    let out = only_headers_change(&mut t, vec![string_header("existing", "preexisting-value")]);
    assert_eq!(
        out,
        vec![
            string_header("existing", "preexisting-value"),
            string_header("existing", "inserted-value")
        ]
    );
    // InsertHeaderTest.insertionWithByteHeader
    let mut t = transform(
        "InsertHeader",
        &[("header", "inserted"), ("value.literal", "1")],
    );
    let out = only_headers_change(&mut t, vec![]);
    assert_eq!(
        out,
        vec![header("inserted", Some(Schema::int8()), Value::Int8(1))]
    );
}

#[test]
fn insert_header_types_scalar_literals_as_the_doc_table() {
    // CP insertheader.html's table of value.literal examples (Values.parseString)
    let cases = [
        ("1234", Some(Schema::int16()), Value::Int16(1234)),
        ("true", Some(Schema::boolean()), Value::Boolean(true)),
        ("null", None, Value::Null),
    ];
    for (literal, schema, value) in cases {
        let mut t = transform(
            "InsertHeader",
            &[("header", "h"), ("value.literal", literal)],
        );
        let out = only_headers_change(&mut t, vec![]);
        assert_eq!(out, vec![header("h", schema, value)], "{literal}");
    }
}

#[test]
fn insert_header_types_array_literal_as_the_doc_table() {
    // CP insertheader.html: [-3, 0, 5] -> ARRAY of INT8
    let mut t = transform(
        "InsertHeader",
        &[("header", "h"), ("value.literal", "[-3, 0, 5]")],
    );
    let out = only_headers_change(&mut t, vec![]);
    let array = Value::Array(vec![Value::Int8(-3), Value::Int8(0), Value::Int8(5)]);
    assert_eq!(
        out,
        vec![header("h", Some(Schema::array(Schema::int8())), array)]
    );
}

#[test]
fn insert_header_types_map_literal_as_the_doc_table() {
    // CP insertheader.html: {3.4: 4761, -5.9: -9753186420} -> MAP of FLOAT32 to INT64
    let literal = "{3.4: 4761, -5.9: -9753186420}";
    let mut t = transform(
        "InsertHeader",
        &[("header", "h"), ("value.literal", literal)],
    );
    let out = only_headers_change(&mut t, vec![]);
    let entries = Value::Map(vec![
        (Value::Float32(3.4), Value::Int64(4761)),
        (Value::Float32(-5.9), Value::Int64(-9_753_186_420)),
    ]);
    let schema = Schema::map(Schema::float32(), Schema::int64());
    assert_eq!(out, vec![header("h", Some(schema), entries)]);
}

#[test]
fn insert_header_requires_header_and_literal() {
    // InsertHeaderTest (null header / null value.literal)
    let mut problems = Vec::new();
    for (key, settings) in [
        ("header", [("value.literal", "x")]),
        ("value.literal", [("header", "h")]),
    ] {
        let full = format!("transforms.t.{key}");
        let text = format!("Missing required configuration \"{full}\"");
        expect_config_error(&mut problems, &one("InsertHeader", &settings), &full, &text);
    }
    no_problems(&problems);
}
