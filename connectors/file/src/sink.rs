//! FileStreamSink's task: one line per record value, appended to a file (or
//! written to stdout) as each batch arrives; a flush makes the lines durable
//! (fsync) before the runtime commits their offsets.

use std::sync::Arc;

use async_trait::async_trait;
use connect_api::text::value_text;
use connect_api::{
    ConnectError, ConnectResult, Offsets, Props, SinkRecord, SinkTask, SinkTaskContext,
};
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};

use crate::file_of;

#[derive(Default)]
pub struct FileStreamSinkTask {
    file: Option<tokio::fs::File>,
    out: Option<BufWriter<Box<dyn AsyncWrite + Send + Unpin>>>,
    path: Option<String>,
}

#[async_trait]
impl SinkTask for FileStreamSinkTask {
    fn acts_on_time(&self) -> bool {
        false
    }

    async fn start(&mut self, props: &Props, _ctx: Arc<dyn SinkTaskContext>) -> ConnectResult<()> {
        self.path = file_of(props);
        let writer: Box<dyn AsyncWrite + Send + Unpin> = match &self.path {
            Some(path) => {
                let f = tokio::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .await
                    .map_err(|e| {
                        ConnectError::fatal(format!(
                            "Couldn't find or create file '{path}' for FileStreamSinkTask: {e}"
                        ))
                    })?;
                self.file = Some(f.try_clone().await?);
                Box::new(f)
            }
            None => Box::new(tokio::io::stdout()),
        };
        self.out = Some(BufWriter::with_capacity(1 << 20, writer));
        Ok(())
    }

    async fn put(&mut self, records: &[SinkRecord]) -> ConnectResult<()> {
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| ConnectError::fatal("FileStreamSinkTask is not started"))?;
        for r in records {
            let mut line = value_text(&r.value.value);
            line.push('\n');
            out.write_all(line.as_bytes()).await?;
        }
        // Visible at once, like Kafka's println; durable at the next flush.
        out.flush().await?;
        Ok(())
    }

    async fn flush(&mut self, _offsets: &Offsets) -> ConnectResult<()> {
        if let Some(out) = self.out.as_mut() {
            out.flush().await?;
        }
        if let Some(f) = self.file.as_ref() {
            f.sync_data().await?;
        }
        Ok(())
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        if let Some(out) = self.out.as_mut() {
            out.flush().await?;
        }
        self.out = None;
        self.file = None;
        Ok(())
    }
}
