//! `weir groups --reset-offsets`: Kafka's reset scenarios, dry run by default.

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use clap::Args;

use crate::kafka::admin::Cluster;
use crate::kafka::offsets::{
    commit, committed, describe_group, list_offsets, Tp, EARLIEST, LATEST,
};

#[derive(Debug, Args)]
pub struct ResetArgs {
    /// Reset a group's committed offsets (dry run unless --execute).
    #[arg(long = "reset-offsets")]
    pub reset_offsets: bool,
    /// `topic` or `topic:0,1` (repeatable).
    #[arg(long)]
    pub topic: Vec<String>,
    /// Every topic the group has committed offsets for.
    #[arg(long = "all-topics")]
    pub all_topics: bool,
    /// Show the new offsets without committing them.
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// Commit the new offsets.
    #[arg(long)]
    pub execute: bool,
    /// Reset to the earliest offsets.
    #[arg(long = "to-earliest")]
    pub to_earliest: bool,
    /// Reset to the latest offsets.
    #[arg(long = "to-latest")]
    pub to_latest: bool,
    /// Reset to the committed offsets.
    #[arg(long = "to-current")]
    pub to_current: bool,
    /// Reset to this offset (kept within the log).
    #[arg(long = "to-offset", allow_negative_numbers = true)]
    pub to_offset: Option<i64>,
    /// Move the committed offsets by this many (negative: back).
    #[arg(long = "shift-by", allow_negative_numbers = true)]
    pub shift_by: Option<i64>,
    /// Reset to the first offset at or after 'YYYY-MM-DDTHH:mm:SS.sss[zone]'.
    #[arg(long = "to-datetime")]
    pub to_datetime: Option<String>,
}

enum Scenario {
    Earliest,
    Latest,
    Current,
    Offset(i64),
    Shift(i64),
    Time(i64),
}

fn scenario(a: &ResetArgs) -> anyhow::Result<Scenario> {
    let mut found = Vec::new();
    if a.to_earliest {
        found.push(Scenario::Earliest);
    }
    if a.to_latest {
        found.push(Scenario::Latest);
    }
    if a.to_current {
        found.push(Scenario::Current);
    }
    if let Some(o) = a.to_offset {
        found.push(Scenario::Offset(o));
    }
    if let Some(s) = a.shift_by {
        found.push(Scenario::Shift(s));
    }
    if let Some(d) = &a.to_datetime {
        found.push(Scenario::Time(parse_datetime(d)?));
    }
    if found.len() != 1 {
        bail!("One of the reset scopes should be defined: --to-datetime, --to-earliest, --to-latest, --shift-by, --to-current, --to-offset.");
    }
    Ok(found.remove(0))
}

async fn partitions(
    cluster: &mut Cluster,
    a: &ResetArgs,
    current: &BTreeMap<Tp, i64>,
) -> anyhow::Result<Vec<Tp>> {
    if a.all_topics {
        return Ok(current.keys().cloned().collect());
    }
    if a.topic.is_empty() {
        bail!("One of the reset scopes should be defined: --all-topics, --topic.");
    }
    let mut out = Vec::new();
    for spec in &a.topic {
        match spec.split_once(':') {
            Some((t, ps)) => {
                for p in ps.split(',').filter(|p| !p.is_empty()) {
                    let p: i32 = p.trim().parse().with_context(|| {
                        format!("--topic {spec}: {p:?} is not a partition number")
                    })?;
                    out.push((t.to_string(), p));
                }
            }
            None => {
                let md = cluster.metadata(Some(std::slice::from_ref(spec))).await?;
                for t in md.topics {
                    if t.error_code != 0 {
                        bail!("Topic '{spec}' does not exist");
                    }
                    out.extend(
                        t.partitions
                            .iter()
                            .map(|p| (spec.clone(), p.partition_index)),
                    );
                }
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

pub async fn reset_offsets(
    cluster: &mut Cluster,
    groups: &[String],
    a: &ResetArgs,
) -> anyhow::Result<()> {
    let how = scenario(a)?;
    if a.dry_run && a.execute {
        bail!("Option [reset-offsets] only accepts one of [execute, dry-run]");
    }
    if !a.dry_run && !a.execute {
        eprintln!("WARN: No action will be performed as the --execute option is missing. You should add the --dry-run option explicitly if you are scripting this command and want to keep the current default behavior without prompting.");
    }
    for group in groups {
        let (_, _, conn) = cluster.coordinator(group).await?;
        let g = describe_group(conn, group).await?;
        let state = g.group_state.to_string();
        if state != "Empty" && state != "Dead" {
            bail!("Assignments can only be reset if the group '{group}' is inactive, but the current state is {state}.");
        }
        let current = committed(conn, group).await?;
        let tps = partitions(cluster, a, &current).await?;
        if tps.is_empty() {
            continue;
        }
        let earliest = list_offsets(cluster, &tps, EARLIEST).await?;
        let latest = list_offsets(cluster, &tps, LATEST).await?;
        let clamp = |tp: &Tp, o: i64| {
            let lo = earliest.get(tp).copied().unwrap_or(0);
            let hi = latest.get(tp).copied().unwrap_or(o);
            o.clamp(lo, hi.max(lo))
        };
        let by_time = match how {
            Scenario::Time(ts) => list_offsets(cluster, &tps, ts).await?,
            _ => BTreeMap::new(),
        };
        let mut target = BTreeMap::new();
        for tp in &tps {
            let o = match how {
                Scenario::Earliest => earliest.get(tp).copied().unwrap_or(0),
                Scenario::Latest => latest.get(tp).copied().unwrap_or(0),
                Scenario::Offset(o) => clamp(tp, o),
                Scenario::Time(_) => by_time.get(tp).copied().unwrap_or(0),
                // Without a committed offset, --to-current means the log end (as in Kafka).
                Scenario::Current => current
                    .get(tp)
                    .copied()
                    .unwrap_or_else(|| latest.get(tp).copied().unwrap_or(0)),
                Scenario::Shift(s) => {
                    let Some(c) = current.get(tp).copied() else {
                        bail!("Cannot shift offset for partition {}-{} since there is no current committed offset", tp.0, tp.1);
                    };
                    clamp(tp, c.saturating_add(s))
                }
            };
            target.insert(tp.clone(), o);
        }
        if a.execute {
            let (_, _, conn) = cluster.coordinator(group).await?;
            commit(conn, group, &target).await?;
        }
        println!();
        println!(
            "{:<30} {:<30} {:<10} {:<15}",
            "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"
        );
        for ((t, p), o) in &target {
            println!("{group:<30} {t:<30} {p:<10} {o:<15}");
        }
    }
    Ok(())
}

/// `YYYY-MM-DDTHH:mm:SS[.sss][Z|+hh:mm|-hh:mm]` to epoch milliseconds; without a
/// zone the time is taken as UTC.
pub fn parse_datetime(s: &str) -> anyhow::Result<i64> {
    let bad = || {
        anyhow::anyhow!("--to-datetime {s:?} is not of the form YYYY-MM-DDTHH:mm:SS.sss (optionally followed by Z or +hh:mm)")
    };
    let (date, rest) = s.split_once('T').ok_or_else(bad)?;
    let d: Vec<i64> = date
        .split('-')
        .map(|x| x.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let [year, month, day] = d[..] else {
        return Err(bad());
    };
    let split = rest.find(['Z', '+', '-']).unwrap_or(rest.len());
    let (time, zone) = rest.split_at(split);
    let (hms, millis) = match time.split_once('.') {
        Some((h, m)) if !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()) => {
            let padded = format!("{m:0<3}");
            (h, padded[..3].parse::<i64>().map_err(|_| bad())?)
        }
        Some(_) => return Err(bad()),
        None => (time, 0),
    };
    let t: Vec<i64> = hms
        .split(':')
        .map(|x| x.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let [hour, minute, second] = t[..] else {
        return Err(bad());
    };
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(bad());
    }
    let offset_min = match zone {
        "" | "Z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let (h, m) = z[1..].split_once(':').unwrap_or((&z[1..], "0"));
            let h: i64 = h.parse().map_err(|_| bad())?;
            let m: i64 = m.parse().map_err(|_| bad())?;
            sign * (h * 60 + m)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_min * 60;
    Ok(secs * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::parse_datetime;

    #[test]
    fn datetimes_in_kafka_format() {
        assert_eq!(parse_datetime("1970-01-01T00:00:00.000").expect("ok"), 0);
        assert_eq!(
            parse_datetime("2023-11-14T22:13:20.000Z").expect("ok"),
            1_700_000_000_000
        );
        assert_eq!(
            parse_datetime("2023-11-15T07:13:20.5+09:00").expect("ok"),
            1_700_000_000_500
        );
        assert!(parse_datetime("yesterday").is_err());
        assert!(parse_datetime("2024-01-01T00:00:00.\u{e9}\u{e9}").is_err());
    }
}
