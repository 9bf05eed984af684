//! Reading and changing connectors' offsets (KIP-875): source offsets in
//! the offset store, sink offsets as the `connect-<name>` group's.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use connect_api::record::{SourceOffset, SourcePartition};
use connect_api::ConnectorKind;
use serde_json::{json, Value as Json};

use super::{not_found, TargetState, Worker, WorkerError};
use crate::kafka::admin::Cluster;
use crate::kafka::offsets;
use crate::runtime::OffsetChanges;
use crate::store::OffsetStore;

impl Worker {
    /// The connector's offsets: `[{"partition": {...}, "offset": {...}}]`.
    pub async fn offsets(&self, name: &str) -> Result<Vec<Json>, WorkerError> {
        let kind = self.view(name).await.ok_or_else(|| not_found(name))?.kind;
        match kind {
            ConnectorKind::Source => Ok(self
                .offsets
                .all_for(name)
                .into_iter()
                .filter_map(|(p, o)| o.map(|o| json!({"partition": p, "offset": o})))
                .collect()),
            ConnectorKind::Sink => sink_offsets(&self.settings.bootstrap_servers, name).await,
        }
    }

    /// Alters (or with `None` offsets, resets) a STOPPED connector's offsets.
    pub async fn alter_offsets(
        &self,
        name: &str,
        entries: OffsetChanges,
    ) -> Result<String, WorkerError> {
        let kind = {
            let connectors = self.connectors.lock().await;
            let rc = connectors.get(name).ok_or_else(|| not_found(name))?;
            if rc.target != TargetState::Stopped {
                return Err(not_stopped(name, &entries));
            }
            rc.plugin.kind()
        };
        alter_offsets(
            &self.offsets,
            &self.settings.bootstrap_servers,
            name,
            kind,
            entries,
        )
        .await
    }
}

/// Kafka Connect's 400 for offsets changed while the connector runs.
pub(crate) fn not_stopped(name: &str, entries: &OffsetChanges) -> WorkerError {
    let verb = if entries.is_some() {
        "modified"
    } else {
        "reset"
    };
    WorkerError::BadRequest(format!(
        "Connectors must be in the STOPPED state before their offsets can be {verb}. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
    ))
}

/// Writes a STOPPED connector's new offsets (or with `None`, removes them
/// all): a source's into `store`, a sink's as its `connect-<name>` group's commits.
pub(crate) async fn alter_offsets(
    store: &Arc<OffsetStore>,
    bootstrap: &str,
    name: &str,
    kind: ConnectorKind,
    entries: OffsetChanges,
) -> Result<String, WorkerError> {
    let done = if entries.is_some() {
        "The offsets for this connector have been altered successfully"
    } else {
        "The offsets for this connector have been reset successfully"
    };
    let internal = |e: anyhow::Error| WorkerError::Internal(format!("{e:#}"));
    match kind {
        ConnectorKind::Source => {
            let entries = match entries {
                Some(e) => e,
                None => store
                    .all_for(name)
                    .into_iter()
                    .map(|(p, _)| (p, None))
                    .collect(),
            };
            // Writing to the offsets topic blocks until the broker has it.
            let (store, connector) = (store.clone(), name.to_string());
            tokio::task::spawn_blocking(move || store.commit(&connector, &entries))
                .await
                .map_err(|e| WorkerError::Internal(format!("the offsets writer failed: {e}")))?
                .map_err(internal)?;
        }
        ConnectorKind::Sink => {
            let servers = crate::kafka::split_servers(bootstrap);
            let mut cluster =
                Cluster::connect(&servers, "weir-worker-admin", Duration::from_secs(10))
                    .await
                    .map_err(|e| WorkerError::Internal(e.to_string()))?;
            let group = format!("connect-{name}");
            let (_, _, conn) = cluster.coordinator(&group).await.map_err(internal)?;
            match entries {
                None => offsets::delete_group(conn, &group)
                    .await
                    .map_err(internal)?,
                Some(entries) => {
                    let mut set = BTreeMap::new();
                    for (p, o) in entries {
                        let (t, part, off) = sink_offset(&p, o.as_ref())?;
                        match off {
                            Some(off) => {
                                set.insert((t, part), off);
                            }
                            None => {
                                return Err(WorkerError::BadRequest(
                                    "Removing one partition's offset of a sink connector is done with DELETE /connectors/{name}/offsets".into(),
                                ))
                            }
                        }
                    }
                    offsets::commit(conn, &group, &set).await.map_err(|e| {
                        WorkerError::Internal(format!(
                            "The offsets of sink connector {name} were not changed: its consumer group still has members \
                             (tasks still stopping, or the connector was resumed). When the connector is STOPPED this \
                             can be safely retried. ({e:#})"
                        ))
                    })?;
                }
            }
        }
    }
    Ok(done.to_string())
}

/// `{"kafka_topic": t, "kafka_partition": p}` and `{"kafka_offset": o}`
/// (numbers or numeric strings).
fn sink_offset(
    p: &SourcePartition,
    o: Option<&SourceOffset>,
) -> Result<(String, i32, Option<i64>), WorkerError> {
    let bad = |m: &str| WorkerError::BadRequest(m.to_string());
    let num = |v: Option<&Json>| -> Option<i64> {
        match v? {
            Json::Number(n) => n.as_i64(),
            Json::String(s) => s.parse().ok(),
            _ => None,
        }
    };
    let topic = p.get("kafka_topic").and_then(Json::as_str).ok_or_else(|| {
        bad("Kafka topic names must be valid strings that are present in the source partition")
    })?;
    let partition = num(p.get("kafka_partition"))
        .and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| {
            bad("Kafka partitions must be valid integers that are present in the source partition")
        })?;
    let offset = match o {
        None => None,
        Some(o) => Some(num(o.get("kafka_offset")).filter(|n| *n >= 0).ok_or_else(|| {
            bad("Kafka offsets must be valid non-negative integers that are present in the offset")
        })?),
    };
    Ok((topic.to_string(), partition, offset))
}

/// A sink connector's offsets: its `connect-<name>` group's commits.
pub(crate) async fn sink_offsets(bootstrap: &str, name: &str) -> Result<Vec<Json>, WorkerError> {
    let servers = crate::kafka::split_servers(bootstrap);
    let internal = |e: anyhow::Error| WorkerError::Internal(format!("{e:#}"));
    let mut cluster = Cluster::connect(&servers, "weir-worker-admin", Duration::from_secs(10))
        .await
        .map_err(|e| WorkerError::Internal(e.to_string()))?;
    let group = format!("connect-{name}");
    let (_, _, conn) = cluster.coordinator(&group).await.map_err(internal)?;
    let committed = offsets::committed(conn, &group).await.map_err(internal)?;
    Ok(committed
        .into_iter()
        .map(|((t, p), o)| {
            json!({"partition": {"kafka_topic": t, "kafka_partition": p}, "offset": {"kafka_offset": o}})
        })
        .collect())
}
