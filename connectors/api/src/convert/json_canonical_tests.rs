use proptest::prelude::*;

use super::super::plain_json::through_serde;
use super::*;
use crate::convert::{Converter, ConverterConfig, JsonConverter};
use crate::SchemaAndValue;

fn plain() -> JsonConverter {
    JsonConverter::new(&ConverterConfig::from_pairs(&[("schemas.enable", "false")]))
        .expect("converter")
}

/// What the converter writes for `v` (`None` for a tombstone).
fn written(v: &Value) -> Option<Vec<u8>> {
    plain()
        .encode("t", &SchemaAndValue::new(None, v.clone()))
        .expect("encode")
        .map(|c| c.into_owned())
}

/// A text taken as canonical decodes to a value that is written back as
/// the same bytes, and `JsonText::value` is that value.
fn round_trips(text: &[u8]) {
    let Some(t) = JsonText::canonical(text) else {
        return;
    };
    let shown = String::from_utf8_lossy(text);
    let v = through_serde(text).unwrap_or_else(|e| panic!("{shown} taken but invalid: {e}"));
    assert_eq!(t.value(), v, "{shown}");
    assert_eq!(written(&v).as_deref(), Some(text), "{shown}");
}

/// An object of `n` keys `k0`.. and then the entry `last`.
fn object(n: usize, last: &str) -> String {
    let entries: String = (0..n).map(|i| format!("\"k{i}\":{i},")).collect();
    format!("{{{entries}{last}}}")
}

#[test]
fn the_converter_s_own_form_is_taken() {
    let wide = object(40, r#""end":null"#);
    for text in [
        r#"{"id":1,"pad":"xxxx"}"#,
        r#"{"a":{"b":[{"c":{}},[]]},"z":-12,"t":true,"f":false,"n":null}"#,
        r#"["é ü 😀",0,-1,123456789012345678,-123456789012345678]"#,
        r#"{}"#,
        r#"[]"#,
        r#""text""#,
        "0",
        "true",
        &wide,
    ] {
        assert!(JsonText::canonical(text.as_bytes()).is_some(), "{text}");
        round_trips(text.as_bytes());
    }
}

#[test]
fn other_forms_take_the_decoding_path() {
    let repeated = object(30, r#""k3":0"#);
    let deep = format!("{}{}", "[".repeat(65), "]".repeat(65));
    for text in [
        "",
        "null",
        r#"{"a": 1}"#,
        " {}",
        "{}\r",
        "{}\n",
        r#"{"a":1,"a":2}"#,
        &repeated,
        "[1.5]",
        "[1e3]",
        "[-0]",
        "[01]",
        "[1234567890123456789]",
        "[-]",
        r#"["a\"b"]"#,
        r#"["\u00e9"]"#,
        "[\"tab\there\"]",
        r#"{"$serde_json::private::Number":"1"}"#,
        &deep,
        r#"{"a":1,}"#,
        "[1,]",
        r#"{"a"}"#,
        r#"{1:2}"#,
        "tru",
        "nul",
        "[1]x",
        "[1",
        r#""open"#,
    ] {
        assert!(JsonText::canonical(text.as_bytes()).is_none(), "{text:?}");
    }
    assert!(JsonText::canonical(b"[\"\xff\"]").is_none());
    let shallow = format!("{}{}", "[".repeat(64), "]".repeat(64));
    assert!(JsonText::canonical(shallow.as_bytes()).is_some());
}

/// Values of every kind the schemaless decoder gives, nested.
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Boolean),
        any::<i64>().prop_map(Value::Int64),
        (-1e6f64..1e6).prop_map(Value::Float64),
        "[a-z é😀\"\\\\\n\t/]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec(("[a-c]{1,2}", inner), 0..6).prop_map(|e| Value::Map(
                e.into_iter().map(|(k, v)| (Value::String(k), v)).collect()
            )),
        ]
    })
}

/// Values in the narrow form only: their text must be taken.
fn narrow_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Boolean),
        (-999_999_999_999_999_999i64..=999_999_999_999_999_999).prop_map(Value::Int64),
        "[a-z é😀/~]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-c]{1,2}", inner, 0..6).prop_map(|e| Value::Map(
                e.into_iter().map(|(k, v)| (Value::String(k), v)).collect()
            )),
        ]
    })
}

proptest! {
    #[test]
    fn whatever_is_taken_is_written_back_as_it_was(v in any_value()) {
        if let Some(text) = written(&v) {
            round_trips(&text);
        }
    }

    #[test]
    fn the_narrow_form_is_always_taken(v in narrow_value()) {
        if let Some(text) = written(&v) {
            prop_assert!(JsonText::canonical(&text).is_some(), "{}", String::from_utf8_lossy(&text));
            round_trips(&text);
        }
    }

    #[test]
    fn stray_text_is_never_taken_wrongly(s in r#"[\[\]{}",:0-9a-z\- .e\\]{0,24}"#) {
        round_trips(s.as_bytes());
    }
}

#[test]
fn converters_write_a_text_as_they_write_its_value() {
    let text =
        JsonText::canonical(r#"{"id":7,"tags":["a","é"],"ok":true}"#.as_bytes()).expect("taken");
    let data = text.data();
    let enveloped = JsonConverter::new(&ConverterConfig::from_pairs(&[("schemas.enable", "true")]))
        .expect("converter");
    let string =
        crate::convert::StringConverter::new(&ConverterConfig::default()).expect("converter");
    let converters: [&dyn Converter; 3] = [&plain(), &enveloped, &string];
    for c in converters {
        let by_text = c
            .encode_text("t", &text)
            .expect("text")
            .map(|b| b.into_owned());
        let by_value = c.encode("t", &data).expect("value").map(|b| b.into_owned());
        assert_eq!(by_text, by_value);
    }
    let borrowed = plain().encode_text("t", &text).expect("text");
    assert!(matches!(borrowed, Some(std::borrow::Cow::Borrowed(_))));
}
