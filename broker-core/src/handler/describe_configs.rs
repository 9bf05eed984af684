//! DescribeConfigs: every topic config with its value, source, synonyms and
//! type; broker configs with their effective values.

use std::sync::Arc;

use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use kafka_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse};

use super::{s, RequestCtx};
use crate::error_code as ec;
use crate::security::acl::{Operation, ResourceType};
use crate::state::BrokerState;
use crate::topic_config::{describe, ConfigSource, ConfigType, TOPIC_CONFIGS};

pub(crate) const RESOURCE_TOPIC: i8 = 2;
pub(crate) const RESOURCE_BROKER: i8 = 4;

/// (name, value, source, type, doc) of every broker config we report.
fn broker_entries(st: &BrokerState) -> Vec<(String, String, ConfigSource, ConfigType, String)> {
    let c = &st.config;
    let set = |k: &str| {
        // KRaft's node.id is broker.id's other name.
        if c.raw.contains_key(k) || (k == "broker.id" && c.raw.contains_key("node.id")) {
            ConfigSource::StaticBroker
        } else {
            ConfigSource::Default
        }
    };
    let listeners: Vec<String> = c
        .listeners
        .iter()
        .map(|l| format!("{}://{}:{}", l.name, l.host, l.port))
        .collect();
    let advertised: Vec<String> = st
        .advertised
        .iter()
        .map(|l| format!("{}://{}:{}", l.name, l.host, l.port))
        .collect();
    let mut out = vec![
        ("broker.id", c.node_id.to_string(), ConfigType::Int),
        ("listeners", listeners.join(","), ConfigType::String),
        (
            "advertised.listeners",
            advertised.join(","),
            ConfigType::String,
        ),
        (
            "log.dirs",
            c.log_dir.display().to_string(),
            ConfigType::String,
        ),
        (
            "num.partitions",
            c.num_partitions.to_string(),
            ConfigType::Int,
        ),
        (
            "auto.create.topics.enable",
            c.auto_create_topics.to_string(),
            ConfigType::Boolean,
        ),
        (
            "default.replication.factor",
            c.default_replication_factor.to_string(),
            ConfigType::Int,
        ),
        (
            "socket.request.max.bytes",
            c.socket_request_max_bytes.to_string(),
            ConfigType::Int,
        ),
        (
            "log.retention.check.interval.ms",
            c.retention_check_interval_ms.to_string(),
            ConfigType::Long,
        ),
        (
            "group.initial.rebalance.delay.ms",
            c.group_initial_rebalance_delay_ms.to_string(),
            ConfigType::Int,
        ),
        (
            "offsets.retention.check.interval.ms",
            c.offsets_retention_check_interval_ms.to_string(),
            ConfigType::Long,
        ),
        (
            "group.min.session.timeout.ms",
            c.group_min_session_timeout_ms.to_string(),
            ConfigType::Int,
        ),
        (
            "group.max.session.timeout.ms",
            c.group_max_session_timeout_ms.to_string(),
            ConfigType::Int,
        ),
        (
            "offsets.topic.num.partitions",
            c.offsets_topic_num_partitions.to_string(),
            ConfigType::Int,
        ),
    ]
    .into_iter()
    .map(|(k, v, t)| (k.to_string(), v, set(k), t, String::new()))
    .collect::<Vec<_>>();
    for def in TOPIC_CONFIGS {
        let Some(bk) = def.broker_key else { continue };
        let (value, source) = match c.topic_defaults.get(bk) {
            Some(v) => (v.clone(), ConfigSource::StaticBroker),
            None => (def.default.to_string(), ConfigSource::Default),
        };
        out.push((bk.to_string(), value, source, def.kind, def.doc.to_string()));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: DescribeConfigsRequest,
) -> DescribeConfigsResponse {
    let results = req
        .resources
        .iter()
        .map(|res| {
            let r = DescribeConfigsResult::default()
                .with_resource_type(res.resource_type)
                .with_resource_name(res.resource_name.clone());
            let wanted = |name: &str| {
                res.configuration_keys
                    .as_ref()
                    .is_none_or(|keys| keys.iter().any(|k| k.as_str() == name))
            };
            let entry =
                |name: &str, value: &str, source: ConfigSource, kind: ConfigType, doc: &str| {
                    let mut e = DescribeConfigsResourceResult::default()
                        .with_name(s(name))
                        .with_value(Some(s(value)))
                        .with_config_source(source as i8);
                    if ctx.version >= 3 {
                        e = e.with_config_type(kind as i8);
                        if req.include_documentation {
                            e = e.with_documentation(Some(s(doc)));
                        }
                    }
                    e
                };
            match res.resource_type {
                RESOURCE_TOPIC
                    if !ctx.may(
                        st,
                        Operation::DescribeConfigs,
                        ResourceType::Topic,
                        &res.resource_name,
                    ) =>
                {
                    r.with_error_code(ec::TOPIC_AUTHORIZATION_FAILED)
                        .with_error_message(Some(s("Topic authorization failed.")))
                }
                RESOURCE_BROKER if !ctx.may_cluster(st, Operation::DescribeConfigs) => r
                    .with_error_code(ec::CLUSTER_AUTHORIZATION_FAILED)
                    .with_error_message(Some(s(super::CLUSTER_REFUSED))),
                RESOURCE_TOPIC => {
                    let Some(topic) = st.topics.get(&res.resource_name) else {
                        return r
                            .with_error_code(ec::UNKNOWN_TOPIC_OR_PARTITION)
                            .with_error_message(Some(s(&format!(
                                "Topic '{}' does not exist.",
                                res.resource_name.as_str()
                            ))));
                    };
                    let configs = describe(&topic.overrides(), st.topics.broker_defaults())
                        .into_iter()
                        .filter(|d| wanted(d.def.name))
                        .map(|d| {
                            let mut e =
                                entry(d.def.name, &d.value, d.source, d.def.kind, d.def.doc);
                            if req.include_synonyms {
                                e = e.with_synonyms(
                                    d.synonyms
                                        .iter()
                                        .map(|(n, v, src)| {
                                            DescribeConfigsSynonym::default()
                                                .with_name(s(n))
                                                .with_value(Some(s(v)))
                                                .with_source(*src as i8)
                                        })
                                        .collect(),
                                );
                            }
                            e
                        })
                        .collect();
                    r.with_configs(configs)
                }
                RESOURCE_BROKER => {
                    let name = res.resource_name.as_str();
                    if !name.is_empty() && name != st.node_id().to_string() {
                        return r
                            .with_error_code(ec::INVALID_REQUEST)
                            .with_error_message(Some(s(&format!(
                                "Broker id {name} is not this broker ({})",
                                st.node_id()
                            ))));
                    }
                    // Broker configs come from server.properties and cannot be
                    // changed while the broker runs: every one is read-only.
                    let configs = broker_entries(st)
                        .into_iter()
                        .filter(|(n, ..)| wanted(n))
                        .map(|(n, v, src, kind, doc)| {
                            let mut e = entry(&n, &v, src, kind, &doc).with_read_only(true);
                            if req.include_synonyms {
                                e = e.with_synonyms(vec![DescribeConfigsSynonym::default()
                                    .with_name(s(&n))
                                    .with_value(Some(s(&v)))
                                    .with_source(src as i8)]);
                            }
                            e
                        })
                        .collect();
                    r.with_configs(configs)
                }
                other => r
                    .with_error_code(ec::INVALID_REQUEST)
                    .with_error_message(Some(s(&format!(
                        "resource type {other} is not supported"
                    )))),
            }
        })
        .collect();
    DescribeConfigsResponse::default().with_results(results)
}
