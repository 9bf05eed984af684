//! Partitions for source records with neither key nor partition, chosen
//! once per polled batch: every record of a batch goes to the same
//! partition of its topic, and the next batch moves on to the next one, as
//! the Java producer's sticky partitioner spreads keyless records. Choosing
//! here rather than in librdkafka spares its partitioner a clock read and a
//! random draw per record.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a topic's partition count is trusted (new partitions are used after this).
const REFRESH: Duration = Duration::from_secs(60);
/// How soon a topic whose partitions are unknown is asked about again.
const RETRY: Duration = Duration::from_millis(100);

struct Entry {
    /// The partitions that have a leader; empty while unknown, and then the
    /// producer's partitioner decides.
    partitions: Vec<i32>,
    checked: Option<Instant>,
    next: usize,
    current: Option<i32>,
}

#[derive(Default)]
pub(crate) struct Sticky {
    topics: HashMap<Arc<str>, Entry>,
    /// The topic and partition of the last record, to skip the lookup.
    last: Option<(Arc<str>, Option<i32>)>,
}

impl Sticky {
    /// A new batch: each topic moves on to its next partition.
    pub fn next_batch(&mut self) {
        for e in self.topics.values_mut() {
            e.current = None;
        }
        self.last = None;
    }

    /// The partition for a keyless record of `topic`; `None` leaves it to
    /// the producer. `available` asks for the topic's partitions that have
    /// a leader.
    pub fn partition(
        &mut self,
        topic: &Arc<str>,
        available: impl FnOnce(&str) -> Option<Vec<i32>>,
    ) -> Option<i32> {
        if let Some((t, p)) = &self.last {
            if Arc::ptr_eq(t, topic) {
                return *p;
            }
        }
        let now = Instant::now();
        let e = self.topics.entry(topic.clone()).or_insert(Entry {
            partitions: Vec::new(),
            checked: None,
            next: 0,
            current: None,
        });
        if e.current.is_none() {
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
            }
        }
        let p = e.current;
        self.last = Some((topic.clone(), p));
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
            let first = s.partition(&t, |_| {
                asked += 1;
                Some(vec![0, 1, 2])
            });
            for _ in 0..10 {
                assert_eq!(s.partition(&t, |_| None), first);
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
        assert_eq!(s.partition(&t, |_| None), None);
        s.next_batch();
        // Asked again only after a while.
        assert_eq!(s.partition(&t, |_| Some(vec![0, 1, 2, 3])), None);
    }

    #[test]
    fn partitions_without_a_leader_are_skipped() {
        let mut s = Sticky::default();
        let t: Arc<str> = Arc::from("t");
        for _ in 0..8 {
            s.next_batch();
            let p = s.partition(&t, |_| Some(vec![0, 2]));
            assert!(matches!(p, Some(0 | 2)), "{p:?}");
        }
    }

    #[test]
    fn topics_are_tracked_apart() {
        let mut s = Sticky::default();
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("a"), Arc::from("b"));
        s.next_batch();
        assert_eq!(s.partition(&a, |_| Some(vec![0])), Some(0));
        let pb = s.partition(&b, |_| Some(vec![0, 1]));
        assert!(matches!(pb, Some(0 | 1)));
        assert_eq!(s.partition(&a, |_| None), Some(0));
        assert_eq!(s.partition(&b, |_| None), pb);
    }
}
