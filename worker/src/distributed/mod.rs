//! Distributed mode: workers that share connectors and tasks through
//! Kafka Connect's group protocol and internal topics.
//!
//! So far, pure and unit-tested: the group protocol's payloads
//! (`protocol`), the leader's incremental cooperative assignment
//! (`assign`), the internal topics' records (`records`) and the state the
//! config topic describes (`snapshot`), the worker settings and Confluent's
//! `CONNECT_*` environment mapping (`config`), what a worker must start and
//! stop to match its assignment (`reconcile`); and the group member (`member`:
//! JoinGroup with protocol type `connect`, SyncGroup, Heartbeat,
//! LeaveGroup) and the internal topics (`topics`: created compacted,
//! checked, read to their end and written), tested against the bundled
//! broker. The herder and `weir distributed` itself build on these.

pub mod assign;
pub mod config;
pub mod executor;
pub mod herder;
pub mod member;
pub mod protocol;
pub mod reconcile;
pub mod records;
pub mod snapshot;
pub mod topics;
