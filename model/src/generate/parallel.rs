//! The one parallel loop of the decoding path, on rayon.
//!
//! A rayon fork/join costs 15–20 µs on this machine class (idle workers sleep on a futex
//! and waking one in the VM is slow), so only loops that are much longer than that are
//! split: the classifier matvec (~1–2 ms), `log_prob`'s f64 sum over the vocabulary
//! (~150 µs) and attention over a long cache. The layer matvecs of the 15M model (5–30 µs
//! each from L3) run on one thread. A resident spinning team (hand-over < 1 µs) was tried:
//! it was faster only when the machine is otherwise idle and up to 2× slower when other
//! processes load the 2 shared vCPUs, because the spinning helper takes the decoding
//! thread's CPU time.

use std::ops::Range;

use rayon::prelude::*;

/// Calls `body` on disjoint ranges covering `0..len`, `chunk` items each, across rayon's
/// threads (chunks are stolen, so a core busy with other work delays nothing); runs on
/// this thread alone when `len ≤ chunk` or rayon has one thread.
pub fn parallel_for(len: usize, chunk: usize, body: &(dyn Fn(Range<usize>) + Sync)) {
    let chunk = chunk.max(1);
    if len <= chunk || rayon::current_num_threads() == 1 {
        return body(0..len);
    }
    (0..len.div_ceil(chunk)).into_par_iter().for_each(|c| body(c * chunk..((c + 1) * chunk).min(len)));
}
