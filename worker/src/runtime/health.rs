//! Whether the worker reaches its Kafka cluster: checked every few seconds,
//! logged once when it is lost and once when it is back, and reported by
//! `/health` (503 with the reason while it is lost, as KIP-1017's health
//! check reports an unhealthy worker).

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

/// How often the cluster is checked.
const EVERY: Duration = Duration::from_secs(3);
/// How long one check waits for an answer.
const WAIT: Duration = Duration::from_secs(3);

#[derive(Debug, Default)]
pub struct BrokerWatch {
    problem: Mutex<Option<String>>,
}

impl BrokerWatch {
    /// Starts watching `servers` (the worker's `bootstrap.servers`) on the
    /// current runtime, for as long as the returned handle lives.
    pub fn spawn(servers: String) -> Arc<Self> {
        let watch = Arc::new(Self::default());
        let weak = Arc::downgrade(&watch);
        tokio::spawn(async move {
            let list = crate::kafka::split_servers(&servers);
            loop {
                tokio::time::sleep(EVERY).await;
                let Some(w) = weak.upgrade() else { return };
                // Bounded as a whole: a broker that takes the connection
                // but never answers counts as lost.
                let result = tokio::time::timeout(
                    WAIT * 2,
                    crate::kafka::connect_any(&list, "weir-worker-health", WAIT),
                )
                .await
                .map_err(|_| format!("no answer within {:?}", WAIT * 2))
                .and_then(|r| r.map_err(|e| e.to_string()));
                let mut p = w.problem.lock();
                match (result, p.is_some()) {
                    (Ok(_), true) => {
                        tracing::info!(
                            "the Kafka cluster at bootstrap.servers={servers} answers again"
                        );
                        *p = None;
                    }
                    (Err(e), false) => {
                        let reason = format!(
                            "Cannot reach the Kafka cluster at bootstrap.servers={servers}: {e}"
                        );
                        tracing::error!("{reason}; records are held until it answers");
                        *p = Some(reason);
                    }
                    (Err(e), true) => {
                        *p = Some(format!(
                            "Cannot reach the Kafka cluster at bootstrap.servers={servers}: {e}"
                        ))
                    }
                    (Ok(_), false) => {}
                }
            }
        });
        watch
    }

    /// Why the worker is unhealthy, if it is.
    pub fn problem(&self) -> Option<String> {
        self.problem.lock().clone()
    }
}
