//! A few long-lived threads that run jobs handed to them and hand back each job's result as
//! soon as it ends, whichever job ends first.
//!
//! Files were sorted and encoded each on a thread of its own, about a hundred threads per run
//! of a million events: each new thread started with a fresh heap, so the memory it took was
//! taken from the allocator's arena again and faulted in (and zeroed by the kernel) anew. Kept
//! threads reuse what their earlier jobs freed.
//!
//! Results come back in the order jobs end, not the order they were given: waiting for the
//! oldest job left a thread idle whenever a later, smaller job ended first, which at the end of
//! a run (a large partition started first, then many small ones) kept one core of two idle.

use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

type Job = Box<dyn FnOnce() + Send>;

/// Which job a result belongs to, as [`ThreadPool::submit`] numbered it.
pub(crate) type JobId = u64;

/// A job's result: `None` if the job panicked.
pub(crate) type Finished<T> = (JobId, Option<T>);

/// Threads waiting for jobs; dropping the pool lets them finish the jobs given and end.
pub(crate) struct ThreadPool<T> {
    jobs: Option<Sender<Job>>,
    finished_tx: Sender<Finished<T>>,
    finished: Receiver<Finished<T>>,
    next_id: JobId,
    /// Jobs given whose results have not been taken.
    running: usize,
    threads: Vec<JoinHandle<()>>,
}

impl<T> std::fmt::Debug for ThreadPool<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadPool")
            .field("threads", &self.threads.len())
            .field("running", &self.running)
            .finish()
    }
}

impl<T: Send + 'static> ThreadPool<T> {
    /// A pool of `threads` threads (at least one).
    pub fn new(threads: usize) -> Self {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let threads = (0..threads.max(1))
            .map(|_| {
                let queue: Arc<Mutex<Receiver<Job>>> = Arc::clone(&queue);
                std::thread::spawn(move || {
                    loop {
                        // The lock is held only to take a job, not to run it.
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(poisoned) => poisoned.into_inner().recv(),
                        };
                        let Ok(job) = job else {
                            return; // The pool is gone.
                        };
                        job();
                    }
                })
            })
            .collect();
        let (finished_tx, finished) = channel();
        Self {
            jobs: Some(jobs),
            finished_tx,
            finished,
            next_id: 0,
            running: 0,
            threads,
        }
    }

    /// Queues `job` for the first free thread and returns its number.
    pub fn submit(&mut self, job: impl FnOnce() -> T + Send + 'static) -> JobId {
        let id = self.next_id;
        self.next_id += 1;
        let finished = self.finished_tx.clone();
        let job: Job = Box::new(move || {
            // A job that panics loses only its result (reported as `None`); the thread goes
            // on to the next job.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).ok();
            let _ = finished.send((id, result));
        });
        self.running += 1;
        let sent = self.jobs.as_ref().map(|jobs| jobs.send(job));
        if !matches!(sent, Some(Ok(()))) {
            // Every thread died (they do not: jobs run under `catch_unwind`); report it lost.
            let _ = self.finished_tx.send((id, None));
        }
        id
    }

    /// The result of a job that has ended, without waiting; `None` if none has.
    pub fn try_finished(&mut self) -> Option<Finished<T>> {
        match self.finished.try_recv() {
            Ok(done) => {
                self.running -= 1;
                Some(done)
            }
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => None,
        }
    }

    /// Waits for the next job to end and returns its result; `None` if no job is running.
    pub fn wait_finished(&mut self) -> Option<Finished<T>> {
        if self.running == 0 {
            return None;
        }
        // The pool keeps a sender itself, so this returns once a job sends.
        let done = self.finished.recv().ok()?;
        self.running -= 1;
        Some(done)
    }
}

impl<T> Drop for ThreadPool<T> {
    fn drop(&mut self) {
        self.jobs.take();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::mpsc::sync_channel;

    #[test]
    fn jobs_run_on_the_kept_threads_and_a_panic_is_reported_not_spread() {
        let mut pool = ThreadPool::new(2);
        let ids: Vec<JobId> = (0..20u64)
            .map(|i| pool.submit(move || (i * i, std::thread::current().id())))
            .collect();
        let mut results = HashMap::new();
        while let Some((id, result)) = pool.wait_finished() {
            results.insert(id, result.unwrap());
        }
        assert_eq!(results.len(), 20);
        let mut threads = std::collections::HashSet::new();
        for (i, id) in ids.iter().enumerate() {
            let (square, thread) = results[id];
            assert_eq!(square, (i * i) as u64);
            threads.insert(thread);
        }
        assert!(threads.len() <= 2, "{threads:?}");
        assert!(!threads.contains(&std::thread::current().id()));
        let lost = pool.submit(|| -> (u64, std::thread::ThreadId) { panic!("a job fails") });
        assert_eq!(pool.wait_finished(), Some((lost, None)));
        assert_eq!(pool.running, 0);
        // Both threads still take jobs.
        for i in 0..4 {
            pool.submit(move || (i + 1, std::thread::current().id()));
        }
        let mut later: Vec<u64> = std::iter::from_fn(|| pool.wait_finished())
            .map(|(_, r)| r.unwrap().0)
            .collect();
        later.sort();
        assert_eq!(later, [1, 2, 3, 4]);
        assert_eq!(pool.try_finished(), None);
    }

    #[test]
    fn a_job_that_ends_first_is_handed_back_first() {
        let mut pool = ThreadPool::new(2);
        let (release, blocked) = sync_channel::<()>(0);
        let slow = pool.submit(move || blocked.recv().is_ok());
        let quick = pool.submit(|| true);
        // The quick job's result comes back while the older one is still running.
        assert_eq!(pool.wait_finished(), Some((quick, Some(true))));
        assert_eq!(pool.try_finished(), None);
        release.send(()).unwrap();
        assert_eq!(pool.wait_finished(), Some((slow, Some(true))));
        assert_eq!(pool.wait_finished(), None);
    }
}
