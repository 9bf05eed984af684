//! What the OpenAPI document says beyond the handlers' annotations: the
//! shape of a connector config, the errors every operation can answer, and
//! links from the operations that create names to those that take them (so
//! that generators and fuzzers can follow a connector from its creation).

use serde_json::{json, Map, Value};

/// Applies the refinements to the generated document.
pub(super) fn refine(doc: &mut Value) {
    add_config_schema(doc);
    add_basic_auth(doc);
    for (path, op) in operations(doc) {
        use_config_schema(&path, op);
        add_common_errors(&path, op);
    }
    add_links(doc);
}

/// Basic authentication, which a worker asks for only when
/// `rest.extension.classes` names Kafka's BasicAuthSecurityRestExtension:
/// the scheme, optional at the top level, and the 401 of every operation.
fn add_basic_auth(doc: &mut Value) {
    let Some(root) = doc.as_object_mut() else {
        return;
    };
    let components = root
        .entry("components")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    if let Some(components) = components {
        components.insert(
            "securitySchemes".into(),
            json!({"basicAuth": {
                "type": "http",
                "scheme": "basic",
                "description": "Required when rest.extension.classes names org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension; users come from the KafkaConnect section of the JAAS file (PropertyFileLoginModule). Requests between the workers of a cluster are signed instead."
            }}),
        );
    }
    root.insert("security".into(), json!([{}, {"basicAuth": []}]));
}

/// Every operation with its path.
fn operations(doc: &mut Value) -> Vec<(String, &mut Map<String, Value>)> {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Vec::new();
    };
    paths
        .iter_mut()
        .filter_map(|(p, item)| Some((p, item.as_object_mut()?)))
        .flat_map(|(p, item)| {
            item.values_mut()
                .filter_map(Value::as_object_mut)
                .map(move |op| (p.clone(), op))
        })
        .collect()
}

/// Characters a connector name may not hold (Kafka's ISO control characters).
const NO_CONTROL: &str = "\\u0000-\\u001F\\u007F-\\u009F";

fn add_config_schema(doc: &mut Value) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let scalar = json!({"type": ["string", "number", "integer", "boolean", "null"]});
    schemas.insert(
        "ConnectorConfig".into(),
        json!({
            "type": "object",
            "description": "A connector's flat config. Values are strings; numbers and booleans are taken as their text and a null is ignored. Which keys a plugin knows and which values it takes are listed by GET /connector-plugins/{plugin}/config and checked by PUT /connector-plugins/{plugin}/config/validate: a config that fails them is answered 400 with every problem named.",
            "required": ["connector.class"],
            "properties": {
                "connector.class": {
                    "type": "string",
                    "minLength": 1,
                    "description": "A connector plugin's class name or alias (GET /connector-plugins)"
                },
                "tasks.max": {
                    "type": ["string", "integer"],
                    "pattern": "^\\s*\\+?0*[1-9][0-9]{0,17}\\s*$",
                    "minimum": 1,
                    "description": "The most tasks the connector may run (default 1)"
                }
            },
            "additionalProperties": scalar
        }),
    );
    schemas.insert(
        "ConfigUpdate".into(),
        json!({
            "type": "object",
            "description": "Keys to set (strings; numbers and booleans as their text) and keys to remove (null).",
            "additionalProperties": scalar
        }),
    );
    schemas.insert(
        "ConfigToValidate".into(),
        json!({
            "type": "object",
            "description": "A connector's flat config, as for ConnectorConfig; `connector.class` may be left out (the plugin in the path is taken).",
            "additionalProperties": scalar
        }),
    );
    let create = schemas
        .get_mut("CreateConnectorRequest")
        .and_then(|c| c.get_mut("properties"));
    let Some(create) = create else { return };
    if let Some(name) = create.get_mut("name") {
        name["pattern"] = json!(format!(
            "^[^{NO_CONTROL}]*[^\\s{NO_CONTROL}][^{NO_CONTROL}]*$"
        ));
        name["description"] = json!("Any text but blank, without control characters");
    }
    if let Some(config) = create.get_mut("config") {
        *config = json!({"$ref": "#/components/schemas/ConnectorConfig"});
    }
}

/// Request bodies that are connector configs point at their schema.
fn use_config_schema(path: &str, op: &mut Map<String, Value>) {
    let id = op.get("operationId").and_then(Value::as_str).unwrap_or("");
    let schema = match (path, id) {
        ("/connectors/{name}/config", "put_config") => "ConnectorConfig",
        ("/connectors/{name}/config", "patch_config") => "ConfigUpdate",
        ("/connector-plugins/{plugin}/config/validate", _) => "ConfigToValidate",
        _ => return,
    };
    let body = op
        .get_mut("requestBody")
        .and_then(|b| b.pointer_mut("/content/application~1json/schema"));
    if let Some(s) = body {
        *s = json!({"$ref": format!("#/components/schemas/{schema}")});
    }
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorMessage"}}}
    })
}

/// Any operation may fail inside the worker (or, when forwarded, on the
/// way to the leader); those on connectors may meet a rebalance.
fn add_common_errors(path: &str, op: &mut Map<String, Value>) {
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    if path.starts_with("/connectors") && !responses.contains_key("409") {
        responses.insert(
            "409".into(),
            error_response(
                "Distributed mode: a rebalance is in progress or the group has no leader yet; retry",
            ),
        );
    }
    if !responses.contains_key("401") {
        responses.insert(
            "401".into(),
            error_response(
                "Basic authentication is on and the request has no valid credentials (`User cannot access the resource.`)",
            ),
        );
    }
    if path != "/metrics" && !responses.contains_key("500") {
        responses.insert(
            "500".into(),
            error_response("The worker failed, or forwarding the request to the leader did"),
        );
    }
}

/// Links named after their target operation, each passing one parameter.
fn links(targets: &[&str], parameter: &str, from: &str) -> Value {
    let mut out = Map::new();
    for t in targets {
        out.insert(
            (*t).to_string(),
            json!({"operationId": t, "parameters": {parameter: from}}),
        );
    }
    Value::Object(out)
}

fn add_links(doc: &mut Value) {
    // Every operation on one connector takes its name.
    let mut by_name: Vec<String> = Vec::new();
    let mut by_plugin: Vec<String> = Vec::new();
    for (path, op) in operations(doc) {
        let Some(id) = op.get("operationId").and_then(Value::as_str) else {
            continue;
        };
        if path.starts_with("/connectors/{name}") && id != "put_task_configs" {
            by_name.push(id.to_string());
        } else if path.starts_with("/connector-plugins/{plugin}") {
            by_plugin.push(id.to_string());
        }
    }
    let by_name: Vec<&str> = by_name.iter().map(String::as_str).collect();
    let by_plugin: Vec<&str> = by_plugin.iter().map(String::as_str).collect();
    let set = |doc: &mut Value, pointer: &str, value: Value| {
        if let Some(r) = doc.pointer_mut(pointer).and_then(Value::as_object_mut) {
            r.insert("links".into(), value);
        }
    };
    let created = links(&by_name, "name", "$response.body#/name");
    set(
        doc,
        "/paths/~1connectors/post/responses/201",
        created.clone(),
    );
    set(
        doc,
        "/paths/~1connectors~1{name}~1config/put/responses/201",
        created,
    );
    set(
        doc,
        "/paths/~1connector-plugins/get/responses/200",
        links(&by_plugin, "plugin", "$response.body#/0/class"),
    );
    set(
        doc,
        "/paths/~1admin~1loggers~1{name}/put/responses/200",
        links(&["logger"], "name", "$request.path.name"),
    );
}
