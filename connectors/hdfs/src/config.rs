//! The sink's settings: the keys of Confluent's HDFS sinks (their own and
//! storage-common's), their defaults and meanings, and the typed form the
//! task reads.

use std::time::Duration;

use connect_api::config::{
    key, Config, ConfigKey, ConfigType, DefaultValue, Importance, Validator,
};
use connect_api::{ConfigDef, Props};

use crate::format::Format;
use crate::partitioner::{Extractor, Partitioner, PathFormat};
use crate::schema::Compatibility;
use crate::zone;

pub const STORE_URL: &str = "store.url";
pub const HDFS_URL: &str = "hdfs.url";
pub const HADOOP_CONF_DIR: &str = "hadoop.conf.dir";
pub const HADOOP_HOME: &str = "hadoop.home";
pub const TOPICS_DIR: &str = "topics.dir";
pub const LOGS_DIR: &str = "logs.dir";
pub const FORMAT_CLASS: &str = "format.class";
pub const FLUSH_SIZE: &str = "flush.size";
pub const ROTATE_INTERVAL: &str = "rotate.interval.ms";
pub const ROTATE_SCHEDULE: &str = "rotate.schedule.interval.ms";
pub const RETRY_BACKOFF: &str = "retry.backoff.ms";
pub const SHUTDOWN_TIMEOUT: &str = "shutdown.timeout.ms";
pub const ZERO_PAD: &str = "filename.offset.zero.pad.width";
pub const AVRO_CODEC: &str = "avro.codec";
pub const PARQUET_CODEC: &str = "parquet.codec";
pub const COMPATIBILITY: &str = "schema.compatibility";
pub const PARTITIONER: &str = "partitioner.class";
pub const PARTITION_FIELD: &str = "partition.field.name";
pub const PARTITION_DURATION: &str = "partition.duration.ms";
pub const PATH_FORMAT: &str = "path.format";
pub const LOCALE: &str = "locale";
pub const TIMEZONE: &str = "timezone";
pub const EXTRACTOR: &str = "timestamp.extractor";
pub const TIMESTAMP_FIELD: &str = "timestamp.field";
pub const DIRECTORY_DELIM: &str = "directory.delim";
pub const FILE_DELIM: &str = "file.delim";
pub const CAPTURE_REGEX: &str = "topic.capture.groups.regex";
pub const KERBEROS: &str = "hdfs.authentication.kerberos";
pub const HIVE: &str = "hive.integration";
pub const BYTEARRAY_EXTENSION: &str = "format.bytearray.extension";
pub const BYTEARRAY_SEPARATOR: &str = "format.bytearray.separator";
pub const STORE_KEYS: &str = "store.kafka.keys";
pub const STORE_HEADERS: &str = "store.kafka.headers";

fn grouped(k: ConfigKey, group: &'static str, order: i32) -> ConfigKey {
    ConfigKey {
        group: Some(group),
        order_in_group: order,
        ..k
    }
}

fn str_key(name: &'static str, default: &'static str, doc: &'static str) -> ConfigKey {
    key(
        name,
        ConfigType::String,
        DefaultValue::Value(default),
        Importance::Low,
        doc,
    )
}

fn valid_zone(v: &connect_api::config::Parsed) -> Result<(), String> {
    match v {
        connect_api::config::Parsed::Str(name) if !name.is_empty() => zone::parse(name).map(|_| ()),
        _ => Ok(()),
    }
}

/// The sink's keys.
pub fn sink_def() -> ConfigDef {
    let s = |k, o| grouped(k, "HDFS", o);
    let c = |k, o| grouped(k, "Connector", o);
    let p = |k, o| grouped(k, "Partitioner", o);
    ConfigDef::new()
        .define(s(key(STORE_URL, ConfigType::String, DefaultValue::Null, Importance::High, "Where files go: file:///path, webhdfs://namenode:9870 or hdfs://namenode:8020 (or an HA nameservice)."), 1))
        .define(s(key(HDFS_URL, ConfigType::String, DefaultValue::Null, Importance::High, "Deprecated name of store.url, used when store.url is not set."), 2))
        .define(s(str_key(HADOOP_CONF_DIR, "", "Directory of core-site.xml and hdfs-site.xml (fs.defaultFS, HA nameservices)."), 3))
        .define(s(str_key(HADOOP_HOME, "", "Hadoop's home; etc/hadoop under it is read when hadoop.conf.dir is empty."), 4))
        .define(s(str_key(TOPICS_DIR, "topics", "Directory of committed files under the store; ${topic} and ${n} (capture groups) are substituted."), 5))
        .define(s(str_key(LOGS_DIR, "logs", "Directory of the commit logs (one per topic partition) under the store."), 6))
        .define(s(key(KERBEROS, ConfigType::Boolean, DefaultValue::Value("false"), Importance::Medium, "Kerberos authentication to HDFS (not supported yet: true is refused)."), 7))
        .define(s(str_key("connect.hdfs.principal", "", "Kerberos principal of the connector."), 8))
        .define(s(str_key("connect.hdfs.keytab", "", "Kerberos keytab of the connector."), 9))
        .define(s(str_key("hdfs.namenode.principal", "", "Kerberos principal of the namenode."), 10))
        .define(s(key("kerberos.ticket.renew.period.ms", ConfigType::Long, DefaultValue::Value("3600000"), Importance::Low, "Kerberos ticket renewal period, in ms."), 11))
        .define(c(key(FORMAT_CLASS, ConfigType::Class, DefaultValue::Value("io.confluent.connect.hdfs.avro.AvroFormat"), Importance::High, "File format: AvroFormat, ParquetFormat, JsonFormat, StringFormat or ByteArrayFormat (Confluent's class names under io.confluent.connect.hdfs., hdfs3. or storage.)."), 1))
        .define(c(ConfigKey { validator: Some(Validator::AtLeast(1)), ..key(FLUSH_SIZE, ConfigType::Int, DefaultValue::Required, Importance::High, "Records of a topic partition written before its files are committed.") }, 2))
        .define(c(key(ROTATE_INTERVAL, ConfigType::Long, DefaultValue::Value("-1"), Importance::High, "Commit when a record's time (by timestamp.extractor) is this many ms past the first record of the file; -1 never."), 3))
        .define(c(key(ROTATE_SCHEDULE, ConfigType::Long, DefaultValue::Value("-1"), Importance::Medium, "Commit on a wall-clock schedule of this many ms from midnight in timezone; -1 never."), 4))
        .define(c(ConfigKey { validator: Some(Validator::AtLeast(0)), ..key(RETRY_BACKOFF, ConfigType::Long, DefaultValue::Value("5000"), Importance::Low, "Wait before a failed store operation is retried, in ms.") }, 5))
        .define(c(key(SHUTDOWN_TIMEOUT, ConfigType::Long, DefaultValue::Value("3000"), Importance::Medium, "Accepted for compatibility (Hive's executor)."), 6))
        .define(c(ConfigKey { validator: Some(Validator::AtLeast(0)), ..key(ZERO_PAD, ConfigType::Int, DefaultValue::Value("10"), Importance::Low, "Digits the offsets in committed file names are zero-padded to.") }, 7))
        .define(c(ConfigKey { validator: Some(Validator::OneOf(&["null", "deflate", "snappy", "bzip2"])), ..key(AVRO_CODEC, ConfigType::String, DefaultValue::Value("null"), Importance::Low, "Avro block compression: null, deflate or snappy (bzip2 is refused).") }, 8))
        .define(c(str_key(PARQUET_CODEC, "snappy", "Parquet compression: none, snappy, gzip or zstd."), 9))
        .define(c(ConfigKey { validator: Some(Validator::OneOf(&["NONE", "BACKWARD", "FORWARD", "FULL"])), ..key(COMPATIBILITY, ConfigType::String, DefaultValue::Value("NONE"), Importance::High, "What a schema change does: NONE commits the file and starts one with the new schema; BACKWARD, FULL and FORWARD keep the newer (FORWARD: older) schema and project the other records to it.") }, 10))
        .define(c(str_key(BYTEARRAY_EXTENSION, ".bin", "File extension of ByteArrayFormat."), 11))
        .define(c(str_key(BYTEARRAY_SEPARATOR, "\\n", "Written after each value by ByteArrayFormat; escapes such as \\n are understood."), 12))
        .define(c(str_key(FILE_DELIM, "+", "Accepted for compatibility: committed names use +."), 13))
        .define(c(key(STORE_KEYS, ConfigType::Boolean, DefaultValue::Value("false"), Importance::Medium, "Also keep each record's key (and timestamp) in a .meta.json file beside each data file, so the source restores them."), 16))
        .define(c(key(STORE_HEADERS, ConfigType::Boolean, DefaultValue::Value("false"), Importance::Medium, "Also keep each record's headers (and timestamp) in the .meta.json file beside each data file."), 17))
        .define(c(key(HIVE, ConfigType::Boolean, DefaultValue::Value("false"), Importance::Low, "Hive integration (not supported: true is refused)."), 14))
        .define(c(key(CAPTURE_REGEX, ConfigType::String, DefaultValue::Null, Importance::Low, "A regex the whole topic name matches; its groups are ${1}... in topics.dir and logs.dir."), 15))
        .define(p(str_key(PARTITIONER, "io.confluent.connect.storage.partitioner.DefaultPartitioner", "DefaultPartitioner, FieldPartitioner, TimeBasedPartitioner, HourlyPartitioner or DailyPartitioner."), 1))
        .define(p(key(PARTITION_FIELD, ConfigType::List, DefaultValue::Value(""), Importance::Medium, "FieldPartitioner: the value fields whose values name the directories."), 2))
        .define(p(key(PARTITION_DURATION, ConfigType::Long, DefaultValue::Value("-1"), Importance::Medium, "TimeBasedPartitioner: the length of a time bucket, in ms."), 3))
        .define(p(str_key(PATH_FORMAT, "", "TimeBasedPartitioner: Joda-style pattern of a bucket's directory, e.g. 'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH."), 4))
        .define(p(str_key(LOCALE, "", "Time-based partitioners: the locale of the path (month and day names are English)."), 5))
        .define(p(ConfigKey { validator: Some(Validator::Custom(valid_zone)), ..str_key(TIMEZONE, "", "Time-based partitioners and rotate.schedule.interval.ms: an IANA zone name, e.g. UTC or Asia/Seoul.") }, 6))
        .define(p(str_key(EXTRACTOR, "Wallclock", "Time of a record: Wallclock, Record (its Kafka timestamp) or RecordField (timestamp.field)."), 7))
        .define(p(str_key(TIMESTAMP_FIELD, "timestamp", "RecordField: the value field holding the time (dots reach into nested fields)."), 8))
        .define(p(str_key(DIRECTORY_DELIM, "/", "Separator of directories in encoded partitions."), 9))
}

/// The sink's settings, parsed and checked together.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    pub store_url: String,
    pub hadoop_conf_dir: String,
    pub topics_dir: String,
    pub logs_dir: String,
    pub capture: Option<regex::Regex>,
    pub format: Format,
    pub flush_size: u64,
    pub rotate_interval_ms: Option<i64>,
    pub rotate_schedule_ms: Option<i64>,
    pub zone: jiff::tz::TimeZone,
    pub retry_backoff: Duration,
    pub zero_pad: usize,
    pub compatibility: Compatibility,
    pub partitioner: Partitioner,
    pub extractor: Extractor,
    pub directory_delim: String,
    pub store_keys: bool,
    pub store_headers: bool,
}

fn str_of<'a>(c: &'a Config, k: &str) -> &'a str {
    c.string(k).unwrap_or("")
}

/// Parses the class name of a partitioner (Confluent's, or its short name).
fn partitioner_name(class: &str) -> &str {
    class.rsplit('.').next().unwrap_or(class)
}

/// Parses `props` against `def`; each problem comes with its key.
pub fn parse_def(def: &ConfigDef, props: &Props) -> Result<Config, Vec<(String, String)>> {
    def.parse_keyed(props).map_err(|errors| {
        errors
            .into_iter()
            .map(|(k, e)| (k.to_string(), e))
            .collect()
    })
}

/// A task's config refused: every problem, with its key.
pub fn refused(errors: Vec<(String, String)>) -> connect_api::ConnectError {
    let text: Vec<String> = errors
        .into_iter()
        .map(|(k, e)| format!("{k}: {e}"))
        .collect();
    connect_api::ConnectError::fatal(text.join("; "))
}

/// The store both connectors name (`store.url`, else `hdfs.url`) and its
/// Hadoop configuration directory; problems go to `errors`.
pub fn store_of(c: &Config, errors: &mut Vec<(String, String)>) -> (String, String) {
    let url = [STORE_URL, HDFS_URL]
        .iter()
        .filter_map(|k| c.string(k))
        .map(str::trim)
        .find(|u| !u.is_empty())
        .unwrap_or_default()
        .to_string();
    if url.is_empty() {
        errors.push((
            STORE_URL.into(),
            "Configuration store.url cannot be empty.".into(),
        ));
    }
    if c.boolean(KERBEROS) == Some(true) {
        errors.push((KERBEROS.into(), "Kerberos authentication to HDFS is not supported yet; set hdfs.authentication.kerberos=false and reach the cluster without it (or through a gateway that authenticates)".into()));
    }
    (
        url,
        conf_dir(str_of(c, HADOOP_CONF_DIR), str_of(c, HADOOP_HOME)),
    )
}

/// `hadoop.conf.dir`, or `<hadoop.home>/etc/hadoop` when only that is set.
pub fn conf_dir(conf: &str, home: &str) -> String {
    match (conf.trim(), home.trim()) {
        ("", "") => String::new(),
        ("", home) => format!("{}/etc/hadoop", home.trim_end_matches('/')),
        (conf, _) => conf.to_string(),
    }
}

/// Undoes `\n`, `\t`, `\r`, `\\` and `\0` escapes.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    out
}

impl SinkConfig {
    /// Parses `props`; every problem comes with the key it names.
    pub fn parse(props: &Props) -> Result<Self, Vec<(String, String)>> {
        let c = parse_def(&sink_def(), props)?;
        let mut errors: Vec<(String, String)> = Vec::new();
        let (store_url, hadoop_conf_dir) = store_of(&c, &mut errors);
        let mut err = |k: &str, e: String| errors.push((k.to_string(), e));
        if c.boolean(HIVE) == Some(true) {
            err(HIVE, "Hive integration is not supported; set hive.integration=false and create the Hive table over topics.dir yourself".into());
        }
        let format = Format::parse(
            str_of(&c, FORMAT_CLASS),
            str_of(&c, AVRO_CODEC),
            str_of(&c, PARQUET_CODEC),
            str_of(&c, BYTEARRAY_EXTENSION),
            &unescape(str_of(&c, BYTEARRAY_SEPARATOR)),
        )
        .unwrap_or_else(|(k, e)| {
            err(k, e);
            Format::Json
        });
        let capture = match c.string(CAPTURE_REGEX) {
            Some(r) if !r.is_empty() => match regex::Regex::new(&format!("^(?:{r})$")) {
                Ok(re) => Some(re),
                Err(e) => {
                    err(CAPTURE_REGEX, format!("Invalid regex {r}: {e}"));
                    None
                }
            },
            _ => None,
        };
        let captures_used = |d: &str| {
            regex::Regex::new(r"\$\{\d+\}")
                .map(|re| re.is_match(d))
                .unwrap_or(false)
        };
        for k in [TOPICS_DIR, LOGS_DIR] {
            if capture.is_none() && captures_used(str_of(&c, k)) {
                err(k, format!("{k} cannot contain ${{}} without a valid topic.capture.groups.regex being configured."));
            }
        }
        let tz_name = str_of(&c, TIMEZONE);
        let zone = if tz_name.is_empty() {
            jiff::tz::TimeZone::UTC
        } else {
            zone::parse(tz_name).unwrap_or(jiff::tz::TimeZone::UTC)
        };
        let positive = |k: &str| c.int(k).filter(|n| *n > 0);
        let rotate_schedule_ms = positive(ROTATE_SCHEDULE);
        if rotate_schedule_ms.is_some() && tz_name.is_empty() {
            err(
                TIMEZONE,
                "timezone configuration must be set when using rotate.schedule.interval.ms".into(),
            );
        }
        let extractor = match str_of(&c, EXTRACTOR) {
            "Wallclock" | "io.confluent.connect.storage.partitioner.TimeBasedPartitioner$WallclockTimestampExtractor" => Extractor::Wallclock,
            "Record" | "io.confluent.connect.storage.partitioner.TimeBasedPartitioner$RecordTimestampExtractor" => Extractor::Record,
            "RecordField" | "io.confluent.connect.storage.partitioner.TimeBasedPartitioner$RecordFieldTimestampExtractor" => {
                Extractor::Field(str_of(&c, TIMESTAMP_FIELD).split('.').map(String::from).collect())
            }
            other => {
                err(EXTRACTOR, format!("Unknown timestamp extractor {other}: use Wallclock, Record or RecordField"));
                Extractor::Wallclock
            }
        };
        let delim = str_of(&c, DIRECTORY_DELIM).to_string();
        let time_based = |duration: i64, pattern: &str, errs: &mut dyn FnMut(&str, String)| {
            if str_of(&c, LOCALE).is_empty() {
                errs(LOCALE, "Locale cannot be empty.".into());
            }
            if tz_name.is_empty() {
                errs(TIMEZONE, "Timezone cannot be empty.".into());
            }
            let pattern = pattern.strip_suffix(delim.as_str()).unwrap_or(pattern);
            match PathFormat::parse(pattern) {
                Ok(format) => Partitioner::Time {
                    duration_ms: duration,
                    format,
                },
                Err(e) => {
                    errs(PATH_FORMAT, e);
                    Partitioner::Default
                }
            }
        };
        let class = str_of(&c, PARTITIONER);
        let partitioner = match partitioner_name(class) {
            "DefaultPartitioner" => Partitioner::Default,
            "FieldPartitioner" => {
                let fields = c.list(PARTITION_FIELD).unwrap_or_default().to_vec();
                if fields.is_empty() || fields.iter().any(|f| f.trim().is_empty()) {
                    err(PARTITION_FIELD, "FieldPartitioner needs partition.field.name: the value fields that name the directories".into());
                }
                Partitioner::Field(fields)
            }
            "HourlyPartitioner" => {
                let pattern =
                    format!("'year'=YYYY{delim}'month'=MM{delim}'day'=dd{delim}'hour'=HH");
                time_based(3_600_000, &pattern, &mut err)
            }
            "DailyPartitioner" => {
                let pattern = format!("'year'=YYYY{delim}'month'=MM{delim}'day'=dd");
                time_based(86_400_000, &pattern, &mut err)
            }
            "TimeBasedPartitioner" => {
                let duration = c.int(PARTITION_DURATION).unwrap_or(-1);
                if duration <= 0 {
                    err(
                        PARTITION_DURATION,
                        "Partition duration needs to be a positive.".into(),
                    );
                }
                let pattern = str_of(&c, PATH_FORMAT);
                if pattern.is_empty() {
                    err(PATH_FORMAT, "Path format cannot be empty.".into());
                }
                time_based(duration.max(1), pattern, &mut err)
            }
            _ => {
                err(PARTITIONER, format!("Unknown partitioner {class}: use io.confluent.connect.storage.partitioner.DefaultPartitioner, FieldPartitioner, TimeBasedPartitioner, HourlyPartitioner or DailyPartitioner"));
                Partitioner::Default
            }
        };
        // Without a time-based partitioner, rotation by interval goes by the
        // wall clock, as Confluent's sink does.
        let extractor = if matches!(partitioner, Partitioner::Time { .. }) {
            extractor
        } else {
            Extractor::Wallclock
        };
        let compatibility = Compatibility::parse(str_of(&c, COMPATIBILITY));
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            store_url,
            hadoop_conf_dir,
            topics_dir: str_of(&c, TOPICS_DIR).to_string(),
            logs_dir: str_of(&c, LOGS_DIR).to_string(),
            capture,
            format,
            flush_size: c.int(FLUSH_SIZE).unwrap_or(1).max(1) as u64,
            rotate_interval_ms: positive(ROTATE_INTERVAL),
            rotate_schedule_ms,
            zone,
            retry_backoff: Duration::from_millis(c.int(RETRY_BACKOFF).unwrap_or(5000).max(0) as u64),
            zero_pad: c.int(ZERO_PAD).unwrap_or(10).clamp(0, 19) as usize,
            compatibility,
            partitioner,
            extractor,
            directory_delim: delim,
            store_keys: c.boolean(STORE_KEYS) == Some(true),
            store_headers: c.boolean(STORE_HEADERS) == Some(true),
        })
    }

    /// `dir` with `${topic}` and the capture groups of `topic` filled in.
    pub fn dir_of(&self, dir: &str, topic: &str) -> String {
        let mut out = dir.replace("${topic}", topic);
        if let Some(caps) = self.capture.as_ref().and_then(|re| re.captures(topic)) {
            for (i, g) in caps.iter().enumerate() {
                out = out.replace(&format!("${{{i}}}"), g.map_or("", |m| m.as_str()));
            }
        }
        out.trim_matches('/').to_string()
    }
}
