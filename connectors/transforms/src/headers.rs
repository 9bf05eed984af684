//! `InsertHeader` (a literal header on every record) and `DropHeaders`.

use connect_api::config::{
    key, Config, ConfigKey, ConfigType, DefaultValue, Importance, Validator,
};
use connect_api::{ConfigDef, ConnectRecord, ConnectResult, Header, SchemaAndValue};

use crate::util;
use crate::Transformation;
use connect_api::text::parse_string;

pub const HEADER: &str = "header";
pub const VALUE_LITERAL: &str = "value.literal";
pub const HEADERS: &str = "headers";

pub fn insert_def() -> ConfigDef {
    ConfigDef::new()
        .define(ConfigKey {
            validator: Some(Validator::NonEmptyString),
            ..key(HEADER, ConfigType::String, DefaultValue::Required, Importance::High, "The name of the header to add.")
        })
        .define(key(VALUE_LITERAL, ConfigType::String, DefaultValue::Required, Importance::High, "The header's value, read as Connect reads header text (numbers, booleans, lists and maps are typed)."))
}

pub fn drop_def() -> ConfigDef {
    ConfigDef::new().define(ConfigKey {
        validator: Some(Validator::Custom(util::non_empty_list)),
        ..key(
            HEADERS,
            ConfigType::List,
            DefaultValue::Required,
            Importance::High,
            "The names of the headers to remove.",
        )
    })
}

pub struct InsertHeader {
    header: String,
    value: SchemaAndValue,
}

impl InsertHeader {
    pub fn new(c: &Config) -> Result<Self, String> {
        let literal = c.string(VALUE_LITERAL).unwrap_or_default();
        Ok(Self {
            header: c.string(HEADER).unwrap_or_default().to_string(),
            value: parse_string(literal),
        })
    }
}

impl Transformation for InsertHeader {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        record.headers_mut().push(Header {
            key: self.header.clone(),
            value: self.value.clone(),
        });
        Ok(true)
    }

    fn reads_value(&self) -> bool {
        false
    }
}

pub struct DropHeaders {
    names: Vec<String>,
}

impl DropHeaders {
    pub fn new(c: &Config) -> Result<Self, String> {
        let names = util::list(c, HEADERS);
        Ok(Self { names })
    }
}

impl Transformation for DropHeaders {
    fn apply(&mut self, record: &mut dyn ConnectRecord) -> ConnectResult<bool> {
        record
            .headers_mut()
            .retain(|h| !self.names.contains(&h.key));
        Ok(true)
    }

    fn reads_value(&self) -> bool {
        false
    }
}
