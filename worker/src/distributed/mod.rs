//! Distributed mode: workers that share connectors and tasks through
//! Kafka Connect's group protocol and internal topics.
//!
//! So far: the group protocol's payloads (`protocol`) and the leader's
//! incremental cooperative assignment (`assign`), both pure and unit-tested.

pub mod assign;
pub mod protocol;
