//! Schemaless JSON text in the one form JsonConverter (`schemas.enable=false`)
//! writes it. A source that reads such text (the HDFS source's JSON files,
//! which the sink wrote through the same converter) can hand it over as it
//! is: decoding it into Connect values and encoding them again would give
//! the same bytes, at the cost of every value's allocations on one thread
//! and their encoding on another.
//!
//! The form is narrow on purpose, so that "the same bytes" is easy to see:
//! no whitespace, strings without escapes, integers of up to 18 digits (no
//! `-0`), no fractions or exponents, objects without a repeated key, no
//! `null` at the top (that is a tombstone, not a value). Anything else is
//! still valid input; it just takes the decoding path.

use std::sync::Arc;

use super::json_text::plain_prefix;
use super::plain_json::is_number_token;
use crate::Value;

/// Deeper documents take the decoding path.
const MAX_DEPTH: u32 = 64;

/// Objects up to this many keys find repeats by comparing each key with
/// those before it; bigger ones by sorting their keys.
const SCAN_KEYS: usize = 16;

/// A record value kept as the JSON text JsonConverter without schemas
/// writes for it: only text in that form is taken (see
/// [`JsonText::canonical`]), so decoding it and encoding the value again
/// gives these bytes back. Cloning shares the text.
#[derive(Clone, PartialEq, Eq)]
pub struct JsonText(Arc<[u8]>);

impl std::fmt::Debug for JsonText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JsonText({})", String::from_utf8_lossy(&self.0))
    }
}

impl JsonText {
    /// `bytes` as a value's text, when they are in the form JsonConverter
    /// writes; `None` for anything else (other valid JSON among it).
    pub fn canonical(bytes: &[u8]) -> Option<Self> {
        let mut c = Check { b: bytes, i: 0 };
        (bytes.first() != Some(&b'n') && c.value(0) && c.i == bytes.len())
            .then(|| Self(Arc::from(bytes)))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text's value as schemaless data, as JsonConverter without
    /// schemas decodes it.
    pub fn data(&self) -> crate::SchemaAndValue {
        crate::SchemaAndValue::new(None, self.value())
    }

    /// The value the text holds, as the schemaless decoder reads it.
    pub fn value(&self) -> Value {
        // The scanner takes every text `canonical` does; serde_json is the
        // same reading by another road, never taken in practice.
        super::json_scan::scan(&self.0)
            .or_else(|| super::plain_json::through_serde(&self.0).ok())
            .unwrap_or(Value::Null)
    }
}

struct Check<'a> {
    b: &'a [u8],
    i: usize,
}

impl Check<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn value(&mut self, depth: u32) -> bool {
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().is_some(),
            Some(b't') => self.word(b"true"),
            Some(b'f') => self.word(b"false"),
            Some(b'n') => self.word(b"null"),
            Some(b'-' | b'0'..=b'9') => self.integer(),
            _ => false,
        }
    }

    fn word(&mut self, w: &[u8]) -> bool {
        let ok = self.b[self.i..].starts_with(w);
        self.i += w.len();
        ok
    }

    /// `-?(0|[1-9][0-9]{0,17})`, not `-0`, and no fraction or exponent
    /// after it (the next byte is the container's).
    fn integer(&mut self) -> bool {
        let negative = self.peek() == Some(b'-');
        if negative {
            self.i += 1;
        }
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        let digits = &self.b[start..self.i];
        match digits {
            [] => false,
            [b'0'] => !negative,
            [b'0', ..] => false,
            _ => digits.len() <= 18,
        }
    }

    /// A string without escapes, valid UTF-8; its bytes between the quotes.
    fn string(&mut self) -> Option<(usize, usize)> {
        self.i += 1;
        let start = self.i;
        self.i += plain_prefix(&self.b[start..]);
        if self.peek() != Some(b'"') {
            return None;
        }
        let end = self.i;
        self.i += 1;
        std::str::from_utf8(&self.b[start..end]).ok()?;
        Some((start, end))
    }

    /// Steps over an opening bracket: `None` when nested too deep,
    /// `Some(true)` when the container is empty (its closing bracket
    /// stepped over too).
    fn open(&mut self, depth: u32, close: u8) -> Option<bool> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.i += 1;
        let empty = self.peek() == Some(close);
        if empty {
            self.i += 1;
        }
        Some(empty)
    }

    /// After an item: `Some(true)` at a comma (another item follows),
    /// `Some(false)` at the closing bracket, both stepped over.
    fn after_item(&mut self, close: u8) -> Option<bool> {
        let c = self.peek()?;
        self.i += 1;
        match c {
            b',' => Some(true),
            c if c == close => Some(false),
            _ => None,
        }
    }

    fn array(&mut self, depth: u32) -> bool {
        match self.open(depth, b']') {
            None => return false,
            Some(true) => return true,
            Some(false) => {}
        }
        loop {
            if !self.value(depth) {
                return false;
            }
            match self.after_item(b']') {
                Some(true) => {}
                Some(false) => return true,
                None => return false,
            }
        }
    }

    fn object(&mut self, depth: u32) -> bool {
        match self.open(depth, b'}') {
            None => return false,
            Some(true) => return true,
            Some(false) => {}
        }
        let mut few = [(0usize, 0usize); SCAN_KEYS];
        let mut count = 0;
        let mut many: Vec<(usize, usize)> = Vec::new();
        loop {
            if self.peek() != Some(b'"') {
                return false;
            }
            let Some(key) = self.string() else {
                return false;
            };
            let text = &self.b[key.0..key.1];
            if count == 0 && is_number_token(std::str::from_utf8(text).unwrap_or_default()) {
                return false;
            }
            if count < SCAN_KEYS {
                if few[..count].iter().any(|k| self.b[k.0..k.1] == *text) {
                    return false;
                }
                few[count] = key;
            } else {
                if many.is_empty() {
                    many.extend_from_slice(&few);
                }
                many.push(key);
            }
            count += 1;
            if self.peek() != Some(b':') {
                return false;
            }
            self.i += 1;
            if !self.value(depth) {
                return false;
            }
            match self.after_item(b'}') {
                Some(true) => {}
                Some(false) => break,
                None => return false,
            }
        }
        if many.is_empty() {
            return true;
        }
        let b = self.b;
        many.sort_unstable_by(|x, y| b[x.0..x.1].cmp(&b[y.0..y.1]));
        many.windows(2)
            .all(|w| b[w[0].0..w[0].1] != b[w[1].0..w[1].1])
    }
}

#[cfg(test)]
#[path = "json_canonical_tests.rs"]
mod tests;
