//! PostgreSQL's binary COPY format for a run of rows, which the database
//! reads with less work than CSV (no text to parse for numbers, timestamps
//! and dates).
//!
//! A cell is encoded only when the result is exactly what PostgreSQL would
//! make of the CSV text of the same cell: the column's type is one listed
//! in [`Kind`], and text given for a number, timestamp, date or UUID is in
//! the one plain form parsed here (ISO dates, plain or exponent decimals).
//! For anything else the whole run goes as CSV, so values and errors stay
//! those of PostgreSQL's own parser.

use crate::cell::{days_from_civil, Cell};

/// The column types written in binary, by their `format_type` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int2,
    Int4,
    Int8,
    Float8,
    Numeric,
    /// `text`, `character varying`, `json`: the text as it is.
    Text,
    Jsonb,
    Bool,
    Bytea,
    TimestampTz,
    Timestamp,
    Date,
    Time,
    Uuid,
}

impl Kind {
    /// The kind of a column of this type (as `format_type` names it, with
    /// or without a type modifier), if it is written in binary.
    pub fn of(db_type: &str) -> Option<Kind> {
        // "timestamp(3) with time zone" and "numeric(12,2)" without "(...)".
        let mut base = String::with_capacity(db_type.len());
        let mut depth = 0;
        for c in db_type.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                c if depth == 0 => base.push(c.to_ascii_lowercase()),
                _ => {}
            }
        }
        Some(
            match base
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .as_str()
            {
                "smallint" => Kind::Int2,
                "integer" => Kind::Int4,
                "bigint" => Kind::Int8,
                "double precision" => Kind::Float8,
                "numeric" => Kind::Numeric,
                "text" | "character varying" | "json" => Kind::Text,
                "jsonb" => Kind::Jsonb,
                "boolean" => Kind::Bool,
                "bytea" => Kind::Bytea,
                "timestamp with time zone" => Kind::TimestampTz,
                "timestamp without time zone" => Kind::Timestamp,
                "date" => Kind::Date,
                "time without time zone" => Kind::Time,
                "uuid" => Kind::Uuid,
                _ => return None,
            },
        )
    }
}

/// The header of a binary COPY stream: signature, flags, no extension.
pub const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The end of a binary COPY stream.
pub const TRAILER: &[u8] = &[0xff, 0xff];

/// Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;
const DAY_US: i64 = 86_400_000_000;
const DAY_MS: i64 = 86_400_000;
/// 0001-01-01 and 9999-12-31 as days since 1970-01-01: the years whose
/// text every path writes and reads alike.
const FIRST_DAY: i64 = -719_162;
const LAST_DAY: i64 = 2_932_896;

/// The start of a row of `fields` fields.
pub fn row_start(out: &mut Vec<u8>, fields: usize) -> bool {
    match i16::try_from(fields) {
        Ok(n) => {
            out.extend_from_slice(&n.to_be_bytes());
            true
        }
        Err(_) => false,
    }
}

/// Appends one field: its length and bytes (-1 for NULL). `false` (with
/// `out` in an unspecified state) when the cell is not written in binary
/// into this kind of column. `scratch` is room for text forms.
pub fn field(out: &mut Vec<u8>, kind: Kind, cell: &Cell, scratch: &mut String) -> bool {
    if matches!(cell, Cell::Null) {
        out.extend_from_slice(&(-1i32).to_be_bytes());
        return true;
    }
    match (kind, cell) {
        (Kind::Int2, Cell::Int(n)) => i16::try_from(*n).is_ok_and(|v| bytes(out, &v.to_be_bytes())),
        (Kind::Int4, Cell::Int(n)) => i32::try_from(*n).is_ok_and(|v| bytes(out, &v.to_be_bytes())),
        (Kind::Int8, Cell::Int(n)) => bytes(out, &n.to_be_bytes()),
        (Kind::Float8, Cell::Float(f)) => bytes(out, &f.to_be_bytes()),
        // The CSV text of an integer is parsed to the nearest double, as
        // the conversion rounds.
        #[allow(clippy::cast_precision_loss)]
        (Kind::Float8, Cell::Int(n)) => bytes(out, &(*n as f64).to_be_bytes()),
        (Kind::Numeric, c) => numeric_cell(out, c, scratch),
        (Kind::Text, c) => text_cell(out, c, false),
        (Kind::Jsonb, c) => text_cell(out, c, true),
        (Kind::Bool, Cell::Bool(b)) => bytes(out, &[u8::from(*b)]),
        (Kind::Bytea, Cell::Bytes(b)) => bytes(out, b),
        (Kind::TimestampTz | Kind::Timestamp, Cell::Timestamp(ms)) => {
            (FIRST_DAY * DAY_MS..(LAST_DAY + 1) * DAY_MS).contains(ms)
                && bytes(out, &((ms - PG_EPOCH_DAYS * DAY_MS) * 1000).to_be_bytes())
        }
        (Kind::TimestampTz, Cell::Text(t)) => {
            timestamp(t, true).is_some_and(|us| bytes(out, &us.to_be_bytes()))
        }
        (Kind::Timestamp, Cell::Text(t)) => {
            timestamp(t, false).is_some_and(|us| bytes(out, &us.to_be_bytes()))
        }
        (Kind::Date, Cell::Date(d)) => {
            let d = i64::from(*d);
            (FIRST_DAY..=LAST_DAY).contains(&d) && pg_date(out, d)
        }
        (Kind::Date, Cell::Text(t)) => date(t.as_bytes())
            .filter(|_| t.len() == 10)
            .is_some_and(|d| pg_date(out, d)),
        (Kind::Time, Cell::Time(ms)) => {
            let us = i64::from(*ms).rem_euclid(DAY_MS) * 1000;
            bytes(out, &us.to_be_bytes())
        }
        (Kind::Uuid, Cell::Text(t)) => uuid(t.as_bytes()).is_some_and(|u| bytes(out, &u)),
        _ => false,
    }
}

/// A date (days since 1970-01-01, within [`FIRST_DAY`, `LAST_DAY`]) as
/// PostgreSQL's days since 2000-01-01.
fn pg_date(out: &mut Vec<u8>, days: i64) -> bool {
    bytes(out, &((days - PG_EPOCH_DAYS) as i32).to_be_bytes())
}

fn bytes(out: &mut Vec<u8>, b: &[u8]) -> bool {
    let Ok(n) = i32::try_from(b.len()) else {
        return false;
    };
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(b);
    true
}

/// Text columns get the text CSV would carry; `jsonb` a version byte first.
fn text_cell(out: &mut Vec<u8>, cell: &Cell, jsonb: bool) -> bool {
    let owned;
    let t = match cell {
        Cell::Text(t) | Cell::Json(t) => t.as_str(),
        // Bytes become `\x` hex text, which a text column keeps as it is
        // but a jsonb column would refuse in its own way: CSV decides.
        Cell::Bytes(_) => return false,
        other => match other.text() {
            Some(t) => {
                owned = t;
                owned.as_str()
            }
            None => return false,
        },
    };
    let Ok(n) = i32::try_from(t.len() + usize::from(jsonb)) else {
        return false;
    };
    out.extend_from_slice(&n.to_be_bytes());
    if jsonb {
        out.push(1);
    }
    out.extend_from_slice(t.as_bytes());
    true
}

fn numeric_cell(out: &mut Vec<u8>, cell: &Cell, scratch: &mut String) -> bool {
    use std::fmt::Write as _;
    match cell {
        Cell::Int(n) => {
            let mut b = itoa::Buffer::new();
            numeric_text(out, b.format(*n).as_bytes())
        }
        Cell::Float(f) if f.is_finite() => {
            scratch.clear();
            let _ = write!(scratch, "{f:?}");
            numeric_text(out, scratch.as_bytes())
        }
        Cell::Decimal(d) => {
            let mut b = itoa::Buffer::new();
            let digits = b.format(d.unscaled().unsigned_abs()).as_bytes();
            numeric(out, d.unscaled() < 0, digits, &[], -i64::from(d.scale))
        }
        Cell::Text(t) => numeric_text(out, t.as_bytes()),
        _ => false,
    }
}

/// A decimal in plain or exponent form (`-12.50`, `1e-7`, `.5`), without
/// spaces, `NaN` or infinities (CSV takes those).
fn numeric_text(out: &mut Vec<u8>, t: &[u8]) -> bool {
    let (neg, rest) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (mantissa, exp) = match rest.iter().position(|&b| b == b'e' || b == b'E') {
        Some(i) => {
            let e = &rest[i + 1..];
            let (eneg, ed) = match e.first() {
                Some(b'-') => (true, &e[1..]),
                Some(b'+') => (false, &e[1..]),
                _ => (false, e),
            };
            if ed.is_empty() || ed.len() > 4 || !ed.iter().all(u8::is_ascii_digit) {
                return false;
            }
            let v = ed.iter().fold(0i64, |a, &b| a * 10 + i64::from(b - b'0'));
            (&rest[..i], if eneg { -v } else { v })
        }
        None => (rest, 0),
    };
    let (int, frac) = match mantissa.iter().position(|&b| b == b'.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, &mantissa[..0]),
    };
    if int.len() + frac.len() == 0 || !int.iter().chain(frac).all(u8::is_ascii_digit) {
        return false;
    }
    numeric(out, neg, int, frac, exp)
}

/// The most base-10000 groups written in binary (longer numbers go as CSV).
const MAX_GROUPS: usize = 64;

/// The numeric `int` `frac` × 10^`exp` (ASCII digits on either side of
/// the decimal point): base-10000 groups, weight, sign and display scale as
/// `numeric_recv` reads them.
fn numeric(out: &mut Vec<u8>, neg: bool, int: &[u8], frac: &[u8], exp: i64) -> bool {
    let len = (int.len() + frac.len()) as i64;
    // Where the point falls, counted from the first digit.
    let point = int.len() as i64 + exp;
    let dscale = (len - point).max(0);
    let (hi, lo) = ((point - 1).div_euclid(4), (point - len).div_euclid(4));
    if dscale > 1000 || hi - lo >= MAX_GROUPS as i64 {
        return false;
    }
    let mut groups = [0i16; MAX_GROUPS];
    for (k, &c) in int.iter().chain(frac).enumerate() {
        let e = point - 1 - k as i64;
        let scale = [1, 10, 100, 1000][e.rem_euclid(4) as usize];
        groups[(hi - e.div_euclid(4)) as usize] += i16::from(c - b'0') * scale;
    }
    let groups = &groups[..(hi - lo + 1).max(0) as usize];
    let start = groups.iter().take_while(|&&g| g == 0).count();
    let end = groups.len()
        - groups[start..]
            .iter()
            .rev()
            .take_while(|&&g| g == 0)
            .count();
    let body = &groups[start..end];
    let (weight, sign) = if body.is_empty() {
        (0, 0u16)
    } else {
        (hi - start as i64, if neg { 0x4000 } else { 0 })
    };
    let (Ok(n), Ok(weight)) = (i16::try_from(body.len()), i16::try_from(weight)) else {
        return false;
    };
    out.extend_from_slice(&(8 + 2 * i32::from(n)).to_be_bytes());
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(&weight.to_be_bytes());
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&(dscale as u16).to_be_bytes());
    for g in body {
        out.extend_from_slice(&g.to_be_bytes());
    }
    true
}

fn num(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0i64, |a, &d| a * 10 + i64::from(d - b'0')))
}

/// `YYYY-MM-DD` at the start of `t`: days since 1970-01-01.
fn date(t: &[u8]) -> Option<i64> {
    if t.len() < 10 || t[4] != b'-' || t[7] != b'-' {
        return None;
    }
    let (y, m, d) = (num(&t[..4])?, num(&t[5..7])?, num(&t[8..10])?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if y < 1 || !(1..=12).contains(&m) || d < 1 || d > days_in[(m - 1) as usize] {
        return None;
    }
    Some(days_from_civil(y, m as u32, d as u32))
}

/// `YYYY-MM-DD HH:MM[:SS[.ffffff]][Z|±HH[[:]MM]]` (or `T` between):
/// microseconds since 2000-01-01 (in UTC when `zoned`, where a missing
/// offset is the session's UTC; a `timestamp` column ignores the offset,
/// as PostgreSQL does).
fn timestamp(t: &str, zoned: bool) -> Option<i64> {
    let b = t.as_bytes();
    let days = date(b)?;
    if b.len() < 16 || !matches!(b[10], b' ' | b'T') || b[13] != b':' {
        return None;
    }
    let (h, mi) = (num(&b[11..13])?, num(&b[14..16])?);
    let mut i = 16;
    let mut s = 0;
    let mut us = 0;
    if b.get(i) == Some(&b':') {
        s = num(b.get(i + 1..i + 3)?)?;
        i += 3;
        if b.get(i) == Some(&b'.') {
            let f = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if f == 0 || f > 6 {
                return None;
            }
            us = num(&b[i + 1..i + 1 + f])? * 10i64.pow(6 - f as u32);
            i += 1 + f;
        }
    }
    if h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let offset = match &b[i..] {
        [] => 0,
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (oh, om) = match rest {
                [a, b] => (num(&[*a, *b])?, 0),
                [a, b, c, d] => (num(&[*a, *b])?, num(&[*c, *d])?),
                [a, b, b':', c, d] => (num(&[*a, *b])?, num(&[*c, *d])?),
                _ => return None,
            };
            if oh > 15 || om > 59 {
                return None;
            }
            let o = (oh * 3600 + om * 60) * 1_000_000;
            if *sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    let local = (days - PG_EPOCH_DAYS) * DAY_US + ((h * 60 + mi) * 60 + s) * 1_000_000 + us;
    Some(if zoned { local - offset } else { local })
}

/// A UUID in its usual form, `8-4-4-4-12` hex digits.
fn uuid(t: &[u8]) -> Option<[u8; 16]> {
    if t.len() != 36 || [8, 13, 18, 23].iter().any(|&i| t[i] != b'-') {
        return None;
    }
    let mut out = [0u8; 16];
    let mut hex = t.iter().filter(|&&c| c != b'-');
    for o in &mut out {
        let hi = (*hex.next()? as char).to_digit(16)?;
        let lo = (*hex.next()? as char).to_digit(16)?;
        *o = (hi * 16 + lo) as u8;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(kind: Kind, cell: Cell) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        field(&mut out, kind, &cell, &mut String::new()).then_some(out)
    }

    /// (ndigits, weight, sign, dscale, digits) of an encoded numeric.
    fn parts(b: &[u8]) -> (i16, i16, u16, u16, Vec<i16>) {
        let i = |k: usize| i16::from_be_bytes([b[4 + k], b[5 + k]]);
        let n = i(0);
        let digits = (0..n as usize).map(|k| i(8 + 2 * k)).collect();
        (n, i(2), i(4) as u16, i(6) as u16, digits)
    }

    #[test]
    fn numerics_in_base_ten_thousand() {
        let t = |s: &str| parts(&enc(Kind::Numeric, Cell::Text(s.into())).expect(s));
        assert_eq!(t("12.34"), (2, 0, 0, 2, vec![12, 3400]));
        assert_eq!(t("-123456.7"), (3, 1, 0x4000, 1, vec![12, 3456, 7000]));
        assert_eq!(t("0.00012"), (2, -1, 0, 5, vec![1, 2000]));
        assert_eq!(t("1e-7"), (1, -2, 0, 7, vec![10]));
        assert_eq!(t("1.5e3"), (1, 0, 0, 0, vec![1500]));
        assert_eq!(t("10000"), (1, 1, 0, 0, vec![1]));
        assert_eq!(t("-0.00"), (0, 0, 0, 2, vec![]));
        assert_eq!(t(".5"), (1, -1, 0, 1, vec![5000]));
        assert_eq!(t("007"), (1, 0, 0, 0, vec![7]));
        let f = parts(&enc(Kind::Numeric, Cell::Float(0.1)).expect("float"));
        assert_eq!(f, (1, -1, 0, 1, vec![1000]));
        let d = parts(
            &enc(
                Kind::Numeric,
                Cell::Decimal(connect_api::Decimal::new(-12345, 2)),
            )
            .expect("decimal"),
        );
        assert_eq!(d, (2, 0, 0x4000, 2, vec![123, 4500]));
        let i = parts(&enc(Kind::Numeric, Cell::Int(-20000)).expect("int"));
        assert_eq!(i, (1, 1, 0x4000, 0, vec![2]));
        for bad in [
            "", "-", ".", "1.2.3", "1e", "NaN", " 1", "1 ", "1e99999", "0x10",
        ] {
            assert!(
                enc(Kind::Numeric, Cell::Text(bad.into())).is_none(),
                "{bad}"
            );
        }
        assert!(enc(Kind::Numeric, Cell::Float(f64::NAN)).is_none());
    }

    #[test]
    fn timestamps_from_text_as_postgresql_reads_them() {
        let us = |s: &str, zoned| timestamp(s, zoned);
        // 2000-01-01 00:00:00 UTC is PostgreSQL's zero.
        assert_eq!(us("2000-01-01 00:00:00", true), Some(0));
        assert_eq!(us("2000-01-01T00:00:00Z", true), Some(0));
        assert_eq!(us("2000-01-01 01:00:00+01", true), Some(0));
        assert_eq!(us("2000-01-01 01:30:00+01:30", true), Some(0));
        assert_eq!(us("1999-12-31 19:00-0500", true), Some(0));
        // Without a zone the offset is ignored.
        assert_eq!(us("2000-01-01 01:00:00+01", false), Some(3_600_000_000));
        assert_eq!(us("2000-01-01 00:00:00.5", true), Some(500_000));
        assert_eq!(us("2000-01-01 00:00:00.000001", true), Some(1));
        assert_eq!(
            us("1970-01-01 00:00:00", true),
            Some(-PG_EPOCH_DAYS * DAY_US)
        );
        for bad in [
            "2000-01-01",
            "2000-02-30 00:00:00",
            "2000-01-01 24:00:00",
            "2000-01-01 00:00:60",
            "2000-01-01 00:00:00.1234567",
            "2000-01-01 00:00:00 UTC",
            "2000-01-01 00:00:00+1",
            "epoch",
            "infinity",
            "01/02/2000 00:00:00",
        ] {
            assert_eq!(us(bad, true), None, "{bad}");
        }
        let cell = Cell::Timestamp(946_684_800_123);
        assert_eq!(
            enc(Kind::TimestampTz, cell),
            Some([&8i32.to_be_bytes()[..], &123_000i64.to_be_bytes()].concat())
        );
        assert!(enc(Kind::Timestamp, Cell::Timestamp(i64::MAX)).is_none());
    }

    #[test]
    fn kinds_by_type_name() {
        assert_eq!(Kind::of("numeric(12,2)"), Some(Kind::Numeric));
        assert_eq!(
            Kind::of("timestamp(3) with time zone"),
            Some(Kind::TimestampTz)
        );
        assert_eq!(
            Kind::of("timestamp without time zone"),
            Some(Kind::Timestamp)
        );
        assert_eq!(Kind::of("character varying(20)"), Some(Kind::Text));
        assert_eq!(Kind::of("integer[]"), None);
        assert_eq!(Kind::of("real"), None);
        assert_eq!(Kind::of("character(3)"), None);
    }

    #[test]
    fn other_cells() {
        assert_eq!(enc(Kind::Int4, Cell::Int(1 << 40)), None);
        assert_eq!(
            enc(Kind::Int2, Cell::Int(-2)),
            Some(vec![0, 0, 0, 2, 0xff, 0xfe])
        );
        assert_eq!(
            enc(Kind::Text, Cell::Int(42)),
            Some(vec![0, 0, 0, 2, b'4', b'2'])
        );
        assert_eq!(
            enc(Kind::Jsonb, Cell::Json("{}".into())),
            Some(vec![0, 0, 0, 3, 1, b'{', b'}'])
        );
        assert_eq!(enc(Kind::Text, Cell::Null), Some(vec![0xff; 4]));
        assert_eq!(enc(Kind::Bool, Cell::Text("t".into())), None);
        assert_eq!(
            enc(Kind::Date, Cell::Text("2000-01-02".into())),
            Some(vec![0, 0, 0, 4, 0, 0, 0, 1])
        );
        assert_eq!(enc(Kind::Date, Cell::Text("2000-01-02 10:00".into())), None);
        let u = enc(
            Kind::Uuid,
            Cell::Text("123e4567-E89B-12d3-a456-426614174000".into()),
        )
        .expect("uuid");
        assert_eq!(&u[4..8], &[0x12, 0x3e, 0x45, 0x67]);
        assert_eq!(
            enc(
                Kind::Uuid,
                Cell::Text("{123e4567-e89b-12d3-a456-426614174000}".into())
            ),
            None
        );
    }
}
