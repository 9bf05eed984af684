//! Property tests of the SASL handshake as a connection sees it: any
//! sequence of handshakes, authentications, raw tokens, truncated and
//! garbage frames is answered or closes the connection, never panics, and
//! never yields a principal without the password; and the text parsers a
//! config hands the broker (JAAS, principal mapping rules) never panic.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use proptest::prelude::*;

use super::sasl::{Authenticator, Gate, SaslSettings};
use super::scram::{Credential, CredentialStore, Mechanism, ScramClient};

const PASSWORD: &str = "the-right-password";

fn settings() -> Arc<SaslSettings> {
    Arc::new(SaslSettings {
        mechanisms: vec![
            "PLAIN".into(),
            "SCRAM-SHA-256".into(),
            "SCRAM-SHA-512".into(),
        ],
        plain_users: HashMap::from([("alice".to_string(), PASSWORD.to_string())]),
        reauth_ms: HashMap::new(),
    })
}

fn store() -> Arc<CredentialStore> {
    let s = CredentialStore::in_memory();
    let creds = [Mechanism::Sha256, Mechanism::Sha512]
        .into_iter()
        .map(|m| {
            (
                "bob".to_string(),
                m,
                Credential::from_password(m, PASSWORD, 4096),
            )
        })
        .collect();
    s.apply(&[], creds).expect("in memory");
    Arc::new(s)
}

fn request<R: Encodable>(key: ApiKey, version: i16, body: &R) -> Bytes {
    let header = RequestHeader::default()
        .with_request_api_key(key as i16)
        .with_request_api_version(version)
        .with_correlation_id(1)
        .with_client_id(Some(StrBytes::from_static_str("fuzz")));
    let mut b = BytesMut::new();
    header
        .encode(&mut b, key.request_header_version(version))
        .expect("header");
    body.encode(&mut b, version).expect("body");
    b.freeze()
}

/// One frame a client might send while authenticating.
#[derive(Debug, Clone)]
enum Step {
    Handshake(u8, i16),
    Authenticate(Vec<u8>, i16),
    /// A SCRAM client-first for bob with a random nonce, then a proof made
    /// with the wrong password.
    ScramWrong(u8),
    Plain(Vec<u8>),
    Garbage(Vec<u8>),
    Truncated(u8, usize),
    Metadata,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u8..5, 0i16..2).prop_map(|(m, v)| Step::Handshake(m, v)),
        (proptest::collection::vec(any::<u8>(), 0..200), 0i16..3)
            .prop_map(|(b, v)| Step::Authenticate(b, v)),
        (0u8..2).prop_map(Step::ScramWrong),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(Step::Plain),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Step::Garbage),
        (0u8..3, 0usize..40).prop_map(|(m, n)| Step::Truncated(m, n)),
        Just(Step::Metadata),
    ]
}

const NAMES: [&str; 5] = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI", ""];

fn handshake(m: u8, v: i16) -> Bytes {
    let name = NAMES[m as usize % NAMES.len()];
    request(
        ApiKey::SaslHandshake,
        v,
        &SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str(name)),
    )
}

fn authenticate(bytes: Vec<u8>, v: i16) -> Bytes {
    request(
        ApiKey::SaslAuthenticate,
        v,
        &SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from(bytes)),
    )
}

/// Feeds one step; false when the connection would be closed.
fn feed(auth: &mut Authenticator, s: &Step) -> bool {
    let frames: Vec<Bytes> = match s {
        Step::Handshake(m, v) => vec![handshake(*m, *v)],
        Step::Authenticate(b, v) => vec![authenticate(b.clone(), *v)],
        Step::ScramWrong(m) => {
            let mech = if *m == 0 {
                Mechanism::Sha256
            } else {
                Mechanism::Sha512
            };
            let mut client = ScramClient::new(mech, "bob", "not-the-password");
            let mut out = vec![handshake(*m + 1, 1), authenticate(client.first(), 2)];
            // The server-first is needed for the final message; answer what
            // the broker said if the exchange got that far.
            if let Gate::Answer(_) = auth.on_frame(&out[0]) {
                if let Gate::Answer(reply) = auth.on_frame(&out[1]) {
                    let mut r = reply.slice(4..);
                    let _ = ResponseHeader::decode(&mut r, 1);
                    if let Ok(resp) = SaslAuthenticateResponse::decode(&mut r, 2) {
                        if let Ok(fin) = client.answer(&resp.auth_bytes) {
                            out = vec![authenticate(fin, 2)];
                        } else {
                            out.clear();
                        }
                    }
                } else {
                    return false;
                }
            } else {
                return false;
            }
            out
        }
        Step::Plain(b) => {
            let mut token = b"\0alice\0".to_vec();
            token.extend_from_slice(b);
            vec![handshake(0, 1), authenticate(token, 1)]
        }
        Step::Garbage(b) => vec![Bytes::from(b.clone())],
        Step::Truncated(m, n) => {
            let full = handshake(*m, 1);
            vec![full.slice(..(*n).min(full.len()))]
        }
        Step::Metadata => vec![request(ApiKey::Metadata, 4, &MetadataRequest::default())],
    };
    for f in frames {
        let before = auth.principal().is_some();
        match auth.on_frame(&f) {
            Gate::Close(_) | Gate::AnswerAndClose(..) => return false,
            Gate::Dispatch => {
                let api = crate::handler::peek_api(&f).map(|(k, _)| k).unwrap_or(-1);
                assert!(
                    before || api == ApiKey::ApiVersions as i16,
                    "api {api} dispatched before authentication"
                );
            }
            Gate::Answer(_) => {}
        }
    }
    true
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn no_sequence_of_frames_panics_or_authenticates_without_the_password(
        steps in proptest::collection::vec(step(), 1..8)
    ) {
        let mut auth = Authenticator::new(settings(), store());
        for s in &steps {
            if !feed(&mut auth, s) {
                break;
            }
        }
        // A random PLAIN password is not the right one (it would have to
        // equal the 18-byte password exactly).
        if let Some(p) = auth.principal() {
            let right = steps.iter().any(|s| matches!(s, Step::Plain(b) if b == PASSWORD.as_bytes()));
            prop_assert!(right, "authenticated as {p} without the password");
        }
    }

    #[test]
    fn config_text_parsers_never_panic(text in ".{0,120}") {
        let _ = super::jaas::parse_config(&text);
        let _ = super::principal::PrincipalMapper::parse(&text);
        if let Ok(m) = super::principal::PrincipalMapper::parse(&text) {
            let _ = m.map(&text);
        }
    }
}

#[test]
fn the_right_passwords_do_authenticate() {
    let mut auth = Authenticator::new(settings(), store());
    assert!(feed(&mut auth, &Step::Plain(PASSWORD.as_bytes().to_vec())));
    assert_eq!(auth.principal(), Some("User:alice"));

    let mut auth = Authenticator::new(settings(), store());
    let mut client = ScramClient::new(Mechanism::Sha512, "bob", PASSWORD);
    assert!(matches!(auth.on_frame(&handshake(2, 1)), Gate::Answer(_)));
    let Gate::Answer(reply) = auth.on_frame(&authenticate(client.first(), 2)) else {
        panic!("no server-first");
    };
    let mut r = reply.slice(4..);
    let _ = ResponseHeader::decode(&mut r, 1);
    let resp = SaslAuthenticateResponse::decode(&mut r, 2).expect("response");
    let fin = client.answer(&resp.auth_bytes).expect("final");
    assert!(matches!(
        auth.on_frame(&authenticate(fin, 2)),
        Gate::Answer(_)
    ));
    assert_eq!(auth.principal(), Some("User:bob"));
}
