//! Listener security as Kafka configures it: each listener speaks
//! PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL; TLS comes from the
//! listener's `ssl.*` keys and SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)
//! from its `sasl.*` keys and JAAS configuration. A listener's key is read
//! as `listener.name.<name>.<key>` first, then as `<key>`.

pub mod acl;
pub mod jaas;
pub mod principal;
pub mod sasl;
pub mod scram;
pub mod tls;

#[cfg(test)]
mod handshake_fuzz;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use tokio_rustls::TlsAcceptor;

use crate::config::{BrokerConfig, Endpoint};
use sasl::SaslSettings;

/// Kafka's four security protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityProtocol {
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

impl SecurityProtocol {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "PLAINTEXT" => Some(Self::Plaintext),
            "SSL" => Some(Self::Ssl),
            "SASL_PLAINTEXT" => Some(Self::SaslPlaintext),
            "SASL_SSL" => Some(Self::SaslSsl),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Plaintext => "PLAINTEXT",
            Self::Ssl => "SSL",
            Self::SaslPlaintext => "SASL_PLAINTEXT",
            Self::SaslSsl => "SASL_SSL",
        }
    }

    pub fn uses_tls(self) -> bool {
        matches!(self, Self::Ssl | Self::SaslSsl)
    }

    pub fn uses_sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }
}

/// The mechanisms Weir's broker speaks.
pub const MECHANISMS: &[&str] = &["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

/// One listener's keys: `listener.name.<name>.KEY`, then `KEY`.
pub struct ListenerKeys<'a> {
    raw: &'a BTreeMap<String, String>,
    prefix: String,
}

impl<'a> ListenerKeys<'a> {
    pub fn new(raw: &'a BTreeMap<String, String>, listener: &str) -> Self {
        Self {
            raw,
            prefix: format!("listener.name.{}.", listener.to_ascii_lowercase()),
        }
    }
}

impl tls::Keys for ListenerKeys<'_> {
    fn get_raw(&self, key: &str) -> Option<(String, String)> {
        let prefixed = format!("{}{key}", self.prefix);
        [prefixed, key.to_string()]
            .into_iter()
            .find_map(|k| Some((k.clone(), self.raw.get(&k)?.clone())))
    }
}

/// What one listener needs while it serves.
#[derive(Clone)]
pub struct ListenerSecurity {
    pub endpoint: Endpoint,
    pub tls: Option<TlsAcceptor>,
    pub sasl: Option<Arc<SaslSettings>>,
    /// On an SSL listener: how a client certificate names its principal.
    pub certificate_principal: Option<Arc<principal::PrincipalMapper>>,
}

impl std::fmt::Debug for ListenerSecurity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenerSecurity")
            .field("endpoint", &self.endpoint)
            .field("tls", &self.tls.is_some())
            .field("sasl", &self.sasl)
            .field("certificate_principal", &self.certificate_principal)
            .finish()
    }
}

/// Builds every listener's security from the broker's keys; an error names
/// the key to change. `kafka_opts` is `KAFKA_OPTS`, which may name a JAAS file.
pub fn listeners(
    config: &BrokerConfig,
    kafka_opts: Option<&str>,
) -> Result<Vec<ListenerSecurity>, String> {
    config
        .listeners
        .iter()
        .map(|l| listener(config, l, kafka_opts))
        .collect()
}

fn listener(
    config: &BrokerConfig,
    l: &Endpoint,
    kafka_opts: Option<&str>,
) -> Result<ListenerSecurity, String> {
    let keys = ListenerKeys::new(&config.raw, &l.name);
    let tls = if l.protocol.uses_tls() {
        Some(TlsAcceptor::from(tls::server_config(&keys, &l.name)?))
    } else {
        None
    };
    let sasl = if l.protocol.uses_sasl() {
        Some(Arc::new(sasl_settings(config, l, &keys, kafka_opts)?))
    } else {
        None
    };
    // SASL names the principal of a SASL_SSL client; on SSL the certificate does.
    let certificate_principal = if l.protocol == SecurityProtocol::Ssl {
        use tls::Keys;
        let mapper = match keys.get("ssl.principal.mapping.rules") {
            Some((k, v)) => {
                principal::PrincipalMapper::parse(&v).map_err(|e| format!("{k}: {e}"))?
            }
            None => principal::PrincipalMapper::default(),
        };
        Some(Arc::new(mapper))
    } else {
        None
    };
    Ok(ListenerSecurity {
        endpoint: l.clone(),
        tls,
        sasl,
        certificate_principal,
    })
}

fn sasl_settings(
    config: &BrokerConfig,
    l: &Endpoint,
    keys: &ListenerKeys<'_>,
    kafka_opts: Option<&str>,
) -> Result<SaslSettings, String> {
    use tls::Keys;
    let lower = l.name.to_ascii_lowercase();
    let (explicit, mut mechanisms) = match keys.get("sasl.enabled.mechanisms") {
        Some((k, v)) => {
            let mut list = Vec::new();
            for m in v
                .split(',')
                .map(|m| m.trim().to_ascii_uppercase())
                .filter(|m| !m.is_empty())
            {
                if !MECHANISMS.contains(&m.as_str()) {
                    return Err(format!(
                        "{k}={v}: {m} is not supported; Weir's broker speaks {}",
                        MECHANISMS.join(", ")
                    ));
                }
                list.push(m);
            }
            if list.is_empty() {
                return Err(format!("{k} is empty"));
            }
            (true, list)
        }
        None => (false, MECHANISMS.iter().map(|m| m.to_string()).collect()),
    };
    let mut plain_users = HashMap::new();
    if mechanisms.iter().any(|m| m == "PLAIN") {
        for module in jaas_modules(config, &lower, "plain", kafka_opts)? {
            if module.1.class != jaas::PLAIN_MODULE {
                continue;
            }
            for (u, p) in module.1.plain_users() {
                plain_users.insert(u.to_string(), p.to_string());
            }
        }
        if plain_users.is_empty() {
            if explicit {
                return Err(format!(
                    "listener {} enables PLAIN but no PLAIN users are configured: set listener.name.{lower}.plain.sasl.jaas.config={} required user_alice=\"alice-secret\";",
                    l.name,
                    jaas::PLAIN_MODULE
                ));
            }
            mechanisms.retain(|m| m != "PLAIN");
        }
    }
    // Kafka's key is per listener and mechanism, else broker-wide.
    let mut reauth_ms = HashMap::new();
    for m in &mechanisms {
        let own = format!(
            "listener.name.{lower}.{}.connections.max.reauth.ms",
            m.to_ascii_lowercase()
        );
        let found = config
            .raw
            .get(&own)
            .map(|v| (own.clone(), v.clone()))
            .or_else(|| {
                config
                    .raw
                    .get("connections.max.reauth.ms")
                    .map(|v| ("connections.max.reauth.ms".to_string(), v.clone()))
            });
        if let Some((k, v)) = found {
            let ms = v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|ms| *ms >= 0)
                .ok_or_else(|| {
                    format!("{k}={v}: a number of milliseconds (0 for no limit) is expected")
                })?;
            reauth_ms.insert(m.clone(), ms);
        }
    }
    Ok(SaslSettings {
        mechanisms,
        plain_users,
        reauth_ms,
    })
}

/// The JAAS login modules of a listener's mechanism, with the key or file
/// they came from: `listener.name.<l>.<mech>.sasl.jaas.config`, else the
/// `KafkaServer` section (or `<l>.KafkaServer`) of the JAAS file in
/// `KAFKA_OPTS`. Only Kafka's PLAIN and SCRAM login modules are accepted.
fn jaas_modules(
    config: &BrokerConfig,
    listener: &str,
    mech: &str,
    kafka_opts: Option<&str>,
) -> Result<Vec<(String, jaas::LoginModule)>, String> {
    let key = format!("listener.name.{listener}.{mech}.sasl.jaas.config");
    let mut out = Vec::new();
    if let Some(v) = config.raw.get(&key) {
        for m in jaas::parse_config(v).map_err(|e| format!("{key}: {e}"))? {
            out.push((key.clone(), m));
        }
    } else if let Some(path) = kafka_opts.and_then(jaas::file_from_kafka_opts) {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("JAAS file {path} (KAFKA_OPTS): {e}"))?;
        let section = format!("{listener}.KafkaServer");
        let found =
            match jaas::parse_file_section(&text, &section).map_err(|e| format!("{path}: {e}"))? {
                Some(s) => Some(s),
                None => jaas::parse_file_section(&text, "KafkaServer")
                    .map_err(|e| format!("{path}: {e}"))?,
            };
        for m in found.unwrap_or_default() {
            out.push((path.clone(), m));
        }
    }
    for (source, m) in &out {
        if m.class != jaas::PLAIN_MODULE && m.class != jaas::SCRAM_MODULE {
            return Err(format!(
                "{source}: login module {} is not allowed; use {} or {}",
                m.class,
                jaas::PLAIN_MODULE,
                jaas::SCRAM_MODULE
            ));
        }
    }
    Ok(out)
}

/// Writes a file readable by the broker's user only, whole: to a temporary
/// file that is synced, then renamed into place (credentials and ACLs).
pub fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    // A leftover temporary file would keep its own permissions.
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// A client's address as Java's `InetAddress.getHostAddress()` writes it,
/// which is what ACL hosts are compared with: an IPv4 client of a
/// dual-stack listener as IPv4, IPv6 uncompressed (`0:0:0:0:0:0:0:1`).
pub fn java_host_address(ip: std::net::IpAddr) -> String {
    match ip.to_canonical() {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => v6
            .segments()
            .iter()
            .map(|s| format!("{s:x}"))
            .collect::<Vec<_>>()
            .join(":"),
    }
}

#[cfg(test)]
mod address_tests {
    #[test]
    fn addresses_as_java_writes_them() {
        let f = |s: &str| super::java_host_address(s.parse().expect("address"));
        assert_eq!(f("127.0.0.1"), "127.0.0.1");
        assert_eq!(f("::ffff:10.0.0.5"), "10.0.0.5");
        assert_eq!(f("::1"), "0:0:0:0:0:0:0:1");
        assert_eq!(f("fe80::1:abcd"), "fe80:0:0:0:0:0:1:abcd");
    }
}
