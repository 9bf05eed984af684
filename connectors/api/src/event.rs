//! Records seen as Flume sees events: a body of bytes (the value), headers
//! of text, the wall clock and this machine's name. Flume-style sources,
//! sinks and interceptors share these.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::record::{Header, SchemaAndValue};
use crate::schema::Schema;
use crate::text::value_text;
use crate::value::Value;

/// Milliseconds since the epoch, as record timestamps count them.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A value as an event body: text and bytes as they are, nothing for
/// null, anything else in Connect's text form.
pub fn body_bytes(v: &Value) -> Cow<'_, [u8]> {
    match v {
        Value::String(s) => s.as_bytes().into(),
        Value::Bytes(b) => b.as_slice().into(),
        Value::Null => (&[][..]).into(),
        other => value_text(other).into_bytes().into(),
    }
}

/// A header's value as text (Flume's headers are all strings).
pub fn header_text(h: &Header) -> String {
    match &h.value.value {
        Value::String(s) => s.clone(),
        other => value_text(other),
    }
}

/// A header with a string value.
pub fn string_header(key: &str, value: impl Into<String>) -> Header {
    static SCHEMA: OnceLock<Arc<Schema>> = OnceLock::new();
    let schema = SCHEMA.get_or_init(|| Arc::new(Schema::string())).clone();
    Header {
        key: key.to_string(),
        value: SchemaAndValue::new(Some(schema), Value::String(value.into())),
    }
}

/// This machine's name and IPv4 address, as Java's
/// `InetAddress.getLocalHost()` gives them (127.0.0.1 when the name does
/// not resolve).
#[derive(Debug, Clone)]
pub struct Host {
    pub name: String,
    pub ip: String,
}

impl Host {
    pub fn local() -> Self {
        let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .ok()
            .filter(|s| !s.is_empty())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| "localhost".into());
        use std::net::ToSocketAddrs;
        let ip = (name.as_str(), 0)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.find(|a| a.is_ipv4()))
            .map_or_else(|| "127.0.0.1".into(), |a| a.ip().to_string());
        Self { name, ip }
    }
}
