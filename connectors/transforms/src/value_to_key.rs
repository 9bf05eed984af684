//! `ValueToKey`: the key becomes a struct (or map) of chosen value fields.

use std::sync::Arc;

use connect_api::config::{
    key, Config, ConfigKey, ConfigType, DefaultValue, Importance, Validator,
};
use connect_api::{
    ConfigDef, ConnectError, ConnectRecord, ConnectResult, Schema, SchemaAndValue, Struct, Value,
};

use crate::cast::{replace_null_key, REPLACE_NULL};
use crate::util::{self, field_value, map_get, require_map, require_struct, SchemaCache};
use crate::Transformation;

pub const FIELDS: &str = "fields";
const PURPOSE: &str = "copying fields from value to key";

pub fn def() -> ConfigDef {
    ConfigDef::new()
        .define(ConfigKey {
            validator: Some(Validator::Custom(util::non_empty_list)),
            ..key(
                FIELDS,
                ConfigType::List,
                DefaultValue::Required,
                Importance::High,
                "The value fields that make up the new key, in order.",
            )
        })
        .define(replace_null_key())
}

pub struct ValueToKey {
    fields: Vec<String>,
    with_default: bool,
    cache: SchemaCache,
}

impl ValueToKey {
    pub fn new(c: &Config) -> Result<Self, String> {
        Ok(Self {
            fields: util::list(c, FIELDS),
            with_default: util::boolean(c, REPLACE_NULL, true),
            cache: SchemaCache::default(),
        })
    }
}

fn missing(f: &str) -> ConnectError {
    ConnectError::data(format!("Field does not exist: {f}"))
}

impl Transformation for ValueToKey {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let value = record.value();
        let key = match &value.schema {
            Some(schema) => {
                let st = require_struct(&value.value, PURPOSE)?;
                let fields = self.fields.clone();
                let key_schema: Arc<Schema> = self.cache.get_or(schema, |s| {
                    let mut b = Schema::structure();
                    for f in &fields {
                        let field = s.field_named(f).ok_or_else(|| missing(f))?;
                        b = b.field(f, (*field.schema).clone());
                    }
                    Ok(b)
                })?;
                let mut values = Vec::with_capacity(self.fields.len());
                for f in &self.fields {
                    let field = st.schema.field_named(f).ok_or_else(|| missing(f))?;
                    values.push(field_value(st, field.index, self.with_default));
                }
                SchemaAndValue::new(
                    Some(key_schema.clone()),
                    Value::Struct(Struct::from_values(key_schema, values)?),
                )
            }
            None => {
                let m = require_map(&value.value, PURPOSE)?;
                let mut out = Vec::with_capacity(self.fields.len());
                for f in &self.fields {
                    let v = map_get(m, f).cloned().unwrap_or(Value::Null);
                    out.push((Value::String(f.clone()), v));
                }
                SchemaAndValue::new(None, Value::Map(out))
            }
        };
        *record.key_mut() = key;
        Ok(true)
    }
}
