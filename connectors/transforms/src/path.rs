//! Field names and nested field paths (KIP-821): with
//! `field.syntax.version=V1` a name is taken as it is; with `V2` dots
//! separate the names of nested fields, and a name holding a dot is written
//! in backticks (a backtick inside one is written with a backslash).

use std::sync::Arc;

use connect_api::config::{key, ConfigKey, ConfigType, DefaultValue, Importance, Validator};
use connect_api::{Schema, Type, Value};

use crate::util::map_get;

pub const SYNTAX_VERSION: &str = "field.syntax.version";

/// The `field.syntax.version` key.
pub fn syntax_key() -> ConfigKey {
    ConfigKey {
        validator: Some(Validator::Custom(|v| match v {
            connect_api::config::Parsed::Str(s)
                if s.eq_ignore_ascii_case("V1") || s.eq_ignore_ascii_case("V2") =>
            {
                Ok(())
            }
            _ => Err("String must be one of (case insensitive): V1, V2".into()),
        })),
        ..key(
            SYNTAX_VERSION,
            ConfigType::String,
            DefaultValue::Value("V1"),
            Importance::High,
            "How field names are read: V1 takes each as a top-level name; V2 reads dots as nesting, with backticks around names that hold dots.",
        )
    }
}

/// A field path: one name with V1, the names from the outside in with V2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath(pub Vec<String>);

impl FieldPath {
    /// Reads `text` in the given syntax (`V1` or `V2`).
    pub fn parse(text: &str, version: &str) -> Result<Self, String> {
        if !version.eq_ignore_ascii_case("V2") {
            return Ok(Self(vec![text.to_string()]));
        }
        let chars: Vec<char> = text.chars().collect();
        let n = chars.len();
        let mut names = Vec::new();
        if n == 0 {
            return Ok(Self(names));
        }
        let mut i = 0;
        loop {
            let mut name = String::new();
            if chars[i] == '`' {
                // A quoted name ends at a backtick followed by a dot or the
                // end; a backslash before such a backtick escapes it.
                let open = i;
                i += 1;
                let mut closed = false;
                while i < n {
                    let ends = |k: usize| k + 1 == n || chars.get(k + 1) == Some(&'.');
                    if chars[i] == '\\' && chars.get(i + 1) == Some(&'`') && ends(i + 1) {
                        name.push('`');
                        i += 2;
                    } else if chars[i] == '`' && ends(i) {
                        closed = true;
                        i += 1;
                        break;
                    } else {
                        name.push(chars[i]);
                        i += 1;
                    }
                }
                if !closed {
                    return Err(format!("Incomplete backtick pair in path: [{text}], consider adding a backslash before backtick at position {open} to escape it"));
                }
            } else {
                while i < n && chars[i] != '.' {
                    name.push(chars[i]);
                    i += 1;
                }
            }
            names.push(name);
            if i >= n {
                break;
            }
            // A dot: another name follows, empty when the path ends here.
            i += 1;
            if i == n {
                names.push(String::new());
                break;
            }
        }
        Ok(Self(names))
    }

    /// The value at this path inside a struct or map value (`None` when a
    /// name along it is missing); with `with_default`, a null struct field
    /// takes its default.
    pub fn value_in<'a>(&self, v: &'a Value, with_default: bool) -> Option<&'a Value> {
        let mut cur = v;
        for name in &self.0 {
            cur = match cur {
                Value::Struct(s) => {
                    let f = s.schema.field_named(name)?;
                    let x = s.value_at(f.index)?;
                    match (&f.schema.default, x) {
                        (Some(d), Value::Null) if with_default => d,
                        _ => x,
                    }
                }
                Value::Map(m) => map_get(m, name)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// The schema at this path inside a struct schema.
    pub fn schema_in(&self, s: &Arc<Schema>) -> Option<Arc<Schema>> {
        let mut cur = s.clone();
        for name in &self.0 {
            if cur.kind != Type::Struct {
                return None;
            }
            cur = cur.field_named(name)?.schema.clone();
        }
        Some(cur)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_paths_split_on_dots_outside_backticks() {
        assert_eq!(FieldPath::parse("a.b", "V1").expect("v1").0, vec!["a.b"]);
        assert_eq!(FieldPath::parse("a.b", "V2").expect("v2").0, vec!["a", "b"]);
        assert_eq!(
            FieldPath::parse("`a.b`.c", "V2").expect("quoted").0,
            vec!["a.b", "c"]
        );
        assert_eq!(
            FieldPath::parse("`a\\`b`", "V2").expect("literal").0,
            vec!["a\\`b"]
        );
        assert_eq!(
            FieldPath::parse("`a\\`.b`.c", "V2").expect("escaped").0,
            vec!["a`.b", "c"]
        );
        assert_eq!(
            FieldPath::parse("a..b", "V2").expect("empty name").0,
            vec!["a", "", "b"]
        );
        assert_eq!(FieldPath::parse(".", "V2").expect("dot").0, vec!["", ""]);
        assert!(FieldPath::parse("`a.b", "V2").is_err());
        assert!(FieldPath::parse("`a`b", "V2").is_err());
        let e = FieldPath::parse("a.`b`c", "V2").expect_err("unclosed");
        assert!(e.contains("at position 2"), "{e}");
    }
}
