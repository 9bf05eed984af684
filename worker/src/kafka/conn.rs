//! One connection to one Kafka broker: framing, version negotiation and typed
//! request/response exchange over the kafka-protocol codec.

use std::collections::HashMap;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::ResponseHeader;
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, ApiVersionsResponse, RequestHeader};
use kafka_protocol::messages::{
    SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::security::{default_security, ClientSecurity, SaslLogin};
use broker_core::security::scram::{Mechanism, ScramClient};

/// A plaintext or TLS byte stream to a broker.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Largest response frame accepted (Kafka's default `socket.request.max.bytes` is
/// 100 MiB; a fetch answer can be as large as `fetch.max.bytes`).
const MAX_RESPONSE_BYTES: usize = 256 * 1024 * 1024;

/// Errors of the protocol client, each naming the broker it concerns.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("could not connect to the broker at {addr}: {reason}")]
    Connect { addr: String, reason: String },
    #[error("connection to {addr} failed: {source}")]
    Io {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("broker {addr} sent a response that could not be decoded: {reason}")]
    Decode { addr: String, reason: String },
    #[error("broker {addr} does not support {api:?} (client needs version {min}..={max})")]
    Unsupported {
        addr: String,
        api: ApiKey,
        min: i16,
        max: i16,
    },
    #[error("authentication with the broker at {addr} failed: {reason}")]
    Auth { addr: String, reason: String },
    #[error("broker {addr} did not answer {api:?} within {timeout:?}")]
    Timeout {
        addr: String,
        api: ApiKey,
        timeout: Duration,
    },
}

/// A connection that has negotiated API versions with its broker.
pub struct Connection {
    addr: String,
    client_id: StrBytes,
    stream: BufReader<Box<dyn Io>>,
    correlation: i32,
    /// When the SASL session must be renewed (KIP-368), with the login.
    reauth: Option<(std::time::Instant, SaslLogin)>,
    versions: HashMap<i16, (i16, i16)>,
    request_timeout: Duration,
}

impl Connection {
    /// Connects to `addr` (`host:port`) within `timeout`, with the
    /// process's client security (TLS, SASL), and asks for the broker's
    /// API versions.
    pub async fn connect(
        addr: &str,
        client_id: &str,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        Self::connect_with(addr, client_id, timeout, &default_security()).await
    }

    /// [`Connection::connect`] with explicit security settings.
    pub async fn connect_with(
        addr: &str,
        client_id: &str,
        timeout: Duration,
        security: &ClientSecurity,
    ) -> Result<Self, ClientError> {
        let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| ClientError::Connect {
                addr: addr.to_string(),
                reason: format!("no answer within {timeout:?}"),
            })?
            .map_err(|e| ClientError::Connect {
                addr: addr.to_string(),
                reason: e.to_string(),
            })?;
        let _ = stream.set_nodelay(true);
        let stream: Box<dyn Io> = match &security.tls {
            None => Box::new(stream),
            Some(cfg) => {
                let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
                let host = host.trim_start_matches('[').trim_end_matches(']');
                let name =
                    rustls_pki_types::ServerName::try_from(host.to_string()).map_err(|e| {
                        ClientError::Connect {
                            addr: addr.to_string(),
                            reason: format!("{host} is not a valid TLS server name: {e}"),
                        }
                    })?;
                let connector = tokio_rustls::TlsConnector::from(cfg.clone());
                let tls = tokio::time::timeout(timeout, connector.connect(name, stream))
                    .await
                    .map_err(|_| ClientError::Connect {
                        addr: addr.to_string(),
                        reason: format!("TLS handshake did not complete within {timeout:?}"),
                    })?
                    .map_err(|e| ClientError::Connect {
                        addr: addr.to_string(),
                        reason: format!("TLS handshake failed: {e}"),
                    })?;
                Box::new(tls)
            }
        };
        let mut conn = Self {
            addr: addr.to_string(),
            client_id: StrBytes::from_string(client_id.to_string()),
            stream: BufReader::new(stream),
            correlation: 0,
            reauth: None,
            versions: HashMap::new(),
            request_timeout: timeout.max(Duration::from_secs(30)),
        };
        conn.negotiate().await?;
        if let Some(login) = &security.sasl {
            conn.authenticate(login).await?;
        }
        Ok(conn)
    }

    /// SaslHandshake v1, then SaslAuthenticate rounds of PLAIN or SCRAM.
    async fn authenticate(&mut self, login: &SaslLogin) -> Result<(), ClientError> {
        let addr = self.addr.clone();
        let fail = |reason: String| ClientError::Auth {
            addr: addr.clone(),
            reason,
        };
        let hs = SaslHandshakeRequest::default()
            .with_mechanism(StrBytes::from_string(login.mechanism.clone()));
        let resp = self.exchange(&hs, 1).await?;
        if resp.error_code != 0 {
            let offered: Vec<String> = resp.mechanisms.iter().map(|m| m.to_string()).collect();
            return Err(fail(format!(
                "the broker does not offer {} (it offers: {})",
                login.mechanism,
                offered.join(", ")
            )));
        }
        let session_ms = match Mechanism::from_name(&login.mechanism) {
            None => {
                let token = format!("\0{}\0{}", login.username, login.password);
                self.sasl_round(token.into_bytes())
                    .await?
                    .session_lifetime_ms
            }
            Some(m) => {
                let mut scram = ScramClient::new(m, &login.username, &login.password);
                let first = self.sasl_round(scram.first()).await?;
                let last = scram.answer(&first.auth_bytes).map_err(fail)?;
                let done = self.sasl_round(last).await?;
                scram.verify(&done.auth_bytes).map_err(fail)?;
                done.session_lifetime_ms
            }
        };
        // Renew well before the broker's deadline (KIP-368).
        self.reauth = (session_ms > 0).then(|| {
            let ms = (session_ms as u64).saturating_mul(8) / 10;
            (
                std::time::Instant::now() + Duration::from_millis(ms),
                login.clone(),
            )
        });
        Ok(())
    }

    async fn sasl_round(
        &mut self,
        token: Vec<u8>,
    ) -> Result<SaslAuthenticateResponse, ClientError> {
        let req = SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from(token));
        let v = self.version_for::<SaslAuthenticateRequest>(2)?;
        let resp = self.exchange(&req, v).await?;
        if resp.error_code != 0 {
            return Err(ClientError::Auth {
                addr: self.addr.clone(),
                reason: resp
                    .error_message
                    .as_deref()
                    .unwrap_or("SASL authentication failed")
                    .to_string(),
            });
        }
        Ok(resp)
    }

    /// How long a request may take before it fails with `Timeout` (a
    /// JoinGroup waits for the whole group, up to its rebalance timeout).
    pub fn set_request_timeout(&mut self, timeout: Duration) {
        self.request_timeout = timeout;
    }

    /// The `host:port` this connection goes to.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The broker's advertised (min, max) version for every API key it serves.
    pub fn api_versions(&self) -> &HashMap<i16, (i16, i16)> {
        &self.versions
    }

    async fn negotiate(&mut self) -> Result<(), ClientError> {
        let request = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("weir"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        // v3 first; a broker that only knows older versions answers with a v0 body
        // and UNSUPPORTED_VERSION (KIP-511), then v0 is used.
        // A broker that only knows older versions answers with a v0 body and
        // UNSUPPORTED_VERSION (KIP-511), which may not even decode as v3.
        let response: ApiVersionsResponse = match self.exchange(&request, 3).await {
            Ok(r) if r.error_code != 35 => r,
            Ok(_) | Err(ClientError::Decode { .. }) => {
                self.exchange(&ApiVersionsRequest::default(), 0).await?
            }
            Err(e) => return Err(e),
        };
        let keys: &[ApiVersion] = &response.api_keys;
        self.versions = keys
            .iter()
            .map(|k| (k.api_key, (k.min_version, k.max_version)))
            .collect();
        Ok(())
    }

    /// The version to use for `R`: the highest one both sides know, at most `cap`.
    pub fn version_for<R: Request>(&self, cap: i16) -> Result<i16, ClientError> {
        let ours = R::VERSIONS;
        let unsupported = || ClientError::Unsupported {
            addr: self.addr.clone(),
            api: ApiKey::try_from(R::KEY).unwrap_or(ApiKey::ApiVersions),
            min: ours.min,
            max: ours.max.min(cap),
        };
        let (lo, hi) = *self.versions.get(&R::KEY).ok_or_else(unsupported)?;
        let v = hi.min(ours.max).min(cap);
        if v < lo.max(ours.min) {
            return Err(unsupported());
        }
        Ok(v)
    }

    /// Sends `request` at the best version up to `cap` and returns the answer.
    pub async fn send<R: Request>(
        &mut self,
        request: &R,
        cap: i16,
    ) -> Result<R::Response, ClientError> {
        if let Some((at, login)) = self.reauth.clone() {
            if std::time::Instant::now() >= at {
                self.authenticate(&login).await?;
            }
        }
        let version = self.version_for::<R>(cap)?;
        self.exchange(request, version).await
    }

    async fn exchange<R: Request>(
        &mut self,
        request: &R,
        version: i16,
    ) -> Result<R::Response, ClientError> {
        let api = ApiKey::try_from(R::KEY).unwrap_or(ApiKey::ApiVersions);
        let timeout = self.request_timeout;
        match tokio::time::timeout(timeout, self.exchange_inner(request, version)).await {
            Ok(r) => r,
            Err(_) => Err(ClientError::Timeout {
                addr: self.addr.clone(),
                api,
                timeout,
            }),
        }
    }

    async fn exchange_inner<R: Request>(
        &mut self,
        request: &R,
        version: i16,
    ) -> Result<R::Response, ClientError> {
        self.correlation = self.correlation.wrapping_add(1);
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation)
            .with_client_id(Some(self.client_id.clone()));
        let frame = self.encode(&header, request, version)?;
        let io = |source| ClientError::Io {
            addr: self.addr.clone(),
            source,
        };
        self.stream.get_mut().write_all(&frame).await.map_err(io)?;
        let len = self.stream.read_i32().await.map_err(io)?;
        let len = usize::try_from(len)
            .ok()
            .filter(|l| *l <= MAX_RESPONSE_BYTES)
            .ok_or_else(|| self.decode_error(format!("frame length {len}")))?;
        let mut buf = vec![0u8; len];
        self.stream.read_exact(&mut buf).await.map_err(io)?;
        let mut body = Bytes::from(buf);
        // ApiVersions answers always carry a v0 header.
        let header_version = if R::KEY == ApiKey::ApiVersions as i16 {
            0
        } else {
            R::Response::header_version(version)
        };
        let header = ResponseHeader::decode(&mut body, header_version)
            .map_err(|e| self.decode_error(e.to_string()))?;
        if header.correlation_id != self.correlation {
            return Err(self.decode_error(format!(
                "correlation id {} where {} was expected",
                header.correlation_id, self.correlation
            )));
        }
        let response = R::Response::decode(&mut body, version)
            .map_err(|e| self.decode_error(format!("{api:?} v{version}: {e}", api = R::KEY)))?;
        if body.has_remaining() {
            tracing::debug!(addr = %self.addr, left = body.remaining(), "trailing bytes in response");
        }
        Ok(response)
    }

    fn encode<R: Request>(
        &self,
        header: &RequestHeader,
        request: &R,
        version: i16,
    ) -> Result<BytesMut, ClientError> {
        let header_version = R::header_version(version);
        let err = |e: anyhow::Error| self.decode_error(format!("encoding request: {e}"));
        let size = header.compute_size(header_version).map_err(err)?
            + request.compute_size(version).map_err(err)?;
        let mut frame = BytesMut::with_capacity(size + 4);
        frame.put_i32(i32::try_from(size).unwrap_or(i32::MAX));
        header.encode(&mut frame, header_version).map_err(err)?;
        request.encode(&mut frame, version).map_err(err)?;
        Ok(frame)
    }

    fn decode_error(&self, reason: String) -> ClientError {
        ClientError::Decode {
            addr: self.addr.clone(),
            reason,
        }
    }
}
