//! Where a record's file goes: Confluent's partitioners (Default, Field,
//! TimeBased and its Hourly and Daily forms) encode a record as the
//! directory under `<topics.dir>/<topic>/`, and the timestamp extractors
//! (Wallclock, Record, RecordField) give the time that time buckets and
//! `rotate.interval.ms` go by.

use connect_api::{SinkRecord, Value};
use jiff::tz::TimeZone;

use crate::zone;

/// How a record's time is found.
#[derive(Debug, Clone, PartialEq)]
pub enum Extractor {
    Wallclock,
    /// The record's Kafka timestamp.
    Record,
    /// A field of the value (a path into nested structs or maps).
    Field(Vec<String>),
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Extractor {
    pub fn is_wallclock(&self) -> bool {
        *self == Extractor::Wallclock
    }

    /// The time of `r`, in ms; the error says why there is none.
    pub fn timestamp(&self, r: &SinkRecord) -> Result<i64, String> {
        match self {
            Extractor::Wallclock => Ok(now_ms()),
            Extractor::Record => r.timestamp.ok_or_else(|| {
                "Unable to determine timestamp using timestamp.extractor Record: the record has no timestamp".to_string()
            }),
            Extractor::Field(path) => {
                let mut v = &r.value.value;
                for name in path {
                    v = field(v, name).ok_or_else(|| {
                        format!("Unable to determine timestamp using timestamp.extractor RecordField: the value has no field {}", path.join("."))
                    })?;
                }
                time_of(v).ok_or_else(|| {
                    format!("Unable to determine timestamp using timestamp.extractor RecordField: field {} holds {}, not a timestamp, a number of ms or an ISO-8601 time", path.join("."), describe(v))
                })
            }
        }
    }
}

/// The field `name` of a struct, or the entry of a map with that key.
pub fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    match v {
        Value::Struct(s) => s.get(name),
        Value::Map(m) => m
            .iter()
            .find(|(k, _)| matches!(k, Value::String(s) if s == name))
            .map(|(_, v)| v),
        _ => None,
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::String(s) => format!("the text {s:?}"),
        other => format!("a {:?}", other.inferred_type()).to_lowercase(),
    }
}

/// Milliseconds of a timestamp, a number of ms, or ISO-8601 text.
fn time_of(v: &Value) -> Option<i64> {
    match v {
        Value::Timestamp(ms) | Value::Int64(ms) => Some(*ms),
        Value::Int32(n) => Some(i64::from(*n)),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(n) = s.parse::<i64>() {
                return Some(n);
            }
            if let Ok(t) = s.parse::<jiff::Timestamp>() {
                return Some(t.as_millisecond());
            }
            if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
                return dt
                    .to_zoned(TimeZone::UTC)
                    .ok()
                    .map(|z| z.timestamp().as_millisecond());
            }
            s.parse::<jiff::civil::Date>()
                .ok()
                .and_then(|d| d.to_zoned(TimeZone::UTC).ok())
                .map(|z| z.timestamp().as_millisecond())
        }
        _ => None,
    }
}

/// One piece of a Joda-style `path.format`.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Literal(String),
    /// A pattern letter and how many times it repeats.
    Field(char, usize),
}

/// A parsed `path.format`.
#[derive(Debug, Clone, PartialEq)]
pub struct PathFormat(Vec<Piece>);

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

impl PathFormat {
    /// Parses Joda's pattern syntax: letters, `'quoted text'`, `''` for a
    /// quote, anything else as it is.
    pub fn parse(pattern: &str) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let chars: Vec<char> = pattern.chars().collect();
        let mut i = 0;
        let mut literal = String::new();
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                if chars.get(i + 1) == Some(&'\'') {
                    literal.push('\'');
                    i += 2;
                    continue;
                }
                // Quoted text, where '' is a quote, up to the closing quote.
                i += 1;
                loop {
                    match (chars.get(i), chars.get(i + 1)) {
                        (None, _) => {
                            return Err(format!("Path format {pattern} has an unclosed quote"))
                        }
                        (Some('\''), Some('\'')) => {
                            literal.push('\'');
                            i += 2;
                        }
                        (Some('\''), _) => {
                            i += 1;
                            break;
                        }
                        (Some(&c), _) => {
                            literal.push(c);
                            i += 1;
                        }
                    }
                }
            } else if c.is_ascii_alphabetic() {
                if !"yYxMdHkhmsSDEa".contains(c) {
                    return Err(format!("Path format {pattern} uses the pattern letter {c}, which is not supported (use y/Y, M, d, D, E, H, k, h, a, m, s, S, and quote text)"));
                }
                let n = chars[i..].iter().take_while(|&&x| x == c).count();
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Field(c, n));
                i += n;
            } else {
                literal.push(c);
                i += 1;
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        Ok(Self(pieces))
    }

    /// The path of the local civil time `local_ms` (ms since the epoch as
    /// if the zone were UTC).
    pub fn format(&self, local_ms: i64) -> String {
        let t = jiff::Timestamp::from_millisecond(local_ms)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned(TimeZone::UTC);
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Piece::Literal(s) => out.push_str(s),
                Piece::Field(c, n) => {
                    let num = |v: i64, out: &mut String| out.push_str(&format!("{v:0w$}", w = *n));
                    match c {
                        'x' => {
                            // Joda's week-year: the ISO 8601 week-numbering year.
                            let y = i64::from(t.date().iso_week_date().year());
                            if *n == 2 {
                                out.push_str(&format!("{:02}", y.rem_euclid(100)));
                            } else {
                                num(y, &mut out);
                            }
                        }
                        'y' | 'Y' if *n == 2 => {
                            out.push_str(&format!("{:02}", i64::from(t.year()).rem_euclid(100)));
                        }
                        'y' | 'Y' => num(i64::from(t.year()), &mut out),
                        'M' if *n >= 4 => out.push_str(MONTHS[(t.month() - 1) as usize]),
                        'M' if *n == 3 => out.push_str(&MONTHS[(t.month() - 1) as usize][..3]),
                        'M' => num(i64::from(t.month()), &mut out),
                        'd' => num(i64::from(t.day()), &mut out),
                        'D' => num(i64::from(t.day_of_year()), &mut out),
                        'H' => num(i64::from(t.hour()), &mut out),
                        'k' => num(
                            if t.hour() == 0 {
                                24
                            } else {
                                i64::from(t.hour())
                            },
                            &mut out,
                        ),
                        'h' => num(
                            match t.hour() % 12 {
                                0 => 12,
                                h => i64::from(h),
                            },
                            &mut out,
                        ),
                        'a' => out.push_str(if t.hour() < 12 { "AM" } else { "PM" }),
                        'm' => num(i64::from(t.minute()), &mut out),
                        's' => num(i64::from(t.second()), &mut out),
                        'S' => {
                            let ms = format!("{:03}", t.millisecond());
                            out.push_str(&format!("{ms:0<w$}", w = *n)[..*n]);
                        }
                        'E' => {
                            let d = DAYS[t.weekday().to_monday_zero_offset() as usize];
                            out.push_str(if *n >= 4 { d } else { &d[..3] });
                        }
                        _ => {}
                    }
                }
            }
        }
        out
    }
}

/// How records are spread over directories.
#[derive(Debug, Clone, PartialEq)]
pub enum Partitioner {
    /// `partition=<kafka partition>`.
    Default,
    /// `<field>=<value>` for each field, joined by `directory.delim`.
    Field(Vec<String>),
    /// The record's time bucket, formatted.
    Time {
        duration_ms: i64,
        format: PathFormat,
    },
}

impl Partitioner {
    /// The directory (under the topic's) of `r`, whose time is `ts`.
    pub fn encode(
        &self,
        r: &SinkRecord,
        ts: Option<i64>,
        zone: &TimeZone,
        delim: &str,
    ) -> Result<String, String> {
        match self {
            Partitioner::Default => Ok(format!("partition={}", r.original_partition)),
            Partitioner::Field(names) => {
                let mut parts = Vec::with_capacity(names.len());
                if !matches!(r.value.value, Value::Struct(_) | Value::Map(_)) {
                    return Err(format!(
                        "FieldPartitioner needs a struct or map value to read {} from",
                        names.join(", ")
                    ));
                }
                for name in names {
                    let v = field(&r.value.value, name)
                        .ok_or_else(|| format!("Field '{name}' is not present in the schema."))?;
                    let text = match v {
                        Value::Null => "null".to_string(),
                        Value::Int8(n) => n.to_string(),
                        Value::Int16(n) => n.to_string(),
                        Value::Int32(n) => n.to_string(),
                        Value::Int64(n) => n.to_string(),
                        Value::String(s) => s.clone(),
                        Value::Boolean(b) => b.to_string(),
                        other => {
                            return Err(format!(
                                "Error encoding partition: field '{name}' holds {}; FieldPartitioner takes integers, strings and booleans",
                                describe(other)
                            ))
                        }
                    };
                    parts.push(format!("{name}={text}"));
                }
                Ok(parts.join(delim))
            }
            Partitioner::Time {
                duration_ms,
                format,
            } => {
                let ts = ts.unwrap_or_else(now_ms);
                let local = ts.saturating_add(zone::offset_ms(zone, ts));
                let bucket = local.div_euclid(*duration_ms) * duration_ms;
                Ok(format.format(bucket))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joda_patterns_format_local_time() {
        let f = PathFormat::parse("'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH").expect("pattern");
        // 2026-03-05T07:08:09.123Z
        let ms = 1_772_694_489_123;
        assert_eq!(f.format(ms), "year=2026/month=03/day=05/hour=07");
        let f = PathFormat::parse("yy-MMM-d H:mm:ss.SSS E 'o''clock'").expect("pattern");
        assert_eq!(f.format(ms), "26-Mar-5 7:08:09.123 Thu o'clock");
        assert!(PathFormat::parse("YYYY/ww").is_err());
        assert!(PathFormat::parse("'year=YYYY").is_err());
    }

    #[test]
    fn time_buckets_follow_the_zone() {
        let p = Partitioner::Time {
            duration_ms: 3_600_000,
            format: PathFormat::parse("YYYY-MM-dd/HH").expect("pattern"),
        };
        let r = SinkRecord::new(
            "t",
            0,
            0,
            connect_api::SchemaAndValue::NULL,
            connect_api::SchemaAndValue::NULL,
            None,
        );
        let seoul = zone::parse("Asia/Seoul").expect("zone");
        // 2026-03-05T23:30:00Z is 08:30 the next day in Seoul.
        let ts = 1_772_753_400_000;
        assert_eq!(
            p.encode(&r, Some(ts), &TimeZone::UTC, "/").as_deref(),
            Ok("2026-03-05/23")
        );
        assert_eq!(
            p.encode(&r, Some(ts), &seoul, "/").as_deref(),
            Ok("2026-03-06/08")
        );
    }
}
