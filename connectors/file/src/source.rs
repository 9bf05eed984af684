//! FileStreamSource's task: reads complete lines from a file (or stdin) from
//! the committed byte position on, following the file as it grows.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use connect_api::record::{SourceOffset, SourcePartition};
use connect_api::{
    ConnectError, ConnectResult, Props, Schema, SchemaAndValue, SourceRecord, SourceTask,
    SourceTaskContext, Value,
};
use serde_json::Value as Json;
use std::io::{Read, Seek};

use tokio::io::AsyncReadExt;

use crate::common::now_ms;
use crate::{file_of, source_topic, BATCH_SIZE, FILENAME_FIELD, POSITION_FIELD};

/// How much is read from the file at a time.
const READ_CHUNK: usize = 1 << 20;
/// How long a poll waits when there is nothing new.
const IDLE_WAIT: Duration = Duration::from_millis(200);

/// Where lines come from. A file is read with plain blocking reads: each
/// task has a thread of its own (see `SourceTask`), and a read of a chunk
/// from a regular file is short, where a round trip through tokio's
/// blocking pool would cost a hand-off and a copy per chunk.
enum Input {
    File(std::fs::File),
    Stdin(tokio::io::Stdin),
}

#[derive(Default)]
pub struct FileStreamSourceTask {
    file: Option<String>,
    topic: Arc<str>,
    batch_size: usize,
    input: Option<Input>,
    /// Bytes read; those before `head` are emitted already.
    buffer: Vec<u8>,
    head: usize,
    /// Byte position in the file of `buffer[head]`.
    position: u64,
    schema: Option<Arc<Schema>>,
    warned_missing: bool,
}

impl FileStreamSourceTask {
    fn partition(&self) -> SourcePartition {
        let mut p = SourcePartition::new();
        p.insert(
            FILENAME_FIELD.into(),
            self.file.clone().map_or(Json::Null, Json::String),
        );
        p
    }

    /// Opens the file at the current position; `false` when it does not exist yet.
    async fn open(&mut self) -> ConnectResult<bool> {
        let Some(path) = &self.file else {
            self.input = Some(Input::Stdin(tokio::io::stdin()));
            return Ok(true);
        };
        let mut f = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !self.warned_missing {
                    tracing::warn!("Couldn't find file {path} for FileStreamSourceTask, sleeping to wait for it to be created");
                    self.warned_missing = true;
                }
                return Ok(false);
            }
            Err(e) => {
                return Err(ConnectError::fatal(format!(
                    "Error while trying to open file {path}: {e}"
                )))
            }
        };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len < self.position {
            tracing::warn!(
                "{path} is shorter ({len} bytes) than the committed position {}: it was truncated or replaced; reading it from the start",
                self.position
            );
            self.position = 0;
        }
        f.seek(std::io::SeekFrom::Start(self.position))?;
        tracing::info!("Reading {path} from byte {}", self.position);
        self.input = Some(Input::File(f));
        Ok(true)
    }

    /// Splits complete lines off the buffer (`\n`, `\r\n` or `\r`), at most `max`.
    fn take_lines(&mut self, max: usize, at_eof: bool) -> Vec<(String, u64)> {
        let mut out = Vec::with_capacity(max.min(4096));
        // Positions in the file: `buffer[head]` is at `self.position`.
        let base = self.position - self.head as u64;
        let buf = &self.buffer;
        let mut start = self.head;
        while out.len() < max {
            let Some(at) = memchr::memchr2(b'\n', b'\r', &buf[start..]).map(|i| start + i) else {
                break;
            };
            let end = if buf[at] == b'\n' {
                at + 1
            } else if at + 1 == buf.len() && !at_eof {
                // A `\r` at the end of the data may be the start of `\r\n`.
                break;
            } else if buf.get(at + 1) == Some(&b'\n') {
                at + 2
            } else {
                at + 1
            };
            out.push((line_text(&buf[start..at]), base + end as u64));
            start = end;
        }
        self.position += (start - self.head) as u64;
        self.head = start;
        out
    }
}

/// A line as text; invalid UTF-8 becomes U+FFFD, as Java's decoder does.
fn line_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

#[async_trait]
impl SourceTask for FileStreamSourceTask {
    fn reads_committed_records(&self) -> bool {
        false
    }

    async fn start(&mut self, props: &Props, ctx: SourceTaskContext) -> ConnectResult<()> {
        self.file = file_of(props);
        self.topic = source_topic(props).map_err(ConnectError::fatal)?.into();
        self.batch_size = match props.get(BATCH_SIZE) {
            None => 2000,
            Some(b) => b
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    ConnectError::fatal(format!(
                    "Invalid value {b} for configuration {BATCH_SIZE}: Value must be at least 1"
                ))
                })?,
        };
        self.schema = Some(Arc::new(Schema::string()));
        if self.file.is_some() {
            if let Some(offset) = ctx.offsets.offset(&self.partition()) {
                match offset.get(POSITION_FIELD).and_then(Json::as_u64) {
                    Some(p) => self.position = p,
                    None => {
                        return Err(ConnectError::fatal(format!(
                            "Offset position is the incorrect type: {offset:?}"
                        )))
                    }
                }
            }
        }
        Ok(())
    }

    async fn poll(&mut self) -> ConnectResult<Vec<SourceRecord>> {
        if self.input.is_none() && !self.open().await? {
            tokio::time::sleep(Duration::from_secs(1)).await;
            return Ok(Vec::new());
        }
        // Lines already in the buffer first; read only when they are not a
        // full batch. What is left then is at most one partial line, so
        // moving it to the front of the buffer costs next to nothing.
        let mut lines = self.take_lines(self.batch_size, false);
        let mut at_eof = false;
        if lines.len() < self.batch_size {
            self.buffer.drain(..self.head);
            self.head = 0;
            let len = self.buffer.len();
            // The allocation is reused from poll to poll.
            self.buffer.resize(len + READ_CHUNK, 0);
            let n = match self.input.as_mut() {
                Some(Input::File(f)) => f.read(&mut self.buffer[len..]),
                Some(Input::Stdin(s)) => s.read(&mut self.buffer[len..]).await,
                None => Ok(0),
            };
            self.buffer.truncate(len + *n.as_ref().unwrap_or(&0));
            let n = n?;
            at_eof = n == 0;
            let more = self.batch_size - lines.len();
            lines.extend(self.take_lines(more, at_eof && self.file.is_none()));
        }
        if lines.is_empty() {
            if at_eof {
                tokio::time::sleep(IDLE_WAIT).await;
            }
            return Ok(Vec::new());
        }
        let partition = Arc::new(self.partition());
        let ts = now_ms();
        // The position travels on the batch's last record only; the others
        // carry Kafka's null offset, which the last one covers. A committed
        // position is therefore always the end of a batch, and building one
        // offset object per batch instead of per line is what lets the
        // source keep up with the broker.
        let last = lines.len() - 1;
        Ok(lines
            .into_iter()
            .enumerate()
            .map(|(i, (line, end))| {
                let offset = (i == last).then(|| {
                    let mut o = SourceOffset::new();
                    o.insert(POSITION_FIELD.into(), Json::from(end));
                    o
                });
                let mut r = SourceRecord::new(
                    partition.clone(),
                    offset,
                    self.topic.clone(),
                    SchemaAndValue::new(self.schema.clone(), Value::String(line)),
                );
                r.timestamp = Some(ts);
                r
            })
            .collect())
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        self.input = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_on_any_line_end_and_positions_follow_bytes() {
        let mut t = FileStreamSourceTask {
            position: 100,
            ..Default::default()
        };
        t.buffer = b"a\nbb\r\nc\rdd".to_vec();
        let lines = t.take_lines(10, false);
        assert_eq!(
            lines,
            vec![
                ("a".to_string(), 102),
                ("bb".to_string(), 106),
                ("c".to_string(), 108)
            ]
        );
        assert_eq!(&t.buffer[t.head..], b"dd");
        assert_eq!(t.position, 108);
        t.buffer.extend_from_slice(b"\r");
        assert!(
            t.take_lines(10, false).is_empty(),
            "a trailing \\r waits for a possible \\n"
        );
        t.buffer.extend_from_slice(b"\nx\n");
        assert_eq!(t.take_lines(1, false), vec![("dd".to_string(), 112)]);
        assert_eq!(t.take_lines(1, false), vec![("x".to_string(), 114)]);
    }
}
