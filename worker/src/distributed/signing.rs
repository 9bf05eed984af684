//! Signed requests between workers (KIP-507). The leader writes a random
//! session key to the config topic (`session-key`) and renews it every
//! `inter.worker.key.ttl.ms`; a worker sending an internal request (task
//! configs to the leader) puts the HMAC of the body under
//! `X-Connect-Authorization`, base64, and names the algorithm in
//! `X-Connect-Request-Signature-Algorithm`; the leader checks it with the
//! same key before acting.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "X-Connect-Authorization";
pub const ALGORITHM_HEADER: &str = "X-Connect-Request-Signature-Algorithm";
/// The one algorithm supported for keys and signatures.
pub const ALGORITHM: &str = "HmacSHA256";

/// A new random key of `bits` bits, base64 as it is written to the config topic.
pub fn generate(bits: usize) -> String {
    use rand::RngCore as _;
    let mut key = vec![0u8; bits.div_ceil(8).max(1)];
    rand::thread_rng().fill_bytes(&mut key);
    STANDARD.encode(key)
}

fn mac(key_b64: &str, body: &[u8]) -> Result<Hmac<Sha256>, String> {
    let key = STANDARD
        .decode(key_b64)
        .map_err(|e| format!("the session key is not base64: {e}"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)
        .map_err(|e| format!("the session key cannot be used: {e}"))?;
    mac.update(body);
    Ok(mac)
}

/// The `X-Connect-Authorization` value for `body`.
pub fn sign(key_b64: &str, body: &[u8]) -> Result<String, String> {
    Ok(STANDARD.encode(mac(key_b64, body)?.finalize().into_bytes()))
}

/// A signature as it arrived with an internal request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signature {
    pub algorithm: Option<String>,
    pub signature: Option<String>,
}

/// Why an internal request was refused, with Kafka Connect's messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 400
    Missing,
    /// 400
    UnknownAlgorithm(String),
    /// 403
    Invalid,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Missing => f.write_str("Internal request missing required signature"),
            Refusal::UnknownAlgorithm(a) => write!(
                f,
                "This worker does not support the '{a}' key signing algorithm used by other workers. \
                 This worker is currently configured to use: [{ALGORITHM}]. Check that all workers' \
                 configuration files permit the same set of signature algorithms, and correct any \
                 misconfigured worker and restart it."
            ),
            Refusal::Invalid => f.write_str("Internal request contained invalid signature."),
        }
    }
}

/// Checks `sig` over `body` with the session key.
pub fn verify(key_b64: &str, body: &[u8], sig: &Signature) -> Result<(), Refusal> {
    let (Some(algorithm), Some(signature)) = (&sig.algorithm, &sig.signature) else {
        return Err(Refusal::Missing);
    };
    if algorithm != ALGORITHM {
        return Err(Refusal::UnknownAlgorithm(algorithm.clone()));
    }
    let given = STANDARD
        .decode(signature.trim())
        .map_err(|_| Refusal::Invalid)?;
    mac(key_b64, body)
        .map_err(|_| Refusal::Invalid)?
        .verify_slice(&given)
        .map_err(|_| Refusal::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(key: &str, body: &[u8]) -> Signature {
        Signature {
            algorithm: Some(ALGORITHM.into()),
            signature: sign(key, body).ok(),
        }
    }

    #[test]
    fn a_signature_verifies_only_with_its_key_and_body() {
        let key = generate(256);
        assert_eq!(STANDARD.decode(&key).map(|k| k.len()), Ok(32));
        let body = br#"[{"task.class":"x"}]"#;
        assert_eq!(verify(&key, body, &signed(&key, body)), Ok(()));
        assert_eq!(
            verify(&key, b"[{}]", &signed(&key, body)),
            Err(Refusal::Invalid)
        );
        let other = generate(256);
        assert_eq!(
            verify(&other, body, &signed(&key, body)),
            Err(Refusal::Invalid)
        );
        assert_eq!(
            verify(&key, body, &Signature::default()),
            Err(Refusal::Missing)
        );
        let sha1 = Signature {
            algorithm: Some("HmacSHA1".into()),
            ..signed(&key, body)
        };
        assert_eq!(
            verify(&key, body, &sha1),
            Err(Refusal::UnknownAlgorithm("HmacSHA1".into()))
        );
    }

    #[test]
    fn signatures_match_the_rfc_4231_test_vector() {
        // RFC 4231 test case 2: key "Jefe".
        let key = STANDARD.encode(b"Jefe");
        let sig = sign(&key, b"what do ya want for nothing?").unwrap_or_default();
        let hex: String = STANDARD
            .decode(sig)
            .unwrap_or_default()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
