//! `InsertField`: adds the record's topic, partition, offset (sink records)
//! and timestamp, and a static field, to a struct or map. A name ending in
//! `!` makes the field required, `?` (or nothing) optional.

use std::sync::Arc;

use connect_api::config::{key, Config, ConfigType, DefaultValue, Importance};
use connect_api::{
    ConfigDef, ConnectError, ConnectRecord, ConnectResult, Schema, SchemaAndValue, Struct, Value,
};

use crate::cast::{replace_null_key, REPLACE_NULL};
use crate::util::{self, field_value, map_put, require_map, require_struct, SchemaCache, Side};
use crate::Transformation;

pub const TOPIC: &str = "topic.field";
pub const PARTITION: &str = "partition.field";
pub const OFFSET: &str = "offset.field";
pub const TIMESTAMP: &str = "timestamp.field";
pub const STATIC: &str = "static.field";
pub const STATIC_VALUE: &str = "static.value";
const PURPOSE: &str = "field insertion";

pub fn def() -> ConfigDef {
    let opt = |name, doc| {
        key(
            name,
            ConfigType::String,
            DefaultValue::Null,
            Importance::Medium,
            doc,
        )
    };
    ConfigDef::new()
        .define(opt(TOPIC, "Field name for the topic; suffix ! for a required field, ? (the default) for an optional one."))
        .define(opt(PARTITION, "Field name for the partition; suffix ! for a required field, ? (the default) for an optional one."))
        .define(opt(OFFSET, "Field name for the offset (sink connectors only); suffix ! for a required field, ? (the default) for an optional one."))
        .define(opt(TIMESTAMP, "Field name for the record timestamp; suffix ! for a required field, ? (the default) for an optional one."))
        .define(opt(STATIC, "Field name for the static value; suffix ! for a required field, ? (the default) for an optional one."))
        .define(opt(STATIC_VALUE, "The static value of static.field."))
        .define(replace_null_key())
}

/// A field to insert: its name and whether it is optional.
#[derive(Debug, Clone)]
struct Spec {
    name: String,
    optional: bool,
}

fn spec(c: &Config, key: &str) -> Option<Spec> {
    let raw = util::opt_string(c, key)?;
    Some(if let Some(n) = raw.strip_suffix('!') {
        Spec {
            name: n.to_string(),
            optional: false,
        }
    } else if let Some(n) = raw.strip_suffix('?') {
        Spec {
            name: n.to_string(),
            optional: true,
        }
    } else {
        Spec {
            name: raw,
            optional: true,
        }
    })
}

pub struct InsertField {
    side: Side,
    topic: Option<Spec>,
    partition: Option<Spec>,
    offset: Option<Spec>,
    timestamp: Option<Spec>,
    static_field: Option<Spec>,
    static_value: Option<String>,
    with_default: bool,
    cache: SchemaCache,
}

impl InsertField {
    pub fn new(c: &Config, side: Side) -> Result<Self, String> {
        let s = Self {
            side,
            topic: spec(c, TOPIC),
            partition: spec(c, PARTITION),
            offset: spec(c, OFFSET),
            timestamp: spec(c, TIMESTAMP),
            static_field: spec(c, STATIC),
            static_value: c.string(STATIC_VALUE).map(str::to_string),
            with_default: util::boolean(c, REPLACE_NULL, true),
            cache: SchemaCache::default(),
        };
        if s.topic.is_none()
            && s.partition.is_none()
            && s.offset.is_none()
            && s.timestamp.is_none()
            && s.static_field.is_none()
        {
            return Err("No field insertion configured".into());
        }
        if s.static_field.is_some() && s.static_value.is_none() {
            return Err(util::invalid(
                STATIC_VALUE,
                "null",
                &format!(
                    "No value specified for static field: {}",
                    s.static_field.as_ref().map_or("", |f| f.name.as_str())
                ),
            ));
        }
        Ok(s)
    }

    fn schema(&self, s: &Schema) -> ConnectResult<Schema> {
        let mut b = util::struct_basics(s);
        for f in &s.fields {
            b = b.field(&f.name, (*f.schema).clone());
        }
        let opt = |sp: &Spec, schema: Schema| {
            if sp.optional {
                schema.optional()
            } else {
                schema
            }
        };
        for sp in [
            &self.topic,
            &self.partition,
            &self.offset,
            &self.timestamp,
            &self.static_field,
        ]
        .into_iter()
        .flatten()
        {
            if s.field_named(&sp.name).is_some() {
                return Err(ConnectError::data(format!(
                    "Cannot create field because of field name duplication {}",
                    sp.name
                )));
            }
        }
        if let Some(sp) = &self.topic {
            b = b.field(&sp.name, opt(sp, Schema::string()));
        }
        if let Some(sp) = &self.partition {
            b = b.field(&sp.name, opt(sp, Schema::int32()));
        }
        if let Some(sp) = &self.offset {
            b = b.field(&sp.name, opt(sp, Schema::int64()));
        }
        if let Some(sp) = &self.timestamp {
            b = b.field(&sp.name, opt(sp, Schema::timestamp()));
        }
        if let Some(sp) = &self.static_field {
            b = b.field(&sp.name, opt(sp, Schema::string()));
        }
        Ok(b)
    }

    /// The values to insert, in field order, as (spec, value).
    fn inserted(
        &self,
        r: &dyn ConnectRecord,
        schemaless: bool,
    ) -> ConnectResult<Vec<(&Spec, Value)>> {
        let mut out = Vec::new();
        if let Some(sp) = &self.topic {
            out.push((sp, Value::String(r.topic().to_string())));
        }
        if let Some(sp) = &self.partition {
            out.push((sp, r.kafka_partition().map_or(Value::Null, Value::Int32)));
        }
        if let Some(sp) = &self.offset {
            let offset = r.kafka_offset().ok_or_else(|| {
                ConnectError::data(format!(
                    "Only SinkRecord supported for [{PURPOSE}], found: org.apache.kafka.connect.source.SourceRecord"
                ))
            })?;
            out.push((sp, Value::Int64(offset)));
        }
        if let Some(sp) = &self.timestamp {
            out.push((
                sp,
                match r.timestamp() {
                    None => Value::Null,
                    Some(t) if schemaless => Value::Int64(t),
                    Some(t) => Value::Timestamp(t),
                },
            ));
        }
        if let Some(sp) = &self.static_field {
            out.push((
                sp,
                self.static_value.clone().map_or(Value::Null, Value::String),
            ));
        }
        Ok(out)
    }
}

impl Transformation for InsertField {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let side = self.side;
        if side.get(record).value.is_null() {
            // Tombstones pass through untouched.
            return Ok(true);
        }
        match side.get(record).schema.clone() {
            Some(schema) => {
                let mut cache = std::mem::take(&mut self.cache);
                let updated = cache.get_or(&schema, |s| self.schema(s));
                self.cache = cache;
                let updated: Arc<Schema> = updated?;
                let inserted = self.inserted(record, false)?;
                let st = require_struct(&side.get(record).value, PURPOSE)?;
                let mut values = Vec::with_capacity(updated.fields.len());
                for f in &st.schema.fields {
                    values.push(field_value(st, f.index, self.with_default));
                }
                values.extend(inserted.into_iter().map(|(_, v)| v));
                let out = Struct::from_values(updated.clone(), values)?;
                *side.get_mut(record) = SchemaAndValue::new(Some(updated), Value::Struct(out));
            }
            None => {
                // A record without a partition or timestamp gets no such entry.
                let inserted: Vec<(String, Value)> = self
                    .inserted(record, true)?
                    .into_iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(sp, v)| (sp.name.clone(), v))
                    .collect();
                let sv = side.get_mut(record);
                require_map(&sv.value, PURPOSE)?;
                if let Value::Map(m) = &mut sv.value {
                    for (k, v) in inserted {
                        map_put(m, &k, v);
                    }
                }
            }
        }
        Ok(true)
    }
}
