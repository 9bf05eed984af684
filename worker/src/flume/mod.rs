//! Flume agent files as Weir connectors. An agent's channel is a topic;
//! each source is a source connector writing to its channel's topic (or,
//! with several channels, to a topic of its own that one copy connector
//! per channel reads); each sink is a sink connector with its own consumer
//! group on its channel's topic. Interceptors become the source's
//! transforms, a multiplexing selector a filter on each copy.
//!
//! Anything that cannot run as written is refused with the component and
//! the key, never ignored.

pub mod copy;

use std::collections::BTreeMap;

use connect_api::Props;

use crate::runtime::metrics::FlumeChannel;

/// One connector to create.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub name: String,
    pub config: Props,
}

/// What the agent asks for: its connectors, and a broker a Kafka channel
/// names (used when the command line gives none).
#[derive(Debug, Default)]
pub struct Plan {
    pub connectors: Vec<Planned>,
    pub bootstrap: Option<String>,
    /// The channels' and sources' topics, created before the connectors.
    pub topics: Vec<String>,
    /// Worker keys a Kafka channel asks for: the security keys of its
    /// `kafka.producer.*` as `producer.*` (the sources write the channel),
    /// of its `kafka.consumer.*` as `consumer.*` (the sinks read it), and
    /// unprefixed for the worker's own clients.
    pub worker: BTreeMap<String, String>,
    /// Each channel's writers and readers, for its counters in `/metrics`.
    pub channels: Vec<FlumeChannel>,
}

fn is_security_key(k: &str) -> bool {
    k == "security.protocol" || k.starts_with("sasl.") || k.starts_with("ssl.")
}

/// A refusal: the key (`a1.sources.r1.type`) and why.
#[derive(Debug, PartialEq)]
pub struct Refused {
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

fn refuse(key: impl Into<String>, message: impl Into<String>) -> Refused {
    Refused {
        key: key.into(),
        message: message.into(),
    }
}

/// Settings of one component: the keys under `<agent>.<kind>.<name>.`.
fn component(all: &BTreeMap<String, String>, prefix: &str) -> BTreeMap<String, String> {
    all.iter()
        .filter_map(|(k, v)| {
            k.strip_prefix(prefix)
                .map(|k| (k.to_string(), v.trim().to_string()))
        })
        .collect()
}

fn names(all: &BTreeMap<String, String>, key: &str) -> Vec<String> {
    all.get(key)
        .map(|v| v.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

const VALUE_CONVERTER: &str = "org.apache.kafka.connect.storage.StringConverter";

/// The connector class for a Flume source type.
fn source_class(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "netcat" | "org.apache.flume.source.NetcatSource" => "org.apache.flume.source.NetcatSource",
        "exec" | "org.apache.flume.source.ExecSource" => "org.apache.flume.source.ExecSource",
        "syslogtcp" | "org.apache.flume.source.SyslogTcpSource" => {
            "org.apache.flume.source.SyslogTcpSource"
        }
        "syslogudp" | "org.apache.flume.source.SyslogUDPSource" => {
            "org.apache.flume.source.SyslogUDPSource"
        }
        "TAILDIR" | "taildir" | "org.apache.flume.source.taildir.TaildirSource" => {
            "org.apache.flume.source.taildir.TaildirSource"
        }
        "spooldir" | "org.apache.flume.source.SpoolDirectorySource" => {
            "com.github.jcustenborder.kafka.connect.spooldir.SpoolDirLineDelimitedSourceConnector"
        }
        _ => return None,
    })
}

/// The connector class for a Flume sink type.
fn sink_class(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "logger" | "org.apache.flume.sink.LoggerSink" => "org.apache.flume.sink.LoggerSink",
        "file_roll" | "org.apache.flume.sink.RollingFileSink" => {
            "org.apache.flume.sink.RollingFileSink"
        }
        "hdfs" | "org.apache.flume.sink.hdfs.HDFSEventSink" => {
            "org.apache.flume.sink.hdfs.HDFSEventSink"
        }
        "jdbc" | "io.confluent.connect.jdbc.JdbcSinkConnector" => {
            "io.confluent.connect.jdbc.JdbcSinkConnector"
        }
        "org.apache.flume.sink.kafka.KafkaSink" | "avro" | "org.apache.flume.sink.AvroSink" => {
            copy::CLASS
        }
        _ => return None,
    })
}

/// Keys of a source that say how it is wired, not what it reads.
fn wiring(key: &str) -> bool {
    key == "type"
        || key == "channels"
        || key == "channel"
        || key.starts_with("selector.")
        || key == "selector"
        || key.starts_with("interceptors")
}

/// The topic an avro sink and an avro source on the same port share.
pub fn avro_topic(port: &str) -> String {
    format!("flume-avro-{port}")
}

/// Reads agent `agent` of a Flume properties file.
pub fn plan(all: &BTreeMap<String, String>, agent: &str) -> Result<Plan, Refused> {
    let a = |rest: &str| format!("{agent}.{rest}");
    let sources = names(all, &a("sources"));
    let sinks = names(all, &a("sinks"));
    let channels = names(all, &a("channels"));
    if sources.is_empty() && sinks.is_empty() {
        return Err(refuse(
            a("sources"),
            format!("agent {agent} has no sources and no sinks in this file (is --name right?)"),
        ));
    }
    if all.contains_key(&a("sinkgroups")) {
        return Err(refuse(a("sinkgroups"), "sink groups (failover, load_balance) are not supported: give each sink its own channel"));
    }
    let mut plan = Plan {
        channels: channels
            .iter()
            .map(|c| FlumeChannel {
                agent: agent.to_string(),
                name: c.clone(),
                ..FlumeChannel::default()
            })
            .collect(),
        ..Plan::default()
    };
    // Channels: their topics.
    let mut topics = BTreeMap::new();
    for c in &channels {
        let p = component(all, &a(&format!("channels.{c}.")));
        let kind = p.get("type").cloned().unwrap_or_default();
        let topic = match kind.as_str() {
            "memory"
            | "file"
            | "jdbc"
            | "SPILLABLEMEMORY"
            | "org.apache.flume.channel.MemoryChannel"
            | "org.apache.flume.channel.file.FileChannel" => {
                format!("flume.{agent}.{c}")
            }
            "org.apache.flume.channel.kafka.KafkaChannel" | "kafka" => {
                if let Some(b) = p.get("kafka.bootstrap.servers") {
                    match &plan.bootstrap {
                        Some(other) if other != b => {
                            return Err(refuse(a(&format!("channels.{c}.kafka.bootstrap.servers")), format!("Kafka channels name two clusters ({other} and {b}); one agent uses one")));
                        }
                        _ => plan.bootstrap = Some(b.clone()),
                    }
                }
                // The channel's login (security keys) reaches the clients;
                // its Java clients' tuning keys have no librdkafka meaning.
                for (k, v) in &p {
                    let side = [
                        ("kafka.producer.", "producer."),
                        ("kafka.consumer.", "consumer."),
                    ]
                    .into_iter()
                    .find_map(|(from, to)| Some((to, k.strip_prefix(from)?)));
                    let Some((to, rest)) = side else { continue };
                    if !is_security_key(rest) {
                        tracing::info!("channel {c}: {k} is a Java client setting and is not used");
                        continue;
                    }
                    let key = format!("{to}{rest}");
                    match plan.worker.get(&key) {
                        Some(other) if other != v => return Err(refuse(
                            a(&format!("channels.{c}.{k}")),
                            "Kafka channels log in differently; one agent's channels log in alike",
                        )),
                        _ => {
                            plan.worker.insert(key, v.clone());
                        }
                    }
                }
                if p.get("parseAsFlumeEvent").is_none_or(|v| v != "false") {
                    tracing::info!("channel {c}: events are plain records with Kafka headers (as parseAsFlumeEvent = false)");
                }
                p.get("kafka.topic")
                    .or(p.get("topic"))
                    .cloned()
                    .unwrap_or_else(|| "flume-channel".into())
            }
            "" => {
                return Err(refuse(
                    a(&format!("channels.{c}.type")),
                    "a channel needs a type",
                ))
            }
            other => {
                return Err(refuse(
                    a(&format!("channels.{c}.type")),
                    format!(
                        "channel type {other} is not supported: memory, file or Kafka channels"
                    ),
                ))
            }
        };
        plan.topics.push(topic.clone());
        if let Some(ch) = plan.channels.iter_mut().find(|ch| ch.name == *c) {
            ch.topic = topic.clone();
        }
        topics.insert(c.clone(), topic);
    }
    // The worker's own clients (topics, offsets) log in as the sinks do,
    // else as the sources do.
    let own: Vec<(String, String)> = ["consumer.", "producer."]
        .iter()
        .map(|prefix| {
            plan.worker
                .iter()
                .filter_map(|(k, v)| {
                    let k = k.strip_prefix(prefix)?;
                    is_security_key(k).then(|| (k.to_string(), v.clone()))
                })
                .collect::<Vec<_>>()
        })
        .find(|keys| !keys.is_empty())
        .unwrap_or_default();
    plan.worker.extend(own);
    let topic_of = |c: &str, key: &str| -> Result<String, Refused> {
        topics.get(c).cloned().ok_or_else(|| {
            refuse(
                key.to_string(),
                format!("channel {c} is not in {agent}.channels"),
            )
        })
    };
    for r in &sources {
        let key = a(&format!("sources.{r}."));
        let p = component(all, &key);
        let kind = p.get("type").cloned().unwrap_or_default();
        let chans: Vec<String> = p
            .get("channels")
            .map(|v| v.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        if chans.is_empty() {
            return Err(refuse(
                format!("{key}channels"),
                format!("source {r} names no channel"),
            ));
        }
        let chan_topics = chans
            .iter()
            .map(|c| topic_of(c, &format!("{key}channels")))
            .collect::<Result<Vec<_>, _>>()?;
        let mut config = Props::new();
        let is_avro = kind == "avro" || kind == "org.apache.flume.source.AvroSource";
        if is_avro {
            let port = p
                .get("port")
                .ok_or_else(|| refuse(format!("{key}port"), "an avro source needs a port"))?;
            config.insert("connector.class".into(), copy::CLASS.into());
            config.insert("topics".into(), avro_topic(port));
            plan.topics.push(avro_topic(port));
        } else {
            let class = source_class(&kind).ok_or_else(|| {
                refuse(
                    format!("{key}type"),
                    format!(
                        "source type {} is not supported: netcat, exec, spooldir, TAILDIR, syslogtcp, syslogudp or avro",
                        if kind.is_empty() { "(none)" } else { &kind }
                    ),
                )
            })?;
            config.insert("connector.class".into(), class.into());
            config.insert("topic.creation.default.partitions".into(), "1".into());
            config.insert(
                "topic.creation.default.replication.factor".into(),
                "-1".into(),
            );
            for (k, v) in &p {
                if !wiring(k) {
                    config.insert(k.clone(), v.clone());
                }
            }
        }
        config.insert("value.converter".into(), VALUE_CONVERTER.into());
        interceptors(&p, &key, &mut config)?;
        let selector = p
            .get("selector.type")
            .map(String::as_str)
            .unwrap_or("replicating");
        if !matches!(selector, "replicating" | "multiplexing") {
            return Err(refuse(
                format!("{key}selector.type"),
                format!("selector {selector} is not supported: replicating or multiplexing"),
            ));
        }
        let name = a(&format!("sources.{r}"));
        if chans.len() == 1 && selector == "replicating" {
            let out = if is_avro { copy::TOPIC } else { "topic" };
            config.insert(out.into(), chan_topics[0].clone());
            wire(&mut plan.channels, &chans[0], &name, true);
            plan.connectors.push(Planned { name, config });
            continue;
        }
        // Several channels: the source's own topic, one copy per channel.
        let own = format!("flume.{agent}.{r}");
        plan.topics.push(own.clone());
        config.insert(
            if is_avro { copy::TOPIC } else { "topic" }.into(),
            own.clone(),
        );
        plan.connectors.push(Planned {
            name: name.clone(),
            config,
        });
        for (c, t) in chans.iter().zip(&chan_topics) {
            let mut copy = Props::new();
            copy.insert("connector.class".into(), copy::CLASS.into());
            copy.insert("topics".into(), own.clone());
            copy.insert(copy::TOPIC.into(), t.clone());
            if selector == "multiplexing" {
                copy.insert("transforms".into(), "select".into());
                copy.insert(
                    "transforms.select.type".into(),
                    connect_transforms::flume::SELECTOR.into(),
                );
                copy.insert("transforms.select.channel".into(), c.clone());
                for (k, v) in &p {
                    if let Some(rest) = k.strip_prefix("selector.") {
                        if rest != "type" {
                            copy.insert(format!("transforms.select.{rest}"), v.clone());
                        }
                    }
                }
            }
            let copy_name = format!("{name}.{c}");
            wire(&mut plan.channels, c, &copy_name, true);
            plan.connectors.push(Planned {
                name: copy_name,
                config: copy,
            });
        }
    }
    for k in &sinks {
        let key = a(&format!("sinks.{k}."));
        let p = component(all, &key);
        let kind = p.get("type").cloned().unwrap_or_default();
        let class = sink_class(&kind).ok_or_else(|| {
            refuse(format!("{key}type"), format!("sink type {} is not supported: logger, file_roll, hdfs, jdbc, avro or org.apache.flume.sink.kafka.KafkaSink", if kind.is_empty() { "(none)" } else { &kind }))
        })?;
        let channel = p.get("channel").ok_or_else(|| {
            refuse(
                format!("{key}channel"),
                format!("sink {k} names no channel"),
            )
        })?;
        let mut config = Props::new();
        config.insert("connector.class".into(), class.into());
        config.insert(
            "topics".into(),
            topic_of(channel, &format!("{key}channel"))?,
        );
        config.insert("value.converter".into(), VALUE_CONVERTER.into());
        for (k2, v) in &p {
            if !wiring(k2) {
                config.insert(k2.clone(), v.clone());
            }
        }
        match kind.as_str() {
            "avro" | "org.apache.flume.sink.AvroSink" => {
                let port = p
                    .get("port")
                    .ok_or_else(|| refuse(format!("{key}port"), "an avro sink needs a port"))?;
                config.insert(copy::TOPIC.into(), avro_topic(port));
                plan.topics.push(avro_topic(port));
            }
            "org.apache.flume.sink.kafka.KafkaSink" => {
                let t = p
                    .get("kafka.topic")
                    .or(p.get("topic"))
                    .cloned()
                    .unwrap_or_else(|| "default-flume-topic".into());
                config.insert(copy::TOPIC.into(), t);
            }
            "jdbc" | "io.confluent.connect.jdbc.JdbcSinkConnector" => {
                // A body is a line of text: a table row needs a field.
                config
                    .entry("transforms".into())
                    .or_insert_with(|| "body".into());
                config.insert(
                    "transforms.body.type".into(),
                    "org.apache.kafka.connect.transforms.HoistField$Value".into(),
                );
                config.insert("transforms.body.field".into(), "body".into());
            }
            _ => {}
        }
        let name = a(&format!("sinks.{k}"));
        wire(&mut plan.channels, channel, &name, false);
        plan.connectors.push(Planned { name, config });
    }
    Ok(plan)
}

/// Records `connector` as a writer or a reader of channel `c`.
fn wire(channels: &mut [FlumeChannel], c: &str, connector: &str, writes: bool) {
    if let Some(ch) = channels.iter_mut().find(|ch| ch.name == c) {
        let side = if writes {
            &mut ch.writers
        } else {
            &mut ch.readers
        };
        side.push(connector.to_string());
    }
}

/// A source's `interceptors` as its transforms.
fn interceptors(
    p: &BTreeMap<String, String>,
    key: &str,
    config: &mut Props,
) -> Result<(), Refused> {
    let list: Vec<&str> = p
        .get("interceptors")
        .map(|v| v.split_whitespace().collect())
        .unwrap_or_default();
    if list.is_empty() {
        return Ok(());
    }
    for i in &list {
        let kind = p
            .get(&format!("interceptors.{i}.type"))
            .map(String::as_str)
            .unwrap_or("");
        let class = connect_transforms::flume::class_of(kind).ok_or_else(|| {
            refuse(
                format!("{key}interceptors.{i}.type"),
                format!("interceptor {} is not supported: timestamp, host, static, remove_header, uuid, search_replace, regex_filter or regex_extractor", if kind.is_empty() { "(none)" } else { kind }),
            )
        })?;
        config.insert(format!("transforms.{i}.type"), class.into());
        let prefix = format!("interceptors.{i}.");
        for (k, v) in p {
            if let Some(rest) = k.strip_prefix(&prefix) {
                if rest != "type" {
                    config.insert(format!("transforms.{i}.{rest}"), v.clone());
                }
            }
        }
    }
    config.insert("transforms".into(), list.join(","));
    Ok(())
}

#[cfg(test)]
mod tests;
