//! Shared helpers: an in-process broker on port 0 and rdkafka clients for it.
#![allow(dead_code)]

use std::time::Duration;

use broker_core::{BrokerConfig, RunningBroker};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::BaseConsumer;
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};

pub struct TestBroker {
    pub broker: Option<RunningBroker>,
    pub dir: tempfile::TempDir,
    pub bootstrap: String,
}

pub async fn start_with(mut f: impl FnMut(&mut BrokerConfig)) -> TestBroker {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = BrokerConfig::ephemeral(dir.path());
    f(&mut cfg);
    let broker = RunningBroker::start(cfg).await.expect("broker starts");
    let bootstrap = broker.bootstrap();
    TestBroker {
        broker: Some(broker),
        dir,
        bootstrap,
    }
}

pub async fn start() -> TestBroker {
    start_with(|_| {}).await
}

impl TestBroker {
    pub fn client(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap)
            .set("message.timeout.ms", "10000")
            .set("socket.timeout.ms", "10000");
        c
    }

    pub fn producer(&self, extra: &[(&str, &str)]) -> FutureProducer {
        let mut c = self.client();
        for (k, v) in extra {
            c.set(*k, *v);
        }
        c.create().expect("producer")
    }

    pub fn consumer(&self, group: &str, extra: &[(&str, &str)]) -> BaseConsumer {
        let mut c = self.client();
        c.set("group.id", group)
            .set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "false")
            .set("session.timeout.ms", "6000")
            .set("heartbeat.interval.ms", "500");
        for (k, v) in extra {
            c.set(*k, *v);
        }
        c.create().expect("consumer")
    }

    pub fn admin(&self) -> AdminClient<DefaultClientContext> {
        self.client().create().expect("admin")
    }

    pub async fn create_topic(&self, name: &str, partitions: i32, configs: &[(&str, &str)]) {
        let mut t = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
        for (k, v) in configs {
            t = t.set(k, v);
        }
        let res = self
            .admin()
            .create_topics([&t], &AdminOptions::new())
            .await
            .expect("create_topics");
        for r in res {
            r.expect("topic created");
        }
    }

    pub async fn stop(&mut self) {
        if let Some(b) = self.broker.take() {
            b.shutdown().await.expect("clean shutdown");
        }
    }
}

/// Produces `(key, value)` pairs to one partition and waits for every ack.
pub async fn produce(
    p: &FutureProducer,
    topic: &str,
    partition: Option<i32>,
    msgs: &[(String, String)],
) {
    let mut futs = Vec::new();
    for (k, v) in msgs {
        let mut rec = FutureRecord::to(topic).key(k).payload(v);
        if let Some(part) = partition {
            rec = rec.partition(part);
        }
        futs.push(p.send_result(rec).expect("enqueue"));
    }
    for f in futs {
        f.await.expect("delivery future").expect("delivered");
    }
}

/// Polls until `n` messages arrived or `timeout` passes; returns (partition, offset, key, value).
pub fn consume_n(c: &BaseConsumer, n: usize, timeout: Duration) -> Vec<(i32, i64, String, String)> {
    let deadline = std::time::Instant::now() + timeout;
    let mut out = Vec::new();
    while out.len() < n && std::time::Instant::now() < deadline {
        if let Some(r) = c.poll(Duration::from_millis(100)) {
            let m = r.expect("message without error");
            out.push((
                m.partition(),
                m.offset(),
                String::from_utf8_lossy(m.key().unwrap_or_default()).to_string(),
                String::from_utf8_lossy(m.payload().unwrap_or_default()).to_string(),
            ));
        }
    }
    out
}

pub fn msgs(prefix: &str, n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| (format!("k{i}"), format!("{prefix}-{i}")))
        .collect()
}
