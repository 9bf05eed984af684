//! SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka speaks
//! them: the key derivation, the server and client exchanges, and the
//! broker's durable credential store, which keeps only the salt, the
//! iteration count and the derived stored and server keys.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use parking_lot::RwLock;
use rand::RngCore;
use sha2::{Digest, Sha256, Sha512};

/// The two SCRAM mechanisms, with Kafka's wire numbers (AlterUserScramCredentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mechanism {
    Sha256,
    Sha512,
}

/// Kafka's bounds on the iteration count of a stored credential.
pub const MIN_ITERATIONS: i32 = 4096;
pub const MAX_ITERATIONS: i32 = 16384;

impl Mechanism {
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Sha256 => "SCRAM-SHA-256",
            Mechanism::Sha512 => "SCRAM-SHA-512",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_uppercase().as_str() {
            "SCRAM-SHA-256" => Some(Mechanism::Sha256),
            "SCRAM-SHA-512" => Some(Mechanism::Sha512),
            _ => None,
        }
    }

    pub fn wire(self) -> i8 {
        match self {
            Mechanism::Sha256 => 1,
            Mechanism::Sha512 => 2,
        }
    }

    pub fn from_wire(v: i8) -> Option<Self> {
        match v {
            1 => Some(Mechanism::Sha256),
            2 => Some(Mechanism::Sha512),
            _ => None,
        }
    }

    pub fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
            // HMAC takes keys of any length, so this never fails.
            match <M as Mac>::new_from_slice(key) {
                Ok(mut m) => {
                    m.update(data);
                    m.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            }
        }
        match self {
            Mechanism::Sha256 => run::<Hmac<Sha256>>(key, data),
            Mechanism::Sha512 => run::<Hmac<Sha512>>(key, data),
        }
    }

    pub fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            Mechanism::Sha256 => Sha256::digest(data).to_vec(),
            Mechanism::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// `Hi(password, salt, i)`: PBKDF2 with this mechanism's HMAC.
    pub fn salted_password(self, password: &[u8], salt: &[u8], iterations: i32) -> Vec<u8> {
        let mut first = salt.to_vec();
        first.extend_from_slice(&[0, 0, 0, 1]);
        let mut u = self.hmac(password, &first);
        let mut out = u.clone();
        for _ in 1..iterations.max(1) {
            u = self.hmac(password, &u);
            for (o, x) in out.iter_mut().zip(&u) {
                *o ^= x;
            }
        }
        out
    }
}

/// What the broker keeps of one user's password for one mechanism.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub salt: Vec<u8>,
    pub iterations: i32,
    pub stored_key: Vec<u8>,
    pub server_key: Vec<u8>,
}

impl Credential {
    /// Derives the stored and server keys from a salted password (what
    /// AlterUserScramCredentials carries).
    pub fn from_salted(mech: Mechanism, salt: &[u8], iterations: i32, salted: &[u8]) -> Self {
        let client_key = mech.hmac(salted, b"Client Key");
        Self {
            salt: salt.to_vec(),
            iterations,
            stored_key: mech.hash(&client_key),
            server_key: mech.hmac(salted, b"Server Key"),
        }
    }

    pub fn from_password(mech: Mechanism, password: &str, iterations: i32) -> Self {
        let salt = random_bytes(32);
        let salted = mech.salted_password(password.as_bytes(), &salt, iterations);
        Self::from_salted(mech, &salt, iterations, &salted)
    }
}

pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut b);
    b
}

fn nonce() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes(24))
}

/// The broker's SCRAM users, kept in a file of the log directory (written
/// whole, to a temporary file that is synced and renamed).
#[derive(Debug)]
pub struct CredentialStore {
    path: Option<PathBuf>,
    users: RwLock<BTreeMap<String, BTreeMap<Mechanism, Credential>>>,
}

impl CredentialStore {
    /// Loads `path`, or starts empty when it does not exist.
    pub fn load(path: PathBuf) -> std::io::Result<Self> {
        let mut users: BTreeMap<String, BTreeMap<Mechanism, Credential>> = BTreeMap::new();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                for (n, line) in text.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    let bad = || {
                        std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!(
                                "{}: line {} is not a SCRAM credential",
                                path.display(),
                                n + 1
                            ),
                        )
                    };
                    let f: Vec<&str> = line.split('\t').collect();
                    let [user, mech, iter, salt, stored, server] = f[..] else {
                        return Err(bad());
                    };
                    let d = |s: &str| B64.decode(s).map_err(|_| bad());
                    let user = String::from_utf8(d(user)?).map_err(|_| bad())?;
                    let mech = Mechanism::from_name(mech).ok_or_else(bad)?;
                    let cred = Credential {
                        iterations: iter.parse().map_err(|_| bad())?,
                        salt: d(salt)?,
                        stored_key: d(stored)?,
                        server_key: d(server)?,
                    };
                    users.entry(user).or_default().insert(mech, cred);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(Self {
            path: Some(path),
            users: RwLock::new(users),
        })
    }

    /// A store that lives in memory only (tests).
    pub fn in_memory() -> Self {
        Self {
            path: None,
            users: RwLock::new(BTreeMap::new()),
        }
    }

    pub fn get(&self, user: &str, mech: Mechanism) -> Option<Credential> {
        self.users.read().get(user)?.get(&mech).cloned()
    }

    /// Every user with the mechanisms and iteration counts it has.
    pub fn describe(&self) -> BTreeMap<String, Vec<(Mechanism, i32)>> {
        self.users
            .read()
            .iter()
            .map(|(u, m)| {
                (
                    u.clone(),
                    m.iter().map(|(k, c)| (*k, c.iterations)).collect(),
                )
            })
            .collect()
    }

    /// Applies deletions and upsertions together and makes them durable.
    pub fn apply(
        &self,
        deletions: &[(String, Mechanism)],
        upsertions: Vec<(String, Mechanism, Credential)>,
    ) -> std::io::Result<()> {
        let mut users = self.users.write();
        let before = users.clone();
        for (u, m) in deletions {
            if let Some(map) = users.get_mut(u) {
                map.remove(m);
                if map.is_empty() {
                    users.remove(u);
                }
            }
        }
        for (u, m, c) in upsertions {
            users.entry(u).or_default().insert(m, c);
        }
        if let Err(e) = self.persist(&users) {
            *users = before;
            return Err(e);
        }
        Ok(())
    }

    fn persist(
        &self,
        users: &BTreeMap<String, BTreeMap<Mechanism, Credential>>,
    ) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let mut text = String::new();
        for (u, map) in users {
            for (m, c) in map {
                text.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\n",
                    B64.encode(u),
                    m.name(),
                    c.iterations,
                    B64.encode(&c.salt),
                    B64.encode(&c.stored_key),
                    B64.encode(&c.server_key)
                ));
            }
        }
        super::write_private(path, text.as_bytes())
    }
}

/// Compares every byte, so the time taken does not tell how much matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        diff |= (*x ^ b.get(i).copied().unwrap_or(0)) as usize;
    }
    diff == 0
}

/// `=2C` and `=3D` in a SCRAM username (RFC 5802's saslname).
fn decode_saslname(s: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('=') {
        out.push_str(&rest[..i]);
        match rest.get(i..i + 3) {
            Some("=2C") => out.push(','),
            Some("=3D") => out.push('='),
            _ => return Err("invalid username encoding".into()),
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    Ok(out)
}

pub fn encode_saslname(s: &str) -> String {
    s.replace('=', "=3D").replace(',', "=2C")
}

fn attr<'a>(parts: &[&'a str], key: char) -> Option<&'a str> {
    parts.iter().find_map(|p| {
        let mut c = p.chars();
        (c.next() == Some(key) && c.next() == Some('=')).then(|| &p[2..])
    })
}

/// Server side of one SCRAM exchange.
#[derive(Debug)]
pub struct ScramServer {
    mech: Mechanism,
    state: ServerState,
}

#[derive(Debug)]
enum ServerState {
    Start,
    SentFirst {
        user: String,
        gs2: String,
        nonce: String,
        client_first_bare: String,
        server_first: String,
        cred: Credential,
    },
    Done,
}

/// The result of one server step.
#[derive(Debug, PartialEq, Eq)]
pub enum ServerStep {
    /// Send this challenge and wait for the next message.
    Challenge(Vec<u8>),
    /// Authenticated as `user`; send the final message.
    Success { user: String, last: Vec<u8> },
}

impl ScramServer {
    pub fn new(mech: Mechanism) -> Self {
        Self {
            mech,
            state: ServerState::Start,
        }
    }

    /// Handles one client message; an error is the reason authentication failed.
    pub fn step(&mut self, msg: &[u8], store: &CredentialStore) -> Result<ServerStep, String> {
        let text =
            std::str::from_utf8(msg).map_err(|_| "SCRAM message is not UTF-8".to_string())?;
        let invalid = || {
            format!(
                "Authentication failed during authentication due to invalid credentials with SASL mechanism {}",
                self.mech.name()
            )
        };
        match std::mem::replace(&mut self.state, ServerState::Done) {
            ServerState::Start => {
                // gs2-header: "n,," or "n,a=authzid,"; channel binding is not offered.
                let mut it = text.splitn(3, ',');
                let cb = it.next().unwrap_or("");
                let authzid = it.next().unwrap_or("");
                let bare = it.next().ok_or("invalid SCRAM client-first message")?;
                if cb != "n" {
                    return Err("SCRAM channel binding is not supported".into());
                }
                let parts: Vec<&str> = bare.split(',').collect();
                let user = decode_saslname(
                    attr(&parts, 'n').ok_or("SCRAM client-first message has no username")?,
                )?;
                let cnonce = attr(&parts, 'r').ok_or("SCRAM client-first message has no nonce")?;
                if parts.contains(&"tokenauth=true") {
                    return Err("delegation tokens are not supported".into());
                }
                if let Some(a) = authzid.strip_prefix("a=") {
                    if decode_saslname(a)? != user {
                        return Err(
                            "Authentication failed: Client requested an authorization id that is different from username"
                                .into(),
                        );
                    }
                }
                let cred = store.get(&user, self.mech).ok_or_else(invalid)?;
                let nonce = format!("{cnonce}{}", self::nonce());
                let server_first = format!(
                    "r={nonce},s={},i={}",
                    B64.encode(&cred.salt),
                    cred.iterations
                );
                let out = server_first.clone().into_bytes();
                self.state = ServerState::SentFirst {
                    user,
                    gs2: format!("{cb},{authzid},"),
                    nonce,
                    client_first_bare: bare.to_string(),
                    server_first,
                    cred,
                };
                Ok(ServerStep::Challenge(out))
            }
            ServerState::SentFirst {
                user,
                gs2,
                nonce,
                client_first_bare,
                server_first,
                cred,
            } => {
                let (without_proof, proof) = text
                    .rsplit_once(",p=")
                    .ok_or("SCRAM client-final message has no proof")?;
                let parts: Vec<&str> = without_proof.split(',').collect();
                // Kafka accepts a nonce that ends with the server's (as
                // librdkafka sends its own nonce before the server's whole one).
                if !attr(&parts, 'r').is_some_and(|r| r.ends_with(nonce.as_str())) {
                    return Err("Invalid client nonce in the final client message.".into());
                }
                if attr(&parts, 'c') != Some(B64.encode(gs2.as_bytes()).as_str()) {
                    return Err("Invalid channel binding in SCRAM client-final message".into());
                }
                let proof = B64.decode(proof).map_err(|_| invalid())?;
                let auth = format!("{client_first_bare},{server_first},{without_proof}");
                let sig = self.mech.hmac(&cred.stored_key, auth.as_bytes());
                if proof.len() != sig.len() {
                    return Err(invalid());
                }
                let client_key: Vec<u8> = proof.iter().zip(&sig).map(|(a, b)| a ^ b).collect();
                if !constant_time_eq(&self.mech.hash(&client_key), &cred.stored_key) {
                    return Err(invalid());
                }
                let v = self.mech.hmac(&cred.server_key, auth.as_bytes());
                Ok(ServerStep::Success {
                    user,
                    last: format!("v={}", B64.encode(v)).into_bytes(),
                })
            }
            ServerState::Done => Err("SCRAM exchange already complete".into()),
        }
    }
}

/// Client side of one SCRAM exchange.
pub struct ScramClient {
    mech: Mechanism,
    user: String,
    password: String,
    nonce: String,
    server_signature: Option<Vec<u8>>,
    auth: String,
}

impl std::fmt::Debug for ScramClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramClient")
            .field("mech", &self.mech)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl ScramClient {
    pub fn new(mech: Mechanism, user: &str, password: &str) -> Self {
        Self {
            mech,
            user: user.to_string(),
            password: password.to_string(),
            nonce: nonce(),
            server_signature: None,
            auth: String::new(),
        }
    }

    pub fn first(&self) -> Vec<u8> {
        format!("n,,n={},r={}", encode_saslname(&self.user), self.nonce).into_bytes()
    }

    /// Answers the server-first message.
    pub fn answer(&mut self, server_first: &[u8]) -> Result<Vec<u8>, String> {
        let text =
            std::str::from_utf8(server_first).map_err(|_| "server-first message is not UTF-8")?;
        let parts: Vec<&str> = text.split(',').collect();
        let nonce = attr(&parts, 'r').ok_or("server-first message has no nonce")?;
        if !nonce.starts_with(&self.nonce) {
            return Err("server nonce does not extend the client's".into());
        }
        let salt = B64
            .decode(attr(&parts, 's').ok_or("server-first message has no salt")?)
            .map_err(|_| "server salt is not base64")?;
        let iterations: i32 = attr(&parts, 'i')
            .and_then(|i| i.parse().ok())
            .ok_or("server-first message has no iteration count")?;
        if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
            return Err(format!(
                "the server asks for {iterations} iterations, outside {MIN_ITERATIONS}..={MAX_ITERATIONS}"
            ));
        }
        let salted = self
            .mech
            .salted_password(self.password.as_bytes(), &salt, iterations);
        let client_key = self.mech.hmac(&salted, b"Client Key");
        let stored = self.mech.hash(&client_key);
        let without_proof = format!("c=biws,r={nonce}");
        self.auth = format!(
            "n={},r={},{text},{without_proof}",
            encode_saslname(&self.user),
            self.nonce
        );
        let sig = self.mech.hmac(&stored, self.auth.as_bytes());
        let proof: Vec<u8> = client_key.iter().zip(&sig).map(|(a, b)| a ^ b).collect();
        let server_key = self.mech.hmac(&salted, b"Server Key");
        self.server_signature = Some(self.mech.hmac(&server_key, self.auth.as_bytes()));
        Ok(format!("{without_proof},p={}", B64.encode(proof)).into_bytes())
    }

    /// Checks the server-final message (the server proves it knows the key).
    pub fn verify(&self, server_final: &[u8]) -> Result<(), String> {
        let text =
            std::str::from_utf8(server_final).map_err(|_| "server-final message is not UTF-8")?;
        if let Some(e) = text.strip_prefix("e=") {
            return Err(format!("server refused: {e}"));
        }
        let v = text
            .strip_prefix("v=")
            .and_then(|v| B64.decode(v).ok())
            .ok_or("server-final message has no signature")?;
        if Some(v) != self.server_signature {
            return Err(
                "the server's signature does not match: it does not know this password".into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7677_test_vector() {
        // RFC 7677 section 3: user "user", password "pencil".
        let m = Mechanism::Sha256;
        let salt = B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").expect("b64");
        let salted = m.salted_password(b"pencil", &salt, 4096);
        let cred = Credential::from_salted(m, &salt, 4096, &salted);
        let client_first_bare = "n=user,r=rOprNGfwEbeRWgbNEkqO";
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let without_proof = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let auth = format!("{client_first_bare},{server_first},{without_proof}");
        let client_key = m.hmac(&salted, b"Client Key");
        let sig = m.hmac(&cred.stored_key, auth.as_bytes());
        let proof: Vec<u8> = client_key.iter().zip(&sig).map(|(a, b)| a ^ b).collect();
        assert_eq!(
            B64.encode(proof),
            "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        let v = m.hmac(&cred.server_key, auth.as_bytes());
        assert_eq!(
            B64.encode(v),
            "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
    }

    #[test]
    fn client_and_server_agree_and_a_wrong_password_fails() {
        for m in [Mechanism::Sha256, Mechanism::Sha512] {
            let store = CredentialStore::in_memory();
            store
                .apply(
                    &[],
                    vec![(
                        "al,i=ce".into(),
                        m,
                        Credential::from_password(m, "secret", 4096),
                    )],
                )
                .expect("stored");
            let mut c = ScramClient::new(m, "al,i=ce", "secret");
            let mut s = ScramServer::new(m);
            let ServerStep::Challenge(first) = s.step(&c.first(), &store).expect("first") else {
                panic!("expected a challenge")
            };
            let fin = c.answer(&first).expect("answer");
            match s.step(&fin, &store).expect("final") {
                ServerStep::Success { user, last } => {
                    assert_eq!(user, "al,i=ce");
                    c.verify(&last).expect("server verified");
                }
                other => panic!("unexpected {other:?}"),
            }
            let mut c = ScramClient::new(m, "al,i=ce", "wrong");
            let mut s = ScramServer::new(m);
            let ServerStep::Challenge(first) = s.step(&c.first(), &store).expect("first") else {
                panic!("expected a challenge")
            };
            let e = s
                .step(&c.answer(&first).expect("answer"), &store)
                .expect_err("wrong password");
            assert!(e.contains("invalid credentials"), "{e}");
            let e = ScramServer::new(m)
                .step(&ScramClient::new(m, "nobody", "x").first(), &store)
                .expect_err("unknown user");
            assert!(e.contains("invalid credentials"), "{e}");
        }
    }

    #[test]
    fn the_store_survives_a_reload() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("scram");
        let s = CredentialStore::load(path.clone()).expect("empty");
        let c = Credential::from_password(Mechanism::Sha512, "pw", 8192);
        s.apply(&[], vec![("bob".into(), Mechanism::Sha512, c.clone())])
            .expect("saved");
        let again = CredentialStore::load(path.clone()).expect("reloaded");
        assert_eq!(again.get("bob", Mechanism::Sha512), Some(c));
        again
            .apply(&[("bob".into(), Mechanism::Sha512)], vec![])
            .expect("deleted");
        assert!(CredentialStore::load(path)
            .expect("reloaded")
            .describe()
            .is_empty());
    }
}
