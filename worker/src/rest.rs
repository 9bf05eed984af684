//! The Kafka Connect REST API with Kafka Connect's JSON shapes, status codes
//! and `{"error_code","message"}` errors.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use connect_api::config::{ConfigKey, DefaultValue};
use connect_api::{ConfigDef, ConfigValue, Plugin, Props};
use serde_json::{json, Map, Value};

use crate::runtime::config::{check_connector, common_def, find_plugin, plugins};
use crate::runtime::{ConnectorView, RestartRequest, TargetState, Worker, WorkerError};

/// The Kafka Connect version this API is compatible with.
pub const CONNECT_VERSION: &str = "3.9.0";

type Shared = Arc<Worker>;
type Params = Query<BTreeMap<String, String>>;

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(json!({"error_code": status.as_u16(), "message": message.into()})),
    )
        .into_response()
}

/// An error answer built by a helper; becomes Kafka's error body.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error(self.0, self.1)
    }
}

fn failure(e: WorkerError) -> Response {
    let status = match &e {
        WorkerError::NotFound(_) => StatusCode::NOT_FOUND,
        WorkerError::Conflict(_) => StatusCode::CONFLICT,
        WorkerError::BadRequest(_) => StatusCode::BAD_REQUEST,
        WorkerError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    error(status, e.to_string())
}

fn not_found(name: &str) -> Response {
    failure(WorkerError::NotFound(format!("Connector {name} not found")))
}

fn info(v: &ConnectorView) -> Value {
    json!({
        "name": v.name,
        "config": v.config,
        "tasks": v.tasks.iter().map(|(i, ..)| json!({"connector": v.name, "task": i})).collect::<Vec<_>>(),
        "type": v.kind.as_str(),
    })
}

fn task_status(id: usize, s: &crate::runtime::Status) -> Value {
    let mut t = json!({"id": id, "state": s.state, "worker_id": s.worker_id});
    if let Some(tr) = s.trace.as_ref().filter(|t| !t.is_empty()) {
        t["trace"] = json!(tr);
    }
    t
}

fn status(v: &ConnectorView) -> Value {
    let mut connector = json!({"state": v.status.state, "worker_id": v.status.worker_id});
    if let Some(t) = v.status.trace.as_ref().filter(|t| !t.is_empty()) {
        connector["trace"] = json!(t);
    }
    let tasks: Vec<Value> = v.tasks.iter().map(|(i, s, _)| task_status(*i, s)).collect();
    json!({"name": v.name, "connector": connector, "tasks": tasks, "type": v.kind.as_str()})
}

/// A JSON body, or Kafka's 400 for malformed input.
fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!("Invalid JSON in request body: {e}"),
        )
    })
}

/// A flat `{"k": "v"}` config; non-string values are written as JSON text.
fn flat(v: &Value) -> Result<Props, ApiError> {
    let o = v.as_object().ok_or_else(|| {
        ApiError(
            StatusCode::BAD_REQUEST,
            "The connector config must be a JSON object".into(),
        )
    })?;
    Ok(o.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_string),
            )
        })
        .collect())
}

async fn root() -> Json<Value> {
    Json(
        json!({"version": CONNECT_VERSION, "commit": env!("CARGO_PKG_VERSION"), "kafka_cluster_id": "weir"}),
    )
}

async fn health() -> Json<Value> {
    Json(
        json!({"status": "healthy", "message": "Worker has completed startup and is ready to handle requests."}),
    )
}

async fn list(State(w): State<Shared>, Query(q): Query<Vec<(String, String)>>) -> Json<Value> {
    let expand: Vec<String> = q
        .into_iter()
        .filter(|(k, _)| k == "expand")
        .flat_map(|(_, v)| v.split(',').map(str::to_string).collect::<Vec<_>>())
        .collect();
    let names = w.names().await;
    if !expand.iter().any(|e| e == "status" || e == "info") {
        return Json(json!(names));
    }
    let mut out = Map::new();
    for n in names {
        if let Some(v) = w.view(&n).await {
            let mut e = Map::new();
            if expand.iter().any(|x| x == "status") {
                e.insert("status".into(), status(&v));
            }
            if expand.iter().any(|x| x == "info") {
                e.insert("info".into(), info(&v));
            }
            out.insert(n, Value::Object(e));
        }
    }
    Json(Value::Object(out))
}

fn created(name: &str, v: &ConnectorView) -> Response {
    (
        StatusCode::CREATED,
        [(header::LOCATION, format!("/connectors/{name}"))],
        Json(info(v)),
    )
        .into_response()
}

async fn create(State(w): State<Shared>, body: axum::body::Bytes) -> Response {
    let parsed = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    let Some(name) = parsed
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "Connector name must be provided (\"name\")",
        );
    };
    let props = match parsed.get("config").map(flat) {
        Some(Ok(p)) => p,
        Some(Err(r)) => return r.into_response(),
        None => {
            return error(
                StatusCode::BAD_REQUEST,
                "Connector config must be provided (\"config\")",
            )
        }
    };
    if let Some(n) = props.get("name").filter(|n| **n != name) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("Connector name configuration ({n}) doesn't match connector name in the URL ({name})"),
        );
    }
    let initial = match parsed
        .get("initial_state")
        .and_then(Value::as_str)
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None | Some("RUNNING") => TargetState::Started,
        Some("PAUSED") => TargetState::Paused,
        Some("STOPPED") => TargetState::Stopped,
        Some(other) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("Invalid initial state {other}; it must be RUNNING, PAUSED or STOPPED"),
            )
        }
    };
    match w.put_connector(&name, props, initial, false).await {
        Ok(_) => match w.view(&name).await {
            Some(v) => created(&name, &v),
            None => not_found(&name),
        },
        Err(e) => failure(e),
    }
}

async fn get_info(State(w): State<Shared>, Path(name): Path<String>) -> Response {
    match w.view(&name).await {
        Some(v) => Json(info(&v)).into_response(),
        None => not_found(&name),
    }
}

async fn get_config(State(w): State<Shared>, Path(name): Path<String>) -> Response {
    match w.view(&name).await {
        Some(v) => Json(json!(v.config)).into_response(),
        None => not_found(&name),
    }
}

async fn put_config(
    State(w): State<Shared>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let props = match parse_body(&body).and_then(|v| flat(&v)) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    if let Some(n) = props.get("name").filter(|n| **n != name) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("Connector name configuration ({n}) doesn't match connector name in the URL ({name})"),
        );
    }
    match w
        .put_connector(&name, props, TargetState::Started, true)
        .await
    {
        Ok(c) => match w.view(&name).await {
            Some(v) if c.0 => created(&name, &v),
            Some(v) => Json(info(&v)).into_response(),
            None => not_found(&name),
        },
        Err(e) => failure(e),
    }
}

async fn patch_config(
    State(w): State<Shared>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let patch = match parse_body(&body) {
        Ok(Value::Object(o)) => o,
        Ok(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "The config patch must be a JSON object",
            )
        }
        Err(r) => return r.into_response(),
    };
    let Some(current) = w.view(&name).await else {
        return not_found(&name);
    };
    let mut props = current.config;
    for (k, v) in patch {
        match v {
            Value::Null => {
                props.remove(&k);
            }
            Value::String(s) => {
                props.insert(k, s);
            }
            other => {
                props.insert(k, other.to_string());
            }
        }
    }
    match w
        .put_connector(&name, props, TargetState::Started, true)
        .await
    {
        Ok(_) => match w.view(&name).await {
            Some(v) => Json(info(&v)).into_response(),
            None => not_found(&name),
        },
        Err(e) => failure(e),
    }
}

async fn get_status(State(w): State<Shared>, Path(name): Path<String>) -> Response {
    match w.view(&name).await {
        Some(v) => Json(status(&v)).into_response(),
        None => not_found(&name),
    }
}

async fn get_tasks(State(w): State<Shared>, Path(name): Path<String>) -> Response {
    match w.view(&name).await {
        Some(v) => Json(json!(v
            .tasks
            .iter()
            .map(|(i, _, config)| json!({"id": {"connector": v.name, "task": i}, "config": config}))
            .collect::<Vec<_>>()))
        .into_response(),
        None => not_found(&name),
    }
}

async fn get_task_status(
    State(w): State<Shared>,
    Path((name, task)): Path<(String, usize)>,
) -> Response {
    match w.view(&name).await {
        Some(v) => match v.tasks.iter().find(|(i, ..)| *i == task) {
            Some((i, s, _)) => Json(task_status(*i, s)).into_response(),
            None => error(
                StatusCode::NOT_FOUND,
                format!("No status found for task {name}-{task}"),
            ),
        },
        None => not_found(&name),
    }
}

async fn restart_task(
    State(w): State<Shared>,
    Path((name, task)): Path<(String, usize)>,
) -> Response {
    match w.restart_task(&name, task).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => failure(e),
    }
}

fn flag(q: &BTreeMap<String, String>, k: &str) -> bool {
    q.get(k).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

async fn restart(State(w): State<Shared>, Path(name): Path<String>, Query(q): Params) -> Response {
    let req = RestartRequest {
        include_tasks: flag(&q, "includeTasks"),
        only_failed: flag(&q, "onlyFailed"),
    };
    let legacy = !req.include_tasks && !req.only_failed;
    if let Err(e) = w.restart(&name, req).await {
        return failure(e);
    }
    if legacy {
        return StatusCode::NO_CONTENT.into_response();
    }
    match w.view(&name).await {
        Some(v) => (StatusCode::ACCEPTED, Json(status(&v))).into_response(),
        None => not_found(&name),
    }
}

async fn pause(State(w): State<Shared>, Path(name): Path<String>) -> Response {
    match w.pause(&name).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => failure(e),
    }
}

async fn resume(State(w): State<Shared>, Path(name): Path<String>) -> Response {
    match w.resume(&name).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => failure(e),
    }
}

async fn stop(State(w): State<Shared>, Path(name): Path<String>) -> Response {
    match w.stop(&name).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => failure(e),
    }
}

async fn delete(State(w): State<Shared>, Path(name): Path<String>) -> Response {
    match w.delete(&name).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => failure(e),
    }
}

async fn topics(State(w): State<Shared>, Path(name): Path<String>) -> Response {
    match w.topics(&name).await {
        Ok(t) => Json(json!({ name: {"topics": t} })).into_response(),
        Err(e) => failure(e),
    }
}

async fn reset_topics(State(w): State<Shared>, Path(name): Path<String>) -> Response {
    match w.reset_topics(&name).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => failure(e),
    }
}

async fn get_offsets(State(w): State<Shared>, Path(name): Path<String>) -> Response {
    match w.offsets(&name).await {
        Ok(o) => Json(json!({"offsets": o})).into_response(),
        Err(e) => failure(e),
    }
}

async fn patch_offsets(
    State(w): State<Shared>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let parsed = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    let Some(list) = parsed.get("offsets").and_then(Value::as_array) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Partitions / offsets need to be provided for an alter offsets request",
        );
    };
    if list.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "Partitions / offsets need to be provided for an alter offsets request",
        );
    }
    let mut entries = Vec::new();
    for e in list {
        let Some(p) = e.get("partition").and_then(Value::as_object) else {
            return error(
                StatusCode::BAD_REQUEST,
                "Each entry needs a \"partition\" object",
            );
        };
        let o = match e.get("offset") {
            None | Some(Value::Null) => None,
            Some(Value::Object(o)) => Some(o.clone()),
            Some(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "An \"offset\" must be an object or null",
                )
            }
        };
        entries.push((p.clone(), o));
    }
    match w.alter_offsets(&name, Some(entries)).await {
        Ok(m) => Json(json!({"message": m})).into_response(),
        Err(e) => failure(e),
    }
}

async fn delete_offsets(State(w): State<Shared>, Path(name): Path<String>) -> Response {
    match w.alter_offsets(&name, None).await {
        Ok(m) => Json(json!({"message": m})).into_response(),
        Err(e) => failure(e),
    }
}

async fn list_plugins(Query(q): Params) -> Json<Value> {
    let mut out: Vec<Value> = plugins()
        .iter()
        .map(|p| json!({"class": p.class, "type": p.kind().as_str(), "version": p.version}))
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
            out.push(json!({"class": class, "type": kind}));
        }
    }
    Json(json!(out))
}

fn key_info(k: &ConfigKey) -> Value {
    let default = match k.default {
        DefaultValue::Required => Value::Null,
        DefaultValue::Null => Value::Null,
        DefaultValue::Value(v) => json!(v),
    };
    json!({
        "name": k.name,
        "type": k.kind.name(),
        "required": k.default == DefaultValue::Required,
        "default_value": default,
        "importance": k.importance.name(),
        "documentation": k.doc,
        "group": k.group,
        "order": k.order_in_group,
        "width": "NONE",
        "display_name": k.display_name,
        "dependents": [],
    })
}

fn plugin_or_404(name: &str) -> Result<Plugin, ApiError> {
    find_plugin(name)
        .map_err(|_| ApiError(StatusCode::NOT_FOUND, format!("Unknown plugin {name}.")))
}

async fn plugin_config(Path(plugin): Path<String>) -> Response {
    match plugin_or_404(&plugin) {
        Ok(p) => Json(json!((p.config_def)()
            .keys()
            .iter()
            .map(key_info)
            .collect::<Vec<_>>()))
        .into_response(),
        Err(r) => r.into_response(),
    }
}

async fn validate(Path(plugin): Path<String>, body: axum::body::Bytes) -> Response {
    let p = match plugin_or_404(&plugin) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let props = match parse_body(&body).and_then(|v| flat(&v)) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    if let Some(c) = props.get("connector.class") {
        let strip = |s: &str| {
            s.rsplit('.')
                .next()
                .unwrap_or(s)
                .trim_end_matches("Connector")
                .to_string()
        };
        if find_plugin(c).map(|x| x.class) != Ok(p.class) && strip(c) != strip(&plugin) {
            return error(
                StatusCode::BAD_REQUEST,
                format!("Included connector type {c} does not match request type {plugin}"),
            );
        }
    }
    Json(config_infos(p, &props)).into_response()
}

/// Kafka Connect's `ConfigInfos` for `props` against the common keys and the plugin's.
pub fn config_infos(p: Plugin, props: &Props) -> Value {
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
    let mut groups: Vec<&str> = Vec::new();
    for k in def.keys() {
        let g = k.group.unwrap_or("");
        if !g.is_empty() && !groups.contains(&g) {
            groups.push(g);
        }
    }
    let configs: Vec<Value> = def
        .keys()
        .iter()
        .zip(values.iter())
        .map(|(k, v)| {
            json!({
                "definition": key_info(k),
                "value": {"name": v.name, "value": v.value, "recommended_values": v.recommended_values, "errors": v.errors, "visible": v.visible},
            })
        })
        .collect();
    json!({"name": p.class, "error_count": error_count, "groups": groups, "configs": configs})
}

async fn loggers() -> Json<Value> {
    let m: Map<String, Value> = crate::logging::levels()
        .into_iter()
        .map(|(k, (level, at))| (k, json!({"level": level, "last_modified": at})))
        .collect();
    Json(Value::Object(m))
}

async fn logger(Path(name): Path<String>) -> Response {
    match crate::logging::levels().get(&name) {
        Some((level, at)) => Json(json!({"level": level, "last_modified": at})).into_response(),
        None => error(StatusCode::NOT_FOUND, format!("Logger {name} not found.")),
    }
}

async fn set_logger(Path(name): Path<String>, body: axum::body::Bytes) -> Response {
    let parsed = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    let Some(level) = parsed.get("level").and_then(Value::as_str) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Desired 'level' parameter was not specified in request.",
        );
    };
    match crate::logging::set_level(&name, level) {
        Ok(affected) => Json(json!(affected)).into_response(),
        // Kafka answers an unknown level with 404.
        Err(e) => error(StatusCode::NOT_FOUND, e),
    }
}

/// The API's routes.
pub fn router(worker: Shared) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/health", get(health))
        .route("/connectors", get(list).post(create))
        .route("/connectors/{name}", get(get_info).delete(delete))
        .route(
            "/connectors/{name}/config",
            get(get_config).put(put_config).patch(patch_config),
        )
        .route("/connectors/{name}/status", get(get_status))
        .route("/connectors/{name}/tasks", get(get_tasks))
        .route(
            "/connectors/{name}/tasks/{task}/status",
            get(get_task_status),
        )
        .route(
            "/connectors/{name}/tasks/{task}/restart",
            axum::routing::post(restart_task),
        )
        .route("/connectors/{name}/restart", axum::routing::post(restart))
        .route("/connectors/{name}/pause", put(pause))
        .route("/connectors/{name}/resume", put(resume))
        .route("/connectors/{name}/stop", put(stop))
        .route("/connectors/{name}/topics", get(topics))
        .route("/connectors/{name}/topics/reset", put(reset_topics))
        .route(
            "/connectors/{name}/offsets",
            get(get_offsets).patch(patch_offsets).delete(delete_offsets),
        )
        .route("/connector-plugins", get(list_plugins))
        .route("/connector-plugins/{plugin}/config", get(plugin_config))
        .route("/connector-plugins/{plugin}/config/validate", put(validate))
        .route("/admin/loggers", get(loggers))
        .route("/admin/loggers/{name}", get(logger).put(set_logger))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "HTTP 404 Not Found") })
        .with_state(worker)
}

/// `host:port` to bind for a `listeners` value like `http://:8083`
/// (an empty host means 127.0.0.1: the API is local unless asked otherwise).
pub fn bind_addr(listeners: &str) -> String {
    let first = listeners.split(',').next().unwrap_or(listeners).trim();
    let hp = first
        .split("://")
        .nth(1)
        .unwrap_or(first)
        .trim_end_matches('/');
    match hp.rsplit_once(':') {
        Some(("", port)) => format!("127.0.0.1:{port}"),
        Some(_) => hp.to_string(),
        None => format!("{hp}:8083"),
    }
}

/// Serves the API on `listeners` in the background.
pub async fn serve(listeners: &str, worker: Shared) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let addr = bind_addr(listeners);
    let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|e| {
        anyhow::anyhow!("cannot listen for the REST API on {addr} (listeners={listeners}): {e}")
    })?;
    tracing::info!("REST API on http://{}", listener.local_addr()?);
    let app = router(worker);
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("REST server stopped: {e}");
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_default_to_loopback() {
        assert_eq!(bind_addr("http://:8083"), "127.0.0.1:8083");
        assert_eq!(bind_addr("http://0.0.0.0:8084"), "0.0.0.0:8084");
        assert_eq!(
            bind_addr("http://localhost:9000,https://:9443"),
            "localhost:9000"
        );
    }

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
        assert_eq!(infos["error_count"], 3, "{infos}");
        let with_errors: Vec<&str> = infos["configs"]
            .as_array()
            .expect("configs")
            .iter()
            .filter(|c| !c["value"]["errors"].as_array().expect("errors").is_empty())
            .map(|c| c["definition"]["name"].as_str().expect("name"))
            .collect();
        assert_eq!(with_errors, vec!["tasks.max", "key.converter", "topics"]);
        assert_eq!(infos["groups"], json!(["Common"]));
    }
}
