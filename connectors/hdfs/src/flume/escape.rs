//! Flume's `hdfs.path` and `hdfs.filePrefix` escapes: `%{header}`, the
//! time of the event (`%Y %m %d %H %M %S`, ...), `%t` and `%s`, and the
//! host (`%[localhost]`, `%[IP]`, `%[FQDN]`), with `hdfs.round*`.

use jiff::tz::TimeZone;
use jiff::Timestamp;

pub use connect_api::event::Host;

/// Checks the escapes of `s`; the message names the first unknown one.
pub fn check(s: &str) -> Result<(), String> {
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        match chars.next() {
            Some('{') => {
                if !chars.by_ref().any(|c| c == '}') {
                    return Err("a %{ has no closing }".into());
                }
            }
            Some('[') => {
                let name: String = chars.by_ref().take_while(|c| *c != ']').collect();
                if !matches!(name.as_str(), "localhost" | "IP" | "FQDN") {
                    return Err(format!(
                        "%[{name}] is not one of %[localhost], %[IP], %[FQDN]"
                    ));
                }
            }
            Some(x) if "aAbBcdDeHIjkmnMpsSt yYz".contains(x) && x != ' ' => {}
            Some(x) => return Err(format!("%{x} is not an escape Flume knows")),
            None => return Err("the text ends with %".into()),
        }
    }
    Ok(())
}

/// How timestamps are rounded down before the escapes read them.
#[derive(Debug, Clone, Copy)]
pub struct Round {
    pub unit_ms: i64,
    pub value: i64,
}

/// Rounds `ms` down to a multiple of the round unit, in local time.
pub fn round_down(ms: i64, round: Option<Round>, zone: &TimeZone) -> i64 {
    let Some(r) = round else { return ms };
    let step = r.unit_ms * r.value.max(1);
    let offset = crate::zone::offset_ms(zone, ms);
    let local = ms + offset;
    local - local.rem_euclid(step) - offset
}

/// `s` with its escapes replaced. `time` is the (rounded) event time;
/// `header` looks a header up (missing headers are empty, as in Flume).
pub fn expand(
    s: &str,
    time: Option<i64>,
    zone: &TimeZone,
    host: &Host,
    header: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(s.len() + 16);
    let mut chars = s.chars();
    let zoned = time
        .and_then(|t| Timestamp::from_millisecond(t).ok())
        .map(|t| t.to_zoned(zone.clone()));
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('{') => {
                let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                out.push_str(&header(&name).unwrap_or_default());
            }
            Some('[') => {
                let name: String = chars.by_ref().take_while(|c| *c != ']').collect();
                out.push_str(if name == "IP" { &host.ip } else { &host.name });
            }
            Some(x) => {
                let (Some(t), Some(z)) = (time, zoned.as_ref()) else {
                    return Err("Expected timestamp in the Flume event headers, but it was null (add a timestamp interceptor or set hdfs.useLocalTimeStamp = true)".into());
                };
                let f = |fmt: &str| z.strftime(fmt).to_string();
                let text = match x {
                    't' => t.to_string(),
                    's' => t.div_euclid(1000).to_string(),
                    'a' => f("%a"),
                    'A' => f("%A"),
                    'b' => f("%b"),
                    'B' => f("%B"),
                    'c' => f("%a %b %-d %H:%M:%S %Y"),
                    'd' => f("%d"),
                    'e' => f("%-d"),
                    'D' => f("%m/%d/%y"),
                    'H' => f("%H"),
                    'I' => f("%I"),
                    'j' => f("%j"),
                    'k' => f("%-H"),
                    'm' => f("%m"),
                    'n' => f("%-m"),
                    'M' => f("%M"),
                    'p' => f("%p"),
                    'S' => f("%S"),
                    'y' => f("%y"),
                    'Y' => f("%Y"),
                    'z' => f("%z"),
                    other => return Err(format!("%{other} is not an escape Flume knows")),
                };
                out.push_str(&text);
            }
            None => out.push('%'),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tutorial_path() {
        let host = Host {
            name: "h".into(),
            ip: "10.0.0.1".into(),
        };
        // 2021-05-06 16:47:31.250 UTC
        let ms = 1_620_319_651_250;
        let r = Some(Round {
            unit_ms: 60_000,
            value: 10,
        });
        let t = round_down(ms, r, &TimeZone::UTC);
        let got = expand(
            "/user/maria_dev/flume/%y-%m-%d/%H%M/%S",
            Some(t),
            &TimeZone::UTC,
            &host,
            &|_| None,
        )
        .expect("path");
        assert_eq!(got, "/user/maria_dev/flume/21-05-06/1640/00");
        let got = expand(
            "%{app}-%[IP]-%t-%e/%n-%k",
            Some(ms),
            &TimeZone::UTC,
            &host,
            &|h| (h == "app").then(|| "web".to_string()),
        )
        .expect("path");
        assert_eq!(got, "web-10.0.0.1-1620319651250-6/5-16");
        assert!(expand("%Y", None, &TimeZone::UTC, &host, &|_| None)
            .expect_err("no time")
            .contains("timestamp"));
        assert!(check("/a/%Y/%Q").expect_err("bad").contains("%Q"));
        assert!(check("/a/%{h}/%[IP]/%Y").is_ok());
    }
}
