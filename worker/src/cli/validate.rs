//! `weir validate worker.properties [connector files...] [--distributed]
//! [--url http://worker:8083]`: every problem of a setup, without starting
//! it; exit 1 when there is one.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde_json::Value;

use crate::preflight::{self, Mode, Problem};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The worker file (connect-standalone.properties or
    /// connect-distributed.properties).
    pub worker: PathBuf,
    /// Connector files: .properties, JSON settings or `{"name", "config"}`.
    pub connectors: Vec<PathBuf>,
    /// Check the worker file as a distributed worker's (default: as
    /// standalone, or distributed when it has a group.id).
    #[arg(long)]
    pub distributed: bool,
    /// Also ask the running worker at this URL to validate each connector
    /// (PUT /connector-plugins/{class}/config/validate).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
}

pub fn run(args: ValidateArgs) -> anyhow::Result<()> {
    let mode = if args.distributed
        || broker_core::properties::Properties::load(&args.worker)
            .is_ok_and(|p| p.get("group.id").is_some())
    {
        Mode::Distributed
    } else {
        Mode::Standalone
    };
    let (mut settings, mut problems) = preflight::check_worker_file(&args.worker, mode);
    // A distributed worker takes CONNECT_* variables over its file, as
    // `weir distributed` does.
    let env = crate::distributed::config::from_env(std::env::vars());
    if mode == Mode::Distributed && !env.is_empty() {
        for k in env.keys() {
            settings.lines.remove(k);
        }
        settings.props.extend(env);
        problems.retain(|p| p.key.is_none());
        let file = args.worker.display().to_string();
        preflight::check_worker(&file, &settings, mode, &mut problems);
    }
    let (files, more) = preflight::check_connector_files(&args.connectors, args.url.is_none());
    problems.extend(more);
    if let Some(url) = &args.url {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        for f in &files {
            match rt.block_on(ask_worker(url, f)) {
                Ok(more) => problems.extend(more),
                Err(e) => problems.push(Problem {
                    file: f.file.clone(),
                    line: None,
                    key: None,
                    message: format!("{e:#}"),
                    warning: false,
                }),
            }
        }
    }
    let errors = problems.iter().filter(|p| !p.warning).count();
    for p in &problems {
        let kind = if p.warning { "warning" } else { "error" };
        println!("{kind}: {p}");
    }
    let checked = 1 + args.connectors.len();
    if errors > 0 {
        return Err(crate::cli::StdoutError(format!(
            "{errors} problem(s) in {checked} file(s); nothing was started"
        ))
        .into());
    }
    println!(
        "{checked} file(s) checked ({} as a {} worker): no problem{}",
        args.worker.display(),
        match mode {
            Mode::Standalone => "standalone",
            Mode::Distributed => "distributed",
        },
        if problems.is_empty() {
            String::new()
        } else {
            format!(", {} warning(s)", problems.len())
        }
    );
    Ok(())
}

/// The running worker's validation of one connector file.
async fn ask_worker(url: &str, f: &preflight::ConnectorFile) -> anyhow::Result<Vec<Problem>> {
    let class = f
        .settings
        .props
        .get("connector.class")
        .cloned()
        .unwrap_or_default();
    let base = if url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    };
    let path = format!(
        "/connector-plugins/{}/config/validate",
        crate::rest::client::path_segment(&class)
    );
    let body = serde_json::to_vec(&f.settings.props)?;
    let reply =
        crate::rest::client::exchange(&base, "PUT", &path, &[], &body, Duration::from_secs(30))
            .await
            .map_err(|e| anyhow::anyhow!("asking the worker at {url}: {e:#}"))?;
    let answer: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    let problem = |key: Option<String>, message: String| Problem {
        file: format!("{} (worker at {url})", f.file),
        line: key.as_ref().and_then(|k| f.settings.lines.get(k).copied()),
        key,
        message,
        warning: false,
    };
    if reply.status != 200 {
        let message = answer["message"]
            .as_str()
            .map_or_else(|| format!("HTTP {}", reply.status), str::to_string);
        return Ok(vec![problem(None, message)]);
    }
    let mut out = Vec::new();
    for c in answer["configs"].as_array().into_iter().flatten() {
        let key = c["value"]["name"].as_str().unwrap_or_default().to_string();
        for e in c["value"]["errors"].as_array().into_iter().flatten() {
            if let Some(m) = e.as_str() {
                out.push(problem(Some(key.clone()), m.to_string()));
            }
        }
    }
    Ok(out)
}
