//! Partitions for source records with neither key nor partition, chosen
//! as the Java producer's sticky partitioner does: records go to one
//! partition of their topic until about a batch (16 KiB, the Java
//! producer's default `batch.size`) went there, then to the next one, and
//! each polled batch starts on a fresh partition. Choosing here rather than
//! in librdkafka spares its partitioner a clock read and a random draw per
//! record.

use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a topic's partition count is trusted (new partitions are used after this).
const REFRESH: Duration = Duration::from_secs(60);
/// Bytes sent to one partition before the next one takes over.
const SWITCH_BYTES: usize = 16 * 1024;
/// How soon a topic whose partitions are unknown is asked about again.
const RETRY: Duration = Duration::from_millis(100);

struct Entry {
    /// The partitions that have a leader; empty while unknown, and then the
    /// producer's partitioner decides.
    partitions: Vec<i32>,
    checked: Option<Instant>,
    next: usize,
    current: Option<i32>,
    /// Bytes sent to `current` so far.
    filled: usize,
}

#[derive(Default)]
pub(crate) struct Sticky {
    /// A task writes to few topics: a list compared by pointer first beats hashing each record's topic.
    topics: Vec<(Arc<str>, Entry)>,
}

impl Sticky {
    /// A new polled batch: each topic moves on to its next partition.
    pub fn next_batch(&mut self) {
        for (_, e) in &mut self.topics {
            e.current = None;
        }
    }

    /// The partition for a keyless record of `topic` of `size` bytes;
    /// `None` leaves it to the producer. `available` asks for the topic's
    /// partitions that have a leader.
    pub fn partition(
        &mut self,
        topic: &Arc<str>,
        size: usize,
        available: impl FnOnce(&str) -> Option<Vec<i32>>,
    ) -> Option<i32> {
        let i = match self
            .topics
            .iter()
            .position(|(t, _)| Arc::ptr_eq(t, topic) || **t == **topic)
        {
            Some(i) => i,
            None => {
                let fresh = Entry {
                    partitions: Vec::new(),
                    checked: None,
                    next: 0,
                    current: None,
                    filled: 0,
                };
                self.topics.push((topic.clone(), fresh));
                self.topics.len() - 1
            }
        };
        let e = &mut self.topics[i].1;
        if e.current.is_none() {
            let now = Instant::now();
            let stale = if e.partitions.is_empty() {
                RETRY
            } else {
                REFRESH
            };
            if e.checked.is_none_or(|c| now.duration_since(c) >= stale) {
                e.partitions = available(topic).unwrap_or_default();
                e.checked = Some(now);
                // Start somewhere else on each worker.
                e.next = std::process::id() as usize;
            }
            if !e.partitions.is_empty() {
                e.current = Some(e.partitions[e.next % e.partitions.len()]);
                e.next = e.next.wrapping_add(1);
                e.filled = 0;
            }
        }
        let p = e.current;
        e.filled += size;
        if e.filled >= SWITCH_BYTES {
            e.current = None;
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_sticks_to_one_partition_and_the_next_moves_on() {
        let mut s = Sticky::default();
        let t: Arc<str> = Arc::from("t");
        let mut asked = 0;
        let mut seen = Vec::new();
        for _ in 0..6 {
            s.next_batch();
            let first = s.partition(&t, 100, |_| {
                asked += 1;
                Some(vec![0, 1, 2])
            });
            for _ in 0..10 {
                assert_eq!(s.partition(&t, 100, |_| None), first);
            }
            seen.push(first.unwrap_or(-1));
        }
        assert_eq!(asked, 1, "the partition count is looked up once");
        for w in seen.windows(2) {
            assert_eq!(
                (w[0] + 1) % 3,
                w[1],
                "batches go round the partitions: {seen:?}"
            );
        }
    }

    #[test]
    fn an_unknown_topic_is_left_to_the_producer() {
        let mut s = Sticky::default();
        let t: Arc<str> = Arc::from("new");
        s.next_batch();
        assert_eq!(s.partition(&t, 100, |_| None), None);
        s.next_batch();
        // Asked again only after a while.
        assert_eq!(s.partition(&t, 100, |_| Some(vec![0, 1, 2, 3])), None);
    }

    #[test]
    fn a_partition_takes_about_a_batch_before_the_next() {
        let mut s = Sticky::default();
        let t: Arc<str> = Arc::from("t");
        s.next_batch();
        let parts: Vec<i32> = (0..400)
            .filter_map(|_| s.partition(&t, 100, |_| Some(vec![0, 1, 2])))
            .collect();
        // 164 records of 100 bytes fill 16 KiB.
        let first = parts[0];
        assert!(parts[..164].iter().all(|p| *p == first), "{parts:?}");
        assert_ne!(parts[164], first);
        assert!(parts[164..328].iter().all(|p| *p == parts[164]));
    }

    #[test]
    fn partitions_without_a_leader_are_skipped() {
        let mut s = Sticky::default();
        let t: Arc<str> = Arc::from("t");
        for _ in 0..8 {
            s.next_batch();
            let p = s.partition(&t, 100, |_| Some(vec![0, 2]));
            assert!(matches!(p, Some(0 | 2)), "{p:?}");
        }
    }

    #[test]
    fn topics_are_tracked_apart() {
        let mut s = Sticky::default();
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("a"), Arc::from("b"));
        s.next_batch();
        assert_eq!(s.partition(&a, 100, |_| Some(vec![0])), Some(0));
        let pb = s.partition(&b, 100, |_| Some(vec![0, 1]));
        assert!(matches!(pb, Some(0 | 1)));
        assert_eq!(s.partition(&a, 100, |_| None), Some(0));
        assert_eq!(s.partition(&b, 100, |_| None), pb);
    }
}
