//! Idempotent-producer state per partition: the epoch and the last five
//! batches of each producer id, as Kafka keeps them.

use std::collections::{HashMap, VecDeque};

use super::batch::BatchHeader;
use crate::error_code;

/// Batches remembered per producer for duplicate detection (Kafka's value).
const BATCHES_RETAINED: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CachedBatch {
    first_seq: i32,
    last_seq: i32,
    base_offset: i64,
}

#[derive(Debug, Default, Clone)]
struct ProducerEntry {
    epoch: i16,
    batches: VecDeque<CachedBatch>,
}

/// The verdict on an incoming batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceCheck {
    Append,
    /// Already written at this base offset; answer with it and write nothing.
    Duplicate(i64),
    /// Reject with this Kafka error code.
    Reject(i16),
}

#[derive(Debug, Default)]
pub struct ProducerStates {
    producers: HashMap<i64, ProducerEntry>,
}

fn next_seq(seq: i32) -> i32 {
    if seq == i32::MAX {
        0
    } else {
        seq + 1
    }
}

impl ProducerStates {
    /// Checks a batch before it is appended.
    pub fn check(&self, h: &BatchHeader) -> SequenceCheck {
        if h.producer_id < 0 || h.base_sequence < 0 {
            return SequenceCheck::Append;
        }
        let Some(entry) = self.producers.get(&h.producer_id) else {
            // Unknown producer (new, or its state went with deleted segments).
            return SequenceCheck::Append;
        };
        if h.producer_epoch < entry.epoch {
            return SequenceCheck::Reject(error_code::INVALID_PRODUCER_EPOCH);
        }
        if h.producer_epoch > entry.epoch {
            return if h.base_sequence == 0 {
                SequenceCheck::Append
            } else {
                SequenceCheck::Reject(error_code::OUT_OF_ORDER_SEQUENCE_NUMBER)
            };
        }
        let last_seq = h.last_sequence();
        if let Some(b) = entry
            .batches
            .iter()
            .find(|b| b.first_seq == h.base_sequence && b.last_seq == last_seq)
        {
            return SequenceCheck::Duplicate(b.base_offset);
        }
        match entry.batches.back() {
            Some(last) if h.base_sequence != next_seq(last.last_seq) => {
                SequenceCheck::Reject(error_code::OUT_OF_ORDER_SEQUENCE_NUMBER)
            }
            _ => SequenceCheck::Append,
        }
    }

    /// Records an appended (or recovered) batch.
    pub fn record(&mut self, h: &BatchHeader) {
        if h.producer_id < 0 || h.base_sequence < 0 {
            return;
        }
        let entry = self.producers.entry(h.producer_id).or_default();
        if h.producer_epoch != entry.epoch {
            entry.epoch = h.producer_epoch;
            entry.batches.clear();
        }
        entry.batches.push_back(CachedBatch {
            first_seq: h.base_sequence,
            last_seq: h.last_sequence(),
            base_offset: h.base_offset,
        });
        while entry.batches.len() > BATCHES_RETAINED {
            entry.batches.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(pid: i64, epoch: i16, seq: i32, count: i32, base: i64) -> BatchHeader {
        BatchHeader {
            base_offset: base,
            size: 0,
            magic: 2,
            crc: 0,
            attributes: 0,
            last_offset_delta: count - 1,
            base_timestamp: 0,
            max_timestamp: 0,
            producer_id: pid,
            producer_epoch: epoch,
            base_sequence: seq,
            record_count: count,
        }
    }

    #[test]
    fn duplicates_gaps_and_epochs() {
        let mut s = ProducerStates::default();
        let a = hdr(7, 0, 0, 3, 100);
        assert_eq!(s.check(&a), SequenceCheck::Append);
        s.record(&a);
        assert_eq!(s.check(&hdr(7, 0, 0, 3, 0)), SequenceCheck::Duplicate(100));
        assert_eq!(
            s.check(&hdr(7, 0, 5, 1, 0)),
            SequenceCheck::Reject(error_code::OUT_OF_ORDER_SEQUENCE_NUMBER)
        );
        assert_eq!(s.check(&hdr(7, 0, 3, 1, 0)), SequenceCheck::Append);
        assert_eq!(
            s.check(&hdr(7, 1, 4, 1, 0)),
            SequenceCheck::Reject(error_code::OUT_OF_ORDER_SEQUENCE_NUMBER)
        );
        s.record(&hdr(7, 1, 0, 1, 200));
        assert_eq!(
            s.check(&hdr(7, 0, 3, 1, 0)),
            SequenceCheck::Reject(error_code::INVALID_PRODUCER_EPOCH)
        );
    }

    #[test]
    fn only_five_batches_are_remembered_and_sequences_wrap() {
        let mut s = ProducerStates::default();
        for i in 0..6 {
            s.record(&hdr(1, 0, i, 1, i as i64));
        }
        assert_eq!(s.check(&hdr(1, 0, 1, 1, 0)), SequenceCheck::Duplicate(1));
        assert!(matches!(
            s.check(&hdr(1, 0, 0, 1, 0)),
            SequenceCheck::Reject(_)
        ));
        let mut s = ProducerStates::default();
        s.record(&hdr(2, 0, i32::MAX, 1, 0));
        assert_eq!(s.check(&hdr(2, 0, 0, 1, 0)), SequenceCheck::Append);
    }
}
