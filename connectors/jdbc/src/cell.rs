//! One value as the connectors move it to and from a database: a Connect
//! value flattened to what a column holds, with the text forms databases
//! parse (ISO dates in UTC, plain decimals, `\x` hex for PostgreSQL bytes).

use connect_api::{Decimal, Value};

/// A column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    Decimal(Decimal),
    /// Days since 1970-01-01.
    Date(i32),
    /// Milliseconds since midnight.
    Time(i32),
    /// Milliseconds since the epoch (UTC).
    Timestamp(i64),
    /// JSON text of a map, list or struct.
    Json(String),
}

const DAY_MS: i64 = 86_400_000;

/// (year, month, day) of a day count since 1970-01-01.
pub fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

pub fn date_text(days: i64) -> String {
    let (y, m, d) = civil(days);
    format!("{y:04}-{m:02}-{d:02}")
}

pub fn time_text(ms: i64) -> String {
    let ms = ms.rem_euclid(DAY_MS);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// `YYYY-MM-DD HH:MM:SS.mmm` (UTC), which every database reads.
pub fn timestamp_text(ms: i64) -> String {
    format!(
        "{} {}",
        date_text(ms.div_euclid(DAY_MS)),
        time_text(ms.rem_euclid(DAY_MS))
    )
}

impl Cell {
    /// The cell of a Connect value; maps, lists and structs become JSON.
    pub fn of(v: &Value) -> Cell {
        match v {
            Value::Null => Cell::Null,
            Value::Boolean(b) => Cell::Bool(*b),
            Value::Int8(n) => Cell::Int(i64::from(*n)),
            Value::Int16(n) => Cell::Int(i64::from(*n)),
            Value::Int32(n) => Cell::Int(i64::from(*n)),
            Value::Int64(n) => Cell::Int(*n),
            Value::Float32(f) => Cell::Float(f64::from(*f)),
            Value::Float64(f) => Cell::Float(*f),
            Value::String(s) => Cell::Text(s.clone()),
            Value::Bytes(b) => Cell::Bytes(b.clone()),
            Value::Decimal(d) => Cell::Decimal(*d),
            Value::Date(d) => Cell::Date(*d),
            Value::Time(t) => Cell::Time(*t),
            Value::Timestamp(t) => Cell::Timestamp(*t),
            Value::Array(_) | Value::Map(_) | Value::Struct(_) => Cell::Json(json(v).to_string()),
        }
    }

    /// The text a database parses into the column (`None` for NULL);
    /// PostgreSQL's bytes are `\x` hex.
    pub fn text(&self) -> Option<String> {
        Some(match self {
            Cell::Null => return None,
            Cell::Bool(b) => b.to_string(),
            Cell::Int(n) => n.to_string(),
            Cell::Float(f) if f.is_nan() => "NaN".into(),
            Cell::Float(f) if f.is_infinite() => {
                if *f > 0.0 { "Infinity" } else { "-Infinity" }.into()
            }
            Cell::Float(f) => format!("{f:?}"),
            Cell::Text(s) | Cell::Json(s) => s.clone(),
            Cell::Bytes(b) => {
                let mut s = String::with_capacity(2 + b.len() * 2);
                s.push_str("\\x");
                for x in b {
                    s.push_str(&format!("{x:02x}"));
                }
                s
            }
            Cell::Decimal(d) => d.to_plain_string(),
            Cell::Date(d) => date_text(i64::from(*d)),
            Cell::Time(t) => time_text(i64::from(*t)),
            Cell::Timestamp(t) => timestamp_text(*t),
        })
    }
}

/// A Connect value as JSON (structs and maps as objects, bytes as base64).
pub fn json(v: &Value) -> serde_json::Value {
    use base64::Engine;
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Boolean(b) => J::Bool(*b),
        Value::Int8(n) => J::from(*n),
        Value::Int16(n) => J::from(*n),
        Value::Int32(n) | Value::Date(n) | Value::Time(n) => J::from(*n),
        Value::Int64(n) | Value::Timestamp(n) => J::from(*n),
        Value::Float32(f) => serde_json::Number::from_f64(f64::from(*f)).map_or(J::Null, J::Number),
        Value::Float64(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::String(s) => J::String(s.clone()),
        Value::Bytes(b) => J::String(base64::engine::general_purpose::STANDARD.encode(b)),
        Value::Decimal(d) => J::String(d.to_plain_string()),
        Value::Array(items) => J::Array(items.iter().map(json).collect()),
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| (connect_api::text::value_text(k), json(v)))
                .collect(),
        ),
        Value::Struct(s) => J::Object(
            s.schema
                .fields
                .iter()
                .map(|f| (f.name.clone(), json(s.get(&f.name).unwrap_or(&Value::Null))))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_have_the_text_databases_read() {
        assert_eq!(
            Cell::Timestamp(1_705_322_096_789).text().as_deref(),
            Some("2024-01-15 12:34:56.789")
        );
        assert_eq!(Cell::Date(19_737).text().as_deref(), Some("2024-01-15"));
        assert_eq!(Cell::Bytes(vec![0, 255]).text().as_deref(), Some("\\x00ff"));
        assert_eq!(
            Cell::Decimal(Decimal::new(-1234, 2)).text().as_deref(),
            Some("-12.34")
        );
        assert_eq!(Cell::Float(0.1).text().as_deref(), Some("0.1"));
        assert_eq!(Cell::Null.text(), None);
        assert_eq!(days_from_civil(2024, 1, 15), 19_737);
        assert_eq!(civil(19_737), (2024, 1, 15));
    }
}
