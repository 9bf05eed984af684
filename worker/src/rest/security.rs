//! The REST API's protection as Kafka Connect configures it: HTTPS
//! listeners (`listeners=https://...` with `listeners.https.ssl.*`, else the
//! worker's `ssl.*`), `ssl.client.authentication` for mutual TLS, basic
//! authentication through `rest.extension.classes` and a JAAS
//! `PropertyFileLoginModule` file, and CORS
//! (`access.control.allow.origin`, `access.control.allow.methods`).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use broker_core::properties::Properties;
use broker_core::security::jaas;
use broker_core::security::tls::{self, Keys};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// Kafka Connect's basic-authentication REST extension.
pub const BASIC_AUTH_EXTENSION: &str =
    "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension";
/// The JAAS login module that reads `user: password` lines from `file`.
pub const PROPERTY_FILE_MODULE: &str =
    "org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule";
/// Kafka Connect's answer to a request without valid credentials.
pub const UNAUTHORIZED: &str = "User cannot access the resource.";

/// The `ssl.*` keys of the HTTPS listeners: `listeners.https.`-prefixed
/// ones when any is given (then only those, as Kafka Connect reads them),
/// else the worker's own. Connect's `ssl.client.authentication` is the
/// listener's `ssl.client.auth`.
struct RestKeys<'a> {
    props: &'a BTreeMap<String, String>,
    prefix: &'static str,
}

impl<'a> RestKeys<'a> {
    fn new(props: &'a BTreeMap<String, String>) -> Self {
        let prefixed = props.keys().any(|k| k.starts_with("listeners.https.ssl."));
        Self {
            props,
            prefix: if prefixed { "listeners.https." } else { "" },
        }
    }
}

impl Keys for RestKeys<'_> {
    fn get_raw(&self, key: &str) -> Option<(String, String)> {
        let key = if key == "ssl.client.auth" {
            "ssl.client.authentication"
        } else {
            key
        };
        let k = format!("{}{key}", self.prefix);
        let v = self.props.get(&k)?.clone();
        Some((k, v))
    }
}

/// Basic-authentication users.
pub struct BasicAuth {
    users: HashMap<String, String>,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuth")
            .field("users", &self.users.len())
            .finish()
    }
}

impl BasicAuth {
    /// The users of the `KafkaConnect` section of the JAAS file named in
    /// `kafka_opts`, when `rest.extension.classes` names the extension.
    pub fn from_worker(
        props: &BTreeMap<String, String>,
        kafka_opts: Option<&str>,
    ) -> anyhow::Result<Option<Self>> {
        let Some(classes) = props.get("rest.extension.classes") else {
            return Ok(None);
        };
        let mut wanted = false;
        for class in classes.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            if class == BASIC_AUTH_EXTENSION {
                wanted = true;
            } else {
                anyhow::bail!("rest.extension.classes: {class} is not available; Weir provides {BASIC_AUTH_EXTENSION}");
            }
        }
        if !wanted {
            return Ok(None);
        }
        let path = kafka_opts.and_then(jaas::file_from_kafka_opts).ok_or_else(|| {
            anyhow::anyhow!(
                "rest.extension.classes={BASIC_AUTH_EXTENSION} needs a JAAS file: set KAFKA_OPTS=-Djava.security.auth.login.config=/path/connect-jaas.conf with KafkaConnect {{ {PROPERTY_FILE_MODULE} required file=\"/path/users.properties\"; }};"
            )
        })?;
        let text = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("JAAS file {path} (KAFKA_OPTS): {e}"))?;
        let modules = jaas::parse_file_section(&text, "KafkaConnect")
            .map_err(|e| anyhow::anyhow!("{path}: {e}"))?
            .ok_or_else(|| anyhow::anyhow!("{path} has no KafkaConnect section"))?;
        let mut users = HashMap::new();
        for m in modules {
            if m.class != PROPERTY_FILE_MODULE {
                anyhow::bail!(
                    "{path}: login module {} is not available; use {PROPERTY_FILE_MODULE}",
                    m.class
                );
            }
            let file = m.option("file").ok_or_else(|| {
                anyhow::anyhow!("{path}: {PROPERTY_FILE_MODULE} needs file=\"...\"")
            })?;
            for e in Properties::load(std::path::Path::new(file))?.entries() {
                users.insert(e.key.clone(), e.value.clone());
            }
        }
        if users.is_empty() {
            tracing::warn!(
                "the REST API's credentials file has no users: every request is refused with 401"
            );
        }
        Ok(Some(Self { users }))
    }

    /// Whether an `Authorization: Basic ...` header names a known user with
    /// its password.
    pub fn allows(&self, authorization: Option<&str>) -> bool {
        let Some(value) = authorization else {
            return false;
        };
        let Some((scheme, token)) = value.trim().split_once(' ') else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return false;
        }
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(token.trim()) else {
            return false;
        };
        let text = String::from_utf8_lossy(&decoded);
        let Some((user, password)) = text.split_once(':') else {
            return false;
        };
        self.users.get(user).is_some_and(|p| {
            broker_core::security::scram::constant_time_eq(p.as_bytes(), password.as_bytes())
        })
    }
}

/// Internal requests between workers are signed rather than authenticated
/// (`POST /connectors/{c}/tasks`, `PUT /connectors/{c}/fence`).
fn internal(method: &Method, path: &str) -> bool {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    matches!(
        (method, parts.as_slice()),
        (&Method::POST, ["connectors", _, "tasks"]) | (&Method::PUT, ["connectors", _, "fence"])
    )
}

/// Refuses requests without valid credentials with Kafka Connect's 401.
pub async fn require_login(
    State(auth): State<Arc<BasicAuth>>,
    request: Request,
    next: Next,
) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if internal(request.method(), request.uri().path()) || auth.allows(given) {
        return next.run(request).await;
    }
    tracing::debug!(
        "{} {}: no valid credentials",
        request.method(),
        request.uri().path()
    );
    (StatusCode::UNAUTHORIZED, UNAUTHORIZED).into_response()
}

/// `access.control.allow.origin` and `access.control.allow.methods`.
#[derive(Debug, Clone)]
pub struct Cors {
    origins: Vec<String>,
    methods: String,
}

impl Cors {
    pub fn from_worker(props: &BTreeMap<String, String>) -> Option<Self> {
        let origins: Vec<String> = props
            .get("access.control.allow.origin")?
            .split(',')
            .map(|o| o.trim().to_string())
            .filter(|o| !o.is_empty())
            .collect();
        if origins.is_empty() {
            return None;
        }
        let methods = props
            .get("access.control.allow.methods")
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "GET,POST,HEAD".into());
        Some(Self { origins, methods })
    }

    fn allowed(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o == "*" || o == origin)
    }
}

/// Answers CORS preflights and marks answers to allowed origins.
pub async fn cors(State(cors): State<Arc<Cors>>, request: Request, next: Next) -> Response {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let Some(origin) = origin.filter(|o| cors.allowed(o)) else {
        return next.run(request).await;
    };
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    if preflight {
        if let Ok(v) = HeaderValue::from_str(&cors.methods) {
            h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, v);
        }
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("X-Requested-With,Content-Type,Accept,Origin,Authorization"),
        );
    }
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    response
}

/// The TLS side of the HTTPS listeners.
pub fn server_tls(props: &BTreeMap<String, String>) -> anyhow::Result<TlsAcceptor> {
    let cfg = tls::server_config(&RestKeys::new(props), "https").map_err(anyhow::Error::msg)?;
    Ok(TlsAcceptor::from(cfg))
}

static CLIENT_TLS: OnceLock<Arc<ClientConfig>> = OnceLock::new();

/// Sets how this worker checks other workers' HTTPS listeners (their
/// truststore); the first call wins.
pub fn set_client_tls(props: &BTreeMap<String, String>) -> anyhow::Result<()> {
    let cfg = tls::client_config(&RestKeys::new(props)).map_err(anyhow::Error::msg)?;
    let _ = CLIENT_TLS.set(cfg);
    Ok(())
}

/// The TLS configuration for `https://` worker URLs.
pub fn client_tls() -> anyhow::Result<Arc<ClientConfig>> {
    match CLIENT_TLS.get() {
        Some(c) => Ok(c.clone()),
        None => {
            Ok(tls::client_config(&RestKeys::new(&BTreeMap::new())).map_err(anyhow::Error::msg)?)
        }
    }
}

/// An HTTPS listener for axum: connections are accepted and their TLS
/// handshakes completed in the background, a slow client holding up no other.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

impl TlsListener {
    pub fn new(listener: TcpListener, acceptor: TlsAcceptor) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = match listener.accept().await {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!("REST accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let (acceptor, ready) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = ready.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!("REST TLS handshake with {peer} failed: {e}"),
                        Err(_) => tracing::debug!("REST TLS handshake with {peer} timed out"),
                    }
                });
                if tx.is_closed() {
                    return;
                }
            }
        });
        Ok(Self { ready, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(x) => x,
            // The accepting task ended: nothing will come any more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_checked_and_internal_requests_pass() {
        let auth = BasicAuth {
            users: [("alice".to_string(), "s:cret".to_string())].into(),
        };
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert!(auth.allows(Some(&format!("Basic {}", b64("alice:s:cret")))));
        assert!(auth.allows(Some(&format!("basic {}", b64("alice:s:cret")))));
        assert!(!auth.allows(Some(&format!("Basic {}", b64("alice:s:cre")))));
        assert!(!auth.allows(Some(&format!("Basic {}", b64("bob:s:cret")))));
        assert!(!auth.allows(Some("Bearer abc")));
        assert!(!auth.allows(Some("Basic !!!")));
        assert!(!auth.allows(None));
        assert!(internal(&Method::POST, "/connectors/c/tasks"));
        assert!(internal(&Method::PUT, "/connectors/c/fence"));
        assert!(!internal(&Method::GET, "/connectors/c/tasks"));
        assert!(!internal(&Method::POST, "/connectors"));
    }

    #[test]
    fn cors_origins() {
        let props: BTreeMap<String, String> = [(
            "access.control.allow.origin".to_string(),
            "https://ui.example, https://other.example".to_string(),
        )]
        .into();
        let c = Cors::from_worker(&props).expect("configured");
        assert!(c.allowed("https://ui.example"));
        assert!(!c.allowed("https://evil.example"));
        assert_eq!(c.methods, "GET,POST,HEAD");
        assert!(Cors::from_worker(&BTreeMap::new()).is_none());
    }
}
