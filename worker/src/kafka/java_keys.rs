//! Kafka's Java client settings in librdkafka's terms. Connect users tune
//! their tasks' clients with the Java names (`consumer.fetch.max.wait.ms`,
//! `producer.buffer.memory`); librdkafka knows some of them under other
//! names, and has no use for the ones that name Java classes or Java-only
//! machinery. Anything else goes through as written, so a misspelt key is
//! still refused by librdkafka, naming it.

/// What becomes of one Java client setting.
#[derive(Debug, PartialEq, Eq)]
pub enum Translated {
    /// The setting librdkafka takes (perhaps the same one).
    Set(String, String),
    /// A Java-only setting with nothing to do here.
    Dropped,
}

/// Java-only settings: serializers, interceptors, metrics reporters and
/// client internals librdkafka has no counterpart for.
const JAVA_ONLY: &[&str] = &[
    "key.serializer",
    "value.serializer",
    "key.deserializer",
    "value.deserializer",
    "interceptor.classes",
    "max.block.ms",
    "default.api.timeout.ms",
    "exclude.internal.topics",
    "metric.reporters",
    "metrics.num.samples",
    "metrics.sample.window.ms",
    "metrics.recording.level",
    "auto.include.jmx.reporter",
    "partitioner.class",
    "partitioner.ignore.keys",
    "partitioner.adaptive.partitioning.enable",
    "partitioner.availability.timeout.ms",
    "security.providers",
    "metadata.max.idle.ms",
    "socket.connection.setup.timeout.max.ms",
    "internal.leave.group.on.close",
    "internal.throw.on.fetch.stable.offset.unsupported",
];

/// Translates one setting; an error names the key and says what to write.
pub fn translate(key: &str, value: &str) -> Result<Translated, String> {
    let set = |k: &str, v: String| Ok(Translated::Set(k.to_string(), v));
    match key {
        k if JAVA_ONLY.contains(&k) => Ok(Translated::Dropped),
        "fetch.max.wait.ms" => set("fetch.wait.max.ms", value.trim().to_string()),
        // Java's -1 is the system default, librdkafka's 0.
        "receive.buffer.bytes" => set("socket.receive.buffer.bytes", socket_buffer(value)),
        "send.buffer.bytes" => set("socket.send.buffer.bytes", socket_buffer(value)),
        "max.request.size" => set("message.max.bytes", value.trim().to_string()),
        "buffer.memory" => {
            let bytes: u64 = value
                .trim()
                .parse()
                .map_err(|_| format!("buffer.memory={value}: not a number of bytes"))?;
            set(
                "queue.buffering.max.kbytes",
                (bytes / 1024).max(1).to_string(),
            )
        }
        "partition.assignment.strategy" => set(key, assignors(value)?),
        _ => set(key, value.to_string()),
    }
}

fn socket_buffer(value: &str) -> String {
    match value.trim() {
        "-1" => "0".to_string(),
        v => v.to_string(),
    }
}

/// Java's assignor classes as librdkafka's assignor names. librdkafka runs
/// eager and cooperative assignors apart, so a list that mixes them (Kafka's
/// default `RangeAssignor, CooperativeStickyAssignor`) keeps the kind of its
/// first entry, as a Java consumer starts with its first.
fn assignors(value: &str) -> Result<String, String> {
    let mut names: Vec<&str> = Vec::new();
    for class in value.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let short = class.rsplit('.').next().unwrap_or(class);
        let name = match short {
            "RangeAssignor" | "range" => "range",
            "RoundRobinAssignor" | "roundrobin" => "roundrobin",
            "CooperativeStickyAssignor" | "cooperative-sticky" => "cooperative-sticky",
            _ => {
                return Err(format!(
                    "partition.assignment.strategy={value}: {class} is not an assignor this client has; use RangeAssignor, RoundRobinAssignor or CooperativeStickyAssignor"
                ))
            }
        };
        names.push(name);
    }
    let cooperative = |n: &&str| *n == "cooperative-sticky";
    let Some(first) = names.first() else {
        return Err(format!(
            "partition.assignment.strategy={value}: no assignor given"
        ));
    };
    let first_kind = cooperative(first);
    names.retain(|n| cooperative(n) == first_kind);
    names.dedup();
    Ok(names.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(k: &str, v: &str) -> Result<Translated, String> {
        Ok(Translated::Set(k.to_string(), v.to_string()))
    }

    #[test]
    fn java_names_become_librdkafka_names() {
        assert_eq!(
            translate("fetch.max.wait.ms", "100"),
            set("fetch.wait.max.ms", "100")
        );
        assert_eq!(
            translate("receive.buffer.bytes", "-1"),
            set("socket.receive.buffer.bytes", "0")
        );
        assert_eq!(
            translate("send.buffer.bytes", "131072"),
            set("socket.send.buffer.bytes", "131072")
        );
        assert_eq!(
            translate("max.request.size", "2097152"),
            set("message.max.bytes", "2097152")
        );
        assert_eq!(
            translate("buffer.memory", "33554432"),
            set("queue.buffering.max.kbytes", "32768")
        );
        assert!(translate("buffer.memory", "lots").is_err_and(|e| e.contains("buffer.memory")));
    }

    #[test]
    fn shared_and_unknown_names_pass_and_java_only_ones_drop() {
        assert_eq!(
            translate("fetch.min.bytes", "1"),
            set("fetch.min.bytes", "1")
        );
        assert_eq!(translate("linger.ms", "5"), set("linger.ms", "5"));
        // A misspelt key reaches librdkafka, which refuses it by name.
        assert_eq!(
            translate("fetch.mni.bytes", "1"),
            set("fetch.mni.bytes", "1")
        );
        for k in ["key.deserializer", "interceptor.classes", "max.block.ms"] {
            assert_eq!(translate(k, "x"), Ok(Translated::Dropped), "{k}");
        }
    }

    #[test]
    fn assignor_classes_become_names_of_one_kind() {
        let t = |v| translate("partition.assignment.strategy", v);
        assert_eq!(
            t("org.apache.kafka.clients.consumer.RoundRobinAssignor"),
            set("partition.assignment.strategy", "roundrobin")
        );
        assert_eq!(
            t("org.apache.kafka.clients.consumer.RangeAssignor, org.apache.kafka.clients.consumer.CooperativeStickyAssignor"),
            set("partition.assignment.strategy", "range")
        );
        assert_eq!(
            t("CooperativeStickyAssignor,RangeAssignor"),
            set("partition.assignment.strategy", "cooperative-sticky")
        );
        assert!(t("org.apache.kafka.clients.consumer.StickyAssignor")
            .is_err_and(|e| e.contains("StickyAssignor is not an assignor")));
        assert!(t(" ").is_err());
    }
}
