//! Password hashing on a fixed set of threads with a bounded queue. Each argon2id hash
//! takes tens of milliseconds and 19 MiB, so unauthenticated callers must not be able to
//! start as many as they like: past the queue the answer is `PoolError::TooManyRequests`
//! at once. The workers run at a lower scheduling priority, so the REST API and cheap
//! actions keep their latency while a burst of sign-ups is being hashed.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use subtle::ConstantTimeEq;

use crate::error::{PoolError, PoolStoreError};

type Job = Box<dyn FnOnce() + Send>;

/// How many hashes run at once and how many may wait.
#[derive(Debug, Clone, Copy)]
pub struct HashingLimits {
    pub workers: usize,
    pub queue: usize,
}

impl Default for HashingLimits {
    /// One worker per core, and four waiting per worker.
    fn default() -> Self {
        let workers = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            workers,
            queue: workers * 4,
        }
    }
}

pub struct HashPool {
    jobs: SyncSender<Job>,
}

impl HashPool {
    pub fn new(limits: HashingLimits) -> Self {
        let (jobs, queue) = mpsc::sync_channel::<Job>(limits.queue);
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..limits.workers.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("password-hash-{n}"))
                .spawn(move || work(&queue))
                .expect("cannot start a password-hashing thread");
        }
        Self { jobs }
    }

    /// Runs `job` on a hashing thread and waits for its result; refuses at once when the
    /// queue is full. Call it from a blocking thread.
    pub fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolError> {
        let (done, result) = mpsc::sync_channel(1);
        self.jobs
            .try_send(Box::new(move || {
                let _ = done.send(job());
            }))
            .map_err(|e| match e {
                TrySendError::Full(_) => PoolError::TooManyRequests("Too many requests".into()),
                TrySendError::Disconnected(_) => PoolStoreError::WorkersStopped.into(),
            })?;
        result
            .recv()
            .map_err(|_| PoolStoreError::WorkersStopped.into())
    }
}

/// A worker: takes jobs until the pool is dropped.
fn work(queue: &Mutex<Receiver<Job>>) {
    lower_priority();
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

/// Nice 10 for the calling thread (Linux applies nice per thread).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only reads its integer arguments; `0` names the calling thread.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}

/// Compares secrets without leaking, through timing, how much of a guess was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use std::sync::Barrier;

    use super::*;

    #[test]
    fn results_come_back_and_a_full_queue_is_refused() {
        let pool = HashPool::new(HashingLimits {
            workers: 1,
            queue: 1,
        });
        assert_eq!(pool.run(|| 6 * 7).unwrap(), 42);
        let gate = Arc::new(Barrier::new(2));
        let pool = Arc::new(pool);
        let (started, running) = mpsc::channel();
        let busy = {
            let (pool, gate) = (Arc::clone(&pool), Arc::clone(&gate));
            std::thread::spawn(move || {
                pool.run(move || {
                    started.send(()).unwrap();
                    gate.wait();
                })
                .unwrap()
            })
        };
        // The worker holds the first job; one more fills the queue.
        running.recv().unwrap();
        assert!(pool.jobs.try_send(Box::new(|| ())).is_ok());
        let refused = pool.run(|| ()).unwrap_err();
        assert!(matches!(refused, PoolError::TooManyRequests(_)));
        gate.wait();
        busy.join().unwrap();
    }
}
