//! `ExtractField`: replaces the key or value with one of its fields
//! (nested with `field.syntax.version=V2`).

use connect_api::config::{key, Config, ConfigType, DefaultValue, Importance};
use connect_api::{ConfigDef, ConnectError, ConnectRecord, ConnectResult, SchemaAndValue, Value};

use crate::cast::{replace_null_key, REPLACE_NULL};
use crate::path::{syntax_key, FieldPath, SYNTAX_VERSION};
use crate::util::{self, require_map, require_struct, Side};
use crate::Transformation;

pub const FIELD: &str = "field";
const PURPOSE: &str = "field extraction";

pub fn def() -> ConfigDef {
    ConfigDef::new()
        .define(key(
            FIELD,
            ConfigType::String,
            DefaultValue::Required,
            Importance::Medium,
            "The field whose value replaces the key or value.",
        ))
        .define(syntax_key())
        .define(replace_null_key())
}

pub struct ExtractField {
    side: Side,
    path: FieldPath,
    text: String,
    with_default: bool,
}

impl ExtractField {
    pub fn new(c: &Config, side: Side) -> Result<Self, String> {
        let text = c.string(FIELD).unwrap_or_default().to_string();
        let version = c.string(SYNTAX_VERSION).unwrap_or("V1");
        let path = FieldPath::parse(&text, version)?;
        Ok(Self {
            side,
            path,
            text,
            with_default: util::boolean(c, REPLACE_NULL, true),
        })
    }
}

impl Transformation for ExtractField {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        let sv = self.side.get_mut(record);
        let out = match &sv.schema {
            Some(schema) => {
                let field_schema = self
                    .path
                    .schema_in(schema)
                    .ok_or_else(|| ConnectError::data(format!("Unknown field: {}", self.text)))?;
                let value = match &sv.value {
                    Value::Null => Value::Null,
                    v => {
                        require_struct(v, PURPOSE)?;
                        self.path
                            .value_in(v, self.with_default)
                            .cloned()
                            .unwrap_or(Value::Null)
                    }
                };
                SchemaAndValue::new(Some(field_schema), value)
            }
            None => {
                let value = match &sv.value {
                    Value::Null => Value::Null,
                    v => {
                        require_map(v, PURPOSE)?;
                        self.path.value_in(v, false).cloned().unwrap_or(Value::Null)
                    }
                };
                SchemaAndValue::new(None, value)
            }
        };
        *sv = out;
        Ok(true)
    }
}
