//! `ReplaceField`: keeps (`include`), drops (`exclude`) and renames
//! (`renames=old:new,...`) top-level fields.

use std::sync::Arc;

use connect_api::config::{key, Config, ConfigType, DefaultValue, Importance};
use connect_api::{ConfigDef, ConnectRecord, ConnectResult, Schema, SchemaAndValue, Struct, Value};

use crate::cast::{replace_null_key, REPLACE_NULL};
use crate::util::{self, field_value, key_text, require_map, require_struct, SchemaCache, Side};
use crate::Transformation;

pub const EXCLUDE: &str = "exclude";
pub const INCLUDE: &str = "include";
pub const RENAMES: &str = "renames";
const PURPOSE: &str = "field replacement";

pub fn def() -> ConfigDef {
    ConfigDef::new()
        .define(key(
            EXCLUDE,
            ConfigType::List,
            DefaultValue::Value(""),
            Importance::Medium,
            "Fields to drop; they win over include.",
        ))
        .define(key(
            INCLUDE,
            ConfigType::List,
            DefaultValue::Value(""),
            Importance::Medium,
            "Fields to keep; when set, all others are dropped.",
        ))
        .define(key(
            RENAMES,
            ConfigType::List,
            DefaultValue::Value(""),
            Importance::Medium,
            "Field renames as old:new pairs.",
        ))
        .define(replace_null_key())
}

pub struct ReplaceField {
    side: Side,
    exclude: Vec<String>,
    include: Vec<String>,
    renames: Vec<(String, String)>,
    with_default: bool,
    cache: SchemaCache,
}

impl ReplaceField {
    pub fn new(c: &Config, side: Side) -> Result<Self, String> {
        let mut renames = Vec::new();
        for r in util::list(c, RENAMES) {
            match r.split(':').collect::<Vec<_>>().as_slice() {
                [from, to] => renames.push((from.to_string(), to.to_string())),
                _ => {
                    return Err(util::invalid(
                        RENAMES,
                        &util::list(c, RENAMES).join(","),
                        &format!("Invalid rename mapping: {r}"),
                    ))
                }
            }
        }
        Ok(Self {
            side,
            exclude: util::list(c, EXCLUDE),
            include: util::list(c, INCLUDE),
            renames,
            with_default: util::boolean(c, REPLACE_NULL, true),
            cache: SchemaCache::default(),
        })
    }

    fn keeps(&self, f: &str) -> bool {
        !self.exclude.iter().any(|e| e == f)
            && (self.include.is_empty() || self.include.iter().any(|i| i == f))
    }

    fn renamed<'a>(&'a self, f: &'a str) -> &'a str {
        self.renames
            .iter()
            .find(|(from, _)| from == f)
            .map_or(f, |(_, to)| to.as_str())
    }
}

impl Transformation for ReplaceField {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let side = self.side;
        let sv = side.get(record);
        if sv.value.is_null() {
            return Ok(true);
        }
        let out = match &sv.schema {
            Some(schema) => {
                let st = require_struct(&sv.value, PURPOSE)?;
                let mut cache = std::mem::take(&mut self.cache);
                let me = &*self;
                let derive = |s: &Schema| {
                    let mut b = util::struct_basics(s);
                    for f in s.fields.iter().filter(|f| me.keeps(&f.name)) {
                        let name = me.renamed(&f.name);
                        if b.field_named(name).is_some() {
                            return Err(connect_api::ConnectError::data(format!(
                                "Cannot create field because of field name duplication {name}"
                            )));
                        }
                        b = b.field(name, (*f.schema).clone());
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
                    .filter(|f| self.keeps(&f.name))
                    .map(|f| field_value(st, f.index, self.with_default))
                    .collect();
                SchemaAndValue::new(
                    Some(updated.clone()),
                    Value::Struct(Struct::from_values(updated, values)?),
                )
            }
            None => {
                let m = require_map(&sv.value, PURPOSE)?;
                let out: Vec<(Value, Value)> = m
                    .iter()
                    .filter(|(k, _)| self.keeps(&key_text(k)))
                    .map(|(k, v)| {
                        let name = key_text(k);
                        (Value::String(self.renamed(&name).to_string()), v.clone())
                    })
                    .collect();
                SchemaAndValue::new(None, Value::Map(out))
            }
        };
        *side.get_mut(record) = out;
        Ok(true)
    }
}
