//! `HeaderFrom`: copies or moves fields of the key or value into headers.

use std::sync::Arc;

use connect_api::config::{
    key, Config, ConfigKey, ConfigType, DefaultValue, Importance, Validator,
};
use connect_api::{
    ConfigDef, ConnectError, ConnectRecord, ConnectResult, Header, Schema, SchemaAndValue, Struct,
    Value,
};

use crate::cast::{replace_null_key, REPLACE_NULL};
use crate::util::{
    self, field_value, key_text, map_get, require_map, require_struct, SchemaCache, Side,
};
use crate::Transformation;

pub const FIELDS: &str = "fields";
pub const HEADERS: &str = "headers";
pub const OPERATION: &str = "operation";

pub fn def() -> ConfigDef {
    let list = |name, doc| ConfigKey {
        validator: Some(Validator::Custom(util::non_empty_list)),
        ..key(
            name,
            ConfigType::List,
            DefaultValue::Required,
            Importance::High,
            doc,
        )
    };
    ConfigDef::new()
        .define(list(FIELDS, "The fields whose values become headers."))
        .define(list(
            HEADERS,
            "The header for each field of fields, in the same order.",
        ))
        .define(ConfigKey {
            validator: Some(Validator::OneOf(&["move", "copy"])),
            ..key(
                OPERATION,
                ConfigType::String,
                DefaultValue::Required,
                Importance::High,
                "move takes the fields out of the record; copy leaves them.",
            )
        })
        .define(replace_null_key())
}

pub struct HeaderFrom {
    side: Side,
    pairs: Vec<(String, String)>,
    moving: bool,
    with_default: bool,
    cache: SchemaCache,
}

impl HeaderFrom {
    pub fn new(c: &Config, side: Side) -> Result<Self, String> {
        let fields = util::list(c, FIELDS);
        let headers = util::list(c, HEADERS);
        if fields.len() != headers.len() {
            return Err(util::invalid(
                HEADERS,
                &headers.join(","),
                "'fields' config must have the same number of elements as 'headers' config.",
            ));
        }
        Ok(Self {
            side,
            pairs: fields.into_iter().zip(headers).collect(),
            moving: c.string(OPERATION) == Some("move"),
            with_default: util::boolean(c, REPLACE_NULL, true),
            cache: SchemaCache::default(),
        })
    }

    fn header_of(&self, field: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, h)| h.as_str())
            .collect()
    }
}

impl Transformation for HeaderFrom {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let side = self.side;
        let sv = side.get(record);
        let purpose = if self.moving {
            "header move"
        } else {
            "header copy"
        };
        let mut new_headers = Vec::new();
        let replaced = match &sv.schema {
            Some(schema) => {
                let st = require_struct(&sv.value, purpose)?;
                for (f, h) in &self.pairs {
                    let field = st.schema.field_named(f).ok_or_else(|| {
                        ConnectError::data(format!(
                            "Field {f} not found in schema {}",
                            schema.describe()
                        ))
                    })?;
                    new_headers.push(Header {
                        key: h.clone(),
                        value: SchemaAndValue::new(
                            Some(field.schema.clone()),
                            field_value(st, field.index, self.with_default),
                        ),
                    });
                }
                if self.moving {
                    let mut cache = std::mem::take(&mut self.cache);
                    let me = &*self;
                    let derive = |s: &Schema| {
                        let mut b = util::struct_basics(s);
                        for f in s.fields.iter().filter(|f| me.header_of(&f.name).is_empty()) {
                            b = b.field(&f.name, (*f.schema).clone());
                        }
                        Ok(b)
                    };
                    let updated: ConnectResult<Arc<Schema>> = cache.get_or(schema, derive);
                    self.cache = cache;
                    let updated = updated?;
                    let values: Vec<Value> = st
                        .schema
                        .fields
                        .iter()
                        .filter(|f| self.header_of(&f.name).is_empty())
                        .map(|f| field_value(st, f.index, self.with_default))
                        .collect();
                    Some(SchemaAndValue::new(
                        Some(updated.clone()),
                        Value::Struct(Struct::from_values(updated, values)?),
                    ))
                } else {
                    None
                }
            }
            None => {
                let m = require_map(&sv.value, purpose)?;
                for (f, h) in &self.pairs {
                    new_headers.push(Header {
                        key: h.clone(),
                        value: SchemaAndValue::new(
                            None,
                            map_get(m, f).cloned().unwrap_or(Value::Null),
                        ),
                    });
                }
                if self.moving {
                    let kept: Vec<(Value, Value)> = m
                        .iter()
                        .filter(|(k, _)| self.header_of(&key_text(k)).is_empty())
                        .cloned()
                        .collect();
                    Some(SchemaAndValue::new(None, Value::Map(kept)))
                } else {
                    None
                }
            }
        };
        if let Some(r) = replaced {
            *side.get_mut(record) = r;
        }
        record.headers_mut().extend(new_headers);
        Ok(true)
    }
}
