//! `weir distributed worker.properties`: one worker of a Connect cluster
//! (like connect-distributed.sh). Settings come from the file and from
//! Confluent-style `CONNECT_*` environment variables (which win).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use crate::distributed::config::{from_env, DistributedSettings};
use crate::distributed::herder::{DistributedHerder, Logs};
use crate::distributed::topics::{ensure, log_writer, OffsetTopic, TopicLog};
use crate::kafka::admin::Cluster;
use crate::preflight::{self, Mode};
use crate::runtime::config::WorkerSettings;
use crate::runtime::metrics::WorkerMetrics;
use crate::runtime::{Herder, TaskSpawner};
use crate::store::OffsetStore;

#[derive(Debug, Args)]
pub struct DistributedArgs {
    /// The worker config (connect-distributed.properties); optional when
    /// CONNECT_* environment variables give the settings.
    pub worker: Option<PathBuf>,
}

pub fn run(args: DistributedArgs) -> anyhow::Result<()> {
    let (mut settings, mut problems) = match &args.worker {
        Some(path) => preflight::check_worker_file(path, Mode::Distributed),
        None => Default::default(),
    };
    let file = args
        .worker
        .as_ref()
        .map_or("the environment".to_string(), |p| p.display().to_string());
    // CONNECT_* variables win over the file; their keys have no line.
    let env = from_env(std::env::vars());
    if !env.is_empty() {
        for k in env.keys() {
            settings.lines.remove(k);
        }
        settings.props.extend(env);
        // File-level problems (unreadable, unparsable) stay; the rest are
        // found again on the merged settings.
        problems.retain(|p| p.key.is_none());
        preflight::check_worker(&file, &settings, Mode::Distributed, &mut problems);
    }
    preflight::report(&problems)?;
    let props: BTreeMap<String, String> = settings.props;
    let listener = props
        .get("listeners")
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:8083".into());
    // Other workers reach this one on the listener of
    // `rest.advertised.listener`'s protocol, else on the first.
    let wanted = props
        .get("rest.advertised.listener")
        .map(|p| p.trim().to_ascii_lowercase());
    let listener = listener
        .split(',')
        .map(str::trim)
        .find(|l| {
            wanted
                .as_ref()
                .is_none_or(|w| l.starts_with(&format!("{w}://")))
        })
        .unwrap_or(listener.as_str())
        .to_string();
    let scheme = listener.split_once("://").map_or("http", |(s, _)| s);
    let bind = crate::rest::bind_addr(&listener);
    let settings = DistributedSettings::from_props(&props, &format!("{scheme}://{bind}/"))
        .map_err(|e| anyhow::anyhow!(e))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("weir-worker")
        .build()?;
    rt.block_on(async move {
        let boot = settings.bootstrap_servers.clone();
        let servers = crate::kafka::split_servers(&boot);
        crate::kafka::security::init_worker(&props)?;
        preflight::reach_brokers(&boot, Mode::Distributed).await?;
        let mut cluster =
            Cluster::connect(&servers, "weir-worker-admin", Duration::from_secs(10)).await?;
        for t in [
            &settings.config_topic,
            &settings.offset_topic,
            &settings.status_topic,
        ] {
            ensure(&mut cluster, t).await?;
        }
        let group = settings.member.group.clone();
        let log_producer = log_writer(&boot, &group)?;
        let offsets_reader = TopicLog::open(
            &boot,
            &settings.offset_topic.name,
            &format!("{group}-offsets"),
            log_producer.clone(),
        )?;
        let mut records = Vec::new();
        let reader = Arc::new(offsets_reader);
        let r = reader.clone();
        let records = tokio::task::spawn_blocking(move || {
            r.read_to_end(Duration::from_secs(30), |rec| {
                records.push((rec.key, rec.value))
            })
            .map(|()| records)
        })
        .await??;
        let writer = OffsetTopic::open(&boot, &settings.offset_topic.name, &group)?;
        let offsets = Arc::new(OffsetStore::over_log(Arc::new(writer), records));
        // Statuses name the worker as others reach it: the advertised host:port.
        let worker_id = settings
            .advertised_url
            .split_once("://")
            .map_or(settings.advertised_url.as_str(), |(_, rest)| rest)
            .trim_end_matches('/')
            .to_string();
        let worker = WorkerSettings::from_props(props.clone(), boot.clone(), worker_id)?;
        let spawner = TaskSpawner {
            settings: Arc::new(worker),
            offsets,
            counts: Arc::new(WorkerMetrics::default()),
        };
        let logs = Logs {
            config: TopicLog::open(
                &boot,
                &settings.config_topic.name,
                &format!("{group}-configs"),
                log_producer.clone(),
            )?,
            status: TopicLog::open(
                &boot,
                &settings.status_topic.name,
                &format!("{group}-statuses"),
                log_producer,
            )?,
            offsets: Arc::try_unwrap(reader)
                .map_err(|_| anyhow::anyhow!("offsets reader still shared"))?,
        };
        tracing::info!(
            "worker {} joins group {} on {boot} (configs in {}, offsets in {}, statuses in {})",
            settings.advertised_url,
            group,
            settings.config_topic.name,
            settings.offset_topic.name,
            settings.status_topic.name
        );
        let herder = DistributedHerder::new(settings, spawner, logs);
        let watch = Some(crate::runtime::health::BrokerWatch::spawn(boot.clone()));
        let context = crate::rest::ServerContext {
            watch,
            cluster_id: crate::kafka::cluster_id(&boot, Duration::from_secs(10)).await,
        };
        let rest = crate::rest::serve(&props, herder.clone() as Arc<dyn Herder>, context).await?;
        let running = tokio::spawn(herder.clone().run());
        super::broker::wait_for_signal().await?;
        tracing::info!("stopping connectors and leaving the group");
        herder.stop_all();
        let _ = tokio::time::timeout(Duration::from_secs(30), running).await;
        rest.abort();
        anyhow::Ok(())
    })
}
