//! Checks a worker's setup before anything starts: the worker file and
//! every connector file, all problems at once, each naming its file, line
//! and key, with the likely key or class for a misspelt one. `weir
//! standalone`, `weir distributed` and `weir validate` share it.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use broker_core::properties::{closest, did_you_mean, Properties};
use connect_api::convert::{converter, ConverterConfig, CONVERTER_CLASSES};

use crate::runtime::config::plugins;

/// Which worker the file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Standalone,
    Distributed,
}

/// One problem of a setup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: Option<usize>,
    pub key: Option<String>,
    pub message: String,
    /// Reported, but does not stop the worker (an unknown key with no
    /// likely meaning, which Kafka Connect also ignores).
    pub warning: bool,
}

impl Problem {
    /// A problem of a whole file (it cannot be read or parsed).
    fn of_file(file: String, message: String) -> Self {
        Self {
            file,
            line: None,
            key: None,
            message,
            warning: false,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(k) = &self.key {
            write!(f, ": {k}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A file's settings with the line each key was last set on.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub props: BTreeMap<String, String>,
    pub lines: HashMap<String, usize>,
}

impl Settings {
    fn from_properties(p: &Properties) -> Self {
        let mut s = Self::default();
        for e in p.entries() {
            s.props.insert(e.key.clone(), e.value.clone());
            s.lines.insert(e.key.clone(), e.line);
        }
        s
    }
}

/// Problems collected against one file.
struct Report<'a> {
    file: &'a str,
    lines: &'a HashMap<String, usize>,
    out: &'a mut Vec<Problem>,
}

impl Report<'_> {
    fn push(&mut self, key: &str, message: String, warning: bool) {
        self.out.push(Problem {
            file: self.file.to_string(),
            line: self.lines.get(key).copied(),
            key: (!key.is_empty()).then(|| key.to_string()),
            message,
            warning,
        });
    }

    fn error(&mut self, key: &str, message: String) {
        self.push(key, message, false);
    }
}

/// Kafka Connect's worker keys (both modes).
const COMMON_KEYS: &[&str] = &[
    "bootstrap.servers",
    "client.dns.lookup",
    "key.converter",
    "value.converter",
    "header.converter",
    "task.shutdown.graceful.timeout.ms",
    "offset.flush.interval.ms",
    "offset.flush.timeout.ms",
    "plugin.path",
    "plugin.discovery",
    "metrics.sample.window.ms",
    "metrics.num.samples",
    "metrics.recording.level",
    "metric.reporters",
    "config.providers",
    "connector.client.config.override.policy",
    "topic.creation.enable",
    "topic.tracking.enable",
    "topic.tracking.allow.reset",
    "listeners",
    "rest.advertised.host.name",
    "rest.advertised.port",
    "rest.advertised.listener",
    "admin.listeners",
    "rest.extension.classes",
    "access.control.allow.origin",
    "access.control.allow.methods",
    "response.http.headers.config",
    "ssl.client.auth",
    "client.id",
    "security.protocol",
    "rest.host.name",
    "rest.port",
    "errors.retry.timeout",
    "errors.retry.delay.max.ms",
    "ssl.client.authentication",
    crate::runtime::local_access::ALLOWED_PATHS,
    crate::runtime::local_access::EXEC_ALLOWED,
];

const STANDALONE_KEYS: &[&str] = &["offset.storage.file.filename"];

const DISTRIBUTED_KEYS: &[&str] = &[
    "group.id",
    "config.storage.topic",
    "config.storage.replication.factor",
    "offset.storage.topic",
    "offset.storage.partitions",
    "offset.storage.replication.factor",
    "status.storage.topic",
    "status.storage.partitions",
    "status.storage.replication.factor",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "rebalance.timeout.ms",
    "worker.sync.timeout.ms",
    "worker.unsync.backoff.ms",
    "connect.protocol",
    "scheduled.rebalance.max.delay.ms",
    "exactly.once.source.support",
    "inter.worker.key.generation.algorithm",
    "inter.worker.key.size",
    "inter.worker.key.ttl.ms",
    "inter.worker.signature.algorithm",
    "inter.worker.verification.algorithms",
    "metadata.max.age.ms",
    "request.timeout.ms",
    "connections.max.idle.ms",
    "send.buffer.bytes",
    "receive.buffer.bytes",
    "reconnect.backoff.ms",
    "reconnect.backoff.max.ms",
    "retry.backoff.ms",
    "retry.backoff.max.ms",
    "socket.connection.setup.timeout.ms",
    "socket.connection.setup.timeout.max.ms",
    "auto.include.jmx.reporter",
    "enable.metrics.push",
    "metadata.recovery.strategy",
];

/// Prefixes whose keys are passed on (to clients, converters, providers,
/// the REST listener) or are Weir's own.
const PASSED_PREFIXES: &[&str] = &[
    "producer.",
    "consumer.",
    "admin.",
    "key.converter.",
    "value.converter.",
    "header.converter.",
    "config.providers.",
    "listeners.",
    "admin.listeners.",
    "ssl.",
    "sasl.",
    "metrics.",
    "metric.",
    "weir.",
];

/// The internal topics' prefixes: `topic`, `partitions`,
/// `replication.factor` or a topic config may follow.
const STORAGE_PREFIXES: &[&str] = &["config.storage.", "offset.storage.", "status.storage."];

const MILLIS_KEYS: &[&str] = &[
    "offset.flush.interval.ms",
    "offset.flush.timeout.ms",
    "task.shutdown.graceful.timeout.ms",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "rebalance.timeout.ms",
    "scheduled.rebalance.max.delay.ms",
    "inter.worker.key.ttl.ms",
    "weir.delivery.warning.ms",
    "weir.task.auto.restart.max.backoff.ms",
];

fn known_keys(mode: Mode) -> Vec<String> {
    let own = match mode {
        Mode::Standalone => STANDALONE_KEYS,
        Mode::Distributed => DISTRIBUTED_KEYS,
    };
    COMMON_KEYS
        .iter()
        .chain(own)
        .map(|k| k.to_string())
        .collect()
}

fn storage_key_known(key: &str) -> bool {
    STORAGE_PREFIXES.iter().any(|p| {
        key.strip_prefix(p).is_some_and(|rest| {
            matches!(rest, "topic" | "partitions" | "replication.factor")
                || broker_core::topic_config::TOPIC_CONFIGS
                    .iter()
                    .any(|d| d.name == rest)
        })
    })
}

/// Every name a converter answers to.
fn converter_names() -> impl Iterator<Item = &'static str> {
    CONVERTER_CLASSES.iter().flat_map(|(f, s)| [*f, *s])
}

/// Every name a connector plugin answers to.
pub fn plugin_names() -> Vec<&'static str> {
    plugins()
        .iter()
        .flat_map(|p| {
            std::iter::once(p.class)
                .chain(p.class.rsplit('.').next())
                .chain(p.aliases.iter().copied())
        })
        .collect()
}

/// Reads a worker file and checks it for `mode`.
pub fn check_worker_file(path: &Path, mode: Mode) -> (Settings, Vec<Problem>) {
    let file = path.display().to_string();
    let mut out = Vec::new();
    let props = match Properties::load(path) {
        Ok(p) => p,
        Err(e) => {
            out.push(Problem::of_file(file, e.to_string()));
            return (Settings::default(), out);
        }
    };
    let settings = Settings::from_properties(&props);
    check_worker(&file, &settings, mode, &mut out);
    (settings, out)
}

/// Checks worker settings for `mode`, adding every problem to `out`.
pub fn check_worker(file: &str, s: &Settings, mode: Mode, out: &mut Vec<Problem>) {
    let mut r = Report {
        file,
        lines: &s.lines,
        out,
    };
    let known = known_keys(mode);
    let other = match mode {
        Mode::Standalone => known_keys(Mode::Distributed),
        Mode::Distributed => known_keys(Mode::Standalone),
    };
    for key in s.props.keys() {
        if known.contains(key) || PASSED_PREFIXES.iter().any(|p| key.starts_with(p)) {
            continue;
        }
        if mode == Mode::Distributed && storage_key_known(key) {
            continue;
        }
        if other.contains(key) {
            let (mine, theirs) = match mode {
                Mode::Standalone => ("standalone", "distributed"),
                Mode::Distributed => ("distributed", "standalone"),
            };
            r.push(
                key,
                format!("a {theirs} worker setting; a {mine} worker ignores it"),
                true,
            );
            continue;
        }
        match closest(key, known.iter().map(String::as_str)) {
            // Probably meant for a key that is not set: the setting would be lost.
            Some(c) if !s.props.contains_key(c) => {
                r.error(key, format!("not a worker config; did you mean {c}?"))
            }
            Some(c) => r.push(
                key,
                format!("not a known worker config; ignored ({c} is set too)"),
                true,
            ),
            None => r.push(key, "not a known worker config; ignored".to_string(), true),
        }
    }
    for key in ["key.converter", "value.converter", "header.converter"] {
        match s.props.get(key) {
            None if key != "header.converter" => r.error(
                key,
                format!("Missing required configuration \"{key}\" which has no default value (org.apache.kafka.connect.json.JsonConverter or org.apache.kafka.connect.storage.StringConverter, for example)"),
            ),
            None => {}
            // A placeholder is resolved by its provider at start.
            Some(class) if class.contains("${") => {}
            Some(class) if converter(class, &ConverterConfig::default()).is_err() => r.error(
                key,
                format!(
                    "Invalid value {class} for configuration {key}: no such converter{}",
                    did_you_mean(class.trim(), converter_names())
                ),
            ),
            Some(_) => {}
        }
    }
    for key in MILLIS_KEYS {
        if let Some(v) = s.props.get(*key).filter(|v| !v.contains("${")) {
            if v.trim().parse::<u64>().is_err() {
                r.error(
                    key,
                    format!("Invalid value {v} for configuration {key}: a number of milliseconds (0 or more) is expected"),
                );
            }
        }
    }
    if let Some(b) = s
        .props
        .get("bootstrap.servers")
        .filter(|v| !v.contains("${"))
    {
        check_servers(&mut r, b);
    }
    if let Some(v) = s
        .props
        .get("rest.advertised.port")
        .filter(|v| !v.contains("${"))
    {
        if !v.trim().parse::<u16>().is_ok_and(|p| p > 0) {
            r.error(
                "rest.advertised.port",
                format!("Invalid value {v} for configuration rest.advertised.port: a port number is expected"),
            );
        }
    }
    match mode {
        Mode::Standalone => check_offsets_file(&mut r, s),
        Mode::Distributed => check_distributed(&mut r, s),
    }
}

fn check_servers(r: &mut Report<'_>, servers: &str) {
    let list = crate::kafka::split_servers(servers);
    if list.is_empty() {
        r.error(
            "bootstrap.servers",
            "bootstrap.servers is empty: give host:port of a broker, or leave the key out for the bundled broker (standalone)".into(),
        );
    }
    for s in list {
        let ok = s
            .rsplit_once(':')
            .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
        if !ok {
            r.error(
                "bootstrap.servers",
                format!("Invalid url in bootstrap.servers: {s} (host:port expected, such as localhost:9092)"),
            );
        }
    }
}

fn check_offsets_file(r: &mut Report<'_>, s: &Settings) {
    let key = "offset.storage.file.filename";
    let Some(f) = s.props.get(key) else {
        r.error(
            key,
            format!("Missing required configuration \"{key}\" which has no default value (a file for source offsets, such as /tmp/connect.offsets)"),
        );
        return;
    };
    if f.contains("${") {
        return;
    }
    let path = PathBuf::from(f.trim());
    if path.is_dir() {
        r.error(
            key,
            format!(
                "{f} is a directory; name a file in it, such as {}",
                path.join("connect.offsets").display()
            ),
        );
        return;
    }
    if path.exists() {
        if std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .is_err()
        {
            r.error(
                key,
                format!("{f} cannot be written by this user; choose another file (such as /tmp/connect.offsets) or change its permissions"),
            );
        }
        return;
    }
    // The nearest existing directory must take the new file (and the
    // directories the worker creates on the way to it).
    let mut dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.as_os_str().is_empty() {
        dir = PathBuf::from(".");
    }
    while !dir.exists() {
        match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => dir = p.to_path_buf(),
            _ => {
                dir = PathBuf::from(".");
                break;
            }
        }
    }
    if !writable(&dir) {
        r.error(
            key,
            format!("{f}: {} cannot be written by this user; choose a file in a directory that can (such as /tmp/connect.offsets)", dir.display()),
        );
    }
}

/// Whether this user may create files in `dir`: asked of the kernel first
/// (permissions, read-only mounts), then tried with an empty file removed
/// at once, for filesystems that refuse new files all the same (/proc).
#[allow(unsafe_code)]
fn writable(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) } != 0 {
        return false;
    }
    let probe = dir.join(format!(".weir-write-check-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            true
        }
        Err(_) => false,
    }
}

fn check_distributed(r: &mut Report<'_>, s: &Settings) {
    let mut topics: Vec<(&str, &str)> = Vec::new();
    for key in [
        "group.id",
        "config.storage.topic",
        "offset.storage.topic",
        "status.storage.topic",
    ] {
        match s.props.get(key).map(|v| v.trim()) {
            None | Some("") => r.error(
                key,
                format!("Missing required configuration \"{key}\" which has no default value"),
            ),
            Some(v) if key != "group.id" => topics.push((key, v)),
            Some(_) => {}
        }
    }
    for (i, (k, t)) in topics.iter().enumerate() {
        if let Some((first, _)) = topics[..i].iter().find(|(_, o)| o == t) {
            r.error(
                k,
                format!("{k} and {first} both name topic {t}: each internal topic must be its own"),
            );
        }
    }
    for prefix in STORAGE_PREFIXES {
        let key = format!("{prefix}replication.factor");
        if let Some(v) = s.props.get(&key).filter(|v| !v.contains("${")) {
            match v.trim().parse::<i32>() {
                Ok(n) if n >= 1 || n == -1 => {}
                _ => r.error(
                    &key,
                    format!("Invalid value {v} for configuration {key}: 1 or more, or -1 for the broker's default.replication.factor"),
                ),
            }
        }
        let key = format!("{prefix}partitions");
        if let Some(v) = s.props.get(&key).filter(|v| !v.contains("${")) {
            if !v.trim().parse::<i32>().is_ok_and(|n| n >= 1 || n == -1) {
                r.error(
                    &key,
                    format!("Invalid value {v} for configuration {key}: 1 or more, or -1 for the broker's num.partitions"),
                );
            }
        }
    }
}

/// A connector file's name, settings and where its keys are.
pub struct ConnectorFile {
    pub file: String,
    pub name: String,
    pub settings: Settings,
}

/// Reads and checks connector files: each on its own (its plugin's
/// validation, unless `each` is false because a running worker is asked
/// instead), then together (a name used twice, a sink feeding the source
/// that writes what it reads).
pub fn check_connector_files(paths: &[PathBuf], each: bool) -> (Vec<ConnectorFile>, Vec<Problem>) {
    let mut out = Vec::new();
    let mut files = Vec::new();
    for path in paths {
        let file = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                out.push(Problem::of_file(file, format!("cannot read it: {e}")));
                continue;
            }
        };
        let (name, props) = match crate::cli::standalone::parse_connector(&text) {
            Ok(v) => v,
            Err(e) => {
                out.push(Problem::of_file(file, e));
                continue;
            }
        };
        let lines = if text.trim_start().starts_with('{') {
            HashMap::new()
        } else {
            Properties::parse(&text)
                .map(|p| Settings::from_properties(&p).lines)
                .unwrap_or_default()
        };
        let settings = Settings { props, lines };
        if each {
            check_connector(&file, &settings, &mut out);
        }
        files.push(ConnectorFile {
            file,
            name,
            settings,
        });
    }
    check_together(&files, &mut out);
    (files, out)
}

/// One connector's config against its plugin (placeholders are left to
/// their providers at start).
pub fn check_connector(file: &str, s: &Settings, out: &mut Vec<Problem>) {
    let mut r = Report {
        file,
        lines: &s.lines,
        out,
    };
    if let Some(class) = s.props.get("connector.class") {
        if crate::runtime::config::find_plugin(class).is_err() {
            r.error(
                "connector.class",
                format!(
                    "no connector plugin is called {class}{}; GET /connector-plugins lists them",
                    did_you_mean(class.trim(), plugin_names())
                ),
            );
            return;
        }
    }
    if s.props.values().any(|v| v.contains("${")) {
        return;
    }
    if let Err(rejected) = crate::runtime::validate(&s.props) {
        let misspelt = misspelt_connector_keys(&s.props);
        for (key, mut message) in rejected.0 {
            // A required key that is missing, and a key given that is
            // probably it: said on the line of the one given.
            let given = (!s.props.contains_key(&key))
                .then(|| misspelt.iter().find(|(_, meant)| *meant == key))
                .flatten();
            match given {
                Some((typo, _)) => {
                    message.push_str(&format!(" ({typo} is set: did you mean {key}?)"));
                    r.error(typo, message);
                }
                None => r.error(&key, message),
            }
        }
    }
}

/// Prefixes of connector keys that belong to the worker's machinery, not
/// to the plugin's own definition.
const CONNECTOR_PREFIXES: &[&str] = &[
    "transforms.",
    "predicates.",
    "producer.override.",
    "consumer.override.",
    "admin.override.",
    "key.converter.",
    "value.converter.",
    "header.converter.",
    "topic.creation.",
];

/// Keys the plugin does not define, each with the unset defined key it is
/// most probably a misspelling of.
fn misspelt_connector_keys(props: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let Some(plugin) = crate::runtime::config::plugin_of(props) else {
        return Vec::new();
    };
    let def = crate::runtime::config::common_def(plugin.kind()).merge(&(plugin.config_def)());
    let known: Vec<&str> = def.keys().iter().map(|k| k.name).collect();
    props
        .keys()
        .filter(|k| {
            !known.contains(&k.as_str()) && !CONNECTOR_PREFIXES.iter().any(|p| k.starts_with(p))
        })
        .filter_map(|k| {
            let unset = known.iter().copied().filter(|c| !props.contains_key(*c));
            closest(k, unset).map(|c| (k.clone(), c.to_string()))
        })
        .collect()
}

/// Problems only a set of connectors has.
fn check_together(files: &[ConnectorFile], out: &mut Vec<Problem>) {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for f in files {
        if let Some(first) = seen.insert(&f.name, &f.file) {
            out.push(Problem {
                file: f.file.clone(),
                line: f.settings.lines.get("name").copied(),
                key: Some("name".into()),
                message: format!(
                    "connector name {} is also used by {first}: each connector needs a name of its own",
                    f.name
                ),
                warning: false,
            });
        }
    }
    // A sink writing the file a source reads, into the topic the sink
    // reads: every record would go round for ever.
    for sink in files {
        let Some(plugin) = crate::runtime::config::plugin_of(&sink.settings.props) else {
            continue;
        };
        if plugin.kind() != connect_api::ConnectorKind::Sink {
            continue;
        }
        let Some(out_file) = sink.settings.props.get("file").map(|f| absolute(f)) else {
            continue;
        };
        let reads: Vec<&str> = sink
            .settings
            .props
            .get("topics")
            .map(|t| t.split(',').map(str::trim).collect())
            .unwrap_or_default();
        for source in files {
            let p = &source.settings.props;
            let Some(sp) = crate::runtime::config::plugin_of(p) else {
                continue;
            };
            if sp.kind() != connect_api::ConnectorKind::Source {
                continue;
            }
            let topic = p.get("topic").or_else(|| p.get("topics"));
            let same_file = p.get("file").is_some_and(|f| absolute(f) == out_file);
            if let (true, Some(t)) = (same_file, topic) {
                if reads.contains(&t.trim()) {
                    out.push(Problem {
                        file: sink.file.clone(),
                        line: sink.settings.lines.get("file").copied(),
                        key: Some("file".into()),
                        message: format!(
                            "sink {} writes {} which source {} ({}) reads into topic {t}, which this sink reads: every record would go round for ever; give the sink another file or the source another topic",
                            sink.name, out_file.display(), source.name, source.file
                        ),
                        warning: false,
                    });
                }
            }
        }
    }
}

fn absolute(f: &str) -> PathBuf {
    let p = PathBuf::from(f.trim());
    if p.is_absolute() {
        p
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    }
}

/// How long a worker waits at start for a broker at `bootstrap.servers`:
/// `WEIR_CONNECT_TIMEOUT_MS`, else Kafka's `default.api.timeout.ms` (60 s).
pub fn broker_wait() -> std::time::Duration {
    std::env::var("WEIR_CONNECT_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .map_or(
            std::time::Duration::from_secs(60),
            std::time::Duration::from_millis,
        )
}

/// Waits (boundedly) until a broker of `bootstrap.servers` answers; the
/// error names the key, the address and what to do.
pub async fn reach_brokers(servers: &str, mode: Mode) -> anyhow::Result<()> {
    use std::time::Duration;
    let list = crate::kafka::split_servers(servers);
    let first = tokio::time::timeout(
        Duration::from_secs(5),
        crate::kafka::connect_any(&list, "weir-worker-check", Duration::from_secs(1)),
    )
    .await;
    if matches!(first, Ok(Ok(_))) {
        return Ok(());
    }
    let wait = broker_wait();
    tracing::warn!("no broker answers at bootstrap.servers={servers}; waiting up to {wait:?}");
    let result = tokio::time::timeout(
        wait + Duration::from_secs(5),
        crate::kafka::connect_any(&list, "weir-worker-check", wait),
    )
    .await
    .map_err(|_| format!("no answer within {wait:?}"))
    .and_then(|r| r.map_err(|e| e.to_string()));
    match result {
        Ok(_) => {
            tracing::info!("a broker answers at bootstrap.servers={servers}");
            Ok(())
        }
        Err(e) => {
            let instead = match mode {
                Mode::Standalone => {
                    ", or leave bootstrap.servers out of the worker file for the bundled broker"
                }
                Mode::Distributed => "",
            };
            anyhow::bail!(
                "Failed to connect to and describe Kafka cluster at bootstrap.servers={servers}: {e}. Start a broker there (weir broker, or kafka-server-start.sh) or correct bootstrap.servers{instead}; WEIR_CONNECT_TIMEOUT_MS sets how long to wait"
            )
        }
    }
}

/// Prints problems; an error listing the ones that stop the worker when
/// there are any.
pub fn report(problems: &[Problem]) -> anyhow::Result<()> {
    for p in problems.iter().filter(|p| p.warning) {
        tracing::warn!("{p}");
    }
    let errors: Vec<String> = problems
        .iter()
        .filter(|p| !p.warning)
        .map(ToString::to_string)
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "{} problem(s) in the setup; nothing was started:\n  {}",
        errors.len(),
        errors.join("\n  ")
    )
}

#[cfg(test)]
mod tests;
