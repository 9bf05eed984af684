//! Java `.properties` parsing, following `java.util.Properties.load`:
//! `=`, `:` or whitespace separate key and value; `#` and `!` start comments;
//! a line ending in an odd number of backslashes continues on the next line;
//! `\t`, `\n`, `\r`, `\f`, `\uXXXX` and `\<any>` are escapes.

use std::collections::BTreeMap;
use std::path::Path;

/// A parsed properties file: keys in file order would be lost by a map, so we
/// keep the entries with their 1-based line numbers for error messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    entries: Vec<Entry>,
}

/// One `key=value` pair and the line it started on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub line: usize,
}

/// A malformed `\uXXXX` escape, with the line it is on.
#[derive(Debug, thiserror::Error)]
pub enum PropertiesError {
    #[error("line {line}: malformed \\uXXXX escape")]
    BadUnicodeEscape { line: usize },
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl Properties {
    /// Parses properties text.
    pub fn parse(text: &str) -> Result<Self, PropertiesError> {
        let mut entries = Vec::new();
        let mut lines = text.lines().enumerate().peekable();
        while let Some((idx, raw)) = lines.next() {
            let start_line = idx + 1;
            let trimmed = raw.trim_start_matches([' ', '\t', '\x0c']);
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('!') {
                continue;
            }
            // Join continuation lines: a line ending in an odd number of backslashes.
            let mut logical = String::from(trimmed);
            while ends_with_odd_backslashes(&logical) {
                logical.pop();
                match lines.next() {
                    Some((_, next)) => {
                        logical.push_str(next.trim_start_matches([' ', '\t', '\x0c']))
                    }
                    None => break,
                }
            }
            let (key, value) = split_key_value(&logical);
            entries.push(Entry {
                key: unescape(key, start_line)?,
                value: unescape(value, start_line)?,
                line: start_line,
            });
        }
        Ok(Self { entries })
    }

    /// Reads and parses a file.
    pub fn load(path: &Path) -> Result<Self, PropertiesError> {
        let text = std::fs::read_to_string(path).map_err(|source| PropertiesError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Entries in file order (a repeated key appears more than once).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The last value given for `key`, as `java.util.Properties` keeps it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.key == key)
            .map(|e| e.value.as_str())
    }

    /// Sets `key`, replacing earlier values.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        self.entries.retain(|e| e.key != key);
        self.entries.push(Entry {
            key,
            value: value.into(),
            line: 0,
        });
    }

    /// The effective key/value map (last value wins).
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.entries
            .iter()
            .map(|e| (e.key.clone(), e.value.clone()))
            .collect()
    }
}

/// The candidate most like `word` when it is close enough to be what was
/// meant (case ignored; at most two edits, or one in five characters for
/// long names): the "did you mean" of every config check.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let w = word.to_ascii_lowercase();
    let limit = 2.max(w.chars().count() / 5);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&w, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= limit && *c != word)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// ` (did you mean x?)` when there is a likely `x`, else nothing.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, candidates).map_or(String::new(), |c| format!(" (did you mean {c}?)"))
}

fn ends_with_odd_backslashes(s: &str) -> bool {
    s.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

/// Splits at the first unescaped `=`, `:` or whitespace; whitespace around the
/// separator is skipped, as Java does.
fn split_key_value(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut i = 0;
    let mut key_end = bytes.len();
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'=' | b':' | b' ' | b'\t' | b'\x0c' => {
                key_end = i;
                break;
            }
            _ => i += 1,
        }
    }
    let key_end = key_end.min(bytes.len());
    let mut j = key_end;
    while j < bytes.len() && matches!(bytes[j], b' ' | b'\t' | b'\x0c') {
        j += 1;
    }
    if j < bytes.len() && matches!(bytes[j], b'=' | b':') {
        j += 1;
        while j < bytes.len() && matches!(bytes[j], b' ' | b'\t' | b'\x0c') {
            j += 1;
        }
    }
    (&line[..key_end], &line[j..])
}

/// Expands Java escapes (`\t`, `\n`, `\uXXXX`, ...) in a single value given
/// outside a file, e.g. `--property key.separator=\t`; a malformed escape
/// leaves the value as it was.
pub fn unescape_value(s: &str) -> String {
    unescape(s, 0).unwrap_or_else(|_| s.to_string())
}

fn unescape(s: &str, line: usize) -> Result<String, PropertiesError> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 4)
                    .ok_or(PropertiesError::BadUnicodeEscape { line })?;
                out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_comments_and_continuations() {
        let p = Properties::parse(
            "# comment\n! other\nname=local-file-source\nconnector.class : FileStreamSource\n\
             tasks.max 1\nfile=/tmp/a\\\n   b.txt\nempty=\nkey\\ with\\ space=v\nu=\\u0041\\tB\n",
        )
        .expect("parses");
        assert_eq!(p.get("name"), Some("local-file-source"));
        assert_eq!(p.get("connector.class"), Some("FileStreamSource"));
        assert_eq!(p.get("tasks.max"), Some("1"));
        assert_eq!(p.get("file"), Some("/tmp/ab.txt"));
        assert_eq!(p.get("empty"), Some(""));
        assert_eq!(p.get("key with space"), Some("v"));
        assert_eq!(p.get("u"), Some("A\tB"));
        assert_eq!(p.entries()[0].line, 3);
    }

    #[test]
    fn last_value_wins_and_bad_escape_names_line() {
        let p = Properties::parse("a=1\na=2\n").expect("parses");
        assert_eq!(p.get("a"), Some("2"));
        let err = Properties::parse("ok=1\nbad=\\u12").expect_err("bad escape");
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn closest_finds_likely_misspellings_only() {
        let keys = ["log.retention.hours", "log.retention.ms", "num.partitions"];
        assert_eq!(
            closest("log.retention.hourz", keys),
            Some("log.retention.hours")
        );
        assert_eq!(closest("NUM.PARTITION", keys), Some("num.partitions"));
        assert_eq!(closest("compression.type", keys), None);
        assert_eq!(
            closest("num.partitions", keys),
            None,
            "an exact key is no suggestion"
        );
        assert_eq!(did_you_mean("segment.bytes", keys), "");
        assert_eq!(
            did_you_mean("log.retention.mss", keys),
            " (did you mean log.retention.ms?)"
        );
    }

    #[test]
    fn even_backslashes_do_not_continue() {
        let p = Properties::parse("path=C:\\\\\nnext=1\n").expect("parses");
        assert_eq!(p.get("path"), Some("C:\\"));
        assert_eq!(p.get("next"), Some("1"));
    }
}
