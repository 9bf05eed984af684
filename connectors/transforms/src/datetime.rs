//! Dates in UTC without a calendar library: days since the epoch to a civil
//! date and back, and the subset of Java's `SimpleDateFormat` patterns that
//! Kafka's TimestampConverter and TimestampRouter users write (`yyyy`, `MM`,
//! `dd`, `HH`, `mm`, `ss`, `SSS`, quoted literals, `Z`/`X` zones, ...).

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

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
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
];

/// Java's week-based year (`Y`) with the default US week: weeks start on
/// Sunday, and the week holding January 1st is the first of its year, so
/// the last days of December may belong to the next year.
fn week_year(days: i64, y: i64) -> i64 {
    // 1970-01-01 was a Thursday: (days + 4) mod 7 is 0 on Sundays.
    let sunday = days - (days + 4).rem_euclid(7);
    if sunday + 6 >= days_from_civil(y + 1, 1, 1) {
        y + 1
    } else {
        y
    }
}

/// Java's reading of a two-digit year: the year within 80 years before
/// and 20 years after now.
fn two_digit_year(yy: i64) -> i64 {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0));
    let (now_year, _, _) = civil_from_days(now_ms.div_euclid(DAY_MS));
    let mut y = now_year - now_year.rem_euclid(100) + yy;
    if y > now_year + 20 {
        y -= 100;
    } else if y <= now_year - 80 {
        y += 100;
    }
    y
}

/// One element of a parsed pattern.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    /// A pattern letter repeated `n` times.
    Field(char, usize),
}

/// A `SimpleDateFormat` pattern, always in UTC.
#[derive(Debug, Clone, PartialEq)]
pub struct DateFormat {
    pattern: String,
    parts: Vec<Part>,
}

const LETTERS: &str = "GyYMLwWDdFEuaHkKhmsSzZX";

impl DateFormat {
    /// Parses a pattern; the error says what is wrong with it, as Java's
    /// `IllegalArgumentException` does.
    pub fn new(pattern: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let chars: Vec<char> = pattern.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                // '' is a quote; 'text' is literal text.
                if chars.get(i + 1) == Some(&'\'') {
                    parts.push(Part::Literal("'".into()));
                    i += 2;
                    continue;
                }
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(format!("Unterminated quote in pattern {pattern}")),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            text.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            text.push(ch);
                            i += 1;
                        }
                    }
                }
                parts.push(Part::Literal(text));
            } else if c.is_ascii_alphabetic() {
                if !LETTERS.contains(c) {
                    return Err(format!("Illegal pattern character '{c}'"));
                }
                let mut n = 1;
                while chars.get(i + n) == Some(&c) {
                    n += 1;
                }
                parts.push(Part::Field(c, n));
                i += n;
            } else {
                parts.push(Part::Literal(c.to_string()));
                i += 1;
            }
        }
        Ok(Self {
            pattern: pattern.to_string(),
            parts,
        })
    }

    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Formats milliseconds since the epoch (UTC).
    pub fn format(&self, epoch_ms: i64) -> String {
        let days = epoch_ms.div_euclid(DAY_MS);
        let ms_of_day = epoch_ms.rem_euclid(DAY_MS);
        let (y, mo, d) = civil_from_days(days);
        let (h, mi, s, ms) = (
            ms_of_day / 3_600_000,
            ms_of_day / 60_000 % 60,
            ms_of_day / 1000 % 60,
            ms_of_day % 1000,
        );
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Literal(t) => out.push_str(t),
                Part::Field(c, n) => {
                    let n = *n;
                    let num = |out: &mut String, v: i64| out.push_str(&format!("{v:0n$}"));
                    match c {
                        'G' => out.push_str(if y > 0 { "AD" } else { "BC" }),
                        'y' if n == 2 => num(&mut out, y.rem_euclid(100)),
                        'y' => num(&mut out, y),
                        'Y' => {
                            let wy = week_year(days, y);
                            num(&mut out, if n == 2 { wy.rem_euclid(100) } else { wy })
                        }
                        'M' | 'L' if n >= 4 => out.push_str(MONTHS[mo as usize - 1]),
                        'M' | 'L' if n == 3 => out.push_str(&MONTHS[mo as usize - 1][..3]),
                        'M' | 'L' => num(&mut out, i64::from(mo)),
                        'd' => num(&mut out, i64::from(d)),
                        'D' => num(&mut out, days - days_from_civil(y, 1, 1) + 1),
                        'E' => {
                            let name = DAYS[days.rem_euclid(7) as usize];
                            out.push_str(if n >= 4 { name } else { &name[..3] });
                        }
                        'u' => num(&mut out, (days + 3).rem_euclid(7) + 1),
                        'a' => out.push_str(if h < 12 { "AM" } else { "PM" }),
                        'H' => num(&mut out, h),
                        'k' => num(&mut out, if h == 0 { 24 } else { h }),
                        'K' => num(&mut out, h % 12),
                        'h' => num(&mut out, if h % 12 == 0 { 12 } else { h % 12 }),
                        'm' => num(&mut out, mi),
                        's' => num(&mut out, s),
                        'S' => num(&mut out, ms),
                        'z' => out.push_str(if n >= 4 {
                            "Coordinated Universal Time"
                        } else {
                            "UTC"
                        }),
                        'Z' => out.push_str("+0000"),
                        'X' => out.push('Z'),
                        // w, W, F: week fields, rare in topic and field formats.
                        _ => num(&mut out, 0),
                    }
                }
            }
        }
        out
    }

    /// Parses text written in this pattern to milliseconds since the epoch
    /// (UTC unless the text carries a zone offset).
    pub fn parse(&self, text: &str) -> Result<i64, String> {
        let bad = || format!("Unparseable date: \"{text}\"");
        let b = text.as_bytes();
        let mut pos = 0usize;
        let (mut y, mut mo, mut d) = (1970i64, 1u32, 1u32);
        let (mut h, mut mi, mut s, mut ms) = (0i64, 0i64, 0i64, 0i64);
        let mut pm: Option<bool> = None;
        let mut offset_min = 0i64;
        for (idx, p) in self.parts.iter().enumerate() {
            match p {
                Part::Literal(t) => {
                    if !text.get(pos..).is_some_and(|r| r.starts_with(t.as_str())) {
                        return Err(bad());
                    }
                    pos += t.len();
                }
                Part::Field(c, n) => {
                    // A number field followed directly by another number
                    // field takes exactly its width; otherwise all digits.
                    let next_is_number = matches!(
                        self.parts.get(idx + 1),
                        Some(Part::Field(nc, _)) if !matches!(nc, 'E' | 'a' | 'z' | 'Z' | 'X' | 'G')
                    );
                    let number = |pos: &mut usize| -> Result<i64, String> {
                        let start = *pos;
                        let neg = b.get(*pos) == Some(&b'-') && matches!(c, 'y' | 'Y');
                        if neg {
                            *pos += 1;
                        }
                        // At most 9 digits: no field of a date needs more,
                        // and the arithmetic below cannot overflow.
                        let limit = if next_is_number {
                            start + *n
                        } else {
                            start + 9
                        };
                        while *pos < b.len().min(limit.max(start + 1)) && b[*pos].is_ascii_digit() {
                            *pos += 1;
                        }
                        text.get(start..*pos)
                            .and_then(|t| t.parse::<i64>().ok())
                            .ok_or_else(bad)
                    };
                    match c {
                        'y' | 'Y' => {
                            y = number(&mut pos)?;
                            if *n <= 2 && (0..100).contains(&y) {
                                y = two_digit_year(y);
                            }
                        }
                        'M' | 'L' if *n >= 3 => {
                            let rest = text.get(pos..).ok_or_else(bad)?;
                            let found = MONTHS.iter().position(|m| {
                                rest.starts_with(m) || (*n == 3 && rest.starts_with(&m[..3]))
                            });
                            let i = found.ok_or_else(bad)?;
                            pos += if rest.starts_with(MONTHS[i]) && *n >= 4 {
                                MONTHS[i].len()
                            } else {
                                3
                            };
                            mo = i as u32 + 1;
                        }
                        'M' | 'L' => mo = u32::try_from(number(&mut pos)?).map_err(|_| bad())?,
                        'd' => d = u32::try_from(number(&mut pos)?).map_err(|_| bad())?,
                        'H' | 'k' => h = number(&mut pos)? % 24,
                        'h' | 'K' => h = number(&mut pos)? % 12,
                        'm' => mi = number(&mut pos)?,
                        's' => s = number(&mut pos)?,
                        'S' => ms = number(&mut pos)?,
                        'a' => {
                            let rest = text.get(pos..).ok_or_else(bad)?;
                            pm = Some(if rest.starts_with("PM") {
                                true
                            } else if rest.starts_with("AM") {
                                false
                            } else {
                                return Err(bad());
                            });
                            pos += 2;
                        }
                        'E' => {
                            let rest = text.get(pos..).ok_or_else(bad)?;
                            let name = DAYS
                                .iter()
                                .find(|dn| rest.starts_with(*dn) || rest.starts_with(&dn[..3]))
                                .ok_or_else(bad)?;
                            pos += if rest.starts_with(name) {
                                name.len()
                            } else {
                                3
                            };
                        }
                        'z' => {
                            let rest = text.get(pos..).ok_or_else(bad)?;
                            let len = ["Coordinated Universal Time", "UTC", "GMT"]
                                .iter()
                                .find(|z| rest.starts_with(*z))
                                .map(|z| z.len())
                                .ok_or_else(bad)?;
                            pos += len;
                        }
                        'Z' | 'X' => {
                            let rest = &b[pos.min(b.len())..];
                            if rest.first() == Some(&b'Z') {
                                pos += 1;
                            } else {
                                let sign = match rest.first() {
                                    Some(b'+') => 1,
                                    Some(b'-') => -1,
                                    _ => return Err(bad()),
                                };
                                let digits: Vec<i64> = rest[1..]
                                    .iter()
                                    .take(5)
                                    .filter(|c| **c != b':')
                                    .take_while(|c| c.is_ascii_digit())
                                    .map(|c| i64::from(c - b'0'))
                                    .collect();
                                let used = rest[1..]
                                    .iter()
                                    .take_while(|c| c.is_ascii_digit() || **c == b':')
                                    .count()
                                    .min(5);
                                let (hh, mm) = match digits.len() {
                                    2 => (digits[0] * 10 + digits[1], 0),
                                    4 => (digits[0] * 10 + digits[1], digits[2] * 10 + digits[3]),
                                    _ => return Err(bad()),
                                };
                                offset_min = sign * (hh * 60 + mm);
                                pos += 1 + used;
                            }
                        }
                        _ => {
                            number(&mut pos)?;
                        }
                    }
                }
            }
            if pos > text.len() {
                return Err(bad());
            }
        }
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
            return Err(bad());
        }
        if pm == Some(true) {
            h += 12;
        }
        let days = days_from_civil(y, mo, d);
        days.checked_mul(DAY_MS)
            .and_then(|t| t.checked_add(h * 3_600_000 + mi * 60_000 + s * 1000 + ms))
            .and_then(|t| t.checked_sub(offset_min * 60_000))
            .ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        for days in [-719_468, -1, 0, 1, 59, 10_957, 19_723, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
    }

    #[test]
    fn formats_and_parses_like_simple_date_format_in_utc() {
        let f = DateFormat::new("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").expect("pattern");
        // 2017-05-02T12:34:56.789Z
        let t = 1_493_728_496_789;
        assert_eq!(f.format(t), "2017-05-02T12:34:56.789Z");
        assert_eq!(f.parse("2017-05-02T12:34:56.789Z"), Ok(t));
        let g = DateFormat::new("yyyyMMdd").expect("pattern");
        assert_eq!(g.format(t), "20170502");
        assert_eq!(g.parse("20170502"), Ok(1_493_683_200_000));
        let z = DateFormat::new("yyyy-MM-dd HH:mm:ssZ").expect("pattern");
        assert_eq!(z.parse("2017-05-02 14:34:56+0200"), Ok(t - 789));
        let named = DateFormat::new("EEE, d MMM yyyy hh:mm a").expect("pattern");
        assert_eq!(named.format(t), "Tue, 2 May 2017 12:34 PM");
        assert_eq!(f.format(-1), "1969-12-31T23:59:59.999Z");
        // 2018-12-31, a Monday, is in the week of 2019-01-01.
        let week = DateFormat::new("YYYY-ww").expect("pattern");
        assert!(week.format(1_546_214_400_000).starts_with("2019"));
        assert!(week.format(1_546_041_600_000).starts_with("2018"));
        assert!(f.parse("2017-05-02").is_err());
        assert!(DateFormat::new("yyyy-qq").is_err());
        assert!(DateFormat::new("'open").is_err());
    }
}
