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
    let props: BTreeMap<String, String> = if text.trim_start().starts_with('{') {
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: invalid JSON: {e}", path.display()))?;
        let config = match json.get("config") {
            Some(c) if json.get("name").is_some() => c.clone(),
            _ => json.clone(),
        };
        let obj = config.as_object().ok_or_else(|| {
            anyhow::anyhow!(
                "{}: the connector config must be a JSON object",
                path.display()
            )
        })?;
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
        Properties::parse(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
            .to_map()
            .into_iter()
            .collect()
    };
    let name = props
        .get("name")
        .cloned()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{}: Missing required configuration \"name\" which has no default value.",
                path.display()
            )
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
    let worker_props: BTreeMap<String, String> = Properties::load(&args.worker)?
        .to_map()
        .into_iter()
        .collect();
    let connectors = args
        .connectors
        .iter()
        .map(|p| load_connector(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
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
            Some(b) => b.clone(),
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
            bootstrap,
            crate::rest::bind_addr(&listener),
        )?;
        settings.standalone = true;
        let worker = Arc::new(Worker::new(settings, offsets));
        let rest = crate::rest::serve(&listener, worker.clone()).await?;
        for (name, props) in connectors {
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
