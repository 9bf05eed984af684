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
    let file = args
        .config
        .as_ref()
        .map_or("--override".to_string(), |p| p.display().to_string());
    let mut all = props.clone();
    for (k, v) in &overrides {
        all.set(k.clone(), v.clone());
    }
    // Every problem at once, before anything starts.
    let problems = BrokerConfig::problems(&all);
    let at = |line: usize| {
        if line == 0 {
            "--override".to_string()
        } else {
            format!("{file}:{line}")
        }
    };
    let errors: Vec<String> = problems
        .iter()
        .filter(|p| p.error)
        .map(|p| format!("{}: {}", at(p.line), p.message))
        .collect();
    if !errors.is_empty() {
        anyhow::bail!(
            "{} problem(s) in the broker config; nothing was started:\n  {}",
            errors.len(),
            errors.join("\n  ")
        );
    }
    for p in &problems {
        tracing::warn!("{}: {}", at(p.line), p.message);
    }
    let (config, notes) = BrokerConfig::with_overrides(props, &overrides)?;
    for n in &notes.infos {
        tracing::info!("{n}");
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
