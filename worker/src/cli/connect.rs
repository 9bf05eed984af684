//! `weir connect`: a kcctl-style client of the Kafka Connect REST API (Weir's
//! or Kafka Connect's): get, describe, apply, patch, pause, resume, stop,
//! restart, delete, offsets.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use base64::Engine;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// The Connect REST API.
    #[arg(
        long,
        env = "WEIR_CONNECT_URL",
        default_value = "http://127.0.0.1:8083"
    )]
    pub url: String,
    /// `USER:PASSWORD` for a REST API behind basic authentication.
    #[arg(long, env = "WEIR_CONNECT_USER", global = true)]
    pub user: Option<String>,
    /// CA certificates (PEM) to check an https:// REST API against.
    #[arg(long, env = "WEIR_CONNECT_CACERT", global = true)]
    pub cacert: Option<PathBuf>,
    /// Output: `table` (default) or `json`.
    #[arg(short = 'o', long = "output", default_value = "table", global = true)]
    pub output: String,
    #[command(subcommand)]
    pub command: ConnectCommand,
}

#[derive(Debug, Subcommand)]
pub enum ConnectCommand {
    /// `get connectors`, `get plugins`, `get offsets NAME`.
    Get { what: String, name: Option<String> },
    /// Everything about one connector: state, tasks, config, topics.
    Describe {
        /// `connector` (optional).
        #[arg(num_args = 1..=2)]
        args: Vec<String>,
    },
    /// Creates or updates a connector from a .properties or JSON file.
    Apply {
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
        /// The connector name (default: the file's `name`).
        #[arg(long)]
        name: Option<String>,
    },
    /// Sets (`-s k=v`) or removes (`-r k`) config keys.
    Patch {
        #[arg(num_args = 1..=2)]
        args: Vec<String>,
        #[arg(short = 's', long = "set")]
        set: Vec<String>,
        #[arg(short = 'r', long = "remove")]
        remove: Vec<String>,
    },
    Pause {
        #[arg(num_args = 1..=2)]
        args: Vec<String>,
    },
    Resume {
        #[arg(num_args = 1..=2)]
        args: Vec<String>,
    },
    Stop {
        #[arg(num_args = 1..=2)]
        args: Vec<String>,
    },
    /// Restarts a connector (`--include-tasks`, `--only-failed`).
    Restart {
        #[arg(num_args = 1..=2)]
        args: Vec<String>,
        #[arg(long = "include-tasks")]
        include_tasks: bool,
        #[arg(long = "only-failed")]
        only_failed: bool,
    },
    Delete {
        #[arg(num_args = 1..=2)]
        args: Vec<String>,
    },
    /// `offsets alter NAME -f offsets.json` or `offsets reset NAME`.
    Offsets {
        action: String,
        name: String,
        #[arg(short = 'f', long = "file")]
        file: Option<PathBuf>,
    },
}

/// A reply from the REST API.
struct Reply {
    status: u16,
    body: Value,
}

/// Credentials for the REST API (`--user`, or a URL's `user:password@`).
static LOGIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// One HTTP/1.1 request over a fresh connection (HTTPS checked against
/// `--cacert`, else the public roots).
fn request(base: &str, method: &str, path: &str, body: Option<&Value>) -> anyhow::Result<Reply> {
    let (base, from_url) = match base.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((login, hp)) => (format!("{scheme}://{hp}"), Some(login.to_string())),
            None => (base.to_string(), None),
        },
        None => (base.to_string(), None),
    };
    let mut headers = Vec::new();
    if let Some(login) = from_url.as_ref().or(LOGIN.get()) {
        let token = base64::engine::general_purpose::STANDARD.encode(login);
        headers.push(("Authorization".to_string(), format!("Basic {token}")));
    }
    let payload = body.map(Value::to_string).unwrap_or_default();
    let reply = super::common::block_on(crate::rest::client::exchange(
        &base,
        method,
        path,
        &headers,
        payload.as_bytes(),
        Duration::from_secs(120),
    ))
    .with_context(|| format!("could not reach the Connect REST API at {base}"))?;
    let body_text = String::from_utf8_lossy(&reply.body);
    let body = if body_text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body_text).unwrap_or(Value::String(body_text.into_owned()))
    };
    Ok(Reply {
        status: reply.status,
        body,
    })
}

/// The body of a successful reply, or the API's error message.
fn ok(r: Reply) -> anyhow::Result<Value> {
    if (200..300).contains(&r.status) {
        return Ok(r.body);
    }
    let msg = r
        .body
        .get("message")
        .and_then(Value::as_str)
        .map_or_else(|| r.body.to_string(), str::to_string);
    bail!("{msg} (HTTP {})", r.status)
}

/// `connector NAME` or `NAME`.
fn target(args: &[String]) -> anyhow::Result<&str> {
    match args {
        [name] => Ok(name),
        [kind, name] if kind == "connector" || kind == "connectors" => Ok(name),
        _ => bail!("expected: connector NAME"),
    }
}

fn table(rows: &[Vec<String>]) {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0))
        .collect();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{v:<w$}", w = widths[i]))
            .collect();
        println!("{}", line.join("   ").trim_end());
    }
}

fn print_json(v: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

pub fn run(args: ConnectArgs) -> anyhow::Result<()> {
    if let Some(login) = &args.user {
        let _ = LOGIN.set(login.clone());
    }
    if let Some(ca) = &args.cacert {
        let props = [
            ("ssl.truststore.type".to_string(), "PEM".to_string()),
            (
                "ssl.truststore.location".to_string(),
                ca.display().to_string(),
            ),
        ]
        .into();
        crate::rest::security::set_client_tls(&props)?;
    }
    let url = args.url.as_str();
    let json_out = args.output == "json";
    let enc = |s: &str| {
        s.replace('%', "%25")
            .replace(' ', "%20")
            .replace('/', "%2F")
    };
    match &args.command {
        ConnectCommand::Get { what, name } => match what.as_str() {
            "connectors" | "connector" => {
                let v = ok(request(
                    url,
                    "GET",
                    "/connectors?expand=status&expand=info",
                    None,
                )?)?;
                if json_out {
                    return print_json(&v);
                }
                let mut rows = vec![vec![
                    "NAME".into(),
                    "TYPE".into(),
                    "STATE".into(),
                    "TASKS".into(),
                ]];
                if let Some(o) = v.as_object() {
                    for (n, e) in o {
                        let st = &e["status"];
                        let tasks: Vec<String> = st["tasks"]
                            .as_array()
                            .map(|ts| {
                                ts.iter()
                                    .map(|t| {
                                        format!(
                                            "{}: {}",
                                            t["id"],
                                            t["state"].as_str().unwrap_or("?")
                                        )
                                    })
                                    .collect()
                            })
                            .unwrap_or_default();
                        rows.push(vec![
                            n.clone(),
                            st["type"].as_str().unwrap_or("").to_string(),
                            st["connector"]["state"].as_str().unwrap_or("").to_string(),
                            tasks.join(", "),
                        ]);
                    }
                }
                table(&rows);
                Ok(())
            }
            "plugins" | "plugin" => {
                let v = ok(request(
                    url,
                    "GET",
                    "/connector-plugins?connectorsOnly=false",
                    None,
                )?)?;
                if json_out {
                    return print_json(&v);
                }
                let mut rows = vec![vec!["TYPE".into(), "CLASS".into(), "VERSION".into()]];
                for p in v.as_array().into_iter().flatten() {
                    rows.push(vec![
                        p["type"].as_str().unwrap_or("").into(),
                        p["class"].as_str().unwrap_or("").into(),
                        p["version"].as_str().unwrap_or("").into(),
                    ]);
                }
                table(&rows);
                Ok(())
            }
            "offsets" => {
                let name = name
                    .as_deref()
                    .ok_or_else(|| anyhow::anyhow!("expected: get offsets NAME"))?;
                print_json(&ok(request(
                    url,
                    "GET",
                    &format!("/connectors/{}/offsets", enc(name)),
                    None,
                )?)?)
            }
            other => bail!("cannot get {other:?}: use connectors, plugins or offsets"),
        },
        ConnectCommand::Describe { args: a } => {
            let name = target(a)?;
            let path = format!("/connectors/{}", enc(name));
            let info = ok(request(url, "GET", &path, None)?)?;
            let status = ok(request(url, "GET", &format!("{path}/status"), None)?)?;
            let topics =
                ok(request(url, "GET", &format!("{path}/topics"), None)?).unwrap_or(Value::Null);
            if json_out {
                return print_json(
                    &json!({"info": info, "status": status, "topics": topics[name]["topics"]}),
                );
            }
            println!("Name:       {name}");
            println!("Type:       {}", status["type"].as_str().unwrap_or(""));
            println!(
                "State:      {}",
                status["connector"]["state"].as_str().unwrap_or("")
            );
            println!(
                "Worker ID:  {}",
                status["connector"]["worker_id"].as_str().unwrap_or("")
            );
            println!("Config:");
            for (k, v) in info["config"].as_object().into_iter().flatten() {
                println!("  {k:<30} {}", v.as_str().unwrap_or(""));
            }
            println!("Tasks:");
            for t in status["tasks"].as_array().into_iter().flatten() {
                println!("  {}:", t["id"]);
                println!("    State:      {}", t["state"].as_str().unwrap_or(""));
                println!("    Worker ID:  {}", t["worker_id"].as_str().unwrap_or(""));
                if let Some(tr) = t["trace"].as_str() {
                    println!("    Trace:      {tr}");
                }
            }
            if let Some(ts) = topics[name]["topics"].as_array() {
                println!("Topics:");
                for t in ts {
                    println!("  {}", t.as_str().unwrap_or(""));
                }
            }
            Ok(())
        }
        ConnectCommand::Apply { file, name } => {
            let (file_name, props) = super::standalone::load_connector(file)?;
            let name = name.clone().unwrap_or(file_name);
            let r = request(
                url,
                "PUT",
                &format!("/connectors/{}/config", enc(&name)),
                Some(&json!(props)),
            )?;
            let created = r.status == 201;
            ok(r)?;
            println!(
                "{} connector {name}",
                if created { "Created" } else { "Updated" }
            );
            Ok(())
        }
        ConnectCommand::Patch {
            args: a,
            set,
            remove,
        } => {
            let name = target(a)?;
            let mut patch = serde_json::Map::new();
            for kv in set {
                let (k, v) = super::common::key_value("-s", kv)?;
                patch.insert(k, Value::String(v));
            }
            for k in remove {
                patch.insert(k.clone(), Value::Null);
            }
            ok(request(
                url,
                "PATCH",
                &format!("/connectors/{}/config", enc(name)),
                Some(&Value::Object(patch)),
            )?)?;
            println!("Patched connector {name}");
            Ok(())
        }
        ConnectCommand::Pause { args: a } => simple(url, "PUT", a, "pause", "Paused"),
        ConnectCommand::Resume { args: a } => simple(url, "PUT", a, "resume", "Resumed"),
        ConnectCommand::Stop { args: a } => simple(url, "PUT", a, "stop", "Stopped"),
        ConnectCommand::Restart {
            args: a,
            include_tasks,
            only_failed,
        } => {
            let name = target(a)?;
            let path = format!(
                "/connectors/{}/restart?includeTasks={include_tasks}&onlyFailed={only_failed}",
                enc(name)
            );
            ok(request(url, "POST", &path, None)?)?;
            println!("Restarted connector {name}");
            Ok(())
        }
        ConnectCommand::Delete { args: a } => {
            let name = target(a)?;
            ok(request(
                url,
                "DELETE",
                &format!("/connectors/{}", enc(name)),
                None,
            )?)?;
            println!("Deleted connector {name}");
            Ok(())
        }
        ConnectCommand::Offsets { action, name, file } => {
            let path = format!("/connectors/{}/offsets", enc(name));
            let v = match action.as_str() {
                "get" => ok(request(url, "GET", &path, None)?)?,
                "reset" => ok(request(url, "DELETE", &path, None)?)?,
                "alter" | "patch" => {
                    let f = file
                        .as_ref()
                        .ok_or_else(|| anyhow::anyhow!("offsets alter needs -f offsets.json"))?;
                    let text = std::fs::read_to_string(f)
                        .with_context(|| format!("reading {}", f.display()))?;
                    let body: Value = serde_json::from_str(&text)
                        .map_err(|e| anyhow::anyhow!("{}: invalid JSON: {e}", f.display()))?;
                    ok(request(url, "PATCH", &path, Some(&body))?)?
                }
                other => bail!("offsets {other}: use get, alter or reset"),
            };
            match v.get("message").and_then(Value::as_str) {
                Some(m) if !json_out => println!("{m}"),
                _ => print_json(&v)?,
            }
            Ok(())
        }
    }
}

fn simple(url: &str, method: &str, a: &[String], verb: &str, done: &str) -> anyhow::Result<()> {
    let name = target(a)?;
    ok(request(
        url,
        method,
        &format!("/connectors/{}/{verb}", name.replace('/', "%2F")),
        None,
    )?)?;
    println!("{done} connector {name}");
    Ok(())
}
