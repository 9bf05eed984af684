//! What the database tests share: a database of each kind, reading rows
//! back as text, and sink records and a task context to drive tasks with.

#![allow(dead_code)]

use std::sync::Arc;

use connect_api::{
    ConnectError, ErrantRecordReporter, Props, SchemaAndValue, SinkRecord, SinkTaskContext,
    TimestampType, TopicPartition, Value,
};
use parking_lot::Mutex;
use sqlx::Row;

/// A database to test against, and how to read it back.
pub struct Db {
    pub dialect: &'static str,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// The database of a kind: a fresh SQLite file, or the server whose URL
/// scripts/test.sh exports.
pub async fn db(kind: &'static str) -> Db {
    match kind {
        "sqlite" => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let url = format!("jdbc:sqlite:{}/test.db", dir.path().display());
            Db {
                dialect: kind,
                url,
                _dir: Some(dir),
            }
        }
        "postgres" => Db {
            dialect: kind,
            url: std::env::var("WEIR_TEST_POSTGRES_URL")
                .expect("WEIR_TEST_POSTGRES_URL (scripts/test.sh sets it)"),
            _dir: None,
        },
        _ => Db {
            dialect: "mysql",
            url: std::env::var("WEIR_TEST_MYSQL_URL")
                .expect("WEIR_TEST_MYSQL_URL (scripts/test.sh sets it)"),
            _dir: None,
        },
    }
}

const TABLES: &[&str] = &[
    "numtest",
    "typed",
    "upserted",
    "evolving",
    "strict",
    "nowhere",
    "parsed",
    "src_bulk",
    "src_inc",
    "src_ts",
    "src_tsinc",
    "src_query",
];

impl Db {
    pub fn props(&self) -> Props {
        [
            ("connection.url", self.url.as_str()),
            ("connection.attempts", "1"),
            ("connection.backoff.ms", "100"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// The table name tests use for `name`.
    pub fn table(&self, name: &str) -> String {
        format!("w_{name}")
    }

    /// An identifier quoted for this database.
    pub fn q(&self, name: &str) -> String {
        if self.dialect == "mysql" {
            format!("`{name}`")
        } else {
            format!("\"{name}\"")
        }
    }

    /// A column qualified by its table (PostgreSQL's ORDER BY would
    /// otherwise take an output column of the same name).
    pub fn col(&self, table: &str, col: &str) -> String {
        format!("{}.{}", self.q(table), self.q(col))
    }

    /// A column read as text.
    pub fn text(&self, col: &str) -> String {
        match self.dialect {
            "postgres" => format!("{}::text", self.q(col)),
            "mysql" => format!("CAST({} AS CHAR)", self.q(col)),
            _ => format!("CAST({} AS TEXT)", self.q(col)),
        }
    }

    /// A bytes column read as hex.
    pub fn hex(&self, col: &str) -> String {
        match self.dialect {
            "postgres" => format!("encode({}, 'hex')", self.q(col)),
            _ => format!("hex({})", self.q(col)),
        }
    }

    fn native(&self) -> String {
        let t = connector_jdbc::url::parse(&self.url, None, None).expect("a test URL");
        t.url
    }

    /// Runs statements (setup) one by one.
    pub async fn exec(&self, stmts: &[&str]) {
        let url = self.native();
        match self.dialect {
            "postgres" => {
                let p = sqlx::PgPool::connect(&url).await.expect("connect");
                for s in stmts {
                    sqlx::raw_sql(s)
                        .execute(&p)
                        .await
                        .unwrap_or_else(|e| panic!("{s}: {e}"));
                }
                p.close().await;
            }
            "mysql" => {
                let p = sqlx::MySqlPool::connect(&url).await.expect("connect");
                for s in stmts {
                    sqlx::raw_sql(s)
                        .execute(&p)
                        .await
                        .unwrap_or_else(|e| panic!("{s}: {e}"));
                }
                p.close().await;
            }
            _ => {
                let p = sqlx::SqlitePool::connect(&url).await.expect("connect");
                for s in stmts {
                    sqlx::raw_sql(s)
                        .execute(&p)
                        .await
                        .unwrap_or_else(|e| panic!("{s}: {e}"));
                }
                p.close().await;
            }
        }
    }

    /// Drops the tables the tests use.
    pub async fn reset(&self) {
        let stmts: Vec<String> = TABLES
            .iter()
            .map(|t| format!("DROP TABLE IF EXISTS {}", self.q(&self.table(t))))
            .collect();
        let refs: Vec<&str> = stmts.iter().map(String::as_str).collect();
        self.exec(&refs).await;
    }

    /// Rows of a query whose columns are all text (or NULL).
    pub async fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let url = self.native();
        macro_rules! read {
            ($pool:ty) => {{
                let p = <$pool>::connect(&url).await.expect("connect");
                let rows = sqlx::query(sql)
                    .fetch_all(&p)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                let out = rows
                    .iter()
                    .map(|r| {
                        (0..r.len())
                            .map(|i| r.try_get::<Option<String>, _>(i).expect("text"))
                            .collect()
                    })
                    .collect();
                p.close().await;
                out
            }};
        }
        match self.dialect {
            "postgres" => read!(sqlx::PgPool),
            "mysql" => read!(sqlx::MySqlPool),
            _ => read!(sqlx::SqlitePool),
        }
    }
}

/// A schemaless map value, as JsonConverter reads JSON without a schema.
pub fn schemaless(fields: &[(&str, Value)]) -> SchemaAndValue {
    SchemaAndValue::new(
        None,
        Value::Map(
            fields
                .iter()
                .map(|(k, v)| (Value::String(k.to_string()), v.clone()))
                .collect(),
        ),
    )
}

/// A record of `topic` partition 0 at `offset`.
pub fn sink_record(
    topic: &str,
    offset: i64,
    key: SchemaAndValue,
    value: SchemaAndValue,
) -> SinkRecord {
    SinkRecord {
        topic: topic.to_string(),
        partition: 0,
        offset,
        key,
        value,
        timestamp: Some(1_700_000_000_000),
        timestamp_type: TimestampType::CreateTime,
        headers: Vec::new(),
        original_topic: topic.to_string(),
        original_partition: 0,
        original_offset: offset,
    }
}

/// A sink task context that notes what the task asks for.
#[derive(Default)]
pub struct Ctx {
    reporter: Mutex<Option<Arc<Reporter>>>,
    stopping: std::sync::atomic::AtomicBool,
    trouble: Mutex<Option<String>>,
}

#[derive(Default)]
pub struct Reporter(Mutex<Vec<i64>>);

impl ErrantRecordReporter for Reporter {
    fn report(&self, record: &SinkRecord, _error: ConnectError) {
        self.0.lock().push(record.original_offset);
    }
}

impl Ctx {
    pub fn enable_reporter(&self) {
        *self.reporter.lock() = Some(Arc::new(Reporter::default()));
    }

    /// The worker stops the task.
    pub fn stop(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// What the task last said keeps it from progressing.
    pub fn trouble_now(&self) -> Option<String> {
        self.trouble.lock().clone()
    }

    /// Offsets of the records reported as errant.
    pub fn reported(&self) -> Vec<i64> {
        self.reporter
            .lock()
            .as_ref()
            .map(|r| r.0.lock().clone())
            .unwrap_or_default()
    }
}

impl SinkTaskContext for Ctx {
    fn assignment(&self) -> Vec<TopicPartition> {
        Vec::new()
    }
    fn offset(&self, _tp: &TopicPartition, _offset: i64) {}
    fn timeout(&self, _ms: u64) {}
    fn pause(&self, _partitions: &[TopicPartition]) {}
    fn resume(&self, _partitions: &[TopicPartition]) {}
    fn request_commit(&self) {}
    fn trouble(&self, why: Option<String>) {
        *self.trouble.lock() = why;
    }
    fn stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::Relaxed)
    }
    fn errant_record_reporter(&self) -> Option<Arc<dyn ErrantRecordReporter>> {
        self.reporter
            .lock()
            .clone()
            .map(|r| r as Arc<dyn ErrantRecordReporter>)
    }
}
