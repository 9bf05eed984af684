//! Routing on top of [`Connection`]: cluster metadata, the broker that leads a
//! partition, and the coordinator of a group.

use std::collections::HashMap;
use std::time::Duration;

use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{
    FindCoordinatorRequest, GroupId, MetadataRequest, MetadataResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use super::{connect_any, ClientError, Connection};

/// Connections to the brokers of one cluster, opened as they are needed.
pub struct Cluster {
    client_id: String,
    wait: Duration,
    bootstrap: String,
    conns: HashMap<String, Connection>,
    brokers: HashMap<i32, String>,
    controller: i32,
}

/// A Kafka error code answered by a broker, with the broker's message when it gave one.
#[derive(Debug, thiserror::Error)]
#[error("{}", describe(*.code, .message.as_deref()))]
pub struct BrokerError {
    pub code: i16,
    pub message: Option<String>,
}

/// `NAME: message` (or just the error's name) for a Kafka error code.
pub fn describe(code: i16, message: Option<&str>) -> String {
    let name = match kafka_protocol::error::ResponseError::try_from_code(code) {
        None => "NONE".to_string(),
        Some(kafka_protocol::error::ResponseError::Unknown(c)) => format!("error code {c}"),
        Some(e) => e.to_string(),
    };
    match message {
        Some(m) if !m.is_empty() => m.to_string(),
        _ => name,
    }
}

/// `Err(BrokerError)` when `code` is not 0.
pub fn check(code: i16, message: Option<&StrBytes>) -> Result<(), BrokerError> {
    if code == 0 {
        Ok(())
    } else {
        Err(BrokerError {
            code,
            message: message.map(|m| m.to_string()),
        })
    }
}

impl Cluster {
    /// Connects to the first reachable bootstrap server within `wait`.
    pub async fn connect(
        servers: &[String],
        client_id: &str,
        wait: Duration,
    ) -> Result<Self, ClientError> {
        let conn = connect_any(servers, client_id, wait).await?;
        let bootstrap = conn.addr().to_string();
        let mut conns = HashMap::new();
        conns.insert(bootstrap.clone(), conn);
        Ok(Self {
            client_id: client_id.to_string(),
            wait,
            bootstrap,
            conns,
            brokers: HashMap::new(),
            controller: -1,
        })
    }

    /// The connection to the bootstrap server.
    pub fn any(&mut self) -> Result<&mut Connection, ClientError> {
        let addr = self.bootstrap.clone();
        self.conns.get_mut(&addr).ok_or(ClientError::Connect {
            addr,
            reason: "connection closed".into(),
        })
    }

    /// `host:port` of every broker in the last metadata answer, by node id.
    pub fn brokers(&self) -> &HashMap<i32, String> {
        &self.brokers
    }

    /// The controller's node id from the last metadata answer (-1 when unknown).
    pub fn controller(&self) -> i32 {
        self.controller
    }

    /// Metadata for `topics` (all topics when `None`), never creating any.
    pub async fn metadata(
        &mut self,
        topics: Option<&[String]>,
    ) -> Result<MetadataResponse, ClientError> {
        let request = MetadataRequest::default()
            .with_topics(topics.map(|ts| {
                ts.iter()
                    .map(|t| {
                        MetadataRequestTopic::default()
                            .with_name(Some(TopicName(StrBytes::from_string(t.clone()))))
                    })
                    .collect()
            }))
            .with_allow_auto_topic_creation(false);
        let response = self.any()?.send(&request, 12).await?;
        self.brokers = response
            .brokers
            .iter()
            .map(|b| (b.node_id.0, host_port(&b.host, b.port)))
            .collect();
        self.controller = response.controller_id.0;
        Ok(response)
    }

    /// The connection to the controller (any broker when none is known),
    /// where topics are created and deleted.
    pub async fn controller_conn(&mut self) -> Result<&mut Connection, ClientError> {
        self.metadata(Some(&[])).await?;
        let id = self.controller;
        if id >= 0 && self.brokers.contains_key(&id) {
            self.node(id).await
        } else {
            self.any()
        }
    }

    /// The connection to broker `node` (metadata must have been fetched).
    pub async fn node(&mut self, node: i32) -> Result<&mut Connection, ClientError> {
        let addr = self
            .brokers
            .get(&node)
            .cloned()
            .ok_or_else(|| ClientError::Connect {
                addr: format!("node {node}"),
                reason: "not in the cluster metadata".into(),
            })?;
        self.at(&addr).await
    }

    async fn at(&mut self, addr: &str) -> Result<&mut Connection, ClientError> {
        if !self.conns.contains_key(addr) {
            let conn = connect_any(&[addr.to_string()], &self.client_id, self.wait).await?;
            self.conns.insert(addr.to_string(), conn);
        }
        self.conns.get_mut(addr).ok_or(ClientError::Connect {
            addr: addr.to_string(),
            reason: "connection closed".into(),
        })
    }

    /// The coordinator of `group`: its node id, address and connection.
    pub async fn coordinator(
        &mut self,
        group: &str,
    ) -> anyhow::Result<(i32, String, &mut Connection)> {
        let request = FindCoordinatorRequest::default()
            .with_key(StrBytes::from_string(group.to_string()))
            .with_key_type(0);
        let mut attempts = 0;
        let response = loop {
            let r = self.any()?.send(&request, 3).await?;
            // COORDINATOR_NOT_AVAILABLE while the offsets topic is being loaded.
            if r.error_code == 15 && attempts < 20 {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(250)).await;
                continue;
            }
            break r;
        };
        check(response.error_code, response.error_message.as_ref())?;
        let addr = host_port(&response.host, response.port);
        let id = response.node_id.0;
        Ok((id, addr.clone(), self.at(&addr).await?))
    }
}

/// `host:port`, with IPv6 hosts in brackets.
fn host_port(host: &str, port: i32) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A group id for requests.
pub fn group_id(g: &str) -> GroupId {
    GroupId(StrBytes::from_string(g.to_string()))
}

/// A topic name for requests.
pub fn topic_name(t: &str) -> TopicName {
    TopicName(StrBytes::from_string(t.to_string()))
}

/// Creates a topic unless it exists (`partitions` and `replication_factor`
/// of -1 take the broker's defaults); true when this call created it.
pub async fn create_topic(
    bootstrap: &str,
    name: &str,
    partitions: i32,
    replication_factor: i16,
    configs: &[(String, String)],
) -> anyhow::Result<bool> {
    use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
    use kafka_protocol::messages::CreateTopicsRequest;
    let servers = super::split_servers(bootstrap);
    let mut cluster =
        Cluster::connect(&servers, "weir-worker-admin", Duration::from_secs(10)).await?;
    let topic = CreatableTopic::default()
        .with_name(topic_name(name))
        .with_num_partitions(partitions)
        .with_replication_factor(replication_factor)
        .with_configs(
            configs
                .iter()
                .map(|(k, v)| {
                    CreatableTopicConfig::default()
                        .with_name(StrBytes::from_string(k.clone()))
                        .with_value(Some(StrBytes::from_string(v.clone())))
                })
                .collect(),
        );
    let request = CreateTopicsRequest::default()
        .with_topics(vec![topic])
        .with_timeout_ms(30_000);
    let conn = cluster.controller_conn().await?;
    let response = conn.send(&request, 5).await?;
    for t in &response.topics {
        // TOPIC_ALREADY_EXISTS: left as it is.
        if t.error_code == 36 {
            return Ok(false);
        }
        check(t.error_code, t.error_message.as_ref())?;
    }
    Ok(true)
}
