//! The tokio edge: listeners, one task per connection, background maintenance,
//! start-up recovery and clean shutdown.

use std::collections::BTreeMap;
use std::fs::File;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::clock::now_ms;
use crate::config::{BrokerConfig, Endpoint};
use crate::flusher::Flusher;
use crate::group::service::GroupService;
use crate::group::GroupConfig;
use crate::handler::{dispatch, peek_api, Conn, Reply, ANONYMOUS};
use crate::security::{
    self, acl::Authorizer, sasl::Authenticator, sasl::Gate, scram::CredentialStore,
    ListenerSecurity,
};
use crate::state::{BrokerState, ProducerIds};
use crate::topics::{TopicRegistry, OFFSETS_TOPIC};

/// Why the broker could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("log directory {path}: {source}")]
    LogDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("log directory {0} is in use by another broker process")]
    Locked(String),
    /// The cause is part of the message (with what to change when the
    /// port is taken), not a separate source, so it is printed once.
    #[error("cannot listen on {addr} (listeners): {}", bind_hint(cause))]
    Bind { addr: String, cause: std::io::Error },
    /// A listener's TLS or SASL settings; the message names the key.
    #[error("{0}")]
    Security(String),
    #[error("loading topics: {0}")]
    Topics(#[from] crate::topics::TopicError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

fn bind_hint(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::AddrInUse {
        format!("{e}: another process (another broker?) holds this port; stop it or set listeners=PLAINTEXT://host:port with a free port")
    } else {
        e.to_string()
    }
}

/// A running broker; drop or [`RunningBroker::shutdown`] to stop it.
pub struct RunningBroker {
    state: Arc<BrokerState>,
    local_addrs: Vec<SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    _lock: File,
}

impl std::fmt::Debug for RunningBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningBroker")
            .field("local_addrs", &self.local_addrs)
            .finish_non_exhaustive()
    }
}

const CLEAN_MARKER: &str = "clean-shutdown";

fn base64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Reads or creates `meta.properties` (Kafka's file) and returns the cluster id.
fn cluster_id(log_dir: &Path, node_id: i32) -> std::io::Result<String> {
    let path = log_dir.join("meta.properties");
    if let Ok(p) = crate::properties::Properties::load(&path) {
        // A directory of another node is refused, as Kafka refuses it.
        if let Some(stored) = p.get("node.id").and_then(|n| n.trim().parse::<i32>().ok()) {
            if stored != node_id {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "Stored node id {stored} doesn't match previous node id {node_id} in {}. If you moved your data, make sure your configured node id matches. If you intend to create a new node, you should remove all data in your data directories.",
                        log_dir.display()
                    ),
                ));
            }
        }
        if let Some(id) = p.get("cluster.id") {
            return Ok(id.to_string());
        }
    }
    let id = base64url(uuid::Uuid::new_v4().as_bytes());
    std::fs::write(
        &path,
        format!("version=1\ncluster.id={id}\nnode.id={node_id}\n"),
    )?;
    Ok(id)
}

/// Binds every listener; each socket with the index of its listener.
async fn bind(config: &BrokerConfig) -> Result<Vec<(usize, TcpListener)>, StartError> {
    let mut out = Vec::new();
    for (index, l) in config.listeners.iter().enumerate() {
        if config.controller_listeners.contains(&l.name) {
            tracing::info!(
                "listener {} (controller.listener.names) is not opened: this single node has no KRaft controller quorum to serve",
                l.name
            );
            continue;
        }
        let hosts: Vec<&str> = match l.host.as_str() {
            "localhost" => vec!["127.0.0.1", "::1"],
            "" => vec!["0.0.0.0"],
            h => vec![h],
        };
        let mut port = l.port;
        for (i, h) in hosts.iter().enumerate() {
            let addr = if h.contains(':') {
                format!("[{h}]:{port}")
            } else {
                format!("{h}:{port}")
            };
            match TcpListener::bind(&addr).await {
                Ok(sock) => {
                    if port == 0 {
                        port = sock.local_addr()?.port();
                    }
                    out.push((index, sock));
                }
                // The IPv6 half of `localhost` is optional (hosts without IPv6).
                Err(e) if i > 0 => tracing::warn!("not listening on {addr}: {e}"),
                Err(cause) => return Err(StartError::Bind { addr, cause }),
            }
        }
    }
    Ok(out)
}

/// The address each listener advertises: its `advertised.listeners` entry
/// (port 0 meaning the bound port), else where it listens, with
/// `localhost` and wildcards as 127.0.0.1.
fn advertised(config: &BrokerConfig, bound: &[(usize, SocketAddr)]) -> Vec<Endpoint> {
    config
        .listeners
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let bound_port = bound
                .iter()
                .find(|(j, _)| *j == i)
                .map(|(_, a)| a.port())
                .unwrap_or(l.port);
            match config.advertised.iter().find(|a| a.name == l.name) {
                Some(a) => Endpoint {
                    port: if a.port == 0 { bound_port } else { a.port },
                    protocol: l.protocol,
                    ..a.clone()
                },
                None => {
                    let host = match l.host.as_str() {
                        "" | "0.0.0.0" | "::" | "localhost" => "127.0.0.1",
                        h => h,
                    };
                    Endpoint {
                        host: host.to_string(),
                        port: bound_port,
                        ..l.clone()
                    }
                }
            }
        })
        .collect()
}

impl RunningBroker {
    /// Recovers the log directory, binds the listeners and starts serving.
    pub async fn start(config: BrokerConfig) -> Result<Self, StartError> {
        let log_dir = config.log_dir.clone();
        let meta = log_dir.join(".weir");
        std::fs::create_dir_all(&meta).map_err(|source| StartError::LogDir {
            path: log_dir.display().to_string(),
            source,
        })?;
        let lock = File::create(meta.join("lock"))?;
        if lock.try_lock().is_err() {
            return Err(StartError::Locked(log_dir.display().to_string()));
        }
        let marker = meta.join(CLEAN_MARKER);
        let clean = marker.exists();
        if clean {
            std::fs::remove_file(&marker)?;
            File::open(&meta)?.sync_all()?;
        }
        let security = security::listeners(&config, std::env::var("KAFKA_OPTS").ok().as_deref())
            .map_err(StartError::Security)?;
        let listeners = bind(&config).await?;
        let bound: Vec<(usize, SocketAddr)> = listeners
            .iter()
            .filter_map(|(i, l)| Some((*i, l.local_addr().ok()?)))
            .collect();
        let local_addrs: Vec<SocketAddr> = bound.iter().map(|(_, a)| *a).collect();
        let advertised = advertised(&config, &bound);
        let state = open_state(config, advertised, clean)?;
        let groups = state.groups.clone();
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let limits = Arc::new(ConnLimits::default());
        for (index, l) in listeners {
            let sec = Arc::new(security[index].clone());
            tasks.spawn(accept_loop(
                state.clone(),
                l,
                index,
                sec,
                limits.clone(),
                stop_rx.clone(),
            ));
        }
        tasks.spawn(groups.run_timers(stop_rx.clone()));
        tasks.spawn(maintenance(state.clone(), stop_rx.clone()));
        tracing::info!(
            "broker {} listening on {} (advertised as {}), cluster id {}",
            state.node_id(),
            bound
                .iter()
                .map(|(i, a)| format!("{}://{a}", security[*i].endpoint.name))
                .collect::<Vec<_>>()
                .join(", "),
            state
                .advertised
                .iter()
                .map(|e| format!("{}://{}:{} ({})", e.name, e.host, e.port, e.protocol.name()))
                .collect::<Vec<_>>()
                .join(", "),
            state.cluster_id
        );
        Ok(Self {
            state,
            local_addrs,
            stop,
            tasks,
            _lock: lock,
        })
    }

    /// `host:port` clients should bootstrap from (the first listener).
    pub fn bootstrap(&self) -> String {
        let e = self.state.endpoint(0);
        format!("{}:{}", e.host, e.port)
    }

    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// Stops accepting, closes connections, flushes every log and marks the
    /// shutdown clean.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
        let state = self.state.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            for t in state.topics.all() {
                for p in t.partitions() {
                    p.log.lock().sync_all()?;
                }
            }
            let meta = state.topics.log_dir().join(".weir");
            let marker = meta.join(CLEAN_MARKER);
            std::fs::write(&marker, format!("{}\n", now_ms()))?;
            File::open(&marker)?.sync_all()?;
            File::open(&meta)?.sync_all()?;
            Ok(())
        })
        .await
        .map_err(std::io::Error::other)??;
        tracing::info!("broker stopped cleanly");
        Ok(())
    }
}

/// Recovers the log directory and builds the shared state (no sockets).
pub(crate) fn open_state(
    config: BrokerConfig,
    advertised: Vec<Endpoint>,
    clean: bool,
) -> Result<Arc<BrokerState>, StartError> {
    let log_dir = config.log_dir.clone();
    let meta = log_dir.join(".weir");
    let cluster_id = cluster_id(&log_dir, config.node_id)?;
    let (topics, report) = TopicRegistry::load(&log_dir, config.topic_defaults.clone(), clean)?;
    for line in &report.truncated {
        tracing::warn!("recovery: {line}");
    }
    tracing::info!(
        "loaded {} topic(s), {} partition(s) from {} ({})",
        report.topics,
        report.partitions,
        log_dir.display(),
        if clean {
            "after a clean shutdown"
        } else if report.partitions > 0 {
            "after an unclean shutdown: every segment was CRC-checked"
        } else {
            "new log directory"
        }
    );
    let topics = Arc::new(topics);
    let offsets_topic = match topics.get(OFFSETS_TOPIC) {
        Some(t) => t,
        None => {
            let mut o = BTreeMap::new();
            o.insert("cleanup.policy".to_string(), "compact".to_string());
            o.insert("segment.bytes".to_string(), "104857600".to_string());
            o.insert("compression.type".to_string(), "producer".to_string());
            topics.create(OFFSETS_TOPIC, config.offsets_topic_num_partitions, o, true)?
        }
    };
    let flusher = Flusher::start()?;
    let groups = Arc::new(GroupService::load(
        offsets_topic,
        flusher.clone(),
        GroupConfig {
            min_session_timeout_ms: config.group_min_session_timeout_ms,
            max_session_timeout_ms: config.group_max_session_timeout_ms,
            initial_rebalance_delay_ms: config.group_initial_rebalance_delay_ms,
            empty_group_retention_ms: config.offsets_retention_check_interval_ms,
            ..GroupConfig::default()
        },
    )?);
    let producer_ids = ProducerIds::load(meta.join("producer-id-block"))?;
    let scram = Arc::new(CredentialStore::load(meta.join("scram-credentials"))?);
    let acls = if config.authorizer.enabled {
        Authorizer::load(config.authorizer.clone(), meta.join("acls"))?
    } else {
        Authorizer::in_memory(config.authorizer.clone())
    };
    let (data_version, _) = watch::channel(0u64);
    let state = Arc::new(BrokerState {
        config,
        cluster_id,
        advertised,
        topics,
        flusher,
        groups,
        producer_ids,
        data_version,
        scram,
        acls,
    });
    Ok(state)
}

/// `max.connections` and `max.connections.per.ip`: a connection over a
/// limit is closed as soon as it is accepted.
#[derive(Debug, Default)]
struct ConnLimits {
    open: parking_lot::Mutex<(usize, std::collections::HashMap<std::net::IpAddr, usize>)>,
}

/// One counted connection; uncounted when dropped.
struct ConnSlot {
    limits: Arc<ConnLimits>,
    ip: std::net::IpAddr,
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        let mut open = self.limits.open.lock();
        open.0 = open.0.saturating_sub(1);
        if let Some(n) = open.1.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.1.remove(&self.ip);
            }
        }
    }
}

impl ConnLimits {
    /// A slot for a connection from `ip`, or why it is refused.
    fn admit(
        self: &Arc<Self>,
        cfg: &BrokerConfig,
        ip: std::net::IpAddr,
    ) -> Result<ConnSlot, String> {
        let mut open = self.open.lock();
        if let Some(max) = cfg.max_connections {
            if open.0 >= max {
                return Err(format!("{max} connections are open (max.connections)"));
            }
        }
        let per_ip = cfg
            .max_connections_per_ip_overrides
            .iter()
            .find(|(h, _)| h.parse::<std::net::IpAddr>().is_ok_and(|a| a == ip))
            .map(|(_, n)| *n)
            .or(cfg.max_connections_per_ip);
        let from_ip = open.1.get(&ip).copied().unwrap_or(0);
        if let Some(max) = per_ip {
            if from_ip >= max {
                return Err(format!(
                    "{max} connections from {ip} are open (max.connections.per.ip)"
                ));
            }
        }
        open.0 += 1;
        open.1.insert(ip, from_ip + 1);
        Ok(ConnSlot {
            limits: self.clone(),
            ip,
        })
    }
}

/// How long a client may take over its TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

async fn accept_loop(
    st: Arc<BrokerState>,
    listener: TcpListener,
    index: usize,
    sec: Arc<ListenerSecurity>,
    limits: Arc<ConnLimits>,
    mut stop: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => match limits.admit(&st.config, peer.ip()) {
                    Ok(slot) => {
                        let (st, sec) = (st.clone(), sec.clone());
                        conns.spawn(async move {
                            open(st, stream, peer, index, sec).await;
                            drop(slot);
                        });
                    }
                    Err(why) => {
                        tracing::info!("refusing a connection from {peer}: {why}");
                        drop(stream);
                    }
                },
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            _ = stop.changed() => break,
        }
    }
    conns.shutdown().await;
}

/// Completes a connection's TLS handshake when its listener asks for one,
/// then serves it.
async fn open(
    st: Arc<BrokerState>,
    stream: TcpStream,
    peer: SocketAddr,
    index: usize,
    sec: Arc<ListenerSecurity>,
) {
    let _ = stream.set_nodelay(true);
    let auth = sec
        .sasl
        .as_ref()
        .map(|s| Authenticator::new(s.clone(), st.scram.clone()));
    let conn = Conn {
        host: format!("/{}", security::java_host_address(peer.ip())),
        listener: index,
        principal: ANONYMOUS.to_string(),
    };
    match &sec.tls {
        None => {
            let (rd, wr) = stream.into_split();
            serve(st, rd, wr, peer, conn, auth).await
        }
        Some(acceptor) => {
            match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let mut conn = conn;
                    if let Some(mapper) = &sec.certificate_principal {
                        let cert = tls.get_ref().1.peer_certificates().and_then(|c| c.first());
                        if let Some(cert) = cert {
                            match security::principal::subject_rfc2253(cert)
                                .and_then(|dn| mapper.map(&dn))
                            {
                                Ok(name) => conn.principal = format!("User:{name}"),
                                Err(e) => {
                                    tracing::info!(
                                        "closing connection from {peer}: its certificate names no principal: {e}"
                                    );
                                    return;
                                }
                            }
                        }
                    }
                    let (rd, wr) = tokio::io::split(tls);
                    serve(st, rd, wr, peer, conn, auth).await
                }
                Ok(Err(e)) => tracing::info!(
                    "TLS handshake with {peer} on listener {} failed: {e}",
                    sec.endpoint.name
                ),
                Err(_) => tracing::info!(
                    "TLS handshake with {peer} on listener {} did not complete within {TLS_HANDSHAKE_TIMEOUT:?}",
                    sec.endpoint.name
                ),
            }
        }
    }
}

fn client_id_of(frame: &Bytes) -> String {
    let mut f = frame.clone();
    kafka_protocol::protocol::decode_request_header_from_buffer(&mut f)
        .ok()
        .and_then(|h| h.client_id.map(|c| c.to_string()))
        .unwrap_or_default()
}

/// How long a connection on a SASL listener may stay silent before it has
/// authenticated.
const UNAUTHENTICATED_IDLE: Duration = Duration::from_secs(30);

/// Kafka's `connection.failed.authentication.delay.ms` default: a client
/// whose authentication failed waits this long before its connection closes.
const FAILED_AUTHENTICATION_DELAY: Duration = Duration::from_millis(100);

async fn serve<R, W>(
    st: Arc<BrokerState>,
    rd: R,
    wr: W,
    peer: SocketAddr,
    mut conn: Conn,
    mut auth: Option<Authenticator>,
) where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let max = st.config.socket_request_max_bytes;
    let (tx, mut rx) = mpsc::channel::<Reply>(256);
    let writer = tokio::spawn(async move {
        let mut w = BufWriter::with_capacity(64 * 1024, wr);
        // Responses are written in request order and batched into few writes,
        // but the buffer is flushed before the writer waits on anything, so an
        // answer never sits behind a pending fsync or an idle socket.
        loop {
            let reply = match rx.try_recv() {
                Ok(r) => r,
                Err(mpsc::error::TryRecvError::Empty) => {
                    if w.flush().await.is_err() {
                        break;
                    }
                    match rx.recv().await {
                        Some(r) => r,
                        None => break,
                    }
                }
                Err(mpsc::error::TryRecvError::Disconnected) => break,
            };
            let encoded = match reply {
                Reply::Now(b) => Ok(b),
                Reply::Later(mut f) => {
                    tokio::select! {
                        biased;
                        r = &mut f => r,
                        _ = std::future::ready(()) => {
                            if w.flush().await.is_err() {
                                break;
                            }
                            f.await
                        }
                    }
                }
                Reply::Nothing => continue,
            };
            let bytes = match encoded {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!("closing connection from {peer}: cannot encode a response: {e}");
                    break;
                }
            };
            if w.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = w.flush().await;
        let _ = w.shutdown().await;
    });
    let mut rd = BufReader::with_capacity(64 * 1024, rd);
    let configured_idle = st
        .config
        .connections_max_idle_ms
        .map(|ms| Duration::from_millis(ms.max(1)));
    loop {
        // A client that has not authenticated must keep at it.
        let pending_auth = auth.as_ref().is_some_and(|a| a.principal().is_none());
        let idle = match (configured_idle, pending_auth) {
            (Some(d), true) => Some(d.min(UNAUTHENTICATED_IDLE)),
            (None, true) => Some(UNAUTHENTICATED_IDLE),
            (d, false) => d,
        };
        let read = rd.read_i32();
        let size = match idle {
            None => read.await.ok(),
            Some(d) => match tokio::time::timeout(d, read).await {
                Ok(r) => r.ok(),
                Err(_) => {
                    tracing::info!(
                        "closing connection from {peer}: silent for {d:?}{}",
                        if pending_auth {
                            " before authenticating"
                        } else {
                            " (connections.max.idle.ms)"
                        }
                    );
                    None
                }
            },
        };
        let Some(size) = size else {
            break;
        };
        let limit = auth.as_ref().map_or(max, |a| a.max_frame(max));
        let least = if auth.is_some() { 0 } else { 8 };
        if size < least || size as usize > limit {
            tracing::warn!(
                "closing connection from {peer}: request size {size} is outside {least}..={limit} ({})",
                if limit < max { "sasl.server.max.receive.size before authentication" } else { "socket.request.max.bytes" }
            );
            break;
        }
        let mut buf = BytesMut::zeroed(size as usize);
        if rd.read_exact(&mut buf).await.is_err() {
            break;
        }
        let frame = buf.freeze();
        if let Some(a) = auth.as_mut() {
            match a.on_frame(&frame) {
                Gate::Dispatch => {}
                Gate::Answer(b) => {
                    if let Some(p) = a.principal() {
                        conn.principal = p.to_string();
                    }
                    if tx.send(Reply::Now(b)).await.is_err() {
                        break;
                    }
                    continue;
                }
                Gate::AnswerAndClose(b, reason) => {
                    tracing::info!("authentication of {peer} failed: {reason}");
                    // The answer goes out now; the close waits, as Kafka's does.
                    let _ = tx.send(Reply::Now(b)).await;
                    tokio::time::sleep(FAILED_AUTHENTICATION_DELAY).await;
                    break;
                }
                Gate::Close(reason) => {
                    tracing::info!("closing connection from {peer}: {reason}");
                    break;
                }
            }
        }
        match dispatch(&st, &conn, frame.clone()).await {
            Ok(reply) => {
                if tx.send(reply).await.is_err() {
                    break;
                }
            }
            Err(e) => {
                let api = peek_api(&frame)
                    .map(|(k, v)| format!("api key {k} v{v}"))
                    .unwrap_or_default();
                tracing::warn!(
                    "closing connection from {peer} (client id {:?}, {api}): {e}",
                    client_id_of(&frame)
                );
                break;
            }
        }
    }
    drop(tx);
    let _ = writer.await;
}

/// Retention, compaction and time-based flushes.
async fn maintenance(st: Arc<BrokerState>, mut stop: watch::Receiver<bool>) {
    let period = st
        .config
        .retention_check_interval_ms
        .min(st.config.cleaner_backoff_ms)
        .max(100);
    let mut interval = tokio::time::interval(Duration::from_millis(period));
    interval.tick().await;
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => return,
        }
        let st2 = st.clone();
        let _ = tokio::task::spawn_blocking(move || maintain_once(&st2)).await;
    }
}

/// One maintenance pass over every partition.
pub(crate) fn maintain_once(st: &BrokerState) {
    let now = now_ms();
    for t in st.topics.all() {
        for p in t.partitions() {
            let mut log = p.log.lock();
            match log.apply_retention(now) {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    "retention deleted {n} segment(s) of {}-{}; log start offset is now {}",
                    p.topic,
                    p.index,
                    log.log_start_offset()
                ),
                Err(e) => tracing::error!("retention on {}-{} failed: {e}", p.topic, p.index),
            }
            if log.compaction_due(now) {
                match log.compact(now) {
                    Ok(stats) => tracing::info!(
                        "compacted {}-{}: {} segment(s), {} record(s) removed, {} -> {} bytes",
                        p.topic,
                        p.index,
                        stats.segments,
                        stats.records_removed,
                        stats.bytes_before,
                        stats.bytes_after
                    ),
                    Err(e) => tracing::error!("compaction of {}-{} failed: {e}", p.topic, p.index),
                }
            }
            if log.flush_due(now) {
                drop(log);
                st.flusher.flush_later(p.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::cluster_id;

    #[test]
    fn meta_properties_keep_the_cluster_id_and_refuse_another_node() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = cluster_id(dir.path(), 1).expect("created");
        assert_eq!(cluster_id(dir.path(), 1).expect("read again"), first);
        std::fs::write(
            dir.path().join("meta.properties"),
            "cluster.id=AAAAAAAAAAAAAAAAAAAAAA\nnode.id=1\nversion=1\n",
        )
        .expect("write");
        assert_eq!(
            cluster_id(dir.path(), 1).expect("formatted"),
            "AAAAAAAAAAAAAAAAAAAAAA"
        );
        let e = cluster_id(dir.path(), 2).expect_err("another node");
        assert!(
            e.to_string()
                .starts_with("Stored node id 1 doesn't match previous node id 2 in "),
            "{e}"
        );
    }
}
