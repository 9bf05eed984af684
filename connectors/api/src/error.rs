//! `ConnectError`: every failure a connector reports is one of three kinds,
//! and the runtime reacts to the kind.

/// A connector or task failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConnectError {
    /// Transient (a database restarting, a network blip): the runtime retries
    /// with bounded backoff, redelivering the same batch to sinks.
    #[error("retriable: {0}")]
    Retriable(String),
    /// One record cannot be handled (bad encoding, schema mismatch): subject to
    /// `errors.tolerance` and the dead letter queue.
    #[error("data error: {0}")]
    Data(String),
    /// The task cannot continue (bad configuration, lost permissions): it goes
    /// to FAILED with this message in its trace.
    #[error("{0}")]
    Fatal(String),
}

impl ConnectError {
    pub fn retriable(msg: impl Into<String>) -> Self {
        Self::Retriable(msg.into())
    }

    pub fn data(msg: impl Into<String>) -> Self {
        Self::Data(msg.into())
    }

    pub fn fatal(msg: impl Into<String>) -> Self {
        Self::Fatal(msg.into())
    }

    /// The message without the kind.
    pub fn message(&self) -> &str {
        match self {
            Self::Retriable(m) | Self::Data(m) | Self::Fatal(m) => m,
        }
    }

    /// The Kafka Connect exception class a Java runtime would name for this
    /// kind (dead letter queue headers carry it).
    pub fn java_class(&self) -> &'static str {
        match self {
            Self::Retriable(_) => "org.apache.kafka.connect.errors.RetriableException",
            Self::Data(_) => "org.apache.kafka.connect.errors.DataException",
            Self::Fatal(_) => "org.apache.kafka.connect.errors.ConnectException",
        }
    }

    /// True for errors the runtime retries.
    pub fn is_retriable(&self) -> bool {
        matches!(self, Self::Retriable(_))
    }
}

impl From<std::io::Error> for ConnectError {
    /// I/O errors are retriable unless they say the thing is missing or forbidden.
    fn from(e: std::io::Error) -> Self {
        use std::io::ErrorKind::*;
        match e.kind() {
            NotFound | PermissionDenied | InvalidInput | InvalidData | Unsupported => {
                Self::Fatal(e.to_string())
            }
            _ => Self::Retriable(e.to_string()),
        }
    }
}

/// Result of connector and task calls.
pub type ConnectResult<T> = Result<T, ConnectError>;
