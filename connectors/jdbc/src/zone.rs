//! `db.timezone`: the zone of date-times a database keeps without one
//! (PostgreSQL's `timestamp without time zone`, MySQL's `DATETIME`, SQLite's
//! text). The connectors hold instants; such a column holds the wall-clock
//! time of an instant in this zone. Columns that carry their zone
//! (`timestamptz`, MySQL's `TIMESTAMP` in the UTC session) are read and
//! written in UTC whatever the setting. Dates and times of day are not
//! shifted (Confluent's connector moves dates by a day west of UTC).
//!
//! A wall-clock time is written here as the epoch milliseconds (and
//! nanoseconds within the second) it would be in UTC, so the text forms in
//! `cell` serve both.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::cell::civil;
use crate::dialect::Dialect;

/// A time zone, or UTC.
#[derive(Debug, Clone, Default)]
pub struct Zone(Option<TimeZone>);

impl Zone {
    /// A zone by its IANA name (`Asia/Seoul`); the names of UTC are UTC.
    pub fn parse(name: &str) -> Result<Zone, String> {
        if matches!(
            name,
            "UTC" | "Etc/UTC" | "GMT" | "Etc/GMT" | "Z" | "UCT" | "Zulu"
        ) {
            return Ok(Zone(None));
        }
        TimeZone::get(name)
            .map(|tz| Zone(Some(tz)))
            .map_err(|e| format!("Invalid time zone identifier ({e})"))
    }

    pub fn is_utc(&self) -> bool {
        self.0.is_none()
    }

    /// The wall-clock time in this zone of an instant.
    pub fn to_wall(&self, ms: i64, nanos: u32) -> (i64, u32) {
        let Some(tz) = &self.0 else {
            return (ms, nanos);
        };
        match Timestamp::from_millisecond(ms) {
            Ok(t) => (ms + i64::from(tz.to_offset(t).seconds()) * 1000, nanos),
            Err(_) => (ms, nanos),
        }
    }

    /// The instant of a wall-clock time in this zone; a time skipped by a
    /// change of offset counts as after it, a repeated one as its first
    /// occurrence (as Java's lenient calendars do). A table holding times
    /// of a skipped hour is itself inconsistent: such rows read back as
    /// times after the change.
    pub fn from_wall(&self, ms: i64, nanos: u32) -> (i64, u32) {
        let Some(tz) = &self.0 else {
            return (ms, nanos);
        };
        let secs = ms.div_euclid(1000);
        let (y, mo, d) = civil(secs.div_euclid(86_400));
        let s = secs.rem_euclid(86_400);
        let dt = (|| {
            DateTime::new(
                i16::try_from(y).ok()?,
                i8::try_from(mo).ok()?,
                i8::try_from(d).ok()?,
                i8::try_from(s / 3600).ok()?,
                i8::try_from(s / 60 % 60).ok()?,
                i8::try_from(s % 60).ok()?,
                i32::try_from(nanos).ok()?,
            )
            .ok()
        })();
        let Some(dt) = dt else {
            return (ms, nanos);
        };
        match tz.to_ambiguous_timestamp(dt).compatible() {
            Ok(t) => (t.as_millisecond(), nanos),
            Err(_) => (ms, nanos),
        }
    }
}

/// Whether a column of this database type holds wall-clock date-times
/// without a zone (the type names of `information_schema` and of
/// PostgreSQL's `format_type`, lower or upper case).
pub fn wall_clock(d: Dialect, db_type: &str) -> bool {
    let t = db_type.to_ascii_lowercase();
    match d {
        Dialect::Postgres => {
            t.starts_with("timestamp") && !t.contains("with time zone") && !t.contains("tz")
        }
        Dialect::MySql => t.starts_with("datetime"),
        Dialect::Sqlite => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_clock_times_in_a_zone() {
        let seoul = Zone::parse("Asia/Seoul").expect("the system's zone database");
        // 2024-01-15 12:34:56.789 UTC is 21:34:56.789 in Seoul (+09:00).
        let utc = 1_705_322_096_789;
        let wall = utc + 9 * 3_600_000;
        assert_eq!(seoul.to_wall(utc, 789_123_000), (wall, 789_123_000));
        assert_eq!(seoul.from_wall(wall, 789_123_000), (utc, 789_123_000));
        // New York: a skipped hour counts as after the change.
        let ny = Zone::parse("America/New_York").expect("zone");
        // 2024-03-10 02:30 does not exist there; it is 03:30 EDT = 07:30 UTC.
        let skipped = 1_710_037_800_000; // 2024-03-10 02:30:00 as if UTC
        assert_eq!(ny.from_wall(skipped, 0).0, 1_710_055_800_000);
        assert!(Zone::parse("UTC").expect("utc").is_utc());
        let bad = Zone::parse("Mars/Olympus").expect_err("no such zone");
        assert!(bad.starts_with("Invalid time zone identifier"), "{bad}");
        assert!(wall_clock(
            Dialect::Postgres,
            "timestamp(3) without time zone"
        ));
        assert!(!wall_clock(Dialect::Postgres, "timestamp with time zone"));
        assert!(!wall_clock(Dialect::Postgres, "timestamptz"));
        assert!(wall_clock(Dialect::MySql, "datetime(6)"));
        assert!(!wall_clock(Dialect::MySql, "timestamp(6)"));
    }
}
