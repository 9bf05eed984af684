//! A hand-written reader of schemaless JSON into Connect values, for the
//! path every plain JSON record takes (JsonConverter with
//! `schemas.enable=false`, the HDFS source's JSON files). It reads numbers
//! straight from their digits, where serde_json with `arbitrary_precision`
//! hands each one over as a string in a one-entry map.
//!
//! It gives the values `plain_json`'s serde path gives, or `None` for
//! anything it does not take: invalid input (serde_json then reports the
//! error and its place), nesting deeper than [`MAX_DEPTH`], and an object
//! whose first key is serde_json's number token.

use super::plain_json::{is_number_token, number, Entries};
use crate::Value;

/// Deeper documents go through serde_json, which has its own limit (128).
const MAX_DEPTH: u32 = 100;

/// The value of one JSON document with nothing but whitespace after it.
pub(super) fn scan(bytes: &[u8]) -> Option<Value> {
    let mut s = Scanner {
        b: bytes,
        i: 0,
        depth: 0,
    };
    s.skip_ws();
    let v = s.value()?;
    s.skip_ws();
    (s.i == bytes.len()).then_some(v)
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    depth: u32,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek() == Some(c)).then(|| self.i += 1)
    }

    fn value(&mut self) -> Option<Value> {
        match self.peek()? {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => self.string().map(Value::String),
            b't' => self.word(b"true", Value::Boolean(true)),
            b'f' => self.word(b"false", Value::Boolean(false)),
            b'n' => self.word(b"null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn word(&mut self, w: &[u8], v: Value) -> Option<Value> {
        self.b[self.i..].starts_with(w).then(|| {
            self.i += w.len();
            v
        })
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    /// JSON's number grammar; integers of up to 18 digits are summed here,
    /// everything else parsed from its text as `plain_json` parses it.
    fn number(&mut self) -> Option<Value> {
        let start = self.i;
        let negative = self.eat(b'-').is_some();
        let int_start = self.i;
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        let int_end = self.i;
        let mut whole = true;
        if self.eat(b'.').is_some() {
            if self.digits() == 0 {
                return None;
            }
            whole = false;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return None;
            }
            whole = false;
        }
        if whole && int_end - int_start <= 18 {
            let n = self.b[int_start..int_end]
                .iter()
                .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
            return Some(Value::Int64(if negative { -n } else { n }));
        }
        // ASCII digits and signs: always UTF-8.
        number(std::str::from_utf8(&self.b[start..self.i]).ok()?)
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.b.get(self.i..self.i + 4)?;
        self.i += 4;
        h.iter()
            .try_fold(0u32, |n, c| Some(n * 16 + (*c as char).to_digit(16)?))
    }

    fn string(&mut self) -> Option<String> {
        self.eat(b'"')?;
        let start = self.i;
        // Most strings have no escape: one check of their bytes, one copy.
        self.i += super::json_text::plain_prefix(&self.b[start..]);
        match self.peek()? {
            b'"' => {
                let s = std::str::from_utf8(&self.b[start..self.i]).ok()?;
                self.i += 1;
                return Some(s.to_owned());
            }
            b'\\' => {}
            _ => return None,
        }
        let mut out = self.b[start..self.i].to_vec();
        loop {
            let c = self.peek()?;
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = self.peek()?;
                    self.i += 1;
                    let plain = match e {
                        b'"' | b'\\' | b'/' => e,
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => {
                            let ch = self.escaped_char()?;
                            out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                            continue;
                        }
                        _ => return None,
                    };
                    out.push(plain);
                }
                0..=0x1f => return None,
                _ => out.push(c),
            }
        }
    }

    /// The character of a `\u` escape (after the `u`): a surrogate pair
    /// makes one; a lone surrogate is left to serde_json.
    fn escaped_char(&mut self) -> Option<char> {
        let hi = self.hex4()?;
        let code = match hi {
            0xD800..=0xDBFF => {
                self.eat(b'\\')?;
                self.eat(b'u')?;
                let lo = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return None;
                }
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            0xDC00..=0xDFFF => return None,
            _ => hi,
        };
        char::from_u32(code)
    }

    /// The items of an array or object (the scanner at its opening
    /// bracket), each read by `item`, up to the `close` bracket.
    fn items(&mut self, close: u8, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.i += 1;
        self.skip_ws();
        if self.eat(close).is_none() {
            loop {
                item(self)?;
                self.skip_ws();
                match self.peek()? {
                    b',' => {
                        self.i += 1;
                        self.skip_ws();
                    }
                    c if c == close => {
                        self.i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(())
    }

    fn array(&mut self) -> Option<Value> {
        let mut items = Vec::new();
        self.items(b']', |s| {
            items.push(s.value()?);
            Some(())
        })?;
        Some(Value::Array(items))
    }

    fn object(&mut self) -> Option<Value> {
        let mut entries = Entries::new();
        let mut first = true;
        self.items(b'}', |s| {
            let k = s.string()?;
            if first && is_number_token(&k) {
                return None;
            }
            first = false;
            s.skip_ws();
            s.eat(b':')?;
            s.skip_ws();
            let v = s.value()?;
            entries.insert(k, v);
            Some(())
        })?;
        Some(entries.finish())
    }
}

#[cfg(test)]
#[path = "json_scan_tests.rs"]
mod tests;
