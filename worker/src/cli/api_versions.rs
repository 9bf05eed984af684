//! `weir broker-api-versions`: kafka-broker-api-versions.sh, the API versions
//! each broker of the cluster advertises and the version this client would use.

use clap::Args;
use kafka_protocol::messages::ApiKey;

use super::common::{block_on, connect_wait, Target};
use crate::kafka::admin::Cluster;

#[derive(Debug, Args)]
pub struct ApiVersionsArgs {
    #[command(flatten)]
    pub target: Target,
    /// Client properties file (security settings of the admin connection).
    #[arg(long = "command-config")]
    pub command_config: Option<std::path::PathBuf>,
}

/// One line of the listing, e.g. `Produce(0): 3 to 11 [usable: 11]`.
pub fn api_line(key: i16, min: i16, max: i16) -> String {
    let known = ApiKey::try_from(key).ok();
    let name = known.map_or_else(|| "Unknown".to_string(), |k| format!("{k:?}"));
    let range = if min == max {
        min.to_string()
    } else {
        format!("{min} to {max}")
    };
    let usable = match known.map(|k| k.valid_versions()) {
        Some(ours) if ours.max >= min && ours.min <= max => {
            format!("[usable: {}]", ours.max.min(max))
        }
        Some(_) => "[unusable: node too old]".to_string(),
        None => "[unusable: unknown to this client]".to_string(),
    };
    format!("{name}({key}): {range} {usable}")
}

pub fn run(args: ApiVersionsArgs) -> anyhow::Result<()> {
    block_on(async {
        args.target
            .check_admin_config(args.command_config.as_deref())?;
        let servers = args.target.server_list()?;
        let mut cluster = Cluster::connect(&servers, "weir-api-versions", connect_wait()).await?;
        cluster.metadata(Some(&[])).await?;
        let mut brokers: Vec<(i32, String)> = cluster
            .brokers()
            .iter()
            .map(|(i, a)| (*i, a.clone()))
            .collect();
        brokers.sort();
        for (id, addr) in brokers {
            let conn = cluster.node(id).await?;
            let mut keys: Vec<(i16, (i16, i16))> =
                conn.api_versions().iter().map(|(k, v)| (*k, *v)).collect();
            keys.sort();
            let lines: Vec<String> = keys
                .into_iter()
                .map(|(k, (lo, hi))| api_line(k, lo, hi))
                .collect();
            println!(
                "{addr} (id: {id} rack: null) -> (\n\t{}\n)",
                lines.join(",\n\t")
            );
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::api_line;

    #[test]
    fn lines_name_the_api_and_the_usable_version() {
        assert_eq!(api_line(18, 0, 4), "ApiVersions(18): 0 to 4 [usable: 4]");
        assert_eq!(api_line(3, 12, 12), "Metadata(3): 12 [usable: 12]");
        assert!(api_line(999, 0, 1).starts_with("Unknown(999): 0 to 1 [unusable"));
    }
}
