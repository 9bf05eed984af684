//! Typed config definitions (Kafka's `ConfigDef`): one table per connector
//! drives parsing, validation with Kafka's messages, the REST
//! `/connector-plugins/{p}/config` listing and README tables.

use std::collections::BTreeMap;
use std::fmt;

/// Kafka's `ConfigDef.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigType {
    Boolean,
    String,
    Int,
    Short,
    Long,
    Double,
    List,
    Class,
    Password,
}

impl ConfigType {
    /// Kafka's upper-case name, as in REST answers.
    pub fn name(self) -> &'static str {
        match self {
            ConfigType::Boolean => "BOOLEAN",
            ConfigType::String => "STRING",
            ConfigType::Int => "INT",
            ConfigType::Short => "SHORT",
            ConfigType::Long => "LONG",
            ConfigType::Double => "DOUBLE",
            ConfigType::List => "LIST",
            ConfigType::Class => "CLASS",
            ConfigType::Password => "PASSWORD",
        }
    }
}

/// Kafka's `ConfigDef.Importance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Importance {
    High,
    Medium,
    Low,
}

impl Importance {
    pub fn name(self) -> &'static str {
        match self {
            Importance::High => "HIGH",
            Importance::Medium => "MEDIUM",
            Importance::Low => "LOW",
        }
    }
}

/// Checks on a parsed value; messages follow Kafka's validators.
#[derive(Clone)]
pub enum Validator {
    AtLeast(i64),
    Between(i64, i64),
    OneOf(&'static [&'static str]),
    NonEmptyString,
    /// Any other check: returns the reason a value is invalid.
    Custom(fn(&Parsed) -> Result<(), String>),
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Validator::AtLeast(n) => write!(f, "[{n},...]"),
            Validator::Between(a, b) => write!(f, "[{a},...,{b}]"),
            Validator::OneOf(v) => write!(f, "[{}]", v.join(", ")),
            Validator::NonEmptyString => write!(f, "non-empty string"),
            Validator::Custom(_) => write!(f, "custom"),
        }
    }
}

impl Validator {
    fn check(&self, v: &Parsed) -> Result<(), String> {
        match (self, v) {
            (Validator::AtLeast(min), Parsed::Int(n)) if n < min => {
                Err(format!("Value must be at least {min}"))
            }
            (Validator::Between(lo, _), Parsed::Int(n)) if n < lo => {
                Err(format!("Value must be at least {lo}"))
            }
            (Validator::Between(_, hi), Parsed::Int(n)) if n > hi => {
                Err(format!("Value must be no more than {hi}"))
            }
            (Validator::OneOf(allowed), Parsed::Str(s)) if !allowed.contains(&s.as_str()) => {
                Err(format!("String must be one of: {}", allowed.join(", ")))
            }
            (Validator::NonEmptyString, Parsed::Str(s)) if s.is_empty() => {
                Err("String must be non-empty".to_string())
            }
            (Validator::Custom(f), v) => f(v),
            _ => Ok(()),
        }
    }
}

/// A key's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultValue {
    /// No default: the key must be given.
    Required,
    /// Optional, with no value when not given (Kafka's `null` default).
    Null,
    Value(&'static str),
}

impl DefaultValue {
    fn value(self) -> Option<&'static str> {
        match self {
            DefaultValue::Value(v) => Some(v),
            _ => None,
        }
    }
}

/// One key of a definition.
#[derive(Debug, Clone)]
pub struct ConfigKey {
    pub name: &'static str,
    pub kind: ConfigType,
    pub default: DefaultValue,
    pub importance: Importance,
    pub doc: &'static str,
    pub group: Option<&'static str>,
    pub order_in_group: i32,
    pub display_name: &'static str,
    pub validator: Option<Validator>,
}

/// A value parsed according to its key's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Bool(bool),
    Str(String),
    Int(i64),
    Double(f64),
    List(Vec<String>),
    Password(Password),
    /// An optional key without a value (a default of `null`).
    Null,
}

/// A secret: never printed.
#[derive(Clone, PartialEq)]
pub struct Password(String);

impl Password {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret itself, for the code that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[hidden]")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[hidden]")
    }
}

/// The result of validating one key (one entry of Connect's `ConfigInfos`).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigValue {
    pub name: String,
    pub value: Option<String>,
    pub recommended_values: Vec<String>,
    pub errors: Vec<String>,
    pub visible: bool,
}

/// A set of key definitions.
#[derive(Debug, Clone, Default)]
pub struct ConfigDef {
    keys: Vec<ConfigKey>,
}

/// Parsed configuration values by key.
#[derive(Debug, Clone, Default)]
pub struct Config {
    values: BTreeMap<String, Parsed>,
    /// Every setting as given, the undefined ones too (a plugin whose
    /// keys are named by other keys reads them here).
    originals: BTreeMap<String, String>,
}

impl Config {
    /// Every setting as given.
    pub fn originals(&self) -> &BTreeMap<String, String> {
        &self.originals
    }

    /// A setting as given, whether or not the definition has it.
    pub fn original(&self, key: &str) -> Option<&str> {
        self.originals.get(key).map(String::as_str)
    }

    pub fn get(&self, key: &str) -> Option<&Parsed> {
        self.values.get(key)
    }

    pub fn string(&self, key: &str) -> Option<&str> {
        match self.values.get(key) {
            Some(Parsed::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn int(&self, key: &str) -> Option<i64> {
        match self.values.get(key) {
            Some(Parsed::Int(n)) => Some(*n),
            _ => None,
        }
    }

    pub fn boolean(&self, key: &str) -> Option<bool> {
        match self.values.get(key) {
            Some(Parsed::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    pub fn list(&self, key: &str) -> Option<&[String]> {
        match self.values.get(key) {
            Some(Parsed::List(l)) => Some(l),
            _ => None,
        }
    }

    pub fn password(&self, key: &str) -> Option<&Password> {
        match self.values.get(key) {
            Some(Parsed::Password(p)) => Some(p),
            _ => None,
        }
    }
}

/// Parses `raw` as `kind`; the error is Kafka's reason text.
pub fn parse_value(kind: ConfigType, raw: &str) -> Result<Parsed, String> {
    let t = raw.trim();
    let not = |what: &str| format!("Not a number of type {what}");
    Ok(match kind {
        ConfigType::Boolean => match t.to_ascii_lowercase().as_str() {
            "true" => Parsed::Bool(true),
            "false" => Parsed::Bool(false),
            _ => return Err("Expected value to be either true or false".into()),
        },
        ConfigType::String | ConfigType::Class => Parsed::Str(t.to_string()),
        ConfigType::Password => Parsed::Password(Password::new(raw)),
        ConfigType::Int => Parsed::Int(t.parse::<i32>().map_err(|_| not("INT"))?.into()),
        ConfigType::Short => Parsed::Int(t.parse::<i16>().map_err(|_| not("SHORT"))?.into()),
        ConfigType::Long => Parsed::Int(t.parse::<i64>().map_err(|_| not("LONG"))?),
        ConfigType::Double => Parsed::Double(t.parse::<f64>().map_err(|_| not("DOUBLE"))?),
        ConfigType::List => Parsed::List(
            t.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        ),
    })
}

impl ConfigDef {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key.
    pub fn define(mut self, key: ConfigKey) -> Self {
        self.keys.retain(|k| k.name != key.name);
        self.keys.push(key);
        self
    }

    /// Adds every key of `other`.
    pub fn merge(mut self, other: &ConfigDef) -> Self {
        for k in &other.keys {
            self = self.define(k.clone());
        }
        self
    }

    pub fn keys(&self) -> &[ConfigKey] {
        &self.keys
    }

    /// Validates `props` key by key, then, when every key is valid on its
    /// own, with `rules` (the checks between keys, each problem paired
    /// with the key it is reported on).
    pub fn validate_with(
        &self,
        props: &BTreeMap<String, String>,
        rules: impl FnOnce(&BTreeMap<String, String>) -> Vec<(String, String)>,
    ) -> Vec<ConfigValue> {
        let mut values = self.validate(props);
        if values.iter().all(|v| v.errors.is_empty()) {
            for (k, e) in rules(props) {
                if let Some(v) = values.iter_mut().find(|v| v.name == k) {
                    v.errors.push(e);
                }
            }
        }
        values
    }

    /// Validates `props` key by key, collecting every problem.
    pub fn validate(&self, props: &BTreeMap<String, String>) -> Vec<ConfigValue> {
        self.keys
            .iter()
            .map(|k| {
                let raw = props.get(k.name).map(String::as_str).or(k.default.value());
                let mut errors = Vec::new();
                match raw {
                    None if k.default == DefaultValue::Null => {}
                    None => errors.push(format!(
                        "Missing required configuration \"{}\" which has no default value.",
                        k.name
                    )),
                    Some(r) => match parse_value(k.kind, r) {
                        Err(reason) => errors.push(invalid(k, r, &reason)),
                        Ok(v) => {
                            if let Some(Err(reason)) = k.validator.as_ref().map(|c| c.check(&v)) {
                                errors.push(invalid(k, r, &reason));
                            }
                        }
                    },
                }
                let shown = props.get(k.name).map(|v| {
                    if k.kind == ConfigType::Password {
                        "[hidden]".to_string()
                    } else {
                        v.clone()
                    }
                });
                ConfigValue {
                    name: k.name.to_string(),
                    value: shown.or_else(|| k.default.value().map(str::to_string)),
                    recommended_values: match &k.validator {
                        Some(Validator::OneOf(v)) => v.iter().map(|s| s.to_string()).collect(),
                        _ => Vec::new(),
                    },
                    errors,
                    visible: true,
                }
            })
            .collect()
    }

    /// Parses `props`; the error lists every problem, each naming its key.
    pub fn parse(&self, props: &BTreeMap<String, String>) -> Result<Config, Vec<String>> {
        self.parse_keyed(props)
            .map_err(|errors| errors.into_iter().map(|(_, e)| e).collect())
    }

    /// As `parse`, each problem paired with the key it concerns.
    pub fn parse_keyed(
        &self,
        props: &BTreeMap<String, String>,
    ) -> Result<Config, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let mut values = BTreeMap::new();
        for v in self.validate(props) {
            if !v.errors.is_empty() {
                if let Some(k) = self.keys.iter().find(|k| k.name == v.name) {
                    errors.extend(v.errors.into_iter().map(|e| (k.name, e)));
                }
                continue;
            }
            let Some(key) = self.keys.iter().find(|k| k.name == v.name) else {
                continue;
            };
            let raw = props
                .get(key.name)
                .map(String::as_str)
                .or(key.default.value());
            match raw.map(|r| parse_value(key.kind, r)) {
                Some(Ok(p)) => {
                    values.insert(v.name, p);
                }
                _ => {
                    values.insert(v.name, Parsed::Null);
                }
            }
        }
        if errors.is_empty() {
            Ok(Config {
                values,
                originals: props.clone(),
            })
        } else {
            Err(errors)
        }
    }

    /// A Markdown table of the keys (for READMEs).
    pub fn markdown_table(&self) -> String {
        let mut out = String::from(
            "| key | type | default | importance | description |\n|---|---|---|---|---|\n",
        );
        for k in &self.keys {
            let default = match k.default {
                DefaultValue::Required => "required".to_string(),
                DefaultValue::Null => "null".to_string(),
                DefaultValue::Value("") => "\"\"".to_string(),
                DefaultValue::Value(d) => format!("`{d}`"),
            };
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                k.name,
                k.kind.name().to_ascii_lowercase(),
                default,
                k.importance.name().to_ascii_lowercase(),
                k.doc.replace('|', "\\|")
            ));
        }
        out
    }
}

fn invalid(k: &ConfigKey, raw: &str, reason: &str) -> String {
    let shown = if k.kind == ConfigType::Password {
        "[hidden]"
    } else {
        raw
    };
    format!(
        "Invalid value {shown} for configuration {}: {reason}",
        k.name
    )
}

/// A key with the common fields filled in; adjust with struct update syntax.
pub const fn key(
    name: &'static str,
    kind: ConfigType,
    default: DefaultValue,
    importance: Importance,
    doc: &'static str,
) -> ConfigKey {
    ConfigKey {
        name,
        kind,
        default,
        importance,
        doc,
        group: None,
        order_in_group: -1,
        display_name: name,
        validator: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> ConfigDef {
        ConfigDef::new()
            .define(key(
                "file",
                ConfigType::String,
                DefaultValue::Required,
                Importance::High,
                "the file",
            ))
            .define(ConfigKey {
                validator: Some(Validator::AtLeast(1)),
                ..key(
                    "tasks.max",
                    ConfigType::Int,
                    DefaultValue::Value("1"),
                    Importance::High,
                    "tasks",
                )
            })
            .define(ConfigKey {
                validator: Some(Validator::OneOf(&["none", "all"])),
                ..key(
                    "errors.tolerance",
                    ConfigType::String,
                    DefaultValue::Value("none"),
                    Importance::Medium,
                    "t",
                )
            })
            .define(key(
                "secret",
                ConfigType::Password,
                DefaultValue::Value(""),
                Importance::Low,
                "s",
            ))
            .define(key(
                "opt",
                ConfigType::String,
                DefaultValue::Null,
                Importance::Low,
                "o",
            ))
    }

    #[test]
    fn every_mistake_is_reported_with_its_key() {
        let props: BTreeMap<String, String> = [("tasks.max", "0"), ("errors.tolerance", "some")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let errors = def().parse(&props).expect_err("three mistakes");
        assert_eq!(
            errors,
            vec![
                "Missing required configuration \"file\" which has no default value.",
                "Invalid value 0 for configuration tasks.max: Value must be at least 1",
                "Invalid value some for configuration errors.tolerance: String must be one of: none, all",
            ]
        );
    }

    #[test]
    fn passwords_are_hidden_and_values_typed() {
        let props: BTreeMap<String, String> = [
            ("file", "/tmp/x"),
            ("secret", "hunter2"),
            ("tasks.max", "3"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let cfg = def().parse(&props).expect("valid");
        assert_eq!(cfg.int("tasks.max"), Some(3));
        assert_eq!(cfg.get("opt"), Some(&Parsed::Null));
        assert_eq!(
            cfg.password("secret").map(Password::expose),
            Some("hunter2")
        );
        assert_eq!(format!("{:?}", cfg.password("secret")), "Some([hidden])");
        let shown = def().validate(&props);
        assert_eq!(shown[3].value.as_deref(), Some("[hidden]"));
        assert!(def()
            .markdown_table()
            .contains("| `file` | string | required | high | the file |"));
    }

    #[test]
    fn type_errors_use_kafka_wording() {
        assert_eq!(
            parse_value(ConfigType::Int, "x").expect_err("not a number"),
            "Not a number of type INT"
        );
        assert_eq!(
            parse_value(ConfigType::List, "a, b,,c").expect("list"),
            Parsed::List(vec!["a".into(), "b".into(), "c".into()])
        );
    }
}
