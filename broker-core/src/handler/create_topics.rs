//! CreateTopics: Kafka's validation of names, partitions, replication factor
//! (one node: at most 1) and configs, with `validate_only`.

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use kafka_protocol::messages::{CreateTopicsRequest, CreateTopicsResponse};

use super::{s, RequestCtx};
use crate::error_code as ec;
use crate::security::acl::{Operation, ResourceType, CLUSTER_NAME};
use crate::state::BrokerState;
use crate::topic_config::{describe, validate_overrides};
use crate::topics::{validate_name, TopicError, MAX_PARTITIONS_PER_TOPIC};

/// A validated topic request: partitions, replication factor, config overrides.
type Checked = (i32, i16, BTreeMap<String, String>);

/// Checks a topic request, or returns the error code and Kafka's message.
pub(super) fn check(st: &BrokerState, t: &CreatableTopic) -> Result<Checked, (i16, String)> {
    validate_name(&t.name).map_err(|e| (ec::INVALID_TOPIC_EXCEPTION, e.to_string()))?;
    if st.topics.get(&t.name).is_some() {
        return Err((
            ec::TOPIC_ALREADY_EXISTS,
            format!("Topic '{}' already exists.", t.name.as_str()),
        ));
    }
    let partitions = if !t.assignments.is_empty() {
        if t.num_partitions != -1 || t.replication_factor != -1 {
            return Err((
                ec::INVALID_REQUEST,
                "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.".into(),
            ));
        }
        if t.assignments
            .iter()
            .any(|a| a.broker_ids.iter().any(|b| b.0 != st.node_id()))
        {
            return Err((
                ec::INVALID_REPLICA_ASSIGNMENT,
                format!("Only broker {} exists on this cluster.", st.node_id()),
            ));
        }
        t.assignments.len() as i32
    } else if t.num_partitions == -1 {
        st.config.num_partitions
    } else {
        t.num_partitions
    };
    if partitions < 1 {
        return Err((
            ec::INVALID_PARTITIONS,
            "Number of partitions must be larger than 0.".into(),
        ));
    }
    if partitions > MAX_PARTITIONS_PER_TOPIC {
        return Err((
            ec::INVALID_PARTITIONS,
            format!("{partitions} partitions exceed this broker's limit of {MAX_PARTITIONS_PER_TOPIC} per topic."),
        ));
    }
    let rf = match t.replication_factor {
        -1 => st.config.default_replication_factor,
        rf => rf,
    };
    if rf < 1 {
        return Err((
            ec::INVALID_REPLICATION_FACTOR,
            "Replication factor must be larger than 0, or -1 to use the default value.".into(),
        ));
    }
    if rf > 1 && t.assignments.is_empty() {
        return Err((
            ec::INVALID_REPLICATION_FACTOR,
            format!(
                "Unable to replicate the partition {rf} time(s): The target replication factor of {rf} cannot be reached because only 1 broker(s) are registered."
            ),
        ));
    }
    let mut overrides = BTreeMap::new();
    for c in &t.configs {
        if let Some(v) = &c.value {
            overrides.insert(c.name.to_string(), v.to_string());
        }
    }
    validate_overrides(&overrides).map_err(|m| (ec::INVALID_CONFIG, m))?;
    Ok((partitions, rf.max(1), overrides))
}

pub(super) fn config_entries(
    st: &BrokerState,
    overrides: &BTreeMap<String, String>,
) -> Vec<CreatableTopicConfigs> {
    describe(overrides, st.topics.broker_defaults())
        .into_iter()
        .map(|d| {
            CreatableTopicConfigs::default()
                .with_name(s(d.def.name))
                .with_value(Some(s(&d.value)))
                .with_config_source(d.source as i8)
        })
        .collect()
}

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: CreateTopicsRequest,
) -> CreateTopicsResponse {
    let mut results = Vec::new();
    let cluster_create = ctx.may_see(st, Operation::Create, ResourceType::Cluster, CLUSTER_NAME);
    for t in &req.topics {
        let mut r = CreatableTopicResult::default()
            .with_name(t.name.clone())
            .with_num_partitions(-1)
            .with_replication_factor(-1);
        if !cluster_create && !ctx.may(st, Operation::Create, ResourceType::Topic, &t.name) {
            results.push(
                r.with_error_code(ec::TOPIC_AUTHORIZATION_FAILED)
                    .with_error_message(Some(s("Authorization failed."))),
            );
            continue;
        }
        match check(st, t) {
            Err((code, msg)) => {
                r = r.with_error_code(code).with_error_message(Some(s(&msg)));
            }
            Ok((partitions, rf, overrides)) => {
                let created = if req.validate_only {
                    Ok(None)
                } else {
                    st.topics
                        .create(&t.name, partitions, overrides.clone(), false)
                        .map(Some)
                };
                match created {
                    Ok(topic) => {
                        if let Some(topic) = &topic {
                            tracing::info!(
                                "created topic {} with {partitions} partition(s)",
                                topic.name
                            );
                            r = r.with_topic_id(topic.id);
                        }
                        r = r
                            .with_num_partitions(partitions)
                            .with_replication_factor(rf);
                        // Configs are shown to a client that may describe them.
                        if ctx.may_see(st, Operation::DescribeConfigs, ResourceType::Topic, &t.name)
                        {
                            r = r.with_configs(Some(config_entries(st, &overrides)));
                        } else {
                            r = r.with_topic_config_error_code(ec::TOPIC_AUTHORIZATION_FAILED);
                        }
                    }
                    Err(TopicError::AlreadyExists(n)) => {
                        r = r
                            .with_error_code(ec::TOPIC_ALREADY_EXISTS)
                            .with_error_message(Some(s(&format!("Topic '{n}' already exists."))));
                    }
                    Err(e) => {
                        tracing::error!("creating topic {} failed: {e}", t.name.as_str());
                        r = r
                            .with_error_code(ec::KAFKA_STORAGE_ERROR)
                            .with_error_message(Some(s(&e.to_string())));
                    }
                }
            }
        }
        results.push(r);
    }
    CreateTopicsResponse::default().with_topics(results)
}
