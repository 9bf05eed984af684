//! Tests of the sink task loop's record handling.

use super::*;
use crate::runtime::config::WorkerSettings;
use connect_api::{ErrantRecordReporter, Props, SchemaAndValue, Value};

fn record(offset: i64) -> SinkRecord {
    SinkRecord {
        topic: "t".into(),
        partition: 0,
        offset,
        key: SchemaAndValue::NULL,
        value: SchemaAndValue::new(None, Value::String(format!("v{offset}"))),
        timestamp: None,
        timestamp_type: TimestampType::NoTimestamp,
        headers: Vec::new(),
        original_topic: "t".into(),
        original_partition: 0,
        original_offset: offset,
    }
}

fn converters() -> Converters {
    let props: Props = [
        ("key.converter", "StringConverter"),
        ("value.converter", "StringConverter"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    WorkerSettings::from_props(props, "localhost:9092".into(), "w".into())
        .expect("settings")
        .converters(&Props::new())
        .expect("converters")
}

fn tolerance(all: bool, metrics: Arc<crate::runtime::metrics::TaskMetrics>) -> Tolerance {
    let props: Props = [
        ("errors.tolerance", if all { "all" } else { "none" }),
        ("errors.log.enable", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Tolerance::new(
        crate::runtime::errors::ErrorSettings::from_props(&props),
        metrics,
        "c-0".into(),
    )
}

#[test]
fn errant_records_are_skipped_or_fail_the_task_by_tolerance() {
    let metrics = Arc::new(crate::runtime::metrics::TaskMetrics::default());
    let errant = Errant::default();
    errant.report(
        &record(7),
        ConnectError::data("the database refused the row"),
    );
    errant.report(&record(9), ConnectError::data("too long"));
    report_errant(
        &errant,
        &Originals::new(),
        &converters(),
        &tolerance(true, metrics.clone()),
        None,
    )
    .expect("tolerated");
    assert_eq!(metrics.records_skipped.load(Ordering::Relaxed), 2);
    assert_eq!(metrics.errors_logged.load(Ordering::Relaxed), 2);
    assert!(errant.0.lock().is_empty(), "reports are taken once");

    errant.report(
        &record(11),
        ConnectError::data("the database refused the row"),
    );
    let err = report_errant(
        &errant,
        &Originals::new(),
        &converters(),
        &tolerance(false, metrics),
        None,
    )
    .expect_err("tolerance none fails the task");
    let text = format!("{err:#}");
    assert!(
        text.contains("Tolerance exceeded in error handler"),
        "{text}"
    );
    assert!(text.contains("TASK_PUT"), "{text}");
    assert!(text.contains("topic t partition 0 offset 11"), "{text}");
}
