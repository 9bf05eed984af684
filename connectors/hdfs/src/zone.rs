//! Time zones by IANA name, and the civil time of an instant in one.

use jiff::tz::TimeZone;
use jiff::Timestamp;

/// A zone by its IANA name (`Asia/Seoul`); UTC by any of its names.
pub fn parse(name: &str) -> Result<TimeZone, String> {
    if matches!(
        name,
        "UTC" | "Etc/UTC" | "GMT" | "Etc/GMT" | "Z" | "UCT" | "Zulu"
    ) {
        return Ok(TimeZone::UTC);
    }
    TimeZone::get(name).map_err(|e| format!("Invalid time zone identifier {name} ({e})"))
}

/// The offset from UTC, in ms, of `zone` at the instant `ms`.
pub fn offset_ms(zone: &TimeZone, ms: i64) -> i64 {
    Timestamp::from_millisecond(ms).map_or(0, |t| i64::from(zone.to_offset(t).seconds()) * 1000)
}

/// The instant, in ms, of the local midnight that starts the day of `ms`
/// in `zone`.
pub fn start_of_day(zone: &TimeZone, ms: i64) -> i64 {
    let local = ms.saturating_add(offset_ms(zone, ms));
    let midnight_local = local.div_euclid(86_400_000) * 86_400_000;
    midnight_local - offset_ms(zone, midnight_local)
}
