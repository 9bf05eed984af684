//! `weir broker [server.properties] [--override key=value ...]`

use std::path::PathBuf;

use anyhow::Context;
use broker_core::properties::Properties;
use broker_core::{BrokerConfig, RunningBroker};
use clap::Args;

#[derive(Debug, Args)]
pub struct BrokerArgs {
    /// A Kafka server.properties file (optional).
    pub config: Option<PathBuf>,
    /// Override a property, e.g. `--override log.dirs=/data` (repeatable).
    #[arg(long = "override", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
}

fn parse_override(s: &str) -> anyhow::Result<(String, String)> {
    let (k, v) = s
        .split_once('=')
        .with_context(|| format!("--override {s:?} is not of the form key=value"))?;
    Ok((k.trim().to_string(), v.trim().to_string()))
}

pub fn run(args: BrokerArgs) -> anyhow::Result<()> {
    let props = match &args.config {
        Some(path) => Properties::load(path)?,
        None => Properties::default(),
    };
    let overrides = args
        .overrides
        .iter()
        .map(|s| parse_override(s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (config, notes) = BrokerConfig::with_overrides(props, &overrides)?;
    for n in &notes.infos {
        tracing::info!("{n}");
    }
    for w in &notes.warnings {
        tracing::warn!("{w}");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("weir-broker")
        .build()?;
    rt.block_on(async move {
        let broker = RunningBroker::start(config).await?;
        wait_for_signal().await?;
        tracing::info!("shutting down: flushing logs");
        broker.shutdown().await?;
        anyhow::Ok(())
    })
}

pub(crate) async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}
