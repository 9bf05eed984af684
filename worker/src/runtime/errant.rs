//! What a sink task reports as errant (KIP-610): the bytes of the batch's
//! records kept as they were consumed, and each reported record logged,
//! sent to the dead letter queue and skipped, or failing the task under
//! `errors.tolerance=none`.

use std::sync::Arc;
use std::time::Duration;

use connect_api::{ConnectError, SinkRecord};
use parking_lot::Mutex;
use rdkafka::message::{BorrowedMessage, Headers, Message};

use super::config::Converters;
use super::errors::{DeadLetterQueue, Failure, Origin, RawRecord, Stage, Tolerance};
use super::TaskEnv;

/// Records the task reported as errant, handled by the loop after `put`.
#[derive(Default)]
pub(super) struct Errant(pub(super) Mutex<Vec<(SinkRecord, ConnectError)>>);

impl connect_api::ErrantRecordReporter for Errant {
    fn report(&self, record: &SinkRecord, error: ConnectError) {
        self.0.lock().push((record.clone(), error));
    }
}

/// Handles the records the task reported during `put`: each is logged
/// and sent to the dead letter queue (its value converted back with the
/// task's converters), then skipped or, under `errors.tolerance=none`,
/// the task fails.
pub(super) fn report_errant(
    errant: &Errant,
    originals: &Originals,
    conv: &Converters,
    tolerance: &Tolerance,
    dlq: Option<&DeadLetterQueue>,
) -> anyhow::Result<()> {
    let reported = std::mem::take(&mut *errant.0.lock());
    let result = report_each(reported, originals, conv, tolerance, dlq);
    if result.is_err() {
        if let Some(d) = dlq {
            // The record is in the dead letter queue before the task fails.
            let _ = d.flush(Duration::from_secs(10));
        }
    }
    result
}

/// The bytes of the records of the batch being put, by original
/// coordinates, kept while the task has an errant record reporter and a
/// dead letter queue: reported records go there as they were consumed.
pub(super) type Originals = std::collections::HashMap<(String, i32, i64), OwnedRaw>;

pub(super) struct OwnedRaw {
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<(String, Option<Vec<u8>>)>,
    timestamp: Option<i64>,
}

impl OwnedRaw {
    pub(super) fn of(m: &BorrowedMessage<'_>) -> Self {
        Self {
            key: m.key().map(<[u8]>::to_vec),
            value: m.payload().map(<[u8]>::to_vec),
            headers: m
                .headers()
                .map(|h| {
                    h.iter()
                        .map(|x| (x.key.to_string(), x.value.map(<[u8]>::to_vec)))
                        .collect()
                })
                .unwrap_or_default(),
            timestamp: m.timestamp().to_millis(),
        }
    }

    fn raw(&self) -> RawRecord<'_> {
        RawRecord {
            key: self.key.as_deref(),
            value: self.value.as_deref(),
            headers: self
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_deref()))
                .collect(),
            timestamp: self.timestamp,
        }
    }
}

/// A record the task built itself, encoded with the task's converters.
fn encoded(r: &SinkRecord, conv: &Converters) -> Result<OwnedRaw, ConnectError> {
    let own = |c: Option<std::borrow::Cow<'_, [u8]>>| c.map(|c| c.into_owned());
    let mut headers = Vec::with_capacity(r.headers.len());
    for h in &r.headers {
        headers.push((h.key.clone(), own(conv.header.encode(&r.topic, &h.value)?)));
    }
    Ok(OwnedRaw {
        key: own(conv.key.encode(&r.topic, &r.key)?),
        value: own(conv.value.encode(&r.topic, &r.value)?),
        headers,
        timestamp: r.timestamp,
    })
}

fn report_each(
    reported: Vec<(SinkRecord, ConnectError)>,
    originals: &Originals,
    conv: &Converters,
    tolerance: &Tolerance,
    dlq: Option<&DeadLetterQueue>,
) -> anyhow::Result<()> {
    for (r, error) in reported {
        let failure = Failure {
            stage: Stage::TaskPut,
            class: "org.apache.kafka.connect.sink.SinkTask".to_string(),
            error,
        };
        let origin = Origin::Consumed {
            topic: &r.original_topic,
            partition: r.original_partition,
            offset: r.original_offset,
        };
        if let Some(d) = dlq {
            let coords = (
                r.original_topic.clone(),
                r.original_partition,
                r.original_offset,
            );
            match originals.get(&coords) {
                Some(o) => d.send(&o.raw(), &origin, &failure),
                None => match encoded(&r, conv) {
                    Ok(o) => d.send(&o.raw(), &origin, &failure),
                    Err(e) => anyhow::bail!(
                        "a record reported as errant ({}) could not be encoded for the dead letter queue: {e}",
                        origin_text(&r)
                    ),
                },
            }
        }
        let describe = || format!("key={:?}, value={:?}", r.key.value, r.value.value);
        tolerance.failed(&failure, &origin, describe)?;
    }
    Ok(())
}

/// Handles what the task reported and waits for the dead letter queue:
/// after this, offsets past every failed record may be committed.
pub(super) fn settle(
    errant: &Option<Arc<Errant>>,
    originals: &Originals,
    conv: &Converters,
    tolerance: &Tolerance,
    dlq: Option<&DeadLetterQueue>,
    env: &TaskEnv,
) -> anyhow::Result<()> {
    if let Some(e) = errant {
        report_errant(e, originals, conv, tolerance, dlq)?;
    }
    if let Some(d) = dlq {
        d.flush(env.worker.shutdown_timeout.max(Duration::from_secs(30)))?;
    }
    Ok(())
}

pub(super) fn origin_text(r: &SinkRecord) -> String {
    format!(
        "topic {} partition {} offset {}",
        r.original_topic, r.original_partition, r.original_offset
    )
}
