//! Flume's interceptors as transforms: what a Flume agent file's
//! `interceptors` ask of its events, with Flume's builder class names and
//! keys. An event is a record: its body is the value (text or bytes), its
//! headers are the record's headers as strings.

use connect_api::config::{key, Config, ConfigType, DefaultValue, Importance};
use connect_api::event::{header_text, now_ms, string_header, Host};
use connect_api::{ConfigDef, ConnectError, ConnectRecord, ConnectResult, Value};

use crate::util::{self, java_regex};
use crate::Transformation;

/// Flume's short interceptor types and the builder classes they stand for.
pub const TYPES: &[(&str, &str)] = &[
    (
        "timestamp",
        "org.apache.flume.interceptor.TimestampInterceptor$Builder",
    ),
    (
        "host",
        "org.apache.flume.interceptor.HostInterceptor$Builder",
    ),
    (
        "static",
        "org.apache.flume.interceptor.StaticInterceptor$Builder",
    ),
    (
        "remove_header",
        "org.apache.flume.interceptor.RemoveHeaderInterceptor$Builder",
    ),
    (
        "uuid",
        "org.apache.flume.sink.solr.morphline.UUIDInterceptor$Builder",
    ),
    (
        "search_replace",
        "org.apache.flume.interceptor.SearchAndReplaceInterceptor$Builder",
    ),
    (
        "regex_filter",
        "org.apache.flume.interceptor.RegexFilteringInterceptor$Builder",
    ),
    (
        "regex_extractor",
        "org.apache.flume.interceptor.RegexExtractorInterceptor$Builder",
    ),
];

/// The builder class for a Flume interceptor `type` (short or full name).
pub fn class_of(kind: &str) -> Option<&'static str> {
    let kind = kind.trim();
    TYPES
        .iter()
        .find(|(short, class)| short.eq_ignore_ascii_case(kind) || *class == kind)
        .map(|(_, class)| *class)
}

const PRESERVE: &str = "preserveExisting";

fn opt(
    name: &'static str,
    kind: ConfigType,
    default: DefaultValue,
    doc: &'static str,
) -> connect_api::config::ConfigKey {
    key(name, kind, default, Importance::Medium, doc)
}

pub fn timestamp_def() -> ConfigDef {
    ConfigDef::new()
        .define(opt(
            PRESERVE,
            ConfigType::Boolean,
            DefaultValue::Value("false"),
            "Keep a timestamp header the event already has.",
        ))
        .define(opt(
            "headerName",
            ConfigType::String,
            DefaultValue::Value("timestamp"),
            "The header that receives the time, in milliseconds since the epoch.",
        ))
}

pub fn host_def() -> ConfigDef {
    ConfigDef::new()
        .define(opt(
            PRESERVE,
            ConfigType::Boolean,
            DefaultValue::Value("false"),
            "Keep a host header the event already has.",
        ))
        .define(opt(
            "useIP",
            ConfigType::Boolean,
            DefaultValue::Value("true"),
            "Use the IP address rather than the host name.",
        ))
        .define(opt(
            "hostHeader",
            ConfigType::String,
            DefaultValue::Value("host"),
            "The header that receives the host.",
        ))
}

pub fn static_def() -> ConfigDef {
    ConfigDef::new()
        .define(opt(
            PRESERVE,
            ConfigType::Boolean,
            DefaultValue::Value("true"),
            "Keep the header when the event already has it.",
        ))
        .define(opt(
            "key",
            ConfigType::String,
            DefaultValue::Value("key"),
            "The header's name.",
        ))
        .define(opt(
            "value",
            ConfigType::String,
            DefaultValue::Value("value"),
            "The header's value.",
        ))
}

pub fn remove_def() -> ConfigDef {
    ConfigDef::new()
        .define(opt(
            "withName",
            ConfigType::String,
            DefaultValue::Null,
            "A header to remove.",
        ))
        .define(opt(
            "fromList",
            ConfigType::String,
            DefaultValue::Null,
            "Headers to remove, separated by fromListSeparator.",
        ))
        .define(opt(
            "fromListSeparator",
            ConfigType::String,
            DefaultValue::Value("\\s*,\\s*"),
            "The regular expression that separates fromList.",
        ))
        .define(opt(
            "matching",
            ConfigType::String,
            DefaultValue::Null,
            "Headers whose whole name matches this regular expression are removed.",
        ))
}

pub fn uuid_def() -> ConfigDef {
    ConfigDef::new()
        .define(opt(
            PRESERVE,
            ConfigType::Boolean,
            DefaultValue::Value("true"),
            "Keep an id the event already has.",
        ))
        .define(opt(
            "headerName",
            ConfigType::String,
            DefaultValue::Value("id"),
            "The header that receives the id.",
        ))
        .define(opt(
            "prefix",
            ConfigType::String,
            DefaultValue::Value(""),
            "Text put before each id.",
        ))
}

pub fn search_replace_def() -> ConfigDef {
    ConfigDef::new()
        .define(opt(
            "searchPattern",
            ConfigType::String,
            DefaultValue::Required,
            "The regular expression searched for in the body.",
        ))
        .define(opt(
            "replaceString",
            ConfigType::String,
            DefaultValue::Value(""),
            "What each match is replaced with ($1 for groups).",
        ))
        .define(opt(
            "charset",
            ConfigType::String,
            DefaultValue::Value("UTF-8"),
            "The body's character set (UTF-8 only).",
        ))
}

pub fn regex_filter_def() -> ConfigDef {
    ConfigDef::new()
        .define(opt(
            "regex",
            ConfigType::String,
            DefaultValue::Value(".*"),
            "The regular expression the body is searched for.",
        ))
        .define(opt(
            "excludeEvents",
            ConfigType::Boolean,
            DefaultValue::Value("false"),
            "Drop matching events instead of keeping only them.",
        ))
}

pub fn regex_extractor_def() -> ConfigDef {
    ConfigDef::new()
        .define(opt("regex", ConfigType::String, DefaultValue::Required, "The regular expression whose groups become headers."))
        .define(opt("serializers", ConfigType::String, DefaultValue::Required, "Space-separated serializer names, one per group; serializers.<name>.name is the header."))
}

fn has(record: &dyn ConnectRecord, name: &str) -> bool {
    record.headers().iter().any(|h| h.key == name)
}

/// Sets a string header, replacing any of the same name.
fn set(record: &mut dyn ConnectRecord, name: &str, value: String) {
    let headers = record.headers_mut();
    headers.retain(|h| h.key != name);
    headers.push(string_header(name, value));
}

fn string(c: &Config, name: &str) -> String {
    c.string(name).unwrap_or_default().to_string()
}

/// Sets one header to a value, unless it is there and kept.
pub struct SetHeader {
    header: String,
    preserve: bool,
    value: fn(&SetHeader) -> String,
    fixed: String,
}

impl SetHeader {
    pub fn timestamp(c: &Config) -> Result<Self, String> {
        Ok(Self {
            header: string(c, "headerName"),
            preserve: util::boolean(c, PRESERVE, false),
            value: |_| now_ms().to_string(),
            fixed: String::new(),
        })
    }

    pub fn host(c: &Config) -> Result<Self, String> {
        Ok(Self {
            header: string(c, "hostHeader"),
            preserve: util::boolean(c, PRESERVE, false),
            value: |s| s.fixed.clone(),
            fixed: {
                let host = Host::local();
                if util::boolean(c, "useIP", true) {
                    host.ip
                } else {
                    host.name
                }
            },
        })
    }

    pub fn fixed(c: &Config) -> Result<Self, String> {
        Ok(Self {
            header: string(c, "key"),
            preserve: util::boolean(c, PRESERVE, true),
            value: |s| s.fixed.clone(),
            fixed: string(c, "value"),
        })
    }

    pub fn uuid(c: &Config) -> Result<Self, String> {
        Ok(Self {
            header: string(c, "headerName"),
            preserve: util::boolean(c, PRESERVE, true),
            value: |s| format!("{}{}", s.fixed, uuid::Uuid::new_v4()),
            fixed: string(c, "prefix"),
        })
    }
}

impl Transformation for SetHeader {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        if !(self.preserve && has(record, &self.header)) {
            let v = (self.value)(self);
            set(record, &self.header, v);
        }
        Ok(true)
    }

    fn reads_value(&self) -> bool {
        false
    }
}

pub struct RemoveHeader {
    names: Vec<String>,
    matching: Option<regex::Regex>,
}

impl RemoveHeader {
    pub fn new(c: &Config) -> Result<Self, String> {
        let mut names: Vec<String> = util::opt_string(c, "withName").into_iter().collect();
        if let Some(list) = util::opt_string(c, "fromList") {
            let sep = string(c, "fromListSeparator");
            let sep = java_regex(&sep, false)
                .map_err(|e| util::invalid("fromListSeparator", &sep, &e))?;
            names.extend(
                sep.split(&list)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            );
        }
        let matching = match util::opt_string(c, "matching") {
            Some(p) => Some(java_regex(&p, true).map_err(|e| util::invalid("matching", &p, &e))?),
            None => None,
        };
        Ok(Self { names, matching })
    }
}

impl Transformation for RemoveHeader {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let (names, matching) = (&self.names, &self.matching);
        record.headers_mut().retain(|h| {
            !names.contains(&h.key) && !matching.as_ref().is_some_and(|m| m.is_match(&h.key))
        });
        Ok(true)
    }

    fn reads_value(&self) -> bool {
        false
    }
}

/// The body as text: a string value, or bytes read as UTF-8.
fn body(record: &dyn ConnectRecord) -> ConnectResult<std::borrow::Cow<'_, str>> {
    match &record.value().value {
        Value::String(s) => Ok(s.as_str().into()),
        Value::Bytes(b) => Ok(String::from_utf8_lossy(b)),
        Value::Null => Ok("".into()),
        other => Err(ConnectError::data(format!(
            "Flume interceptors read an event body as text or bytes, not {}",
            util::java_class(other)
        ))),
    }
}

pub struct SearchReplace {
    pattern: regex::Regex,
    replacement: String,
}

impl SearchReplace {
    pub fn new(c: &Config) -> Result<Self, String> {
        let p = string(c, "searchPattern");
        let pattern = java_regex(&p, false).map_err(|e| util::invalid("searchPattern", &p, &e))?;
        let r = string(c, "replaceString");
        let replacement = util::java_replacement(&r, pattern.captures_len() - 1)
            .map_err(|e| util::invalid("replaceString", &r, &e))?;
        let charset = string(c, "charset");
        if !charset.eq_ignore_ascii_case("UTF-8") && !charset.eq_ignore_ascii_case("UTF8") {
            return Err(util::invalid(
                "charset",
                &charset,
                "only UTF-8 bodies are supported",
            ));
        }
        Ok(Self {
            pattern,
            replacement,
        })
    }
}

impl Transformation for SearchReplace {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let out = self
            .pattern
            .replace_all(&body(record)?, self.replacement.as_str())
            .into_owned();
        let value = &mut record.value_mut().value;
        *value = match value {
            Value::Bytes(_) => Value::Bytes(out.into_bytes()),
            _ => Value::String(out),
        };
        Ok(true)
    }
}

pub struct RegexFilter {
    regex: regex::Regex,
    exclude: bool,
}

impl RegexFilter {
    pub fn new(c: &Config) -> Result<Self, String> {
        let p = string(c, "regex");
        Ok(Self {
            regex: java_regex(&p, false).map_err(|e| util::invalid("regex", &p, &e))?,
            exclude: util::boolean(c, "excludeEvents", false),
        })
    }
}

impl Transformation for RegexFilter {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let found = self.regex.is_match(&body(record)?);
        Ok(found != self.exclude)
    }
}

/// Groups of the first match become headers, one serializer per group.
pub struct RegexExtractor {
    regex: regex::Regex,
    headers: Vec<String>,
}

impl RegexExtractor {
    /// `all` is the interceptor's whole config: the serializers' own keys
    /// (`serializers.<name>.name`) are not in its definition.
    pub fn new(c: &Config) -> Result<Self, String> {
        let p = string(c, "regex");
        let regex = java_regex(&p, false).map_err(|e| util::invalid("regex", &p, &e))?;
        let names = string(c, "serializers");
        let mut headers = Vec::new();
        for s in names.split_whitespace() {
            let key = format!("serializers.{s}.name");
            let name = c
                .original(&key)
                .filter(|n| !n.trim().is_empty())
                .ok_or_else(|| {
                    format!("Missing required configuration \"{key}\" which has no default value.")
                })?;
            if let Some(t) = c.original(&format!("serializers.{s}.type")) {
                if !t.trim().is_empty()
                    && !t.contains("RegexExtractorInterceptorPassThroughSerializer")
                {
                    return Err(util::invalid(
                        &format!("serializers.{s}.type"),
                        t,
                        "only the pass-through serializer is supported",
                    ));
                }
            }
            headers.push(name.trim().to_string());
        }
        if headers.len() > regex.captures_len() - 1 {
            return Err(util::invalid(
                "serializers",
                &names,
                "there are more serializers than groups in regex",
            ));
        }
        Ok(Self { regex, headers })
    }
}

impl Transformation for RegexExtractor {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let found: Vec<(String, String)> = match self.regex.captures(&body(record)?) {
            Some(caps) => self
                .headers
                .iter()
                .enumerate()
                .filter_map(|(i, h)| caps.get(i + 1).map(|m| (h.clone(), m.as_str().to_string())))
                .collect(),
            None => return Ok(true),
        };
        for (h, v) in found {
            set(record, &h, v);
        }
        Ok(true)
    }
}

/// The class of the filter that keeps the events a multiplexing selector
/// sends to one channel.
pub const SELECTOR: &str = "org.apache.flume.channel.MultiplexingChannelSelector";

pub fn selector_def() -> ConfigDef {
    ConfigDef::new()
        .define(opt(
            "channel",
            ConfigType::String,
            DefaultValue::Required,
            "The channel whose events are kept.",
        ))
        .define(opt(
            "header",
            ConfigType::String,
            DefaultValue::Value("flume.selector.header"),
            "The header whose value chooses the channels.",
        ))
        .define(opt(
            "default",
            ConfigType::String,
            DefaultValue::Value(""),
            "Channels for values with no mapping.",
        ))
}

/// Keeps an event when `mapping.<value>` or `optional.<value>` of its
/// header names the channel, or, when no `mapping` matches, `default` does.
pub struct ChannelSelector {
    header: String,
    /// Header values that select the channel.
    values: Vec<String>,
    in_default: bool,
    /// Every value with a required mapping.
    all_mapped: Vec<String>,
}

impl ChannelSelector {
    pub fn new(c: &Config) -> Result<Self, String> {
        let channel = string(c, "channel");
        let names = |v: &str| v.split_whitespace().any(|n| n == channel);
        let mut values = Vec::new();
        let mut all_mapped = Vec::new();
        for (k, v) in c.originals() {
            if let Some(value) = k.strip_prefix("mapping.") {
                all_mapped.push(value.to_string());
                if names(v) {
                    values.push(value.to_string());
                }
            } else if let Some(value) = k.strip_prefix("optional.") {
                if names(v) {
                    values.push(value.to_string());
                }
            }
        }
        Ok(Self {
            header: string(c, "header"),
            values,
            in_default: names(&string(c, "default")),
            all_mapped,
        })
    }
}

impl Transformation for ChannelSelector {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let value = record
            .headers()
            .iter()
            .rev()
            .find(|h| h.key == self.header)
            .map(header_text);
        Ok(match value {
            // A required mapping replaces the default.
            Some(v) if self.all_mapped.contains(&v) => self.values.contains(&v),
            Some(v) => self.in_default || self.values.contains(&v),
            None => self.in_default,
        })
    }

    fn reads_value(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use connect_api::{Props, SchemaAndValue, SourceRecord};

    use crate::Chain;

    use super::*;

    fn chain(settings: &[(&str, &str)]) -> Chain {
        let props: Props = settings
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Chain::from_props(&props).expect("chain")
    }

    fn event(body: &str, headers: &[(&str, &str)]) -> SourceRecord {
        let mut r = SourceRecord::new(
            serde_json::Map::new(),
            None,
            "t",
            SchemaAndValue::new(None, Value::String(body.into())),
        );
        for (k, v) in headers {
            set(&mut r, k, v.to_string());
        }
        r
    }

    fn header(r: &SourceRecord, name: &str) -> Option<String> {
        r.headers
            .iter()
            .find(|h| h.key == name)
            .map(|h| match &h.value.value {
                Value::String(s) => s.clone(),
                _ => String::new(),
            })
    }

    #[test]
    fn interceptors_set_and_remove_headers() {
        let mut c = chain(&[
            ("transforms", "ts,st,rm,id"),
            (
                "transforms.ts.type",
                "org.apache.flume.interceptor.TimestampInterceptor$Builder",
            ),
            (
                "transforms.st.type",
                "org.apache.flume.interceptor.StaticInterceptor$Builder",
            ),
            ("transforms.st.key", "dc"),
            ("transforms.st.value", "seoul"),
            (
                "transforms.rm.type",
                "org.apache.flume.interceptor.RemoveHeaderInterceptor$Builder",
            ),
            ("transforms.rm.fromList", "a, b"),
            ("transforms.rm.matching", "tmp.*"),
            (
                "transforms.id.type",
                "org.apache.flume.sink.solr.morphline.UUIDInterceptor$Builder",
            ),
            ("transforms.id.prefix", "ev-"),
        ]);
        let mut r = event(
            "x",
            &[
                ("a", "1"),
                ("b", "2"),
                ("tmp1", "3"),
                ("keep", "4"),
                ("dc", "busan"),
            ],
        );
        assert!(c.apply(&mut r).expect("apply"));
        let ts: i64 = header(&r, "timestamp")
            .expect("timestamp")
            .parse()
            .expect("millis");
        assert!(ts > 1_600_000_000_000);
        assert_eq!(
            header(&r, "dc").as_deref(),
            Some("busan"),
            "static keeps an existing header by default"
        );
        assert!(
            header(&r, "a").is_none() && header(&r, "b").is_none() && header(&r, "tmp1").is_none()
        );
        assert_eq!(header(&r, "keep").as_deref(), Some("4"));
        assert!(header(&r, "id").expect("id").starts_with("ev-"));
    }

    #[test]
    fn body_interceptors() {
        let mut c = chain(&[
            ("transforms", "f,sr,ex"),
            (
                "transforms.f.type",
                "org.apache.flume.interceptor.RegexFilteringInterceptor$Builder",
            ),
            ("transforms.f.regex", "^DEBUG"),
            ("transforms.f.excludeEvents", "true"),
            (
                "transforms.sr.type",
                "org.apache.flume.interceptor.SearchAndReplaceInterceptor$Builder",
            ),
            ("transforms.sr.searchPattern", "user=(\\w+)"),
            ("transforms.sr.replaceString", "user=<$1>"),
            (
                "transforms.ex.type",
                "org.apache.flume.interceptor.RegexExtractorInterceptor$Builder",
            ),
            ("transforms.ex.regex", "(\\d+):(\\d+)"),
            ("transforms.ex.serializers", "s1 s2"),
            ("transforms.ex.serializers.s1.name", "hour"),
            ("transforms.ex.serializers.s2.name", "minute"),
        ]);
        let mut dropped = event("DEBUG noise", &[]);
        assert!(!c.apply(&mut dropped).expect("apply"));
        let mut r = event("INFO 12:30 user=kim", &[]);
        assert!(c.apply(&mut r).expect("apply"));
        assert_eq!(r.value.value, Value::String("INFO 12:30 user=<kim>".into()));
        assert_eq!(header(&r, "hour").as_deref(), Some("12"));
        assert_eq!(header(&r, "minute").as_deref(), Some("30"));
        let bad = [
            ("transforms", "ex"),
            (
                "transforms.ex.type",
                "org.apache.flume.interceptor.RegexExtractorInterceptor$Builder",
            ),
            ("transforms.ex.regex", "(a)"),
            ("transforms.ex.serializers", "s1"),
        ];
        let props: Props = bad
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let e = Chain::from_props(&props)
            .err()
            .map(|e| format!("{e:?}"))
            .unwrap_or_default();
        assert!(e.contains("serializers.s1.name"), "{e}");
    }

    #[test]
    fn multiplexing_selector() {
        let sel = |channel: &str| {
            chain(&[
                ("transforms", "s"),
                ("transforms.s.type", SELECTOR),
                ("transforms.s.channel", channel),
                ("transforms.s.header", "state"),
                ("transforms.s.mapping.CZ", "c1"),
                ("transforms.s.mapping.US", "c1 c2"),
                ("transforms.s.optional.CZ", "c3"),
                ("transforms.s.default", "c3"),
            ])
        };
        let keeps = |channel: &str, state: Option<&str>| {
            let mut r = event("x", &state.map(|s| vec![("state", s)]).unwrap_or_default());
            sel(channel).apply(&mut r).expect("apply")
        };
        assert!(keeps("c1", Some("CZ")) && !keeps("c2", Some("CZ")) && keeps("c3", Some("CZ")));
        assert!(keeps("c1", Some("US")) && keeps("c2", Some("US")) && !keeps("c3", Some("US")));
        assert!(!keeps("c1", Some("FR")) && keeps("c3", Some("FR")) && keeps("c3", None));
    }
}
