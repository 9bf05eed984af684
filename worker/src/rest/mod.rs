//! The Kafka Connect REST API with Kafka Connect's JSON shapes, status codes
//! and `{"error_code","message"}` errors, its OpenAPI document
//! (`/openapi.json`, committed as `openapi/openapi.json`) and Swagger UI
//! (`/swagger-ui/`).

mod admin;
pub mod client;
mod connectors;
mod contract;
mod forward;
pub mod model;
mod plugins;
pub mod security;

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use connect_api::Props;
use serde_json::Value;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::runtime::health::BrokerWatch;
use crate::runtime::{Herder, WorkerError};
use model::ErrorMessage;
pub use plugins::config_infos;

/// The Kafka Connect version this API is compatible with.
pub const CONNECT_VERSION: &str = "3.9.0";

type Shared = Arc<dyn Herder>;

/// An error answer: Kafka's `{"error_code","message"}` body with that
/// status; with `forward_to`, the forwarding layer sends the request to
/// that worker instead.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    message: String,
    forward_to: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorMessage {
            error_code: self.status.as_u16(),
            message: self.message,
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(url) = self.forward_to {
            response.extensions_mut().insert(forward::ForwardTo(url));
        }
        response
    }
}

/// A handler's result.
type ApiResult<T> = Result<T, ApiError>;

fn error(status: StatusCode, message: impl Into<String>) -> ApiError {
    ApiError {
        status,
        message: message.into(),
        forward_to: None,
    }
}

fn failure(e: WorkerError) -> ApiError {
    let status = match &e {
        WorkerError::NotFound(_) => StatusCode::NOT_FOUND,
        WorkerError::Conflict(_) => StatusCode::CONFLICT,
        WorkerError::BadRequest(_) => StatusCode::BAD_REQUEST,
        WorkerError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        WorkerError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        WorkerError::Forbidden(_) => StatusCode::FORBIDDEN,
        WorkerError::NotHere(url) => {
            return ApiError {
                status: StatusCode::CONFLICT,
                message: crate::runtime::CONFLICT.into(),
                forward_to: Some(url.clone()),
            }
        }
    };
    error(status, e.to_string())
}

fn not_found(name: &str) -> ApiError {
    failure(WorkerError::NotFound(format!("Connector {name} not found")))
}

/// A JSON body, or Kafka's 400 for malformed input.
fn parse_body(body: &[u8]) -> ApiResult<Value> {
    serde_json::from_slice(body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            format!("Invalid JSON in request body: {e}"),
        )
    })
}

/// A config value as text: numbers and booleans as their text, `None` for
/// null; an object or array is a 400 naming the key.
fn config_value(k: &str, v: &Value) -> ApiResult<Option<String>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(_) | Value::Bool(_) => Ok(Some(v.to_string())),
        Value::Array(_) | Value::Object(_) => Err(error(
            StatusCode::BAD_REQUEST,
            format!("Invalid value {v} for configuration {k}: a config value must be a string, a number or a boolean"),
        )),
    }
}

/// A flat `{"k": "v"}` config (see `config_value`); nulls are left out.
fn flat(v: &Value) -> ApiResult<Props> {
    let o = v.as_object().ok_or_else(|| {
        error(
            StatusCode::BAD_REQUEST,
            "The connector config must be a JSON object",
        )
    })?;
    let mut props = Props::new();
    for (k, v) in o {
        if let Some(text) = config_value(k, v)? {
            props.insert(k.clone(), text);
        }
    }
    Ok(props)
}

/// The OpenAPI document of this API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Weir Connect REST API",
        description = "Kafka Connect's REST API as served by a Weir worker: the same paths, JSON shapes, status codes and `{\"error_code\", \"message\"}` errors.",
        license(name = "Apache-2.0")
    ),
    paths(
        admin::root, admin::health, admin::metrics,
        connectors::list, connectors::create, connectors::get_info, connectors::delete,
        connectors::get_config, connectors::put_config, connectors::patch_config,
        connectors::get_status, connectors::get_tasks, connectors::get_task_status,
        connectors::restart_task, connectors::restart, connectors::pause, connectors::resume,
        connectors::stop, connectors::topics, connectors::reset_topics,
        connectors::get_offsets, connectors::patch_offsets, connectors::delete_offsets,
        connectors::put_task_configs,
        plugins::list_plugins, plugins::plugin_config, plugins::validate,
        admin::loggers, admin::logger, admin::set_logger,
    ),
    tags(
        (name = "server", description = "Version, health and metrics"),
        (name = "connectors", description = "Create, configure, inspect and control connectors"),
        (name = "tasks", description = "A connector's tasks"),
        (name = "offsets", description = "Committed offsets (KIP-875)"),
        (name = "plugins", description = "Installed plugins and config validation"),
        (name = "admin", description = "Log levels"),
        (name = "internal", description = "Between the workers of a distributed cluster"),
    )
)]
pub struct ApiDoc;

/// The OpenAPI document as pretty JSON with a trailing newline.
pub fn openapi_json() -> String {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    let mut text = serde_json::to_value(&doc)
        .and_then(|mut v| {
            contract::refine(&mut v);
            serde_json::to_string_pretty(&v)
        })
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

/// What the server endpoints tell besides the herder's state.
#[derive(Debug, Clone, Default)]
pub struct ServerContext {
    /// Tells `/health` whether the Kafka cluster answers (when watched).
    pub watch: Option<Arc<BrokerWatch>>,
    /// The Kafka cluster's id for `GET /`.
    pub cluster_id: String,
}

/// The `/admin` routes (`admin.listeners` may serve them apart or not at all).
fn admin_routes() -> Router<Shared> {
    Router::new()
        .route("/admin/loggers", get(admin::loggers))
        .route(
            "/admin/loggers/{name}",
            get(admin::logger).put(admin::set_logger),
        )
}

/// Which routes a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routes {
    /// The whole API, `/admin` included.
    All,
    /// The API without `/admin` (served elsewhere or disabled).
    Api,
    /// Only `/admin` (an `admin.listeners` listener).
    Admin,
}

/// The API's routes.
pub fn router(worker: Shared, context: ServerContext) -> Router {
    router_for(worker, context, Routes::All)
}

fn router_for(worker: Shared, context: ServerContext, routes: Routes) -> Router {
    use connectors as c;
    if routes == Routes::Admin {
        return admin_routes()
            .fallback(|| async { error(StatusCode::NOT_FOUND, "HTTP 404 Not Found") })
            .with_state(worker)
            .layer(axum::Extension(Arc::new(context)));
    }
    let admin = if routes == Routes::All {
        admin_routes()
    } else {
        Router::new()
    };
    Router::new()
        .route("/", get(admin::root))
        .route("/health", get(admin::health))
        .route("/metrics", get(admin::metrics))
        .route("/connectors", get(c::list).post(c::create))
        .route("/connectors/{name}", get(c::get_info).delete(c::delete))
        .route(
            "/connectors/{name}/config",
            get(c::get_config).put(c::put_config).patch(c::patch_config),
        )
        .route("/connectors/{name}/status", get(c::get_status))
        .route(
            "/connectors/{name}/tasks",
            get(c::get_tasks).post(c::put_task_configs),
        )
        .route(
            "/connectors/{name}/tasks/{task}/status",
            get(c::get_task_status),
        )
        .route(
            "/connectors/{name}/tasks/{task}/restart",
            post(c::restart_task),
        )
        .route("/connectors/{name}/restart", post(c::restart))
        .route("/connectors/{name}/pause", put(c::pause))
        .route("/connectors/{name}/resume", put(c::resume))
        .route("/connectors/{name}/stop", put(c::stop))
        .route("/connectors/{name}/topics", get(c::topics))
        .route("/connectors/{name}/topics/reset", put(c::reset_topics))
        .route(
            "/connectors/{name}/offsets",
            get(c::get_offsets)
                .patch(c::patch_offsets)
                .delete(c::delete_offsets),
        )
        .route("/connector-plugins", get(plugins::list_plugins))
        .route(
            "/connector-plugins/{plugin}/config",
            get(plugins::plugin_config),
        )
        .route(
            "/connector-plugins/{plugin}/config/validate",
            put(plugins::validate),
        )
        .route(
            "/openapi.json",
            get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    openapi_json(),
                )
            }),
        )
        .merge(admin)
        .fallback(|| async { error(StatusCode::NOT_FOUND, "HTTP 404 Not Found") })
        .layer(axum::middleware::from_fn_with_state(
            worker.clone(),
            forward::layer,
        ))
        .with_state(worker)
        .layer(axum::Extension(Arc::new(context)))
        .merge(
            SwaggerUi::new("/swagger-ui").config(utoipa_swagger_ui::Config::from("/openapi.json")),
        )
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

/// The worker's REST listeners (`listeners`, Kafka Connect's default
/// `http://:8083` bound on 127.0.0.1) and `admin.listeners`.
pub(crate) fn listener_urls(
    props: &std::collections::BTreeMap<String, String>,
) -> (Vec<String>, Option<Vec<String>>) {
    let split = |v: &str| -> Vec<String> {
        v.split(',')
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    };
    let main = props
        .get("listeners")
        .map(|v| split(v))
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| vec!["http://127.0.0.1:8083".into()]);
    (main, props.get("admin.listeners").map(|v| split(v)))
}

/// Serves the API on every listener in the background: HTTP and HTTPS,
/// behind basic authentication and CORS when the worker's keys ask for
/// them, `/admin` where `admin.listeners` says.
pub async fn serve(
    props: &std::collections::BTreeMap<String, String>,
    worker: Shared,
    context: ServerContext,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let (main, admin) = listener_urls(props);
    let auth =
        security::BasicAuth::from_worker(props, std::env::var("KAFKA_OPTS").ok().as_deref())?
            .map(Arc::new);
    let cors = security::Cors::from_worker(props).map(Arc::new);
    let tls = if main
        .iter()
        .chain(admin.iter().flatten())
        .any(|l| l.starts_with("https://"))
    {
        // Forwarded requests go to the other workers' HTTPS listeners.
        security::set_client_tls(props)?;
        Some(security::server_tls(props)?)
    } else {
        None
    };
    let api_routes = if admin.is_some() {
        Routes::Api
    } else {
        Routes::All
    };
    let mut servers = tokio::task::JoinSet::new();
    let plan = main
        .iter()
        .map(|l| (l, api_routes))
        .chain(admin.iter().flatten().map(|l| (l, Routes::Admin)));
    for (url, routes) in plan {
        let addr = bind_addr(url);
        let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|e| {
            anyhow::anyhow!("cannot listen for the REST API on {addr} ({url}): {e}")
        })?;
        let mut app = router_for(worker.clone(), context.clone(), routes);
        if let Some(a) = &auth {
            app = app.layer(axum::middleware::from_fn_with_state(
                a.clone(),
                security::require_login,
            ));
        }
        if let Some(c) = &cors {
            app = app.layer(axum::middleware::from_fn_with_state(
                c.clone(),
                security::cors,
            ));
        }
        let local = listener.local_addr()?;
        let what = if routes == Routes::Admin {
            "REST admin endpoints"
        } else {
            "REST API"
        };
        if url.starts_with("https://") {
            let acceptor = tls
                .clone()
                .ok_or_else(|| anyhow::anyhow!("{url}: no TLS settings"))?;
            tracing::info!(
                "{what} on https://{local}{}",
                if auth.is_some() {
                    " (basic authentication)"
                } else {
                    ""
                }
            );
            let l = security::TlsListener::new(listener, acceptor)?;
            servers.spawn(async move {
                if let Err(e) = axum::serve(l, app).await {
                    tracing::error!("REST server stopped: {e}");
                }
            });
        } else {
            tracing::info!(
                "{what} on http://{local}{}",
                if auth.is_some() {
                    " (basic authentication)"
                } else {
                    ""
                }
            );
            servers.spawn(async move {
                if let Err(e) = axum::serve(listener, app).await {
                    tracing::error!("REST server stopped: {e}");
                }
            });
        }
    }
    Ok(tokio::spawn(async move {
        while servers.join_next().await.is_some() {}
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

    /// The committed contract must be what the code serves; `WEIR_BLESS=1`
    /// rewrites it after an intended change.
    #[test]
    fn committed_openapi_matches_the_code() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/openapi.json");
        let generated = openapi_json();
        if std::env::var_os("WEIR_BLESS").is_some() {
            std::fs::write(&path, &generated).expect("write openapi.json");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "openapi/openapi.json differs from the API the code serves; \
             regenerate it with `WEIR_BLESS=1 cargo test -p worker --lib openapi` and review the diff"
        );
    }

    #[test]
    fn every_response_is_described_and_names_are_linked() {
        let doc: Value = serde_json::from_str(&openapi_json()).expect("json");
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("operations") {
                for (code, r) in op["responses"].as_object().expect("responses") {
                    let d = r["description"].as_str().unwrap_or("");
                    assert!(!d.is_empty(), "{method} {path} {code} has no description");
                }
            }
        }
        let links = doc
            .pointer("/paths/~1connectors/post/responses/201/links")
            .and_then(Value::as_object)
            .expect("links from POST /connectors");
        for target in ["get_info", "get_status", "pause", "delete", "get_offsets"] {
            assert_eq!(
                links[target]["parameters"]["name"], "$response.body#/name",
                "{target}"
            );
        }
        assert!(!links.contains_key("put_task_configs"));
        let config = &doc["components"]["schemas"]["ConnectorConfig"];
        assert_eq!(config["required"], serde_json::json!(["connector.class"]));
    }

    #[test]
    fn config_values_are_scalars() {
        let v = serde_json::json!({"a": "x", "b": 2, "c": true, "d": null});
        let props = flat(&v).expect("scalars");
        assert_eq!(props.get("b").map(String::as_str), Some("2"));
        assert_eq!(props.get("c").map(String::as_str), Some("true"));
        assert!(!props.contains_key("d"));
        let e = flat(&serde_json::json!({"file": {"path": "x"}})).expect_err("object");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.contains("configuration file"), "{}", e.message);
    }

    #[test]
    fn flags_are_true_or_false() {
        let q = |v: &str| std::collections::BTreeMap::from([("f".to_string(), v.to_string())]);
        assert!(connectors::flag(&q("TRUE"), "f", false).expect("true"));
        assert!(!connectors::flag(&q("false"), "f", true).expect("false"));
        assert!(connectors::flag(&Default::default(), "f", true).expect("default"));
        let e = connectors::flag(&q("null"), "f", true).expect_err("null");
        assert!(e.message.contains("query parameter f"), "{}", e.message);
    }

    #[test]
    fn every_route_is_documented() {
        let doc: Value = serde_json::from_str(&openapi_json()).expect("json");
        let paths = doc["paths"].as_object().expect("paths");
        for p in [
            "/",
            "/health",
            "/connectors",
            "/connectors/{name}",
            "/connectors/{name}/config",
            "/connectors/{name}/status",
            "/connectors/{name}/tasks",
            "/connectors/{name}/tasks/{task}/status",
            "/connectors/{name}/tasks/{task}/restart",
            "/connectors/{name}/restart",
            "/connectors/{name}/pause",
            "/connectors/{name}/resume",
            "/connectors/{name}/stop",
            "/connectors/{name}/topics",
            "/connectors/{name}/topics/reset",
            "/connectors/{name}/offsets",
            "/connector-plugins",
            "/connector-plugins/{plugin}/config",
            "/connector-plugins/{plugin}/config/validate",
            "/admin/loggers",
            "/admin/loggers/{name}",
        ] {
            assert!(paths.contains_key(p), "{p} is not in the OpenAPI document");
        }
        let methods: usize = paths
            .values()
            .map(|m| m.as_object().map_or(0, |m| m.len()))
            .sum();
        assert_eq!(methods, 30, "one operation per route and method");
    }
}
