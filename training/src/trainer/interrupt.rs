//! Ctrl-C for every run of a process. `ctrlc::set_handler` succeeds once per process, so
//! the handler is installed once and only sets a process-wide flag; each training run
//! clears the flag when it starts and polls it after every step. A second stage in the
//! same process (the pipeline, tests) can therefore still be stopped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();

/// Installs the handler (first call only) and clears the flag for a new run.
pub fn arm() {
    INSTALL.call_once(|| {
        // an embedding program may own the handler already; then Ctrl-C is its business
        let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    });
    INTERRUPTED.store(false, Ordering::SeqCst);
}

/// Whether Ctrl-C was pressed since the last [`arm`].
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Sets the flag as Ctrl-C would (tests stop runs with it).
pub fn request_stop() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}
