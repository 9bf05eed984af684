//! `/connector-plugins/...`: installed plugins, their config keys and
//! config validation.

use std::collections::BTreeMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::Json;
use connect_api::{ConfigDef, ConfigValue, Plugin, Props};

use super::model::{
    ConfigInfo, ConfigInfos, ConfigKeyInfo, ConfigValueInfo, ErrorMessage, PluginInfo,
};
use super::{error, flat, parse_body, ApiResult};
use crate::runtime::config::{check_connector, common_def, find_plugin, plugins};

/// The connector plugins; with `connectorsOnly=false` the converters too.
#[utoipa::path(get, path = "/connector-plugins", tag = "plugins",
    params(("connectorsOnly" = Option<bool>, Query, description = "Default true")),
    responses((status = 200, body = Vec<PluginInfo>)))]
pub async fn list_plugins(Query(q): Query<BTreeMap<String, String>>) -> Json<Vec<PluginInfo>> {
    let mut out: Vec<PluginInfo> = plugins()
        .iter()
        .map(|p| PluginInfo {
            class: p.class,
            kind: p.kind().as_str(),
            version: Some(p.version),
        })
        .collect();
    if q.get("connectorsOnly")
        .is_some_and(|v| v.eq_ignore_ascii_case("false"))
    {
        for (class, short) in crate::convert::CONVERTER_CLASSES {
            let kind = if *short == "SimpleHeaderConverter" {
                "header_converter"
            } else {
                "converter"
            };
            out.push(PluginInfo {
                class,
                kind,
                version: None,
            });
        }
    }
    Json(out)
}

fn plugin_or_404(name: &str) -> ApiResult<Plugin> {
    find_plugin(name).map_err(|_| error(StatusCode::NOT_FOUND, format!("Unknown plugin {name}.")))
}

/// The plugin's config keys.
#[utoipa::path(get, path = "/connector-plugins/{plugin}/config", tag = "plugins",
    params(("plugin" = String, Path, description = "Class name or alias")),
    responses(
        (status = 200, body = Vec<ConfigKeyInfo>),
        (status = 404, description = "Unknown plugin", body = ErrorMessage),
    ))]
pub async fn plugin_config(Path(plugin): Path<String>) -> ApiResult<Json<Vec<ConfigKeyInfo>>> {
    let p = plugin_or_404(&plugin)?;
    Ok(Json(
        (p.config_def)()
            .keys()
            .iter()
            .map(ConfigKeyInfo::from)
            .collect(),
    ))
}

/// Validates a config against the common keys and the plugin's.
#[utoipa::path(put, path = "/connector-plugins/{plugin}/config/validate", tag = "plugins",
    params(("plugin" = String, Path, description = "Class name or alias")),
    request_body(content = HashMap<String, String>, description = "The flat config"),
    responses(
        (status = 200, description = "Every key with its errors; `error_count` sums them", body = ConfigInfos),
        (status = 400, description = "Malformed body, or `connector.class` names another plugin", body = ErrorMessage),
        (status = 404, description = "Unknown plugin", body = ErrorMessage),
    ))]
pub async fn validate(
    Path(plugin): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<ConfigInfos>> {
    let p = plugin_or_404(&plugin)?;
    let props = flat(&parse_body(&body)?)?;
    if let Some(c) = props.get("connector.class") {
        let strip = |s: &str| {
            s.rsplit('.')
                .next()
                .unwrap_or(s)
                .trim_end_matches("Connector")
                .to_string()
        };
        if find_plugin(c).map(|x| x.class) != Ok(p.class) && strip(c) != strip(&plugin) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                format!("Included connector type {c} does not match request type {plugin}"),
            ));
        }
    }
    Ok(Json(config_infos(p, &props)))
}

/// Kafka Connect's `ConfigInfos` for `props` against the common keys and the plugin's.
pub fn config_infos(p: Plugin, props: &Props) -> ConfigInfos {
    let mut with_class = props.clone();
    with_class
        .entry("connector.class".into())
        .or_insert_with(|| p.class.to_string());
    let def: ConfigDef = common_def(p.kind()).merge(&(p.config_def)());
    let mut values: Vec<ConfigValue> = def.validate(&with_class);
    // Common checks (ranges, sink topics, converters) and the plugin's own rules.
    let extra = check_connector(&with_class, Some(p.kind()))
        .into_iter()
        .chain(
            (p.new_connector)()
                .validate(&with_class, &(p.config_def)())
                .into_iter()
                .flat_map(|v| {
                    v.errors
                        .into_iter()
                        .map(move |e| (v.name.clone(), e))
                        .collect::<Vec<_>>()
                }),
        );
    for (k, e) in extra {
        if let Some(v) = values.iter_mut().find(|v| v.name == k) {
            if !v.errors.contains(&e) {
                v.errors.push(e);
            }
        }
    }
    let error_count: usize = values.iter().map(|v| v.errors.len()).sum();
    let mut groups: Vec<&'static str> = Vec::new();
    for k in def.keys() {
        let g = k.group.unwrap_or("");
        if !g.is_empty() && !groups.contains(&g) {
            groups.push(g);
        }
    }
    let configs = def
        .keys()
        .iter()
        .zip(values)
        .map(|(k, v)| ConfigInfo {
            definition: ConfigKeyInfo::from(k),
            value: ConfigValueInfo {
                name: v.name,
                value: v.value,
                recommended_values: v.recommended_values,
                errors: v.errors,
                visible: v.visible,
            },
        })
        .collect();
    ConfigInfos {
        name: p.class,
        error_count,
        groups,
        configs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_mistakes_give_error_count_three_naming_keys() {
        let p = find_plugin("FileStreamSink").expect("known");
        let props: Props = [
            ("name", "s"),
            ("tasks.max", "0"),
            ("key.converter", "com.example.Nope"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let infos = config_infos(p, &props);
        assert_eq!(infos.error_count, 3, "{infos:?}");
        let with_errors: Vec<&str> = infos
            .configs
            .iter()
            .filter(|c| !c.value.errors.is_empty())
            .map(|c| c.definition.name)
            .collect();
        assert_eq!(with_errors, vec!["tasks.max", "key.converter", "topics"]);
        assert_eq!(infos.groups, vec!["Common"]);
    }
}
