//! `SetSchemaMetadata`: sets the name and/or version of the key or value
//! schema (a struct value is rebuilt on the new schema).

use std::sync::Arc;

use connect_api::config::{key, Config, ConfigType, DefaultValue, Importance};
use connect_api::{ConfigDef, ConnectRecord, ConnectResult, Schema, SchemaAndValue, Struct, Value};

use crate::cast::{replace_null_key, REPLACE_NULL};
use crate::util::{self, field_value, require_schema, SchemaCache, Side};
use crate::Transformation;

pub const NAME: &str = "schema.name";
pub const VERSION: &str = "schema.version";

pub fn def() -> ConfigDef {
    ConfigDef::new()
        .define(key(
            NAME,
            ConfigType::String,
            DefaultValue::Null,
            Importance::High,
            "The new schema name.",
        ))
        .define(key(
            VERSION,
            ConfigType::Int,
            DefaultValue::Null,
            Importance::High,
            "The new schema version.",
        ))
        .define(replace_null_key())
}

pub struct SetSchemaMetadata {
    side: Side,
    name: Option<String>,
    version: Option<i32>,
    with_default: bool,
    cache: SchemaCache,
}

impl SetSchemaMetadata {
    pub fn new(c: &Config, side: Side) -> Result<Self, String> {
        let name = util::opt_string(c, NAME);
        let version = c.int(VERSION).and_then(|v| i32::try_from(v).ok());
        if name.is_none() && version.is_none() {
            return Err("Neither schema name nor version configured".into());
        }
        Ok(Self {
            side,
            name,
            version,
            with_default: util::boolean(c, REPLACE_NULL, true),
            cache: SchemaCache::default(),
        })
    }
}

impl Transformation for SetSchemaMetadata {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let sv = self.side.get_mut(record);
        if sv.schema.is_none() && sv.value.is_null() {
            return Ok(true);
        }
        let schema = require_schema(&sv.schema, "updating schema metadata")?.clone();
        let (name, version) = (self.name.clone(), self.version);
        let updated: Arc<Schema> = self.cache.get_or(&schema, |s| {
            let mut out = s.clone();
            if name.is_some() {
                out.name = name;
            }
            if version.is_some() {
                out.version = version;
            }
            Ok(out)
        })?;
        let value = match std::mem::replace(&mut sv.value, Value::Null) {
            Value::Struct(st) => {
                let values = (0..st.schema.fields.len())
                    .map(|i| field_value(&st, i, self.with_default))
                    .collect();
                Value::Struct(Struct::from_values(updated.clone(), values)?)
            }
            other => other,
        };
        *sv = SchemaAndValue::new(Some(updated), value);
        Ok(true)
    }
}
