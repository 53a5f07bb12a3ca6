//! A few long-lived threads that run jobs handed to them, each job's result collected through
//! its own [`Ticket`].
//!
//! Files were sorted and encoded each on a thread of its own, about a hundred threads per run
//! of a million events: each new thread started with a fresh heap, so the memory it took was
//! taken from the allocator's arena again and faulted in (and zeroed by the kernel) anew. Kept
//! threads reuse what their earlier jobs freed.

use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

type Job = Box<dyn FnOnce() + Send>;

/// Threads waiting for jobs; dropping the pool lets them finish the jobs given and end.
pub(crate) struct ThreadPool {
    jobs: Option<Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadPool")
            .field("threads", &self.threads.len())
            .finish()
    }
}

impl ThreadPool {
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
                        // A job that panics loses only its result (its ticket says so); the
                        // thread goes on to the next job.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                })
            })
            .collect();
        Self {
            jobs: Some(jobs),
            threads,
        }
    }

    /// Runs `job` on the first free thread.
    pub fn submit<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Ticket<T> {
        let (reply, result) = sync_channel(1);
        let job: Job = Box::new(move || {
            // The ticket may be gone (its owner gave up): the result is then dropped.
            let _ = reply.send(job());
        });
        if let Some(jobs) = &self.jobs {
            // Sending fails only if every thread died; the ticket then reports the job lost.
            let _ = jobs.send(job);
        }
        Ticket {
            result,
            ready: None,
        }
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        self.jobs.take();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// The result of one job, to come.
#[derive(Debug)]
pub(crate) struct Ticket<T> {
    result: Receiver<T>,
    ready: Option<T>,
}

impl<T> Ticket<T> {
    /// Whether the job has ended (with a result, or by panicking).
    pub fn is_done(&mut self) -> bool {
        if self.ready.is_some() {
            return true;
        }
        match self.result.try_recv() {
            Ok(value) => {
                self.ready = Some(value);
                true
            }
            Err(TryRecvError::Empty) => false,
            Err(TryRecvError::Disconnected) => true,
        }
    }

    /// Waits for the job's result; `None` if it panicked.
    pub fn wait(self) -> Option<T> {
        self.ready.or_else(|| self.result.recv().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_on_the_kept_threads_and_a_panic_is_reported_not_spread() {
        let pool = ThreadPool::new(2);
        let tickets: Vec<_> = (0..20u64)
            .map(|i| pool.submit(move || (i * i, std::thread::current().id())))
            .collect();
        let mut threads = std::collections::HashSet::new();
        for (i, ticket) in tickets.into_iter().enumerate() {
            let (square, thread) = ticket.wait().unwrap();
            assert_eq!(square, (i * i) as u64);
            threads.insert(thread);
        }
        assert!(threads.len() <= 2, "{threads:?}");
        assert!(!threads.contains(&std::thread::current().id()));
        let mut lost = pool.submit(|| -> u32 { panic!("a job fails") });
        while !lost.is_done() {
            std::thread::yield_now();
        }
        assert_eq!(lost.wait(), None);
        // Both threads still take jobs.
        let later: Vec<_> = (0..4).map(|i| pool.submit(move || i + 1)).collect();
        let later: Vec<_> = later.into_iter().map(|t| t.wait()).collect();
        assert_eq!(later, [Some(1), Some(2), Some(3), Some(4)]);
    }
}
