//! The topic routers: `RegexRouter` (the topic rewritten when the whole name
//! matches) and `TimestampRouter` (the topic from a format and the record's
//! timestamp).

use std::sync::Arc;

use connect_api::config::{key, Config, ConfigType, DefaultValue, Importance};
use connect_api::{ConfigDef, ConnectError, ConnectRecord, ConnectResult};

use crate::datetime::DateFormat;
use crate::util::{self, java_regex, java_replacement};
use crate::Transformation;

pub const REGEX: &str = "regex";
pub const REPLACEMENT: &str = "replacement";
pub const TOPIC_FORMAT: &str = "topic.format";
pub const TIMESTAMP_FORMAT: &str = "timestamp.format";

pub fn regex_def() -> ConfigDef {
    ConfigDef::new()
        .define(key(
            REGEX,
            ConfigType::String,
            DefaultValue::Required,
            Importance::High,
            "A Java regular expression matched against the whole topic name.",
        ))
        .define(key(
            REPLACEMENT,
            ConfigType::String,
            DefaultValue::Required,
            Importance::High,
            "The new topic name; $1 and ${name} refer to capture groups.",
        ))
}

pub fn timestamp_def() -> ConfigDef {
    ConfigDef::new()
        .define(key(
            TOPIC_FORMAT,
            ConfigType::String,
            DefaultValue::Value("${topic}-${timestamp}"),
            Importance::High,
            "The new topic name; ${topic} and ${timestamp} are replaced.",
        ))
        .define(key(
            TIMESTAMP_FORMAT,
            ConfigType::String,
            DefaultValue::Value("yyyyMMdd"),
            Importance::High,
            "A java.text.SimpleDateFormat pattern for ${timestamp}, in UTC.",
        ))
}

pub struct RegexRouter {
    regex: regex::Regex,
    replacement: String,
    /// The last topic routed and where it went: records mostly share topics.
    last: Option<(String, Arc<str>)>,
}

impl RegexRouter {
    pub fn new(c: &Config) -> Result<Self, String> {
        let r = c.string(REGEX).unwrap_or_default();
        let regex = java_regex(r, true)
            .map_err(|e| util::invalid(REGEX, r, &format!("Invalid regex: {e}")))?;
        let rep = c.string(REPLACEMENT).unwrap_or_default();
        // The pattern is wrapped in one non-capturing group: the count
        // excludes the implicit whole-match group.
        let groups = regex.captures_len().saturating_sub(1);
        let replacement =
            java_replacement(rep, groups).map_err(|e| util::invalid(REPLACEMENT, rep, &e))?;
        Ok(Self {
            regex,
            replacement,
            last: None,
        })
    }
}

impl Transformation for RegexRouter {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        if let Some((from, to)) = &self.last {
            if from == record.topic() {
                record.set_topic_shared(to);
                return Ok(true);
            }
        }
        let from = record.topic().to_string();
        let to: Arc<str> = if self.regex.is_match(&from) {
            Arc::from(self.regex.replace(&from, self.replacement.as_str()))
        } else {
            Arc::from(from.as_str())
        };
        record.set_topic_shared(&to);
        self.last = Some((from, to));
        Ok(true)
    }

    fn reads_value(&self) -> bool {
        false
    }
}

pub struct TimestampRouter {
    topic_format: String,
    format: DateFormat,
}

impl TimestampRouter {
    pub fn new(c: &Config) -> Result<Self, String> {
        let f = c.string(TIMESTAMP_FORMAT).unwrap_or("yyyyMMdd");
        Ok(Self {
            topic_format: c
                .string(TOPIC_FORMAT)
                .unwrap_or("${topic}-${timestamp}")
                .to_string(),
            format: DateFormat::new(f).map_err(|e| util::invalid(TIMESTAMP_FORMAT, f, &e))?,
        })
    }
}

impl Transformation for TimestampRouter {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let ts = record.timestamp().ok_or_else(|| {
            ConnectError::data(format!(
                "Timestamp missing on record for topic {}",
                record.topic()
            ))
        })?;
        let topic = self
            .topic_format
            .replace("${topic}", record.topic())
            .replace("${timestamp}", &self.format.format(ts));
        record.set_topic(&topic);
        Ok(true)
    }

    fn reads_value(&self) -> bool {
        false
    }
}
