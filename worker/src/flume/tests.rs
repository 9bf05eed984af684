use super::*;
use broker_core::properties::Properties;

fn load(text: &str) -> BTreeMap<String, String> {
    Properties::parse(text)
        .expect("properties")
        .to_map()
        .into_iter()
        .collect()
}

fn find<'a>(plan: &'a Plan, name: &str) -> &'a Props {
    &plan
        .connectors
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no connector {name} in {plan:?}"))
        .config
}

/// Flume's user guide example (and the tutorial's example.conf).
const EXAMPLE: &str = "
# example.conf: A single-node Flume configuration
a1.sources = r1
a1.sinks = k1
a1.channels = c1
a1.sources.r1.type = netcat
a1.sources.r1.bind = localhost
a1.sources.r1.port = 44444
a1.sinks.k1.type = logger
a1.channels.c1.type = memory
a1.channels.c1.capacity = 1000
a1.channels.c1.transactionCapacity = 100
a1.sources.r1.channels = c1
a1.sinks.k1.channel = c1
";

#[test]
fn the_user_guide_example() {
    let plan = plan(&load(EXAMPLE), "a1").expect("plan");
    assert_eq!(plan.connectors.len(), 2);
    let r1 = find(&plan, "a1.sources.r1");
    assert_eq!(
        r1["connector.class"],
        "org.apache.flume.source.NetcatSource"
    );
    assert_eq!(r1["topic"], "flume.a1.c1");
    assert_eq!(r1["port"], "44444");
    assert!(!r1.contains_key("channels") && !r1.contains_key("type"));
    let k1 = find(&plan, "a1.sinks.k1");
    assert_eq!(k1["connector.class"], "org.apache.flume.sink.LoggerSink");
    assert_eq!(k1["topics"], "flume.a1.c1");
    assert_eq!(
        plan.channels,
        vec![FlumeChannel {
            agent: "a1".into(),
            name: "c1".into(),
            topic: "flume.a1.c1".into(),
            writers: vec!["a1.sources.r1".into()],
            readers: vec!["a1.sinks.k1".into()],
        }]
    );
    let e = plan_err(EXAMPLE, "a2");
    assert_eq!(e.key, "a2.sources");
}

fn plan_err(text: &str, agent: &str) -> Refused {
    plan(&load(text), agent).expect_err("refused")
}

#[test]
fn the_tutorial_spool_to_hdfs_agent() {
    let text = "
a1.sources = r1
a1.sinks = k1
a1.channels = c1
a1.sources.r1.type = spooldir
a1.sources.r1.spoolDir = /home/maria_dev/spool
a1.sources.r1.fileHeader = true
a1.sources.r1.interceptors = timestampInterceptor
a1.sources.r1.interceptors.timestampInterceptor.type = timestamp
a1.sinks.k1.type = hdfs
a1.sinks.k1.hdfs.path = /user/maria_dev/flume/%y-%m-%d/%H%M/%S
a1.sinks.k1.hdfs.filePrefix = events-
a1.sinks.k1.hdfs.round = true
a1.sinks.k1.hdfs.roundValue = 10
a1.sinks.k1.hdfs.roundUnit = minute
a1.channels.c1.type = memory
a1.channels.c1.capacity = 1000
a1.channels.c1.transactionCapacity = 100
a1.sources.r1.channels = c1
a1.sinks.k1.channel = c1
";
    let plan = plan(&load(text), "a1").expect("plan");
    let r1 = find(&plan, "a1.sources.r1");
    assert_eq!(r1["spoolDir"], "/home/maria_dev/spool");
    assert_eq!(r1["transforms"], "timestampInterceptor");
    assert_eq!(
        r1["transforms.timestampInterceptor.type"],
        "org.apache.flume.interceptor.TimestampInterceptor$Builder"
    );
    let k1 = find(&plan, "a1.sinks.k1");
    assert_eq!(
        k1["connector.class"],
        "org.apache.flume.sink.hdfs.HDFSEventSink"
    );
    assert_eq!(k1["hdfs.roundUnit"], "minute");
}

#[test]
fn fan_out_and_multiplexing() {
    let text = "
a.sources = s
a.channels = c1 c2
a.sinks = k1 k2
a.sources.s.type = exec
a.sources.s.command = cat /tmp/x
a.sources.s.channels = c1 c2
a.sources.s.selector.type = multiplexing
a.sources.s.selector.header = state
a.sources.s.selector.mapping.CZ = c1
a.sources.s.selector.mapping.US = c2 c1
a.sources.s.selector.default = c2
a.channels.c1.type = memory
a.channels.c2.type = org.apache.flume.channel.kafka.KafkaChannel
a.channels.c2.kafka.topic = shared
a.channels.c2.kafka.bootstrap.servers = 127.0.0.1:9999
a.sinks.k1.type = file_roll
a.sinks.k1.sink.directory = /tmp/out
a.sinks.k1.channel = c1
a.sinks.k2.type = avro
a.sinks.k2.hostname = collector
a.sinks.k2.port = 4545
a.sinks.k2.channel = c2
";
    let plan = plan(&load(text), "a").expect("plan");
    assert_eq!(plan.bootstrap.as_deref(), Some("127.0.0.1:9999"));
    assert_eq!(find(&plan, "a.sources.s")["topic"], "flume.a.s");
    let c2 = find(&plan, "a.sources.s.c2");
    assert_eq!(c2["topics"], "flume.a.s");
    assert_eq!(c2["kafka.topic"], "shared");
    assert_eq!(c2["transforms.select.mapping.US"], "c2 c1");
    assert_eq!(c2["transforms.select.channel"], "c2");
    assert_eq!(find(&plan, "a.sinks.k2")["kafka.topic"], avro_topic("4545"));
    assert_eq!(find(&plan, "a.sinks.k2")["topics"], "shared");
    let wiring: Vec<(&str, Vec<&str>, Vec<&str>)> = plan
        .channels
        .iter()
        .map(|c| {
            assert_eq!(c.agent, "a");
            (
                c.name.as_str(),
                c.writers.iter().map(String::as_str).collect(),
                c.readers.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        wiring,
        vec![
            ("c1", vec!["a.sources.s.c1"], vec!["a.sinks.k1"]),
            ("c2", vec!["a.sources.s.c2"], vec!["a.sinks.k2"]),
        ]
    );
}

#[test]
fn what_cannot_run_is_refused_by_key() {
    let cases = [
        ("a1.sources.r1.type = org.example.MySource", "a1.sources.r1.type"),
        ("a1.sources.r1.interceptors = m\na1.sources.r1.interceptors.m.type = org.apache.flume.sink.solr.morphline.MorphlineInterceptor$Builder", "a1.sources.r1.interceptors.m.type"),
        ("a1.channels.c1.type = org.example.Channel", "a1.channels.c1.type"),
        ("a1.sinks.k1.type = hbase", "a1.sinks.k1.type"),
        ("a1.sinks.k1.channel = nope", "a1.sinks.k1.channel"),
        ("a1.sinkgroups = g1", "a1.sinkgroups"),
        ("a1.sources.r1.selector.type = load_balancing", "a1.sources.r1.selector.type"),
    ];
    for (extra, key) in cases {
        let e = plan_err(&format!("{EXAMPLE}\n{extra}\n"), "a1");
        assert_eq!(e.key, key, "{e}");
    }
}

#[test]
fn a_kafka_channel_brings_its_client_keys() {
    let text = "
a.sources = r
a.channels = c
a.sinks = k
a.sources.r.type = netcat
a.sources.r.bind = localhost
a.sources.r.port = 44444
a.sources.r.channels = c
a.channels.c.type = org.apache.flume.channel.kafka.KafkaChannel
a.channels.c.kafka.bootstrap.servers = kafka:9093
a.channels.c.kafka.topic = logs
a.channels.c.kafka.consumer.group.id = flume
a.channels.c.kafka.producer.security.protocol = SASL_SSL
a.channels.c.kafka.producer.sasl.mechanism = SCRAM-SHA-512
a.channels.c.kafka.producer.acks = all
a.channels.c.kafka.consumer.security.protocol = SASL_SSL
a.channels.c.kafka.consumer.sasl.mechanism = PLAIN
a.sinks.k.type = logger
a.sinks.k.channel = c
";
    let plan = plan(&load(text), "a").expect("plan");
    let get = |k: &str| plan.worker.get(k).map(String::as_str);
    assert_eq!(get("producer.security.protocol"), Some("SASL_SSL"));
    assert_eq!(get("producer.sasl.mechanism"), Some("SCRAM-SHA-512"));
    assert_eq!(
        get("producer.acks"),
        None,
        "Java client tuning is not passed on"
    );
    assert_eq!(get("consumer.sasl.mechanism"), Some("PLAIN"));
    assert_eq!(
        get("consumer.group.id"),
        None,
        "each sink has its own group"
    );
    // The worker's own clients log in as the sinks do.
    assert_eq!(get("sasl.mechanism"), Some("PLAIN"));
    assert_eq!(get("security.protocol"), Some("SASL_SSL"));
    assert_eq!(get("acks"), None);
}
