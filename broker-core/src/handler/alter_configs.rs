//! AlterConfigs (legacy): replaces a topic's whole set of overrides.

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::messages::alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{AlterConfigsRequest, AlterConfigsResponse};

use super::describe_configs::{RESOURCE_BROKER, RESOURCE_TOPIC};

/// Kafka's resource types of broker loggers and groups.
const RESOURCE_BROKER_LOGGER: i8 = 8;
const RESOURCE_GROUP: i8 = 32;
use super::{s, RequestCtx};
use crate::error_code as ec;
use crate::security::acl::{Operation, ResourceType};
use crate::state::BrokerState;

/// Validates and applies new overrides for a topic resource; shared with
/// IncrementalAlterConfigs.
pub(super) fn apply(
    st: &BrokerState,
    ctx: &RequestCtx,
    resource_type: i8,
    name: &str,
    validate_only: bool,
    change: impl FnOnce(&mut BTreeMap<String, String>) -> Result<(), String>,
) -> Result<(), (i16, String)> {
    // Kafka's order: an unknown resource type is refused before any check.
    let (allowed, code) = match resource_type {
        RESOURCE_TOPIC => (
            ctx.may(st, Operation::AlterConfigs, ResourceType::Topic, name),
            ec::TOPIC_AUTHORIZATION_FAILED,
        ),
        RESOURCE_BROKER | RESOURCE_BROKER_LOGGER => (
            ctx.may_cluster(st, Operation::AlterConfigs),
            ec::CLUSTER_AUTHORIZATION_FAILED,
        ),
        RESOURCE_GROUP => (
            ctx.may(st, Operation::AlterConfigs, ResourceType::Group, name),
            ec::GROUP_AUTHORIZATION_FAILED,
        ),
        other => {
            return Err((
                ec::INVALID_REQUEST,
                format!("resource type {other} is not supported"),
            ))
        }
    };
    if !allowed {
        return Err((code, "Authorization failed.".into()));
    }
    if resource_type != RESOURCE_TOPIC {
        return Err((
            ec::INVALID_REQUEST,
            "only topic configs can be altered; broker configs are read from server.properties"
                .into(),
        ));
    }
    let topic = st.topics.get(name).ok_or_else(|| {
        (
            ec::UNKNOWN_TOPIC_OR_PARTITION,
            format!("Topic '{name}' does not exist."),
        )
    })?;
    let mut overrides = topic.overrides();
    change(&mut overrides).map_err(|m| (ec::INVALID_CONFIG, m))?;
    crate::topic_config::validate_overrides(&overrides).map_err(|m| (ec::INVALID_CONFIG, m))?;
    if validate_only {
        return Ok(());
    }
    st.topics
        .set_overrides(&topic, overrides)
        .map_err(|e| (ec::KAFKA_STORAGE_ERROR, e.to_string()))?;
    tracing::info!("updated configs of topic {name}");
    Ok(())
}

/// The per-resource answer of AlterConfigs and IncrementalAlterConfigs: the
/// same fields under two type names.
macro_rules! resource_response {
    ($ty:ty, $res:expr, $result:expr) => {{
        let r = <$ty>::default()
            .with_resource_type($res.resource_type)
            .with_resource_name($res.resource_name.clone());
        match $result {
            Ok(()) => r,
            Err((code, m)) => r.with_error_code(code).with_error_message(Some(s(&m))),
        }
    }};
}
pub(super) use resource_response;

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: AlterConfigsRequest,
) -> AlterConfigsResponse {
    let responses = req
        .resources
        .iter()
        .map(|res| {
            let result = apply(
                st,
                ctx,
                res.resource_type,
                &res.resource_name,
                req.validate_only,
                |o| {
                    o.clear();
                    for c in &res.configs {
                        if let Some(v) = &c.value {
                            o.insert(c.name.to_string(), v.to_string());
                        }
                    }
                    Ok(())
                },
            );
            resource_response!(AlterConfigsResourceResponse, res, result)
        })
        .collect();
    AlterConfigsResponse::default().with_responses(responses)
}
