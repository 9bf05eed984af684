//! Topic creation for source connectors (KIP-158): `topic.creation.groups`,
//! the `default` group's `replication.factor` and `partitions`, each
//! group's `include` / `exclude` patterns and any topic-level config under
//! `topic.creation.<group>.`. A topic a source writes to is created with
//! the first matching group's settings before its first record; a topic
//! that exists is left as it is.

use std::collections::BTreeMap;

use connect_api::Props;

const PREFIX: &str = "topic.creation.";
pub const GROUPS: &str = "topic.creation.groups";
/// The worker setting that turns the feature on or off (default true).
pub const ENABLE: &str = "topic.creation.enable";

/// One creation group.
#[derive(Debug, Clone)]
struct Group {
    include: regex::Regex,
    exclude: Option<regex::Regex>,
    partitions: i32,
    replication_factor: i16,
    configs: Vec<(String, String)>,
}

/// How a source connector's topics are created.
#[derive(Debug, Clone)]
pub struct TopicCreation {
    /// The listed groups in order, then `default`.
    groups: Vec<(String, Group)>,
}

/// What to create a topic with.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTopic {
    pub group: String,
    pub partitions: i32,
    pub replication_factor: i16,
    pub configs: Vec<(String, String)>,
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn patterns(key: &str, v: &str, errors: &mut Vec<(String, String)>) -> Option<regex::Regex> {
    let items = list(v);
    if items.is_empty() {
        return None;
    }
    let joined = format!("^(?:{})$", items.join("|"));
    match regex::Regex::new(&joined) {
        Ok(r) => Some(r),
        Err(e) => {
            errors.push((
                key.to_string(),
                format!(
                    "Invalid value [{}] for configuration {key}: Syntax error in regular expression: {e}",
                    items.join(", ")
                ),
            ));
            None
        }
    }
}

impl TopicCreation {
    /// True when the worker allows topic creation and the connector uses it.
    pub fn wanted(worker: &BTreeMap<String, String>, props: &Props) -> bool {
        let enabled = worker
            .get(ENABLE)
            .is_none_or(|v| !v.trim().eq_ignore_ascii_case("false"));
        enabled && props.keys().any(|k| k.starts_with(PREFIX))
    }

    /// Reads the settings; every mistake names its key.
    pub fn from_props(props: &Props) -> Result<Self, Vec<(String, String)>> {
        let mut errors = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for g in list(props.get(GROUPS).map_or("", String::as_str)) {
            if g == "default" {
                tracing::warn!("'default' topic creation group always exists and does not need to be listed explicitly");
            } else if names.contains(&g) {
                errors.push((
                    GROUPS.to_string(),
                    format!(
                        "Invalid value {} for configuration {GROUPS}: Duplicate alias provided.",
                        props.get(GROUPS).map_or("", |s| s.as_str())
                    ),
                ));
            } else {
                names.push(g);
            }
        }
        let number = |key: String,
                      required: bool,
                      fallback: Option<i64>,
                      what: &str,
                      max: i64,
                      errors: &mut Vec<(String, String)>|
         -> i64 {
            match props.get(&key).map(|v| v.trim()) {
                None if required => {
                    errors.push((
                        key.clone(),
                        format!(
                            "Missing required configuration \"{key}\" which has no default value."
                        ),
                    ));
                    -1
                }
                None => fallback.unwrap_or(-1),
                // Partitions are an INT, the replication factor a SHORT.
                Some(v) => match v.parse::<i64>().ok().filter(|n| *n <= max) {
                    Some(n) if n == -1 || n >= 1 => n,
                    Some(_) => {
                        errors.push((
                            key.clone(),
                            format!("Invalid value {v} for configuration {key}: {what}"),
                        ));
                        -1
                    }
                    None => {
                        let kind = if max == i64::from(i16::MAX) {
                            "SHORT"
                        } else {
                            "INT"
                        };
                        errors.push((key.clone(), format!("Invalid value {v} for configuration {key}: Not a number of type {kind}")));
                        -1
                    }
                },
            }
        };
        const RF: &str = "Replication factor must be positive and not larger than the number of brokers in the Kafka cluster, or -1 to use the broker's default";
        const PARTS: &str =
            "Number of partitions must be positive, or -1 to use the broker's default";
        let default_rf = number(
            format!("{PREFIX}default.replication.factor"),
            true,
            None,
            RF,
            i64::from(i16::MAX),
            &mut errors,
        );
        let default_parts = number(
            format!("{PREFIX}default.partitions"),
            true,
            None,
            PARTS,
            i64::from(i32::MAX),
            &mut errors,
        );
        let everything = regex::Regex::new("^.*$").ok();
        let mut groups = Vec::new();
        for name in names.iter().map(String::as_str).chain(["default"]) {
            let p = format!("{PREFIX}{name}.");
            let is_default = name == "default";
            let (include, exclude) = if is_default {
                (everything.clone(), None)
            } else {
                let inc = props.get(&format!("{p}include")).map_or("", String::as_str);
                let exc = props.get(&format!("{p}exclude")).map_or("", String::as_str);
                (
                    patterns(&format!("{p}include"), inc, &mut errors),
                    patterns(&format!("{p}exclude"), exc, &mut errors),
                )
            };
            let rf = if is_default {
                default_rf
            } else {
                number(
                    format!("{p}replication.factor"),
                    false,
                    Some(default_rf),
                    RF,
                    i64::from(i16::MAX),
                    &mut errors,
                )
            };
            let partitions = if is_default {
                default_parts
            } else {
                number(
                    format!("{p}partitions"),
                    false,
                    Some(default_parts),
                    PARTS,
                    i64::from(i32::MAX),
                    &mut errors,
                )
            };
            let configs: Vec<(String, String)> = props
                .iter()
                .filter_map(|(k, v)| k.strip_prefix(&p).map(|k| (k.to_string(), v.clone())))
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "include" | "exclude" | "replication.factor" | "partitions"
                    )
                })
                .collect();
            // A group without include patterns matches no topic.
            let Some(include) = include else { continue };
            groups.push((
                name.to_string(),
                Group {
                    include,
                    exclude,
                    // In range: checked above.
                    partitions: i32::try_from(partitions).unwrap_or(-1),
                    replication_factor: i16::try_from(rf).unwrap_or(-1),
                    configs,
                },
            ));
        }
        if errors.is_empty() {
            Ok(Self { groups })
        } else {
            Err(errors)
        }
    }

    /// The settings of the first group that matches `topic` (exclude wins
    /// over include; `default` matches everything).
    pub fn for_topic(&self, topic: &str) -> Option<NewTopic> {
        self.groups
            .iter()
            .find(|(_, g)| {
                g.include.is_match(topic) && !g.exclude.as_ref().is_some_and(|e| e.is_match(topic))
            })
            .map(|(name, g)| NewTopic {
                group: name.clone(),
                partitions: g.partitions,
                replication_factor: g.replication_factor,
                configs: g.configs.clone(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_first_matching_group_wins_and_exclude_beats_include() {
        let tc = TopicCreation::from_props(&props(&[
            ("topic.creation.groups", "compacted,big"),
            ("topic.creation.default.replication.factor", "1"),
            ("topic.creation.default.partitions", "1"),
            ("topic.creation.compacted.include", "state-.*, .*-changelog"),
            ("topic.creation.compacted.exclude", "state-tmp"),
            ("topic.creation.compacted.partitions", "3"),
            ("topic.creation.compacted.cleanup.policy", "compact"),
            ("topic.creation.big.include", "state-tmp, logs"),
            ("topic.creation.big.partitions", "12"),
        ]))
        .expect("valid");
        let t = tc.for_topic("state-a").expect("matches");
        assert_eq!(
            (t.group.as_str(), t.partitions, t.replication_factor),
            ("compacted", 3, 1)
        );
        assert_eq!(
            t.configs,
            vec![("cleanup.policy".to_string(), "compact".to_string())]
        );
        assert_eq!(tc.for_topic("state-tmp").expect("matches").group, "big");
        let d = tc.for_topic("other").expect("default");
        assert_eq!((d.group.as_str(), d.partitions), ("default", 1));
    }

    #[test]
    fn mistakes_name_their_keys() {
        let errors = TopicCreation::from_props(&props(&[
            ("topic.creation.default.partitions", "0"),
            ("topic.creation.groups", "g"),
            ("topic.creation.g.include", "(unclosed"),
        ]))
        .expect_err("three mistakes");
        let keys: Vec<&str> = errors.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            vec![
                "topic.creation.default.replication.factor",
                "topic.creation.default.partitions",
                "topic.creation.g.include"
            ]
        );
        assert!(errors[1]
            .1
            .contains("Number of partitions must be positive, or -1"));
    }
}
