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

/// Connect's reading of header text and literals (`Values.parseString`
/// for scalars): `true`/`false`; `null`; numbers as the smallest integer
/// type that holds an integral value (`1.0` is INT8 1), else FLOAT32 or
/// FLOAT64; ISO dates, times and timestamps in Connect's text forms by their
/// length; anything else (lists and maps included) as the string itself.
pub fn parse_string(text: &str) -> crate::record::SchemaAndValue {
    use crate::record::SchemaAndValue;
    use crate::schema::Schema;
    use std::sync::Arc;
    let typed = |s: Schema, v: Value| SchemaAndValue::new(Some(Arc::new(s)), v);
    match text {
        "true" => return typed(Schema::boolean(), Value::Boolean(true)),
        "false" => return typed(Schema::boolean(), Value::Boolean(false)),
        "null" => return SchemaAndValue::NULL,
        _ => {}
    }
    let first = text.chars().next();
    if matches!(first, Some('[' | '{')) {
        let mut p = Embedded {
            s: text.as_bytes(),
            pos: 0,
            depth: 0,
        };
        if let Some(v) = p.value().filter(|_| p.at_end()) {
            return v;
        }
    }
    if first.is_some_and(|c| c.is_ascii_digit() || c == '+' || c == '-') {
        if let Some(t) = parse_temporal(text) {
            return t;
        }
        if let Some(n) = parse_number(text) {
            return n;
        }
    }
    typed(Schema::string(), Value::String(text.to_string()))
}

fn parse_number(text: &str) -> Option<crate::record::SchemaAndValue> {
    use crate::record::SchemaAndValue;
    use crate::schema::Schema;
    use std::sync::Arc;
    let typed = |s: Schema, v: Value| Some(SchemaAndValue::new(Some(Arc::new(s)), v));
    if !text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'))
    {
        return None;
    }
    let integral_text = !text.contains(['.', 'e', 'E']);
    let exact = if integral_text {
        text.parse::<i64>().ok()
    } else {
        None
    };
    if integral_text && exact.is_none() {
        // Beyond a long: a Decimal of scale 0, as Connect reads it.
        let d = crate::value::Decimal::parse(text).ok()?;
        return typed(Schema::decimal(0), Value::Decimal(d));
    }
    let f: f64 = text.parse().ok()?;
    if exact.is_some() || (f.is_finite() && f.fract() == 0.0 && f.abs() < 9.2e18) {
        let n = exact.unwrap_or(f as i64);
        return if let Ok(x) = i8::try_from(n) {
            typed(Schema::int8(), Value::Int8(x))
        } else if let Ok(x) = i16::try_from(n) {
            typed(Schema::int16(), Value::Int16(x))
        } else if let Ok(x) = i32::try_from(n) {
            typed(Schema::int32(), Value::Int32(x))
        } else {
            typed(Schema::int64(), Value::Int64(n))
        };
    }
    let single = f as f32;
    if single.is_finite() && f.is_finite() && f.fract() != 0.0 {
        return typed(Schema::float32(), Value::Float32(single));
    }
    f.is_finite()
        .then(|| SchemaAndValue::new(Some(Arc::new(Schema::float64())), Value::Float64(f)))
}

/// Lists and maps in header text (`[1, 2]`, `{"a": 1}`): embedded strings
/// are quoted; numbers of one list or map side share the widest type. A
/// null element, mixed kinds or an empty list leave the text a string.
struct Embedded<'a> {
    s: &'a [u8],
    pos: usize,
    /// Values open around the current position.
    depth: usize,
}

/// Deeper nesting is read as a plain string (a header is outside input).
const MAX_DEPTH: usize = 32;

impl Embedded<'_> {
    fn skip_ws(&mut self) {
        while self
            .s
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_whitespace())
        {
            self.pos += 1;
        }
    }

    fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.pos == self.s.len()
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.s.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Option<crate::record::SchemaAndValue> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let v = self.nested_value();
        self.depth -= 1;
        v
    }

    fn nested_value(&mut self) -> Option<crate::record::SchemaAndValue> {
        use crate::record::SchemaAndValue;
        use crate::schema::Schema;
        use std::sync::Arc;
        self.skip_ws();
        match *self.s.get(self.pos)? {
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value()?);
                        if self.eat(b']') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                let (schema, values) = common(items)?;
                Some(SchemaAndValue::new(
                    Some(Arc::new(Schema::array(schema))),
                    Value::Array(values),
                ))
            }
            b'{' => {
                self.pos += 1;
                let (mut keys, mut values) = (Vec::new(), Vec::new());
                if !self.eat(b'}') {
                    loop {
                        keys.push(self.value()?);
                        if !self.eat(b':') {
                            return None;
                        }
                        values.push(self.value()?);
                        if self.eat(b'}') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                let (ks, kv) = common(keys)?;
                let (vs, vv) = common(values)?;
                Some(SchemaAndValue::new(
                    Some(Arc::new(Schema::map(ks, vs))),
                    Value::Map(kv.into_iter().zip(vv).collect()),
                ))
            }
            b'"' => {
                self.pos += 1;
                let mut out = Vec::new();
                loop {
                    match *self.s.get(self.pos)? {
                        b'"' => break,
                        b'\\' => {
                            self.pos += 1;
                            out.push(*self.s.get(self.pos)?);
                        }
                        c => out.push(c),
                    }
                    self.pos += 1;
                }
                self.pos += 1;
                let text = String::from_utf8(out).ok()?;
                Some(SchemaAndValue::new(
                    Some(Arc::new(Schema::string())),
                    Value::String(text),
                ))
            }
            _ => {
                let start = self.pos;
                while self
                    .s
                    .get(self.pos)
                    .is_some_and(|c| !b",:[]{}\"".contains(c) && !c.is_ascii_whitespace())
                {
                    self.pos += 1;
                }
                let token = std::str::from_utf8(&self.s[start..self.pos]).ok()?;
                match token {
                    "true" | "false" => Some(parse_string(token)),
                    // A null element leaves the whole text a string, as in Connect.
                    _ => parse_number(token),
                }
            }
        }
    }
}

/// The one schema of a list's elements (numbers widened to the widest of
/// them), with the values converted to it.
fn common(
    items: Vec<crate::record::SchemaAndValue>,
) -> Option<(crate::schema::Schema, Vec<Value>)> {
    use crate::schema::Type;
    let first = items.first()?.schema.clone()?;
    let rank = |t: Type| match t {
        Type::Int8 => Some(0),
        Type::Int16 => Some(1),
        Type::Int32 => Some(2),
        Type::Int64 => Some(3),
        Type::Float32 => Some(4),
        Type::Float64 => Some(5),
        _ => None,
    };
    let mut widest = first.clone();
    for i in &items {
        let s = i.schema.as_ref()?;
        match (rank(s.kind), rank(widest.kind)) {
            (Some(a), Some(b)) if a > b => widest = s.clone(),
            (Some(_), Some(_)) => {}
            _ if **s == *widest => {}
            _ => return None,
        }
    }
    let values = items
        .into_iter()
        .map(|i| widen(i.value, widest.kind))
        .collect();
    Some(((*widest).clone(), values))
}

fn widen(v: Value, to: crate::schema::Type) -> Value {
    use crate::schema::Type;
    let f = match &v {
        Value::Int8(n) => f64::from(*n),
        Value::Int16(n) => f64::from(*n),
        Value::Int32(n) => f64::from(*n),
        Value::Int64(n) => *n as f64,
        Value::Float32(n) => f64::from(*n),
        _ => return v,
    };
    let i = match &v {
        Value::Int8(n) => i64::from(*n),
        Value::Int16(n) => i64::from(*n),
        Value::Int32(n) => i64::from(*n),
        Value::Int64(n) => *n,
        _ => f as i64,
    };
    match to {
        Type::Int16 => Value::Int16(i as i16),
        Type::Int32 => Value::Int32(i as i32),
        Type::Int64 => Value::Int64(i),
        Type::Float32 => Value::Float32(f as f32),
        Type::Float64 => Value::Float64(f),
        _ => v,
    }
}

/// `yyyy-MM-dd`, `HH:mm:ss.SSS'Z'` and `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` (UTC).
fn parse_temporal(text: &str) -> Option<crate::record::SchemaAndValue> {
    use crate::record::SchemaAndValue;
    use crate::schema::Schema;
    use std::sync::Arc;
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let date = |off: usize| -> Option<i64> {
        (b.get(off + 4) == Some(&b'-') && b.get(off + 7) == Some(&b'-')).then_some(())?;
        let (y, m, d) = (
            num(off..off + 4)?,
            num(off + 5..off + 7)?,
            num(off + 8..off + 10)?,
        );
        ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| days_from_civil(y, m, d))
    };
    let time = |off: usize| -> Option<i64> {
        (b.get(off + 2) == Some(&b':')
            && b.get(off + 5) == Some(&b':')
            && b.get(off + 8) == Some(&b'.')
            && b.get(off + 12) == Some(&b'Z'))
        .then_some(())?;
        let (h, mi, s, ms) = (
            num(off..off + 2)?,
            num(off + 3..off + 5)?,
            num(off + 6..off + 8)?,
            num(off + 9..off + 12)?,
        );
        Some(((h * 60 + mi) * 60 + s) * 1000 + ms)
    };
    match b.len() {
        10 => Some(SchemaAndValue::new(
            Some(Arc::new(Schema::date())),
            Value::Date(i32::try_from(date(0)?).ok()?),
        )),
        13 => Some(SchemaAndValue::new(
            Some(Arc::new(Schema::time())),
            Value::Time(i32::try_from(time(0)?).ok()?),
        )),
        24 if b[10] == b'T' => Some(SchemaAndValue::new(
            Some(Arc::new(Schema::timestamp())),
            Value::Timestamp(date(0)? * 86_400_000 + time(11)?),
        )),
        _ => None,
    }
}

/// The civil date (year, month, day) of a day counted from 1970-01-01
/// (Howard Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    #[test]
    fn literals_are_typed_as_connect_reads_them() {
        let v = |s: &str| parse_string(s).value;
        assert_eq!(v("42"), Value::Int8(42));
        assert_eq!(v("1.0"), Value::Int8(1));
        assert_eq!(v("1000"), Value::Int16(1000));
        assert_eq!(v("3000000000"), Value::Int64(3_000_000_000));
        assert_eq!(v("2.25"), Value::Float32(2.25));
        assert_eq!(v("true"), Value::Boolean(true));
        assert_eq!(v("TRUE"), Value::String("TRUE".into()));
        assert_eq!(v("null"), Value::Null);
        assert_eq!(v("2024-01-15"), Value::Date(19_737));
        assert_eq!(v("12:34:56.789Z"), Value::Time(45_296_789));
        assert_eq!(
            v("2024-01-15T12:34:56.789Z"),
            Value::Timestamp(1_705_322_096_789)
        );
        assert_eq!(v("hello"), Value::String("hello".into()));
        assert_eq!(
            v("1234567890123456789"),
            Value::Int64(1_234_567_890_123_456_789)
        );
        assert_eq!(
            v("12345678901234567890"),
            Value::Decimal(crate::value::Decimal::new(12_345_678_901_234_567_890, 0))
        );
        let deep = "[".repeat(100_000);
        assert_eq!(
            v(&deep),
            Value::String(deep.clone()),
            "deep nesting stays text"
        );
        assert_eq!(
            v("[-3, 0, 1000]"),
            Value::Array(vec![Value::Int16(-3), Value::Int16(0), Value::Int16(1000)])
        );
    }
}
