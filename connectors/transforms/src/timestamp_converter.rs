//! `TimestampConverter`: converts a timestamp (the whole value or one field)
//! between text in a `SimpleDateFormat` pattern, a Unix number, and
//! Connect's Date, Time and Timestamp types, in UTC.

use std::sync::Arc;

use connect_api::config::{
    key, Config, ConfigKey, ConfigType, DefaultValue, Importance, Validator,
};
use connect_api::schema::logical;
use connect_api::{
    ConfigDef, ConnectError, ConnectRecord, ConnectResult, Schema, SchemaAndValue, Struct, Type,
    Value,
};

use crate::cast::{replace_null_key, REPLACE_NULL};
use crate::datetime::{DateFormat, DAY_MS};
use crate::util::{
    self, field_value, java_class, map_put, require_map, require_struct, SchemaCache, Side,
};
use crate::Transformation;

pub const FIELD: &str = "field";
pub const TARGET: &str = "target.type";
pub const FORMAT: &str = "format";
pub const PRECISION: &str = "unix.precision";
const PURPOSE: &str = "converting timestamp formats";

pub fn def() -> ConfigDef {
    ConfigDef::new()
        .define(key(
            FIELD,
            ConfigType::String,
            DefaultValue::Value(""),
            Importance::High,
            "The field holding the timestamp, or empty for the whole value.",
        ))
        .define(ConfigKey {
            validator: Some(Validator::OneOf(&[
                "string",
                "unix",
                "Date",
                "Time",
                "Timestamp",
            ])),
            ..key(
                TARGET,
                ConfigType::String,
                DefaultValue::Required,
                Importance::High,
                "The type to convert to: string, unix, Date, Time or Timestamp.",
            )
        })
        .define(key(
            FORMAT,
            ConfigType::String,
            DefaultValue::Value(""),
            Importance::Medium,
            "A java.text.SimpleDateFormat pattern, for string input or output.",
        ))
        .define(ConfigKey {
            validator: Some(Validator::OneOf(&[
                "nanoseconds",
                "microseconds",
                "milliseconds",
                "seconds",
            ])),
            ..key(
                PRECISION,
                ConfigType::String,
                DefaultValue::Value("milliseconds"),
                Importance::Low,
                "The unit of Unix timestamps read and written.",
            )
        })
        .define(replace_null_key())
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Unix,
    Date,
    Time,
    Timestamp,
}

pub struct TimestampConverter {
    side: Side,
    field: Option<String>,
    target: Kind,
    format: Option<DateFormat>,
    /// Milliseconds per unit (negative: units per millisecond).
    precision: &'static str,
    with_default: bool,
    cache: SchemaCache,
}

impl TimestampConverter {
    pub fn new(c: &Config, side: Side) -> Result<Self, String> {
        let target = match c.string(TARGET).unwrap_or_default() {
            "string" => Kind::Text,
            "unix" => Kind::Unix,
            "Date" => Kind::Date,
            "Time" => Kind::Time,
            _ => Kind::Timestamp,
        };
        let pattern = c.string(FORMAT).unwrap_or_default();
        let format = if pattern.is_empty() {
            None
        } else {
            Some(DateFormat::new(pattern).map_err(|_| {
                format!("TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: {pattern}")
            })?)
        };
        if target == Kind::Text && format.is_none() {
            return Err("TimestampConverter requires format option to be specified when using string timestamps".into());
        }
        Ok(Self {
            side,
            field: util::opt_string(c, FIELD),
            target,
            format,
            precision: match c.string(PRECISION).unwrap_or("milliseconds") {
                "seconds" => "seconds",
                "microseconds" => "microseconds",
                "nanoseconds" => "nanoseconds",
                _ => "milliseconds",
            },
            with_default: util::boolean(c, REPLACE_NULL, true),
            cache: SchemaCache::default(),
        })
    }

    fn target_schema(&self, optional: bool) -> Schema {
        let s = match self.target {
            Kind::Text => Schema::string(),
            Kind::Unix => Schema::int64(),
            Kind::Date => Schema::date(),
            Kind::Time => Schema::time(),
            Kind::Timestamp => Schema::timestamp(),
        };
        if optional {
            s.optional()
        } else {
            s
        }
    }

    /// Milliseconds since the epoch of a value of the given (or inferred) kind.
    fn to_millis(&self, v: &Value, schema: Option<&Schema>) -> ConnectResult<i64> {
        let kind = match schema {
            Some(s) => match (s.name.as_deref(), s.kind) {
                (Some(logical::TIMESTAMP), _) => Kind::Timestamp,
                (Some(logical::DATE), _) => Kind::Date,
                (Some(logical::TIME), _) => Kind::Time,
                (_, Type::Int64) => Kind::Unix,
                (_, Type::String) => Kind::Text,
                _ => {
                    return Err(ConnectError::data(format!(
                        "Schema {} does not correspond to a known timestamp type format",
                        s.describe()
                    )))
                }
            },
            None => match v {
                Value::Timestamp(_) | Value::Date(_) | Value::Time(_) => Kind::Timestamp,
                Value::Int64(_) | Value::Int32(_) => Kind::Unix,
                Value::String(_) => Kind::Text,
                other => {
                    return Err(ConnectError::data(format!(
                        "TimestampConverter does not support {} objects as timestamps",
                        java_class(other)
                    )))
                }
            },
        };
        Ok(match (kind, v) {
            (_, Value::Timestamp(t)) => *t,
            (_, Value::Date(d)) => i64::from(*d) * DAY_MS,
            (_, Value::Time(t)) => i64::from(*t),
            (Kind::Unix, Value::Int64(n)) => self.unix_to_millis(*n),
            (Kind::Unix, Value::Int32(n)) => self.unix_to_millis(i64::from(*n)),
            (Kind::Text, Value::String(s)) => {
                let f = self.format.as_ref().ok_or_else(|| {
                    ConnectError::data("TimestampConverter requires format option to be specified when using string timestamps")
                })?;
                f.parse(s).map_err(|e| {
                    ConnectError::data(format!(
                        "Could not parse timestamp: value ({s}) does not match pattern ({}): {e}",
                        f.pattern()
                    ))
                })?
            }
            (Kind::Timestamp | Kind::Date | Kind::Time, Value::Int64(n)) => *n,
            (Kind::Date | Kind::Time, Value::Int32(n)) if kind == Kind::Date => {
                i64::from(*n) * DAY_MS
            }
            (_, Value::Int32(n)) => i64::from(*n),
            (_, other) => {
                return Err(ConnectError::data(format!(
                    "Expected a timestamp value, found {}",
                    java_class(other)
                )))
            }
        })
    }

    fn unix_to_millis(&self, n: i64) -> i64 {
        match self.precision {
            "seconds" => n.saturating_mul(1000),
            "microseconds" => n / 1000,
            "nanoseconds" => n / 1_000_000,
            _ => n,
        }
    }

    fn millis_to_target(&self, ms: i64) -> Value {
        match self.target {
            Kind::Text => Value::String(
                self.format
                    .as_ref()
                    .map(|f| f.format(ms))
                    .unwrap_or_default(),
            ),
            Kind::Unix => Value::Int64(match self.precision {
                "seconds" => ms / 1000,
                "microseconds" => ms.saturating_mul(1000),
                "nanoseconds" => ms.saturating_mul(1_000_000),
                _ => ms,
            }),
            Kind::Date => Value::Date(ms.div_euclid(DAY_MS) as i32),
            Kind::Time => Value::Time(ms.rem_euclid(DAY_MS) as i32),
            Kind::Timestamp => Value::Timestamp(ms),
        }
    }

    fn convert(&self, v: &Value, schema: Option<&Schema>) -> ConnectResult<Value> {
        if v.is_null() {
            return Ok(Value::Null);
        }
        Ok(self.millis_to_target(self.to_millis(v, schema)?))
    }
}

impl Transformation for TimestampConverter {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let side = self.side;
        let sv = side.get(record);
        let out = match (&self.field, &sv.schema) {
            (None, Some(schema)) => {
                let s = Arc::new(self.target_schema(schema.optional));
                SchemaAndValue::new(Some(s), self.convert(&sv.value, Some(schema))?)
            }
            (None, None) => SchemaAndValue::new(None, self.convert(&sv.value, None)?),
            (Some(field), Some(schema)) => {
                let st = match &sv.value {
                    Value::Null => None,
                    v => Some(require_struct(v, PURPOSE)?),
                };
                let mut cache = std::mem::take(&mut self.cache);
                let me = &*self;
                let derive = |s: &Schema| {
                    let mut b = util::struct_basics(s);
                    b.optional = s.optional;
                    for f in &s.fields {
                        b = if &f.name == field {
                            b.field(&f.name, me.target_schema(f.schema.optional))
                        } else {
                            b.field(&f.name, (*f.schema).clone())
                        };
                    }
                    Ok(b)
                };
                let updated = cache.get_or(schema, derive);
                self.cache = cache;
                let updated = updated?;
                let Some(st) = st else {
                    *side.get_mut(record) = SchemaAndValue::new(Some(updated), Value::Null);
                    return Ok(true);
                };
                let mut values = Vec::with_capacity(st.schema.fields.len());
                for f in &st.schema.fields {
                    let v = field_value(st, f.index, self.with_default);
                    values.push(if &f.name == field {
                        self.convert(&v, Some(&f.schema))?
                    } else {
                        v
                    });
                }
                SchemaAndValue::new(
                    Some(updated.clone()),
                    Value::Struct(Struct::from_values(updated, values)?),
                )
            }
            (Some(field), None) => {
                if sv.value.is_null() {
                    return Ok(true);
                }
                let m = require_map(&sv.value, PURPOSE)?;
                let mut out = m.to_vec();
                let current = util::map_get(m, field).cloned().unwrap_or(Value::Null);
                map_put(&mut out, field, self.convert(&current, None)?);
                SchemaAndValue::new(None, Value::Map(out))
            }
        };
        *side.get_mut(record) = out;
        Ok(true)
    }
}
