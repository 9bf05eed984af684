//! The JDBC sink task: each `put` becomes rows, tables are created or
//! evolved when asked, and the rows are written in one transaction
//! (multi-row inserts and upserts, updates and deletes in record order).
//! A write the database refuses is narrowed down to its records, which go
//! to the errant record reporter when there is one, or fail the task
//! naming topic, partition, offset and the database's message.

mod rows;
mod statements;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use connect_api::{ConnectError, ConnectResult, Props, SinkRecord, SinkTask, SinkTaskContext};

use crate::config::SinkConfig;
use crate::db::{classify, Pool};
pub use rows::{row, Row};
use statements::{plan, Table};

/// Confluent's `JdbcSinkTask`.
#[derive(Default)]
pub struct JdbcSinkTask {
    cfg: Option<SinkConfig>,
    pool: Option<Pool>,
    ctx: Option<Arc<dyn SinkTaskContext>>,
    /// Columns of the tables written so far (name, database type).
    tables: HashMap<String, Arc<Table>>,
    /// Consecutive failed writes, for `max.retries`.
    failures: u32,
}

impl JdbcSinkTask {
    fn cfg(&self) -> ConnectResult<&SinkConfig> {
        self.cfg
            .as_ref()
            .ok_or_else(|| ConnectError::fatal("the task was not started"))
    }

    async fn pool(&mut self) -> ConnectResult<Pool> {
        if let Some(p) = &self.pool {
            return Ok(p.clone());
        }
        let c = &self.cfg()?.connection;
        let p = Pool::connect(&c.target, c.attempts, c.backoff).await?;
        self.pool = Some(p.clone());
        Ok(p)
    }

    /// Makes sure `row`'s table and columns exist (creating or evolving
    /// them when allowed) and returns what is known of the table.
    async fn table(&mut self, pool: &Pool, row: &Row) -> ConnectResult<Arc<Table>> {
        if let Some(t) = self.tables.get(&row.table) {
            // The usual case: a known table with every column.
            if row.key.iter().chain(&row.values).all(|c| t.has(&c.name)) {
                return Ok(t.clone());
            }
        }
        let cfg = self.cfg()?.clone();
        let missing = |t: &Table| -> Vec<rows::Column> {
            row.key
                .iter()
                .chain(&row.values)
                .filter(|c| !t.has(&c.name))
                .cloned()
                .collect()
        };
        if let Some(t) = self.tables.get(&row.table) {
            if missing(t).is_empty() {
                return Ok(t.clone());
            }
        }
        let doing = format!("reading the columns of table {}", row.table);
        let existing = pool
            .columns(&row.table)
            .await
            .map_err(|e| classify(e, &doing))?;
        let table = match existing {
            Some(cols) => Table::new(cols),
            None if cfg.auto_create => {
                let sql = statements::create(pool.dialect(), cfg.connection.quote, row);
                tracing::info!("creating table {}: {sql}", row.table);
                pool.execute(&sql)
                    .await
                    .map_err(|e| classify(e, &format!("creating table {}", row.table)))?;
                Table::new(
                    pool.columns(&row.table)
                        .await
                        .map_err(|e| classify(e, &doing))?
                        .unwrap_or_default(),
                )
            }
            None => {
                return Err(ConnectError::fatal(format!(
                    "Table {} is missing and auto-creation is disabled (set auto.create=true)",
                    row.table
                )))
            }
        };
        let absent = missing(&table);
        let table = if absent.is_empty() {
            table
        } else if cfg.auto_evolve {
            for c in &absent {
                let sql =
                    statements::add_column(pool.dialect(), cfg.connection.quote, &row.table, c);
                tracing::info!("evolving table {}: {sql}", row.table);
                pool.execute(&sql).await.map_err(|e| {
                    classify(
                        e,
                        &format!("adding column {} to table {}", c.name, row.table),
                    )
                })?;
            }
            Table::new(
                pool.columns(&row.table)
                    .await
                    .map_err(|e| classify(e, &doing))?
                    .unwrap_or_default(),
            )
        } else {
            let names: Vec<&str> = absent.iter().map(|c| c.name.as_str()).collect();
            return Err(ConnectError::fatal(format!(
                "Table {} is missing fields ({}) and auto-evolution is disabled (set auto.evolve=true)",
                row.table,
                names.join(", ")
            )));
        };
        let table = Arc::new(table);
        self.tables.insert(row.table.clone(), table.clone());
        Ok(table)
    }

    /// The rows of `records` with their tables ready; records that cannot
    /// become rows are reported or fail the task.
    async fn rows(
        &mut self,
        pool: &Pool,
        records: &[SinkRecord],
    ) -> ConnectResult<Vec<(usize, Row, Arc<Table>)>> {
        let cfg = self.cfg()?.clone();
        let mut out = Vec::with_capacity(records.len());
        for (i, r) in records.iter().enumerate() {
            let row = match rows::row(r, &cfg) {
                Ok(Some(row)) => row,
                Ok(None) => continue,
                Err(e) if !e.is_retriable() && matches!(e, ConnectError::Data(_)) => {
                    self.errant(r, e)?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let table = self.table(pool, &row).await?;
            out.push((i, row, table));
        }
        Ok(out)
    }

    /// Hands a refused record to the errant record reporter, or fails.
    fn errant(&self, r: &SinkRecord, e: ConnectError) -> ConnectResult<()> {
        match self.ctx.as_ref().and_then(|c| c.errant_record_reporter()) {
            Some(reporter) => {
                reporter.report(r, e);
                Ok(())
            }
            None => Err(ConnectError::fatal(format!(
                "{} ({}); set errors.tolerance=all with a dead letter queue to skip such records",
                e.message(),
                rows::coordinates(r)
            ))),
        }
    }
}

#[async_trait]
impl SinkTask for JdbcSinkTask {
    async fn start(&mut self, props: &Props, ctx: Arc<dyn SinkTaskContext>) -> ConnectResult<()> {
        let cfg = SinkConfig::parse(props).map_err(|errors| {
            let text: Vec<String> = errors.into_iter().map(|(_, e)| e).collect();
            ConnectError::fatal(text.join("; "))
        })?;
        self.cfg = Some(cfg);
        self.ctx = Some(ctx);
        // A database that is down now is retried at the first put.
        if let Err(e) = self.pool().await {
            tracing::warn!("{e}");
        }
        Ok(())
    }

    async fn put(&mut self, records: &[SinkRecord]) -> ConnectResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        let result = self.write(records).await;
        let cfg = self.cfg()?.clone();
        match result {
            Ok(()) => {
                self.failures = 0;
                Ok(())
            }
            Err(e) if e.is_retriable() => {
                self.failures += 1;
                // A lost connection is opened again at the next try.
                self.pool = None;
                if self.failures > cfg.max_retries {
                    return Err(ConnectError::fatal(format!(
                        "{} (failed {} times, more than max.retries={})",
                        e.message(),
                        self.failures,
                        cfg.max_retries
                    )));
                }
                if let Some(c) = &self.ctx {
                    c.timeout(cfg.retry_backoff_ms);
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        if let Some(p) = self.pool.take() {
            p.close().await;
        }
        Ok(())
    }
}

impl JdbcSinkTask {
    async fn write(&mut self, records: &[SinkRecord]) -> ConnectResult<()> {
        let pool = self.pool().await?;
        let rows = self.rows(&pool, records).await?;
        let cfg = self.cfg()?.clone();
        let stmts = plan(pool.dialect(), &cfg, &rows);
        let doing = format!("writing {} record(s)", rows.len());
        let Err(e) = pool.run(&stmts).await else {
            return Ok(());
        };
        let e = classify(e, &doing);
        if !matches!(e, ConnectError::Data(_)) {
            if matches!(e, ConnectError::Fatal(_)) {
                // The table may have changed under us: read it again next time.
                self.tables.clear();
            }
            return Err(e);
        }
        // The database refused something: write record by record to find
        // what, each in a transaction of its own.
        for (i, row, table) in &rows {
            let one = plan(pool.dialect(), &cfg, &[(*i, row.clone(), table.clone())]);
            if let Err(e) = pool.run(&one).await {
                let r = &records[*i];
                match classify(
                    e,
                    &format!("writing the record at {}", rows::coordinates(r)),
                ) {
                    ConnectError::Data(m) => self.errant(r, ConnectError::data(m))?,
                    other => return Err(other),
                }
            }
        }
        Ok(())
    }
}
