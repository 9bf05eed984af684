//! Flume's netcat source: a TCP port where each line a client sends becomes
//! a record (`bind`, `port`, `max-line-length`, `ack-every-event`). A line is
//! acknowledged with `OK` once the task has handed it to the worker, as
//! Flume answers once its channel has the event.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use connect_api::config::{key, ConfigKey, ConfigType, DefaultValue, Importance, Validator};
use connect_api::record::SourcePartition;
use connect_api::{
    ConfigDef, ConnectError, ConnectResult, Props, Schema, SourceRecord, SourceTask,
    SourceTaskContext,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use crate::common::{drain, int_setting, line_record, now_ms};

pub const BIND: &str = "bind";
pub const PORT: &str = "port";
pub const MAX_LINE: &str = "max-line-length";
pub const ACK: &str = "ack-every-event";
/// Lines waiting for the next poll, over all connections.
const QUEUE: usize = 10_000;
const BATCH: usize = 1_000;

pub fn def() -> ConfigDef {
    crate::common::with_topic(ConfigDef::new())
        .define(key(BIND, ConfigType::String, DefaultValue::Required, Importance::High, "The host name or address to listen on."))
        .define(ConfigKey {
            validator: Some(Validator::Between(0, 65535)),
            ..key(PORT, ConfigType::Int, DefaultValue::Required, Importance::High, "The TCP port to listen on.")
        })
        .define(ConfigKey {
            validator: Some(Validator::AtLeast(1)),
            ..key(MAX_LINE, ConfigType::Int, DefaultValue::Value("512"), Importance::Medium, "The longest line accepted, in bytes, its newline included; a longer line is refused (FAILED) and skipped.")
        })
        .define(key(ACK, ConfigType::Boolean, DefaultValue::Value("true"), Importance::Medium, "Answer \"OK\" to every line received."))
}

/// A received line, and where to say it was taken.
type Line = (Vec<u8>, Option<oneshot::Sender<()>>);

#[derive(Default)]
pub struct NetcatSourceTask {
    topic: Arc<str>,
    partition: Arc<SourcePartition>,
    lines: Option<mpsc::Receiver<Line>>,
    schema: Option<Arc<Schema>>,
    accept: Option<tokio::task::JoinHandle<()>>,
}

#[async_trait]
impl SourceTask for NetcatSourceTask {
    fn reads_committed_records(&self) -> bool {
        false
    }

    async fn start(&mut self, props: &Props, _ctx: SourceTaskContext) -> ConnectResult<()> {
        self.topic = crate::source_topic(props)
            .map_err(ConnectError::fatal)?
            .into();
        let bind = props
            .get(BIND)
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let port = int_setting(props, PORT, None, 0, 65535)?;
        let max = int_setting(props, MAX_LINE, Some(512), 1, i64::MAX)? as usize;
        let ack = props
            .get(ACK)
            .is_none_or(|v| !v.trim().eq_ignore_ascii_case("false"));
        let listener = TcpListener::bind((bind.as_str(), port as u16))
            .await
            .map_err(|e| {
                ConnectError::fatal(format!(
                    "netcat source cannot listen on {bind}:{port} ({BIND}, {PORT}): {e}"
                ))
            })?;
        tracing::info!("Netcat source listening on {bind}:{port}");
        let mut p = SourcePartition::new();
        p.insert("netcat".into(), format!("{bind}:{port}").into());
        self.partition = Arc::new(p);
        self.schema = Some(Arc::new(Schema::string()));
        let (tx, rx) = mpsc::channel(QUEUE);
        self.lines = Some(rx);
        self.accept = Some(tokio::spawn(async move {
            // Dropped with this task when the source stops: its
            // connections end with it.
            let mut clients = tokio::task::JoinSet::new();
            loop {
                match listener.accept().await {
                    Ok((conn, peer)) => {
                        tracing::debug!("netcat source: connection from {peer}");
                        clients.spawn(serve(conn, tx.clone(), max, ack));
                        while clients.try_join_next().is_some() {}
                    }
                    Err(e) => {
                        tracing::warn!("netcat source: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        }));
        Ok(())
    }

    async fn poll(&mut self) -> ConnectResult<Vec<SourceRecord>> {
        let Some(rx) = self.lines.as_mut() else {
            return Ok(Vec::new());
        };
        let got = drain(rx, BATCH).await.unwrap_or_default();
        let ts = now_ms();
        Ok(got
            .into_iter()
            .map(|(body, ok)| {
                if let Some(ok) = ok {
                    let _ = ok.send(());
                }
                line_record(&self.partition, &self.topic, &self.schema, body, ts)
            })
            .collect())
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        if let Some(a) = self.accept.take() {
            a.abort();
        }
        self.lines = None;
        Ok(())
    }
}

/// Reads one client's lines: each line without its `\n` (a `\r` before it
/// stays, as Flume keeps it); a line of `max` bytes or more, its newline
/// counted, is refused and skipped.
async fn serve(conn: TcpStream, tx: mpsc::Sender<Line>, max: usize, ack: bool) {
    let (read, mut write) = conn.into_split();
    let mut read = BufReader::new(read);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = match (&mut read)
            .take(max as u64)
            .read_until(b'\n', &mut buf)
            .await
        {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let complete = buf.last() == Some(&b'\n');
        if complete {
            buf.pop();
        } else if n >= max {
            // Too long: the rest of the line is skipped.
            // Skipped in bounded pieces: a client cannot make this grow.
            let mut rest = Vec::new();
            loop {
                rest.clear();
                match (&mut read).take(65_536).read_until(b'\n', &mut rest).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) if rest.last() == Some(&b'\n') => break,
                    Ok(_) => {}
                }
            }
            tracing::warn!("netcat source: a line longer than {max} bytes ({MAX_LINE}) was cut");
            if ack {
                let msg = format!(
                    "FAILED: Event exceeds the maximum length ({max} chars, including newline)\n"
                );
                if write.write_all(msg.as_bytes()).await.is_err() {
                    return;
                }
            }
            continue;
        }
        let (done, taken) = if ack {
            let (a, b) = oneshot::channel();
            (Some(a), Some(b))
        } else {
            (None, None)
        };
        if tx.send((buf.clone(), done)).await.is_err() {
            return;
        }
        if let Some(taken) = taken {
            let answer: &[u8] = if taken.await.is_ok() {
                b"OK\n"
            } else {
                b"FAILED\n"
            };
            if write.write_all(answer).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `max-line-length` counts the newline: a line that fits is taken and
    /// answered OK, a longer one is answered with Flume's FAILED message
    /// and skipped, and the client's next line is read as usual.
    #[tokio::test]
    async fn lines_over_the_limit_are_refused_and_skipped() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, mut rx) = mpsc::channel::<Line>(16);
        let server = tokio::spawn(async move {
            let (conn, _) = listener.accept().await.expect("accept");
            serve(conn, tx, 8, true).await;
        });
        let taker = tokio::spawn(async move {
            let mut taken = Vec::new();
            while let Some((line, done)) = rx.recv().await {
                taken.push(String::from_utf8(line).expect("utf-8"));
                if let Some(d) = done {
                    let _ = d.send(());
                }
            }
            taken
        });
        let mut client = TcpStream::connect(addr).await.expect("connect");
        // 8 bytes with the newline: taken. 9 and 27: refused. Then one more.
        client
            .write_all(b"1234567\n12345678\nmuch longer than eight bytes\nok\n")
            .await
            .expect("send");
        client.shutdown().await.expect("shutdown");
        let mut answer = String::new();
        client.read_to_string(&mut answer).await.expect("answers");
        let failed = "FAILED: Event exceeds the maximum length (8 chars, including newline)\n";
        assert_eq!(answer, format!("OK\n{failed}{failed}OK\n"));
        server.await.expect("server");
        assert_eq!(taker.await.expect("taker"), ["1234567", "ok"]);
    }
}
