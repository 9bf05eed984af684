//! The bundled broker on a free loopback port, for tests of the runtime
//! against a real Kafka protocol peer.

use broker_core::properties::Properties;
use broker_core::{BrokerConfig, RunningBroker};

/// A broker keeping its logs in `dir`, creating topics with `partitions`.
pub async fn start(dir: &std::path::Path, partitions: u32) -> RunningBroker {
    let mut props = Properties::default();
    props.set("log.dirs", dir.display().to_string());
    props.set("listeners", "PLAINTEXT://127.0.0.1:0".to_string());
    props.set("num.partitions", partitions.to_string());
    let (cfg, _) = BrokerConfig::from_properties(&props).expect("config");
    RunningBroker::start(cfg).await.expect("broker")
}
