//! `weir storage` (kafka-storage.sh): `random-uuid`, `format -t ID -c
//! server.properties [--standalone] [--ignore-formatted]` and `info -c
//! server.properties`. Formatting writes Kafka's `meta.properties` into
//! each log directory; the broker then serves that cluster id.

use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use broker_core::properties::Properties;
use clap::{Args, Subcommand};

use super::StdoutError;

#[derive(Debug, Args)]
pub struct StorageArgs {
    #[command(subcommand)]
    pub command: StorageCommand,
}

#[derive(Debug, Subcommand)]
pub enum StorageCommand {
    /// Print a random cluster id.
    #[command(name = "random-uuid")]
    RandomUuid,
    /// Write meta.properties into the log directories of server.properties.
    Format {
        /// The cluster id (from `random-uuid`).
        #[arg(short = 't', long = "cluster-id", allow_hyphen_values = true)]
        cluster_id: String,
        /// The broker's server.properties.
        #[arg(short = 'c', long = "config")]
        config: PathBuf,
        /// Format as the single voter of a new quorum (accepted; Weir has
        /// no controller quorum).
        #[arg(short = 's', long)]
        standalone: bool,
        /// Skip directories that are formatted already.
        #[arg(short = 'g', long = "ignore-formatted")]
        ignore_formatted: bool,
        /// Accepted for Kafka's command line.
        #[arg(long = "release-version", short = 'r')]
        release_version: Option<String>,
    },
    /// Show the log directories and their meta.properties.
    Info {
        #[arg(short = 'c', long = "config")]
        config: PathBuf,
    },
}

/// A random UUID as Kafka prints one: 22 characters of URL-safe base64,
/// never starting with `-` (which a command line would take for a flag).
pub fn random_uuid() -> String {
    loop {
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(uuid::Uuid::new_v4().as_bytes());
        if !id.starts_with('-') {
            return id;
        }
    }
}

fn valid_uuid(s: &str) -> bool {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .is_ok_and(|b| b.len() == 16)
}

/// The log directories and node id of a server.properties file.
fn dirs_of(config: &Path) -> anyhow::Result<(Vec<PathBuf>, String)> {
    let p = Properties::load(config).with_context(|| format!("reading {}", config.display()))?;
    let dirs = p
        .get("log.dirs")
        .or(p.get("log.dir"))
        .unwrap_or("/tmp/kafka-logs")
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .collect();
    let node = p
        .get("node.id")
        .or(p.get("broker.id"))
        .unwrap_or("1")
        .trim()
        .to_string();
    Ok((dirs, node))
}

pub fn run(args: StorageArgs) -> anyhow::Result<()> {
    match args.command {
        StorageCommand::RandomUuid => {
            println!("{}", random_uuid());
            Ok(())
        }
        StorageCommand::Format {
            cluster_id,
            config,
            standalone,
            ignore_formatted,
            ..
        } => {
            if !valid_uuid(&cluster_id) {
                return Err(StdoutError(format!(
                    "Cluster ID string {cluster_id} does not appear to be a valid UUID: Input string `{cluster_id}` decoded as {} bytes, which is not equal to the expected 16 bytes of a base64-encoded UUID",
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&cluster_id).map_or(0, |b| b.len())
                ))
                .into());
            }
            let (dirs, node) = dirs_of(&config)?;
            let mut todo = Vec::new();
            for d in &dirs {
                if d.join("meta.properties").exists() {
                    if !ignore_formatted {
                        return Err(StdoutError(format!(
                            "Log directory {} is already formatted. Use --ignore-formatted to ignore this directory and format the others.",
                            d.display()
                        ))
                        .into());
                    }
                } else {
                    todo.push(d);
                }
            }
            if todo.is_empty() {
                println!("All of the log directories are already formatted.");
                return Ok(());
            }
            for d in todo {
                std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
                let text = format!(
                    "#\n#Written by weir storage format\ncluster.id={cluster_id}\ndirectory.id={}\nnode.id={node}\nversion=1\n",
                    random_uuid()
                );
                let tmp = d.join("meta.properties.tmp");
                std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
                std::fs::rename(&tmp, d.join("meta.properties"))?;
                let what = if standalone {
                    "dynamic metadata voter directory"
                } else {
                    "metadata directory"
                };
                println!(
                    "Formatting {what} {} with metadata.version 4.0-IV3.",
                    d.display()
                );
            }
            Ok(())
        }
        StorageCommand::Info { config } => {
            let (dirs, _) = dirs_of(&config)?;
            let (formatted, empty): (Vec<_>, Vec<_>) = dirs
                .iter()
                .partition(|d| d.join("meta.properties").exists());
            let plural = |n: usize| if n == 1 { "directory" } else { "directories" };
            println!("Found log {}:", plural(dirs.len()));
            for d in &dirs {
                println!("  {}", d.display());
            }
            println!();
            for d in &formatted {
                let p = Properties::load(&d.join("meta.properties"))?;
                let fields: Vec<String> = p
                    .to_map()
                    .into_iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                println!("Found metadata: {{{}}}", fields.join(", "));
            }
            if !empty.is_empty() {
                println!();
                println!("Found problem:");
                for d in empty {
                    println!("  {} is not formatted.", d.display());
                }
                return Err(StdoutError(String::new()).into());
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_kafkas_22_characters() {
        let id = random_uuid();
        assert_eq!(id.len(), 22);
        assert!(valid_uuid(&id));
        assert!(!valid_uuid("not-a-uuid"));
    }
}
