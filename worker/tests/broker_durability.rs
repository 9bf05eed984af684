//! The `weir broker` binary killed with SIGKILL: every acknowledged record and
//! every committed offset survives, and a corrupt tail is repaired on start.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};

struct Broker {
    child: Child,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn spawn(dir: &Path, port: u16) -> Broker {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["broker", "--override"])
        .arg(format!("log.dirs={}", dir.display()))
        .arg("--override")
        .arg(format!("listeners=PLAINTEXT://127.0.0.1:{port}"))
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("weir broker starts");
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().expect("log lock").push(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "broker did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    Broker { child, port, log }
}

impl Broker {
    fn client(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", format!("127.0.0.1:{}", self.port));
        c
    }
    fn sigkill(&mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }
    fn logged(&self, needle: &str) -> bool {
        self.log
            .lock()
            .expect("log lock")
            .iter()
            .any(|l| l.contains(needle))
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends each value to partition 0 and waits for its acknowledgement.
async fn send_each(p: &FutureProducer, topic: &str, values: impl Iterator<Item = String>) {
    for v in values {
        p.send(
            FutureRecord::to(topic).partition(0).key("k").payload(&v),
            Duration::from_secs(10),
        )
        .await
        .expect("acked");
    }
}

fn read_all(b: &Broker, topic: &str, partitions: i32) -> Vec<String> {
    let c: BaseConsumer = b
        .client()
        .set("group.id", "reader")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .expect("tpl");
    }
    c.assign(&tpl).expect("assign");
    let mut out = Vec::new();
    let mut idle = Instant::now();
    while idle.elapsed() < Duration::from_secs(3) {
        if let Some(m) = c.poll(Duration::from_millis(100)) {
            let m = m.expect("message");
            out.push(String::from_utf8_lossy(m.payload().unwrap_or_default()).to_string());
            idle = Instant::now();
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_records_and_offsets_survive_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut b = spawn(dir.path(), port);

    // A committed group offset before the crash.
    let p: FutureProducer = b
        .client()
        .set("acks", "all")
        .set("linger.ms", "2")
        .set("message.timeout.ms", "5000")
        .create()
        .expect("producer");
    send_each(&p, "durable", (0..10).map(|i| format!("pre-{i}"))).await;
    {
        let c: BaseConsumer = b
            .client()
            .set("group.id", "committer")
            .set("enable.auto.commit", "false")
            .create()
            .expect("consumer");
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset("durable", 0, Offset::Offset(7))
            .expect("tpl");
        c.commit(&tpl, CommitMode::Sync).expect("commit");
    }

    // Produce continuously and SIGKILL the broker mid-stream.
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut futs = Vec::new();
    for i in 0..20_000 {
        let value = format!("live-{i}");
        match p.send_result(
            FutureRecord::to("durable")
                .partition(0)
                .key("k")
                .payload(&value),
        ) {
            // The first record is awaited, so at least one acknowledgement
            // exists before the kill however slow the disk is.
            Ok(f) if i == 0 => {
                if let Ok(Ok(_)) = f.await {
                    acked.lock().expect("acked").push(value);
                }
            }
            Ok(f) => futs.push((value, f)),
            Err(_) => break,
        }
        if i == 10_000 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            b.sigkill();
        }
    }
    for (value, f) in futs {
        if let Ok(Ok(_)) = f.await {
            acked.lock().expect("acked").push(value);
        }
    }
    drop(p);
    let acked = acked.lock().expect("acked").clone();
    assert!(
        !acked.is_empty(),
        "some records were acknowledged before the kill"
    );
    eprintln!(
        "{} of 20000 records acknowledged before SIGKILL",
        acked.len()
    );

    let b = spawn(dir.path(), port);
    let stored = read_all(&b, "durable", 1);
    let stored_set: std::collections::HashSet<&String> = stored.iter().collect();
    let missing: Vec<&String> = acked.iter().filter(|v| !stored_set.contains(v)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged records lost, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    for i in 0..10 {
        assert!(stored_set.contains(&format!("pre-{i}")));
    }
    let c: BaseConsumer = b
        .client()
        .set("group.id", "committer")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition("durable", 0);
    let committed = c
        .committed_offsets(tpl, Duration::from_secs(10))
        .expect("committed");
    assert_eq!(committed.elements()[0].offset(), Offset::Offset(7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_after_the_last_batch_is_truncated_on_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut b = spawn(dir.path(), port);
    let p: FutureProducer = b.client().create().expect("producer");
    send_each(&p, "torn", (0..50).map(|i| format!("v{i}"))).await;
    drop(p);
    b.sigkill();
    let segment = dir.path().join("torn-0").join(format!("{:020}.log", 0));
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&segment)
        .expect("segment");
    f.write_all(&[0xAB; 777]).expect("garbage");
    drop(f);

    let b = spawn(dir.path(), port);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !b.logged("dropped 777 bytes") {
        assert!(
            Instant::now() < deadline,
            "no repair log line: {:?}",
            b.log.lock().expect("log")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let stored = read_all(&b, "torn", 1);
    assert_eq!(stored, (0..50).map(|i| format!("v{i}")).collect::<Vec<_>>());
    // New writes land after the repaired tail.
    let p: FutureProducer = b.client().create().expect("producer");
    let delivery = p
        .send(
            FutureRecord::to("torn")
                .partition(0)
                .key("k")
                .payload("after"),
            Duration::from_secs(10),
        )
        .await
        .expect("acked");
    assert_eq!(delivery.offset, 50);
}
