//! The predicates (`TopicNameMatches`, `HasHeaderKey`, `RecordIsTombstone`)
//! and `Filter`, the transform meant to be used with one.

use connect_api::config::{
    key, Config, ConfigKey, ConfigType, DefaultValue, Importance, Validator,
};
use connect_api::{ConfigDef, ConnectRecord, ConnectResult};

use crate::util::{self, java_regex};
use crate::{Predicate, Transformation};

/// Drops every record it is applied to.
pub struct Filter;

impl Transformation for Filter {
    fn apply(&mut self, _record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        Ok(false)
    }

    fn reads_value(&self) -> bool {
        false
    }
}

pub const PATTERN: &str = "pattern";
pub const NAME: &str = "name";

pub fn topic_matches_def() -> ConfigDef {
    ConfigDef::new().define(ConfigKey {
        validator: Some(Validator::NonEmptyString),
        ..key(
            PATTERN,
            ConfigType::String,
            DefaultValue::Required,
            Importance::Medium,
            "A Java regular expression matched against the whole topic name.",
        )
    })
}

pub fn has_header_def() -> ConfigDef {
    ConfigDef::new().define(ConfigKey {
        validator: Some(Validator::NonEmptyString),
        ..key(
            NAME,
            ConfigType::String,
            DefaultValue::Required,
            Importance::Medium,
            "The header a record must have.",
        )
    })
}

/// True for records whose topic matches the whole pattern.
pub struct TopicNameMatches {
    pattern: regex::Regex,
    /// The last topic tested and its answer: records mostly share topics.
    last: Option<(String, bool)>,
}

impl TopicNameMatches {
    pub fn new(c: &Config) -> Result<Self, String> {
        let p = c.string(PATTERN).unwrap_or_default();
        let pattern = java_regex(p, true)
            .map_err(|e| util::invalid(PATTERN, p, &format!("Invalid regex: {e}")))?;
        Ok(Self {
            pattern,
            last: None,
        })
    }
}

impl Predicate for TopicNameMatches {
    fn test(&mut self, record: &dyn ConnectRecord) -> bool {
        let topic = record.topic();
        if let Some((t, answer)) = &self.last {
            if t == topic {
                return *answer;
            }
        }
        let answer = self.pattern.is_match(topic);
        self.last = Some((topic.to_string(), answer));
        answer
    }

    fn reads_value(&self) -> bool {
        false
    }
}

/// True for records with at least one header of the name.
pub struct HasHeaderKey {
    name: String,
}

impl HasHeaderKey {
    pub fn new(c: &Config) -> Result<Self, String> {
        Ok(Self {
            name: c.string(NAME).unwrap_or_default().to_string(),
        })
    }
}

impl Predicate for HasHeaderKey {
    fn test(&mut self, record: &dyn ConnectRecord) -> bool {
        record.headers().iter().any(|h| h.key == self.name)
    }

    fn reads_value(&self) -> bool {
        false
    }
}

/// True for records whose value is null.
pub struct RecordIsTombstone;

impl Predicate for RecordIsTombstone {
    fn test(&mut self, record: &dyn ConnectRecord) -> bool {
        record.value().value.is_null()
    }
}
