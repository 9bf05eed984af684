//! Property tests of the request path: random and mutated frames for every
//! advertised API are answered or rejected, never panic, and leave the broker
//! able to serve the next request.

use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Encodable, StrBytes};
use proptest::prelude::*;

use super::{dispatch, Conn, Reply};
use crate::config::{BrokerConfig, Endpoint};
use crate::protocol::SUPPORTED;
use crate::server::open_state;
use crate::state::BrokerState;

pub(super) fn state(dir: &std::path::Path) -> Arc<BrokerState> {
    let cfg = BrokerConfig::ephemeral(dir);
    open_state(cfg, vec![Endpoint::plaintext("127.0.0.1", 9092)], false).expect("state")
}

/// A frame with a valid header for (key, version) followed by `body`.
pub(super) fn frame(key: i16, version: i16, body: &[u8]) -> Bytes {
    let api = ApiKey::try_from(key).expect("known key");
    let header = RequestHeader::default()
        .with_request_api_key(key)
        .with_request_api_version(version)
        .with_correlation_id(7)
        .with_client_id(Some(StrBytes::from_static_str("fuzz")));
    let mut b = BytesMut::new();
    header
        .encode(&mut b, api.request_header_version(version))
        .expect("header");
    b.put_slice(body);
    b.freeze()
}

async fn answer(st: &Arc<BrokerState>, f: Bytes) {
    let run = async {
        if let Ok(Reply::Later(fut)) = dispatch(st, &Conn::anonymous("/127.0.0.1"), f).await {
            let _ = fut.await;
        }
    };
    // Fetch and JoinGroup may legitimately wait; only panics matter here.
    let _ = tokio::time::timeout(Duration::from_millis(50), run).await;
}

pub(super) fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn random_bodies_never_panic(idx in 0..SUPPORTED.len(), v in 0i16..20, body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let st = state(dir.path());
        let (key, lo, hi) = SUPPORTED[idx];
        let version = lo + v % (hi - lo + 1);
        rt().block_on(answer(&st, frame(key as i16, version, &body)));
    }

    #[test]
    fn random_frames_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..200)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let st = state(dir.path());
        rt().block_on(answer(&st, Bytes::from(raw)));
    }
}

#[test]
fn mutated_valid_requests_never_panic_and_the_broker_still_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let st = state(dir.path());
    let seed: u64 = std::env::var("WEIR_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("mutation seed {seed} (set WEIR_FUZZ_SEED to replay)");
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);
    let mut bodies: Vec<(i16, i16, Vec<u8>)> = Vec::new();
    let mut push = |key: ApiKey, version: i16, enc: &dyn Fn(&mut BytesMut, i16)| {
        let mut b = BytesMut::new();
        enc(&mut b, version);
        bodies.push((key as i16, version, b.to_vec()));
    };
    let topic = TopicName(StrBytes::from_static_str("t"));
    for v in 4..=12 {
        let t = topic.clone();
        push(ApiKey::Metadata, v, &move |b, v| {
            MetadataRequest::default()
                .with_topics(Some(vec![metadata_request::MetadataRequestTopic::default(
                )
                .with_name(Some(t.clone()))]))
                .with_allow_auto_topic_creation(true)
                .encode(b, v)
                .expect("encode")
        });
    }
    for v in [4i16, 7, 11, 12] {
        let t = topic.clone();
        push(ApiKey::Fetch, v, &move |b, v| {
            FetchRequest::default()
                .with_max_wait_ms(0)
                .with_topics(vec![fetch_request::FetchTopic::default()
                    .with_topic(t.clone())
                    .with_partitions(vec![
                        fetch_request::FetchPartition::default().with_partition_max_bytes(1 << 20)
                    ])])
                .encode(b, v)
                .expect("encode")
        });
    }
    for v in [3i16, 7, 9] {
        let t = topic.clone();
        push(ApiKey::Produce, v, &move |b, v| {
            let batch = crate::log::batch::tests::make_batch(&[Some("k")], 20);
            ProduceRequest::default()
                .with_acks(1)
                .with_timeout_ms(1000)
                .with_topic_data(vec![produce_request::TopicProduceData::default()
                    .with_name(t.clone())
                    .with_partition_data(vec![
                        produce_request::PartitionProduceData::default()
                            .with_records(Some(Bytes::from(batch))),
                    ])])
                .encode(b, v)
                .expect("encode")
        });
    }
    for v in [0i16, 5, 9] {
        push(ApiKey::JoinGroup, v, &move |b, v| {
            JoinGroupRequest::default()
                .with_group_id(GroupId(StrBytes::from_static_str("g")))
                .with_session_timeout_ms(10_000)
                .with_rebalance_timeout_ms(10_000)
                .with_protocol_type(StrBytes::from_static_str("consumer"))
                .with_protocols(vec![join_group_request::JoinGroupRequestProtocol::default(
                )
                .with_name(StrBytes::from_static_str("range"))])
                .encode(b, v)
                .expect("encode")
        });
    }
    let rt = rt();
    for round in 0..3000 {
        let (key, version, body) = &bodies[round % bodies.len()];
        let mut body = body.clone();
        for _ in 0..rand::Rng::gen_range(&mut rng, 1..4) {
            if body.is_empty() {
                break;
            }
            let at = rand::Rng::gen_range(&mut rng, 0..body.len());
            match rand::Rng::gen_range(&mut rng, 0..3) {
                0 => body[at] = rand::Rng::gen(&mut rng),
                1 => body.truncate(at),
                _ => body.insert(at, rand::Rng::gen(&mut rng)),
            }
        }
        rt.block_on(answer(&st, frame(*key, *version, &body)));
    }
    // Still healthy: an ApiVersions request is answered.
    let mut b = BytesMut::new();
    ApiVersionsRequest::default()
        .encode(&mut b, 3)
        .expect("encode");
    let reply = rt.block_on(dispatch(
        &st,
        &Conn::anonymous("/127.0.0.1"),
        frame(ApiKey::ApiVersions as i16, 3, &b),
    ));
    assert!(matches!(reply, Ok(Reply::Now(_))));
}
