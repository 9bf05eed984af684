//! `weir delete-records`: kafka-delete-records.sh with Kafka's JSON file.

use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use serde::Deserialize;

use super::common::{block_on, connect_wait, Target};
use crate::kafka::admin::Cluster;
use crate::kafka::offsets::delete_records;

#[derive(Debug, Args)]
pub struct DeleteRecordsArgs {
    #[command(flatten)]
    pub target: Target,
    /// `{"partitions": [{"topic": "t", "partition": 0, "offset": 10}], "version": 1}`
    #[arg(long = "offset-json-file")]
    pub offset_json_file: PathBuf,
    /// Client properties file (security settings of the admin connection).
    #[arg(long = "command-config")]
    pub command_config: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OffsetFile {
    partitions: Vec<PartitionOffset>,
    #[serde(default)]
    #[allow(dead_code)]
    version: Option<i32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartitionOffset {
    topic: String,
    partition: i32,
    offset: i64,
}

/// Parses the offset file; errors name the file, line and column.
fn parse(path: &std::path::Path, text: &str) -> anyhow::Result<Vec<((String, i32), i64)>> {
    let file: OffsetFile = serde_json::from_str(text)
        .map_err(|e| anyhow::anyhow!("{}: invalid offset JSON: {e}", path.display()))?;
    let mut seen = HashSet::new();
    let mut dups = Vec::new();
    for p in &file.partitions {
        if !seen.insert((p.topic.clone(), p.partition)) {
            dups.push(format!("{}-{}", p.topic, p.partition));
        }
    }
    if !dups.is_empty() {
        bail!(
            "Offset json file contains duplicate topic partitions: {}",
            dups.join(",")
        );
    }
    if file.partitions.is_empty() {
        bail!("{}: the offset JSON lists no partitions", path.display());
    }
    Ok(file
        .partitions
        .into_iter()
        .map(|p| ((p.topic, p.partition), p.offset))
        .collect())
}

pub fn run(args: DeleteRecordsArgs) -> anyhow::Result<()> {
    let path = &args.offset_json_file;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let offsets = parse(path, &text)?;
    block_on(async {
        args.target
            .check_admin_config(args.command_config.as_deref())?;
        let servers = args.target.server_list()?;
        let mut cluster = Cluster::connect(&servers, "weir-delete-records", connect_wait()).await?;
        println!("Executing records delete operation");
        let results = delete_records(&mut cluster, &offsets).await?;
        println!("Records delete operation completed:");
        let mut failed = 0;
        for ((t, p), r) in results {
            match r {
                Ok(low) => println!("partition: {t}-{p}\tlow_watermark: {low}"),
                Err(e) => {
                    failed += 1;
                    println!("partition: {t}-{p}\terror: {e}");
                }
            }
        }
        if failed > 0 {
            bail!("{failed} partition(s) failed");
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::parse;
    use std::path::Path;

    #[test]
    fn errors_name_line_and_column() {
        let p = Path::new("delete-topic.json");
        // As printed in a tutorial: opening brace lost, "partitions" misspelt.
        let err = parse(
            p,
            "\"partitons\":[{\"topic\":\"test\", \"partition\":0,\"offset\":50}],\"version\":1}",
        )
        .expect_err("invalid");
        assert!(err.to_string().contains("at line 1 column 11"), "{err}");
        let err = parse(p, "{\n \"partitons\": []}").expect_err("misspelt field");
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(err.to_string().contains("partitons"), "{err}");
        let ok = parse(
            p,
            r#"{"partitions":[{"topic":"test","partition":0,"offset":50}],"version":1}"#,
        )
        .expect("valid");
        assert_eq!(ok, vec![(("test".to_string(), 0), 50)]);
        let err = parse(p, r#"{"partitions":[{"topic":"t","partition":0,"offset":1},{"topic":"t","partition":0,"offset":2}]}"#)
            .expect_err("duplicate");
        assert_eq!(
            err.to_string(),
            "Offset json file contains duplicate topic partitions: t-0"
        );
    }
}
