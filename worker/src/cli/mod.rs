//! Subcommands of `weir`.

mod broker;
mod perf;

use std::io::IsTerminal;

use clap::{Parser, Subcommand};

/// Weir: a Kafka Connect-compatible connector worker with a bundled broker.
#[derive(Debug, Parser)]
#[command(name = "weir", version, about)]
pub struct Cli {
    /// Log filter, e.g. `info`, `debug`, `broker_core=debug` (or set RUST_LOG).
    #[arg(long, global = true, env = "WEIR_LOG")]
    pub log: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the bundled Kafka-protocol broker (like kafka-server-start.sh).
    Broker(broker::BrokerArgs),
    /// Measure produce throughput and latency (like kafka-producer-perf-test.sh).
    #[command(name = "producer-perf-test")]
    ProducerPerfTest(perf::ProducerPerfArgs),
}

pub fn init_logging(cli: &Cli) {
    let filter = cli
        .log
        .clone()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "info".to_string());
    let env = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(env)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Broker(args) => broker::run(args),
        Command::ProducerPerfTest(args) => perf::run(args),
    }
}
