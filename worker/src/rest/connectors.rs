//! `/connectors/...`: create, configure, inspect and control connectors.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use connect_api::Props;
use serde_json::Value;

use super::model::{
    ActiveTopics, AlterOffsetsRequest, ConnectorExpansion, ConnectorInfo, ConnectorList,
    ConnectorOffsets, ConnectorStateInfo, ConnectorTaskId, CreateConnectorRequest, ErrorMessage,
    Message, TaskInfo, TaskState,
};
use super::{error, failure, flat, not_found, parse_body, ApiResult, Shared};
use crate::runtime::{RestartRequest, TargetState};

/// 400 when the body's `name` differs from the URL's.
fn check_name(props: &connect_api::Props, name: &str) -> ApiResult<()> {
    match props.get("name").filter(|n| *n != name) {
        Some(n) => Err(error(
            StatusCode::BAD_REQUEST,
            format!("Connector name configuration ({n}) doesn't match connector name in the URL ({name})"),
        )),
        None => Ok(()),
    }
}

async fn info_of(w: &Shared, name: &str) -> ApiResult<ConnectorInfo> {
    match w.view(name).await {
        Some(v) => Ok(ConnectorInfo::from(&v)),
        None => Err(not_found(name)),
    }
}

fn created(info: ConnectorInfo) -> Response {
    (
        StatusCode::CREATED,
        [(header::LOCATION, format!("/connectors/{}", info.name))],
        Json(info),
    )
        .into_response()
}

/// The active connectors; with `expand=status` and/or `expand=info`, a map of each.
#[utoipa::path(get, path = "/connectors", tag = "connectors",
    params(("expand" = Option<Vec<String>>, Query, description = "`status` and/or `info` (repeatable)")),
    responses(
        (status = 200, description = "Names, or name -> expansion with `expand`",
         body = ConnectorList, example = json!(["local-file-source"])),
    ))]
pub async fn list(
    State(w): State<Shared>,
    Query(q): Query<Vec<(String, String)>>,
) -> Json<ConnectorList> {
    let expand: Vec<String> = q
        .into_iter()
        .filter(|(k, _)| k == "expand")
        .flat_map(|(_, v)| v.split(',').map(str::to_string).collect::<Vec<_>>())
        .collect();
    let (status, info) = (
        expand.iter().any(|e| e == "status"),
        expand.iter().any(|e| e == "info"),
    );
    let names = w.names().await;
    if !status && !info {
        return Json(ConnectorList::Names(names));
    }
    let mut out = BTreeMap::new();
    // Connectors deleted while listing are left out.
    for v in w.views(&names).await {
        let e = ConnectorExpansion {
            status: status.then(|| ConnectorStateInfo::from(&v)),
            info: info.then(|| ConnectorInfo::from(&v)),
        };
        out.insert(v.name.clone(), e);
    }
    Json(ConnectorList::Expanded(out))
}

/// Creates a connector (409 if it exists).
#[utoipa::path(post, path = "/connectors", tag = "connectors",
    request_body = CreateConnectorRequest,
    responses(
        (status = 201, description = "Created; `Location: /connectors/{name}`", body = ConnectorInfo),
        (status = 400, description = "Malformed body or invalid config", body = ErrorMessage),
        (status = 409, description = "The connector already exists", body = ErrorMessage),
    ))]
pub async fn create(State(w): State<Shared>, body: axum::body::Bytes) -> ApiResult<Response> {
    let parsed = parse_body(&body)?;
    let name = parsed
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            error(
                StatusCode::BAD_REQUEST,
                "Connector name must be provided (\"name\")",
            )
        })?;
    let props = flat(parsed.get("config").ok_or_else(|| {
        error(
            StatusCode::BAD_REQUEST,
            "Connector config must be provided (\"config\")",
        )
    })?)?;
    check_name(&props, &name)?;
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
            return Err(error(
                StatusCode::BAD_REQUEST,
                format!("Invalid initial state {other}; it must be RUNNING, PAUSED or STOPPED"),
            ))
        }
    };
    w.put_connector(&name, props, initial, false)
        .await
        .map_err(failure)?;
    Ok(created(info_of(&w, &name).await?))
}

/// A connector's name, config and tasks.
#[utoipa::path(get, path = "/connectors/{name}", tag = "connectors",
    params(("name" = String, Path, description = "Connector name")),
    responses(
        (status = 200, description = "Its name, config, tasks and type", body = ConnectorInfo),
        (status = 404, description = "No such connector", body = ErrorMessage),
    ))]
pub async fn get_info(
    State(w): State<Shared>,
    Path(name): Path<String>,
) -> ApiResult<Json<ConnectorInfo>> {
    info_of(&w, &name).await.map(Json)
}

/// The connector's raw config (config-provider placeholders unresolved).
#[utoipa::path(get, path = "/connectors/{name}/config", tag = "connectors",
    params(("name" = String, Path, description = "Connector name")),
    responses(
        (status = 200, description = "Its flat config", body = HashMap<String, String>),
        (status = 404, description = "No such connector", body = ErrorMessage),
    ))]
pub async fn get_config(
    State(w): State<Shared>,
    Path(name): Path<String>,
) -> ApiResult<Json<connect_api::Props>> {
    info_of(&w, &name).await.map(|i| Json(i.config))
}

/// Creates (201) or replaces (200) a connector's config.
#[utoipa::path(put, path = "/connectors/{name}/config", tag = "connectors",
    params(("name" = String, Path, description = "Connector name")),
    request_body(content = HashMap<String, String>, description = "The flat config (not wrapped)"),
    responses(
        (status = 200, description = "Updated", body = ConnectorInfo),
        (status = 201, description = "Created", body = ConnectorInfo),
        (status = 400, description = "Malformed body, name mismatch or invalid config", body = ErrorMessage),
    ))]
pub async fn put_config(
    State(w): State<Shared>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let mut props = flat(&parse_body(&body)?)?;
    check_name(&props, &name)?;
    if let Some(stored) = w.view(&name).await {
        props = crate::runtime::secrets::restore(props, &stored.config);
    }
    let c = w
        .put_connector(&name, props, TargetState::Started, true)
        .await
        .map_err(failure)?;
    let info = info_of(&w, &name).await?;
    Ok(if c.0 {
        created(info)
    } else {
        Json(info).into_response()
    })
}

/// Merges keys into the config; a `null` value removes the key.
#[utoipa::path(patch, path = "/connectors/{name}/config", tag = "connectors",
    params(("name" = String, Path, description = "Connector name")),
    request_body(content = Object, description = "Keys to set; null removes a key"),
    responses(
        (status = 200, description = "Updated: the connector with its new config", body = ConnectorInfo),
        (status = 400, description = "Malformed body or invalid config", body = ErrorMessage),
        (status = 404, description = "No such connector", body = ErrorMessage),
    ))]
pub async fn patch_config(
    State(w): State<Shared>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<ConnectorInfo>> {
    let Value::Object(patch) = parse_body(&body)? else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "The config patch must be a JSON object",
        ));
    };
    let stored = w.view(&name).await.ok_or_else(|| not_found(&name))?.config;
    let mut props = stored.clone();
    for (k, v) in patch {
        match super::config_value(&k, &v)? {
            None => props.remove(&k),
            Some(text) => props.insert(k, text),
        };
    }
    check_name(&props, &name)?;
    let props = crate::runtime::secrets::restore(props, &stored);
    w.put_connector(&name, props, TargetState::Started, true)
        .await
        .map_err(failure)?;
    info_of(&w, &name).await.map(Json)
}

/// The connector's and its tasks' states.
#[utoipa::path(get, path = "/connectors/{name}/status", tag = "connectors",
    params(("name" = String, Path, description = "Connector name")),
    responses(
        (status = 200, description = "The connector's and its tasks' states", body = ConnectorStateInfo),
        (status = 404, description = "No such connector", body = ErrorMessage),
    ))]
pub async fn get_status(
    State(w): State<Shared>,
    Path(name): Path<String>,
) -> ApiResult<Json<ConnectorStateInfo>> {
    match w.view(&name).await {
        Some(v) => Ok(Json(ConnectorStateInfo::from(&v))),
        None => Err(not_found(&name)),
    }
}

/// The tasks and their configs.
#[utoipa::path(get, path = "/connectors/{name}/tasks", tag = "tasks",
    params(("name" = String, Path, description = "Connector name")),
    responses(
        (status = 200, description = "Each task's id and config", body = Vec<TaskInfo>),
        (status = 404, description = "No such connector", body = ErrorMessage),
    ))]
pub async fn get_tasks(
    State(w): State<Shared>,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<TaskInfo>>> {
    let v = w.view(&name).await.ok_or_else(|| not_found(&name))?;
    Ok(Json(
        v.tasks
            .iter()
            .map(|(i, _, config)| TaskInfo {
                id: ConnectorTaskId {
                    connector: v.name.clone(),
                    task: *i,
                },
                config: crate::runtime::secrets::redact(config),
            })
            .collect(),
    ))
}

/// Internal, between the workers of a distributed cluster: the owner of a
/// connector hands the leader the task configs it generated, signed with
/// the session key.
#[utoipa::path(post, path = "/connectors/{name}/tasks", tag = "internal",
    params(("name" = String, Path, description = "Connector name", min_length = 1)),
    request_body(content = Vec<HashMap<String, String>>, description = "Each task's flat config"),
    responses(
        (status = 204, description = "Written to the config topic"),
        (status = 400, description = "Malformed body, or a standalone worker", body = ErrorMessage),
        (status = 403, description = "Missing or wrong request signature", body = ErrorMessage),
        (status = 404, description = "No such connector", body = ErrorMessage),
        (status = 503, description = "No session key yet", body = ErrorMessage),
    ))]
pub async fn put_task_configs(
    State(w): State<Shared>,
    Path(name): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    use crate::distributed::signing::{Signature, ALGORITHM_HEADER, SIGNATURE_HEADER};
    let parsed = parse_body(&body)?;
    let configs = parsed
        .as_array()
        .ok_or_else(|| {
            error(
                StatusCode::BAD_REQUEST,
                "Task configs must be a JSON array of objects",
            )
        })?
        .iter()
        .map(flat)
        .collect::<ApiResult<Vec<Props>>>()?;
    let value = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let signature = Signature {
        algorithm: value(ALGORITHM_HEADER),
        signature: value(SIGNATURE_HEADER),
    };
    w.put_task_configs(&name, configs, &body, signature)
        .await
        .map_err(failure)?;
    Ok(StatusCode::NO_CONTENT)
}

/// One task's state.
#[utoipa::path(get, path = "/connectors/{name}/tasks/{task}/status", tag = "tasks",
    params(("name" = String, Path, description = "Connector name"),
           ("task" = u32, Path, description = "Task number")),
    responses(
        (status = 200, description = "The task's state", body = TaskState),
        (status = 404, description = "No such connector or task", body = ErrorMessage),
    ))]
pub async fn get_task_status(
    State(w): State<Shared>,
    Path((name, task)): Path<(String, String)>,
) -> ApiResult<Json<TaskState>> {
    let v = w.view(&name).await.ok_or_else(|| not_found(&name))?;
    let task = task_number(&name, &task)?;
    match v.tasks.iter().find(|(i, ..)| *i == task) {
        Some((i, s, _)) => Ok(Json(TaskState::new(*i, s))),
        None => Err(error(
            StatusCode::NOT_FOUND,
            format!("No status found for task {name}-{task}"),
        )),
    }
}

/// Restarts one task.
#[utoipa::path(post, path = "/connectors/{name}/tasks/{task}/restart", tag = "tasks",
    params(("name" = String, Path, description = "Connector name"),
           ("task" = u32, Path, description = "Task number")),
    responses(
        (status = 204, description = "Restarted"),
        (status = 404, description = "No such connector or task", body = ErrorMessage),
    ))]
pub async fn restart_task(
    State(w): State<Shared>,
    Path((name, task)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let task = task_number(&name, &task)?;
    w.restart_task(&name, task).await.map_err(failure)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A task number from the URL; anything else names no task (Kafka
/// Connect's 404).
fn task_number(name: &str, task: &str) -> ApiResult<usize> {
    task.parse().map_err(|_| {
        error(
            StatusCode::NOT_FOUND,
            format!("Task {name}-{task} not found"),
        )
    })
}

/// A boolean query parameter: absent is false; anything but `true` or
/// `false` (in any case) is a 400 naming it.
pub(super) fn flag(q: &BTreeMap<String, String>, k: &str, default: bool) -> ApiResult<bool> {
    match q.get(k) {
        None => Ok(default),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(error(
            StatusCode::BAD_REQUEST,
            format!("Invalid value {v} for query parameter {k}: it must be true or false"),
        )),
    }
}

/// Restarts the connector, and with `includeTasks` its (or with `onlyFailed` its failed) tasks.
#[utoipa::path(post, path = "/connectors/{name}/restart", tag = "connectors",
    params(("name" = String, Path, description = "Connector name"),
           ("includeTasks" = Option<bool>, Query, description = "Restart the tasks too (default false)"),
           ("onlyFailed" = Option<bool>, Query, description = "Only what has FAILED (default false)")),
    responses(
        (status = 202, description = "With either flag: the states, RESTARTING where restarted", body = ConnectorStateInfo),
        (status = 204, description = "Without flags: the connector alone was restarted"),
        (status = 400, description = "A flag that is neither true nor false", body = ErrorMessage),
        (status = 404, description = "No such connector", body = ErrorMessage),
    ))]
pub async fn restart(
    State(w): State<Shared>,
    Path(name): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> ApiResult<Response> {
    let req = RestartRequest {
        include_tasks: flag(&q, "includeTasks", false)?,
        only_failed: flag(&q, "onlyFailed", false)?,
    };
    let legacy = !req.include_tasks && !req.only_failed;
    w.restart(&name, req).await.map_err(failure)?;
    if legacy {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let v = w.view(&name).await.ok_or_else(|| not_found(&name))?;
    Ok((StatusCode::ACCEPTED, Json(ConnectorStateInfo::from(&v))).into_response())
}

macro_rules! control {
    ($(#[$doc:meta])* $fn:ident, $path:literal, $method:ident, $status:ident, $desc:literal) => {
        $(#[$doc])*
        #[utoipa::path(put, path = $path, tag = "connectors",
            params(("name" = String, Path, description = "Connector name")),
            responses(
                (status = $status, description = $desc),
                (status = 404, description = "No such connector", body = ErrorMessage),
            ))]
        pub async fn $fn(State(w): State<Shared>, Path(name): Path<String>) -> ApiResult<StatusCode> {
            w.$method(&name).await.map_err(failure)?;
            Ok(StatusCode::$status)
        }
    };
}

control!(
    /// Pauses the connector and its tasks.
    pause, "/connectors/{name}/pause", pause, ACCEPTED, "Pausing");
control!(
    /// Resumes a PAUSED or STOPPED connector.
    resume, "/connectors/{name}/resume", resume, ACCEPTED, "Resuming");
control!(
    /// Stops the connector and shuts its tasks down (offsets can then be changed).
    stop, "/connectors/{name}/stop", stop, NO_CONTENT, "Stopped");
control!(
    /// Forgets the topics the connector has used.
    reset_topics, "/connectors/{name}/topics/reset", reset_topics, ACCEPTED, "Reset");

/// Deletes the connector.
#[utoipa::path(delete, path = "/connectors/{name}", tag = "connectors",
    params(("name" = String, Path, description = "Connector name")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such connector", body = ErrorMessage),
    ))]
pub async fn delete(State(w): State<Shared>, Path(name): Path<String>) -> ApiResult<StatusCode> {
    w.delete(&name).await.map_err(failure)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The topics the connector has used (KIP-558).
#[utoipa::path(get, path = "/connectors/{name}/topics", tag = "connectors",
    params(("name" = String, Path, description = "Connector name")),
    responses(
        (status = 200, description = "`{name: {topics: [...]}}`", body = BTreeMap<String, ActiveTopics>),
        (status = 404, description = "No such connector", body = ErrorMessage),
    ))]
pub async fn topics(
    State(w): State<Shared>,
    Path(name): Path<String>,
) -> ApiResult<Json<BTreeMap<String, ActiveTopics>>> {
    let topics = w.topics(&name).await.map_err(failure)?;
    Ok(Json(BTreeMap::from([(name, ActiveTopics { topics })])))
}

/// The connector's committed offsets.
#[utoipa::path(get, path = "/connectors/{name}/offsets", tag = "offsets",
    params(("name" = String, Path, description = "Connector name")),
    responses(
        (status = 200, description = "Its committed offsets", body = ConnectorOffsets),
        (status = 404, description = "No such connector", body = ErrorMessage),
    ))]
pub async fn get_offsets(
    State(w): State<Shared>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let offsets = w.offsets(&name).await.map_err(failure)?;
    Ok(Json(serde_json::json!({ "offsets": offsets })))
}

fn bad(message: &str) -> super::ApiError {
    error(StatusCode::BAD_REQUEST, message)
}

/// Alters offsets of a STOPPED connector; a `null` offset removes a partition's.
#[utoipa::path(patch, path = "/connectors/{name}/offsets", tag = "offsets",
    params(("name" = String, Path, description = "Connector name")),
    request_body = AlterOffsetsRequest,
    responses(
        (status = 200, description = "Altered", body = Message),
        (status = 400, description = "Malformed body, or the connector is not STOPPED", body = ErrorMessage),
        (status = 404, description = "No such connector", body = ErrorMessage),
    ))]
pub async fn patch_offsets(
    State(w): State<Shared>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Message>> {
    let parsed = parse_body(&body)?;
    let list = parsed
        .get("offsets")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
        .ok_or_else(|| {
            bad("Partitions / offsets need to be provided for an alter offsets request")
        })?;
    let mut entries = Vec::new();
    for e in list {
        let p = e
            .get("partition")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("Each entry needs a \"partition\" object"))?;
        let o = match e.get("offset") {
            None | Some(Value::Null) => None,
            Some(Value::Object(o)) => Some(o.clone()),
            Some(_) => return Err(bad("An \"offset\" must be an object or null")),
        };
        entries.push((p.clone(), o));
    }
    let message = w
        .alter_offsets(&name, Some(entries))
        .await
        .map_err(failure)?;
    Ok(Json(Message { message }))
}

/// Removes every offset of a STOPPED connector.
#[utoipa::path(delete, path = "/connectors/{name}/offsets", tag = "offsets",
    params(("name" = String, Path, description = "Connector name")),
    responses(
        (status = 200, description = "Reset", body = Message),
        (status = 400, description = "The connector is not STOPPED", body = ErrorMessage),
        (status = 404, description = "No such connector", body = ErrorMessage),
    ))]
pub async fn delete_offsets(
    State(w): State<Shared>,
    Path(name): Path<String>,
) -> ApiResult<Json<Message>> {
    let message = w.alter_offsets(&name, None).await.map_err(failure)?;
    Ok(Json(Message { message }))
}
