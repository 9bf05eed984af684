//! The JDBC sink task: each `put` becomes rows, which a writer thread
//! writes in one transaction (tables created or evolved when asked;
//! multi-row inserts and upserts, updates and deletes in record order);
//! rows put while a transaction is being written go together in the next.
//! A write the database refuses is narrowed down to its records, which go
//! to the errant record reporter when there is one, or fail the task
//! naming topic, partition, offset and the database's message.

mod binary;
mod rows;
mod statements;
mod writer;

use std::collections::VecDeque;
use std::sync::Arc;

use async_trait::async_trait;
use connect_api::{
    ConnectError, ConnectResult, Offsets, Props, SinkRecord, SinkTask, SinkTaskContext,
    TopicPartition,
};
use tokio::sync::oneshot;

use crate::config::SinkConfig;
pub use rows::{row, Names, Row};
use writer::{outcome, Outcome, Writer};

/// Where a row came from, to name it in errors.
pub(crate) struct Origin {
    topic: Arc<str>,
    partition: i32,
    offset: i64,
}

impl Origin {
    fn text(&self) -> String {
        format!(
            "topic {} partition {} offset {}",
            self.topic, self.partition, self.offset
        )
    }
}

/// Rows handed to the writer whose outcome is not known yet.
struct Pending {
    rows: usize,
    outcome: oneshot::Receiver<Outcome>,
}

/// Rows handed to the writer and not known to be written, past which
/// `put` waits.
const IN_FLIGHT_ROWS: usize = 40_000;

/// Confluent's `JdbcSinkTask`. Each `put` turns its records into rows and
/// hands them to the writer thread, then returns while they are written.
/// The writer writes one transaction at a time and takes every row put
/// meanwhile into its next one, so a database slower than the topic gets
/// fewer, larger transactions; `put` waits only when `IN_FLIGHT_ROWS` are
/// not known to be written yet. `flush`, `close` and `stop` wait for
/// everything put, so offsets are committed only for rows the database has
/// committed. With an errant record reporter (`errors.tolerance=all`) each
/// `put` waits for its own rows, so refused ones are reported with their
/// records.
#[derive(Default)]
pub struct JdbcSinkTask {
    cfg: Option<SinkConfig>,
    ctx: Option<Arc<dyn SinkTaskContext>>,
    writer: Option<Writer>,
    /// Oldest first.
    pending: VecDeque<Pending>,
    /// Set once a write failed: nothing after it may be committed.
    failed: Option<ConnectError>,
}

impl JdbcSinkTask {
    fn cfg(&self) -> ConnectResult<&SinkConfig> {
        self.cfg
            .as_ref()
            .ok_or_else(|| ConnectError::fatal("the task was not started"))
    }

    fn writer(&self) -> ConnectResult<&Writer> {
        self.writer
            .as_ref()
            .ok_or_else(|| ConnectError::fatal("the task was not started"))
    }

    /// Hands a refused record to the errant record reporter, or fails.
    fn errant(&self, r: &SinkRecord, e: ConnectError) -> ConnectResult<()> {
        match self.ctx.as_ref().and_then(|c| c.errant_record_reporter()) {
            Some(reporter) => {
                reporter.report(r, e);
                Ok(())
            }
            None => Err(refused_error(e.message(), &rows::coordinates(r))),
        }
    }

    /// Waits until everything handed to the writer is written; a failure
    /// fails every later call.
    async fn settle(&mut self) -> ConnectResult<()> {
        while !self.pending.is_empty() {
            self.settle_oldest().await?;
        }
        self.check()
    }

    fn check(&self) -> ConnectResult<()> {
        match &self.failed {
            Some(e) => Err(ConnectError::fatal(e.message())),
            None => Ok(()),
        }
    }

    /// Waits for the oldest rows handed to the writer.
    async fn settle_oldest(&mut self) -> ConnectResult<()> {
        self.check()?;
        if let Some(p) = self.pending.pop_front() {
            let o = outcome(p.outcome).await;
            self.settled(o)?;
        }
        Ok(())
    }

    /// Takes the outcomes already known, oldest first, without waiting.
    fn settle_written(&mut self) -> ConnectResult<()> {
        self.check()?;
        while let Some(p) = self.pending.front_mut() {
            let o = match p.outcome.try_recv() {
                Ok(o) => o,
                Err(oneshot::error::TryRecvError::Empty) => break,
                Err(oneshot::error::TryRecvError::Closed) => {
                    Err(ConnectError::fatal("the sink's writer thread has ended"))
                }
            };
            self.pending.pop_front();
            self.settled(o)?;
        }
        Ok(())
    }

    fn settled(&mut self, outcome: Outcome) -> ConnectResult<()> {
        if let Err(e) = &outcome {
            self.failed = Some(ConnectError::fatal(e.message()));
        }
        outcome.map(|_| ())
    }

    /// Turns records into rows; records that cannot become rows are
    /// reported or fail the task. Returns the rows, their records' indexes
    /// and origins.
    fn rows(&self, records: &[SinkRecord]) -> ConnectResult<(Vec<Row>, Vec<usize>, Vec<Origin>)> {
        let cfg = self.cfg()?;
        let mut out = Vec::with_capacity(records.len());
        let mut index = Vec::with_capacity(records.len());
        let mut origins = Vec::with_capacity(records.len());
        let mut topic: Option<Arc<str>> = None;
        // Records come in runs of one topic: its table is named once a run.
        let mut table: Option<(&str, Arc<str>)> = None;
        let mut names = Names::default();
        for (i, r) in records.iter().enumerate() {
            let t = match &table {
                Some((topic, t)) if *topic == r.topic => t.clone(),
                _ => {
                    let t = rows::table_of(&r.topic, cfg);
                    table = Some((&r.topic, t.clone()));
                    t
                }
            };
            let row = match rows::row(r, cfg, t, &mut names) {
                Ok(Some(row)) => row,
                Ok(None) => continue,
                Err(e) if !e.is_retriable() && matches!(e, ConnectError::Data(_)) => {
                    self.errant(r, e)?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let t = match &topic {
                Some(t) if **t == *r.original_topic => t.clone(),
                _ => Arc::from(r.original_topic.as_str()),
            };
            topic = Some(t.clone());
            origins.push(Origin {
                topic: t,
                partition: r.original_partition,
                offset: r.original_offset,
            });
            out.push(row);
            index.push(i);
        }
        Ok((out, index, origins))
    }
}

/// A record the database refuses, without a reporter to take it.
pub(crate) fn refused_error(message: &str, origin: &str) -> ConnectError {
    ConnectError::fatal(format!(
        "{message} (the record at {origin}); set errors.tolerance=all with a dead letter queue to skip such records"
    ))
}

#[async_trait]
impl SinkTask for JdbcSinkTask {
    async fn start(&mut self, props: &Props, ctx: Arc<dyn SinkTaskContext>) -> ConnectResult<()> {
        let cfg = SinkConfig::parse(props).map_err(|errors| {
            let text: Vec<String> = errors.into_iter().map(|(_, e)| e).collect();
            ConnectError::fatal(text.join("; "))
        })?;
        let name = match std::thread::current().name() {
            Some(n) => format!("{n}-db"),
            None => "jdbc-sink-db".to_string(),
        };
        self.writer = Some(Writer::start(cfg.clone(), ctx.clone(), name)?);
        self.cfg = Some(cfg);
        self.ctx = Some(ctx);
        Ok(())
    }

    async fn put(&mut self, records: &[SinkRecord]) -> ConnectResult<()> {
        if records.is_empty() {
            return self.settle_written();
        }
        let converted = self.rows(records);
        // Earlier rows first: their failure is this put's.
        self.settle_written()?;
        let (rows, index, origins) = converted?;
        if rows.is_empty() {
            return Ok(());
        }
        let Some(reporter) = self.ctx.as_ref().and_then(|c| c.errant_record_reporter()) else {
            let n = rows.len();
            while !self.pending.is_empty()
                && self.pending.iter().map(|p| p.rows).sum::<usize>() + n > IN_FLIGHT_ROWS
            {
                self.settle_oldest().await?;
            }
            let rx = self.writer()?.submit(rows, origins, false).await?;
            self.pending.push_back(Pending {
                rows: n,
                outcome: rx,
            });
            return Ok(());
        };
        self.settle().await?;
        let rx = self.writer()?.submit(rows, origins, true).await?;
        match outcome(rx).await {
            Ok(refused) => {
                for (i, m) in refused {
                    reporter.report(&records[index[i]], ConnectError::data(m));
                }
                Ok(())
            }
            Err(e) => {
                self.failed = Some(ConnectError::fatal(e.message()));
                Err(e)
            }
        }
    }

    async fn flush(&mut self, _offsets: &Offsets) -> ConnectResult<()> {
        self.settle().await
    }

    async fn close(&mut self, _partitions: &[TopicPartition]) -> ConnectResult<()> {
        self.settle().await
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        // A failure already returned from another call is not repeated.
        let reported = self.failed.is_some();
        let settled = self.settle().await;
        if let Some(mut w) = self.writer.take() {
            w.shut().await;
        }
        if reported {
            return Ok(());
        }
        settled
    }
}
