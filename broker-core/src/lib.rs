//! Weir's bundled broker: a single-node broker that speaks the Kafka wire
//! protocol, so unmodified Kafka clients produce, consume, run consumer groups
//! and administer topics against it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use broker_core::{BrokerConfig, RunningBroker};
//! let broker = RunningBroker::start(BrokerConfig::ephemeral("/tmp/weir-data")).await?;
//! println!("bootstrap.servers={}", broker.bootstrap());
//! broker.shutdown().await?;
//! # Ok(()) }
//! ```

pub mod alloc_guard;
pub mod clock;
pub mod config;
pub mod error_code;
mod flusher;
pub mod group;
mod handler;
pub mod log;
pub mod properties;
pub mod protocol;
pub mod security;
mod server;
mod state;
pub mod topic_config;
pub mod topics;

pub use config::{BrokerConfig, ConfigError, ConfigNotes, Endpoint};
pub use server::{RunningBroker, StartError};

#[cfg(test)]
#[global_allocator]
static TEST_ALLOC: alloc_guard::GuardedAlloc = alloc_guard::GuardedAlloc(std::alloc::System);
