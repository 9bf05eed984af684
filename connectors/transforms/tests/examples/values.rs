//! Cast and MaskField.

use crate::common::*;
use connect_api::{Decimal, Schema, SchemaAndValue, Value};

// ---------------------------------------------------------------- Cast

#[test]
fn cast_whole_float64_value_to_string_prints_java_double_text() {
    // CP cast.html "Cast value": 63521704.02 with spec=string.
    // !! DOC BUG: the page prints "63521704.02"; Kafka uses Double.toString.
    let mut t = transform("Cast$Value", &[("spec", "string")]);
    let mut r = sink(
        "t",
        SchemaAndValue::NULL,
        with_schema(Schema::float64(), Value::Float64(63521704.02)),
    );
    assert!(run(&mut t, &mut r));
    assert_eq!(r.value.schema.as_deref(), Some(&Schema::string()));
    assert_eq!(r.value.value, s("6.352170402E7"));
    for (input, text) in [(63521704.02, "6.352170402E7"), (4761.0, "4761.0")] {
        let mut r = sink("t", SchemaAndValue::NULL, schemaless(Value::Float64(input)));
        assert!(run(&mut t, &mut r));
        assert_eq!(r.value, schemaless(s(text)));
    }
}

#[test]
fn cast_field_list_casts_id_to_string_and_score_to_float64() {
    // CP cast.html "Cast comma-separated values": {"ID": 46290, "score": 4761}
    // -> {"ID": "46290", "score": 4761.0}
    let mut t = transform("Cast$Value", &[("spec", "ID:string,score:float64")]);
    let input = [("ID", Value::Int32(46290)), ("score", Value::Int32(4761))];
    let mut r = sink("t", SchemaAndValue::NULL, schemaless(map(&input)));
    assert!(run(&mut t, &mut r));
    assert_eq!(r.value.schema, None);
    assert_map(
        &r.value.value,
        &[("ID", s("46290")), ("score", Value::Float64(4761.0))],
    );
    let schema = Schema::structure()
        .field("ID", Schema::int32())
        .field("score", Schema::int32());
    let mut r = sink("t", SchemaAndValue::NULL, struct_sv(&schema, &input));
    assert!(run(&mut t, &mut r));
    assert_struct(
        &r.value,
        &[
            ("ID", Schema::string(), s("46290")),
            ("score", Schema::float64(), Value::Float64(4761.0)),
        ],
    );
}

#[test]
fn cast_whole_key_int32_to_int8_leaves_value() {
    // CastTest.castWholeRecordKeyWithSchema
    let mut t = transform("Cast$Key", &[("spec", "int8")]);
    let value = with_schema(Schema::string(), s("bogus"));
    let mut r = source(
        "topic",
        with_schema(Schema::int32(), Value::Int32(42)),
        value.clone(),
    );
    assert!(run(&mut t, &mut r));
    assert_eq!(r.key, with_schema(Schema::int8(), Value::Int8(42)));
    assert_eq!(r.value, value);
}

#[test]
fn cast_whole_value_int32_to_every_type_with_and_without_schema() {
    // CastTest.castWholeRecordValueWithSchema{Int8,...,String} and
    // CastTest.castWholeRecordValueSchemaless{Int8,...,String}
    let cases = [
        ("int8", Schema::int8(), Value::Int8(42)),
        ("int16", Schema::int16(), Value::Int16(42)),
        ("int32", Schema::int32(), Value::Int32(42)),
        ("int64", Schema::int64(), Value::Int64(42)),
        ("float32", Schema::float32(), Value::Float32(42.0)),
        ("float64", Schema::float64(), Value::Float64(42.0)),
        ("boolean", Schema::boolean(), Value::Boolean(true)),
        ("string", Schema::string(), s("42")),
    ];
    for (spec, schema, expected) in cases {
        let mut t = transform("Cast$Value", &[("spec", spec)]);
        let mut r = source(
            "topic",
            SchemaAndValue::NULL,
            with_schema(Schema::int32(), Value::Int32(42)),
        );
        assert!(run(&mut t, &mut r));
        assert_eq!(r.value, with_schema(schema, expected.clone()), "{spec}");
        let mut r = source("topic", SchemaAndValue::NULL, schemaless(Value::Int32(42)));
        assert!(run(&mut t, &mut r));
        assert_eq!(r.value, schemaless(expected), "{spec} schemaless");
    }
    // CastTest.castWholeRecordValueWithSchemaBooleanFalse: 0 -> false
    let mut t = transform("Cast$Value", &[("spec", "boolean")]);
    let mut r = source(
        "topic",
        SchemaAndValue::NULL,
        with_schema(Schema::int32(), Value::Int32(0)),
    );
    assert!(run(&mut t, &mut r));
    assert_eq!(r.value.value, Value::Boolean(false));
}

#[test]
fn cast_whole_value_casts_schema_default_too() {
    // CastTest.castWholeRecordDefaultValue: float32 default -42.125 -> int32 default -42
    let mut t = transform("Cast$Value", &[("spec", "int32")]);
    let schema = Schema::float32().default_value(Value::Float32(-42.125));
    let mut r = source(
        "topic",
        SchemaAndValue::NULL,
        with_schema(schema, Value::Float32(42.125)),
    );
    assert!(run(&mut t, &mut r));
    assert_eq!(
        r.value,
        with_schema(
            Schema::int32().default_value(Value::Int32(-42)),
            Value::Int32(42)
        )
    );
}

const FIELD_SPEC: &str =
    "int8:int16,int16:int32,int32:int64,int64:boolean,float32:float64,float64:boolean,boolean:int8,string:int32";

#[test]
fn cast_fields_schemaless() {
    // CastTest.castFieldsSchemaless
    let mut t = transform("Cast$Value", &[("spec", FIELD_SPEC)]);
    let input = map(&[
        ("int8", Value::Int8(8)),
        ("int16", Value::Int16(16)),
        ("int32", Value::Int32(32)),
        ("int64", Value::Int64(64)),
        ("float32", Value::Float32(32.0)),
        ("float64", Value::Float64(-64.0)),
        ("boolean", Value::Boolean(true)),
        ("string", s("42")),
    ]);
    let mut r = source("topic", SchemaAndValue::NULL, schemaless(input));
    assert!(run(&mut t, &mut r));
    assert_eq!(r.value.schema, None);
    assert_map(
        &r.value.value,
        &[
            ("int8", Value::Int16(8)),
            ("int16", Value::Int32(16)),
            ("int32", Value::Int64(32)),
            ("int64", Value::Boolean(true)),
            ("float32", Value::Float64(32.0)),
            ("float64", Value::Boolean(true)),
            ("boolean", Value::Int8(1)),
            ("string", Value::Int32(42)),
        ],
    );
}

#[test]
fn cast_fields_with_schema_gives_fresh_field_schemas_with_cast_defaults() {
    // CastTest.castFieldsWithSchema
    let spec = format!(
        "{FIELD_SPEC},bigdecimal:string,date:string,optional:int32,bytes:string,byteArray:string"
    );
    let mut t = transform("Cast$Value", &[("spec", &spec)]);
    let bytes = Value::Bytes(vec![0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10]);
    let schema = Schema::structure()
        .field("int8", Schema::int8())
        .field("int16", Schema::int16().optional())
        .field("int32", Schema::int32().default_value(Value::Int32(2)))
        .field("int64", Schema::int64())
        .field("float32", Schema::float32())
        .field(
            "float64",
            Schema::float64().default_value(Value::Float64(-1.125)),
        )
        .field("boolean", Schema::boolean())
        .field("string", Schema::string())
        .field("bigdecimal", Schema::decimal(0))
        .field("date", Schema::date())
        .field("optional", Schema::float32().optional())
        .field("timestamp", Schema::timestamp())
        .field("bytes", Schema::bytes())
        .field("byteArray", Schema::bytes());
    let value = struct_sv(
        &schema,
        &[
            ("int8", Value::Int8(8)),
            ("int16", Value::Int16(16)),
            ("int32", Value::Int32(32)),
            ("int64", Value::Int64(64)),
            ("float32", Value::Float32(32.0)),
            ("float64", Value::Float64(-64.0)),
            ("boolean", Value::Boolean(true)),
            ("string", s("42")),
            ("bigdecimal", Value::Decimal(Decimal::new(42, 0))),
            ("date", Value::Date(1)), // 86400000 ms, 1970-01-02
            ("timestamp", Value::Timestamp(0)),
            ("bytes", bytes.clone()),
            ("byteArray", bytes),
        ],
    );
    let mut r = source("topic", SchemaAndValue::NULL, value);
    assert!(run(&mut t, &mut r));
    assert_struct(
        &r.value,
        &[
            ("int8", Schema::int16(), Value::Int16(8)),
            ("int16", Schema::int32().optional(), Value::Int32(16)),
            (
                "int32",
                Schema::int64().default_value(Value::Int64(2)),
                Value::Int64(32),
            ),
            ("int64", Schema::boolean(), Value::Boolean(true)),
            ("float32", Schema::float64(), Value::Float64(32.0)),
            (
                "float64",
                Schema::boolean().default_value(Value::Boolean(true)),
                Value::Boolean(true),
            ),
            ("boolean", Schema::int8(), Value::Int8(1)),
            ("string", Schema::int32(), Value::Int32(42)),
            ("bigdecimal", Schema::string(), s("42")),
            ("date", Schema::string(), s("1970-01-02")),
            ("optional", Schema::int32().optional(), Value::Null),
            ("timestamp", Schema::timestamp(), Value::Timestamp(0)),
            ("bytes", Schema::string(), s("/ty6mHZUMhA=")),
            ("byteArray", Schema::string(), s("/ty6mHZUMhA=")),
        ],
    );
}

#[test]
fn cast_logical_types_to_string() {
    // CastTest.castLogicalToString
    let mut t = transform(
        "Cast$Value",
        &[(
            "spec",
            "date:string,decimal:string,time:string,timestamp:string",
        )],
    );
    let schema = Schema::structure()
        .field("date", Schema::date())
        .field("decimal", Schema::decimal(0))
        .field("time", Schema::time())
        .field("timestamp", Schema::timestamp());
    let value = struct_sv(
        &schema,
        &[
            ("date", Value::Date(1)),
            ("decimal", Value::Decimal(Decimal::new(1982, 0))),
            ("time", Value::Time(3_600_000)),
            ("timestamp", Value::Timestamp(1_705_322_096_789)),
        ],
    );
    let mut r = source("topic", SchemaAndValue::NULL, value);
    assert!(run(&mut t, &mut r));
    assert_struct(
        &r.value,
        &[
            ("date", Schema::string(), s("1970-01-02")),
            ("decimal", Schema::string(), s("1982")),
            ("time", Schema::string(), s("01:00:00.000Z")),
            ("timestamp", Schema::string(), s("2024-01-15T12:34:56.789Z")),
        ],
    );
    // CastTest.castWholeDateRecordValueWithSchemaString
    let mut t = transform("Cast$Value", &[("spec", "string")]);
    let mut r = source(
        "topic",
        SchemaAndValue::NULL,
        with_schema(Schema::timestamp(), Value::Timestamp(86_400_001)),
    );
    assert!(run(&mut t, &mut r));
    assert_eq!(
        r.value.schema.as_ref().map(|s| s.kind),
        Some(connect_api::Type::String)
    );
    assert_eq!(r.value.value, s("1970-01-02T00:00:00.001Z"));
}

#[test]
fn cast_logical_types_to_primitives() {
    // CastTest.castLogicalToPrimitive
    let spec = "date_to_int32:int32,timestamp_to_int64:int64,time_to_int64:int64,decimal_to_int32:int32,timestamp_to_float64:float64,null_timestamp_to_int32:int32";
    let mut t = transform("Cast$Value", &[("spec", spec)]);
    let schema = Schema::structure()
        .field("date_to_int32", Schema::date())
        .field("timestamp_to_int64", Schema::timestamp())
        .field("time_to_int64", Schema::time())
        .field("decimal_to_int32", Schema::decimal(0))
        .field("timestamp_to_float64", Schema::timestamp())
        .field("null_timestamp_to_int32", Schema::timestamp().optional());
    let value = struct_sv(
        &schema,
        &[
            ("date_to_int32", Value::Date(1)),
            ("timestamp_to_int64", Value::Timestamp(0)),
            ("time_to_int64", Value::Time(1)),
            (
                "decimal_to_int32",
                Value::Decimal(Decimal::new(2_147_483_648, 0)),
            ),
            ("timestamp_to_float64", Value::Timestamp(i64::MAX)),
        ],
    );
    let mut r = source("topic", SchemaAndValue::NULL, value);
    assert!(run(&mut t, &mut r));
    assert_struct(
        &r.value,
        &[
            ("date_to_int32", Schema::int32(), Value::Int32(1)),
            ("timestamp_to_int64", Schema::int64(), Value::Int64(0)),
            ("time_to_int64", Schema::int64(), Value::Int64(1)),
            ("decimal_to_int32", Schema::int32(), Value::Int32(i32::MIN)),
            (
                "timestamp_to_float64",
                Schema::float64(),
                Value::Float64(9.223372036854776E18),
            ),
            (
                "null_timestamp_to_int32",
                Schema::int32().optional(),
                Value::Null,
            ),
        ],
    );
}

#[test]
fn cast_null_key_or_value_leaves_record_unchanged() {
    // CastTest.castNullValueRecordWithSchema / castNullValueRecordSchemaless /
    // castNullKeyRecordWithSchema / castNullKeyRecordSchemaless
    let schema = Schema::structure().field("foo", Schema::int64()).optional();
    for class in ["Cast$Value", "Cast$Key"] {
        let mut t = transform(class, &[("spec", "foo:int64")]);
        for sv in [
            with_schema(schema.clone(), Value::Null),
            schemaless(Value::Null),
        ] {
            let mut r = source("topic", sv.clone(), sv);
            let before = r.clone();
            assert!(run(&mut t, &mut r));
            assert_eq!(r, before, "{class}");
        }
    }
}

#[test]
fn cast_null_field_with_default_follows_replace_null_with_default() {
    // CastTest.castFieldWithDefaultValueRecordWithSchema
    let schema = Schema::structure().field(
        "magic",
        Schema::int32().optional().default_value(Value::Int32(10)),
    );
    let out_schema = Schema::string().optional().default_value(s("10"));
    for (replace, expected) in [("false", Value::Null), ("true", s("10"))] {
        let mut t = transform(
            "Cast$Value",
            &[
                ("spec", "magic:string"),
                ("replace.null.with.default", replace),
            ],
        );
        let mut r = source("topic", SchemaAndValue::NULL, struct_sv(&schema, &[]));
        assert!(run(&mut t, &mut r));
        assert_struct(&r.value, &[("magic", out_schema.clone(), expected)]);
    }
}

#[test]
fn cast_record_errors_name_the_unsupported_input() {
    // CastTest.castWholeRecordValueSchemalessUnsupportedType (a List to int8)
    let mut t = transform("Cast$Value", &[("spec", "int8")]);
    let mut r = source(
        "topic",
        SchemaAndValue::NULL,
        schemaless(Value::Array(vec![Value::Int32(1)])),
    );
    assert_eq!(
        run_err(&mut t, &mut r),
        "Cast transformation does not support casting from ARRAY; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]"
    );
    // Kafka source (Cast.castToInteger: NumberFormatException)
    let mut t = transform("Cast$Value", &[("spec", "int32")]);
    let mut r = source("topic", SchemaAndValue::NULL, schemaless(s("foo")));
    assert_eq!(
        run_err(&mut t, &mut r),
        "Value (foo) was out of range for requested data type"
    );
    // Kafka source (requireStruct / requireMap with purpose "cast types")
    let mut t = transform("Cast$Value", &[("spec", "foo:int32")]);
    let mut r = source(
        "topic",
        SchemaAndValue::NULL,
        with_schema(Schema::int32(), Value::Int32(42)),
    );
    assert_eq!(
        run_err(&mut t, &mut r),
        "Only Struct objects supported for [cast types], found: java.lang.Integer"
    );
    let mut r = source("topic", SchemaAndValue::NULL, schemaless(s("x")));
    assert_eq!(
        run_err(&mut t, &mut r),
        "Only Map objects supported in absence of schema for [cast types], found: java.lang.String"
    );
}

#[test]
fn cast_spec_errors_are_reported_on_transforms_t_spec() {
    // CastTest.testConfigEmpty / testConfigInvalidSchemaType /
    // testConfigInvalidTargetType / testUnsupportedTargetType /
    // testConfigInvalidMap / testConfigMixWholeAndFieldTransformation
    let mut problems = Vec::new();
    let cases = [
        ("", "Must specify at least one field to cast."),
        ("foo:faketype", "Invalid type found in casting spec: faketype"),
        ("foo:array", "Cast transformation does not support casting to ARRAY; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]"),
        ("array", "Cast transformation does not support casting to ARRAY"),
        ("foo:bytes", "Cast transformation does not support casting to BYTES"),
        ("foo:int8:extra", "foo:int8:extra"),
        ("foo:int8,int32", "Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec"),
    ];
    for (spec, text) in cases {
        let p = one("Cast$Value", &[("spec", spec)]);
        expect_config_error(&mut problems, &p, "transforms.t.spec", text);
    }
    no_problems(&problems);
}

// ---------------------------------------------------------------- MaskField

#[test]
fn mask_field_doc_example_masks_string_to_empty() {
    // CP maskfield.html "Mask value": string_field "foo" -> ""
    let mut t = transform("MaskField$Value", &[("fields", "string_field")]);
    let input = [
        ("integer_field", Value::Int32(22)),
        ("string_field", s("foo")),
    ];
    let mut r = sink("t", SchemaAndValue::NULL, schemaless(map(&input)));
    assert!(run(&mut t, &mut r));
    assert_map(
        &r.value.value,
        &[("integer_field", Value::Int32(22)), ("string_field", s(""))],
    );
    let schema = Schema::structure()
        .field("integer_field", Schema::int32())
        .field("string_field", Schema::string());
    let mut r = sink("t", SchemaAndValue::NULL, struct_sv(&schema, &input));
    assert!(run(&mut t, &mut r));
    assert_struct(
        &r.value,
        &[
            ("integer_field", Schema::int32(), Value::Int32(22)),
            ("string_field", Schema::string(), s("")),
        ],
    );
}

#[test]
fn mask_field_doc_replacement_chain_masks_ssn_ip_and_phones() {
    // CP maskfield.html "Replace value" (KIP-437); the page gives the config only.
    let mut chain = chain_of(&props(&[
        ("transforms", "SSNMask,IPMask,PhoneMask"),
        (
            "transforms.SSNMask.type",
            "org.apache.kafka.connect.transforms.MaskField$Value",
        ),
        ("transforms.SSNMask.fields", "SSN"),
        ("transforms.SSNMask.replacement", "***-***-****"),
        (
            "transforms.IPMask.type",
            "org.apache.kafka.connect.transforms.MaskField$Value",
        ),
        ("transforms.IPMask.fields", "IPAddress"),
        ("transforms.IPMask.replacement", "xxx.xxx.xxx.xxx"),
        (
            "transforms.PhoneMask.type",
            "org.apache.kafka.connect.transforms.MaskField$Value",
        ),
        ("transforms.PhoneMask.fields", "office,mobile"),
        ("transforms.PhoneMask.replacement", "+0-000-000-0000"),
    ]));
    let input = map(&[
        ("SSN", s("123-45-6789")),
        ("IPAddress", s("10.0.0.1")),
        ("office", s("+1-555-111-2222")),
        ("mobile", s("+1-555-333-4444")),
        ("name", s("x")),
    ]);
    let mut r = sink("t", SchemaAndValue::NULL, schemaless(input));
    assert!(run(&mut chain, &mut r));
    assert_map(
        &r.value.value,
        &[
            ("SSN", s("***-***-****")),
            ("IPAddress", s("xxx.xxx.xxx.xxx")),
            ("office", s("+0-000-000-0000")),
            ("mobile", s("+0-000-000-0000")),
            ("name", s("x")),
        ],
    );
}

#[test]
fn mask_field_schemaless_masks_each_type_to_its_empty_value() {
    // MaskFieldTest.testSchemaless (java.util.Date -> new Date(0))
    let names = "bool,byte,short,int,long,float,double,string,date,bigdec,list,map";
    let mut t = transform(
        "MaskField$Value",
        &[("fields", names), ("replace.null.with.default", "false")],
    );
    let input = map(&[
        ("magic", Value::Int32(42)),
        ("bool", Value::Boolean(true)),
        ("byte", Value::Int8(42)),
        ("short", Value::Int16(42)),
        ("int", Value::Int32(42)),
        ("long", Value::Int64(42)),
        ("float", Value::Float32(42.0)),
        ("double", Value::Float64(42.0)),
        ("string", s("55.121.20.20")),
        ("date", Value::Timestamp(1_705_322_096_789)),
        ("bigdec", Value::Decimal(Decimal::new(42, 0))),
        ("list", Value::Array(vec![Value::Int32(42)])),
        ("map", map(&[("key", s("value"))])),
    ]);
    let mut r = sink("t", SchemaAndValue::NULL, schemaless(input));
    assert!(run(&mut t, &mut r));
    assert_map(
        &r.value.value,
        &[
            ("magic", Value::Int32(42)),
            ("bool", Value::Boolean(false)),
            ("byte", Value::Int8(0)),
            ("short", Value::Int16(0)),
            ("int", Value::Int32(0)),
            ("long", Value::Int64(0)),
            ("float", Value::Float32(0.0)),
            ("double", Value::Float64(0.0)),
            ("string", s("")),
            ("date", Value::Timestamp(0)),
            ("bigdec", Value::Decimal(Decimal::new(0, 0))),
            ("list", Value::Array(vec![])),
            ("map", Value::Map(vec![])),
        ],
    );
}

#[test]
fn mask_field_with_schema_keeps_schema_and_masks_each_type() {
    // MaskFieldTest.testWithSchema
    let schema = Schema::structure()
        .field("magic", Schema::int32())
        .field("bool", Schema::boolean())
        .field("byte", Schema::int8())
        .field("short", Schema::int16())
        .field("int", Schema::int32())
        .field("long", Schema::int64())
        .field("float", Schema::float32())
        .field("double", Schema::float64())
        .field("string", Schema::string())
        .field("date", Schema::date())
        .field("time", Schema::time())
        .field("timestamp", Schema::timestamp())
        .field("decimal", Schema::decimal(0))
        .field("array", Schema::array(Schema::int32()))
        .field("map", Schema::map(Schema::string(), Schema::string()))
        .field(
            "withDefault",
            Schema::string().optional().default_value(s("default")),
        );
    let fields = "bool,byte,short,int,long,float,double,string,date,time,timestamp,decimal,array,map,withDefault";
    let mut t = transform(
        "MaskField$Value",
        &[("fields", fields), ("replace.null.with.default", "false")],
    );
    let value = struct_sv(
        &schema,
        &[
            ("magic", Value::Int32(42)),
            ("bool", Value::Boolean(true)),
            ("byte", Value::Int8(42)),
            ("short", Value::Int16(42)),
            ("int", Value::Int32(42)),
            ("long", Value::Int64(42)),
            ("float", Value::Float32(42.0)),
            ("double", Value::Float64(42.0)),
            ("string", s("hmm")),
            ("date", Value::Date(19_737)),
            ("time", Value::Time(45_296_789)),
            ("timestamp", Value::Timestamp(1_705_322_096_789)),
            ("decimal", Value::Decimal(Decimal::new(42, 0))),
            (
                "array",
                Value::Array(vec![Value::Int32(1), Value::Int32(2), Value::Int32(3)]),
            ),
            ("map", map(&[("what", s("what"))])),
        ],
    );
    let mut r = sink("t", SchemaAndValue::NULL, value);
    assert!(run(&mut t, &mut r));
    let expected = [
        Value::Int32(42),
        Value::Boolean(false),
        Value::Int8(0),
        Value::Int16(0),
        Value::Int32(0),
        Value::Int64(0),
        Value::Float32(0.0),
        Value::Float64(0.0),
        s(""),
        Value::Date(0),
        Value::Time(0),
        Value::Timestamp(0),
        Value::Decimal(Decimal::new(0, 0)),
        Value::Array(vec![]),
        Value::Map(vec![]),
        Value::Null,
    ];
    let want: Vec<(&str, Schema, Value)> = schema
        .fields
        .iter()
        .zip(expected)
        .map(|(f, v)| (f.name.as_str(), (*f.schema).clone(), v))
        .collect();
    assert_struct(&r.value, &want);
}

#[test]
fn mask_field_replacement_is_converted_to_the_field_type() {
    // MaskFieldTest.testSchemalessWithReplacement / testWithSchemaAndReplacement
    let cases = [
        (Value::Int8(42), "123", Value::Int8(123)),
        (Value::Int16(42), "123", Value::Int16(123)),
        (Value::Int32(42), "123", Value::Int32(123)),
        (Value::Int64(42), "123", Value::Int64(123)),
        (Value::Float32(42.0), "123", Value::Float32(123.0)),
        (Value::Float64(42.0), "123.0", Value::Float64(123.0)),
        (s("x"), "123", s("123")),
        (
            Value::Decimal(Decimal::new(42, 0)),
            "123",
            Value::Decimal(Decimal::new(123, 0)),
        ),
    ];
    for (input, replacement, expected) in cases {
        let mut t = transform(
            "MaskField$Value",
            &[("fields", "f"), ("replacement", replacement)],
        );
        let mut r = sink(
            "t",
            SchemaAndValue::NULL,
            schemaless(map(&[("f", input.clone())])),
        );
        assert!(run(&mut t, &mut r));
        assert_map(&r.value.value, &[("f", expected.clone())]);
    }
    let schema = Schema::structure().field("f", Schema::int32());
    let mut t = transform(
        "MaskField$Value",
        &[("fields", "f"), ("replacement", "123")],
    );
    let mut r = sink(
        "t",
        SchemaAndValue::NULL,
        struct_sv(&schema, &[("f", Value::Int32(1))]),
    );
    assert!(run(&mut t, &mut r));
    assert_struct(&r.value, &[("f", Schema::int32(), Value::Int32(123))]);
}

#[test]
fn mask_field_integer_replacement_is_read_as_a_decimal_number() {
    // Kafka source: MaskField uses Values.convertToInteger, which reads the
    // replacement as a BigDecimal: "123.0" masks an int field to 123.
    let mut t = transform(
        "MaskField$Value",
        &[("fields", "f"), ("replacement", "123.0")],
    );
    let mut r = sink(
        "t",
        SchemaAndValue::NULL,
        schemaless(map(&[("f", Value::Int32(1))])),
    );
    assert!(run(&mut t, &mut r));
    assert_map(&r.value.value, &[("f", Value::Int32(123))]);
}

#[test]
fn mask_field_errors_name_the_value_type() {
    // MaskFieldTest.testReplacementTypeMismatch / testEmptyStringReplacementValue,
    // Kafka source (requireMap / requireStruct with purpose "mask fields")
    let mask = |replacement: Option<&str>, v: Value| {
        let mut settings = vec![("fields", "f")];
        if let Some(r) = replacement {
            settings.push(("replacement", r));
        }
        let mut t = transform("MaskField$Value", &settings);
        let mut r = sink("t", SchemaAndValue::NULL, schemaless(map(&[("f", v)])));
        run_err(&mut t, &mut r)
    };
    assert_eq!(
        mask(Some("false"), Value::Boolean(true)),
        "Cannot mask value of type class java.lang.Boolean with custom replacement."
    );
    assert_eq!(
        mask(Some("0"), Value::Timestamp(5)),
        "Cannot mask value of type class java.util.Date with custom replacement."
    );
    assert_eq!(
        mask(Some("foo"), Value::Int32(5)),
        "Unable to convert foo (class java.lang.String) to a number"
    );
    assert_eq!(
        mask(None, Value::Bytes(vec![1])),
        "Cannot mask value of type: class [B"
    );
    let mut t = transform("MaskField$Value", &[("fields", "f")]);
    let mut r = sink("t", SchemaAndValue::NULL, schemaless(Value::Null));
    assert_eq!(
        run_err(&mut t, &mut r),
        "Only Map objects supported in absence of schema for [mask fields], found: null"
    );
    let schema = Schema::structure().field("f", Schema::int32()).optional();
    let mut r = sink("t", SchemaAndValue::NULL, with_schema(schema, Value::Null));
    assert_eq!(
        run_err(&mut t, &mut r),
        "Only Struct objects supported for [mask fields], found: null"
    );
    let mut problems = Vec::new();
    let p = one("MaskField$Value", &[("fields", "f"), ("replacement", "")]);
    expect_config_error(
        &mut problems,
        &p,
        "transforms.t.replacement",
        "String must be non-empty",
    );
    let p = one("MaskField$Value", &[("fields", "")]);
    expect_config_error(&mut problems, &p, "transforms.t.fields", "Empty list");
    no_problems(&problems);
}
