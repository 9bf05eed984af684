//! Kafka's client security keys (`security.protocol`, `sasl.mechanism`,
//! `sasl.jaas.config`, `ssl.*`) for both kinds of client Weir runs: the
//! librdkafka producers and consumers, which get the same settings in
//! librdkafka's words, and Weir's own protocol client (group membership,
//! internal topics, admin tools), which speaks TLS and SASL itself.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use broker_core::security::jaas;
use broker_core::security::scram::Mechanism;
use broker_core::security::tls::{self, Keys};
use broker_core::security::SecurityProtocol;
use tokio_rustls::rustls::ClientConfig;

/// A SASL identity.
#[derive(Clone)]
pub struct SaslLogin {
    pub mechanism: String,
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for SaslLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaslLogin")
            .field("mechanism", &self.mechanism)
            .field("username", &self.username)
            .field("password", &"[hidden]")
            .finish()
    }
}

/// How a client reaches the brokers.
#[derive(Clone)]
pub struct ClientSecurity {
    pub protocol: SecurityProtocol,
    pub tls: Option<Arc<ClientConfig>>,
    pub sasl: Option<SaslLogin>,
    /// The same settings as librdkafka keys, for the librdkafka clients
    /// that share them (the internal topics' readers and writers).
    pub rdkafka: BTreeMap<String, String>,
}

impl std::fmt::Debug for ClientSecurity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSecurity")
            .field("protocol", &self.protocol)
            .field("tls", &self.tls.is_some())
            .field("sasl", &self.sasl)
            .finish_non_exhaustive()
    }
}

impl Default for ClientSecurity {
    fn default() -> Self {
        Self {
            protocol: SecurityProtocol::Plaintext,
            tls: None,
            sasl: None,
            rdkafka: BTreeMap::new(),
        }
    }
}

struct Prefixed<'a> {
    props: &'a BTreeMap<String, String>,
    prefix: &'a str,
}

impl Keys for Prefixed<'_> {
    fn get_raw(&self, key: &str) -> Option<(String, String)> {
        let k = format!("{}{key}", self.prefix);
        let v = self.props.get(&k)?.clone();
        Some((k, v))
    }
}

/// The username and password of a `sasl.jaas.config` value (Kafka's PLAIN
/// or SCRAM login module; any other module is refused).
pub fn jaas_login(key: &str, value: &str) -> Result<(String, String), String> {
    let modules = jaas::parse_config(value).map_err(|e| format!("{key}: {e}"))?;
    let m = &modules[0];
    if m.class != jaas::PLAIN_MODULE && m.class != jaas::SCRAM_MODULE {
        return Err(format!(
            "{key}: login module {} is not allowed; use {} or {}",
            m.class,
            jaas::PLAIN_MODULE,
            jaas::SCRAM_MODULE
        ));
    }
    let get = |o: &str| {
        m.option(o)
            .map(str::to_string)
            .ok_or_else(|| format!("{key}: {} has no {o}=\"...\"", m.class))
    };
    Ok((get("username")?, get("password")?))
}

impl ClientSecurity {
    /// Reads the keys under `prefix` (`""`, `producer.`, `admin.`...).
    pub fn from_props(props: &BTreeMap<String, String>, prefix: &str) -> Result<Self, String> {
        let keys = Prefixed { props, prefix };
        let protocol = match keys.get("security.protocol") {
            None => SecurityProtocol::Plaintext,
            Some((k, v)) => SecurityProtocol::parse(&v).ok_or_else(|| {
                format!("Invalid value {v} for configuration {k}: must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
            })?,
        };
        let tls = if protocol.uses_tls() {
            Some(tls::client_config(&keys)?)
        } else {
            None
        };
        let sasl = if protocol.uses_sasl() {
            let mechanism = keys
                .get("sasl.mechanism")
                .map(|(_, v)| v.to_ascii_uppercase())
                .unwrap_or_else(|| "GSSAPI".into());
            if mechanism != "PLAIN" && Mechanism::from_name(&mechanism).is_none() {
                return Err(format!(
                    "{prefix}sasl.mechanism={mechanism} is not supported; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"
                ));
            }
            let (username, password) = match keys.get("sasl.jaas.config") {
                Some((k, v)) => jaas_login(&k, &v)?,
                None => match (keys.get("sasl.username"), keys.get("sasl.password")) {
                    (Some((_, u)), Some((_, p))) => (u, p),
                    _ => {
                        return Err(format!(
                            "{prefix}security.protocol={} needs {prefix}sasl.jaas.config ({} required username=\"...\" password=\"...\";)",
                            protocol.name(),
                            if mechanism == "PLAIN" { jaas::PLAIN_MODULE } else { jaas::SCRAM_MODULE }
                        ))
                    }
                },
            };
            Some(SaslLogin {
                mechanism,
                username,
                password,
            })
        } else {
            None
        };
        let own: BTreeMap<String, String> = props
            .iter()
            .filter_map(|(k, v)| {
                let k = k.strip_prefix(prefix)?;
                is_security_key(k).then(|| (k.to_string(), v.clone()))
            })
            .collect();
        Ok(Self {
            protocol,
            tls,
            sasl,
            rdkafka: to_librdkafka(own)?,
        })
    }

    /// Adds these settings to a librdkafka client configuration.
    pub fn apply(&self, cfg: &mut rdkafka::ClientConfig) {
        for (k, v) in &self.rdkafka {
            cfg.set(k, v);
        }
    }
}

/// Security keys a client inherits from the worker when its own prefix
/// sets none.
fn is_security_key(k: &str) -> bool {
    k == "security.protocol" || k.starts_with("sasl.") || k.starts_with("ssl.")
}

/// `props` with the worker's security keys added when none was given:
/// a task's producer or consumer reaches the cluster the way the worker
/// does unless its `producer.`/`consumer.` keys say otherwise.
pub fn inherit(
    mut props: BTreeMap<String, String>,
    worker: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    if !props.keys().any(|k| is_security_key(k)) {
        for (k, v) in worker.iter().filter(|(k, _)| is_security_key(k)) {
            props.insert(k.clone(), v.clone());
        }
    }
    props
}

/// Rewrites Kafka's (Java) security keys into librdkafka's: the JAAS login
/// into `sasl.username`/`sasl.password`, PEM stores into `ssl.ca.location`,
/// `ssl.certificate.location` and `ssl.key.location`, inline PEM into
/// `ssl.*.pem`, PKCS12 keystores as they are; keys librdkafka has no
/// equivalent for are dropped, and other Java client keys are translated
/// ([`super::java_keys`]). Errors name the key.
pub fn to_librdkafka(props: BTreeMap<String, String>) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let store_type = |p: &BTreeMap<String, String>, k: &str, file: &str| {
        // The declared type, else what the file holds (Java's default,
        // JKS, is recognised by its magic number).
        p.get(k)
            .map(|t| t.trim().to_ascii_uppercase())
            .or_else(|| sniff(file))
    };
    for (k, v) in &props {
        match k.as_str() {
            "sasl.mechanism" => {
                out.insert("sasl.mechanisms".into(), v.clone());
            }
            "sasl.jaas.config" => {
                let (u, p) = jaas_login(k, v)?;
                out.insert("sasl.username".into(), u);
                out.insert("sasl.password".into(), p);
            }
            "ssl.truststore.location" => {
                match store_type(&props, "ssl.truststore.type", v).as_deref() {
                    None | Some("PEM") => {
                        out.insert("ssl.ca.location".into(), v.clone());
                    }
                    // librdkafka reads CA certificates as PEM: they are
                    // taken out of the PKCS12 store here.
                    Some("PKCS12") => {
                        let keys = Prefixed {
                            props: &props,
                            prefix: "",
                        };
                        let (_, certs) = tls::trusted_certificates(&keys)?
                            .ok_or_else(|| format!("{k}={v}: no certificate found"))?;
                        out.insert("ssl.ca.pem".into(), pem_certificates(&certs));
                    }
                    Some(other) => {
                        return Err(format!(
                            "{k}={v}: a {other} truststore cannot be read here; convert it to PEM (openssl pkcs12 -in {v} -nokeys -out ca.pem, or keytool -exportcert -rfc) and set ssl.truststore.type=PEM"
                        ))
                    }
                }
            }
            "ssl.truststore.certificates" => {
                out.insert("ssl.ca.pem".into(), v.clone());
            }
            "ssl.keystore.location" => match store_type(&props, "ssl.keystore.type", v).as_deref() {
                Some("PEM") => {
                    out.insert("ssl.certificate.location".into(), v.clone());
                    out.insert("ssl.key.location".into(), v.clone());
                }
                Some("JKS") => {
                    return Err(format!(
                        "{k}={v}: JKS keystores cannot be read here; convert it: keytool -importkeystore -srckeystore {v} -destkeystore {v}.p12 -deststoretype PKCS12, and set ssl.keystore.type=PKCS12"
                    ))
                }
                _ => {
                    out.insert("ssl.keystore.location".into(), v.clone());
                }
            },
            "ssl.keystore.password" => {
                out.insert("ssl.keystore.password".into(), v.clone());
            }
            "ssl.keystore.certificate.chain" => {
                out.insert("ssl.certificate.pem".into(), v.clone());
            }
            "ssl.keystore.key" => {
                out.insert("ssl.key.pem".into(), v.clone());
            }
            "ssl.endpoint.identification.algorithm" => {
                let algo = if v.trim().is_empty() { "none" } else { v.trim() };
                out.insert(k.clone(), algo.to_string());
            }
            // Java-only settings with nothing to map to in librdkafka
            // (cipher suites have Java's names, not OpenSSL's).
            "ssl.truststore.type" | "ssl.truststore.password" | "ssl.keystore.type"
            | "ssl.enabled.protocols" | "ssl.protocol" | "ssl.trustmanager.algorithm"
            | "ssl.keymanager.algorithm" | "ssl.secure.random.implementation"
            | "ssl.cipher.suites" | "ssl.provider" | "sasl.client.callback.handler.class"
            | "sasl.kerberos.service.name" => {}
            k if k.starts_with("sasl.login.")
                || k.starts_with("sasl.oauthbearer.")
                || k.starts_with("ssl.engine.") => {}
            _ => match super::java_keys::translate(k, v)? {
                super::java_keys::Translated::Set(k, v) => {
                    out.insert(k, v);
                }
                super::java_keys::Translated::Dropped => {
                    tracing::debug!("{k} is a Java client setting with no use here; ignored");
                }
            },
        }
    }
    Ok(out)
}

/// Reads a worker file's unprefixed security keys (config providers
/// resolved) and makes them this process's default; an error names the key.
pub fn init_worker(props: &BTreeMap<String, String>) -> anyhow::Result<()> {
    let providers = crate::providers::Providers::from_worker(props).map_err(anyhow::Error::msg)?;
    let resolved = providers.resolve(props).map_err(anyhow::Error::msg)?;
    set_default(ClientSecurity::from_props(&resolved, "").map_err(anyhow::Error::msg)?);
    Ok(())
}

/// Certificates as PEM text.
fn pem_certificates(certs: &[rustls_pki_types::CertificateDer<'_>]) -> String {
    use base64::Engine;
    let mut out = String::new();
    for c in certs {
        let b64 = base64::engine::general_purpose::STANDARD.encode(c.as_ref());
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        for line in b64.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(line));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
    }
    out
}

/// The type of a store file without a declared type: JKS, PEM or PKCS12.
fn sniff(path: &str) -> Option<String> {
    let mut head = [0u8; 64];
    let n = std::io::Read::read(&mut std::fs::File::open(path).ok()?, &mut head).ok()?;
    let head = &head[..n];
    Some(if head.starts_with(&[0xFE, 0xED, 0xFE, 0xED]) {
        "JKS".into()
    } else if String::from_utf8_lossy(head).contains("-----BEGIN") {
        "PEM".into()
    } else {
        "PKCS12".into()
    })
}

static DEFAULT: OnceLock<ClientSecurity> = OnceLock::new();

/// Sets how this process's own protocol connections reach the brokers (a
/// worker's unprefixed keys, a tool's `--command-config`); the first call wins.
pub fn set_default(security: ClientSecurity) {
    let _ = DEFAULT.set(security);
}

/// The process's client security (plaintext unless [`set_default`] said otherwise).
pub fn default_security() -> ClientSecurity {
    DEFAULT.get().cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn java_keys_become_librdkafka_keys() {
        let out = to_librdkafka(map(&[
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            (
                "sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"connect\" password=\"c-secret\";",
            ),
            ("ssl.truststore.type", "PEM"),
            ("ssl.truststore.location", "/etc/ca.pem"),
            ("ssl.endpoint.identification.algorithm", ""),
            ("linger.ms", "5"),
        ]))
        .expect("translates");
        assert_eq!(
            out,
            map(&[
                ("security.protocol", "SASL_SSL"),
                ("sasl.mechanisms", "SCRAM-SHA-512"),
                ("sasl.username", "connect"),
                ("sasl.password", "c-secret"),
                ("ssl.ca.location", "/etc/ca.pem"),
                ("ssl.endpoint.identification.algorithm", "none"),
                ("linger.ms", "5"),
            ])
        );
        let e = to_librdkafka(map(&[(
            "sasl.jaas.config",
            "com.sun.security.auth.module.JndiLoginModule required;",
        )]))
        .expect_err("refused");
        assert!(e.contains("JndiLoginModule is not allowed"), "{e}");
        let e = to_librdkafka(map(&[
            ("ssl.truststore.location", "/x.jks"),
            ("ssl.truststore.type", "JKS"),
        ]))
        .expect_err("refused");
        assert!(e.contains("convert it to PEM"), "{e}");
    }

    #[test]
    fn task_clients_inherit_the_worker_security_unless_they_set_their_own() {
        let worker = map(&[
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "PLAIN"),
            ("group.id", "g"),
        ]);
        let got = inherit(map(&[("linger.ms", "1")]), &worker);
        assert_eq!(
            got.get("security.protocol").map(String::as_str),
            Some("SASL_SSL")
        );
        assert!(!got.contains_key("group.id"));
        let own = inherit(map(&[("security.protocol", "SSL")]), &worker);
        assert_eq!(own.len(), 1);
    }

    #[test]
    fn the_own_client_needs_a_login_for_sasl() {
        let e = ClientSecurity::from_props(
            &map(&[
                ("security.protocol", "SASL_PLAINTEXT"),
                ("sasl.mechanism", "PLAIN"),
            ]),
            "",
        )
        .expect_err("no login");
        assert!(e.contains("needs sasl.jaas.config"), "{e}");
        let s = ClientSecurity::from_props(
            &map(&[
                ("admin.security.protocol", "SASL_PLAINTEXT"),
                ("admin.sasl.mechanism", "SCRAM-SHA-256"),
                ("admin.sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"a\" password=\"b\";"),
            ]),
            "admin.",
        )
        .expect("valid");
        let login = s.sasl.expect("sasl");
        assert_eq!(
            (login.username.as_str(), login.password.as_str()),
            ("a", "b")
        );
        assert!(!format!("{login:?}").contains('b') || !format!("{login:?}").contains("\"b\""));
    }
}
