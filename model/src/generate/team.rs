//! A fixed team of threads for single-stream decoding.
//!
//! Decoding one token of the 15M model is ~25 matrix·vector products of 0.1–9 M weights
//! each, ~1.2 ms in all. A rayon fork/join costs 15–20 µs on a 2-vCPU machine (the idle
//! worker has gone to sleep and must be woken through the kernel), a quarter of the token.
//! The team's workers instead spin on an epoch counter for a while after each job, so a
//! hand-over costs what moving a cache line between cores costs (~0.1–0.5 µs); after
//! [`SPIN_FOR`] without work they park and stop using the CPU.
//!
//! Work is claimed, not assigned: a job is a range of items cut into chunks, and every
//! thread (the caller included) takes chunks from a shared counter until none are left.
//! A worker that the OS has descheduled — another program on the same cores — therefore
//! never holds up the caller: the caller does the chunks itself, closes the job, and waits
//! only for the chunks a worker already took. A late worker finds the job closed and
//! skips it without touching it.
//!
//! One caller at a time: [`with_team`] hands the process-wide team to whoever finds it free
//! and `None` to anyone else, who then runs on its own thread.

use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::ops::Range;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, TryLockError};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

/// How long an idle worker spins before it parks.
const SPIN_FOR: Duration = Duration::from_millis(2);

/// A job as the workers see it: claim and run chunks until none are left.
type Job = dyn Fn() + Sync;

/// `Shared::open` layout: job epoch in the high 32 bits, a closed flag, and the number of
/// workers currently inside the job in the low bits.
const CLOSED: u64 = 1 << 31;
const INSIDE: u64 = CLOSED - 1;

struct Shared {
    /// Bumped once per job; workers look at the job when they see it change.
    epoch: AtomicUsize,
    /// Whether workers may still join the current job, and how many are inside it.
    open: AtomicU64,
    /// The current job, valid while the job is open or a worker is inside it.
    job: UnsafeCell<Option<*const Job>>,
    /// Set by a worker whose chunk panicked.
    panicked: AtomicBool,
    /// Per worker: it is parked (or about to park) and must be unparked.
    sleeping: Vec<AtomicBool>,
    shutdown: AtomicBool,
}

// SAFETY: `job` is written only by the thread inside `Team::for_chunks` (which holds the
// team exclusively) while no worker is inside a job (the previous job was closed and its
// inside-count reached 0), before the SeqCst bump of `epoch`. A worker dereferences it
// only after registering in `open` (a CAS that fails once the job is closed), and
// `for_chunks` does not return until the job is closed and the inside-count is 0 again.
// The pointee is `Sync`.
unsafe impl Sync for Shared {}
// SAFETY: as above; the raw pointer is only dereferenced under that protocol.
unsafe impl Send for Shared {}

/// Worker threads plus the calling thread.
pub struct Team {
    shared: Arc<Shared>,
    workers: Vec<(JoinHandle<()>, Thread)>,
}

impl Team {
    /// A team of `size` threads in all (`size − 1` workers are spawned).
    pub fn new(size: usize) -> Team {
        let workers_n = size.max(1) - 1;
        let shared = Arc::new(Shared {
            epoch: AtomicUsize::new(0),
            open: AtomicU64::new(CLOSED),
            job: UnsafeCell::new(None),
            panicked: AtomicBool::new(false),
            sleeping: (0..workers_n).map(|_| AtomicBool::new(false)).collect(),
            shutdown: AtomicBool::new(false),
        });
        let workers = (0..workers_n)
            .map(|w| {
                let shared = Arc::clone(&shared);
                let handle = thread::Builder::new()
                    .name(format!("llamaforge-decode-{}", w + 1))
                    .spawn(move || worker(&shared, w))
                    .expect("spawning a decoding thread");
                let thread = handle.thread().clone();
                (handle, thread)
            })
            .collect();
        Team { shared, workers }
    }

    /// Threads in the team, the caller's included.
    pub fn size(&self) -> usize {
        self.workers.len() + 1
    }

    /// Cuts `0..items` into chunks of `chunk` items and runs `f(chunk range)` once for
    /// every chunk, on whichever team threads claim them (the caller always takes part).
    /// Returns when every chunk is done; a panic in any chunk is re-raised here.
    pub fn for_chunks(&self, items: usize, chunk: usize, f: &(dyn Fn(Range<usize>) + Sync)) {
        let chunk = chunk.max(1);
        let n_chunks = items.div_ceil(chunk);
        let next = AtomicUsize::new(0);
        let claim_all = || loop {
            let c = next.fetch_add(1, Ordering::Relaxed);
            if c >= n_chunks {
                break;
            }
            f(c * chunk..((c + 1) * chunk).min(items));
        };
        if self.workers.is_empty() || n_chunks <= 1 {
            return claim_all();
        }
        let s = &*self.shared;
        let epoch = s.epoch.load(Ordering::Relaxed).wrapping_add(1);
        // SAFETY: the previous job is closed with nobody inside (checked at the end of the
        // last call), so no worker reads `job` now; the lifetime is erased, but the job is
        // closed and drained below before this function returns.
        unsafe {
            let job: *const (dyn Fn() + Sync + '_) = &claim_all;
            *s.job.get() = Some(std::mem::transmute::<*const (dyn Fn() + Sync + '_), *const Job>(job));
        }
        s.open.store((epoch as u64 & 0xFFFF_FFFF) << 32, Ordering::SeqCst);
        s.epoch.store(epoch, Ordering::SeqCst);
        for ((_, thread), sleeping) in self.workers.iter().zip(&s.sleeping) {
            if sleeping.load(Ordering::SeqCst) {
                thread.unpark();
            }
        }
        let mine = catch_unwind(AssertUnwindSafe(claim_all));
        // no worker may join from now on; wait for those inside to finish their chunks
        s.open.fetch_or(CLOSED, Ordering::SeqCst);
        let mut spins = 0u32;
        while s.open.load(Ordering::Acquire) & INSIDE != 0 {
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(4096) {
                thread::yield_now(); // a descheduled worker needs this core
            } else {
                std::hint::spin_loop();
            }
        }
        if let Err(payload) = mine {
            resume_unwind(payload);
        }
        if s.panicked.swap(false, Ordering::Relaxed) {
            panic!("a decoding thread panicked");
        }
    }
}

impl Drop for Team {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        for (handle, thread) in self.workers.drain(..) {
            thread.unpark();
            let _ = handle.join();
        }
    }
}

fn worker(s: &Shared, w: usize) {
    let mut seen = 0usize;
    loop {
        let start = Instant::now();
        let mut spins = 0u32;
        let epoch = loop {
            let epoch = s.epoch.load(Ordering::SeqCst);
            if epoch != seen {
                break epoch;
            }
            if s.shutdown.load(Ordering::Relaxed) {
                return;
            }
            spins = spins.wrapping_add(1);
            if !spins.is_multiple_of(1024) || start.elapsed() < SPIN_FOR {
                std::hint::spin_loop();
                continue;
            }
            // Park. SeqCst on both sides: either `for_chunks` sees `sleeping` and unparks,
            // or the re-check below sees the new epoch.
            s.sleeping[w].store(true, Ordering::SeqCst);
            if s.epoch.load(Ordering::SeqCst) == seen && !s.shutdown.load(Ordering::SeqCst) {
                thread::park();
            }
            s.sleeping[w].store(false, Ordering::SeqCst);
        };
        seen = epoch;
        // join the job if it is still open (same epoch, not closed)
        let tag = (epoch as u64 & 0xFFFF_FFFF) << 32;
        let mut open = s.open.load(Ordering::SeqCst);
        let joined = loop {
            if open & !INSIDE != tag {
                break false; // closed, or already a later job
            }
            match s.open.compare_exchange_weak(open, open + 1, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => break true,
                Err(now) => open = now,
            }
        };
        if !joined {
            continue;
        }
        // SAFETY: registered inside an open job: `for_chunks` keeps the job alive until the
        // inside-count (decremented below) is back to 0.
        let job = unsafe { &*(*s.job.get()).expect("a job is published before the epoch moves") };
        if catch_unwind(AssertUnwindSafe(job)).is_err() {
            s.panicked.store(true, Ordering::Relaxed);
        }
        s.open.fetch_sub(1, Ordering::Release);
    }
}

/// Runs `f` with the process-wide team (sized like rayon's pool) if no one else is using
/// it, else with `None`.
pub fn with_team<R>(f: impl FnOnce(Option<&Team>) -> R) -> R {
    static TEAM: OnceLock<Option<Mutex<Team>>> = OnceLock::new();
    let team = TEAM.get_or_init(|| {
        let size = rayon::current_num_threads();
        (size > 1).then(|| Mutex::new(Team::new(size)))
    });
    match team.as_ref().map(|m| m.try_lock()) {
        Some(Ok(guard)) => f(Some(&guard)),
        Some(Err(TryLockError::Poisoned(poisoned))) => f(Some(&poisoned.into_inner())),
        Some(Err(TryLockError::WouldBlock)) | None => f(None),
    }
}

/// A mutable slice that team threads write in disjoint ranges.
pub struct Disjoint<'a, T> {
    ptr: *mut T,
    len: usize,
    _borrow: PhantomData<&'a mut [T]>,
}

// SAFETY: handing out disjoint ranges to different threads is the caller's contract (see
// `range_mut`); `T: Send` is what moving access to elements across threads needs.
unsafe impl<T: Send> Sync for Disjoint<'_, T> {}

impl<'a, T> Disjoint<'a, T> {
    pub fn new(slice: &'a mut [T]) -> Self {
        Disjoint { ptr: slice.as_mut_ptr(), len: slice.len(), _borrow: PhantomData }
    }

    /// The elements `range`.
    ///
    /// # Safety
    /// No two live results may overlap (the chunks of one [`Team::for_chunks`] call are
    /// disjoint).
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn range_mut(&self, range: Range<usize>) -> &mut [T] {
        assert!(range.start <= range.end && range.end <= self.len, "range {range:?} of {} elements", self.len);
        // SAFETY: in bounds (asserted); exclusivity is the caller's contract.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(range.start), range.len()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chunk_runs_once() {
        for size in 1..=4 {
            let team = Team::new(size);
            for items in [0usize, 1, 7, 64, 1001] {
                for chunk in [1usize, 3, 64, 5000] {
                    let mut out = vec![0u32; items];
                    let d = Disjoint::new(&mut out);
                    for _ in 0..3 {
                        team.for_chunks(items, chunk, &|r| {
                            // SAFETY: chunks of one call are disjoint.
                            let s = unsafe { d.range_mut(r) };
                            s.iter_mut().for_each(|v| *v += 1);
                        });
                    }
                    assert!(out.iter().all(|&v| v == 3), "size {size}, {items} items, chunks of {chunk}");
                }
            }
        }
    }

    #[test]
    fn workers_take_part_and_wake_after_parking() {
        let team = Team::new(2);
        for round in 0..2 {
            // chunks slow enough that the worker, spinning or woken, joins in (a few tries:
            // on a loaded machine it may not be scheduled in time)
            let joined = (0..20).any(|_| {
                let threads = Mutex::new(std::collections::HashSet::new());
                team.for_chunks(64, 1, &|_| {
                    threads.lock().unwrap().insert(thread::current().id());
                    thread::sleep(Duration::from_millis(1));
                });
                let n = threads.lock().unwrap().len();
                n == 2
            });
            assert!(joined, "round {round}: the worker never took a chunk");
            thread::sleep(SPIN_FOR * 3); // the worker parks
        }
    }

    #[test]
    fn tiny_jobs_racing_a_late_worker_run_every_chunk_once() {
        let team = Team::new(2);
        // jobs of two chunks starting while the worker is parked: the caller usually takes
        // both chunks and closes the job before the worker wakes, so the worker arrives at
        // closed or later jobs. Every chunk must still run exactly once, with no hang.
        // (That the caller does not wait for a descheduled worker is a timing property; it
        // is measured under a CPU hog in docs/PERFORMANCE.md, not asserted here.)
        thread::sleep(SPIN_FOR * 3);
        let hits = AtomicUsize::new(0);
        for _ in 0..1000 {
            team.for_chunks(2, 1, &|_| {
                hits.fetch_add(1, Ordering::Relaxed);
            });
        }
        assert_eq!(hits.load(Ordering::Relaxed), 2000);
    }

    #[test]
    fn a_panicking_chunk_is_reported_to_the_caller() {
        let team = Team::new(2);
        let r = catch_unwind(AssertUnwindSafe(|| {
            team.for_chunks(64, 1, &|r| {
                thread::sleep(Duration::from_micros(200));
                assert!(r.start != 40, "chunk 40 fails")
            })
        }));
        assert!(r.is_err());
        // the team still works afterwards
        let hits = AtomicUsize::new(0);
        team.for_chunks(10, 1, &|_| {
            hits.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(hits.load(Ordering::Relaxed), 10);
    }
}
