//! The JDBC sink task: each `put` becomes rows, which a writer thread
//! writes in one transaction (tables created or evolved when asked;
//! multi-row inserts and upserts, updates and deletes in record order).
//! A write the database refuses is narrowed down to its records, which go
//! to the errant record reporter when there is one, or fail the task
//! naming topic, partition, offset and the database's message.

mod rows;
mod statements;
mod writer;

use std::sync::Arc;

use async_trait::async_trait;
use connect_api::{
    ConnectError, ConnectResult, Offsets, Props, SinkRecord, SinkTask, SinkTaskContext,
    TopicPartition,
};
use tokio::sync::oneshot;

use crate::config::SinkConfig;
pub use rows::{row, Row};
use writer::{outcome, Outcome, Writer};

/// Where a row came from, to name it in errors.
struct Origin {
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

/// A batch handed to the writer whose outcome is not known yet.
struct Pending {
    origins: Vec<Origin>,
    outcome: oneshot::Receiver<Outcome>,
}

/// Confluent's `JdbcSinkTask`. Each `put` turns its records into rows and
/// hands them to the writer thread, then returns while they are written
/// (one batch in flight); the next `put`, `flush`, `close` and `stop` wait
/// for that batch first, so offsets are committed only for rows the database
/// has committed. With an errant record reporter (`errors.tolerance=all`)
/// each `put` waits for its own rows, so refused ones are reported with
/// their records.
#[derive(Default)]
pub struct JdbcSinkTask {
    cfg: Option<SinkConfig>,
    ctx: Option<Arc<dyn SinkTaskContext>>,
    writer: Option<Writer>,
    pending: Option<Pending>,
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

    /// Waits for the batch in flight; a failure fails every later call.
    async fn settle(&mut self) -> ConnectResult<()> {
        if let Some(e) = &self.failed {
            return Err(ConnectError::fatal(e.message()));
        }
        let Some(p) = self.pending.take() else {
            return Ok(());
        };
        let result = match outcome(p.outcome).await {
            Ok(refused) => match refused.first() {
                None => Ok(()),
                Some((i, m)) => Err(refused_error(m, &p.origins[*i].text())),
            },
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            self.failed = Some(ConnectError::fatal(e.message()));
        }
        result
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
        for (i, r) in records.iter().enumerate() {
            let t = match &table {
                Some((topic, t)) if *topic == r.topic => t.clone(),
                _ => {
                    let t = rows::table_of(&r.topic, cfg);
                    table = Some((&r.topic, t.clone()));
                    t
                }
            };
            let row = match rows::row(r, cfg, t) {
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
fn refused_error(message: &str, origin: &str) -> ConnectError {
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
            return Ok(());
        }
        let converted = self.rows(records);
        // The batch before this one first: its failure is this put's.
        self.settle().await?;
        let (rows, index, origins) = converted?;
        if rows.is_empty() {
            return Ok(());
        }
        let reporter = self.ctx.as_ref().and_then(|c| c.errant_record_reporter());
        let rx = self.writer()?.submit(rows, reporter.is_some()).await?;
        let Some(reporter) = reporter else {
            self.pending = Some(Pending {
                origins,
                outcome: rx,
            });
            return Ok(());
        };
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
