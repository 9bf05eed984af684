//! `/`, `/health` and `/admin/loggers`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::Value;

use super::model::{ErrorMessage, LevelRequest, LoggerLevel, ServerInfo, WorkerStatus};
use super::ServerContext;
use super::{error, parse_body, ApiResult, Shared, CONNECT_VERSION};

/// The Kafka Connect version this worker is compatible with.
#[utoipa::path(get, path = "/", tag = "server",
    responses((status = 200, description = "Version, commit and Kafka cluster id", body = ServerInfo)))]
pub async fn root(
    axum::Extension(context): axum::Extension<Arc<ServerContext>>,
) -> Json<ServerInfo> {
    Json(ServerInfo {
        version: CONNECT_VERSION,
        commit: env!("CARGO_PKG_VERSION"),
        kafka_cluster_id: context.cluster_id.clone(),
    })
}

/// Answers once the worker has started; 503 while it cannot reach its
/// Kafka cluster.
#[utoipa::path(get, path = "/health", tag = "server",
    responses(
        (status = 200, description = "The worker has started and reaches its Kafka cluster", body = WorkerStatus),
        (status = 503, description = "The worker cannot reach its Kafka cluster: `status` is `unhealthy`, `message` says why", body = WorkerStatus),
    ))]
pub async fn health(
    axum::Extension(context): axum::Extension<Arc<ServerContext>>,
) -> (StatusCode, Json<WorkerStatus>) {
    match context.watch.as_ref().and_then(|w| w.problem()) {
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(WorkerStatus {
                status: "unhealthy",
                message: reason,
            }),
        ),
        None => (
            StatusCode::OK,
            Json(WorkerStatus {
                status: "healthy",
                message: "Worker has completed startup and is ready to handle requests.".into(),
            }),
        ),
    }
}

fn level_of(level: String, at: Option<u128>) -> LoggerLevel {
    LoggerLevel {
        level,
        last_modified: at.and_then(|t| u64::try_from(t).ok()),
    }
}

/// Kafka Connect's worker, connector and task metrics in Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "server",
    responses((status = 200, description = "Prometheus text exposition (version 0.0.4)",
               content_type = "text/plain; version=0.0.4", body = String)))]
pub async fn metrics(State(w): State<Shared>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        w.metrics().await,
    )
}

/// Every logger with a level (`root` is the default).
#[utoipa::path(get, path = "/admin/loggers", tag = "admin",
    responses((status = 200, description = "Each logger's level", body = BTreeMap<String, LoggerLevel>)))]
pub async fn loggers() -> Json<BTreeMap<String, LoggerLevel>> {
    Json(
        crate::logging::levels()
            .into_iter()
            .map(|(k, (level, at))| (k, level_of(level, at)))
            .collect(),
    )
}

/// One logger's level.
#[utoipa::path(get, path = "/admin/loggers/{name}", tag = "admin",
    params(("name" = String, Path, description = "`root` or a module path such as `connector_file`", example = "root")),
    responses(
        (status = 200, description = "Its level", body = LoggerLevel),
        (status = 404, description = "No level set for this logger", body = ErrorMessage),
    ))]
pub async fn logger(Path(name): Path<String>) -> ApiResult<Json<LoggerLevel>> {
    match crate::logging::levels().remove(&name) {
        Some((level, at)) => Ok(Json(level_of(level, at))),
        None => Err(error(
            StatusCode::NOT_FOUND,
            format!("Logger {name} not found."),
        )),
    }
}

/// Sets a logger's level; answers the loggers affected.
#[utoipa::path(put, path = "/admin/loggers/{name}", tag = "admin",
    params(("name" = String, Path, description = "`root` or a module path", example = "root")),
    request_body = LevelRequest,
    responses(
        (status = 200, description = "The loggers whose level changed", body = Vec<String>),
        (status = 400, description = "No `level` in the body", body = ErrorMessage),
        (status = 404, description = "Unknown level (Kafka Connect's status for it)", body = ErrorMessage),
    ))]
pub async fn set_logger(
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Vec<String>>> {
    let parsed = parse_body(&body)?;
    let level = parsed.get("level").and_then(Value::as_str).ok_or_else(|| {
        error(
            StatusCode::BAD_REQUEST,
            "Desired 'level' parameter was not specified in request.",
        )
    })?;
    crate::logging::set_level(&name, level)
        .map(Json)
        .map_err(|e| error(StatusCode::NOT_FOUND, e))
}
