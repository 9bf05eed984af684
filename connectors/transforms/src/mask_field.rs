//! `MaskField`: replaces chosen fields with their type's empty value (0,
//! false, "", an empty list or map, the epoch) or with `replacement`.

use connect_api::config::{
    key, Config, ConfigKey, ConfigType, DefaultValue, Importance, Validator,
};
use connect_api::{ConfigDef, ConnectError, ConnectRecord, ConnectResult, Decimal, Struct, Value};

use crate::cast::{replace_null_key, REPLACE_NULL};
use crate::util::{self, field_value, java_class, require_map, require_struct, Side};
use crate::Transformation;

pub const FIELDS: &str = "fields";
pub const REPLACEMENT: &str = "replacement";
const PURPOSE: &str = "mask fields";

pub fn def() -> ConfigDef {
    ConfigDef::new()
        .define(ConfigKey {
            validator: Some(Validator::Custom(util::non_empty_list)),
            ..key(FIELDS, ConfigType::List, DefaultValue::Required, Importance::High, "The fields whose values are masked.")
        })
        .define(ConfigKey {
            validator: Some(Validator::Custom(|v| match v {
                connect_api::config::Parsed::Str(s) if s.is_empty() => Err("String must be non-empty".into()),
                _ => Ok(()),
            })),
            ..key(REPLACEMENT, ConfigType::String, DefaultValue::Null, Importance::Low, "Replacement for the masked values (numbers and strings only); by default the type's empty value.")
        })
        .define(replace_null_key())
}

pub struct MaskField {
    side: Side,
    fields: Vec<String>,
    replacement: Option<String>,
    with_default: bool,
}

impl MaskField {
    pub fn new(c: &Config, side: Side) -> Result<Self, String> {
        Ok(Self {
            side,
            fields: util::list(c, FIELDS),
            replacement: util::opt_string(c, REPLACEMENT),
            with_default: util::boolean(c, REPLACE_NULL, true),
        })
    }

    fn mask(&self, v: &Value) -> ConnectResult<Value> {
        if v.is_null() {
            return Ok(Value::Null);
        }
        let Some(r) = &self.replacement else {
            return empty_of(v).ok_or_else(|| {
                ConnectError::data(format!(
                    "Cannot mask value of type: class {}",
                    java_class(v)
                ))
            });
        };
        let bad = || {
            ConnectError::data(format!(
                "Unable to convert {r} (class java.lang.String) to a number"
            ))
        };
        let t = r.trim();
        Ok(match v {
            Value::String(_) => Value::String(r.clone()),
            Value::Int8(_) => Value::Int8(whole(t).ok_or_else(bad)? as i8),
            Value::Int16(_) => Value::Int16(whole(t).ok_or_else(bad)? as i16),
            Value::Int32(_) => Value::Int32(whole(t).ok_or_else(bad)? as i32),
            Value::Int64(_) => Value::Int64(whole(t).ok_or_else(bad)?),
            Value::Float32(_) => Value::Float32(t.parse().map_err(|_| bad())?),
            Value::Float64(_) => Value::Float64(t.parse().map_err(|_| bad())?),
            Value::Decimal(_) => Value::Decimal(Decimal::parse(t).map_err(|_| bad())?),
            other => {
                return Err(ConnectError::data(format!(
                    "Cannot mask value of type class {} with custom replacement.",
                    java_class(other)
                )))
            }
        })
    }
}

/// The integer part of decimal text, as Java's `BigDecimal.longValue`
/// (wrapping beyond 64 bits).
fn whole(t: &str) -> Option<i64> {
    let d = Decimal::parse(t).ok()?;
    let scale = 10i128.checked_pow(d.scale.unsigned_abs())?;
    Some(if d.scale >= 0 {
        d.unscaled() / scale
    } else {
        d.unscaled().wrapping_mul(scale)
    } as i64)
}

/// The "empty" value of a value's type.
fn empty_of(v: &Value) -> Option<Value> {
    Some(match v {
        Value::Boolean(_) => Value::Boolean(false),
        Value::Int8(_) => Value::Int8(0),
        Value::Int16(_) => Value::Int16(0),
        Value::Int32(_) => Value::Int32(0),
        Value::Int64(_) => Value::Int64(0),
        Value::Float32(_) => Value::Float32(0.0),
        Value::Float64(_) => Value::Float64(0.0),
        Value::String(_) => Value::String(String::new()),
        Value::Decimal(d) => Value::Decimal(Decimal::new(0, d.scale)),
        Value::Date(_) => Value::Date(0),
        Value::Time(_) => Value::Time(0),
        Value::Timestamp(_) => Value::Timestamp(0),
        Value::Array(_) => Value::Array(Vec::new()),
        Value::Map(_) => Value::Map(Vec::new()),
        Value::Bytes(_) | Value::Struct(_) | Value::Null => return None,
    })
}

impl Transformation for MaskField {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let sv = self.side.get_mut(record);
        if sv.schema.is_some() {
            let st = require_struct(&sv.value, PURPOSE)?;
            let mut values = Vec::with_capacity(st.schema.fields.len());
            for f in &st.schema.fields {
                let v = field_value(st, f.index, self.with_default);
                values.push(if self.fields.contains(&f.name) {
                    self.mask(&v)?
                } else {
                    v
                });
            }
            let out = Struct::from_values(st.schema.clone(), values)?;
            sv.value = Value::Struct(out);
        } else {
            require_map(&sv.value, PURPOSE)?;
            if let Value::Map(m) = &mut sv.value {
                // Every listed field is set, null when it was absent (as Kafka's put does).
                for name in &self.fields {
                    let masked = match crate::util::map_get(m, name) {
                        Some(v) => self.mask(v)?,
                        None => Value::Null,
                    };
                    crate::util::map_put(m, name, masked);
                }
            }
        }
        Ok(true)
    }
}
