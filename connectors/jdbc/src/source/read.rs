//! What the source reads from a database: its tables, their columns, the
//! database's clock, and rows in the text protocol (every value as the
//! database writes it), so no type needs a client-side decoder.

use sqlx::{Column, Row, TypeInfo, ValueRef};

use super::decode::ColumnMeta;
use crate::db::Pool;

/// A table as the source names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TableId {
    pub catalog: Option<String>,
    pub schema: Option<String>,
    pub name: String,
}

impl TableId {
    /// `catalog.schema.table`, the name offsets (protocol 1) carry.
    pub fn qualified(&self) -> String {
        [&self.catalog, &self.schema]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .chain([self.name.as_str()])
            .collect::<Vec<_>>()
            .join(".")
    }

    /// `schema.table` (or `table`), as SQL names it.
    pub fn sql_name(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// One value as read.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    Null,
    Text(String),
    Bytes(Vec<u8>),
    Int(i64),
    Float(f64),
}

/// Every row of `$sql` on `$exec`, each split into values by `$conv`.
macro_rules! all_rows {
    ($sql:expr, $exec:expr, $conv:expr) => {
        sqlx::raw_sql($sql)
            .fetch_all($exec)
            .await?
            .iter()
            .map($conv)
            .collect::<Result<Vec<_>, sqlx::Error>>()
    };
}

impl Pool {
    /// The tables (and views when `types` says so) the source may read.
    pub async fn tables(
        &self,
        types: &[String],
        schema_pattern: Option<&str>,
    ) -> Result<Vec<TableId>, sqlx::Error> {
        let want_views = types.iter().any(|t| t.eq_ignore_ascii_case("VIEW"));
        let want_tables = types.is_empty() || types.iter().any(|t| t.eq_ignore_ascii_case("TABLE"));
        let kinds = match (want_tables, want_views) {
            (true, true) => "'BASE TABLE','VIEW'",
            (false, true) => "'VIEW'",
            _ => "'BASE TABLE'",
        };
        let pattern = schema_pattern.unwrap_or("%");
        Ok(match self {
            Pool::Pg(p) => {
                let sql = format!(
                    "SELECT current_database()::text, table_schema::text, table_name::text FROM information_schema.tables \
                     WHERE table_type IN ({kinds}) AND table_schema NOT IN ('pg_catalog','information_schema') \
                     AND table_schema LIKE $1 ORDER BY 2, 3"
                );
                sqlx::query(&sql)
                    .bind(pattern)
                    .fetch_all(p)
                    .await?
                    .iter()
                    .map(|r| {
                        Ok(TableId {
                            catalog: Some(r.try_get(0)?),
                            schema: Some(r.try_get(1)?),
                            name: r.try_get(2)?,
                        })
                    })
                    .collect::<Result<_, sqlx::Error>>()?
            }
            Pool::My(p) => {
                let sql = format!(
                    "SELECT CAST(table_schema AS CHAR), CAST(table_name AS CHAR) FROM information_schema.tables \
                     WHERE table_type IN ({kinds}) AND table_schema = DATABASE() ORDER BY 2"
                );
                sqlx::query(&sql)
                    .fetch_all(p)
                    .await?
                    .iter()
                    .map(|r| {
                        Ok(TableId {
                            catalog: Some(r.try_get(0)?),
                            schema: None,
                            name: r.try_get(1)?,
                        })
                    })
                    .collect::<Result<_, sqlx::Error>>()?
            }
            Pool::Lite(p) => {
                let kinds = match (want_tables, want_views) {
                    (true, true) => "'table','view'",
                    (false, true) => "'view'",
                    _ => "'table'",
                };
                let sql = format!(
                    "SELECT name FROM sqlite_master WHERE type IN ({kinds}) AND name NOT LIKE 'sqlite_%' ORDER BY name"
                );
                sqlx::query(&sql)
                    .fetch_all(p)
                    .await?
                    .iter()
                    .map(|r| {
                        Ok(TableId {
                            catalog: None,
                            schema: None,
                            name: r.try_get(0)?,
                        })
                    })
                    .collect::<Result<_, sqlx::Error>>()?
            }
        })
    }

    /// A table's columns with their types, scales and nullability.
    pub async fn column_meta(&self, t: &TableId) -> Result<Vec<ColumnMeta>, sqlx::Error> {
        // name, type, precision, scale, nullable, auto-increment
        type Described = (String, String, Option<i64>, Option<i64>, bool, bool);
        let rows: Vec<Described> = match self {
            Pool::Pg(p) => sqlx::query(
                "SELECT column_name::text, data_type::text, numeric_precision::int8, numeric_scale::int8, \
                 is_nullable = 'YES', coalesce(column_default LIKE 'nextval(%' OR is_identity = 'YES', false) \
                 FROM information_schema.columns \
                 WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
            )
            .bind(t.schema.as_deref().unwrap_or("public"))
            .bind(&t.name)
            .fetch_all(p)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get(0)?,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    r.try_get(3)?,
                    r.try_get(4)?,
                    r.try_get(5)?,
                ))
            })
            .collect::<Result<_, sqlx::Error>>()?,
            Pool::My(p) => sqlx::query(
                "SELECT CAST(column_name AS CHAR), CAST(data_type AS CHAR), CAST(numeric_precision AS SIGNED), \
                 CAST(numeric_scale AS SIGNED), CAST(is_nullable = 'YES' AS SIGNED), \
                 CAST(extra LIKE '%auto_increment%' AS SIGNED) FROM information_schema.columns \
                 WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ? ORDER BY ordinal_position",
            )
            .bind(t.catalog.as_deref())
            .bind(&t.name)
            .fetch_all(p)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get(0)?,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    r.try_get(3)?,
                    r.try_get::<i64, _>(4)? != 0,
                    r.try_get::<i64, _>(5)? != 0,
                ))
            })
            .collect::<Result<_, sqlx::Error>>()?,
            Pool::Lite(p) => {
                let cols = sqlx::query("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?)")
                    .bind(&t.name)
                    .fetch_all(p)
                    .await?;
                // An INTEGER PRIMARY KEY alone is the rowid, which SQLite
                // numbers itself.
                let keys = cols
                    .iter()
                    .filter(|r| r.try_get::<i64, _>(3).unwrap_or(0) > 0)
                    .count();
                cols.iter()
                    .map(|r| {
                        let ty: String = r.try_get(1)?;
                        let (precision, scale) = declared_size(&ty);
                        let rowid = keys == 1
                            && r.try_get::<i64, _>(3)? > 0
                            && ty.eq_ignore_ascii_case("integer");
                        // The rowid is never null, whatever the declaration says.
                        let nullable = r.try_get::<i64, _>(2)? == 0 && !rowid;
                        Ok((r.try_get(0)?, ty, precision, scale, nullable, rowid))
                    })
                    .collect::<Result<_, sqlx::Error>>()?
            }
        };
        let int = |v: Option<i64>| v.and_then(|v| i32::try_from(v).ok());
        Ok(rows
            .into_iter()
            .map(
                |(name, ty, precision, scale, nullable, auto_increment)| ColumnMeta {
                    name,
                    db_type: ty.to_ascii_lowercase(),
                    precision: int(precision),
                    scale: int(scale),
                    nullable,
                    auto_increment,
                },
            )
            .collect())
    }

    /// The columns of a query's result (types from the database's own
    /// description; all nullable, as a query says nothing of that).
    pub async fn query_meta(&self, sql: &str) -> Result<Vec<ColumnMeta>, sqlx::Error> {
        use sqlx::Executor;
        let cols: Vec<(String, String)> = match self {
            Pool::Pg(p) => p
                .describe(sql)
                .await?
                .columns()
                .iter()
                .map(|c| (c.name().to_string(), c.type_info().name().to_string()))
                .collect(),
            Pool::My(p) => p
                .describe(sql)
                .await?
                .columns()
                .iter()
                .map(|c| (c.name().to_string(), c.type_info().name().to_string()))
                .collect(),
            Pool::Lite(p) => p
                .describe(sql)
                .await?
                .columns()
                .iter()
                .map(|c| (c.name().to_string(), c.type_info().name().to_string()))
                .collect(),
        };
        Ok(cols
            .into_iter()
            .map(|(name, ty)| ColumnMeta {
                name,
                db_type: ty.to_ascii_lowercase(),
                precision: None,
                scale: None,
                auto_increment: false,
                nullable: true,
            })
            .collect())
    }

    /// The database's clock as `YYYY-MM-DD HH:MM:SS.ffffff` (UTC).
    pub async fn now_text(&self) -> Result<String, sqlx::Error> {
        if let Pool::Lite(p) = self {
            // SQLite's CURRENT_TIMESTAMP has whole seconds only.
            return sqlx::query_scalar("SELECT strftime('%Y-%m-%d %H:%M:%f','now')")
                .fetch_one(p)
                .await;
        }
        let sql = match self {
            Pool::My(_) => "SELECT NOW(6)",
            _ => "SELECT CAST(CURRENT_TIMESTAMP AS TIMESTAMP)",
        };
        let rows = self.text_rows(sql).await?;
        Ok(match rows.first().and_then(|r| r.first()) {
            Some(Raw::Text(t)) => t.clone(),
            _ => String::new(),
        })
    }

    /// Rows of `sql` in the text protocol: PostgreSQL and MySQL write every
    /// value as text (bytes as bytes); SQLite gives its own storage classes.
    pub async fn text_rows(&self, sql: &str) -> Result<Vec<Vec<Raw>>, sqlx::Error> {
        match self {
            Pool::Pg(p) => all_rows!(sql, p, pg_row),
            Pool::My(p) => all_rows!(sql, p, my_row),
            Pool::Lite(p) => all_rows!(sql, p, lite_row),
        }
    }

    /// Streams the rows of `sql` (about `bound` waiting at most) from a
    /// thread of its own with its own connection, in the pool's session
    /// settings: rows are read and split into values while the task turns
    /// earlier ones into records.
    pub fn text_stream(&self, sql: String, bound: usize) -> RowStream {
        let (tx, rx) = tokio::sync::mpsc::channel((bound / CHUNK_ROWS).max(1));
        let pool = self.clone();
        let failed = tx.clone();
        if let Err(e) = reader_thread(move |rt| rt.block_on(pump(pool, sql, tx))) {
            let _ = failed.try_send(Err(e));
        }
        RowStream {
            rx,
            rest: Vec::new().into_iter(),
        }
    }
}

/// Rows a reader thread hands over at once, when it has them: one
/// hand-over per row would cost more than reading the row.
const CHUNK_ROWS: usize = 256;

/// The rows of a [`Pool::text_stream`], as they arrive.
pub struct RowStream {
    rx: tokio::sync::mpsc::Receiver<Result<Vec<Vec<Raw>>, sqlx::Error>>,
    /// What is left of the chunk last received.
    rest: std::vec::IntoIter<Vec<Raw>>,
}

impl RowStream {
    /// The next `max` rows (fewer at the end of the stream), and whether
    /// the stream has ended.
    pub async fn take(&mut self, max: usize) -> Result<(Vec<Vec<Raw>>, bool), sqlx::Error> {
        let mut rows = Vec::with_capacity(max.min(1 << 14));
        loop {
            rows.extend(self.rest.by_ref().take(max - rows.len()));
            if rows.len() >= max {
                return Ok((rows, false));
            }
            match self.rx.recv().await {
                Some(chunk) => self.rest = chunk?.into_iter(),
                None => return Ok((rows, true)),
            }
        }
    }
}

/// The query after a batch of rows, or `None` to stop reading ahead.
pub type NextQuery = Box<dyn FnMut(&[Vec<Raw>]) -> Option<String> + Send>;

impl Pool {
    /// Reads ahead: runs `first` and then each query `next` makes of the
    /// rows before (until it makes none), on a thread and connection of
    /// its own, one batch waiting at most.
    pub fn batches_ahead(
        &self,
        first: String,
        next: NextQuery,
    ) -> tokio::sync::mpsc::Receiver<Result<Vec<Vec<Raw>>, sqlx::Error>> {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let pool = self.clone();
        let failed = tx.clone();
        let spawned = reader_thread(move |rt| rt.block_on(ahead(pool, first, next, tx)));
        if let Err(e) = spawned {
            let _ = failed.try_send(Err(e));
        }
        rx
    }
}

/// A thread named after the task's with a runtime of its own.
fn reader_thread(
    f: impl FnOnce(tokio::runtime::Runtime) + Send + 'static,
) -> Result<(), sqlx::Error> {
    let name = match std::thread::current().name() {
        Some(n) => format!("{n}-read"),
        None => "jdbc-source-read".to_string(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(sqlx::Error::Io)?;
    std::thread::Builder::new()
        .name(name)
        .spawn(move || f(rt))
        .map(|_| ())
        .map_err(sqlx::Error::Io)
}

/// A connection of the pool's database in its session settings; a
/// failure goes to the reader (`$tx`) and ends the calling function.
macro_rules! own_connection {
    ($pool:expr, $p:expr, $tx:expr) => {{
        use sqlx::{ConnectOptions, Executor};
        let opened = async {
            let mut c = $p.connect_options().connect().await?;
            let session = $pool.dialect().session_sql();
            if !session.is_empty() {
                c.execute(session).await?;
            }
            Ok::<_, sqlx::Error>(c)
        };
        match opened.await {
            Ok(c) => c,
            Err(e) => {
                let _ = $tx.send(Err(e)).await;
                return;
            }
        }
    }};
}

async fn ahead(
    pool: Pool,
    first: String,
    mut next: NextQuery,
    tx: tokio::sync::mpsc::Sender<Result<Vec<Vec<Raw>>, sqlx::Error>>,
) {
    macro_rules! run {
        ($p:expr, $conv:expr) => {{
            let mut c = own_connection!(pool, $p, tx);
            let mut sql = Some(first);
            while let Some(q) = sql.take() {
                let rows = async { all_rows!(&q, &mut c, $conv) }.await;
                sql = match &rows {
                    Ok(rows) => next(rows),
                    Err(_) => None,
                };
                if tx.send(rows).await.is_err() {
                    return;
                }
            }
        }};
    }
    match &pool {
        Pool::Pg(p) => run!(p, pg_row),
        Pool::My(p) => run!(p, my_row),
        Pool::Lite(p) => run!(p, lite_row),
    }
}

/// Sends the rows of `sql`, read on a connection of this thread's own, in
/// chunks of up to [`CHUNK_ROWS`]: a chunk goes as soon as it is full or
/// the next row is not there yet.
async fn pump(
    pool: Pool,
    sql: String,
    tx: tokio::sync::mpsc::Sender<Result<Vec<Vec<Raw>>, sqlx::Error>>,
) {
    use futures_util::{FutureExt, StreamExt};
    macro_rules! pump {
        ($p:expr, $conv:expr) => {{
            let mut c = own_connection!(pool, $p, tx);
            let mut rows = sqlx::raw_sql(&sql).fetch(&mut c);
            let mut chunk = Vec::with_capacity(CHUNK_ROWS);
            loop {
                let ready = rows.next().now_or_never();
                // A full chunk goes, and so does what has been read when
                // the next row is not there yet.
                if !chunk.is_empty() && (ready.is_none() || chunk.len() >= CHUNK_ROWS) {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_ROWS));
                    if tx.send(Ok(full)).await.is_err() {
                        return;
                    }
                }
                let next = match ready {
                    Some(next) => next,
                    None => rows.next().await,
                };
                let Some(row) = next else { break };
                match row.and_then(|r| $conv(&r)) {
                    Ok(values) => chunk.push(values),
                    Err(e) => {
                        // The rows before the error go first.
                        if !chunk.is_empty() {
                            let _ = tx.send(Ok(std::mem::take(&mut chunk))).await;
                        }
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                }
            }
            if !chunk.is_empty() {
                let _ = tx.send(Ok(chunk)).await;
            }
        }};
    }
    match &pool {
        Pool::Pg(p) => pump!(p, pg_row),
        Pool::My(p) => pump!(p, my_row),
        Pool::Lite(p) => pump!(p, lite_row),
    }
}

fn pg_row(r: &sqlx::postgres::PgRow) -> Result<Vec<Raw>, sqlx::Error> {
    (0..r.len())
        .map(|i| {
            let v = r.try_get_raw(i)?;
            if v.is_null() {
                return Ok(Raw::Null);
            }
            if v.type_info().name() == "BYTEA" {
                return Ok(Raw::Bytes(r.try_get_unchecked::<Vec<u8>, _>(i)?));
            }
            Ok(Raw::Text(r.try_get_unchecked::<String, _>(i)?))
        })
        .collect()
}

fn my_row(r: &sqlx::mysql::MySqlRow) -> Result<Vec<Raw>, sqlx::Error> {
    (0..r.len())
        .map(|i| {
            let v = r.try_get_raw(i)?;
            if v.is_null() {
                return Ok(Raw::Null);
            }
            let name = v.type_info().name().to_string();
            if name.contains("BLOB") || name.contains("BINARY") {
                return Ok(Raw::Bytes(r.try_get_unchecked::<Vec<u8>, _>(i)?));
            }
            Ok(Raw::Text(r.try_get_unchecked::<String, _>(i)?))
        })
        .collect()
}

fn lite_row(r: &sqlx::sqlite::SqliteRow) -> Result<Vec<Raw>, sqlx::Error> {
    (0..r.len())
        .map(|i| {
            let v = r.try_get_raw(i)?;
            if v.is_null() {
                return Ok(Raw::Null);
            }
            Ok(match v.type_info().name() {
                "INTEGER" => Raw::Int(r.try_get_unchecked::<i64, _>(i)?),
                "REAL" => Raw::Float(r.try_get_unchecked::<f64, _>(i)?),
                "BLOB" => Raw::Bytes(r.try_get_unchecked::<Vec<u8>, _>(i)?),
                _ => Raw::Text(r.try_get_unchecked::<String, _>(i)?),
            })
        })
        .collect()
}

/// Precision and scale of a declared type such as `NUMERIC(12,2)` (SQLite
/// keeps the declaration as written, and holds any value in any column:
/// without a scale written, none is assumed).
fn declared_size(ty: &str) -> (Option<i64>, Option<i64>) {
    let Some(inner) = ty
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inner, _)| inner)
    else {
        return (None, None);
    };
    let mut parts = inner.split(',').map(|p| p.trim().parse::<i64>().ok());
    let precision = parts.next().flatten();
    (precision, parts.next().flatten())
}
