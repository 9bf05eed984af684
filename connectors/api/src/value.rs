//! Connect values, structs and decimals, and validation of a value against
//! its schema (Kafka's `ConnectSchema.validateValue`).

use std::sync::Arc;

use crate::error::{ConnectError, ConnectResult};
use crate::schema::{logical, Schema, Type};

/// A value of the Connect data model.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    Int8(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Float32(f32),
    Float64(f64),
    String(String),
    Bytes(Vec<u8>),
    Array(Vec<Value>),
    /// Entries in order; keys may be any value, as in Connect.
    Map(Vec<(Value, Value)>),
    Struct(Struct),
    Decimal(Decimal),
    /// Days since 1970-01-01.
    Date(i32),
    /// Milliseconds since midnight.
    Time(i32),
    /// Milliseconds since the epoch.
    Timestamp(i64),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The type a schemaless value is written as.
    pub fn inferred_type(&self) -> Option<Type> {
        Some(match self {
            Value::Null => return None,
            Value::Boolean(_) => Type::Boolean,
            Value::Int8(_) => Type::Int8,
            Value::Int16(_) => Type::Int16,
            Value::Int32(_) | Value::Date(_) | Value::Time(_) => Type::Int32,
            Value::Int64(_) | Value::Timestamp(_) => Type::Int64,
            Value::Float32(_) => Type::Float32,
            Value::Float64(_) => Type::Float64,
            Value::String(_) => Type::String,
            Value::Bytes(_) | Value::Decimal(_) => Type::Bytes,
            Value::Array(_) => Type::Array,
            Value::Map(_) => Type::Map,
            Value::Struct(_) => Type::Struct,
        })
    }

    fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Boolean(_) => "Boolean",
            Value::Int8(_) => "Byte",
            Value::Int16(_) => "Short",
            Value::Int32(_) => "Integer",
            Value::Int64(_) => "Long",
            Value::Float32(_) => "Float",
            Value::Float64(_) => "Double",
            Value::String(_) => "String",
            Value::Bytes(_) => "byte[]",
            Value::Array(_) => "List",
            Value::Map(_) => "Map",
            Value::Struct(_) => "Struct",
            Value::Decimal(_) => "BigDecimal",
            Value::Date(_) | Value::Time(_) | Value::Timestamp(_) => "Date",
        }
    }

    /// Checks this value against `schema`; the error names `field` (a dotted
    /// path, or "value"/"key" at the top).
    pub fn validate(&self, schema: &Schema, field: &str) -> ConnectResult<()> {
        let mismatch = || {
            ConnectError::data(format!(
                "Invalid Java object for schema with type {}: {} for field: \"{field}\"",
                schema.describe(),
                self.kind_name()
            ))
        };
        match (self, schema.kind) {
            (Value::Null, _) => {
                if schema.optional || schema.default.is_some() {
                    Ok(())
                } else {
                    Err(ConnectError::data(format!(
                        "Invalid value: null used for required field: \"{field}\", schema type: {}",
                        schema.kind.upper_name()
                    )))
                }
            }
            (Value::Decimal(d), Type::Bytes) => match schema.decimal_scale() {
                Some(scale) if scale == d.scale => Ok(()),
                Some(scale) => Err(ConnectError::data(format!(
                    "BigDecimal has mismatching scale value for given Decimal schema: field \"{field}\" has scale {}, schema {scale}",
                    d.scale
                ))),
                None => Err(mismatch()),
            },
            (Value::Date(_), Type::Int32) if schema.name.as_deref() == Some(logical::DATE) => Ok(()),
            (Value::Time(_), Type::Int32) if schema.name.as_deref() == Some(logical::TIME) => Ok(()),
            (Value::Timestamp(_), Type::Int64)
                if schema.name.as_deref() == Some(logical::TIMESTAMP) =>
            {
                Ok(())
            }
            (Value::Boolean(_), Type::Boolean)
            | (Value::Int8(_), Type::Int8)
            | (Value::Int16(_), Type::Int16)
            | (Value::Int32(_), Type::Int32)
            | (Value::Int64(_), Type::Int64)
            | (Value::Float32(_), Type::Float32)
            | (Value::Float64(_), Type::Float64)
            | (Value::String(_), Type::String)
            | (Value::Bytes(_), Type::Bytes) => {
                if is_logical(schema) {
                    Err(mismatch())
                } else {
                    Ok(())
                }
            }
            (Value::Array(items), Type::Array) => {
                let Some(item_schema) = &schema.value else {
                    return Err(mismatch());
                };
                for (i, v) in items.iter().enumerate() {
                    v.validate(item_schema, &format!("{field}[{i}]"))?;
                }
                Ok(())
            }
            (Value::Map(entries), Type::Map) => {
                let (Some(ks), Some(vs)) = (&schema.key, &schema.value) else {
                    return Err(mismatch());
                };
                for (k, v) in entries {
                    k.validate(ks, &format!("{field}.key"))?;
                    v.validate(vs, &format!("{field}.value"))?;
                }
                Ok(())
            }
            (Value::Struct(s), Type::Struct) => {
                if s.schema.as_ref() != schema {
                    return Err(ConnectError::data(format!(
                        "Struct schemas do not match for field: \"{field}\""
                    )));
                }
                s.validate()
            }
            _ => Err(mismatch()),
        }
    }
}

fn is_logical(schema: &Schema) -> bool {
    matches!(
        schema.name.as_deref(),
        Some(logical::DECIMAL | logical::DATE | logical::TIME | logical::TIMESTAMP)
    )
}

/// An arbitrary-precision-enough decimal: an unscaled integer and a scale
/// (value = unscaled × 10^-scale), as Kafka's BigDecimal with 38 digits.
///
/// The unscaled integer is kept as two halves: an `i128` field would align
/// the struct, and with it every [`Value`], to 16 bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    high: i64,
    low: u64,
    pub scale: i32,
}

impl std::fmt::Debug for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decimal")
            .field("unscaled", &self.unscaled())
            .field("scale", &self.scale)
            .finish()
    }
}

impl Decimal {
    pub fn new(unscaled: i128, scale: i32) -> Self {
        Self {
            high: (unscaled >> 64) as i64,
            low: unscaled as u64,
            scale,
        }
    }

    /// The unscaled integer.
    pub fn unscaled(&self) -> i128 {
        (i128::from(self.high) << 64) | i128::from(self.low)
    }

    /// The minimal big-endian two's complement bytes of the unscaled value
    /// (Java's `BigInteger.toByteArray`).
    pub fn unscaled_bytes(&self) -> Vec<u8> {
        let all = self.unscaled().to_be_bytes();
        let mut start = 0;
        while start < all.len() - 1 {
            let (b, next) = (all[start], all[start + 1]);
            let redundant = (b == 0x00 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0);
            if !redundant {
                break;
            }
            start += 1;
        }
        all[start..].to_vec()
    }

    /// Reads the two's complement bytes written by [`Decimal::unscaled_bytes`].
    pub fn from_unscaled_bytes(bytes: &[u8], scale: i32) -> ConnectResult<Self> {
        if bytes.is_empty() || bytes.len() > 16 {
            return Err(ConnectError::data(format!(
                "a Decimal of {} bytes does not fit in 128 bits",
                bytes.len()
            )));
        }
        let fill = if bytes[0] & 0x80 != 0 { 0xff } else { 0x00 };
        let mut all = [fill; 16];
        all[16 - bytes.len()..].copy_from_slice(bytes);
        Ok(Self::new(i128::from_be_bytes(all), scale))
    }

    /// Plain decimal text, e.g. `-12.340` (Java's `toPlainString`).
    pub fn to_plain_string(&self) -> String {
        let digits = self.unscaled().unsigned_abs().to_string();
        let sign = if self.unscaled() < 0 { "-" } else { "" };
        if self.scale <= 0 {
            let zeros = "0".repeat(self.scale.unsigned_abs() as usize);
            return if self.unscaled() == 0 {
                "0".to_string()
            } else {
                format!("{sign}{digits}{zeros}")
            };
        }
        let scale = self.scale as usize;
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        format!("{sign}{int}.{frac}")
    }

    /// Parses decimal text (`-12.340`, `1e3`) keeping its scale.
    pub fn parse(text: &str) -> ConnectResult<Self> {
        let bad = || ConnectError::data(format!("{text:?} is not a decimal number"));
        let t = text.trim();
        let (mantissa, exp) = match t.find(['e', 'E']) {
            Some(i) => (&t[..i], t[i + 1..].parse::<i32>().map_err(|_| bad())?),
            None => (t, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let (negative, int) = match int.as_bytes().first() {
            Some(b'-') => (true, &int[1..]),
            Some(b'+') => (false, &int[1..]),
            _ => (false, int),
        };
        if int.is_empty() && frac.is_empty() {
            return Err(bad());
        }
        // The digits of both parts as one integer (no allocation: this runs
        // for every decimal a connector reads).
        let mut unscaled: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            if !b.is_ascii_digit() {
                return Err(bad());
            }
            unscaled = unscaled
                .checked_mul(10)
                .and_then(|v| v.checked_add(i128::from(b - b'0')))
                .ok_or_else(bad)?;
        }
        if negative {
            unscaled = -unscaled;
        }
        let scale = i32::try_from(frac.len()).map_err(|_| bad())? - exp;
        Ok(Self::new(unscaled, scale))
    }
}

/// A struct value: its schema and one value per field.
#[derive(Debug, Clone, PartialEq)]
pub struct Struct {
    pub schema: Arc<Schema>,
    /// A slice, not a `Vec`: its length is the schema's, and a `Vec`'s
    /// capacity would make every [`Value`] a word longer.
    values: Box<[Value]>,
}

impl Struct {
    /// An empty struct of `schema` (every field null).
    pub fn new(schema: Arc<Schema>) -> Self {
        let values = vec![Value::Null; schema.fields.len()].into_boxed_slice();
        Self { schema, values }
    }

    /// Sets a field, checking the value against the field's schema.
    pub fn put(&mut self, name: &str, value: Value) -> ConnectResult<&mut Self> {
        let field = self
            .schema
            .field_named(name)
            .ok_or_else(|| ConnectError::data(format!("{name} is not a valid field name")))?;
        value.validate(&field.schema, name)?;
        let i = field.index;
        self.values[i] = value;
        Ok(self)
    }

    /// Builder form of [`Struct::put`].
    pub fn with(mut self, name: &str, value: Value) -> ConnectResult<Self> {
        self.put(name, value)?;
        Ok(self)
    }

    /// A field's value, or its default when unset.
    pub fn get(&self, name: &str) -> Option<&Value> {
        let field = self.schema.field_named(name)?;
        let v = &self.values[field.index];
        match (v, &field.schema.default) {
            (Value::Null, Some(d)) => Some(d),
            _ => Some(v),
        }
    }

    /// Values in field order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// A struct from one value per field, in field order. Only the count is
    /// checked: callers build values that fit (see [`Struct::validate`]).
    pub fn from_values(schema: Arc<Schema>, values: Vec<Value>) -> ConnectResult<Self> {
        if values.len() != schema.fields.len() {
            return Err(ConnectError::data(format!(
                "a struct of {} fields was given {} values",
                schema.fields.len(),
                values.len()
            )));
        }
        Ok(Self {
            schema,
            values: values.into_boxed_slice(),
        })
    }

    /// The values, in field order.
    pub fn into_values(self) -> Vec<Value> {
        self.values.into_vec()
    }

    /// The value of the field at `index` as stored (no default applied).
    pub fn value_at(&self, index: usize) -> Option<&Value> {
        self.values.get(index)
    }

    /// Checks every field (required fields must be set).
    pub fn validate(&self) -> ConnectResult<()> {
        for f in &self.schema.fields {
            self.values[f.index].validate(&f.schema, &f.name)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_bytes_match_java_biginteger() {
        // BigInteger.valueOf(x).toByteArray() for a few x.
        for (x, bytes) in [
            (0i128, vec![0x00]),
            (127, vec![0x7f]),
            (128, vec![0x00, 0x80]),
            (-1, vec![0xff]),
            (-128, vec![0x80]),
            (-129, vec![0xff, 0x7f]),
            (12345, vec![0x30, 0x39]),
        ] {
            let d = Decimal::new(x, 2);
            assert_eq!(d.unscaled_bytes(), bytes, "{x}");
            assert_eq!(Decimal::from_unscaled_bytes(&bytes, 2).expect("decodes"), d);
        }
    }

    #[test]
    fn a_decimal_keeps_every_unscaled_integer() {
        for x in [
            0i128,
            1,
            -1,
            i128::from(i64::MAX) + 1,
            i128::from(i64::MIN) - 1,
            i128::from(u64::MAX),
            -i128::from(u64::MAX),
            i128::MAX,
            i128::MIN,
            10i128.pow(38) - 1,
        ] {
            assert_eq!(Decimal::new(x, 3).unscaled(), x, "{x}");
        }
    }

    #[test]
    fn a_value_takes_four_words() {
        // Records hold many: a batch's memory, and the time to read it
        // back on the sending thread, grows with this.
        assert_eq!(std::mem::size_of::<Value>(), 32);
    }

    #[test]
    fn decimal_text() {
        assert_eq!(Decimal::new(12345, 2).to_plain_string(), "123.45");
        assert_eq!(Decimal::new(-5, 3).to_plain_string(), "-0.005");
        assert_eq!(Decimal::new(7, -2).to_plain_string(), "700");
        assert_eq!(
            Decimal::parse("-0.005").expect("parses"),
            Decimal::new(-5, 3)
        );
        assert_eq!(
            Decimal::parse("1.5e2").expect("parses"),
            Decimal::new(15, -1)
        );
        assert!(Decimal::parse("abc").is_err());
        assert_eq!(Decimal::parse("+.50").expect("parses"), Decimal::new(50, 2));
        assert_eq!(Decimal::parse("-7.").expect("parses"), Decimal::new(-7, 0));
        for bad in [
            "",
            "-",
            "+.",
            "1.-2",
            "--1",
            "1e",
            "99999999999999999999999999999999999999999",
        ] {
            assert!(Decimal::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn struct_fields_are_checked() {
        let schema = Arc::new(
            Schema::structure()
                .named("person")
                .field("name", Schema::string())
                .field("age", Schema::int32().optional())
                .field("since", Schema::date().optional()),
        );
        let mut s = Struct::new(schema);
        assert!(s.validate().is_err(), "required name unset");
        s.put("name", Value::String("ada".into())).expect("string");
        let err = s
            .put("age", Value::String("x".into()))
            .expect_err("wrong type");
        assert!(err.to_string().contains("\"age\""), "{err}");
        s.put("since", Value::Date(19000)).expect("date");
        assert!(
            s.put("since", Value::Int32(3)).is_err(),
            "plain int32 is not a Date value"
        );
        s.validate().expect("valid");
        assert!(s.put("nope", Value::Null).is_err());
    }
}
