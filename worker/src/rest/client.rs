//! The HTTP/1.1 client workers use to reach each other: forwarded REST
//! requests and internal requests to the leader. One exchange per
//! connection (`Connection: close`), bounded in time.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// `s` as one percent-encoded path segment.
pub fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Another worker's answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// Header names lower-cased; a chunked body is already joined.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Sends `method path_and_query` with `headers` and `body` to the worker at
/// `base` (`http://host:port/` or `https://...`, checked against the
/// worker's truststore) and reads its whole answer.
pub async fn exchange(
    base: &str,
    method: &str,
    path_and_query: &str,
    headers: &[(String, String)],
    body: &[u8],
    timeout: Duration,
) -> anyhow::Result<Reply> {
    let trimmed = base.trim_end_matches('/');
    let (tls, hostport) = match trimmed.split_once("://") {
        Some(("http", hp)) => (false, hp),
        Some(("https", hp)) => (true, hp),
        _ => anyhow::bail!("only http:// and https:// URLs can be reached, not {base}"),
    };
    let io = async {
        let tcp = tokio::net::TcpStream::connect(hostport).await?;
        let mut stream: Box<dyn Stream> = if tls {
            let host = hostport.rsplit_once(':').map_or(hostport, |(h, _)| h);
            let name = rustls_pki_types::ServerName::try_from(
                host.trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string(),
            )?;
            let connector = tokio_rustls::TlsConnector::from(super::security::client_tls()?);
            Box::new(connector.connect(name, tcp).await?)
        } else {
            Box::new(tcp)
        };
        let mut head = format!(
            "{method} {path_and_query} HTTP/1.1\r\nHost: {hostport}\r\nAccept: application/json\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        if !body.is_empty() {
            head.push_str("Content-Type: application/json\r\n");
        }
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        anyhow::Ok(raw)
    };
    let raw = tokio::time::timeout(timeout, io)
        .await
        .map_err(|_| anyhow::anyhow!("{base} did not answer within {} s", timeout.as_secs()))??;
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
    let mut headers = Vec::new();
    for line in lines {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
        if k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked") {
            body = crate::cli::dechunk(&body);
            continue;
        }
        headers.push((k, v));
    }
    Ok(Reply {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(super::path_segment("file-sink_1.a~"), "file-sink_1.a~");
        assert_eq!(super::path_segment("a b/c"), "a%20b%2Fc");
        assert_eq!(super::path_segment("é"), "%C3%A9");
    }
}
