//! Forwarding writes to the leader, as Kafka Connect's REST layer does: a
//! worker that does not lead sends a mutating request on to the leader's
//! URL with `?forward=true`; a second hop goes with `forward=false`, and a
//! request marked `forward=false` that still reaches a non-leader is
//! refused with 409. Pausing and resuming are done by any worker.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::client::exchange;
use super::{error, Shared};
use crate::runtime::{Leader, CONFLICT, NO_LEADER};

/// Set on a handler's answer when another worker must handle the request
/// (the owner of a task being restarted, say): the layer sends it there.
#[derive(Debug, Clone)]
pub(super) struct ForwardTo(pub String);

/// How long a write waits for the group to have a leader.
const REBALANCE_WAIT: Duration = Duration::from_secs(15);

/// Whether this request writes through the leader.
fn forwarded(method: &Method, path: &str) -> bool {
    if !path.starts_with("/connectors") || method == Method::GET {
        return false;
    }
    !(path.ends_with("/pause") || path.ends_with("/resume") || path.ends_with("/topics/reset"))
}

/// Requests the handler runs first, answering with a [`ForwardTo`] when
/// another worker must.
fn handler_decides(method: &Method, path: &str) -> bool {
    method == Method::POST
        && (path.ends_with("/tasks") || (path.contains("/tasks/") && path.ends_with("/restart")))
}

pub(super) async fn layer(State(herder): State<Shared>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    if !forwarded(&method, &path) {
        return next.run(request).await;
    }
    let query = request.uri().query().unwrap_or("").to_string();
    let forward_param = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("forward="))
        .map(str::to_ascii_lowercase);
    // While the group forms there is no leader yet: wait a little rather
    // than answer 409 at once.
    let mut leader = herder.leader();
    let deadline = tokio::time::Instant::now() + REBALANCE_WAIT;
    while leader == Leader::Unknown && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        leader = herder.leader();
    }
    let leader = match leader {
        // The handler knows where these go: a task restart to the task's
        // owner, task configs to the leader.
        _ if handler_decides(&method, &path) => None,
        Leader::Here => None,
        Leader::Unknown => return error(StatusCode::CONFLICT, NO_LEADER).into_response(),
        Leader::At(url) => Some(url),
    };
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, 16 << 20).await {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("Cannot read the request body: {e}"),
            )
            .into_response()
        }
    };
    // Internal requests' signatures travel with them, and the user's
    // credentials, as Kafka Connect forwards them.
    let passed: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter(|(k, _)| k.as_str().starts_with("x-connect-") || *k == header::AUTHORIZATION)
        .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let url = match leader {
        Some(url) => url,
        None => {
            let answer = next
                .run(Request::from_parts(parts, Body::from(body.clone())))
                .await;
            match answer.extensions().get::<ForwardTo>() {
                Some(ForwardTo(url)) => url.clone(),
                None => return answer,
            }
        }
    };
    if forward_param.as_deref() == Some("false") {
        return error(StatusCode::CONFLICT, CONFLICT).into_response();
    }
    // The first hop asks the next worker to forward once more if it must;
    // the second does not.
    let recursive = forward_param.is_none();
    let others: Vec<&str> = query
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("forward="))
        .collect();
    let mut target_query = others.join("&");
    if !target_query.is_empty() {
        target_query.push('&');
    }
    target_query.push_str(&format!("forward={recursive}"));
    tracing::info!("forwarding {method} {path} to {url}");
    let reply = exchange(
        &url,
        method.as_str(),
        &format!("{path}?{target_query}"),
        &passed,
        &body,
        Duration::from_secs(90),
    )
    .await;
    match reply.and_then(|r| {
        let mut builder = Response::builder().status(r.status);
        for (k, v) in &r.headers {
            if k == "content-type" || k == "location" {
                if let Ok(v) = HeaderValue::from_str(v) {
                    builder = builder.header(k, v);
                }
            }
        }
        builder = builder.header(header::CONTENT_LENGTH, r.body.len());
        Ok(builder.body(Body::from(r.body))?)
    }) {
        Ok(r) => r,
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Error trying to forward REST request: {e}"),
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_go_to_the_leader_but_pause_and_resume_do_not() {
        assert!(forwarded(&Method::POST, "/connectors"));
        assert!(forwarded(&Method::PUT, "/connectors/c/config"));
        assert!(forwarded(&Method::DELETE, "/connectors/c"));
        assert!(forwarded(&Method::POST, "/connectors/c/tasks/0/restart"));
        assert!(forwarded(&Method::POST, "/connectors/c/tasks"));
        assert!(!forwarded(&Method::PUT, "/connectors/c/pause"));
        assert!(!forwarded(&Method::PUT, "/connectors/c/resume"));
        assert!(!forwarded(&Method::GET, "/connectors/c/status"));
        assert!(!forwarded(&Method::PUT, "/admin/loggers/root"));
        assert!(!forwarded(
            &Method::PUT,
            "/connector-plugins/p/config/validate"
        ));
    }
}
