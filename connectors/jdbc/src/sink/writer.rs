//! The sink's database side, on a thread of its own with its own runtime:
//! it owns the connection pool and what is known of each table, creates and
//! evolves tables, and writes each batch of rows in one transaction,
//! retrying a lost connection `max.retries` times `retry.backoff.ms` apart.
//! While it writes one batch the task thread reads and converts the next.
//!
//! A write the database refuses is narrowed down, row by row, to the rows it
//! refuses; the reply names them so the task can report them or fail.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use connect_api::{ConnectError, ConnectResult, SinkTaskContext};
use tokio::sync::{mpsc, oneshot};

use crate::config::SinkConfig;
use crate::db::{classify, Pool};

use super::rows::{Column, Row};
use super::statements::{self, plan, Table};
use super::{refused_error, Origin};

/// Rows the database refused: (index in the batch, the database's message).
pub type Refused = Vec<(usize, String)>;

/// The outcome of one batch.
pub type Outcome = ConnectResult<Refused>;

struct Job {
    rows: Vec<Row>,
    origins: Vec<Origin>,
    /// Whether refused rows are taken (by an errant record reporter): the
    /// others are then committed; otherwise nothing of the batch is.
    keep: bool,
    done: oneshot::Sender<Outcome>,
}

/// Rows of several jobs written in one transaction, at most (a single
/// larger job is written as it is).
const MERGED_ROWS: usize = 20_000;

/// The task's handle on its writer thread. Dropping it (or `shut`) makes
/// the thread give up retrying and end after the batch it is writing.
pub struct Writer {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
    cancel: Arc<AtomicBool>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

impl Writer {
    /// Starts the thread; it connects at once (a database that is down now
    /// is tried again with the first batch).
    pub fn start(
        cfg: SinkConfig,
        ctx: Arc<dyn SinkTaskContext>,
        name: String,
    ) -> ConnectResult<Self> {
        let (tx, rx) = mpsc::channel::<Job>(64);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ConnectError::fatal(format!("cannot start the writer's runtime: {e}")))?;
        let cancel = Arc::new(AtomicBool::new(false));
        let engine = Engine::new(cfg, ctx, cancel.clone());
        let thread = std::thread::Builder::new()
            .name(name)
            .spawn(move || {
                let run = std::panic::AssertUnwindSafe(|| rt.block_on(engine.run(rx)));
                if let Err(p) = std::panic::catch_unwind(run) {
                    let why = p
                        .downcast_ref::<String>()
                        .map(String::as_str)
                        .or_else(|| p.downcast_ref::<&str>().copied())
                        .unwrap_or("unknown");
                    tracing::error!("the sink's writer thread panicked: {why}");
                }
            })
            .map_err(|e| ConnectError::fatal(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            jobs: Some(tx),
            thread: Some(thread),
            cancel,
        })
    }

    /// Hands rows to the thread; the receiver gets their outcome. Rows
    /// that need no answer per row (`keep` false) may be written in one
    /// transaction with other such rows handed over before or after them;
    /// a refused row then fails them all, naming its origin.
    pub async fn submit(
        &self,
        rows: Vec<Row>,
        origins: Vec<Origin>,
        keep: bool,
    ) -> ConnectResult<oneshot::Receiver<Outcome>> {
        let (done, outcome) = oneshot::channel();
        let gone = || ConnectError::fatal("the sink's writer thread has ended");
        let jobs = self.jobs.as_ref().ok_or_else(gone)?;
        jobs.send(Job {
            rows,
            origins,
            keep,
            done,
        })
        .await
        .map_err(|_| gone())?;
        Ok(outcome)
    }

    /// Ends the thread once it has finished what it was given (giving up
    /// any retry); it closes its connections.
    pub async fn shut(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let joined = tokio::task::spawn_blocking(move || t.join()).await;
            if !matches!(joined, Ok(Ok(()))) {
                tracing::warn!("the sink's writer thread ended abnormally");
            }
        }
    }
}

/// The outcome of a submitted batch, once it is known.
pub async fn outcome(rx: oneshot::Receiver<Outcome>) -> Outcome {
    rx.await
        .unwrap_or_else(|_| Err(ConnectError::fatal("the sink's writer thread has ended")))
}

/// When the writer gives up: the task let go of it (`cancel`) or the
/// worker is stopping the task.
#[derive(Clone)]
struct Stop {
    cancel: Arc<AtomicBool>,
    ctx: Arc<dyn SinkTaskContext>,
}

/// How long a write in progress may go on once the worker is stopping
/// the task: one that finishes in time spares the rows a second delivery.
const STOP_GRACE: Duration = Duration::from_secs(2);

impl Stop {
    fn now(&self) -> bool {
        self.cancel.load(Ordering::Relaxed) || self.ctx.stopping()
    }

    /// Returns once it is time to give up (looked at every 100 ms).
    async fn wait(self) {
        while !self.now() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Returns once a write in progress is to be abandoned: at once when
    /// the task lets go, [`STOP_GRACE`] after the worker began stopping it.
    async fn wait_patiently(self) {
        let mut stopping_since = None;
        while !self.cancel.load(Ordering::Relaxed) {
            if self.ctx.stopping() {
                let since = *stopping_since.get_or_insert_with(std::time::Instant::now);
                if since.elapsed() >= STOP_GRACE {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

struct Engine {
    cfg: SinkConfig,
    /// Also where the status shows why writes are being retried.
    stop: Stop,
    pool: Option<Pool>,
    /// Columns of the tables written so far (name, database type).
    tables: HashMap<String, Arc<Table>>,
}

impl Engine {
    fn new(cfg: SinkConfig, ctx: Arc<dyn SinkTaskContext>, cancel: Arc<AtomicBool>) -> Self {
        Self {
            cfg,
            stop: Stop { cancel, ctx },
            pool: None,
            tables: HashMap::new(),
        }
    }

    async fn run(mut self, mut jobs: mpsc::Receiver<Job>) {
        // The first connection, given up when the task stops (its attempts
        // can take `connection.attempts` x `connection.backoff.ms`).
        let stop = self.stop.clone().wait();
        tokio::select! {
            r = self.pool() => {
                if let Err(e) = r {
                    tracing::warn!("{e}");
                }
            }
            () = stop => {}
        }
        let mut next = None;
        loop {
            let job = match next.take() {
                Some(j) => j,
                None => match jobs.recv().await {
                    Some(j) => j,
                    None => break,
                },
            };
            if job.keep {
                let outcome = self.write_retrying(&job.rows, true).await;
                // A task that stopped waiting does not need the answer.
                let _ = job.done.send(outcome);
                continue;
            }
            // Everything handed over meanwhile goes in the same transaction.
            let mut merged = vec![job];
            let mut n = merged[0].rows.len();
            while n < MERGED_ROWS {
                match jobs.try_recv() {
                    Ok(j) if !j.keep => {
                        n += j.rows.len();
                        merged.push(j);
                    }
                    Ok(j) => {
                        next = Some(j);
                        break;
                    }
                    Err(_) => break,
                }
            }
            self.write_merged(merged, n).await;
        }
        if let Some(p) = self.pool.take() {
            p.close().await;
        }
    }

    /// Writes the rows of jobs in one transaction and gives each job the
    /// outcome: a refused row fails them all, naming its origin.
    async fn write_merged(&mut self, merged: Vec<Job>, n: usize) {
        let mut rows = Vec::with_capacity(n);
        let mut origins = Vec::with_capacity(n);
        let mut done = Vec::with_capacity(merged.len());
        for j in merged {
            rows.extend(j.rows);
            origins.extend(j.origins);
            done.push(j.done);
        }
        let outcome = match self.write_retrying(&rows, false).await {
            Ok(refused) => match refused.first() {
                None => Ok(Vec::new()),
                Some((i, m)) => Err(refused_error(m, &origins[*i].text())),
            },
            Err(e) => Err(e),
        };
        for d in done {
            let _ = d.send(outcome.clone());
        }
    }

    async fn pool(&mut self) -> ConnectResult<Pool> {
        if let Some(p) = &self.pool {
            return Ok(p.clone());
        }
        let c = &self.cfg.connection;
        let ctx = &self.stop.ctx;
        let p = Pool::connect_reporting(&c.target, c.attempts, c.backoff, &|why| ctx.trouble(why))
            .await?;
        self.pool = Some(p.clone());
        Ok(p)
    }

    /// Writes a batch, trying again after retriable failures (a lost
    /// connection is opened again) up to `max.retries` times.
    async fn write_retrying(&mut self, rows: &[Row], keep: bool) -> Outcome {
        let mut failures = 0u32;
        let stopped = |why: &str| {
            Err(ConnectError::fatal(format!(
                "the task is stopping: {} row(s) were not written (they will be read again): {why}",
                rows.len()
            )))
        };
        loop {
            // A write that hangs (a connection being made, a server that
            // does not answer) ends when the task stops.
            let stop = self.stop.clone().wait_patiently();
            let attempt = tokio::select! {
                r = self.write(rows, keep) => r,
                () = stop => return stopped("the write was abandoned"),
            };
            match attempt {
                Err(e) if e.is_retriable() => {
                    failures += 1;
                    self.pool = None;
                    if self.stop.now() {
                        return stopped(e.message());
                    }
                    if failures > self.cfg.max_retries {
                        return Err(ConnectError::fatal(format!(
                            "{} (failed {failures} times, more than max.retries={})",
                            e.message(),
                            self.cfg.max_retries
                        )));
                    }
                    let why = format!(
                        "writing {} row(s) failed {failures} time(s) (max.retries={}), trying again in {} ms: {}",
                        rows.len(),
                        self.cfg.max_retries,
                        self.cfg.retry_backoff_ms,
                        e.message()
                    );
                    tracing::warn!("{why}");
                    self.stop.ctx.trouble(Some(why));
                    // The back-off ends early when the task stops.
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_millis(self.cfg.retry_backoff_ms)) => {}
                        () = self.stop.clone().wait() => {}
                    }
                }
                other => {
                    if failures > 0 {
                        tracing::info!("writing again after {failures} failed attempt(s)");
                        self.stop.ctx.trouble(None);
                    }
                    return other;
                }
            }
        }
    }

    async fn write(&mut self, rows: &[Row], keep: bool) -> Outcome {
        let pool = self.pool().await?;
        let mut ready = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let table = self.table(&pool, row).await?;
            ready.push((i, row, table));
        }
        let stmts = plan(pool.dialect(), &self.cfg, &ready);
        let doing = format!("writing {} record(s)", rows.len());
        let Err(e) = pool.run(&stmts).await else {
            return Ok(Vec::new());
        };
        let e = classify(e, &doing);
        if !matches!(e, ConnectError::Data(_)) {
            if matches!(e, ConnectError::Fatal(_)) {
                // The table may have changed under us: read it again next time.
                self.tables.clear();
            }
            return Err(e);
        }
        // The database refused something: write row by row, each behind a
        // savepoint of one transaction, to find what. That transaction
        // commits only when the refused rows are taken (`keep`); otherwise
        // nothing of the batch is written and the task fails.
        let groups: Vec<_> = ready
            .iter()
            .map(|one| plan(pool.dialect(), &self.cfg, std::slice::from_ref(one)))
            .collect();
        let results = pool
            .run_each(&groups, keep)
            .await
            .map_err(|e| classify(e, &doing))?;
        Ok(ready
            .iter()
            .zip(results)
            .filter_map(|(one, r)| {
                r.map(|e| (one.0, classify(e, "writing a record").message().to_string()))
            })
            .collect())
    }

    /// Makes sure `row`'s table and columns exist (creating or evolving
    /// them when allowed) and returns what is known of the table.
    async fn table(&mut self, pool: &Pool, row: &Row) -> ConnectResult<Arc<Table>> {
        let missing = |t: &Table| -> Vec<Column> {
            row.key
                .iter()
                .chain(&row.values)
                .filter(|c| !t.has(&c.name))
                .cloned()
                .collect()
        };
        if let Some(t) = self.tables.get(&*row.table) {
            // The usual case: a known table with every column.
            if row.key.iter().chain(&row.values).all(|c| t.has(&c.name)) {
                return Ok(t.clone());
            }
        }
        let cfg = &self.cfg;
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
            let names: Vec<&str> = absent.iter().map(|c| &*c.name).collect();
            return Err(ConnectError::fatal(format!(
                "Table {} is missing fields ({}) and auto-evolution is disabled (set auto.evolve=true)",
                row.table,
                names.join(", ")
            )));
        };
        let table = Arc::new(table);
        self.tables.insert(row.table.to_string(), table.clone());
        Ok(table)
    }
}
