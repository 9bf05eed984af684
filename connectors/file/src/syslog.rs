//! Flume's syslog sources, over TCP (`syslogtcp`: one message per line, or
//! RFC 6587 octet counting) and UDP (`syslogudp`: one per datagram). RFC
//! 3164 and RFC 5424 messages are parsed into Flume's headers (`Facility`,
//! `Severity`, `host`, `timestamp`) and a body without the syslog header
//! (all of it with `keepFields = true`); a message that parses as neither
//! keeps its text and gets `flume.syslog.status = Invalid`, as in Flume.

use std::sync::Arc;

use async_trait::async_trait;
use connect_api::config::{key, ConfigType, DefaultValue, Importance};
use connect_api::record::SourcePartition;
use connect_api::{
    ConfigDef, ConnectError, ConnectResult, Header, Props, Schema, SchemaAndValue, SourceRecord,
    SourceTask, SourceTaskContext, Value,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::sync::mpsc;

use crate::common::{bool_setting, drain, int_setting, now_ms, str_setting, string_header, text};

pub fn def() -> ConfigDef {
    crate::common::with_topic(ConfigDef::new())
        .define(key(
            "host",
            ConfigType::String,
            DefaultValue::Required,
            Importance::High,
            "The address to listen on.",
        ))
        .define(key(
            "port",
            ConfigType::Int,
            DefaultValue::Required,
            Importance::High,
            "The port to listen on.",
        ))
        .define(key(
            "eventSize",
            ConfigType::Int,
            DefaultValue::Value("2500"),
            Importance::Low,
            "The longest message, in bytes; longer ones are cut.",
        ))
        .define(key(
            "keepFields",
            ConfigType::String,
            DefaultValue::Value("none"),
            Importance::Low,
            "true or all: keep the syslog header in the body.",
        ))
}

/// A parsed message: headers and body.
#[derive(Debug, PartialEq)]
pub struct Parsed {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn num(s: &str) -> Option<i64> {
    s.parse().ok()
}

/// An RFC 3339 time (`2003-10-11T22:14:15.003Z`, `...+09:00`) in ms.
fn rfc3339(s: &str) -> Option<i64> {
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-');
    let (y, mo, da) = (num(d.next()?)?, num(d.next()?)?, num(d.next()?)?);
    let (clock, offset_min) = if let Some(c) = time.strip_suffix('Z') {
        (c, 0)
    } else {
        let at = time.rfind(['+', '-'])?;
        let (c, z) = time.split_at(at);
        let sign = if z.starts_with('-') { -1 } else { 1 };
        let (h, m) = z[1..].split_once(':')?;
        (c, sign * (num(h)? * 60 + num(m)?))
    };
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let mut t = hms.split(':');
    let (h, mi, se) = (num(t.next()?)?, num(t.next()?)?, num(t.next()?)?);
    let ms = if frac.is_empty() {
        0
    } else {
        num(&format!("{:0<3}", frac.get(..frac.len().min(3))?))?
    };
    let secs = connect_api::text::days_from_civil(y, mo, da) * 86_400 + h * 3600 + mi * 60 + se
        - offset_min * 60;
    Some(secs * 1000 + ms)
}

/// `Mmm dd hh:mm:ss` (UTC) in the year that puts it nearest now.
fn rfc3164_time(s: &str) -> Option<i64> {
    rfc3164_time_at(s, crate::common::now_ms())
}

/// RFC 3164 times carry no year: the current one, unless that puts the
/// time more than a month ahead of `now_ms` (a message from December read
/// in January: last year) or more than eleven months behind it (a sender
/// whose clock is already in January: next year).
fn rfc3164_time_at(s: &str, now_ms: i64) -> Option<i64> {
    let mut parts = s.split_whitespace();
    let name = parts.next()?;
    let month = MONTHS.iter().position(|m| *m == name)? as i64 + 1;
    let day = num(parts.next()?)?;
    let mut t = parts.next()?.split(':');
    let (h, mi, se) = (num(t.next()?)?, num(t.next()?)?, num(t.next()?)?);
    let (year, _, _) = connect_api::text::civil_from_days(now_ms.div_euclid(86_400_000));
    let at = |y: i64| {
        (connect_api::text::days_from_civil(y, month, day) * 86_400 + h * 3600 + mi * 60 + se)
            * 1000
    };
    const DAY: i64 = 86_400_000;
    let t = at(year);
    Some(if t > now_ms + 31 * DAY {
        at(year - 1)
    } else if t < now_ms - 334 * DAY {
        at(year + 1)
    } else {
        t
    })
}

/// Parses one syslog message as Flume's SyslogUtils does.
pub fn parse(msg: &str, keep: bool) -> Parsed {
    let invalid = || Parsed {
        headers: vec![("flume.syslog.status".into(), "Invalid".into())],
        body: msg.to_string(),
    };
    let Some(rest) = msg.strip_prefix('<') else {
        return invalid();
    };
    let Some((pri, rest)) = rest.split_once('>') else {
        return invalid();
    };
    let Some(pri) = pri.parse::<u32>().ok().filter(|p| *p < 192) else {
        return invalid();
    };
    let mut headers = vec![
        ("Facility".to_string(), (pri / 8).to_string()),
        ("Severity".to_string(), (pri % 8).to_string()),
    ];
    let body_of = |after_header: &str| {
        if keep {
            msg.to_string()
        } else {
            after_header.to_string()
        }
    };
    if let Some(r) = rest.strip_prefix("1 ") {
        // RFC 5424: TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG
        let f: Vec<&str> = r.splitn(6, ' ').collect();
        if f.len() < 6 {
            return invalid();
        }
        if let Some(ts) = rfc3339(f[0]) {
            headers.push(("timestamp".into(), ts.to_string()));
        }
        if f[1] != "-" {
            headers.push(("host".into(), f[1].to_string()));
        }
        let sd_and_msg = f[5];
        let msg_part = if let Some(m) = sd_and_msg.strip_prefix('-') {
            m.trim_start()
        } else {
            // Structured data: bracketed elements, then the message.
            let mut depth = 0;
            let mut end = sd_and_msg.len();
            let mut escaped = false;
            let mut quoted = false;
            for (i, c) in sd_and_msg.char_indices() {
                match c {
                    '\\' if !escaped => {
                        escaped = true;
                        continue;
                    }
                    '"' if !escaped => quoted = !quoted,
                    '[' if !escaped && !quoted => depth += 1,
                    ']' if !escaped && !quoted => {
                        depth -= 1;
                        if depth == 0 && !sd_and_msg[i + 1..].starts_with('[') {
                            end = i + 1;
                            break;
                        }
                    }
                    _ => {}
                }
                escaped = false;
            }
            sd_and_msg[end..].trim_start()
        };
        let msg_part = msg_part.strip_prefix('\u{FEFF}').unwrap_or(msg_part);
        return Parsed {
            headers,
            body: body_of(msg_part),
        };
    }
    // RFC 3164: Mmm dd hh:mm:ss HOSTNAME MSG
    if let (Some(stamp), Some(after)) = (rest.get(..15), rest.get(16..)) {
        if let Some(ts) = rfc3164_time(stamp) {
            headers.push(("timestamp".into(), ts.to_string()));
            let after = after.trim_start();
            let (host, m) = after.split_once(' ').unwrap_or((after, ""));
            headers.push(("host".into(), host.to_string()));
            return Parsed {
                headers,
                body: body_of(m),
            };
        }
    }
    Parsed {
        headers,
        body: body_of(rest),
    }
}

#[derive(Default)]
pub struct SyslogSourceTask {
    udp: bool,
    topic: Arc<str>,
    partition: Arc<SourcePartition>,
    schema: Option<Arc<Schema>>,
    messages: Option<mpsc::Receiver<Vec<u8>>>,
    server: Option<tokio::task::JoinHandle<()>>,
    keep: bool,
}

impl SyslogSourceTask {
    pub fn udp() -> Self {
        Self {
            udp: true,
            ..Self::default()
        }
    }
}

/// One TCP client: lines, or octet-counted frames (`<len> <msg>`).
async fn serve_tcp(conn: tokio::net::TcpStream, tx: mpsc::Sender<Vec<u8>>, max: usize) {
    let mut r = BufReader::new(conn);
    loop {
        let first = match r.fill_buf().await {
            Ok([]) | Err(_) => return,
            Ok(b) => b[0],
        };
        let mut msg = Vec::new();
        if first.is_ascii_digit() {
            // RFC 6587 octet counting: a length of at most 10 digits.
            let mut len = Vec::new();
            if (&mut r).take(11).read_until(b' ', &mut len).await.is_err() {
                return;
            }
            let Some(n) = std::str::from_utf8(&len)
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
            else {
                tracing::warn!("syslog source: a bad frame length; closing the connection");
                return;
            };
            // The message up to eventSize; the rest of the frame is skipped.
            let cap = n.min(max as u64);
            if (&mut r).take(cap).read_to_end(&mut msg).await.is_err() {
                return;
            }
            let rest = n - msg.len() as u64;
            let mut skip = (&mut r).take(rest);
            if rest > 0
                && tokio::io::copy(&mut skip, &mut tokio::io::sink())
                    .await
                    .is_err()
            {
                return;
            }
        } else {
            // A line up to eventSize; the rest of a longer line is skipped.
            match (&mut r)
                .take(max as u64 + 1)
                .read_until(b'\n', &mut msg)
                .await
            {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if msg.last() != Some(&b'\n') && msg.len() > max {
                let mut skipped = Vec::new();
                loop {
                    skipped.clear();
                    match (&mut r).take(65_536).read_until(b'\n', &mut skipped).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) if skipped.last() == Some(&b'\n') => break,
                        Ok(_) => {}
                    }
                }
            }
            while matches!(msg.last(), Some(b'\n' | b'\r')) {
                msg.pop();
            }
        }
        msg.truncate(max);
        if tx.send(msg).await.is_err() {
            return;
        }
    }
}

#[async_trait]
impl SourceTask for SyslogSourceTask {
    fn reads_committed_records(&self) -> bool {
        false
    }

    async fn start(&mut self, props: &Props, _ctx: SourceTaskContext) -> ConnectResult<()> {
        self.topic = crate::source_topic(props)
            .map_err(ConnectError::fatal)?
            .into();
        let host = str_setting(props, "host").unwrap_or("0.0.0.0").to_string();
        let port = int_setting(props, "port", None, 0, 65535)? as u16;
        let max = int_setting(props, "eventSize", Some(2500), 1, i32::MAX as i64)? as usize;
        self.keep = match str_setting(props, "keepFields").unwrap_or("none") {
            "all" => true,
            _ => bool_setting(props, "keepFields", false).unwrap_or(false),
        };
        let (tx, rx) = mpsc::channel(10_000);
        let listen = |e: std::io::Error| {
            ConnectError::fatal(format!(
                "syslog source cannot listen on {host}:{port} (host, port): {e}"
            ))
        };
        self.server = Some(if self.udp {
            let sock = tokio::net::UdpSocket::bind((host.as_str(), port))
                .await
                .map_err(listen)?;
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65_536];
                while let Ok(n) = sock.recv(&mut buf).await {
                    let mut msg = buf[..n.min(max)].to_vec();
                    while matches!(msg.last(), Some(b'\n' | b'\r' | 0)) {
                        msg.pop();
                    }
                    if tx.send(msg).await.is_err() {
                        return;
                    }
                }
            })
        } else {
            let l = tokio::net::TcpListener::bind((host.as_str(), port))
                .await
                .map_err(listen)?;
            tokio::spawn(async move {
                // Dropped with the listener's task: its connections end too.
                let mut clients = tokio::task::JoinSet::new();
                while let Ok((conn, _)) = l.accept().await {
                    clients.spawn(serve_tcp(conn, tx.clone(), max));
                    while clients.try_join_next().is_some() {}
                }
            })
        });
        tracing::info!(
            "Syslog {} source listening on {host}:{port}",
            if self.udp { "UDP" } else { "TCP" }
        );
        let mut p = SourcePartition::new();
        p.insert("syslog".into(), format!("{host}:{port}").into());
        self.partition = Arc::new(p);
        self.schema = Some(Arc::new(Schema::string()));
        self.messages = Some(rx);
        Ok(())
    }

    async fn poll(&mut self) -> ConnectResult<Vec<SourceRecord>> {
        let Some(rx) = self.messages.as_mut() else {
            return Ok(Vec::new());
        };
        let got = drain(rx, 1000).await.unwrap_or_default();
        let ts = now_ms();
        Ok(got
            .into_iter()
            .map(|m| {
                let p = parse(&text(m), self.keep);
                let mut r = SourceRecord::new(
                    self.partition.clone(),
                    None,
                    self.topic.clone(),
                    SchemaAndValue::new(self.schema.clone(), Value::String(p.body)),
                );
                r.timestamp = Some(ts);
                r.headers = p
                    .headers
                    .iter()
                    .map(|(k, v)| string_header(k, v.as_str()))
                    .collect::<Vec<Header>>();
                r
            })
            .collect())
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        if let Some(s) = self.server.take() {
            s.abort();
        }
        self.messages = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(p: &Parsed, k: &str) -> Option<String> {
        p.headers
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    }

    #[test]
    fn rfc5424_as_in_the_rfc() {
        let p = parse("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed for lonvick on /dev/pts/8", false);
        assert_eq!(h(&p, "Facility").as_deref(), Some("4"));
        assert_eq!(h(&p, "Severity").as_deref(), Some("2"));
        assert_eq!(h(&p, "host").as_deref(), Some("mymachine.example.com"));
        assert_eq!(h(&p, "timestamp").as_deref(), Some("1065910455003"));
        assert_eq!(p.body, "'su root' failed for lonvick on /dev/pts/8");
        let p = parse("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.", false);
        assert_eq!(h(&p, "timestamp").as_deref(), Some("1061727255000"));
        assert_eq!(p.body, "%% It's time to make the do-nuts.");
        let p = parse("<165>1 2003-10-11T22:14:15.003Z host evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventID=\"1011\"][x@1 a=\"]\"] An application event", false);
        assert_eq!(p.body, "An application event");
    }

    #[test]
    fn rfc3164_and_invalid() {
        let p = parse("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!", false);
        assert_eq!(h(&p, "Facility").as_deref(), Some("1"));
        assert_eq!(h(&p, "Severity").as_deref(), Some("5"));
        assert_eq!(h(&p, "host").as_deref(), Some("10.0.0.99"));
        assert!(h(&p, "timestamp").is_some());
        assert_eq!(p.body, "Use the BFG!");
        assert_eq!(
            parse("<13>Feb  5 17:32:18 h m", true).body,
            "<13>Feb  5 17:32:18 h m"
        );
        let p = parse("no priority here", false);
        assert_eq!(h(&p, "flume.syslog.status").as_deref(), Some("Invalid"));
        assert_eq!(p.body, "no priority here");
        assert_eq!(rfc3339("1970-01-01T00:00:01+01:00"), Some(-3_599_000));
        // The year of an RFC 3164 time: the one that puts it nearest now.
        let jan_2 = rfc3339("2027-01-02T00:00:00Z").expect("time");
        let dec_31 = rfc3339("2026-12-31T23:00:00Z").expect("time");
        let jun_1 = rfc3339("2026-06-01T00:00:00Z").expect("time");
        assert_eq!(
            rfc3164_time_at("Dec 31 23:00:00", jan_2),
            Some(dec_31),
            "December read in January: last year"
        );
        assert_eq!(
            rfc3164_time_at("Jan  2 00:00:00", dec_31),
            Some(jan_2),
            "a clock already in January: next year"
        );
        assert_eq!(
            rfc3164_time_at(
                "Jun  1 00:00:00",
                rfc3339("2026-06-20T00:00:00Z").expect("time")
            ),
            Some(jun_1)
        );
        // Outside input never panics: multi-byte text where fields are cut.
        for m in [
            "<13>ééééééééé",
            "<13>Feb  5 17:32:18é host",
            "<34>1 2003-10-11T22:14:15.aaéZ h a - - - m",
            "<>",
            "<999>x",
            "<1",
            "",
        ] {
            let _ = parse(m, false);
        }
    }
}
