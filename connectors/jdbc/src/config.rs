//! The connectors' settings: Confluent's keys, defaults and meanings, one
//! definition each for the source and the sink, and the typed forms the
//! tasks read.

use std::time::Duration;

use connect_api::config::{
    key, Config, ConfigKey, ConfigType, DefaultValue, Importance, Validator,
};
use connect_api::{ConfigDef, Props};

use crate::url::{self, Target};
use crate::zone::Zone;

pub const CONNECTION_URL: &str = "connection.url";
pub const CONNECTION_USER: &str = "connection.user";
pub const CONNECTION_PASSWORD: &str = "connection.password";
pub const CONNECTION_ATTEMPTS: &str = "connection.attempts";
pub const CONNECTION_BACKOFF: &str = "connection.backoff.ms";
pub const QUOTE: &str = "quote.sql.identifiers";
pub const DB_TIMEZONE: &str = "db.timezone";
pub const DIALECT: &str = "dialect.name";

pub const INSERT_MODE: &str = "insert.mode";
pub const PK_MODE: &str = "pk.mode";
pub const PK_FIELDS: &str = "pk.fields";
pub const FIELDS_WHITELIST: &str = "fields.whitelist";
pub const TABLE_FORMAT: &str = "table.name.format";
pub const AUTO_CREATE: &str = "auto.create";
pub const AUTO_EVOLVE: &str = "auto.evolve";
pub const BATCH_SIZE: &str = "batch.size";
pub const DELETE_ENABLED: &str = "delete.enabled";
pub const MAX_RETRIES: &str = "max.retries";
pub const RETRY_BACKOFF: &str = "retry.backoff.ms";

fn grouped(k: ConfigKey, group: &'static str, order: i32) -> ConfigKey {
    ConfigKey {
        group: Some(group),
        order_in_group: order,
        ..k
    }
}

fn valid_zone(v: &connect_api::config::Parsed) -> Result<(), String> {
    match v {
        connect_api::config::Parsed::Str(name) => Zone::parse(name).map(|_| ()),
        _ => Ok(()),
    }
}

/// The connection keys both connectors share.
fn connection_def() -> ConfigDef {
    let g = |k, o| grouped(k, "Connection", o);
    ConfigDef::new()
        .define(g(key(CONNECTION_URL, ConfigType::String, DefaultValue::Required, Importance::High, "JDBC connection URL (jdbc:postgresql://, jdbc:mysql://, jdbc:mariadb://, jdbc:sqlite:) or a native one (postgres://, mysql://, sqlite:)."), 1))
        .define(g(key(CONNECTION_USER, ConfigType::String, DefaultValue::Null, Importance::High, "Database user (takes the place of one in the URL)."), 2))
        .define(g(key(CONNECTION_PASSWORD, ConfigType::Password, DefaultValue::Null, Importance::High, "Database password; never shown in REST answers or logs."), 3))
        .define(g(ConfigKey { validator: Some(Validator::AtLeast(1)), ..key(CONNECTION_ATTEMPTS, ConfigType::Int, DefaultValue::Value("3"), Importance::Low, "How many times a connection is tried before the attempt counts as failed.") }, 4))
        .define(g(ConfigKey { validator: Some(Validator::AtLeast(0)), ..key(CONNECTION_BACKOFF, ConfigType::Long, DefaultValue::Value("10000"), Importance::Low, "Wait between connection attempts, in ms.") }, 5))
        .define(g(key(DIALECT, ConfigType::String, DefaultValue::Value(""), Importance::Low, "Accepted for compatibility: the dialect follows from connection.url."), 6))
        .define(g(ConfigKey { validator: Some(Validator::OneOf(&["always", "never"])), ..key(QUOTE, ConfigType::String, DefaultValue::Value("always"), Importance::Medium, "Whether table and column names are quoted in SQL.") }, 7))
        .define(g(ConfigKey { validator: Some(Validator::Custom(valid_zone)), ..key(DB_TIMEZONE, ConfigType::String, DefaultValue::Value("UTC"), Importance::Medium, "IANA name of the zone of date-times the database keeps without one (timestamp without time zone, DATETIME, SQLite text), e.g. Asia/Seoul; columns with a zone are unaffected.") }, 8))
}

/// The sink's settings (Confluent's JdbcSinkConfig).
pub fn sink_def() -> ConfigDef {
    let w = |k, o| grouped(k, "Writes", o);
    let d = |k, o| grouped(k, "Data Mapping", o);
    let r = |k, o| grouped(k, "Retries", o);
    connection_def()
        .define(w(ConfigKey { validator: Some(Validator::OneOf(&["insert", "upsert", "update"])), ..key(INSERT_MODE, ConfigType::String, DefaultValue::Value("insert"), Importance::High, "insert, upsert (insert or update on the primary key) or update.") }, 1))
        .define(w(ConfigKey { validator: Some(Validator::AtLeast(1)), ..key(BATCH_SIZE, ConfigType::Int, DefaultValue::Value("3000"), Importance::Medium, "Most rows written in one statement.") }, 2))
        .define(w(key(DELETE_ENABLED, ConfigType::Boolean, DefaultValue::Value("false"), Importance::Medium, "Delete the row of a record with a null value (needs pk.mode=record_key)."), 3))
        .define(d(key(TABLE_FORMAT, ConfigType::String, DefaultValue::Value("${topic}"), Importance::Medium, "The table of a record; ${topic} is its topic. A dot separates schema and table."), 1))
        .define(d(ConfigKey { validator: Some(Validator::OneOf(&["none", "kafka", "record_key", "record_value"])), ..key(PK_MODE, ConfigType::String, DefaultValue::Value("none"), Importance::High, "Where the primary key comes from: none, kafka (topic, partition, offset), record_key or record_value.") }, 2))
        .define(d(key(PK_FIELDS, ConfigType::List, DefaultValue::Value(""), Importance::Medium, "Primary key columns: for kafka three names, for record_key / record_value field names (all fields when empty)."), 3))
        .define(d(key(FIELDS_WHITELIST, ConfigType::List, DefaultValue::Value(""), Importance::Medium, "The value fields written (all when empty)."), 4))
        .define(grouped(key(AUTO_CREATE, ConfigType::Boolean, DefaultValue::Value("false"), Importance::Medium, "Create a missing table from the records (from their schema, or from the values of schemaless records)."), "DDL Support", 1))
        .define(grouped(key(AUTO_EVOLVE, ConfigType::Boolean, DefaultValue::Value("false"), Importance::Medium, "Add missing columns (nullable) to an existing table; never drops or changes one."), "DDL Support", 2))
        .define(r(ConfigKey { validator: Some(Validator::AtLeast(0)), ..key(MAX_RETRIES, ConfigType::Int, DefaultValue::Value("10"), Importance::Medium, "How many times a failed write is retried before the task fails.") }, 1))
        .define(r(ConfigKey { validator: Some(Validator::AtLeast(0)), ..key(RETRY_BACKOFF, ConfigType::Int, DefaultValue::Value("3000"), Importance::Medium, "Wait before a failed write is retried, in ms.") }, 2))
}

/// Parses `props` against `def`; each problem comes with the key it names.
pub fn parse_keyed(def: &ConfigDef, props: &Props) -> Result<Config, Vec<(String, String)>> {
    def.parse_keyed(props).map_err(|errors| {
        errors
            .into_iter()
            .map(|(k, e)| (k.to_string(), e))
            .collect()
    })
}

/// Where to connect and how.
#[derive(Debug, Clone)]
pub struct Connection {
    pub target: Target,
    pub attempts: u32,
    pub backoff: Duration,
    pub quote: bool,
    /// `db.timezone`.
    pub zone: Zone,
}

impl Connection {
    pub fn from_config(c: &Config) -> Result<Self, String> {
        let url = c.string(CONNECTION_URL).unwrap_or_default();
        let target = url::parse(
            url,
            c.string(CONNECTION_USER),
            c.password(CONNECTION_PASSWORD).map(|p| p.expose()),
        )
        .map_err(|e| {
            format!(
                "Invalid value {} for configuration {CONNECTION_URL}: {e}",
                url::redact(url)
            )
        })?;
        Ok(Self {
            target,
            attempts: u32::try_from(c.int(CONNECTION_ATTEMPTS).unwrap_or(3)).unwrap_or(3),
            backoff: Duration::from_millis(
                u64::try_from(c.int(CONNECTION_BACKOFF).unwrap_or(10_000)).unwrap_or(10_000),
            ),
            quote: c.string(QUOTE) != Some("never"),
            zone: Zone::parse(c.string(DB_TIMEZONE).unwrap_or("UTC"))
                .map_err(|e| format!("Invalid value for configuration {DB_TIMEZONE}: {e}"))?,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertMode {
    Insert,
    Upsert,
    Update,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkMode {
    None,
    Kafka,
    RecordKey,
    RecordValue,
}

/// The sink's typed settings.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    pub connection: Connection,
    pub insert_mode: InsertMode,
    pub pk_mode: PkMode,
    pub pk_fields: Vec<String>,
    pub fields_whitelist: Vec<String>,
    pub table_format: String,
    pub auto_create: bool,
    pub auto_evolve: bool,
    pub batch_size: usize,
    pub delete_enabled: bool,
    pub max_retries: u32,
    pub retry_backoff_ms: u64,
}

impl SinkConfig {
    /// Parses and checks the sink's settings; every problem names its key.
    pub fn parse(props: &Props) -> Result<Self, Vec<(String, String)>> {
        let c = parse_keyed(&sink_def(), props)?;
        let mut errors = Vec::new();
        let connection =
            Connection::from_config(&c).map_err(|e| errors.push((CONNECTION_URL.to_string(), e)));
        let insert_mode = match c.string(INSERT_MODE) {
            Some("upsert") => InsertMode::Upsert,
            Some("update") => InsertMode::Update,
            _ => InsertMode::Insert,
        };
        let pk_mode = match c.string(PK_MODE) {
            Some("kafka") => PkMode::Kafka,
            Some("record_key") => PkMode::RecordKey,
            Some("record_value") => PkMode::RecordValue,
            _ => PkMode::None,
        };
        let pk_fields = c
            .list(PK_FIELDS)
            .map(<[String]>::to_vec)
            .unwrap_or_default();
        let delete_enabled = c.boolean(DELETE_ENABLED).unwrap_or(false);
        if delete_enabled && pk_mode != PkMode::RecordKey {
            errors.push((
                DELETE_ENABLED.to_string(),
                "Deletes are only supported for pk.mode record_key".to_string(),
            ));
        }
        if insert_mode != InsertMode::Insert && pk_mode == PkMode::None {
            errors.push((PK_MODE.to_string(), format!("Invalid value none for configuration {PK_MODE}: insert.mode {} needs a primary key (set pk.mode to kafka, record_key or record_value)", c.string(INSERT_MODE).unwrap_or(""))));
        }
        if pk_mode == PkMode::Kafka && !pk_fields.is_empty() && pk_fields.len() != 3 {
            errors.push((PK_FIELDS.to_string(), format!("Invalid value {} for configuration {PK_FIELDS}: PK mode for table is KAFKA so there should either be no field names defined for defaults __connect_topic,__connect_partition,__connect_offset to be applicable, or exactly 3, defined fields are: {}", pk_fields.join(","), pk_fields.join(","))));
        }
        let table_format = c.string(TABLE_FORMAT).unwrap_or("${topic}").to_string();
        if table_format.trim().is_empty() {
            errors.push((
                TABLE_FORMAT.to_string(),
                format!("Invalid value for configuration {TABLE_FORMAT}: must not be empty"),
            ));
        }
        let (Ok(connection), true) = (connection, errors.is_empty()) else {
            return Err(errors);
        };
        Ok(Self {
            connection,
            insert_mode,
            pk_mode,
            pk_fields,
            fields_whitelist: c
                .list(FIELDS_WHITELIST)
                .map(<[String]>::to_vec)
                .unwrap_or_default(),
            table_format,
            auto_create: c.boolean(AUTO_CREATE).unwrap_or(false),
            auto_evolve: c.boolean(AUTO_EVOLVE).unwrap_or(false),
            batch_size: usize::try_from(c.int(BATCH_SIZE).unwrap_or(3000))
                .unwrap_or(3000)
                .max(1),
            delete_enabled,
            max_retries: u32::try_from(c.int(MAX_RETRIES).unwrap_or(10)).unwrap_or(10),
            retry_backoff_ms: u64::try_from(c.int(RETRY_BACKOFF).unwrap_or(3000)).unwrap_or(3000),
        })
    }
}

pub const MODE: &str = "mode";
pub const INCREMENTING_COLUMN: &str = "incrementing.column.name";
pub const TIMESTAMP_COLUMN: &str = "timestamp.column.name";
pub const TIMESTAMP_INITIAL: &str = "timestamp.initial";
pub const TIMESTAMP_DELAY: &str = "timestamp.delay.interval.ms";
pub const VALIDATE_NON_NULL: &str = "validate.non.null";
pub const POLL_INTERVAL: &str = "poll.interval.ms";
pub const BATCH_MAX_ROWS: &str = "batch.max.rows";
pub const TABLE_WHITELIST: &str = "table.whitelist";
pub const TABLE_BLACKLIST: &str = "table.blacklist";
pub const TABLE_INCLUDE: &str = "table.include.list";
pub const TABLE_EXCLUDE: &str = "table.exclude.list";
pub const TABLE_TYPES: &str = "table.types";
pub const SCHEMA_PATTERN: &str = "schema.pattern";
pub const CATALOG_PATTERN: &str = "catalog.pattern";
pub const QUERY: &str = "query";
pub const QUERY_SUFFIX: &str = "query.suffix";
pub const TOPIC_PREFIX: &str = "topic.prefix";
pub const TABLE_POLL_INTERVAL: &str = "table.poll.interval.ms";
pub const NUMERIC_MAPPING: &str = "numeric.mapping";
pub const NUMERIC_PRECISION_MAPPING: &str = "numeric.precision.mapping";
pub const TIMESTAMP_GRANULARITY: &str = "timestamp.granularity";
/// The tables of one task (set by the connector).
pub const TABLES: &str = "tables";

/// The source's settings (Confluent's JdbcSourceConnectorConfig).
pub fn source_def() -> ConfigDef {
    let m = |k, o| grouped(k, "Mode", o);
    let db = |k, o| grouped(k, "Database", o);
    let c = |k, o| grouped(k, "Connector", o);
    let s = |name, default, doc| key(name, ConfigType::String, default, Importance::Medium, doc);
    let l = |name, default, doc| key(name, ConfigType::List, default, Importance::Medium, doc);
    connection_def()
        .define(m(ConfigKey { validator: Some(Validator::OneOf(&["bulk", "incrementing", "timestamp", "timestamp+incrementing"])), ..key(MODE, ConfigType::String, DefaultValue::Required, Importance::High, "bulk (the whole table each poll), incrementing, timestamp or timestamp+incrementing.") }, 1))
        .define(m(s(INCREMENTING_COLUMN, DefaultValue::Value(""), "A strictly increasing, non-null column: rows above the last one read are new."), 2))
        .define(m(l(TIMESTAMP_COLUMN, DefaultValue::Value(""), "Columns of the time a row changed; with several, the first non-null one counts."), 3))
        .define(m(key(TIMESTAMP_INITIAL, ConfigType::Long, DefaultValue::Null, Importance::Low, "Epoch ms to start from in timestamp modes (-1: now); all rows when not set."), 4))
        .define(m(ConfigKey { validator: Some(Validator::AtLeast(0)), ..key(TIMESTAMP_DELAY, ConfigType::Long, DefaultValue::Value("0"), Importance::High, "Rows are read only once they are this old (ms), so transactions that commit late are not missed.") }, 5))
        .define(m(key(VALIDATE_NON_NULL, ConfigType::Boolean, DefaultValue::Value("true"), Importance::Low, "Refuse nullable incrementing or timestamp columns at start."), 6))
        .define(m(s(QUERY, DefaultValue::Value(""), "A query to read instead of whole tables; the mode's condition is applied around it."), 7))
        .define(m(s(QUERY_SUFFIX, DefaultValue::Value(""), "Text appended to every query."), 8))
        .define(m(ConfigKey { validator: Some(Validator::OneOf(&["none", "best_fit", "best_fit_eager_double", "precision_only"])), ..s(NUMERIC_MAPPING, DefaultValue::Value("none"), "How NUMERIC columns map: none (a Decimal of the column's scale), precision_only (scale 0 up to precision 18 as INT8..INT64), best_fit (also positive scales up to precision 18 as FLOAT64), best_fit_eager_double (any positive scale as FLOAT64). Not set: numeric.precision.mapping decides.") }, 9))
        .define(m(key(NUMERIC_PRECISION_MAPPING, ConfigType::Boolean, DefaultValue::Value("false"), Importance::Low, "Deprecated: true is numeric.mapping=precision_only when numeric.mapping is not set."), 11))
        .define(m(ConfigKey { validator: Some(Validator::OneOf(&["connect_logical", "nanos_long", "nanos_string", "nanos_iso_datetime_string", "micros_long", "micros_string", "micros_iso_datetime_string"])), ..s(TIMESTAMP_GRANULARITY, DefaultValue::Value("connect_logical"), "How timestamp columns are written: connect_logical (Connect's Timestamp, ms), micros_long / nanos_long (INT64 since the epoch), micros_string / nanos_string (the same as text), micros_iso_datetime_string / nanos_iso_datetime_string (yyyy-MM-ddTHH:mm:ss.ffffff[fff], UTC).") }, 10))
        .define(db(l(TABLE_WHITELIST, DefaultValue::Value(""), "Tables to read (all when empty); not with table.blacklist."), 1))
        .define(db(l(TABLE_BLACKLIST, DefaultValue::Value(""), "Tables not to read."), 2))
        .define(db(l(TABLE_INCLUDE, DefaultValue::Value(""), "Regular expressions over fully qualified table names to read."), 3))
        .define(db(l(TABLE_EXCLUDE, DefaultValue::Value(""), "Regular expressions over fully qualified table names not to read."), 4))
        .define(db(l(TABLE_TYPES, DefaultValue::Value("TABLE"), "TABLE and/or VIEW."), 5))
        .define(db(s(SCHEMA_PATTERN, DefaultValue::Null, "The schemas (a LIKE pattern) tables are looked for in."), 6))
        .define(db(s(CATALOG_PATTERN, DefaultValue::Null, "Accepted for compatibility: the catalog is the connection's database."), 7))
        .define(c(ConfigKey { validator: Some(Validator::AtLeast(1)), ..key(POLL_INTERVAL, ConfigType::Int, DefaultValue::Value("5000"), Importance::High, "How often each table is polled, in ms.") }, 1))
        .define(c(ConfigKey { validator: Some(Validator::AtLeast(1)), ..key(BATCH_MAX_ROWS, ConfigType::Int, DefaultValue::Value("100"), Importance::Low, "Most rows read from a table in one poll.") }, 2))
        .define(c(ConfigKey { validator: Some(Validator::AtLeast(0)), ..key(TABLE_POLL_INTERVAL, ConfigType::Long, DefaultValue::Value("60000"), Importance::Low, "How often tables are listed again, in ms; a change gives the tasks new tables.") }, 3))
        .define(c(key(TOPIC_PREFIX, ConfigType::String, DefaultValue::Required, Importance::High, "Prefix of each table's topic; with query, the whole topic name."), 4))
}
