//! Forwarding writes to the leader, as Kafka Connect's REST layer does: a
//! worker that does not lead sends a mutating request on to the leader's
//! URL with `?forward=true`; a second hop goes with `forward=false`, and a
//! request marked `forward=false` that still reaches a non-leader is
//! refused with 409. Pausing and resuming are done by any worker.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{error, Shared};
use crate::runtime::Leader;

/// Whether this request writes through the leader.
fn forwarded(method: &Method, path: &str) -> bool {
    if !path.starts_with("/connectors") || method == Method::GET {
        return false;
    }
    !(path.ends_with("/pause") || path.ends_with("/resume") || path.ends_with("/topics/reset"))
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
    let url = match herder.leader() {
        Leader::Here => return next.run(request).await,
        Leader::Unknown => {
            return error(
                StatusCode::CONFLICT,
                "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.",
            )
            .into_response()
        }
        Leader::At(url) => url,
    };
    if forward_param.as_deref() == Some("false") {
        return error(
            StatusCode::CONFLICT,
            "Cannot complete request because of a conflicting operation (e.g. worker rebalance)",
        )
        .into_response();
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
    let body = match axum::body::to_bytes(request.into_body(), 16 << 20).await {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("Cannot read the request body: {e}"),
            )
            .into_response()
        }
    };
    tracing::info!("forwarding {method} {path} to the leader at {url}");
    match send(
        &url,
        method.as_str(),
        &format!("{path}?{target_query}"),
        &body,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Error trying to forward REST request: {e}"),
        )
        .into_response(),
    }
}

/// One HTTP/1.1 exchange with another worker (`Connection: close`).
async fn send(
    base: &str,
    method: &str,
    path_and_query: &str,
    body: &Bytes,
) -> anyhow::Result<Response> {
    let hostport = base
        .trim_end_matches('/')
        .strip_prefix("http://")
        .ok_or_else(|| {
            anyhow::anyhow!("only http:// worker URLs can be forwarded to, not {base}")
        })?;
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(hostport).await?;
        let mut head = format!(
            "{method} {path_and_query} HTTP/1.1\r\nHost: {hostport}\r\nAccept: application/json\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        if !body.is_empty() {
            head.push_str("Content-Type: application/json\r\n");
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        anyhow::Ok(raw)
    };
    let raw = tokio::time::timeout(Duration::from_secs(90), exchange)
        .await
        .map_err(|_| anyhow::anyhow!("{base} did not answer within 90 s"))??;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow::anyhow!("{base} sent an incomplete HTTP answer"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("{base} sent no HTTP status"))?;
    let mut builder = Response::builder().status(status);
    for line in lines {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let k = k.trim().to_ascii_lowercase();
        if k == "transfer-encoding" && v.trim().eq_ignore_ascii_case("chunked") {
            body = crate::cli::dechunk(&body);
            continue;
        }
        if k == "content-type" || k == "location" {
            if let Ok(v) = HeaderValue::from_str(v.trim()) {
                builder = builder.header(k, v);
            }
        }
    }
    builder = builder.header(header::CONTENT_LENGTH, body.len());
    Ok(builder.body(Body::from(body))?)
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
