//! `weir flume agent --conf-file example.conf --name a1`: runs agent `a1`
//! of a Flume properties file as connectors on a standalone worker (with
//! the bundled broker unless `--bootstrap-servers` or a Kafka channel names
//! a cluster). Flume's own flags are accepted: `-n`, `-f`, `-c`, `-D`.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::PathBuf;

use anyhow::Context;
use broker_core::properties::Properties;
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct FlumeArgs {
    #[command(subcommand)]
    pub command: FlumeCommand,
}

#[derive(Debug, Subcommand)]
pub enum FlumeCommand {
    /// Run an agent of a Flume configuration file.
    Agent(AgentArgs),
}

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The agent's name in the file (`a1` in `a1.sources = r1`).
    #[arg(short = 'n', long)]
    pub name: String,
    /// The Flume properties file.
    #[arg(short = 'f', long = "conf-file")]
    pub conf_file: PathBuf,
    /// Flume's configuration directory (flume-env.sh, log4j); noted only.
    #[arg(short = 'c', long)]
    pub conf: Option<PathBuf>,
    /// Java system properties, e.g. `-Dflume.root.logger=INFO,console`;
    /// `flume.root.logger`'s level becomes the log level.
    #[arg(short = 'D', value_name = "KEY=VALUE")]
    pub defines: Vec<String>,
    /// A Kafka cluster for the channels' topics (default: a Kafka
    /// channel's `kafka.bootstrap.servers`, else the bundled broker).
    #[arg(long)]
    pub bootstrap_servers: Option<String>,
    /// Where offsets and the bundled broker's data live (default:
    /// `~/.weir/flume/<name>`).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// The REST API's listener (default: http://127.0.0.1:8083, or a free
    /// port when that one is taken).
    #[arg(long)]
    pub rest_listener: Option<String>,
    /// Accepted for Flume's command line; the file is read once.
    #[arg(long = "no-reload-conf")]
    pub no_reload_conf: bool,
}

fn free_port(preferred: u16) -> u16 {
    if TcpListener::bind(("127.0.0.1", preferred)).is_ok() {
        return preferred;
    }
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map_or(preferred, |a| a.port())
}

/// The log level `-Dflume.root.logger=LEVEL,appender` asks for.
pub fn root_logger_level(defines: &[String]) -> Option<String> {
    defines.iter().find_map(|d| {
        let v = d.strip_prefix("flume.root.logger=")?;
        let level = v.split(',').next()?.trim().to_ascii_lowercase();
        Some(
            if level == "warn" || level == "error" || level == "debug" || level == "trace" {
                level
            } else {
                "info".into()
            },
        )
    })
}

pub fn run(args: FlumeArgs) -> anyhow::Result<()> {
    let FlumeCommand::Agent(a) = args.command;
    let text = std::fs::read_to_string(&a.conf_file)
        .with_context(|| format!("reading {}", a.conf_file.display()))?;
    let all: BTreeMap<String, String> = Properties::parse(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.conf_file.display()))?
        .to_map()
        .into_iter()
        .collect();
    let plan = crate::flume::plan(&all, &a.name)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.conf_file.display()))?;
    if let Some(c) = &a.conf {
        tracing::debug!("Flume configuration directory {} (not read)", c.display());
    }
    let data = match a.data_dir {
        Some(d) => d,
        None => {
            let home = std::env::var("HOME").unwrap_or_else(|_| ".".into());
            PathBuf::from(home)
                .join(".weir")
                .join("flume")
                .join(&a.name)
        }
    };
    std::fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
    let mut worker = BTreeMap::new();
    worker.insert(
        "offset.storage.file.filename".to_string(),
        data.join("offsets").display().to_string(),
    );
    worker.insert(
        "key.converter".to_string(),
        "org.apache.kafka.connect.storage.StringConverter".to_string(),
    );
    worker.insert(
        "value.converter".to_string(),
        "org.apache.kafka.connect.storage.StringConverter".to_string(),
    );
    // Flume's headers are strings: `01` stays `01` for escapes and selectors.
    worker.insert(
        "header.converter".to_string(),
        "org.apache.kafka.connect.storage.StringConverter".to_string(),
    );
    // Events are committed (and spooled files finished) within seconds.
    worker.insert("offset.flush.interval.ms".to_string(), "5000".to_string());
    // A Kafka channel's client keys (security among them).
    worker.extend(plan.worker.clone());
    if let Some(b) = a.bootstrap_servers.or(plan.bootstrap) {
        worker.insert("bootstrap.servers".to_string(), b);
    }
    let listener = a
        .rest_listener
        .unwrap_or_else(|| format!("http://127.0.0.1:{}", free_port(8083)));
    worker.insert("listeners".to_string(), listener.clone());
    for p in &plan.connectors {
        tracing::info!(
            "agent {}: connector {} ({})",
            a.name,
            p.name,
            p.config.get("connector.class").map_or("", String::as_str)
        );
    }
    tracing::info!("agent {}: REST API on {listener}", a.name);
    crate::runtime::metrics::set_flume_channels(plan.channels);
    let connectors = plan
        .connectors
        .into_iter()
        .map(|p| (p.name, p.config))
        .collect();
    super::standalone::serve(worker, connectors, plan.topics)
}
