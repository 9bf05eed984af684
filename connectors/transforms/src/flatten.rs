//! `Flatten`: nested structs (with a schema) or maps (without) become one
//! level, field names joined by `delimiter`.

use std::sync::Arc;

use connect_api::config::{key, Config, ConfigType, DefaultValue, Importance};
use connect_api::{
    ConfigDef, ConnectError, ConnectRecord, ConnectResult, Schema, SchemaAndValue, Struct, Type,
    Value,
};

use crate::util::{java_class, key_text, require_map, require_struct, SchemaCache, Side};
use crate::Transformation;

pub const DELIMITER: &str = "delimiter";
const PURPOSE: &str = "flattening";

pub fn def() -> ConfigDef {
    ConfigDef::new().define(key(
        DELIMITER,
        ConfigType::String,
        DefaultValue::Value("."),
        Importance::Medium,
        "Joins the names of nested fields into the flat field name.",
    ))
}

pub struct Flatten {
    side: Side,
    delimiter: String,
    cache: SchemaCache,
}

impl Flatten {
    pub fn new(c: &Config, side: Side) -> Result<Self, String> {
        Ok(Self {
            side,
            delimiter: c.string(DELIMITER).unwrap_or(".").to_string(),
            cache: SchemaCache::default(),
        })
    }

    fn name(&self, prefix: &str, field: &str) -> String {
        if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}{}{field}", self.delimiter)
        }
    }

    /// The flattened fields of `s` added to `out`: a leaf is optional when
    /// it or any struct around it is, and without a default of its own it
    /// takes its value in the nearest enclosing struct's default.
    fn flat_schema(
        &self,
        s: &Schema,
        prefix: &str,
        optional: bool,
        parent_default: Option<&Value>,
        out: Schema,
    ) -> ConnectResult<Schema> {
        let mut out = out;
        for f in &s.fields {
            let name = self.name(prefix, &f.name);
            let fs = &f.schema;
            match fs.kind {
                Type::Struct => {
                    let inherited = parent_default.and_then(|d| match d {
                        Value::Struct(p) => p.get(&f.name),
                        _ => None,
                    });
                    let default = fs.default.as_ref().or(inherited);
                    out = self.flat_schema(fs, &name, optional || fs.optional, default, out)?;
                }
                Type::Map => {
                    return Err(ConnectError::data(format!(
                        "Flatten transformation does not support MAP for record with schemas (for field {name})."
                    )))
                }
                _ => {
                    if out.field_named(&name).is_some() {
                        return Err(ConnectError::data(format!(
                            "Cannot create field because of field name duplication {name}"
                        )));
                    }
                    let mut copy = (**fs).clone();
                    copy.optional = optional || fs.optional;
                    if copy.default.is_none() {
                        copy.default = parent_default
                            .and_then(|d| match d {
                                Value::Struct(p) => p.get(&f.name).cloned(),
                                _ => None,
                            })
                            .filter(|v| !v.is_null());
                    }
                    out = out.field(&name, copy);
                }
            }
        }
        Ok(out)
    }

    fn flat_struct(&self, st: &Struct, prefix: &str, out: &mut Vec<Value>) {
        for f in &st.schema.fields {
            // Read with defaults, as Kafka's Struct.get does.
            let v = crate::util::field_value(st, f.index, true);
            match (f.schema.kind, v) {
                (Type::Struct, Value::Struct(inner)) => {
                    self.flat_struct(&inner, &self.name(prefix, &f.name), out)
                }
                (Type::Struct, _) => {
                    // A null nested struct: every flattened field is null.
                    count_leaves(&f.schema, out);
                }
                (_, v) => out.push(v),
            }
        }
    }

    fn flat_map(
        &self,
        m: &[(Value, Value)],
        prefix: &str,
        out: &mut Vec<(Value, Value)>,
    ) -> ConnectResult<()> {
        for (k, v) in m {
            let name = self.name(prefix, &key_text(k));
            match v {
                Value::Map(inner) => self.flat_map(inner, &name, out)?,
                Value::Null
                | Value::Boolean(_)
                | Value::Int8(_)
                | Value::Int16(_)
                | Value::Int32(_)
                | Value::Int64(_)
                | Value::Float32(_)
                | Value::Float64(_)
                | Value::String(_)
                | Value::Bytes(_)
                | Value::Array(_) => out.push((Value::String(name), v.clone())),
                other => {
                    return Err(ConnectError::data(format!(
                        "Flatten transformation does not support {} for record without schemas (for field {name}).",
                        java_class(other)
                    )))
                }
            }
        }
        Ok(())
    }
}

fn count_leaves(s: &Schema, out: &mut Vec<Value>) {
    for f in &s.fields {
        if f.schema.kind == Type::Struct {
            count_leaves(&f.schema, out);
        } else {
            out.push(Value::Null);
        }
    }
}

impl Transformation for Flatten {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let sv = self.side.get_mut(record);
        if sv.value.is_null() {
            return Ok(true);
        }
        match sv.schema.clone() {
            Some(schema) => {
                require_struct(&sv.value, PURPOSE)?;
                let mut cache = std::mem::take(&mut self.cache);
                let updated = cache.get_or(&schema, |s| {
                    self.flat_schema(
                        s,
                        "",
                        s.optional,
                        s.default.as_ref(),
                        crate::util::struct_basics(s),
                    )
                });
                self.cache = cache;
                let updated: Arc<Schema> = updated?;
                let value = match &sv.value {
                    Value::Null => Value::Null,
                    v => {
                        let st = require_struct(v, PURPOSE)?;
                        let mut values = Vec::with_capacity(updated.fields.len());
                        self.flat_struct(st, "", &mut values);
                        Value::Struct(Struct::from_values(updated.clone(), values)?)
                    }
                };
                *sv = SchemaAndValue::new(Some(updated), value);
            }
            None => {
                if sv.value.is_null() {
                    return Ok(true);
                }
                let m = require_map(&sv.value, PURPOSE)?;
                let mut out = Vec::with_capacity(m.len());
                self.flat_map(m, "", &mut out)?;
                sv.value = Value::Map(out);
            }
        }
        Ok(true)
    }
}
