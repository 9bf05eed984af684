//! Text forms Kafka Connect users see: Java's number formatting and
//! `toString` of values (what FileStreamSink writes, what StringConverter
//! produces).

use crate::value::Value;

/// Text of a value as `Object.toString` would give for the common types.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Boolean(b) => b.to_string(),
        Value::Int8(n) => n.to_string(),
        Value::Int16(n) => n.to_string(),
        Value::Int32(n) | Value::Date(n) | Value::Time(n) => n.to_string(),
        Value::Int64(n) | Value::Timestamp(n) => n.to_string(),
        Value::Float32(f) => java_float_text(*f),
        Value::Float64(f) => java_double_text(*f),
        Value::String(s) => s.clone(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Decimal(d) => d.to_plain_string(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(value_text).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Map(entries) => {
            let parts: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}={}", value_text(k), value_text(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Struct(s) => {
            let parts: Vec<String> = s
                .schema
                .fields
                .iter()
                .zip(s.values())
                .map(|(f, v)| format!("{}={}", f.name, value_text(v)))
                .collect();
            format!("Struct{{{}}}", parts.join(","))
        }
    }
}

/// Java's `Double.toString`: plain between 10^-3 and 10^7, else `d.dddE±n`,
/// always with a fractional part; digits are the shortest that round-trip.
pub fn java_double_text(f: f64) -> String {
    java_text(
        f.is_nan(),
        f.is_infinite(),
        f == 0.0,
        f.is_sign_negative(),
        &format!("{:e}", f.abs()),
    )
}

/// Java's `Float.toString` (the same rules, float digits).
pub fn java_float_text(f: f32) -> String {
    java_text(
        f.is_nan(),
        f.is_infinite(),
        f == 0.0,
        f.is_sign_negative(),
        &format!("{:e}", f.abs()),
    )
}

fn java_text(nan: bool, inf: bool, zero: bool, negative: bool, sci: &str) -> String {
    let sign = if negative { "-" } else { "" };
    if nan {
        return "NaN".into();
    }
    if inf {
        return format!("{sign}Infinity");
    }
    if zero {
        return format!("{sign}0.0");
    }
    // `sci` is like "1.2345e-5" or "7e6".
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-3..7).contains(&exp) {
        let point = exp + 1;
        let text = if point <= 0 {
            format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
        } else if (point as usize) >= digits.len() {
            format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
        } else {
            let (a, b) = digits.split_at(point as usize);
            format!("{a}.{b}")
        };
        format!("{sign}{text}")
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { "0" } else { rest };
        format!("{sign}{first}.{rest}E{exp}")
    }
}
