//! One table (or the custom query) of a source task: the SQL of its mode,
//! the offset it has reached, and its rows as source records with
//! Confluent's partitions (`{"protocol":"1","table":...}` or
//! `{"query":"query"}`) and offsets (`incrementing`, `timestamp`,
//! `timestamp_nanos`).

use std::sync::Arc;

use connect_api::record::{SourceOffset, SourcePartition};
use connect_api::{
    ConnectError, ConnectResult, Schema, SchemaAndValue, SourceRecord, Struct, Value,
};
use serde_json::json;

use super::decode::{self, ColumnMeta, Kind};
use super::read::Raw;
use crate::cell::{date_text, time_text};
use crate::db::{classify, Pool};
use crate::dialect::Dialect;
use crate::zone::Zone;

/// What a table is read by.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Bulk,
    Incrementing(String),
    Timestamp(Vec<String>),
    TimestampIncrementing(Vec<String>, String),
}

/// How far a table has been read.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Position {
    pub incrementing: Option<i64>,
    /// Epoch ms and the nanoseconds within the second.
    pub timestamp: Option<(i64, u32)>,
}

impl Position {
    /// Reads a committed offset map.
    pub fn from_offset(o: &SourceOffset) -> Self {
        let ts = o.get("timestamp").and_then(serde_json::Value::as_i64);
        let nanos = o
            .get("timestamp_nanos")
            .and_then(serde_json::Value::as_u64)
            .and_then(|n| u32::try_from(n).ok());
        Self {
            incrementing: o.get("incrementing").and_then(serde_json::Value::as_i64),
            timestamp: ts.map(|ms| {
                (
                    ms,
                    nanos.unwrap_or_else(|| (ms.rem_euclid(1000) as u32) * 1_000_000),
                )
            }),
        }
    }

    fn offset(&self) -> SourceOffset {
        let mut o = SourceOffset::new();
        if let Some((ms, nanos)) = self.timestamp {
            o.insert("timestamp".into(), json!(ms));
            o.insert("timestamp_nanos".into(), json!(nanos));
        }
        if let Some(i) = self.incrementing {
            o.insert("incrementing".into(), json!(i));
        }
        o
    }
}

/// A timestamp literal the database compares with its own values.
fn ts_literal(d: Dialect, (ms, nanos): (i64, u32)) -> String {
    let secs = ms.div_euclid(1000);
    let base = format!(
        "{} {}",
        date_text(secs.div_euclid(86_400)),
        &time_text(secs.rem_euclid(86_400) * 1000)[..8]
    );
    match d {
        // SQLite stores text as strftime('%f') writes it: milliseconds.
        Dialect::Sqlite => format!("'{base}.{:03}'", nanos / 1_000_000),
        Dialect::Postgres => format!("CAST('{base}.{:06}' AS TIMESTAMP)", nanos / 1000),
        Dialect::MySql => format!("'{base}.{:06}'", nanos / 1000),
    }
}

/// One source of rows.
pub struct Querier {
    pub partition: Arc<SourcePartition>,
    pub topic: Arc<str>,
    /// `SELECT * FROM <table>` or the query wrapped as a subquery.
    from: String,
    cols: Vec<(ColumnMeta, Kind)>,
    schema: Arc<Schema>,
    mode: Mode,
    pub position: Position,
    /// Timestamps start here when nothing was committed.
    initial: Option<i64>,
    /// A bulk pass under way: the rows still to come.
    bulk: Option<super::read::RowStream>,
    /// `db.timezone`, and which columns keep wall-clock times in it.
    zone: Zone,
    local: Vec<bool>,
    /// Incrementing mode after a full batch: the next batches, read ahead.
    ahead: Option<tokio::sync::mpsc::Receiver<Result<Vec<Vec<Raw>>, sqlx::Error>>>,
}

impl Querier {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        d: Dialect,
        partition: SourcePartition,
        topic: String,
        from: String,
        schema_name: &str,
        cols: Vec<ColumnMeta>,
        mode: Mode,
        position: Position,
        initial: Option<i64>,
        mapping: decode::Mapping,
        zone: Zone,
    ) -> Self {
        let cols: Vec<(ColumnMeta, Kind)> = cols
            .into_iter()
            .map(|m| {
                let k = decode::kind(d, &m, mapping);
                (m, k)
            })
            .collect();
        let schema = decode::row_schema(schema_name, &cols);
        let local = cols
            .iter()
            .map(|(m, k)| {
                !zone.is_utc()
                    && matches!(k, Kind::Timestamp(_))
                    && crate::zone::wall_clock(d, &m.db_type)
            })
            .collect();
        Self {
            partition: Arc::new(partition),
            topic: Arc::from(topic),
            from,
            cols,
            schema,
            mode,
            position,
            initial,
            bulk: None,
            zone,
            local,
            ahead: None,
        }
    }

    /// True while a bulk pass has rows left to read.
    pub fn pass_under_way(&self) -> bool {
        self.bulk.is_some()
    }

    /// The next rows above the incrementing position. After a full batch
    /// the following ones are read ahead, on a connection of their own,
    /// while these become records; a short batch ends the reading ahead.
    async fn incrementing_rows(
        &mut self,
        pool: &Pool,
        inc: &str,
        quote: bool,
        batch: usize,
        suffix: &str,
    ) -> ConnectResult<Vec<Vec<Raw>>> {
        let d = pool.dialect();
        let (from, c, suffix) = (self.from.clone(), d.ident(inc, quote), suffix.to_string());
        let query = move |after: i64| {
            format!("{from} WHERE {c} > {after} ORDER BY {c} ASC LIMIT {batch}{suffix}")
        };
        let doing = format!("reading {}", self.topic);
        let rows = match self.ahead.as_mut() {
            Some(rx) => match rx.recv().await {
                Some(r) => r.map_err(|e| {
                    self.ahead = None;
                    classify(e, &doing)
                })?,
                None => {
                    self.ahead = None;
                    Vec::new()
                }
            },
            None => pool
                .text_rows(&query(self.position.incrementing.unwrap_or(-1)))
                .await
                .map_err(|e| classify(e, &doing))?,
        };
        if rows.len() < batch {
            self.ahead = None;
        } else if self.ahead.is_none() {
            let i = self.col_index(inc)?;
            let last = move |rows: &[Vec<Raw>]| match rows.last().and_then(|r| r.get(i)) {
                Some(Raw::Int(n)) => Some(*n),
                Some(Raw::Text(t)) => t.trim().parse::<i64>().ok(),
                _ => None,
            };
            if let Some(after) = last(&rows) {
                let first = query(after);
                let next = move |rows: &[Vec<Raw>]| {
                    if rows.len() < batch {
                        return None;
                    }
                    last(rows).map(&query)
                };
                self.ahead = Some(pool.batches_ahead(first, Box::new(next)));
            }
        }
        Ok(rows)
    }

    /// The next rows of the bulk pass (starting one when none is under way).
    async fn bulk_rows(
        &mut self,
        pool: &Pool,
        sql: String,
        batch: usize,
    ) -> ConnectResult<Vec<Vec<Raw>>> {
        let stream = self
            .bulk
            .get_or_insert_with(|| pool.text_stream(sql, batch));
        match stream.take(batch).await {
            Ok((rows, ended)) => {
                if ended {
                    self.bulk = None;
                }
                Ok(rows)
            }
            Err(e) => {
                let doing = format!("reading {}", self.topic);
                Err(classify(e, &doing))
            }
        }
    }

    fn col_index(&self, name: &str) -> ConnectResult<usize> {
        self.cols
            .iter()
            .position(|(m, _)| m.name == name || m.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                ConnectError::fatal(format!(
                    "column {name} is not among the columns of {}",
                    self.topic
                ))
            })
    }

    fn ts_expr(d: Dialect, quote: bool, cols: &[String]) -> String {
        let q: Vec<String> = cols.iter().map(|c| d.ident(c, quote)).collect();
        if q.len() == 1 {
            q[0].clone()
        } else {
            format!("COALESCE({})", q.join(","))
        }
    }

    /// The next rows as source records: at most `batch` (more when rows
    /// share the last timestamp of a timestamp-only batch, so that none is
    /// skipped), and the position past them.
    pub async fn poll(
        &mut self,
        pool: &Pool,
        quote: bool,
        batch: usize,
        delay_ms: i64,
        suffix: &str,
    ) -> ConnectResult<Vec<SourceRecord>> {
        let d = pool.dialect();
        let suffix = if suffix.is_empty() {
            String::new()
        } else {
            format!(" {suffix}")
        };
        let end = || async {
            let now = pool
                .now_text()
                .await
                .map_err(|e| classify(e, "reading the database's clock"))?;
            let (ms, nanos) = decode::parse_timestamp(&now)?;
            let ms = ms - delay_ms;
            Ok::<_, ConnectError>((
                ms,
                if delay_ms == 0 {
                    nanos
                } else {
                    (ms.rem_euclid(1000) as u32) * 1_000_000
                },
            ))
        };
        let start_ts = self.position.timestamp.unwrap_or_else(|| {
            let ms = self.initial.unwrap_or(0);
            (ms, (ms.rem_euclid(1000) as u32) * 1_000_000)
        });
        if self.mode == Mode::Bulk {
            let rows = self
                .bulk_rows(pool, format!("{}{suffix}", self.from), batch)
                .await?;
            return self.records(rows);
        }
        if let Mode::Incrementing(inc) = &self.mode {
            let inc = inc.clone();
            let rows = self
                .incrementing_rows(pool, &inc, quote, batch, &suffix)
                .await?;
            return self.records(rows);
        }
        let sql = match &self.mode {
            Mode::Bulk => format!("{}{suffix}", self.from),
            Mode::Incrementing(inc) => format!(
                "{} WHERE {c} > {} ORDER BY {c} ASC LIMIT {batch}{suffix}",
                self.from,
                self.position.incrementing.unwrap_or(-1),
                c = d.ident(inc, quote)
            ),
            Mode::Timestamp(cols) => {
                let e = end().await?;
                format!(
                    "{} WHERE {t} > {} AND {t} < {} ORDER BY {t} ASC LIMIT {batch}{suffix}",
                    self.from,
                    self.ts_literal(d, start_ts),
                    self.ts_literal(d, e),
                    t = Self::ts_expr(d, quote, cols)
                )
            }
            Mode::TimestampIncrementing(cols, inc) => {
                let e = end().await?;
                let t = Self::ts_expr(d, quote, cols);
                let i = d.ident(inc, quote);
                let ts = self.ts_literal(d, start_ts);
                format!(
                    "{} WHERE {t} < {} AND (({t} = {ts} AND {i} > {}) OR {t} > {ts}) ORDER BY {t}, {i} ASC LIMIT {batch}{suffix}",
                    self.from,
                    self.ts_literal(d, e),
                    self.position.incrementing.unwrap_or(-1)
                )
            }
        };
        let mut rows = pool
            .text_rows(&sql)
            .await
            .map_err(|e| classify(e, &format!("reading {}", self.topic)))?;
        if let Mode::Timestamp(cols) = &self.mode {
            // A full batch may stop in the middle of rows sharing its last
            // timestamp: leave those for a query of that timestamp alone.
            if rows.len() >= batch && batch > 0 {
                let ti = self.ts_col_index()?;
                let last = self.ts_of(rows.last().and_then(|r| r.get(ti)))?;
                let first = self.ts_of(rows.first().and_then(|r| r.get(ti)))?;
                if first == last {
                    let t = Self::ts_expr(d, quote, cols);
                    let sql = format!(
                        "{} WHERE {t} = {} ORDER BY {t} ASC{suffix}",
                        self.from,
                        self.ts_literal(d, last.unwrap_or((0, 0)))
                    );
                    rows = pool
                        .text_rows(&sql)
                        .await
                        .map_err(|e| classify(e, &format!("reading {}", self.topic)))?;
                } else {
                    while rows.len() > 1 && self.ts_of(rows.last().and_then(|r| r.get(ti)))? == last
                    {
                        rows.pop();
                    }
                }
            }
        }
        self.records(rows)
    }

    fn ts_col_index(&self) -> ConnectResult<usize> {
        match &self.mode {
            Mode::Timestamp(cols) | Mode::TimestampIncrementing(cols, _) => {
                // With several columns the first non-null counts; the
                // first one is where offsets are read from.
                self.col_index(&cols[0])
            }
            _ => Err(ConnectError::fatal("no timestamp column in this mode")),
        }
    }

    /// The zone of the timestamp columns' wall-clock times, when they keep
    /// such (the first column decides, as it holds the offsets).
    fn ts_zone(&self) -> Option<&Zone> {
        let i = self.ts_col_index().ok()?;
        self.local
            .get(i)
            .copied()
            .unwrap_or(false)
            .then_some(&self.zone)
    }

    /// The instant of a timestamp column's value.
    fn ts_of(&self, raw: Option<&Raw>) -> ConnectResult<Option<(i64, u32)>> {
        let local = self.ts_zone();
        Ok(match raw {
            None | Some(Raw::Null) => None,
            Some(Raw::Text(t)) => Some(decode::instant_of(t, local)?),
            Some(Raw::Int(n)) => Some((*n, (n.rem_euclid(1000) as u32) * 1_000_000)),
            Some(Raw::Float(f)) => Some((*f as i64, 0)),
            Some(Raw::Bytes(b)) => Some(decode::instant_of(&String::from_utf8_lossy(b), local)?),
        })
    }

    /// An instant as a literal to compare the timestamp columns with.
    fn ts_literal(&self, d: Dialect, (ms, nanos): (i64, u32)) -> String {
        match self.ts_zone() {
            Some(z) => ts_literal(d, z.to_wall(ms, nanos)),
            None => ts_literal(d, (ms, nanos)),
        }
    }

    fn records(&mut self, rows: Vec<Vec<Raw>>) -> ConnectResult<Vec<SourceRecord>> {
        let inc_i = match &self.mode {
            Mode::Incrementing(c) | Mode::TimestampIncrementing(_, c) => Some(self.col_index(c)?),
            _ => None,
        };
        let ts_cols: Vec<usize> = match &self.mode {
            Mode::Timestamp(cols) | Mode::TimestampIncrementing(cols, _) => cols
                .iter()
                .map(|c| self.col_index(c))
                .collect::<ConnectResult<_>>()?,
            _ => Vec::new(),
        };
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut values = Vec::with_capacity(self.cols.len());
            for (((m, k), raw), local) in self.cols.iter().zip(&row).zip(&self.local) {
                values.push(value(*k, raw, &self.zone, *local).map_err(|e| {
                    ConnectError::data(format!(
                        "column {} of {}: {}",
                        m.name,
                        self.topic,
                        e.message()
                    ))
                })?);
            }
            if let Some(i) = inc_i {
                self.position.incrementing = match &row[i] {
                    Raw::Int(n) => Some(*n),
                    Raw::Text(t) => t.trim().parse().ok(),
                    _ => None,
                }
                .or(self.position.incrementing);
            }
            if !ts_cols.is_empty() {
                let first = ts_cols
                    .iter()
                    .find(|i| !matches!(row.get(**i), Some(Raw::Null) | None));
                if let Some(t) = first
                    .map(|i| self.ts_of(row.get(*i)))
                    .transpose()?
                    .flatten()
                {
                    self.position.timestamp = Some(t);
                }
            }
            let st = Struct::from_values(self.schema.clone(), values)?;
            out.push(SourceRecord::new(
                self.partition.clone(),
                None,
                self.topic.clone(),
                SchemaAndValue::new(Some(self.schema.clone()), Value::Struct(st)),
            ));
        }
        // The last record of the batch carries the position: the runtime
        // commits an acknowledged prefix, so it covers the ones before it.
        if self.mode != Mode::Bulk {
            if let Some(last) = out.last_mut() {
                last.source_offset = Some(self.position.offset());
            }
        }
        Ok(out)
    }
}

/// The Connect value of one read value; `local` for a column that keeps
/// wall-clock times in `zone`.
fn value(k: Kind, raw: &Raw, zone: &Zone, local: bool) -> ConnectResult<Value> {
    let text = |t: &str| decode::from_text_in(k, t, zone, local);
    match raw {
        Raw::Null => Ok(Value::Null),
        Raw::Text(t) => text(t),
        Raw::Bytes(b) => match k {
            Kind::Bytes => Ok(Value::Bytes(b.clone())),
            _ => text(&String::from_utf8_lossy(b)),
        },
        Raw::Int(n) => match k {
            Kind::Timestamp(g) => decode::timestamp_value(
                g,
                *n,
                u32::try_from(n.rem_euclid(1000) * 1_000_000).unwrap_or(0),
                zone,
            ),
            Kind::Text => Ok(Value::String(n.to_string())),
            _ => text(&n.to_string()),
        },
        Raw::Float(f) => match k {
            Kind::Text => Ok(Value::String(f.to_string())),
            Kind::Float64 => Ok(Value::Float64(*f)),
            Kind::Float32 => Ok(Value::Float32(*f as f32)),
            _ => text(&format!("{f}")),
        },
    }
}
