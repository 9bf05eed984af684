//! JDBC-compatible source and sink connectors over sqlx, drop-in for
//! Confluent's `JdbcSourceConnector` and `JdbcSinkConnector`, for
//! PostgreSQL, MySQL/MariaDB and SQLite (the embedded default).

pub mod cell;
pub mod config;
pub mod db;
pub mod dialect;
pub mod sink;
pub mod source;
pub mod url;
pub mod zone;

use std::sync::Arc;

use async_trait::async_trait;
use connect_api::connector::SharedConfigSink;
use connect_api::{
    ConfigDef, ConfigValue, ConnectResult, Connector, ConnectorContext, Plugin, Props, TaskFactory,
};

pub use sink::JdbcSinkTask;
pub use source::JdbcSourceTask;

use std::sync::atomic::{AtomicBool, Ordering};

use connect_api::ConnectError;
use parking_lot::Mutex;

/// The rules between the sink's keys (upserts need a key, deletes need
/// `record_key`, a URL Weir can connect to).
fn sink_rules(props: &Props) -> Vec<(String, String)> {
    config::SinkConfig::parse(props).err().unwrap_or_default()
}

/// A SQLite database is a local file (`jdbc:sqlite:PATH`, `sqlite:PATH`).
fn sqlite_file(props: &Props) -> Vec<connect_api::LocalAccess> {
    let Some(url) = props.get("connection.url").map(|u| u.trim()) else {
        return Vec::new();
    };
    let Some(rest) = url
        .strip_prefix("jdbc:sqlite:")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return Vec::new();
    };
    let path = rest.trim_start_matches("//");
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path == ":memory:" {
        return Vec::new();
    }
    vec![connect_api::LocalAccess::Path {
        key: "connection.url".into(),
        path: path.to_string(),
    }]
}

/// The sink plugin.
pub const SINK: Plugin = Plugin {
    class: "io.confluent.connect.jdbc.JdbcSinkConnector",
    aliases: &["JdbcSink", "JdbcSinkConnector"],
    version: env!("CARGO_PKG_VERSION"),
    config_def: config::sink_def,
    new_connector: || SharedConfigSink::boxed_accessing(sink_rules, false, sqlite_file),
    tasks: TaskFactory::Sink(|| Box::new(JdbcSinkTask::default())),
};

/// Confluent's `JdbcSourceConnector`: lists the tables, spreads them over
/// the tasks, and lists them again every `table.poll.interval.ms`, asking
/// for new task configs when the set changed.
#[derive(Default)]
struct JdbcSourceConnector {
    props: Props,
    query: bool,
    tables: Arc<Mutex<Vec<source::TableId>>>,
    stop: Arc<AtomicBool>,
}

#[async_trait]
impl Connector for JdbcSourceConnector {
    async fn start(&mut self, props: &Props, ctx: Arc<dyn ConnectorContext>) -> ConnectResult<()> {
        let cfg = source::SourceConfig::parse(props).map_err(|errors| {
            let text: Vec<String> = errors.into_iter().map(|(_, e)| e).collect();
            ConnectError::fatal(text.join("; "))
        })?;
        self.props = props.clone();
        self.query = !cfg.query.is_empty();
        if self.query {
            return Ok(());
        }
        // A database that is down now is waited for: the connector runs
        // without tasks, its status saying why, until the tables are
        // listed. A refused login or a missing database fails it.
        let listed = match list_once(&cfg).await {
            Ok(found) => {
                if found.is_empty() {
                    tracing::warn!("No tasks will be run because no tables were found (check table.whitelist, table.include.list, schema.pattern and table.types)");
                }
                *self.tables.lock() = found;
                true
            }
            Err(e) if e.is_retriable() => {
                waiting(&cfg, ctx.as_ref(), &e);
                false
            }
            Err(e) => return Err(e),
        };
        if listed && cfg.table_poll_interval.is_zero() {
            return Ok(());
        }
        let (tables, stop) = (self.tables.clone(), self.stop.clone());
        std::thread::Builder::new()
            .name("jdbc-table-monitor".into())
            .spawn(move || monitor(cfg, tables, stop, ctx, listed))
            .map_err(|e| ConnectError::fatal(format!("starting the table monitor: {e}")))?;
        Ok(())
    }

    fn task_configs(&self, max_tasks: usize) -> ConnectResult<Vec<Props>> {
        Ok(source::task_configs(
            &self.props,
            &self.tables.lock(),
            max_tasks,
            self.query,
        ))
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        self.stop.store(true, Ordering::Relaxed);
        Ok(())
    }

    fn local_access(&self, props: &Props) -> Vec<connect_api::LocalAccess> {
        sqlite_file(props)
    }

    fn validate(&self, props: &Props, def: &ConfigDef) -> Vec<ConfigValue> {
        def.validate_with(props, |p| {
            source::SourceConfig::parse(p).err().unwrap_or_default()
        })
    }
}

/// The tables the source reads, on a connection of its own.
async fn list_once(cfg: &source::SourceConfig) -> ConnectResult<Vec<source::TableId>> {
    let pool = db::Pool::connect_once(&cfg.connection.target).await?;
    let found = source::list_tables(&pool, cfg).await;
    pool.close().await;
    found
}

/// Says (in the log and the connector's status) what a connector that has
/// not listed its tables yet waits for.
fn waiting(cfg: &source::SourceConfig, ctx: &dyn ConnectorContext, e: &ConnectError) {
    let why = format!(
        "cannot list the tables yet (trying again every {} ms, connection.backoff.ms): {}",
        cfg.connection.backoff.as_millis(),
        e.message()
    );
    tracing::warn!("{why}");
    ctx.trouble(Some(why));
}

/// Lists the tables until stopped: every `connection.backoff.ms` until a
/// first listing succeeds (when `listed` is false), then every
/// `table.poll.interval.ms` (not at all when it is 0). A listing that
/// differs from the last asks the runtime for new task configs.
fn monitor(
    cfg: source::SourceConfig,
    tables: Arc<Mutex<Vec<source::TableId>>>,
    stop: Arc<AtomicBool>,
    ctx: Arc<dyn ConnectorContext>,
    mut listed: bool,
) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        ctx.raise_error(ConnectError::fatal(
            "the table monitor could not start its runtime",
        ));
        return;
    };
    let slice = std::time::Duration::from_millis(200);
    loop {
        let every = if listed {
            cfg.table_poll_interval
        } else {
            cfg.connection.backoff
        };
        if every.is_zero() && listed {
            return;
        }
        let until = std::time::Instant::now() + every;
        while std::time::Instant::now() < until {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(slice.min(until - std::time::Instant::now()));
        }
        match rt.block_on(list_once(&cfg)) {
            Ok(now) => {
                let changed = !listed || *tables.lock() != now;
                if changed && !stop.load(Ordering::Relaxed) {
                    tracing::info!(
                        "the set of tables changed ({} now); reconfiguring the tasks",
                        now.len()
                    );
                    *tables.lock() = now;
                    if !listed {
                        ctx.trouble(None);
                    }
                    listed = true;
                    ctx.request_task_reconfiguration();
                }
            }
            Err(e) if !listed => waiting(&cfg, ctx.as_ref(), &e),
            Err(e) => tracing::warn!("listing tables: {}", e.message()),
        }
    }
}

/// The source plugin.
pub const SOURCE: Plugin = Plugin {
    class: "io.confluent.connect.jdbc.JdbcSourceConnector",
    aliases: &["JdbcSource", "JdbcSourceConnector"],
    version: env!("CARGO_PKG_VERSION"),
    config_def: config::source_def,
    new_connector: || Box::new(JdbcSourceConnector::default()),
    tasks: TaskFactory::Source(|| Box::new(JdbcSourceTask::default())),
};
