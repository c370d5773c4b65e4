//! Group commit: while one thread commits, batches from other threads queue
//! up; the next committer takes them all into one transaction, so concurrent
//! writers (remote-write shards, several pushers) share one fsync.

use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use crate::db::Batch;
use crate::error::Result;

/// A batch waiting for the next group, and its outcome once committed.
struct Slot {
    batch: Batch,
    outcome: Mutex<Option<Result<()>>>,
}

#[derive(Default)]
struct State {
    queue: Vec<Arc<Slot>>,
    /// Whether a thread is committing a group right now.
    committing: bool,
}

#[derive(Default)]
pub(crate) struct GroupCommit {
    state: Mutex<State>,
    done: Condvar,
}

impl GroupCommit {
    /// Commits `batch` (with whatever else is queued) through `commit`,
    /// which writes several batches in one transaction.
    pub(crate) fn write(&self, batch: &Batch, commit: impl Fn(&[&Batch]) -> Result<()>) -> Result<()> {
        let mut state = self.state.lock();
        if !state.committing {
            state.committing = true;
            let queued = std::mem::take(&mut state.queue);
            drop(state);
            let result = self.commit_group(Some(batch), &queued, &commit);
            self.finish();
            return result;
        }
        // Someone is committing: queue a copy and wait for a later group.
        let slot = Arc::new(Slot { batch: batch.clone(), outcome: Mutex::new(None) });
        state.queue.push(slot.clone());
        loop {
            if let Some(outcome) = slot.outcome.lock().take() {
                return outcome;
            }
            if !state.committing {
                // The committer finished without our batch: lead the next group.
                state.committing = true;
                let queued = std::mem::take(&mut state.queue);
                drop(state);
                let result = self.commit_group(None, &queued, &commit);
                self.finish();
                return result.and_then(|()| slot.outcome.lock().take().unwrap_or(Ok(())));
            }
            self.done.wait(&mut state);
        }
    }

    /// Commits the leader's batch (if any) and the queued slots together; if
    /// that fails, commits each alone so that every caller gets its own
    /// batch's outcome. Returns the leader's outcome.
    fn commit_group(
        &self,
        own: Option<&Batch>,
        queued: &[Arc<Slot>],
        commit: &impl Fn(&[&Batch]) -> Result<()>,
    ) -> Result<()> {
        let mut all: Vec<&Batch> = own.into_iter().collect();
        all.extend(queued.iter().map(|s| &s.batch));
        if all.is_empty() {
            return Ok(());
        }
        if all.len() == 1 || commit(&all).is_err() {
            // Alone (or one by one after a failed group).
            for slot in queued {
                *slot.outcome.lock() = Some(commit(&[&slot.batch]));
            }
            return own.map_or(Ok(()), |b| commit(&[b]));
        }
        for slot in queued {
            *slot.outcome.lock() = Some(Ok(()));
        }
        Ok(())
    }

    fn finish(&self) {
        self.state.lock().committing = false;
        self.done.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn concurrent_batches_share_commits_and_keep_their_own_outcomes() {
        let group = Arc::new(GroupCommit::default());
        let commits = Arc::new(AtomicUsize::new(0));
        let written = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let (group, commits, written) = (group.clone(), commits.clone(), written.clone());
                std::thread::spawn(move || {
                    let mut ok = 0;
                    for _ in 0..50 {
                        let mut b = Batch::new();
                        b.add(&crate::Labels::parse("x").unwrap(), i, 0.0);
                        // Thread 0's batches (t = 0) are "bad": a group holding one fails.
                        let bad = i == 0;
                        let result = group.write(&b, |batches| {
                            std::thread::sleep(std::time::Duration::from_micros(200));
                            if batches.iter().any(|b| b.series()[0].1[0].t == 0) {
                                return Err(Error::invalid("bad batch"));
                            }
                            commits.fetch_add(1, Ordering::SeqCst);
                            written.fetch_add(batches.len(), Ordering::SeqCst);
                            Ok(())
                        });
                        assert_eq!(result.is_err(), bad, "thread {i} got the outcome of its own batch");
                        ok += result.is_ok() as usize;
                    }
                    ok
                })
            })
            .collect();
        let ok: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(ok, 7 * 50);
        assert_eq!(written.load(Ordering::SeqCst), 7 * 50, "every good batch was committed once");
        assert!(commits.load(Ordering::SeqCst) < 7 * 50, "some commits carried several batches");
    }
}
