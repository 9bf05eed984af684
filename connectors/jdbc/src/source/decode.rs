//! Column types to Connect schemas (Confluent's mapping with
//! `numeric.mapping=none`), and database text to Connect values.

use std::sync::Arc;

use connect_api::{ConnectError, ConnectResult, Decimal, Schema, Value};

use crate::cell::days_from_civil;
use crate::dialect::Dialect;

/// A column of a table or query, as the source reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnMeta {
    pub name: String,
    /// The database's type name, lower case, without size (`numeric`, `varchar`).
    pub db_type: String,
    pub scale: Option<i32>,
    pub nullable: bool,
}

/// How a column's text becomes a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Bool,
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Decimal(i32),
    Text,
    Bytes,
    Date,
    Time,
    Timestamp,
}

/// The kind of a column type.
pub fn kind(d: Dialect, m: &ColumnMeta) -> Kind {
    let t = m.db_type.as_str();
    let base = t.split(['(', ' ']).next().unwrap_or(t);
    match (d, base) {
        (_, "bool" | "boolean" | "bit") => Kind::Bool,
        (Dialect::MySql, "tinyint") => Kind::Int8,
        (_, "int2" | "smallint" | "tinyint") => Kind::Int16,
        (Dialect::Sqlite, "int" | "integer" | "mediumint" | "bigint" | "int8") => Kind::Int64,
        (_, "int4" | "int" | "integer" | "mediumint" | "serial") => Kind::Int32,
        (_, "int8" | "bigint" | "bigserial") => Kind::Int64,
        (_, "float4" | "real") if d != Dialect::Sqlite => Kind::Float32,
        (Dialect::MySql, "float") => Kind::Float32,
        (_, "float8" | "double" | "float" | "real") => Kind::Float64,
        (_, "numeric" | "decimal") => match m.scale {
            Some(s) => Kind::Decimal(s),
            // An unconstrained numeric has no one scale for a schema.
            None => Kind::Float64,
        },
        (_, "bytea" | "blob" | "binary" | "varbinary" | "tinyblob" | "mediumblob" | "longblob") => {
            Kind::Bytes
        }
        (_, "date") => Kind::Date,
        (_, "time" | "timetz") => Kind::Time,
        (_, "timestamp" | "timestamptz" | "datetime") => Kind::Timestamp,
        _ => Kind::Text,
    }
}

/// The Connect schema of a column.
pub fn schema(k: Kind, optional: bool) -> Schema {
    let s = match k {
        Kind::Bool => Schema::boolean(),
        Kind::Int8 => Schema::int8(),
        Kind::Int16 => Schema::int16(),
        Kind::Int32 => Schema::int32(),
        Kind::Int64 => Schema::int64(),
        Kind::Float32 => Schema::float32(),
        Kind::Float64 => Schema::float64(),
        Kind::Decimal(s) => Schema::decimal(s),
        Kind::Text => Schema::string(),
        Kind::Bytes => Schema::bytes(),
        Kind::Date => Schema::date(),
        Kind::Time => Schema::time(),
        Kind::Timestamp => Schema::timestamp(),
    };
    if optional {
        s.optional()
    } else {
        s
    }
}

/// The struct schema of a table's rows, named after the table as
/// Confluent names it.
pub fn row_schema(name: &str, cols: &[(ColumnMeta, Kind)]) -> Arc<Schema> {
    let mut s = Schema::structure().named(name);
    for (m, k) in cols {
        s = s.field(&m.name, schema(*k, m.nullable));
    }
    Arc::new(s)
}

fn bad(text: &str, what: &str) -> ConnectError {
    ConnectError::data(format!("{text:?} is not a {what}"))
}

/// Epoch milliseconds and the nanoseconds within the second of
/// `YYYY-MM-DD[ T]HH:MM:SS[.fffffffff][Z|+hh[:mm]]`.
pub fn parse_timestamp(text: &str) -> ConnectResult<(i64, u32)> {
    let t = text.trim();
    let (date, rest) = t.split_at(t.len().min(10));
    let days = parse_date_days(date).ok_or_else(|| bad(t, "timestamp"))?;
    let rest = rest.trim_start_matches([' ', 'T']);
    if rest.is_empty() {
        return Ok((days * 86_400_000, 0));
    }
    let (clock, zone) = match rest.find(['Z', '+', '-']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let (ms_of_day, nanos) = parse_clock(clock).ok_or_else(|| bad(t, "timestamp"))?;
    let offset_min: i64 = match zone {
        "" | "Z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let digits: String = z[1..].chars().filter(char::is_ascii_digit).collect();
            let (h, m) = match digits.len() {
                2 => (digits.parse::<i64>().map_err(|_| bad(t, "timestamp"))?, 0),
                4 => (
                    digits[..2]
                        .parse::<i64>()
                        .map_err(|_| bad(t, "timestamp"))?,
                    digits[2..]
                        .parse::<i64>()
                        .map_err(|_| bad(t, "timestamp"))?,
                ),
                _ => return Err(bad(t, "timestamp")),
            };
            sign * (h * 60 + m)
        }
    };
    Ok((days * 86_400_000 + ms_of_day - offset_min * 60_000, nanos))
}

fn parse_date_days(d: &str) -> Option<i64> {
    let mut it = d.split('-');
    let (y, m, day) = (
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
    );
    if it.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    Some(days_from_civil(y, m, day))
}

/// Milliseconds of the day and nanoseconds within the second of `HH:MM:SS[.f]`.
fn parse_clock(c: &str) -> Option<(i64, u32)> {
    let (hms, frac) = c.split_once('.').unwrap_or((c, ""));
    let mut it = hms.split(':');
    let (h, m, s): (i64, i64, i64) = (
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next().unwrap_or("0").parse().ok()?,
    );
    let digits: String = frac
        .chars()
        .take_while(char::is_ascii_digit)
        .take(9)
        .collect();
    let nanos: u32 = if digits.is_empty() {
        0
    } else {
        format!("{digits:0<9}").parse().ok()?
    };
    Some((
        ((h * 60 + m) * 60 + s) * 1000 + i64::from(nanos / 1_000_000),
        nanos,
    ))
}

/// The value of a column from its text (the text protocol's form).
pub fn from_text(k: Kind, text: &str) -> ConnectResult<Value> {
    let t = text.trim();
    Ok(match k {
        Kind::Bool => Value::Boolean(matches!(t, "t" | "true" | "1" | "TRUE" | "True")),
        Kind::Int8 => Value::Int8(t.parse().map_err(|_| bad(t, "TINYINT"))?),
        Kind::Int16 => Value::Int16(t.parse().map_err(|_| bad(t, "SMALLINT"))?),
        Kind::Int32 => Value::Int32(t.parse().map_err(|_| bad(t, "INT"))?),
        Kind::Int64 => Value::Int64(t.parse().map_err(|_| bad(t, "BIGINT"))?),
        Kind::Float32 => Value::Float32(t.parse().map_err(|_| bad(t, "REAL"))?),
        Kind::Float64 => Value::Float64(t.parse().map_err(|_| bad(t, "DOUBLE"))?),
        Kind::Decimal(scale) => Value::Decimal(rescale(Decimal::parse(t)?, scale)?),
        Kind::Text => Value::String(text.to_string()),
        Kind::Bytes => Value::Bytes(text.as_bytes().to_vec()),
        Kind::Date => Value::Date(
            i32::try_from(parse_date_days(t.get(..10).unwrap_or(t)).ok_or_else(|| bad(t, "date"))?)
                .map_err(|_| bad(t, "date"))?,
        ),
        Kind::Time => Value::Time(
            i32::try_from(
                parse_clock(t.split(['+', '-', 'Z']).next().unwrap_or(t))
                    .ok_or_else(|| bad(t, "time"))?
                    .0,
            )
            .map_err(|_| bad(t, "time"))?,
        ),
        Kind::Timestamp => Value::Timestamp(parse_timestamp(t)?.0),
    })
}

/// A decimal at the schema's scale (extra digits must be zeros).
fn rescale(d: Decimal, scale: i32) -> ConnectResult<Decimal> {
    let diff = scale - d.scale;
    let factor = 10i128.checked_pow(diff.unsigned_abs()).ok_or_else(|| {
        ConnectError::data(format!(
            "{} does not fit scale {scale}",
            d.to_plain_string()
        ))
    })?;
    if diff >= 0 {
        d.unscaled
            .checked_mul(factor)
            .map(|u| Decimal::new(u, scale))
            .ok_or_else(|| {
                ConnectError::data(format!(
                    "{} does not fit scale {scale}",
                    d.to_plain_string()
                ))
            })
    } else {
        Ok(Decimal::new(d.unscaled / factor, scale))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_text_becomes_connect_values() {
        assert_eq!(
            parse_timestamp("2024-01-15 12:34:56.789123"),
            Ok((1_705_322_096_789, 789_123_000))
        );
        assert_eq!(
            parse_timestamp("2024-01-15 14:34:56+02"),
            Ok((1_705_322_096_000, 0))
        );
        assert_eq!(
            parse_timestamp("2024-01-15T12:34:56Z"),
            Ok((1_705_322_096_000, 0))
        );
        assert_eq!(
            from_text(Kind::Decimal(2), "-12.3"),
            Ok(Value::Decimal(Decimal::new(-1230, 2)))
        );
        assert_eq!(from_text(Kind::Date, "2024-01-15"), Ok(Value::Date(19_737)));
        assert_eq!(
            from_text(Kind::Time, "12:34:56.789"),
            Ok(Value::Time(45_296_789))
        );
        assert_eq!(from_text(Kind::Bool, "t"), Ok(Value::Boolean(true)));
        assert!(from_text(Kind::Int32, "x").is_err());
        let m = |t: &str, scale| ColumnMeta {
            name: "c".into(),
            db_type: t.into(),
            scale,
            nullable: true,
        };
        assert_eq!(
            kind(Dialect::Postgres, &m("numeric", Some(2))),
            Kind::Decimal(2)
        );
        assert_eq!(
            kind(Dialect::Postgres, &m("timestamp with time zone", None)),
            Kind::Timestamp
        );
        assert_eq!(kind(Dialect::MySql, &m("tinyint", None)), Kind::Int8);
        assert_eq!(kind(Dialect::Sqlite, &m("integer", None)), Kind::Int64);
        assert_eq!(kind(Dialect::Postgres, &m("integer", None)), Kind::Int32);
    }
}
