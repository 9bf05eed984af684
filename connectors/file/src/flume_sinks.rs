//! Flume's logger and file_roll sinks: a record is an event whose body is
//! the value and whose headers are the record's headers.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use connect_api::config::{key, ConfigType, DefaultValue, Importance};
use connect_api::{
    ConfigDef, ConnectError, ConnectResult, Offsets, Props, SinkRecord, SinkTask, SinkTaskContext,
};

use crate::common::{body_bytes, header_text, int_setting, now_ms, str_setting};

pub fn logger_def() -> ConfigDef {
    ConfigDef::new().define(key(
        "maxBytesToLog",
        ConfigType::Int,
        DefaultValue::Value("16"),
        Importance::Low,
        "How many bytes of each body are logged.",
    ))
}

/// Flume's `EventHelper.dumpEvent`: `{ headers:{k=v} body: <hex dump> }`,
/// the hex dump as commons-io writes it without its offset column.
pub fn dump_event(headers: &[(String, String)], body: &[u8], max: usize) -> String {
    let mut out = String::from("{ headers:{");
    for (i, (k, v)) in headers.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{k}={v}");
    }
    out.push_str("} body:");
    let data = &body[..body.len().min(max)];
    let rows: Vec<&[u8]> = data.chunks(16).collect();
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            let _ = write!(out, "\n{:08X}", i * 16);
        }
        for b in row.iter() {
            let _ = write!(out, " {b:02X}");
        }
        for _ in row.len()..16 {
            out.push_str("   ");
        }
        out.push(' ');
        out.extend(row.iter().map(|b| {
            if (32..127).contains(b) {
                *b as char
            } else {
                '.'
            }
        }));
    }
    out.push_str(" }");
    out
}

fn event_headers(r: &SinkRecord) -> Vec<(String, String)> {
    r.headers
        .iter()
        .map(|h| (h.key.clone(), header_text(h)))
        .collect()
}

#[derive(Default)]
pub struct LoggerSinkTask {
    max: usize,
}

#[async_trait]
impl SinkTask for LoggerSinkTask {
    fn acts_on_time(&self) -> bool {
        false
    }

    async fn start(&mut self, props: &Props, _ctx: Arc<dyn SinkTaskContext>) -> ConnectResult<()> {
        self.max = int_setting(props, "maxBytesToLog", Some(16), 0, i32::MAX as i64)? as usize;
        Ok(())
    }

    async fn put(&mut self, records: &[SinkRecord]) -> ConnectResult<()> {
        for r in records {
            let line = dump_event(&event_headers(r), &body_bytes(&r.value.value), self.max);
            tracing::info!(target: "org.apache.flume.sink.LoggerSink", "Event: {line}");
        }
        Ok(())
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        Ok(())
    }
}

pub fn roll_def() -> ConfigDef {
    let s = |name, default, doc| key(name, ConfigType::String, default, Importance::Medium, doc);
    ConfigDef::new()
        .define(s(
            "sink.directory",
            DefaultValue::Required,
            "The directory the files are written in.",
        ))
        .define(key(
            "sink.rollInterval",
            ConfigType::Long,
            DefaultValue::Value("30"),
            Importance::Medium,
            "Seconds between new files; 0 writes one file.",
        ))
        .define(s(
            "sink.pathManager.prefix",
            DefaultValue::Value(""),
            "Text before each file name.",
        ))
        .define(s(
            "sink.pathManager.extension",
            DefaultValue::Value(""),
            "Text after each file name (a dot is added).",
        ))
        .define(s(
            "sink.serializer",
            DefaultValue::Value("TEXT"),
            "TEXT: each body on a line of its own.",
        ))
}

/// The open file of a file_roll sink.
struct Rolling {
    out: std::io::BufWriter<std::fs::File>,
    path: PathBuf,
    opened: Instant,
}

#[derive(Default)]
pub struct FileRollSinkTask {
    dir: PathBuf,
    prefix: String,
    extension: String,
    interval: Option<Duration>,
    series: i64,
    index: u64,
    current: Option<Rolling>,
}

impl FileRollSinkTask {
    fn open(&mut self) -> ConnectResult<&mut Rolling> {
        if let Some(c) = &self.current {
            if self.interval.is_some_and(|i| c.opened.elapsed() >= i) {
                self.close()?;
            }
        }
        if self.current.is_none() {
            self.index += 1;
            let ext = if self.extension.is_empty() {
                String::new()
            } else {
                format!(".{}", self.extension)
            };
            let path = self.dir.join(format!(
                "{}{}-{}{ext}",
                self.prefix, self.series, self.index
            ));
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| {
                    ConnectError::retriable(format!(
                        "cannot open {} (sink.directory): {e}",
                        path.display()
                    ))
                })?;
            self.current = Some(Rolling {
                out: std::io::BufWriter::with_capacity(1 << 16, f),
                path,
                opened: Instant::now(),
            });
        }
        self.current
            .as_mut()
            .ok_or_else(|| ConnectError::fatal("no file"))
    }

    fn close(&mut self) -> ConnectResult<()> {
        if let Some(mut c) = self.current.take() {
            c.out.flush()?;
            c.out.get_ref().sync_all()?;
            tracing::debug!("closed {}", c.path.display());
        }
        Ok(())
    }
}

#[async_trait]
impl SinkTask for FileRollSinkTask {
    async fn start(&mut self, props: &Props, _ctx: Arc<dyn SinkTaskContext>) -> ConnectResult<()> {
        let dir = str_setting(props, "sink.directory").ok_or_else(|| {
            ConnectError::fatal(
                "Missing required configuration \"sink.directory\" which has no default value.",
            )
        })?;
        self.dir = PathBuf::from(dir);
        std::fs::create_dir_all(&self.dir).map_err(|e| {
            ConnectError::fatal(format!("cannot create {dir} (sink.directory): {e}"))
        })?;
        if let Some(s) =
            str_setting(props, "sink.serializer").filter(|s| !s.eq_ignore_ascii_case("TEXT"))
        {
            return Err(ConnectError::fatal(format!(
                "Invalid value {s} for configuration sink.serializer: only TEXT is supported"
            )));
        }
        let secs = int_setting(props, "sink.rollInterval", Some(30), 0, i64::MAX)?;
        self.interval = (secs > 0).then(|| Duration::from_secs(secs as u64));
        self.prefix = str_setting(props, "sink.pathManager.prefix")
            .unwrap_or_default()
            .to_string();
        self.extension = str_setting(props, "sink.pathManager.extension")
            .unwrap_or_default()
            .to_string();
        self.series = now_ms();
        Ok(())
    }

    async fn put(&mut self, records: &[SinkRecord]) -> ConnectResult<()> {
        if records.is_empty() {
            if self
                .current
                .as_ref()
                .is_some_and(|c| self.interval.is_some_and(|i| c.opened.elapsed() >= i))
            {
                self.close()?;
            }
            return Ok(());
        }
        let out = &mut self.open()?.out;
        for r in records {
            out.write_all(&body_bytes(&r.value.value))?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    async fn flush(&mut self, _offsets: &Offsets) -> ConnectResult<()> {
        if let Some(c) = self.current.as_mut() {
            c.out.flush()?;
            c.out.get_ref().sync_data()?;
        }
        Ok(())
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        self.close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use connect_api::{SchemaAndValue, SinkRecord, TopicPartition, Value};

    /// A sink task context that asks nothing.
    struct Quiet;

    impl SinkTaskContext for Quiet {
        fn assignment(&self) -> Vec<TopicPartition> {
            Vec::new()
        }
        fn offset(&self, _tp: &TopicPartition, _offset: i64) {}
        fn timeout(&self, _ms: u64) {}
        fn pause(&self, _partitions: &[TopicPartition]) {}
        fn resume(&self, _partitions: &[TopicPartition]) {}
        fn request_commit(&self) {}
    }

    fn files(dir: &std::path::Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort_by_key(|n| n.rsplit('-').next().and_then(|i| i.parse::<u64>().ok()));
        names
    }

    /// `sink.rollInterval` starts a new file once the current one is that
    /// old (an empty put closes it on time); 0 keeps one file.
    #[tokio::test]
    async fn roll_interval() {
        let record = |v: &str| {
            SinkRecord::new(
                "t",
                0,
                0,
                SchemaAndValue::NULL,
                SchemaAndValue::new(None, Value::String(v.into())),
                None,
            )
        };
        for (interval, want) in [("1", vec!["a\n", "b\n"]), ("0", vec!["a\nb\n"])] {
            let tmp = tempfile::tempdir().expect("tmp");
            let props: Props = [
                ("sink.directory", tmp.path().display().to_string()),
                ("sink.rollInterval", interval.to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            let mut task = FileRollSinkTask::default();
            task.start(&props, Arc::new(Quiet)).await.expect("start");
            task.put(&[record("a")]).await.expect("put");
            tokio::time::sleep(Duration::from_millis(1100)).await;
            task.put(&[]).await.expect("empty put");
            task.put(&[record("b")]).await.expect("put");
            task.stop().await.expect("stop");
            let got: Vec<String> = files(tmp.path())
                .iter()
                .map(|n| std::fs::read_to_string(tmp.path().join(n)).expect("read"))
                .collect();
            assert_eq!(got, want, "rollInterval={interval}");
        }
    }

    #[test]
    fn events_print_as_flume_prints_them() {
        // The line in Flume's user guide for `Hello world!` sent by telnet.
        assert_eq!(
            dump_event(&[], b"Hello world!\r", 16),
            "{ headers:{} body: 48 65 6C 6C 6F 20 77 6F 72 6C 64 21 0D          Hello world!. }"
        );
        let h = vec![
            ("timestamp".to_string(), "1".to_string()),
            ("host".to_string(), "h".to_string()),
        ];
        assert_eq!(
            dump_event(&h, b"", 16),
            "{ headers:{timestamp=1, host=h} body: }"
        );
        let long = dump_event(&[], &[b'a'; 20], 20);
        assert!(long.contains("\n00000010 61 61 61 61"), "{long}");
    }
}
