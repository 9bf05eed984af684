//! Flume's exec source: runs `command` and makes each line of its standard
//! output a record (`shell`, `restart`, `restartThrottle`, `logStdErr`,
//! `batchSize`). As in Flume it is at-most-once: a line the command wrote
//! before the worker stopped and that was not yet handed over is lost, and
//! a restarted command starts over.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use connect_api::config::{key, ConfigKey, ConfigType, DefaultValue, Importance, Validator};
use connect_api::record::SourcePartition;
use connect_api::{
    ConfigDef, ConnectError, ConnectResult, Props, Schema, SourceRecord, SourceTask,
    SourceTaskContext,
};
use tokio::sync::mpsc;

use crate::common::{
    bool_setting, drain, int_setting, line_record, now_ms, str_setting, with_topic,
};

pub const COMMAND: &str = "command";
pub const SHELL: &str = "shell";
pub const RESTART: &str = "restart";
pub const RESTART_THROTTLE: &str = "restartThrottle";
pub const LOG_STDERR: &str = "logStdErr";
pub const BATCH_SIZE: &str = "batchSize";

pub fn def() -> ConfigDef {
    with_topic(ConfigDef::new())
        .define(key(COMMAND, ConfigType::String, DefaultValue::Required, Importance::High, "The command to run; each line it prints is a record."))
        .define(key(SHELL, ConfigType::String, DefaultValue::Null, Importance::Medium, "A shell that runs the command, e.g. `/bin/sh -c`; without it the command is split on spaces and run directly."))
        .define(key(RESTART, ConfigType::Boolean, DefaultValue::Value("false"), Importance::Medium, "Run the command again when it exits."))
        .define(ConfigKey {
            validator: Some(Validator::AtLeast(0)),
            ..key(RESTART_THROTTLE, ConfigType::Long, DefaultValue::Value("10000"), Importance::Low, "Milliseconds to wait before running the command again.")
        })
        .define(key(LOG_STDERR, ConfigType::Boolean, DefaultValue::Value("false"), Importance::Low, "Log what the command writes to its standard error."))
        .define(ConfigKey {
            validator: Some(Validator::AtLeast(1)),
            ..key(BATCH_SIZE, ConfigType::Int, DefaultValue::Value("20"), Importance::Low, "The most lines handed over at a time.")
        })
        .define(key("batchTimeout", ConfigType::Long, DefaultValue::Value("3000"), Importance::Low, "Accepted for Flume's files; lines are handed over as soon as they are read."))
}

/// What the reader thread and the task share.
struct Running {
    child: Mutex<Option<Child>>,
    stopping: AtomicBool,
}

#[derive(Default)]
pub struct ExecSourceTask {
    topic: Arc<str>,
    partition: Arc<SourcePartition>,
    batch: usize,
    lines: Option<mpsc::Receiver<Vec<u8>>>,
    running: Option<Arc<Running>>,
    schema: Option<Arc<Schema>>,
}

struct Spec {
    program: String,
    args: Vec<String>,
    restart: bool,
    throttle: Duration,
    log_stderr: bool,
}

impl Spec {
    fn spawn(&self) -> std::io::Result<Child> {
        Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(if self.log_stderr {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .spawn()
    }
}

#[async_trait]
impl SourceTask for ExecSourceTask {
    fn reads_committed_records(&self) -> bool {
        false
    }

    async fn start(&mut self, props: &Props, _ctx: SourceTaskContext) -> ConnectResult<()> {
        self.topic = crate::source_topic(props)
            .map_err(ConnectError::fatal)?
            .into();
        let command = str_setting(props, COMMAND).ok_or_else(|| {
            ConnectError::fatal(format!(
                "Missing required configuration \"{COMMAND}\" which has no default value."
            ))
        })?;
        let (program, args) = match str_setting(props, SHELL) {
            Some(shell) => {
                let mut parts = shell.split_whitespace().map(str::to_string);
                let program = parts.next().unwrap_or_default();
                let mut args: Vec<String> = parts.collect();
                args.push(command.to_string());
                (program, args)
            }
            None => {
                let mut parts = command.split_whitespace().map(str::to_string);
                (parts.next().unwrap_or_default(), parts.collect())
            }
        };
        let spec = Spec {
            program,
            args,
            restart: bool_setting(props, RESTART, false)?,
            throttle: Duration::from_millis(int_setting(
                props,
                RESTART_THROTTLE,
                Some(10_000),
                0,
                i64::MAX,
            )? as u64),
            log_stderr: bool_setting(props, LOG_STDERR, false)?,
        };
        self.batch = int_setting(props, BATCH_SIZE, Some(20), 1, i32::MAX as i64)? as usize;
        let child = spec.spawn().map_err(|e| {
            ConnectError::fatal(format!(
                "exec source cannot run {command:?} ({COMMAND}): {e}"
            ))
        })?;
        let mut p = SourcePartition::new();
        p.insert("command".into(), command.into());
        self.partition = Arc::new(p);
        self.schema = Some(Arc::new(Schema::string()));
        let running = Arc::new(Running {
            child: Mutex::new(Some(child)),
            stopping: AtomicBool::new(false),
        });
        let (tx, rx) = mpsc::channel(self.batch.max(1000));
        self.lines = Some(rx);
        self.running = Some(running.clone());
        std::thread::Builder::new()
            .name("weir-exec-source".into())
            .spawn(move || run(spec, running, tx))?;
        Ok(())
    }

    async fn poll(&mut self) -> ConnectResult<Vec<SourceRecord>> {
        let Some(rx) = self.lines.as_mut() else {
            return Ok(Vec::new());
        };
        let Some(got) = drain(rx, self.batch).await else {
            // The command ended and is not restarted: nothing more comes.
            self.lines = None;
            return Ok(Vec::new());
        };
        let ts = now_ms();
        Ok(got
            .into_iter()
            .map(|line| line_record(&self.partition, &self.topic, &self.schema, line, ts))
            .collect())
    }

    async fn stop(&mut self) -> ConnectResult<()> {
        if let Some(r) = self.running.take() {
            r.stopping.store(true, Ordering::SeqCst);
            kill(&r);
        }
        self.lines = None;
        Ok(())
    }
}

fn kill(r: &Running) {
    if let Ok(mut c) = r.child.lock() {
        if let Some(mut child) = c.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Reads the command's lines until it exits; runs it again while `restart`.
fn run(spec: Spec, running: Arc<Running>, tx: mpsc::Sender<Vec<u8>>) {
    loop {
        let (stdout, stderr) = match running.child.lock() {
            Ok(mut c) => match c.as_mut() {
                Some(child) => (child.stdout.take(), child.stderr.take()),
                None => return,
            },
            Err(_) => return,
        };
        if let Some(err) = stderr {
            let cmd = spec.program.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    tracing::info!("StderrLogger[{cmd}]: {line}");
                }
            });
        }
        if let Some(out) = stdout {
            let mut out = BufReader::new(out);
            let mut line = Vec::new();
            loop {
                line.clear();
                match out.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if line.last() == Some(&b'\n') {
                            line.pop();
                            if line.last() == Some(&b'\r') {
                                line.pop();
                            }
                        }
                        if tx.blocking_send(line.clone()).is_err() {
                            return;
                        }
                    }
                }
            }
        }
        let status = match running.child.lock() {
            Ok(mut c) => c.take().map(|mut ch| ch.wait()),
            Err(_) => return,
        };
        if running.stopping.load(Ordering::SeqCst) {
            return;
        }
        tracing::info!(
            "Command [{}] exited with {:?}",
            spec.program,
            status.map(|s| s.map(|s| s.to_string()))
        );
        if !spec.restart {
            return;
        }
        std::thread::sleep(spec.throttle);
        if running.stopping.load(Ordering::SeqCst) {
            return;
        }
        match spec.spawn() {
            Ok(mut child) => {
                let Ok(mut c) = running.child.lock() else {
                    return;
                };
                // A stop between the check above and here found no child
                // to kill: this one is killed instead of left running.
                if running.stopping.load(Ordering::SeqCst) {
                    let _ = child.kill();
                    let _ = child.wait();
                    return;
                }
                *c = Some(child);
            }
            Err(e) => {
                tracing::error!("exec source cannot run {} again: {e}", spec.program);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use connect_api::Value;

    async fn started(extra: &[(&str, &str)]) -> ExecSourceTask {
        let props: Props = [("topic", "t"), ("command", "echo hi")]
            .iter()
            .chain(extra)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut task = ExecSourceTask::default();
        let ctx = SourceTaskContext {
            configs: props.clone(),
            offsets: Arc::new(crate::common::NoOffsets),
        };
        task.start(&props, ctx).await.expect("start");
        task
    }

    async fn lines_within(task: &mut ExecSourceTask, n: usize, wait: Duration) -> Vec<Value> {
        let deadline = std::time::Instant::now() + wait;
        let mut got = Vec::new();
        while got.len() < n && std::time::Instant::now() < deadline {
            got.extend(
                task.poll()
                    .await
                    .expect("poll")
                    .into_iter()
                    .map(|r| r.value.value),
            );
        }
        got
    }

    /// A command that exits is run again after `restartThrottle` while
    /// `restart` is set, and only once without it.
    #[tokio::test]
    async fn restart_runs_the_command_again() {
        let mut task = started(&[(RESTART, "true"), (RESTART_THROTTLE, "50")]).await;
        let got = lines_within(&mut task, 3, Duration::from_secs(10)).await;
        assert!(got.len() >= 3, "three runs within 10 s: {got:?}");
        assert!(
            got.iter().all(|v| *v == Value::String("hi".into())),
            "{got:?}"
        );
        task.stop().await.expect("stop");

        let mut once = started(&[(RESTART_THROTTLE, "50")]).await;
        let got = lines_within(&mut once, 2, Duration::from_millis(500)).await;
        assert_eq!(got, [Value::String("hi".into())], "run once");
        once.stop().await.expect("stop");
    }
}
