//! The `weir` worker: command-line tools, the Kafka-protocol client, and the
//! Connect runtime's building blocks (converters, ...).

pub mod cli;
pub use connect_api::convert;
pub mod distributed;
pub mod flume;
pub mod kafka;
pub mod logging;
pub mod preflight;
pub mod providers;
pub mod rest;
pub mod runtime;
pub mod store;
