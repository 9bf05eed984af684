//! ExtractField, HoistField, InsertField and ValueToKey.

use crate::common::*;
use connect_api::{Schema, SchemaAndValue, Value};

// ------------------------------------------------------------ ExtractField

#[test]
fn extract_field_doc_example_extracts_id() {
    // CP extractfield.html: {"id": 42, "cost": 4000} -> 42
    let mut t = transform("ExtractField$Value", &[("field", "id")]);
    let input = [("id", Value::Int32(42)), ("cost", Value::Int32(4000))];
    let mut r = sink("t", SchemaAndValue::NULL, schemaless(map(&input)));
    assert!(run(&mut t, &mut r));
    assert_eq!(r.value, schemaless(Value::Int32(42)));
    let schema = Schema::structure()
        .field("id", Schema::int32())
        .field("cost", Schema::int32());
    let mut r = sink("t", SchemaAndValue::NULL, struct_sv(&schema, &input));
    assert!(run(&mut t, &mut r));
    assert_eq!(r.value, with_schema(Schema::int32(), Value::Int32(42)));
}

#[test]
fn extract_field_after_value_to_key_doc_chain_makes_int_key() {
    // CP extractfield.html / valuetokey.html "Chained Transformation"
    let mut chain = chain_of(&props(&[
        ("transforms", "createKey,extractInt"),
        (
            "transforms.createKey.type",
            "org.apache.kafka.connect.transforms.ValueToKey",
        ),
        ("transforms.createKey.fields", "c1"),
        (
            "transforms.extractInt.type",
            "org.apache.kafka.connect.transforms.ExtractField$Key",
        ),
        ("transforms.extractInt.field", "c1"),
    ]));
    let fields = [
        ("c1", Value::Int32(1)),
        ("c2", s("foo")),
        ("create_ts", Value::Int64(1_501_796_305_000)),
        ("update_ts", Value::Int64(1_501_796_305_000)),
    ];
    let schema = Schema::structure()
        .field("c1", Schema::int32().optional())
        .field("c2", Schema::string().optional())
        .field("create_ts", Schema::int64())
        .field("update_ts", Schema::int64());
    let value = struct_sv(&schema, &fields);
    let mut r = source("mysql-foobar", SchemaAndValue::NULL, value.clone());
    assert!(run(&mut chain, &mut r));
    assert_eq!(
        r.key,
        with_schema(Schema::int32().optional(), Value::Int32(1))
    );
    assert_eq!(r.value, value);
    let mut r = source(
        "mysql-foobar",
        SchemaAndValue::NULL,
        schemaless(map(&fields)),
    );
    assert!(run(&mut chain, &mut r));
    assert_eq!(r.key, schemaless(Value::Int32(1)));
}

#[test]
fn extract_field_key_schemaless_with_schema_and_nulls() {
    let mut t = transform("ExtractField$Key", &[("field", "magic")]);
    let apply = |t: &mut connect_transforms::Chain, key: SchemaAndValue| {
        let mut r = sink("test", key, SchemaAndValue::NULL);
        assert!(run(t, &mut r));
        r.key
    };
    // ExtractFieldTest.schemaless
    let key = schemaless(map(&[("magic", Value::Int32(42))]));
    assert_eq!(apply(&mut t, key), schemaless(Value::Int32(42)));
    // ExtractFieldTest.withSchema
    let schema = Schema::structure().field("magic", Schema::int32());
    let key = struct_sv(&schema, &[("magic", Value::Int32(42))]);
    assert_eq!(
        apply(&mut t, key),
        with_schema(Schema::int32(), Value::Int32(42))
    );
    // ExtractFieldTest.nullSchemaless
    assert_eq!(apply(&mut t, SchemaAndValue::NULL), SchemaAndValue::NULL);
    // ExtractFieldTest.testNullWithSchema
    let key = with_schema(schema.clone().optional(), Value::Null);
    assert_eq!(
        apply(&mut t, key),
        with_schema(Schema::int32(), Value::Null)
    );
    // ExtractFieldTest.nonExistentFieldSchemalessShouldReturnNull
    let mut t = transform("ExtractField$Key", &[("field", "nonexistent")]);
    let key = schemaless(map(&[("magic", Value::Int32(42))]));
    assert_eq!(apply(&mut t, key), SchemaAndValue::NULL);
}

#[test]
fn extract_field_unknown_field_with_schema_fails() {
    // ExtractFieldTest.nonExistentFieldWithSchemaShouldFail / nonExistentNestedFieldWithSchemaShouldFail
    let schema =
        Schema::structure().field("magic", Schema::structure().field("foo", Schema::int32()));
    let inner = Schema::structure().field("foo", Schema::int32());
    let key = struct_sv(
        &schema,
        &[("magic", strukt(&inner, &[("foo", Value::Int32(42))]))],
    );
    for (settings, msg) in [
        (
            &[("field", "nonexistent")][..],
            "Unknown field: nonexistent",
        ),
        (
            &[
                ("field", "magic.nonexistent"),
                ("field.syntax.version", "V2"),
            ][..],
            "Unknown field: magic.nonexistent",
        ),
    ] {
        let mut t = transform("ExtractField$Key", settings);
        let mut r = sink("test", key.clone(), SchemaAndValue::NULL);
        assert_eq!(run_err(&mut t, &mut r), msg);
    }
}

#[test]
fn extract_field_null_field_with_default_follows_replace_null_with_default() {
    // ExtractFieldTest.testUnsetOptionalKey / testUnsetOptionalField
    let field_schema = Schema::int32().optional().default_value(Value::Int32(42));
    let schema = Schema::structure().field("optional_with_default", field_schema.clone());
    for (replace, expected) in [("false", Value::Null), ("true", Value::Int32(42))] {
        let mut t = transform(
            "ExtractField$Value",
            &[
                ("field", "optional_with_default"),
                ("replace.null.with.default", replace),
            ],
        );
        let mut r = sink("test", SchemaAndValue::NULL, struct_sv(&schema, &[]));
        assert!(run(&mut t, &mut r));
        assert_eq!(r.value, with_schema(field_schema.clone(), expected));
    }
}

#[test]
fn extract_field_v2_follows_nested_paths() {
    let v2 = |field: &str| {
        transform(
            "ExtractField$Key",
            &[("field", field), ("field.syntax.version", "V2")],
        )
    };
    let inner = Schema::structure().field("foo", Schema::int32());
    let schema = Schema::structure().field("magic", inner.clone());
    // ExtractFieldTest.schemalessAndNestedPath
    let key = schemaless(map(&[("magic", map(&[("foo", Value::Int32(42))]))]));
    let mut r = sink("test", key.clone(), SchemaAndValue::NULL);
    assert!(run(&mut v2("magic.foo"), &mut r));
    assert_eq!(r.key, schemaless(Value::Int32(42)));
    // ExtractFieldTest.nonExistentNestedFieldSchemalessShouldReturnNull
    let mut r = sink("test", key, SchemaAndValue::NULL);
    assert!(run(&mut v2("magic.nonexistent"), &mut r));
    assert_eq!(r.key, SchemaAndValue::NULL);
    // ExtractFieldTest.withSchemaAndNestedPath
    let key = struct_sv(
        &schema,
        &[("magic", strukt(&inner, &[("foo", Value::Int32(42))]))],
    );
    let mut r = sink("test", key, SchemaAndValue::NULL);
    assert!(run(&mut v2("magic.foo"), &mut r));
    assert_eq!(r.key, with_schema(Schema::int32(), Value::Int32(42)));
    // FieldPathNotationTest: backticks quote names that hold dots; a backtick
    // inside an unquoted name is literal; \` escapes a backtick.
    let cases = [
        (
            "foo.bar.baz",
            map(&[("foo", map(&[("bar", map(&[("baz", Value::Int32(1))]))]))]),
        ),
        (
            "foo.`bar.baz`",
            map(&[("foo", map(&[("bar.baz", Value::Int32(1))]))]),
        ),
        (
            "`foo.bar`.baz",
            map(&[("foo.bar", map(&[("baz", Value::Int32(1))]))]),
        ),
        (
            "foo.`bar`.baz",
            map(&[("foo", map(&[("bar", map(&[("baz", Value::Int32(1))]))]))]),
        ),
        ("foo`bar`baz", map(&[("foo`bar`baz", Value::Int32(1))])),
        (
            "foo.`bar\\`.baz`",
            map(&[("foo", map(&[("bar`.baz", Value::Int32(1))]))]),
        ),
    ];
    for (path, key) in cases {
        let mut r = sink("test", schemaless(key), SchemaAndValue::NULL);
        assert!(run(&mut v2(path), &mut r));
        assert_eq!(r.key, schemaless(Value::Int32(1)), "{path}");
    }
}

#[test]
fn extract_field_kip_821_example_with_lower_case_v2() {
    // KIP-821 example: field.syntax.version=v2 (the setting is case-insensitive)
    let mut t = transform(
        "ExtractField$Value",
        &[("field.syntax.version", "v2"), ("field", "parent.child.k2")],
    );
    let value = map(&[
        ("k1", Value::Int32(123)),
        ("parent", map(&[("child", map(&[("k2", s("123"))]))])),
    ]);
    let mut r = sink("t", SchemaAndValue::NULL, schemaless(value));
    assert!(run(&mut t, &mut r));
    assert_eq!(r.value, schemaless(s("123")));
}

#[test]
fn extract_field_v2_unclosed_backtick_is_a_config_error() {
    // FieldPathNotationTest (incomplete backtick pair); raised by
    // ExtractField.configure, so no particular key is expected.
    let mut problems = Vec::new();
    let p = one(
        "ExtractField$Value",
        &[("field", "`foo.bar.baz"), ("field.syntax.version", "V2")],
    );
    expect_configure_error(
        &mut problems,
        &p,
        "Incomplete backtick pair in path: [`foo.bar.baz], consider adding a backslash before backtick at position 0 to escape it",
    );
    no_problems(&problems);
}

#[test]
fn extract_field_syntax_version_must_be_v1_or_v2() {
    // Kafka source (FieldSyntaxVersion: CaseInsensitiveValidString V1, V2)
    let mut problems = Vec::new();
    let p = one(
        "ExtractField$Value",
        &[("field", "a"), ("field.syntax.version", "V3")],
    );
    expect_config_error(
        &mut problems,
        &p,
        "transforms.t.field.syntax.version",
        "String must be one of (case insensitive): V1, V2",
    );
    no_problems(&problems);
}

#[test]
fn extract_field_requires_field() {
    // Kafka ConfigDef (field has no default)
    let mut problems = Vec::new();
    let p = one("ExtractField$Value", &[]);
    expect_config_error(
        &mut problems,
        &p,
        "transforms.t.field",
        "Missing required configuration \"transforms.t.field\" which has no default value.",
    );
    no_problems(&problems);
}

// -------------------------------------------------------------- HoistField

#[test]
fn hoist_field_doc_example_wraps_lines() {
    // CP hoistfield.html: Foo -> {"line":"Foo"}, Bar -> {"line":"Bar"}
    let mut t = transform("HoistField$Value", &[("field", "line")]);
    for line in ["Foo", "Bar"] {
        let mut r = source("t", SchemaAndValue::NULL, schemaless(s(line)));
        assert!(run(&mut t, &mut r));
        assert_eq!(r.value.schema, None);
        assert_map(&r.value.value, &[("line", s(line))]);
    }
}

#[test]
fn hoist_field_key_schemaless_and_with_schema() {
    let mut t = transform("HoistField$Key", &[("field", "magic")]);
    // HoistFieldTest.schemaless
    let mut r = sink("test", schemaless(Value::Int32(42)), SchemaAndValue::NULL);
    assert!(run(&mut t, &mut r));
    assert_eq!(r.key.schema, None);
    assert_map(&r.key.value, &[("magic", Value::Int32(42))]);
    // HoistFieldTest.withSchema
    let mut r = sink(
        "test",
        with_schema(Schema::int32(), Value::Int32(42)),
        SchemaAndValue::NULL,
    );
    assert!(run(&mut t, &mut r));
    assert_struct(&r.key, &[("magic", Schema::int32(), Value::Int32(42))]);
    let schema = r.key.schema.as_ref().expect("a schema");
    assert_eq!((schema.optional, &schema.name), (false, &None));
}

#[test]
fn hoist_field_wraps_null_values_too() {
    // Kafka source (HoistField.apply has no tombstone check)
    let mut t = transform("HoistField$Key", &[("field", "magic")]);
    let mut r = sink("test", SchemaAndValue::NULL, SchemaAndValue::NULL);
    assert!(run(&mut t, &mut r));
    assert_map(&r.key.value, &[("magic", Value::Null)]);
    let mut r = sink(
        "test",
        with_schema(Schema::string().optional(), Value::Null),
        SchemaAndValue::NULL,
    );
    assert!(run(&mut t, &mut r));
    assert_struct(
        &r.key,
        &[("magic", Schema::string().optional(), Value::Null)],
    );
}

#[test]
fn hoist_field_null_into_required_schema_fails() {
    // Kafka source: Struct.put validates the hoisted value
    let mut t = transform("HoistField$Key", &[("field", "magic")]);
    let mut r = sink(
        "test",
        with_schema(Schema::string(), Value::Null),
        SchemaAndValue::NULL,
    );
    assert_eq!(
        run_err(&mut t, &mut r),
        "Invalid value: null used for required field: \"magic\", schema type: STRING"
    );
}

// ------------------------------------------------------------- InsertField

#[test]
fn insert_field_doc_example_inserts_static_field() {
    // CP insertfield.html: adds "MessageSource":"Kafka Connect framework"
    let mut t = transform(
        "InsertField$Value",
        &[
            ("static.field", "MessageSource"),
            ("static.value", "Kafka Connect framework"),
        ],
    );
    let input = [
        ("author", s("Philip K. Dick")),
        ("character", s("Palmer Eldritch")),
    ];
    let mut r = sink("t", SchemaAndValue::NULL, schemaless(map(&input)));
    assert!(run(&mut t, &mut r));
    assert_map(
        &r.value.value,
        &[
            ("author", s("Philip K. Dick")),
            ("character", s("Palmer Eldritch")),
            ("MessageSource", s("Kafka Connect framework")),
        ],
    );
    let schema = Schema::structure()
        .field("author", Schema::string())
        .field("character", Schema::string());
    let mut r = sink("t", SchemaAndValue::NULL, struct_sv(&schema, &input));
    assert!(run(&mut t, &mut r));
    assert_struct(
        &r.value,
        &[
            ("author", Schema::string(), s("Philip K. Dick")),
            ("character", Schema::string(), s("Palmer Eldritch")),
            (
                "MessageSource",
                Schema::string().optional(),
                s("Kafka Connect framework"),
            ),
        ],
    );
}

const INSERT_SETTINGS: [(&str, &str); 5] = [
    ("topic.field", "topic_field!"),
    ("partition.field", "partition_field"),
    ("timestamp.field", "timestamp_field?"),
    ("static.field", "instance_id"),
    ("static.value", "my-instance-id"),
];

#[test]
fn insert_field_copies_schema_and_inserts_configured_fields() {
    // InsertFieldTest.copySchemaAndInsertConfiguredFields
    let mut t = transform("InsertField$Value", &INSERT_SETTINGS);
    let schema = Schema::structure()
        .named("name")
        .version(1)
        .doc("doc")
        .field("magic", Schema::int64().optional());
    let mut r = source(
        "test",
        SchemaAndValue::NULL,
        struct_sv(&schema, &[("magic", Value::Int64(42))]),
    );
    r.timestamp = Some(789);
    assert!(run(&mut t, &mut r));
    let out = r.value.schema.as_ref().expect("a schema");
    assert_eq!(out.name.as_deref(), Some("name"));
    assert_eq!(out.version, Some(1));
    assert_eq!(out.doc.as_deref(), Some("doc"));
    assert_struct(
        &r.value,
        &[
            ("magic", Schema::int64().optional(), Value::Int64(42)),
            ("topic_field", Schema::string(), s("test")),
            (
                "partition_field",
                Schema::int32().optional(),
                Value::Int32(0),
            ),
            (
                "timestamp_field",
                Schema::timestamp().optional(),
                Value::Timestamp(789),
            ),
            (
                "instance_id",
                Schema::string().optional(),
                s("my-instance-id"),
            ),
        ],
    );
}

#[test]
fn insert_field_schemaless_inserts_configured_fields() {
    // InsertFieldTest.schemalessInsertConfiguredFields (timestamp as a Long)
    let mut t = transform("InsertField$Value", &INSERT_SETTINGS);
    let mut r = source(
        "test",
        SchemaAndValue::NULL,
        schemaless(map(&[("magic", Value::Int64(42))])),
    );
    r.timestamp = Some(123);
    assert!(run(&mut t, &mut r));
    assert_map(
        &r.value.value,
        &[
            ("magic", Value::Int64(42)),
            ("topic_field", s("test")),
            ("partition_field", Value::Int32(0)),
            ("timestamp_field", Value::Int64(123)),
            ("instance_id", s("my-instance-id")),
        ],
    );
}

#[test]
fn insert_field_sink_offset_is_inserted() {
    // Kafka source (offset.field: SinkRecord.kafkaOffset as optional int64)
    let mut t = transform("InsertField$Value", &[("offset.field", "offset")]);
    let schema = Schema::structure().field("magic", Schema::int64());
    let mut r = sink(
        "test",
        SchemaAndValue::NULL,
        struct_sv(&schema, &[("magic", Value::Int64(1))]),
    );
    r.offset = 42;
    assert!(run(&mut t, &mut r));
    assert_struct(
        &r.value,
        &[
            ("magic", Schema::int64(), Value::Int64(1)),
            ("offset", Schema::int64().optional(), Value::Int64(42)),
        ],
    );
}

#[test]
fn insert_field_into_schemaless_key_skips_missing_timestamp() {
    // InsertFieldTest.insertKeyFieldsIntoTombstoneEvent: no timestamp, so no
    // timestamp_field entry; the null value stays null.
    let mut t = transform("InsertField$Key", &INSERT_SETTINGS);
    let mut r = source(
        "test",
        schemaless(map(&[("magic", Value::Int64(42))])),
        SchemaAndValue::NULL,
    );
    r.timestamp = None;
    assert!(run(&mut t, &mut r));
    assert_map(
        &r.key.value,
        &[
            ("magic", Value::Int64(42)),
            ("topic_field", s("test")),
            ("partition_field", Value::Int32(0)),
            ("instance_id", s("my-instance-id")),
        ],
    );
    assert_eq!(r.value, SchemaAndValue::NULL);
}

#[test]
fn insert_field_leaves_tombstones_and_null_keys_unchanged() {
    // InsertFieldTest.insertConfiguredFieldsIntoTombstoneEventWithoutSchemaLeavesValueUnchanged /
    // ...WithSchemaLeavesValueUnchanged / insertIntoNullKeyLeavesRecordUnchanged
    let schema = Schema::structure()
        .field("magic", Schema::int64())
        .optional();
    for class in ["InsertField$Value", "InsertField$Key"] {
        let mut t = transform(class, &INSERT_SETTINGS);
        for sv in [
            SchemaAndValue::NULL,
            with_schema(schema.clone(), Value::Null),
        ] {
            let mut r = source("test", sv.clone(), sv);
            let before = r.clone();
            assert!(run(&mut t, &mut r));
            assert_eq!(r, before, "{class}");
        }
    }
}

#[test]
fn insert_field_null_field_with_default_follows_replace_null_with_default() {
    // InsertFieldTest.testUnsetOptionalField
    let field = Schema::int64().optional().default_value(Value::Int64(42));
    let schema = Schema::structure().field("magic_with_default", field.clone());
    for (replace, expected) in [("false", Value::Null), ("true", Value::Int64(42))] {
        let mut settings = INSERT_SETTINGS.to_vec();
        settings.push(("replace.null.with.default", replace));
        let mut t = transform("InsertField$Value", &settings);
        let mut r = source("test", SchemaAndValue::NULL, struct_sv(&schema, &[]));
        assert!(run(&mut t, &mut r));
        let st = as_struct(&r.value.value);
        assert_eq!(stored(st, "magic_with_default"), expected);
    }
}

#[test]
fn insert_field_errors() {
    // InsertFieldTest.topLevelStructRequired
    let mut t = transform("InsertField$Value", &[("topic.field", "topic_field")]);
    let mut r = source(
        "test",
        SchemaAndValue::NULL,
        with_schema(Schema::int32(), Value::Int32(42)),
    );
    assert_eq!(
        run_err(&mut t, &mut r),
        "Only Struct objects supported for [field insertion], found: java.lang.Integer"
    );
    // Kafka source (requireMap)
    let mut r = source("test", SchemaAndValue::NULL, schemaless(Value::Int32(42)));
    assert_eq!(
        run_err(&mut t, &mut r),
        "Only Map objects supported in absence of schema for [field insertion], found: java.lang.Integer"
    );
    // Kafka source (requireSinkRecord for offset.field)
    let mut t = transform("InsertField$Value", &[("offset.field", "offset")]);
    let mut r = source("test", SchemaAndValue::NULL, schemaless(map(&[])));
    assert_eq!(
        run_err(&mut t, &mut r),
        "Only SinkRecord supported for [field insertion], found: org.apache.kafka.connect.source.SourceRecord"
    );
    // Kafka source (InsertField.configure)
    let mut problems = Vec::new();
    expect_configure_error(
        &mut problems,
        &one("InsertField$Value", &[]),
        "No field insertion configured",
    );
    no_problems(&problems);
}

#[test]
fn insert_field_static_field_without_value_is_refused() {
    // Kafka source (InsertField.configure): "Invalid value null for configuration
    // static.value: No value specified for static field: ..."
    let mut problems = Vec::new();
    expect_configure_error(
        &mut problems,
        &one("InsertField$Value", &[("static.field", "instance_id")]),
        "No value specified for static field",
    );
    no_problems(&problems);
}

// -------------------------------------------------------------- ValueToKey

#[test]
fn value_to_key_doc_example_copies_user_city_state() {
    // CP valuetokey.html: fields=userId,city,state
    let mut t = transform("ValueToKey", &[("fields", "userId,city,state")]);
    let input = [
        ("userId", Value::Int32(12)),
        ("address", s("1942 Wilhelm Boulevard")),
        ("city", s("Topeka")),
        ("state", s("KS")),
        ("country", s("US")),
    ];
    let value = schemaless(map(&input));
    let mut r = sink("t", SchemaAndValue::NULL, value.clone());
    assert!(run(&mut t, &mut r));
    assert_eq!(r.key.schema, None);
    assert_map(
        &r.key.value,
        &[
            ("userId", Value::Int32(12)),
            ("city", s("Topeka")),
            ("state", s("KS")),
        ],
    );
    assert_eq!(r.value, value);
    let schema = Schema::structure()
        .field("userId", Schema::int32())
        .field("address", Schema::string())
        .field("city", Schema::string())
        .field("state", Schema::string())
        .field("country", Schema::string());
    let value = struct_sv(&schema, &input);
    let mut r = sink("t", SchemaAndValue::NULL, value.clone());
    assert!(run(&mut t, &mut r));
    assert_struct(
        &r.key,
        &[
            ("userId", Schema::int32(), Value::Int32(12)),
            ("city", Schema::string(), s("Topeka")),
            ("state", Schema::string(), s("KS")),
        ],
    );
    assert_eq!(r.value, value);
}

#[test]
fn value_to_key_schemaless_and_with_schema() {
    let mut t = transform("ValueToKey", &[("fields", "a,b")]);
    let input = [
        ("a", Value::Int32(1)),
        ("b", Value::Int32(2)),
        ("c", Value::Int32(3)),
    ];
    // ValueToKeyTest.schemaless
    let mut r = sink("", SchemaAndValue::NULL, schemaless(map(&input)));
    assert!(run(&mut t, &mut r));
    assert_eq!(r.key.schema, None);
    assert_map(
        &r.key.value,
        &[("a", Value::Int32(1)), ("b", Value::Int32(2))],
    );
    // ValueToKeyTest.withSchema
    let schema = Schema::structure()
        .field("a", Schema::int32())
        .field("b", Schema::int32())
        .field("c", Schema::int32());
    let mut r = sink("", SchemaAndValue::NULL, struct_sv(&schema, &input));
    assert!(run(&mut t, &mut r));
    assert_struct(
        &r.key,
        &[
            ("a", Schema::int32(), Value::Int32(1)),
            ("b", Schema::int32(), Value::Int32(2)),
        ],
    );
    let key_schema = r.key.schema.as_ref().expect("a key schema");
    assert_eq!((key_schema.optional, &key_schema.name), (false, &None));
}

#[test]
fn value_to_key_null_field_with_default_follows_replace_null_with_default() {
    // ValueToKeyTest.testReplaceNullWithDefaultConfig
    let field = Schema::int32().optional().default_value(Value::Int32(42));
    let schema = Schema::structure().field("optional_with_default", field);
    for (replace, expected) in [("false", Value::Null), ("true", Value::Int32(42))] {
        let mut t = transform(
            "ValueToKey",
            &[
                ("fields", "optional_with_default"),
                ("replace.null.with.default", replace),
            ],
        );
        let mut r = sink("", SchemaAndValue::NULL, struct_sv(&schema, &[]));
        assert!(run(&mut t, &mut r));
        assert_eq!(
            stored(as_struct(&r.key.value), "optional_with_default"),
            expected
        );
    }
}

#[test]
fn value_to_key_errors() {
    // ValueToKeyTest.nonExistingField
    let schema = Schema::structure().field("a", Schema::int32());
    let mut t = transform("ValueToKey", &[("fields", "not_exist")]);
    let mut r = sink(
        "",
        SchemaAndValue::NULL,
        struct_sv(&schema, &[("a", Value::Int32(1))]),
    );
    assert_eq!(run_err(&mut t, &mut r), "Field does not exist: not_exist");
    // Kafka source (requireMap on a tombstone)
    let mut r = sink("", SchemaAndValue::NULL, SchemaAndValue::NULL);
    assert_eq!(
        run_err(&mut t, &mut r),
        "Only Map objects supported in absence of schema for [copying fields from value to key], found: null"
    );
    let mut problems = Vec::new();
    expect_config_error(
        &mut problems,
        &one("ValueToKey", &[("fields", "")]),
        "transforms.t.fields",
        "Empty list",
    );
    no_problems(&problems);
}
