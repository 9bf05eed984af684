//! ApiVersions, with the KIP-511 fallback: a version newer than ours is
//! answered with a v0 body, UNSUPPORTED_VERSION and our table.

use bytes::Bytes;
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::protocol::{decode_request_header_from_buffer, Decodable};

use super::Reply;
use crate::error_code as ec;
use crate::protocol::{encode_with_header_version, SUPPORTED};

const MAX_VERSION: i16 = 4;

fn table() -> Vec<ApiVersion> {
    SUPPORTED
        .iter()
        .map(|(k, lo, hi)| {
            ApiVersion::default()
                .with_api_key(*k as i16)
                .with_min_version(*lo)
                .with_max_version(*hi)
        })
        .collect()
}

pub(super) fn dispatch(frame: &mut Bytes, version: i16) -> anyhow::Result<Reply> {
    let header = decode_request_header_from_buffer(frame)?;
    let cid = header.correlation_id;
    let (answer_version, error) = if !(0..=MAX_VERSION).contains(&version) {
        (0, ec::UNSUPPORTED_VERSION)
    } else if ApiVersionsRequest::decode(frame, version).is_err() {
        (version, ec::INVALID_REQUEST)
    } else {
        (version, ec::NONE)
    };
    let resp = ApiVersionsResponse::default()
        .with_error_code(error)
        .with_api_keys(table())
        .with_throttle_time_ms(0);
    // The ApiVersions response header is always v0.
    Ok(Reply::Now(encode_with_header_version(
        cid,
        0,
        answer_version,
        &resp,
    )?))
}
