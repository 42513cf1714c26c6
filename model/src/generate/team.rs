//! A fixed team of threads for single-stream decoding.
//!
//! Decoding one token of the 15M model is ~25 matrix·vector products of 0.1–9 M weights
//! each, ~1.5 ms in all. A rayon fork/join costs 15–20 µs on a 2-vCPU machine (the idle
//! worker has gone to sleep and must be woken through the kernel), which is a quarter of the
//! token. The team's workers instead spin on an epoch counter for a while after each job, so
//! a hand-over costs what one cache line moving between cores costs (~0.1–0.5 µs); after
//! [`SPIN_FOR`] without work they park and stop using the CPU.
//!
//! One caller at a time: [`with_team`] hands the process-wide team to whoever finds it free
//! and `None` to anyone else, who then runs on its own thread.

use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::ops::Range;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, TryLockError};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

/// How long an idle worker spins before it parks.
const SPIN_FOR: Duration = Duration::from_millis(2);

/// A job: called once on every team thread with `(thread index, team size)`.
type Job = dyn Fn(usize, usize) + Sync;

struct Shared {
    /// Bumped once per job; workers run the job when they see it change.
    epoch: AtomicUsize,
    /// Workers that have not finished the current job yet.
    remaining: AtomicUsize,
    /// The current job, valid while `remaining > 0` (the caller of [`Team::run`] waits).
    job: UnsafeCell<Option<*const Job>>,
    /// Set by a worker whose part of the job panicked.
    panicked: AtomicBool,
    /// Per worker: it is parked (or about to park) and must be unparked.
    sleeping: Vec<AtomicBool>,
    shutdown: AtomicBool,
}

// SAFETY: `job` is written only by the thread inside `Team::run` (which holds the team
// exclusively) before the Release bump of `epoch`, and read by workers only after an
// Acquire load observes that bump and before they decrement `remaining`; `run` does not
// return (or write `job` again) until `remaining` is 0. The pointee is `Sync`.
unsafe impl Sync for Shared {}
// SAFETY: as above; the raw pointer is only dereferenced under that protocol.
unsafe impl Send for Shared {}

/// Worker threads plus the calling thread, which runs part 0 of every job.
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
            remaining: AtomicUsize::new(0),
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
                    .spawn(move || worker(&shared, w, workers_n + 1))
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

    /// Runs `job(i, size)` for every `i` in `0..size`, part 0 on the calling thread, and
    /// returns when all parts are done. A panic in any part is re-raised here.
    pub fn run(&self, job: &(dyn Fn(usize, usize) + Sync)) {
        let size = self.size();
        if size == 1 {
            return job(0, 1);
        }
        let s = &*self.shared;
        s.remaining.store(size - 1, Ordering::Relaxed);
        // SAFETY: no worker reads `job` now (the previous job's `remaining` reached 0 and
        // the epoch has not moved); the lifetime is erased, but this function waits below
        // until every worker is done with the pointer.
        unsafe {
            let job: *const (dyn Fn(usize, usize) + Sync + '_) = job;
            *s.job.get() = Some(std::mem::transmute::<*const (dyn Fn(usize, usize) + Sync + '_), *const Job>(job));
        }
        s.epoch.fetch_add(1, Ordering::SeqCst);
        for ((_, thread), sleeping) in self.workers.iter().zip(&s.sleeping) {
            if sleeping.load(Ordering::SeqCst) {
                thread.unpark();
            }
        }
        let mine = catch_unwind(AssertUnwindSafe(|| job(0, size)));
        let mut spins = 0u32;
        while s.remaining.load(Ordering::Acquire) != 0 {
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

    /// Splits `0..items` into one contiguous range per thread (boundaries on multiples of
    /// `align`) and runs `f(range)` for each, in parallel.
    pub fn for_ranges(&self, items: usize, align: usize, f: &(dyn Fn(Range<usize>) + Sync)) {
        self.run(&|i, n| {
            let range = part(items, align, i, n);
            if !range.is_empty() {
                f(range)
            }
        });
    }
}

/// Part `i` of `n` of `0..items`, boundaries rounded to multiples of `align`.
pub fn part(items: usize, align: usize, i: usize, n: usize) -> Range<usize> {
    let per = items.div_ceil(n).next_multiple_of(align.max(1));
    (i * per).min(items)..((i + 1) * per).min(items)
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

fn worker(s: &Shared, w: usize, size: usize) {
    let mut seen = 0usize;
    loop {
        let start = Instant::now();
        let mut spins = 0u32;
        loop {
            let epoch = s.epoch.load(Ordering::Acquire);
            if epoch != seen {
                seen = epoch;
                break;
            }
            if s.shutdown.load(Ordering::Relaxed) {
                return;
            }
            spins = spins.wrapping_add(1);
            if !spins.is_multiple_of(1024) || start.elapsed() < SPIN_FOR {
                std::hint::spin_loop();
                continue;
            }
            // Park. SeqCst on both sides: either `run` sees `sleeping` and unparks, or the
            // re-check below sees the new epoch.
            s.sleeping[w].store(true, Ordering::SeqCst);
            if s.epoch.load(Ordering::SeqCst) == seen && !s.shutdown.load(Ordering::SeqCst) {
                thread::park();
            }
            s.sleeping[w].store(false, Ordering::SeqCst);
        }
        // SAFETY: the Acquire load above saw the bump that published `job`, and `run`
        // keeps the job alive until `remaining` (decremented below) reaches 0.
        let job = unsafe { &*(*s.job.get()).expect("a job is published before the epoch moves") };
        if catch_unwind(AssertUnwindSafe(|| job(w + 1, size))).is_err() {
            s.panicked.store(true, Ordering::Relaxed);
        }
        s.remaining.fetch_sub(1, Ordering::Release);
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
    /// No two live results may overlap (ranges from [`Team::for_ranges`] / [`part`] of one
    /// job are disjoint).
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
    fn every_part_runs_once_and_ranges_cover_everything() {
        for size in 1..=4 {
            let team = Team::new(size);
            for items in [0usize, 1, 7, 64, 1001] {
                let mut out = vec![0u32; items];
                let d = Disjoint::new(&mut out);
                for _ in 0..3 {
                    team.for_ranges(items, 4, &|r| {
                        // SAFETY: ranges of one job are disjoint.
                        let s = unsafe { d.range_mut(r) };
                        s.iter_mut().for_each(|v| *v += 1);
                    });
                }
                assert!(out.iter().all(|&v| v == 3), "size {size}, {items} items");
            }
        }
    }

    #[test]
    fn workers_wake_after_parking() {
        let team = Team::new(2);
        let hits = AtomicUsize::new(0);
        team.run(&|_, _| {
            hits.fetch_add(1, Ordering::Relaxed);
        });
        thread::sleep(SPIN_FOR * 3);
        team.run(&|_, _| {
            hits.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(hits.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn a_panicking_part_is_reported_to_the_caller() {
        let team = Team::new(2);
        let r = catch_unwind(AssertUnwindSafe(|| team.run(&|i, _| assert!(i != 1, "part one fails"))));
        assert!(r.is_err());
        // the team still works afterwards
        let hits = AtomicUsize::new(0);
        team.run(&|_, _| {
            hits.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(hits.load(Ordering::Relaxed), 2);
    }
}
