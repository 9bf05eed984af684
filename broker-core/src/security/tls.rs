//! TLS from Kafka's `ssl.*` keys, for the broker's listeners and for the
//! clients Weir runs: keystores and truststores in PEM (files or inline
//! values), `ssl.client.auth`, `ssl.enabled.protocols` and
//! `ssl.endpoint.identification.algorithm`. Stores are PEM or PKCS12 (opened
//! with their password); a JKS store is refused with the command that
//! converts it.

use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    self,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    client::WebPkiServerVerifier,
    crypto::CryptoProvider,
    server::WebPkiClientVerifier,
    CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

/// A lookup of `ssl.*` keys; the answer carries the key as the user wrote
/// it (with its listener or client prefix), for messages.
pub trait Keys {
    /// The key and its value, even when empty.
    fn get_raw(&self, key: &str) -> Option<(String, String)>;

    /// The key and its trimmed value when not empty.
    fn get(&self, key: &str) -> Option<(String, String)> {
        self.get_raw(key)
            .map(|(k, v)| (k, v.trim().to_string()))
            .filter(|(_, v)| !v.is_empty())
    }
}

/// ring's provider: small to build and enough for TLS 1.2 and 1.3 (its
/// key exchanges are the classical ones).
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn versions(keys: &dyn Keys) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, String> {
    let Some((name, value)) = keys.get("ssl.enabled.protocols") else {
        return Ok(vec![&rustls::version::TLS13, &rustls::version::TLS12]);
    };
    let mut out = Vec::new();
    for p in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match p {
            "TLSv1.3" => out.push(&rustls::version::TLS13),
            "TLSv1.2" => out.push(&rustls::version::TLS12),
            other => {
                return Err(format!(
                    "{name}={value}: {other} is not supported; Weir speaks TLSv1.2 and TLSv1.3"
                ))
            }
        }
    }
    if out.is_empty() {
        return Err(format!("{name} is empty; give TLSv1.2 and/or TLSv1.3"));
    }
    Ok(out)
}

/// A store file: PEM text or a PKCS12 keystore (opened with its password).
enum Store {
    Pem(Vec<u8>),
    Pkcs12(p12_keystore::KeyStore),
}

/// Reads a store file, refusing JKS with the command that converts it.
/// `password_key` names the store's password key (`ssl.keystore.password`).
fn read_store(
    keys: &dyn Keys,
    key: &str,
    path: &str,
    kind: &str,
    password_key: &str,
) -> Result<Store, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{key}={path}: {e}"))?;
    if bytes.starts_with(&[0xFE, 0xED, 0xFE, 0xED]) {
        return Err(format!(
            "{key}={path} is a JKS {kind}, which Weir does not read; convert it to PKCS12: \
             keytool -importkeystore -srckeystore {path} -destkeystore {path}.p12 -deststoretype PKCS12, \
             then set {key}={path}.p12 and the type key to PKCS12"
        ));
    }
    if String::from_utf8_lossy(&bytes).contains("-----BEGIN ") {
        return Ok(Store::Pem(bytes));
    }
    let password = keys
        .get_raw(password_key)
        .map(|(_, v)| v)
        .unwrap_or_default();
    p12_keystore::KeyStore::from_pkcs12(&bytes, &password)
        .map(Store::Pkcs12)
        .map_err(|e| {
            format!(
                "{key}={path} is neither PEM nor a PKCS12 {kind} that {password_key} opens: {e}"
            )
        })
}

fn certs(key: &str, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let list: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{key}: {e}"))?;
    if list.is_empty() {
        return Err(format!(
            "{key}: no certificate (-----BEGIN CERTIFICATE-----) found"
        ));
    }
    Ok(list)
}

fn private_key(key: &str, pem: &[u8]) -> Result<PrivateKeyDer<'static>, String> {
    if String::from_utf8_lossy(pem).contains("ENCRYPTED PRIVATE KEY") {
        return Err(format!(
            "{key}: the private key is encrypted; Weir reads unencrypted PEM keys \
             (openssl pkey -in key.pem -out key-plain.pem), kept readable by the broker's user only"
        ));
    }
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| format!("{key}: no private key found ({e})"))
}

/// The certificate chain and key of `ssl.keystore.*`, if any is configured.
fn keystore(
    keys: &dyn Keys,
) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>, String> {
    if let Some((name, chain)) = keys.get("ssl.keystore.certificate.chain") {
        let (kname, key) = keys
            .get("ssl.keystore.key")
            .ok_or_else(|| format!("{name} is set but ssl.keystore.key is not"))?;
        return Ok(Some((
            certs(&name, chain.as_bytes())?,
            private_key(&kname, key.as_bytes())?,
        )));
    }
    let Some((name, path)) = keys.get("ssl.keystore.location") else {
        return Ok(None);
    };
    match read_store(keys, &name, &path, "keystore", "ssl.keystore.password")? {
        Store::Pem(pem) => Ok(Some((certs(&name, &pem)?, private_key(&name, &pem)?))),
        Store::Pkcs12(ks) => {
            let (_, chain) = ks
                .private_key_chain()
                .ok_or_else(|| format!("{name}={path} holds no private key"))?;
            let certs = chain
                .chain()
                .iter()
                .map(|c| CertificateDer::from(c.as_der().to_vec()))
                .collect();
            let key = PrivateKeyDer::Pkcs8(chain.key().to_vec().into());
            Ok(Some((certs, key)))
        }
    }
}

/// The certificates of `ssl.truststore.*` (PEM, inline PEM or PKCS12).
pub fn trusted_certificates(
    keys: &dyn Keys,
) -> Result<Option<(String, Vec<CertificateDer<'static>>)>, String> {
    if let Some((name, inline)) = keys.get("ssl.truststore.certificates") {
        let list = certs(&name, inline.as_bytes())?;
        return Ok(Some((name, list)));
    }
    let Some((name, path)) = keys.get("ssl.truststore.location") else {
        return Ok(None);
    };
    let list = match read_store(keys, &name, &path, "truststore", "ssl.truststore.password")? {
        Store::Pem(pem) => certs(&name, &pem)?,
        Store::Pkcs12(ks) => ks
            .entries()
            .flat_map(|(_, e)| match e {
                p12_keystore::KeyStoreEntry::Certificate(c) => vec![c.as_der().to_vec()],
                p12_keystore::KeyStoreEntry::PrivateKeyChain(k) => {
                    k.chain().iter().map(|c| c.as_der().to_vec()).collect()
                }
                _ => Vec::new(),
            })
            .map(CertificateDer::from)
            .collect(),
    };
    if list.is_empty() {
        return Err(format!(
            "{name}={path}: no trusted certificate found (a PKCS12 truststore holds certificates marked trusted, as keytool -importcert makes them; for other stores use PEM: openssl pkcs12 -in {path} -nokeys -out ca.pem, and ssl.truststore.type=PEM)"
        ));
    }
    Ok(Some((name, list)))
}

/// The trusted certificates of `ssl.truststore.*`, if any are configured.
fn truststore(keys: &dyn Keys) -> Result<Option<RootCertStore>, String> {
    let Some((name, list)) = trusted_certificates(keys)? else {
        return Ok(None);
    };
    let mut roots = RootCertStore::empty();
    for c in list {
        roots
            .add(c)
            .map_err(|e| format!("{name}: a certificate cannot be trusted: {e}"))?;
    }
    Ok(Some(roots))
}

/// The TLS configuration of a listener.
pub fn server_config(keys: &dyn Keys, listener: &str) -> Result<Arc<rustls::ServerConfig>, String> {
    let versions = versions(keys)?;
    let (chain, key) = keystore(keys)?.ok_or_else(|| {
        format!(
            "listener {listener} uses TLS but has no keystore: set ssl.keystore.location (a PEM file with the key and certificate chain) or listener.name.{}.ssl.keystore.location",
            listener.to_ascii_lowercase()
        )
    })?;
    let auth = keys
        .get("ssl.client.auth")
        .map(|(k, v)| (k, v.trim().to_ascii_lowercase()))
        .unwrap_or_else(|| ("ssl.client.auth".into(), "none".into()));
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&versions)
        .map_err(|e| e.to_string())?;
    let builder = match auth.1.as_str() {
        "none" => builder.with_no_client_auth(),
        mode @ ("required" | "requested") => {
            let roots = truststore(keys)?.ok_or_else(|| {
                format!("{}={mode} needs ssl.truststore.location with the CA certificates clients are signed by", auth.0)
            })?;
            let mut v = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider());
            if mode == "requested" {
                v = v.allow_unauthenticated();
            }
            builder.with_client_cert_verifier(v.build().map_err(|e| format!("{}: {e}", auth.0))?)
        }
        other => {
            return Err(format!(
                "{}={other}: must be none, requested or required",
                auth.0
            ))
        }
    };
    let mut cfg = builder.with_single_cert(chain, key).map_err(|e| {
        format!("listener {listener}: the keystore's key does not fit its certificate: {e}")
    })?;
    cfg.alpn_protocols.clear();
    Ok(Arc::new(cfg))
}

/// The TLS configuration of a client: the truststore (else the public
/// web roots), a keystore for mutual TLS, and host-name checking unless
/// `ssl.endpoint.identification.algorithm` is empty.
pub fn client_config(keys: &dyn Keys) -> Result<Arc<rustls::ClientConfig>, String> {
    let versions = versions(keys)?;
    let roots = match truststore(keys)? {
        Some(r) => r,
        None => RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        },
    };
    // Kafka turns host-name checking off with an empty value.
    let check_names = keys
        .get_raw("ssl.endpoint.identification.algorithm")
        .is_none_or(|(_, v)| !v.trim().is_empty() && !v.trim().eq_ignore_ascii_case("none"));
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| e.to_string())?;
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&versions)
        .map_err(|e| e.to_string())?;
    let builder = if check_names {
        builder.with_webpki_verifier(verifier)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyName(verifier)))
    };
    match keystore(keys)? {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| format!("ssl.keystore: {e}")),
        None => Ok(builder.with_no_client_auth()),
    }
    .map(Arc::new)
}

/// Checks the chain but not the host name
/// (`ssl.endpoint.identification.algorithm=`).
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
