//! `Cast`: casts the whole value or chosen fields to another primitive type
//! (`spec=int64` or `spec=id:int64,score:float32`).

use base64::Engine;
use connect_api::config::{key, Config, ConfigKey, ConfigType, DefaultValue, Importance};
use connect_api::text::{java_double_text, java_float_text};
use connect_api::{
    ConfigDef, ConnectError, ConnectRecord, ConnectResult, Schema, SchemaAndValue, Struct, Type,
    Value,
};

use crate::datetime::{DateFormat, DAY_MS};
use crate::util::{self, field_value, java_class, require_map, require_struct, SchemaCache, Side};
use crate::Transformation;

pub const SPEC: &str = "spec";
pub const REPLACE_NULL: &str = "replace.null.with.default";
const PURPOSE: &str = "cast types";

const OUTPUT: &[Type] = &[
    Type::Int8,
    Type::Int16,
    Type::Int32,
    Type::Int64,
    Type::Float32,
    Type::Float64,
    Type::Boolean,
    Type::String,
];

pub fn def() -> ConfigDef {
    ConfigDef::new()
        .define(key(
            SPEC,
            ConfigType::List,
            DefaultValue::Required,
            Importance::High,
            "Either one type to cast the whole value to, or a list of field:type pairs. Types: int8, int16, int32, int64, float32, float64, boolean, string.",
        ))
        .define(replace_null_key())
}

/// `replace.null.with.default`, shared by the transforms that have it.
pub fn replace_null_key() -> ConfigKey {
    key(
        REPLACE_NULL,
        ConfigType::Boolean,
        DefaultValue::Value("true"),
        Importance::Medium,
        "Whether a null field takes the default of its schema (true) or stays null.",
    )
}

fn names(types: &[Type]) -> String {
    let n: Vec<&str> = types.iter().map(|t| t.upper_name()).collect();
    format!("[{}]", n.join(", "))
}

fn parse_type(t: &str) -> Result<Type, String> {
    let upper = t.trim().to_ascii_uppercase();
    let ty = [
        Type::Int8,
        Type::Int16,
        Type::Int32,
        Type::Int64,
        Type::Float32,
        Type::Float64,
        Type::Boolean,
        Type::String,
        Type::Bytes,
        Type::Array,
        Type::Map,
        Type::Struct,
    ]
    .into_iter()
    .find(|ty| ty.upper_name() == upper)
    .ok_or_else(|| format!("Invalid type found in casting spec: {}", t.trim()))?;
    if !OUTPUT.contains(&ty) {
        return Err(format!(
            "Cast transformation does not support casting to {}; supported types are {}",
            ty.upper_name(),
            names(OUTPUT)
        ));
    }
    Ok(ty)
}

pub struct Cast {
    side: Side,
    whole: Option<Type>,
    fields: Vec<(String, Type)>,
    with_default: bool,
    cache: SchemaCache,
}

impl Cast {
    pub fn new(c: &Config, side: Side) -> Result<Self, String> {
        let spec = util::list(c, SPEC);
        if spec.is_empty() {
            return Err(util::invalid(
                SPEC,
                "",
                "Must specify at least one field to cast.",
            ));
        }
        let mut whole = None;
        let mut fields = Vec::new();
        for item in &spec {
            let parts: Vec<&str> = item.split(':').collect();
            match parts.as_slice() {
                [t] => {
                    if spec.len() > 1 {
                        return Err(util::invalid(SPEC, &spec.join(","), "Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec"));
                    }
                    whole =
                        Some(parse_type(t).map_err(|e| util::invalid(SPEC, &spec.join(","), &e))?);
                }
                [f, t] => fields.push((
                    f.trim().to_string(),
                    parse_type(t).map_err(|e| util::invalid(SPEC, &spec.join(","), &e))?,
                )),
                _ => {
                    return Err(util::invalid(
                        SPEC,
                        &spec.join(","),
                        &format!("Invalid cast mapping: {item}"),
                    ))
                }
            }
        }
        Ok(Self {
            side,
            whole,
            fields,
            with_default: util::boolean(c, REPLACE_NULL, true),
            cache: SchemaCache::default(),
        })
    }

    fn target(&self, field: &str) -> Option<Type> {
        self.fields
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, t)| *t)
    }

    fn updated_schema(&self, s: &Schema) -> ConnectResult<Schema> {
        let mut out = match self.whole {
            Some(t) => Schema {
                name: s.name.clone(),
                version: s.version,
                doc: s.doc.clone(),
                parameters: s.parameters.clone(),
                ..Schema::new(t)
            },
            None => {
                let mut b = util::struct_basics(s);
                for f in &s.fields {
                    let fs = match self.target(&f.name) {
                        None => (*f.schema).clone(),
                        Some(t) => {
                            let mut n = Schema::new(t);
                            n.optional = f.schema.optional;
                            if let Some(d) = &f.schema.default {
                                n.default = Some(cast_value(Some(&f.schema), d, t)?);
                            }
                            n
                        }
                    };
                    b = b.field(&f.name, fs);
                }
                b
            }
        };
        out.optional = s.optional;
        if let (Some(t), Some(d)) = (self.whole, &s.default) {
            out.default = Some(cast_value(Some(s), d, t)?);
        }
        Ok(out)
    }
}

impl Transformation for Cast {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let sv = self.side.get_mut(record);
        if sv.value.is_null() {
            return Ok(true);
        }
        match sv.schema.clone() {
            Some(schema) => {
                if self.whole.is_none() {
                    require_struct_or_null(&sv.value)?;
                }
                let mut cache = std::mem::take(&mut self.cache);
                let updated = cache.get_or(&schema, |s| self.updated_schema(s));
                self.cache = cache;
                let updated = updated?;
                let value = match (&sv.value, self.whole) {
                    (Value::Null, _) => Value::Null,
                    (v, Some(t)) => cast_value(Some(&schema), v, t)?,
                    (Value::Struct(st), None) => {
                        let mut values = Vec::with_capacity(st.schema.fields.len());
                        for f in &st.schema.fields {
                            let v = field_value(st, f.index, self.with_default);
                            values.push(match self.target(&f.name) {
                                Some(t) => cast_value(Some(&f.schema), &v, t)?,
                                None => v,
                            });
                        }
                        Value::Struct(Struct::from_values(updated.clone(), values)?)
                    }
                    (other, None) => {
                        return Err(ConnectError::data(format!(
                            "Only Struct objects supported for [{PURPOSE}], found: {}",
                            java_class(other)
                        )))
                    }
                };
                *sv = SchemaAndValue::new(Some(updated), value);
            }
            None => {
                if sv.value.is_null() {
                    return Ok(true);
                }
                if let Some(t) = self.whole {
                    sv.value = cast_value(None, &sv.value, t)?;
                    return Ok(true);
                }
                require_map(&sv.value, PURPOSE)?;
                if let Value::Map(m) = &mut sv.value {
                    // Every listed field is set, null when it was absent (as Kafka's put does).
                    for (name, t) in &self.fields {
                        let cast = match crate::util::map_get(m, name) {
                            Some(v) => cast_value(None, v, *t)?,
                            None => Value::Null,
                        };
                        crate::util::map_put(m, name, cast);
                    }
                }
            }
        }
        Ok(true)
    }
}

fn require_struct_or_null(v: &Value) -> ConnectResult<()> {
    if v.is_null() {
        return Ok(());
    }
    require_struct(v, PURPOSE).map(|_| ())
}

/// A number as f64 and i64 (Java's `Number.doubleValue` / `longValue`).
fn number(v: &Value) -> Option<(f64, i64)> {
    Some(match v {
        Value::Int8(n) => (f64::from(*n), i64::from(*n)),
        Value::Int16(n) => (f64::from(*n), i64::from(*n)),
        Value::Int32(n) | Value::Date(n) | Value::Time(n) => (f64::from(*n), i64::from(*n)),
        Value::Int64(n) | Value::Timestamp(n) => (*n as f64, *n),
        Value::Float32(f) => (f64::from(*f), *f as i64),
        Value::Float64(f) => (*f, *f as i64),
        Value::Decimal(d) => {
            let f: f64 = d.to_plain_string().parse().unwrap_or(f64::NAN);
            let whole = if d.scale <= 0 {
                d.unscaled()
                    .saturating_mul(10i128.saturating_pow(d.scale.unsigned_abs()))
            } else {
                d.unscaled() / 10i128.saturating_pow(d.scale.unsigned_abs())
            };
            (f, whole as i64)
        }
        Value::Boolean(b) => (f64::from(u8::from(*b)), i64::from(*b)),
        _ => return None,
    })
}

fn parse_err(v: &str) -> ConnectError {
    ConnectError::data(format!(
        "Value ({v}) was out of range for requested data type"
    ))
}

/// Java's text of a date value (`Values.dateFormatFor`): the pattern is
/// chosen by the value, a time of day, a whole day, or a full timestamp.
fn date_text(ms: i64) -> ConnectResult<String> {
    let pattern = if (0..DAY_MS).contains(&ms) {
        "HH:mm:ss.SSS'Z'"
    } else if ms % DAY_MS == 0 {
        "yyyy-MM-dd"
    } else {
        "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
    };
    Ok(DateFormat::new(pattern)
        .map_err(ConnectError::data)?
        .format(ms))
}

/// Casts one value (Kafka's `castValueToType`); `schema` is the value's own,
/// when it has one.
pub fn cast_value(schema: Option<&Schema>, v: &Value, target: Type) -> ConnectResult<Value> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let input = match schema {
        Some(s) => s.kind,
        None => v.inferred_type().ok_or_else(|| {
            ConnectError::data(format!(
                "Cast transformation was passed a value of type {} which is not supported by Connect's data API",
                java_class(v)
            ))
        })?,
    };
    if matches!(input, Type::Array | Type::Map | Type::Struct) {
        return Err(ConnectError::data(format!(
            "Cast transformation does not support casting from {}; supported types are {}",
            input.upper_name(),
            names(&[
                Type::Int8,
                Type::Int16,
                Type::Int32,
                Type::Int64,
                Type::Float32,
                Type::Float64,
                Type::Boolean,
                Type::String,
                Type::Bytes
            ])
        )));
    }
    if target == Type::String {
        return Ok(Value::String(match v {
            Value::String(s) => s.clone(),
            Value::Float32(f) => java_float_text(*f),
            Value::Float64(f) => java_double_text(*f),
            Value::Bytes(b) => base64::engine::general_purpose::STANDARD.encode(b),
            Value::Date(d) => date_text(i64::from(*d) * DAY_MS)?,
            Value::Time(t) => date_text(i64::from(*t))?,
            Value::Timestamp(t) => date_text(*t)?,
            other => connect_api::text::value_text(other),
        }));
    }
    if let Value::String(s) = v {
        let t = s.as_str();
        return Ok(match target {
            Type::Int8 => Value::Int8(t.parse().map_err(|_| parse_err(s))?),
            Type::Int16 => Value::Int16(t.parse().map_err(|_| parse_err(s))?),
            Type::Int32 => Value::Int32(t.parse().map_err(|_| parse_err(s))?),
            Type::Int64 => Value::Int64(t.parse().map_err(|_| parse_err(s))?),
            Type::Float32 => Value::Float32(t.parse().map_err(|_| parse_err(s))?),
            Type::Float64 => Value::Float64(t.parse().map_err(|_| parse_err(s))?),
            _ => Value::Boolean(t.eq_ignore_ascii_case("true")),
        });
    }
    let (f, i) = number(v).ok_or_else(|| {
        ConnectError::data(format!(
            "Unexpected type in Cast transformation: class {}",
            java_class(v)
        ))
    })?;
    let is_float = matches!(v, Value::Float32(_) | Value::Float64(_));
    // Java narrows a double through int, a long by dropping high bits.
    let narrow = if is_float { f as i32 as i64 } else { i };
    Ok(match target {
        Type::Int8 => Value::Int8(narrow as i8),
        Type::Int16 => Value::Int16(narrow as i16),
        Type::Int32 => Value::Int32(if is_float { f as i32 } else { i as i32 }),
        Type::Int64 => Value::Int64(i),
        Type::Float32 => Value::Float32(if is_float { f as f32 } else { i as f32 }),
        Type::Float64 => Value::Float64(if is_float || matches!(v, Value::Decimal(_)) {
            f
        } else {
            i as f64
        }),
        _ => Value::Boolean(i != 0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_follow_java_conversions() {
        assert_eq!(
            cast_value(None, &Value::Int64(300), Type::Int8),
            Ok(Value::Int8(44))
        );
        assert_eq!(
            cast_value(None, &Value::Float64(3.9), Type::Int32),
            Ok(Value::Int32(3))
        );
        assert_eq!(
            cast_value(None, &Value::Int32(0), Type::Boolean),
            Ok(Value::Boolean(false))
        );
        assert_eq!(
            cast_value(None, &Value::String("42".into()), Type::Int64),
            Ok(Value::Int64(42))
        );
        assert_eq!(
            cast_value(None, &Value::Float64(1e10), Type::String),
            Ok(Value::String("1.0E10".into()))
        );
        assert_eq!(
            cast_value(None, &Value::Boolean(true), Type::Float32),
            Ok(Value::Float32(1.0))
        );
        assert!(cast_value(None, &Value::String("x".into()), Type::Int32).is_err());
        assert_eq!(
            cast_value(
                Some(&Schema::timestamp()),
                &Value::Timestamp(1_705_322_096_789),
                Type::String
            ),
            Ok(Value::String("2024-01-15T12:34:56.789Z".into()))
        );
        assert_eq!(
            cast_value(
                Some(&Schema::decimal(2)),
                &Value::Decimal(connect_api::Decimal::new(12345, 2)),
                Type::Float64
            ),
            Ok(Value::Float64(123.45))
        );
    }
}
