//! `weir configs --entity-type users`: SCRAM credentials, as kafka-configs.sh
//! alters and describes them (AlterUserScramCredentials and
//! DescribeUserScramCredentials). The password is salted and hashed here;
//! only the salted password travels.

use bytes::Bytes;
use kafka_protocol::messages::alter_user_scram_credentials_request::{
    ScramCredentialDeletion, ScramCredentialUpsertion,
};
use kafka_protocol::messages::describe_user_scram_credentials_request::UserName;
use kafka_protocol::messages::{
    AlterUserScramCredentialsRequest, DescribeUserScramCredentialsRequest,
};
use kafka_protocol::protocol::StrBytes;

use broker_core::security::scram::{random_bytes, Mechanism, MIN_ITERATIONS};

use crate::kafka::admin::Cluster;

/// Kafka's DescribeUserScramCredentials error for a user without credentials.
const RESOURCE_NOT_FOUND: i16 = 91;

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

/// `SCRAM-SHA-256=[iterations=8192,password=alice-secret],SCRAM-SHA-512=[password=x]`.
pub fn parse_add_config(text: &str) -> anyhow::Result<Vec<(Mechanism, i32, String)>> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (name, after) = rest.split_once('=').ok_or_else(|| {
            anyhow::anyhow!("--add-config {text:?}: expected MECHANISM=[password=...]")
        })?;
        let mech = Mechanism::from_name(name.trim()).ok_or_else(|| {
            anyhow::anyhow!(
                "--add-config: {name:?} is not a SCRAM mechanism (SCRAM-SHA-256 or SCRAM-SHA-512)"
            )
        })?;
        let after = after.trim_start();
        let (body, tail) = match after.strip_prefix('[') {
            Some(b) => b
                .split_once(']')
                .ok_or_else(|| anyhow::anyhow!("--add-config: {name} has no closing ']'"))?,
            None => after.split_once(',').unwrap_or((after, "")),
        };
        let mut iterations = MIN_ITERATIONS;
        let mut password = None;
        for kv in body.split(',').map(str::trim).filter(|kv| !kv.is_empty()) {
            match kv.split_once('=') {
                Some(("iterations", v)) => {
                    iterations = v.trim().parse().map_err(|_| {
                        anyhow::anyhow!("--add-config: {name} iterations={v:?} is not a number")
                    })?
                }
                Some(("password", v)) => password = Some(v.to_string()),
                _ => anyhow::bail!(
                    "--add-config: {name}: {kv:?} is neither iterations=N nor password=P"
                ),
            }
        }
        let password =
            password.ok_or_else(|| anyhow::anyhow!("--add-config: {name} has no password=..."))?;
        out.push((mech, iterations, password));
        rest = tail.trim_start_matches(',').trim();
    }
    Ok(out)
}

/// Upserts and deletes the user's credentials; Kafka's message when done.
pub async fn alter(
    cluster: &mut Cluster,
    user: &str,
    add: &[String],
    delete: &[String],
) -> anyhow::Result<()> {
    let mut upsertions = Vec::new();
    for text in add {
        for (mech, iterations, password) in parse_add_config(text)? {
            let salt = random_bytes(32);
            let salted = mech.salted_password(password.as_bytes(), &salt, iterations);
            upsertions.push(
                ScramCredentialUpsertion::default()
                    .with_name(s(user))
                    .with_mechanism(mech.wire())
                    .with_iterations(iterations)
                    .with_salt(Bytes::from(salt))
                    .with_salted_password(Bytes::from(salted)),
            );
        }
    }
    let mut deletions = Vec::new();
    for name in delete.iter().flat_map(|d| d.split(',')).map(str::trim) {
        if name.is_empty() {
            continue;
        }
        let mech = Mechanism::from_name(name).ok_or_else(|| {
            anyhow::anyhow!("--delete-config: {name:?} is not a SCRAM mechanism (SCRAM-SHA-256 or SCRAM-SHA-512)")
        })?;
        deletions.push(
            ScramCredentialDeletion::default()
                .with_name(s(user))
                .with_mechanism(mech.wire()),
        );
    }
    if upsertions.is_empty() && deletions.is_empty() {
        anyhow::bail!("Nothing to alter: give --add-config 'SCRAM-SHA-256=[password=...]' or --delete-config SCRAM-SHA-256");
    }
    let req = AlterUserScramCredentialsRequest::default()
        .with_upsertions(upsertions)
        .with_deletions(deletions);
    let resp = cluster.controller_conn().await?.send(&req, 0).await?;
    for r in &resp.results {
        if r.error_code != 0 {
            anyhow::bail!(
                "altering SCRAM credentials of user {} failed (error code {}): {}",
                r.user,
                r.error_code,
                r.error_message.as_deref().unwrap_or("")
            );
        }
    }
    println!("Completed updating config for user {user}.");
    Ok(())
}

/// Prints each user's mechanisms and iteration counts as kafka-configs.sh does.
pub async fn describe(cluster: &mut Cluster, user: Option<&str>) -> anyhow::Result<()> {
    let users = user.map(|u| vec![UserName::default().with_name(s(u))]);
    let req = DescribeUserScramCredentialsRequest::default().with_users(users);
    let resp = cluster.controller_conn().await?.send(&req, 0).await?;
    if resp.error_code != 0 {
        anyhow::bail!(
            "describing SCRAM credentials failed (error code {}): {}",
            resp.error_code,
            resp.error_message.as_deref().unwrap_or("")
        );
    }
    for r in &resp.results {
        if r.error_code == RESOURCE_NOT_FOUND && user.is_none() {
            continue;
        }
        if r.error_code != 0 {
            println!(
                "Error retrieving SCRAM credential configs for user-principal '{}': ResourceNotFoundException: {}",
                r.user,
                r.error_message.as_deref().unwrap_or("")
            );
            continue;
        }
        let list: Vec<String> = r
            .credential_infos
            .iter()
            .map(|c| {
                let name = Mechanism::from_wire(c.mechanism).map_or("UNKNOWN", |m| m.name());
                format!("{name}=iterations={}", c.iterations)
            })
            .collect();
        println!(
            "SCRAM credential configs for user-principal '{}' are {}",
            r.user,
            list.join(", ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_config_as_kafka_configs_takes_it() {
        let got = parse_add_config(
            "SCRAM-SHA-256=[iterations=8192,password=alice-secret],SCRAM-SHA-512=[password=a=b]",
        )
        .expect("parses");
        assert_eq!(
            got,
            vec![
                (Mechanism::Sha256, 8192, "alice-secret".to_string()),
                (Mechanism::Sha512, 4096, "a=b".to_string())
            ]
        );
        let e = parse_add_config("SCRAM-SHA-1=[password=x]").expect_err("unknown mechanism");
        assert!(e.to_string().contains("SCRAM-SHA-1"), "{e}");
        let e = parse_add_config("SCRAM-SHA-256=[iterations=8192]").expect_err("no password");
        assert!(e.to_string().contains("no password"), "{e}");
    }
}
