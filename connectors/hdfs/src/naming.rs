//! Names of committed and temporary files, and of the commit log, as
//! Confluent's HDFS sink lays them out.

/// A committed file's topic, Kafka partition and inclusive offset range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub topic: String,
    pub partition: i32,
    pub start: i64,
    pub end: i64,
    /// The extension, with its dot (empty when there is none).
    pub ext: String,
}

/// `<topic>+<partition>+<start>+<end><ext>`, offsets zero-padded to `pad`.
pub fn committed_name(
    topic: &str,
    partition: i32,
    start: i64,
    end: i64,
    pad: usize,
    ext: &str,
) -> String {
    format!("{topic}+{partition}+{start:0pad$}+{end:0pad$}{ext}")
}

/// What a sidecar of record metadata (keys, headers, timestamps) adds to
/// its data file's name.
pub const META_SUFFIX: &str = ".meta.json";

/// The parts of a committed file's name (Confluent's
/// `<topic>+<partition>+<start>+<end>[.ext]`); `None` for other files.
pub fn parse_committed(name: &str) -> Option<Committed> {
    let mut parts = name.splitn(4, '+');
    let topic = parts.next()?;
    let partition = parts.next()?;
    let start = parts.next()?;
    let rest = parts.next()?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (end, ext) = rest.split_at(digits);
    let topic_ok = !topic.is_empty()
        && topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    let ext_ok = ext.is_empty() || (ext.starts_with('.') && ext.len() > 1);
    if !topic_ok || !ext_ok || !start.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Committed {
        topic: topic.to_string(),
        partition: partition.parse().ok()?,
        start: start.parse().ok()?,
        end: end.parse().ok()?,
        ext: ext.to_string(),
    })
}

/// A temporary file's name: the Kafka partition it belongs to (so that a
/// task taking the partition over finds its orphans), a random part, and
/// Confluent's `_tmp` suffix before the extension.
pub fn temp_name(partition: i32, ext: &str) -> String {
    format!("{partition}_{}_tmp{ext}", uuid::Uuid::new_v4().simple())
}

/// The Kafka partition of a temporary file's name.
pub fn temp_partition(name: &str) -> Option<i32> {
    let (p, rest) = name.split_once('_')?;
    rest.contains("_tmp").then(|| p.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_names_round_trip() {
        let n = committed_name("page-views", 3, 0, 2, 10, ".avro");
        assert_eq!(n, "page-views+3+0000000000+0000000002.avro");
        assert_eq!(
            parse_committed(&n),
            Some(Committed {
                topic: "page-views".into(),
                partition: 3,
                start: 0,
                end: 2,
                ext: ".avro".into()
            })
        );
        let meta = parse_committed(&format!("{n}{META_SUFFIX}")).expect("a sidecar");
        assert_eq!((meta.end, meta.ext.as_str()), (2, ".avro.meta.json"));
        assert_eq!(parse_committed("t+0+5+9").map(|c| c.end), Some(9));
        assert_eq!(parse_committed("3_0a1b_tmp.avro"), None);
        assert_eq!(parse_committed("t+x+1+2.json"), None);
        assert_eq!(temp_partition(&temp_name(7, ".json")), Some(7));
        assert_eq!(temp_partition("t+0+1+2.json"), None);
    }
}
