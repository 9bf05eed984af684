//! IncrementalAlterConfigs: SET / DELETE / APPEND / SUBTRACT per key.

use std::sync::Arc;

use kafka_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse};

use super::alter_configs::{apply, resource_response};
use super::{s, RequestCtx};
use crate::state::BrokerState;
use crate::topic_config::{find_def, ConfigType};

const SET: i8 = 0;
const DELETE: i8 = 1;
const APPEND: i8 = 2;
const SUBTRACT: i8 = 3;

pub(super) async fn handle(
    st: &Arc<BrokerState>,
    ctx: &RequestCtx,
    req: IncrementalAlterConfigsRequest,
) -> IncrementalAlterConfigsResponse {
    let responses = req
        .resources
        .iter()
        .map(|res| {
            let result = apply(st, ctx, res.resource_type, &res.resource_name, req.validate_only, |o| {
                for c in &res.configs {
                    let name = c.name.to_string();
                    let value = c.value.as_deref().unwrap_or("").to_string();
                    let def = find_def(&name)
                        .ok_or_else(|| format!("Unknown topic config name: {name}"))?;
                    match c.config_operation {
                        SET => {
                            o.insert(name, value);
                        }
                        DELETE => {
                            o.remove(&name);
                        }
                        APPEND | SUBTRACT => {
                            if def.kind != ConfigType::List {
                                return Err(format!(
                                    "Config value append/subtract is not allowed for config key {name}: it is not a list"
                                ));
                            }
                            let current = o.get(&name).cloned().unwrap_or_else(|| def.default.to_string());
                            let mut items: Vec<String> = current
                                .split(',')
                                .map(|x| x.trim().to_string())
                                .filter(|x| !x.is_empty())
                                .collect();
                            for v in value.split(',').map(str::trim).filter(|x| !x.is_empty()) {
                                if c.config_operation == APPEND {
                                    if !items.iter().any(|i| i == v) {
                                        items.push(v.to_string());
                                    }
                                } else {
                                    items.retain(|i| i != v);
                                }
                            }
                            o.insert(name, items.join(","));
                        }
                        op => return Err(format!("Unknown config operation {op} for {name}")),
                    }
                }
                Ok(())
            });
            resource_response!(AlterConfigsResourceResponse, res, result)
        })
        .collect();
    IncrementalAlterConfigsResponse::default().with_responses(responses)
}
