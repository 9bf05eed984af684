use proptest::prelude::*;

use super::super::plain_json::through_serde;
use super::*;

/// The scanner either gives serde_json's value or leaves the input to it;
/// whatever serde_json refuses, the scanner refuses too.
fn agrees(text: &[u8]) -> Option<Value> {
    let scanned = scan(text);
    match (&scanned, through_serde(text)) {
        (Some(v), Ok(w)) => assert_eq!(*v, w, "{}", String::from_utf8_lossy(text)),
        (Some(v), Err(e)) => panic!(
            "scanned {v:?} where serde_json says {e}: {}",
            String::from_utf8_lossy(text)
        ),
        (None, _) => {}
    }
    scanned
}

#[test]
fn valid_documents_are_scanned_as_serde_json_reads_them() {
    let mut big = String::from("{");
    for i in 0..40 {
        big.push_str(&format!("\"k{}\":{i},", i % 35));
    }
    big.push_str("\"end\":null}");
    let deep = format!(
        "{}1{}",
        "[".repeat(MAX_DEPTH as usize),
        "]".repeat(MAX_DEPTH as usize)
    );
    for text in [
        r#"{"number": 5}"#,
        r#"{"id":1,"name":"a\"b","amount":12.50,"ts":"2026-01-01 00:00:00+00"}"#,
        r#"[1, -2, 9223372036854775807, -9223372036854775808, 9223372036854775808, 1e3, 1E+2, 2e-2, 1.5, -0, -0.0, 0, true, false, null]"#,
        r#"[123456789012345678, 1234567890123456789, 12345678901234567890, 1e400, -1e400, 1e-400]"#,
        r#"{"a":{"b":[{"c":{}}, []]},"a":2,"z":1}"#,
        r#""just text""#,
        r#""é ü 😀 \u00e9 \u20AC \ud83d\ude00 \/ \b\f\n\r\t \\ \"""#,
        " \t\r\n 17 \n",
        "-3.25",
        "null",
        "[]",
        "{}",
        " [ { } , [ ] ] ",
        &big,
        &deep,
    ] {
        assert!(agrees(text.as_bytes()).is_some(), "not scanned: {text}");
    }
}

#[test]
fn what_the_scanner_leaves_to_serde_json() {
    let too_deep = format!(
        "{}1{}",
        "[".repeat(MAX_DEPTH as usize + 1),
        "]".repeat(MAX_DEPTH as usize + 1)
    );
    for text in [
        // serde_json's own wrapping of a number's text.
        r#"{"$serde_json::private::Number":"12"}"#.as_bytes(),
        br#""\ud800""#,
        br#""\udc00x""#,
        br#""\ud800\u0041""#,
        too_deep.as_bytes(),
    ] {
        assert!(
            agrees(text).is_none(),
            "scanned: {}",
            String::from_utf8_lossy(text)
        );
    }
    let way_too_deep = "[".repeat(200);
    // Invalid: serde_json names the place.
    for text in [
        way_too_deep.as_bytes(),
        b"",
        b" ",
        b"{",
        b"[1,]",
        br#"{"a":1,}"#,
        br#"{"a" 1}"#,
        br#"{a:1}"#,
        b"01",
        b"-",
        b"1.",
        b".5",
        b"1e",
        b"1e+",
        b"+1",
        b"tru",
        b"nul",
        b"NaN",
        b"1 2",
        br#"{"a":1} x"#,
        b"\"unterminated",
        b"\"tab\tinside\"",
        b"\"\\x\"",
        b"\"\\u12\"",
        b"\"\\u12G4\"",
        b"\"\xff\"",
        b"\"\\n\xc3\"",
        b"\xef\xbb\xbf1",
    ] {
        assert!(
            agrees(text).is_none(),
            "scanned: {}",
            String::from_utf8_lossy(text)
        );
        assert!(
            super::super::plain_json::decode(text).is_err(),
            "{}",
            String::from_utf8_lossy(text)
        );
    }
}

fn json() -> impl Strategy<Value = String> {
    let ws = prop::sample::select(vec!["", " ", "\n", "\t ", "\r\n"]);
    let leaf = prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        (-1000i32..1000, 0u32..1000).prop_map(|(a, b)| format!("{a}.{b:03}")),
        "[ -~é😀\\\\\"]{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
        prop::collection::vec(any::<char>(), 0..6).prop_map(|cs| {
            // Every character as a \u escape (pairs for those above U+FFFF).
            let mut out = String::from("\"");
            for c in cs {
                for unit in c.encode_utf16(&mut [0; 2]) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            out.push('"');
            out
        }),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        let ws = ws.clone();
        prop_oneof![
            (prop::collection::vec(inner.clone(), 0..6), ws.clone())
                .prop_map(|(items, w)| format!("[{w}{}{w}]", items.join(&format!("{w},{w}")))),
            (prop::collection::vec(("[a-e]{1,2}", inner), 0..6), ws).prop_map(|(entries, w)| {
                let body: Vec<String> = entries
                    .into_iter()
                    .map(|(k, v)| format!("\"{k}\"{w}:{w}{v}"))
                    .collect();
                format!("{{{w}{}{w}}}", body.join(","))
            }),
        ]
    })
}

proptest! {
    #[test]
    fn random_documents_are_scanned_as_serde_json_reads_them(text in json()) {
        prop_assert!(agrees(text.as_bytes()).is_some(), "not scanned: {}", text);
    }

    #[test]
    fn damaged_documents_are_never_read_differently(
        text in json(),
        at in any::<prop::sample::Index>(),
        byte in prop::sample::select(b"\"\\{}[],:.-+eE0u \x01\xff".to_vec()),
        cut in any::<bool>(),
    ) {
        let mut b = text.into_bytes();
        let i = at.index(b.len() + 1);
        if cut {
            b.truncate(i);
        } else {
            b.insert(i, byte);
        }
        agrees(&b);
    }
}
