//! `weir standalone worker.properties connector.properties|.json ...`: Kafka
//! Connect's `connect-standalone`. Without `bootstrap.servers` the bundled
//! broker runs in the same process.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use broker_core::properties::Properties;
use broker_core::{BrokerConfig, RunningBroker};
use clap::Args;

use crate::preflight::{self, Mode};
use crate::runtime::config::WorkerSettings;
use crate::runtime::{TargetState, Worker};
use crate::store::OffsetStore;

#[derive(Debug, Args)]
pub struct StandaloneArgs {
    /// The worker config (connect-standalone.properties).
    pub worker: PathBuf,
    /// Connector configs: .properties files, JSON objects of settings, or
    /// `{"name": ..., "config": {...}}`.
    pub connectors: Vec<PathBuf>,
}

/// Reads a connector file; returns its name and settings.
pub fn load_connector(path: &Path) -> anyhow::Result<(String, BTreeMap<String, String>)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_connector(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Parses a connector config: `.properties` text, a JSON object of settings,
/// or `{"name": ..., "config": {...}}`. Errors name the line, column or key.
pub fn parse_connector(text: &str) -> Result<(String, BTreeMap<String, String>), String> {
    let props: BTreeMap<String, String> = if text.trim_start().starts_with('{') {
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
        let config = match json.get("config") {
            Some(c) if json.get("name").is_some() => c.clone(),
            _ => json.clone(),
        };
        let obj = config
            .as_object()
            .ok_or_else(|| "the connector config (\"config\") must be a JSON object".to_string())?;
        let mut out: BTreeMap<String, String> = obj
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect();
        if let Some(n) = json.get("name").and_then(|n| n.as_str()) {
            out.entry("name".into()).or_insert_with(|| n.to_string());
        }
        out
    } else {
        Properties::parse(text)
            .map_err(|e| e.to_string())?
            .to_map()
            .into_iter()
            .collect()
    };
    let name = props
        .get("name")
        .cloned()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| {
            "Missing required configuration \"name\" which has no default value.".to_string()
        })?;
    Ok((name, props))
}

/// Where the bundled broker keeps its data: beside the offsets file.
fn broker_dir(offsets_file: &Path) -> PathBuf {
    let dir = offsets_file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    dir.join("weir-broker-data")
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

pub fn run(args: StandaloneArgs) -> anyhow::Result<()> {
    // Every file checked, every problem reported, before anything starts.
    let (worker, mut problems) = preflight::check_worker_file(&args.worker, Mode::Standalone);
    let (files, connector_problems) = preflight::check_connector_files(&args.connectors, true);
    problems.extend(connector_problems);
    preflight::report(&problems)?;
    let connectors = files
        .into_iter()
        .map(|f| (f.name, f.settings.props))
        .collect();
    serve(worker.props, connectors, Vec::new())
}

/// Runs a standalone worker with `connectors` until a signal stops it,
/// first creating `topics` (one partition each) where they are missing.
pub fn serve(
    worker_props: BTreeMap<String, String>,
    connectors: Vec<(String, BTreeMap<String, String>)>,
    topics: Vec<String>,
) -> anyhow::Result<()> {
    let offsets_file = PathBuf::from(worker_props.get("offset.storage.file.filename").ok_or_else(|| {
        anyhow::anyhow!("Missing required configuration \"offset.storage.file.filename\" which has no default value.")
    })?);
    if let Some(p) = worker_props.get("plugin.path") {
        tracing::info!("plugin.path={p} is noted: Weir's connectors are built in");
    }
    let offsets = Arc::new(OffsetStore::open(&offsets_file)?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("weir-worker")
        .build()?;
    rt.block_on(async move {
        let mut embedded = None;
        let bootstrap = match worker_props.get("bootstrap.servers") {
            Some(b) => {
                crate::kafka::security::init_worker(&worker_props)?;
                preflight::reach_brokers(b, Mode::Standalone).await?;
                b.clone()
            }
            None => {
                let data = broker_dir(&offsets_file);
                let port = if port_is_free(9092) { 9092 } else { 0 };
                let mut props = Properties::default();
                props.set("log.dirs", data.display().to_string());
                props.set("listeners", format!("PLAINTEXT://127.0.0.1:{port}"));
                let (cfg, _) = BrokerConfig::from_properties(&props)?;
                let broker = RunningBroker::start(cfg).await?;
                let b = broker.bootstrap();
                tracing::info!(
                    "no bootstrap.servers: started the bundled broker on {b}, data in {}",
                    data.display()
                );
                embedded = Some(broker);
                b
            }
        };
        let listener = worker_props
            .get("listeners")
            .cloned()
            .unwrap_or_else(|| "http://127.0.0.1:8083".into());
        let mut settings = WorkerSettings::from_props(
            worker_props.clone(),
            bootstrap.clone(),
            crate::rest::bind_addr(&listener),
        )?;
        settings.standalone = true;
        let worker = Arc::new(Worker::new(settings, offsets));
        worker.reconfigure_on_request();
        // The bundled broker lives in this process: nothing to watch.
        let watch = embedded
            .is_none()
            .then(|| crate::runtime::health::BrokerWatch::spawn(bootstrap.clone()));
        let context = crate::rest::ServerContext {
            watch,
            cluster_id: crate::kafka::cluster_id(&bootstrap, std::time::Duration::from_secs(10))
                .await,
        };
        let rest = crate::rest::serve(
            &worker_props,
            worker.clone() as Arc<dyn crate::runtime::Herder>,
            context,
        )
        .await?;
        for t in &topics {
            crate::kafka::admin::create_topic(&bootstrap, t, 1, -1, &[])
                .await
                .with_context(|| format!("creating topic {t}"))?;
        }
        for (name, mut props) in connectors {
            // A Kafka sink with no cluster of its own writes to the
            // worker's, logging in as the worker's sources do.
            if props.get("connector.class").map(String::as_str) == Some(crate::flume::copy::CLASS)
                && !props.contains_key(crate::flume::copy::SERVERS)
            {
                props.insert(crate::flume::copy::SERVERS.into(), bootstrap.clone());
                let producer = worker_props
                    .iter()
                    .filter_map(|(k, v)| {
                        Some((k.strip_prefix("producer.")?.to_string(), v.clone()))
                    })
                    .collect();
                let login = crate::kafka::security::inherit(producer, &worker_props);
                for (k, v) in login {
                    props.entry(format!("kafka.producer.{k}")).or_insert(v);
                }
            }
            if let Err(e) = worker
                .put_connector(&name, props, TargetState::Started, false)
                .await
            {
                worker.shutdown().await;
                anyhow::bail!("Failed to create connector {name}: {e}");
            }
        }
        super::broker::wait_for_signal().await?;
        tracing::info!("stopping connectors");
        worker.shutdown().await;
        rest.abort();
        if let Some(b) = embedded {
            b.shutdown().await?;
        }
        anyhow::Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::parse_connector;
    use crate::runtime::validate;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Random text as .properties or JSON never panics; every refusal
        /// names a line, a column or a key.
        #[test]
        fn random_configs_never_panic(text in "(\\PC|[={}:\\\\\"\n ,#!]){0,200}") {
            match parse_connector(&text) {
                Err(e) => prop_assert!(
                    e.contains("line") || e.contains("column") || e.contains("\"name\"") || e.contains("\"config\""),
                    "{}", e
                ),
                Ok((_, props)) => {
                    if let Err(r) = validate(&props) {
                        for (key, msg) in &r.0 {
                            prop_assert!(!key.is_empty());
                            prop_assert!(msg.contains(key.as_str()) || key == "connector.class" || key == "topics", "{}: {}", key, msg);
                        }
                    }
                }
            }
        }

        /// Random values for the known keys: validation names every bad key.
        #[test]
        fn random_values_for_known_keys(
            class in prop::sample::select(vec!["FileStreamSource", "FileStreamSink", "Nope", ""]),
            tasks in "[-0-9a-z]{0,4}",
            batch in "[-0-9a-z]{0,4}",
        ) {
            let text = format!("name=c\nconnector.class={class}\ntasks.max={tasks}\nbatch.size={batch}\ntopic=t\ntopics=t\n");
            let (_, props) = parse_connector(&text).map_err(TestCaseError::fail)?;
            if let Err(r) = validate(&props) {
                for (key, msg) in &r.0 {
                    prop_assert!(msg.contains(key.as_str()) || key == "connector.class", "{}: {}", key, msg);
                }
            }
        }
    }
}
