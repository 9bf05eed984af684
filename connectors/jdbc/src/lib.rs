//! JDBC-compatible source and sink connectors over sqlx, drop-in for
//! Confluent's `JdbcSourceConnector` and `JdbcSinkConnector`, for
//! PostgreSQL, MySQL/MariaDB and SQLite (the embedded default).

pub mod cell;
pub mod config;
pub mod db;
pub mod dialect;
pub mod sink;
pub mod url;

use std::sync::Arc;

use async_trait::async_trait;
use connect_api::{
    ConfigDef, ConfigValue, ConnectResult, Connector, ConnectorContext, Plugin, Props, TaskFactory,
};

pub use sink::JdbcSinkTask;

/// Confluent's `JdbcSinkConnector`: every task gets the connector's config.
#[derive(Default)]
struct JdbcSinkConnector {
    props: Props,
}

#[async_trait]
impl Connector for JdbcSinkConnector {
    async fn start(&mut self, props: &Props, _ctx: Arc<dyn ConnectorContext>) -> ConnectResult<()> {
        self.props = props.clone();
        Ok(())
    }

    fn task_configs(&self, max_tasks: usize) -> ConnectResult<Vec<Props>> {
        Ok(vec![self.props.clone(); max_tasks.max(1)])
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        Ok(())
    }

    /// The definition's checks, then the rules between keys (upserts need
    /// a key, deletes need `record_key`, a URL Weir can connect to).
    fn validate(&self, props: &Props, def: &ConfigDef) -> Vec<ConfigValue> {
        let mut values = def.validate(props);
        if values.iter().all(|v| v.errors.is_empty()) {
            if let Err(errors) = config::SinkConfig::parse(props) {
                for (k, e) in errors {
                    if let Some(v) = values.iter_mut().find(|v| v.name == k) {
                        v.errors.push(e);
                    }
                }
            }
        }
        values
    }
}

/// The sink plugin.
pub const SINK: Plugin = Plugin {
    class: "io.confluent.connect.jdbc.JdbcSinkConnector",
    aliases: &["JdbcSink", "JdbcSinkConnector"],
    version: env!("CARGO_PKG_VERSION"),
    config_def: config::sink_def,
    new_connector: || Box::new(JdbcSinkConnector::default()),
    tasks: TaskFactory::Sink(|| Box::new(JdbcSinkTask::default())),
};
