//! Column types to Connect schemas (Confluent's mapping, with its
//! `numeric.mapping` and `timestamp.granularity`), and database text to
//! Connect values.

use std::sync::Arc;

use connect_api::{ConnectError, ConnectResult, Decimal, Schema, Value};

use crate::cell::days_from_civil;
use crate::dialect::Dialect;
use crate::zone::Zone;

/// A column of a table or query, as the source reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnMeta {
    pub name: String,
    /// The database's type name, lower case, without size (`numeric`, `varchar`).
    pub db_type: String,
    pub precision: Option<i32>,
    pub scale: Option<i32>,
    pub nullable: bool,
    /// Numbered by the database (serial, identity, AUTO_INCREMENT, rowid).
    pub auto_increment: bool,
}

/// `numeric.mapping`: what NUMERIC columns become.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NumericMapping {
    /// Always a Decimal of the column's scale.
    #[default]
    None,
    /// Integers by precision when the scale is 0.
    PrecisionOnly,
    /// Integers by precision when the scale is 0 or less, FLOAT64 when it
    /// is positive, both only up to precision 18.
    BestFit,
    /// As `BestFit`, but any positive scale is FLOAT64 whatever the precision.
    BestFitEagerDouble,
}

impl NumericMapping {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "none" => Self::None,
            "precision_only" => Self::PrecisionOnly,
            "best_fit" => Self::BestFit,
            "best_fit_eager_double" => Self::BestFitEagerDouble,
            _ => return None,
        })
    }
}

/// `timestamp.granularity`: how timestamp columns are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Granularity {
    /// Connect's Timestamp (milliseconds).
    #[default]
    ConnectLogical,
    MicrosLong,
    MicrosString,
    MicrosIso,
    NanosLong,
    NanosString,
    NanosIso,
}

impl Granularity {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "connect_logical" => Self::ConnectLogical,
            "micros_long" => Self::MicrosLong,
            "micros_string" => Self::MicrosString,
            "micros_iso_datetime_string" => Self::MicrosIso,
            "nanos_long" => Self::NanosLong,
            "nanos_string" => Self::NanosString,
            "nanos_iso_datetime_string" => Self::NanosIso,
            _ => return None,
        })
    }
}

/// The settings that shape a source's schemas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mapping {
    pub numeric: NumericMapping,
    pub granularity: Granularity,
}

/// Largest precision held by a long (Confluent's MAX_INTEGER_TYPE_PRECISION).
const MAX_INTEGER_PRECISION: i32 = 18;
/// Lowest scale Confluent maps to an integer (Oracle's lowest).
const LOWEST_SCALE: i32 = -84;

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
    Timestamp(Granularity),
}

/// The smallest integer kind for a precision, as Confluent picks it.
fn integer_kind(precision: i32) -> Kind {
    match precision {
        p if p > 9 => Kind::Int64,
        p if p > 4 => Kind::Int32,
        p if p > 2 => Kind::Int16,
        _ => Kind::Int8,
    }
}

/// A NUMERIC column under `numeric.mapping`; `None` keeps the Decimal.
/// (Confluent maps JDBC's NUMERIC type only: MySQL's and MariaDB's
/// DECIMAL, and SQLite columns declared DECIMAL, stay decimals.)
fn mapped_numeric(n: NumericMapping, precision: i32, scale: i32) -> Option<Kind> {
    let integral = (LOWEST_SCALE..1).contains(&scale);
    match n {
        NumericMapping::None => None,
        NumericMapping::PrecisionOnly => {
            (scale == 0 && precision <= MAX_INTEGER_PRECISION).then(|| integer_kind(precision))
        }
        NumericMapping::BestFit if precision <= MAX_INTEGER_PRECISION => {
            if integral {
                Some(integer_kind(precision))
            } else {
                (scale > 0).then_some(Kind::Float64)
            }
        }
        NumericMapping::BestFit => None,
        NumericMapping::BestFitEagerDouble => {
            if integral {
                (precision <= MAX_INTEGER_PRECISION).then(|| integer_kind(precision))
            } else {
                (scale > 0).then_some(Kind::Float64)
            }
        }
    }
}

/// The kind of a column type.
pub fn kind(d: Dialect, m: &ColumnMeta, mapping: Mapping) -> Kind {
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
        (_, "numeric" | "decimal") => match (m.scale, m.precision) {
            // An unconstrained numeric has no one scale for a schema.
            (None, _) => Kind::Float64,
            (Some(s), Some(p)) if d != Dialect::MySql && base == "numeric" => {
                mapped_numeric(mapping.numeric, p, s).unwrap_or(Kind::Decimal(s))
            }
            (Some(s), _) => Kind::Decimal(s),
        },
        (_, "bytea" | "blob" | "binary" | "varbinary" | "tinyblob" | "mediumblob" | "longblob") => {
            Kind::Bytes
        }
        (_, "date") => Kind::Date,
        (_, "time" | "timetz") => Kind::Time,
        (_, "timestamp" | "timestamptz" | "datetime") => Kind::Timestamp(mapping.granularity),
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
        Kind::Timestamp(Granularity::ConnectLogical) => Schema::timestamp(),
        Kind::Timestamp(Granularity::MicrosLong | Granularity::NanosLong) => Schema::int64(),
        Kind::Timestamp(_) => Schema::string(),
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
/// `YYYY-MM-DD[ T]HH:MM:SS[.fffffffff][Z|+hh[:mm]]` (UTC without a zone).
pub fn parse_timestamp(text: &str) -> ConnectResult<(i64, u32)> {
    parse_zoned(text).map(|(ms, nanos, _)| (ms, nanos))
}

/// As `parse_timestamp`, and whether the text named its zone.
fn parse_zoned(text: &str) -> ConnectResult<(i64, u32, bool)> {
    let t = text.trim();
    let cut = t.len().min(10);
    if !t.is_char_boundary(cut) {
        return Err(bad(t, "timestamp"));
    }
    let (date, rest) = t.split_at(cut);
    let days = parse_date_days(date).ok_or_else(|| bad(t, "timestamp"))?;
    let rest = rest.trim_start_matches([' ', 'T']);
    if rest.is_empty() {
        return Ok((days * 86_400_000, 0, false));
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
            // `+HH`, `+HHMM` or `+HH:MM`: the digits after the sign.
            let (mut v, mut n) = (0i64, 0);
            for b in z[1..].bytes().filter(u8::is_ascii_digit) {
                if n == 4 {
                    return Err(bad(t, "timestamp"));
                }
                v = v * 10 + i64::from(b - b'0');
                n += 1;
            }
            let (h, m) = match n {
                2 => (v, 0),
                4 => (v / 100, v % 100),
                _ => return Err(bad(t, "timestamp")),
            };
            sign * (h * 60 + m)
        }
    };
    Ok((
        days * 86_400_000 + ms_of_day - offset_min * 60_000,
        nanos,
        !zone.is_empty(),
    ))
}

/// The instant of a timestamp column's text: a wall-clock time without a
/// zone is in `local` when the column keeps wall-clock times, else UTC.
pub fn instant_of(text: &str, local: Option<&Zone>) -> ConnectResult<(i64, u32)> {
    let (ms, nanos, zoned) = parse_zoned(text)?;
    Ok(match local {
        Some(z) if !zoned => z.from_wall(ms, nanos),
        _ => (ms, nanos),
    })
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
    // Up to nine digits of fraction, as nanoseconds (no allocation: this
    // runs for every timestamp read).
    let (mut nanos, mut n) = (0u32, 0u32);
    for b in frac.bytes().take_while(u8::is_ascii_digit).take(9) {
        nanos = nanos * 10 + u32::from(b - b'0');
        n += 1;
    }
    let nanos = nanos * 10u32.pow(9 - n);
    Some((
        ((h * 60 + m) * 60 + s) * 1000 + i64::from(nanos / 1_000_000),
        nanos,
    ))
}

/// The value of a column from its text; timestamps of a column that keeps
/// wall-clock times (`local`) are in `zone` (`db.timezone`), which ISO text
/// granularities are written in too.
pub fn from_text_in(k: Kind, text: &str, zone: &Zone, local: bool) -> ConnectResult<Value> {
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
        Kind::Timestamp(g) => {
            let (ms, nanos) = instant_of(t, local.then_some(zone))?;
            timestamp_value(g, ms, nanos, zone)?
        }
    })
}

/// A timestamp (epoch ms, nanoseconds within its second) as the
/// granularity writes it; ISO strings are wall-clock times in `zone`.
pub fn timestamp_value(g: Granularity, ms: i64, nanos: u32, zone: &Zone) -> ConnectResult<Value> {
    let secs = ms.div_euclid(1000);
    let nanos = i64::from(nanos);
    let epoch = |per_second: i64| {
        secs.checked_mul(per_second)
            .and_then(|s| s.checked_add(nanos / (1_000_000_000 / per_second)))
            .ok_or_else(|| {
                ConnectError::data(format!(
                    "the timestamp {} does not fit a long at this granularity",
                    crate::cell::timestamp_text(ms)
                ))
            })
    };
    let iso = |digits: usize| {
        let secs = zone.to_wall(ms, 0).0.div_euclid(1000);
        let (y, m, d) = crate::cell::civil(secs.div_euclid(86_400));
        let s = secs.rem_euclid(86_400);
        let frac = format!("{nanos:09}");
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{}",
            s / 3600,
            s / 60 % 60,
            s % 60,
            &frac[..digits]
        )
    };
    Ok(match g {
        Granularity::ConnectLogical => Value::Timestamp(ms),
        Granularity::MicrosLong => Value::Int64(epoch(1_000_000)?),
        Granularity::MicrosString => Value::String(epoch(1_000_000)?.to_string()),
        Granularity::NanosLong => Value::Int64(epoch(1_000_000_000)?),
        Granularity::NanosString => {
            Value::String((i128::from(secs) * 1_000_000_000 + i128::from(nanos)).to_string())
        }
        Granularity::MicrosIso => Value::String(iso(6)),
        Granularity::NanosIso => Value::String(iso(9)),
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
        d.unscaled()
            .checked_mul(factor)
            .map(|u| Decimal::new(u, scale))
            .ok_or_else(|| {
                ConnectError::data(format!(
                    "{} does not fit scale {scale}",
                    d.to_plain_string()
                ))
            })
    } else {
        Ok(Decimal::new(d.unscaled() / factor, scale))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_text(k: Kind, text: &str) -> ConnectResult<Value> {
        from_text_in(k, text, &Zone::default(), false)
    }

    /// Confluent's numeric.mapping table, column by column.
    #[test]
    fn numeric_columns_map_as_confluent_maps_them() {
        use NumericMapping::*;
        let col = |t: &str, p: i32, s: i32| ColumnMeta {
            name: "n".into(),
            db_type: t.into(),
            precision: Some(p),
            scale: Some(s),
            nullable: false,
            auto_increment: false,
        };
        let k = |d, n, t: &str, p, s| {
            kind(
                d,
                &col(t, p, s),
                Mapping {
                    numeric: n,
                    granularity: Granularity::ConnectLogical,
                },
            )
        };
        let pg = Dialect::Postgres;
        for (n, p, s, want) in [
            (None, 5, 0, Kind::Decimal(0)),
            (PrecisionOnly, 2, 0, Kind::Int8),
            (PrecisionOnly, 4, 0, Kind::Int16),
            (PrecisionOnly, 9, 0, Kind::Int32),
            (PrecisionOnly, 18, 0, Kind::Int64),
            (PrecisionOnly, 19, 0, Kind::Decimal(0)),
            (PrecisionOnly, 12, 2, Kind::Decimal(2)),
            (BestFit, 12, 2, Kind::Float64),
            (BestFit, 10, 0, Kind::Int64),
            (BestFit, 5, -2, Kind::Int32),
            (BestFit, 19, 2, Kind::Decimal(2)),
            (BestFit, 30, 0, Kind::Decimal(0)),
            (BestFitEagerDouble, 30, 2, Kind::Float64),
            (BestFitEagerDouble, 30, 0, Kind::Decimal(0)),
            (BestFitEagerDouble, 3, 0, Kind::Int16),
        ] {
            assert_eq!(k(pg, n, "numeric", p, s), want, "{n:?} numeric({p},{s})");
        }
        // JDBC's DECIMAL type is not mapped, as in Confluent's connector.
        assert_eq!(
            k(Dialect::MySql, BestFit, "decimal", 12, 2),
            Kind::Decimal(2)
        );
        assert_eq!(
            k(Dialect::Sqlite, BestFit, "decimal(12,2)", 12, 2),
            Kind::Decimal(2)
        );
        assert_eq!(
            k(Dialect::Sqlite, BestFit, "numeric(12,2)", 12, 2),
            Kind::Float64
        );
    }

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
        // Zones as +HH, +HHMM and -HH:MM; fractions past nanoseconds cut.
        assert_eq!(
            parse_timestamp("2024-01-15 18:04:56.1+0530"),
            Ok((1_705_322_096_100, 100_000_000))
        );
        assert_eq!(
            parse_timestamp("2024-01-15 09:04:56.123456789123-03:30"),
            Ok((1_705_322_096_123, 123_456_789))
        );
        assert!(parse_timestamp("2024-01-15 12:34:56+053").is_err());
        assert!(parse_timestamp("2024-01-15 12:34:56+05300").is_err());
        assert!(parse_timestamp("2024-01-1\u{e9} 12:34:56").is_err());
        assert_eq!(
            from_text(Kind::Decimal(2), "-12.3"),
            Ok(Value::Decimal(Decimal::new(-1230, 2)))
        );
        assert_eq!(from_text(Kind::Date, "2024-01-15"), Ok(Value::Date(19_737)));
        let at = |g| from_text(Kind::Timestamp(g), "2024-01-15 12:34:56.789123+00");
        assert_eq!(
            at(Granularity::ConnectLogical),
            Ok(Value::Timestamp(1_705_322_096_789))
        );
        assert_eq!(
            at(Granularity::MicrosLong),
            Ok(Value::Int64(1_705_322_096_789_123))
        );
        assert_eq!(
            at(Granularity::NanosString),
            Ok(Value::String("1705322096789123000".into()))
        );
        assert_eq!(
            at(Granularity::MicrosIso),
            Ok(Value::String("2024-01-15T12:34:56.789123".into()))
        );
        assert_eq!(
            at(Granularity::NanosIso),
            Ok(Value::String("2024-01-15T12:34:56.789123000".into()))
        );
        assert_eq!(
            from_text(
                Kind::Timestamp(Granularity::NanosLong),
                "1969-12-31 23:59:59.5"
            ),
            Ok(Value::Int64(-500_000_000))
        );
        assert_eq!(
            from_text(Kind::Time, "12:34:56.789"),
            Ok(Value::Time(45_296_789))
        );
        assert_eq!(from_text(Kind::Bool, "t"), Ok(Value::Boolean(true)));
        assert!(from_text(Kind::Int32, "x").is_err());
        let m = |t: &str, scale| ColumnMeta {
            name: "c".into(),
            db_type: t.into(),
            precision: Some(12),
            scale,
            nullable: true,
            auto_increment: false,
        };
        let none = Mapping::default();
        assert_eq!(
            kind(Dialect::Postgres, &m("numeric", Some(2)), none),
            Kind::Decimal(2)
        );
        assert_eq!(
            kind(
                Dialect::Postgres,
                &m("timestamp with time zone", None),
                none
            ),
            Kind::Timestamp(Granularity::ConnectLogical)
        );
        assert_eq!(kind(Dialect::MySql, &m("tinyint", None), none), Kind::Int8);
        assert_eq!(
            kind(Dialect::Sqlite, &m("integer", None), none),
            Kind::Int64
        );
        assert_eq!(
            kind(Dialect::Postgres, &m("integer", None), none),
            Kind::Int32
        );
    }
}
