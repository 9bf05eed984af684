//! CreateAcls, DescribeAcls and DeleteAcls over the broker's authorizer,
//! with Kafka's checks: ALTER on the cluster to change ACLs, DESCRIBE to
//! list them, SECURITY_DISABLED when no authorizer is configured.

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::messages::create_acls_response::AclCreationResult;
use kafka_protocol::messages::delete_acls_response::{
    DeleteAclsFilterResult, DeleteAclsMatchingAcl,
};
use kafka_protocol::messages::describe_acls_response::{AclDescription, DescribeAclsResource};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;

use super::{s, RequestCtx};
use crate::error_code::{
    CLUSTER_AUTHORIZATION_FAILED, INVALID_REQUEST, KAFKA_STORAGE_ERROR, SECURITY_DISABLED,
};
use crate::security::acl::{
    AclBinding, AclFilter, Operation, PatternType, Permission, ResourceType,
};
use crate::state::BrokerState;

const NO_AUTHORIZER: &str = "No Authorizer is configured.";

/// Reads the seven fields every filter carries, or says which is unknown.
#[allow(clippy::too_many_arguments)]
fn filter_of(
    rt: i8,
    name: &Option<StrBytes>,
    pattern: i8,
    principal: &Option<StrBytes>,
    host: &Option<StrBytes>,
    op: i8,
    perm: i8,
) -> Result<AclFilter, String> {
    Ok(AclFilter {
        resource_type: ResourceType::from_wire(rt)
            .ok_or_else(|| format!("Unknown resource type {rt} in the filter"))?,
        name: name.as_ref().map(|n| n.to_string()),
        pattern: PatternType::from_wire(pattern)
            .ok_or_else(|| format!("Unknown pattern type {pattern} in the filter"))?,
        principal: principal.as_ref().map(|p| p.to_string()),
        host: host.as_ref().map(|h| h.to_string()),
        operation: Operation::from_wire(op)
            .ok_or_else(|| format!("Unknown operation {op} in the filter"))?,
        permission: Permission::from_wire(perm)
            .ok_or_else(|| format!("Unknown permission type {perm} in the filter"))?,
    })
}

pub(super) async fn create(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: CreateAclsRequest,
) -> CreateAclsResponse {
    let fail = |code: i16, msg: &str| {
        AclCreationResult::default()
            .with_error_code(code)
            .with_error_message(Some(s(msg)))
    };
    let refuse_all = |code: i16, msg: &str| {
        CreateAclsResponse::default()
            .with_results(req.creations.iter().map(|_| fail(code, msg)).collect())
    };
    if !st.acls.enabled() {
        return refuse_all(SECURITY_DISABLED, NO_AUTHORIZER);
    }
    if !ctx.may_cluster(st, Operation::Alter) {
        return refuse_all(CLUSTER_AUTHORIZATION_FAILED, "Authorization failed.");
    }
    let mut checked: Vec<Result<AclBinding, String>> = Vec::new();
    for c in &req.creations {
        let binding = (|| {
            let b = AclBinding {
                resource_type: ResourceType::from_wire(c.resource_type)
                    .ok_or_else(|| format!("Invalid resourceType {}", c.resource_type))?,
                name: c.resource_name.to_string(),
                pattern: PatternType::from_wire(c.resource_pattern_type)
                    .ok_or_else(|| format!("Invalid patternType {}", c.resource_pattern_type))?,
                principal: c.principal.to_string(),
                host: c.host.to_string(),
                operation: Operation::from_wire(c.operation)
                    .ok_or_else(|| format!("Invalid operation {}", c.operation))?,
                permission: Permission::from_wire(c.permission_type)
                    .ok_or_else(|| format!("Invalid permissionType {}", c.permission_type))?,
            };
            b.validate()?;
            Ok(b)
        })();
        checked.push(binding);
    }
    let valid: Vec<AclBinding> = checked.iter().filter_map(|c| c.clone().ok()).collect();
    // The file is synced off the request threads.
    let stored = {
        let (st, valid) = (st.clone(), valid.clone());
        tokio::task::spawn_blocking(move || st.acls.create(&valid))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
    };
    if let Err(e) = &stored {
        tracing::error!("could not store ACLs: {e}");
    } else {
        for b in &valid {
            tracing::info!("{} added ACL {b}", ctx.principal);
        }
    }
    let results = checked
        .into_iter()
        .map(|c| match (c, &stored) {
            (Err(msg), _) => fail(INVALID_REQUEST, &msg),
            (Ok(_), Err(e)) => fail(KAFKA_STORAGE_ERROR, &format!("could not store ACLs: {e}")),
            (Ok(_), Ok(())) => AclCreationResult::default(),
        })
        .collect();
    CreateAclsResponse::default().with_results(results)
}

pub(super) async fn describe(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: DescribeAclsRequest,
) -> DescribeAclsResponse {
    let resp = DescribeAclsResponse::default();
    if !st.acls.enabled() {
        return resp
            .with_error_code(SECURITY_DISABLED)
            .with_error_message(Some(s("No Authorizer is configured on the broker")));
    }
    if !ctx.may_cluster(st, Operation::Describe) {
        return resp
            .with_error_code(CLUSTER_AUTHORIZATION_FAILED)
            .with_error_message(Some(s("Authorization failed.")));
    }
    let filter = match filter_of(
        req.resource_type_filter,
        &req.resource_name_filter,
        req.pattern_type_filter,
        &req.principal_filter,
        &req.host_filter,
        req.operation,
        req.permission_type,
    ) {
        Ok(f) => f,
        Err(msg) => {
            return resp
                .with_error_code(INVALID_REQUEST)
                .with_error_message(Some(s(&msg)))
        }
    };
    // One entry per resource pattern, with its ACLs.
    let mut by_resource: BTreeMap<(ResourceType, String, PatternType), Vec<AclDescription>> =
        BTreeMap::new();
    for b in st.acls.describe(&filter) {
        by_resource
            .entry((b.resource_type, b.name.clone(), b.pattern))
            .or_default()
            .push(
                AclDescription::default()
                    .with_principal(s(&b.principal))
                    .with_host(s(&b.host))
                    .with_operation(b.operation.wire())
                    .with_permission_type(b.permission.wire()),
            );
    }
    resp.with_resources(
        by_resource
            .into_iter()
            .map(|((rt, name, pattern), acls)| {
                DescribeAclsResource::default()
                    .with_resource_type(rt.wire())
                    .with_resource_name(s(&name))
                    .with_pattern_type(pattern.wire())
                    .with_acls(acls)
            })
            .collect(),
    )
}

pub(super) async fn delete(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: DeleteAclsRequest,
) -> DeleteAclsResponse {
    let fail = |code: i16, msg: &str| {
        DeleteAclsFilterResult::default()
            .with_error_code(code)
            .with_error_message(Some(s(msg)))
    };
    let refuse_all = |code: i16, msg: &str| {
        DeleteAclsResponse::default()
            .with_filter_results(req.filters.iter().map(|_| fail(code, msg)).collect())
    };
    if !st.acls.enabled() {
        return refuse_all(SECURITY_DISABLED, NO_AUTHORIZER);
    }
    if !ctx.may_cluster(st, Operation::Alter) {
        return refuse_all(CLUSTER_AUTHORIZATION_FAILED, "Authorization failed.");
    }
    let parsed: Vec<Result<AclFilter, String>> = req
        .filters
        .iter()
        .map(|f| {
            filter_of(
                f.resource_type_filter,
                &f.resource_name_filter,
                f.pattern_type_filter,
                &f.principal_filter,
                &f.host_filter,
                f.operation,
                f.permission_type,
            )
        })
        .collect();
    let valid: Vec<AclFilter> = parsed.iter().filter_map(|p| p.clone().ok()).collect();
    let deleted = {
        let (st, valid) = (st.clone(), valid.clone());
        tokio::task::spawn_blocking(move || st.acls.delete(&valid))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
    };
    let removed = match deleted {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("could not store ACLs: {e}");
            return refuse_all(KAFKA_STORAGE_ERROR, &format!("could not store ACLs: {e}"));
        }
    };
    let mut removed = removed.into_iter();
    let results = parsed
        .into_iter()
        .map(|p| match p {
            Err(msg) => fail(INVALID_REQUEST, &msg),
            Ok(_) => {
                let matching = removed.next().unwrap_or_default();
                for b in &matching {
                    tracing::info!("{} removed ACL {b}", ctx.principal);
                }
                DeleteAclsFilterResult::default().with_matching_acls(
                    matching
                        .into_iter()
                        .map(|b| {
                            DeleteAclsMatchingAcl::default()
                                .with_resource_type(b.resource_type.wire())
                                .with_resource_name(s(&b.name))
                                .with_pattern_type(b.pattern.wire())
                                .with_principal(s(&b.principal))
                                .with_host(s(&b.host))
                                .with_operation(b.operation.wire())
                                .with_permission_type(b.permission.wire())
                        })
                        .collect(),
                )
            }
        })
        .collect();
    DeleteAclsResponse::default().with_filter_results(results)
}
