//! Kafka's `__consumer_offsets` record formats: OffsetCommitKey (v1) /
//! OffsetCommitValue (v3) and GroupMetadataKey (v2) / GroupMetadataValue (v3).

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// A committed offset as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetValue {
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: String,
    pub commit_timestamp: i64,
}

/// A member as stored in group metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMember {
    pub member_id: String,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub rebalance_timeout_ms: i32,
    pub session_timeout_ms: i32,
    pub subscription: Bytes,
    pub assignment: Bytes,
}

/// Group metadata as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupValue {
    pub protocol_type: String,
    pub generation: i32,
    pub protocol: Option<String>,
    pub leader: Option<String>,
    pub state_timestamp: i64,
    pub members: Vec<StoredMember>,
}

/// A decoded record key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordKey {
    Offset {
        group: String,
        topic: String,
        partition: i32,
    },
    Group(String),
}

fn put_str(b: &mut BytesMut, s: &str) {
    b.put_i16(s.len() as i16);
    b.put_slice(s.as_bytes());
}
fn put_nullable(b: &mut BytesMut, s: Option<&str>) {
    match s {
        Some(s) => put_str(b, s),
        None => b.put_i16(-1),
    }
}
fn put_bytes(b: &mut BytesMut, v: &[u8]) {
    b.put_i32(v.len() as i32);
    b.put_slice(v);
}

/// Truncated or malformed stored record.
#[derive(Debug, thiserror::Error)]
#[error("malformed __consumer_offsets record: {0}")]
pub struct DecodeError(&'static str);

fn need(b: &Bytes, n: usize, what: &'static str) -> Result<(), DecodeError> {
    if b.remaining() < n {
        Err(DecodeError(what))
    } else {
        Ok(())
    }
}
fn get_str(b: &mut Bytes) -> Result<Option<String>, DecodeError> {
    need(b, 2, "string length")?;
    let len = b.get_i16();
    if len < 0 {
        return Ok(None);
    }
    need(b, len as usize, "string")?;
    let s = b.split_to(len as usize);
    Ok(Some(String::from_utf8_lossy(&s).into_owned()))
}
fn get_bytes(b: &mut Bytes) -> Result<Bytes, DecodeError> {
    need(b, 4, "bytes length")?;
    let len = b.get_i32();
    if len < 0 {
        return Ok(Bytes::new());
    }
    need(b, len as usize, "bytes")?;
    Ok(b.split_to(len as usize))
}

impl RecordKey {
    pub fn encode(&self) -> Bytes {
        let mut b = BytesMut::new();
        match self {
            RecordKey::Offset {
                group,
                topic,
                partition,
            } => {
                b.put_i16(1);
                put_str(&mut b, group);
                put_str(&mut b, topic);
                b.put_i32(*partition);
            }
            RecordKey::Group(group) => {
                b.put_i16(2);
                put_str(&mut b, group);
            }
        }
        b.freeze()
    }

    pub fn decode(mut b: Bytes) -> Result<Self, DecodeError> {
        need(&b, 2, "key version")?;
        match b.get_i16() {
            0 | 1 => {
                let group = get_str(&mut b)?.unwrap_or_default();
                let topic = get_str(&mut b)?.unwrap_or_default();
                need(&b, 4, "partition")?;
                Ok(RecordKey::Offset {
                    group,
                    topic,
                    partition: b.get_i32(),
                })
            }
            2 => Ok(RecordKey::Group(get_str(&mut b)?.unwrap_or_default())),
            _ => Err(DecodeError("unknown key version")),
        }
    }
}

impl OffsetValue {
    pub fn encode(&self) -> Bytes {
        let mut b = BytesMut::new();
        b.put_i16(3);
        b.put_i64(self.offset);
        b.put_i32(self.leader_epoch);
        put_str(&mut b, &self.metadata);
        b.put_i64(self.commit_timestamp);
        b.freeze()
    }

    pub fn decode(mut b: Bytes) -> Result<Self, DecodeError> {
        need(&b, 10, "offset value")?;
        let version = b.get_i16();
        let offset = b.get_i64();
        let leader_epoch = if version >= 3 {
            need(&b, 4, "leader epoch")?;
            b.get_i32()
        } else {
            -1
        };
        let metadata = get_str(&mut b)?.unwrap_or_default();
        need(&b, 8, "commit timestamp")?;
        Ok(Self {
            offset,
            leader_epoch,
            metadata,
            commit_timestamp: b.get_i64(),
        })
    }
}

impl GroupValue {
    pub fn encode(&self) -> Bytes {
        let mut b = BytesMut::new();
        b.put_i16(3);
        put_str(&mut b, &self.protocol_type);
        b.put_i32(self.generation);
        put_nullable(&mut b, self.protocol.as_deref());
        put_nullable(&mut b, self.leader.as_deref());
        b.put_i64(self.state_timestamp);
        b.put_i32(self.members.len() as i32);
        for m in &self.members {
            put_str(&mut b, &m.member_id);
            put_nullable(&mut b, m.instance_id.as_deref());
            put_str(&mut b, &m.client_id);
            put_str(&mut b, &m.client_host);
            b.put_i32(m.rebalance_timeout_ms);
            b.put_i32(m.session_timeout_ms);
            put_bytes(&mut b, &m.subscription);
            put_bytes(&mut b, &m.assignment);
        }
        b.freeze()
    }

    pub fn decode(mut b: Bytes) -> Result<Self, DecodeError> {
        need(&b, 2, "group value version")?;
        let version = b.get_i16();
        let protocol_type = get_str(&mut b)?.unwrap_or_default();
        need(&b, 4, "generation")?;
        let generation = b.get_i32();
        let protocol = get_str(&mut b)?;
        let leader = get_str(&mut b)?;
        let state_timestamp = if version >= 2 {
            need(&b, 8, "state timestamp")?;
            b.get_i64()
        } else {
            -1
        };
        need(&b, 4, "member count")?;
        let n = b.get_i32().max(0);
        let mut members = Vec::new();
        for _ in 0..n {
            let member_id = get_str(&mut b)?.unwrap_or_default();
            let instance_id = if version >= 3 { get_str(&mut b)? } else { None };
            let client_id = get_str(&mut b)?.unwrap_or_default();
            let client_host = get_str(&mut b)?.unwrap_or_default();
            let rebalance_timeout_ms = if version >= 1 {
                need(&b, 4, "rebalance timeout")?;
                b.get_i32()
            } else {
                0
            };
            need(&b, 4, "session timeout")?;
            let session_timeout_ms = b.get_i32();
            let subscription = get_bytes(&mut b)?;
            let assignment = get_bytes(&mut b)?;
            members.push(StoredMember {
                member_id,
                instance_id,
                client_id,
                client_host,
                rebalance_timeout_ms: if version >= 1 {
                    rebalance_timeout_ms
                } else {
                    session_timeout_ms
                },
                session_timeout_ms,
                subscription,
                assignment,
            });
        }
        Ok(Self {
            protocol_type,
            generation,
            protocol,
            leader,
            state_timestamp,
            members,
        })
    }
}

/// Kafka's `Utils.abs(groupId.hashCode()) % partitions`.
pub fn partition_for(group: &str, partitions: i32) -> i32 {
    let mut h: i32 = 0;
    for unit in group.encode_utf16() {
        h = h.wrapping_mul(31).wrapping_add(unit as i32);
    }
    let abs = if h == i32::MIN { 0 } else { h.abs() };
    abs % partitions.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let k = RecordKey::Offset {
            group: "g".into(),
            topic: "t".into(),
            partition: 3,
        };
        assert_eq!(RecordKey::decode(k.encode()).expect("decodes"), k);
        let v = OffsetValue {
            offset: 42,
            leader_epoch: -1,
            metadata: "m".into(),
            commit_timestamp: 7,
        };
        assert_eq!(OffsetValue::decode(v.encode()).expect("decodes"), v);
        let g = GroupValue {
            protocol_type: "consumer".into(),
            generation: 2,
            protocol: Some("range".into()),
            leader: Some("a".into()),
            state_timestamp: 1,
            members: vec![StoredMember {
                member_id: "a".into(),
                instance_id: None,
                client_id: "c".into(),
                client_host: "/127.0.0.1".into(),
                rebalance_timeout_ms: 300_000,
                session_timeout_ms: 45_000,
                subscription: Bytes::from_static(b"sub"),
                assignment: Bytes::from_static(b"asg"),
            }],
        };
        assert_eq!(GroupValue::decode(g.encode()).expect("decodes"), g);
        assert!(OffsetValue::decode(Bytes::from_static(&[0, 3, 1])).is_err());
    }

    #[test]
    fn java_hash_partitioning() {
        // "hello".hashCode() == 99162322 in Java.
        assert_eq!(partition_for("hello", 50), 99_162_322 % 50);
        assert_eq!(partition_for("anything", 1), 0);
    }
}
