//! The Kafka Connect REST API (the part served so far): `/`, `/health`,
//! `/connectors` (with `expand`), a connector's info, config, status and
//! tasks, create and delete, and `/connector-plugins`, with Kafka Connect's
//! JSON shapes and `{"error_code","message"}` errors.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::runtime::config::plugins;
use crate::runtime::{ConnectorView, Rejected, Worker};

/// The Kafka Connect version this API is compatible with.
pub const CONNECT_VERSION: &str = "3.9.0";

type Shared = Arc<Worker>;

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(json!({"error_code": status.as_u16(), "message": message.into()})),
    )
        .into_response()
}

fn not_found(name: &str) -> Response {
    error(StatusCode::NOT_FOUND, format!("Connector {name} not found"))
}

fn info(v: &ConnectorView) -> Value {
    json!({
        "name": v.name,
        "config": v.config,
        "tasks": v.tasks.iter().map(|(i, _)| json!({"connector": v.name, "task": i})).collect::<Vec<_>>(),
        "type": v.kind.as_str(),
    })
}

fn status(v: &ConnectorView) -> Value {
    let mut connector = json!({"state": v.status.state, "worker_id": v.status.worker_id});
    if let Some(t) = &v.status.trace {
        connector["trace"] = json!(t);
    }
    let tasks: Vec<Value> = v
        .tasks
        .iter()
        .map(|(i, s)| {
            let mut t = json!({"id": i, "state": s.state, "worker_id": s.worker_id});
            if let Some(tr) = &s.trace {
                t["trace"] = json!(tr);
            }
            t
        })
        .collect();
    json!({"name": v.name, "connector": connector, "tasks": tasks, "type": v.kind.as_str()})
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

async fn list(State(w): State<Shared>, Query(q): Query<BTreeMap<String, String>>) -> Json<Value> {
    let expand: Vec<&str> = q
        .get("expand")
        .map(|e| e.split(',').collect())
        .unwrap_or_default();
    let names = w.names().await;
    if expand.is_empty() {
        return Json(json!(names));
    }
    let mut out = serde_json::Map::new();
    for n in names {
        if let Some(v) = w.view(&n).await {
            let mut e = serde_json::Map::new();
            if expand.contains(&"status") {
                e.insert("status".into(), status(&v));
            }
            if expand.contains(&"info") {
                e.insert("info".into(), info(&v));
            }
            out.insert(n, Value::Object(e));
        }
    }
    Json(Value::Object(out))
}

async fn create(State(w): State<Shared>, body: axum::body::Bytes) -> Response {
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("Invalid JSON: {e}")),
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
    let Some(config) = parsed.get("config").and_then(Value::as_object) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Connector config must be provided (\"config\")",
        );
    };
    let props: BTreeMap<String, String> = config
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_string),
            )
        })
        .collect();
    if w.view(&name).await.is_some() {
        return error(
            StatusCode::CONFLICT,
            format!("Connector {name} already exists"),
        );
    }
    match w.start_connector(&name, props).await {
        Ok(()) => match w.view(&name).await {
            Some(v) => (StatusCode::CREATED, Json(info(&v))).into_response(),
            None => not_found(&name),
        },
        Err(e) if e.is::<Rejected>() => error(StatusCode::BAD_REQUEST, e.to_string()),
        Err(e) => error(StatusCode::CONFLICT, e.to_string()),
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

async fn get_status(State(w): State<Shared>, Path(name): Path<String>) -> Response {
    match w.view(&name).await {
        Some(v) => Json(status(&v)).into_response(),
        None => not_found(&name),
    }
}

async fn get_tasks(State(w): State<Shared>, Path(name): Path<String>) -> Response {
    match w.view(&name).await {
        Some(v) => {
            let tasks: Vec<Value> = v
                .tasks
                .iter()
                .map(|(i, _)| json!({"id": {"connector": v.name, "task": i}, "config": v.config}))
                .collect();
            Json(json!(tasks)).into_response()
        }
        None => not_found(&name),
    }
}

async fn delete(State(w): State<Shared>, Path(name): Path<String>) -> Response {
    match w.stop_connector(&name).await {
        Ok(Some(_)) => StatusCode::NO_CONTENT.into_response(),
        Ok(None) => not_found(&name),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
    }
}

async fn list_plugins() -> Json<Value> {
    Json(json!(plugins()
        .iter()
        .map(|p| json!({"class": p.class, "type": p.kind().as_str(), "version": p.version}))
        .collect::<Vec<_>>()))
}

/// The API's routes.
pub fn router(worker: Shared) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/health", get(health))
        .route("/connectors", get(list).post(create))
        .route("/connectors/{name}", get(get_info).delete(delete))
        .route("/connectors/{name}/config", get(get_config))
        .route("/connectors/{name}/status", get(get_status))
        .route("/connectors/{name}/tasks", get(get_tasks))
        .route("/connector-plugins", get(list_plugins))
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
    use super::bind_addr;

    #[test]
    fn listeners_default_to_loopback() {
        assert_eq!(bind_addr("http://:8083"), "127.0.0.1:8083");
        assert_eq!(bind_addr("http://0.0.0.0:8084"), "0.0.0.0:8084");
        assert_eq!(
            bind_addr("http://localhost:9000,https://:9443"),
            "localhost:9000"
        );
    }
}
