//! The database edge: connecting (with `connection.attempts` and
//! `connection.backoff.ms`), sessions in UTC, table metadata, statements run
//! in one transaction, and what a database error means for the task.

use std::time::Duration;

use connect_api::ConnectError;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{Executor, Row};

use crate::cell::Cell;
use crate::url::{redact, Dialect, Target};

/// A pool of connections to one database.
#[derive(Clone)]
pub enum Pool {
    Pg(PgPool),
    My(MySqlPool),
    Lite(SqlitePool),
}

/// A statement and its parameters, in the dialect's placeholders.
pub struct Stmt<'a> {
    pub sql: String,
    pub params: Vec<Cell>,
    /// For a PostgreSQL `COPY ... FROM STDIN`: the data it reads.
    pub copy: Option<CopyData<'a>>,
}

/// What a `COPY ... FROM STDIN` reads.
pub enum CopyData<'a> {
    /// Rows rendered while the statement runs.
    Rows(Box<dyn CopyRows + 'a>),
    /// Data ready as a whole.
    Bytes(Vec<u8>),
}

/// The rows a `COPY ... FROM STDIN` reads, rendered while the statement
/// runs: the database parses one chunk while the next is rendered.
pub trait CopyRows: Send + Sync {
    /// How many rows there are.
    fn count(&self) -> usize;
    /// Appends row `i` in the statement's format.
    fn write(&self, i: usize, out: &mut Vec<u8>);
}

/// How much COPY data is rendered before it is sent.
const COPY_CHUNK: usize = 64 * 1024;

/// What a database error means for a task: lost connections and
/// conflicts between transactions are worth retrying; a refused value
/// concerns one record; anything else (a missing table, no permission) is
/// fatal until someone changes something.
pub fn classify(e: sqlx::Error, doing: &str) -> ConnectError {
    classify_ref(&e, doing)
}

/// Whether an error concerns the record being written (a constraint, a
/// value the column refuses) rather than the connection or the table.
fn refused(e: &sqlx::Error) -> bool {
    matches!(classify_ref(e, ""), ConnectError::Data(_))
}

fn classify_ref(e: &sqlx::Error, doing: &str) -> ConnectError {
    use sqlx::Error as E;
    match e {
        E::Io(_)
        | E::PoolTimedOut
        | E::PoolClosed
        | E::Tls(_)
        | E::Protocol(_)
        | E::WorkerCrashed => ConnectError::retriable(format!("{doing}: {e}")),
        E::Database(d) => {
            use sqlx::error::ErrorKind;
            let code = d.code().map(|c| c.to_string()).unwrap_or_default();
            let msg = format!("{doing}: {} (code {code})", d.message());
            if !matches!(d.kind(), ErrorKind::Other) {
                // Unique, foreign key, not-null and check violations.
                return ConnectError::data(msg);
            }
            // SQLite's numeric result codes: BUSY and LOCKED pass, a type
            // mismatch or constraint concerns the record.
            if let Ok(n) = code.parse::<u32>() {
                return match n & 0xff {
                    5 | 6 => ConnectError::retriable(msg),
                    19 | 20 | 25 => ConnectError::data(msg),
                    _ => ConnectError::fatal(msg),
                };
            }
            // SQLSTATE classes (PostgreSQL, MySQL/MariaDB).
            match code.get(..2).unwrap_or("") {
                "08" | "40" | "53" | "57" | "HY" => ConnectError::retriable(msg),
                "22" | "23" | "44" => ConnectError::data(msg),
                _ => ConnectError::fatal(msg),
            }
        }
        _ => ConnectError::fatal(format!("{doing}: {e}")),
    }
}

impl Pool {
    pub fn dialect(&self) -> Dialect {
        match self {
            Pool::Pg(_) => Dialect::Postgres,
            Pool::My(_) => Dialect::MySql,
            Pool::Lite(_) => Dialect::Sqlite,
        }
    }

    /// Connects, trying `attempts` times `backoff` apart; every session
    /// works in UTC.
    pub async fn connect(
        target: &Target,
        attempts: u32,
        backoff: Duration,
    ) -> Result<Pool, ConnectError> {
        Self::connect_reporting(target, attempts, backoff, &|_| {}).await
    }

    /// One attempt, its error classified: a database that is down (or
    /// starting) is retriable, a refused login or a missing database is not.
    pub async fn connect_once(target: &Target) -> Result<Pool, ConnectError> {
        Self::open(target)
            .await
            .map_err(|e| classify(e, &format!("connecting to {}", redact(&target.url))))
    }

    /// `connect`, telling `report` why each failed attempt failed, and
    /// `None` once an attempt after a failed one succeeds (a task's status
    /// says what it is waiting for while it tries again).
    pub async fn connect_reporting(
        target: &Target,
        attempts: u32,
        backoff: Duration,
        report: &(dyn Fn(Option<String>) + Sync),
    ) -> Result<Pool, ConnectError> {
        let mut last = None;
        for attempt in 1..=attempts.max(1) {
            match Self::open(target).await {
                Ok(p) => {
                    if last.is_some() {
                        report(None);
                    }
                    return Ok(p);
                }
                Err(e) => {
                    let next = if attempt < attempts {
                        format!(", trying again in {} ms", backoff.as_millis())
                    } else {
                        String::new()
                    };
                    let why = format!(
                        "connecting to {} failed (attempt {attempt} of {attempts}){next}: {e}",
                        redact(&target.url)
                    );
                    tracing::warn!("{why}");
                    report(Some(why));
                    last = Some(e);
                }
            }
            if attempt < attempts {
                tokio::time::sleep(backoff).await;
            }
        }
        let e = last.map_or_else(|| "no attempt".to_string(), |e| e.to_string());
        Err(ConnectError::retriable(format!(
            "could not connect to {} after {attempts} attempt(s): {e}",
            redact(&target.url)
        )))
    }

    /// One attempt: a single connection made and closed (so a refused
    /// connection fails at once, as a JDBC driver's would), then the pool.
    /// A long statement (a bulk read of a big table) is normal here: sqlx's
    /// slow-statement warnings go to the debug level.
    async fn open(target: &Target) -> Result<Pool, sqlx::Error> {
        use sqlx::{ConnectOptions, Connection};
        let wait = Duration::from_secs(10);
        let (level, at) = (log::LevelFilter::Debug, Duration::from_secs(1));
        Ok(match target.dialect {
            Dialect::Postgres => {
                let opts = target
                    .url
                    .parse::<PgConnectOptions>()?
                    .log_slow_statements(level, at);
                sqlx::PgConnection::connect_with(&opts)
                    .await?
                    .close()
                    .await?;
                Pool::Pg(
                    PgPoolOptions::new()
                        .max_connections(2)
                        .acquire_timeout(wait)
                        .after_connect(|c, _| {
                            Box::pin(async move {
                                c.execute(Dialect::Postgres.session_sql()).await?;
                                Ok(())
                            })
                        })
                        .connect_with(opts)
                        .await?,
                )
            }
            Dialect::MySql => {
                let opts = target
                    .url
                    .parse::<MySqlConnectOptions>()?
                    .log_slow_statements(level, at);
                sqlx::MySqlConnection::connect_with(&opts)
                    .await?
                    .close()
                    .await?;
                Pool::My(
                    MySqlPoolOptions::new()
                        .max_connections(2)
                        .acquire_timeout(wait)
                        .after_connect(|c, _| {
                            Box::pin(async move {
                                c.execute(Dialect::MySql.session_sql()).await?;
                                Ok(())
                            })
                        })
                        .connect_with(opts)
                        .await?,
                )
            }
            Dialect::Sqlite => {
                let opts = target
                    .url
                    .parse::<SqliteConnectOptions>()?
                    .busy_timeout(Duration::from_secs(10))
                    .log_slow_statements(level, at);
                Pool::Lite(
                    SqlitePoolOptions::new()
                        .max_connections(1)
                        .acquire_timeout(wait)
                        .connect_with(opts)
                        .await?,
                )
            }
        })
    }

    /// The columns of a table (name, type as the database writes it), or
    /// `None` when there is no such table. `table` is `name` or
    /// `schema.name`, unquoted.
    pub async fn columns(&self, table: &str) -> Result<Option<Vec<(String, String)>>, sqlx::Error> {
        let (schema, name) = match table.rsplit_once('.') {
            Some((s, n)) => (Some(s), n),
            None => (None, table),
        };
        let rows: Vec<(String, String)> = match self {
            Pool::Pg(p) => {
                let quoted = Dialect::Postgres.table(table, true);
                let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
                    .bind(&quoted)
                    .fetch_one(p)
                    .await?;
                if exists.is_none() {
                    return Ok(None);
                }
                sqlx::query(
                    "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
                     WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                )
                .bind(&quoted)
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_, sqlx::Error>>()?
            }
            Pool::My(p) => sqlx::query(
                "SELECT CAST(column_name AS CHAR), CAST(column_type AS CHAR) FROM information_schema.columns \
                 WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ? ORDER BY ordinal_position",
            )
            .bind(schema)
            .bind(name)
            .fetch_all(p)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()?,
            Pool::Lite(p) => sqlx::query("SELECT name, type FROM pragma_table_info(?)")
                .bind(name)
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_, sqlx::Error>>()?,
        };
        Ok(if rows.is_empty() { None } else { Some(rows) })
    }

    /// Runs statements in one transaction: all of them happen or none.
    pub async fn run(&self, stmts: &[Stmt<'_>]) -> Result<(), sqlx::Error> {
        match self {
            Pool::Pg(p) => {
                let mut tx = p.begin().await?;
                exec_pg(&mut tx, stmts).await?;
                tx.commit().await
            }
            Pool::My(p) => {
                let mut tx = p.begin().await?;
                exec_my(&mut tx, stmts).await?;
                tx.commit().await
            }
            Pool::Lite(p) => {
                let mut tx = p.begin().await?;
                exec_lite(&mut tx, stmts).await?;
                tx.commit().await
            }
        }
    }

    /// Runs each group of statements (one record's) in one transaction,
    /// each behind a savepoint: a group the database refuses with a
    /// record-level error is rolled back alone and its error returned at
    /// its place. The transaction commits only when `keep` (someone takes
    /// the refused records); otherwise nothing is written. Any other error
    /// ends the whole attempt.
    pub async fn run_each(
        &self,
        groups: &[Vec<Stmt<'_>>],
        keep: bool,
    ) -> Result<Vec<Option<sqlx::Error>>, sqlx::Error> {
        macro_rules! each {
            ($pool:expr, $exec:ident) => {{
                let mut tx = $pool.begin().await?;
                let mut out = Vec::with_capacity(groups.len());
                for g in groups {
                    let mut sp = sqlx::Connection::begin(&mut *tx).await?;
                    match $exec(&mut sp, g).await {
                        Ok(()) => {
                            sp.commit().await?;
                            out.push(None);
                        }
                        Err(e) if refused(&e) => {
                            sp.rollback().await?;
                            out.push(Some(e));
                        }
                        Err(e) => return Err(e),
                    }
                }
                if keep {
                    tx.commit().await?;
                } else {
                    tx.rollback().await?;
                }
                Ok(out)
            }};
        }
        match self {
            Pool::Pg(p) => each!(p, exec_pg),
            Pool::My(p) => each!(p, exec_my),
            Pool::Lite(p) => each!(p, exec_lite),
        }
    }

    /// Runs one statement outside a transaction (DDL).
    pub async fn execute(&self, sql: &str) -> Result<(), sqlx::Error> {
        match self {
            Pool::Pg(p) => p.execute(sql).await.map(|_| ()),
            Pool::My(p) => p.execute(sql).await.map(|_| ()),
            Pool::Lite(p) => p.execute(sql).await.map(|_| ()),
        }
    }

    pub async fn close(&self) {
        match self {
            Pool::Pg(p) => p.close().await,
            Pool::My(p) => p.close().await,
            Pool::Lite(p) => p.close().await,
        }
    }
}

async fn exec_pg(c: &mut sqlx::PgConnection, stmts: &[Stmt<'_>]) -> Result<(), sqlx::Error> {
    for s in stmts {
        let Some(data) = &s.copy else {
            let mut q = sqlx::query(&s.sql);
            for cell in &s.params {
                q = q.bind(cell.text());
            }
            q.execute(&mut *c).await?;
            continue;
        };
        let mut copy = c.copy_in_raw(&s.sql).await?;
        // Sent a chunk at a time: the database reads one while the next
        // is made or sent.
        match data {
            CopyData::Bytes(b) => {
                for chunk in b.chunks(COPY_CHUNK) {
                    copy.send(chunk).await?;
                }
            }
            CopyData::Rows(rows) => {
                let mut chunk = Vec::with_capacity(COPY_CHUNK + COPY_CHUNK / 4);
                for i in 0..rows.count() {
                    rows.write(i, &mut chunk);
                    if chunk.len() >= COPY_CHUNK {
                        copy.send(chunk.as_slice()).await?;
                        chunk.clear();
                    }
                }
                if !chunk.is_empty() {
                    copy.send(chunk.as_slice()).await?;
                }
            }
        }
        copy.finish().await?;
    }
    Ok(())
}

/// Runs statements binding each cell with its own type (booleans as `$bool`
/// makes them: MySQL takes a bool, SQLite an integer).
macro_rules! exec_typed {
    ($c:expr, $stmts:expr, $bool:expr) => {{
        for s in $stmts {
            let mut q = sqlx::query(&s.sql);
            for cell in &s.params {
                q = match cell {
                    Cell::Null => q.bind(None::<String>),
                    Cell::Bool(b) => q.bind($bool(*b)),
                    Cell::Int(n) => q.bind(*n),
                    Cell::Float(f) => q.bind(*f),
                    Cell::Bytes(b) => q.bind(b.clone()),
                    other => q.bind(other.text()),
                };
            }
            q.execute(&mut *$c).await?;
        }
        Ok(())
    }};
}

async fn exec_my(c: &mut sqlx::MySqlConnection, stmts: &[Stmt<'_>]) -> Result<(), sqlx::Error> {
    exec_typed!(c, stmts, |b: bool| b)
}

async fn exec_lite(c: &mut sqlx::SqliteConnection, stmts: &[Stmt<'_>]) -> Result<(), sqlx::Error> {
    exec_typed!(c, stmts, i64::from)
}
