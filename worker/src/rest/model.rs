//! The JSON entities of Kafka Connect's REST API. Field names and order are
//! Kafka Connect's; these types are both what the handlers serialise and
//! what the OpenAPI document describes.

use std::collections::BTreeMap;

use connect_api::config::{ConfigKey, DefaultValue};
use connect_api::{ConnectorKind, Props};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::runtime::{ConnectorView, State, Status};

/// Every error: `error_code` equals the HTTP status.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorMessage {
    pub error_code: u16,
    pub message: String,
}

/// `GET /`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServerInfo {
    pub version: &'static str,
    pub commit: &'static str,
    pub kafka_cluster_id: String,
}

/// `GET /health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerStatus {
    /// `healthy`, `starting` or `unhealthy`.
    pub status: &'static str,
    pub message: String,
}

/// `source` or `sink`.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConnectorType {
    Source,
    Sink,
}

impl From<ConnectorKind> for ConnectorType {
    fn from(k: ConnectorKind) -> Self {
        match k {
            ConnectorKind::Source => ConnectorType::Source,
            ConnectorKind::Sink => ConnectorType::Sink,
        }
    }
}

/// A task's identity.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorTaskId {
    pub connector: String,
    pub task: usize,
}

/// A connector's name, raw config (placeholders unresolved) and tasks.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorInfo {
    pub name: String,
    #[schema(value_type = HashMap<String, String>)]
    pub config: Props,
    pub tasks: Vec<ConnectorTaskId>,
    #[serde(rename = "type")]
    pub kind: ConnectorType,
}

impl From<&ConnectorView> for ConnectorInfo {
    fn from(v: &ConnectorView) -> Self {
        ConnectorInfo {
            name: v.name.clone(),
            config: crate::runtime::secrets::redact(&v.config),
            tasks: v
                .tasks
                .iter()
                .map(|(i, ..)| ConnectorTaskId {
                    connector: v.name.clone(),
                    task: *i,
                })
                .collect(),
            kind: v.kind.into(),
        }
    }
}

/// A task's state; `trace` only when it failed.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskState {
    pub id: usize,
    pub state: State,
    pub worker_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

impl TaskState {
    pub fn new(id: usize, s: &Status) -> Self {
        TaskState {
            id,
            state: s.state,
            worker_id: s.worker_id.clone(),
            trace: s.trace.clone().filter(|t| !t.is_empty()),
        }
    }
}

/// `GET /connectors/{name}/status`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorStateInfo {
    pub name: String,
    pub connector: Status,
    pub tasks: Vec<TaskState>,
    #[serde(rename = "type")]
    pub kind: ConnectorType,
}

impl From<&ConnectorView> for ConnectorStateInfo {
    fn from(v: &ConnectorView) -> Self {
        let mut connector = v.status.clone();
        connector.trace = connector.trace.filter(|t| !t.is_empty());
        ConnectorStateInfo {
            name: v.name.clone(),
            connector,
            tasks: v
                .tasks
                .iter()
                .map(|(i, s, _)| TaskState::new(*i, s))
                .collect(),
            kind: v.kind.into(),
        }
    }
}

/// `GET /connectors`: names, or with `expand` a map of name to expansion.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ConnectorList {
    Names(Vec<String>),
    Expanded(BTreeMap<String, ConnectorExpansion>),
}

/// One entry of `GET /connectors?expand=...`.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ConnectorExpansion {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ConnectorStateInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<ConnectorInfo>,
}

/// A task's id and its (placeholder-preserving) config.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskInfo {
    pub id: ConnectorTaskId,
    #[schema(value_type = HashMap<String, String>)]
    pub config: Props,
}

/// `RUNNING`, `PAUSED` or `STOPPED` (any case).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum InitialState {
    Running,
    Paused,
    Stopped,
}

/// `POST /connectors`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "name": "local-file-sink",
    "config": {
        "connector.class": "FileStreamSink",
        "tasks.max": "1",
        "file": "test.sink.txt",
        "topics": "connect-test"
    }
}))]
pub struct CreateConnectorRequest {
    #[schema(min_length = 1)]
    pub name: String,
    /// Flat string-to-string config; other JSON values are taken as their JSON text.
    #[schema(value_type = HashMap<String, String>)]
    pub config: Props,
    #[schema(nullable = false)]
    pub initial_state: Option<InitialState>,
}

/// One source partition (or sink topic-partition) and its offset.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorOffset {
    #[schema(value_type = Object)]
    pub partition: Map<String, Value>,
    /// `null` in a PATCH removes the partition's offset.
    #[schema(value_type = Option<Object>)]
    pub offset: Option<Map<String, Value>>,
}

/// `GET /connectors/{name}/offsets` and the body of PATCH.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorOffsets {
    pub offsets: Vec<ConnectorOffset>,
}

/// The body of `PATCH /connectors/{name}/offsets`: at least one partition.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlterOffsetsRequest {
    #[schema(min_items = 1)]
    pub offsets: Vec<ConnectorOffset>,
}

/// A confirmation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    pub message: String,
}

/// The topics a connector has used (KIP-558).
#[derive(Debug, Serialize, ToSchema)]
pub struct ActiveTopics {
    pub topics: Vec<String>,
}

/// An installed plugin; `version` for connectors, transformations and predicates.
#[derive(Debug, Serialize, ToSchema)]
pub struct PluginInfo {
    pub class: &'static str,
    /// `source`, `sink`, `transformation`, `predicate`, `converter` or `header_converter`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'static str>,
}

/// The definition of one config key.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfigKeyInfo {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub required: bool,
    pub default_value: Option<&'static str>,
    pub importance: &'static str,
    pub documentation: &'static str,
    pub group: Option<String>,
    pub order: i32,
    pub width: &'static str,
    pub display_name: &'static str,
    pub dependents: Vec<String>,
}

impl From<&ConfigKey> for ConfigKeyInfo {
    fn from(k: &ConfigKey) -> Self {
        ConfigKeyInfo {
            name: k.name.to_string(),
            kind: k.kind.name(),
            required: k.default == DefaultValue::Required,
            default_value: match k.default {
                DefaultValue::Value(v) => Some(v),
                DefaultValue::Required | DefaultValue::Null => None,
            },
            importance: k.importance.name(),
            documentation: k.doc,
            group: k.group.map(str::to_string),
            order: k.order_in_group,
            width: "NONE",
            display_name: k.display_name,
            dependents: Vec::new(),
        }
    }
}

/// The value given for one key and what is wrong with it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfigValueInfo {
    pub name: String,
    pub value: Option<String>,
    pub recommended_values: Vec<String>,
    pub errors: Vec<String>,
    pub visible: bool,
}

/// A key's definition and value.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfigInfo {
    pub definition: ConfigKeyInfo,
    pub value: ConfigValueInfo,
}

/// `PUT /connector-plugins/{plugin}/config/validate`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfigInfos {
    pub name: &'static str,
    pub error_count: usize,
    pub groups: Vec<String>,
    pub configs: Vec<ConfigInfo>,
}

/// A logger's level; `last_modified` (ms) is null until the API changes it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoggerLevel {
    pub level: String,
    pub last_modified: Option<u64>,
}

/// `PUT /admin/loggers/{name}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LevelRequest {
    /// TRACE, DEBUG, INFO, WARN, ERROR, FATAL or OFF.
    pub level: String,
}
