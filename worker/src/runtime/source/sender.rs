//! The sender thread of a source task: transforms, converts and hands
//! records to the producer, in the order polled.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use connect_api::{ConnectError, SourceRecord};
use parking_lot::Mutex;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer};

use super::outstanding::{Acks, Slot};
use super::AckContext;
use crate::kafka::polled::PolledProducer;
use crate::runtime::config::Converters;
use crate::runtime::errors::{DeadLetterQueue, Failure, Origin, RawRecord, Stage, Tolerance};
use crate::runtime::sticky::Sticky;
use crate::runtime::topic_creation::TopicCreation;
use crate::runtime::topic_handles::{Payload, Run, TopicHandles, RUN_RECORDS};
use crate::runtime::TaskEnv;
use connect_transforms::Chain;

/// A polled batch for the sender: shared with the task loop when the task
/// reads its records again as they are acknowledged (`commit_record`),
/// else handed over, so that transforms change the records in place.
pub(super) enum Batch {
    Shared(Arc<Vec<SourceRecord>>),
    Owned(Vec<SourceRecord>),
}

/// Encodes and sends polled batches on a thread of its own, so that polling
/// the next batch overlaps with handing this one to the producer. Batches
/// are sent in the order queued, record `n` (from 1) with sequence number
/// `n`, which is how acknowledgements find their records. A conversion or
/// send failure is recorded in `Acks::failure` and stops the thread.
pub(super) struct Sender {
    queue: Option<tokio::sync::mpsc::Sender<Batch>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// What the sender does to each record before the converters: the
/// transforms, error tolerance with its dead letter queue, topic creation.
pub(super) struct Pipeline {
    pub(super) chain: Chain,
    pub(super) tolerance: Tolerance,
    pub(super) dlq: Option<Arc<DeadLetterQueue>>,
    pub(super) creation: Option<TopicCreation>,
}

/// Batches queued for the sender beyond the one it is sending.
const SEND_QUEUE: usize = 2;

impl Sender {
    pub(super) fn spawn(
        env: &TaskEnv,
        producer: Arc<PolledProducer<AckContext>>,
        converters: Converters,
        acks: Arc<Mutex<Acks>>,
        pipeline: Pipeline,
    ) -> anyhow::Result<Self> {
        let Pipeline {
            chain,
            tolerance,
            dlq,
            creation,
        } = pipeline;
        let bootstrap = env.worker.bootstrap_servers.clone();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(SEND_QUEUE);
        let metrics = env.metrics.clone();
        let context = format!("{} ", env.id);
        let mut chain = chain;
        let thread = std::thread::Builder::new()
            .name(format!("send-{}-{}", env.id.connector, env.id.task))
            .spawn(move || {
                crate::logging::set_thread_context(context);
                let mut creator = match creation.map(|c| Creator::new(c, bootstrap)) {
                    None => None,
                    Some(Ok(c)) => Some(c),
                    Some(Err(e)) => {
                        acks.lock().failure.get_or_insert(format!("{e:#}"));
                        return;
                    }
                };
                // Records queue in librdkafka meanwhile: the first batch
                // goes once the partition's broker is connected (and,
                // with idempotence on, its producer id has arrived).
                let warming = producer.clone();
                let first = acks.clone();
                let _ = std::thread::Builder::new()
                    .name("producer-warm-up".into())
                    .spawn(move || warm_up(&warming, || first.lock().started()));
                let mut seq = 0usize;
                let mut sticky = Sticky::default();
                let mut handles = TopicHandles::new(producer.clone());
                let mut run = Run::default();
                // Error reports show the record as polled when they show
                // more than its coordinates: keep a copy then.
                let keep_polled = dlq.is_some() || tolerance.settings.log_messages;
                // A record that failed: skipped when tolerated (true), else
                // the end of the sender, its failure recorded (false).
                let skip = |record: &SourceRecord, f: &Failure, seq: usize| {
                    if let Err(msg) = tolerate(&tolerance, dlq.as_deref(), &converters, record, f) {
                        acks.lock().failure.get_or_insert(msg);
                        return false;
                    }
                    acks.lock().ack(seq as u64, Slot::Dropped);
                    true
                };
                while let Some(mut batch) = rx.blocking_recv() {
                    sticky.next_batch();
                    let (mut shared, mut owned);
                    let records: &mut dyn Iterator<Item = Cow<'_, SourceRecord>> = match &mut batch
                    {
                        Batch::Shared(b) => {
                            shared = b.iter().map(Cow::Borrowed);
                            &mut shared
                        }
                        Batch::Owned(b) => {
                            owned = b.drain(..).map(Cow::Owned);
                            &mut owned
                        }
                    };
                    for record in records {
                        seq += 1;
                        let mut r = Reported::new(record, !chain.is_empty() && keep_polled);
                        if !chain.is_empty() {
                            match chain.apply(r.out.to_mut()) {
                                Ok(true) => {}
                                Ok(false) => {
                                    acks.lock().ack(seq as u64, Slot::Dropped);
                                    continue;
                                }
                                Err(e) => {
                                    let f = Failure {
                                        stage: Stage::Transformation,
                                        class: e.class.to_string(),
                                        error: e.error,
                                    };
                                    if !skip(r.polled(), &f, seq) {
                                        return;
                                    }
                                    continue;
                                }
                            }
                        }
                        let sending = Sending {
                            producer: &producer,
                            converters: &converters,
                            tolerance: &tolerance,
                        };
                        let mut out_of = Outlets {
                            handles: &mut handles,
                            run: &mut run,
                            sticky: &mut sticky,
                            creator: creator.as_mut(),
                        };
                        match send_one(&sending, &mut out_of, &r.out, seq) {
                            Ok(()) => {}
                            Err(SendError::Conversion(f)) => {
                                if !skip(r.polled(), &f, seq) {
                                    return;
                                }
                            }
                            Err(SendError::Send(message)) => {
                                metrics.error();
                                acks.lock().failure.get_or_insert(message);
                                return;
                            }
                        }
                    }
                    // What the batch left in the run goes now: the next
                    // batch may be a while.
                    if let Err(message) = flush_run(&mut handles, &mut run) {
                        metrics.error();
                        acks.lock().failure.get_or_insert(message);
                        return;
                    }
                }
            })
            .context("starting the task's sender thread")?;
        Ok(Sender {
            queue: Some(tx),
            thread: Some(thread),
        })
    }

    /// Room for one batch in the queue, once there is; `None` when the
    /// sender has stopped. Waiting for it can be given up without losing
    /// the batch, which is only handed over with the room.
    pub(super) async fn room(&self) -> Option<tokio::sync::mpsc::Permit<'_, Batch>> {
        self.queue.as_ref()?.reserve().await.ok()
    }

    /// Lets the sender send what is queued, and waits for it.
    pub(super) fn finish(&mut self) {
        self.queue = None;
        if let Some(t) = self.thread.take() {
            // The task has its own thread: blocking it here holds up no other task.
            if t.join().is_err() {
                tracing::error!("the sender thread panicked");
            }
        }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Creates the topics a source writes to before their first record, once
/// per topic for the life of the task (on the sender thread, which waits).
struct Creator {
    creation: TopicCreation,
    bootstrap: String,
    known: std::collections::HashSet<String>,
    /// The topic of the record before: most records go where the one before went.
    last: Option<Arc<str>>,
    runtime: tokio::runtime::Runtime,
}

impl Creator {
    fn new(creation: TopicCreation, bootstrap: String) -> anyhow::Result<Self> {
        Ok(Self {
            creation,
            bootstrap,
            known: Default::default(),
            last: None,
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the topic creation runtime")?,
        })
    }

    fn ensure(&mut self, topic: &Arc<str>) -> anyhow::Result<()> {
        if self.last.as_ref().is_some_and(|t| Arc::ptr_eq(t, topic)) {
            return Ok(());
        }
        if self.known.contains(&**topic) {
            self.last = Some(topic.clone());
            return Ok(());
        }
        let Some(t) = self.creation.for_topic(topic) else {
            self.known.insert(topic.to_string());
            return Ok(());
        };
        let created = self
            .runtime
            .block_on(crate::kafka::admin::create_topic(
                &self.bootstrap,
                topic,
                t.partitions,
                t.replication_factor,
                &t.configs,
            ))
            .with_context(|| {
                format!(
                    "Task failed to create new topic {topic} (partitions {}, replication factor {}, group {}). Ensure that the task is authorized to create topics or that the topic exists and restart the task",
                    t.partitions, t.replication_factor, t.group
                )
            })?;
        if created {
            tracing::info!("Created topic '{topic}' using creation group {}", t.group);
        } else {
            tracing::info!("Found existing topic '{topic}'");
        }
        self.known.insert(topic.to_string());
        self.last = Some(topic.clone());
        Ok(())
    }
}

/// A record on its way through the sender, and what error reports say of
/// it: the record as polled, or (when it was transformed in place) the
/// record as it is with its polled topic, since then reports name only its
/// coordinates (source partition, offset and topic), which transforms do
/// not change but for the topic.
struct Reported<'a> {
    out: Cow<'a, SourceRecord>,
    polled: Polled<'a>,
}

/// What a [`Reported`] keeps of the record as polled. One lives on the
/// sender's stack per record in flight: boxing the record would cost an
/// allocation per record to save stack space nobody lacks.
#[allow(clippy::large_enum_variant)]
enum Polled<'a> {
    Record(Cow<'a, SourceRecord>),
    Topic(Arc<str>),
}

impl<'a> Reported<'a> {
    /// `keep`: transforms will change `record` and reports must show it
    /// as polled.
    fn new(record: Cow<'a, SourceRecord>, keep: bool) -> Self {
        let (out, polled) = match record {
            Cow::Owned(r) if keep => (Cow::Owned(r.clone()), Polled::Record(Cow::Owned(r))),
            Cow::Borrowed(r) => (Cow::Borrowed(r), Polled::Record(Cow::Borrowed(r))),
            out => {
                let topic = out.topic.clone();
                (out, Polled::Topic(topic))
            }
        };
        Self { out, polled }
    }

    fn polled(&mut self) -> &SourceRecord {
        match &self.polled {
            Polled::Record(p) => p,
            Polled::Topic(topic) => {
                if let Cow::Owned(r) = &mut self.out {
                    r.topic = topic.clone();
                }
                &self.out
            }
        }
    }
}

/// Why a record could not be sent.
enum SendError {
    /// A converter failed: subject to `errors.tolerance`.
    Conversion(Failure),
    Send(String),
}

/// A polled record failed a transform or a converter: logged, sent to the
/// dead letter queue when there is one (converted as polled, or as text
/// when that fails too), then skipped, or the task's failure message.
fn tolerate(
    tolerance: &Tolerance,
    dlq: Option<&DeadLetterQueue>,
    converters: &Converters,
    record: &SourceRecord,
    f: &Failure,
) -> Result<(), String> {
    // Reports show the value, not the text it may still be in.
    let decoded;
    let record = match record.value_text {
        Some(_) => {
            let mut r = record.clone();
            r.decode_text();
            decoded = r;
            &decoded
        }
        None => record,
    };
    let origin = Origin::Polled(record);
    if let Some(d) = dlq {
        let text = |sv: &connect_api::SchemaAndValue| {
            (!sv.value.is_null()).then(|| connect_api::text::value_text(&sv.value).into_bytes())
        };
        let key = match converters.key.encode(&record.topic, &record.key) {
            Ok(k) => k.map(|c| c.into_owned()),
            Err(_) => text(&record.key),
        };
        let value = match converters.value.encode(&record.topic, &record.value) {
            Ok(v) => v.map(|c| c.into_owned()),
            Err(_) => text(&record.value),
        };
        let headers: Vec<(&str, Option<Vec<u8>>)> = record
            .headers
            .iter()
            .map(|h| {
                let v = match converters.header.encode(&record.topic, &h.value) {
                    Ok(v) => v.map(|c| c.into_owned()),
                    Err(_) => text(&h.value),
                };
                (h.key.as_str(), v)
            })
            .collect();
        let raw = RawRecord {
            key: key.as_deref(),
            value: value.as_deref(),
            headers: headers.iter().map(|(k, v)| (*k, v.as_deref())).collect(),
            timestamp: record.timestamp,
        };
        d.send(&raw, &origin, f);
    }
    let describe = || format!("key={:?}, value={:?}", record.key.value, record.value.value);
    match tolerance.failed(f, &origin, describe) {
        Ok(()) => Ok(()),
        Err(e) => {
            if let Some(d) = dlq {
                let _ = d.flush(Duration::from_secs(10));
            }
            Err(format!("{e:#}"))
        }
    }
}

/// The first metadata answer comes over the bootstrap connection, which
/// librdkafka closes before it connects to the brokers that answer named.
/// Asking again (each ask waits for a broker to be up) gets the first
/// records out as soon as one is. With `producer.enable.idempotence=true`
/// it matters more: librdkafka asks for the producer id when a metadata
/// answer arrives from a broker that is up, and otherwise only on a 500 ms
/// timer. Asking stops at the first acknowledgement, or after
/// [`WARM_UP_ASKS`].
fn warm_up(producer: &PolledProducer<AckContext>, acked: impl Fn() -> bool) {
    for _ in 0..WARM_UP_ASKS {
        if acked()
            || producer
                .client()
                .fetch_metadata(None, Duration::from_secs(1))
                .is_err()
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The most metadata requests a producer's warm-up sends.
const WARM_UP_ASKS: usize = 8;

/// The topic's partitions that have a leader, as the producer's metadata has them.
fn available_partitions(producer: &PolledProducer<AckContext>, topic: &str) -> Option<Vec<i32>> {
    let md = producer
        .client()
        .fetch_metadata(Some(topic), Duration::from_secs(1))
        .ok()?;
    let t = md.topics().iter().find(|t| t.name() == topic)?;
    if t.error().is_some() {
        return None;
    }
    Some(
        t.partitions()
            .iter()
            .filter(|p| p.leader() >= 0 && p.error().is_none())
            .map(|p| p.id())
            .collect(),
    )
}

/// What sending a record needs from the sender thread.
struct Sending<'a> {
    producer: &'a PolledProducer<AckContext>,
    converters: &'a Converters,
    tolerance: &'a Tolerance,
}

/// Where the sender's records go: runs through topic handles, single
/// records through a handle or the crate; the partition chooser and the
/// topic creator on the way.
struct Outlets<'a> {
    handles: &'a mut TopicHandles<AckContext>,
    run: &'a mut Run,
    sticky: &'a mut Sticky,
    creator: Option<&'a mut Creator>,
}

/// Hands the run to librdkafka, waiting while its queue is full.
fn flush_run(handles: &mut TopicHandles<AckContext>, run: &mut Run) -> Result<(), String> {
    // Named before sending: a refused run is emptied.
    let topic = run.topic().cloned();
    handles
        .send_run(run, || std::thread::sleep(Duration::from_millis(1)))
        .map_err(|e| {
            format!(
                "sending a record to topic {}: {}",
                topic.as_deref().unwrap_or(""),
                KafkaError::MessageProduction(e)
            )
        })
}

/// A converter's failure as a send error, naming the stage and the
/// converter's class: the class is copied only when there is a failure.
fn conversion(stage: Stage, class: &str) -> impl FnOnce(ConnectError) -> SendError + '_ {
    move |error| {
        SendError::Conversion(Failure {
            stage,
            class: class.to_string(),
            error,
        })
    }
}

/// Converts a record, creates its topic when that is asked for (after
/// conversion, so a skipped record creates nothing) and sends it: in a run
/// with the records around it when it has neither headers nor a timestamp,
/// else alone (after the run, so records keep their order).
fn send_one(
    s: &Sending<'_>,
    o: &mut Outlets<'_>,
    record: &SourceRecord,
    seq: usize,
) -> Result<(), SendError> {
    let handles = &mut *o.handles;
    let sticky = &mut *o.sticky;
    let (producer, converters, tolerance) = (s.producer, s.converters, s.tolerance);
    let key = tolerance
        .retrying(|| converters.key.encode(&record.topic, &record.key))
        .map_err(conversion(Stage::KeyConverter, &converters.key_class))?;
    let value = tolerance
        .retrying(|| match &record.value_text {
            Some(text) => converters.value.encode_text(&record.topic, text),
            None => converters.value.encode(&record.topic, &record.value),
        })
        .map_err(conversion(Stage::ValueConverter, &converters.value_class))?;
    if let Some(c) = o.creator.as_deref_mut() {
        c.ensure(&record.topic)
            .map_err(|e| SendError::Send(format!("{e:#}")))?;
    }
    let partition = match (record.partition, &key) {
        (Some(p), _) => Some(p),
        (None, None) => {
            let size = value.as_ref().map_or(0, |v| v.len());
            sticky.partition(&record.topic, size, |t| available_partitions(producer, t))
        }
        (None, Some(_)) => None,
    };
    let payload = Payload {
        partition,
        key: key.as_deref(),
        value: value.as_deref(),
        timestamp: record.timestamp.unwrap_or(0),
        opaque: seq,
    };
    if record.headers.is_empty() && record.timestamp.is_none() && handles.usable(&record.topic) {
        if o.run.topic().is_some_and(|t| **t != *record.topic) {
            flush_run(handles, o.run).map_err(SendError::Send)?;
        }
        o.run.push(&record.topic, &payload);
        if o.run.len() >= RUN_RECORDS {
            flush_run(handles, o.run).map_err(SendError::Send)?;
        }
        return Ok(());
    }
    if !o.run.is_empty() {
        flush_run(handles, o.run).map_err(SendError::Send)?;
    }
    if record.headers.is_empty() {
        loop {
            match handles.send(&record.topic, &payload) {
                Ok(true) => return Ok(()),
                Ok(false) => break,
                Err(RDKafkaErrorCode::QueueFull) => std::thread::sleep(Duration::from_millis(1)),
                Err(e) => {
                    return Err(SendError::Send(format!(
                        "sending a record to topic {}: {}",
                        record.topic,
                        KafkaError::MessageProduction(e)
                    )))
                }
            }
        }
    }
    let mut br = BaseRecord::with_opaque_to(&record.topic, seq);
    // Headers only when there are some: an empty set still costs an allocation in librdkafka.
    if !record.headers.is_empty() {
        let mut headers = OwnedHeaders::new_with_capacity(record.headers.len());
        for h in &record.headers {
            let v = tolerance
                .retrying(|| converters.header.encode(&record.topic, &h.value))
                .map_err(conversion(Stage::HeaderConverter, &converters.header_class))?;
            headers = headers.insert(Header {
                key: &h.key,
                value: v.as_deref(),
            });
        }
        br = br.headers(headers);
    }
    if let Some(k) = &key {
        br = br.key(k.as_ref());
    }
    if let Some(v) = &value {
        br = br.payload(v.as_ref());
    }
    if let Some(p) = partition {
        br = br.partition(p);
    }
    if let Some(ts) = record.timestamp {
        br = br.timestamp(ts);
    }
    loop {
        match producer.send(br) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                br = back;
                std::thread::sleep(Duration::from_millis(1));
            }
            Err((e, _)) => {
                return Err(SendError::Send(format!(
                    "sending a record to topic {}: {e}",
                    record.topic
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(topic: &str) -> SourceRecord {
        SourceRecord::new(
            connect_api::record::SourcePartition::new(),
            None,
            topic,
            connect_api::SchemaAndValue::new(None, connect_api::Value::Int64(1)),
        )
    }

    #[test]
    fn reports_name_the_record_as_polled() {
        // Handed over and changed in place: reports keep its polled topic.
        let mut r = Reported::new(Cow::Owned(record("in")), false);
        r.out.to_mut().topic = "out".into();
        r.out.to_mut().value = connect_api::SchemaAndValue::NULL;
        assert_eq!(&*r.polled().topic, "in");
        // Kept for reports that show the whole record.
        let mut r = Reported::new(Cow::Owned(record("in")), true);
        r.out.to_mut().topic = "out".into();
        r.out.to_mut().value = connect_api::SchemaAndValue::NULL;
        let polled = r.polled();
        assert_eq!(
            (&*polled.topic, polled.value.value.is_null()),
            ("in", false)
        );
        assert_eq!(&*r.out.topic, "out");
        // Shared with the task loop: the transforms change a copy.
        let shared = record("in");
        let mut r = Reported::new(Cow::Borrowed(&shared), false);
        r.out.to_mut().topic = "out".into();
        assert_eq!(&*r.polled().topic, "in");
        assert_eq!(&*shared.topic, "in");
    }
}
