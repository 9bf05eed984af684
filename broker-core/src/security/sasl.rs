//! The SASL state of one connection on a SASL listener, as Kafka's broker
//! keeps it: before authentication only ApiVersions, SaslHandshake and
//! SaslAuthenticate are answered (or, after a v0 handshake, raw tokens);
//! a failure is answered with Kafka's error and the connection closed;
//! `connections.max.reauth.ms` bounds a session, which the client renews
//! by authenticating again on the same connection (KIP-368).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiKey, SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest,
    SaslHandshakeResponse,
};
use kafka_protocol::protocol::{decode_request_header_from_buffer, Decodable, StrBytes};

use super::scram::{CredentialStore, Mechanism, ScramServer, ServerStep};
use crate::error_code::{
    ILLEGAL_SASL_STATE, NONE, SASL_AUTHENTICATION_FAILED, UNSUPPORTED_SASL_MECHANISM,
};
use crate::protocol::encode_response;

/// Kafka's `sasl.server.max.receive.size` default: the largest frame a
/// client may send before it has authenticated.
pub const MAX_RECEIVE_BEFORE_AUTH: usize = 524_288;

/// A listener's SASL settings.
#[derive(Clone, Default)]
pub struct SaslSettings {
    /// Enabled mechanisms (`sasl.enabled.mechanisms`), upper case.
    pub mechanisms: Vec<String>,
    /// PLAIN users from the listener's JAAS `user_NAME="password"` options.
    pub plain_users: HashMap<String, String>,
    /// `connections.max.reauth.ms` by mechanism; 0 (or none) means
    /// sessions do not expire.
    pub reauth_ms: HashMap<String, i64>,
}

impl std::fmt::Debug for SaslSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaslSettings")
            .field("mechanisms", &self.mechanisms)
            .field("plain_users", &self.plain_users.keys().collect::<Vec<_>>())
            .field("reauth_ms", &self.reauth_ms)
            .finish()
    }
}

impl SaslSettings {
    fn reauth(&self, mechanism: &str) -> i64 {
        self.reauth_ms.get(mechanism).copied().unwrap_or(0)
    }
}

/// What the connection does with a frame.
#[derive(Debug)]
pub enum Gate {
    /// An authenticated request (or ApiVersions): answer it as usual.
    Dispatch,
    /// Write this encoded frame and go on.
    Answer(Bytes),
    /// Write this frame, then close the connection for the given reason.
    AnswerAndClose(Bytes, String),
    /// Close the connection for the given reason.
    Close(String),
}

enum Exchange {
    Plain,
    Scram(Box<ScramServer>),
}

/// One connection's authentication state.
pub struct Authenticator {
    settings: Arc<SaslSettings>,
    store: Arc<CredentialStore>,
    exchange: Option<Exchange>,
    raw_tokens: bool,
    mechanism: Option<String>,
    principal: Option<String>,
    expires: Option<Instant>,
}

impl Authenticator {
    pub fn new(settings: Arc<SaslSettings>, store: Arc<CredentialStore>) -> Self {
        Self {
            settings,
            store,
            exchange: None,
            raw_tokens: false,
            mechanism: None,
            principal: None,
            expires: None,
        }
    }

    /// `User:name` once authenticated.
    pub fn principal(&self) -> Option<&str> {
        self.principal.as_deref()
    }

    /// The largest frame accepted now.
    pub fn max_frame(&self, authenticated_max: usize) -> usize {
        if self.principal.is_some() {
            authenticated_max
        } else {
            MAX_RECEIVE_BEFORE_AUTH.min(authenticated_max)
        }
    }

    /// Decides what to do with one request frame (without its size prefix).
    pub fn on_frame(&mut self, frame: &Bytes) -> Gate {
        if self.raw_tokens && self.exchange.is_some() {
            return match self.step(frame) {
                Ok((reply, _)) => {
                    let mut out = BytesMut::with_capacity(4 + reply.len());
                    out.put_i32(reply.len() as i32);
                    out.put_slice(&reply);
                    Gate::Answer(out.freeze())
                }
                Err(reason) => Gate::Close(reason),
            };
        }
        let Ok((key, version)) = crate::handler::peek_api(frame) else {
            return Gate::Close("request too short for a header".into());
        };
        match ApiKey::try_from(key) {
            Ok(ApiKey::ApiVersions) => Gate::Dispatch,
            Ok(ApiKey::SaslHandshake) => self.handshake(frame.clone(), version),
            Ok(ApiKey::SaslAuthenticate) => self.authenticate(frame.clone(), version),
            _ => match (&self.principal, self.expires) {
                (Some(_), Some(at)) if Instant::now() >= at => Gate::Close(
                    "the SASL session expired (connections.max.reauth.ms) without re-authentication"
                        .into(),
                ),
                (Some(_), _) => Gate::Dispatch,
                (None, _) => Gate::Close(format!(
                    "API key {key} before SASL authentication (the client may not be configured for SASL)"
                )),
            },
        }
    }

    fn handshake(&mut self, mut frame: Bytes, version: i16) -> Gate {
        let parsed = decode_request_header_from_buffer(&mut frame).and_then(|h| {
            SaslHandshakeRequest::decode(&mut frame, version).map(|r| (h.correlation_id, r))
        });
        let Ok((cid, req)) = parsed else {
            return Gate::Close("malformed SaslHandshake request".into());
        };
        let mechanisms: Vec<StrBytes> = self
            .settings
            .mechanisms
            .iter()
            .map(|m| StrBytes::from_string(m.clone()))
            .collect();
        let asked = req.mechanism.to_string();
        let enabled = self.settings.mechanisms.contains(&asked);
        let resp = SaslHandshakeResponse::default().with_mechanisms(mechanisms);
        if self.exchange.is_some() || (self.principal.is_some() && version == 0) {
            let resp = resp.with_error_code(ILLEGAL_SASL_STATE);
            return encode(cid, version, &resp, "unexpected SaslHandshake".into());
        }
        if let (Some(_), Some(current)) = (&self.principal, &self.mechanism) {
            // Re-authentication: only where sessions expire, with the same mechanism.
            if self.settings.reauth(current) == 0 {
                let resp = resp.with_error_code(ILLEGAL_SASL_STATE);
                return match encode_response(cid, version, &resp) {
                    Ok(b) => Gate::Answer(b),
                    Err(e) => Gate::Close(e.to_string()),
                };
            }
            if *current != asked {
                let resp = resp.with_error_code(UNSUPPORTED_SASL_MECHANISM);
                return encode(
                    cid,
                    version,
                    &resp,
                    format!("SASL mechanism '{asked}' requested by client is not supported for re-authentication of mechanism '{current}'"),
                );
            }
        }
        if !enabled {
            let resp = resp.with_error_code(UNSUPPORTED_SASL_MECHANISM);
            return encode(
                cid,
                version,
                &resp,
                format!(
                    "Unsupported SASL mechanism {asked} (enabled: {})",
                    self.settings.mechanisms.join(", ")
                ),
            );
        }
        self.exchange = Some(match Mechanism::from_name(&asked) {
            Some(m) => Exchange::Scram(Box::new(ScramServer::new(m))),
            None => Exchange::Plain,
        });
        self.raw_tokens = version == 0;
        self.mechanism = Some(asked);
        match encode_response(cid, version, &resp.with_error_code(NONE)) {
            Ok(b) => Gate::Answer(b),
            Err(e) => Gate::Close(e.to_string()),
        }
    }

    fn authenticate(&mut self, mut frame: Bytes, version: i16) -> Gate {
        let parsed = decode_request_header_from_buffer(&mut frame).and_then(|h| {
            SaslAuthenticateRequest::decode(&mut frame, version).map(|r| (h.correlation_id, r))
        });
        let Ok((cid, req)) = parsed else {
            return Gate::Close("malformed SaslAuthenticate request".into());
        };
        if self.exchange.is_none() || self.raw_tokens {
            let resp = SaslAuthenticateResponse::default()
                .with_error_code(ILLEGAL_SASL_STATE)
                .with_error_message(Some(StrBytes::from_static_str(
                    "Unexpected SaslAuthenticate request: no SaslHandshake v1 before it",
                )));
            return encode(
                cid,
                version,
                &resp,
                "SaslAuthenticate without a handshake".into(),
            );
        }
        match self.step(&req.auth_bytes) {
            Ok((reply, done)) => {
                let mut resp = SaslAuthenticateResponse::default().with_auth_bytes(reply);
                let lifetime = self
                    .settings
                    .reauth(self.mechanism.as_deref().unwrap_or(""));
                if done && lifetime > 0 {
                    resp = resp.with_session_lifetime_ms(lifetime);
                }
                match encode_response(cid, version, &resp) {
                    Ok(b) => Gate::Answer(b),
                    Err(e) => Gate::Close(e.to_string()),
                }
            }
            Err(reason) => {
                // The client learns only what Kafka tells it; the log has the detail.
                let told = self.told(&reason);
                let resp = SaslAuthenticateResponse::default()
                    .with_error_code(SASL_AUTHENTICATION_FAILED)
                    .with_error_message(Some(StrBytes::from_string(told)));
                encode(cid, version, &resp, reason)
            }
        }
    }

    /// What a client is told of a failed authentication: PLAIN's messages
    /// and the authorization-id one as they are, otherwise Kafka's generic one.
    fn told(&self, reason: &str) -> String {
        let mech = self.mechanism.as_deref().unwrap_or("");
        if mech == "PLAIN"
            || reason.contains("authorization id")
            || reason.contains("re-authentication")
        {
            return reason.to_string();
        }
        let during = if self.principal.is_some() {
            "re-authentication"
        } else {
            "authentication"
        };
        format!("Authentication failed during {during} due to invalid credentials with SASL mechanism {mech}")
    }

    /// Feeds one token to the exchange: the reply, and whether it completed.
    fn step(&mut self, token: &[u8]) -> Result<(Bytes, bool), String> {
        let user = match self.exchange.as_mut() {
            None => return Err("no SASL exchange in progress".into()),
            Some(Exchange::Plain) => plain(token, &self.settings.plain_users)?,
            Some(Exchange::Scram(s)) => match s.step(token, &self.store) {
                Ok(ServerStep::Challenge(c)) => return Ok((Bytes::from(c), false)),
                Ok(ServerStep::Success { user, last }) => {
                    self.finish(&user)?;
                    return Ok((Bytes::from(last), true));
                }
                Err(e) => {
                    self.exchange = None;
                    return Err(e);
                }
            },
        };
        self.finish(&user)?;
        Ok((Bytes::new(), true))
    }

    fn finish(&mut self, user: &str) -> Result<(), String> {
        self.exchange = None;
        let principal = format!("User:{user}");
        if let Some(old) = &self.principal {
            if *old != principal {
                return Err(format!(
                    "Cannot change principals during re-authentication from {old} to {principal}"
                ));
            }
            tracing::debug!("{principal} re-authenticated: its session is renewed");
        }
        self.principal = Some(principal);
        let lifetime = self
            .settings
            .reauth(self.mechanism.as_deref().unwrap_or(""));
        self.expires =
            (lifetime > 0).then(|| Instant::now() + Duration::from_millis(lifetime as u64));
        Ok(())
    }
}

fn encode<R>(cid: i32, version: i16, resp: &R, reason: String) -> Gate
where
    R: kafka_protocol::protocol::Encodable + kafka_protocol::protocol::HeaderVersion,
{
    match encode_response(cid, version, resp) {
        Ok(b) => Gate::AnswerAndClose(b, reason),
        Err(e) => Gate::Close(e.to_string()),
    }
}

/// Checks a SASL/PLAIN message (`authzid NUL user NUL password`) with
/// Kafka's PlainSaslServer messages; the user on success.
fn plain(token: &[u8], users: &HashMap<String, String>) -> Result<String, String> {
    let parts: Vec<&[u8]> = token.split(|b| *b == 0).collect();
    if parts.len() != 3 {
        return Err(format!(
            "Invalid SASL/PLAIN response: expected 3 tokens, got {}",
            parts.len()
        ));
    }
    let text = |b: &[u8]| {
        String::from_utf8(b.to_vec())
            .map_err(|_| "Invalid SASL/PLAIN response: not UTF-8".to_string())
    };
    let (authz, user, pass) = (text(parts[0])?, text(parts[1])?, parts[2]);
    if user.is_empty() {
        return Err("Authentication failed: username not specified".into());
    }
    if pass.is_empty() {
        return Err("Authentication failed: password not specified".into());
    }
    let ok = users
        .get(&user)
        .is_some_and(|expected| super::scram::constant_time_eq(expected.as_bytes(), pass));
    if !ok {
        return Err("Authentication failed: Invalid username or password".into());
    }
    if !authz.is_empty() && authz != user {
        return Err(
            "Authentication failed: Client requested an authorization id that is different from username"
                .into(),
        );
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_checks_like_kafka() {
        let users: HashMap<String, String> = [("alice".to_string(), "s3cret".to_string())].into();
        assert_eq!(plain(b"\0alice\0s3cret", &users), Ok("alice".into()));
        assert_eq!(plain(b"alice\0alice\0s3cret", &users), Ok("alice".into()));
        assert_eq!(
            plain(b"\0alice\0s3cre", &users),
            Err("Authentication failed: Invalid username or password".into())
        );
        assert_eq!(
            plain(b"\0bob\0s3cret", &users),
            Err("Authentication failed: Invalid username or password".into())
        );
        assert!(plain(b"alice\0s3cret", &users)
            .expect_err("two tokens")
            .contains("expected 3 tokens, got 2"));
        assert!(plain(b"bob\0alice\0s3cret", &users)
            .expect_err("other authzid")
            .contains("authorization id"));
    }
}
