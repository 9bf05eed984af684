//! TimestampConverter and TimestampRouter.

use crate::common::*;
use connect_api::{Schema, SchemaAndValue, Value};

/// TimestampConverterTest's constants: 1970-01-02T00:00:01.234Z and its parts.
const DATE_PLUS_TIME: i64 = 86_401_234;
const STRING_DATE_FMT: &str = "yyyy MM dd HH mm ss SSS z";
const DATE_PLUS_TIME_STRING: &str = "1970 01 02 00 00 01 234 UTC";

fn converter(settings: &[(&str, &str)]) -> connect_transforms::Chain {
    transform("TimestampConverter$Value", settings)
}

/// The converted value of a record holding `value`.
fn convert(settings: &[(&str, &str)], value: SchemaAndValue) -> SchemaAndValue {
    let mut t = converter(settings);
    let mut r = source("topic", SchemaAndValue::NULL, value);
    assert!(run(&mut t, &mut r));
    r.value
}

#[test]
fn timestamp_converter_doc_example_formats_unix_millis_as_date_string() {
    // CP timestampconverter.html: format=yyyy-MM-dd, target.type=string.
    // !! DOC BUG: the page turns 1696521093 into "2023-10-05", which needs
    // unix.precision=seconds; with the default milliseconds it is 1970-01-20.
    // Older pages: 1556204536000 -> "2014-04-25"; really 2019-04-25.
    let base = [("format", "yyyy-MM-dd"), ("target.type", "string")];
    let cases = [
        (&base[..], 1_696_521_093, "1970-01-20"),
        (&base[..], 1_556_204_536_000, "2019-04-25"),
    ];
    for (settings, input, text) in cases {
        let out = convert(settings, schemaless(Value::Int64(input)));
        assert_eq!(out, schemaless(s(text)), "{input}");
        let out = convert(settings, with_schema(Schema::int64(), Value::Int64(input)));
        assert_eq!(out, with_schema(Schema::string(), s(text)), "{input}");
    }
    let seconds = [
        ("format", "yyyy-MM-dd"),
        ("target.type", "string"),
        ("unix.precision", "seconds"),
    ];
    let out = convert(&seconds, schemaless(Value::Int64(1_696_521_093)));
    assert_eq!(out, schemaless(s("2023-10-05")));
}

#[test]
fn timestamp_converter_doc_microseconds_field_to_timestamp() {
    // CP timestampconverter.html (field=event_date_long, unix.precision=microseconds,
    // target.type=Timestamp); sub-millisecond digits are dropped.
    let settings = [
        ("field", "event_date_long"),
        ("unix.precision", "microseconds"),
        ("target.type", "Timestamp"),
    ];
    let input = [("event_date_long", Value::Int64(1_696_521_093_123_456))];
    let out = convert(&settings, schemaless(map(&input)));
    assert_map(
        &out.value,
        &[("event_date_long", Value::Timestamp(1_696_521_093_123))],
    );
    let schema = Schema::structure().field("event_date_long", Schema::int64());
    let out = convert(&settings, struct_sv(&schema, &input));
    assert_struct(
        &out,
        &[(
            "event_date_long",
            Schema::timestamp(),
            Value::Timestamp(1_696_521_093_123),
        )],
    );
}

#[test]
fn timestamp_converter_schemaless_whole_value_conversions() {
    // TimestampConverterTest.testSchemaless{Identity,TimestampToDate,
    // TimestampToTime,TimestampToUnix,TimestampToString}
    let fmt = ("format", STRING_DATE_FMT);
    let cases = [
        ("Timestamp", Value::Timestamp(DATE_PLUS_TIME)),
        ("Date", Value::Date(1)),
        ("Time", Value::Time(1234)),
        ("unix", Value::Int64(DATE_PLUS_TIME)),
        ("string", s(DATE_PLUS_TIME_STRING)),
    ];
    for (target, expected) in cases {
        let out = convert(
            &[("target.type", target), fmt],
            schemaless(Value::Timestamp(DATE_PLUS_TIME)),
        );
        assert_eq!(out, schemaless(expected), "to {target}");
    }
    // TimestampConverterTest.testSchemaless{Date,Time,Unix,String}ToTimestamp
    let inputs = [
        (Value::Date(1), 86_400_000),
        (Value::Time(1234), 1234),
        (Value::Int64(DATE_PLUS_TIME), DATE_PLUS_TIME),
        (s(DATE_PLUS_TIME_STRING), DATE_PLUS_TIME),
    ];
    for (input, ms) in inputs {
        let out = convert(
            &[("target.type", "Timestamp"), fmt],
            schemaless(input.clone()),
        );
        assert_eq!(out, schemaless(Value::Timestamp(ms)), "from {input:?}");
    }
}

#[test]
fn timestamp_converter_with_schema_whole_value_conversions() {
    // TimestampConverterTest.testWithSchemaTimestampTo{Timestamp,Date,Time,Unix,String}
    let fmt = ("format", STRING_DATE_FMT);
    let cases = [
        (
            "Timestamp",
            Schema::timestamp(),
            Value::Timestamp(DATE_PLUS_TIME),
        ),
        ("Date", Schema::date(), Value::Date(1)),
        ("Time", Schema::time(), Value::Time(1234)),
        ("unix", Schema::int64(), Value::Int64(DATE_PLUS_TIME)),
        ("string", Schema::string(), s(DATE_PLUS_TIME_STRING)),
    ];
    for (target, schema, expected) in cases {
        let out = convert(
            &[("target.type", target), fmt],
            with_schema(Schema::timestamp(), Value::Timestamp(DATE_PLUS_TIME)),
        );
        assert_eq!(out, with_schema(schema, expected), "to {target}");
    }
    // TimestampConverterTest.testWithSchema{Date,Time,Unix,String}ToTimestamp
    let inputs = [
        (Schema::date(), Value::Date(1), 86_400_000),
        (Schema::time(), Value::Time(1234), 1234),
        (
            Schema::int64(),
            Value::Int64(DATE_PLUS_TIME),
            DATE_PLUS_TIME,
        ),
        (Schema::string(), s(DATE_PLUS_TIME_STRING), DATE_PLUS_TIME),
    ];
    for (schema, input, ms) in inputs {
        let out = convert(
            &[("target.type", "Timestamp"), fmt],
            with_schema(schema, input.clone()),
        );
        assert_eq!(
            out,
            with_schema(Schema::timestamp(), Value::Timestamp(ms)),
            "from {input:?}"
        );
    }
}

#[test]
fn timestamp_converter_converts_one_field() {
    // TimestampConverterTest.testSchemalessFieldConversion
    let out = convert(
        &[("target.type", "Date"), ("field", "ts")],
        schemaless(map(&[("ts", Value::Timestamp(DATE_PLUS_TIME))])),
    );
    assert_map(&out.value, &[("ts", Value::Date(1))]);
    // TimestampConverterTest.testWithSchemaFieldConversion
    let schema = Schema::structure()
        .field("ts", Schema::int64())
        .field("other", Schema::string());
    let input = [("ts", Value::Int64(DATE_PLUS_TIME)), ("other", s("test"))];
    let out = convert(
        &[("target.type", "Timestamp"), ("field", "ts")],
        struct_sv(&schema, &input),
    );
    assert_struct(
        &out,
        &[
            ("ts", Schema::timestamp(), Value::Timestamp(DATE_PLUS_TIME)),
            ("other", Schema::string(), s("test")),
        ],
    );
}

#[test]
fn timestamp_converter_reads_unix_precisions() {
    // TimestampConverterTest.testWithSchemaFieldConversion_{Micros,Nanos,Seconds}
    let schema = Schema::structure().field("ts", Schema::int64());
    let cases = [
        ("microseconds", 86_401_234_123, DATE_PLUS_TIME),
        ("nanoseconds", 86_401_234_123_456, DATE_PLUS_TIME),
        ("seconds", 86_401, 86_401_000),
    ];
    for (precision, input, ms) in cases {
        let out = convert(
            &[
                ("target.type", "Timestamp"),
                ("field", "ts"),
                ("unix.precision", precision),
            ],
            struct_sv(&schema, &[("ts", Value::Int64(input))]),
        );
        assert_struct(&out, &[("ts", Schema::timestamp(), Value::Timestamp(ms))]);
    }
    // TimestampConverterTest.testSchemalessStringToUnix_{Micros,Nanos,Seconds}
    let cases = [
        ("microseconds", 86_401_234_000),
        ("nanoseconds", 86_401_234_000_000),
        ("seconds", 86_401),
    ];
    for (precision, expected) in cases {
        let out = convert(
            &[
                ("target.type", "unix"),
                ("format", STRING_DATE_FMT),
                ("unix.precision", precision),
            ],
            schemaless(s(DATE_PLUS_TIME_STRING)),
        );
        assert_eq!(out, schemaless(Value::Int64(expected)), "{precision}");
    }
}

#[test]
fn timestamp_converter_null_values_get_optional_target_schemas() {
    // TimestampConverterTest.testWithSchemaNullValueTo{Timestamp,Unix,Time,Date,String}
    // and testSchemalessNullValueTo*
    let fmt = ("format", STRING_DATE_FMT);
    let targets = [
        ("Timestamp", Schema::timestamp()),
        ("unix", Schema::int64()),
        ("Time", Schema::time()),
        ("Date", Schema::date()),
        ("string", Schema::string()),
    ];
    let inputs = [
        Schema::int64(),
        Schema::time(),
        Schema::date(),
        Schema::string(),
        Schema::timestamp(),
    ];
    for (target, out_schema) in targets {
        for input in &inputs {
            let out = convert(
                &[("target.type", target), fmt],
                with_schema(input.clone().optional(), Value::Null),
            );
            assert_eq!(
                out,
                with_schema(out_schema.clone().optional(), Value::Null),
                "{input:?} to {target}"
            );
        }
        let out = convert(&[("target.type", target), fmt], schemaless(Value::Null));
        assert_eq!(out, schemaless(Value::Null), "schemaless to {target}");
    }
    // TimestampConverterTest.testWithSchemaNullFieldTo*
    let schema = Schema::structure()
        .field("ts", Schema::int64().optional())
        .field("other", Schema::string());
    let out = convert(
        &[("target.type", "Timestamp"), ("field", "ts")],
        struct_sv(&schema, &[("other", s("test"))]),
    );
    assert_struct(
        &out,
        &[
            ("ts", Schema::timestamp().optional(), Value::Null),
            ("other", Schema::string(), s("test")),
        ],
    );
}

#[test]
fn timestamp_converter_null_struct_gets_converted_optional_schema() {
    // TimestampConverterTest.testWithSchemaNullValueTo* in field mode: a null
    // optional struct gives a null value with the converted (optional) schema.
    let schema = Schema::structure()
        .field("ts", Schema::int64().optional())
        .field("other", Schema::string())
        .optional();
    let out = convert(
        &[("target.type", "Timestamp"), ("field", "ts")],
        with_schema(schema, Value::Null),
    );
    let expected = Schema::structure()
        .field("ts", Schema::timestamp().optional())
        .field("other", Schema::string())
        .optional();
    assert_eq!(out, with_schema(expected, Value::Null));
}

#[test]
fn timestamp_converter_null_field_with_default_stays_null_without_replace() {
    // TimestampConverterTest.testWithSchemaNullFieldWithDefaultConversion
    let schema = Schema::structure()
        .field(
            "ts",
            Schema::int64().optional().default_value(Value::Int64(0)),
        )
        .field("other", Schema::string());
    let out = convert(
        &[
            ("target.type", "Timestamp"),
            ("field", "ts"),
            ("replace.null.with.default", "false"),
        ],
        struct_sv(&schema, &[("other", s("test"))]),
    );
    assert_struct(
        &out,
        &[
            ("ts", Schema::timestamp().optional(), Value::Null),
            ("other", Schema::string(), s("test")),
        ],
    );
}

#[test]
fn timestamp_converter_key_variant_converts_the_key() {
    // TimestampConverterTest.testKey
    let mut t = transform("TimestampConverter$Key", &[("target.type", "Timestamp")]);
    let mut r = source(
        "topic",
        schemaless(Value::Timestamp(DATE_PLUS_TIME)),
        schemaless(s("v")),
    );
    assert!(run(&mut t, &mut r));
    assert_eq!(r.key, schemaless(Value::Timestamp(DATE_PLUS_TIME)));
    assert_eq!(r.value, schemaless(s("v")));
}

#[test]
fn timestamp_converter_config_errors() {
    // TimestampConverterTest.testConfigNoTargetType / testConfigInvalidTargetType /
    // testConfigInvalidUnixPrecision / testConfigMissingFormat / testConfigInvalidFormat
    let mut problems = Vec::new();
    let c = "TimestampConverter$Value";
    expect_config_error(
        &mut problems,
        &one(c, &[]),
        "transforms.t.target.type",
        "Missing required configuration \"transforms.t.target.type\" which has no default value.",
    );
    expect_config_error(
        &mut problems,
        &one(c, &[("target.type", "invalid")]),
        "transforms.t.target.type",
        "String must be one of: string, unix, Date, Time, Timestamp",
    );
    expect_config_error(
        &mut problems,
        &one(c, &[("target.type", "unix"), ("unix.precision", "invalid")]),
        "transforms.t.unix.precision",
        "String must be one of: nanoseconds, microseconds, milliseconds, seconds",
    );
    expect_configure_error(
        &mut problems,
        &one(c, &[("target.type", "string")]),
        "TimestampConverter requires format option to be specified when using string timestamps",
    );
    no_problems(&problems);
}

#[test]
fn timestamp_converter_refuses_a_bad_format_pattern() {
    // TimestampConverterTest.testConfigInvalidFormat
    let mut problems = Vec::new();
    let c = "TimestampConverter$Value";
    expect_configure_error(
        &mut problems,
        &one(c, &[("target.type", "unix"), ("format", "bad-format")]),
        "TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: bad-format",
    );
    no_problems(&problems);
}

// --------------------------------------------------------- TimestampRouter

fn routed(settings: &[(&str, &str)], topic: &str, timestamp: i64) -> String {
    let mut t = transform("TimestampRouter", settings);
    let mut r = sink(topic, schemaless(s("k")), schemaless(s("v")));
    r.timestamp = Some(timestamp);
    let before = r.clone();
    assert!(run(&mut t, &mut r));
    assert_eq!(
        (r.partition, &r.key, &r.value, r.timestamp),
        (
            before.partition,
            &before.key,
            &before.value,
            before.timestamp
        )
    );
    r.topic
}

#[test]
fn timestamp_router_doc_example_adds_prefix_and_month() {
    // CP timestamprouter.html: ordersTopic -> foo-ordersTopic-201804
    // (the page gives no timestamp; 1523750400000 is 2018-04-15).
    let settings = [
        ("topic.format", "foo-${topic}-${timestamp}"),
        ("timestamp.format", "YYYYMM"),
    ];
    assert_eq!(
        routed(&settings, "ordersTopic", 1_523_750_400_000),
        "foo-ordersTopic-201804"
    );
}

#[test]
fn timestamp_router_upper_case_y_is_the_week_year() {
    // CP timestamprouter.html's YYYYMM, checked with SimpleDateFormat: YYYY is
    // the week year, so 2018-12-31 (1546214400000) gives "201912".
    let settings = [
        ("topic.format", "foo-${topic}-${timestamp}"),
        ("timestamp.format", "YYYYMM"),
    ];
    assert_eq!(
        routed(&settings, "ordersTopic", 1_546_214_400_000),
        "foo-ordersTopic-201912"
    );
}

#[test]
fn timestamp_router_default_configuration() {
    // TimestampRouterTest.defaultConfiguration: 2017-01-03T06:30:01.864Z
    assert_eq!(routed(&[], "test", 1_483_425_001_864), "test-20170103");
}

#[test]
fn timestamp_router_fails_without_timestamp() {
    // Kafka source (TimestampRouter.apply): "Timestamp missing on record: <record>"
    let mut t = transform("TimestampRouter", &[]);
    let mut r = sink("test", SchemaAndValue::NULL, schemaless(s("v")));
    let msg = run_err(&mut t, &mut r);
    assert!(msg.starts_with("Timestamp missing on record"), "{msg}");
}
