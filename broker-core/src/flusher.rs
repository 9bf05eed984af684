//! Group commit: one thread fsyncs the segment files that `acks=all` producers
//! wait on. Requests that arrive while a sync runs are served by the next one,
//! so many producers' batches share each fsync.

use std::collections::HashMap;
use std::io;
use std::sync::mpsc;
use std::sync::Arc;

use tokio::sync::oneshot;

use crate::clock::now_ms;
use crate::topics::Partition;

struct Request {
    partition: Arc<Partition>,
    done: Option<oneshot::Sender<Result<(), String>>>,
}

/// Handle to the flush thread.
#[derive(Debug, Clone)]
pub struct Flusher {
    tx: mpsc::Sender<Request>,
}

impl Flusher {
    /// Starts the flush thread; it ends when every handle is dropped.
    pub fn start() -> io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("weir-flush".into())
            .spawn(move || run(rx))?;
        Ok(Self { tx })
    }

    /// Makes everything appended to `partition` so far durable; the receiver
    /// resolves once it is.
    pub fn flush(&self, partition: Arc<Partition>) -> oneshot::Receiver<Result<(), String>> {
        let (done, rx) = oneshot::channel();
        let req = Request {
            partition,
            done: Some(done),
        };
        if let Err(mpsc::SendError(req)) = self.tx.send(req) {
            if let Some(done) = req.done {
                let _ = done.send(Err("flush thread stopped".into()));
            }
        }
        rx
    }

    /// Requests a background flush nobody waits for (`flush.messages`/`flush.ms`).
    pub fn flush_later(&self, partition: Arc<Partition>) {
        let _ = self.tx.send(Request {
            partition,
            done: None,
        });
    }
}

fn run(rx: mpsc::Receiver<Request>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        batch.extend(rx.try_iter());
        let mut by_partition: HashMap<*const Partition, Vec<Request>> = HashMap::new();
        for r in batch {
            by_partition
                .entry(Arc::as_ptr(&r.partition))
                .or_default()
                .push(r);
        }
        for (_, reqs) in by_partition {
            let partition = reqs[0].partition.clone();
            let result = sync_partition(&partition).map_err(|e| {
                tracing::error!(
                    "fsync of {}-{} failed: {e}",
                    partition.topic,
                    partition.index
                );
                e.to_string()
            });
            for r in reqs {
                if let Some(done) = r.done {
                    let _ = done.send(result.clone());
                }
            }
        }
    }
}

fn sync_partition(p: &Partition) -> io::Result<()> {
    let (files, dir_dirty, target, dir) = {
        let mut log = p.log.lock();
        let (files, dir_dirty, target) = log.take_unflushed();
        (files, dir_dirty, target, log.dir().to_path_buf())
    };
    for f in &files {
        f.sync_data()?;
    }
    if dir_dirty {
        std::fs::File::open(dir)?.sync_all()?;
    }
    p.log.lock().mark_flushed(target, now_ms());
    Ok(())
}
