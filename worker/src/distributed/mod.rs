//! Distributed mode: workers that share connectors and tasks through
//! Kafka Connect's group protocol and internal topics.
//!
//! Pure parts, unit-tested: the group protocol's payloads (`protocol`), the
//! leader's incremental cooperative assignment (`assign`), the internal
//! topics' records (`records`) and the state the config topic describes
//! (`snapshot`), the worker settings and Confluent's `CONNECT_*`
//! environment mapping (`config`), what a worker must start and stop to
//! match its assignment (`reconcile`), and the signatures of requests
//! between workers (`signing`). Parts that talk to a broker, tested against
//! the bundled one: the group member (`member`) and the internal topics
//! (`topics`). The `herder` runs them together with the `executor`, which
//! starts and stops this worker's share of the work.

pub mod assign;
pub mod config;
pub mod executor;
pub mod herder;
pub mod member;
pub mod protocol;
pub mod reconcile;
pub mod records;
pub mod signing;
pub mod snapshot;
pub mod topics;
