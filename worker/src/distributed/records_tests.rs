//! Internal-topic records against Kafka Connect's documented layouts.

use super::*;

fn props(kv: &[(&str, &str)]) -> Props {
    kv.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn text(b: Option<Vec<u8>>) -> String {
    String::from_utf8(b.expect("a value")).expect("utf8")
}

fn round_trip(r: &ConfigRecord) {
    let key = r.key();
    let value = r.value();
    let back = ConfigRecord::parse(key.as_bytes(), value.as_deref())
        .expect("parses")
        .expect("known");
    assert_eq!(&back, r);
}

#[test]
fn config_topic_keys_and_values() {
    let c = ConfigRecord::Connector {
        name: "my-conn".into(),
        config: Some(props(&[
            ("connector.class", "FileStreamSource"),
            ("tasks.max", "1"),
        ])),
    };
    assert_eq!(c.key(), "connector-my-conn");
    assert_eq!(
        text(c.value()),
        r#"{"properties":{"connector.class":"FileStreamSource","tasks.max":"1"}}"#
    );
    round_trip(&c);

    let t = ConfigRecord::Task {
        connector: "my-conn".into(),
        task: 12,
        config: props(&[("file", "/x")]),
    };
    assert_eq!(t.key(), "task-my-conn-12");
    assert_eq!(text(t.value()), r#"{"properties":{"file":"/x"}}"#);
    round_trip(&t);

    let commit = ConfigRecord::Commit {
        connector: "my-conn".into(),
        tasks: 2,
    };
    assert_eq!(commit.key(), "commit-my-conn");
    assert_eq!(text(commit.value()), r#"{"tasks":2}"#);
    round_trip(&commit);

    let stopped = ConfigRecord::Target {
        connector: "c".into(),
        state: Some(TargetState::Stopped),
    };
    assert_eq!(stopped.key(), "target-state-c");
    assert_eq!(
        text(stopped.value()),
        r#"{"state":"PAUSED","state.v2":"STOPPED"}"#
    );
    round_trip(&stopped);
    let paused = ConfigRecord::Target {
        connector: "c".into(),
        state: Some(TargetState::Paused),
    };
    assert_eq!(
        text(paused.value()),
        r#"{"state":"PAUSED","state.v2":"PAUSED"}"#
    );

    let restart = ConfigRecord::Restart {
        connector: "c".into(),
        include_tasks: true,
        only_failed: false,
    };
    assert_eq!(restart.key(), "restart-connector-c");
    assert_eq!(
        text(restart.value()),
        r#"{"include-tasks":true,"only-failed":false}"#
    );
    round_trip(&restart);

    let key = ConfigRecord::SessionKey {
        key: "c2VjcmV0".into(),
        algorithm: "HmacSHA256".into(),
        created_ms: 1_700_000_000_000,
    };
    assert_eq!(
        text(key.value()),
        r#"{"key":"c2VjcmV0","algorithm":"HmacSHA256","creation-timestamp":1700000000000}"#
    );
    round_trip(&key);

    let fencing = ConfigRecord::TasksFencing {
        connector: "c".into(),
        count: 3,
    };
    assert_eq!(fencing.key(), "tasks-fencing-c");
    assert_eq!(text(fencing.value()), r#"{"task-count":3}"#);
    round_trip(&fencing);
}

#[test]
fn tombstones_and_old_target_states() {
    let deleted = ConfigRecord::parse(b"connector-c", None).expect("ok");
    assert_eq!(
        deleted,
        Some(ConfigRecord::Connector {
            name: "c".into(),
            config: None
        })
    );
    let target = ConfigRecord::parse(b"target-state-c", None).expect("ok");
    assert_eq!(
        target,
        Some(ConfigRecord::Target {
            connector: "c".into(),
            state: None
        })
    );
    // A worker that wrote only `state` (before KIP-875).
    let old = ConfigRecord::parse(b"target-state-c", Some(br#"{"state":"PAUSED"}"#)).expect("ok");
    assert_eq!(
        old,
        Some(ConfigRecord::Target {
            connector: "c".into(),
            state: Some(TargetState::Paused)
        })
    );
    assert_eq!(
        ConfigRecord::parse(b"something-new", Some(b"{}")).expect("ok"),
        None
    );
}

#[test]
fn malformed_config_records_name_the_key() {
    let err = ConfigRecord::parse(b"commit-c", Some(br#"{"tasks":"two"}"#)).expect_err("bad");
    assert!(
        err.to_string().contains("commit-c") && err.to_string().contains("tasks"),
        "{err}"
    );
    let err = ConfigRecord::parse(b"task-c-x", Some(br#"{"properties":{}}"#)).expect_err("bad");
    assert!(err.to_string().contains("task-c-x"), "{err}");
    let err = ConfigRecord::parse(b"connector-c", Some(b"{not json")).expect_err("bad");
    assert!(err.to_string().contains("not JSON"), "{err}");
}

#[test]
fn status_topic_keys_and_values() {
    let k = StatusKey::Task("my-conn".into(), 3);
    assert_eq!(k.key(), "status-task-my-conn-3");
    assert_eq!(StatusKey::parse(&k.key()), Some(k));
    let t = StatusKey::Topic {
        topic: "logs".into(),
        connector: "my-conn".into(),
    };
    assert_eq!(t.key(), "status-topic-logs:connector-my-conn");
    assert_eq!(StatusKey::parse(&t.key()), Some(t));
    let s = StatusRecord {
        state: "RUNNING".into(),
        trace: None,
        worker_id: "127.0.0.1:8083".into(),
        generation: 4,
    };
    let v = s.value();
    assert_eq!(
        String::from_utf8(v.clone()).expect("utf8"),
        r#"{"state":"RUNNING","trace":null,"worker_id":"127.0.0.1:8083","generation":4}"#
    );
    assert_eq!(
        StatusRecord::parse("status-connector-c", &v).expect("parses"),
        s
    );
    assert_eq!(
        String::from_utf8(topic_status_value("logs", "c", 0, 5)).expect("utf8"),
        r#"{"topic":{"name":"logs","connector":"c","task":0,"discoverTimestamp":5}}"#
    );
}
