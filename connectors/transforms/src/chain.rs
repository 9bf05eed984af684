//! The transformation chain of a connector (Kafka's `TransformationChain`
//! built by `ConnectorConfig`): `transforms=a,b` with `transforms.a.type`,
//! each stage's own settings, and `predicates=p` with `predicates.p.type`,
//! guarded by `transforms.a.predicate` and `transforms.a.negate`.

use std::collections::BTreeMap;

use connect_api::config::{key, Config, ConfigKey, ConfigType, DefaultValue, Importance};
use connect_api::{ConfigDef, ConnectError, ConnectRecord, Props};

use crate::registry::{find_predicate, find_transform, PredicatePlugin, TransformPlugin};
use crate::{Predicate, Transformation};

/// One transform of the chain with its guard.
struct Stage {
    alias: String,
    class: &'static str,
    transform: Box<dyn Transformation>,
    predicate: Option<Box<dyn Predicate>>,
    negate: bool,
}

/// A transform that failed on a record: which one, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct StageError {
    pub alias: String,
    /// The transform's class name.
    pub class: &'static str,
    pub error: ConnectError,
}

impl std::fmt::Display for StageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "transform {} ({}): {}",
            self.alias, self.class, self.error
        )
    }
}

/// The transforms of a connector, applied in order.
#[derive(Default)]
pub struct Chain {
    stages: Vec<Stage>,
    /// Whether a stage reads values: records then have theirs decoded.
    reads_value: bool,
}

/// Aliases listed under `key` (`transforms` or `predicates`), in order.
fn aliases(props: &Props, key: &str) -> Vec<String> {
    props
        .get(key)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Kafka's check that no alias is listed twice.
fn duplicate_aliases(props: &Props, key: &str) -> Option<(String, String)> {
    let list = aliases(props, key);
    let mut seen = std::collections::BTreeSet::new();
    list.iter().any(|a| !seen.insert(a)).then(|| {
        (
            key.to_string(),
            format!(
                "Invalid value [{}] for configuration {key}: Duplicate alias provided.",
                list.join(", ")
            ),
        )
    })
}

/// The settings under `prefix`, with the prefix removed.
fn under(props: &Props, prefix: &str) -> Props {
    props
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(prefix).map(|k| (k.to_string(), v.clone())))
        .collect()
}

/// Parses a plugin's own settings; errors name the full key.
fn parse_own(
    def: &ConfigDef,
    props: &Props,
    prefix: &str,
) -> Result<Config, Vec<(String, String)>> {
    let own = under(props, prefix);
    def.parse_keyed(&own).map_err(|errors| {
        errors
            .into_iter()
            .map(|(k, e)| {
                let full = format!("{prefix}{k}");
                // A missing key is named in full; a bad value by the
                // plugin's own name, as Kafka's embedded validators do.
                let e = e.replace(&format!("\"{k}\""), &format!("\"{full}\""));
                (full, e)
            })
            .collect()
    })
}

/// A plugin's build error with the full key it is about: the key its
/// "Invalid value ... for configuration <key>: ..." message names, else the
/// plugin's `type`. The message keeps the plugin's own key name, as Kafka's
/// embedded validators do.
fn keyed(prefix: &str, e: String) -> (String, String) {
    let own = e
        .strip_prefix("Invalid value ")
        .and_then(|rest| rest.split_once(" for configuration "))
        .and_then(|(_, rest)| rest.split_once(':'))
        .map(|(k, _)| k.to_string());
    match own {
        Some(k) => (format!("{prefix}{k}"), e),
        None => (format!("{prefix}type"), e),
    }
}

fn missing(key: &str) -> String {
    format!("Missing required configuration \"{key}\" which has no default value.")
}

/// The plugin a `*.type` setting names, or the error for its key.
fn plugin_of<P>(
    props: &Props,
    type_key: &str,
    find: fn(&str) -> Option<P>,
    what: &str,
) -> Result<P, (String, String)> {
    let class = props
        .get(type_key)
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| (type_key.to_string(), missing(type_key)))?;
    find(class).ok_or_else(|| {
        (
            type_key.to_string(),
            format!(
                "Invalid value {class} for configuration {type_key}: Class {class} could not be found. It is not a known {what}."
            ),
        )
    })
}

impl Chain {
    /// Builds the chain a connector config describes, or every problem,
    /// each with the full key it concerns.
    pub fn from_props(props: &Props) -> Result<Self, Vec<(String, String)>> {
        let mut errors: Vec<(String, String)> = ["transforms", "predicates"]
            .into_iter()
            .filter_map(|k| duplicate_aliases(props, k))
            .collect();
        let mut predicates: BTreeMap<String, (PredicatePlugin, Config)> = BTreeMap::new();
        let predicate_aliases = aliases(props, "predicates");
        for alias in &predicate_aliases {
            let prefix = format!("predicates.{alias}.");
            match plugin_of(props, &format!("{prefix}type"), find_predicate, "predicate") {
                Err(e) => errors.push(e),
                Ok(p) => match parse_own(&(p.config_def)(), props, &prefix) {
                    Err(e) => errors.extend(e),
                    Ok(c) => match (p.build)(&c) {
                        Err(e) => errors.push(keyed(&prefix, e)),
                        Ok(_) => {
                            predicates.insert(alias.clone(), (p, c));
                        }
                    },
                },
            }
        }
        let mut stages = Vec::new();
        for alias in aliases(props, "transforms") {
            let prefix = format!("transforms.{alias}.");
            let plugin: TransformPlugin = match plugin_of(
                props,
                &format!("{prefix}type"),
                find_transform,
                "transformation",
            ) {
                Ok(p) => p,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let negate_key = format!("{prefix}negate");
            let negate = match props
                .get(&negate_key)
                .map(|v| v.trim().to_ascii_lowercase())
            {
                None => false,
                Some(v) if v == "true" => true,
                Some(v) if v == "false" => false,
                Some(v) => {
                    errors.push((
                        negate_key.clone(),
                        format!("Invalid value {v} for configuration {negate_key}: Expected value to be either true or false"),
                    ));
                    false
                }
            };
            let predicate_key = format!("{prefix}predicate");
            let predicate = match props
                .get(&predicate_key)
                .map(|p| p.trim())
                .filter(|p| !p.is_empty())
            {
                None => {
                    if props.contains_key(&negate_key) {
                        errors.push((
                            format!("{prefix}type"),
                            format!("Config '{negate_key}' was provided but there is no config '{predicate_key}' defining a predicate to be negated."),
                        ));
                    }
                    None
                }
                Some(p) => match predicates.get(p) {
                    Some((plugin, c)) => match (plugin.build)(c) {
                        Ok(p) => Some(p),
                        Err(e) => {
                            errors.push((format!("predicates.{p}.type"), e));
                            None
                        }
                    },
                    None => {
                        let why = if predicate_aliases.iter().any(|a| a == p) {
                            "its settings are invalid"
                        } else {
                            "it is not listed in predicates"
                        };
                        errors.push((
                            predicate_key.clone(),
                            format!("Invalid value {p} for configuration {predicate_key}: Predicate '{p}' is not defined ({why})"),
                        ));
                        None
                    }
                },
            };
            let config = match parse_own(&(plugin.config_def)(), props, &prefix) {
                Ok(c) => c,
                Err(e) => {
                    errors.extend(e);
                    continue;
                }
            };
            match (plugin.build)(&config) {
                Ok(transform) => stages.push(Stage {
                    alias,
                    class: plugin.class,
                    transform,
                    predicate,
                    negate,
                }),
                Err(e) => errors.push(keyed(&prefix, e)),
            }
        }
        if errors.is_empty() {
            let reads_value = stages.iter().any(|s| {
                s.transform.reads_value() || s.predicate.as_ref().is_some_and(|p| p.reads_value())
            });
            Ok(Self {
                stages,
                reads_value,
            })
        } else {
            Err(errors)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// Applies the stages in order; `Ok(false)`: a stage dropped the record.
    pub fn apply(&mut self, record: &mut dyn ConnectRecord) -> Result<bool, StageError> {
        if self.reads_value {
            record.decode_value();
        }
        for s in &mut self.stages {
            if let Some(p) = &mut s.predicate {
                if p.test(record) == s.negate {
                    continue;
                }
            }
            match s.transform.apply(record) {
                Ok(true) => {}
                Ok(false) => return Ok(false),
                Err(error) => {
                    return Err(StageError {
                        alias: s.alias.clone(),
                        class: s.class,
                        error,
                    })
                }
            }
        }
        Ok(true)
    }
}

/// The keys every stage has (`type`, `predicate`, `negate`) and the
/// transform's own, under `transforms.<alias>.`, for validation answers.
pub fn stage_keys(alias: &str, plugin: Option<&TransformPlugin>) -> Vec<(String, ConfigKey)> {
    let prefix = format!("transforms.{alias}.");
    let mut out = vec![
        (
            format!("{prefix}type"),
            key(
                "type",
                ConfigType::Class,
                DefaultValue::Required,
                Importance::High,
                "The class (or short name) of this transformation.",
            ),
        ),
        (
            format!("{prefix}negate"),
            key(
                "negate",
                ConfigType::Boolean,
                DefaultValue::Value("false"),
                Importance::Medium,
                "Apply the transformation when the predicate is false instead of true.",
            ),
        ),
        (
            format!("{prefix}predicate"),
            key(
                "predicate",
                ConfigType::String,
                DefaultValue::Null,
                Importance::Medium,
                "The alias of the predicate that decides whether this transformation applies.",
            ),
        ),
    ];
    if let Some(p) = plugin {
        for k in (p.config_def)().keys() {
            out.push((format!("{prefix}{}", k.name), k.clone()));
        }
    }
    out
}

/// The keys of a predicate under `predicates.<alias>.`, for validation answers.
pub fn predicate_keys(alias: &str, plugin: Option<&PredicatePlugin>) -> Vec<(String, ConfigKey)> {
    let prefix = format!("predicates.{alias}.");
    let mut out = vec![(
        format!("{prefix}type"),
        key(
            "type",
            ConfigType::Class,
            DefaultValue::Required,
            Importance::High,
            "The class (or short name) of this predicate.",
        ),
    )];
    if let Some(p) = plugin {
        for k in (p.config_def)().keys() {
            out.push((format!("{prefix}{}", k.name), k.clone()));
        }
    }
    out
}
