//! Subcommands of `weir`.

mod acls;
mod api_versions;
mod broker;
mod common;
mod configs;
mod connect;
mod consume;
mod consumer_perf;
mod delete_records;
mod distributed;
mod dump_log;
mod flume;
mod get_offsets;
mod group_reset;
mod groups;
mod leader_election;
mod log_dirs;
mod metadata_quorum;
mod perf;
mod produce;
mod reassign;
mod scram_users;
pub(crate) mod standalone;
mod storage;
mod topics;
mod validate;
mod verifiable;
mod verifiable_consumer;

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
    /// Format log directories with a cluster id (like kafka-storage.sh).
    Storage(storage::StorageArgs),
    /// A client of the Connect REST API (like kcctl).
    #[command(infer_long_args = true)]
    Connect(connect::ConnectArgs),
    /// Run connectors on one worker (like connect-standalone.sh).
    Standalone(standalone::StandaloneArgs),
    /// Run a worker of a Connect cluster (like connect-distributed.sh).
    Distributed(distributed::DistributedArgs),
    /// Check a worker file and connector files without starting anything;
    /// every problem is printed, exit 1 when there is one.
    Validate(validate::ValidateArgs),
    /// Run a Flume agent file's sources, channels and sinks as connectors
    /// (like flume-ng agent).
    Flume(flume::FlumeArgs),
    /// Create, list, describe, alter and delete topics (like kafka-topics.sh).
    #[command(infer_long_args = true)]
    Topics(topics::TopicsArgs),
    /// Describe and change topic and broker configs (like kafka-configs.sh).
    #[command(infer_long_args = true)]
    Configs(configs::ConfigsArgs),
    /// Print a partition's segment and index files (like kafka-dump-log.sh).
    #[command(infer_long_args = true)]
    DumpLog(dump_log::DumpLogArgs),
    /// Describe the metadata quorum (like kafka-metadata-quorum.sh).
    MetadataQuorum(metadata_quorum::MetadataQuorumArgs),
    /// Elect partition leaders (like kafka-leader-election.sh).
    #[command(infer_long_args = true)]
    LeaderElection(leader_election::LeaderElectionArgs),
    /// Generate, execute, verify and list partition reassignments (like
    /// kafka-reassign-partitions.sh).
    #[command(infer_long_args = true)]
    ReassignPartitions(reassign::ReassignArgs),
    /// Add, remove and list ACLs (like kafka-acls.sh).
    #[command(infer_long_args = true)]
    Acls(acls::AclsArgs),
    /// Write lines from stdin or a file to a topic (like kafka-console-producer.sh).
    #[command(infer_long_args = true, alias = "console-producer")]
    Produce(produce::ProduceArgs),
    /// Print records of a topic (like kafka-console-consumer.sh).
    #[command(infer_long_args = true, alias = "console-consumer")]
    Consume(consume::ConsumeArgs),
    /// List, describe, reset and delete consumer groups (like kafka-consumer-groups.sh).
    #[command(infer_long_args = true, alias = "consumer-groups")]
    Groups(groups::GroupsArgs),
    /// Print partitions' offsets for a time (like kafka-get-offsets.sh).
    #[command(name = "get-offsets", infer_long_args = true)]
    GetOffsets(get_offsets::GetOffsetsArgs),
    /// Describe the brokers' log directories (like kafka-log-dirs.sh).
    #[command(name = "log-dirs", infer_long_args = true)]
    LogDirs(log_dirs::LogDirsArgs),
    /// Delete records below given offsets (like kafka-delete-records.sh).
    #[command(name = "delete-records", infer_long_args = true)]
    DeleteRecords(delete_records::DeleteRecordsArgs),
    /// Consume with a group, printing one JSON event per line (like
    /// kafka-verifiable-consumer.sh).
    #[command(infer_long_args = true)]
    VerifiableConsumer(verifiable_consumer::VerifiableConsumerArgs),
    /// Produce numbered messages and report each acknowledgement as JSON
    /// (like kafka-verifiable-producer.sh).
    #[command(name = "verifiable-producer", infer_long_args = true)]
    VerifiableProducer(verifiable::VerifiableArgs),
    /// Measure produce throughput and latency (like kafka-producer-perf-test.sh).
    #[command(name = "producer-perf-test", infer_long_args = true)]
    ProducerPerfTest(perf::ProducerPerfArgs),
    /// Measure consume throughput (like kafka-consumer-perf-test.sh).
    #[command(name = "consumer-perf-test", infer_long_args = true)]
    ConsumerPerfTest(consumer_perf::ConsumerPerfArgs),
    /// Show the API versions of each broker (like kafka-broker-api-versions.sh).
    #[command(name = "broker-api-versions", infer_long_args = true)]
    BrokerApiVersions(api_versions::ApiVersionsArgs),
}

/// The body of an HTTP/1.1 chunked transfer: the chunks joined.
pub fn dechunk(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = raw;
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&rest[..eol]).unwrap_or("0");
        let size = size.split(';').next().unwrap_or("0").trim();
        let n = usize::from_str_radix(size, 16).unwrap_or(0);
        let data = &rest[eol + 2..];
        if n == 0 || data.len() < n {
            break;
        }
        out.extend_from_slice(&data[..n]);
        rest = data[n..].strip_prefix(b"\r\n").unwrap_or(&data[n..]);
    }
    out
}

/// An error that Kafka's tool prints on stdout (the caller exits 1).
#[derive(Debug)]
pub struct StdoutError(pub String);

impl std::fmt::Display for StdoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StdoutError {}

impl Command {
    /// True for the tools whose output is commonly piped into `head`, `grep`, ...
    pub fn writes_to_pipes(&self) -> bool {
        !matches!(
            self,
            Command::Broker(_)
                | Command::Standalone(_)
                | Command::Distributed(_)
                | Command::Flume(_)
        )
    }
}

pub fn init_logging(cli: &Cli) {
    let flume_level = match &cli.command {
        Command::Flume(flume::FlumeArgs {
            command: flume::FlumeCommand::Agent(a),
        }) => flume::root_logger_level(&a.defines),
        _ => None,
    };
    let filter = cli
        .log
        .clone()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .or(flume_level)
        .unwrap_or_else(|| "info".to_string());
    crate::logging::init(&filter, std::io::stderr().is_terminal());
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Broker(args) => broker::run(args),
        Command::Storage(args) => storage::run(args),
        Command::Standalone(args) => standalone::run(args),
        Command::Distributed(args) => distributed::run(args),
        Command::Flume(args) => flume::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Connect(args) => connect::run(args),
        Command::Topics(args) => topics::run(args),
        Command::Configs(args) => configs::run(args),
        Command::Acls(args) => acls::run(args),
        Command::MetadataQuorum(args) => metadata_quorum::run(args),
        Command::DumpLog(args) => dump_log::run(args),
        Command::LeaderElection(args) => leader_election::run(args),
        Command::ReassignPartitions(args) => reassign::run(args),
        Command::Produce(args) => produce::run(args),
        Command::Consume(args) => consume::run(args),
        Command::Groups(args) => groups::run(args),
        Command::DeleteRecords(args) => delete_records::run(args),
        Command::GetOffsets(args) => get_offsets::run(args),
        Command::LogDirs(args) => log_dirs::run(args),
        Command::VerifiableProducer(args) => verifiable::run(args),
        Command::VerifiableConsumer(args) => verifiable_consumer::run(args),
        Command::ProducerPerfTest(args) => perf::run(args),
        Command::ConsumerPerfTest(args) => consumer_perf::run(args),
        Command::BrokerApiVersions(args) => api_versions::run(args),
    }
}

#[cfg(test)]
mod tests {
    /// Every subcommand's flags are well formed (clap checks them only
    /// when that subcommand is run).
    #[test]
    fn every_subcommand_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
