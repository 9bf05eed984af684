//! What the Kafka-style tools share: which broker to talk to (including the
//! old `--broker-list` and `--zookeeper` flags), client properties files and
//! `--property` lists, and the bounded wait for an unreachable broker.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use broker_core::properties::Properties;
use clap::Args;
use rdkafka::config::ClientConfig;

use crate::kafka::security::ClientSecurity;
use crate::kafka::{self, split_servers, Connection};

/// The broker port assumed when only `--zookeeper host:2181` is given:
/// Kafka's 9092, or `WEIR_DEFAULT_BROKER_PORT`.
fn default_broker_port() -> u16 {
    std::env::var("WEIR_DEFAULT_BROKER_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(9092)
}

/// How long a tool waits for an unreachable broker before it gives up.
pub fn connect_wait() -> Duration {
    std::env::var("WEIR_CONNECT_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(10), Duration::from_millis)
}

/// The broker flags every tool accepts.
#[derive(Debug, Clone, Args)]
pub struct Target {
    /// The broker(s) to connect to, `host:port[,host:port]`.
    #[arg(
        long = "bootstrap-server",
        alias = "bootstrap-servers",
        value_name = "HOST:PORT"
    )]
    pub bootstrap_server: Option<String>,
    /// Old name of --bootstrap-server (console producer, verifiable producer).
    #[arg(long = "broker-list", value_name = "HOST:PORT")]
    pub broker_list: Option<String>,
    /// Accepted for old tutorials: the broker used is the same host on port 9092.
    #[arg(long, value_name = "HOST:PORT")]
    pub zookeeper: Option<String>,
}

impl Target {
    /// The bootstrap servers, with a one-line note on stderr when they were
    /// derived from `--zookeeper`.
    pub fn servers(&self) -> anyhow::Result<String> {
        if let Some(b) = self.bootstrap_server.as_ref().or(self.broker_list.as_ref()) {
            if self.zookeeper.is_some() {
                eprintln!("Note: --zookeeper is ignored: Weir needs no ZooKeeper, using {b}.");
            }
            return Ok(b.clone());
        }
        if let Some(zk) = &self.zookeeper {
            let servers = zookeeper_to_brokers(zk, default_broker_port());
            eprintln!(
                "Note: Weir needs no ZooKeeper; --zookeeper {zk} means the broker at {servers}."
            );
            return Ok(servers);
        }
        anyhow::bail!("Missing required argument \"[bootstrap-server]\"")
    }

    /// The servers as a list of `host:port`.
    pub fn server_list(&self) -> anyhow::Result<Vec<String>> {
        Ok(split_servers(&self.servers()?))
    }

    /// Connects a protocol client to the first reachable server, waiting at
    /// most [`connect_wait`].
    pub async fn connect(&self, client_id: &str) -> anyhow::Result<Connection> {
        let servers = self.server_list()?;
        Ok(kafka::connect_any(&servers, client_id, connect_wait()).await?)
    }

    /// Fails with a message naming the address (or the authentication
    /// error) when no server answers within [`connect_wait`]; librdkafka
    /// itself would retry forever.
    pub fn probe(&self) -> anyhow::Result<()> {
        block_on(async { self.connect("weir-probe").await.map(drop) })
    }

    /// The target with `--bootstrap-controller` as its server when that
    /// flag is given instead of `--bootstrap-server` (on one node the
    /// broker is its own controller).
    pub fn or_controller(&self, controller: Option<&String>) -> anyhow::Result<Target> {
        let mut target = self.clone();
        match (&target.bootstrap_server, controller) {
            (Some(_), Some(_)) => anyhow::bail!(
                "Only one of --bootstrap-server or --bootstrap-controller must be specified"
            ),
            (None, Some(c)) => target.bootstrap_server = Some(c.clone()),
            _ => {}
        }
        Ok(target)
    }

    /// An admin connection to the cluster, logged in with the security
    /// settings of `--command-config`.
    pub async fn admin(
        &self,
        command_config: Option<&Path>,
        client_id: &str,
    ) -> anyhow::Result<crate::kafka::admin::Cluster> {
        self.check_admin_config(command_config)?;
        let servers = self.server_list()?;
        Ok(crate::kafka::admin::Cluster::connect(&servers, client_id, connect_wait()).await?)
    }

    /// Takes the security settings (`security.protocol`, `sasl.*`,
    /// `ssl.*`) of a `--command-config` file for the tool's connections.
    pub fn check_admin_config(&self, command_config: Option<&Path>) -> anyhow::Result<()> {
        let Some(path) = command_config else {
            return Ok(());
        };
        let props = Properties::load(path)?.to_map();
        let security = ClientSecurity::from_props(&props, "")
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        crate::kafka::security::set_default(security);
        Ok(())
    }
}

/// `zk1:2181,zk2:2181/chroot` -> `zk1:9092,zk2:9092`.
fn zookeeper_to_brokers(zk: &str, port: u16) -> String {
    let without_chroot = zk.split('/').next().unwrap_or(zk);
    without_chroot
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|hp| {
            let host = match hp.trim().rsplit_once(':') {
                Some((h, _)) => h,
                None => hp.trim(),
            };
            format!("{host}:{port}")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses `key=value` (the value may contain `=`), naming the flag on error.
pub fn key_value(flag: &str, kv: &str) -> anyhow::Result<(String, String)> {
    let (k, v) = kv
        .split_once('=')
        .with_context(|| format!("{flag} {kv:?} is not of the form key=value"))?;
    Ok((k.trim().to_string(), v.trim().to_string()))
}

/// Builds a librdkafka configuration from a properties file, `k=v` overrides
/// and the target's bootstrap servers.
pub fn client_config(
    target: &Target,
    file: Option<&Path>,
    flag: &str,
    overrides: &[String],
) -> anyhow::Result<ClientConfig> {
    let mut props = std::collections::BTreeMap::new();
    if let Some(path) = file {
        for e in Properties::load(path)?.entries() {
            props.insert(e.key.clone(), e.value.clone());
        }
    }
    for kv in overrides {
        let (k, v) = key_value(flag, kv)?;
        props.insert(k, v);
    }
    // Kafka's (Java) security keys work: the tool's own connections use
    // them, and librdkafka gets them in its words.
    let named = |e: String| match file {
        Some(p) => anyhow::anyhow!("{}: {e}", p.display()),
        None => anyhow::anyhow!("{flag}: {e}"),
    };
    crate::kafka::security::set_default(ClientSecurity::from_props(&props, "").map_err(named)?);
    let mut cfg = ClientConfig::new();
    for (k, v) in crate::kafka::security::to_librdkafka(props).map_err(named)? {
        cfg.set(k, v);
    }
    cfg.set("bootstrap.servers", target.servers()?);
    Ok(cfg)
}

/// Sets `key` unless the user's properties already did.
pub fn set_default(cfg: &mut ClientConfig, key: &str, value: &str) {
    if cfg.get(key).is_none() {
        cfg.set(key, value);
    }
}

/// Defaults of the tools' consumers that differ from librdkafka's (the user's
/// properties win).
pub fn consumer_defaults(cfg: &mut ClientConfig) {
    set_default(
        cfg,
        "fetch.queue.backoff.ms",
        crate::kafka::FETCH_QUEUE_BACKOFF_MS,
    );
}

/// Formatter/reader `--property` values as a map, in order.
pub fn properties(flag: &str, list: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    list.iter().map(|kv| key_value(flag, kv)).collect()
}

/// Warns about properties the tool does not know, suggesting a close match.
pub fn warn_unknown(kind: &str, given: &[(String, String)], known: &[&str]) {
    for (k, _) in given {
        if known.contains(&k.as_str()) {
            continue;
        }
        match broker_core::properties::closest(k, known.iter().copied()) {
            Some(c) => {
                eprintln!("Warning: unknown {kind} property '{k}' is ignored (did you mean '{c}'?)")
            }
            None => eprintln!("Warning: unknown {kind} property '{k}' is ignored"),
        }
    }
}

/// The last value given for `key` among `--property` pairs.
pub fn property(props: &[(String, String)], key: &str) -> Option<String> {
    props
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}

/// A `true`/`false` property, naming the key when the value is neither.
pub fn bool_property(props: &[(String, String)], key: &str, default: bool) -> anyhow::Result<bool> {
    match property(props, key).as_deref().map(str::trim) {
        None => Ok(default),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => anyhow::bail!("property {key} must be true or false, not {v:?}"),
    }
}

/// A separator-like property with Java escapes expanded (`\t` is a tab).
pub fn text_property(props: &[(String, String)], key: &str, default: &str) -> String {
    property(props, key).map_or_else(
        || default.to_string(),
        |v| broker_core::properties::unescape_value(&v),
    )
}

/// A flag raised by SIGINT or SIGTERM, so a tool can finish its output.
pub fn interrupted() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let flag = std::sync::Arc::new(AtomicBool::new(false));
    let raised = flag.clone();
    std::thread::spawn(move || {
        let wait = async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                r = tokio::signal::ctrl_c() => r?,
                _ = term.recv() => {}
            }
            raised.store(true, Ordering::SeqCst);
            Ok(())
        };
        if let Err(e) = block_on(wait) {
            tracing::warn!("cannot watch for signals: {e:#}");
        }
    });
    flag
}

/// Runs a fallible future on a fresh single-threaded runtime.
pub fn block_on<T, F: std::future::Future<Output = anyhow::Result<T>>>(f: F) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_defaults_keep_the_users_values() {
        let mut cfg = ClientConfig::new();
        consumer_defaults(&mut cfg);
        assert_eq!(cfg.get("fetch.queue.backoff.ms"), Some("10"));
        let mut cfg = ClientConfig::new();
        cfg.set("fetch.queue.backoff.ms", "1000");
        consumer_defaults(&mut cfg);
        assert_eq!(cfg.get("fetch.queue.backoff.ms"), Some("1000"));
    }

    #[test]
    fn zookeeper_maps_to_kafka_port_on_same_hosts() {
        assert_eq!(
            zookeeper_to_brokers("localhost:2181", 9092),
            "localhost:9092"
        );
        assert_eq!(
            zookeeper_to_brokers("a:2181,b:2182/kafka", 9092),
            "a:9092,b:9092"
        );
        assert_eq!(zookeeper_to_brokers("sandbox", 19092), "sandbox:19092");
    }

    #[test]
    fn misspelt_property_finds_its_neighbour() {
        use broker_core::properties::closest;
        let known = ["key.separator", "print.key"];
        assert_eq!(closest("key.seperator", known), Some("key.separator"));
        assert_eq!(closest("print.value", known), None);
    }

    #[test]
    fn separators_are_unescaped() {
        let props = vec![("key.separator".to_string(), r"\t".to_string())];
        assert_eq!(text_property(&props, "key.separator", ":"), "\t");
        assert_eq!(text_property(&props, "other", ":"), ":");
        assert!(bool_property(&[("p".into(), "yes".into())], "p", false).is_err());
    }
}
