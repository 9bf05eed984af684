//! Filter with the predicates (TopicNameMatches, HasHeaderKey,
//! RecordIsTombstone), RegexRouter, and the chain's own settings.

use crate::common::*;
use connect_api::{Schema, SchemaAndValue, SourceRecord, Value};

// ------------------------------------------------------ Filter, predicates

/// Whether a Filter guarded by `predicates.p` (negated or not) drops `record`.
fn dropped(
    predicate: &str,
    settings: &[(&str, &str)],
    negate: bool,
    record: &mut SourceRecord,
) -> bool {
    let mut p = props(&[
        ("transforms", "f"),
        (
            "transforms.f.type",
            "org.apache.kafka.connect.transforms.Filter",
        ),
        ("transforms.f.predicate", "p"),
        ("transforms.f.negate", if negate { "true" } else { "false" }),
        ("predicates", "p"),
    ]);
    p.insert("predicates.p.type".into(), format!("{P}{predicate}"));
    for (k, v) in settings {
        p.insert(format!("predicates.p.{k}"), v.to_string());
    }
    !run(&mut chain_of(&p), record)
}

#[test]
fn filter_doc_example_drops_foo_and_extracts_except_on_bar() {
    // Kafka docs, connect.html "Predicates" (also CP filter-ak.html Example 1)
    let mut chain = chain_of(&props(&[
        ("transforms", "Filter,Extract"),
        (
            "transforms.Filter.type",
            "org.apache.kafka.connect.transforms.Filter",
        ),
        ("transforms.Filter.predicate", "IsFoo"),
        (
            "transforms.Extract.type",
            "org.apache.kafka.connect.transforms.ExtractField$Key",
        ),
        ("transforms.Extract.field", "other_field"),
        ("transforms.Extract.predicate", "IsBar"),
        ("transforms.Extract.negate", "true"),
        ("predicates", "IsFoo,IsBar"),
        (
            "predicates.IsFoo.type",
            "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
        ),
        ("predicates.IsFoo.pattern", "foo"),
        (
            "predicates.IsBar.type",
            "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
        ),
        ("predicates.IsBar.pattern", "bar"),
    ]));
    let key = schemaless(map(&[
        ("other_field", Value::Int32(1)),
        ("x", Value::Int32(2)),
    ]));
    let mut r = source("foo", key.clone(), schemaless(s("v")));
    assert!(!run(&mut chain, &mut r), "topic foo is filtered out");
    let mut r = source("bar", key.clone(), schemaless(s("v")));
    assert!(run(&mut chain, &mut r));
    assert_eq!(r.key, key, "on bar the extraction is skipped");
    for topic in ["baz", "foo-topic"] {
        let mut r = source(topic, key.clone(), schemaless(s("v")));
        assert!(
            run(&mut chain, &mut r),
            "{topic}: the pattern must match the whole name"
        );
        assert_eq!(r.key, schemaless(Value::Int32(1)), "{topic}");
    }
}

#[test]
fn filter_without_predicate_drops_every_record() {
    // Kafka source (Filter.apply returns null)
    let mut t = transform("Filter", &[]);
    let mut r = source("topic", SchemaAndValue::NULL, schemaless(s("v")));
    assert!(!run(&mut t, &mut r));
}

#[test]
fn filter_on_topic_name_tombstone_and_negated_header() {
    // TransformationIntegrationTest.testFilterOnTopicNameWithSinkConnector
    for (topic, gone) in [("foo-topic", false), ("bar-topic", true)] {
        let mut r = source(topic, SchemaAndValue::NULL, schemaless(s("v")));
        assert_eq!(
            dropped("TopicNameMatches", &[("pattern", "bar-.*")], false, &mut r),
            gone,
            "{topic}"
        );
    }
    // TransformationIntegrationTest.testFilterOnTombstonesWithSinkConnector
    for (value, gone) in [(s("simple-message-value-1"), false), (Value::Null, true)] {
        let mut r = source("t", SchemaAndValue::NULL, schemaless(value.clone()));
        assert_eq!(
            dropped("RecordIsTombstone", &[], false, &mut r),
            gone,
            "{value:?}"
        );
    }
    // TransformationIntegrationTest.testFilterOnHasHeaderKeyWithSourceConnectorAndTopicCreation
    for (headers, gone) in [
        (vec![string_header("header-8", "x")], false),
        (vec![string_header("header-7", "x")], true),
    ] {
        let mut r = source("t", SchemaAndValue::NULL, schemaless(s("v")));
        r.headers = headers;
        assert_eq!(
            dropped("HasHeaderKey", &[("name", "header-8")], true, &mut r),
            gone
        );
    }
}

#[test]
fn filter_audit_then_mask_credit_card_chain() {
    // Cloudera docs "Configuring an SMT chain": FilterAudit + MaskField
    let mut chain = chain_of(&props(&[
        ("transforms", "FilterAudit,MaskField"),
        (
            "transforms.FilterAudit.type",
            "org.apache.kafka.connect.transforms.Filter",
        ),
        ("transforms.FilterAudit.predicate", "IsAudit"),
        ("transforms.FilterAudit.negate", "false"),
        (
            "transforms.MaskField.type",
            "org.apache.kafka.connect.transforms.MaskField$Value",
        ),
        ("transforms.MaskField.fields", "CreditCardNumber"),
        ("predicates", "IsAudit"),
        (
            "predicates.IsAudit.type",
            "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
        ),
        ("predicates.IsAudit.name", "Audit"),
    ]));
    let value = schemaless(map(&[
        ("CreditCardNumber", s("4111-1111")),
        ("amount", Value::Int32(5)),
    ]));
    let mut r = source("t", SchemaAndValue::NULL, value.clone());
    r.headers = vec![string_header("Audit", "yes")];
    assert!(!run(&mut chain, &mut r));
    let mut r = source("t", SchemaAndValue::NULL, value);
    assert!(run(&mut chain, &mut r));
    assert_map(
        &r.value.value,
        &[("CreditCardNumber", s("")), ("amount", Value::Int32(5))],
    );
}

#[test]
fn topic_name_matches_needs_a_full_match() {
    // TopicNameMatchesTest.testTest (pattern=my-prefix-.*), and negate
    let cases = [
        ("my-prefix-", true),
        ("my-prefix-foo", true),
        ("x-my-prefix-", false),
        ("x-my-prefix-foo", false),
        ("your-prefix-", false),
        ("your-prefix-foo", false),
    ];
    for (topic, matches) in cases {
        for negate in [false, true] {
            let mut r = source(topic, SchemaAndValue::NULL, schemaless(s("v")));
            let gone = dropped(
                "TopicNameMatches",
                &[("pattern", "my-prefix-.*")],
                negate,
                &mut r,
            );
            assert_eq!(gone, matches != negate, "{topic} negate={negate}");
        }
    }
}

#[test]
fn has_header_key_looks_for_any_header_of_the_name() {
    // HasHeaderKeyTest.testTest (name=foo)
    let cases: [(&[&str], bool); 6] = [
        (&["foo"], true),
        (&["foo", "bar"], true),
        (&["bar", "foo", "bar", "foo"], true),
        (&["bar"], false),
        (&["bar", "bar"], false),
        (&[], false),
    ];
    for (names, has) in cases {
        let mut r = source("t", SchemaAndValue::NULL, schemaless(s("v")));
        r.headers = names.iter().map(|n| string_header(n, "x")).collect();
        assert_eq!(
            dropped("HasHeaderKey", &[("name", "foo")], false, &mut r),
            has,
            "{names:?}"
        );
    }
}

#[test]
fn record_is_tombstone_looks_at_the_value_only() {
    // Kafka source (RecordIsTombstone.test: record.value() == null)
    let cases = [
        (with_schema(Schema::string().optional(), Value::Null), true),
        (schemaless(Value::Null), true),
        (with_schema(Schema::string(), s("")), false),
    ];
    for (value, tombstone) in cases {
        let mut r = source("t", schemaless(s("k")), value.clone());
        assert_eq!(
            dropped("RecordIsTombstone", &[], false, &mut r),
            tombstone,
            "{value:?}"
        );
    }
}

#[test]
fn predicate_config_errors_name_the_predicate_key() {
    // TopicNameMatchesTest / HasHeaderKeyTest config cases
    let mut problems = Vec::new();
    let pred = |class: &str, settings: &[(&str, &str)]| {
        let mut p = props(&[("predicates", "p")]);
        p.insert("predicates.p.type".into(), format!("{P}{class}"));
        for (k, v) in settings {
            p.insert(format!("predicates.p.{k}"), v.to_string());
        }
        p
    };
    let cases = [
        (
            pred("TopicNameMatches", &[]),
            "predicates.p.pattern",
            "Missing required configuration \"predicates.p.pattern\"",
        ),
        (
            pred("TopicNameMatches", &[("pattern", "")]),
            "predicates.p.pattern",
            "String must be non-empty",
        ),
        (
            pred("HasHeaderKey", &[]),
            "predicates.p.name",
            "Missing required configuration \"predicates.p.name\"",
        ),
        (
            pred("HasHeaderKey", &[("name", "")]),
            "predicates.p.name",
            "String must be non-empty",
        ),
    ];
    for (p, key, text) in cases {
        expect_config_error(&mut problems, &p, key, text);
    }
    no_problems(&problems);
}

#[test]
fn topic_name_matches_refuses_invalid_regex_on_pattern() {
    // TopicNameMatchesTest config cases (RegexValidator: "Invalid regex: ...")
    let mut problems = Vec::new();
    for pattern in ["[", "*"] {
        let mut p = props(&[("predicates", "p")]);
        p.insert("predicates.p.type".into(), format!("{P}TopicNameMatches"));
        p.insert("predicates.p.pattern".into(), pattern.into());
        expect_config_error(&mut problems, &p, "predicates.p.pattern", "Invalid regex");
    }
    no_problems(&problems);
}

// ------------------------------------------------------------- RegexRouter

fn regex_routed(regex: &str, replacement: &str, topic: &str) -> String {
    let mut t = transform(
        "RegexRouter",
        &[("regex", regex), ("replacement", replacement)],
    );
    let mut r = sink(topic, schemaless(s("k")), schemaless(s("v")));
    r.headers = vec![string_header("h", "x")];
    let before = r.clone();
    assert!(run(&mut t, &mut r));
    assert_eq!(
        (r.partition, &r.key, &r.value, &r.headers),
        (
            before.partition,
            &before.key,
            &before.value,
            &before.headers
        )
    );
    r.topic
}

#[test]
fn regex_router_doc_examples_remove_and_add_prefixes() {
    // CP regexrouter.html "Remove a Topic Prefix" / "Add a Topic Prefix"
    assert_eq!(regex_routed("soe-(.*)", "$1", "soe-Order"), "Order");
    assert_eq!(regex_routed(".*", "acme_$0", "Order"), "acme_Order");
    // docs.axonops.com "Route by Pattern"
    assert_eq!(
        regex_routed("(.*)_raw", "$1_processed", "orders_raw"),
        "orders_processed"
    );
}

#[test]
fn regex_router_unit_test_cases() {
    // RegexRouterTest.staticReplacement / doesntMatch / identity / addPrefix / addSuffix / slice
    let cases = [
        ("foo", "bar", "foo", "bar"),
        ("foo", "bar", "orig", "orig"),
        ("(.*)", "$1", "orig", "orig"),
        ("(.*)", "prefix-$1", "orig", "prefix-orig"),
        ("(.*)", "$1-suffix", "orig", "orig-suffix"),
        (
            "(.*)-(\\d\\d\\d\\d\\d\\d\\d\\d)",
            "$1",
            "index-20160117",
            "index",
        ),
        // Kafka source: Matcher.matches() needs the whole topic to match
        ("foo", "bar", "foo-bar", "foo-bar"),
    ];
    for (regex, replacement, topic, expected) in cases {
        assert_eq!(
            regex_routed(regex, replacement, topic),
            expected,
            "{regex} {replacement} {topic}"
        );
    }
}

#[test]
fn regex_router_refuses_an_invalid_regex_on_its_key() {
    // Kafka source (RegexValidator on regex)
    let mut problems = Vec::new();
    let p = one("RegexRouter", &[("regex", "["), ("replacement", "x")]);
    expect_config_error(&mut problems, &p, "transforms.t.regex", "Invalid regex");
    no_problems(&problems);
}

// ---------------------------------------------------- the chain's settings

#[test]
fn chain_config_errors_name_the_full_key() {
    // Kafka runtime (ConnectorConfig.enrich / validateProps)
    let mut problems = Vec::new();
    let p = props(&[("transforms", "t")]);
    expect_config_error(
        &mut problems,
        &p,
        "transforms.t.type",
        "Missing required configuration \"transforms.t.type\" which has no default value.",
    );
    let p = props(&[
        ("transforms", "t"),
        ("transforms.t.type", "com.example.Foo"),
    ]);
    expect_config_error(
        &mut problems,
        &p,
        "transforms.t.type",
        "Invalid value com.example.Foo for configuration transforms.t.type: Class com.example.Foo could not be found.",
    );
    no_problems(&problems);
}

#[test]
fn negate_without_predicate_is_refused_on_the_type_key() {
    // Kafka runtime (ConnectorConfig validateProps): attached to transforms.t.type
    let mut problems = Vec::new();
    let p = one(
        "RegexRouter",
        &[("regex", "a"), ("replacement", "b"), ("negate", "true")],
    );
    expect_config_error(
        &mut problems,
        &p,
        "transforms.t.type",
        "Config 'transforms.t.negate' was provided but there is no config 'transforms.t.predicate' defining a predicate to be negated.",
    );
    no_problems(&problems);
}

// ------------------------------------------- values still in their JSON text

#[test]
fn a_value_in_its_text_stays_there_unless_a_stage_reads_values() {
    let text = connect_api::convert::JsonText::canonical(br#"{"id":7,"name":"x"}"#).expect("taken");
    let record =
        || source("orders", SchemaAndValue::NULL, SchemaAndValue::NULL).with_text(text.clone());

    // Routing and header stages do not look at the value: the text stays.
    let mut blind = chain_of(&props(&[
        ("transforms", "route,mark"),
        ("transforms.route.type", &format!("{T}RegexRouter")),
        ("transforms.route.regex", "orders"),
        ("transforms.route.replacement", "copied"),
        ("transforms.mark.type", &format!("{T}InsertHeader")),
        ("transforms.mark.header", "from"),
        ("transforms.mark.value.literal", "hdfs"),
    ]));
    let mut r = record();
    assert!(run(&mut blind, &mut r));
    assert_eq!(&*r.topic, "copied");
    assert_eq!(r.value_text.as_ref(), Some(&text));

    // A stage that reads values sees the decoded value.
    let mut reading = transform("ExtractField$Value", &[("field", "name")]);
    let mut r = record();
    assert!(run(&mut reading, &mut r));
    assert!(r.value_text.is_none());
    assert_eq!(r.value.value, Value::String("x".into()));

    // So does a predicate that reads values: the record is no tombstone.
    let mut r = record();
    assert!(!dropped("RecordIsTombstone", &[], false, &mut r));
    assert!(r.value_text.is_none());
    assert!(matches!(r.value.value, Value::Map(_)));
}
