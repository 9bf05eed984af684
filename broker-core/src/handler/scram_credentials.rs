//! AlterUserScramCredentials and DescribeUserScramCredentials over the
//! broker's credential store, with Kafka's checks and messages; and the
//! answers to SASL requests on a listener that does not speak SASL.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use kafka_protocol::messages::alter_user_scram_credentials_response::AlterUserScramCredentialsResult;
use kafka_protocol::messages::describe_user_scram_credentials_response::{
    CredentialInfo, DescribeUserScramCredentialsResult,
};
use kafka_protocol::messages::*;

use super::{s, RequestCtx};
use crate::error_code::{
    CLUSTER_AUTHORIZATION_FAILED, DUPLICATE_RESOURCE, ILLEGAL_SASL_STATE, KAFKA_STORAGE_ERROR,
    NONE, RESOURCE_NOT_FOUND, UNACCEPTABLE_CREDENTIAL, UNSUPPORTED_SASL_MECHANISM,
};
use crate::security::acl::Operation;
use crate::security::scram::{Credential, Mechanism, MAX_ITERATIONS, MIN_ITERATIONS};
use crate::state::BrokerState;

pub(super) async fn handshake_elsewhere(
    _st: &Arc<BrokerState>,
    _ctx: &RequestCtx,
    _req: SaslHandshakeRequest,
) -> SaslHandshakeResponse {
    SaslHandshakeResponse::default().with_error_code(ILLEGAL_SASL_STATE)
}

pub(super) async fn authenticate_elsewhere(
    _st: &Arc<BrokerState>,
    _ctx: &RequestCtx,
    _req: SaslAuthenticateRequest,
) -> SaslAuthenticateResponse {
    SaslAuthenticateResponse::default()
        .with_error_code(ILLEGAL_SASL_STATE)
        .with_error_message(Some(s(
            "this listener does not speak SASL (see listener.security.protocol.map)",
        )))
}

/// Without ACLs, SCRAM users are managed by an authenticated client or from
/// this machine, never by an anonymous client from elsewhere (a plaintext
/// listener must not hand out SASL identities to the network).
fn may_manage(st: &BrokerState, ctx: &RequestCtx, op: Operation) -> bool {
    if st.acls.enabled() {
        return ctx.may_cluster(st, op);
    }
    if ctx.principal != super::ANONYMOUS {
        return true;
    }
    ctx.client_host
        .trim_start_matches('/')
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

const NOT_ALLOWED: &str =
    "Managing SCRAM credentials needs an authenticated client, or a client on the broker's machine";

pub(super) async fn alter(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: AlterUserScramCredentialsRequest,
) -> AlterUserScramCredentialsResponse {
    if !may_manage(st, ctx, Operation::Alter) {
        let users: BTreeSet<String> = req
            .deletions
            .iter()
            .map(|d| d.name.to_string())
            .chain(req.upsertions.iter().map(|u| u.name.to_string()))
            .collect();
        let results = users
            .iter()
            .map(|u| {
                AlterUserScramCredentialsResult::default()
                    .with_user(s(u))
                    .with_error_code(CLUSTER_AUTHORIZATION_FAILED)
                    .with_error_message(Some(s(NOT_ALLOWED)))
            })
            .collect();
        return AlterUserScramCredentialsResponse::default().with_results(results);
    }
    // One result per user: the first problem of any of its alterations.
    let mut errors: BTreeMap<String, (i16, String)> = BTreeMap::new();
    let mut users: BTreeSet<String> = BTreeSet::new();
    let mut seen: BTreeSet<(String, i8)> = BTreeSet::new();
    let mut fail = |user: &str, code: i16, msg: &str| {
        errors
            .entry(user.to_string())
            .or_insert((code, msg.to_string()));
    };
    // The checks every alteration passes: once per (user, mechanism), a
    // known mechanism, a name.
    let mut first_checks = |user: &str, mechanism: i8| -> Result<Mechanism, (i16, &str)> {
        if !seen.insert((user.to_string(), mechanism)) {
            return Err((
                DUPLICATE_RESOURCE,
                "A user credential cannot be altered twice in the same request",
            ));
        }
        let m = Mechanism::from_wire(mechanism)
            .ok_or((UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism"))?;
        if user.is_empty() {
            return Err((UNACCEPTABLE_CREDENTIAL, "Username must not be empty"));
        }
        Ok(m)
    };
    let mut deletions = Vec::new();
    let mut upsertions = Vec::new();
    for d in &req.deletions {
        let user = d.name.to_string();
        users.insert(user.clone());
        match first_checks(&user, d.mechanism) {
            Err((code, msg)) => fail(&user, code, msg),
            Ok(m) if st.scram.get(&user, m).is_none() => fail(
                &user,
                RESOURCE_NOT_FOUND,
                "Attempt to delete a user credential that does not exist",
            ),
            Ok(m) => deletions.push((user, m)),
        }
    }
    for u in &req.upsertions {
        let user = u.name.to_string();
        users.insert(user.clone());
        match first_checks(&user, u.mechanism) {
            Err((code, msg)) => fail(&user, code, msg),
            Ok(_) if u.iterations < MIN_ITERATIONS => {
                fail(&user, UNACCEPTABLE_CREDENTIAL, "Too few iterations")
            }
            Ok(_) if u.iterations > MAX_ITERATIONS => {
                fail(&user, UNACCEPTABLE_CREDENTIAL, "Too many iterations")
            }
            Ok(_) if u.salt.is_empty() || u.salted_password.is_empty() => fail(
                &user,
                UNACCEPTABLE_CREDENTIAL,
                "Salt and salted password must not be empty",
            ),
            Ok(m) => upsertions.push((
                user,
                m,
                Credential::from_salted(m, &u.salt, u.iterations, &u.salted_password),
            )),
        }
    }
    deletions.retain(|(u, _)| !errors.contains_key(u));
    upsertions.retain(|(u, _, _)| !errors.contains_key(u));
    let changed: BTreeSet<String> = deletions
        .iter()
        .map(|(u, _)| u.clone())
        .chain(upsertions.iter().map(|(u, _, _)| u.clone()))
        .collect();
    if !changed.is_empty() {
        let store = st.scram.clone();
        let result = tokio::task::spawn_blocking(move || store.apply(&deletions, upsertions)).await;
        let failure = match result {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(e.to_string()),
        };
        if let Some(e) = failure {
            tracing::error!("storing SCRAM credentials failed: {e}");
            for u in &changed {
                errors.insert(
                    u.clone(),
                    (
                        KAFKA_STORAGE_ERROR,
                        format!("storing the credential failed: {e}"),
                    ),
                );
            }
        } else {
            for u in &changed {
                tracing::info!(
                    "SCRAM credentials of user {u:?} altered by {}",
                    ctx.principal
                );
            }
        }
    }
    let results = users
        .into_iter()
        .map(|u| {
            let (code, msg) = errors.remove(&u).unwrap_or((NONE, String::new()));
            AlterUserScramCredentialsResult::default()
                .with_user(s(&u))
                .with_error_code(code)
                .with_error_message((code != NONE).then(|| s(&msg)))
        })
        .collect();
    AlterUserScramCredentialsResponse::default().with_results(results)
}

pub(super) async fn describe(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: DescribeUserScramCredentialsRequest,
) -> DescribeUserScramCredentialsResponse {
    if !may_manage(st, ctx, Operation::Describe) {
        return DescribeUserScramCredentialsResponse::default()
            .with_error_code(CLUSTER_AUTHORIZATION_FAILED)
            .with_error_message(Some(s(NOT_ALLOWED)));
    }
    let all = st.scram.describe();
    let info = |list: &[(Mechanism, i32)]| -> Vec<CredentialInfo> {
        list.iter()
            .map(|(m, i)| {
                CredentialInfo::default()
                    .with_mechanism(m.wire())
                    .with_iterations(*i)
            })
            .collect()
    };
    let results = match req.users.filter(|u| !u.is_empty()) {
        None => all
            .iter()
            .map(|(u, list)| {
                DescribeUserScramCredentialsResult::default()
                    .with_user(s(u))
                    .with_credential_infos(info(list))
            })
            .collect(),
        Some(names) => {
            let mut seen = BTreeSet::new();
            let duplicated: BTreeSet<String> = names
                .iter()
                .map(|n| n.name.to_string())
                .filter(|n| !seen.insert(n.clone()))
                .collect();
            let mut done = BTreeSet::new();
            names
                .iter()
                .map(|n| n.name.to_string())
                .filter(|n| done.insert(n.clone()))
                .map(|n| {
                    let r = DescribeUserScramCredentialsResult::default().with_user(s(&n));
                    if duplicated.contains(&n) {
                        r.with_error_code(DUPLICATE_RESOURCE).with_error_message(Some(s(&format!(
                            "Cannot describe SCRAM credentials for the same user twice in a single request: {n}"
                        ))))
                    } else {
                        match all.get(&n) {
                            Some(list) => r.with_credential_infos(info(list)),
                            None => r.with_error_code(RESOURCE_NOT_FOUND).with_error_message(Some(s(
                                &format!("Attempt to describe a user credential that does not exist: {n}"),
                            ))),
                        }
                    }
                })
                .collect()
        }
    };
    DescribeUserScramCredentialsResponse::default().with_results(results)
}
