//! JSON string text, the part of every JSON record that is most of its
//! bytes: finding where a string's plain run ends, and writing a string
//! with serde_json's escapes.
//!
//! Both look at 16 bytes at a time for a byte that ends or escapes a string
//! (`"`, `\` or a control character), so a string without one is checked in
//! a few wide steps and copied whole.

/// Whether `b` ends a JSON string or has to be escaped in one. serde_json
/// escapes exactly these and writes every other byte as it is (UTF-8 too).
#[inline]
fn special(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// The length of the longest start of `b` without a [`special`] byte.
pub(super) fn plain_prefix(b: &[u8]) -> usize {
    let mut i = 0;
    while let Some(chunk) = b.get(i..i + 16) {
        // No early exit inside the chunk, so the check is one wide compare.
        if chunk.iter().fold(false, |any, &c| any | special(c)) {
            break;
        }
        i += 16;
    }
    while b.get(i).is_some_and(|&c| !special(c)) {
        i += 1;
    }
    i
}

/// `s` as a JSON string, with the escapes serde_json writes.
pub(super) fn write_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    if plain_prefix(b) == b.len() {
        out.reserve(b.len() + 2);
        out.push(b'"');
        out.extend_from_slice(b);
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn serde(s: &str) -> Vec<u8> {
        serde_json::to_vec(s).unwrap_or_default()
    }

    #[test]
    fn the_plain_run_ends_at_the_first_special_byte_wherever_it_is() {
        for len in 0..40 {
            let plain = "x".repeat(len);
            assert_eq!(plain_prefix(plain.as_bytes()), len);
            for special in ["\"", "\\", "\n", "\u{1}", "\u{1f}"] {
                let s = format!("{plain}{special}tail");
                assert_eq!(plain_prefix(s.as_bytes()), len, "{s:?}");
            }
        }
        assert_eq!(
            plain_prefix("é€😀 ~\u{7f}".as_bytes()),
            "é€😀 ~\u{7f}".len()
        );
    }

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        for s in [
            "",
            "plain",
            "a \"quoted\" word",
            "back\\slash",
            "tab\tnew\nline\r",
            "\u{0}\u{1f}\u{7f}",
            "é€😀",
            &"x".repeat(100),
            &format!("{}\"", "y".repeat(31)),
        ] {
            let mut out = Vec::new();
            write_str(&mut out, s);
            assert_eq!(out, serde(s), "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn any_string_is_written_as_serde_json_writes_it(s in "\\PC*|[\\x00-\\x7f]*") {
            let mut out = vec![b'['];
            write_str(&mut out, &s);
            let mut want = vec![b'['];
            want.extend(serde(&s));
            prop_assert_eq!(out, want);
        }
    }
}
