//! One allocation for all the weights of the decoding path, backed by 2 MiB pages where
//! the OS offers them.
//!
//! Decoding streams every weight once per token (61 MB for the 15M model), more than the
//! L3. On 4 KiB pages that is ~15,000 pages per token: far more than the TLB holds, so
//! every page costs a page walk, and the hardware prefetchers stop at each page boundary.
//! On Linux the arena is 2 MiB-aligned and marked `MADV_HUGEPAGE` before it is first
//! written, so it is faulted in as huge pages even when the system's transparent huge page
//! mode is `madvise` (the common default). Measured on a 2-vCPU Zen 4 with
//! `tests/reference/run_c_like.c` built with and without `-DHUGEPAGES`: a C decoder of the
//! 15M shape goes from ~470–630 to ~640–950 tok/s with this alone (docs/PERFORMANCE.md).

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ops::{Deref, Range};
use std::ptr::NonNull;

/// Huge page size (x86-64 and aarch64 Linux with 4 KiB base pages).
const HUGE_PAGE: usize = 2 << 20;
/// Every part starts on a cache line.
const PART_ALIGN: usize = 64 / size_of::<f32>();

/// Immutable f32 storage for many weight tensors, each addressed by its element range.
pub struct WeightArena {
    ptr: NonNull<f32>,
    len: usize,
    layout: Option<Layout>,
}

// SAFETY: the arena owns its memory exclusively and never mutates it after construction,
// so sharing `&WeightArena` across threads only shares reads of plain f32s.
unsafe impl Send for WeightArena {}
// SAFETY: as above.
unsafe impl Sync for WeightArena {}

/// Collects the parts of an arena, handing out each part's element range as it is added.
#[derive(Default)]
pub struct ArenaBuilder {
    parts: Vec<Vec<f32>>,
    len: usize,
}

impl ArenaBuilder {
    /// Adds `part`; returns where it will lie in the arena (starting on a cache line).
    pub fn push(&mut self, part: Vec<f32>) -> Range<usize> {
        let start = self.len.next_multiple_of(PART_ALIGN);
        self.len = start + part.len();
        self.parts.push(part);
        start..self.len
    }

    /// Copies the parts into one arena.
    pub fn build(self) -> WeightArena {
        if self.len == 0 {
            return WeightArena { ptr: NonNull::dangling(), len: 0, layout: None };
        }
        let bytes = (self.len * size_of::<f32>()).next_multiple_of(HUGE_PAGE);
        let layout = Layout::from_size_align(bytes, HUGE_PAGE).expect("weight arena size overflows");
        // SAFETY: `layout` has a non-zero size.
        let raw = unsafe { alloc(layout) };
        let Some(ptr) = NonNull::new(raw.cast::<f32>()) else { handle_alloc_error(layout) };
        advise_huge_pages(raw, bytes);
        // SAFETY: `ptr` points to `bytes` ≥ `len · 4` writable bytes, aligned for f32. Every
        // element of `0..len` is written below (parts copied, the alignment gaps zeroed)
        // before any read; the parts lie where `push` said, in order.
        unsafe {
            let base = ptr.as_ptr();
            let mut written = 0usize;
            for part in &self.parts {
                let start = written.next_multiple_of(PART_ALIGN);
                base.add(written).write_bytes(0, start - written);
                std::ptr::copy_nonoverlapping(part.as_ptr(), base.add(start), part.len());
                written = start + part.len();
            }
        }
        WeightArena { ptr, len: self.len, layout: Some(layout) }
    }
}

impl Deref for WeightArena {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        // SAFETY: `ptr` is valid for `len` initialized f32s (written in `ArenaBuilder::build`) for as long as
        // the arena lives; dangling-but-aligned with `len == 0` is a valid empty slice.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for WeightArena {
    fn drop(&mut self) {
        if let Some(layout) = self.layout {
            // SAFETY: allocated in `ArenaBuilder::build` with exactly this layout.
            unsafe { dealloc(self.ptr.as_ptr().cast::<u8>(), layout) };
        }
    }
}

/// Asks Linux to back `[ptr, ptr + bytes)` with transparent huge pages. Advice only: a
/// kernel without THP, or with THP off, ignores it and the arena works on 4 KiB pages.
#[cfg(target_os = "linux")]
fn advise_huge_pages(ptr: *mut u8, bytes: usize) {
    const MADV_HUGEPAGE: i32 = 14;
    extern "C" {
        fn madvise(addr: *mut std::ffi::c_void, len: usize, advice: i32) -> i32;
    }
    // SAFETY: madvise only changes paging hints for a range this process owns (the whole
    // allocation, page-aligned since the alignment is 2 MiB); it does not touch the contents.
    unsafe { madvise(ptr.cast(), bytes, MADV_HUGEPAGE) };
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_ptr: *mut u8, _bytes: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_keep_their_values_and_start_on_cache_lines() {
        let parts: [Vec<f32>; 3] =
            [(0..5).map(|i| i as f32).collect(), vec![], (0..100).map(|i| -(i as f32)).collect()];
        let mut builder = ArenaBuilder::default();
        let ranges: Vec<Range<usize>> = parts.iter().map(|p| builder.push(p.clone())).collect();
        let arena = builder.build();
        for (part, range) in parts.iter().zip(&ranges) {
            assert_eq!(range.start % PART_ALIGN, 0);
            assert_eq!(&arena[range.clone()], part.as_slice());
        }
        assert_eq!(arena.as_ptr() as usize % HUGE_PAGE, 0);
        assert!(ArenaBuilder::default().build().is_empty());
    }
}
