//! Reads of one internal topic to its end, shared by the callers that wait
//! together.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

/// Reads of one internal topic to its end: one at a time, so records apply
/// in order, and callers that arrive together (requests in flight, each
/// waiting to see its own write) share one read that started after they
/// did, instead of each paying for a read of its own in turn.
#[derive(Default)]
pub(super) struct Reads {
    one: tokio::sync::Mutex<()>,
    /// Reads started, and the number of the last one that read to the end.
    started: AtomicU64,
    done: AtomicU64,
}

impl Reads {
    /// Runs `read`, unless a read that started after this call has read to
    /// the end meanwhile: that one saw everything this caller could see.
    pub(super) async fn once(
        &self,
        read: impl Future<Output = anyhow::Result<()>>,
    ) -> anyhow::Result<()> {
        let wanted = self.started.load(Ordering::SeqCst) + 1;
        let _one = self.one.lock().await;
        if self.done.load(Ordering::SeqCst) >= wanted {
            return Ok(());
        }
        let this = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        let result = read.await;
        if result.is_ok() {
            self.done.store(this, Ordering::SeqCst);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    /// A read that takes a while and counts itself.
    async fn counted(count: Arc<AtomicU64>, fail: bool) -> anyhow::Result<()> {
        count.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(20)).await;
        if fail {
            anyhow::bail!("the broker went away");
        }
        Ok(())
    }

    #[tokio::test]
    async fn callers_that_wait_together_share_the_read_after_the_one_running() {
        let reads = Arc::new(Reads::default());
        let count = Arc::new(AtomicU64::new(0));
        let mut callers = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (reads, count) = (reads.clone(), count.clone());
            callers.spawn(async move { reads.once(counted(count, false)).await });
            tokio::task::yield_now().await;
        }
        while let Some(r) = callers.join_next().await {
            assert!(matches!(r, Ok(Ok(()))));
        }
        // The first read ran when the others arrived, so they need one
        // more, which all seven share.
        assert_eq!(count.load(Ordering::SeqCst), 2);
        // A caller after both reads reads again.
        assert!(reads.once(counted(count.clone(), false)).await.is_ok());
        assert_eq!(count.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_failed_read_is_not_taken_for_one_that_read_to_the_end() {
        let reads = Arc::new(Reads::default());
        let count = Arc::new(AtomicU64::new(0));
        let (r2, c2) = (reads.clone(), count.clone());
        let first = tokio::spawn(async move { r2.once(counted(c2, false)).await });
        tokio::task::yield_now().await;
        let (r3, c3) = (reads.clone(), count.clone());
        let failing = tokio::spawn(async move { r3.once(counted(c3, true)).await });
        tokio::task::yield_now().await;
        let (r4, c4) = (reads.clone(), count.clone());
        let last = tokio::spawn(async move { r4.once(counted(c4, false)).await });
        assert!(matches!(first.await, Ok(Ok(()))));
        assert!(matches!(failing.await, Ok(Err(_))));
        // The read after the first failed, so the last caller reads itself.
        assert!(matches!(last.await, Ok(Ok(()))));
        assert_eq!(count.load(Ordering::SeqCst), 3);
    }
}
