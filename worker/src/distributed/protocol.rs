//! Kafka Connect's group protocol payloads: the member metadata a worker
//! sends with JoinGroup and the assignment the leader hands out through
//! SyncGroup, in Kafka's primitive encoding (big-endian integers, strings
//! with an int16 length, arrays and nullable bytes with an int32 count).
//!
//! Versions: 0 is `default` (eager), 1 `compatible` and 2 `sessioned`
//! (incremental cooperative; 2 adds request signing, not fields).

use std::collections::{BTreeMap, BTreeSet};

/// The group's protocol type.
pub const PROTOCOL_TYPE: &str = "connect";
/// The sentinel task number that stands for the connector instance itself.
pub const CONNECTOR_TASK: i32 = -1;
/// Assignment error codes.
pub const NO_ERROR: i16 = 0;
pub const CONFIG_MISMATCH: i16 = 1;

/// A sub-protocol with its name in JoinGroup and its version in payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    Eager,
    Compatible,
    Sessioned,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Eager => "default",
            Protocol::Compatible => "compatible",
            Protocol::Sessioned => "sessioned",
        }
    }

    /// The `connect.protocol` value that selects it.
    pub fn setting(self) -> &'static str {
        match self {
            Protocol::Eager => "eager",
            p => p.name(),
        }
    }

    pub fn version(self) -> i16 {
        match self {
            Protocol::Eager => 0,
            Protocol::Compatible => 1,
            Protocol::Sessioned => 2,
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [Protocol::Eager, Protocol::Compatible, Protocol::Sessioned]
            .into_iter()
            .find(|p| p.name() == name)
    }

    /// What a worker offers for `connect.protocol`, most preferred first.
    pub fn offered(configured: Protocol) -> Vec<Protocol> {
        match configured {
            Protocol::Sessioned => vec![Protocol::Sessioned, Protocol::Compatible, Protocol::Eager],
            Protocol::Compatible => vec![Protocol::Compatible, Protocol::Eager],
            Protocol::Eager => vec![Protocol::Eager],
        }
    }
}

/// A task's identity on the wire.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskRef {
    pub connector: String,
    pub task: i32,
}

impl TaskRef {
    pub fn new(connector: &str, task: i32) -> Self {
        TaskRef {
            connector: connector.to_string(),
            task,
        }
    }
}

/// Connectors and tasks, as a worker runs them or an assignment moves them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Work {
    pub connectors: BTreeSet<String>,
    pub tasks: BTreeSet<TaskRef>,
}

impl Work {
    pub fn is_empty(&self) -> bool {
        self.connectors.is_empty() && self.tasks.is_empty()
    }

    pub fn len(&self) -> usize {
        self.connectors.len() + self.tasks.len()
    }

    /// Applies an incremental assignment: `revoked` stops, `assigned` starts.
    pub fn apply(&mut self, assigned: &Work, revoked: &Work) {
        for c in &revoked.connectors {
            self.connectors.remove(c);
        }
        for t in &revoked.tasks {
            self.tasks.remove(t);
        }
        self.connectors.extend(assigned.connectors.iter().cloned());
        self.tasks.extend(assigned.tasks.iter().cloned());
    }

    /// Grouped by connector, the connector itself as task -1 first.
    fn grouped(&self) -> BTreeMap<&str, Vec<i32>> {
        let mut m: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
        for c in &self.connectors {
            m.entry(c).or_default().push(CONNECTOR_TASK);
        }
        for t in &self.tasks {
            m.entry(&t.connector).or_default().push(t.task);
        }
        m
    }
}

/// A member's JoinGroup metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerState {
    /// The worker's advertised REST URL.
    pub url: String,
    /// How far the worker has read the config topic.
    pub config_offset: i64,
    /// What the worker runs now (versions 1 and 2; `None` when it runs nothing).
    pub assignment: Option<Assignment>,
}

/// The leader's SyncGroup answer for one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub version: i16,
    pub error: i16,
    pub leader: String,
    pub leader_url: String,
    pub config_offset: i64,
    /// Work to start (with the incremental protocols: in addition to what runs).
    pub assigned: Work,
    /// Work to stop (versions 1 and 2).
    pub revoked: Work,
    /// Milliseconds until the member should rejoin (versions 1 and 2).
    pub delay: i32,
}

/// Why bytes could not be read, with the byte offset where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed Connect protocol {what} at byte {at}: {why}")]
pub struct DecodeError {
    pub what: &'static str,
    pub at: usize,
    pub why: String,
}

struct Writer(Vec<u8>);

impl Writer {
    fn i16(&mut self, v: i16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn string(&mut self, s: &str) {
        let len = i16::try_from(s.len()).unwrap_or(i16::MAX);
        self.i16(len);
        self.0.extend_from_slice(&s.as_bytes()[..len as usize]);
    }
    fn work(&mut self, w: &Work) {
        let grouped = w.grouped();
        self.i32(grouped.len() as i32);
        for (connector, tasks) in grouped {
            self.string(connector);
            self.i32(tasks.len() as i32);
            for t in tasks {
                self.i32(t);
            }
        }
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn fail(&self, why: impl Into<String>) -> DecodeError {
        DecodeError {
            what: self.what,
            at: self.at,
            why: why.into(),
        }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| self.fail(format!("needs {n} more byte(s)")))?;
        let s = &self.buf[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn i16(&mut self) -> Result<i16, DecodeError> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }
    fn i32(&mut self) -> Result<i32, DecodeError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn i64(&mut self) -> Result<i64, DecodeError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }
    fn string(&mut self) -> Result<String, DecodeError> {
        let len = self.i16()?;
        let len = usize::try_from(len).map_err(|_| self.fail("a null string"))?;
        let b = self.take(len)?;
        String::from_utf8(b.to_vec()).map_err(|_| self.fail("a string that is not UTF-8"))
    }
    /// An array count; -1 (null) reads as empty.
    fn count(&mut self) -> Result<usize, DecodeError> {
        let start = self.at;
        let n = self.i32()?;
        let bad = |why: String| DecodeError {
            what: self.what,
            at: start,
            why,
        };
        if n < -1 {
            return Err(bad(format!("array count {n}")));
        }
        let n = usize::try_from(n.max(0)).unwrap_or(0);
        // Each element takes at least 4 bytes: a count past the end is a lie.
        if n > (self.buf.len() - self.at) / 4 + 1 {
            return Err(bad(format!("array count {n} beyond the data")));
        }
        Ok(n)
    }
    fn work(&mut self) -> Result<Work, DecodeError> {
        let mut w = Work::default();
        for _ in 0..self.count()? {
            let connector = self.string()?;
            for _ in 0..self.count()? {
                match self.i32()? {
                    CONNECTOR_TASK => {
                        w.connectors.insert(connector.clone());
                    }
                    t if t >= 0 => {
                        w.tasks.insert(TaskRef::new(&connector, t));
                    }
                    t => return Err(self.fail(format!("task number {t}"))),
                }
            }
        }
        Ok(w)
    }
    fn done(&self) -> bool {
        self.at >= self.buf.len()
    }
}

impl WorkerState {
    /// Metadata for `protocol` (version 0 carries no assignment).
    pub fn encode(&self, protocol: Protocol) -> Vec<u8> {
        let mut w = Writer(Vec::with_capacity(64));
        w.i16(protocol.version());
        w.string(&self.url);
        w.i64(self.config_offset);
        if protocol != Protocol::Eager {
            match self.assignment.as_ref().filter(|a| !a.is_empty()) {
                Some(a) => {
                    let bytes = a.encode();
                    w.i32(bytes.len() as i32);
                    w.0.extend_from_slice(&bytes);
                }
                None => w.i32(-1),
            }
        }
        w.0
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader {
            buf: bytes,
            at: 0,
            what: "metadata",
        };
        let version = r.i16()?;
        if version < 0 {
            return Err(r.fail(format!("version {version}")));
        }
        let url = r.string()?;
        let config_offset = r.i64()?;
        let mut assignment = None;
        if version >= 1 && !r.done() {
            let len = r.i32()?;
            if len >= 0 {
                let at = r.at;
                let b = r.take(len as usize)?;
                assignment = Some(Assignment::decode(b).map_err(|mut e| {
                    e.at += at;
                    e
                })?);
            }
        }
        Ok(WorkerState {
            url,
            config_offset,
            assignment,
        })
    }
}

impl Assignment {
    fn is_empty(&self) -> bool {
        self.assigned.is_empty() && self.revoked.is_empty() && self.delay == 0
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(Vec::with_capacity(128));
        w.i16(self.version);
        w.i16(self.error);
        w.string(&self.leader);
        w.string(&self.leader_url);
        w.i64(self.config_offset);
        w.work(&self.assigned);
        if self.version >= 1 {
            w.work(&self.revoked);
            w.i32(self.delay);
        }
        w.0
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader {
            buf: bytes,
            at: 0,
            what: "assignment",
        };
        let version = r.i16()?;
        if version < 0 {
            return Err(r.fail(format!("version {version}")));
        }
        let error = r.i16()?;
        let leader = r.string()?;
        let leader_url = r.string()?;
        let config_offset = r.i64()?;
        let assigned = r.work()?;
        // Later fields may be missing; they default to empty and 0.
        let (mut revoked, mut delay) = (Work::default(), 0);
        if version >= 1 && !r.done() {
            revoked = r.work()?;
            if !r.done() {
                delay = r.i32()?;
            }
        }
        Ok(Assignment {
            version,
            error,
            leader,
            leader_url,
            config_offset,
            assigned,
            revoked,
            delay,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(connectors: &[&str], tasks: &[(&str, i32)]) -> Work {
        Work {
            connectors: connectors.iter().map(|c| c.to_string()).collect(),
            tasks: tasks.iter().map(|(c, t)| TaskRef::new(c, *t)).collect(),
        }
    }

    #[test]
    fn eager_metadata_is_version_url_offset() {
        let s = WorkerState {
            url: "http://a:8083/".into(),
            config_offset: 7,
            assignment: None,
        };
        let b = s.encode(Protocol::Eager);
        let mut want = vec![0, 0, 0, 14];
        want.extend_from_slice(b"http://a:8083/");
        want.extend_from_slice(&7i64.to_be_bytes());
        assert_eq!(b, want);
        assert_eq!(WorkerState::decode(&b).expect("decodes"), s);
    }

    #[test]
    fn assignment_groups_tasks_under_their_connector_with_the_sentinel() {
        let a = Assignment {
            version: 1,
            error: NO_ERROR,
            leader: "w1".into(),
            leader_url: "http://w1/".into(),
            config_offset: 3,
            assigned: work(&["c"], &[("c", 0), ("c", 1)]),
            revoked: work(&[], &[("d", 2)]),
            delay: 5000,
        };
        let b = a.encode();
        let mut want = vec![0, 1, 0, 0, 0, 2, b'w', b'1', 0, 10];
        want.extend_from_slice(b"http://w1/");
        want.extend_from_slice(&3i64.to_be_bytes());
        // assignment: 1 connector "c" with tasks [-1, 0, 1]
        want.extend_from_slice(&[0, 0, 0, 1, 0, 1, b'c', 0, 0, 0, 3]);
        want.extend_from_slice(&(-1i32).to_be_bytes());
        want.extend_from_slice(&0i32.to_be_bytes());
        want.extend_from_slice(&1i32.to_be_bytes());
        // revoked: "d" task 2
        want.extend_from_slice(&[0, 0, 0, 1, 0, 1, b'd', 0, 0, 0, 1, 0, 0, 0, 2]);
        want.extend_from_slice(&5000i32.to_be_bytes());
        assert_eq!(b, want);
        assert_eq!(Assignment::decode(&b).expect("decodes"), a);
    }

    #[test]
    fn incremental_metadata_embeds_the_current_assignment() {
        let current = Assignment {
            version: 2,
            error: NO_ERROR,
            leader: "w1".into(),
            leader_url: "http://w1/".into(),
            config_offset: 9,
            assigned: work(&["x"], &[("x", 0)]),
            revoked: Work::default(),
            delay: 0,
        };
        let s = WorkerState {
            url: "http://w2/".into(),
            config_offset: 9,
            assignment: Some(current),
        };
        let b = s.encode(Protocol::Sessioned);
        assert_eq!(&b[..2], &[0, 2]);
        assert_eq!(WorkerState::decode(&b).expect("decodes"), s);
        // Nothing running: the allocation is null (-1).
        let idle = WorkerState {
            assignment: None,
            ..s
        };
        let b = idle.encode(Protocol::Compatible);
        assert_eq!(&b[b.len() - 4..], &(-1i32).to_be_bytes());
        assert_eq!(WorkerState::decode(&b).expect("decodes"), idle);
    }

    #[test]
    fn missing_trailing_fields_default_and_garbage_names_the_byte() {
        let a = Assignment {
            version: 1,
            error: CONFIG_MISMATCH,
            leader: "l".into(),
            leader_url: "u".into(),
            config_offset: 1,
            assigned: Work::default(),
            revoked: Work::default(),
            delay: 0,
        };
        let b = a.encode();
        // Without revoked and delay (as Kafka tolerates).
        let short = &b[..b.len() - 8];
        assert_eq!(Assignment::decode(short).expect("decodes"), a);
        let err = Assignment::decode(&b[..5]).expect_err("truncated");
        assert_eq!(err.at, 4, "{err}");
        let mut lie = b.clone();
        lie[18..22].copy_from_slice(&i32::MAX.to_be_bytes());
        assert!(Assignment::decode(&lie)
            .expect_err("count")
            .to_string()
            .contains("byte 18"));
    }

    #[test]
    fn protocols_offered_by_preference() {
        let names: Vec<&str> = Protocol::offered(Protocol::Sessioned)
            .into_iter()
            .map(Protocol::name)
            .collect();
        assert_eq!(names, ["sessioned", "compatible", "default"]);
        assert_eq!(Protocol::from_name("default"), Some(Protocol::Eager));
    }
}
