//! The JDBC source: the connector lists the tables to read and spreads
//! them over up to `tasks.max` tasks (listing them again every
//! `table.poll.interval.ms`); each task polls its tables, or the custom
//! query, every `poll.interval.ms` in the configured mode.

mod decode;
mod querier;
mod read;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use connect_api::config::Config;
use connect_api::record::SourcePartition;
use connect_api::{
    ConnectError, ConnectResult, Props, SourceRecord, SourceTask, SourceTaskContext,
};
use serde_json::json;

use crate::config::*;
use crate::db::{classify, Pool};
use crate::dialect::Dialect;
use querier::Querier;
pub use querier::{Mode, Position};
pub use read::TableId;

/// The source's typed settings.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub connection: Connection,
    pub mode: String,
    pub incrementing: String,
    pub timestamps: Vec<String>,
    pub initial: Option<i64>,
    pub delay_ms: i64,
    pub validate_non_null: bool,
    pub poll_interval: Duration,
    pub batch_max_rows: usize,
    pub whitelist: Vec<String>,
    pub blacklist: Vec<String>,
    pub include: Vec<regex::Regex>,
    pub exclude: Vec<regex::Regex>,
    pub table_types: Vec<String>,
    pub schema_pattern: Option<String>,
    pub query: String,
    pub query_suffix: String,
    pub topic_prefix: String,
    pub table_poll_interval: Duration,
    /// `numeric.mapping` and `timestamp.granularity`.
    pub mapping: decode::Mapping,
}

fn regexes(c: &Config, key: &str, errors: &mut Vec<(String, String)>) -> Vec<regex::Regex> {
    c.list(key)
        .unwrap_or_default()
        .iter()
        .filter_map(|r| match regex::Regex::new(&format!("^(?:{r})$")) {
            Ok(x) => Some(x),
            Err(e) => {
                errors.push((
                    key.to_string(),
                    format!("Invalid value {r} for configuration {key}: {e}"),
                ));
                None
            }
        })
        .collect()
}

impl SourceConfig {
    /// Parses and checks the settings; every problem names its key.
    pub fn parse(props: &Props) -> Result<Self, Vec<(String, String)>> {
        let c = parse_keyed(&source_def(), props)?;
        let mut errors = Vec::new();
        let connection =
            Connection::from_config(&c).map_err(|e| errors.push((CONNECTION_URL.to_string(), e)));
        let mode = c.string(MODE).unwrap_or_default().to_string();
        let incrementing = c
            .string(INCREMENTING_COLUMN)
            .unwrap_or_default()
            .to_string();
        let timestamps = c
            .list(TIMESTAMP_COLUMN)
            .map(<[String]>::to_vec)
            .unwrap_or_default();
        let query_set = !c.string(QUERY).unwrap_or_default().is_empty();
        if mode.contains("incrementing") && incrementing.is_empty() && query_set {
            errors.push((INCREMENTING_COLUMN.into(), format!("Missing required configuration \"{INCREMENTING_COLUMN}\": mode {mode} with a query reads rows above the last value of this column (tables find their auto-increment column)")));
        }
        if mode.contains("timestamp") && timestamps.is_empty() {
            errors.push((TIMESTAMP_COLUMN.into(), format!("Missing required configuration \"{TIMESTAMP_COLUMN}\": mode {mode} reads rows changed after the last time read")));
        }
        let list = |k: &str| c.list(k).map(<[String]>::to_vec).unwrap_or_default();
        let (whitelist, blacklist) = (list(TABLE_WHITELIST), list(TABLE_BLACKLIST));
        if !whitelist.is_empty() && !blacklist.is_empty() {
            errors.push((
                TABLE_WHITELIST.into(),
                format!("{TABLE_WHITELIST} and {TABLE_BLACKLIST} are mutually exclusive"),
            ));
        }
        let include = regexes(&c, TABLE_INCLUDE, &mut errors);
        let exclude = regexes(&c, TABLE_EXCLUDE, &mut errors);
        if (!include.is_empty() || !exclude.is_empty())
            && (!whitelist.is_empty() || !blacklist.is_empty())
        {
            errors.push((TABLE_INCLUDE.into(), format!("{TABLE_INCLUDE} / {TABLE_EXCLUDE} cannot be combined with {TABLE_WHITELIST} / {TABLE_BLACKLIST}")));
        }
        let query = c.string(QUERY).unwrap_or_default().to_string();
        if !query.is_empty()
            && (!whitelist.is_empty() || !blacklist.is_empty() || !include.is_empty())
        {
            errors.push((
                QUERY.into(),
                "query and table lists are mutually exclusive".into(),
            ));
        }
        let initial = c.int(TIMESTAMP_INITIAL).map(|t| {
            if t == -1 {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0))
            } else {
                t
            }
        });
        let ms = |k: &str, d: i64| {
            Duration::from_millis(u64::try_from(c.int(k).unwrap_or(d)).unwrap_or(0))
        };
        // numeric.mapping, or the deprecated numeric.precision.mapping when
        // it is not set (true means precision_only).
        let numeric = match props.get(NUMERIC_MAPPING) {
            Some(_) => c
                .string(NUMERIC_MAPPING)
                .and_then(decode::NumericMapping::parse),
            None if c.boolean(NUMERIC_PRECISION_MAPPING) == Some(true) => {
                Some(decode::NumericMapping::PrecisionOnly)
            }
            None => Some(decode::NumericMapping::None),
        };
        let granularity = c
            .string(TIMESTAMP_GRANULARITY)
            .and_then(decode::Granularity::parse);
        let (Ok(connection), true) = (connection, errors.is_empty()) else {
            return Err(errors);
        };
        Ok(Self {
            connection,
            mode,
            incrementing,
            timestamps,
            initial,
            delay_ms: c.int(TIMESTAMP_DELAY).unwrap_or(0),
            validate_non_null: c.boolean(VALIDATE_NON_NULL).unwrap_or(true),
            poll_interval: ms(POLL_INTERVAL, 5000),
            batch_max_rows: usize::try_from(c.int(BATCH_MAX_ROWS).unwrap_or(100))
                .unwrap_or(100)
                .max(1),
            whitelist,
            blacklist,
            include,
            exclude,
            table_types: list(TABLE_TYPES),
            schema_pattern: c.string(SCHEMA_PATTERN).map(str::to_string),
            query,
            query_suffix: c.string(QUERY_SUFFIX).unwrap_or_default().to_string(),
            topic_prefix: c.string(TOPIC_PREFIX).unwrap_or_default().to_string(),
            table_poll_interval: ms(TABLE_POLL_INTERVAL, 60_000),
            mapping: decode::Mapping {
                numeric: numeric.unwrap_or_default(),
                granularity: granularity.unwrap_or_default(),
            },
        })
    }

    fn read_mode(&self) -> Mode {
        match self.mode.as_str() {
            "incrementing" => Mode::Incrementing(self.incrementing.clone()),
            "timestamp" => Mode::Timestamp(self.timestamps.clone()),
            "timestamp+incrementing" => {
                Mode::TimestampIncrementing(self.timestamps.clone(), self.incrementing.clone())
            }
            _ => Mode::Bulk,
        }
    }

    /// Whether the source reads `t` (white/black lists match the plain or
    /// the qualified name; include/exclude patterns the qualified name).
    pub fn selects(&self, t: &TableId) -> bool {
        let q = t.qualified();
        let named = |l: &[String]| {
            l.iter()
                .any(|n| n == &t.name || n == &q || Some(n.as_str()) == Some(t.sql_name().as_str()))
        };
        if !self.whitelist.is_empty() && !named(&self.whitelist) {
            return false;
        }
        if named(&self.blacklist) {
            return false;
        }
        if !self.include.is_empty() && !self.include.iter().any(|r| r.is_match(&q)) {
            return false;
        }
        !self.exclude.iter().any(|r| r.is_match(&q))
    }
}

/// The tables the source reads now.
pub async fn list_tables(pool: &Pool, cfg: &SourceConfig) -> ConnectResult<Vec<TableId>> {
    let all = pool
        .tables(&cfg.table_types, cfg.schema_pattern.as_deref())
        .await
        .map_err(|e| classify(e, "listing tables"))?;
    Ok(all.into_iter().filter(|t| cfg.selects(t)).collect())
}

/// The mode for one table: without `incrementing.column.name`, its
/// auto-increment column (as Confluent's connector finds it).
fn with_incrementing_column(
    mode: &Mode,
    cols: &[decode::ColumnMeta],
    table: &str,
) -> ConnectResult<Mode> {
    let found = || {
        cols.iter()
            .find(|c| c.auto_increment)
            .map(|c| c.name.clone())
            .ok_or_else(|| {
                ConnectError::fatal(format!(
                    "Cannot find an auto-increment column in table {table}: set {INCREMENTING_COLUMN}"
                ))
            })
    };
    Ok(match mode {
        Mode::Incrementing(c) if c.is_empty() => Mode::Incrementing(found()?),
        Mode::TimestampIncrementing(ts, c) if c.is_empty() => {
            Mode::TimestampIncrementing(ts.clone(), found()?)
        }
        other => other.clone(),
    })
}

/// Reads a qualified name back (`db.schema.table`, `db.table`, `table`).
pub fn parse_table(d: Dialect, q: &str) -> TableId {
    let parts: Vec<&str> = q.splitn(3, '.').collect();
    match (d, parts.as_slice()) {
        (Dialect::Postgres, [c, s, n]) => TableId {
            catalog: Some(c.to_string()),
            schema: Some(s.to_string()),
            name: n.to_string(),
        },
        (Dialect::MySql, [c, n]) => TableId {
            catalog: Some(c.to_string()),
            schema: None,
            name: n.to_string(),
        },
        _ => TableId {
            catalog: None,
            schema: None,
            name: q.to_string(),
        },
    }
}

/// Confluent's `JdbcSourceTask`.
#[derive(Default)]
pub struct JdbcSourceTask {
    cfg: Option<SourceConfig>,
    /// Until the task has met its database: its config and context.
    waiting: Option<(Props, SourceTaskContext)>,
    pool: Option<Pool>,
    queriers: Vec<(Querier, Instant)>,
}

impl JdbcSourceTask {
    /// Connects (`connection.attempts` times when `first`, else once) and
    /// prepares a querier per table (or the query), resuming from the
    /// stored offsets.
    async fn prepare(
        &mut self,
        props: &Props,
        ctx: &SourceTaskContext,
        first: bool,
    ) -> ConnectResult<()> {
        let cfg = SourceConfig::parse(props).map_err(|errors| {
            let text: Vec<String> = errors.into_iter().map(|(_, e)| e).collect();
            ConnectError::fatal(text.join("; "))
        })?;
        let c = &cfg.connection;
        let pool = if first {
            Pool::connect(&c.target, c.attempts, c.backoff).await?
        } else {
            Pool::connect_once(&c.target).await?
        };
        let d = pool.dialect();
        let quote = c.quote;
        let mode = cfg.read_mode();
        let mut sources: Vec<(
            SourcePartition,
            String,
            String,
            String,
            Vec<decode::ColumnMeta>,
            Mode,
        )> = Vec::new();
        if !cfg.query.is_empty() {
            let from = format!("SELECT * FROM ({}) q", cfg.query);
            let cols = pool
                .query_meta(&cfg.query)
                .await
                .map_err(|e| classify(e, "describing the query"))?;
            let mut p = SourcePartition::new();
            p.insert("query".into(), json!("query"));
            sources.push((
                p,
                cfg.topic_prefix.clone(),
                if mode == Mode::Bulk {
                    cfg.query.clone()
                } else {
                    from
                },
                "query".into(),
                cols,
                mode.clone(),
            ));
        } else {
            let tables = props.get(TABLES).map(String::as_str).unwrap_or_default();
            for q in tables.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                let t = parse_table(d, q);
                let cols = pool
                    .column_meta(&t)
                    .await
                    .map_err(|e| classify(e, &format!("reading the columns of {q}")))?;
                if cols.is_empty() {
                    return Err(ConnectError::fatal(format!(
                        "table {q} has no columns Weir can read (does it exist?)"
                    )));
                }
                let mode = with_incrementing_column(&mode, &cols, q)?;
                if cfg.validate_non_null {
                    let checked: Vec<&String> = match &mode {
                        Mode::Incrementing(i) => vec![i],
                        Mode::Timestamp(ts) => ts.iter().collect(),
                        Mode::TimestampIncrementing(ts, i) => ts.iter().chain([i]).collect(),
                        Mode::Bulk => Vec::new(),
                    };
                    for c in checked {
                        match cols.iter().find(|m| &m.name == c || m.name.eq_ignore_ascii_case(c)) {
                            None => return Err(ConnectError::fatal(format!("Cannot make incremental queries using column {c} on {q}: there is no such column"))),
                            Some(m) if m.nullable => return Err(ConnectError::fatal(format!(
                                "Cannot make incremental queries using column {c} on {q} because this column is nullable (set validate.non.null=false to allow it)"
                            ))),
                            Some(_) => {}
                        }
                    }
                }
                let mut p = SourcePartition::new();
                p.insert("protocol".into(), json!("1"));
                p.insert("table".into(), json!(q));
                let from = format!("SELECT * FROM {}", d.table(&t.sql_name(), quote));
                sources.push((
                    p,
                    format!("{}{}", cfg.topic_prefix, t.name),
                    from,
                    t.name.clone(),
                    cols,
                    mode,
                ));
            }
        }
        let now = Instant::now();
        for (partition, topic, from, name, cols, mode) in sources {
            let position = ctx
                .offsets
                .offset(&partition)
                .map(|o| Position::from_offset(&o))
                .unwrap_or_default();
            let q = Querier::new(
                d,
                partition,
                topic,
                from,
                &name,
                cols,
                mode,
                position,
                cfg.initial,
                cfg.mapping,
                cfg.connection.zone.clone(),
            );
            self.queriers.push((q, now));
        }
        self.pool = Some(pool);
        self.cfg = Some(cfg);
        Ok(())
    }
}

#[async_trait]
impl SourceTask for JdbcSourceTask {
    fn reads_committed_records(&self) -> bool {
        false
    }

    /// A database that cannot be reached now (after `connection.attempts`)
    /// does not fail the task: each poll tries again, and the runtime
    /// retries it with a growing pause, the task's status saying why.
    async fn start(&mut self, props: &Props, ctx: SourceTaskContext) -> ConnectResult<()> {
        match self.prepare(props, &ctx, true).await {
            Err(e) if e.is_retriable() => {
                tracing::warn!("{}; trying again when polled", e.message());
                self.waiting = Some((props.clone(), ctx));
                Ok(())
            }
            r => r,
        }
    }

    async fn poll(&mut self) -> ConnectResult<Vec<SourceRecord>> {
        if let Some((props, ctx)) = self.waiting.take() {
            if let Err(e) = self.prepare(&props, &ctx, false).await {
                if e.is_retriable() {
                    self.waiting = Some((props, ctx));
                }
                return Err(e);
            }
        }
        let (Some(cfg), Some(pool)) = (self.cfg.clone(), self.pool.clone()) else {
            return Err(ConnectError::fatal("the task was not started"));
        };
        if self.queriers.is_empty() {
            tokio::time::sleep(Duration::from_secs(1)).await;
            return Ok(Vec::new());
        }
        // The table due first; wait for it.
        let (i, due) = self
            .queriers
            .iter()
            .enumerate()
            .map(|(i, (_, due))| (i, *due))
            .min_by_key(|(_, due)| *due)
            .unwrap_or((0, Instant::now()));
        let now = Instant::now();
        if due > now {
            tokio::time::sleep((due - now).min(Duration::from_secs(1))).await;
            if Instant::now() < due {
                return Ok(Vec::new());
            }
        }
        let (q, next) = &mut self.queriers[i];
        let records = q
            .poll(
                &pool,
                cfg.connection.quote,
                cfg.batch_max_rows,
                cfg.delay_ms,
                &cfg.query_suffix,
            )
            .await?;
        // A full batch, or a bulk pass under way, means more is waiting:
        // poll the table again at once.
        *next = if q.pass_under_way()
            || (records.len() >= cfg.batch_max_rows && !matches!(cfg.read_mode(), Mode::Bulk))
        {
            Instant::now()
        } else {
            Instant::now() + cfg.poll_interval
        };
        Ok(records)
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        if let Some(p) = self.pool.take() {
            p.close().await;
        }
        Ok(())
    }
}

/// The tables of each task: `min(tables, max_tasks)` groups, in order.
pub fn spread(tables: &[TableId], max_tasks: usize) -> Vec<Vec<String>> {
    let n = tables.len().min(max_tasks.max(1));
    let mut groups: Vec<Vec<String>> = vec![Vec::new(); n];
    for (i, t) in tables.iter().enumerate() {
        groups[i % n].push(t.qualified());
    }
    groups
}

/// Task configs for the tables: each task gets the connector's settings
/// and its `tables`.
pub fn task_configs(
    props: &Props,
    tables: &[TableId],
    max_tasks: usize,
    query: bool,
) -> Vec<Props> {
    if query {
        return vec![props.clone()];
    }
    spread(tables, max_tasks)
        .into_iter()
        .map(|g| {
            let mut p: BTreeMap<String, String> = props.clone();
            p.insert(TABLES.to_string(), g.join(","));
            p
        })
        .collect()
}
