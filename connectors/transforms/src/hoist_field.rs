//! `HoistField`: wraps the key or value in a struct (with a schema) or a map
//! (without) under one field.

use std::sync::Arc;

use connect_api::config::{key, Config, ConfigType, DefaultValue, Importance};
use connect_api::{ConfigDef, ConnectRecord, ConnectResult, Schema, SchemaAndValue, Struct, Value};

use crate::util::{SchemaCache, Side};
use crate::Transformation;

pub const FIELD: &str = "field";

pub fn def() -> ConfigDef {
    ConfigDef::new().define(key(
        FIELD,
        ConfigType::String,
        DefaultValue::Required,
        Importance::Medium,
        "The name of the one field that wraps the key or value.",
    ))
}

pub struct HoistField {
    side: Side,
    field: String,
    cache: SchemaCache,
}

impl HoistField {
    pub fn new(c: &Config, side: Side) -> Result<Self, String> {
        Ok(Self {
            side,
            field: c.string(FIELD).unwrap_or_default().to_string(),
            cache: SchemaCache::default(),
        })
    }
}

impl Transformation for HoistField {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let sv = self.side.get_mut(record);
        let value = std::mem::replace(&mut sv.value, Value::Null);
        *sv = match sv.schema.take() {
            Some(schema) => {
                if value.is_null() && !schema.optional && schema.default.is_none() {
                    return Err(connect_api::ConnectError::data(format!(
                        "Invalid value: null used for required field: \"{}\", schema type: {}",
                        self.field,
                        schema.kind.upper_name()
                    )));
                }
                let field = self.field.clone();
                let updated: Arc<Schema> = self.cache.get_or(&schema, |s| {
                    Ok(Schema::structure().field(&field, s.clone()))
                })?;
                let st = Struct::from_values(updated.clone(), vec![value])?;
                SchemaAndValue::new(Some(updated), Value::Struct(st))
            }
            None => SchemaAndValue::new(
                None,
                Value::Map(vec![(Value::String(self.field.clone()), value)]),
            ),
        };
        Ok(true)
    }
}
