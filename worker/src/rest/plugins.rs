//! `/connector-plugins/...`: installed plugins, their config keys and
//! config validation.

use std::collections::BTreeMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::Json;
use connect_api::config::{key, ConfigKey, ConfigType, DefaultValue, Importance};
use connect_api::{ConfigDef, ConfigValue, Plugin, Props};

use super::model::{
    ConfigInfo, ConfigInfos, ConfigKeyInfo, ConfigValueInfo, ErrorMessage, PluginInfo,
};
use super::{error, flat, parse_body, ApiResult};
use crate::runtime::config::{check_connector, common_def, find_plugin, plugins};

/// The connector plugins; with `connectorsOnly=false` the converters too.
#[utoipa::path(get, path = "/connector-plugins", tag = "plugins",
    params(("connectorsOnly" = Option<bool>, Query, description = "Default true")),
    responses(
        (status = 200, description = "Each plugin's class, type and version", body = Vec<PluginInfo>),
        (status = 400, description = "`connectorsOnly` is neither true nor false", body = ErrorMessage),
    ))]
pub async fn list_plugins(
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Vec<PluginInfo>>> {
    let connectors_only = super::connectors::flag(&q, "connectorsOnly", true)?;
    let mut out: Vec<PluginInfo> = plugins()
        .iter()
        .map(|p| PluginInfo {
            class: p.class,
            kind: p.kind().as_str(),
            version: Some(p.version),
        })
        .collect();
    if !connectors_only {
        for t in connect_transforms::transforms() {
            out.push(PluginInfo {
                class: t.class,
                kind: "transformation",
                version: Some(env!("CARGO_PKG_VERSION")),
            });
        }
        for p in connect_transforms::predicates() {
            out.push(PluginInfo {
                class: p.class,
                kind: "predicate",
                version: Some(env!("CARGO_PKG_VERSION")),
            });
        }
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
    Ok(Json(out))
}

fn plugin_or_404(name: &str) -> ApiResult<Plugin> {
    find_plugin(name).map_err(|_| error(StatusCode::NOT_FOUND, format!("Unknown plugin {name}.")))
}

/// The plugin's config keys (a connector's, a transformation's or a predicate's).
#[utoipa::path(get, path = "/connector-plugins/{plugin}/config", tag = "plugins",
    params(("plugin" = String, Path, description = "Class name or alias")),
    responses(
        (status = 200, description = "Each config key's definition", body = Vec<ConfigKeyInfo>),
        (status = 404, description = "Unknown plugin", body = ErrorMessage),
    ))]
pub async fn plugin_config(Path(plugin): Path<String>) -> ApiResult<Json<Vec<ConfigKeyInfo>>> {
    let def = match find_plugin(&plugin) {
        Ok(p) => (p.config_def)(),
        Err(_) => match (
            connect_transforms::find_transform(&plugin),
            connect_transforms::find_predicate(&plugin),
        ) {
            (Some(t), _) => (t.config_def)(),
            (None, Some(p)) => (p.config_def)(),
            (None, None) => {
                return Err(error(
                    StatusCode::NOT_FOUND,
                    format!("Unknown plugin {plugin}."),
                ))
            }
        },
    };
    Ok(Json(def.keys().iter().map(ConfigKeyInfo::from).collect()))
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

/// One key of a validation answer: its full name, definition and group.
struct Entry {
    name: String,
    key: ConfigKey,
    group: Option<String>,
    /// The settings this key reads from (the plugin's own, prefix removed).
    prefix: String,
}

/// Aliases listed under `key`, in order, without repeats.
fn aliases(props: &Props, key: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for a in props
        .get(key)
        .map_or("", String::as_str)
        .split(',')
        .map(str::trim)
    {
        if !a.is_empty() && !out.iter().any(|x| x == a) {
            out.push(a.to_string());
        }
    }
    out
}

/// The keys a config is validated against: the common ones, `transforms`,
/// `predicates` and `Error Handling`, each transform's and predicate's keys
/// under its alias (group `Transforms: <alias>`), then the plugin's.
fn entries(p: Plugin, props: &Props) -> Vec<Entry> {
    let whole = |k: &ConfigKey| Entry {
        name: k.name.to_string(),
        key: k.clone(),
        group: k.group.map(str::to_string),
        prefix: String::new(),
    };
    let group_key = |name, group, doc| ConfigKey {
        group: Some(group),
        ..key(
            name,
            ConfigType::List,
            DefaultValue::Value(""),
            Importance::Low,
            doc,
        )
    };
    let mut out: Vec<Entry> = common_def(p.kind()).keys().iter().map(whole).collect();
    out.push(whole(&group_key(
        "transforms",
        "Transforms",
        "The transformations applied to each record, in order, by alias.",
    )));
    out.push(whole(&group_key(
        "predicates",
        "Predicates",
        "The predicates that transformations refer to, by alias.",
    )));
    out.extend(crate::runtime::errors::def().keys().iter().map(whole));
    for alias in aliases(props, "transforms") {
        let plugin = props
            .get(&format!("transforms.{alias}.type"))
            .and_then(|c| connect_transforms::find_transform(c));
        for (name, k) in connect_transforms::stage_keys(&alias, plugin.as_ref()) {
            out.push(Entry {
                name,
                key: k,
                group: Some(format!("Transforms: {alias}")),
                prefix: format!("transforms.{alias}."),
            });
        }
    }
    for alias in aliases(props, "predicates") {
        let plugin = props
            .get(&format!("predicates.{alias}.type"))
            .and_then(|c| connect_transforms::find_predicate(c));
        for (name, k) in connect_transforms::predicate_keys(&alias, plugin.as_ref()) {
            out.push(Entry {
                name,
                key: k,
                group: Some(format!("Predicates: {alias}")),
                prefix: format!("predicates.{alias}."),
            });
        }
    }
    out.extend((p.config_def)().keys().iter().map(whole));
    out
}

/// Kafka Connect's `ConfigInfos` for `props` against every key the config
/// may hold (see [`entries`]).
pub fn config_infos(p: Plugin, props: &Props) -> ConfigInfos {
    let mut with_class = props.clone();
    with_class
        .entry("connector.class".into())
        .or_insert_with(|| p.class.to_string());
    let entries = entries(p, &with_class);
    let mut values: Vec<ConfigValue> = entries
        .iter()
        .map(|e| {
            let own: Props = with_class
                .iter()
                .filter_map(|(k, v)| {
                    k.strip_prefix(e.prefix.as_str())
                        .map(|k| (k.to_string(), v.clone()))
                })
                .collect();
            let mut v = ConfigDef::new()
                .define(e.key.clone())
                .validate(&own)
                .pop()
                .unwrap_or(ConfigValue {
                    name: String::new(),
                    value: None,
                    recommended_values: Vec::new(),
                    errors: Vec::new(),
                    visible: true,
                });
            v.name = e.name.clone();
            // A missing key is named in full.
            for err in &mut v.errors {
                *err = err.replace(&format!("\"{}\"", e.key.name), &format!("\"{}\"", e.name));
            }
            v
        })
        .collect();
    // Common checks (ranges, sink topics, converters, transforms, error
    // handling) and the plugin's own rules, each on the key it names (or,
    // for a key not listed, on its transform's or predicate's type).
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
        let owner = values.iter().position(|v| v.name == k).or_else(|| {
            let mut parts = k.splitn(3, '.');
            let (Some(kind), Some(alias)) = (parts.next(), parts.next()) else {
                return None;
            };
            let type_key = format!("{kind}.{alias}.type");
            values.iter().position(|v| v.name == type_key)
        });
        if let Some(i) = owner {
            let errs = &mut values[i].errors;
            if !errs.contains(&e) {
                errs.push(e);
            }
        }
    }
    let error_count: usize = values.iter().map(|v| v.errors.len()).sum();
    let mut groups: Vec<String> = Vec::new();
    for e in &entries {
        if let Some(g) = &e.group {
            if !g.is_empty() && !groups.contains(g) {
                groups.push(g.clone());
            }
        }
    }
    let configs = entries
        .into_iter()
        .zip(values)
        .map(|(e, v)| {
            let mut definition = ConfigKeyInfo::from(&e.key);
            definition.name = e.name;
            definition.group = e.group;
            ConfigInfo {
                definition,
                value: ConfigValueInfo {
                    name: v.name,
                    value: v.value,
                    recommended_values: v.recommended_values,
                    errors: v.errors,
                    visible: v.visible,
                },
            }
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
            .map(|c| c.definition.name.as_str())
            .collect();
        assert_eq!(with_errors, vec!["tasks.max", "key.converter", "topics"]);
        assert_eq!(
            infos.groups,
            vec!["Common", "Transforms", "Predicates", "Error Handling"]
        );
    }

    #[test]
    fn transform_and_predicate_keys_are_validated_under_their_aliases() {
        let p = find_plugin("FileStreamSink").expect("known");
        let props: Props = [
            ("name", "s"),
            ("topics", "t"),
            ("transforms", "cast,route"),
            (
                "transforms.cast.type",
                "org.apache.kafka.connect.transforms.Cast$Value",
            ),
            ("transforms.cast.spec", "id:decimal"),
            ("transforms.route.type", "com.example.Nope"),
            ("predicates", "p"),
            ("predicates.p.type", "TopicNameMatches"),
            ("errors.tolerance", "some"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let infos = config_infos(p, &props);
        let errors: Vec<(&str, &str)> = infos
            .configs
            .iter()
            .flat_map(|c| {
                c.value
                    .errors
                    .iter()
                    .map(|e| (c.definition.name.as_str(), e.as_str()))
            })
            .collect();
        let keys: Vec<&str> = errors.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            vec![
                "errors.tolerance",
                "transforms.cast.spec",
                "transforms.route.type",
                "predicates.p.pattern"
            ],
            "{errors:#?}"
        );
        assert_eq!(infos.error_count, 4);
        for g in ["Transforms: cast", "Transforms: route", "Predicates: p"] {
            assert!(infos.groups.iter().any(|x| x == g), "{:?}", infos.groups);
        }
    }
}
