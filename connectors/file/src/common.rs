//! What the file and Flume-style sources share: the topic key, settings
//! read with errors that name their key, record headers and the clock.

use std::sync::Arc;

use connect_api::config::{key, ConfigType, DefaultValue, Importance};
use connect_api::{ConfigDef, ConnectError, ConnectResult, Props, Schema, SchemaAndValue, Value};

use crate::TOPIC;

pub use connect_api::event::{body_bytes, header_text, now_ms, string_header};

/// `def` with the `topic` key every source has.
pub fn with_topic(def: ConfigDef) -> ConfigDef {
    def.define(key(
        TOPIC,
        ConfigType::String,
        DefaultValue::Null,
        Importance::High,
        "The topic to publish data to (required; a single `topics` value is accepted in its place)",
    ))
}

/// An integer setting within `min..=max`; `default` when absent.
pub fn int_setting(
    props: &Props,
    name: &str,
    default: Option<i64>,
    min: i64,
    max: i64,
) -> ConnectResult<i64> {
    let raw = props.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let n = match (raw, default) {
        (None, Some(d)) => return Ok(d),
        (None, None) => {
            return Err(ConnectError::fatal(format!(
                "Missing required configuration \"{name}\" which has no default value."
            )))
        }
        (Some(r), _) => r.parse::<i64>().map_err(|_| {
            ConnectError::fatal(format!(
                "Invalid value {r} for configuration {name}: Not a number of type INT"
            ))
        })?,
    };
    if n < min || n > max {
        return Err(ConnectError::fatal(format!(
            "Invalid value {n} for configuration {name}: Value must be in [{min}, {max}]"
        )));
    }
    Ok(n)
}

/// A boolean setting; `default` when absent. Anything but true/false is an
/// error naming the key.
pub fn bool_setting(props: &Props, name: &str, default: bool) -> ConnectResult<bool> {
    match props.get(name).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if v.is_empty() => Ok(default),
        Some(v) if v == "true" => Ok(true),
        Some(v) if v == "false" => Ok(false),
        Some(v) => Err(ConnectError::fatal(format!(
            "Invalid value {v} for configuration {name}: Expected value to be either true or false"
        ))),
    }
}

/// A string setting, trimmed; `None` when absent or empty.
pub fn str_setting<'a>(props: &'a Props, name: &str) -> Option<&'a str> {
    props.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// Bytes as text; invalid UTF-8 becomes U+FFFD, as Java's decoder does.
pub fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Waits up to a second for the first item of `rx`, then takes what else
/// is there, up to `max` in all; `None` when the sending side is gone.
pub async fn drain<T>(rx: &mut tokio::sync::mpsc::Receiver<T>, max: usize) -> Option<Vec<T>> {
    let mut got = Vec::new();
    match tokio::time::timeout(std::time::Duration::from_secs(1), rx.recv()).await {
        Ok(Some(first)) => got.push(first),
        Ok(None) => return None,
        Err(_) => return Some(got),
    }
    while got.len() < max {
        match rx.try_recv() {
            Ok(item) => got.push(item),
            Err(_) => break,
        }
    }
    Some(got)
}

/// A line as a record with a string value, stamped `ts`, with no offset.
pub fn line_record(
    partition: &Arc<connect_api::record::SourcePartition>,
    topic: &Arc<str>,
    schema: &Option<Arc<Schema>>,
    line: Vec<u8>,
    ts: i64,
) -> connect_api::SourceRecord {
    let mut r = connect_api::SourceRecord::new(
        partition.clone(),
        None,
        topic.clone(),
        SchemaAndValue::new(schema.clone(), Value::String(text(line))),
    );
    r.timestamp = Some(ts);
    r
}

/// For tests: a task that has committed nothing.
#[cfg(test)]
pub(crate) struct NoOffsets;

#[cfg(test)]
impl connect_api::OffsetReader for NoOffsets {
    fn offset(
        &self,
        _partition: &connect_api::record::SourcePartition,
    ) -> Option<connect_api::record::SourceOffset> {
        None
    }
}
