//! Consumer groups with real librdkafka consumers.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::*;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::Message;

fn assigned(c: &BaseConsumer) -> BTreeSet<i32> {
    c.assignment()
        .map(|t| t.elements().iter().map(|e| e.partition()).collect())
        .unwrap_or_default()
}

/// Polls every consumer until `done` holds or the timeout passes; the
/// partition and offset of every message polled go into `seen`.
fn poll_until(
    cs: &[&BaseConsumer],
    timeout: Duration,
    seen: &mut BTreeSet<(i32, i64)>,
    mut done: impl FnMut() -> bool,
) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        for c in cs {
            if let Some(Ok(m)) = c.poll(Duration::from_millis(50)) {
                seen.insert((m.partition(), m.offset()));
            }
        }
        if done() {
            return true;
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_members_share_six_partitions_rebalance_commit_and_resume() {
    let b = start().await;
    b.create_topic("orders", 6, &[]).await;
    let p = b.producer(&[]);
    for part in 0..6 {
        produce(&p, "orders", Some(part), &msgs(&format!("p{part}"), 10)).await;
    }
    let a = b.consumer("g", &[]);
    a.subscribe(&["orders"]).expect("subscribe");
    // What the first member reads alone is read again after the next
    // rebalance (nothing is committed yet): it does not count.
    assert!(
        poll_until(&[&a], Duration::from_secs(20), &mut BTreeSet::new(), || {
            assigned(&a).len() == 6
        }),
        "the first member gets all six partitions"
    );
    let c2 = b.consumer("g", &[]);
    let c3 = b.consumer("g", &[]);
    c2.subscribe(&["orders"]).expect("subscribe");
    c3.subscribe(&["orders"]).expect("subscribe");
    // Messages read while the members settle count (each once: a message
    // read before a rebalance is read again after it).
    let mut seen = BTreeSet::new();
    let balanced = poll_until(&[&a, &c2, &c3], Duration::from_secs(30), &mut seen, || {
        let (x, y, z) = (assigned(&a), assigned(&c2), assigned(&c3));
        let all: BTreeSet<i32> = x.iter().chain(&y).chain(&z).copied().collect();
        x.len() == 2 && y.len() == 2 && z.len() == 2 && all.len() == 6
    });
    assert!(balanced, "three members get two partitions each");

    // Consume everything through the three members and commit.
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.len() < 60 && Instant::now() < deadline {
        for c in [&a, &c2, &c3] {
            if let Some(Ok(m)) = c.poll(Duration::from_millis(50)) {
                seen.insert((m.partition(), m.offset()));
            }
        }
    }
    assert_eq!(seen.len(), 60, "every message of the six partitions, once");
    for c in [&a, &c2, &c3] {
        c.commit_consumer_state(CommitMode::Sync).expect("commit");
    }

    // One member leaves: the other two take over its partitions.
    drop(c3);
    let rebalanced = poll_until(
        &[&a, &c2],
        Duration::from_secs(30),
        &mut BTreeSet::new(),
        || assigned(&a).len() + assigned(&c2).len() == 6 && assigned(&a).len() == 3,
    );
    assert!(rebalanced, "two members share six partitions after a leave");
    drop(a);
    drop(c2);

    // New messages, then a new member of the same group resumes after the commits.
    for part in 0..6 {
        produce(
            &p,
            "orders",
            Some(part),
            &[("k".into(), format!("late-{part}"))],
        )
        .await;
    }
    let d = b.consumer("g", &[]);
    d.subscribe(&["orders"]).expect("subscribe");
    let got = consume_n(&d, 6, Duration::from_secs(30));
    let mut values: Vec<String> = got.iter().map(|m| m.3.clone()).collect();
    values.sort();
    assert_eq!(
        values,
        (0..6).map(|p| format!("late-{p}")).collect::<Vec<_>>(),
        "only uncommitted messages are delivered"
    );
    assert!(got.iter().all(|m| m.1 == 10));
    assert!(consume_n(&d, 1, Duration::from_millis(800)).is_empty());
    drop(d);

    // Committed offsets are visible to a fresh consumer of the group.
    let e = b.consumer("g", &[]);
    let mut tpl = rdkafka::TopicPartitionList::new();
    for part in 0..6 {
        tpl.add_partition("orders", part);
    }
    let committed = e
        .committed_offsets(tpl, Duration::from_secs(10))
        .expect("committed offsets");
    for el in committed.elements() {
        assert_eq!(
            el.offset(),
            rdkafka::Offset::Offset(10),
            "partition {}",
            el.partition()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_offsets_and_groups_survive_restart() {
    let mut b = start().await;
    b.create_topic("t", 2, &[]).await;
    let p = b.producer(&[]);
    produce(&p, "t", Some(0), &msgs("a", 5)).await;
    produce(&p, "t", Some(1), &msgs("b", 7)).await;
    drop(p);
    {
        let c = b.consumer("keep", &[]);
        c.subscribe(&["t"]).expect("subscribe");
        assert_eq!(consume_n(&c, 12, Duration::from_secs(20)).len(), 12);
        c.commit_consumer_state(CommitMode::Sync).expect("commit");
    }
    let dir = b.dir.path().to_path_buf();
    b.stop().await;
    let cfg_dir = dir.clone();
    let b2 = start_with(move |c| c.log_dir = cfg_dir.clone()).await;
    let c = b2.consumer("keep", &[]);
    let mut tpl = rdkafka::TopicPartitionList::new();
    tpl.add_partition("t", 0);
    tpl.add_partition("t", 1);
    let committed = c
        .committed_offsets(tpl, Duration::from_secs(10))
        .expect("committed");
    let offs: Vec<_> = committed.elements().iter().map(|e| e.offset()).collect();
    assert_eq!(
        offs,
        vec![rdkafka::Offset::Offset(5), rdkafka::Offset::Offset(7)]
    );
    let groups = c
        .fetch_group_list(Some("keep"), Duration::from_secs(10))
        .expect("group list");
    assert_eq!(groups.groups().len(), 1);
    assert_eq!(groups.groups()[0].state(), "Empty");
}
